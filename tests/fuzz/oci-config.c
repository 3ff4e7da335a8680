/* OCI runtime configs (a bundle's config.json): everything create checks
 * and computes in the parent before the fork — the parse with its checks,
 * capabilities, rlimits, hooks, mounts, devices, sysctls, id maps — and the
 * seccomp filter compiled to BPF. */
#include "fuzz.h"
#include "runtime-internal.h"

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *bundle;
	bt_rt_config *cfg = NULL;
	berth_error *err = NULL;
	json_t *config;

	if (!bundle) {
		char *rootfs;

		bundle = bt_strdup_printf("%s/bundle", fuzz_tmpdir());
		rootfs = bt_strdup_printf("%s/rootfs", bundle);
		if (!bundle || !rootfs || mkdir(bundle, 0700) < 0 || mkdir(rootfs, 0755) < 0)
			abort();
		free(rootfs);
	}
	if (bt_json_parse((const char *)data, size, "config.json", &config, &err) < 0) {
		berth_error_free(err);
		return 0;
	}
	if (bt_rt_config_parse(config, bundle, &cfg, &err) == 0) {
		if (cfg->seccomp_json && bt_rt_seccomp_compile(cfg->seccomp_json, &cfg->seccomp, &err) < 0) {
			FUZZ_CHECK(err);
			berth_error_free(err);
		}
		bt_rt_config_free(cfg);
	} else {
		FUZZ_CHECK(err && !cfg);
		berth_error_free(err);
	}
	json_decref(config);
	return 0;
}
