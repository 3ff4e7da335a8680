/* Container state on disk: <root>/<id>/ holds state.json (written
 * atomically, by rename), a lock file every operation on the container takes, and
 * exec.fifo between create and start. The status is derived, never stored:
 * the init pid with its start time (so a reused pid is not mistaken for the
 * container), whether exec.fifo still exists, and the paused mark. */
#define _GNU_SOURCE
#include "runtime-internal.h"
#include "../cgroup/cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int bt_rt_id_check(const char *id, berth_error **err)
{
	size_t len = id ? strlen(id) : 0;

	if (!len || len > 1024)
		return bt_error_set(err, BERTH_EINVAL, 0, "container id: must be 1 to 1024 characters");
	if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len ||
	    id[0] == '.' || id[0] == '-')
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "container id \"%s\": only letters, digits, '_', '.' and '-' are allowed, not first '.' or '-'",
				    id);
	return 0;
}

static int state_lock(bt_rt_state *st, int flags, berth_error **err)
{
	char *lock = bt_strdup_printf("%s/lock", st->dir);
	int rc;

	if (!lock)
		return bt_error_set(err, BERTH_ENOMEM, 0, "locking %s: out of memory", st->dir);
	rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE | flags, &st->lock_fd, err);
	free(lock);
	return rc;
}

/* A new directory .new-XXXXXX in root with its lock file made and held;
 * one a sweep removed before the lock was made is made again. */
static int new_locked_dir(const char *root, bt_rt_state *st, berth_error **err)
{
	for (int tries = 0; tries < 3; tries++) {
		int rc;

		free(st->dir);
		if (!(st->dir = bt_strdup_printf("%s/.new-XXXXXX", root)))
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		if (!mkdtemp(st->dir))
			return bt_error_os(err, "creating a directory in %s", root);
		if ((rc = state_lock(st, 0, err)) == 0 || access(st->dir, F_OK) == 0)
			return rc;
		if (err) {
			berth_error_free(*err);
			*err = NULL;
		}
	}
	return bt_error_set(err, BERTH_EBUSY, 0, "creating a directory in %s: removed as soon as made", root);
}

int bt_rt_state_new(berth_runtime *rt, const char *id, bt_rt_state *st, berth_error **err)
{
	char *dir;
	int rc;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if ((rc = bt_rt_id_check(id, err)) < 0)
		return rc;
	if ((rc = bt_mkdir_p(rt->root, 0700, err)) < 0)
		return rc;
	if (!(dir = bt_strdup_printf("%s/%s", rt->root, id)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "creating container %s: out of memory", id);
	/* made with its lock and renamed into place: <root>/<id> never exists
	 * without its lock file, so a sweep can tell a create in progress
	 * (locked) from one that died (not locked) */
	if ((rc = new_locked_dir(rt->root, st, err)) == 0 && access(dir, F_OK) == 0)
		rc = bt_error_set(err, BERTH_EEXISTS, EEXIST, "container %s exists already", id);
	else if (rc == 0 && rename(st->dir, dir) < 0)
		rc = errno == EEXIST || errno == ENOTEMPTY
			     ? bt_error_set(err, BERTH_EEXISTS, EEXIST, "container %s exists already", id)
			     : bt_error_os(err, "creating %s", dir);
	if (rc < 0) {
		free(dir);
		bt_rt_state_close(st, true);
		return rc;
	}
	free(st->dir);
	st->dir = dir;
	if (!(st->json = json_object())) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "creating container %s: out of memory", id);
		bt_rt_state_close(st, true);
	}
	return rc;
}

int bt_rt_state_open(berth_runtime *rt, const char *id, bt_rt_state *st, berth_error **err)
{
	char *file;
	int rc;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if ((rc = bt_rt_id_check(id, err)) < 0)
		return rc;
	if (!(st->dir = bt_strdup_printf("%s/%s", rt->root, id)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "opening container %s: out of memory", id);
	if (access(st->dir, F_OK) < 0) {
		rc = errno == ENOENT ? bt_error_set(err, BERTH_ENOTFOUND, ENOENT, "container %s does not exist", id)
				     : bt_error_os(err, "opening %s", st->dir);
		bt_rt_state_close(st, false);
		return rc;
	}
	/* no lock file: being deleted (or a create that died before it): gone */
	if ((rc = state_lock(st, BT_LOCK_NOCREATE, err)) < 0) {
		if (rc == BERTH_ENOTFOUND)
			rc = bt_error_set(err, BERTH_ENOTFOUND, ENOENT, "container %s does not exist", id);
		bt_rt_state_close(st, false);
		return rc;
	}
	if (!(file = bt_strdup_printf("%s/state.json", st->dir))) {
		bt_rt_state_close(st, false);
		return bt_error_set(err, BERTH_ENOMEM, 0, "opening container %s: out of memory", id);
	}
	rc = bt_json_load_file(file, 16 << 20, &st->json, err);
	free(file);
	if (rc < 0) {
		/* a directory without state.json is a create that died half-way */
		if (rc == BERTH_ENOTFOUND)
			rc = bt_error_set(err, BERTH_ENOTFOUND, ENOENT, "container %s does not exist", id);
		else
			rc = bt_error_wrap(err, rc, "loading the state of container %s", id);
		bt_rt_state_close(st, false);
	}
	return rc;
}

int bt_rt_state_save(bt_rt_state *st, berth_error **err)
{
	char *file = bt_strdup_printf("%s/state.json", st->dir);
	char *text = json_dumps(st->json, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!file || !text)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "saving %s: out of memory", st->dir);
	else
		rc = bt_write_file_volatile(file, text, strlen(text), 0644, err);
	free(file);
	free(text);
	return rc;
}

void bt_rt_state_close(bt_rt_state *st, bool remove)
{
	if (remove && st->dir)
		bt_rm_rf(st->dir, NULL);
	if (st->lock_fd >= 0)
		bt_lock_release(st->lock_fd);
	json_decref(st->json);
	free(st->dir);
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
}

/* /proc/<pid>/<file> into buf, NUL-terminated; false when the process is gone. */
static bool read_proc(int pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* From /proc/<pid>/stat: the state letter, the flags and the start time;
 * false when the process is gone. */
static bool proc_stat(int pid, char *state, unsigned long *flags, unsigned long long *start)
{
	char buf[1024], *p;

	if (!read_proc(pid, "stat", buf, sizeof(buf)))
		return false;
	/* the command name may hold spaces and parentheses: fields start after the last ')' */
	if (!(p = strrchr(buf, ')')) || p[1] != ' ')
		return false;
	p += 2;
	*state = *p;
	*flags = 0;
	*start = 0;
	for (int field = 3; field < 22 && p; field++) {
		if ((p = strchr(p, ' ')))
			p++;
		if (p && field == 8)
			*flags = strtoul(p, NULL, 10);
	}
	if (p)
		*start = strtoull(p, NULL, 10);
	return true;
}

/* The cgroup a create is about to make, noted before it makes it: a create
 * killed before state.json leaves this for whoever removes its remains. */
int bt_rt_state_note_cgroup(bt_rt_state *st, const char *cgroups_path, bool made,
			    berth_error **err)
{
	json_t *j = json_pack("{s:s?, s:b}", "cgroupsPath", cgroups_path, "made", made);
	char *file = bt_strdup_printf("%s/cgroup.json", st->dir);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int rc;

	if (!file || !text)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "saving %s: out of memory", st->dir);
	else
		rc = bt_write_file_volatile(file, text, strlen(text), 0644, err);
	json_decref(j);
	free(file);
	free(text);
	return rc;
}

void bt_rt_state_noted_cgroup_remove(berth_runtime *rt, const char *dir, const char *id)
{
	char *file = bt_strdup_printf("%s/cgroup.json", dir);
	json_t *j = NULL, *path;
	berth_cgroup *cg = NULL;

	if (file && bt_json_load_file(file, 1 << 16, &j, NULL) == 0 &&
	    json_is_true(json_object_get(j, "made")) &&
	    bt_cgroup_open_existing(rt->ctx, json_string_value(path = json_object_get(j, "cgroupsPath")), id,
				    &cg, NULL) == 0) {
		/* the killed create's process, if it got that far, and its cgroup */
		berth_cgroup_kill(cg, NULL);
		berth_cgroup_remove(cg, NULL);
		berth_cgroup_free(cg);
	}
	json_decref(j);
	free(file);
}

unsigned long long bt_rt_proc_starttime(int pid)
{
	unsigned long long start;
	unsigned long flags;
	char state;

	if (!proc_stat(pid, &state, &flags, &start) || state == 'Z' || state == 'X')
		return 0;
	return start;
}

bool bt_rt_proc_dying(int pid)
{
	unsigned long long start;
	unsigned long flags;
	char state, buf[4096], *p;

	if (!proc_stat(pid, &state, &flags, &start))
		return false;
	if (flags & 0x4) /* PF_EXITING */
		return true;
	/* SIGKILL queued but not yet acted on */
	if (!read_proc(pid, "status", buf, sizeof(buf)))
		return false;
	for (const char *key = "SigPnd:"; key; key = !strcmp(key, "SigPnd:") ? "ShdPnd:" : NULL)
		if ((p = strstr(buf, key)) && (strtoull(p + strlen(key), NULL, 16) & (1ULL << (SIGKILL - 1))))
			return true;
	return false;
}

int bt_rt_state_pid(const bt_rt_state *st)
{
	return (int)json_integer_value(json_object_get(st->json, "pid"));
}

const char *bt_rt_state_status(const bt_rt_state *st)
{
	json_t *berth = json_object_get(st->json, "berth");
	unsigned long long want = (unsigned long long)json_integer_value(json_object_get(berth, "starttime"));
	int pid = bt_rt_state_pid(st);
	char fifo[4200];

	if (pid <= 0 || !want || bt_rt_proc_starttime(pid) != want)
		return "stopped";
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	if (access(fifo, F_OK) == 0)
		return "created";
	if (json_is_true(json_object_get(berth, "paused")))
		return "paused";
	return "running";
}

char *bt_rt_state_spec_json(const bt_rt_state *st, const char *status)
{
	json_t *out = json_object(), *v;
	const char *keys[] = { "ociVersion", "id", "bundle", "rootfs", "created", "owner" };
	char *text;

	if (!out)
		return NULL;
	for (size_t i = 0; i < BT_ARRAY_SIZE(keys); i++)
		if ((v = json_object_get(st->json, keys[i])))
			json_object_set(out, keys[i], v);
	json_object_set_new(out, "status", json_string(status));
	/* the spec: pid is present while the process exists */
	json_object_set_new(out, "pid", json_integer(strcmp(status, "stopped") ? bt_rt_state_pid(st) : 0));
	if ((v = json_object_get(st->json, "annotations")))
		json_object_set(out, "annotations", v);
	/* beyond the spec (which allows more members): how the init ended,
	 * once its waiter recorded it */
	if (!strcmp(status, "stopped") && (v = json_object_get(json_object_get(st->json, "berth"), "exit")))
		json_object_set(out, "exit", v);
	text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(out);
	return text;
}
