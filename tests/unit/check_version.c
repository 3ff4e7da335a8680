/* lib/common/version.c: the loaded library against the headers. */
#include "unit.h"

#include <berth/version.h>

START_TEST(version_matches_the_headers)
{
	int major = -1, minor = -1, patch = -1;
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", BERTH_VERSION_MAJOR, BERTH_VERSION_MINOR,
		 BERTH_VERSION_PATCH);
	ck_assert_str_eq(berth_version(&major, &minor, &patch), want);
	ck_assert_str_eq(BERTH_VERSION_STRING, want);
	ck_assert_int_eq(major, BERTH_VERSION_MAJOR);
	ck_assert(BERTH_VERSION_CHECK(0, 0, 1));
	ck_assert(BERTH_VERSION_CHECK(BERTH_VERSION_MAJOR, BERTH_VERSION_MINOR, BERTH_VERSION_PATCH));
	ck_assert(!BERTH_VERSION_CHECK(BERTH_VERSION_MAJOR + 1, 0, 0));
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("version");

	tcase_add_test(tc, version_matches_the_headers);
	suite_add_tcase(s, tc);
	return s;
}
