/* lib/cgroup on a v1 host: a fake tree of v1 hierarchies. */
#include "cgroup-fake.h"

#include <pthread.h>

#define V1_DIRS "blkio cpu,cpuacct cpuset devices freezer memory pids systemd"

static fake_tree *v1_tree(void)
{
	return fake_new(V1_DIRS, false, NULL, NULL);
}

START_TEST(detects_v1_hierarchies)
{
	fake_tree *t = v1_tree();
	char *ctl;
	berth_error *err = NULL;

	ck_assert_int_eq(t->host->mode, BERTH_CGROUP_V1);
	ck_assert_str_eq(berth_cgroup_mode_name(t->host->mode), "v1");
	ck_assert_int_eq(t->host->nv1, 8);
	ck_assert_ptr_null(t->host->v2_mount);
	ck_assert_ok(bt_cgroup_host_controllers(t->host, &ctl, &err), err);
	ck_assert_str_eq(ctl, "blkio cpu cpuacct cpuset devices freezer memory pids");
	free(ctl);
	ck_assert_str_eq(bt_cgroup_host_v1(t->host, "cpuacct")->name, "cpu,cpuacct");
	ck_assert_str_eq(bt_cgroup_host_v1(t->host, "name=systemd")->name, "systemd");
	ck_assert_ptr_null(bt_cgroup_host_v1(t->host, "hugetlb"));
	fake_free(t, true);
}
END_TEST

START_TEST(create_default_path_copies_cpuset_and_remove_cleans_up)
{
	fake_tree *t = v1_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;
	char *d;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, NULL, "c1", &cg, &err), err);
	ck_assert_str_eq(berth_cgroup_path(cg), "/berth/c1");
	ck_assert_int_eq(cg->ndirs, 8);
	ck_assert_int_eq(cg->v2, -1);
	/* a new cpuset has no cpus or mems: each level gets its parent's */
	ck_assert_log(t, "cpuset/berth/cpuset.cpus=0-3\n"
			 "cpuset/berth/cpuset.mems=0\n"
			 "cpuset/berth/c1/cpuset.cpus=0-3\n"
			 "cpuset/berth/c1/cpuset.mems=0\n");
	d = unit_path(t->root, "systemd/berth/c1");
	ck_assert_int_eq(access(d, F_OK), 0);
	free(d);
	/* a second container may not take the same cgroup */
	berth_cgroup *again;
	ck_assert_fails(bt_cgroup_create(NULL, t->host, NULL, "c1", &again, &err), err, BERTH_EEXISTS,
			"exists already");
	fake_done(t, cg);
}
END_TEST

struct late_parent {
	char *dir;
};

static void *fill_parent_later(void *arg)
{
	struct late_parent *lp = arg;

	usleep(50000);
	fake_put(lp->dir, "cpuset.mems", "0\n");
	fake_put(lp->dir, "cpuset.cpus", "0-3\n");
	return NULL;
}

/* Two creates sharing a new parent at once: the parent another creator has
 * just made has no cpus yet. The child waits for them instead of copying
 * nothing (a cpuset without cpus refuses every process: ENOSPC). Copied
 * empty before the wait was added. */
START_TEST(parent_cpuset_filled_late_is_waited_for)
{
	fake_tree *t = v1_tree();
	struct late_parent lp = { unit_path(t->root, "cpuset/shared") };
	berth_cgroup *cg;
	berth_error *err = NULL;
	pthread_t th;
	char *d, *cpus;

	ck_assert_int_eq(mkdir(lp.dir, 0755), 0);
	fake_put(lp.dir, "cgroup.procs", "");
	fake_put(lp.dir, "cpuset.cpus", "");
	fake_put(lp.dir, "cpuset.mems", "");
	pthread_create(&th, NULL, fill_parent_later, &lp);
	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/shared/c1", "c1", &cg, &err), err);
	pthread_join(th, NULL);
	d = unit_path(t->root, "cpuset/shared/c1");
	cpus = fake_get(d, "cpuset.cpus");
	ck_assert_str_eq(cpus, "0-3");
	free(cpus);
	free(d);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	/* the parent the test made stays for the cgroup module: ours to remove */
	ck_assert_int_eq(bt_rm_rf(lp.dir, NULL), 0);
	free(lp.dir);
	fake_free(t, true);
}
END_TEST

START_TEST(paths_absolute_relative_and_refused)
{
	fake_tree *t = v1_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/a/b", "x", &cg, &err), err);
	ck_assert_str_eq(cg->dirs[0].dir + strlen(t->root), "/blkio/a/b");
	ck_assert_int_eq(cg->dirs[0].created, 2);
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);

	/* relative: below the caller's own cgroup in each hierarchy */
	ck_assert_ok(bt_cgroup_create(NULL, t->host, "rel/c2", "x", &cg, &err), err);
	ck_assert_str_eq(berth_cgroup_path(cg), "/user.slice/rel/c2");
	ck_assert_str_eq(cg->dirs[1].dir + strlen(t->root), "/cpu,cpuacct/user.slice/rel/c2");
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);

	ck_assert_fails(bt_cgroup_create(NULL, t->host, "/a/../../etc", "x", &cg, &err), err,
			BERTH_ESCAPE, "\"..\" is not allowed");
	ck_assert_fails(bt_cgroup_create(NULL, t->host, "system.slice:berth:c1", "x", &cg, &err), err,
			BERTH_EUNSUPPORTED, "systemd");
	ck_assert_fails(bt_cgroup_create(NULL, t->host, "/", "x", &cg, &err), err, BERTH_EINVAL,
			"names the root");
	ck_assert_fails(bt_cgroup_create(NULL, t->host, NULL, "../x", &cg, &err), err, BERTH_EINVAL,
			"is not a valid name");
	ck_assert_fails(bt_cgroup_open(NULL, t->host, "/missing", "x", &cg, &err), err, BERTH_ENOTFOUND,
			"opening cgroup");
	fake_free(t, true);
}
END_TEST

START_TEST(resources_exact_writes)
{
	fake_tree *t = v1_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;

	cg = fake_create(t);
	ck_assert_ok(fake_apply(cg, "{"
		"\"memory\": {\"limit\": 104857600, \"reservation\": 52428800, \"swap\": 209715200,"
		"  \"swappiness\": 10, \"disableOOMKiller\": true, \"kernel\": 1000, \"kernelTCP\": 4096},"
		"\"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"realtimeRuntime\": 950,"
		"  \"realtimePeriod\": 1000, \"cpus\": \"0-1\", \"mems\": \"0\"},"
		"\"pids\": {\"limit\": 16},"
		"\"blockIO\": {\"weight\": 500, \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 300}],"
		"  \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}],"
		"  \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 100}]},"
		"\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
		"  {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"},"
		"  {\"allow\": true, \"type\": \"b\", \"major\": 8, \"access\": \"r\"}]"
		"}", &err), err);
	ck_assert_log(t, "memory/c/memory.limit_in_bytes=104857600\n"
			 "memory/c/memory.memsw.limit_in_bytes=209715200\n"
			 "memory/c/memory.soft_limit_in_bytes=52428800\n"
			 "memory/c/memory.kmem.tcp.limit_in_bytes=4096\n"
			 "memory/c/memory.swappiness=10\n"
			 "memory/c/memory.oom_control=1\n"
			 "cpuset/c/cpuset.cpus=0-1\n"
			 "cpuset/c/cpuset.mems=0\n"
			 "cpu,cpuacct/c/cpu.shares=512\n"
			 "cpu,cpuacct/c/cpu.cfs_period_us=100000\n"
			 "cpu,cpuacct/c/cpu.cfs_quota_us=50000\n"
			 "cpu,cpuacct/c/cpu.rt_period_us=1000\n"
			 "cpu,cpuacct/c/cpu.rt_runtime_us=950\n"
			 "pids/c/pids.max=16\n"
			 "blkio/c/blkio.weight=500\n"
			 "blkio/c/blkio.weight_device=8:0 300\n"
			 "blkio/c/blkio.throttle.read_bps_device=8:0 1048576\n"
			 "blkio/c/blkio.throttle.write_iops_device=8:16 100\n"
			 "devices/c/devices.deny=a *:* rwm\n"
			 "devices/c/devices.allow=c 1:3 rw\n"
			 "devices/c/devices.allow=b 8:* r\n");
	/* unlimited values; the memsw limit set above is lifted too, as the
	 * kernel keeps the memory limit below it */
	fake_log_clear(t);
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": -1}, \"pids\": {\"limit\": -1},"
				    "\"cpu\": {\"quota\": -1}}", &err), err);
	ck_assert_log(t, "memory/c/memory.memsw.limit_in_bytes=-1\n"
			 "memory/c/memory.limit_in_bytes=-1\n"
			 "pids/c/pids.max=max\n"
			 "cpu,cpuacct/c/cpu.cfs_quota_us=-1\n");
	fake_done(t, cg);
}
END_TEST

START_TEST(unavailable_and_malformed_fields_are_errors_and_write_nothing)
{
	fake_tree *t = v1_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;

	cg = fake_create(t);
	/* valid fields before the bad one are not written either */
	ck_assert_fails(fake_apply(cg, "{\"pids\": {\"limit\": 5}, \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}]}", &err),
			err, BERTH_EUNSUPPORTED, "linux.resources.hugepageLimits[0]: hugetlb controller not available");
	ck_assert_fails(fake_apply(cg, "{\"network\": {\"classID\": 1048577}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.network.classID: net_cls controller not available");
	ck_assert_fails(fake_apply(cg, "{\"blockIO\": {\"leafWeight\": 100}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.blockIO.leafWeight: blkio.leaf_weight is not available");
	ck_assert_fails(fake_apply(cg, "{\"unified\": {\"memory.high\": \"1\"}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.unified: this host has no cgroup v2 tree");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"limit\": \"1G\"}}", &err), err, BERTH_EINVAL,
			"linux.resources.memory.limit: expected an integer, got string");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"limit\": 100, \"swap\": 50}}", &err), err,
			BERTH_EINVAL, "linux.resources.memory.swap: 50 is below the memory limit");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"swappiness\": 101}}", &err), err, BERTH_EINVAL,
			"linux.resources.memory.swappiness: 101 is above 100");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"limitt\": 1}}", &err), err, BERTH_EINVAL,
			"linux.resources.memory.limitt: unknown field");
	ck_assert_fails(fake_apply(cg, "{\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}", &err), err,
			BERTH_EINVAL, "linux.resources.devices[0].access: \"rwx\" is not made of r, w and m");
	ck_assert_fails(fake_apply(cg, "{\"devices\": [{\"access\": \"r\"}]}", &err), err, BERTH_EINVAL,
			"linux.resources.devices[0].allow: missing");
	ck_assert_fails(fake_apply(cg, "{\"cpu\": {\"cpus\": \"0-1; rm\"}}", &err), err, BERTH_EINVAL,
			"linux.resources.cpu.cpus: \"0-1; rm\" is not a list of numbers");
	ck_assert_fails(fake_apply(cg, "{\"pids\": {\"limit\": 1,}", &err), err, BERTH_EINVAL,
			"linux.resources: malformed JSON at line 1");
	ck_assert_fails(fake_apply(cg, "[1]", &err), err, BERTH_EINVAL,
			"linux.resources: expected an object, got array");
	ck_assert_fails(fake_apply(cg, "{\"bogus\": {}}", &err), err, BERTH_EINVAL,
			"linux.resources.bogus: unknown resource");
	ck_assert_log(t, "");
	fake_done(t, cg);
}
END_TEST

/* Sets the fake's current memory limit and memory+swap limit. */
static void memory_now(fake_tree *t, const char *limit, const char *memsw)
{
	char *d = unit_path(t->root, "memory/c");

	fake_put(d, "memory.limit_in_bytes", limit);
	fake_put(d, "memory.memsw.limit_in_bytes", memsw);
	free(d);
	fake_log_clear(t);
}

/* The fake plays the kernel's rule (limit <= memsw at every moment, see
 * fake_on_write), so a write in the wrong order fails these. */
START_TEST(memory_and_swap_in_the_order_the_kernel_accepts)
{
	fake_tree *t = v1_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/c", "x", &cg, &err), err);
	/* growing past the current memsw: memsw first */
	memory_now(t, "2000\n", "4000\n");
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": 8000, \"swap\": 16000}}", &err), err);
	ck_assert_log(t, "memory/c/memory.memsw.limit_in_bytes=16000\n"
			 "memory/c/memory.limit_in_bytes=8000\n");
	/* shrinking: the limit first */
	memory_now(t, "2000\n", "4000\n");
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": 500, \"swap\": 1000}}", &err), err);
	ck_assert_log(t, "memory/c/memory.limit_in_bytes=500\n"
			 "memory/c/memory.memsw.limit_in_bytes=1000\n");
	/* growing within the current memsw, memsw shrinking: the limit first */
	memory_now(t, "2000\n", "4000\n");
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": 3000, \"swap\": 3500}}", &err), err);
	ck_assert_log(t, "memory/c/memory.limit_in_bytes=3000\n"
			 "memory/c/memory.memsw.limit_in_bytes=3500\n");
	/* both lifted */
	memory_now(t, "2000\n", "4000\n");
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": -1, \"swap\": -1}}", &err), err);
	ck_assert_log(t, "memory/c/memory.memsw.limit_in_bytes=-1\n"
			 "memory/c/memory.limit_in_bytes=-1\n");
	/* and limited again from there */
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": 1000, \"swap\": 2000}}", &err), err);
	ck_assert_log(t, "memory/c/memory.memsw.limit_in_bytes=-1\n"
			 "memory/c/memory.limit_in_bytes=-1\n"
			 "memory/c/memory.limit_in_bytes=1000\n"
			 "memory/c/memory.memsw.limit_in_bytes=2000\n");
	/* a limit of -1 alone lifts memsw as well */
	memory_now(t, "2000\n", "4000\n");
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": -1}}", &err), err);
	ck_assert_log(t, "memory/c/memory.memsw.limit_in_bytes=-1\n"
			 "memory/c/memory.limit_in_bytes=-1\n");
	/* one alone that fits the other's current value */
	memory_now(t, "2000\n", "4000\n");
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": 3000}}", &err), err);
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"swap\": 3000}}", &err), err);
	ck_assert_log(t, "memory/c/memory.limit_in_bytes=3000\n"
			 "memory/c/memory.memsw.limit_in_bytes=3000\n");
	/* one alone that cannot fit: an error naming both, nothing written */
	memory_now(t, "2000\n", "4000\n");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"limit\": 5000}}", &err), err, BERTH_EINVAL,
			"linux.resources.memory.limit: 5000 is above the current memory+swap limit 4000; give swap as well");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"swap\": 1000}}", &err), err, BERTH_EINVAL,
			"linux.resources.memory.swap: 1000 is below the current memory limit 2000; give limit as well");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"swap\": 1000, \"limit\": -1}}", &err), err, BERTH_EINVAL,
			"linux.resources.memory.swap: 1000 is below the memory limit");
	ck_assert_log(t, "");
	fake_done(t, cg);
}
END_TEST

START_TEST(attach_freeze_stats_kill)
{
	fake_tree *t = v1_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;
	berth_cgroup_stats st = BERTH_CGROUP_STATS_INIT;
	int *pids;
	size_t n;
	char *d;

	cg = fake_create(t);
	ck_assert_ok(berth_cgroup_attach(cg, 4242, &err), err);
	ck_assert_log(t, "blkio/c/cgroup.procs=4242\n"
			 "cpu,cpuacct/c/cgroup.procs=4242\n"
			 "cpuset/c/cgroup.procs=4242\n"
			 "devices/c/cgroup.procs=4242\n"
			 "freezer/c/cgroup.procs=4242\n"
			 "memory/c/cgroup.procs=4242\n"
			 "pids/c/cgroup.procs=4242\n"
			 "systemd/c/cgroup.procs=4242\n");
	ck_assert_fails(berth_cgroup_attach(cg, 0, &err), err, BERTH_EINVAL, "not a process id");
	/* the fake pid must never reach kill(2) below */
	for (size_t i = 0; i < cg->ndirs; i++)
		fake_put(cg->dirs[i].dir, "cgroup.procs", "");
	fake_log_clear(t);
	ck_assert_ok(berth_cgroup_freeze(cg, &err), err);
	ck_assert_ok(berth_cgroup_thaw(cg, &err), err);
	ck_assert_log(t, "freezer/c/freezer.state=FROZEN\nfreezer/c/freezer.state=THAWED\n");

	d = unit_path(t->root, "memory/c");
	fake_put(d, "memory.usage_in_bytes", "1000\n");
	fake_put(d, "memory.max_usage_in_bytes", "2000\n");
	fake_put(d, "memory.limit_in_bytes", "9223372036854771712\n");
	fake_put(d, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
	free(d);
	d = unit_path(t->root, "cpu,cpuacct/c");
	fake_put(d, "cpuacct.usage", "123456789\n");
	free(d);
	d = unit_path(t->root, "pids/c");
	fake_put(d, "pids.current", "4\n");
	fake_put(d, "pids.max", "16\n");
	free(d);
	ck_assert_ok(berth_cgroup_stats_get(cg, &st, &err), err);
	ck_assert(st.io_read_bytes == BERTH_CGROUP_UNKNOWN); /* blkio without the file */
	d = unit_path(t->root, "blkio/c");
	fake_put(d, "blkio.throttle.io_service_bytes", "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n"
						       "8:16 Read 100\n8:16 Write 1\n8:16 Total 4709\nTotal 4709\n");
	free(d);
	ck_assert_ok(berth_cgroup_stats_get(cg, &st, &err), err);
	ck_assert_uint_eq(st.io_read_bytes, 4196);
	ck_assert_uint_eq(st.io_write_bytes, 513);
	ck_assert_uint_eq(st.memory_usage, 1000);
	ck_assert_uint_eq(st.memory_peak, 2000);
	ck_assert_uint_eq(st.memory_limit, BERTH_CGROUP_UNLIMITED);
	ck_assert_uint_eq(st.oom_kills, 3);
	ck_assert(st.oom_events == BERTH_CGROUP_UNKNOWN);
	ck_assert_uint_eq(st.cpu_usage_ns, 123456789);
	ck_assert_uint_eq(st.pids_current, 4);
	ck_assert_uint_eq(st.pids_limit, 16);

	/* an older caller's smaller struct is filled only as far as it goes */
	struct { size_t size; uint64_t memory_usage; uint64_t guard; } old = { sizeof(size_t) + 8, 0, 77 };
	ck_assert_ok(berth_cgroup_stats_get(cg, (berth_cgroup_stats *)&old, &err), err);
	ck_assert_uint_eq(old.memory_usage, 1000);
	ck_assert_uint_eq(old.guard, 77);

	/* an empty cgroup: the kill loop has nothing to do */
	ck_assert_ok(berth_cgroup_kill(cg, &err), err);
	ck_assert_ok(berth_cgroup_pids(cg, &pids, &n, &err), err);
	ck_assert_uint_eq(n, 0);
	berth_cgroup_pids_free(pids);
	fake_done(t, cg);
}
END_TEST

START_TEST(missing_freezer_is_unsupported)
{
	fake_tree *t = fake_new("memory", false, NULL, NULL);
	berth_cgroup *cg;
	berth_error *err = NULL;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/c", "x", &cg, &err), err);
	ck_assert_fails(berth_cgroup_freeze(cg, &err), err, BERTH_EUNSUPPORTED, "no freezer");
	ck_assert_fails(fake_apply(cg, "{\"cpu\": {\"shares\": 100}}", &err), err, BERTH_EUNSUPPORTED,
			"linux.resources.cpu: cpu controller not available");
	ck_assert_fails(fake_apply(cg, "{\"devices\": [{\"allow\": false}]}", &err), err, BERTH_EUNSUPPORTED,
			"linux.resources.devices: devices controller not available");
	fake_done(t, cg);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("cgroup_v1");
	TCase *tc = tcase_create("v1");

	tcase_add_test(tc, detects_v1_hierarchies);
	tcase_add_test(tc, create_default_path_copies_cpuset_and_remove_cleans_up);
	tcase_add_test(tc, parent_cpuset_filled_late_is_waited_for);
	tcase_add_test(tc, paths_absolute_relative_and_refused);
	tcase_add_test(tc, resources_exact_writes);
	tcase_add_test(tc, unavailable_and_malformed_fields_are_errors_and_write_nothing);
	tcase_add_test(tc, memory_and_swap_in_the_order_the_kernel_accepts);
	tcase_add_test(tc, attach_freeze_stats_kill);
	tcase_add_test(tc, missing_freezer_is_unsupported);
	suite_add_tcase(s, tc);
	return s;
}
