/* Operations on existing containers: exec, pause, unpause, restart,
 * rename, top, prune. Each works on the records under the container's
 * lock, and on its processes through the runtime module. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <berth/runtime.h>
#include <berth/storage.h>

#define CONFIG_MAX (4 << 20)

static bool is_running(const char *status)
{
	return !strcmp(status, "running") || !strcmp(status, "paused");
}

/* ---- exec ----------------------------------------------------------------- */

/* Sets KEY=VALUE in env, replacing an entry with the same key. */
static void env_set(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv), i;
	json_t *e;

	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);

		if (s && !strncmp(s, kv, klen) && s[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

/* The exec's process object: the init's (from the bundle's config.json)
 * with the options over it, so capabilities, no_new_privileges and the
 * environment are the container's. */
static int exec_process(struct bt_ct *ct, const berth_container_exec_opts *o, char **out,
			berth_error **err)
{
	char *path = bt_strdup_printf("%s/config.json", ct->dir);
	json_t *spec = NULL, *p, *args, *env;
	struct bt_ct_user u;
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_json_load_file(path, CONFIG_MAX, &spec, err);
	free(path);
	if (rc < 0)
		return bt_error_wrap(err, rc, "container %.12s has a damaged record", ct->id);
	if (!json_is_object(p = json_object_get(spec, "process"))) {
		json_decref(spec);
		return bt_error_set(err, BERTH_EINVAL, 0, "container %.12s has a damaged record", ct->id);
	}
	args = json_array();
	for (const char *const *a = o->cmd; *a; a++)
		json_array_append_new(args, json_string(*a));
	json_object_set_new(p, "args", args);
	if (!json_is_array(env = json_object_get(p, "env")))
		json_object_set_new(p, "env", env = json_array());
	for (const char *const *e = o->env; e && *e; e++)
		env_set(env, *e);
	if (o->tty) {
		bool has_term = false;
		size_t i;
		json_t *e;

		json_array_foreach(env, i, e)
			has_term |= !strncmp(json_string_value(e) ? json_string_value(e) : "", "TERM=", 5);
		if (!has_term)
			json_array_append_new(env, json_string("TERM=xterm"));
	}
	json_object_set_new(p, "terminal", json_boolean(o->tty));
	json_object_del(p, "consoleSize");
	if (o->workdir)
		json_object_set_new(p, "cwd", json_string(o->workdir));
	if (o->user) {
		const char *rootfs = json_string_value(json_object_get(json_object_get(spec, "root"), "path"));
		json_t *gids = json_array();

		if ((rc = bt_ct_user_resolve(rootfs ? rootfs : "/nonexistent", o->user, &u, err)) < 0) {
			json_decref(gids);
			json_decref(spec);
			/* ENOTFOUND is a missing command's (127) */
			return rc == BERTH_ENOTFOUND ? bt_error_wrap(err, BERTH_EINVAL, "container %.12s", ct->id) : rc;
		}
		for (size_t i = 0; i < u.ngroups; i++)
			json_array_append_new(gids, json_integer(u.groups[i]));
		json_object_set_new(p, "user", json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)u.uid, "gid",
							 (json_int_t)u.gid, "additionalGids", gids));
		bt_ct_user_free(&u);
	}
	*out = json_dumps(p, JSON_COMPACT);
	json_decref(spec);
	return *out ? 0 : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
}

/* Checks the container runs and builds the process, under its lock. */
static int exec_prepare(berth_ctx *ctx, const char *name, const berth_container_exec_opts *o,
			char id[65], char **process, berth_error **err)
{
	struct bt_ct *ct;
	const char *status;
	int rc;

	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	status = bt_ct_status(ct);
	if (!strcmp(status, "paused"))
		rc = bt_error_set(err, BERTH_ESTATE, 0,
				  "Container %s is paused, unpause the container before exec", name);
	else if (strcmp(status, "running"))
		rc = bt_error_set(err, BERTH_ESTATE, 0, "container %s is not running", name);
	else
		rc = exec_process(ct, o, process, err);
	memcpy(id, ct->id, 65);
	bt_ct_close(ct);
	return rc;
}

int berth_container_exec(berth_ctx *ctx, const char *name, const berth_container_exec_opts *opts,
			 berth_container_exit *out, berth_error **err)
{
	berth_container_exec_opts o = BERTH_CONTAINER_EXEC_OPTS_INIT;
	berth_runtime_exec_opts eo = BERTH_RUNTIME_EXEC_OPTS_INIT;
	berth_runtime_exit how = BERTH_RUNTIME_EXIT_INIT;
	berth_runtime_process *proc = NULL;
	berth_runtime *rt = NULL;
	char id[65], *process = NULL;
	int rc;

	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_container_exec_opts", err)) < 0)
		return rc;
	if (!o.cmd || !o.cmd[0] || !*o.cmd[0])
		return bt_error_set(err, BERTH_EINVAL, 0, "no command specified");
	if (o.workdir && o.workdir[0] != '/')
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "the working directory '%s' is invalid, it needs to be an absolute path",
				    o.workdir);
	if ((rc = exec_prepare(ctx, name, &o, id, &process, err)) < 0)
		return rc;
	eo.stdio = o.stdio;
	if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) < 0 ||
	    (rc = berth_runtime_exec(rt, id, process, &eo, &proc, err)) < 0)
		goto out;
	if (o.started)
		o.started(berth_runtime_process_pid(proc), berth_runtime_process_pty(proc), o.userdata);
	if (!o.detach) {
		if ((rc = berth_runtime_process_wait(proc, -1, &how, err)) < 0)
			goto out;
		if (out) {
			berth_container_exit e = BERTH_CONTAINER_EXIT_INIT;

			e.code = how.code;
			e.oom_killed = how.oom_killed;
			bt_opts_copy_out(out, &e, sizeof(e));
		}
	}
out:
	berth_runtime_process_free(proc);
	berth_runtime_free(rt);
	free(process);
	return rc;
}

/* ---- pause, unpause, restart ------------------------------------------------ */

static int pause_or_resume(berth_ctx *ctx, const char *name, bool pause, berth_error **err)
{
	berth_runtime *rt = NULL;
	struct bt_ct *ct;
	const char *status;
	int rc;

	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	status = bt_ct_status(ct);
	if (!is_running(status))
		rc = bt_error_set(err, BERTH_ESTATE, 0, "Container %s is not running", name);
	else if (pause && !strcmp(status, "paused"))
		rc = bt_error_set(err, BERTH_ESTATE, 0, "Container %s is already paused", name);
	else if (!pause && strcmp(status, "paused"))
		rc = bt_error_set(err, BERTH_ESTATE, 0, "Container %s is not paused", name);
	else if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) == 0 &&
		 (rc = pause ? berth_runtime_pause(rt, ct->id, err) : berth_runtime_resume(rt, ct->id, err)) == 0) {
		json_object_set_new(ct->state, "Status", json_string(pause ? "paused" : "running"));
		if ((rc = bt_ct_save_state(ct, err)) < 0 && pause)
			berth_runtime_resume(rt, ct->id, NULL); /* never frozen unrecorded */
		if (rc == 0)
			bt_ct_event(ctx, ct->id, pause ? "pause" : "unpause", ct->config, NULL, NULL);
	}
	berth_runtime_free(rt);
	bt_ct_close(ct);
	return rc;
}

int berth_container_pause(berth_ctx *ctx, const char *name, berth_error **err)
{
	return pause_or_resume(ctx, name, true, err);
}

int berth_container_unpause(berth_ctx *ctx, const char *name, berth_error **err)
{
	return pause_or_resume(ctx, name, false, err);
}

int berth_container_restart(berth_ctx *ctx, const char *name, int timeout_s, berth_error **err)
{
	int rc = berth_container_stop(ctx, name, timeout_s, err);

	/* stopped already (or never started) is what restart wants */
	if (rc == BERTH_ESTATE) {
		bt_error_clear(err);
	} else if (rc < 0) {
		return rc;
	}
	return berth_container_start(ctx, name, NULL, err);
}

/* ---- rename ---------------------------------------------------------------- */

int berth_container_rename(berth_ctx *ctx, const char *name, const char *new_name, berth_error **err)
{
	struct bt_ct *ct;
	const char *old;
	char *croot = NULL, *path = NULL, *slashed = NULL;
	int rc, lock;

	if (!new_name || !bt_ct_valid_name(new_name))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				    new_name ? new_name : "");
	if (new_name[0] == '/')
		new_name++;
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	old = json_string_value(json_object_get(ct->config, "Name"));
	old = old && old[0] == '/' ? old + 1 : old;
	if (old && !strcmp(old, new_name)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0,
				  "Renaming a container with the same name as its current name");
		goto out;
	}
	if ((rc = bt_ct_root(ctx, &croot, err)) < 0)
		goto out;
	if (!(path = bt_strdup_printf("%s/container.json", ct->dir)) ||
	    !(slashed = bt_strdup_printf("/%s", new_name))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	/* lock order: the container's, then the names' */
	if ((rc = bt_ct_lock_global(croot, &lock, err)) < 0)
		goto out;
	if ((rc = bt_ct_name_reserve(croot, new_name, ct->id, err)) == 0) {
		char *old_copy = old ? strdup(old) : NULL;

		json_object_set_new(ct->config, "Name", json_string(slashed));
		if ((rc = bt_json_write_atomic(path, ct->config, err)) < 0)
			bt_ct_name_release(croot, new_name, ct->id);
		else if (old_copy)
			bt_ct_name_release(croot, old_copy, ct->id);
		if (rc == 0) {
			bt_ct_net_renamed(ctx, ct, new_name);
			bt_ct_event(ctx, ct->id, "rename", ct->config, "oldName", old_copy ? old_copy : "");
		}
		free(old_copy);
	}
	bt_lock_release(lock);
out:
	free(slashed);
	free(path);
	free(croot);
	bt_ct_close(ct);
	return rc;
}

/* ---- top ------------------------------------------------------------------- */

/* Fields of /proc/<pid>/stat after the command name, counted from 3 as
 * proc(5) does: ppid 4, tty_nr 7, utime 14, stime 15, starttime 22. */
struct proc_stat {
	long ppid, tty;
	unsigned long long utime, stime, start;
};

static bool read_proc_stat(int pid, struct proc_stat *ps)
{
	char path[64], buf[2048], *p;
	unsigned long long f[23] = { 0 };
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')))
		return false;
	p += 2; /* field 3, the state */
	for (int i = 3; i <= 22 && *p; i++) {
		if (i > 3)
			f[i] = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	ps->ppid = (long)f[4];
	ps->tty = (long)f[7];
	ps->utime = f[14];
	ps->stime = f[15];
	ps->start = f[22];
	return true;
}

static long proc_uid(int pid)
{
	char path[64], line[256];
	long uid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Uid:", 4)) {
			uid = strtol(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return uid;
}

/* The command line, arguments joined by spaces; "[name]" for a kernel
 * thread as ps shows it. */
static char *proc_cmdline(int pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return strdup("");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return strdup(buf);
}

static json_t *top_row(int pid, time_t boot, long hz, time_t now)
{
	struct proc_stat ps;
	char uid[64], c[16], stime[32], tty[32], cpu[32], pidtext[16], ppid[16], *cmd;
	unsigned long long secs;
	struct passwd pw, *found = NULL;
	char pwbuf[1024];
	time_t started;
	struct tm tm, today;
	long id;
	json_t *row;

	if (!read_proc_stat(pid, &ps))
		return NULL;
	id = proc_uid(pid);
	if (id >= 0 && getpwuid_r((uid_t)id, &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
		snprintf(uid, sizeof(uid), "%s", pw.pw_name);
	else
		snprintf(uid, sizeof(uid), "%ld", id);
	started = boot + (time_t)(ps.start / (unsigned long long)hz);
	secs = (ps.utime + ps.stime) / (unsigned long long)hz;
	/* C: CPU use over the process's life, in percent, as ps computes it */
	snprintf(c, sizeof(c), "%llu",
		 now > started ? (ps.utime + ps.stime) * 100 / (unsigned long long)hz / (unsigned long long)(now - started) : 0);
	localtime_r(&started, &tm);
	localtime_r(&now, &today);
	strftime(stime, sizeof(stime), tm.tm_yday == today.tm_yday && tm.tm_year == today.tm_year ? "%H:%M" : "%b%d", &tm);
	if (ps.tty && major((dev_t)ps.tty) >= 136 && major((dev_t)ps.tty) <= 143)
		snprintf(tty, sizeof(tty), "pts/%u", (major((dev_t)ps.tty) - 136) * 256 + minor((dev_t)ps.tty));
	else
		snprintf(tty, sizeof(tty), "?");
	snprintf(cpu, sizeof(cpu), "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);
	snprintf(pidtext, sizeof(pidtext), "%d", pid);
	snprintf(ppid, sizeof(ppid), "%ld", ps.ppid);
	cmd = proc_cmdline(pid);
	row = json_pack("[s, s, s, s, s, s, s, s]", uid, pidtext, ppid, c, stime, tty, cpu, cmd ? cmd : "");
	free(cmd);
	return row;
}

/* The time the machine booted, for the start times /proc counts from it. */
static time_t boot_time(void)
{
	struct timespec up;

	clock_gettime(CLOCK_BOOTTIME, &up);
	return time(NULL) - up.tv_sec;
}

int berth_container_top(berth_ctx *ctx, const char *name, char **json, berth_error **err)
{
	berth_runtime *rt = NULL;
	struct bt_ct *ct;
	int *pids = NULL, rc;
	size_t count = 0;
	json_t *doc = NULL, *procs;
	long hz = sysconf(_SC_CLK_TCK);

	*json = NULL;
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	if (!is_running(bt_ct_status(ct)))
		rc = bt_error_set(err, BERTH_ESTATE, 0, "Container %s is not running", name);
	else if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) == 0)
		rc = berth_runtime_ps(rt, ct->id, &pids, &count, err);
	bt_ct_close(ct);
	berth_runtime_free(rt);
	if (rc < 0)
		return rc;
	procs = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *row = top_row(pids[i], boot_time(), hz > 0 ? hz : 100, time(NULL));

		if (row) /* one that ended meanwhile is not listed */
			json_array_append_new(procs, row);
	}
	berth_runtime_pids_free(pids);
	doc = json_pack("{s:[s, s, s, s, s, s, s, s], s:o}", "Titles", "UID", "PID", "PPID", "C", "STIME", "TTY",
			"TIME", "CMD", "Processes", procs);
	if (!doc || !(*json = json_dumps(doc, JSON_INDENT(4) | JSON_PRESERVE_ORDER)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	json_decref(doc);
	return rc;
}

/* ---- prune ----------------------------------------------------------------- */

/* The bytes of the containers' own changes, as `system df` counts them. */
static long long containers_bytes(berth_ctx *ctx)
{
	berth_storage_usage *u = NULL;
	long long bytes = 0;

	if (berth_storage_usage_new(ctx, &u, NULL) < 0)
		return 0;
	for (size_t i = 0; i < berth_storage_usage_count(u); i++)
		if (!strcmp(berth_storage_usage_kind(u, i), "containers"))
			bytes = berth_storage_usage_bytes(u, i);
	berth_storage_usage_free(u);
	return bytes;
}

int berth_container_prune(berth_ctx *ctx, char ***ids, size_t *count, unsigned long long *reclaimed,
			  berth_error **err)
{
	struct bt_strv removed = { 0 };
	char **all;
	size_t n;
	long long before;
	int rc;

	if (ids)
		*ids = NULL;
	if (count)
		*count = 0;
	if (reclaimed)
		*reclaimed = 0;
	if ((rc = berth_container_ids(ctx, &all, &n, err)) < 0)
		return rc;
	before = containers_bytes(ctx);
	for (size_t i = 0; i < n; i++) {
		berth_error *e = NULL;
		struct bt_ct *ct;

		if (bt_ct_open(ctx, all[i], &ct, &e) < 0) {
			berth_error_free(e); /* removed meanwhile */
			continue;
		}
		if (!is_running(bt_ct_status(ct))) {
			if (bt_ct_remove_locked(ctx, ct, &e) < 0) {
				bt_log_warn(ctx, "container", "pruning %.12s: %s", all[i], berth_error_message(e));
				berth_error_free(e);
			} else if (bt_strv_add(&removed, strdup(all[i])) < 0) {
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			}
		}
		bt_ct_close(ct);
	}
	berth_container_ids_free(all, n);
	if (reclaimed) {
		long long after = containers_bytes(ctx);

		*reclaimed = before > after ? (unsigned long long)(before - after) : 0;
	}
	if (ids && rc == 0) {
		*ids = removed.v;
		*count = removed.n;
	} else {
		bt_strv_free(removed.v, removed.n);
	}
	return rc;
}
