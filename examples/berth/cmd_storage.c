/* berth image mount|unmount, berth system df */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "berth.h"

/* argv[0] is "mount" or "unmount". Like podman image mount: prints the path
 * of the image's root file system, mounted read-only. */
int cmd_image_mount(struct cli *cli, int argc, char **argv)
{
	bool mount = !strcmp(argv[0], "mount");
	berth_error *err = NULL;
	berth_ctx *ctx;
	int status = 0;

	if (argc < 2 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "Usage: berth image %s IMAGE...\n", argv[0]);
		return 2;
	}
	if (!(ctx = cli_context(cli)))
		return 1;
	for (int i = 1; i < argc; i++) {
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

static void size_text(long long bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0]))
		v /= 1000, u++;
	snprintf(buf, len, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

int cmd_system(struct cli *cli, int argc, char **argv)
{
	berth_storage_usage *u;
	berth_error *err = NULL;
	berth_ctx *ctx;

	if (argc != 2 || strcmp(argv[1], "df")) {
		fprintf(stderr, "Usage: berth system df\n");
		return 2;
	}
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_storage_usage_new(ctx, &u, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	printf("%-12s %-8s %-10s %s\n", "TYPE", "TOTAL", "SIZE", "RECLAIMABLE");
	for (size_t i = 0; i < berth_storage_usage_count(u); i++) {
		char size[32], rec[32];

		size_text(berth_storage_usage_bytes(u, i), size, sizeof(size));
		size_text(berth_storage_usage_reclaimable(u, i), rec, sizeof(rec));
		printf("%-12s %-8lld %-10s %s\n", berth_storage_usage_kind(u, i),
		       berth_storage_usage_items(u, i), size, rec);
	}
	berth_storage_usage_free(u);
	berth_ctx_free(ctx);
	return 0;
}
