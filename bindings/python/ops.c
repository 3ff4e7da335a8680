/* The engine's operations on existing containers (berth/container.h:
 * exec, pause, restart, rename, top, prune, copies, diff, stats, update,
 * commit, attach, resize, boot, events) as methods of berth.Context, one
 * to one with the C calls. Every call that may block releases the GIL. */
#include "berthpy.h"

#include <stdlib.h>
#include <string.h>

/* JSON text as Python objects. */
PyObject *json_load(const char *text)
{
	PyObject *json_mod = PyImport_ImportModule("json");
	PyObject *result = json_mod ? PyObject_CallMethod(json_mod, "loads", "s", text) : NULL;

	Py_XDECREF(json_mod);
	return result;
}

/* Library JSON text as Python objects; frees text. */
PyObject *from_json(char *text)
{
	PyObject *result = json_load(text);

	berth_string_free(text);
	return result;
}

PyObject *text_list(char *const *v, size_t n)
{
	PyObject *list = PyList_New((Py_ssize_t)n);

	for (size_t i = 0; list && i < n; i++) {
		PyObject *s = text_from_c(v[i]);

		if (!s) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, s);
	}
	return list;
}

/* A list of str from a library array of ids; frees it. */
static PyObject *id_list(char **ids, size_t count)
{
	PyObject *list = text_list(ids, count);

	berth_container_ids_free(ids, count);
	return list;
}

/* A NULL-terminated array of the UTF-8 of a list of str (borrowed from the
 * list, which the caller keeps alive); None gives NULL. Free the array. */
int str_array(PyObject *obj, const char *what, const char ***out)
{
	Py_ssize_t n;

	*out = NULL;
	if (!obj || obj == Py_None)
		return 0;
	if (!PyList_Check(obj) && !PyTuple_Check(obj)) {
		PyErr_Format(PyExc_TypeError, "%s: expected a list of str", what);
		return -1;
	}
	n = PySequence_Fast_GET_SIZE(obj);
	if (!(*out = calloc((size_t)n + 1, sizeof(**out)))) {
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *item = PySequence_Fast_GET_ITEM(obj, i);

		if (!PyUnicode_Check(item) || !((*out)[i] = PyUnicode_AsUTF8(item))) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_TypeError, "%s: expected a list of str", what);
			free(*out);
			*out = NULL;
			return -1;
		}
	}
	return 0;
}

/* An fd from an int or an object with fileno(). */
int fd_converter(PyObject *obj, void *out)
{
	int fd = PyObject_AsFileDescriptor(obj);

	if (fd < 0)
		return 0;
	*(int *)out = fd;
	return 1;
}

static PyObject *exit_dict(const berth_container_exit *how)
{
	return Py_BuildValue("{s:i, s:O}", "StatusCode", how->code, "OOMKilled",
			     how->oom_killed ? Py_True : Py_False);
}

/* exec's started callback: Python code run with the GIL taken back from the call. */
struct started_call {
	PyObject *callback;
	PyThreadState *ts; /* the thread state saved while the library runs */
	int failed;        /* it raised: the exception is kept set */
};

static void started_to_python(int pid, int pty, void *userdata)
{
	struct started_call *c = userdata;
	PyObject *r;

	PyEval_RestoreThread(c->ts);
	if (pty < 0)
		r = PyObject_CallFunction(c->callback, "iO", pid, Py_None);
	else
		r = PyObject_CallFunction(c->callback, "ii", pid, pty);
	if (!r)
		c->failed = 1;
	Py_XDECREF(r);
	c->ts = PyEval_SaveThread();
}

/* exec's stdio: a tuple of three fds (None: /dev/null), or None. */
static int exec_stdio(PyObject *stdio, int fds[3], const int **out)
{
	*out = NULL;
	if (!stdio || stdio == Py_None)
		return 0;
	if (!PyTuple_Check(stdio) || PyTuple_GET_SIZE(stdio) != 3) {
		PyErr_SetString(PyExc_TypeError, "stdio: a tuple of three fds (int, file or None)");
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		PyObject *fd = PyTuple_GET_ITEM(stdio, i);

		if ((fds[i] = fd == Py_None ? -1 : PyObject_AsFileDescriptor(fd)) < 0 && fd != Py_None)
			return -1;
	}
	*out = fds;
	return 0;
}

const char Context_container_exec_doc[] =
	"container_exec(name, cmd, *, environment=None, user=None, workdir=None, tty=False,\n"
	"               stdio=None, detach=False, started=None) -> int or None\n\n"
	"Runs cmd (a list of str) in a running container and returns its exit\n"
	"code (None with detach: it stays this process's child). stdio: three fds\n"
	"(None: /dev/null); None: this process's own. started(pid, pty) is called\n"
	"once it runs, pty the master of its terminal with tty (valid until started\n"
	"returns: copy its output there), else None; its exception is raised once\n"
	"the process has been waited for. berth.StateError when the container\n"
	"does not run.";

PyObject *Context_container_exec(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "cmd", "environment", "user", "workdir", "tty", "stdio", "detach",
				  "started", NULL };
	berth_container_exec_opts o = BERTH_CONTAINER_EXEC_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	struct started_call c = { NULL, NULL, 0 };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *cmd, *env = NULL, *stdio = NULL;
	const char **cmdv = NULL, **envv = NULL;
	const char *name;
	int tty = 0, detach = 0, fds[3], rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "sO|$OzzpOpO:container_exec", kwlist, &name, &cmd,
						 &env, &o.user, &o.workdir, &tty, &stdio, &detach, &c.callback) ||
	    exec_stdio(stdio, fds, &o.stdio) < 0)
		return NULL;
	if (c.callback == Py_None)
		c.callback = NULL;
	if (c.callback && !PyCallable_Check(c.callback)) {
		PyErr_SetString(PyExc_TypeError, "started: expected a callable");
		return NULL;
	}
	if (str_array(cmd, "cmd", &cmdv) < 0 || str_array(env, "environment", &envv) < 0) {
		free(cmdv);
		return NULL;
	}
	o.cmd = cmdv;
	o.env = envv;
	o.tty = tty;
	o.detach = detach;
	if (c.callback) {
		o.started = started_to_python;
		o.userdata = &c;
	}
	self->uses++;
	c.ts = PyEval_SaveThread();
	rc = berth_container_exec(ctx, name, &o, &how, &err);
	PyEval_RestoreThread(c.ts);
	self->uses--;
	free(cmdv);
	free(envv);
	if (c.failed) {
		berth_error_free(err);
		return NULL;
	}
	if (rc < 0)
		return context_raise(self, rc, err);
	return detach ? Py_NewRef(Py_None) : PyLong_FromLong(how.code);
}

/* The calls taking a name and nothing else. */
#define NAME_ONLY(pyname, cname, doc)                                                   \
	const char Context_##pyname##_doc[] = doc;                                      \
	PyObject *Context_##pyname(ContextObject *self, PyObject *args, PyObject *kw)  \
	{                                                                               \
		berth_ctx *ctx = context_get(self);                                     \
		berth_error *err = NULL;                                                \
		const char *name;                                                       \
		int rc;                                                                 \
                                                                                        \
		static char *kwlist[] = { "name", NULL };                               \
		if (!ctx || !PyArg_ParseTupleAndKeywords(args, kw, "s:" #pyname, kwlist, &name)) \
			return NULL;                                                    \
		UNLOCKED(self, rc = cname(ctx, name, &err));                            \
		return DONE(self, rc, err);                                             \
	}

NAME_ONLY(container_pause, berth_container_pause,
	  "container_pause(name)\n\nFreezes every process of a running container.")
NAME_ONLY(container_unpause, berth_container_unpause,
	  "container_unpause(name)\n\nThaws a paused container.")

/* The calls returning JSON text. */
#define JSON_OUT(pyname, cname, doc)                                                    \
	const char Context_##pyname##_doc[] = doc;                                      \
	PyObject *Context_##pyname(ContextObject *self, PyObject *args, PyObject *kw)  \
	{                                                                               \
		berth_ctx *ctx = context_get(self);                                     \
		berth_error *err = NULL;                                                \
		const char *name;                                                       \
		char *text = NULL;                                                      \
		int rc;                                                                 \
                                                                                        \
		static char *kwlist[] = { "name", NULL };                               \
		if (!ctx || !PyArg_ParseTupleAndKeywords(args, kw, "s:" #pyname, kwlist, &name)) \
			return NULL;                                                    \
		UNLOCKED(self, rc = cname(ctx, name, &text, &err));                     \
		return rc < 0 ? context_raise(self, rc, err) : from_json(text);         \
	}

JSON_OUT(container_top, berth_container_top,
	 "container_top(name) -> dict\n\n"
	 "The processes of a running container as docker-py's top returns them:\n"
	 "{\"Titles\": [...], \"Processes\": [[...], ...]}, host pids.")
JSON_OUT(container_diff, berth_container_diff,
	 "container_diff(name) -> list\n\n"
	 "The container's changes against its image: [{\"Path\": str, \"Kind\": int}]\n"
	 "sorted by path, Kind 0 changed, 1 added, 2 deleted.")

const char Context_container_restart_doc[] =
	"container_restart(name, timeout=None)\n\n"
	"Stops a running container (timeout as for container_stop) and starts it\n"
	"again detached; one that does not run is simply started.";

PyObject *Context_container_restart(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "timeout", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *timeout = NULL;
	const char *name;
	int seconds = -1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|O:container_restart", kwlist, &name, &timeout))
		return NULL;
	if (timeout && timeout != Py_None && (seconds = (int)PyLong_AsLong(timeout)) == -1 && PyErr_Occurred())
		return NULL;
	UNLOCKED(self, rc = berth_container_restart(ctx, name, seconds, &err));
	return DONE(self, rc, err);
}

const char Context_container_rename_doc[] =
	"container_rename(name, new_name)\n\n"
	"Gives a container a new name. berth.ExistsError when another has it.";

PyObject *Context_container_rename(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *new_name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:container_rename", (char *[]){ "name", "new_name", NULL }, &name, &new_name))
		return NULL;
	UNLOCKED(self, rc = berth_container_rename(ctx, name, new_name, &err));
	return DONE(self, rc, err);
}

const char Context_containers_prune_doc[] =
	"containers_prune() -> dict\n\n"
	"Removes every container that does not run; returns docker-py's\n"
	"{\"ContainersDeleted\": [ids], \"SpaceReclaimed\": bytes}.";

PyObject *Context_containers_prune(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	unsigned long long bytes = 0;
	PyObject *ids_obj, *result;
	char **ids = NULL;
	size_t count = 0;
	int rc;

	static char *kwlist[] = { NULL };

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "", kwlist))
		return NULL;
	UNLOCKED(self, rc = berth_container_prune(ctx, &ids, &count, &bytes, &err));
	if (rc < 0)
		return context_raise(self, rc, err);
	if (!(ids_obj = id_list(ids, count)))
		return NULL;
	result = Py_BuildValue("{s:O, s:K}", "ContainersDeleted", ids_obj, "SpaceReclaimed", bytes);
	Py_DECREF(ids_obj);
	return result;
}

const char Context_container_stats_doc[] =
	"container_stats(name) -> dict\n\n"
	"Resource usage of a running container as a dict of ints: memory_usage,\n"
	"memory_peak, memory_limit, oom_kills, oom_events, cpu_usage_ns,\n"
	"pids_current, pids_limit, io_read_bytes, io_write_bytes (as Runtime.stats\n"
	"gives them).";

PyObject *Context_container_stats(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_cgroup_stats s = BERTH_CGROUP_STATS_INIT;
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:container_stats", (char *[]){ "name", NULL }, &name))
		return NULL;
	UNLOCKED(self, rc = berth_container_stats(ctx, name, &s, &err));
	if (rc < 0)
		return context_raise(self, rc, err);
	return berthpy_stats_dict(&s);
}

const char Context_container_update_doc[] =
	"container_update(name, *, mem_limit=0, memswap_limit=0, nano_cpus=0, cpu_shares=0,\n"
	"                 pids_limit=0)\n\n"
	"New limits (0 leaves one as it is), applied at once when it runs and\n"
	"kept for its next start. berth.InvalidError for bad values.";

PyObject *Context_container_update(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "mem_limit", "memswap_limit", "nano_cpus", "cpu_shares", "pids_limit", NULL };
	berth_container_update_opts o = BERTH_CONTAINER_UPDATE_OPTS_INIT;
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|$LLLLL:container_update", kwlist, &name, &o.memory,
						 &o.memory_swap, &o.nano_cpus, &o.cpu_shares, &o.pids_limit))
		return NULL;
	UNLOCKED(self, rc = berth_container_update(ctx, name, &o, &err));
	return DONE(self, rc, err);
}

const char Context_container_export_doc[] =
	"container_export(name, fd)\n\n"
	"Writes the container's root file system to fd (an int or a file) as one\n"
	"uncompressed tar.";

PyObject *Context_container_export(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	int fd, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "sO&:container_export", (char *[]){ "name", "fd", NULL }, &name, fd_converter, &fd))
		return NULL;
	UNLOCKED(self, rc = berth_container_export(ctx, name, fd, &err));
	return DONE(self, rc, err);
}

const char Context_container_copy_to_doc[] =
	"container_copy_to(name, path, fd)\n\n"
	"Extracts the uncompressed tar read from fd (an int or a file) into the\n"
	"directory path of the container. berth.PathEscapeError for an entry leaving it.";

PyObject *Context_container_copy_to(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *path;
	int fd, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ssO&:container_copy_to", (char *[]){ "name", "path", "fd", NULL }, &name, &path, fd_converter, &fd))
		return NULL;
	UNLOCKED(self, rc = berth_container_copy_to(ctx, name, path, fd, &err));
	return DONE(self, rc, err);
}

const char Context_container_copy_from_doc[] =
	"container_copy_from(name, path, fd, arcname=None)\n\n"
	"Writes path of the container (file, symlink or tree) to fd (an int or a\n"
	"file) as an uncompressed tar whose top entry is arcname (None: path's\n"
	"last component).";

PyObject *Context_container_copy_from(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "path", "fd", "arcname", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *path, *as = NULL;
	int fd, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ssO&|z:container_copy_from", kwlist, &name, &path,
						 fd_converter, &fd, &as))
		return NULL;
	UNLOCKED(self, rc = berth_container_copy_from(ctx, name, path, as, fd, &err));
	return DONE(self, rc, err);
}

const char Context_container_path_is_dir_doc[] =
	"container_path_is_dir(name, path) -> bool\n\n"
	"Whether path exists in the container and is a directory;\n"
	"berth.NotFoundError when it is missing.";

PyObject *Context_container_path_is_dir(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *path;
	int is_dir = 0, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:container_path_is_dir", (char *[]){ "name", "path", NULL }, &name, &path))
		return NULL;
	UNLOCKED(self, rc = berth_container_path_is_dir(ctx, name, path, &is_dir, &err));
	return rc < 0 ? context_raise(self, rc, err) : PyBool_FromLong(is_dir);
}

const char Context_container_commit_doc[] =
	"container_commit(name, tag, *, message=None, author=None, changes=None) -> str\n\n"
	"Makes an image of the container (its image plus its changes) tagged\n"
	"tag (\"repo[:tag]\"); changes: Dockerfile instructions (a list of str).\n"
	"Returns the image ID.";

PyObject *Context_container_commit(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "tag", "message", "author", "changes", NULL };
	berth_container_commit_opts o = BERTH_CONTAINER_COMMIT_OPTS_INIT;
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *changes = NULL, *result;
	const char **changev = NULL;
	const char *name;
	char *id = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss|$zzO:container_commit", kwlist, &name, &o.tag,
						 &o.comment, &o.author, &changes) ||
	    str_array(changes, "changes", &changev) < 0)
		return NULL;
	o.changes = changev;
	UNLOCKED(self, rc = berth_container_commit(ctx, name, &o, &id, &err));
	free(changev);
	if (rc < 0)
		return context_raise(self, rc, err);
	result = text_from_c(id);
	berth_string_free(id);
	return result;
}

const char Context_container_attach_doc[] =
	"container_attach(name, *, stdin=None, stdout=1, stderr=2, detach_keys=None) -> dict or None\n\n"
	"Streams a running container's stdio to and from these fds (stdin None:\n"
	"none; stderr None: to stdout) until it ends, then returns container_wait's\n"
	"dict; None when the detach keys were read (it goes on running).";

PyObject *Context_container_attach(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "stdin", "stdout", "stderr", "detach_keys", NULL };
	berth_container_attach_opts o = BERTH_CONTAINER_ATTACH_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *fds[3] = { NULL, NULL, NULL };
	int *targets[3] = { &o.stdin_fd, &o.stdout_fd, &o.stderr_fd };
	const char *name;
	int detached = 0, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|$OOOz:container_attach", kwlist, &name, &fds[0],
						 &fds[1], &fds[2], &o.detach_keys))
		return NULL;
	for (int i = 0; i < 3; i++)
		if (fds[i] && (*targets[i] = fds[i] == Py_None ? -1 : PyObject_AsFileDescriptor(fds[i])) == -1 &&
		    PyErr_Occurred())
			return NULL;
	UNLOCKED(self, rc = berth_container_attach(ctx, name, &o, &how, &detached, &err));
	if (rc < 0)
		return context_raise(self, rc, err);
	return detached ? Py_NewRef(Py_None) : exit_dict(&how);
}

const char Context_container_resize_doc[] =
	"container_resize(name, height, width)\n\n"
	"Sets the size of a running container's terminal. berth.StateError when\n"
	"it does not run or has no terminal.";

PyObject *Context_container_resize(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "height", "width", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	unsigned int rows, cols;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "sII:container_resize", kwlist, &name, &rows, &cols))
		return NULL;
	UNLOCKED(self, rc = berth_container_resize(ctx, name, rows, cols, &err));
	return DONE(self, rc, err);
}

const char Context_containers_boot_doc[] =
	"containers_boot() -> list\n\n"
	"After a host reboot: starts every container whose restart policy asks\n"
	"for it; returns their ids.";

PyObject *Context_containers_boot(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	char **ids = NULL;
	size_t count = 0;
	int rc;

	static char *kwlist[] = { NULL };

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "", kwlist))
		return NULL;
	UNLOCKED(self, rc = berth_container_boot(ctx, &ids, &count, &err));
	return rc < 0 ? context_raise(self, rc, err) : id_list(ids, count);
}

/* events: the callback runs with the GIL taken back from the call. */
struct events_call {
	PyObject *callback;
	PyThreadState *ts; /* the thread state saved while the library runs */
	int failed;        /* the callback raised: the exception is kept set */
};

static int event_to_python(const char *json_line, void *userdata)
{
	struct events_call *c = userdata;
	PyObject *event, *r;
	int stop;

	PyEval_RestoreThread(c->ts);
	event = json_load(json_line);
	r = event ? PyObject_CallOneArg(c->callback, event) : NULL;
	stop = r ? PyObject_IsTrue(r) : -1;
	if (stop < 0)
		c->failed = 1;
	Py_XDECREF(event);
	Py_XDECREF(r);
	c->ts = PyEval_SaveThread();
	return stop != 0;
}

const char Context_container_events_doc[] =
	"container_events(callback, since=0, until=0, follow=False)\n\n"
	"Calls callback(event) for each recorded event (a dict in Docker's shape)\n"
	"with a time (ns since the epoch) from since to until (0: no bound),\n"
	"oldest first; with follow, goes on as new ones come until callback\n"
	"returns a true value or until has passed. An exception in callback\n"
	"stops and propagates.";

PyObject *Context_container_events(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "callback", "since", "until", "follow", NULL };
	struct events_call c = { NULL, NULL, 0 };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	long long since = 0, until = 0;
	int follow = 0, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "O|LLp:container_events", kwlist, &c.callback, &since,
						 &until, &follow))
		return NULL;
	if (!PyCallable_Check(c.callback)) {
		PyErr_SetString(PyExc_TypeError, "callback: expected a callable");
		return NULL;
	}
	self->uses++;
	c.ts = PyEval_SaveThread();
	rc = berth_container_events(ctx, since, until, follow, event_to_python, &c, &err);
	PyEval_RestoreThread(c.ts);
	self->uses--;
	if (c.failed) {
		berth_error_free(err);
		return NULL;
	}
	return DONE(self, rc, err);
}
