/* berth version, berth info */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "berth.h"

int cmd_version(struct cli *cli, int argc, char **argv)
{
	int major, minor, patch;
	const char *lib = berth_version(&major, &minor, &patch);

	(void)cli;
	(void)argc;
	(void)argv;
	printf("berth version %s\n", BERTH_VERSION_STRING);
	if (strcmp(lib, BERTH_VERSION_STRING))
		printf("libberth version %s (built against %s)\n", lib, BERTH_VERSION_STRING);
	return 0;
}

/* --format json: one object; else aligned "key: value" lines. */
int cmd_info(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "text";
	berth_error *err = NULL;
	berth_info *info;
	berth_ctx *ctx;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		if (opt != 'f') {
			fprintf(stderr, "Usage: berth info [--format text|json]\n");
			return 2;
		}
		format = optarg;
	}
	if (strcmp(format, "text") && strcmp(format, "json")) {
		fprintf(stderr, "berth: info: unknown format \"%s\" (text or json)\n", format);
		return 2;
	}
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_info_new(ctx, &info, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	if (!strcmp(format, "json")) {
		json_t *obj = json_object();
		for (size_t i = 0; i < berth_info_count(info); i++)
			json_object_set_new(obj, berth_info_key(info, i),
					    json_string(berth_info_value(info, i)));
		json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(obj);
	} else {
		for (size_t i = 0; i < berth_info_count(info); i++)
			printf("%-22s %s\n", berth_info_key(info, i), berth_info_value(info, i));
	}
	berth_info_free(info);
	berth_ctx_free(ctx);
	return 0;
}
