/* berth system boot: what a daemon's start would do after a reboot, as a
 * command for the init system to run once (docs/architecture.md). */
#include <stdio.h>

#include "berth.h"

static const char boot_usage[] =
	"Usage: berth system boot\n"
	"\n"
	"Start the containers whose restart policy asks for it after a reboot\n"
	"(always; unless-stopped and on-failure unless stopped by the user),\n"
	"printing the ID of each started\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

int cmd_system_boot(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_error *err = NULL;
	berth_ctx *ctx;
	char **ids;
	size_t n;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, boot_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 0, 0, "system boot", boot_usage) || !(ctx = cli_context(cli)))
		return 125;
	if ((rc = berth_container_boot(ctx, &ids, &n, &err)) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	for (size_t i = 0; i < n; i++)
		printf("%s\n", ids[i]);
	berth_container_ids_free(ids, n);
	berth_ctx_free(ctx);
	return 0;
}
