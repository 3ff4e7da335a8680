/* lib/container/seccomp.c: a Docker-format profile settled into OCI
 * linux.seccomp for this host and a container's capabilities. */
#include "unit.h"
#include "container-internal.h"
#include "runtime-internal.h"

#include <sys/utsname.h>
#include <unistd.h>

static const char *const default_caps[] = { "CAP_CHOWN", "CAP_SYS_CHROOT", "CAP_KILL", NULL };
static const char *const admin_caps[] = { "CAP_CHOWN", "CAP_SYS_ADMIN", NULL };

static json_t *caps_of(const char *const *c)
{
	json_t *a = json_array();

	for (; *c; c++)
		json_array_append_new(a, json_string(*c));
	return a;
}

/* the rule naming syscall `name` in an OCI linux.seccomp, or NULL */
static json_t *rule_for(const json_t *sc, const char *name)
{
	size_t i, j;
	json_t *r, *n;

	json_array_foreach(json_object_get(sc, "syscalls"), i, r)
		json_array_foreach(json_object_get(r, "names"), j, n)
			if (!strcmp(json_string_value(n), name))
				return r;
	return NULL;
}

/* the default profile with caps, checked to compile as the runtime does it */
static json_t *default_for(const char *const *caps)
{
	berth_container_create_opts o = BERTH_CONTAINER_CREATE_OPTS_INIT;
	const char *src = getenv("top_srcdir");
	char *dir = bt_strdup_printf("%s/data", src ? src : "..");
	berth_error *err = NULL;
	bt_rt_seccomp bpf;
	json_t *c = caps_of(caps), *sc;

	setenv("BERTH_DATADIR", dir, 1);
	ck_assert_ok(bt_ct_seccomp(&o, c, &sc, &err), err);
	ck_assert_ptr_nonnull(sc);
	/* names this libseccomp does not know are skipped, not an error */
	ck_assert_ok(bt_rt_seccomp_compile(sc, &bpf, &err), err);
	ck_assert_int_gt(bpf.len, 100);
	free(bpf.bpf);
	json_decref(c);
	free(dir);
	return sc;
}

START_TEST(default_profile_follows_the_capabilities)
{
	json_t *sc = default_for(default_caps), *r;

	ck_assert_str_eq(json_string_value(json_object_get(sc, "defaultAction")), "SCMP_ACT_ERRNO");
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "defaultErrnoRet")), 1);
	ck_assert_ptr_nonnull(rule_for(sc, "read"));
	ck_assert_ptr_nonnull(rule_for(sc, "chroot"));
	ck_assert_ptr_null(rule_for(sc, "mount"));
	ck_assert_ptr_null(rule_for(sc, "unshare"));
	ck_assert_ptr_null(rule_for(sc, "reboot"));
	ck_assert_ptr_null(rule_for(sc, "keyctl"));
	ck_assert_ptr_nonnull(r = rule_for(sc, "clone3"));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errnoRet")), 38);
	ck_assert_ptr_nonnull(r = rule_for(sc, "clone"));
	ck_assert_int_eq(json_array_size(json_object_get(r, "args")), 1);
	/* personality: one condition per allowed value */
	ck_assert_int_eq(json_array_size(json_object_get(rule_for(sc, "personality"), "args")), 5);
	json_decref(sc);

	sc = default_for(admin_caps);
	ck_assert_ptr_nonnull(rule_for(sc, "mount"));
	ck_assert_ptr_nonnull(rule_for(sc, "setns"));
	ck_assert_ptr_null(rule_for(sc, "chroot"));
	ck_assert_str_eq(json_string_value(json_object_get(rule_for(sc, "clone3"), "action")), "SCMP_ACT_ALLOW");
	ck_assert_ptr_null(json_object_get(rule_for(sc, "clone"), "args"));
	json_decref(sc);
}
END_TEST

START_TEST(includes_and_excludes_are_settled_for_this_host)
{
	berth_container_create_opts o = BERTH_CONTAINER_CREATE_OPTS_INIT;
	char *dir = unit_tmpdir(), *path = unit_path(dir, "p.json"), *arches;
	berth_error *err = NULL;
	struct utsname u;
	json_t *c = caps_of(default_caps), *sc;
	FILE *f = fopen(path, "w");

	ck_assert_int_eq(uname(&u), 0);
	if (strcmp(u.machine, "x86_64"))
		return; /* the arches below are amd64's */
	fputs("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
	      " \"archMap\": [{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]},"
	      "  {\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\"]}],"
	      " \"syscalls\": ["
	      "  {\"names\": [\"a1\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"arches\": [\"amd64\"]}},"
	      "  {\"names\": [\"a2\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"arches\": [\"s390x\"]}},"
	      "  {\"names\": [\"a3\"], \"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"arches\": [\"amd64\"]}},"
	      "  {\"names\": [\"k1\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": \"2.6\"}},"
	      "  {\"names\": [\"k2\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": \"99.1\"}},"
	      "  {\"names\": [\"c1\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": [\"CAP_KILL\", \"CAP_CHOWN\"]}},"
	      "  {\"names\": [\"c2\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": [\"CAP_KILL\", \"CAP_BPF\"]}},"
	      "  {\"names\": [\"c3\"], \"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"caps\": [\"CAP_BPF\"]}},"
	      "  {\"names\": [\"c4\"], \"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"caps\": [\"CAP_KILL\"]}}]}",
	      f);
	fclose(f);
	o.seccomp = path;
	ck_assert_ok(bt_ct_seccomp(&o, c, &sc, &err), err);
	arches = json_dumps(json_object_get(sc, "architectures"), JSON_COMPACT);
	ck_assert_str_eq(arches, "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"]");
	free(arches);
	ck_assert_ptr_nonnull(rule_for(sc, "a1"));
	ck_assert_ptr_null(rule_for(sc, "a2"));
	ck_assert_ptr_null(rule_for(sc, "a3"));
	ck_assert_ptr_nonnull(rule_for(sc, "k1"));
	ck_assert_ptr_null(rule_for(sc, "k2"));
	ck_assert_ptr_nonnull(rule_for(sc, "c1"));
	ck_assert_ptr_null(rule_for(sc, "c2"));
	ck_assert_ptr_nonnull(rule_for(sc, "c3"));
	ck_assert_ptr_null(rule_for(sc, "c4"));
	ck_assert_ptr_null(json_object_get(rule_for(sc, "c1"), "includes"));
	json_decref(sc);
	/* unconfined and privileged: no filter */
	o.seccomp = "unconfined";
	ck_assert_ok(bt_ct_seccomp(&o, c, &sc, &err), err);
	ck_assert_ptr_null(sc);
	o.seccomp = NULL;
	o.privileged = 1;
	ck_assert_ok(bt_ct_seccomp(&o, c, &sc, &err), err);
	ck_assert_ptr_null(sc);
	/* ...unless given a profile (Docker since 20.10) */
	o.seccomp = path;
	ck_assert_ok(bt_ct_seccomp(&o, c, &sc, &err), err);
	ck_assert_ptr_nonnull(rule_for(sc, "a1"));
	json_decref(sc);
	o.privileged = 0;
	f = fopen(path, "w");
	fputs("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ERRNO\"}]}", f);
	fclose(f);
	ck_assert_fails(bt_ct_seccomp(&o, c, &sc, &err), err, BERTH_EINVAL, "syscalls[0] has no names");
	unlink(path);
	ck_assert_fails(bt_ct_seccomp(&o, c, &sc, &err), err, BERTH_ENOTFOUND, path);
	json_decref(c);
	free(path);
	unit_tmpdir_free(dir);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("container_seccomp");
	TCase *tc = tcase_create("seccomp");

	tcase_add_test(tc, default_profile_follows_the_capabilities);
	tcase_add_test(tc, includes_and_excludes_are_settled_for_this_host);
	suite_add_tcase(s, tc);
	return s;
}
