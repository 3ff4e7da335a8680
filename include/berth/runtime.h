/* berth/runtime.h: OCI runtime-spec bundles run as containers.
 *
 * A berth_runtime is a state root (default /run/berth-runtime) holding one
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
	const char *root; /* state root; NULL: /run/berth-runtime */
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

typedef struct {
	size_t size;                /* sizeof(berth_runtime_create_opts): set by the INIT macro */
	const char *console_socket; /* AF_UNIX socket path that receives the pty master
				       (SCM_RIGHTS) when process.terminal is true */
	const char *pid_file;       /* written with the init's pid once created */
	int preserve_fds;           /* fds 3..3+n-1 are passed to the container */
	int no_pivot;               /* move the root instead of pivot_root (ramfs roots) */
} berth_runtime_create_opts;

#define BERTH_RUNTIME_CREATE_OPTS_INIT { sizeof(berth_runtime_create_opts), NULL, NULL, 0, 0 }

/* Creates container `id` from a bundle directory: its config.json is
 * loaded and validated, namespaces, cgroup, mounts, devices and the process
 * are set up, and the user process waits until berth_runtime_start().
 * `config_json`, when not NULL, is the config's text used instead of
 * bundle/config.json (root.path still resolves against the bundle).
 * On success *pid (when not NULL) is the container's init; the caller's
 * process is its parent until it exits. Errors: EINVAL for a bad config
 * (naming the JSON path), EEXISTS when the id is in use, EUNSUPPORTED,
 * EPERM, EOS. A failure leaves no process, mount, cgroup or state behind. */
BERTH_EXTERN int berth_runtime_create(berth_runtime *rt, const char *id, const char *bundle,
					const char *config_json, const berth_runtime_create_opts *opts,
					int *pid, berth_error **err);
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
} berth_runtime_exec_opts;

#define BERTH_RUNTIME_EXEC_OPTS_INIT { sizeof(berth_runtime_exec_opts), NULL, NULL, 0 }

/* Runs a new process in a running container: `process_json` is a
 * runtime-spec process object. The process joins the container's
 * namespaces and cgroup; it is the caller's child and *pid its host pid.
 * Errors: ESTATE when the container is not running, EINVAL for a bad
 * process (naming the JSON path), ENOTFOUND when args[0] is missing. */
BERTH_EXTERN int berth_runtime_exec(berth_runtime *rt, const char *id,
				      const char *process_json, const berth_runtime_exec_opts *opts,
				      int *pid, berth_error **err);

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
