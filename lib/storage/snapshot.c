/* Overlay mounts (read-only image mounts and container snapshots) and the
 * snapshot lifecycle for both drivers. */
#include "storage-internal.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* mount(2) copies at most a page of options */
#define OPTIONS_MAX 4095
/* fsconfig(2) takes string values up to 256 bytes */
#define FSCONFIG_VALUE_MAX 255

#ifdef BERTH_TEST_HOOKS
int bt_test_overlay_legacy;
#endif

bool bt_overlay_available(void)
{
	char *text = NULL;
	bool yes;

	if (bt_read_file("/proc/filesystems", 1 << 16, &text, NULL, NULL) < 0)
		return false;
	yes = strstr(text, "\toverlay\n") != NULL;
	free(text);
	return yes;
}

/* A short name in linkdir for a long lower path (as containers/storage's
 * "l/" directory): the first 26 hex digits of the path's sha256. */
static int short_link(const char *linkdir, const char *lower, char **out, berth_error **err)
{
	char digest[BT_DIGEST_MAX], target[4096];
	ssize_t n;
	int rc;

	if ((rc = bt_digest_buffer("sha256", lower, strlen(lower), digest, err)) < 0 ||
	    (rc = bt_mkdir_p(linkdir, 0700, err)) < 0)
		return rc;
	if (!(*out = bt_strdup_printf("%s/%.26s", linkdir, digest + 7)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	n = readlink(*out, target, sizeof(target) - 1);
	if (n >= 0 && (size_t)n == strlen(lower) && !memcmp(target, lower, (size_t)n))
		return 0;
	if (n >= 0)
		unlink(*out);
	if (symlink(lower, *out) < 0 && errno != EEXIST) {
		rc = bt_error_os(err, "creating link %s", *out);
		free(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

/* fsopen/fsconfig with one "lowerdir+" per layer (Linux 6.8): no limit on
 * the number of layers. Returns 1, having done nothing, where the kernel
 * lacks fsopen or lowerdir+ (or a seccomp filter blocks it): the caller
 * then falls back to mount(2). */
static int mount_new_api(const char *target, char *const *lower, size_t n, const char *upper,
			 const char *work, const char *linkdir, berth_error **err)
{
	int fs = fsopen("overlay", FSOPEN_CLOEXEC), mnt = -1, rc = 0;

	if (fs < 0)
		return errno == ENOSYS || errno == EPERM || errno == ENODEV ? 1 : bt_error_os(err, "opening overlayfs for %s", target);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "berth", 0) < 0) {
		rc = bt_error_os(err, "configuring overlay at %s", target);
		goto out;
	}
	for (size_t i = n; i-- > 0;) { /* the first lowerdir is the top one */
		char *shortp = NULL;
		const char *path = lower[i];

		if (strlen(path) > FSCONFIG_VALUE_MAX) {
			if ((rc = short_link(linkdir, path, &shortp, err)) < 0)
				goto out;
			path = shortp;
		}
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", path, 0) < 0)
			/* EINVAL on the first one: a kernel before lowerdir+ */
			rc = errno == EINVAL && i == n - 1 ? 1 : bt_error_os(err, "adding layer %s to the overlay at %s", path, target);
		free(shortp);
		if (rc != 0)
			goto out;
	}
	if (upper && (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
		      fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
		      /* diffs read the upper dir: renamed directories must be
		       * copied, not recorded as redirects */
		      fsconfig(fs, FSCONFIG_SET_STRING, "redirect_dir", "off", 0) < 0 ||
		      fsconfig(fs, FSCONFIG_SET_STRING, "index", "off", 0) < 0)) {
		rc = bt_error_os(err, "configuring overlay at %s", target);
		goto out;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		rc = bt_error_os(err, "creating overlay for %s", target);
		goto out;
	}
	if ((mnt = fsmount(fs, FSMOUNT_CLOEXEC, upper ? 0 : MOUNT_ATTR_RDONLY)) < 0 ||
	    move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		rc = bt_error_os(err, "mounting overlay on %s", target);
out:
	if (mnt >= 0)
		close(mnt);
	close(fs);
	return rc;
}

static int mount_legacy(const char *target, char *const *lower, size_t n, const char *upper,
			const char *work, const char *linkdir, berth_error **err)
{
	char *opts = NULL, **paths = calloc(n + 1, sizeof(char *));
	size_t len;
	int rc = 0;

	if (!paths)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		/* first with the layers' own paths, then with short links */
		len = sizeof("lowerdir=") +
		      (upper ? sizeof(",upperdir=,workdir=,redirect_dir=off,index=off") + strlen(upper) + strlen(work) : 0);
		for (size_t i = 0; i < n && rc == 0; i++) {
			free(paths[i]);
			paths[i] = NULL;
			if (pass == 0)
				rc = (paths[i] = strdup(lower[i])) ? 0 : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			else
				rc = short_link(linkdir, lower[i], &paths[i], err);
			if (rc == 0 && strpbrk(paths[i], ":,"))
				rc = bt_error_set(err, BERTH_EINVAL, 0, "layer path %s has a ':' or ','", paths[i]);
			if (rc == 0)
				len += strlen(paths[i]) + 1;
		}
#ifdef BERTH_TEST_HOOKS
		if (bt_test_overlay_legacy && pass == 0)
			continue;
#endif
		if (len <= OPTIONS_MAX)
			break;
	}
	if (rc == 0 && len > OPTIONS_MAX)
		rc = bt_error_set(err, BERTH_EINVAL, 0,
				  "mounting %s: %zu layers do not fit in the mount options", target, n);
	if (rc == 0 && !(opts = malloc(len + 1)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (rc == 0) {
		char *p = opts + sprintf(opts, "lowerdir=");
		for (size_t i = n; i-- > 0;)
			p += sprintf(p, "%s%s", paths[i], i ? ":" : "");
		if (upper)
			sprintf(p, ",upperdir=%s,workdir=%s,redirect_dir=off,index=off", upper, work);
		if (mount("overlay", target, "overlay", upper ? 0 : MS_RDONLY, opts) < 0)
			rc = bt_error_os(err, "mounting overlay on %s", target);
	}
	bt_strv_free(paths, n);
	free(opts);
	return rc;
}

int bt_overlay_mount(const char *target, char *const *lower, size_t n, const char *upper,
		     const char *work, const char *linkdir, berth_error **err)
{
	int rc = 1;

#ifdef BERTH_TEST_HOOKS
	if (!bt_test_overlay_legacy)
#endif
		rc = mount_new_api(target, lower, n, upper, work, linkdir, err);
	if (rc == 1)
		rc = mount_legacy(target, lower, n, upper, work, linkdir, err);
	return rc;
}

/* A mount point: its device differs from its parent's. */
static bool is_mounted(const char *path)
{
	struct stat a, b;
	char *parent = bt_strdup_printf("%s/..", path);
	bool yes = parent && stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;

	free(parent);
	return yes;
}

static int unmount_dir(const char *path, berth_error **err)
{
	if (is_mounted(path) && umount2(path, UMOUNT_NOFOLLOW) < 0)
		return bt_error_os(err, "unmounting %s", path);
	if (rmdir(path) < 0 && errno != ENOENT)
		return bt_error_os(err, "removing mount point %s", path);
	return 0;
}

/* The lower dirs (each layer's diff/) bottom first; with one layer an empty
 * directory goes below it, since overlayfs without an upper wants two. */
static int lower_dirs(const char *sdir, const struct bt_image_layers *l, bool ro, char ***out,
		      size_t *n, berth_error **err)
{
	struct bt_strv v = { 0 };
	int rc;

	if (ro && l->n < 2) {
		char *empty = bt_strdup_printf("%s/empty", sdir);
		if (!empty || (rc = bt_mkdir_p(empty, 0755, err)) < 0 || bt_strv_add(&v, empty) < 0) {
			bt_strv_free(v.v, v.n);
			return empty ? rc : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
	}
	for (size_t i = 0; i < l->n; i++)
		if (bt_strv_add(&v, bt_strdup_printf("%s/diff", l->dirs[i])) < 0) {
			bt_strv_free(v.v, v.n);
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
	*out = v.v;
	*n = v.n;
	return 0;
}

/* ---- read-only image mounts --------------------------------------------- */

static char *image_mount_path(const berth_ctx *ctx, const char *manifest)
{
	return bt_strdup_printf("%s/storage/images/%s", ctx->runroot, strchr(manifest, ':') + 1);
}

char *bt_image_mount_lock(const berth_ctx *ctx, const char *manifest)
{
	return bt_strdup_printf("%s/storage/images/.%s.lock", ctx->runroot, strchr(manifest, ':') + 1);
}

/* Takes the lock of the image mount of manifest (made with its directory). */
static int lock_image_mount(const berth_ctx *ctx, const char *manifest, int *fd, berth_error **err)
{
	char *lock = bt_image_mount_lock(ctx, manifest), *dir = NULL;
	int rc;

	*fd = -1;
	if (!lock || !(dir = bt_strdup_printf("%s/storage/images", ctx->runroot)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = bt_mkdir_p(dir, 0700, err)) == 0)
		rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE, fd, err);
	free(lock);
	free(dir);
	return rc;
}

/* Mounts the layers l read-only at mp. */
static int mount_layers(berth_ctx *ctx, const struct bt_image_layers *l, const char *mp,
			berth_error **err)
{
	char *sdir = NULL, *linkdir = NULL, **lowers = NULL;
	size_t nl = 0;
	int rc;

	if (!bt_overlay_available())
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "this host has no overlayfs");
	if ((rc = bt_storage_dirs(ctx, &sdir, NULL, err)) < 0)
		return rc;
	if (!(linkdir = bt_strdup_printf("%s/l", sdir)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = bt_mkdir_p(mp, 0700, err)) < 0 || (rc = lower_dirs(sdir, l, true, &lowers, &nl, err)) < 0 ||
		 (rc = bt_overlay_mount(mp, lowers, nl, NULL, NULL, linkdir, err)) < 0)
		rmdir(mp);
	bt_strv_free(lowers, nl);
	free(sdir);
	free(linkdir);
	return rc;
}

/* The mount holds its image's manifest ("storage:mount:<digest>") from
 * before it unpacks until its unmount; the mount's lock is held meanwhile,
 * so that a sweep never takes the hold of a mount being made. */
int berth_storage_mount(berth_ctx *ctx, const char *image, char **path, berth_error **err)
{
	struct bt_image_layers l = { 0 };
	char *mp = NULL, *holder = NULL;
	bool held = false;
	int lockfd = -1, rc;

	*path = NULL;
	if ((rc = bt_layers_of_image(ctx, image, &l, err)) < 0 ||
	    (rc = lock_image_mount(ctx, l.manifest, &lockfd, err)) < 0)
		goto out;
	if (!(mp = image_mount_path(ctx, l.manifest)) || !(holder = bt_storage_holder(BT_HOLD_MOUNT, l.manifest))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (is_mounted(mp))
		goto done;
	if ((rc = berth_image_hold(ctx, l.manifest, holder, NULL, err)) < 0)
		goto out;
	held = true;
	bt_image_layers_free(&l);
	if ((rc = bt_layers_prepare(ctx, holder + strlen(BT_HOLD_MOUNT), NULL, NULL, NULL, 0, &l, err)) < 0 ||
	    (rc = mount_layers(ctx, &l, mp, err)) < 0)
		goto out;
done:
	*path = mp;
	mp = NULL;
	held = false;
out:
	if (held)
		berth_image_release(ctx, holder + strlen(BT_HOLD_MOUNT), holder, NULL);
	bt_lock_release(lockfd);
	bt_image_layers_free(&l);
	free(mp);
	free(holder);
	return rc < 0 ? bt_error_wrap(err, rc, "mounting image %.200s", image) : 0;
}

int berth_storage_unmount(berth_ctx *ctx, const char *image, berth_error **err)
{
	struct bt_image_layers l;
	char *mp = NULL, *holder = NULL;
	berth_error *e = NULL;
	int lockfd = -1, rc;

	if ((rc = bt_layers_of_image(ctx, image, &l, err)) < 0)
		return bt_error_wrap(err, rc, "unmounting image %.200s", image);
	if ((rc = lock_image_mount(ctx, l.manifest, &lockfd, err)) < 0)
		goto out;
	if (!(mp = image_mount_path(ctx, l.manifest)) || !(holder = bt_storage_holder(BT_HOLD_MOUNT, l.manifest))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (!is_mounted(mp))
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "unmounting image %.200s: not mounted", image);
	else if ((rc = unmount_dir(mp, err)) < 0)
		goto out;
	/* also when not mounted: an unmount killed after its umount left the
	 * hold (a mount older than holds has none: nothing to release) */
	if (berth_image_release(ctx, l.manifest, holder, &e) < 0 && berth_error_code(e) != BERTH_ENOTFOUND)
		bt_log_warn(ctx, "storage", "%s", berth_error_message(e));
	berth_error_free(e);
out:
	bt_lock_release(lockfd);
	bt_image_layers_free(&l);
	free(mp);
	free(holder);
	return rc;
}

int bt_image_mounted(const berth_ctx *ctx, const char *manifest)
{
	char *mp = image_mount_path(ctx, manifest);
	int yes = mp && is_mounted(mp);

	free(mp);
	return yes;
}

/* ---- snapshots ----------------------------------------------------------- */

static int check_id(const char *id, berth_error **err)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64 || id[0] == '.' || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "snapshot id \"%.80s\": 1 to 64 of A-Z a-z 0-9 _ . -, not starting with a dot",
				    id);
	return 0;
}

int bt_snapshot_load(berth_ctx *ctx, const char *id, struct bt_snapshot *s, berth_error **err)
{
	json_t *j = NULL, *layers, *c;
	const char *driver, *image;
	char *file = NULL;
	size_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = check_id(id, err)) < 0)
		return rc;
	if (!(s->dir = bt_strdup_printf("%s/storage/snapshots/%s", ctx->root, id)) ||
	    !(s->mount = bt_strdup_printf("%s/storage/snapshots/%s", ctx->runroot, id)) ||
	    !(file = bt_strdup_printf("%s/snapshot.json", s->dir)) || !(s->id = strdup(id))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (access(file, F_OK) < 0) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "snapshot %s: no such snapshot", id);
		goto out;
	}
	if ((rc = bt_json_load_file(file, 1 << 20, &j, err)) < 0 ||
	    (rc = bt_json_string(j, "", "driver", true, &driver, err)) < 0 ||
	    (rc = bt_json_string(j, "", "image", true, &image, err)) < 0 ||
	    (rc = bt_json_member(j, "", "layers", JSON_ARRAY, true, &layers, err)) < 0)
		goto out;
	s->driver = !strcmp(driver, "copy") ? BERTH_SNAPSHOT_COPY : BERTH_SNAPSHOT_OVERLAY;
	snprintf(s->layers.manifest, BT_DIGEST_MAX, "%s", image);
	s->layers.n = json_array_size(layers);
	if (!(s->layers.chain = calloc(s->layers.n + 1, sizeof(*s->layers.chain))) ||
	    !(s->layers.dirs = calloc(s->layers.n + 1, sizeof(char *)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	json_array_foreach(layers, i, c) {
		const char *chain = json_string_value(c);
		if (!chain || bt_digest_validate(chain, NULL) < 0) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: layers[%zu] is not a digest", file, i);
			goto out;
		}
		snprintf(s->layers.chain[i], BT_DIGEST_MAX, "%s", chain);
		if (!(s->layers.dirs[i] = bt_strdup_printf("%s/storage/layers/%s", ctx->root, chain + 7))) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			goto out;
		}
	}
out:
	if (rc < 0)
		bt_snapshot_clear(s);
	json_decref(j);
	free(file);
	return rc;
}

void bt_snapshot_clear(struct bt_snapshot *s)
{
	free(s->id);
	free(s->dir);
	free(s->mount);
	bt_image_layers_free(&s->layers);
	memset(s, 0, sizeof(*s));
}

/* The driver asked for, AUTO resolved. */
static int snapshot_driver(const char *id, int driver, int *out, berth_error **err)
{
	if (driver == BERTH_SNAPSHOT_AUTO)
		driver = bt_overlay_available() ? BERTH_SNAPSHOT_OVERLAY : BERTH_SNAPSHOT_COPY;
	else if (driver == BERTH_SNAPSHOT_OVERLAY && !bt_overlay_available())
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "creating snapshot %s: this host has no overlayfs", id);
	else if (driver != BERTH_SNAPSHOT_COPY && driver != BERTH_SNAPSHOT_OVERLAY)
		return bt_error_set(err, BERTH_EINVAL, 0, "creating snapshot %s: unknown driver %d", id,
				    driver);
	*out = driver;
	return 0;
}

/* A copy driver's rootfs/: the layers applied bottom first, each whiteout
 * deleting what it hides. */
static int fill_copy(const char *tmp, const struct bt_image_layers *l, berth_error **err)
{
	char *sub = bt_strdup_printf("%s/rootfs", tmp);
	int rootfd = -1, rc = 0;

	if (!sub)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (mkdir(sub, 0755) < 0 || (rootfd = open(sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = bt_error_os(err, "creating %s", sub);
	for (size_t i = 0; i < l->n && rc == 0; i++) {
		char *diff = bt_strdup_printf("%s/diff", l->dirs[i]);
		int lfd = diff ? open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

		if (lfd < 0)
			rc = bt_error_os(err, "opening layer %s", l->chain[i]);
		else
			rc = bt_tree_apply_layer(lfd, rootfd, diff, err);
		if (lfd >= 0)
			close(lfd);
		free(diff);
	}
	if (rootfd >= 0)
		close(rootfd);
	free(sub);
	return rc;
}

/* The snapshot's tree in its temp dir: upper/ and work/ (overlay) or a
 * copy of the layers (copy). */
static int fill_snapshot(const char *tmp, int driver, const struct bt_image_layers *l,
			 berth_error **err)
{
	static const char *const subs[] = { "upper", "work" };
	int rc = 0;

	if (driver == BERTH_SNAPSHOT_COPY)
		return fill_copy(tmp, l, err);
	for (size_t i = 0; i < BT_ARRAY_SIZE(subs) && rc == 0; i++) {
		char *sub = bt_strdup_printf("%s/%s", tmp, subs[i]);

		if (!sub)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		else if (mkdir(sub, 0755) < 0)
			rc = bt_error_os(err, "creating %s", sub);
		free(sub);
	}
	return rc;
}

/* snapshot.json in the temp dir, synced before the snapshot has its name:
 * a power loss leaves a whole snapshot or none (its later changes are the
 * container's, not synced). */
static int write_snapshot_json(const char *tmp, const char *id, int driver,
			       const struct bt_image_layers *l, berth_error **err)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:[]}", "id", id, "image", l->manifest, "driver",
			      driver == BERTH_SNAPSHOT_COPY ? "copy" : "overlay", "layers");
	char *path = bt_strdup_printf("%s/snapshot.json", tmp);
	int rc = 0;

	if (!j || !path)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	for (size_t i = 0; rc == 0 && i < l->n; i++)
		if (json_array_append_new(json_object_get(j, "layers"), json_string(l->chain[i])) < 0)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (rc == 0 && (rc = bt_json_write_atomic(path, j, err)) == 0 && driver == BERTH_SNAPSHOT_COPY)
		rc = bt_syncfs(tmp, err);
	json_decref(j);
	free(path);
	return rc;
}

/* Phases: a held temp dir first (while it is held, a sweep keeps the holds
 * the next steps take: a snapshot being made is not a stale hold), a hold
 * on the image's manifest (storage:snapshot:<id>: removal and gc leave it
 * the image), its layers held (snapshot:<id>), the tree and its record in
 * the temp dir, the rename into place. */
int berth_snapshot_create(berth_ctx *ctx, const char *id, const char *image,
			  const berth_snapshot_opts *uopts, berth_error **err)
{
	berth_snapshot_opts opts = BERTH_SNAPSHOT_OPTS_INIT;
	struct bt_image_layers l = { 0 };
	char *sdir = NULL, *parent = NULL, *dir = NULL, *user = NULL, *holder = NULL;
	char manifest[BT_DIGEST_MAX] = "";
	struct bt_tmpdir tmp = { NULL, -1 };
	bool held = false, image_held = false;
	int rc, driver = 0;

	if ((rc = bt_opts_copy(&opts, sizeof(opts), uopts, "berth_snapshot_opts", err)) < 0 ||
	    (rc = check_id(id, err)) < 0 || (rc = snapshot_driver(id, opts.driver, &driver, err)) < 0 ||
	    (rc = bt_storage_dirs(ctx, &sdir, NULL, err)) < 0)
		return rc;
	if (!(parent = bt_strdup_printf("%s/snapshots", sdir)) || !(dir = bt_strdup_printf("%s/%s", parent, id)) ||
	    !(user = bt_strdup_printf("snapshot:%s", id)) || !(holder = bt_storage_holder(BT_HOLD_SNAPSHOT, id))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (access(dir, F_OK) == 0) {
		rc = bt_error_set(err, BERTH_EEXISTS, 0, "snapshot %s exists already", id);
		goto out;
	}
	if ((rc = bt_mkdir_p(parent, 0700, err)) < 0 || (rc = bt_tmpdir_make(parent, id, &tmp, err)) < 0 ||
	    (rc = bt_layers_of_image(ctx, image, &l, err)) < 0 ||
	    (rc = berth_image_hold(ctx, l.manifest, holder, NULL, err)) < 0)
		goto out;
	image_held = true;
#ifdef BERTH_TEST_HOOKS
	if (getenv("BERTH_TEST_SNAPSHOT_STOP_AFTER_HOLD"))
		raise(SIGSTOP); /* a test kills it here: held, not made */
#endif
	/* the manifest held, not the name again: a tag may have moved since */
	snprintf(manifest, sizeof(manifest), "%s", l.manifest);
	bt_image_layers_free(&l);
	if ((rc = bt_layers_prepare(ctx, manifest, NULL, user, NULL, 0, &l, err)) < 0)
		goto out;
	held = true;
	if ((rc = fill_snapshot(tmp.path, driver, &l, err)) < 0 ||
	    (rc = write_snapshot_json(tmp.path, id, driver, &l, err)) < 0)
		goto out;
	if (rename(tmp.path, dir) < 0) {
		rc = errno == EEXIST || errno == ENOTEMPTY
			     ? bt_error_set(err, BERTH_EEXISTS, 0, "snapshot %s exists already", id)
			     : bt_error_os(err, "moving %s into place", tmp.path);
		goto out;
	}
	bt_tmpdir_placed(&tmp);
	rc = bt_fsync_dir(parent, err);
	bt_log_debug(ctx, "storage", "snapshot %s of %s (%s)", id, l.manifest,
		     driver == BERTH_SNAPSHOT_COPY ? "copy" : "overlay");
out:
	if (rc < 0 && held)
		bt_layers_release(ctx, user, 0, NULL, NULL);
	if (rc < 0 && image_held)
		berth_image_release(ctx, manifest, holder, NULL);
	bt_tmpdir_remove(&tmp);
	bt_image_layers_free(&l);
	free(sdir);
	free(parent);
	free(dir);
	free(user);
	free(holder);
	return rc < 0 ? bt_error_wrap(err, rc, "creating snapshot %s of %.200s", id, image) : 0;
}

int bt_snapshot_do_mount(berth_ctx *ctx, struct bt_snapshot *s, berth_error **err)
{
	char *upper = NULL, *work = NULL, *linkdir = NULL, **lowers = NULL;
	size_t nl = 0;
	int rc;

	if (is_mounted(s->mount))
		return 0;
	if (!(upper = bt_strdup_printf("%s/upper", s->dir)) || !(work = bt_strdup_printf("%s/work", s->dir)) ||
	    !(linkdir = bt_strdup_printf("%s/storage/l", ctx->root))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = bt_mkdir_p(s->mount, 0700, err)) < 0 ||
	    (rc = lower_dirs(NULL, &s->layers, false, &lowers, &nl, err)) < 0)
		goto out;
	if ((rc = bt_overlay_mount(s->mount, lowers, nl, upper, work, linkdir, err)) < 0)
		rmdir(s->mount);
out:
	bt_strv_free(lowers, nl);
	free(upper);
	free(work);
	free(linkdir);
	return rc;
}

int berth_snapshot_mount(berth_ctx *ctx, const char *id, char **path, berth_error **err)
{
	struct bt_snapshot s;
	int rc;

	*path = NULL;
	if ((rc = bt_snapshot_load(ctx, id, &s, err)) < 0)
		return rc;
	if (s.driver == BERTH_SNAPSHOT_COPY)
		*path = bt_strdup_printf("%s/rootfs", s.dir);
	else if ((rc = bt_snapshot_do_mount(ctx, &s, err)) == 0)
		*path = strdup(s.mount);
	if (rc == 0 && !*path)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	bt_snapshot_clear(&s);
	return rc < 0 ? bt_error_wrap(err, rc, "mounting snapshot %s", id) : 0;
}

bool bt_snapshot_is_mounted(const struct bt_snapshot *s)
{
	return s->driver == BERTH_SNAPSHOT_OVERLAY && is_mounted(s->mount);
}

int bt_snapshot_do_unmount(struct bt_snapshot *s, berth_error **err)
{
	if (s->driver == BERTH_SNAPSHOT_COPY)
		return 0;
	return unmount_dir(s->mount, err);
}

int berth_snapshot_unmount(berth_ctx *ctx, const char *id, berth_error **err)
{
	struct bt_snapshot s;
	int rc;

	if ((rc = bt_snapshot_load(ctx, id, &s, err)) < 0)
		return rc;
	rc = bt_snapshot_do_unmount(&s, err);
	bt_snapshot_clear(&s);
	return rc < 0 ? bt_error_wrap(err, rc, "unmounting snapshot %s", id) : 0;
}

int berth_snapshot_remove(berth_ctx *ctx, const char *id, berth_error **err)
{
	struct bt_tmpdir trash = { NULL, -1 };
	struct bt_snapshot s;
	char *user, *holder;
	berth_error *e = NULL;
	int rc;

	user = bt_strdup_printf("snapshot:%s", id);
	holder = bt_storage_holder(BT_HOLD_SNAPSHOT, id);
	if (!user || !holder) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = bt_snapshot_load(ctx, id, &s, err)) < 0) {
		/* gone already (a remove that was killed): its holds go with
		 * the sweep the release runs */
		if (rc == BERTH_ENOTFOUND)
			bt_layers_release(ctx, user, 0, NULL, NULL);
		goto out;
	}
	/* out of the namespace first, then the holds, then the deletion: a
	 * crash leaves trash and holds of nothing, all swept */
	if ((rc = bt_snapshot_do_unmount(&s, err)) == 0 && (rc = bt_tmpdir_take(s.dir, id, &trash, err)) >= 0 &&
	    (rc = bt_layers_release(ctx, user, 0, NULL, err)) == 0) {
		/* a snapshot older than holds has none */
		if (berth_image_release(ctx, s.layers.manifest, holder, &e) < 0 &&
		    berth_error_code(e) != BERTH_ENOTFOUND)
			bt_log_warn(ctx, "storage", "%s", berth_error_message(e));
		berth_error_free(e);
		bt_tmpdir_remove(&trash);
	}
	bt_tmpdir_placed(&trash); /* on failure, left to the sweep */
	bt_snapshot_clear(&s);
out:
	free(user);
	free(holder);
	return rc < 0 ? bt_error_wrap(err, rc, "removing snapshot %s", id) : 0;
}

int berth_snapshot_driver_get(berth_ctx *ctx, const char *id, berth_snapshot_driver *out,
			      berth_error **err)
{
	struct bt_snapshot s;
	int rc;

	if ((rc = bt_snapshot_load(ctx, id, &s, err)) < 0)
		return rc;
	*out = s.driver;
	bt_snapshot_clear(&s);
	return 0;
}
