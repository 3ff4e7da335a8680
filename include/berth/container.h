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

#include <berth/cgroup.h>
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
	const char *network;            /* "none" (default), "host", "container:<name|id>", or a
					   network's name ("bridge": the default one; berth/network.h) */
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
	int open_stdin;                 /* keep stdin open for attach (-i) */
	const char *restart;            /* "no" (default), "on-failure[:N]", "always",
					   "unless-stopped": applied by the monitor */
	const char *const *log_opts;    /* json-file options: "max-size=10m", "max-file=3" */
	const char *health_cmd;         /* a shell command (CMD-SHELL), over the image's */
	long long health_interval;      /* nanoseconds; 0: the image's, else 30 s */
	long long health_timeout;       /* nanoseconds; 0: the image's, else 30 s */
	int health_retries;             /* 0: the image's, else 3 */
	int no_healthcheck;             /* disable the image's healthcheck */
	const char *const *volumes;     /* -v: "name:/path[:opts]" (a named volume, created on
					   first use), "/host:/path[:opts]" (a bind; the host
					   directory made when missing), "/path" (an anonymous
					   volume); opts: ro, rw, nocopy, a bind's propagation */
	const char *const *mounts;      /* --mount: "type=volume|bind|tmpfs,source=,target=,
					   readonly,volume-opt=K=V,volume-nocopy,volume-label=K=V,
					   tmpfs-size=,tmpfs-mode=,bind-propagation=" (a bind
					   source must exist) */
	const char *const *tmpfs;       /* --tmpfs: "/path[:mount options]" */
	const char *const *volumes_from; /* --volumes-from: "container[:ro|rw]" */
	const char *const *publish;     /* "[ip:][hostPort:]containerPort[/tcp|udp]" (-p); no
					   hostPort: a free one. Bridge networks only */
	int publish_all;                /* every exposed port to a free host port (-P) */
	const char *const *network_aliases; /* --network-alias: more names the container answers
					   to on its user network (DNS) */
	const char *ip;                 /* --ip: its IPv4 address on its user network */
	const char *const *dns;         /* --dns: nameservers instead of the host's (on a user
					   network: after the network's own) */
	const char *const *dns_search;  /* --dns-search: search domains instead of the host's */
	const char *const *dns_options; /* --dns-option: resolv.conf options instead of the host's */
	const char *const *add_hosts;   /* --add-host: "name:ip" lines of /etc/hosts */
} berth_container_create_opts;

#define BERTH_CONTAINER_CREATE_OPTS_INIT                                                  \
	{ sizeof(berth_container_create_opts), NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, \
	  NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, 0, 0, NULL, NULL, \
	  NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL }

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

enum {
	BERTH_CONTAINER_REMOVE_FORCE = 1,   /* kill it first when it runs */
	BERTH_CONTAINER_REMOVE_VOLUMES = 2, /* its anonymous volumes too (rm -v), unless
					       another container uses them */
};
/* Removes a container: its snapshot, config, log and state, and its holds
 * on the volumes it mounts. Errors: ESTATE for a running container without
 * BERTH_CONTAINER_REMOVE_FORCE. */
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


/* ---- operations on existing containers (lib/container/ops.c) ---------- */

/* Called by berth_container_exec once the process runs, in the calling
 * thread: pid is its host pid, pty the master of its terminal with tty
 * (borrowed, valid until the callback returns), else -1. The process is
 * waited for once the callback returns (a terminal's copy loop belongs
 * here). */
typedef void (*berth_container_exec_started_fn)(int pid, int pty, void *userdata);

/* A process to run in a running container (docker exec). NULL fields: as
 * the container's init has them. */
typedef struct {
	size_t size;            /* sizeof(berth_container_exec_opts): set by the INIT macro */
	const char *const *cmd; /* what to run, NULL-terminated; required */
	const char *const *env; /* "KEY=VALUE", over the container's environment */
	const char *user;       /* user[:group], resolved in the container's /etc/passwd and
				   /etc/group as for create */
	const char *workdir;    /* absolute, in the container */
	int tty;                /* give it a terminal (see started) */
	const int *stdio;       /* its 0, 1 and 2 (-1: /dev/null); NULL: the caller's */
	int detach;             /* return once it runs: it stays the caller's child (reaped
				   when the caller reaps its children or ends) */
	berth_container_exec_started_fn started; /* may be NULL */
	void *userdata;
} berth_container_exec_opts;

#define BERTH_CONTAINER_EXEC_OPTS_INIT \
	{ sizeof(berth_container_exec_opts), NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }

/* Runs a process in a running container, with the container's
 * environment, user, working directory, capabilities and namespaces, and
 * waits for it (unless detach), filling *out (may be NULL) with how it
 * ended. Errors: ENOTFOUND for an unknown container ("No such container")
 * or a command missing from it, EPERM for one that cannot be executed,
 * ESTATE when the container is not running (or paused), EINVAL for bad
 * options or a user missing from the container. */
BERTH_EXTERN int berth_container_exec(berth_ctx *ctx, const char *name,
				      const berth_container_exec_opts *opts,
				      berth_container_exit *out, berth_error **err);

/* Freezes every process of a running container (status "paused"), or thaws
 * a paused one. Errors: ESTATE when it is not running (pause: or paused
 * already) / not paused (unpause). */
BERTH_EXTERN int berth_container_pause(berth_ctx *ctx, const char *name, berth_error **err);
BERTH_EXTERN int berth_container_unpause(berth_ctx *ctx, const char *name, berth_error **err);

/* Stops a running container as berth_container_stop does (timeout_s -1:
 * its own stop timeout), then starts it again detached. A container that
 * does not run is simply started. Errors: as stop and start. */
BERTH_EXTERN int berth_container_restart(berth_ctx *ctx, const char *name, int timeout_s,
					 berth_error **err);

/* Connecting a container to one more network (docker network connect). */
typedef struct {
	size_t size;                /* sizeof(berth_container_connect_opts): set by the INIT macro */
	const char *const *aliases; /* more DNS names on that network (user networks) */
	const char *ip;             /* its IPv4 address there (user networks); NULL: the next free */
} berth_container_connect_opts;

#define BERTH_CONTAINER_CONNECT_OPTS_INIT { sizeof(berth_container_connect_opts), NULL, NULL }

/* Connects container `name` to network `network` besides its own
 * (--network): recorded, so every later start attaches it too, and
 * attached at once when it runs (interface eth1, eth2, ...). EEXISTS when
 * connected already, EINVAL for a container on --network none, host or
 * container:, or aliases/ip on the default network; a failed attach
 * leaves it unconnected. */
BERTH_EXTERN int berth_container_network_connect(berth_ctx *ctx, const char *name, const char *network,
						 const berth_container_connect_opts *opts, berth_error **err);

/* Disconnects it from a network connect gave it (its interface goes at
 * once when it runs). ENOTFOUND when not connected; EUNSUPPORTED for its
 * own network (--network): not yet. */
BERTH_EXTERN int berth_container_network_disconnect(berth_ctx *ctx, const char *name, const char *network,
						    berth_error **err);

/* Gives a container a new name (the old one is free afterwards). Errors:
 * EEXISTS when another container has it, EINVAL for a malformed name or
 * the name it has already, ENOTFOUND. */
BERTH_EXTERN int berth_container_rename(berth_ctx *ctx, const char *name, const char *new_name,
					berth_error **err);

/* The processes of a running container as `docker top` lists them: JSON
 * text {"Titles": ["UID","PID","PPID","C","STIME","TTY","TIME","CMD"],
 * "Processes": [[...], ...]} with host pids; free with berth_string_free().
 * Errors: ESTATE when it is not running. */
BERTH_EXTERN int berth_container_top(berth_ctx *ctx, const char *name, char **json,
				     berth_error **err);

/* Removes every container that does not run (created, exited, dead). Puts
 * the removed ids in *ids (free with berth_container_ids_free(); both may
 * be NULL) and the bytes their changes took on disk in *reclaimed (may be
 * NULL). A container failing to go is skipped and logged; the call fails
 * only when nothing can be listed. */
BERTH_EXTERN int berth_container_prune(berth_ctx *ctx, char ***ids, size_t *count,
				       unsigned long long *reclaimed, berth_error **err);


/* ---- copies and exports (lib/container/copy.c) ------------------------ */

/* Extracts the uncompressed tar read from fd into directory dir of the
 * container (as berth_storage_copy_in: owners and modes kept, paths
 * resolved inside the container's root, entries never made outside dir).
 * Works on running and stopped containers. Errors: ENOTFOUND (container or
 * dir), ESCAPE for an entry leaving dir, EINVAL for a malformed tar, EPERM
 * for a container made with read_only. */
BERTH_EXTERN int berth_container_copy_to(berth_ctx *ctx, const char *name, const char *dir,
					 int fd, berth_error **err);
/* Writes path of the container (a file, symlink or directory tree) to fd as
 * an uncompressed tar whose top entry is named as (NULL: path's last
 * component). Errors: ENOTFOUND (container or path). */
BERTH_EXTERN int berth_container_copy_from(berth_ctx *ctx, const char *name, const char *path,
					   const char *as, int fd, berth_error **err);
/* Whether path exists in the container (resolved as it would resolve it)
 * and is a directory: *is_dir 1 or 0. Errors: ENOTFOUND when it is missing. */
BERTH_EXTERN int berth_container_path_is_dir(berth_ctx *ctx, const char *name, const char *path,
					     int *is_dir, berth_error **err);
/* Writes the container's whole root file system to fd as one uncompressed
 * tar (docker export). */
BERTH_EXTERN int berth_container_export(berth_ctx *ctx, const char *name, int fd,
					berth_error **err);


/* The container's changes against its image, as `docker diff` lists them:
 * JSON text [{"Path": "/etc", "Kind": 0}, ...] sorted by path, Kind 0 for
 * a changed path, 1 added, 2 deleted; free with berth_string_free(). The
 * image's root file system is mounted read-only for the call when it is
 * not mounted. Errors: ENOTFOUND (container, or its image removed). */
BERTH_EXTERN int berth_container_diff(berth_ctx *ctx, const char *name, char **json,
				      berth_error **err);


/* ---- resources (lib/container/resources.c) ---------------------------- */

/* The resource usage of a running container's cgroup (memory, CPU time,
 * pids), as berth_runtime_stats fills it. Errors: ESTATE when it is not
 * running. */
BERTH_EXTERN int berth_container_stats(berth_ctx *ctx, const char *name,
				       berth_cgroup_stats *stats, berth_error **err);

/* New limits for a container (docker update); 0 leaves a limit as it is. */
typedef struct {
	size_t size;           /* sizeof(berth_container_update_opts): set by the INIT macro */
	long long memory;      /* bytes */
	long long memory_swap; /* memory + swap in bytes; -1 unlimited */
	long long nano_cpus;   /* CPUs * 1e9 */
	long long cpu_shares;  /* relative weight */
	long long pids_limit;  /* -1: unlimited */
} berth_container_update_opts;

#define BERTH_CONTAINER_UPDATE_OPTS_INIT { sizeof(berth_container_update_opts), 0, 0, 0, 0, 0 }

/* Changes the limits of a container: applied to its cgroup at once when it
 * runs, and recorded (HostConfig, and the bundle) for its next start.
 * Errors: EINVAL for bad values (swap below memory, negative limits), or
 * those the kernel refuses (then nothing is recorded). */
BERTH_EXTERN int berth_container_update(berth_ctx *ctx, const char *name,
					const berth_container_update_opts *opts, berth_error **err);


/* ---- commit (lib/container/commit.c) -------------------------------- */

/* How a container becomes an image (docker commit). */
typedef struct {
	size_t size;                /* sizeof(berth_container_commit_opts): set by the INIT macro */
	const char *tag;            /* required: "repo[:tag]" of the new image */
	const char *comment;        /* -m */
	const char *author;         /* -a */
	const char *const *changes; /* Dockerfile instructions over the config: CMD,
				       ENTRYPOINT (JSON or shell form), ENV, LABEL,
				       WORKDIR, USER, EXPOSE, STOPSIGNAL */
} berth_container_commit_opts;

#define BERTH_CONTAINER_COMMIT_OPTS_INIT { sizeof(berth_container_commit_opts), NULL, NULL, NULL, NULL }

/* Makes an image of the container's image plus its changes (the storage
 * diff as one layer), with the container's Cmd, Entrypoint, Env,
 * WorkingDir, User and Labels and then the changes as its config, and tags
 * it. Puts the image ID in *id (free with berth_string_free()). Errors:
 * EINVAL for a missing tag or a bad change; as berth_image_commit. */
BERTH_EXTERN int berth_container_commit(berth_ctx *ctx, const char *name,
					const berth_container_commit_opts *opts, char **id,
					berth_error **err);


/* ---- events (lib/container/events.c) ---------------------------------- */

/* Called with one event, a line of JSON text in Docker's shape (status,
 * id, from, Type, Action, Actor{ID, Attributes{image, name, ...}}, time,
 * timeNano) ending in a newline, borrowed for the call. Non-zero stops. */
typedef int (*berth_container_event_fn)(const char *json_line, void *userdata);

/* Calls fn for each event the engine recorded (create, start, kill,
 * pause, unpause, rename, destroy, and what the monitor records) with a
 * time (ns since the epoch) from since_ns to until_ns (0: no bound), oldest
 * first; with follow, goes on with new events as they come until fn
 * returns non-zero or until_ns has passed. Events live in the run root:
 * a reboot forgets them, and the oldest go once they pass 1 to 2 MiB. */
BERTH_EXTERN int berth_container_events(berth_ctx *ctx, long long since_ns, long long until_ns,
					int follow, berth_container_event_fn fn, void *userdata,
					berth_error **err);

#ifdef __cplusplus
}
#endif

#endif
