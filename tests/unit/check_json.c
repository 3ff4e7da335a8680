/* lib/common/json.c: located parse errors and typed members named by path. */
#include "unit.h"

START_TEST(parse_reports_line_and_column)
{
	berth_error *err = NULL;
	json_t *j;

	ck_assert_ok(bt_json_parse("{\"a\": [1, 2]}", 13, "config.json", &j, &err), err);
	ck_assert_int_eq(json_array_size(json_object_get(j, "a")), 2);
	json_decref(j);
	ck_assert_fails(bt_json_parse("{\"a\":\n  [1, }", 13, "config.json", &j, &err), err,
			BERTH_EINVAL, "config.json: malformed JSON at line 2 column");
	ck_assert_ptr_null(j);
	ck_assert_fails(bt_json_parse("{} trailing", 11, "manifest", &j, &err), err, BERTH_EINVAL,
			"manifest: malformed JSON");
}
END_TEST

START_TEST(load_file_is_bounded_and_write_is_atomic)
{
	char *dir = unit_tmpdir(), *file = unit_path(dir, "state.json");
	berth_error *err = NULL;
	json_t *j = json_pack("{s:s, s:i}", "id", "abc", "pid", 42), *back;

	ck_assert_ok(bt_json_write_atomic(file, j, &err), err);
	ck_assert_ok(bt_json_load_file(file, 1024, &back, &err), err);
	ck_assert(json_equal(j, back));
	json_decref(back);
	ck_assert_fails(bt_json_load_file(file, 8, &back, &err), err, BERTH_EINVAL, "more than the 8");
	json_decref(j);
	free(file);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(members_are_checked_and_errors_name_the_path)
{
	berth_error *err = NULL;
	json_t *doc = json_loads("{\"type\": 5, \"path\": \"/x\", \"ro\": true, \"n\": 7, \"nul\": null}", 0, NULL);
	const char *s = NULL;
	long long n = 0;
	bool b = false;
	json_t *v;

	ck_assert_ok(bt_json_string(doc, "linux.namespaces[2]", "path", true, &s, &err), err);
	ck_assert_str_eq(s, "/x");
	ck_assert_ok(bt_json_int(doc, "", "n", true, &n, &err), err);
	ck_assert_int_eq(n, 7);
	ck_assert_ok(bt_json_bool(doc, "", "ro", true, &b, &err), err);
	ck_assert(b);
	ck_assert_fails(bt_json_string(doc, "linux.namespaces[2]", "type", true, &s, &err), err,
			BERTH_EINVAL, "linux.namespaces[2].type: expected a string, got integer");
	ck_assert_fails(bt_json_string(doc, "process", "cwd", true, &s, &err), err, BERTH_EINVAL,
			"process.cwd: missing");
	ck_assert_fails(bt_json_int(doc, "", "path", true, &n, &err), err, BERTH_EINVAL,
			"path: expected an integer, got string");
	/* optional and absent (or null): no error, nothing found */
	ck_assert_ok(bt_json_member(doc, "", "absent", JSON_STRING, false, &v, &err), err);
	ck_assert_ptr_null(v);
	ck_assert_ok(bt_json_member(doc, "", "nul", JSON_STRING, false, &v, &err), err);
	ck_assert_ptr_null(v);
	ck_assert_fails(bt_json_member(json_object_get(doc, "n"), "root", "x", JSON_STRING, false, &v, &err),
			err, BERTH_EINVAL, "root: expected an object, got integer");
	json_decref(doc);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, parse_reports_line_and_column);
	tcase_add_test(tc, load_file_is_bounded_and_write_is_atomic);
	tcase_add_test(tc, members_are_checked_and_errors_name_the_path);
	suite_add_tcase(s, tc);
	return s;
}
