/* File helpers: directories, whole-file reads, crash-safe writes, removal. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef BERTH_TEST_HOOKS
void (*bt_test_hook_before_rename)(const char *tmp_path);
#endif

int bt_mkdir_p(const char *path, mode_t mode, berth_error **err)
{
	char *copy = strdup(path);
	struct stat st;
	int rc = 0;

	if (!copy)
		return bt_error_set(err, BERTH_ENOMEM, 0, "creating %s: out of memory", path);
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			rc = bt_error_os(err, "creating directory %s", copy);
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	if (rc == 0 && stat(path, &st) < 0)
		rc = bt_error_os(err, "creating directory %s", path);
	else if (rc == 0 && !S_ISDIR(st.st_mode))
		rc = bt_error_set(err, BERTH_EEXISTS, ENOTDIR,
				  "creating directory %s: a file that is not a directory is there", path);
	free(copy);
	return rc;
}

int bt_read_file(const char *path, size_t max, char **out, size_t *len, berth_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t cap, used = 0;
	char *buf;
	ssize_t n;

	*out = NULL;
	if (fd < 0)
		return bt_error_os(err, "opening %s", path);
	if (fstat(fd, &st) < 0) {
		int rc = bt_error_os(err, "reading %s", path);
		close(fd);
		return rc;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		close(fd);
		return bt_error_set(err, BERTH_EINVAL, 0, "reading %s: %lld bytes, more than the %zu allowed",
				    path, (long long)st.st_size, max);
	}
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	if (!(buf = malloc(cap))) {
		close(fd);
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading %s: out of memory", path);
	}
	for (;;) {
		if (used + 1 >= cap) {
			char *bigger;
			if (used >= max + 1)
				break;
			cap *= 2;
			if (!(bigger = realloc(buf, cap))) {
				free(buf);
				close(fd);
				return bt_error_set(err, BERTH_ENOMEM, 0, "reading %s: out of memory", path);
			}
			buf = bigger;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = bt_error_os(err, "reading %s", path);
			free(buf);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (used > max) {
		free(buf);
		return bt_error_set(err, BERTH_EINVAL, 0, "reading %s: more than the %zu bytes allowed",
				    path, max);
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

int bt_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync of the directory dir, or with whole_fs syncfs of its file system */
static int sync_dir(const char *dir, bool whole_fs, berth_error **err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return bt_error_os(err, "opening directory %s", dir);
	if ((whole_fs ? syncfs(fd) : fsync(fd)) < 0)
		rc = bt_error_os(err, whole_fs ? "syncing the file system of %s" : "syncing directory %s", dir);
	close(fd);
	return rc;
}

int bt_fsync_dir(const char *dir, berth_error **err)
{
	return sync_dir(dir, false, err);
}

int bt_syncfs(const char *path, berth_error **err)
{
	return sync_dir(path, true, err);
}

static int write_file_renamed(const char *path, const void *data, size_t len, mode_t mode,
			      bool durable, berth_error **err)
{
	char *copy = strdup(path), *tmp = NULL;
	const char *dir, *base;
	int fd = -1, rc;

	if (!copy)
		return bt_error_set(err, BERTH_ENOMEM, 0, "writing %s: out of memory", path);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	dir = dirname(copy);
	/* a dot name so that directory listings of a store skip half-written files */
	if (!(tmp = bt_strdup_printf("%s/.%s.tmpXXXXXX", dir, base))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "writing %s: out of memory", path);
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "writing %s: creating a temporary file", path);
		goto out;
	}
	if (fchmod(fd, mode) < 0 || bt_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		rc = bt_error_os(err, "writing %s", tmp);
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = bt_error_os(err, "writing %s", tmp);
		goto out_unlink;
	}
	fd = -1;
#ifdef BERTH_TEST_HOOKS
	if (bt_test_hook_before_rename)
		bt_test_hook_before_rename(tmp);
#endif
	if (rename(tmp, path) < 0) {
		rc = bt_error_os(err, "writing %s: renaming %s into place", path, tmp);
		goto out_unlink;
	}
	rc = durable ? bt_fsync_dir(dir, err) : 0;
	goto out;

out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(copy);
	return rc;
}

int bt_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 berth_error **err)
{
	return write_file_renamed(path, data, len, mode, true, err);
}

int bt_write_file_volatile(const char *path, const void *data, size_t len, mode_t mode,
			   berth_error **err)
{
	return write_file_renamed(path, data, len, mode, false, err);
}

/* The temp files a killed atomic write of path left: their bytes, and
 * removed with remove. */
static uint64_t atomic_temps(const berth_ctx *ctx, const char *path, bool remove)
{
	char *copy = strdup(path), *prefix = NULL;
	const char *dir;
	struct dirent *de;
	uint64_t bytes = 0;
	DIR *d = NULL;

	if (!copy)
		return 0;
	dir = dirname(copy);
	/* the temp name write_file_renamed makes: .<name>.tmpXXXXXX */
	if (!(prefix = bt_strdup_printf(".%s.tmp", strrchr(path, '/') ? strrchr(path, '/') + 1 : path)) ||
	    !(d = opendir(dir)))
		goto out;
	while ((de = readdir(d))) {
		struct stat st;

		if (strncmp(de->d_name, prefix, strlen(prefix)) || strlen(de->d_name) != strlen(prefix) + 6 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!remove) {
			bytes += (uint64_t)st.st_size;
		} else if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			bt_log_info(ctx, "fs", "removed %s/%s, left by a write that died", dir, de->d_name);
			bytes += (uint64_t)st.st_size;
		} else if (errno != ENOENT) {
			bt_log_warn(ctx, "fs", "removing %s/%s: %s", dir, de->d_name, strerror(errno));
		}
	}
out:
	if (d)
		closedir(d);
	free(prefix);
	free(copy);
	return bytes;
}

uint64_t bt_sweep_atomic_temps(const berth_ctx *ctx, const char *path)
{
	return atomic_temps(ctx, path, true);
}

uint64_t bt_atomic_temps_size(const char *path)
{
	return atomic_temps(NULL, path, false);
}

/* Removes the entries of the directory dfd (on device dev), then closes it.
 * Errors start with verb ("removing", "clearing"). */
static int rm_dir_contents(int dfd, dev_t dev, const char *path, const char *verb,
			   berth_error **err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = bt_error_os(err, "%s %s", verb, path);
		close(dfd);
		return rc;
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = bt_error_os(err, "%s %s/%s", verb, path, de->d_name);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			char *sub = bt_strdup_printf("%s/%s", path, de->d_name);
			int cfd;

			if (!sub) {
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "%s %s: out of memory", verb, path);
				break;
			}
			if (st.st_dev != dev) {
				rc = bt_error_set(err, BERTH_EBUSY, 0,
						  "%s %s: a file system is mounted there", verb, sub);
			} else if ((cfd = openat(dirfd(d), de->d_name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				rc = bt_error_os(err, "%s %s", verb, sub);
			} else if ((rc = rm_dir_contents(cfd, dev, sub, verb, err)) == 0 &&
				   unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) {
				rc = bt_error_os(err, "%s %s", verb, sub);
			}
			free(sub);
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			rc = bt_error_os(err, "%s %s/%s", verb, path, de->d_name);
		}
	}
	if (rc == 0 && errno)
		rc = bt_error_os(err, "listing %s", path);
	closedir(d);
	return rc;
}

int bt_rm_rf(const char *path, berth_error **err)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : bt_error_os(err, "removing %s", path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? bt_error_os(err, "removing %s", path) : 0;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bt_error_os(err, "removing %s", path);
	if ((rc = rm_dir_contents(fd, st.st_dev, path, "removing", err)) < 0)
		return rc;
	if (rmdir(path) < 0 && errno != ENOENT)
		return bt_error_os(err, "removing %s", path);
	return 0;
}

int bt_rm_dir_contents(int dirfd, const char *what, berth_error **err)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int rc = bt_error_os(err, "clearing %s", what);

		if (fd >= 0)
			close(fd);
		return rc;
	}
	return rm_dir_contents(fd, st.st_dev, what, "clearing", err);
}

/* Blocks of dirfd's tree; a hardlinked file counts a share per name. */
static int64_t size_of(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	struct dirent *de;
	int64_t sum = 0;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		sum += (int64_t)st.st_blocks * 512 / (S_ISDIR(st.st_mode) || !st.st_nlink ? 1 : (int64_t)st.st_nlink);
		if (S_ISDIR(st.st_mode) &&
		    (sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			sum += size_of(sub);
			close(sub);
		}
	}
	closedir(d);
	return sum;
}

int64_t bt_tree_size(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int64_t sum;

	if (fd < 0)
		return 0;
	/* the directory's own blocks too, as du counts them */
	sum = fstat(fd, &st) == 0 ? (int64_t)st.st_blocks * 512 : 0;
	sum += size_of(fd);
	close(fd);
	return sum;
}
