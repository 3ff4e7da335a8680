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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* In the container's namespaces the hook starts through the sealed exec
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

static int run_one(berth_runtime *rt, const bt_rt_hook *h, size_t i, int kind, const char *state,
		   int ns_pid, berth_error **err)
{
	int p[2] = { -1, -1 }, nsfd[8], nstype[8], exe = -1, helper = -1, status = 0, rc = 0;
	size_t nns = 0, len = strlen(state);
	long waited = 0;
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
	/* a socket rather than a pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE
	 * in the host when a hook does not read its stdin */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) {
		rc = bt_error_os(err, "hooks.%s[%zu]: making a pipe", bt_rt_hook_names[kind], i);
		goto out;
	}
	if ((pid = fork()) < 0) {
		rc = bt_error_os(err, "hooks.%s[%zu]: fork", bt_rt_hook_names[kind], i);
		goto out;
	}
	if (pid == 0)
		hook_child(h, p[0], exe, exe_ref, helper, hargv, nsfd, nstype, nns);
	close(p[0]);
	p[0] = -1;
	/* the state is small (it fits the socket buffer); a hook need not read it */
	if (send(p[1], state, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* ignored: see above */
	}
	close(p[1]);
	p[1] = -1;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			rc = bt_error_os(err, "hooks.%s[%zu]: waiting for %s", bt_rt_hook_names[kind], i, h->path);
			goto out;
		}
		if (h->timeout && waited >= h->timeout * 1000L) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			rc = bt_error_set(err, BERTH_ECANCELED, 0, "hooks.%s[%zu] %s: timed out after %d s",
					  bt_rt_hook_names[kind], i, h->path, h->timeout);
			goto out;
		}
		{
			struct timespec ts = { 0, waited < 100 ? 1000000L : 10000000L };
			nanosleep(&ts, NULL);
			waited += waited < 100 ? 1 : 10;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		goto out;
	if (WIFEXITED(status))
		rc = bt_error_set(err, BERTH_ERROR, 0, "hooks.%s[%zu] %s: exited with status %d%s",
				  bt_rt_hook_names[kind], i, h->path, WEXITSTATUS(status),
				  WEXITSTATUS(status) == 127 ? " (could not be executed)" : "");
	else
		rc = bt_error_set(err, BERTH_ERROR, 0, "hooks.%s[%zu] %s: killed by signal %d",
				  bt_rt_hook_names[kind], i, h->path, WTERMSIG(status));
out:
	free(hargv);
	for (size_t k = 0; k < nns; k++)
		close(nsfd[k]);
	if (exe >= 0)
		close(exe);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
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
