/* berth/storage.h: image layers on disk, read-only image mounts, container
 * snapshots (overlayfs, or full copies where overlayfs is missing), diffs and
 * exports.
 *
 * Layers are unpacked from the content store into <root>/storage/layers/,
 * one directory per chain ID, shared by every image and snapshot that uses
 * them and removed when the last of those lets go. Conventions as in
 * berth/common.h. An `image` argument is a tag as stored in the content store
 * ("docker.io/library/busybox:latest", "v1"), a reference that normalises to
 * one ("busybox"), or a manifest digest ("sha256:...").
 */
#ifndef BERTH_STORAGE_H
#define BERTH_STORAGE_H

#include <berth/common.h>
#include <berth/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called while a layer is unpacked: `layer` is its blob digest, done and
 * total count compressed bytes (total -1 when unknown). A non-zero return
 * cancels the unpack (ECANCELED), leaving the store as it was. */
typedef int (*berth_storage_progress_fn)(const char *layer, long long done, long long total,
					void *userdata);

typedef struct {
	size_t size;                       /* sizeof(berth_storage_unpack_opts): set by the INIT macro */
	int no_devices;                    /* refuse layers with device nodes (EPERM) */
	berth_storage_progress_fn progress; /* NULL: none */
	void *progress_userdata;
} berth_storage_unpack_opts;

#define BERTH_STORAGE_UNPACK_OPTS_INIT { sizeof(berth_storage_unpack_opts), 0, NULL, NULL }

/* Unpacks the layers of an image from the content store (those not unpacked
 * yet), checks each against the config's rootfs.diff_ids and records the
 * image as a user of its layers. Idempotent. Errors: ENOTFOUND for an
 * unknown image or missing blob; EINTEGRITY when a layer's content does not
 * match its diff_id; ESCAPE for a layer entry that would leave the layer
 * (`..`, absolute path, through a symlink or hardlink); EINVAL for other
 * malformed layers (truncated, oversized names, bad whiteouts); EPERM for a
 * device node with no_devices. On failure the store is as it was before.
 * The image is not held (berth_image_hold): an image removed meanwhile
 * makes it fail with ENOTFOUND, and its layers go with the next sweep. */
BERTH_EXTERN int berth_storage_unpack(berth_ctx *ctx, const char *image,
				    const berth_storage_unpack_opts *opts, berth_error **err);

/* berth_image_pull, with each layer unpacked while it downloads (layers in
 * parallel, each checked against its diff_id before it is used), as
 * berth_storage_unpack would leave it. popts and uopts may be NULL; *out
 * (may be NULL) as for berth_image_pull. Errors: those of both. */
BERTH_EXTERN int berth_storage_pull(berth_ctx *ctx, const char *ref,
					 const berth_pull_opts *popts,
					 const berth_storage_unpack_opts *uopts, berth_image **out,
					 berth_error **err);

/* Drops the image's hold on its unpacked layers; layers nobody else uses are
 * removed. Errors: ENOTFOUND when the image was not unpacked; EBUSY when it
 * is mounted. */
BERTH_EXTERN int berth_storage_release(berth_ctx *ctx, const char *image, berth_error **err);

/* Mounts the image's root file system read-only (unpacking it first when
 * needed) and returns the path of the mount in *path, freed with
 * berth_string_free(). Mounting a mounted image returns the same
 * path. The mount holds the image's manifest ("storage:mount:<digest>",
 * see berth_image_hold) until berth_storage_unmount: removal refuses
 * unless forced. Errors: as berth_storage_unpack; EUNSUPPORTED without
 * overlayfs. */
BERTH_EXTERN int berth_storage_mount(berth_ctx *ctx, const char *image, char **path,
				   berth_error **err);
/* Unmounts what berth_storage_mount mounted. ENOTFOUND when not mounted. */
BERTH_EXTERN int berth_storage_unmount(berth_ctx *ctx, const char *image, berth_error **err);


/* ---- container snapshots --------------------------------------------- */

typedef enum {
	BERTH_SNAPSHOT_AUTO = 0,    /* overlay when the host has it, else copy */
	BERTH_SNAPSHOT_OVERLAY = 1, /* the image's layers read-only plus an upper dir */
	BERTH_SNAPSHOT_COPY = 2,    /* a full copy of the image's file system */
} berth_snapshot_driver;

typedef struct {
	size_t size;                  /* sizeof(berth_snapshot_opts): set by the INIT macro */
	berth_snapshot_driver driver; /* default AUTO */
} berth_snapshot_opts;

#define BERTH_SNAPSHOT_OPTS_INIT { sizeof(berth_snapshot_opts), BERTH_SNAPSHOT_AUTO }

/* Creates the writable root file system of a container from an image
 * (unpacking it when needed). id: 1 to 64 of [A-Za-z0-9_.-], not starting
 * with a dot. The snapshot holds the image's manifest ("storage:snapshot:<id>",
 * see berth_image_hold: removal refuses unless forced, gc keeps its blobs)
 * and its layers until removed; a create that is killed leaves a hold the
 * next storage operation sweeps.
 * Errors: EEXISTS for a used id; EINVAL for a bad id; EUNSUPPORTED when the
 * overlay driver is forced and the host lacks overlayfs; as
 * berth_storage_unpack. */
BERTH_EXTERN int berth_snapshot_create(berth_ctx *ctx, const char *id, const char *image,
				       const berth_snapshot_opts *opts, berth_error **err);
/* Makes the snapshot's root file system available and returns its path in
 * *path (free with berth_string_free()): an overlay mount, or the
 * copy's directory. Mounting twice returns the same path. ENOTFOUND for an
 * unknown id. */
BERTH_EXTERN int berth_snapshot_mount(berth_ctx *ctx, const char *id, char **path,
				      berth_error **err);
/* Unmounts the snapshot (nothing to do for the copy driver). Not mounted is
 * not an error. */
BERTH_EXTERN int berth_snapshot_unmount(berth_ctx *ctx, const char *id, berth_error **err);
/* Unmounts and removes the snapshot and its changes; layers nobody uses any
 * more are removed. ENOTFOUND for an unknown id. */
BERTH_EXTERN int berth_snapshot_remove(berth_ctx *ctx, const char *id, berth_error **err);
/* The driver the snapshot uses. ENOTFOUND for an unknown id. */
BERTH_EXTERN int berth_snapshot_driver_get(berth_ctx *ctx, const char *id,
					   berth_snapshot_driver *out, berth_error **err);

/* Writes the snapshot's changes against its image to fd as an uncompressed
 * OCI layer tar: added and changed entries, deleted ones as `.wh.<name>`,
 * directories whose lower contents are hidden as `.wh..wh..opq`. fd is not
 * closed. Errors: ENOTFOUND for an unknown id; EOS for write failures. */
BERTH_EXTERN int berth_snapshot_diff(berth_ctx *ctx, const char *id, int fd, berth_error **err);
/* Writes the snapshot's whole root file system to fd as one uncompressed tar
 * (mounting it for the time of the export when it is not mounted). */
BERTH_EXTERN int berth_snapshot_export(berth_ctx *ctx, const char *id, int fd, berth_error **err);

/* ---- copies into and out of a root file system (docker cp) ----------- */
/* Writes path (a file, a symlink as itself, or a directory and everything
 * below it), resolved below the directory root as a process chrooted there
 * would resolve it (".." and absolute symlinks stop at root), to fd as an
 * uncompressed tar keeping owners, modes, xattrs and mtimes. The top entry
 * is named as (a single component), NULL: path's own last component.
 * Errors: ENOTFOUND when path is missing, EINVAL, EOS. */
BERTH_EXTERN int berth_storage_copy_out(berth_ctx *ctx, const char *root, const char *path,
					const char *as, int fd, berth_error **err);
/* Extracts the uncompressed tar read from fd into directory dir of root
 * (resolved as for berth_storage_copy_out), keeping owners and modes and
 * replacing what is there. Entries are made beneath dir only: one that
 * would leave it (`..`, absolute, through a symlink or hardlink) fails
 * with ESCAPE. Errors: ENOTFOUND when dir is missing, EINVAL for a
 * malformed tar. */
BERTH_EXTERN int berth_storage_copy_in(berth_ctx *ctx, const char *root, const char *dir, int fd,
				       berth_error **err);
/* ---- disk usage -------------------------------------------------------- */

/* What `system df` shows, one row per kind: "images" (content store blobs),
 * "layers" (unpacked layers), "containers" (snapshots' own changes). */
typedef struct berth_storage_usage berth_storage_usage;

BERTH_EXTERN int berth_storage_usage_new(berth_ctx *ctx, berth_storage_usage **out,
					 berth_error **err);
BERTH_EXTERN size_t berth_storage_usage_count(const berth_storage_usage *u);
/* The i-th row: kind (borrowed), number of items, bytes on disk, and bytes
 * no image or snapshot uses, leftovers of dead processes included (-1 when
 * out of range / NULL for kind). */
BERTH_EXTERN const char *berth_storage_usage_kind(const berth_storage_usage *u, size_t i);
BERTH_EXTERN long long berth_storage_usage_items(const berth_storage_usage *u, size_t i);
BERTH_EXTERN long long berth_storage_usage_bytes(const berth_storage_usage *u, size_t i);
BERTH_EXTERN long long berth_storage_usage_reclaimable(const berth_storage_usage *u, size_t i);
BERTH_EXTERN void berth_storage_usage_free(berth_storage_usage *u);

/* Removes what `system df` counts reclaimable in the layer store: layers no
 * image or snapshot holds, holds of images and snapshots that are gone, and
 * what dead processes left (temp and trash directories, layer directories
 * the record does not list, temp files of its writes); nothing a live
 * process holds. *bytes (may be NULL) gets the bytes freed. A store not made
 * yet is left so. */
BERTH_EXTERN int berth_storage_prune(berth_ctx *ctx, unsigned long long *bytes, berth_error **err);

/* ---- an image's layers on disk ---------------------------------------- */

/* The layers of an image as the layer store has them, for `image inspect`:
 * read from the content store and layers.json, changing nothing. */
typedef struct berth_storage_layers berth_storage_layers;

/* Reads the layers of an image (any name berth_image_lookup accepts).
 * Errors: ENOTFOUND for an unknown image or a missing manifest or config
 * blob; EINVAL for a malformed manifest, config or layers.json. */
BERTH_EXTERN int berth_storage_layers_new(berth_ctx *ctx, const char *image,
					berth_storage_layers **out, berth_error **err);
/* Number of layers, bottom layer first (0 for NULL). */
BERTH_EXTERN size_t berth_storage_layers_count(const berth_storage_layers *l);
/* The i-th layer's diff ID (the config's rootfs.diff_ids[i]) and chain ID,
 * borrowed; NULL when out of range. */
BERTH_EXTERN const char *berth_storage_layers_diff_id(const berth_storage_layers *l, size_t i);
BERTH_EXTERN const char *berth_storage_layers_chain_id(const berth_storage_layers *l, size_t i);
/* Bytes of the i-th layer's content as recorded when it was unpacked; -1
 * when that layer is not unpacked (e.g. pulled with --no-unpack) or out of
 * range. */
BERTH_EXTERN long long berth_storage_layers_unpacked_size(const berth_storage_layers *l, size_t i);
BERTH_EXTERN void berth_storage_layers_free(berth_storage_layers *l);

#ifdef __cplusplus
}
#endif

#endif
