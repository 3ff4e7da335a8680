/* Networks (berth/network.h) as methods of a context, one to one with the
 * C calls:
 *
 *   id = ctx:network_create(name[, {subnet =, gateway =, ip_range =, internal = true,
 *                                   labels = {"k=v"}, bridge =}])
 *   names = ctx:network_names(); json = ctx:network_inspect(name)
 *   ctx:network_remove(name); names = ctx:networks_prune()
 *   t = ctx:network_attach(name, container, {netns = path | pid =, endpoint_name =, ip =,
 *                                            ifname =, aliases = {..}})
 *       -- t: address, prefix_len, gateway, mac, host_ifname, network_id
 *   ctx:network_detach(name, container)
 *   ctx:network_endpoint_rename(name, container, new_name)
 *   ctx:container_network_connect(container, network[, {aliases = {..}, ip =}])
 *   ctx:container_network_disconnect(container, network)
 *
 * Failures: nil, message, code name, code. */
#include "lberth.h"

/* Pushes a table of the names and frees them. */
static void push_names(lua_State *L, char **names, size_t n)
{
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushstring(L, names[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	berth_network_names_free(names, n);
}

int ctx_network_create(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	berth_network_create_opts o = BERTH_NETWORK_CREATE_OPTS_INIT;
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	char *id = NULL;
	int rc;

	o.subnet = lberth_opt_string(L, 3, "subnet");
	o.gateway = lberth_opt_string(L, 3, "gateway");
	o.ip_range = lberth_opt_string(L, 3, "ip_range");
	o.bridge = lberth_opt_string(L, 3, "bridge");
	if (!lua_isnoneornil(L, 3)) {
		lua_getfield(L, 3, "internal");
		o.internal = lua_toboolean(L, -1);
		lua_getfield(L, 3, "labels");
		o.labels = lberth_strv(L, lua_gettop(L), "labels");
	}
	c->busy++;
	rc = berth_network_create(c->ctx, name, &o, &id, &err);
	c->busy--;
	return lberth_push_text(L, rc, err, id);
}

/* networks() and networks_prune(): a call giving names. */
static int names_call(lua_State *L, int (*fn)(berth_ctx *, char ***, size_t *, berth_error **))
{
	lberth_ctx *c = check_ctx(L, 1);
	berth_error *err = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	c->busy++;
	rc = fn(c->ctx, &names, &n, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	push_names(L, names, n);
	return 1;
}

int ctx_network_names(lua_State *L)
{
	return names_call(L, berth_network_list);
}

int ctx_network_inspect(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	char *text = NULL;
	int rc;

	c->busy++;
	rc = berth_network_inspect(c->ctx, name, &text, &err);
	c->busy--;
	return lberth_push_text(L, rc, err, text);
}

int ctx_network_remove(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_network_remove(c->ctx, name, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_networks_prune(lua_State *L)
{
	return names_call(L, berth_network_prune);
}

int ctx_network_attach(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	berth_network_attach_opts o = BERTH_NETWORK_ATTACH_OPTS_INIT;
	berth_network_attachment a = BERTH_NETWORK_ATTACHMENT_INIT;
	const char *name = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	o.container = luaL_checkstring(L, 3);
	o.netns = lberth_opt_string(L, 4, "netns");
	o.pid = (int)lberth_opt_integer(L, 4, "pid", 0);
	o.name = lberth_opt_string(L, 4, "endpoint_name");
	o.ip = lberth_opt_string(L, 4, "ip");
	o.ifname = lberth_opt_string(L, 4, "ifname");
	if (lua_istable(L, 4)) {
		lua_settop(L, 4);
		lua_getfield(L, 4, "aliases");
		o.aliases = lberth_strv(L, 5, "aliases"); /* held on the stack */
	}
	c->busy++;
	rc = berth_network_attach(c->ctx, name, &o, &a, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_createtable(L, 0, 6);
	lua_pushstring(L, a.address);
	lua_setfield(L, -2, "address");
	lua_pushinteger(L, a.prefix_len);
	lua_setfield(L, -2, "prefix_len");
	lua_pushstring(L, a.gateway);
	lua_setfield(L, -2, "gateway");
	lua_pushstring(L, a.mac);
	lua_setfield(L, -2, "mac");
	lua_pushstring(L, a.host_ifname);
	lua_setfield(L, -2, "host_ifname");
	lua_pushstring(L, a.network_id);
	lua_setfield(L, -2, "network_id");
	return 1;
}

int ctx_network_detach(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *container = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_network_detach(c->ctx, name, container, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_network_endpoint_rename(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *container = luaL_checkstring(L, 3),
		   *new_name = luaL_checkstring(L, 4);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_network_endpoint_rename(c->ctx, name, container, new_name, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_network_connect(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	berth_container_connect_opts o = BERTH_CONTAINER_CONNECT_OPTS_INIT;
	const char *name = luaL_checkstring(L, 2), *network = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int rc;

	lua_settop(L, 4);
	o.ip = lberth_opt_string(L, 4, "ip");
	if (lua_istable(L, 4)) {
		lua_settop(L, 4);
		lua_getfield(L, 4, "aliases");
		o.aliases = lberth_strv(L, 5, "aliases"); /* held on the stack */
	}
	c->busy++;
	rc = berth_container_network_connect(c->ctx, name, network, &o, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

int ctx_container_network_disconnect(lua_State *L)
{
	lberth_ctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2), *network = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_container_network_disconnect(c->ctx, name, network, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}
