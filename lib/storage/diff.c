/* A snapshot's changes as an OCI layer tar. Overlay: the upper directory
 * holds exactly the changes (whiteouts as 0/0 character devices, opaque
 * directories by xattr), turned into OCI entries. Copy: the copy is
 * compared with a fresh copy of the image, entry by entry. */
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

static char *join(const char *dir, const char *name)
{
	return *dir ? bt_strdup_printf("%s/%s", dir, name) : strdup(name);
}

static int list_dir(int dirfd, struct bt_strv *names, berth_error **err)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		int rc = bt_error_os(err, "listing a directory");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    bt_strv_add(names, strdup(de->d_name)) < 0) {
			closedir(d);
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
	closedir(d);
	return 0;
}

/* ---- overlay: the upper directory ---------------------------------------- */

static int upper_walk(bt_tar_writer *w, int dirfd, const char *rel, berth_error **err)
{
	struct bt_strv names = { 0 };
	int rc;

	if ((rc = list_dir(dirfd, &names, err)) < 0)
		goto out;
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		const char *name = names.v[i];
		char *path = join(rel, name), *marker = NULL;
		struct stat st;

		if (!path) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			break;
		}
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = bt_error_os(err, "looking at %s", path);
		} else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
			if (!(marker = bt_strdup_printf("%s%s.wh.%s", rel, *rel ? "/" : "", name)))
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			else
				rc = bt_tar_add_marker(w, marker, err);
		} else if ((rc = bt_tar_add(w, dirfd, name, path, &st, err)) == 0 && S_ISDIR(st.st_mode)) {
			char proc[64 + NAME_MAX], v[2];
			int sub;

			snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, name);
			if (lgetxattr(proc, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y') {
				if (!(marker = bt_strdup_printf("%s/.wh..wh..opq", path)))
					rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
				else
					rc = bt_tar_add_marker(w, marker, err);
			}
			if (rc == 0 && (sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				rc = bt_error_os(err, "opening %s", path);
			else if (rc == 0) {
				rc = upper_walk(w, sub, path, err);
				close(sub);
			}
		}
		free(marker);
		free(path);
	}
out:
	bt_strv_free(names.v, names.n);
	return rc;
}

/* ---- copy: two trees compared ---------------------------------------------- */

static bool same_xattrs(int afd, int bfd, const char *name)
{
	char pa[64 + NAME_MAX], pb[64 + NAME_MAX], la[65536], lb[65536], va[4096], vb[4096];
	ssize_t na, nb;

	snprintf(pa, sizeof(pa), "/proc/self/fd/%d/%s", afd, name);
	snprintf(pb, sizeof(pb), "/proc/self/fd/%d/%s", bfd, name);
	na = llistxattr(pa, la, sizeof(la));
	nb = llistxattr(pb, lb, sizeof(lb));
	if (na != nb || na < 0)
		return na == nb;
	for (char *x = la; x < la + na; x += strlen(x) + 1) {
		ssize_t a = lgetxattr(pa, x, va, sizeof(va)), b = lgetxattr(pb, x, vb, sizeof(vb));
		if (a != b || (a > 0 && memcmp(va, vb, (size_t)a)))
			return false;
	}
	return true;
}

static bool same_content(int afd, int bfd, const char *name)
{
	int a = openat(afd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int b = openat(bfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char ba[65536], bb[65536];
	bool same = a >= 0 && b >= 0;

	while (same) {
		ssize_t na = read(a, ba, sizeof(ba)), nb = read(b, bb, sizeof(bb));
		if (na != nb || na < 0 || memcmp(ba, bb, (size_t)na))
			same = false;
		else if (na == 0)
			break;
	}
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return same;
}

/* Whether entry name is the same in both trees (type, owner, mode, size,
 * content, link target, device, xattrs; the directory's children apart). */
static bool same_entry(int newfd, int oldfd, const char *name, const struct stat *n,
		       const struct stat *o)
{
	if ((n->st_mode & S_IFMT) != (o->st_mode & S_IFMT) || n->st_mode != o->st_mode ||
	    n->st_uid != o->st_uid || n->st_gid != o->st_gid || !same_xattrs(newfd, oldfd, name))
		return false;
	if (S_ISDIR(n->st_mode))
		return true;
	if (n->st_mtim.tv_sec != o->st_mtim.tv_sec || n->st_mtim.tv_nsec != o->st_mtim.tv_nsec)
		return false;
	if (S_ISREG(n->st_mode))
		return n->st_size == o->st_size && same_content(newfd, oldfd, name);
	if (S_ISLNK(n->st_mode)) {
		char a[PATH_MAX], b[PATH_MAX];
		ssize_t na = readlinkat(newfd, name, a, sizeof(a)), nb = readlinkat(oldfd, name, b, sizeof(b));
		return na == nb && na >= 0 && !memcmp(a, b, (size_t)na);
	}
	return n->st_rdev == o->st_rdev;
}

static int tree_walk(bt_tar_writer *w, int newfd, int oldfd, const char *rel, berth_error **err)
{
	struct bt_strv names = { 0 }, old = { 0 };
	int rc;

	if ((rc = list_dir(newfd, &names, err)) < 0 || (oldfd >= 0 && (rc = list_dir(oldfd, &old, err)) < 0))
		goto out;
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		const char *name = names.v[i];
		char *path = join(rel, name);
		struct stat n, o;
		bool have_old = oldfd >= 0 && fstatat(oldfd, name, &o, AT_SYMLINK_NOFOLLOW) == 0;

		if (!path) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			break;
		}
		if (fstatat(newfd, name, &n, AT_SYMLINK_NOFOLLOW) < 0)
			rc = bt_error_os(err, "looking at %s", path);
		else if (!have_old || !same_entry(newfd, oldfd, name, &n, &o))
			rc = bt_tar_add(w, newfd, name, path, &n, err);
		if (rc == 0 && S_ISDIR(n.st_mode)) {
			int sub = openat(newfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), osub = -1;

			if (have_old && S_ISDIR(o.st_mode))
				osub = openat(oldfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				rc = bt_error_os(err, "opening %s", path);
			else
				rc = tree_walk(w, sub, osub, path, err);
			if (sub >= 0)
				close(sub);
			if (osub >= 0)
				close(osub);
		}
		free(path);
	}
	/* what the image has and the copy lost */
	for (size_t i = 0; i < old.n && rc == 0; i++) {
		struct stat st;
		char *marker;

		if (fstatat(newfd, old.v[i], &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			continue;
		if (!(marker = bt_strdup_printf("%s%s.wh.%s", rel, *rel ? "/" : "", old.v[i])))
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		else
			rc = bt_tar_add_marker(w, marker, err);
		free(marker);
	}
out:
	bt_strv_free(names.v, names.n);
	bt_strv_free(old.v, old.n);
	return rc;
}

/* A fresh copy of the image's layers in a temp dir below the snapshot. */
static int image_copy(const struct bt_snapshot *s, char **dir, int *fd, berth_error **err)
{
	int rc = 0;

	*fd = -1;
	if (!(*dir = bt_strdup_printf("%s/.diffbase-XXXXXX", s->dir)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (!mkdtemp(*dir)) {
		rc = bt_error_os(err, "creating %s", *dir);
		free(*dir);
		*dir = NULL;
		return rc;
	}
	if ((*fd = open(*dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bt_error_os(err, "opening %s", *dir);
	for (size_t i = 0; i < s->layers.n && rc == 0; i++) {
		char *diff = bt_strdup_printf("%s/diff", s->layers.dirs[i]);
		int lfd = diff ? open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

		rc = lfd < 0 ? bt_error_os(err, "opening layer %s", s->layers.chain[i])
			     : bt_tree_apply_layer(lfd, *fd, diff, err);
		if (lfd >= 0)
			close(lfd);
		free(diff);
	}
	return rc;
}

int berth_snapshot_diff(berth_ctx *ctx, const char *id, int fd, berth_error **err)
{
	struct bt_snapshot s;
	bt_tar_writer *w = NULL;
	char *dir = NULL, *base = NULL;
	int dfd = -1, basefd = -1, rc;

	if ((rc = bt_snapshot_load(ctx, id, &s, err)) < 0)
		return rc;
	if (!(dir = bt_strdup_printf("%s/%s", s.dir, s.driver == BERTH_SNAPSHOT_COPY ? "rootfs" : "upper"))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "opening %s", dir);
		goto out;
	}
	if (s.driver == BERTH_SNAPSHOT_COPY && (rc = image_copy(&s, &base, &basefd, err)) < 0)
		goto out;
	if ((rc = bt_tar_writer_new(fd, &w, err)) < 0)
		goto out;
	rc = s.driver == BERTH_SNAPSHOT_COPY ? tree_walk(w, dfd, basefd, "", err)
					     : upper_walk(w, dfd, "", err);
	if (rc == 0) {
		rc = bt_tar_writer_finish(w, err);
		w = NULL;
	}
out:
	bt_tar_writer_abort(w);
	if (dfd >= 0)
		close(dfd);
	if (basefd >= 0)
		close(basefd);
	if (base)
		bt_rm_rf(base, NULL);
	free(base);
	free(dir);
	bt_snapshot_clear(&s);
	return rc < 0 ? bt_error_wrap(err, rc, "writing the changes of snapshot %s", id) : 0;
}
