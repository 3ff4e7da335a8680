/* A container's seccomp filter: a profile in Docker's format (our default
 * in $(pkgdatadir)/seccomp/default.json, or the caller's), turned into the
 * OCI linux.seccomp object for this host and this container's capabilities.
 * Docker's format is OCI's plus an archMap and, on each rule, includes and
 * excludes (caps, arches, minKernel) that are settled here, at create. */
#include "container-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define PROFILE_MAX (4 << 20)

char *bt_ct_seccomp_default_path(void)
{
	const char *dir = secure_getenv("BERTH_DATADIR");

	return bt_strdup_printf("%s/seccomp/default.json", dir && *dir ? dir : BERTH_PKGDATADIR);
}

/* The host's architecture as Docker names it in "arches", and as libseccomp
 * names it in an archMap. */
static void host_arch(const char **docker, const char **scmp)
{
	static const struct { const char *machine, *docker, *scmp; } map[] = {
		{ "x86_64", "amd64", "SCMP_ARCH_X86_64" }, { "aarch64", "arm64", "SCMP_ARCH_AARCH64" },
		{ "ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE" }, { "s390x", "s390x", "SCMP_ARCH_S390X" },
		{ "riscv64", "riscv64", "SCMP_ARCH_RISCV64" }, { "i686", "x86", "SCMP_ARCH_X86" },
		{ "armv7l", "arm", "SCMP_ARCH_ARM" },
	};
	struct utsname u;

	*docker = *scmp = "";
	if (uname(&u) < 0)
		return;
	for (size_t i = 0; i < BT_ARRAY_SIZE(map); i++)
		if (!strcmp(u.machine, map[i].machine)) {
			*docker = map[i].docker;
			*scmp = map[i].scmp;
		}
}

static bool in_strings(const json_t *a, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (json_is_string(e) && !strcmp(json_string_value(e), s))
			return true;
	return false;
}

/* "4.8" <= the running kernel's release */
static bool kernel_at_least(const char *min)
{
	struct utsname u;
	int kmaj = 0, kmin = 0, maj = 0, mn = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &kmaj, &kmin) < 1 || sscanf(min, "%d.%d", &maj, &mn) < 1)
		return false;
	return kmaj > maj || (kmaj == maj && kmin >= mn);
}

/* Docker's rule: includes must all hold (every cap, the host's arch among
 * arches, the kernel at least minKernel); excludes must all fail (no cap of
 * them, the host's arch not among them). */
static bool rule_applies(const json_t *rule, const json_t *caps, const char *arch)
{
	const json_t *in = json_object_get(rule, "includes"), *ex = json_object_get(rule, "excludes");
	const json_t *v, *c;
	size_t i;

	if ((v = json_object_get(in, "caps")))
		json_array_foreach(v, i, c)
			if (!json_is_string(c) || !in_strings(caps, json_string_value(c)))
				return false;
	if ((v = json_object_get(in, "arches")) && json_array_size(v) && !in_strings(v, arch))
		return false;
	if ((v = json_object_get(in, "minKernel")) && json_is_string(v) && !kernel_at_least(json_string_value(v)))
		return false;
	if ((v = json_object_get(ex, "caps")))
		json_array_foreach(v, i, c)
			if (json_is_string(c) && in_strings(caps, json_string_value(c)))
				return false;
	if ((v = json_object_get(ex, "arches")) && in_strings(v, arch))
		return false;
	return true;
}

/* The architectures: an archMap's entry for this host (with its
 * sub-architectures), else the profile's own list, else none (the native
 * one only). */
static json_t *architectures(const json_t *profile, const char *scmp)
{
	const json_t *map = json_object_get(profile, "archMap"), *e;
	json_t *out = json_array();
	size_t i;

	if (!map) {
		json_array_extend(out, json_object_get(profile, "architectures"));
		return out;
	}
	json_array_foreach(map, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "architecture")) ?: "", scmp)) {
			json_array_append_new(out, json_string(scmp));
			json_array_extend(out, json_object_get(e, "subArchitectures"));
		}
	return out;
}

/* The OCI object for profile: what applies to this host and these caps. */
static int convert(const json_t *profile, const char *what, const json_t *caps, json_t **out,
		   berth_error **err)
{
	static const char *const copied[] = { "defaultAction", "defaultErrnoRet", "flags" };
	static const char *const rule_keys[] = { "names", "action", "args", "errnoRet" };
	const char *arch, *scmp;
	json_t *sc, *rules = json_object_get(profile, "syscalls"), *rule;
	size_t i;

	if (!json_is_object(profile) || !json_is_string(json_object_get(profile, "defaultAction")))
		return bt_error_set(err, BERTH_EINVAL, 0, "seccomp profile %s: not a profile (no defaultAction)", what);
	if (rules && !json_is_array(rules))
		return bt_error_set(err, BERTH_EINVAL, 0, "seccomp profile %s: syscalls is not an array", what);
	host_arch(&arch, &scmp);
	sc = json_pack("{s:o, s:[]}", "architectures", architectures(profile, scmp), "syscalls");
	for (i = 0; i < BT_ARRAY_SIZE(copied); i++)
		if (json_object_get(profile, copied[i]))
			json_object_set(sc, copied[i], json_object_get(profile, copied[i]));
	json_array_foreach(rules, i, rule) {
		json_t *r;

		if (!json_is_object(rule) || !json_is_array(json_object_get(rule, "names"))) {
			json_decref(sc);
			return bt_error_set(err, BERTH_EINVAL, 0, "seccomp profile %s: syscalls[%zu] has no names", what, i);
		}
		if (!rule_applies(rule, caps, arch))
			continue;
		r = json_object();
		for (size_t k = 0; k < BT_ARRAY_SIZE(rule_keys); k++)
			if (json_object_get(rule, rule_keys[k]))
				json_object_set(r, rule_keys[k], json_object_get(rule, rule_keys[k]));
		json_array_append_new(json_object_get(sc, "syscalls"), r);
	}
	*out = sc;
	return 0;
}

int bt_ct_seccomp(const berth_container_create_opts *o, const json_t *caps, json_t **out,
		  berth_error **err)
{
	const char *given = o->seccomp;
	char *path;
	json_t *profile;
	int rc;

	*out = NULL;
	/* Docker: "builtin" is the default profile; a privileged container is
	 * unconfined unless given a profile of its own */
	if (o->seccomp && !strcmp(o->seccomp, "builtin"))
		given = NULL;
	if ((o->privileged && !given) || (given && !strcmp(given, "unconfined")))
		return 0;
	if (given && !*given)
		return bt_error_set(err, BERTH_EINVAL, 0, "seccomp: an empty profile path");
	if (!(path = given ? strdup(given) : bt_ct_seccomp_default_path()))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_json_load_file(path, PROFILE_MAX, &profile, err);
	if (rc < 0)
		rc = bt_error_wrap(err, rc, "seccomp profile");
	else
		rc = convert(profile, path, caps, out, err);
	json_decref(profile);
	free(path);
	return rc;
}
