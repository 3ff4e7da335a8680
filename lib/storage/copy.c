/* Copying into and out of a root file system as tar streams (docker cp):
 * paths resolved as the container sees them, so no symlink in it can make
 * a copy read or write outside it. */
#include "storage-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens root, then rel below it as the container resolves it (".." and
 * absolute symlinks stop at root); O_NOFOLLOW in flags keeps a last
 * symlink itself. */
static int open_in_root(const char *root, const char *rel, int flags, int *fd, berth_error **err)
{
	int rootfd, rc;

	if ((rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bt_error_os(err, "opening %s", root);
	rc = bt_path_open(rootfd, *rel ? rel : "/", flags | O_CLOEXEC, 0, BT_RESOLVE_IN_ROOT, fd, err);
	close(rootfd);
	return rc;
}

/* rel split at its last component: the parent (kept in parent, "/" at the
 * top) and the base name, or NULL when rel names the root itself. */
static char *split_last(const char *rel, char **parent)
{
	char *copy = strdup(rel), *end, *slash;

	*parent = NULL;
	if (!copy)
		return NULL;
	end = copy + strlen(copy);
	while (end > copy && end[-1] == '/')
		*--end = '\0';
	if (!*copy || !strcmp(copy, ".")) {
		free(copy);
		return NULL;
	}
	slash = strrchr(copy, '/');
	*parent = slash ? strndup(copy, (size_t)(slash - copy)) : strdup("/");
	if (*parent && !**parent) {
		free(*parent);
		*parent = strdup("/");
	}
	end = strdup(slash ? slash + 1 : copy);
	free(copy);
	return end;
}

int berth_storage_copy_out(berth_ctx *ctx, const char *root, const char *path, const char *as, int fd,
			   berth_error **err)
{
	char *parent = NULL, *base = NULL;
	bt_tar_writer *w = NULL;
	int pfd = -1, dfd = -1, rc;
	struct stat st;

	(void)ctx;
	if (!root || !path || (as && (!*as || strchr(as, '/') || !strcmp(as, "..") || !strcmp(as, "."))))
		return bt_error_set(err, BERTH_EINVAL, 0, "copying: a bad path or name");
	if (!(base = split_last(path, &parent)) && !(base = strdup("."))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = open_in_root(root, parent ? parent : "/", O_RDONLY | O_DIRECTORY, &pfd, err)) < 0)
		goto out;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = bt_error_os(err, "looking at %s", path);
		goto out;
	}
	if (!as)
		as = strcmp(base, ".") ? base : "root";
	if ((rc = bt_tar_writer_new(fd, &w, err)) < 0 || (rc = bt_tar_add(w, pfd, base, as, &st, err)) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		if ((dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			rc = bt_error_os(err, "opening %s", path);
			goto out;
		}
		if ((rc = bt_tar_add_tree(w, dfd, as, err)) < 0)
			goto out;
	}
	rc = bt_tar_writer_finish(w, err);
	w = NULL;
out:
	bt_tar_writer_abort(w);
	if (pfd >= 0)
		close(pfd);
	if (dfd >= 0)
		close(dfd);
	free(parent);
	free(base);
	return rc;
}

int berth_storage_copy_in(berth_ctx *ctx, const char *root, const char *dir, int fd, berth_error **err)
{
	struct bt_unpack_params p = { .blobfd = fd, .blob_size = -1, .compression = BT_COMPRESS_NONE,
				      .what = "the copied tar" };
	int dfd, rc;

	(void)ctx;
	if (!root || !dir)
		return bt_error_set(err, BERTH_EINVAL, 0, "copying: a bad path");
	if ((rc = open_in_root(root, dir, O_RDONLY | O_DIRECTORY, &dfd, err)) < 0)
		return rc;
	/* every entry is made below dfd, never through a symlink out of it */
	rc = bt_unpack_layer(dfd, dir, &p, NULL, NULL, err);
	close(dfd);
	return rc;
}
