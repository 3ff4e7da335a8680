/* Advisory store locks: flock(2) on a lock file. Each acquisition opens its
 * own file description, so two threads of one process exclude each other too. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

int bt_lock_acquire(const char *path, int flags, int *fd_out, berth_error **err)
{
	int op = (flags & BT_LOCK_SHARED) ? LOCK_SH : LOCK_EX;
	int fd;

	*fd_out = -1;
	if ((flags & BT_LOCK_SHARED) && (flags & BT_LOCK_EXCLUSIVE))
		return bt_error_set(err, BERTH_EINVAL, 0, "locking %s: shared or exclusive, not both", path);
	if (flags & BT_LOCK_NOWAIT)
		op |= LOCK_NB;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
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
	*fd_out = fd;
	return 0;
}

void bt_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor of the description drops the lock */
}
