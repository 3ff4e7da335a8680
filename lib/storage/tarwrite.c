/* Writing tars with libarchive (pax, so xattrs and long names survive):
 * diffs and exports. Entries are read through fds of their directory, never
 * by following a symlink. */
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

struct bt_tar_writer {
	struct archive *a;
	struct archive_entry *e;
	struct bt_hardlinks links;
};

static int tar_error(bt_tar_writer *w, const char *doing, const char *path, berth_error **err)
{
	int e = bt_ar.errno_(w->a);

	return bt_error_set(err, BERTH_EOS, e > 0 ? e : 0, "%s %s: %s", doing, path,
			    bt_ar.error_string(w->a) ? bt_ar.error_string(w->a) : "write failed");
}

int bt_tar_writer_new(int fd, bt_tar_writer **out, berth_error **err)
{
	bt_tar_writer *w;
	int rc;

	*out = NULL;
	if ((rc = bt_archive_load(err)) < 0)
		return rc;
	if (!(w = calloc(1, sizeof(*w))) || !(w->a = bt_ar.write_new()) || !(w->e = bt_ar.entry_new())) {
		bt_tar_writer_abort(w);
		return bt_error_set(err, BERTH_ENOMEM, 0, "writing a tar: out of memory");
	}
	if (bt_ar.write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    bt_ar.write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    bt_ar.write_open_fd(w->a, fd) != ARCHIVE_OK) {
		rc = tar_error(w, "opening", "a tar", err);
		bt_tar_writer_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

void bt_tar_writer_abort(bt_tar_writer *w)
{
	if (!w)
		return;
	if (w->a)
		bt_ar.write_free(w->a);
	if (w->e)
		bt_ar.entry_free(w->e);
	bt_hardlinks_free(&w->links);
	free(w);
}

int bt_tar_writer_finish(bt_tar_writer *w, berth_error **err)
{
	int rc = 0;

	if (bt_ar.write_close(w->a) != ARCHIVE_OK)
		rc = tar_error(w, "finishing", "the tar", err);
	bt_tar_writer_abort(w);
	return rc;
}

static int add_xattr(const char *key, const void *value, size_t len, void *data,
		     berth_error **err)
{
	(void)err;
	bt_ar.entry_xattr_add_entry(data, key, value, len);
	return 0;
}

int bt_tar_add(bt_tar_writer *w, int dirfd, const char *name, const char *path,
	       const struct stat *st, berth_error **err)
{
	struct archive_entry *e = w->e;
	const char *first = NULL;
	int rc, fd = -1;

	bt_ar.entry_clear(e);
	bt_ar.entry_set_pathname(e, path);
	bt_ar.entry_set_filetype(e, st->st_mode & S_IFMT);
	bt_ar.entry_set_perm(e, st->st_mode & 07777);
	bt_ar.entry_set_uid(e, st->st_uid);
	bt_ar.entry_set_gid(e, st->st_gid);
	bt_ar.entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		if ((first = bt_hardlinks_find(&w->links, st))) { /* the inode went in already: a hardlink entry, no data */
			bt_ar.entry_set_hardlink(e, first);
			bt_ar.entry_set_size(e, 0);
			if (bt_ar.write_header(w->a, e) < ARCHIVE_WARN)
				return tar_error(w, "writing", path, err);
			return 0;
		}
		if (bt_hardlinks_add(&w->links, st, path) < 0)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

		if (n < 0)
			return bt_error_os(err, "reading symlink %s", path);
		target[n] = '\0';
		bt_ar.entry_set_symlink(e, target);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		bt_ar.entry_set_rdevmajor(e, major(st->st_rdev));
		bt_ar.entry_set_rdevminor(e, minor(st->st_rdev));
	} else if (S_ISREG(st->st_mode)) {
		bt_ar.entry_set_size(e, st->st_size);
		if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return bt_error_os(err, "opening %s", path);
	}
	if ((rc = bt_xattrs_each(dirfd, name, add_xattr, e, err)) < 0)
		goto out;
	if (bt_ar.write_header(w->a, e) < ARCHIVE_WARN) {
		rc = tar_error(w, "writing", path, err);
		goto out;
	}
	if (fd >= 0) {
		char buf[65536];
		ssize_t n;
		off_t left = st->st_size;

		/* exactly the size in the header, even if the file changes meanwhile */
		while (left > 0 && (n = read(fd, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf))) > 0) {
			if (bt_ar.write_data(w->a, buf, (size_t)n) != n) {
				rc = tar_error(w, "writing", path, err);
				goto out;
			}
			left -= n;
		}
		if (left > 0) {
			rc = bt_error_set(err, BERTH_EOS, 0, "reading %s: it shrank while being written", path);
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int bt_tar_add_marker(bt_tar_writer *w, const char *path, berth_error **err)
{
	bt_ar.entry_clear(w->e);
	bt_ar.entry_set_pathname(w->e, path);
	bt_ar.entry_set_filetype(w->e, AE_IFREG);
	bt_ar.entry_set_perm(w->e, 0);
	bt_ar.entry_set_size(w->e, 0);
	if (bt_ar.write_header(w->a, w->e) < ARCHIVE_WARN)
		return tar_error(w, "writing", path, err);
	return 0;
}

int bt_tar_add_tree(bt_tar_writer *w, int dirfd, const char *prefix, berth_error **err)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3), rc = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		rc = bt_error_os(err, "listing %s", *prefix ? prefix : "/");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;
		char *path;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = bt_error_os(err, "looking at %s/%s", prefix, de->d_name);
			break;
		}
		if (!(path = *prefix ? bt_strdup_printf("%s/%s", prefix, de->d_name) : strdup(de->d_name))) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			break;
		}
		rc = bt_tar_add(w, dirfd, de->d_name, path, &st, err);
		if (rc == 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				rc = bt_error_os(err, "opening %s", path);
			else {
				rc = bt_tar_add_tree(w, sub, path, err);
				close(sub);
			}
		}
		free(path);
	}
	if (rc == 0 && errno)
		rc = bt_error_os(err, "listing %s", prefix);
	closedir(d);
	return rc;
}
