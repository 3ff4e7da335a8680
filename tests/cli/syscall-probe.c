/* syscall-probe: what a container's seccomp filter answers to the system
 * calls busybox cannot make. Static, copied into a container's root by
 * containers-spec.bats. Prints "ok" or the errno's name for each argument:
 *   clone3       clone3 without flags (the child exits at once)
 *   add_key      a key in the session keyring (not on the default list)
 *   personality  a value Docker's profile does not allow (READ_IMPLIES_EXEC)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long probe(const char *what)
{
	if (!strcmp(what, "clone3")) {
		struct clone_args args = { .exit_signal = SIGCHLD };
		long pid = syscall(SYS_clone3, &args, sizeof(args));

		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return pid < 0 ? -1 : 0;
	}
	if (!strcmp(what, "add_key"))
		return syscall(SYS_add_key, "user", "berth-probe", "x", 1, -3 /* session */) < 0 ? -1 : 0;
	if (!strcmp(what, "personality"))
		return personality(READ_IMPLIES_EXEC) < 0 ? -1 : 0;
	errno = EINVAL;
	return -1;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		errno = 0;
		if (probe(argv[i]) < 0)
			printf("%s %s\n", argv[i], strerrorname_np(errno));
		else
			printf("%s ok\n", argv[i]);
	}
	return 0;
}
