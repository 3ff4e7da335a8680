/* Pulls through the library where the CLI cannot reach, for
 * tests/integration/registry-pull.sh:
 *
 *   registry-helper cancel ROOT REF   cancels from the progress callback once
 *                                     bytes of a layer have arrived; prints the
 *                                     error and exits 0 when it was ECANCELED
 *   registry-helper sink ROOT REF     pulls with a layer sink (the storage
 *                                     module's hook) that hashes what it gets;
 *                                     prints "<digest> <bytes> verified" per
 *                                     layer, checked by the script
 *   registry-helper token ROOT REF AUTHFILE
 *                                     GETs REF's manifest twice through one
 *                                     client, sleeps 2.5 s, then once more:
 *                                     with 2 s tokens the issuer sees two
 *                                     token requests, not one nor three
 */
#include "internal.h"
#include "image-internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cancel_cb(berth_pull_stage stage, const char *digest, long long done, long long total,
		     void *userdata)
{
	(void)digest, (void)total, (void)userdata;
	return stage == BERTH_PULL_LAYER_BYTES && done > 0;
}

struct layer_state {
	bt_digester *d;
	char digest[BT_DIGEST_MAX];
	long long bytes;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static int sink_begin(void *ud, size_t index, const char *digest, const char *media_type, long long size,
		      void **state, berth_error **err)
{
	struct layer_state *s = calloc(1, sizeof(*s));
	int rc;

	(void)ud, (void)index, (void)media_type, (void)size;
	if (!s)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	snprintf(s->digest, sizeof(s->digest), "%s", digest);
	if ((rc = bt_digester_new("sha256", &s->d, err)) < 0) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static int sink_data(void *state, const void *buf, size_t len, berth_error **err)
{
	struct layer_state *s = state;

	(void)err;
	bt_digester_update(s->d, buf, len);
	s->bytes += (long long)len;
	return 0;
}

static int sink_end(void *state, int verified, berth_error **err)
{
	struct layer_state *s = state;
	char got[BT_DIGEST_MAX];

	(void)err;
	bt_digester_final(s->d, got);
	pthread_mutex_lock(&out_lock);
	printf("%s %lld %s%s\n", s->digest, s->bytes, verified ? "verified" : "dropped",
	       strcmp(got, s->digest) ? " MISMATCH" : "");
	pthread_mutex_unlock(&out_lock);
	bt_digester_free(s->d);
	free(s);
	return 0;
}

/* Three manifest GETs through one registry client, the last after a 2 s
 * token has expired. */
static int token_expiry(berth_ctx *ctx, const char *text, const char *auth_file, berth_error **err)
{
	bt_registry_conf conf = { 0 };
	berth_reference *ref = NULL;
	bt_registry *r = NULL;
	int rc;

	conf.auth_file = auth_file;
	conf.docker_config = "";
	if ((rc = berth_reference_parse(text, &ref, err)) < 0 ||
	    (rc = bt_registry_new(ctx, berth_reference_domain(ref), &conf, &r, err)) < 0)
		goto out;
	for (int i = 0; i < 3 && rc == 0; i++) {
		char *body = NULL, *type = NULL, *digest = NULL;
		size_t len;

		if (i == 2)
			nanosleep(&(struct timespec){ 2, 500000000 }, NULL);
		rc = bt_registry_get_manifest(r, berth_reference_path(ref),
					      berth_reference_tag(ref) ? berth_reference_tag(ref) : "latest",
					      &body, &len, &type, &digest, err);
		free(body);
		free(type);
		free(digest);
	}
out:
	bt_registry_free(r);
	berth_reference_free(ref);
	return rc;
}

int main(int argc, char **argv)
{
	berth_ctx_opts co = BERTH_CTX_OPTS_INIT;
	berth_pull_opts po = BERTH_PULL_OPTS_INIT;
	bt_layer_sink sink = { sink_begin, sink_data, sink_end, NULL };
	berth_error *err = NULL;
	berth_ctx *ctx;
	int rc;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[1], "token"))) {
		fprintf(stderr, "usage: registry-helper cancel|sink ROOT REF | token ROOT REF AUTHFILE\n");
		return 2;
	}
	co.root = argv[2];
	if (berth_ctx_new(&ctx, &co, &err) < 0) {
		fprintf(stderr, "%s\n", berth_error_message(err));
		return 1;
	}
	if (!strcmp(argv[1], "cancel")) {
		po.progress = cancel_cb;
		rc = berth_image_pull(ctx, argv[3], &po, NULL, &err);
		if (rc == 0) {
			fprintf(stderr, "the pull was not cancelled\n");
			rc = 1;
		} else {
			printf("%s\n", berth_error_message(err));
			rc = rc == BERTH_ECANCELED ? 0 : 1;
		}
	} else if (!strcmp(argv[1], "token")) {
		rc = token_expiry(ctx, argv[3], argv[4], &err);
		if (rc < 0)
			fprintf(stderr, "%s\n", berth_error_message(err));
		rc = rc < 0;
	} else {
		rc = bt_image_pull(ctx, argv[3], NULL, &sink, NULL, &err);
		if (rc < 0)
			fprintf(stderr, "%s\n", berth_error_message(err));
		rc = rc < 0;
	}
	berth_error_free(err);
	berth_ctx_free(ctx);
	return rc;
}
