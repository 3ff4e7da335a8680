/* runtime-spec 1.0-1.2 configs turned into a bt_rt_config: every field is
 * checked here, before anything is created, and errors name the JSON path
 * ("linux.namespaces[2].type: unknown namespace \"foo\""). Fields the spec
 * allows but berth does not need (annotations, labels, consoleSize) are
 * ignored; fields berth cannot honour are errors rather than silently dropped. */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const char *const bt_rt_hook_names[BT_HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static int nomem(berth_error **err, const char *what)
{
	return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", what);
}

/* A NULL-terminated copy of an array of strings at `path`. */
static int strv_parse(const json_t *arr, const char *path, char ***out, size_t *n,
		      berth_error **err)
{
	size_t i, len = json_array_size(arr);
	char **v;
	json_t *s;

	*out = NULL;
	if (!json_is_array(arr))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an array, got %s", path,
				    bt_json_type_name(arr));
	if (!(v = calloc(len + 1, sizeof(*v))))
		return nomem(err, path);
	json_array_foreach(arr, i, s) {
		if (!json_is_string(s)) {
			bt_strv_free(v, i);
			return bt_error_set(err, BERTH_EINVAL, 0, "%s[%zu]: expected a string, got %s",
					    path, i, bt_json_type_name(s));
		}
		if (!(v[i] = strdup(json_string_value(s)))) {
			bt_strv_free(v, i);
			return nomem(err, path);
		}
	}
	*out = v;
	if (n)
		*n = len;
	return 0;
}

static void strv_free0(char **v)
{
	size_t n = 0;

	if (!v)
		return;
	while (v[n])
		n++;
	bt_strv_free(v, n);
}

/* Absolute, without "..": paths the child joins to the root lexically. */
static int abs_path_check(const char *p, const char *path, berth_error **err)
{
	const char *c = p;

	if (p[0] != '/')
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: \"%s\" is not an absolute path", path, p);
	while ((c = strstr(c, "..")) != NULL) {
		if ((c == p || c[-1] == '/') && (c[2] == '/' || c[2] == '\0'))
			return bt_error_set(err, BERTH_ESCAPE, 0, "%s: \"%s\" contains \"..\"", path, p);
		c += 2;
	}
	if (strlen(p) >= 4000)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: path too long", path);
	return 0;
}

/* ---- process ------------------------------------------------------------ */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int rlimits_parse(const json_t *arr, const char *path, bt_rt_process *p, berth_error **err)
{
	size_t i;
	json_t *e;
	char ep[256];

	if (!json_is_array(arr))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an array, got %s", path,
				    bt_json_type_name(arr));
	if (!(p->rlimits = calloc(json_array_size(arr) + 1, sizeof(*p->rlimits))))
		return nomem(err, path);
	json_array_foreach(arr, i, e) {
		const char *type = NULL;
		long long soft = 0, hard = 0;
		size_t k;
		int rc;

		bt_rt_jpath(ep, sizeof(ep), "%s[%zu]", path, i);
		if ((rc = bt_json_string(e, ep, "type", true, &type, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "soft", true, &soft, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "hard", true, &hard, err)) < 0)
			return rc;
		for (k = 0; k < BT_ARRAY_SIZE(rlimit_names); k++)
			if (!strcmp(type, rlimit_names[k].name))
				break;
		if (k == BT_ARRAY_SIZE(rlimit_names))
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.type: unknown rlimit \"%s\"", ep, type);
		for (size_t j = 0; j < p->nrlimits; j++)
			if (p->rlimits[j].resource == rlimit_names[k].resource)
				return bt_error_set(err, BERTH_EINVAL, 0, "%s.type: %s given twice", ep, type);
		/* JSON integers are signed; RLIM_INFINITY arrives as -1 or as 2^64-1
		 * wrapped, both meaning unlimited. */
		if (soft < -1 || hard < -1)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s: negative limit", ep);
		p->rlimits[p->nrlimits].resource = rlimit_names[k].resource;
		p->rlimits[p->nrlimits].lim.rlim_cur = soft == -1 ? RLIM_INFINITY : (rlim_t)soft;
		p->rlimits[p->nrlimits].lim.rlim_max = hard == -1 ? RLIM_INFINITY : (rlim_t)hard;
		if (p->rlimits[p->nrlimits].lim.rlim_cur > p->rlimits[p->nrlimits].lim.rlim_max)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s: soft limit %lld above hard limit %lld",
					    ep, soft, hard);
		p->nrlimits++;
	}
	return 0;
}

void bt_rt_process_clear(bt_rt_process *p)
{
	free(p->gids);
	strv_free0(p->args);
	strv_free0(p->env);
	free(p->cwd);
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}

/* A security label the host cannot apply is refused: running the process
 * without the confinement its config asks for would be silent. (On hosts
 * that have the LSM, berth does not apply labels yet either: see
 * docs/architecture.md, runtime, known limits.) */
static int lsm_check(const json_t *proc, const char *path, berth_error **err)
{
	/* AppArmor's parameter says Y or N; SELinux's file exists when it is on */
	static const struct {
		const char *field, *lsm, *probe;
		bool says_y;
	} lsms[] = {
		{ "apparmorProfile", "AppArmor", "/sys/module/apparmor/parameters/enabled", true },
		{ "selinuxLabel", "SELinux", "/sys/fs/selinux/enforce", false },
	};

	for (size_t i = 0; i < BT_ARRAY_SIZE(lsms); i++) {
		const char *v = json_string_value(json_object_get(proc, lsms[i].field));
		char on[2] = "";
		FILE *f;

		if (!v || !*v)
			continue;
		if ((f = fopen(lsms[i].probe, "re"))) {
			if (!fgets(on, sizeof(on), f))
				on[0] = '\0';
			fclose(f);
			if (!lsms[i].says_y || on[0] == 'Y')
				continue;
		}
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "%s.%s \"%s\": this host has no %s",
				    path, lsms[i].field, v, lsms[i].lsm);
	}
	return 0;
}

/* process.cwd: absolute */
static int process_cwd(const json_t *proc, const char *path, bt_rt_process *p, berth_error **err)
{
	char jp[256];
	const char *cwd = NULL;
	int rc;

	if ((rc = bt_json_string(proc, path, "cwd", true, &cwd, err)) < 0)
		return rc;
	bt_rt_jpath(jp, sizeof(jp), "%s.cwd", path);
	if (cwd[0] != '/')
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: \"%s\" is not an absolute path", jp, cwd);
	return (p->cwd = strdup(cwd)) ? 0 : nomem(err, jp);
}

/* process.args, env and cwd */
static int process_command(const json_t *proc, const char *path, bt_rt_process *p, berth_error **err)
{
	char jp[256];
	json_t *v;
	int rc;

	bt_rt_jpath(jp, sizeof(jp), "%s.args", path);
	if ((rc = bt_json_member(proc, path, "args", JSON_ARRAY, true, &v, err)) < 0 ||
	    (rc = strv_parse(v, jp, &p->args, NULL, err)) < 0)
		return rc;
	if (!p->args[0] || !p->args[0][0])
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: must name the program to run", jp);
	bt_rt_jpath(jp, sizeof(jp), "%s.env", path);
	if ((rc = bt_json_member(proc, path, "env", JSON_ARRAY, false, &v, err)) < 0)
		return rc;
	if (!v)
		return (p->env = calloc(1, sizeof(char *))) ? process_cwd(proc, path, p, err) : nomem(err, jp);
	if ((rc = strv_parse(v, jp, &p->env, NULL, err)) < 0)
		return rc;
	for (size_t i = 0; p->env[i]; i++)
		if (!strchr(p->env[i], '=') || p->env[i][0] == '=')
			return bt_error_set(err, BERTH_EINVAL, 0, "%s[%zu]: \"%s\" is not NAME=VALUE", jp, i,
					    p->env[i]);
	return process_cwd(proc, path, p, err);
}

/* an id of process.user (uid, gid), absent meaning 0 */
static int user_id(const json_t *user, const char *jp, const char *key, unsigned int *out,
		   berth_error **err)
{
	long long n = 0;
	int rc;

	if ((rc = bt_json_int(user, jp, key, false, &n, err)) < 0)
		return rc;
	if (n < 0 || n > 0xfffffffeLL)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.%s: %lld out of range", jp, key, n);
	*out = (unsigned int)n;
	return 0;
}

/* process.user: uid, gid, umask, additionalGids */
static int process_user(const json_t *proc, const char *path, bt_rt_process *p, berth_error **err)
{
	char jp[256];
	json_t *user, *v, *g;
	size_t i;
	int rc;

	bt_rt_jpath(jp, sizeof(jp), "%s.user", path);
	if ((rc = bt_json_member(proc, path, "user", JSON_OBJECT, false, &user, err)) < 0 || !user)
		return rc;
	if ((rc = user_id(user, jp, "uid", &p->uid, err)) < 0 || (rc = user_id(user, jp, "gid", &p->gid, err)) < 0 ||
	    (rc = bt_json_member(user, jp, "umask", JSON_INTEGER, false, &v, err)) < 0)
		return rc;
	if (v) {
		long long n = json_integer_value(v);

		if (n < 0 || n > 0777)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.umask: %lld out of range", jp, n);
		p->has_umask = true;
		p->umask = (mode_t)n;
	}
	if ((rc = bt_json_member(user, jp, "additionalGids", JSON_ARRAY, false, &v, err)) < 0 || !v)
		return rc;
	if (!(p->gids = calloc(json_array_size(v) + 1, sizeof(gid_t))))
		return nomem(err, jp);
	json_array_foreach(v, i, g) {
		if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 0xfffffffeLL)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.additionalGids[%zu]: expected a gid", jp, i);
		p->gids[p->ngids++] = (gid_t)json_integer_value(g);
	}
	return 0;
}

/* process.capabilities, rlimits and oomScoreAdj */
static int process_limits(const json_t *proc, const char *path, bt_rt_process *p, berth_error **err)
{
	char jp[256];
	json_t *v;
	int rc;

	if ((rc = bt_json_member(proc, path, "capabilities", JSON_OBJECT, false, &v, err)) < 0)
		return rc;
	if (v) {
		bt_rt_jpath(jp, sizeof(jp), "%s.capabilities", path);
		if ((rc = bt_rt_caps_parse(v, jp, p->caps, err)) < 0)
			return rc;
		p->has_caps = true;
	}
	if ((rc = bt_json_member(proc, path, "rlimits", JSON_ARRAY, false, &v, err)) < 0)
		return rc;
	bt_rt_jpath(jp, sizeof(jp), "%s.rlimits", path);
	if (v && (rc = rlimits_parse(v, jp, p, err)) < 0)
		return rc;
	if ((rc = bt_json_member(proc, path, "oomScoreAdj", JSON_INTEGER, false, &v, err)) < 0 || !v)
		return rc;
	if (json_integer_value(v) < -1000 || json_integer_value(v) > 1000)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.oomScoreAdj: %lld not in -1000..1000", path,
				    (long long)json_integer_value(v));
	p->has_oom = true;
	snprintf(p->oom, sizeof(p->oom), "%lld", (long long)json_integer_value(v));
	return 0;
}

int bt_rt_process_parse(const json_t *proc, const char *path, bt_rt_process *p, berth_error **err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(proc))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, got %s", path,
				    bt_json_type_name(proc));
	if ((rc = bt_json_bool(proc, path, "terminal", false, &p->terminal, err)) < 0 ||
	    (rc = bt_json_bool(proc, path, "noNewPrivileges", false, &p->nnp, err)) < 0 ||
	    (rc = lsm_check(proc, path, err)) < 0 || (rc = process_command(proc, path, p, err)) < 0 ||
	    (rc = process_user(proc, path, p, err)) < 0 || (rc = process_limits(proc, path, p, err)) < 0) {
		bt_rt_process_clear(p);
		return rc;
	}
	return 0;
}

/* ---- hooks --------------------------------------------------------------- */

void bt_rt_hooks_free(bt_rt_hook *hooks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(hooks[i].path);
		strv_free0(hooks[i].args);
		strv_free0(hooks[i].env);
	}
	free(hooks);
}

int bt_rt_hooks_parse(const json_t *arr, bt_rt_hook **out, size_t *nout, int kind,
		      berth_error **err)
{
	size_t i, n = json_array_size(arr);
	bt_rt_hook *h;
	json_t *e, *v;
	char ep[256], jp[112];
	int rc;

	*out = NULL;
	*nout = 0;
	if (!json_is_array(arr))
		return bt_error_set(err, BERTH_EINVAL, 0, "hooks.%s: expected an array, got %s",
				    bt_rt_hook_names[kind], bt_json_type_name(arr));
	if (!(h = calloc(n + 1, sizeof(*h))))
		return nomem(err, "hooks");
	json_array_foreach(arr, i, e) {
		const char *path = NULL;
		long long timeout = 0;

		bt_rt_jpath(ep, sizeof(ep), "hooks.%s[%zu]", bt_rt_hook_names[kind], i);
		if ((rc = bt_json_string(e, ep, "path", true, &path, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "timeout", false, &timeout, err)) < 0)
			goto fail;
		bt_rt_jpath(jp, sizeof(jp), "%s.path", ep);
		if (path[0] != '/') {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: \"%s\" is not an absolute path", jp, path);
			goto fail;
		}
		if (timeout < 0 || timeout > 86400) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s.timeout: %lld must be positive", ep, timeout);
			goto fail;
		}
		h[i].timeout = (int)timeout;
		if (!(h[i].path = strdup(path))) {
			rc = nomem(err, ep);
			goto fail;
		}
		bt_rt_jpath(jp, sizeof(jp), "%s.args", ep);
		if ((rc = bt_json_member(e, ep, "args", JSON_ARRAY, false, &v, err)) < 0 ||
		    (v && (rc = strv_parse(v, jp, &h[i].args, NULL, err)) < 0))
			goto fail;
		if (!h[i].args || !h[i].args[0]) {
			free(h[i].args);
			if (!(h[i].args = calloc(2, sizeof(char *))) || !(h[i].args[0] = strdup(path))) {
				rc = nomem(err, ep);
				goto fail;
			}
		}
		bt_rt_jpath(jp, sizeof(jp), "%s.env", ep);
		if ((rc = bt_json_member(e, ep, "env", JSON_ARRAY, false, &v, err)) < 0 ||
		    (v && (rc = strv_parse(v, jp, &h[i].env, NULL, err)) < 0))
			goto fail;
		if (!h[i].env && !(h[i].env = calloc(1, sizeof(char *)))) {
			rc = nomem(err, ep);
			goto fail;
		}
		*nout = i + 1;
	}
	*out = h;
	return 0;
fail:
	bt_rt_hooks_free(h, n);
	*nout = 0;
	return rc;
}

/* ---- namespaces and id mappings ------------------------------------------- */

static const struct {
	const char *name;
	int flag;
} ns_names[] = {
	{ "user", CLONE_NEWUSER }, { "pid", CLONE_NEWPID },     { "network", CLONE_NEWNET },
	{ "mount", CLONE_NEWNS },  { "ipc", CLONE_NEWIPC },     { "uts", CLONE_NEWUTS },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int namespaces_parse(const json_t *arr, bt_rt_config *c, berth_error **err)
{
	size_t i;
	json_t *e;
	char ep[256];
	int seen = 0, rc;

	json_array_foreach(arr, i, e) {
		const char *type = NULL, *path = NULL;
		size_t k;

		bt_rt_jpath(ep, sizeof(ep), "linux.namespaces[%zu]", i);
		if ((rc = bt_json_string(e, ep, "type", true, &type, err)) < 0 ||
		    (rc = bt_json_string(e, ep, "path", false, &path, err)) < 0)
			return rc;
		for (k = 0; k < BT_ARRAY_SIZE(ns_names); k++)
			if (!strcmp(type, ns_names[k].name))
				break;
		if (k == BT_ARRAY_SIZE(ns_names))
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.type: unknown namespace \"%s\"", ep, type);
		if (seen & ns_names[k].flag)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.type: namespace \"%s\" given twice",
					    ep, type);
		seen |= ns_names[k].flag;
		if (path && !*path)
			path = NULL;
		if (path && path[0] != '/')
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.path: \"%s\" is not an absolute path",
					    ep, path);
		/* user first: the other namespaces are owned by it and joining them
		 * needs its capabilities */
		if (ns_names[k].flag == CLONE_NEWUSER && c->nns) {
			memmove(&c->ns[1], &c->ns[0], c->nns * sizeof(c->ns[0]));
			c->ns[0].type = CLONE_NEWUSER;
			c->ns[0].path = NULL;
			k = 0;
			c->nns++;
			if (path && !(c->ns[0].path = strdup(path)))
				return nomem(err, ep);
		} else {
			c->ns[c->nns].type = ns_names[k].flag;
			if (path && !(c->ns[c->nns].path = strdup(path)))
				return nomem(err, ep);
			c->nns++;
		}
		if (!path) {
			switch (ns_names[k].flag) {
			case CLONE_NEWUSER: c->new_userns = true; break;
			case CLONE_NEWCGROUP: c->new_cgroupns = true; break;
			case CLONE_NEWNS: c->new_mntns = true; break;
			case CLONE_NEWPID: c->new_pidns = true; break;
			case CLONE_NEWTIME: c->new_timens = true; break;
			default: break;
			}
			/* the cgroup namespace is unshared by the child once it is in
			 * its cgroup, so the namespace's root is the container's
			 * cgroup; a time namespace is made by the parent (spawn.c) */
			if (ns_names[k].flag != CLONE_NEWCGROUP && ns_names[k].flag != CLONE_NEWTIME)
				c->clone_flags |= ns_names[k].flag;
		}
	}
	/* the spec: a type not listed is the runtime's own, mounts too */
	c->shared_mntns = !(seen & CLONE_NEWNS);
	/* namespaces made while joining others must be made after the join (so
	 * a joined user namespace owns them): by unshare in the child. A new
	 * pid namespace is only had through clone. */
	c->clone_flags_at_clone = c->clone_flags;
	for (i = 0; i < c->nns; i++)
		if (c->ns[i].path && c->ns[i].type != CLONE_NEWPID) {
			c->clone_flags_at_clone = c->clone_flags & CLONE_NEWPID;
			c->unshare_flags = c->clone_flags & ~CLONE_NEWPID;
			break;
		}
	return 0;
}

static bool has_ns(const bt_rt_config *c, int type)
{
	for (size_t i = 0; i < c->nns; i++)
		if (c->ns[i].type == type)
			return true;
	return false;
}

static int ns_types(const bt_rt_config *c)
{
	int t = 0;

	for (size_t i = 0; i < c->nns; i++)
		t |= c->ns[i].type;
	return t;
}

static int idmap_parse(const json_t *arr, const char *path, char **out, berth_error **err)
{
	size_t i;
	json_t *e;
	char ep[256];
	struct bt_strv lines = { 0 };
	size_t total = 0;
	int rc = 0;

	json_array_foreach(arr, i, e) {
		long long cid, hid, size;

		bt_rt_jpath(ep, sizeof(ep), "%s[%zu]", path, i);
		if ((rc = bt_json_int(e, ep, "containerID", true, &cid, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "hostID", true, &hid, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "size", true, &size, err)) < 0)
			goto out;
		if (cid < 0 || hid < 0 || size <= 0 || cid > 0xffffffffLL || hid > 0xffffffffLL ||
		    size > 0xffffffffLL) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: ids and size out of range", ep);
			goto out;
		}
		if (bt_strv_add(&lines, bt_strdup_printf("%lld %lld %lld\n", cid, hid, size)) < 0) {
			rc = nomem(err, path);
			goto out;
		}
		total += strlen(lines.v[lines.n - 1]);
	}
	if (!lines.n)
		goto out;
	if (!(*out = calloc(1, total + 1))) {
		rc = nomem(err, path);
		goto out;
	}
	for (i = 0; i < lines.n; i++)
		strcat(*out, lines.v[i]);
out:
	bt_strv_free(lines.v, lines.n);
	return rc;
}

/* ---- mounts ---------------------------------------------------------------- */

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{ "ro", false, MS_RDONLY },        { "rw", true, MS_RDONLY },
	{ "nosuid", false, MS_NOSUID },    { "suid", true, MS_NOSUID },
	{ "nodev", false, MS_NODEV },      { "dev", true, MS_NODEV },
	{ "noexec", false, MS_NOEXEC },    { "exec", true, MS_NOEXEC },
	{ "sync", false, MS_SYNCHRONOUS }, { "async", true, MS_SYNCHRONOUS },
	{ "dirsync", false, MS_DIRSYNC },  { "remount", false, MS_REMOUNT },
	{ "mand", false, MS_MANDLOCK },    { "nomand", true, MS_MANDLOCK },
	{ "atime", true, MS_NOATIME },     { "noatime", false, MS_NOATIME },
	{ "diratime", true, MS_NODIRATIME }, { "nodiratime", false, MS_NODIRATIME },
	{ "relatime", false, MS_RELATIME }, { "norelatime", true, MS_RELATIME },
	{ "strictatime", false, MS_STRICTATIME }, { "nostrictatime", true, MS_STRICTATIME },
	{ "bind", false, MS_BIND },        { "rbind", false, MS_BIND | MS_REC },
	{ "defaults", false, 0 },          { "nosymfollow", false, 256 /* MS_NOSYMFOLLOW */ },
};

static const struct {
	const char *name;
	unsigned long flag;
} propagation_flags[] = {
	{ "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

static int propagation_lookup(const char *name, unsigned long *out)
{
	for (size_t k = 0; k < BT_ARRAY_SIZE(propagation_flags); k++)
		if (!strcmp(name, propagation_flags[k].name)) {
			*out = propagation_flags[k].flag;
			return 0;
		}
	return -1;
}

static int mount_options(const json_t *opts, const char *ep, bt_rt_mount *m, berth_error **err)
{
	struct bt_strv data = { 0 };
	size_t i, total = 0;
	json_t *o;
	int rc = 0;

	json_array_foreach(opts, i, o) {
		const char *s = json_string_value(o);
		unsigned long prop;
		size_t k;

		if (!s)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.options[%zu]: expected a string, got %s",
					    ep, i, bt_json_type_name(o));
		for (k = 0; k < BT_ARRAY_SIZE(mount_flags); k++)
			if (!strcmp(s, mount_flags[k].name))
				break;
		if (k < BT_ARRAY_SIZE(mount_flags)) {
			if (mount_flags[k].clear)
				m->flags &= ~mount_flags[k].flag;
			else
				m->flags |= mount_flags[k].flag;
			continue;
		}
		if (propagation_lookup(s, &prop) == 0) {
			m->propagation = prop;
			continue;
		}
		if (!strcmp(s, "tmpcopyup") || !strcmp(s, "idmap") || !strcmp(s, "ridmap") ||
		    !strncmp(s, "rro", 3) || !strcmp(s, "rrw")) {
			rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0,
					  "%s.options[%zu]: option \"%s\" is not supported", ep, i, s);
			goto out;
		}
		if (strchr(s, ',')) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s.options[%zu]: \"%s\" holds a comma",
					  ep, i, s);
			goto out;
		}
		/* anything else is for the file system to parse (size=, mode=, gid=) */
		if (bt_strv_add(&data, strdup(s)) < 0) {
			rc = nomem(err, ep);
			goto out;
		}
		total += strlen(s) + 1;
	}
	if (data.n) {
		if (!(m->data = calloc(1, total + 1))) {
			rc = nomem(err, ep);
			goto out;
		}
		for (i = 0; i < data.n; i++) {
			if (i)
				strcat(m->data, ",");
			strcat(m->data, data.v[i]);
		}
	}
out:
	bt_strv_free(data.v, data.n);
	return rc;
}

static int mounts_parse(const json_t *arr, bt_rt_config *c, berth_error **err)
{
	size_t i;
	json_t *e, *opts;
	char ep[256];
	int rc;

	if (!(c->mounts = calloc(json_array_size(arr) + 1, sizeof(*c->mounts))))
		return nomem(err, "mounts");
	json_array_foreach(arr, i, e) {
		bt_rt_mount *m = &c->mounts[c->nmounts];
		const char *dest = NULL, *type = NULL, *source = NULL;

		bt_rt_jpath(ep, sizeof(ep), "mounts[%zu]", i);
		if ((rc = bt_json_string(e, ep, "destination", true, &dest, err)) < 0 ||
		    (rc = bt_json_string(e, ep, "type", false, &type, err)) < 0 ||
		    (rc = bt_json_string(e, ep, "source", false, &source, err)) < 0 ||
		    (rc = bt_json_member(e, ep, "options", JSON_ARRAY, false, &opts, err)) < 0)
			return rc;
		if (json_object_get(e, "uidMappings") || json_object_get(e, "gidMappings"))
			return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
					    "%s: idmapped mounts are not supported", ep);
		{
			char dp[256];

			bt_rt_jpath(dp, sizeof(dp), "%s.destination", ep);
			if ((rc = abs_path_check(dest, dp, err)) < 0)
				return rc;
		}
		c->nmounts++;
		if (!(m->what = bt_strdup_printf("mounts[%zu] (%s %s)", i, type ? type : "bind", dest)) ||
		    !(m->dest = strdup(dest)))
			return nomem(err, ep);
		if (opts && (rc = mount_options(opts, ep, m, err)) < 0)
			return rc;
		if (type && !strcmp(type, "bind"))
			m->flags |= MS_BIND;
		if (m->flags & MS_BIND) {
			struct stat st;

			if (!source || !*source)
				return bt_error_set(err, BERTH_EINVAL, 0, "%s.source: a bind mount needs a source",
						    ep);
			m->kind |= BT_MNT_BIND;
			if (source[0] == '/')
				m->source = strdup(source);
			else
				m->source = bt_strdup_printf("%s/%s", c->bundle, source);
			if (!m->source)
				return nomem(err, ep);
			if (stat(m->source, &st) < 0)
				return bt_error_os(err, "%s.source: %s", ep, m->source);
			if (S_ISDIR(st.st_mode))
				m->kind |= BT_MNT_DIR;
			/* bind ignores the other flags; they take a remount */
			if (m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT))
				m->kind |= BT_MNT_RO_REMOUNT;
			if (m->data) {
				free(m->data);
				m->data = NULL;
			}
			continue;
		}
		if (!type || !*type)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.type: missing for a mount that is not a bind",
					    ep);
		m->kind |= BT_MNT_DIR;
		if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2")) {
			/* the container gets the cgroup2 tree of its cgroup namespace */
			m->kind |= BT_MNT_CGROUP;
			type = "cgroup2";
			source = "cgroup2";
		}
		if (!(m->type = strdup(type)) || !(m->source = strdup(source && *source ? source : type)))
			return nomem(err, ep);
	}
	return 0;
}

/* ---- devices --------------------------------------------------------------- */

static int device_add(bt_rt_config *c, const char *path, mode_t mode, unsigned maj, unsigned min,
		      uid_t uid, gid_t gid)
{
	for (size_t i = 0; i < c->ndevices; i++)
		if (!strcmp(c->devices[i].path, path))
			return 0; /* linux.devices come first and win */
	if (!(c->devices[c->ndevices].path = strdup(path)))
		return -1;
	c->devices[c->ndevices].mode = mode;
	c->devices[c->ndevices].dev = makedev(maj, min);
	c->devices[c->ndevices].uid = uid;
	c->devices[c->ndevices].gid = gid;
	c->ndevices++;
	return 0;
}

static int devices_parse(const json_t *arr, bt_rt_config *c, berth_error **err)
{
	static const struct {
		const char *path;
		unsigned maj, min;
	} defaults[] = { { "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
			 { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 } };
	size_t i;
	json_t *e;
	char ep[256];
	int rc;

	if (!(c->devices = calloc(json_array_size(arr) + BT_ARRAY_SIZE(defaults) + 1,
				  sizeof(*c->devices))))
		return nomem(err, "linux.devices");
	json_array_foreach(arr, i, e) {
		const char *path = NULL, *type = NULL;
		long long maj = 0, min = 0, mode = 0666, uid = 0, gid = 0;
		mode_t kind;

		bt_rt_jpath(ep, sizeof(ep), "linux.devices[%zu]", i);
		if ((rc = bt_json_string(e, ep, "path", true, &path, err)) < 0 ||
		    (rc = bt_json_string(e, ep, "type", true, &type, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "major", false, &maj, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "minor", false, &min, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "fileMode", false, &mode, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "uid", false, &uid, err)) < 0 ||
		    (rc = bt_json_int(e, ep, "gid", false, &gid, err)) < 0)
			return rc;
		{
			char pp[256];

			bt_rt_jpath(pp, sizeof(pp), "%s.path", ep);
			if ((rc = abs_path_check(path, pp, err)) < 0)
				return rc;
		}
		if (!strcmp(type, "c") || !strcmp(type, "u"))
			kind = S_IFCHR;
		else if (!strcmp(type, "b"))
			kind = S_IFBLK;
		else if (!strcmp(type, "p"))
			kind = S_IFIFO;
		else
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.type: unknown device type \"%s\"", ep, type);
		if (kind != S_IFIFO && (!json_object_get(e, "major") || !json_object_get(e, "minor")))
			return bt_error_set(err, BERTH_EINVAL, 0, "%s: major and minor are required", ep);
		if (maj < 0 || min < 0 || maj > 0xfff || min > 0xfffff || mode < 0 || mode > 07777 ||
		    uid < 0 || gid < 0 || uid > 0xfffffffeLL || gid > 0xfffffffeLL)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s: major, minor, fileMode, uid or gid out of range",
					    ep);
		if (device_add(c, path, kind | (mode_t)mode, (unsigned)maj, (unsigned)min, (uid_t)uid,
			       (gid_t)gid) < 0)
			return nomem(err, ep);
	}
	for (i = 0; i < BT_ARRAY_SIZE(defaults); i++)
		if (device_add(c, defaults[i].path, S_IFCHR | 0666, defaults[i].maj, defaults[i].min, 0, 0) < 0)
			return nomem(err, "linux.devices");
	return 0;
}

/* ---- sysctl ----------------------------------------------------------------- */

static int sysctl_parse(const json_t *obj, bt_rt_config *c, int ns_flags, berth_error **err)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!(c->sysctl = calloc(json_object_size(obj) + 1, sizeof(*c->sysctl))))
		return nomem(err, "linux.sysctl");
	json_object_foreach((json_t *)obj, key, v) {
		int need;

		if (!json_is_string(v))
			return bt_error_set(err, BERTH_EINVAL, 0, "linux.sysctl.%s: expected a string, got %s",
					    key, bt_json_type_name(v));
		if (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_.-/") != strlen(key) ||
		    strstr(key, "..") || key[0] == '.' || key[0] == '/')
			return bt_error_set(err, BERTH_EINVAL, 0, "linux.sysctl: bad key \"%s\"", key);
		/* only namespaced keys: anything else would change the host */
		if (!strncmp(key, "net.", 4))
			need = CLONE_NEWNET;
		else if (!strncmp(key, "kernel.shm", 10) || !strncmp(key, "kernel.msg", 10) ||
			 !strcmp(key, "kernel.sem") || !strncmp(key, "fs.mqueue.", 10))
			need = CLONE_NEWIPC;
		else if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
			need = CLONE_NEWUTS;
		else
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "linux.sysctl.%s: not a namespaced sysctl; it would change the host",
					    key);
		if (!(ns_flags & need))
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "linux.sysctl.%s: the container does not have its own %s namespace",
					    key, need == CLONE_NEWNET ? "network" : need == CLONE_NEWIPC ? "ipc" : "uts");
		if (!(c->sysctl[n].key = strdup(key)) || !(c->sysctl[n].value = strdup(json_string_value(v))))
			return nomem(err, "linux.sysctl");
		for (char *p = c->sysctl[n].key; *p; p++)
			if (*p == '.')
				*p = '/';
		c->nsysctl = ++n;
	}
	return 0;
}

/* ---- the whole config ------------------------------------------------------ */

void bt_rt_config_free(bt_rt_config *c)
{
	size_t i;

	if (!c)
		return;
	json_decref(c->json);
	free(c->bundle);
	free(c->rootfs);
	free(c->hostname);
	free(c->domainname);
	bt_rt_process_clear(&c->proc);
	for (i = 0; i < c->nns; i++)
		free(c->ns[i].path);
	free(c->uid_map);
	free(c->gid_map);
	free(c->time_offsets);
	for (i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].source);
		free(c->mounts[i].dest);
		free(c->mounts[i].type);
		free(c->mounts[i].data);
		free(c->mounts[i].what);
	}
	free(c->mounts);
	for (i = 0; i < c->ndevices; i++)
		free(c->devices[i].path);
	free(c->devices);
	bt_strv_free(c->masked, c->nmasked);
	bt_strv_free(c->readonly, c->nreadonly);
	for (i = 0; i < c->nsysctl; i++) {
		free(c->sysctl[i].key);
		free(c->sysctl[i].value);
	}
	free(c->sysctl);
	free(c->seccomp.bpf);
	for (i = 0; i < BT_HOOK_KINDS; i++)
		bt_rt_hooks_free(c->hooks[i], c->nhooks[i]);
	free(c);
}

/* linux.timeOffsets as /proc/<pid>/timens_offsets lines. */
static int time_offsets_parse(const json_t *obj, bt_rt_config *c, berth_error **err)
{
	static const char *const clocks[] = { "monotonic", "boottime" };
	char text[160] = "";
	const char *key;
	json_t *v;
	int rc;

	if (!c->new_timens)
		return bt_error_set(err, BERTH_EINVAL, 0, "linux.timeOffsets: given without a new time namespace");
	json_object_foreach((json_t *)obj, key, v) {
		long long secs = 0, nsecs = 0;
		char jp[64];
		size_t k, len = strlen(text);

		for (k = 0; k < BT_ARRAY_SIZE(clocks); k++)
			if (!strcmp(key, clocks[k]))
				break;
		if (k == BT_ARRAY_SIZE(clocks))
			return bt_error_set(err, BERTH_EINVAL, 0, "linux.timeOffsets.%s: unknown clock (monotonic or boottime)",
					    key);
		bt_rt_jpath(jp, sizeof(jp), "linux.timeOffsets.%s", key);
		if ((rc = bt_json_int(v, jp, "secs", false, &secs, err)) < 0 ||
		    (rc = bt_json_int(v, jp, "nanosecs", false, &nsecs, err)) < 0)
			return rc;
		if (nsecs < 0 || nsecs > 999999999)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.nanosecs: %lld not in 0..999999999", jp, nsecs);
		snprintf(text + len, sizeof(text) - len, "%s %lld %lld\n", key, secs, nsecs);
	}
	if (text[0] && !(c->time_offsets = strdup(text)))
		return nomem(err, "linux.timeOffsets");
	return 0;
}

static int paths_parse(const json_t *lx, const char *key, char ***out, size_t *n,
		       berth_error **err)
{
	json_t *v;
	char jp[256];
	int rc;

	bt_rt_jpath(jp, sizeof(jp), "linux.%s", key);
	if ((rc = bt_json_member(lx, "linux", key, JSON_ARRAY, false, &v, err)) < 0 || !v)
		return rc;
	if ((rc = strv_parse(v, jp, out, n, err)) < 0)
		return rc;
	for (size_t i = 0; i < *n; i++) {
		char ep[256];

		bt_rt_jpath(ep, sizeof(ep), "%s[%zu]", jp, i);
		if ((rc = abs_path_check((*out)[i], ep, err)) < 0)
			return rc;
	}
	return 0;
}

static int linux_parse(const json_t *lx, bt_rt_config *c, berth_error **err)
{
	json_t *v;
	const char *s = NULL;
	int rc;

	if ((rc = bt_json_member(lx, "linux", "namespaces", JSON_ARRAY, false, &v, err)) < 0)
		return rc;
	if (!v) {
		c->shared_mntns = true;
	} else if ((rc = namespaces_parse(v, c, err)) < 0)
		return rc;
	if ((rc = bt_json_member(lx, "linux", "uidMappings", JSON_ARRAY, false, &v, err)) < 0 ||
	    (v && (rc = idmap_parse(v, "linux.uidMappings", &c->uid_map, err)) < 0) ||
	    (rc = bt_json_member(lx, "linux", "gidMappings", JSON_ARRAY, false, &v, err)) < 0 ||
	    (v && (rc = idmap_parse(v, "linux.gidMappings", &c->gid_map, err)) < 0))
		return rc;
	if (c->new_userns && (!c->uid_map || !c->gid_map))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
	if (!c->new_userns && (c->uid_map || c->gid_map))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "linux.uidMappings: mappings given without a new user namespace");
	if ((rc = bt_json_member(lx, "linux", "devices", JSON_ARRAY, false, &v, err)) < 0 ||
	    (rc = devices_parse(v, c, err)) < 0)
		return rc;
	if ((rc = paths_parse(lx, "maskedPaths", &c->masked, &c->nmasked, err)) < 0 ||
	    (rc = paths_parse(lx, "readonlyPaths", &c->readonly, &c->nreadonly, err)) < 0)
		return rc;
	if ((rc = bt_json_member(lx, "linux", "sysctl", JSON_OBJECT, false, &v, err)) < 0 ||
	    (v && (rc = sysctl_parse(v, c, ns_types(c), err)) < 0))
		return rc;
	if ((rc = bt_json_string(lx, "linux", "rootfsPropagation", false, &s, err)) < 0)
		return rc;
	c->root_propagation = MS_PRIVATE | MS_REC;
	if (s && *s && propagation_lookup(s, &c->root_propagation) < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "linux.rootfsPropagation: unknown propagation \"%s\"", s);
	if ((rc = bt_json_string(lx, "linux", "cgroupsPath", false, &c->cgroups_path, err)) < 0)
		return rc;
	if ((rc = bt_json_member(lx, "linux", "resources", JSON_OBJECT, false, &v, err)) < 0)
		return rc;
	c->resources = v;
	if ((rc = bt_json_member(lx, "linux", "seccomp", JSON_OBJECT, false, &v, err)) < 0)
		return rc;
	c->seccomp_json = v;
	if ((v = json_object_get(lx, "intelRdt")) && !json_is_null(v))
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "linux.intelRdt: not supported");
	if ((rc = bt_json_member(lx, "linux", "timeOffsets", JSON_OBJECT, false, &v, err)) < 0 ||
	    (v && (rc = time_offsets_parse(v, c, err)) < 0))
		return rc;
	if ((v = json_object_get(lx, "personality")) && !json_is_null(v))
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "linux.personality: not supported");
	return 0;
}

/* Without a mount namespace of its own the container shares the
 * runtime's: berth then only enters the root (chroot) and makes no mount
 * and no device node there, so a config that asks for one is refused. */
static int shared_mntns_check(const bt_rt_config *c, const json_t *lx, berth_error **err)
{
	const char *what = c->nmounts ? c->mounts[0].what
			   : c->nmasked ? "linux.maskedPaths"
			   : c->nreadonly ? "linux.readonlyPaths"
			   : c->root_ro ? "root.readonly"
			   : c->nsysctl ? "linux.sysctl"
			   : json_array_size(json_object_get(lx, "devices")) ? "linux.devices"
			   : json_string_length(json_object_get(lx, "rootfsPropagation")) ? "linux.rootfsPropagation"
			   : NULL;

	if (!what)
		return 0;
	return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
			    "%s: without a mount namespace in linux.namespaces the container shares the "
			    "runtime's, where berth makes no mounts or device nodes; add one, or leave this out",
			    what);
}

/* ociVersion, and root: the path (relative to the bundle) of a directory. */
static int root_parse(const json_t *config, const char *bundle, bt_rt_config *c, berth_error **err)
{
	const char *s = NULL;
	struct stat st;
	json_t *root;
	int rc;

	if ((rc = bt_json_string(config, "", "ociVersion", true, &s, err)) < 0)
		return rc;
	if (strncmp(s, "1.0", 3) && strncmp(s, "1.1", 3) && strncmp(s, "1.2", 3))
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "ociVersion: \"%s\" is not a runtime-spec version berth knows (1.0 to 1.2)", s);
	if ((rc = bt_json_member(config, "", "root", JSON_OBJECT, true, &root, err)) < 0 ||
	    (rc = bt_json_string(root, "root", "path", true, &s, err)) < 0 ||
	    (rc = bt_json_bool(root, "root", "readonly", false, &c->root_ro, err)) < 0)
		return rc;
	if (!*s)
		return bt_error_set(err, BERTH_EINVAL, 0, "root.path: empty");
	if (!(c->rootfs = s[0] == '/' ? strdup(s) : bt_strdup_printf("%s/%s", bundle, s)))
		return nomem(err, "root.path");
	if (stat(c->rootfs, &st) < 0)
		return bt_error_os(err, "root.path: %s", c->rootfs);
	if (!S_ISDIR(st.st_mode))
		return bt_error_set(err, BERTH_EINVAL, 0, "root.path: %s is not a directory", c->rootfs);
	return 0;
}

/* An optional non-empty string member copied to *out. */
static int optional_string(const json_t *config, const char *key, char **out, berth_error **err)
{
	const char *s = NULL;
	int rc;

	if ((rc = bt_json_string(config, "", key, false, &s, err)) < 0)
		return rc;
	if (s && *s && !(*out = strdup(s)))
		return nomem(err, key);
	return 0;
}

/* process, hostname and domainname. */
static int process_parse(const json_t *config, bt_rt_config *c, berth_error **err)
{
	json_t *v;
	int rc;

	if ((rc = bt_json_member(config, "", "process", JSON_OBJECT, false, &v, err)) < 0)
		return rc;
	if (!v)
		return bt_error_set(err, BERTH_EINVAL, 0, "process: missing (create needs a process to run)");
	if ((rc = bt_rt_process_parse(v, "process", &c->proc, err)) < 0 ||
	    (rc = optional_string(config, "hostname", &c->hostname, err)) < 0)
		return rc;
	return optional_string(config, "domainname", &c->domainname, err);
}

/* mounts, hooks, and what needs the whole config checked (rlimits, a
 * shared mount namespace); seccomp is compiled by the caller, through the
 * runtime's cache (bt_rt_seccomp_get). */
static int rest_parse(const json_t *config, json_t *lx, bt_rt_config *c, berth_error **err)
{
	json_t *v;
	int rc;

	if ((c->hostname || c->domainname) && !has_ns(c, CLONE_NEWUTS))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: setting it needs a new uts namespace",
				    c->hostname ? "hostname" : "domainname");
	if ((rc = bt_json_member(config, "", "mounts", JSON_ARRAY, false, &v, err)) < 0 ||
	    (rc = mounts_parse(v, c, err)) < 0 ||
	    (rc = bt_json_member(config, "", "hooks", JSON_OBJECT, false, &v, err)) < 0)
		return rc;
	for (int k = 0; v && k < BT_HOOK_KINDS; k++) {
		json_t *h = json_object_get(v, bt_rt_hook_names[k]);

		if (h && !json_is_null(h) && (rc = bt_rt_hooks_parse(h, &c->hooks[k], &c->nhooks[k], k, err)) < 0)
			return rc;
	}
	if ((rc = bt_rt_rlimits_check(&c->proc, err)) < 0)
		return rc;
	return c->shared_mntns ? shared_mntns_check(c, lx, err) : 0;
}

/* Phases: root, process, linux, then what depends on them. */
int bt_rt_config_parse(const json_t *config, const char *bundle, bt_rt_config **out,
		       berth_error **err)
{
	bt_rt_config *c;
	json_t *lx;
	int rc;

	*out = NULL;
	if (!json_is_object(config))
		return bt_error_set(err, BERTH_EINVAL, 0, "config: expected an object, got %s",
				    bt_json_type_name(config));
	if (!(c = calloc(1, sizeof(*c))))
		return nomem(err, "config");
	c->json = json_incref((json_t *)config);
	if (!(c->bundle = strdup(bundle)))
		rc = nomem(err, "config");
	else if ((rc = root_parse(config, bundle, c, err)) == 0 && (rc = process_parse(config, c, err)) == 0 &&
		 (rc = bt_json_member(config, "", "linux", JSON_OBJECT, true, &lx, err)) == 0 &&
		 (rc = linux_parse(lx, c, err)) == 0)
		rc = rest_parse(config, lx, c, err);
	if (rc < 0) {
		bt_rt_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
