/* berth: the CPython binding of libberth.
 *
 * One module, `berth`, with multi-phase initialisation: the Context type and
 * the exception classes are heap objects kept in the module's state, so the
 * module can be loaded into several (sub)interpreters and unloaded cleanly.
 *
 * Strings from the library: paths (roots, info values) are decoded with the
 * file system encoding and surrogateescape, so they round-trip through os.*;
 * messages (errors, log lines) are text for people and are decoded as UTF-8
 * with backslashreplace, so printing them can never fail.
 *
 * The GIL: the log callback takes it with PyGILState_Ensure, so the library
 * may call it from any thread, including from a call made with the GIL
 * released (Context.info() does that already; long operations will too). A
 * context counts the calls in progress on it, and close() refuses while one
 * runs, so a call that released the GIL never sees its context freed.
 */
#include "berthpy.h"

#include <structmember.h>

#include <string.h>

PyMODINIT_FUNC PyInit_berth(void);

_Static_assert(BERTH_ETIMEOUT == 1 - N_CODES, "error_classes[] must list every berth_errcode");

static const struct {
	int code;
	const char *name; /* the class name */
	const char *doc;
} error_classes[N_CODES] = {
	{ BERTH_OK, NULL, NULL },
	{ BERTH_ERROR, "Error",
	  "Base class of every error libberth reports (code ERROR for failures that\n"
	  "fit no other code).\n\n"
	  "Attributes:\n"
	  "  code       the negative BERTH_E* code (int); also a class attribute\n"
	  "  code_name  its stable name, e.g. \"EINVAL\"; also a class attribute\n"
	  "  errno      the errno of the failed system call, or 0\n"
	  "  message    the library's whole message, outermost context first;\n"
	  "             str(exc) is the same text\n\n"
	  "berth.errors maps every code name to its class." },
	{ BERTH_EINVAL, "InvalidArgumentError",
	  "Malformed input or argument (EINVAL). Also a ValueError." },
	{ BERTH_ENOTFOUND, "NotFoundError",
	  "The named thing does not exist (ENOTFOUND). Also a LookupError." },
	{ BERTH_EEXISTS, "ExistsError", "The named thing exists already (EEXISTS)." },
	{ BERTH_ENOMEM, "OutOfMemoryError", "Out of memory (ENOMEM). Also a MemoryError." },
	{ BERTH_EOS, "SystemCallError",
	  "A system call failed (EOS); .errno says which errno. Also an OSError\n"
	  "(whose .errno is the same value; .strerror and .filename stay None)." },
	{ BERTH_EPERM, "PermissionDeniedError", "Not allowed (EPERM)." },
	{ BERTH_EBUSY, "BusyError", "Locked or in use (EBUSY)." },
	{ BERTH_EUNSUPPORTED, "UnsupportedError", "This build or host cannot do it (EUNSUPPORTED)." },
	{ BERTH_ECANCELED, "CanceledError", "A callback asked to stop (ECANCELED)." },
	{ BERTH_EAUTH, "AuthError", "Authentication failed (EAUTH)." },
	{ BERTH_ENETWORK, "NetworkError", "A network peer failed or could not be reached (ENETWORK)." },
	{ BERTH_EINTEGRITY, "IntegrityError", "Content does not match its digest or size (EINTEGRITY)." },
	{ BERTH_ESTATE, "StateError",
	  "Not allowed in the object's current state (ESTATE); also raised by the\n"
	  "binding for a closed Context." },
	{ BERTH_ESCAPE, "PathEscapeError", "A path would leave the root it must stay in (ESCAPE)." },
	{ BERTH_ETIMEOUT, "TimeoutError", "The time allowed ran out (ETIMEOUT). Also the built-in TimeoutError." },
};

static struct PyModuleDef berth_module;

static module_state *get_state(PyObject *module)
{
	return (module_state *)PyModule_GetState(module);
}

module_state *state_from_type(PyTypeObject *type)
{
	PyObject *module = PyType_GetModuleByDef(type, &berth_module);

	return module ? get_state(module) : NULL;
}

/* ---- strings ------------------------------------------------------------ */

PyObject *text_from_c(const char *s)
{
	return PyUnicode_DecodeUTF8(s ? s : "", (Py_ssize_t)strlen(s ? s : ""), "backslashreplace");
}

PyObject *path_from_c(const char *s)
{
	return PyUnicode_DecodeFSDefault(s ? s : "");
}

int path_or_none(PyObject *obj, void *out)
{
	if (obj == Py_None) {
		*(PyObject **)out = NULL;
		return 1;
	}
	return PyUnicode_FSConverter(obj, out);
}

/* ---- errors ------------------------------------------------------------- */

static PyObject *error_class(module_state *st, int code)
{
	if (code <= BERTH_ERROR && code > -N_CODES)
		return st->errors[-code];
	return st->errors[-BERTH_ERROR];
}

PyObject *raise_error(module_state *st, int code, int sys_errno, const char *message)
{
	PyObject *cls = error_class(st, code);
	PyObject *msg, *exc, *val;

	if (!(msg = text_from_c(message)))
		return NULL;
	exc = PyObject_CallOneArg(cls, msg);
	if (!exc) {
		Py_DECREF(msg);
		return NULL;
	}
	/* instance attributes, so that .code of an unknown code is still exact */
	if (!(val = PyLong_FromLong(code)) || PyObject_SetAttrString(exc, "code", val) < 0)
		goto fail;
	Py_DECREF(val);
	if (!(val = PyUnicode_FromString(berth_error_code_name(code))) ||
	    PyObject_SetAttrString(exc, "code_name", val) < 0)
		goto fail;
	Py_DECREF(val);
	if (!(val = PyLong_FromLong(sys_errno)) || PyObject_SetAttrString(exc, "errno", val) < 0)
		goto fail;
	Py_DECREF(val);
	if (PyObject_SetAttrString(exc, "message", msg) < 0) {
		val = NULL;
		goto fail;
	}
	Py_DECREF(msg);
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
fail:
	Py_XDECREF(val);
	Py_DECREF(exc);
	Py_DECREF(msg);
	return NULL;
}

PyObject *raise_berth_error(module_state *st, int rc, berth_error *err)
{
	if (err)
		raise_error(st, berth_error_code(err), berth_error_errno(err), berth_error_message(err));
	else
		raise_error(st, rc, 0, berth_strerror(rc));
	berth_error_free(err);
	return NULL;
}

static int add_error_classes(PyObject *module, module_state *st)
{
	PyObject *errors = PyDict_New();
	int rc;

	if (!errors)
		return -1;
	for (int i = 1; i < N_CODES; i++) {
		int code = error_classes[i].code;
		PyObject *bases = NULL, *dict = NULL, *cls = NULL, *val = NULL;
		char qualname[64];

		if (i == -BERTH_ERROR)
			bases = PyTuple_Pack(1, PyExc_Exception);
		else if (code == BERTH_EINVAL)
			bases = PyTuple_Pack(2, st->errors[1], PyExc_ValueError);
		else if (code == BERTH_ENOTFOUND)
			bases = PyTuple_Pack(2, st->errors[1], PyExc_LookupError);
		else if (code == BERTH_ENOMEM)
			bases = PyTuple_Pack(2, st->errors[1], PyExc_MemoryError);
		else if (code == BERTH_EOS)
			bases = PyTuple_Pack(2, st->errors[1], PyExc_OSError);
		else if (code == BERTH_ETIMEOUT)
			bases = PyTuple_Pack(2, st->errors[1], PyExc_TimeoutError);
		else
			bases = PyTuple_Pack(1, st->errors[1]);
		if (!bases || !(dict = PyDict_New()))
			goto fail;
		if (!(val = PyLong_FromLong(code)) || PyDict_SetItemString(dict, "code", val) < 0)
			goto fail;
		Py_CLEAR(val);
		if (!(val = PyUnicode_FromString(berth_error_code_name(code))) ||
		    PyDict_SetItemString(dict, "code_name", val) < 0)
			goto fail;
		Py_CLEAR(val);
		PyOS_snprintf(qualname, sizeof(qualname), "berth.%s", error_classes[i].name);
		if (!(cls = PyErr_NewExceptionWithDoc(qualname, error_classes[i].doc, bases, dict)))
			goto fail;
		Py_CLEAR(bases);
		Py_CLEAR(dict);
		if (PyDict_SetItemString(errors, berth_error_code_name(code), cls) < 0 ||
		    PyModule_AddObjectRef(module, error_classes[i].name, cls) < 0)
			goto fail;
		st->errors[i] = cls; /* the state owns this reference */
		continue;
fail:
		Py_XDECREF(val);
		Py_XDECREF(cls);
		Py_XDECREF(dict);
		Py_XDECREF(bases);
		Py_DECREF(errors);
		return -1;
	}
	/* Codes a newer library has and this binding does not know yet (they run
	 * without gaps down to the first "EUNKNOWN") are raised as berth.Error. */
	for (int code = -N_CODES; strcmp(berth_error_code_name(code), "EUNKNOWN") != 0; code--)
		if (PyDict_SetItemString(errors, berth_error_code_name(code), st->errors[1]) < 0) {
			Py_DECREF(errors);
			return -1;
		}
	rc = PyModule_AddObjectRef(module, "errors", errors);
	Py_DECREF(errors);
	return rc;
}

/* ---- Context ------------------------------------------------------------ */

/* The library's log callback. `userdata` is the ContextObject, which outlives
 * its berth_ctx. Any thread, GIL held or not. */
static void log_trampoline(berth_log_level level, const char *module, const char *message,
			   void *userdata)
{
	ContextObject *self = userdata;
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *log = self->log, *result = NULL;
	PyObject *lvl = NULL, *mod = NULL, *msg = NULL;
#if PY_VERSION_HEX >= 0x030C0000
	PyObject *saved = PyErr_GetRaisedException();
#else
	PyObject *saved_type, *saved_value, *saved_tb;

	PyErr_Fetch(&saved_type, &saved_value, &saved_tb);
#endif

	if (log) {
		Py_INCREF(log); /* the callable may drop self->log */
		if ((lvl = PyUnicode_FromString(berth_log_level_name(level))) &&
		    (mod = text_from_c(module)) && (msg = text_from_c(message)))
			result = PyObject_CallFunctionObjArgs(log, lvl, mod, msg, NULL);
		if (!result)
			PyErr_WriteUnraisable(log);
		Py_XDECREF(result);
		Py_XDECREF(msg);
		Py_XDECREF(mod);
		Py_XDECREF(lvl);
		Py_DECREF(log);
	}
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(saved);
#else
	PyErr_Restore(saved_type, saved_value, saved_tb);
#endif
	PyGILState_Release(gil);
}

/* The open berth_ctx, or NULL with berth.StateError raised. */
berth_ctx *context_get(ContextObject *self)
{
	module_state *st;

	if (self->ctx)
		return self->ctx;
	if ((st = state_from_type(Py_TYPE(self))))
		raise_error(st, BERTH_ESTATE, 0, "context is closed");
	return NULL;
}

static PyObject *Context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "root", "runroot", "log", "log_level", NULL };
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	PyObject *root = NULL, *runroot = NULL, *log = Py_None;
	const char *level_name = NULL;
	module_state *st = state_from_type(type);
	ContextObject *self = NULL;
	berth_error *err = NULL;
	berth_ctx *ctx;
	int rc;

	if (!st)
		return NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O&$O&Oz:Context", kwlist, path_or_none,
					 &root, path_or_none, &runroot, &log, &level_name))
		goto out;
	if (log != Py_None && !PyCallable_Check(log)) {
		PyErr_Format(PyExc_TypeError, "Context: log must be callable or None, not %.100s",
			     Py_TYPE(log)->tp_name);
		goto out;
	}
	if (level_name && (rc = berth_log_level_parse(level_name, &opts.log_level, &err)) < 0) {
		raise_berth_error(st, rc, err);
		goto out;
	}
	if (!(self = (ContextObject *)type->tp_alloc(type, 0)))
		goto out;
	opts.root = root ? PyBytes_AS_STRING(root) : NULL;
	opts.runroot = runroot ? PyBytes_AS_STRING(runroot) : NULL;
	if (log != Py_None) {
		/* set before berth_ctx_new, which logs already */
		self->log = Py_NewRef(log);
		opts.log = log_trampoline;
		opts.log_userdata = self;
	}
	if ((rc = berth_ctx_new(&ctx, &opts, &err)) < 0) {
		raise_berth_error(st, rc, err);
		Py_CLEAR(self);
		goto out;
	}
	self->ctx = ctx;
out:
	Py_XDECREF(root);
	Py_XDECREF(runroot);
	return (PyObject *)self;
}

static int Context_traverse(ContextObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->log);
	return 0;
}

/* Only the callable can be in a cycle; the berth_ctx stays until dealloc and
 * logs nothing while self->log is NULL. */
static int Context_clear(ContextObject *self)
{
	Py_CLEAR(self->log);
	return 0;
}

static void Context_dealloc(ContextObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
	if (self->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)self);
	berth_ctx_free(self->ctx);
	self->ctx = NULL;
	Context_clear(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyObject *Context_repr(ContextObject *self)
{
	PyObject *root, *runroot, *r;

	if (!self->ctx)
		return PyUnicode_FromFormat("<%s (closed)>", Py_TYPE(self)->tp_name);
	if (!(root = path_from_c(berth_ctx_root(self->ctx))))
		return NULL;
	if (!(runroot = path_from_c(berth_ctx_runroot(self->ctx)))) {
		Py_DECREF(root);
		return NULL;
	}
	r = PyUnicode_FromFormat("<%s root=%R runroot=%R>", Py_TYPE(self)->tp_name, root, runroot);
	Py_DECREF(root);
	Py_DECREF(runroot);
	return r;
}

PyDoc_STRVAR(Context_close_doc,
"close($self, /)\n--\n\n"
"Free the library context. Closing twice is allowed; any other use of a\n"
"closed context raises berth.StateError. Also drops the log callable.\n"
"Raises berth.StateError if a call on this context is in progress in\n"
"another thread.");

static PyObject *Context_close(ContextObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = self->ctx;
	module_state *st;

	if (ctx && self->uses > 0) {
		if ((st = state_from_type(Py_TYPE(self))))
			raise_error(st, BERTH_ESTATE, 0,
				    "closing a context: a call on it is still in progress");
		return NULL;
	}
	self->ctx = NULL;
	berth_ctx_free(ctx);
	Py_CLEAR(self->log);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Context_enter_doc,
"__enter__($self, /)\n--\n\n"
"Return the context itself (it must be open).");

static PyObject *Context_enter(ContextObject *self, PyObject *unused UNUSED)
{
	if (!context_get(self))
		return NULL;
	return Py_NewRef(self);
}

PyDoc_STRVAR(Context_exit_doc,
"__exit__($self, /, *exc_info)\n--\n\n"
"Close the context; exceptions propagate.");

static PyObject *Context_exit(ContextObject *self, PyObject *args UNUSED)
{
	PyObject *r = Context_close(self, NULL);

	if (!r)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

PyDoc_STRVAR(Context_info_doc,
"info($self, /)\n--\n\n"
"Facts about the library, the store and the host kernel, as `berth info`\n"
"shows them: a dict[str, str] in the library's order. Keys include\n"
"version, root, runroot, kernel, namespaces, overlayfs, cgroup.mode,\n"
"cgroup.v1.controllers, cgroup.v2.controllers, seccomp and features; new\n"
"keys may appear.\n"
"The GIL is released while the library gathers them.");

static PyObject *Context_info(ContextObject *self, PyObject *unused UNUSED)
{
	berth_ctx *ctx = context_get(self);
	berth_info *info = NULL;
	berth_error *err = NULL;
	PyObject *dict;
	module_state *st;
	int rc;

	if (!ctx)
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_info_new(ctx, &info, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0) {
		if ((st = state_from_type(Py_TYPE(self))))
			return raise_berth_error(st, rc, err);
		berth_error_free(err);
		return NULL;
	}
	if (!(dict = PyDict_New()))
		goto out;
	for (size_t i = 0, n = berth_info_count(info); i < n; i++) {
		PyObject *key = path_from_c(berth_info_key(info, i));
		PyObject *value = key ? path_from_c(berth_info_value(info, i)) : NULL;

		rc = value ? PyDict_SetItem(dict, key, value) : -1;
		Py_XDECREF(key);
		Py_XDECREF(value);
		if (rc < 0) {
			Py_CLEAR(dict);
			break;
		}
	}
out:
	berth_info_free(info);
	return dict;
}

PyDoc_STRVAR(Context_root_doc,
"The store root in use, an absolute path without a trailing slash (str).");

static PyObject *Context_get_root(ContextObject *self, void *closure UNUSED)
{
	berth_ctx *ctx = context_get(self);

	return ctx ? path_from_c(berth_ctx_root(ctx)) : NULL;
}

PyDoc_STRVAR(Context_runroot_doc,
"The run root (ephemeral state) in use, an absolute path without a trailing\n"
"slash (str).");

static PyObject *Context_get_runroot(ContextObject *self, void *closure UNUSED)
{
	berth_ctx *ctx = context_get(self);

	return ctx ? path_from_c(berth_ctx_runroot(ctx)) : NULL;
}

PyDoc_STRVAR(Context_log_level_doc,
"The log level: \"error\", \"warn\", \"info\" or \"debug\" (str).");

static PyObject *Context_get_log_level(ContextObject *self, void *closure UNUSED)
{
	berth_ctx *ctx = context_get(self);

	return ctx ? PyUnicode_FromString(berth_log_level_name(berth_ctx_log_level(ctx))) : NULL;
}

PyDoc_STRVAR(Context_closed_doc, "True once close() has been called (bool).");

static PyObject *Context_get_closed(ContextObject *self, void *closure UNUSED)
{
	return PyBool_FromLong(self->ctx == NULL);
}

/* A failed call on self's context: raises its exception; NULL. */
PyObject *context_raise(ContextObject *self, int rc, berth_error *err)
{
	module_state *st = state_from_type(Py_TYPE(self));

	if (st)
		return raise_berth_error(st, rc, err);
	berth_error_free(err);
	return NULL;
}

PyDoc_STRVAR(Context_image_hold_doc,
"image_hold($self, /, name, holder)\n--\n\n"
"Hold the image's manifest for holder (berth_image_hold): while held, image\n"
"removal refuses (naming the holders) unless forced, and gc keeps its\n"
"blobs. name: a reference, image ID, manifest digest, or the digest of any\n"
"manifest in the store; holder: a name such as \"container:<id>\" (1 to 255\n"
"printable characters, no spaces). Holding twice is not an error. Returns\n"
"the manifest digest held (str), to release with image_release().\n"
"Raises berth.NotFoundError, berth.InvalidArgumentError.\n"
"The GIL is released during the call.");

static PyObject *Context_image_hold(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "holder", NULL };
	berth_ctx *ctx = context_get(self);
	const char *name, *holder;
	berth_error *err = NULL;
	char *digest = NULL;
	PyObject *r;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:image_hold", kwlist, &name, &holder))
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_image_hold(ctx, name, holder, &digest, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0)
		return context_raise(self, rc, err);
	r = PyUnicode_FromString(digest);
	free(digest);
	return r;
}

PyDoc_STRVAR(Context_image_release_doc,
"image_release($self, /, digest, holder)\n--\n\n"
"Drop holder's hold on the manifest digest (berth_image_release). An image\n"
"left untagged and unheld is freed by the next collection.\n"
"Raises berth.NotFoundError when holder does not hold digest.\n"
"The GIL is released during the call.");

static PyObject *Context_image_release(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "digest", "holder", NULL };
	berth_ctx *ctx = context_get(self);
	const char *digest, *holder;
	berth_error *err = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:image_release", kwlist, &digest, &holder))
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_image_release(ctx, digest, holder, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0)
		return context_raise(self, rc, err);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Context_image_holds_doc,
"image_holds($self, /, name=None)\n--\n\n"
"The holds on an image (its manifest and, for an index, the manifests it\n"
"lists), or on every manifest when name is None: a list of\n"
"(digest, holder) tuples of str (berth_image_holds_new).\n"
"Raises berth.NotFoundError for an unknown name.\n"
"The GIL is released while the library reads them.");

static PyObject *Context_image_holds(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", NULL };
	berth_ctx *ctx = context_get(self);
	const char *name = NULL;
	berth_image_holds *h = NULL;
	berth_error *err = NULL;
	PyObject *list;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "|z:image_holds", kwlist, &name))
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_image_holds_new(ctx, name, &h, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0)
		return context_raise(self, rc, err);
	if ((list = PyList_New(0))) {
		for (size_t i = 0; i < berth_image_holds_count(h); i++) {
			PyObject *t = Py_BuildValue("(ss)", berth_image_holds_digest(h, i),
						    berth_image_holds_holder(h, i));

			if (!t || PyList_Append(list, t) < 0) {
				Py_XDECREF(t);
				Py_CLEAR(list);
				break;
			}
			Py_DECREF(t);
		}
	}
	berth_image_holds_free(h);
	return list;
}

static PyMethodDef Context_methods[] = {
	{ "info", (PyCFunction)Context_info, METH_NOARGS, Context_info_doc },
	CONTAINER_METHODS
	OPS_METHODS
	VOLUME_METHODS
	NETWORK_METHODS
	{ "image_hold", (PyCFunction)(void (*)(void))Context_image_hold, METH_VARARGS | METH_KEYWORDS,
	  Context_image_hold_doc },
	{ "image_release", (PyCFunction)(void (*)(void))Context_image_release, METH_VARARGS | METH_KEYWORDS,
	  Context_image_release_doc },
	{ "image_holds", (PyCFunction)(void (*)(void))Context_image_holds, METH_VARARGS | METH_KEYWORDS,
	  Context_image_holds_doc },
	{ "close", (PyCFunction)Context_close, METH_NOARGS, Context_close_doc },
	{ "__enter__", (PyCFunction)Context_enter, METH_NOARGS, Context_enter_doc },
	{ "__exit__", (PyCFunction)Context_exit, METH_VARARGS, Context_exit_doc },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef Context_getset[] = {
	{ "root", (getter)Context_get_root, NULL, Context_root_doc, NULL },
	{ "runroot", (getter)Context_get_runroot, NULL, Context_runroot_doc, NULL },
	{ "log_level", (getter)Context_get_log_level, NULL, Context_log_level_doc, NULL },
	{ "closed", (getter)Context_get_closed, NULL, Context_closed_doc, NULL },
	{ "runtime", (getter)berthpy_context_runtime, NULL,
	  "A berth.Runtime over the context's default state root\n"
	  "(<runroot>/runtime); berth.Runtime(ctx, root=...) for another.", NULL },
	{ "images", (getter)berthpy_context_images, NULL,
	  "The image store: pull, list, get, remove, prune, tag (berth.ImageCollection).", NULL },
	{ "storage", (getter)berthpy_context_storage, NULL,
	  "Layers, image mounts, snapshots, copies, usage (berth.Storage).", NULL },
	{ "cgroups", (getter)berthpy_context_cgroups, NULL,
	  "Control groups: detect, info, create, open (berth.Cgroups).", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyMemberDef Context_members[] = {
	{ "__weaklistoffset__", T_PYSSIZET, offsetof(ContextObject, weakreflist), READONLY, NULL },
	{ NULL, 0, 0, 0, NULL },
};

PyDoc_STRVAR(Context_doc,
"Context(root=None, *, runroot=None, log=None, log_level=\"warn\")\n--\n\n"
"A berth context: a store and its settings. Every other berth object\n"
"belongs to one.\n\n"
"root, runroot: absolute paths (str, bytes or os.PathLike) of the store and\n"
"  of its ephemeral state; None picks the library's default (/var/lib/berth\n"
"  and /run/berth for root, XDG directories otherwise). Trailing slashes are\n"
"  dropped. A relative path raises berth.InvalidArgumentError.\n"
"log: None, or a callable(level, module, message) taking three str, called\n"
"  for each line the library logs at log_level or more severe, from whatever\n"
"  thread logs it (with the GIL held). If it raises, the exception is passed\n"
"  to sys.unraisablehook and the library goes on. The context keeps a\n"
"  reference to it until close().\n"
"log_level: \"error\", \"warn\" (or \"warning\"), \"info\" or \"debug\"; other\n"
"  values raise berth.InvalidArgumentError.\n\n"
"Nothing is created on disk until a module needs it. Use it as a context\n"
"manager, or call close(), to free it at a known time.");

static PyType_Slot Context_slots[] = {
	{ Py_tp_doc, (void *)Context_doc },
	{ Py_tp_new, Context_new },
	{ Py_tp_dealloc, Context_dealloc },
	{ Py_tp_traverse, Context_traverse },
	{ Py_tp_clear, Context_clear },
	{ Py_tp_repr, Context_repr },
	{ Py_tp_methods, Context_methods },
	{ Py_tp_getset, Context_getset },
	{ Py_tp_members, Context_members },
	{ 0, NULL },
};

static PyType_Spec Context_spec = {
	.name = "berth.Context",
	.basicsize = sizeof(ContextObject),
	.itemsize = 0,
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.slots = Context_slots,
};

/* ---- module functions ------------------------------------------------- */

PyDoc_STRVAR(version_doc,
"version($module, /)\n--\n\n"
"The version of the loaded libberth, \"MAJOR.MINOR.PATCH\".");

static PyObject *berth_py_version(PyObject *module UNUSED, PyObject *unused UNUSED)
{
	return PyUnicode_FromString(berth_version(NULL, NULL, NULL));
}

PyDoc_STRVAR(has_feature_doc,
"has_feature($module, name, /)\n--\n\n"
"True when this build of libberth has the feature and the host can provide\n"
"it now (\"seccomp\", \"digest\", ...). Unknown names give False.");

static PyObject *berth_py_has_feature(PyObject *module UNUSED, PyObject *arg)
{
	const char *name;
	Py_ssize_t len;

	if (!PyUnicode_Check(arg))
		return PyErr_Format(PyExc_TypeError, "has_feature: name must be str, not %.100s",
				    Py_TYPE(arg)->tp_name);
	if (!(name = PyUnicode_AsUTF8AndSize(arg, &len)))
		return NULL;
	if ((size_t)len != strlen(name)) /* no feature name holds a NUL */
		Py_RETURN_FALSE;
	return PyBool_FromLong(berth_has_feature(name));
}

PyDoc_STRVAR(features_doc,
"features($module, /)\n--\n\n"
"A list[str] of every feature name this version of libberth knows, whether or not this\n"
"build or host has it; filter with has_feature() for the available ones.");

static PyObject *berth_py_features(PyObject *module UNUSED, PyObject *unused UNUSED)
{
	PyObject *list = PyList_New(0);

	if (!list)
		return NULL;
	for (const char *const *f = berth_feature_names(); f && *f; f++) {
		PyObject *name = PyUnicode_FromString(*f);

		if (!name || PyList_Append(list, name) < 0) {
			Py_XDECREF(name);
			Py_DECREF(list);
			return NULL;
		}
		Py_DECREF(name);
	}
	return list;
}

static PyMethodDef module_methods[] = {
	{ "version", berth_py_version, METH_NOARGS, version_doc },
	{ "has_feature", berth_py_has_feature, METH_O, has_feature_doc },
	{ "features", berth_py_features, METH_NOARGS, features_doc },
	{ NULL, NULL, 0, NULL },
};

/* ---- the module ----------------------------------------------------- */

/* docker-py's object layer (ctx.containers, ctx.volumes, ctx.networks,
 * Container, ContainerError...) is Python over the flat Context methods:
 * _berth_objects.py, installed beside this module, adds it to the module. */
static int install_objects(PyObject *module)
{
	PyObject *objects = PyImport_ImportModule("_berth_objects");
	PyObject *done = objects ? PyObject_CallMethod(objects, "_install", "O", module) : NULL;

	Py_XDECREF(objects);
	Py_XDECREF(done);
	return done ? 0 : -1;
}

static int berth_exec(PyObject *module)
{
	module_state *st = get_state(module);
	int major = 0, minor = 0, patch = 0;
	const char *version = berth_version(&major, &minor, &patch);
	PyObject *info;
	int rc;

	if (add_error_classes(module, st) < 0)
		return -1;
	if (!(st->context_type = PyType_FromModuleAndSpec(module, &Context_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->context_type) < 0)
		return -1;
	if (berthpy_runtime_init(module, st) < 0 || berthpy_image_init(module, st) < 0 ||
	    berthpy_storage_init(module, st) < 0 || berthpy_cgroup_init(module, st) < 0)
		return -1;
	if (PyModule_AddStringConstant(module, "__version__", version) < 0)
		return -1;
	if (!(info = Py_BuildValue("(iii)", major, minor, patch)))
		return -1;
	rc = PyModule_AddObjectRef(module, "version_info", info);
	Py_DECREF(info);
	return rc < 0 ? -1 : install_objects(module);
}

static int berth_traverse(PyObject *module, visitproc visit, void *arg)
{
	module_state *st = get_state(module);

	Py_VISIT(st->context_type);
	for (int i = 0; i < N_CODES; i++)
		Py_VISIT(st->errors[i]);
	if (berthpy_image_traverse(st, visit, arg) || berthpy_storage_traverse(st, visit, arg) ||
	    berthpy_cgroup_traverse(st, visit, arg))
		return -1;
	return berthpy_runtime_traverse(st, visit, arg);
}

static int berth_clear(PyObject *module)
{
	module_state *st = get_state(module);

	Py_CLEAR(st->context_type);
	for (int i = 0; i < N_CODES; i++)
		Py_CLEAR(st->errors[i]);
	berthpy_runtime_clear(st);
	berthpy_image_clear(st);
	berthpy_storage_clear(st);
	berthpy_cgroup_clear(st);
	return 0;
}

static void berth_free(void *module)
{
	berth_clear(module);
}

static PyModuleDef_Slot berth_slots[] = {
	{ Py_mod_exec, (void *)berth_exec },
	{ 0, NULL },
};

PyDoc_STRVAR(berth_doc,
"berth: containers from Python, through libberth.\n\n"
"    import berth\n"
"    with berth.Context(root=\"/tmp/store\", runroot=\"/tmp/run\") as ctx:\n"
"        print(ctx.info())\n"
"        p = ctx.runtime.create(\"c1\", \"/path/to/bundle\", stdio=(None, w, w))\n"
"        ctx.runtime.start(\"c1\"); print(p.wait(timeout=10).code)\n\n"
"Runtime and Process bind the OCI runtime (containers from bundles);\n"
"version(), __version__ and version_info describe the loaded library;\n"
"has_feature() and features() what this build and host can do.\n\n"
"Every failing library call raises a subclass of berth.Error chosen by the\n"
"library's error code (berth.errors maps code names such as \"EINVAL\" to the\n"
"classes); some also derive from the matching built-in exception\n"
"(InvalidArgumentError is a ValueError, NotFoundError a LookupError,\n"
"OutOfMemoryError a MemoryError, SystemCallError an OSError, TimeoutError the\n"
"built-in TimeoutError).");

static struct PyModuleDef berth_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "berth",
	.m_doc = berth_doc,
	.m_size = sizeof(module_state),
	.m_methods = module_methods,
	.m_slots = berth_slots,
	.m_traverse = berth_traverse,
	.m_clear = berth_clear,
	.m_free = berth_free,
};

PyMODINIT_FUNC PyInit_berth(void)
{
	return PyModuleDef_Init(&berth_module);
}
