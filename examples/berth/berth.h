/* The berth example CLI: shared declarations of its commands. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <berth/berth.h>

#include "format.h"

/* Global options, parsed before the command. */
struct cli {
	const char *root;
	const char *runroot;
	berth_log_level log_level;
	const char *prog;
};

/* A command gets the arguments after its name (argv[0] is the name). */
struct command {
	const char *name;
	const char *summary;
	int (*run)(struct cli *cli, int argc, char **argv);
};

/* Opens a context from the global options; prints the error and returns NULL on failure. */
berth_ctx *cli_context(struct cli *cli);
/* Prints "berth: <message>" for err to stderr, frees it and returns 1 (the exit status). */
int cli_fail(berth_error *err);

/* cli.c: getopt_long in GNU order with -h/--help added. Set optind = 0
 * before the first call (glibc then starts over on the new argv). Returns
 * the option, -1 after the last, or CLI_HELP_SHOWN (usage printed to
 * stdout) / CLI_USAGE_ERROR (one line and the usage printed to stderr):
 * return cli_opt_status() of those. */
#define CLI_HELP_OPTION { "help", no_argument, NULL, 'h' }
#define CLI_HELP_SHOWN (-2)
#define CLI_USAGE_ERROR (-3)
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	       const char *usage);
int cli_opt_status(int opt);
/* Checks that min..max (max < 0: any) arguments follow the options; prints
 * Docker's "requires exactly N argument(s)" and the usage and returns 125 if not. */
int cli_args(int argc, int min, int max, const char *name, const char *usage);
/* Prints rows (a JSON array of objects with Docker's field names, consumed)
 * through --format (see format.h), table the default; returns 0, or 1 after
 * printing a template error. */
int cli_print_rows(const char *format, const char *table, const struct fmt_header *headers,
		   json_t *rows);
/* Prints inspect documents (a JSON array, consumed): Docker's indented
 * array without --format (or with json), else each through the template;
 * 0, or 1 after a template error. */
int cli_print_inspect(const char *format, json_t *docs);
/* Prints "WARNING! <warning>" and Docker's question; whether y was answered. */
bool cli_confirm(const char *warning);
/* What a prune removed, as Docker prints it: "Deleted <what>:", one name a
 * line, then "Total reclaimed space: <size>". */
void cli_print_pruned(const char *what, char *const *names, size_t n, unsigned long long bytes);
/* A growing NULL-terminated list of borrowed strings (option values); start
 * from { 0 }, free v. Aborts when out of memory. */
struct list {
	const char **v;
	size_t n;
};
void list_add(struct list *l, const char *s);
/* An inspect command (image inspect, network inspect): -f/--format, one or
 * more names, each given to one() (NULL after it printed why: status 1),
 * the documents printed as a JSON array or through the format. */
int cli_inspect(struct cli *cli, int argc, char **argv, const char *name, const char *usage,
		json_t *(*one)(berth_ctx *ctx, const char *name));
/* Docker's byte sizes: "512m", "1g", "64k", "100" (b, k, m, g; an optional
 * trailing b); -1 when malformed. */
long long cli_bytes(const char *s);
/* The "Commands:" part of a usage: each command with a summary. */
void cli_commands_usage(FILE *out, const char *path, const struct command *cmds);
/* Runs the sub-command of a group ("image", "system"), or prints the group's
 * usage (summary, then its sub-commands). */
int cli_group(struct cli *cli, int argc, char **argv, const struct command *subs, const char *summary);

int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);

/* cmd_image.c */
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
int cmd_image(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_image_inspect(struct cli *cli, int argc, char **argv);
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);

/* cmd_storage.c */
int cmd_image_mount(struct cli *cli, int argc, char **argv);
int cmd_image_unmount(struct cli *cli, int argc, char **argv);
int cmd_system(struct cli *cli, int argc, char **argv);

/* cmd_volume.c */
int cmd_volume(struct cli *cli, int argc, char **argv);

/* cmd_container.c */
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_container(struct cli *cli, int argc, char **argv);
int cmd_container_inspect(struct cli *cli, int argc, char **argv);
/* Docker's exit status for a failed start (prints the error): 127, 126, 125. */
int cli_start_status(berth_error *err);

/* cmd_network.c */
int cmd_network(struct cli *cli, int argc, char **argv);
int cmd_port(struct cli *cli, int argc, char **argv);

/* cmd_boot.c */
int cmd_system_boot(struct cli *cli, int argc, char **argv);

/* cmd_attach.c */
int cmd_attach(struct cli *cli, int argc, char **argv);
/* berth run -t without -d: starts id and attaches our terminal to it; the
 * container's exit status, or 0 once detached. */
int cli_run_terminal(berth_ctx *ctx, const char *id, bool interactive, bool auto_remove);
int cmd_inspect(struct cli *cli, int argc, char **argv);

/* cmd_container_ops.c */
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_unpause(struct cli *cli, int argc, char **argv);
int cmd_restart(struct cli *cli, int argc, char **argv);
int cmd_rename(struct cli *cli, int argc, char **argv);
int cmd_top(struct cli *cli, int argc, char **argv);
int cmd_container_prune(struct cli *cli, int argc, char **argv);
int cmd_cp(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_commit(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
/* ps --filter: 1 after printing an error for a filter ps does not know;
 * whether a container's inspect document passes every filter. */
int ps_filter_check(berth_ctx *ctx, char *const *filters, size_t n);
bool ps_filter_match(berth_ctx *ctx, const json_t *doc, char *const *filters, size_t n);

#endif
