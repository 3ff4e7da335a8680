/* berth-runtime: an OCI runtime command line over libberth, accepting what
 * runc and crun accept so that podman (--runtime), conmon and containerd
 * (ctr run --runc-binary) can drive it. Global options, logging (--log,
 * --log-format json) and the command table. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "berth-runtime.h"

static const struct rcommand commands[] = {
	{ "create", "create a container from a bundle; its process waits for start", cmd_create },
	{ "start", "let a created container's process run", cmd_start },
	{ "run", "create and start a container, and wait for it unless --detach", cmd_run },
	{ "exec", "run a new process in a running container", cmd_exec },
	{ "state", "print the state of a container as JSON", cmd_state },
	{ "kill", "send a signal to a container's init (or --all its processes)", cmd_kill },
	{ "delete", "delete a stopped container (or --force a running one)", cmd_delete },
	{ "pause", "freeze every process of a container", cmd_pause },
	{ "resume", "thaw a paused container", cmd_resume },
	{ "ps", "list a container's processes", cmd_ps },
	{ "events", "print a container's resource usage (--stats)", cmd_events },
	{ "list", "list containers", cmd_list },
	{ "update", "apply linux.resources to a running container", cmd_update },
	{ "spec", "write a default config.json", cmd_spec },
	{ "features", "print the runtime-spec features JSON", cmd_features },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARG...]\n"
		"\n"
		"Global options:\n"
		"  --root DIR          state root (default /run/berth/runtime; rootless:\n"
		"                      $XDG_RUNTIME_DIR/berth/runtime)\n"
		"  --log FILE          write log lines to FILE\n"
		"  --log-format FORMAT text or json\n"
		"  --debug             log debug lines too\n"
		"  --systemd-cgroup    not supported (cgroupfs paths only)\n"
		"  -v, --version       show the version\n"
		"  -h, --help          show this help\n"
		"\n"
		"Commands:\n",
		prog);
	for (const struct rcommand *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

static void now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
}

/* One line in the --log file: {"level","msg","time"} as runc writes with
 * --log-format json (conmon and containerd read the last error there). */
static void log_line(struct rcli *cli, const char *level, const char *msg)
{
	char t[64];

	if (!cli->log)
		return;
	now(t, sizeof(t));
	if (cli->log_json) {
		json_t *j = json_pack("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", t);
		char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		if (s)
			fprintf(cli->log, "%s\n", s);
		free(s);
		json_decref(j);
	} else {
		fprintf(cli->log, "time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg);
	}
	fflush(cli->log);
}

static void log_cb(berth_log_level level, const char *module, const char *message, void *ud)
{
	struct rcli *cli = ud;
	const char *name = level == BERTH_LOG_WARN ? "warning" : berth_log_level_name(level);

	(void)module;
	if (cli->log)
		log_line(cli, name, message);
	else if (level <= BERTH_LOG_WARN || cli->debug)
		fprintf(stderr, "berth-runtime: %s: %s\n", name, message);
}

int rcli_fail(struct rcli *cli, berth_error *err)
{
	const char *msg = berth_error_message(err);

	log_line(cli, "error", msg);
	fprintf(stderr, "berth-runtime: %s\n", msg);
	berth_error_free(err);
	return 1;
}

int rcli_failf(struct rcli *cli, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_line(cli, "error", buf);
	fprintf(stderr, "berth-runtime: %s\n", buf);
	return 1;
}

int rcli_open(struct rcli *cli)
{
	berth_ctx_opts co = BERTH_CTX_OPTS_INIT;
	berth_runtime_opts ro = BERTH_RUNTIME_OPTS_INIT;
	berth_error *err = NULL;

	co.log = log_cb;
	co.log_userdata = cli;
	co.log_level = cli->debug ? BERTH_LOG_DEBUG : BERTH_LOG_WARN;
	ro.root = cli->root;
	if (berth_ctx_new(&cli->ctx, &co, &err) < 0 || berth_runtime_new(cli->ctx, &ro, &cli->rt, &err) < 0)
		return rcli_fail(cli, err);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rcli cli = { 0 };
	bool systemd = false;
	int c, rc;

	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': cli.root = optarg; break;
		case 'l': cli.log_path = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "berth-runtime: --log-format: \"%s\" is not text or json\n", optarg);
				return 1;
			}
			cli.log_json = !strcmp(optarg, "json");
			break;
		case 'd': cli.debug = true; break;
		case 's': systemd = true; break;
		case 'R': case 'C': break; /* accepted for compatibility */
		case 'v': {
			int maj, min, pat;

			berth_version(&maj, &min, &pat);
			printf("berth-runtime version %d.%d.%d\nspec: 1.2.0\n", maj, min, pat);
			return 0;
		}
		case 'h': usage(stdout, argv[0]); return 0;
		default: usage(stderr, argv[0]); return 1;
		}
	}
	if (cli.log_path && !(cli.log = fopen(cli.log_path, "ae"))) {
		fprintf(stderr, "berth-runtime: opening log file %s: %s\n", cli.log_path, strerror(errno));
		return 1;
	}
	if (systemd) {
		rc = rcli_failf(&cli, "--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs paths");
		goto out;
	}
	if (optind >= argc) {
		usage(stderr, argv[0]);
		rc = 1;
		goto out;
	}
	for (const struct rcommand *cmd = commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, argv[optind])) {
			char **sub = argv + optind;
			int subc = argc - optind;

			optind = 1;
			/* the commands that only print need no context */
			if (strcmp(cmd->name, "spec") && strcmp(cmd->name, "features") && (rc = rcli_open(&cli)))
				goto out;
			rc = cmd->run(&cli, subc, sub);
			goto out;
		}
	rc = rcli_failf(&cli, "unknown command \"%s\" (see --help)", argv[optind]);
out:
	berth_runtime_free(cli.rt);
	berth_ctx_free(cli.ctx);
	if (cli.log)
		fclose(cli.log);
	return rc;
}
