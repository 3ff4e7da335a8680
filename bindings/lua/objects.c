/* ctx.containers, ctx.volumes, ctx.networks: the engine's objects in Lua's
 * idiom, over the context's flat methods (container.c, ops.c, volume.c,
 * network.c), which stay the one-to-one binding of the C calls:
 *
 *   local out, code, err = ctx.containers:run{image = "busybox", command = {"echo", "hi"}, remove = true}
 *   local c = assert(ctx.containers:run{image = "busybox", command = {...}, detach = true, name = "web"})
 *   c:name(); c:status(); c:attrs().State.Pid; c:logs(); c:stop(); c:remove(true)
 *   for c in ctx.containers:list{all = true} do print(c:id()) end
 *   local v = assert(ctx.volumes:create("data")); for v in ctx.volumes:list() do ... end
 *   local n = assert(ctx.networks:create("backend", {subnet = "10.9.0.0/24"}))
 *
 * An object is a userdata holding its context (user value 1) and its key
 * (user value 2: a container's or network's id, a volume's name); most of
 * its methods call the context's method of the same verb with the key
 * first, so they take the same arguments and fail the same way
 * (nil, message, code name, code). attrs() decodes the inspect JSON. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lberth.h"

#define CONTAINERS_TYPE "berth.containers"
#define VOLUMES_TYPE "berth.volumes"
#define NETWORKS_TYPE "berth.networks"
#define CONTAINER_TYPE "berth.container"
#define VOLUME_TYPE "berth.volume"
#define NETWORK_TYPE "berth.network"

/* What each kind of object is: its type, the context methods its key goes
 * to ("<prefix>_<verb>"), and the inspect member that is its key. */
struct kind {
	const char *type, *collection, *prefix, *key;
};
static const struct kind containers = { CONTAINER_TYPE, CONTAINERS_TYPE, "container", "Id" };
static const struct kind volumes = { VOLUME_TYPE, VOLUMES_TYPE, "volume", "Name" };
static const struct kind networks = { NETWORK_TYPE, NETWORKS_TYPE, "network", "Id" };

/* The kind of the object (or, with collection, the collection) at idx; a
 * Lua error for anything else. */
static const struct kind *kind_at(lua_State *L, int idx, int collection)
{
	static const struct kind *const kinds[] = { &containers, &volumes };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (luaL_testudata(L, idx, collection ? kinds[i]->collection : kinds[i]->type))
			return kinds[i];
	luaL_checkudata(L, idx, collection ? networks.collection : networks.type);
	return &networks;
}

/* Calls ctx:method(...) with the nargs values on top of the stack (ctx at
 * ctx_idx); leaves its results there and returns how many. */
static int ctx_call(lua_State *L, int ctx_idx, const char *method, int nargs)
{
	int base = lua_gettop(L) - nargs;

	lua_getfield(L, ctx_idx, method);
	lua_pushvalue(L, ctx_idx);
	lua_rotate(L, base + 1, 2);
	lua_call(L, nargs + 1, LUA_MULTRET);
	return lua_gettop(L) - base;
}

/* The context of the collection or object at idx, pushed (an open one, or a Lua error). */
static int push_owner(lua_State *L, int idx, const char *type)
{
	luaL_checkudata(L, idx, type);
	lua_getiuservalue(L, idx, 1);
	check_ctx(L, -1);
	return lua_gettop(L);
}

/* ---- JSON into Lua values ------------------------------------------------ */

static void push_json(lua_State *L, json_t *v)
{
	luaL_checkstack(L, 4, "JSON nesting");
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *m;

		lua_createtable(L, 0, (int)json_object_size(v));
		json_object_foreach(v, k, m) {
			push_json(L, m);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *m;

		lua_createtable(L, (int)json_array_size(v), 0);
		json_array_foreach(v, i, m) {
			push_json(L, m);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, json_is_true(v));
		break;
	default:
		lua_pushnil(L);
	}
}

static void free_json(void *p)
{
	json_decref(p);
}

/* Replaces the JSON text at the top with its value (a Lua error when it is not JSON). */
static void decode_top(lua_State *L)
{
	void **box = lberth_box(L, free_json);
	json_error_t jerr;

	if (!(*box = json_loads(lua_tostring(L, -2), 0, &jerr)))
		luaL_error(L, "berth: bad JSON from the library: %s", jerr.text);
	push_json(L, *box);
	lua_replace(L, -3);
	lua_pop(L, 1); /* the box; collected later */
}

/* ctx:<kind>_inspect(key) decoded: pushes the table (1), or the error (its count). */
static int inspect(lua_State *L, int ctx_idx, const struct kind *k, int key_idx)
{
	char method[32];
	int n;

	snprintf(method, sizeof(method), "%s_inspect", k->prefix);
	lua_pushvalue(L, key_idx);
	n = ctx_call(L, ctx_idx, method, 1);
	if (lua_isnil(L, -n))
		return n;
	lua_settop(L, lua_gettop(L) - n + 1);
	decode_top(L);
	return 1;
}

/* Pushes the object of kind k for name (at name_idx) in the context at
 * ctx_idx: 1, or the error (its count). */
static int push_object(lua_State *L, int ctx_idx, const struct kind *k, int name_idx)
{
	int n = inspect(L, ctx_idx, k, name_idx);

	if (n != 1)
		return n;
	lua_newuserdatauv(L, 1, 2);
	luaL_setmetatable(L, k->type);
	lua_pushvalue(L, ctx_idx);
	lua_setiuservalue(L, -2, 1);
	lua_getfield(L, -2, k->key);
	lua_setiuservalue(L, -2, 2);
	lua_remove(L, -2);
	return 1;
}

/* ---- objects --------------------------------------------------------------- */

/* An object's method: ctx:<upvalue 1>(key, ...) with the object's context and key. */
static int forward(lua_State *L)
{
	const char *type = lua_tostring(L, lua_upvalueindex(2));
	int nargs = lua_gettop(L) - 1, ctx_idx;

	ctx_idx = push_owner(L, 1, type);
	lua_getiuservalue(L, 1, 2);
	for (int i = 2; i <= nargs + 1; i++)
		lua_pushvalue(L, i);
	return ctx_call(L, ctx_idx, lua_tostring(L, lua_upvalueindex(1)), nargs + 1);
}

/* obj:id(): a container's or network's id, a volume's name */
static int object_id(lua_State *L)
{
	kind_at(L, 1, 0);
	lua_getiuservalue(L, 1, 2);
	return 1;
}

/* obj:attrs(): the inspect document as a table (or nil, message, ...) */
static int object_attrs(lua_State *L)
{
	const struct kind *k = kind_at(L, 1, 0);
	int ctx_idx = push_owner(L, 1, k->type);

	lua_getiuservalue(L, 1, 2);
	return inspect(L, ctx_idx, k, lua_gettop(L));
}

/* obj:name(): the name (a container's without Docker's leading slash) */
static int object_name(lua_State *L)
{
	int n = object_attrs(L);
	const char *name;

	if (n != 1)
		return n;
	lua_getfield(L, -1, "Name");
	name = luaL_checkstring(L, -1);
	lua_pushstring(L, name + (name[0] == '/'));
	return 1;
}

/* container:status(): created, running, paused, exited, ... */
static int container_status(lua_State *L)
{
	int n = object_attrs(L);

	if (n != 1)
		return n;
	lua_getfield(L, -1, "State");
	lua_getfield(L, -1, "Status");
	return 1;
}

static int object_tostring(lua_State *L)
{
	const struct kind *k = kind_at(L, 1, 0);

	lua_getiuservalue(L, 1, 2);
	lua_pushfstring(L, "%s: %s", k->type, lua_tostring(L, -1));
	return 1;
}

static int object_eq(lua_State *L)
{
	lua_getiuservalue(L, 1, 2);
	lua_getiuservalue(L, 2, 2);
	lua_pushboolean(L, kind_at(L, 1, 0) == kind_at(L, 2, 0) && lua_rawequal(L, -1, -2));
	return 1;
}

/* One json-file log record appended to the table at t (its text) when its
 * stream is wanted. */
static void add_log_line(lua_State *L, int t, const char *line, int want_out, int want_err)
{
	json_t *rec = json_loads(line, 0, NULL);
	const char *stream = json_string_value(json_object_get(rec, "stream"));
	json_t *log = json_object_get(rec, "log");

	if (stream && json_is_string(log) &&
	    ((want_out && !strcmp(stream, "stdout")) || (want_err && !strcmp(stream, "stderr")))) {
		lua_pushlstring(L, json_string_value(log), json_string_length(log));
		lua_rawseti(L, t, luaL_len(L, t) + 1);
	}
	json_decref(rec);
}

/* container:logs([{stdout = true, stderr = true, tail = n}]): what its log
 * holds (a detached run's output), rotated files first, as one string; tail:
 * its last n lines only. */
static int container_logs(lua_State *L)
{
	int want_out = lberth_opt_boolean(L, 2, "stdout", 1), want_err = lberth_opt_boolean(L, 2, "stderr", 1);
	lua_Integer tail = lberth_opt_integer(L, 2, "tail", -1), count;
	int n = (lua_settop(L, 1), object_attrs(L)), files = 0, t;
	const char *path;
	luaL_Buffer b;

	if (n != 1)
		return n;
	lua_getfield(L, -1, "LogPath");
	if (!(path = lua_tostring(L, -1)) || !*path) {
		lua_pushliteral(L, "");
		return 1;
	}
	while (lua_pushfstring(L, "%s.%d", path, files + 1), access(lua_tostring(L, -1), F_OK) == 0) {
		files++;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_newtable(L);
	t = lua_gettop(L);
	for (int i = files; i >= 0; i--) {
		char *line = NULL;
		size_t cap = 0;
		FILE *f;

		lua_pushfstring(L, i ? "%s.%d" : "%s", path, i);
		f = fopen(lua_tostring(L, -1), "re");
		lua_pop(L, 1);
		if (!f)
			continue;
		while (getline(&line, &cap, f) > 0)
			add_log_line(L, t, line, want_out, want_err);
		free(line);
		fclose(f);
	}
	count = luaL_len(L, t);
	luaL_buffinit(L, &b);
	for (lua_Integer i = tail >= 0 && tail < count ? count - tail + 1 : 1; i <= count; i++) {
		lua_rawgeti(L, t, i);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	return 1;
}

/* ---- collections -------------------------------------------------------------- */

/* collection:get(name): the object, or nil, message, code name, code */
static int collection_get(lua_State *L)
{
	const struct kind *k = kind_at(L, 1, 1);
	int ctx_idx = (lua_settop(L, 2), push_owner(L, 1, k->collection));

	luaL_checkstring(L, 2);
	return push_object(L, ctx_idx, k, 2);
}

/* collection:list([opts]): an iterator over the objects. Containers: the
 * running ones, or every one with {all = true}; volumes: filters as
 * ctx:volume_names takes them ({"label=k=v"}). */
static int collection_list(lua_State *L)
{
	const struct kind *k = kind_at(L, 1, 1);
	int ctx_idx = (lua_settop(L, 2), push_owner(L, 1, k->collection)), all = 1, n, names;
	lua_Integer found = 0;

	if (k == &containers)
		all = lberth_opt_boolean(L, 2, "all", 0);
	if (k == &volumes)
		lua_pushvalue(L, 2);
	n = ctx_call(L, ctx_idx, k == &containers ? "container_ids" : k == &volumes ? "volume_names" : "network_names",
		     k == &volumes);
	if (lua_isnil(L, -n))
		return n;
	lua_settop(L, lua_gettop(L) - n + 1);
	names = lua_gettop(L);
	lua_newtable(L);
	for (lua_Integer i = 1; lua_rawgeti(L, names, i) == LUA_TSTRING; i++) {
		int name_idx = lua_gettop(L), got = push_object(L, ctx_idx, k, name_idx);

		if (got == 1 && !all) { /* running ones only: ask the object its status */
			lua_pushcfunction(L, container_status);
			lua_pushvalue(L, -2);
			lua_call(L, 1, 1);
			if (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), "running"))
				got = 0;
			lua_pop(L, 1);
		}
		if (got == 1)
			lua_rawseti(L, names + 1, ++found); /* gone meanwhile: skipped */
		lua_settop(L, names + 1);
	}
	lua_pop(L, 1);
	lua_pushinteger(L, 0);
	lua_pushcclosure(L, lberth_list_next, 2);
	return 1;
}

/* collection:prune(...): ctx:<kinds>_prune(...) */
static int collection_prune(lua_State *L)
{
	const struct kind *k = kind_at(L, 1, 1);
	int nargs = lua_gettop(L) - 1, ctx_idx = push_owner(L, 1, k->collection);

	for (int i = 2; i <= nargs + 1; i++)
		lua_pushvalue(L, i);
	return ctx_call(L, ctx_idx, k == &containers ? "containers_prune" : k == &volumes ? "volumes_prune"
											   : "networks_prune", nargs);
}

/* volumes:create([name][, opts]), networks:create(name[, opts]): the new
 * object (ctx:volume_create / ctx:network_create's arguments). */
static int collection_create_named(lua_State *L)
{
	const struct kind *k = kind_at(L, 1, 1);
	int nargs = lua_gettop(L) - 1, ctx_idx = push_owner(L, 1, k->collection), n;

	for (int i = 2; i <= nargs + 1; i++)
		lua_pushvalue(L, i);
	n = ctx_call(L, ctx_idx, k == &volumes ? "volume_create" : "network_create", nargs);
	if (lua_isnil(L, -n))
		return n;
	lua_settop(L, lua_gettop(L) - n + 1);
	return push_object(L, ctx_idx, k, lua_gettop(L));
}

/* The run/create table at idx: image and command pushed, then a copy of
 * the other fields but run's own (the container options); returns the
 * index of the image. */
static int split_run_table(lua_State *L, int idx, int detach, int remove)
{
	int image_idx;

	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "image") != LUA_TSTRING)
		luaL_error(L, "bad 'image' (string expected, got %s)", luaL_typename(L, -1));
	image_idx = lua_gettop(L);
	lua_getfield(L, idx, "command");
	lua_newtable(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";

		if (strcmp(k, "image") && strcmp(k, "command") && strcmp(k, "remove") && strcmp(k, "detach")) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_settable(L, -4);
		} else {
			lua_pop(L, 1);
		}
	}
	if (detach && remove) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "auto_remove");
	}
	return image_idx;
}

/* containers:create{image =, command = {...}, <container options>}: a container object */
static int containers_create(lua_State *L)
{
	int ctx_idx = (lua_settop(L, 2), push_owner(L, 1, CONTAINERS_TYPE)), n;

	split_run_table(L, 2, 0, 0);
	n = ctx_call(L, ctx_idx, "container_create", 3);
	if (lua_isnil(L, -n))
		return n;
	lua_settop(L, lua_gettop(L) - n + 1);
	return push_object(L, ctx_idx, &containers, lua_gettop(L));
}

static void free_buffer(void *p)
{
	free(p);
}

struct sink {
	char **data; /* in a box: freed by the collector */
	size_t len, cap;
};

/* Reads the two fds to their ends into out and err. 0, or -1 (errno). */
static int read_both(int fds[2], struct sink *sinks[2])
{
	struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < 2; i++) {
			struct sink *s = sinks[i];
			ssize_t got;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (s->cap - s->len < 65536) {
				char *nb = realloc(*s->data, s->cap + 65536);

				if (!nb)
					return -1;
				*s->data = nb;
				s->cap += 65536;
			}
			if ((got = read(p[i].fd, *s->data + s->len, s->cap - s->len)) > 0)
				s->len += (size_t)got;
			else if (got == 0 || errno != EINTR)
				p[i].fd = -1;
		}
	}
	return 0;
}

/* Starts the created container id (at id_idx) with its stdout and stderr
 * on pipes and reads them; pushes out, err and returns 2, or the error. */
static int run_attached(lua_State *L, int ctx_idx, int id_idx)
{
	struct sink out = { (char **)lberth_box(L, free_buffer), 0, 0 };
	struct sink err = { (char **)lberth_box(L, free_buffer), 0, 0 };
	struct sink *sinks[2] = { &out, &err };
	int outp[2], errp[2], n, rc;

	if (pipe2(outp, O_CLOEXEC) < 0)
		return luaL_fileresult(L, 0, "pipe");
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(outp[0]);
		close(outp[1]);
		return luaL_fileresult(L, 0, "pipe");
	}
	lua_pushvalue(L, id_idx);
	lua_createtable(L, 0, 1);
	lua_createtable(L, 3, 0);
	lua_pushinteger(L, outp[1]);
	lua_rawseti(L, -2, 2);
	lua_pushinteger(L, errp[1]);
	lua_rawseti(L, -2, 3);
	lua_setfield(L, -2, "stdio");
	n = ctx_call(L, ctx_idx, "container_start", 2);
	close(outp[1]);
	close(errp[1]);
	rc = lua_isnil(L, -n) ? 0 : read_both((int[2]){ outp[0], errp[0] }, sinks);
	close(outp[0]);
	close(errp[0]);
	if (lua_isnil(L, -n))
		return n;
	if (rc < 0)
		return luaL_fileresult(L, 0, "reading the container's output");
	lua_pushlstring(L, out.len ? *out.data : "", out.len);
	lua_pushlstring(L, err.len ? *err.data : "", err.len);
	return 2;
}

/* containers:run{image =, command = {...}, remove = false, detach = false,
 * <container options>}: not detached, waits for it and returns its stdout,
 * its exit code and its stderr; detached, the running container (remove:
 * it goes once it ends). Failures: nil, message, code name, code (a
 * command that exits non-zero is not one: its code says so). */
static int containers_run(lua_State *L)
{
	int ctx_idx = (lua_settop(L, 2), push_owner(L, 1, CONTAINERS_TYPE)), n, id_idx, out_idx;
	int detach = lberth_opt_boolean(L, 2, "detach", 0), remove = lberth_opt_boolean(L, 2, "remove", 0);

	split_run_table(L, 2, detach, remove);
	n = ctx_call(L, ctx_idx, "container_create", 3);
	if (lua_isnil(L, -n))
		return n;
	lua_settop(L, lua_gettop(L) - n + 1);
	id_idx = lua_gettop(L);
	n = detach ? ctx_call(L, ctx_idx, "container_start", (lua_pushvalue(L, id_idx), 1))
		   : run_attached(L, ctx_idx, id_idx);
	if (lua_isnil(L, -n) || (!detach && (lua_pushvalue(L, id_idx),
					     n = ctx_call(L, ctx_idx, "container_wait", 1), lua_isnil(L, -n)))) {
		if (remove || detach) { /* a failed run leaves nothing behind */
			lua_pushvalue(L, id_idx);
			lua_pushboolean(L, 1);
			lua_pop(L, ctx_call(L, ctx_idx, "container_remove", 2));
		}
		return n;
	}
	if (detach)
		return push_object(L, ctx_idx, &containers, id_idx);
	lua_pop(L, n - 1);               /* out, err, code */
	out_idx = lua_gettop(L) - 2;
	lua_insert(L, out_idx + 1);       /* out, code, err */
	if (remove) {
		lua_pushvalue(L, id_idx);
		lua_pushboolean(L, 1);
		lua_pop(L, ctx_call(L, ctx_idx, "container_remove", 2));
	}
	return 3;
}

/* ---- types -------------------------------------------------------------------- */

static const char *const container_verbs[] = {
	"start", "stop", "kill", "restart", "pause", "unpause", "wait", "remove", "inspect", "exec", "top",
	"stats", "update", "diff", "export", "copy_to", "copy_from", "path_is_dir", "commit", "rename",
	"attach", "resize", "network_connect", "network_disconnect", NULL,
};
static const char *const volume_verbs[] = { "remove", "inspect", "hold", "release", "holders", "mount",
					    "unmount", "populate", NULL };
static const char *const network_verbs[] = { "remove", "inspect", NULL };

static void new_object_type(lua_State *L, const struct kind *k, const char *const *verbs,
			    const luaL_Reg *extra)
{
	static const luaL_Reg common[] = {
		{ "id", object_id }, { "attrs", object_attrs }, { "name", object_name }, { NULL, NULL },
	};
	static const luaL_Reg meta[] = { { "__tostring", object_tostring }, { "__eq", object_eq }, { NULL, NULL } };

	lberth_new_type(L, k->type, common, meta);
	luaL_getmetatable(L, k->type);
	lua_getfield(L, -1, "__index");
	for (int i = 0; verbs[i]; i++) {
		lua_pushfstring(L, "%s_%s", k->prefix, verbs[i]);
		lua_pushstring(L, k->type);
		lua_pushcclosure(L, forward, 2);
		lua_setfield(L, -2, verbs[i]);
	}
	if (extra)
		luaL_setfuncs(L, extra, 0);
	lua_pop(L, 2);
}

void lberth_objects_open(lua_State *L)
{
	static const luaL_Reg container_extra[] = {
		{ "status", container_status }, { "logs", container_logs }, { NULL, NULL },
	};
	static const luaL_Reg containers_methods[] = {
		{ "run", containers_run }, { "create", containers_create }, { "get", collection_get },
		{ "list", collection_list }, { "prune", collection_prune }, { NULL, NULL },
	};
	static const luaL_Reg named_methods[] = {
		{ "create", collection_create_named }, { "get", collection_get },
		{ "list", collection_list }, { "prune", collection_prune }, { NULL, NULL },
	};

	new_object_type(L, &containers, container_verbs, container_extra);
	new_object_type(L, &volumes, volume_verbs, NULL);
	new_object_type(L, &networks, network_verbs, NULL);
	lberth_new_type(L, CONTAINERS_TYPE, containers_methods, NULL);
	lberth_new_type(L, VOLUMES_TYPE, named_methods, NULL);
	lberth_new_type(L, NETWORKS_TYPE, named_methods, NULL);
}

/* ctx.containers, ctx.volumes, ctx.networks: the context at 1, the field
 * at 2 names the collection ("berth." .. field). */
int lberth_ctx_objects(lua_State *L)
{
	check_ctx(L, 1);
	lberth_push_owned(L, 1, lua_pushfstring(L, "berth.%s", luaL_checkstring(L, 2)));
	return 1;
}
