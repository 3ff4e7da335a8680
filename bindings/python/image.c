/* The image store (include/berth/image.h) from Python: ctx.images, an
 * ImageCollection in the shape of docker-py's (pull, list, get, remove,
 * prune, tag), berth.Image (id, tags, labels, attrs, history()) and
 * berth.parse_reference(). One C call underneath each method; every call
 * that reads or writes the store releases the GIL, and the pull's progress
 * callback takes it back (its exception cancels the pull). */
#include "berthpy.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef HolderObject ImagesObject;

typedef struct {
	PyObject_HEAD
	ContextObject *ctx; /* strong: reload() and tag() use it */
	berth_image *img;   /* data only: readable after the context closed */
} ImageObject;

/* ---- shared with storage.c and cgroup.c ------------------------------------ */

PyObject *context_holder_new(module_state *st, PyObject *type, ContextObject *ctx)
{
	ImagesObject *self;

	if (!st || !context_get(ctx))
		return NULL;
	if (!(self = PyObject_GC_New(ImagesObject, (PyTypeObject *)type)))
		return NULL;
	self->ctx = (ContextObject *)Py_NewRef(ctx);
	PyObject_GC_Track(self);
	return (PyObject *)self;
}

int context_holder_traverse(PyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(((ImagesObject *)self)->ctx);
	return 0;
}

int context_holder_clear(PyObject *self)
{
	Py_CLEAR(((ImagesObject *)self)->ctx);
	return 0;
}

void context_holder_dealloc(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
	context_holder_clear(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

PyObject *context_holder_context(PyObject *self, void *closure UNUSED)
{
	ContextObject *ctx = ((ImagesObject *)self)->ctx;

	return ctx ? Py_NewRef(ctx) : Py_NewRef(Py_None);
}

/* The open context of a holder, or NULL with StateError raised. */
static berth_ctx *holder_ctx(ImagesObject *self)
{
	if (!self->ctx) {
		PyErr_SetString(PyExc_RuntimeError, "no context");
		return NULL;
	}
	return context_get(self->ctx);
}

/* A list of str from a NULL-terminated array; None for NULL. */
static PyObject *strv_to_list(const char *const *v)
{
	PyObject *list;

	if (!v)
		Py_RETURN_NONE;
	if (!(list = PyList_New(0)))
		return NULL;
	for (; *v; v++) {
		PyObject *s = text_from_c(*v);

		if (!s || PyList_Append(list, s) < 0) {
			Py_XDECREF(s);
			Py_DECREF(list);
			return NULL;
		}
		Py_DECREF(s);
	}
	return list;
}

static PyObject *str_or_none(const char *s)
{
	return s ? text_from_c(s) : Py_NewRef(Py_None);
}

/* Sets d[key] = value and drops value; -1 when value is NULL or on failure. */
static int put(PyObject *d, const char *key, PyObject *value)
{
	int rc = value ? PyDict_SetItemString(d, key, value) : -1;

	Py_XDECREF(value);
	return rc;
}

/* ---- Image --------------------------------------------------------------- */

static PyObject *image_wrap(ContextObject *ctx, berth_image *img)
{
	module_state *st = state_from_type(Py_TYPE(ctx));
	ImageObject *self;

	if (!st || !(self = PyObject_GC_New(ImageObject, (PyTypeObject *)st->image_type))) {
		berth_image_free(img);
		return NULL;
	}
	self->ctx = (ContextObject *)Py_NewRef(ctx);
	self->img = img;
	PyObject_GC_Track(self);
	return (PyObject *)self;
}

static int Image_traverse(ImageObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->ctx);
	return 0;
}

static int Image_clear(ImageObject *self)
{
	Py_CLEAR(self->ctx);
	return 0;
}

static void Image_dealloc(ImageObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
	Image_clear(self);
	berth_image_free(self->img);
	tp->tp_free(self);
	Py_DECREF(tp);
}

/* A stored reference ("docker.io/library/busybox:latest") as docker prints
 * it ("busybox:latest"); the text itself when it does not parse. */
static PyObject *familiar(const char *stored)
{
	berth_reference *ref = NULL;
	PyObject *r;

	if (berth_reference_parse(stored, &ref, NULL) < 0)
		return text_from_c(stored);
	r = text_from_c(berth_reference_familiar(ref));
	berth_reference_free(ref);
	return r;
}

static PyObject *Image_get_tags(ImageObject *self, void *closure UNUSED)
{
	PyObject *list = PyList_New(0);

	for (size_t i = 0; list && i < berth_image_reference_count(self->img); i++) {
		PyObject *t = familiar(berth_image_reference(self->img, i));

		if (!t || PyList_Append(list, t) < 0)
			Py_CLEAR(list);
		Py_XDECREF(t);
	}
	return list;
}

static PyObject *Image_get_labels(ImageObject *self, void *closure UNUSED)
{
	PyObject *d = PyDict_New();

	for (size_t i = 0; d && i < berth_image_label_count(self->img); i++) {
		PyObject *k = text_from_c(berth_image_label_key(self->img, i));
		PyObject *v = k ? text_from_c(berth_image_label_value(self->img, i)) : NULL;

		if (!v || PyDict_SetItem(d, k, v) < 0)
			Py_CLEAR(d);
		Py_XDECREF(k);
		Py_XDECREF(v);
	}
	return d;
}

static PyObject *Image_get_id(ImageObject *self, void *closure UNUSED)
{
	return text_from_c(berth_image_id(self->img));
}

static PyObject *Image_get_short_id(ImageObject *self, void *closure UNUSED)
{
	const char *id = berth_image_id(self->img);
	const char *hex = strchr(id, ':');

	return PyUnicode_FromFormat("sha256:%.10s", hex ? hex + 1 : id);
}

static PyObject *Image_get_digest(ImageObject *self, void *closure UNUSED)
{
	return text_from_c(berth_image_digest(self->img));
}

static PyObject *Image_get_config(ImageObject *self, void *closure UNUSED)
{
	return json_load(berth_image_config_json(self->img));
}

static PyObject *Image_get_manifest(ImageObject *self, void *closure UNUSED)
{
	return json_load(berth_image_manifest_json(self->img));
}

static PyObject *Image_layers(ImageObject *self)
{
	PyObject *list = PyList_New(0);

	for (size_t i = 0; list && i < berth_image_layer_count(self->img); i++) {
		PyObject *l = Py_BuildValue("{s:s, s:s, s:L}", "Digest", berth_image_layer_digest(self->img, i),
					    "MediaType", berth_image_layer_media_type(self->img, i), "Size",
					    berth_image_layer_size(self->img, i));

		if (!l || PyList_Append(list, l) < 0)
			Py_CLEAR(list);
		Py_XDECREF(l);
	}
	return list;
}

static PyObject *Image_get_layers(ImageObject *self, void *closure UNUSED)
{
	return Image_layers(self);
}

/* ExposedPorts as docker inspect shows them: {"80/tcp": {}}. */
static PyObject *ports_dict(const char *const *ports)
{
	PyObject *d = PyDict_New();

	for (; d && ports && *ports; ports++) {
		PyObject *empty = PyDict_New();

		if (!empty || PyDict_SetItemString(d, *ports, empty) < 0)
			Py_CLEAR(d);
		Py_XDECREF(empty);
	}
	return d;
}

static PyObject *Image_get_attrs(ImageObject *self, void *closure UNUSED)
{
	berth_image *img = self->img;
	PyObject *a = PyDict_New(), *config;
	PyObject *digests;

	if (!a)
		return NULL;
	if (!(config = PyDict_New()) || put(a, "Config", Py_NewRef(config)) < 0)
		goto fail;
	digests = Py_BuildValue("[s]", berth_image_digest(img));
	if (put(a, "Id", text_from_c(berth_image_id(img))) < 0 ||
	    put(a, "RepoTags", Image_get_tags(self, NULL)) < 0 || put(a, "RepoDigests", digests) < 0 ||
	    put(a, "Digest", text_from_c(berth_image_digest(img))) < 0 ||
	    put(a, "Created", str_or_none(berth_image_created(img))) < 0 ||
	    put(a, "Architecture", str_or_none(berth_image_architecture(img))) < 0 ||
	    put(a, "Os", str_or_none(berth_image_os(img))) < 0 ||
	    put(a, "Variant", str_or_none(berth_image_variant(img))) < 0 ||
	    put(a, "Size", PyLong_FromLongLong(berth_image_size(img))) < 0 ||
	    put(a, "Layers", Image_layers(self)) < 0 ||
	    put(config, "Env", strv_to_list(berth_image_env(img))) < 0 ||
	    put(config, "Cmd", strv_to_list(berth_image_cmd(img))) < 0 ||
	    put(config, "Entrypoint", strv_to_list(berth_image_entrypoint(img))) < 0 ||
	    put(config, "ExposedPorts", ports_dict(berth_image_exposed_ports(img))) < 0 ||
	    put(config, "Labels", Image_get_labels(self, NULL)) < 0)
		goto fail;
	Py_DECREF(config);
	return a;
fail:
	Py_XDECREF(config);
	Py_DECREF(a);
	return NULL;
}

PyDoc_STRVAR(Image_history_doc,
"history($self, /)\n--\n\n"
"The config's history, newest first as `docker history` shows it: a list\n"
"of dicts with Created (str or None), CreatedBy, Comment and Size (bytes\n"
"of the layer the step made, 0 for none).");

static PyObject *Image_history(ImageObject *self, PyObject *unused UNUSED)
{
	PyObject *list = PyList_New(0);

	for (size_t i = 0; list && i < berth_image_history_count(self->img); i++) {
		const char *created = berth_image_history_created(self->img, i);
		PyObject *h = PyDict_New();

		if (!h || put(h, "Created", str_or_none(created)) < 0 ||
		    put(h, "CreatedBy", str_or_none(berth_image_history_created_by(self->img, i))) < 0 ||
		    put(h, "Comment", str_or_none(berth_image_history_comment(self->img, i))) < 0 ||
		    put(h, "Size", PyLong_FromLongLong(berth_image_history_size(self->img, i))) < 0 ||
		    PyList_Append(list, h) < 0)
			Py_CLEAR(list);
		Py_XDECREF(h);
	}
	return list;
}

/* berth_image_lookup with the GIL released: an Image or NULL raised. */
static PyObject *lookup(ContextObject *ctx, const char *name)
{
	berth_ctx *c = context_get(ctx);
	berth_image *img = NULL;
	berth_error *err = NULL;
	int rc;

	if (!c)
		return NULL;
	UNLOCKED(ctx, rc = berth_image_lookup(c, name, &img, &err));
	if (rc < 0)
		return context_raise(ctx, rc, err);
	return image_wrap(ctx, img);
}

PyDoc_STRVAR(Image_reload_doc,
"reload($self, /)\n--\n\n"
"Read the image again from the store (its tags may have changed).\n"
"berth.NotFoundError once it is gone; berth.StateError when its context\n"
"is closed.");

static PyObject *Image_reload(ImageObject *self, PyObject *unused UNUSED)
{
	ImageObject *fresh = (ImageObject *)lookup(self->ctx, berth_image_digest(self->img));
	berth_image *old = self->img;

	if (!fresh)
		return NULL;
	self->img = fresh->img;
	fresh->img = old;
	Py_DECREF(fresh);
	Py_RETURN_NONE;
}

static int do_tag(ContextObject *ctx, const char *source, const char *repository, const char *tag)
{
	berth_ctx *c = context_get(ctx);
	berth_error *err = NULL;
	char *target;
	int rc;

	if (!c)
		return -1;
	if (!(target = tag ? PyMem_Malloc(strlen(repository) + strlen(tag) + 2) : NULL) && tag) {
		PyErr_NoMemory();
		return -1;
	}
	if (tag)
		sprintf(target, "%s:%s", repository, tag);
	UNLOCKED(ctx, rc = berth_image_tag(c, source, tag ? target : repository, &err));
	PyMem_Free(target);
	if (rc < 0) {
		context_raise(ctx, rc, err);
		return -1;
	}
	return 0;
}

PyDoc_STRVAR(Image_tag_doc,
"tag($self, /, repository, tag=None)\n--\n\n"
"Tag this image as repository[:tag] (\"app\", \"app:v2\"), replacing what\n"
"that tag named. Returns True, as docker-py does.");

static PyObject *Image_tag(ImageObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "repository", "tag", NULL };
	const char *repository, *tag = NULL;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|z:tag", kwlist, &repository, &tag) ||
	    do_tag(self->ctx, berth_image_id(self->img), repository, tag) < 0)
		return NULL;
	Py_RETURN_TRUE;
}

static PyObject *Image_repr(ImageObject *self)
{
	PyObject *tags = Image_get_tags(self, NULL), *sid, *r;

	if (!tags)
		return NULL;
	if (!(sid = Image_get_short_id(self, NULL))) {
		Py_DECREF(tags);
		return NULL;
	}
	r = PyUnicode_FromFormat("<Image: %U %R>", sid, tags);
	Py_DECREF(sid);
	Py_DECREF(tags);
	return r;
}

static PyObject *Image_richcompare(PyObject *a, PyObject *b, int op)
{
	int same;

	if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
		Py_RETURN_NOTIMPLEMENTED;
	same = strcmp(berth_image_digest(((ImageObject *)a)->img),
		      berth_image_digest(((ImageObject *)b)->img)) == 0;
	return PyBool_FromLong(op == Py_EQ ? same : !same);
}

static Py_hash_t Image_hash(ImageObject *self)
{
	PyObject *d = text_from_c(berth_image_digest(self->img));
	Py_hash_t h = d ? PyObject_Hash(d) : -1;

	Py_XDECREF(d);
	return h;
}

static PyMethodDef Image_methods[] = {
	{ "history", (PyCFunction)Image_history, METH_NOARGS, Image_history_doc },
	{ "reload", (PyCFunction)Image_reload, METH_NOARGS, Image_reload_doc },
	{ "tag", (PyCFunction)(void (*)(void))Image_tag, METH_VARARGS | METH_KEYWORDS, Image_tag_doc },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef Image_getset[] = {
	{ "id", (getter)Image_get_id, NULL, "The image ID: its config digest (str).", NULL },
	{ "short_id", (getter)Image_get_short_id, NULL, "\"sha256:\" and the ID's first 10 hex digits.", NULL },
	{ "digest", (getter)Image_get_digest, NULL, "The manifest digest (str).", NULL },
	{ "tags", (getter)Image_get_tags, NULL, "Its tags as docker prints them (\"busybox:latest\").", NULL },
	{ "labels", (getter)Image_get_labels, NULL, "The config's labels (dict).", NULL },
	{ "attrs", (getter)Image_get_attrs, NULL,
	  "What `docker image inspect` shows: Id, RepoTags, RepoDigests, Created,\n"
	  "Architecture, Os, Variant, Size, Layers and Config (Env, Cmd,\n"
	  "Entrypoint, ExposedPorts, Labels).", NULL },
	{ "layers", (getter)Image_get_layers, NULL,
	  "Its layers bottom first: dicts of Digest, MediaType, Size.", NULL },
	{ "config", (getter)Image_get_config, NULL, "The config document as stored (dict).", NULL },
	{ "manifest", (getter)Image_get_manifest, NULL, "The manifest as stored (dict).", NULL },
	{ "context", (getter)context_holder_context, NULL, "The berth.Context it belongs to.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot Image_slots[] = {
	{ Py_tp_doc, (void *)"An image in the store (ctx.images.get/pull/list): its manifest and config,\n"
			     "read once (reload() reads them again)." },
	{ Py_tp_dealloc, Image_dealloc },
	{ Py_tp_traverse, Image_traverse },
	{ Py_tp_clear, Image_clear },
	{ Py_tp_repr, Image_repr },
	{ Py_tp_richcompare, Image_richcompare },
	{ Py_tp_hash, Image_hash },
	{ Py_tp_methods, Image_methods },
	{ Py_tp_getset, Image_getset },
	{ 0, NULL },
};

static PyType_Spec Image_spec = {
	.name = "berth.Image",
	.basicsize = sizeof(ImageObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Image_slots,
};

/* ---- pull ------------------------------------------------------------------ */

static const char *const stage_names[] = {
	[BERTH_PULL_RESOLVING] = "resolving", [BERTH_PULL_LAYER_WAITING] = "waiting",
	[BERTH_PULL_LAYER_EXISTS] = "exists", [BERTH_PULL_LAYER_BYTES] = "downloading",
	[BERTH_PULL_LAYER_VERIFYING] = "verifying", [BERTH_PULL_LAYER_DONE] = "layer_done",
	[BERTH_PULL_DONE] = "done",
};

/* Calls c->fn(*args) with the GIL taken; non-zero cancels. Steals args. */
static int callback_call(struct py_callback *c, PyObject *(*build)(void *), void *data)
{
	PyGILState_STATE gil;
	PyObject *args, *r = NULL;
	int cancel = 1;

	if (c->failed)
		return 1;
	gil = PyGILState_Ensure();
	if ((args = build(data)))
		r = PyObject_CallObject(c->fn, args);
	Py_XDECREF(args);
	if (r) {
		cancel = PyObject_IsTrue(r) == 1;
		Py_DECREF(r);
	}
	if (!r || PyErr_Occurred()) {
		c->failed = 1;
#if PY_VERSION_HEX >= 0x030C0000
		c->exc = PyErr_GetRaisedException();
#else
		PyErr_Fetch(&c->type, &c->value, &c->tb);
#endif
	}
	PyGILState_Release(gil);
	return cancel;
}

/* After the call, with the GIL: raises the callback's exception instead of
 * the library's (freed) and returns 1; 0 when it raised none. */
int callback_raise(struct py_callback *c, berth_error *err)
{
	if (!c->failed)
		return 0;
	berth_error_free(err);
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(c->exc);
#else
	PyErr_Restore(c->type, c->value, c->tb);
#endif
	return 1;
}

struct pull_event {
	berth_pull_stage stage;
	const char *digest;
	long long done, total;
};

static PyObject *pull_args(void *data)
{
	struct pull_event *e = data;
	const char *stage = (unsigned)e->stage < sizeof(stage_names) / sizeof(*stage_names) &&
					    stage_names[e->stage] ? stage_names[e->stage] : "unknown";

	return Py_BuildValue("(szLL)", stage, e->digest, e->done, e->total);
}

static int pull_progress(berth_pull_stage stage, const char *digest, long long done, long long total,
			 void *userdata)
{
	struct pull_event e = { stage, digest, done, total };

	return callback_call(userdata, pull_args, &e);
}

struct unpack_event {
	const char *layer;
	long long done, total;
};

static PyObject *unpack_args(void *data)
{
	struct unpack_event *e = data;

	return Py_BuildValue("(sLL)", e->layer, e->done, e->total);
}

int unpack_progress(const char *layer, long long done, long long total, void *userdata)
{
	struct unpack_event e = { layer, done, total };

	return callback_call(userdata, unpack_args, &e);
}

/* Checks a progress argument: NULL for None, else a callable. */
int callable_or_none(PyObject **fn, const char *what)
{
	if (*fn == Py_None)
		*fn = NULL;
	if (*fn && !PyCallable_Check(*fn)) {
		PyErr_Format(PyExc_TypeError, "%s: expected a callable or None", what);
		return -1;
	}
	return 0;
}

PyDoc_STRVAR(Images_pull_doc,
"pull($self, /, repository, tag=None, *, platform=None, progress=None,\n"
"     unpack=True, insecure_registries=None, certs_dir=None, auth_file=None,\n"
"     docker_config=None, parallel=0, retries=0)\n--\n\n"
"Pull an image (\"busybox\", \"127.0.0.1:5000/app:v1\", \"app@sha256:...\")\n"
"into the store and return it as a berth.Image. unpack: also unpack its\n"
"layers as they download (berth_storage_pull), else keep the blobs only\n"
"(berth_image_pull). platform: \"os/arch[/variant]\" chosen from an index.\n"
"progress(stage, digest, done, total) is called from the pull's threads\n"
"(never two at once) with the GIL taken back: stage is \"resolving\",\n"
"\"waiting\", \"exists\", \"downloading\", \"verifying\", \"layer_done\" or\n"
"\"done\"; digest the layer's (the manifest's for \"done\", None while\n"
"resolving). An exception raised by it, or a true return, cancels the pull:\n"
"the store is left as it was and that exception (else berth.CanceledError)\n"
"is raised. The GIL is released during the pull, so threads pull at once.");

static PyObject *Images_pull(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "repository", "tag", "platform", "progress", "unpack", "insecure_registries",
				  "certs_dir", "auth_file", "docker_config", "parallel", "retries", NULL };
	berth_pull_opts o = BERTH_PULL_OPTS_INIT;
	struct py_callback cb = { 0 };
	berth_ctx *ctx = holder_ctx(self);
	const char *repository, *tag = NULL, **insecure = NULL;
	PyObject *progress = Py_None, *insecure_list = Py_None, *ref = NULL;
	berth_image *img = NULL;
	berth_error *err = NULL;
	int unpack = 1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|z$zOpOzzzii:pull", kwlist, &repository, &tag,
						 &o.platform, &progress, &unpack, &insecure_list, &o.certs_dir,
						 &o.auth_file, &o.docker_config, &o.parallel, &o.retries) ||
	    callable_or_none(&progress, "progress") < 0 || str_array(insecure_list, "insecure_registries", &insecure) < 0)
		return NULL;
	if (tag && !(ref = PyUnicode_FromFormat("%s:%s", repository, tag))) {
		free(insecure);
		return NULL;
	}
	o.insecure_registries = insecure;
	if ((cb.fn = progress)) {
		o.progress = pull_progress;
		o.userdata = &cb;
	}
	if (ref)
		repository = PyUnicode_AsUTF8(ref);
	if (unpack)
		UNLOCKED(self->ctx, rc = berth_storage_pull(ctx, repository, &o, NULL, &img, &err));
	else
		UNLOCKED(self->ctx, rc = berth_image_pull(ctx, repository, &o, &img, &err));
	free(insecure);
	Py_XDECREF(ref);
	if (callback_raise(&cb, err)) {
		berth_image_free(img);
		return NULL;
	}
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	return image_wrap(self->ctx, img);
}

/* ---- the rest of ImageCollection ------------------------------------------ */

PyDoc_STRVAR(Images_get_doc,
"get($self, /, name)\n--\n\n"
"The image a reference (\"busybox\", \"app:v1\", \"app@sha256:...\"), an image\n"
"ID (\"sha256:...\" or at least 4 hex digits) or a manifest digest names.\n"
"berth.NotFoundError when there is none.");

static PyObject *Images_get(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", NULL };
	const char *name;

	if (!holder_ctx(self) || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:get", kwlist, &name))
		return NULL;
	return lookup(self->ctx, name);
}

PyDoc_STRVAR(Images_list_doc,
"list($self, /, name=None)\n--\n\n"
"The tagged images in the store, one berth.Image per manifest, in the\n"
"order they were first tagged; name: only those with a tag of that\n"
"repository (\"busybox\").");

static PyObject *Images_list(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", NULL };
	berth_ctx *ctx = holder_ctx(self);
	berth_reference *want = NULL;
	berth_image_list *list = NULL;
	berth_error *err = NULL;
	PyObject *out = NULL, *seen = NULL;
	const char *name = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "|z:list", kwlist, &name))
		return NULL;
	if (name && (rc = berth_reference_parse(name, &want, &err)) < 0)
		return context_raise(self->ctx, rc, err);
	UNLOCKED(self->ctx, rc = berth_image_list_new(ctx, &list, &err));
	if (rc < 0) {
		berth_reference_free(want);
		return context_raise(self->ctx, rc, err);
	}
	if (!(out = PyList_New(0)) || !(seen = PySet_New(NULL)))
		goto fail;
	for (size_t i = 0; i < berth_image_list_count(list); i++) {
		const char *digest = berth_image_list_digest(list, i);
		berth_reference *ref = NULL;
		PyObject *d, *img;
		int dup, match = 1;

		if (want && berth_reference_parse(berth_image_list_reference(list, i), &ref, NULL) == 0)
			match = strcmp(berth_reference_name(ref), berth_reference_name(want)) == 0;
		berth_reference_free(ref);
		if (!match)
			continue;
		if (!(d = text_from_c(digest)))
			goto fail;
		dup = PySet_Contains(seen, d);
		if (dup || PySet_Add(seen, d) < 0) {
			Py_DECREF(d);
			if (dup < 0)
				goto fail;
			continue;
		}
		Py_DECREF(d);
		if (!(img = lookup(self->ctx, digest)) || PyList_Append(out, img) < 0) {
			Py_XDECREF(img);
			goto fail;
		}
		Py_DECREF(img);
	}
	Py_DECREF(seen);
	berth_image_list_free(list);
	berth_reference_free(want);
	return out;
fail:
	Py_XDECREF(seen);
	Py_XDECREF(out);
	berth_image_list_free(list);
	berth_reference_free(want);
	return NULL;
}

PyDoc_STRVAR(Images_list_tags_doc,
"list_tags($self, /)\n--\n\n"
"Every tag in the store as `docker images` lists them: a list of dicts\n"
"Reference (as stored), Digest (the manifest's) and Size (bytes stored).");

static PyObject *Images_list_tags(ImagesObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = holder_ctx(self);
	berth_image_list *list = NULL;
	berth_error *err = NULL;
	PyObject *out;
	int rc;

	if (!ctx)
		return NULL;
	UNLOCKED(self->ctx, rc = berth_image_list_new(ctx, &list, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	out = PyList_New(0);
	for (size_t i = 0; out && i < berth_image_list_count(list); i++) {
		PyObject *t = Py_BuildValue("{s:s, s:s, s:L}", "Reference", berth_image_list_reference(list, i),
					    "Digest", berth_image_list_digest(list, i), "Size",
					    berth_image_list_size(list, i));

		if (!t || PyList_Append(out, t) < 0)
			Py_CLEAR(out);
		Py_XDECREF(t);
	}
	berth_image_list_free(list);
	return out;
}

PyDoc_STRVAR(Images_remove_doc,
"remove($self, /, image, force=False)\n--\n\n"
"Remove an image: a reference removes that tag; an ID or digest every tag\n"
"(berth.BusyError when there are several, or when a container, snapshot or\n"
"mount holds it, unless force). Blobs and layers nothing else uses are freed.");

static PyObject *Images_remove(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "image", "force", NULL };
	berth_ctx *ctx = holder_ctx(self);
	berth_error *err = NULL;
	const char *name;
	int force = 0, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|p:remove", kwlist, &name, &force))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_image_remove(ctx, name, force ? BERTH_IMAGE_REMOVE_FORCE : 0, &err));
	return DONE(self->ctx, rc, err);
}

PyDoc_STRVAR(Images_prune_doc,
"prune($self, /)\n--\n\n"
"Free the blobs no tagged image refers to (berth_image_gc): returns\n"
"{\"BlobsDeleted\": n, \"SpaceReclaimed\": bytes}.");

static PyObject *Images_prune(ImagesObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = holder_ctx(self);
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	size_t freed = 0;
	int rc;

	if (!ctx)
		return NULL;
	UNLOCKED(self->ctx, rc = berth_image_gc(ctx, &freed, &bytes, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	return Py_BuildValue("{s:n, s:K}", "BlobsDeleted", (Py_ssize_t)freed, "SpaceReclaimed", bytes);
}

PyDoc_STRVAR(Images_tag_doc,
"tag($self, /, image, repository, tag=None)\n--\n\n"
"Tag the image named image as repository[:tag], replacing what that tag\n"
"named. Returns True.");

static PyObject *Images_tag(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "image", "repository", "tag", NULL };
	const char *image, *repository, *tag = NULL;

	if (!holder_ctx(self) ||
	    !PyArg_ParseTupleAndKeywords(args, kwargs, "ss|z:tag", kwlist, &image, &repository, &tag) ||
	    do_tag(self->ctx, image, repository, tag) < 0)
		return NULL;
	Py_RETURN_TRUE;
}

PyDoc_STRVAR(Images_untag_doc,
"untag($self, /, reference)\n--\n\n"
"Remove the tag reference (the image stays while other tags or holds keep\n"
"it). berth.NotFoundError when there is no such tag.");

static PyObject *Images_untag(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "reference", NULL };
	berth_ctx *ctx = holder_ctx(self);
	berth_error *err = NULL;
	const char *ref;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:untag", kwlist, &ref))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_image_untag(ctx, ref, &err));
	return DONE(self->ctx, rc, err);
}

PyDoc_STRVAR(Images_resolve_doc,
"resolve($self, /, name)\n--\n\n"
"The manifest (or index) a name means, unread: (digest, media_type).");

static PyObject *Images_resolve(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", NULL };
	berth_ctx *ctx = holder_ctx(self);
	char *digest = NULL, *media_type = NULL;
	berth_error *err = NULL;
	const char *name;
	PyObject *r;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:resolve", kwlist, &name))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_image_resolve(ctx, name, &digest, &media_type, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	r = Py_BuildValue("(ss)", digest, media_type);
	free(digest);
	free(media_type);
	return r;
}

PyDoc_STRVAR(Images_blob_doc,
"blob($self, /, digest, max_size=16777216)\n--\n\n"
"A whole blob of the store as bytes, checked against its digest.\n"
"berth.InvalidArgumentError when it is larger than max_size,\n"
"berth.IntegrityError when its content does not match.");

static PyObject *Images_blob(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "digest", "max_size", NULL };
	berth_ctx *ctx = holder_ctx(self);
	Py_ssize_t max = 16 << 20;
	berth_error *err = NULL;
	const char *digest;
	char *data = NULL;
	size_t len = 0;
	PyObject *r;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|n:blob", kwlist, &digest, &max))
		return NULL;
	if (max < 0)
		return PyErr_Format(PyExc_ValueError, "blob: max_size must not be negative");
	UNLOCKED(self->ctx, rc = berth_image_blob_read(ctx, digest, (size_t)max, &data, &len, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	r = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
	free(data);
	return r;
}

PyDoc_STRVAR(Images_open_blob_doc,
"open_blob($self, /, digest)\n--\n\n"
"A blob opened for streaming: (file, size), file a binary file object the\n"
"caller closes. The caller checks the digest while reading.");

static PyObject *Images_open_blob(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "digest", NULL };
	berth_ctx *ctx = holder_ctx(self);
	berth_error *err = NULL;
	const char *digest;
	long long size = 0;
	PyObject *file;
	int fd = -1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:open_blob", kwlist, &digest))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_image_blob_open(ctx, digest, &fd, &size, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	if (!(file = PyFile_FromFd(fd, NULL, "rb", -1, NULL, NULL, NULL, 1))) {
		close(fd);
		return NULL;
	}
	return Py_BuildValue("(NL)", file, size);
}

PyDoc_STRVAR(Images_leftover_bytes_doc,
"leftover_bytes($self, /)\n--\n\n"
"Bytes of blob temp files that dead writers left (the next pull or prune\n"
"removes them).");

static PyObject *Images_leftover_bytes(ImagesObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = holder_ctx(self);
	unsigned long long n;

	if (!ctx)
		return NULL;
	UNLOCKED(self->ctx, n = berth_image_leftover_bytes(ctx));
	return PyLong_FromUnsignedLongLong(n);
}

PyDoc_STRVAR(Images_commit_doc,
"commit($self, /, parent, layer, *, tag, config=None, comment=None,\n"
"       author=None, created_by=None)\n--\n\n"
"A new image: parent plus one layer, the uncompressed tar read from layer\n"
"(an fd or a file) to its end, tagged tag. config: the new config's\n"
"\"config\" object (dict or JSON text; None keeps the parent's). Returns it.");

static PyObject *Images_commit(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "parent", "layer", "tag", "config", "comment", "author", "created_by", NULL };
	berth_image_commit_opts o = BERTH_IMAGE_COMMIT_OPTS_INIT;
	berth_ctx *ctx = holder_ctx(self);
	PyObject *config = Py_None, *keep = NULL, *img;
	berth_error *err = NULL;
	const char *parent;
	char *id = NULL;
	int fd = -1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "sO&|$zOzzz:commit", kwlist, &parent, fd_converter,
						 &fd, &o.tag, &config, &o.comment, &o.author, &o.created_by) ||
	    json_text(config, &keep, &o.config) < 0)
		return NULL;
	UNLOCKED(self->ctx, rc = berth_image_commit(ctx, parent, fd, &o, &id, &err));
	Py_XDECREF(keep);
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	img = lookup(self->ctx, id);
	berth_string_free(id);
	return img;
}

PyDoc_STRVAR(Images_login_doc,
"login($self, /, username, password, registry, *, insecure_registries=None,\n"
"      certs_dir=None, auth_file=None)\n--\n\n"
"Check the credentials against registry (\"host[:port]\") and store them in\n"
"the auth file. berth.AuthError when refused.");

static PyObject *Images_login(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "username", "password", "registry", "insecure_registries", "certs_dir",
				  "auth_file", NULL };
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	berth_ctx *ctx = holder_ctx(self);
	const char *user, *password, *server, **insecure = NULL;
	PyObject *insecure_list = Py_None;
	berth_error *err = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "sss|$Ozz:login", kwlist, &user, &password, &server,
						 &insecure_list, &o.certs_dir, &o.auth_file) ||
	    str_array(insecure_list, "insecure_registries", &insecure) < 0)
		return NULL;
	o.insecure_registries = insecure;
	UNLOCKED(self->ctx, rc = berth_registry_login(ctx, server, user, password, &o, &err));
	free(insecure);
	return DONE(self->ctx, rc, err);
}

PyDoc_STRVAR(Images_logout_doc,
"logout($self, /, registry, *, auth_file=None)\n--\n\n"
"Forget the credentials of registry. berth.NotFoundError when there were none.");

static PyObject *Images_logout(ImagesObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "registry", "auth_file", NULL };
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	berth_ctx *ctx = holder_ctx(self);
	berth_error *err = NULL;
	const char *server;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|$z:logout", kwlist, &server, &o.auth_file))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_registry_logout(ctx, server, &o, &err));
	return DONE(self->ctx, rc, err);
}

static PyMethodDef Images_methods[] = {
	{ "pull", (PyCFunction)(void (*)(void))Images_pull, METH_VARARGS | METH_KEYWORDS, Images_pull_doc },
	{ "get", (PyCFunction)(void (*)(void))Images_get, METH_VARARGS | METH_KEYWORDS, Images_get_doc },
	{ "list", (PyCFunction)(void (*)(void))Images_list, METH_VARARGS | METH_KEYWORDS, Images_list_doc },
	{ "list_tags", (PyCFunction)Images_list_tags, METH_NOARGS, Images_list_tags_doc },
	{ "remove", (PyCFunction)(void (*)(void))Images_remove, METH_VARARGS | METH_KEYWORDS, Images_remove_doc },
	{ "prune", (PyCFunction)Images_prune, METH_NOARGS, Images_prune_doc },
	{ "tag", (PyCFunction)(void (*)(void))Images_tag, METH_VARARGS | METH_KEYWORDS, Images_tag_doc },
	{ "untag", (PyCFunction)(void (*)(void))Images_untag, METH_VARARGS | METH_KEYWORDS, Images_untag_doc },
	{ "resolve", (PyCFunction)(void (*)(void))Images_resolve, METH_VARARGS | METH_KEYWORDS, Images_resolve_doc },
	{ "blob", (PyCFunction)(void (*)(void))Images_blob, METH_VARARGS | METH_KEYWORDS, Images_blob_doc },
	{ "open_blob", (PyCFunction)(void (*)(void))Images_open_blob, METH_VARARGS | METH_KEYWORDS,
	  Images_open_blob_doc },
	{ "leftover_bytes", (PyCFunction)Images_leftover_bytes, METH_NOARGS, Images_leftover_bytes_doc },
	{ "commit", (PyCFunction)(void (*)(void))Images_commit, METH_VARARGS | METH_KEYWORDS, Images_commit_doc },
	{ "login", (PyCFunction)(void (*)(void))Images_login, METH_VARARGS | METH_KEYWORDS, Images_login_doc },
	{ "logout", (PyCFunction)(void (*)(void))Images_logout, METH_VARARGS | METH_KEYWORDS, Images_logout_doc },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef Images_getset[] = {
	{ "context", context_holder_context, NULL, "The berth.Context it belongs to.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot Images_slots[] = {
	{ Py_tp_doc, (void *)"ctx.images: the image store (berth/image.h), as docker-py's\n"
			     "client.images. Holds its context alive." },
	{ Py_tp_dealloc, context_holder_dealloc },
	{ Py_tp_traverse, context_holder_traverse },
	{ Py_tp_clear, context_holder_clear },
	{ Py_tp_methods, Images_methods },
	{ Py_tp_getset, Images_getset },
	{ 0, NULL },
};

static PyType_Spec Images_spec = {
	.name = "berth.ImageCollection",
	.basicsize = sizeof(ImagesObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Images_slots,
};

PyObject *berthpy_context_images(ContextObject *self, void *closure UNUSED)
{
	module_state *st = state_from_type(Py_TYPE(self));

	return context_holder_new(st, st ? st->images_type : NULL, self);
}

/* ---- references ------------------------------------------------------------ */

static PyStructSequence_Field reference_fields[] = {
	{ "domain", "the registry: \"docker.io\", \"127.0.0.1:5000\"" },
	{ "path", "the repository below it: \"library/busybox\"" },
	{ "name", "domain and path" },
	{ "familiar_name", "the name as docker prints it: \"busybox\"" },
	{ "tag", "the tag, or None when only a digest names it" },
	{ "digest", "\"sha256:...\" or None" },
	{ "string", "the whole normalised reference" },
	{ "familiar", "the whole reference as docker prints it" },
	{ NULL, NULL },
};

static PyStructSequence_Desc reference_desc = {
	"berth.Reference", "An image reference, parsed and normalised as Docker does.", reference_fields, 8,
};

static PyObject *py_parse_reference(PyObject *module, PyObject *arg)
{
	module_state *st = PyModule_GetState(module);
	berth_reference *ref = NULL;
	berth_error *err = NULL;
	const char *text;
	PyObject *r;
	int rc;

	if (!PyUnicode_Check(arg))
		return PyErr_Format(PyExc_TypeError, "parse_reference: expected str, not %.100s",
				    Py_TYPE(arg)->tp_name);
	if (!(text = PyUnicode_AsUTF8(arg)))
		return NULL;
	if ((rc = berth_reference_parse(text, &ref, &err)) < 0)
		return raise_berth_error(st, rc, err);
	if ((r = PyStructSequence_New((PyTypeObject *)st->reference_type))) {
		const char *v[8] = { berth_reference_domain(ref), berth_reference_path(ref), berth_reference_name(ref),
				     berth_reference_familiar_name(ref), berth_reference_tag(ref),
				     berth_reference_digest(ref), berth_reference_string(ref),
				     berth_reference_familiar(ref) };

		for (int i = 0; i < 8; i++) {
			PyObject *s = str_or_none(v[i]);

			if (!s) {
				Py_CLEAR(r);
				break;
			}
			PyStructSequence_SET_ITEM(r, i, s);
		}
	}
	berth_reference_free(ref);
	return r;
}

static PyMethodDef image_functions[] = {
	{ "parse_reference", py_parse_reference, METH_O,
	  "parse_reference($module, text, /)\n--\n\n"
	  "Parse and normalise an image reference as Docker does: a berth.Reference\n"
	  "(domain, path, name, familiar_name, tag, digest, string, familiar).\n"
	  "berth.InvalidArgumentError naming what is wrong." },
	{ NULL, NULL, 0, NULL },
};

int berthpy_image_init(PyObject *module, module_state *st)
{
	if (!(st->images_type = PyType_FromModuleAndSpec(module, &Images_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->images_type) < 0)
		return -1;
	if (!(st->image_type = PyType_FromModuleAndSpec(module, &Image_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->image_type) < 0)
		return -1;
	if (!(st->reference_type = (PyObject *)PyStructSequence_NewType(&reference_desc)) ||
	    PyModule_AddObjectRef(module, "Reference", st->reference_type) < 0)
		return -1;
	return PyModule_AddFunctions(module, image_functions);
}

int berthpy_image_traverse(module_state *st, visitproc visit, void *arg)
{
	Py_VISIT(st->images_type);
	Py_VISIT(st->image_type);
	Py_VISIT(st->reference_type);
	return 0;
}

void berthpy_image_clear(module_state *st)
{
	Py_CLEAR(st->images_type);
	Py_CLEAR(st->image_type);
	Py_CLEAR(st->reference_type);
}
