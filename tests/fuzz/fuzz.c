/* The helpers of fuzz.h, and the replay main used when libFuzzer is not. */
#include "fuzz.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmpdir;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

void fuzz_empty_dir(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_tmpdir(void)
{
	fuzz_empty_dir(tmpdir);
	rmdir(tmpdir);
}

const char *fuzz_tmpdir(void)
{
	if (!tmpdir) {
		const char *base = getenv("TMPDIR");

		if (!(tmpdir = bt_strdup_printf("%s/berth-fuzz.XXXXXX", base && *base ? base : "/tmp")) ||
		    !mkdtemp(tmpdir))
			abort();
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

berth_ctx *fuzz_ctx(void)
{
	static berth_ctx *ctx;

	if (!ctx) {
		berth_ctx_opts co = BERTH_CTX_OPTS_INIT;
		char *root = bt_strdup_printf("%s/root", fuzz_tmpdir()),
		     *run = bt_strdup_printf("%s/run", fuzz_tmpdir());

		co.root = root;
		co.runroot = run;
		if (!root || !run || berth_ctx_new(&ctx, &co, NULL) < 0)
			abort();
		free(root);
		free(run);
	}
	return ctx;
}

void fuzz_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = bt_strdup_printf("%s/%s", dir, name);
	int fd;

	if (!path || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		abort();
	if (len && write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	free(path);
}

#ifndef BERTH_FUZZING
/* Without libFuzzer: runs each file given once, as libFuzzer does when
 * given files, and says how many it ran. */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *data = NULL;
		size_t len = 0;
		berth_error *err = NULL;

		if (bt_read_file(argv[i], 64u << 20, &data, &len, &err) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], berth_error_message(err));
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		free(data);
	}
	printf("%s: replayed %d inputs\n", argv[0], argc - 1);
	return 0;
}
#endif
