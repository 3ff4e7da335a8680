/* lib/image/reference.c: image references as Docker users write them. */
#include "unit.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG "sha256:" HEX64

static const struct good {
	const char *text;
	const char *domain, *path, *tag, *digest;
	const char *string, *familiar;
} good[] = {
	{ "busybox", "docker.io", "library/busybox", "latest", NULL,
	  "docker.io/library/busybox:latest", "busybox:latest" },
	{ "library/busybox:1.36", "docker.io", "library/busybox", "1.36", NULL,
	  "docker.io/library/busybox:1.36", "busybox:1.36" },
	{ "docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL,
	  "docker.io/library/busybox:latest", "busybox:latest" },
	{ "index.docker.io/busybox", "docker.io", "library/busybox", "latest", NULL,
	  "docker.io/library/busybox:latest", "busybox:latest" },
	{ "index.docker.io/user/app:1", "docker.io", "user/app", "1", NULL,
	  "docker.io/user/app:1", "user/app:1" },
	{ "user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest",
	  "user/app:latest" },
	{ "docker.io/library/a/b", "docker.io", "library/a/b", "latest", NULL,
	  "docker.io/library/a/b:latest", "library/a/b:latest" },
	{ "127.0.0.1:5000/team/app:v2", "127.0.0.1:5000", "team/app", "v2", NULL,
	  "127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app:v2" },
	{ "localhost/app", "localhost", "app", "latest", NULL, "localhost/app:latest",
	  "localhost/app:latest" },
	{ "localhost:5000/a/b/c:tag", "localhost:5000", "a/b/c", "tag", NULL,
	  "localhost:5000/a/b/c:tag", "localhost:5000/a/b/c:tag" },
	{ "registry.example.com/x", "registry.example.com", "x", "latest", NULL,
	  "registry.example.com/x:latest", "registry.example.com/x:latest" },
	{ "Registry.Example.com/x", "Registry.Example.com", "x", "latest", NULL,
	  "Registry.Example.com/x:latest", "Registry.Example.com/x:latest" },
	{ "[::1]:5000/app", "[::1]:5000", "app", "latest", NULL, "[::1]:5000/app:latest",
	  "[::1]:5000/app:latest" },
	{ "busybox@" DIG, "docker.io", "library/busybox", NULL, DIG,
	  "docker.io/library/busybox@" DIG, "busybox@" DIG },
	{ "busybox:1.36@" DIG, "docker.io", "library/busybox", "1.36", DIG,
	  "docker.io/library/busybox:1.36@" DIG, "busybox:1.36@" DIG },
	{ "localhost:5000/app@" DIG, "localhost:5000", "app", NULL, DIG,
	  "localhost:5000/app@" DIG, "localhost:5000/app@" DIG },
	{ "x/a.b_c__d-e---f", "docker.io", "x/a.b_c__d-e---f", "latest", NULL,
	  "docker.io/x/a.b_c__d-e---f:latest", "x/a.b_c__d-e---f:latest" },
	{ "app:_Tag.-1", "docker.io", "library/app", "_Tag.-1", NULL,
	  "docker.io/library/app:_Tag.-1", "app:_Tag.-1" },
	{ "host-1.example:1/app", "host-1.example:1", "app", "latest", NULL,
	  "host-1.example:1/app:latest", "host-1.example:1/app:latest" },
};

START_TEST(parses_good_references)
{
	const struct good *g = &good[_i];
	berth_reference *ref;
	berth_error *err = NULL;

	ck_assert_ok(berth_reference_parse(g->text, &ref, &err), err);
	ck_assert_str_eq(berth_reference_domain(ref), g->domain);
	ck_assert_str_eq(berth_reference_path(ref), g->path);
	if (g->tag)
		ck_assert_str_eq(berth_reference_tag(ref), g->tag);
	else
		ck_assert_ptr_null(berth_reference_tag(ref));
	if (g->digest)
		ck_assert_str_eq(berth_reference_digest(ref), g->digest);
	else
		ck_assert_ptr_null(berth_reference_digest(ref));
	ck_assert_str_eq(berth_reference_string(ref), g->string);
	ck_assert_str_eq(berth_reference_familiar(ref), g->familiar);
	/* the name is domain/path, and the normalised string parses to itself */
	{
		char *name = bt_strdup_printf("%s/%s", g->domain, g->path);
		berth_reference *again;

		ck_assert_str_eq(berth_reference_name(ref), name);
		free(name);
		ck_assert_ok(berth_reference_parse(g->string, &again, &err), err);
		ck_assert_str_eq(berth_reference_string(again), g->string);
		ck_assert_str_eq(berth_reference_familiar(again), g->familiar);
		berth_reference_free(again);
		ck_assert_ok(berth_reference_parse(g->familiar, &again, &err), err);
		ck_assert_str_eq(berth_reference_string(again), g->string);
		berth_reference_free(again);
	}
	berth_reference_free(ref);
}
END_TEST

START_TEST(familiar_names)
{
	static const char *const pairs[][2] = {
		{ "busybox", "busybox" },
		{ "docker.io/library/busybox:1", "busybox" },
		{ "user/app", "user/app" },
		{ "docker.io/library/a/b", "library/a/b" },
		{ "localhost/library/app", "localhost/library/app" },
		{ "quay.io/x/y@" DIG, "quay.io/x/y" },
		/* without docker.io/ these would name registries a.b and localhost
		 * (found by tests/fuzz/reference) */
		{ "docker.io/a.b/c", "docker.io/a.b/c" },
		{ "docker.io/localhost/c", "docker.io/localhost/c" },
		{ "docker.io/library/a.b", "a.b" },
	};
	berth_error *err = NULL;

	for (size_t i = 0; i < BT_ARRAY_SIZE(pairs); i++) {
		berth_reference *ref;

		ck_assert_ok(berth_reference_parse(pairs[i][0], &ref, &err), err);
		ck_assert_str_eq(berth_reference_familiar_name(ref), pairs[i][1]);
		berth_reference_free(ref);
	}
}
END_TEST

static char long_tag[140], long_name[300], long_path_ref[300];

static const struct bad {
	const char *text;
	int code;
	const char *part;
} bad[] = {
	{ "", BERTH_EINVAL, "empty" },
	{ "Busybox", BERTH_EINVAL, "repository name \"Busybox\" must be lowercase" },
	{ "docker.io/Library/busybox", BERTH_EINVAL, "must be lowercase" },
	{ "localhost:5000/App", BERTH_EINVAL, "must be lowercase" },
	{ "a//b", BERTH_EINVAL, "empty path component" },
	{ "a/", BERTH_EINVAL, "empty path component" },
	{ "/a", BERTH_EINVAL, "empty" },
	{ "localhost/", BERTH_EINVAL, "empty path component" },
	{ ":tag", BERTH_EINVAL, "empty repository name" },
	{ "@" DIG, BERTH_EINVAL, "empty repository name" },
	{ "busybox:", BERTH_EINVAL, "empty tag" },
	{ "busybox:-x", BERTH_EINVAL, "must start with a letter, a digit or '_'" },
	{ "busybox:a+b", BERTH_EINVAL, "character '+' is not allowed" },
	{ long_tag, BERTH_EINVAL, "more than the 128 allowed" },
	{ long_name, BERTH_EINVAL, "more than the 255 allowed" },
	{ long_path_ref, BERTH_EINVAL, "more than the 255 allowed" },
	{ "busybox@sha256:abc", BERTH_EINVAL, "sha256 needs 64 lowercase hex digits" },
	{ "busybox@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	  BERTH_EINVAL, "lowercase hex" },
	{ "busybox@md5:abcd", BERTH_EUNSUPPORTED, "unknown algorithm" },
	{ "busybox@", BERTH_EINVAL, "empty digest" },
	{ "busybox@" DIG "@" DIG, BERTH_EINVAL, "more than one '@'" },
	{ " busybox", BERTH_EINVAL, "contains whitespace" },
	{ "busybox\n", BERTH_EINVAL, "contains whitespace" },
	{ "busy box", BERTH_EINVAL, "contains whitespace" },
	{ "busy\x01x", BERTH_EINVAL, "control or non-ASCII" },
	{ "b\xc3\xa4r", BERTH_EINVAL, "control or non-ASCII" },
	{ "-app", BERTH_EINVAL, "must start and end with a lowercase letter or digit" },
	{ "app-", BERTH_EINVAL, "must start and end" },
	{ "a..b", BERTH_EINVAL, "separator \"..\" is not allowed" },
	{ "a___b", BERTH_EINVAL, "separator \"___\"" },
	{ "a.-b", BERTH_EINVAL, "separator \".-\"" },
	{ "a$b", BERTH_EINVAL, "character '$' is not allowed" },
	{ "exa_mple.com/app", BERTH_EINVAL, "character '_' is not allowed in a host name" },
	{ "-bad.com/app", BERTH_EINVAL, "must start and end with a letter or digit" },
	{ "bad..com/app", BERTH_EINVAL, "empty label" },
	{ "host:port/app", BERTH_EINVAL, "port must be a number" },
	{ "host:99999/app", BERTH_EINVAL, "port out of range" },
	{ "host:/app", BERTH_EINVAL, "port must be a number" },
	{ "[::1/app", BERTH_EINVAL, "IPv6" },
	{ "[zz]:5000/app", BERTH_EINVAL, "malformed IPv6" },
	{ HEX64, BERTH_EINVAL, "image ID" },
};

static void make_long(void)
{
	memset(long_tag, 0, sizeof(long_tag));
	strcpy(long_tag, "busybox:");
	memset(long_tag + 8, 't', 129);
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	/* 250 characters of path: with "docker.io/" in front it is too long */
	memset(long_path_ref, 0, sizeof(long_path_ref));
	for (size_t i = 0; i < 250; i++)
		long_path_ref[i] = i % 2 ? '/' : 'a';
	long_path_ref[249] = 'a';
}

START_TEST(refuses_bad_references)
{
	const struct bad *b = &bad[_i];
	berth_reference *ref = (berth_reference *)&ref;
	berth_error *err = NULL;

	make_long();
	ck_assert_fails(berth_reference_parse(b->text, &ref, &err), err, b->code, b->part);
	ck_assert_ptr_null(ref);
}
END_TEST

START_TEST(errors_name_the_input)
{
	berth_reference *ref;
	berth_error *err = NULL;

	ck_assert_fails(berth_reference_parse("Foo:bar", &ref, &err), err, BERTH_EINVAL,
			"image reference \"Foo:bar\": repository name");
	/* unprintable bytes are escaped in the message */
	ck_assert_fails(berth_reference_parse("a\nb", &ref, &err), err, BERTH_EINVAL,
			"image reference \"a\\x0ab\"");
	ck_assert_fails(berth_reference_parse(NULL, &ref, &err), err, BERTH_EINVAL, "NULL");
	/* a NULL err is allowed */
	ck_assert_int_eq(berth_reference_parse("Foo", &ref, NULL), BERTH_EINVAL);
	berth_reference_free(NULL);
}
END_TEST

/* The longest name allowed (255) parses. */
START_TEST(name_length_limit)
{
	char text[256 + 1];
	berth_reference *ref;
	berth_error *err = NULL;

	/* "docker.io/" (10) + "x/" (2) + 243 = 255 */
	strcpy(text, "x/");
	memset(text + 2, 'b', 243);
	text[245] = '\0';
	ck_assert_ok(berth_reference_parse(text, &ref, &err), err);
	ck_assert_uint_eq(strlen(berth_reference_name(ref)), 255);
	berth_reference_free(ref);
	text[245] = 'b';
	text[246] = '\0';
	ck_assert_fails(berth_reference_parse(text, &ref, &err), err, BERTH_EINVAL, "256 characters");
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("reference");
	TCase *tc = tcase_create("reference");

	tcase_add_loop_test(tc, parses_good_references, 0, (int)BT_ARRAY_SIZE(good));
	tcase_add_test(tc, familiar_names);
	tcase_add_loop_test(tc, refuses_bad_references, 0, (int)BT_ARRAY_SIZE(bad));
	tcase_add_test(tc, errors_name_the_input);
	tcase_add_test(tc, name_length_limit);
	suite_add_tcase(s, tc);
	return s;
}
