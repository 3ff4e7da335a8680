/* lib/common/path.c: joins and opens that cannot leave their root, through
 * openat2 and through the walking fallback alike. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*open_fn)(int, const char *, int, mode_t, int, int *, berth_error **);
static const open_fn openers[] = { bt_path_open, bt_path_open_walk };
static const char *const opener_names[] = { "openat2", "walk" };

static void join_ok(const char *root, const char *rel, const char *want)
{
	berth_error *err = NULL;
	char *out;

	ck_assert_ok(bt_path_join(root, rel, &out, &err), err);
	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(join_is_lexical_and_stays_below)
{
	berth_error *err = NULL;
	char *out;

	join_ok("/var/lib/berth", "blobs/sha256", "/var/lib/berth/blobs/sha256");
	join_ok("/var/lib/berth/", "/etc/passwd", "/var/lib/berth/etc/passwd");
	join_ok("/r", "./a//b/./c/", "/r/a/b/c");
	join_ok("/r", "", "/r");
	join_ok("/", "etc", "/etc");
	join_ok("/r", "a..b/..c/.d", "/r/a..b/..c/.d");
	ck_assert_fails(bt_path_join("/r", "../etc", &out, &err), err, BERTH_ESCAPE, "\"..\"");
	ck_assert_fails(bt_path_join("/r", "a/../../etc", &out, &err), err, BERTH_ESCAPE, "a/../../etc");
	ck_assert_fails(bt_path_join("/r", "a/..", &out, &err), err, BERTH_ESCAPE, "below /r");
	ck_assert_ptr_null(out);
}
END_TEST

/* root/
 *   a/b/file            "inner"
 *   etc/passwd          "fake passwd"
 *   in -> a/b           relative, stays inside
 *   a/back -> ../a/b/file
 *   abs -> /etc         absolute: outside for BENEATH, root/etc for IN_ROOT
 *   up -> ../..         climbs out
 *   evil -> <outside>/target    an absolute link to a file outside
 *   loop1 -> loop2, loop2 -> loop1 */
struct tree {
	char *dir, *root, *outside;
	int rootfd;
};

static void mkfile(const char *root, const char *rel, const char *content)
{
	char *p = unit_path(root, rel);
	ck_assert_int_eq(bt_write_file_atomic(p, content, strlen(content), 0644, NULL), 0);
	free(p);
}

static void mklink(const char *root, const char *rel, const char *target)
{
	char *p = unit_path(root, rel);
	ck_assert_int_eq(symlink(target, p), 0);
	free(p);
}

static void tree_make(struct tree *t)
{
	char *p;

	t->dir = unit_tmpdir();
	t->root = unit_path(t->dir, "root");
	t->outside = unit_path(t->dir, "outside");
	p = unit_path(t->root, "a/b");
	ck_assert_int_eq(bt_mkdir_p(p, 0755, NULL), 0);
	free(p);
	p = unit_path(t->root, "etc");
	ck_assert_int_eq(bt_mkdir_p(p, 0755, NULL), 0);
	free(p);
	ck_assert_int_eq(bt_mkdir_p(t->outside, 0755, NULL), 0);
	mkfile(t->root, "a/b/file", "inner");
	mkfile(t->root, "etc/passwd", "fake passwd");
	mkfile(t->outside, "target", "outside");
	mklink(t->root, "in", "a/b");
	mklink(t->root, "a/back", "../a/b/file");
	mklink(t->root, "abs", "/etc");
	mklink(t->root, "up", "../..");
	p = unit_path(t->outside, "target");
	mklink(t->root, "evil", p);
	free(p);
	mklink(t->root, "loop1", "loop2");
	mklink(t->root, "loop2", "loop1");
	t->rootfd = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(t->rootfd, 0);
}

static void tree_free(struct tree *t)
{
	close(t->rootfd);
	unit_tmpdir_free(t->dir);
	free(t->root);
	free(t->outside);
}

/* Opens rel with opener i and checks what it reads. */
static void read_ok(struct tree *t, int i, const char *rel, int resolve, const char *want)
{
	berth_error *err = NULL;
	char buf[64] = "";
	int fd;

	ck_assert_msg(openers[i](t->rootfd, rel, O_RDONLY, 0, resolve, &fd, &err) == 0,
		      "%s: opening %s: %s", opener_names[i], rel, berth_error_message(err));
	ck_assert_int_ge(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	ck_assert_msg(!strcmp(buf, want), "%s: %s read \"%s\", want \"%s\"", opener_names[i], rel, buf, want);
}

static void refused(struct tree *t, int i, const char *rel, int flags, int resolve, int code)
{
	berth_error *err = NULL;
	int fd = 12345, rc = openers[i](t->rootfd, rel, flags, 0644, resolve, &fd, &err);

	ck_assert_msg(rc == code, "%s: %s gave %d (%s), want %d", opener_names[i], rel, rc,
		      berth_error_message(err), code);
	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strstr(berth_error_message(err), rel) != NULL, "%s: \"%s\" does not name %s",
		      opener_names[i], berth_error_message(err), rel);
	berth_error_free(err);
}

START_TEST(beneath_follows_inner_links_and_refuses_escapes)
{
	struct tree t;

	tree_make(&t);
	for (int i = 0; i < 2; i++) {
		read_ok(&t, i, "a/b/file", BT_RESOLVE_BENEATH, "inner");
		read_ok(&t, i, "in/file", BT_RESOLVE_BENEATH, "inner");
		read_ok(&t, i, "a/back", BT_RESOLVE_BENEATH, "inner");
		read_ok(&t, i, "a/b/../b/./file", BT_RESOLVE_BENEATH, "inner");
		refused(&t, i, "../root/a/b/file", O_RDONLY, BT_RESOLVE_BENEATH, BERTH_ESCAPE);
		refused(&t, i, "abs/passwd", O_RDONLY, BT_RESOLVE_BENEATH, BERTH_ESCAPE);
		refused(&t, i, "up/outside/target", O_RDONLY, BT_RESOLVE_BENEATH, BERTH_ESCAPE);
		refused(&t, i, "evil", O_RDONLY, BT_RESOLVE_BENEATH, BERTH_ESCAPE);
		refused(&t, i, "/a/b/file", O_RDONLY, BT_RESOLVE_BENEATH, BERTH_ESCAPE);
		refused(&t, i, "loop1", O_RDONLY, BT_RESOLVE_BENEATH, BERTH_EINVAL);
		refused(&t, i, "a/b/missing", O_RDONLY, BT_RESOLVE_BENEATH, BERTH_ENOTFOUND);
	}
	tree_free(&t);
}
END_TEST

START_TEST(in_root_resolves_as_the_container_sees_it)
{
	struct tree t;

	tree_make(&t);
	for (int i = 0; i < 2; i++) {
		read_ok(&t, i, "abs/passwd", BT_RESOLVE_IN_ROOT, "fake passwd");
		read_ok(&t, i, "/etc/passwd", BT_RESOLVE_IN_ROOT, "fake passwd");
		read_ok(&t, i, "../../../etc/passwd", BT_RESOLVE_IN_ROOT, "fake passwd");
		read_ok(&t, i, "up/a/b/file", BT_RESOLVE_IN_ROOT, "inner");
		/* the absolute link to the outside file names a path that does not exist inside */
		refused(&t, i, "evil", O_RDONLY, BT_RESOLVE_IN_ROOT, BERTH_ENOTFOUND);
	}
	tree_free(&t);
}
END_TEST

/* Creating through links: inside is fine; a link out never creates outside. */
START_TEST(create_never_lands_outside)
{
	struct tree t;
	berth_error *err = NULL;
	char *outside_new;
	int fd;

	tree_make(&t);
	for (int i = 0; i < 2; i++) {
		ck_assert_ok(openers[i](t.rootfd, "in/new", O_WRONLY | O_CREAT | O_TRUNC, 0600,
					BT_RESOLVE_BENEATH, &fd, &err), err);
		close(fd);
		refused(&t, i, "up/outside/new", O_WRONLY | O_CREAT, BT_RESOLVE_BENEATH, BERTH_ESCAPE);
		refused(&t, i, "evil", O_WRONLY | O_CREAT | O_TRUNC, BT_RESOLVE_BENEATH, BERTH_ESCAPE);
		/* O_NOFOLLOW on the last component: the link itself is not opened through */
		refused(&t, i, "evil", O_WRONLY | O_NOFOLLOW, BT_RESOLVE_BENEATH, BERTH_EINVAL);
	}
	{
		char *inner_new = unit_path(t.root, "a/b/new");
		ck_assert_int_eq(access(inner_new, F_OK), 0);
		free(inner_new);
	}
	outside_new = unit_path(t.outside, "new");
	ck_assert_int_eq(access(outside_new, F_OK), -1);
	free(outside_new);
	tree_free(&t);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("path");

	tcase_add_test(tc, join_is_lexical_and_stays_below);
	tcase_add_test(tc, beneath_follows_inner_links_and_refuses_escapes);
	tcase_add_test(tc, in_root_resolves_as_the_container_sees_it);
	tcase_add_test(tc, create_never_lands_outside);
	suite_add_tcase(s, tc);
	return s;
}
