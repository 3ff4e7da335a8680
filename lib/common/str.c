/* Small string helpers: formatted strdup, a vector of owned strings, timestamps. */
#include "internal.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

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

void *bt_grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t want = *cap ? *cap * 2 : first;
	void *bigger;

	if (n < *cap)
		return v;
	if (want < *cap || want > SIZE_MAX / size || !(bigger = realloc(v, want * size)))
		return NULL;
	*cap = want;
	return bigger;
}

int bt_strv_add(struct bt_strv *sv, char *s)
{
	char **v;

	if (!s)
		return -1;
	if (!(v = bt_grow(sv->v, sv->n, &sv->cap, sizeof(*v), 16))) {
		free(s);
		return -1;
	}
	sv->v = v;
	sv->v[sv->n++] = s;
	return 0;
}

void bt_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void berth_string_free(char *s)
{
	free(s);
}

char *bt_now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return bt_strdup_printf("%s.%09ldZ", buf, ts.tv_nsec);
}
