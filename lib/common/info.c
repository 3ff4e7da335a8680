/* Facts about the library, the store and the host kernel, for `berth info`
 * and for callers that want to know what this host can do before asking. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

struct berth_info {
	size_t count, cap;
	char **keys;
	char **values;
};

berth_info *bt_info_new(void)
{
	return calloc(1, sizeof(berth_info));
}

int bt_info_add(berth_info *info, const char *key, char *value)
{
	if (!value)
		return -1;
	if (info->count == info->cap) {
		size_t cap = info->cap ? 2 * info->cap : 16;
		char **keys = realloc(info->keys, cap * sizeof(char *));
		if (keys)
			info->keys = keys;
		char **values = keys ? realloc(info->values, cap * sizeof(char *)) : NULL;
		if (!values) {
			free(value);
			return -1;
		}
		info->values = values;
		info->cap = cap;
	}
	if (!(info->keys[info->count] = strdup(key))) {
		free(value);
		return -1;
	}
	info->values[info->count++] = value;
	return 0;
}

static char *yes_no(bool b)
{
	return strdup(b ? "yes" : "no");
}

/* The namespace types this kernel has, as /proc/self/ns lists them. */
static char *namespaces(void)
{
	static const char *const kinds[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };
	char buf[128] = "";
	char path[64];

	for (size_t i = 0; i < BT_ARRAY_SIZE(kinds); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[i]);
		if (access(path, F_OK) == 0) {
			if (buf[0])
				strcat(buf, " ");
			strcat(buf, kinds[i]);
		}
	}
	return strdup(buf);
}

/* A file system type in /proc/filesystems ("overlay"). */
static bool has_filesystem(const char *type)
{
	char *text, *line, *save = NULL;
	bool found = false;

	if (bt_read_file("/proc/filesystems", 1 << 20, &text, NULL, NULL) < 0)
		return false;
	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char *name = strrchr(line, '\t');
		found = !strcmp(name ? name + 1 : line, type);
	}
	free(text);
	return found;
}

static bool is_fs(const char *path, long magic)
{
	struct statfs sfs;
	return statfs(path, &sfs) == 0 && sfs.f_type == magic;
}

/* v2: /sys/fs/cgroup is cgroup2; hybrid: a tmpfs of v1 hierarchies with a
 * cgroup2 tree at unified/; v1: the tmpfs alone. */
static const char *cgroup_mode(void)
{
	if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
		return "v2";
	if (!is_fs("/sys/fs/cgroup", TMPFS_MAGIC))
		return "none";
	if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
		return "hybrid";
	return "v1";
}

/* The enabled controllers in /proc/cgroups whose hierarchy is v1 (> 0). */
static char *cgroup_v1_controllers(void)
{
	char *text, *line, *save = NULL, *out;
	size_t len = 0;

	if (bt_read_file("/proc/cgroups", 1 << 20, &text, NULL, NULL) < 0)
		return strdup("");
	if (!(out = calloc(1, strlen(text) + 1))) {
		free(text);
		return NULL;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		int hierarchy, count, enabled;

		if (line[0] == '#' || sscanf(line, "%63s %d %d %d", name, &hierarchy, &count, &enabled) != 4)
			continue;
		if (hierarchy > 0 && enabled)
			len += (size_t)sprintf(out + len, "%s%s", len ? " " : "", name);
	}
	free(text);
	return out;
}

static char *cgroup_v2_controllers(const char *mode)
{
	const char *path = !strcmp(mode, "v2") ? "/sys/fs/cgroup/cgroup.controllers"
					       : "/sys/fs/cgroup/unified/cgroup.controllers";
	char *text;
	size_t len;

	if (!strcmp(mode, "none") || !strcmp(mode, "v1") ||
	    bt_read_file(path, 4096, &text, &len, NULL) < 0)
		return strdup("");
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	return text;
}

static char *kernel_release(void)
{
	struct utsname u;

	if (uname(&u) < 0)
		return strdup("unknown");
	return bt_strdup_printf("%s %s %s", u.sysname, u.release, u.machine);
}

static char *feature_list(void)
{
	char buf[256] = "";

	for (const char *const *f = berth_feature_names(); *f; f++)
		if (berth_has_feature(*f)) {
			if (buf[0])
				strcat(buf, " ");
			strcat(buf, *f);
		}
	return strdup(buf);
}

/* what unpacking inflates gzip layers with: "isa-l", "zlib" or "none" */
static char *gzip_inflater(void)
{
	const char *engine = bt_gunzip_engine();

	return strdup(engine ? engine : "none");
}

int berth_info_new(const berth_ctx *ctx, berth_info **out, berth_error **err)
{
	berth_info *info = bt_info_new();
	const char *mode = cgroup_mode();

	*out = NULL;
	if (!info ||
	    bt_info_add(info, "version", strdup(berth_version(NULL, NULL, NULL))) < 0 ||
	    bt_info_add(info, "root", strdup(ctx->root)) < 0 ||
	    bt_info_add(info, "runroot", strdup(ctx->runroot)) < 0 ||
	    bt_info_add(info, "kernel", kernel_release()) < 0 ||
	    bt_info_add(info, "namespaces", namespaces()) < 0 ||
	    bt_info_add(info, "overlayfs", yes_no(has_filesystem("overlay"))) < 0 ||
	    bt_info_add(info, "cgroup.mode", strdup(mode)) < 0 ||
	    bt_info_add(info, "cgroup.v1.controllers", cgroup_v1_controllers()) < 0 ||
	    bt_info_add(info, "cgroup.v2.controllers", cgroup_v2_controllers(mode)) < 0 ||
	    bt_info_add(info, "seccomp", yes_no(berth_has_feature("seccomp"))) < 0 ||
	    bt_info_add(info, "features", feature_list()) < 0 ||
	    bt_info_add(info, "inflate.gzip", gzip_inflater()) < 0) {
		berth_info_free(info);
		return bt_error_set(err, BERTH_ENOMEM, 0, "gathering host information: out of memory");
	}
	*out = info;
	return 0;
}

size_t berth_info_count(const berth_info *info)
{
	return info ? info->count : 0;
}

const char *berth_info_key(const berth_info *info, size_t i)
{
	return info && i < info->count ? info->keys[i] : NULL;
}

const char *berth_info_value(const berth_info *info, size_t i)
{
	return info && i < info->count ? info->values[i] : NULL;
}

const char *berth_info_lookup(const berth_info *info, const char *key)
{
	for (size_t i = 0; info && i < info->count; i++)
		if (!strcmp(info->keys[i], key))
			return info->values[i];
	return NULL;
}

void berth_info_free(berth_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->count; i++) {
		free(info->keys[i]);
		free(info->values[i]);
	}
	free(info->keys);
	free(info->values);
	free(info);
}
