/* The supervision of one started container: what berth-monitor runs. It is
 * the parent of the container's init, so it alone can reap it and learn how
 * it ended; it holds the output pipes of a detached container and writes
 * them to its log. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
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
/* How long a monitor started for `run -it` waits for its attacher. */
#define ATTACH_FIRST_MS 10000

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
	int out[2], errp[2], in[2]; /* stdio pipes of a detached container */
	int pty;                    /* its terminal's master (the process's), else -1 */
	int input;                  /* what attach writes to: pty or in[1], else -1 */
	int src[3];                 /* output to read: stdout, stderr, the terminal */
	struct bt_ct_log *log;
	struct bt_ct_attach *att;
	struct bt_ct_health *health;
	long long hold_until;       /* no output read before an attach or this time */
	char policy[16];            /* HostConfig.RestartPolicy.Name */
	int max_retries;            /* its MaximumRetryCount (on-failure; 0: no limit) */
	long long backoff_ms;       /* the last delay before a restart */
	bool attached, auto_remove, tty, open_stdin;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The pipes (or the terminal's place) of a detached container: fds[0-2]. */
static int detached_stdio(struct supervised *s, int fds[3], int null, berth_error **err)
{
	if (!s->tty && (pipe2(s->out, O_CLOEXEC) < 0 || pipe2(s->errp, O_CLOEXEC) < 0 ||
			(s->open_stdin && pipe2(s->in, O_CLOEXEC) < 0)))
		return bt_error_os(err, "making the container's stdio pipes");
	fds[0] = s->in[0] >= 0 ? s->in[0] : null;
	fds[1] = s->out[1] >= 0 ? s->out[1] : null;
	fds[2] = s->errp[1] >= 0 ? s->errp[1] : null;
	return 0;
}

/* After the create: our ends of the pipes, or the terminal, to poll. */
static void take_stdio(struct supervised *s)
{
	close_fd(&s->out[1]);
	close_fd(&s->errp[1]);
	close_fd(&s->in[0]);
	s->pty = berth_runtime_process_pty(s->proc);
	s->src[0] = s->out[0];
	s->src[1] = s->errp[0];
	s->src[2] = s->pty;
	s->input = s->pty >= 0 ? s->pty : s->in[1];
	/* a container that does not read its input never blocks us */
	if (s->input >= 0)
		fcntl(s->input, F_SETFL, fcntl(s->input, F_GETFL) | O_NONBLOCK);
}

/* Creates and starts the container's init. */
static int launch(struct supervised *s, const int *stdio, berth_error **err)
{
	berth_runtime_create_opts co = BERTH_RUNTIME_CREATE_OPTS_INIT;
	struct bt_ct *ct;
	int fds[3], null = -1, rc;
	char *rootfs = NULL;
	bool mounted = false;

	if ((rc = bt_ct_open(s->ctx, s->id, &ct, err)) < 0)
		return rc;
	if ((rc = berth_snapshot_mount(s->ctx, ct->id, &rootfs, err)) < 0 ||
	    (rc = bt_ct_mounts_start(s->ctx, ct->id, ct->config, rootfs, err)) < 0)
		goto out;
	mounted = true;
	if (!s->rt && (rc = berth_runtime_new(s->ctx, NULL, &s->rt, err)) < 0)
		goto out;
	/* what a killed monitor of an earlier start left */
	berth_runtime_delete(s->rt, ct->id, BERTH_RUNTIME_DELETE_FORCE, NULL);
	if (!stdio) {
		if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
			rc = bt_error_os(err, "opening /dev/null");
			goto out;
		}
		if ((rc = detached_stdio(s, fds, null, err)) < 0)
			goto out;
		stdio = fds;
	}
	co.stdio = stdio;
	if ((rc = berth_runtime_create(s->rt, ct->id, ct->dir, NULL, &co, &s->proc, err)) < 0)
		goto out;
	/* its network before its first instruction runs */
	if ((rc = bt_ct_net_up(s->ctx, ct, berth_runtime_process_pid(s->proc), err)) < 0) {
		berth_runtime_delete(s->rt, ct->id, BERTH_RUNTIME_DELETE_FORCE, NULL);
		berth_runtime_process_free(s->proc);
		s->proc = NULL;
		goto out;
	}
	if ((rc = berth_runtime_start(s->rt, ct->id, err)) < 0) {
		/* its lease and published ports go with it, not with a later sweep */
		bt_ct_net_down(s->ctx, ct->id);
		goto out;
	}
	take_stdio(s);
out:
	if (rc < 0 && mounted)
		bt_ct_mounts_stop(s->ctx, ct->id, ct->config);
	if (null >= 0)
		close(null);
	free(rootfs);
	bt_ct_close(ct);
	return rc;
}

/* Reads output source i (stdout, stderr, terminal) into the log and to
 * the attached clients; its end closes it. */
static void read_source(struct supervised *s, int i)
{
	char buf[16384];
	ssize_t n = read(s->src[i], buf, sizeof(buf));

	if (n > 0) {
		bt_ct_log_write(s->log, i == 1, buf, (size_t)n);
		bt_ct_attach_broadcast(s->att, i == 1, buf, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		/* a terminal ends with EIO once its last user closed it */
		if (i < 2)
			close(s->src[i]);
		s->src[i] = -1;
	}
}

/* Waits at most timeout_ms for output and reads it; false once all ended. */
static bool drain(struct supervised *s, int timeout_ms)
{
	struct pollfd p[3];
	bool any = false;

	for (int i = 0; i < 3; i++) {
		p[i] = (struct pollfd){ .fd = s->src[i], .events = POLLIN };
		any |= s->src[i] >= 0;
	}
	if (!any)
		return false;
	if (poll(p, 3, timeout_ms) > 0)
		for (int i = 0; i < 3; i++)
			if (p[i].revents)
				read_source(s, i);
	return true;
}

/* Runs until the init ends: its output to the log and the attached
 * clients, their input to it. */
static void supervise_loop(struct supervised *s)
{
	int pidfd = berth_runtime_process_pidfd(s->proc);
	struct bt_ct_io io = { .pty = s->pty, .input = &s->input };
	long long t0;
	bool ended = false;

	bt_ct_health_reset(s->health, s->ctx, s->id);
	for (;;) {
		struct pollfd p[6 + BT_CT_ATTACH_POLLFDS];
		long long left = s->hold_until - now_ms(), timeout = ended ? -1 : bt_ct_health_wait_ms(s->health);
		bool hold = left > 0 && !bt_ct_attach_any(s->att);
		size_t n;

		/* one that ended before its attacher came still waits for it,
		 * so `run -t echo hi` prints hi */
		if (ended && !hold)
			break;
		if (hold && (timeout < 0 || left < timeout))
			timeout = left;
		p[0] = (struct pollfd){ .fd = ended ? -1 : pidfd, .events = POLLIN };
		for (int i = 0; i < 3; i++)
			p[1 + i] = (struct pollfd){ .fd = hold ? -1 : s->src[i], .events = POLLIN };
		bt_ct_health_pollfds(s->health, p + 4);
		n = 6 + bt_ct_attach_pollfds(s->att, p + 6);
		if (poll(p, n, timeout > 1 << 30 ? 1 << 30 : (int)timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			if (!hold)
				break;
			ended = true;
		}
		for (int i = 0; i < 3; i++)
			if (p[1 + i].revents)
				read_source(s, i);
		if (!ended)
			bt_ct_health_step(s->health, s->ctx, s->rt, s->id, p + 4);
		bt_ct_attach_handle(s->att, p + 6, &io);
	}
	bt_ct_health_stop(s->health);
	/* the pid namespace ended with its init: the pipes end as soon as
	 * the kernel has closed the last of its descriptors */
	t0 = now_ms();
	while (drain(s, 100) && now_ms() - t0 < DRAIN_MS)
		;
}

/* A number of HostConfig.LogConfig.Config (strings, as Docker keeps them); 0 when unset. */
static long long log_opt_size(const json_t *host, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(json_object_get(host, "LogConfig"), "Config"), key));
	long long n = v ? bt_ct_log_parse_size(v) : 0;

	return n > 0 ? n : 0;
}

/* Reads what the records ask of the monitor: terminal, stdin, log. */
static int setup(struct supervised *s, bool detached, berth_error **err)
{
	struct bt_ct *ct;
	const json_t *config, *host;
	char *logpath = NULL, *rundir = NULL;
	int rc;

	if ((rc = bt_ct_open(s->ctx, s->id, &ct, err)) < 0)
		return rc;
	config = json_object_get(ct->config, "Config");
	host = json_object_get(ct->config, "HostConfig");
	s->auto_remove = json_is_true(json_object_get(host, "AutoRemove"));
	s->tty = json_is_true(json_object_get(config, "Tty"));
	s->open_stdin = json_is_true(json_object_get(config, "OpenStdin"));
	snprintf(s->policy, sizeof(s->policy), "%s",
		 json_string_value(json_object_get(json_object_get(host, "RestartPolicy"), "Name")) ?: "no");
	s->max_retries = (int)json_integer_value(json_object_get(json_object_get(host, "RestartPolicy"), "MaximumRetryCount"));
	if (detached) {
		if (!(logpath = bt_strdup_printf("%s/%s-json.log", ct->dir, ct->id)) ||
		    !(rundir = bt_ct_run_dir(s->ctx, ct->id)))
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		else if ((rc = bt_ct_health_new(ct->config, ct->dir, &s->health, err)) < 0)
			;
		else if ((rc = bt_ct_log_open(logpath, log_opt_size(host, "max-size"), (int)log_opt_size(host, "max-file"),
					      &s->log, err)) == 0)
			rc = bt_ct_attach_listen(rundir, &s->att, err);
	}
	free(logpath);
	free(rundir);
	bt_ct_close(ct);
	return rc;
}

/* After the init ended: reaps it, deletes it from the runtime and closes
 * its pipes; how it ended. */
static berth_runtime_exit end_run(struct supervised *s)
{
	berth_runtime_exit how = BERTH_RUNTIME_EXIT_INIT;
	berth_error *err = NULL;

	struct bt_ct *ct;

	if (berth_runtime_process_wait(s->proc, 10000, &how, &err) < 0) {
		bt_log_error(s->ctx, "container", "%s: %s", s->id, berth_error_message(err));
		berth_error_free(err);
		how.code = -1;
	}
	if (bt_ct_open(s->ctx, s->id, &ct, NULL) == 0) {
		char code[16];

		if (how.oom_killed)
			bt_ct_event(s->ctx, s->id, "oom", ct->config, NULL, NULL);
		snprintf(code, sizeof(code), "%d", how.code);
		bt_ct_event(s->ctx, s->id, "die", ct->config, "exitCode", code);
		bt_ct_close(ct);
	}
	berth_runtime_delete(s->rt, s->id, BERTH_RUNTIME_DELETE_FORCE, NULL);
	berth_runtime_process_free(s->proc);
	s->proc = NULL;
	for (int i = 0; i < 2; i++) {
		close_fd(&s->out[i]);
		close_fd(&s->errp[i]);
		close_fd(&s->in[i]);
	}
	s->pty = s->input = s->src[0] = s->src[1] = s->src[2] = -1;
	return how;
}

/* Whether the policy restarts the container that ended so after ran_ms:
 * the delay before it does (Docker's backoff: 100 ms doubling up to a
 * minute, back to 100 ms after a run of 10 s), recorded as restarting with
 * its RestartCount; -1 when it stays ended. */
static long long plan_restart(struct supervised *s, const berth_runtime_exit *how, long long ran_ms)
{
	struct bt_ct *ct;
	long long count;
	char *finished;
	bool again;

	if (s->attached || !strcmp(s->policy, "no") || bt_ct_open(s->ctx, s->id, &ct, NULL) < 0)
		return -1;
	count = json_integer_value(json_object_get(ct->state, "RestartCount"));
	again = !json_is_true(json_object_get(ct->state, "StopRequested")) &&
		(strcmp(s->policy, "on-failure") ||
		 (how->code != 0 && (s->max_retries == 0 || count < s->max_retries)));
	if (again) {
		s->backoff_ms = ran_ms >= 10000 || !s->backoff_ms ? 100 : s->backoff_ms * 2;
		if (s->backoff_ms > 60000)
			s->backoff_ms = 60000;
		json_t *fields;

		finished = bt_now_rfc3339();
		fields = json_pack("{s:s, s:i, s:i, s:b, s:s?, s:I}", "Status", "restarting", "Pid", 0, "ExitCode",
				   how->code, "OOMKilled", how->oom_killed, "FinishedAt", finished, "RestartCount",
				   (json_int_t)count + 1);
		json_object_update(ct->state, fields);
		json_decref(fields);
		free(finished);
		again = bt_ct_save_state(ct, NULL) == 0;
	}
	bt_ct_close(ct);
	if (again) {
		/* its attached clients saw this run end, as with Docker */
		bt_ct_attach_exit(s->att, how->code, how->oom_killed);
		bt_ct_attach_drop_attached(s->att);
		berth_snapshot_unmount(s->ctx, s->id, NULL);
		bt_ct_net_down(s->ctx, s->id);
	}
	return again ? s->backoff_ms : -1;
}

/* Sleeps delay_ms before a restart, serving the socket and looking every
 * 100 ms for a stop by the user; false when one came. */
static bool wait_restart(struct supervised *s, long long delay_ms)
{
	struct bt_ct_io io = { .pty = -1, .input = &s->input };
	long long deadline = now_ms() + delay_ms;

	for (;;) {
		struct pollfd p[BT_CT_ATTACH_POLLFDS];
		long long left = deadline - now_ms();
		size_t n = bt_ct_attach_pollfds(s->att, p);
		struct bt_ct *ct;
		bool stop;

		if (left <= 0)
			return true;
		if (poll(p, n, left < 100 ? (int)left : 100) > 0)
			bt_ct_attach_handle(s->att, p, &io);
		if (bt_ct_open(s->ctx, s->id, &ct, NULL) < 0)
			return false;
		stop = json_is_true(json_object_get(ct->state, "StopRequested"));
		bt_ct_close(ct);
		if (stop)
			return false;
	}
}

/* The container's volumes are done with (a driver's mount made for it
 * undone when it was the last user); kept across restarts. */
static void unmount_volumes(struct supervised *s)
{
	struct bt_ct *ct;

	if (bt_ct_open(s->ctx, s->id, &ct, NULL) == 0) {
		bt_ct_mounts_stop(s->ctx, ct->id, ct->config);
		bt_ct_close(ct);
	}
}

static void finish(struct supervised *s, const berth_runtime_exit *how)
{
	berth_error *err = NULL;
	char *finished = bt_now_rfc3339(), *rundir;

	bt_ct_log_close(s->log);
	s->log = NULL;
	/* attached clients learn how it ended, then see their stream end */
	bt_ct_attach_exit(s->att, how->code, how->oom_killed);
	bt_ct_attach_close(s->att);
	s->att = NULL;
	if ((rundir = bt_ct_run_dir(s->ctx, s->id)))
		rmdir(rundir);
	free(rundir);
	berth_snapshot_unmount(s->ctx, s->id, NULL);
	unmount_volumes(s);
	bt_ct_net_down(s->ctx, s->id);
	record(s->ctx, s->id,
	       json_pack("{s:s, s:i, s:i, s:b, s:s?, s:i, s:I}", "Status", "exited", "Pid", 0, "ExitCode",
			 how->code, "OOMKilled", how->oom_killed, "FinishedAt", finished, "MonitorPid", 0,
			 "MonitorStartTime", (json_int_t)0),
	       NULL);
	free(finished);
	if (s->auto_remove && !s->attached) {
		struct bt_ct *ct = NULL;

		/* --rm takes the anonymous volumes along, as Docker's does */
		if (bt_ct_open(s->ctx, s->id, &ct, &err) == 0 && (ct->remove_volumes = true) &&
		    bt_ct_remove_locked(s->ctx, ct, &err) < 0)
			bt_log_error(s->ctx, "container", "%s: removing: %s", s->id, berth_error_message(err));
		bt_ct_close(ct);
		berth_error_free(err);
	}
}

/* Docker's codes for a start that failed: 127 for a missing command, 126
 * for one that cannot run, 125 for everything else of ours. */
static int start_failure_code(int rc)
{
	return rc == BERTH_ENOTFOUND ? 127 : rc == BERTH_EPERM ? 126 : 125;
}

/* Starts the init and records it running. */
static int start_once(struct supervised *s, const int *stdio, bool first, berth_error **err)
{
	char *started;
	json_t *fields;
	int rc;

	if ((rc = launch(s, stdio, err)) < 0) {
		record(s->ctx, s->id, json_pack("{s:s, s:i, s:s}", "Status", "exited", "ExitCode", start_failure_code(rc),
						"Error", berth_error_message(*err)), NULL);
		return rc;
	}
	started = bt_now_rfc3339();
	fields = json_pack("{s:s, s:i, s:i, s:I, s:s?, s:s}", "Status", "running", "Pid",
			   berth_runtime_process_pid(s->proc), "MonitorPid", (int)getpid(), "MonitorStartTime",
			   (json_int_t)bt_ct_proc_start_time(getpid()), "StartedAt", started, "Error", "");
	/* a start by the user begins the count and forgets an earlier stop
	 * and exit; a restart keeps the exit its waiters may not have read */
	if (first && fields) {
		json_object_set_new(fields, "ExitCode", json_integer(0));
		json_object_set_new(fields, "OOMKilled", json_false());
		json_object_set_new(fields, "RestartCount", json_integer(0));
		json_object_set_new(fields, "StopRequested", json_false());
	}
	rc = record(s->ctx, s->id, fields, err);
	free(started);
	return rc;
}

int berth_container_supervise(berth_ctx *ctx, const char *id, const int *stdio, int flags,
			      int ready_fd, berth_error **err)
{
	struct supervised s = { .ctx = ctx, .id = id, .out = { -1, -1 }, .errp = { -1, -1 },
				.in = { -1, -1 }, .pty = -1, .input = -1, .src = { -1, -1, -1 },
				.attached = stdio != NULL };
	berth_runtime_exit how;
	berth_error *own = NULL;
	char pid[32];
	int rc;

	if (!err) /* its messages go to the report and the record */
		err = &own;
	/* orphans of the container's processes (none with a pid namespace)
	 * come to us, not to the host's init */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = setup(&s, !stdio, err)) < 0 || (rc = start_once(&s, stdio, true, err)) < 0) {
		report(ready_fd, rc, berth_error_message(*err));
		goto out;
	}
	if (flags & BERTH_CONTAINER_SUPERVISE_ATTACH_FIRST)
		s.hold_until = now_ms() + ATTACH_FIRST_MS;
	snprintf(pid, sizeof(pid), "%d", berth_runtime_process_pid(s.proc));
	report(ready_fd, 0, pid);
	/* what setting up took (the seccomp filter compiled from a default
	 * profile of ~400 rules, the config) is free now: give it back, the
	 * monitor lives as long as the container */
	malloc_trim(0);
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
	for (;;) {
		long long started = now_ms(), delay;
		berth_error *e = NULL;

		supervise_loop(&s);
		how = end_run(&s);
		if ((delay = plan_restart(&s, &how, now_ms() - started)) < 0 || !wait_restart(&s, delay))
			break;
		if ((rc = start_once(&s, NULL, false, &e)) < 0) {
			bt_log_error(ctx, "container", "%s: restarting: %s", id, berth_error_message(e));
			berth_error_free(e);
			how.code = start_failure_code(rc);
			how.oom_killed = 0;
			rc = 0; /* the start the caller asked for went well */
			break;
		}
	}
	finish(&s, &how);
out:
	berth_runtime_process_free(s.proc);
	berth_runtime_free(s.rt);
	bt_ct_log_close(s.log);
	bt_ct_attach_close(s.att);
	bt_ct_health_free(s.health);
	for (int i = 0; i < 2; i++) {
		close_fd(&s.out[i]);
		close_fd(&s.errp[i]);
		close_fd(&s.in[i]);
	}
	berth_error_free(own);
	return rc;
}
