/* lib/common/ctx.c: contexts, their directories and options. */
#include "unit.h"

#include <stddef.h>
#include <unistd.h>

#include <berth/version.h>

START_TEST(given_dirs_are_kept_without_trailing_slashes)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx;

	opts.root = "/tmp/berth-unit-root//";
	opts.runroot = "/tmp/berth-unit-run";
	ck_assert_ok(berth_ctx_new(&ctx, &opts, &err), err);
	ck_assert_str_eq(berth_ctx_root(ctx), "/tmp/berth-unit-root");
	ck_assert_str_eq(berth_ctx_runroot(ctx), "/tmp/berth-unit-run");
	ck_assert_int_eq(berth_ctx_log_level(ctx), BERTH_LOG_WARN);
	/* creating a context creates nothing on disk */
	ck_assert_int_eq(access("/tmp/berth-unit-root", F_OK), -1);
	berth_ctx_free(ctx);
}
END_TEST

START_TEST(defaults_follow_the_user)
{
	berth_error *err = NULL;
	berth_ctx *ctx;

	ck_assert_ok(berth_ctx_new(&ctx, NULL, &err), err);
	if (geteuid() == 0) {
		ck_assert_str_eq(berth_ctx_root(ctx), "/var/lib/berth");
		ck_assert_str_eq(berth_ctx_runroot(ctx), "/run/berth");
	} else {
		ck_assert(strstr(berth_ctx_root(ctx), "/berth") != NULL);
	}
	berth_ctx_free(ctx);
	berth_ctx_free(NULL);
}
END_TEST

START_TEST(bad_options_are_refused)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx = (berth_ctx *)&opts;

	opts.root = "relative/store";
	ck_assert_fails(berth_ctx_new(&ctx, &opts, &err), err, BERTH_EINVAL,
			"store root \"relative/store\": must be an absolute path");
	ck_assert_ptr_null(ctx);
	opts.root = NULL;
	opts.runroot = "run";
	ck_assert_fails(berth_ctx_new(&ctx, &opts, &err), err, BERTH_EINVAL, "run root");
	opts.runroot = NULL;
	opts.log_level = (berth_log_level)9;
	ck_assert_fails(berth_ctx_new(&ctx, &opts, &err), err, BERTH_EINVAL, "log level 9");
}
END_TEST

/* A caller compiled against a version whose options ended before `log`. */
START_TEST(older_options_struct_works)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx;

	opts.size = offsetof(berth_ctx_opts, log);
	opts.root = "/tmp/berth-unit-old";
	opts.log_level = BERTH_LOG_DEBUG; /* beyond the old size: ignored */
	ck_assert_ok(berth_ctx_new(&ctx, &opts, &err), err);
	ck_assert_str_eq(berth_ctx_root(ctx), "/tmp/berth-unit-old");
	ck_assert_int_eq(berth_ctx_log_level(ctx), BERTH_LOG_WARN);
	berth_ctx_free(ctx);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("ctx");
	TCase *tc = tcase_create("ctx");

	tcase_add_test(tc, given_dirs_are_kept_without_trailing_slashes);
	tcase_add_test(tc, defaults_follow_the_user);
	tcase_add_test(tc, bad_options_are_refused);
	tcase_add_test(tc, older_options_struct_works);
	suite_add_tcase(s, tc);
	return s;
}
