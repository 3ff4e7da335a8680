/* berth_image: one image of the store read back (manifest and config),
 * found by reference, ID or digest, with the getters `inspect` and
 * `history` show. */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct history {
	const char *created, *created_by, *comment;
	long long size;
};

struct berth_image {
	char digest[BT_DIGEST_MAX];
	char *manifest_text, *config_text;
	json_t *config;
	bt_manifest m;
	struct bt_strv refs;
	const char **env, **cmd, **entrypoint, **ports; /* NULL-terminated, into config */
	const char **label_keys, **label_values;
	size_t nlabels;
	struct history *hist;
	size_t nhist;
	long long size;
};

void berth_image_free(berth_image *img)
{
	if (!img)
		return;
	free(img->manifest_text);
	free(img->config_text);
	json_decref(img->config);
	bt_manifest_clear(&img->m);
	bt_strv_free(img->refs.v, img->refs.n);
	free(img->env);
	free(img->cmd);
	free(img->entrypoint);
	free(img->ports);
	free(img->label_keys);
	free(img->label_values);
	free(img->hist);
	free(img);
}

/* A NULL-terminated list of the strings of an array (non-strings skipped). */
static const char **string_list(const json_t *array)
{
	const char **v = calloc(json_array_size(array) + 1, sizeof(*v));
	size_t i, n = 0;
	json_t *j;

	if (!v)
		return NULL;
	json_array_foreach(array, i, j)
		if (json_is_string(j))
			v[n++] = json_string_value(j);
	return v;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int fill_config(berth_image *img, berth_error **err)
{
	json_t *c = json_object_get(img->config, "config"), *labels, *ports, *hist, *h;
	const char *key;
	json_t *value;
	size_t i, layer = 0;

	if (c && !json_is_object(c))
		return bt_error_set(err, BERTH_EINVAL, 0, "config: expected an object, found %s",
				    bt_json_type_name(c));
	labels = json_object_get(c, "Labels");
	ports = json_object_get(c, "ExposedPorts");
	hist = json_object_get(img->config, "history");
	if (!(img->env = string_list(json_object_get(c, "Env"))) ||
	    !(img->cmd = string_list(json_object_get(c, "Cmd"))) ||
	    !(img->entrypoint = string_list(json_object_get(c, "Entrypoint"))) ||
	    !(img->ports = calloc(json_object_size(ports) + 1, sizeof(*img->ports))) ||
	    !(img->label_keys = calloc(json_object_size(labels) + 1, sizeof(char *))) ||
	    !(img->label_values = calloc(json_object_size(labels) + 1, sizeof(char *))) ||
	    !(img->hist = calloc(json_array_size(hist) + 1, sizeof(*img->hist))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading image config: out of memory");
	i = 0;
	json_object_foreach(ports, key, value)
		img->ports[i++] = key;
	qsort(img->ports, i, sizeof(*img->ports), cmp_key);
	json_object_foreach(labels, key, value)
		if (json_is_string(value))
			img->label_keys[img->nlabels++] = key;
	qsort(img->label_keys, img->nlabels, sizeof(char *), cmp_key);
	for (i = 0; i < img->nlabels; i++)
		img->label_values[i] = json_string_value(json_object_get(labels, img->label_keys[i]));
	/* docker history: newest first; each step that made a layer shows its size */
	json_array_foreach(hist, i, h) {
		struct history *e = &img->hist[json_array_size(hist) - 1 - i];

		e->created = json_string_value(json_object_get(h, "created"));
		e->created_by = json_string_value(json_object_get(h, "created_by"));
		e->comment = json_string_value(json_object_get(h, "comment"));
		if (!json_is_true(json_object_get(h, "empty_layer")) && layer < img->m.nlayers)
			e->size = img->m.layers[layer++].size;
	}
	img->nhist = json_array_size(hist);
	return 0;
}

int bt_image_open(const berth_ctx *ctx, const bt_store *s, const char *media_type,
		  const char *digest, berth_image **out, berth_error **err)
{
	berth_image *img;
	bt_descriptor *tags = NULL, child = { 0 };
	size_t len, ntags = 0;
	int rc;

	(void)ctx;
	*out = NULL;
	if (!(img = calloc(1, sizeof(*img))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading image %s: out of memory", digest);
	snprintf(img->digest, sizeof(img->digest), "%s", digest);
	if ((rc = bt_store_read_blob(s, digest, BT_MANIFEST_MAX, &img->manifest_text, &len, err)) < 0 ||
	    (rc = bt_manifest_parse(img->manifest_text, len, media_type, &img->m, err)) < 0)
		goto fail;
	if (img->m.is_index) {
		/* an index tagged by another tool: the image is our platform's manifest */
		bt_platform plat;

		bt_platform_parse(NULL, &plat, NULL);
		if ((rc = bt_index_select(&img->m, &plat, &child, err)) < 0)
			goto fail;
		bt_manifest_clear(&img->m);
		free(img->manifest_text);
		img->manifest_text = NULL;
		if ((rc = bt_store_read_blob(s, child.digest, BT_MANIFEST_MAX, &img->manifest_text, &len, err)) < 0 ||
		    (rc = bt_manifest_parse(img->manifest_text, len, child.media_type, &img->m, err)) < 0)
			goto fail;
		if (img->m.is_index) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "manifest %s: an index inside an index", child.digest);
			goto fail;
		}
	}
	if ((rc = bt_store_read_blob(s, img->m.config.digest, BT_CONFIG_MAX, &img->config_text, &len, err)) < 0 ||
	    (rc = bt_json_parse(img->config_text, len, "image config", &img->config, err)) < 0)
		goto fail;
	if (!json_is_object(img->config)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "image config %s: expected an object", img->m.config.digest);
		goto fail;
	}
	if ((rc = fill_config(img, err)) < 0)
		goto fail;
	img->size = img->m.config.size;
	for (size_t i = 0; i < img->m.nlayers; i++)
		img->size += img->m.layers[i].size;
	if ((rc = bt_store_index_list(s, &tags, &ntags, err)) < 0)
		goto fail;
	for (size_t i = 0; i < ntags; i++)
		if (tags[i].ref_name && !strcmp(tags[i].digest, digest) &&
		    bt_strv_add(&img->refs, strdup(tags[i].ref_name)) < 0) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "reading image %s: out of memory", digest);
			goto fail;
		}
	bt_descriptors_free(tags, ntags);
	bt_descriptor_clear(&child);
	*out = img;
	return 0;
fail:
	bt_descriptors_free(tags, ntags);
	bt_descriptor_clear(&child);
	berth_image_free(img);
	return bt_error_wrap(err, rc, "reading image %s", digest);
}

/* The store, opened without creating it: ENOTFOUND when there is none. */
int bt_image_store_open(const berth_ctx *ctx, bt_store **s, berth_error **err)
{
	char *dir;
	int rc;

	*s = NULL;
	if ((rc = bt_path_join(ctx->root, BT_STORE_DIR, &dir, err)) < 0)
		return rc;
	if ((rc = bt_store_open(dir, false, s, err)) == BERTH_ENOTFOUND) {
		/* the usual case before the first pull: say so plainly */
		if (err) {
			berth_error_free(*err);
			*err = NULL;
		}
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "no images: the image store %s does not exist yet", dir);
	}
	free(dir);
	return rc;
}

static bool is_hex(const char *s, size_t min)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= min && s[n] == '\0';
}

/* The config digest of a stored manifest, or "" when it cannot be read. */
static void config_of(const bt_store *s, const bt_descriptor *d, char out[BT_DIGEST_MAX])
{
	bt_manifest m;
	char *buf;
	size_t len;

	out[0] = '\0';
	if (bt_store_read_blob(s, d->digest, BT_MANIFEST_MAX, &buf, &len, NULL) < 0)
		return;
	if (bt_manifest_parse(buf, len, d->media_type, &m, NULL) == 0) {
		if (!m.is_index)
			snprintf(out, BT_DIGEST_MAX, "%s", m.config.digest);
		bt_manifest_clear(&m);
	}
	free(buf);
}

int bt_image_find(const bt_store *s, const char *name, bt_descriptor *out, berth_error **err)
{
	bt_descriptor *tags = NULL;
	berth_reference *ref = NULL;
	size_t ntags = 0, found = 0;
	const char *hex;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!name || !*name)
		return bt_error_set(err, BERTH_EINVAL, 0, "looking up an image: no name given");
	/* a reference first, as docker does */
	if (berth_reference_parse(name, &ref, NULL) == 0) {
		rc = bt_store_resolve(s, berth_reference_string(ref), out, NULL);
		berth_reference_free(ref);
		if (rc == 0)
			return 0;
	}
	hex = !strncmp(name, "sha256:", 7) ? name + 7 : name;
	if (!is_hex(hex, 4))
		return bt_error_set(err, BERTH_ENOTFOUND, 0, "no image \"%.200s\" in %s", name, bt_store_dir(s));
	if ((rc = bt_store_index_list(s, &tags, &ntags, err)) < 0)
		return rc;
	for (size_t i = 0; i < ntags; i++) {
		char config[BT_DIGEST_MAX];
		bool match;

		if (i > 0 && !strcmp(tags[i].digest, out->digest))
			continue;
		config_of(s, &tags[i], config);
		match = !strncmp(tags[i].digest + 7, hex, strlen(hex)) ||
			(config[0] && !strncmp(config + 7, hex, strlen(hex)));
		if (!match)
			continue;
		if (found && strcmp(out->digest, tags[i].digest)) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "image ID prefix \"%.80s\" is ambiguous", name);
			goto out;
		}
		if (!found++) {
			out->media_type = strdup(tags[i].media_type);
			memcpy(out->digest, tags[i].digest, BT_DIGEST_MAX);
			out->size = tags[i].size;
			if (!out->media_type) {
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "looking up an image: out of memory");
				goto out;
			}
		}
	}
	rc = found ? 0 : bt_error_set(err, BERTH_ENOTFOUND, 0, "no image \"%.200s\" in %s", name, bt_store_dir(s));
out:
	if (rc < 0)
		bt_descriptor_clear(out);
	bt_descriptors_free(tags, ntags);
	return rc;
}

int berth_image_lookup(const berth_ctx *ctx, const char *name, berth_image **out, berth_error **err)
{
	bt_descriptor d = { 0 };
	bt_store *s = NULL;
	int rc;

	*out = NULL;
	if ((rc = bt_image_store_open(ctx, &s, err)) < 0)
		return bt_error_wrap(err, rc, "looking up image \"%.200s\"", name ? name : "");
	if ((rc = bt_image_find(s, name, &d, err)) == 0)
		rc = bt_image_open(ctx, s, d.media_type, d.digest, out, err);
	bt_descriptor_clear(&d);
	bt_store_close(s);
	return rc;
}

const char *berth_image_id(const berth_image *img)
{
	return img->m.config.digest;
}

const char *berth_image_digest(const berth_image *img)
{
	return img->digest;
}

size_t berth_image_reference_count(const berth_image *img)
{
	return img->refs.n;
}

const char *berth_image_reference(const berth_image *img, size_t i)
{
	return i < img->refs.n ? img->refs.v[i] : NULL;
}

long long berth_image_size(const berth_image *img)
{
	return img->size;
}

static const char *config_string(const berth_image *img, const char *key)
{
	return json_string_value(json_object_get(img->config, key));
}

const char *berth_image_created(const berth_image *img)
{
	return config_string(img, "created");
}

const char *berth_image_architecture(const berth_image *img)
{
	return config_string(img, "architecture");
}

const char *berth_image_os(const berth_image *img)
{
	return config_string(img, "os");
}

const char *berth_image_variant(const berth_image *img)
{
	return config_string(img, "variant");
}

const char *const *berth_image_env(const berth_image *img)
{
	return img->env;
}

const char *const *berth_image_cmd(const berth_image *img)
{
	return img->cmd;
}

const char *const *berth_image_entrypoint(const berth_image *img)
{
	return img->entrypoint;
}

const char *const *berth_image_exposed_ports(const berth_image *img)
{
	return img->ports;
}

size_t berth_image_label_count(const berth_image *img)
{
	return img->nlabels;
}

const char *berth_image_label_key(const berth_image *img, size_t i)
{
	return i < img->nlabels ? img->label_keys[i] : NULL;
}

const char *berth_image_label_value(const berth_image *img, size_t i)
{
	return i < img->nlabels ? img->label_values[i] : NULL;
}

size_t berth_image_layer_count(const berth_image *img)
{
	return img->m.nlayers;
}

const char *berth_image_layer_digest(const berth_image *img, size_t i)
{
	return i < img->m.nlayers ? img->m.layers[i].digest : NULL;
}

const char *berth_image_layer_media_type(const berth_image *img, size_t i)
{
	return i < img->m.nlayers ? img->m.layers[i].media_type : NULL;
}

long long berth_image_layer_size(const berth_image *img, size_t i)
{
	return i < img->m.nlayers ? img->m.layers[i].size : -1;
}

const char *berth_image_config_json(const berth_image *img)
{
	return img->config_text;
}

const char *berth_image_manifest_json(const berth_image *img)
{
	return img->manifest_text;
}

size_t berth_image_history_count(const berth_image *img)
{
	return img->nhist;
}

const char *berth_image_history_created(const berth_image *img, size_t i)
{
	return i < img->nhist ? img->hist[i].created : NULL;
}

const char *berth_image_history_created_by(const berth_image *img, size_t i)
{
	return i < img->nhist ? img->hist[i].created_by : NULL;
}

const char *berth_image_history_comment(const berth_image *img, size_t i)
{
	return i < img->nhist ? img->hist[i].comment : NULL;
}

long long berth_image_history_size(const berth_image *img, size_t i)
{
	return i < img->nhist ? img->hist[i].size : -1;
}

int bt_image_add_reference(berth_image *img, const char *ref, berth_error **err)
{
	for (size_t i = 0; i < img->refs.n; i++)
		if (!strcmp(img->refs.v[i], ref))
			return 0;
	if (bt_strv_add(&img->refs, strdup(ref)) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return 0;
}
