/* Storage (include/berth/storage.h) from Python: ctx.storage, a
 * berth.Storage with unpack, release, image mounts and snapshots (their
 * mounts as berth.Mount context managers), diffs, exports, copies, usage,
 * prune and layers. One C call underneath each method, the GIL released
 * around each. */
#include "berthpy.h"

#include <stdlib.h>
#include <string.h>

#include <structmember.h>

typedef HolderObject StorageObject;

typedef struct {
	PyObject_HEAD
	ContextObject *ctx; /* strong */
	PyObject *name;     /* the image or snapshot id (str) */
	PyObject *path;     /* where it is mounted (str) */
	int snapshot;       /* a snapshot's mount, else an image's */
	int mounted;
} MountObject;

static berth_ctx *storage_ctx(StorageObject *self)
{
	return context_get(self->ctx);
}

/* ---- Mount ------------------------------------------------------------------ */

static PyObject *mount_new(ContextObject *ctx, const char *name, char *path, int snapshot)
{
	module_state *st = state_from_type(Py_TYPE(ctx));
	MountObject *m;

	if (!st || !(m = PyObject_GC_New(MountObject, (PyTypeObject *)st->mount_type))) {
		berth_string_free(path);
		return NULL;
	}
	m->ctx = (ContextObject *)Py_NewRef(ctx);
	m->name = PyUnicode_FromString(name);
	m->path = path_from_c(path);
	m->snapshot = snapshot;
	m->mounted = 1;
	berth_string_free(path);
	PyObject_GC_Track(m);
	if (!m->name || !m->path)
		Py_CLEAR(m);
	return (PyObject *)m;
}

static int Mount_traverse(MountObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->ctx);
	return 0;
}

static int Mount_clear(MountObject *self)
{
	Py_CLEAR(self->ctx);
	return 0;
}

/* A Mount that is dropped stays mounted (as the C call leaves it): only
 * unmount() and the with block's end unmount. */
static void Mount_dealloc(MountObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
	Mount_clear(self);
	Py_XDECREF(self->name);
	Py_XDECREF(self->path);
	tp->tp_free(self);
	Py_DECREF(tp);
}

PyDoc_STRVAR(Mount_unmount_doc,
"unmount($self, /)\n--\n\n"
"Unmount it (berth_storage_unmount or berth_snapshot_unmount). Twice is\n"
"not an error.");

static PyObject *Mount_unmount(MountObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = self->ctx ? context_get(self->ctx) : NULL;
	berth_error *err = NULL;
	const char *name;
	int rc;

	if (!ctx || !(name = PyUnicode_AsUTF8(self->name)))
		return NULL;
	if (!self->mounted)
		Py_RETURN_NONE;
	if (self->snapshot)
		UNLOCKED(self->ctx, rc = berth_snapshot_unmount(ctx, name, &err));
	else
		UNLOCKED(self->ctx, rc = berth_storage_unmount(ctx, name, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	self->mounted = 0;
	Py_RETURN_NONE;
}

static PyObject *Mount_enter(MountObject *self, PyObject *unused UNUSED)
{
	return Py_NewRef(self->path);
}

static PyObject *Mount_exit(MountObject *self, PyObject *args UNUSED)
{
	PyObject *r = Mount_unmount(self, NULL);

	if (!r)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyObject *Mount_repr(MountObject *self)
{
	return PyUnicode_FromFormat("<berth.Mount %s %U at %U%s>", self->snapshot ? "snapshot" : "image",
				    self->name, self->path, self->mounted ? "" : " (unmounted)");
}

static PyObject *Mount_get_mounted(MountObject *self, void *closure UNUSED)
{
	return PyBool_FromLong(self->mounted);
}

static PyMethodDef Mount_methods[] = {
	{ "unmount", (PyCFunction)Mount_unmount, METH_NOARGS, Mount_unmount_doc },
	{ "__enter__", (PyCFunction)Mount_enter, METH_NOARGS, "The mount's path (str)." },
	{ "__exit__", (PyCFunction)Mount_exit, METH_VARARGS, "unmount(); exceptions propagate." },
	{ NULL, NULL, 0, NULL },
};

static PyMemberDef Mount_members[] = {
	{ "path", T_OBJECT, offsetof(MountObject, path), READONLY, "Where it is mounted (str)." },
	{ "name", T_OBJECT, offsetof(MountObject, name), READONLY, "The image or snapshot id (str)." },
	{ NULL, 0, 0, 0, NULL },
};

static PyGetSetDef Mount_getset[] = {
	{ "mounted", (getter)Mount_get_mounted, NULL, "False once unmounted.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot Mount_slots[] = {
	{ Py_tp_doc, (void *)"A mounted image or snapshot: `with ctx.storage.mount(img) as path:`\n"
			     "unmounts at the block's end; unmount() any time." },
	{ Py_tp_dealloc, Mount_dealloc },
	{ Py_tp_traverse, Mount_traverse },
	{ Py_tp_clear, Mount_clear },
	{ Py_tp_repr, Mount_repr },
	{ Py_tp_methods, Mount_methods },
	{ Py_tp_members, Mount_members },
	{ Py_tp_getset, Mount_getset },
	{ 0, NULL },
};

static PyType_Spec Mount_spec = {
	.name = "berth.Mount",
	.basicsize = sizeof(MountObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Mount_slots,
};

/* ---- image layers ------------------------------------------------------------- */

PyDoc_STRVAR(Storage_unpack_doc,
"unpack($self, /, image, *, no_devices=False, progress=None)\n--\n\n"
"Unpack the image's layers not unpacked yet, each checked against its\n"
"diff_id. progress(layer, done, total) as each layer goes (GIL taken back);\n"
"its exception (or a true return) cancels, leaving the store as it was.\n"
"berth.PathEscapeError for a layer entry leaving the layer.");

static PyObject *Storage_unpack(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "image", "no_devices", "progress", NULL };
	berth_storage_unpack_opts o = BERTH_STORAGE_UNPACK_OPTS_INIT;
	struct py_callback cb = { 0 };
	berth_ctx *ctx = storage_ctx(self);
	PyObject *progress = Py_None;
	berth_error *err = NULL;
	const char *image;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|$pO:unpack", kwlist, &image, &o.no_devices, &progress) ||
	    callable_or_none(&progress, "progress") < 0)
		return NULL;
	if ((cb.fn = progress)) {
		o.progress = unpack_progress;
		o.progress_userdata = &cb;
	}
	UNLOCKED(self->ctx, rc = berth_storage_unpack(ctx, image, &o, &err));
	if (callback_raise(&cb, err))
		return NULL;
	return DONE(self->ctx, rc, err);
}

/* One call of the form f(ctx, name, &err) with the GIL released. */
static PyObject *name_call(StorageObject *self, PyObject *args, PyObject *kwargs, const char *format,
			   int (*fn)(berth_ctx *, const char *, berth_error **))
{
	static char *kwlist[] = { "name", NULL };
	berth_ctx *ctx = storage_ctx(self);
	berth_error *err = NULL;
	const char *name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, &name))
		return NULL;
	UNLOCKED(self->ctx, rc = fn(ctx, name, &err));
	return DONE(self->ctx, rc, err);
}

static PyObject *Storage_release(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return name_call(self, args, kwargs, "s:release", berth_storage_release);
}

static PyObject *Storage_unmount(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return name_call(self, args, kwargs, "s:unmount", berth_storage_unmount);
}

static PyObject *Storage_snapshot_unmount(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return name_call(self, args, kwargs, "s:snapshot_unmount", berth_snapshot_unmount);
}

static PyObject *Storage_snapshot_remove(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return name_call(self, args, kwargs, "s:snapshot_remove", berth_snapshot_remove);
}

/* A mount call f(ctx, name, &path, &err): a berth.Mount. */
static PyObject *mount_call(StorageObject *self, PyObject *args, PyObject *kwargs, const char *format,
			    int (*fn)(berth_ctx *, const char *, char **, berth_error **), int snapshot)
{
	static char *kwlist[] = { "name", NULL };
	berth_ctx *ctx = storage_ctx(self);
	berth_error *err = NULL;
	char *path = NULL;
	const char *name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, &name))
		return NULL;
	UNLOCKED(self->ctx, rc = fn(ctx, name, &path, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	return mount_new(self->ctx, name, path, snapshot);
}

static PyObject *Storage_mount(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return mount_call(self, args, kwargs, "s:mount", berth_storage_mount, 0);
}

static PyObject *Storage_snapshot_mount(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return mount_call(self, args, kwargs, "s:snapshot_mount", berth_snapshot_mount, 1);
}

/* ---- snapshots ------------------------------------------------------------------ */

static const char *const driver_names[] = { "auto", "overlay", "copy" };

PyDoc_STRVAR(Storage_snapshot_create_doc,
"snapshot_create($self, /, id, image, *, driver=\"auto\")\n--\n\n"
"A container's writable root file system from image. id: 1 to 64 of\n"
"[A-Za-z0-9_.-]. driver: \"auto\", \"overlay\" or \"copy\". The snapshot holds\n"
"the image until snapshot_remove(). berth.ExistsError for a used id.");

static PyObject *Storage_snapshot_create(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "id", "image", "driver", NULL };
	berth_snapshot_opts o = BERTH_SNAPSHOT_OPTS_INIT;
	berth_ctx *ctx = storage_ctx(self);
	const char *id, *image, *driver = "auto";
	berth_error *err = NULL;
	int rc, found = 0;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss|$s:snapshot_create", kwlist, &id, &image, &driver))
		return NULL;
	for (int i = 0; i < 3; i++)
		if (strcmp(driver, driver_names[i]) == 0) {
			o.driver = (berth_snapshot_driver)i;
			found = 1;
		}
	if (!found)
		return PyErr_Format(PyExc_ValueError,
				    "snapshot_create: driver '%s' is not \"auto\", \"overlay\" or \"copy\"", driver);
	UNLOCKED(self->ctx, rc = berth_snapshot_create(ctx, id, image, &o, &err));
	return DONE(self->ctx, rc, err);
}

static PyObject *Storage_snapshot_driver(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "id", NULL };
	berth_snapshot_driver d = BERTH_SNAPSHOT_AUTO;
	berth_ctx *ctx = storage_ctx(self);
	berth_error *err = NULL;
	const char *id;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:snapshot_driver", kwlist, &id))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_snapshot_driver_get(ctx, id, &d, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	return PyUnicode_FromString((unsigned)d < 3 ? driver_names[d] : "unknown");
}

/* A tar writer f(ctx, id, fd, &err). */
static PyObject *fd_call(StorageObject *self, PyObject *args, PyObject *kwargs, const char *format,
			 int (*fn)(berth_ctx *, const char *, int, berth_error **))
{
	static char *kwlist[] = { "id", "fd", NULL };
	berth_ctx *ctx = storage_ctx(self);
	berth_error *err = NULL;
	const char *id;
	int fd = -1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, &id, fd_converter, &fd))
		return NULL;
	UNLOCKED(self->ctx, rc = fn(ctx, id, fd, &err));
	return DONE(self->ctx, rc, err);
}

static PyObject *Storage_snapshot_diff(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return fd_call(self, args, kwargs, "sO&:snapshot_diff", berth_snapshot_diff);
}

static PyObject *Storage_snapshot_export(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	return fd_call(self, args, kwargs, "sO&:snapshot_export", berth_snapshot_export);
}

/* ---- copies ----------------------------------------------------------------------- */

static PyObject *Storage_copy_out(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "root", "path", "fd", "arcname", NULL };
	berth_ctx *ctx = storage_ctx(self);
	PyObject *root = NULL, *path = NULL;
	const char *as = NULL;
	berth_error *err = NULL;
	int fd = -1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&O&|z:copy_out", kwlist, path_or_none, &root,
						 path_or_none, &path, fd_converter, &fd, &as))
		goto fail;
	if (!root || !path) {
		PyErr_SetString(PyExc_TypeError, "copy_out: root and path must be paths, not None");
		goto fail;
	}
	UNLOCKED(self->ctx, rc = berth_storage_copy_out(ctx, PyBytes_AS_STRING(root), PyBytes_AS_STRING(path), as,
							fd, &err));
	Py_DECREF(root);
	Py_DECREF(path);
	return DONE(self->ctx, rc, err);
fail:
	Py_XDECREF(root);
	Py_XDECREF(path);
	return NULL;
}

static PyObject *Storage_copy_in(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "root", "dir", "fd", NULL };
	berth_ctx *ctx = storage_ctx(self);
	PyObject *root = NULL, *dir = NULL;
	berth_error *err = NULL;
	int fd = -1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&O&:copy_in", kwlist, path_or_none, &root,
						 path_or_none, &dir, fd_converter, &fd))
		goto fail;
	if (!root || !dir) {
		PyErr_SetString(PyExc_TypeError, "copy_in: root and dir must be paths, not None");
		goto fail;
	}
	UNLOCKED(self->ctx, rc = berth_storage_copy_in(ctx, PyBytes_AS_STRING(root), PyBytes_AS_STRING(dir), fd, &err));
	Py_DECREF(root);
	Py_DECREF(dir);
	return DONE(self->ctx, rc, err);
fail:
	Py_XDECREF(root);
	Py_XDECREF(dir);
	return NULL;
}

/* ---- usage, prune, layers ------------------------------------------------------------ */

static PyObject *Storage_usage(StorageObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = storage_ctx(self);
	berth_storage_usage *u = NULL;
	berth_error *err = NULL;
	PyObject *d;
	int rc;

	if (!ctx)
		return NULL;
	UNLOCKED(self->ctx, rc = berth_storage_usage_new(ctx, &u, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	d = PyDict_New();
	for (size_t i = 0; d && i < berth_storage_usage_count(u); i++) {
		PyObject *row = Py_BuildValue("{s:L, s:L, s:L}", "Items", berth_storage_usage_items(u, i), "Bytes",
					      berth_storage_usage_bytes(u, i), "Reclaimable",
					      berth_storage_usage_reclaimable(u, i));

		if (!row || PyDict_SetItemString(d, berth_storage_usage_kind(u, i), row) < 0)
			Py_CLEAR(d);
		Py_XDECREF(row);
	}
	berth_storage_usage_free(u);
	return d;
}

static PyObject *Storage_prune(StorageObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = storage_ctx(self);
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	int rc;

	if (!ctx)
		return NULL;
	UNLOCKED(self->ctx, rc = berth_storage_prune(ctx, &bytes, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	return PyLong_FromUnsignedLongLong(bytes);
}

static PyObject *Storage_layers(StorageObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "image", NULL };
	berth_ctx *ctx = storage_ctx(self);
	berth_storage_layers *l = NULL;
	berth_error *err = NULL;
	const char *image;
	PyObject *list;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:layers", kwlist, &image))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_storage_layers_new(ctx, image, &l, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	list = PyList_New(0);
	for (size_t i = 0; list && i < berth_storage_layers_count(l); i++) {
		long long size = berth_storage_layers_unpacked_size(l, i);
		PyObject *row = Py_BuildValue("{s:s, s:s, s:N}", "DiffID", berth_storage_layers_diff_id(l, i), "ChainID",
					      berth_storage_layers_chain_id(l, i), "UnpackedSize",
					      size < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(size));

		if (!row || PyList_Append(list, row) < 0)
			Py_CLEAR(list);
		Py_XDECREF(row);
	}
	berth_storage_layers_free(l);
	return list;
}

#define KW(name, doc) { #name, (PyCFunction)(void (*)(void))Storage_##name, METH_VARARGS | METH_KEYWORDS, doc }
static PyMethodDef Storage_methods[] = {
	KW(unpack, Storage_unpack_doc),
	KW(release, "release($self, /, name)\n--\n\nDrop the image's hold on its unpacked layers (unused ones go).\n"
		    "berth.NotFoundError when not unpacked, berth.BusyError when mounted."),
	KW(mount, "mount($self, /, name)\n--\n\nMount the image's root file system read-only (unpacking it first):\n"
		  "a berth.Mount; `with ctx.storage.mount(\"busybox\") as path:` unmounts after.\n"
		  "While mounted the image is held: removal refuses unless forced."),
	KW(unmount, "unmount($self, /, name)\n--\n\nUnmount an image mount(). berth.NotFoundError when not mounted."),
	KW(snapshot_create, Storage_snapshot_create_doc),
	KW(snapshot_mount, "snapshot_mount($self, /, name)\n--\n\nThe snapshot's root file system: a berth.Mount\n"
			   "(an overlay mount, or the copy's directory)."),
	KW(snapshot_unmount, "snapshot_unmount($self, /, name)\n--\n\nUnmount a snapshot; not mounted is not an error."),
	KW(snapshot_remove, "snapshot_remove($self, /, name)\n--\n\nUnmount and remove a snapshot and its changes."),
	KW(snapshot_driver, "snapshot_driver($self, /, id)\n--\n\nThe snapshot's driver: \"overlay\" or \"copy\"."),
	KW(snapshot_diff, "snapshot_diff($self, /, id, fd)\n--\n\nWrite the snapshot's changes to fd (int or file) as\n"
			  "an uncompressed OCI layer tar (deletions as whiteouts)."),
	KW(snapshot_export, "snapshot_export($self, /, id, fd)\n--\n\nWrite the snapshot's whole root file system to fd\n"
			    "as one uncompressed tar."),
	KW(copy_out, "copy_out($self, /, root, path, fd, arcname=None)\n--\n\nWrite path, resolved below root as a\n"
		     "process chrooted there would, to fd as a tar; arcname names its top entry."),
	KW(copy_in, "copy_in($self, /, root, dir, fd)\n--\n\nExtract the tar read from fd into dir below root;\n"
		    "an entry leaving dir raises berth.PathEscapeError."),
	{ "usage", (PyCFunction)Storage_usage, METH_NOARGS,
	  "usage($self, /)\n--\n\nWhat `system df` shows: {kind: {\"Items\", \"Bytes\", \"Reclaimable\"}} for\n"
	  "\"images\", \"layers\" and \"containers\"." },
	{ "prune", (PyCFunction)Storage_prune, METH_NOARGS,
	  "prune($self, /)\n--\n\nRemove the reclaimable part of the layer store; the bytes freed." },
	KW(layers, "layers($self, /, image)\n--\n\nThe image's layers on disk, bottom first: dicts of DiffID, ChainID\n"
		   "and UnpackedSize (None when not unpacked)."),
	{ NULL, NULL, 0, NULL },
};
#undef KW

static PyGetSetDef Storage_getset[] = {
	{ "context", context_holder_context, NULL, "The berth.Context it belongs to.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot Storage_slots[] = {
	{ Py_tp_doc, (void *)"ctx.storage: layers, image mounts, snapshots, copies and usage\n"
			     "(berth/storage.h). Holds its context alive." },
	{ Py_tp_dealloc, context_holder_dealloc },
	{ Py_tp_traverse, context_holder_traverse },
	{ Py_tp_clear, context_holder_clear },
	{ Py_tp_methods, Storage_methods },
	{ Py_tp_getset, Storage_getset },
	{ 0, NULL },
};

static PyType_Spec Storage_spec = {
	.name = "berth.Storage",
	.basicsize = sizeof(StorageObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Storage_slots,
};

PyObject *berthpy_context_storage(ContextObject *self, void *closure UNUSED)
{
	module_state *st = state_from_type(Py_TYPE(self));

	return context_holder_new(st, st ? st->storage_type : NULL, self);
}

int berthpy_storage_init(PyObject *module, module_state *st)
{
	if (!(st->storage_type = PyType_FromModuleAndSpec(module, &Storage_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->storage_type) < 0)
		return -1;
	if (!(st->mount_type = PyType_FromModuleAndSpec(module, &Mount_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->mount_type) < 0)
		return -1;
	return 0;
}

int berthpy_storage_traverse(module_state *st, visitproc visit, void *arg)
{
	Py_VISIT(st->storage_type);
	Py_VISIT(st->mount_type);
	return 0;
}

void berthpy_storage_clear(module_state *st)
{
	Py_CLEAR(st->storage_type);
	Py_CLEAR(st->mount_type);
}
