/* berth/container.h: containers made from images, as Docker means them.
 *
 * A container is an image's snapshot plus a runtime-spec config the engine
 * writes from the image's config (Entrypoint, Cmd, Env, WorkingDir, User)
 * and the options below, with Docker's defaults: its 14 capabilities, its
 * seccomp semantics (a profile of ours, installed and replaceable), masked
 * and read-only /proc and /sys paths, a private /dev, /dev/shm, and
 * /etc/hostname, /etc/hosts and /etc/resolv.conf generated per container.
 *
 * No daemon: each started container has a monitor, a small program
 * (berth-monitor, in libexecdir; BERTH_MONITOR names another) that is the
 * parent of the container's init, outlives the caller, holds its stdio,
 * writes its log and records how it ended. Every call works on the state
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
	const char *network;            /* "none" (default), "host", "container:<name|id>" */
	const char *const *labels;      /* "KEY=VALUE" */
	int auto_remove;                /* removed once it ends (--rm) */
	const char *stop_signal;        /* NULL: the image's StopSignal, else SIGTERM */
	int stop_timeout;               /* seconds before stop kills; 0: 10 */
	const char *seccomp;            /* NULL: the default profile (BERTH_DATADIR or
					   $(pkgdatadir)/seccomp/default.json; "builtin" too);
					   "unconfined"; else a profile's path, Docker's format
					   or an OCI linux.seccomp object. privileged without a
					   path: unconfined */
	int init;                       /* berth-init (pkglibexecdir; BERTH_INIT names another)
					   as pid 1: reaps, forwards signals */
	const char *const *ulimits;     /* "nofile=1024[:2048]" (Docker's names; -1 unlimited) */
	const char *const *devices;     /* "/dev/host[:/dev/in-container][:rwm]" */
	long long shm_size;             /* bytes of /dev/shm; 0: 64 MiB */
} berth_container_create_opts;

#define BERTH_CONTAINER_CREATE_OPTS_INIT                                                  \
	{ sizeof(berth_container_create_opts), NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, \
	  NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, 0 }

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
			     output goes to its log and its input is /dev/null */
} berth_container_start_opts;

#define BERTH_CONTAINER_START_OPTS_INIT { sizeof(berth_container_start_opts), NULL }

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
 * how it last ended. Errors: ETIMEOUT, ENOTFOUND; ESTATE for a container
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

/* What a monitor does, for a program of one's own: starts the created
 * container `id` with stdio (NULL: its output to its log), writes one line to
 * ready_fd ("ok <pid>" or "error <code> <message>") once it runs, and
 * supervises it until it ends, recording how. Runs in the calling process,
 * which must have no other threads (it reaps children). */
BERTH_EXTERN int berth_container_supervise(berth_ctx *ctx, const char *id, const int *stdio,
					   int ready_fd, berth_error **err);

#ifdef __cplusplus
}
#endif

#endif
