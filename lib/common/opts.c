/* Options structs: the first field is the size the caller was compiled with,
 * so old callers and new callers both work against one library. */
#include "internal.h"

#include <string.h>

int bt_opts_copy(void *dst, size_t known_size, const void *src, const char *what,
		 berth_error **err)
{
	size_t size;
	const unsigned char *tail;

	if (!src)
		return 0;
	memcpy(&size, src, sizeof(size));
	if (size < sizeof(size_t))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "%s: size field is %zu; initialise the struct with its INIT macro",
				    what, size);
	tail = (const unsigned char *)src + known_size;
	for (size_t i = known_size; i < size; i++, tail++)
		if (*tail)
			return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
					    "%s: this libberth knows %zu bytes of it, and the caller set fields beyond them (a newer libberth is needed)",
					    what, known_size);
	memcpy(dst, src, size < known_size ? size : known_size);
	memcpy(dst, &known_size, sizeof(known_size));
	return 0;
}

void bt_opts_copy_out(void *dst, const void *src, size_t known_size)
{
	size_t size;

	memcpy(&size, dst, sizeof(size));
	if (size <= sizeof(size_t))
		return;
	memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
	       (size < known_size ? size : known_size) - sizeof(size_t));
}
