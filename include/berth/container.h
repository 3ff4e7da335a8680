/* berth/container.h: containers made from images, as Docker means them.
 *
 * A container is an image's snapshot plus a runtime-spec config the engine
 * writes from the image's config (Entrypoint, Cmd, Env, WorkingDir, User)
 * and the options below, with Docker's defaults: its 14 capabilities, masked
 * and read-only /proc and /sys paths, a private /dev, /dev/shm, and
 * /etc/hostname, /etc/hosts and /etc/resolv.conf generated per container.
 *
 * No daemon: each started container has a monitor, a small program
 * (berth-monitor, in libexecdir; BERTH_MONITOR names another) that is the
 * parent of the container's init, outlives the caller, holds its stdio or
 * terminal, writes its log (rotated with the max-size/max-file log opts),
 * serves attach and resize on <runroot>/containers/<id>/attach.sock, runs
 * its healthcheck, applies its restart policy and records how it ended. Every call works on the state
 * on disk (<root>/containers/<id>/, live parts under the run root) under a
 * per-container lock, so a CLI and a script manage the same containers at
 * once. Containers are named by id (64 hex digits), a unique prefix of it,
 * or their name.
 */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include <berth/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What to make. Arrays are NULL-terminated; NULL means "as the image says". */
typedef struct {
	size_t size;                    /* sizeof(berth_container_create_opts): set by the INIT macro */
	const char *name;               /* unique, [a-zA-Z0-9][a-zA-Z0-9_.-]*; NULL: the id's first 12 */
	const char *const *cmd;         /* replaces the image's Cmd */
	const char *const *entrypoint;  /* replaces the image's Entrypoint (and drops its Cmd
					   unless cmd is given); an empty array: none */
	const char *const *env;         /* "KEY=VALUE", over the image's Env */
	const char *workdir;            /* replaces WorkingDir; created when missing */
	const char *user;               /* user[:group], names or ids, resolved in the image's
					   /etc/passwd and /etc/group */
	const char *hostname;           /* NULL: the id's first 12 digits */
	int tty;                        /* give the process a terminal */
	int read_only;                  /* mount the root file system read-only */
	int privileged;                 /* every capability, no masked paths, all devices */
	const char *const *cap_add;     /* capability names, "CAP_" optional, "ALL" */
	const char *const *cap_drop;
	int no_new_privileges;
	long long memory;               /* bytes; 0: no limit */
	long long memory_swap;          /* memory + swap in bytes; -1 unlimited; 0: as Docker */
	long long nano_cpus;            /* CPUs * 1e9 (--cpus 1.5: 1500000000); 0: no limit */
	long long cpu_shares;           /* relative weight; 0: the default */
	long long pids_limit;           /* 0: no limit */
	const char *network;            /* "none" (default), "host" */
	const char *const *labels;      /* "KEY=VALUE" */
	int auto_remove;                /* removed once it ends (--rm) */
	const char *stop_signal;        /* NULL: the image's StopSignal, else SIGTERM */
	int stop_timeout;               /* seconds before stop kills; 0: 10 */
	int open_stdin;                 /* keep stdin open for attach (-i) */
	const char *restart;            /* "no" (default), "on-failure[:N]", "always",
					   "unless-stopped": applied by the monitor */
	const char *const *log_opts;    /* json-file options: "max-size=10m", "max-file=3" */
	const char *health_cmd;         /* a shell command (CMD-SHELL), over the image's */
	long long health_interval;      /* nanoseconds; 0: the image's, else 30 s */
	long long health_timeout;       /* nanoseconds; 0: the image's, else 30 s */
	int health_retries;             /* 0: the image's, else 3 */
	int no_healthcheck;             /* disable the image's healthcheck */
} berth_container_create_opts;

#define BERTH_CONTAINER_CREATE_OPTS_INIT                                                  \
	{ sizeof(berth_container_create_opts), NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, \
	  NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0 }

/* Makes a container from an image (a name or an id in the store; pull it
 * first): its snapshot, its config and its generated /etc files. Puts the
 * new id (64 hex digits, free with berth_string_free()) in *id. Errors:
 * ENOTFOUND for an unknown image, or a user missing from the image;
 * EEXISTS for a name in use; EINVAL for a bad option (named). A failure
 * leaves nothing behind. */
BERTH_EXTERN int berth_container_create(berth_ctx *ctx, const char *image,
					const berth_container_create_opts *opts, char **id,
					berth_error **err);

typedef struct {
	size_t size;      /* sizeof(berth_container_start_opts): set by the INIT macro */
	const int *stdio; /* the container's 0, 1 and 2 (-1: /dev/null); NULL: detached, its
			     output goes to its log (and to attached clients) and its input
			     is /dev/null, or with open_stdin a pipe attach writes to */
	int attach_first; /* detached: the monitor reads no output until the first
			     berth_container_attach (at most 10 s), so the attacher
			     misses none of it (berth run -it) */
} berth_container_start_opts;

#define BERTH_CONTAINER_START_OPTS_INIT { sizeof(berth_container_start_opts), NULL, 0 }

/* Starts a created or exited container under a new monitor and returns
 * once its process runs. Errors: ESTATE when it runs already; ENOTFOUND
 * (exit code 127 for a CLI) when the command is not in the image, EPERM
 * (126) when it cannot be executed; as berth_runtime_create. */
BERTH_EXTERN int berth_container_start(berth_ctx *ctx, const char *name,
				       const berth_container_start_opts *opts, berth_error **err);

/* How a container ended. */
typedef struct {
	size_t size;    /* sizeof(berth_container_exit): set by the INIT macro */
	int code;       /* exit code, or 128 + signal; -1 when nothing recorded it (its
			   monitor was killed) */
	int oom_killed; /* its memory limit killed it */
} berth_container_exit;

#define BERTH_CONTAINER_EXIT_INIT { sizeof(berth_container_exit), 0, 0 }

/* Waits at most timeout_ms (-1: as long as it runs) for the container to
 * end and fills *out. A container that is not running returns at once with
 * how it last ended; one whose restart policy restarts it returns at the
 * end of its current run, as Docker's wait does. Errors: ETIMEOUT, ENOTFOUND; ESTATE for a container
 * created but never started. */
BERTH_EXTERN int berth_container_wait(berth_ctx *ctx, const char *name, int timeout_ms,
				      berth_container_exit *out, berth_error **err);

/* Sends sig to the container's init. Errors: ESTATE when it is not running. */
BERTH_EXTERN int berth_container_kill(berth_ctx *ctx, const char *name, int sig,
				      berth_error **err);

/* Sends the stop signal, waits timeout_s (-1: the container's stop timeout)
 * and then SIGKILL, and waits for it to end. Errors: ESTATE when it is not
 * running (Docker says so too). */
BERTH_EXTERN int berth_container_stop(berth_ctx *ctx, const char *name, int timeout_s,
				      berth_error **err);

enum { BERTH_CONTAINER_REMOVE_FORCE = 1 /* kill it first when it runs */ };
/* Removes a container: its snapshot, config, log and state. Errors: ESTATE
 * for a running container without BERTH_CONTAINER_REMOVE_FORCE. */
BERTH_EXTERN int berth_container_remove(berth_ctx *ctx, const char *name, int flags,
					berth_error **err);

/* The container as `docker inspect` shows it (Id, Name, Created, Path,
 * Args, State, Image, Config, HostConfig, LogPath), JSON text; free with
 * berth_string_free(). */
BERTH_EXTERN int berth_container_inspect(berth_ctx *ctx, const char *name, char **json,
					 berth_error **err);

/* The ids of every container, oldest first; free with berth_container_ids_free(). */
BERTH_EXTERN int berth_container_ids(berth_ctx *ctx, char ***ids, size_t *count,
				     berth_error **err);
BERTH_EXTERN void berth_container_ids_free(char **ids, size_t count);

/* Attaching to a detached container through its monitor's socket. */
typedef struct {
	size_t size;             /* sizeof(berth_container_attach_opts): set by the INIT macro */
	int stdin_fd;            /* read and sent to the container's stdin (a terminal, or
				    its stdin pipe with open_stdin); at its end the
				    container's stdin is closed (a terminal gets ^D); -1: none */
	int stdout_fd;           /* where its output goes (a terminal's: all of it) */
	int stderr_fd;           /* where its stderr goes (2); -1: to stdout_fd */
	const char *detach_keys; /* read on stdin_fd, they detach: "ctrl-p,ctrl-q" (the
				    default, NULL), "ctrl-a,d", "x"; "": none */
} berth_container_attach_opts;

#define BERTH_CONTAINER_ATTACH_OPTS_INIT { sizeof(berth_container_attach_opts), -1, 1, 2, NULL }

/* Streams a running container's stdio to and from the given fds until it
 * ends (*detached = 0, *how filled: code -1 when its monitor did not say)
 * or the detach keys are read (*detached = 1; it goes on running). What it
 * printed before the attach is in its log. how and detached may be NULL.
 * Blocks; the caller's signals are its own (forward SIGWINCH with resize).
 * Errors: ESTATE when it is not running, EINVAL for bad detach keys, EOS. */
BERTH_EXTERN int berth_container_attach(berth_ctx *ctx, const char *name,
					const berth_container_attach_opts *opts,
					berth_container_exit *how, int *detached, berth_error **err);

/* Sets the size of a running container's terminal (its processes get
 * SIGWINCH). Errors: ESTATE when it is not running or has no terminal. */
BERTH_EXTERN int berth_container_resize(berth_ctx *ctx, const char *name, unsigned rows,
					unsigned cols, berth_error **err);

/* After a host reboot: starts (detached) every container that ran when
 * its monitor went away, or ended, and whose restart policy asks for it:
 * always; unless-stopped unless the user stopped it; on-failure after a
 * failure within its retries, unless the user stopped it. Puts their ids
 * in *started (free with berth_container_ids_free()). A container that
 * fails to start is logged and skipped. Run it once at boot (see
 * docs/architecture.md for a systemd unit). */
BERTH_EXTERN int berth_container_boot(berth_ctx *ctx, char ***started, size_t *count,
				      berth_error **err);

enum {
	/* detached: read no output before the first attach (at most 10 s) */
	BERTH_CONTAINER_SUPERVISE_ATTACH_FIRST = 1,
};
/* What a monitor does, for a program of one's own: starts the created
 * container `id` with stdio (NULL: its output to its log and to the clients
 * of its attach socket), writes one line to
 * ready_fd ("ok <pid>" or "error <code> <message>") once it runs, and
 * supervises it until it ends, recording how. Runs in the calling process,
 * which must have no other threads (it reaps children). */
BERTH_EXTERN int berth_container_supervise(berth_ctx *ctx, const char *id, const int *stdio,
					   int flags, int ready_fd, berth_error **err);

#ifdef __cplusplus
}
#endif

#endif
