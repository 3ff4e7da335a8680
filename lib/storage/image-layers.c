/* berth_storage_layers: an image's layers as the layer store has them (diff
 * ID, chain ID, bytes unpacked), for `image inspect`. Reads only: the
 * content store for the image, layers.json for the sizes. */
#include "storage-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct berth_storage_layers {
	struct bt_image_layers l;
	long long *size; /* -1: not unpacked */
};

/* The recorded size of each layer, under the storage lock shared so no
 * unpack or release is half done. A store that never unpacked anything has
 * no storage directory: nothing is unpacked, and inspecting makes none. */
static int unpacked_sizes(berth_ctx *ctx, const struct bt_image_layers *l, long long *size,
			  berth_error **err)
{
	char *sdir = NULL, *lock = NULL;
	json_t *j = NULL, *layers;
	struct stat st;
	int lockfd = -1, rc;

	for (size_t i = 0; i < l->n; i++)
		size[i] = -1;
	if ((rc = bt_storage_dirs(ctx, &sdir, &lock, err)) < 0)
		return rc;
	if (stat(sdir, &st) < 0) {
		rc = errno == ENOENT ? 0 : bt_error_os(err, "reading %s", sdir);
		goto out;
	}
	if ((rc = bt_lock_acquire(lock, BT_LOCK_SHARED, &lockfd, err)) < 0 ||
	    (rc = bt_layers_load(ctx, &j, err)) < 0)
		goto out;
	layers = json_object_get(j, "layers");
	for (size_t i = 0; i < l->n; i++) {
		json_t *s = json_object_get(json_object_get(layers, l->chain[i]), "size");

		if (json_is_integer(s) && json_integer_value(s) >= 0)
			size[i] = (long long)json_integer_value(s);
	}
out:
	if (lockfd >= 0)
		bt_lock_release(lockfd);
	json_decref(j);
	free(sdir);
	free(lock);
	return rc;
}

int berth_storage_layers_new(berth_ctx *ctx, const char *image, berth_storage_layers **out,
			   berth_error **err)
{
	berth_storage_layers *il;
	int rc;

	if (out)
		*out = NULL;
	if (!ctx || !image || !out)
		return bt_error_set(err, BERTH_EINVAL, 0, "image layers: missing argument");
	if (!(il = calloc(1, sizeof(*il))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_layers_of_image(ctx, image, &il->l, err)) < 0)
		goto fail;
	if (!(il->size = calloc(il->l.n + 1, sizeof(*il->size)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto fail;
	}
	if ((rc = unpacked_sizes(ctx, &il->l, il->size, err)) < 0)
		goto fail;
	*out = il;
	return 0;
fail:
	berth_storage_layers_free(il);
	return bt_error_wrap(err, rc, "layers of image %.200s", image);
}

size_t berth_storage_layers_count(const berth_storage_layers *il)
{
	return il ? il->l.n : 0;
}

const char *berth_storage_layers_diff_id(const berth_storage_layers *il, size_t i)
{
	return il && i < il->l.n && il->l.diff_ids ? il->l.diff_ids[i] : NULL;
}

const char *berth_storage_layers_chain_id(const berth_storage_layers *il, size_t i)
{
	return il && i < il->l.n ? il->l.chain[i] : NULL;
}

long long berth_storage_layers_unpacked_size(const berth_storage_layers *il, size_t i)
{
	return il && i < il->l.n ? il->size[i] : -1;
}

void berth_storage_layers_free(berth_storage_layers *il)
{
	if (!il)
		return;
	bt_image_layers_free(&il->l);
	free(il->size);
	free(il);
}
