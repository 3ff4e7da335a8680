/* Who uses a volume: named holds (removal refuses while any is taken) and
 * the users of a driver's mount (made by the first, undone by the last).
 * Both live in the volume's record, changed under the store's lock. */
#define _GNU_SOURCE
#include "volume-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLDER_MAX 255

static int check_holder(const char *h, berth_error **err)
{
	size_t n = h ? strlen(h) : 0;

	if (!n || n > HOLDER_MAX)
		return bt_error_set(err, BERTH_EINVAL, 0, "a volume holder has 1 to %d characters", HOLDER_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f)
			return bt_error_set(err, BERTH_EINVAL, 0, "volume holder \"%.100s\": printable characters, no spaces", h);
	return 0;
}

/* Adds s to (add) or drops it from the string array key of rec; whether
 * anything changed. */
static bool array_change(json_t *rec, const char *key, const char *s, bool add)
{
	json_t *arr = json_object_get(rec, key);
	size_t i;
	json_t *e;

	if (!json_is_array(arr)) {
		arr = json_array();
		json_object_set_new(rec, key, arr);
	}
	if (add) {
		if (bt_vol_array_has(arr, s))
			return false;
		json_array_append_new(arr, json_string(s));
		return true;
	}
	json_array_foreach(arr, i, e)
		if (!strcmp(json_string_value(e) ?: "", s)) {
			json_array_remove(arr, i);
			return true;
		}
	return false;
}

/* Loads name's record under the exclusive lock for a change by holder. */
static int open_for(berth_ctx *ctx, const char *name, const char *holder, struct bt_vol *v, json_t **rec,
		    berth_error **err)
{
	int rc;

	if ((rc = check_holder(holder, err)) < 0 || (rc = bt_vol_open(ctx, BT_LOCK_EXCLUSIVE, v, err)) < 0)
		return rc;
	if ((rc = bt_vol_load(v, name, rec, err)) < 0)
		bt_vol_close(v);
	return rc;
}

int berth_volume_hold(berth_ctx *ctx, const char *name, const char *holder, berth_error **err)
{
	struct bt_vol v;
	json_t *rec;
	int rc;

	if ((rc = open_for(ctx, name, holder, &v, &rec, err)) < 0)
		return rc;
	if (array_change(rec, "Holders", holder, true))
		rc = bt_vol_save(&v, name, rec, err);
	json_decref(rec);
	bt_vol_close(&v);
	return rc;
}

/* holder no longer has the driver's mount; the last one undoes it. */
static int unmount_locked(const struct bt_vol *v, const char *name, json_t *rec, const char *holder,
			  berth_error **err)
{
	int rc = 0;

	if (!array_change(rec, "MountedBy", holder, false))
		return 0;
	if (!json_array_size(json_object_get(rec, "MountedBy")) && bt_vol_mounted(v, name))
		rc = bt_vol_umount(v, name, err);
	if (rc == 0)
		rc = bt_vol_save(v, name, rec, err);
	return rc;
}

int berth_volume_release(berth_ctx *ctx, const char *name, const char *holder, berth_error **err)
{
	struct bt_vol v;
	json_t *rec;
	int rc;

	if ((rc = open_for(ctx, name, holder, &v, &rec, err)) < 0)
		return rc;
	if ((rc = unmount_locked(&v, name, rec, holder, err)) == 0) {
		if (!array_change(rec, "Holders", holder, false))
			rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "volume %s is not held by %s", name, holder);
		else
			rc = bt_vol_save(&v, name, rec, err);
	}
	json_decref(rec);
	bt_vol_close(&v);
	return rc;
}

int berth_volume_holders(berth_ctx *ctx, const char *name, char ***holders, size_t *count, berth_error **err)
{
	struct bt_strv out = { 0 };
	struct bt_vol v;
	json_t *rec, *h;
	size_t i;
	int rc;

	*holders = NULL;
	*count = 0;
	if ((rc = bt_vol_open(ctx, BT_LOCK_SHARED, &v, err)) < 0)
		return rc;
	if ((rc = bt_vol_load(&v, name, &rec, err)) == 0) {
		json_array_foreach(json_object_get(rec, "Holders"), i, h)
			if (bt_strv_add(&out, strdup(json_string_value(h) ?: "")) < 0)
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		json_decref(rec);
	}
	bt_vol_close(&v);
	if (rc < 0) {
		bt_strv_free(out.v, out.n);
		return rc;
	}
	*holders = out.v;
	*count = out.n;
	return 0;
}

/* ---- the driver's mount ------------------------------------------------- */

bool bt_vol_mounted(const struct bt_vol *v, const char *name)
{
	char *data = bt_vol_path(v, name, "_data");
	struct statx sx;
	bool m = false;

	if (data && statx(AT_FDCWD, data, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0)
		m = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	free(data);
	return m;
}

int bt_vol_umount(const struct bt_vol *v, const char *name, berth_error **err)
{
	char *data = bt_vol_path(v, name, "_data");
	int rc = 0;

	if (!data)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	/* a user gone without unmounting (a killed monitor) may still have it
	 * open: detach it rather than leave it */
	if (umount2(data, UMOUNT_NOFOLLOW) < 0 && (errno != EBUSY || umount2(data, MNT_DETACH | UMOUNT_NOFOLLOW) < 0))
		rc = bt_error_os(err, "unmounting volume %s", name);
	free(data);
	return rc;
}

/* mount(8)'s flag words of the o= option; the rest is the file system's. */
static const struct {
	const char *word;
	unsigned long set, clear;
} mount_words[] = {
	{ "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY }, { "nosuid", MS_NOSUID, 0 }, { "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV }, { "noexec", MS_NOEXEC, 0 }, { "exec", 0, MS_NOEXEC },
	{ "bind", MS_BIND, 0 }, { "rbind", MS_BIND | MS_REC, 0 }, { "noatime", MS_NOATIME, 0 },
	{ "relatime", MS_RELATIME, 0 }, { "sync", MS_SYNCHRONOUS, 0 },
};

static int split_o(const char *o, unsigned long *flags, char **data, berth_error **err)
{
	char *copy = strdup(o ? o : ""), *save = NULL;
	struct bt_strv rest = { 0 };
	int rc = 0;

	*flags = 0;
	*data = NULL;
	if (!copy)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < BT_ARRAY_SIZE(mount_words); i++)
			if (!strcmp(w, mount_words[i].word)) {
				*flags = (*flags | mount_words[i].set) & ~mount_words[i].clear;
				break;
			}
		if (i == BT_ARRAY_SIZE(mount_words) && bt_strv_add(&rest, strdup(w)) < 0)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	free(copy);
	if (rc == 0 && rest.n) {
		size_t len = 1;

		for (size_t i = 0; i < rest.n; i++)
			len += strlen(rest.v[i]) + 1;
		if (!(*data = calloc(1, len)))
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		for (size_t i = 0; *data && i < rest.n; i++) {
			if (i)
				strcat(*data, ",");
			strcat(*data, rest.v[i]);
		}
	}
	bt_strv_free(rest.v, rest.n);
	return rc;
}

/* mount -t type -o o device _data, as Docker's local driver does. */
static int mount_driver(const struct bt_vol *v, const char *name, const json_t *rec, berth_error **err)
{
	const json_t *o = json_object_get(rec, "Options");
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *device = json_string_value(json_object_get(o, "device"));
	char *target = bt_vol_path(v, name, "_data"), *data = NULL;
	unsigned long flags;
	int rc;

	if (!target)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = split_o(json_string_value(json_object_get(o, "o")), &flags, &data, err)) == 0 &&
	    (flags & MS_BIND) && (!device || device[0] != '/'))
		/* relative, it would be resolved against whoever mounts it */
		rc = bt_error_set(err, BERTH_EINVAL, 0, "volume %s: a bind's device must be an absolute path", name);
	if (rc == 0 && mount(device ? device : "none", target, (flags & MS_BIND) ? NULL : type, flags, data) < 0)
		rc = bt_error_os(err, "mounting volume %s (type=%s device=%s o=%s)", name, type ? type : "",
				 device ? device : "", json_string_value(json_object_get(o, "o")) ?: "");
	/* a bind takes its flags (ro, nosuid, nodev, noexec, ...) only from a
	 * remount: the first mount(2) ignores them */
	if (rc == 0 && (flags & MS_BIND) && (flags & ~(unsigned long)(MS_BIND | MS_REC)) &&
	    mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | (flags & ~(unsigned long)(MS_BIND | MS_REC)), NULL) < 0) {
		rc = bt_error_os(err, "mounting volume %s with o=%s", name,
				 json_string_value(json_object_get(o, "o")) ?: "");
		umount2(target, MNT_DETACH);
	}
	free(data);
	free(target);
	return rc;
}

int berth_volume_mount(berth_ctx *ctx, const char *name, const char *holder, char **path, berth_error **err)
{
	struct bt_vol v;
	json_t *rec;
	int rc;

	if (path)
		*path = NULL;
	if ((rc = open_for(ctx, name, holder, &v, &rec, err)) < 0)
		return rc;
	if (bt_vol_has_mount(rec) && !bt_vol_mounted(&v, name)) {
		/* users recorded before a reboot (or a crash) have it no longer */
		json_object_set_new(rec, "MountedBy", json_array());
		rc = mount_driver(&v, name, rec, err);
	}
	if (rc == 0 && array_change(rec, "MountedBy", holder, true) && (rc = bt_vol_save(&v, name, rec, err)) < 0 &&
	    json_array_size(json_object_get(rec, "MountedBy")) == 1 && bt_vol_has_mount(rec))
		bt_vol_umount(&v, name, NULL);
	if (rc == 0 && path && !(*path = bt_vol_path(&v, name, "_data")))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	json_decref(rec);
	bt_vol_close(&v);
	return rc;
}

int berth_volume_unmount(berth_ctx *ctx, const char *name, const char *holder, berth_error **err)
{
	struct bt_vol v;
	json_t *rec;
	int rc;

	if ((rc = open_for(ctx, name, holder, &v, &rec, err)) < 0)
		return rc;
	rc = unmount_locked(&v, name, rec, holder, err);
	json_decref(rec);
	bt_vol_close(&v);
	return rc;
}
