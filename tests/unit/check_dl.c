/* lib/common/dl.c: libraries opened on first use, with clear errors. */
#include "unit.h"

static double (*my_cos)(double);
static void *my_missing;

START_TEST(loads_once_and_finds_symbols)
{
	static const bt_dl_sym syms[] = { { "cos", (void **)&my_cos }, { NULL, NULL } };
	static bt_dl_lib lib = BT_DL_LIB("libm.so.6", syms);
	berth_error *err = NULL;

	ck_assert_ok(bt_dl_load(&lib, &err), err);
	ck_assert(my_cos(0.0) == 1.0);
	ck_assert_ok(bt_dl_load(&lib, &err), err); /* again: nothing to do */
}
END_TEST

START_TEST(missing_library_and_symbol_are_named)
{
	static const bt_dl_sym none[] = { { NULL, NULL } };
	static const bt_dl_sym syms[] = { { "berth_no_such_function", &my_missing }, { NULL, NULL } };
	static bt_dl_lib absent = BT_DL_LIB("libberth-nonexistent.so.9", none);
	static bt_dl_lib incomplete = BT_DL_LIB("libm.so.6", syms);
	berth_error *err = NULL;

	ck_assert_fails(bt_dl_load(&absent, &err), err, BERTH_EUNSUPPORTED,
			"loading libberth-nonexistent.so.9");
	/* the failure is remembered, and said again */
	ck_assert_fails(bt_dl_load(&absent, &err), err, BERTH_EUNSUPPORTED, "libberth-nonexistent.so.9");
	ck_assert_fails(bt_dl_load(&incomplete, &err), err, BERTH_EUNSUPPORTED,
			"libm.so.6 has no symbol berth_no_such_function");
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("dl");
	TCase *tc = tcase_create("dl");

	tcase_add_test(tc, loads_once_and_finds_symbols);
	tcase_add_test(tc, missing_library_and_symbol_are_named);
	suite_add_tcase(s, tc);
	return s;
}
