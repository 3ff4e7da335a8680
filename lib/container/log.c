/* Docker's json-file log: one JSON object per line of output,
 * {"log":"text\n","stream":"stdout","time":"RFC 3339 nanoseconds"}, lines
 * longer than 16 KiB split as Docker splits them. With max-size, a line
 * that would take the file past it rotates first, as Docker does:
 * <id>-json.log becomes .1, .1 becomes .2, ... and max-file files are kept
 * in all (max-file 1: the file starts over). */
#include "container-internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384

struct bt_ct_log {
	int fd;
	char *path;
	long long max_size, size; /* max_size <= 0: no limit */
	int max_file;
	char buf[2][LINE_MAX_BYTES]; /* a partial line of stdout, of stderr */
	size_t len[2];
};

long long bt_ct_log_parse_size(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10), mult = 1;

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1000; break;
	case 'm': case 'M': mult = 1000 * 1000; break;
	case 'g': case 'G': mult = 1000 * 1000 * 1000; break;
	default: return -1;
	}
	if (*end && end[1] && strcasecmp(end + 1, "b"))
		return -1;
	return v * mult;
}

int bt_ct_log_open(const char *path, long long max_size, int max_file, struct bt_ct_log **out,
		   berth_error **err)
{
	struct bt_ct_log *log = calloc(1, sizeof(*log));
	off_t end;

	if (!log || !(log->path = strdup(path))) {
		free(log);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	log->max_size = max_size;
	log->max_file = max_file < 1 ? 1 : max_file;
	log->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log->fd < 0) {
		free(log->path);
		free(log);
		return bt_error_os(err, "opening the log %s", path);
	}
	end = lseek(log->fd, 0, SEEK_END);
	log->size = end > 0 ? end : 0;
	*out = log;
	return 0;
}

/* Moves <log>.N-1 to .N, ..., the log to .1, and starts a new one. */
static void rotate(struct bt_ct_log *log)
{
	size_t len = strlen(log->path) + 16;
	char *from = malloc(len), *to = malloc(len);

	if (from && to) {
		for (int i = log->max_file - 1; i > 1; i--) {
			snprintf(from, len, "%s.%d", log->path, i - 1);
			snprintf(to, len, "%s.%d", log->path, i);
			rename(from, to);
		}
		snprintf(to, len, "%s.1", log->path);
		if (log->max_file > 1)
			rename(log->path, to);
	}
	free(from);
	free(to);
	close(log->fd);
	log->fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	log->size = 0;
}

static void emit(struct bt_ct_log *log, int stream, const char *text, size_t len)
{
	char *time = bt_now_rfc3339(), *line;
	json_t *o = json_pack("{s:s%, s:s, s:s}", "log", text, len, "stream",
			      stream ? "stderr" : "stdout", "time", time ? time : "");

	free(time);
	if (!o)
		return; /* not UTF-8 text: jansson refuses it */
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line) {
		size_t n = strlen(line);

		line[n] = '\n';
		if (log->max_size > 0 && log->size > 0 && log->size + (long long)n + 1 > log->max_size)
			rotate(log);
		if (log->fd >= 0 && bt_write_all(log->fd, line, n + 1) == 0)
			log->size += (long long)n + 1;
		free(line);
	}
}

void bt_ct_log_write(struct bt_ct_log *log, int stream, const char *data, size_t len)
{
	char *b = log->buf[stream];

	for (size_t i = 0; i < len; i++) {
		b[log->len[stream]++] = data[i];
		if (data[i] == '\n' || log->len[stream] == LINE_MAX_BYTES) {
			emit(log, stream, b, log->len[stream]);
			log->len[stream] = 0;
		}
	}
}

void bt_ct_log_close(struct bt_ct_log *log)
{
	if (!log)
		return;
	for (int s = 0; s < 2; s++)
		if (log->len[s])
			emit(log, s, log->buf[s], log->len[s]);
	if (log->fd >= 0)
		close(log->fd);
	free(log->path);
	free(log);
}
