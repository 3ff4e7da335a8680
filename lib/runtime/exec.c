/* The exec helper (exec-helper.h): its bytes written once per runtime
 * handle to a file nobody can open for writing, the way into it a seccomp
 * filter allows, and the child's execveat of it.
 *
 * The file lives in a tmpfs mount that is never attached to any mount
 * namespace (fsopen + fsmount) and is made read-only once written
 * (mount_setattr): reopening /proc/<pid>/exe for writing fails with EROFS,
 * as for crun's read-only bind of its binary. A sealed memfd would refuse
 * the writes too, but not the open: a process holding it open for writing
 * makes every later exec of it fail with ETXTBSY, so one container could
 * stop the embedding program from starting any other. The memfd remains
 * the fallback where the new mount API is missing (before Linux 5.12). */
#define _GNU_SOURCE
#include "runtime-internal.h"
#include "exec-helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern const unsigned char bt_rt_exec_helper_elf[];
extern const size_t bt_rt_exec_helper_size;

static int write_all(int fd, berth_error **err)
{
	if (bt_write_all(fd, bt_rt_exec_helper_elf, bt_rt_exec_helper_size) < 0)
		return bt_error_os(err, "writing the exec helper");
	return 0;
}

/* Run in a child of its own fd table (see write_in_child): the helper's
 * bytes into mnt/berth-exec, raw system calls only; its exit status says
 * how it went. */
static int write_helper(void *arg)
{
	int mnt = *(int *)arg, fd;
	size_t done = 0;

	if ((fd = (int)syscall(SYS_openat, mnt, "berth-exec", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0555)) < 0)
		syscall(SYS_exit, 1);
	while (done < bt_rt_exec_helper_size) {
		long n = syscall(SYS_write, fd, bt_rt_exec_helper_elf + done, bt_rt_exec_helper_size - done);

		if (n <= 0)
			syscall(SYS_exit, 2);
		done += (size_t)n;
	}
	syscall(SYS_exit, syscall(SYS_close, fd) == 0 ? 0 : 3);
	return 0;
}

/* Writes the helper from a vfork'd child with a copy of the fd table: the
 * descriptor open for writing lives only there, so no fork by another
 * thread of the host (or of berth, for a container's process that then
 * waits) can inherit it, which would keep the file open for writing and
 * make every exec of it fail with ETXTBSY for as long as that child lived. */
static int write_in_child(int mnt)
{
	size_t stack_size = 64 * 1024;
	char *stack = malloc(stack_size);
	int status = 0, pid;

	if (!stack)
		return -ENOMEM;
	pid = clone(write_helper, stack + stack_size, CLONE_VM | CLONE_VFORK, &mnt);
	if (pid < 0 || waitpid(pid, &status, __WALL) != pid) {
		free(stack);
		return -errno;
	}
	free(stack);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The helper in a read-only tmpfs that no namespace can reach: an O_PATH
 * fd of it, or -errno (ENOSYS, EPERM: the caller falls back). */
static int helper_in_detached_mount(void)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	int fs = -1, mnt = -1, exe = -errno, rc;

	if ((fs = fsopen("tmpfs", FSOPEN_CLOEXEC)) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID)) < 0)
		exe = -errno;
	else if ((rc = write_in_child(mnt)) < 0)
		exe = rc;
	else if (mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0 ||
		 (exe = openat(mnt, "berth-exec", O_PATH | O_CLOEXEC)) < 0)
		exe = -errno;
	if (mnt >= 0)
		close(mnt);
	if (fs >= 0)
		close(fs);
	return exe;
}

static int helper_make(const berth_ctx *ctx, int *out, berth_error **err)
{
	const unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	int fd, rc;

	if ((fd = helper_in_detached_mount()) >= 0) {
		*out = fd;
		return 0;
	}
	/* the weaker fallback (a container can make later execs fail with
	 * ETXTBSY): say why, a kernel without the new mount API is expected */
	bt_log(ctx, fd == -ENOSYS ? BERTH_LOG_INFO : BERTH_LOG_WARN, "runtime",
	       "exec helper: no read-only tmpfs (%s); using a sealed memfd", strerror(-fd));
	if ((fd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		return bt_error_os(err, "making the memfd for the exec helper");
	if ((rc = write_all(fd, err)) < 0) {
		close(fd);
		return rc;
	}
	/* sealed: nobody, in a container or out, can change what runs */
	if (fcntl(fd, F_ADD_SEALS, seals) < 0) {
		rc = bt_error_os(err, "sealing the exec helper's memfd");
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

int bt_rt_exec_helper(berth_runtime *rt, int *fd, berth_error **err)
{
	int rc = 0;

	pthread_mutex_lock(&rt->helper_lock);
	if (rt->helper_fd < 0)
		rc = helper_make(rt->ctx, &rt->helper_fd, err);
	*fd = rt->helper_fd;
	pthread_mutex_unlock(&rt->helper_lock);
	return rc;
}

static bool allowed(const bt_rt_seccomp *sc, int nr, const uint64_t args[6])
{
	uint32_t action = bt_rt_seccomp_answer(sc, nr, args) & SECCOMP_RET_ACTION_FULL;

	return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG;
}

int bt_rt_exec_via(const bt_rt_seccomp *sc, int helper_fd, int *via, berth_error **err)
{
	/* what the child will call; pointers are unknown and no filter can
	 * look behind them anyway */
	const uint64_t at[6] = { (uint64_t)helper_fd, 0, 0, 0, AT_EMPTY_PATH, 0 };
	const uint64_t path[6] = { 0 };

	*via = BT_EXEC_VIA_FD;
	if (!sc || !sc->bpf || allowed(sc, SYS_execveat, at))
		return 0;
	*via = BT_EXEC_VIA_PROC;
	if (allowed(sc, SYS_execve, path))
		return 0;
	return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
			    "linux.seccomp: the filter refuses both execveat and execve, one of which "
			    "starting the process through berth's exec helper needs");
}

int bt_rt_child_exec(int helper_fd, int via, char **hargv, const char *prog, char *const *env,
		     int sync)
{
	char sync_text[16] = "-", fd_path[32];
	int n = 0;

	if (sync >= 0) {
		char digits[12];
		int v = sync;

		do
			digits[n++] = (char)('0' + v % 10);
		while ((v /= 10) > 0);
		for (int i = 0; i < n; i++)
			sync_text[i] = digits[n - 1 - i];
		sync_text[n] = '\0';
		/* the helper reports a failed execve on it, then closes it */
		if (fcntl(sync, F_SETFD, 0) < 0)
			return -errno;
	}
	hargv[0] = (char *)BT_EXEC_HELPER_ARGV0;
	hargv[1] = sync_text;
	hargv[2] = (char *)prog;
	if (via == BT_EXEC_VIA_PROC) {
		bt_rt_fd_path(fd_path, helper_fd);
		execve(fd_path, hargv, env);
	} else {
		syscall(SYS_execveat, helper_fd, "", hargv, env, AT_EMPTY_PATH);
	}
	return -errno;
}

char **bt_rt_exec_argv(char *const *args)
{
	size_t n = 0;
	char **v;

	while (args && args[n])
		n++;
	if (!(v = calloc(n + BT_EXEC_HELPER_SLOTS + 1, sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[BT_EXEC_HELPER_SLOTS + i] = args[i];
	return v;
}
