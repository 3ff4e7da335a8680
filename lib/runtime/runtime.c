/* The container lifecycle of the runtime-spec over a state root: create,
 * start, state, kill, delete, pause/resume, ps, list, update and exec.
 * Each call takes the container's lock for as long as it changes it. */
#define _GNU_SOURCE
#include "runtime-internal.h"
#include "../cgroup/cgroup-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A config asks to run in a cgroup that other processes use already with
 * this annotation set to "true"; without it such a cgroup is refused. */
#define JOIN_ANNOTATION "io.berth.cgroup.join"

int berth_runtime_new(berth_ctx *ctx, const berth_runtime_opts *opts, berth_runtime **out,
		      berth_error **err)
{
	berth_runtime_opts o = BERTH_RUNTIME_OPTS_INIT;
	berth_runtime *rt;
	int rc;

	*out = NULL;
	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_runtime_opts", err)) < 0)
		return rc;
	if (o.root && o.root[0] != '/')
		return bt_error_set(err, BERTH_EINVAL, 0, "runtime root \"%s\" is not an absolute path", o.root);
	/* one place per context: its run root (rootless: under $XDG_RUNTIME_DIR) */
	if (!(rt = calloc(1, sizeof(*rt))) ||
	    !(rt->root = o.root ? strdup(o.root) : bt_strdup_printf("%s/runtime", berth_ctx_runroot(ctx)))) {
		free(rt);
		return bt_error_set(err, BERTH_ENOMEM, 0, "opening the runtime: out of memory");
	}
	/* "/run/x/" and "/run/x" are one root, and name one cgroup */
	for (size_t len = strlen(rt->root); len > 1 && rt->root[len - 1] == '/'; len--)
		rt->root[len - 1] = '\0';
	rt->ctx = ctx;
	rt->helper_fd = -1;
	pthread_mutex_init(&rt->helper_lock, NULL);
	*out = rt;
	return 0;
}

const char *berth_runtime_root(const berth_runtime *rt)
{
	return rt->root;
}

void berth_runtime_free(berth_runtime *rt)
{
	if (!rt)
		return;
	if (rt->helper_fd >= 0)
		close(rt->helper_fd);
	pthread_mutex_destroy(&rt->helper_lock);
	free(rt->root);
	free(rt);
}


void berth_runtime_pids_free(int *pids)
{
	free(pids);
}

void berth_runtime_list_free(char **ids, size_t count)
{
	bt_strv_free(ids, count);
}

/* ---- create ---------------------------------------------------------------- */

struct create_run {
	berth_runtime *rt;
	bt_rt_config *cfg;
	bt_rt_state *st;
	berth_cgroup *cg;
};

static int on_create_hooks(void *ud, int pid, berth_error **err)
{
	struct create_run *cr = ud;
	char *state;
	int rc = 0;

	json_object_set_new(cr->st->json, "pid", json_integer(pid));
	if (!(state = bt_rt_state_spec_json(cr->st, "creating")))
		return bt_error_set(err, BERTH_ENOMEM, 0, "running hooks: out of memory");
	if ((rc = bt_rt_hooks_run(cr->rt, cr->cfg->hooks[BT_HOOK_PRESTART], cr->cfg->nhooks[BT_HOOK_PRESTART],
				  BT_HOOK_PRESTART, state, 0, err)) < 0 ||
	    (rc = bt_rt_hooks_run(cr->rt, cr->cfg->hooks[BT_HOOK_CREATE_RUNTIME],
				  cr->cfg->nhooks[BT_HOOK_CREATE_RUNTIME], BT_HOOK_CREATE_RUNTIME, state, 0,
				  err)) < 0 ||
	    (rc = bt_rt_hooks_run(cr->rt, cr->cfg->hooks[BT_HOOK_CREATE_CONTAINER],
				  cr->cfg->nhooks[BT_HOOK_CREATE_CONTAINER], BT_HOOK_CREATE_CONTAINER, state,
				  pid, err)) < 0) {
		/* rc carries the first failure */
	}
	free(state);
	return rc;
}

static int write_pid_file(const char *path, int pid, berth_error **err)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%d", pid);
	return bt_write_file_volatile(path, buf, strlen(buf), 0644, err);
}

int bt_rt_default_cgroup(const berth_runtime *rt, const char *id, char **out, berth_error **err)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a: short, stable, no libcrypto */

	for (const char *c = rt->root; *c; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
	/* FNV-1a's last bytes reach few bits: mixed so roots that differ at
	 * the end differ in every digit */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	if (!(*out = bt_strdup_printf("/berth/%s-%012llx", id, (unsigned long long)(h >> 16))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "naming the cgroup of %s: out of memory", id);
	return 0;
}

/* Refuses a cgroup that already holds processes unless the config joins it
 * on purpose: kill --all and delete act on the whole cgroup, so a stray
 * join (two runtimes, one default path) would reach another's processes. */
static int check_cgroup_empty(berth_cgroup *cg, bool join, bool *shared, berth_error **err)
{
	int *pids = NULL;
	size_t n = 0;
	int rc;

	if ((rc = berth_cgroup_pids(cg, &pids, &n, err)) < 0)
		return rc;
	if (n && !join)
		rc = bt_error_set(err, BERTH_EBUSY, 0,
				  "cgroup %s already holds %zu process(es) (pid %d); set the annotation "
				  JOIN_ANNOTATION "=true to run in it anyway", berth_cgroup_path(cg), n, pids[0]);
	*shared = n > 0;
	berth_cgroup_pids_free(pids);
	return rc;
}

/* Creates the container's cgroup, or opens one made for it beforehand
 * (podman's pod cgroups) when it is empty or `join` says so (*shared then
 * tells whether others run in it). */
static int make_cgroup(berth_runtime *rt, const char *path, const char *id, bool join,
		       berth_cgroup **cg, bool *created, bool *shared, berth_error **err)
{
	int rc;

	*created = *shared = false;
	rc = berth_cgroup_create(rt->ctx, path, id, cg, err);
	if (rc == BERTH_EEXISTS) {
		berth_error_free(err ? *err : NULL);
		if (err)
			*err = NULL;
		if ((rc = berth_cgroup_open(rt->ctx, path, id, cg, err)) == 0 &&
		    (rc = check_cgroup_empty(*cg, join, shared, err)) < 0) {
			berth_cgroup_free(*cg);
			*cg = NULL;
		}
		return rc;
	}
	if (rc == 0)
		*created = true;
	return rc;
}

/* The cgroup a create uses: linux.cgroupsPath, else one named after the
 * id and the state root, so two roots never share a cgroup. */
static int create_cgroup(struct create_run *cr, const json_t *config, const char *id, bool *created,
			 bool *shared, berth_error **err)
{
	const char *join = json_string_value(
		json_object_get(json_object_get(config, "annotations"), JOIN_ANNOTATION));
	char *def = NULL;
	const char *path;
	int rc;

	if (!cr->cfg->cgroups_path && (rc = bt_rt_default_cgroup(cr->rt, id, &def, err)) < 0)
		return rc;
	path = def ? def : cr->cfg->cgroups_path;
	/* noted before it is made: a create killed from here on leaves a
	 * cgroup the next create or delete in this root finds and removes */
	if ((rc = bt_rt_state_note_cgroup(cr->st, path, true, err)) == 0) {
		rc = make_cgroup(cr->rt, path, id, join && !strcmp(join, "true"), &cr->cg, created, shared,
				 err);
		if (rc == 0 && !*created)
			rc = bt_rt_state_note_cgroup(cr->st, path, false, err);
	}
	free(def);
	return rc;
}

/* Whether a rule of devs names device type/major/minor itself: its access
 * is then the config's to say (Docker's --device /dev/x:r). */
static bool device_ruled(const json_t *devs, char type, unsigned maj, unsigned min)
{
	size_t i;
	json_t *r;

	json_array_foreach(devs, i, r) {
		const char *t = json_string_value(json_object_get(r, "type"));

		if (t && t[0] == type && json_is_integer(json_object_get(r, "major")) &&
		    json_is_integer(json_object_get(r, "minor")) &&
		    json_integer_value(json_object_get(r, "major")) == (json_int_t)maj &&
		    json_integer_value(json_object_get(r, "minor")) == (json_int_t)min)
			return true;
	}
	return false;
}

/* linux.resources with the device rules the container's own nodes need
 * appended, as runc does: a config that denies all devices still gets its
 * /dev/null, /dev/pts and linux.devices (unless a rule names the device). */
static int apply_resources(struct create_run *cr, berth_error **err)
{
	static const char *const extra[] = { "c 5:1", "c 5:2", "c 136:*" };
	json_t *res = json_deep_copy(cr->cfg->resources), *devs;
	int rc;

	if (!res)
		return bt_error_set(err, BERTH_ENOMEM, 0, "applying linux.resources: out of memory");
	devs = json_object_get(res, "devices");
	if (json_is_array(devs)) {
		for (size_t i = 0; i < cr->cfg->ndevices; i++) {
			const bt_rt_device *d = &cr->cfg->devices[i];

			if ((!S_ISCHR(d->mode) && !S_ISBLK(d->mode)) ||
			    device_ruled(devs, S_ISCHR(d->mode) ? 'c' : 'b', major(d->dev), minor(d->dev)))
				continue;
			json_array_append_new(devs, json_pack("{s:b,s:s,s:I,s:I,s:s}", "allow", 1, "type",
							      S_ISCHR(d->mode) ? "c" : "b", "major",
							      (json_int_t)major(d->dev), "minor",
							      (json_int_t)minor(d->dev), "access", "rwm"));
		}
		for (size_t i = 0; i < BT_ARRAY_SIZE(extra); i++) {
			unsigned maj = 0;
			char minor_s[8] = "";
			json_t *e;

			sscanf(extra[i] + 2, "%u:%7s", &maj, minor_s);
			e = json_pack("{s:b,s:s,s:I,s:s}", "allow", 1, "type", "c", "major", (json_int_t)maj,
				      "access", "rwm");
			if (strcmp(minor_s, "*"))
				json_object_set_new(e, "minor", json_integer(atoi(minor_s)));
			json_array_append_new(devs, e);
		}
	}
	rc = bt_cgroup_apply(cr->cg, res, err);
	json_decref(res);
	return rc;
}

/* What the state keeps beyond the spec's fields, for the later calls of
 * any process: the init's start time (pid reuse), its cgroup and how much
 * of it create made, hooks, seccomp, the keyring choice. */
static json_t *berth_record(const struct create_run *cr, const json_t *config, int pid,
			    bool cg_created, bool cg_shared, bool no_new_keyring)
{
	json_t *b = json_object(), *hooks;

	json_object_set_new(b, "starttime", json_integer((json_int_t)bt_rt_proc_starttime(pid)));
	if (cr->cg) {
		json_t *made = json_array();

		json_object_set_new(b, "cgroupsPath", json_string(berth_cgroup_path(cr->cg)));
		/* how many directories create made per hierarchy, so delete
		 * removes the parents it made too (when empty) */
		for (size_t i = 0; cg_created && i < cr->cg->ndirs; i++)
			json_array_append_new(made, json_integer((json_int_t)cr->cg->dirs[i].created));
		json_object_set_new(b, "cgroupCreated", made);
		if (cg_shared)
			json_object_set_new(b, "cgroupShared", json_true());
	}
	if ((hooks = json_object_get(config, "hooks")))
		json_object_set(b, "hooks", hooks);
	if (cr->cfg->seccomp_json)
		json_object_set(b, "seccomp", (json_t *)cr->cfg->seccomp_json);
	if (no_new_keyring)
		json_object_set_new(b, "noNewKeyring", json_true());
	return b;
}

/* The spec's fields of the state. */
static void spec_record(json_t *st, const char *id, const char *bundle, const bt_rt_config *cfg,
			const json_t *config)
{
	char *created = bt_now_rfc3339();

	json_object_set_new(st, "ociVersion", json_string("1.2.0"));
	json_object_set_new(st, "id", json_string(id));
	json_object_set_new(st, "bundle", json_string(bundle));
	json_object_set_new(st, "rootfs", json_string(cfg->rootfs));
	json_object_set_new(st, "created", json_string(created ? created : ""));
	json_object_set_new(st, "owner", json_string(""));
	if (json_object_get(config, "annotations"))
		json_object_set(st, "annotations", json_object_get(config, "annotations"));
	free(created);
}

/* The exec.fifo the init waits on until start: opened read-write, so it
 * never sees EOF; start opens it write-only without blocking, which fails
 * once no init holds it. */
static int make_fifo(const bt_rt_state *st, int *fd, berth_error **err)
{
	char *fifo = bt_strdup_printf("%s/exec.fifo", st->dir);
	int rc = 0;

	if (!fifo)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (mkfifo(fifo, 0600) < 0 || (*fd = open(fifo, O_RDWR | O_CLOEXEC)) < 0)
		rc = bt_error_os(err, "creating %s", fifo);
	free(fifo);
	return rc;
}

static int create_checked(berth_runtime *rt, const char *id, const berth_runtime_create_opts *opts,
			  berth_runtime_create_opts *o, berth_error **err)
{
	int rc;

	if ((rc = bt_opts_copy(o, sizeof(*o), opts, "berth_runtime_create_opts", err)) < 0)
		return rc;
	if (o->preserve_fds < 0 || o->preserve_fds > 65536)
		return bt_error_set(err, BERTH_EINVAL, 0, "preserve_fds: %d out of range", o->preserve_fds);
	(void)rt;
	return bt_rt_id_check(id, err);
}

int bt_runtime_create_json(berth_runtime *rt, const char *id, const char *bundle,
			   const json_t *config, const berth_runtime_create_opts *opts,
			   berth_runtime_process **proc, berth_error **err)
{
	berth_runtime_create_opts o = BERTH_RUNTIME_CREATE_OPTS_INIT;
	bt_rt_config *cfg = NULL;
	bt_rt_state st = { .lock_fd = -1 };
	struct create_run cr = { rt, NULL, &st, NULL };
	bt_rt_spawn sp = { 0 };
	bt_rt_io io = { -1, -1 };
	bool cg_created = false, cg_shared = false;
	int fifo_fd = -1, pid = -1, pidfd = -1, pty = -1, rc;

	if (proc)
		*proc = NULL;
	if ((rc = create_checked(rt, id, opts, &o, err)) < 0)
		return rc;
	if ((rc = bt_rt_config_parse(config, bundle, &cfg, err)) < 0)
		return bt_error_wrap(err, rc, "creating container %s", id);
	cr.cfg = cfg;
	if (cfg->seccomp_json && (rc = bt_rt_seccomp_get(rt, cfg->seccomp_json, &cfg->seccomp, err)) < 0) {
		rc = bt_error_wrap(err, rc, "creating container %s", id);
		goto fail_cfg;
	}
	if ((rc = bt_rt_io_prepare(&io, cfg->proc.terminal,
				   &(bt_rt_io_opts){ o.console_socket, o.stdio, o.fds, o.nfds, o.preserve_fds },
				   err)) < 0) {
		rc = bt_error_wrap(err, rc, "creating container %s", id);
		goto fail_cfg;
	}
	bt_rt_sweep(rt, true, NULL);
	if ((rc = bt_rt_state_new(rt, id, &st, err)) < 0)
		goto fail_cfg;
	if ((rc = make_fifo(&st, &fifo_fd, err)) < 0)
		goto fail;
	rc = create_cgroup(&cr, config, id, &cg_created, &cg_shared, err);
	if (rc == BERTH_EUNSUPPORTED && !cfg->resources) {
		berth_error_free(err ? *err : NULL);
		if (err)
			*err = NULL;
		rc = 0;
	}
	if (rc < 0)
		goto fail;
	if (cr.cg && cfg->resources && (rc = apply_resources(&cr, err)) < 0)
		goto fail;
	spec_record(st.json, id, bundle, cfg, config);
	sp.cfg = cfg;
	sp.proc = &cfg->proc;
	sp.seccomp = &cfg->seccomp;
	sp.no_pivot = o.no_pivot;
	sp.console_fd = io.console;
	sp.fifo_fd = fifo_fd;
	sp.preserve_fds = o.preserve_fds;
	sp.lock_fd = st.lock_fd;
	sp.cgroup = cr.cg;
	sp.keyring = o.no_new_keyring ? NULL : id;
	sp.stdio = o.stdio;
	sp.fds = o.fds;
	sp.nfds = o.nfds;
	if ((rc = bt_rt_spawn_run(rt, &sp, &pid, &pidfd, on_create_hooks, &cr, err)) < 0 ||
	    (rc = bt_rt_io_pty(&io, &pty, err)) < 0)
		goto fail;
	json_object_set_new(st.json, "berth", berth_record(&cr, config, pid, cg_created, cg_shared,
							   o.no_new_keyring));
	json_object_set_new(st.json, "pid", json_integer(pid));
	if ((rc = bt_rt_state_save(&st, err)) < 0 ||
	    (o.pid_file && (rc = write_pid_file(o.pid_file, pid, err)) < 0) ||
	    (proc && (rc = bt_rt_process_new(rt, id, true, pid, pidfd, pty, proc, err)) < 0))
		goto fail;
	if (proc)
		pidfd = pty = -1; /* the process object's now */
	bt_log_debug(rt->ctx, "runtime", "created container %s: pid %d", id, pid);
	goto out;
fail:
	rc = bt_error_wrap(err, rc, "creating container %s", id);
	if (pid > 0) {
		int status;
		kill(pid, SIGKILL);
		waitpid(pid, &status, __WALL);
	}
	if (cr.cg && cg_created)
		berth_cgroup_remove(cr.cg, NULL);
	bt_rt_state_close(&st, true);
out:
	if (fifo_fd >= 0)
		close(fifo_fd);
	if (pidfd >= 0)
		close(pidfd);
	if (pty >= 0)
		close(pty);
	bt_rt_io_clear(&io);
	berth_cgroup_free(cr.cg);
	bt_rt_state_close(&st, false);
fail_cfg:
	bt_rt_config_free(cfg);
	bt_rt_io_clear(&io);
	return rc;
}

int berth_runtime_create(berth_runtime *rt, const char *id, const char *bundle,
			   const char *config_json, const berth_runtime_create_opts *opts,
			   berth_runtime_process **proc, berth_error **err)
{
	char abs[PATH_MAX], *file = NULL;
	json_t *config = NULL;
	int rc;

	if (proc)
		*proc = NULL;
	if (!bundle || !realpath(bundle, abs))
		return bt_error_os(err, "creating container %s: bundle %s", id, bundle ? bundle : "(none)");
	if (config_json)
		rc = bt_json_parse(config_json, strlen(config_json), "config", &config, err);
	else if (!(file = bt_strdup_printf("%s/config.json", abs)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "creating container %s: out of memory", id);
	else
		rc = bt_json_load_file(file, 64 << 20, &config, err);
	free(file);
	if (rc < 0)
		return bt_error_wrap(err, rc, "creating container %s", id);
	rc = bt_runtime_create_json(rt, id, abs, config, opts, proc, err);
	json_decref(config);
	return rc;
}

/* ---- the other operations --------------------------------------------------- */

/* Runs the hooks of a kind saved in the state (start, delete). */
static int state_hooks(berth_runtime *rt, bt_rt_state *st, int kind, const char *status,
		       int ns_pid, berth_error **err)
{
	json_t *arr = json_object_get(json_object_get(json_object_get(st->json, "berth"), "hooks"),
				      bt_rt_hook_names[kind]);
	bt_rt_hook *hooks;
	size_t n;
	char *state;
	int rc;

	if (!json_array_size(arr))
		return 0;
	if ((rc = bt_rt_hooks_parse(arr, &hooks, &n, kind, err)) < 0)
		return rc;
	if (!(state = bt_rt_state_spec_json(st, status))) {
		bt_rt_hooks_free(hooks, n);
		return bt_error_set(err, BERTH_ENOMEM, 0, "running hooks: out of memory");
	}
	rc = bt_rt_hooks_run(rt, hooks, n, kind, state, ns_pid, err);
	free(state);
	bt_rt_hooks_free(hooks, n);
	return rc;
}

static void warn_hooks(berth_runtime *rt, bt_rt_state *st, int kind, const char *status)
{
	berth_error *e = NULL;

	/* the spec: poststart and poststop failures are logged, not fatal */
	if (state_hooks(rt, st, kind, status, 0, &e) < 0) {
		bt_log_warn(rt->ctx, "runtime", "%s", berth_error_message(e));
		berth_error_free(e);
	}
}

int berth_runtime_start(berth_runtime *rt, const char *id, berth_error **err)
{
	bt_rt_state st;
	const char *status;
	char *fifo = NULL;
	int fd = -1, rc;

	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0)
		return bt_error_wrap(err, rc, "starting container %s", id);
	status = bt_rt_state_status(&st);
	if (strcmp(status, "created")) {
		rc = bt_error_set(err, BERTH_ESTATE, 0, "starting container %s: it is %s, not created", id, status);
		goto out;
	}
	if ((rc = state_hooks(rt, &st, BT_HOOK_START_CONTAINER, "created", bt_rt_state_pid(&st), err)) < 0) {
		rc = bt_error_wrap(err, rc, "starting container %s", id);
		goto out;
	}
	if (!(fifo = bt_strdup_printf("%s/exec.fifo", st.dir))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "starting container %s: out of memory", id);
		goto out;
	}
	if ((fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		rc = errno == ENXIO ? bt_error_set(err, BERTH_ESTATE, ENXIO,
						   "starting container %s: its process no longer waits", id)
				    : bt_error_os(err, "starting container %s: opening %s", id, fifo);
		goto out;
	}
	/* gone before the write, so nobody sees "created" after the process runs */
	unlink(fifo);
	if (write(fd, "0", 1) != 1) {
		rc = bt_error_os(err, "starting container %s: writing %s", id, fifo);
		goto out;
	}
	warn_hooks(rt, &st, BT_HOOK_POSTSTART, "running");
out:
	if (fd >= 0)
		close(fd);
	free(fifo);
	bt_rt_state_close(&st, false);
	return rc;
}

int berth_runtime_state(berth_runtime *rt, const char *id, char **json, berth_error **err)
{
	bt_rt_state st;
	int rc;

	*json = NULL;
	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0)
		return bt_error_wrap(err, rc, "reading the state of container %s", id);
	if (!(*json = bt_rt_state_spec_json(&st, bt_rt_state_status(&st))))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "reading the state of container %s: out of memory", id);
	bt_rt_state_close(&st, false);
	return rc;
}


int berth_runtime_kill(berth_runtime *rt, const char *id, int sig, int flags, berth_error **err)
{
	bt_rt_state st;
	berth_cgroup *cg = NULL;
	int rc;

	if (sig < 0 || sig > 64)
		return bt_error_set(err, BERTH_EINVAL, 0, "killing container %s: %d is not a signal", id, sig);
	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0)
		return bt_error_wrap(err, rc, "killing container %s", id);
	if (!strcmp(bt_rt_state_status(&st), "stopped") && !(flags & BERTH_RUNTIME_KILL_ALL)) {
		rc = bt_error_set(err, BERTH_ESTATE, 0, "killing container %s: it is not running", id);
		goto out;
	}
	if (flags & BERTH_RUNTIME_KILL_ALL) {
		int *pids = NULL;
		size_t n = 0;

		if ((rc = bt_rt_state_cgroup(rt, &st, id, &cg, err)) < 0 ||
		    (rc = berth_cgroup_pids(cg, &pids, &n, err)) < 0) {
			rc = bt_error_wrap(err, rc, "killing every process of container %s", id);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			bt_cgroup_signal(cg, pids[i], sig);
		berth_cgroup_pids_free(pids);
		if (!n && !strcmp(bt_rt_state_status(&st), "stopped"))
			rc = bt_error_set(err, BERTH_ESTATE, 0, "killing container %s: it is not running", id);
	} else if ((rc = bt_rt_state_signal(&st, sig)) < 0) {
		errno = -rc;
		rc = rc == -ESRCH ? bt_error_set(err, BERTH_ESTATE, 0, "killing container %s: it is not running", id)
				  : bt_error_os(err, "killing container %s (pid %d)", id, bt_rt_state_pid(&st));
	}
out:
	berth_cgroup_free(cg);
	bt_rt_state_close(&st, false);
	return rc;
}

static void wait_gone(int pid, unsigned long long start)
{
	for (int i = 0; i < 500 && bt_rt_proc_starttime(pid) == start; i++) {
		struct timespec ts = { 0, 10000000L };
		int status;

		/* our own child (run) is reaped here; others by their parent */
		waitpid(pid, &status, WNOHANG | __WALL);
		nanosleep(&ts, NULL);
	}
}

/* The default cgroup's parent (/berth) is berth's own, whoever made it:
 * the last container out removes it when empty (remove_created stops at a
 * parent others still use; a create that loses its parent meanwhile starts
 * over, cgroup.c's make_dir). A cgroupsPath the config named is left as
 * it is: its parents are the caller's. */
static void claim_default_parent(const berth_runtime *rt, const char *id, const char *path,
				 berth_cgroup *cg)
{
	char *def = NULL;
	size_t depth = 0;

	if (!path || bt_rt_default_cgroup(rt, id, &def, NULL) < 0)
		return;
	if (!strcmp(path, def)) {
		for (const char *c = def; *c; c++)
			depth += *c == '/';
		for (size_t i = 0; i < cg->ndirs; i++)
			if (cg->dirs[i].created)
				cg->dirs[i].created = depth;
	}
	free(def);
}

int berth_runtime_delete(berth_runtime *rt, const char *id, int flags, berth_error **err)
{
	bt_rt_state st;
	berth_cgroup *cg = NULL;
	const char *status;
	int pid, rc;

	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0) {
		if (rc == BERTH_ENOTFOUND)
			bt_rt_sweep(rt, true, NULL); /* a create of id killed before it had its name */
		if ((rc == BERTH_ENOTFOUND || rc == BERTH_EINVAL) &&
		    bt_rt_half_made(rt, id, rc == BERTH_EINVAL, true, NULL)) {
			berth_error_free(err ? *err : NULL);
			if (err)
				*err = NULL;
			return 0;
		}
		return bt_error_wrap(err, rc, "deleting container %s", id);
	}
	status = bt_rt_state_status(&st);
	pid = bt_rt_state_pid(&st);
	if (strcmp(status, "stopped") && bt_rt_proc_dying(pid)) {
		/* killed, on its way to a zombie: stopped, as runc and crun see it
		 * (a start time of 0: a zombie already) */
		unsigned long long start = bt_rt_proc_starttime(pid);

		if (start)
			wait_gone(pid, start);
		status = bt_rt_state_status(&st);
	}
	if ((!strcmp(status, "running") || !strcmp(status, "paused")) && !(flags & BERTH_RUNTIME_DELETE_FORCE)) {
		rc = bt_error_set(err, BERTH_ESTATE, 0, "deleting container %s: it is %s (stop it first or force)",
				  id, status);
		goto out;
	}
	if (bt_rt_state_cgroup(rt, &st, id, &cg, NULL) == BERTH_ENOTFOUND)
		/* a delete killed part way removed some hierarchies' directories */
		bt_cgroup_open_existing(rt->ctx, json_string_value(json_object_get(
			json_object_get(st.json, "berth"), "cgroupsPath")), id, &cg, NULL);
	/* a cgroup joined while others ran in it stays theirs: only the
	 * container's init is killed */
	if (cg && json_is_true(json_object_get(json_object_get(st.json, "berth"), "cgroupShared"))) {
		berth_cgroup_free(cg);
		cg = NULL;
	}
	if (strcmp(status, "stopped")) {
		unsigned long long start = bt_rt_proc_starttime(pid);

		bt_rt_state_signal(&st, SIGKILL);
		if (cg) {
			berth_error *e = NULL;
			if (berth_cgroup_kill(cg, &e) < 0) {
				bt_log_warn(rt->ctx, "runtime", "deleting container %s: %s", id, berth_error_message(e));
				berth_error_free(e);
			}
			if (!strcmp(status, "paused"))
				berth_cgroup_thaw(cg, NULL);
		}
		wait_gone(pid, start);
	} else if (cg) {
		/* processes the init left behind (no pid namespace) go too */
		berth_cgroup_kill(cg, NULL);
	}
	rc = 0;
	if (cg) {
		json_t *made = json_object_get(json_object_get(st.json, "berth"), "cgroupCreated");

		if (json_array_size(made) == cg->ndirs)
			for (size_t i = 0; i < cg->ndirs; i++)
				cg->dirs[i].created = (size_t)json_integer_value(json_array_get(made, i));
		claim_default_parent(rt, id, json_string_value(json_object_get(
			json_object_get(st.json, "berth"), "cgroupsPath")), cg);
	}
	if (cg && (rc = berth_cgroup_remove(cg, err)) < 0) {
		rc = bt_error_wrap(err, rc, "deleting container %s", id);
		goto out;
	}
	warn_hooks(rt, &st, BT_HOOK_POSTSTOP, "stopped");
	bt_rt_state_close(&st, true);
out:
	berth_cgroup_free(cg);
	bt_rt_state_close(&st, false);
	return rc;
}

static int pause_resume(berth_runtime *rt, const char *id, bool pause, berth_error **err)
{
	const char *what = pause ? "pausing" : "resuming";
	bt_rt_state st;
	berth_cgroup *cg = NULL;
	const char *status;
	int rc;

	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0)
		return bt_error_wrap(err, rc, "%s container %s", what, id);
	status = bt_rt_state_status(&st);
	if (strcmp(status, pause ? "running" : "paused")) {
		rc = bt_error_set(err, BERTH_ESTATE, 0, "%s container %s: it is %s", what, id, status);
		goto out;
	}
	if ((rc = bt_rt_state_cgroup(rt, &st, id, &cg, err)) < 0 ||
	    (rc = pause ? berth_cgroup_freeze(cg, err) : berth_cgroup_thaw(cg, err)) < 0) {
		rc = bt_error_wrap(err, rc, "%s container %s", what, id);
		goto out;
	}
	json_object_set_new(json_object_get(st.json, "berth"), "paused", json_boolean(pause));
	if ((rc = bt_rt_state_save(&st, err)) < 0 && pause)
		berth_cgroup_thaw(cg, NULL);
out:
	berth_cgroup_free(cg);
	bt_rt_state_close(&st, false);
	return rc;
}

int berth_runtime_pause(berth_runtime *rt, const char *id, berth_error **err)
{
	return pause_resume(rt, id, true, err);
}

int berth_runtime_resume(berth_runtime *rt, const char *id, berth_error **err)
{
	return pause_resume(rt, id, false, err);
}

int berth_runtime_ps(berth_runtime *rt, const char *id, int **pids, size_t *count,
		       berth_error **err)
{
	bt_rt_state st;
	berth_cgroup *cg = NULL;
	int rc;

	*pids = NULL;
	*count = 0;
	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0)
		return bt_error_wrap(err, rc, "listing the processes of container %s", id);
	if ((rc = bt_rt_state_cgroup(rt, &st, id, &cg, err)) < 0 ||
	    (rc = berth_cgroup_pids(cg, pids, count, err)) < 0)
		rc = bt_error_wrap(err, rc, "listing the processes of container %s", id);
	berth_cgroup_free(cg);
	bt_rt_state_close(&st, false);
	return rc;
}

int berth_runtime_stats(berth_runtime *rt, const char *id, berth_cgroup_stats *stats,
			  berth_error **err)
{
	bt_rt_state st;
	berth_cgroup *cg = NULL;
	int rc;

	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0)
		return bt_error_wrap(err, rc, "reading the statistics of container %s", id);
	if ((rc = bt_rt_state_cgroup(rt, &st, id, &cg, err)) < 0 ||
	    (rc = berth_cgroup_stats_get(cg, stats, err)) < 0)
		rc = bt_error_wrap(err, rc, "reading the statistics of container %s", id);
	berth_cgroup_free(cg);
	bt_rt_state_close(&st, false);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int berth_runtime_list(berth_runtime *rt, char ***ids, size_t *count, berth_error **err)
{
	struct bt_strv v = { 0 };
	struct dirent *de;
	DIR *d;

	*ids = NULL;
	*count = 0;
	if (!(d = opendir(rt->root))) {
		if (errno == ENOENT)
			return 0;
		return bt_error_os(err, "listing containers in %s", rt->root);
	}
	while ((de = readdir(d))) {
		char *state;

		if (de->d_name[0] == '.' || bt_rt_id_check(de->d_name, NULL) < 0)
			continue;
		if (!(state = bt_strdup_printf("%s/%s/state.json", rt->root, de->d_name)))
			continue;
		if (access(state, F_OK) == 0 && bt_strv_add(&v, strdup(de->d_name)) < 0) {
			free(state);
			closedir(d);
			bt_strv_free(v.v, v.n);
			return bt_error_set(err, BERTH_ENOMEM, 0, "listing containers: out of memory");
		}
		free(state);
	}
	closedir(d);
	if (v.n)
		qsort(v.v, v.n, sizeof(char *), cmp_str);
	*ids = v.v;
	*count = v.n;
	return 0;
}

int berth_runtime_update(berth_runtime *rt, const char *id, const char *resources_json,
			   berth_error **err)
{
	bt_rt_state st;
	berth_cgroup *cg = NULL;
	int rc;

	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0)
		return bt_error_wrap(err, rc, "updating container %s", id);
	if ((rc = bt_rt_state_cgroup(rt, &st, id, &cg, err)) < 0 ||
	    (rc = berth_cgroup_set_resources(cg, resources_json, err)) < 0)
		rc = bt_error_wrap(err, rc, "updating container %s", id);
	berth_cgroup_free(cg);
	bt_rt_state_close(&st, false);
	return rc;
}

/* ---- exec ------------------------------------------------------------------- */

/* exec's process object parsed and checked. */
static int exec_process(const char *id, const char *process_json, bt_rt_process *proc,
			berth_error **err)
{
	json_t *pj = NULL;
	int rc;

	if ((rc = bt_json_parse(process_json, strlen(process_json), "process", &pj, err)) < 0)
		return bt_error_wrap(err, rc, "executing in container %s", id);
	rc = bt_rt_process_parse(pj, "process", proc, err);
	json_decref(pj);
	if (rc < 0)
		return bt_error_wrap(err, rc, "executing in container %s", id);
	if ((rc = bt_rt_rlimits_check(proc, err)) < 0) {
		bt_rt_process_clear(proc);
		return bt_error_wrap(err, rc, "executing in container %s", id);
	}
	return 0;
}

int berth_runtime_exec(berth_runtime *rt, const char *id, const char *process_json,
		       const berth_runtime_exec_opts *opts, berth_runtime_process **out,
		       berth_error **err)
{
	berth_runtime_exec_opts o = BERTH_RUNTIME_EXEC_OPTS_INIT;
	bt_rt_seccomp seccomp = { 0 };
	bt_rt_state st;
	bt_rt_process proc;
	bt_rt_spawn sp = { 0 };
	bt_rt_io io = { -1, -1 };
	berth_cgroup *cg = NULL;
	json_t *sc, *b;
	const char *status;
	int pid = -1, pidfd = -1, pty = -1, rc;

	if (out)
		*out = NULL;
	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_runtime_exec_opts", err)) < 0 ||
	    (rc = exec_process(id, process_json, &proc, err)) < 0)
		return rc;
	if ((rc = bt_rt_state_open(rt, id, &st, err)) < 0) {
		bt_rt_process_clear(&proc);
		return bt_error_wrap(err, rc, "executing in container %s", id);
	}
	b = json_object_get(st.json, "berth");
	status = bt_rt_state_status(&st);
	if (strcmp(status, "running") && strcmp(status, "created")) {
		rc = bt_error_set(err, BERTH_ESTATE, 0, "executing in container %s: it is %s", id, status);
		goto out;
	}
	/* the container's seccomp filter applies to what runs in it later too */
	if ((rc = bt_rt_io_prepare(&io, proc.terminal,
				   &(bt_rt_io_opts){ o.console_socket, o.stdio, o.fds, o.nfds, o.preserve_fds },
				   err)) < 0 ||
	    ((sc = json_object_get(b, "seccomp")) && (rc = bt_rt_seccomp_get(rt, sc, &seccomp, err)) < 0))
		goto out;
	if (bt_rt_state_cgroup(rt, &st, id, &cg, NULL) < 0)
		cg = NULL;
	sp.proc = &proc;
	sp.init_pid = bt_rt_state_pid(&st);
	sp.console_fd = io.console;
	sp.fifo_fd = -1;
	sp.preserve_fds = o.preserve_fds;
	sp.lock_fd = st.lock_fd;
	sp.seccomp = &seccomp;
	sp.cgroup = cg;
	sp.stdio = o.stdio;
	sp.fds = o.fds;
	sp.nfds = o.nfds;
	/* a new keyring for each process, as for the init, unless create said no */
	sp.keyring = json_is_true(json_object_get(b, "noNewKeyring")) ? NULL : id;
	if ((rc = bt_rt_spawn_run(rt, &sp, &pid, &pidfd, NULL, NULL, err)) < 0 ||
	    (rc = bt_rt_io_pty(&io, &pty, err)) < 0 ||
	    (o.pid_file && (rc = write_pid_file(o.pid_file, pid, err)) < 0) ||
	    (out && (rc = bt_rt_process_new(rt, id, false, pid, pidfd, pty, out, err)) < 0))
		goto out;
	if (out)
		pidfd = pty = -1;
out:
	if (rc < 0)
		rc = bt_error_wrap(err, rc, "executing in container %s", id);
	if (pidfd >= 0)
		close(pidfd);
	if (pty >= 0)
		close(pty);
	bt_rt_io_clear(&io);
	free(seccomp.bpf);
	berth_cgroup_free(cg);
	bt_rt_state_close(&st, false);
	bt_rt_process_clear(&proc);
	return rc;
}
