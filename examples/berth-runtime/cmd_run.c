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

int rcli_supervise(int pid, int master)
{
	struct termios saved, raw;
	bool restore = false, in_open = master >= 0;
	sigset_t set;
	int sfd, status = 0;

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
	/* a SIGCHLD from before the block was discarded: look once first */
	while (waitpid(pid, &status, WNOHANG) != pid) {
		struct pollfd pf[3] = { { sfd, POLLIN, 0 }, { master, POLLIN, 0 },
					{ in_open ? 0 : -1, POLLIN, 0 } };
		int n = poll(pf, 3, -1);

		if (n < 0 && errno != EINTR)
			break;
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			if (!copy_fd(master, 1))
				master = -1; /* the pty closed: every holder exited */
		}
		if (pf[2].revents & (POLLIN | POLLHUP) && !copy_fd(0, master))
			in_open = false;
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				if (waitpid(pid, &status, WNOHANG) == pid)
					break;
				continue;
			}
			if (si.ssi_signo == SIGWINCH && master >= 0) {
				struct winsize ws;
				if (ioctl(0, TIOCGWINSZ, &ws) == 0)
					ioctl(master, TIOCSWINSZ, &ws);
				continue;
			}
			kill(pid, (int)si.ssi_signo);
		}
	}
	/* what the process wrote last */
	while (master >= 0 && poll(&(struct pollfd){ master, POLLIN, 0 }, 1, 0) > 0 && copy_fd(master, 1))
		;
	if (restore)
		tcsetattr(0, TCSANOW, &saved);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int rcli_console_listen(char **path, int *lfd)
{
	char dir[] = "/tmp/berth-runtime-console.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	*path = NULL;
	*lfd = -1;
	if (!mkdtemp(dir))
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/console.sock", dir);
	if ((*lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(*lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(*lfd, 1) < 0) {
		if (*lfd >= 0)
			close(*lfd);
		*lfd = -1;
		unlink(sa.sun_path);
		rmdir(dir);
		return -1;
	}
	*path = strdup(sa.sun_path);
	return *path ? 0 : -1;
}

int rcli_console_receive(int lfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char data[256];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	int conn, fd = -1;

	if ((conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	if (recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) > 0 && (cm = CMSG_FIRSTHDR(&mh)) &&
	    cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(conn);
	return fd;
}

void rcli_console_cleanup(char *path, int lfd)
{
	if (lfd >= 0)
		close(lfd);
	if (path) {
		char *slash = strrchr(path, '/');

		unlink(path);
		if (slash) {
			*slash = '\0';
			rmdir(path);
		}
		free(path);
	}
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
	bool terminal = false;
	char *text = NULL, *file = NULL, *console = NULL;
	int pid, lfd = -1, master = -1, rc;
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
	if (terminal) {
		if (rcli_console_listen(&console, &lfd) < 0) {
			free(text);
			return rcli_failf(cli, "run: making a console socket: %s", strerror(errno));
		}
		o->console_socket = console;
	}
	rc = berth_runtime_create(cli->rt, a.id, bundle, text, o, &pid, &err);
	free(text);
	if (rc < 0) {
		rcli_console_cleanup(console, lfd);
		return rcli_fail(cli, err);
	}
	if (terminal)
		master = rcli_console_receive(lfd);
	rcli_console_cleanup(console, lfd);
	if (berth_runtime_start(cli->rt, a.id, &err) < 0) {
		rc = rcli_fail(cli, err);
		berth_runtime_delete(cli->rt, a.id, BERTH_RUNTIME_DELETE_FORCE, NULL);
		return rc;
	}
	if (a.detach)
		return 0;
	rc = rcli_supervise(pid, master);
	if (master >= 0)
		close(master);
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

int cmd_exec(struct rcli *cli, int argc, char **argv)
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
	berth_runtime_exec_opts o = BERTH_RUNTIME_EXEC_OPTS_INIT;
	berth_error *err = NULL;
	const char *process_file = NULL, *cwd = NULL, *user = NULL;
	bool tty = false, detach = false, nnp = false;
	json_t *env_add = json_array(), *caps_add = json_array(), *gids = json_array(), *proc = NULL;
	char *text = NULL, *console = NULL;
	int c, pid, lfd = -1, master = -1, rc = 1;

	while ((c = getopt_long_only(argc, argv, "+p:tdu:e:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': process_file = optarg; break;
		case 't': tty = true; break;
		case 'd': detach = true; break;
		case 'P': o.pid_file = optarg; break;
		case 'c': o.console_socket = optarg; break;
		case 'w': cwd = optarg; break;
		case 'e': json_array_append_new(env_add, json_string(optarg)); break;
		case 'u': user = optarg; break;
		case 'C': json_array_append_new(caps_add, json_string(optarg)); break;
		case 'N': nnp = true; break;
		case 'F': o.preserve_fds = atoi(optarg); break;
		case 'g': json_array_append_new(gids, json_integer(atoi(optarg))); break;
		case 'L': case 'A': case 'I': case 'S': break;
		default:
			rc = rcli_failf(cli, "exec: bad option (see runc exec --help; berth-runtime accepts the same)");
			goto out;
		}
	}
	if (optind >= argc) {
		rc = rcli_failf(cli, "exec: expects a container id");
		goto out;
	}
	if (process_file) {
		if (!(text = rcli_read_file(process_file))) {
			rc = rcli_failf(cli, "exec: reading %s: %s", process_file, strerror(errno));
			goto out;
		}
		if (!(proc = json_loads(text, 0, NULL))) {
			rc = rcli_failf(cli, "exec: %s is not JSON", process_file);
			goto out;
		}
		free(text);
		text = NULL;
	} else {
		if (optind + 1 >= argc) {
			rc = rcli_failf(cli, "exec: expects a command after the container id");
			goto out;
		}
		if (!(proc = exec_process(cli, argv[optind], argv + optind + 1, argc - optind - 1, &err))) {
			rc = err ? rcli_fail(cli, err) : rcli_failf(cli, "exec: out of memory");
			goto out;
		}
	}
	if (tty)
		json_object_set_new(proc, "terminal", json_true());
	if (cwd)
		json_object_set_new(proc, "cwd", json_string(cwd));
	if (nnp)
		json_object_set_new(proc, "noNewPrivileges", json_true());
	if (json_array_size(env_add)) {
		json_t *env = json_object_get(proc, "env");
		if (!env)
			json_object_set_new(proc, "env", env = json_array());
		json_array_extend(env, env_add);
	}
	if (user) {
		json_t *u = json_object();
		unsigned uid = 0, gid = 0;

		if (sscanf(user, "%u:%u", &uid, &gid) < 1) {
			json_decref(u);
			rc = rcli_failf(cli, "exec: --user %s: expected UID[:GID]", user);
			goto out;
		}
		json_object_set_new(u, "uid", json_integer(uid));
		json_object_set_new(u, "gid", json_integer(gid));
		if (json_array_size(gids))
			json_object_set(u, "additionalGids", gids);
		json_object_set_new(proc, "user", u);
	}
	if (json_array_size(caps_add)) {
		static const char *const sets[] = { "bounding", "effective", "permitted" };
		json_t *caps = json_object_get(proc, "capabilities");

		if (!caps)
			json_object_set_new(proc, "capabilities", caps = json_object());
		for (size_t s = 0; s < 3; s++) {
			json_t *arr = json_object_get(caps, sets[s]);
			if (!arr)
				json_object_set_new(caps, sets[s], arr = json_array());
			json_array_extend(arr, caps_add);
		}
	}
	if (json_is_true(json_object_get(proc, "terminal")) && !o.console_socket) {
		if (detach) {
			rc = rcli_failf(cli, "exec: --tty with --detach needs --console-socket");
			goto out;
		}
		if (rcli_console_listen(&console, &lfd) < 0) {
			rc = rcli_failf(cli, "exec: making a console socket: %s", strerror(errno));
			goto out;
		}
		o.console_socket = console;
	}
	text = json_dumps(proc, JSON_COMPACT);
	if (berth_runtime_exec(cli->rt, argv[optind], text ? text : "", &o, &pid, &err) < 0) {
		rc = rcli_fail(cli, err);
		goto out;
	}
	if (console)
		master = rcli_console_receive(lfd);
	rcli_console_cleanup(console, lfd);
	console = NULL;
	lfd = -1;
	rc = detach ? 0 : rcli_supervise(pid, master);
	if (master >= 0)
		close(master);
out:
	rcli_console_cleanup(console, lfd);
	free(text);
	json_decref(proc);
	json_decref(env_add);
	json_decref(caps_add);
	json_decref(gids);
	return rc;
}
