/* The public, read-only view of the image store: listing tagged images. */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
