/* Internal interface of the volume module.
 *
 * <root>/volumes/<name>/volume.json  the record: Name, Driver, CreatedAt,
 *                                    Labels, Options, Holders (who uses
 *                                    it), MountedBy (who has the driver's
 *                                    mount made for it)
 * <root>/volumes/<name>/_data        the data (a driver's mount point)
 * <root>/volumes/<name>/.populating  a copy from an image is under way
 * <root>/volumes/.lock               held (exclusive) by every change
 * <root>/volumes/.tmp-<name>-*       a create on its way in (swept)
 * <root>/volumes/.trash-<name>-*     a removal on its way out (swept) */
#ifndef BERTH_VOLUME_INTERNAL_H
#define BERTH_VOLUME_INTERNAL_H

#include "internal.h"

#include <berth/volume.h>

struct bt_vol {
	char *root;   /* <root>/volumes */
	int lock_fd;  /* the store's lock, held */
};

/* Opens <root>/volumes (creating it) and takes its lock (BT_LOCK_SHARED
 * or BT_LOCK_EXCLUSIVE); an exclusive lock sweeps dead temp and trash dirs. */
int bt_vol_open(berth_ctx *ctx, int lock, struct bt_vol *v, berth_error **err);
void bt_vol_close(struct bt_vol *v);
/* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 255 bytes. */
bool bt_vol_valid_name(const char *name);
/* The volume's record; ENOTFOUND ("no such volume") or EINVAL. */
int bt_vol_load(const struct bt_vol *v, const char *name, json_t **rec, berth_error **err);
int bt_vol_save(const struct bt_vol *v, const char *name, const json_t *rec, berth_error **err);
/* <root>/volumes/<name>/<file>; NULL without memory. */
char *bt_vol_path(const struct bt_vol *v, const char *name, const char *file);
/* Whether the record has driver options (the data is a mount). */
bool bt_vol_has_mount(const json_t *rec);
/* Whether _data is a mount point now. */
bool bt_vol_mounted(const struct bt_vol *v, const char *name);
/* Undoes the driver's mount on _data (detached when busy). */
int bt_vol_umount(const struct bt_vol *v, const char *name, berth_error **err);
/* Whether the string array arr holds s. */
bool bt_vol_array_has(const json_t *arr, const char *s);

#endif
