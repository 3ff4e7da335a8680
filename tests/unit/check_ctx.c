/* lib/common/ctx.c, log.c, info.c, version.c: contexts and what they tell. */
#include "unit.h"

#include <stddef.h>
#include <unistd.h>

#include <berth/version.h>

struct log_seen {
	int lines;
	char last[512];
	char module[32];
	berth_log_level level;
};

static void collect(berth_log_level level, const char *module, const char *message, void *userdata)
{
	struct log_seen *seen = userdata;

	seen->lines++;
	seen->level = level;
	snprintf(seen->last, sizeof(seen->last), "%s", message);
	snprintf(seen->module, sizeof(seen->module), "%s", module);
}

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

START_TEST(logs_go_to_the_callback_by_level)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	struct log_seen seen = { 0 };
	berth_error *err = NULL;
	berth_ctx *ctx;

	opts.root = "/tmp/berth-unit-log";
	opts.log = collect;
	opts.log_userdata = &seen;
	ck_assert_ok(berth_ctx_new(&ctx, &opts, &err), err);
	ck_assert_int_eq(seen.lines, 0); /* the creation line is debug; level is warn */
	bt_log_warn(ctx, "image", "layer %d slow", 3);
	ck_assert_int_eq(seen.lines, 1);
	ck_assert_str_eq(seen.last, "layer 3 slow");
	ck_assert_str_eq(seen.module, "image");
	bt_log_info(ctx, "image", "not shown");
	ck_assert_int_eq(seen.lines, 1);
	berth_ctx_free(ctx);

	opts.log_level = BERTH_LOG_DEBUG;
	ck_assert_ok(berth_ctx_new(&ctx, &opts, &err), err);
	ck_assert_int_eq(seen.lines, 2);
	ck_assert_int_eq(seen.level, BERTH_LOG_DEBUG);
	ck_assert_str_eq(seen.last, "context: root /tmp/berth-unit-log, runroot /run/berth");
	berth_ctx_free(ctx);
}
END_TEST

START_TEST(log_levels_parse_and_print)
{
	berth_error *err = NULL;
	berth_log_level level;

	ck_assert_ok(berth_log_level_parse("DEBUG", &level, &err), err);
	ck_assert_int_eq(level, BERTH_LOG_DEBUG);
	ck_assert_ok(berth_log_level_parse("warning", &level, &err), err);
	ck_assert_int_eq(level, BERTH_LOG_WARN);
	ck_assert_fails(berth_log_level_parse("loud", &level, &err), err, BERTH_EINVAL, "\"loud\"");
	ck_assert_str_eq(berth_log_level_name(BERTH_LOG_INFO), "info");
}
END_TEST

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

START_TEST(features_and_info)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_info *info;
	berth_ctx *ctx;
	static const char *const keys[] = { "version", "root", "runroot", "kernel", "namespaces",
					    "overlayfs", "cgroup.mode", "cgroup.v1.controllers",
					    "cgroup.v2.controllers", "seccomp", "features" };

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

Suite *make_suite(void)
{
	Suite *s = suite_create("ctx");
	TCase *tc = tcase_create("ctx");

	tcase_add_test(tc, given_dirs_are_kept_without_trailing_slashes);
	tcase_add_test(tc, defaults_follow_the_user);
	tcase_add_test(tc, bad_options_are_refused);
	tcase_add_test(tc, older_options_struct_works);
	tcase_add_test(tc, logs_go_to_the_callback_by_level);
	tcase_add_test(tc, log_levels_parse_and_print);
	tcase_add_test(tc, version_matches_the_headers);
	tcase_add_test(tc, features_and_info);
	suite_add_tcase(s, tc);
	return s;
}
