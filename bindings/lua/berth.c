/* The Lua 5.4 binding: `local berth = require "berth"`.
 *
 * Conventions, as Lua libraries have them: a wrong argument type raises a Lua
 * error (luaL_check*); a failure of the library returns nil, the message, the
 * code's name ("EINVAL") and the numeric code.
 *
 * No Lua error may unwind through the library's C frames: whatever runs while
 * a library call is in progress (the log trampoline) runs under lua_pcall,
 * and whatever the library hands out (errors, info lists) is turned into Lua
 * values under lua_pcall too, so a memory error cannot leak it.
 *
 * Holds on images (berth_image_hold, see berth/image.h):
 *   ctx:image_hold(name, holder)     -> manifest digest held
 *   ctx:image_release(digest, holder) -> true
 *   ctx:image_holds([name])          -> { { digest = ..., holder = ... }, ... }
 * each nil, message, code name, code on failure (ENOTFOUND, EINVAL). */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include <stdlib.h>

#include "lberth.h"

/* ---- protected helpers ------------------------------------------------ */

int protected_call(lua_State *L, lua_CFunction f, void *p, int nresults)
{
	lua_pushcfunction(L, f);
	lua_pushlightuserdata(L, p);
	return lua_pcall(L, 1, nresults, 0);
}

/* Pushes nil, message, code name, code for the berth_error given as light userdata. */
static int push_error_p(lua_State *L)
{
	const berth_error *err = lua_touserdata(L, 1);
	int code = berth_error_code(err);

	lua_pushnil(L);
	lua_pushstring(L, berth_error_message(err));
	lua_pushstring(L, berth_error_code_name(code));
	lua_pushinteger(L, code);
	lua_pushinteger(L, berth_error_errno(err));
	return 5;
}

/* Returns nil, message, code name, code, errno for a failed call, freeing err. */
int push_error(lua_State *L, berth_error *err, int rc)
{
	int status;

	if (!err) { /* the call did not say why: keep at least its code */
		lua_pushnil(L);
		lua_pushstring(L, berth_strerror(rc));
		lua_pushstring(L, berth_error_code_name(rc));
		lua_pushinteger(L, rc);
		lua_pushinteger(L, 0);
		return 5;
	}
	status = protected_call(L, push_error_p, err, 5);
	berth_error_free(err);
	if (status != LUA_OK)
		return lua_error(L);
	return 5;
}

/* ---- module functions -------------------------------------------------- */

static int l_version(lua_State *L)
{
	lua_pushstring(L, berth_version(NULL, NULL, NULL));
	return 1;
}

static int l_version_info(lua_State *L)
{
	int major, minor, patch;

	berth_version(&major, &minor, &patch);
	lua_pushinteger(L, major);
	lua_pushinteger(L, minor);
	lua_pushinteger(L, patch);
	return 3;
}

static int l_has_feature(lua_State *L)
{
	lua_pushboolean(L, berth_has_feature(luaL_checkstring(L, 1)));
	return 1;
}

static int l_features(lua_State *L)
{
	const char *const *names = berth_feature_names();
	lua_Integer n = 0;

	lua_newtable(L);
	for (; names && *names; names++) {
		lua_pushstring(L, *names);
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

/* ---- logging ----------------------------------------------------------- */

struct log_line {
	lberth_ctx *c;
	berth_log_level level;
	const char *module;
	const char *message;
};

static int log_call_p(lua_State *L)
{
	const struct log_line *line = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, line->c->log_ref);
	lua_pushstring(L, berth_log_level_name(line->level));
	lua_pushstring(L, line->module ? line->module : "");
	lua_pushstring(L, line->message ? line->message : "");
	lua_call(L, 3, 0);
	return 0;
}

/* Called by the library, from inside one of its calls: everything that may
 * raise a Lua error happens under lua_pcall, and errors are dropped. */
static void log_trampoline(berth_log_level level, const char *module, const char *message,
			   void *userdata)
{
	struct log_line line = { userdata, level, module, message };
	lua_State *L = line.c->L;
	int top;

	if (!L || line.c->log_ref == LUA_NOREF || line.c->log_ref == LUA_REFNIL ||
	    !lua_checkstack(L, 3))
		return;
	top = lua_gettop(L);
	protected_call(L, log_call_p, &line, 0); /* a failing callback is ignored */
	lua_settop(L, top);
}

/* ---- contexts ---------------------------------------------------------- */

lberth_ctx *check_ctx_any(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, CTX_TYPE);
}

lberth_ctx *check_ctx(lua_State *L, int idx)
{
	lberth_ctx *c = check_ctx_any(L, idx);

	if (!c->ctx)
		luaL_error(L, "berth context is closed");
	return c;
}

static void ctx_release(lua_State *L, lberth_ctx *c)
{
	berth_ctx_free(c->ctx);
	c->ctx = NULL;
	if (c->log_ref != LUA_NOREF) {
		luaL_unref(L, LUA_REGISTRYINDEX, c->log_ref);
		c->log_ref = LUA_NOREF;
	}
}

/* An optional string field of the options table at index 1, left on the
 * stack so that the returned pointer stays valid. */
static const char *opt_string(lua_State *L, const char *field)
{
	int t = lua_getfield(L, 1, field);

	if (t == LUA_TNIL)
		return NULL;
	if (t != LUA_TSTRING)
		luaL_error(L, "bad option '%s' to 'context' (string expected, got %s)", field,
			   luaL_typename(L, -1));
	return lua_tostring(L, -1);
}

static int l_context(lua_State *L)
{
	static const char *const known[] = { "root", "runroot", "log", "log_level", NULL };
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	const char *level_name;
	berth_error *err = NULL;
	lberth_ctx *c;
	int has_log = 0, rc;

	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);

	/* a misspelt option must not silently mean the default store */
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *const *k = known;

		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING)
			for (; *k && strcmp(*k, lua_tostring(L, -1)); k++)
				;
		if (lua_type(L, -1) != LUA_TSTRING || !*k)
			return luaL_error(L, "bad argument #1 to 'context' (unknown option '%s')",
					  luaL_tolstring(L, -1, NULL));
	}

	opts.root = opt_string(L, "root");       /* stack index 2 */
	opts.runroot = opt_string(L, "runroot"); /* 3 */
	level_name = opt_string(L, "log_level"); /* 4 */
	switch (lua_getfield(L, 1, "log")) {     /* 5 */
	case LUA_TNIL:
		break;
	case LUA_TFUNCTION:
		has_log = 1;
		break;
	default:
		/* a callable table or userdata would do as well as a function */
		if (!luaL_getmetafield(L, -1, "__call"))
			return luaL_error(L, "bad option 'log' to 'context' (function expected, got %s)",
					  luaL_typename(L, -1));
		lua_pop(L, 1);
		has_log = 1;
	}
	if (level_name && (rc = berth_log_level_parse(level_name, &opts.log_level, &err)) < 0)
		return push_error(L, err, rc);

	c = lua_newuserdatauv(L, sizeof(*c), 0); /* 6 */
	c->ctx = NULL;
	c->L = NULL;
	c->log_ref = LUA_NOREF;
	c->busy = 0;
	luaL_setmetatable(L, CTX_TYPE);
	if (has_log) {
		/* the library logs from inside berth_ctx_new: be ready before it */
		lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
		c->L = lua_tothread(L, -1);
		lua_pop(L, 1);
		lua_pushvalue(L, 5);
		c->log_ref = luaL_ref(L, LUA_REGISTRYINDEX);
		opts.log = log_trampoline;
		opts.log_userdata = c;
	}

	c->busy++;
	rc = berth_ctx_new(&c->ctx, &opts, &err);
	c->busy--;
	if (rc < 0) {
		ctx_release(L, c);
		return push_error(L, err, rc);
	}
	return 1;
}

static int ctx_root(lua_State *L)
{
	lua_pushstring(L, berth_ctx_root(check_ctx(L, 1)->ctx));
	return 1;
}

static int ctx_runroot(lua_State *L)
{
	lua_pushstring(L, berth_ctx_runroot(check_ctx(L, 1)->ctx));
	return 1;
}

static int ctx_log_level(lua_State *L)
{
	lua_pushstring(L, berth_log_level_name(berth_ctx_log_level(check_ctx(L, 1)->ctx)));
	return 1;
}

/* Pushes a key -> value table and the array of keys in order. */
static int push_info_p(lua_State *L)
{
	const berth_info *info = lua_touserdata(L, 1);
	size_t n = berth_info_count(info);

	lua_createtable(L, 0, n > (size_t)INT_MAX ? 0 : (int)n);
	lua_createtable(L, n > (size_t)INT_MAX ? 0 : (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		const char *key = berth_info_key(info, i), *value = berth_info_value(info, i);

		if (!key)
			continue;
		lua_pushstring(L, value ? value : "");
		lua_setfield(L, -3, key);
		lua_pushstring(L, key);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 2;
}

static int ctx_info(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	berth_info *info = NULL;
	berth_error *err = NULL;
	int rc, status;

	c->busy++;
	rc = berth_info_new(c->ctx, &info, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	status = protected_call(L, push_info_p, info, 2);
	berth_info_free(info);
	if (status != LUA_OK)
		return lua_error(L);
	return 2;
}

/* ctx:image_hold(name, holder) -> the manifest digest held. */
static int ctx_image_hold(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *holder = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	char *digest = NULL;
	int rc;

	c->busy++;
	rc = berth_image_hold(c->ctx, name, holder, &digest, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushstring(L, digest); /* a memory error here leaks at most the digest */
	free(digest);
	return 1;
}

/* ctx:image_release(digest, holder) -> true. */
static int ctx_image_release(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *digest = luaL_checkstring(L, 2), *holder = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_image_release(c->ctx, digest, holder, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushboolean(L, 1);
	return 1;
}

/* Pushes an array of { digest = ..., holder = ... }. */
static int push_holds_p(lua_State *L)
{
	const berth_image_holds *h = lua_touserdata(L, 1);
	size_t n = berth_image_holds_count(h);

	lua_createtable(L, n > (size_t)INT_MAX ? 0 : (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, berth_image_holds_digest(h, i));
		lua_setfield(L, -2, "digest");
		lua_pushstring(L, berth_image_holds_holder(h, i));
		lua_setfield(L, -2, "holder");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* ctx:image_holds([name]) -> the holds on an image, or on every manifest. */
static int ctx_image_holds(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_optstring(L, 2, NULL);
	berth_image_holds *h = NULL;
	berth_error *err = NULL;
	int rc, status;

	c->busy++;
	rc = berth_image_holds_new(c->ctx, name, &h, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	status = protected_call(L, push_holds_p, h, 1);
	berth_image_holds_free(h);
	if (status != LUA_OK)
		return lua_error(L);
	return 1;
}

static int ctx_close(lua_State *L)
{
	lberth_ctx *c = check_ctx_any(L, 1);

	/* closing from a log callback would free the context under the library */
	if (c->busy)
		return luaL_error(L, "berth context is in use (closed from its own log callback?)");
	ctx_release(L, c);
	return 0;
}

static int ctx_gc(lua_State *L)
{
	lberth_ctx *c = check_ctx_any(L, 1);

	if (!c->busy) /* never true for an object being collected; be safe */
		ctx_release(L, c);
	return 0;
}

static int ctx_tostring(lua_State *L)
{
	lberth_ctx *c = check_ctx_any(L, 1);

	if (c->ctx)
		lua_pushfstring(L, CTX_TYPE " (root %s)", berth_ctx_root(c->ctx));
	else
		lua_pushliteral(L, CTX_TYPE " (closed)");
	return 1;
}

static const luaL_Reg ctx_methods[] = {
	{ "root", ctx_root },
	{ "runroot", ctx_runroot },
	{ "log_level", ctx_log_level },
	{ "info", ctx_info },
	{ "image_hold", ctx_image_hold },
	{ "image_release", ctx_image_release },
	{ "image_holds", ctx_image_holds },
	{ "runtime", lberth_ctx_runtime },
	{ "close", ctx_close },
	CONTAINER_METHODS
	OPS_METHODS
	VOLUME_METHODS
	NETWORK_METHODS
	{ NULL, NULL },
};

/* ctx.images, ctx.storage, ctx.cgroups, ctx.containers, ctx.volumes, ctx.networks are fields; the rest are methods
 * (upvalue 1). */
static int ctx_index(lua_State *L)
{
	static const char *const fields[] = { "images", "storage", "cgroups", "containers", "volumes", "networks",
					      NULL };
	static const lua_CFunction makers[] = { lberth_ctx_images, lberth_ctx_storage, lberth_ctx_cgroups,
						lberth_ctx_objects, lberth_ctx_objects, lberth_ctx_objects };
	const char *key = lua_tostring(L, 2);

	for (int i = 0; key && fields[i]; i++)
		if (strcmp(key, fields[i]) == 0) {
			lua_settop(L, 2); /* the field: lberth_ctx_objects reads it */
			return makers[i](L);
		}
	lua_pushvalue(L, 2);
	lua_gettable(L, lua_upvalueindex(1));
	return 1;
}

static const luaL_Reg ctx_meta[] = {
	{ "__gc", ctx_gc },
	{ "__close", ctx_close },
	{ "__tostring", ctx_tostring },
	{ NULL, NULL },
};

static const luaL_Reg berth_functions[] = {
	{ "version", l_version },
	{ "version_info", l_version_info },
	{ "has_feature", l_has_feature },
	{ "features", l_features },
	{ "context", l_context },
	{ NULL, NULL },
};

/* Every code of berth_errcode; the names come from the library. */
static const int error_codes[] = {
	BERTH_OK,          BERTH_ERROR,     BERTH_EINVAL,   BERTH_ENOTFOUND,
	BERTH_EEXISTS,     BERTH_ENOMEM,    BERTH_EOS,      BERTH_EPERM,
	BERTH_EBUSY,       BERTH_EUNSUPPORTED, BERTH_ECANCELED, BERTH_EAUTH,
	BERTH_ENETWORK,    BERTH_EINTEGRITY, BERTH_ESTATE,  BERTH_ESCAPE,
	BERTH_ETIMEOUT,
};

__attribute__((visibility("default"))) int luaopen_berth(lua_State *L);

__attribute__((visibility("default"))) int luaopen_berth(lua_State *L)
{
	luaL_checkversion(L);

	if (luaL_newmetatable(L, CTX_TYPE)) {
		luaL_setfuncs(L, ctx_meta, 0);
		luaL_newlib(L, ctx_methods);
		lua_pushcclosure(L, ctx_index, 1);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);

	lberth_runtime_open(L);
	lberth_image_open(L);
	lberth_storage_open(L);
	lberth_cgroup_open(L);
	lberth_objects_open(L);
	luaL_newlib(L, berth_functions);
	luaL_setfuncs(L, lberth_runtime_functions, 0);
	luaL_setfuncs(L, lberth_image_functions, 0);
	lua_createtable(L, 0, 2 * (int)(sizeof(error_codes) / sizeof(error_codes[0])));
	for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++) {
		const char *name = berth_error_code_name(error_codes[i]);

		lua_pushinteger(L, error_codes[i]);
		lua_setfield(L, -2, name);
		lua_pushstring(L, name);
		lua_rawseti(L, -2, error_codes[i]);
	}
	lua_setfield(L, -2, "errors");
	return 1;
}
