/* The run options that add to a built spec: --init, --ulimit, --device and
 * --network container:<name|id>. Each checks its values (EINVAL naming
 * the bad one), changes the spec and records itself in HostConfig under
 * Docker's name. */
#include "container-internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define INIT_DEST "/sbin/berth-init"

char *bt_ct_init_path(void)
{
	const char *env = secure_getenv("BERTH_INIT");

	return strdup(env && *env ? env : BERTH_LIBEXECDIR "/berth/berth-init");
}

/* berth-init bind-mounted read-only and run as pid 1 in front of the command. */
static int add_init(json_t *spec, berth_error **err)
{
	json_t *proc = json_object_get(spec, "process"), *args;
	char *path = bt_ct_init_path();
	int rc = 0;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (access(path, X_OK) < 0) {
		rc = bt_error_os(err, "--init: the init program %s (BERTH_INIT names another)", path);
		goto out;
	}
	args = json_pack("[s, s]", INIT_DEST, "--");
	json_array_extend(args, json_object_get(proc, "args"));
	json_object_set_new(proc, "args", args);
	json_array_append_new(json_object_get(spec, "mounts"),
			      json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination", INIT_DEST, "type", "bind",
					"source", path, "options", "rbind", "ro", "rprivate"));
out:
	free(path);
	return rc;
}

/* Docker's --ulimit names and the kernel's. */
static const char *rlimit_type(const char *name)
{
	static const char *const names[][2] = {
		{ "core", "RLIMIT_CORE" }, { "cpu", "RLIMIT_CPU" }, { "data", "RLIMIT_DATA" },
		{ "fsize", "RLIMIT_FSIZE" }, { "locks", "RLIMIT_LOCKS" }, { "memlock", "RLIMIT_MEMLOCK" },
		{ "msgqueue", "RLIMIT_MSGQUEUE" }, { "nice", "RLIMIT_NICE" }, { "nofile", "RLIMIT_NOFILE" },
		{ "nproc", "RLIMIT_NPROC" }, { "rss", "RLIMIT_RSS" }, { "rtprio", "RLIMIT_RTPRIO" },
		{ "rttime", "RLIMIT_RTTIME" }, { "sigpending", "RLIMIT_SIGPENDING" },
		{ "stack", "RLIMIT_STACK" }, { "as", "RLIMIT_AS" },
	};

	for (size_t i = 0; i < BT_ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i][0]))
			return names[i][1];
	return NULL;
}

static bool parse_limit(const char *s, long long *out)
{
	char *end;

	if (!*s || (!isdigit((unsigned char)*s) && *s != '-'))
		return false;
	*out = strtoll(s, &end, 10);
	return !*end && *out >= -1;
}

/* "name=soft[:hard]" into process.rlimits and HostConfig.Ulimits. */
static int add_ulimit(json_t *spec, json_t *record, const char *u, berth_error **err)
{
	char name[32], soft_s[32] = "", hard_s[32] = "";
	long long soft = 0, hard = 0;
	const char *type;
	json_t *proc = json_object_get(spec, "process");

	if (sscanf(u, "%31[^=]=%31[^:]:%31s", name, soft_s, hard_s) < 2 || strchr(u, '=')[1] == ':')
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid ulimit argument: \"%s\" (name=soft[:hard])", u);
	if (!(type = rlimit_type(name)))
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid ulimit type: %s", name);
	if (!parse_limit(soft_s, &soft) || (*hard_s && !parse_limit(hard_s, &hard)) ||
	    (!*hard_s && strchr(u, ':')))
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid ulimit argument: \"%s\": a number or -1", u);
	if (!*hard_s)
		hard = soft;
	if (hard != -1 && (soft == -1 || soft > hard))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "ulimit soft limit must be less than or equal to hard limit: %s", u);
	if (!json_object_get(proc, "rlimits"))
		json_object_set_new(proc, "rlimits", json_array());
	json_array_append_new(json_object_get(proc, "rlimits"),
			      json_pack("{s:s, s:I, s:I}", "type", type, "hard", (json_int_t)hard, "soft",
					(json_int_t)soft));
	json_array_append_new(json_object_get(json_object_get(record, "HostConfig"), "Ulimits"),
			      json_pack("{s:s, s:I, s:I}", "Name", name, "Hard", (json_int_t)hard, "Soft",
					(json_int_t)soft));
	return 0;
}

static bool valid_perms(const char *p)
{
	return *p && strspn(p, "rwm") == strlen(p);
}

/* "/dev/x[:/dev/y][:rwm]": the node in linux.devices, its access in the
 * cgroup's rules, HostConfig.Devices. */
static int add_device(json_t *spec, json_t *record, const char *d, berth_error **err)
{
	char *copy = strdup(d), *parts[3] = { 0 }, *save = NULL, type[2] = "c";
	const char *src, *dst, *perms = "rwm";
	json_t *lx = json_object_get(spec, "linux");
	struct stat st;
	int n = 0, rc = 0;

	if (!copy)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		if (n++ < 3)
			parts[n - 1] = p;
	src = parts[0];
	dst = parts[1] && !(n == 2 && valid_perms(parts[1])) ? parts[1] : src;
	if (n == 3 || (n == 2 && valid_perms(parts[1])))
		perms = parts[n - 1];
	if (n < 1 || n > 3 || src[0] != '/' || dst[0] != '/' || !valid_perms(perms)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "invalid device specification: %s", d);
		goto out;
	}
	if (stat(src, &st) < 0) {
		rc = bt_error_os(err, "error gathering device information while adding custom device \"%s\"", src);
		goto out;
	}
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "%s is not a device node", src);
		goto out;
	}
	type[0] = S_ISBLK(st.st_mode) ? 'b' : 'c';
	if (!json_object_get(lx, "devices"))
		json_object_set_new(lx, "devices", json_array());
	json_array_append_new(json_object_get(lx, "devices"),
			      json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i}", "path", dst, "type", type, "major",
					(json_int_t)major(st.st_rdev), "minor", (json_int_t)minor(st.st_rdev),
					"fileMode", (int)(st.st_mode & 07777), "uid", 0, "gid", 0));
	json_array_append_new(json_object_get(json_object_get(lx, "resources"), "devices"),
			      json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", type, "major",
					(json_int_t)major(st.st_rdev), "minor", (json_int_t)minor(st.st_rdev),
					"access", perms));
	json_array_append_new(json_object_get(json_object_get(record, "HostConfig"), "Devices"),
			      json_pack("{s:s, s:s, s:s}", "PathOnHost", src, "PathInContainer", dst,
					"CgroupPermissions", perms));
out:
	free(copy);
	return rc;
}

/* The init pid of running container id, read without its lock (its
 * records are written atomically, and taking it could deadlock two
 * containers that name each other); 0 when it does not run. */
static int running_pid(berth_ctx *ctx, const char *id)
{
	char *croot = NULL, *path = NULL;
	json_t *state = NULL;
	const char *status;
	int pid = 0, fd;

	if (bt_ct_root(ctx, &croot, NULL) < 0 || !(path = bt_strdup_printf("%s/%s/state.json", croot, id)) ||
	    bt_json_load_file(path, 1 << 20, &state, NULL) < 0)
		goto out;
	status = json_string_value(json_object_get(state, "Status"));
	/* a live monitor: the recorded init pid is still its child, not reused */
	if (status && !strcmp(status, "running") && (fd = bt_ct_monitor_pidfd(state)) >= 0) {
		close(fd);
		pid = (int)json_integer_value(json_object_get(state, "Pid"));
	}
out:
	json_decref(state);
	free(path);
	free(croot);
	return pid;
}

/* The network and uts namespaces of spec to those of container id's init. */
static int set_join_paths(berth_ctx *ctx, json_t *spec, const char *id, const char *asked,
			  berth_error **err)
{
	int pid = running_pid(ctx, id);
	size_t i;
	json_t *ns;

	if (pid <= 0)
		return bt_error_set(err, BERTH_ESTATE, 0, "cannot join network of a non running container: %s", asked);
	json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, ns) {
		const char *type = json_string_value(json_object_get(ns, "type"));

		if (!strcmp(type, "network") || !strcmp(type, "uts"))
			json_object_set_new(ns, "path", json_sprintf("/proc/%d/ns/%s", pid,
								     !strcmp(type, "network") ? "net" : "uts"));
	}
	return 0;
}

/* --network container:<name|id>: the network and uts namespaces of that
 * running container (its pid now; berth_container_start takes it again),
 * and its hostname, hosts and resolv.conf. */
static int join_network(berth_ctx *ctx, json_t *spec, json_t *record, const char *target,
			berth_error **err)
{
	struct bt_ct *ct;
	char id[65];
	json_t *m;
	size_t i;
	int rc;

	if (!*target)
		return bt_error_set(err, BERTH_EINVAL, 0, "--network container: needs a container's name or id");
	/* its lock only to find it: the pid is read as start reads it */
	if ((rc = bt_ct_open(ctx, target, &ct, err)) < 0)
		return rc;
	memcpy(id, ct->id, sizeof(id));
	json_array_foreach(json_object_get(spec, "mounts"), i, m) {
		const char *dest = json_string_value(json_object_get(m, "destination"));

		if (!strcmp(dest, "/etc/hostname") || !strcmp(dest, "/etc/hosts") || !strcmp(dest, "/etc/resolv.conf"))
			json_object_set_new(m, "source", json_sprintf("%s/%s", ct->dir, dest + 5));
	}
	bt_ct_close(ct);
	if ((rc = set_join_paths(ctx, spec, id, target, err)) < 0)
		return rc;
	/* a joined uts namespace keeps its own name */
	json_object_del(spec, "hostname");
	json_object_set_new(json_object_get(record, "HostConfig"), "NetworkMode", json_sprintf("container:%s", id));
	return 0;
}

int bt_ct_runopts_refresh(berth_ctx *ctx, struct bt_ct *ct, berth_error **err)
{
	const char *mode = json_string_value(json_object_get(json_object_get(ct->config, "HostConfig"), "NetworkMode"));
	char *path;
	json_t *spec;
	int rc;

	if (!mode || strncmp(mode, "container:", 10))
		return 0;
	if (!(path = bt_strdup_printf("%s/config.json", ct->dir)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_json_load_file(path, 16 << 20, &spec, err)) == 0) {
		if ((rc = set_join_paths(ctx, spec, mode + 10, mode + 10, err)) == 0)
			rc = bt_json_write_atomic(path, spec, err);
		json_decref(spec);
	}
	free(path);
	return rc;
}

int bt_ct_runopts_apply(berth_ctx *ctx, const berth_container_create_opts *o, json_t *spec,
			json_t *record, berth_error **err)
{
	json_t *host = json_object_get(record, "HostConfig");
	int rc = 0;

	json_object_set_new(host, "Init", json_boolean(o->init));
	json_object_set_new(host, "Ulimits", json_array());
	json_object_set_new(host, "Devices", json_array());
	if (o->init && (rc = add_init(spec, err)) < 0)
		return rc;
	for (const char *const *u = o->ulimits; u && *u; u++)
		if ((rc = add_ulimit(spec, record, *u, err)) < 0)
			return rc;
	for (const char *const *d = o->devices; d && *d; d++)
		if ((rc = add_device(spec, record, *d, err)) < 0)
			return rc;
	if (o->network && !strncmp(o->network, "container:", 10))
		rc = o->hostname ? bt_error_set(err, BERTH_EINVAL, 0, "conflicting options: hostname and the network mode")
				 : join_network(ctx, spec, record, o->network + 10, err);
	return rc;
}
