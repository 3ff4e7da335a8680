/* berth_image_pull: reference -> manifest (an index resolved to one
 * platform) -> config and layers, downloaded in parallel by a small pool of
 * threads, each blob verified while it streams into the store -> manifest
 * blob -> tag. The pull holds the store (gc waits) from its first blob until
 * it has tagged; on failure it removes the blobs it wrote that no image uses
 * (unless another pull is running, which may need them: gc frees them later).
 * Layer bytes can be handed to a sink as they arrive (berth_image_layer_sink). */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PARALLEL 3
#define MAX_PARALLEL 16
#define DEFAULT_RETRIES 3
/* bytes between two progress calls for one layer */
#define PROGRESS_STEP (256u << 10)

struct pull {
	berth_ctx *ctx;
	berth_pull_opts o;
	const bt_layer_sink *sink;
	bt_store *s;
	bt_registry *r;
	const char *repo;
	bt_manifest m;
	pthread_mutex_t lock; /* next, progress calls, created, first error */
	int cancel;           /* read by the registry client: stops transfers */
	size_t next;
	struct bt_strv created; /* blobs this pull wrote */
	int rc;
	berth_error *err;
};

static int progress(struct pull *p, berth_pull_stage stage, const char *digest, long long done,
		    long long total, berth_error **err)
{
	int stop = 0;

	if (p->o.progress) {
		pthread_mutex_lock(&p->lock);
		stop = p->o.progress(stage, digest, done, total, p->o.userdata);
		pthread_mutex_unlock(&p->lock);
	}
	if (stop) {
		__atomic_store_n(&p->cancel, 1, __ATOMIC_RELAXED);
		return bt_error_set(err, BERTH_ECANCELED, 0, "cancelled by the progress callback");
	}
	return 0;
}

/* One blob on its way into the store (and to the sink, for layers). */
struct fetch {
	struct pull *p;
	const bt_descriptor *d;
	size_t index;
	bool layer;
	bt_blob_writer *w;
	void *state; /* the sink's */
	bool sink_open;
	uint64_t reported;
};

static int sink_begin(struct fetch *f, berth_error **err)
{
	const bt_layer_sink *k = f->p->sink;
	int rc;

	if (!k || !f->layer)
		return 0;
	f->state = NULL;
	if ((rc = k->begin(k->userdata, f->index, f->d->digest, f->d->media_type, (long long)f->d->size,
			    &f->state, err)) < 0)
		return rc;
	f->sink_open = f->state != NULL; /* NULL: the sink has this layer already */
	return 0;
}

static int sink_end(struct fetch *f, bool verified, berth_error **err)
{
	const bt_layer_sink *k = f->p->sink;

	if (!f->sink_open)
		return 0;
	f->sink_open = false;
	return k->end(f->state, verified, err);
}

static int fetch_data(void *ud, const void *buf, size_t len, berth_error **err)
{
	struct fetch *f = ud;
	uint64_t done;
	int rc;

	if ((rc = bt_blob_writer_write(f->w, buf, len, err)) < 0)
		return rc;
	if (f->sink_open && (rc = f->p->sink->data(f->state, buf, len, err)) < 0)
		return rc;
	done = bt_blob_writer_written(f->w);
	if (f->layer && (done - f->reported >= PROGRESS_STEP || done == (uint64_t)f->d->size)) {
		f->reported = done;
		return progress(f->p, BERTH_PULL_LAYER_BYTES, f->d->digest, (long long)done, f->d->size, err);
	}
	return 0;
}

/* The registry could not resume: drop what arrived and start again. */
static int fetch_restart(void *ud, berth_error **err)
{
	struct fetch *f = ud;
	int rc;

	bt_blob_writer_abort(f->w);
	f->w = NULL;
	f->reported = 0;
	if ((rc = sink_end(f, false, err)) < 0)
		return rc;
	if ((rc = bt_blob_writer_new(f->p->s, f->d->digest, f->d->size, &f->w, err)) < 0)
		return rc;
	if (!f->w)
		return bt_error_set(err, BERTH_ESTATE, 0, "blob %s appeared meanwhile", f->d->digest);
	return sink_begin(f, err);
}

/* A layer that is stored already goes to the sink from the store. */
static int replay(struct fetch *f, berth_error **err)
{
	char buf[64 * 1024];
	int64_t size;
	int fd, rc;

	if ((rc = bt_store_open_blob(f->p->s, f->d->digest, &fd, &size, err)) < 0)
		return rc;
	if ((rc = sink_begin(f, err)) == 0 && f->sink_open) {
		for (;;) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = bt_error_os(err, "reading blob %s", f->d->digest);
				break;
			}
			if (n == 0)
				break;
			if ((rc = f->p->sink->data(f->state, buf, (size_t)n, err)) < 0)
				break;
		}
		if (rc < 0) {
			sink_end(f, false, NULL);
		} else {
			rc = sink_end(f, true, err);
		}
	}
	close(fd);
	return rc;
}

static int fetch_blob(struct pull *p, const bt_descriptor *d, size_t index, bool layer,
		      berth_error **err)
{
	struct fetch f = { .p = p, .d = d, .index = index, .layer = layer };
	bt_blob_consumer c = { fetch_data, fetch_restart, &f };
	const char *stage = layer ? "layer" : "config";
	int rc;

	if ((rc = bt_blob_writer_new(p->s, d->digest, d->size, &f.w, err)) < 0)
		goto fail;
	if (!f.w) {
		bt_log_debug(p->ctx, "image", "%s %s is in the store already", stage, d->digest);
		if (!layer)
			return 0;
		if ((rc = progress(p, BERTH_PULL_LAYER_EXISTS, d->digest, d->size, d->size, err)) < 0)
			return rc;
		if (p->sink && (rc = replay(&f, err)) < 0)
			goto fail;
		return 0;
	}
	if ((rc = sink_begin(&f, err)) < 0 || (rc = bt_registry_get_blob(p->r, p->repo, d->digest, &c, err)) < 0)
		goto fail_abort;
	if (layer && (rc = progress(p, BERTH_PULL_LAYER_VERIFYING, d->digest, d->size, d->size, err)) < 0)
		goto fail_abort;
	rc = bt_blob_writer_commit(f.w, NULL, err);
	f.w = NULL;
	if (rc < 0)
		goto fail_abort;
	pthread_mutex_lock(&p->lock);
	rc = bt_strv_add(&p->created, strdup(d->digest));
	pthread_mutex_unlock(&p->lock);
	if (rc < 0) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto fail_abort;
	}
	if ((rc = sink_end(&f, true, err)) < 0)
		goto fail;
	if (layer && (rc = progress(p, BERTH_PULL_LAYER_DONE, d->digest, d->size, d->size, err)) < 0)
		goto fail;
	return 0;
fail_abort:
	bt_blob_writer_abort(f.w);
	sink_end(&f, false, NULL);
fail:
	return bt_error_wrap(err, rc, "fetching %s %s", stage, d->digest);
}

static void *layer_worker(void *arg)
{
	struct pull *p = arg;

	for (;;) {
		berth_error *e = NULL;
		size_t i;
		int rc;

		pthread_mutex_lock(&p->lock);
		if (p->rc < 0 || p->next >= p->m.nlayers) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if ((rc = fetch_blob(p, &p->m.layers[i], i, true, &e)) < 0) {
			pthread_mutex_lock(&p->lock);
			/* the first failure is the story; the others are its echo */
			if (p->rc == 0) {
				p->rc = rc;
				p->err = e;
				e = NULL;
			}
			pthread_mutex_unlock(&p->lock);
			__atomic_store_n(&p->cancel, 1, __ATOMIC_RELAXED);
			berth_error_free(e);
			break;
		}
	}
	return NULL;
}

static int fetch_layers(struct pull *p, berth_error **err)
{
	size_t n = (size_t)(p->o.parallel > 0 ? p->o.parallel : DEFAULT_PARALLEL), started = 0;
	pthread_t threads[MAX_PARALLEL];

	if (n > MAX_PARALLEL)
		n = MAX_PARALLEL;
	if (n > p->m.nlayers)
		n = p->m.nlayers;
	for (size_t i = 0; i < p->m.nlayers; i++) {
		int rc = progress(p, BERTH_PULL_LAYER_WAITING, p->m.layers[i].digest, 0, p->m.layers[i].size, err);

		if (rc < 0)
			return rc;
	}
	/* the calling thread is one of the workers */
	for (; started + 1 < n; started++)
		if (pthread_create(&threads[started], NULL, layer_worker, p) != 0) {
			bt_log_warn(p->ctx, "image", "could not start a download thread: %s", strerror(errno));
			break;
		}
	layer_worker(p);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (p->rc < 0) {
		if (err)
			*err = p->err;
		else
			berth_error_free(p->err);
		p->err = NULL;
		return p->rc;
	}
	return 0;
}

/* Checks a document against the digest it was asked for by. */
static int verify_digest(const char *what, const char *buf, size_t len, const char *digest,
			 berth_error **err)
{
	char got[BT_DIGEST_MAX];
	const char *alg = !strncmp(digest, "sha512:", 7) ? "sha512" : "sha256";
	int rc;

	if ((rc = bt_digest_validate(digest, err)) < 0 || (rc = bt_digest_buffer(alg, buf, len, got, err)) < 0)
		return bt_error_wrap(err, rc, "checking %s", what);
	if (strcmp(got, digest))
		return bt_error_set(err, BERTH_EINTEGRITY, 0, "%s: content has digest %s, expected %s", what,
				    got, digest);
	return 0;
}

/* Fetches, verifies and parses the manifest of ref for the platform. */
static int resolve(struct pull *p, const berth_reference *ref, const bt_platform *plat,
		   char **body, size_t *len, berth_error **err)
{
	const char *want = berth_reference_digest(ref);
	const char *name = want ? want : berth_reference_tag(ref);
	char *type = NULL, *served = NULL;
	bt_descriptor d = { 0 };
	int rc;

	if ((rc = bt_registry_get_manifest(p->r, p->repo, name, body, len, &type, &served, err)) < 0)
		goto out;
	if (want)
		rc = verify_digest("manifest", *body, *len, want, err);
	else if (served && bt_digest_validate(served, NULL) == 0)
		rc = verify_digest("manifest", *body, *len, served, err);
	if (rc < 0 || (rc = bt_manifest_parse(*body, *len, type, &p->m, err)) < 0)
		goto out;
	if (p->m.is_index) {
		free(type);
		free(served);
		type = served = NULL;
		if ((rc = bt_index_select(&p->m, plat, &d, err)) < 0)
			goto out;
		bt_log_debug(p->ctx, "image", "%s: %s/%s is manifest %s", berth_reference_string(ref), plat->os,
			     plat->arch, d.digest);
		bt_manifest_clear(&p->m);
		free(*body);
		*body = NULL;
		if ((rc = bt_registry_get_manifest(p->r, p->repo, d.digest, body, len, &type, &served, err)) < 0 ||
		    (rc = verify_digest("manifest", *body, *len, d.digest, err)) < 0 ||
		    (rc = bt_manifest_parse(*body, *len, type, &p->m, err)) < 0)
			goto out;
		if (p->m.is_index) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "manifest %s: an index inside an index", d.digest);
			goto out;
		}
	}
	if (strcmp(p->m.config.media_type, BT_MEDIA_OCI_CONFIG) &&
	    strcmp(p->m.config.media_type, BT_MEDIA_DOCKER_CONFIG)) {
		rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				  "manifest: config media type \"%.100s\" is not an image config (an artifact?)",
				  p->m.config.media_type);
		goto out;
	}
	if (p->m.config.size > (int64_t)BT_CONFIG_MAX)
		rc = bt_error_set(err, BERTH_EINVAL, 0, "manifest: config of %lld bytes, at most %u allowed",
				  (long long)p->m.config.size, BT_CONFIG_MAX);
out:
	bt_descriptor_clear(&d);
	free(type);
	free(served);
	return rc;
}

int bt_image_pull(berth_ctx *ctx, const char *text, const berth_pull_opts *opts,
		  const bt_layer_sink *sink, berth_image **out, berth_error **err)
{
	struct pull p = { .ctx = ctx, .sink = sink };
	berth_pull_opts defaults = BERTH_PULL_OPTS_INIT;
	bt_registry_conf conf = { 0 };
	berth_reference *ref = NULL;
	berth_image *img = NULL;
	bt_platform plat;
	char digest[BT_DIGEST_MAX], *body = NULL;
	size_t len = 0;
	int hold = -1, rc;

	if (out)
		*out = NULL;
	p.o = defaults;
	pthread_mutex_init(&p.lock, NULL);
	if ((rc = bt_opts_copy(&p.o, sizeof(p.o), opts, "pull options", err)) < 0 ||
	    (rc = berth_reference_parse(text ? text : "", &ref, err)) < 0 ||
	    (rc = bt_platform_parse(p.o.platform, &plat, err)) < 0)
		goto fail;
	p.repo = berth_reference_path(ref);
	conf.insecure = p.o.insecure_registries;
	conf.certs_dir = p.o.certs_dir;
	conf.auth_file = p.o.auth_file;
	conf.docker_config = p.o.docker_config;
	conf.retries = p.o.retries == 0 ? DEFAULT_RETRIES : p.o.retries;
	conf.cancel = &p.cancel;
	/* the store is created only once there is something to put in it */
	if ((rc = progress(&p, BERTH_PULL_RESOLVING, NULL, 0, 0, err)) < 0 ||
	    (rc = bt_registry_new(ctx, berth_reference_domain(ref), &conf, &p.r, err)) < 0 ||
	    (rc = resolve(&p, ref, &plat, &body, &len, err)) < 0 ||
	    (rc = bt_store_open_ctx(ctx, &p.s, err)) < 0)
		goto fail;
	bt_log_info(ctx, "image", "pulling %s: %zu layers", berth_reference_string(ref), p.m.nlayers);
	/* from the first blob to the tag, gc must not take what we store */
	if ((rc = bt_store_hold(p.s, &hold, err)) < 0)
		goto fail;
	bt_store_sweep_temps(p.s, true); /* what killed pulls left */
	if ((rc = fetch_blob(&p, &p.m.config, 0, false, err)) < 0 ||
	    (rc = fetch_layers(&p, err)) < 0)
		goto fail;
	{
		/* the manifest goes in last: a store never has a manifest without its blobs */
		int present = 0;

		if ((rc = bt_digest_buffer("sha256", body, len, digest, err)) < 0 ||
		    (present = bt_store_has_blob(p.s, digest, (int64_t)len, err)) < 0 ||
		    (rc = bt_store_put_blob(p.s, digest, body, len, NULL, err)) < 0) {
			rc = present < 0 ? present : rc;
			goto fail;
		}
		if (!present && bt_strv_add(&p.created, strdup(digest)) < 0) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			goto fail;
		}
	}
	if ((rc = bt_image_open(ctx, p.s, p.m.media_type, digest, &img, err)) < 0 ||
	    (rc = bt_store_tag(p.s, berth_reference_string(ref), p.m.media_type, digest, (int64_t)len,
			       NULL, err)) < 0 ||
	    (rc = bt_image_add_reference(img, berth_reference_string(ref), err)) < 0)
		goto fail;
	bt_store_release(hold);
	hold = -1;
	bt_holds_complete_pending(ctx, p.s); /* what a killed removal left */
	if ((rc = progress(&p, BERTH_PULL_DONE, digest, 0, 0, NULL)) < 0)
		rc = 0; /* the image is there: a late cancel changes nothing */
	bt_log_info(ctx, "image", "pulled %s: manifest %s", berth_reference_string(ref), digest);
	goto out;
fail:
	bt_error_wrap(err, rc, "pulling %s", ref ? berth_reference_string(ref) : text ? text : "(null)");
	bt_store_release(hold);
	hold = -1;
	if (p.s && p.created.n) {
		berth_error *e = NULL;

		if (bt_store_gc_unreferenced(p.s, (const char *const *)p.created.v, p.created.n, true, NULL,
					     NULL, NULL, NULL, &e) < 0) {
			bt_log_warn(ctx, "image", "removing what a failed pull wrote: %s", berth_error_message(e));
			berth_error_free(e);
		}
	}
out:
	if (rc == 0 && out)
		*out = img;
	else
		berth_image_free(img);
	free(body);
	bt_strv_free(p.created.v, p.created.n);
	bt_manifest_clear(&p.m);
	bt_registry_free(p.r);
	bt_store_close(p.s);
	berth_reference_free(ref);
	berth_error_free(p.err);
	pthread_mutex_destroy(&p.lock);
	return rc;
}

int berth_image_pull(berth_ctx *ctx, const char *ref, const berth_pull_opts *opts,
		     berth_image **out, berth_error **err)
{
	return bt_image_pull(ctx, ref, opts, NULL, out, err);
}

int berth_image_pull_with_sink(berth_ctx *ctx, const char *ref, const berth_pull_opts *opts,
			       const berth_image_layer_sink *sink, berth_image **out, berth_error **err)
{
	return bt_image_pull(ctx, ref, opts, sink, out, err);
}
