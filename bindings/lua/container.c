/* The engine (berth/container.h) as methods of a context:
 *
 *   id = ctx:container_create(image, {"sh", "-c", "..."}, {name = "web", env = {...}})
 *   ctx:container_start(id)                  -- detached: output to its log
 *   ctx:container_start(id, {stdio = {nil, fd, fd}})
 *   code, oom = ctx:container_wait(id[, timeout_seconds])
 *   code, output = ctx:run(image, cmd[, opts])  -- removed afterwards
 *
 * Option names are the C struct's fields. Arrays handed to the library live
 * in userdata on the stack, so a Lua error cannot leak them. */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lberth.h"

/* A NULL-terminated array of the strings in the table at idx (kept alive
 * by that table), or NULL for nil. Pushes the userdata holding it. */
const char **lberth_strv(lua_State *L, int idx, const char *what)
{
	const char **v;
	lua_Integer n;

	if (lua_isnoneornil(L, idx)) {
		lua_pushnil(L);
		return NULL;
	}
	if (!lua_istable(L, idx))
		luaL_error(L, "bad '%s' (table of strings expected, got %s)", what, luaL_typename(L, idx));
	n = luaL_len(L, idx);
	v = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof(*v), 0);
	for (lua_Integer i = 1; i <= n; i++) {
		if (lua_rawgeti(L, idx, i) != LUA_TSTRING)
			luaL_error(L, "bad '%s' (item %d is not a string)", what, (int)i);
		v[i - 1] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	v[n] = NULL;
	return v;
}

/* Reads the options table at idx into o; what it points to stays on the stack. */
static void create_opts(lua_State *L, int idx, berth_container_create_opts *o)
{
	static const char *const strings[] = { "name", "workdir", "user", "hostname", "network", "stop_signal",
					       "seccomp", "restart", "health_cmd", "ip", NULL };
	static const char *const flags[] = { "tty", "read_only", "privileged", "no_new_privileges", "auto_remove",
					     "init", "open_stdin", "no_healthcheck", "publish_all", NULL };
	static const char *const numbers[] = { "memory", "memory_swap", "nano_cpus", "cpu_shares", "pids_limit",
					       "shm_size", "health_interval", "health_timeout", "stop_timeout",
					       "health_retries", NULL };
	static const char *const lists[] = { "entrypoint", "env", "cap_add", "cap_drop", "labels", "ulimits",
					     "devices", "log_opts", "volumes", "mounts", "tmpfs", "volumes_from",
					     "publish", "network_aliases", "dns", "dns_search", "dns_options", "add_hosts", NULL };
	const char **sv[] = { &o->name, &o->workdir, &o->user, &o->hostname, &o->network, &o->stop_signal,
			      &o->seccomp, &o->restart, &o->health_cmd, &o->ip };
	int *fv[] = { &o->tty, &o->read_only, &o->privileged, &o->no_new_privileges, &o->auto_remove,
		      &o->init, &o->open_stdin, &o->no_healthcheck, &o->publish_all };
	long long *nv[] = { &o->memory, &o->memory_swap, &o->nano_cpus, &o->cpu_shares, &o->pids_limit,
			    &o->shm_size, &o->health_interval, &o->health_timeout };
	int *iv[] = { &o->stop_timeout, &o->health_retries }; /* the int numbers, after the long longs */
	const char *const **lv[] = { &o->entrypoint, &o->env, &o->cap_add, &o->cap_drop, &o->labels,
				     &o->ulimits, &o->devices, &o->log_opts, &o->volumes, &o->mounts, &o->tmpfs,
				     &o->volumes_from, &o->publish, &o->network_aliases, &o->dns, &o->dns_search,
				     &o->dns_options, &o->add_hosts };
	const int n_ll = (int)(sizeof(nv) / sizeof(nv[0]));

	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	luaL_checkstack(L, 50, "container options");
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
		int known = 0;

		for (int i = 0; strings[i]; i++)
			if (!strcmp(k, strings[i]))
				*sv[i] = luaL_checkstring(L, -1), known = 1;
		for (int i = 0; flags[i]; i++)
			if (!strcmp(k, flags[i]))
				*fv[i] = lua_toboolean(L, -1), known = 1;
		for (int i = 0; numbers[i]; i++)
			if (!strcmp(k, numbers[i])) {
				lua_Integer n = luaL_checkinteger(L, -1);

				if (i < n_ll)
					*nv[i] = n;
				else
					*iv[i - n_ll] = (int)n;
				known = 1;
			}
		lua_pop(L, 1);
		if (!known)
			for (int i = 0; lists[i]; i++)
				if (!strcmp(k, lists[i]))
					known = 1;
		if (!known)
			luaL_error(L, "unknown container option '%s'", k);
	}
	for (int i = 0; lists[i]; i++) {
		lua_getfield(L, idx, lists[i]);
		*lv[i] = lberth_strv(L, lua_gettop(L), lists[i]); /* the table, then its array */
	}
}

/* image, cmd table, opts table at 2, 3, 4: the new container's id, or pushes
 * the error (returning NULL). */
static char *create(lua_State *L, lberth_ctx *c, int *nerr)
{
	berth_container_create_opts o = BERTH_CONTAINER_CREATE_OPTS_INIT;
	const char *image = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	char *id = NULL;
	int rc;

	lua_settop(L, 4); /* image, cmd, opts at fixed places; what strv pushes above */
	o.cmd = lberth_strv(L, 3, "command");
	create_opts(L, 4, &o);
	c->busy++;
	rc = berth_container_create(c->ctx, image, &o, &id, &err);
	c->busy--;
	if (rc < 0) {
		*nerr = push_error(L, err, rc);
		return NULL;
	}
	return id;
}

int ctx_container_create(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	char *id;
	int nerr;

	if (!(id = create(L, c, &nerr)))
		return nerr;
	lua_pushstring(L, id);
	berth_string_free(id);
	return 1;
}

static int start(lua_State *L, lberth_ctx *c, const char *name, const int *stdio)
{
	berth_container_start_opts o = BERTH_CONTAINER_START_OPTS_INIT;
	berth_error *err = NULL;
	int rc;

	o.stdio = stdio;
	c->busy++;
	rc = berth_container_start(c->ctx, name, &o, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushboolean(L, 1);
	return 1;
}

int ctx_container_start(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int fds[3], *stdio = NULL;

	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if (lua_getfield(L, 3, "stdio") == LUA_TTABLE) {
			for (int i = 0; i < 3; i++) {
				lua_rawgeti(L, -1, i + 1);
				fds[i] = lua_isnil(L, -1) ? -1 : (int)luaL_checkinteger(L, -1);
				lua_pop(L, 1);
			}
			stdio = fds;
		}
	}
	return start(L, c, name, stdio);
}

/* Waits; pushes code, oom_killed (2) or the error (4). */
static int wait_for(lua_State *L, lberth_ctx *c, const char *name, int timeout_ms)
{
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_container_wait(c->ctx, name, timeout_ms, &how, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushinteger(L, how.code);
	lua_pushboolean(L, how.oom_killed);
	return 2;
}

int ctx_container_wait(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	lua_Number t = luaL_optnumber(L, 3, -1);

	return wait_for(L, c, name, t < 0 ? -1 : t > 2e6 ? 2000000000 : (int)(t * 1000));
}

/* Pushes true, or the error of a call that returned rc. */
int lberth_done(lua_State *L, int rc, berth_error *err)
{
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushboolean(L, 1);
	return 1;
}

int ctx_container_kill(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int sig = (int)luaL_optinteger(L, 3, SIGKILL), rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_container_kill(c->ctx, name, sig, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_stop(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int timeout = (int)luaL_optinteger(L, 3, -1), rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_container_stop(c->ctx, name, timeout, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_remove(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int flags = (lua_toboolean(L, 3) ? BERTH_CONTAINER_REMOVE_FORCE : 0) |
		    (lua_toboolean(L, 4) ? BERTH_CONTAINER_REMOVE_VOLUMES : 0), rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_container_remove(c->ctx, name, flags, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

/* The inspect document as JSON text (Lua has no JSON of its own). */
int ctx_container_inspect(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	char *json = NULL;
	int rc;

	c->busy++;
	rc = berth_container_inspect(c->ctx, name, &json, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushstring(L, json); /* cannot fail short of memory: then json leaks */
	berth_string_free(json);
	return 1;
}

int ctx_container_ids(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	berth_error *err = NULL;
	char **ids = NULL;
	size_t count = 0;
	int rc;

	if ((rc = berth_container_ids(c->ctx, &ids, &count, &err)) < 0)
		return push_error(L, err, rc);
	lua_createtable(L, (int)count, 0);
	for (size_t i = 0; i < count; i++) {
		lua_pushstring(L, ids[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	berth_container_ids_free(ids, count);
	return 1;
}

/* run(image, cmd[, opts]): create, start with stdout and stderr on a pipe,
 * read it, wait, remove; returns code, output. */
int ctx_run(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	luaL_Buffer out;
	char *id, buf[4096];
	int nerr, pipefd[2], stdio[3], n, top;
	ssize_t got;

	if (!(id = create(L, c, &nerr)))
		return nerr;
	/* from here only a memory error (in the buffer) could leave it behind */
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		berth_container_remove(c->ctx, id, BERTH_CONTAINER_REMOVE_FORCE, NULL);
		berth_string_free(id);
		return luaL_fileresult(L, 0, "pipe");
	}
	stdio[0] = -1;
	stdio[1] = stdio[2] = pipefd[1];
	top = lua_gettop(L);
	n = start(L, c, id, stdio);
	close(pipefd[1]);
	if (n == 1) {
		lua_settop(L, top);
		luaL_buffinit(L, &out);
		while ((got = read(pipefd[0], buf, sizeof(buf))) > 0)
			luaL_addlstring(&out, buf, (size_t)got);
		luaL_pushresult(&out);
		n = wait_for(L, c, id, -1);
		if (n == 2) {
			lua_pop(L, 1);          /* oom_killed */
			lua_insert(L, -2);      /* code, output */
		}
	}
	close(pipefd[0]);
	berth_container_remove(c->ctx, id, BERTH_CONTAINER_REMOVE_FORCE, NULL);
	berth_string_free(id);
	return n;
}
