/* Image references ("busybox:1", "127.0.0.1:5000/a/b@sha256:...") and
 * platforms ("linux/arm64/v8"), as users and registries write them. */
#include "fuzz.h"
#include "image-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	berth_reference *ref = NULL;
	berth_error *err = NULL;
	bt_platform plat;

	if (berth_reference_parse(text, &ref, &err) == 0) {
		/* what a reference gives back must parse again to the same thing */
		berth_reference *again = NULL;
		const char *s = berth_reference_string(ref);

		FUZZ_CHECK(berth_reference_domain(ref) && berth_reference_path(ref) &&
			   berth_reference_name(ref) && berth_reference_familiar_name(ref) &&
			   berth_reference_familiar(ref) && s);
		FUZZ_CHECK(berth_reference_tag(ref) || berth_reference_digest(ref));
		FUZZ_CHECK(berth_reference_parse(s, &again, NULL) == 0);
		FUZZ_CHECK(!strcmp(berth_reference_string(again), s));
		berth_reference_free(again);
		FUZZ_CHECK(berth_reference_parse(berth_reference_familiar(ref), &again, NULL) == 0);
		FUZZ_CHECK(!strcmp(berth_reference_string(again), s));
		berth_reference_free(again);
		berth_reference_free(ref);
	} else {
		FUZZ_CHECK(err && berth_error_message(err));
		berth_error_free(err);
	}
	err = NULL;
	if (bt_platform_parse(text, &plat, &err) < 0)
		berth_error_free(err);
	err = NULL;
	if (bt_store_check_ref_name(text, &err) < 0)
		berth_error_free(err);
	free(text);
	return 0;
}
