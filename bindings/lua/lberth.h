/* What the files of the Lua binding share: the context userdata, errors as
 * `nil, message, code name, code` (berth.c), the runtime (runtime.c) and the
 * engine (container.c). */
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

/* container.c: the engine's methods of a context */
int ctx_container_create(lua_State *L);
int ctx_container_start(lua_State *L);
int ctx_container_wait(lua_State *L);
int ctx_container_kill(lua_State *L);
int ctx_container_stop(lua_State *L);
int ctx_container_remove(lua_State *L);
int ctx_container_inspect(lua_State *L);
int ctx_containers(lua_State *L);
int ctx_run(lua_State *L);

#define CONTAINER_METHODS                                  \
	{ "container_create", ctx_container_create },      \
	{ "container_start", ctx_container_start },        \
	{ "container_wait", ctx_container_wait },          \
	{ "container_kill", ctx_container_kill },          \
	{ "container_stop", ctx_container_stop },          \
	{ "container_remove", ctx_container_remove },      \
	{ "container_inspect", ctx_container_inspect },    \
	{ "containers", ctx_containers },                  \
	{ "run", ctx_run },

/* runtime.c: ctx:runtime([root]), the berth.runtime and berth.process
 * types (made by lberth_runtime_open) and the module functions
 * runtime_spec_default and runtime_features. */
int lberth_ctx_runtime(lua_State *L);
void lberth_runtime_open(lua_State *L);
extern const luaL_Reg lberth_runtime_functions[];

#endif
