/* Directory trees through fds: applying a layer onto a copy (the copy
 * driver, and diffs of copies), sizing. Only our own layer
 * directories and snapshot copies are walked here, never paths from a
 * layer's text, and nothing ever follows a symlink. */
#include "storage-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Removes the entry name of dirfd whatever it is. */
static int remove_entry(int dirfd, const char *name, const char *what, berth_error **err)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : bt_error_os(err, "removing %s/%s", what, name);
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 ? bt_error_os(err, "removing %s/%s", what, name) : 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bt_error_os(err, "removing %s/%s", what, name);
	rc = bt_rm_dir_contents(fd, what, err);
	close(fd);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		rc = bt_error_os(err, "removing %s/%s", what, name);
	return rc;
}

int bt_xattrs_each(int dirfd, const char *name, bt_xattr_fn fn, void *data, berth_error **err)
{
	char path[64 + NAME_MAX], names[65536], value[65536];
	ssize_t n;
	int rc;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
	if ((n = llistxattr(path, names, sizeof(names))) < 0)
		return errno == ENOTSUP ? 0 : bt_error_os(err, "listing the xattrs of %s", name);
	for (char *x = names; x < names + n; x += strlen(x) + 1) {
		ssize_t len;

		if (bt_xattr_is_overlay(x))
			continue;
		if ((len = lgetxattr(path, x, value, sizeof(value))) < 0)
			return bt_error_os(err, "reading xattr %s of %s", x, name);
		if ((rc = fn(x, value, (size_t)len, data, err)) < 0)
			return rc;
	}
	return 0;
}

static int set_one(const char *key, const void *value, size_t len, void *data, berth_error **err)
{
	if (lsetxattr(data, key, value, len, 0) < 0)
		return bt_error_os(err, "setting xattr %s on %s", key, (const char *)data);
	return 0;
}

/* Copies every xattr but overlayfs' own from (sfd, sname) to (dfd, dname). */
static int copy_xattrs(int sfd, const char *sname, int dfd, const char *dname, berth_error **err)
{
	char dst[64 + NAME_MAX];

	snprintf(dst, sizeof(dst), "/proc/self/fd/%d/%s", dfd, dname);
	return bt_xattrs_each(sfd, sname, set_one, dst, err);
}

int bt_tree_copy_attrs(int srcfd, int dstfd, const char *what, berth_error **err)
{
	struct stat st;
	int rc;

	if (fstat(srcfd, &st) < 0)
		return bt_error_os(err, "reading the attributes of %s", what);
	if (fchown(dstfd, st.st_uid, st.st_gid) < 0 || fchmod(dstfd, st.st_mode & 07777) < 0)
		return bt_error_os(err, "setting the attributes of %s", what);
	if ((rc = copy_xattrs(srcfd, ".", dstfd, ".", err)) < 0)
		return rc;
	if (futimens(dstfd, (struct timespec[2]){ st.st_atim, st.st_mtim }) < 0)
		return bt_error_os(err, "setting the mtime of %s", what);
	return 0;
}

static int copy_meta(int sfd, const char *name, int dfd, const struct stat *st, berth_error **err)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	int rc;

	if (fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return bt_error_os(err, "setting the owner of %s", name);
	if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
		return bt_error_os(err, "setting the mode of %s", name);
	if ((rc = copy_xattrs(sfd, name, dfd, name, err)) < 0)
		return rc;
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return bt_error_os(err, "setting the mtime of %s", name);
	return 0;
}

static int copy_data(int sfd, const char *name, int dfd, berth_error **err)
{
	int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = 0;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return bt_error_os(err, "opening %s", name);
	if ((out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		rc = bt_error_os(err, "creating %s", name);
		goto out;
	}
	/* copy_file_range shares extents where the file system can */
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n < 0) {
		if (lseek(in, 0, SEEK_SET) < 0 || ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0) {
			rc = bt_error_os(err, "copying %s", name);
			goto out;
		}
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
		if (n < 0)
			rc = bt_error_os(err, "copying %s", name);
	}
out:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

/* Hardlinked files met in one pass: the first copy's path below the root. */
struct links {
	struct bt_hardlinks seen;
	int rootfd;
};

static int apply_dir(struct links *l, int sfd, int dfd, const char *rel, berth_error **err)
{
	int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3), rc = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		rc = bt_error_os(err, "listing %s", rel);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		char *path;
		struct stat st, dst;
		char opq[2];

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = bt_error_os(err, "looking at %s/%s", rel, name);
			break;
		}
		if (!(path = *rel ? bt_strdup_printf("%s/%s", rel, name) : strdup(name))) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			break;
		}
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) { /* a whiteout */
			rc = remove_entry(dfd, name, rel, err);
		} else if (S_ISDIR(st.st_mode)) {
			int s2, d2;
			bool have = fstatat(dfd, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
			char proc[64 + NAME_MAX];

			snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", sfd, name);
			if (have && !S_ISDIR(dst.st_mode)) {
				have = false;
				rc = remove_entry(dfd, name, rel, err);
			}
			if (rc == 0 && !have && mkdirat(dfd, name, 0700) < 0)
				rc = bt_error_os(err, "creating %s", path);
			if (rc == 0 && (s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
				if ((d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
					rc = bt_error_os(err, "opening %s", path);
				/* an opaque directory hides everything below it */
				else if (have && lgetxattr(proc, "trusted.overlay.opaque", opq, sizeof(opq)) == 1 &&
					 opq[0] == 'y')
					rc = bt_rm_dir_contents(d2, path, err);
				if (rc == 0 && d2 >= 0)
					rc = apply_dir(l, s2, d2, path, err);
				if (d2 >= 0)
					close(d2);
				close(s2);
			} else if (rc == 0) {
				rc = bt_error_os(err, "opening %s", path);
			}
			if (rc == 0)
				rc = copy_meta(sfd, name, dfd, &st, err);
		} else if ((rc = remove_entry(dfd, name, rel, err)) == 0) {
			const char *first = st.st_nlink > 1 ? bt_hardlinks_find(&l->seen, &st) : NULL;

			if (first) {
				if (linkat(l->rootfd, first, dfd, name, 0) < 0)
					rc = bt_error_os(err, "linking %s to %s", path, first);
			} else {
				if (S_ISREG(st.st_mode)) {
					rc = copy_data(sfd, name, dfd, err);
				} else if (S_ISLNK(st.st_mode)) {
					char target[PATH_MAX];
					ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);

					if (n < 0)
						rc = bt_error_os(err, "reading symlink %s", path);
					else if (target[n] = '\0', symlinkat(target, dfd, name) < 0)
						rc = bt_error_os(err, "creating symlink %s", path);
				} else if (mknodat(dfd, name, st.st_mode & (S_IFMT | 07777), st.st_rdev) < 0) {
					rc = bt_error_os(err, "creating %s", path);
				}
				if (rc == 0)
					rc = copy_meta(sfd, name, dfd, &st, err);
				if (rc == 0 && st.st_nlink > 1 && bt_hardlinks_add(&l->seen, &st, path) < 0)
					rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			}
		}
		free(path);
	}
	if (rc == 0 && errno)
		rc = bt_error_os(err, "listing %s", rel);
	closedir(d);
	return rc;
}

int bt_tree_apply_layer(int srcfd, int dstfd, const char *src, berth_error **err)
{
	struct links l = { .rootfd = dstfd };
	int rc = apply_dir(&l, srcfd, dstfd, "", err);

	/* the root's own attributes come from the topmost layer, as in overlayfs */
	if (rc == 0)
		rc = bt_tree_copy_attrs(srcfd, dstfd, src, err);
	bt_hardlinks_free(&l.seen);
	return rc < 0 ? bt_error_wrap(err, rc, "copying layer %s", src) : 0;
}

