/* Test helper for tests/integration/image-layout.sh: writes an image into an
 * OCI layout through the store's internal API, and reads back a layout that
 * another tool wrote.
 *
 *   image-layout-helper write LAYOUT TAG CONFIG.json LAYER.tar.gz LAYER-DIGEST
 *       stores the config and the layer (streamed in chunks and checked
 *       against LAYER-DIGEST), makes the manifest, tags it, prints its digest
 *   image-layout-helper verify LAYOUT
 *       reads every tagged manifest and every blob, checking their digests;
 *       prints "TAG DIGEST" per tag
 */
#include "internal.h"
#include "image-internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(berth_error *err)
{
	fprintf(stderr, "image-layout-helper: %s\n", berth_error_message(err));
	berth_error_free(err);
	return 1;
}

/* Streams a file into the store in small chunks. */
static int put_file(bt_store *s, const char *path, const char *digest, char out[BT_DIGEST_MAX],
		    int64_t *size, berth_error **err)
{
	char buf[8192];
	bt_blob_writer *w;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0 || fstat(fd, &st) < 0)
		return bt_error_os(err, "opening %s", path);
	*size = st.st_size;
	if ((rc = bt_blob_writer_new(s, digest, st.st_size, &w, err)) < 0 || !w) {
		close(fd);
		if (rc == 0)
			snprintf(out, BT_DIGEST_MAX, "%s", digest);
		return rc;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if ((rc = bt_blob_writer_write(w, buf, (size_t)n, err)) < 0)
			break;
	close(fd);
	if (n < 0)
		rc = bt_error_os(err, "reading %s", path);
	if (rc < 0) {
		bt_blob_writer_abort(w);
		return rc;
	}
	return bt_blob_writer_commit(w, out, err);
}

static int write_image(int argc, char **argv)
{
	char config[BT_DIGEST_MAX], layer[BT_DIGEST_MAX], manifest[BT_DIGEST_MAX], *text;
	int64_t config_size, layer_size;
	berth_error *err = NULL;
	json_t *m;
	bt_store *s;

	if (argc != 7) {
		fprintf(stderr, "usage: %s write LAYOUT TAG CONFIG LAYER LAYER-DIGEST\n", argv[0]);
		return 2;
	}
	if (bt_store_open(argv[2], true, &s, &err) < 0 ||
	    put_file(s, argv[4], NULL, config, &config_size, &err) < 0 ||
	    put_file(s, argv[5], argv[6], layer, &layer_size, &err) < 0)
		return fail(err);
	m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2,
		      "mediaType", BT_MEDIA_OCI_MANIFEST, "config", "mediaType", BT_MEDIA_OCI_CONFIG,
		      "digest", config, "size", (json_int_t)config_size, "layers", "mediaType",
		      BT_MEDIA_OCI_LAYER_GZIP, "digest", layer, "size", (json_int_t)layer_size);
	if (!m || !(text = json_dumps(m, JSON_COMPACT)))
		return 1;
	if (bt_store_put_blob(s, NULL, text, strlen(text), manifest, &err) < 0 ||
	    bt_store_tag(s, argv[3], BT_MEDIA_OCI_MANIFEST, manifest, (int64_t)strlen(text), NULL,
			 &err) < 0)
		return fail(err);
	printf("%s\n", manifest);
	free(text);
	json_decref(m);
	bt_store_close(s);
	return 0;
}

static int verify(int argc, char **argv)
{
	berth_error *err = NULL;
	bt_descriptor *v;
	char **blobs;
	size_t n, nblobs;
	bt_store *s;

	if (argc != 3) {
		fprintf(stderr, "usage: %s verify LAYOUT\n", argv[0]);
		return 2;
	}
	if (bt_store_open(argv[2], false, &s, &err) < 0 || bt_store_index_list(s, &v, &n, &err) < 0 ||
	    bt_store_list_blobs(s, &blobs, &nblobs, &err) < 0)
		return fail(err);
	for (size_t i = 0; i < n; i++) {
		json_t *manifest;
		char *buf;
		size_t len;

		if (bt_store_read_blob(s, v[i].digest, 4 << 20, &buf, &len, &err) < 0 ||
		    bt_json_parse(buf, len, v[i].digest, &manifest, &err) < 0)
			return fail(err);
		printf("%s %s %s\n", v[i].ref_name ? v[i].ref_name : "-", v[i].digest,
		       json_string_value(json_object_get(manifest, "mediaType")));
		json_decref(manifest);
		free(buf);
	}
	for (size_t i = 0; i < nblobs; i++) {
		char *buf;

		if (bt_store_read_blob(s, blobs[i], 256 << 20, &buf, NULL, &err) < 0)
			return fail(err);
		free(buf);
	}
	printf("%zu blobs verified\n", nblobs);
	bt_strv_free(blobs, nblobs);
	bt_descriptors_free(v, n);
	bt_store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "write"))
		return write_image(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return verify(argc, argv);
	fprintf(stderr, "usage: %s write|verify ...\n", argv[0]);
	return 2;
}
