/* berth/image.h: image references, pulling from registries, and the image store.
 *
 * Conventions as in berth/common.h.
 */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <berth/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- references ------------------------------------------------------ */

/* An image reference as Docker users write it ("busybox",
 * "127.0.0.1:5000/team/app:v2", "name@sha256:..."), parsed by the grammar of
 * the distribution project and normalised as Docker does: no domain means
 * "docker.io", a single path component on docker.io gets "library/" in front,
 * "index.docker.io" becomes "docker.io", and a reference with neither tag nor
 * digest gets the tag "latest". */
typedef struct berth_reference berth_reference;

/* Parses text into a new reference, freed with berth_reference_free().
 * Errors: EINVAL with a message that names the text and what is wrong with
 * it (uppercase repository, empty path component, tag too long, name longer
 * than 255 characters, malformed digest, whitespace, ...); EUNSUPPORTED for
 * a digest algorithm the library does not know. */
BERTH_EXTERN int berth_reference_parse(const char *text, berth_reference **out,
				       berth_error **err);
/* NULL is allowed. */
BERTH_EXTERN void berth_reference_free(berth_reference *ref);

/* The getters' strings are borrowed and live as long as the reference. */

/* The registry: "docker.io", "127.0.0.1:5000", "localhost", ... */
BERTH_EXTERN const char *berth_reference_domain(const berth_reference *ref);
/* The repository path below the registry: "library/busybox", "team/app". */
BERTH_EXTERN const char *berth_reference_path(const berth_reference *ref);
/* Domain and path: "docker.io/library/busybox". */
BERTH_EXTERN const char *berth_reference_name(const berth_reference *ref);
/* The name as docker prints it in REPOSITORY columns: "busybox",
 * "user/app", "127.0.0.1:5000/team/app". */
BERTH_EXTERN const char *berth_reference_familiar_name(const berth_reference *ref);
/* The tag ("latest" when the text had neither tag nor digest), or NULL when
 * the reference names only a digest. */
BERTH_EXTERN const char *berth_reference_tag(const berth_reference *ref);
/* The digest ("sha256:<64 hex>"), or NULL when the text had none. */
BERTH_EXTERN const char *berth_reference_digest(const berth_reference *ref);
/* The whole normalised reference: "docker.io/library/busybox:latest",
 * "docker.io/library/busybox@sha256:...", "localhost/app:v1@sha256:...". */
BERTH_EXTERN const char *berth_reference_string(const berth_reference *ref);
/* The whole reference as docker prints it: "busybox:latest",
 * "user/app:v2", "127.0.0.1:5000/team/app@sha256:...". */
BERTH_EXTERN const char *berth_reference_familiar(const berth_reference *ref);

/* ---- the image store (read-only for now) ------------------------------ */

/* The tagged images in the context's store (<root>/content, an OCI image
 * layout), in the order they were first tagged. A snapshot: later changes
 * to the store do not show. */
typedef struct berth_image_list berth_image_list;

/* Lists the store's images. A store that does not exist yet gives an empty
 * list (nothing is created). Errors: EINVAL for a malformed index.json or
 * manifest, EINTEGRITY for a manifest that does not match its digest. */
BERTH_EXTERN int berth_image_list_new(const berth_ctx *ctx, berth_image_list **out,
				      berth_error **err);
BERTH_EXTERN size_t berth_image_list_count(const berth_image_list *list);
/* The i-th image's reference as tagged ("docker.io/library/busybox:latest"),
 * borrowed; NULL when i is out of range. */
BERTH_EXTERN const char *berth_image_list_reference(const berth_image_list *list, size_t i);
/* The i-th image's manifest digest ("sha256:..."), borrowed; NULL when out of range. */
BERTH_EXTERN const char *berth_image_list_digest(const berth_image_list *list, size_t i);
/* The i-th image's size in bytes as stored: manifest, config and layers
 * (compressed); for an index, the index alone. -1 when out of range. */
BERTH_EXTERN long long berth_image_list_size(const berth_image_list *list, size_t i);
/* NULL is allowed. */
BERTH_EXTERN void berth_image_list_free(berth_image_list *list);

/* ---- pulling ------------------------------------------------------------ */

/* What a pull is doing, for the progress callback. */
typedef enum {
	BERTH_PULL_RESOLVING = 0,   /* asking the registry for the manifest */
	BERTH_PULL_LAYER_WAITING = 1, /* a layer is queued (total: its size) */
	BERTH_PULL_LAYER_EXISTS = 2,  /* a layer is in the store already */
	BERTH_PULL_LAYER_BYTES = 3,   /* bytes of a layer arrived (done/total) */
	BERTH_PULL_LAYER_VERIFYING = 4, /* a layer is complete; checking its digest */
	BERTH_PULL_LAYER_DONE = 5,    /* a layer is verified and stored */
	BERTH_PULL_DONE = 6,          /* the image is tagged; digest: its manifest */
} berth_pull_stage;

/* Called as a pull goes; digest names the layer (NULL for RESOLVING).
 * Calls come from the pull's threads but never two at once. A non-zero
 * return cancels the pull: it stops, removes what it wrote and fails with
 * ECANCELED. */
typedef int (*berth_pull_progress_fn)(berth_pull_stage stage, const char *digest,
				      long long done, long long total, void *userdata);

typedef struct {
	size_t size;                       /* sizeof(berth_pull_opts): set by the INIT macro */
	berth_pull_progress_fn progress;   /* may be NULL */
	void *userdata;
	const char *platform;              /* "os/arch[/variant]" chosen from an index;
					      NULL: the build's own (linux/amd64 on x86_64) */
	const char *const *insecure_registries; /* NULL-terminated "host[:port]" list allowed
					      over plain HTTP and unverified TLS (loopback
					      registries may always use plain HTTP) */
	const char *certs_dir;             /* per-registry CAs, <dir>/<host:port>/ca.crt;
					      NULL: /etc/berth/certs.d */
	const char *auth_file;             /* NULL: <root>/auth.json */
	const char *docker_config;         /* NULL: $DOCKER_CONFIG/config.json, else
					      ~/.docker/config.json; "": not read */
	int parallel;                      /* layers downloaded at once; 0: 3 */
	int retries;                       /* retries of transient failures; 0: 3, -1: none */
} berth_pull_opts;

#define BERTH_PULL_OPTS_INIT { sizeof(berth_pull_opts), NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 }

/* An image in the store: its manifest and config. */
typedef struct berth_image berth_image;

/* Pulls an image ("busybox", "127.0.0.1:5000/app:v1", "app@sha256:...") into
 * the store: manifest (an index gives the manifest of the chosen platform),
 * config and layers, each verified by digest and size while it streams, then
 * tags it with its normalised reference. Layers already stored are not
 * downloaded again. *out (may be NULL) gets the image, freed with
 * berth_image_free(). On failure the store is as it was. Errors: EINVAL for
 * a malformed reference or manifest, ENOTFOUND (unknown image or platform),
 * EAUTH (credentials refused, or a TLS certificate not trusted), ENETWORK
 * (unreachable, or failing after the retries), EINTEGRITY (content does not
 * match its digest),
 * EUNSUPPORTED (schema 1 or unknown media types), ECANCELED, EOS/EPERM for
 * the store. */
BERTH_EXTERN int berth_image_pull(berth_ctx *ctx, const char *ref, const berth_pull_opts *opts,
				  berth_image **out, berth_error **err);

/* Where berth_image_pull_with_sink hands each layer's bytes as they are
 * downloaded, so that another module (storage) can unpack in the same pass.
 * The bytes are only verified at the end: what a sink makes of them is
 * provisional until end() says verified. A layer already in the store is
 * replayed from the store. Calls for one layer come from one thread; layers
 * run in parallel. A negative return fails the pull with that code. */
typedef struct {
	/* before a layer's first byte (again after a restart, after
	 * end(false)); leaving *state NULL says the sink has the layer
	 * already: no data() or end() follow, and a stored layer is not
	 * replayed */
	int (*begin)(void *userdata, size_t index, const char *digest, const char *media_type,
		     long long size, void **state, berth_error **err);
	int (*data)(void *state, const void *buf, size_t len, berth_error **err);
	/* verified: digest and size matched and the blob is stored; else drop
	 * what was made. Called once for each begin() that set a state. */
	int (*end)(void *state, int verified, berth_error **err);
	void *userdata;
} berth_image_layer_sink;

/* berth_image_pull, each layer's bytes also handed to sink (may be NULL). */
BERTH_EXTERN int berth_image_pull_with_sink(berth_ctx *ctx, const char *ref,
					    const berth_pull_opts *opts,
					    const berth_image_layer_sink *sink, berth_image **out,
					    berth_error **err);

/* ---- registry credentials --------------------------------------------- */

typedef struct {
	size_t size;                       /* sizeof(berth_login_opts) */
	const char *const *insecure_registries; /* as in berth_pull_opts */
	const char *certs_dir;
	const char *auth_file;             /* NULL: <root>/auth.json */
} berth_login_opts;

#define BERTH_LOGIN_OPTS_INIT { sizeof(berth_login_opts), NULL, NULL, NULL }

/* Checks username and password against the registry's /v2/ (Basic or a
 * Bearer token) and stores them in the auth file (mode 0600, replaced
 * atomically). server: "host[:port]". Errors: EAUTH when the registry
 * refuses them, ENETWORK, EINVAL. */
BERTH_EXTERN int berth_registry_login(berth_ctx *ctx, const char *server, const char *username,
				      const char *password, const berth_login_opts *opts,
				      berth_error **err);
/* Forgets the credentials of server. ENOTFOUND when there were none. */
BERTH_EXTERN int berth_registry_logout(berth_ctx *ctx, const char *server,
				       const berth_login_opts *opts, berth_error **err);

/* ---- images in the store ---------------------------------------------- */

/* Finds an image by reference ("busybox", "app:v1", "app@sha256:..."), by
 * image ID (config digest, "sha256:..." or a hex prefix of at least 4) or
 * by manifest digest. Errors: ENOTFOUND, EINVAL for a malformed manifest or
 * config, EINTEGRITY. */
BERTH_EXTERN int berth_image_lookup(const berth_ctx *ctx, const char *name, berth_image **out,
				    berth_error **err);
/* NULL is allowed. */
BERTH_EXTERN void berth_image_free(berth_image *img);

/* Getters: strings borrowed, living as long as the image. */

/* The image ID: the config digest. */
BERTH_EXTERN const char *berth_image_id(const berth_image *img);
/* The manifest digest. */
BERTH_EXTERN const char *berth_image_digest(const berth_image *img);
/* The tags that name this manifest ("docker.io/library/busybox:latest"). */
BERTH_EXTERN size_t berth_image_reference_count(const berth_image *img);
BERTH_EXTERN const char *berth_image_reference(const berth_image *img, size_t i);
/* Config and layers as stored (compressed), in bytes. */
BERTH_EXTERN long long berth_image_size(const berth_image *img);
/* RFC 3339 time, architecture, os, variant; NULL when the config has none. */
BERTH_EXTERN const char *berth_image_created(const berth_image *img);
BERTH_EXTERN const char *berth_image_architecture(const berth_image *img);
BERTH_EXTERN const char *berth_image_os(const berth_image *img);
BERTH_EXTERN const char *berth_image_variant(const berth_image *img);
/* NULL-terminated lists: Env ("K=V"), Cmd, Entrypoint, ExposedPorts ("80/tcp"). */
BERTH_EXTERN const char *const *berth_image_env(const berth_image *img);
BERTH_EXTERN const char *const *berth_image_cmd(const berth_image *img);
BERTH_EXTERN const char *const *berth_image_entrypoint(const berth_image *img);
BERTH_EXTERN const char *const *berth_image_exposed_ports(const berth_image *img);
/* Labels, sorted by key. */
BERTH_EXTERN size_t berth_image_label_count(const berth_image *img);
BERTH_EXTERN const char *berth_image_label_key(const berth_image *img, size_t i);
BERTH_EXTERN const char *berth_image_label_value(const berth_image *img, size_t i);
/* Layers in order, bottom first: digest, media type and size; NULL / -1
 * when out of range. */
BERTH_EXTERN size_t berth_image_layer_count(const berth_image *img);
BERTH_EXTERN const char *berth_image_layer_digest(const berth_image *img, size_t i);
BERTH_EXTERN const char *berth_image_layer_media_type(const berth_image *img, size_t i);
BERTH_EXTERN long long berth_image_layer_size(const berth_image *img, size_t i);
/* The config and manifest documents as stored (JSON text). */
BERTH_EXTERN const char *berth_image_config_json(const berth_image *img);
BERTH_EXTERN const char *berth_image_manifest_json(const berth_image *img);

/* The config's history, newest first as `docker history` shows it:
 * created (RFC 3339 or NULL), created_by, comment, and the size of the layer
 * the step made (0 for an empty layer; compressed size). */
BERTH_EXTERN size_t berth_image_history_count(const berth_image *img);
BERTH_EXTERN const char *berth_image_history_created(const berth_image *img, size_t i);
BERTH_EXTERN const char *berth_image_history_created_by(const berth_image *img, size_t i);
BERTH_EXTERN const char *berth_image_history_comment(const berth_image *img, size_t i);
BERTH_EXTERN long long berth_image_history_size(const berth_image *img, size_t i);

/* Tags the image named source (as for berth_image_lookup) as target
 * ("app:v2"), replacing what target named. Errors: ENOTFOUND, EINVAL. */
BERTH_EXTERN int berth_image_tag(berth_ctx *ctx, const char *source, const char *target,
				 berth_error **err);
/* Removes the tag ref. ENOTFOUND when there is no such tag. */
BERTH_EXTERN int berth_image_untag(berth_ctx *ctx, const char *ref, berth_error **err);

enum {
	BERTH_IMAGE_REMOVE_FORCE = 1, /* even when used by a container or tagged several times */
};
/* Removes an image: a reference removes that tag; an ID or digest removes
 * every tag of the image (refused with EBUSY when there are several, unless
 * forced). Blobs no other image uses or holds are freed, and so are the
 * image's unpacked layers that no snapshot or other image holds. Errors:
 * ENOTFOUND; EBUSY, naming the holders, when its last tag would go while
 * the image is held (berth_image_hold: a storage snapshot, a read-only
 * mount, a container), unless forced: a forced removal leaves the holders
 * the image's blobs (until their last hold goes) and layers. The removal is
 * recorded before the untag, so one that is killed part way is completed
 * by the next collection. */
BERTH_EXTERN int berth_image_remove(berth_ctx *ctx, const char *name, int flags,
				    berth_error **err);
/* ---- holds: who uses an image (containerd's leases) -------------------- */

/* A hold is a named claim on a manifest: other modules and programs take
 * one for as long as they use an image (storage: "storage:snapshot:<id>",
 * "storage:mount:<digest>"; the engine: "container:<id>"). While an image
 * is held, berth_image_remove refuses to remove its last tag (EBUSY naming
 * the holders) unless forced, and no collection frees the blobs a held
 * manifest reaches, tagged or not. Holds are recorded in <root>/content/
 * berth-holds.json, changed atomically under the store's index lock and
 * fsynced. Whoever takes a hold releases it; a holder that may die before
 * it does (a killed process) sweeps the holds of its own prefix that hold
 * nothing any more (storage does so for its own under its lock). */

/* Holds the manifest that name means (as for berth_image_lookup, or the
 * digest of any manifest in the store, e.g. one platform's manifest of an
 * index) for holder (1 to 255 printable characters, no spaces). Taking a
 * hold the holder has already is not an error. *digest (may be NULL) gets
 * the manifest digest held, freed with free(). Errors: ENOTFOUND, EINVAL. */
BERTH_EXTERN int berth_image_hold(berth_ctx *ctx, const char *name, const char *holder,
				  char **digest, berth_error **err);
/* Drops holder's hold on the manifest digest. A manifest left untagged and
 * unheld is freed by the next collection (remove, gc, tag, untag or pull
 * completes it). Errors: ENOTFOUND when holder does not hold digest. */
BERTH_EXTERN int berth_image_release(berth_ctx *ctx, const char *digest, const char *holder,
				     berth_error **err);

/* The holds on an image, or on every manifest: a snapshot. */
typedef struct berth_image_holds berth_image_holds;
/* name: an image (as for berth_image_lookup: its manifest and, for an
 * index, the manifests it lists), or NULL for every hold in the store. A
 * store that does not exist yet has no holds. Errors: ENOTFOUND for an
 * unknown name. */
BERTH_EXTERN int berth_image_holds_new(const berth_ctx *ctx, const char *name,
				       berth_image_holds **out, berth_error **err);
BERTH_EXTERN size_t berth_image_holds_count(const berth_image_holds *h);
/* The i-th hold: the manifest digest held, and the holder (borrowed); NULL
 * when i is out of range. */
BERTH_EXTERN const char *berth_image_holds_digest(const berth_image_holds *h, size_t i);
BERTH_EXTERN const char *berth_image_holds_holder(const berth_image_holds *h, size_t i);
/* NULL is allowed. */
BERTH_EXTERN void berth_image_holds_free(berth_image_holds *h);

/* ---- the store's content, for modules built on it (storage) ------------- */

/* The manifest (or index) a name means, without reading it further: a tag
 * exactly as stored (an OCI layout's "v1"), else as berth_image_lookup.
 * *digest and *media_type are freed with free(). Errors: ENOTFOUND, EINVAL. */
BERTH_EXTERN int berth_image_resolve(const berth_ctx *ctx, const char *name, char **digest,
				     char **media_type, berth_error **err);
/* Reads a whole blob of at most max bytes, checked against its digest;
 * *data (NUL-terminated, freed with free()) and *len. Errors: ENOTFOUND,
 * EINVAL when larger than max, EINTEGRITY. */
BERTH_EXTERN int berth_image_blob_read(const berth_ctx *ctx, const char *digest, size_t max,
				       char **data, size_t *len, berth_error **err);
/* Opens a blob for streaming (read-only, close-on-exec); *size its size.
 * The caller checks the digest while reading. Errors: ENOTFOUND. */
BERTH_EXTERN int berth_image_blob_open(const berth_ctx *ctx, const char *digest, int *fd,
				       long long *size, berth_error **err);
/* Bytes of blob temp files that dead writers left (the next pull or gc
 * removes them), for `system df`. 0 when there is no store. */
BERTH_EXTERN unsigned long long berth_image_leftover_bytes(const berth_ctx *ctx);

/* Frees the blobs that no tagged image refers to, and the unpacked layers
 * that only the images among them held (as berth_image_remove does; a
 * snapshot keeps its layers, a mounted image its hold); counts (may be NULL)
 * of blobs and bytes freed. */
BERTH_EXTERN int berth_image_gc(berth_ctx *ctx, size_t *freed, unsigned long long *bytes,
				berth_error **err);

/* ---- new images ---------------------------------------------------------- */
/* How berth_image_commit makes an image. */
typedef struct {
	size_t size;            /* sizeof(berth_image_commit_opts): set by the INIT macro */
	const char *config;     /* JSON text of the new config's "config" object (Cmd, Env,
				   Entrypoint, WorkingDir, User, Labels, ...); NULL: the parent's */
	const char *comment;    /* the history entry's comment (docker commit -m) */
	const char *author;     /* the config's author (-a) */
	const char *created_by; /* the history entry's created_by */
	const char *tag;        /* required: the reference the new image is tagged as */
} berth_image_commit_opts;

#define BERTH_IMAGE_COMMIT_OPTS_INIT { sizeof(berth_image_commit_opts), NULL, NULL, NULL, NULL, NULL }

/* Makes a new image of the image named parent (as for berth_image_lookup)
 * plus one layer, the uncompressed tar read from layer_fd to its end: the
 * layer, a config (the parent's with the new diff_id, a history entry and
 * opts->config) and a manifest (the parent's kind, OCI or Docker) are
 * stored as blobs and the manifest tagged opts->tag, replacing what that
 * tag named. Puts the new image ID (its config digest) in *id, freed with
 * berth_string_free(). Errors: EINVAL for a missing or malformed tag or
 * config, ENOTFOUND for an unknown parent, EOS. Blobs written before a
 * failure are left for berth_image_gc. */
BERTH_EXTERN int berth_image_commit(berth_ctx *ctx, const char *parent, int layer_fd,
				    const berth_image_commit_opts *opts, char **id,
				    berth_error **err);

#ifdef __cplusplus
}
#endif

#endif
