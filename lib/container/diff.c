/* The changes of a container against its image (docker diff): the
 * storage module's diff tar read back, each entry Added or Changed as the
 * image has it or not, each whiteout a Deletion. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth/image.h>
#include <berth/storage.h>

#define PAX_MAX (1 << 20)

/* A tar header's numeric field: octal, or base-256 when its top bit is set. */
static unsigned long long tar_number(const unsigned char *f, size_t len)
{
	unsigned long long v = 0;

	if (f[0] & 0x80) {
		for (size_t i = len > 8 ? len - 8 : 1; i < len; i++)
			v = v << 8 | f[i];
		return v;
	}
	for (size_t i = 0; i < len && f[i]; i++)
		if (f[i] >= '0' && f[i] <= '7')
			v = v * 8 + (f[i] - '0');
	return v;
}

/* The "path" record of a pax extended header, or NULL. */
static char *pax_path(const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		char *end;
		unsigned long n = strtoul(data + off, &end, 10);
		const char *kv = end + 1;

		if (n == 0 || off + n > len || *end != ' ')
			return NULL;
		if (!strncmp(kv, "path=", 5))
			return strndup(kv + 5, (size_t)(data + off + n - 1 - (kv + 5)));
		off += n;
	}
	return NULL;
}

typedef int (*tar_entry_fn)(const char *name, void *data, berth_error **err);

/* Calls fn with the name of each entry of the tar in fd (read from its start). */
static int tar_each(int fd, tar_entry_fn fn, void *data, berth_error **err)
{
	unsigned char h[512];
	char *long_name = NULL;
	off_t off = 0;
	int rc = 0;

	while (rc == 0 && pread(fd, h, sizeof(h), off) == (ssize_t)sizeof(h)) {
		unsigned long long size = tar_number(h + 124, 12);
		char type = (char)h[156], name[257];

		if (!h[0])
			break; /* the end-of-archive blocks */
		off += 512;
		if (type == 'x' || type == 'L') {
			char *buf = size < PAX_MAX ? malloc(size + 1) : NULL;

			if (!buf || pread(fd, buf, size, off) != (ssize_t)size) {
				free(buf);
				rc = bt_error_set(err, BERTH_EINVAL, 0, "reading the container's diff: a bad header");
				break;
			}
			buf[size] = '\0';
			free(long_name);
			long_name = type == 'x' ? pax_path(buf, size) : strdup(buf);
			free(buf);
		} else if (type != 'g') {
			if (!memcmp(h + 257, "ustar", 5) && h[345])
				snprintf(name, sizeof(name), "%.155s/%.100s", (char *)h + 345, (char *)h);
			else
				snprintf(name, sizeof(name), "%.100s", (char *)h);
			rc = fn(long_name ? long_name : name, data, err);
			free(long_name);
			long_name = NULL;
		}
		off += (off_t)((size + 511) / 512 * 512);
	}
	free(long_name);
	return rc;
}

struct changes {
	int imagefd; /* the image's root file system, to tell C from A */
	json_t *list;
};

static int add_change(const char *name, void *data, berth_error **err)
{
	struct changes *c = data;
	char path[PATH_MAX], *base;
	int kind, fd;
	size_t n;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	snprintf(path, sizeof(path), "/%s", name);
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	if (!strcmp(path, "/") || !strcmp(path, "/."))
		return 0;
	base = strrchr(path, '/') + 1;
	if (!strcmp(base, ".wh..wh..opq"))
		return 0; /* its directory is listed itself */
	if (!strncmp(base, ".wh.", 4)) {
		memmove(base, base + 4, strlen(base + 4) + 1);
		kind = 2;
	} else if (bt_path_open(c->imagefd, path + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, BT_RESOLVE_BENEATH, &fd,
				NULL) == 0) {
		close(fd);
		kind = 0;
	} else {
		kind = 1;
	}
	if (json_array_append_new(c->list, json_pack("{s:s, s:i}", "Path", path, "Kind", kind)) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "Path")),
		      json_string_value(json_object_get(*(json_t *const *)b, "Path")));
}

/* Whether path is a mount point (its device differs from its parent's). */
static bool is_mount_point(const char *path)
{
	char *parent = bt_strdup_printf("%s/..", path);
	struct stat a, b;
	bool yes = parent && stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;

	free(parent);
	return yes;
}

/* The image's root file system, mounted read-only; *ours when this call
 * mounted it (and so unmounts it). */
static int image_root(berth_ctx *ctx, const char *image_id, char **manifest, char **path, bool *ours,
		      berth_error **err)
{
	berth_image *img = NULL;
	char *where;
	int rc;

	if ((rc = berth_image_lookup(ctx, image_id, &img, err)) < 0)
		return bt_error_wrap(err, rc, "the container's image");
	*manifest = strdup(berth_image_digest(img));
	berth_image_free(img);
	if (!*manifest)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	/* where storage mounts it: <runroot>/storage/images/<manifest hex> */
	where = bt_strdup_printf("%s/storage/images/%s", ctx->runroot, strchr(*manifest, ':') + 1);
	*ours = !where || !is_mount_point(where);
	free(where);
	return berth_storage_mount(ctx, *manifest, path, err);
}

int berth_container_diff(berth_ctx *ctx, const char *name, char **json, berth_error **err)
{
	struct changes c = { .imagefd = -1 };
	struct bt_ct *ct;
	char *manifest = NULL, *root = NULL;
	bool ours = false;
	size_t n;
	json_t **v;
	int rc, fd = -1;

	*json = NULL;
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	if ((rc = image_root(ctx, json_string_value(json_object_get(ct->config, "Image")) ?: "", &manifest, &root,
			     &ours, err)) < 0)
		goto out;
	if ((c.imagefd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fd = memfd_create("berth-diff", MFD_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "reading the changes of container %s", name);
		goto out;
	}
	c.list = json_array();
	if ((rc = berth_snapshot_diff(ctx, ct->id, fd, err)) < 0 || (rc = tar_each(fd, add_change, &c, err)) < 0)
		goto out;
	/* sorted by path, as docker diff lists them */
	n = json_array_size(c.list);
	if ((v = calloc(n + 1, sizeof(*v)))) {
		json_t *sorted = json_array();

		for (size_t i = 0; i < n; i++)
			v[i] = json_array_get(c.list, i);
		qsort(v, n, sizeof(*v), by_path);
		for (size_t i = 0; i < n; i++)
			json_array_append(sorted, v[i]);
		free(v);
		json_decref(c.list);
		c.list = sorted;
	}
	if (!(*json = json_dumps(c.list, JSON_INDENT(4) | JSON_PRESERVE_ORDER)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
out:
	if (fd >= 0)
		close(fd);
	if (c.imagefd >= 0)
		close(c.imagefd);
	if (root && ours)
		berth_storage_unmount(ctx, manifest, NULL);
	json_decref(c.list);
	berth_string_free(root);
	free(manifest);
	bt_ct_close(ct);
	return rc;
}
