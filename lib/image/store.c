/* The content store: an OCI image layout with verified blob writes, tags in
 * index.json, and garbage collection. See image-internal.h for the layout.
 * This file opens and creates the layout and takes holds; blobs are in
 * blob.c, index.json in index.c and garbage collection in gc.c. */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LAYOUT_VERSION "1.0.0"

void bt_store_close(bt_store *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s->layout_path);
	free(s->index_path);
	free(s->index_lock);
	free(s->gc_lock);
	free(s->holds_path);
	free(s);
}

const char *bt_store_dir(const bt_store *s)
{
	return s->dir;
}

int bt_store_nomem(berth_error **err, const char *what, const char *dir)
{
	return bt_error_set(err, BERTH_ENOMEM, 0, "%s %s: out of memory", what, dir);
}

static int check_layout(const bt_store *s, berth_error **err)
{
	json_t *layout;
	const char *version = NULL;
	int rc = bt_json_load_file(s->layout_path, 64 * 1024, &layout, err);

	if (rc < 0)
		return rc;
	if ((rc = bt_json_string(layout, "", "imageLayoutVersion", true, &version, err)) < 0)
		bt_error_wrap(err, rc, "%s", s->layout_path);
	else if (strcmp(version, LAYOUT_VERSION))
		rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				  "%s: image layout version \"%.40s\", only " LAYOUT_VERSION
				  " is supported", s->layout_path, version);
	json_decref(layout);
	return rc;
}

/* Writes oci-layout and index.json when missing, under the index lock so
 * that a concurrent opener never overwrites an index another one has
 * already tagged into. */
static int create_layout(bt_store *s, berth_error **err)
{
	char *blobs = bt_strdup_printf("%s/blobs/sha256", s->dir);
	int fd = -1, rc;

	if (!blobs)
		return bt_store_nomem(err, "creating image store", s->dir);
	if ((rc = bt_mkdir_p(blobs, 0755, err)) < 0 ||
	    (rc = bt_lock_acquire(s->index_lock, BT_LOCK_EXCLUSIVE, &fd, err)) < 0)
		goto out;
	if (access(s->layout_path, F_OK) < 0) {
		static const char layout[] = "{\"imageLayoutVersion\":\"" LAYOUT_VERSION "\"}";

		if ((rc = bt_write_file_atomic(s->layout_path, layout, sizeof(layout) - 1, 0644, err)) < 0)
			goto out;
	}
	if (access(s->index_path, F_OK) < 0) {
		json_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
					  BT_MEDIA_OCI_INDEX, "manifests");

		if (!index) {
			rc = bt_store_nomem(err, "creating image store", s->dir);
			goto out;
		}
		rc = bt_json_write_atomic(s->index_path, index, err);
		json_decref(index);
	}
out:
	bt_lock_release(fd);
	free(blobs);
	return rc;
}

int bt_store_open(const char *dir, bool create, bt_store **out, berth_error **err)
{
	bt_store *s;
	size_t len;
	int rc;

	*out = NULL;
	if (!dir || dir[0] != '/')
		return bt_error_set(err, BERTH_EINVAL, 0, "opening image store \"%s\": not an absolute path",
				    dir ? dir : "(null)");
	if (!(s = calloc(1, sizeof(*s))) || !(s->dir = strdup(dir)))
		goto nomem;
	for (len = strlen(s->dir); len > 1 && s->dir[len - 1] == '/'; len--)
		s->dir[len - 1] = '\0';
	if (!(s->layout_path = bt_strdup_printf("%s/oci-layout", s->dir)) ||
	    !(s->index_path = bt_strdup_printf("%s/index.json", s->dir)) ||
	    !(s->index_lock = bt_strdup_printf("%s/.berth-index.lock", s->dir)) ||
	    !(s->gc_lock = bt_strdup_printf("%s/.berth-gc.lock", s->dir)) ||
	    !(s->holds_path = bt_strdup_printf("%s/berth-holds.json", s->dir)))
		goto nomem;
	if (create)
		rc = create_layout(s, err);
	else if (access(s->layout_path, F_OK) < 0)
		rc = errno == ENOENT ? bt_error_set(err, BERTH_ENOTFOUND, ENOENT,
						    "no oci-layout file: not an OCI image layout")
				     : bt_error_os(err, "looking for %s", s->layout_path);
	else
		rc = 0;
	if (rc == 0)
		rc = check_layout(s, err);
	if (rc < 0) {
		bt_error_wrap(err, rc, "opening image store %s", dir);
		bt_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
nomem:
	bt_store_close(s);
	return bt_store_nomem(err, "opening image store", dir);
}

int bt_store_open_ctx(const berth_ctx *ctx, bt_store **out, berth_error **err)
{
	char *dir;
	int rc;

	*out = NULL;
	if ((rc = bt_path_join(ctx->root, BT_STORE_DIR, &dir, err)) < 0)
		return rc;
	rc = bt_store_open(dir, true, out, err);
	free(dir);
	return rc;
}

int bt_store_hold(bt_store *s, int *fd, berth_error **err)
{
	return bt_lock_acquire(s->gc_lock, BT_LOCK_SHARED, fd, err);
}

void bt_store_release(int fd)
{
	bt_lock_release(fd);
}

/* ---- the store's content, for modules built on it ---------------------------- */

/* The descriptor of a manifest in the store that no tag names. */
static int untagged_manifest(const bt_store *s, const char *digest, bt_descriptor *out,
			     berth_error **err)
{
	bt_manifest m;
	char *buf;
	size_t len;
	int rc;

	if ((rc = bt_store_read_blob(s, digest, BT_MANIFEST_MAX, &buf, &len, err)) < 0)
		return rc;
	if ((rc = bt_manifest_parse(buf, len, NULL, &m, err)) == 0) {
		snprintf(out->digest, sizeof(out->digest), "%s", digest);
		out->size = (int64_t)len;
		if (!(out->media_type = strdup(m.media_type)))
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		bt_manifest_clear(&m);
	}
	free(buf);
	return rc;
}

int berth_image_resolve(const berth_ctx *ctx, const char *name, char **digest, char **media_type,
			berth_error **err)
{
	bt_descriptor d = { 0 };
	bt_store *s = NULL;
	int rc;

	*digest = *media_type = NULL;
	if ((rc = bt_image_store_open(ctx, &s, NULL)) == BERTH_ENOTFOUND) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "no image \"%.200s\": the image store does not exist yet",
				  name ? name : "");
		goto out;
	}
	if (rc < 0 && (rc = bt_image_store_open(ctx, &s, err)) < 0) /* again, to say why */
		goto out;
	/* a tag as an OCI layout has it ("v1") first, then what lookup finds,
	 * then any manifest in the store by digest (held, or an index's) */
	if (!name || bt_store_resolve(s, name, &d, NULL) < 0) {
		bt_descriptor_clear(&d);
		if ((rc = bt_image_find(s, name, &d, err)) == BERTH_ENOTFOUND &&
		    bt_digest_validate(name, NULL) == 0 && bt_store_has_blob(s, name, -1, NULL) == 1) {
			if (err) {
				berth_error_free(*err);
				*err = NULL;
			}
			rc = untagged_manifest(s, name, &d, err);
		}
		if (rc < 0)
			goto out;
	}
	if (!(*digest = strdup(d.digest)) || !(*media_type = strdup(d.media_type))) {
		free(*digest);
		*digest = NULL;
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
out:
	bt_descriptor_clear(&d);
	bt_store_close(s);
	return rc; /* the lookup's errors name the image already */
}

int berth_image_blob_read(const berth_ctx *ctx, const char *digest, size_t max, char **data,
			  size_t *len, berth_error **err)
{
	bt_store *s = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = bt_image_store_open(ctx, &s, err)) == 0)
		rc = bt_store_read_blob(s, digest, max, data, len, err);
	bt_store_close(s);
	return rc;
}

int berth_image_blob_open(const berth_ctx *ctx, const char *digest, int *fd, long long *size,
			  berth_error **err)
{
	bt_store *s = NULL;
	int64_t sz = -1;
	int rc;

	*fd = -1;
	if ((rc = bt_image_store_open(ctx, &s, err)) == 0 &&
	    (rc = bt_store_open_blob(s, digest, fd, &sz, err)) == 0)
		*size = (long long)sz;
	bt_store_close(s);
	return rc;
}

unsigned long long berth_image_leftover_bytes(const berth_ctx *ctx)
{
	bt_store *s = NULL;
	uint64_t bytes = 0;

	if (bt_image_store_open(ctx, &s, NULL) == 0)
		bytes = bt_store_sweep_temps(s, false);
	bt_store_close(s);
	return bytes;
}
