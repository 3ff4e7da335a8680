/* berth: a docker-like command line over libberth. It is an example of the
 * library's use: everything it does, a program linking libberth can do. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth.h"

static const struct command commands[] = {
	{ "attach", "attach to a running container's stdio", cmd_attach },
	{ "commit", "create a new image from a container's changes", cmd_commit },
	{ "container", "manage containers", cmd_container },
	{ "cp", "copy files/folders between a container and the local filesystem", cmd_cp },
	{ "create", "create a new container", cmd_create },
	{ "diff", "inspect changes to files or directories on a container's filesystem", cmd_diff },
	{ "exec", "execute a command in a running container", cmd_exec },
	{ "events", "get real time events from the engine", cmd_events },
	{ "export", "export a container's filesystem as a tar archive", cmd_export },
	{ "history", "show the history of an image", cmd_history },
	{ "image", "manage images (inspect, ls, rm, pull, tag, history, prune)", cmd_image },
	{ "images", "list images", cmd_images },
	{ "info", "show the library, store and host kernel features", cmd_info },
	{ "inspect", "return low-level information on containers or images", cmd_inspect },
	{ "kill", "kill one or more running containers", cmd_kill },
	{ "login", "log in to a registry", cmd_login },
	{ "logout", "log out of a registry", cmd_logout },
	{ "logs", "fetch the logs of a container", cmd_logs },
	{ "network", "manage networks (create, ls, inspect, rm, prune)", cmd_network },
	{ "pause", "pause all processes within one or more containers", cmd_pause },
	{ "port", "list port mappings or a specific mapping for the container", cmd_port },
	{ "ps", "list containers", cmd_ps },
	{ "pull", "pull an image from a registry", cmd_pull },
	{ "rename", "rename a container", cmd_rename },
	{ "restart", "restart one or more containers", cmd_restart },
	{ "rm", "remove one or more containers", cmd_rm },
	{ "rmi", "remove images", cmd_rmi },
	{ "run", "create and run a new container from an image", cmd_run },
	{ "start", "start one or more stopped containers", cmd_start },
	{ "stats", "display a live stream of container(s) resource usage statistics", cmd_stats },
	{ "stop", "stop one or more running containers", cmd_stop },
	{ "system", "show disk usage (df), prune", cmd_system },
	{ "tag", "tag an image", cmd_tag },
	{ "top", "display the running processes of a container", cmd_top },
	{ "unpause", "unpause all processes within one or more containers", cmd_unpause },
	{ "update", "update configuration of one or more containers", cmd_update },
	{ "version", "show the version", cmd_version },
	{ "volume", "manage volumes (create, inspect, ls, rm, prune)", cmd_volume },
	{ "wait", "block until one or more containers stop, then print their exit codes", cmd_wait },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [OPTIONS] COMMAND [ARG...]\n"
		"\n"
		"Options:\n"
		"  --root DIR         store root (default /var/lib/berth, rootless ~/.local/share/berth)\n"
		"  --runroot DIR      ephemeral state (default /run/berth)\n"
		"  --log-level LEVEL  error, warn, info or debug (default warn)\n"
		"  -h, --help         show this help\n"
		"  -v, --version      show the version\n"
		"\n"
		"\n",
		prog);
	cli_commands_usage(out, prog, commands);
}

static void log_to_stderr(berth_log_level level, const char *module, const char *message,
			  void *userdata)
{
	(void)userdata;
	fflush(stdout); /* in order with the command's own output */
	fprintf(stderr, "berth: %s: %s: %s\n", berth_log_level_name(level), module, message);
}

berth_ctx *cli_context(struct cli *cli)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx;

	opts.root = cli->root;
	opts.runroot = cli->runroot;
	opts.log = log_to_stderr;
	opts.log_level = cli->log_level;
	if (berth_ctx_new(&ctx, &opts, &err) < 0) {
		cli_fail(err);
		return NULL;
	}
	return ctx;
}

int cli_fail(berth_error *err)
{
	fflush(stdout); /* what was printed before the failure comes first in a shared file or pipe */
	fprintf(stderr, "berth: %s\n", berth_error_message(err));
	berth_error_free(err);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "runroot", required_argument, NULL, 'R' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .log_level = BERTH_LOG_WARN, .prog = "berth" };
	berth_error *err = NULL;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:hv", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			cli.root = optarg;
			break;
		case 'R':
			cli.runroot = optarg;
			break;
		case 'l':
			if (berth_log_level_parse(optarg, &cli.log_level, &err) < 0)
				return cli_fail(err);
			break;
		case 'h':
			usage(stdout, cli.prog);
			return 0;
		case 'v':
			return cmd_version(&cli, 0, NULL);
		default: /* Docker's status for a command line it cannot use */
			fprintf(stderr, "berth: %s: %s\n", opt == ':' ? "flag needs an argument" : "unknown flag",
				argv[optind - 1]);
			usage(stderr, cli.prog);
			return 125;
		}
	}
	if (optind >= argc) {
		usage(stderr, cli.prog);
		return 125;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[optind])) {
			optind++; /* commands parse their own options from here */
			return c->run(&cli, argc - optind + 1, argv + optind - 1);
		}
	fprintf(stderr, "berth: unknown command \"%s\"; see '%s --help'\n", argv[optind], cli.prog);
	return 125;
}
