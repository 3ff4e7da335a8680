/* berth exec, pause, unpause, restart, rename, top, container prune, and
 * the filters of ps */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
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
	char **ids, size[32];
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
	if (!force) {
		char answer[16] = "";

		printf("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
		fflush(stdout);
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	if (!(ctx = cli_context(cli)))
		return 125;
	if (berth_container_prune(ctx, &ids, &count, &bytes, &err) < 0) {
		status = cli_fail(err);
	} else {
		if (count)
			printf("Deleted Containers:\n");
		for (size_t i = 0; i < count; i++)
			printf("%s\n", ids[i]);
		if (count)
			printf("\n");
		fmt_size((long long)bytes, size, sizeof(size));
		printf("Total reclaimed space: %s\n", size);
		berth_container_ids_free(ids, count);
	}
	berth_ctx_free(ctx);
	return status;
}

/* ---- ps --filter -------------------------------------------------------------- */

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

int ps_filter_check(char *const *filters, size_t n)
{
	static const char *const keys[] = { "name", "id", "status", "exited", "label", "ancestor" };

	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(filters[i], '=');
		bool known = false;

		for (size_t k = 0; eq && k < sizeof(keys) / sizeof(keys[0]); k++)
			known |= strlen(keys[k]) == (size_t)(eq - filters[i]) && !strncmp(keys[k], filters[i], strlen(keys[k]));
		if (!known) {
			fprintf(stderr, "berth: invalid filter '%s'\n", filters[i]);
			return 1;
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
