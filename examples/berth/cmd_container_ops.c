/* berth exec, pause, unpause, restart, rename, top, container prune, cp,
 * export, diff, commit, stats, update, events, and the filters of ps */
#define _GNU_SOURCE /* strptime, timegm */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "berth.h"

/* ---- exec --------------------------------------------------------------- */

struct exec_io {
	bool interactive;
};

/* Copies between our terminal and the process's until the process's side
 * ends; our terminal in raw mode meanwhile, so keys reach it as typed. */
static void exec_terminal(int pid, int pty, void *userdata)
{
	struct exec_io *io = userdata;
	struct termios saved, raw;
	struct winsize ws;
	bool restore = false, in_open = io->interactive;
	char buf[8192];

	(void)pid;
	if (pty < 0)
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(pty, TIOCSWINSZ, &ws);
	if (io->interactive && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = pty, .events = POLLIN }, { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			/* EIO once the last process holding the terminal ended */
			if ((n = read(pty, buf, sizeof(buf))) <= 0)
				break;
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents) {
			if ((n = read(STDIN_FILENO, buf, sizeof(buf))) <= 0) {
				in_open = false;
				buf[0] = 4; /* EOF at our end: ^D at its end */
				n = write(pty, buf, 1);
			} else if (write(pty, buf, (size_t)n) < 0) {
				break;
			}
		}
	}
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

static const char exec_usage[] =
	"Usage: berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
	"\n"
	"Execute a command in a running container\n"
	"\n"
	"Options:\n"
	"  -d, --detach           detached mode: run command in the background\n"
	"  -e, --env list         set environment variables\n"
	"      --help             show this help\n"
	"  -i, --interactive      keep STDIN open even if not attached\n"
	"  -t, --tty              allocate a pseudo-TTY\n"
	"  -u, --user string      username or UID (format: <name|uid>[:<group|gid>])\n"
	"  -w, --workdir string   working directory inside the container\n";

/* Docker's exit status for a failed exec: 127 for a missing command, 126
 * for one that cannot run, 1 for a container that is not running. */
static int exec_status(berth_error *err)
{
	int code = berth_error_code(err);

	cli_fail(err);
	return code == BERTH_ENOTFOUND ? 127 : code == BERTH_EPERM ? 126 : code == BERTH_ESTATE ? 1 : 125;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "detach", no_argument, NULL, 'd' }, { "env", required_argument, NULL, 'e' },
		{ "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' }, { "workdir", required_argument, NULL, 'w' },
		CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	berth_container_exec_opts o = BERTH_CONTAINER_EXEC_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	struct exec_io io = { 0 };
	const char **env = calloc((size_t)argc + 1, sizeof(*env));
	int opt, nenv = 0, stdio[3] = { -1, 1, 2 }, status;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *text;

	optind = 0;
	/* "+": options end at the container; what follows is the command's */
	while ((opt = cli_getopt(argc, argv, "+de:itu:w:", options, exec_usage)) != -1) {
		switch (opt) {
		case 'd': o.detach = 1; break;
		case 'e': env[nenv++] = optarg; break;
		case 'i': io.interactive = true; break;
		case 't': o.tty = 1; break;
		case 'u': o.user = optarg; break;
		case 'w': o.workdir = optarg; break;
		default: free(env); return cli_opt_status(opt);
		}
	}
	if (cli_args(argc, 2, -1, "exec", exec_usage) || !(ctx = cli_context(cli))) {
		free(env);
		return 125;
	}
	/* an unknown container is Docker's 1, not the 127 of a missing command */
	if (berth_container_inspect(ctx, argv[optind], &text, &err) < 0) {
		free(env);
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	berth_string_free(text);
	o.env = env;
	o.cmd = (const char *const *)argv + optind + 1;
	if (io.interactive)
		stdio[0] = 0;
	if (o.detach)
		stdio[0] = stdio[1] = stdio[2] = -1;
	o.stdio = stdio;
	if (o.tty && !o.detach) {
		o.started = exec_terminal;
		o.userdata = &io;
	}
	if (berth_container_exec(ctx, argv[optind], &o, &how, &err) < 0)
		status = exec_status(err);
	else
		status = o.detach ? 0 : how.code < 0 ? 125 : how.code;
	free(env);
	berth_ctx_free(ctx);
	return status;
}

/* ---- pause, unpause, restart, rename -------------------------------------- */

/* Runs fn on each named container, printing each name done and each error;
 * 1 when any failed. */
static int each_container(struct cli *cli, int argc, char **argv, int (*fn)(berth_ctx *, const char *, int, berth_error **),
			  int arg)
{
	berth_error *err = NULL;
	berth_ctx *ctx = cli_context(cli);
	int status = 0;

	if (!ctx)
		return 125;
	for (int i = optind; i < argc; i++) {
		if (fn(ctx, argv[i], arg, &err) < 0) {
			status = 1;
			cli_fail(err);
			err = NULL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	berth_ctx_free(ctx);
	return status;
}

static int do_pause(berth_ctx *ctx, const char *name, int arg, berth_error **err)
{
	return arg ? berth_container_pause(ctx, name, err) : berth_container_unpause(ctx, name, err);
}

static int do_restart(berth_ctx *ctx, const char *name, int timeout, berth_error **err)
{
	return berth_container_restart(ctx, name, timeout, err);
}

static const char pause_usage[] =
	"Usage: berth pause CONTAINER [CONTAINER...]\n"
	"\n"
	"Pause all processes within one or more containers\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

static const char unpause_usage[] =
	"Usage: berth unpause CONTAINER [CONTAINER...]\n"
	"\n"
	"Unpause all processes within one or more containers\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

static int pause_command(struct cli *cli, int argc, char **argv, bool pause)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	const char *usage = pause ? pause_usage : unpause_usage;
	int opt;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, -1, pause ? "pause" : "unpause", usage))
		return 125;
	return each_container(cli, argc, argv, do_pause, pause);
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return pause_command(cli, argc, argv, true);
}

int cmd_unpause(struct cli *cli, int argc, char **argv)
{
	return pause_command(cli, argc, argv, false);
}

static const char restart_usage[] =
	"Usage: berth restart [OPTIONS] CONTAINER [CONTAINER...]\n"
	"\n"
	"Restart one or more containers\n"
	"\n"
	"Options:\n"
	"      --help       show this help\n"
	"  -t, --time int   seconds to wait before killing the container\n";

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "time", required_argument, NULL, 't' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	long timeout = -1;
	char *end;
	int opt;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "t:", options, restart_usage)) != -1) {
		if (opt != 't')
			return cli_opt_status(opt);
		if ((timeout = strtol(optarg, &end, 10)) < 0 || *end || timeout > 1000000) {
			fprintf(stderr, "berth: invalid argument \"%s\" for \"--time\" flag\n", optarg);
			return 125;
		}
	}
	if (cli_args(argc, 1, -1, "restart", restart_usage))
		return 125;
	return each_container(cli, argc, argv, do_restart, (int)timeout);
}

static const char rename_usage[] =
	"Usage: berth rename CONTAINER NEW_NAME\n"
	"\n"
	"Rename a container\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

int cmd_rename(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, rename_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 2, 2, "rename", rename_usage) || !(ctx = cli_context(cli)))
		return 125;
	if (berth_container_rename(ctx, argv[optind], argv[optind + 1], &err) < 0)
		status = cli_fail(err);
	berth_ctx_free(ctx);
	return status;
}

/* ---- top ------------------------------------------------------------------ */

static const char top_usage[] =
	"Usage: berth top CONTAINER\n"
	"\n"
	"Display the running processes of a container\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

/* Prints rows of strings in columns as Docker's tabwriter does: each
 * column as wide as its widest cell plus 3 spaces, the last one not padded. */
static void print_columns(const json_t *titles, const json_t *rows)
{
	size_t width[32] = { 0 }, ncol = json_array_size(titles) < 32 ? json_array_size(titles) : 32, i, c;
	const json_t *row;

	for (c = 0; c < ncol; c++)
		width[c] = strlen(json_string_value(json_array_get(titles, c)));
	json_array_foreach(rows, i, row)
		for (c = 0; c < ncol; c++) {
			const char *s = json_string_value(json_array_get(row, c));
			size_t n = s ? strlen(s) : 0;

			width[c] = n > width[c] ? n : width[c];
		}
	for (i = 0; i <= json_array_size(rows); i++) {
		const json_t *r = i ? json_array_get(rows, i - 1) : titles;

		for (c = 0; c < ncol; c++) {
			const char *s = json_string_value(json_array_get(r, c));

			if (c + 1 < ncol)
				printf("%-*s", (int)width[c] + 3, s ? s : "");
			else
				printf("%s\n", s ? s : "");
		}
	}
}

int cmd_top(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *text;
	json_t *doc;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, top_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, 1, "top", top_usage) || !(ctx = cli_context(cli)))
		return 125;
	if (berth_container_top(ctx, argv[optind], &text, &err) < 0) {
		status = cli_fail(err);
	} else {
		doc = json_loads(text, 0, NULL);
		print_columns(json_object_get(doc, "Titles"), json_object_get(doc, "Processes"));
		json_decref(doc);
		berth_string_free(text);
	}
	berth_ctx_free(ctx);
	return status;
}

/* ---- container prune --------------------------------------------------------- */

static const char prune_usage[] =
	"Usage: berth container prune [OPTIONS]\n"
	"\n"
	"Remove all stopped containers\n"
	"\n"
	"Options:\n"
	"  -f, --force   do not prompt for confirmation\n"
	"      --help    show this help\n";

int cmd_container_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	unsigned long long bytes;
	bool force = false;
	berth_ctx *ctx;
	char **ids;
	size_t count;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f", options, prune_usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		force = true;
	}
	if (cli_args(argc, 0, 0, "container prune", prune_usage))
		return 125;
	if (!force && !cli_confirm("This will remove all stopped containers."))
		return 0;
	if (!(ctx = cli_context(cli)))
		return 125;
	if (berth_container_prune(ctx, &ids, &count, &bytes, &err) < 0) {
		status = cli_fail(err);
	} else {
		cli_print_pruned("Containers", ids, count, bytes);
		berth_container_ids_free(ids, count);
	}
	berth_ctx_free(ctx);
	return status;
}

/* ---- ps --filter -------------------------------------------------------------- */

/* The creation time of container name (RFC 3339, one width for all, so
 * they compare as strings); NULL when there is no such container. */
static char *created_of(berth_ctx *ctx, const char *name)
{
	char *text = NULL, *created = NULL;
	json_t *doc;

	if (berth_container_inspect(ctx, name, &text, NULL) < 0)
		return NULL;
	if ((doc = json_loads(text, 0, NULL)))
		created = strdup(json_string_value(json_object_get(doc, "Created")) ?: "");
	json_decref(doc);
	berth_string_free(text);
	return created;
}

/* Whether one filter value matches the container's inspect document;
 * -1 for a filter ps does not know. */
static int filter_one(berth_ctx *ctx, const json_t *doc, const char *key, const char *value)
{
	const json_t *config = json_object_get(doc, "Config"), *state = json_object_get(doc, "State");
	const char *name = json_string_value(json_object_get(doc, "Name"));

	if (!strcmp(key, "name"))
		return name && strstr(name[0] == '/' ? name + 1 : name, value) != NULL;
	if (!strcmp(key, "id"))
		return !strncmp(json_string_value(json_object_get(doc, "Id")) ?: "", value, strlen(value));
	if (!strcmp(key, "status"))
		return !strcmp(json_string_value(json_object_get(state, "Status")) ?: "", value);
	if (!strcmp(key, "exited")) {
		char code[32];

		snprintf(code, sizeof(code), "%lld", (long long)json_integer_value(json_object_get(state, "ExitCode")));
		return !strcmp(json_string_value(json_object_get(state, "Status")) ?: "", "exited") && !strcmp(code, value);
	}
	if (!strcmp(key, "label")) {
		const char *eq = strchr(value, '=');
		char *k = eq ? strndup(value, (size_t)(eq - value)) : strdup(value);
		const json_t *v = json_object_get(json_object_get(config, "Labels"), k ? k : "");

		free(k);
		return v && (!eq || !strcmp(json_string_value(v) ?: "", eq + 1));
	}
	if (!strcmp(key, "before") || !strcmp(key, "since")) {
		char *ref = created_of(ctx, value);
		int cmp = ref ? strcmp(json_string_value(json_object_get(doc, "Created")) ?: "", ref) : 0;

		free(ref);
		return ref && (key[0] == 'b' ? cmp < 0 : cmp > 0);
	}
	if (!strcmp(key, "health")) {
		const char *h = json_string_value(json_object_get(json_object_get(state, "Health"), "Status"));

		return !strcmp(h ? h : "none", value);
	}
	if (!strcmp(key, "ancestor")) {
		berth_image *img = NULL;
		int match = !strcmp(json_string_value(json_object_get(config, "Image")) ?: "", value);

		/* the image by any of its names or its id */
		if (!match && berth_image_lookup(ctx, value, &img, NULL) == 0)
			match = !strcmp(berth_image_id(img), json_string_value(json_object_get(doc, "Image")) ?: "");
		berth_image_free(img);
		return match;
	}
	return -1;
}

int ps_filter_check(berth_ctx *ctx, char *const *filters, size_t n)
{
	static const char *const keys[] = { "name", "id", "status", "exited", "label", "ancestor",
					    "before", "since", "health" };

	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(filters[i], '=');
		bool known = false;

		for (size_t k = 0; eq && k < sizeof(keys) / sizeof(keys[0]); k++)
			known |= strlen(keys[k]) == (size_t)(eq - filters[i]) && !strncmp(keys[k], filters[i], strlen(keys[k]));
		if (!known) {
			fprintf(stderr, "berth: invalid filter '%s'\n", filters[i]);
			return 1;
		}
		/* before= and since= name a container, which must exist */
		if (!strncmp(filters[i], "before=", 7) || !strncmp(filters[i], "since=", 6)) {
			berth_error *err = NULL;
			char *text = NULL;

			if (berth_container_inspect(ctx, eq + 1, &text, &err) < 0)
				return cli_fail(err), 1;
			berth_string_free(text);
		}
	}
	return 0;
}

bool ps_filter_match(berth_ctx *ctx, const json_t *doc, char *const *filters, size_t n)
{
	/* values of one key: any may match; different keys: all must */
	for (size_t i = 0; i < n; i++) {
		size_t klen = strcspn(filters[i], "=");
		bool any = false;

		for (size_t j = 0; j < n && !any; j++) {
			char key[32];

			if (strncmp(filters[i], filters[j], klen) || filters[j][klen] != '=' || klen >= sizeof(key))
				continue;
			snprintf(key, sizeof(key), "%.*s", (int)klen, filters[j]);
			any = filter_one(ctx, doc, key, filters[j] + klen + 1) == 1;
		}
		if (!any)
			return false;
	}
	return true;
}

/* ---- cp, export ------------------------------------------------------------ */

/* "CONTAINER:PATH" splits into its container and path; a local path
 * (absolute, or starting with '.', or without ':') gives NULL. */
static char *cp_container(const char *arg, const char **path)
{
	const char *colon = strchr(arg, ':');

	*path = arg;
	if (arg[0] == '/' || arg[0] == '.' || !colon || colon == arg)
		return NULL;
	*path = colon + 1;
	return strndup(arg, (size_t)(colon - arg));
}

/* A host path made absolute: the storage calls resolve below "/". */
static char *host_path(const char *p)
{
	char cwd[4096];

	if (p[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(p);
	size_t n = strlen(cwd) + strlen(p) + 2;
	char *out = malloc(n);

	if (out)
		snprintf(out, n, "%s/%s", cwd, p);
	return out;
}

/* dest split into the directory the copy lands in and the name it takes
 * (NULL: the source's own), as Docker does: into dest when it is a
 * directory, else as dest's last component in its parent. */
static void cp_target(const char *dest, bool dest_is_dir, char **dir, char **as)
{
	char *copy = strdup(dest), *slash;
	size_t n = strlen(copy);

	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	if (dest_is_dir) {
		*dir = copy;
		*as = NULL;
		return;
	}
	slash = strrchr(copy, '/');
	*as = strdup(slash ? slash + 1 : copy);
	if (slash)
		*slash = '\0';
	*dir = slash ? strdup(slash == copy ? "/" : copy) : strdup(".");
	free(copy);
}

struct tar_writer {
	berth_ctx *ctx;
	const char *container; /* NULL: the host */
	const char *path, *as;
	int fd, rc;
	berth_error *err;
};

static void *write_tar(void *arg)
{
	struct tar_writer *w = arg;

	w->rc = w->container ? berth_container_copy_from(w->ctx, w->container, w->path, w->as, w->fd, &w->err)
			     : berth_storage_copy_out(w->ctx, "/", w->path, w->as, w->fd, &w->err);
	close(w->fd);
	return NULL;
}

/* Copies between the host and a container through a pipe: one thread
 * writes the tar of the source, this one extracts it. */
static int cp_through_pipe(berth_ctx *ctx, struct tar_writer *w, const char *to_container, const char *dir)
{
	berth_error *err = NULL;
	pthread_t thread;
	int pipefd[2], rc, status = 0;

	if (pipe(pipefd) < 0) {
		perror("berth: pipe");
		return 1;
	}
	w->fd = pipefd[1];
	pthread_create(&thread, NULL, write_tar, w);
	rc = to_container ? berth_container_copy_to(ctx, to_container, dir, pipefd[0], &err)
			  : berth_storage_copy_in(ctx, "/", dir, pipefd[0], &err);
	close(pipefd[0]); /* a writer still going gets EPIPE and ends */
	pthread_join(thread, NULL);
	/* when both failed, the one that did not fail for the other's closed
	 * pipe is the cause */
	if (w->rc < 0 && (rc == 0 || berth_error_errno(w->err) != EPIPE)) {
		status = cli_fail(w->err);
		berth_error_free(err);
	} else if (rc < 0) {
		status = cli_fail(err);
		berth_error_free(w->err);
	}
	return status;
}

static const char cp_usage[] =
	"Usage: berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
	"       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n"
	"\n"
	"Copy files/folders between a container and the local filesystem\n"
	"\n"
	"Use '-' as the source to read a tar archive from stdin and extract it to a\n"
	"directory destination in a container. Use '-' as the destination to stream a\n"
	"tar archive of a container source to stdout. Owners and modes are kept.\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

static int cp_run(berth_ctx *ctx, const char *src_ct, const char *src, const char *dst_ct, const char *dst)
{
	struct tar_writer w = { .ctx = ctx };
	berth_error *err = NULL;
	char *dir = NULL, *as = NULL, *abs = NULL;
	int status = 0, is_dir = 0;
	struct stat st;

	/* an unknown container is said first, not as a broken pipe */
	if (berth_container_inspect(ctx, src_ct ? src_ct : dst_ct, &abs, &err) < 0)
		return cli_fail(err);
	berth_string_free(abs);
	abs = NULL;
	if (src_ct && !strcmp(dst, "-")) {
		if (berth_container_copy_from(ctx, src_ct, src, NULL, STDOUT_FILENO, &err) < 0)
			status = cli_fail(err);
		return status;
	}
	if (dst_ct && !strcmp(src, "-")) {
		if (berth_container_copy_to(ctx, dst_ct, dst, STDIN_FILENO, &err) < 0)
			status = cli_fail(err);
		return status;
	}
	if (src_ct) {
		abs = host_path(dst);
		cp_target(abs, stat(abs, &st) == 0 && S_ISDIR(st.st_mode), &dir, &as);
		w.container = src_ct;
		w.path = src;
	} else {
		int rc = berth_container_path_is_dir(ctx, dst_ct, dst, &is_dir, &err);

		if (rc < 0 && rc != BERTH_ENOTFOUND) {
			return cli_fail(err);
		}
		berth_error_free(err);
		cp_target(dst, is_dir, &dir, &as);
		abs = host_path(src);
		w.path = abs;
	}
	w.as = as;
	status = cp_through_pipe(ctx, &w, dst_ct, dir);
	free(dir);
	free(as);
	free(abs);
	return status;
}

int cmd_cp(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	const char *src, *dst;
	char *src_ct, *dst_ct;
	berth_ctx *ctx;
	int opt, status;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, cp_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 2, 2, "cp", cp_usage))
		return 125;
	src_ct = cp_container(argv[optind], &src);
	dst_ct = cp_container(argv[optind + 1], &dst);
	if (!src_ct == !dst_ct) {
		fprintf(stderr, "berth: %s\n", src_ct ? "copying between containers is not supported"
						     : "must specify at least one container source");
		free(src_ct);
		free(dst_ct);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN); /* a pipe's reader that failed is reported, not fatal */
	if (!(ctx = cli_context(cli))) {
		free(src_ct);
		free(dst_ct);
		return 125;
	}
	status = cp_run(ctx, src_ct, *src ? src : "/", dst_ct, *dst ? dst : "/");
	berth_ctx_free(ctx);
	free(src_ct);
	free(dst_ct);
	return status;
}

static const char export_usage[] =
	"Usage: berth export [OPTIONS] CONTAINER\n"
	"\n"
	"Export a container's filesystem as a tar archive\n"
	"\n"
	"Options:\n"
	"      --help            show this help\n"
	"  -o, --output string   write to a file, instead of STDOUT\n";

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, fd = STDOUT_FILENO, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "o:", options, export_usage)) != -1) {
		if (opt != 'o')
			return cli_opt_status(opt);
		output = optarg;
	}
	if (cli_args(argc, 1, 1, "export", export_usage))
		return 125;
	if (!output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "berth: cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
		return 1;
	}
	if (!(ctx = cli_context(cli)))
		return 125;
	if (output && (fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "berth: open %s: %s\n", output, strerror(errno));
		berth_ctx_free(ctx);
		return 1;
	}
	if (berth_container_export(ctx, argv[optind], fd, &err) < 0) {
		status = cli_fail(err);
		if (output)
			unlink(output);
	}
	if (output)
		close(fd);
	berth_ctx_free(ctx);
	return status;
}

/* ---- diff ------------------------------------------------------------------ */

static const char diff_usage[] =
	"Usage: berth diff CONTAINER\n"
	"\n"
	"Inspect changes to files or directories on a container's filesystem:\n"
	"A a file or directory was added, D deleted, C changed\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_error *err = NULL;
	berth_ctx *ctx;
	json_t *changes, *c;
	char *text;
	size_t i;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, diff_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, 1, "diff", diff_usage) || !(ctx = cli_context(cli)))
		return 125;
	if (berth_container_diff(ctx, argv[optind], &text, &err) < 0) {
		status = cli_fail(err);
	} else {
		changes = json_loads(text, 0, NULL);
		json_array_foreach(changes, i, c)
			printf("%c %s\n", "CAD"[json_integer_value(json_object_get(c, "Kind")) % 3],
			       json_string_value(json_object_get(c, "Path")));
		json_decref(changes);
		berth_string_free(text);
	}
	berth_ctx_free(ctx);
	return status;
}

/* ---- stats, update ------------------------------------------------------------ */

/* Bytes as Docker's stats shows them: binary units, "1.5MiB". */
static void binary_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.4g%s" : "%.0f%s", v, units[u]);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct stats_sample {
	char *name, *id;
	berth_cgroup_stats s;
	unsigned long long rx, tx; /* bytes through the container's links but lo */
	long long at;
	bool ok, net_ok;
};

/* Sums /proc/PID/net/dev, the network namespace the container's init is
 * in, over its links but lo (as Docker counts its networks). */
static bool net_io(berth_ctx *ctx, const char *id, unsigned long long *rx, unsigned long long *tx)
{
	char *text = NULL, path[64], line[512];
	json_int_t pid = 0;
	json_t *doc;
	FILE *f;

	if (berth_container_inspect(ctx, id, &text, NULL) < 0)
		return false;
	if ((doc = json_loads(text, 0, NULL)))
		pid = json_integer_value(json_object_get(json_object_get(doc, "State"), "Pid"));
	json_decref(doc);
	berth_string_free(text);
	snprintf(path, sizeof(path), "/proc/%lld/net/dev", (long long)pid);
	if (pid <= 0 || !(f = fopen(path, "re")))
		return false;
	*rx = *tx = 0;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned long long r, t;

		/* "  eth0: RXBYTES packets errs drop fifo frame compressed multicast TXBYTES ..." */
		if (sscanf(line, " %63[^:]: %llu %*u %*u %*u %*u %*u %*u %*u %llu", name, &r, &t) == 3 &&
		    strcmp(name, "lo"))
			*rx += r, *tx += t;
	}
	fclose(f);
	return true;
}

static void stats_take(berth_ctx *ctx, struct stats_sample *x)
{
	berth_cgroup_stats init = BERTH_CGROUP_STATS_INIT;

	x->s = init;
	x->ok = berth_container_stats(ctx, x->id, &x->s, NULL) == 0;
	x->net_ok = x->ok && net_io(ctx, x->id, &x->rx, &x->tx);
	x->at = now_ns();
}

/* "read / written" in Docker's decimal units; "--" when unknown. */
static void io_pair(bool ok, uint64_t in, uint64_t out, char *buf, size_t len)
{
	char a[32], b[32];

	if (!ok || in == BERTH_CGROUP_UNKNOWN || out == BERTH_CGROUP_UNKNOWN) {
		snprintf(buf, len, "--");
		return;
	}
	fmt_size((long long)in, a, sizeof(a));
	fmt_size((long long)out, b, sizeof(b));
	snprintf(buf, len, "%s / %s", a, b);
}

/* One row of Docker's stats table from two samples of a container. */
static json_t *stats_row(const struct stats_sample *a, const struct stats_sample *b, bool trunc)
{
	char cpu[32] = "--", mem[96] = "--", memp[32] = "--", pids[32] = "--", used[32], limit[32];
	char net[80], block[80];
	uint64_t lim = b->s.memory_limit;

	if (b->ok && a->ok && b->s.cpu_usage_ns != BERTH_CGROUP_UNKNOWN && b->at > a->at)
		snprintf(cpu, sizeof(cpu), "%.2f%%",
			 (double)(b->s.cpu_usage_ns - a->s.cpu_usage_ns) * 100.0 / (double)(b->at - a->at));
	if (lim == BERTH_CGROUP_UNLIMITED || lim == BERTH_CGROUP_UNKNOWN)
		lim = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	if (b->ok && b->s.memory_usage != BERTH_CGROUP_UNKNOWN) {
		binary_size(b->s.memory_usage, used, sizeof(used));
		binary_size(lim, limit, sizeof(limit));
		snprintf(mem, sizeof(mem), "%s / %s", used, limit);
		snprintf(memp, sizeof(memp), "%.2f%%", lim ? (double)b->s.memory_usage * 100.0 / (double)lim : 0.0);
	}
	if (b->ok && b->s.pids_current != BERTH_CGROUP_UNKNOWN)
		snprintf(pids, sizeof(pids), "%llu", (unsigned long long)b->s.pids_current);
	io_pair(b->net_ok, b->rx, b->tx, net, sizeof(net));
	io_pair(b->ok, b->s.io_read_bytes, b->s.io_write_bytes, block, sizeof(block));
	return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", b->id, trunc ? (size_t)12 : strlen(b->id),
			 "Name", b->name, "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp, "NetIO", net,
			 "BlockIO", block, "PIDs", pids);
}

/* The containers stats shows: those named, else every running one. */
static size_t stats_targets(berth_ctx *ctx, int argc, char **argv, struct stats_sample **out)
{
	struct stats_sample *v = calloc((size_t)argc + 1, sizeof(*v));
	char **ids = NULL;
	size_t n = 0, count = 0;

	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			v[n].name = strdup(argv[i]);
			v[n++].id = strdup(argv[i]);
		}
	} else if (berth_container_ids(ctx, &ids, &count, NULL) == 0) {
		v = realloc(v, (count + 1) * sizeof(*v));
		for (size_t i = 0; i < count; i++) {
			char *text;
			json_t *doc;

			if (berth_container_inspect(ctx, ids[i], &text, NULL) < 0)
				continue;
			doc = json_loads(text, 0, NULL);
			berth_string_free(text);
			if (json_is_true(json_object_get(json_object_get(doc, "State"), "Running"))) {
				const char *name = json_string_value(json_object_get(doc, "Name"));

				memset(&v[n], 0, sizeof(v[n]));
				v[n].name = strdup(name && name[0] == '/' ? name + 1 : name ? name : "");
				v[n++].id = strdup(ids[i]);
			}
			json_decref(doc);
		}
		berth_container_ids_free(ids, count);
	}
	*out = v;
	return n;
}

static const char stats_usage[] =
	"Usage: berth stats [OPTIONS] [CONTAINER...]\n"
	"\n"
	"Display a live stream of container(s) resource usage statistics\n"
	"\n"
	"Options:\n"
	"      --format string   Go template, \"table TEMPLATE\" or \"json\"\n"
	"      --help            show this help\n"
	"      --no-stream       disable streaming stats and only pull the first result\n"
	"      --no-trunc        do not truncate output\n";

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'F' }, { "no-stream", no_argument, NULL, 'S' },
		{ "no-trunc", no_argument, NULL, 'T' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	static const struct fmt_header headers[] = {
		{ "ID", "CONTAINER ID" }, { "CPUPerc", "CPU %" }, { "MemUsage", "MEM USAGE / LIMIT" },
		{ "MemPerc", "MEM %" }, { "NetIO", "NET I/O" }, { "BlockIO", "BLOCK I/O" }, { NULL, NULL },
	};
	bool stream = true, trunc = true;
	const char *format = NULL;
	struct stats_sample *a, *b;
	berth_ctx *ctx;
	size_t n;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, stats_usage)) != -1) {
		if (opt == 'F')
			format = optarg;
		else if (opt == 'S')
			stream = false;
		else if (opt == 'T')
			trunc = false;
		else
			return cli_opt_status(opt);
	}
	if (!(ctx = cli_context(cli)))
		return 125;
	n = stats_targets(ctx, argc, argv, &a);
	b = calloc(n + 1, sizeof(*b));
	for (size_t i = 0; i < n; i++) {
		char *text;
		berth_error *err = NULL;

		berth_cgroup_stats init = BERTH_CGROUP_STATS_INIT;

		b[i].s = init;
		/* a named container that is unknown or stopped is an error, as in Docker */
		if (optind < argc && berth_container_stats(ctx, a[i].id, &b[i].s, &err) < 0) {
			status = cli_fail(err);
			goto out;
		}
		if (optind < argc && berth_container_inspect(ctx, a[i].id, &text, NULL) == 0) {
			json_t *doc = json_loads(text, 0, NULL);

			free(a[i].id);
			a[i].id = strdup(json_string_value(json_object_get(doc, "Id")));
			json_decref(doc);
			berth_string_free(text);
		}
		stats_take(ctx, &a[i]);
	}
	do {
		json_t *rows = json_array();

		/* CPU % over the time between two samples */
		usleep(stream ? 1000 * 1000 : 500 * 1000);
		for (size_t i = 0; i < n; i++) {
			b[i].name = a[i].name;
			b[i].id = a[i].id;
			stats_take(ctx, &b[i]);
			json_array_append_new(rows, stats_row(&a[i], &b[i], trunc));
			a[i].s = b[i].s;
			a[i].ok = b[i].ok;
			a[i].at = b[i].at;
		}
		if (stream)
			printf("\033[2J\033[H");
		status = cli_print_rows(format,
					"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
					headers, rows);
		fflush(stdout);
	} while (stream && !status);
out:
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].id);
	}
	free(a);
	free(b);
	berth_ctx_free(ctx);
	return status;
}

static const char update_usage[] =
	"Usage: berth update [OPTIONS] CONTAINER [CONTAINER...]\n"
	"\n"
	"Update configuration of one or more containers\n"
	"\n"
	"Options:\n"
	"  -c, --cpu-shares int      CPU shares (relative weight)\n"
	"      --cpus decimal        number of CPUs\n"
	"      --help                show this help\n"
	"  -m, --memory bytes        memory limit\n"
	"      --memory-swap bytes   swap limit equal to memory plus swap: -1 unlimited\n"
	"      --pids-limit int      tune container pids limit (-1 for unlimited)\n";

static int update_option(berth_container_update_opts *o, int opt)
{
	char *end;
	double cpus;

	switch (opt) {
	case 'c':
		if ((o->cpu_shares = strtoll(optarg, &end, 10)) <= 0 || *end)
			break;
		return 0;
	case 'C':
		if ((cpus = strtod(optarg, &end)) <= 0 || *end)
			break;
		o->nano_cpus = (long long)(cpus * 1e9);
		return 0;
	case 'm':
		if ((o->memory = cli_bytes(optarg)) <= 0)
			break;
		return 0;
	case 'S':
		if (!strcmp(optarg, "-1"))
			o->memory_swap = -1;
		else if ((o->memory_swap = cli_bytes(optarg)) <= 0)
			break;
		return 0;
	case 'P':
		if ((o->pids_limit = strtoll(optarg, &end, 10)) < -1 || !o->pids_limit || *end)
			break;
		return 0;
	default:
		return cli_opt_status(opt);
	}
	fprintf(stderr, "berth: invalid argument \"%s\" for the flag\n", optarg);
	return 125;
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "cpu-shares", required_argument, NULL, 'c' }, { "cpus", required_argument, NULL, 'C' },
		{ "memory", required_argument, NULL, 'm' }, { "memory-swap", required_argument, NULL, 'S' },
		{ "pids-limit", required_argument, NULL, 'P' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	berth_container_update_opts o = BERTH_CONTAINER_UPDATE_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, rc, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "c:m:", options, update_usage)) != -1)
		if (opt < 0 || (rc = update_option(&o, opt)))
			return opt < 0 ? cli_opt_status(opt) : rc;
	if (cli_args(argc, 1, -1, "update", update_usage) || !(ctx = cli_context(cli)))
		return 125;
	for (int i = optind; i < argc; i++) {
		if (berth_container_update(ctx, argv[i], &o, &err) < 0) {
			status = cli_fail(err);
			err = NULL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	berth_ctx_free(ctx);
	return status;
}

/* ---- commit ----------------------------------------------------------------- */

static const char commit_usage[] =
	"Usage: berth commit [OPTIONS] CONTAINER REPOSITORY[:TAG]\n"
	"\n"
	"Create a new image from a container's changes\n"
	"\n"
	"Options:\n"
	"  -a, --author string    author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
	"  -c, --change list      apply Dockerfile instruction to the created image (CMD,\n"
	"                         ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, STOPSIGNAL)\n"
	"      --help             show this help\n"
	"  -m, --message string   commit message\n";

int cmd_commit(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "author", required_argument, NULL, 'a' }, { "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	berth_container_commit_opts o = BERTH_CONTAINER_COMMIT_OPTS_INIT;
	const char **changes = calloc((size_t)argc + 1, sizeof(*changes));
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *id;
	int opt, n = 0, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "a:c:m:", options, commit_usage)) != -1) {
		if (opt == 'a') {
			o.author = optarg;
		} else if (opt == 'c') {
			changes[n++] = optarg;
		} else if (opt == 'm') {
			o.comment = optarg;
		} else {
			free(changes);
			return cli_opt_status(opt);
		}
	}
	/* Docker allows an untagged commit; the store keeps tagged images only */
	if (cli_args(argc, 2, 2, "commit", commit_usage) || !(ctx = cli_context(cli))) {
		free(changes);
		return 125;
	}
	o.changes = changes;
	o.tag = argv[optind + 1];
	if (berth_container_commit(ctx, argv[optind], &o, &id, &err) < 0) {
		status = cli_fail(err);
	} else {
		printf("%s\n", id);
		berth_string_free(id);
	}
	free(changes);
	berth_ctx_free(ctx);
	return status;
}

/* ---- events ------------------------------------------------------------------- */

/* --since/--until: seconds since the epoch ("1700000000.5"), a duration
 * before now ("10m", "2h", "30s"), or RFC 3339 ("2026-12-03T14:00:00Z");
 * ns since the epoch, or -1 when malformed. */
static long long event_time(const char *s)
{
	struct timespec now;
	struct tm tm = { 0 };
	char *end;
	double v = strtod(s, &end);

	clock_gettime(CLOCK_REALTIME, &now);
	if (end != s && !*end)
		return (long long)(v * 1e9);
	if (end != s && end[1] == '\0' && strchr("smh", *end)) {
		double unit = *end == 's' ? 1 : *end == 'm' ? 60 : 3600;

		return (long long)now.tv_sec * 1000000000LL + now.tv_nsec - (long long)(v * unit * 1e9);
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		end += 1 + strspn(end + 1, "0123456789");
	if (*end && strcmp(end, "Z"))
		return -1;
	return (long long)timegm(&tm) * 1000000000LL;
}

/* Docker's line: "TIME container ACTION ID (image=..., name=...)". */
static int print_event(const char *line, void *userdata)
{
	const char *format = userdata;
	json_t *ev = json_loads(line, 0, NULL), *attrs, *v;
	long long ns = (long long)json_integer_value(json_object_get(ev, "timeNano"));
	time_t secs = (time_t)(ns / 1000000000LL);
	const char *key, *sep = "";
	char when[64];
	struct tm tm;

	if (format) {
		int rc = cli_print_rows(format, NULL, NULL, json_pack("[O]", ev));

		json_decref(ev);
		fflush(stdout);
		return rc;
	}
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s.%09lldZ %s %s %s (", when, ns % 1000000000LL, json_string_value(json_object_get(ev, "Type")),
	       json_string_value(json_object_get(ev, "Action")), json_string_value(json_object_get(ev, "id")));
	attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
	json_object_foreach(attrs, key, v) {
		printf("%s%s=%s", sep, key, json_string_value(v));
		sep = ", ";
	}
	printf(")\n");
	fflush(stdout);
	json_decref(ev);
	return 0;
}

static const char events_usage[] =
	"Usage: berth events [OPTIONS]\n"
	"\n"
	"Get real time events from the engine (create, start, kill, pause, unpause,\n"
	"rename, commit, destroy)\n"
	"\n"
	"Options:\n"
	"  -f, --format string   format the output using the given Go template (\"json\": a line of JSON)\n"
	"      --help            show this help\n"
	"      --since string    show all events created since timestamp\n"
	"      --until string    stream events until this timestamp\n";

int cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' }, { "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	long long since = -1, until = 0;
	const char *format = NULL;
	berth_error *err = NULL;
	struct timespec now;
	berth_ctx *ctx;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f:", options, events_usage)) != -1) {
		if (opt == 'f') {
			format = optarg;
		} else if (opt == 'S' || opt == 'U') {
			long long t = event_time(optarg);

			if (t < 0) {
				fprintf(stderr, "berth: invalid value for \"--%s\": \"%s\"\n", opt == 'S' ? "since" : "until", optarg);
				return 125;
			}
			*(opt == 'S' ? &since : &until) = t;
		} else {
			return cli_opt_status(opt);
		}
	}
	if (cli_args(argc, 0, 0, "events", events_usage) || !(ctx = cli_context(cli)))
		return 125;
	/* without --since, what happens from now on, as Docker streams it */
	clock_gettime(CLOCK_REALTIME, &now);
	if (since < 0)
		since = until ? 0 : (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	if (format && !strcmp(format, "json"))
		format = "{{json .}}";
	if (berth_container_events(ctx, since, until, 1, print_event, (void *)format, &err) < 0)
		status = cli_fail(err);
	berth_ctx_free(ctx);
	return status;
}
