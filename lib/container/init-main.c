/* berth-init: pid 1 of a container run with --init (Docker's docker-init,
 * tini). A command that is not written to be pid 1 neither reaps the
 * orphans the kernel hands to it nor dies of SIGTERM (pid 1 ignores signals
 * it has no handler for), so this runs it as a child, forwards every
 * signal to it, reaps every zombie, and exits as the child did. Static, so
 * it runs in any image; bind-mounted read-only at /sbin/berth-init.
 *
 *   berth-init -- COMMAND [ARG...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child: signals as a fresh process has them, then the command. */
static void run_child(char **argv, const sigset_t *old)
{
	/* its own process group, so a terminal's signals reach it as a job */
	setpgid(0, 0);
	if (isatty(STDIN_FILENO))
		tcsetpgrp(STDIN_FILENO, getpid());
	/* an ignored signal would stay ignored across exec */
	signal(SIGTTOU, SIG_DFL);
	signal(SIGTTIN, SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	execvp(argv[0], argv);
	fprintf(stderr, "berth-init: exec %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Reaps every child that has ended; the child's status when it is among
 * them (-1 otherwise). */
static int reap(pid_t child)
{
	int status, code = -1;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == child)
			code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return code;
}

int main(int argc, char **argv)
{
	sigset_t all, old;
	pid_t child;
	int code;

	if (argc > 1 && !strcmp(argv[1], "--"))
		argv++, argc--;
	if (argc < 2) {
		fprintf(stderr, "usage: berth-init [--] COMMAND [ARG...]\n");
		return 125;
	}
	/* blocked signals reach pid 1 even without a handler: waited for below */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	/* the terminal is handed to the child's group: keep running */
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	if ((child = fork()) < 0) {
		perror("berth-init: fork");
		return 125;
	}
	if (child == 0)
		run_child(argv + 1, &old);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		if ((code = reap(child)) >= 0)
			break;
	}
	/* the kernel kills what is left when pid 1 ends */
	return code;
}
