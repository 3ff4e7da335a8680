/* The decompressing stage of an unpack, on a thread of its own so that
 * decompression and hashing overlap extraction. It reads the blob (the
 * caller's head bytes, then the fd: a file, or a socket a download writes
 * into), decompresses it straight into the blocks of a ring the tar reader
 * takes them from, and hashes every uncompressed byte (the diff_id covers
 * the tar's padding and whatever follows it too). gzip goes through
 * bt_gunzip (ISA-L, else zlib: header, CRC-32 and ISIZE of every member
 * checked, trailing garbage refused), zstd through libarchive's raw format,
 * an uncompressed blob is read into the blocks as it is. */
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
	bt_gunzip *gz;       /* gzip */
	struct archive *raw; /* zstd */
	bt_digester *dg;
	char *input;
	size_t head_used;    /* bytes of p->head handed on */
	int64_t read_total;  /* compressed bytes read so far */
	char *spare;         /* output once the reader wants no more blocks */
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

/* A read of the blob's fd into buf: the count, 0 at the end, -1 (recorded). */
static ssize_t read_blob(struct bt_inflater *f, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(f->p->blobfd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		char why[128];

		snprintf(why, sizeof(why), "reading the blob: %s", strerror(errno));
		fail(f, why);
		return -1;
	}
	f->read_total += n;
	return n;
}

/* The next bytes of the blob: the caller's head, then reads of the fd. */
static ssize_t next_input(void *data, const void **buf)
{
	struct bt_inflater *f = data;
	ssize_t n;

	if (f->head_used < f->p->headlen) {
		*buf = (const char *)f->p->head + f->head_used;
		n = (ssize_t)(f->p->headlen - f->head_used);
		f->head_used = f->p->headlen;
		f->read_total += n;
		return n;
	}
	*buf = f->input;
	return read_blob(f, f->input, INPUT_SIZE);
}

static la_ssize_t archive_input(struct archive *a, void *data, const void **buf)
{
	(void)a;
	return next_input(data, buf);
}

/* Up to len decompressed bytes into out: the count, 0 at the end, -1 on
 * failure (recorded with fail()). */
static ssize_t produce(struct bt_inflater *f, char *out, size_t len)
{
	const char *why = NULL;
	size_t done = 0;
	ssize_t n;

	switch (f->p->compression) {
	case BT_COMPRESS_GZIP:
		if ((n = bt_gunzip_read(f->gz, out, len, &why)) < 0 && why)
			fail(f, why);
		return n;
	case BT_COMPRESS_ZSTD:
		if ((n = bt_ar.read_data(f->raw, out, len)) < 0)
			fail(f, bt_ar.error_string(f->raw));
		return n;
	default:
		/* uncompressed: the blob's own bytes, copied only out of the head */
		while (done < len) {
			if (f->head_used < f->p->headlen) {
				size_t take = f->p->headlen - f->head_used;

				take = take < len - done ? take : len - done;
				memcpy(out + done, (const char *)f->p->head + f->head_used, take);
				f->head_used += take;
				f->read_total += (int64_t)take;
				done += take;
				continue;
			}
			if ((n = read_blob(f, out + done, len - done)) < 0)
				return -1;
			if (n == 0)
				break;
			done += (size_t)n;
		}
		return (ssize_t)done;
	}
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
	b->consumed = f->read_total;
	f->count++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* Fills one block after another until the stream ends; once the reader
 * wants no more, the rest is decompressed into a spare block, only to be
 * hashed. */
static void *inflate_thread(void *data)
{
	struct bt_inflater *f = data;

	for (;;) {
		struct block *b = wait_free_block(f);
		char *out = b ? b->data : f->spare;
		size_t used = 0;
		ssize_t n = 0;

		if (!b && __atomic_load_n(&f->abort, __ATOMIC_RELAXED))
			break;

		while (used < BLOCK_SIZE && (n = produce(f, out + used, BLOCK_SIZE - used)) > 0)
			used += (size_t)n;
		bt_digester_update(f->dg, out, used);
		if (b && used > 0)
			publish(f, b, used);
		if (n <= 0 || __atomic_load_n(&f->abort, __ATOMIC_RELAXED))
			break;
	}
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
	bt_gunzip_free(f->gz);
	bt_digester_free(f->dg);
	free(f->spare);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f->input);
	free(f->error);
	free(f);
}

/* zstd through libarchive's raw format; the first bytes are read here, so a
 * blob that is not zstd fails before any thread starts. */
static int open_zstd(struct bt_inflater *f, berth_error **err)
{
	struct archive_entry *e;
	const char *why;

	if (!(f->raw = bt_ar.read_new()))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (bt_ar.read_support_filter_zstd(f->raw) != ARCHIVE_OK)
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "this libarchive cannot decompress zstd");
	bt_ar.read_support_format_raw(f->raw);
	if (bt_ar.read_open(f->raw, f, NULL, archive_input, NULL) == ARCHIVE_OK &&
	    bt_ar.read_next_header(f->raw, &e) == ARCHIVE_OK)
		return 0;
	/* a failed read of the blob says why itself; libarchive does not */
	why = f->error ? f->error : bt_ar.error_string(f->raw);
	return bt_error_set(err, BERTH_EINVAL, 0, "decompressing: %s", why ? why : "unreadable input");
}

int bt_inflater_start(const struct bt_unpack_params *p, struct bt_inflater **out,
		      berth_error **err)
{
	struct bt_inflater *f = calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (!f)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	f->p = p;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	if ((rc = bt_digester_new("sha256", &f->dg, err)) < 0)
		goto fail;
	if (!(f->input = malloc(INPUT_SIZE))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < NBLOCKS; i++)
		if (!(f->ring[i].data = malloc(BLOCK_SIZE))) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			goto fail;
		}
	if (!(f->spare = malloc(BLOCK_SIZE))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto fail;
	}
	if (p->compression == BT_COMPRESS_GZIP &&
	    (rc = bt_gunzip_new(next_input, f, &f->gz, err)) < 0)
		goto fail;
	if (p->compression == BT_COMPRESS_ZSTD && (rc = open_zstd(f, err)) < 0)
		goto fail;
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
