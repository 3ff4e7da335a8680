/* Version and build features. */
#include "internal.h"

#include <string.h>

#include <berth/version.h>

#if BERTH_HAVE_SECCOMP
#include <seccomp.h>
#endif

const char *berth_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = BERTH_VERSION_MAJOR;
	if (minor)
		*minor = BERTH_VERSION_MINOR;
	if (patch)
		*patch = BERTH_VERSION_PATCH;
	return BERTH_VERSION_STRING;
}

static const char *const feature_names[] = { "seccomp", "digest", "isal", NULL };

const char *const *berth_feature_names(void)
{
	return feature_names;
}

static int seccomp_available(void)
{
#if BERTH_HAVE_SECCOMP
	/* the kernel's API level: 0 when it has no usable seccomp filter mode */
	return seccomp_api_get() > 0;
#else
	return 0;
#endif
}

int berth_has_feature(const char *name)
{
	if (!name)
		return 0;
	if (!strcmp(name, "seccomp"))
		return seccomp_available();
	if (!strcmp(name, "digest"))
		return bt_digest_available();
	if (!strcmp(name, "isal")) {
		const char *engine = bt_gunzip_engine();

		return engine && !strcmp(engine, "isa-l");
	}
	return 0;
}
