/* run and exec: the commands that may stay in the foreground, supervising
 * the process (signals forwarded, exit status returned) and, for a
 * terminal without --console-socket, proxying its pty. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "berth-runtime.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
	sigprocmask(SIG_BLOCK, set, NULL);
}

static bool copy_fd(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		off += w;
	}
	return true;
}

int rcli_supervise(berth_runtime_process *p)
{
	struct termios saved, raw;
	berth_runtime_exit ex = BERTH_RUNTIME_EXIT_INIT;
	int master = berth_runtime_process_pty(p);
	bool restore = false, in_open = master >= 0, ended = false;
	sigset_t set;
	int sfd;

	block_signals(&set);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		return 1;
	if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct winsize ws;

		raw = saved;
		cfmakeraw(&raw);
		restore = tcsetattr(0, TCSANOW, &raw) == 0;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	/* the process's end shows on its pidfd: no SIGCHLD, no waitpid(-1) */
	while (!ended) {
		struct pollfd pf[4] = { { sfd, POLLIN, 0 }, { master, POLLIN, 0 },
					{ in_open ? 0 : -1, POLLIN, 0 },
					{ berth_runtime_process_pidfd(p), POLLIN, 0 } };
		int n = poll(pf, 4, -1);

		if (n < 0 && errno != EINTR)
			break;
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			if (!copy_fd(master, 1))
				master = -1; /* the pty closed: every holder exited */
		}
		if (pf[2].revents & (POLLIN | POLLHUP) && !copy_fd(0, master))
			in_open = false;
		if (pf[3].revents & POLLIN)
			ended = berth_runtime_process_wait(p, 0, &ex, NULL) == 0;
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo == SIGCHLD)
				continue;
			if (si.ssi_signo == SIGWINCH && master >= 0) {
				struct winsize ws;
				if (ioctl(0, TIOCGWINSZ, &ws) == 0)
					ioctl(master, TIOCSWINSZ, &ws);
				continue;
			}
			berth_runtime_process_signal(p, (int)si.ssi_signo, NULL);
		}
	}
	/* what the process wrote last */
	while (master >= 0 && poll(&(struct pollfd){ master, POLLIN, 0 }, 1, 0) > 0 && copy_fd(master, 1))
		;
	if (restore)
		tcsetattr(0, TCSANOW, &saved);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return ended ? ex.code : 1;
}


static bool maybe_terminal(const char *text)
{
	for (const char *p = text; (p = strstr(p, "\"terminal\"")); ) {
		p += sizeof("\"terminal\"") - 1;
		p += strspn(p, " \t\r\n");
		if (*p != ':')
			continue;
		p += 1 + strspn(p + 1, " \t\r\n");
		if (!strncmp(p, "true", 4))
			return true;
	}
	return false;
}

int cmd_run(struct rcli *cli, int argc, char **argv)
{
	struct create_args a = { .run = true, .opts = BERTH_RUNTIME_CREATE_OPTS_INIT };
	berth_runtime_create_opts *o = &a.opts;
	berth_error *err = NULL;
	const char *bundle;
	berth_runtime_process *p = NULL;
	bool terminal = false;
	char *text = NULL, *file = NULL;
	int rc;
	size_t len;

	if (rcli_create_opts(cli, argc, argv, &a))
		return 1;
	bundle = a.bundle;
	/* read once: the terminal flag decides whether we proxy a pty */
	len = strlen(bundle) + sizeof("/config.json");
	if (!(file = malloc(len)))
		return rcli_failf(cli, "run: out of memory");
	snprintf(file, len, "%s/config.json", bundle);
	if (!(text = rcli_read_file(file))) {
		rc = rcli_failf(cli, "run: reading %s: %s", file, strerror(errno));
		free(file);
		return rc;
	}
	free(file);
	/* a full parse only when some "terminal" key is true: most say false */
	if (!o->console_socket && maybe_terminal(text)) {
		json_t *j = json_loads(text, 0, NULL);

		terminal = json_is_true(json_object_get(json_object_get(j, "process"), "terminal"));
		json_decref(j);
	}
	if (terminal && a.detach) {
		free(text);
		return rcli_failf(cli, "run: process.terminal with --detach needs --console-socket");
	}
	/* with a terminal and no console socket the library hands back the
	 * pty master (berth_runtime_process_pty), which we proxy */
	rc = berth_runtime_create(cli->rt, a.id, bundle, text, o, &p, &err);
	free(text);
	if (rc < 0)
		return rcli_fail(cli, err);
	if (berth_runtime_start(cli->rt, a.id, &err) < 0) {
		rc = rcli_fail(cli, err);
		berth_runtime_process_free(p);
		berth_runtime_delete(cli->rt, a.id, BERTH_RUNTIME_DELETE_FORCE, NULL);
		return rc;
	}
	if (a.detach) {
		berth_runtime_process_free(p);
		return 0;
	}
	rc = rcli_supervise(p);
	berth_runtime_process_free(p);
	if (!a.keep && berth_runtime_delete(cli->rt, a.id, BERTH_RUNTIME_DELETE_FORCE, &err) < 0)
		rcli_fail(cli, err);
	return rc;
}

/* The process object for exec without --process: the container's own
 * process from its bundle, with the command and flags given. */
static json_t *exec_process(struct rcli *cli, const char *id, char **cmd, int ncmd, berth_error **err)
{
	char *state = NULL, *file;
	json_t *st, *config = NULL, *proc = NULL, *args;
	const char *bundle;

	if (berth_runtime_state(cli->rt, id, &state, err) < 0)
		return NULL;
	st = json_loads(state, 0, NULL);
	berth_string_free(state);
	bundle = json_string_value(json_object_get(st, "bundle"));
	if (bundle && (file = malloc(strlen(bundle) + sizeof("/config.json")))) {
		sprintf(file, "%s/config.json", bundle);
		config = json_load_file(file, 0, NULL);
		free(file);
	}
	json_decref(st);
	proc = json_object_get(config, "process");
	proc = proc ? json_deep_copy(proc) : json_pack("{s:s}", "cwd", "/");
	json_decref(config);
	if (!proc)
		return NULL;
	args = json_array();
	for (int i = 0; i < ncmd; i++)
		json_array_append_new(args, json_string(cmd[i]));
	json_object_set_new(proc, "args", args);
	json_object_set_new(proc, "terminal", json_false());
	return proc;
}

/* exec's command line: runc's options, collected before the process
 * object is built */
struct exec_args {
	berth_runtime_exec_opts o;
	const char *process_file, *cwd, *user;
	bool tty, detach, nnp;
	json_t *env_add, *caps_add, *gids;
};

static int exec_options(struct rcli *cli, int argc, char **argv, struct exec_args *x)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "cap", required_argument, NULL, 'C' },
		{ "no-new-privs", no_argument, NULL, 'N' },
		{ "preserve-fds", required_argument, NULL, 'F' },
		{ "process-label", required_argument, NULL, 'L' },
		{ "apparmor", required_argument, NULL, 'A' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "ignore-paused", no_argument, NULL, 'I' },
		{ "pidfd-socket", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long_only(argc, argv, "+p:tdu:e:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': x->process_file = optarg; break;
		case 't': x->tty = true; break;
		case 'd': x->detach = true; break;
		case 'P': x->o.pid_file = optarg; break;
		case 'c': x->o.console_socket = optarg; break;
		case 'w': x->cwd = optarg; break;
		case 'e': json_array_append_new(x->env_add, json_string(optarg)); break;
		case 'u': x->user = optarg; break;
		case 'C': json_array_append_new(x->caps_add, json_string(optarg)); break;
		case 'N': x->nnp = true; break;
		case 'F': x->o.preserve_fds = atoi(optarg); break;
		case 'g': json_array_append_new(x->gids, json_integer(atoi(optarg))); break;
		case 'L': case 'A': case 'I': case 'S': break;
		default:
			return rcli_failf(cli, "exec: bad option (see runc exec --help; berth-runtime accepts the same)");
		}
	}
	if (optind >= argc)
		return rcli_failf(cli, "exec: expects a container id");
	return 0;
}

/* the process object: --process FILE, or the container's own with the
 * command line's program */
static json_t *exec_load(struct rcli *cli, const struct exec_args *x, int argc, char **argv)
{
	berth_error *err = NULL;
	json_t *proc;
	char *text;

	if (!x->process_file) {
		if (optind + 1 >= argc)
			return rcli_failf(cli, "exec: expects a command after the container id"), NULL;
		if (!(proc = exec_process(cli, argv[optind], argv + optind + 1, argc - optind - 1, &err)))
			err ? rcli_fail(cli, err) : rcli_failf(cli, "exec: out of memory");
		return proc;
	}
	if (!(text = rcli_read_file(x->process_file)))
		return rcli_failf(cli, "exec: reading %s: %s", x->process_file, strerror(errno)), NULL;
	if (!(proc = json_loads(text, 0, NULL)))
		rcli_failf(cli, "exec: %s is not JSON", x->process_file);
	free(text);
	return proc;
}

/* --tty, --cwd, --no-new-privs, --env, --user, --additional-gids, --cap */
static int exec_apply(struct rcli *cli, const struct exec_args *x, json_t *proc)
{
	static const char *const sets[] = { "bounding", "effective", "permitted" };
	json_t *env, *caps;

	if (x->tty)
		json_object_set_new(proc, "terminal", json_true());
	if (x->cwd)
		json_object_set_new(proc, "cwd", json_string(x->cwd));
	if (x->nnp)
		json_object_set_new(proc, "noNewPrivileges", json_true());
	if (json_array_size(x->env_add)) {
		if (!(env = json_object_get(proc, "env")))
			json_object_set_new(proc, "env", env = json_array());
		json_array_extend(env, x->env_add);
	}
	if (x->user) {
		unsigned uid = 0, gid = 0;

		if (sscanf(x->user, "%u:%u", &uid, &gid) < 1)
			return rcli_failf(cli, "exec: --user %s: expected UID[:GID]", x->user);
		json_object_set_new(proc, "user", json_pack("{s:I,s:I}", "uid", (json_int_t)uid, "gid",
							     (json_int_t)gid));
		if (json_array_size(x->gids))
			json_object_set(json_object_get(proc, "user"), "additionalGids", x->gids);
	}
	if (json_array_size(x->caps_add)) {
		if (!(caps = json_object_get(proc, "capabilities")))
			json_object_set_new(proc, "capabilities", caps = json_object());
		for (size_t s = 0; s < 3; s++) {
			json_t *arr = json_object_get(caps, sets[s]);
			if (!arr)
				json_object_set_new(caps, sets[s], arr = json_array());
			json_array_extend(arr, x->caps_add);
		}
	}
	if (json_is_true(json_object_get(proc, "terminal")) && !x->o.console_socket && x->detach)
		return rcli_failf(cli, "exec: --tty with --detach needs --console-socket");
	return 0;
}

int cmd_exec(struct rcli *cli, int argc, char **argv)
{
	struct exec_args x = { .o = BERTH_RUNTIME_EXEC_OPTS_INIT, .env_add = json_array(),
			       .caps_add = json_array(), .gids = json_array() };
	berth_runtime_process *p = NULL;
	berth_error *err = NULL;
	json_t *proc = NULL;
	char *text = NULL;
	int rc = 1;

	if (exec_options(cli, argc, argv, &x) || !(proc = exec_load(cli, &x, argc, argv)) ||
	    exec_apply(cli, &x, proc))
		goto out;
	text = json_dumps(proc, JSON_COMPACT);
	if (berth_runtime_exec(cli->rt, argv[optind], text ? text : "", &x.o, &p, &err) < 0) {
		rc = rcli_fail(cli, err);
		goto out;
	}
	rc = x.detach ? 0 : rcli_supervise(p);
	berth_runtime_process_free(p);
out:
	free(text);
	json_decref(proc);
	json_decref(x.env_add);
	json_decref(x.caps_add);
	json_decref(x.gids);
	return rc;
}
