/* The runtime-spec config of a container: the image's config, the
 * caller's options over it, Docker's defaults under both. */
#include "container-internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Docker's default capabilities (moby's oci/caps defaults). */
static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

/* Every capability Linux defines, in number order. */
static const char *const all_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", NULL,
};

static const char *const masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static json_t *strings(const char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static bool has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (!strcmp(json_string_value(e), s))
			return true;
	return false;
}

/* "net_admin" / "NET_ADMIN" / "CAP_NET_ADMIN" as CAP_NET_ADMIN, in buf;
 * "ALL" as itself. EINVAL for a name Linux does not have. */
static int cap_name(const char *in, char *buf, size_t len, berth_error **err)
{
	size_t i = 0;

	if (!strncasecmp(in, "CAP_", 4))
		in += 4;
	if (strlen(in) + 5 > len)
		return bt_error_set(err, BERTH_EINVAL, 0, "unknown capability: \"%s\"", in);
	if (!strcasecmp(in, "ALL")) {
		snprintf(buf, len, "ALL");
		return 0;
	}
	i = (size_t)snprintf(buf, len, "CAP_");
	for (; *in; in++)
		buf[i++] = (char)toupper((unsigned char)*in);
	buf[i] = '\0';
	for (const char *const *c = all_caps; *c; c++)
		if (!strcmp(*c, buf))
			return 0;
	return bt_error_set(err, BERTH_EINVAL, 0, "unknown capability: \"%s\"", buf);
}

/* The capabilities in our own bounding set: what "all" can mean (a host
 * may withhold some from us, and a process cannot gain them back). */
static json_t *bounding_caps(void)
{
	json_t *a = json_array();

	for (int i = 0; all_caps[i]; i++)
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			json_array_append_new(a, json_string(all_caps[i]));
	return a;
}

/* Docker's rule: start from the defaults (or all when privileged or
 * cap_add has ALL), drop cap_drop (ALL: every one), then add cap_add. */
static int capabilities(const berth_container_create_opts *o, json_t **out, berth_error **err)
{
	json_t *caps = o->privileged ? bounding_caps() : strings(default_caps), *kept, *all;
	char name[64];
	bool drop_all = false;
	int rc;

	for (const char *const *d = o->cap_drop; d && *d; d++) {
		if ((rc = cap_name(*d, name, sizeof(name), err)) < 0)
			goto fail;
		drop_all |= !strcmp(name, "ALL");
	}
	kept = json_array();
	for (size_t i = 0; !drop_all && i < json_array_size(caps); i++) {
		const char *c = json_string_value(json_array_get(caps, i));
		bool dropped = false;

		for (const char *const *d = o->cap_drop; d && *d; d++) {
			cap_name(*d, name, sizeof(name), NULL);
			dropped |= !strcmp(name, c);
		}
		if (!dropped)
			json_array_append_new(kept, json_string(c));
	}
	json_decref(caps);
	caps = kept;
	all = bounding_caps();
	for (const char *const *a = o->cap_add; a && *a; a++) {
		if ((rc = cap_name(*a, name, sizeof(name), err)) < 0) {
			json_decref(all);
			goto fail;
		}
		for (const char *const *c = all_caps; *c; c++)
			if (!has_string(caps, *c) &&
			    (!strcmp(name, *c) || (!strcmp(name, "ALL") && has_string(all, *c))))
				json_array_append_new(caps, json_string(*c));
	}
	json_decref(all);
	*out = caps;
	return 0;
fail:
	json_decref(caps);
	return rc;
}

/* The image's config object ("config" of the image config document). */
static const json_t *image_section(const json_t *image, const char *key)
{
	return json_object_get(json_object_get(image, "config"), key);
}

/* Sets KEY=VALUE in env, replacing an entry with the same key. */
static void env_set(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	size_t i;
	json_t *e;

	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);

		if (!strncmp(s, kv, klen) && (s[klen] == '=' || !s[klen])) {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

static bool env_has(const json_t *env, const char *key)
{
	size_t i, n = strlen(key);
	json_t *e;

	json_array_foreach(env, i, e)
		if (!strncmp(json_string_value(e), key, n) && json_string_value(e)[n] == '=')
			return true;
	return false;
}

/* command's failure: what it made so far freed (the caller returns at once). */
static int command_fails(json_t *args, json_t **entrypoint, json_t **cmd, int rc)
{
	json_decref(args);
	json_decref(*entrypoint);
	json_decref(*cmd);
	*entrypoint = *cmd = NULL;
	return rc;
}

/* Entrypoint + Cmd as Docker combines them: an entrypoint given drops the
 * image's Cmd. EINVAL when nothing is left to run. */
static int command(const json_t *image, const berth_container_create_opts *o, json_t **path_args,
		   json_t **entrypoint, json_t **cmd, berth_error **err)
{
	json_t *args;

	*entrypoint = o->entrypoint ? strings(o->entrypoint)
				    : json_deep_copy(image_section(image, "Entrypoint"));
	if (!json_is_array(*entrypoint)) {
		json_decref(*entrypoint);
		*entrypoint = json_array();
	}
	*cmd = o->cmd ? strings(o->cmd)
		      : o->entrypoint ? json_array() : json_deep_copy(image_section(image, "Cmd"));
	if (!json_is_array(*cmd)) {
		json_decref(*cmd);
		*cmd = json_array();
	}
	args = json_deep_copy(*entrypoint);
	json_array_extend(args, *cmd);
	for (size_t i = 0; i < json_array_size(args); i++)
		if (!json_is_string(json_array_get(args, i)))
			return command_fails(args, entrypoint, cmd,
					     bt_error_set(err, BERTH_EINVAL, 0, "the image's Entrypoint or Cmd holds a non-string"));
	if (!json_array_size(args))
		return command_fails(args, entrypoint, cmd, bt_error_set(err, BERTH_EINVAL, 0, "no command specified"));
	*path_args = args;
	return 0;
}

static json_t *mount(const char *dest, const char *type, const char *source, const char *opts)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:[]}", "destination", dest, "type", type, "source", source,
			      "options");
	char *copy = strdup(opts), *save = NULL;

	for (char *o = copy ? strtok_r(copy, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save))
		json_array_append_new(json_object_get(m, "options"), json_string(o));
	free(copy);
	return m;
}

static json_t *mounts(const char *dir, const berth_container_create_opts *o)
{
	const char *etc_opts = o->read_only ? "rbind,rprivate,ro" : "rbind,rprivate";
	const char *sys_opts = o->privileged ? "nosuid,noexec,nodev" : "nosuid,noexec,nodev,ro";
	json_t *m = json_array();
	char path[4096], shm[96];

	json_array_append_new(m, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(m, mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
	json_array_append_new(m, mount("/dev/pts", "devpts", "devpts",
				       "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
	json_array_append_new(m, mount("/sys", "sysfs", "sysfs", sys_opts));
	json_array_append_new(m, mount("/sys/fs/cgroup", "cgroup", "cgroup", "ro,nosuid,noexec,nodev"));
	json_array_append_new(m, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	snprintf(shm, sizeof(shm), "nosuid,noexec,nodev,mode=1777,size=%lldk",
		 o->shm_size > 0 ? (o->shm_size + 1023) / 1024 : 65536);
	json_array_append_new(m, mount("/dev/shm", "tmpfs", "shm", shm));
	static const char *const etc[] = { "resolv.conf", "hostname", "hosts" };
	for (size_t i = 0; i < BT_ARRAY_SIZE(etc); i++) {
		char dest[32];

		snprintf(path, sizeof(path), "%s/%s", dir, etc[i]);
		snprintf(dest, sizeof(dest), "/etc/%s", etc[i]);
		json_array_append_new(m, mount(dest, "bind", path, etc_opts));
	}
	return m;
}

/* Docker's device rules: nothing but the usual character devices, and
 * mknod of any (the node is useless without access). */
static json_t *device_rules(const berth_container_create_opts *o)
{
	static const struct { char type; int major, minor; const char *access; } allow[] = {
		{ 'c', -1, -1, "m" }, { 'b', -1, -1, "m" }, { 'c', 1, 3, "rwm" }, { 'c', 1, 8, "rwm" },
		{ 'c', 1, 7, "rwm" }, { 'c', 5, 0, "rwm" }, { 'c', 1, 5, "rwm" }, { 'c', 1, 9, "rwm" },
		{ 'c', 5, 1, "rwm" }, { 'c', 136, -1, "rwm" }, { 'c', 5, 2, "rwm" }, { 'c', 10, 200, "rwm" },
	};
	json_t *d = json_array();

	if (o->privileged) {
		json_array_append_new(d, json_pack("{s:b, s:s}", "allow", 1, "access", "rwm"));
		return d;
	}
	json_array_append_new(d, json_pack("{s:b, s:s}", "allow", 0, "access", "rwm"));
	for (size_t i = 0; i < BT_ARRAY_SIZE(allow); i++) {
		char type[2] = { allow[i].type, '\0' };
		json_t *r = json_pack("{s:b, s:s, s:s}", "allow", 1, "type", type, "access", allow[i].access);

		if (allow[i].major >= 0)
			json_object_set_new(r, "major", json_integer(allow[i].major));
		if (allow[i].minor >= 0)
			json_object_set_new(r, "minor", json_integer(allow[i].minor));
		json_array_append_new(d, r);
	}
	return d;
}

static int resources(const berth_container_create_opts *o, json_t **out, berth_error **err)
{
	json_t *r = json_object();

	if (o->memory < 0 || o->nano_cpus < 0 || o->cpu_shares < 0 || o->pids_limit < -1) {
		json_decref(r);
		return bt_error_set(err, BERTH_EINVAL, 0, "a negative resource limit");
	}
	if (o->memory_swap && o->memory_swap != -1 && (!o->memory || o->memory_swap < o->memory)) {
		json_decref(r);
		return bt_error_set(err, BERTH_EINVAL, 0,
				    o->memory ? "Minimum memoryswap limit should be larger than memory limit, see usage"
					      : "You should always set the Memory limit when using Memoryswap limit, see usage");
	}
	if (o->memory) {
		/* Docker: swap as large as the memory unless told */
		long long swap = o->memory_swap ? o->memory_swap : 2 * o->memory;

		json_object_set_new(r, "memory", json_pack("{s:I, s:I}", "limit", (json_int_t)o->memory,
							   "swap", (json_int_t)swap));
	}
	if (o->nano_cpus || o->cpu_shares) {
		json_t *cpu = json_object();

		if (o->nano_cpus) {
			json_object_set_new(cpu, "period", json_integer(100000));
			json_object_set_new(cpu, "quota", json_integer(o->nano_cpus / 10000));
		}
		if (o->cpu_shares)
			json_object_set_new(cpu, "shares", json_integer(o->cpu_shares));
		json_object_set_new(r, "cpu", cpu);
	}
	if (o->pids_limit)
		json_object_set_new(r, "pids", json_pack("{s:I}", "limit", (json_int_t)o->pids_limit));
	json_object_set_new(r, "devices", device_rules(o));
	*out = r;
	return 0;
}

/* Makes the working directory below rootfs when the image lacks it (as
 * Docker does), never leaving rootfs. */
static int make_workdir(const char *rootfs, const char *cwd, berth_error **err)
{
	char *copy = strdup(cwd);
	int rootfd, rc = 0;

	if (!copy)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(copy);
		return bt_error_os(err, "opening %s", rootfs);
	}
	for (char *p = copy + 1; rc == 0 && *p; p++) {
		bool last = !p[1];
		char saved;
		int fd;

		if (*p != '/' && !last)
			continue;
		saved = last ? '\0' : *p;
		*p = last ? *p : '\0';
		if (last)
			p++;
		rc = bt_path_open(rootfd, copy, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, BT_RESOLVE_IN_ROOT, &fd, NULL);
		if (rc == 0) {
			close(fd);
		} else {
			char *slash = strrchr(copy, '/'), *name = slash + 1;
			int dfd;

			*slash = '\0';
			rc = bt_path_open(rootfd, *copy ? copy : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
					  BT_RESOLVE_IN_ROOT, &dfd, err);
			*slash = '/';
			if (rc == 0) {
				if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
					rc = bt_error_os(err, "making the working directory %s", cwd);
				close(dfd);
			}
		}
		if (last)
			break;
		*p = saved;
	}
	close(rootfd);
	free(copy);
	return rc;
}

/* process: args, env, cwd, user, capabilities, terminal. */
static int process(const char *rootfs, const json_t *image, const berth_container_create_opts *o,
		   const char *hostname, json_t *record, json_t **out, berth_error **err)
{
	const char *user = o->user ? o->user : json_string_value(image_section(image, "User"));
	const char *cwd = o->workdir ? o->workdir : json_string_value(image_section(image, "WorkingDir"));
	json_t *args = NULL, *entrypoint = NULL, *cmd = NULL, *env, *caps = NULL, *p, *gids;
	struct bt_ct_user u;
	int rc;

	if (!cwd || !*cwd)
		cwd = "/";
	if (cwd[0] != '/')
		return bt_error_set(err, BERTH_EINVAL, 0, "the working directory '%s' is invalid, it needs to be an absolute path", cwd);
	if ((rc = command(image, o, &args, &entrypoint, &cmd, err)) < 0)
		return rc;
	if ((rc = bt_ct_user_resolve(rootfs, user, &u, err)) < 0 ||
	    (rc = make_workdir(rootfs, cwd, err)) < 0 || (rc = capabilities(o, &caps, err)) < 0)
		goto out;
	env = json_array();
	env_set(env, DEFAULT_PATH);
	if (hostname) {
		char *h = bt_strdup_printf("HOSTNAME=%s", hostname);

		if (h)
			env_set(env, h);
		free(h);
	}
	for (size_t i = 0; i < json_array_size(image_section(image, "Env")); i++)
		if (json_is_string(json_array_get(image_section(image, "Env"), i)))
			env_set(env, json_string_value(json_array_get(image_section(image, "Env"), i)));
	for (const char *const *e = o->env; e && *e; e++)
		env_set(env, *e);
	if (o->tty && !env_has(env, "TERM"))
		env_set(env, "TERM=xterm");
	if (!env_has(env, "HOME")) {
		char *home = bt_strdup_printf("HOME=%s", u.home && *u.home ? u.home : "/");

		env_set(env, home);
		free(home);
	}
	gids = json_array();
	for (size_t i = 0; i < u.ngroups; i++)
		json_array_append_new(gids, json_integer(u.groups[i]));
	p = json_pack("{s:b, s:{s:I, s:I, s:o}, s:O, s:O, s:s, s:{s:O, s:O, s:o}, s:b}",
		      "terminal", o->tty, "user", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid,
		      "additionalGids", gids, "args", args, "env", env, "cwd", cwd, "capabilities",
		      "bounding", caps, "effective", caps, "permitted", caps, "noNewPrivileges",
		      o->no_new_privileges);
	json_object_set_new(record, "Path", json_incref(json_array_get(args, 0)));
	json_object_set_new(record, "Args", json_array());
	json_array_extend(json_object_get(record, "Args"), args);
	json_array_remove(json_object_get(record, "Args"), 0);
	json_object_set_new(json_object_get(record, "Config"), "Env", env);
	json_object_set_new(json_object_get(record, "Config"), "WorkingDir", json_string(cwd));
	json_object_set_new(json_object_get(record, "Config"), "User", json_string(user ? user : ""));
	json_object_set_new(json_object_get(record, "Config"), "Entrypoint", entrypoint);
	json_object_set_new(json_object_get(record, "Config"), "Cmd", cmd);
	entrypoint = cmd = NULL;
	json_decref(args);
	*out = p;
out:
	json_decref(entrypoint);
	json_decref(cmd);
	if (rc < 0)
		json_decref(args);
	bt_ct_user_free(&u);
	return rc;
}

static json_t *namespaces(const berth_container_create_opts *o)
{
	json_t *ns = json_pack("[{s:s}, {s:s}, {s:s}]", "type", "pid", "type", "ipc", "type", "mount");

	/* the host's network comes with its name (Docker does the same) */
	if (!o->network || strcmp(o->network, "host")) {
		json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
		json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
	}
	return ns;
}

static json_t *linux_section(const berth_container_create_opts *o, json_t *resources)
{
	json_t *lx = json_pack("{s:o, s:o}", "namespaces", namespaces(o), "resources", resources);

	if (!o->privileged) {
		json_object_set_new(lx, "maskedPaths", strings(masked_paths));
		json_object_set_new(lx, "readonlyPaths", strings(readonly_paths));
	}
	return lx;
}

/* HostConfig.LogConfig from --log-opt: json-file's max-size and max-file. */
static int log_config(const berth_container_create_opts *o, json_t **out, berth_error **err)
{
	json_t *config = json_object();

	for (const char *const *opt = o->log_opts; opt && *opt; opt++) {
		const char *eq = strchr(*opt, '=');
		char *end;

		if (eq && !strncmp(*opt, "max-size=", 9) && bt_ct_log_parse_size(eq + 1) > 0) {
			json_object_set_new(config, "max-size", json_string(eq + 1));
		} else if (eq && !strncmp(*opt, "max-file=", 9) && strtol(eq + 1, &end, 10) > 0 && !*end) {
			json_object_set_new(config, "max-file", json_string(eq + 1));
		} else {
			json_decref(config);
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "unknown log opt '%s' for json-file log driver (max-size=SIZE, max-file=N)", *opt);
		}
	}
	*out = json_pack("{s:s, s:o}", "Type", "json-file", "Config", config);
	return 0;
}

/* HostConfig.RestartPolicy from --restart no|always|unless-stopped|on-failure[:N]. */
static int restart_policy(const berth_container_create_opts *o, json_t **out, berth_error **err)
{
	const char *r = o->restart && *o->restart ? o->restart : "no";
	long max = 0;
	char *end = NULL;

	if (!strncmp(r, "on-failure:", 11)) {
		max = strtol(r + 11, &end, 10);
		if (*end || max < 0)
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid restart policy '%s': maximum retry count must be a number", r);
	} else if (strcmp(r, "no") && strcmp(r, "always") && strcmp(r, "unless-stopped") && strcmp(r, "on-failure")) {
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "invalid restart policy '%s' (no, always, unless-stopped, on-failure[:N])", r);
	}
	if (strcmp(r, "no") && o->auto_remove)
		return bt_error_set(err, BERTH_EINVAL, 0, "Conflicting options: --restart and --rm");
	*out = json_pack("{s:s%, s:i}", "Name", r, end ? (size_t)10 : strlen(r), "MaximumRetryCount", (int)max);
	return 0;
}

/* Config.Healthcheck: the image's, with the options over it; NULL for none. */
static json_t *healthcheck(const json_t *image, const berth_container_create_opts *o)
{
	const json_t *img = image_section(image, "Healthcheck");
	json_t *hc = json_is_object(img) ? json_deep_copy(img) : json_object();

	if (o->no_healthcheck)
		json_object_set_new(hc, "Test", json_pack("[s]", "NONE"));
	else if (o->health_cmd)
		json_object_set_new(hc, "Test", json_pack("[s, s]", "CMD-SHELL", o->health_cmd));
	if (o->health_interval > 0)
		json_object_set_new(hc, "Interval", json_integer(o->health_interval));
	if (o->health_timeout > 0)
		json_object_set_new(hc, "Timeout", json_integer(o->health_timeout));
	if (o->health_retries > 0)
		json_object_set_new(hc, "Retries", json_integer(o->health_retries));
	if (!json_object_get(hc, "Test")) {
		json_decref(hc);
		return NULL;
	}
	return hc;
}

/* The record's Config and HostConfig: what was asked, in Docker's names. */
static void record_options(json_t *record, const char *image_name, const json_t *image,
			   const berth_container_create_opts *o, const char *hostname)
{
	const char *stop = o->stop_signal ? o->stop_signal : json_string_value(image_section(image, "StopSignal"));
	json_t *labels = json_object(), *img_labels = (json_t *)image_section(image, "Labels");
	json_t *config = json_object_get(record, "Config"), *host;

	if (json_is_object(img_labels))
		json_object_update(labels, img_labels);
	for (const char *const *l = o->labels; l && *l; l++) {
		const char *eq = strchr(*l, '=');
		char *key = eq ? strndup(*l, (size_t)(eq - *l)) : strdup(*l);

		if (key)
			json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
		free(key);
	}
	json_object_set_new(config, "Hostname", json_string(hostname ? hostname : ""));
	json_object_set_new(config, "Image", json_string(image_name));
	json_object_set_new(config, "Labels", labels);
	json_object_set_new(config, "Tty", json_boolean(o->tty));
	json_object_set_new(config, "OpenStdin", json_boolean(o->open_stdin));
	json_object_set_new(config, "StopSignal", json_string(stop ? stop : "SIGTERM"));
	if ((host = healthcheck(image, o)))
		json_object_set_new(config, "Healthcheck", host);
	json_object_set_new(config, "StopTimeout", json_integer(o->stop_timeout > 0 ? o->stop_timeout : 10));
	host = json_pack("{s:b, s:b, s:b, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:s, s:[]}",
			 "AutoRemove", o->auto_remove, "Privileged", o->privileged, "ReadonlyRootfs",
			 o->read_only, "CapAdd", strings(o->cap_add), "CapDrop", strings(o->cap_drop),
			 "Memory", (json_int_t)o->memory, "MemorySwap", (json_int_t)o->memory_swap,
			 "NanoCpus", (json_int_t)o->nano_cpus, "CpuShares", (json_int_t)o->cpu_shares,
			 "PidsLimit", (json_int_t)o->pids_limit, "NetworkMode",
			 o->network ? o->network : "none", "SecurityOpt");
	json_object_set_new(host, "ShmSize", json_integer(o->shm_size > 0 ? o->shm_size : 64LL << 20));
	if (o->no_new_privileges)
		json_array_append_new(json_object_get(host, "SecurityOpt"), json_string("no-new-privileges"));
	if (o->seccomp) {
		char *opt = bt_strdup_printf("seccomp=%s", o->seccomp);

		json_array_append_new(json_object_get(host, "SecurityOpt"), json_string(opt));
		free(opt);
	}
	json_object_set_new(record, "HostConfig", host);
}

/* JSON holds UTF-8 only, and json_pack drops what is not (its caller sees
 * NULL): option text that is not UTF-8 is refused up front, named. */
static int check_text(const char *what, const char *s, berth_error **err)
{
	json_t *j;

	if (!s)
		return 0;
	if (!(j = json_string(s)))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: not UTF-8 text", what);
	json_decref(j);
	return 0;
}

static int check_texts(const char *what, const char *const *v, berth_error **err)
{
	for (; v && *v; v++)
		if (check_text(what, *v, err) < 0)
			return BERTH_EINVAL;
	return 0;
}

static int options_text(const berth_container_create_opts *o, berth_error **err)
{
	const struct {
		const char *what, *s;
	} one[] = { { "name", o->name }, { "workdir", o->workdir }, { "user", o->user },
		    { "hostname", o->hostname }, { "network", o->network }, { "stop_signal", o->stop_signal },
		    { "seccomp", o->seccomp }, { "restart", o->restart }, { "health_cmd", o->health_cmd } };
	const struct {
		const char *what;
		const char *const *v;
	} many[] = { { "cmd", o->cmd }, { "entrypoint", o->entrypoint }, { "env", o->env },
		     { "cap_add", o->cap_add }, { "cap_drop", o->cap_drop }, { "labels", o->labels },
		     { "ulimits", o->ulimits }, { "devices", o->devices }, { "log_opts", o->log_opts },
		     { "volumes", o->volumes }, { "mounts", o->mounts }, { "tmpfs", o->tmpfs },
		     { "volumes_from", o->volumes_from }, { "publish", o->publish } };

	for (size_t i = 0; i < BT_ARRAY_SIZE(one); i++)
		if (check_text(one[i].what, one[i].s, err) < 0)
			return BERTH_EINVAL;
	for (size_t i = 0; i < BT_ARRAY_SIZE(many); i++)
		if (check_texts(many[i].what, many[i].v, err) < 0)
			return BERTH_EINVAL;
	return 0;
}

int bt_ct_spec_build(berth_ctx *ctx, const char *id, const char *dir, const char *rootfs,
		     const char *image_config, const berth_container_create_opts *o,
		     json_t *record, json_t **spec, berth_error **err)
{
	const char *image_name = json_string_value(json_object_get(json_object_get(record, "Config"), "Image"));
	bool host_net = o->network && !strcmp(o->network, "host");
	char hostname[13];
	const char *name;
	json_t *image, *proc = NULL, *res = NULL, *seccomp = NULL, *logc = NULL;
	int rc;

	if ((rc = options_text(o, err)) < 0 || (rc = bt_ct_net_check(ctx, o->network, err)) < 0)
		return rc;
	if (o->shm_size < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "a negative --shm-size");
	snprintf(hostname, sizeof(hostname), "%.12s", id);
	if ((rc = bt_json_parse(image_config, strlen(image_config), "the image's config", &image, err)) < 0)
		return rc;
	name = host_net ? NULL : o->hostname ? o->hostname : hostname;
	record_options(record, image_name, image, o, name);
	if ((rc = bt_ct_net_record(o, image_section(image, "ExposedPorts"), record, err)) < 0)
		goto out;
	if ((rc = log_config(o, &logc, err)) < 0)
		goto out;
	json_object_set_new(json_object_get(record, "HostConfig"), "LogConfig", logc);
	if ((rc = restart_policy(o, &logc, err)) < 0)
		goto out;
	json_object_set_new(json_object_get(record, "HostConfig"), "RestartPolicy", logc);
	if ((rc = resources(o, &res, err)) < 0 ||
	    (rc = process(rootfs, image, o, name, record, &proc, err)) < 0 ||
	    (rc = bt_ct_seccomp(o, json_object_get(json_object_get(proc, "capabilities"), "bounding"),
				&seccomp, err)) < 0)
		goto out;
	*spec = json_pack("{s:s, s:o, s:{s:s, s:b}, s:o, s:o}", "ociVersion", "1.0.2", "process", proc,
			  "root", "path", rootfs, "readonly", o->read_only, "mounts", mounts(dir, o),
			  "linux", linux_section(o, res));
	proc = res = NULL;
	if (!*spec) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (seccomp)
		json_object_set_new(json_object_get(*spec, "linux"), "seccomp", seccomp);
	seccomp = NULL;
	if (name)
		json_object_set_new(*spec, "hostname", json_string(name));
	rc = bt_ct_runopts_apply(ctx, o, *spec, record, err);
	if (rc == 0)
		rc = bt_ct_mounts_apply(ctx, id, o, image, *spec, record, err);
	if (rc < 0) {
		json_decref(*spec);
		*spec = NULL;
	}
out:
	json_decref(proc);
	json_decref(res);
	json_decref(seccomp);
	json_decref(image);
	return rc;
}
