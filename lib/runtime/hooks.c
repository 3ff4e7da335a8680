/* Hooks: programs run at points of the lifecycle with the container's state
 * on stdin. prestart, createRuntime, poststart and poststop run in the
 * runtime's namespaces; createContainer and startContainer in the
 * container's (the createContainer path still resolves in the runtime's,
 * so it is opened before the namespaces are joined). A hook that exits
 * non-zero or outlives its timeout is an error naming it. */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* In the container's namespaces the hook starts through the exec
 * helper, like every process there (exec-helper.h); `helper` is -1 for
 * hooks run in the runtime's own. */
static void hook_child(const bt_rt_hook *h, int in, int exe, const char *exe_ref, int helper,
		       char **hargv, const int *nsfd, const int *nstype, size_t nns)
{
	if (dup2(in, 0) < 0)
		_exit(126);
	for (size_t i = 0; i < nns; i++)
		if (setns(nsfd[i], nstype[i]) < 0)
			_exit(126);
	/* the helper executes it by number: not close-on-exec, so a script
	 * hook can be read through /dev/fd too */
	if (exe >= 0 && fcntl(exe, F_SETFD, 0) < 0)
		_exit(126);
	if (helper >= 0)
		bt_rt_child_exec(helper, BT_EXEC_VIA_FD, hargv, exe >= 0 ? exe_ref : h->path, h->env, -1);
	else if (exe >= 0)
		syscall(SYS_execveat, exe, "", h->args, h->env, AT_EMPTY_PATH);
	else
		execve(h->path, h->args, h->env);
	_exit(127);
}

/* The state on a memfd: a hook reads all of it however large, at its own
 * pace, and one that does not read cannot block or SIGPIPE the host. */
static int state_file(const char *state, int *fd, berth_error **err)
{
	if ((*fd = memfd_create("berth-hook-state", MFD_CLOEXEC)) < 0)
		return bt_error_os(err, "making the state file for a hook");
	if (bt_write_all(*fd, state, strlen(state)) < 0 || lseek(*fd, 0, SEEK_SET) < 0)
		return bt_error_os(err, "writing the state for a hook");
	return 0;
}
/* A child that tells of its end only through *pidfd: exit signal 0, so a
 * host that reaps with waitpid(-1) or its own SIGCHLD handler never takes
 * it (only __WALL waits see such children). Like fork(): 0 in the child. */
static pid_t spawn_quiet(int *pidfd)
{
	struct clone_args ca;

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)pidfd;
	return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

/* The quiet child's life: an execve makes a process an ordinary child
 * again (its parent gets SIGCHLD), so the hook is its child, not ours, and
 * it passes the hook's end on as its own exit status (128 + signal for a
 * signal). The hook dies with it (a timeout kills this one). */
static void hook_parent(const bt_rt_hook *h, int in, int exe, const char *exe_ref, int helper,
			char **hargv, const int *nsfd, const int *nstype, size_t nns)
{
	pid_t self = (pid_t)syscall(SYS_getpid), pid;
	int status = 0;

	pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (syscall(SYS_getppid) != self)
			_exit(126);
		hook_child(h, in, exe, exe_ref, helper, hargv, nsfd, nstype, nns);
	}
	if (pid < 0)
		_exit(126);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Waits for the hook through its pidfd, at most timeout seconds (0: no
 * limit): 0 with *status as waitpid gives it, or ECANCELED after killing it. */
static int wait_hook(int pidfd, int timeout, int *status)
{
	struct pollfd pfd = { pidfd, POLLIN, 0 };
	siginfo_t si;
	int r;

	do
		r = poll(&pfd, 1, timeout ? timeout * 1000 : -1);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	memset(&si, 0, sizeof(si));
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL) < 0)
		if (errno != EINTR)
			return -errno;
	*status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
	return r == 0 ? -ECANCELED : 0;
}

static int verdict(const bt_rt_hook *h, size_t i, int kind, int rc, int status, berth_error **err)
{
	const char *name = bt_rt_hook_names[kind];

	if (rc == -ECANCELED)
		return bt_error_set(err, BERTH_ECANCELED, 0, "hooks.%s[%zu] %s: timed out after %d s", name, i,
				    h->path, h->timeout);
	if (rc < 0)
		return bt_error_set(err, BERTH_EOS, -rc, "hooks.%s[%zu]: waiting for %s: %s", name, i,
				    h->path, strerror(-rc));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) > 128)
		return bt_error_set(err, BERTH_ERROR, 0, "hooks.%s[%zu] %s: killed by signal %d", name, i,
				    h->path, WEXITSTATUS(status) - 128);
	if (WIFEXITED(status))
		return bt_error_set(err, BERTH_ERROR, 0, "hooks.%s[%zu] %s: exited with status %d%s", name, i,
				    h->path, WEXITSTATUS(status),
				    WEXITSTATUS(status) == 127 ? " (could not be executed)" : "");
	return bt_error_set(err, BERTH_ERROR, 0, "hooks.%s[%zu] %s: killed by signal %d", name, i, h->path,
			    WTERMSIG(status));
}

static int run_one(berth_runtime *rt, const bt_rt_hook *h, size_t i, int kind, const char *state,
		   int ns_pid, berth_error **err)
{
	int in = -1, nsfd[8], nstype[8], exe = -1, helper = -1, pidfd = -1, status = 0, rc = 0;
	size_t nns = 0;
	char exe_ref[16] = "", **hargv = NULL;
	pid_t pid;

	if (ns_pid > 0 && (rc = bt_rt_open_ns_of(ns_pid, false, nsfd, nstype, &nns, err)) < 0)
		goto out;
	if (ns_pid > 0 && ((rc = bt_rt_exec_helper(rt, &helper, err)) < 0 ||
			   !(hargv = bt_rt_exec_argv(h->args)))) {
		rc = rc < 0 ? rc : bt_error_set(err, BERTH_ENOMEM, 0, "hooks: out of memory");
		goto out;
	}
	if (kind == BT_HOOK_CREATE_CONTAINER && (exe = open(h->path, O_PATH | O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "hooks.%s[%zu]: opening %s", bt_rt_hook_names[kind], i, h->path);
		goto out;
	}
	snprintf(exe_ref, sizeof(exe_ref), "#%d", exe);
	if ((rc = state_file(state, &in, err)) < 0)
		goto out;
	if ((pid = spawn_quiet(&pidfd)) < 0) {
		rc = bt_error_os(err, "hooks.%s[%zu]: starting %s", bt_rt_hook_names[kind], i, h->path);
		goto out;
	}
	if (pid == 0)
		hook_parent(h, in, exe, exe_ref, helper, hargv, nsfd, nstype, nns);
	rc = wait_hook(pidfd, h->timeout, &status);
	rc = verdict(h, i, kind, rc, status, err);
out:
	free(hargv);
	for (size_t k = 0; k < nns; k++)
		close(nsfd[k]);
	if (exe >= 0)
		close(exe);
	if (in >= 0)
		close(in);
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

int bt_rt_hooks_run(berth_runtime *rt, const bt_rt_hook *hooks, size_t n, int kind,
		    const char *state, int ns_pid, berth_error **err)
{
	/* the spec: poststart and poststop failures are logged, not fatal, and
	 * the hooks after a failed one still run */
	bool fatal = kind != BT_HOOK_POSTSTART && kind != BT_HOOK_POSTSTOP;

	for (size_t i = 0; i < n; i++) {
		berth_error *e = NULL;
		int rc;

		bt_log_debug(rt->ctx, "runtime", "running hook %s[%zu] %s", bt_rt_hook_names[kind], i,
			     hooks[i].path);
		if ((rc = run_one(rt, &hooks[i], i, kind, state, ns_pid, fatal ? err : &e)) < 0) {
			if (fatal)
				return rc;
			bt_log_warn(rt->ctx, "runtime", "%s", berth_error_message(e));
			berth_error_free(e);
		}
	}
	return 0;
}
