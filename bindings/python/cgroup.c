/* Control groups (include/berth/cgroup.h) from Python: ctx.cgroups
 * (detect, info, create, open) and berth.Cgroup, one container's cgroup
 * (attach, set_resources, freeze, thaw, kill, pids, stats, remove). A
 * Cgroup keeps its context alive and refuses calls once it is closed. */
#include "berthpy.h"

#include <stdlib.h>

typedef HolderObject CgroupsObject;

typedef struct {
	PyObject_HEAD
	ContextObject *ctx; /* strong */
	berth_cgroup *cg;   /* NULL once closed */
} CgroupObject;

static PyObject *Cgroups_detect(CgroupsObject *self, PyObject *unused UNUSED)
{
	berth_cgroup_mode mode = BERTH_CGROUP_NONE;
	berth_error *err = NULL;
	char *controllers = NULL;
	PyObject *names, *r;
	int rc;

	if (!context_get(self->ctx))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_cgroup_detect(&mode, &controllers, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	names = PyUnicode_FromString(controllers ? controllers : "");
	berth_string_free(controllers);
	if (!names)
		return NULL;
	r = PyObject_CallMethod(names, "split", NULL);
	Py_DECREF(names);
	return r ? Py_BuildValue("(sN)", berth_cgroup_mode_name(mode), r) : NULL;
}

static PyObject *Cgroups_info(CgroupsObject *self, PyObject *unused UNUSED)
{
	berth_info *info = NULL;
	berth_error *err = NULL;
	PyObject *d;
	int rc;

	if (!context_get(self->ctx))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_cgroup_info_new(&info, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	d = PyDict_New();
	for (size_t i = 0; d && i < berth_info_count(info); i++) {
		PyObject *v = text_from_c(berth_info_value(info, i));

		if (!v || PyDict_SetItemString(d, berth_info_key(info, i), v) < 0)
			Py_CLEAR(d);
		Py_XDECREF(v);
	}
	/* the library's own lookup, so a missing "mode" is a bug seen here */
	if (d && !berth_info_lookup(info, "mode")) {
		Py_CLEAR(d);
		PyErr_SetString(PyExc_RuntimeError, "cgroup info without a mode");
	}
	berth_info_free(info);
	return d;
}

static PyObject *cgroup_make(CgroupsObject *self, PyObject *args, PyObject *kwargs, int create)
{
	static char *kwlist[] = { "id", "path", NULL };
	module_state *st = state_from_type(Py_TYPE(self));
	berth_ctx *ctx = context_get(self->ctx);
	berth_cgroup *cg = NULL;
	berth_error *err = NULL;
	const char *id, *path = NULL;
	CgroupObject *obj;
	int rc;

	if (!st || !ctx ||
	    !PyArg_ParseTupleAndKeywords(args, kwargs, create ? "s|z:create" : "s|z:open", kwlist, &id, &path))
		return NULL;
	if (create)
		UNLOCKED(self->ctx, rc = berth_cgroup_create(ctx, path, id, &cg, &err));
	else
		UNLOCKED(self->ctx, rc = berth_cgroup_open(ctx, path, id, &cg, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	if (!(obj = PyObject_GC_New(CgroupObject, (PyTypeObject *)st->cgroup_type))) {
		berth_cgroup_free(cg);
		return NULL;
	}
	obj->ctx = (ContextObject *)Py_NewRef(self->ctx);
	obj->cg = cg;
	PyObject_GC_Track(obj);
	return (PyObject *)obj;
}

static PyObject *Cgroups_create(CgroupsObject *self, PyObject *args, PyObject *kwargs)
{
	return cgroup_make(self, args, kwargs, 1);
}

static PyObject *Cgroups_open(CgroupsObject *self, PyObject *args, PyObject *kwargs)
{
	return cgroup_make(self, args, kwargs, 0);
}

static PyMethodDef Cgroups_methods[] = {
	{ "detect", (PyCFunction)Cgroups_detect, METH_NOARGS,
	  "detect($self, /)\n--\n\nThe host's cgroup mode (\"none\", \"v1\", \"v2\", \"hybrid\") and its\n"
	  "available controllers: (mode, [names])." },
	{ "info", (PyCFunction)Cgroups_info, METH_NOARGS,
	  "info($self, /)\n--\n\nWhat the cgroup module sees: a dict of mode, v1.controllers,\n"
	  "v2.controllers, v2.delegated (space separated str)." },
	{ "create", (PyCFunction)(void (*)(void))Cgroups_create, METH_VARARGS | METH_KEYWORDS,
	  "create($self, /, id, path=None)\n--\n\nCreate a container's cgroup from an OCI cgroupsPath (absolute, or\n"
	  "relative to this process's cgroup; None: \"/berth/<id>\"): a berth.Cgroup.\n"
	  "berth.ExistsError when it exists, berth.PathEscapeError for \"..\"." },
	{ "open", (PyCFunction)(void (*)(void))Cgroups_open, METH_VARARGS | METH_KEYWORDS,
	  "open($self, /, id, path=None)\n--\n\nOpen a cgroup create() made: a berth.Cgroup.\n"
	  "berth.NotFoundError when it is missing." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef Cgroups_getset[] = {
	{ "context", context_holder_context, NULL, "The berth.Context it belongs to.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot Cgroups_slots[] = {
	{ Py_tp_doc, (void *)"ctx.cgroups: control groups for containers (berth/cgroup.h)." },
	{ Py_tp_dealloc, context_holder_dealloc },
	{ Py_tp_traverse, context_holder_traverse },
	{ Py_tp_clear, context_holder_clear },
	{ Py_tp_methods, Cgroups_methods },
	{ Py_tp_getset, Cgroups_getset },
	{ 0, NULL },
};

static PyType_Spec Cgroups_spec = {
	.name = "berth.Cgroups",
	.basicsize = sizeof(CgroupsObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Cgroups_slots,
};

/* ---- Cgroup ------------------------------------------------------------------ */

/* The handle, once the context and the handle are checked open. */
static berth_cgroup *cgroup_get(CgroupObject *self)
{
	module_state *st;

	if (!context_get(self->ctx))
		return NULL;
	if (!self->cg && (st = state_from_type(Py_TYPE(self))))
		raise_error(st, BERTH_ESTATE, 0, "cgroup handle is closed");
	return self->cg;
}

static int Cgroup_traverse(CgroupObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->ctx);
	return 0;
}

static int Cgroup_clear(CgroupObject *self)
{
	Py_CLEAR(self->ctx);
	return 0;
}

static void Cgroup_dealloc(CgroupObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	PyObject_GC_UnTrack(self);
	berth_cgroup_free(self->cg);
	Cgroup_clear(self);
	tp->tp_free(self);
	Py_DECREF(tp);
}

/* One call f(cg, &err) with the GIL released. */
static PyObject *cg_call(CgroupObject *self, int (*fn)(berth_cgroup *, berth_error **))
{
	berth_cgroup *cg = cgroup_get(self);
	berth_error *err = NULL;
	int rc;

	if (!cg)
		return NULL;
	UNLOCKED(self->ctx, rc = fn(cg, &err));
	return DONE(self->ctx, rc, err);
}

static PyObject *Cgroup_freeze(CgroupObject *self, PyObject *unused UNUSED)
{
	return cg_call(self, berth_cgroup_freeze);
}

static PyObject *Cgroup_thaw(CgroupObject *self, PyObject *unused UNUSED)
{
	return cg_call(self, berth_cgroup_thaw);
}

static PyObject *Cgroup_kill(CgroupObject *self, PyObject *unused UNUSED)
{
	return cg_call(self, berth_cgroup_kill);
}

static PyObject *Cgroup_remove(CgroupObject *self, PyObject *unused UNUSED)
{
	return cg_call(self, berth_cgroup_remove);
}

static PyObject *Cgroup_attach(CgroupObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "pid", NULL };
	berth_cgroup *cg = cgroup_get(self);
	berth_error *err = NULL;
	int pid, rc;

	if (!cg || !PyArg_ParseTupleAndKeywords(args, kwargs, "i:attach", kwlist, &pid))
		return NULL;
	UNLOCKED(self->ctx, rc = berth_cgroup_attach(cg, pid, &err));
	return DONE(self->ctx, rc, err);
}

static PyObject *Cgroup_set_resources(CgroupObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "resources", NULL };
	berth_cgroup *cg = cgroup_get(self);
	PyObject *obj, *keep = NULL;
	berth_error *err = NULL;
	const char *json;
	int rc;

	if (!cg || !PyArg_ParseTupleAndKeywords(args, kwargs, "O:set_resources", kwlist, &obj) ||
	    json_text(obj, &keep, &json) < 0)
		return NULL;
	if (!json) {
		PyErr_SetString(PyExc_TypeError, "set_resources: resources must be a dict or JSON text, not None");
		return NULL;
	}
	UNLOCKED(self->ctx, rc = berth_cgroup_set_resources(cg, json, &err));
	Py_DECREF(keep);
	return DONE(self->ctx, rc, err);
}

static PyObject *Cgroup_pids(CgroupObject *self, PyObject *unused UNUSED)
{
	berth_cgroup *cg = cgroup_get(self);
	berth_error *err = NULL;
	int *pids = NULL, rc;
	size_t n = 0;
	PyObject *list;

	if (!cg)
		return NULL;
	UNLOCKED(self->ctx, rc = berth_cgroup_pids(cg, &pids, &n, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list && i < n; i++) {
		PyObject *p = PyLong_FromLong(pids[i]);

		if (!p) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, p);
	}
	berth_cgroup_pids_free(pids);
	return list;
}

/* A statistic: None where the host does not report it, "max" when unlimited. */
static PyObject *stat_value(uint64_t v)
{
	if (v == BERTH_CGROUP_UNKNOWN)
		Py_RETURN_NONE;
	if (v == BERTH_CGROUP_UNLIMITED)
		return PyUnicode_FromString("max");
	return PyLong_FromUnsignedLongLong(v);
}

static PyObject *Cgroup_stats(CgroupObject *self, PyObject *unused UNUSED)
{
	berth_cgroup_stats s = BERTH_CGROUP_STATS_INIT;
	berth_cgroup *cg = cgroup_get(self);
	berth_error *err = NULL;
	int rc;

	if (!cg)
		return NULL;
	UNLOCKED(self->ctx, rc = berth_cgroup_stats_get(cg, &s, &err));
	if (rc < 0)
		return context_raise(self->ctx, rc, err);
	return Py_BuildValue("{s:N, s:N, s:N, s:N, s:N, s:N, s:N, s:N}", "memory_usage", stat_value(s.memory_usage),
			     "memory_peak", stat_value(s.memory_peak), "memory_limit", stat_value(s.memory_limit),
			     "oom_kills", stat_value(s.oom_kills), "oom_events", stat_value(s.oom_events),
			     "cpu_usage_ns", stat_value(s.cpu_usage_ns), "pids_current", stat_value(s.pids_current),
			     "pids_limit", stat_value(s.pids_limit));
}

static PyObject *Cgroup_close(CgroupObject *self, PyObject *unused UNUSED)
{
	berth_cgroup_free(self->cg);
	self->cg = NULL;
	Py_RETURN_NONE;
}

static PyObject *Cgroup_enter(CgroupObject *self, PyObject *unused UNUSED)
{
	return cgroup_get(self) ? Py_NewRef(self) : NULL;
}

static PyObject *Cgroup_get_path(CgroupObject *self, void *closure UNUSED)
{
	berth_cgroup *cg = cgroup_get(self);

	return cg ? path_from_c(berth_cgroup_path(cg)) : NULL;
}

static PyObject *Cgroup_repr(CgroupObject *self)
{
	if (!self->cg)
		return PyUnicode_FromString("<berth.Cgroup (closed)>");
	return PyUnicode_FromFormat("<berth.Cgroup %s>", berth_cgroup_path(self->cg));
}

#define NOARGS(name, doc) { #name, (PyCFunction)Cgroup_##name, METH_NOARGS, doc }
static PyMethodDef Cgroup_methods[] = {
	{ "attach", (PyCFunction)(void (*)(void))Cgroup_attach, METH_VARARGS | METH_KEYWORDS,
	  "attach($self, /, pid)\n--\n\nMove process pid into the cgroup in every hierarchy." },
	{ "set_resources", (PyCFunction)(void (*)(void))Cgroup_set_resources, METH_VARARGS | METH_KEYWORDS,
	  "set_resources($self, /, resources)\n--\n\nApply an OCI linux.resources object (dict or JSON text); every\n"
	  "field is checked first and nothing is written when one fails." },
	NOARGS(freeze, "freeze($self, /)\n--\n\nFreeze every process and wait until the kernel says frozen."),
	NOARGS(thaw, "thaw($self, /)\n--\n\nLet the frozen processes run again."),
	NOARGS(kill, "kill($self, /)\n--\n\nSIGKILL every process in it and wait until it is empty."),
	NOARGS(pids, "pids($self, /)\n--\n\nThe pids in the cgroup (list of int)."),
	NOARGS(stats, "stats($self, /)\n--\n\nmemory_usage, memory_peak, memory_limit, oom_kills, oom_events,\n"
		      "cpu_usage_ns, pids_current, pids_limit: int, \"max\" when unlimited, None\n"
		      "when the host does not report it."),
	NOARGS(remove, "remove($self, /)\n--\n\nRemove the cgroup (and the parents it made, when empty).\n"
		       "berth.BusyError when processes remain."),
	NOARGS(close, "close($self, /)\n--\n\nFree the handle; the cgroup itself stays."),
	{ "__enter__", (PyCFunction)Cgroup_enter, METH_NOARGS, "The cgroup itself." },
	{ "__exit__", (PyCFunction)Cgroup_close, METH_VARARGS, "close(); the cgroup stays." },
	{ NULL, NULL, 0, NULL },
};
#undef NOARGS

static PyGetSetDef Cgroup_getset[] = {
	{ "path", (getter)Cgroup_get_path, NULL, "Its path below the hierarchy root (\"/berth/c1\").", NULL },
	{ "context", context_holder_context, NULL, "The berth.Context it belongs to.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot Cgroup_slots[] = {
	{ Py_tp_doc, (void *)"One container's cgroup in every hierarchy (ctx.cgroups.create/open)." },
	{ Py_tp_dealloc, Cgroup_dealloc },
	{ Py_tp_traverse, Cgroup_traverse },
	{ Py_tp_clear, Cgroup_clear },
	{ Py_tp_repr, Cgroup_repr },
	{ Py_tp_methods, Cgroup_methods },
	{ Py_tp_getset, Cgroup_getset },
	{ 0, NULL },
};

static PyType_Spec Cgroup_spec = {
	.name = "berth.Cgroup",
	.basicsize = sizeof(CgroupObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Cgroup_slots,
};

PyObject *berthpy_context_cgroups(ContextObject *self, void *closure UNUSED)
{
	module_state *st = state_from_type(Py_TYPE(self));

	return context_holder_new(st, st ? st->cgroups_type : NULL, self);
}

int berthpy_cgroup_init(PyObject *module, module_state *st)
{
	if (!(st->cgroups_type = PyType_FromModuleAndSpec(module, &Cgroups_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->cgroups_type) < 0)
		return -1;
	if (!(st->cgroup_type = PyType_FromModuleAndSpec(module, &Cgroup_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->cgroup_type) < 0)
		return -1;
	return 0;
}

int berthpy_cgroup_traverse(module_state *st, visitproc visit, void *arg)
{
	Py_VISIT(st->cgroups_type);
	Py_VISIT(st->cgroup_type);
	return 0;
}

void berthpy_cgroup_clear(module_state *st)
{
	Py_CLEAR(st->cgroups_type);
	Py_CLEAR(st->cgroup_type);
}
