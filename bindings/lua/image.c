/* The image store (berth/image.h) from Lua:
 *
 *   local img = ctx.images:pull("127.0.0.1:5000/busybox", {progress = fn})
 *   for img in ctx.images:list() do print(img:id(), img:tags()[1]) end
 *   ctx.images:tag("busybox", "app:v2"); ctx.images:remove("app:v2")
 *   local ref = berth.parse_reference("busybox")   -- {domain=, path=, ...}
 *
 * ctx.images, ctx.storage and ctx.cgroups are userdata keeping their
 * context (user value 1); each method is one C call and returns nil,
 * message, code name, code on failure. C results are held in boxes whose
 * __gc frees them, so a Lua error while building a table leaks nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lberth.h"

#define IMAGES_TYPE "berth.images"
#define IMAGE_TYPE "berth.image"
#define BOX_TYPE "berth.box"

/* ---- shared: owners, boxes, callbacks ---------------------------------------- */

lberth_ctx *lberth_owner(lua_State *L, int idx, const char *type)
{
	lberth_ctx *c;

	luaL_checkudata(L, idx, type);
	lua_getiuservalue(L, idx, 1);
	c = check_ctx(L, -1);
	lua_pop(L, 1); /* the object keeps the context alive */
	return c;
}

void lberth_push_owned(lua_State *L, int ctx_idx, const char *type)
{
	ctx_idx = lua_absindex(L, ctx_idx);
	lua_newuserdatauv(L, 1, 1);
	luaL_setmetatable(L, type);
	lua_pushvalue(L, ctx_idx);
	lua_setiuservalue(L, -2, 1);
}

typedef struct {
	void *p;
	void (*free)(void *);
} box;

static int box_gc(lua_State *L)
{
	box *b = luaL_checkudata(L, 1, BOX_TYPE);

	if (b->p)
		b->free(b->p);
	b->p = NULL;
	return 0;
}

void **lberth_box(lua_State *L, void (*fn)(void *))
{
	box *b = lua_newuserdatauv(L, sizeof(*b), 0);

	b->p = NULL;
	b->free = fn;
	luaL_setmetatable(L, BOX_TYPE);
	return &b->p;
}

struct callback_call {
	struct lberth_cb *cb;
	void (*push)(lua_State *, void *);
	int nargs;
	void *data;
};

/* Under lua_pcall: 1 the call, 2 the Lua function. */
static int callback_p(lua_State *L)
{
	struct callback_call *k = lua_touserdata(L, 1);

	lua_pushvalue(L, 2);
	k->push(L, k->data);
	lua_call(L, k->nargs, 1);
	return 1;
}

/* Calls the function at cb->fn_idx of cb->L with nargs pushed by push; a
 * true result or an error cancels. From the library's threads, one call at
 * a time, while the calling Lua thread waits in the library: everything
 * that may raise runs under lua_pcall, and the first error stays on the
 * stack for lberth_callback_rethrow. */
int lberth_callback(struct lberth_cb *cb, void (*push)(lua_State *, void *), int nargs, void *data)
{
	struct callback_call k = { cb, push, nargs, data };
	lua_State *L = cb->L;
	int cancel;

	if (cb->failed)
		return 1;
	if (!lua_checkstack(L, nargs + 4))
		return 1;
	/* fn_idx is an index of the waiting C function's frame: push the
	 * function from there, as the argument of the protected call */
	lua_pushcfunction(L, callback_p);
	lua_pushlightuserdata(L, &k);
	lua_pushvalue(L, cb->fn_idx);
	if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
		cb->failed = 1; /* the error object stays on top */
		return 1;
	}
	cancel = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return cancel;
}

int lberth_callback_rethrow(lua_State *L, struct lberth_cb *cb, berth_error *err)
{
	if (!cb->failed)
		return 0;
	berth_error_free(err);
	return lua_error(L); /* the callback's error, on top */
}

/* The options table at idx: field k as a string or NULL. */
const char *lberth_opt_string(lua_State *L, int idx, const char *k)
{
	const char *s = NULL;

	if (lua_istable(L, idx)) {
		lua_getfield(L, idx, k);
		if (!lua_isnil(L, -1)) {
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "bad option '%s' (string expected, got %s)", k, luaL_typename(L, -1));
			s = lua_tostring(L, -1);
		}
		lua_pop(L, 1); /* the table keeps the string */
	} else if (!lua_isnoneornil(L, idx)) {
		luaL_typeerror(L, idx, "table of options");
	}
	return s;
}

lua_Integer lberth_opt_integer(lua_State *L, int idx, const char *k, lua_Integer def)
{
	lua_Integer v = def;

	if (lua_istable(L, idx)) {
		lua_getfield(L, idx, k);
		if (!lua_isnil(L, -1)) {
			if (!lua_isinteger(L, -1))
				luaL_error(L, "bad option '%s' (integer expected, got %s)", k, luaL_typename(L, -1));
			v = lua_tointeger(L, -1);
		}
		lua_pop(L, 1);
	}
	return v;
}

int lberth_opt_boolean(lua_State *L, int idx, const char *k, int def)
{
	int v = def;

	if (lua_istable(L, idx)) {
		lua_getfield(L, idx, k);
		if (!lua_isnil(L, -1))
			v = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	return v;
}

/* The function in option k (pushed at the top, nil when absent). */
int lberth_opt_function(lua_State *L, int idx, const char *k)
{
	if (!lua_istable(L, idx)) {
		lua_pushnil(L);
		return 0;
	}
	lua_getfield(L, idx, k);
	if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
		luaL_error(L, "bad option '%s' (function expected, got %s)", k, luaL_typename(L, -1));
	return lua_isfunction(L, -1);
}

static void push_strv(lua_State *L, const char *const *v)
{
	lua_newtable(L);
	for (int i = 1; v && *v; v++, i++) {
		lua_pushstring(L, *v);
		lua_rawseti(L, -2, i);
	}
}

static void set_string(lua_State *L, const char *k, const char *v)
{
	if (v) {
		lua_pushstring(L, v);
		lua_setfield(L, -2, k);
	}
}

static void set_integer(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

/* ---- berth.image ------------------------------------------------------------------ */

typedef struct {
	berth_image *img; /* NULL once closed */
} limage;

static berth_image *check_image(lua_State *L, int idx)
{
	limage *i = luaL_checkudata(L, idx, IMAGE_TYPE);

	if (!i->img)
		luaL_error(L, "berth image is closed");
	return i->img;
}

/* Wraps img in a berth.image keeping the context at ctx_idx. */
static void push_image(lua_State *L, int ctx_idx, berth_image **img)
{
	limage *i;

	ctx_idx = lua_absindex(L, ctx_idx);
	i = lua_newuserdatauv(L, sizeof(*i), 1);
	i->img = *img;
	*img = NULL;
	luaL_setmetatable(L, IMAGE_TYPE);
	lua_pushvalue(L, ctx_idx);
	lua_setiuservalue(L, -2, 1);
}

static int image_close(lua_State *L)
{
	limage *i = luaL_checkudata(L, 1, IMAGE_TYPE);

	berth_image_free(i->img);
	i->img = NULL;
	return 0;
}

static int image_tostring(lua_State *L)
{
	limage *i = luaL_checkudata(L, 1, IMAGE_TYPE);

	if (!i->img)
		lua_pushliteral(L, IMAGE_TYPE " (closed)");
	else
		lua_pushfstring(L, IMAGE_TYPE " %s", berth_image_id(i->img));
	return 1;
}

static int image_eq(lua_State *L)
{
	limage *a = luaL_checkudata(L, 1, IMAGE_TYPE), *b = luaL_checkudata(L, 2, IMAGE_TYPE);

	lua_pushboolean(L, a->img && b->img && strcmp(berth_image_digest(a->img), berth_image_digest(b->img)) == 0);
	return 1;
}

static int image_id(lua_State *L)
{
	lua_pushstring(L, berth_image_id(check_image(L, 1)));
	return 1;
}

static int image_digest(lua_State *L)
{
	lua_pushstring(L, berth_image_digest(check_image(L, 1)));
	return 1;
}

static void free_reference(void *p)
{
	berth_reference_free(p);
}

/* The image's tags as docker prints them ("busybox:latest"). */
static int image_tags(lua_State *L)
{
	berth_image *img = check_image(L, 1);
	void **slot = lberth_box(L, free_reference);

	lua_newtable(L);
	for (size_t i = 0; i < berth_image_reference_count(img); i++) {
		const char *stored = berth_image_reference(img, i);

		if (berth_reference_parse(stored, (berth_reference **)slot, NULL) == 0) {
			lua_pushstring(L, berth_reference_familiar(*slot));
			berth_reference_free(*slot);
			*slot = NULL;
		} else {
			lua_pushstring(L, stored);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int image_labels(lua_State *L)
{
	berth_image *img = check_image(L, 1);

	lua_newtable(L);
	for (size_t i = 0; i < berth_image_label_count(img); i++) {
		lua_pushstring(L, berth_image_label_value(img, i));
		lua_setfield(L, -2, berth_image_label_key(img, i));
	}
	return 1;
}

static int image_layers(lua_State *L)
{
	berth_image *img = check_image(L, 1);

	lua_newtable(L);
	for (size_t i = 0; i < berth_image_layer_count(img); i++) {
		lua_createtable(L, 0, 3);
		set_string(L, "digest", berth_image_layer_digest(img, i));
		set_string(L, "media_type", berth_image_layer_media_type(img, i));
		set_integer(L, "size", berth_image_layer_size(img, i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int image_history(lua_State *L)
{
	berth_image *img = check_image(L, 1);

	lua_newtable(L);
	for (size_t i = 0; i < berth_image_history_count(img); i++) {
		lua_createtable(L, 0, 4);
		set_string(L, "created", berth_image_history_created(img, i));
		set_string(L, "created_by", berth_image_history_created_by(img, i));
		set_string(L, "comment", berth_image_history_comment(img, i));
		set_integer(L, "size", berth_image_history_size(img, i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* What `docker image inspect` shows, with the C getters' names. */
static int image_attrs(lua_State *L)
{
	berth_image *img = check_image(L, 1);

	lua_createtable(L, 0, 16);
	set_string(L, "id", berth_image_id(img));
	set_string(L, "digest", berth_image_digest(img));
	set_integer(L, "size", berth_image_size(img));
	set_string(L, "created", berth_image_created(img));
	set_string(L, "architecture", berth_image_architecture(img));
	set_string(L, "os", berth_image_os(img));
	set_string(L, "variant", berth_image_variant(img));
	push_strv(L, berth_image_env(img));
	lua_setfield(L, -2, "env");
	push_strv(L, berth_image_cmd(img));
	lua_setfield(L, -2, "cmd");
	push_strv(L, berth_image_entrypoint(img));
	lua_setfield(L, -2, "entrypoint");
	push_strv(L, berth_image_exposed_ports(img));
	lua_setfield(L, -2, "exposed_ports");
	set_string(L, "config_json", berth_image_config_json(img));
	set_string(L, "manifest_json", berth_image_manifest_json(img));
	image_tags(L);
	lua_setfield(L, -3, "tags");
	lua_pop(L, 1); /* the box */
	image_labels(L);
	lua_setfield(L, -2, "labels");
	image_layers(L);
	lua_setfield(L, -2, "layers");
	return 1;
}

static const luaL_Reg image_methods[] = {
	{ "id", image_id },         { "digest", image_digest },   { "tags", image_tags },
	{ "labels", image_labels }, { "layers", image_layers },   { "history", image_history },
	{ "attrs", image_attrs },   { "close", image_close },     { NULL, NULL },
};

static const luaL_Reg image_meta[] = {
	{ "__gc", image_close },
	{ "__close", image_close },
	{ "__tostring", image_tostring },
	{ "__eq", image_eq },
	{ NULL, NULL },
};

/* ---- berth.images: pull ------------------------------------------------------------ */

static const char *const stage_names[] = { "resolving", "waiting", "exists", "downloading",
					   "verifying", "layer_done", "done" };

struct pull_event {
	berth_pull_stage stage;
	const char *digest;
	long long done, total;
};

static void push_pull_event(lua_State *L, void *data)
{
	struct pull_event *e = data;

	lua_pushstring(L, (unsigned)e->stage < 7 ? stage_names[e->stage] : "unknown");
	if (e->digest)
		lua_pushstring(L, e->digest);
	else
		lua_pushnil(L);
	lua_pushinteger(L, e->done);
	lua_pushinteger(L, e->total);
}

static int pull_progress(berth_pull_stage stage, const char *digest, long long done, long long total,
			 void *userdata)
{
	struct pull_event e = { stage, digest, done, total };

	return lberth_callback(userdata, push_pull_event, 4, &e);
}

static void free_image(void *p)
{
	berth_image_free(p);
}

/* images:pull(ref[, {progress=, platform=, unpack=, insecure_registries=,
 * certs_dir=, auth_file=, docker_config=, parallel=, retries=}]) */
static int images_pull(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *ref = luaL_checkstring(L, 2);
	berth_pull_opts o = BERTH_PULL_OPTS_INIT;
	struct lberth_cb cb = { L, 0, 0 };
	berth_error *err = NULL;
	void **img;
	int unpack, rc;

	o.platform = lberth_opt_string(L, 3, "platform");
	o.certs_dir = lberth_opt_string(L, 3, "certs_dir");
	o.auth_file = lberth_opt_string(L, 3, "auth_file");
	o.docker_config = lberth_opt_string(L, 3, "docker_config");
	o.parallel = (int)lberth_opt_integer(L, 3, "parallel", 0);
	o.retries = (int)lberth_opt_integer(L, 3, "retries", 0);
	unpack = lberth_opt_boolean(L, 3, "unpack", 1);
	if (lua_istable(L, 3))
		lua_getfield(L, 3, "insecure_registries");
	else
		lua_pushnil(L);
	o.insecure_registries = lberth_strv(L, lua_gettop(L), "insecure_registries");
	if (lberth_opt_function(L, 3, "progress")) {
		cb.fn_idx = lua_gettop(L);
		o.progress = pull_progress;
		o.userdata = &cb;
	}
	img = lberth_box(L, free_image);
	c->busy++;
	if (unpack)
		rc = berth_storage_pull(c->ctx, ref, &o, NULL, (berth_image **)img, &err);
	else
		rc = berth_image_pull(c->ctx, ref, &o, (berth_image **)img, &err);
	c->busy--;
	lberth_callback_rethrow(L, &cb, err);
	if (rc < 0)
		return push_error(L, err, rc);
	lua_getiuservalue(L, 1, 1);
	push_image(L, -1, (berth_image **)img);
	return 1;
}

/* ---- berth.images: the rest ----------------------------------------------------------- */

/* A berth.image for name (lookup), or the error's results. */
static int lookup(lua_State *L, lberth_ctx *c, const char *name)
{
	void **img = lberth_box(L, free_image);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_image_lookup(c->ctx, name, (berth_image **)img, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_getiuservalue(L, 1, 1);
	push_image(L, -1, (berth_image **)img);
	return 1;
}

static int images_get(lua_State *L)
{
	return lookup(L, lberth_owner(L, 1, IMAGES_TYPE), luaL_checkstring(L, 2));
}

static void free_list(void *p)
{
	berth_image_list_free(p);
}

/* The iterator of a list (images:list(), objects.c's lists): the next item
 * of the table in upvalue 1, its index in upvalue 2. */
int lberth_list_next(lua_State *L)
{
	lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;

	lua_pushinteger(L, i);
	lua_replace(L, lua_upvalueindex(2));
	lua_rawgeti(L, lua_upvalueindex(1), i);
	return 1;
}

/* images:list(): an iterator over one berth.image per manifest. */
static int images_list(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	void **list = lberth_box(L, free_list);
	berth_error *err = NULL;
	lua_Integer n = 0;
	int rc, out, seen;

	c->busy++;
	rc = berth_image_list_new(c->ctx, (berth_image_list **)list, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_newtable(L);
	out = lua_gettop(L);
	lua_newtable(L);
	seen = lua_gettop(L);
	for (size_t i = 0; i < berth_image_list_count(*list); i++) {
		const char *digest = berth_image_list_digest(*list, i);

		if (lua_getfield(L, seen, digest) != LUA_TNIL) {
			lua_pop(L, 1);
			continue;
		}
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
		lua_setfield(L, seen, digest);
		if (lookup(L, c, digest) != 1)
			return 5; /* removed meanwhile, or unreadable: its error */
		lua_rawseti(L, out, ++n);
		lua_pop(L, 1); /* lookup's box */
	}
	lua_pushvalue(L, out);
	lua_pushinteger(L, 0);
	lua_pushcclosure(L, lberth_list_next, 2);
	return 1;
}

/* images:tags(): an iterator of reference, digest, size for every tag. */
static int tags_next(lua_State *L)
{
	lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;

	lua_pushinteger(L, i);
	lua_replace(L, lua_upvalueindex(2));
	if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL)
		return 1;
	lua_getfield(L, -1, "reference");
	lua_getfield(L, -2, "digest");
	lua_getfield(L, -3, "size");
	return 3;
}

static int images_tags(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	void **list = lberth_box(L, free_list);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_image_list_new(c->ctx, (berth_image_list **)list, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_newtable(L);
	for (size_t i = 0; i < berth_image_list_count(*list); i++) {
		lua_createtable(L, 0, 3);
		set_string(L, "reference", berth_image_list_reference(*list, i));
		set_string(L, "digest", berth_image_list_digest(*list, i));
		set_integer(L, "size", berth_image_list_size(*list, i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_pushinteger(L, 0);
	lua_pushcclosure(L, tags_next, 2);
	return 1;
}

static int images_remove(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *name = luaL_checkstring(L, 2);
	int force = lberth_opt_boolean(L, 3, "force", 0), rc;
	berth_error *err = NULL;

	c->busy++;
	rc = berth_image_remove(c->ctx, name, force ? BERTH_IMAGE_REMOVE_FORCE : 0, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int images_prune(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	size_t freed = 0;
	int rc;

	c->busy++;
	rc = berth_image_gc(c->ctx, &freed, &bytes, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushinteger(L, (lua_Integer)freed);
	lua_pushinteger(L, (lua_Integer)bytes);
	return 2;
}

static int images_tag(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *source = luaL_checkstring(L, 2), *target = luaL_checkstring(L, 3);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_image_tag(c->ctx, source, target, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int images_untag(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *ref = luaL_checkstring(L, 2);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_image_untag(c->ctx, ref, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static void free_c_string(void *p)
{
	free(p);
}

static int images_resolve(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *name = luaL_checkstring(L, 2);
	void **digest = lberth_box(L, free_c_string), **media_type = lberth_box(L, free_c_string);
	berth_error *err = NULL;
	int rc;

	c->busy++;
	rc = berth_image_resolve(c->ctx, name, (char **)digest, (char **)media_type, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushstring(L, *digest);
	lua_pushstring(L, *media_type);
	return 2;
}

static int images_blob(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *digest = luaL_checkstring(L, 2);
	lua_Integer max = luaL_optinteger(L, 3, 16 << 20);
	void **data = lberth_box(L, free_c_string);
	berth_error *err = NULL;
	size_t len = 0;
	int rc;

	luaL_argcheck(L, max >= 0, 3, "must not be negative");
	c->busy++;
	rc = berth_image_blob_read(c->ctx, digest, (size_t)max, (char **)data, &len, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	lua_pushlstring(L, *data, len);
	return 1;
}

static int stream_close(lua_State *L)
{
	luaL_Stream *s = luaL_checkudata(L, 1, LUA_FILEHANDLE);
	int rc = fclose(s->f);

	return luaL_fileresult(L, rc == 0, NULL);
}

/* images:open_blob(digest): a Lua file (read-only) and the blob's size. */
static int images_open_blob(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *digest = luaL_checkstring(L, 2);
	luaL_Stream *s = lua_newuserdatauv(L, sizeof(*s), 0);
	berth_error *err = NULL;
	long long size = 0;
	int fd = -1, rc;

	s->closef = NULL; /* not a file until it has one */
	s->f = NULL;
	luaL_setmetatable(L, LUA_FILEHANDLE);
	c->busy++;
	rc = berth_image_blob_open(c->ctx, digest, &fd, &size, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	if (!(s->f = fdopen(fd, "rb"))) {
		close(fd);
		return luaL_fileresult(L, 0, digest);
	}
	s->closef = stream_close;
	lua_pushinteger(L, size);
	return 2;
}

static int images_leftover_bytes(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	unsigned long long n;

	c->busy++;
	n = berth_image_leftover_bytes(c->ctx);
	c->busy--;
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

void lberth_free_string(void *p)
{
	berth_string_free(p);
}

/* images:commit(parent, fd, {tag=, config=, comment=, author=, created_by=}) */
static int images_commit(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *parent = luaL_checkstring(L, 2);
	int fd = lberth_to_fd(L, 3, "fd"), rc;
	berth_image_commit_opts o = BERTH_IMAGE_COMMIT_OPTS_INIT;
	void **id = lberth_box(L, lberth_free_string);
	berth_error *err = NULL;

	o.tag = lberth_opt_string(L, 4, "tag");
	o.config = lberth_opt_string(L, 4, "config");
	o.comment = lberth_opt_string(L, 4, "comment");
	o.author = lberth_opt_string(L, 4, "author");
	o.created_by = lberth_opt_string(L, 4, "created_by");
	c->busy++;
	rc = berth_image_commit(c->ctx, parent, fd, &o, (char **)id, &err);
	c->busy--;
	if (rc < 0)
		return push_error(L, err, rc);
	return lookup(L, c, *id);
}

static void login_opts(lua_State *L, int idx, berth_login_opts *o)
{
	o->certs_dir = lberth_opt_string(L, idx, "certs_dir");
	o->auth_file = lberth_opt_string(L, idx, "auth_file");
	if (lua_istable(L, idx))
		lua_getfield(L, idx, "insecure_registries");
	else
		lua_pushnil(L);
	o->insecure_registries = lberth_strv(L, lua_gettop(L), "insecure_registries");
}

/* images:login(server, username, password[, opts]) */
static int images_login(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *server = luaL_checkstring(L, 2), *user = luaL_checkstring(L, 3);
	const char *password = luaL_checkstring(L, 4);
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	berth_error *err = NULL;
	int rc;

	login_opts(L, 5, &o);
	c->busy++;
	rc = berth_registry_login(c->ctx, server, user, password, &o, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int images_logout(lua_State *L)
{
	lberth_ctx *c = lberth_owner(L, 1, IMAGES_TYPE);
	const char *server = luaL_checkstring(L, 2);
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	berth_error *err = NULL;
	int rc;

	login_opts(L, 3, &o);
	c->busy++;
	rc = berth_registry_logout(c->ctx, server, &o, &err);
	c->busy--;
	return lberth_done(L, rc, err);
}

static int images_tostring(lua_State *L)
{
	luaL_checkudata(L, 1, IMAGES_TYPE);
	lua_pushliteral(L, IMAGES_TYPE);
	return 1;
}

static const luaL_Reg images_methods[] = {
	{ "pull", images_pull },
	{ "get", images_get },
	{ "list", images_list },
	{ "tags", images_tags },
	{ "remove", images_remove },
	{ "prune", images_prune },
	{ "tag", images_tag },
	{ "untag", images_untag },
	{ "resolve", images_resolve },
	{ "blob", images_blob },
	{ "open_blob", images_open_blob },
	{ "leftover_bytes", images_leftover_bytes },
	{ "commit", images_commit },
	{ "login", images_login },
	{ "logout", images_logout },
	{ NULL, NULL },
};

/* ---- berth.parse_reference ------------------------------------------------------- */

static int l_parse_reference(lua_State *L)
{
	const char *text = luaL_checkstring(L, 1);
	void **ref = lberth_box(L, free_reference);
	berth_error *err = NULL;
	int rc;

	if ((rc = berth_reference_parse(text, (berth_reference **)ref, &err)) < 0)
		return push_error(L, err, rc);
	lua_createtable(L, 0, 8);
	set_string(L, "domain", berth_reference_domain(*ref));
	set_string(L, "path", berth_reference_path(*ref));
	set_string(L, "name", berth_reference_name(*ref));
	set_string(L, "familiar_name", berth_reference_familiar_name(*ref));
	set_string(L, "tag", berth_reference_tag(*ref));
	set_string(L, "digest", berth_reference_digest(*ref));
	set_string(L, "string", berth_reference_string(*ref));
	set_string(L, "familiar", berth_reference_familiar(*ref));
	return 1;
}

const luaL_Reg lberth_image_functions[] = {
	{ "parse_reference", l_parse_reference },
	{ NULL, NULL },
};

void lberth_new_type(lua_State *L, const char *type, const luaL_Reg *methods, const luaL_Reg *meta)
{
	if (luaL_newmetatable(L, type)) {
		if (meta)
			luaL_setfuncs(L, meta, 0);
		lua_newtable(L);
		luaL_setfuncs(L, methods, 0);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}

void lberth_image_open(lua_State *L)
{
	static const luaL_Reg box_meta[] = { { "__gc", box_gc }, { NULL, NULL } };
	static const luaL_Reg images_meta[] = { { "__tostring", images_tostring }, { NULL, NULL } };

	if (luaL_newmetatable(L, BOX_TYPE))
		luaL_setfuncs(L, box_meta, 0);
	lua_pop(L, 1);
	lberth_new_type(L, IMAGE_TYPE, image_methods, image_meta);
	lberth_new_type(L, IMAGES_TYPE, images_methods, images_meta);
}

int lberth_ctx_images(lua_State *L)
{
	check_ctx(L, 1);
	lberth_push_owned(L, 1, IMAGES_TYPE);
	return 1;
}
