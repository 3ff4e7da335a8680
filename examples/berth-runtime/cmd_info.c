/* ps, list, spec and features: the commands that report. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "berth-runtime.h"

char *rcli_read_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t len = 0, cap = 4096, n;
	char *buf;

	if (!f)
		return NULL;
	if (!(buf = malloc(cap)))
		goto fail;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				goto fail;
			buf = nb;
		}
	}
	buf[len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}

static bool json_format(struct rcli *cli, int argc, char **argv, const char *cmd, bool *quiet,
			int *idx, bool *bad)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;

	*bad = false;
	while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table"))) {
			json = !strcmp(optarg, "json");
		} else if (c == 'q' && quiet) {
			*quiet = true;
		} else {
			rcli_failf(cli, "%s: bad option (--format table|json%s)", cmd, quiet ? ", --quiet" : "");
			*bad = true;
		}
	}
	*idx = optind;
	return json;
}

int cmd_ps(struct rcli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	bool bad;
	int idx, *pids;
	size_t n;
	bool json = json_format(cli, argc, argv, "ps", NULL, &idx, &bad);

	if (bad)
		return 1;
	if (idx >= argc)
		return rcli_failf(cli, "ps: expects a container id");
	if (berth_runtime_ps(cli->rt, argv[idx], &pids, &n, &err) < 0)
		return rcli_fail(cli, err);
	if (json) {
		/* what containerd and podman parse: a JSON array of pids */
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", pids[i]);
		printf("]\n");
	} else {
		printf("%-8s %s\n", "PID", "CMD");
		for (size_t i = 0; i < n; i++) {
			char path[64], comm[256] = "?";
			int fd;
			ssize_t r;

			snprintf(path, sizeof(path), "/proc/%d/comm", pids[i]);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
				if ((r = read(fd, comm, sizeof(comm) - 1)) > 0)
					comm[r - (comm[r - 1] == '\n')] = '\0';
				close(fd);
			}
			printf("%-8d %s\n", pids[i], comm);
		}
	}
	berth_runtime_pids_free(pids);
	return 0;
}

/* runc's `events --stats ID`: one JSON object with the cgroup's usage, in
 * runc's field names where there is one. */
int cmd_events(struct rcli *cli, int argc, char **argv)
{
	berth_cgroup_stats st = BERTH_CGROUP_STATS_INIT;
	berth_error *err = NULL;
	bool stats = false;
	const char *id = NULL;
	json_t *j;
	char *s;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stats") || !strcmp(argv[i], "-stats"))
			stats = true;
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			return rcli_failf(cli, "events: bad argument \"%s\" (usage: events --stats ID)", argv[i]);
	}
	if (!stats || !id)
		return rcli_failf(cli, "events: only `events --stats ID` is supported");
	if (berth_runtime_stats(cli->rt, id, &st, &err) < 0)
		return rcli_fail(cli, err);
	/* unlimited as runc reports it: the v1 maximum for memory, 0 for pids */
	if (st.memory_limit == BERTH_CGROUP_UNLIMITED)
		st.memory_limit = 9223372036854771712ULL;
	if (st.pids_limit == BERTH_CGROUP_UNLIMITED)
		st.pids_limit = 0;
#define STAT(v) ((v) == BERTH_CGROUP_UNKNOWN ? json_null() : json_integer((json_int_t)(v)))
	j = json_pack("{s:s,s:s,s:{s:{s:{s:o,s:o,s:o},s:o,s:o},s:{s:{s:o}},s:{s:o,s:o}}}", "type", "stats",
		      "id", id, "data", "memory", "usage", "usage", STAT(st.memory_usage), "max",
		      STAT(st.memory_peak), "limit", STAT(st.memory_limit), "oom_kills", STAT(st.oom_kills),
		      "oom_events", STAT(st.oom_events), "cpu", "usage", "total", STAT(st.cpu_usage_ns), "pids",
		      "current", STAT(st.pids_current), "limit", STAT(st.pids_limit));
#undef STAT
	s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(j);
	return 0;
}

int cmd_list(struct rcli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	bool quiet = false, bad;
	int idx;
	bool json = json_format(cli, argc, argv, "list", &quiet, &idx, &bad);
	char **ids;
	size_t n;
	json_t *arr = json_array();

	if (bad)
		return 1;
	if (berth_runtime_list(cli->rt, &ids, &n, &err) < 0)
		return rcli_fail(cli, err);
	if (!json && !quiet)
		printf("%-24s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
	for (size_t i = 0; i < n; i++) {
		char *text;
		json_t *st;

		if (quiet) {
			printf("%s\n", ids[i]);
			continue;
		}
		/* a container deleted meanwhile is skipped */
		if (berth_runtime_state(cli->rt, ids[i], &text, NULL) < 0)
			continue;
		st = json_loads(text, 0, NULL);
		berth_string_free(text);
		if (!st)
			continue;
		if (json) {
			json_array_append_new(arr, st);
			continue;
		}
		printf("%-24s %-8lld %-10s %-40s %-32s %s\n", ids[i],
		       (long long)json_integer_value(json_object_get(st, "pid")),
		       json_string_value(json_object_get(st, "status")),
		       json_string_value(json_object_get(st, "bundle")),
		       json_string_value(json_object_get(st, "created")), "root");
		json_decref(st);
	}
	if (json) {
		char *s = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "[]");
		free(s);
	}
	json_decref(arr);
	berth_runtime_list_free(ids, n);
	return 0;
}

int cmd_spec(struct rcli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	const char *bundle = ".";
	int c, rootless = 0, fd;
	char *json, *path;
	size_t len;

	while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = 1;
		else
			return rcli_failf(cli, "spec: bad option (usage: spec [--bundle DIR] [--rootless])");
	}
	if (berth_runtime_spec_default(rootless, &json, &err) < 0)
		return rcli_fail(cli, err);
	len = strlen(bundle) + sizeof("/config.json");
	path = malloc(len);
	if (!path) {
		berth_string_free(json);
		return rcli_failf(cli, "spec: out of memory");
	}
	snprintf(path, len, "%s/config.json", bundle);
	/* as runc: an existing config.json is never overwritten */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		int rc = errno == EEXIST ? rcli_failf(cli, "spec: %s exists already; remove it first", path)
					 : rcli_failf(cli, "spec: creating %s: %s", path, strerror(errno));
		free(path);
		berth_string_free(json);
		return rc;
	}
	len = strlen(json);
	if (write(fd, json, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || close(fd) < 0) {
		int rc = rcli_failf(cli, "spec: writing %s: %s", path, strerror(errno));
		unlink(path);
		free(path);
		berth_string_free(json);
		return rc;
	}
	free(path);
	berth_string_free(json);
	return 0;
}

int cmd_features(struct rcli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	char *json;

	(void)argc;
	(void)argv;
	if (berth_runtime_features(&json, &err) < 0)
		return rcli_fail(cli, err);
	printf("%s\n", json);
	berth_string_free(json);
	return 0;
}
