/* create, start, kill, delete, pause, resume, update and state. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "berth-runtime.h"

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
	{ "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
	{ "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
	{ "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO },         { "POLL", SIGPOLL },   { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

int rcli_signal(const char *s)
{
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	n = strtol(s, &end, 10);
	if (!*end)
		return n > 0 && n <= 64 ? (int)n : -1;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcmp(s, signals[i].name))
			return signals[i].sig;
	if (!strncmp(s, "RTMIN+", 6)) {
		n = strtol(s + 6, &end, 10);
		if (!*end && n >= 0 && SIGRTMIN + n <= SIGRTMAX)
			return SIGRTMIN + (int)n;
	}
	return -1;
}

int rcli_create_opts(struct rcli *cli, int argc, char **argv, struct create_args *a)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'P' },
		{ "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'k' },
		{ "pidfd-socket", required_argument, NULL, 'I' },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = a->run ? "run" : "create";
	int c;

	a->bundle = ".";
	while ((c = getopt_long_only(argc, argv, a->run ? "+b:d" : "+b:", opts, NULL)) != -1) {
		switch (c) {
		case 'b': a->bundle = optarg; break;
		case 'p': a->opts.pid_file = optarg; break;
		case 'c': a->opts.console_socket = optarg; break;
		case 'P': a->opts.preserve_fds = atoi(optarg); break;
		case 'n': a->opts.no_pivot = 1; break;
		case 'k': case 'I': break; /* accepted as runc does; nothing to do */
		case 'd': case 'K':
			if (a->run) {
				*(c == 'd' ? &a->detach : &a->keep) = true;
				break;
			}
			/* fall through */
		default:
			return rcli_failf(cli, "%s: bad option (usage: %s [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N] [--no-pivot]%s ID)",
					  cmd, cmd, a->run ? " [--detach] [--keep]" : "");
		}
	}
	if (optind + 1 != argc)
		return rcli_failf(cli, "%s: expects exactly one container id", cmd);
	a->id = argv[optind];
	return 0;
}

int cmd_create(struct rcli *cli, int argc, char **argv)
{
	struct create_args a = { .opts = BERTH_RUNTIME_CREATE_OPTS_INIT };
	berth_error *err = NULL;

	if (rcli_create_opts(cli, argc, argv, &a))
		return 1;
	if (berth_runtime_create(cli->rt, a.id, a.bundle, NULL, &a.opts, NULL, &err) < 0)
		return rcli_fail(cli, err);
	return 0;
}

static int one_id(struct rcli *cli, int argc, char **argv, const char *cmd)
{
	/* runc accepts options it ignores here; only the id matters */
	int i = 1;

	while (i < argc && argv[i][0] == '-')
		i++;
	if (i + 1 != argc)
		return rcli_failf(cli, "%s: expects exactly one container id", cmd), -1;
	return i;
}

int cmd_start(struct rcli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	int i = one_id(cli, argc, argv, "start");

	if (i < 0)
		return 1;
	if (berth_runtime_start(cli->rt, argv[i], &err) < 0)
		return rcli_fail(cli, err);
	return 0;
}

int cmd_state(struct rcli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	char *json;
	int i = one_id(cli, argc, argv, "state");

	if (i < 0)
		return 1;
	if (berth_runtime_state(cli->rt, argv[i], &json, &err) < 0)
		return rcli_fail(cli, err);
	printf("%s\n", json);
	berth_string_free(json);
	return 0;
}

int cmd_kill(struct rcli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	int c, flags = 0, sig = SIGTERM;

	while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
		if (c != 'a')
			return rcli_failf(cli, "kill: bad option (usage: kill [--all] ID [SIGNAL])");
		flags |= BERTH_RUNTIME_KILL_ALL;
	}
	if (optind >= argc || argc - optind > 2)
		return rcli_failf(cli, "kill: expects a container id and an optional signal");
	if (argc - optind == 2 && (sig = rcli_signal(argv[optind + 1])) < 0)
		return rcli_failf(cli, "kill: unknown signal \"%s\"", argv[optind + 1]);
	if (berth_runtime_kill(cli->rt, argv[optind], sig, flags, &err) < 0)
		return rcli_fail(cli, err);
	return 0;
}

int cmd_delete(struct rcli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	int c, flags = 0;

	while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return rcli_failf(cli, "delete: bad option (usage: delete [--force] ID)");
		flags |= BERTH_RUNTIME_DELETE_FORCE;
	}
	if (optind + 1 != argc)
		return rcli_failf(cli, "delete: expects exactly one container id");
	if (berth_runtime_delete(cli->rt, argv[optind], flags, &err) < 0) {
		/* runc --force on a container that is gone succeeds */
		if ((flags & BERTH_RUNTIME_DELETE_FORCE) && berth_error_code(err) == BERTH_ENOTFOUND) {
			berth_error_free(err);
			return 0;
		}
		return rcli_fail(cli, err);
	}
	return 0;
}

int cmd_pause(struct rcli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	int i = one_id(cli, argc, argv, "pause");

	if (i < 0)
		return 1;
	if (berth_runtime_pause(cli->rt, argv[i], &err) < 0)
		return rcli_fail(cli, err);
	return 0;
}

int cmd_resume(struct rcli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	int i = one_id(cli, argc, argv, "resume");

	if (i < 0)
		return 1;
	if (berth_runtime_resume(cli->rt, argv[i], &err) < 0)
		return rcli_fail(cli, err);
	return 0;
}

int cmd_update(struct rcli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	const char *file = NULL;
	char *json;
	int c, rc = 0;

	while ((c = getopt_long_only(argc, argv, "+r:", opts, NULL)) != -1) {
		if (c != 'r')
			return rcli_failf(cli, "update: only --resources FILE (or - for stdin) is supported");
		file = optarg;
	}
	if (optind + 1 != argc)
		return rcli_failf(cli, "update: expects exactly one container id");
	if (!file)
		return rcli_failf(cli, "update: --resources FILE (or -) is required");
	if (!(json = rcli_read_file(file)))
		return rcli_failf(cli, "update: cannot read %s", file);
	if (berth_runtime_update(cli->rt, argv[optind], json, &err) < 0)
		rc = rcli_fail(cli, err);
	free(json);
	return rc;
}
