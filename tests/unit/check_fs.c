/* lib/common/fs.c: mkdir -p, bounded reads, crash-safe writes, rm -rf. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

START_TEST(mkdir_p_makes_every_level)
{
	char *dir = unit_tmpdir(), *deep = unit_path(dir, "a/b/c"), *file = unit_path(dir, "f");
	berth_error *err = NULL;
	struct stat st;

	ck_assert_ok(bt_mkdir_p(deep, 0755, &err), err);
	ck_assert_int_eq(stat(deep, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_ok(bt_mkdir_p(deep, 0755, &err), err); /* again: nothing to do */
	ck_assert_ok(bt_write_file_atomic(file, "x", 1, 0644, &err), err);
	ck_assert_fails(bt_mkdir_p(file, 0755, &err), err, BERTH_EEXISTS, "not a directory");
	free(deep);
	deep = unit_path(dir, "f/sub");
	ck_assert_int_lt(bt_mkdir_p(deep, 0755, &err), 0);
	ck_assert(strstr(berth_error_message(err), "f/sub") != NULL);
	berth_error_free(err);
	free(deep);
	free(file);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(read_file_is_bounded)
{
	char *dir = unit_tmpdir(), *file = unit_path(dir, "f"), *buf;
	berth_error *err = NULL;
	size_t len;

	ck_assert_ok(bt_write_file_atomic(file, "hello", 5, 0600, &err), err);
	ck_assert_ok(bt_read_file(file, 5, &buf, &len, &err), err);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(buf, "hello");
	free(buf);
	ck_assert_fails(bt_read_file(file, 4, &buf, &len, &err), err, BERTH_EINVAL, "more than the 4");
	ck_assert_ptr_null(buf);
	/* a file whose size stat cannot tell (procfs) is bounded while reading */
	ck_assert_fails(bt_read_file("/proc/self/maps", 8, &buf, &len, &err), err, BERTH_EINVAL,
			"more than the 8");
	ck_assert_fails(bt_read_file("/nonexistent/x", 8, &buf, &len, &err), err, BERTH_ENOTFOUND,
			"/nonexistent/x");
	free(file);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(atomic_write_replaces_and_sets_mode)
{
	char *dir = unit_tmpdir(), *file = unit_path(dir, "state.json"), *buf;
	berth_error *err = NULL;
	struct stat st;

	ck_assert_ok(bt_write_file_atomic(file, "one", 3, 0600, &err), err);
	ck_assert_ok(bt_write_file_atomic(file, "two!", 4, 0640, &err), err);
	ck_assert_ok(bt_read_file(file, 100, &buf, NULL, &err), err);
	ck_assert_str_eq(buf, "two!");
	free(buf);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	free(file);
	file = unit_path(dir, "missing/dir/f");
	ck_assert_fails(bt_write_file_atomic(file, "x", 1, 0600, &err), err, BERTH_ENOTFOUND,
			"missing/dir/f");
	free(file);
	unit_tmpdir_free(dir);
}
END_TEST

static void kill_self(const char *tmp_path)
{
	(void)tmp_path;
	raise(SIGKILL);
}

static int count_temp_files(const char *dir)
{
	char *pattern = bt_strdup_printf("ls -a %s | grep -c '^\\.state\\.tmp'", dir);
	FILE *p = popen(pattern, "r");
	int n = -1;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	free(pattern);
	return n;
}

/* A process killed after the new content is on disk but before the rename
 * leaves the old file whole. */
START_TEST(crash_before_rename_keeps_the_old_file)
{
	char *dir = unit_tmpdir(), *file = unit_path(dir, "state"), *buf;
	berth_error *err = NULL;
	int status;
	pid_t pid;

	ck_assert_ok(bt_write_file_atomic(file, "old content", 11, 0644, &err), err);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		bt_test_hook_before_rename = kill_self;
		bt_write_file_atomic(file, "new content, longer", 19, 0644, NULL);
		_exit(0); /* not reached: the hook kills us */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_ok(bt_read_file(file, 100, &buf, NULL, &err), err);
	ck_assert_str_eq(buf, "old content");
	free(buf);
	ck_assert_int_eq(count_temp_files(dir), 1); /* the half-done write is a dot file, never the state */
	/* the sweep removes it (and counts its bytes), and only it */
	ck_assert_uint_eq(bt_sweep_atomic_temps(NULL, file), 19);
	ck_assert_int_eq(count_temp_files(dir), 0);
	ck_assert_ok(bt_read_file(file, 100, &buf, NULL, &err), err);
	ck_assert_str_eq(buf, "old content");
	free(buf);
	free(file);
	unit_tmpdir_free(dir);
}
END_TEST

static void put(const char *dir, const char *name, const char *text)
{
	char *path = unit_path(dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static bool there(const char *dir, const char *name)
{
	char *path = unit_path(dir, name);
	bool yes = access(path, F_OK) == 0;

	free(path);
	return yes;
}

/* The sweep takes the temp files of that one file only: another file's, a
 * name of another shape and a directory stay. */
START_TEST(sweep_takes_only_the_files_temp_files)
{
	char *dir = unit_tmpdir(), *file = unit_path(dir, "state");
	const char *keep[] = { ".other.tmpAbC123", ".state.tmpAbC", "state.tmpAbC123" };

	char *sub = unit_path(dir, ".state.tmpDiR123");

	put(dir, ".state.tmpAbC123", "dead");
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		put(dir, keep[i], "x");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_uint_eq(bt_sweep_atomic_temps(NULL, file), 4);
	ck_assert(!there(dir, ".state.tmpAbC123"));
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		ck_assert(there(dir, keep[i]));
	ck_assert(there(dir, ".state.tmpDiR123"));
	free(sub);
	free(file);
	unit_tmpdir_free(dir);
}
END_TEST

#define GEN_SIZE (256 * 1024)

/* Generation g: a header then bytes that depend on g, so a torn mix of two
 * generations or a short file is detected. */
static void fill_generation(char *buf, unsigned g)
{
	int n = snprintf(buf, 64, "generation %u\n", g);
	for (size_t i = (size_t)n; i < GEN_SIZE; i++)
		buf[i] = (char)('a' + (g + i) % 26);
}

static void check_generation(const char *file)
{
	static char want[GEN_SIZE];
	berth_error *err = NULL;
	unsigned g;
	size_t len;
	char *buf;

	ck_assert_ok(bt_read_file(file, 2 * GEN_SIZE, &buf, &len, &err), err);
	ck_assert_uint_eq(len, GEN_SIZE);
	ck_assert_int_eq(sscanf(buf, "generation %u", &g), 1);
	fill_generation(want, g);
	ck_assert_msg(memcmp(buf, want, GEN_SIZE) == 0, "generation %u is torn", g);
	free(buf);
}

/* Writers killed at random moments leave a whole generation every time. */
START_TEST(random_kills_never_tear_the_file)
{
	char *dir = unit_tmpdir(), *file = unit_path(dir, "state");
	static char buf[GEN_SIZE];
	berth_error *err = NULL;

	fill_generation(buf, 0);
	ck_assert_ok(bt_write_file_atomic(file, buf, GEN_SIZE, 0644, &err), err);
	srand((unsigned)time(NULL));
	for (int round = 0; round < 25; round++) {
		struct timespec delay = { 0, (long)(rand() % 20000) * 1000L };
		pid_t pid = fork();
		int status;

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (unsigned g = 1;; g++) {
				fill_generation(buf, g);
				if (bt_write_file_atomic(file, buf, GEN_SIZE, 0644, NULL) < 0)
					_exit(3);
			}
		}
		nanosleep(&delay, NULL);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status));
		check_generation(file);
	}
	free(file);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(rm_rf_removes_a_tree_without_following_links)
{
	char *dir = unit_tmpdir(), *outside = unit_tmpdir();
	char *tree = unit_path(dir, "tree"), *deep = unit_path(dir, "tree/a/b/c");
	char *f = unit_path(dir, "tree/a/b/c/file"), *kept = unit_path(outside, "kept");
	char *link1 = unit_path(dir, "tree/a/to-outside"), *link2 = unit_path(dir, "tree/a/b/to-file");
	berth_error *err = NULL;

	ck_assert_ok(bt_mkdir_p(deep, 0755, &err), err);
	ck_assert_ok(bt_write_file_atomic(f, "x", 1, 0644, &err), err);
	ck_assert_ok(bt_write_file_atomic(kept, "keep me", 7, 0644, &err), err);
	ck_assert_int_eq(symlink(outside, link1), 0);
	ck_assert_int_eq(symlink(kept, link2), 0);
	ck_assert_int_eq(chmod(deep, 0), 0); /* unreadable to others; root still removes */
	ck_assert_ok(bt_rm_rf(tree, &err), err);
	ck_assert_int_eq(access(tree, F_OK), -1);
	ck_assert_int_eq(access(kept, F_OK), 0);
	ck_assert_ok(bt_rm_rf(tree, &err), err); /* already gone: fine */
	free(tree);
	free(deep);
	free(f);
	free(kept);
	free(link1);
	free(link2);
	unit_tmpdir_free(outside);
	unit_tmpdir_free(dir);
}
END_TEST

/* rm -rf must never reach into a file system mounted below the tree. Needs
 * root and a private mount namespace, made in a child. */
START_TEST(rm_rf_stops_at_mount_points)
{
	char *dir = unit_tmpdir(), *mnt = unit_path(dir, "tree/mnt"), *inner = unit_path(dir, "tree/mnt/inner");
	char *tree = unit_path(dir, "tree");
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		unit_tmpdir_free(dir);
		return;
	}
	ck_assert_int_eq(bt_mkdir_p(mnt, 0755, NULL), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		berth_error *err = NULL;
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(77);
		if (mount("berth-unit", mnt, "tmpfs", 0, "size=1m") < 0)
			_exit(78);
		if (bt_write_file_atomic(inner, "x", 1, 0644, NULL) < 0)
			_exit(79);
		if (bt_rm_rf(tree, &err) != BERTH_EBUSY || !strstr(berth_error_message(err), "mounted"))
			_exit(80);
		berth_error_free(err);
		_exit(access(inner, F_OK) == 0 ? 0 : 81);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) != 77)
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	free(mnt);
	free(inner);
	free(tree);
	unit_tmpdir_free(dir);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *tc = tcase_create("fs");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mkdir_p_makes_every_level);
	tcase_add_test(tc, read_file_is_bounded);
	tcase_add_test(tc, atomic_write_replaces_and_sets_mode);
	tcase_add_test(tc, crash_before_rename_keeps_the_old_file);
	tcase_add_test(tc, sweep_takes_only_the_files_temp_files);
	tcase_add_test(tc, random_kills_never_tear_the_file);
	tcase_add_test(tc, rm_rf_removes_a_tree_without_following_links);
	tcase_add_test(tc, rm_rf_stops_at_mount_points);
	suite_add_tcase(s, tc);
	return s;
}
