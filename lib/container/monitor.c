/* The supervision of one started container: what berth-monitor runs. It is
 * the parent of the container's init, so it alone can reap it and learn how
 * it ended; it holds the output pipes of a detached container and writes
 * them to its log. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <berth/runtime.h>
#include <berth/storage.h>

/* After the init ended, output still buffered in the pipes is read for at
 * most this long (a process outside the container may hold a pipe open). */
#define DRAIN_MS 2000

char *bt_ct_monitor_path(void)
{
	const char *env = secure_getenv("BERTH_MONITOR");

	return strdup(env && *env ? env : BERTH_LIBEXECDIR "/berth/berth-monitor");
}

static void report(int fd, int code, const char *msg)
{
	char line[4096];
	int n = code ? snprintf(line, sizeof(line), "error %d %s\n", code, msg)
		     : snprintf(line, sizeof(line), "ok %s\n", msg);

	if (fd >= 0 && n > 0)
		bt_write_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Records the container's status fields and saves them (under its lock). */
static int record(berth_ctx *ctx, const char *id, json_t *fields, berth_error **err)
{
	struct bt_ct *ct;
	int rc;

	if ((rc = bt_ct_open(ctx, id, &ct, err)) == 0) {
		json_object_update(ct->state, fields);
		rc = bt_ct_save_state(ct, err);
		bt_ct_close(ct);
	}
	json_decref(fields);
	return rc;
}

struct supervised {
	berth_ctx *ctx;
	const char *id;
	berth_runtime *rt;
	berth_runtime_process *proc;
	int out[2], errp[2]; /* output pipes of a detached container */
	struct bt_ct_log *log;
	bool attached, auto_remove;
};

/* Creates and starts the container's init. */
static int launch(struct supervised *s, const int *stdio, berth_error **err)
{
	berth_runtime_create_opts co = BERTH_RUNTIME_CREATE_OPTS_INIT;
	struct bt_ct *ct;
	int fds[3], null = -1, rc;
	char *rootfs = NULL, *logpath = NULL;

	if ((rc = bt_ct_open(s->ctx, s->id, &ct, err)) < 0)
		return rc;
	s->auto_remove = json_is_true(json_object_get(json_object_get(ct->config, "HostConfig"), "AutoRemove"));
	logpath = bt_strdup_printf("%s/%s-json.log", ct->dir, ct->id);
	if ((rc = berth_snapshot_mount(s->ctx, ct->id, &rootfs, err)) < 0 ||
	    (rc = berth_runtime_new(s->ctx, NULL, &s->rt, err)) < 0)
		goto out;
	/* what a killed monitor of an earlier start left */
	berth_runtime_delete(s->rt, ct->id, BERTH_RUNTIME_DELETE_FORCE, NULL);
	if (!stdio) {
		if (pipe2(s->out, O_CLOEXEC) < 0 || pipe2(s->errp, O_CLOEXEC) < 0 ||
		    (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
			rc = bt_error_os(err, "making the container's output pipes");
			goto out;
		}
		if (!logpath || (rc = bt_ct_log_open(logpath, &s->log, err)) < 0) {
			rc = logpath ? rc : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			goto out;
		}
		fds[0] = null;
		fds[1] = s->out[1];
		fds[2] = s->errp[1];
		stdio = fds;
	}
	co.stdio = stdio;
	if ((rc = berth_runtime_create(s->rt, ct->id, ct->dir, NULL, &co, &s->proc, err)) < 0 ||
	    (rc = berth_runtime_start(s->rt, ct->id, err)) < 0)
		goto out;
	if (s->out[1] >= 0) {
		close(s->out[1]);
		close(s->errp[1]);
		s->out[1] = s->errp[1] = -1;
	}
out:
	if (null >= 0)
		close(null);
	free(rootfs);
	free(logpath);
	bt_ct_close(ct);
	return rc;
}

/* Copies what is in the output pipes to the log; false once both ended. */
static bool pump(struct supervised *s, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = s->out[0], .events = POLLIN }, { .fd = s->errp[0], .events = POLLIN } };
	char buf[16384];

	if (p[0].fd < 0 && p[1].fd < 0)
		return false;
	if (poll(p, 2, timeout_ms) <= 0)
		return true;
	for (int i = 0; i < 2; i++) {
		int *fd = i ? &s->errp[0] : &s->out[0];
		ssize_t n;

		if (!p[i].revents)
			continue;
		n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			bt_ct_log_write(s->log, i, buf, (size_t)n);
		} else if (n == 0 || errno != EINTR) {
			close(*fd);
			*fd = -1;
		}
	}
	return true;
}

/* Runs until the init ends, logging a detached container's output. */
static void supervise_loop(struct supervised *s)
{
	int pidfd = berth_runtime_process_pidfd(s->proc);
	struct timespec t0, t;

	for (;;) {
		struct pollfd p[3] = { { .fd = pidfd, .events = POLLIN },
				       { .fd = s->out[0], .events = POLLIN },
				       { .fd = s->errp[0], .events = POLLIN } };

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents || p[2].revents)
			pump(s, 0);
	}
	/* the pid namespace ended with its init: the pipes end as soon as
	 * the kernel has closed the last of its descriptors */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while (pump(s, 100) && (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < DRAIN_MS);
}

static void finish(struct supervised *s)
{
	berth_runtime_exit how = BERTH_RUNTIME_EXIT_INIT;
	berth_error *err = NULL;
	char *finished = bt_now_rfc3339();

	if (berth_runtime_process_wait(s->proc, 10000, &how, &err) < 0) {
		bt_log_error(s->ctx, "container", "%s: %s", s->id, berth_error_message(err));
		berth_error_free(err);
		err = NULL;
		how.code = -1;
	}
	bt_ct_log_close(s->log);
	s->log = NULL;
	berth_runtime_delete(s->rt, s->id, BERTH_RUNTIME_DELETE_FORCE, NULL);
	berth_snapshot_unmount(s->ctx, s->id, NULL);
	record(s->ctx, s->id,
	       json_pack("{s:s, s:i, s:i, s:b, s:s?, s:i, s:I}", "Status", "exited", "Pid", 0, "ExitCode",
			 how.code, "OOMKilled", how.oom_killed, "FinishedAt", finished, "MonitorPid", 0,
			 "MonitorStartTime", (json_int_t)0),
	       NULL);
	free(finished);
	if (s->auto_remove && !s->attached) {
		struct bt_ct *ct = NULL;

		if (bt_ct_open(s->ctx, s->id, &ct, &err) == 0 && bt_ct_remove_locked(s->ctx, ct, &err) < 0)
			bt_log_error(s->ctx, "container", "%s: removing: %s", s->id, berth_error_message(err));
		bt_ct_close(ct);
		berth_error_free(err);
	}
}

int berth_container_supervise(berth_ctx *ctx, const char *id, const int *stdio, int ready_fd,
			      berth_error **err)
{
	struct supervised s = { .ctx = ctx, .id = id, .out = { -1, -1 }, .errp = { -1, -1 },
				.attached = stdio != NULL };
	char *started, pid[32];
	berth_error *own = NULL;
	int rc;

	if (!err) /* its messages go to the report and the record */
		err = &own;
	/* orphans of the container's processes (none with a pid namespace)
	 * come to us, not to the host's init */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = launch(&s, stdio, err)) < 0) {
		/* Docker's codes: 127 for a missing command, 126 for one that
		 * cannot run, 125 for everything else of ours */
		int code = rc == BERTH_ENOTFOUND ? 127 : rc == BERTH_EPERM ? 126 : 125;

		record(ctx, id, json_pack("{s:s, s:i, s:s}", "Status", "exited", "ExitCode", code, "Error",
					  berth_error_message(*err)), NULL);
		report(ready_fd, rc, berth_error_message(*err));
		goto out;
	}
	started = bt_now_rfc3339();
	rc = record(ctx, id,
		    json_pack("{s:s, s:i, s:i, s:I, s:s?, s:s, s:i, s:b}", "Status", "running", "Pid",
			      berth_runtime_process_pid(s.proc), "MonitorPid", (int)getpid(),
			      "MonitorStartTime", (json_int_t)bt_ct_proc_start_time(getpid()), "StartedAt",
			      started, "Error", "", "ExitCode", 0, "OOMKilled", 0),
		    err);
	free(started);
	snprintf(pid, sizeof(pid), "%d", berth_runtime_process_pid(s.proc));
	report(ready_fd, rc, rc ? berth_error_message(*err) : pid);
	if (ready_fd >= 0)
		close(ready_fd);
	if (stdio) {
		/* the caller's descriptors are the container's now: a reader of
		 * a pipe among them sees its end when the container ends */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		for (int i = 0; i < 3 && null >= 0; i++)
			if (stdio[i] >= 0)
				dup3(null, stdio[i], 0);
		if (null >= 0)
			close(null);
	}
	supervise_loop(&s);
	finish(&s);
out:
	berth_runtime_process_free(s.proc);
	berth_runtime_free(s.rt);
	bt_ct_log_close(s.log);
	for (int i = 0; i < 2; i++) {
		if (s.out[i] >= 0)
			close(s.out[i]);
		if (s.errp[i] >= 0)
			close(s.errp[i]);
	}
	berth_error_free(own);
	return rc;
}
