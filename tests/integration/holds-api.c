/* Holds on images through the public API only (<berth/berth.h>, linked
 * against libberth as an embedder would): hold, hold again, list, a
 * refused removal naming every holder, a forced removal that leaves a held
 * image its blobs, release, and the blobs freed once the last hold goes.
 * The store is a minimal OCI layout written here (one image, no layers).
 * Prints "N passed, M failed"; exit 1 on any failure. */
#include <berth/berth.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
#define CONFIG_HEX "c5b1d63604f273462ef36fadac3182d43ae6a6138731cf594b314835cf1c034f"
#define MANIFEST                                                                                  \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","     \
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"       \
	"\"sha256:" CONFIG_HEX "\",\"size\":78},\"layers\":[]}"
#define MANIFEST_HEX "09ade42fe3e69018a3360bb092265af902f9e7d6013146cf152c82ac3a944707"
#define DIGEST "sha256:" MANIFEST_HEX
#define TAG "docker.io/library/held:latest"

static int passed, failed;

#define CHECK(cond, ...)                                      \
	do {                                                  \
		if (cond) {                                   \
			passed++;                             \
		} else {                                      \
			failed++;                             \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                  \
			printf("\n");                         \
		}                                             \
	} while (0)

static void write_file(const char *dir, const char *name, const char *data)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")) || fputs(data, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static bool exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void make_layout(const char *content)
{
	char blobs[256];

	snprintf(blobs, sizeof(blobs), "%s/blobs", content);
	if (mkdir(content, 0755) < 0 || mkdir(blobs, 0755) < 0 || (strcat(blobs, "/sha256"), mkdir(blobs, 0755)) < 0) {
		perror(content);
		exit(2);
	}
	write_file(content, "blobs/sha256/" CONFIG_HEX, CONFIG);
	write_file(content, "blobs/sha256/" MANIFEST_HEX, MANIFEST);
	write_file(content, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	write_file(content, "index.json",
		   "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
		   "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		   "\"digest\":\"" DIGEST "\",\"size\":247,\"annotations\":"
		   "{\"org.opencontainers.image.ref.name\":\"" TAG "\"}}]}");
}

/* The number of holds on name (NULL: all), -1 on failure. */
static long count_holds(berth_ctx *ctx, const char *name, const char *holder)
{
	berth_image_holds *h;
	berth_error *err = NULL;
	long n = 0;

	if (berth_image_holds_new(ctx, name, &h, &err) < 0) {
		printf("listing holds: %s\n", berth_error_message(err));
		berth_error_free(err);
		return -1;
	}
	for (size_t i = 0; i < berth_image_holds_count(h); i++)
		if (!strcmp(berth_image_holds_digest(h, i), DIGEST) &&
		    (!holder || !strcmp(berth_image_holds_holder(h, i), holder)))
			n++;
	if (berth_image_holds_digest(h, berth_image_holds_count(h)) ||
	    berth_image_holds_holder(h, berth_image_holds_count(h)))
		n = -1; /* out of range answers NULL, as documented */
	berth_image_holds_free(h);
	return n;
}

static void test_holds(berth_ctx *ctx, const char *content)
{
	berth_error *err = NULL;
	char *digest = NULL;
	int rc;

	CHECK(count_holds(ctx, NULL, NULL) == 0, "a store without holds lists none");
	rc = berth_image_hold(ctx, "held", "container:c1", &digest, &err);
	CHECK(rc == 0 && digest && !strcmp(digest, DIGEST), "hold by reference: %d %s", rc,
	      err ? berth_error_message(err) : digest);
	free(digest);
	berth_error_free(err);
	err = NULL;
	CHECK(berth_image_hold(ctx, "held", "container:c1", NULL, NULL) == 0, "holding twice");
	CHECK(berth_image_hold(ctx, DIGEST, "container:c2", NULL, NULL) == 0, "hold by digest");
	CHECK(count_holds(ctx, "held", NULL) == 2, "two holders listed on the image");
	CHECK(count_holds(ctx, NULL, "container:c1") == 1, "container:c1 listed once in all holds");
	CHECK(berth_image_hold(ctx, "held", "bad holder", NULL, NULL) == BERTH_EINVAL, "a holder with a space");
	CHECK(berth_image_hold(ctx, "held", "", NULL, NULL) == BERTH_EINVAL, "an empty holder");
	CHECK(berth_image_hold(ctx, "nothing-like-it", "container:c1", NULL, NULL) == BERTH_ENOTFOUND,
	      "holding an unknown image");

	rc = berth_image_remove(ctx, "held", 0, &err);
	CHECK(rc == BERTH_EBUSY && berth_error_code(err) == BERTH_EBUSY, "removing a held image: %d", rc);
	CHECK(err && strstr(berth_error_message(err), "container:c1, container:c2"),
	      "the refusal names both holders: %s", err ? berth_error_message(err) : "(none)");
	berth_error_free(err);
	err = NULL;

	/* forced: untagged, but the holds keep its blobs */
	CHECK(berth_image_remove(ctx, "held", BERTH_IMAGE_REMOVE_FORCE, NULL) == 0, "a forced removal");
	CHECK(exists(content, "blobs/sha256/" MANIFEST_HEX), "a forced removal freed a held manifest");
	CHECK(berth_image_gc(ctx, NULL, NULL, NULL) == 0 && exists(content, "blobs/sha256/" CONFIG_HEX),
	      "gc freed a held image's config");
	CHECK(count_holds(ctx, DIGEST, NULL) == 2, "the holds survive the forced removal");

	CHECK(berth_image_release(ctx, DIGEST, "container:c1", NULL) == 0, "release c1");
	rc = berth_image_release(ctx, DIGEST, "container:c1", &err);
	CHECK(rc == BERTH_ENOTFOUND && err && strstr(berth_error_message(err), "container:c1"),
	      "releasing twice: %d %s", rc, err ? berth_error_message(err) : "");
	berth_error_free(err);
	err = NULL;
	CHECK(exists(content, "blobs/sha256/" MANIFEST_HEX), "a release freed a manifest still held");
	/* the last hold goes: the untagged image's blobs go with it */
	CHECK(berth_image_release(ctx, DIGEST, "container:c2", NULL) == 0, "release c2");
	CHECK(!exists(content, "blobs/sha256/" MANIFEST_HEX) && !exists(content, "blobs/sha256/" CONFIG_HEX),
	      "the last release left the untagged image's blobs");
	CHECK(count_holds(ctx, NULL, NULL) == 0, "no holds left");
	CHECK(berth_image_release(ctx, "not-a-digest", "container:c2", NULL) == BERTH_EINVAL,
	      "releasing a malformed digest");
}

int main(void)
{
	char tmpl[] = "/tmp/berth-test-holds-XXXXXX", root[64], run[64], content[128];
	berth_ctx_opts o = BERTH_CTX_OPTS_INIT;
	berth_ctx *ctx;
	berth_error *err = NULL;
	char cmd[128];

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(root, sizeof(root), "%s/root", tmpl);
	snprintf(run, sizeof(run), "%s/run", tmpl);
	snprintf(content, sizeof(content), "%s/content", root);
	if (mkdir(root, 0700) < 0) {
		perror(root);
		return 2;
	}
	o.root = root;
	o.runroot = run;
	if (berth_ctx_new(&ctx, &o, &err) < 0) {
		printf("context: %s\n", berth_error_message(err));
		return 2;
	}
	CHECK(count_holds(ctx, NULL, NULL) == 0, "no store: no holds");
	make_layout(content);
	test_holds(ctx, content);
	berth_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpl);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
