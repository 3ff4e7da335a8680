/* lib/cgroup on this machine's real cgroups, as root (exit 77 otherwise).
 * Every cgroup is named berth-test-<pid>-<what>, made relative to the test's
 * own cgroups, and removed by the tcase teardown (which runs in the runner
 * process even when a test fails). Processes are ended by PID only. */
int unit_main(void);
#define main unit_main
#include "../unit/unit.h"
#undef main

#include "cgroup-internal.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

static char prefix[64];
static const char *const names[] = { "oom", "pids", "cpu", "freeze", "rm/inner", "rm", "fork", "memsw" };
/* The device test's cgroup lives in the v2 tree only (on this hybrid host
 * the v1 devices controller would apply the rules otherwise). */
static const char v2_only_name[] = "dev";

static char *cg_name(const char *what)
{
	char *s = bt_strdup_printf("%s-%s", prefix, what);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* A host of the v2 tree alone, even on a hybrid machine; NULL without one. */
static bt_cgroup_host *v2_only_host(void)
{
	bt_cgroup_host *host = NULL;

	if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
		bt_cgroup_host_new("/sys/fs/cgroup/unified", NULL, &host, NULL);
	else if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		bt_cgroup_host_new("/sys/fs/cgroup", NULL, &host, NULL);
	return host;
}

/* Kills what is left in our cgroups, detaches our device programs and
 * removes the cgroups. */
static void cleanup(void)
{
	bt_cgroup_host *host = v2_only_host();
	char *dev = bt_strdup_printf("%s-%s", prefix, v2_only_name);
	berth_cgroup *v2cg;

	if (host && dev && bt_cgroup_open(NULL, host, dev, NULL, &v2cg, NULL) == 0) {
		int fd = open(v2cg->dirs[0].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		berth_cgroup_kill(v2cg, NULL);
		if (fd >= 0) {
			bt_cg_bpf_detach(fd, v2cg->dirs[0].dir, NULL);
			close(fd);
		}
		berth_cgroup_remove(v2cg, NULL);
		berth_cgroup_free(v2cg);
	}
	free(dev);
	bt_cgroup_host_free(host);
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

/* Runs `sh -c script` started by bt_cgroup_fork in cg; its exit status,
 * and its stderr in errbuf. */
static int sh_in(berth_cgroup *cg, const char *script, char *errbuf, size_t size)
{
	berth_error *err = NULL;
	int p[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_ok(bt_cgroup_fork(cg, 0, &pid, NULL, NULL, &err), err);
	if (pid == 0) {
		dup2(p[1], 2);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(126);
	}
	close(p[1]);
	while (len + 1 < size && (n = read(p[0], errbuf + len, size - len - 1)) > 0)
		len += (size_t)n;
	errbuf[len] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The device programs berth attached to dir. */
static size_t programs_of(const char *dir)
{
	uint32_t ids[16];
	union bpf_attr attr;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = 16;
	ck_assert_int_eq(syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0);
	close(fd);
	return attr.query.prog_cnt;
}

START_TEST(device_program_on_v2_denies_and_allows_dev_null)
{
	bt_cgroup_host *host = v2_only_host();
	char *n = cg_name(v2_only_name), out[512];
	berth_cgroup *cg;
	berth_error *err = NULL;
	char *dir;
	int fd;

	if (!host) {
		fprintf(stderr, "skipped: no cgroup v2 tree\n");
		free(n);
		return;
	}
	ck_assert_ok(bt_cgroup_create(NULL, host, n, NULL, &cg, &err), err);
	ck_assert_int_eq(cg->ndirs, 1);
	ck_assert_int_eq(cg->v2, 0);
	dir = cg->dirs[0].dir;

	/* a bad list attaches nothing */
	ck_assert_fails(berth_cgroup_set_resources(cg, "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
		"{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rwx\"}]}", &err),
		err, BERTH_EINVAL, "linux.resources.devices[1].access");
	ck_assert_uint_eq(programs_of(dir), 0);
	/* /dev/null readable, not writable */
	ck_assert_ok(berth_cgroup_set_resources(cg, "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
		"{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"r\"}]}", &err), err);
	ck_assert_uint_eq(programs_of(dir), 1);
	ck_assert_int_ne(sh_in(cg, "echo > /dev/null", out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "Operation not permitted"), "sh said \"%s\"", out);
	ck_assert_int_eq(sh_in(cg, "read x < /dev/null; exit 0", out, sizeof(out)), 0);

	/* an update replaces the program: one of ours, now allowing writes */
	ck_assert_ok(berth_cgroup_set_resources(cg, "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
		"{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"}]}", &err), err);
	ck_assert_uint_eq(programs_of(dir), 1);
	ck_assert_msg(sh_in(cg, "echo > /dev/null", out, sizeof(out)) == 0, "sh said \"%s\"", out);
	/* /dev/zero (1:5) is still denied */
	ck_assert_int_ne(sh_in(cg, "echo > /dev/zero", out, sizeof(out)), 0);

	/* a deny of w after the allow wins */
	ck_assert_ok(berth_cgroup_set_resources(cg, "{\"devices\": [{\"allow\": true, \"access\": \"rwm\"},"
		"{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"w\"}]}", &err), err);
	ck_assert_uint_eq(programs_of(dir), 1);
	ck_assert_int_ne(sh_in(cg, "echo > /dev/null", out, sizeof(out)), 0);
	ck_assert_int_eq(sh_in(cg, "echo > /dev/zero", out, sizeof(out)), 0);

	/* detach, then remove: nothing is left */
	ck_assert_int_ge(fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
	ck_assert_ok(bt_cg_bpf_detach(fd, dir, &err), err);
	close(fd);
	ck_assert_uint_eq(programs_of(dir), 0);
	dir = strdup(dir);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	ck_assert_msg(access(dir, F_OK) < 0, "%s is still there", dir);
	free(dir);
	berth_cgroup_free(cg);
	bt_cgroup_host_free(host);
	free(n);
}
END_TEST

/* v1 only: the kernel refuses a memory limit above memsw at any moment, so
 * updates in both directions prove the order of the two writes. */
START_TEST(memory_and_swap_updates_both_ways)
{
	char *n = cg_name("memsw"), *text;
	berth_cgroup *cg;
	berth_error *err = NULL;
	int m;
	static const struct {
		const char *json;
		const char *limit, *memsw;
	} steps[] = {
		{ "{\"memory\": {\"limit\": 67108864, \"swap\": 67108864}}", "67108864", "67108864" },
		{ "{\"memory\": {\"limit\": 134217728, \"swap\": 268435456}}", "134217728", "268435456" },
		{ "{\"memory\": {\"limit\": 33554432, \"swap\": 50331648}}", "33554432", "50331648" },
		{ "{\"memory\": {\"limit\": -1}}", "9223372036854771712", "9223372036854771712" },
		{ "{\"memory\": {\"limit\": 16777216, \"swap\": 16777216}}", "16777216", "16777216" },
	};

	ck_assert_ok(berth_cgroup_create(NULL, n, NULL, &cg, &err), err);
	m = bt_cg_v1_index(cg, "memory");
	if (m < 0 || !bt_cg_has_file(cg, (size_t)m, "memory.memsw.limit_in_bytes")) {
		fprintf(stderr, "skipped: no v1 memory controller with swap accounting\n");
	} else {
		for (size_t i = 0; i < BT_ARRAY_SIZE(steps); i++) {
			ck_assert_ok(berth_cgroup_set_resources(cg, steps[i].json, &err), err);
			ck_assert_ok(bt_cg_read(cg, (size_t)m, "memory.limit_in_bytes", &text, &err), err);
			ck_assert_msg(!strncmp(text, steps[i].limit, strlen(steps[i].limit)), "step %zu: limit %s", i, text);
			free(text);
			ck_assert_ok(bt_cg_read(cg, (size_t)m, "memory.memsw.limit_in_bytes", &text, &err), err);
			ck_assert_msg(!strncmp(text, steps[i].memsw, strlen(steps[i].memsw)), "step %zu: memsw %s", i, text);
			free(text);
		}
	}
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	free(n);
}
END_TEST

/* The child's own view of its cgroups, read before it does anything else. */
static void report_cgroups(int fd)
{
	char buf[4096];
	ssize_t n = 0;
	int in = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

	if (in >= 0)
		n = read(in, buf, sizeof(buf) - 16);
	if (n < 0)
		n = 0;
	n += snprintf(buf + n, 16, "pid %d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n)
		_exit(2);
	_exit(0);
}

START_TEST(fork_starts_the_child_inside_every_hierarchy)
{
	char *n = cg_name("fork"), out[4096];
	berth_cgroup *cg;
	berth_error *err = NULL;
	pid_t pid;
	bool into;

	ck_assert_ok(berth_cgroup_create(NULL, n, NULL, &cg, &err), err);
	for (int round = 0; round < 3; round++) {
		/* clone3 into the v2 cgroup, then the plain fork with attach, then a
		 * plain clone with a new pid namespace */
		uint64_t flags = round == 2 ? CLONE_NEWPID : 0;
		int p[2], status;
		ssize_t len;

		cg->host->no_clone3 = round > 0;
		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		ck_assert_ok(bt_cgroup_fork(cg, flags, &pid, NULL, &into, &err), err);
		if (pid == 0)
			report_cgroups(p[1]);
		close(p[1]);
		len = read(p[0], out, sizeof(out) - 1);
		close(p[0]);
		ck_assert_int_gt(len, 0);
		out[len] = '\0';
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		ck_assert(into == (round == 0 && cg->v2 >= 0));
		for (size_t i = 0; i < cg->ndirs; i++) {
			char *want = bt_strdup_printf(":%s\n", cg->dirs[i].dir + strlen(cg->dirs[i].mount));
			ck_assert_msg(strstr(out, want), "round %d: the child's cgroups lack %s:\n%s", round,
				      want, out);
			free(want);
		}
		if (round == 2)
			ck_assert_msg(strstr(out, "pid 1\n"), "not pid 1 in its new namespace:\n%s", out);
	}
	/* only namespace flags */
	ck_assert_fails(bt_cgroup_fork(cg, CLONE_VM, &pid, NULL, NULL, &err), err, BERTH_EINVAL,
			"are not namespace flags");
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	free(n);
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
	tcase_add_test(tc, device_program_on_v2_denies_and_allows_dev_null);
	tcase_add_test(tc, fork_starts_the_child_inside_every_hierarchy);
	tcase_add_test(tc, memory_and_swap_updates_both_ways);
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
