/* Test helper for tests/integration/storage.sh: the storage module's public
 * API, one call per command. Errors go to stderr as "storage-helper: <msg>"
 * with the code name, so the test can check what was refused and why.
 *
 *   storage-helper ROOT RUNROOT unpack IMAGE [no-devices|cancel]
 *   storage-helper ROOT RUNROOT pull REF          pull, unpacking in the same pass
 *   storage-helper ROOT RUNROOT release|mount|unmount IMAGE
 *   storage-helper ROOT RUNROOT snap-create ID IMAGE auto|overlay|copy
 *   storage-helper ROOT RUNROOT snap-mount|snap-unmount|snap-remove ID
 *   storage-helper ROOT RUNROOT snap-diff|snap-export ID FILE
 *   storage-helper ROOT RUNROOT df                 "<kind> <items> <bytes> <reclaimable>" per row,
 *                                                  storage's then the runtime's (RUNROOT/runtime)
 *   storage-helper ROOT RUNROOT prune              what `berth image prune` does: bytes freed
 *   storage-helper ROOT RUNROOT rt-prune           "<remains removed> <bytes>" of the runtime
 *   storage-helper ROOT RUNROOT layers IMAGE     "<diff id> <chain id> <unpacked size>" per layer
 *   storage-helper ROOT RUNROOT holds [IMAGE]     "<manifest digest> <holder>" per hold
 *   storage-helper ROOT RUNROOT hold IMAGE HOLDER | release-hold DIGEST HOLDER
 *   storage-helper ROOT RUNROOT rmi IMAGE [force]
 *
 * BERTH_TEST_OVERLAY_LEGACY=1 makes overlay mounts use mount(2) with short
 * symlinks instead of fsconfig's lowerdir+ (a test hook of libberth-test).
 */
#include <berth/berth.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int bt_test_overlay_legacy;

static int fail(berth_error *err)
{
	fprintf(stderr, "storage-helper: %s: %s\n", berth_error_code_name(berth_error_code(err)),
		berth_error_message(err));
	berth_error_free(err);
	return 1;
}

/* The runtime row of df: containers and remains, bytes, remains' bytes;
 * then "leftovers <n>". */
static int runtime_df(berth_ctx *ctx, berth_error **err)
{
	berth_runtime_usage u = BERTH_RUNTIME_USAGE_INIT;
	berth_runtime *rt;
	int rc;

	if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) < 0)
		return rc;
	if ((rc = berth_runtime_usage_get(rt, &u, err)) == 0)
		printf("runtime %lld %lld %lld\nleftovers %lld\n", u.containers + u.leftovers, u.bytes,
		       u.leftover_bytes, u.leftovers);
	berth_runtime_free(rt);
	return rc;
}

static int runtime_prune(berth_ctx *ctx, berth_error **err)
{
	unsigned long long bytes = 0;
	berth_runtime *rt;
	size_t n = 0;
	int rc;

	if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) < 0)
		return rc;
	if ((rc = berth_runtime_prune(rt, &n, &bytes, err)) == 0)
		printf("%zu %llu\n", n, bytes);
	berth_runtime_free(rt);
	return rc;
}

/* Cancels at the first progress report. */
static int cancel_at_once(const char *layer, long long done, long long total, void *userdata)
{
	(void)layer;
	(void)done;
	(void)total;
	(void)userdata;
	return 1;
}

static int print_path(char *path)
{
	printf("%s\n", path);
	berth_string_free(path);
	return 0;
}

int main(int argc, char **argv)
{
	berth_ctx_opts copts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx;
	const char *cmd;
	char *path;
	int rc = 0, fd;

	if (argc < 4) {
		fprintf(stderr, "usage: %s ROOT RUNROOT COMMAND ARGS...\n", argv[0]);
		return 2;
	}
	bt_test_overlay_legacy = getenv("BERTH_TEST_OVERLAY_LEGACY") != NULL;
	copts.root = argv[1];
	copts.runroot = argv[2];
	cmd = argv[3];
	if (berth_ctx_new(&ctx, &copts, &err) < 0)
		return fail(err);
	if (!strcmp(cmd, "unpack") && argc >= 5) {
		berth_storage_unpack_opts o = BERTH_STORAGE_UNPACK_OPTS_INIT;
		o.no_devices = argc > 5 && !strcmp(argv[5], "no-devices");
		if (argc > 5 && !strcmp(argv[5], "cancel"))
			o.progress = cancel_at_once;
		rc = berth_storage_unpack(ctx, argv[4], &o, &err);
	} else if (!strcmp(cmd, "pull") && argc == 5) {
		rc = berth_storage_pull(ctx, argv[4], NULL, NULL, NULL, &err);
	} else if (!strcmp(cmd, "release") && argc == 5) {
		rc = berth_storage_release(ctx, argv[4], &err);
	} else if (!strcmp(cmd, "mount") && argc == 5) {
		if ((rc = berth_storage_mount(ctx, argv[4], &path, &err)) == 0)
			print_path(path);
	} else if (!strcmp(cmd, "unmount") && argc == 5) {
		rc = berth_storage_unmount(ctx, argv[4], &err);
	} else if (!strcmp(cmd, "snap-create") && argc == 7) {
		berth_snapshot_opts o = BERTH_SNAPSHOT_OPTS_INIT;
		o.driver = !strcmp(argv[6], "copy")	     ? BERTH_SNAPSHOT_COPY
			   : !strcmp(argv[6], "overlay") ? BERTH_SNAPSHOT_OVERLAY
							 : BERTH_SNAPSHOT_AUTO;
		rc = berth_snapshot_create(ctx, argv[4], argv[5], &o, &err);
	} else if (!strcmp(cmd, "snap-mount") && argc == 5) {
		if ((rc = berth_snapshot_mount(ctx, argv[4], &path, &err)) == 0)
			print_path(path);
	} else if (!strcmp(cmd, "snap-unmount") && argc == 5) {
		rc = berth_snapshot_unmount(ctx, argv[4], &err);
	} else if (!strcmp(cmd, "snap-remove") && argc == 5) {
		rc = berth_snapshot_remove(ctx, argv[4], &err);
	} else if ((!strcmp(cmd, "snap-diff") || !strcmp(cmd, "snap-export")) && argc == 6) {
		if ((fd = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
			perror(argv[5]);
			return 1;
		}
		rc = !strcmp(cmd, "snap-diff") ? berth_snapshot_diff(ctx, argv[4], fd, &err)
					       : berth_snapshot_export(ctx, argv[4], fd, &err);
		close(fd);
	} else if (!strcmp(cmd, "df") && argc == 4) {
		berth_storage_usage *u;
		if ((rc = berth_storage_usage_new(ctx, &u, &err)) == 0) {
			for (size_t i = 0; i < berth_storage_usage_count(u); i++)
				printf("%s %lld %lld %lld\n", berth_storage_usage_kind(u, i),
				       berth_storage_usage_items(u, i), berth_storage_usage_bytes(u, i),
				       berth_storage_usage_reclaimable(u, i));
			berth_storage_usage_free(u);
		}
		if (rc == 0)
			rc = runtime_df(ctx, &err);
	} else if (!strcmp(cmd, "prune") && argc == 4) {
		unsigned long long blobs = 0, layers = 0;

		if ((rc = berth_image_gc(ctx, NULL, &blobs, &err)) == 0 &&
		    (rc = berth_storage_prune(ctx, &layers, &err)) == 0)
			printf("%llu\n", blobs + layers);
	} else if (!strcmp(cmd, "rt-prune") && argc == 4) {
		rc = runtime_prune(ctx, &err);
	} else if (!strcmp(cmd, "gc") && argc == 4) {
		unsigned long long bytes = 0;
		size_t n = 0;

		if ((rc = berth_image_gc(ctx, &n, &bytes, &err)) == 0)
			printf("%zu %llu\n", n, bytes);
	} else if (!strcmp(cmd, "layers") && argc == 5) {
		berth_storage_layers *l;
		if ((rc = berth_storage_layers_new(ctx, argv[4], &l, &err)) == 0) {
			for (size_t i = 0; i < berth_storage_layers_count(l); i++)
				printf("%s %s %lld\n", berth_storage_layers_diff_id(l, i),
				       berth_storage_layers_chain_id(l, i),
				       berth_storage_layers_unpacked_size(l, i));
			/* out of range: NULL and -1, as documented */
			if (berth_storage_layers_diff_id(l, berth_storage_layers_count(l)) ||
			    berth_storage_layers_chain_id(l, berth_storage_layers_count(l)) ||
			    berth_storage_layers_unpacked_size(l, berth_storage_layers_count(l)) != -1)
				printf("out of range answered\n");
			berth_storage_layers_free(l);
		}
	} else if (!strcmp(cmd, "holds") && (argc == 4 || argc == 5)) {
		berth_image_holds *hs;
		if ((rc = berth_image_holds_new(ctx, argc == 5 ? argv[4] : NULL, &hs, &err)) == 0) {
			for (size_t i = 0; i < berth_image_holds_count(hs); i++)
				printf("%s %s\n", berth_image_holds_digest(hs, i), berth_image_holds_holder(hs, i));
			berth_image_holds_free(hs);
		}
	} else if (!strcmp(cmd, "hold") && argc == 6) {
		char *digest = NULL;
		if ((rc = berth_image_hold(ctx, argv[4], argv[5], &digest, &err)) == 0)
			printf("%s\n", digest);
		free(digest);
	} else if (!strcmp(cmd, "release-hold") && argc == 6) {
		rc = berth_image_release(ctx, argv[4], argv[5], &err);
	} else if (!strcmp(cmd, "rmi") && (argc == 5 || argc == 6)) {
		/* BERTH_TEST_RMI_STOP_AFTER_UNTAG stops it after the untag (test builds) */
		rc = berth_image_remove(ctx, argv[4], argc == 6 ? BERTH_IMAGE_REMOVE_FORCE : 0, &err);
	} else {
		fprintf(stderr, "storage-helper: bad command or arguments\n");
		berth_ctx_free(ctx);
		return 2;
	}
	if (rc < 0) {
		berth_ctx_free(ctx);
		return fail(err);
	}
	berth_ctx_free(ctx);
	return 0;
}
