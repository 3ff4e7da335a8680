/* The process contract, for runtime-process.sh (issue 10): two threads at
 * once each run 20 containers whose stdout and stderr are pipes given in
 * the options; each pipe must carry exactly its own container's lines, and
 * each exit code must come back. Then three containers exit 0, 3 and by the
 * OOM killer (137); their ends are recorded and left for a second process
 * to read (the script runs `berth-runtime state`).
 *   process-contract STATE_ROOT BUNDLE CGROUP_PARENT */
#define _GNU_SOURCE
#include <berth/berth.h>

#include <fcntl.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *root, *bundle, *cgparent;
static json_t *base;
static berth_runtime *rt;

/* base config with these args, cgroup and memory limit (0: none) */
static char *config_for(const char *id, const char *script, long long limit)
{
	json_t *c = json_deep_copy(base);
	char cg[256];
	char *text;

	json_object_set_new(json_object_get(c, "process"), "args",
			    json_pack("[s,s,s]", "/bin/sh", "-c", script));
	snprintf(cg, sizeof(cg), "/%s/%s", cgparent, id);
	json_object_set_new(json_object_get(c, "linux"), "cgroupsPath", json_string(cg));
	if (limit)
		json_object_set_new(json_object_get(c, "linux"), "resources",
				    json_pack("{s:{s:I,s:I}}", "memory", "limit", (json_int_t)limit, "swap",
					      (json_int_t)limit));
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return text;
}

static char *slurp(int fd)
{
	size_t len = 0, cap = 256;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0)
		if ((len += (size_t)n) + 1 == cap && !(buf = realloc(buf, cap *= 2)))
			return NULL;
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* runs container id with the script; its output checked; its exit code */
static int run_piped(const char *id, int code, char *why, size_t whylen)
{
	berth_runtime_create_opts o = BERTH_RUNTIME_CREATE_OPTS_INIT;
	berth_runtime_exit ex = BERTH_RUNTIME_EXIT_INIT;
	berth_runtime_process *p = NULL;
	berth_error *err = NULL;
	int out[2], errp[2], stdio[3];
	char script[256], want_out[128], want_err[128], *got_out = NULL, *got_err = NULL, *config;
	int rc = -1;

	snprintf(script, sizeof(script), "echo out-%s; echo err-%s >&2; exit %d", id, id, code);
	snprintf(want_out, sizeof(want_out), "out-%s\n", id);
	snprintf(want_err, sizeof(want_err), "err-%s\n", id);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return snprintf(why, whylen, "pipe"), -1;
	stdio[0] = -1;
	stdio[1] = out[1];
	stdio[2] = errp[1];
	o.stdio = stdio;
	config = config_for(id, script, 0);
	if (berth_runtime_create(rt, id, bundle, config, &o, &p, &err) < 0 ||
	    berth_runtime_start(rt, id, &err) < 0) {
		snprintf(why, whylen, "%s", berth_error_message(err));
		goto out;
	}
	/* the caller keeps its copies: closed, so the reads end with the process */
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	got_out = slurp(out[0]);
	got_err = slurp(errp[0]);
	if (berth_runtime_process_wait(p, 20000, &ex, &err) < 0) {
		snprintf(why, whylen, "%s", berth_error_message(err));
		goto out;
	}
	if (!got_out || !got_err || strcmp(got_out, want_out) || strcmp(got_err, want_err)) {
		snprintf(why, whylen, "%s: stdout \"%s\", stderr \"%s\"", id, got_out ? got_out : "?",
			 got_err ? got_err : "?");
		goto out;
	}
	rc = ex.code;
out:
	free(config);
	free(got_out);
	free(got_err);
	for (int i = 0; i < 2; i++) {
		close(out[i] >= 0 ? out[i] : -1);
		close(errp[i] >= 0 ? errp[i] : -1);
	}
	berth_runtime_process_free(p);
	if (berth_runtime_delete(rt, id, BERTH_RUNTIME_DELETE_FORCE, err ? NULL : &err) < 0 && rc >= 0) {
		snprintf(why, whylen, "%s", berth_error_message(err));
		rc = -1;
	}
	berth_error_free(err);
	return rc;
}

static void *worker(void *arg)
{
	long t = (long)arg;
	char id[64], why[512];

	for (int i = 0; i < 20; i++) {
		int rc;

		snprintf(id, sizeof(id), "pc-%ld-%d", t, i);
		if ((rc = run_piped(id, i % 5, why, sizeof(why))) != i % 5) {
			fprintf(stderr, "process-contract: thread %ld, %s: %s (exit %d, wanted %d)\n", t, id,
				rc < 0 ? why : "wrong exit code", rc, i % 5);
			return (void *)1;
		}
	}
	return NULL;
}

/* a container left after its end is recorded, for the second process */
static int ended(const char *id, const char *script, long long limit, int want, int want_oom)
{
	berth_runtime_exit ex = BERTH_RUNTIME_EXIT_INIT;
	berth_runtime_process *p = NULL;
	berth_error *err = NULL;
	char *config = config_for(id, script, limit);
	int ok = berth_runtime_create(rt, id, bundle, config, NULL, &p, &err) == 0 &&
		 berth_runtime_start(rt, id, &err) == 0 && berth_runtime_process_wait(p, 30000, &ex, &err) == 0;

	free(config);
	berth_runtime_process_free(p);
	if (!ok || ex.code != want || ex.oom_killed != want_oom) {
		fprintf(stderr, "process-contract: %s: %s (code %d, oom %d; wanted %d, %d)\n", id,
			err ? berth_error_message(err) : "wrong end", ex.code, ex.oom_killed, want, want_oom);
		berth_error_free(err);
		return 1;
	}
	printf("%s: code %d signal %d oom %d\n", id, ex.code, ex.signal, ex.oom_killed);
	return 0;
}

int main(int argc, char **argv)
{
	berth_runtime_opts ro = BERTH_RUNTIME_OPTS_INIT;
	berth_ctx *ctx = NULL;
	berth_error *err = NULL;
	pthread_t th[2];
	char path[4096];
	void *res;
	int bad = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: process-contract STATE_ROOT BUNDLE CGROUP_PARENT\n");
		return 2;
	}
	root = argv[1];
	bundle = argv[2];
	cgparent = argv[3];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (!(base = json_load_file(path, 0, NULL)))
		return fprintf(stderr, "process-contract: cannot read %s\n", path), 1;
	ro.root = root;
	if (berth_ctx_new(&ctx, NULL, &err) < 0 || berth_runtime_new(ctx, &ro, &rt, &err) < 0)
		return fprintf(stderr, "process-contract: %s\n", berth_error_message(err)), 1;
	for (long t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	for (int t = 0; t < 2; t++) {
		pthread_join(th[t], &res);
		bad |= res != NULL;
	}
	if (!bad)
		printf("process-contract: 2 threads x 20 containers, each output on its own pipes\n");
	bad |= ended("pc-exit-0", "exit 0", 0, 0, 0);
	bad |= ended("pc-exit-3", "exit 3", 0, 3, 0);
	bad |= ended("pc-oom", "dd if=/dev/zero of=/dev/null bs=64M count=1", 16 << 20, 137, 1);
	berth_runtime_free(rt);
	berth_ctx_free(ctx);
	json_decref(base);
	return bad;
}
