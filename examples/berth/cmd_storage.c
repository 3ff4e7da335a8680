/* berth image mount|unmount, berth system df|prune */
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

/* a row with Docker's fields */
static json_t *df_row(const char *kind, long long items, long long bytes, long long rec)
{
	char type[32], size[32], reclaim[64];

	snprintf(type, sizeof(type), "%s", kind);
	type[0] = (char)(type[0] >= 'a' && type[0] <= 'z' ? type[0] - 'a' + 'A' : type[0]);
	fmt_size(bytes, size, sizeof(size));
	fmt_size(rec, reclaim, sizeof(reclaim));
	snprintf(reclaim + strlen(reclaim), sizeof(reclaim) - strlen(reclaim), " (%lld%%)",
		 bytes > 0 ? rec * 100 / bytes : 0);
	return json_pack("{s:s, s:I, s:s, s:s, s:s}", "Type", type, "TotalCount", (json_int_t)items,
			 "Active", "N/A", "Size", size, "Reclaimable", reclaim);
}

/* The storage rows ("images" -> "Images"), then the runtime's state root:
 * its containers, and the remains of creates that died, which the next
 * create sweeps (so reclaimable). */
static int df_rows(berth_ctx *ctx, json_t *rows, berth_error **err)
{
	berth_runtime_usage ru = BERTH_RUNTIME_USAGE_INIT;
	berth_storage_usage *u;
	berth_runtime *rt;
	int rc;

	if ((rc = berth_storage_usage_new(ctx, &u, err)) < 0)
		return rc;
	for (size_t i = 0; i < berth_storage_usage_count(u); i++)
		json_array_append_new(rows, df_row(berth_storage_usage_kind(u, i), berth_storage_usage_items(u, i),
						   berth_storage_usage_bytes(u, i),
						   berth_storage_usage_reclaimable(u, i)));
	berth_storage_usage_free(u);
	if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) < 0)
		return rc;
	rc = berth_runtime_usage_get(rt, &ru, err);
	berth_runtime_free(rt);
	if (rc == 0)
		json_array_append_new(rows, df_row("runtime", ru.containers + ru.leftovers, ru.bytes,
						   ru.leftover_bytes));
	return rc;
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
	rows = json_array();
	if (df_rows(ctx, rows, &err) < 0) {
		json_decref(rows);
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	rc = cli_print_rows(format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
			    headers, rows);
	berth_ctx_free(ctx);
	return rc;
}

static const char prune_usage[] =
	"Usage: berth system prune [OPTIONS]\n"
	"\n"
	"Remove what no image, snapshot or container uses: unused blobs and layers,\n"
	"and what killed or crashed processes left (what `system df` counts reclaimable)\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

/* Each step's bytes are what it removed, counted as df counts them. */
static int system_prune(berth_ctx *ctx, size_t *blobs, size_t *remains, unsigned long long *bytes,
			berth_error **err)
{
	unsigned long long b = 0;
	berth_runtime *rt;
	int rc;

	*bytes = 0;
	if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) < 0)
		return rc;
	rc = berth_runtime_prune(rt, remains, &b, err);
	berth_runtime_free(rt);
	*bytes += b;
	if (rc < 0 || (rc = berth_image_gc(ctx, blobs, &b, err)) < 0)
		return rc;
	*bytes += b;
	rc = berth_storage_prune(ctx, &b, err);
	*bytes += b;
	return rc;
}

static int cmd_system_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	unsigned long long bytes = 0;
	size_t blobs = 0, remains = 0;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char size[32];
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, prune_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 0, 0, "system prune", prune_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (system_prune(ctx, &blobs, &remains, &bytes, &err) < 0) {
		status = cli_fail(err);
	} else {
		fmt_size((long long)bytes, size, sizeof(size));
		printf("Deleted %zu blobs and the remains of %zu containers, reclaimed %s\n", blobs, remains, size);
	}
	berth_ctx_free(ctx);
	return status;
}

int cmd_system(struct cli *cli, int argc, char **argv)
{
	static const struct command subs[] = {
		{ "boot", "start the containers whose restart policy asks for it", cmd_system_boot },
		{ "df", "show disk usage", cmd_system_df },
		{ "prune", "remove unused data and what crashed processes left", cmd_system_prune },
		{ NULL, NULL, NULL },
	};

	return cli_group(cli, argc, argv, subs, "Manage berth");
}
