/* Where a host mounts its cgroups: the mode (v1, v2, hybrid, none), each v1
 * hierarchy with its controllers, and the v2 tree. */
#include "cgroup-internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

static const char *const v1_known[] = {
	"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory",
	"misc", "net_cls", "net_prio", "perf_event", "pids", "rdma",
};

const char *berth_cgroup_mode_name(berth_cgroup_mode mode)
{
	switch (mode) {
	case BERTH_CGROUP_V1:
		return "v1";
	case BERTH_CGROUP_V2:
		return "v2";
	case BERTH_CGROUP_HYBRID:
		return "hybrid";
	default:
		return "none";
	}
}

static bool fs_is(const char *path, long magic)
{
	struct statfs sfs;
	return statfs(path, &sfs) == 0 && sfs.f_type == magic;
}

static bool known_controller(const char *name)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(v1_known); i++)
		if (!strcmp(name, v1_known[i]))
			return true;
	return false;
}

/* "cpu,cpuacct" -> {"cpu","cpuacct"}; "systemd" -> {"name=systemd"}. */
static char **split_controllers(const char *name)
{
	size_t n = 1;
	char **list, *copy, *tok, *save = NULL;

	for (const char *p = name; *p; p++)
		n += *p == ',';
	if (!(list = calloc(n + 1, sizeof(char *))) || !(copy = strdup(name))) {
		free(list);
		return NULL;
	}
	n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		list[n] = known_controller(tok) ? strdup(tok) : bt_strdup_printf("name=%s", tok);
		if (!list[n++])
			break;
	}
	free(copy);
	return list;
}

static void hierarchy_free(bt_cg_hierarchy *h)
{
	free(h->name);
	free(h->mount);
	for (size_t i = 0; h->controllers && h->controllers[i]; i++)
		free(h->controllers[i]);
	free(h->controllers);
}

void bt_cgroup_host_free(bt_cgroup_host *host)
{
	if (!host)
		return;
	for (size_t i = 0; i < host->nv1; i++)
		hierarchy_free(&host->v1[i]);
	free(host->root);
	free(host->self_cgroup);
	free(host->v2_mount);
	free(host);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const bt_cg_hierarchy *)a)->name, ((const bt_cg_hierarchy *)b)->name);
}

/* The v1 hierarchies: directories (not symlinks such as cpu -> cpu,cpuacct)
 * below the root; on the real host only those that are cgroup mounts. */
static int scan_v1(bt_cgroup_host *host, berth_error **err)
{
	DIR *d = opendir(host->root);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return bt_error_os(err, "listing cgroup hierarchies in %s", host->root);
	while ((de = readdir(d)) && rc == 0) {
		bt_cg_hierarchy *h;
		struct stat st;
		char *path;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "unified"))
			continue;
		if (!(path = bt_strdup_printf("%s/%s", host->root, de->d_name))) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "scanning %s: out of memory", host->root);
			break;
		}
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    (!host->fake && !fs_is(path, CGROUP_SUPER_MAGIC))) {
			free(path);
			continue;
		}
		if (host->nv1 == BT_CG_V1_MAX) {
			free(path);
			rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0, "scanning %s: more than %d hierarchies",
					  host->root, BT_CG_V1_MAX);
			break;
		}
		h = &host->v1[host->nv1++];
		h->mount = path;
		if (!(h->name = strdup(de->d_name)) || !(h->controllers = split_controllers(de->d_name)))
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "scanning %s: out of memory", host->root);
	}
	closedir(d);
	if (rc == 0)
		qsort(host->v1, host->nv1, sizeof(host->v1[0]), cmp_names);
	return rc;
}

int bt_cgroup_host_new(const char *root, const char *self_cgroup, bt_cgroup_host **out,
		       berth_error **err)
{
	bt_cgroup_host *host = calloc(1, sizeof(*host));
	char *unified = NULL, *ctl = NULL;
	int rc = 0;

	*out = NULL;
	if (!host)
		return bt_error_set(err, BERTH_ENOMEM, 0, "detecting cgroups: out of memory");
	host->fake = root != NULL;
	host->freeze_timeout_ms = 5000;
	host->remove_timeout_ms = 5000;
	host->kill_timeout_ms = 10000;
	host->root = strdup(root ? root : "/sys/fs/cgroup");
	host->self_cgroup = strdup(self_cgroup ? self_cgroup : "/proc/self/cgroup");
	if (!host->root || !host->self_cgroup) {
		bt_cgroup_host_free(host);
		return bt_error_set(err, BERTH_ENOMEM, 0, "detecting cgroups: out of memory");
	}
	ctl = bt_strdup_printf("%s/cgroup.controllers", host->root);
	unified = bt_strdup_printf("%s/unified", host->root);
	if (!ctl || !unified) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "detecting cgroups: out of memory");
	} else if (host->fake ? access(ctl, F_OK) == 0 : fs_is(host->root, CGROUP2_SUPER_MAGIC)) {
		host->mode = BERTH_CGROUP_V2;
		host->v2_mount = host->root ? strdup(host->root) : NULL;
	} else if (!host->fake && !fs_is(host->root, 0x01021994 /* TMPFS_MAGIC */)) {
		host->mode = BERTH_CGROUP_NONE;
	} else if ((rc = scan_v1(host, err)) == 0) {
		free(ctl);
		ctl = bt_strdup_printf("%s/cgroup.controllers", unified);
		if (ctl && (host->fake ? access(ctl, F_OK) == 0 : fs_is(unified, CGROUP2_SUPER_MAGIC))) {
			host->v2_mount = unified;
			unified = NULL;
		}
		host->mode = host->v2_mount ? BERTH_CGROUP_HYBRID
			     : host->nv1    ? BERTH_CGROUP_V1
					    : BERTH_CGROUP_NONE;
	}
	if (rc == 0 && host->mode == BERTH_CGROUP_V2 && !host->v2_mount)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "detecting cgroups: out of memory");
	free(ctl);
	free(unified);
	if (rc < 0) {
		bt_cgroup_host_free(host);
		return rc;
	}
	*out = host;
	return 0;
}

const bt_cg_hierarchy *bt_cgroup_host_v1(const bt_cgroup_host *host, const char *controller)
{
	for (size_t i = 0; i < host->nv1; i++)
		for (char **c = host->v1[i].controllers; *c; c++)
			if (!strcmp(*c, controller))
				return &host->v1[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names sorted and joined with spaces, newly allocated. */
static char *join_sorted(const char **names, size_t n)
{
	size_t len = 1;
	char *buf;

	qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	if (!(buf = calloc(1, len)))
		return NULL;
	for (size_t i = 0, off = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "%s%s", i ? " " : "", names[i]);
	return buf;
}

/* The controllers of the v1 hierarchies into names, without named ones. */
static size_t v1_names(const bt_cgroup_host *host, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < host->nv1; i++)
		for (char **c = host->v1[i].controllers; *c && n < max; c++)
			if (strncmp(*c, "name=", 5))
				names[n++] = *c;
	return n;
}

int bt_cgroup_host_controllers(const bt_cgroup_host *host, char **out, berth_error **err)
{
	const char *names[64];
	char *text = NULL, *save = NULL, *tok;
	size_t n = v1_names(host, names, BT_ARRAY_SIZE(names));

	*out = NULL;
	if (host->v2_mount) {
		char *path = bt_strdup_printf("%s/cgroup.controllers", host->v2_mount);
		if (path && bt_read_file(path, 4096, &text, NULL, NULL) == 0) {
			for (tok = strtok_r(text, " \n", &save); tok && n < BT_ARRAY_SIZE(names);
			     tok = strtok_r(NULL, " \n", &save)) {
				bool dup = false;
				for (size_t i = 0; i < n; i++)
					dup |= !strcmp(names[i], tok);
				if (!dup)
					names[n++] = tok;
			}
		}
		free(path);
	}
	*out = join_sorted(names, n);
	free(text);
	if (!*out)
		return bt_error_set(err, BERTH_ENOMEM, 0, "listing cgroup controllers: out of memory");
	return 0;
}

int berth_cgroup_detect(berth_cgroup_mode *mode, char **controllers, berth_error **err)
{
	bt_cgroup_host *host;
	int rc;

	if (controllers)
		*controllers = NULL;
	if ((rc = bt_cgroup_host_new(NULL, NULL, &host, err)) < 0)
		return rc;
	*mode = host->mode;
	if (controllers)
		rc = bt_cgroup_host_controllers(host, controllers, err);
	bt_cgroup_host_free(host);
	return rc;
}


/* A file at the top of the v2 tree as one line of space-separated words;
 * "" without a v2 tree or the file. */
static char *v2_root_words(const bt_cgroup_host *host, const char *file)
{
	char *path, *text = NULL;
	size_t len = 0;

	if (!host->v2_mount)
		return strdup("");
	if (!(path = bt_strdup_printf("%s/%s", host->v2_mount, file)))
		return NULL;
	if (bt_read_file(path, 4096, &text, &len, NULL) < 0)
		text = strdup("");
	free(path);
	while (text && len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	return text;
}

/* The controllers of the v1 hierarchies, sorted, without named ones. */
static char *v1_words(const bt_cgroup_host *host)
{
	const char *names[64];

	return join_sorted(names, v1_names(host, names, BT_ARRAY_SIZE(names)));
}

int bt_cgroup_host_info(const bt_cgroup_host *host, berth_info **out, berth_error **err)
{
	berth_info *info = bt_info_new();

	*out = NULL;
	if (!info || bt_info_add(info, "mode", strdup(berth_cgroup_mode_name(host->mode))) < 0 ||
	    bt_info_add(info, "v1.controllers", v1_words(host)) < 0 ||
	    bt_info_add(info, "v2.controllers", v2_root_words(host, "cgroup.controllers")) < 0 ||
	    bt_info_add(info, "v2.delegated", v2_root_words(host, "cgroup.subtree_control")) < 0) {
		berth_info_free(info);
		return bt_error_set(err, BERTH_ENOMEM, 0, "describing the host's cgroups: out of memory");
	}
	*out = info;
	return 0;
}

int berth_cgroup_info_new(berth_info **out, berth_error **err)
{
	bt_cgroup_host *host;
	int rc;

	*out = NULL;
	if ((rc = bt_cgroup_host_new(NULL, NULL, &host, err)) < 0)
		return bt_error_wrap(err, rc, "describing the host's cgroups");
	rc = bt_cgroup_host_info(host, out, err);
	bt_cgroup_host_free(host);
	return rc;
}
