/* lib/cgroup on this machine's real cgroups, as root (exit 77 otherwise).
 * Every cgroup is named berth-test-<pid>-<what>, made relative to the test's
 * own cgroups, and removed by the tcase teardown (which runs in the runner
 * process even when a test fails). Processes are ended by PID only. */
int unit_main(void);
#define main unit_main
#include "../unit/unit.h"
#undef main

#include "cgroup-internal.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char prefix[64];
static const char *const names[] = { "oom", "pids", "cpu", "freeze", "rm/inner", "rm" };

static char *cg_name(const char *what)
{
	char *s = bt_strdup_printf("%s-%s", prefix, what);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Kills what is left in our cgroups and removes them. */
static void cleanup(void)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(names); i++) {
		char *n = bt_strdup_printf("%s-%s", prefix, names[i]);
		berth_cgroup *cg;

		if (n && berth_cgroup_open(NULL, n, NULL, &cg, NULL) == 0) {
			berth_cgroup_kill(cg, NULL);
			berth_cgroup_remove(cg, NULL);
			berth_cgroup_free(cg);
		}
		free(n);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Forks a child that waits until it is attached to cg, then runs fn. */
static pid_t spawn_in(berth_cgroup *cg, void (*fn)(void *), void *arg)
{
	berth_error *err = NULL;
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		fn(arg);
		_exit(0);
	}
	close(p[0]);
	ck_assert_ok(berth_cgroup_attach(cg, pid, &err), err);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	close(p[1]);
	return pid;
}

static void hog_memory(void *arg)
{
	size_t total = 256u << 20;
	(void)arg;
	for (size_t done = 0; done < total; done += 1u << 20) {
		char *m = malloc(1u << 20);
		if (!m)
			_exit(3);
		memset(m, 1, 1u << 20);
	}
	_exit(0);
}

START_TEST(memory_limit_oom_kills_and_is_reported)
{
	char *n = cg_name("oom");
	berth_cgroup *cg;
	berth_error *err = NULL;
	berth_cgroup_stats st = BERTH_CGROUP_STATS_INIT;
	int status;
	pid_t pid;

	ck_assert_ok(berth_cgroup_create(NULL, n, NULL, &cg, &err), err);
	if (cg->v2 < 0 || bt_cg_v1_index(cg, "memory") >= 0) {
		int m = bt_cg_v1_index(cg, "memory");
		bool memsw = m >= 0 && bt_cg_has_file(cg, (size_t)m, "memory.memsw.limit_in_bytes");
		ck_assert_ok(berth_cgroup_set_resources(cg, memsw ? "{\"memory\": {\"limit\": 33554432, \"swap\": 33554432}}"
								  : "{\"memory\": {\"limit\": 33554432, \"swappiness\": 0}}",
							&err), err);
	} else {
		ck_assert_ok(berth_cgroup_set_resources(cg, "{\"memory\": {\"limit\": 33554432, \"swap\": 33554432}}", &err),
			     err);
	}
	pid = spawn_in(cg, hog_memory, NULL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "the 256 MiB hog was not OOM-killed (status %#x)", status);
	ck_assert_ok(berth_cgroup_stats_get(cg, &st, &err), err);
	ck_assert_msg(st.oom_kills != BERTH_CGROUP_UNKNOWN && st.oom_kills >= 1, "oom_kills %llu",
		      (unsigned long long)st.oom_kills);
	ck_assert_uint_eq(st.memory_limit, 33554432);
	ck_assert_uint_ge(st.memory_peak, 30u << 20);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	free(n);
}
END_TEST

static void fork_bomb(void *arg)
{
	int *out = arg, made = 0;

	/* bounded: 200 attempts; the children just wait to be killed */
	for (int i = 0; i < 200; i++) {
		pid_t c = fork();
		if (c == 0) {
			pause();
			_exit(0);
		}
		if (c > 0)
			made++;
	}
	*out = made;
	pause();
}

START_TEST(pids_limit_stops_a_fork_bomb)
{
	char *n = cg_name("pids");
	berth_cgroup *cg;
	berth_error *err = NULL;
	berth_cgroup_stats st = BERTH_CGROUP_STATS_INIT;
	int *made = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int *pids;
	size_t count;
	pid_t pid;

	ck_assert_ptr_ne(made, MAP_FAILED);
	*made = -1;
	ck_assert_ok(berth_cgroup_create(NULL, n, NULL, &cg, &err), err);
	ck_assert_ok(berth_cgroup_set_resources(cg, "{\"pids\": {\"limit\": 16}}", &err), err);
	pid = spawn_in(cg, fork_bomb, made);
	for (int i = 0; i < 500 && __atomic_load_n(made, __ATOMIC_SEQ_CST) < 0; i++)
		sleep_ms(10);
	ck_assert_int_eq(*made, 15); /* 16 tasks: the bomb and 15 children */
	ck_assert_ok(berth_cgroup_stats_get(cg, &st, &err), err);
	ck_assert_uint_eq(st.pids_current, 16);
	ck_assert_uint_eq(st.pids_limit, 16);
	/* the signal loop, even though this kernel has cgroup.kill */
	ck_assert_ok(bt_cgroup_kill_loop(cg, &err), err);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_ok(berth_cgroup_pids(cg, &pids, &count, &err), err);
	ck_assert_uint_eq(count, 0);
	berth_cgroup_pids_free(pids);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	munmap(made, sizeof(int));
	free(n);
}
END_TEST

static void busy(void *arg)
{
	volatile unsigned long *counter = arg;
	for (;;)
		if (counter)
			(*counter)++;
}

START_TEST(cpu_quota_throttles_a_busy_loop)
{
	char *n = cg_name("cpu");
	berth_cgroup *cg;
	berth_error *err = NULL;
	berth_cgroup_stats a = BERTH_CGROUP_STATS_INIT, b = BERTH_CGROUP_STATS_INIT;
	double used;
	pid_t pid;

	ck_assert_ok(berth_cgroup_create(NULL, n, NULL, &cg, &err), err);
	/* 20% of one CPU */
	ck_assert_ok(berth_cgroup_set_resources(cg, "{\"cpu\": {\"quota\": 20000, \"period\": 100000}}", &err), err);
	pid = spawn_in(cg, busy, NULL);
	sleep_ms(200);
	ck_assert_ok(berth_cgroup_stats_get(cg, &a, &err), err);
	sleep_ms(2000);
	ck_assert_ok(berth_cgroup_stats_get(cg, &b, &err), err);
	used = (double)(b.cpu_usage_ns - a.cpu_usage_ns) / 1e9;
	/* 0.4 s expected in 2 s; an unthrottled loop would use about 2 s */
	ck_assert_msg(used > 0.15 && used < 0.8, "cpu used %.3f s in 2 s at a 20%% quota", used);
	ck_assert_ok(berth_cgroup_kill(cg, &err), err);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	free(n);
}
END_TEST

START_TEST(freeze_stops_a_counter_and_thaw_restarts_it)
{
	char *n = cg_name("freeze");
	berth_cgroup *cg;
	berth_error *err = NULL;
	volatile unsigned long *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long c1, c2, c3;
	pid_t pid;

	ck_assert_ptr_ne((void *)counter, MAP_FAILED);
	ck_assert_ok(berth_cgroup_create(NULL, n, NULL, &cg, &err), err);
	pid = spawn_in(cg, busy, (void *)counter);
	sleep_ms(100);
	ck_assert_uint_gt(*counter, 0);
	ck_assert_ok(berth_cgroup_freeze(cg, &err), err);
	c1 = *counter;
	sleep_ms(300);
	c2 = *counter;
	ck_assert_uint_eq(c1, c2);
	ck_assert_ok(berth_cgroup_thaw(cg, &err), err);
	sleep_ms(100);
	c3 = *counter;
	ck_assert_uint_gt(c3, c2);
	ck_assert_ok(berth_cgroup_kill(cg, &err), err);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	munmap((void *)counter, 4096);
	free(n);
}
END_TEST

static void idle(void *arg)
{
	(void)arg;
	pause();
}

START_TEST(remove_leaves_nothing_in_any_hierarchy)
{
	char *n = cg_name("rm/inner"), *top = cg_name("rm");
	berth_cgroup *cg;
	berth_error *err = NULL;
	char *dirs[BT_CG_V1_MAX + 1];
	size_t nd;
	pid_t pid;

	ck_assert_ok(berth_cgroup_create(NULL, n, NULL, &cg, &err), err);
	nd = cg->ndirs;
	ck_assert_uint_ge(nd, 1);
	for (size_t i = 0; i < nd; i++) {
		ck_assert_int_eq(access(cg->dirs[i].dir, F_OK), 0);
		dirs[i] = strdup(cg->dirs[i].dir);
		*strrchr(dirs[i], '/') = '\0'; /* the berth-test-...-rm parent */
	}
	pid = spawn_in(cg, idle, NULL);
	/* busy: a process is still there */
	cg->host->remove_timeout_ms = 100;
	ck_assert_fails(berth_cgroup_remove(cg, &err), err, BERTH_EBUSY, "removing cgroup");
	ck_assert_ok(berth_cgroup_kill(cg, &err), err);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	for (size_t i = 0; i < nd; i++) {
		ck_assert_msg(access(dirs[i], F_OK) < 0, "%s is still there", dirs[i]);
		free(dirs[i]);
	}
	berth_cgroup_free(cg);
	free(n);
	free(top);
}
END_TEST

/* Orphans of the fork bomb come back to the test process, which reaps them. */
static void subreaper(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

Suite *make_suite(void)
{
	Suite *s = suite_create("cgroup_host");
	TCase *tc = tcase_create("host");

	tcase_add_unchecked_fixture(tc, cleanup, cleanup);
	tcase_add_checked_fixture(tc, subreaper, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, memory_limit_oom_kills_and_is_reported);
	tcase_add_test(tc, pids_limit_stops_a_fork_bomb);
	tcase_add_test(tc, cpu_quota_throttles_a_busy_loop);
	tcase_add_test(tc, freeze_stops_a_counter_and_thaw_restarts_it);
	tcase_add_test(tc, remove_leaves_nothing_in_any_hierarchy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	berth_cgroup_mode mode;

	if (geteuid() != 0 || berth_cgroup_detect(&mode, NULL, NULL) < 0 || mode == BERTH_CGROUP_NONE) {
		fprintf(stderr, "skipped: needs root and a cgroup file system\n");
		return 77;
	}
	snprintf(prefix, sizeof(prefix), "berth-test-%d", (int)getpid());
	return unit_main();
}
