/* The runtime library on the real kernel, as root: what the CLI test
 * (runtime-cli.sh) cannot reach from outside. A config handed over as a
 * jansson object (bt_runtime_create_json), failures that must leave no
 * state, cgroup, mount or process behind, a mount destination that is a
 * symlink pointing at the host, a host directory fd leaked into the child
 * and named as cwd (CVE-2024-21626), hook timeouts, exec through the API.
 *
 * Containers are named berth-test-<pid>-<testpid>-<n>, their cgroups live
 * under /berth-test-<pid> and their state and bundles under
 * /tmp/berth-test-<pid>; teardown deletes them, and main removes whatever a
 * failed test left there (processes by PID through their cgroup, then the
 * cgroups and the directory). Exits 77 when not root or without busybox. */
int unit_main(void);
#define main unit_main
#include "../unit/unit.h"
#undef main

#include "runtime-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char run_dir[64], cgparent[64];
static char *tmp, *bundle, *rootfs;
static berth_ctx *ctx;
static berth_runtime *rt;
static int serial;

static void setup(void)
{
	static const char *const applets[] = { "sh", "true", "sleep", "cat", "test", "grep", "ls", "echo" };
	berth_runtime_opts ro = BERTH_RUNTIME_OPTS_INIT;
	berth_error *err = NULL;
	char *bin, *p, *state;

	tmp = bt_strdup_printf("%s/XXXXXX", run_dir);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	chmod(tmp, 0755);
	bundle = unit_path(tmp, "bundle");
	rootfs = unit_path(bundle, "rootfs");
	bin = unit_path(rootfs, "bin");
	ck_assert_ok(bt_mkdir_p(bin, 0755, &err), err);
	p = unit_path(bin, "busybox");
	{
		char *data;
		size_t len;

		ck_assert_ok(bt_read_file("/bin/busybox", 64 << 20, &data, &len, &err), err);
		ck_assert_ok(bt_write_file_atomic(p, data, len, 0755, &err), err);
		free(data);
	}
	free(p);
	for (size_t i = 0; i < BT_ARRAY_SIZE(applets); i++) {
		p = unit_path(bin, applets[i]);
		ck_assert_int_eq(symlink("busybox", p), 0);
		free(p);
	}
	free(bin);
	state = unit_path(tmp, "state");
	ro.root = state;
	ck_assert_ok(berth_ctx_new(&ctx, NULL, &err), err);
	ck_assert_ok(berth_runtime_new(ctx, &ro, &rt, &err), err);
	free(state);
}

static void teardown(void)
{
	char **ids;
	size_t n;

	/* every container this test made, running or not */
	if (berth_runtime_list(rt, &ids, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++)
			berth_runtime_delete(rt, ids[i], BERTH_RUNTIME_DELETE_FORCE, NULL);
		berth_runtime_list_free(ids, n);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	berth_runtime_free(rt);
	berth_ctx_free(ctx);
	bt_rm_rf(tmp, NULL);
	free(tmp);
	free(bundle);
	free(rootfs);
}

static char *new_id(void)
{
	char *id = bt_strdup_printf("%s-%d-%d", cgparent + 1, (int)getpid(), ++serial);
	ck_assert_ptr_nonnull(id);
	return id;
}

/* The default config running argv (NULL-terminated), in our cgroup parent. */
static json_t *config(const char *id, const char *const *argv)
{
	berth_error *err = NULL;
	char *text = NULL;
	json_t *c, *args = json_array(), *proc;

	ck_assert_ok(berth_runtime_spec_default(0, &text, &err), err);
	c = json_loads(text, 0, NULL);
	berth_string_free(text);
	proc = json_object_get(c, "process");
	json_object_set_new(proc, "terminal", json_false());
	for (; *argv; argv++)
		json_array_append_new(args, json_string(*argv));
	json_object_set_new(proc, "args", args);
	json_object_set_new(json_object_get(c, "linux"), "cgroupsPath",
			    json_sprintf("%s/%s", cgparent, id));
	return c;
}

static int create(const char *id, json_t *c, int *pid, berth_error **err)
{
	int rc = bt_runtime_create_json(rt, id, bundle, c, NULL, pid, err);

	json_decref(c);
	return rc;
}

static int wait_exit(int pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Nothing of container id remains: state, cgroup, mounts of our rootfs,
 * child processes. */
static void assert_nothing_left(const char *id)
{
	berth_error *err = NULL;
	berth_cgroup *cg = NULL;
	char *path = bt_strdup_printf("%s/%s", berth_runtime_root(rt), id), *cgpath, *mi;
	size_t len;

	ck_assert_msg(access(path, F_OK) < 0 && errno == ENOENT, "state of %s left behind", id);
	free(path);
	cgpath = bt_strdup_printf("%s/%s", cgparent, id);
	ck_assert_int_eq(berth_cgroup_open(ctx, cgpath, id, &cg, &err), BERTH_ENOTFOUND);
	berth_error_free(err);
	free(cgpath);
	ck_assert_ok(bt_read_file("/proc/self/mountinfo", 16 << 20, &mi, &len, &err), err);
	ck_assert_msg(!strstr(mi, rootfs), "a mount of %s is left", rootfs);
	free(mi);
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

START_TEST(run_through_the_json_api)
{
	static const char *const argv[] = { "/bin/sh", "-c", "exit 3", NULL };
	berth_error *err = NULL;
	char *id = new_id(), *state;
	int pid;

	ck_assert_ok(create(id, config(id, argv), &pid, &err), err);
	ck_assert_ok(berth_runtime_state(rt, id, &state, &err), err);
	ck_assert_ptr_nonnull(strstr(state, "\"created\""));
	berth_string_free(state);
	ck_assert_ok(berth_runtime_start(rt, id, &err), err);
	ck_assert_int_eq(wait_exit(pid), 3);
	ck_assert_fails(berth_runtime_start(rt, id, &err), err, BERTH_ESTATE, "stopped, not created");
	ck_assert_fails(berth_runtime_kill(rt, id, SIGTERM, 0, &err), err, BERTH_ESTATE, "not running");
	ck_assert_ok(berth_runtime_delete(rt, id, 0, &err), err);
	ck_assert_fails(berth_runtime_delete(rt, id, 0, &err), err, BERTH_ENOTFOUND, "does not exist");
	assert_nothing_left(id);
	free(id);
}
END_TEST

START_TEST(failed_mount_leaves_nothing)
{
	static const char *const argv[] = { "/bin/true", NULL };
	berth_error *err = NULL;
	char *id = new_id();
	json_t *c = config(id, argv);
	int pid;

	json_array_append_new(json_object_get(c, "mounts"),
			      json_pack("{s:s,s:s,s:s}", "destination", "/mnt", "type", "berth-no-such-fs",
					"source", "none"));
	ck_assert_fails(create(id, c, &pid, &err), err, BERTH_EOS, "(berth-no-such-fs /mnt)");
	ck_assert_int_eq(pid, -1);
	assert_nothing_left(id);
	free(id);
}
END_TEST

START_TEST(duplicate_id_leaves_the_first)
{
	static const char *const argv[] = { "/bin/sleep", "30", NULL };
	berth_error *err = NULL;
	char *id = new_id(), *state;
	int pid, pid2;

	ck_assert_ok(create(id, config(id, argv), &pid, &err), err);
	ck_assert_fails(create(id, config(id, argv), &pid2, &err), err, BERTH_EEXISTS, "exists already");
	ck_assert_ok(berth_runtime_state(rt, id, &state, &err), err);
	ck_assert_ptr_nonnull(strstr(state, "\"created\""));
	berth_string_free(state);
	ck_assert_ok(berth_runtime_delete(rt, id, 0, &err), err); /* created: allowed */
	waitpid(pid, NULL, 0);
	assert_nothing_left(id);
	free(id);
}
END_TEST

START_TEST(symlinked_mount_destination_stays_inside)
{
	berth_error *err = NULL;
	char *id = new_id(), *host = unit_path(tmp, "host"), *link = unit_path(rootfs, "escape"),
	     *host_inner = unit_path(host, "inner");
	/* the link resolved in the root: the tmpfs is on <root><host>/inner */
	char *script = bt_strdup_printf("grep -q ' %s/inner ' /proc/self/mountinfo", host);
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	json_t *c = config(id, argv);
	int pid;

	ck_assert_int_eq(mkdir(host, 0755), 0);
	/* absolute: on the host it would lead out of the rootfs */
	ck_assert_int_eq(symlink(host, link), 0);
	json_array_append_new(json_object_get(c, "mounts"),
			      json_pack("{s:s,s:s,s:s}", "destination", "/escape/inner", "type", "tmpfs",
					"source", "tmpfs"));
	/* inside the root the link dangles: refused, nothing made on the host */
	ck_assert_fails(create(id, json_incref(c), &pid, &err), err, BERTH_ENOTFOUND,
			"mounts[7] (tmpfs /escape/inner)");
	ck_assert_msg(access(host_inner, F_OK) < 0, "the mount target was made on the host: %s", host_inner);
	assert_nothing_left(id);
	/* with the target present in the root, the mount lands there */
	{
		char *inside = bt_strdup_printf("%s%s", rootfs, host);

		ck_assert_ok(bt_mkdir_p(inside, 0755, &err), err);
		free(inside);
	}
	ck_assert_ok(create(id, c, &pid, &err), err);
	ck_assert_ok(berth_runtime_start(rt, id, &err), err);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_msg(access(host_inner, F_OK) < 0, "the mount target was made on the host: %s", host_inner);
	ck_assert_ok(berth_runtime_delete(rt, id, 0, &err), err);
	assert_nothing_left(id);
	free(host);
	free(link);
	free(host_inner);
	free(script);
	free(id);
}
END_TEST

START_TEST(leaked_host_fd_is_no_cwd)
{
	static const char *const argv[] = { "/bin/true", NULL };
	berth_error *err = NULL;
	char *id = new_id(), cwd[64];
	json_t *c = config(id, argv);
	int fd = open(tmp, O_PATH | O_DIRECTORY), pid; /* no O_CLOEXEC: leaked on purpose */

	ck_assert_int_ge(fd, 0);
	snprintf(cwd, sizeof(cwd), "/proc/self/fd/%d", fd);
	json_object_set_new(json_object_get(c, "process"), "cwd", json_string(cwd));
	ck_assert_fails(create(id, c, &pid, &err), err, BERTH_ENOTFOUND, "entering process.cwd");
	close(fd);
	assert_nothing_left(id);
	free(id);
}
END_TEST

START_TEST(hook_timeout_is_an_error)
{
	static const char *const argv[] = { "/bin/true", NULL };
	berth_error *err = NULL;
	char *id = new_id();
	json_t *c = config(id, argv);
	int pid;

	json_object_set_new(c, "hooks", json_pack("{s:[{s:s,s:[s,s],s:i}]}", "createRuntime", "path",
						  "/bin/sleep", "args", "sleep", "5", "timeout", 1));
	ck_assert_fails(create(id, c, &pid, &err), err, BERTH_ECANCELED,
			"hooks.createRuntime[0] /bin/sleep: timed out after 1 s");
	assert_nothing_left(id);
	free(id);
}
END_TEST

START_TEST(exec_through_the_api)
{
	static const char *const argv[] = { "/bin/sleep", "30", NULL };
	berth_error *err = NULL;
	char *id = new_id();
	int pid, epid;

	ck_assert_ok(create(id, config(id, argv), &pid, &err), err);
	/* before start the init is still this (host) binary: nothing in the
	 * container may read or write it through /proc/1/exe (CVE-2019-5736) */
	ck_assert_ok(berth_runtime_exec(rt, id, "{\"args\":[\"/bin/sh\",\"-c\","
					  "\"cat /proc/1/exe > /dev/null 2>&1 && exit 1; "
					  "test -r /proc/1/exe && exit 2; exit 0\"],\"cwd\":\"/\"}",
					  NULL, &epid, &err), err);
	ck_assert_int_eq(wait_exit(epid), 0);
	ck_assert_ok(berth_runtime_start(rt, id, &err), err);
	ck_assert_ok(berth_runtime_exec(rt, id, "{\"args\":[\"/bin/sh\",\"-c\",\"exit 7\"],\"cwd\":\"/\"}",
					  NULL, &epid, &err), err);
	ck_assert_int_eq(wait_exit(epid), 7);
	{
		berth_cgroup_stats stats = BERTH_CGROUP_STATS_INIT;
		int *pids;
		size_t n;

		ck_assert_ok(berth_runtime_stats(rt, id, &stats, &err), err);
		ck_assert_uint_ge(stats.pids_current, 1);
		ck_assert_uint_gt(stats.memory_usage, 0);
		ck_assert_ok(berth_runtime_ps(rt, id, &pids, &n, &err), err);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(pids[0], pid);
		berth_runtime_pids_free(pids);
	}
	ck_assert_fails(berth_runtime_exec(rt, id, "{\"args\":[\"/bin/nope\"],\"cwd\":\"/\"}", NULL, &epid,
					     &err), err, BERTH_ENOTFOUND, "finding process.args[0]");
	ck_assert_fails(berth_runtime_exec(rt, id, "{\"args\":[\"/bin/true\"],\"cwd\":\"/\",\"terminal\":true}",
					     NULL, &epid, &err), err, BERTH_EINVAL, "no console socket");
	ck_assert_fails(berth_runtime_delete(rt, id, 0, &err), err, BERTH_ESTATE, "it is running");
	ck_assert_ok(berth_runtime_delete(rt, id, BERTH_RUNTIME_DELETE_FORCE, &err), err);
	waitpid(pid, NULL, 0);
	assert_nothing_left(id);
	free(id);
}
END_TEST

START_TEST(new_time_namespace_with_offsets)
{
	static const char *const argv[] = { "/bin/sh", "-c", "read up rest < /proc/uptime; test ${up%.*} -gt 31536000",
					    NULL };
	berth_error *err = NULL;
	char *id = new_id(), host_time[64], after[64];
	json_t *c = config(id, argv);
	ssize_t n;
	int pid;

	n = readlink("/proc/self/ns/time_for_children", host_time, sizeof(host_time) - 1);
	ck_assert_int_gt(n, 0);
	host_time[n] = '\0';
	json_array_append_new(json_object_get(json_object_get(c, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "time"));
	json_object_set_new(json_object_get(c, "linux"), "timeOffsets",
			    json_pack("{s:{s:i}}", "boottime", "secs", 366 * 86400));
	ck_assert_ok(create(id, c, &pid, &err), err);
	/* the caller's own namespace for children is back to what it was */
	n = readlink("/proc/self/ns/time_for_children", after, sizeof(after) - 1);
	ck_assert_int_gt(n, 0);
	after[n] = '\0';
	ck_assert_str_eq(after, host_time);
	ck_assert_ok(berth_runtime_start(rt, id, &err), err);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_ok(berth_runtime_delete(rt, id, 0, &err), err);
	assert_nothing_left(id);
	free(id);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("runtime-host");
	TCase *tc = tcase_create("host");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, run_through_the_json_api);
	tcase_add_test(tc, failed_mount_leaves_nothing);
	tcase_add_test(tc, duplicate_id_leaves_the_first);
	tcase_add_test(tc, symlinked_mount_destination_stays_inside);
	tcase_add_test(tc, leaked_host_fd_is_no_cwd);
	tcase_add_test(tc, hook_timeout_is_an_error);
	tcase_add_test(tc, exec_through_the_api);
	tcase_add_test(tc, new_time_namespace_with_offsets);
	suite_add_tcase(s, tc);
	return s;
}

/* What failed tests left: their containers' cgroups (processes killed by
 * PID), our cgroup parent, the run directory. */
static void cleanup_run(void)
{
	berth_ctx *c = NULL;
	char dir[128];
	struct dirent *de;
	DIR *d;

	if (berth_ctx_new(&c, NULL, NULL) == 0) {
		/* every hierarchy has the same children; pids exists on v1 and v2 hosts */
		const char *const where[] = { "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

		for (size_t w = 0; w < BT_ARRAY_SIZE(where); w++) {
			bt_rt_jpath(dir, sizeof(dir), "%s%s", where[w], cgparent);
			if (!(d = opendir(dir)))
				continue;
			while ((de = readdir(d))) {
				char path[160];
				berth_cgroup *cg;

				if (strncmp(de->d_name, cgparent + 1, strlen(cgparent + 1)))
					continue;
				bt_rt_jpath(path, sizeof(path), "%s/%s", cgparent, de->d_name);
				if (berth_cgroup_open(c, path, de->d_name, &cg, NULL) == 0) {
					berth_cgroup_kill(cg, NULL);
					berth_cgroup_remove(cg, NULL);
					berth_cgroup_free(cg);
				}
			}
			closedir(d);
		}
		{
			berth_cgroup *cg;

			if (berth_cgroup_open(c, cgparent, cgparent + 1, &cg, NULL) == 0) {
				berth_cgroup_remove(cg, NULL);
				berth_cgroup_free(cg);
			}
		}
		berth_ctx_free(c);
	}
	bt_rm_rf(run_dir, NULL);
}

int main(void)
{
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root (namespaces, mounts, cgroups)\n");
		return 77;
	}
	if (access("/bin/busybox", X_OK) < 0) {
		fprintf(stderr, "skipped: needs /bin/busybox (Debian: busybox-static)\n");
		return 77;
	}
	snprintf(cgparent, sizeof(cgparent), "/berth-test-%d", (int)getpid());
	bt_rt_jpath(run_dir, sizeof(run_dir), "/tmp%s", cgparent);
	if (mkdir(run_dir, 0755) < 0) {
		perror(run_dir);
		return 99;
	}
	rc = unit_main();
	cleanup_run();
	return rc;
}
