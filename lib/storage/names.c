/* What names mean in a layer: compression from media type and magic bytes,
 * entry names checked before anything is created, OCI whiteouts, chain IDs. */
#include "storage-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *media_type;
	int compression;
} media_types[] = {
	{ "application/vnd.oci.image.layer.v1.tar", BT_COMPRESS_NONE },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", BT_COMPRESS_GZIP },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", BT_COMPRESS_ZSTD },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar", BT_COMPRESS_NONE },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", BT_COMPRESS_GZIP },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", BT_COMPRESS_ZSTD },
	{ "application/vnd.docker.image.rootfs.diff.tar", BT_COMPRESS_NONE },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", BT_COMPRESS_GZIP },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", BT_COMPRESS_GZIP },
};

static const char *const compression_names[] = { "uncompressed", "gzip", "zstd" };

static int magic_compression(const unsigned char *m, size_t n)
{
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return BT_COMPRESS_GZIP;
	if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return BT_COMPRESS_ZSTD;
	return BT_COMPRESS_NONE;
}

int bt_layer_compression(const char *media_type, const unsigned char *magic, size_t n,
			 int *out, berth_error **err)
{
	int by_magic = magic_compression(magic, n);

	for (size_t i = 0; i < BT_ARRAY_SIZE(media_types); i++) {
		if (strcmp(media_type, media_types[i].media_type))
			continue;
		/* both must agree: a blob whose bytes contradict its descriptor is
		 * corrupt or crafted, and guessing would hide that */
		if (by_magic != media_types[i].compression)
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "media type %s says %s, but the content is %s", media_type,
					    compression_names[media_types[i].compression],
					    compression_names[by_magic]);
		*out = by_magic;
		return 0;
	}
	return bt_error_set(err, BERTH_EINVAL, 0, "unknown layer media type \"%s\"", media_type);
}

int bt_layer_entry_name(const char *name, char **out, berth_error **err)
{
	size_t len = strlen(name);
	int rc;

	*out = NULL;
	if (name[0] == '/')
		return bt_error_set(err, BERTH_ESCAPE, 0, "entry \"%.200s\": absolute paths are not allowed",
				    name);
	if (len >= PATH_MAX)
		return bt_error_set(err, BERTH_EINVAL, ENAMETOOLONG,
				    "entry \"%.64s...\": name of %zu bytes, longer than PATH_MAX", name,
				    len);
	/* the lexical join below an empty root folds "." and "//" and refuses ".." */
	if ((rc = bt_path_join("", name, out, NULL)) == BERTH_ESCAPE)
		return bt_error_set(err, rc, 0, "entry \"%.200s\": \"..\" components are not allowed", name);
	if (rc < 0)
		return bt_error_set(err, rc, 0, "entry \"%.200s\": out of memory", name);
	for (const char *p = *out; *p;) {
		size_t n = strcspn(p, "/");

		if (n > NAME_MAX) {
			free(*out);
			*out = NULL;
			return bt_error_set(err, BERTH_EINVAL, ENAMETOOLONG,
					    "entry \"%.64s...\": a component of %zu bytes, longer than NAME_MAX",
					    name, n);
		}
		p += n + (p[n] == '/');
	}
	return 0;
}

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

int bt_whiteout_kind(const char *base, const char **target, berth_error **err)
{
	const char *t;

	*target = NULL;
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
		return BT_WHITEOUT_NONE;
	if (!strcmp(base, WH_OPAQUE))
		return BT_WHITEOUT_OPAQUE;
	t = base + strlen(WH_PREFIX);
	if (!strcmp(t, "..") || !strcmp(t, "."))
		return bt_error_set(err, BERTH_ESCAPE, 0, "whiteout \"%s\": hides \"%s\", which is not an entry of its directory",
				    base, t);
	if (!*t)
		return bt_error_set(err, BERTH_EINVAL, 0, "whiteout \"%s\": names nothing", base);
	if (!strncmp(t, WH_PREFIX, strlen(WH_PREFIX)))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "whiteout \"%s\": hides another whiteout (reserved name)", base);
	*target = t;
	return BT_WHITEOUT_FILE;
}

int bt_chain_id(const char *parent, const char *diff_id, char out[BT_DIGEST_MAX],
		berth_error **err)
{
	char *text;
	int rc;

	if ((rc = bt_digest_validate(diff_id, err)) < 0)
		return bt_error_wrap(err, rc, "diff_id");
	if (!parent) {
		snprintf(out, BT_DIGEST_MAX, "%s", diff_id);
		return 0;
	}
	if (!(text = bt_strdup_printf("%s %s", parent, diff_id)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "chain ID: out of memory");
	rc = bt_digest_buffer("sha256", text, strlen(text), out, err);
	free(text);
	return rc;
}

bool bt_xattr_is_overlay(const char *name)
{
	return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}
