/* The blobs of the content store: their paths, presence, the streaming
 * writer that verifies digest and size before a blob is renamed into place,
 * whole-blob put/read/open, listing and deletion. Kept apart from index.json
 * and gc because only this file knows how blobs/<alg>/ is laid out. */
#include "internal.h"
#include "image-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* writers' temp files in blobs/<alg>/, which gc removes */
#define TMP_PREFIX ".tmp-"
#define WRITEBACK_STEP (8u << 20)

static const char *const algorithms[] = { "sha256", "sha512" };

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
	return *out ? 0 : bt_store_nomem(err, "finding blob in", s->dir);
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
	uint64_t flushed; /* bytes whose writeback was started */
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

/* The writer's temp file, held with flock(LOCK_SH) while it is written, so
 * a sweep (bt_store_sweep_temps) removes only those of dead writers. One
 * the sweep took between mkostemp and the flock is gone from its name:
 * then another is made. */
static int make_held_temp(bt_blob_writer *w, berth_error **err)
{
	char *name = strdup(w->tmp);

	if (!name)
		return bt_store_nomem(err, "writing blob to", w->s->dir);
	for (int tries = 0; tries < 3; tries++) {
		struct stat a, b;
		int rc;

		strcpy(w->tmp, name);
		if ((w->fd = mkostemp(w->tmp, O_CLOEXEC)) < 0) {
			rc = bt_error_os(err, "creating a temporary file in %s", w->algdir);
			free(w->tmp);
			w->tmp = NULL;
			free(name);
			return rc;
		}
		while ((rc = flock(w->fd, LOCK_SH)) < 0 && errno == EINTR)
			;
		if (rc == 0 && fstat(w->fd, &a) == 0 && stat(w->tmp, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			free(name);
			return 0;
		}
		close(w->fd);
		w->fd = -1;
	}
	free(name);
	return bt_error_set(err, BERTH_EBUSY, 0, "creating a temporary file in %s: removed as soon as made",
			    w->algdir);
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
		return bt_store_nomem(err, "writing blob to", s->dir);
	w->s = s;
	w->fd = w->hold = -1;
	w->size = size;
	w->algorithm = digest ? digest_algorithm(digest) : "sha256";
	if (digest)
		snprintf(w->expected, sizeof(w->expected), "%s", digest);
	if (!(w->algdir = bt_strdup_printf("%s/blobs/%s", s->dir, w->algorithm)) ||
	    !(w->tmp = bt_strdup_printf("%s/" TMP_PREFIX "XXXXXX", w->algdir))) {
		rc = bt_store_nomem(err, "writing blob to", s->dir);
		goto fail;
	}
	if ((rc = bt_store_hold(s, &w->hold, err)) < 0 ||
	    (rc = bt_mkdir_p(w->algdir, 0755, err)) < 0 ||
	    (rc = bt_digester_new(w->algorithm, &w->digester, err)) < 0)
		goto fail_wrap;
	if ((rc = make_held_temp(w, err)) < 0)
		goto fail_wrap;
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
	/* start writing back what is complete, so the fsync at commit waits
	 * for the last few megabytes, not the whole blob (best effort) */
	if (w->written - w->flushed >= WRITEBACK_STEP) {
		sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->written - w->flushed),
				SYNC_FILE_RANGE_WRITE);
		w->flushed = w->written;
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
		rc = bt_store_nomem(err, "writing blob to", w->s->dir);
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

/* Shared with gc.c, which walks the same entries to delete them. */
int bt_store_each_blob(const bt_store *s, bt_blob_fn fn, void *data, berth_error **err)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(algorithms); i++) {
		char *dir = bt_strdup_printf("%s/blobs/%s", s->dir, algorithms[i]);
		struct dirent *de;
		DIR *d;
		int rc = 0;

		if (!dir)
			return bt_store_nomem(err, "listing blobs in", s->dir);
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

static int list_one(const char *alg, int dfd, const char *name, bool temp, void *data,
		    berth_error **err)
{
	(void)dfd;
	if (temp)
		return 0;
	if (bt_strv_add(data, bt_strdup_printf("%s:%s", alg, name)) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "listing blobs: out of memory");
	return 0;
}

int bt_store_list_blobs(const bt_store *s, char ***out, size_t *n, berth_error **err)
{
	struct bt_strv sv = { 0 };
	int rc = bt_store_each_blob(s, list_one, &sv, err);

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

struct sweep {
	bool remove;
	uint64_t bytes;
};

static int sweep_one(const char *alg, int dfd, const char *name, bool temp, void *data,
		     berth_error **err)
{
	struct sweep *sw = data;
	struct stat st;
	int fd;

	(void)alg;
	(void)err;
	if (!temp || (fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return 0;
	/* a live writer holds its temp file shared */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    (!sw->remove || unlinkat(dfd, name, 0) == 0))
		sw->bytes += (uint64_t)st.st_size;
	close(fd);
	return 0;
}

uint64_t bt_store_sweep_temps(const bt_store *s, bool remove)
{
	struct sweep sw = { remove, 0 };

	bt_store_each_blob(s, sweep_one, &sw, NULL);
	return sw.bytes;
}
