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
	void *hook_ud;
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

/* ---- cgroups (cgroup.c) ---------------------------------------------- */
/* Like berth_cgroup_create/open on a given host; the cgroup borrows host. */
int bt_cgroup_create(const berth_ctx *ctx, bt_cgroup_host *host, const char *cgroups_path,
		     const char *id, berth_cgroup **out, berth_error **err);
int bt_cgroup_open(const berth_ctx *ctx, bt_cgroup_host *host, const char *cgroups_path,
		   const char *id, berth_cgroup **out, berth_error **err);
/* Applies an OCI linux.resources object. All fields are checked (form and
 * whether this host can apply them) before anything is written. */
int bt_cgroup_apply(berth_cgroup *cg, const json_t *resources, berth_error **err);
/* Kills with a SIGKILL loop over cgroup.procs even where cgroup.kill exists. */
int bt_cgroup_kill_loop(berth_cgroup *cg, berth_error **err);
/* An O_PATH|O_DIRECTORY fd of the v2 directory, for clone3(CLONE_INTO_CGROUP);
 * -1 without a v2 tree. */
int bt_cgroup_v2_fd(const berth_cgroup *cg);

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
} bt_cg_plan;

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
int bt_cg_v1_devices(bt_cg_plan *p, size_t dir, const json_t *devs, const char *jp, berth_error **err);
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

/* "key value" line in a flat-keyed file (memory.events, cpu.stat). */
bool bt_cg_keyed(const char *text, const char *key, unsigned long long *out);

#endif
