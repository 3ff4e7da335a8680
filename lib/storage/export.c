/* A snapshot's whole root file system as one tar (`export`). */
#include "storage-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int berth_snapshot_export(berth_ctx *ctx, const char *id, int fd, berth_error **err)
{
	struct bt_snapshot s;
	bt_tar_writer *w = NULL;
	char *path = NULL;
	bool mounted_here = false;
	int rootfd = -1, rc;

	if ((rc = bt_snapshot_load(ctx, id, &s, err)) < 0)
		return rc;
	if (s.driver == BERTH_SNAPSHOT_COPY) {
		path = bt_strdup_printf("%s/rootfs", s.dir);
	} else {
		/* mounted for the time of the export when it was not mounted */
		mounted_here = !bt_snapshot_is_mounted(&s);
		if ((rc = bt_snapshot_do_mount(ctx, &s, err)) < 0) {
			mounted_here = false;
			goto out;
		}
		path = strdup(s.mount);
	}
	if (!path) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rootfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "opening %s", path);
		goto out;
	}
	if ((rc = bt_tar_writer_new(fd, &w, err)) == 0 && (rc = bt_tar_add_tree(w, rootfd, "", err)) == 0) {
		rc = bt_tar_writer_finish(w, err);
		w = NULL;
	}
out:
	bt_tar_writer_abort(w);
	if (rootfd >= 0)
		close(rootfd);
	if (mounted_here)
		bt_snapshot_do_unmount(&s, NULL);
	free(path);
	bt_snapshot_clear(&s);
	return rc < 0 ? bt_error_wrap(err, rc, "exporting snapshot %s", id) : 0;
}
