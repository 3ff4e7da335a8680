/* Internal API of the runtime module.
 *
 * A config is parsed once into a bt_rt_config: every string the container's
 * setup needs is allocated, every flag computed and the seccomp filter
 * compiled before the fork, so the child (spawn.c, mounts.c, devices.c and
 * the bt_rt_child_* parts of security.c) runs only system calls on that
 * data: no malloc, no locks, no stdio. */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include "internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include <berth/runtime.h>

/* snprintf for JSON paths in error messages: a path cut short is still
 * a useful message, so truncation is fine here. */
static inline BT_PRINTF(3, 4) void bt_rt_jpath(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

struct berth_runtime {
	berth_ctx *ctx;
	char *root;
	pthread_mutex_t helper_lock; /* guards helper_fd */
	int helper_fd;               /* the exec helper's sealed memfd, made on first use */
};

/* ---- the parsed config (config.c) ------------------------------------- */

enum { BT_MNT_BIND = 1, BT_MNT_DIR = 2, BT_MNT_RO_REMOUNT = 4, BT_MNT_CGROUP = 8 };

typedef struct {
	char *source;           /* host path for binds; else the device ("proc", "tmpfs") */
	char *dest;             /* absolute path in the container */
	char *type;             /* NULL for binds */
	char *data;             /* options the kernel parses ("size=64k,mode=755") or NULL */
	unsigned long flags;    /* MS_* */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) or 0 */
	int kind;               /* BT_MNT_* */
	char *what;             /* "mounts[2] (/proc)": errors in the child name it */
} bt_rt_mount;

typedef struct {
	char *path;     /* absolute path in the container */
	mode_t mode;    /* S_IFCHR/S_IFBLK/S_IFIFO | permissions */
	dev_t dev;
	uid_t uid;
	gid_t gid;
} bt_rt_device;

typedef struct {
	int resource;
	struct rlimit lim;
} bt_rt_rlimit;

typedef struct {
	char *path;
	char **args;    /* NULL-terminated; args[0] defaults to path */
	char **env;     /* NULL-terminated */
	int timeout;    /* seconds; 0: none */
} bt_rt_hook;

enum {
	BT_HOOK_PRESTART,
	BT_HOOK_CREATE_RUNTIME,
	BT_HOOK_CREATE_CONTAINER,
	BT_HOOK_START_CONTAINER,
	BT_HOOK_POSTSTART,
	BT_HOOK_POSTSTOP,
	BT_HOOK_KINDS
};
extern const char *const bt_rt_hook_names[BT_HOOK_KINDS];

enum { BT_CAP_BOUNDING, BT_CAP_EFFECTIVE, BT_CAP_INHERITABLE, BT_CAP_PERMITTED,
       BT_CAP_AMBIENT, BT_CAP_SETS };

typedef struct {
	bool terminal;
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t ngids;
	bool has_umask;
	mode_t umask;
	char **args;           /* NULL-terminated */
	char **env;            /* NULL-terminated */
	char *cwd;
	bool has_caps;
	uint64_t caps[BT_CAP_SETS];
	bool nnp;
	bt_rt_rlimit *rlimits;
	size_t nrlimits;
	bool has_oom;
	char oom[24];          /* oomScoreAdj as text */
} bt_rt_process;

/* Namespaces in the order they are joined: user first, then the others. */
typedef struct {
	int type;       /* CLONE_NEW* */
	char *path;     /* NULL: a new namespace */
} bt_rt_ns;

typedef struct {
	char *key;      /* "net/ipv4/ip_forward": the path below /proc/sys */
	char *value;
} bt_rt_sysctl;

typedef struct {
	void *bpf;      /* struct sock_filter[] */
	unsigned short len;
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* */
} bt_rt_seccomp;

typedef struct bt_rt_config {
	json_t *json;            /* the whole config, owned */
	char *bundle;            /* absolute */
	char *rootfs;            /* absolute */
	bool root_ro;
	char *hostname;
	char *domainname;
	bt_rt_process proc;
	bt_rt_ns ns[8];
	size_t nns;
	int clone_flags;         /* CLONE_NEW* of the new namespaces (not cgroup) */
	int clone_flags_at_clone; /* those made by clone() ... */
	int unshare_flags;       /* ... and by unshare() after joining others by path */
	bool new_userns, new_cgroupns, new_mntns, new_pidns, new_timens;
	bool shared_mntns;       /* no mount namespace listed: the runtime's (chroot only) */
	char *time_offsets;      /* timens_offsets text, or NULL */
	char *uid_map, *gid_map; /* /proc/<pid>/[ug]id_map text */
	bt_rt_mount *mounts;
	size_t nmounts;
	bt_rt_device *devices;
	size_t ndevices;
	char **masked;
	size_t nmasked;
	char **readonly;
	size_t nreadonly;
	bt_rt_sysctl *sysctl;
	size_t nsysctl;
	unsigned long root_propagation; /* MS_* for "/" in the new mount namespace */
	const char *cgroups_path;       /* borrowed from json; may be NULL */
	const json_t *resources;        /* borrowed; may be NULL */
	const json_t *seccomp_json;     /* borrowed; compiled by bt_rt_seccomp_compile */
	bt_rt_seccomp seccomp;
	bt_rt_hook *hooks[BT_HOOK_KINDS];
	size_t nhooks[BT_HOOK_KINDS];
} bt_rt_config;

/* Parses and validates a config; errors name the JSON path. `bundle` is
 * the absolute bundle directory root.path resolves against. Takes a
 * reference to config. */
int bt_rt_config_parse(const json_t *config, const char *bundle, bt_rt_config **out,
		       berth_error **err);
/* Parses just a process object (exec's process.json), at JSON path `path`. */
int bt_rt_process_parse(const json_t *proc, const char *path, bt_rt_process *out,
			berth_error **err);
void bt_rt_process_clear(bt_rt_process *p);
void bt_rt_config_free(bt_rt_config *cfg);
/* Parses the hooks object into cfg (also used for poststop hooks read back
 * from the state). */
int bt_rt_hooks_parse(const json_t *hooks, bt_rt_hook **out, size_t *nout, int kind,
		      berth_error **err);
void bt_rt_hooks_free(bt_rt_hook *hooks, size_t n);

/* ---- security (security.c) --------------------------------------------- */
/* Parent side: capability names to masks, seccomp compiled to BPF, rlimits
 * checked against what this process may set. */
int bt_rt_caps_parse(const json_t *caps, const char *path, uint64_t out[BT_CAP_SETS],
		     berth_error **err);
int bt_rt_seccomp_compile(const json_t *seccomp, bt_rt_seccomp *out, berth_error **err);
/* The same through the cache of compiled filters in rt's root
 * (seccomp-cache.c): what create and exec call. */
int bt_rt_seccomp_get(const berth_runtime *rt, const json_t *seccomp, bt_rt_seccomp *out,
		      berth_error **err);
int bt_rt_rlimits_check(const bt_rt_process *p, berth_error **err);
/* Child side: async-signal-safe. Each returns 0 or -errno and sets *what. */
int bt_rt_child_process(const bt_rt_process *p, const bt_rt_seccomp *sc, bool in_userns,
			const char **what);
int bt_rt_child_seccomp(const bt_rt_seccomp *sc, const char **what);

/* ---- the exec helper (exec.c, bpf.c; exec-helper.h says why) ------------- */
enum { BT_EXEC_VIA_FD, BT_EXEC_VIA_PROC };
/* The runtime's sealed memfd holding the helper, made on first use; the fd
 * stays the handle's. */
int bt_rt_exec_helper(berth_runtime *rt, int *fd, berth_error **err);
/* How the child can run the helper under the seccomp filter sc (may be
 * NULL): execveat of the fd, or execve of /proc/self/fd/N; EUNSUPPORTED
 * when the filter refuses both. */
int bt_rt_exec_via(const bt_rt_seccomp *sc, int helper_fd, int *via, berth_error **err);
/* A copy of args (borrowed strings) with BT_EXEC_HELPER_SLOTS free slots in
 * front, for bt_rt_child_exec; free() it. NULL when out of memory. */
char **bt_rt_exec_argv(char *const *args);
/* Child side: runs prog (a path, or "#N" for fd N) through the helper, with
 * hargv from bt_rt_exec_argv; failures of the program's own execve are
 * reported on sync (-1: on stderr). Returns -errno when the helper could not
 * be started. */
int bt_rt_child_exec(int helper_fd, int via, char **hargv, const char *prog, char *const *env,
		     int sync);
/* What the compiled filter answers (SECCOMP_RET_*) for system call nr with
 * args on this machine's architecture. */
uint32_t bt_rt_seccomp_answer(const bt_rt_seccomp *sc, int nr, const uint64_t args[6]);

/* ---- the `cgroup` mount (cgroup-mount.c) -------------------------------- */
/* What a container's cgroup mount shows: only the container's own cgroup,
 * one view per hierarchy it is in. */
typedef struct {
	char *name;    /* below the mount ("memory", "cpu,cpuacct", "unified"); NULL: the
			  mount itself (a host with only the v2 tree) */
	char *dir;     /* the container's cgroup directory on the host */
	char *fs_opts; /* v1: the options naming the hierarchy ("memory",
			  "none,name=systemd"); NULL for cgroup2 */
} bt_rt_cgview;

typedef struct {
	bt_rt_cgview *views;
	size_t nviews;
	char **links;  /* pairs of link name and target: "cpu", "cpu,cpuacct" */
	size_t nlinks;
} bt_rt_cgmount;

/* Parent side: the views of cg (NULL: none, an empty mount). */
int bt_rt_cgmount_prepare(const berth_cgroup *cg, bt_rt_cgmount *out, berth_error **err);
void bt_rt_cgmount_clear(bt_rt_cgmount *cm);
/* Child side: mount m (a cgroup mount) below rootfd: with a cgroup namespace
 * of its own (own_ns) each hierarchy mounted as the namespace shows it,
 * else the host's directories bound; under a tmpfs unless the host has
 * only the v2 tree. */
int bt_rt_child_cgroup_mount(const bt_rt_mount *m, const bt_rt_cgmount *cm, bool own_ns,
			     int rootfd, const char **what);
/* Child side: the mount flags a remount of path must keep (a user
 * namespace locks them). */
unsigned long bt_rt_locked_flags(const char *path);

/* ---- child-side setup (mounts.c, devices.c) ----------------------------- */
int bt_rt_child_mounts(const bt_rt_config *cfg, const bt_rt_cgmount *cm, const char **what);
int bt_rt_child_devices(const bt_rt_config *cfg, int rootfd, const char **what);
int bt_rt_child_pivot(const bt_rt_config *cfg, bool no_pivot, const char **what);
int bt_rt_child_finish_fs(const bt_rt_config *cfg, const char **what);
/* Opens rel below rootfd as the container would see it (RESOLVE_IN_ROOT),
 * creating missing directories (and the last component as a directory or,
 * with file set, an empty file). O_PATH fd or -errno. */
int bt_rt_child_mkpath(int rootfd, const char *rel, bool file);
/* "/proc/self/fd/<fd>" into buf (at least 32 bytes). */
void bt_rt_fd_path(char *buf, int fd);

/* ---- spawning (spawn.c) ------------------------------------------------- */
typedef struct {
	const bt_rt_config *cfg;       /* create: the whole config */
	const bt_rt_process *proc;     /* exec: the process; create: &cfg->proc */
	const bt_rt_seccomp *seccomp;  /* the filter to load (may be empty) */
	int init_pid;                  /* exec: the running container's init */
	bool no_pivot;
	int console_fd;                /* connected console socket or -1 */
	int fifo_fd;                   /* create: exec.fifo opened O_PATH, else -1 */
	int preserve_fds;
	int lock_fd;                   /* the state lock: the child closes it, or
					  it would hold the lock as long as it lives */
	berth_cgroup *cgroup;          /* the child is born in it; may be NULL */
	const char *keyring;           /* the name of the new session keyring it joins
					  (the container id); NULL: the caller's is kept */
	const int *stdio;              /* 3 fds for 0-2 (-1: /dev/null); NULL: inherited */
	const int *fds;                /* become 3..3+nfds-1 (then preserve_fds is 0) */
	size_t nfds;                   /* at most BT_RT_MAX_FDS */
} bt_rt_spawn;

#define BT_RT_MAX_FDS 1024

#ifdef BERTH_TEST_HOOKS
/* Test builds: the child closes fds as if close_range were missing. */
extern bool bt_rt_test_no_close_range;
#endif

/* Forks the container process (inside sp->cgroup when given) and runs its
 * setup; returns when it is ready (create: blocked on the fifo; exec:
 * execve done) with its pid and a pidfd of it (the caller's). `on_hooks` is called with the child's pid when it reached
 * the point where createRuntime and createContainer hooks run. */
int bt_rt_spawn_run(berth_runtime *rt, const bt_rt_spawn *sp, int *pid, int *pidfd,
		    int (*on_hooks)(void *ud, int pid, berth_error **err),
		    void *ud, berth_error **err);

/* ---- lifecycle (runtime.c) --------------------------------------------- */
/* berth_runtime_create() for a config the engine already holds. */
int bt_runtime_create_json(berth_runtime *rt, const char *id, const char *bundle,
			   const json_t *config, const berth_runtime_create_opts *opts,
			   berth_runtime_process **proc,
			   berth_error **err);

/* The cgroupsPath of a container whose config has none:
 * "/berth/<id>-<hash of the state root>", so the same id in two state
 * roots gets two cgroups. */
int bt_rt_default_cgroup(const berth_runtime *rt, const char *id, char **out, berth_error **err);

/* Opens /proc/<pid>/ns/<kind> of each namespace of pid that differs from ours
 * (user first; pid only with with_pid): what joining pid's container takes. */
int bt_rt_open_ns_of(int pid, bool with_pid, int *nsfd, int *nstype, size_t *nns,
		     berth_error **err);

/* ---- hooks (hooks.c) ---------------------------------------------------- */
/* Runs the hooks in order with `state` on stdin. ns_pid > 0: each hook
 * runs in the namespaces of that process (createContainer, startContainer);
 * with in_container_root its path also resolves there. Errors name the
 * hook kind, index and path. A failing poststart or poststop hook is
 * logged as a warning and the next ones run (the spec: not fatal). */
int bt_rt_hooks_run(berth_runtime *rt, const bt_rt_hook *hooks, size_t n, int kind,
		    const char *state, int ns_pid, berth_error **err);

/* ---- state (state.c) ---------------------------------------------------- */
typedef struct {
	char *dir;            /* <root>/<id> */
	int lock_fd;
	json_t *json;         /* state.json */
} bt_rt_state;

/* Checks an id: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 1024 bytes. */
int bt_rt_id_check(const char *id, berth_error **err);
/* Makes <root>/<id> (EEXISTS when present) and locks it. */
int bt_rt_state_new(berth_runtime *rt, const char *id, bt_rt_state *st, berth_error **err);
/* Locks and loads an existing container's state (ENOTFOUND when absent). */
int bt_rt_state_open(berth_runtime *rt, const char *id, bt_rt_state *st, berth_error **err);
/* Saves state.json. What lives only as long as the containers it describes
 * (state.json, pid files) is written with bt_write_file_volatile: a crash of
 * the writer leaves the old file or the new one, and after a crash of the
 * machine the processes are gone too, so the milliseconds an fsync costs on
 * every create buy nothing. A state.json that does not parse is treated as
 * a create that died half-way (delete removes it). */
int bt_rt_state_save(bt_rt_state *st, berth_error **err);
/* The container's cgroup as its state records it (EUNSUPPORTED without). */
int bt_rt_state_cgroup(berth_runtime *rt, const bt_rt_state *st, const char *id, berth_cgroup **cg,
		       berth_error **err);
/* Closes the lock, frees; remove also deletes the directory. */
void bt_rt_state_close(bt_rt_state *st, bool remove);
/* Notes in the container's directory the cgroup create is making (made:
 * whether it makes it, or joins one made beforehand). */
int bt_rt_state_note_cgroup(bt_rt_state *st, const char *cgroups_path, bool made,
			    berth_error **err);
/* Kills what runs in the cgroup noted in dir (a create that died before
 * its state.json) and removes it, if the create made it. */
void bt_rt_state_noted_cgroup_remove(berth_runtime *rt, const char *dir, const char *id);
/* ---- the remains of creates that died (leftovers.c) ---- */
/* Whether root/id is a create that died half-way: no state.json (or, with
 * bad_state, one that does not parse) and its lock held by nobody. Its
 * bytes are added to *bytes (may be NULL); with remove it is removed with
 * the cgroup it noted, and true means it is gone. */
bool bt_rt_half_made(berth_runtime *rt, const char *id, bool bad_state, bool remove, uint64_t *bytes);
/* Every such remain of the root (and .new-* directories nobody holds):
 * their number, bytes added to *bytes; removed with remove. */
size_t bt_rt_sweep(berth_runtime *rt, bool remove, uint64_t *bytes);
/* "created", "running", "paused" or "stopped" from the saved pid, its start
 * time and the exec.fifo. */
const char *bt_rt_state_status(const bt_rt_state *st);
int bt_rt_state_pid(const bt_rt_state *st);
/* Field 22 of /proc/<pid>/stat, 0 when the process is gone or a zombie. */
unsigned long long bt_rt_proc_starttime(int pid);
/* Whether process pid was killed and is on its way out: SIGKILL pending,
 * or exiting (a pid namespace's init waits for its children first). */
bool bt_rt_proc_dying(int pid);
/* The spec's state JSON with the given status, newly allocated text. */
char *bt_rt_state_spec_json(const bt_rt_state *st, const char *status);

/* ---- the process contract (process.c, status.c) ------------------------ */
/* What the options give a process: its terminal, stdio and extra fds. */
typedef struct {
	const char *console_socket;
	const int *stdio;
	const int *fds;
	size_t nfds;
	int preserve_fds;
} bt_rt_io_opts;

typedef struct {
	int console;  /* for the child: connected console socket, or our socket pair's end */
	int pty_peer; /* the pair's other end, where the pty master comes back; -1 */
} bt_rt_io;

/* Checks the fds, connects the console socket or makes the pair. */
int bt_rt_io_prepare(bt_rt_io *io, bool terminal, const bt_rt_io_opts *o, berth_error **err);
/* After a ready child: the pty master from the pair (-1 without one). */
int bt_rt_io_pty(bt_rt_io *io, int *pty, berth_error **err);
void bt_rt_io_clear(bt_rt_io *io);
/* A process handed to the caller; takes pidfd and pty. */
int bt_rt_process_new(berth_runtime *rt, const char *id, bool init, int pid, int pidfd, int pty,
		      berth_runtime_process **out, berth_error **err);
/* Whether the OOM killer of container id's cgroup has killed anything. */
bool bt_rt_oom_killed(berth_runtime *rt, const char *id);
/* Records how the init pid of container id ended in its state (if the state
 * still describes that init). */
int bt_rt_record_exit(berth_runtime *rt, const char *id, int pid, const berth_runtime_exit *e,
		      berth_error **err);
/* Signals pid, the init the state describes, through a pidfd: ESRCH when
 * that process is gone, even if its pid is in use again. 0 or -errno. */
int bt_rt_state_signal(const bt_rt_state *st, int sig);

#endif
