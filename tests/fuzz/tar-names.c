/* The names of a layer's tar entries: what may be created, what is a
 * whiteout, and the compression its first bytes announce. */
#include "fuzz.h"
#include "storage-internal.h"

static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.gzip",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size), *clean = NULL;
	berth_error *err = NULL;
	const char *target = NULL;
	int kind, comp;

	if (bt_layer_entry_name(name, &clean, &err) == 0) {
		/* a clean name never leaves the layer's directory */
		FUZZ_CHECK(clean && clean[0] != '/' && strcmp(clean, "..") && strncmp(clean, "../", 3) &&
			   !strstr(clean, "/../") &&
			   (strlen(clean) < 3 || strcmp(clean + strlen(clean) - 3, "/..")));
		free(clean);
	} else {
		FUZZ_CHECK(err && !clean);
		berth_error_free(err);
	}
	err = NULL;
	const char *slash = strrchr(name, '/');
	kind = bt_whiteout_kind(slash ? slash + 1 : name, &target, &err);
	if (kind < 0) {
		FUZZ_CHECK(err);
		berth_error_free(err);
	} else if (kind == BT_WHITEOUT_FILE) {
		FUZZ_CHECK(target && *target && strcmp(target, ".") && strcmp(target, "..") && !strchr(target, '/'));
	}
	err = NULL;
	for (size_t i = 0; i < sizeof(layer_types) / sizeof(*layer_types); i++) {
		if (bt_layer_compression(layer_types[i], data, size, &comp, &err) < 0)
			berth_error_free(err);
		err = NULL;
	}
	free(name);
	return 0;
}
