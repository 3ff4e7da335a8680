/* Starting a process inside a container's cgroup. clone3 with
 * CLONE_INTO_CGROUP (Linux 5.7) puts the child into the v2 directory as it
 * is created, so it never runs outside it and no write to cgroup.procs is
 * needed. Where that is not possible (no v2 tree, an older kernel, a seccomp
 * filter refusing clone3) and for the v1 hierarchies of a hybrid host, the
 * parent writes the child's pid into cgroup.procs while the child waits on
 * a pipe, so it still runs nothing of its own before it is in place. */
#include "cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define NS_FLAGS                                                                             \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET |    \
		    CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME))

static pid_t clone_into(uint64_t flags, int cgfd, int *pidfd)
{
	struct clone_args args;

	memset(&args, 0, sizeof(args));
	args.flags = flags | CLONE_INTO_CGROUP | (pidfd ? CLONE_PIDFD : 0);
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)cgfd;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* clone(2) without a new stack behaves like fork(2) (without the host's
 * fork handlers) and takes namespace flags; the pidfd comes back where the
 * parent tid would, the third argument on every architecture (s390 passes
 * the stack first). */
static pid_t clone_plain(uint64_t flags, int *pidfd)
{
	unsigned long f = (unsigned long)flags | SIGCHLD | (pidfd ? CLONE_PIDFD : 0);

#if defined(__s390__) || defined(__CRIS__)
	return (pid_t)syscall(SYS_clone, 0UL, f, pidfd, 0UL, 0UL);
#else
	return (pid_t)syscall(SYS_clone, f, 0UL, pidfd, 0UL, 0UL);
#endif
}

/* The child's side: wait until the parent has attached it. Only
 * async-signal-safe calls on what was prepared before the fork. */
static void child_wait(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the parent gave up on us */
	close(fd);
}

int bt_cgroup_fork(berth_cgroup *cg, uint64_t clone_flags, pid_t *pid, int *pidfd,
		   bool *into_cgroup, berth_error **err)
{
	int sync[2] = { -1, -1 }, cgfd = -1, rc = 0;
	bool need_attach;
	pid_t child = -1;
	char buf[32];

	*pid = -1;
	if (pidfd)
		*pidfd = -1;
	if (into_cgroup)
		*into_cgroup = false;
	if (clone_flags & ~NS_FLAGS)
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "starting a process in cgroup %s: clone flags %#llx are not namespace flags",
				    cg->path, (unsigned long long)(clone_flags & ~NS_FLAGS));
	if (cg->v2 >= 0 && !cg->host->no_clone3)
		cgfd = bt_cgroup_v2_fd(cg);
	/* Prepared before the fork: the child only reads and closes. */
	need_attach = cgfd < 0 || cg->ndirs > 1;
	if (pipe2(sync, O_CLOEXEC) < 0) {
		rc = bt_error_os(err, "starting a process in cgroup %s: making a pipe", cg->path);
		goto out;
	}
	if (cgfd >= 0) {
		child = clone_into(clone_flags, cgfd, pidfd);
		/* No clone3 (ENOSYS; EPERM from container seccomp profiles) or no
		 * CLONE_INTO_CGROUP in it (E2BIG: struct larger than the kernel's). */
		if (child < 0 && (errno == ENOSYS || errno == EPERM || errno == E2BIG)) {
			bt_log_debug(cg->ctx, "cgroup", "clone3 into cgroup %s: %s; forking and attaching",
				     cg->path, strerror(errno));
			close(cgfd);
			cgfd = -1;
			need_attach = true;
		}
	}
	if (cgfd < 0) {
		if (clone_flags & CLONE_NEWTIME) {
			rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0,
					  "starting a process in cgroup %s: a new time namespace needs clone3",
					  cg->path);
			goto out;
		}
		child = clone_plain(clone_flags, pidfd);
	}
	if (child == 0) {
		if (need_attach) {
			close(sync[1]);
			child_wait(sync[0]);
		}
		*pid = 0;
		return 0;
	}
	if (child < 0) {
		rc = bt_error_os(err, "starting a process in cgroup %s", cg->path);
		goto out;
	}
	close(sync[0]);
	sync[0] = -1;
	snprintf(buf, sizeof(buf), "%d", (int)child);
	for (size_t i = 0; need_attach && i < cg->ndirs && rc == 0; i++)
		if (cgfd < 0 || (int)i != cg->v2)
			rc = bt_cg_write(cg, i, "cgroup.procs", buf, err);
	if (rc == 0 && need_attach && write(sync[1], "x", 1) != 1)
		rc = bt_error_os(err, "starting a process in cgroup %s: releasing it", cg->path);
	if (rc < 0) {
		/* Our own child, still waiting: end it and reap it. */
		rc = bt_error_wrap(err, rc, "starting process %d in cgroup %s", (int)child, cg->path);
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		if (pidfd && *pidfd >= 0) {
			close(*pidfd);
			*pidfd = -1;
		}
		goto out;
	}
	bt_log_debug(cg->ctx, "cgroup", "started process %d in cgroup %s (%s)", (int)child, cg->path,
		     cgfd >= 0 ? "clone3 into the cgroup" : "attached after fork");
	*pid = child;
	if (into_cgroup)
		*into_cgroup = cgfd >= 0;
out:
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	if (cgfd >= 0)
		close(cgfd);
	return rc;
}
