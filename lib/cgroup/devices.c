/* Device rules (linux.resources.devices), parsed once for both drivers: v1
 * writes devices.allow/devices.deny lines; v2 has no device files, so the
 * rules become an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, built
 * here instruction by instruction (no libbpf: the program is small and its
 * shape fixed), loaded with bpf(2) and attached to the cgroup's v2
 * directory with BPF_F_ALLOW_MULTI, replacing the program berth attached
 * there before. */
#include "cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

/* The kernel's dev_t has 12 bits of major and 20 of minor. */
#define DEV_MAJOR_MAX 4095LL
#define DEV_MINOR_MAX 1048575LL
/* A bound on hostile lists: each rule costs up to 15 instructions. */
#define DEV_RULES_MAX 4096

/* ---- parsing -------------------------------------------------------------- */

static int parse_rule(const json_t *e, const char *ep, bt_cg_dev_rule *r, berth_error **err)
{
	static const char *const keys[] = { "allow", "type", "major", "minor", "access", NULL };
	const char *type = "a", *access = "rwm";
	bool present;
	long long n;
	int rc;

	r->major = r->minor = -1;
	r->access = 0;
	if (!json_is_object(e))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, got %s", ep,
				    bt_json_type_name(e));
	if ((rc = bt_cg_known_keys(e, ep, keys, err)) < 0 ||
	    (rc = bt_json_bool(e, ep, "allow", true, &r->allow, err)) < 0 ||
	    (rc = bt_json_string(e, ep, "type", false, &type, err)) < 0 ||
	    (rc = bt_json_string(e, ep, "access", false, &access, err)) < 0)
		return rc;
	if ((rc = bt_cg_int(e, ep, "major", -1, &present, &n, err)) < 0)
		return rc;
	if (present && n > DEV_MAJOR_MAX)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.major: %lld is above the largest major %lld",
				    ep, n, DEV_MAJOR_MAX);
	if (present)
		r->major = n;
	if ((rc = bt_cg_int(e, ep, "minor", -1, &present, &n, err)) < 0)
		return rc;
	if (present && n > DEV_MINOR_MAX)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.minor: %lld is above the largest minor %lld",
				    ep, n, DEV_MINOR_MAX);
	if (present)
		r->minor = n;
	if (strlen(type) != 1 || !strchr("abc", type[0]))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.type: \"%s\" is not a, b or c", ep, type);
	r->type = type[0];
	if (!*access || access[strspn(access, "rwm")] != '\0' || strlen(access) > 3)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.access: \"%s\" is not made of r, w and m", ep,
				    access);
	for (const char *a = access; *a; a++)
		r->access |= *a == 'r' ? BT_CG_DEV_READ : *a == 'w' ? BT_CG_DEV_WRITE : BT_CG_DEV_MKNOD;
	return 0;
}

int bt_cg_dev_rules_parse(const json_t *devs, const char *jp, bt_cg_dev_rule **out, size_t *count,
			  berth_error **err)
{
	bt_cg_dev_rule *rules;
	size_t i, n = json_array_size(devs);
	json_t *e;

	*out = NULL;
	*count = 0;
	if (!json_is_array(devs))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an array, got %s", jp,
				    bt_json_type_name(devs));
	if (n > DEV_RULES_MAX)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: %zu rules, more than the %d allowed", jp, n,
				    DEV_RULES_MAX);
	if (!(rules = calloc(n ? n : 1, sizeof(*rules))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
	json_array_foreach(devs, i, e) {
		char *ep = bt_strdup_printf("%s[%zu]", jp, i);
		int rc = ep ? parse_rule(e, ep, &rules[i], err)
			    : bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);

		free(ep);
		if (rc < 0) {
			free(rules);
			return rc;
		}
	}
	*out = rules;
	*count = n;
	return 0;
}

/* ---- v1: devices.allow and devices.deny ------------------------------------ */

/* "c 1:3 rwm" lines, one write per rule, in the list's order. */
int bt_cg_v1_devices(bt_cg_plan *p, size_t dir, const json_t *devs, const char *jp, berth_error **err)
{
	bt_cg_dev_rule *rules;
	size_t n;
	int rc;

	if ((rc = bt_cg_dev_rules_parse(devs, jp, &rules, &n, err)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const bt_cg_dev_rule *r = &rules[i];
		char *ep = bt_strdup_printf("%s[%zu]", jp, i), major[24] = "*", minor[24] = "*";
		char access[4] = "";

		if (r->major >= 0)
			snprintf(major, sizeof(major), "%lld", r->major);
		if (r->minor >= 0)
			snprintf(minor, sizeof(minor), "%lld", r->minor);
		if (r->access & BT_CG_DEV_READ)
			strcat(access, "r");
		if (r->access & BT_CG_DEV_WRITE)
			strcat(access, "w");
		if (r->access & BT_CG_DEV_MKNOD)
			strcat(access, "m");
		rc = !ep ? bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp)
			 : bt_cg_plan_add(p, dir, r->allow ? "devices.allow" : "devices.deny", ep, err,
					  "%c %s:%s %s", r->type, major, minor, access);
		free(ep);
	}
	free(rules);
	return rc;
}

/* ---- v2: the eBPF program ------------------------------------------------ */

/* The instructions are written out as struct bpf_insn, as the kernel's
 * linux/filter.h macros would make them. */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i;

	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV_REG(dst, src) insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND_IMM(dst, imm) insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_IMM(dst, imm) insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JSET_IMM(dst, imm, off) insn(BPF_JMP | BPF_JSET | BPF_K, dst, 0, off, imm)
#define JA(off) insn(BPF_JMP | BPF_JA, 0, 0, off, 0)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: r1 the context (struct bpf_cgroup_dev_ctx), r2 the device
 * type (BPF_DEVCG_DEV_*), r3 the requested access (BPF_DEVCG_ACC_*), r4 the
 * major, r5 the minor. */
enum { R0, R1, R2, R3, R4, R5 };

typedef struct {
	struct bpf_insn *v;
	size_t n, cap;
	bool oom;
} prog_buf;

static size_t emit(prog_buf *b, struct bpf_insn i)
{
	if (!b->oom) {
		struct bpf_insn *v = bt_grow(b->v, b->n, &b->cap, sizeof(*v), 64);

		if (v)
			b->v = v;
		else
			b->oom = true;
	}
	if (b->oom)
		return b->n;
	b->v[b->n] = i;
	return b->n++;
}

/* The compare-and-jump instructions of one rule: each skips to `next` (the
 * first instruction after the rule) on a mismatch. */
static size_t rule_tests(const bt_cg_dev_rule *r)
{
	return (r->type != 'a') + (r->major >= 0) + (r->minor >= 0);
}

static void emit_rule(prog_buf *b, const bt_cg_dev_rule *r, bool *unconditional, size_t *fixups,
		      size_t *nfix)
{
	size_t tests = rule_tests(r), action = r->allow ? 1 : 2;
	int16_t skip = (int16_t)(tests + action - 1);

	if (r->type != 'a')
		emit(b, JNE_IMM(R2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, skip--));
	if (r->major >= 0)
		emit(b, JNE_IMM(R4, (int32_t)r->major, skip--));
	if (r->minor >= 0)
		emit(b, JNE_IMM(R5, (int32_t)r->minor, skip--));
	if (r->allow) {
		/* allowed for this access bit: go on with the next bit */
		fixups[(*nfix)++] = emit(b, JA(0));
	} else {
		emit(b, MOV_IMM(R0, 0));
		emit(b, EXIT());
	}
	*unconditional = tests == 0;
}

/* Each requested access bit is decided on its own by the last rule that
 * matches the device and names that bit; a request is allowed when every
 * one of its bits is. For one bit that is the runtime spec's "last matching
 * rule wins"; for a request of several bits (open for reading and writing)
 * it also means a deny of "w" refuses "rw", and "r" and "w" allowed by two
 * rules allow "rw", as the v1 controller does. A bit no rule names is
 * allowed: a list that starts with a deny-all names every bit, so it denies
 * by default. The rules are checked last first, so the first match decides;
 * a rule that matches any device ends the bit's checks, which also keeps
 * unreachable instructions (refused by the verifier) out of the program. */
int bt_cg_dev_program(const bt_cg_dev_rule *rules, size_t n, struct bpf_insn **out, size_t *count,
		      berth_error **err)
{
	static const unsigned bits[] = { BT_CG_DEV_MKNOD, BT_CG_DEV_READ, BT_CG_DEV_WRITE };
	prog_buf b = { NULL, 0, 0, false };
	size_t *fixups = calloc(n + 2, sizeof(size_t));

	*out = NULL;
	*count = 0;
	if (!fixups)
		return bt_error_set(err, BERTH_ENOMEM, 0, "building the device program: out of memory");
	emit(&b, LDX_W(R2, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	emit(&b, MOV_REG(R3, R2));
	emit(&b, AND_IMM(R2, 0xffff));
	emit(&b, RSH_IMM(R3, 16));
	emit(&b, LDX_W(R4, R1, offsetof(struct bpf_cgroup_dev_ctx, major)));
	emit(&b, LDX_W(R5, R1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
	for (size_t k = 0; k < BT_ARRAY_SIZE(bits); k++) {
		size_t nfix = 0, named = 0;
		bool done = false;

		for (size_t i = 0; i < n; i++)
			named += (rules[i].access & bits[k]) != 0;
		if (!named)
			continue;
		/* a request without this bit skips the block */
		emit(&b, JSET_IMM(R3, (int32_t)bits[k], 1));
		fixups[nfix++] = emit(&b, JA(0));
		for (size_t i = n; i-- > 0 && !done;)
			if (rules[i].access & bits[k])
				emit_rule(&b, &rules[i], &done, fixups, &nfix);
		for (size_t f = 0; f < nfix && !b.oom; f++)
			b.v[fixups[f]].off = (int16_t)(b.n - fixups[f] - 1);
	}
	emit(&b, MOV_IMM(R0, 1));
	emit(&b, EXIT());
	free(fixups);
	if (b.oom || b.n > INT16_MAX) {
		free(b.v);
		return b.oom ? bt_error_set(err, BERTH_ENOMEM, 0, "building the device program: out of memory")
			     : bt_error_set(err, BERTH_EINVAL, 0, "building the device program: %zu instructions "
								  "are too many", b.n);
	}
	*out = b.v;
	*count = b.n;
	return 0;
}

/* ---- bpf(2) ----------------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static uint64_t ptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

int bt_cg_bpf_load(const struct bpf_insn *insns, size_t count, int *fd, berth_error **err)
{
	static const char license[] = "GPL";
	union bpf_attr attr;
	char *log = NULL;
	int e;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = ptr(insns);
	attr.insn_cnt = (uint32_t)count;
	attr.license = ptr(license);
	memcpy(attr.prog_name, BT_CG_BPF_NAME, sizeof(BT_CG_BPF_NAME));
	if ((*fd = sys_bpf(BPF_PROG_LOAD, &attr)) >= 0)
		return 0;
	e = errno;
	/* Load again with the verifier's log to say why. */
	if (e == EINVAL || e == EACCES) {
		size_t size = 1 << 16;
		if ((log = calloc(1, size))) {
			attr.log_level = 1;
			attr.log_buf = ptr(log);
			attr.log_size = (uint32_t)size;
			if ((*fd = sys_bpf(BPF_PROG_LOAD, &attr)) >= 0) {
				free(log);
				return 0;
			}
		}
	}
	if (log && *log) {
		size_t len = strlen(log);
		char *last;
		while (len > 0 && log[len - 1] == '\n')
			log[--len] = '\0';
		last = strrchr(log, '\n');
		bt_error_set(err, bt_error_code_from_errno(e), e,
			     "loading the eBPF device program (%zu instructions): %s: verifier: %s", count,
			     strerror(e), last ? last + 1 : log);
	} else {
		errno = e;
		bt_error_os(err, "loading the eBPF device program (%zu instructions)", count);
	}
	free(log);
	*fd = -1;
	return bt_error_code_from_errno(e);
}

/* The device programs named BT_CG_BPF_NAME attached directly to dirfd, as
 * fds (the ids alone could be reused once detached). */
static int ours(int dirfd, const char *dir, int *fds, size_t max, size_t *n, berth_error **err)
{
	uint32_t ids[64];
	union bpf_attr attr;

	*n = 0;
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)dirfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = ptr(ids);
	attr.query.prog_cnt = BT_ARRAY_SIZE(ids);
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return bt_error_os(err, "listing the device programs of cgroup %s", dir);
	for (uint32_t i = 0; i < attr.query.prog_cnt && i < BT_ARRAY_SIZE(ids) && *n < max; i++) {
		struct bpf_prog_info info;
		union bpf_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.prog_id = ids[i];
		if ((fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a)) < 0)
			continue; /* detached meanwhile */
		memset(&info, 0, sizeof(info));
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (uint32_t)fd;
		a.info.info_len = sizeof(info);
		a.info.info = ptr(&info);
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 &&
		    !strncmp(info.name, BT_CG_BPF_NAME, sizeof(info.name)))
			fds[(*n)++] = fd;
		else
			close(fd);
	}
	return 0;
}

/* Detaches the programs fds from dirfd while rc is 0, closes them all;
 * returns rc or the first failure. */
static int detach_fds(int dirfd, const char *dir, int *fds, size_t n, int rc, berth_error **err)
{
	for (size_t i = 0; i < n; i++) {
		union bpf_attr attr;

		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (uint32_t)dirfd;
		attr.attach_bpf_fd = (uint32_t)fds[i];
		attr.attach_type = BPF_CGROUP_DEVICE;
		if (rc == 0 && sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
			rc = bt_error_os(err, "detaching a device program of cgroup %s", dir);
		close(fds[i]);
	}
	return rc;
}

int bt_cg_bpf_attach(int dirfd, const char *dir, int prog_fd, berth_error **err)
{
	int old[16];
	size_t nold;
	union bpf_attr attr;
	int rc;

	if ((rc = ours(dirfd, dir, old, BT_ARRAY_SIZE(old), &nold, err)) < 0)
		return rc;
	/* The new program first: while both are attached a device must pass
	 * both, so the cgroup is never less restricted than either list. */
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dirfd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		rc = bt_error_os(err, "attaching the eBPF device program to cgroup %s", dir);
	return detach_fds(dirfd, dir, old, nold, rc, err);
}

int bt_cg_bpf_detach(int dirfd, const char *dir, berth_error **err)
{
	int old[16];
	size_t nold;
	int rc;

	if ((rc = ours(dirfd, dir, old, BT_ARRAY_SIZE(old), &nold, err)) < 0)
		return rc;
	return detach_fds(dirfd, dir, old, nold, 0, err);
}

/* ---- planning and applying on v2 ------------------------------------------ */

int bt_cg_v2_devices(bt_cg_plan *p, size_t dir, const json_t *devs, const char *jp, berth_error **err)
{
	bt_cg_dev_rule *rules;
	size_t n;
	int rc;

	if ((rc = bt_cg_dev_rules_parse(devs, jp, &rules, &n, err)) < 0)
		return rc;
	free(p->dev_insns);
	p->dev_insns = NULL;
	rc = bt_cg_dev_program(rules, n, &p->dev_insns, &p->dev_count, err);
	free(rules);
	if (rc < 0)
		return bt_error_wrap(err, rc, "%s", jp);
	p->dev_dir = dir;
	/* Loading runs the verifier, so a program the kernel refuses is found
	 * before anything is written; attaching waits for bt_cg_plan_run. */
	if (!p->cg->host->on_bpf && (rc = bt_cg_bpf_load(p->dev_insns, p->dev_count, &p->dev_fd, err)) < 0)
		return bt_error_wrap(err, rc, "%s", jp);
	return 0;
}

int bt_cg_v2_devices_attach(bt_cg_plan *p, berth_error **err)
{
	const bt_cg_dir *d = &p->cg->dirs[p->dev_dir];
	int dirfd, rc;

	if (!p->dev_insns)
		return 0;
	if (p->cg->host->on_bpf) {
		p->cg->host->on_bpf(d->dir, p->dev_insns, p->dev_count, p->cg->host->hook_ud);
		return 0;
	}
	if ((dirfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bt_error_os(err, "opening cgroup %s to attach its device program", d->dir);
	rc = bt_cg_bpf_attach(dirfd, d->dir, p->dev_fd, err);
	close(dirfd);
	return rc;
}
