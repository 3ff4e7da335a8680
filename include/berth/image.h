/* berth/image.h: image references and the image store (pulling to come).
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

#ifdef __cplusplus
}
#endif

#endif
