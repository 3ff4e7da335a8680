/* Advisory store locks: flock(2) on a lock file. Each acquisition opens its
 * own file description, so two threads of one process exclude each other too. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens and locks path once; 1 when the lock file was removed or replaced
 * while we waited for it (a lock on a file nobody else can find is no lock). */
static int lock_once(const char *path, int flags, int *fd_out, berth_error **err)
{
	int op = (flags & BT_LOCK_SHARED) ? LOCK_SH : LOCK_EX;
	struct stat a, b;
	int fd;

	if (flags & BT_LOCK_NOWAIT)
		op |= LOCK_NB;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | ((flags & BT_LOCK_NOCREATE) ? 0 : O_CREAT), 0600);
	if (fd < 0 && errno == ENOENT && (flags & BT_LOCK_NOCREATE))
		return bt_error_set(err, BERTH_ENOTFOUND, ENOENT, "opening lock %s: it does not exist", path);
	if (fd < 0)
		return bt_error_os(err, "opening lock %s", path);
	while (flock(fd, op) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			close(fd);
			return bt_error_set(err, BERTH_EBUSY, EWOULDBLOCK, "%s is locked by another user of the store", path);
		}
		int rc = bt_error_os(err, "locking %s", path);
		close(fd);
		return rc;
	}
	if (fstat(fd, &a) == 0 && (stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
		close(fd);
		return 1;
	}
	*fd_out = fd;
	return 0;
}

int bt_lock_acquire(const char *path, int flags, int *fd_out, berth_error **err)
{
	int rc = 1;

	*fd_out = -1;
	if ((flags & BT_LOCK_SHARED) && (flags & BT_LOCK_EXCLUSIVE))
		return bt_error_set(err, BERTH_EINVAL, 0, "locking %s: shared or exclusive, not both", path);
	for (int tries = 0; rc == 1 && tries < 16; tries++)
		rc = lock_once(path, flags, fd_out, err);
	return rc == 1 ? bt_error_set(err, BERTH_EBUSY, 0, "locking %s: removed each time it was locked", path)
		       : rc;
}

void bt_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor of the description drops the lock */
}
