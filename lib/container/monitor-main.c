/* berth-monitor: the supervisor of one started container (see
 * berth/container.h). berth_container_start runs it with the container's
 * stdio (or /dev/null) on 0-2 and a pipe on 3 for its one line of report:
 *
 *     berth-monitor --root ROOT --runroot RUNROOT --attached|--detached|--attach-first ID
 *
 * (--attach-first: detached, reading no output before the first attach).
 *
 * It forks once so that it is nobody's child to wait for, and lives as
 * long as the container. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <berth/berth.h>

int main(int argc, char **argv)
{
	berth_ctx_opts o = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_ctx *ctx;
	static const int stdio[3] = { 0, 1, 2 };
	int attached, flags;
	pid_t pid;

	if (argc != 7 || strcmp(argv[1], "--root") || strcmp(argv[3], "--runroot") ||
	    (strcmp(argv[5], "--attached") && strcmp(argv[5], "--detached") && strcmp(argv[5], "--attach-first"))) {
		fprintf(stderr, "usage: berth-monitor --root ROOT --runroot RUNROOT --attached|--detached|--attach-first ID\n"
				"(started by libberth for each container; not a command to run)\n");
		return 2;
	}
	attached = !strcmp(argv[5], "--attached");
	flags = !strcmp(argv[5], "--attach-first") ? BERTH_CONTAINER_SUPERVISE_ATTACH_FIRST : 0;
	if ((pid = fork()) < 0) {
		dprintf(3, "error -6 berth-monitor: fork failed\n");
		return 1;
	}
	if (pid > 0)
		_exit(0); /* no exit handlers: a sanitizer's report would go to the container's stdio */
	o.root = argv[2];
	o.runroot = argv[4];
	if (berth_ctx_new(&ctx, &o, &err) < 0) {
		dprintf(3, "error %d %s\n", berth_error_code(err), berth_error_message(err));
		return 1;
	}
	if (berth_container_supervise(ctx, argv[6], attached ? stdio : NULL, flags, 3, &err) < 0) {
		berth_error_free(err);
		berth_ctx_free(ctx);
		return 1;
	}
	berth_ctx_free(ctx);
	return 0;
}
