/* WWW-Authenticate header values from registries, and the base64 of
 * credentials they and auth files carry. */
#include "fuzz.h"
#include "image-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *plain = NULL;
	bt_auth_challenge c;
	berth_error *err = NULL;
	size_t len = 0;

	memset(&c, 0, sizeof(c));
	if (bt_auth_challenge_parse(text, &c, &err) == 0) {
		FUZZ_CHECK(c.scheme[0]);
		bt_auth_challenge_clear(&c);
	} else {
		FUZZ_CHECK(err);
		berth_error_free(err);
	}
	if (bt_base64_decode(text, &plain, &len) == 0) {
		/* decoding what we encode gives the same bytes back */
		char *again = bt_base64_encode(plain, len), *back = NULL;
		size_t blen = 0;

		FUZZ_CHECK(again && bt_base64_decode(again, &back, &blen) == 0);
		FUZZ_CHECK(blen == len && !memcmp(back, plain, len));
		free(again);
		free(back);
		free(plain);
	}
	free(text);
	return 0;
}
