/* lib/cgroup on a v2 (unified) host: a fake cgroup2 tree. */
#include "cgroup-fake.h"

/* hugetlb is on the host but not delegated to children of the root. */
static fake_tree *v2_tree(void)
{
	return fake_new("", true, "cpuset cpu io memory hugetlb pids\n", "cpuset cpu io memory pids\n");
}

START_TEST(detects_v2_and_enables_controllers_in_created_parents)
{
	fake_tree *t = v2_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;
	char *ctl, *d;

	ck_assert_int_eq(t->host->mode, BERTH_CGROUP_V2);
	ck_assert_int_eq(t->host->nv1, 0);
	ck_assert_ok(bt_cgroup_host_controllers(t->host, &ctl, &err), err);
	ck_assert_str_eq(ctl, "cpu cpuset hugetlb io memory pids");
	free(ctl);
	ck_assert_ok(bt_cgroup_create(NULL, t->host, NULL, "c1", &cg, &err), err);
	ck_assert_int_eq(cg->ndirs, 1);
	ck_assert_int_eq(cg->v2, 0);
	/* only the parent we made is written; the root is left alone */
	ck_assert_log(t, "berth/cgroup.subtree_control=+cpuset +cpu +io +memory +pids\n");
	d = unit_path(t->root, "berth/c1");
	ctl = fake_get(d, "cgroup.controllers");
	ck_assert_str_eq(ctl, "cpuset cpu io memory pids");
	free(ctl);
	free(d);
	fake_done(t, cg);
}
END_TEST

START_TEST(resources_exact_writes_and_conversions)
{
	fake_tree *t = v2_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;

	cg = fake_create(t);
	ck_assert_ok(fake_apply(cg, "{"
		"\"memory\": {\"limit\": 104857600, \"reservation\": 52428800, \"swap\": 209715200},"
		"\"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\", \"mems\": \"0\"},"
		"\"pids\": {\"limit\": 16},"
		"\"blockIO\": {\"weight\": 500, \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 300}],"
		"  \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}],"
		"  \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 100}]},"
		"\"unified\": {\"memory.low\": \"1000\", \"cpu.idle\": \"1\"}"
		"}", &err), err);
	/* shares 1024 -> 1 + (1022 * 9999) / 262142 = 39; swap is memory+swap;
	 * blkio weight 500 -> 1 + 490 * 9999 / 990 = 4950 */
	ck_assert_log(t, "c/memory.max=104857600\n"
			 "c/memory.swap.max=104857600\n"
			 "c/memory.low=52428800\n"
			 "c/cpuset.cpus=0-1\n"
			 "c/cpuset.mems=0\n"
			 "c/cpu.weight=39\n"
			 "c/cpu.max=50000 100000\n"
			 "c/pids.max=16\n"
			 "c/io.weight=default 4950\n"
			 "c/io.weight=8:0 2930\n"
			 "c/io.max=8:0 rbps=1048576\n"
			 "c/io.max=8:16 wiops=100\n"
			 "c/memory.low=1000\n"
			 "c/cpu.idle=1\n");
	ck_assert_uint_eq(bt_cg_shares_to_weight(2), 1);
	ck_assert_uint_eq(bt_cg_shares_to_weight(262144), 10000);
	fake_log_clear(t);
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": -1, \"swap\": -1}, \"cpu\": {\"period\": 200000},"
				    "\"pids\": {\"limit\": 0}}", &err), err);
	ck_assert_log(t, "c/memory.max=max\n"
			 "c/memory.swap.max=max\n"
			 "c/cpu.max=max 200000\n"
			 "c/pids.max=max\n");
	fake_done(t, cg);
}
END_TEST

START_TEST(fields_v2_cannot_apply)
{
	fake_tree *t = v2_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;

	cg = fake_create(t);
	ck_assert_fails(fake_apply(cg, "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}]}", &err),
			err, BERTH_EUNSUPPORTED, "linux.resources.hugepageLimits[0]: hugetlb controller not available");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"swappiness\": 10}}", &err), err, BERTH_EUNSUPPORTED,
			"linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"disableOOMKiller\": true}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.memory.disableOOMKiller");
	ck_assert_fails(fake_apply(cg, "{\"memory\": {\"swap\": 100}}", &err), err, BERTH_EINVAL,
			"linux.resources.memory.swap: a memory+swap limit needs a memory limit");
	ck_assert_fails(fake_apply(cg, "{\"cpu\": {\"realtimeRuntime\": 100}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.cpu.realtimeRuntime");
	ck_assert_fails(fake_apply(cg, "{\"blockIO\": {\"leafWeight\": 100}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.blockIO.leafWeight");
	ck_assert_fails(fake_apply(cg, "{\"network\": {\"classID\": 1}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.network.classID: net_cls controller not available");
	ck_assert_fails(fake_apply(cg, "{\"unified\": {\"../../etc/passwd\": \"x\"}}", &err), err,
			BERTH_EINVAL, "not the name of a cgroup file");
	ck_assert_fails(fake_apply(cg, "{\"unified\": {\"a/memory.max\": \"x\"}}", &err), err,
			BERTH_EINVAL, "not the name of a cgroup file");
	ck_assert_fails(fake_apply(cg, "{\"unified\": {\"cgroup.procs\": \"1\"}}", &err), err,
			BERTH_EINVAL, "is not a resource");
	ck_assert_fails(fake_apply(cg, "{\"unified\": {\"memory.oom.group\": \"1\"}}", &err), err,
			BERTH_EUNSUPPORTED, "linux.resources.unified.\"memory.oom.group\": memory.oom.group is not available");
	ck_assert_fails(fake_apply(cg, "{\"unified\": {\"memory.max\": 5}}", &err), err,
			BERTH_EINVAL, "expected a string, got integer");
	ck_assert_log(t, "");
	fake_done(t, cg);
}
END_TEST

START_TEST(device_rules_become_a_device_program_attached_last)
{
	fake_tree *t = v2_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;

	cg = fake_create(t);
	/* 6 loads + m: 4 + r: 8 + w: 8 + 2 (check_cgroup_devices has the instructions) */
	ck_assert_ok(fake_apply(cg, "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
				    "  {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"}],"
				    "\"pids\": {\"limit\": 8}}", &err), err);
	ck_assert_log(t, "c/pids.max=8\n"
			 "c/[device program]=28 instructions\n");
	/* a bad rule: nothing is written or attached */
	fake_log_clear(t);
	ck_assert_fails(fake_apply(cg, "{\"pids\": {\"limit\": 8}, \"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": 4096}]}", &err),
			err, BERTH_EINVAL, "linux.resources.devices[0].major: 4096 is above the largest major 4095");
	ck_assert_fails(fake_apply(cg, "{\"devices\": [{\"allow\": true, \"type\": \"u\"}]}", &err),
			err, BERTH_EINVAL, "linux.resources.devices[0].type: \"u\" is not a, b or c");
	ck_assert_log(t, "");
	/* an empty list changes nothing */
	ck_assert_ok(fake_apply(cg, "{\"devices\": []}", &err), err);
	ck_assert_log(t, "");
	fake_done(t, cg);
}
END_TEST

START_TEST(freeze_kill_pids_stats)
{
	fake_tree *t = v2_tree();
	berth_cgroup *cg;
	berth_error *err = NULL;
	berth_cgroup_stats st = BERTH_CGROUP_STATS_INIT;
	int *pids;
	size_t n;
	char *d;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/c", "x", &cg, &err), err);
	d = unit_path(t->root, "c");
	fake_log_clear(t);
	ck_assert_ok(berth_cgroup_freeze(cg, &err), err);
	ck_assert_ok(berth_cgroup_thaw(cg, &err), err);
	ck_assert_log(t, "c/cgroup.freeze=1\nc/cgroup.freeze=0\n");
	/* a cgroup the kernel never reports frozen: EBUSY and thawed again */
	t->host->on_write = NULL;
	ck_assert_fails(berth_cgroup_freeze(cg, &err), err, BERTH_EBUSY, "not done after");
	{
		char *v = fake_get(d, "cgroup.freeze");
		ck_assert_str_eq(v, "0");
		free(v);
	}
	t->host->on_write = fake_on_write;

	fake_put(d, "cgroup.procs", "101\n102\n");
	ck_assert_ok(berth_cgroup_pids(cg, &pids, &n, &err), err);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(pids[0], 101);
	ck_assert_int_eq(pids[1], 102);
	berth_cgroup_pids_free(pids);
	fake_log_clear(t);
	ck_assert_ok(berth_cgroup_kill(cg, &err), err);
	ck_assert_log(t, "c/cgroup.kill=1\n");

	fake_put(d, "memory.current", "5000\n");
	fake_put(d, "memory.peak", "6000\n");
	fake_put(d, "memory.max", "max\n");
	fake_put(d, "memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\noom_group_kill 0\n");
	fake_put(d, "pids.current", "3\n");
	fake_put(d, "pids.max", "max\n");
	fake_put(d, "io.stat", "8:0 rbytes=100 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n"
			       "8:16 rbytes=1000 wbytes=3 rios=2 wios=1 dbytes=0 dios=0\n");
	ck_assert_ok(berth_cgroup_stats_get(cg, &st, &err), err);
	ck_assert_uint_eq(st.io_read_bytes, 1100);
	ck_assert_uint_eq(st.io_write_bytes, 23);
	ck_assert_uint_eq(st.memory_usage, 5000);
	ck_assert_uint_eq(st.memory_peak, 6000);
	ck_assert(st.memory_limit == BERTH_CGROUP_UNLIMITED);
	ck_assert_uint_eq(st.oom_kills, 1);
	ck_assert_uint_eq(st.oom_events, 2);
	ck_assert_uint_eq(st.cpu_usage_ns, 1500000);
	ck_assert_uint_eq(st.pids_current, 3);
	ck_assert(st.pids_limit == BERTH_CGROUP_UNLIMITED);
	free(d);
	fake_done(t, cg);
}
END_TEST

START_TEST(open_existing_and_remove_only_leaf)
{
	fake_tree *t = v2_tree();
	berth_cgroup *cg, *again;
	berth_error *err = NULL;
	char *d;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/p/c", "x", &cg, &err), err);
	ck_assert_ok(bt_cgroup_open(NULL, t->host, "/p/c", "x", &again, &err), err);
	ck_assert_ok(berth_cgroup_remove(again, &err), err);
	berth_cgroup_free(again);
	/* opened, not created: the parent p stays */
	d = unit_path(t->root, "p");
	ck_assert_int_eq(access(d, F_OK), 0);
	free(d);
	/* removing again: gone already is fine, and the parent we made goes */
	fake_done(t, cg);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("cgroup_v2");
	TCase *tc = tcase_create("v2");

	tcase_add_test(tc, detects_v2_and_enables_controllers_in_created_parents);
	tcase_add_test(tc, resources_exact_writes_and_conversions);
	tcase_add_test(tc, fields_v2_cannot_apply);
	tcase_add_test(tc, device_rules_become_a_device_program_attached_last);
	tcase_add_test(tc, freeze_kill_pids_stats);
	tcase_add_test(tc, open_existing_and_remove_only_leaf);
	suite_add_tcase(s, tc);
	return s;
}
