/* The engine's records on disk: ids, names, locks, state. */
#include "container-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <berth/image.h>
#include <berth/storage.h>
#include <berth/volume.h>

#define RECORD_MAX (4 << 20)

int bt_ct_root(const berth_ctx *ctx, char **out, berth_error **err)
{
	char *croot = bt_strdup_printf("%s/containers", ctx->root);
	char *names = croot ? bt_strdup_printf("%s/names", croot) : NULL;
	int rc;

	*out = NULL;
	if (!names)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else
		rc = bt_mkdir_p(names, 0700, err);
	free(names);
	if (rc < 0)
		free(croot);
	else
		*out = croot;
	return rc;
}

int bt_ct_new_id(char id[65], berth_error **err)
{
	unsigned char raw[32];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return bt_error_os(err, "getrandom");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

int bt_ct_lock_global(const char *croot, int *fd, berth_error **err)
{
	char *path = bt_strdup_printf("%s/.lock", croot);
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, fd, err);
	free(path);
	return rc;
}

static bool is_hex_id(const char *s)
{
	size_t n = strlen(s);

	if (n != 64)
		return false;
	return strspn(s, "0123456789abcdef") == n;
}

/* The id a name links to, in id (65 bytes); 0, or ENOTFOUND. */
static int name_lookup(const char *croot, const char *name, char id[65])
{
	char path[PATH_MAX], target[128];
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/names/%s", croot, name) >= (int)sizeof(path))
		return BERTH_ENOTFOUND;
	n = readlink(path, target, sizeof(target) - 1);
	if (n != 64)
		return BERTH_ENOTFOUND;
	target[n] = '\0';
	if (!is_hex_id(target))
		return BERTH_ENOTFOUND;
	memcpy(id, target, 65);
	return 0;
}

int bt_ct_name_reserve(const char *croot, const char *name, const char *id, berth_error **err)
{
	char path[PATH_MAX], holder[65];

	if (snprintf(path, sizeof(path), "%s/names/%s", croot, name) >= (int)sizeof(path))
		return bt_error_set(err, BERTH_EINVAL, 0, "container name \"%s\" is too long", name);
	if (symlink(id, path) == 0)
		return 0;
	if (errno != EEXIST)
		return bt_error_os(err, "reserving the container name \"%s\"", name);
	if (name_lookup(croot, name, holder) == 0) {
		char *dir = bt_strdup_printf("%s/%s", croot, holder);
		bool live = dir && access(dir, F_OK) == 0;

		free(dir);
		if (live)
			return bt_error_set(err, BERTH_EEXISTS, 0,
					    "the container name \"/%s\" is already in use by container "
					    "\"%s\". You have to remove (or rename) that container to be "
					    "able to reuse that name.", name, holder);
	}
	/* a name left by a container that is gone (a crash between its
	 * removal and the name's): take it over */
	if (unlink(path) < 0 || symlink(id, path) < 0)
		return bt_error_os(err, "reserving the container name \"%s\"", name);
	return 0;
}

void bt_ct_name_release(const char *croot, const char *name, const char *id)
{
	char path[PATH_MAX], holder[65];

	if (snprintf(path, sizeof(path), "%s/names/%s", croot, name) >= (int)sizeof(path))
		return;
	if (name_lookup(croot, name, holder) == 0 && !strcmp(holder, id))
		unlink(path);
}

/* Resolves what a user typed: a whole id, a name, then a unique prefix. */
static int resolve(const char *croot, const char *name, char id[65], berth_error **err)
{
	DIR *d;
	struct dirent *e;
	int found = 0;
	size_t n = strlen(name);

	if (!n || strchr(name, '/'))
		return bt_error_set(err, BERTH_ENOTFOUND, 0, "No such container: %s", name);
	if (is_hex_id(name)) {
		memcpy(id, name, 65);
		return 0;
	}
	if (name_lookup(croot, name, id) == 0)
		return 0;
	if (strspn(name, "0123456789abcdef") != n || !(d = opendir(croot)))
		return bt_error_set(err, BERTH_ENOTFOUND, 0, "No such container: %s", name);
	while ((e = readdir(d))) {
		if (!is_hex_id(e->d_name) || strncmp(e->d_name, name, n))
			continue;
		if (found++) {
			closedir(d);
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "multiple containers found with provided prefix: %s", name);
		}
		memcpy(id, e->d_name, 65);
	}
	closedir(d);
	return found ? 0 : bt_error_set(err, BERTH_ENOTFOUND, 0, "No such container: %s", name);
}

static int load_record(struct bt_ct *ct, const char *file, json_t **out, berth_error **err)
{
	char *path = bt_strdup_printf("%s/%s", ct->dir, file);
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_json_load_file(path, RECORD_MAX, out, err);
	if (rc == 0 && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: not a JSON object", path);
	}
	if (rc < 0 && rc != BERTH_ENOMEM)
		rc = bt_error_wrap(err, BERTH_EINVAL, "container %.12s has a damaged record", ct->id);
	free(path);
	return rc;
}

/* state.json is written without fsync: after a power loss it may be
 * empty, which reads as an end that nothing recorded (exit code -1, as a
 * killed monitor leaves); anything else unreadable is damage. */
static int load_state(struct bt_ct *ct, berth_error **err)
{
	char *path = bt_strdup_printf("%s/state.json", ct->dir);
	struct stat st;
	int empty;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	empty = stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
	free(path);
	if (!empty)
		return load_record(ct, "state.json", &ct->state, err);
	if (!(ct->state = json_pack("{s:s, s:i, s:i}", "Status", "exited", "Pid", 0, "ExitCode", -1)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return 0;
}

int bt_ct_open(berth_ctx *ctx, const char *name, struct bt_ct **out, berth_error **err)
{
	struct bt_ct *ct;
	char *croot, *lock = NULL;
	int rc;

	if ((rc = bt_ct_root(ctx, &croot, err)) < 0)
		return rc;
	if (!(ct = calloc(1, sizeof(*ct)))) {
		free(croot);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	ct->lock_fd = -1;
	if ((rc = resolve(croot, name, ct->id, err)) < 0)
		goto fail;
	if (!(ct->dir = bt_strdup_printf("%s/%s", croot, ct->id)) ||
	    !(lock = bt_strdup_printf("%s/lock", ct->dir))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto fail;
	}
	/* NOCREATE: a container being removed is not brought back by its lock */
	rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE | BT_LOCK_NOCREATE, &ct->lock_fd, err);
	if (rc == BERTH_ENOTFOUND) {
		bt_error_clear(err);
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "No such container: %s", name);
	}
	if (rc < 0 || (rc = load_record(ct, "container.json", &ct->config, err)) < 0 ||
	    (rc = load_state(ct, err)) < 0)
		goto fail;
	free(lock);
	free(croot);
	*out = ct;
	return 0;
fail:
	free(lock);
	free(croot);
	bt_ct_close(ct);
	return rc;
}

int bt_ct_save_state(struct bt_ct *ct, berth_error **err)
{
	char *path = bt_strdup_printf("%s/state.json", ct->dir);
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	/* volatile: what it says lives no longer than a crash of the machine,
	 * and an empty one reads as an end nothing recorded (bt_ct_open) */
	rc = bt_json_write_volatile(path, ct->state, err);
	free(path);
	return rc;
}

void bt_ct_close(struct bt_ct *ct)
{
	if (!ct)
		return;
	if (ct->lock_fd >= 0)
		bt_lock_release(ct->lock_fd);
	json_decref(ct->config);
	json_decref(ct->state);
	free(ct->dir);
	free(ct);
}

unsigned long long bt_ct_proc_start_time(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: fields count from
	 * the last ')' */
	if (!(p = strrchr(buf, ')')))
		return 0;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

int bt_ct_monitor_pidfd(const json_t *state)
{
	json_int_t pid = json_integer_value(json_object_get(state, "MonitorPid"));
	unsigned long long start = json_integer_value(json_object_get(state, "MonitorStartTime"));
	int fd;

	if (pid <= 0 || pid > INT_MAX)
		return -1;
	if ((fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) < 0)
		return -1;
	/* the pidfd pins the process: its start time checked after opening it
	 * tells a reused pid apart */
	if (bt_ct_proc_start_time((int)pid) != start) {
		close(fd);
		return -1;
	}
	return fd;
}

bool bt_ct_live(const char *status)
{
	return !strcmp(status, "running") || !strcmp(status, "paused") || !strcmp(status, "restarting");
}

const char *bt_ct_status(struct bt_ct *ct)
{
	const char *status = json_string_value(json_object_get(ct->state, "Status"));
	int fd;

	if (!status)
		return "dead";
	if (!bt_ct_live(status))
		return status;
	if ((fd = bt_ct_monitor_pidfd(ct->state)) >= 0) {
		close(fd);
		return status;
	}
	/* its monitor died without recording the end (killed, or the machine
	 * went down): nothing knows how the container ended */
	json_object_set_new(ct->state, "Status", json_string("exited"));
	json_object_set_new(ct->state, "ExitCode", json_integer(-1));
	json_object_set_new(ct->state, "Pid", json_integer(0));
	json_object_set_new(ct->state, "Error", json_string("its monitor ended before the container"));
	json_object_set_new(ct->state, "FinishedAt", json_string(""));
	bt_ct_save_state(ct, NULL);
	return "exited";
}

int berth_container_ids(berth_ctx *ctx, char ***ids, size_t *count, berth_error **err)
{
	struct bt_strv v = { 0 };
	char *croot;
	DIR *d;
	struct dirent *e;
	int rc;

	*ids = NULL;
	*count = 0;
	if ((rc = bt_ct_root(ctx, &croot, err)) < 0)
		return rc;
	if (!(d = opendir(croot))) {
		rc = bt_error_os(err, "reading %s", croot);
		free(croot);
		return rc;
	}
	while ((e = readdir(d))) {
		if (is_hex_id(e->d_name) && bt_strv_add(&v, strdup(e->d_name)) < 0) {
			closedir(d);
			free(croot);
			bt_strv_free(v.v, v.n);
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
	}
	closedir(d);
	free(croot);
	*ids = v.v;
	*count = v.n;
	return 0;
}

void berth_container_ids_free(char **ids, size_t count)
{
	bt_strv_free(ids, count);
}

/* Whether the creator of temp dir path is gone: its lock is free. */
static bool abandoned(const char *path)
{
	char *lock = bt_strdup_printf("%s/lock", path);
	int fd = -1, rc;

	if (!lock)
		return false;
	rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE | BT_LOCK_NOWAIT | BT_LOCK_NOCREATE, &fd, NULL);
	free(lock);
	bt_lock_release(fd);
	/* no lock file: killed between mkdir and the lock's creation */
	return rc == 0 || rc == BERTH_ENOTFOUND;
}

/* Names whose container is gone and not being made (a killed remove, or a
 * killed create whose temp dir the sweep took). */
static void sweep_names(const char *croot)
{
	char *names = bt_strdup_printf("%s/names", croot), id[65];
	DIR *d = names ? opendir(names) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char dir[PATH_MAX], tmp[PATH_MAX];

		if (e->d_name[0] == '.' || name_lookup(croot, e->d_name, id) < 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", croot, id);
		snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", croot, id);
		if (access(dir, F_OK) < 0 && access(tmp, F_OK) < 0)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	free(names);
}

/* Whether holder is the engine's, for a container that neither exists
 * nor is being made (a killed create after its hold, a killed remove). */
static bool holder_gone(const char *croot, const char *holder)
{
	size_t plen = strlen(BT_CT_HOLDER);
	const char *id = holder + plen;
	char dir[PATH_MAX], tmp[PATH_MAX];

	if (strncmp(holder, BT_CT_HOLDER, plen) || !is_hex_id(id))
		return false;
	snprintf(dir, sizeof(dir), "%s/%s", croot, id);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", croot, id);
	return access(dir, F_OK) < 0 && access(tmp, F_OK) < 0;
}

/* The engine's holds on images of containers that are gone. */
static void sweep_holds(berth_ctx *ctx, const char *croot)
{
	berth_image_holds *h = NULL;

	if (berth_image_holds_new(ctx, NULL, &h, NULL) < 0)
		return;
	for (size_t i = 0; i < berth_image_holds_count(h); i++) {
		const char *holder = berth_image_holds_holder(h, i);

		if (holder_gone(croot, holder)) {
			bt_log_info(ctx, "container", "dropping %s's hold on %s: the container is gone", holder,
				    berth_image_holds_digest(h, i));
			berth_image_release(ctx, berth_image_holds_digest(h, i), holder, NULL);
		}
	}
	berth_image_holds_free(h);
}

/* The same for the engine's holds on volumes. */
static void sweep_volume_holds(berth_ctx *ctx, const char *croot)
{
	char **names = NULL, **holders;
	size_t n = 0, nh;

	if (berth_volume_list(ctx, NULL, &names, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (berth_volume_holders(ctx, names[i], &holders, &nh, NULL) < 0)
			continue;
		for (size_t k = 0; k < nh; k++)
			if (holder_gone(croot, holders[k])) {
				bt_log_info(ctx, "container", "dropping %s's hold on volume %s: the container is gone",
					    holders[k], names[i]);
				berth_volume_release(ctx, names[i], holders[k], NULL);
			}
		berth_volume_names_free(holders, nh);
	}
	berth_volume_names_free(names, n);
}

void bt_ct_sweep(berth_ctx *ctx, const char *croot)
{
	DIR *d = opendir(croot);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		bool tmp = !strncmp(e->d_name, ".tmp-", 5), trash = !strncmp(e->d_name, ".trash-", 7);
		const char *id = e->d_name + (tmp ? 5 : 7);
		char *path;

		if ((!tmp && !trash) || !is_hex_id(id) || !(path = bt_strdup_printf("%s/%s", croot, e->d_name)))
			continue;
		/* a trash dir is the rest of a remove: nothing waits for it */
		if (trash || abandoned(path)) {
			bt_log_info(ctx, "container", "removing %s, left by a killed %s", path,
				    tmp ? "create" : "remove");
			if (tmp)
				berth_snapshot_remove(ctx, id, NULL);
			bt_rm_rf(path, NULL);
		}
		free(path);
	}
	if (d)
		closedir(d);
	sweep_names(croot);
	sweep_holds(ctx, croot);
	sweep_volume_holds(ctx, croot);
}
