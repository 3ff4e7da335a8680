/* lib/common/error.c: codes, errno, and chains of context. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>

START_TEST(set_keeps_code_errno_and_message)
{
	berth_error *err = NULL;

	ck_assert_int_eq(bt_error_set(&err, BERTH_EINVAL, 0, "field %s: bad", "x"), BERTH_EINVAL);
	ck_assert_int_eq(berth_error_code(err), BERTH_EINVAL);
	ck_assert_int_eq(berth_error_errno(err), 0);
	ck_assert_str_eq(berth_error_message(err), "field x: bad");
	ck_assert_ptr_null(berth_error_cause(err));
	berth_error_free(err);
}
END_TEST

START_TEST(null_err_only_returns_the_code)
{
	ck_assert_int_eq(bt_error_set(NULL, BERTH_ENOTFOUND, 0, "x"), BERTH_ENOTFOUND);
	ck_assert_int_eq(bt_error_wrap(NULL, BERTH_ENOTFOUND, "y"), BERTH_ENOTFOUND);
	errno = EACCES;
	ck_assert_int_eq(bt_error_os(NULL, "z"), BERTH_EPERM);
	ck_assert_str_eq(berth_error_message(NULL), "no error");
	ck_assert_int_eq(berth_error_code(NULL), BERTH_OK);
	berth_error_free(NULL);
}
END_TEST

START_TEST(os_error_maps_errno)
{
	berth_error *err = NULL;

	ck_assert_int_lt(open("/nonexistent/berth-unit", O_RDONLY), 0);
	ck_assert_int_eq(bt_error_os(&err, "opening %s", "/nonexistent/berth-unit"), BERTH_ENOTFOUND);
	ck_assert_int_eq(berth_error_errno(err), ENOENT);
	ck_assert_str_eq(berth_error_message(err),
			 "opening /nonexistent/berth-unit: No such file or directory");
	berth_error_free(err);
	ck_assert_int_eq(bt_error_code_from_errno(EEXIST), BERTH_EEXISTS);
	ck_assert_int_eq(bt_error_code_from_errno(EBUSY), BERTH_EBUSY);
	ck_assert_int_eq(bt_error_code_from_errno(EIO), BERTH_EOS);
	ck_assert_int_eq(bt_error_code_from_errno(EXDEV), BERTH_ESCAPE);
}
END_TEST

START_TEST(wrap_builds_a_chain_outermost_first)
{
	berth_error *err = NULL;
	const berth_error *cause;

	errno = ECONNREFUSED;
	bt_error_os(&err, "connecting to 127.0.0.1:5000");
	ck_assert_int_eq(bt_error_wrap(&err, BERTH_EOS, "fetching layer %s", "sha256:ab12"), BERTH_EOS);
	ck_assert_int_eq(bt_error_wrap(&err, BERTH_EOS, "pulling %s", "busybox"), BERTH_EOS);
	ck_assert_str_eq(berth_error_message(err),
			 "pulling busybox: fetching layer sha256:ab12: connecting to 127.0.0.1:5000: "
			 "Connection refused");
	/* the errno of the root cause shows through every link, the code is
	 * the one the outermost wrap returned */
	ck_assert_int_eq(berth_error_errno(err), ECONNREFUSED);
	ck_assert_int_eq(berth_error_code(err), BERTH_EOS);
	cause = berth_error_cause(err);
	ck_assert_str_eq(berth_error_message(cause),
			 "fetching layer sha256:ab12: connecting to 127.0.0.1:5000: Connection refused");
	cause = berth_error_cause(berth_error_cause(cause));
	ck_assert_ptr_null(cause);
	berth_error_free(err);
}
END_TEST

/* issue 19: "removing image x: no image \"x\"" said the name twice */
START_TEST(wrap_does_not_repeat_what_the_cause_names)
{
	berth_error *err = NULL;

	bt_error_set(&err, BERTH_ENOTFOUND, 0, "no image \"x\" in /s/content");
	bt_error_wrap(&err, BERTH_ENOTFOUND, "removing image %s", "x");
	ck_assert_str_eq(berth_error_message(err), "removing image: no image \"x\" in /s/content");
	berth_error_free(err);
	err = NULL;
	bt_error_set(&err, BERTH_EOS, 0, "writing blob sha256:ab to /s/.tmp-1: No space left on device");
	bt_error_wrap(&err, BERTH_EOS, "fetching layer %s", "sha256:ab");
	bt_error_wrap(&err, BERTH_EOS, "pulling %s", "r/x:latest");
	ck_assert_str_eq(berth_error_message(err),
			 "pulling r/x:latest: fetching layer: writing blob sha256:ab to /s/.tmp-1: No space left on device");
	berth_error_free(err);
	err = NULL;
	/* plain words stay, even when the cause uses them */
	bt_error_set(&err, BERTH_EOS, 0, "image store busy");
	bt_error_wrap(&err, BERTH_EOS, "locking the image store");
	ck_assert_str_eq(berth_error_message(err), "locking the image store: image store busy");
	berth_error_free(err);
	err = NULL;
	/* a context that was all names leaves the cause alone */
	bt_error_set(&err, BERTH_EOS, 0, "layer sha256:ab: bad");
	bt_error_wrap(&err, BERTH_EOS, "%s", "sha256:ab");
	ck_assert_str_eq(berth_error_message(err), "layer sha256:ab: bad");
	berth_error_free(err);
}
END_TEST

START_TEST(wrap_without_a_cause_names_the_code)
{
	berth_error *err = NULL;

	bt_error_wrap(&err, BERTH_EBUSY, "locking the store");
	ck_assert_str_eq(berth_error_message(err), "locking the store: busy");
	ck_assert_int_eq(berth_error_code(err), BERTH_EBUSY);
	berth_error_free(err);
}
END_TEST

/* What a call returns is what its error says: a caller that names another
 * code than its callee's (a malformed 401 challenge is EINVAL to the parser,
 * EAUTH to the pull) changes the outer link's code; the cause keeps its own. */
START_TEST(wrap_code_is_the_returned_code)
{
	berth_error *err = NULL;
	int rc;

	bt_error_set(&err, BERTH_EINVAL, 0, "parsing WWW-Authenticate");
	rc = bt_error_wrap(&err, BERTH_EAUTH, "GET %s: registry answered 401", "/v2/");
	ck_assert_int_eq(rc, BERTH_EAUTH);
	ck_assert_int_eq(berth_error_code(err), rc);
	ck_assert_int_eq(berth_error_code(berth_error_cause(err)), BERTH_EINVAL);
	rc = bt_error_wrap(&err, BERTH_ENETWORK, "pulling %s", "busybox");
	ck_assert_int_eq(berth_error_code(err), rc);
	ck_assert_int_eq(rc, BERTH_ENETWORK);
	/* a stray 0 is no success once an error is set */
	rc = bt_error_wrap(&err, 0, "caller");
	ck_assert_int_eq(rc, BERTH_ENETWORK);
	ck_assert_int_eq(berth_error_code(err), rc);
	berth_error_free(err);
	err = NULL;
	ck_assert_int_eq(bt_error_wrap(&err, 0, "nothing said"), BERTH_ERROR);
	ck_assert_int_eq(berth_error_code(err), BERTH_ERROR);
	berth_error_free(err);
}
END_TEST

START_TEST(set_replaces_an_earlier_error)
{
	berth_error *err = NULL;

	bt_error_set(&err, BERTH_EINVAL, 0, "first");
	bt_error_set(&err, BERTH_ENOTFOUND, 0, "second");
	ck_assert_str_eq(berth_error_message(err), "second");
	berth_error_free(err);
}
END_TEST

START_TEST(code_names_are_stable)
{
	ck_assert_str_eq(berth_error_code_name(BERTH_EINVAL), "EINVAL");
	ck_assert_str_eq(berth_error_code_name(BERTH_ESCAPE), "ESCAPE");
	ck_assert_str_eq(berth_error_code_name(12345), "EUNKNOWN");
	ck_assert_str_eq(berth_strerror(BERTH_ENOTFOUND), "not found");
	ck_assert_str_eq(berth_strerror(-999), "unknown error");
	for (int code = BERTH_OK; code >= BERTH_ETIMEOUT; code--)
		ck_assert_str_ne(berth_error_code_name(code), "EUNKNOWN");
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("error");

	tcase_add_test(tc, set_keeps_code_errno_and_message);
	tcase_add_test(tc, null_err_only_returns_the_code);
	tcase_add_test(tc, os_error_maps_errno);
	tcase_add_test(tc, wrap_builds_a_chain_outermost_first);
	tcase_add_test(tc, wrap_does_not_repeat_what_the_cause_names);
	tcase_add_test(tc, wrap_without_a_cause_names_the_code);
	tcase_add_test(tc, wrap_code_is_the_returned_code);
	tcase_add_test(tc, set_replaces_an_earlier_error);
	tcase_add_test(tc, code_names_are_stable);
	suite_add_tcase(s, tc);
	return s;
}
