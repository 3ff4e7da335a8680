/* The storage module's public entry points that are not about one
 * snapshot: unpacking and releasing images, disk usage; and the temp
 * directories layers and snapshots are made in. */
#include "storage-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temp directories -------------------------------------------------------- */

int bt_tmpdir_make(const char *parent, const char *tag, struct bt_tmpdir *t, berth_error **err)
{
	t->path = NULL;
	t->fd = -1;
	/* a sweep that saw the directory between mkdtemp and our lock may have
	 * removed it: then it is gone from its path, and we make another */
	for (int tries = 0; tries < 3; tries++) {
		char *path = bt_strdup_printf("%s/.tmp-%s-XXXXXX", parent, tag);
		struct stat a, b;
		int fd, rc;

		if (!path)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		if (!mkdtemp(path)) {
			rc = bt_error_os(err, "creating %s", path);
			free(path);
			return rc;
		}
		if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 && errno == ENOENT) {
			free(path);
			continue;
		}
		rc = fd < 0 ? -1 : flock(fd, LOCK_SH);
		while (rc < 0 && fd >= 0 && errno == EINTR)
			rc = flock(fd, LOCK_SH);
		if (rc < 0 || fstat(fd, &a) < 0) {
			rc = bt_error_os(err, "holding %s", path);
			if (fd >= 0)
				close(fd);
			rmdir(path);
			free(path);
			return rc;
		}
		if (stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			t->path = path;
			t->fd = fd;
			return 0;
		}
		close(fd);
		free(path);
	}
	return bt_error_set(err, BERTH_EBUSY, 0, "creating a temp directory in %s: removed as soon as made",
			    parent);
}

void bt_tmpdir_placed(struct bt_tmpdir *t)
{
	if (!t->path)
		return;
	close(t->fd);
	free(t->path);
	t->path = NULL;
	t->fd = -1;
}

void bt_tmpdir_remove(struct bt_tmpdir *t)
{
	if (!t->path)
		return;
	bt_rm_rf(t->path, NULL); /* still held: no sweep races us */
	bt_tmpdir_placed(t);
}

int bt_tmpdir_take(const char *path, const char *tag, struct bt_tmpdir *t, berth_error **err)
{
	char *parent = strdup(path), *slash;
	int fd, rc;

	t->path = NULL;
	t->fd = -1;
	if (!parent)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = errno == ENOENT ? 0 : bt_error_os(err, "removing %s", path);
		free(parent);
		return rc;
	}
	if ((slash = strrchr(parent, '/')))
		*slash = '\0';
	/* held before it has its temp name, so no sweep takes it from us; the
	 * empty directory mkdtemp made is replaced by the rename */
	while ((rc = flock(fd, LOCK_SH)) < 0 && errno == EINTR)
		;
	if (rc < 0)
		rc = bt_error_os(err, "holding %s", path);
	else
		rc = bt_tmpdir_make(parent, tag, t, err);
	if (rc < 0) {
		close(fd);
		free(parent);
		return rc;
	}
	if (rename(path, t->path) < 0) {
		rc = bt_error_os(err, "moving %s out of the way", path);
		bt_tmpdir_remove(t);
		close(fd);
		free(parent);
		return rc;
	}
	close(t->fd);
	t->fd = fd;
	free(parent);
	return 1;
}

/* A leftover found: its bytes counted, and removed unless only counted. */
static uint64_t sweep_remove(berth_ctx *ctx, const char *dir, const char *name, bool remove,
			     const char *why)
{
	char *path = bt_strdup_printf("%s/%s", dir, name);
	berth_error *e = NULL;
	int64_t size;

	if (!path)
		return 0;
	size = bt_tree_size(path);
	if (remove) {
		bt_log_info(ctx, "storage", "removing %s, %s", path, why);
		if (bt_rm_rf(path, &e) < 0) {
			bt_log_warn(ctx, "storage", "%s", berth_error_message(e));
			berth_error_free(e);
		}
	}
	free(path);
	return size > 0 ? (uint64_t)size : 0;
}

/* Whether the storage record lists a layer of this directory name. */
static bool listed(json_t *layers, const char *hex)
{
	char key[BT_DIGEST_MAX];

	/* a name too long for a digest is listed under no key */
	if (strlen(hex) + 8 > sizeof(key))
		return false;
	memcpy(key, "sha256:", 7);
	memcpy(key + 7, hex, strlen(hex) + 1);
	return json_object_get(layers, key) != NULL;
}

/* The .tmp-* directories of dir that nobody holds; with layers (the
 * record), the layer directories it does not list too: a rename into place
 * whose record a crash lost, or a removal the record already forgot.
 * Returns their bytes; removes them unless only counting. */
static uint64_t sweep_dir(berth_ctx *ctx, const char *dir, json_t *layers, bool remove)
{
	struct dirent *de;
	uint64_t bytes = 0;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno != ENOENT)
			bt_log_warn(ctx, "storage", "listing %s: %s", dir, strerror(errno));
		return 0;
	}
	while ((de = readdir(d))) {
		int fd;

		if (layers && strlen(de->d_name) == 64 && strspn(de->d_name, "0123456789abcdef") == 64 &&
		    !listed(layers, de->d_name)) {
			bytes += sweep_remove(ctx, dir, de->d_name, remove,
					      "a layer the record does not list");
			continue;
		}
		if (strncmp(de->d_name, ".tmp-", 5))
			continue;
		/* not a directory (ENOTDIR), or gone meanwhile: not ours to sweep */
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		/* a live maker holds it shared; the lock stays ours until it is gone */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			bytes += sweep_remove(ctx, dir, de->d_name, remove,
					      "left by a process that died");
		close(fd);
	}
	closedir(d);
	return bytes;
}

/* Leftovers in layers/ (row 0) and snapshots/ (row 1), counted or removed. */
static void sweep_storage(berth_ctx *ctx, const char *sdir, json_t *record, bool remove,
			  uint64_t bytes[2])
{
	static const char *const subs[] = { "layers", "snapshots" };

	for (size_t i = 0; i < BT_ARRAY_SIZE(subs); i++) {
		char *dir = bt_strdup_printf("%s/%s", sdir, subs[i]);

		bytes[i] = dir ? sweep_dir(ctx, dir, i == 0 && record ? json_object_get(record, "layers")
								       : NULL, remove)
			       : 0;
		free(dir);
	}
}

/* Whether snapshot id neither exists nor is being made. The temp dirs are
 * looked at first: a create renames its held snapshots/.tmp-<id>-XXXXXX to
 * <id> before it lets go of it, so a snapshot being placed meanwhile shows
 * as the one or the other. Dead creators' temp dirs went with the sweep
 * just before. */
static bool snapshot_gone(const char *sdir, const char *id)
{
	char *path = bt_strdup_printf("%s/snapshots", sdir), *dir = NULL;
	size_t idlen = strlen(id);
	struct dirent *de;
	bool gone = true;
	DIR *d;

	if (!path || !(d = opendir(path))) {
		gone = path && errno == ENOENT;
		free(path);
		return gone;
	}
	while (gone && (de = readdir(d)))
		gone = !(!strncmp(de->d_name, ".tmp-", 5) && !strncmp(de->d_name + 5, id, idlen) &&
			 de->d_name[5 + idlen] == '-' && strlen(de->d_name + 6 + idlen) == 6);
	closedir(d);
	if (gone && (!(dir = bt_strdup_printf("%s/%s", path, id)) || access(dir, F_OK) == 0 || errno != ENOENT))
		gone = false;
	free(dir);
	free(path);
	return gone;
}

/* Whether the content store lacks the manifest (the image is gone). */
static bool manifest_gone(const berth_ctx *ctx, const char *digest)
{
	berth_error *e = NULL;
	long long size;
	int fd, rc = berth_image_blob_open(ctx, digest, &fd, &size, &e);

	if (rc == 0)
		close(fd);
	berth_error_free(e);
	return rc == BERTH_ENOTFOUND;
}

/* Whether a hold of the record holds nothing: a snapshot that neither
 * exists nor is being made, an image whose manifest is gone and that is
 * not mounted. */
static bool stale_hold(const berth_ctx *ctx, const char *sdir, const char *user)
{
	if (!strncmp(user, "snapshot:", 9))
		return snapshot_gone(sdir, user + 9);
	if (!strncmp(user, "image:", 6) && bt_digest_validate(user + 6, NULL) == 0)
		return manifest_gone(ctx, user + 6) && !bt_image_mounted(ctx, user + 6);
	return false;
}

/* Drops the stale holds of the record; true when it changed. */
static bool sweep_holds(berth_ctx *ctx, const char *sdir, json_t *record)
{
	const char *key;
	json_t *entry;
	bool changed = false;

	json_object_foreach(json_object_get(record, "layers"), key, entry) {
		json_t *users = json_object_get(entry, "users");

		for (size_t i = json_array_size(users); i-- > 0;) {
			const char *u = json_string_value(json_array_get(users, i));

			if (u && stale_hold(ctx, sdir, u)) {
				bt_log_info(ctx, "storage", "layer %s: dropping the hold of %s, which is gone",
					    key, u);
				json_array_remove(users, i);
				changed = true;
			}
		}
	}
	return changed;
}

/* Whether an image mount's hold holds nothing: not mounted, and no mount
 * or unmount under way (those hold the mount's lock throughout). */
static bool mount_gone(const berth_ctx *ctx, const char *digest)
{
	char *lock = bt_image_mount_lock(ctx, digest);
	int fd = -1, rc;

	if (!lock)
		return false;
	rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE | BT_LOCK_NOWAIT | BT_LOCK_NOCREATE, &fd, NULL);
	free(lock);
	if (rc < 0 && rc != BERTH_ENOTFOUND)
		return false; /* being mounted or unmounted */
	rc = !bt_image_mounted(ctx, digest);
	bt_lock_release(fd);
	return rc;
}

/* Storage's holds on images (berth_image_hold) that a killed process left:
 * a snapshot's that neither exists nor is being made (killed after it took
 * the hold), an image mount's that is not mounted nor being mounted. Run
 * under the storage lock (snapshots are removed under it); releasing never
 * waits for it (the image module's collection tries it without waiting). */
static void sweep_image_holds(berth_ctx *ctx, const char *sdir)
{
	berth_image_holds *h = NULL;
	berth_error *e = NULL;

	if (berth_image_holds_new(ctx, NULL, &h, &e) < 0) {
		bt_log_warn(ctx, "storage", "sweeping holds on images: %s", berth_error_message(e));
		berth_error_free(e);
		return;
	}
	for (size_t i = 0; i < berth_image_holds_count(h); i++) {
		const char *holder = berth_image_holds_holder(h, i), *digest = berth_image_holds_digest(h, i);
		bool stale = false;

		if (!strncmp(holder, BT_HOLD_SNAPSHOT, strlen(BT_HOLD_SNAPSHOT)))
			stale = snapshot_gone(sdir, holder + strlen(BT_HOLD_SNAPSHOT));
		else if (!strncmp(holder, BT_HOLD_MOUNT, strlen(BT_HOLD_MOUNT)))
			stale = mount_gone(ctx, holder + strlen(BT_HOLD_MOUNT));
		if (!stale)
			continue;
		bt_log_info(ctx, "storage", "image %s: dropping the hold of %s, which is gone", digest, holder);
		if (berth_image_release(ctx, digest, holder, &e) < 0) {
			bt_log_warn(ctx, "storage", "%s", berth_error_message(e));
			berth_error_free(e);
			e = NULL;
		}
	}
	berth_image_holds_free(h);
}

/* The sweep, its bytes added to *bytes. */
static bool sweep_counted(berth_ctx *ctx, const char *sdir, json_t *record, uint64_t *bytes)
{
	char *file = bt_strdup_printf("%s/layers.json", sdir);
	uint64_t b[2];
	bool changed;

	sweep_storage(ctx, sdir, record, true, b);
	*bytes += b[0] + b[1];
	/* holds on images first: a manifest their release frees (its hook
	 * cannot take the lock we hold) then shows as gone to sweep_holds */
	if (record)
		sweep_image_holds(ctx, sdir);
	changed = record && sweep_holds(ctx, sdir, record);
	/* layers.json is written under the lock we hold: its temp files are dead */
	if (file)
		*bytes += bt_sweep_atomic_temps(ctx, file);
	free(file);
	return changed;
}

bool bt_storage_sweep(berth_ctx *ctx, const char *sdir, json_t *record)
{
	uint64_t bytes = 0;

	return sweep_counted(ctx, sdir, record, &bytes);
}

/* ---- unpacking and releasing images ------------------------------------------- */


int berth_storage_unpack(berth_ctx *ctx, const char *image, const berth_storage_unpack_opts *opts,
		       berth_error **err)
{
	int rc = bt_layers_prepare(ctx, image, opts, NULL, NULL, 0, NULL, err);

	return rc < 0 ? bt_error_wrap(err, rc, "unpacking image %.200s", image) : 0;
}

int berth_storage_release(berth_ctx *ctx, const char *image, berth_error **err)
{
	struct bt_image_layers l;
	berth_error *e = NULL;
	char *user;
	int rc;

	if ((rc = bt_layers_of_image(ctx, image, &l, &e)) == BERTH_ENOTFOUND &&
	    bt_digest_validate(image, NULL) == 0) {
		/* gone from the content store already: its manifest digest still
		 * names its hold on the layers */
		memset(&l, 0, sizeof(l));
		snprintf(l.manifest, sizeof(l.manifest), "%s", image);
		rc = 0;
	}
	if (rc < 0) {
		if (err)
			*err = e;
		else
			berth_error_free(e);
		return bt_error_wrap(err, rc, "releasing image %.200s", image);
	}
	berth_error_free(e);
	if (bt_image_mounted(ctx, l.manifest)) {
		bt_image_layers_free(&l);
		return bt_error_set(err, BERTH_EBUSY, 0, "releasing image %.200s: it is mounted", image);
	}
	user = bt_strdup_printf("image:%s", l.manifest);
	bt_image_layers_free(&l);
	if (!user)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_layers_release(ctx, user, BT_RELEASE_MUST_EXIST, NULL, err);
	free(user);
	return rc < 0 ? bt_error_wrap(err, rc, "releasing image %.200s", image) : 0;
}

/* ---- holds on images, and images removed ----------------------------------- */

char *bt_storage_holder(const char *prefix, const char *what)
{
	return bt_strdup_printf("%s%s", prefix, what);
}

/* The image module removed these manifests (a collection, under its gc
 * lock): their holds "image:<digest>" on unpacked layers go, and layers no
 * snapshot or other image holds with them. A mounted image keeps its hold
 * (until berth_storage_release after its unmount). The storage lock is not
 * waited for (its holder may be waiting for the gc lock): when busy, the
 * sweep of the next storage operation drops those holds instead. */
static int manifests_removed(berth_ctx *ctx, char *const *manifests, size_t n, uint64_t *freed,
			     berth_error **err)
{
	json_t *j = NULL;
	int rc;

	/* one look at layers.json first, so digests that hold nothing (configs,
	 * layer blobs, images never unpacked) cost no rewrite of it */
	if ((rc = bt_layers_load(ctx, &j, err)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *user = bt_strdup_printf("image:%s", manifests[i]);
		const char *key;
		json_t *entry;
		bool held = false;

		if (!user) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			break;
		}
		json_object_foreach(json_object_get(j, "layers"), key, entry) {
			size_t k;
			json_t *u;

			json_array_foreach(json_object_get(entry, "users"), k, u)
				held = held || !strcmp(json_string_value(u) ?: "", user);
		}
		if (held && bt_image_mounted(ctx, manifests[i]))
			bt_log_info(ctx, "storage", "image %s is mounted: its layers stay", manifests[i]);
		else if (held)
			rc = bt_layers_release(ctx, user, BT_RELEASE_NOWAIT, freed, err);
		free(user);
	}
	json_decref(j);
	return rc;
}

__attribute__((constructor)) static void register_manifests_removed(void)
{
	bt_on_manifests_removed(manifests_removed);
}

/* ---- disk usage ------------------------------------------------------------ */

enum { ROW_IMAGES, ROW_LAYERS, ROW_CONTAINERS, ROWS };

struct berth_storage_usage {
	long long items[ROWS], bytes[ROWS], reclaimable[ROWS];
};

static const char *const row_names[ROWS] = { "images", "layers", "containers" };

static int usage_images(berth_ctx *ctx, berth_storage_usage *u, berth_error **err)
{
	berth_image_list *list;
	int rc;

	if ((rc = berth_image_list_new(ctx, &list, err)) < 0)
		return rc;
	u->items[ROW_IMAGES] = (long long)berth_image_list_count(list);
	for (size_t i = 0; i < berth_image_list_count(list); i++)
		u->bytes[ROW_IMAGES] += berth_image_list_size(list, i);
	berth_image_list_free(list);
	return 0;
}

static void usage_layers(berth_ctx *ctx, berth_storage_usage *u, json_t *layers)
{
	const char *key;
	json_t *entry;

	(void)ctx;
	json_object_foreach(layers, key, entry) {
		long long size = (long long)json_integer_value(json_object_get(entry, "size"));

		u->items[ROW_LAYERS]++;
		u->bytes[ROW_LAYERS] += size;
		if (json_array_size(json_object_get(entry, "users")) == 0)
			u->reclaimable[ROW_LAYERS] += size;
	}
}

static int usage_snapshots(berth_ctx *ctx, berth_storage_usage *u, berth_error **err)
{
	char *dir = bt_strdup_printf("%s/storage/snapshots", ctx->root);
	struct dirent *de;
	DIR *d;

	if (!dir)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (!(d = opendir(dir))) {
		int rc = errno == ENOENT ? 0 : bt_error_os(err, "listing %s", dir);
		free(dir);
		return rc;
	}
	while ((de = readdir(d))) {
		char *sub;

		if (de->d_name[0] == '.')
			continue;
		if (!(sub = bt_strdup_printf("%s/%s", dir, de->d_name)))
			break;
		u->items[ROW_CONTAINERS]++;
		u->bytes[ROW_CONTAINERS] += bt_tree_size(sub);
		free(sub);
	}
	closedir(d);
	free(dir);
	return 0;
}

/* Leftovers take space on disk, and all of it is reclaimable. */
static void add_leftover(berth_storage_usage *u, int row, uint64_t bytes)
{
	u->bytes[row] += (long long)bytes;
	u->reclaimable[row] += (long long)bytes;
}

/* The bytes of the layers whose every hold is stale: the sweep drops the
 * holds, and the layers go with them. */
static long long stale_held(const berth_ctx *ctx, const char *sdir, json_t *record)
{
	const char *key;
	json_t *entry;
	long long bytes = 0;

	json_object_foreach(json_object_get(record, "layers"), key, entry) {
		json_t *users = json_object_get(entry, "users"), *u;
		bool stale = json_array_size(users) > 0;
		size_t i;

		json_array_foreach(users, i, u)
			stale = stale && stale_hold(ctx, sdir, json_string_value(u) ?: "");
		if (stale)
			bytes += (long long)json_integer_value(json_object_get(entry, "size"));
	}
	return bytes;
}

/* What crashed processes left, which the next operation sweeps: blob temp
 * files, and (under the storage lock, shared) the temp and unlisted
 * directories in layers/ and snapshots/ and the temp files of killed
 * layers.json writes. */
static int usage_leftovers(berth_ctx *ctx, berth_storage_usage *u, json_t *record, berth_error **err)
{
	char *sdir = NULL, *lock = NULL;
	uint64_t bytes[2] = { 0, 0 };
	int fd = -1, rc;

	add_leftover(u, ROW_IMAGES, berth_image_leftover_bytes(ctx));
	if ((rc = bt_storage_dirs(ctx, &sdir, &lock, err)) < 0)
		return rc;
	if (access(sdir, F_OK) == 0 && (rc = bt_lock_acquire(lock, BT_LOCK_SHARED, &fd, err)) == 0) {
		char *file = bt_strdup_printf("%s/layers.json", sdir);

		sweep_storage(ctx, sdir, record, false, bytes);
		if (file)
			bytes[0] += bt_atomic_temps_size(file);
		free(file);
		u->reclaimable[ROW_LAYERS] += stale_held(ctx, sdir, record);
		bt_lock_release(fd);
	}
	add_leftover(u, ROW_LAYERS, bytes[0]);
	add_leftover(u, ROW_CONTAINERS, bytes[1]);
	free(sdir);
	free(lock);
	return rc;
}

int berth_storage_usage_new(berth_ctx *ctx, berth_storage_usage **out, berth_error **err)
{
	berth_storage_usage *u = calloc(1, sizeof(*u));
	json_t *j = NULL;
	int rc;

	*out = NULL;
	if (!u)
		return bt_error_set(err, BERTH_ENOMEM, 0, "disk usage: out of memory");
	if ((rc = usage_images(ctx, u, err)) < 0 || (rc = bt_layers_load(ctx, &j, err)) < 0 ||
	    (usage_layers(ctx, u, json_object_get(j, "layers")), rc = usage_snapshots(ctx, u, err)) < 0 ||
	    (rc = usage_leftovers(ctx, u, j, err)) < 0) {
		json_decref(j);
		free(u);
		return bt_error_wrap(err, rc, "disk usage of %s", ctx->root);
	}
	json_decref(j);
	*out = u;
	return 0;
}

size_t berth_storage_usage_count(const berth_storage_usage *u)
{
	return u ? ROWS : 0;
}

const char *berth_storage_usage_kind(const berth_storage_usage *u, size_t i)
{
	return u && i < ROWS ? row_names[i] : NULL;
}

long long berth_storage_usage_items(const berth_storage_usage *u, size_t i)
{
	return u && i < ROWS ? u->items[i] : -1;
}

long long berth_storage_usage_bytes(const berth_storage_usage *u, size_t i)
{
	return u && i < ROWS ? u->bytes[i] : -1;
}

long long berth_storage_usage_reclaimable(const berth_storage_usage *u, size_t i)
{
	return u && i < ROWS ? u->reclaimable[i] : -1;
}

void berth_storage_usage_free(berth_storage_usage *u)
{
	free(u);
}

/* ---- prune ------------------------------------------------------------------- */

/* Moves the layers of gone out of the namespace (trash, held), under the
 * storage lock, after the record dropped them; their bytes to *bytes. */
static int trash_unheld(const char *sdir, const struct bt_strv *gone, struct bt_tmpdir *trash,
			uint64_t *bytes, berth_error **err)
{
	for (size_t i = 0; i < gone->n; i++) {
		const char *hex = strchr(gone->v[i], ':') + 1;
		char *dir = bt_strdup_printf("%s/layers/%s", sdir, hex), tag[24];
		int rc;

		if (!dir)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		snprintf(tag, sizeof(tag), "rm-%.16s", hex);
		*bytes += (uint64_t)bt_tree_size(dir);
		rc = bt_tmpdir_take(dir, tag, &trash[i], err);
		free(dir);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Drops the layers nobody holds from the record; their chain IDs to gone. */
static int drop_unheld(json_t *record, struct bt_strv *gone, berth_error **err)
{
	json_t *layers = json_object_get(record, "layers"), *entry;
	const char *key;
	void *tmp;

	json_object_foreach_safe(layers, tmp, key, entry) {
		if (json_array_size(json_object_get(entry, "users")) || !strchr(key, ':'))
			continue;
		if (bt_strv_add(gone, strdup(key)) < 0)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		json_object_del(layers, key);
	}
	return 0;
}

int berth_storage_prune(berth_ctx *ctx, unsigned long long *bytes, berth_error **err)
{
	char *sdir = NULL, *lock = NULL, *file = NULL;
	struct bt_strv gone = { 0 };
	struct bt_tmpdir *trash = NULL;
	uint64_t freed = 0;
	json_t *j = NULL;
	int fd = -1, rc;
	bool changed;

	if (bytes)
		*bytes = 0;
	if ((rc = bt_storage_dirs(ctx, &sdir, &lock, err)) < 0)
		return rc;
	if (access(sdir, F_OK) < 0) /* no store: nothing to prune, and nothing made */
		goto out;
	if ((rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE, &fd, err)) < 0 || (rc = bt_layers_load(ctx, &j, err)) < 0)
		goto out;
	changed = sweep_counted(ctx, sdir, j, &freed);
	if ((rc = drop_unheld(j, &gone, err)) < 0)
		goto out;
	/* the record first, then the namespace, then the data (as a release) */
	if ((changed || gone.n) &&
	    (!(file = bt_strdup_printf("%s/layers.json", sdir)) ||
	     (rc = bt_json_write_atomic(file, j, err)) < 0)) {
		if (!file)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (!(trash = calloc(gone.n + 1, sizeof(*trash)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	rc = trash_unheld(sdir, &gone, trash, &freed, err);
	bt_lock_release(fd);
	fd = -1;
	for (size_t i = 0; i < gone.n; i++)
		bt_tmpdir_remove(&trash[i]);
out:
	if (fd >= 0)
		bt_lock_release(fd);
	if (rc < 0)
		bt_error_wrap(err, rc, "pruning the layer store of %s", ctx->root);
	if (bytes)
		*bytes = freed;
	bt_strv_free(gone.v, gone.n);
	free(trash);
	json_decref(j);
	free(file);
	free(sdir);
	free(lock);
	return rc;
}
