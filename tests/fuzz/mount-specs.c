/* -v, --mount and --tmpfs specs as users type them, and the Volumes of an
 * image's config, parsed and checked as create does (nothing is made).
 * Input: lines "v SPEC", "mount SPEC", "tmpfs SPEC", a blank line, then
 * the image config. */
#include "fuzz.h"
#include "container-internal.h"

#define MAX_LIST 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_container_create_opts o = BERTH_CONTAINER_CREATE_OPTS_INIT;
	const char *v[MAX_LIST + 1] = { 0 }, *m[MAX_LIST + 1] = { 0 }, *t[MAX_LIST + 1] = { 0 };
	size_t nv = 0, nm = 0, nt = 0;
	char *text = fuzz_string(data, size), *pos = text, *config = NULL, *line;
	json_t *image = NULL;
	berth_error *err = NULL;

	while ((line = fuzz_line(&pos, &config))) {
		if (!strncmp(line, "v ", 2) && nv < MAX_LIST)
			v[nv++] = line + 2;
		else if (!strncmp(line, "mount ", 6) && nm < MAX_LIST)
			m[nm++] = line + 6;
		else if (!strncmp(line, "tmpfs ", 6) && nt < MAX_LIST)
			t[nt++] = line + 6;
	}
	o.volumes = nv ? v : NULL;
	o.mounts = nm ? m : NULL;
	o.tmpfs = nt ? t : NULL;
	if (config)
		image = json_loads(config, JSON_DECODE_ANY, NULL);
	if (bt_ct_mounts_check(&o, image, &err) < 0) {
		FUZZ_CHECK(err);
		berth_error_free(err);
	}
	json_decref(image);
	free(text);
	return 0;
}
