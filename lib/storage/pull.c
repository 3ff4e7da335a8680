/* Pull and unpack in one pass: the image module's pull hands each layer's
 * bytes to this sink (berth_image_layer_sink) as they arrive (layers in parallel); each layer gets a
 * thread that unpacks from a socket the sink writes into, so download,
 * digest, decompression and extraction overlap. What a layer's thread made
 * is used only when the pull says the blob is verified, and only once the
 * image's config confirms its diff_id (bt_layers_prepare). */
#include "storage-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct stream {
	char *ldir; /* <root>/storage/layers */
	bool no_devices;
	/* blobs unpacked already (layers.json, read before the pull): not
	 * unpacked again. Only a hint: bt_layers_prepare unpacks any layer
	 * still missing from the store. */
	json_t *have;
	pthread_mutex_t lock;
	struct bt_streamed_layer *layers; /* by layer index */
	size_t n;
};

struct slayer {
	struct stream *s;
	size_t index;
	char digest[BT_DIGEST_MAX];
	char *media_type;
	struct bt_tmpdir tmp; /* held until placed or removed */
	int dirfd;
	int sock[2]; /* [0]: the unpacker reads; [1]: data() writes */
	unsigned char head[8];
	size_t headlen;
	bool started;
	pthread_t thread;
	struct bt_unpack_params p;
	struct bt_strv implicit;
	int rc;
	berth_error *err;
	char diff_id[BT_DIGEST_MAX];
	int64_t bytes;
};

static void slayer_free(struct slayer *l)
{
	if (l->sock[0] >= 0)
		close(l->sock[0]);
	if (l->sock[1] >= 0)
		close(l->sock[1]);
	if (l->dirfd >= 0)
		close(l->dirfd);
	bt_tmpdir_remove(&l->tmp);
	free(l->media_type);
	bt_strv_free(l->implicit.v, l->implicit.n);
	berth_error_free(l->err);
	free(l);
}

static void *unpack_thread(void *data)
{
	struct slayer *l = data;

	l->rc = bt_unpack_layer(l->dirfd, l->tmp.path, &l->p, l->diff_id, &l->bytes, &l->err);
	/* a failed unpack stops reading: the writer then sees EPIPE, not a hang */
	shutdown(l->sock[0], SHUT_RD);
	return NULL;
}

static int sink_begin(void *ud, size_t index, const char *digest, const char *media_type,
		      long long size, void **state, berth_error **err)
{
	struct stream *s = ud;
	struct slayer *l;
	char *diff = NULL;
	int rc = 0;

	(void)size;
	*state = NULL;
	if (json_object_get(s->have, digest))
		return 0; /* unpacked already: *state stays NULL */
	if (!(l = calloc(1, sizeof(*l))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	l->s = s;
	l->index = index;
	l->dirfd = l->sock[0] = l->sock[1] = -1;
	snprintf(l->digest, sizeof(l->digest), "%s", digest);
	if (!(l->media_type = strdup(media_type))) {
		slayer_free(l);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	if ((rc = bt_tmpdir_make(s->ldir, "pull", &l->tmp, err)) < 0) {
		slayer_free(l);
		return rc;
	}
	if (!(diff = bt_strdup_printf("%s/diff", l->tmp.path)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if (mkdir(diff, 0755) < 0 ||
		 (l->dirfd = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = bt_error_os(err, "creating %s", diff);
	free(diff);
	if (rc < 0) {
		slayer_free(l);
		return rc;
	}
	*state = l;
	return 0;
}

/* Starts the unpacker once the magic bytes are in. */
static int start(struct slayer *l, berth_error **err)
{
	int rc, bufsize = 2 << 20;

	if ((rc = bt_layer_compression(l->media_type, l->head, l->headlen, &l->p.compression, err)) < 0)
		return bt_error_wrap(err, rc, "layer %s", l->digest);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->sock) < 0)
		return bt_error_os(err, "layer %s: creating a socket pair", l->digest);
	/* room for a few of the download's pieces, so it runs ahead of the
	 * unpacker instead of in step with it (beyond wmem_max only as root) */
	if (setsockopt(l->sock[1], SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
		setsockopt(l->sock[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	l->p.blobfd = l->sock[0];
	l->p.head = l->head;
	l->p.headlen = l->headlen;
	l->p.blob_size = -1;
	l->p.what = l->digest;
	l->p.no_devices = l->s->no_devices;
	l->p.implicit = &l->implicit;
	if ((rc = pthread_create(&l->thread, NULL, unpack_thread, l)) != 0) {
		errno = rc;
		return bt_error_os(err, "layer %s: starting the unpacker", l->digest);
	}
	l->started = true;
	return 0;
}

/* Waits for the unpacker; its result in l->rc / l->err. */
static void finish(struct slayer *l)
{
	if (!l->started)
		return;
	close(l->sock[1]); /* end of input */
	l->sock[1] = -1;
	pthread_join(l->thread, NULL);
	l->started = false;
}

static int sink_data(void *state, const void *buf, size_t len, berth_error **err)
{
	struct slayer *l = state;
	const char *p = buf;
	int rc;

	if (!l->started && l->headlen < sizeof(l->head)) {
		size_t take = sizeof(l->head) - l->headlen < len ? sizeof(l->head) - l->headlen : len;

		memcpy(l->head + l->headlen, p, take);
		l->headlen += take;
		p += take;
		len -= take;
		if (l->headlen < sizeof(l->head))
			return 0;
		if ((rc = start(l, err)) < 0)
			return rc;
	}
	while (len > 0) {
		ssize_t n = send(l->sock[1], p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* the unpacker stopped: its error says why */
			finish(l);
			if (l->rc < 0) {
				if (err) {
					*err = l->err;
					l->err = NULL;
				}
				return l->rc;
			}
			return bt_error_os(err, "layer %s: feeding the unpacker", l->digest);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sink_end(void *state, int verified, berth_error **err)
{
	struct slayer *l = state;
	struct stream *s = l->s;
	int rc = 0;

	if (verified && !l->started && l->rc == 0)
		rc = start(l, err); /* a blob shorter than the magic */
	finish(l);
	if (rc == 0 && verified && l->rc < 0) {
		rc = l->rc;
		if (err) {
			*err = l->err;
			l->err = NULL;
		}
	}
	if (rc == 0 && verified) {
		pthread_mutex_lock(&s->lock);
		if (l->index >= s->n) {
			struct bt_streamed_layer *bigger =
				realloc(s->layers, (l->index + 1) * sizeof(*bigger));
			if (!bigger) {
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			} else {
				memset(bigger + s->n, 0, (l->index + 1 - s->n) * sizeof(*bigger));
				s->layers = bigger;
				s->n = l->index + 1;
			}
		}
		if (rc == 0) {
			struct bt_streamed_layer *t = &s->layers[l->index];

			if (t->tmp.path) { /* the same layer twice in one image */
				bt_tmpdir_remove(&t->tmp);
				bt_strv_free(t->implicit.v, t->implicit.n);
			}
			t->tmp = l->tmp;
			memcpy(t->diff_id, l->diff_id, BT_DIGEST_MAX);
			t->bytes = l->bytes;
			t->implicit = l->implicit;
			l->tmp.path = NULL;
			memset(&l->implicit, 0, sizeof(l->implicit));
		}
		pthread_mutex_unlock(&s->lock);
	}
	slayer_free(l);
	return rc;
}

/* The blobs of the layers in the store, as keys of *out. */
static int unpacked_blobs(berth_ctx *ctx, json_t **out, berth_error **err)
{
	json_t *j = NULL, *entry, *blob;
	const char *chain;
	int rc;

	if ((rc = bt_layers_load(ctx, &j, err)) < 0)
		return rc;
	if (!(*out = json_object()))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	json_object_foreach(json_object_get(j, "layers"), chain, entry)
		if (rc == 0 && json_is_string(blob = json_object_get(entry, "blob")) &&
		    json_object_set_new(*out, json_string_value(blob), json_true()) < 0)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	json_decref(j);
	return rc;
}

int berth_storage_pull(berth_ctx *ctx, const char *ref, const berth_pull_opts *popts,
			    const berth_storage_unpack_opts *uopts, berth_image **out, berth_error **err)
{
	berth_storage_unpack_opts opts = BERTH_STORAGE_UNPACK_OPTS_INIT;
	struct stream s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	berth_image_layer_sink sink = { sink_begin, sink_data, sink_end, &s };
	berth_image *img = NULL;
	berth_reference *parsed;
	char *sdir = NULL;
	bool pulled = true; /* false: the error is the pull's own */
	int rc;

	if (out)
		*out = NULL;
	/* bad input is refused before anything is made in the store; the
	 * parser's error names the reference already */
	if ((rc = berth_reference_parse(ref ? ref : "", &parsed, err)) < 0)
		return rc;
	berth_reference_free(parsed);
	if ((rc = bt_opts_copy(&opts, sizeof(opts), uopts, "berth_storage_unpack_opts", err)) < 0 ||
	    (rc = bt_storage_dirs(ctx, &sdir, NULL, err)) < 0)
		return rc;
	s.no_devices = opts.no_devices;
	if (!(s.ldir = bt_strdup_printf("%s/layers", sdir))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = bt_mkdir_p(s.ldir, 0700, err)) < 0 || (rc = unpacked_blobs(ctx, &s.have, err)) < 0)
		goto out;
	/* the pull's error already says "pulling REF": not said again below */
	if ((rc = berth_image_pull_with_sink(ctx, ref, popts, &sink, &img, err)) < 0) {
		pulled = false;
		goto out;
	}
	if ((rc = bt_layers_prepare(ctx, berth_image_digest(img), &opts, NULL, s.layers, s.n, NULL,
				    err)) < 0)
		goto out;
	if (out) {
		*out = img;
		img = NULL;
	}
out:
	for (size_t i = 0; i < s.n; i++) {
		bt_tmpdir_remove(&s.layers[i].tmp);
		bt_strv_free(s.layers[i].implicit.v, s.layers[i].implicit.n);
	}
	free(s.layers);
	json_decref(s.have);
	berth_image_free(img);
	pthread_mutex_destroy(&s.lock);
	free(s.ldir);
	free(sdir);
	return rc < 0 && pulled ? bt_error_wrap(err, rc, "unpacking %.200s", ref) : rc < 0 ? rc : 0;
}
