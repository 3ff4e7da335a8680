/* The OCI runtime (include/berth/runtime.h) from Lua:
 *
 *   local rt = ctx:runtime()                -- <runroot>/runtime, or ctx:runtime(root)
 *   local p = rt:create("c1", bundle, { stdio = { nil, w, w } })
 *   rt:start("c1"); local st = p:wait(10)   -- st.code, st.signal, st.oom_killed
 *
 * A runtime keeps its context alive (user value 1) and checks it is open
 * before every call; a process keeps its runtime alive. Failures return
 * nil, message, code name, code; a wait that times out fails with ETIMEOUT.
 * Descriptors in stdio and fds: integers or Lua files (io.open, io.popen). */
#include "lberth.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#define RT_TYPE "berth.runtime"
#define PROC_TYPE "berth.process"

typedef struct {
	berth_runtime *rt;
} lberth_rt;

typedef struct {
	berth_runtime_process *p; /* NULL once closed */
} lberth_proc;

/* The runtime at idx and, checked open, its context (busy while in use). */
static berth_runtime *check_rt(lua_State *L, int idx, lberth_ctx **c)
{
	lberth_rt *r = luaL_checkudata(L, idx, RT_TYPE);

	lua_getiuservalue(L, idx, 1);
	*c = check_ctx(L, -1);
	lua_pop(L, 1); /* the runtime's user value keeps it */
	return r->rt;
}

static int rt_gc(lua_State *L)
{
	lberth_rt *r = luaL_checkudata(L, 1, RT_TYPE);

	berth_runtime_free(r->rt); /* touches no context */
	r->rt = NULL;
	return 0;
}

static int rt_tostring(lua_State *L)
{
	lberth_rt *r = luaL_checkudata(L, 1, RT_TYPE);

	lua_pushfstring(L, RT_TYPE " (root %s)", r->rt ? berth_runtime_root(r->rt) : "?");
	return 1;
}

int lberth_ctx_runtime(lua_State *L)
{
	berth_runtime_opts o = BERTH_RUNTIME_OPTS_INIT;
	lberth_ctx *c = check_ctx(L, 1);
	berth_error *err = NULL;
	lberth_rt *r;
	int rc;

	o.root = luaL_optstring(L, 2, NULL);
	r = lua_newuserdatauv(L, sizeof(*r), 1);
	r->rt = NULL;
	luaL_setmetatable(L, RT_TYPE);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	if ((rc = berth_runtime_new(c->ctx, &o, &r->rt, &err)) < 0)
		return push_error(L, err, rc);
	return 1;
}

static int rt_root(lua_State *L)
{
	lberth_ctx *c;

	lua_pushstring(L, berth_runtime_root(check_rt(L, 1, &c)));
	return 1;
}

/* ---- options ---------------------------------------------------------------- */

/* A descriptor: an integer, a Lua file, or nil/false for -1. */
int lberth_to_fd(lua_State *L, int idx, const char *what)
{
	luaL_Stream *s;

	if (lua_isnoneornil(L, idx) || (lua_isboolean(L, idx) && !lua_toboolean(L, idx)))
		return -1;
	if (lua_isinteger(L, idx))
		return (int)lua_tointeger(L, idx);
	if ((s = luaL_testudata(L, idx, LUA_FILEHANDLE)) && s->closef && s->f)
		return fileno(s->f);
	return luaL_error(L, "bad %s (integer or open file expected, got %s)", what, luaL_typename(L, idx));
}

struct io_opts {
	int stdio[3];
	int has_stdio;
	int *fds; /* a userdata on the stack, freed with it */
	size_t nfds;
	const char *console_socket, *pid_file, *config;
	int no_pivot, no_new_keyring;
};

static const char *opt_str(lua_State *L, int t, const char *field)
{
	const char *s = NULL;

	if (lua_getfield(L, t, field) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "bad option '%s' (string expected, got %s)", field, luaL_typename(L, -1));
		s = lua_tostring(L, -1);
	}
	lua_pop(L, 1); /* the string stays: the options table holds it */
	return s;
}

/* Reads the options table at idx (may be nil) into o. */
static void io_opts_read(lua_State *L, int idx, struct io_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "stdio") != LUA_TNIL) {
		luaL_checktype(L, -1, LUA_TTABLE);
		for (int i = 0; i < 3; i++) {
			lua_geti(L, -1, i + 1);
			o->stdio[i] = lberth_to_fd(L, -1, "stdio entry");
			lua_pop(L, 1);
		}
		o->has_stdio = 1;
	}
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "fds") != LUA_TNIL) {
		luaL_checktype(L, -1, LUA_TTABLE);
		o->nfds = (size_t)luaL_len(L, -1);
		o->fds = lua_newuserdatauv(L, (o->nfds ? o->nfds : 1) * sizeof(int), 0);
		for (size_t i = 0; i < o->nfds; i++) {
			lua_geti(L, -2, (lua_Integer)i + 1);
			if ((o->fds[i] = lberth_to_fd(L, -1, "fds entry")) < 0)
				luaL_error(L, "bad fds entry %d (a descriptor expected)", (int)i + 1);
			lua_pop(L, 1);
		}
		lua_insert(L, -2); /* keep the array on the stack below the table */
	}
	lua_pop(L, 1);
	o->console_socket = opt_str(L, idx, "console_socket");
	o->pid_file = opt_str(L, idx, "pid_file");
	o->config = opt_str(L, idx, "config");
	lua_getfield(L, idx, "no_pivot");
	o->no_pivot = lua_toboolean(L, -1);
	lua_getfield(L, idx, "no_new_keyring");
	o->no_new_keyring = lua_toboolean(L, -1);
	lua_pop(L, 2);
}

static int push_process(lua_State *L, int rt_idx, berth_runtime_process *p)
{
	lberth_proc *u = lua_newuserdatauv(L, sizeof(*u), 1);

	u->p = p;
	luaL_setmetatable(L, PROC_TYPE);
	lua_pushvalue(L, rt_idx);
	lua_setiuservalue(L, -2, 1);
	return 1;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int rt_create(lua_State *L)
{
	berth_runtime_create_opts co = BERTH_RUNTIME_CREATE_OPTS_INIT;
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	const char *id = luaL_checkstring(L, 2), *bundle = luaL_checkstring(L, 3);
	berth_runtime_process *p = NULL;
	berth_error *err = NULL;
	struct io_opts o;
	int rc;

	io_opts_read(L, 4, &o);
	co.console_socket = o.console_socket;
	co.pid_file = o.pid_file;
	co.no_pivot = o.no_pivot;
	co.no_new_keyring = o.no_new_keyring;
	co.stdio = o.has_stdio ? o.stdio : NULL;
	co.fds = o.fds;
	co.nfds = o.nfds;
	c->busy++;
	rc = berth_runtime_create(rt, id, bundle, o.config, &co, &p, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	return push_process(L, 1, p);
}

static int rt_exec(lua_State *L)
{
	berth_runtime_exec_opts eo = BERTH_RUNTIME_EXEC_OPTS_INIT;
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	const char *id = luaL_checkstring(L, 2), *process = luaL_checkstring(L, 3);
	berth_runtime_process *p = NULL;
	berth_error *err = NULL;
	struct io_opts o;
	int rc;

	io_opts_read(L, 4, &o);
	eo.console_socket = o.console_socket;
	eo.pid_file = o.pid_file;
	eo.stdio = o.has_stdio ? o.stdio : NULL;
	eo.fds = o.fds;
	eo.nfds = o.nfds;
	c->busy++;
	rc = berth_runtime_exec(rt, id, process, &eo, &p, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	return push_process(L, 1, p);
}

enum { DO_START, DO_PAUSE, DO_RESUME, DO_KILL, DO_DELETE, DO_UPDATE };

/* The calls that return nothing: true, or nil and the error. Arguments
 * are read before the context is marked busy (a Lua error would skip the
 * unmarking). */
static int rt_simple(lua_State *L, int what)
{
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	const char *id = luaL_checkstring(L, 2);
	const char *res = what == DO_UPDATE ? luaL_checkstring(L, 3) : NULL;
	int sig = what == DO_KILL ? (int)luaL_optinteger(L, 3, 15) : 0;
	int flag = lua_toboolean(L, what == DO_KILL ? 4 : 3);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	switch (what) {
	case DO_START:
		rc = berth_runtime_start(rt, id, &err);
		break;
	case DO_PAUSE:
		rc = berth_runtime_pause(rt, id, &err);
		break;
	case DO_RESUME:
		rc = berth_runtime_resume(rt, id, &err);
		break;
	case DO_KILL:
		rc = berth_runtime_kill(rt, id, sig, flag ? BERTH_RUNTIME_KILL_ALL : 0, &err);
		break;
	case DO_DELETE:
		rc = berth_runtime_delete(rt, id, flag ? BERTH_RUNTIME_DELETE_FORCE : 0, &err);
		break;
	default:
		rc = berth_runtime_update(rt, id, res, &err);
	}
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushboolean(L, 1);
	return 1;
}

static int rt_start(lua_State *L) { return rt_simple(L, DO_START); }
static int rt_pause(lua_State *L) { return rt_simple(L, DO_PAUSE); }
static int rt_resume(lua_State *L) { return rt_simple(L, DO_RESUME); }
static int rt_kill(lua_State *L) { return rt_simple(L, DO_KILL); }
static int rt_delete(lua_State *L) { return rt_simple(L, DO_DELETE); }
static int rt_update(lua_State *L) { return rt_simple(L, DO_UPDATE); }

static int push_string_p(lua_State *L)
{
	lua_pushstring(L, lua_touserdata(L, 1));
	return 1;
}

/* A string the library made, pushed and freed (a memory error cannot leak it). */
static int push_lib_string(lua_State *L, char *s)
{
	int status = protected_call(L, push_string_p, s, 1);

	berth_string_free(s);
	return status == LUA_OK ? 1 : lua_error(L);
}

static int rt_state(lua_State *L)
{
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	const char *id = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	char *json = NULL;
	int rc;

	c->busy++;
	rc = berth_runtime_state(rt, id, &json, &err);
	c->busy--;
	return rc < 0 ? push_error(L, err, rc) : push_lib_string(L, json);
}

struct id_list {
	char **ids;
	int *pids;
	size_t n;
};

static int push_list_p(lua_State *L)
{
	const struct id_list *l = lua_touserdata(L, 1);

	lua_createtable(L, l->n > INT_MAX ? 0 : (int)l->n, 0);
	for (size_t i = 0; i < l->n; i++) {
		if (l->ids)
			lua_pushstring(L, l->ids[i]);
		else
			lua_pushinteger(L, l->pids[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int rt_list(lua_State *L)
{
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	struct id_list l = { NULL, NULL, 0 };
	berth_error *err = NULL;
	int rc, status;

	c->busy++;
	rc = berth_runtime_list(rt, &l.ids, &l.n, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	status = protected_call(L, push_list_p, &l, 1);
	berth_runtime_list_free(l.ids, l.n);
	return status == LUA_OK ? 1 : lua_error(L);
}

static int rt_ps(lua_State *L)
{
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	const char *id = luaL_checkstring(L, 2);
	struct id_list l = { NULL, NULL, 0 };
	berth_error *err = NULL;
	int rc, status;

	c->busy++;
	rc = berth_runtime_ps(rt, id, &l.pids, &l.n, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	status = protected_call(L, push_list_p, &l, 1);
	berth_runtime_pids_free(l.pids);
	return status == LUA_OK ? 1 : lua_error(L);
}

static int push_exit(lua_State *L, const berth_runtime_exit *e)
{
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, e->code);
	lua_setfield(L, -2, "code");
	lua_pushinteger(L, e->signal);
	lua_setfield(L, -2, "signal");
	lua_pushboolean(L, e->oom_killed);
	lua_setfield(L, -2, "oom_killed");
	return 1;
}

static int rt_exit_status(lua_State *L)
{
	berth_runtime_exit e = BERTH_RUNTIME_EXIT_INIT;
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	const char *id = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_runtime_exit_status(rt, id, &e, &err);
	c->busy--;
	return rc < 0 ? push_error(L, err, rc) : push_exit(L, &e);
}

static void set_int(lua_State *L, const char *k, long long v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

static int rt_stats(lua_State *L)
{
	berth_cgroup_stats s = BERTH_CGROUP_STATS_INIT;
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	const char *id = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_runtime_stats(rt, id, &s, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lberth_push_stats(L, &s);
	return 1;
}

void lberth_push_stats(lua_State *L, const berth_cgroup_stats *s)
{
	lua_createtable(L, 0, 10);
#define FIELD(f) set_int(L, #f, (long long)s->f)
	FIELD(memory_usage);
	FIELD(memory_peak);
	FIELD(memory_limit);
	FIELD(oom_kills);
	FIELD(oom_events);
	FIELD(cpu_usage_ns);
	FIELD(pids_current);
	FIELD(pids_limit);
	FIELD(io_read_bytes);
	FIELD(io_write_bytes);
#undef FIELD
}

static int rt_usage(lua_State *L)
{
	berth_runtime_usage u = BERTH_RUNTIME_USAGE_INIT;
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_runtime_usage_get(rt, &u, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_createtable(L, 0, 4);
	set_int(L, "containers", u.containers);
	set_int(L, "bytes", u.bytes);
	set_int(L, "leftovers", u.leftovers);
	set_int(L, "leftover_bytes", u.leftover_bytes);
	return 1;
}

static int rt_prune(lua_State *L)
{
	unsigned long long bytes = 0;
	lberth_ctx *c;
	berth_runtime *rt = check_rt(L, 1, &c);
	berth_error *err = NULL;
	size_t n = 0;
	int rc;

	c->busy++;
	rc = berth_runtime_prune(rt, &n, &bytes, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushinteger(L, (lua_Integer)n);
	lua_pushinteger(L, (lua_Integer)bytes);
	return 2;
}

/* ---- processes ------------------------------------------------------------------ */

static lberth_proc *check_proc_any(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, PROC_TYPE);
}

static berth_runtime_process *check_proc(lua_State *L, int idx)
{
	lberth_proc *u = check_proc_any(L, idx);

	if (!u->p)
		luaL_error(L, "berth process is closed");
	return u->p;
}

static int proc_pid(lua_State *L)
{
	lua_pushinteger(L, berth_runtime_process_pid(check_proc(L, 1)));
	return 1;
}

static int proc_pidfd(lua_State *L)
{
	lua_pushinteger(L, berth_runtime_process_pidfd(check_proc(L, 1)));
	return 1;
}

static int proc_pty(lua_State *L)
{
	int fd = berth_runtime_process_pty(check_proc(L, 1));

	if (fd < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, fd);
	return 1;
}

static int proc_signal(lua_State *L)
{
	berth_runtime_process *p = check_proc(L, 1);
	berth_error *err = NULL;
	int rc = berth_runtime_process_signal(p, (int)luaL_checkinteger(L, 2), &err);

	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushboolean(L, 1);
	return 1;
}

/* p:wait([seconds]): nil waits as long as it takes, 0 looks. */
static int proc_wait(lua_State *L)
{
	berth_runtime_exit e = BERTH_RUNTIME_EXIT_INIT;
	berth_runtime_process *p = check_proc(L, 1);
	berth_error *err = NULL;
	lberth_ctx *c;
	int ms = -1, rc;

	if (!lua_isnoneornil(L, 2)) {
		lua_Number t = luaL_checknumber(L, 2);

		luaL_argcheck(L, t >= 0 && t * 1000 < INT_MAX - 1, 2, "seconds from 0 on expected");
		ms = (int)ceil(t * 1000);
	}
	/* an init's end is recorded in the state, through the context */
	lua_getiuservalue(L, 1, 1);
	check_rt(L, lua_gettop(L), &c);
	c->busy++;
	rc = berth_runtime_process_wait(p, ms, &e, &err);
	c->busy--;
	return rc < 0 ? push_error(L, err, rc) : push_exit(L, &e);
}

static int proc_close(lua_State *L)
{
	lberth_proc *u = check_proc_any(L, 1);

	berth_runtime_process_free(u->p); /* the process goes on */
	u->p = NULL;
	return 0;
}

static int proc_tostring(lua_State *L)
{
	lberth_proc *u = check_proc_any(L, 1);

	if (u->p)
		lua_pushfstring(L, PROC_TYPE " (pid %d)", berth_runtime_process_pid(u->p));
	else
		lua_pushliteral(L, PROC_TYPE " (closed)");
	return 1;
}

/* ---- module ---------------------------------------------------------------------- */

static int l_spec_default(lua_State *L)
{
	berth_error *err = NULL;
	char *json = NULL;
	int rc = berth_runtime_spec_default(lua_toboolean(L, 1), &json, &err);

	return rc < 0 ? push_error(L, err, rc) : push_lib_string(L, json);
}

static int l_features(lua_State *L)
{
	berth_error *err = NULL;
	char *json = NULL;
	int rc = berth_runtime_features(&json, &err);

	return rc < 0 ? push_error(L, err, rc) : push_lib_string(L, json);
}

const luaL_Reg lberth_runtime_functions[] = {
	{ "runtime_spec_default", l_spec_default },
	{ "runtime_features", l_features },
	{ NULL, NULL },
};

static const luaL_Reg rt_methods[] = {
	{ "root", rt_root },
	{ "create", rt_create },
	{ "start", rt_start },
	{ "state", rt_state },
	{ "kill", rt_kill },
	{ "delete", rt_delete },
	{ "pause", rt_pause },
	{ "resume", rt_resume },
	{ "ps", rt_ps },
	{ "list", rt_list },
	{ "update", rt_update },
	{ "stats", rt_stats },
	{ "exec", rt_exec },
	{ "exit_status", rt_exit_status },
	{ "usage", rt_usage },
	{ "prune", rt_prune },
	{ NULL, NULL },
};

static const luaL_Reg rt_meta[] = {
	{ "__gc", rt_gc },
	{ "__tostring", rt_tostring },
	{ NULL, NULL },
};

static const luaL_Reg proc_methods[] = {
	{ "pid", proc_pid },
	{ "pidfd", proc_pidfd },
	{ "pty", proc_pty },
	{ "signal", proc_signal },
	{ "wait", proc_wait },
	{ "close", proc_close },
	{ NULL, NULL },
};

static const luaL_Reg proc_meta[] = {
	{ "__gc", proc_close },
	{ "__close", proc_close },
	{ "__tostring", proc_tostring },
	{ NULL, NULL },
};

void lberth_runtime_open(lua_State *L)
{
	if (luaL_newmetatable(L, RT_TYPE)) {
		luaL_setfuncs(L, rt_meta, 0);
		luaL_newlib(L, rt_methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, PROC_TYPE)) {
		luaL_setfuncs(L, proc_meta, 0);
		luaL_newlib(L, proc_methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}
