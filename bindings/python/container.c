/* The engine (berth/container.h) as methods of berth.Context, one to one
 * with the C calls, plus run(): create, start on a pipe, read, wait, remove.
 * Every call that may block releases the GIL. */
#include "berthpy.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A str from obj (str, or os.PathLike for paths is not needed here), its
 * UTF-8 kept alive by s; NULL with an exception set. */
const char *utf8(struct strings *s, PyObject *obj, const char *what)
{
	if (!PyUnicode_Check(obj)) {
		PyErr_Format(PyExc_TypeError, "%s: expected str, not %.100s", what, Py_TYPE(obj)->tp_name);
		return NULL;
	}
	if (PyList_Append(s->keep, obj) < 0)
		return NULL;
	return PyUnicode_AsUTF8(obj);
}

/* A NULL-terminated array from a sequence of str, or from a mapping as
 * "KEY=VALUE" (env, labels); None gives NULL. The array is freed by the
 * caller; the strings live in s. 0, or -1 with an exception set. */
int strv(struct strings *s, PyObject *obj, const char *what, const char ***out)
{
	PyObject *seq, *items = NULL;
	Py_ssize_t n;
	const char **v;

	*out = NULL;
	if (!obj || obj == Py_None)
		return 0;
	if (PyUnicode_Check(obj)) {
		PyErr_Format(PyExc_TypeError, "%s: expected a list of str, not a str", what);
		return -1;
	}
	if (PyMapping_Check(obj) && !PyList_Check(obj) && !PyTuple_Check(obj)) {
		PyObject *key, *value;
		Py_ssize_t pos = 0;

		if (!PyDict_Check(obj)) {
			PyErr_Format(PyExc_TypeError, "%s: expected a dict or a list of str", what);
			return -1;
		}
		if (!(items = PyList_New(0)))
			return -1;
		while (PyDict_Next(obj, &pos, &key, &value)) {
			PyObject *kv = PyUnicode_FromFormat("%S=%S", key, value);

			if (!kv || PyList_Append(items, kv) < 0) {
				Py_XDECREF(kv);
				Py_DECREF(items);
				return -1;
			}
			Py_DECREF(kv);
		}
		obj = items;
	}
	seq = PySequence_Fast(obj, what);
	Py_XDECREF(items);
	if (!seq || PyList_Append(s->keep, seq) < 0) {
		Py_XDECREF(seq);
		return -1;
	}
	Py_DECREF(seq);
	n = PySequence_Fast_GET_SIZE(seq);
	if (!(v = calloc((size_t)n + 1, sizeof(*v)))) {
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++)
		if (!(v[i] = utf8(s, PySequence_Fast_GET_ITEM(seq, i), what))) {
			free(v);
			return -1;
		}
	*out = v;
	return 0;
}

/* The create options from keywords; arrays to free in arrays[]. */
struct create_args {
	berth_container_create_opts o;
	const char **arrays[19];
};

static void create_args_free(struct create_args *a)
{
	for (size_t i = 0; i < sizeof(a->arrays) / sizeof(a->arrays[0]); i++)
		free(a->arrays[i]);
}

/* d[key] (str) or d[Key] as docker-py accepts either; borrowed or NULL. */
static PyObject *item(PyObject *d, const char *key)
{
	char cap[32];
	PyObject *v = PyDict_GetItemString(d, key);

	if (v || strlen(key) >= sizeof(cap))
		return v;
	strcpy(cap, key);
	cap[0] = (char)(cap[0] - 'a' + 'A');
	return PyDict_GetItemString(d, cap);
}

/* volumes and tmpfs as docker-py takes them: a list of str, or a dict,
 * {"/host": {"bind": "/in", "mode": "ro"}} or {"/in": "size=1m"}, made
 * into -v and --tmpfs strings. */
static int mount_specs(struct strings *s, PyObject *value, const char *what, const char ***out)
{
	PyObject *list, *key, *v;
	Py_ssize_t pos = 0;
	int rc;

	if (!PyDict_Check(value))
		return strv(s, value, what, out);
	if (!(list = PyList_New(0)))
		return -1;
	while (PyDict_Next(value, &pos, &key, &v)) {
		PyObject *spec;

		if (PyDict_Check(v)) {
			PyObject *bind = PyDict_GetItemString(v, "bind"), *mode = PyDict_GetItemString(v, "mode");

			spec = bind ? PyUnicode_FromFormat("%S:%S:%S", key, bind, mode ? mode : Py_None) : NULL;
			if (spec && !mode) {
				Py_SETREF(spec, PyUnicode_FromFormat("%S:%S", key, bind));
			} else if (!bind) {
				PyErr_Format(PyExc_TypeError, "%s: {\"bind\": path[, \"mode\": \"ro\"]} wanted", what);
			}
		} else {
			spec = PyUnicode_FromFormat("%S:%S", key, v);
		}
		if (!spec || PyList_Append(list, spec) < 0) {
			Py_XDECREF(spec);
			Py_DECREF(list);
			return -1;
		}
		Py_DECREF(spec);
	}
	rc = strv(s, list, what, out);
	Py_DECREF(list);
	return rc;
}

/* restart_policy: "on-failure:3" or docker-py's {"Name": ..., "MaximumRetryCount": n}. */
static int parse_restart(struct strings *s, PyObject *value, struct create_args *a)
{
	PyObject *name, *count, *text;

	if (!PyDict_Check(value))
		return (a->o.restart = utf8(s, value, "restart_policy")) ? 0 : -1;
	if (!(name = item(value, "name"))) {
		PyErr_SetString(PyExc_TypeError, "restart_policy: a dict needs Name");
		return -1;
	}
	count = PyDict_GetItemString(value, "MaximumRetryCount");
	text = count && PyObject_IsTrue(count) == 1 ? PyUnicode_FromFormat("%S:%S", name, count)
						      : Py_NewRef(name);
	if (!text || PyList_Append(s->keep, text) < 0) {
		Py_XDECREF(text);
		return -1;
	}
	Py_DECREF(text);
	return (a->o.restart = utf8(s, text, "restart_policy")) ? 0 : -1;
}

/* healthcheck: docker-py's {"test": ["CMD-SHELL", cmd] or ["NONE"] or cmd,
 * "interval": ns, "timeout": ns, "retries": n}. */
static int parse_health(struct strings *s, PyObject *value, struct create_args *a)
{
	PyObject *test, *v;

	if (!PyDict_Check(value)) {
		PyErr_SetString(PyExc_TypeError, "healthcheck: expected a dict");
		return -1;
	}
	if ((test = item(value, "test")) && !PyUnicode_Check(test)) {
		PyObject *seq = PySequence_Fast(test, "healthcheck test: a str or a list");
		const char *kind;
		Py_ssize_t n;

		if (!seq || PyList_Append(s->keep, seq) < 0 || !(n = PySequence_Fast_GET_SIZE(seq)) ||
		    !(kind = utf8(s, PySequence_Fast_GET_ITEM(seq, 0), "healthcheck test"))) {
			if (seq && !PyErr_Occurred())
				PyErr_SetString(PyExc_ValueError, "healthcheck test: empty");
			Py_XDECREF(seq);
			return -1;
		}
		Py_DECREF(seq);
		if (!strcmp(kind, "NONE"))
			a->o.no_healthcheck = 1;
		else if (!strcmp(kind, "CMD-SHELL") && n == 2)
			test = PySequence_Fast_GET_ITEM(seq, 1);
		else {
			PyErr_SetString(PyExc_ValueError, "healthcheck test: a str, [\"CMD-SHELL\", cmd] or [\"NONE\"]");
			return -1;
		}
	}
	if (test && !a->o.no_healthcheck && !(a->o.health_cmd = utf8(s, test, "healthcheck test")))
		return -1;
	if ((v = item(value, "interval")) && (a->o.health_interval = PyLong_AsLongLong(v)) == -1 && PyErr_Occurred())
		return -1;
	if ((v = item(value, "timeout")) && (a->o.health_timeout = PyLong_AsLongLong(v)) == -1 && PyErr_Occurred())
		return -1;
	if ((v = item(value, "retries")) && (a->o.health_retries = (int)PyLong_AsLong(v)) == -1 && PyErr_Occurred())
		return -1;
	return 0;
}

/* log_config: docker-py's {"Type": "json-file", "Config": {"max-size": "10m"}}. */
static int parse_log_config(struct strings *s, PyObject *value, struct create_args *a)
{
	PyObject *config = PyDict_Check(value) ? item(value, "config") : NULL;

	if (!PyDict_Check(value)) {
		PyErr_SetString(PyExc_TypeError, "log_config: expected a dict");
		return -1;
	}
	if (!config || config == Py_None)
		return 0;
	if (strv(s, config, "log_config", &a->arrays[8]) < 0)
		return -1;
	a->o.log_opts = a->arrays[8];
	return 0;
}

/* One create keyword k (known, value not None) into a. 0, or -1 with an exception set. */
static int parse_option(struct strings *s, const char *k, PyObject *value, struct create_args *a)
{
#define STR(field) (a->o.field = utf8(s, value, k)) ? 0 : -1
#define BOOL(field) (a->o.field = PyObject_IsTrue(value)) < 0 ? -1 : 0
#define LL(field) (a->o.field = PyLong_AsLongLong(value)) == -1 && PyErr_Occurred() ? -1 : 0
	return !strcmp(k, "name") ? STR(name)
	       : !strcmp(k, "working_dir") ? STR(workdir)
	       : !strcmp(k, "user") ? STR(user)
	       : !strcmp(k, "hostname") ? STR(hostname)
	       : !strcmp(k, "network_mode") ? STR(network)
	       : !strcmp(k, "stop_signal") ? STR(stop_signal)
	       : !strcmp(k, "tty") ? BOOL(tty)
	       : !strcmp(k, "read_only") ? BOOL(read_only)
	       : !strcmp(k, "privileged") ? BOOL(privileged)
	       : !strcmp(k, "no_new_privileges") ? BOOL(no_new_privileges)
	       : !strcmp(k, "auto_remove") ? BOOL(auto_remove)
	       : !strcmp(k, "mem_limit") ? LL(memory)
	       : !strcmp(k, "memswap_limit") ? LL(memory_swap)
	       : !strcmp(k, "nano_cpus") ? LL(nano_cpus)
	       : !strcmp(k, "cpu_shares") ? LL(cpu_shares)
	       : !strcmp(k, "pids_limit") ? LL(pids_limit)
	       : !strcmp(k, "seccomp") ? STR(seccomp)
	       : !strcmp(k, "init") ? BOOL(init)
	       : !strcmp(k, "stdin_open") ? BOOL(open_stdin)
	       : !strcmp(k, "shm_size") ? LL(shm_size)
	       : !strcmp(k, "ulimits") ? strv(s, value, k, &a->arrays[6])
	       : !strcmp(k, "devices") ? strv(s, value, k, &a->arrays[7])
	       : !strcmp(k, "restart_policy") ? parse_restart(s, value, a)
	       : !strcmp(k, "healthcheck") ? parse_health(s, value, a)
	       : !strcmp(k, "log_config") ? parse_log_config(s, value, a)
	       : !strcmp(k, "stop_timeout") ? (a->o.stop_timeout = (int)PyLong_AsLong(value)) == -1 && PyErr_Occurred() ? -1 : 0
	       : !strcmp(k, "volumes") ? mount_specs(s, value, k, &a->arrays[9])
	       : !strcmp(k, "mounts") ? strv(s, value, k, &a->arrays[10])
	       : !strcmp(k, "tmpfs") ? mount_specs(s, value, k, &a->arrays[11])
	       : !strcmp(k, "volumes_from") ? strv(s, value, k, &a->arrays[12])
	       : !strcmp(k, "network_aliases") ? strv(s, value, k, &a->arrays[13])
	       : !strcmp(k, "dns") ? strv(s, value, k, &a->arrays[14])
	       : !strcmp(k, "dns_search") ? strv(s, value, k, &a->arrays[15])
	       : !strcmp(k, "dns_opt") ? strv(s, value, k, &a->arrays[16])
	       : !strcmp(k, "extra_hosts") ? strv(s, value, k, &a->arrays[17])
	       : !strcmp(k, "ip") ? STR(ip)
	       : !strcmp(k, "entrypoint") ? strv(s, value, k, &a->arrays[1])
	       : !strcmp(k, "environment") ? strv(s, value, k, &a->arrays[2])
	       : !strcmp(k, "cap_add") ? strv(s, value, k, &a->arrays[3])
	       : !strcmp(k, "cap_drop") ? strv(s, value, k, &a->arrays[4])
	       : !strcmp(k, "publish") ? strv(s, value, k, &a->arrays[18])
	       : !strcmp(k, "publish_all") ? BOOL(publish_all)
	       : strv(s, value, k, &a->arrays[5]); /* labels */
#undef STR
#undef BOOL
#undef LL
}

static int parse_create(struct strings *s, PyObject *command, PyObject *kw, struct create_args *a)
{
	static const char *const known[] = {
		"name", "entrypoint", "environment", "working_dir", "user", "hostname", "tty", "read_only",
		"privileged", "cap_add", "cap_drop", "no_new_privileges", "mem_limit", "memswap_limit",
		"nano_cpus", "cpu_shares", "pids_limit", "network_mode", "labels", "auto_remove",
		"stop_signal", "stop_timeout", "seccomp", "init", "ulimits", "devices", "shm_size",
		"stdin_open", "restart_policy", "log_config", "healthcheck", "volumes", "mounts", "tmpfs",
		"volumes_from", "publish", "publish_all", "network_aliases", "ip", "dns", "dns_search",
		"dns_opt", "extra_hosts", NULL,
	};
	berth_container_create_opts init = BERTH_CONTAINER_CREATE_OPTS_INIT;
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	memset(a, 0, sizeof(*a));
	a->o = init;
	if (command && command != Py_None) {
		if (PyUnicode_Check(command)) {
			PyErr_SetString(PyExc_TypeError, "command: expected a list of str (no shell parsing)");
			return -1;
		}
		if (strv(s, command, "command", &a->arrays[0]) < 0)
			return -1;
		a->o.cmd = a->arrays[0];
	}
	while (kw && PyDict_Next(kw, &pos, &key, &value)) {
		const char *k = PyUnicode_AsUTF8(key);
		size_t i;

		for (i = 0; known[i] && strcmp(known[i], k); i++)
			;
		if (!known[i]) {
			PyErr_Format(PyExc_TypeError, "unexpected keyword argument '%s'", k);
			return -1;
		}
		if (value == Py_None)
			continue;
		if (parse_option(s, k, value, a) < 0)
			return -1;
	}
	a->o.entrypoint = a->arrays[1];
	a->o.env = a->arrays[2];
	a->o.cap_add = a->arrays[3];
	a->o.cap_drop = a->arrays[4];
	a->o.labels = a->arrays[5];
	a->o.ulimits = a->arrays[6];
	a->o.devices = a->arrays[7];
	a->o.volumes = a->arrays[9];
	a->o.mounts = a->arrays[10];
	a->o.tmpfs = a->arrays[11];
	a->o.volumes_from = a->arrays[12];
	a->o.network_aliases = a->arrays[13];
	a->o.dns = a->arrays[14];
	a->o.dns_search = a->arrays[15];
	a->o.dns_options = a->arrays[16];
	a->o.add_hosts = a->arrays[17];
	a->o.publish = a->arrays[18];
	return 0;
}

/* Creates a container from the parsed arguments; its id, or NULL. */
static PyObject *create(ContextObject *self, berth_ctx *ctx, const char *image, struct create_args *a,
			char **id_out)
{
	berth_error *err = NULL;
	char *id = NULL;
	int rc;

	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_container_create(ctx, image, &a->o, &id, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0)
		return context_raise(self, rc, err);
	*id_out = id;
	return text_from_c(id);
}

const char Context_container_create_doc[] =
	"container_create(image, command=None, *, name=None, entrypoint=None, environment=None,\n"
	"                 working_dir=None, user=None, hostname=None, tty=False, read_only=False,\n"
	"                 privileged=False, cap_add=None, cap_drop=None, no_new_privileges=False,\n"
	"                 mem_limit=0, memswap_limit=0, nano_cpus=0, cpu_shares=0, pids_limit=0,\n"
	"                 network_mode=None, labels=None, auto_remove=False, stop_signal=None,\n"
	"                 stop_timeout=0, seccomp=None, init=False, ulimits=None, devices=None,\n"
	"                 shm_size=0, stdin_open=False, restart_policy=None, log_config=None,\n"
	"                 healthcheck=None, volumes=None, mounts=None, tmpfs=None,\n"
	"                 volumes_from=None, publish=None, publish_all=False,\n"
	"                 network_aliases=None, ip=None, dns=None, dns_search=None,\n"
	"                 dns_opt=None, extra_hosts=None) -> str\n\n"
	"Makes a container from an image in the store and returns its id (64 hex\n"
	"digits). command and entrypoint are lists of str; environment and labels\n"
	"a dict or a list of \"KEY=VALUE\"; keyword names as docker-py's. seccomp:\n"
	"\"unconfined\", \"builtin\" or a profile's path; ulimits: [\"nofile=1024:2048\"];\n"
	"devices: [\"/dev/x[:/dev/y][:rwm]\"]; restart_policy: \"on-failure:3\" or\n"
	"{\"Name\": ..., \"MaximumRetryCount\": n}; log_config: {\"Config\": {\"max-size\":\n"
	"\"10m\"}}; healthcheck: {\"test\": cmd or [\"CMD-SHELL\", cmd] or [\"NONE\"],\n"
	"\"interval\": ns, \"timeout\": ns, \"retries\": n}; volumes: [\"name:/path:ro\",\n"
	"\"/host:/path\", \"/anon\"] or {\"/host\": {\"bind\": \"/path\", \"mode\": \"ro\"}}; mounts:\n"
	"[\"type=tmpfs,target=/t,tmpfs-size=1m\"]; tmpfs: {\"/t\": \"size=1m\"} or\n"
	"[\"/t:size=1m\"]; volumes_from: [\"container:ro\"]; publish:\n"
	"[\"[ip:][host_port:]port[/tcp|udp]\"] (bridge networks); publish_all: every\n"
	"exposed port to a free host port; network_aliases (user networks):\n"
	"[\"db\"]; dns, dns_search, dns_opt: lists of str; extra_hosts: [\"name:ip\"].";

PyObject *Context_container_create(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	struct strings s = { PyList_New(0) };
	struct create_args a;
	PyObject *command = NULL, *result = NULL;
	const char *image;
	char *id = NULL;

	if (!ctx || !s.keep)
		goto out;
	if (!PyArg_ParseTuple(args, "s|O:container_create", &image, &command))
		goto out;
	if (parse_create(&s, command, kwargs, &a) == 0)
		result = create(self, ctx, image, &a, &id);
	create_args_free(&a);
	berth_string_free(id);
out:
	Py_XDECREF(s.keep);
	return result;
}

/* stdio as (in, out, err) of int fds, None for /dev/null; None: detached. */
static int parse_stdio(PyObject *obj, int fds[3], const int **out)
{
	*out = NULL;
	if (!obj || obj == Py_None)
		return 0;
	if (!PyTuple_Check(obj) || PyTuple_GET_SIZE(obj) != 3) {
		PyErr_SetString(PyExc_TypeError, "stdio: a tuple of three fds (int or None)");
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		PyObject *fd = PyTuple_GET_ITEM(obj, i);

		fds[i] = fd == Py_None ? -1 : (int)PyLong_AsLong(fd);
		if (fds[i] == -1 && PyErr_Occurred())
			return -1;
	}
	*out = fds;
	return 0;
}

static PyObject *start(ContextObject *self, berth_ctx *ctx, const char *name, const int *stdio)
{
	berth_container_start_opts o = BERTH_CONTAINER_START_OPTS_INIT;
	berth_error *err = NULL;
	int rc;

	o.stdio = stdio;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_container_start(ctx, name, &o, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	return rc < 0 ? context_raise(self, rc, err) : Py_NewRef(Py_None);
}

const char Context_container_start_doc[] =
	"container_start(name, stdio=None)\n\n"
	"Starts a created or exited container under its monitor. stdio: a tuple\n"
	"of three fds for its stdin, stdout and stderr (None: /dev/null); without\n"
	"it the container is detached and its output goes to its log.";

PyObject *Context_container_start(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "stdio", NULL };
	berth_ctx *ctx = context_get(self);
	PyObject *stdio_obj = NULL;
	const char *name;
	const int *stdio;
	int fds[3];

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|O:container_start", kwlist, &name, &stdio_obj) ||
	    parse_stdio(stdio_obj, fds, &stdio) < 0)
		return NULL;
	return start(self, ctx, name, stdio);
}

/* Waits; fills *how. 0, or -1 with the exception raised. */
static int wait_for(ContextObject *self, berth_ctx *ctx, const char *name, int timeout_ms,
		    berth_container_exit *how)
{
	berth_error *err = NULL;
	int rc;

	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_container_wait(ctx, name, timeout_ms, how, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0) {
		context_raise(self, rc, err);
		return -1;
	}
	return 0;
}

/* seconds (float or None) as milliseconds, -1 for None */
static int timeout_ms(PyObject *obj, int *out)
{
	double t;

	*out = -1;
	if (!obj || obj == Py_None)
		return 0;
	t = PyFloat_AsDouble(obj);
	if (t == -1.0 && PyErr_Occurred())
		return -1;
	*out = t <= 0 ? 0 : t > 2e6 ? 2000000000 : (int)(t * 1000);
	return 0;
}

const char Context_container_wait_doc[] =
	"container_wait(name, timeout=None) -> dict\n\n"
	"Waits for the container to end (timeout in seconds, None: as long as it\n"
	"runs) and returns {\"StatusCode\": int, \"OOMKilled\": bool} as docker-py's\n"
	"wait does. berth.TimeoutError when it still runs.";

PyObject *Context_container_wait(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "timeout", NULL };
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_ctx *ctx = context_get(self);
	PyObject *timeout = NULL;
	const char *name;
	int ms;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|O:container_wait", kwlist, &name, &timeout) ||
	    timeout_ms(timeout, &ms) < 0 || wait_for(self, ctx, name, ms, &how) < 0)
		return NULL;
	return Py_BuildValue("{s:i, s:O}", "StatusCode", how.code, "OOMKilled", how.oom_killed ? Py_True : Py_False);
}

const char Context_container_kill_doc[] =
	"container_kill(name, signal=signal.SIGKILL)\n\n"
	"Sends a signal to the container's init. berth.StateError when it does not run.";

PyObject *Context_container_kill(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "signal", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	int sig = SIGKILL, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|i:container_kill", kwlist, &name, &sig))
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_container_kill(ctx, name, sig, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	return rc < 0 ? context_raise(self, rc, err) : Py_NewRef(Py_None);
}

const char Context_container_stop_doc[] =
	"container_stop(name, timeout=None)\n\n"
	"Sends the stop signal, waits timeout seconds (None: the container's stop\n"
	"timeout), then SIGKILL, and waits for it to end.";

PyObject *Context_container_stop(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "timeout", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *timeout = NULL;
	const char *name;
	int seconds = -1, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|O:container_stop", kwlist, &name, &timeout))
		return NULL;
	if (timeout && timeout != Py_None && (seconds = (int)PyLong_AsLong(timeout)) == -1 && PyErr_Occurred())
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_container_stop(ctx, name, seconds, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	return rc < 0 ? context_raise(self, rc, err) : Py_NewRef(Py_None);
}

static int remove_container(ContextObject *self, berth_ctx *ctx, const char *name, int flags)
{
	berth_error *err = NULL;
	int rc;

	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_container_remove(ctx, name, flags, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0) {
		context_raise(self, rc, err);
		return -1;
	}
	return 0;
}

const char Context_container_remove_doc[] =
	"container_remove(name, force=False, v=False)\n\n"
	"Removes a container. berth.StateError while it runs, unless force (which\n"
	"kills it first); v: its anonymous volumes too (docker-py's name).";

PyObject *Context_container_remove(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "force", "v", NULL };
	berth_ctx *ctx = context_get(self);
	const char *name;
	int force = 0, v = 0;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|pp:container_remove", kwlist, &name, &force, &v) ||
	    remove_container(self, ctx, name,
			     (force ? BERTH_CONTAINER_REMOVE_FORCE : 0) | (v ? BERTH_CONTAINER_REMOVE_VOLUMES : 0)) < 0)
		return NULL;
	Py_RETURN_NONE;
}

const char Context_container_inspect_doc[] =
	"container_inspect(name) -> dict\n\n"
	"The container as `docker inspect` shows it (Id, Name, Created, Path,\n"
	"Args, State, Image, Config, HostConfig, LogPath).";

PyObject *Context_container_inspect(ContextObject *self, PyObject *args)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *json_mod, *result;
	const char *name;
	char *text = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTuple(args, "s:container_inspect", &name))
		return NULL;
	self->uses++;
	Py_BEGIN_ALLOW_THREADS
	rc = berth_container_inspect(ctx, name, &text, &err);
	Py_END_ALLOW_THREADS
	self->uses--;
	if (rc < 0)
		return context_raise(self, rc, err);
	json_mod = PyImport_ImportModule("json");
	result = json_mod ? PyObject_CallMethod(json_mod, "loads", "s", text) : NULL;
	Py_XDECREF(json_mod);
	berth_string_free(text);
	return result;
}

const char Context_container_ids_doc[] = "container_ids() -> list\n\nThe ids of every container, oldest first.";

PyObject *Context_container_ids(ContextObject *self, PyObject *unused)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *list;
	char **ids = NULL;
	size_t count = 0;
	int rc;

	(void)unused;
	if (!ctx)
		return NULL;
	if ((rc = berth_container_ids(ctx, &ids, &count, &err)) < 0)
		return context_raise(self, rc, err);
	if ((list = PyList_New((Py_ssize_t)count)))
		for (size_t i = 0; i < count; i++) {
			PyObject *id = text_from_c(ids[i]);

			if (!id) {
				Py_CLEAR(list);
				break;
			}
			PyList_SET_ITEM(list, (Py_ssize_t)i, id);
		}
	berth_container_ids_free(ids, count);
	return list;
}

/* Reads fd to its end with the GIL released; a bytes object, or NULL. */
static PyObject *read_all(int fd)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n = 0;
	PyObject *out;

	Py_BEGIN_ALLOW_THREADS
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap ? 2 * cap : 65536);

			if (!nb) {
				n = -2;
				break;
			}
			buf = nb;
			cap = cap ? 2 * cap : 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	Py_END_ALLOW_THREADS
	out = n == -2 ? PyErr_NoMemory() : PyBytes_FromStringAndSize(buf ? buf : "", (Py_ssize_t)len);
	free(buf);
	return out;
}

const char Context_run_doc[] =
	"run(image, command=None, *, remove=True, **create_options) -> (int, bytes)\n\n"
	"Runs a command in a new container and returns its exit code and its\n"
	"output (stdout and stderr together, as they came). The container is\n"
	"removed afterwards unless remove is false. create_options as for\n"
	"container_create().";

PyObject *Context_run(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	berth_ctx *ctx = context_get(self);
	struct strings s = { PyList_New(0) };
	struct create_args a = { 0 };
	PyObject *command = NULL, *id_obj = NULL, *output = NULL, *result = NULL, *remove_obj, *started;
	const char *image;
	char *id = NULL;
	int remove = 1, pipefd[2] = { -1, -1 }, stdio[3];

	if (!ctx || !s.keep || !PyArg_ParseTuple(args, "s|O:run", &image, &command))
		goto out;
	if (kwargs && (remove_obj = PyDict_GetItemString(kwargs, "remove"))) {
		PyObject *rest;

		/* the other keywords are container_create's */
		if ((remove = PyObject_IsTrue(remove_obj)) < 0 || !(rest = PyDict_Copy(kwargs)))
			goto out;
		if (PyDict_DelItemString(rest, "remove") < 0 || PyList_Append(s.keep, rest) < 0) {
			Py_DECREF(rest);
			goto out;
		}
		Py_DECREF(rest);
		kwargs = rest;
	}
	if (parse_create(&s, command, kwargs, &a) < 0 || !(id_obj = create(self, ctx, image, &a, &id)))
		goto out;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		PyErr_SetFromErrno(PyExc_OSError);
		goto out;
	}
	stdio[0] = -1;
	stdio[1] = stdio[2] = pipefd[1];
	if (!(started = start(self, ctx, id, stdio)))
		goto out;
	Py_DECREF(started);
	close(pipefd[1]);
	pipefd[1] = -1;
	if ((output = read_all(pipefd[0])) && wait_for(self, ctx, id, -1, &how) == 0)
		result = Py_BuildValue("(iO)", how.code, output);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (id && remove) {
		/* a failure of the run outranks one of the clean-up */
		PyObject *type, *value, *tb;

		PyErr_Fetch(&type, &value, &tb);
		if (remove_container(self, ctx, id, BERTH_CONTAINER_REMOVE_FORCE) < 0 && type)
			PyErr_Clear();
		if (type)
			PyErr_Restore(type, value, tb);
	}
	create_args_free(&a);
	berth_string_free(id);
	Py_XDECREF(id_obj);
	Py_XDECREF(output);
	Py_XDECREF(s.keep);
	return result;
}
