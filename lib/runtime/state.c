/* Container state on disk: <root>/<id>/ holds state.json (written
 * atomically, by rename), a lock file every operation on the container takes, and
 * exec.fifo between create and start. The status is derived, never stored:
 * the init pid with its start time (so a reused pid is not mistaken for the
 * container), whether exec.fifo still exists, and the paused mark. */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
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

static int state_lock(bt_rt_state *st, berth_error **err)
{
	char *lock = bt_strdup_printf("%s/lock", st->dir);
	int rc;

	if (!lock)
		return bt_error_set(err, BERTH_ENOMEM, 0, "locking %s: out of memory", st->dir);
	rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE, &st->lock_fd, err);
	free(lock);
	return rc;
}

int bt_rt_state_new(berth_runtime *rt, const char *id, bt_rt_state *st, berth_error **err)
{
	int rc;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if ((rc = bt_rt_id_check(id, err)) < 0)
		return rc;
	if ((rc = bt_mkdir_p(rt->root, 0700, err)) < 0)
		return rc;
	if (!(st->dir = bt_strdup_printf("%s/%s", rt->root, id)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "creating container %s: out of memory", id);
	if (mkdir(st->dir, 0700) < 0) {
		rc = errno == EEXIST ? bt_error_set(err, BERTH_EEXISTS, EEXIST, "container %s exists already", id)
				     : bt_error_os(err, "creating %s", st->dir);
		free(st->dir);
		st->dir = NULL;
		return rc;
	}
	if ((rc = state_lock(st, err)) < 0 || !(st->json = json_object())) {
		if (!rc)
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
	if ((rc = state_lock(st, err)) < 0) {
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

unsigned long long bt_rt_proc_starttime(int pid)
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
	/* the command name may hold spaces and parentheses: fields start after the last ')' */
	if (!(p = strrchr(buf, ')')) || p[1] != ' ')
		return 0;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (int field = 3; field < 22 && p; field++)
		if ((p = strchr(p, ' ')))
			p++;
	if (p)
		start = strtoull(p, NULL, 10);
	return start;
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
