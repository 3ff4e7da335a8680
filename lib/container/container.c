/* The engine's calls: a container from an image, and its life. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <berth/image.h>
#include <berth/runtime.h>
#include <berth/storage.h>

/* How long start waits for the monitor to report the container running:
 * longer than the runtime's own limits on each step of a create. */
#define START_DEADLINE_MS (180 * 1000)
/* How long an ended container's monitor may take to record it. */
#define RECORD_DEADLINE_MS (10 * 1000)

extern char **environ;

bool bt_ct_valid_name(const char *n)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	if (*n == '/')
		n++;
	return *n && strchr(first, *n) && strlen(n) < 128 &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(n);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- create --------------------------------------------------------------- */

struct create {
	berth_ctx *ctx;
	const char *image;
	berth_container_create_opts o;
	char id[65];
	char *croot, *tmp, *dir, *rootfs;
	const char *name;
	char short_name[13]; /* the id's first 12: name and hostname unless given */
	int tmp_lock;        /* held on the temp dir while it is made */
	char *held;          /* the manifest digest the container holds */
	json_t *record;      /* container.json once built: the volumes it holds */
	bool snapshot, named;
};

static int write_record(const char *dir, const char *name, const json_t *json, bool durable,
			berth_error **err)
{
	char *path = bt_strdup_printf("%s/%s", dir, name);
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = durable ? bt_json_write_atomic(path, json, err) : bt_json_write_volatile(path, json, err);
	free(path);
	return rc;
}

/* Writes the records into the temp dir: state.json (volatile: a crash ends
 * the container anyway, and an empty one reads as "ended, nothing
 * recorded"), config.json (the bundle), then container.json, whose fsync of
 * the directory makes every name in it durable; and the lock. */
static int create_records(struct create *c, berth_image *img, berth_error **err)
{
	json_t *record, *spec = NULL, *state = NULL;
	char *created = bt_now_rfc3339(), *path = NULL, *name = bt_strdup_printf("/%s", c->name);
	int rc, fd;

	record = json_pack("{s:s, s:s?, s:s?, s:s, s:{s:s}}", "Id", c->id, "Name", name, "Created",
			   created, "Image", berth_image_id(img), "Config", "Image", c->image);
	free(created);
	free(name);
	if (!record)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_ct_spec_build(c->ctx, c->id, c->dir, c->rootfs, berth_image_config_json(img), &c->o,
				   record, &spec, err)) < 0)
		goto out;
	c->record = json_incref(record);
	json_object_set_new(record, "LogPath", json_sprintf("%s/%s-json.log", c->dir, c->id));
	json_object_set_new(record, "ImageManifest", json_string(c->held));
	state = json_pack("{s:s, s:i, s:i}", "Status", "created", "Pid", 0, "ExitCode", 0);
	if ((rc = write_record(c->tmp, "state.json", state, false, err)) < 0 ||
	    (rc = write_record(c->tmp, "config.json", spec, true, err)) < 0 ||
	    (rc = write_record(c->tmp, "container.json", record, true, err)) < 0)
		goto out;
	if (!(path = bt_strdup_printf("%s/lock", c->tmp)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0)
		rc = bt_error_os(err, "creating %s", path);
	else
		close(fd);
out:
	free(path);
	json_decref(state);
	json_decref(spec);
	json_decref(record);
	return rc;
}

/* Undoes what a failed create made, in the reverse order. */
static void create_undo(struct create *c)
{
	if (c->held) {
		char holder[128];

		snprintf(holder, sizeof(holder), BT_CT_HOLDER "%s", c->id);
		berth_image_release(c->ctx, c->held, holder, NULL);
	}
	if (c->record)
		bt_ct_mounts_release(c->ctx, c->id, c->record, true);
	if (c->snapshot)
		berth_snapshot_remove(c->ctx, c->id, NULL);
	if (c->tmp)
		bt_rm_rf(c->tmp, NULL);
	if (c->named)
		bt_ct_name_release(c->croot, c->name, c->id);
}

/* Under the global lock: sweeps what killed creates and removes left, makes
 * the temp dir and locks it, then reserves the name. In this order a sweep
 * never takes the name of a create still running (its temp dir is locked). */
static int reserve(struct create *c, berth_error **err)
{
	char *lockpath = bt_strdup_printf("%s/lock", c->tmp);
	int rc, lock;

	if (!lockpath)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_ct_lock_global(c->croot, &lock, err)) < 0) {
		free(lockpath);
		return rc;
	}
	bt_ct_sweep(c->ctx, c->croot);
	if (mkdir(c->tmp, 0700) < 0)
		rc = bt_error_os(err, "creating %s", c->tmp);
	else if ((rc = bt_lock_acquire(lockpath, BT_LOCK_EXCLUSIVE, &c->tmp_lock, err)) == 0 &&
		 (rc = bt_ct_name_reserve(c->croot, c->name, c->id, err)) == 0)
		c->named = true;
	bt_lock_release(lock);
	free(lockpath);
	return rc;
}

/* The engine's hold on the image (berth_image_hold), so rmi refuses while
 * the container exists, naming it; taken with the temp dir locked, so a
 * sweep never takes it for a killed create's. */
static int hold_image(struct create *c, berth_image *img, berth_error **err)
{
	char holder[128];
	int rc;

	snprintf(holder, sizeof(holder), BT_CT_HOLDER "%s", c->id);
	if ((rc = berth_image_hold(c->ctx, berth_image_digest(img), holder, &c->held, err)) < 0)
		return rc;
	return 0;
}

static int create_in(struct create *c, berth_error **err)
{
	berth_image *img = NULL;
	char ns[16] = "";
	struct bt_ct_etc etc = { .host_net = c->o.network && !strcmp(c->o.network, "host"), .dns = c->o.dns,
				 .dns_search = c->o.dns_search, .dns_options = c->o.dns_options,
				 .add_hosts = c->o.add_hosts };
	int rc;

	if ((rc = berth_image_lookup(c->ctx, c->image, &img, err)) < 0)
		return rc == BERTH_ENOTFOUND ? bt_error_wrap(err, rc, "Unable to find image '%s' locally", c->image) : rc;
	if ((rc = bt_ct_root(c->ctx, &c->croot, err)) < 0 || (rc = bt_ct_new_id(c->id, err)) < 0)
		goto out;
	snprintf(c->short_name, sizeof(c->short_name), "%.12s", c->id);
	c->name = c->o.name ? (c->o.name[0] == '/' ? c->o.name + 1 : c->o.name) : c->short_name;
	if (!(c->dir = bt_strdup_printf("%s/%s", c->croot, c->id)) ||
	    !(c->tmp = bt_strdup_printf("%s/.tmp-%s", c->croot, c->id))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = reserve(c, err)) < 0 || (rc = hold_image(c, img, err)) < 0)
		goto out;
	/* unpacked for the image, as a pull leaves it: the layers outlive this
	 * container, and the next one from the image does not unpack again */
	if ((rc = berth_storage_unpack(c->ctx, berth_image_id(img), NULL, err)) < 0 ||
	    (rc = berth_snapshot_create(c->ctx, c->id, berth_image_id(img), NULL, err)) < 0)
		goto out;
	c->snapshot = true;
	etc.hostname = c->o.hostname ? c->o.hostname : c->short_name;
	if ((rc = bt_ct_net_nameserver(c->ctx, c->o.network, ns, err)) < 0)
		goto out;
	etc.nameserver = ns[0] ? ns : NULL;
	if ((rc = berth_snapshot_mount(c->ctx, c->id, &c->rootfs, err)) < 0 ||
	    (rc = bt_ct_etc_write(c->tmp, &etc, err)) < 0 ||
	    (rc = create_records(c, img, err)) < 0)
		goto out;
	if (rename(c->tmp, c->dir) < 0) {
		rc = bt_error_os(err, "moving %s into place", c->dir);
		goto out;
	}
	free(c->tmp);
	c->tmp = NULL;
	bt_fsync_dir(c->croot, NULL);
out:
	berth_image_free(img);
	return rc;
}

int berth_container_create(berth_ctx *ctx, const char *image, const berth_container_create_opts *opts,
			   char **id, berth_error **err)
{
	struct create c = { .ctx = ctx, .image = image, .o = BERTH_CONTAINER_CREATE_OPTS_INIT, .tmp_lock = -1 };
	int rc;

	*id = NULL;
	if (!image || !*image)
		return bt_error_set(err, BERTH_EINVAL, 0, "no image given");
	if ((rc = bt_opts_copy(&c.o, sizeof(c.o), opts, "berth_container_create_opts", err)) < 0)
		return rc;
	if (c.o.name && !bt_ct_valid_name(c.o.name))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				    c.o.name);
	rc = create_in(&c, err);
	if (rc < 0) {
		create_undo(&c);
	} else if (!(*id = strdup(c.id))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	} else {
		json_t *what = json_pack("{s:s, s:{s:s}}", "Name", c.name, "Config", "Image", image);

		bt_ct_event(ctx, c.id, "create", what, NULL, NULL);
		json_decref(what);
	}
	bt_lock_release(c.tmp_lock);
	berth_string_free(c.rootfs);
	json_decref(c.record);
	free(c.held);
	free(c.croot);
	free(c.dir);
	free(c.tmp);
	return rc;
}

/* ---- start: a monitor of its own ------------------------------------------- */

/* Reads the monitor's one line ("ok <pid>" or "error <code> <message>")
 * within the deadline. */
static int read_ready(int fd, const char *id, berth_error **err)
{
	char line[4096];
	size_t len = 0;
	long long deadline = now_ms() + START_DEADLINE_MS;

	while (len < sizeof(line) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			return bt_error_set(err, BERTH_ETIMEOUT, 0,
					    "container %.12s: its monitor did not report within %d s", id,
					    START_DEADLINE_MS / 1000);
		if ((r = poll(&p, 1, (int)left)) < 0 && errno != EINTR)
			return bt_error_os(err, "waiting for the monitor");
		if (r <= 0)
			continue;
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(line, '\n', len))
			break;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strncmp(line, "ok ", 3))
		return 0;
	if (!strncmp(line, "error ", 6)) {
		char *msg;
		long code = strtol(line + 6, &msg, 10);

		if (code >= 0 || code < BERTH_ETIMEOUT)
			code = BERTH_ERROR;
		return bt_error_set(err, (int)code, 0, "%s", *msg ? msg + 1 : "the monitor failed");
	}
	return bt_error_set(err, BERTH_ERROR, 0, "container %.12s: its monitor ended without a word", id);
}

static int spawn_monitor(berth_ctx *ctx, const char *id, const int *stdio, bool attach_first,
			 berth_error **err)
{
	char *path = bt_ct_monitor_path();
	char *argv[] = { path, "--root", ctx->root, "--runroot", ctx->runroot,
			 stdio ? "--attached" : attach_first ? "--attach-first" : "--detached", (char *)id, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int ready[2], rc, status;
	pid_t pid;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (pipe2(ready, O_CLOEXEC) < 0) {
		free(path);
		return bt_error_os(err, "pipe");
	}
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++) {
		if (stdio && stdio[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, stdio[i], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
	}
	posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(ready[1]);
	if (rc) {
		/* EOS whatever errno says: ENOTFOUND would read as the
		 * container's command missing (exit 127) */
		rc = bt_error_set(err, BERTH_EOS, rc, "starting the monitor %s: %s", path, strerror(rc));
		close(ready[0]);
		free(path);
		return rc;
	}
	free(path);
	rc = read_ready(ready[0], id, err);
	close(ready[0]);
	/* the monitor forks at once and its first process exits: not our
	 * child to keep (a host that reaps every child may have taken it) */
	waitpid(pid, &status, 0);
	return rc;
}

int berth_container_start(berth_ctx *ctx, const char *name, const berth_container_start_opts *opts,
			  berth_error **err)
{
	berth_container_start_opts o = BERTH_CONTAINER_START_OPTS_INIT;
	struct bt_ct *ct;
	json_t *record;
	char id[65];
	const char *status;
	int rc;

	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_container_start_opts", err)) < 0)
		return rc;
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	status = bt_ct_status(ct);
	if (bt_ct_live(status)) {
		bt_ct_close(ct);
		return bt_error_set(err, BERTH_ESTATE, 0, "container %s is already running", name);
	}
	if ((rc = bt_ct_runopts_refresh(ctx, ct, err)) < 0) {
		bt_ct_close(ct);
		return rc;
	}
	memcpy(id, ct->id, sizeof(id));
	record = json_incref(ct->config);
	/* the monitor takes the lock itself */
	bt_ct_close(ct);
	if ((rc = spawn_monitor(ctx, id, o.stdio, o.attach_first, err)) == 0)
		bt_ct_event(ctx, id, "start", record, NULL, NULL);
	json_decref(record);
	return rc;
}

/* ---- wait, kill, stop ----------------------------------------------------- */

static void exit_from_state(const json_t *state, berth_container_exit *out)
{
	berth_container_exit e = BERTH_CONTAINER_EXIT_INIT;

	e.code = (int)json_integer_value(json_object_get(state, "ExitCode"));
	e.oom_killed = json_is_true(json_object_get(state, "OOMKilled"));
	if (out)
		bt_opts_copy_out(out, &e, sizeof(e));
}

/* Polls fd (a pidfd) until it is readable or until deadline (-1: none). */
static int poll_until(int fd, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline < 0 ? -1 : deadline - now_ms();
		int r;

		if (deadline >= 0 && left <= 0)
			return BERTH_ETIMEOUT;
		r = poll(&p, 1, left > 1 << 30 ? 1 << 30 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return BERTH_EOS;
	}
}

/* How often a waiter for one run of a container with a restart policy
 * looks at its state: the monitor outlives such a run. */
#define RUN_POLL_MS 50

/* Waits for the container to end: for good (its monitor gone), or with
 * per_run for the end of its current run even when its policy restarts it
 * (Docker's wait), seen as "restarting" or a higher RestartCount. */
static int wait_end(berth_ctx *ctx, const char *name, int timeout_ms, bool per_run, berth_container_exit *out,
		    berth_error **err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms, restarts = -1;
	struct bt_ct *ct;
	int rc, fd;

	for (;;) {
		const char *status, *policy;
		long long count, until = deadline;

		if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
			return rc;
		status = bt_ct_status(ct);
		if (!strcmp(status, "created")) {
			bt_ct_close(ct);
			return bt_error_set(err, BERTH_ESTATE, 0, "container %s was never started", name);
		}
		policy = json_string_value(json_object_get(
			json_object_get(json_object_get(ct->config, "HostConfig"), "RestartPolicy"), "Name"));
		count = json_integer_value(json_object_get(ct->state, "RestartCount"));
		if (restarts < 0)
			restarts = count;
		if (!bt_ct_live(status) ||
		    (per_run && (!strcmp(status, "restarting") || count > restarts))) {
			exit_from_state(ct->state, out);
			bt_ct_close(ct);
			return 0;
		}
		if (per_run && policy && strcmp(policy, "no"))
			until = deadline < 0 || now_ms() + RUN_POLL_MS < deadline ? now_ms() + RUN_POLL_MS : deadline;
		/* the monitor outlives the container by the time it takes to
		 * record its end: waiting for the monitor covers both */
		fd = bt_ct_monitor_pidfd(ct->state);
		bt_ct_close(ct);
		if (fd < 0)
			continue; /* gone meanwhile: the next look reports it */
		rc = poll_until(fd, until);
		close(fd);
		if (rc == BERTH_ETIMEOUT && until != deadline)
			continue;
		if (rc == BERTH_ETIMEOUT)
			return bt_error_set(err, BERTH_ETIMEOUT, 0, "container %s still runs after %d ms", name,
					    timeout_ms);
		if (rc < 0)
			return bt_error_os(err, "waiting for container %s", name);
	}
}

int berth_container_wait(berth_ctx *ctx, const char *name, int timeout_ms, berth_container_exit *out,
			 berth_error **err)
{
	return wait_end(ctx, name, timeout_ms, true, out, err);
}

static int runtime_open(berth_ctx *ctx, berth_runtime **rt, berth_error **err)
{
	return berth_runtime_new(ctx, NULL, rt, err);
}

int berth_container_kill(berth_ctx *ctx, const char *name, int sig, berth_error **err)
{
	berth_runtime *rt = NULL;
	struct bt_ct *ct;
	int rc;

	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	if (strcmp(bt_ct_status(ct), "running") && strcmp(bt_ct_status(ct), "paused"))
		rc = bt_error_set(err, BERTH_ESTATE, 0, "container %s is not running", name);
	else if ((rc = runtime_open(ctx, &rt, err)) == 0 &&
		 (rc = berth_runtime_kill(rt, ct->id, sig, 0, err)) == 0 && sig == SIGKILL &&
		 !strcmp(bt_ct_status(ct), "paused") && berth_runtime_resume(rt, ct->id, NULL) == 0) {
		/* a frozen process dies only once thawed (cgroup v1's freezer) */
		json_object_set_new(ct->state, "Status", json_string("running"));
		bt_ct_save_state(ct, NULL);
	}
	if (rc == 0) {
		char signal[16];

		snprintf(signal, sizeof(signal), "%d", sig);
		bt_ct_event(ctx, ct->id, "kill", ct->config, "signal", signal);
	}
	berth_runtime_free(rt);
	bt_ct_close(ct);
	return rc;
}

/* "SIGTERM", "TERM" or "15" as a number; 0 when unknown. */
static int signal_number(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		{ "CONT", SIGCONT }, { "WINCH", SIGWINCH }, { "PWR", SIGPWR }, { "ABRT", SIGABRT },
		{ "ALRM", SIGALRM },
	};
	char *end;
	long n;

	if (!s || !*s)
		return 0;
	n = strtol(s, &end, 10);
	if (!*end)
		return n > 0 && n < NSIG ? (int)n : 0;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < BT_ARRAY_SIZE(names); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].sig;
	return 0;
}

static bool restarting_now(berth_ctx *ctx, const char *name)
{
	struct bt_ct *ct;
	bool r;

	if (bt_ct_open(ctx, name, &ct, NULL) < 0)
		return false;
	r = !strcmp(bt_ct_status(ct), "restarting");
	bt_ct_close(ct);
	return r;
}

int berth_container_stop(berth_ctx *ctx, const char *name, int timeout_s, berth_error **err)
{
	struct bt_ct *ct;
	bool restarting;
	int rc, sig;

	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	sig = signal_number(json_string_value(json_object_get(json_object_get(ct->config, "Config"), "StopSignal")));
	if (timeout_s < 0)
		timeout_s = (int)json_integer_value(json_object_get(json_object_get(ct->config, "Config"), "StopTimeout"));
	restarting = !strcmp(bt_ct_status(ct), "restarting");
	if (bt_ct_live(bt_ct_status(ct))) {
		/* stopped for good: its monitor applies no restart policy now,
		 * and unless-stopped stays stopped at boot */
		json_object_set_new(ct->state, "StopRequested", json_true());
		if ((rc = bt_ct_save_state(ct, err)) < 0) {
			bt_ct_close(ct);
			return rc;
		}
	}
	bt_ct_close(ct);
	/* between two runs: its monitor sees the request within 100 ms */
	if (restarting)
		return wait_end(ctx, name, RECORD_DEADLINE_MS, false, NULL, err);
	if ((rc = berth_container_kill(ctx, name, sig ? sig : SIGTERM, err)) == BERTH_ESTATE && restarting_now(ctx, name)) {
		/* it ended meanwhile and waits to restart: the request holds it */
		bt_error_clear(err);
		return wait_end(ctx, name, RECORD_DEADLINE_MS, false, NULL, err);
	}
	if (rc < 0)
		return rc;
	rc = wait_end(ctx, name, timeout_s * 1000, false, NULL, err);
	if (rc != BERTH_ETIMEOUT)
		return rc;
	bt_error_clear(err);
	/* ESTATE: it ended between the two */
	if ((rc = berth_container_kill(ctx, name, SIGKILL, err)) == BERTH_ESTATE) {
		bt_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	return wait_end(ctx, name, RECORD_DEADLINE_MS, false, NULL, err);
}

/* ---- remove, inspect --------------------------------------------------------- */

/* Drops the container's hold on its image (a record without one, or a hold
 * gone already, is not an error). */
static int release_image(berth_ctx *ctx, struct bt_ct *ct, berth_error **err)
{
	const char *digest = json_string_value(json_object_get(ct->config, "ImageManifest"));
	char holder[128];
	int rc;

	if (!digest)
		return 0;
	snprintf(holder, sizeof(holder), BT_CT_HOLDER "%s", ct->id);
	if ((rc = berth_image_release(ctx, digest, holder, err)) == BERTH_ENOTFOUND) {
		bt_error_clear(err);
		rc = 0;
	}
	return rc;
}

/* Removes what create and start made, once nothing runs: the runtime's
 * leftovers, the snapshot, the name, the directory (renamed away first, so
 * a crash leaves a trash dir, never half a container). */
int bt_ct_remove_locked(berth_ctx *ctx, struct bt_ct *ct, berth_error **err)
{
	berth_runtime *rt = NULL;
	const char *name = json_string_value(json_object_get(ct->config, "Name"));
	char *croot, *trash, *rundir;
	int rc, lock;

	if ((rc = bt_ct_root(ctx, &croot, err)) < 0)
		return rc;
	if ((rc = runtime_open(ctx, &rt, err)) == 0) {
		rc = berth_runtime_delete(rt, ct->id, BERTH_RUNTIME_DELETE_FORCE, err);
		berth_runtime_free(rt);
	}
	if (rc == BERTH_ENOTFOUND) {
		bt_error_clear(err);
		rc = 0;
	}
	if (rc == 0 && (rc = berth_snapshot_remove(ctx, ct->id, err)) == BERTH_ENOTFOUND) {
		bt_error_clear(err);
		rc = 0;
	}
	if (rc == 0)
		rc = release_image(ctx, ct, err);
	if (rc == 0)
		bt_ct_mounts_release(ctx, ct->id, ct->config, ct->remove_volumes);
	if (rc < 0 || (rc = bt_ct_lock_global(croot, &lock, err)) < 0) {
		free(croot);
		return rc;
	}
	if (!(trash = bt_strdup_printf("%s/.trash-%s", croot, ct->id))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	} else if (rename(ct->dir, trash) < 0) {
		rc = bt_error_os(err, "removing %s", ct->dir);
	} else {
		if (name)
			bt_ct_name_release(croot, name[0] == '/' ? name + 1 : name, ct->id);
		rc = bt_rm_rf(trash, err);
		bt_ct_event(ctx, ct->id, "destroy", ct->config, NULL, NULL);
		if ((rundir = bt_ct_run_dir(ctx, ct->id)))
			bt_rm_rf(rundir, NULL);
		free(rundir);
	}
	bt_lock_release(lock);
	free(trash);
	free(croot);
	return rc;
}

int berth_container_remove(berth_ctx *ctx, const char *name, int flags, berth_error **err)
{
	struct bt_ct *ct;
	const char *status;
	int rc;

	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	status = bt_ct_status(ct);
	if (bt_ct_live(status)) {
		if (!(flags & BERTH_CONTAINER_REMOVE_FORCE)) {
			rc = bt_error_set(err, BERTH_ESTATE, 0,
					  "cannot remove container %s: container is running: stop the "
					  "container before removing or force remove", name);
			bt_ct_close(ct);
			return rc;
		}
		/* its monitor must not restart it */
		json_object_set_new(ct->state, "StopRequested", json_true());
		bt_ct_save_state(ct, NULL);
		bt_ct_close(ct);
		if ((rc = berth_container_kill(ctx, name, SIGKILL, err)) < 0 && rc != BERTH_ESTATE)
			return rc;
		bt_error_clear(err);
		if ((rc = wait_end(ctx, name, RECORD_DEADLINE_MS, false, NULL, err)) < 0 ||
		    (rc = bt_ct_open(ctx, name, &ct, err)) < 0)
			return rc;
	}
	ct->remove_volumes = flags & BERTH_CONTAINER_REMOVE_VOLUMES;
	rc = bt_ct_remove_locked(ctx, ct, err);
	bt_ct_close(ct);
	return rc;
}

int berth_container_inspect(berth_ctx *ctx, const char *name, char **json, berth_error **err)
{
	struct bt_ct *ct;
	json_t *out, *state;
	const char *status;
	int rc;

	*json = NULL;
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	status = bt_ct_status(ct);
	out = json_deep_copy(ct->config);
	state = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "Status", status,
			  "Running", bt_ct_live(status), "Paused",
			  !strcmp(status, "paused"), "Restarting", !strcmp(status, "restarting"), "OOMKilled",
			  json_is_true(json_object_get(ct->state, "OOMKilled")), "Dead", !strcmp(status, "dead"),
			  "Pid", json_object_get(ct->state, "Pid"), "ExitCode", json_object_get(ct->state, "ExitCode"),
			  "Error", json_object_get(ct->state, "Error"), "StartedAt",
			  json_object_get(ct->state, "StartedAt"), "FinishedAt",
			  json_object_get(ct->state, "FinishedAt"), "MonitorPid",
			  json_object_get(ct->state, "MonitorPid"));
	if (!out || !state) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	} else {
		json_object_set_new(out, "RestartCount",
				    json_integer(json_integer_value(json_object_get(ct->state, "RestartCount"))));
		if (json_object_get(ct->state, "Health"))
			json_object_set(state, "Health", json_object_get(ct->state, "Health"));
		json_object_set_new(out, "State", state);
		json_object_set_new(out, "NetworkSettings", bt_ct_net_inspect(ct));
		state = NULL;
		if (!(*json = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER)))
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	json_decref(state);
	json_decref(out);
	bt_ct_close(ct);
	return rc;
}
