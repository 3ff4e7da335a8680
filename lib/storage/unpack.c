/* Extracting one layer. Two libarchive readers in one pass: the first only
 * decompresses (gzip, zstd or nothing, chosen by the caller from media type
 * and magic bytes) and hands its bytes to the digester, the second reads
 * the tar from those bytes. So the diff_id covers the whole uncompressed
 * stream, padding included, and the blob is read once.
 *
 * Every entry is created relative to an fd: its parent directory is opened
 * with bt_path_open(BT_RESOLVE_BENEATH) from the layer root, so a symlink or
 * ".." planted by an earlier entry can never take a later one outside, and
 * the entry itself is made with *at() calls on its base name, never
 * following a symlink already there. */
#include "storage-internal.h"

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

struct dir_time {
	char *path;
	struct timespec mtime;
};

struct unpack {
	const struct bt_unpack_params *p;
	const char *dir;
	int rootfd;
	struct bt_inflater *inf; /* decompresses and hashes, on its own thread */
	struct archive *tar;
	bool canceled;
	int64_t bytes;
	/* the parent directory of the last entry, kept open while entries stay in it */
	char *cached_parent;
	int cached_fd;
	struct dir_time *dirs;
	size_t ndirs, capdirs;
};

/* The tar reader's input: the blocks the decompressing stage hands over
 * (inflate.c). Each stays valid until the next call, as libarchive asks. */
static la_ssize_t tar_input(struct archive *a, void *data, const void **buf)
{
	struct unpack *u = data;
	int64_t consumed = 0;
	ssize_t n;

	(void)a;
	n = bt_inflater_read(u->inf, buf, &consumed);
	if (n > 0 && u->p->progress &&
	    u->p->progress(u->p->what, (long long)consumed, (long long)u->p->blob_size,
			   u->p->progress_userdata)) {
		u->canceled = true;
		return -1;
	}
	return n;
}

static int archive_failure(struct unpack *u, struct archive *a, const char *doing,
			   berth_error **err)
{
	char *why;
	int rc;

	if (u->canceled)
		return bt_error_set(err, BERTH_ECANCELED, 0, "%s: canceled", doing);
	if ((why = bt_inflater_error(u->inf))) { /* the tar ended because its input did */
		rc = bt_error_set(err, BERTH_EINVAL, 0, "decompressing: %s", why);
		free(why);
		return rc;
	}
	return bt_error_set(err, BERTH_EINVAL, bt_ar.errno_(a) > 0 ? bt_ar.errno_(a) : 0,
			    "%s: %s", doing, bt_ar.error_string(a) ? bt_ar.error_string(a) : "unreadable tar");
}

static void drop_cached_parent(struct unpack *u)
{
	if (u->cached_fd >= 0)
		close(u->cached_fd);
	u->cached_fd = -1;
	free(u->cached_parent);
	u->cached_parent = NULL;
}

int bt_unpack_inherit(int rootfd, const char *path, const int *lowerfds, size_t nlower,
		      berth_error **err)
{
	for (size_t i = 0; i < nlower; i++) {
		int lfd, dfd, rc;

		if (bt_path_open(lowerfds[i], path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
				 BT_RESOLVE_BENEATH, &lfd, NULL) < 0)
			continue;
		if ((rc = bt_path_open(rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
				       BT_RESOLVE_BENEATH, &dfd, err)) < 0) {
			close(lfd);
			return rc;
		}
		rc = bt_tree_copy_attrs(lfd, dfd, path, err);
		close(dfd);
		close(lfd);
		return rc;
	}
	return 0;
}

/* A parent directory the layer did not list: owner, mode, xattrs and mtime
 * of the same directory in the topmost lower layer that has it, else 0755
 * root (as docker makes them). Without the lower layers yet (a streamed
 * pull), the directory is only recorded. */
static int inherit_dir(struct unpack *u, const char *path, berth_error **err)
{
	if (u->p->implicit && bt_strv_add(u->p->implicit, strdup(path)) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return bt_unpack_inherit(u->rootfd, path, u->p->lowerfds, u->p->nlower, err);
}

/* Opens directory `path` below the root, creating missing components
 * (inherit_dir). *fd is borrowed from the cache. */
static int open_parent(struct unpack *u, const char *path, int *fd, berth_error **err)
{
	berth_error *e = NULL;
	char *prefix;
	int rc, dfd;

	if (u->cached_parent && !strcmp(u->cached_parent, path)) {
		*fd = u->cached_fd;
		return 0;
	}
	drop_cached_parent(u);
	if (!*path) {
		dfd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
		if (dfd < 0)
			return bt_error_os(err, "opening %s", u->dir);
		rc = 0;
	} else if ((rc = bt_path_open(u->rootfd, path, O_RDONLY | O_DIRECTORY, 0, BT_RESOLVE_BENEATH,
				      &dfd, &e)) == BERTH_ENOTFOUND) {
		/* create it one component at a time, each resolved from the root again */
		berth_error_free(e);
		e = NULL;
		if (!(prefix = strdup(path)))
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		rc = 0;
		for (char *p = prefix;; p++) {
			char saved;
			int pfd;

			if (*p != '/' && *p != '\0')
				continue;
			saved = *p;
			*p = '\0';
			rc = bt_path_open(u->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0, BT_RESOLVE_BENEATH,
					  &pfd, &e);
			if (rc == BERTH_ENOTFOUND) {
				char *slash = strrchr(prefix, '/');
				int parent;

				berth_error_free(e);
				e = NULL;
				if (slash) {
					*slash = '\0';
					rc = bt_path_open(u->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0,
							  BT_RESOLVE_BENEATH, &parent, &e);
					*slash = '/';
				} else {
					parent = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
					rc = parent < 0 ? bt_error_os(&e, "opening %s", u->dir) : 0;
				}
				if (rc == 0) {
					const char *base = slash ? slash + 1 : prefix;
					if (mkdirat(parent, base, 0755) < 0)
						rc = bt_error_os(&e, "creating directory %s", prefix);
					else
						rc = inherit_dir(u, prefix, &e);
					close(parent);
				}
				if (rc == 0)
					rc = bt_path_open(u->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0,
							  BT_RESOLVE_BENEATH, &pfd, &e);
			}
			*p = saved;
			if (rc < 0)
				break;
			if (!saved) {
				dfd = pfd;
				break;
			}
			close(pfd);
		}
		free(prefix);
	}
	if (rc < 0) {
		if (err)
			*err = e;
		else
			berth_error_free(e);
		return rc;
	}
	if (!(u->cached_parent = strdup(path))) {
		close(dfd);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	u->cached_fd = dfd;
	*fd = dfd;
	return 0;
}

/* Makes room for a new entry `base` in pfd: a directory stays when the new
 * entry is one too (1 returned), anything else there goes. */
static int clear_slot(int pfd, const char *base, bool want_dir, berth_error **err)
{
	struct stat st;
	int rc, dfd;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : bt_error_os(err, "looking at %s", base);
	if (S_ISDIR(st.st_mode)) {
		if (want_dir)
			return 1;
		if ((dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return bt_error_os(err, "replacing directory %s", base);
		rc = bt_rm_dir_contents(dfd, base, err);
		close(dfd);
		if (rc < 0)
			return rc;
		if (unlinkat(pfd, base, AT_REMOVEDIR) < 0)
			return bt_error_os(err, "replacing directory %s", base);
		return 0;
	}
	if (unlinkat(pfd, base, 0) < 0)
		return bt_error_os(err, "replacing %s", base);
	return 0;
}

static int set_xattrs(struct unpack *u, struct archive_entry *e, int fd, int pfd,
		      const char *base, berth_error **err)
{
	const char *name;
	const void *value;
	size_t size;
	char proc[64 + NAME_MAX];

	if (bt_ar.entry_xattr_reset(e) == 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", pfd, base);
	while (bt_ar.entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		int r;

		if (bt_xattr_is_overlay(name)) {
			/* overlayfs reads these from lower layers: a layer must not
			 * make its own opaque dirs or redirects except by whiteouts */
			bt_log_debug(NULL, "storage", "%s: dropping xattr %s", u->dir, name);
			continue;
		}
		/* fds of regular files and directories take fsetxattr; for the
		 * rest, the parent's fd path and the base name, never following */
		r = fd >= 0 ? fsetxattr(fd, name, value, size, 0) : lsetxattr(proc, name, value, size, 0);
		if (r < 0)
			return bt_error_os(err, "setting xattr %s", name);
	}
	return 0;
}

/* Owner, mode, xattrs and mtime, in that order: chown clears setuid bits and
 * security.capability, so both come after it. */
static int set_meta(struct unpack *u, struct archive_entry *e, int fd, int pfd, const char *base,
		    bool is_link, berth_error **err)
{
	uid_t uid = (uid_t)bt_ar.entry_uid(e);
	gid_t gid = (gid_t)bt_ar.entry_gid(e);
	mode_t perm = bt_ar.entry_perm(e) & 07777;
	struct timespec ts[2];
	int rc;

	if ((fd >= 0 ? fchown(fd, uid, gid) : fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW)) < 0)
		return bt_error_os(err, "setting owner %u:%u", (unsigned)uid, (unsigned)gid);
	if (!is_link && (fd >= 0 ? fchmod(fd, perm) : fchmodat(pfd, base, perm, 0)) < 0)
		return bt_error_os(err, "setting mode %04o", (unsigned)perm);
	if ((rc = set_xattrs(u, e, fd, pfd, base, err)) < 0)
		return rc;
	ts[0].tv_sec = ts[1].tv_sec = bt_ar.entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = bt_ar.entry_mtime_nsec(e);
	if ((fd >= 0 ? futimens(fd, ts) : utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW)) < 0)
		return bt_error_os(err, "setting mtime");
	return 0;
}

static int write_file(struct unpack *u, struct archive_entry *e, int pfd, const char *base,
		      berth_error **err)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(pfd, base, flags, 0600);
	la_int64_t size = bt_ar.entry_size(e), offset, end = 0;
	const void *buf;
	size_t len;
	int r, rc = 0;

	/* the slot is cleared only when something is there: in a new layer
	 * almost nothing is, and a look first costs a syscall per file */
	if (fd < 0 && errno == EEXIST) {
		if ((rc = clear_slot(pfd, base, false, err)) < 0)
			return rc;
		fd = openat(pfd, base, flags, 0600);
	}
	if (fd < 0)
		return bt_error_os(err, "creating file");
	/* blocks at their offsets, so sparse entries stay sparse */
	while ((r = bt_ar.read_data_block(u->tar, &buf, &len, &offset)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		const char *p = buf;
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, offset);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = bt_error_os(err, "writing file");
				goto out;
			}
			p += n;
			len -= (size_t)n;
			offset += n;
		}
		end = offset > end ? offset : end;
	}
	if (r != ARCHIVE_EOF) {
		rc = archive_failure(u, u->tar, "reading file data", err);
		goto out;
	}
	/* only a sparse file's trailing hole needs it */
	if (end != size && ftruncate(fd, size) < 0) {
		rc = bt_error_os(err, "writing file");
		goto out;
	}
	u->bytes += size;
	rc = set_meta(u, e, fd, pfd, base, false, err);
out:
	close(fd);
	return rc;
}

static int remember_dir(struct unpack *u, const char *path, struct archive_entry *e)
{
	struct dir_time *bigger = bt_grow(u->dirs, u->ndirs, &u->capdirs, sizeof(*bigger), 64);

	if (!bigger)
		return -1;
	u->dirs = bigger;
	if (!(u->dirs[u->ndirs].path = strdup(path)))
		return -1;
	u->dirs[u->ndirs].mtime.tv_sec = bt_ar.entry_mtime(e);
	u->dirs[u->ndirs].mtime.tv_nsec = bt_ar.entry_mtime_nsec(e);
	u->ndirs++;
	return 0;
}

static int make_dir(struct unpack *u, struct archive_entry *e, const char *path, int pfd,
		    const char *base, berth_error **err)
{
	int fd, rc;

	if (!*base) { /* the layer root itself ("./") */
		fd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
	} else {
		/* as for files: the slot is looked at only when taken */
		if (mkdirat(pfd, base, 0700) < 0) {
			if (errno != EEXIST)
				return bt_error_os(err, "creating directory");
			if ((rc = clear_slot(pfd, base, true, err)) < 0)
				return rc;
			if (rc == 0 && mkdirat(pfd, base, 0700) < 0)
				return bt_error_os(err, "creating directory");
		}
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return bt_error_os(err, "opening directory");
	rc = set_meta(u, e, fd, pfd, base, false, err);
	close(fd);
	if (rc == 0 && remember_dir(u, path, e) < 0)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return rc;
}

static int make_hardlink(struct unpack *u, const char *target, int pfd, const char *base,
			 berth_error **err)
{
	char *clean, *slash;
	const char *tbase;
	int rc, tfd;

	if ((rc = bt_layer_entry_name(target, &clean, err)) < 0)
		return bt_error_wrap(err, rc, "hardlink target");
	if (!*clean) {
		free(clean);
		return bt_error_set(err, BERTH_EINVAL, 0, "hardlink to the layer root");
	}
	slash = strrchr(clean, '/');
	if (slash) {
		*slash = '\0';
		tbase = slash + 1;
		rc = bt_path_open(u->rootfd, clean, O_PATH | O_DIRECTORY, 0, BT_RESOLVE_BENEATH, &tfd,
				  err);
	} else {
		tbase = clean;
		tfd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
		rc = tfd < 0 ? bt_error_os(err, "opening %s", u->dir) : 0;
	}
	if (rc == 0 && (rc = clear_slot(pfd, base, false, err)) == 0 &&
	    linkat(tfd, tbase, pfd, base, 0) < 0) /* no AT_SYMLINK_FOLLOW: a symlink is linked itself */
		rc = bt_error_os(err, "linking to \"%s\"", target);
	if (tfd >= 0)
		close(tfd);
	free(clean);
	return rc < 0 ? bt_error_wrap(err, rc, "hardlink to \"%.200s\"", target) : 0;
}

static int whiteout(struct unpack *u, int kind, const char *target, int pfd, berth_error **err)
{
	int rc;

	if (kind == BT_WHITEOUT_OPAQUE) {
		if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return bt_error_os(err, "marking the directory opaque");
		return 0;
	}
	if ((rc = clear_slot(pfd, target, false, err)) < 0)
		return rc;
	if (mknodat(pfd, target, S_IFCHR, makedev(0, 0)) < 0)
		return bt_error_os(err, "creating the whiteout of %s", target);
	return 0;
}

static int extract_entry(struct unpack *u, struct archive_entry *e, berth_error **err)
{
	const char *raw = bt_ar.entry_pathname(e), *base, *wh_target, *hardlink;
	char *path = NULL, *parent;
	mode_t type = bt_ar.entry_filetype(e);
	int rc, pfd = -1, kind;

	if (!raw)
		return bt_error_set(err, BERTH_EINVAL, 0, "an entry without a name");
	if ((rc = bt_layer_entry_name(raw, &path, err)) < 0)
		return rc;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if ((kind = bt_whiteout_kind(base, &wh_target, err)) < 0) {
		free(path);
		return kind;
	}
	parent = strndup(path, (size_t)(base - path > 0 ? base - path - 1 : 0));
	if (!parent) {
		free(path);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	if ((rc = open_parent(u, parent, &pfd, err)) < 0) {
		rc = bt_error_wrap(err, rc, "entry \"%.200s\"", raw);
		goto out;
	}
	hardlink = bt_ar.entry_hardlink(e);
	if (kind != BT_WHITEOUT_NONE)
		rc = whiteout(u, kind, wh_target, pfd, err);
	else if (hardlink)
		rc = make_hardlink(u, hardlink, pfd, base, err);
	else if (type == AE_IFREG)
		rc = write_file(u, e, pfd, base, err);
	else if (type == AE_IFDIR)
		rc = make_dir(u, e, path, pfd, *path ? base : "", err);
	else if (type == AE_IFLNK) {
		const char *target = bt_ar.entry_symlink(e);

		/* any target is allowed: a symlink is only text until something
		 * resolves it, and resolving is always done beneath the root */
		if ((rc = clear_slot(pfd, base, false, err)) == 0) {
			if (!target || strlen(target) >= PATH_MAX)
				rc = bt_error_set(err, BERTH_EINVAL, 0, "symlink target missing or too long");
			else if (symlinkat(target, pfd, base) < 0)
				rc = bt_error_os(err, "creating symlink");
			else
				rc = set_meta(u, e, -1, pfd, base, true, err);
		}
	} else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO) {
		dev_t dev = makedev(bt_ar.entry_rdevmajor(e), bt_ar.entry_rdevminor(e));

		if (type != AE_IFIFO && u->p->no_devices)
			rc = bt_error_set(err, BERTH_EPERM, 0, "device nodes are not allowed");
		else if ((rc = clear_slot(pfd, base, false, err)) == 0) {
			if (mknodat(pfd, base, type | (bt_ar.entry_perm(e) & 07777), type == AE_IFIFO ? 0 : dev) < 0)
				rc = bt_error_os(err, "creating %s", type == AE_IFIFO ? "fifo" : "device node");
			else
				rc = set_meta(u, e, -1, pfd, base, false, err);
		}
	} else {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "unsupported entry type 0%o", (unsigned)type);
	}
	/* anything but a file may have replaced a directory on the cached
	 * parent's path: resolve again for the next entry */
	if (kind != BT_WHITEOUT_NONE || hardlink || type != AE_IFREG)
		drop_cached_parent(u);
	if (rc < 0)
		bt_error_wrap(err, rc, "entry \"%.200s\"", raw);
out:
	free(parent);
	free(path);
	return rc;
}

static int restore_dir_times(struct unpack *u, berth_error **err)
{
	/* children change their directory's mtime, so directories get theirs last */
	for (size_t i = u->ndirs; i-- > 0;) {
		int fd, rc;
		struct timespec ts[2] = { u->dirs[i].mtime, u->dirs[i].mtime };

		if (!*u->dirs[i].path)
			fd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3), rc = fd < 0 ? -1 : 0;
		else
			rc = bt_path_open(u->rootfd, u->dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
					  BT_RESOLVE_BENEATH, &fd, NULL);
		if (rc < 0)
			continue; /* replaced by a later entry */
		if (futimens(fd, ts) < 0) {
			rc = bt_error_os(err, "setting the mtime of %s", u->dirs[i].path);
			close(fd);
			return rc;
		}
		close(fd);
	}
	return 0;
}

int bt_unpack_layer(int dirfd, const char *dir, const struct bt_unpack_params *p,
		    char diff_id[BT_DIGEST_MAX], int64_t *bytes, berth_error **err)
{
	struct unpack u = { .p = p, .dir = dir, .rootfd = dirfd, .cached_fd = -1 };
	struct archive_entry *e;
	char got[BT_DIGEST_MAX];
	int rc, r;

	if ((rc = bt_archive_load(err)) < 0)
		return bt_error_wrap(err, rc, "unpacking layer %s into %s", p->what, dir);
	if (!(u.tar = bt_ar.read_new())) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	bt_ar.read_support_format_tar(u.tar);
	if ((rc = bt_inflater_start(p, &u.inf, err)) < 0)
		goto out;
	if (bt_ar.read_open(u.tar, &u, NULL, tar_input, NULL) != ARCHIVE_OK) {
		rc = archive_failure(&u, u.tar, "reading the tar", err);
		goto out;
	}
	while ((r = bt_ar.read_next_header(u.tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
		if ((rc = extract_entry(&u, e, err)) < 0)
			goto out;
	if (r != ARCHIVE_EOF) {
		rc = archive_failure(&u, u.tar, "reading the tar", err);
		goto out;
	}
	/* hashing goes on to the end of the stream: what follows the
	 * end-of-archive blocks is part of the diff_id too */
	rc = bt_inflater_finish(u.inf, true, got, err);
	u.inf = NULL;
	if (rc < 0)
		goto out;
	if (p->diff_id && strcmp(got, p->diff_id)) {
		rc = bt_error_set(err, BERTH_EINTEGRITY, 0,
				  "the uncompressed layer has digest %s, the image config says %s", got,
				  p->diff_id);
		goto out;
	}
	if ((rc = restore_dir_times(&u, err)) < 0)
		goto out;
	if (diff_id)
		memcpy(diff_id, got, BT_DIGEST_MAX);
	if (bytes)
		*bytes = u.bytes;
out:
	bt_inflater_finish(u.inf, false, NULL, NULL);
	drop_cached_parent(&u);
	for (size_t i = 0; i < u.ndirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	if (u.tar)
		bt_ar.read_free(u.tar);
	return rc < 0 ? bt_error_wrap(err, rc, "unpacking layer %s into %s", p->what, dir) : 0;
}
