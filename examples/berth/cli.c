/* Option parsing shared by every command: GNU order (options anywhere,
 * "--" ends them), --help/-h on every command, Docker's wording and exit
 * status 125 for usage errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "berth.h"

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	       const char *usage)
{
	char spec[64];
	int opt;

	/* leading ':' tells a missing argument from an unknown flag; 'h' is
	 * every command's help; a '+' of the caller's (options end at the
	 * first argument) must come first */
	if (*shortopts == '+')
		snprintf(spec, sizeof(spec), "+:h%s", shortopts + 1);
	else
		snprintf(spec, sizeof(spec), ":h%s", shortopts);
	opterr = 0;
	opt = getopt_long(argc, argv, spec, longopts, NULL);
	if (opt == 'h') {
		fputs(usage, stdout);
		return CLI_HELP_SHOWN;
	}
	if (opt != '?' && opt != ':')
		return opt;
	/* a long option is the word before optind; a short one is optopt */
	if (!strncmp(argv[optind - 1], "--", 2))
		fprintf(stderr, "berth: %s: %s\n", opt == '?' ? "unknown flag" : "flag needs an argument",
			argv[optind - 1]);
	else if (opt == '?')
		fprintf(stderr, "berth: unknown shorthand flag: '%c' in -%c\n", optopt, optopt);
	else
		fprintf(stderr, "berth: flag needs an argument: '%c' in -%c\n", optopt, optopt);
	fputs(usage, stderr);
	return CLI_USAGE_ERROR;
}

int cli_opt_status(int opt)
{
	return opt == CLI_HELP_SHOWN ? 0 : 125;
}

int cli_args(int argc, int min, int max, const char *name, const char *usage)
{
	int n = argc - optind;

	if (n >= min && (max < 0 || n <= max))
		return 0;
	if (min == max)
		fprintf(stderr, "berth: \"berth %s\" requires exactly %d argument%s\n", name, min,
			min == 1 ? "" : "s");
	else if (n < min)
		fprintf(stderr, "berth: \"berth %s\" requires at least %d argument%s\n", name, min,
			min == 1 ? "" : "s");
	else
		fprintf(stderr, "berth: \"berth %s\" accepts at most %d argument%s\n", name, max,
			max == 1 ? "" : "s");
	fputs(usage, stderr);
	return 125;
}

void cli_commands_usage(FILE *out, const char *path, const struct command *cmds)
{
	fputs("Commands:\n", out);
	for (const struct command *c = cmds; c->name; c++)
		if (c->summary) /* aliases have none */
			fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nRun '%s COMMAND --help' for more information on a command.\n", path);
}

static void group_usage(FILE *out, const char *group, const char *summary, const struct command *subs)
{
	char path[64];

	snprintf(path, sizeof(path), "berth %s", group);
	fprintf(out, "Usage: %s COMMAND\n\n%s\n\n", path, summary);
	cli_commands_usage(out, path, subs);
}

int cli_group(struct cli *cli, int argc, char **argv, const struct command *subs, const char *summary)
{
	if (argc < 2) {
		group_usage(stderr, argv[0], summary, subs);
		return 125;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		group_usage(stdout, argv[0], summary, subs);
		return 0;
	}
	for (const struct command *c = subs; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(cli, argc - 1, argv + 1);
	fprintf(stderr, "berth: unknown command \"%s %s\"\n", argv[0], argv[1]);
	group_usage(stderr, argv[0], summary, subs);
	return 125;
}

int cli_print_rows(const char *format, const char *table, const struct fmt_header *headers,
		   json_t *rows)
{
	char *error = NULL;
	fmt *f = fmt_new(format, table, headers, stdout, &error);
	json_t *row;
	size_t i;

	if (f) {
		json_array_foreach (rows, i, row)
			if (fmt_row(f, row, &error) < 0)
				break;
		fmt_finish(f);
	}
	json_decref(rows);
	if (!error)
		return 0;
	fflush(stdout);
	fprintf(stderr, "berth: %s\n", error);
	free(error);
	return 1;
}

long long cli_bytes(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	long long mult = 1;

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'b': case 'B': case '\0': break;
	case 'k': case 'K': mult = 1LL << 10; break;
	case 'm': case 'M': mult = 1LL << 20; break;
	case 'g': case 'G': mult = 1LL << 30; break;
	default: return -1;
	}
	if (*end && end[1] && strcasecmp(end + 1, "b"))
		return -1;
	return (long long)(v * (double)mult);
}

void list_add(struct list *l, const char *s)
{
	const char **v = realloc(l->v, (l->n + 2) * sizeof(*v));

	if (!v)
		abort();
	l->v = v;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

int cli_print_inspect(const char *format, json_t *docs)
{
	if (!format || fmt_is_json(format)) { /* Docker's document: an array, indented */
		json_dumpf(docs, stdout, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(docs);
		return 0;
	}
	return cli_print_rows(format, NULL, NULL, docs);
}

bool cli_confirm(const char *warning)
{
	char answer[16] = "";

	printf("WARNING! %s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stdout);
	return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
}

void cli_print_pruned(const char *what, char *const *names, size_t n, unsigned long long bytes)
{
	char size[32];

	if (n)
		printf("Deleted %s:\n", what);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", names[i]);
	if (n)
		printf("\n");
	fmt_size((long long)bytes, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
}

int cli_inspect(struct cli *cli, int argc, char **argv, const char *name, const char *usage,
		json_t *(*one)(berth_ctx *ctx, const char *name))
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	berth_ctx *ctx;
	json_t *arr, *o;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f:", options, usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		format = optarg;
	}
	if (cli_args(argc, 1, -1, name, usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	arr = json_array();
	for (int i = optind; i < argc; i++)
		if ((o = one(ctx, argv[i])))
			json_array_append_new(arr, o);
		else
			status = 1;
	if (cli_print_inspect(format, arr))
		status = 1;
	berth_ctx_free(ctx);
	return status;
}
