/* lib/runtime/config.c: runtime-spec configs checked before anything is
 * made, with errors naming the JSON path. No root needed: parsing touches
 * only the bundle directory (root.path must exist). */
#include "unit.h"
#include "runtime-internal.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

static char *bundle;

static void setup(void)
{
	char *rootfs;

	bundle = unit_tmpdir();
	rootfs = unit_path(bundle, "rootfs");
	ck_assert_int_eq(mkdir(rootfs, 0755), 0);
	free(rootfs);
}

static void teardown(void)
{
	unit_tmpdir_free(bundle);
}

/* The default config (berth_runtime_spec_default) with `edit` applied: a
 * JSON object whose members replace the config's at the dotted paths. */
static json_t *config_with(const char *path, const char *value_json)
{
	char *text = NULL;
	berth_error *err = NULL;
	json_t *c, *obj, *v;
	char *p, *dot, *key;

	ck_assert_ok(berth_runtime_spec_default(0, &text, &err), err);
	c = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(c);
	berth_string_free(text);
	/* runc's default asks for a terminal; these tests want none */
	json_object_set_new(json_object_get(c, "process"), "terminal", json_false());
	if (!path)
		return c;
	p = strdup(path);
	obj = c;
	for (key = p; (dot = strchr(key, '.')); key = dot + 1) {
		*dot = '\0';
		if (!json_object_get(obj, key))
			json_object_set_new(obj, key, json_object());
		obj = json_object_get(obj, key);
	}
	if (value_json) {
		v = json_loads(value_json, JSON_DECODE_ANY, NULL);
		ck_assert_msg(v != NULL, "bad test JSON %s", value_json);
		json_object_set_new(obj, key, v);
	} else {
		json_object_del(obj, key);
	}
	free(p);
	return c;
}

/* Parses c, and compiles its seccomp filter as create does after parsing. */
static int parse(json_t *c, bt_rt_config **out, berth_error **err)
{
	int rc = bt_rt_config_parse(c, bundle, out, err);

	if (rc == 0 && (*out)->seccomp_json && (rc = bt_rt_seccomp_compile((*out)->seccomp_json, &(*out)->seccomp, err)) < 0) {
		bt_rt_config_free(*out);
		*out = NULL;
	}
	json_decref(c);
	return rc;
}

#define EXPECT_FAIL(path, value, code, part)                                      \
	do {                                                                      \
		bt_rt_config *cfg_ = NULL;                                        \
		berth_error *err_ = NULL;                                         \
		ck_assert_fails(parse(config_with(path, value), &cfg_, &err_), err_, code, part); \
		ck_assert_ptr_null(cfg_);                                         \
	} while (0)

START_TEST(default_config_parses)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;

	ck_assert_ok(parse(config_with(NULL, NULL), &cfg, &err), err);
	ck_assert_str_eq(cfg->proc.args[0], "sh");
	ck_assert_str_eq(cfg->proc.cwd, "/");
	ck_assert(cfg->root_ro);
	ck_assert_str_eq(cfg->hostname, "berth");
	ck_assert_int_eq(cfg->clone_flags,
			 CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
	ck_assert_int_eq(cfg->clone_flags_at_clone, cfg->clone_flags);
	ck_assert_int_eq(cfg->unshare_flags, 0);
	ck_assert_uint_eq(cfg->nmounts, 7);
	ck_assert_str_eq(cfg->mounts[1].dest, "/dev");
	ck_assert_str_eq(cfg->mounts[1].data, "mode=755,size=65536k");
	ck_assert(cfg->mounts[1].flags & MS_NOSUID);
	ck_assert(cfg->mounts[1].flags & MS_STRICTATIME);
	ck_assert(cfg->mounts[6].kind & BT_MNT_CGROUP);
	ck_assert_uint_eq(cfg->proc.nrlimits, 1);
	ck_assert_uint_eq(cfg->proc.rlimits[0].lim.rlim_max, 1024);
	ck_assert(cfg->proc.nnp);
	ck_assert_uint_eq(cfg->proc.caps[BT_CAP_BOUNDING], (1ULL << 29) | (1ULL << 5) | (1ULL << 10));
	/* ambient without inheritable cannot be raised: dropped */
	ck_assert_uint_eq(cfg->proc.caps[BT_CAP_AMBIENT], 0);
	ck_assert_uint_eq(cfg->ndevices, 6);
	ck_assert_str_eq(cfg->devices[0].path, "/dev/null");
	ck_assert_uint_eq(cfg->devices[0].dev, makedev(1, 3));
	ck_assert_uint_eq(cfg->nmasked, 10);
	ck_assert_uint_eq(cfg->nreadonly, 5);
	ck_assert_uint_eq(cfg->root_propagation, MS_PRIVATE | MS_REC);
	bt_rt_config_free(cfg);
}
END_TEST

START_TEST(unknown_namespace_names_its_path)
{
	EXPECT_FAIL("linux.namespaces", "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"foo\"}]",
		    BERTH_EINVAL, "linux.namespaces[2].type: unknown namespace \"foo\"");
	EXPECT_FAIL("linux.namespaces", "[{\"type\":\"pid\"},{\"type\":\"pid\"},{\"type\":\"mount\"}]",
		    BERTH_EINVAL, "linux.namespaces[1].type: namespace \"pid\" given twice");
	/* the runtime's mount namespace: the base config's mounts are refused there */
	EXPECT_FAIL("linux.namespaces", "[{\"type\":\"pid\"},{\"type\":\"uts\"}]", BERTH_EUNSUPPORTED,
		    "without a mount namespace in linux.namespaces the container shares the runtime's");
	EXPECT_FAIL("linux.namespaces", "[{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"netns\"}]",
		    BERTH_EINVAL, "linux.namespaces[1].path: \"netns\" is not an absolute path");
	EXPECT_FAIL("linux.namespaces", "[{\"type\":\"mount\"},{\"type\":7}]", BERTH_EINVAL,
		    "linux.namespaces[1].type: expected a string, got integer");
}
END_TEST

START_TEST(user_namespace_needs_mappings)
{
	EXPECT_FAIL("linux.namespaces", "[{\"type\":\"mount\"},{\"type\":\"user\"}]", BERTH_EINVAL,
		    "needs uidMappings and gidMappings");
	EXPECT_FAIL("linux.uidMappings", "[{\"containerID\":0,\"hostID\":1000,\"size\":-1}]",
		    BERTH_EINVAL, "linux.uidMappings[0]: ids and size out of range");
	EXPECT_FAIL("linux.uidMappings", "[{\"containerID\":0,\"hostID\":1000,\"size\":1}]",
		    BERTH_EINVAL, "mappings given without a new user namespace");
}
END_TEST

START_TEST(user_namespace_is_joined_first)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;
	json_t *c = config_with("linux.namespaces",
				"[{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},"
				"{\"type\":\"pid\"},{\"type\":\"user\"}]");

	json_object_set_new(json_object_get(c, "linux"), "uidMappings",
			    json_loads("[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]", 0, NULL));
	json_object_set_new(json_object_get(c, "linux"), "gidMappings",
			    json_loads("[{\"containerID\":0,\"hostID\":100000,\"size\":65536},"
				       "{\"containerID\":65536,\"hostID\":300000,\"size\":1}]", 0, NULL));
	json_object_del(c, "hostname");
	ck_assert_ok(parse(c, &cfg, &err), err);
	ck_assert_int_eq(cfg->ns[0].type, CLONE_NEWUSER);
	ck_assert(cfg->new_userns);
	ck_assert_str_eq(cfg->uid_map, "0 100000 65536\n");
	ck_assert_str_eq(cfg->gid_map, "0 100000 65536\n65536 300000 1\n");
	/* joining net by path: the new namespaces are unshared after it,
	 * except pid, which only clone makes */
	ck_assert_int_eq(cfg->clone_flags_at_clone, CLONE_NEWPID);
	ck_assert_int_eq(cfg->unshare_flags, CLONE_NEWNS | CLONE_NEWUSER);
	bt_rt_config_free(cfg);
}
END_TEST

START_TEST(bad_process)
{
	EXPECT_FAIL("process.args", "[]", BERTH_EINVAL, "process.args: must name the program to run");
	EXPECT_FAIL("process.args", "[\"sh\", 3]", BERTH_EINVAL, "process.args[1]: expected a string, got integer");
	EXPECT_FAIL("process.cwd", "\"tmp\"", BERTH_EINVAL, "process.cwd: \"tmp\" is not an absolute path");
	EXPECT_FAIL("process.env", "[\"PATH=/bin\", \"NOEQUALS\"]", BERTH_EINVAL,
		    "process.env[1]: \"NOEQUALS\" is not NAME=VALUE");
	EXPECT_FAIL("process.user.uid", "-1", BERTH_EINVAL, "process.user.uid: -1 out of range");
	EXPECT_FAIL("process.user.umask", "512", BERTH_EINVAL, "process.user.umask: 512 out of range");
	EXPECT_FAIL("process.user.additionalGids", "[1, \"x\"]", BERTH_EINVAL,
		    "process.user.additionalGids[1]: expected a gid");
	EXPECT_FAIL("process.oomScoreAdj", "1001", BERTH_EINVAL, "process.oomScoreAdj: 1001 not in -1000..1000");
	EXPECT_FAIL("process.capabilities.bounding", "[\"CAP_NOPE\"]", BERTH_EINVAL,
		    "process.capabilities.bounding[0]: unknown capability \"CAP_NOPE\"");
	EXPECT_FAIL("process", NULL, BERTH_EINVAL, "process: missing");
}
END_TEST

START_TEST(bad_rlimits)
{
	EXPECT_FAIL("process.rlimits", "[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]", BERTH_EINVAL,
		    "process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"");
	EXPECT_FAIL("process.rlimits", "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":5}]", BERTH_EINVAL,
		    "process.rlimits[0]: soft limit 10 above hard limit 5");
	EXPECT_FAIL("process.rlimits",
		    "[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1},{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1}]",
		    BERTH_EINVAL, "process.rlimits[1].type: RLIMIT_CORE given twice");
	EXPECT_FAIL("process.rlimits", "[{\"type\":\"RLIMIT_CORE\",\"hard\":1}]", BERTH_EINVAL,
		    "process.rlimits[0].soft: missing");
}
END_TEST

START_TEST(bad_root_and_version)
{
	EXPECT_FAIL("root.path", "\"nothere\"", BERTH_ENOTFOUND, "root.path:");
	EXPECT_FAIL("root", NULL, BERTH_EINVAL, "root: missing");
	EXPECT_FAIL("ociVersion", "\"2.0.0\"", BERTH_EUNSUPPORTED, "ociVersion: \"2.0.0\" is not a runtime-spec version");
	EXPECT_FAIL("ociVersion", NULL, BERTH_EINVAL, "ociVersion: missing");
	EXPECT_FAIL("linux", NULL, BERTH_EINVAL, "linux: missing");
}
END_TEST

START_TEST(bad_mounts)
{
	EXPECT_FAIL("mounts", "[{\"destination\":\"proc\",\"type\":\"proc\"}]", BERTH_EINVAL,
		    "mounts[0].destination: \"proc\" is not an absolute path");
	EXPECT_FAIL("mounts", "[{\"destination\":\"/a/../../etc\",\"type\":\"tmpfs\"}]", BERTH_ESCAPE,
		    "mounts[0].destination: \"/a/../../etc\" contains \"..\"");
	EXPECT_FAIL("mounts", "[{\"destination\":\"/x\",\"type\":\"bind\"}]", BERTH_EINVAL,
		    "mounts[0].source: a bind mount needs a source");
	EXPECT_FAIL("mounts", "[{\"destination\":\"/x\",\"source\":\"/nonexistent-berth\",\"options\":[\"rbind\"]}]",
		    BERTH_ENOTFOUND, "mounts[0].source: /nonexistent-berth");
	EXPECT_FAIL("mounts", "[{\"destination\":\"/x\",\"source\":\"tmpfs\"}]", BERTH_EINVAL,
		    "mounts[0].type: missing for a mount that is not a bind");
	EXPECT_FAIL("mounts", "[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"tmpcopyup\"]}]",
		    BERTH_EUNSUPPORTED, "mounts[0].options[0]: option \"tmpcopyup\" is not supported");
	EXPECT_FAIL("mounts", "[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"size=1,mode=7\"]}]",
		    BERTH_EINVAL, "holds a comma");
}
END_TEST

START_TEST(mount_options_become_flags_and_data)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;

	ck_assert_ok(parse(config_with("mounts",
				       "[{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
				       "\"options\":[\"ro\",\"rw\",\"noexec\",\"size=64k\",\"rslave\"]},"
				       "{\"destination\":\"/b\",\"type\":\"none\",\"source\":\"rootfs\","
				       "\"options\":[\"rbind\",\"ro\",\"size=1k\"]}]"),
			   &cfg, &err), err);
	ck_assert_uint_eq(cfg->mounts[0].flags, MS_NOEXEC);
	ck_assert_str_eq(cfg->mounts[0].data, "size=64k");
	ck_assert_uint_eq(cfg->mounts[0].propagation, MS_SLAVE | MS_REC);
	ck_assert_int_eq(cfg->mounts[1].kind, BT_MNT_BIND | BT_MNT_DIR | BT_MNT_RO_REMOUNT);
	ck_assert_ptr_null(cfg->mounts[1].data); /* binds take no data */
	ck_assert(!strncmp(cfg->mounts[1].source, bundle, strlen(bundle)));
	bt_rt_config_free(cfg);
}
END_TEST

START_TEST(bad_devices)
{
	EXPECT_FAIL("linux.devices", "[{\"path\":\"/dev/x\",\"type\":\"q\",\"major\":1,\"minor\":1}]", BERTH_EINVAL,
		    "linux.devices[0].type: unknown device type \"q\"");
	EXPECT_FAIL("linux.devices", "[{\"path\":\"/dev/x\",\"type\":\"c\"}]", BERTH_EINVAL,
		    "linux.devices[0]: major and minor are required");
	EXPECT_FAIL("linux.devices", "[{\"path\":\"/dev/../x\",\"type\":\"c\",\"major\":1,\"minor\":1}]",
		    BERTH_ESCAPE, "linux.devices[0].path");
	EXPECT_FAIL("linux.devices", "[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1,\"minor\":1,\"fileMode\":70000}]",
		    BERTH_EINVAL, "out of range");
}
END_TEST

START_TEST(sysctl_must_be_namespaced)
{
	EXPECT_FAIL("linux.sysctl", "{\"kernel.panic\":\"1\"}", BERTH_EINVAL,
		    "linux.sysctl.kernel.panic: not a namespaced sysctl");
	EXPECT_FAIL("linux.sysctl", "{\"net/../../kernel/panic\":\"1\"}", BERTH_EINVAL, "bad key");
	EXPECT_FAIL("linux.sysctl", "{\"net.ipv4.ip_forward\":1}", BERTH_EINVAL,
		    "linux.sysctl.net.ipv4.ip_forward: expected a string");
}
END_TEST

START_TEST(sysctl_and_hostname_need_their_namespace)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;
	json_t *c = config_with("linux.namespaces", "[{\"type\":\"mount\"},{\"type\":\"uts\"}]");

	json_object_set_new(json_object_get(c, "linux"), "sysctl",
			    json_pack("{s:s}", "net.ipv4.ip_forward", "1"));
	ck_assert_fails(parse(c, &cfg, &err), err, BERTH_EINVAL,
			"linux.sysctl.net.ipv4.ip_forward: the container does not have its own network namespace");
	c = config_with("linux.namespaces", "[{\"type\":\"mount\"}]");
	ck_assert_fails(parse(c, &cfg, &err), err, BERTH_EINVAL, "hostname: setting it needs a new uts namespace");
	c = config_with("linux.sysctl", "{\"net.ipv4.ip_forward\":\"1\"}");
	ck_assert_ok(parse(c, &cfg, &err), err);
	ck_assert_str_eq(cfg->sysctl[0].key, "net/ipv4/ip_forward");
	bt_rt_config_free(cfg);
}
END_TEST

START_TEST(bad_hooks)
{
	EXPECT_FAIL("hooks.poststart", "[{\"path\":\"hook\"}]", BERTH_EINVAL,
		    "hooks.poststart[0].path: \"hook\" is not an absolute path");
	EXPECT_FAIL("hooks.createRuntime", "[{\"path\":\"/bin/true\",\"timeout\":-3}]", BERTH_EINVAL,
		    "hooks.createRuntime[0].timeout: -3 must be positive");
	EXPECT_FAIL("hooks.prestart", "[{\"args\":[\"x\"]}]", BERTH_EINVAL, "hooks.prestart[0].path: missing");
}
END_TEST

START_TEST(hooks_parse)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;

	ck_assert_ok(parse(config_with("hooks.startContainer",
				       "[{\"path\":\"/bin/a\"},{\"path\":\"/bin/b\",\"args\":[\"b\",\"1\"],"
				       "\"env\":[\"X=1\"],\"timeout\":5}]"),
			   &cfg, &err), err);
	ck_assert_uint_eq(cfg->nhooks[BT_HOOK_START_CONTAINER], 2);
	ck_assert_str_eq(cfg->hooks[BT_HOOK_START_CONTAINER][0].args[0], "/bin/a");
	ck_assert_str_eq(cfg->hooks[BT_HOOK_START_CONTAINER][1].args[1], "1");
	ck_assert_str_eq(cfg->hooks[BT_HOOK_START_CONTAINER][1].env[0], "X=1");
	ck_assert_int_eq(cfg->hooks[BT_HOOK_START_CONTAINER][1].timeout, 5);
	bt_rt_config_free(cfg);
}
END_TEST

START_TEST(seccomp_compiles_before_the_fork)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;

	if (!berth_has_feature("seccomp"))
		return;
	ck_assert_ok(parse(config_with("linux.seccomp",
				       "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
				       "\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\",\"not_a_syscall\"],"
				       "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
				       "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\","
				       "\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}"),
			   &cfg, &err), err);
	ck_assert_ptr_nonnull(cfg->seccomp.bpf);
	ck_assert_uint_gt(cfg->seccomp.len, 4);
	bt_rt_config_free(cfg);
	EXPECT_FAIL("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_NOPE\"}", BERTH_EINVAL,
		    "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\"");
	EXPECT_FAIL("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		    "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		    BERTH_EINVAL, "linux.seccomp.syscalls[0].args[0].index: 9 not in 0..5");
	EXPECT_FAIL("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		    "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}",
		    BERTH_EINVAL, "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XX\"");
	EXPECT_FAIL("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", BERTH_EUNSUPPORTED,
		    "SCMP_ACT_NOTIFY is not supported");
	EXPECT_FAIL("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
		    BERTH_EINVAL, "linux.seccomp.architectures[0]: unknown architecture SCMP_ARCH_VAX");
}
END_TEST

/* Several conditions on one argument mean any of them (one rule each, as
 * runc and crun do); conditions on different arguments all must hold. */
START_TEST(seccomp_conditions_on_one_argument)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;
	const uint64_t p0[6] = { 0 }, p8[6] = { 8 }, p40008[6] = { 0x40008 }, p9[6] = { 9 };
	const uint64_t s12[6] = { 1, 2 }, s13[6] = { 1, 3 };

	if (!berth_has_feature("seccomp"))
		return;
	ck_assert_ok(parse(config_with("linux.seccomp",
				       "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
				       "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":["
				       "{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},"
				       "{\"index\":0,\"value\":262152,\"op\":\"SCMP_CMP_EQ\"},"
				       "{\"index\":0,\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]},"
				       "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":["
				       "{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
				       "{\"index\":1,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}]}"),
			   &cfg, &err), err);
	ck_assert_uint_eq(bt_rt_seccomp_answer(&cfg->seccomp, SYS_personality, p0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(bt_rt_seccomp_answer(&cfg->seccomp, SYS_personality, p8), SECCOMP_RET_ERRNO | 1);
	ck_assert_uint_eq(bt_rt_seccomp_answer(&cfg->seccomp, SYS_personality, p40008), SECCOMP_RET_ERRNO | 1);
	ck_assert_uint_eq(bt_rt_seccomp_answer(&cfg->seccomp, SYS_personality, p9), SECCOMP_RET_ERRNO | 1);
	ck_assert_uint_eq(bt_rt_seccomp_answer(&cfg->seccomp, SYS_socket, s12), SECCOMP_RET_ERRNO | 1);
	ck_assert_uint_eq(bt_rt_seccomp_answer(&cfg->seccomp, SYS_socket, s13), SECCOMP_RET_ALLOW);
	bt_rt_config_free(cfg);
}
END_TEST

START_TEST(time_namespace_and_offsets)
{
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;
	json_t *c;

	EXPECT_FAIL("linux.timeOffsets", "{\"monotonic\":{\"secs\":1}}", BERTH_EINVAL,
		    "linux.timeOffsets: given without a new time namespace");
	c = config_with("linux.timeOffsets", "{\"boottime\":{\"secs\":10,\"nanosecs\":5},\"monotonic\":{\"secs\":-3}}");
	json_array_append_new(json_object_get(json_object_get(c, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "time"));
	ck_assert_ok(parse(json_incref(c), &cfg, &err), err);
	ck_assert(cfg->new_timens);
	ck_assert_int_eq(cfg->clone_flags & 0x80, 0); /* made by the parent, not clone */
	ck_assert_str_eq(cfg->time_offsets, "boottime 10 5\nmonotonic -3 0\n");
	bt_rt_config_free(cfg);
	json_object_set_new(json_object_get(c, "linux"), "timeOffsets", json_pack("{s:{s:i}}", "realtime", "secs", 1));
	ck_assert_fails(parse(c, &cfg, &err), err, BERTH_EINVAL, "linux.timeOffsets.realtime: unknown clock");
}
END_TEST

START_TEST(unsupported_fields_are_errors)
{
	EXPECT_FAIL("linux.intelRdt", "{\"closID\":\"x\"}", BERTH_EUNSUPPORTED, "linux.intelRdt: not supported");
	EXPECT_FAIL("linux.rootfsPropagation", "\"sideways\"", BERTH_EINVAL,
		    "linux.rootfsPropagation: unknown propagation \"sideways\"");
	/* fields the spec allows and berth does not need are ignored */
	{
		bt_rt_config *cfg = NULL;
		berth_error *err = NULL;

		ck_assert_ok(parse(config_with("annotations", "{\"a\":\"b\"}"), &cfg, &err), err);
		bt_rt_config_free(cfg);
	}
}
END_TEST

START_TEST(container_ids)
{
	berth_error *err = NULL;

	ck_assert_ok(bt_rt_id_check("berth-test-1_a.b", &err), err);
	ck_assert_fails(bt_rt_id_check("../x", &err), err, BERTH_EINVAL, "only letters");
	ck_assert_fails(bt_rt_id_check("a/b", &err), err, BERTH_EINVAL, "only letters");
	ck_assert_fails(bt_rt_id_check(".hidden", &err), err, BERTH_EINVAL, "only letters");
	ck_assert_fails(bt_rt_id_check("", &err), err, BERTH_EINVAL, "1 to 1024");
}
END_TEST

/* One place per context: the state root defaults to a folder of the
 * context's run root, and a container without linux.cgroupsPath gets a
 * cgroup that names its state root, so two roots never share one. */
START_TEST(runtime_root_and_cgroup_follow_the_context)
{
	berth_ctx_opts co = BERTH_CTX_OPTS_INIT;
	berth_runtime_opts ro = BERTH_RUNTIME_OPTS_INIT;
	berth_ctx *ctx = NULL;
	berth_runtime *a = NULL, *b = NULL, *a2 = NULL;
	berth_error *err = NULL;
	char *pa = NULL, *pb = NULL, *pa2 = NULL;

	co.root = "/tmp/berth-unit-rt-root";
	co.runroot = "/tmp/berth-unit-rt-run";
	ck_assert_ok(berth_ctx_new(&ctx, &co, &err), err);
	ck_assert_ok(berth_runtime_new(ctx, NULL, &a, &err), err);
	ck_assert_str_eq(berth_runtime_root(a), "/tmp/berth-unit-rt-run/runtime");
	ro.root = "/tmp/berth-unit-rt-other";
	ck_assert_ok(berth_runtime_new(ctx, &ro, &b, &err), err);
	ck_assert_str_eq(berth_runtime_root(b), "/tmp/berth-unit-rt-other");
	ro.root = "/tmp/berth-unit-rt-run/runtime/";
	ck_assert_ok(berth_runtime_new(ctx, &ro, &a2, &err), err);
	ck_assert_str_eq(berth_runtime_root(a2), "/tmp/berth-unit-rt-run/runtime");

	ck_assert_ok(bt_rt_default_cgroup(a, "same", &pa, &err), err);
	ck_assert_ok(bt_rt_default_cgroup(b, "same", &pb, &err), err);
	ck_assert_ok(bt_rt_default_cgroup(a2, "same", &pa2, &err), err);
	ck_assert_str_ne(pa, pb);
	ck_assert_str_eq(pa, pa2);
	ck_assert_ptr_nonnull(strstr(pa, "same"));
	ck_assert_int_eq(pa[0], '/');
	free(pa);
	free(pb);
	free(pa2);
	berth_runtime_free(a);
	berth_runtime_free(b);
	berth_runtime_free(a2);
	berth_ctx_free(ctx);
}
END_TEST

START_TEST(exec_process_object)
{
	bt_rt_process p;
	berth_error *err = NULL;
	json_t *j = json_loads("{\"args\":[\"/bin/ls\"],\"cwd\":\"/\",\"terminal\":true,"
			       "\"user\":{\"uid\":5,\"gid\":6,\"additionalGids\":[7,8]}}", 0, NULL);

	ck_assert_ok(bt_rt_process_parse(j, "process", &p, &err), err);
	ck_assert(p.terminal);
	ck_assert_uint_eq(p.uid, 5);
	ck_assert_uint_eq(p.gid, 6);
	ck_assert_uint_eq(p.ngids, 2);
	ck_assert_ptr_nonnull(p.env);
	ck_assert_ptr_null(p.env[0]);
	bt_rt_process_clear(&p);
	json_decref(j);
	j = json_loads("{\"args\":[\"/bin/ls\"]}", 0, NULL);
	ck_assert_fails(bt_rt_process_parse(j, "process", &p, &err), err, BERTH_EINVAL, "process.cwd: missing");
	json_decref(j);
}
END_TEST

START_TEST(features_and_default_spec_are_json)
{
	berth_error *err = NULL;
	char *text = NULL;
	json_t *j;

	ck_assert_ok(berth_runtime_features(&text, &err), err);
	j = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "ociVersionMax")), "1.2.0");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "hooks")), 6);
	json_decref(j);
	berth_string_free(text);
	ck_assert_ok(berth_runtime_spec_default(1, &text, &err), err);
	j = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "linux"), "uidMappings"));
	json_decref(j);
	berth_string_free(text);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("runtime-config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, default_config_parses);
	tcase_add_test(tc, unknown_namespace_names_its_path);
	tcase_add_test(tc, user_namespace_needs_mappings);
	tcase_add_test(tc, user_namespace_is_joined_first);
	tcase_add_test(tc, bad_process);
	tcase_add_test(tc, bad_rlimits);
	tcase_add_test(tc, bad_root_and_version);
	tcase_add_test(tc, bad_mounts);
	tcase_add_test(tc, mount_options_become_flags_and_data);
	tcase_add_test(tc, bad_devices);
	tcase_add_test(tc, sysctl_must_be_namespaced);
	tcase_add_test(tc, sysctl_and_hostname_need_their_namespace);
	tcase_add_test(tc, bad_hooks);
	tcase_add_test(tc, hooks_parse);
	tcase_add_test(tc, seccomp_compiles_before_the_fork);
	tcase_add_test(tc, seccomp_conditions_on_one_argument);
	tcase_add_test(tc, time_namespace_and_offsets);
	tcase_add_test(tc, unsupported_fields_are_errors);
	tcase_add_test(tc, container_ids);
	tcase_add_test(tc, runtime_root_and_cgroup_follow_the_context);
	tcase_add_test(tc, exec_process_object);
	tcase_add_test(tc, features_and_default_spec_are_json);
	suite_add_tcase(s, tc);
	return s;
}
