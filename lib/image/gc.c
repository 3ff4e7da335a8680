/* Garbage collection of the content store: removes the blobs that neither
 * index.json nor the caller keeps, and writers' leftover temp files. Apart
 * from blob.c and index.c because it is the one place that takes both the
 * gc lock and the index lock. */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gc {
	const char *const *keep;
	size_t nkeep;
	const char *const *only; /* when set, the only candidates */
	size_t nonly;
	const json_t *manifests;
	struct bt_strv *removed; /* when set, gets the digests removed */
	size_t freed;
	uint64_t bytes;
	const char *dir;
};

static bool gc_keeps(const struct gc *g, const char *digest)
{
	size_t i;
	json_t *j;

	for (i = 0; i < g->nkeep; i++)
		if (g->keep[i] && !strcmp(g->keep[i], digest))
			return true;
	json_array_foreach(g->manifests, i, j)
		if (!strcmp(json_string_value(json_object_get(j, "digest")), digest))
			return true;
	return false;
}

static int gc_one(const char *alg, int dfd, const char *name, bool temp, void *data,
		  berth_error **err)
{
	struct gc *g = data;
	char digest[BT_DIGEST_MAX];
	struct stat st;

	snprintf(digest, sizeof(digest), "%s:%s", alg, name);
	if (!temp && gc_keeps(g, digest))
		return 0;
	if (g->only) {
		size_t i;

		for (i = 0; i < g->nonly && (temp || strcmp(g->only[i], digest)); i++)
			;
		if (i == g->nonly)
			return 0;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : bt_error_os(err, "collecting %s/blobs/%s/%s", g->dir, alg, name);
	if (unlinkat(dfd, name, 0) < 0)
		return errno == ENOENT ? 0 : bt_error_os(err, "collecting %s/blobs/%s/%s", g->dir, alg, name);
	g->bytes += (uint64_t)st.st_size; /* temp files left by dead writers too */
	if (!temp) {
		g->freed++;
		if (g->removed && bt_strv_add(g->removed, strdup(digest)) < 0)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	return 0;
}

int bt_store_gc(bt_store *s, const char *const *keep, size_t nkeep, size_t *freed,
		uint64_t *bytes, berth_error **err)
{
	struct gc g = { .keep = keep, .nkeep = nkeep, .dir = s->dir };
	int gc_fd = -1, index_fd = -1, rc;
	json_t *index = NULL;

	/* lock order everywhere: gc lock, then index lock */
	if ((rc = bt_lock_acquire(s->gc_lock, BT_LOCK_EXCLUSIVE, &gc_fd, err)) < 0 ||
	    (rc = bt_store_index_lock(s, &index_fd, &index, err)) < 0)
		goto out;
	g.manifests = json_object_get(index, "manifests");
	rc = bt_store_each_blob(s, gc_one, &g, err);
out:
	if (rc < 0)
		bt_error_wrap(err, rc, "collecting unused blobs in %s", s->dir);
	bt_lock_release(index_fd);
	bt_lock_release(gc_fd);
	json_decref(index);
	if (freed)
		*freed = g.freed;
	if (bytes)
		*bytes = g.bytes;
	return rc;
}

/* What tagged and held manifests reach (the index and holds locked). */
static int keep_reachable(const bt_store *s, const json_t *index, const json_t *holds,
			  struct bt_strv *keep, berth_error **err)
{
	const char *held;
	json_t *d;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(index, "manifests"), i, d)
		if ((rc = bt_manifest_collect(s, json_string_value(json_object_get(d, "digest")), keep, err)) < 0)
			return rc;
	/* a held manifest keeps its blobs even untagged (a forced removal) */
	json_object_foreach(json_object_get(holds, "holds"), held, d)
		if (bt_store_has_blob(s, held, -1, NULL) == 1 && (rc = bt_manifest_collect(s, held, keep, err)) < 0)
			return rc;
	return 0;
}

/* The candidates of a collection done leave "pending" (all when only is
 * NULL): the removal they were pending for is complete. */
static int clear_pending(const bt_store *s, json_t *holds, const char *const *only, size_t nonly,
			 berth_error **err)
{
	json_t *pending = json_object_get(holds, "pending");
	bool changed = false;

	for (size_t i = json_array_size(pending); i-- > 0;) {
		const char *p = json_string_value(json_array_get(pending, i)) ?: "";
		size_t k;

		for (k = 0; only && k < nonly && strcmp(only[k], p); k++)
			;
		if (!only || k < nonly) {
			json_array_remove(pending, i);
			changed = true;
		}
	}
	return changed ? bt_holds_save(s, holds, err) : 0;
}

int bt_store_gc_unreferenced(bt_store *s, const char *const *only, size_t nonly, bool nowait,
			     bt_gc_removed_fn removed, void *data, size_t *freed, uint64_t *bytes,
			     berth_error **err)
{
	struct bt_strv keep = { 0 }, gone = { 0 };
	struct gc g = { .only = only, .nonly = nonly, .dir = s->dir, .removed = removed ? &gone : NULL };
	int gc_fd = -1, index_fd = -1, rc;
	json_t *index = NULL, *holds = NULL;

	if (freed)
		*freed = 0;
	if (bytes)
		*bytes = 0;
	/* The reachable set is computed under the locks: a pull that tags
	 * between computing it and deleting would otherwise lose its blobs. */
	rc = bt_lock_acquire(s->gc_lock, BT_LOCK_EXCLUSIVE | (nowait ? BT_LOCK_NOWAIT : 0), &gc_fd, err);
	if (rc == BERTH_EBUSY && nowait) {
		/* someone is pulling: what we would remove may be theirs now */
		if (err && *err) {
			berth_error_free(*err);
			*err = NULL;
		}
		return 0;
	}
	if (rc < 0 || (rc = bt_store_index_lock(s, &index_fd, &index, err)) < 0 ||
	    (rc = bt_holds_load(s, &holds, err)) < 0 || (rc = keep_reachable(s, index, holds, &keep, err)) < 0)
		goto out;
	g.keep = (const char *const *)keep.v;
	g.nkeep = keep.n;
	g.manifests = json_object_get(index, "manifests");
	if ((rc = bt_store_each_blob(s, gc_one, &g, err)) == 0)
		rc = clear_pending(s, holds, only, nonly, err);
	/* still holding the gc lock, so no pull brings those blobs back before
	 * the callback is done with them (also after a failure part way) */
	bt_lock_release(index_fd);
	index_fd = -1;
	if (gone.n) {
		berth_error *e = NULL;
		int rc2 = removed((char *const *)gone.v, gone.n, data, &g.bytes, rc < 0 ? &e : err);

		if (rc == 0)
			rc = rc2;
		berth_error_free(e);
	}
out:
	if (rc < 0)
		bt_error_wrap(err, rc, "collecting unreferenced blobs in %s", s->dir);
	bt_lock_release(index_fd);
	bt_lock_release(gc_fd);
	json_decref(index);
	json_decref(holds);
	bt_strv_free(keep.v, keep.n);
	bt_strv_free(gone.v, gone.n);
	if (freed)
		*freed = g.freed;
	if (bytes)
		*bytes = g.bytes;
	return rc;
}
