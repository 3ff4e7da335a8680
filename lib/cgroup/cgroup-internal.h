/* Internal API of the cgroup module, for the runtime and for unit tests.
 *
 * A bt_cgroup_host describes where a host mounts its cgroup hierarchies: the
 * real one under /sys/fs/cgroup, or a fake tree in a temporary directory for
 * unit tests. A berth_cgroup is one container's cgroup in every hierarchy of
 * its host (one directory per v1 hierarchy and/or the v2 tree). Every write
 * the module makes goes through bt_cg_write() into one of those directories,
 * so it never writes outside the cgroups it created. */
#ifndef BERTH_CGROUP_INTERNAL_H
#define BERTH_CGROUP_INTERNAL_H

#include "internal.h"

#include <berth/cgroup.h>

#define BT_CG_V1_MAX 32

struct bpf_insn; /* linux/bpf.h */

typedef struct {
	char *name;         /* directory name: "memory", "cpu,cpuacct", "systemd" */
	char *mount;        /* absolute path of the hierarchy's root */
	char **controllers; /* NULL-terminated; "name=systemd" for named hierarchies */
} bt_cg_hierarchy;

typedef struct bt_cgroup_host {
	char *root;            /* /sys/fs/cgroup or a fake tree */
	char *self_cgroup;     /* /proc/self/cgroup or a fake file, for relative paths */
	berth_cgroup_mode mode;
	size_t nv1;
	bt_cg_hierarchy v1[BT_CG_V1_MAX];
	char *v2_mount;        /* the cgroup2 tree, NULL without one */
	bool fake;             /* a test tree: regular files in our dirs may be removed */
	/* Test hooks (fake trees only). on_mkdir emulates the kernel populating a
	 * new cgroup directory; on_write records every write. */
	void (*on_mkdir)(const char *dir, const bt_cg_hierarchy *v1, bool v2, void *ud);
	void (*on_write)(const char *path, const char *value, void *ud);
	/* Set: device programs go to this hook instead of bpf(2). */
	void (*on_bpf)(const char *dir, const struct bpf_insn *insns, size_t count, void *ud);
	void *hook_ud;
	/* Tests: bt_cgroup_fork does not try clone3, as on kernels before 5.7. */
	bool no_clone3;
	/* Bounds for waits, in milliseconds. */
	int freeze_timeout_ms;
	int remove_timeout_ms;
	int kill_timeout_ms;
} bt_cgroup_host;

/* One directory of a cgroup: in a v1 hierarchy (v1 != NULL) or the v2 tree. */
typedef struct {
	const bt_cg_hierarchy *v1; /* NULL for the v2 tree */
	char *dir;                 /* absolute path of the cgroup directory */
	char *mount;               /* the hierarchy root it lies below */
	size_t created;            /* how many trailing path components we made */
} bt_cg_dir;

struct berth_cgroup {
	const berth_ctx *ctx;
	bt_cgroup_host *host;
	bool own_host;
	char *path;     /* as resolved in the v2 tree, or the first v1 hierarchy */
	size_t ndirs;
	bt_cg_dir dirs[BT_CG_V1_MAX + 1];
	int v2;         /* index of the v2 directory in dirs, or -1 */
};

/* ---- hosts (mode.c) -------------------------------------------------- */
/* The real host (root NULL: /sys/fs/cgroup and /proc/self/cgroup) or a tree
 * below root laid out like /sys/fs/cgroup: cgroup.controllers at the top for
 * v2; else one directory per v1 hierarchy named by its controllers, and a
 * cgroup2 tree at unified/ for hybrid. self_cgroup NULL: /proc/self/cgroup. */
int bt_cgroup_host_new(const char *root, const char *self_cgroup, bt_cgroup_host **out,
		       berth_error **err);
void bt_cgroup_host_free(bt_cgroup_host *host);
/* The v1 hierarchy with this controller, or NULL. */
const bt_cg_hierarchy *bt_cgroup_host_v1(const bt_cgroup_host *host, const char *controller);
/* Space-separated controllers ("cpu memory ..."; v2 ones from the root's
 * cgroup.controllers), newly allocated. */
int bt_cgroup_host_controllers(const bt_cgroup_host *host, char **out, berth_error **err);
/* berth_cgroup_info_new for a given host. */
int bt_cgroup_host_info(const bt_cgroup_host *host, berth_info **out, berth_error **err);

/* ---- cgroups (cgroup.c) ---------------------------------------------- */
/* Like berth_cgroup_create/open on a given host; the cgroup borrows host. */
int bt_cgroup_create(const berth_ctx *ctx, bt_cgroup_host *host, const char *cgroups_path,
		     const char *id, berth_cgroup **out, berth_error **err);
int bt_cgroup_open(const berth_ctx *ctx, bt_cgroup_host *host, const char *cgroups_path,
		   const char *id, berth_cgroup **out, berth_error **err);
/* berth_cgroup_open of the directories that exist (those a create or
 * delete killed part way left), so they can be killed and removed;
 * ENOTFOUND when there is none. */
int bt_cgroup_open_existing(const berth_ctx *ctx, const char *cgroups_path, const char *id,
			    berth_cgroup **out, berth_error **err);
/* Applies an OCI linux.resources object. All fields are checked (form and
 * whether this host can apply them) before anything is written. */
int bt_cgroup_apply(berth_cgroup *cg, const json_t *resources, berth_error **err);
/* Signals pid through a pidfd if it is in cg (or below) in any hierarchy:
 * 0, -ESRCH when it is not (or gone), -errno. */
int bt_cgroup_signal(const berth_cgroup *cg, int pid, int sig);
/* Kills with a SIGKILL loop over cgroup.procs even where cgroup.kill exists. */
int bt_cgroup_kill_loop(berth_cgroup *cg, berth_error **err);
/* An O_PATH|O_DIRECTORY fd of the v2 directory, for clone3(CLONE_INTO_CGROUP);
 * -1 without a v2 tree. */
int bt_cgroup_v2_fd(const berth_cgroup *cg);
/* Forks a child that starts inside the cgroup in every hierarchy (fork.c).
 * Returns 0 in both processes, like fork(): *pid is the child's pid in the
 * parent and 0 in the child. On a v2 tree the kernel places the child with
 * clone3(CLONE_INTO_CGROUP) (*into_cgroup true; may be NULL); otherwise, and
 * for the v1 hierarchies of a hybrid host, the parent writes cgroup.procs
 * while the child waits on a pipe. clone_flags: CLONE_NEW* flags only. The
 * child runs without glibc's fork handlers: async-signal-safe calls only,
 * then exec or _exit. Errors (in the parent): EINVAL for other flags,
 * EUNSUPPORTED for CLONE_NEWTIME without clone3, EOS/EPERM from the kernel;
 * a child that could not be attached is killed and reaped. pidfd (may be
 * NULL) receives a pidfd of the child in the parent (CLONE_PIDFD). */
int bt_cgroup_fork(berth_cgroup *cg, uint64_t clone_flags, pid_t *pid, int *pidfd,
		   bool *into_cgroup, berth_error **err);

/* Writes value to file in dirs[i]; the file must exist (the kernel made it). */
int bt_cg_write(const berth_cgroup *cg, size_t i, const char *file, const char *value,
		berth_error **err);
int bt_cg_read(const berth_cgroup *cg, size_t i, const char *file, char **out, berth_error **err);
bool bt_cg_has_file(const berth_cgroup *cg, size_t i, const char *file);
/* Index in dirs of the v1 hierarchy holding controller, or -1. */
int bt_cg_v1_index(const berth_cgroup *cg, const char *controller);
/* Whether the v2 directory has controller in its cgroup.controllers. */
bool bt_cg_v2_has(const berth_cgroup *cg, const char *controller);
/* ---- resources (resources.c, v1.c, v2.c) ------------------------------
 * Applying resources is planned first: each field becomes writes of a value
 * to a file in one of the cgroup's directories, checked for form and for
 * whether the host has the controller and the file; then the plan runs. */
typedef struct {
	size_t dir;
	char *file;
	char *value;
	char *jpath; /* "linux.resources.memory.limit" */
} bt_cg_op;

typedef struct {
	const berth_cgroup *cg;
	bt_cg_op *ops;
	size_t n, cap;
	/* v2 device rules: the program, loaded (dev_fd) while planning so the
	 * verifier has spoken before anything is written; attached last. */
	struct bpf_insn *dev_insns;
	size_t dev_count;
	size_t dev_dir;
	int dev_fd;
} bt_cg_plan;

#define BT_CG_PLAN_INIT(cg) { (cg), NULL, 0, 0, NULL, 0, 0, -1 }

/* Adds a write of the printf-formatted value; fails with EUNSUPPORTED naming
 * jpath when the file is not in dirs[dir]. */
int bt_cg_plan_add(bt_cg_plan *p, size_t dir, const char *file, const char *jpath,
		   berth_error **err, const char *fmt, ...) BT_PRINTF(6, 7);
/* Typed members of the resources object; absent or null: *present false. */
int bt_cg_int(const json_t *obj, const char *path, const char *key, long long min, bool *present,
	      long long *out, berth_error **err);
/* major and minor of a blockIO device entry, both required. */
int bt_cg_device_entry(const json_t *e, const char *ep, long long *major, long long *minor,
		       berth_error **err);
/* blockIO throttle lists as "major:minor <prefix>rate" lines of file. */
int bt_cg_plan_throttles(bt_cg_plan *p, size_t dir, const json_t *blk, const char *jp,
			 const char *key, const char *file, const char *prefix, berth_error **err);
/* EINVAL naming the first member of obj not in the NULL-terminated keys. */
int bt_cg_known_keys(const json_t *obj, const char *jp, const char *const *keys, berth_error **err);
/* jpath + "." + key, newly allocated (NULL when out of memory). */
char *bt_cg_jpath(const char *path, const char *key);

int bt_cg_v1_memory(bt_cg_plan *p, size_t dir, const json_t *mem, const char *jp, berth_error **err);
int bt_cg_v1_cpu(bt_cg_plan *p, size_t dir, const json_t *cpu, const char *jp, berth_error **err);
int bt_cg_v1_blkio(bt_cg_plan *p, size_t dir, const json_t *blk, const char *jp, berth_error **err);
int bt_cg_v1_stats(const berth_cgroup *cg, berth_cgroup_stats *st);
int bt_cg_v2_memory(bt_cg_plan *p, size_t dir, const json_t *mem, const char *jp, berth_error **err);
int bt_cg_v2_cpu(bt_cg_plan *p, size_t dir, const json_t *cpu, const char *jp, berth_error **err);
int bt_cg_v2_io(bt_cg_plan *p, size_t dir, const json_t *blk, const char *jp, berth_error **err);
int bt_cg_v2_unified(bt_cg_plan *p, size_t dir, const json_t *uni, const char *jp, berth_error **err);
int bt_cg_v2_stats(const berth_cgroup *cg, berth_cgroup_stats *st);
/* The OCI/crun conversion of cpu shares (2..262144) to cpu.weight (1..10000). */
unsigned long long bt_cg_shares_to_weight(unsigned long long shares);
/* blkio weight (10..1000) to io.weight (1..10000). */
unsigned long long bt_cg_blkio_to_io_weight(unsigned long long weight);

/* ---- device rules (devices.c) ---------------------------------------- */
enum { BT_CG_DEV_MKNOD = 1, BT_CG_DEV_READ = 2, BT_CG_DEV_WRITE = 4 }; /* = BPF_DEVCG_ACC_* */

/* One entry of linux.resources.devices. */
typedef struct {
	bool allow;
	char type;          /* 'a', 'b' or 'c' */
	long long major;    /* -1: any */
	long long minor;    /* -1: any */
	unsigned access;    /* BT_CG_DEV_* bits */
} bt_cg_dev_rule;

/* The program's name, by which berth finds the programs it attached. */
#define BT_CG_BPF_NAME "berth_devices"

/* Parses and checks the rule list (newly allocated array in *rules). */
int bt_cg_dev_rules_parse(const json_t *devs, const char *jp, bt_cg_dev_rule **rules, size_t *n,
			  berth_error **err);
/* v1: devices.allow/devices.deny writes, in order. */
int bt_cg_v1_devices(bt_cg_plan *p, size_t dir, const json_t *devs, const char *jp, berth_error **err);
/* v2: builds and loads the program; bt_cg_v2_devices_attach attaches it. */
int bt_cg_v2_devices(bt_cg_plan *p, size_t dir, const json_t *devs, const char *jp, berth_error **err);
int bt_cg_v2_devices_attach(bt_cg_plan *p, berth_error **err);
/* The BPF_PROG_TYPE_CGROUP_DEVICE program for rules in list order (each
 * access bit decided by the last rule that matches), newly allocated. */
int bt_cg_dev_program(const bt_cg_dev_rule *rules, size_t n, struct bpf_insn **insns,
		      size_t *count, berth_error **err);
/* Loads a device program; *fd is the caller's to close. */
int bt_cg_bpf_load(const struct bpf_insn *insns, size_t count, int *fd, berth_error **err);
/* Attaches prog_fd to the v2 cgroup directory dirfd (BPF_F_ALLOW_MULTI),
 * then detaches the programs named BT_CG_BPF_NAME that were there before;
 * `dir` names the cgroup in errors. */
int bt_cg_bpf_attach(int dirfd, const char *dir, int prog_fd, berth_error **err);
/* Detaches every program named BT_CG_BPF_NAME from dirfd. */
int bt_cg_bpf_detach(int dirfd, const char *dir, berth_error **err);

/* "key value" line in a flat-keyed file (memory.events, cpu.stat). */
bool bt_cg_keyed(const char *text, const char *key, unsigned long long *out);

#endif
