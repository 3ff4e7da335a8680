/* berth version, berth info */
#include <getopt.h>
#include <stdbool.h>
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

/* Prints the facts of one list, each key after prefix; with skip_cgroup the
 * "cgroup.*" keys are left out. */
static void info_print(const berth_info *info, const char *prefix, bool skip_cgroup, json_t *obj)
{
	for (size_t i = 0; i < berth_info_count(info); i++) {
		char key[64];

		if (skip_cgroup && !strncmp(berth_info_key(info, i), "cgroup.", 7))
			continue;
		snprintf(key, sizeof(key), "%s%s", prefix, berth_info_key(info, i));
		if (obj)
			json_object_set_new(obj, key, json_string(berth_info_value(info, i)));
		else
			printf("%-22s %s\n", key, berth_info_value(info, i));
	}
}

/* The facts of the common layer, then the cgroup module's own view of the
 * host's cgroups as "cgroup.*" keys (mode, v1 and v2 controllers, v2
 * delegated), which replace the common layer's summary of them. */
static void info_print_all(const berth_info *info, const berth_info *cg, json_t *obj)
{
	info_print(info, "", true, obj);
	info_print(cg, "cgroup.", false, obj);
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
	berth_info *info, *cg;
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
	if (berth_cgroup_info_new(&cg, &err) < 0) {
		berth_info_free(info);
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	if (!strcmp(format, "json")) {
		json_t *obj = json_object();
		info_print_all(info, cg, obj);
		json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(obj);
	} else {
		info_print_all(info, cg, NULL);
	}
	berth_info_free(cg);
	berth_info_free(info);
	berth_ctx_free(ctx);
	return 0;
}
