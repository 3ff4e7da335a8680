/* berth network: create, ls, inspect, rm, prune (berth/network.h); and
 * berth port, a container's published ports. */
#include <stdlib.h>
#include <string.h>

#include "berth.h"

static const char create_usage[] =
	"Usage: berth network create [OPTIONS] NETWORK\n"
	"\n"
	"Create a network\n"
	"\n"
	"Options:\n"
	"  -d, --driver string     bridge (the only one)\n"
	"      --gateway string    IPv4 gateway of the subnet\n"
	"  -h, --help              show this help\n"
	"      --internal          restrict external access to the network\n"
	"      --ip-range string   allocate container addresses from a sub-range\n"
	"  -l, --label list        set metadata on a network\n"
	"  -o, --opt list          com.docker.network.bridge.name=NAME\n"
	"      --subnet string     subnet in CIDR format (default: from the pool)\n";

enum { OPT_GATEWAY = 256, OPT_INTERNAL, OPT_IP_RANGE, OPT_SUBNET };

static int create_opt(int opt, berth_network_create_opts *o, const char **labels, size_t *nlabels)
{
	static const char bridge_name[] = "com.docker.network.bridge.name=";

	switch (opt) {
	case 'd':
		if (strcmp(optarg, "bridge")) {
			fprintf(stderr, "berth: network driver \"%s\": only \"bridge\" is supported\n", optarg);
			return 125;
		}
		return 0;
	case OPT_GATEWAY: o->gateway = optarg; return 0;
	case OPT_INTERNAL: o->internal = 1; return 0;
	case OPT_IP_RANGE: o->ip_range = optarg; return 0;
	case OPT_SUBNET: o->subnet = optarg; return 0;
	case 'l': labels[(*nlabels)++] = optarg; return 0;
	case 'o':
		if (strncmp(optarg, bridge_name, sizeof(bridge_name) - 1)) {
			fprintf(stderr, "berth: network option \"%s\": only %sNAME is supported\n", optarg, bridge_name);
			return 125;
		}
		o->bridge = optarg + sizeof(bridge_name) - 1;
		return 0;
	default:
		return cli_opt_status(opt);
	}
}

static int cmd_network_create(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "driver", required_argument, NULL, 'd' },
		{ "gateway", required_argument, NULL, OPT_GATEWAY },
		{ "internal", no_argument, NULL, OPT_INTERNAL },
		{ "ip-range", required_argument, NULL, OPT_IP_RANGE },
		{ "label", required_argument, NULL, 'l' },
		{ "opt", required_argument, NULL, 'o' },
		{ "subnet", required_argument, NULL, OPT_SUBNET },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	berth_network_create_opts o = BERTH_NETWORK_CREATE_OPTS_INIT;
	const char **labels = calloc((size_t)argc + 1, sizeof(*labels));
	size_t nlabels = 0;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *id = NULL;
	int opt, rc;

	if (!labels)
		return 1;
	optind = 0;
	while ((opt = cli_getopt(argc, argv, "d:l:o:", options, create_usage)) != -1)
		if ((rc = create_opt(opt, &o, labels, &nlabels))) {
			free(labels);
			return rc;
		}
	o.labels = labels;
	if (cli_args(argc, 1, 1, "network create", create_usage)) {
		free(labels);
		return 125;
	}
	if (!(ctx = cli_context(cli))) {
		free(labels);
		return 1;
	}
	rc = berth_network_create(ctx, argv[optind], &o, &id, &err);
	free(labels);
	berth_ctx_free(ctx);
	if (rc < 0)
		return cli_fail(err);
	printf("%s\n", id);
	berth_string_free(id);
	return 0;
}

/* The network's inspect document, or NULL after printing why. */
static json_t *inspect_one(berth_ctx *ctx, const char *name)
{
	berth_error *err = NULL;
	char *text = NULL;
	json_t *doc;

	if (berth_network_inspect(ctx, name, &text, &err) < 0) {
		cli_fail(err);
		return NULL;
	}
	doc = json_loads(text, JSON_PRESERVE_ORDER, NULL);
	berth_string_free(text);
	return doc;
}

static const char inspect_usage[] =
	"Usage: berth network inspect [OPTIONS] NETWORK [NETWORK...]\n"
	"\n"
	"Display detailed information on one or more networks\n"
	"\n"
	"Options:\n"
	"  -f, --format string   Go template or \"json\"\n"
	"  -h, --help            show this help\n";

static int cmd_network_inspect(struct cli *cli, int argc, char **argv)
{
	return cli_inspect(cli, argc, argv, "network inspect", inspect_usage, inspect_one);
}

static const struct fmt_header network_headers[] = {
	{ "ID", "NETWORK ID" }, { NULL, NULL },
};

static const char ls_usage[] =
	"Usage: berth network ls [OPTIONS]\n"
	"\n"
	"List networks\n"
	"\n"
	"Options:\n"
	"  -f, --format string   Go template, \"table\", \"table TEMPLATE\" or \"json\"\n"
	"  -h, --help            show this help\n"
	"      --no-trunc        do not truncate the output\n"
	"  -q, --quiet           only display network IDs\n";

static int cmd_network_ls(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	bool trunc = true;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char **names;
	size_t n;
	json_t *rows;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f:q", options, ls_usage)) != -1) {
		if (opt == 'f')
			format = optarg;
		else if (opt == 'q')
			format = "{{.ID}}";
		else if (opt == 'n')
			trunc = false;
		else
			return cli_opt_status(opt);
	}
	if (cli_args(argc, 0, 0, "network ls", ls_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_network_list(ctx, &names, &n, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	rows = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *doc = inspect_one(ctx, names[i]);
		const char *id = json_string_value(json_object_get(doc, "Id"));

		if (!doc)
			continue;
		json_array_append_new(rows, json_pack("{s:s%, s:O, s:O, s:O, s:b, s:O}", "ID", id ? id : "",
						      id ? (trunc ? 12 : strlen(id)) : 0, "Name",
						      json_object_get(doc, "Name"), "Driver", json_object_get(doc, "Driver"),
						      "Scope", json_object_get(doc, "Scope"), "Internal",
						      json_is_true(json_object_get(doc, "Internal")), "CreatedAt",
						      json_object_get(doc, "Created")));
		json_decref(doc);
	}
	berth_network_names_free(names, n);
	rc = cli_print_rows(format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", network_headers, rows);
	berth_ctx_free(ctx);
	return rc;
}

static const char rm_usage[] =
	"Usage: berth network rm NETWORK [NETWORK...]\n"
	"\n"
	"Remove one or more networks\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

static int cmd_network_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_ctx *ctx;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, rm_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, -1, "network rm", rm_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	for (int i = optind; i < argc; i++) {
		berth_error *err = NULL;

		if (berth_network_remove(ctx, argv[i], &err) < 0)
			status = cli_fail(err);
		else
			printf("%s\n", argv[i]);
	}
	berth_ctx_free(ctx);
	return status;
}

static const char connect_usage[] =
	"Usage:  berth network connect [OPTIONS] NETWORK CONTAINER\n"
	"\n"
	"Connect a container to a network\n"
	"\n"
	"Options:\n"
	"      --alias list   add a network-scoped alias for the container\n"
	"      --help         show this help\n"
	"      --ip string    IPv4 address (e.g., 172.30.100.104)\n";

static int cmd_network_connect(struct cli *cli, int argc, char **argv)
{
	enum { OPT_ALIAS = 256, OPT_IP };
	static const struct option options[] = {
		{ "alias", required_argument, NULL, OPT_ALIAS },
		{ "ip", required_argument, NULL, OPT_IP },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	berth_container_connect_opts o = BERTH_CONTAINER_CONNECT_OPTS_INIT;
	struct list aliases = { 0 };
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, connect_usage)) != -1) {
		if (opt == OPT_ALIAS)
			list_add(&aliases, optarg);
		else if (opt == OPT_IP)
			o.ip = optarg;
		else {
			free(aliases.v);
			return cli_opt_status(opt);
		}
	}
	o.aliases = aliases.v;
	if (cli_args(argc, 2, 2, "network connect", connect_usage))
		status = 125;
	else if (!(ctx = cli_context(cli)))
		status = 1;
	else {
		if (berth_container_network_connect(ctx, argv[optind + 1], argv[optind], &o, &err) < 0)
			status = cli_fail(err);
		berth_ctx_free(ctx);
	}
	free(aliases.v);
	return status;
}

static const char disconnect_usage[] =
	"Usage:  berth network disconnect [OPTIONS] NETWORK CONTAINER\n"
	"\n"
	"Disconnect a container from a network\n"
	"\n"
	"Options:\n"
	"  -f, --force   accepted for Docker's sake (a removed network is disconnected from anyway)\n"
	"      --help    show this help\n";

static int cmd_network_disconnect(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f", options, disconnect_usage)) != -1)
		if (opt != 'f')
			return cli_opt_status(opt);
	if (cli_args(argc, 2, 2, "network disconnect", disconnect_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_container_network_disconnect(ctx, argv[optind + 1], argv[optind], &err) < 0)
		status = cli_fail(err);
	berth_ctx_free(ctx);
	return status;
}

static const char prune_usage[] =
	"Usage: berth network prune [OPTIONS]\n"
	"\n"
	"Remove all unused networks\n"
	"\n"
	"Options:\n"
	"  -f, --force   do not prompt for confirmation (berth never prompts)\n"
	"  -h, --help    show this help\n";

static int cmd_network_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	berth_ctx *ctx;
	char **names;
	size_t n;
	int opt;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f", options, prune_usage)) != -1)
		if (opt != 'f')
			return cli_opt_status(opt);
	if (cli_args(argc, 0, 0, "network prune", prune_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_network_prune(ctx, &names, &n, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	if (n)
		printf("Deleted Networks:\n");
	for (size_t i = 0; i < n; i++)
		printf("%s\n", names[i]);
	berth_network_names_free(names, n);
	berth_ctx_free(ctx);
	return 0;
}

int cmd_network(struct cli *cli, int argc, char **argv)
{
	static const struct command subs[] = {
		{ "connect", "connect a container to a network", cmd_network_connect },
		{ "create", "create a network", cmd_network_create },
		{ "disconnect", "disconnect a container from a network", cmd_network_disconnect },
		{ "inspect", "display detailed information on one or more networks", cmd_network_inspect },
		{ "ls", "list networks", cmd_network_ls },
		{ "list", NULL, cmd_network_ls },
		{ "prune", "remove all unused networks", cmd_network_prune },
		{ "rm", "remove one or more networks", cmd_network_rm },
		{ "remove", NULL, cmd_network_rm },
		{ NULL, NULL, NULL },
	};

	return cli_group(cli, argc, argv, subs, "Manage networks");
}

/* ---- port --------------------------------------------------------------- */

static const char port_usage[] =
	"Usage: berth port CONTAINER [PRIVATE_PORT[/PROTO]]\n"
	"\n"
	"List port mappings or a specific mapping for the container\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

int cmd_port(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *text = NULL, want[32] = "";
	json_t *doc, *bindings, *b;
	const char *key;
	int opt, found = 0;
	size_t i;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, port_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, 2, "port", port_usage))
		return 125;
	if (optind + 1 < argc)
		snprintf(want, sizeof(want), strchr(argv[optind + 1], '/') ? "%s" : "%s/tcp", argv[optind + 1]);
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_container_inspect(ctx, argv[optind], &text, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	berth_ctx_free(ctx);
	doc = json_loads(text, 0, NULL);
	berth_string_free(text);
	json_object_foreach(json_object_get(json_object_get(doc, "NetworkSettings"), "Ports"), key, bindings) {
		if (*want && strcmp(want, key))
			continue;
		json_array_foreach(bindings, i, b) {
			const char *ip = json_string_value(json_object_get(b, "HostIp"));
			const char *port = json_string_value(json_object_get(b, "HostPort"));

			if (*want)
				printf("%s:%s\n", ip ? ip : "", port ? port : "");
			else
				printf("%s -> %s:%s\n", key, ip ? ip : "", port ? port : "");
			found++;
		}
	}
	json_decref(doc);
	if (*want && !found) {
		fprintf(stderr, "berth: no public port '%s' published for %s\n", want, argv[optind]);
		return 1;
	}
	return 0;
}
