/* A whole layer (an uncompressed tar, or gzip/zstd by its magic) through
 * the unpacker into an empty directory, as a pull does. Whatever the tar
 * says, nothing may appear outside that directory: the target watches a
 * sibling directory and the parent for anything new. */
#include "fuzz.h"
#include "storage-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries of dir (not . and ..). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *top, *layer, *outside;
	struct bt_unpack_params p = { .blob_size = -1, .what = "fuzz", .no_devices = true };
	berth_error *err = NULL;
	int comp = BT_COMPRESS_NONE, dirfd, blobfd;
	int64_t bytes = 0;

	if (!top) {
		/* top/ holds layer/ (where the unpack goes) and outside/ (a
		 * neighbour a "../" or a symlink would reach) */
		top = bt_strdup_printf("%s/unpack", fuzz_tmpdir());
		layer = bt_strdup_printf("%s/layer", top);
		outside = bt_strdup_printf("%s/outside", top);
		if (!top || !layer || !outside || mkdir(top, 0700) < 0 || mkdir(outside, 0700) < 0)
			abort();
	}
	if (mkdir(layer, 0755) < 0 || (dirfd = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	if ((blobfd = memfd_create("layer", MFD_CLOEXEC)) < 0 ||
	    (size && write(blobfd, data, size) != (ssize_t)size) || lseek(blobfd, 0, SEEK_SET) != 0)
		abort();
	if (size >= 4 && data[0] == 0x1f && data[1] == 0x8b)
		comp = BT_COMPRESS_GZIP;
	else if (size >= 4 && !memcmp(data, "\x28\xb5\x2f\xfd", 4))
		comp = BT_COMPRESS_ZSTD;
	p.blobfd = blobfd;
	p.compression = comp;
	if (bt_unpack_layer(dirfd, layer, &p, NULL, &bytes, &err) < 0) {
		FUZZ_CHECK(err);
		berth_error_free(err);
	}
	close(blobfd);
	close(dirfd);
	FUZZ_CHECK(count_entries(outside) == 0);
	FUZZ_CHECK(count_entries(top) == 2);
	FUZZ_CHECK(bt_rm_rf(layer, NULL) == 0);
	return 0;
}
