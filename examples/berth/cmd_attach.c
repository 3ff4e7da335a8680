/* berth attach, and the terminal of berth run -t: the container's stdio
 * through its monitor's socket, our terminal raw while attached, its size
 * followed (SIGWINCH). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "berth.h"

/* Signals while attached: SIGWINCH resizes the container's terminal, the
 * others go to the container (Docker's --sig-proxy). A thread waits for
 * them, so no handler runs inside the library's calls. */
struct relay {
	berth_ctx *ctx;
	const char *id;
	bool tty;
	sigset_t set;
};

static void resize(struct relay *r)
{
	struct winsize ws;

	if (r->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
		berth_container_resize(r->ctx, r->id, ws.ws_row, ws.ws_col, NULL);
}

static void *relay_signals(void *arg)
{
	struct relay *r = arg;
	int sig;

	while (sigwait(&r->set, &sig) == 0) {
		if (sig == SIGWINCH)
			resize(r);
		else
			berth_container_kill(r->ctx, r->id, sig, NULL);
	}
	return NULL;
}

/* Attaches our stdio to container id (stdin only when interactive), raw
 * when it has a terminal and ours is one; *detached when the keys came. */
static int attach_stdio(berth_ctx *ctx, const char *id, bool tty, bool interactive, const char *keys,
			berth_container_exit *how, int *detached)
{
	berth_container_attach_opts o = BERTH_CONTAINER_ATTACH_OPTS_INIT;
	struct relay r = { .ctx = ctx, .id = id, .tty = tty };
	struct termios saved, raw;
	bool restore = false;
	berth_error *err = NULL;
	pthread_t thread;
	int rc;

	/* (a raw terminal sends ^C as a byte; these come from elsewhere, and
	 * never end us with our terminal left raw) */
	sigemptyset(&r.set);
	sigaddset(&r.set, SIGWINCH);
	sigaddset(&r.set, SIGINT);
	sigaddset(&r.set, SIGTERM);
	sigaddset(&r.set, SIGHUP);
	sigaddset(&r.set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &r.set, NULL);
	pthread_create(&thread, NULL, relay_signals, &r);
	if (tty && interactive && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	resize(&r);
	o.stdin_fd = interactive ? STDIN_FILENO : -1;
	o.detach_keys = keys;
	rc = berth_container_attach(ctx, id, &o, how, detached, &err);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	pthread_cancel(thread);
	pthread_join(thread, NULL);
	if (rc < 0)
		cli_fail(err);
	return rc;
}

int cli_run_terminal(berth_ctx *ctx, const char *id, bool interactive, bool auto_remove)
{
	berth_container_start_opts so = BERTH_CONTAINER_START_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_error *err = NULL;
	int detached = 0, status;

	/* the monitor holds the output until we attach: none of it is missed */
	so.attach_first = 1;
	if (berth_container_start(ctx, id, &so, &err) < 0) {
		status = cli_start_status(err);
		if (auto_remove)
			berth_container_remove(ctx, id, BERTH_CONTAINER_REMOVE_FORCE, NULL);
		return status;
	}
	if (attach_stdio(ctx, id, true, interactive, NULL, &how, &detached) < 0)
		return 125;
	if (detached)
		return 0;
	if (how.code < 0 && berth_container_wait(ctx, id, -1, &how, NULL) < 0)
		return 125;
	return how.code < 0 ? 125 : how.code;
}

static const char attach_usage[] =
	"Usage: berth attach [OPTIONS] CONTAINER\n"
	"\n"
	"Attach local standard input, output, and error streams to a running container\n"
	"\n"
	"Options:\n"
	"      --detach-keys string   override the key sequence for detaching a container\n"
	"      --help                 show this help\n"
	"      --no-stdin             do not attach STDIN\n";

int cmd_attach(struct cli *cli, int argc, char **argv)
{
	enum { OPT_DETACH_KEYS = 256, OPT_NO_STDIN, OPT_SIG_PROXY };
	static const struct option options[] = {
		{ "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
		{ "no-stdin", no_argument, NULL, OPT_NO_STDIN },
		CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	const char *keys = NULL;
	bool interactive = true;
	berth_ctx *ctx;
	char *text;
	json_t *doc;
	int opt, detached = 0, tty;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, attach_usage)) != -1) {
		if (opt == OPT_DETACH_KEYS)
			keys = optarg;
		else if (opt == OPT_NO_STDIN)
			interactive = false;
		else
			return cli_opt_status(opt);
	}
	if (cli_args(argc, 1, 1, "attach", attach_usage) || !(ctx = cli_context(cli)))
		return 125;
	if (berth_container_inspect(ctx, argv[optind], &text, NULL) < 0) {
		tty = 0;
	} else {
		doc = json_loads(text, 0, NULL);
		tty = json_is_true(json_object_get(json_object_get(doc, "Config"), "Tty"));
		interactive &= json_is_true(json_object_get(json_object_get(doc, "Config"), "OpenStdin"));
		json_decref(doc);
		berth_string_free(text);
	}
	if (attach_stdio(ctx, argv[optind], tty, interactive, keys, &how, &detached) < 0) {
		berth_ctx_free(ctx);
		return 1;
	}
	if (!detached && how.code < 0)
		berth_container_wait(ctx, argv[optind], -1, &how, NULL);
	berth_ctx_free(ctx);
	return detached ? 0 : how.code < 0 ? 125 : how.code;
}
