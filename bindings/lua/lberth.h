/* What the files of the Lua binding share: the context userdata, errors as
 * `nil, message, code name, code` (berth.c), the runtime (runtime.c), the
 * engine (container.c, ops.c) and volumes (volume.c). */
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
/* Returns nil, message, code name, code, errno for a failed call, freeing err. */
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
int ctx_container_ids(lua_State *L);
int ctx_run(lua_State *L);

#define CONTAINER_METHODS                                  \
	{ "container_create", ctx_container_create },      \
	{ "container_start", ctx_container_start },        \
	{ "container_wait", ctx_container_wait },          \
	{ "container_kill", ctx_container_kill },          \
	{ "container_stop", ctx_container_stop },          \
	{ "container_remove", ctx_container_remove },      \
	{ "container_inspect", ctx_container_inspect },    \
	{ "container_ids", ctx_container_ids },            \
	{ "run", ctx_run },

/* Shared by container.c and ops.c: a NULL-terminated array of the strings
 * of the table at idx, in a userdata it pushes (nil pushed for nil); true
 * or the error of a call that returned rc. */
const char **lberth_strv(lua_State *L, int idx, const char *what);
int lberth_done(lua_State *L, int rc, berth_error *err);
/* ops.c, shared: library text (JSON) pushed and freed, or the error (the
 * options' fields: lberth_opt_* of image.c). */
int lberth_push_text(lua_State *L, int rc, berth_error *err, char *text);
/* runtime.c: a descriptor from an integer, a Lua file, or nil/false (-1). */
int lberth_to_fd(lua_State *L, int idx, const char *what);
/* A table of the stats' fields, named as in berth_cgroup_stats (runtime.c). */
void lberth_push_stats(lua_State *L, const berth_cgroup_stats *s);

/* ops.c: the engine's operations on existing containers */
int ctx_container_exec(lua_State *L);
int ctx_container_pause(lua_State *L);
int ctx_container_unpause(lua_State *L);
int ctx_container_restart(lua_State *L);
int ctx_container_rename(lua_State *L);
int ctx_container_top(lua_State *L);
int ctx_containers_prune(lua_State *L);
int ctx_container_stats(lua_State *L);
int ctx_container_update(lua_State *L);
int ctx_container_diff(lua_State *L);
int ctx_container_export(lua_State *L);
int ctx_container_copy_to(lua_State *L);
int ctx_container_copy_from(lua_State *L);
int ctx_container_path_is_dir(lua_State *L);
int ctx_container_commit(lua_State *L);
int ctx_container_attach(lua_State *L);
int ctx_container_resize(lua_State *L);
int ctx_containers_boot(lua_State *L);
int ctx_container_events(lua_State *L);
#define OPS_METHODS \
	{ "container_exec", ctx_container_exec }, \
	{ "container_pause", ctx_container_pause }, \
	{ "container_unpause", ctx_container_unpause }, \
	{ "container_restart", ctx_container_restart }, \
	{ "container_rename", ctx_container_rename }, \
	{ "container_top", ctx_container_top }, \
	{ "containers_prune", ctx_containers_prune }, \
	{ "container_stats", ctx_container_stats }, \
	{ "container_update", ctx_container_update }, \
	{ "container_diff", ctx_container_diff }, \
	{ "container_export", ctx_container_export }, \
	{ "container_copy_to", ctx_container_copy_to }, \
	{ "container_copy_from", ctx_container_copy_from }, \
	{ "container_path_is_dir", ctx_container_path_is_dir }, \
	{ "container_commit", ctx_container_commit }, \
	{ "container_attach", ctx_container_attach }, \
	{ "container_resize", ctx_container_resize }, \
	{ "containers_boot", ctx_containers_boot }, \
	{ "container_events", ctx_container_events },

/* volume.c: berth/volume.h as methods of a context */
int ctx_volume_create(lua_State *L);
int ctx_volume_inspect(lua_State *L);
int ctx_volume_names(lua_State *L);
int ctx_volume_remove(lua_State *L);
int ctx_volumes_prune(lua_State *L);
int ctx_volume_hold(lua_State *L);
int ctx_volume_release(lua_State *L);
int ctx_volume_holders(lua_State *L);
int ctx_volume_mount(lua_State *L);
int ctx_volume_unmount(lua_State *L);
int ctx_volume_populate(lua_State *L);
#define VOLUME_METHODS \
	{ "volume_create", ctx_volume_create }, \
	{ "volume_inspect", ctx_volume_inspect }, \
	{ "volume_names", ctx_volume_names }, \
	{ "volume_remove", ctx_volume_remove }, \
	{ "volumes_prune", ctx_volumes_prune }, \
	{ "volume_hold", ctx_volume_hold }, \
	{ "volume_release", ctx_volume_release }, \
	{ "volume_holders", ctx_volume_holders }, \
	{ "volume_mount", ctx_volume_mount }, \
	{ "volume_unmount", ctx_volume_unmount }, \
	{ "volume_populate", ctx_volume_populate },
/* image.c: shared by image.c, storage.c and cgroup.c.
 * lberth_owner: the open context of the userdata of `type` at idx (its user
 * value 1); lberth_push_owned pushes a new such userdata for the context at
 * ctx_idx; lberth_box pushes a userdata whose __gc calls fn on the pointer
 * stored in the returned slot, so a C result survives a Lua error unleaked;
 * lberth_new_type registers a metatable with methods as __index. */
lberth_ctx *lberth_owner(lua_State *L, int idx, const char *type);
void lberth_push_owned(lua_State *L, int ctx_idx, const char *type);
void **lberth_box(lua_State *L, void (*fn)(void *));
/* berth_string_free for a box */
void lberth_free_string(void *p);
void lberth_new_type(lua_State *L, const char *type, const luaL_Reg *methods, const luaL_Reg *meta);
/* An iterator's next (a closure over a table and an index, starting at 0). */
int lberth_list_next(lua_State *L);
/* Options: field k of the table at idx (absent: NULL / def); a function
 * option is pushed (nil when absent) and 1 returned when it is one. */
const char *lberth_opt_string(lua_State *L, int idx, const char *k);
lua_Integer lberth_opt_integer(lua_State *L, int idx, const char *k, lua_Integer def);
int lberth_opt_boolean(lua_State *L, int idx, const char *k, int def);
int lberth_opt_function(lua_State *L, int idx, const char *k);
/* A Lua function the library calls back (progress): a true result or an
 * error cancels the call; lberth_callback_rethrow then raises that error
 * (and frees err) instead of returning the library's ECANCELED. */
struct lberth_cb {
	lua_State *L;
	int failed;
	int fn_idx; /* absolute stack index of the function */
};
int lberth_callback(struct lberth_cb *cb, void (*push)(lua_State *, void *), int nargs, void *data);
int lberth_callback_rethrow(lua_State *L, struct lberth_cb *cb, berth_error *err);

/* image.c, storage.c, cgroup.c: ctx.images, ctx.storage, ctx.cgroups and
 * their types; berth.parse_reference. */
int lberth_ctx_images(lua_State *L);
int lberth_ctx_storage(lua_State *L);
int lberth_ctx_cgroups(lua_State *L);
void lberth_image_open(lua_State *L);
void lberth_storage_open(lua_State *L);
void lberth_cgroup_open(lua_State *L);
extern const luaL_Reg lberth_image_functions[];

/* runtime.c: ctx:runtime([root]), the berth.runtime and berth.process
 * types (made by lberth_runtime_open) and the module functions
 * runtime_spec_default and runtime_features. */
int lberth_ctx_runtime(lua_State *L);
void lberth_runtime_open(lua_State *L);
extern const luaL_Reg lberth_runtime_functions[];

/* objects.c: ctx.containers, ctx.volumes, ctx.networks and their objects'
 * types (made by lberth_objects_open) */
int lberth_ctx_objects(lua_State *L); /* ctx at 1, the field's name at 2 */
void lberth_objects_open(lua_State *L);

/* network.c: networks (berth/network.h) */
int ctx_network_create(lua_State *L);
int ctx_network_names(lua_State *L);
int ctx_network_inspect(lua_State *L);
int ctx_network_remove(lua_State *L);
int ctx_networks_prune(lua_State *L);
int ctx_network_attach(lua_State *L);
int ctx_network_detach(lua_State *L);
int ctx_network_endpoint_rename(lua_State *L);
int ctx_container_network_connect(lua_State *L);
int ctx_container_network_disconnect(lua_State *L);
#define NETWORK_METHODS                              \
	{ "network_create", ctx_network_create },    \
	{ "network_names", ctx_network_names },      \
	{ "network_inspect", ctx_network_inspect },  \
	{ "network_remove", ctx_network_remove },    \
	{ "networks_prune", ctx_networks_prune },    \
	{ "network_attach", ctx_network_attach },    \
	{ "network_detach", ctx_network_detach },    \
	{ "network_endpoint_rename", ctx_network_endpoint_rename },    \
	{ "container_network_connect", ctx_container_network_connect },    \
	{ "container_network_disconnect", ctx_container_network_disconnect },

#endif
