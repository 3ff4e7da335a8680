/* Holds: named claims on manifests (containerd's leases are the model), so
 * that modules beside image (storage) and above it (the engine) say what
 * they use through a public call instead of image asking them. Kept in
 * <content>/berth-holds.json with the removals' pending collections,
 * changed only under the index lock (the lock index.json changes under:
 * a removal checks the holds and untags in one critical section, so no
 * hold slips in between), written atomically and fsynced. */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLDS_MAX (16u << 20)
#define HOLDER_MAX 255

int bt_holds_load(const bt_store *s, json_t **out, berth_error **err)
{
	json_t *j = NULL;
	int rc;

	*out = NULL;
	if (access(s->holds_path, F_OK) < 0 && errno == ENOENT)
		j = json_object();
	else if ((rc = bt_json_load_file(s->holds_path, HOLDS_MAX, &j, err)) < 0)
		return rc;
	if (!j)
		return bt_store_nomem(err, "reading holds in", s->dir);
	if (!json_is_object(j) || (json_object_get(j, "holds") && !json_is_object(json_object_get(j, "holds"))) ||
	    (json_object_get(j, "pending") && !json_is_array(json_object_get(j, "pending")))) {
		json_decref(j);
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: not {\"holds\": {...}, \"pending\": [...]}",
				    s->holds_path);
	}
	if ((!json_object_get(j, "holds") && json_object_set_new(j, "holds", json_object()) < 0) ||
	    (!json_object_get(j, "pending") && json_object_set_new(j, "pending", json_array()) < 0)) {
		json_decref(j);
		return bt_store_nomem(err, "reading holds in", s->dir);
	}
	*out = j;
	return 0;
}

int bt_holds_save(const bt_store *s, const json_t *holds, berth_error **err)
{
	return bt_json_write_atomic(s->holds_path, holds, err);
}

int bt_holds_of(const json_t *holds, char *const *digests, size_t n, struct bt_strv *out)
{
	for (size_t i = 0; i < n; i++) {
		json_t *list = json_object_get(json_object_get(holds, "holds"), digests[i]), *h;
		size_t k;

		json_array_foreach(list, k, h)
			if (json_is_string(h) && bt_strv_add(out, strdup(json_string_value(h))) < 0)
				return -1;
	}
	return 0;
}

static bool in_array(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (!strcmp(json_string_value(v) ?: "", s))
			return true;
	return false;
}

int bt_holds_add_pending(json_t *holds, char *const *digests, size_t n, berth_error **err)
{
	json_t *pending = json_object_get(holds, "pending");

	for (size_t i = 0; i < n; i++)
		if (!in_array(pending, digests[i]) && json_array_append_new(pending, json_string(digests[i])) < 0)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return 0;
}

static int tell_removed(char *const *digests, size_t n, void *ctx, uint64_t *bytes, berth_error **err)
{
	return bt_manifests_removed(ctx, digests, n, bytes, err);
}

void bt_holds_complete_pending(berth_ctx *ctx, bt_store *s)
{
	struct bt_strv only = { 0 };
	berth_error *e = NULL;
	json_t *holds = NULL, *d;
	size_t i, freed = 0;

	/* a read without the lock: an empty list (the usual case) costs nothing more */
	if (bt_holds_load(s, &holds, &e) < 0)
		goto out;
	json_array_foreach(json_object_get(holds, "pending"), i, d)
		if (bt_strv_add(&only, strdup(json_string_value(d) ?: "")) < 0)
			goto out;
	if (only.n &&
	    bt_store_gc_unreferenced(s, (const char *const *)only.v, only.n, true, tell_removed, ctx, &freed,
				     NULL, &e) == 0 && freed)
		bt_log_info(ctx, "image", "completed an earlier removal: %zu blobs freed", freed);
out:
	if (e)
		bt_log_warn(ctx, "image", "completing an earlier removal: %s", berth_error_message(e));
	berth_error_free(e);
	bt_strv_free(only.v, only.n);
	json_decref(holds);
}

/* ---- the public calls ------------------------------------------------------ */

static int check_holder(const char *holder, berth_error **err)
{
	size_t len = holder ? strlen(holder) : 0;

	if (len == 0 || len > HOLDER_MAX)
		return bt_error_set(err, BERTH_EINVAL, 0, "a holder is 1 to %d characters", HOLDER_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)holder[i] <= ' ' || (unsigned char)holder[i] >= 0x7f)
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "holder \"%.80s\": only printable characters, no spaces", holder);
	return 0;
}

/* The manifest a name means: the digest of a manifest in the store (also
 * one only an index lists), else what berth_image_lookup finds. */
static int hold_target(const bt_store *s, const char *name, char digest[BT_DIGEST_MAX],
		       berth_error **err)
{
	bt_descriptor d;
	int rc;

	if (name && bt_digest_validate(name, NULL) == 0 && bt_store_has_blob(s, name, -1, NULL) == 1) {
		snprintf(digest, BT_DIGEST_MAX, "%s", name);
		return 0;
	}
	/* a tag as an OCI layout has it ("v1") first, as berth_image_resolve */
	if (name && bt_store_resolve(s, name, &d, NULL) == 0)
		rc = 0;
	else if ((rc = bt_image_find(s, name, &d, err)) < 0)
		return rc;
	memcpy(digest, d.digest, BT_DIGEST_MAX);
	bt_descriptor_clear(&d);
	return 0;
}

int berth_image_hold(berth_ctx *ctx, const char *name, const char *holder, char **digest_out,
		     berth_error **err)
{
	char digest[BT_DIGEST_MAX];
	json_t *index = NULL, *holds = NULL, *list;
	bt_store *s = NULL;
	int fd = -1, rc;

	if (digest_out)
		*digest_out = NULL;
	if ((rc = check_holder(holder, err)) < 0 || (rc = bt_image_store_open(ctx, &s, err)) < 0 ||
	    (rc = hold_target(s, name, digest, err)) < 0 ||
	    (rc = bt_store_index_lock(s, &fd, &index, err)) < 0 || (rc = bt_holds_load(s, &holds, err)) < 0)
		goto out;
	/* under the lock a collection deletes under: present now, kept from now */
	if ((rc = bt_store_has_blob(s, digest, -1, err)) == 0)
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "manifest %s: removed meanwhile", digest);
	if (rc < 0)
		goto out;
	rc = 0;
	if (!(list = json_object_get(json_object_get(holds, "holds"), digest))) {
		if (json_object_set_new(json_object_get(holds, "holds"), digest, json_array()) < 0)
			goto nomem;
		list = json_object_get(json_object_get(holds, "holds"), digest);
	}
	if (!in_array(list, holder)) {
		if (json_array_append_new(list, json_string(holder)) < 0)
			goto nomem;
		if ((rc = bt_holds_save(s, holds, err)) < 0)
			goto out;
		bt_log_debug(ctx, "image", "%s holds %s", holder, digest);
	}
	if (digest_out && !(*digest_out = strdup(digest)))
		goto nomem;
	goto out;
nomem:
	rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
out:
	bt_lock_release(fd);
	json_decref(index);
	json_decref(holds);
	bt_store_close(s);
	return rc < 0 ? bt_error_wrap(err, rc, "holding image %.200s for %.200s", name ? name : "",
				      holder ? holder : "") : 0;
}

/* Whether digest is a manifest the index lists itself (tagged). */
static bool tagged(const json_t *index, const char *digest)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, d)
		if (!strcmp(json_string_value(json_object_get(d, "digest")) ?: "", digest))
			return true;
	return false;
}

/* Drops holder from digest's holds; when none are left, the manifest's
 * blobs become pending (freed by the next collection unless tagged) --
 * unless the index lists the manifest itself: then nothing of it can go,
 * and the release costs no collection (a container's removal). */
static int drop_hold(bt_store *s, const json_t *index, json_t *holds, const char *digest,
		     const char *holder, berth_error **err)
{
	json_t *all = json_object_get(holds, "holds"), *list = json_object_get(all, digest), *h;
	struct bt_strv blobs = { 0 };
	size_t i;
	int rc;

	json_array_foreach(list, i, h)
		if (!strcmp(json_string_value(h) ?: "", holder))
			break;
	if (!list || i == json_array_size(list))
		return bt_error_set(err, BERTH_ENOTFOUND, 0, "%.200s holds no manifest %s", holder, digest);
	json_array_remove(list, i);
	if (json_array_size(list))
		return 0;
	json_object_del(all, digest);
	if (tagged(index, digest))
		return 0;
	if ((rc = bt_manifest_collect(s, digest, &blobs, NULL)) < 0 || !blobs.n)
		rc = bt_holds_add_pending(holds, (char *const *)&digest, 1, err);
	else
		rc = bt_holds_add_pending(holds, blobs.v, blobs.n, err);
	bt_strv_free(blobs.v, blobs.n);
	return rc;
}

int berth_image_release(berth_ctx *ctx, const char *digest, const char *holder, berth_error **err)
{
	json_t *index = NULL, *holds = NULL;
	bt_store *s = NULL;
	int fd = -1, rc;

	if ((rc = check_holder(holder, err)) < 0 || (rc = bt_digest_validate(digest, err)) < 0 ||
	    (rc = bt_image_store_open(ctx, &s, err)) < 0 ||
	    (rc = bt_store_index_lock(s, &fd, &index, err)) < 0 || (rc = bt_holds_load(s, &holds, err)) < 0 ||
	    (rc = drop_hold(s, index, holds, digest, holder, err)) < 0 || (rc = bt_holds_save(s, holds, err)) < 0)
		goto out;
	bt_lock_release(fd);
	fd = -1;
	bt_log_debug(ctx, "image", "%s released %s", holder, digest);
	bt_holds_complete_pending(ctx, s);
out:
	bt_lock_release(fd);
	json_decref(index);
	json_decref(holds);
	bt_store_close(s);
	return rc < 0 ? bt_error_wrap(err, rc, "releasing image %.200s for %.200s", digest ? digest : "",
				      holder ? holder : "") : 0;
}

/* ---- listing ---------------------------------------------------------------- */

struct berth_image_holds {
	struct bt_strv digests, holders; /* in step */
};

void berth_image_holds_free(berth_image_holds *h)
{
	if (!h)
		return;
	bt_strv_free(h->digests.v, h->digests.n);
	bt_strv_free(h->holders.v, h->holders.n);
	free(h);
}

static int list_holds(const json_t *holds, const struct bt_strv *only, berth_image_holds *h)
{
	const char *digest;
	json_t *list, *holder;
	size_t i;

	json_object_foreach(json_object_get(holds, "holds"), digest, list) {
		bool wanted = !only;

		for (i = 0; only && i < only->n && !wanted; i++)
			wanted = !strcmp(only->v[i], digest);
		if (!wanted)
			continue;
		json_array_foreach(list, i, holder)
			if (bt_strv_add(&h->digests, strdup(digest)) < 0 ||
			    bt_strv_add(&h->holders, strdup(json_string_value(holder) ?: "")) < 0)
				return -1;
	}
	return 0;
}

int berth_image_holds_new(const berth_ctx *ctx, const char *name, berth_image_holds **out,
			  berth_error **err)
{
	berth_image_holds *h = NULL;
	struct bt_strv blobs = { 0 };
	char digest[BT_DIGEST_MAX];
	json_t *holds = NULL, *index = NULL;
	bt_store *s = NULL;
	int fd = -1, rc;

	*out = NULL;
	if (!(h = calloc(1, sizeof(*h))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_image_store_open(ctx, &s, err);
	if (rc == BERTH_ENOTFOUND && !name) { /* no store: no holds */
		if (err) {
			berth_error_free(*err);
			*err = NULL;
		}
		*out = h;
		return 0;
	}
	if (rc < 0 || (name && ((rc = hold_target(s, name, digest, err)) < 0 ||
				(rc = bt_manifest_collect(s, digest, &blobs, err)) < 0)))
		goto out;
	/* read under the lock it is written under, which also sweeps the temp
	 * files of killed writes (storage's sweep lists holds each time) */
	if ((rc = bt_store_index_lock(s, &fd, &index, err)) < 0)
		goto out;
	rc = bt_holds_load(s, &holds, err);
	bt_lock_release(fd);
	json_decref(index);
	if (rc < 0)
		goto out;
	if (name && !blobs.n && bt_strv_add(&blobs, strdup(digest)) < 0)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if (list_holds(holds, name ? &blobs : NULL, h) < 0)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
out:
	if (rc == 0) {
		*out = h;
		h = NULL;
	}
	berth_image_holds_free(h);
	bt_strv_free(blobs.v, blobs.n);
	json_decref(holds);
	bt_store_close(s);
	return rc < 0 ? bt_error_wrap(err, rc, "listing the holds on %.200s", name ? name : "images") : 0;
}

size_t berth_image_holds_count(const berth_image_holds *h)
{
	return h ? h->digests.n : 0;
}

const char *berth_image_holds_digest(const berth_image_holds *h, size_t i)
{
	return h && i < h->digests.n ? h->digests.v[i] : NULL;
}

const char *berth_image_holds_holder(const berth_image_holds *h, size_t i)
{
	return h && i < h->holders.n ? h->holders.v[i] : NULL;
}
