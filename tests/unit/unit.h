/* Shared helpers for the Check unit suites. Each suite file defines
 * make_suite() and includes this header once. */
#ifndef BERTH_UNIT_H
#define BERTH_UNIT_H

#include "internal.h" /* first: config.h sets _GNU_SOURCE */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fails the test with the library's message when rc is not 0. */
#define ck_assert_ok(rc, err)                                                               \
	do {                                                                                 \
		int rc_ = (rc);                                                              \
		ck_assert_msg(rc_ == 0, "expected success, got %d: %s", rc_,                 \
			      berth_error_message(err));                                     \
	} while (0)

/* Expects code and a message containing `part`; frees the error. */
#define ck_assert_fails(rc, err, code, part)                                                \
	do {                                                                                 \
		int rc_ = (rc);                                                              \
		ck_assert_int_eq(rc_, (code));                                               \
		ck_assert_ptr_nonnull(err);                                                  \
		ck_assert_int_eq(berth_error_code(err), (code));                             \
		ck_assert_msg(strstr(berth_error_message(err), (part)) != NULL,             \
			      "message \"%s\" lacks \"%s\"", berth_error_message(err), (part)); \
		berth_error_free(err);                                                       \
		(err) = NULL;                                                                \
	} while (0)

/* A fresh temporary directory for one test, removed by unit_tmpdir_free. */
static inline char *unit_tmpdir(void)
{
	char *dir = strdup("/tmp/berth-unit-XXXXXX");
	ck_assert_ptr_nonnull(dir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static inline void unit_tmpdir_free(char *dir)
{
	ck_assert_int_eq(bt_rm_rf(dir, NULL), 0);
	free(dir);
}

static inline char *unit_path(const char *dir, const char *name)
{
	char *p = bt_strdup_printf("%s/%s", dir, name);
	ck_assert_ptr_nonnull(p);
	return p;
}

#ifndef UNIT_NO_MAIN /* the fuzz target of cgroup resources borrows the helpers only */
Suite *make_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(make_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif

#endif
