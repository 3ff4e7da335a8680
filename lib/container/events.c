/* The engine's events (docker events): one JSON line per event appended
 * to <runroot>/events.jsonl, in Docker's shape, and read back by time. An
 * event is one write(2) of one line to a file opened O_APPEND, so lines of
 * several processes never mix. Past ROTATE_BYTES the file becomes
 * events.jsonl.1 (replacing the one before), so the history is bounded as
 * Docker's is, and readers read the two in turn. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192
#define FOLLOW_POLL_US (100 * 1000)
#define ROTATE_BYTES (1 << 20)

static char *events_path(const berth_ctx *ctx)
{
	return bt_strdup_printf("%s/events.jsonl", ctx->runroot);
}

/* Moves the file fd has open aside once it is full. Under its flock, and
 * only while path still names it: of several writers that saw it full, one
 * moves it, and none moves the new one in its place. */
static void rotate(const char *path, int fd)
{
	struct stat st, now;
	char *old;

	if (fstat(fd, &st) < 0 || st.st_size < ROTATE_BYTES || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return;
	if (stat(path, &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev &&
	    (old = bt_strdup_printf("%s.1", path))) {
		rename(path, old);
		free(old);
	}
	flock(fd, LOCK_UN);
}

void bt_ct_event(berth_ctx *ctx, const char *id, const char *action, const json_t *record, const char *key,
		 const char *value)
{
	const char *name = json_string_value(json_object_get(record, "Name"));
	const char *image = json_string_value(json_object_get(json_object_get(record, "Config"), "Image"));
	struct timespec ts;
	json_t *ev, *attrs;
	char *path = NULL, *line = NULL;
	int fd;

	clock_gettime(CLOCK_REALTIME, &ts);
	attrs = json_pack("{s:s, s:s}", "image", image ? image : "", "name", name && name[0] == '/' ? name + 1 : name ? name : "");
	if (attrs && key && value)
		json_object_set_new(attrs, key, json_string(value));
	ev = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "status", action, "id", id, "from",
		       image, "Type", "container", "Action", action, "Actor", "ID", id, "Attributes", attrs, "scope",
		       "local", "time", (json_int_t)ts.tv_sec, "timeNano",
		       (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	if (!ev || !(line = json_dumps(ev, JSON_COMPACT)) || !(path = events_path(ctx)))
		goto out;
	if (bt_mkdir_p(ctx->runroot, 0700, NULL) == 0 &&
	    (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
		size_t n = strlen(line);

		line[n] = '\n'; /* json_dumps' NUL becomes the newline: one write */
		if (bt_write_all(fd, line, n + 1) < 0)
			bt_log_warn(ctx, "container", "recording event %s of %.12s: %s", action, id, strerror(errno));
		rotate(path, fd);
		close(fd);
	}
out:
	json_decref(ev);
	free(line);
	free(path);
}

/* Calls fn for each whole line of f from its position with a time in
 * [since, until]; 1 when fn asked to stop or a line is past until. */
static int read_lines(FILE *f, long long since, long long until, berth_container_event_fn fn, void *userdata)
{
	char line[LINE_MAX_BYTES];
	long pos;

	while ((pos = ftell(f)) >= 0 && fgets(line, sizeof(line), f)) {
		json_t *ev;
		long long t;

		if (!strchr(line, '\n')) {
			/* a line being written: read it whole next time */
			fseek(f, pos, SEEK_SET);
			return 0;
		}
		if (!(ev = json_loads(line, 0, NULL)))
			continue;
		t = (long long)json_integer_value(json_object_get(ev, "timeNano"));
		json_decref(ev);
		if (until > 0 && t > until)
			return 1;
		if (t >= since && fn(line, userdata))
			return 1;
	}
	clearerr(f);
	return 0;
}

/* Whether path names another file than f (rotated since f was opened). */
static bool moved(FILE *f, const char *path)
{
	struct stat a, b;

	return fstat(fileno(f), &a) == 0 && (stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev);
}

int berth_container_events(berth_ctx *ctx, long long since_ns, long long until_ns, int follow,
			   berth_container_event_fn fn, void *userdata, berth_error **err)
{
	char *path = events_path(ctx), *old = path ? bt_strdup_printf("%s.1", path) : NULL;
	FILE *f = NULL;
	int rc = 0;

	if (!path || !old) {
		free(path);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	/* the rotated file first (a rotation between the two opens may show a
	 * few lines twice or skip them: the history is a courtesy, as Docker's) */
	if ((f = fopen(old, "re"))) {
		int stop = read_lines(f, since_ns, until_ns, fn, userdata);

		fclose(f);
		f = NULL;
		if (stop)
			goto out;
	}
	for (;;) {
		struct timespec ts;

		if (!f && !(f = fopen(path, "re")) && errno != ENOENT) {
			rc = bt_error_os(err, "reading %s", path);
			break;
		}
		if (f && read_lines(f, since_ns, until_ns, fn, userdata))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (!follow || (until_ns > 0 && (long long)ts.tv_sec * 1000000000 + ts.tv_nsec > until_ns))
			break;
		if (f && moved(f, path)) {
			/* read to its end, then on in the new one */
			if (read_lines(f, since_ns, until_ns, fn, userdata))
				break;
			fclose(f);
			f = NULL;
			continue;
		}
		usleep(FOLLOW_POLL_US);
	}
out:
	if (f)
		fclose(f);
	free(old);
	free(path);
	return rc;
}
