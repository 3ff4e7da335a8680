/* lib/common/log.c: log lines reach the context's callback by level. */
#include "unit.h"

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

Suite *make_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, logs_go_to_the_callback_by_level);
	tcase_add_test(tc, log_levels_parse_and_print);
	suite_add_tcase(s, tc);
	return s;
}
