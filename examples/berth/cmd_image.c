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
	CLI_HELP_OPTION, \
	{ "insecure-registry", required_argument, NULL, 'I' }, \
	{ "certs-dir", required_argument, NULL, 'C' }, \
	{ "auth-file", required_argument, NULL, 'A' }

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
			fmt_size(l->done, a, sizeof(a));
			fmt_size(l->total, b, sizeof(b));
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

/* "busybox" -> "docker.io/library/busybox:latest"; text itself when it does not parse */
static char *qualified(const char *text)
{
	berth_reference *ref;
	char *s;

	if (berth_reference_parse(text, &ref, NULL) < 0)
		return strdup(text);
	s = strdup(berth_reference_string(ref));
	berth_reference_free(ref);
	return s;
}

static const char pull_usage[] =
	"Usage: berth pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
	"\n"
	"Pull an image from a registry\n"
	"\n"
	"Options:\n"
	"      --auth-file FILE               credentials (default <root>/auth.json)\n"
	"      --certs-dir DIR                certs.d directory of registry CAs\n"
	"  -h, --help                         show this help\n"
	"      --insecure-registry HOST:PORT  plain http or unverified TLS to HOST:PORT\n"
	"      --no-unpack                    keep the blobs only; unpack nothing\n"
	"      --platform OS/ARCH[/VARIANT]   the platform of a multi-platform image\n"
	"  -q, --quiet                        print only the image reference\n";

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
	char *asked;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "q", options, pull_usage)) != -1) {
		if (opt == 'p')
			o.platform = optarg;
		else if (opt == 'q')
			view.quiet = true;
		else if (opt == 'N')
			unpack = false;
		else if (opt < 0)
			return cli_opt_status(opt);
		else if (reg_option(&r, opt) <= 0)
			return 1;
	}
	if (cli_args(argc, 1, 1, "pull", pull_usage))
		return 125;
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
	/* the reference asked for, fully qualified: the image's first tag may
	 * be another name of the same manifest */
	asked = qualified(argv[optind]);
	if (view.quiet) {
		printf("%s\n", asked);
	} else {
		printf("Digest: %s\n", berth_image_digest(img));
		printf("Status: %s %s\n", view.downloaded ? "Downloaded newer image for" : "Image is up to date for",
		       asked);
	}
	free(asked);
	berth_image_free(img);
	berth_ctx_free(ctx);
	return 0;
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

/* an image ID as Docker shows it: 12 hex digits, or whole with --no-trunc */
static json_t *image_id(const char *digest, bool trunc)
{
	const char *c = strchr(digest, ':');

	return trunc ? json_sprintf("%.12s", c ? c + 1 : digest) : json_string(digest);
}

/* Every size the CLI shows for an image is berth_image_size(): config and
 * layers as stored (compressed), what a pull downloads. */
static json_t *size_json(long long bytes)
{
	char buf[32];

	fmt_size(bytes, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *since_json(const char *created)
{
	char buf[64];

	fmt_since(created, time(NULL), buf, sizeof(buf));
	return json_string(buf);
}

/* one row of `images` with docker's fields */
static json_t *image_row(berth_ctx *ctx, const berth_image_list *list, size_t i, bool trunc)
{
	const char *digest = berth_image_list_digest(list, i);
	char repo[256], tag[130];
	berth_image *img = NULL;
	json_t *row;

	split_ref(berth_image_list_reference(list, i), repo, sizeof(repo), tag, sizeof(tag));
	berth_image_lookup(ctx, digest, &img, NULL);
	row = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "Containers", "N/A", "CreatedAt",
			img && berth_image_created(img) ? berth_image_created(img) : "", "Digest", digest,
			"Repository", repo, "ID", image_id(img ? berth_image_id(img) : digest, trunc),
			"CreatedSince", since_json(img ? berth_image_created(img) : NULL), "Size",
			size_json(img ? berth_image_size(img) : -1));
	json_object_set_new(row, "Tag", json_string(tag));
	json_object_set(row, "VirtualSize", json_object_get(row, "Size"));
	berth_image_free(img);
	return row;
}

/* docker images [REPOSITORY[:TAG]]: the repository, and the tag when given */
static bool image_matches(const char *listed, const char *want)
{
	const char *slash = strrchr(want, '/');
	bool tagged = strchr(slash ? slash : want, ':') != NULL;
	berth_reference *a, *b;
	bool same = false;

	if (berth_reference_parse(listed, &a, NULL) < 0)
		return false;
	if (berth_reference_parse(want, &b, NULL) == 0) {
		same = tagged ? !strcmp(berth_reference_string(a), berth_reference_string(b))
			      : !strcmp(berth_reference_name(a), berth_reference_name(b));
		berth_reference_free(b);
	}
	berth_reference_free(a);
	return same;
}

static const struct fmt_header image_headers[] = {
	{ "ID", "IMAGE ID" }, { "CreatedSince", "CREATED" }, { "CreatedAt", "CREATED AT" },
	{ "VirtualSize", "VIRTUAL SIZE" }, { NULL, NULL },
};

static const char images_usage[] =
	"Usage: berth images [OPTIONS] [REPOSITORY[:TAG]]\n"
	"\n"
	"List images\n"
	"\n"
	"Options:\n"
	"      --digests         show digests\n"
	"  -f, --format string   Go template, \"table\", \"table TEMPLATE\" or \"json\"\n"
	"  -h, --help            show this help\n"
	"      --no-trunc        do not truncate the output\n"
	"  -q, --quiet           only show image IDs\n";

int cmd_images(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "digests", no_argument, NULL, 'd' },
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, digests = false, trunc = true;
	const char *format = NULL;
	berth_error *err = NULL;
	berth_image_list *list;
	json_t *rows;
	berth_ctx *ctx;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "qf:", options, images_usage)) != -1) {
		if (opt == 'q')
			quiet = true;
		else if (opt == 'd')
			digests = true;
		else if (opt == 'n')
			trunc = false;
		else if (opt == 'f')
			format = optarg;
		else
			return cli_opt_status(opt);
	}
	if (cli_args(argc, 0, 1, "images", images_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_image_list_new(ctx, &list, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	rows = json_array();
	for (size_t i = 0; i < berth_image_list_count(list); i++)
		if (optind == argc || image_matches(berth_image_list_reference(list, i), argv[optind]))
			json_array_append_new(rows, image_row(ctx, list, i, trunc));
	if (quiet)
		format = "{{.ID}}";
	rc = cli_print_rows(format,
			    digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
				    : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
			    image_headers, rows);
	berth_image_list_free(list);
	berth_ctx_free(ctx);
	return rc;
}

/* ---- rmi, tag ---------------------------------------------------------------- */

static const char rmi_usage[] =
	"Usage: berth rmi [OPTIONS] IMAGE [IMAGE...]\n"
	"\n"
	"Remove one or more images\n"
	"\n"
	"Options:\n"
	"  -f, --force   remove the image even while it is in use\n"
	"  -h, --help    show this help\n";

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, flags = 0, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f", options, rmi_usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		flags |= BERTH_IMAGE_REMOVE_FORCE;
	}
	if (cli_args(argc, 1, -1, "rmi", rmi_usage))
		return 125;
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
}

static const char tag_usage[] =
	"Usage: berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n"
	"\n"
	"Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

int cmd_tag(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, tag_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 2, 2, "tag", tag_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	rc = berth_image_tag(ctx, argv[optind], argv[optind + 1], &err);
	berth_ctx_free(ctx);
	return rc < 0 ? cli_fail(err) : 0;
}

/* ---- inspect, history, prune -------------------------------------------------- */

static json_t *string_array(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* the layers of inspect: each one's digest, media type, size, diff ID and
 * unpacked size from the layer store (null when not unpacked); sets
 * *unpacked to their sum (-1 unless all are unpacked) */
static json_t *inspect_layers(const berth_image *img, const berth_storage_layers *ul, json_t *diff_ids,
			      long long *unpacked)
{
	json_t *layers = json_array();

	*unpacked = 0;
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
		*unpacked = size < 0 || *unpacked < 0 ? -1 : *unpacked + size;
	}
	return layers;
}

/* docker inspect's keys, plus the layers' diff IDs and unpacked sizes */
static json_t *inspect_json(const berth_image *img, const berth_storage_layers *ul)
{
	json_t *o = json_object(), *refs = json_array(), *labels = json_object(), *diff_ids = json_array();
	json_t *config = json_loads(berth_image_config_json(img), 0, NULL), *layers, *inner;
	long long unpacked;

	for (size_t i = 0; i < berth_image_reference_count(img); i++)
		json_array_append_new(refs, json_string(berth_image_reference(img, i)));
	layers = inspect_layers(img, ul, diff_ids, &unpacked);
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
	/* Docker's Config: the image config's "config" member (Env, Cmd, Labels...) */
	inner = json_object_get(config, "config");
	json_object_set_new(o, "Config", json_is_object(inner) ? json_incref(inner) : json_object());
	json_decref(config);
	return o;
}

static const char inspect_usage[] =
	"Usage: berth image inspect [OPTIONS] IMAGE [IMAGE...]\n"
	"\n"
	"Display detailed information on one or more images\n"
	"\n"
	"Options:\n"
	"  -f, --format string   Go template, or \"json\" (the default)\n"
	"  -h, --help            show this help\n";

/* the inspect document of one image, NULL after printing the error */
static json_t *inspect_one(berth_ctx *ctx, const char *name)
{
	berth_storage_layers *ul;
	berth_error *err = NULL;
	berth_image *img;
	json_t *o;

	if (berth_image_lookup(ctx, name, &img, &err) < 0) {
		cli_fail(err);
		return NULL;
	}
	if (berth_storage_layers_new(ctx, name, &ul, &err) < 0) {
		cli_fail(err);
		berth_image_free(img);
		return NULL;
	}
	o = inspect_json(img, ul);
	berth_storage_layers_free(ul);
	berth_image_free(img);
	return o;
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv)
{
	return cli_inspect(cli, argc, argv, "image inspect", inspect_usage, inspect_one);
}

static const char history_usage[] =
	"Usage: berth history [OPTIONS] IMAGE\n"
	"\n"
	"Show the history of an image, newest step first\n"
	"\n"
	"Options:\n"
	"  -f, --format string   Go template, \"table\", \"table TEMPLATE\" or \"json\"\n"
	"  -h, --help            show this help\n"
	"      --no-trunc        do not truncate the output\n"
	"  -q, --quiet           only show image IDs\n";

static const struct fmt_header history_headers[] = {
	{ "ID", "IMAGE" }, { "CreatedSince", "CREATED" }, { "CreatedAt", "CREATED AT" },
	{ "CreatedBy", "CREATED BY" }, { NULL, NULL },
};

/* the steps newest first, as docker history lists them; the image's ID on
 * the newest, "<missing>" on the others */
static json_t *history_rows(const berth_image *img, bool trunc)
{
	json_t *rows = json_array();

	for (size_t n = berth_image_history_count(img), i = n; i-- > 0;) {
		const char *by = berth_image_history_created_by(img, i);
		const char *created = berth_image_history_created(img, i);
		const char *comment = berth_image_history_comment(img, i);
		json_t *cb;

		by = by ? by : "";
		cb = trunc && strlen(by) > 45 ? json_sprintf("%.44s…", by) : json_string(by);
		json_array_append_new(rows, json_pack("{s:o, s:s, s:o, s:o, s:o, s:s}", "ID",
						      i == n - 1 ? image_id(berth_image_id(img), trunc)
								 : json_string("<missing>"),
						      "CreatedAt", created ? created : "", "CreatedSince",
						      since_json(created), "CreatedBy", cb, "Size",
						      size_json(berth_image_history_size(img, i)), "Comment",
						      comment ? comment : ""));
	}
	return rows;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	bool trunc = true, quiet = false;
	const char *format = NULL;
	berth_error *err = NULL;
	berth_image *img;
	berth_ctx *ctx;
	json_t *rows;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "qf:", options, history_usage)) != -1) {
		if (opt == 'n')
			trunc = false;
		else if (opt == 'q')
			quiet = true;
		else if (opt == 'f')
			format = optarg;
		else
			return cli_opt_status(opt);
	}
	if (cli_args(argc, 1, 1, "history", history_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	if (berth_image_lookup(ctx, argv[optind], &img, &err) < 0) {
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	rows = history_rows(img, trunc);
	rc = cli_print_rows(quiet ? "{{.ID}}" : format,
			    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
			    history_headers, rows);
	berth_image_free(img);
	berth_ctx_free(ctx);
	return rc;
}

static const char prune_usage[] =
	"Usage: berth image prune [OPTIONS]\n"
	"\n"
	"Remove the blobs no tagged image uses, the layers no image or snapshot\n"
	"holds, and what killed or crashed processes left in the store\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

static int cmd_image_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	unsigned long long bytes = 0, layer_bytes = 0;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char size[32];
	size_t n = 0;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, prune_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 0, 0, "image prune", prune_usage))
		return 125;
	if (!(ctx = cli_context(cli)))
		return 1;
	/* then what storage holds for nobody, and what dead processes left
	 * there (which the gc's own release sweeps only when it freed an
	 * image that held layers): all of it counted */
	if (berth_image_gc(ctx, &n, &bytes, &err) < 0 || berth_storage_prune(ctx, &layer_bytes, &err) < 0) {
		status = cli_fail(err);
	} else {
		bytes += layer_bytes;
		fmt_size((long long)bytes, size, sizeof(size));
		printf("Deleted %zu blobs, reclaimed %s\n", n, size);
	}
	berth_ctx_free(ctx);
	return status;
}

int cmd_image(struct cli *cli, int argc, char **argv)
{
	static const struct command subs[] = {
		{ "history", "show the history of an image", cmd_history },
		{ "inspect", "display detailed information on one or more images", cmd_image_inspect },
		{ "ls", "list images", cmd_images },
		{ "list", NULL, cmd_images },
		{ "mount", "mount an image's root file system read-only", cmd_image_mount },
		{ "prune", "remove the blobs no tagged image uses", cmd_image_prune },
		{ "pull", "pull an image from a registry", cmd_pull },
		{ "rm", "remove one or more images", cmd_rmi },
		{ "tag", "create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", cmd_tag },
		{ "unmount", "unmount an image's root file system", cmd_image_unmount },
		{ NULL, NULL, NULL },
	};

	return cli_group(cli, argc, argv, subs, "Manage images");
}

/* ---- login, logout ------------------------------------------------------------- */

static const char login_usage[] =
	"Usage: berth login [OPTIONS] SERVER\n"
	"\n"
	"Log in to a registry\n"
	"\n"
	"Options:\n"
	"      --auth-file FILE               credentials (default <root>/auth.json)\n"
	"      --certs-dir DIR                certs.d directory of registry CAs\n"
	"  -h, --help                         show this help\n"
	"      --insecure-registry HOST:PORT  plain http or unverified TLS to HOST:PORT\n"
	"  -p, --password string              password\n"
	"      --password-stdin               take the password from stdin\n"
	"  -u, --username string              username\n";

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

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "u:p:", options, login_usage)) != -1) {
		if (opt == 'u')
			user = optarg;
		else if (opt == 'p')
			pass = optarg;
		else if (opt == 's')
			from_stdin = true;
		else if (opt < 0)
			return cli_opt_status(opt);
		else if (reg_option(&r, opt) <= 0)
			return 1;
	}
	if (cli_args(argc, 1, 1, "login", login_usage))
		return 125;
	if (!user || (!pass && !from_stdin)) {
		fprintf(stderr, "berth: login needs --username and --password or --password-stdin\n%s", login_usage);
		return 125;
	}
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
}

static const char logout_usage[] =
	"Usage: berth logout [OPTIONS] SERVER\n"
	"\n"
	"Log out from a registry\n"
	"\n"
	"Options:\n"
	"      --auth-file FILE   credentials (default <root>/auth.json)\n"
	"  -h, --help             show this help\n";

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

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, logout_usage)) != -1)
		if (opt < 0)
			return cli_opt_status(opt);
		else if (reg_option(&r, opt) <= 0)
			return 1;
	if (cli_args(argc, 1, 1, "logout", logout_usage))
		return 125;
	o.auth_file = r.auth_file;
	if (!(ctx = cli_context(cli)))
		return 1;
	rc = berth_registry_logout(ctx, argv[optind], &o, &err);
	berth_ctx_free(ctx);
	if (rc < 0)
		return cli_fail(err);
	printf("Removing login credentials for %s\n", argv[optind]);
	return 0;
}
