/* Manifests and indexes as registries serve them (OCI and Docker schema 2),
 * platform matching, and the blobs an image in the store refers to. Kept
 * free of I/O except bt_manifest_collect so the parsing can be unit-tested
 * on hostile documents. */
#include "internal.h"
#include "image-internal.h"

#include <stdlib.h>
#include <string.h>

int bt_platform_parse(const char *text, bt_platform *out, berth_error **err)
{
	const char *p[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	char *fields[3] = { out->os, out->arch, out->variant };
	const char *c;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (!text || !*text) {
		snprintf(out->os, sizeof(out->os), "linux");
#if defined(__x86_64__)
		snprintf(out->arch, sizeof(out->arch), "amd64");
#elif defined(__aarch64__)
		snprintf(out->arch, sizeof(out->arch), "arm64");
#elif defined(__arm__)
		snprintf(out->arch, sizeof(out->arch), "arm");
#elif defined(__i386__)
		snprintf(out->arch, sizeof(out->arch), "386");
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		snprintf(out->arch, sizeof(out->arch), "ppc64le");
#elif defined(__s390x__)
		snprintf(out->arch, sizeof(out->arch), "s390x");
#elif defined(__riscv) && __riscv_xlen == 64
		snprintf(out->arch, sizeof(out->arch), "riscv64");
#else
		snprintf(out->arch, sizeof(out->arch), "unknown");
#endif
		return 0;
	}
	for (c = text; n < 3; n++) {
		p[n] = c;
		len[n] = strcspn(c, "/");
		c += len[n];
		if (!*c++)
			break;
	}
	if (n == 3 || n < 1)
		goto bad;
	for (int i = 0; i <= n; i++) {
		if (len[i] == 0 || len[i] >= 32)
			goto bad;
		for (size_t j = 0; j < len[i]; j++) {
			char ch = p[i][j];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
			      ch == '.'))
				goto bad;
		}
		memcpy(fields[i], p[i], len[i]);
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return bt_error_set(err, BERTH_EINVAL, 0,
			    "platform \"%.80s\": expected os/architecture[/variant] in lowercase, "
			    "as linux/arm64/v8", text);
}

/* The variant an architecture has when none is written. */
static const char *default_variant(const char *arch)
{
	if (!strcmp(arch, "arm64"))
		return "v8";
	if (!strcmp(arch, "arm"))
		return "v7";
	return "";
}

bool bt_platform_match(const bt_platform *want, const json_t *platform)
{
	const char *os = json_string_value(json_object_get(platform, "os"));
	const char *arch = json_string_value(json_object_get(platform, "architecture"));
	const char *variant = json_string_value(json_object_get(platform, "variant"));

	if (!os || !arch || strcmp(os, want->os) || strcmp(arch, want->arch))
		return false;
	if (!want->variant[0])
		return true;
	if (!variant || !*variant)
		variant = default_variant(arch);
	return !strcmp(variant, want->variant);
}

void bt_manifest_clear(bt_manifest *m)
{
	bt_descriptor_clear(&m->config);
	bt_descriptors_free(m->layers, m->nlayers);
	json_decref(m->json);
	memset(m, 0, sizeof(*m));
}

static const char *const known_types[] = {
	BT_MEDIA_OCI_INDEX, BT_MEDIA_OCI_MANIFEST, BT_MEDIA_DOCKER_LIST, BT_MEDIA_DOCKER_MANIFEST,
};

static const char *known_type(const char *type)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(known_types); i++)
		if (!strcmp(type, known_types[i]))
			return known_types[i];
	return NULL;
}

/* One descriptor at path (config, layers[i], manifests[i]). */
static int parse_descriptor(const json_t *j, const char *path, bt_descriptor *d,
			    berth_error **err)
{
	const char *media, *digest;
	long long size;
	int rc;

	if (!json_is_object(j))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, found %s", path,
				    bt_json_type_name(j));
	if ((rc = bt_json_string(j, path, "mediaType", true, &media, err)) < 0 ||
	    (rc = bt_json_string(j, path, "digest", true, &digest, err)) < 0 ||
	    (rc = bt_json_int(j, path, "size", true, &size, err)) < 0)
		return rc;
	if ((rc = bt_digest_validate(digest, err)) < 0)
		return bt_error_wrap(err, rc, "%s.digest", path);
	if (size < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.size: negative (%lld)", path, size);
	if (!(d->media_type = strdup(media)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", path);
	snprintf(d->digest, sizeof(d->digest), "%s", digest);
	d->size = size;
	d->json = json_incref((json_t *)j);
	return 0;
}

static int parse_image_manifest(bt_manifest *m, berth_error **err)
{
	json_t *config, *layers, *layer;
	size_t i;
	int rc;

	if ((rc = bt_json_member(m->json, "", "config", JSON_OBJECT, true, &config, err)) < 0 ||
	    (rc = bt_json_member(m->json, "", "layers", JSON_ARRAY, true, &layers, err)) < 0 ||
	    (rc = parse_descriptor(config, "config", &m->config, err)) < 0)
		return rc;
	if (json_array_size(layers) > 1000)
		return bt_error_set(err, BERTH_EINVAL, 0, "layers: %zu layers, at most 1000 allowed",
				    json_array_size(layers));
	if (json_array_size(layers) &&
	    !(m->layers = calloc(json_array_size(layers), sizeof(*m->layers))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "layers: out of memory");
	json_array_foreach(layers, i, layer) {
		char path[48];
		const char *t;

		snprintf(path, sizeof(path), "layers[%zu]", i);
		if ((rc = parse_descriptor(layer, path, &m->layers[i], err)) < 0)
			return rc;
		m->nlayers++;
		t = m->layers[i].media_type;
		/* layers are handed on to storage; anything but a tar stream is refused here */
		if (strncmp(t, "application/vnd.oci.image.layer.", 32) &&
		    strncmp(t, "application/vnd.docker.image.rootfs.", 36))
			return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
					    "%s: unknown layer media type \"%.100s\"", path, t);
	}
	return 0;
}

static int parse_index(bt_manifest *m, berth_error **err)
{
	json_t *manifests, *entry;
	size_t i;
	int rc;

	if ((rc = bt_json_member(m->json, "", "manifests", JSON_ARRAY, true, &manifests, err)) < 0)
		return rc;
	json_array_foreach(manifests, i, entry) {
		bt_descriptor d = { 0 };
		char path[48];
		json_t *platform;

		snprintf(path, sizeof(path), "manifests[%zu]", i);
		rc = parse_descriptor(entry, path, &d, err);
		bt_descriptor_clear(&d);
		if (rc < 0)
			return rc;
		if ((platform = json_object_get(entry, "platform")) && !json_is_object(platform))
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.platform: expected an object, found %s",
					    path, bt_json_type_name(platform));
	}
	return 0;
}

int bt_manifest_parse(const char *buf, size_t len, const char *content_type, bt_manifest *out,
		      berth_error **err)
{
	const char *doc_type = NULL, *type;
	char ct[128];
	long long version;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > BT_MANIFEST_MAX)
		return bt_error_set(err, BERTH_EINVAL, 0, "manifest of %zu bytes: larger than the %u allowed",
				    len, BT_MANIFEST_MAX);
	/* "type; charset=utf-8" and surrounding blanks are not part of the type */
	snprintf(ct, sizeof(ct), "%s", content_type ? content_type : "");
	ct[strcspn(ct, "; \t\r\n")] = '\0';
	if (!strcmp(ct, BT_MEDIA_DOCKER_SCHEMA1) || !strcmp(ct, BT_MEDIA_DOCKER_SCHEMA1_SIGNED))
		goto schema1;
	if ((rc = bt_json_parse(buf, len, "manifest", &out->json, err)) < 0)
		return rc;
	if (!json_is_object(out->json)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "manifest: expected an object, found %s",
				  bt_json_type_name(out->json));
		goto fail;
	}
	if ((rc = bt_json_int(out->json, "", "schemaVersion", true, &version, err)) < 0)
		goto fail;
	if (version == 1)
		goto schema1;
	if (version != 2) {
		rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0, "manifest: schemaVersion %lld, only 2 is supported",
				  version);
		goto fail;
	}
	if ((rc = bt_json_string(out->json, "", "mediaType", false, &doc_type, err)) < 0)
		goto fail;
	/* The document's own mediaType wins; a generic Content-Type
	 * (application/json, octet-stream) says nothing. */
	type = doc_type ? doc_type : ct;
	if (!*type) {
		/* OCI allows mediaType to be absent: tell by shape */
		type = json_object_get(out->json, "manifests") ? BT_MEDIA_OCI_INDEX : BT_MEDIA_OCI_MANIFEST;
	}
	if (!(out->media_type = known_type(type))) {
		rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0, "manifest: unknown media type \"%.100s\"", type);
		goto fail;
	}
	if (doc_type && *ct && known_type(ct) && strcmp(ct, doc_type)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0,
				  "manifest: served as %s but its mediaType is %.100s", ct, doc_type);
		goto fail;
	}
	out->is_index = out->media_type == known_types[0] || out->media_type == known_types[2];
	rc = out->is_index ? parse_index(out, err) : parse_image_manifest(out, err);
	if (rc < 0) {
		bt_error_wrap(err, rc, "manifest");
		goto fail;
	}
	return 0;
schema1:
	rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0,
			  "manifest: Docker image manifest schema 1 is deprecated and not supported; "
			  "push the image again with a current client (schema 2 or OCI)");
fail:
	bt_manifest_clear(out);
	return rc;
}

int bt_index_select(const bt_manifest *index, const bt_platform *want, bt_descriptor *out,
		    berth_error **err)
{
	json_t *manifests = json_object_get(index->json, "manifests"), *entry;
	char have[512] = "";
	size_t i, used = 0;

	memset(out, 0, sizeof(*out));
	json_array_foreach(manifests, i, entry) {
		json_t *platform = json_object_get(entry, "platform");
		const char *os, *arch, *variant;

		if (platform && bt_platform_match(want, platform))
			return parse_descriptor(entry, "manifests[]", out, err);
		os = json_string_value(json_object_get(platform, "os"));
		arch = json_string_value(json_object_get(platform, "architecture"));
		variant = json_string_value(json_object_get(platform, "variant"));
		if (os && arch && used < sizeof(have) - 1)
			used += (size_t)snprintf(have + used, sizeof(have) - used, "%s%.30s/%.30s%s%.30s",
						 used ? ", " : "", os, arch, variant ? "/" : "",
						 variant ? variant : "");
		if (used >= sizeof(have))
			used = sizeof(have) - 1;
	}
	return bt_error_set(err, BERTH_ENOTFOUND, 0, "no manifest for platform %s/%s%s%s in the index (it has: %s)",
			    want->os, want->arch, want->variant[0] ? "/" : "", want->variant,
			    used ? have : "none");
}

int bt_manifest_collect(const bt_store *s, const char *digest, struct bt_strv *keep,
			berth_error **err)
{
	bt_manifest m;
	char *buf;
	size_t len;
	int rc;

	if ((rc = bt_store_has_blob(s, digest, -1, err)) <= 0)
		return rc;
	if (bt_strv_add(keep, strdup(digest)) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "collecting blobs: out of memory");
	if ((rc = bt_store_read_blob(s, digest, BT_MANIFEST_MAX, &buf, &len, err)) < 0)
		return rc;
	rc = bt_manifest_parse(buf, len, NULL, &m, err);
	free(buf);
	if (rc < 0)
		return bt_error_wrap(err, rc, "manifest %s", digest);
	if (m.is_index) {
		json_t *entry;
		size_t i;

		json_array_foreach(json_object_get(m.json, "manifests"), i, entry) {
			const char *child = json_string_value(json_object_get(entry, "digest"));

			if ((rc = bt_manifest_collect(s, child, keep, err)) < 0)
				break;
		}
	} else {
		if (bt_strv_add(keep, strdup(m.config.digest)) < 0)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "collecting blobs: out of memory");
		for (size_t i = 0; rc == 0 && i < m.nlayers; i++)
			if (bt_strv_add(keep, strdup(m.layers[i].digest)) < 0)
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "collecting blobs: out of memory");
	}
	bt_manifest_clear(&m);
	return rc;
}
