/* An empty volume takes what the image has at the path it is mounted on,
 * as Docker does: a copy that keeps owners, modes, times, extended
 * attributes and symlinks. Everything is opened relative to directory fds
 * with O_NOFOLLOW, the source found inside the root file system as the
 * container sees it, so no symlink of the image leads the copy out.
 *
 * Crash safety: .populating is written (and fsynced) beside _data before
 * the first byte is copied and removed after a syncfs of the copy; a call
 * that finds it clears _data and copies again. */
#define _GNU_SOURCE
#include "volume-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DEPTH_MAX 128
#define XATTR_LIST_MAX_ 65536

static int copy_xattrs(int sfd, int dfd)
{
	char *list = malloc(XATTR_LIST_MAX_), *val = malloc(XATTR_LIST_MAX_);
	ssize_t n, vn;
	int rc = 0;

	if (!list || !val) {
		rc = -ENOMEM;
		goto out;
	}
	if ((n = flistxattr(sfd, list, XATTR_LIST_MAX_)) < 0) {
		rc = errno == ENOTSUP ? 0 : -errno;
		goto out;
	}
	for (char *k = list; k < list + n; k += strlen(k) + 1) {
		if ((vn = fgetxattr(sfd, k, val, XATTR_LIST_MAX_)) < 0)
			continue; /* gone meanwhile */
		if (fsetxattr(dfd, k, val, (size_t)vn, 0) < 0 && errno != ENOTSUP) {
			rc = -errno;
			break;
		}
	}
out:
	free(list);
	free(val);
	return rc;
}

/* Owner, then mode (a chown clears set-id bits), attributes and times. */
static int copy_meta(int sfd, int dfd, const struct stat *st)
{
	struct timespec t[2] = { st->st_atim, st->st_mtim };
	int rc;

	if (fchown(dfd, st->st_uid, st->st_gid) < 0 || fchmod(dfd, st->st_mode & 07777) < 0)
		return -errno;
	if ((rc = copy_xattrs(sfd, dfd)) < 0)
		return rc;
	return futimens(dfd, t) < 0 ? -errno : 0;
}

static int copy_data(int sfd, int dfd)
{
	char buf[65536];

	for (;;) {
		ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, 1 << 30, 0);

		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
		break;
	}
	for (;;) {
		ssize_t n = read(sfd, buf, sizeof(buf));

		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || bt_write_all(dfd, buf, (size_t)n) < 0)
			return -errno;
	}
}

static int copy_dir(int sfd, int dfd, int depth);

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st)
{
	int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), dfd = -1, rc;

	if (sfd < 0)
		return -errno;
	if ((dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		rc = -errno;
	else if ((rc = copy_data(sfd, dfd)) == 0)
		rc = copy_meta(sfd, dfd, st);
	close(sfd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

static int copy_subdir(int sdir, int ddir, const char *name, const struct stat *st, int depth)
{
	int sfd, dfd, rc;

	if (depth >= DEPTH_MAX)
		return -ELOOP;
	if (mkdirat(ddir, name, 0700) < 0)
		return -errno;
	if ((sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if ((dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = -errno;
		close(sfd);
		return rc;
	}
	if ((rc = copy_dir(sfd, dfd, depth + 1)) == 0)
		rc = copy_meta(sfd, dfd, st);
	close(sfd);
	close(dfd);
	return rc;
}

static int copy_symlink(int sdir, int ddir, const char *name, const struct stat *st)
{
	char target[4097];
	struct timespec t[2] = { st->st_atim, st->st_mtim };
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (symlinkat(target, ddir, name) < 0 || fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(ddir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int copy_node(int sdir, int ddir, const char *name, const struct stat *st)
{
	struct timespec t[2] = { st->st_atim, st->st_mtim };

	/* never following a name: a container using the volume may have put a
	 * symlink to a host file in the node's place (glibc's fchmodat refuses
	 * a symlink with AT_SYMLINK_NOFOLLOW) */
	if (mknodat(ddir, name, st->st_mode, st->st_rdev) < 0 ||
	    fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(ddir, name, st->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(ddir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	(void)sdir;
	return 0;
}

/* Copies the entries of sfd into dfd; -errno. */
static int copy_dir(int sfd, int dfd, int depth)
{
	int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3), rc = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	/* the dup shares its offset with sfd: start from the top */
	rewinddir(d);
	while (rc == 0 && (e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(sfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode))
			rc = copy_subdir(sfd, dfd, e->d_name, &st, depth);
		else if (S_ISREG(st.st_mode))
			rc = copy_file(sfd, dfd, e->d_name, &st);
		else if (S_ISLNK(st.st_mode))
			rc = copy_symlink(sfd, dfd, e->d_name, &st);
		else if (!S_ISSOCK(st.st_mode))
			rc = copy_node(sfd, dfd, e->d_name, &st);
	}
	closedir(d);
	return rc;
}

static bool dir_empty(int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	struct dirent *e;
	bool empty = true;
	DIR *d;

	if (dup < 0 || !(d = fdopendir(dup))) {
		if (dup >= 0)
			close(dup);
		return false;
	}
	rewinddir(d);
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* The copy itself, marker first; lock held. */
static int populate_locked(const struct bt_vol *v, const char *name, int src, berth_error **err)
{
	char *data = bt_vol_path(v, name, "_data"), *marker = bt_vol_path(v, name, ".populating"), *dir = bt_vol_path(v, name, NULL);
	int dfd = -1, rc = 0;
	struct stat st;

	if (!data || !marker || !dir) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((dfd = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "opening %s", data);
		goto out;
	}
	if (access(marker, F_OK) == 0) {
		/* a copy was killed halfway: what it left is no volume's data */
		if ((rc = bt_rm_dir_contents(dfd, data, err)) < 0)
			goto out;
	} else if (!dir_empty(dfd) || dir_empty(src)) {
		goto out;
	}
	if ((rc = bt_write_file_atomic(marker, "", 0, 0600, err)) < 0)
		goto out;
	if ((rc = copy_dir(src, dfd, 0)) == 0 && fstat(src, &st) == 0)
		rc = copy_meta(src, dfd, &st);
	if (rc < 0) {
		errno = -rc;
		rc = bt_error_os(err, "copying the image's content into volume %s", name);
		goto out;
	}
	if ((rc = bt_syncfs(data, err)) < 0)
		goto out;
	if (unlink(marker) < 0)
		rc = bt_error_os(err, "removing %s", marker);
	else
		bt_fsync_dir(dir, NULL);
out:
	if (dfd >= 0)
		close(dfd);
	free(data);
	free(marker);
	free(dir);
	return rc;
}

int berth_volume_populate(berth_ctx *ctx, const char *name, const char *rootfs, const char *path,
			  berth_error **err)
{
	struct bt_vol v;
	json_t *rec;
	int rootfd, src = -1, rc;

	if (!rootfs || !path)
		return bt_error_set(err, BERTH_EINVAL, 0, "populate: a root file system and a path are needed");
	if ((rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bt_error_os(err, "opening %s", rootfs);
	rc = bt_path_open(rootfd, path, O_RDONLY | O_DIRECTORY, 0, BT_RESOLVE_IN_ROOT, &src, err);
	close(rootfd);
	if (rc < 0) {
		/* nothing there, or no directory: nothing to copy */
		if (rc != BERTH_ENOTFOUND && rc != BERTH_EOS)
			return rc;
		bt_error_clear(err);
		return 0;
	}
	if ((rc = bt_vol_open(ctx, BT_LOCK_EXCLUSIVE, &v, err)) == 0) {
		if ((rc = bt_vol_load(&v, name, &rec, err)) == 0) {
			rc = populate_locked(&v, name, src, err);
			json_decref(rec);
		}
		bt_vol_close(&v);
	}
	close(src);
	return rc;
}
