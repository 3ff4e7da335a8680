/* Copies into and out of a container's root file system, and its export:
 * through the storage module's tar streams, on the snapshot mounted for
 * the time of the call when the container does not run. The container's
 * lock is held throughout, so it cannot start or go meanwhile. */
#include "container-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth/storage.h>

struct ct_root {
	struct bt_ct *ct;
	char *path;     /* the snapshot's root file system */
	bool unmount;   /* mounted for this call */
};

static int root_open(berth_ctx *ctx, const char *name, struct ct_root *r, berth_error **err)
{
	const char *status;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = bt_ct_open(ctx, name, &r->ct, err)) < 0)
		return rc;
	status = bt_ct_status(r->ct);
	r->unmount = strcmp(status, "running") && strcmp(status, "paused");
	if ((rc = berth_snapshot_mount(ctx, r->ct->id, &r->path, err)) < 0) {
		bt_ct_close(r->ct);
		r->ct = NULL;
	}
	return rc;
}

static void root_close(berth_ctx *ctx, struct ct_root *r)
{
	if (r->ct && r->unmount)
		berth_snapshot_unmount(ctx, r->ct->id, NULL);
	berth_string_free(r->path);
	bt_ct_close(r->ct);
}

int berth_container_copy_to(berth_ctx *ctx, const char *name, const char *dir, int fd, berth_error **err)
{
	struct ct_root r;
	int rc;

	if ((rc = root_open(ctx, name, &r, err)) < 0)
		return rc;
	/* the snapshot itself is writable; what the container was promised is not */
	if (json_is_true(json_object_get(json_object_get(r.ct->config, "HostConfig"), "ReadonlyRootfs"))) {
		rc = bt_error_set(err, BERTH_EPERM, 0, "container rootfs is marked read-only");
		root_close(ctx, &r);
		return rc;
	}
	rc = berth_storage_copy_in(ctx, r.path, dir, fd, err);
	root_close(ctx, &r);
	return rc == BERTH_ENOTFOUND ? bt_error_wrap(err, rc, "Could not find the file %s in container %s", dir, name) : rc;
}

int berth_container_copy_from(berth_ctx *ctx, const char *name, const char *path, const char *as, int fd,
			      berth_error **err)
{
	struct ct_root r;
	int rc;

	if ((rc = root_open(ctx, name, &r, err)) < 0)
		return rc;
	rc = berth_storage_copy_out(ctx, r.path, path, as, fd, err);
	root_close(ctx, &r);
	return rc == BERTH_ENOTFOUND ? bt_error_wrap(err, rc, "Could not find the file %s in container %s", path, name) : rc;
}

int berth_container_path_is_dir(berth_ctx *ctx, const char *name, const char *path, int *is_dir,
				berth_error **err)
{
	struct ct_root r;
	struct stat st;
	int rc, rootfd, fd;

	*is_dir = 0;
	if ((rc = root_open(ctx, name, &r, err)) < 0)
		return rc;
	if ((rootfd = open(r.path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "opening %s", r.path);
	} else {
		/* as the container resolves it: a symlink to a directory is one */
		rc = bt_path_open(rootfd, *path ? path : "/", O_PATH | O_CLOEXEC, 0, BT_RESOLVE_IN_ROOT, &fd, err);
		if (rc == 0) {
			*is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
			close(fd);
		}
		close(rootfd);
	}
	root_close(ctx, &r);
	return rc;
}

int berth_container_export(berth_ctx *ctx, const char *name, int fd, berth_error **err)
{
	struct bt_ct *ct;
	int rc;

	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	rc = berth_snapshot_export(ctx, ct->id, fd, err);
	bt_ct_close(ct);
	return rc;
}
