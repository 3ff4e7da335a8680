/* Drives examples/berth/format.c on its own for tests/cli/format.bats:
 *   format-render FORMAT < ROWS.json   each element of the JSON array a row
 *   format-render --size BYTES
 *   format-render --since RFC3339 NOW_EPOCH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

int main(int argc, char **argv)
{
	static const struct fmt_header headers[] = { { "ID", "IMAGE ID" }, { "CreatedSince", "CREATED" },
						     { NULL, NULL } };
	char buf[64], *err = NULL;
	json_t *rows, *row;
	size_t i;
	fmt *f;

	if (argc == 3 && !strcmp(argv[1], "--size")) {
		fmt_size(atoll(argv[2]), buf, sizeof(buf));
		return puts(buf) < 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--since")) {
		fmt_since(argv[2], (time_t)atoll(argv[3]), buf, sizeof(buf));
		return puts(buf) < 0;
	}
	if (argc != 2 || !(rows = json_loadf(stdin, 0, NULL)) || !json_is_array(rows)) {
		fprintf(stderr, "usage: format-render FORMAT < ROWS.json\n");
		return 2;
	}
	if (!(f = fmt_new(argv[1], "table {{.ID}}", headers, stdout, &err))) {
		fprintf(stderr, "%s\n", err);
		free(err);
		json_decref(rows);
		return 1;
	}
	json_array_foreach (rows, i, row)
		if (fmt_row(f, row, &err) < 0) {
			fmt_finish(f);
			fprintf(stderr, "%s\n", err);
			free(err);
			json_decref(rows);
			return 1;
		}
	fmt_finish(f);
	json_decref(rows);
	return 0;
}
