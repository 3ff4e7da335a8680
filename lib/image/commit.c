/* A new image from a parent image plus one layer (docker commit): the
 * layer, config and manifest written as blobs, then tagged, all under a gc
 * hold so nothing is collected before the tag holds it. */
#include "image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

/* Streams fd into a new blob: its digest (of the uncompressed tar, so its
 * diff_id too) and size. */
static int put_layer(bt_store *s, int fd, char digest[BT_DIGEST_MAX], int64_t *size, berth_error **err)
{
	bt_blob_writer *w = NULL;
	char buf[65536];
	ssize_t n;
	int rc;

	if ((rc = bt_blob_writer_new(s, NULL, -1, &w, err)) < 0)
		return rc;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bt_blob_writer_abort(w);
			return bt_error_os(err, "reading the new layer");
		}
		if ((rc = bt_blob_writer_write(w, buf, (size_t)n, err)) < 0) {
			bt_blob_writer_abort(w);
			return rc;
		}
	}
	*size = (int64_t)bt_blob_writer_written(w);
	return bt_blob_writer_commit(w, digest, err);
}

/* The parent's config with the new layer, config section and history. */
static int new_config(const char *parent, const berth_image_commit_opts *o, const char *layer, json_t **out,
		      berth_error **err)
{
	json_t *cfg, *section = NULL, *rootfs, *history;
	char *now = bt_now_rfc3339();
	int rc;

	if ((rc = bt_json_parse(parent, strlen(parent), "the parent image's config", &cfg, err)) < 0 ||
	    (o->config && (rc = bt_json_parse(o->config, strlen(o->config), "the new config", &section, err)) < 0)) {
		free(now);
		json_decref(cfg);
		return rc;
	}
	if (section)
		json_object_set_new(cfg, "config", section);
	if (!json_is_object(rootfs = json_object_get(cfg, "rootfs")))
		json_object_set_new(cfg, "rootfs", rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids"));
	json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(layer));
	if (!json_is_array(history = json_object_get(cfg, "history")))
		json_object_set_new(cfg, "history", history = json_array());
	json_array_append_new(history, json_pack("{s:s?, s:s?, s:s?, s:s?}", "created", now, "created_by",
						 o->created_by, "author", o->author, "comment", o->comment));
	json_object_set_new(cfg, "created", json_string(now ? now : ""));
	if (o->author)
		json_object_set_new(cfg, "author", json_string(o->author));
	free(now);
	*out = cfg;
	return 0;
}

/* The parent's manifest with the new config and one more layer. */
static json_t *new_manifest(const json_t *parent, const char *config, size_t config_size, const char *layer,
			    int64_t layer_size)
{
	json_t *m = json_deep_copy(parent), *layers;
	const char *type = json_string_value(json_object_get(m, "mediaType"));
	bool docker = type && !strcmp(type, DOCKER_MANIFEST);

	json_object_set_new(json_object_get(m, "config"), "digest", json_string(config));
	json_object_set_new(json_object_get(m, "config"), "size", json_integer((json_int_t)config_size));
	if (!json_is_array(layers = json_object_get(m, "layers")))
		json_object_set_new(m, "layers", layers = json_array());
	json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
						docker ? "application/vnd.docker.image.rootfs.diff.tar"
						       : "application/vnd.oci.image.layer.v1.tar",
						"digest", layer, "size", (json_int_t)layer_size));
	json_object_del(m, "annotations");
	return m;
}

int berth_image_commit(berth_ctx *ctx, const char *parent, int layer_fd, const berth_image_commit_opts *opts,
		       char **id, berth_error **err)
{
	berth_image_commit_opts o = BERTH_IMAGE_COMMIT_OPTS_INIT;
	berth_reference *ref = NULL;
	berth_image *img = NULL;
	bt_store *s = NULL;
	json_t *cfg = NULL, *man = NULL, *pman = NULL;
	char layer[BT_DIGEST_MAX], config[BT_DIGEST_MAX], manifest[BT_DIGEST_MAX], *cfg_text = NULL, *man_text = NULL;
	const char *type;
	int64_t layer_size = 0;
	int rc, hold = -1;

	*id = NULL;
	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_image_commit_opts", err)) < 0)
		return rc;
	if (!o.tag)
		return bt_error_set(err, BERTH_EINVAL, 0, "committing: a tag is needed (the store lists tagged images only)");
	if ((rc = berth_reference_parse(o.tag, &ref, err)) < 0 || (rc = berth_image_lookup(ctx, parent, &img, err)) < 0 ||
	    (rc = bt_image_store_open(ctx, &s, err)) < 0 || (rc = bt_store_hold(s, &hold, err)) < 0)
		goto out;
	if ((rc = put_layer(s, layer_fd, layer, &layer_size, err)) < 0 ||
	    (rc = new_config(berth_image_config_json(img), &o, layer, &cfg, err)) < 0)
		goto out;
	if (!(cfg_text = json_dumps(cfg, JSON_COMPACT))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = bt_store_put_blob(s, NULL, cfg_text, strlen(cfg_text), config, err)) < 0 ||
	    (rc = bt_json_parse(berth_image_manifest_json(img), strlen(berth_image_manifest_json(img)),
				"the parent image's manifest", &pman, err)) < 0)
		goto out;
	man = new_manifest(pman, config, strlen(cfg_text), layer, layer_size);
	if (!man || !(man_text = json_dumps(man, JSON_COMPACT))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	type = json_string_value(json_object_get(man, "mediaType"));
	if ((rc = bt_store_put_blob(s, NULL, man_text, strlen(man_text), manifest, err)) < 0 ||
	    (rc = bt_store_tag(s, berth_reference_string(ref), type ? type : OCI_MANIFEST, manifest,
			       (int64_t)strlen(man_text), NULL, err)) < 0)
		goto out;
	if (!(*id = strdup(config)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
out:
	if (hold >= 0)
		bt_store_release(hold);
	bt_store_close(s);
	berth_image_free(img);
	berth_reference_free(ref);
	json_decref(cfg);
	json_decref(man);
	json_decref(pman);
	free(cfg_text);
	free(man_text);
	return rc < 0 ? bt_error_wrap(err, rc, "committing a new image from %.200s", parent ? parent : "") : 0;
}
