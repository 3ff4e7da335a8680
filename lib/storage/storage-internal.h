/* Internal API of the storage module: layer unpacking, the layer store,
 * snapshots, diffs.
 *
 * On disk (root = the context's store root, run = its run root):
 *
 *   <root>/storage/storage.lock          exclusive while layers.json or a
 *                                        layer directory changes
 *   <root>/storage/layers.json           every layer: diff_id, parent, size,
 *                                        and the users that hold it
 *   <root>/storage/layers/<chain-hex>/   one unpacked layer (diff/ below it)
 *   <root>/storage/l/<short>             short symlinks to layers' diff/ for
 *                                        overlay option strings
 *   <root>/storage/snapshots/<id>/       snapshot.json; upper/ and work/
 *                                        (overlay) or rootfs/ (copy)
 *   <run>/storage/images/<manifest-hex>/ read-only image mounts
 *   <run>/storage/snapshots/<id>/        snapshot mount points
 *
 * A user is "image:<manifest digest>" or "snapshot:<id>"; a layer with no
 * users left is removed. The image module knows none of this: storage
 * holds the manifests it uses through berth_image_hold (see below). */
#ifndef BERTH_STORAGE_INTERNAL_H
#define BERTH_STORAGE_INTERNAL_H

#include "internal.h"

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

/* ---- libarchive, opened on first use (archive.c) ----------------------- */
struct bt_archive_fns {
	struct archive *(*read_new)(void);
	int (*read_support_filter_gzip)(struct archive *);
	int (*read_support_filter_zstd)(struct archive *);
	int (*read_support_format_raw)(struct archive *);
	int (*read_support_format_tar)(struct archive *);
	int (*read_open_fd)(struct archive *, int, size_t);
	int (*read_open)(struct archive *, void *, archive_open_callback *, archive_read_callback *,
			 archive_close_callback *);
	int (*read_next_header)(struct archive *, struct archive_entry **);
	la_ssize_t (*read_data)(struct archive *, void *, size_t);
	int (*read_data_block)(struct archive *, const void **, size_t *, la_int64_t *);
	int (*read_free)(struct archive *);
	la_int64_t (*filter_bytes)(struct archive *, int);
	const char *(*error_string)(struct archive *);
	int (*errno_)(struct archive *);
	struct archive *(*write_new)(void);
	int (*write_set_format_pax_restricted)(struct archive *);
	int (*write_set_bytes_in_last_block)(struct archive *, int);
	int (*write_open_fd)(struct archive *, int);
	int (*write_header)(struct archive *, struct archive_entry *);
	la_ssize_t (*write_data)(struct archive *, const void *, size_t);
	int (*write_close)(struct archive *);
	int (*write_free)(struct archive *);
	struct archive_entry *(*entry_new)(void);
	struct archive_entry *(*entry_clear)(struct archive_entry *);
	void (*entry_free)(struct archive_entry *);
	const char *(*entry_pathname)(struct archive_entry *);
	const char *(*entry_hardlink)(struct archive_entry *);
	const char *(*entry_symlink)(struct archive_entry *);
	mode_t (*entry_filetype)(struct archive_entry *);
	mode_t (*entry_perm)(struct archive_entry *);
	la_int64_t (*entry_uid)(struct archive_entry *);
	la_int64_t (*entry_gid)(struct archive_entry *);
	la_int64_t (*entry_size)(struct archive_entry *);
	dev_t (*entry_rdevmajor)(struct archive_entry *);
	dev_t (*entry_rdevminor)(struct archive_entry *);
	time_t (*entry_mtime)(struct archive_entry *);
	long (*entry_mtime_nsec)(struct archive_entry *);
	int (*entry_xattr_reset)(struct archive_entry *);
	int (*entry_xattr_next)(struct archive_entry *, const char **, const void **, size_t *);
	void (*entry_set_pathname)(struct archive_entry *, const char *);
	void (*entry_set_hardlink)(struct archive_entry *, const char *);
	void (*entry_set_symlink)(struct archive_entry *, const char *);
	void (*entry_set_filetype)(struct archive_entry *, unsigned int);
	void (*entry_set_perm)(struct archive_entry *, mode_t);
	void (*entry_set_uid)(struct archive_entry *, la_int64_t);
	void (*entry_set_gid)(struct archive_entry *, la_int64_t);
	void (*entry_set_size)(struct archive_entry *, la_int64_t);
	void (*entry_set_mtime)(struct archive_entry *, time_t, long);
	void (*entry_set_rdevmajor)(struct archive_entry *, dev_t);
	void (*entry_set_rdevminor)(struct archive_entry *, dev_t);
	void (*entry_xattr_add_entry)(struct archive_entry *, const char *, const void *, size_t);
};
/* Filled by bt_archive_load(); only read after it returned 0. */
extern struct bt_archive_fns bt_ar;
/* Loads libarchive (once). EUNSUPPORTED when it cannot be opened. */
int bt_archive_load(berth_error **err);

/* ---- names in layers (names.c) ----------------------------------------- */
enum { BT_COMPRESS_NONE = 0, BT_COMPRESS_GZIP = 1, BT_COMPRESS_ZSTD = 2 };
/* The compression of a layer blob from its media type and its first bytes,
 * which must agree. EINVAL for an unknown media type or a mismatch. */
int bt_layer_compression(const char *media_type, const unsigned char *magic, size_t n,
			 int *out, berth_error **err);
/* Checks a tar entry's name and writes it cleaned ("./a//b/" -> "a/b") to
 * *out (malloc'd; "" for the root itself). ESCAPE for absolute names or ".."
 * components; EINVAL for names over PATH_MAX or components over NAME_MAX. */
int bt_layer_entry_name(const char *name, char **out, berth_error **err);
enum { BT_WHITEOUT_NONE = 0, BT_WHITEOUT_FILE = 1, BT_WHITEOUT_OPAQUE = 2 };
/* What a base name means in an OCI layer: a plain entry, ".wh.<name>"
 * (*target = name), or ".wh..wh..opq". EINVAL/ESCAPE for ".wh." of "",
 * ".", ".." or of another whiteout, and for other ".wh..wh." names. */
int bt_whiteout_kind(const char *base, const char **target, berth_error **err);
/* ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 * parent is NULL for the first layer. */
int bt_chain_id(const char *parent, const char *diff_id, char out[BT_DIGEST_MAX],
		berth_error **err);
/* Whether an xattr name belongs to overlayfs' own bookkeeping (never taken
 * from a layer, never put in a diff). */
bool bt_xattr_is_overlay(const char *name);

/* ---- unpacking one layer (unpack.c) ------------------------------------ */
struct bt_unpack_params {
	int blobfd;            /* the compressed blob (a file or a socket), read on */
	const void *head;      /* bytes of the blob read already (magic), or NULL */
	size_t headlen;
	int64_t blob_size;     /* for progress; -1 when unknown */
	int compression;       /* BT_COMPRESS_* */
	const char *what;      /* the blob digest, for messages and progress */
	const char *diff_id;   /* expected digest of the uncompressed tar, or NULL */
	bool no_devices;
	berth_storage_progress_fn progress;
	void *progress_userdata;
	/* the layers below, topmost first: a directory the layer does not list
	 * but needs as a parent takes its attributes from them, as it would
	 * when the layer is applied on the merged tree */
	const int *lowerfds;
	size_t nlower;
	/* when not NULL, gets the directories made as parents (for
	 * bt_unpack_inherit once the lower layers are there) */
	struct bt_strv *implicit;
};
/* Extracts a layer into the empty directory dirfd (named dir in messages),
 * every entry created relative to fds beneath it, whiteouts as overlayfs
 * whiteouts. *bytes gets the size of the content; diff_id (may be NULL) the
 * digest of the uncompressed stream. The directory is left with whatever
 * was extracted on failure: the caller removes it. */
int bt_unpack_layer(int dirfd, const char *dir, const struct bt_unpack_params *p,
		    char diff_id[BT_DIGEST_MAX], int64_t *bytes, berth_error **err);

/* ---- the decompressing stage of an unpack (inflate.c) ------------------- */
/* Starts a thread that reads p's blob, decompresses it, hashes what comes
 * out and hands it on in blocks; the first bytes are read (and a wrong
 * format refused) before it returns. */
struct bt_inflater;
int bt_inflater_start(const struct bt_unpack_params *p, struct bt_inflater **out,
		      berth_error **err);
/* The next block, valid until the next call: its length, 0 at the end, -1
 * when decompression failed (bt_inflater_error says why). *consumed gets
 * the compressed bytes read so far. */
ssize_t bt_inflater_read(struct bt_inflater *f, const void **buf, int64_t *consumed);
/* Why decompression failed (free it), or NULL. */
char *bt_inflater_error(struct bt_inflater *f);
/* to_end: reads and hashes the rest of the stream, then digest gets the
 * digest of all of it (or the decompression error is returned); otherwise
 * stops after the read under way (on a socket: when the next bytes or the
 * end come). Frees f (NULL is fine). */
int bt_inflater_finish(struct bt_inflater *f, bool to_end, char digest[BT_DIGEST_MAX],
		       berth_error **err);

/* Gives directory path of rootfd (made as a parent, not listed by its
 * layer) the attributes it has in the topmost of lowerfds that has it. */
int bt_unpack_inherit(int rootfd, const char *path, const int *lowerfds, size_t nlower,
		      berth_error **err);

/* ---- hardlinks met in a walk (hardlinks.c) -------------------------------- */
struct bt_hardlink {
	dev_t dev;
	ino_t ino;
	char *path; /* where the inode was first seen */
};
struct bt_hardlinks { /* start from { 0 } */
	struct bt_hardlink *v;
	size_t n, cap;
};
/* The path the inode of st was first seen at, or NULL. */
const char *bt_hardlinks_find(const struct bt_hardlinks *h, const struct stat *st);
/* Records path for the inode of st; -1 when out of memory. */
int bt_hardlinks_add(struct bt_hardlinks *h, const struct stat *st, const char *path);
void bt_hardlinks_free(struct bt_hardlinks *h);

/* ---- trees (tree.c) ------------------------------------------------------ */
/* Copies the layer directory srcfd onto dstfd, keeping owners, modes,
 * xattrs, hardlinks, mtimes and special files, and applying overlayfs
 * whiteouts (deleting what they hide) as overlayfs would show the result. */
int bt_tree_apply_layer(int srcfd, int dstfd, const char *src, berth_error **err);
/* Calls fn for each xattr of entry name in dirfd (never following it),
 * overlayfs' own left out. A negative return stops and is returned. */
typedef int (*bt_xattr_fn)(const char *key, const void *value, size_t len, void *data,
			   berth_error **err);
int bt_xattrs_each(int dirfd, const char *name, bt_xattr_fn fn, void *data, berth_error **err);
/* Owner, mode, xattrs (overlayfs' own apart) and mtime of directory srcfd
 * onto dstfd. */
int bt_tree_copy_attrs(int srcfd, int dstfd, const char *what, berth_error **err);

/* ---- tar writing (tarwrite.c) -------------------------------------------- */
typedef struct bt_tar_writer bt_tar_writer;
int bt_tar_writer_new(int fd, bt_tar_writer **out, berth_error **err);
/* Adds the entry `name` of directory dirfd as `path` (no leading slash),
 * st its lstat. Hardlinked files are written once and linked after. */
int bt_tar_add(bt_tar_writer *w, int dirfd, const char *name, const char *path,
	       const struct stat *st, berth_error **err);
/* Adds the whole tree below dirfd, paths prefixed with prefix ("" for none). */
int bt_tar_add_tree(bt_tar_writer *w, int dirfd, const char *prefix, berth_error **err);
/* Adds an empty regular file entry `path` (for .wh. markers). */
int bt_tar_add_marker(bt_tar_writer *w, const char *path, berth_error **err);
/* Writes the end of the archive and frees w (also on failure). */
int bt_tar_writer_finish(bt_tar_writer *w, berth_error **err);
void bt_tar_writer_abort(bt_tar_writer *w);

/* ---- temp directories (storage.c) ---------------------------------------- */
/* A directory filled before it is renamed into place: layers/.tmp-* (unpacks,
 * pulls) and snapshots/.tmp-*. Made without the storage lock, so its maker
 * holds flock(LOCK_SH) on fd for as long as it uses it, and a sweep removes
 * only those nobody holds: what a process that died left. */
struct bt_tmpdir {
	char *path; /* NULL: none (fd is then meaningless) */
	int fd;     /* the directory, held shared */
};
/* Makes and holds <parent>/.tmp-<tag>-XXXXXX (0700). */
int bt_tmpdir_make(const char *parent, const char *tag, struct bt_tmpdir *t, berth_error **err);
/* Renamed into place: forgets the path and drops the hold. */
void bt_tmpdir_placed(struct bt_tmpdir *t);
/* Removes the directory, if any, then drops the hold. */
void bt_tmpdir_remove(struct bt_tmpdir *t);
/* Moves path (a layer or snapshot directory) to a held temp name beside
 * it: out of the namespace at once, removed later with bt_tmpdir_remove.
 * 1 when moved, 0 when path does not exist. */
int bt_tmpdir_take(const char *path, const char *tag, struct bt_tmpdir *t, berth_error **err);
/* The sweep of what crashed processes left in the storage directory sdir:
 * temp directories in layers/ and snapshots/ that no live process holds,
 * temp files of layers.json, and with record (layers.json as loaded) the
 * layer directories it does not list and the holds of snapshots and images
 * that are gone (dropped from record: true when it changed, for the caller
 * to save). Failures logged. Called with the storage lock held exclusively. */
bool bt_storage_sweep(berth_ctx *ctx, const char *sdir, json_t *record);

/* ---- the layer store (layers.c) ------------------------------------------ */
struct bt_image_layers {
	char manifest[BT_DIGEST_MAX];
	size_t n;
	char (*chain)[BT_DIGEST_MAX];    /* bottom layer first */
	char (*diff_ids)[BT_DIGEST_MAX]; /* rootfs.diff_ids; NULL when read from a snapshot */
	char **dirs;                     /* their diff/ directories */
};
void bt_image_layers_free(struct bt_image_layers *l);
/* The storage directory <root>/storage and its lock file path. */
int bt_storage_dirs(const berth_ctx *ctx, char **dir, char **lock, berth_error **err);
/* A layer unpacked while it was downloaded (pull.c), not yet checked
 * against the config nor placed. */
struct bt_streamed_layer {
	struct bt_tmpdir tmp;        /* temp dir in layers/ with diff/ below it */
	char diff_id[BT_DIGEST_MAX]; /* of what was unpacked */
	int64_t bytes;
	struct bt_strv implicit;     /* parents made without attributes yet */
};
/* Unpacks what is missing of the image and adds `user` to each of its
 * layers (idempotent); user NULL means "image:<manifest digest>". *out (may
 * be NULL) gets the layers. streamed (may be NULL) holds layers unpacked
 * already, by index: each is checked against its diff_id and placed (its
 * tmp taken over, its path set to NULL) or left to the caller to remove.
 * Sweeps dead processes' temp directories (bt_storage_sweep) once locked. */
int bt_layers_prepare(berth_ctx *ctx, const char *image, const berth_storage_unpack_opts *opts,
		      const char *user, struct bt_streamed_layer *streamed, size_t nstreamed,
		      struct bt_image_layers *out, berth_error **err);
/* Resolves an image to its manifest digest and the chain IDs and diff IDs
 * of its layers, reading the content store only (nothing unpacked). */
int bt_layers_of_image(berth_ctx *ctx, const char *image, struct bt_image_layers *out,
		       berth_error **err);
/* Removes `user` from every layer that lists it and deletes layers left
 * with no users. ENOTFOUND when no layer lists it and BT_RELEASE_MUST_EXIST;
 * with BT_RELEASE_NOWAIT, returns 0 having done nothing when another holds
 * the storage lock (the sweep drops the hold later). */
enum { BT_RELEASE_MUST_EXIST = 1, BT_RELEASE_NOWAIT = 2 };
/* *freed (may be NULL) grows by the bytes of the layers removed. */
int bt_layers_release(berth_ctx *ctx, const char *user, int flags, uint64_t *freed, berth_error **err);
/* layers.json, loaded (an empty object when missing). */
int bt_layers_load(berth_ctx *ctx, json_t **out, berth_error **err);

/* ---- holds on images (storage.c) -------------------------------------- */
/* Storage uses the image module through its public API only: it holds the
 * manifest of each snapshot ("storage:snapshot:<id>") and image mount
 * ("storage:mount:<manifest digest>") with berth_image_hold, and hears of
 * manifests a collection removed through bt_on_manifests_removed. */
#define BT_HOLD_SNAPSHOT "storage:snapshot:"
#define BT_HOLD_MOUNT "storage:mount:"
/* "storage:snapshot:<id>" / "storage:mount:<digest>" (malloc'd) */
char *bt_storage_holder(const char *prefix, const char *what);
/* The lock an image mount or unmount of manifest holds while it changes:
 * a sweep that finds it held leaves that mount's hold alone. */
char *bt_image_mount_lock(const berth_ctx *ctx, const char *manifest);

/* ---- overlay mounts (snapshot.c) -------------------------------------- */
/* Whether the host can mount overlayfs (checked on each call: cheap). */
bool bt_overlay_available(void);
/* Mounts overlayfs at target: lower[0..n) bottom first; upper and work may
 * be NULL for a read-only mount. Option strings longer than a page use
 * fsconfig's lowerdir+ or short symlinks in linkdir. */
int bt_overlay_mount(const char *target, char *const *lower, size_t n, const char *upper,
		     const char *work, const char *linkdir, berth_error **err);
/* Whether the image with this manifest digest is mounted read-only. */
int bt_image_mounted(const berth_ctx *ctx, const char *manifest);

struct bt_snapshot {
	char *id;
	char *dir;   /* <root>/storage/snapshots/<id> */
	char *mount; /* <run>/storage/snapshots/<id> (overlay) */
	berth_snapshot_driver driver;
	struct bt_image_layers layers; /* manifest, chain IDs, layer dirs */
};
/* Reads snapshot.json of id. ENOTFOUND for an unknown id. */
int bt_snapshot_load(berth_ctx *ctx, const char *id, struct bt_snapshot *s, berth_error **err);
void bt_snapshot_clear(struct bt_snapshot *s);
/* Overlay: mounts at s->mount unless mounted; copy: nothing. */
int bt_snapshot_do_mount(berth_ctx *ctx, struct bt_snapshot *s, berth_error **err);
int bt_snapshot_do_unmount(struct bt_snapshot *s, berth_error **err);
bool bt_snapshot_is_mounted(const struct bt_snapshot *s);

#ifdef BERTH_TEST_HOOKS
/* Test builds: 1 forces the mount(2) path with short symlinks. */
extern int bt_test_overlay_legacy;
#endif

#endif
