/* berth volume create, ls, inspect, rm, prune: Docker's flags and output
 * over berth_volume_*. */
#define _GNU_SOURCE /* asprintf */
#include <stdlib.h>
#include <string.h>

#include "berth.h"

static const char create_usage[] =
	"Usage: berth volume create [OPTIONS] [VOLUME]\n"
	"\n"
	"Create a volume\n"
	"\n"
	"Options:\n"
	"  -d, --driver string   specify volume driver name (local)\n"
	"      --help            show this help\n"
	"      --label list      set metadata for a volume\n"
	"  -o, --opt map         set driver specific options: type=, device=, o=\n";

static int cmd_volume_create(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "driver", required_argument, NULL, 'd' }, { "label", required_argument, NULL, 'l' },
		{ "opt", required_argument, NULL, 'o' }, { "name", required_argument, NULL, 'n' },
		CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	berth_volume_create_opts o = BERTH_VOLUME_CREATE_OPTS_INIT;
	struct list labels = { 0 }, opts = { 0 };
	const char *name = NULL;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *made = NULL;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "d:o:", options, create_usage)) != -1) {
		switch (opt) {
		case 'd': o.driver = optarg; break;
		case 'l': list_add(&labels, optarg); break;
		case 'o': list_add(&opts, optarg); break;
		case 'n': name = optarg; break;
		default: free(labels.v); free(opts.v); return cli_opt_status(opt);
		}
	}
	if (cli_args(argc, 0, 1, "volume create", create_usage)) {
		free(labels.v);
		free(opts.v);
		return 125;
	}
	if (optind < argc)
		name = argv[optind];
	o.labels = labels.v;
	o.options = opts.v;
	if (!(ctx = cli_context(cli)))
		status = 125;
	else if (berth_volume_create(ctx, name, &o, &made, &err) < 0)
		status = cli_fail(err);
	else
		printf("%s\n", made);
	berth_string_free(made);
	berth_ctx_free(ctx);
	free(labels.v);
	free(opts.v);
	return status;
}

static const char ls_usage[] =
	"Usage: berth volume ls [OPTIONS]\n"
	"\n"
	"List volumes\n"
	"\n"
	"Options:\n"
	"  -f, --filter filter   provide filter values (dangling=true, name=, label=KEY[=VALUE], driver=local)\n"
	"      --format string   Go template, \"table\", \"table TEMPLATE\" or \"json\"\n"
	"      --help            show this help\n"
	"  -q, --quiet           only display volume names\n";

/* The inspect document of a volume, parsed; NULL (error printed) when gone. */
static json_t *inspect_doc(berth_ctx *ctx, const char *name, int flags)
{
	berth_error *err = NULL;
	char *text;
	json_t *doc;

	if (berth_volume_inspect(ctx, name, flags, &text, &err) < 0) {
		cli_fail(err);
		return NULL;
	}
	doc = json_loads(text, 0, NULL);
	berth_string_free(text);
	return doc;
}

/* ls's row: Docker's fields, Labels as "k=v,k=v". */
static json_t *ls_row(json_t *doc)
{
	const char *key;
	json_t *val, *row = json_deep_copy(doc);
	char *labels = strdup("");

	json_object_foreach(json_object_get(doc, "Labels"), key, val) {
		char *next = NULL;

		if (labels && asprintf(&next, "%s%s%s=%s", labels, *labels ? "," : "", key, json_string_value(val) ?: "") < 0)
			next = NULL;
		free(labels);
		labels = next;
	}
	json_object_set_new(row, "Labels", json_string(labels ? labels : ""));
	json_object_set_new(row, "Size", json_string("N/A"));
	json_object_set_new(row, "Links", json_string("N/A"));
	free(labels);
	return row;
}

static int cmd_volume_ls(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	static const struct fmt_header headers[] = {
		{ "Driver", "DRIVER" }, { "Name", "VOLUME NAME" }, { NULL, NULL },
	};
	struct list filters = { 0 };
	const char *format = NULL;
	berth_error *err = NULL;
	bool quiet = false;
	berth_ctx *ctx;
	char **names;
	size_t n;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f:q", options, ls_usage)) != -1) {
		if (opt == 'f')
			list_add(&filters, optarg);
		else if (opt == 'F')
			format = optarg;
		else if (opt == 'q')
			quiet = true;
		else {
			free(filters.v);
			return cli_opt_status(opt);
		}
	}
	if (cli_args(argc, 0, 0, "volume ls", ls_usage) || !(ctx = cli_context(cli))) {
		free(filters.v);
		return 125;
	}
	if (berth_volume_list(ctx, filters.v, &names, &n, &err) < 0) {
		status = cli_fail(err);
	} else {
		json_t *rows = json_array(), *doc;

		for (size_t i = 0; i < n; i++) {
			if (quiet)
				printf("%s\n", names[i]);
			else if ((doc = inspect_doc(ctx, names[i], 0)))
				json_array_append_new(rows, ls_row(doc)), json_decref(doc);
		}
		if (!quiet)
			status = cli_print_rows(format, "table {{.Driver}}\t{{.Name}}", headers, rows);
		else
			json_decref(rows);
		berth_volume_names_free(names, n);
	}
	free(filters.v);
	berth_ctx_free(ctx);
	return status;
}

static const char inspect_usage[] =
	"Usage: berth volume inspect [OPTIONS] VOLUME [VOLUME...]\n"
	"\n"
	"Display detailed information on one or more volumes\n"
	"\n"
	"Options:\n"
	"  -f, --format string   format the output using the given Go template\n"
	"      --help            show this help\n";

static json_t *inspect_one(berth_ctx *ctx, const char *name)
{
	return inspect_doc(ctx, name, 0);
}

static int cmd_volume_inspect(struct cli *cli, int argc, char **argv)
{
	return cli_inspect(cli, argc, argv, "volume inspect", inspect_usage, inspect_one);
}

static const char rm_usage[] =
	"Usage: berth volume rm [OPTIONS] VOLUME [VOLUME...]\n"
	"\n"
	"Remove one or more volumes. You cannot remove a volume that is in use by a container.\n"
	"\n"
	"Options:\n"
	"  -f, --force   force the removal of one or more volumes\n"
	"      --help    show this help\n";

static int cmd_volume_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	berth_ctx *ctx;
	int opt, status = 0;
	bool force = false;

	optind = 0;
	/* as Docker's -f: a missing volume is no error, but one in use is
	 * never removed from under its containers (the library's
	 * BERTH_VOLUME_REMOVE_FORCE, which would, is not the CLI's) */
	while ((opt = cli_getopt(argc, argv, "f", options, rm_usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		force = true;
	}
	if (cli_args(argc, 1, -1, "volume rm", rm_usage) || !(ctx = cli_context(cli)))
		return 125;
	for (int i = optind; i < argc; i++) {
		berth_error *err = NULL;
		int rc = berth_volume_remove(ctx, argv[i], 0, &err);

		if (rc == BERTH_ENOTFOUND && force) {
			berth_error_free(err);
			continue;
		}
		if (rc < 0)
			status = cli_fail(err);
		else
			printf("%s\n", argv[i]);
	}
	berth_ctx_free(ctx);
	return status;
}

static const char prune_usage[] =
	"Usage: berth volume prune [OPTIONS]\n"
	"\n"
	"Remove all unused local volumes\n"
	"\n"
	"Options:\n"
	"  -a, --all             all unused volumes, named ones too (what berth always prunes)\n"
	"      --filter filter   provide filter values (label=KEY[=VALUE], label!=...)\n"
	"  -f, --force           do not prompt for confirmation\n"
	"      --help            show this help\n";

static int cmd_volume_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "filter", required_argument, NULL, 'F' }, { "force", no_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	struct list filters = { 0 };
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	bool force = false;
	berth_ctx *ctx;
	char **names;
	size_t n;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "af", options, prune_usage)) != -1) {
		if (opt == 'F')
			list_add(&filters, optarg);
		else if (opt == 'f')
			force = true;
		else if (opt != 'a') {
			free(filters.v);
			return cli_opt_status(opt);
		}
	}
	if (cli_args(argc, 0, 0, "volume prune", prune_usage)) {
		free(filters.v);
		return 125;
	}
	if (!force && !cli_confirm("This will remove all local volumes not used by at least one container.")) {
		free(filters.v);
		return 0;
	}
	if (!(ctx = cli_context(cli))) {
		free(filters.v);
		return 125;
	}
	if (berth_volume_prune(ctx, filters.v, &names, &n, &bytes, &err) < 0) {
		status = cli_fail(err);
	} else {
		cli_print_pruned("Volumes", names, n, bytes);
		berth_volume_names_free(names, n);
	}
	free(filters.v);
	berth_ctx_free(ctx);
	return status;
}

int cmd_volume(struct cli *cli, int argc, char **argv)
{
	static const struct command subs[] = {
		{ "create", "create a volume", cmd_volume_create },
		{ "inspect", "display detailed information on one or more volumes", cmd_volume_inspect },
		{ "ls", "list volumes", cmd_volume_ls },
		{ "list", NULL, cmd_volume_ls },
		{ "prune", "remove all unused local volumes", cmd_volume_prune },
		{ "rm", "remove one or more volumes", cmd_volume_rm },
		{ "remove", NULL, cmd_volume_rm },
		{ NULL, NULL, NULL },
	};

	return cli_group(cli, argc, argv, subs, "Manage volumes");
}
