/* Healthchecks, run by the monitor: Config.Healthcheck's command started
 * in the container (berth_runtime_exec, as the container's own process
 * config runs it) every Interval, killed after Timeout, and State.Health
 * kept as Docker keeps it: Status starting until the first result, then
 * healthy, or unhealthy after Retries failures in a row; FailingStreak;
 * the last 5 results in Log. Everything happens in the monitor's poll loop:
 * a running check is a pidfd and an output pipe among its fds. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <berth/runtime.h>

#define LOG_KEEP 5
#define OUTPUT_MAX 4096
#define SECOND_NS 1000000000LL

struct bt_ct_health {
	char *process;              /* the runtime-spec process of a check, JSON text */
	long long interval_ms, timeout_ms;
	int retries;
	long long next;             /* when the next check starts (monotonic ms) */
	berth_runtime_process *proc; /* the check running, else NULL */
	long long deadline;         /* when it is killed */
	int out;                    /* its output pipe */
	char output[OUTPUT_MAX];
	size_t len;
	char *started;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The check's args: ["CMD", args...] or ["CMD-SHELL", "command"]; NULL for
 * none ("NONE", or nothing). */
static json_t *check_args(const json_t *test)
{
	const char *kind = json_string_value(json_array_get(test, 0));

	if (kind && !strcmp(kind, "CMD-SHELL") && json_array_size(test) == 2)
		return json_pack("[s, s, O]", "/bin/sh", "-c", json_array_get(test, 1));
	if (kind && !strcmp(kind, "CMD") && json_array_size(test) > 1) {
		json_t *args = json_array();

		for (size_t i = 1; i < json_array_size(test); i++)
			json_array_append(args, json_array_get(test, i));
		return args;
	}
	return NULL;
}

int bt_ct_health_new(const json_t *record, const char *dir, struct bt_ct_health **out, berth_error **err)
{
	const json_t *hc = json_object_get(json_object_get(record, "Config"), "Healthcheck");
	json_t *args = check_args(json_object_get(hc, "Test")), *spec = NULL, *proc;
	struct bt_ct_health *h;
	char *path;
	int rc;

	*out = NULL;
	if (!args)
		return 0;
	if (!(h = calloc(1, sizeof(*h))) || !(path = bt_strdup_printf("%s/config.json", dir))) {
		free(h);
		json_decref(args);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	rc = bt_json_load_file(path, 1 << 20, &spec, err);
	free(path);
	if (rc < 0) {
		free(h);
		json_decref(args);
		return rc;
	}
	/* the container's own user, env, cwd and capabilities; no terminal */
	proc = json_deep_copy(json_object_get(spec, "process"));
	json_object_set_new(proc, "args", args);
	json_object_set_new(proc, "terminal", json_false());
	h->process = json_dumps(proc, JSON_COMPACT);
	json_decref(proc);
	json_decref(spec);
	h->interval_ms = json_integer_value(json_object_get(hc, "Interval")) / 1000000;
	h->timeout_ms = json_integer_value(json_object_get(hc, "Timeout")) / 1000000;
	h->retries = (int)json_integer_value(json_object_get(hc, "Retries"));
	if (h->interval_ms <= 0)
		h->interval_ms = 30000;
	if (h->timeout_ms <= 0)
		h->timeout_ms = 30000;
	if (h->retries <= 0)
		h->retries = 3;
	h->out = -1;
	*out = h;
	return 0;
}

/* Updates State.Health under the container's lock: fields from fields,
 * and entry (may be NULL) added to its Log. */
static void record_health(berth_ctx *ctx, const char *id, const char *status, json_t *entry, int retries)
{
	struct bt_ct *ct;
	json_t *health, *log;
	json_int_t streak;
	char *before;

	if (bt_ct_open(ctx, id, &ct, NULL) < 0) {
		json_decref(entry);
		return;
	}
	health = json_object_get(ct->state, "Health");
	before = strdup(json_string_value(json_object_get(health, "Status")) ?: "");
	if (!json_is_object(health) || !entry) {
		health = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
		json_object_set_new(ct->state, "Health", health);
	}
	if (entry) {
		log = json_object_get(health, "Log");
		streak = json_integer_value(json_object_get(health, "FailingStreak"));
		streak = json_integer_value(json_object_get(entry, "ExitCode")) == 0 ? 0 : streak + 1;
		json_object_set_new(health, "FailingStreak", json_integer(streak));
		if (streak == 0)
			json_object_set_new(health, "Status", json_string("healthy"));
		else if (streak >= retries)
			json_object_set_new(health, "Status", json_string("unhealthy"));
		json_array_append_new(log, entry);
		while (json_array_size(log) > LOG_KEEP)
			json_array_remove(log, 0);
	} else if (status) {
		json_object_set_new(health, "Status", json_string(status));
	}
	bt_ct_save_state(ct, NULL);
	/* Docker's event on each change of the status */
	status = json_string_value(json_object_get(health, "Status"));
	if (before && status && strcmp(before, status) && strcmp(status, "starting")) {
		char *action = bt_strdup_printf("health_status: %s", status);

		if (action)
			bt_ct_event(ctx, id, action, ct->config, NULL, NULL);
		free(action);
	}
	free(before);
	bt_ct_close(ct);
}

void bt_ct_health_reset(struct bt_ct_health *h, berth_ctx *ctx, const char *id)
{
	if (!h)
		return;
	h->next = now_ms() + h->interval_ms;
	record_health(ctx, id, "starting", NULL, h->retries);
}

static void start_check(struct bt_ct_health *h, berth_ctx *ctx, berth_runtime *rt, const char *id)
{
	berth_runtime_exec_opts o = BERTH_RUNTIME_EXEC_OPTS_INIT;
	int pipefd[2], null = open("/dev/null", O_RDWR | O_CLOEXEC), stdio[3];
	berth_error *err = NULL;

	h->next = now_ms() + h->interval_ms;
	if (null < 0)
		return;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(null);
		return;
	}
	stdio[0] = null;
	stdio[1] = stdio[2] = pipefd[1];
	o.stdio = stdio;
	h->len = 0;
	free(h->started);
	h->started = bt_now_rfc3339();
	if (berth_runtime_exec(rt, id, h->process, &o, &h->proc, &err) < 0) {
		/* a check that cannot start is a failed check, as with Docker */
		record_health(ctx, id, NULL,
			      json_pack("{s:s?, s:s?, s:i, s:s}", "Start", h->started, "End", h->started, "ExitCode", -1,
					"Output", berth_error_message(err)),
			      h->retries);
		berth_error_free(err);
		close(pipefd[0]);
		h->proc = NULL;
	} else {
		h->out = pipefd[0];
		h->deadline = now_ms() + h->timeout_ms;
	}
	close(pipefd[1]);
	close(null);
	/* an exec compiles the container's seccomp filter (~1 MiB of heap
	 * for the default profile) and frees it: give that back, or every
	 * monitor with a healthcheck keeps it for the container's life */
	malloc_trim(0);
}

static void read_output(struct bt_ct_health *h)
{
	ssize_t n;
	char discard[1024];

	while (h->out >= 0) {
		if (h->len < sizeof(h->output) - 1)
			n = read(h->out, h->output + h->len, sizeof(h->output) - 1 - h->len);
		else
			n = read(h->out, discard, sizeof(discard));
		if (n > 0 && h->len < sizeof(h->output) - 1)
			h->len += (size_t)n;
		else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			close(h->out), h->out = -1;
		else if (n < 0)
			break;
	}
}

/* The check ended (or timed out and is killed): its result recorded. */
static void end_check(struct bt_ct_health *h, berth_ctx *ctx, const char *id, bool timed_out)
{
	berth_runtime_exit how = BERTH_RUNTIME_EXIT_INIT;
	char *end = bt_now_rfc3339(), msg[64];

	if (timed_out)
		berth_runtime_process_signal(h->proc, SIGKILL, NULL);
	if (berth_runtime_process_wait(h->proc, 5000, &how, NULL) < 0)
		how.code = -1;
	read_output(h);
	h->output[h->len] = '\0';
	if (timed_out)
		snprintf(msg, sizeof(msg), "Health check exceeded timeout (%llds)", h->timeout_ms / 1000);
	record_health(ctx, id, NULL,
		      json_pack("{s:s?, s:s?, s:i, s:s%}", "Start", h->started, "End", end, "ExitCode",
				timed_out ? -1 : how.code, "Output", timed_out ? msg : h->output,
				timed_out ? strlen(msg) : h->len),
		      h->retries);
	free(end);
	berth_runtime_process_free(h->proc);
	h->proc = NULL;
	if (h->out >= 0)
		close(h->out);
	h->out = -1;
}

long long bt_ct_health_wait_ms(const struct bt_ct_health *h)
{
	long long left;

	if (!h)
		return -1;
	left = (h->proc ? h->deadline : h->next) - now_ms();
	return left < 0 ? 0 : left;
}

size_t bt_ct_health_pollfds(const struct bt_ct_health *h, struct pollfd *p)
{
	p[0] = (struct pollfd){ .fd = h && h->proc ? berth_runtime_process_pidfd(h->proc) : -1, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = h ? h->out : -1, .events = POLLIN };
	return 2;
}

void bt_ct_health_step(struct bt_ct_health *h, berth_ctx *ctx, berth_runtime *rt, const char *id,
		       const struct pollfd *p)
{
	if (!h)
		return;
	if (p[1].revents)
		read_output(h);
	if (h->proc && p[0].revents)
		end_check(h, ctx, id, false);
	else if (h->proc && now_ms() >= h->deadline)
		end_check(h, ctx, id, true);
	else if (!h->proc && now_ms() >= h->next)
		start_check(h, ctx, rt, id);
}

void bt_ct_health_stop(struct bt_ct_health *h)
{
	if (!h || !h->proc)
		return;
	berth_runtime_process_signal(h->proc, SIGKILL, NULL);
	berth_runtime_process_wait(h->proc, 5000, NULL, NULL);
	berth_runtime_process_free(h->proc);
	h->proc = NULL;
	if (h->out >= 0)
		close(h->out);
	h->out = -1;
}

void bt_ct_health_free(struct bt_ct_health *h)
{
	if (!h)
		return;
	bt_ct_health_stop(h);
	free(h->process);
	free(h->started);
	free(h);
}
