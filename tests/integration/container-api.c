/* The engine's life cycle through the public API alone (issue 12): two
 * threads each create, start (stdio on pipes of their own), read their
 * container's output, wait for exit codes 0 and 3, inspect and remove; a
 * detached container is killed and its 137 read back; rm of a running one
 * is refused and forced. Usage: container-api ROOT RUNROOT IMAGE */
#define _GNU_SOURCE /* memfd_create */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <berth/berth.h>

static const char *image;
static berth_ctx *ctx;
static int failures;

#define CHECK(cond, ...)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "FAIL: " __VA_ARGS__);              \
			fprintf(stderr, "\n");                              \
			__atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST); \
		}                                                           \
	} while (0)

static void fail_err(const char *what, berth_error *err)
{
	CHECK(0, "%s: %s", what, berth_error_message(err));
	berth_error_free(err);
}

struct job {
	const char *word;
	int code;
};

static void *attached(void *arg)
{
	struct job *j = arg;
	char script[128], out[256] = "";
	const char *cmd[] = { "sh", "-c", script, NULL };
	berth_container_create_opts co = BERTH_CONTAINER_CREATE_OPTS_INIT;
	berth_container_start_opts so = BERTH_CONTAINER_START_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_error *err = NULL;
	int pipefd[2], stdio[3];
	char *id = NULL, *json = NULL;
	size_t len = 0;
	ssize_t n;

	snprintf(script, sizeof(script), "for i in 1 2 3; do echo %s$i; done; exit %d", j->word, j->code);
	co.cmd = cmd;
	if (berth_container_create(ctx, image, &co, &id, &err) < 0)
		return fail_err("create", err), NULL;
	if (pipe(pipefd) < 0)
		abort();
	stdio[0] = -1;
	stdio[1] = stdio[2] = pipefd[1];
	so.stdio = stdio;
	if (berth_container_start(ctx, id, &so, &err) < 0) {
		fail_err("start", err);
		close(pipefd[1]);
	} else {
		close(pipefd[1]);
		while ((n = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
			len += (size_t)n;
		out[len] = '\0';
		if (berth_container_wait(ctx, id, 60000, &how, &err) < 0)
			fail_err("wait", err);
		char want[128];
		snprintf(want, sizeof(want), "%s1\n%s2\n%s3\n", j->word, j->word, j->word);
		CHECK(!strcmp(out, want), "%s: output \"%s\", wanted \"%s\"", j->word, out, want);
		CHECK(how.code == j->code, "%s: exit %d, wanted %d", j->word, how.code, j->code);
		if (berth_container_inspect(ctx, id, &json, &err) < 0)
			fail_err("inspect", err);
		CHECK(json && strstr(json, "\"Status\": \"exited\""), "%s: inspect: %s", j->word, json);
		berth_string_free(json);
	}
	close(pipefd[0]);
	if (berth_container_remove(ctx, id, 0, &err) < 0)
		fail_err("remove", err);
	berth_string_free(id);
	return NULL;
}

static void detached(void)
{
	const char *cmd[] = { "sh", "-c", "while :; do sleep 1; done", NULL };
	berth_container_create_opts co = BERTH_CONTAINER_CREATE_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_error *err = NULL;
	char *id = NULL;
	int rc;

	co.cmd = cmd;
	co.name = "api-detached";
	if (berth_container_create(ctx, image, &co, &id, &err) < 0 ||
	    berth_container_start(ctx, "api-detached", NULL, &err) < 0)
		return fail_err("detached create/start", err);
	rc = berth_container_wait(ctx, "api-detached", 200, &how, &err);
	CHECK(rc == BERTH_ETIMEOUT, "wait of a running container: %d, wanted ETIMEOUT", rc);
	berth_error_free(err);
	err = NULL;
	rc = berth_container_remove(ctx, "api-detached", 0, &err);
	CHECK(rc == BERTH_ESTATE, "remove of a running container: %d, wanted ESTATE", rc);
	berth_error_free(err);
	err = NULL;
	if (berth_container_kill(ctx, id, SIGKILL, &err) < 0 ||
	    berth_container_wait(ctx, id, 60000, &how, &err) < 0)
		return fail_err("kill/wait", err);
	CHECK(how.code == 137, "killed: exit %d, wanted 137", how.code);
	if (berth_container_start(ctx, id, NULL, &err) < 0 ||
	    berth_container_remove(ctx, id, BERTH_CONTAINER_REMOVE_FORCE, &err) < 0)
		fail_err("start again / remove --force", err);
	berth_string_free(id);
}

/* The operations of issue 12 from C: exec with its own pipe and exit code,
 * pause/unpause, rename, top, a path looked up, restart, prune. */
static void operations(void)
{
	const char *cmd[] = { "sh", "-c", "while :; do sleep 1; done", NULL };
	const char *ex[] = { "sh", "-c", "echo \"$(id -u) $(pwd) $GREETING\"; exit 7", NULL };
	const char *env[] = { "GREETING=hi", NULL };
	berth_container_create_opts co = BERTH_CONTAINER_CREATE_OPTS_INIT;
	berth_container_exec_opts eo = BERTH_CONTAINER_EXEC_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_error *err = NULL;
	char *id = NULL, *json = NULL, out[256] = "", **ids = NULL;
	int pipefd[2], stdio[3], rc, is_dir = -1;
	unsigned long long bytes = 0;
	size_t n = 0, count = 0;
	ssize_t r;

	co.cmd = cmd;
	co.name = "api-ops";
	if (berth_container_create(ctx, image, &co, &id, &err) < 0 ||
	    berth_container_start(ctx, "api-ops", NULL, &err) < 0)
		return fail_err("ops create/start", err);
	if (pipe(pipefd) < 0)
		abort();
	stdio[0] = -1;
	stdio[1] = stdio[2] = pipefd[1];
	eo.cmd = ex;
	eo.env = env;
	eo.user = "1000";
	eo.workdir = "/tmp";
	eo.stdio = stdio;
	rc = berth_container_exec(ctx, "api-ops", &eo, &how, &err);
	close(pipefd[1]);
	while ((r = read(pipefd[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	close(pipefd[0]);
	if (rc < 0)
		fail_err("exec", err), err = NULL;
	CHECK(!strcmp(out, "1000 /tmp hi\n"), "exec output \"%s\"", out);
	CHECK(how.code == 7, "exec exit %d, wanted 7", how.code);
	if (berth_container_pause(ctx, "api-ops", &err) < 0)
		fail_err("pause", err), err = NULL;
	rc = berth_container_exec(ctx, "api-ops", &eo, &how, &err);
	CHECK(rc == BERTH_ESTATE, "exec in a paused container: %d, wanted ESTATE", rc);
	berth_error_free(err);
	err = NULL;
	if (berth_container_unpause(ctx, "api-ops", &err) < 0 ||
	    berth_container_rename(ctx, "api-ops", "api-ops2", &err) < 0 ||
	    berth_container_top(ctx, "api-ops2", &json, &err) < 0)
		fail_err("unpause/rename/top", err), err = NULL;
	CHECK(json && strstr(json, "\"Titles\"") && strstr(json, "while :"), "top: %s", json);
	berth_string_free(json);
	if (berth_container_path_is_dir(ctx, "api-ops2", "/tmp", &is_dir, &err) < 0)
		fail_err("path_is_dir", err), err = NULL;
	CHECK(is_dir == 1, "/tmp is_dir %d", is_dir);
	if (berth_container_restart(ctx, "api-ops2", 1, &err) < 0 ||
	    berth_container_stop(ctx, "api-ops2", 1, &err) < 0 ||
	    berth_container_prune(ctx, &ids, &count, &bytes, &err) < 0)
		fail_err("restart/stop/prune", err), err = NULL;
	CHECK(count == 1 && ids && !strcmp(ids[0], id), "prune removed %zu", count);
	berth_container_ids_free(ids, count);
	berth_string_free(id);
}

static int count_event(const char *line, void *userdata)
{
	if (strstr(line, "\"Action\":\"commit\"") || strstr(line, "\"Action\":\"create\""))
		++*(int *)userdata;
	return 0;
}

/* The file operations from C: a diff, a copy out and back in through a
 * memfd, a commit whose image runs, and the events they left. */
static void files(void)
{
	const char *cmd[] = { "sh", "-c", "echo hi > /f", NULL };
	berth_container_create_opts co = BERTH_CONTAINER_CREATE_OPTS_INIT;
	berth_container_commit_opts cm = BERTH_CONTAINER_COMMIT_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_error *err = NULL;
	struct timespec t0;
	char *id = NULL, *json = NULL, *committed = NULL;
	int fd, events = 0;

	clock_gettime(CLOCK_REALTIME, &t0);
	co.cmd = cmd;
	co.name = "api-files";
	if (berth_container_create(ctx, image, &co, &id, &err) < 0 ||
	    berth_container_start(ctx, "api-files", NULL, &err) < 0 ||
	    berth_container_wait(ctx, "api-files", 60000, &how, &err) < 0)
		return fail_err("files create/start/wait", err);
	fd = memfd_create("api-copy", MFD_CLOEXEC);
	if (berth_container_copy_from(ctx, "api-files", "/f", "g", fd, &err) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    berth_container_copy_to(ctx, "api-files", "/tmp", fd, &err) < 0 ||
	    berth_container_diff(ctx, "api-files", &json, &err) < 0)
		fail_err("copy/diff", err), err = NULL;
	close(fd);
	CHECK(json && strstr(json, "\"/f\"") && strstr(json, "\"/tmp/g\""), "diff: %s", json);
	berth_string_free(json);
	cm.tag = "api-commit:1";
	if (berth_container_commit(ctx, "api-files", &cm, &committed, &err) < 0 ||
	    berth_container_remove(ctx, "api-files", 0, &err) < 0 ||
	    berth_container_events(ctx, (long long)t0.tv_sec * 1000000000LL + t0.tv_nsec, 0, 0, count_event, &events,
				   &err) < 0 ||
	    berth_image_remove(ctx, "api-commit:1", 0, &err) < 0)
		fail_err("commit/remove/events", err), err = NULL;
	CHECK(committed && !strncmp(committed, "sha256:", 7), "commit id %s", committed);
	CHECK(events == 2, "%d create/commit events, wanted 2", events);
	berth_string_free(committed);
	berth_string_free(id);
}

int main(int argc, char **argv)
{
	berth_ctx_opts o = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	struct job jobs[2] = { { "alpha", 0 }, { "beta", 3 } };
	pthread_t t[2];
	char **ids;
	size_t count;

	if (argc != 4) {
		fprintf(stderr, "usage: container-api ROOT RUNROOT IMAGE\n");
		return 2;
	}
	o.root = argv[1];
	o.runroot = argv[2];
	image = argv[3];
	if (berth_ctx_new(&ctx, &o, &err) < 0)
		return fail_err("ctx", err), 1;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, attached, &jobs[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
	}
	detached();
	operations();
	files();
	/* err may be NULL in every call: the code alone comes back */
	CHECK(berth_container_remove(ctx, "no-such", 0, NULL) == BERTH_ENOTFOUND, "remove with err NULL");
	CHECK(berth_container_stop(ctx, "no-such", 1, NULL) == BERTH_ENOTFOUND, "stop with err NULL");
	if (berth_container_ids(ctx, &ids, &count, &err) < 0)
		fail_err("ids", err);
	else
		CHECK(count == 0, "%zu containers left", count);
	berth_container_ids_free(ids, count);
	berth_ctx_free(ctx);
	if (failures)
		return 1;
	printf("container-api: 10 attached runs from two threads (own pipes, 0 and 3), a detached one killed (137), exec/pause/rename/top/restart/prune, copy/diff/commit/events, nothing left\n");
	return 0;
}
