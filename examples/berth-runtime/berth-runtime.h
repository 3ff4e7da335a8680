/* berth-runtime: an OCI runtime command line (runc/crun compatible) over
 * libberth's runtime module. Shared declarations of its commands. */
#ifndef BERTH_RUNTIME_CLI_H
#define BERTH_RUNTIME_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <berth/berth.h>

/* Global options, parsed before the command. */
struct rcli {
	const char *root;
	const char *log_path;
	bool log_json;
	bool debug;
	FILE *log;          /* --log, or NULL */
	berth_ctx *ctx;
	berth_runtime *rt;
};

struct rcommand {
	const char *name;
	const char *summary;
	int (*run)(struct rcli *cli, int argc, char **argv);
};

/* Opens the context and runtime from the global options; 0 or 1 (printed). */
int rcli_open(struct rcli *cli);
/* Reports err ("berth-runtime: <message>" on stderr and, with --log, a
 * log line), frees it and returns 1, the exit status. */
int rcli_fail(struct rcli *cli, berth_error *err);
/* Reports a usage or argument error the same way; returns 1. */
int rcli_failf(struct rcli *cli, const char *fmt, ...) BERTH_PRINTF(2, 3);
/* A signal from "KILL", "SIGKILL" or "9"; -1 when unknown. */
int rcli_signal(const char *s);
/* Reads a whole file ("-": stdin) into a new string; NULL on failure. */
char *rcli_read_file(const char *path);
/* Waits for our child pid while forwarding signals to it; with tty_master
 * >= 0 also copies between our stdio and the pty. Returns the exit status
 * as a shell reports it (128+signal when killed). */
int rcli_supervise(int pid, int tty_master);
/* A listening console socket in a fresh temp dir, for foreground terminals:
 * *path is its address (free it), *lfd the listener. */
int rcli_console_listen(char **path, int *lfd);
/* Accepts on the listener and receives the pty master; -1 on failure. */
int rcli_console_receive(int lfd);
void rcli_console_cleanup(char *path, int lfd);

/* The options of create, and of run (run set: --detach and --keep too). */
struct create_args {
	bool run;
	berth_runtime_create_opts opts;
	const char *bundle;
	const char *id;
	bool detach, keep;
};
/* Parses them; 0, or 1 after reporting a usage error. */
int rcli_create_opts(struct rcli *cli, int argc, char **argv, struct create_args *a);

int cmd_create(struct rcli *cli, int argc, char **argv);
int cmd_start(struct rcli *cli, int argc, char **argv);
int cmd_run(struct rcli *cli, int argc, char **argv);
int cmd_exec(struct rcli *cli, int argc, char **argv);
int cmd_state(struct rcli *cli, int argc, char **argv);
int cmd_kill(struct rcli *cli, int argc, char **argv);
int cmd_delete(struct rcli *cli, int argc, char **argv);
int cmd_pause(struct rcli *cli, int argc, char **argv);
int cmd_resume(struct rcli *cli, int argc, char **argv);
int cmd_ps(struct rcli *cli, int argc, char **argv);
int cmd_events(struct rcli *cli, int argc, char **argv);
int cmd_list(struct rcli *cli, int argc, char **argv);
int cmd_update(struct rcli *cli, int argc, char **argv);
int cmd_spec(struct rcli *cli, int argc, char **argv);
int cmd_features(struct rcli *cli, int argc, char **argv);

#endif
