/* Fake cgroup trees for the cgroup unit suites: a temporary directory laid
 * out like /sys/fs/cgroup on a v1, v2 or hybrid host, hooks that play the
 * kernel's part (populating new cgroup directories, reacting to
 * cgroup.freeze and cgroup.kill) and log every write, and snapshots to show
 * that nothing outside the created cgroups changed. */
#ifndef BERTH_CGROUP_FAKE_H
#define BERTH_CGROUP_FAKE_H

#include "unit.h"

#include "cgroup-internal.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	char *dir;          /* the temporary directory */
	char *root;         /* dir/cgroup: the fake /sys/fs/cgroup */
	bt_cgroup_host *host;
	char log[16384];    /* "relpath=value\n" for each write, relative to root */
	char *before;       /* snapshot taken right after setup */
} fake_tree;

static void fake_put(const char *dir, const char *name, const char *content)
{
	char *p = bt_strdup_printf("%s/%s", dir, name);
	FILE *f;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(content, f);
	fclose(f);
	free(p);
}

static char *fake_get(const char *dir, const char *name)
{
	char *p = bt_strdup_printf("%s/%s", dir, name), *text = NULL;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(bt_read_file(p, 1 << 20, &text, NULL, NULL), 0);
	free(p);
	return text;
}

static void fake_put_all(const char *dir, const char *const *names, const char *content)
{
	for (; *names; names++)
		fake_put(dir, *names, content);
}

static const char *const fake_v1_files[][16] = {
	{ "memory", "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.swappiness",
	  "memory.oom_control", "memory.use_hierarchy", "memory.usage_in_bytes",
	  "memory.max_usage_in_bytes", "memory.kmem.tcp.limit_in_bytes", NULL },
	{ "cpu", "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.rt_runtime_us",
	  "cpu.rt_period_us", "cpu.idle", "cpu.cfs_burst_us", NULL },
	{ "cpuacct", "cpuacct.usage", NULL },
	{ "cpuset", "cpuset.cpus", "cpuset.mems", NULL },
	{ "devices", "devices.allow", "devices.deny", NULL },
	{ "blkio", "blkio.weight", "blkio.weight_device", "blkio.throttle.read_bps_device",
	  "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
	  "blkio.throttle.write_iops_device", NULL },
	{ "pids", "pids.max", "pids.current", NULL },
	{ "net_cls", "net_cls.classid", NULL },
	{ "hugetlb", "hugetlb.2MB.limit_in_bytes", NULL },
};

static const char *const fake_v2_files[][8] = {
	{ "memory", "memory.max", "memory.low", "memory.swap.max", "memory.current", "memory.peak",
	  "memory.events", NULL },
	{ "cpu", "cpu.weight", "cpu.max", "cpu.idle", "cpu.max.burst", NULL },
	{ "cpuset", "cpuset.cpus", "cpuset.mems", NULL },
	{ "io", "io.weight", "io.max", NULL },
	{ "pids", "pids.max", "pids.current", NULL },
	{ "hugetlb", "hugetlb.2MB.max", "hugetlb.1GB.max", NULL },
};

/* What the kernel puts in a new cgroup directory. */
static void fake_populate(const char *dir, const bt_cg_hierarchy *v1, bool v2, void *ud)
{
	static const char *const core[] = { "cgroup.procs", NULL };

	(void)ud;
	fake_put_all(dir, core, "");
	if (v1) {
		fake_put(dir, "tasks", "");
		for (char **c = v1->controllers; *c; c++)
			for (size_t i = 0; i < BT_ARRAY_SIZE(fake_v1_files); i++)
				if (!strcmp(fake_v1_files[i][0], *c))
					fake_put_all(dir, &fake_v1_files[i][1], "");
		if (!strcmp(v1->name, "freezer"))
			fake_put(dir, "freezer.state", "THAWED\n");
		if (!strcmp(v1->name, "memory"))
			fake_put(dir, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
	} else if (v2) {
		char *parent = strdup(dir), *ctl;
		*strrchr(parent, '/') = '\0';
		ctl = fake_get(parent, "cgroup.subtree_control");
		for (char *c = ctl, *o = ctl;; c++) /* "+cpu +io" as written: "cpu io" */
			if (*c != '+' && !(*o++ = *c))
				break;
		fake_put(dir, "cgroup.controllers", ctl);
		fake_put(dir, "cgroup.subtree_control", "");
		fake_put(dir, "cgroup.freeze", "0\n");
		fake_put(dir, "cgroup.kill", "");
		fake_put(dir, "cgroup.events", "populated 0\nfrozen 0\n");
		fake_put(dir, "cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
		for (char *tok = strtok(ctl, " \n"); tok; tok = strtok(NULL, " \n"))
			for (size_t i = 0; i < BT_ARRAY_SIZE(fake_v2_files); i++)
				if (!strcmp(fake_v2_files[i][0], tok))
					fake_put_all(dir, &fake_v2_files[i][1], "");
		free(ctl);
		free(parent);
	}
}

/* A v1 memory limit file's value: -1, empty or the kernel's largest as no limit. */
static unsigned long long fake_limit(const char *text)
{
	unsigned long long v;

	if (!*text || !strncmp(text, "-1", 2))
		return ~0ULL;
	v = strtoull(text, NULL, 10);
	return v >= 0x7ffffffffffff000ULL ? ~0ULL : v;
}

/* Logs the write and plays the kernel's reaction to it. */
static void fake_on_write(const char *path, const char *value, void *ud)
{
	fake_tree *t = ud;
	size_t rl = strlen(t->root), len = strlen(t->log);
	char *dir = strdup(path);
	const char *file;

	ck_assert(!strncmp(path, t->root, rl));
	snprintf(t->log + len, sizeof(t->log) - len, "%s=%s\n", path + rl + 1, value);
	file = strrchr(path, '/') + 1;
	*strrchr(dir, '/') = '\0';
	if (!strcmp(file, "cgroup.freeze"))
		fake_put(dir, "cgroup.events", value[0] == '1' ? "populated 1\nfrozen 1\n"
							       : "populated 1\nfrozen 0\n");
	if (!strcmp(file, "cgroup.kill"))
		fake_put(dir, "cgroup.procs", "");
	if (!strcmp(file, "memory.limit_in_bytes") || !strcmp(file, "memory.memsw.limit_in_bytes")) {
		/* the v1 kernel's rule: limit <= memsw at every moment */
		bool is_limit = !strcmp(file, "memory.limit_in_bytes");
		char *other = fake_get(dir, is_limit ? "memory.memsw.limit_in_bytes" : "memory.limit_in_bytes");
		unsigned long long v = fake_limit(value), o = fake_limit(other);
		ck_assert_msg(is_limit ? v <= o : o <= v, "%s=%s while the %s is %s", path + rl + 1, value,
			      is_limit ? "memsw limit" : "memory limit", other);
		free(other);
	}
	free(dir);
}

/* Plays bpf(2) for device programs: logs "relpath/[device program]=N instructions". */
static void fake_on_bpf(const char *dir, const struct bpf_insn *insns, size_t count, void *ud)
{
	fake_tree *t = ud;
	size_t rl = strlen(t->root), len = strlen(t->log);

	(void)insns;
	ck_assert(!strncmp(dir, t->root, rl));
	snprintf(t->log + len, sizeof(t->log) - len, "%s/[device program]=%zu instructions\n",
		 dir + rl + 1, count);
}

static void snapshot_walk(const char *base, const char *rel, char **out, size_t *len)
{
	char *path = rel[0] ? bt_strdup_printf("%s/%s", base, rel) : strdup(base);
	struct dirent **list;
	int n = scandir(path, &list, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		char *sub = rel[0] ? bt_strdup_printf("%s/%s", rel, list[i]->d_name)
				   : strdup(list[i]->d_name);
		char *full = bt_strdup_printf("%s/%s", base, sub), *text = NULL, *line;
		struct stat st;

		if (list[i]->d_name[0] != '.' && lstat(full, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				line = bt_strdup_printf("%s/\n", sub);
			} else {
				ck_assert_int_eq(bt_read_file(full, 1 << 20, &text, NULL, NULL), 0);
				line = bt_strdup_printf("%s:%s\n", sub, text);
			}
			*out = realloc(*out, *len + strlen(line) + 1);
			strcpy(*out + *len, line);
			*len += strlen(line);
			free(line);
			free(text);
			if (S_ISDIR(st.st_mode))
				snapshot_walk(base, sub, out, len);
		}
		free(full);
		free(sub);
		free(list[i]);
	}
	free(list);
	free(path);
}

/* Every file and directory below the tree with its content. */
static char *fake_snapshot(fake_tree *t)
{
	char *out = strdup("");
	size_t len = 0;

	snapshot_walk(t->root, "", &out, &len);
	return out;
}

/* Makes a tree: v1 hierarchies named in `v1` (space separated directory
 * names, "" for none), a v2 tree at the top (v2_top) or at unified/ with
 * the given root controllers and subtree_control. */
static fake_tree *fake_new(const char *v1, bool v2_top, const char *v2_controllers,
			   const char *v2_subtree)
{
	fake_tree *t = calloc(1, sizeof(*t));
	berth_error *err = NULL;
	char *names = strdup(v1), *self;
	char selfcg[1024] = "";

	t->dir = unit_tmpdir();
	t->root = unit_path(t->dir, "cgroup");
	ck_assert_int_eq(mkdir(t->root, 0755), 0);
	for (char *tok = strtok(names, " "); tok; tok = strtok(NULL, " ")) {
		char *d = unit_path(t->root, tok);
		ck_assert_int_eq(mkdir(d, 0755), 0);
		fake_put(d, "cgroup.procs", "1\n");
		if (!strcmp(tok, "cpuset")) {
			fake_put(d, "cpuset.cpus", "0-3\n");
			fake_put(d, "cpuset.mems", "0\n");
		}
		snprintf(selfcg + strlen(selfcg), sizeof(selfcg) - strlen(selfcg), "%zu:%s%s:/user.slice\n",
			 strlen(selfcg) + 1, strcmp(tok, "systemd") ? "" : "name=", tok);
		free(d);
	}
	free(names);
	if (v2_controllers) {
		char *d = v2_top ? strdup(t->root) : unit_path(t->root, "unified");
		if (!v2_top)
			ck_assert_int_eq(mkdir(d, 0755), 0);
		fake_put(d, "cgroup.controllers", v2_controllers);
		fake_put(d, "cgroup.subtree_control", v2_subtree);
		fake_put(d, "cgroup.procs", "1\n");
		snprintf(selfcg + strlen(selfcg), sizeof(selfcg) - strlen(selfcg), "0::/user.slice/session-1.scope\n");
		free(d);
	}
	self = unit_path(t->dir, "self-cgroup");
	fake_put(t->dir, "self-cgroup", selfcg);
	ck_assert_ok(bt_cgroup_host_new(t->root, self, &t->host, &err), err);
	free(self);
	t->host->on_mkdir = fake_populate;
	t->host->on_write = fake_on_write;
	t->host->on_bpf = fake_on_bpf;
	t->host->hook_ud = t;
	t->host->freeze_timeout_ms = 200;
	t->host->remove_timeout_ms = 50;
	t->host->kill_timeout_ms = 200;
	t->before = fake_snapshot(t);
	return t;
}

/* Asserts the tree is as it was after setup, then removes it. */
static void fake_free(fake_tree *t, bool check_unchanged)
{
	if (check_unchanged) {
		char *now = fake_snapshot(t);
		ck_assert_str_eq(now, t->before);
		free(now);
	}
	free(t->before);
	bt_cgroup_host_free(t->host);
	free(t->root);
	unit_tmpdir_free(t->dir);
	free(t);
}

static void fake_log_clear(fake_tree *t)
{
	t->log[0] = '\0';
}

/* The common start of a test: creates the cgroup "/c" and clears the log
 * of the writes that made it. */
static berth_cgroup *fake_create(fake_tree *t)
{
	berth_cgroup *cg;
	berth_error *err = NULL;

	ck_assert_ok(bt_cgroup_create(NULL, t->host, "/c", "x", &cg, &err), err);
	fake_log_clear(t);
	return cg;
}

/* The common end of a test: removes the cgroup, frees it, and checks the
 * tree is back as it was after setup. */
static void fake_done(fake_tree *t, berth_cgroup *cg)
{
	berth_error *err = NULL;

	ck_assert_ok(berth_cgroup_remove(cg, &err), err);
	berth_cgroup_free(cg);
	fake_free(t, true);
}

#define ck_assert_log(t, expected) ck_assert_str_eq((t)->log, (expected))

/* Applies resources JSON text through the internal API. */
static int fake_apply(berth_cgroup *cg, const char *json, berth_error **err)
{
	return berth_cgroup_set_resources(cg, json, err);
}

#endif
