/* Named volumes: the store under <root>/volumes, create, inspect, list,
 * remove and prune. */
#include "volume-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAX (1 << 20)
#define NAME_MAX_LEN 255

bool bt_vol_valid_name(const char *n)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t len = n ? strlen(n) : 0;

	return len >= 2 && len <= NAME_MAX_LEN && strchr(alnum, n[0]) &&
	       strspn(n + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len - 1;
}

static int bad_name(const char *name, berth_error **err)
{
	return bt_error_set(err, BERTH_EINVAL, 0,
			    "\"%.300s\" includes invalid characters for a local volume name, only "
			    "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
			    "directory, use absolute path", name ? name : "");
}

char *bt_vol_path(const struct bt_vol *v, const char *name, const char *file)
{
	return file ? bt_strdup_printf("%s/%s/%s", v->root, name, file) : bt_strdup_printf("%s/%s", v->root, name);
}

/* Removes what killed creates and removals left; exclusive lock held. */
static void sweep(berth_ctx *ctx, const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p;
		berth_error *err = NULL;

		if (strncmp(e->d_name, ".tmp-", 5) && strncmp(e->d_name, ".trash-", 7))
			continue;
		if (!(p = bt_strdup_printf("%s/%s", root, e->d_name)))
			break;
		if (bt_rm_rf(p, &err) < 0) {
			bt_log_warn(ctx, "volume", "%s", berth_error_message(err));
			berth_error_free(err);
		}
		free(p);
	}
	if (d)
		closedir(d);
}

int bt_vol_open(berth_ctx *ctx, int lock, struct bt_vol *v, berth_error **err)
{
	char *lockpath;
	int rc;

	v->lock_fd = -1;
	if (!(v->root = bt_strdup_printf("%s/volumes", ctx->root)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_mkdir_p(v->root, 0701, err)) < 0)
		goto fail;
	if (!(lockpath = bt_strdup_printf("%s/.lock", v->root))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto fail;
	}
	rc = bt_lock_acquire(lockpath, lock, &v->lock_fd, err);
	free(lockpath);
	if (rc < 0)
		goto fail;
	if (lock & BT_LOCK_EXCLUSIVE)
		sweep(ctx, v->root);
	return 0;
fail:
	free(v->root);
	v->root = NULL;
	return rc;
}

void bt_vol_close(struct bt_vol *v)
{
	if (v->lock_fd >= 0)
		bt_lock_release(v->lock_fd);
	v->lock_fd = -1;
	free(v->root);
	v->root = NULL;
}

int bt_vol_load(const struct bt_vol *v, const char *name, json_t **rec, berth_error **err)
{
	char *path;
	int rc;

	*rec = NULL;
	if (!bt_vol_valid_name(name))
		return bt_error_set(err, BERTH_ENOTFOUND, 0, "get %.300s: no such volume", name ? name : "");
	if (!(path = bt_vol_path(v, name, "volume.json")))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (access(path, F_OK) < 0 && errno == ENOENT)
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "get %s: no such volume", name);
	else if ((rc = bt_json_load_file(path, RECORD_MAX, rec, err)) == 0 && !json_is_object(*rec))
		rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: not a JSON object", path);
	if (rc < 0 && rc != BERTH_ENOTFOUND && rc != BERTH_ENOMEM)
		rc = bt_error_wrap(err, BERTH_EINVAL, "volume %s has a damaged record", name);
	if (rc < 0) {
		json_decref(*rec);
		*rec = NULL;
	}
	free(path);
	return rc;
}

/* Root's alone: a driver's "o" may hold a password (cifs). */
static int write_record(const char *path, const json_t *rec, berth_error **err)
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

int bt_vol_save(const struct bt_vol *v, const char *name, const json_t *rec, berth_error **err)
{
	char *path = bt_vol_path(v, name, "volume.json");
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = write_record(path, rec, err);
	free(path);
	return rc;
}

bool bt_vol_has_mount(const json_t *rec)
{
	json_t *o = json_object_get(rec, "Options");

	return json_object_get(o, "type") || json_object_get(o, "device");
}

bool bt_vol_array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e)
		if (!strcmp(json_string_value(e) ?: "", s))
			return true;
	return false;
}

/* ---- create ------------------------------------------------------------- */

/* "KEY=VALUE" strings into an object; what names them in errors. */
static int pairs(const char *const *kv, const char *what, json_t *out, berth_error **err)
{
	for (size_t i = 0; kv && kv[i]; i++) {
		const char *eq = strchr(kv[i], '=');
		char *key;

		if (eq == kv[i] || strlen(kv[i]) > 4096)
			return bt_error_set(err, BERTH_EINVAL, 0, "bad %s \"%.100s\": KEY=VALUE wanted", what, kv[i]);
		key = eq ? strndup(kv[i], (size_t)(eq - kv[i])) : strdup(kv[i]);
		if (!key || json_object_set_new(out, key, json_string(eq ? eq + 1 : "")) < 0) {
			free(key);
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
		free(key);
	}
	return 0;
}

/* The local driver's options: type, device and o, the first two together. */
static int check_options(const json_t *o, berth_error **err)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)o, key, val) {
		if (strcmp(key, "type") && strcmp(key, "device") && strcmp(key, "o"))
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "invalid option key: \"%.100s\" (the local driver knows type, device, o)",
					    key);
	}
	if (json_object_size(o) && (!json_object_get(o, "type") || !json_object_get(o, "device")))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "the local driver's options need both type and device (as mount(8): "
				    "type=tmpfs device=tmpfs, or type=none device=/path o=bind)");
	return 0;
}

static int new_record(const char *name, const berth_volume_create_opts *o, json_t **out, berth_error **err)
{
	char *now = bt_now_rfc3339(), created[32];
	json_t *labels = json_object(), *opts = json_object();
	int rc;

	*out = NULL;
	if (!now || !labels || !opts) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	/* Docker's CreatedAt has seconds */
	snprintf(created, sizeof(created), "%.19sZ", now);
	if ((rc = pairs(o->labels, "label", labels, err)) < 0 || (rc = pairs(o->options, "option", opts, err)) < 0 ||
	    (rc = check_options(opts, err)) < 0)
		goto out;
	*out = json_pack("{s:s, s:s, s:s, s:O, s:O, s:[], s:[]}", "Name", name, "Driver", "local", "CreatedAt",
			 created, "Labels", labels, "Options", opts, "Holders", "MountedBy");
	if (!*out)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
out:
	free(now);
	json_decref(labels);
	json_decref(opts);
	return rc;
}

/* Makes the volume in a temp dir and renames it into place; lock held. */
static int create_locked(const struct bt_vol *v, const char *name, const json_t *rec, berth_error **err)
{
	char *tmp = bt_strdup_printf("%s/.tmp-%s", v->root, name), *dest = bt_vol_path(v, name, NULL);
	char *data = tmp ? bt_strdup_printf("%s/_data", tmp) : NULL, *file = tmp ? bt_strdup_printf("%s/volume.json", tmp) : NULL;
	int rc = 0;

	if (!tmp || !dest || !data || !file) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (mkdir(tmp, 0701) < 0 || mkdir(data, 0755) < 0) {
		rc = bt_error_os(err, "creating volume %s", name);
	} else if ((rc = write_record(file, rec, err)) == 0) {
		if (rename(tmp, dest) < 0)
			rc = bt_error_os(err, "creating volume %s", name);
		else
			bt_fsync_dir(v->root, NULL);
	}
	if (rc < 0)
		bt_rm_rf(tmp, NULL);
out:
	free(tmp);
	free(dest);
	free(data);
	free(file);
	return rc;
}

int berth_volume_create(berth_ctx *ctx, const char *name, const berth_volume_create_opts *opts, char **out,
			berth_error **err)
{
	berth_volume_create_opts o = BERTH_VOLUME_CREATE_OPTS_INIT;
	char anon[65];
	struct bt_vol v;
	json_t *rec = NULL, *have = NULL;
	int rc;

	if (out)
		*out = NULL;
	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_volume_create_opts", err)) < 0)
		return rc;
	if (o.driver && *o.driver && strcmp(o.driver, "local"))
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "volume driver \"%.100s\": only the local driver is supported", o.driver);
	if (!name) {
		unsigned char raw[32];

		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			return bt_error_os(err, "getrandom");
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(anon + 2 * i, 3, "%02x", raw[i]);
		name = anon;
	}
	if (!bt_vol_valid_name(name))
		return bad_name(name, err);
	if ((rc = new_record(name, &o, &rec, err)) < 0)
		return rc;
	if ((rc = bt_vol_open(ctx, BT_LOCK_EXCLUSIVE, &v, err)) < 0)
		goto out;
	rc = bt_vol_load(&v, name, &have, err);
	if (rc == BERTH_ENOTFOUND) {
		/* the usual case: a name not taken yet */
		bt_error_clear(err);
		rc = create_locked(&v, name, rec, err);
	}
	bt_vol_close(&v);
	if (rc == 0 && out && !(*out = strdup(name)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
out:
	json_decref(have);
	json_decref(rec);
	return rc;
}

/* ---- inspect and list ----------------------------------------------------- */

/* The record as Docker shows a volume. */
static json_t *docker_view(const struct bt_vol *v, const char *name, const json_t *rec, int flags)
{
	char *mp = bt_vol_path(v, name, "_data");
	json_t *out = json_pack("{s:O?, s:O?, s:O?, s:s?, s:O?, s:O?, s:s}", "CreatedAt",
				json_object_get(rec, "CreatedAt"), "Driver", json_object_get(rec, "Driver"),
				"Labels", json_object_get(rec, "Labels"), "Mountpoint", mp, "Name",
				json_object_get(rec, "Name"), "Options", json_object_get(rec, "Options"), "Scope", "local");

	if (out && (flags & BERTH_VOLUME_INSPECT_USAGE))
		json_object_set_new(out, "UsageData",
				    json_pack("{s:I, s:I}", "Size", (json_int_t)bt_tree_size(mp), "RefCount",
					      (json_int_t)json_array_size(json_object_get(rec, "Holders"))));
	free(mp);
	return out;
}

int berth_volume_inspect(berth_ctx *ctx, const char *name, int flags, char **json, berth_error **err)
{
	struct bt_vol v;
	json_t *rec, *view;
	int rc;

	*json = NULL;
	if ((rc = bt_vol_open(ctx, BT_LOCK_SHARED, &v, err)) < 0)
		return rc;
	if ((rc = bt_vol_load(&v, name, &rec, err)) == 0) {
		view = docker_view(&v, name, rec, flags);
		if (!view || !(*json = json_dumps(view, JSON_INDENT(4) | JSON_PRESERVE_ORDER)))
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		json_decref(view);
		json_decref(rec);
	}
	bt_vol_close(&v);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the volumes in the store, sorted. */
static int names_all(const struct bt_vol *v, struct bt_strv *out, berth_error **err)
{
	DIR *d = opendir(v->root);
	struct dirent *e;

	if (!d)
		return bt_error_os(err, "reading %s", v->root);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !bt_vol_valid_name(e->d_name))
			continue;
		if (bt_strv_add(out, strdup(e->d_name)) < 0) {
			closedir(d);
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(char *), cmp_str);
	return 0;
}

/* Whether labels satisfy "KEY" or "KEY=VALUE". */
static bool label_match(const json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)labels, key, val)
		if (strlen(key) == klen && !strncmp(key, want, klen))
			return !eq || !strcmp(json_string_value(val) ?: "", eq + 1);
	return false;
}

static bool bool_value(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "0"))
		*out = false;
	else
		return false;
	return true;
}

/* Checks the filters once, before any volume is looked at; prune allows
 * only the label ones. */
static int filters_check(const char *const *filters, bool prune, berth_error **err)
{
	for (size_t i = 0; filters && filters[i]; i++) {
		const char *f = filters[i];
		bool b;

		if (!strncmp(f, "label=", 6) || !strncmp(f, "label!=", 7))
			continue;
		if (!prune && (!strncmp(f, "name=", 5) || !strcmp(f, "driver=local")))
			continue;
		if (!prune && !strncmp(f, "dangling=", 9) && bool_value(f + 9, &b))
			continue;
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid filter '%.200s'", f);
	}
	return 0;
}

static bool filters_pass(const char *name, const json_t *rec, const char *const *filters)
{
	const json_t *labels = json_object_get(rec, "Labels");

	for (size_t i = 0; filters && filters[i]; i++) {
		const char *f = filters[i];
		bool b = false;

		if (!strncmp(f, "label=", 6) && !label_match(labels, f + 6))
			return false;
		if (!strncmp(f, "label!=", 7) && label_match(labels, f + 7))
			return false;
		if (!strncmp(f, "name=", 5) && !strstr(name, f + 5))
			return false;
		if (!strncmp(f, "dangling=", 9) && bool_value(f + 9, &b) &&
		    b != (json_array_size(json_object_get(rec, "Holders")) == 0))
			return false;
	}
	return true;
}

int berth_volume_list(berth_ctx *ctx, const char *const *filters, char ***names, size_t *count, berth_error **err)
{
	struct bt_strv all = { 0 }, out = { 0 };
	struct bt_vol v;
	int rc;

	*names = NULL;
	*count = 0;
	if ((rc = filters_check(filters, false, err)) < 0 || (rc = bt_vol_open(ctx, BT_LOCK_SHARED, &v, err)) < 0)
		return rc;
	if ((rc = names_all(&v, &all, err)) == 0) {
		for (size_t i = 0; i < all.n && rc == 0; i++) {
			json_t *rec;

			if (bt_vol_load(&v, all.v[i], &rec, NULL) < 0)
				continue; /* half made or half gone */
			if (filters_pass(all.v[i], rec, filters) && bt_strv_add(&out, strdup(all.v[i])) < 0)
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			json_decref(rec);
		}
	}
	bt_vol_close(&v);
	bt_strv_free(all.v, all.n);
	if (rc < 0) {
		bt_strv_free(out.v, out.n);
		return rc;
	}
	*names = out.v;
	*count = out.n;
	return 0;
}

void berth_volume_names_free(char **names, size_t count)
{
	bt_strv_free(names, count);
}

/* ---- remove and prune ---------------------------------------------------- */

/* The holders as one string: "[a, b]". */
static char *holders_text(const json_t *holders)
{
	size_t i, len = 3;
	json_t *h;
	char *s;

	json_array_foreach(holders, i, h)
		len += strlen(json_string_value(h) ?: "") + 2;
	if (!(s = malloc(len)))
		return NULL;
	strcpy(s, "[");
	json_array_foreach(holders, i, h) {
		if (i)
			strcat(s, ", ");
		strcat(s, json_string_value(h) ?: "");
	}
	strcat(s, "]");
	return s;
}

/* Removes a volume whose record is rec; exclusive lock held. The directory
 * is renamed away first: a crash leaves trash the next sweep removes,
 * never half a volume. */
static int remove_locked(const struct bt_vol *v, const char *name, const json_t *rec, int flags,
			 uint64_t *freed, berth_error **err)
{
	const json_t *holders = json_object_get(rec, "Holders");
	char *dir, *trash, suffix[17];
	unsigned char raw[8];
	int rc;

	if (json_array_size(holders) && !(flags & BERTH_VOLUME_REMOVE_FORCE)) {
		char *who = holders_text(holders);

		rc = bt_error_set(err, BERTH_EBUSY, 0, "remove %s: volume is in use - %s", name, who ? who : "[?]");
		free(who);
		return rc;
	}
	if (bt_vol_mounted(v, name) && (rc = bt_vol_umount(v, name, err)) < 0)
		return rc;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return bt_error_os(err, "getrandom");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(suffix + 2 * i, 3, "%02x", raw[i]);
	dir = bt_vol_path(v, name, NULL);
	trash = bt_strdup_printf("%s/.trash-%s-%s", v->root, name, suffix);
	if (!dir || !trash) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	} else {
		if (freed)
			*freed += (uint64_t)bt_tree_size(dir);
		if (rename(dir, trash) < 0) {
			rc = bt_error_os(err, "remove %s", name);
		} else {
			bt_fsync_dir(v->root, NULL);
			rc = bt_rm_rf(trash, err);
		}
	}
	free(dir);
	free(trash);
	return rc;
}

int berth_volume_remove(berth_ctx *ctx, const char *name, int flags, berth_error **err)
{
	struct bt_vol v;
	json_t *rec;
	int rc;

	if ((rc = bt_vol_open(ctx, BT_LOCK_EXCLUSIVE, &v, err)) < 0)
		return rc;
	if ((rc = bt_vol_load(&v, name, &rec, err)) == 0) {
		rc = remove_locked(&v, name, rec, flags, NULL, err);
		json_decref(rec);
	}
	bt_vol_close(&v);
	return rc;
}

int berth_volume_prune(berth_ctx *ctx, const char *const *filters, char ***names, size_t *count,
		       unsigned long long *reclaimed, berth_error **err)
{
	struct bt_strv all = { 0 }, out = { 0 };
	uint64_t freed = 0;
	struct bt_vol v;
	int rc;

	if (names)
		*names = NULL;
	if (count)
		*count = 0;
	if (reclaimed)
		*reclaimed = 0;
	if ((rc = filters_check(filters, true, err)) < 0 || (rc = bt_vol_open(ctx, BT_LOCK_EXCLUSIVE, &v, err)) < 0)
		return rc;
	if ((rc = names_all(&v, &all, err)) == 0) {
		for (size_t i = 0; i < all.n; i++) {
			berth_error *e = NULL;
			json_t *rec;

			if (bt_vol_load(&v, all.v[i], &rec, NULL) < 0)
				continue;
			if (!json_array_size(json_object_get(rec, "Holders")) && filters_pass(all.v[i], rec, filters)) {
				if (remove_locked(&v, all.v[i], rec, 0, &freed, &e) < 0) {
					bt_log_warn(ctx, "volume", "prune: %s", berth_error_message(e));
					berth_error_free(e);
				} else if (bt_strv_add(&out, strdup(all.v[i])) < 0) {
					rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
				}
			}
			json_decref(rec);
		}
	}
	bt_vol_close(&v);
	bt_strv_free(all.v, all.n);
	if (reclaimed)
		*reclaimed = freed;
	if (names && count) {
		*names = out.v;
		*count = out.n;
	} else {
		bt_strv_free(out.v, out.n);
	}
	return rc;
}
