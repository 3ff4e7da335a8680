/* Device nodes in the container's /dev: the defaults (null, zero, full,
 * random, urandom, tty) and linux.devices, made with mknod or, inside a user
 * namespace where mknod is not allowed, bound from the host; then the
 * /dev/fd, /dev/std*, /dev/ptmx and /dev/core links. Child side only. */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* The parent directory of an absolute path, opened below the root
 * (created when missing); *name points at the last component. */
static int open_parent(int rootfd, const char *path, char *buf, size_t size, const char **name)
{
	size_t len = strlen(path);
	char *slash;
	int fd;

	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	slash = strrchr(buf, '/');
	*slash = '\0';
	*name = path + (slash - buf) + 1;
	fd = bt_rt_child_mkpath(rootfd, buf[0] ? buf : "/", false);
	return fd;
}

static int make_device(const bt_rt_device *d, int rootfd, bool bind)
{
	char buf[4096], p[32];
	const char *name;
	int dfd, fd, rc = 0;

	if ((dfd = open_parent(rootfd, d->path, buf, sizeof(buf), &name)) < 0)
		return dfd;
	/* whatever the image has there (a file, a symlink) is replaced */
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	if (bind) {
		if ((fd = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
			rc = -errno;
			goto out;
		}
		close(fd);
		if ((fd = openat(dfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW)) < 0) {
			rc = -errno;
			goto out;
		}
		bt_rt_fd_path(p, fd);
		if (mount(d->path, p, NULL, MS_BIND, NULL) < 0)
			rc = -errno;
		close(fd);
		goto out;
	}
	if (mknodat(dfd, name, d->mode, d->dev) < 0 ||
	    fchmodat(dfd, name, d->mode & 07777, 0) < 0 ||
	    fchownat(dfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
out:
	close(dfd);
	return rc;
}

int bt_rt_child_devices(const bt_rt_config *cfg, int rootfd, const char **what)
{
	static const struct {
		const char *target, *name;
	} links[] = { { "/proc/self/fd", "fd" },     { "/proc/self/fd/0", "stdin" },
		      { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		      { "pts/ptmx", "ptmx" },         { "/proc/kcore", "core" } };
	int devfd, rc;

	/* a /dev bound from the host is the host's: nothing is made in it */
	for (size_t i = 0; i < cfg->nmounts; i++)
		if ((cfg->mounts[i].kind & BT_MNT_BIND) && !strcmp(cfg->mounts[i].dest, "/dev"))
			return 0;
	*what = "creating a device node";
	for (size_t i = 0; i < cfg->ndevices; i++)
		if ((rc = make_device(&cfg->devices[i], rootfd, cfg->new_userns)) < 0)
			return rc;
	*what = "linking /dev/fd, /dev/stdin, /dev/ptmx";
	if ((devfd = bt_rt_child_mkpath(rootfd, "/dev", false)) < 0)
		return devfd;
	for (size_t i = 0; i < BT_ARRAY_SIZE(links); i++) {
		struct stat st;

		/* a ptmx node the image or a mount put there stays (devpts
		 * with newinstance gives pts/ptmx; the link points there) */
		if (fstatat(devfd, links[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode) || S_ISREG(st.st_mode))
				unlinkat(devfd, links[i].name, 0);
			else
				continue;
		}
		if (symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST) {
			rc = -errno;
			close(devfd);
			return rc;
		}
	}
	close(devfd);
	return 0;
}
