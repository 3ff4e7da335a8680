/* The smallest program over libberth: open a context, print what the host
 * can do. Build it against an installed libberth with:
 *     cc hello.c $(pkg-config --cflags --libs libberth) -o hello */
#include <stdio.h>

#include <berth/berth.h>

int main(int argc, char **argv)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	berth_info *info = NULL;
	berth_ctx *ctx = NULL;

	if (argc > 1)
		opts.root = argv[1];
	if (berth_ctx_new(&ctx, &opts, &err) < 0 || berth_info_new(ctx, &info, &err) < 0) {
		fprintf(stderr, "hello: %s\n", berth_error_message(err));
		berth_error_free(err);
		berth_ctx_free(ctx);
		return 1;
	}
	printf("libberth %s (headers %s), store %s\n", berth_version(NULL, NULL, NULL),
	       BERTH_VERSION_STRING, berth_ctx_root(ctx));
	printf("cgroups: %s, overlayfs: %s\n", berth_info_lookup(info, "cgroup.mode"),
	       berth_info_lookup(info, "overlayfs"));
	berth_info_free(info);
	berth_ctx_free(ctx);
	return 0;
}
