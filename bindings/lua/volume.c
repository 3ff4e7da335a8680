/* Volumes (berth/volume.h) as methods of a context, one to one with the
 * C calls:
 *
 *   name = ctx:volume_create([name][, {labels = {"k=v"}, options = {"type=tmpfs", ...},
 *                                      driver = "local"}])
 *   json = ctx:volume_inspect(name[, usage])
 *   names = ctx:volume_names([{"dangling=true", "label=k=v", "name=x"}])
 *   ctx:volume_remove(name[, force])
 *   names, bytes = ctx:volumes_prune([{"label=k"}])
 *   ctx:volume_hold(name, holder); ctx:volume_release(name, holder)
 *   holders = ctx:volume_holders(name)
 *   path = ctx:volume_mount(name, holder); ctx:volume_unmount(name, holder)
 *   ctx:volume_populate(name, rootfs, path)
 *
 * Failures: nil, message, code name, code. */
#include <string.h>

#include "lberth.h"

/* Pushes a table of the names and frees them. */
static void push_names(lua_State *L, char **names, size_t count)
{
	lua_createtable(L, (int)count, 0);
	for (size_t i = 0; i < count; i++) {
		lua_pushstring(L, names[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	berth_volume_names_free(names, count);
}

static int push_string(lua_State *L, int rc, berth_error *err, char *s)
{
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushstring(L, s);
	berth_string_free(s);
	return 1;
}

int ctx_volume_create(lua_State *L)
{
	berth_volume_create_opts o = BERTH_VOLUME_CREATE_OPTS_INIT;
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_optstring(L, 2, NULL);
	berth_error *err = NULL;
	char *made = NULL;
	int rc;

	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		lua_getfield(L, 3, "driver");
		o.driver = luaL_optstring(L, -1, NULL);
		lua_getfield(L, 3, "labels");
		o.labels = lberth_strv(L, lua_gettop(L), "labels");
		lua_getfield(L, 3, "options");
		o.options = lberth_strv(L, lua_gettop(L), "options");
	}
	c->busy++;
	rc = berth_volume_create(c->ctx, name, &o, &made, &err);
	c->busy--;
	return push_string(L, rc, err, made);
}

int ctx_volume_inspect(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int flags = lua_toboolean(L, 3) ? BERTH_VOLUME_INSPECT_USAGE : 0, rc;
	berth_error *err = NULL;
	char *json = NULL;

	c->busy++;
	rc = berth_volume_inspect(c->ctx, name, flags, &json, &err);
	c->busy--;
	return push_string(L, rc, err, json);
}

/* volumes and volumes_prune: the filters at 2, then the call. */
static int list_or_prune(lua_State *L, int prune)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *const *filters = lberth_strv(L, 2, "filters");
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	c->busy++;
	rc = prune ? berth_volume_prune(c->ctx, filters, &names, &n, &bytes, &err)
		   : berth_volume_list(c->ctx, filters, &names, &n, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	push_names(L, names, n);
	if (!prune)
		return 1;
	lua_pushinteger(L, (lua_Integer)bytes);
	return 2;
}

int ctx_volume_names(lua_State *L)
{
	return list_or_prune(L, 0);
}

int ctx_volumes_prune(lua_State *L)
{
	return list_or_prune(L, 1);
}

int ctx_volume_remove(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int flags = lua_toboolean(L, 3) ? BERTH_VOLUME_REMOVE_FORCE : 0, rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_volume_remove(c->ctx, name, flags, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

/* hold, release, unmount: (name, holder) -> true. */
static int holder_call(lua_State *L, int (*fn)(berth_ctx *, const char *, const char *, berth_error **))
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *holder = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = fn(c->ctx, name, holder, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_volume_hold(lua_State *L)
{
	return holder_call(L, berth_volume_hold);
}

int ctx_volume_release(lua_State *L)
{
	return holder_call(L, berth_volume_release);
}

int ctx_volume_unmount(lua_State *L)
{
	return holder_call(L, berth_volume_unmount);
}

int ctx_volume_holders(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	c->busy++;
	rc = berth_volume_holders(c->ctx, name, &names, &n, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	push_names(L, names, n);
	return 1;
}

int ctx_volume_mount(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *holder = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	char *path = NULL;
	int rc;

	c->busy++;
	rc = berth_volume_mount(c->ctx, name, holder, &path, &err);
	c->busy--;
	return push_string(L, rc, err, path);
}

int ctx_volume_populate(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *rootfs = luaL_checkstring(L, 3), *path = luaL_checkstring(L, 4);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_volume_populate(c->ctx, name, rootfs, path, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}
