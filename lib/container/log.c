/* Docker's json-file log: one JSON object per line of output,
 * {"log":"text\n","stream":"stdout","time":"RFC 3339 nanoseconds"}, lines
 * longer than 16 KiB split as Docker splits them. */
#include "container-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384

struct bt_ct_log {
	int fd;
	char buf[2][LINE_MAX_BYTES]; /* a partial line of stdout, of stderr */
	size_t len[2];
};

int bt_ct_log_open(const char *path, struct bt_ct_log **out, berth_error **err)
{
	struct bt_ct_log *log = calloc(1, sizeof(*log));

	if (!log)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	log->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log->fd < 0) {
		free(log);
		return bt_error_os(err, "opening the log %s", path);
	}
	*out = log;
	return 0;
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
		bt_write_all(log->fd, line, n + 1);
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
	close(log->fd);
	free(log);
}
