/* What the files of the Python binding share: the module state, the
 * Context object, strings and errors (berthmodule.c), and each module's
 * types (runtime.c). */
#ifndef BERTHPY_H
#define BERTHPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <berth/berth.h>

/* A parameter a CPython calling convention imposes but this function ignores. */
#if defined(__GNUC__)
#define UNUSED __attribute__((unused))
#else
#define UNUSED
#endif

/* The exception classes, indexed by -code: 0 is unused (BERTH_OK), 1 is the
 * base class berth.Error (BERTH_ERROR). */
#define N_CODES 17

typedef struct {
	PyObject *context_type;
	PyObject *errors[N_CODES]; /* [0] is NULL */
	PyObject *runtime_type;
	PyObject *process_type;
	PyObject *exit_type;       /* berth.ExitStatus, a struct sequence */
	PyObject *images_type;     /* image.c: berth.ImageCollection */
	PyObject *image_type;      /* berth.Image */
	PyObject *reference_type;  /* berth.Reference, a struct sequence */
	PyObject *storage_type;    /* storage.c: berth.Storage */
	PyObject *mount_type;      /* berth.Mount */
	PyObject *cgroups_type;    /* cgroup.c: berth.Cgroups */
	PyObject *cgroup_type;     /* berth.Cgroup */
} module_state;

typedef struct {
	PyObject_HEAD
	berth_ctx *ctx;       /* NULL once closed */
	PyObject *log;        /* the log callable or NULL */
	unsigned long uses;   /* calls in progress that may release the GIL */
	PyObject *weakreflist;
} ContextObject;

/* The state of the berth module that defined `type` (or its base). */
module_state *state_from_type(PyTypeObject *type);
/* Library text for people: UTF-8, undecodable bytes backslash-escaped. */
PyObject *text_from_c(const char *s);
/* Paths: the file system encoding with surrogateescape. */
PyObject *path_from_c(const char *s);
/* For "O&": None gives NULL, else str/bytes/os.PathLike give a bytes object
 * without NUL bytes (a new reference the caller releases). */
int path_or_none(PyObject *obj, void *out);
/* Raises the class for `code` with these attributes; returns NULL. */
PyObject *raise_error(module_state *st, int code, int sys_errno, const char *message);
/* Raises the exception for a failed library call that returned `rc` and
 * filled `err` (which may be NULL if the library forgot); frees `err`. */
PyObject *raise_berth_error(module_state *st, int rc, berth_error *err);
/* The open berth_ctx, or NULL with berth.StateError raised. */
berth_ctx *context_get(ContextObject *self);

/* A failed call on self's context: raises its exception (frees err); NULL. */
PyObject *context_raise(ContextObject *self, int rc, berth_error *err);

/* Borrowed UTF-8 strings stay alive as long as the objects in `keep`. */
struct strings {
	PyObject *keep; /* a list */
};
/* A str's UTF-8, kept alive by s; NULL with an exception set (container.c). */
const char *utf8(struct strings *s, PyObject *obj, const char *what);
/* A NULL-terminated array (to free) from a sequence of str, or from a dict
 * as "KEY=VALUE"; None gives NULL. 0, or -1 with an exception set. */
int strv(struct strings *s, PyObject *obj, const char *what, const char ***out);
/* Library JSON text as Python objects; frees text (ops.c). */
PyObject *from_json(char *text);
/* A list of str of the n library strings v (not freed) (ops.c). */
PyObject *text_list(char *const *v, size_t n);

/* Runs `call` (a statement setting rc) with the GIL released and the
 * context marked in use, so close() cannot free it under the call. */
#define UNLOCKED(self, call)              \
	do {                              \
		(self)->uses++;           \
		Py_BEGIN_ALLOW_THREADS    \
		call;                     \
		Py_END_ALLOW_THREADS      \
		(self)->uses--;           \
	} while (0)

#define DONE(self, rc, err) ((rc) < 0 ? context_raise((self), (rc), (err)) : Py_NewRef(Py_None))

/* ops.c: JSON text as Python objects; a NULL-terminated array of the UTF-8
 * of a list of str (borrowed; None gives NULL; free the array); an fd from
 * an int or an object with fileno() (an "O&" converter). */
PyObject *json_load(const char *text);
int str_array(PyObject *obj, const char *what, const char ***out);
int fd_converter(PyObject *obj, void *out);
/* runtime.c: JSON text from str (as it is) or what json.dumps takes; a new
 * reference to keep in *keep, the text in *out; None gives NULL. */
int json_text(PyObject *obj, PyObject **keep, const char **out);

/* image.c: objects that only keep a context (ctx.images, ctx.storage,
 * ctx.cgroups) share these slots; the struct starts with the context. */
typedef struct {
	PyObject_HEAD
	ContextObject *ctx; /* strong */
} HolderObject;
PyObject *context_holder_new(module_state *st, PyObject *type, ContextObject *ctx);
int context_holder_traverse(PyObject *self, visitproc visit, void *arg);
int context_holder_clear(PyObject *self);
void context_holder_dealloc(PyObject *self);
PyObject *context_holder_context(PyObject *self, void *closure);

/* A Python callback the library calls from its threads: the first exception
 * it raises (or a true return) cancels the call; callback_raise() then, with
 * the GIL, raises that exception instead of the library's error (freed) and
 * returns 1. */
struct py_callback {
	PyObject *fn;
#if PY_VERSION_HEX >= 0x030C0000
	PyObject *exc;
#else
	PyObject *type, *value, *tb;
#endif
	int failed;
};
int callback_raise(struct py_callback *c, berth_error *err);
/* berth_storage_progress_fn calling a struct py_callback */
int unpack_progress(const char *layer, long long done, long long total, void *userdata);
/* None gives NULL in *fn; anything else must be callable. */
int callable_or_none(PyObject **fn, const char *what);

/* image.c, storage.c, cgroup.c: ctx.images, ctx.storage, ctx.cgroups */
PyObject *berthpy_context_images(ContextObject *self, void *closure);
PyObject *berthpy_context_storage(ContextObject *self, void *closure);
PyObject *berthpy_context_cgroups(ContextObject *self, void *closure);
int berthpy_image_init(PyObject *module, module_state *st);
int berthpy_image_traverse(module_state *st, visitproc visit, void *arg);
void berthpy_image_clear(module_state *st);
int berthpy_storage_init(PyObject *module, module_state *st);
int berthpy_storage_traverse(module_state *st, visitproc visit, void *arg);
void berthpy_storage_clear(module_state *st);
int berthpy_cgroup_init(PyObject *module, module_state *st);
int berthpy_cgroup_traverse(module_state *st, visitproc visit, void *arg);
void berthpy_cgroup_clear(module_state *st);

/* container.c: the engine's methods of Context */
PyObject *Context_container_create(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_start(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_wait(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_kill(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_stop(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_remove(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_inspect(ContextObject *self, PyObject *args);
PyObject *Context_container_ids(ContextObject *self, PyObject *unused);
PyObject *Context_run(ContextObject *self, PyObject *args, PyObject *kwargs);
extern const char Context_container_create_doc[], Context_container_start_doc[],
	Context_container_wait_doc[], Context_container_kill_doc[], Context_container_stop_doc[],
	Context_container_remove_doc[], Context_container_inspect_doc[], Context_container_ids_doc[],
	Context_run_doc[];

#define CONTAINER_METHODS                                                                           \
	{ "container_create", (PyCFunction)(void (*)(void))Context_container_create,                \
	  METH_VARARGS | METH_KEYWORDS, Context_container_create_doc },                             \
	{ "container_start", (PyCFunction)(void (*)(void))Context_container_start,                  \
	  METH_VARARGS | METH_KEYWORDS, Context_container_start_doc },                              \
	{ "container_wait", (PyCFunction)(void (*)(void))Context_container_wait,                    \
	  METH_VARARGS | METH_KEYWORDS, Context_container_wait_doc },                               \
	{ "container_kill", (PyCFunction)(void (*)(void))Context_container_kill,                    \
	  METH_VARARGS | METH_KEYWORDS, Context_container_kill_doc },                               \
	{ "container_stop", (PyCFunction)(void (*)(void))Context_container_stop,                    \
	  METH_VARARGS | METH_KEYWORDS, Context_container_stop_doc },                               \
	{ "container_remove", (PyCFunction)(void (*)(void))Context_container_remove,                \
	  METH_VARARGS | METH_KEYWORDS, Context_container_remove_doc },                             \
	{ "container_inspect", (PyCFunction)Context_container_inspect, METH_VARARGS,                \
	  Context_container_inspect_doc },                                                          \
	{ "container_ids", (PyCFunction)Context_container_ids, METH_NOARGS, Context_container_ids_doc }, \
	{ "run", (PyCFunction)(void (*)(void))Context_run, METH_VARARGS | METH_KEYWORDS,            \
	  Context_run_doc },

/* ops.c: the engine's operations on existing containers, all taking keywords */
#define OPS(X) \
	X(container_exec) X(container_pause) X(container_unpause) \
	X(container_restart) X(container_rename) X(container_top) \
	X(containers_prune) X(container_stats) X(container_update) \
	X(container_diff) X(container_export) X(container_copy_to) \
	X(container_copy_from) X(container_path_is_dir) X(container_commit) \
	X(container_attach) X(container_resize) X(containers_boot) \
	X(container_events)
#define OPS_DECLARE(n)                                                                 \
	PyObject *Context_##n(ContextObject *self, PyObject *args, PyObject *kwargs);  \
	extern const char Context_##n##_doc[];
#define OPS_ENTRY(n) \
	{ #n, (PyCFunction)(void (*)(void))Context_##n, METH_VARARGS | METH_KEYWORDS, Context_##n##_doc },
OPS(OPS_DECLARE)
#define OPS_METHODS OPS(OPS_ENTRY)

/* volume.c: berth/volume.h as methods of Context, keywords taken */
#define VOLUME_OPS(X) \
	X(volume_create) X(volume_inspect) X(volume_names) X(volume_remove) X(volumes_prune) \
	X(volume_hold) X(volume_release) X(volume_holders) X(volume_mount) X(volume_unmount) \
	X(volume_populate)
VOLUME_OPS(OPS_DECLARE)
#define VOLUME_METHODS VOLUME_OPS(OPS_ENTRY)
/* network.c: networks (berth/network.h), all taking keywords */
#define NETWORK_OPS(X) \
	X(network_create) X(network_names) X(network_inspect) X(network_remove) \
	X(networks_prune) X(network_attach) X(network_detach) X(network_endpoint_rename) X(container_network_connect) X(container_network_disconnect)
NETWORK_OPS(OPS_DECLARE)
#define NETWORK_METHODS NETWORK_OPS(OPS_ENTRY)

/* runtime.c: berth.Runtime, berth.Process, berth.ExitStatus and the
 * module functions runtime_spec_default() and runtime_features(). */
int berthpy_runtime_init(PyObject *module, module_state *st);
/* A dict of the stats' fields, named as in berth_cgroup_stats (runtime.c). */
PyObject *berthpy_stats_dict(const berth_cgroup_stats *s);
int berthpy_runtime_traverse(module_state *st, visitproc visit, void *arg);
void berthpy_runtime_clear(module_state *st);
/* Context.runtime: a Runtime over the context's default state root. */
PyObject *berthpy_context_runtime(ContextObject *self, void *closure);
extern PyMethodDef berthpy_runtime_functions[];

#endif
