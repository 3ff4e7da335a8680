/* The container's file systems, set up by the child in its new mount
 * namespace: the root bound onto itself, the spec's mounts, then pivot_root
 * (or a move and chroot with no_pivot), masked and read-only paths, sysctl
 * and the read-only root. Every target is opened below the root with
 * openat2(RESOLVE_IN_ROOT), so a symlink in the image cannot send a mount
 * onto the host, and the mount goes onto /proc/self/fd/N of that opening.
 * Child side only: system calls on prepared data. */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

void bt_rt_fd_path(char *buf, int fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0;

	memcpy(buf, prefix, sizeof(prefix));
	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) > 0);
	buf += sizeof(prefix) - 1;
	while (n)
		*buf++ = digits[--n];
	*buf = '\0';
}

static int open_in_root(int rootfd, const char *rel, int flags)
{
	struct open_how how = { 0 };

	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	return (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

int bt_rt_child_mkpath(int rootfd, const char *rel, bool file)
{
	char buf[4096];
	size_t len = strlen(rel), i;
	int fd;

	if ((fd = open_in_root(rootfd, rel, O_PATH)) >= 0)
		return fd;
	if (errno != ENOENT)
		return -errno;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, rel, len + 1);
	/* create each missing component in turn, always resolving the parent
	 * again below the root */
	for (i = 1; i <= len; i++) {
		bool last = i == len;
		char saved;
		int dfd, rc;
		char *slash;

		if (!last && buf[i] != '/')
			continue;
		saved = buf[i];
		buf[i] = '\0';
		fd = open_in_root(rootfd, buf, O_PATH);
		if (fd >= 0) {
			buf[i] = saved;
			if (last)
				return fd;
			close(fd);
			continue;
		}
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(buf, '/');
		*slash = '\0';
		dfd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
		*slash = '/';
		if (dfd < 0)
			return -errno;
		if (last && file) {
			rc = openat(dfd, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (rc >= 0)
				close(rc);
		} else {
			rc = mkdirat(dfd, slash + 1, 0755);
		}
		if (rc < 0 && errno != EEXIST) {
			rc = -errno;
			close(dfd);
			return rc;
		}
		close(dfd);
		buf[i] = saved;
		if (last) {
			fd = open_in_root(rootfd, rel, O_PATH);
			return fd < 0 ? -errno : fd;
		}
	}
	return -ENOENT;
}

/* Flags a remount must keep: in a user namespace the kernel locks them. */
unsigned long bt_rt_locked_flags(const char *path)
{
	struct statfs sf;
	unsigned long f = 0;

	if (statfs(path, &sf) < 0)
		return 0;
	if (sf.f_flags & ST_NOSUID)
		f |= MS_NOSUID;
	if (sf.f_flags & ST_NODEV)
		f |= MS_NODEV;
	if (sf.f_flags & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sf.f_flags & ST_NOATIME)
		f |= MS_NOATIME;
	if (sf.f_flags & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sf.f_flags & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int mount_one(const bt_rt_mount *m, int rootfd, const char **what)
{
	char p[32];
	int fd, rc = 0;
	bool remount = m->kind & BT_MNT_RO_REMOUNT;

	*what = m->what;
	if ((fd = bt_rt_child_mkpath(rootfd, m->dest, !(m->kind & BT_MNT_DIR))) < 0)
		return fd;
	bt_rt_fd_path(p, fd);
	if (m->kind & BT_MNT_BIND) {
		if (mount(m->source, p, NULL, m->flags & (MS_BIND | MS_REC), NULL) < 0)
			rc = -errno;
	} else if (mount(m->source, p, m->type, m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT), m->data) < 0) {
		rc = -errno;
		/* sysfs of another network namespace cannot be mounted from a user
		 * namespace; the host's is bound instead, as runc does */
		if (rc == -EPERM && !strcmp(m->type, "sysfs")) {
			rc = 0;
			if (mount("/sys", p, NULL, MS_BIND | MS_REC, NULL) < 0)
				rc = -errno;
			remount = true;
		}
	}
	close(fd);
	if (rc < 0 || !(remount || m->propagation))
		return rc;
	/* the "rw" of a bind is kept; the error names the mount */
	/* open again: the new mount is on top now */
	if ((fd = open_in_root(rootfd, m->dest, O_PATH)) < 0)
		return -errno;
	bt_rt_fd_path(p, fd);
	if (remount) {
		if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | (m->flags & ~(MS_REC | MS_BIND)) | bt_rt_locked_flags(p), NULL) < 0)
			rc = -errno;
	}
	if (!rc && m->propagation) {
		if (mount(NULL, p, NULL, m->propagation, NULL) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

static bool late_propagation(const bt_rt_config *cfg)
{
	return cfg->root_propagation & (MS_SHARED | MS_UNBINDABLE);
}

int bt_rt_child_mounts(const bt_rt_config *cfg, const bt_rt_cgmount *cm, const char **what)
{
	int rootfd, rc = 0;

	/* shared and unbindable are the root's own, set after pivot_root:
	 * pivot_root refuses a shared parent and a bind of an unbindable tree
	 * fails, so until then the tree is only a slave of the host's */
	*what = "setting the propagation of / in the container's mount namespace";
	if (mount(NULL, "/", NULL, late_propagation(cfg) ? MS_SLAVE | MS_REC : cfg->root_propagation,
		  NULL) < 0)
		return -errno;
	*what = "binding the root file system onto itself";
	if (mount(cfg->rootfs, cfg->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	*what = "opening the root file system";
	if ((rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	for (size_t i = 0; i < cfg->nmounts && rc == 0; i++)
		rc = cfg->mounts[i].kind & BT_MNT_CGROUP
			     ? bt_rt_child_cgroup_mount(&cfg->mounts[i], cm, cfg->new_cgroupns, rootfd, what)
			     : mount_one(&cfg->mounts[i], rootfd, what);
	if (rc == 0)
		rc = bt_rt_child_devices(cfg, rootfd, what);
	close(rootfd);
	return rc;
}

/* linux.rootfsPropagation shared or unbindable, once the root and every
 * mount below it (masked paths bind /dev/null) are in place */
static int root_propagation_late(const bt_rt_config *cfg, const char **what)
{
	*what = "setting linux.rootfsPropagation of the root";
	if (late_propagation(cfg) && mount(NULL, "/", NULL, cfg->root_propagation, NULL) < 0)
		return -errno;
	return 0;
}

int bt_rt_child_pivot(const bt_rt_config *cfg, bool no_pivot, const char **what)
{
	int oldroot;

	*what = "entering the root file system";
	if (chdir(cfg->rootfs) < 0)
		return -errno;
	if (no_pivot) {
		*what = "moving the root file system onto /";
		if (mount(cfg->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return -errno;
		*what = "chroot into the root file system";
		if (chroot(".") < 0 || chdir("/") < 0)
			return -errno;
		return 0;
	}
	if ((oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	*what = "pivot_root";
	if (syscall(SYS_pivot_root, ".", ".") < 0 || fchdir(oldroot) < 0) {
		int e = errno;
		close(oldroot);
		return -e;
	}
	close(oldroot);
	/* the old root now sits on top of "."; make sure unmounting it does
	 * not travel back to the host, then detach it */
	*what = "detaching the old root";
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 || umount2(".", MNT_DETACH) < 0 ||
	    chdir("/") < 0)
		return -errno;
	return 0;
}

/* An O_PATH fd of path in the container once the root is in place:
 * symlinks resolved inside it, magic links refused, mounts on top followed
 * (it is opened anew after each mount on it). -errno on failure. */
static int open_placed(const char *path)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (root < 0)
		return -errno;
	fd = open_in_root(root, path, O_PATH);
	fd = fd < 0 ? -errno : fd;
	close(root);
	return fd;
}

/* path made read-only: bound onto itself first unless it is a mount of its
 * own (the root), then the bind remounted; all through fds */
static int remount_ro(const char *path, bool bind_first)
{
	char p[32];
	int fd, rc = 0;

	if ((fd = open_placed(path)) < 0)
		return fd;
	bt_rt_fd_path(p, fd);
	if (bind_first) {
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
		close(fd);
		if ((fd = open_placed(path)) < 0)
			return fd;
		bt_rt_fd_path(p, fd);
	}
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | bt_rt_locked_flags(p), NULL) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* path hidden: an empty read-only tmpfs over a directory, /dev/null over
 * anything else; a path the image lacks has nothing to hide */
static int mask(const char *path)
{
	struct stat st;
	char p[32];
	int fd, rc = 0;

	if ((fd = open_placed(path)) < 0)
		return fd == -ENOENT ? 0 : fd;
	bt_rt_fd_path(p, fd);
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k") < 0
				     : mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int bt_rt_child_finish_fs(const bt_rt_config *cfg, const char **what)
{
	char path[4200];
	int rc;

	/* sysctl first: readonlyPaths usually holds /proc/sys */
	for (size_t i = 0; i < cfg->nsysctl; i++) {
		size_t kl = strlen(cfg->sysctl[i].key), vl = strlen(cfg->sysctl[i].value);
		int fd;

		*what = "writing linux.sysctl";
		if (kl + 11 >= sizeof(path))
			return -ENAMETOOLONG;
		memcpy(path, "/proc/sys/", 10);
		memcpy(path + 10, cfg->sysctl[i].key, kl + 1);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return -errno;
		if (write(fd, cfg->sysctl[i].value, vl) != (ssize_t)vl) {
			rc = -errno;
			close(fd);
			return rc ? rc : -EIO;
		}
		close(fd);
	}
	for (size_t i = 0; i < cfg->nmasked; i++) {
		*what = "masking a path of linux.maskedPaths";
		if ((rc = mask(cfg->masked[i])) < 0)
			return rc;
	}
	for (size_t i = 0; i < cfg->nreadonly; i++) {
		*what = "making a path of linux.readonlyPaths read-only";
		if ((rc = remount_ro(cfg->readonly[i], true)) < 0 && rc != -ENOENT)
			return rc;
	}
	if (cfg->root_ro) {
		*what = "making the root file system read-only";
		if ((rc = remount_ro("/", false)) < 0)
			return rc;
	}
	return root_propagation_late(cfg, what);
}
