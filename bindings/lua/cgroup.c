/* Control groups (berth/cgroup.h) from Lua:
 *
 *   local mode, controllers = ctx.cgroups:detect()
 *   local cg <close> = ctx.cgroups:create("bt-1", "/berth-test/bt-1")
 *   cg:attach(pid); cg:set_resources('{"pids": {"limit": 10}}'); cg:stats().pids_limit
 *
 * A berth.cgroup keeps its context (user value 1); __gc and __close free
 * the handle, never the cgroup (remove() does that). */
#include <stdint.h>

#include "lberth.h"

#define CGROUPS_TYPE "berth.cgroups"
#define CGROUP_TYPE "berth.cgroup"

typedef struct {
	berth_cgroup *cg; /* NULL once closed */
} lcgroup;

static int cgroups_detect(lua_State *L)
{
	berth_cgroup_mode mode = BERTH_CGROUP_NONE;
	lberth_ctx *c = lberth_owner(L, 1, CGROUPS_TYPE);
	void **controllers = lberth_box(L, lberth_free_string);
	berth_error *err = NULL;
	const char *s, *e;
	int rc, n = 0;

	c->busy++;
	rc = berth_cgroup_detect(&mode, (char **)controllers, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushstring(L, berth_cgroup_mode_name(mode));
	lua_newtable(L);
	for (s = *controllers ? *controllers : ""; *s; s = *e ? e + 1 : e) {
		for (e = s; *e && *e != ' '; e++)
			;
		if (e > s) {
			lua_pushlstring(L, s, (size_t)(e - s));
			lua_rawseti(L, -2, ++n);
		}
	}
	return 2;
}

static void free_info(void *p)
{
	berth_info_free(p);
}

static int cgroups_info(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, CGROUPS_TYPE);
	void **info = lberth_box(L, free_info);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_cgroup_info_new((berth_info **)info, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_newtable(L);
	for (size_t i = 0; i < berth_info_count(*info); i++) {
		lua_pushstring(L, berth_info_value(*info, i));
		lua_setfield(L, -2, berth_info_key(*info, i));
	}
	/* the library's own lookup agrees with the table */
	lua_pushstring(L, berth_info_lookup(*info, "mode"));
	lua_setfield(L, -2, "mode");
	return 1;
}

static int make(lua_State *L, int create)
{
	lberth_ctx *c = lberth_owner(L, 1, CGROUPS_TYPE);
	const char *id = luaL_checkstring(L, 2), *path = luaL_optstring(L, 3, NULL);
	lcgroup *g = lua_newuserdatauv(L, sizeof(*g), 1);
	berth_error *err = NULL;
	int rc;

	g->cg = NULL;
	luaL_setmetatable(L, CGROUP_TYPE);
	lua_getiuservalue(L, 1, 1);
	lua_setiuservalue(L, -2, 1);
	c->busy++;
	rc = create ? berth_cgroup_create(c->ctx, path, id, &g->cg, &err)
		    : berth_cgroup_open(c->ctx, path, id, &g->cg, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	return 1;
}

static int cgroups_create(lua_State *L)
{
	return make(L, 1);
}

static int cgroups_open(lua_State *L)
{
	return make(L, 0);
}

/* ---- berth.cgroup ---------------------------------------------------------------- */

static berth_cgroup *check_cgroup(lua_State *L, lberth_ctx **c)
{
	lcgroup *g = luaL_checkudata(L, 1, CGROUP_TYPE);

	*c = lberth_owner(L, 1, CGROUP_TYPE);
	if (!g->cg)
		luaL_error(L, "berth cgroup handle is closed");
	return g->cg;
}

static int cg_call(lua_State *L, int (*fn)(berth_cgroup *, berth_error **))
{
	lberth_ctx *c;
	berth_cgroup *cg = check_cgroup(L, &c);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = fn(cg, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int cgroup_freeze(lua_State *L)
{
	return cg_call(L, berth_cgroup_freeze);
}

static int cgroup_thaw(lua_State *L)
{
	return cg_call(L, berth_cgroup_thaw);
}

static int cgroup_kill(lua_State *L)
{
	return cg_call(L, berth_cgroup_kill);
}

static int cgroup_remove(lua_State *L)
{
	return cg_call(L, berth_cgroup_remove);
}

static int cgroup_path(lua_State *L)
{
	lberth_ctx *c;

	lua_pushstring(L, berth_cgroup_path(check_cgroup(L, &c)));
	return 1;
}

static int cgroup_attach(lua_State *L)
{
	lberth_ctx *c;
	berth_cgroup *cg = check_cgroup(L, &c);
	lua_Integer pid = luaL_checkinteger(L, 2);
	berth_error *err = NULL;
	int rc;

	luaL_argcheck(L, pid > 0 && pid <= INT32_MAX, 2, "a process id expected");
	c->busy++;
	rc = berth_cgroup_attach(cg, (int)pid, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

/* cg:set_resources(json): linux.resources as JSON text */
static int cgroup_set_resources(lua_State *L)
{
	lberth_ctx *c;
	berth_cgroup *cg = check_cgroup(L, &c);
	const char *json = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_cgroup_set_resources(cg, json, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static void free_pids(void *p)
{
	berth_cgroup_pids_free(p);
}

static int cgroup_pids(lua_State *L)
{
	lberth_ctx *c;
	berth_cgroup *cg = check_cgroup(L, &c);
	void **pids = lberth_box(L, free_pids);
	berth_error *err = NULL;
	size_t n = 0;
	int rc;

	c->busy++;
	rc = berth_cgroup_pids(cg, (int **)pids, &n, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushinteger(L, ((int *)*pids)[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* A statistic: absent where the host does not report it, "max" when unlimited. */
static void set_stat(lua_State *L, const char *k, uint64_t v)
{
	if (v == BERTH_CGROUP_UNKNOWN)
		return;
	if (v == BERTH_CGROUP_UNLIMITED)
		lua_pushliteral(L, "max");
	else
		lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

static int cgroup_stats(lua_State *L)
{
	berth_cgroup_stats s = BERTH_CGROUP_STATS_INIT;
	lberth_ctx *c;
	berth_cgroup *cg = check_cgroup(L, &c);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_cgroup_stats_get(cg, &s, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_createtable(L, 0, 8);
	set_stat(L, "memory_usage", s.memory_usage);
	set_stat(L, "memory_peak", s.memory_peak);
	set_stat(L, "memory_limit", s.memory_limit);
	set_stat(L, "oom_kills", s.oom_kills);
	set_stat(L, "oom_events", s.oom_events);
	set_stat(L, "cpu_usage_ns", s.cpu_usage_ns);
	set_stat(L, "pids_current", s.pids_current);
	set_stat(L, "pids_limit", s.pids_limit);
	return 1;
}

static int cgroup_close(lua_State *L)
{
	lcgroup *g = luaL_checkudata(L, 1, CGROUP_TYPE);

	berth_cgroup_free(g->cg);
	g->cg = NULL;
	return 0;
}

static int cgroup_tostring(lua_State *L)
{
	lcgroup *g = luaL_checkudata(L, 1, CGROUP_TYPE);

	if (g->cg)
		lua_pushfstring(L, CGROUP_TYPE " %s", berth_cgroup_path(g->cg));
	else
		lua_pushliteral(L, CGROUP_TYPE " (closed)");
	return 1;
}

static int cgroups_tostring(lua_State *L)
{
	luaL_checkudata(L, 1, CGROUPS_TYPE);
	lua_pushliteral(L, CGROUPS_TYPE);
	return 1;
}

static const luaL_Reg cgroups_methods[] = {
	{ "detect", cgroups_detect },
	{ "info", cgroups_info },
	{ "create", cgroups_create },
	{ "open", cgroups_open },
	{ NULL, NULL },
};

static const luaL_Reg cgroup_methods[] = {
	{ "path", cgroup_path },     { "attach", cgroup_attach }, { "set_resources", cgroup_set_resources },
	{ "freeze", cgroup_freeze }, { "thaw", cgroup_thaw },     { "kill", cgroup_kill },
	{ "pids", cgroup_pids },     { "stats", cgroup_stats },   { "remove", cgroup_remove },
	{ "close", cgroup_close },   { NULL, NULL },
};

static const luaL_Reg cgroup_meta[] = {
	{ "__gc", cgroup_close },
	{ "__close", cgroup_close },
	{ "__tostring", cgroup_tostring },
	{ NULL, NULL },
};

void lberth_cgroup_open(lua_State *L)
{
	static const luaL_Reg cgroups_meta[] = { { "__tostring", cgroups_tostring }, { NULL, NULL } };

	lberth_new_type(L, CGROUPS_TYPE, cgroups_methods, cgroups_meta);
	lberth_new_type(L, CGROUP_TYPE, cgroup_methods, cgroup_meta);
}

int lberth_ctx_cgroups(lua_State *L)
{
	check_ctx(L, 1);
	lberth_push_owned(L, 1, CGROUPS_TYPE);
	return 1;
}
