/* The layer store: images resolved from the content store, their layers
 * unpacked into <root>/storage/layers/<chain-hex>/diff, shared by chain ID
 * and counted by their users in layers.json.
 *
 * Unpacking runs without the storage lock, into a dot-named temp directory;
 * only the renames into place and the change of layers.json happen under
 * it, so a long unpack never blocks another process for long, and a crash
 * leaves at worst a temp directory that no listing shows. */
#include "storage-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MANIFEST_MAX (4u << 20)
#define CONFIG_MAX (16u << 20)
#define LAYERS_JSON_MAX (64u << 20)
#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

struct layer_desc {
	char *media_type;
	char digest[BT_DIGEST_MAX];
	int64_t size;
	char diff_id[BT_DIGEST_MAX];
};

struct image_info {
	struct bt_image_layers l; /* may be handed on: layers keeps its own count */
	struct layer_desc *layers;
	size_t nlayers;
};

void bt_image_layers_free(struct bt_image_layers *l)
{
	if (!l)
		return;
	free(l->chain);
	free(l->diff_ids);
	bt_strv_free(l->dirs, l->dirs ? l->n : 0);
	memset(l, 0, sizeof(*l));
}

static void image_info_free(struct image_info *info)
{
	if (info->layers)
		for (size_t i = 0; i < info->nlayers; i++)
			free(info->layers[i].media_type);
	free(info->layers);
	info->layers = NULL;
	info->nlayers = 0;
	bt_image_layers_free(&info->l);
}

int bt_storage_dirs(const berth_ctx *ctx, char **dir, char **lock, berth_error **err)
{
	*dir = bt_strdup_printf("%s/storage", ctx->root);
	if (lock)
		*lock = *dir ? bt_strdup_printf("%s/storage.lock", *dir) : NULL;
	if (!*dir || (lock && !*lock)) {
		free(*dir);
		*dir = NULL;
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	return 0;
}

static const char *host_arch(void)
{
	static const struct { const char *uname, *oci; } arches[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" },
		{ "armv7l", "arm" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" },
	};
	struct utsname u;

	if (uname(&u) == 0)
		for (size_t i = 0; i < BT_ARRAY_SIZE(arches); i++)
			if (!strcmp(u.machine, arches[i].uname))
				return arches[i].oci;
	return "amd64";
}

/* A manifest or config from the content store, parsed. */
static int read_json_blob(berth_ctx *ctx, const char *digest, size_t max, json_t **out,
			  berth_error **err)
{
	char *buf;
	size_t len;
	int rc;

	if ((rc = berth_image_blob_read(ctx, digest, max, &buf, &len, err)) < 0)
		return rc;
	rc = bt_json_parse(buf, len, digest, out, err);
	free(buf);
	return rc;
}

/* From an index, the manifest for linux on this machine's architecture. */
static int pick_manifest(json_t *index, char digest[BT_DIGEST_MAX], berth_error **err)
{
	const char *arch = host_arch();
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, m) {
		json_t *p = json_object_get(m, "platform");
		const char *d = json_string_value(json_object_get(m, "digest"));

		if (d && p && !strcmp(json_string_value(json_object_get(p, "os")) ?: "", "linux") &&
		    !strcmp(json_string_value(json_object_get(p, "architecture")) ?: "", arch)) {
			snprintf(digest, BT_DIGEST_MAX, "%s", d);
			return bt_digest_validate(digest, err);
		}
	}
	return bt_error_set(err, BERTH_ENOTFOUND, 0, "no manifest for linux/%s in the index", arch);
}

/* The image manifest (an index resolved to this machine's platform) and
 * its config, through the image module's public calls. */
static int read_manifest(berth_ctx *ctx, const char *image, struct image_info *info, json_t **m,
			 json_t **config, berth_error **err)
{
	char *digest = NULL, *media_type = NULL;
	const char *cdigest;
	int rc;

	if ((rc = berth_image_resolve(ctx, image, &digest, &media_type, err)) < 0)
		return rc;
	snprintf(info->l.manifest, BT_DIGEST_MAX, "%s", digest);
	if ((rc = read_json_blob(ctx, digest, MANIFEST_MAX, m, err)) < 0)
		goto out;
	if (!strcmp(media_type, MEDIA_OCI_INDEX) || !strcmp(media_type, MEDIA_DOCKER_LIST)) {
		if ((rc = pick_manifest(*m, info->l.manifest, err)) < 0)
			goto out;
		json_decref(*m);
		*m = NULL;
		if ((rc = read_json_blob(ctx, info->l.manifest, MANIFEST_MAX, m, err)) < 0)
			goto out;
	}
	if ((rc = bt_json_string(json_object_get(*m, "config"), "config", "digest", true, &cdigest, err)) == 0)
		rc = read_json_blob(ctx, cdigest, CONFIG_MAX, config, err);
out:
	free(digest);
	free(media_type);
	return rc;
}

static int load_image(berth_ctx *ctx, const char *image, struct image_info *info, berth_error **err)
{
	json_t *m = NULL, *config = NULL, *layers, *diff_ids, *j;
	size_t i;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = read_manifest(ctx, image, info, &m, &config, err)) < 0 ||
	    (rc = bt_json_member(m, "", "layers", JSON_ARRAY, true, &layers, err)) < 0 ||
	    (rc = bt_json_member(json_object_get(config, "rootfs"), "rootfs", "diff_ids", JSON_ARRAY,
				 true, &diff_ids, err)) < 0)
		goto out;
	if (json_array_size(layers) != json_array_size(diff_ids)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0,
				  "the manifest lists %zu layers and the config %zu diff_ids",
				  json_array_size(layers), json_array_size(diff_ids));
		goto out;
	}
	info->l.n = info->nlayers = json_array_size(layers);
	if (!(info->layers = calloc(info->l.n + 1, sizeof(*info->layers))) ||
	    !(info->l.chain = calloc(info->l.n + 1, sizeof(*info->l.chain))) ||
	    !(info->l.diff_ids = calloc(info->l.n + 1, sizeof(*info->l.diff_ids)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	json_array_foreach(layers, i, j) {
		struct layer_desc *ld = &info->layers[i];
		const char *mt, *dg, *did;
		long long size;
		char path[48];

		snprintf(path, sizeof(path), "layers[%zu]", i);
		if ((rc = bt_json_string(j, path, "mediaType", true, &mt, err)) < 0 ||
		    (rc = bt_json_string(j, path, "digest", true, &dg, err)) < 0 ||
		    (rc = bt_json_int(j, path, "size", true, &size, err)) < 0)
			goto out;
		if (!(did = json_string_value(json_array_get(diff_ids, i)))) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "rootfs.diff_ids[%zu]: not a string", i);
			goto out;
		}
		if ((rc = bt_digest_validate(dg, err)) < 0 || (rc = bt_digest_validate(did, err)) < 0 ||
		    !(ld->media_type = strdup(mt))) {
			if (rc == 0)
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			goto out;
		}
		snprintf(ld->digest, BT_DIGEST_MAX, "%s", dg);
		snprintf(ld->diff_id, BT_DIGEST_MAX, "%s", did);
		snprintf(info->l.diff_ids[i], BT_DIGEST_MAX, "%s", did);
		ld->size = size;
		if ((rc = bt_chain_id(i ? info->l.chain[i - 1] : NULL, did, info->l.chain[i], err)) < 0)
			goto out;
	}
out:
	if (rc < 0) {
		bt_error_wrap(err, rc, "image %.200s", image);
		image_info_free(info);
	}
	json_decref(m);
	json_decref(config);
	return rc;
}

int bt_layers_of_image(berth_ctx *ctx, const char *image, struct bt_image_layers *out,
		       berth_error **err)
{
	struct image_info info;
	int rc;

	if ((rc = load_image(ctx, image, &info, err)) < 0)
		return rc;
	*out = info.l;
	memset(&info.l, 0, sizeof(info.l));
	image_info_free(&info);
	return 0;
}

static int layers_json_path(const berth_ctx *ctx, char **path, berth_error **err)
{
	if (!(*path = bt_strdup_printf("%s/storage/layers.json", ctx->root)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return 0;
}

int bt_layers_load(berth_ctx *ctx, json_t **out, berth_error **err)
{
	char *path;
	int rc;

	*out = NULL;
	if ((rc = layers_json_path(ctx, &path, err)) < 0)
		return rc;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*out = json_pack("{s:{}}", "layers");
		rc = *out ? 0 : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	} else if ((rc = bt_json_load_file(path, LAYERS_JSON_MAX, out, err)) == 0 &&
		   !json_is_object(json_object_get(*out, "layers"))) {
		json_decref(*out);
		*out = NULL;
		rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: \"layers\" is not an object", path);
	}
	free(path);
	return rc;
}

static int layers_save(berth_ctx *ctx, const json_t *j, berth_error **err)
{
	char *path;
	int rc;

	if ((rc = layers_json_path(ctx, &path, err)) < 0)
		return rc;
	rc = bt_json_write_atomic(path, j, err);
	free(path);
	return rc;
}

static char *layer_dir(const char *sdir, const char *chain)
{
	return bt_strdup_printf("%s/layers/%s", sdir, strchr(chain, ':') + 1);
}

/* Unpacks layer i of info into a new temp directory in sdir/layers (*tmp,
 * held while it is used). */
static int unpack_to_temp(berth_ctx *ctx, const char *sdir, const struct layer_desc *ld,
			  const char *chain, const berth_storage_unpack_opts *opts, const int *lowerfds,
			  size_t nlower, struct bt_tmpdir *tmp, int64_t *bytes, berth_error **err)
{
	unsigned char magic[8];
	struct bt_unpack_params p = { .blobfd = -1 };
	char *diff = NULL, *ldir, tag[17];
	long long size;
	ssize_t n;
	int dfd = -1, rc;

	snprintf(tag, sizeof(tag), "%.16s", strchr(chain, ':') + 1);
	if (!(ldir = bt_strdup_printf("%s/layers", sdir)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_tmpdir_make(ldir, tag, tmp, err);
	free(ldir);
	if (rc < 0)
		return rc;
	if (!(diff = bt_strdup_printf("%s/diff", tmp->path))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (mkdir(diff, 0755) < 0 ||
	    (dfd = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = bt_error_os(err, "creating %s", diff);
		goto out;
	}
	if ((rc = berth_image_blob_open(ctx, ld->digest, &p.blobfd, &size, err)) < 0)
		goto out;
	if ((n = pread(p.blobfd, magic, sizeof(magic), 0)) < 0) {
		rc = bt_error_os(err, "reading blob %s", ld->digest);
		goto out;
	}
	if ((rc = bt_layer_compression(ld->media_type, magic, (size_t)n, &p.compression, err)) < 0) {
		rc = bt_error_wrap(err, rc, "layer %s", ld->digest);
		goto out;
	}
	p.blob_size = size;
	p.what = ld->digest;
	p.diff_id = ld->diff_id;
	p.no_devices = opts->no_devices;
	p.progress = opts->progress;
	p.progress_userdata = opts->progress_userdata;
	p.lowerfds = lowerfds;
	p.nlower = nlower;
	rc = bt_unpack_layer(dfd, diff, &p, NULL, bytes, err);
out:
	if (p.blobfd >= 0)
		close(p.blobfd);
	if (dfd >= 0)
		close(dfd);
	free(diff);
	return rc;
}

/* The diff/ directories below layer i, topmost first, opened as needed:
 * the layer in place, or the temp directory it was just unpacked into. */
static int lowers_of(struct image_info *info, struct bt_tmpdir *tmp, int *fds, size_t i, int *out,
		     berth_error **err)
{
	for (size_t k = 0; k < i; k++) {
		size_t j = i - 1 - k;

		if (fds[j] < 0) {
			char *diff = bt_strdup_printf("%s/diff", tmp[j].path ?: info->l.dirs[j]);

			if (!diff)
				return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			fds[j] = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fds[j] < 0) {
				int rc = bt_error_os(err, "opening layer %s", diff);
				free(diff);
				return rc;
			}
			free(diff);
		}
		out[k] = fds[j];
	}
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* 1 when added, 0 when listed already, -1 when out of memory */
static int add_user(json_t *users, const char *user)
{
	size_t i;
	json_t *u;

	json_array_foreach(users, i, u)
		if (!strcmp(json_string_value(u) ?: "", user))
			return 0;
	return json_array_append_new(users, json_string(user)) < 0 ? -1 : 1;
}

/* Whether the record j lists the layer: a directory alone means nothing
 * (a removal or placing a crash cut short); only the record written after
 * the rename into place says a layer is whole. */
static bool recorded(json_t *j, const char *chain)
{
	return json_object_get(json_object_get(j, "layers"), chain) != NULL;
}

/* Renames layer i into place from its temp directory, unpacking it first
 * when there is none (the storage lock is held). */
static int place_layer(berth_ctx *ctx, const char *sdir, struct image_info *info, size_t i,
		       const berth_storage_unpack_opts *opts, struct bt_tmpdir *tmp, int *fds, int *lower,
		       int64_t *bytes, berth_error **err)
{
	int rc;

	if (!tmp[i].path && ((rc = lowers_of(info, tmp, fds, i, lower, err)) < 0 ||
			     (rc = unpack_to_temp(ctx, sdir, &info->layers[i], info->l.chain[i], opts,
						  lower, i, &tmp[i], &bytes[i], err)) < 0))
		return rc;
	if (rename(tmp[i].path, info->l.dirs[i]) < 0)
		return bt_error_os(err, "moving %s into place", tmp[i].path);
	bt_tmpdir_placed(&tmp[i]);
	return 0;
}

/* One bt_layers_prepare, phase by phase. */
struct prepare {
	berth_ctx *ctx;
	berth_storage_unpack_opts opts;
	struct image_info info;
	char *sdir, *lock, *user, *ldir;
	struct bt_tmpdir *tmp; /* by layer: unpacked, not yet placed */
	int64_t *bytes;
	int *fds, *lower;      /* lower layers' diff/ opened as needed */
	bool *placed;          /* renamed into place by this call */
	json_t *j;             /* layers.json */
	int lockfd;
};

static int prepare_start(struct prepare *p, const char *image, const berth_storage_unpack_opts *uopts,
			 const char *user, berth_error **err)
{
	size_t n;
	int rc;

	if ((rc = bt_opts_copy(&p->opts, sizeof(p->opts), uopts, "berth_storage_unpack_opts", err)) < 0 ||
	    (rc = bt_storage_dirs(p->ctx, &p->sdir, &p->lock, err)) < 0 ||
	    (rc = load_image(p->ctx, image, &p->info, err)) < 0)
		return rc;
	n = p->info.l.n + 1;
	if (!(p->user = user ? strdup(user) : bt_strdup_printf("image:%s", p->info.l.manifest)) ||
	    !(p->ldir = bt_strdup_printf("%s/layers", p->sdir)) || !(p->tmp = calloc(n, sizeof(*p->tmp))) ||
	    !(p->bytes = calloc(n, sizeof(*p->bytes))) || !(p->placed = calloc(n, sizeof(*p->placed))) ||
	    !(p->fds = calloc(n, sizeof(*p->fds))) || !(p->lower = calloc(n, sizeof(*p->lower))) ||
	    !(p->info.l.dirs = calloc(n, sizeof(*p->info.l.dirs))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < p->info.l.n; i++) {
		p->fds[i] = -1;
		if (!(p->info.l.dirs[i] = layer_dir(p->sdir, p->info.l.chain[i])))
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	return bt_mkdir_p(p->ldir, 0700, err);
}

/* Gives the parents a streamed layer made the attributes of its lowers. */
static int inherit_parents(struct prepare *p, size_t i, const struct bt_strv *implicit,
			   berth_error **err)
{
	char *diff;
	int dfd, rc;

	if ((rc = lowers_of(&p->info, p->tmp, p->fds, i, p->lower, err)) < 0)
		return rc;
	if (!(diff = bt_strdup_printf("%s/diff", p->tmp[i].path)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	dfd = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	rc = dfd < 0 ? bt_error_os(err, "opening %s", diff) : 0;
	for (size_t k = 0; rc == 0 && k < implicit->n; k++)
		rc = bt_unpack_inherit(dfd, implicit->v[k], p->lower, i, err);
	if (dfd >= 0)
		close(dfd);
	free(diff);
	return rc;
}

/* Layers unpacked while downloaded: checked against the config, then used
 * like our own (those the record lists already are left to the caller). */
static int take_streamed(struct prepare *p, struct bt_streamed_layer *streamed, size_t nstreamed,
			 berth_error **err)
{
	struct image_info *info = &p->info;
	int rc;

	for (size_t i = 0; streamed && i < info->l.n && i < nstreamed; i++) {
		if (!streamed[i].tmp.path)
			continue;
		if (strcmp(streamed[i].diff_id, info->layers[i].diff_id))
			return bt_error_set(err, BERTH_EINTEGRITY, 0,
					    "layer %s: the uncompressed layer has digest %s, the image config says %s",
					    info->layers[i].digest, streamed[i].diff_id, info->layers[i].diff_id);
		if (recorded(p->j, info->l.chain[i]))
			continue;
		p->tmp[i] = streamed[i].tmp;
		streamed[i].tmp.path = NULL;
		p->bytes[i] = streamed[i].bytes;
	}
	for (size_t i = 0; streamed && i < info->l.n && i < nstreamed; i++)
		if (p->tmp[i].path && streamed[i].implicit.n &&
		    (rc = inherit_parents(p, i, &streamed[i].implicit, err)) < 0)
			return rc;
	return 0;
}

/* Unpacks, without the lock, what the record (read unlocked: a hint) lacks. */
static int unpack_missing(struct prepare *p, berth_error **err)
{
	struct image_info *info = &p->info;
	int rc;

	for (size_t i = 0; i < info->l.n; i++)
		if (!p->tmp[i].path && !recorded(p->j, info->l.chain[i]) &&
		    ((rc = lowers_of(info, p->tmp, p->fds, i, p->lower, err)) < 0 ||
		     (rc = unpack_to_temp(p->ctx, p->sdir, &info->layers[i], info->l.chain[i], &p->opts,
					  p->lower, i, &p->tmp[i], &p->bytes[i], err)) < 0))
			return rc;
	return 0;
}

/* Under the lock: layer i in place and in the record, held by p->user;
 * *changed when the record changed. */
static int record_layer(struct prepare *p, size_t i, bool *changed, berth_error **err)
{
	struct image_info *info = &p->info;
	json_t *layers = json_object_get(p->j, "layers"), *entry = json_object_get(layers, info->l.chain[i]);
	int added, rc;

	if (!entry || !exists(info->l.dirs[i])) {
		/* not in the record (removed since we looked), or its directory
		 * lost: unpack again if needed, now locked */
		if ((rc = place_layer(p->ctx, p->sdir, info, i, &p->opts, p->tmp, p->fds, p->lower, p->bytes,
				      err)) < 0)
			return rc;
		p->placed[i] = *changed = true;
		if (!entry)
			entry = json_pack("{s:s, s:s?, s:s, s:I, s:[]}", "diff_id", info->layers[i].diff_id,
					  "parent", i ? info->l.chain[i - 1] : NULL, "blob", info->layers[i].digest,
					  "size", (json_int_t)p->bytes[i], "users");
		else
			json_object_set_new(entry, "size", json_integer((json_int_t)p->bytes[i]));
		if (!entry || json_object_set(layers, info->l.chain[i], entry) < 0)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		json_decref(entry);
	}
	if (!json_is_array(json_object_get(entry, "users")) ||
	    (added = add_user(json_object_get(entry, "users"), p->user)) < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "layers.json: layer %s has no users list",
				    info->l.chain[i]);
	*changed = *changed || added;
	return 0;
}

/* Under the lock: the sweep, every layer placed and recorded, the record
 * saved after the layers' files are on disk. */
static int record_layers(struct prepare *p, berth_error **err)
{
	bool changed, any_placed = false;
	int rc;

	json_decref(p->j);
	p->j = NULL;
	if ((rc = bt_lock_acquire(p->lock, BT_LOCK_EXCLUSIVE, &p->lockfd, err)) < 0 ||
	    (rc = bt_layers_load(p->ctx, &p->j, err)) < 0)
		return rc;
	changed = bt_storage_sweep(p->ctx, p->sdir, p->j); /* ours are held: only the dead's go */
	for (size_t i = 0; i < p->info.l.n; i++)
		if ((rc = record_layer(p, i, &changed, err)) < 0)
			return rc;
	/* the layers' files on disk before the record that lists them (a power
	 * loss must not leave a listed layer with empty files); a record that
	 * says the same is not rewritten (nor its inode changed) */
	for (size_t i = 0; i < p->info.l.n; i++)
		any_placed = any_placed || p->placed[i];
	if (any_placed && (rc = bt_syncfs(p->ldir, err)) < 0)
		return rc;
	if (changed && ((rc = layers_save(p->ctx, p->j, err)) < 0 || (any_placed && (rc = bt_fsync_dir(p->ldir, err)) < 0)))
		return rc;
	memset(p->placed, 0, (p->info.l.n + 1) * sizeof(*p->placed)); /* recorded: keep them */
	return 0;
}

static void prepare_free(struct prepare *p)
{
	/* on failure, layers this call put in place go again: the store is as before */
	for (size_t i = 0; p->placed && i < p->info.l.n; i++)
		if (p->placed[i])
			bt_rm_rf(p->info.l.dirs[i], NULL);
	for (size_t i = 0; p->tmp && i < p->info.l.n; i++)
		bt_tmpdir_remove(&p->tmp[i]);
	for (size_t i = 0; p->fds && i < p->info.l.n; i++)
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	if (p->lockfd >= 0)
		bt_lock_release(p->lockfd);
	json_decref(p->j);
	free(p->fds);
	free(p->lower);
	free(p->tmp);
	free(p->bytes);
	free(p->placed);
	free(p->user);
	free(p->ldir);
	free(p->sdir);
	free(p->lock);
	image_info_free(&p->info);
}

int bt_layers_prepare(berth_ctx *ctx, const char *image, const berth_storage_unpack_opts *uopts,
		      const char *user, struct bt_streamed_layer *streamed, size_t nstreamed,
		      struct bt_image_layers *out, berth_error **err)
{
	struct prepare p = { .ctx = ctx, .opts = BERTH_STORAGE_UNPACK_OPTS_INIT, .lockfd = -1 };
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	/* what the record lists now, read without the lock: a hint, checked again locked */
	if ((rc = prepare_start(&p, image, uopts, user, err)) == 0 &&
	    (rc = bt_layers_load(ctx, &p.j, err)) == 0 && (rc = take_streamed(&p, streamed, nstreamed, err)) == 0 &&
	    (rc = unpack_missing(&p, err)) == 0 && (rc = record_layers(&p, err)) == 0) {
		bt_log_debug(ctx, "storage", "image %s: %zu layers ready for %s", image, p.info.l.n, p.user);
		if (out) {
			*out = p.info.l;
			memset(&p.info.l, 0, sizeof(p.info.l));
		}
	}
	prepare_free(&p);
	return rc;
}

/* Moves the layers of gone (chain IDs) out of the namespace into held temp
 * directories (trash), under the storage lock, after the record dropped them. */
static int trash_layers(const char *sdir, const struct bt_strv *gone, struct bt_tmpdir *trash,
			berth_error **err)
{
	for (size_t i = 0; i < gone->n; i++) {
		const char *hex = strchr(gone->v[i], ':') ? strchr(gone->v[i], ':') + 1 : gone->v[i];
		char *dir = bt_strdup_printf("%s/layers/%s", sdir, hex), tag[24];
		int rc;

		if (!dir)
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		snprintf(tag, sizeof(tag), "rm-%.16s", hex);
		rc = bt_tmpdir_take(dir, tag, &trash[i], err);
		free(dir);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int bt_layers_release(berth_ctx *ctx, const char *user, int flags, uint64_t *freed, berth_error **err)
{
	bool must_exist = flags & BT_RELEASE_MUST_EXIST;
	char *sdir = NULL, *lock = NULL;
	struct bt_strv gone = { 0 };
	struct bt_tmpdir *trash = NULL;
	const char *key;
	json_t *j = NULL, *entry, *layers;
	bool found = false, swept;
	void *tmpit;
	int lockfd = -1, rc;

	if ((rc = bt_storage_dirs(ctx, &sdir, &lock, err)) < 0)
		return rc;
	if (!exists(sdir)) {
		rc = must_exist ? bt_error_set(err, BERTH_ENOTFOUND, 0, "%s holds no layers", user) : 0;
		goto out;
	}
	rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE | (flags & BT_RELEASE_NOWAIT ? BT_LOCK_NOWAIT : 0), &lockfd,
			     err);
	if (rc == BERTH_EBUSY && (flags & BT_RELEASE_NOWAIT)) {
		/* busy (perhaps with our own caller): the sweep drops the hold */
		bt_log_debug(ctx, "storage", "storage busy: the hold of %s goes with a later sweep", user);
		if (err) {
			berth_error_free(*err);
			*err = NULL;
		}
		rc = 0;
		goto out;
	}
	if (rc < 0 || (rc = bt_layers_load(ctx, &j, err)) < 0)
		goto out;
	swept = bt_storage_sweep(ctx, sdir, j);
	layers = json_object_get(j, "layers");
	json_object_foreach_safe(layers, tmpit, key, entry) {
		json_t *users = json_object_get(entry, "users");
		size_t i;
		json_t *u;

		json_array_foreach(users, i, u)
			if (!strcmp(json_string_value(u) ?: "", user)) {
				json_array_remove(users, i);
				found = true;
				break;
			}
		if (json_array_size(users) == 0) {
			if (bt_strv_add(&gone, strdup(key)) < 0) {
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
				goto out;
			}
			json_object_del(layers, key);
		}
	}
	if (!found && must_exist) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "%s holds no layers", user);
		goto out;
	}
	/* the record first, then the rename out of the namespace: a crash
	 * leaves a whole layer the record does not list (swept), never a
	 * listed layer that is half gone; the deletion runs unlocked */
	if ((!found && !gone.n && !swept) || (rc = layers_save(ctx, j, err)) < 0)
		goto out;
	if (!(trash = calloc(gone.n + 1, sizeof(*trash)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	rc = trash_layers(sdir, &gone, trash, err);
	bt_lock_release(lockfd);
	lockfd = -1;
	for (size_t i = 0; i < gone.n; i++) {
		int64_t size;

		bt_log_debug(ctx, "storage", "removing layer %s", gone.v[i]);
		/* the blocks it holds, as prune and df count leftovers */
		if (freed && trash[i].path && (size = bt_tree_size(trash[i].path)) > 0)
			*freed += (uint64_t)size;
		bt_tmpdir_remove(&trash[i]);
	}
out:
	if (lockfd >= 0)
		bt_lock_release(lockfd);
	bt_strv_free(gone.v, gone.n);
	free(trash);
	json_decref(j);
	free(sdir);
	free(lock);
	return rc;
}
