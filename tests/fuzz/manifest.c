/* Manifests and indexes as a registry serves them, and the choice of an
 * index entry for a platform. Input: a first line naming the Content-Type
 * (empty: none) and the document after it. */
#include "fuzz.h"
#include "image-internal.h"

static const char *const platforms[] = { NULL, "linux/amd64", "linux/arm64", "linux/arm64/v8",
					 "linux/arm/v7", "linux/arm", "windows/amd64" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *type, *doc;
	size_t len;
	bt_manifest m;
	berth_error *err = NULL;

	fuzz_split(data, size, &type, &doc, &len);
	memset(&m, 0, sizeof(m));
	if (bt_manifest_parse(doc, len, *type ? type : NULL, &m, &err) == 0) {
		FUZZ_CHECK(m.media_type && m.json);
		if (m.is_index) {
			for (size_t i = 0; i < sizeof(platforms) / sizeof(*platforms); i++) {
				bt_platform want;
				bt_descriptor d = { 0 };

				FUZZ_CHECK(bt_platform_parse(platforms[i], &want, NULL) == 0);
				if (bt_index_select(&m, &want, &d, &err) == 0) {
					FUZZ_CHECK(d.digest[0] && bt_digest_validate(d.digest, NULL) == 0);
					bt_descriptor_clear(&d);
				} else {
					FUZZ_CHECK(err);
					berth_error_free(err);
					err = NULL;
				}
			}
		} else {
			FUZZ_CHECK(bt_digest_validate(m.config.digest, NULL) == 0);
			for (size_t i = 0; i < m.nlayers; i++)
				FUZZ_CHECK(bt_digest_validate(m.layers[i].digest, NULL) == 0);
		}
		bt_manifest_clear(&m);
	} else {
		FUZZ_CHECK(err);
		berth_error_free(err);
	}
	free(type);
	free(doc);
	return 0;
}
