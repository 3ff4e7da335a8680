/* The content store: an OCI image layout with verified blob writes, tags in
 * index.json, and garbage collection. See image-internal.h for the layout. */
#include "internal.h"
#include "image-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAYOUT_VERSION "1.0.0"
#define TMP_PREFIX ".tmp-"

struct bt_store {
	char *dir;
	char *layout_path; /* <dir>/oci-layout */
	char *index_path;  /* <dir>/index.json */
	char *index_lock;
	char *gc_lock;
};

static const char *const algorithms[] = { "sha256", "sha512" };

void bt_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void bt_store_close(bt_store *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s->layout_path);
	free(s->index_path);
	free(s->index_lock);
	free(s->gc_lock);
	free(s);
}

const char *bt_store_dir(const bt_store *s)
{
	return s->dir;
}

static int nomem(berth_error **err, const char *what, const char *dir)
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
		return nomem(err, "creating image store", s->dir);
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
			rc = nomem(err, "creating image store", s->dir);
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
	    !(s->gc_lock = bt_strdup_printf("%s/.berth-gc.lock", s->dir)))
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
	return nomem(err, "opening image store", dir);
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

/* ---- blobs ------------------------------------------------------------ */

/* The algorithm of a validated digest, as a static string. */
static const char *digest_algorithm(const char *digest)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(algorithms); i++) {
		size_t n = strlen(algorithms[i]);

		if (!strncmp(digest, algorithms[i], n) && digest[n] == ':')
			return algorithms[i];
	}
	return "sha256";
}

int bt_store_blob_path(const bt_store *s, const char *digest, char **out, berth_error **err)
{
	int rc;

	*out = NULL;
	if (!digest)
		return bt_error_set(err, BERTH_EINVAL, 0, "blob: no digest given");
	if ((rc = bt_digest_validate(digest, err)) < 0)
		return rc;
	*out = bt_strdup_printf("%s/blobs/%s/%s", s->dir, digest_algorithm(digest),
				strchr(digest, ':') + 1);
	return *out ? 0 : nomem(err, "finding blob in", s->dir);
}

int bt_store_has_blob(const bt_store *s, const char *digest, int64_t size, berth_error **err)
{
	struct stat st;
	char *path;
	int rc;

	if ((rc = bt_store_blob_path(s, digest, &path, err)) < 0)
		return rc;
	if (lstat(path, &st) < 0)
		rc = errno == ENOENT ? 0 : bt_error_os(err, "looking for blob %s", path);
	else if (!S_ISREG(st.st_mode))
		rc = bt_error_set(err, BERTH_EINVAL, 0, "blob %s: not a regular file", path);
	else
		rc = size < 0 || st.st_size == size;
	free(path);
	return rc;
}

struct bt_blob_writer {
	bt_store *s;
	char expected[BT_DIGEST_MAX]; /* "" when none */
	const char *algorithm;
	int64_t size;
	uint64_t written;
	bt_digester *digester;
	int fd;
	int hold;
	char *tmp;
	char *algdir;
};

void bt_blob_writer_abort(bt_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	bt_digester_free(w->digester);
	bt_store_release(w->hold);
	free(w->tmp);
	free(w->algdir);
	free(w);
}

int bt_blob_writer_new(bt_store *s, const char *digest, int64_t size, bt_blob_writer **out,
		       berth_error **err)
{
	const char *what = digest ? digest : "(new blob)";
	bt_blob_writer *w;
	int rc;

	*out = NULL;
	if (digest) {
		if ((rc = bt_store_has_blob(s, digest, size, err)) < 0)
			return bt_error_wrap(err, rc, "writing blob %.80s", what);
		if (rc == 1)
			return 0;
	}
	if (!(w = calloc(1, sizeof(*w))))
		return nomem(err, "writing blob to", s->dir);
	w->s = s;
	w->fd = w->hold = -1;
	w->size = size;
	w->algorithm = digest ? digest_algorithm(digest) : "sha256";
	if (digest)
		snprintf(w->expected, sizeof(w->expected), "%s", digest);
	if (!(w->algdir = bt_strdup_printf("%s/blobs/%s", s->dir, w->algorithm)) ||
	    !(w->tmp = bt_strdup_printf("%s/" TMP_PREFIX "XXXXXX", w->algdir))) {
		rc = nomem(err, "writing blob to", s->dir);
		goto fail;
	}
	if ((rc = bt_store_hold(s, &w->hold, err)) < 0 ||
	    (rc = bt_mkdir_p(w->algdir, 0755, err)) < 0 ||
	    (rc = bt_digester_new(w->algorithm, &w->digester, err)) < 0)
		goto fail_wrap;
	if ((w->fd = mkostemp(w->tmp, O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "creating a temporary file in %s", w->algdir);
		free(w->tmp);
		w->tmp = NULL;
		goto fail_wrap;
	}
	if (fchmod(w->fd, 0644) < 0) {
		rc = bt_error_os(err, "setting the mode of %s", w->tmp);
		goto fail_wrap;
	}
	*out = w;
	return 0;
fail_wrap:
	bt_error_wrap(err, rc, "writing blob %.80s to %s", what, s->dir);
fail:
	bt_blob_writer_abort(w);
	return rc;
}

uint64_t bt_blob_writer_written(const bt_blob_writer *w)
{
	return w->written;
}

static const char *writer_name(const bt_blob_writer *w)
{
	return w->expected[0] ? w->expected : "(new blob)";
}

int bt_blob_writer_write(bt_blob_writer *w, const void *data, size_t len, berth_error **err)
{
	const char *p = data;

	if (w->fd < 0)
		return bt_error_set(err, BERTH_ESTATE, 0, "writing blob %.80s: writer already failed",
				    writer_name(w));
	if (w->size >= 0 && w->written + len > (uint64_t)w->size)
		return bt_error_set(err, BERTH_EINTEGRITY, 0,
				    "writing blob %.80s: more than the %lld bytes expected",
				    writer_name(w), (long long)w->size);
	bt_digester_update(w->digester, data, len);
	w->written += len;
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = bt_error_os(err, "writing blob %.80s to %s", writer_name(w), w->tmp);
			close(w->fd);
			w->fd = -1;
			return rc;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bt_blob_writer_commit(bt_blob_writer *w, char out[BT_DIGEST_MAX], berth_error **err)
{
	char got[BT_DIGEST_MAX], *dest = NULL;
	int rc;

	if (w->fd < 0) {
		rc = bt_error_set(err, BERTH_ESTATE, 0, "writing blob %.80s: writer already failed",
				  writer_name(w));
		goto out;
	}
	bt_digester_final(w->digester, got);
	if (w->expected[0] && strcmp(got, w->expected)) {
		rc = bt_error_set(err, BERTH_EINTEGRITY, 0,
				  "writing blob %s: content has digest %s", w->expected, got);
		goto out;
	}
	if (w->size >= 0 && w->written != (uint64_t)w->size) {
		rc = bt_error_set(err, BERTH_EINTEGRITY, 0,
				  "writing blob %s: %llu bytes, expected %lld", got,
				  (unsigned long long)w->written, (long long)w->size);
		goto out;
	}
	if (fsync(w->fd) < 0) {
		rc = bt_error_os(err, "writing blob %s: syncing %s", got, w->tmp);
		goto out;
	}
	rc = close(w->fd);
	w->fd = -1;
	if (rc < 0) {
		rc = bt_error_os(err, "writing blob %s: closing %s", got, w->tmp);
		goto out;
	}
	if (!(dest = bt_strdup_printf("%s/%s", w->algdir, strchr(got, ':') + 1))) {
		rc = nomem(err, "writing blob to", w->s->dir);
		goto out;
	}
	/* A concurrent writer of the same blob may have renamed its copy into
	 * place already; replacing it with the same verified bytes is harmless. */
	if (rename(w->tmp, dest) < 0) {
		rc = bt_error_os(err, "writing blob %s: renaming %s into place", got, w->tmp);
		goto out;
	}
	free(w->tmp);
	w->tmp = NULL;
	if ((rc = bt_fsync_dir(w->algdir, err)) < 0)
		bt_error_wrap(err, rc, "writing blob %s", got);
	else if (out)
		memcpy(out, got, BT_DIGEST_MAX);
out:
	free(dest);
	bt_blob_writer_abort(w);
	return rc;
}

int bt_store_put_blob(bt_store *s, const char *digest, const void *data, size_t len,
		      char out[BT_DIGEST_MAX], berth_error **err)
{
	bt_blob_writer *w;
	int rc = bt_blob_writer_new(s, digest, digest ? (int64_t)len : -1, &w, err);

	if (rc < 0)
		return rc;
	if (!w) {
		if (out)
			snprintf(out, BT_DIGEST_MAX, "%s", digest);
		return 0;
	}
	if ((rc = bt_blob_writer_write(w, data, len, err)) < 0) {
		bt_blob_writer_abort(w);
		return rc;
	}
	return bt_blob_writer_commit(w, out, err);
}

int bt_store_read_blob(const bt_store *s, const char *digest, size_t max, char **out,
		       size_t *len, berth_error **err)
{
	char got[BT_DIGEST_MAX], *path, *buf;
	size_t n;
	int rc;

	*out = NULL;
	if ((rc = bt_store_blob_path(s, digest, &path, err)) < 0)
		return bt_error_wrap(err, rc, "reading blob from %s", s->dir);
	if ((rc = bt_read_file(path, max, &buf, &n, err)) < 0) {
		bt_error_wrap(err, rc, "reading blob %s", digest);
		free(path);
		return rc;
	}
	if ((rc = bt_digest_buffer(digest_algorithm(digest), buf, n, got, err)) < 0) {
		bt_error_wrap(err, rc, "reading blob %s", digest);
	} else if (strcmp(got, digest)) {
		rc = bt_error_set(err, BERTH_EINTEGRITY, 0,
				  "reading blob %s: %s has digest %s: the store is damaged", digest,
				  path, got);
	}
	free(path);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int bt_store_open_blob(const bt_store *s, const char *digest, int *fd, int64_t *size,
		       berth_error **err)
{
	struct stat st;
	char *path;
	int rc;

	*fd = -1;
	if ((rc = bt_store_blob_path(s, digest, &path, err)) < 0)
		return bt_error_wrap(err, rc, "opening blob in %s", s->dir);
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		rc = bt_error_os(err, "opening blob %s", path);
	} else if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = S_ISREG(st.st_mode) ? bt_error_os(err, "opening blob %s", path)
					 : bt_error_set(err, BERTH_EINVAL, 0,
							"opening blob %s: not a regular file", path);
		close(*fd);
		*fd = -1;
	} else if (size) {
		*size = st.st_size;
	}
	free(path);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_blob_name(const char *alg, const char *name)
{
	size_t hex = !strcmp(alg, "sha512") ? 128 : 64;

	return strlen(name) == hex && strspn(name, "0123456789abcdef") == hex;
}

/* Calls fn for each entry of blobs/<alg>/ that is a blob or a temp file. */
typedef int (*blob_fn)(const char *alg, int dfd, const char *name, bool temp, void *data,
		       berth_error **err);

static int each_blob(const bt_store *s, blob_fn fn, void *data, berth_error **err)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(algorithms); i++) {
		char *dir = bt_strdup_printf("%s/blobs/%s", s->dir, algorithms[i]);
		struct dirent *de;
		DIR *d;
		int rc = 0;

		if (!dir)
			return nomem(err, "listing blobs in", s->dir);
		if (!(d = opendir(dir))) {
			rc = errno == ENOENT ? 0 : bt_error_os(err, "listing blobs in %s", dir);
			free(dir);
			if (rc < 0)
				return rc;
			continue;
		}
		while (rc == 0 && (errno = 0, de = readdir(d))) {
			bool temp = !strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX));

			if (temp || is_blob_name(algorithms[i], de->d_name))
				rc = fn(algorithms[i], dirfd(d), de->d_name, temp, data, err);
		}
		if (rc == 0 && errno)
			rc = bt_error_os(err, "listing blobs in %s", dir);
		closedir(d);
		free(dir);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_add(struct strv *sv, char *s)
{
	if (!s)
		return -1;
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 16;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v) {
			free(s);
			return -1;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

static int list_one(const char *alg, int dfd, const char *name, bool temp, void *data,
		    berth_error **err)
{
	(void)dfd;
	if (temp)
		return 0;
	if (strv_add(data, bt_strdup_printf("%s:%s", alg, name)) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "listing blobs: out of memory");
	return 0;
}

int bt_store_list_blobs(const bt_store *s, char ***out, size_t *n, berth_error **err)
{
	struct strv sv = { 0 };
	int rc = each_blob(s, list_one, &sv, err);

	*out = NULL;
	*n = 0;
	if (rc < 0) {
		bt_strv_free(sv.v, sv.n);
		return rc;
	}
	if (sv.n)
		qsort(sv.v, sv.n, sizeof(*sv.v), cmp_str);
	*out = sv.v;
	*n = sv.n;
	return 0;
}

int bt_store_delete_blob(bt_store *s, const char *digest, berth_error **err)
{
	char *path;
	int rc;

	if ((rc = bt_store_blob_path(s, digest, &path, err)) < 0)
		return bt_error_wrap(err, rc, "deleting blob from %s", s->dir);
	if (unlink(path) < 0)
		rc = bt_error_os(err, "deleting blob %s", path);
	free(path);
	return rc;
}

/* ---- index.json --------------------------------------------------------- */

static bool ref_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ref ::= component ("/" component)*; component ::= alphanum (separator
 * alphanum)*; separator ::= [-._:@+] | "--" (image-spec annotations.md) */
int bt_store_check_ref_name(const char *ref, berth_error **err)
{
	const char *c = ref;

	if (!ref || !*ref)
		return bt_error_set(err, BERTH_EINVAL, 0, "image tag: empty");
	if (strlen(ref) > 1024)
		return bt_error_set(err, BERTH_EINVAL, 0, "image tag \"%.40s...\": too long", ref);
	for (;;) {
		/* one component */
		if (!ref_alnum(*c))
			goto bad;
		while (*c && *c != '/') {
			while (ref_alnum(*c))
				c++;
			if (!*c || *c == '/')
				break;
			if (c[0] == '-' && c[1] == '-')
				c += 2;
			else if (strchr("-._:@+", *c))
				c++;
			else
				goto bad;
			if (!ref_alnum(*c))
				goto bad;
		}
		if (!*c)
			return 0;
		c++; /* the '/' */
	}
bad:
	return bt_error_set(err, BERTH_EINVAL, 0,
			    "image tag \"%.200s\": not a valid reference name at offset %zu "
			    "(components of letters and digits joined by one of -._:@+ or --, "
			    "separated by '/')", ref, (size_t)(c - ref));
}

/* Checks one descriptor of manifests[] (path names it in errors). */
static int check_descriptor(const json_t *d, const char *path, berth_error **err)
{
	const char *media, *digest, *ref;
	json_t *annotations, *value;
	long long size;
	const char *key;
	int rc;

	if ((rc = bt_json_string(d, path, "mediaType", true, &media, err)) < 0 ||
	    (rc = bt_json_string(d, path, "digest", true, &digest, err)) < 0 ||
	    (rc = bt_json_int(d, path, "size", true, &size, err)) < 0 ||
	    (rc = bt_json_member(d, path, "annotations", JSON_OBJECT, false, &annotations, err)) < 0)
		return rc;
	if (!*media)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.mediaType: empty", path);
	if ((rc = bt_digest_validate(digest, err)) < 0)
		return bt_error_wrap(err, rc, "%s.digest", path);
	if (size < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.size: negative (%lld)", path, size);
	if (!annotations)
		return 0;
	json_object_foreach(annotations, key, value) {
		if (!json_is_string(value))
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "%s.annotations.%s: expected a string, got %s", path, key,
					    bt_json_type_name(value));
	}
	if ((ref = json_string_value(json_object_get(annotations, BT_ANNOTATION_REF_NAME))) &&
	    (rc = bt_store_check_ref_name(ref, err)) < 0)
		return bt_error_wrap(err, rc, "%s.annotations", path);
	return 0;
}

static int check_index(const json_t *index, berth_error **err)
{
	const char *media = NULL;
	json_t *manifests, *d;
	long long version;
	size_t i;
	int rc;

	if (!json_is_object(index))
		return bt_error_set(err, BERTH_EINVAL, 0, "expected an object, got %s",
				    bt_json_type_name(index));
	if ((rc = bt_json_int(index, "", "schemaVersion", true, &version, err)) < 0 ||
	    (rc = bt_json_string(index, "", "mediaType", false, &media, err)) < 0 ||
	    (rc = bt_json_member(index, "", "manifests", JSON_ARRAY, true, &manifests, err)) < 0)
		return rc;
	if (version != 2)
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "schemaVersion %lld, expected 2", version);
	if (media && strcmp(media, BT_MEDIA_OCI_INDEX))
		return bt_error_set(err, BERTH_EINVAL, 0, "mediaType \"%.100s\", expected %s", media,
				    BT_MEDIA_OCI_INDEX);
	json_array_foreach(manifests, i, d) {
		char path[64];

		snprintf(path, sizeof(path), "manifests[%zu]", i);
		if (!json_is_object(d))
			return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, got %s", path,
					    bt_json_type_name(d));
		if ((rc = check_descriptor(d, path, err)) < 0)
			return rc;
	}
	return 0;
}

int bt_store_index_load(const bt_store *s, json_t **out, berth_error **err)
{
	int rc;

	*out = NULL;
	if ((rc = bt_json_load_file(s->index_path, BT_STORE_INDEX_MAX, out, err)) < 0)
		return bt_error_wrap(err, rc, "reading the image index");
	if ((rc = check_index(*out, err)) < 0) {
		bt_error_wrap(err, rc, "reading the image index %s", s->index_path);
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static const char *ref_name_of(const json_t *d)
{
	return json_string_value(
		json_object_get(json_object_get(d, "annotations"), BT_ANNOTATION_REF_NAME));
}

void bt_descriptor_clear(bt_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->ref_name);
	json_decref(d->json);
	memset(d, 0, sizeof(*d));
}

void bt_descriptors_free(bt_descriptor *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		bt_descriptor_clear(&v[i]);
	free(v);
}

/* From a validated descriptor. */
static int descriptor_from(json_t *j, bt_descriptor *d, berth_error **err)
{
	const char *ref = ref_name_of(j);

	memset(d, 0, sizeof(*d));
	d->media_type = strdup(json_string_value(json_object_get(j, "mediaType")));
	snprintf(d->digest, sizeof(d->digest), "%s",
		 json_string_value(json_object_get(j, "digest")));
	d->size = json_integer_value(json_object_get(j, "size"));
	d->ref_name = ref ? strdup(ref) : NULL;
	d->json = json_incref(j);
	if (!d->media_type || (ref && !d->ref_name)) {
		bt_descriptor_clear(d);
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading the image index: out of memory");
	}
	return 0;
}

int bt_store_index_list(const bt_store *s, bt_descriptor **out, size_t *n, berth_error **err)
{
	json_t *index, *manifests, *j;
	bt_descriptor *v;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = bt_store_index_load(s, &index, err)) < 0)
		return rc;
	manifests = json_object_get(index, "manifests");
	if (!(v = calloc(json_array_size(manifests) + 1, sizeof(*v)))) {
		json_decref(index);
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading the image index: out of memory");
	}
	json_array_foreach(manifests, i, j) {
		if ((rc = descriptor_from(j, &v[i], err)) < 0) {
			bt_descriptors_free(v, i);
			json_decref(index);
			return rc;
		}
	}
	*out = v;
	*n = json_array_size(manifests);
	json_decref(index);
	return 0;
}

int bt_store_resolve(const bt_store *s, const char *ref_name, bt_descriptor *out,
		     berth_error **err)
{
	json_t *index, *found = NULL, *j;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = bt_store_index_load(s, &index, err)) < 0)
		return rc;
	json_array_foreach(json_object_get(index, "manifests"), i, j) {
		const char *ref = ref_name_of(j);

		if (ref && !strcmp(ref, ref_name)) {
			found = j;
			break;
		}
	}
	if (found)
		rc = descriptor_from(found, out, err);
	else
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "image %.200s: not in the store %s",
				  ref_name, s->dir);
	json_decref(index);
	return rc;
}

/* Index of the entry tagged ref_name in manifests, or -1. */
static long find_tag(const json_t *manifests, const char *ref_name)
{
	size_t i;
	json_t *j;

	json_array_foreach(manifests, i, j) {
		const char *ref = ref_name_of(j);

		if (ref && !strcmp(ref, ref_name))
			return (long)i;
	}
	return -1;
}

int bt_store_tag(bt_store *s, const char *ref_name, const char *media_type, const char *digest,
		 int64_t size, const json_t *extra, berth_error **err)
{
	json_t *index = NULL, *d = NULL, *annotations, *manifests;
	int fd = -1, rc;
	long at;

	if ((rc = bt_store_check_ref_name(ref_name, err)) < 0)
		return rc;
	if (!media_type || !*media_type || !digest || size < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "tagging %s: media type, digest and size needed",
				    ref_name);
	if ((rc = bt_store_has_blob(s, digest, size, err)) < 0)
		return bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
	if (rc == 0)
		return bt_error_set(err, BERTH_ENOTFOUND, 0,
				    "tagging %s as %s: no blob of %lld bytes with that digest in %s",
				    digest, ref_name, (long long)size, s->dir);
	if (extra && !json_is_object(extra))
		return bt_error_set(err, BERTH_EINVAL, 0, "tagging %s: extra descriptor members must be an object",
				    ref_name);
	if (!(d = extra ? json_deep_copy(extra) : json_object()) ||
	    json_object_set_new(d, "mediaType", json_string(media_type)) < 0 ||
	    json_object_set_new(d, "digest", json_string(digest)) < 0 ||
	    json_object_set_new(d, "size", json_integer(size)) < 0)
		goto nomem;
	if (!(annotations = json_object_get(d, "annotations"))) {
		if (json_object_set_new(d, "annotations", json_object()) < 0)
			goto nomem;
		annotations = json_object_get(d, "annotations");
	}
	if (json_object_set_new(annotations, BT_ANNOTATION_REF_NAME, json_string(ref_name)) < 0)
		goto nomem;
	if ((rc = check_descriptor(d, "descriptor", err)) < 0) {
		bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
		goto out;
	}
	if ((rc = bt_lock_acquire(s->index_lock, BT_LOCK_EXCLUSIVE, &fd, err)) < 0 ||
	    (rc = bt_store_index_load(s, &index, err)) < 0) {
		bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
		goto out;
	}
	manifests = json_object_get(index, "manifests");
	at = find_tag(manifests, ref_name);
	if ((at >= 0 ? json_array_set(manifests, (size_t)at, d) : json_array_append(manifests, d)) < 0)
		goto nomem;
	if ((rc = bt_json_write_atomic(s->index_path, index, err)) < 0)
		bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
	goto out;
nomem:
	rc = bt_error_set(err, BERTH_ENOMEM, 0, "tagging %s as %s: out of memory", digest, ref_name);
out:
	bt_lock_release(fd);
	json_decref(d);
	json_decref(index);
	return rc;
}

int bt_store_untag(bt_store *s, const char *ref_name, berth_error **err)
{
	json_t *index = NULL, *manifests;
	int fd = -1, rc;
	long at;

	if ((rc = bt_lock_acquire(s->index_lock, BT_LOCK_EXCLUSIVE, &fd, err)) < 0 ||
	    (rc = bt_store_index_load(s, &index, err)) < 0) {
		bt_error_wrap(err, rc, "untagging %.200s", ref_name);
		goto out;
	}
	manifests = json_object_get(index, "manifests");
	if ((at = find_tag(manifests, ref_name)) < 0) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "untagging %.200s: no such tag in %s", ref_name,
				  s->dir);
		goto out;
	}
	json_array_remove(manifests, (size_t)at);
	if ((rc = bt_json_write_atomic(s->index_path, index, err)) < 0)
		bt_error_wrap(err, rc, "untagging %.200s", ref_name);
out:
	bt_lock_release(fd);
	json_decref(index);
	return rc;
}

/* ---- garbage collection ------------------------------------------------- */

struct gc {
	const char *const *keep;
	size_t nkeep;
	const json_t *manifests;
	size_t freed;
	uint64_t bytes;
	const char *dir;
};

static bool gc_keeps(const struct gc *g, const char *digest)
{
	size_t i;
	json_t *j;

	for (i = 0; i < g->nkeep; i++)
		if (g->keep[i] && !strcmp(g->keep[i], digest))
			return true;
	json_array_foreach(g->manifests, i, j)
		if (!strcmp(json_string_value(json_object_get(j, "digest")), digest))
			return true;
	return false;
}

static int gc_one(const char *alg, int dfd, const char *name, bool temp, void *data,
		  berth_error **err)
{
	struct gc *g = data;
	char digest[BT_DIGEST_MAX];
	struct stat st;

	snprintf(digest, sizeof(digest), "%s:%s", alg, name);
	if (!temp && gc_keeps(g, digest))
		return 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : bt_error_os(err, "collecting %s/blobs/%s/%s", g->dir, alg, name);
	if (unlinkat(dfd, name, 0) < 0)
		return errno == ENOENT ? 0 : bt_error_os(err, "collecting %s/blobs/%s/%s", g->dir, alg, name);
	if (!temp) {
		g->freed++;
		g->bytes += (uint64_t)st.st_size;
	}
	return 0;
}

int bt_store_gc(bt_store *s, const char *const *keep, size_t nkeep, size_t *freed,
		uint64_t *bytes, berth_error **err)
{
	struct gc g = { keep, nkeep, NULL, 0, 0, s->dir };
	int gc_fd = -1, index_fd = -1, rc;
	json_t *index = NULL;

	/* lock order everywhere: gc lock, then index lock */
	if ((rc = bt_lock_acquire(s->gc_lock, BT_LOCK_EXCLUSIVE, &gc_fd, err)) < 0 ||
	    (rc = bt_lock_acquire(s->index_lock, BT_LOCK_EXCLUSIVE, &index_fd, err)) < 0 ||
	    (rc = bt_store_index_load(s, &index, err)) < 0)
		goto out;
	g.manifests = json_object_get(index, "manifests");
	rc = each_blob(s, gc_one, &g, err);
out:
	if (rc < 0)
		bt_error_wrap(err, rc, "collecting unused blobs in %s", s->dir);
	bt_lock_release(index_fd);
	bt_lock_release(gc_fd);
	json_decref(index);
	if (freed)
		*freed = g.freed;
	if (bytes)
		*bytes = g.bytes;
	return rc;
}
