/* The engine's operations on existing containers (berth/container.h) as
 * methods of a context, one to one with the C calls:
 *
 *   code = ctx:container_exec(name, {"sh", "-c", "..."}, {stdio = {nil, f, f}, env = {...},
 *                             started = function(pid, pty) end})
 *   ctx:container_pause(name); ctx:container_unpause(name); ctx:container_restart(name[, timeout])
 *   ctx:container_rename(name, new_name)
 *   json = ctx:container_top(name); json = ctx:container_diff(name)
 *   ids, bytes = ctx:containers_prune(); ids = ctx:containers_boot()
 *   t = ctx:container_stats(name); ctx:container_update(name, {memory = ..., pids_limit = ...})
 *   ctx:container_export(name, fd); ctx:container_copy_to(name, dir, fd)
 *   ctx:container_copy_from(name, path, fd[, as]); is_dir = ctx:container_path_is_dir(name, path)
 *   image_id = ctx:container_commit(name, {tag = "repo:tag", comment =, author =, changes = {...}})
 *   code, oom = ctx:container_attach(name[, {stdin =, stdout =, stderr =, detach_keys =}])
 *   ctx:container_resize(name, rows, cols)
 *   ctx:container_events(function(json_line) ... end[, {since_ns =, until_ns =, follow =}])
 *
 * fds are integers or open Lua files. Failures: nil, message, code name, code.
 * Arrays handed to the library live in userdata on the stack. */
#include <stdlib.h>
#include <string.h>

#include "lberth.h"

/* Pushes library text (JSON) and frees it. */
int lberth_push_text(lua_State *L, int rc, berth_error *err, char *text)
{
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushstring(L, text); /* cannot fail short of memory: then text leaks */
	berth_string_free(text);
	return 1;
}

/* Pushes a table of the ids and frees them. */
static void push_ids(lua_State *L, char **ids, size_t count)
{
	lua_createtable(L, (int)count, 0);
	for (size_t i = 0; i < count; i++) {
		lua_pushstring(L, ids[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	berth_container_ids_free(ids, count);
}

/* Field k of the options table at idx (nil when there is no table). */
static int opt_field(lua_State *L, int idx, const char *k)
{
	if (lua_isnoneornil(L, idx)) {
		lua_pushnil(L);
		return LUA_TNIL;
	}
	luaL_checktype(L, idx, LUA_TTABLE);
	return lua_getfield(L, idx, k);
}

/* exec's started function, called under lua_pcall: its error is raised
 * once the process has been waited for, never across the library. */
struct started_call {
	lua_State *L;
	int fn;     /* its stack index */
	int failed; /* its error is on top of the stack */
};

static void started_to_lua(int pid, int pty, void *userdata)
{
	struct started_call *s = userdata;

	if (!lua_checkstack(s->L, 3)) {
		s->failed = -1; /* no room: skipped */
		return;
	}
	lua_pushvalue(s->L, s->fn);
	lua_pushinteger(s->L, pid);
	if (pty < 0)
		lua_pushnil(s->L);
	else
		lua_pushinteger(s->L, pty);
	if (lua_pcall(s->L, 2, 0, 0) != LUA_OK)
		s->failed = 1;
}

/* ctx:container_exec(name, cmd[, opts]): the exit code, or true with detach.
 * opts.started(pid, pty) runs once it does, pty its terminal's master with
 * tty (valid until started returns), else nil. */
int ctx_container_exec(lua_State *L)
{
	berth_container_exec_opts o = BERTH_CONTAINER_EXEC_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct started_call s = { L, 0, 0 };
	berth_error *err = NULL;
	int fds[3], rc;

	lua_settop(L, 4);
	luaL_checktype(L, 3, LUA_TTABLE);
	o.cmd = lberth_strv(L, 3, "command");
	opt_field(L, 4, "env");
	o.env = lberth_strv(L, lua_gettop(L), "env");
	o.user = lberth_opt_string(L, 4, "user");
	o.workdir = lberth_opt_string(L, 4, "workdir");
	opt_field(L, 4, "tty");
	o.tty = lua_toboolean(L, -1);
	opt_field(L, 4, "detach");
	o.detach = lua_toboolean(L, -1);
	if (opt_field(L, 4, "stdio") == LUA_TTABLE) {
		for (int i = 0; i < 3; i++) {
			lua_rawgeti(L, -1, i + 1);
			fds[i] = lberth_to_fd(L, -1, "stdio entry");
			lua_pop(L, 1);
		}
		o.stdio = fds;
	}
	if (opt_field(L, 4, "started") != LUA_TNIL) {
		luaL_checktype(L, -1, LUA_TFUNCTION);
		s.fn = lua_gettop(L);
		o.started = started_to_lua;
		o.userdata = &s;
	}
	c->busy++;
	rc = berth_container_exec(c->ctx, name, &o, &how, &err);
	c->busy--;
	if (s.failed == 1) {
		berth_error_free(err);
		return lua_error(L);
	}
	if (rc < 0)
		return push_error(L, err, rc);
	if (o.detach)
		lua_pushboolean(L, 1);
	else
		lua_pushinteger(L, how.code);
	return 1;
}

/* The calls taking a name and nothing else. */
#define NAME_ONLY(luaname, cname)                               \
	int ctx_##luaname(lua_State *L)                         \
	{                                                       \
		lberth_ctx *c = check_ctx(L, 1);                \
		const char *name = luaL_checkstring(L, 2);      \
		berth_error *err = NULL;                        \
		int rc;                                         \
                                                                \
		c->busy++;                                      \
		rc = cname(c->ctx, name, &err);                 \
		c->busy--;                                      \
		return lberth_done(L, rc, err);                 \
	}

NAME_ONLY(container_pause, berth_container_pause)
NAME_ONLY(container_unpause, berth_container_unpause)

/* The calls returning JSON text, given as it is (Lua has no JSON of its own). */
#define JSON_OUT(luaname, cname)                                \
	int ctx_##luaname(lua_State *L)                         \
	{                                                       \
		lberth_ctx *c = check_ctx(L, 1);                \
		const char *name = luaL_checkstring(L, 2);      \
		berth_error *err = NULL;                        \
		char *text = NULL;                              \
		int rc;                                         \
                                                                \
		c->busy++;                                      \
		rc = cname(c->ctx, name, &text, &err);          \
		c->busy--;                                      \
		return lberth_push_text(L, rc, err, text);             \
	}

JSON_OUT(container_top, berth_container_top)
JSON_OUT(container_diff, berth_container_diff)

int ctx_container_restart(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int timeout = (int)luaL_optinteger(L, 3, -1), rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_container_restart(c->ctx, name, timeout, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_rename(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *new_name = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_container_rename(c->ctx, name, new_name, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

/* ids removed, bytes reclaimed */
int ctx_containers_prune(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	char **ids = NULL;
	size_t count = 0;
	int rc;

	c->busy++;
	rc = berth_container_prune(c->ctx, &ids, &count, &bytes, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	push_ids(L, ids, count);
	lua_pushinteger(L, (lua_Integer)bytes);
	return 2;
}

int ctx_containers_boot(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	berth_error *err = NULL;
	char **ids = NULL;
	size_t count = 0;
	int rc;

	c->busy++;
	rc = berth_container_boot(c->ctx, &ids, &count, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	push_ids(L, ids, count);
	return 1;
}

/* A table as runtime:stats gives it (UNKNOWN and UNLIMITED as they are). */
int ctx_container_stats(lua_State *L)
{
	berth_cgroup_stats s = BERTH_CGROUP_STATS_INIT;
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_container_stats(c->ctx, name, &s, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lberth_push_stats(L, &s);
	return 1;
}

int ctx_container_update(lua_State *L)
{
	berth_container_update_opts o = BERTH_CONTAINER_UPDATE_OPTS_INIT;
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	luaL_checktype(L, 3, LUA_TTABLE);
	o.memory = lberth_opt_integer(L, 3, "memory", 0);
	o.memory_swap = lberth_opt_integer(L, 3, "memory_swap", 0);
	o.nano_cpus = lberth_opt_integer(L, 3, "nano_cpus", 0);
	o.cpu_shares = lberth_opt_integer(L, 3, "cpu_shares", 0);
	o.pids_limit = lberth_opt_integer(L, 3, "pids_limit", 0);
	c->busy++;
	rc = berth_container_update(c->ctx, name, &o, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_export(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int fd = lberth_to_fd(L, 3, "fd"), rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_container_export(c->ctx, name, fd, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_copy_to(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *dir = luaL_checkstring(L, 3);
	int fd = lberth_to_fd(L, 4, "fd"), rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_container_copy_to(c->ctx, name, dir, fd, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_copy_from(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *path = luaL_checkstring(L, 3);
	int fd = lberth_to_fd(L, 4, "fd"), rc;
	const char *as = luaL_optstring(L, 5, NULL);
	berth_error *err = NULL;

	c->busy++;
	rc = berth_container_copy_from(c->ctx, name, path, as, fd, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_path_is_dir(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *path = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int is_dir = 0, rc;

	c->busy++;
	rc = berth_container_path_is_dir(c->ctx, name, path, &is_dir, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushboolean(L, is_dir);
	return 1;
}

int ctx_container_commit(lua_State *L)
{
	berth_container_commit_opts o = BERTH_CONTAINER_COMMIT_OPTS_INIT;
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	char *id = NULL;
	int rc;

	lua_settop(L, 3);
	luaL_checktype(L, 3, LUA_TTABLE);
	o.tag = lberth_opt_string(L, 3, "tag");
	o.comment = lberth_opt_string(L, 3, "comment");
	o.author = lberth_opt_string(L, 3, "author");
	opt_field(L, 3, "changes");
	o.changes = lberth_strv(L, lua_gettop(L), "changes");
	c->busy++;
	rc = berth_container_commit(c->ctx, name, &o, &id, &err);
	c->busy--;
	return lberth_push_text(L, rc, err, id);
}

/* code, oom_killed once it ends; false when the detach keys were read. */
int ctx_container_attach(lua_State *L)
{
	berth_container_attach_opts o = BERTH_CONTAINER_ATTACH_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	const char *keys[] = { "stdin", "stdout", "stderr" };
	int *fds[] = { &o.stdin_fd, &o.stdout_fd, &o.stderr_fd };
	berth_error *err = NULL;
	int detached = 0, rc;

	lua_settop(L, 3);
	for (int i = 0; i < 3; i++) {
		if (opt_field(L, 3, keys[i]) != LUA_TNIL)
			*fds[i] = lberth_to_fd(L, -1, keys[i]);
		lua_pop(L, 1);
	}
	o.detach_keys = lberth_opt_string(L, 3, "detach_keys");
	c->busy++;
	rc = berth_container_attach(c->ctx, name, &o, &how, &detached, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	if (detached) {
		lua_pushboolean(L, 0);
		return 1;
	}
	lua_pushinteger(L, how.code);
	lua_pushboolean(L, how.oom_killed);
	return 2;
}

int ctx_container_resize(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	unsigned rows = (unsigned)luaL_checkinteger(L, 3), cols = (unsigned)luaL_checkinteger(L, 4);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_container_resize(c->ctx, name, rows, cols, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

/* events: the Lua function runs under lua_pcall, so its error cannot jump
 * over the library; the error stops the listing and is raised afterwards. */
struct events_call {
	lua_State *L;
	int failed;
};

static int event_to_lua(const char *json_line, void *userdata)
{
	struct events_call *e = userdata;
	lua_State *L = e->L;
	int stop;

	lua_pushvalue(L, 2);
	lua_pushstring(L, json_line);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		e->failed = 1; /* the error stays on the stack */
		return 1;
	}
	stop = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return stop;
}

int ctx_container_events(lua_State *L)
{
	struct events_call e = { L, 0 };
	lberth_ctx *c = check_ctx(L, 1);
	berth_error *err = NULL;
	long long since, until;
	int follow, rc;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 3);
	since = lberth_opt_integer(L, 3, "since_ns", 0);
	until = lberth_opt_integer(L, 3, "until_ns", 0);
	opt_field(L, 3, "follow");
	follow = lua_toboolean(L, -1);
	lua_settop(L, 3);
	luaL_checkstack(L, 4, "events");
	c->busy++;
	rc = berth_container_events(c->ctx, since, until, follow, event_to_lua, &e, &err);
	c->busy--;
	if (e.failed) {
		berth_error_free(err);
		return lua_error(L);
	}
	return lberth_done(L, rc, err);
}
