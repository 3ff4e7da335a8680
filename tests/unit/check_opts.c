/* lib/common/opts.c: options structs from older and newer callers. */
#include "unit.h"

#include <stddef.h>

/* Version 2 of an imaginary options struct; version 1 ended before `b`. */
struct opts_v2 {
	size_t size;
	int a;
	int b;
};

struct opts_v3 {
	size_t size;
	int a;
	int b;
	int c; /* a field this library does not know */
};

START_TEST(older_caller_keeps_defaults_for_new_fields)
{
	struct opts_v2 dst = { sizeof(dst), 1, 2 }, src = { offsetof(struct opts_v2, b), 10, 99 };
	berth_error *err = NULL;

	ck_assert_ok(bt_opts_copy(&dst, sizeof(dst), &src, "opts", &err), err);
	ck_assert_int_eq(dst.a, 10);
	ck_assert_int_eq(dst.b, 2); /* beyond the caller's size: the default */
	ck_assert_uint_eq(dst.size, sizeof(dst));
}
END_TEST

START_TEST(newer_caller_with_zero_tail_is_accepted)
{
	struct opts_v2 dst = { sizeof(dst), 1, 2 };
	struct opts_v3 src;
	berth_error *err = NULL;

	memset(&src, 0, sizeof(src)); /* padding too: the tail is checked byte by byte */
	src.size = sizeof(src);
	src.a = 10;
	src.b = 20;

	ck_assert_ok(bt_opts_copy(&dst, sizeof(dst), &src, "opts", &err), err);
	ck_assert_int_eq(dst.a, 10);
	ck_assert_int_eq(dst.b, 20);
	src.c = 1;
	ck_assert_fails(bt_opts_copy(&dst, sizeof(dst), &src, "berth_pull_opts", &err), err,
			BERTH_EUNSUPPORTED, "berth_pull_opts: this libberth knows");
}
END_TEST

START_TEST(null_means_defaults_and_zero_size_is_refused)
{
	struct opts_v2 dst = { sizeof(dst), 1, 2 }, src = { 0, 5, 5 };
	berth_error *err = NULL;

	ck_assert_ok(bt_opts_copy(&dst, sizeof(dst), NULL, "opts", &err), err);
	ck_assert_int_eq(dst.a, 1);
	ck_assert_fails(bt_opts_copy(&dst, sizeof(dst), &src, "berth_ctx_opts", &err), err,
			BERTH_EINVAL, "INIT macro");
	ck_assert_int_eq(dst.a, 1);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("opts");
	TCase *tc = tcase_create("opts");

	tcase_add_test(tc, older_caller_keeps_defaults_for_new_fields);
	tcase_add_test(tc, newer_caller_with_zero_tail_is_accepted);
	tcase_add_test(tc, null_means_defaults_and_zero_size_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
