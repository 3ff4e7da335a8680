/* berth pull, images, rmi, tag, image inspect, history, login, logout */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "berth.h"

/* Options shared by the commands that talk to registries. */
struct reg_opts {
	const char *insecure[16];
	int ninsecure;
	const char *certs_dir;
	const char *auth_file;
};

static int reg_option(struct reg_opts *r, int opt)
{
	switch (opt) {
	case 'I':
		if (r->ninsecure == 15) {
			fprintf(stderr, "berth: too many --insecure-registry options\n");
			return -1;
		}
		r->insecure[r->ninsecure++] = optarg;
		return 1;
	case 'C':
		r->certs_dir = optarg;
		return 1;
	case 'A':
		r->auth_file = optarg;
		return 1;
	}
	return 0;
}

#define REG_LONG_OPTIONS \
	{ "insecure-registry", required_argument, NULL, 'I' }, \
	{ "certs-dir", required_argument, NULL, 'C' }, \
	{ "auth-file", required_argument, NULL, 'A' }

static void human_size(long long n, char *buf, size_t len)
{
	if (n < 0)
		snprintf(buf, len, "-");
	else if (n < 1000)
		snprintf(buf, len, "%dB", (int)n);
	else if (n < 1000 * 1000)
		snprintf(buf, len, "%.1fkB", n / 1e3);
	else if (n < 1000LL * 1000 * 1000)
		snprintf(buf, len, "%.1fMB", n / 1e6);
	else
		snprintf(buf, len, "%.2fGB", n / 1e9);
}

/* ---- pull ----------------------------------------------------------------- */

struct layer_line {
	char id[13];
	char status[64];
	long long done, total;
};

struct pull_view {
	bool tty, quiet;
	struct layer_line *lines;
	size_t n, drawn;
	bool downloaded; /* some layer was not in the store */
};

static struct layer_line *view_line(struct pull_view *v, const char *digest)
{
	const char *hex = strchr(digest, ':') ? strchr(digest, ':') + 1 : digest;
	struct layer_line *l;

	for (size_t i = 0; i < v->n; i++)
		if (!strncmp(v->lines[i].id, hex, 12))
			return &v->lines[i];
	if (!(l = realloc(v->lines, (v->n + 1) * sizeof(*l))))
		return NULL;
	v->lines = l;
	l = &v->lines[v->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->id, sizeof(l->id), "%.12s", hex);
	return l;
}

static void view_draw(struct pull_view *v)
{
	/* move back over what was drawn and draw every line again */
	if (v->drawn)
		printf("\033[%zuA", v->drawn);
	for (size_t i = 0; i < v->n; i++) {
		struct layer_line *l = &v->lines[i];
		char bar[52] = "", a[32], b[32];

		printf("\033[2K%s: %s", l->id, l->status);
		if (!strcmp(l->status, "Downloading") && l->total > 0) {
			int w = (int)(l->done * 50 / l->total);

			memset(bar, '=', (size_t)w);
			if (w < 50)
				bar[w] = '>';
			human_size(l->done, a, sizeof(a));
			human_size(l->total, b, sizeof(b));
			printf(" [%-50s] %s/%s", bar, a, b);
		}
		putchar('\n');
	}
	v->drawn = v->n;
	fflush(stdout);
}

static int on_progress(berth_pull_stage stage, const char *digest, long long done, long long total,
		       void *userdata)
{
	static const char *const names[] = { "Resolving", "Waiting", "Already exists", "Downloading",
					     "Verifying Checksum", "Pull complete", "Done" };
	struct pull_view *v = userdata;
	struct layer_line *l;

	if (stage == BERTH_PULL_LAYER_DONE)
		v->downloaded = true;
	if (v->quiet || !digest || stage == BERTH_PULL_DONE || stage == BERTH_PULL_RESOLVING)
		return 0;
	if (!(l = view_line(v, digest)))
		return 0;
	if (!v->tty && stage == BERTH_PULL_LAYER_BYTES && !strcmp(l->status, "Downloading")) {
		l->done = done;
		return 0; /* plain output: one line per change of state, not per chunk */
	}
	snprintf(l->status, sizeof(l->status), "%s", names[stage]);
	l->done = done;
	l->total = total;
	if (v->tty)
		view_draw(v);
	else
		printf("%s: %s\n", l->id, l->status);
	return 0;
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-unpack", no_argument, NULL, 'N' },
		REG_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	berth_pull_opts o = BERTH_PULL_OPTS_INIT;
	bool unpack = true;
	struct pull_view view = { .tty = isatty(STDOUT_FILENO) };
	struct reg_opts r = { .ninsecure = 0 };
	berth_error *err = NULL;
	berth_image *img = NULL;
	berth_ctx *ctx;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", options, NULL)) != -1) {
		if (opt == 'p')
			o.platform = optarg;
		else if (opt == 'q')
			view.quiet = true;
		else if (opt == 'N')
			unpack = false;
		else if (reg_option(&r, opt) <= 0)
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	o.insecure_registries = r.insecure;
	o.certs_dir = r.certs_dir;
	o.auth_file = r.auth_file;
	o.progress = on_progress;
	o.userdata = &view;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (!view.quiet)
		printf("Pulling %s\n", argv[optind]);
	/* unpacked while it downloads, ready to run, as docker pull leaves it;
	 * --no-unpack keeps only the blobs (no root needed) */
	rc = unpack ? berth_storage_pull(ctx, argv[optind], &o, NULL, &img, &err)
		    : berth_image_pull(ctx, argv[optind], &o, &img, &err);
	free(view.lines);
	if (rc < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	if (view.quiet) {
		printf("%s\n", berth_image_reference(img, 0) ? berth_image_reference(img, 0) : berth_image_digest(img));
	} else {
		printf("Digest: %s\n", berth_image_digest(img));
		printf("Status: %s %s\n", view.downloaded ? "Downloaded newer image for" : "Image is up to date for",
		       berth_image_reference(img, 0) ? berth_image_reference(img, 0) : argv[optind]);
	}
	berth_image_free(img);
	berth_ctx_free(ctx);
	return 0;
usage:
	fprintf(stderr, "Usage: berth pull [-q] [--no-unpack] [--platform OS/ARCH[/VARIANT]]\n"
			"                  [--insecure-registry HOST:PORT]...\n"
			"                  [--certs-dir DIR] [--auth-file FILE] IMAGE\n");
	return 2;
}

/* ---- images ------------------------------------------------------------------ */

/* "docker.io/library/busybox:latest" -> "busybox" and "latest" */
static void split_ref(const char *text, char *repo, size_t rlen, char *tag, size_t tlen)
{
	berth_reference *ref;

	snprintf(repo, rlen, "%s", text);
	snprintf(tag, tlen, "<none>");
	if (berth_reference_parse(text, &ref, NULL) < 0)
		return;
	snprintf(repo, rlen, "%s", berth_reference_familiar_name(ref));
	if (berth_reference_tag(ref))
		snprintf(tag, tlen, "%s", berth_reference_tag(ref));
	berth_reference_free(ref);
}

static const char *short_id(const char *digest)
{
	const char *c = strchr(digest, ':');

	return c ? c + 1 : digest;
}

int cmd_images(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "digests", no_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, digests = false, json = false;
	berth_error *err = NULL;
	berth_image_list *list;
	json_t *arr = NULL;
	berth_ctx *ctx;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", options, NULL)) != -1) {
		if (opt == 'q')
			quiet = true;
		else if (opt == 'd')
			digests = true;
		else if (opt == 'f' && !strcmp(optarg, "json"))
			json = true;
		else if (opt == 'f' && !strcmp(optarg, "table"))
			json = false;
		else
			goto usage;
	}
	if (optind != argc)
		goto usage;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_image_list_new(ctx, &list, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	if (json)
		arr = json_array();
	else if (!quiet)
		printf(digests ? "%-40s %-16s %-72s %-13s %-21s %s\n" : "%-40s %-16s %-13s %-21s %s\n",
		       "REPOSITORY", "TAG", digests ? "DIGEST" : "IMAGE ID", digests ? "IMAGE ID" : "CREATED",
		       digests ? "CREATED" : "SIZE", digests ? "SIZE" : "");
	for (size_t i = 0; i < berth_image_list_count(list); i++) {
		const char *text = berth_image_list_reference(list, i);
		char repo[256], tag[130], size[32], id[13] = "";
		berth_image *img = NULL;
		const char *created = "";

		split_ref(text, repo, sizeof(repo), tag, sizeof(tag));
		if (berth_image_lookup(ctx, berth_image_list_digest(list, i), &img, NULL) == 0) {
			snprintf(id, sizeof(id), "%.12s", short_id(berth_image_id(img)));
			created = berth_image_created(img) ? berth_image_created(img) : "";
		}
		human_size(berth_image_list_size(list, i), size, sizeof(size));
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "Reference", text,
							     "Repository", repo, "Tag", tag, "Digest",
							     berth_image_list_digest(list, i), "ID",
							     img ? berth_image_id(img) : "", "Created", created,
							     "Size", (json_int_t)berth_image_list_size(list, i)));
		} else if (quiet) {
			printf("%s\n", id[0] ? id : short_id(berth_image_list_digest(list, i)));
		} else if (digests) {
			printf("%-40s %-16s %-72s %-13s %-21.20s %s\n", repo, tag, berth_image_list_digest(list, i), id,
			       created, size);
		} else {
			printf("%-40s %-16s %-13s %-21.20s %s\n", repo, tag, id, created, size);
		}
		berth_image_free(img);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	}
	berth_image_list_free(list);
	berth_ctx_free(ctx);
	return 0;
usage:
	fprintf(stderr, "Usage: berth images [-q] [--digests] [--format table|json]\n");
	return 2;
}

/* ---- rmi, tag ---------------------------------------------------------------- */

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, flags = 0, status = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f", options, NULL)) != -1) {
		if (opt != 'f')
			goto usage;
		flags |= BERTH_IMAGE_REMOVE_FORCE;
	}
	if (optind >= argc)
		goto usage;
	if (!(ctx = cli_context(cli)))
		return 1;
	for (int i = optind; i < argc; i++) {
		if (berth_image_remove(ctx, argv[i], flags, &err) < 0)
			status = cli_fail(err);
		else
			printf("Untagged: %s\n", argv[i]);
		err = NULL;
	}
	berth_ctx_free(ctx);
	return status;
usage:
	fprintf(stderr, "Usage: berth rmi [-f] IMAGE...\n");
	return 2;
}

int cmd_tag(struct cli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	berth_ctx *ctx;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "Usage: berth tag SOURCE_IMAGE TARGET_IMAGE[:TAG]\n");
		return 2;
	}
	if (!(ctx = cli_context(cli)))
		return 1;
	rc = berth_image_tag(ctx, argv[1], argv[2], &err);
	berth_ctx_free(ctx);
	return rc < 0 ? cli_fail(err) : 0;
}

/* ---- inspect, history -------------------------------------------------------- */

static json_t *string_array(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* docker inspect's keys, plus each layer's diff ID and unpacked size from
 * the layer store (null when not unpacked) and their sum (null unless all are). */
static json_t *inspect_json(const berth_image *img, const berth_storage_layers *ul)
{
	json_t *o = json_object(), *refs = json_array(), *layers = json_array(), *labels = json_object();
	json_t *config = json_loads(berth_image_config_json(img), 0, NULL), *diff_ids = json_array();
	long long unpacked = 0;

	for (size_t i = 0; i < berth_image_reference_count(img); i++)
		json_array_append_new(refs, json_string(berth_image_reference(img, i)));
	for (size_t i = 0; i < berth_image_layer_count(img); i++) {
		const char *diff_id = berth_storage_layers_diff_id(ul, i);
		long long size = berth_storage_layers_unpacked_size(ul, i);

		json_array_append_new(layers, json_pack("{s:s, s:s, s:I, s:s?, s:o}", "Digest",
							berth_image_layer_digest(img, i), "MediaType",
							berth_image_layer_media_type(img, i), "Size",
							(json_int_t)berth_image_layer_size(img, i), "DiffID",
							diff_id, "UnpackedSize",
							size < 0 ? json_null() : json_integer(size)));
		json_array_append_new(diff_ids, diff_id ? json_string(diff_id) : json_null());
		unpacked = size < 0 || unpacked < 0 ? -1 : unpacked + size;
	}
	for (size_t i = 0; i < berth_image_label_count(img); i++)
		json_object_set_new(labels, berth_image_label_key(img, i), json_string(berth_image_label_value(img, i)));
	json_object_set_new(o, "Id", json_string(berth_image_id(img)));
	json_object_set_new(o, "Digest", json_string(berth_image_digest(img)));
	json_object_set_new(o, "RepoTags", refs);
	json_object_set_new(o, "Created", berth_image_created(img) ? json_string(berth_image_created(img)) : json_null());
	json_object_set_new(o, "Architecture", json_string(berth_image_architecture(img) ? berth_image_architecture(img) : ""));
	if (berth_image_variant(img))
		json_object_set_new(o, "Variant", json_string(berth_image_variant(img)));
	json_object_set_new(o, "Os", json_string(berth_image_os(img) ? berth_image_os(img) : ""));
	json_object_set_new(o, "Size", json_integer(berth_image_size(img)));
	json_object_set_new(o, "UnpackedSize", unpacked < 0 ? json_null() : json_integer(unpacked));
	json_object_set_new(o, "Env", string_array(berth_image_env(img)));
	json_object_set_new(o, "Cmd", string_array(berth_image_cmd(img)));
	json_object_set_new(o, "Entrypoint", string_array(berth_image_entrypoint(img)));
	json_object_set_new(o, "ExposedPorts", string_array(berth_image_exposed_ports(img)));
	json_object_set_new(o, "Labels", labels);
	json_object_set_new(o, "Layers", layers);
	json_object_set_new(o, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", diff_ids));
	json_object_set_new(o, "Config", config ? config : json_null());
	return o;
}

int cmd_image(struct cli *cli, int argc, char **argv)
{
	berth_error *err = NULL;
	json_t *arr;
	berth_ctx *ctx;
	int status = 0;

	if (argc >= 2 && (!strcmp(argv[1], "ls") || !strcmp(argv[1], "list")))
		return cmd_images(cli, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rm"))
		return cmd_rmi(cli, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "pull"))
		return cmd_pull(cli, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "tag"))
		return cmd_tag(cli, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "history"))
		return cmd_history(cli, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "mount") || !strcmp(argv[1], "unmount")))
		return cmd_image_mount(cli, argc - 1, argv + 1); /* cmd_storage.c */
	if (argc == 2 && !strcmp(argv[1], "prune")) {
		unsigned long long bytes = 0;
		char size[32];
		size_t n = 0;

		if (!(ctx = cli_context(cli)))
			return 1;
		if (berth_image_gc(ctx, &n, &bytes, &err) < 0)
			status = cli_fail(err);
		else
			human_size((long long)bytes, size, sizeof(size)), printf("Deleted %zu blobs, reclaimed %s\n", n, size);
		berth_ctx_free(ctx);
		return status;
	}
	if (argc < 3 || strcmp(argv[1], "inspect")) {
		fprintf(stderr, "Usage: berth image inspect IMAGE...\n"
				"       berth image ls|rm|pull|tag|history|prune|mount|unmount ...\n");
		return 2;
	}
	if (!(ctx = cli_context(cli)))
		return 1;
	arr = json_array();
	for (int i = 2; i < argc; i++) {
		berth_storage_layers *ul;
		berth_image *img;

		if (berth_image_lookup(ctx, argv[i], &img, &err) < 0) {
			status = cli_fail(err);
			err = NULL;
			continue;
		}
		if (berth_storage_layers_new(ctx, argv[i], &ul, &err) < 0) {
			status = cli_fail(err);
			err = NULL;
			berth_image_free(img);
			continue;
		}
		json_array_append_new(arr, inspect_json(img, ul));
		berth_storage_layers_free(ul);
		berth_image_free(img);
	}
	json_dumpf(arr, stdout, JSON_INDENT(4));
	putchar('\n');
	json_decref(arr);
	berth_ctx_free(ctx);
	return status;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	bool trunc = true, quiet = false;
	berth_error *err = NULL;
	berth_image *img;
	berth_ctx *ctx;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", options, NULL)) != -1) {
		if (opt == 'n')
			trunc = false;
		else if (opt == 'q')
			quiet = true;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_image_lookup(ctx, argv[optind], &img, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	if (!quiet)
		printf("%-13s %-21s %-46s %-10s %s\n", "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
	for (size_t i = 0; i < berth_image_history_count(img); i++) {
		const char *by = berth_image_history_created_by(img, i);
		const char *created = berth_image_history_created(img, i);
		const char *comment = berth_image_history_comment(img, i);
		char id[13], size[32];

		snprintf(id, sizeof(id), "%.12s", i == 0 ? short_id(berth_image_id(img)) : "<missing>");
		if (quiet) {
			printf("%s\n", id);
			continue;
		}
		human_size(berth_image_history_size(img, i), size, sizeof(size));
		printf("%-13s %-21.20s %-46.*s %-10s %s\n", id, created ? created : "", trunc ? 45 : 4096,
		       by ? by : "", size, comment ? comment : "");
	}
	berth_image_free(img);
	berth_ctx_free(ctx);
	return 0;
usage:
	fprintf(stderr, "Usage: berth history [--no-trunc] [-q] IMAGE\n");
	return 2;
}

/* ---- login, logout ------------------------------------------------------------- */

int cmd_login(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, 's' },
		REG_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	struct reg_opts r = { .ninsecure = 0 };
	const char *user = NULL, *pass = NULL;
	char line[1024];
	berth_error *err = NULL;
	berth_ctx *ctx;
	bool from_stdin = false;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "u:p:", options, NULL)) != -1) {
		if (opt == 'u')
			user = optarg;
		else if (opt == 'p')
			pass = optarg;
		else if (opt == 's')
			from_stdin = true;
		else if (reg_option(&r, opt) <= 0)
			goto usage;
	}
	if (optind != argc - 1 || !user || (!pass && !from_stdin))
		goto usage;
	if (from_stdin) {
		if (!fgets(line, sizeof(line), stdin)) {
			fprintf(stderr, "berth: login: no password on standard input\n");
			return 1;
		}
		line[strcspn(line, "\r\n")] = '\0';
		pass = line;
	}
	o.insecure_registries = r.insecure;
	o.certs_dir = r.certs_dir;
	o.auth_file = r.auth_file;
	if (!(ctx = cli_context(cli)))
		return 1;
	rc = berth_registry_login(ctx, argv[optind], user, pass, &o, &err);
	berth_ctx_free(ctx);
	if (rc < 0)
		return cli_fail(err);
	printf("Login Succeeded\n");
	return 0;
usage:
	fprintf(stderr, "Usage: berth login -u USER (-p PASSWORD | --password-stdin) [--insecure-registry HOST:PORT]\n"
			"                   [--certs-dir DIR] [--auth-file FILE] SERVER\n");
	return 2;
}

int cmd_logout(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		REG_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	struct reg_opts r = { .ninsecure = 0 };
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1)
		if (reg_option(&r, opt) <= 0)
			goto usage;
	if (optind != argc - 1)
		goto usage;
	o.auth_file = r.auth_file;
	if (!(ctx = cli_context(cli)))
		return 1;
	rc = berth_registry_logout(ctx, argv[optind], &o, &err);
	berth_ctx_free(ctx);
	if (rc < 0)
		return cli_fail(err);
	printf("Removing login credentials for %s\n", argv[optind]);
	return 0;
usage:
	fprintf(stderr, "Usage: berth logout [--auth-file FILE] SERVER\n");
	return 2;
}
