/* The decompressing stage of an unpack, on a thread of its own so that
 * decompression and hashing overlap extraction: for a large layer each is
 * about half of the work, and one thread doing both was the bottleneck of a
 * pull. It reads the blob (the caller's head bytes, then the fd: a file, or
 * a socket a download writes into), decompresses it with libarchive's raw
 * format, hashes every uncompressed byte (the diff_id covers the tar's
 * padding and whatever follows it too) and hands the bytes to the tar
 * reader through a ring of blocks. */
#include "storage-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INPUT_SIZE (1u << 20)
#define NBLOCKS 8
#define BLOCK_SIZE (256u << 10)

struct block {
	char *data;
	size_t len;
	int64_t consumed; /* compressed bytes read when the block was full */
};

struct bt_inflater {
	const struct bt_unpack_params *p;
	struct archive *raw;
	bt_digester *dg;
	char *input;
	size_t head_used; /* bytes of p->head handed to libarchive */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct block ring[NBLOCKS];
	size_t first, count; /* filled: ring[first], ... count of them */
	bool held;           /* the reader still uses ring[first] */
	bool eof;            /* the thread is done, with or without error */
	bool tar_done;       /* the reader wants no more bytes; hashing goes on */
	bool abort;          /* the reader gave up: stop now */
	char *error;         /* why decompression failed */
	char digest[BT_DIGEST_MAX];
};

static void fail(struct bt_inflater *f, const char *why)
{
	pthread_mutex_lock(&f->lock);
	if (!f->error)
		f->error = strdup(why ? why : "decompression failed");
	pthread_mutex_unlock(&f->lock);
}

static la_ssize_t blob_read(struct archive *a, void *data, const void **buf)
{
	struct bt_inflater *f = data;
	ssize_t n;

	(void)a;
	if (f->head_used < f->p->headlen) {
		*buf = (const char *)f->p->head + f->head_used;
		n = (ssize_t)(f->p->headlen - f->head_used);
		f->head_used = f->p->headlen;
		return n;
	}
	do
		n = read(f->p->blobfd, f->input, INPUT_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		char why[128];

		snprintf(why, sizeof(why), "reading the blob: %s", strerror(errno));
		fail(f, why);
		return -1;
	}
	*buf = f->input;
	return n;
}

/* Waits for a free block: the ring's tail, or NULL when the reader wants
 * no more. The tail stays put while the reader takes blocks (first moves
 * up as count goes down) until publish() adds it. */
static struct block *wait_free_block(struct bt_inflater *f)
{
	struct block *b = NULL;

	pthread_mutex_lock(&f->lock);
	while (f->count == NBLOCKS && !f->abort && !f->tar_done)
		pthread_cond_wait(&f->cond, &f->lock);
	if (!f->abort && !f->tar_done)
		b = &f->ring[(f->first + f->count) % NBLOCKS];
	pthread_mutex_unlock(&f->lock);
	return b;
}

static void publish(struct bt_inflater *f, struct block *b, size_t len)
{
	pthread_mutex_lock(&f->lock);
	b->len = len;
	b->consumed = (int64_t)bt_ar.filter_bytes(f->raw, -1);
	f->count++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void *inflate_thread(void *data)
{
	struct bt_inflater *f = data;
	struct block *b = NULL;
	size_t used = 0;
	bool copying = true;

	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = bt_ar.read_data_block(f->raw, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			fail(f, bt_ar.error_string(f->raw));
			break;
		}
		bt_digester_update(f->dg, buf, len);
		while (copying && len > 0) {
			size_t take;

			if (!b) {
				if (!(b = wait_free_block(f))) {
					copying = false;
					break;
				}
				used = 0;
			}
			take = len < BLOCK_SIZE - used ? len : BLOCK_SIZE - used;
			memcpy(b->data + used, buf, take);
			used += take;
			buf = (const char *)buf + take;
			len -= take;
			if (used == BLOCK_SIZE) {
				publish(f, b, used);
				b = NULL;
			}
		}
		if (__atomic_load_n(&f->abort, __ATOMIC_RELAXED))
			break;
	}
	if (b && copying && used > 0)
		publish(f, b, used);
	bt_digester_final(f->dg, f->digest);
	pthread_mutex_lock(&f->lock);
	f->eof = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

static void inflater_free(struct bt_inflater *f)
{
	for (size_t i = 0; i < NBLOCKS; i++)
		free(f->ring[i].data);
	if (f->raw)
		bt_ar.read_free(f->raw);
	bt_digester_free(f->dg);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f->input);
	free(f->error);
	free(f);
}

int bt_inflater_start(const struct bt_unpack_params *p, struct bt_inflater **out,
		      berth_error **err)
{
	struct bt_inflater *f = calloc(1, sizeof(*f));
	struct archive_entry *e;
	int rc;

	*out = NULL;
	if (!f)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	f->p = p;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	if ((rc = bt_digester_new("sha256", &f->dg, err)) < 0)
		goto fail;
	if (!(f->raw = bt_ar.read_new()) || !(f->input = malloc(INPUT_SIZE))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < NBLOCKS; i++)
		if (!(f->ring[i].data = malloc(BLOCK_SIZE))) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			goto fail;
		}
	if ((p->compression == BT_COMPRESS_GZIP && bt_ar.read_support_filter_gzip(f->raw) != ARCHIVE_OK) ||
	    (p->compression == BT_COMPRESS_ZSTD && bt_ar.read_support_filter_zstd(f->raw) != ARCHIVE_OK)) {
		rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0, "this libarchive cannot decompress %s",
				  p->compression == BT_COMPRESS_GZIP ? "gzip" : "zstd");
		goto fail;
	}
	bt_ar.read_support_format_raw(f->raw);
	/* the first bytes are read here, so a blob that is not what its media
	 * type says fails before any thread starts */
	if (bt_ar.read_open(f->raw, f, NULL, blob_read, NULL) != ARCHIVE_OK ||
	    bt_ar.read_next_header(f->raw, &e) != ARCHIVE_OK) {
		/* a failed read of the blob says why itself; libarchive does not */
		const char *why = f->error ? f->error : bt_ar.error_string(f->raw);

		rc = bt_error_set(err, BERTH_EINVAL, 0, "decompressing: %s",
				  why ? why : "unreadable input");
		goto fail;
	}
	if ((rc = pthread_create(&f->thread, NULL, inflate_thread, f)) != 0) {
		errno = rc;
		rc = bt_error_os(err, "starting the decompressing thread");
		goto fail;
	}
	f->started = true;
	*out = f;
	return 0;
fail:
	inflater_free(f);
	return rc;
}

ssize_t bt_inflater_read(struct bt_inflater *f, const void **buf, int64_t *consumed)
{
	ssize_t n = 0;

	pthread_mutex_lock(&f->lock);
	if (f->held) {
		f->first = (f->first + 1) % NBLOCKS;
		f->count--;
		f->held = false;
		pthread_cond_broadcast(&f->cond);
	}
	while (f->count == 0 && !f->eof)
		pthread_cond_wait(&f->cond, &f->lock);
	if (f->count > 0) {
		f->held = true;
		*buf = f->ring[f->first].data;
		*consumed = f->ring[f->first].consumed;
		n = (ssize_t)f->ring[f->first].len;
	} else if (f->error) {
		n = -1;
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

char *bt_inflater_error(struct bt_inflater *f)
{
	char *why;

	pthread_mutex_lock(&f->lock);
	why = f->error ? strdup(f->error) : NULL;
	pthread_mutex_unlock(&f->lock);
	return why;
}

int bt_inflater_finish(struct bt_inflater *f, bool to_end, char digest[BT_DIGEST_MAX],
		       berth_error **err)
{
	int rc = 0;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->lock);
	if (to_end)
		f->tar_done = true;
	else
		__atomic_store_n(&f->abort, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (f->started)
		pthread_join(f->thread, NULL);
	if (to_end && f->error)
		rc = bt_error_set(err, BERTH_EINVAL, 0, "decompressing: %s", f->error);
	else if (to_end && digest)
		memcpy(digest, f->digest, BT_DIGEST_MAX);
	inflater_free(f);
	return rc;
}
