/* Internal interface of the container module (the engine). */
#ifndef BERTH_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_INTERNAL_H

#include "internal.h"

#include <berth/container.h>
#include <berth/runtime.h>

#include <poll.h>

/* ---- state on disk (store.c) -----------------------------------------
 * <root>/containers/<id>/container.json  what was asked (Docker's Config and
 *                                        HostConfig shape), written once
 * <root>/containers/<id>/state.json      Status, Pid, monitor, exit
 * <root>/containers/<id>/config.json     the runtime-spec config (the bundle)
 * <root>/containers/<id>/{hostname,hosts,resolv.conf,<id>-json.log}
 * <root>/containers/<id>/lock            the per-container lock
 * <root>/containers/names/<name>         symlink to the id: names stay unique
 *                                        without a global table
 * <root>/containers/.lock                held while names and ids change */
/* The engine's holds on images: "container:<id>" (berth_image_hold). */
#define BT_CT_HOLDER "container:"

struct bt_ct {
	char id[65];
	char *dir;      /* <root>/containers/<id> */
	json_t *config; /* container.json */
	json_t *state;  /* state.json */
	int lock_fd;    /* the per-container lock while held, else -1 */
	bool remove_volumes; /* removal takes its anonymous volumes along */
};

/* <root>/containers, created on first use. */
int bt_ct_root(const berth_ctx *ctx, char **out, berth_error **err);
/* Finds a container by id, unique id prefix or name, locks it (exclusive)
 * and loads its records. ENOTFOUND names what was asked. */
int bt_ct_open(berth_ctx *ctx, const char *name, struct bt_ct **out, berth_error **err);
/* Writes state.json atomically. */
int bt_ct_save_state(struct bt_ct *ct, berth_error **err);
/* Unlocks and frees. NULL is allowed. */
void bt_ct_close(struct bt_ct *ct);
/* A new random 64-hex id. */
int bt_ct_new_id(char id[65], berth_error **err);
/* Reserves name for id (EEXISTS naming the holder when taken); with the
 * global lock held. */
int bt_ct_name_reserve(const char *croot, const char *name, const char *id, berth_error **err);
void bt_ct_name_release(const char *croot, const char *name, const char *id);
int bt_ct_lock_global(const char *croot, int *fd, berth_error **err);
/* Removes what killed creates and removes left (.tmp-<id> dirs whose lock
 * is free, with their snapshots; .trash-<id> dirs); global lock held. */
void bt_ct_sweep(berth_ctx *ctx, const char *croot);

/* The status the records and the processes say together: a container
 * recorded running whose monitor is gone is reported exited (code -1) and
 * recorded so. */
const char *bt_ct_status(struct bt_ct *ct);
/* Whether a status is one of a monitor's: running, paused, restarting. */
bool bt_ct_live(const char *status);
/* A pidfd of the live monitor, or -1 when it is gone (its pid reused or not). */
int bt_ct_monitor_pidfd(const json_t *state);
/* The start time of process pid (field 22 of /proc/<pid>/stat), 0 when gone. */
unsigned long long bt_ct_proc_start_time(int pid);

/* ---- the runtime-spec config (spec.c) ---------------------------------- */
/* The config of a container: the image's config (its JSON text) with the
 * options over it, the root file system at rootfs, the generated /etc files
 * in dir. Fills the Docker-shaped record too (Path, Args, Config,
 * HostConfig in *record). */
int bt_ct_spec_build(berth_ctx *ctx, const char *id, const char *dir, const char *rootfs,
		     const char *image_config, const berth_container_create_opts *o,
		     json_t *record, json_t **spec, berth_error **err);

/* ---- seccomp (seccomp.c) ---------------------------------------------- */
/* Where the default profile is: $BERTH_DATADIR/seccomp/default.json, else
 * the configured $(pkgdatadir)'s. */
char *bt_ct_seccomp_default_path(void);
/* The OCI linux.seccomp of a container whose capabilities are caps (a JSON
 * array of CAP_* names): o->seccomp's profile or the default one, with the
 * rules that apply to this host and these caps. NULL in *out when
 * unconfined (or privileged). EINVAL/ENOTFOUND naming the profile. */
int bt_ct_seccomp(const berth_container_create_opts *o, const json_t *caps, json_t **out,
		  berth_error **err);

/* ---- run options beyond the defaults (runopts.c) ------------------------ */
/* Where berth-init is: $BERTH_INIT, else libexecdir's. */
char *bt_ct_init_path(void);
/* --init, --ulimit, --device, --network container:<name|id> into the built
 * spec, and HostConfig's Init, Ulimits, Devices (NetworkMode). EINVAL for a
 * bad value, named; ESTATE for a container to join that is not running. */
int bt_ct_runopts_apply(berth_ctx *ctx, const berth_container_create_opts *o, json_t *spec,
			json_t *record, berth_error **err);
/* Before a start (ct locked): the namespace paths of --network container:
 * from the pid that container runs under now, into config.json. ESTATE
 * when it does not run. */
int bt_ct_runopts_refresh(berth_ctx *ctx, struct bt_ct *ct, berth_error **err);

/* ---- volumes, binds and tmpfs mounts (mounts.c) ------------------------ */
/* -v, --mount, --tmpfs, --volumes-from and the image's (parsed) Volumes:
 * volumes created when missing and held by "container:<id>", the mounts
 * added to spec, Mounts (Docker's inspect shape), MountsPopulate and
 * HostConfig's Binds, Tmpfs, VolumesFrom into record. EINVAL naming a bad
 * option; a failure leaves no hold and no volume it made. */
int bt_ct_mounts_apply(berth_ctx *ctx, const char *id, const berth_container_create_opts *o,
		       const json_t *image, json_t *spec, json_t *record, berth_error **err);
/* Only the parse and checks of the above (no --volumes-from): nothing made. */
int bt_ct_mounts_check(const berth_container_create_opts *o, const json_t *image, berth_error **err);
/* Before a start: the record's volumes mounted for the container and the
 * empty ones populated from rootfs (berth_volume_populate). */
int bt_ct_mounts_start(berth_ctx *ctx, const char *id, const json_t *record, const char *rootfs,
		       berth_error **err);
/* After the container ended: its volumes unmounted (failures logged). */
void bt_ct_mounts_stop(berth_ctx *ctx, const char *id, const json_t *record);
/* At removal: its holds released; with remove_anonymous its anonymous
 * volumes removed unless another container holds them. */
void bt_ct_mounts_release(berth_ctx *ctx, const char *id, const json_t *record, bool remove_anonymous);

/* ---- users and groups of the image (user.c) --------------------------- */
struct bt_ct_user {
	unsigned uid, gid;
	unsigned *groups; /* additional gids */
	size_t ngroups;
	char *home;       /* NULL when unknown */
};
/* Resolves "user[:group]" (names or numbers) in rootfs's /etc/passwd and
 * /etc/group, read without leaving rootfs. NULL or "": root. ENOTFOUND with
 * Docker's wording for a name the image lacks. */
int bt_ct_user_resolve(const char *rootfs, const char *spec, struct bt_ct_user *out,
		       berth_error **err);
void bt_ct_user_free(struct bt_ct_user *u);

/* ---- /etc files (etc.c) ----------------------------------------------- */
/* Writes hostname, hosts and resolv.conf in dir: with the host's network
 * the host's own, else for a container alone on its loopback. */
/* Bridge networks (net.c): whether a NetworkMode names a network of the
 * network module; that it exists (at create); the attach of a created
 * init's namespace (its NetworkSettings saved in ct's state) and the
 * detach once it ended; NetworkSettings as inspect shows them. */
bool bt_ct_net_bridged(const char *mode);
/* -p and -P into the record: HostConfig.PortBindings, PublishAllPorts and
 * Config.ExposedPorts (the image's, exposed, and those published). */
int bt_ct_net_record(const berth_container_create_opts *o, const json_t *exposed, json_t *record,
		     berth_error **err);
int bt_ct_net_check(berth_ctx *ctx, const char *mode, berth_error **err);
int bt_ct_net_up(berth_ctx *ctx, struct bt_ct *ct, int pid, berth_error **err);
void bt_ct_net_down(berth_ctx *ctx, const char *id);
json_t *bt_ct_net_inspect(const struct bt_ct *ct);
/* After a rename: a running container's endpoint answers to the new name. */
void bt_ct_net_renamed(berth_ctx *ctx, const struct bt_ct *ct, const char *new_name);

/* What the /etc files are made from. */
struct bt_ct_etc {
	const char *hostname;
	bool host_net;
	const char *nameserver; /* a user network's own (its gateway), or NULL */
	const char *const *dns, *const *dns_search, *const *dns_options, *const *add_hosts;
};
int bt_ct_etc_write(const char *dir, const struct bt_ct_etc *e, berth_error **err);
/* The nameserver of network mode `mode` (a user network's gateway, where
 * its aardvark-dns answers) into ns; "" for the default network and the
 * other modes. */
int bt_ct_net_nameserver(berth_ctx *ctx, const char *mode, char ns[16], berth_error **err);

/* ---- lifecycle (container.c) ------------------------------------------ */
/* A name Docker accepts: [a-zA-Z0-9][a-zA-Z0-9_.-]*, a leading '/' allowed. */
bool bt_ct_valid_name(const char *n);
/* Removes a container that does not run, ct locked; ct stays to close. */
int bt_ct_remove_locked(berth_ctx *ctx, struct bt_ct *ct, berth_error **err);

/* ---- events (events.c) ------------------------------------------------- */
/* Appends event `action` of container id (its record gives name and image;
 * key/value, when not NULL, one more attribute). Failures are logged only:
 * an event never fails the operation it reports. */
void bt_ct_event(berth_ctx *ctx, const char *id, const char *action, const json_t *record, const char *key,
		 const char *value);

/* ---- the monitor (monitor.c) --------------------------------------------
 * The program that supervises a started container. */
char *bt_ct_monitor_path(void);

/* ---- attach (attach.c) ---------------------------------------------------
 * The monitor's socket, <runroot>/containers/<id>/attach.sock. */
struct bt_ct_attach;
/* What clients write into: the terminal (pty >= 0, then *input is it too)
 * or the stdin pipe (*input, closed and set to -1 at the client's EOF). */
struct bt_ct_io {
	int pty;
	int *input;
};
/* <runroot>/containers/<id>: the live part of a container. */
char *bt_ct_run_dir(const berth_ctx *ctx, const char *id);
int bt_ct_attach_listen(const char *dir, struct bt_ct_attach **out, berth_error **err);
/* Whether a client ever attached. */
bool bt_ct_attach_any(const struct bt_ct_attach *a);
/* Fills p with the listener and client slots (at most 17); their count. */
#define BT_CT_ATTACH_POLLFDS 17
size_t bt_ct_attach_pollfds(const struct bt_ct_attach *a, struct pollfd *p);
/* Accepts and serves what poll found on those fds. */
void bt_ct_attach_handle(struct bt_ct_attach *a, const struct pollfd *p, const struct bt_ct_io *io);
/* Sends output of stream (0 stdout, 1 stderr) to every attached client. */
void bt_ct_attach_broadcast(struct bt_ct_attach *a, int stream, const char *buf, size_t len);
/* Tells the attached clients how the container ended. */
void bt_ct_attach_exit(struct bt_ct_attach *a, int code, int oom_killed);
/* Ends the connections of the attached clients (the run they saw ended). */
void bt_ct_attach_drop_attached(struct bt_ct_attach *a);
/* Ends every connection and removes the socket. NULL is allowed. */
void bt_ct_attach_close(struct bt_ct_attach *a);

/* ---- healthchecks (health.c) --------------------------------------------- */
struct bt_ct_health;
/* The healthcheck of the container (record: container.json, dir: its
 * bundle) or NULL in *out when it has none. */
int bt_ct_health_new(const json_t *record, const char *dir, struct bt_ct_health **out, berth_error **err);
/* At each start: State.Health starting, the first check an Interval away. */
void bt_ct_health_reset(struct bt_ct_health *h, berth_ctx *ctx, const char *id);
/* Milliseconds until the next thing to do (start a check, kill one); -1: none. */
long long bt_ct_health_wait_ms(const struct bt_ct_health *h);
/* The 2 fds of a running check to poll (-1 when none). */
size_t bt_ct_health_pollfds(const struct bt_ct_health *h, struct pollfd *p);
/* Starts, reaps or kills a check as time and poll say; records results. */
void bt_ct_health_step(struct bt_ct_health *h, berth_ctx *ctx, berth_runtime *rt, const char *id,
		       const struct pollfd *p);
/* Kills a running check (the container ended). */
void bt_ct_health_stop(struct bt_ct_health *h);
void bt_ct_health_free(struct bt_ct_health *h);

/* ---- the log (log.c) ---------------------------------------------------- */
/* Docker's json-file lines, one per line of output. */
struct bt_ct_log;
/* max_size in bytes (<= 0: no limit), max_file the files kept in all. */
int bt_ct_log_open(const char *path, long long max_size, int max_file, struct bt_ct_log **out,
		   berth_error **err);
/* "10m", "512k", "1g", "100" (Docker's units: powers of 1000); -1 when bad. */
long long bt_ct_log_parse_size(const char *s);
/* Takes bytes of stream ("stdout"/"stderr"), writing each whole line. */
void bt_ct_log_write(struct bt_ct_log *log, int stream, const char *buf, size_t len);
void bt_ct_log_close(struct bt_ct_log *log);

#endif
