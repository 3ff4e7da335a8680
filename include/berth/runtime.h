/* berth/runtime.h: OCI runtime-spec bundles run as containers.
 *
 * A berth_runtime is a state root (default: <run root of the context>/runtime,
 * so /run/berth/runtime, rootless $XDG_RUNTIME_DIR/berth/runtime) holding one
 * directory per container: its state.json, a lock and, between create and
 * start, the exec.fifo the container's init waits on. Containers are named
 * by id; every call takes the id and works on the state found on disk, so a
 * container created by one process can be started, killed or deleted by
 * another (that is how conmon, containerd and podman drive a runtime).
 *
 * The lifecycle is the runtime-spec's: create sets everything up and leaves
 * the user process blocked; start lets it run; state reports it; kill signals
 * it; delete removes what create made once it has stopped.
 */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <berth/cgroup.h>
#include <berth/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_runtime berth_runtime;

typedef struct {
	size_t size;      /* sizeof(berth_runtime_opts): set by the INIT macro */
	const char *root; /* state root; NULL: berth_ctx_runroot(ctx) + "/runtime" */
} berth_runtime_opts;

#define BERTH_RUNTIME_OPTS_INIT { sizeof(berth_runtime_opts), NULL }

/* Opens a runtime over a state root (created on first use, mode 0700).
 * Errors: EINVAL for a relative root or bad options. Free with
 * berth_runtime_free(). */
BERTH_EXTERN int berth_runtime_new(berth_ctx *ctx, const berth_runtime_opts *opts,
				   berth_runtime **out, berth_error **err);
/* The state root in use, borrowed. */
BERTH_EXTERN const char *berth_runtime_root(const berth_runtime *rt);
/* Frees the handle; containers stay. NULL is allowed. */
BERTH_EXTERN void berth_runtime_free(berth_runtime *rt);

/* A process the runtime started in a container (its init, or one exec
 * started): the caller's child. Freeing it closes the descriptors it holds;
 * the process goes on. */
typedef struct berth_runtime_process berth_runtime_process;

/* How a process ended. */
typedef struct {
	size_t size;     /* sizeof(berth_runtime_exit): set by the INIT macro */
	int code;        /* its exit code, or 128 + the signal that ended it (137: SIGKILL) */
	int signal;      /* that signal; 0 when it exited */
	int oom_killed;  /* ended by SIGKILL while the container's cgroup's OOM killer
			    had killed (its memory limit) */
} berth_runtime_exit;

#define BERTH_RUNTIME_EXIT_INIT { sizeof(berth_runtime_exit), 0, 0, 0 }

/* How the process is given its stdio and descriptors, in both option
 * structs: nothing of the caller's own 0-2 changes, no dup2 around a call.
 * stdio NULL: the process inherits the caller's 0, 1 and 2; else stdio[0..2]
 * become its 0, 1 and 2 (-1: /dev/null). fds[0..nfds-1] become its 3, 4, ...
 * (then preserve_fds stays 0). With process.terminal the pty master goes to
 * console_socket (SCM_RIGHTS), or without one to berth_runtime_process_pty(). */
typedef struct {
	size_t size;                /* sizeof(berth_runtime_create_opts): set by the INIT macro */
	const char *console_socket; /* AF_UNIX socket path that receives the pty master
				       (SCM_RIGHTS) when process.terminal is true */
	const char *pid_file;       /* written with the init's pid once created */
	int preserve_fds;           /* fds 3..3+n-1 are passed to the container */
	int no_pivot;               /* move the root instead of pivot_root (ramfs roots) */
	int no_new_keyring;         /* keep the caller's session keyring (and its keys)
				       visible in the container, in the processes exec
				       starts too; by default each gets a new session
				       keyring named after the container id */
	const int *stdio;           /* see above */
	const int *fds;
	size_t nfds;                /* at most 1024 */
} berth_runtime_create_opts;

#define BERTH_RUNTIME_CREATE_OPTS_INIT \
	{ sizeof(berth_runtime_create_opts), NULL, NULL, 0, 0, 0, NULL, NULL, 0 }

/* Creates container `id` from a bundle directory: its config.json is
 * loaded and validated, namespaces, cgroup, mounts, devices and the process
 * are set up, and the user process waits until berth_runtime_start().
 * `config_json`, when not NULL, is the config's text used instead of
 * bundle/config.json (root.path still resolves against the bundle).
 * On success *proc (when not NULL) is the container's init, the caller's
 * child until it exits: wait for it with berth_runtime_process_wait(),
 * which records how it ended for every process to read. Errors: EINVAL for a bad config
 * (naming the JSON path), EEXISTS when the id is in use, EUNSUPPORTED,
 * EPERM, EOS. A failure leaves no process, mount, cgroup or state behind.
 * Without linux.cgroupsPath the cgroup is "/berth/<id>-<hash of the state
 * root>", so two state roots never share one. A cgroup that exists already
 * is used when it is empty; one that holds processes is refused (EBUSY)
 * unless the config's annotation "io.berth.cgroup.join" is "true", and then
 * delete leaves the cgroup and its other processes alone. */
BERTH_EXTERN int berth_runtime_create(berth_runtime *rt, const char *id, const char *bundle,
					const char *config_json, const berth_runtime_create_opts *opts,
					berth_runtime_process **proc, berth_error **err);
/* Lets a created container's process run. Errors: ENOTFOUND, ESTATE when
 * the container is not in the created state (started already, stopped). */
BERTH_EXTERN int berth_runtime_start(berth_runtime *rt, const char *id, berth_error **err);
/* The runtime-spec state of a container as JSON text (ociVersion, id,
 * status: creating, created, running, paused or stopped, pid, bundle,
 * rootfs, created, annotations). Free *json with berth_string_free(). */
BERTH_EXTERN int berth_runtime_state(berth_runtime *rt, const char *id, char **json,
				       berth_error **err);

enum { BERTH_RUNTIME_KILL_ALL = 1 /* every process in the container's cgroup */ };
/* Sends signal sig to the container's init, or with BERTH_RUNTIME_KILL_ALL to
 * every process of the container. Errors: ENOTFOUND, ESTATE when it has
 * stopped, EINVAL for a bad signal. */
BERTH_EXTERN int berth_runtime_kill(berth_runtime *rt, const char *id, int sig, int flags,
				      berth_error **err);

enum { BERTH_RUNTIME_DELETE_FORCE = 1 /* kill a running container first */ };
/* Removes a stopped (or created) container: its processes, cgroup and
 * state, then runs the poststop hooks. Errors: ENOTFOUND, ESTATE while
 * it runs without BERTH_RUNTIME_DELETE_FORCE. */
BERTH_EXTERN int berth_runtime_delete(berth_runtime *rt, const char *id, int flags,
					berth_error **err);

/* Freezes or thaws every process of the container through its cgroup.
 * Errors: ESTATE when not running (pause) or not paused (resume). */
BERTH_EXTERN int berth_runtime_pause(berth_runtime *rt, const char *id, berth_error **err);
BERTH_EXTERN int berth_runtime_resume(berth_runtime *rt, const char *id, berth_error **err);

/* The host pids of the container's processes; free with berth_runtime_pids_free(). */
BERTH_EXTERN int berth_runtime_ps(berth_runtime *rt, const char *id, int **pids,
				    size_t *count, berth_error **err);
BERTH_EXTERN void berth_runtime_pids_free(int *pids);

/* Resource usage of the container's cgroup (memory, cpu, pids): fills the
 * fields of *stats its size covers, BERTH_CGROUP_UNKNOWN where the host does
 * not report one. Errors: ENOTFOUND, EUNSUPPORTED without a cgroup. */
BERTH_EXTERN int berth_runtime_stats(berth_runtime *rt, const char *id, berth_cgroup_stats *stats,
				       berth_error **err);

/* The ids of the containers under the root, sorted; free with berth_runtime_list_free(). */
BERTH_EXTERN int berth_runtime_list(berth_runtime *rt, char ***ids, size_t *count,
				      berth_error **err);
BERTH_EXTERN void berth_runtime_list_free(char **ids, size_t count);

/* Applies an OCI linux.resources object (JSON text) to a container's
 * cgroup. Errors as berth_cgroup_set_resources(). */
BERTH_EXTERN int berth_runtime_update(berth_runtime *rt, const char *id,
					const char *resources_json, berth_error **err);

typedef struct {
	size_t size;                /* sizeof(berth_runtime_exec_opts): set by the INIT macro */
	const char *console_socket; /* as for create, when the process has terminal: true */
	const char *pid_file;       /* written with the new process's pid */
	int preserve_fds;
	const int *stdio;           /* as for create */
	const int *fds;
	size_t nfds;
} berth_runtime_exec_opts;

#define BERTH_RUNTIME_EXEC_OPTS_INIT { sizeof(berth_runtime_exec_opts), NULL, NULL, 0, NULL, NULL, 0 }

/* Runs a new process in a running container: `process_json` is a
 * runtime-spec process object. The process joins the container's
 * namespaces and cgroup; it is the caller's child, handed back in *proc
 * (may be NULL).
 * Errors: ESTATE when the container is not running, EINVAL for a bad
 * process (naming the JSON path), ENOTFOUND when args[0] is missing. */
BERTH_EXTERN int berth_runtime_exec(berth_runtime *rt, const char *id,
				      const char *process_json, const berth_runtime_exec_opts *opts,
				      berth_runtime_process **proc, berth_error **err);

/* The process's host pid; a pidfd of it (borrowed: it lives as long as p);
 * the pty master with process.terminal and no console socket, else -1
 * (borrowed too). */
BERTH_EXTERN int berth_runtime_process_pid(const berth_runtime_process *p);
BERTH_EXTERN int berth_runtime_process_pidfd(const berth_runtime_process *p);
BERTH_EXTERN int berth_runtime_process_pty(const berth_runtime_process *p);
/* Sends sig through the pidfd: never to another process that got its pid.
 * Errors: ESTATE once it has ended, EINVAL for a bad signal. */
BERTH_EXTERN int berth_runtime_process_signal(berth_runtime_process *p, int sig,
					      berth_error **err);
/* Waits at most timeout_ms (-1: as long as it takes; 0: a look) for the
 * process to end, reaps it and fills *out (may be NULL); for a container's
 * init the end is recorded in the container's state (see
 * berth_runtime_exit_status). Waiting again returns the same. Errors:
 * ETIMEOUT while it runs, ESTATE when something else (a waitpid(-1) of the
 * caller's) reaped it first. Safe from any thread; reaps only this process. */
BERTH_EXTERN int berth_runtime_process_wait(berth_runtime_process *p, int timeout_ms,
					    berth_runtime_exit *out, berth_error **err);
BERTH_EXTERN void berth_runtime_process_free(berth_runtime_process *p);
/* How container id's init ended, as its waiter recorded it: readable from
 * any process until the container is deleted. Errors: ENOTFOUND, ESTATE
 * while it runs or when nobody waited for it. */
BERTH_EXTERN int berth_runtime_exit_status(berth_runtime *rt, const char *id,
					   berth_runtime_exit *out, berth_error **err);

/* Space the state root takes, for `system df`. Leftovers are the remains of
 * creates that died (killed, crashed): a state directory without its state
 * and the cgroup it noted, which the next create or delete in this root, or
 * berth_runtime_prune(), removes; all of their bytes are reclaimable. */
typedef struct {
	size_t size;              /* sizeof(berth_runtime_usage): set by the INIT macro */
	long long containers;     /* containers in the root, in any state */
	long long bytes;          /* bytes (blocks) of the files below the root */
	long long leftovers;      /* remains of creates that died */
	long long leftover_bytes; /* their bytes (part of bytes) */
} berth_runtime_usage;

#define BERTH_RUNTIME_USAGE_INIT { sizeof(berth_runtime_usage), 0, 0, 0, 0 }

/* Fills the fields of *out its size covers; changes nothing (a root not
 * made yet is empty). Errors: EINVAL without out, EOS. */
BERTH_EXTERN int berth_runtime_usage_get(berth_runtime *rt, berth_runtime_usage *out,
					 berth_error **err);
/* Removes the leftovers (see berth_runtime_usage) that no live process
 * holds, cgroups included: what the next create would; *removed and
 * *bytes (may be NULL) get how many and their bytes. */
BERTH_EXTERN int berth_runtime_prune(berth_runtime *rt, size_t *removed, unsigned long long *bytes,
				     berth_error **err);

/* A default config.json like `runc spec` writes (busybox sh, rootfs
 * "rootfs"); rootless adds a user namespace mapping the caller. Free with
 * berth_string_free(). */
BERTH_EXTERN int berth_runtime_spec_default(int rootless, char **json, berth_error **err);
/* The runtime-spec features document of this build. */
BERTH_EXTERN int berth_runtime_features(char **json, berth_error **err);

#ifdef __cplusplus
}
#endif

#endif
