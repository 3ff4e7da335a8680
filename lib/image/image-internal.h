/* Internal API of the image module: the content store.
 *
 * The store is an OCI image layout (image-spec, image-layout.md) so that
 * skopeo and umoci can read it:
 *
 *   <dir>/oci-layout          {"imageLayoutVersion":"1.0.0"}
 *   <dir>/index.json          the tagged manifests, each descriptor with an
 *                             "org.opencontainers.image.ref.name" annotation
 *   <dir>/blobs/<alg>/<hex>   content, named by its digest
 *   <dir>/.berth-index.lock   held exclusively while index.json changes
 *   <dir>/.berth-gc.lock      held shared by blob writers (and by a pull from
 *                             its first blob to its tag), exclusively by gc
 *
 * Blobs are streamed into dot-named temp files in their blobs/<alg>/
 * directory while being hashed, and renamed into place only when digest and
 * size match. The context's store keeps its layout at <root>/content. */
#ifndef BERTH_IMAGE_INTERNAL_H
#define BERTH_IMAGE_INTERNAL_H

#include "internal.h"

#include <stdint.h>

#define BT_STORE_DIR "content"
#define BT_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define BT_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define BT_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define BT_MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define BT_MEDIA_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
/* index.json and oci-layout larger than this are refused */
#define BT_STORE_INDEX_MAX (16u << 20)

typedef struct bt_store bt_store;

/* Opens the layout in dir; with create, makes what is missing (directories,
 * oci-layout, an empty index.json). Errors: ENOTFOUND when dir is no layout
 * and create is false; EINVAL for a malformed oci-layout; EUNSUPPORTED for
 * another layout version. */
int bt_store_open(const char *dir, bool create, bt_store **out, berth_error **err);
/* The context's store, <root>/content, created when missing. */
int bt_store_open_ctx(const berth_ctx *ctx, bt_store **out, berth_error **err);
void bt_store_close(bt_store *s);
const char *bt_store_dir(const bt_store *s);

/* Keeps gc away (a shared hold on the gc lock) until bt_store_release(fd):
 * a pull holds it from its first blob until its manifest is tagged. */
int bt_store_hold(bt_store *s, int *fd, berth_error **err);
void bt_store_release(int fd);

/* ---- blobs ------------------------------------------------------------ */

/* The path of a blob, whether present or not (digest validated first). */
int bt_store_blob_path(const bt_store *s, const char *digest, char **out, berth_error **err);
/* 1 when the blob is present (and, when size >= 0, has that size), 0 when
 * not, or a negative code. */
int bt_store_has_blob(const bt_store *s, const char *digest, int64_t size, berth_error **err);

/* A blob being written. Chunks are hashed as they come; bytes beyond the
 * expected size fail at once. */
typedef struct bt_blob_writer bt_blob_writer;
/* Starts writing a blob. digest: the expected digest, or NULL to take the
 * sha256 of whatever is written. size: the expected size, or -1. When the
 * blob is present already (with that size), *out is NULL and 0 is returned:
 * there is nothing to write. */
int bt_blob_writer_new(bt_store *s, const char *digest, int64_t size, bt_blob_writer **out,
		       berth_error **err);
int bt_blob_writer_write(bt_blob_writer *w, const void *data, size_t len, berth_error **err);
/* Bytes written so far. */
uint64_t bt_blob_writer_written(const bt_blob_writer *w);
/* Checks digest and size, and renames the blob into place (keeping a copy
 * that another writer put there meanwhile). Frees w whatever happens; on
 * failure the temp file is removed. The digest is written to out (may be
 * NULL). Errors: EINTEGRITY when digest or size do not match. */
int bt_blob_writer_commit(bt_blob_writer *w, char out[BT_DIGEST_MAX], berth_error **err);
/* Drops the temp file and frees w. NULL is allowed. */
void bt_blob_writer_abort(bt_blob_writer *w);
/* A whole buffer as one blob (digest and size as for bt_blob_writer_new). */
int bt_store_put_blob(bt_store *s, const char *digest, const void *data, size_t len,
		      char out[BT_DIGEST_MAX], berth_error **err);

/* Reads a whole blob (at most max bytes) and checks it against its digest.
 * Errors: ENOTFOUND, EINVAL when larger than max, EINTEGRITY. */
int bt_store_read_blob(const bt_store *s, const char *digest, size_t max, char **out,
		       size_t *len, berth_error **err);
/* Opens a blob for streaming (O_RDONLY); *size gets its size. The caller
 * verifies the digest while reading. */
int bt_store_open_blob(const bt_store *s, const char *digest, int *fd, int64_t *size,
		       berth_error **err);
/* The digests of all blobs present, sorted; free with bt_strv_free. */
int bt_store_list_blobs(const bt_store *s, char ***out, size_t *n, berth_error **err);
/* Removes a blob. ENOTFOUND when absent. */
int bt_store_delete_blob(bt_store *s, const char *digest, berth_error **err);
/* Removes every blob that is neither in keep[0..nkeep) nor a manifest in
 * index.json, and temp files that writers left behind, under the exclusive
 * gc lock (waiting for writers). Counts go to freed/bytes (may be NULL). */
int bt_store_gc(bt_store *s, const char *const *keep, size_t nkeep, size_t *freed,
		uint64_t *bytes, berth_error **err);

/* ---- index.json --------------------------------------------------------- */

typedef struct {
	char *media_type;
	char digest[BT_DIGEST_MAX];
	int64_t size;
	char *ref_name;    /* the tag (ref.name annotation), or NULL */
	json_t *json;      /* the whole descriptor as stored (annotations, platform) */
} bt_descriptor;

void bt_descriptor_clear(bt_descriptor *d);
void bt_descriptors_free(bt_descriptor *v, size_t n);

/* index.json read and validated: *out a JSON object with schemaVersion 2 and
 * a "manifests" array of valid descriptors. Errors: EINVAL for a malformed
 * file, naming the file and the JSON path. */
int bt_store_index_load(const bt_store *s, json_t **out, berth_error **err);
/* The descriptors of index.json, in file order. */
int bt_store_index_list(const bt_store *s, bt_descriptor **out, size_t *n, berth_error **err);
/* The descriptor tagged ref_name. ENOTFOUND when there is none. */
int bt_store_resolve(const bt_store *s, const char *ref_name, bt_descriptor *out,
		     berth_error **err);
/* Tags the manifest (media_type, digest, size) as ref_name, replacing the
 * manifest that had that tag, in one atomic change of index.json. The blob
 * must be present. extra: more descriptor members (platform, annotations),
 * or NULL. */
int bt_store_tag(bt_store *s, const char *ref_name, const char *media_type, const char *digest,
		 int64_t size, const json_t *extra, berth_error **err);
/* Removes the tag. ENOTFOUND when absent. */
int bt_store_untag(bt_store *s, const char *ref_name, berth_error **err);
/* Checks a ref.name against the OCI annotation grammar. */
int bt_store_check_ref_name(const char *ref_name, berth_error **err);

/* ---- shared by the store's files (store.c, blob.c, index.c, gc.c) ------- */

/* Defined here rather than in store.c only so that blob.c, index.c and gc.c
 * can reach the paths and lock files; callers outside the store treat it as
 * opaque. */
struct bt_store {
	char *dir;
	char *layout_path; /* <dir>/oci-layout */
	char *index_path;  /* <dir>/index.json */
	char *index_lock;
	char *gc_lock;
};

/* Sets ENOMEM with "<what> <dir>: out of memory"; returns the code. */
int bt_store_nomem(berth_error **err, const char *what, const char *dir);

/* Called for each entry of blobs/<alg>/ that is a blob or (temp) a writer's
 * temp file; dfd is that directory. A negative return stops the walk. */
typedef int (*bt_blob_fn)(const char *alg, int dfd, const char *name, bool temp, void *data,
			  berth_error **err);
/* Walks blobs/<alg>/ of every known algorithm (blob.c): listing and gc. */
int bt_store_each_blob(const bt_store *s, bt_blob_fn fn, void *data, berth_error **err);

#endif
