/* The public, read-only view of the image store: listing tagged images. */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

/* manifests larger than this are refused (the registry client will use the same) */
#define MANIFEST_MAX (4u << 20)
#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

struct berth_image_list {
	bt_descriptor *v;
	long long *sizes;
	size_t n;
};

void berth_image_list_free(berth_image_list *list)
{
	if (!list)
		return;
	bt_descriptors_free(list->v, list->n);
	free(list->sizes);
	free(list);
}

/* Manifest, config and layers of an image manifest; the descriptor's own
 * size for anything else (an index). */
static int image_size(const bt_store *s, const bt_descriptor *d, long long *out,
		      berth_error **err)
{
	json_t *m, *layers, *layer;
	char *buf;
	size_t len, i;
	long long sz;
	int rc;

	*out = d->size;
	if (strcmp(d->media_type, BT_MEDIA_OCI_MANIFEST) && strcmp(d->media_type, MEDIA_DOCKER_MANIFEST))
		return 0;
	if ((rc = bt_store_read_blob(s, d->digest, MANIFEST_MAX, &buf, &len, err)) < 0)
		return rc;
	rc = bt_json_parse(buf, len, d->digest, &m, err);
	free(buf);
	if (rc < 0)
		return rc;
	if ((rc = bt_json_int(json_object_get(m, "config"), "config", "size", true, &sz, err)) < 0 ||
	    (rc = bt_json_member(m, "", "layers", JSON_ARRAY, true, &layers, err)) < 0)
		goto out;
	*out += sz;
	json_array_foreach(layers, i, layer) {
		char path[48];

		snprintf(path, sizeof(path), "layers[%zu]", i);
		if ((rc = bt_json_int(layer, path, "size", true, &sz, err)) < 0)
			goto out;
		*out += sz;
	}
out:
	if (rc < 0)
		bt_error_wrap(err, rc, "manifest %s", d->digest);
	json_decref(m);
	return rc;
}

int berth_image_list_new(const berth_ctx *ctx, berth_image_list **out, berth_error **err)
{
	berth_image_list *list;
	bt_store *s = NULL;
	char *dir = NULL, *layout = NULL;
	size_t tagged = 0;
	int rc;

	*out = NULL;
	if (!(list = calloc(1, sizeof(*list))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "listing images: out of memory");
	if ((rc = bt_path_join(ctx->root, BT_STORE_DIR, &dir, err)) < 0)
		goto fail;
	if (!(layout = bt_strdup_printf("%s/oci-layout", dir))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "listing images: out of memory");
		goto fail;
	}
	if (access(layout, F_OK) < 0 && errno == ENOENT) /* no store yet: no images */
		goto done;
	if ((rc = bt_store_open(dir, false, &s, err)) < 0 ||
	    (rc = bt_store_index_list(s, &list->v, &list->n, err)) < 0)
		goto fail;
	if (!(list->sizes = calloc(list->n + 1, sizeof(*list->sizes)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "listing images: out of memory");
		goto fail;
	}
	/* only tagged entries are images to list; keep them in order */
	for (size_t i = 0; i < list->n; i++) {
		if (!list->v[i].ref_name) {
			bt_descriptor_clear(&list->v[i]);
			continue;
		}
		if ((rc = image_size(s, &list->v[i], &list->sizes[tagged], err)) < 0) {
			bt_error_wrap(err, rc, "image %s", list->v[i].ref_name);
			goto fail;
		}
		if (tagged != i) {
			list->v[tagged] = list->v[i];
			memset(&list->v[i], 0, sizeof(list->v[i]));
		}
		tagged++;
	}
	list->n = tagged;
done:
	bt_store_close(s);
	free(dir);
	free(layout);
	*out = list;
	return 0;
fail:
	bt_error_wrap(err, rc, "listing images in %s", dir ? dir : ctx->root);
	bt_store_close(s);
	free(dir);
	free(layout);
	berth_image_list_free(list);
	return rc;
}

size_t berth_image_list_count(const berth_image_list *list)
{
	return list ? list->n : 0;
}

const char *berth_image_list_reference(const berth_image_list *list, size_t i)
{
	return list && i < list->n ? list->v[i].ref_name : NULL;
}

const char *berth_image_list_digest(const berth_image_list *list, size_t i)
{
	return list && i < list->n ? list->v[i].digest : NULL;
}

long long berth_image_list_size(const berth_image_list *list, size_t i)
{
	return list && i < list->n ? list->sizes[i] : -1;
}

/* ---- tag, untag, remove, gc ---------------------------------------------- */

/* The normalised reference text of a name a user typed ("app" ->
 * "docker.io/library/app:latest"). */
static int normalise(const char *name, char **out, berth_error **err)
{
	berth_reference *ref;
	int rc;

	*out = NULL;
	if ((rc = berth_reference_parse(name ? name : "", &ref, err)) < 0)
		return rc;
	if (!(*out = strdup(berth_reference_string(ref))))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	berth_reference_free(ref);
	return rc;
}

int berth_image_tag(berth_ctx *ctx, const char *source, const char *target, berth_error **err)
{
	bt_descriptor d = { 0 };
	bt_store *s = NULL;
	char *ref = NULL;
	int rc;

	if ((rc = normalise(target, &ref, err)) < 0 || (rc = bt_image_store_open(ctx, &s, err)) < 0 ||
	    (bt_holds_complete_pending(ctx, s), (rc = bt_image_find(s, source, &d, err)) < 0) ||
	    (rc = bt_store_tag(s, ref, d.media_type, d.digest, d.size, NULL, err)) < 0)
		bt_error_wrap(err, rc, "tagging %.200s as %.200s", source ? source : "", target ? target : "");
	bt_descriptor_clear(&d);
	bt_store_close(s);
	free(ref);
	return rc;
}

int berth_image_untag(berth_ctx *ctx, const char *name, berth_error **err)
{
	bt_store *s = NULL;
	char *ref = NULL;
	int rc;

	if ((rc = normalise(name, &ref, err)) < 0 || (rc = bt_image_store_open(ctx, &s, err)) < 0 ||
	    (bt_holds_complete_pending(ctx, s), (rc = bt_store_untag(s, ref, err)) < 0))
		bt_error_wrap(err, rc, "untagging %.200s", name ? name : "");
	bt_store_close(s);
	free(ref);
	return rc;
}

/* A collection's removed blobs go to the modules that keep data derived
 * from them (storage drops its hold "image:<digest>" on their unpacked
 * layers; what a snapshot holds stays), registered in common. */
static int tell_removed(char *const *digests, size_t n, void *ctx, uint64_t *bytes, berth_error **err)
{
	return bt_manifests_removed(ctx, digests, n, bytes, err);
}

/* Frees the blobs no tagged or held image reaches, and what other modules
 * derived from the manifests among them (remove and gc). */
static int collect(berth_ctx *ctx, bt_store *s, size_t *freed, uint64_t *bytes, berth_error **err)
{
	return bt_store_gc_unreferenced(s, NULL, 0, false, tell_removed, ctx, freed, bytes, err);
}

/* The tags a removal takes: the one named, or every tag of the image
 * (refused when there are several, unless forced). */
static int tags_to_remove(bt_store *s, const char *name, const bt_descriptor *d, bool force,
			  struct bt_strv *untag, berth_error **err)
{
	berth_reference *parsed = NULL;
	bt_descriptor tagged = { 0 }, *tags = NULL;
	size_t ntags = 0;
	int rc;

	if (berth_reference_parse(name, &parsed, NULL) == 0 &&
	    bt_store_resolve(s, berth_reference_string(parsed), &tagged, NULL) == 0) {
		rc = bt_strv_add(untag, strdup(berth_reference_string(parsed))) < 0 ? -1 : 0;
	} else if ((rc = bt_store_index_list(s, &tags, &ntags, err)) == 0) {
		for (size_t i = 0; i < ntags && rc == 0; i++)
			if (tags[i].ref_name && !strcmp(tags[i].digest, d->digest))
				rc = bt_strv_add(untag, strdup(tags[i].ref_name)) < 0 ? -1 : 0;
		if (rc == 0 && untag->n > 1 && !force)
			rc = bt_error_set(err, BERTH_EBUSY, 0, "image is tagged %zu times (%s, ...): remove a tag "
					  "or force", untag->n, untag->v[0]);
	}
	if (rc == -1)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	bt_descriptors_free(tags, ntags);
	bt_descriptor_clear(&tagged);
	berth_reference_free(parsed);
	return rc;
}

/* "a, b, c" of the first three holders, and how many more. */
static void name_holders(const struct bt_strv *h, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < h->n && i < 3 && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", h->v[i]);
	if (h->n > 3 && len < size)
		snprintf(buf + len, size - len, " and %zu more", h->n - 3);
}

/* Under the index lock: refuses while the last tag would go from a held
 * image (unless forced), else records the image's blobs as pending (so a
 * removal killed after the untag is completed by the next collection) and
 * untags, in one critical section so no hold slips in between. */
static int untag_unless_held(bt_store *s, const bt_descriptor *d, const struct bt_strv *untag,
			     const struct bt_strv *blobs, bool force, berth_error **err)
{
	struct bt_strv holders = { 0 };
	json_t *index = NULL, *holds = NULL, *m;
	size_t left = 0, i;
	int fd = -1, rc;

	if ((rc = bt_store_index_lock(s, &fd, &index, err)) < 0 || (rc = bt_holds_load(s, &holds, err)) < 0)
		goto out;
	json_array_foreach(json_object_get(index, "manifests"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "digest")) ?: "", d->digest) &&
		    json_object_get(json_object_get(m, "annotations"), BT_ANNOTATION_REF_NAME))
			left++;
	if (bt_holds_of(holds, blobs->v, blobs->n, &holders) < 0) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (left <= untag->n && holders.n && !force) {
		char names[512];

		name_holders(&holders, names, sizeof(names));
		rc = bt_error_set(err, BERTH_EBUSY, 0, "image %s is held by %s: release %s first or force",
				  d->digest, names, holders.n > 1 ? "them" : "it");
		goto out;
	}
	if ((rc = bt_holds_add_pending(holds, blobs->v, blobs->n, err)) < 0 ||
	    (rc = bt_holds_save(s, holds, err)) < 0)
		goto out;
	rc = bt_store_untag_locked(s, index, untag->v, untag->n, err);
out:
	bt_lock_release(fd);
	json_decref(index);
	json_decref(holds);
	bt_strv_free(holders.v, holders.n);
	return rc;
}

int berth_image_remove(berth_ctx *ctx, const char *name, int flags, berth_error **err)
{
	bool force = flags & BERTH_IMAGE_REMOVE_FORCE;
	struct bt_strv untag = { 0 }, blobs = { 0 };
	bt_descriptor d = { 0 };
	bt_store *s = NULL;
	int rc;

	if ((rc = bt_image_store_open(ctx, &s, err)) < 0)
		goto out;
	bt_holds_complete_pending(ctx, s); /* what a killed removal left */
	/* every digest of the image: for an index, a snapshot holds the
	 * platform manifest it was made from, not the index */
	if ((rc = bt_image_find(s, name, &d, err)) < 0 ||
	    (rc = tags_to_remove(s, name, &d, force, &untag, err)) < 0 ||
	    (rc = bt_manifest_collect(s, d.digest, &blobs, err)) < 0 ||
	    (rc = untag_unless_held(s, &d, &untag, &blobs, force, err)) < 0)
		goto out;
#ifdef BERTH_TEST_HOOKS
	if (getenv("BERTH_TEST_RMI_STOP_AFTER_UNTAG"))
		raise(SIGSTOP); /* a test kills it here: untagged, not collected */
#endif
	/* a forced removal leaves holders the blobs and layers they hold */
	rc = collect(ctx, s, NULL, NULL, err);
out:
	if (rc < 0)
		bt_error_wrap(err, rc, "removing image %.200s", name ? name : "");
	bt_strv_free(untag.v, untag.n);
	bt_strv_free(blobs.v, blobs.n);
	bt_descriptor_clear(&d);
	bt_store_close(s);
	return rc;
}

int berth_image_gc(berth_ctx *ctx, size_t *freed, unsigned long long *bytes, berth_error **err)
{
	bt_store *s = NULL;
	uint64_t b = 0;
	size_t n = 0;
	int rc;

	if ((rc = bt_image_store_open(ctx, &s, err)) == BERTH_ENOTFOUND) {
		if (err) {
			berth_error_free(*err);
			*err = NULL;
		}
		rc = 0; /* no store: nothing to collect */
	} else if (rc == 0 && (rc = collect(ctx, s, &n, &b, err)) < 0) { /* pending too */
		bt_error_wrap(err, rc, "collecting unused image blobs");
	}
	if (freed)
		*freed = n;
	if (bytes)
		*bytes = b;
	bt_store_close(s);
	return rc;
}
