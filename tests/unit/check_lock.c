/* lib/common/lock.c: store locks between processes and between threads. */
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a child and returns its exit status. */
static int in_child(int (*fn)(const char *), const char *path)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(path));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int try_exclusive(const char *path)
{
	berth_error *err = NULL;
	int fd, rc = bt_lock_acquire(path, BT_LOCK_EXCLUSIVE | BT_LOCK_NOWAIT, &fd, &err);

	if (rc == BERTH_EBUSY && strstr(berth_error_message(err), "locked"))
		rc = 1;
	else if (rc == 0)
		bt_lock_release(fd);
	berth_error_free(err);
	return rc == 1 ? 1 : rc == 0 ? 0 : 2;
}

static int try_shared(const char *path)
{
	int fd, rc = bt_lock_acquire(path, BT_LOCK_SHARED | BT_LOCK_NOWAIT, &fd, NULL);

	if (rc == 0)
		bt_lock_release(fd);
	return rc == 0 ? 0 : rc == BERTH_EBUSY ? 1 : 2;
}

START_TEST(exclusive_excludes_another_process)
{
	char *dir = unit_tmpdir(), *path = unit_path(dir, "lock");
	berth_error *err = NULL;
	int fd;

	ck_assert_ok(bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, &fd, &err), err);
	ck_assert_int_eq(in_child(try_exclusive, path), 1);
	ck_assert_int_eq(in_child(try_shared, path), 1);
	bt_lock_release(fd);
	ck_assert_int_eq(in_child(try_exclusive, path), 0);
	free(path);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(shared_locks_coexist)
{
	char *dir = unit_tmpdir(), *path = unit_path(dir, "lock");
	berth_error *err = NULL;
	int fd;

	ck_assert_ok(bt_lock_acquire(path, BT_LOCK_SHARED, &fd, &err), err);
	ck_assert_int_eq(in_child(try_shared, path), 0);
	ck_assert_int_eq(in_child(try_exclusive, path), 1);
	bt_lock_release(fd);
	free(path);
	unit_tmpdir_free(dir);
}
END_TEST

/* A waiting process gets the lock once the holder lets go, and not before. */
START_TEST(waiter_gets_the_lock_after_release)
{
	char *dir = unit_tmpdir(), *path = unit_path(dir, "lock"), *mark = unit_path(dir, "mark");
	berth_error *err = NULL;
	int fd, status, ready[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_ok(bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, &fd, &err), err);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int cfd;
		close(fd); /* a forked copy of the holder's descriptor would hold the lock too */
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		if (bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, &cfd, NULL) < 0)
			_exit(3);
		/* the holder wrote the mark before releasing: we must see it */
		_exit(access(mark, F_OK) == 0 ? 0 : 4);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	usleep(100 * 1000);
	ck_assert_ok(bt_write_file_atomic(mark, "m", 1, 0644, &err), err);
	bt_lock_release(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(ready[0]);
	free(mark);
	free(path);
	unit_tmpdir_free(dir);
}
END_TEST

/* A holder that dies without unlocking does not leave the store locked. */
START_TEST(lock_dies_with_its_process)
{
	char *dir = unit_tmpdir(), *path = unit_path(dir, "lock");
	int status, ready[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;
		if (bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, &fd, NULL) < 0)
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(in_child(try_exclusive, path), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(in_child(try_exclusive, path), 0);
	close(ready[0]);
	free(path);
	unit_tmpdir_free(dir);
}
END_TEST

static void *thread_try(void *path)
{
	return (void *)(long)try_exclusive(path);
}

START_TEST(threads_exclude_each_other)
{
	char *dir = unit_tmpdir(), *path = unit_path(dir, "lock");
	berth_error *err = NULL;
	pthread_t t;
	void *result;
	int fd;

	ck_assert_ok(bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, &fd, &err), err);
	ck_assert_int_eq(pthread_create(&t, NULL, thread_try, path), 0);
	ck_assert_int_eq(pthread_join(t, &result), 0);
	ck_assert_int_eq((long)result, 1);
	bt_lock_release(fd);
	free(path);
	unit_tmpdir_free(dir);
}
END_TEST

/* NOCREATE: a missing lock file is ENOTFOUND and stays missing; a lock
 * file removed while a waiter waited is not the waiter's lock: it locks
 * the file now at the path. */
START_TEST(nocreate_and_a_removed_lock_file)
{
	char *dir = unit_tmpdir(), *path = unit_path(dir, "lock");
	berth_error *err = NULL;
	int fd, fd2, status;
	pid_t pid;

	ck_assert_int_eq(bt_lock_acquire(path, BT_LOCK_EXCLUSIVE | BT_LOCK_NOCREATE, &fd, &err),
			 BERTH_ENOTFOUND);
	berth_error_free(err);
	err = NULL;
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_ok(bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, &fd, &err), err);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* waits, then must hold the file at the path, not the removed one */
		int cfd;
		struct stat a, b;

		close(fd); /* the parent's lock, inherited: not ours to keep */
		if (bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, &cfd, NULL) < 0 || fstat(cfd, &a) < 0 ||
		    stat(path, &b) < 0)
			_exit(2);
		_exit(a.st_ino == b.st_ino ? 0 : 1);
	}
	usleep(100000);
	ck_assert_int_eq(unlink(path), 0); /* a remover took it while the child waited */
	bt_lock_release(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_ok(bt_lock_acquire(path, BT_LOCK_EXCLUSIVE | BT_LOCK_NOCREATE, &fd2, &err), err);
	bt_lock_release(fd2);
	free(path);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
	berth_error *err = NULL;
	int fd;

	ck_assert_fails(bt_lock_acquire("/tmp/x", BT_LOCK_SHARED | BT_LOCK_EXCLUSIVE, &fd, &err), err,
			BERTH_EINVAL, "not both");
	ck_assert_fails(bt_lock_acquire("/nonexistent/dir/lock", BT_LOCK_EXCLUSIVE, &fd, &err), err,
			BERTH_ENOTFOUND, "/nonexistent/dir/lock");
	ck_assert_int_eq(fd, -1);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_test(tc, exclusive_excludes_another_process);
	tcase_add_test(tc, shared_locks_coexist);
	tcase_add_test(tc, waiter_gets_the_lock_after_release);
	tcase_add_test(tc, lock_dies_with_its_process);
	tcase_add_test(tc, threads_exclude_each_other);
	tcase_add_test(tc, nocreate_and_a_removed_lock_file);
	tcase_add_test(tc, bad_arguments_are_refused);
	suite_add_tcase(s, tc);
	return s;
}
