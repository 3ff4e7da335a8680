/* lib/cgroup on a hybrid host: v1 hierarchies plus a cgroup2 tree at
 * unified/ with no controllers delegated, as on this project's CI machine. */
#include "cgroup-fake.h"

#define HYBRID_DIRS "blkio cpu,cpuacct cpuset devices freezer memory pids systemd"

static fake_tree *hybrid_tree(const char *v2_subtree)
{
	return fake_new(HYBRID_DIRS, false, "hugetlb\n", v2_subtree);
}

START_TEST(detects_hybrid)
{
	fake_tree *t = hybrid_tree("");
	berth_error *err = NULL;
	char *ctl;

	ck_assert_int_eq(t->host->mode, BERTH_CGROUP_HYBRID);
	ck_assert_str_eq(berth_cgroup_mode_name(t->host->mode), "hybrid");
	ck_assert_int_eq(t->host->nv1, 8);
	ck_assert_str_eq(t->host->v2_mount + strlen(t->root), "/unified");
	ck_assert_ok(bt_cgroup_host_controllers(t->host, &ctl, &err), err);
	ck_assert_str_eq(ctl, "blkio cpu cpuacct cpuset devices freezer hugetlb memory pids");
	free(ctl);
	fake_free(t, true);
}
END_TEST

/* The cgroup module's view of a fake host, as `berth info` shows it. */
static void assert_info(fake_tree *t, const char *mode, const char *v1, const char *v2,
			const char *delegated)
{
	berth_error *err = NULL;
	berth_info *info;

	ck_assert_ok(bt_cgroup_host_info(t->host, &info, &err), err);
	ck_assert_uint_eq(berth_info_count(info), 4);
	ck_assert_str_eq(berth_info_key(info, 0), "mode");
	ck_assert_str_eq(berth_info_value(info, 0), mode);
	ck_assert_str_eq(berth_info_lookup(info, "v1.controllers"), v1);
	ck_assert_str_eq(berth_info_lookup(info, "v2.controllers"), v2);
	ck_assert_str_eq(berth_info_lookup(info, "v2.delegated"), delegated);
	berth_info_free(info);
	fake_free(t, true);
}

START_TEST(info_splits_v1_v2_and_delegated)
{
	berth_error *err = NULL;
	berth_info *info;

	/* named hierarchies (systemd) are not controllers */
	assert_info(hybrid_tree("hugetlb\n"), "hybrid", "blkio cpu cpuacct cpuset devices freezer memory pids",
		    "hugetlb", "hugetlb");
	/* one mode alone: empty values, not missing ones */
	assert_info(fake_new("memory pids", false, NULL, NULL), "v1", "memory pids", "", "");
	assert_info(fake_new("", true, "cpuset cpu io memory pids\n", "cpu memory\n"), "v2", "",
		    "cpuset cpu io memory pids", "cpu memory");
	/* the real host, through the public call: the same four keys */
	ck_assert_ok(berth_cgroup_info_new(&info, &err), err);
	ck_assert_uint_eq(berth_info_count(info), 4);
	ck_assert_ptr_nonnull(berth_info_lookup(info, "v2.delegated"));
	berth_info_free(info);
}
END_TEST

START_TEST(one_directory_per_hierarchy_and_v2)
{
	fake_tree *t = hybrid_tree("");
	berth_cgroup *cg;
	berth_error *err = NULL;
	int *pids;
	size_t n;
	char *d;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "rel", "x", &cg, &err), err);
	ck_assert_int_eq(cg->ndirs, 9);
	ck_assert_int_eq(cg->v2, 8);
	/* relative: the v2 tree's own line of /proc/self/cgroup */
	ck_assert_str_eq(berth_cgroup_path(cg), "/user.slice/session-1.scope/rel");
	ck_assert_str_eq(cg->dirs[0].dir + strlen(t->root), "/blkio/user.slice/rel");
	ck_assert_str_eq(cg->dirs[8].dir + strlen(t->root), "/unified/user.slice/session-1.scope/rel");
	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);

	cg = fake_create(t);
	ck_assert_ok(berth_cgroup_attach(cg, 77, &err), err);
	ck_assert(strstr(t->log, "memory/c/cgroup.procs=77\n"));
	ck_assert(strstr(t->log, "systemd/c/cgroup.procs=77\n"));
	ck_assert(strstr(t->log, "unified/c/cgroup.procs=77\n"));
	/* the process list comes from the v2 tree */
	d = unit_path(t->root, "unified/c");
	fake_put(d, "cgroup.procs", "77\n");
	free(d);
	ck_assert_ok(berth_cgroup_pids(cg, &pids, &n, &err), err);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pids[0], 77);
	berth_cgroup_pids_free(pids);
	/* freezing uses the v1 freezer; kill uses cgroup.kill of the v2 tree */
	fake_log_clear(t);
	ck_assert_ok(berth_cgroup_freeze(cg, &err), err);
	ck_assert_ok(berth_cgroup_thaw(cg, &err), err);
	ck_assert_ok(berth_cgroup_kill(cg, &err), err);
	ck_assert_log(t, "freezer/c/freezer.state=FROZEN\n"
			 "freezer/c/freezer.state=THAWED\n"
			 "unified/c/cgroup.kill=1\n");
	fake_done(t, cg);
}
END_TEST

START_TEST(resources_go_to_v1_and_unified_to_v2)
{
	fake_tree *t = hybrid_tree("");
	berth_cgroup *cg;
	berth_error *err = NULL;
	char *d;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/c", "x", &cg, &err), err);
	d = unit_path(t->root, "unified/c");
	fake_put(d, "memory.pressure", "");
	free(d);
	fake_log_clear(t);
	ck_assert_ok(fake_apply(cg, "{\"memory\": {\"limit\": 1000000, \"swappiness\": 0},"
				    "\"pids\": {\"limit\": 16}, \"cpu\": {\"shares\": 1024},"
				    "\"devices\": [{\"allow\": false, \"access\": \"rwm\"}],"
				    "\"unified\": {\"memory.pressure\": \"some 150000 1000000\"}}", &err), err);
	ck_assert_log(t, "memory/c/memory.limit_in_bytes=1000000\n"
			 "memory/c/memory.swappiness=0\n"
			 "pids/c/pids.max=16\n"
			 "cpu,cpuacct/c/cpu.shares=1024\n"
			 "devices/c/devices.deny=a *:* rwm\n"
			 "unified/c/memory.pressure=some 150000 1000000\n");
	/* hugetlb is on the v2 root but not delegated, and not a v1 hierarchy */
	ck_assert_fails(fake_apply(cg, "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 2097152}]}", &err),
			err, BERTH_EUNSUPPORTED, "linux.resources.hugepageLimits[0]: hugetlb controller not available");
	ck_assert_fails(fake_apply(cg, "{\"unified\": {\"memory.max\": \"1\"}}", &err), err,
			BERTH_EUNSUPPORTED, "memory.max is not available");
	fake_done(t, cg);
}
END_TEST

START_TEST(v2_controller_used_when_no_v1_hierarchy_has_it)
{
	/* a host that delegates hugetlb on its v2 tree: the limit goes there */
	fake_tree *t = hybrid_tree("hugetlb\n");
	berth_cgroup *cg;
	berth_error *err = NULL;

	cg = fake_create(t);
	ck_assert_ok(fake_apply(cg, "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 2097152}]}", &err), err);
	ck_assert_log(t, "unified/c/hugetlb.2MB.max=2097152\n");
	ck_assert_fails(fake_apply(cg, "{\"hugepageLimits\": [{\"pageSize\": \"64KB\", \"limit\": 0}]}", &err),
			err, BERTH_EUNSUPPORTED, "linux.resources.hugepageLimits[0]: hugetlb.64KB.max is not available");
	ck_assert_fails(fake_apply(cg, "{\"hugepageLimits\": [{\"pageSize\": \"../x\", \"limit\": 0}]}", &err),
			err, BERTH_EINVAL, "linux.resources.hugepageLimits[0].pageSize");
	fake_done(t, cg);
}
END_TEST

START_TEST(create_failure_rolls_back)
{
	fake_tree *t = hybrid_tree("");
	berth_cgroup *cg;
	berth_error *err = NULL;
	char *d = unit_path(t->root, "unified/taken");

	/* the leaf exists in the last hierarchy only: everything made is undone */
	ck_assert_int_eq(mkdir(d, 0755), 0);
	free(t->before);
	t->before = fake_snapshot(t);
	ck_assert_fails(bt_cgroup_create(NULL, t->host, "/taken", "x", &cg, &err), err, BERTH_EEXISTS,
			"exists already");
	{
		char *now = fake_snapshot(t);
		ck_assert_str_eq(now, t->before);
		free(now);
	}
	ck_assert_int_eq(rmdir(d), 0);
	free(d);
	free(t->before);
	t->before = fake_snapshot(t);
	fake_free(t, true);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("cgroup_hybrid");
	TCase *tc = tcase_create("hybrid");

	tcase_add_test(tc, detects_hybrid);
	tcase_add_test(tc, info_splits_v1_v2_and_delegated);
	tcase_add_test(tc, one_directory_per_hierarchy_and_v2);
	tcase_add_test(tc, resources_go_to_v1_and_unified_to_v2);
	tcase_add_test(tc, v2_controller_used_when_no_v1_hierarchy_has_it);
	tcase_add_test(tc, create_failure_rolls_back);
	suite_add_tcase(s, tc);
	return s;
}
