/* Shared by the fuzz targets (one per parser of outside input). Each target
 * defines LLVMFuzzerTestOneInput; with --enable-fuzzing libFuzzer drives it,
 * otherwise replay.c's main feeds it the files named on the command line, so
 * `make check` replays every corpus and regression input in every build. */
#ifndef BERTH_FUZZ_H
#define BERTH_FUZZ_H

#include "internal.h" /* first: config.h sets _GNU_SOURCE */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A target found something no parser may do (an escape, a lie about
 * success): abort so libFuzzer keeps the input and replay fails. */
#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* The input as a NUL-terminated string (inputs with a NUL stop there, as a
 * C caller's string would). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits the input at the first line feed: what comes before (a selector,
 * an option) and after (the document). Both malloc'd, NUL-terminated. */
static inline void fuzz_split(const uint8_t *data, size_t size, char **head, char **rest, size_t *restlen)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hl = nl ? (size_t)(nl - data) : size;

	*head = fuzz_string(data, hl);
	*restlen = nl ? size - hl - 1 : 0;
	*rest = fuzz_string(nl ? nl + 1 : data + size, *restlen);
}

/* The next line of the text at *pos, cut in place; NULL at the end, and at
 * an empty line, whose following text then goes to *rest. */
static inline char *fuzz_line(char **pos, char **rest)
{
	char *line = *pos, *nl;

	if (!line || !*line)
		return NULL;
	if ((nl = strchr(line, '\n')))
		*nl = '\0';
	*pos = nl ? nl + 1 : NULL;
	if (*line)
		return line;
	*rest = *pos;
	*pos = NULL;
	return NULL;
}

/* A context on a store of the run's own (<tmpdir>/root, <tmpdir>/run). */
berth_ctx *fuzz_ctx(void);
/* A temporary directory for the whole run, removed at exit. */
const char *fuzz_tmpdir(void);
/* Writes len bytes to dir/name (replacing it); aborts on failure. */
void fuzz_write_file(const char *dir, const char *name, const void *data, size_t len);
/* Removes everything below dir (not dir itself). */
void fuzz_empty_dir(const char *dir);

#endif
