/* Seccomp profiles a user names (--security-opt seccomp=FILE): Docker's
 * format or an OCI linux.seccomp object, filtered for the container's
 * capabilities and compiled to BPF as create does. */
#include "fuzz.h"
#include "container-internal.h"
#include "runtime-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *path;
	static json_t *caps[2];
	berth_container_create_opts o = BERTH_CONTAINER_CREATE_OPTS_INIT;
	berth_error *err = NULL;

	if (!path) {
		path = bt_strdup_printf("%s/profile.json", fuzz_tmpdir());
		/* Docker's default set, and one with the admin capabilities */
		caps[0] = json_pack("[s,s,s,s,s]", "CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_BIND_SERVICE",
				    "CAP_SYS_CHROOT");
		caps[1] = json_pack("[s,s,s]", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_BPF");
		if (!path || !caps[0] || !caps[1])
			abort();
	}
	fuzz_write_file(fuzz_tmpdir(), "profile.json", data, size);
	o.seccomp = path;
	for (int i = 0; i < 2; i++) {
		json_t *sc = NULL;
		bt_rt_seccomp bpf = { 0 };

		if (bt_ct_seccomp(&o, caps[i], &sc, &err) < 0) {
			FUZZ_CHECK(err && !sc);
			berth_error_free(err);
			err = NULL;
			continue;
		}
		if (sc && bt_rt_seccomp_compile(sc, &bpf, &err) < 0) {
			FUZZ_CHECK(err);
			berth_error_free(err);
			err = NULL;
		}
		free(bpf.bpf);
		json_decref(sc);
	}
	return 0;
}
