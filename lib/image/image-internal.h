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
 *   <dir>/berth-holds.json    {"holds": {manifest digest: [holder, ...]},
 *                             "pending": [digest, ...]}: who holds which
 *                             manifest, and the blobs a removal left to
 *                             collect; changed under the index lock
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
/* Takes the index lock (exclusive) into *fd, sweeps the temp files killed
 * writers of index.json left, and loads it; on failure nothing is held. */
int bt_store_index_lock(bt_store *s, int *fd, json_t **index, berth_error **err);
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
/* Removes the tags refs[0..n) from index (as bt_store_index_lock loaded
 * it, the lock held) and writes it; tags already gone are skipped. */
int bt_store_untag_locked(bt_store *s, json_t *index, char *const *refs, size_t n, berth_error **err);
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
	char *holds_path;  /* <dir>/berth-holds.json */
};

/* Sets ENOMEM with "<what> <dir>: out of memory"; returns the code. */
int bt_store_nomem(berth_error **err, const char *what, const char *dir);

/* Called for each entry of blobs/<alg>/ that is a blob or (temp) a writer's
 * temp file; dfd is that directory. A negative return stops the walk. */
typedef int (*bt_blob_fn)(const char *alg, int dfd, const char *name, bool temp, void *data,
			  berth_error **err);
/* Walks blobs/<alg>/ of every known algorithm (blob.c): listing and gc. */
int bt_store_each_blob(const bt_store *s, bt_blob_fn fn, void *data, berth_error **err);
/* The temp files of blob writers that died (no live writer holds them):
 * their bytes, and with remove, removed. Errors are skipped: a sweep is
 * best effort and runs again with the next pull. */
uint64_t bt_store_sweep_temps(const bt_store *s, bool remove);

/* ---- manifests and platforms (manifest.c) ------------------------------ */

#define BT_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define BT_MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define BT_MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define BT_MEDIA_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define BT_MEDIA_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
/* manifests (and indexes) larger than this are refused, as containerd does */
#define BT_MANIFEST_MAX (4u << 20)
/* image configs larger than this are refused */
#define BT_CONFIG_MAX (16u << 20)

/* os/architecture[/variant], as "linux/arm64/v8". */
typedef struct {
	char os[32];
	char arch[32];
	char variant[32]; /* "" when none was asked for */
} bt_platform;

/* Parses "os/arch[/variant]"; NULL or "" gives the build's own platform
 * (linux/amd64 on x86_64). Errors: EINVAL naming the text. */
int bt_platform_parse(const char *text, bt_platform *out, berth_error **err);
/* Whether an index entry's "platform" object matches: os and architecture
 * equal; the variant equal when one was asked for (arm64 without a variant
 * counts as v8, arm as v7). */
bool bt_platform_match(const bt_platform *want, const json_t *platform);

/* A parsed manifest or index. */
typedef struct {
	const char *media_type; /* one of the BT_MEDIA_* above, static */
	bool is_index;
	bt_descriptor config;   /* manifests only */
	bt_descriptor *layers;  /* manifests only */
	size_t nlayers;
	json_t *json;           /* the whole document */
} bt_manifest;

/* Parses a manifest or index as served with content_type (may be NULL:
 * taken from the document's mediaType). Schema 1 is refused with
 * EUNSUPPORTED, unknown media types with EUNSUPPORTED, malformed documents
 * with EINVAL naming the JSON path. */
int bt_manifest_parse(const char *buf, size_t len, const char *content_type, bt_manifest *out,
		      berth_error **err);
void bt_manifest_clear(bt_manifest *m);
/* The entry of an index for a platform (the first that matches).
 * ENOTFOUND listing the platforms the index has. */
int bt_index_select(const bt_manifest *index, const bt_platform *want, bt_descriptor *out,
		    berth_error **err);
/* Every blob an image manifest or index in the store refers to, itself
 * included, appended to keep (recursively for an index; children missing
 * from the store are skipped). */
int bt_manifest_collect(const bt_store *s, const char *digest, struct bt_strv *keep,
			berth_error **err);

/* ---- the registry client (registry*.c) ---------------------------------- */

typedef struct bt_registry bt_registry;

typedef struct {
	const char *const *insecure; /* NULL-terminated registries allowed over plain HTTP */
	const char *certs_dir;       /* NULL: /etc/berth/certs.d */
	const char *auth_file;       /* NULL: <root>/auth.json */
	const char *docker_config;   /* NULL: $DOCKER_CONFIG/config.json or ~/.docker/config.json; "": none */
	const char *username;        /* given credentials (login) instead of the files' */
	const char *password;
	int retries;                 /* tries after the first for transient failures */
	const int *cancel;           /* when it becomes non-zero, transfers stop (ECANCELED) */
} bt_registry_conf;

/* A client for one registry ("127.0.0.1:5000", "docker.io"), shared by the
 * threads of one pull: tokens are cached in it until they expire. */
int bt_registry_new(const berth_ctx *ctx, const char *domain, const bt_registry_conf *conf,
		    bt_registry **out, berth_error **err);
void bt_registry_free(bt_registry *r);
/* GET /v2/: picks https or (where allowed) http, and with must_auth checks
 * the credentials too (login). EAUTH, ENETWORK. */
int bt_registry_ping(bt_registry *r, bool must_auth, berth_error **err);
/* GETs a manifest by tag or digest with the Accept header of every media
 * type we know; the body is at most BT_MANIFEST_MAX bytes. *content_type and
 * *digest (the Docker-Content-Digest header, or NULL) are the caller's. */
int bt_registry_get_manifest(bt_registry *r, const char *repo, const char *ref, char **body,
			     size_t *len, char **content_type, char **digest, berth_error **err);

/* Receives a blob's bytes as they arrive. restart: the server could not
 * resume, so everything delivered so far must be dropped. */
typedef struct {
	int (*data)(void *ud, const void *buf, size_t len, berth_error **err);
	int (*restart)(void *ud, berth_error **err);
	void *ud;
} bt_blob_consumer;
/* GETs a blob, resuming with Range after a dropped connection. The bytes are
 * not verified here: the consumer does that. */
int bt_registry_get_blob(bt_registry *r, const char *repo, const char *digest,
			 const bt_blob_consumer *c, berth_error **err);

/* ---- WWW-Authenticate and credentials (registry-auth.c) ---------------- */

typedef struct {
	char scheme[16]; /* "Bearer", "Basic" */
	char *realm, *service, *scope, *error;
} bt_auth_challenge;
/* Parses one WWW-Authenticate header value. EINVAL for malformed text. */
int bt_auth_challenge_parse(const char *value, bt_auth_challenge *out, berth_error **err);
void bt_auth_challenge_clear(bt_auth_challenge *c);
/* base64 (RFC 4648 with padding) of len bytes; NULL when out of memory. */
char *bt_base64_encode(const void *data, size_t len);
/* Decodes base64 into a NUL-terminated string; -1 for malformed input. */
int bt_base64_decode(const char *text, char **out, size_t *len);
/* Looks up "user:password" for a registry in the berth auth file, then in
 * the docker config. user and pass stay NULL when there are none. */
int bt_auth_lookup(const berth_ctx *ctx, const bt_registry_conf *conf, const char *domain,
		   char **user, char **pass, berth_error **err);
/* The berth auth file path: conf->auth_file or <root>/auth.json. */
int bt_auth_file_path(const berth_ctx *ctx, const bt_registry_conf *conf, char **out,
		      berth_error **err);

/* ---- pull (pull.c) ------------------------------------------------------- */

/* The sink a pull hands layers' bytes to (berth_image_layer_sink, public
 * in berth/image.h: storage plugs into it). */
typedef berth_image_layer_sink bt_layer_sink;

/* berth_image_pull with a layer sink (may be NULL). */
int bt_image_pull(berth_ctx *ctx, const char *ref, const berth_pull_opts *opts,
		  const bt_layer_sink *sink, berth_image **out, berth_error **err);

/* ---- images (image.c, inspect.c) -------------------------------------- */

/* An image from the store: the manifest (media type, digest, size) is read,
 * verified and parsed with its config. */
int bt_image_open(const berth_ctx *ctx, const bt_store *s, const char *media_type,
		  const char *digest, berth_image **out, berth_error **err);

/* Adds a tag to what berth_image_reference() lists (after a pull tagged it). */
int bt_image_add_reference(berth_image *img, const char *ref, berth_error **err);
/* The context's store opened without creating it: ENOTFOUND when none. */
int bt_image_store_open(const berth_ctx *ctx, bt_store **s, berth_error **err);
/* The tagged manifest an image name means: a reference ("busybox:1"), a
 * manifest or config digest, or a hex prefix (at least 4) of either.
 * ENOTFOUND; EINVAL for an ambiguous prefix. */
int bt_image_find(const bt_store *s, const char *name, bt_descriptor *out, berth_error **err);

/* ---- holds (holds.c) ------------------------------------------------------ */

/* berth-holds.json as {"holds": {}, "pending": []} (both there even when
 * the file is missing). Read it under the index lock to change it. */
int bt_holds_load(const bt_store *s, json_t **out, berth_error **err);
/* Writes it atomically (fsynced); the index lock must be held. */
int bt_holds_save(const bt_store *s, const json_t *holds, berth_error **err);
/* Appends "holder" strings of the holds on any of digests[0..n) to out. */
int bt_holds_of(const json_t *holds, char *const *digests, size_t n, struct bt_strv *out);
/* Adds the blobs of digests[0..n) to "pending": the next collection frees
 * those no tagged or held image reaches (a removal records this before it
 * untags, so one that is killed is completed by the next operation). */
int bt_holds_add_pending(json_t *holds, char *const *digests, size_t n, berth_error **err);
/* Completes what removals and releases left pending, when no pull holds the
 * store (never waits); failures are logged: it runs again next time. */
void bt_holds_complete_pending(berth_ctx *ctx, bt_store *s);

/* Called with the digests a collection removed, under the gc lock still;
 * adds to *bytes (may be NULL) what it freed of its own for them. */
typedef int (*bt_gc_removed_fn)(char *const *digests, size_t n, void *data, uint64_t *bytes,
				berth_error **err);
/* Removes the blobs no tagged or held image refers to, under the exclusive
 * gc lock, and drops them from the holds' "pending" list (all of it when
 * only is NULL). only: when non-NULL, just those digests are candidates; nowait: give up
 * (returning 0, nothing removed) when a pull or writer holds the store;
 * removed (may be NULL) is called with data and what went, if anything. */
int bt_store_gc_unreferenced(bt_store *s, const char *const *only, size_t nonly, bool nowait,
			     bt_gc_removed_fn removed, void *data, size_t *freed, uint64_t *bytes,
			     berth_error **err);

#endif
