/* Small string helpers. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

char *bt_strdup_vprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

char *bt_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = bt_strdup_vprintf(fmt, ap);
	va_end(ap);
	return s;
}
