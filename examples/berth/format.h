/* Output as Docker users script it: Go-template --format (the subset people
 * use), the table directive with aligned columns, --format json, and Docker's
 * human sizes and times. Rows are JSON objects whose keys are Docker's field
 * names. */
#ifndef BERTH_CLI_FORMAT_H
#define BERTH_CLI_FORMAT_H

#include <stdio.h>
#include <time.h>

#include <jansson.h>

/* A field's column header in tables ("ID" -> "IMAGE ID"); fields without one
 * get their name in capitals. Lists end with { NULL, NULL }. */
struct fmt_header {
	const char *field, *header;
};

typedef struct fmt fmt;

/* Parses format: NULL, "" or "table" -> default_table; "json" -> each row as
 * one line of compact JSON; "table TEMPLATE" -> aligned columns under a
 * header; else TEMPLATE, one rendering per row, each followed by a newline.
 * "\t" and "\n" written as two characters in the format are a tab and a
 * newline. On a template error returns NULL and sets *error ("template:
 * 1:7: ..."; free() it). */
fmt *fmt_new(const char *format, const char *default_table, const struct fmt_header *headers,
	     FILE *out, char **error);
/* Renders one row (to out, or held back for a table); on an execution
 * error returns -1 and sets *error. */
int fmt_row(fmt *f, json_t *row, char **error);
/* Writes what a table held back (header and aligned rows); frees f. NULL is allowed. */
void fmt_finish(fmt *f);
/* True when the format asks for JSON ("json"). */
int fmt_is_json(const char *format);

/* Docker's sizes: powers of 1000, "B", "kB", "MB", "GB"..., three
 * significant digits ("4.87MB"); "N/A" for a negative size. */
void fmt_size(long long bytes, char *buf, size_t len);
/* Docker's "About an hour ago" for an RFC 3339 time, measured from now;
 * "N/A" when rfc3339 is NULL or does not parse. */
void fmt_since(const char *rfc3339, time_t now, char *buf, size_t len);

#endif
