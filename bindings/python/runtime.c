/* berth.Runtime and berth.Process: the OCI runtime (include/berth/runtime.h)
 * from Python. A Runtime keeps its Context alive and checks that it is open
 * before every call (a closed Context makes calls raise berth.StateError,
 * never crash); a Process keeps its Runtime alive. Every call that can block
 * (create, wait, delete, exec, ...) runs with the GIL released, counted in
 * the Context's `uses` so close() refuses meanwhile. */
#include "berthpy.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

typedef struct {
	PyObject_HEAD
	ContextObject *ctx; /* strong */
	berth_runtime *rt;
} RuntimeObject;

typedef struct {
	PyObject_HEAD
	RuntimeObject *runtime;   /* strong */
	berth_runtime_process *p; /* NULL once closed */
	PyObject *id;             /* the container's id (str) */
	unsigned long uses;       /* waits in progress */
} ProcessObject;

/* ---- helpers ---------------------------------------------------------------- */

/* The runtime, once its context is checked open and marked in use; NULL
 * with StateError raised. Pair with done(). */
static berth_runtime *begin(RuntimeObject *self)
{
	if (!context_get(self->ctx))
		return NULL;
	self->ctx->uses++;
	return self->rt;
}

static void done(RuntimeObject *self)
{
	self->ctx->uses--;
}

static PyObject *fail(PyObject *obj, int rc, berth_error *err)
{
	module_state *st = state_from_type(Py_TYPE(obj));

	if (st)
		return raise_berth_error(st, rc, err);
	berth_error_free(err);
	return NULL;
}

/* JSON text from str (as it is) or any object json.dumps takes; a new
 * bytes-like reference in *keep, the text in *out. None gives NULL. */
int json_text(PyObject *obj, PyObject **keep, const char **out)
{
	PyObject *json, *text;

	*keep = NULL;
	*out = NULL;
	if (obj == Py_None)
		return 0;
	if (PyUnicode_Check(obj)) {
		text = Py_NewRef(obj);
	} else {
		if (!(json = PyImport_ImportModule("json")))
			return -1;
		text = PyObject_CallMethod(json, "dumps", "O", obj);
		Py_DECREF(json);
		if (!text)
			return -1;
	}
	*keep = PyUnicode_AsUTF8String(text);
	Py_DECREF(text);
	if (!*keep)
		return -1;
	*out = PyBytes_AS_STRING(*keep);
	return 0;
}

/* A dict (or list) from the library's JSON text, which is freed. */
static PyObject *json_value(char *text)
{
	PyObject *json = PyImport_ImportModule("json"), *r = NULL;

	if (json)
		r = PyObject_CallMethod(json, "loads", "s", text);
	Py_XDECREF(json);
	berth_string_free(text);
	return r;
}

/* A descriptor from an int, an object with fileno(), or None (-1). */
static int fd_of(PyObject *obj, int *fd)
{
	if (obj == Py_None) {
		*fd = -1;
		return 0;
	}
	*fd = PyObject_AsFileDescriptor(obj);
	return *fd < 0 && PyErr_Occurred() ? -1 : 0;
}

struct fdlist {
	int stdio[3];
	int *fds;
	size_t nfds;
	bool has_stdio;
};

/* stdio: None, or a sequence of three (int, file, or None for /dev/null);
 * fds: None or a sequence of descriptors that become 3, 4, ... */
static int fdlist_parse(PyObject *stdio, PyObject *fds, struct fdlist *l)
{
	PyObject *seq;

	memset(l, 0, sizeof(*l));
	if (stdio && stdio != Py_None) {
		if (!(seq = PySequence_Fast(stdio, "stdio must be a sequence of three")))
			return -1;
		if (PySequence_Fast_GET_SIZE(seq) != 3) {
			Py_DECREF(seq);
			PyErr_SetString(PyExc_ValueError, "stdio must be a sequence of three (stdin, stdout, stderr)");
			return -1;
		}
		for (int i = 0; i < 3; i++)
			if (fd_of(PySequence_Fast_GET_ITEM(seq, i), &l->stdio[i]) < 0) {
				Py_DECREF(seq);
				return -1;
			}
		Py_DECREF(seq);
		l->has_stdio = true;
	}
	if (fds && fds != Py_None) {
		if (!(seq = PySequence_Fast(fds, "fds must be a sequence")))
			return -1;
		l->nfds = (size_t)PySequence_Fast_GET_SIZE(seq);
		if (l->nfds && !(l->fds = PyMem_Calloc(l->nfds, sizeof(int)))) {
			Py_DECREF(seq);
			PyErr_NoMemory();
			return -1;
		}
		for (size_t i = 0; i < l->nfds; i++)
			if (fd_of(PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i), &l->fds[i]) < 0 || l->fds[i] < 0) {
				if (!PyErr_Occurred())
					PyErr_SetString(PyExc_ValueError, "fds: None is no descriptor");
				Py_DECREF(seq);
				PyMem_Free(l->fds);
				l->fds = NULL;
				return -1;
			}
		Py_DECREF(seq);
	}
	return 0;
}

static PyObject *exit_status(PyObject *obj, const berth_runtime_exit *e)
{
	module_state *st = state_from_type(Py_TYPE(obj));
	PyObject *r;

	if (!st || !(r = PyStructSequence_New((PyTypeObject *)st->exit_type)))
		return NULL;
	PyStructSequence_SetItem(r, 0, PyLong_FromLong(e->code));
	PyStructSequence_SetItem(r, 1, PyLong_FromLong(e->signal));
	PyStructSequence_SetItem(r, 2, PyBool_FromLong(e->oom_killed));
	for (int i = 0; i < 3; i++)
		if (!PyStructSequence_GetItem(r, i)) {
			Py_DECREF(r);
			return NULL;
		}
	return r;
}

static PyObject *process_new(RuntimeObject *rt, const char *id, berth_runtime_process *p)
{
	module_state *st = state_from_type(Py_TYPE(rt));
	PyTypeObject *type;
	ProcessObject *self;

	if (!st) {
		berth_runtime_process_free(p);
		return NULL;
	}
	type = (PyTypeObject *)st->process_type;
	if (!(self = (ProcessObject *)type->tp_alloc(type, 0))) {
		berth_runtime_process_free(p);
		return NULL;
	}
	self->runtime = (RuntimeObject *)Py_NewRef(rt);
	self->p = p;
	if (!(self->id = PyUnicode_DecodeFSDefault(id))) {
		Py_DECREF(self);
		return NULL;
	}
	return (PyObject *)self;
}

/* ---- Runtime ---------------------------------------------------------------- */

static PyObject *Runtime_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "context", "root", NULL };
	berth_runtime_opts o = BERTH_RUNTIME_OPTS_INIT;
	module_state *st = state_from_type(type);
	PyObject *ctx, *root = NULL;
	RuntimeObject *self = NULL;
	berth_error *err = NULL;
	berth_ctx *c;
	int rc;

	if (!st || !PyArg_ParseTupleAndKeywords(args, kwargs, "O!|$O&:Runtime", kwlist,
						(PyTypeObject *)st->context_type, &ctx, path_or_none, &root))
		return NULL;
	if (!(c = context_get((ContextObject *)ctx)))
		goto out;
	o.root = root ? PyBytes_AS_STRING(root) : NULL;
	if (!(self = (RuntimeObject *)type->tp_alloc(type, 0)))
		goto out;
	self->ctx = (ContextObject *)Py_NewRef(ctx);
	if ((rc = berth_runtime_new(c, &o, &self->rt, &err)) < 0) {
		raise_berth_error(st, rc, err);
		Py_CLEAR(self);
	}
out:
	Py_XDECREF(root);
	return (PyObject *)self;
}

static void Runtime_dealloc(RuntimeObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	berth_runtime_free(self->rt); /* touches no context */
	Py_XDECREF(self->ctx);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyObject *Runtime_repr(RuntimeObject *self)
{
	PyObject *root = path_from_c(berth_runtime_root(self->rt)), *r;

	if (!root)
		return NULL;
	r = PyUnicode_FromFormat("<berth.Runtime root=%R>", root);
	Py_DECREF(root);
	return r;
}

static PyObject *Runtime_get_root(RuntimeObject *self, void *closure UNUSED)
{
	return path_from_c(berth_runtime_root(self->rt));
}

static PyObject *Runtime_get_context(RuntimeObject *self, void *closure UNUSED)
{
	return Py_NewRef(self->ctx);
}

PyDoc_STRVAR(Runtime_create_doc,
"create($self, id, bundle, /, *, config=None, stdio=None, fds=None,\n"
"       console_socket=None, pid_file=None, no_pivot=False, no_new_keyring=False)\n--\n\n"
"Create container `id` from the bundle directory: its process waits until\n"
"start(id). Returns its init as a berth.Process (the caller's child: wait\n"
"for it with Process.wait()).\n\n"
"config: the config as JSON text (str) or a dict, used instead of\n"
"  bundle/config.json (root.path still resolves against the bundle).\n"
"stdio: None (the process inherits this process's 0, 1 and 2) or three items,\n"
"  each an int descriptor, an object with fileno() or None (/dev/null).\n"
"fds: descriptors (ints or files) that become the process's 3, 4, ...\n"
"The GIL is released while the container is set up.");

static PyObject *Runtime_create(RuntimeObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "id", "bundle", "config", "stdio", "fds", "console_socket", "pid_file",
				  "no_pivot", "no_new_keyring", NULL };
	berth_runtime_create_opts o = BERTH_RUNTIME_CREATE_OPTS_INIT;
	PyObject *bundle = NULL, *config = Py_None, *stdio = Py_None, *fds = Py_None, *keep = NULL;
	PyObject *console = NULL, *pidfile = NULL, *r = NULL;
	const char *id, *text;
	berth_runtime_process *p = NULL;
	berth_error *err = NULL;
	berth_runtime *rt;
	struct fdlist l = { 0 };
	int no_pivot = 0, no_keyring = 0, rc;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO&|$OOOO&O&pp:create", kwlist, &id,
					 PyUnicode_FSConverter, &bundle, &config, &stdio, &fds, path_or_none,
					 &console, path_or_none, &pidfile, &no_pivot, &no_keyring))
		goto out;
	if (json_text(config, &keep, &text) < 0 || fdlist_parse(stdio, fds, &l) < 0)
		goto out;
	o.console_socket = console ? PyBytes_AS_STRING(console) : NULL;
	o.pid_file = pidfile ? PyBytes_AS_STRING(pidfile) : NULL;
	o.no_pivot = no_pivot;
	o.no_new_keyring = no_keyring;
	o.stdio = l.has_stdio ? l.stdio : NULL;
	o.fds = l.fds;
	o.nfds = l.nfds;
	if (!(rt = begin(self)))
		goto out;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_create(rt, id, PyBytes_AS_STRING(bundle), text, &o, &p, &err);
	Py_END_ALLOW_THREADS
	done(self);
	r = rc < 0 ? fail((PyObject *)self, rc, err) : process_new(self, id, p);
out:
	PyMem_Free(l.fds);
	Py_XDECREF(keep);
	Py_XDECREF(bundle);
	Py_XDECREF(console);
	Py_XDECREF(pidfile);
	return r;
}

PyDoc_STRVAR(Runtime_exec_doc,
"exec($self, id, process, /, *, stdio=None, fds=None, console_socket=None,\n"
"     pid_file=None)\n--\n\n"
"Run a new process in running container `id`: `process` is a runtime-spec\n"
"process object (a dict, or its JSON text). stdio and fds as for create().\n"
"Returns a berth.Process. The GIL is released meanwhile.");

static PyObject *Runtime_exec(RuntimeObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "id", "process", "stdio", "fds", "console_socket", "pid_file", NULL };
	berth_runtime_exec_opts o = BERTH_RUNTIME_EXEC_OPTS_INIT;
	PyObject *process, *stdio = Py_None, *fds = Py_None, *keep = NULL, *console = NULL, *pidfile = NULL;
	PyObject *r = NULL;
	const char *id, *text;
	berth_runtime_process *p = NULL;
	berth_error *err = NULL;
	berth_runtime *rt;
	struct fdlist l = { 0 };
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO|$OOO&O&:exec", kwlist, &id, &process, &stdio, &fds,
					 path_or_none, &console, path_or_none, &pidfile))
		return NULL;
	if (json_text(process, &keep, &text) < 0 || fdlist_parse(stdio, fds, &l) < 0)
		goto out;
	if (!text) {
		PyErr_SetString(PyExc_TypeError, "exec: process must be a dict or JSON text");
		goto out;
	}
	o.console_socket = console ? PyBytes_AS_STRING(console) : NULL;
	o.pid_file = pidfile ? PyBytes_AS_STRING(pidfile) : NULL;
	o.stdio = l.has_stdio ? l.stdio : NULL;
	o.fds = l.fds;
	o.nfds = l.nfds;
	if (!(rt = begin(self)))
		goto out;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_exec(rt, id, text, &o, &p, &err);
	Py_END_ALLOW_THREADS
	done(self);
	r = rc < 0 ? fail((PyObject *)self, rc, err) : process_new(self, id, p);
out:
	PyMem_Free(l.fds);
	Py_XDECREF(keep);
	Py_XDECREF(console);
	Py_XDECREF(pidfile);
	return r;
}

/* The calls that take an id and return nothing. */
enum { DO_START, DO_PAUSE, DO_RESUME };

static PyObject *id_call(RuntimeObject *self, PyObject *arg, int what)
{
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id;
	int rc;

	if (!PyUnicode_Check(arg))
		return PyErr_Format(PyExc_TypeError, "id must be str, not %.100s", Py_TYPE(arg)->tp_name);
	if (!(id = PyUnicode_AsUTF8(arg)) || !(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = what == DO_START ? berth_runtime_start(rt, id, &err)
	     : what == DO_PAUSE ? berth_runtime_pause(rt, id, &err)
				: berth_runtime_resume(rt, id, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Runtime_start_doc, "start($self, id, /)\n--\n\nLet a created container's process run.");
static PyObject *Runtime_start(RuntimeObject *self, PyObject *arg)
{
	return id_call(self, arg, DO_START);
}

PyDoc_STRVAR(Runtime_pause_doc, "pause($self, id, /)\n--\n\nFreeze every process of the container.");
static PyObject *Runtime_pause(RuntimeObject *self, PyObject *arg)
{
	return id_call(self, arg, DO_PAUSE);
}

PyDoc_STRVAR(Runtime_resume_doc, "resume($self, id, /)\n--\n\nThaw a paused container.");
static PyObject *Runtime_resume(RuntimeObject *self, PyObject *arg)
{
	return id_call(self, arg, DO_RESUME);
}

PyDoc_STRVAR(Runtime_state_doc,
"state($self, id, /)\n--\n\n"
"The runtime-spec state of the container as a dict (ociVersion, id, status,\n"
"pid, bundle, ...).");

static PyObject *Runtime_state(RuntimeObject *self, PyObject *args)
{
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id;
	char *json = NULL;
	int rc;

	if (!PyArg_ParseTuple(args, "s:state", &id) || !(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_state(rt, id, &json, &err);
	Py_END_ALLOW_THREADS
	done(self);
	return rc < 0 ? fail((PyObject *)self, rc, err) : json_value(json);
}

PyDoc_STRVAR(Runtime_kill_doc,
"kill($self, id, signal=15, /, *, all=False)\n--\n\n"
"Send the signal to the container's init, or with all=True to every process\n"
"in its cgroup.");

static PyObject *Runtime_kill(RuntimeObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "id", "signal", "all", NULL };
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id;
	int sig = 15, all = 0, rc;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|i$p:kill", kwlist, &id, &sig, &all) || !(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_kill(rt, id, sig, all ? BERTH_RUNTIME_KILL_ALL : 0, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Runtime_delete_doc,
"delete($self, id, /, *, force=False)\n--\n\n"
"Remove a stopped or created container (with force=True a running one, killed\n"
"first): its processes, cgroup and state.");

static PyObject *Runtime_delete(RuntimeObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "id", "force", NULL };
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id;
	int force = 0, rc;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|$p:delete", kwlist, &id, &force) || !(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_delete(rt, id, force ? BERTH_RUNTIME_DELETE_FORCE : 0, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Runtime_ps_doc, "ps($self, id, /)\n--\n\nThe host pids of the container's processes (list[int]).");

static PyObject *Runtime_ps(RuntimeObject *self, PyObject *args)
{
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id;
	int *pids = NULL, rc;
	size_t n = 0;
	PyObject *list;

	if (!PyArg_ParseTuple(args, "s:ps", &id) || !(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_ps(rt, id, &pids, &n, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	if ((list = PyList_New((Py_ssize_t)n)))
		for (size_t i = 0; i < n; i++) {
			PyObject *v = PyLong_FromLong(pids[i]);

			if (!v) {
				Py_CLEAR(list);
				break;
			}
			PyList_SET_ITEM(list, (Py_ssize_t)i, v);
		}
	berth_runtime_pids_free(pids);
	return list;
}

PyDoc_STRVAR(Runtime_list_doc, "list($self, /)\n--\n\nThe ids of the containers under the root, sorted (list[str]).");

static PyObject *Runtime_list(RuntimeObject *self, PyObject *unused UNUSED)
{
	berth_error *err = NULL;
	berth_runtime *rt;
	char **ids = NULL;
	size_t n = 0;
	PyObject *list;
	int rc;

	if (!(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_list(rt, &ids, &n, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	if ((list = PyList_New((Py_ssize_t)n)))
		for (size_t i = 0; i < n; i++) {
			PyObject *v = PyUnicode_DecodeFSDefault(ids[i]);

			if (!v) {
				Py_CLEAR(list);
				break;
			}
			PyList_SET_ITEM(list, (Py_ssize_t)i, v);
		}
	berth_runtime_list_free(ids, n);
	return list;
}

PyDoc_STRVAR(Runtime_update_doc,
"update($self, id, resources, /)\n--\n\n"
"Apply an OCI linux.resources object (a dict or JSON text) to the container's\n"
"cgroup.");

static PyObject *Runtime_update(RuntimeObject *self, PyObject *args)
{
	PyObject *res, *keep = NULL;
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id, *text;
	int rc;

	if (!PyArg_ParseTuple(args, "sO:update", &id, &res) || json_text(res, &keep, &text) < 0)
		return NULL;
	if (!text || !(rt = begin(self))) {
		if (!text)
			PyErr_SetString(PyExc_TypeError, "update: resources must be a dict or JSON text");
		Py_XDECREF(keep);
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_update(rt, id, text, &err);
	Py_END_ALLOW_THREADS
	done(self);
	Py_XDECREF(keep);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Runtime_stats_doc,
"stats($self, id, /)\n--\n\n"
"Resource usage of the container's cgroup as a dict of ints: memory_usage,\n"
"memory_peak, memory_limit, oom_kills, oom_events, cpu_usage_ns,\n"
"pids_current, pids_limit, io_read_bytes, io_write_bytes (berth's UNKNOWN\n"
"and UNLIMITED values as they are).");

PyObject *berthpy_stats_dict(const berth_cgroup_stats *s)
{
	return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "memory_usage",
			     (unsigned long long)s->memory_usage, "memory_peak", (unsigned long long)s->memory_peak,
			     "memory_limit", (unsigned long long)s->memory_limit, "oom_kills",
			     (unsigned long long)s->oom_kills, "oom_events", (unsigned long long)s->oom_events,
			     "cpu_usage_ns", (unsigned long long)s->cpu_usage_ns, "pids_current",
			     (unsigned long long)s->pids_current, "pids_limit", (unsigned long long)s->pids_limit,
			     "io_read_bytes", (unsigned long long)s->io_read_bytes, "io_write_bytes",
			     (unsigned long long)s->io_write_bytes);
}

static PyObject *Runtime_stats(RuntimeObject *self, PyObject *args)
{
	berth_cgroup_stats s = BERTH_CGROUP_STATS_INIT;
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id;
	int rc;

	if (!PyArg_ParseTuple(args, "s:stats", &id) || !(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_stats(rt, id, &s, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	return berthpy_stats_dict(&s);
}

PyDoc_STRVAR(Runtime_exit_status_doc,
"exit_status($self, id, /)\n--\n\n"
"How the container's init ended, as its waiter recorded it: a\n"
"berth.ExitStatus. StateError while it runs or when nobody waited for it.");

static PyObject *Runtime_exit_status(RuntimeObject *self, PyObject *args)
{
	berth_runtime_exit e = BERTH_RUNTIME_EXIT_INIT;
	berth_error *err = NULL;
	berth_runtime *rt;
	const char *id;
	int rc;

	if (!PyArg_ParseTuple(args, "s:exit_status", &id) || !(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_exit_status(rt, id, &e, &err);
	Py_END_ALLOW_THREADS
	done(self);
	return rc < 0 ? fail((PyObject *)self, rc, err) : exit_status((PyObject *)self, &e);
}

PyDoc_STRVAR(Runtime_usage_doc,
"usage($self, /)\n--\n\n"
"Space the state root takes: a dict with containers, bytes, leftovers (the\n"
"remains of creates that died, which the next create removes) and\n"
"leftover_bytes.");

static PyObject *Runtime_usage(RuntimeObject *self, PyObject *unused UNUSED)
{
	berth_runtime_usage u = BERTH_RUNTIME_USAGE_INIT;
	berth_error *err = NULL;
	berth_runtime *rt;
	int rc;

	if (!(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_usage_get(rt, &u, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	return Py_BuildValue("{s:L,s:L,s:L,s:L}", "containers", u.containers, "bytes", u.bytes, "leftovers",
			     u.leftovers, "leftover_bytes", u.leftover_bytes);
}

PyDoc_STRVAR(Runtime_prune_doc,
"prune($self, /)\n--\n\n"
"Remove the remains of creates that died (cgroups included): returns\n"
"(number removed, bytes freed).");

static PyObject *Runtime_prune(RuntimeObject *self, PyObject *unused UNUSED)
{
	unsigned long long bytes = 0;
	berth_error *err = NULL;
	berth_runtime *rt;
	size_t n = 0;
	int rc;

	if (!(rt = begin(self)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_prune(rt, &n, &bytes, &err);
	Py_END_ALLOW_THREADS
	done(self);
	if (rc < 0)
		return fail((PyObject *)self, rc, err);
	return Py_BuildValue("(nK)", (Py_ssize_t)n, bytes);
}

static PyMethodDef Runtime_methods[] = {
	{ "create", (PyCFunction)(void (*)(void))Runtime_create, METH_VARARGS | METH_KEYWORDS, Runtime_create_doc },
	{ "start", (PyCFunction)Runtime_start, METH_O, Runtime_start_doc },
	{ "state", (PyCFunction)Runtime_state, METH_VARARGS, Runtime_state_doc },
	{ "kill", (PyCFunction)(void (*)(void))Runtime_kill, METH_VARARGS | METH_KEYWORDS, Runtime_kill_doc },
	{ "delete", (PyCFunction)(void (*)(void))Runtime_delete, METH_VARARGS | METH_KEYWORDS, Runtime_delete_doc },
	{ "pause", (PyCFunction)Runtime_pause, METH_O, Runtime_pause_doc },
	{ "resume", (PyCFunction)Runtime_resume, METH_O, Runtime_resume_doc },
	{ "ps", (PyCFunction)Runtime_ps, METH_VARARGS, Runtime_ps_doc },
	{ "list", (PyCFunction)Runtime_list, METH_NOARGS, Runtime_list_doc },
	{ "update", (PyCFunction)Runtime_update, METH_VARARGS, Runtime_update_doc },
	{ "stats", (PyCFunction)Runtime_stats, METH_VARARGS, Runtime_stats_doc },
	{ "exec", (PyCFunction)(void (*)(void))Runtime_exec, METH_VARARGS | METH_KEYWORDS, Runtime_exec_doc },
	{ "exit_status", (PyCFunction)Runtime_exit_status, METH_VARARGS, Runtime_exit_status_doc },
	{ "usage", (PyCFunction)Runtime_usage, METH_NOARGS, Runtime_usage_doc },
	{ "prune", (PyCFunction)Runtime_prune, METH_NOARGS, Runtime_prune_doc },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef Runtime_getset[] = {
	{ "root", (getter)Runtime_get_root, NULL, "The state root in use (str).", NULL },
	{ "context", (getter)Runtime_get_context, NULL, "The Context it belongs to.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(Runtime_doc,
"Runtime(context, *, root=None)\n--\n\n"
"The OCI runtime over a state root (None: <context.runroot>/runtime; also\n"
"context.runtime): containers made from bundles, by id, as berth-runtime\n"
"(runc's interface) makes them. It keeps its context alive; once the context\n"
"is closed every call raises berth.StateError.");

static PyType_Slot Runtime_slots[] = {
	{ Py_tp_doc, (void *)Runtime_doc },
	{ Py_tp_new, Runtime_new },
	{ Py_tp_dealloc, Runtime_dealloc },
	{ Py_tp_repr, Runtime_repr },
	{ Py_tp_methods, Runtime_methods },
	{ Py_tp_getset, Runtime_getset },
	{ 0, NULL },
};

static PyType_Spec Runtime_spec = {
	.name = "berth.Runtime",
	.basicsize = sizeof(RuntimeObject),
	.flags = Py_TPFLAGS_DEFAULT,
	.slots = Runtime_slots,
};

/* ---- Process ------------------------------------------------------------------ */

/* The open process, or NULL with StateError raised. */
static berth_runtime_process *process_get(ProcessObject *self)
{
	module_state *st;

	if (self->p)
		return self->p;
	if ((st = state_from_type(Py_TYPE(self))))
		raise_error(st, BERTH_ESTATE, 0, "process is closed");
	return NULL;
}

static void Process_dealloc(ProcessObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	berth_runtime_process_free(self->p); /* closes its descriptors; the process goes on */
	Py_XDECREF(self->id);
	Py_XDECREF(self->runtime);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static PyObject *Process_repr(ProcessObject *self)
{
	if (!self->p)
		return PyUnicode_FromFormat("<berth.Process of %R (closed)>", self->id);
	return PyUnicode_FromFormat("<berth.Process %d of %R>", berth_runtime_process_pid(self->p), self->id);
}

static PyObject *Process_get_pid(ProcessObject *self, void *closure UNUSED)
{
	berth_runtime_process *p = process_get(self);

	return p ? PyLong_FromLong(berth_runtime_process_pid(p)) : NULL;
}

static PyObject *Process_get_pidfd(ProcessObject *self, void *closure UNUSED)
{
	berth_runtime_process *p = process_get(self);

	return p ? PyLong_FromLong(berth_runtime_process_pidfd(p)) : NULL;
}

static PyObject *Process_get_pty(ProcessObject *self, void *closure UNUSED)
{
	berth_runtime_process *p = process_get(self);

	if (!p)
		return NULL;
	if (berth_runtime_process_pty(p) < 0)
		Py_RETURN_NONE;
	return PyLong_FromLong(berth_runtime_process_pty(p));
}

static PyObject *Process_get_id(ProcessObject *self, void *closure UNUSED)
{
	return Py_NewRef(self->id);
}

static PyObject *Process_get_closed(ProcessObject *self, void *closure UNUSED)
{
	return PyBool_FromLong(self->p == NULL);
}

PyDoc_STRVAR(Process_signal_doc,
"signal($self, sig, /)\n--\n\n"
"Send sig through the process's pidfd (never to another process that got\n"
"its pid). StateError once it has ended.");

static PyObject *Process_signal(ProcessObject *self, PyObject *arg)
{
	berth_runtime_process *p = process_get(self);
	berth_error *err = NULL;
	long sig;
	int rc;

	if (!p || ((sig = PyLong_AsLong(arg)) == -1 && PyErr_Occurred()))
		return NULL;
	if (sig < 0 || sig > INT_MAX)
		return PyErr_Format(PyExc_ValueError, "signal: %ld is not a signal", sig);
	if ((rc = berth_runtime_process_signal(p, (int)sig, &err)) < 0)
		return fail((PyObject *)self, rc, err);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(Process_wait_doc,
"wait($self, /, timeout=None)\n--\n\n"
"Wait for the process to end and reap it: returns a berth.ExitStatus (code,\n"
"signal, oom_killed); for a container's init its end is recorded for\n"
"Runtime.exit_status(). timeout: seconds (float), None to wait as long as it\n"
"takes, 0 to look; raises berth.TimeoutError (a built-in TimeoutError) while\n"
"it still runs. Waiting again returns the same. The GIL is released.");

static PyObject *Process_wait(ProcessObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "timeout", NULL };
	berth_runtime_exit e = BERTH_RUNTIME_EXIT_INIT;
	berth_runtime_process *p = process_get(self);
	PyObject *timeout = Py_None;
	berth_error *err = NULL;
	int ms = -1, rc;

	if (!p || !PyArg_ParseTupleAndKeywords(args, kwargs, "|O:wait", kwlist, &timeout))
		return NULL;
	if (timeout != Py_None) {
		double t = PyFloat_AsDouble(timeout);

		if (t == -1.0 && PyErr_Occurred())
			return NULL;
		if (!(t >= 0) || t * 1000 > INT_MAX - 1)
			return PyErr_Format(PyExc_ValueError, "wait: timeout must be None or 0 to %d seconds",
					    (INT_MAX - 1) / 1000);
		ms = (int)ceil(t * 1000);
	}
	/* the process records an init's end in the state, through the context */
	if (!begin(self->runtime))
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_runtime_process_wait(p, ms, &e, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	done(self->runtime);
	return rc < 0 ? fail((PyObject *)self, rc, err) : exit_status((PyObject *)self, &e);
}

PyDoc_STRVAR(Process_close_doc,
"close($self, /)\n--\n\n"
"Close the descriptors it holds (pidfd, pty); the process goes on. Closing\n"
"twice is allowed; StateError while a wait() runs in another thread.");

static PyObject *Process_close(ProcessObject *self, PyObject *unused UNUSED)
{
	module_state *st;

	if (self->uses) {
		if ((st = state_from_type(Py_TYPE(self))))
			raise_error(st, BERTH_ESTATE, 0, "closing a process: a wait on it is in progress");
		return NULL;
	}
	berth_runtime_process_free(self->p);
	self->p = NULL;
	Py_RETURN_NONE;
}

static PyObject *Process_enter(ProcessObject *self, PyObject *unused UNUSED)
{
	return process_get(self) ? Py_NewRef(self) : NULL;
}

static PyObject *Process_exit(ProcessObject *self, PyObject *args UNUSED)
{
	PyObject *r = Process_close(self, NULL);

	if (!r)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyMethodDef Process_methods[] = {
	{ "signal", (PyCFunction)Process_signal, METH_O, Process_signal_doc },
	{ "wait", (PyCFunction)(void (*)(void))Process_wait, METH_VARARGS | METH_KEYWORDS, Process_wait_doc },
	{ "close", (PyCFunction)Process_close, METH_NOARGS, Process_close_doc },
	{ "__enter__", (PyCFunction)Process_enter, METH_NOARGS, "Return the process itself." },
	{ "__exit__", (PyCFunction)Process_exit, METH_VARARGS, "Close the process; exceptions propagate." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef Process_getset[] = {
	{ "pid", (getter)Process_get_pid, NULL, "The host pid (int).", NULL },
	{ "pidfd", (getter)Process_get_pidfd, NULL,
	  "A pidfd of the process (int), borrowed: valid until close().", NULL },
	{ "pty", (getter)Process_get_pty, NULL,
	  "The pty master (int, borrowed) with process.terminal and no console\n"
	  "socket, else None.", NULL },
	{ "id", (getter)Process_get_id, NULL, "The container's id (str).", NULL },
	{ "closed", (getter)Process_get_closed, NULL, "True once close() has been called.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(Process_doc,
"A process the runtime started in a container (its init, from\n"
"Runtime.create(), or one from Runtime.exec()): a child of this process.\n"
"Made by those calls only. Use it as a context manager or close() it to\n"
"close its descriptors at a known time.");

static PyType_Slot Process_slots[] = {
	{ Py_tp_doc, (void *)Process_doc },
	{ Py_tp_dealloc, Process_dealloc },
	{ Py_tp_repr, Process_repr },
	{ Py_tp_methods, Process_methods },
	{ Py_tp_getset, Process_getset },
	{ 0, NULL },
};

static PyType_Spec Process_spec = {
	.name = "berth.Process",
	.basicsize = sizeof(ProcessObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = Process_slots,
};

/* ---- ExitStatus, module functions, setup --------------------------------------- */

static PyStructSequence_Field exit_fields[] = {
	{ "code", "its exit code, or 128 + the signal that ended it (137: SIGKILL)" },
	{ "signal", "that signal; 0 when it exited" },
	{ "oom_killed", "True when the cgroup's OOM killer ended it" },
	{ NULL, NULL },
};

static PyStructSequence_Desc exit_desc = {
	"berth.ExitStatus", "How a container process ended: (code, signal, oom_killed).", exit_fields, 3,
};

PyObject *berthpy_context_runtime(ContextObject *self, void *closure UNUSED)
{
	module_state *st = state_from_type(Py_TYPE(self));

	if (!st || !context_get(self))
		return NULL;
	return PyObject_CallOneArg(st->runtime_type, (PyObject *)self);
}

static PyObject *json_call(int (*fn)(char **, berth_error **), PyObject *module)
{
	berth_error *err = NULL;
	char *json = NULL;
	int rc = fn(&json, &err);

	if (rc < 0)
		return raise_berth_error(PyModule_GetState(module), rc, err);
	return json_value(json);
}

static int spec_default_rootful(char **json, berth_error **err)
{
	return berth_runtime_spec_default(0, json, err);
}

static int spec_default_rootless(char **json, berth_error **err)
{
	return berth_runtime_spec_default(1, json, err);
}

static PyObject *py_runtime_spec_default(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "rootless", NULL };
	int rootless = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p:runtime_spec_default", kwlist, &rootless))
		return NULL;
	return json_call(rootless ? spec_default_rootless : spec_default_rootful, module);
}

static PyObject *py_runtime_features(PyObject *module, PyObject *unused UNUSED)
{
	return json_call(berth_runtime_features, module);
}

PyMethodDef berthpy_runtime_functions[] = {
	{ "runtime_spec_default", (PyCFunction)(void (*)(void))py_runtime_spec_default, METH_VARARGS | METH_KEYWORDS,
	  "runtime_spec_default($module, /, rootless=False)\n--\n\n"
	  "A default config.json as `runc spec` writes it (busybox sh, rootfs \"rootfs\"),\n"
	  "as a dict; rootless adds a user namespace mapping the caller." },
	{ "runtime_features", (PyCFunction)py_runtime_features, METH_NOARGS,
	  "runtime_features($module, /)\n--\n\nThe runtime-spec features document of this build, as a dict." },
	{ NULL, NULL, 0, NULL },
};

int berthpy_runtime_init(PyObject *module, module_state *st)
{
	if (!(st->runtime_type = PyType_FromModuleAndSpec(module, &Runtime_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->runtime_type) < 0)
		return -1;
	if (!(st->process_type = PyType_FromModuleAndSpec(module, &Process_spec, NULL)) ||
	    PyModule_AddType(module, (PyTypeObject *)st->process_type) < 0)
		return -1;
	if (!(st->exit_type = (PyObject *)PyStructSequence_NewType(&exit_desc)) ||
	    PyModule_AddObjectRef(module, "ExitStatus", st->exit_type) < 0)
		return -1;
	return PyModule_AddFunctions(module, berthpy_runtime_functions);
}

int berthpy_runtime_traverse(module_state *st, visitproc visit, void *arg)
{
	Py_VISIT(st->runtime_type);
	Py_VISIT(st->process_type);
	Py_VISIT(st->exit_type);
	return 0;
}

void berthpy_runtime_clear(module_state *st)
{
	Py_CLEAR(st->runtime_type);
	Py_CLEAR(st->process_type);
	Py_CLEAR(st->exit_type);
}
