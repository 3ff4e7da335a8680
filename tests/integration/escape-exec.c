/* A program that embeds libberth, for runtime-escape.sh: runs `/sp/evil`
 * (a `#!/proc/self/exe` script) N times in a running container through
 * berth_runtime_exec, waiting for each. Whatever /proc/<pid>/exe of the
 * exec'd process shows must not be this program's file.
 *   escape-exec STATE_ROOT ID N */
#include <berth/berth.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	static const char proc[] =
		"{\"args\":[\"/sp/evil\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\",\"LD_LIBRARY_PATH=/berthlibs\"],"
		"\"user\":{\"uid\":0,\"gid\":0}}";
	berth_runtime_opts ro = BERTH_RUNTIME_OPTS_INIT;
	berth_ctx *ctx = NULL;
	berth_runtime *rt = NULL;
	berth_error *err = NULL;
	int n, ran = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: escape-exec STATE_ROOT ID N\n");
		return 2;
	}
	n = atoi(argv[3]);
	ro.root = argv[1];
	if (berth_ctx_new(&ctx, NULL, &err) < 0 || berth_runtime_new(ctx, &ro, &rt, &err) < 0)
		goto fail;
	for (int i = 0; i < n; i++) {
		berth_runtime_process *p = NULL;

		if (berth_runtime_exec(rt, argv[2], proc, NULL, &p, &err) < 0 ||
		    berth_runtime_process_wait(p, 20000, NULL, &err) < 0) {
			berth_runtime_process_free(p);
			goto fail;
		}
		berth_runtime_process_free(p);
		ran++;
	}
	printf("escape-exec: %d execs\n", ran);
	berth_runtime_free(rt);
	berth_ctx_free(ctx);
	return 0;
fail:
	fprintf(stderr, "escape-exec: %s\n", berth_error_message(err));
	berth_error_free(err);
	berth_runtime_free(rt);
	berth_ctx_free(ctx);
	return 1;
}
