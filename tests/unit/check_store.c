/* lib/image/store.c: the OCI image layout content store. */
#include "unit.h"
#include "image-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bt_store *open_store(const char *dir)
{
	char *path = unit_path(dir, "layout");
	berth_error *err = NULL;
	bt_store *s;

	ck_assert_ok(bt_store_open(path, true, &s, &err), err);
	free(path);
	return s;
}

static void digest_of(const void *data, size_t len, char out[BT_DIGEST_MAX])
{
	berth_error *err = NULL;

	ck_assert_ok(bt_digest_buffer("sha256", data, len, out, &err), err);
}

/* Entries of blobs/sha256 whose names start with a dot (temp files). */
static int temp_files(const bt_store *s)
{
	char *dir = unit_path(bt_store_dir(s), "blobs/sha256");
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	free(dir);
	return n;
}

static size_t blob_count(const bt_store *s)
{
	berth_error *err = NULL;
	char **v;
	size_t n;

	ck_assert_ok(bt_store_list_blobs(s, &v, &n, &err), err);
	bt_strv_free(v, n);
	return n;
}

static char *slurp(const char *path)
{
	berth_error *err = NULL;
	char *buf;

	ck_assert_ok(bt_read_file(path, 1 << 20, &buf, NULL, &err), err);
	return buf;
}

START_TEST(open_creates_a_layout)
{
	char *dir = unit_tmpdir(), *layout = unit_path(dir, "layout"), *p, *text;
	berth_error *err = NULL;
	bt_store *s = open_store(dir), *again;
	json_t *index;

	p = unit_path(layout, "oci-layout");
	text = slurp(p);
	ck_assert_str_eq(text, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(text);
	ck_assert_ok(bt_store_index_load(s, &index, &err), err);
	ck_assert_int_eq(json_integer_value(json_object_get(index, "schemaVersion")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(index, "manifests")), 0);
	json_decref(index);
	bt_store_close(s);

	/* opening again, without create, finds it */
	ck_assert_ok(bt_store_open(layout, false, &again, &err), err);
	ck_assert_str_eq(bt_store_dir(again), layout);
	bt_store_close(again);

	/* another version, a missing layout, a relative path */
	{
		static const char v2[] = "{\"imageLayoutVersion\":\"2.0.0\"}";

		ck_assert_ok(bt_write_file_atomic(p, v2, strlen(v2), 0644, &err), err);
	}
	ck_assert_fails(bt_store_open(layout, false, &again, &err), err, BERTH_EUNSUPPORTED,
			"image layout version \"2.0.0\"");
	ck_assert_ptr_null(again);
	ck_assert_ok(bt_write_file_atomic(p, "[]", 2, 0644, &err), err);
	ck_assert_fails(bt_store_open(layout, false, &again, &err), err, BERTH_EINVAL, "oci-layout");
	ck_assert_fails(bt_store_open(dir, false, &again, &err), err, BERTH_ENOTFOUND,
			"not an OCI image layout");
	ck_assert_fails(bt_store_open("rel/dir", true, &again, &err), err, BERTH_EINVAL,
			"not an absolute path");
	free(p);
	free(layout);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(open_ctx_uses_the_store_root)
{
	char *dir = unit_tmpdir(), *p;
	berth_ctx_opts o = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx;
	bt_store *s;

	o.root = dir;
	ck_assert_ok(berth_ctx_new(&ctx, &o, &err), err);
	ck_assert_ok(bt_store_open_ctx(ctx, &s, &err), err);
	p = unit_path(dir, "content/index.json");
	ck_assert_int_eq(access(p, F_OK), 0);
	free(p);
	p = unit_path(dir, "content");
	ck_assert_str_eq(bt_store_dir(s), p);
	free(p);
	bt_store_close(s);
	berth_ctx_free(ctx);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(blob_with_the_right_digest)
{
	char *dir = unit_tmpdir(), digest[BT_DIGEST_MAX], got[BT_DIGEST_MAX], *path, *buf;
	static const char data[] = "hello, blob";
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	int64_t size;
	size_t len;
	int fd;

	digest_of(data, sizeof(data) - 1, digest);
	ck_assert_int_eq(bt_store_has_blob(s, digest, -1, &err), 0);
	ck_assert_ok(bt_store_put_blob(s, digest, data, sizeof(data) - 1, got, &err), err);
	ck_assert_str_eq(got, digest);
	ck_assert_int_eq(bt_store_has_blob(s, digest, -1, &err), 1);
	ck_assert_int_eq(bt_store_has_blob(s, digest, sizeof(data) - 1, &err), 1);
	ck_assert_int_eq(bt_store_has_blob(s, digest, 3, &err), 0);
	ck_assert_ok(bt_store_blob_path(s, digest, &path, &err), err);
	ck_assert_ptr_nonnull(strstr(path, "/layout/blobs/sha256/"));
	ck_assert_str_eq(strrchr(path, '/') + 1, digest + 7);
	buf = slurp(path);
	ck_assert_str_eq(buf, data);
	free(buf);
	free(path);
	ck_assert_ok(bt_store_read_blob(s, digest, 100, &buf, &len, &err), err);
	ck_assert_uint_eq(len, sizeof(data) - 1);
	ck_assert_str_eq(buf, data);
	free(buf);
	ck_assert_ok(bt_store_open_blob(s, digest, &fd, &size, &err), err);
	ck_assert_int_eq(size, (int64_t)sizeof(data) - 1);
	close(fd);
	ck_assert_int_eq(temp_files(s), 0);
	ck_assert_uint_eq(blob_count(s), 1);

	/* without an expected digest the sha256 of the content is taken */
	ck_assert_ok(bt_store_put_blob(s, NULL, "other", 5, got, &err), err);
	digest_of("other", 5, digest);
	ck_assert_str_eq(got, digest);
	ck_assert_uint_eq(blob_count(s), 2);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(blob_streamed_in_chunks)
{
	char *dir = unit_tmpdir(), digest[BT_DIGEST_MAX], got[BT_DIGEST_MAX];
	size_t total = 1 << 20;
	unsigned char *data = malloc(total);
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	bt_blob_writer *w;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < total; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	digest_of(data, total, digest);
	ck_assert_ok(bt_blob_writer_new(s, digest, (int64_t)total, &w, &err), err);
	ck_assert_ptr_nonnull(w);
	for (size_t off = 0; off < total; off += 4000)
		ck_assert_ok(bt_blob_writer_write(w, data + off, off + 4000 > total ? total - off : 4000,
						  &err), err);
	ck_assert_uint_eq(bt_blob_writer_written(w), total);
	ck_assert_int_eq(temp_files(s), 1); /* the blob is in its temp file until commit */
	ck_assert_int_eq(bt_store_has_blob(s, digest, -1, &err), 0);
	ck_assert_ok(bt_blob_writer_commit(w, got, &err), err);
	ck_assert_str_eq(got, digest);
	ck_assert_int_eq(temp_files(s), 0);
	ck_assert_int_eq(bt_store_has_blob(s, digest, (int64_t)total, &err), 1);
	free(data);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(blob_with_the_wrong_digest_leaves_nothing)
{
	char *dir = unit_tmpdir(), digest[BT_DIGEST_MAX], other[BT_DIGEST_MAX];
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	bt_blob_writer *w;

	digest_of("expected", 8, digest);
	digest_of("tampered", 8, other);
	ck_assert_ok(bt_store_put_blob(s, NULL, "keep", 4, NULL, &err), err);
	ck_assert_fails(bt_store_put_blob(s, digest, "tampered", 8, NULL, &err), err,
			BERTH_EINTEGRITY, "content has digest");
	ck_assert_int_eq(bt_store_has_blob(s, digest, -1, &err), 0);
	ck_assert_int_eq(bt_store_has_blob(s, other, -1, &err), 0);
	ck_assert_int_eq(temp_files(s), 0);
	ck_assert_uint_eq(blob_count(s), 1);

	/* the message names the expected digest and what came */
	ck_assert_ok(bt_blob_writer_new(s, digest, -1, &w, &err), err);
	ck_assert_ok(bt_blob_writer_write(w, "tampered", 8, &err), err);
	ck_assert_int_eq(bt_blob_writer_commit(w, NULL, &err), BERTH_EINTEGRITY);
	ck_assert_ptr_nonnull(strstr(berth_error_message(err), digest));
	ck_assert_ptr_nonnull(strstr(berth_error_message(err), other));
	berth_error_free(err);
	err = NULL;
	ck_assert_int_eq(temp_files(s), 0);

	/* an abandoned writer leaves nothing either */
	ck_assert_ok(bt_blob_writer_new(s, digest, -1, &w, &err), err);
	ck_assert_ok(bt_blob_writer_write(w, "exp", 3, &err), err);
	bt_blob_writer_abort(w);
	ck_assert_int_eq(temp_files(s), 0);
	ck_assert_uint_eq(blob_count(s), 1);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(blob_with_the_wrong_size)
{
	char *dir = unit_tmpdir(), digest[BT_DIGEST_MAX];
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	bt_blob_writer *w;

	digest_of("hello", 5, digest);
	/* longer than announced: refused on the write that crosses the size */
	ck_assert_ok(bt_blob_writer_new(s, digest, 3, &w, &err), err);
	ck_assert_ok(bt_blob_writer_write(w, "he", 2, &err), err);
	ck_assert_fails(bt_blob_writer_write(w, "llo", 3, &err), err, BERTH_EINTEGRITY,
			"more than the 3 bytes expected");
	bt_blob_writer_abort(w);
	/* shorter than announced: refused at commit */
	ck_assert_ok(bt_blob_writer_new(s, NULL, 10, &w, &err), err);
	ck_assert_ok(bt_blob_writer_write(w, "hello", 5, &err), err);
	ck_assert_fails(bt_blob_writer_commit(w, NULL, &err), err, BERTH_EINTEGRITY,
			"5 bytes, expected 10");
	ck_assert_int_eq(temp_files(s), 0);
	ck_assert_uint_eq(blob_count(s), 0);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(blob_present_is_not_written_again)
{
	char *dir = unit_tmpdir(), digest[BT_DIGEST_MAX], got[BT_DIGEST_MAX], *path;
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	bt_blob_writer *w = (bt_blob_writer *)&w;
	struct stat before, after;

	ck_assert_ok(bt_store_put_blob(s, NULL, "dup", 3, digest, &err), err);
	ck_assert_ok(bt_store_blob_path(s, digest, &path, &err), err);
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_ok(bt_blob_writer_new(s, digest, 3, &w, &err), err);
	ck_assert_ptr_null(w); /* nothing to write */
	ck_assert_ok(bt_store_put_blob(s, digest, "dup", 3, got, &err), err);
	ck_assert_str_eq(got, digest);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	/* a damaged copy of another size is written again */
	ck_assert_int_eq(truncate(path, 1), 0);
	ck_assert_ok(bt_blob_writer_new(s, digest, 3, &w, &err), err);
	ck_assert_ptr_nonnull(w);
	ck_assert_ok(bt_blob_writer_write(w, "dup", 3, &err), err);
	ck_assert_ok(bt_blob_writer_commit(w, NULL, &err), err);
	ck_assert_int_eq(bt_store_has_blob(s, digest, 3, &err), 1);
	free(path);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(read_blob_checks_size_and_content)
{
	char *dir = unit_tmpdir(), digest[BT_DIGEST_MAX], *path, *buf;
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	size_t len;
	int fd;

	ck_assert_ok(bt_store_put_blob(s, NULL, "0123456789", 10, digest, &err), err);
	ck_assert_fails(bt_store_read_blob(s, digest, 9, &buf, &len, &err), err, BERTH_EINVAL,
			"more than the 9");
	ck_assert_ptr_null(buf);
	ck_assert_ok(bt_store_blob_path(s, digest, &path, &err), err);
	ck_assert_ok(bt_write_file_atomic(path, "0123456780", 10, 0644, &err), err);
	ck_assert_fails(bt_store_read_blob(s, digest, 100, &buf, &len, &err), err, BERTH_EINTEGRITY,
			"the store is damaged");
	ck_assert_ok(bt_store_delete_blob(s, digest, &err), err);
	ck_assert_fails(bt_store_read_blob(s, digest, 100, &buf, &len, &err), err, BERTH_ENOTFOUND,
			digest);
	ck_assert_fails(bt_store_open_blob(s, digest, &fd, NULL, &err), err, BERTH_ENOTFOUND,
			digest + 7);
	ck_assert_fails(bt_store_delete_blob(s, digest, &err), err, BERTH_ENOTFOUND, "deleting blob");
	ck_assert_fails(bt_store_read_blob(s, "sha256:../../x", 100, &buf, &len, &err), err,
			BERTH_EINVAL, "hex");
	ck_assert_fails(bt_store_has_blob(s, "nodigest", -1, &err), err, BERTH_EINVAL, "ALGORITHM");
	free(path);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(list_and_delete)
{
	char *dir = unit_tmpdir(), a[BT_DIGEST_MAX], b[BT_DIGEST_MAX], *junk;
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	char **v;
	size_t n;

	ck_assert_ok(bt_store_put_blob(s, NULL, "a", 1, a, &err), err);
	ck_assert_ok(bt_store_put_blob(s, NULL, "b", 1, b, &err), err);
	/* files that are no blobs are not listed */
	junk = unit_path(bt_store_dir(s), "blobs/sha256/README");
	ck_assert_ok(bt_write_file_atomic(junk, "x", 1, 0644, &err), err);
	ck_assert_ok(bt_store_list_blobs(s, &v, &n, &err), err);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0], strcmp(a, b) < 0 ? a : b);
	ck_assert_str_eq(v[1], strcmp(a, b) < 0 ? b : a);
	bt_strv_free(v, n);
	ck_assert_ok(bt_store_delete_blob(s, a, &err), err);
	ck_assert_uint_eq(blob_count(s), 1);
	free(junk);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

static void put_manifest(bt_store *s, const char *text, char digest[BT_DIGEST_MAX])
{
	berth_error *err = NULL;

	ck_assert_ok(bt_store_put_blob(s, NULL, text, strlen(text), digest, &err), err);
}

START_TEST(tag_add_replace_remove)
{
	char *dir = unit_tmpdir(), m1[BT_DIGEST_MAX], m2[BT_DIGEST_MAX], *text, *path;
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	bt_descriptor d;
	bt_descriptor *v;
	json_t *platform;
	size_t n;

	put_manifest(s, "{\"m\":1}", m1);
	put_manifest(s, "{\"m\":22}", m2);
	ck_assert_ok(bt_store_tag(s, "docker.io/library/busybox:latest", BT_MEDIA_OCI_MANIFEST, m1, 7,
				  NULL, &err), err);
	ck_assert_ok(bt_store_tag(s, "v1", BT_MEDIA_OCI_MANIFEST, m1, 7, NULL, &err), err);
	ck_assert_ok(bt_store_resolve(s, "v1", &d, &err), err);
	ck_assert_str_eq(d.digest, m1);
	ck_assert_int_eq(d.size, 7);
	ck_assert_str_eq(d.media_type, BT_MEDIA_OCI_MANIFEST);
	ck_assert_str_eq(d.ref_name, "v1");
	bt_descriptor_clear(&d);

	/* replacing keeps one entry per tag, at its place */
	platform = json_pack("{s:{s:s,s:s}}", "platform", "architecture", "amd64", "os", "linux");
	ck_assert_ok(bt_store_tag(s, "docker.io/library/busybox:latest", BT_MEDIA_OCI_MANIFEST, m2,
				  8, platform, &err), err);
	json_decref(platform);
	ck_assert_ok(bt_store_index_list(s, &v, &n, &err), err);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].ref_name, "docker.io/library/busybox:latest");
	ck_assert_str_eq(v[0].digest, m2);
	ck_assert_int_eq(v[0].size, 8);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v[0].json, "platform"), "os")),
			 "linux");
	ck_assert_str_eq(v[1].ref_name, "v1");
	bt_descriptors_free(v, n);

	/* on disk: a real OCI index */
	path = unit_path(bt_store_dir(s), "index.json");
	text = slurp(path);
	free(path);
	ck_assert_ptr_nonnull(strstr(text, "\"org.opencontainers.image.ref.name\":\"v1\""));
	ck_assert_ptr_nonnull(strstr(text, "\"mediaType\":\"" BT_MEDIA_OCI_INDEX "\""));
	free(text);

	ck_assert_ok(bt_store_untag(s, "v1", &err), err);
	ck_assert_fails(bt_store_resolve(s, "v1", &d, &err), err, BERTH_ENOTFOUND, "v1");
	ck_assert_fails(bt_store_untag(s, "v1", &err), err, BERTH_ENOTFOUND, "no such tag");
	ck_assert_ok(bt_store_resolve(s, "docker.io/library/busybox:latest", &d, &err), err);
	ck_assert_str_eq(d.digest, m2);
	bt_descriptor_clear(&d);
	ck_assert_ok(bt_store_untag(s, "docker.io/library/busybox:latest", &err), err);
	ck_assert_ok(bt_store_index_list(s, &v, &n, &err), err);
	ck_assert_uint_eq(n, 0);
	bt_descriptors_free(v, n);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(tag_refuses_bad_input)
{
	char *dir = unit_tmpdir(), m[BT_DIGEST_MAX], absent[BT_DIGEST_MAX];
	berth_error *err = NULL;
	bt_store *s = open_store(dir);

	put_manifest(s, "{}", m);
	digest_of("absent", 6, absent);
	ck_assert_fails(bt_store_tag(s, "t", BT_MEDIA_OCI_MANIFEST, absent, 6, NULL, &err), err,
			BERTH_ENOTFOUND, "no blob of 6 bytes");
	ck_assert_fails(bt_store_tag(s, "t", BT_MEDIA_OCI_MANIFEST, m, 3, NULL, &err), err,
			BERTH_ENOTFOUND, "no blob");
	ck_assert_fails(bt_store_tag(s, "", BT_MEDIA_OCI_MANIFEST, m, 2, NULL, &err), err,
			BERTH_EINVAL, "empty");
	ck_assert_fails(bt_store_tag(s, "bad tag", BT_MEDIA_OCI_MANIFEST, m, 2, NULL, &err), err,
			BERTH_EINVAL, "not a valid reference name at offset 3");
	ck_assert_fails(bt_store_tag(s, "a//b", BT_MEDIA_OCI_MANIFEST, m, 2, NULL, &err), err,
			BERTH_EINVAL, "not a valid reference name");
	ck_assert_fails(bt_store_tag(s, "a-", BT_MEDIA_OCI_MANIFEST, m, 2, NULL, &err), err,
			BERTH_EINVAL, "not a valid reference name");
	ck_assert_fails(bt_store_tag(s, "t", "", m, 2, NULL, &err), err, BERTH_EINVAL,
			"media type");
	ck_assert_int_eq(bt_store_check_ref_name("a--b.c/d:e@f+g", NULL), 0);
	ck_assert_int_eq(bt_store_check_ref_name("a---b", NULL), BERTH_EINVAL);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

static const struct malformed {
	const char *text;
	int code;
	const char *part;
} malformed[] = {
	{ "{", BERTH_EINVAL, "malformed JSON at line" },
	{ "[]", BERTH_EINVAL, "expected an object, got array" },
	{ "{\"manifests\":[]}", BERTH_EINVAL, "schemaVersion: missing" },
	{ "{\"schemaVersion\":3,\"manifests\":[]}", BERTH_EUNSUPPORTED, "schemaVersion 3" },
	{ "{\"schemaVersion\":2}", BERTH_EINVAL, "manifests: missing" },
	{ "{\"schemaVersion\":2,\"manifests\":{}}", BERTH_EINVAL, "manifests: expected an array" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"x\",\"manifests\":[]}", BERTH_EINVAL,
	  "mediaType \"x\"" },
	{ "{\"schemaVersion\":2,\"manifests\":[1]}", BERTH_EINVAL, "manifests[0]: expected an object" },
	{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"m\",\"size\":1}]}", BERTH_EINVAL,
	  "manifests[0].digest: missing" },
	{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"m\",\"size\":1,"
	  "\"digest\":\"sha256:../../etc\"}]}",
	  BERTH_EINVAL, "manifests[0].digest: digest" },
	{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"m\",\"size\":-1,"
	  "\"digest\":\"sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "\"}]}",
	  BERTH_EINVAL, "manifests[0].size: negative" },
	{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"m\",\"size\":1,"
	  "\"digest\":\"sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "\",\"annotations\":{\"a\":1}}]}",
	  BERTH_EINVAL, "manifests[0].annotations.a: expected a string" },
	{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"m\",\"size\":1,"
	  "\"digest\":\"sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "\",\"annotations\":{\"org.opencontainers.image.ref.name\":\"a b\"}}]}",
	  BERTH_EINVAL, "manifests[0].annotations: image tag \"a b\"" },
};

START_TEST(malformed_index_is_a_clear_error)
{
	const struct malformed *m = &malformed[_i];
	char *dir = unit_tmpdir(), *index, *before, *after, man[BT_DIGEST_MAX];
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	json_t *j;

	put_manifest(s, "{}", man);
	index = unit_path(bt_store_dir(s), "index.json");
	ck_assert_ok(bt_write_file_atomic(index, m->text, strlen(m->text), 0644, &err), err);
	ck_assert_fails(bt_store_index_load(s, &j, &err), err, m->code, m->part);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(bt_store_index_load(s, &j, &err), m->code);
	ck_assert_ptr_nonnull(strstr(berth_error_message(err), "index.json"));
	berth_error_free(err);
	err = NULL;
	/* changes refuse to touch it */
	before = slurp(index);
	ck_assert_fails(bt_store_tag(s, "t", BT_MEDIA_OCI_MANIFEST, man, 2, NULL, &err), err, m->code,
			m->part);
	ck_assert_fails(bt_store_untag(s, "t", &err), err, m->code, m->part);
	ck_assert_fails(bt_store_gc(s, NULL, 0, NULL, NULL, &err), err, m->code, m->part);
	after = slurp(index);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(bt_store_has_blob(s, man, 2, &err), 1);
	free(before);
	free(after);
	free(index);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(oversized_index_is_refused)
{
	char *dir = unit_tmpdir(), *index;
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	json_t *j;
	int fd;

	index = unit_path(bt_store_dir(s), "index.json");
	fd = open(index, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)BT_STORE_INDEX_MAX + 1), 0); /* sparse */
	close(fd);
	ck_assert_fails(bt_store_index_load(s, &j, &err), err, BERTH_EINVAL, "more than the");
	free(index);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(gc_removes_unreferenced_blobs)
{
	char *dir = unit_tmpdir(), a[BT_DIGEST_MAX], b[BT_DIGEST_MAX], c[BT_DIGEST_MAX], *stale;
	const char *keep[] = { b };
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	uint64_t bytes;
	size_t freed;

	put_manifest(s, "{\"a\":1}", a);
	put_manifest(s, "bbb", b);
	put_manifest(s, "cccc", c);
	stale = unit_path(bt_store_dir(s), "blobs/sha256/.tmp-crashed");
	ck_assert_ok(bt_write_file_atomic(stale, "half", 4, 0644, &err), err);
	ck_assert_ok(bt_store_tag(s, "a", BT_MEDIA_OCI_MANIFEST, a, 7, NULL, &err), err);
	ck_assert_ok(bt_store_gc(s, keep, 1, &freed, &bytes, &err), err);
	ck_assert_uint_eq(freed, 1);
	ck_assert_uint_eq(bytes, 8); /* the blob "cccc" and the 4 bytes of the stale temp file */
	ck_assert_int_eq(bt_store_has_blob(s, a, -1, &err), 1);
	ck_assert_int_eq(bt_store_has_blob(s, b, -1, &err), 1);
	ck_assert_int_eq(bt_store_has_blob(s, c, -1, &err), 0);
	ck_assert_int_eq(temp_files(s), 0);
	ck_assert_ok(bt_store_untag(s, "a", &err), err);
	ck_assert_ok(bt_store_gc(s, NULL, 0, &freed, NULL, &err), err);
	ck_assert_uint_eq(freed, 2);
	ck_assert_uint_eq(blob_count(s), 0);
	free(stale);
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

/* gc waits for a writer in progress: its temp file survives. */
START_TEST(gc_waits_for_writers)
{
	char *dir = unit_tmpdir();
	berth_error *err = NULL;
	bt_store *s = open_store(dir);
	bt_blob_writer *w;
	int status;
	pid_t pid;

	ck_assert_ok(bt_blob_writer_new(s, NULL, -1, &w, &err), err);
	ck_assert_ok(bt_blob_writer_write(w, "partial", 7, &err), err);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the child's copy of the writer's hold would keep the lock (it
		 * belongs to the open file description): close it */
		bt_store *c;
		int rc;

		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		rc = bt_store_open(bt_store_dir(s), false, &c, NULL);

		if (rc == 0)
			rc = bt_store_gc(c, NULL, 0, NULL, NULL, NULL);
		_exit(rc == 0 ? 0 : 1);
	}
	usleep(200 * 1000);
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0); /* still waiting */
	ck_assert_int_eq(temp_files(s), 1);
	ck_assert_ok(bt_blob_writer_commit(w, NULL, &err), err);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(blob_count(s), 0); /* collected once the writer was done */
	bt_store_close(s);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(image_list_of_the_store)
{
	char *dir = unit_tmpdir(), *content, cfg[BT_DIGEST_MAX], layer[BT_DIGEST_MAX];
	char man[BT_DIGEST_MAX], idx[BT_DIGEST_MAX], bad[BT_DIGEST_MAX], *text;
	berth_ctx_opts o = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_image_list *list;
	berth_ctx *ctx;
	bt_store *s;

	o.root = dir;
	ck_assert_ok(berth_ctx_new(&ctx, &o, &err), err);
	/* no store yet: an empty list, and nothing is created */
	ck_assert_ok(berth_image_list_new(ctx, &list, &err), err);
	ck_assert_uint_eq(berth_image_list_count(list), 0);
	ck_assert_ptr_null(berth_image_list_reference(list, 0));
	ck_assert_int_eq(berth_image_list_size(list, 0), -1);
	berth_image_list_free(list);
	content = unit_path(dir, "content");
	ck_assert_int_eq(access(content, F_OK), -1);

	ck_assert_ok(bt_store_open_ctx(ctx, &s, &err), err);
	put_manifest(s, "cfg", cfg);
	put_manifest(s, "layer", layer);
	text = bt_strdup_printf("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"%s\","
				"\"size\":3},\"layers\":[{\"mediaType\":\"l\",\"digest\":\"%s\",\"size\":5}]}",
				cfg, layer);
	put_manifest(s, text, man);
	ck_assert_ok(bt_store_tag(s, "docker.io/library/a:1", BT_MEDIA_OCI_MANIFEST, man,
				  (int64_t)strlen(text), NULL, &err), err);
	put_manifest(s, "{\"schemaVersion\":2,\"manifests\":[]}", idx);
	ck_assert_ok(bt_store_tag(s, "b", BT_MEDIA_OCI_INDEX, idx, 34, NULL, &err), err);
	ck_assert_ok(berth_image_list_new(ctx, &list, &err), err);
	ck_assert_uint_eq(berth_image_list_count(list), 2);
	ck_assert_str_eq(berth_image_list_reference(list, 0), "docker.io/library/a:1");
	ck_assert_str_eq(berth_image_list_digest(list, 0), man);
	ck_assert_int_eq(berth_image_list_size(list, 0), (long long)strlen(text) + 3 + 5);
	ck_assert_str_eq(berth_image_list_reference(list, 1), "b");
	ck_assert_int_eq(berth_image_list_size(list, 1), 34);
	berth_image_list_free(list);

	/* a manifest that is not JSON is a clear error */
	put_manifest(s, "not json", bad);
	ck_assert_ok(bt_store_tag(s, "c", BT_MEDIA_OCI_MANIFEST, bad, 8, NULL, &err), err);
	ck_assert_fails(berth_image_list_new(ctx, &list, &err), err, BERTH_EINVAL,
			"listing images in");
	ck_assert_ptr_null(list);
	ck_assert_ok(bt_store_untag(s, "c", &err), err);
	ck_assert_ok(bt_store_delete_blob(s, layer, &err), err);
	ck_assert_ok(berth_image_list_new(ctx, &list, &err), err); /* sizes come from manifests */
	ck_assert_uint_eq(berth_image_list_count(list), 2);
	berth_image_list_free(list);
	berth_image_list_free(NULL);
	free(text);
	free(content);
	bt_store_close(s);
	berth_ctx_free(ctx);
	unit_tmpdir_free(dir);
}
END_TEST

#define ROUNDS 20

/* Two processes write the same blobs and tag them at once. */
static int writer_child(const char *layout, int id)
{
	unsigned char *data = malloc(64 * 1024);
	berth_error *err = NULL;
	bt_store *s;
	int rc;

	if (!data || bt_store_open(layout, true, &s, &err) < 0)
		return 1;
	for (int i = 0; i < ROUNDS; i++) {
		char digest[BT_DIGEST_MAX], tag[32];

		memset(data, 'a' + i, 64 * 1024);
		if ((rc = bt_digest_buffer("sha256", data, 64 * 1024, digest, &err)) < 0 ||
		    (rc = bt_store_put_blob(s, digest, data, 64 * 1024, NULL, &err)) < 0 ||
		    (snprintf(tag, sizeof(tag), "shared-%d", i),
		     rc = bt_store_tag(s, tag, BT_MEDIA_OCI_MANIFEST, digest, 64 * 1024, NULL, &err)) < 0 ||
		    (snprintf(tag, sizeof(tag), "own-%d-%d", id, i),
		     rc = bt_store_tag(s, tag, BT_MEDIA_OCI_MANIFEST, digest, 64 * 1024, NULL, &err)) < 0) {
			fprintf(stderr, "child %d: %s\n", id, berth_error_message(err));
			return 1;
		}
	}
	bt_store_close(s);
	free(data);
	return 0;
}

START_TEST(concurrent_writers_keep_the_store_consistent)
{
	char *dir = unit_tmpdir(), *layout = unit_path(dir, "layout");
	berth_error *err = NULL;
	bt_descriptor *v;
	pid_t pids[2];
	bt_store *s;
	size_t n;

	/* both start before the layout exists */
	for (int c = 0; c < 2; c++) {
		pids[c] = fork();
		ck_assert_int_ge(pids[c], 0);
		if (pids[c] == 0)
			_exit(writer_child(layout, c));
	}
	for (int c = 0; c < 2; c++) {
		int status;

		ck_assert_int_eq(waitpid(pids[c], &status, 0), pids[c]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", c);
	}
	ck_assert_ok(bt_store_open(layout, false, &s, &err), err);
	ck_assert_uint_eq(blob_count(s), ROUNDS);
	ck_assert_int_eq(temp_files(s), 0);
	ck_assert_ok(bt_store_index_list(s, &v, &n, &err), err);
	ck_assert_uint_eq(n, 3 * ROUNDS); /* shared-i once, own-0-i, own-1-i */
	for (size_t i = 0; i < n; i++) {
		char *buf;

		ck_assert_ok(bt_store_read_blob(s, v[i].digest, 1 << 20, &buf, NULL, &err), err);
		free(buf);
	}
	bt_descriptors_free(v, n);
	bt_store_close(s);
	free(layout);
	unit_tmpdir_free(dir);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_test(tc, open_creates_a_layout);
	tcase_add_test(tc, open_ctx_uses_the_store_root);
	tcase_add_test(tc, blob_with_the_right_digest);
	tcase_add_test(tc, blob_streamed_in_chunks);
	tcase_add_test(tc, blob_with_the_wrong_digest_leaves_nothing);
	tcase_add_test(tc, blob_with_the_wrong_size);
	tcase_add_test(tc, blob_present_is_not_written_again);
	tcase_add_test(tc, read_blob_checks_size_and_content);
	tcase_add_test(tc, list_and_delete);
	tcase_add_test(tc, tag_add_replace_remove);
	tcase_add_test(tc, tag_refuses_bad_input);
	tcase_add_loop_test(tc, malformed_index_is_a_clear_error, 0, (int)BT_ARRAY_SIZE(malformed));
	tcase_add_test(tc, oversized_index_is_refused);
	tcase_add_test(tc, gc_removes_unreferenced_blobs);
	tcase_add_test(tc, gc_waits_for_writers);
	tcase_add_test(tc, image_list_of_the_store);
	tcase_add_test(tc, concurrent_writers_keep_the_store_consistent);
	suite_add_tcase(s, tc);
	return s;
}
