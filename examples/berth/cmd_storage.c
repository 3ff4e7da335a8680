/* berth image mount|unmount, berth system df */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "berth.h"

static const char mount_usage[] =
	"Usage: berth image mount IMAGE [IMAGE...]\n"
	"\n"
	"Mount each image's root file system read-only and print its path\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

static const char unmount_usage[] =
	"Usage: berth image unmount IMAGE [IMAGE...]\n"
	"\n"
	"Unmount each image's root file system\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

/* Like podman image mount: the path of the image's root file system,
 * mounted read-only; unmount undoes it. */
static int mount_images(struct cli *cli, int argc, char **argv, bool mount)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	const char *usage = mount ? mount_usage : unmount_usage;
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, -1, mount ? "image mount" : "image unmount", usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	for (int i = optind; i < argc; i++) {
		char *path;

		if (mount && berth_storage_mount(ctx, argv[i], &path, &err) == 0) {
			printf("%s\n", path);
			berth_string_free(path);
		} else if (!mount && berth_storage_unmount(ctx, argv[i], &err) == 0) {
			printf("%s\n", argv[i]);
		} else {
			status = cli_fail(err);
			err = NULL;
		}
	}
	berth_ctx_free(ctx);
	return status;
}

int cmd_image_mount(struct cli *cli, int argc, char **argv)
{
	return mount_images(cli, argc, argv, true);
}

int cmd_image_unmount(struct cli *cli, int argc, char **argv)
{
	return mount_images(cli, argc, argv, false);
}

static const char df_usage[] =
	"Usage: berth system df [OPTIONS]\n"
	"\n"
	"Show disk usage\n"
	"\n"
	"Options:\n"
	"  -f, --format string   Go template, \"table\", \"table TEMPLATE\" or \"json\"\n"
	"  -h, --help            show this help\n";

/* one row per kind, with Docker's fields; "images" -> "Images" */
static json_t *df_row(const berth_storage_usage *u, size_t i)
{
	long long bytes = berth_storage_usage_bytes(u, i), rec = berth_storage_usage_reclaimable(u, i);
	char type[32], size[32], reclaim[64];

	snprintf(type, sizeof(type), "%s", berth_storage_usage_kind(u, i));
	type[0] = (char)(type[0] >= 'a' && type[0] <= 'z' ? type[0] - 'a' + 'A' : type[0]);
	fmt_size(bytes, size, sizeof(size));
	fmt_size(rec, reclaim, sizeof(reclaim));
	snprintf(reclaim + strlen(reclaim), sizeof(reclaim) - strlen(reclaim), " (%lld%%)",
		 bytes > 0 ? rec * 100 / bytes : 0);
	return json_pack("{s:s, s:I, s:s, s:s, s:s}", "Type", type, "TotalCount",
			 (json_int_t)berth_storage_usage_items(u, i), "Active", "N/A", "Size", size,
			 "Reclaimable", reclaim);
}

static int cmd_system_df(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	static const struct fmt_header headers[] = { { "TotalCount", "TOTAL" }, { NULL, NULL } };
	const char *format = NULL;
	berth_storage_usage *u;
	berth_error *err = NULL;
	berth_ctx *ctx;
	json_t *rows;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f:", options, df_usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		format = optarg;
	}
	if (cli_args(argc, 0, 0, "system df", df_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_storage_usage_new(ctx, &u, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	rows = json_array();
	for (size_t i = 0; i < berth_storage_usage_count(u); i++)
		json_array_append_new(rows, df_row(u, i));
	rc = cli_print_rows(format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
			    headers, rows);
	berth_storage_usage_free(u);
	berth_ctx_free(ctx);
	return rc;
}

int cmd_system(struct cli *cli, int argc, char **argv)
{
	static const struct command subs[] = {
		{ "boot", "start the containers whose restart policy asks for it", cmd_system_boot },
		{ "df", "show disk usage", cmd_system_df },
		{ NULL, NULL, NULL },
	};

	return cli_group(cli, argc, argv, subs, "Manage berth");
}
