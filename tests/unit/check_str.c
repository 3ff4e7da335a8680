/* lib/common/str.c: printf into new strings, string vectors, growing arrays. */
#include "unit.h"

#include "internal.h"

#include <stdint.h>
#include <stdlib.h>

START_TEST(grow_doubles_from_first_and_keeps_what_fits)
{
	size_t cap = 0;
	int *v = bt_grow(NULL, 0, &cap, sizeof(int), 4), *w;

	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(cap, 4);
	for (int i = 0; i < 4; i++)
		v[i] = i;
	ck_assert_ptr_eq(bt_grow(v, 3, &cap, sizeof(int), 4), v); /* room left: unchanged */
	ck_assert_uint_eq(cap, 4);
	w = bt_grow(v, 4, &cap, sizeof(int), 4);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(cap, 8);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(w[i], i); /* moved with its contents */
	free(w);
}
END_TEST

START_TEST(grow_refuses_a_size_that_overflows)
{
	size_t cap = SIZE_MAX / 2 + 1;
	char c;

	/* doubling would wrap: NULL, the array and cap as they were */
	ck_assert_ptr_null(bt_grow(&c, cap, &cap, 1, 16));
	ck_assert_uint_eq(cap, SIZE_MAX / 2 + 1);
	cap = 4;
	ck_assert_ptr_null(bt_grow(&c, 4, &cap, SIZE_MAX / 4, 16));
	ck_assert_uint_eq(cap, 4);
}
END_TEST

START_TEST(strv_takes_strings_over)
{
	struct bt_strv sv = { 0 };

	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(bt_strv_add(&sv, bt_strdup_printf("s%d", i)), 0);
	ck_assert_int_eq(bt_strv_add(&sv, NULL), -1); /* a failed strdup passed in */
	ck_assert_uint_eq(sv.n, 100);
	ck_assert_str_eq(sv.v[99], "s99");
	bt_strv_free(sv.v, sv.n);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("str");
	TCase *tc = tcase_create("str");

	tcase_add_test(tc, grow_doubles_from_first_and_keeps_what_fits);
	tcase_add_test(tc, grow_refuses_a_size_that_overflows);
	tcase_add_test(tc, strv_takes_strings_over);
	suite_add_tcase(s, tc);
	return s;
}
