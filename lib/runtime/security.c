/* A process's privileges: capability sets (names through libcap, set with
 * capset), user and groups, rlimits, noNewPrivileges and the seccomp filter.
 * The parent side parses and compiles (libseccomp exports the filter as BPF
 * before the fork); the bt_rt_child_* side only makes system calls on the
 * prepared data. */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if BERTH_HAVE_SECCOMP
#include <seccomp.h>
#endif

/* ---- capabilities -------------------------------------------------------- */

/* libcap and libseccomp know names in lower case ("cap_chown", "x86_64"). */
static void lower_copy(char *dst, size_t size, const char *src)
{
	size_t k;

	for (k = 0; src[k] && k < size - 1; k++)
		dst[k] = (char)tolower((unsigned char)src[k]);
	dst[k] = '\0';
}

int bt_rt_caps_parse(const json_t *caps, const char *path, uint64_t out[BT_CAP_SETS],
		     berth_error **err)
{
	static const char *const sets[BT_CAP_SETS] = { "bounding", "effective", "inheritable",
						       "permitted", "ambient" };
	int last = (int)cap_max_bits() - 1;

	for (int s = 0; s < BT_CAP_SETS; s++) {
		json_t *arr, *v;
		size_t i;
		int rc;

		out[s] = 0;
		if ((rc = bt_json_member(caps, path, sets[s], JSON_ARRAY, false, &arr, err)) < 0)
			return rc;
		json_array_foreach(arr, i, v) {
			const char *name = json_string_value(v);
			char lower[64];
			cap_value_t cap;

			if (!name)
				return bt_error_set(err, BERTH_EINVAL, 0, "%s.%s[%zu]: expected a string, got %s",
						    path, sets[s], i, bt_json_type_name(v));
			lower_copy(lower, sizeof(lower), name);
			if (strncmp(lower, "cap_", 4) || cap_from_name(lower, &cap) < 0 || cap < 0 || cap > 63)
				return bt_error_set(err, BERTH_EINVAL, 0, "%s.%s[%zu]: unknown capability \"%s\"",
						    path, sets[s], i, name);
			/* a capability this kernel does not have cannot be granted;
			 * runc and crun skip it the same way */
			if (cap > last)
				continue;
			out[s] |= 1ULL << cap;
		}
	}
	/* the kernel raises an ambient capability only when it is permitted
	 * and inheritable; runc's own default config lists ambient ones
	 * without inheritable, and runc drops them the same way */
	out[BT_CAP_AMBIENT] &= out[BT_CAP_PERMITTED] & out[BT_CAP_INHERITABLE];
	return 0;
}

static bool have_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

/* ---- rlimits ---------------------------------------------------------------- */

static const char *rlimit_name(int resource)
{
	static const char *const names[] = {
		[RLIMIT_CPU] = "RLIMIT_CPU", [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
		[RLIMIT_DATA] = "RLIMIT_DATA", [RLIMIT_STACK] = "RLIMIT_STACK",
		[RLIMIT_CORE] = "RLIMIT_CORE", [RLIMIT_RSS] = "RLIMIT_RSS",
		[RLIMIT_NPROC] = "RLIMIT_NPROC", [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
		[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK", [RLIMIT_AS] = "RLIMIT_AS",
		[RLIMIT_LOCKS] = "RLIMIT_LOCKS", [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
		[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
		[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO", [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
	};
	return resource >= 0 && (size_t)resource < BT_ARRAY_SIZE(names) && names[resource]
		       ? names[resource] : "rlimit";
}

int bt_rt_rlimits_check(const bt_rt_process *p, berth_error **err)
{
	bool can_raise = p->nrlimits ? have_cap(CAP_SYS_RESOURCE) : true;

	for (size_t i = 0; i < p->nrlimits; i++) {
		struct rlimit cur;

		if (can_raise || getrlimit((__rlimit_resource_t)p->rlimits[i].resource, &cur) < 0)
			continue;
		if (p->rlimits[i].lim.rlim_max > cur.rlim_max)
			return bt_error_set(err, BERTH_EPERM, 0,
					    "process.rlimits[%zu]: %s hard limit %llu is above this process's hard limit %llu, and raising a hard limit needs CAP_SYS_RESOURCE, which the runtime does not have",
					    i, rlimit_name(p->rlimits[i].resource),
					    (unsigned long long)p->rlimits[i].lim.rlim_max,
					    (unsigned long long)cur.rlim_max);
	}
	return 0;
}

/* ---- seccomp ---------------------------------------------------------------- */

#if BERTH_HAVE_SECCOMP
static int seccomp_action(const char *name, const json_t *errno_ret, const char *path,
			  uint32_t *out, berth_error **err)
{
	int ret = errno_ret && json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : EPERM;

	if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO((uint32_t)ret);
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE((uint32_t)ret);
	else if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "%s: SCMP_ACT_NOTIFY is not supported", path);
	else
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: unknown seccomp action \"%s\"", path, name);
	return 0;
}

static int seccomp_op(const char *name, enum scmp_compare *out)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = { { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		    { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		    { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ } };

	for (size_t i = 0; i < BT_ARRAY_SIZE(ops); i++)
		if (!strcmp(name, ops[i].name)) {
			*out = ops[i].op;
			return 0;
		}
	return -1;
}

/* The conditions of syscalls[i].args into cmp; *same_arg when two of them
 * test one argument. */
static int seccomp_conds(const json_t *args, const char *ep, struct scmp_arg_cmp cmp[6],
			 unsigned *ncmp, bool *same_arg, berth_error **err)
{
	unsigned seen = 0;
	size_t j;
	json_t *v;
	char jp[96];
	int rc;

	*ncmp = 0;
	*same_arg = false;
	if (json_array_size(args) > 6)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.args: more than 6 conditions", ep);
	json_array_foreach(args, j, v) {
		long long index = 0, value = 0, two = 0;
		const char *op = NULL;

		bt_rt_jpath(jp, sizeof(jp), "%s.args[%zu]", ep, j);
		if ((rc = bt_json_int(v, jp, "index", true, &index, err)) < 0 ||
		    (rc = bt_json_int(v, jp, "value", true, &value, err)) < 0 ||
		    (rc = bt_json_int(v, jp, "valueTwo", false, &two, err)) < 0 ||
		    (rc = bt_json_string(v, jp, "op", true, &op, err)) < 0)
			return rc;
		if (index < 0 || index > 5)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.index: %lld not in 0..5", jp, index);
		if (seccomp_op(op, &cmp[*ncmp].op) < 0)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.op: unknown operator \"%s\"", jp, op);
		if (seen & (1u << index))
			*same_arg = true;
		seen |= 1u << index;
		cmp[*ncmp].arg = (unsigned)index;
		cmp[*ncmp].datum_a = (scmp_datum_t)value;
		cmp[*ncmp].datum_b = (scmp_datum_t)two;
		(*ncmp)++;
	}
	return 0;
}

/* libseccomp refuses two conditions on one argument in a rule; profiles
 * use them to list allowed values (Docker's personality rule), so as runc
 * and crun do, each condition becomes a rule of its own: any one matches. */
static int seccomp_add(scmp_filter_ctx sc, uint32_t act, int nr, const struct scmp_arg_cmp *cmp,
		       unsigned ncmp, bool same_arg)
{
	int rc = 0;

	if (!same_arg)
		return seccomp_rule_add_array(sc, act, nr, ncmp, cmp);
	for (unsigned k = 0; k < ncmp && rc == 0; k++)
		rc = seccomp_rule_add_array(sc, act, nr, 1, &cmp[k]);
	return rc;
}

static int seccomp_rules(scmp_filter_ctx sc, const json_t *syscalls, uint32_t def,
			 berth_error **err)
{
	size_t i, j;
	json_t *e, *v;
	char ep[256], jp[96];
	int rc;

	json_array_foreach(syscalls, i, e) {
		const char *action = NULL;
		json_t *names, *args;
		struct scmp_arg_cmp cmp[6];
		unsigned ncmp = 0;
		bool same_arg;
		uint32_t act;

		bt_rt_jpath(ep, sizeof(ep), "linux.seccomp.syscalls[%zu]", i);
		if ((rc = bt_json_member(e, ep, "names", JSON_ARRAY, true, &names, err)) < 0 ||
		    (rc = bt_json_string(e, ep, "action", true, &action, err)) < 0 ||
		    (rc = bt_json_member(e, ep, "args", JSON_ARRAY, false, &args, err)) < 0)
			return rc;
		bt_rt_jpath(jp, sizeof(jp), "%s.action", ep);
		if ((rc = seccomp_action(action, json_object_get(e, "errnoRet"), jp, &act, err)) < 0 ||
		    (rc = seccomp_conds(args, ep, cmp, &ncmp, &same_arg, err)) < 0)
			return rc;
		if (act == def)
			continue; /* libseccomp refuses rules that repeat the default */
		json_array_foreach(names, j, v) {
			const char *name = json_string_value(v);
			int nr;

			if (!name)
				return bt_error_set(err, BERTH_EINVAL, 0, "%s.names[%zu]: expected a string", ep, j);
			/* names this architecture or libseccomp does not know are
			 * skipped, as runc and crun do: profiles list syscalls of
			 * every architecture */
			if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
				continue;
			if ((rc = seccomp_add(sc, act, nr, cmp, ncmp, same_arg)) < 0)
				return bt_error_set(err, BERTH_EINVAL, -rc, "%s.names[%zu]: adding a rule for %s: %s",
						    ep, j, name, strerror(-rc));
		}
	}
	return 0;
}
#endif

#if BERTH_HAVE_SECCOMP
/* linux.seccomp.architectures added to the filter. */
static int seccomp_arches(scmp_filter_ctx sc, const json_t *arches, berth_error **err)
{
	json_t *v;
	size_t i;
	int rc;

	json_array_foreach(arches, i, v) {
		const char *a = json_string_value(v);
		char lower[32];
		uint32_t arch;

		if (!a || strncmp(a, "SCMP_ARCH_", 10))
			return bt_error_set(err, BERTH_EINVAL, 0, "linux.seccomp.architectures[%zu]: expected SCMP_ARCH_*", i);
		lower_copy(lower, sizeof(lower), a + 10);
		if (!(arch = seccomp_arch_resolve_name(lower)))
			return bt_error_set(err, BERTH_EINVAL, 0, "linux.seccomp.architectures[%zu]: unknown architecture %s",
					    i, a);
		if ((rc = seccomp_arch_add(sc, arch)) < 0 && rc != -EEXIST)
			return bt_error_set(err, BERTH_EINVAL, -rc, "linux.seccomp.architectures[%zu]: %s: %s", i, a,
					    strerror(-rc));
	}
	return 0;
}

/* linux.seccomp.flags as SECCOMP_FILTER_FLAG_* bits. */
static int seccomp_flags(const json_t *flags, unsigned *out, berth_error **err)
{
	json_t *v;
	size_t i;

	json_array_foreach(flags, i, v) {
		const char *f = json_string_value(v);

		if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
			*out |= SECCOMP_FILTER_FLAG_LOG;
		else if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			*out |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		else if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
			; /* the container's process has one thread when the filter loads */
		else
			return bt_error_set(err, BERTH_EINVAL, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
					    f ? f : "(not a string)");
	}
	return 0;
}

/* The filter exported as BPF now, so the child loads it with one system
 * call (libseccomp would allocate). */
static int seccomp_bpf(scmp_filter_ctx sc, bt_rt_seccomp *out, berth_error **err)
{
	off_t size;
	int fd, rc;

	if ((fd = memfd_create("berth-seccomp", MFD_CLOEXEC)) < 0)
		return bt_error_os(err, "linux.seccomp: making a buffer for the filter");
	if ((rc = seccomp_export_bpf(sc, fd)) < 0) {
		rc = bt_error_set(err, BERTH_EINVAL, -rc, "linux.seccomp: exporting the filter: %s", strerror(-rc));
		goto out;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "linux.seccomp: the filter has %lld bytes, too large or malformed",
				  (long long)size);
		goto out;
	}
	if (!(out->bpf = malloc((size_t)size))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "linux.seccomp: out of memory");
		goto out;
	}
	if (pread(fd, out->bpf, (size_t)size, 0) != size) {
		rc = bt_error_os(err, "linux.seccomp: reading the exported filter");
		free(out->bpf);
		out->bpf = NULL;
		goto out;
	}
	out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	rc = 0;
out:
	close(fd);
	return rc;
}
#endif

/* Phases: the default action, architectures, flags, rules, then BPF. */
int bt_rt_seccomp_compile(const json_t *seccomp, bt_rt_seccomp *out, berth_error **err)
{
#if BERTH_HAVE_SECCOMP
	const char *def_name = NULL;
	json_t *v, *syscalls;
	scmp_filter_ctx sc = NULL;
	uint32_t def;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = bt_json_string(seccomp, "linux.seccomp", "defaultAction", true, &def_name, err)) < 0 ||
	    (rc = seccomp_action(def_name, json_object_get(seccomp, "defaultErrnoRet"),
				 "linux.seccomp.defaultAction", &def, err)) < 0)
		return rc;
	if ((v = json_object_get(seccomp, "listenerPath")) && json_string_length(v))
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "linux.seccomp.listenerPath: not supported");
	if (!(sc = seccomp_init(def)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "linux.seccomp: cannot make a filter");
	if ((rc = bt_json_member(seccomp, "linux.seccomp", "architectures", JSON_ARRAY, false, &v, err)) == 0 &&
	    (rc = seccomp_arches(sc, v, err)) == 0 &&
	    (rc = bt_json_member(seccomp, "linux.seccomp", "flags", JSON_ARRAY, false, &v, err)) == 0 &&
	    (rc = seccomp_flags(v, &out->flags, err)) == 0 &&
	    (rc = bt_json_member(seccomp, "linux.seccomp", "syscalls", JSON_ARRAY, false, &syscalls, err)) == 0 &&
	    (rc = seccomp_rules(sc, syscalls, def, err)) == 0)
		rc = seccomp_bpf(sc, out, err);
	seccomp_release(sc);
	return rc;
#else
	(void)seccomp;
	(void)out;
	return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "linux.seccomp: this libberth was built without seccomp");
#endif
}

/* ---- the child's side ------------------------------------------------------- */

int bt_rt_child_seccomp(const bt_rt_seccomp *sc, const char **what)
{
	struct sock_fprog prog;

	if (!sc->bpf)
		return 0;
	prog.len = sc->len;
	prog.filter = sc->bpf;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, sc->flags, &prog) < 0) {
		*what = "loading the seccomp filter";
		return -errno;
	}
	return 0;
}

int bt_rt_child_process(const bt_rt_process *p, const bt_rt_seccomp *sc, bool in_userns,
			const char **what)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int rc;

	for (size_t i = 0; i < p->nrlimits; i++)
		if (setrlimit((__rlimit_resource_t)p->rlimits[i].resource, &p->rlimits[i].lim) < 0) {
			*what = "setting process.rlimits";
			return -errno;
		}
	if (p->has_umask)
		umask(p->umask);
	/* without noNewPrivileges loading a filter needs CAP_SYS_ADMIN, so it
	 * goes in before the capabilities are dropped */
	if (!p->nnp && (rc = bt_rt_child_seccomp(sc, what)) < 0)
		return rc;
	/* raw system calls: glibc's set*id wrappers signal every thread the
	 * caller had to change its ids too, and in this child those threads do
	 * not exist: the wrapper would wait for them for ever */
	if (syscall(SYS_setgroups, p->ngids, p->gids) < 0 && !(in_userns && errno == EPERM && !p->ngids)) {
		*what = "setting process.user.additionalGids";
		return -errno;
	}
	/* the bounding set needs CAP_SETPCAP in the effective set, which a
	 * change to a non-root uid clears: dropped first */
	/* no capabilities object means none, as in runc: all five sets empty */
	for (int cap = 0; cap < 64; cap++)
		if (!(p->caps[BT_CAP_BOUNDING] >> cap & 1) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			*what = "dropping capabilities from the bounding set";
			return -errno;
		}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		*what = "keeping capabilities across the user change";
		return -errno;
	}
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0) {
		*what = "setting process.user.gid";
		return -errno;
	}
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0) {
		*what = "setting process.user.uid";
		return -errno;
	}
	for (int k = 0; k < 2; k++) {
		data[k].effective = (uint32_t)(p->caps[BT_CAP_EFFECTIVE] >> (32 * k));
		data[k].permitted = (uint32_t)(p->caps[BT_CAP_PERMITTED] >> (32 * k));
		data[k].inheritable = (uint32_t)(p->caps[BT_CAP_INHERITABLE] >> (32 * k));
	}
	if (syscall(SYS_capset, &hdr, data) < 0) {
		*what = "setting process.capabilities";
		return -errno;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		*what = "clearing the ambient capabilities";
		return -errno;
	}
	for (int cap = 0; cap < 64; cap++)
		if ((p->caps[BT_CAP_AMBIENT] >> cap & 1) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
			*what = "raising process.capabilities.ambient";
			return -errno;
		}
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*what = "setting noNewPrivileges";
		return -errno;
	}
	return 0;
}
