/* What the files of the Lua binding share: the context userdata and the
 * error convention (nil, message, code name, code). */
#ifndef BERTH_LUA_BINDING_H
#define BERTH_LUA_BINDING_H

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

/* The open context at idx; a Lua error when closed or not a context. */
lberth_ctx *check_ctx(lua_State *L, int idx);
/* Returns nil, message, code name, code for a failed call, freeing err. */
int push_error(lua_State *L, berth_error *err, int rc);

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

#endif
