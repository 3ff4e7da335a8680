/* berth version, berth info */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "berth.h"

static const char version_usage[] =
	"Usage: berth version [OPTIONS]\n"
	"\n"
	"Show the berth version information\n"
	"\n"
	"Options:\n"
	"  -f, --format string   Go template ({{.Client.Version}}) or \"json\"\n"
	"  -h, --help            show this help\n";

int cmd_version(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	int major, minor, patch, opt;
	const char *lib = berth_version(&major, &minor, &patch), *format = NULL;

	(void)cli;
	optind = 0;
	while (argv && (opt = cli_getopt(argc, argv, "f:", options, version_usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		format = optarg;
	}
	if (argv && cli_args(argc, 0, 0, "version", version_usage))
		return 125;
	if (!format) {
		printf("berth version %s\n", BERTH_VERSION_STRING);
		if (strcmp(lib, BERTH_VERSION_STRING))
			printf("libberth version %s (built against %s)\n", lib, BERTH_VERSION_STRING);
		return 0;
	}
	return cli_print_rows(format, NULL, NULL,
			      json_pack("[{s:{s:s, s:s, s:s}}]", "Client", "Version", BERTH_VERSION_STRING,
					"LibraryVersion", lib, "BuiltAgainst", BERTH_VERSION_STRING));
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

static const char info_usage[] =
	"Usage: berth info [OPTIONS]\n"
	"\n"
	"Show the library, store and host kernel features\n"
	"\n"
	"Options:\n"
	"  -f, --format string   \"text\" (the default), \"json\" or a Go template\n"
	"                        ({{index . \"cgroup.mode\"}})\n"
	"  -h, --help            show this help\n";

/* the facts as one object, printed as JSON, a template or "key value" lines */
static int info_output(const berth_info *info, const berth_info *cg, const char *format)
{
	json_t *obj;

	if (!format || !strcmp(format, "text")) {
		info_print_all(info, cg, NULL);
		return 0;
	}
	obj = json_object();
	info_print_all(info, cg, obj);
	if (fmt_is_json(format)) {
		json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(obj);
		return 0;
	}
	return cli_print_rows(format, NULL, NULL, json_pack("[o]", obj));
}

int cmd_info(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	berth_error *err = NULL;
	berth_info *info, *cg;
	berth_ctx *ctx;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f:", options, info_usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		format = optarg;
	}
	if (cli_args(argc, 0, 0, "info", info_usage))
		return 125;
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
	rc = info_output(info, cg, format);
	berth_info_free(cg);
	berth_info_free(info);
	berth_ctx_free(ctx);
	return rc;
}
