/* lib/common/info.c and version.c features: what berth info shows. */
#include "unit.h"

#include <berth/version.h>

START_TEST(features_and_info)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_info *info;
	berth_ctx *ctx;
	static const char *const keys[] = { "version", "root", "runroot", "kernel", "namespaces",
					    "overlayfs", "cgroup.mode", "cgroup.v1.controllers",
					    "cgroup.v2.controllers", "seccomp", "features",
					    "inflate.gzip" };

	ck_assert_int_eq(berth_has_feature("digest"), 1);
	ck_assert_int_eq(berth_has_feature("teleport"), 0);
	ck_assert_int_eq(berth_has_feature(NULL), 0);
	ck_assert_str_eq(berth_feature_names()[0], "seccomp");
	opts.root = "/tmp/berth-unit-info";
	ck_assert_ok(berth_ctx_new(&ctx, &opts, &err), err);
	ck_assert_ok(berth_info_new(ctx, &info, &err), err);
	ck_assert_uint_eq(berth_info_count(info), BT_ARRAY_SIZE(keys));
	for (size_t i = 0; i < BT_ARRAY_SIZE(keys); i++) {
		ck_assert_str_eq(berth_info_key(info, i), keys[i]);
		ck_assert_ptr_nonnull(berth_info_value(info, i));
	}
	ck_assert_ptr_null(berth_info_key(info, BT_ARRAY_SIZE(keys)));
	ck_assert_str_eq(berth_info_lookup(info, "root"), "/tmp/berth-unit-info");
	ck_assert_str_eq(berth_info_lookup(info, "version"), BERTH_VERSION_STRING);
	ck_assert(strstr(berth_info_lookup(info, "namespaces"), "pid") != NULL);
	ck_assert(strstr(berth_info_lookup(info, "features"), "digest") != NULL);
	ck_assert_ptr_null(berth_info_lookup(info, "nope"));
	berth_info_free(info);
	berth_ctx_free(ctx);
}
END_TEST

/* The gzip inflater: ISA-L in a build that has it (libisal2 is installed
 * wherever the tests run), zlib when BERTH_INFLATE says so; info agrees. */
START_TEST(gzip_inflater)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_info *info;
	berth_ctx *ctx;

	opts.root = "/tmp/berth-unit-info";
	ck_assert_ok(berth_ctx_new(&ctx, &opts, &err), err);
	unsetenv("BERTH_INFLATE");
#if BERTH_HAVE_ISAL
	ck_assert_int_eq(berth_has_feature("isal"), 1);
	ck_assert_str_eq(bt_gunzip_engine(), "isa-l");
#else
	ck_assert_int_eq(berth_has_feature("isal"), 0);
	ck_assert_str_eq(bt_gunzip_engine(), "zlib");
#endif
	ck_assert_ok(berth_info_new(ctx, &info, &err), err);
	ck_assert_str_eq(berth_info_lookup(info, "inflate.gzip"), bt_gunzip_engine());
	ck_assert_int_eq(strstr(berth_info_lookup(info, "features"), "isal") != NULL,
			 berth_has_feature("isal"));
	berth_info_free(info);
	setenv("BERTH_INFLATE", "zlib", 1);
	ck_assert_int_eq(berth_has_feature("isal"), 0);
	ck_assert_ok(berth_info_new(ctx, &info, &err), err);
	ck_assert_str_eq(berth_info_lookup(info, "inflate.gzip"), "zlib");
	berth_info_free(info);
	setenv("BERTH_INFLATE", "pigz", 1);
	ck_assert_ptr_null(bt_gunzip_engine());
	unsetenv("BERTH_INFLATE");
	berth_ctx_free(ctx);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("info");
	TCase *tc = tcase_create("info");

	tcase_add_test(tc, features_and_info);
	tcase_add_test(tc, gzip_inflater);
	suite_add_tcase(s, tc);
	return s;
}
