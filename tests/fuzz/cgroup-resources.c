/* linux.resources of an OCI config (berth_cgroup_set_resources): planned,
 * checked and written into fake v2 and v1 cgroup trees (tests/unit's), so
 * every value form reaches the code that turns it into cgroup files. */
#pragma GCC diagnostic ignored "-Wunused-function" /* the header's helpers for Check suites */
#define UNIT_NO_MAIN
#include "fuzz.h"

#include <check.h>

/* Check's assertions report to a test runner; here there is none, so a
 * passing one does nothing and a failing one aborts (a finding). */
static void fuzz_ck_failed(const char *file, int line)
{
	fprintf(stderr, "%s:%d: a fake cgroup tree's check failed\n", file, line);
	abort();
}
#undef _mark_point
#define _mark_point(file, line) ((void)0)
#define _ck_assert_failed(file, line, ...) fuzz_ck_failed(file, line)

#include "cgroup-fake.h"

static berth_cgroup *cg_v2, *cg_v1;
static fake_tree *trees[2];
static char *memory_dir; /* the v1 cgroup's in the memory hierarchy */

static void remove_trees(void)
{
	for (int i = 0; i < 2; i++)
		bt_rm_rf(trees[i]->dir, NULL);
}

static void setup(void)
{
	fake_tree *v2 = fake_new("", true, "cpuset cpu io memory hugetlb pids\n", "cpuset cpu io memory pids\n");
	/* the unit suites' v1 host */
	fake_tree *v1 = fake_new("blkio cpu,cpuacct cpuset devices freezer memory pids systemd", false, NULL, NULL);

	trees[0] = v2;
	trees[1] = v1;
	atexit(remove_trees);
	cg_v2 = fake_create(v2);
	cg_v1 = fake_create(v1);
	memory_dir = bt_strdup_printf("%s/memory/c", v1->root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = fuzz_string(data, size);
	berth_cgroup *cgs[2];
	berth_error *err = NULL;

	if (!cg_v2)
		setup();
	cgs[0] = cg_v2;
	cgs[1] = cg_v1;
	/* each input starts from a new cgroup's limits, as the kernel makes them */
	fake_put(memory_dir, "memory.limit_in_bytes", "9223372036854771712\n");
	fake_put(memory_dir, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
	for (int i = 0; i < 2; i++) {
		fake_log_clear(trees[i]);
		if (fake_apply(cgs[i], json, &err) < 0) {
			FUZZ_CHECK(err);
			berth_error_free(err);
			err = NULL;
		}
	}
	free(json);
	return 0;
}
