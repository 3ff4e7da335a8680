/* berth/volume.h: named volumes, data that outlives a container.
 *
 * A volume is a directory <root>/volumes/<name>/_data with its record
 * (volume.json: labels, driver options, creation time) beside it, written
 * atomically; every change happens under <root>/volumes/.lock, so a CLI
 * and a script (or two of either) create, use and remove the same volumes
 * at once. Docker's local driver only: its options `type`, `device` and
 * `o` make the volume a mount (a tmpfs, a bind of a host directory, a
 * block device) that is made on _data when the first user mounts it
 * (berth_volume_mount) and undone when the last one lets go.
 *
 * Who uses a volume says so with a named hold (the engine holds
 * "container:<id>" for each container that mounts it): removal is refused
 * while a volume is held, naming the holders, and prune leaves held
 * volumes alone. Names follow Docker's rule [a-zA-Z0-9][a-zA-Z0-9_.-]+.
 */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <berth/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The label Docker puts on the volumes it makes for `-v /path` and image
 * VOLUMEs; `rm -v` removes those. */
#define BERTH_VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

typedef struct {
	size_t size;                /* sizeof(berth_volume_create_opts): set by the INIT macro */
	const char *driver;         /* NULL or "local", the only one */
	const char *const *labels;  /* "KEY=VALUE", NULL-terminated */
	const char *const *options; /* the local driver's: "type=tmpfs", "device=/path",
				       "o=size=10m,uid=1000" (o=bind with a device: a bind) */
} berth_volume_create_opts;

#define BERTH_VOLUME_CREATE_OPTS_INIT { sizeof(berth_volume_create_opts), NULL, NULL, NULL }

/* Creates volume name (NULL: an anonymous one, named by 64 random hex
 * digits) and puts its name in *out (may be NULL; free with
 * berth_string_free()). A volume that exists already is returned as it is
 * (as Docker does), so two processes creating the same name end with one
 * volume and no error. Errors: EINVAL for a bad name, label or option,
 * EUNSUPPORTED for a driver other than local. A failure leaves nothing. */
BERTH_EXTERN int berth_volume_create(berth_ctx *ctx, const char *name,
				     const berth_volume_create_opts *opts, char **out,
				     berth_error **err);

enum { BERTH_VOLUME_INSPECT_USAGE = 1 /* add UsageData {Size, RefCount} */ };
/* The volume as `docker volume inspect` shows one (Name, Driver,
 * Mountpoint, CreatedAt, Labels, Options, Scope; UsageData when asked),
 * a JSON object in text; free with berth_string_free(). ENOTFOUND. */
BERTH_EXTERN int berth_volume_inspect(berth_ctx *ctx, const char *name, int flags, char **json,
				      berth_error **err);

/* The names of the volumes that pass every filter (Docker's:
 * "dangling=true|false", "name=<substring>", "label=KEY" or
 * "label=KEY=VALUE", "driver=local"), sorted; free with
 * berth_volume_names_free(). EINVAL for an unknown filter. */
BERTH_EXTERN int berth_volume_list(berth_ctx *ctx, const char *const *filters, char ***names,
				   size_t *count, berth_error **err);
BERTH_EXTERN void berth_volume_names_free(char **names, size_t count);

enum { BERTH_VOLUME_REMOVE_FORCE = 1 /* even while held (its holds go with it) */ };
/* Removes a volume and its data. Errors: ENOTFOUND; EBUSY, naming the
 * holders, while it is held (unless forced) or mounted. */
BERTH_EXTERN int berth_volume_remove(berth_ctx *ctx, const char *name, int flags,
				     berth_error **err);

/* Removes every volume nobody holds that passes the filters ("label=",
 * "label!=" as Docker's prune; NULL: all). Puts the removed names in
 * *names (free with berth_volume_names_free(); both may be NULL) and the
 * bytes freed in *reclaimed (may be NULL). */
BERTH_EXTERN int berth_volume_prune(berth_ctx *ctx, const char *const *filters, char ***names,
				    size_t *count, unsigned long long *reclaimed,
				    berth_error **err);

/* ---- for the programs that use volumes (the engine) ------------------- */

/* Takes holder's hold on the volume (1 to 255 printable characters, no
 * spaces); taking it twice is not an error. ENOTFOUND. */
BERTH_EXTERN int berth_volume_hold(berth_ctx *ctx, const char *name, const char *holder,
				   berth_error **err);
/* Drops holder's hold (and its mount, see below). ENOTFOUND when the
 * volume or the hold is missing. */
BERTH_EXTERN int berth_volume_release(berth_ctx *ctx, const char *name, const char *holder,
				      berth_error **err);
/* The holders of a volume, oldest first; free with berth_volume_names_free(). */
BERTH_EXTERN int berth_volume_holders(berth_ctx *ctx, const char *name, char ***holders,
				      size_t *count, berth_error **err);

/* Makes the volume ready for holder to mount: with driver options, the
 * mount on _data is made by the first user; then the path to bind
 * (_data) in *path (free with berth_string_free(); may be NULL). Mounting
 * twice for one holder counts once. Errors: ENOTFOUND; EOS when the mount
 * fails (named with its options). */
BERTH_EXTERN int berth_volume_mount(berth_ctx *ctx, const char *name, const char *holder,
				    char **path, berth_error **err);
/* holder is done with the volume; the last user's unmount undoes the
 * driver's mount. Not mounted by holder: nothing to do. */
BERTH_EXTERN int berth_volume_unmount(berth_ctx *ctx, const char *name, const char *holder,
				      berth_error **err);

/* Copies directory path of the root file system rootfs (resolved inside
 * rootfs, as the container sees it: no symlink leads out) into the volume
 * when the volume is empty: owners, modes, times, extended attributes and
 * symlinks kept. A copy killed halfway is redone by the next call, never
 * taken as done. A path missing or no directory: nothing to copy.
 * Call it with the volume mounted (berth_volume_mount). */
BERTH_EXTERN int berth_volume_populate(berth_ctx *ctx, const char *name, const char *rootfs,
				       const char *path, berth_error **err);

#ifdef __cplusplus
}
#endif

#endif
