/* Storage (berth/storage.h) from Lua:
 *
 *   ctx.storage:unpack("busybox", {progress = function(layer, done, total) end})
 *   do local m <close> = ctx.storage:mount("busybox"); print(m:path()) end  -- unmounted
 *   ctx.storage:snapshot_create("c1", "busybox", {driver = "overlay"})
 *   for kind, row in pairs(ctx.storage:usage()) do print(kind, row.bytes) end
 *
 * Failures return nil, message, code name, code. */
#include <stdlib.h>
#include <string.h>

#include "lberth.h"

#define STORAGE_TYPE "berth.storage"
#define MOUNT_TYPE "berth.mount"

/* ---- berth.mount: user values 1 the context, 2 the name, 3 the path ---------- */

typedef struct {
	int snapshot;
	int mounted;
} lmount;

static int mount_path(lua_State *L)
{
	luaL_checkudata(L, 1, MOUNT_TYPE);
	lua_getiuservalue(L, 1, 3);
	return 1;
}

static int mount_unmount(lua_State *L)
{
	lmount *m = luaL_checkudata(L, 1, MOUNT_TYPE);
	lberth_ctx *c;
	berth_error *err = NULL;
	const char *name;
	int rc;

	if (!m->mounted) {
		lua_pushboolean(L, 1);
		return 1;
	}
	c = lberth_owner(L, 1, MOUNT_TYPE);
	lua_getiuservalue(L, 1, 2);
	name = lua_tostring(L, -1);
	c->busy++;
	rc = m->snapshot ? berth_snapshot_unmount(c->ctx, name, &err) : berth_storage_unmount(c->ctx, name, &err);
	c->busy--;
	if (rc == 0)
		m->mounted = 0;
	return lberth_done(L, rc, err);
}

/* <close>: unmounts; a failure is an error (nothing returns from __close). */
static int mount_close(lua_State *L)
{
	lmount *m = luaL_checkudata(L, 1, MOUNT_TYPE);

	if (m->mounted && mount_unmount(L) != 1)
		return luaL_error(L, "unmounting: %s", lua_tostring(L, -4));
	return 0;
}

static int mount_tostring(lua_State *L)
{
	lmount *m = luaL_checkudata(L, 1, MOUNT_TYPE);

	lua_getiuservalue(L, 1, 2);
	lua_getiuservalue(L, 1, 3);
	lua_pushfstring(L, MOUNT_TYPE " %s %s at %s%s", m->snapshot ? "snapshot" : "image", lua_tostring(L, -2),
			lua_tostring(L, -1), m->mounted ? "" : " (unmounted)");
	return 1;
}

static const luaL_Reg mount_methods[] = {
	{ "path", mount_path },
	{ "unmount", mount_unmount },
	{ NULL, NULL },
};

static const luaL_Reg mount_meta[] = {
	{ "__close", mount_close },
	{ "__tostring", mount_tostring },
	{ NULL, NULL },
};

/* storage:mount(image) / storage:snapshot_mount(id): a berth.mount. */
static int do_mount(lua_State *L, int snapshot)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *name = luaL_checkstring(L, 2);
	void **path = lberth_box(L, lberth_free_string);
	berth_error *err = NULL;
	lmount *m;
	int rc;

	c->busy++;
	rc = snapshot ? berth_snapshot_mount(c->ctx, name, (char **)path, &err)
		      : berth_storage_mount(c->ctx, name, (char **)path, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	m = lua_newuserdatauv(L, sizeof(*m), 3);
	m->snapshot = snapshot;
	m->mounted = 1;
	luaL_setmetatable(L, MOUNT_TYPE);
	lua_getiuservalue(L, 1, 1);
	lua_setiuservalue(L, -2, 1);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 2);
	lua_pushstring(L, *path);
	lua_setiuservalue(L, -2, 3);
	return 1;
}

static int storage_mount(lua_State *L)
{
	return do_mount(L, 0);
}

static int storage_snapshot_mount(lua_State *L)
{
	return do_mount(L, 1);
}

/* ---- layers -------------------------------------------------------------------------- */

static void push_unpack_event(lua_State *L, void *data)
{
	const void **e = data;

	lua_pushstring(L, e[0]);
	lua_pushinteger(L, *(const long long *)e[1]);
	lua_pushinteger(L, *(const long long *)e[2]);
}

static int unpack_progress(const char *layer, long long done, long long total, void *userdata)
{
	const void *e[3] = { layer, &done, &total };

	return lberth_callback(userdata, push_unpack_event, 3, e);
}

/* storage:unpack(image[, {no_devices=, progress=fn(layer, done, total)}]) */
static int storage_unpack(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *image = luaL_checkstring(L, 2);
	berth_storage_unpack_opts o = BERTH_STORAGE_UNPACK_OPTS_INIT;
	struct lberth_cb cb = { L, 0, 0 };
	berth_error *err = NULL;
	int rc;

	o.no_devices = lberth_opt_boolean(L, 3, "no_devices", 0);
	if (lberth_opt_function(L, 3, "progress")) {
		cb.fn_idx = lua_gettop(L);
		o.progress = unpack_progress;
		o.progress_userdata = &cb;
	}
	c->busy++;
	rc = berth_storage_unpack(c->ctx, image, &o, &err);
	c->busy--;
	lberth_callback_rethrow(L, &cb, err);
	return lberth_done(L, rc, err);
}

/* A call f(ctx, name, &err). */
static int name_call(lua_State *L, int (*fn)(berth_ctx *, const char *, berth_error **))
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = fn(c->ctx, name, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int storage_release(lua_State *L)
{
	return name_call(L, berth_storage_release);
}

static int storage_unmount(lua_State *L)
{
	return name_call(L, berth_storage_unmount);
}

static int storage_snapshot_unmount(lua_State *L)
{
	return name_call(L, berth_snapshot_unmount);
}

static int storage_snapshot_remove(lua_State *L)
{
	return name_call(L, berth_snapshot_remove);
}

/* ---- snapshots ----------------------------------------------------------------------- */

static const char *const drivers[] = { "auto", "overlay", "copy", NULL };

static int storage_snapshot_create(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *id = luaL_checkstring(L, 2), *image = luaL_checkstring(L, 3);
	const char *driver = lberth_opt_string(L, 4, "driver");
	berth_snapshot_opts o = BERTH_SNAPSHOT_OPTS_INIT;
	berth_error *err = NULL;
	int rc;

	if (driver) {
		lua_pushstring(L, driver);
		o.driver = (berth_snapshot_driver)luaL_checkoption(L, lua_gettop(L), NULL, drivers);
	}
	c->busy++;
	rc = berth_snapshot_create(c->ctx, id, image, &o, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int storage_snapshot_driver(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *id = luaL_checkstring(L, 2);
	berth_snapshot_driver d = BERTH_SNAPSHOT_AUTO;
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_snapshot_driver_get(c->ctx, id, &d, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushstring(L, (unsigned)d < 3 ? drivers[d] : "unknown");
	return 1;
}

/* A tar writer f(ctx, id, fd, &err). */
static int fd_call(lua_State *L, int (*fn)(berth_ctx *, const char *, int, berth_error **))
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *id = luaL_checkstring(L, 2);
	int fd = lberth_to_fd(L, 3, "fd"), rc;
	berth_error *err = NULL;

	luaL_argcheck(L, fd >= 0, 3, "a descriptor or file expected");
	c->busy++;
	rc = fn(c->ctx, id, fd, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int storage_snapshot_diff(lua_State *L)
{
	return fd_call(L, berth_snapshot_diff);
}

static int storage_snapshot_export(lua_State *L)
{
	return fd_call(L, berth_snapshot_export);
}

/* storage:copy_out(root, path, fd[, as]) */
static int storage_copy_out(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *root = luaL_checkstring(L, 2), *path = luaL_checkstring(L, 3);
	int fd = lberth_to_fd(L, 4, "fd"), rc;
	const char *as = luaL_optstring(L, 5, NULL);
	berth_error *err = NULL;

	luaL_argcheck(L, fd >= 0, 4, "a descriptor or file expected");
	c->busy++;
	rc = berth_storage_copy_out(c->ctx, root, path, as, fd, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

/* storage:copy_in(root, dir, fd) */
static int storage_copy_in(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *root = luaL_checkstring(L, 2), *dir = luaL_checkstring(L, 3);
	int fd = lberth_to_fd(L, 4, "fd"), rc;
	berth_error *err = NULL;

	luaL_argcheck(L, fd >= 0, 4, "a descriptor or file expected");
	c->busy++;
	rc = berth_storage_copy_in(c->ctx, root, dir, fd, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

/* ---- usage, prune, layers ------------------------------------------------------------- */

static void free_usage(void *p)
{
	berth_storage_usage_free(p);
}

/* storage:usage(): {images = {items=, bytes=, reclaimable=}, layers = ..., containers = ...} */
static int storage_usage(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	void **u = lberth_box(L, free_usage);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_storage_usage_new(c->ctx, (berth_storage_usage **)u, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_newtable(L);
	for (size_t i = 0; i < berth_storage_usage_count(*u); i++) {
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, berth_storage_usage_items(*u, i));
		lua_setfield(L, -2, "items");
		lua_pushinteger(L, berth_storage_usage_bytes(*u, i));
		lua_setfield(L, -2, "bytes");
		lua_pushinteger(L, berth_storage_usage_reclaimable(*u, i));
		lua_setfield(L, -2, "reclaimable");
		lua_setfield(L, -2, berth_storage_usage_kind(*u, i));
	}
	return 1;
}

static int storage_prune(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_storage_prune(c->ctx, &bytes, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushinteger(L, (lua_Integer)bytes);
	return 1;
}

static void free_layers(void *p)
{
	berth_storage_layers_free(p);
}

/* storage:layers(image): {{diff_id=, chain_id=, unpacked_size= (nil: not unpacked)}, ...} */
static int storage_layers(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, STORAGE_TYPE);
	const char *image = luaL_checkstring(L, 2);
	void **l = lberth_box(L, free_layers);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_storage_layers_new(c->ctx, image, (berth_storage_layers **)l, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_newtable(L);
	for (size_t i = 0; i < berth_storage_layers_count(*l); i++) {
		long long size = berth_storage_layers_unpacked_size(*l, i);

		lua_createtable(L, 0, 3);
		lua_pushstring(L, berth_storage_layers_diff_id(*l, i));
		lua_setfield(L, -2, "diff_id");
		lua_pushstring(L, berth_storage_layers_chain_id(*l, i));
		lua_setfield(L, -2, "chain_id");
		if (size >= 0) {
			lua_pushinteger(L, size);
			lua_setfield(L, -2, "unpacked_size");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int storage_tostring(lua_State *L)
{
	luaL_checkudata(L, 1, STORAGE_TYPE);
	lua_pushliteral(L, STORAGE_TYPE);
	return 1;
}

static const luaL_Reg storage_methods[] = {
	{ "unpack", storage_unpack },
	{ "release", storage_release },
	{ "mount", storage_mount },
	{ "unmount", storage_unmount },
	{ "snapshot_create", storage_snapshot_create },
	{ "snapshot_mount", storage_snapshot_mount },
	{ "snapshot_unmount", storage_snapshot_unmount },
	{ "snapshot_remove", storage_snapshot_remove },
	{ "snapshot_driver", storage_snapshot_driver },
	{ "snapshot_diff", storage_snapshot_diff },
	{ "snapshot_export", storage_snapshot_export },
	{ "copy_out", storage_copy_out },
	{ "copy_in", storage_copy_in },
	{ "usage", storage_usage },
	{ "prune", storage_prune },
	{ "layers", storage_layers },
	{ NULL, NULL },
};

void lberth_storage_open(lua_State *L)
{
	static const luaL_Reg storage_meta[] = { { "__tostring", storage_tostring }, { NULL, NULL } };

	lberth_new_type(L, STORAGE_TYPE, storage_methods, storage_meta);
	lberth_new_type(L, MOUNT_TYPE, mount_methods, mount_meta);
}

int lberth_ctx_storage(lua_State *L)
{
	check_ctx(L, 1);
	lberth_push_owned(L, 1, STORAGE_TYPE);
	return 1;
}
