/* What the files of the Lua binding share: the context userdata, errors as
 * `nil, message, code name, code` (berth.c), and the runtime (runtime.c). */
#ifndef LBERTH_H
#define LBERTH_H

#include <lauxlib.h>
#include <lua.h>

#include <berth/berth.h>

#define CTX_TYPE "berth.context"

typedef struct {
	berth_ctx *ctx;  /* NULL once closed (or while being created) */
	lua_State *L;    /* the main thread: lives as long as the context */
	int log_ref;     /* the log function in the registry, or LUA_NOREF */
	int busy;        /* library calls in progress on this context */
} lberth_ctx;

/* Calls f(p) under lua_pcall, leaving nresults results (or the error) on top. */
int protected_call(lua_State *L, lua_CFunction f, void *p, int nresults);
/* Returns nil, message, code name, code for a failed call, freeing err. */
int push_error(lua_State *L, berth_error *err, int rc);
/* The context userdata at idx, open or closed / open (else a Lua error). */
lberth_ctx *check_ctx_any(lua_State *L, int idx);
lberth_ctx *check_ctx(lua_State *L, int idx);

/* runtime.c: ctx:runtime([root]), the berth.runtime and berth.process
 * types (made by lberth_runtime_open) and the module functions
 * runtime_spec_default and runtime_features. */
int lberth_ctx_runtime(lua_State *L);
void lberth_runtime_open(lua_State *L);
extern const luaL_Reg lberth_runtime_functions[];

#endif
