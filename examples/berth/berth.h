/* The berth example CLI: shared declarations of its commands. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <berth/berth.h>

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

int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);

/* cmd_image.c */
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
int cmd_image(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);

/* cmd_storage.c */
int cmd_image_mount(struct cli *cli, int argc, char **argv);
int cmd_system(struct cli *cli, int argc, char **argv);

#endif
