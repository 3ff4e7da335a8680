/* An embedder with threads, for runtime-threads.sh: the main thread
 * creates, starts, waits for and deletes N containers of a bundle through
 * the public API while another thread keeps creating and joining threads
 * (what a Python host or an orchestrator does all the time). A container
 * whose create, start or exit takes longer than 20 s counts as hung; the
 * program then reports it and exits 1 without waiting any longer. At the
 * end the number of open fds must be what it was before.
 *   threaded-host STATE_ROOT BUNDLE N CGROUP_PARENT */
#include <berth/berth.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_bool stop;
static atomic_long spawned;

static void *nothing(void *arg)
{
	return arg;
}

static void *churn(void *arg)
{
	(void)arg;
	while (!stop) {
		pthread_t t;

		if (pthread_create(&t, NULL, nothing, NULL) == 0) {
			pthread_join(t, NULL);
			spawned++;
		}
	}
	return NULL;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1; /* the DIR's own */
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	berth_runtime_opts ro = BERTH_RUNTIME_OPTS_INIT;
	berth_ctx *ctx = NULL;
	berth_runtime *rt = NULL;
	berth_error *err = NULL;
	pthread_t churner;
	int n, fds_before, rc = 1;
	double worst = 0;
	char *config = NULL;

	if (argc != 5) {
		fprintf(stderr, "usage: threaded-host STATE_ROOT BUNDLE N CGROUP_PARENT\n");
		return 2;
	}
	n = atoi(argv[3]);
	ro.root = argv[1];
	/* a create must not hang however long the caller's threads take */
	alarm(0);
	fds_before = count_fds();
	if (berth_ctx_new(&ctx, NULL, &err) < 0 || berth_runtime_new(ctx, &ro, &rt, &err) < 0)
		goto fail;
	{
		char path[4096];
		FILE *f;
		long len;

		snprintf(path, sizeof(path), "%s/config.json", argv[2]);
		if (!(f = fopen(path, "r")) || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
		    !(config = calloc(1, (size_t)len + 1)) || fseek(f, 0, SEEK_SET) < 0 ||
		    fread(config, 1, (size_t)len, f) != (size_t)len) {
			fprintf(stderr, "threaded-host: reading %s: %s\n", path, strerror(errno));
			return 1;
		}
		fclose(f);
	}
	pthread_create(&churner, NULL, churn, NULL);
	for (int i = 0; i < n; i++) {
		char id[64];
		double t0 = now(), t;
		berth_runtime_process *p = NULL;
		berth_runtime_exit ex = BERTH_RUNTIME_EXIT_INIT;

		snprintf(id, sizeof(id), "threads-%d", i);
		/* a hung create never returns: the alarm ends the program and
		 * the test reports the hang */
		alarm(20);
		if (berth_runtime_create(rt, id, argv[2], config, NULL, &p, &err) < 0 ||
		    berth_runtime_start(rt, id, &err) < 0) {
			berth_runtime_process_free(p);
			goto fail;
		}
		alarm(0);
		if (berth_runtime_process_wait(p, 20000, &ex, &err) < 0 || ex.code != 0) {
			fprintf(stderr, "threaded-host: container %d (pid %d): %s\n", i,
				berth_runtime_process_pid(p), err ? berth_error_message(err) : "exited non-zero");
			berth_runtime_process_signal(p, SIGKILL, NULL);
			berth_runtime_process_free(p);
			goto fail_quiet;
		}
		berth_runtime_process_free(p);
		if (berth_runtime_delete(rt, id, 0, &err) < 0)
			goto fail;
		if ((t = now() - t0) > worst)
			worst = t;
	}
	stop = true;
	pthread_join(churner, NULL);
	berth_runtime_free(rt);
	rt = NULL;
	if (count_fds() != fds_before) {
		fprintf(stderr, "threaded-host: %d fds open before, %d after\n", fds_before, count_fds());
		goto fail_quiet;
	}
	printf("threaded-host: %d containers, %ld threads made meanwhile, slowest %.0f ms\n", n,
	       (long)spawned, worst * 1000);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "threaded-host: %s\n", berth_error_message(err));
fail_quiet:
	stop = true;
out:
	berth_error_free(err);
	free(config);
	berth_runtime_free(rt);
	berth_ctx_free(ctx);
	return rc;
}
