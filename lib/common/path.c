/* Paths below a root that must not be left: lexical joins for names we make
 * ourselves, and resolving opens for paths that cross symlinks someone else
 * controls (an image layer, a container's root file system). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#define MAX_SYMLINKS 40 /* as the kernel's own limit */

int bt_path_join(const char *root, const char *rel, char **out, berth_error **err)
{
	size_t rlen = strlen(root), cap = rlen + strlen(rel) + 2, len;
	const char *p = rel;
	char *buf;

	*out = NULL;
	if (!(buf = malloc(cap)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "joining %s to %s: out of memory", rel, root);
	memcpy(buf, root, rlen + 1);
	len = rlen;
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(buf);
			return bt_error_set(err, BERTH_ESCAPE, 0,
					    "path \"%s\": \"..\" is not allowed below %s", rel, root);
		}
		if (len > 0 && buf[len - 1] != '/')
			buf[len++] = '/';
		memcpy(buf + len, p, n);
		len += n;
		buf[len] = '\0';
		p += n;
	}
	*out = buf;
	return 0;
}

static int escape_error(berth_error **err, const char *rel, const char *why)
{
	return bt_error_set(err, BERTH_ESCAPE, EXDEV, "resolving \"%s\": %s leads outside the root",
			    rel, why);
}

struct walk {
	int *dirs;        /* directories walked so far; dirs[0] is the root */
	size_t depth, cap;
};

static int walk_push(struct walk *w, int fd)
{
	if (w->depth + 1 == w->cap) {
		int *bigger = realloc(w->dirs, 2 * w->cap * sizeof(int));
		if (!bigger)
			return -1;
		w->dirs = bigger;
		w->cap *= 2;
	}
	w->dirs[++w->depth] = fd;
	return 0;
}

static void walk_pop_to(struct walk *w, size_t depth)
{
	while (w->depth > depth)
		close(w->dirs[w->depth--]);
}

/* Reads the symlink `name` in dirfd; NULL with errno set on failure. */
static char *read_link(int dirfd, const char *name)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

int bt_path_open_walk(int rootfd, const char *rel, int open_flags, mode_t mode, int resolve,
		      int *fd_out, berth_error **err)
{
	struct walk w = { .dirs = malloc(16 * sizeof(int)), .depth = 0, .cap = 16 };
	char *todo = strdup(rel), *p, *target = NULL;
	int links = 0, rc = 0, fd;

	*fd_out = -1;
	if (!w.dirs || !todo) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "resolving \"%s\": out of memory", rel);
		goto out;
	}
	if ((w.dirs[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3)) < 0) {
		rc = bt_error_os(err, "resolving \"%s\"", rel);
		goto out;
	}
	if (rel[0] == '/' && resolve == BT_RESOLVE_BENEATH) {
		rc = escape_error(err, rel, "an absolute path");
		goto out;
	}
	p = todo;
	for (;;) {
		char *name, *rest;
		bool last;
		struct stat st;
		int top = w.dirs[w.depth];

		while (*p == '/')
			p++;
		if (!*p) { /* the path names a directory we are in */
			fd = openat(top, ".", (open_flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
			if (fd < 0)
				rc = bt_error_os(err, "opening \"%s\"", rel);
			else
				*fd_out = fd;
			break;
		}
		name = p;
		rest = p + strcspn(p, "/");
		if (*rest)
			*rest++ = '\0';
		p = rest;
		while (*rest == '/')
			rest++;
		last = *rest == '\0';

		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (w.depth > 0)
				walk_pop_to(&w, w.depth - 1);
			else if (resolve == BT_RESOLVE_BENEATH) {
				rc = escape_error(err, rel, "\"..\"");
				break;
			}
			continue;
		}
		if (fstatat(top, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (!(errno == ENOENT && last && (open_flags & O_CREAT))) {
				rc = bt_error_os(err, "resolving \"%s\": %s", rel, name);
				break;
			}
			st.st_mode = 0;
		}
		if (S_ISLNK(st.st_mode) && !(last && (open_flags & O_NOFOLLOW))) {
			char *joined;

			if (++links > MAX_SYMLINKS) {
				rc = bt_error_set(err, BERTH_EINVAL, ELOOP,
						  "resolving \"%s\": too many levels of symlinks", rel);
				break;
			}
			free(target);
			if (!(target = read_link(top, name))) {
				rc = bt_error_os(err, "resolving \"%s\": reading symlink %s", rel, name);
				break;
			}
			if (target[0] == '/') {
				if (resolve == BT_RESOLVE_BENEATH) {
					rc = escape_error(err, rel, "an absolute symlink");
					break;
				}
				walk_pop_to(&w, 0);
			}
			if (!(joined = bt_strdup_printf("%s/%s", target, p))) {
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "resolving \"%s\": out of memory", rel);
				break;
			}
			free(todo);
			p = todo = joined;
			continue;
		}
		if (last) {
			/* O_NOFOLLOW: if a symlink appeared since the fstatat, fail rather than follow */
			fd = openat(top, name, open_flags | O_NOFOLLOW | O_CLOEXEC, mode);
			if (fd < 0)
				rc = bt_error_os(err, "opening \"%s\"", rel);
			else
				*fd_out = fd;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = bt_error_set(err, BERTH_EINVAL, ENOTDIR, "resolving \"%s\": %s is not a directory",
					  rel, name);
			break;
		}
		fd = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = bt_error_os(err, "resolving \"%s\": %s", rel, name);
			break;
		}
		if (walk_push(&w, fd) < 0) {
			close(fd);
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "resolving \"%s\": out of memory", rel);
			break;
		}
	}
out:
	if (w.dirs) {
		walk_pop_to(&w, 0);
		if (w.dirs[0] >= 0)
			close(w.dirs[0]);
	}
	free(w.dirs);
	free(todo);
	free(target);
	return rc;
}

int bt_path_open(int rootfd, const char *rel, int open_flags, mode_t mode, int resolve,
		 int *fd_out, berth_error **err)
{
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	struct open_how how = {
		.flags = (unsigned long long)(open_flags | O_CLOEXEC),
		.mode = (open_flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_NO_MAGICLINKS |
			   (resolve == BT_RESOLVE_IN_ROOT ? RESOLVE_IN_ROOT : RESOLVE_BENEATH),
	};
	long fd;
	int tries = 0;

	*fd_out = -1;
	do /* EAGAIN: a rename elsewhere raced the lookup; the kernel asks us to retry */
		fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 16);
	if (fd >= 0) {
		*fd_out = (int)fd;
		return 0;
	}
	if (errno == EXDEV)
		return escape_error(err, rel, "a \"..\", absolute path or symlink");
	if (errno != ENOSYS && errno != EAGAIN && errno != EPERM)
		return bt_error_os(err, "opening \"%s\"", rel);
	/* ENOSYS: an old kernel; EPERM: a seccomp filter that blocks openat2 */
#endif
	return bt_path_open_walk(rootfd, rel, open_flags, mode, resolve, fd_out, err);
}
