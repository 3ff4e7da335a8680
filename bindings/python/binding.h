/* What the files of the Python binding share: the Context object and the
 * helpers every method uses. */
#ifndef BERTH_PY_BINDING_H
#define BERTH_PY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <berth/berth.h>

typedef struct {
	PyObject_HEAD
	berth_ctx *ctx;       /* NULL once closed */
	PyObject *log;        /* the log callable or NULL */
	unsigned long uses;   /* calls in progress that may release the GIL */
	PyObject *weakreflist;
} ContextObject;

/* The open berth_ctx, or NULL with berth.StateError raised. */
berth_ctx *context_get(ContextObject *self);
/* Raises the exception of a failed call (frees err); returns NULL. */
PyObject *context_raise(ContextObject *self, int rc, berth_error *err);
/* A message or name from the library as str (UTF-8, backslashreplace). */
PyObject *text_from_c(const char *s);

/* container.c: the engine's methods of Context */
PyObject *Context_container_create(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_start(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_wait(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_kill(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_stop(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_remove(ContextObject *self, PyObject *args, PyObject *kwargs);
PyObject *Context_container_inspect(ContextObject *self, PyObject *args);
PyObject *Context_containers(ContextObject *self, PyObject *unused);
PyObject *Context_run(ContextObject *self, PyObject *args, PyObject *kwargs);
extern const char Context_container_create_doc[], Context_container_start_doc[],
	Context_container_wait_doc[], Context_container_kill_doc[], Context_container_stop_doc[],
	Context_container_remove_doc[], Context_container_inspect_doc[], Context_containers_doc[],
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
	{ "containers", (PyCFunction)Context_containers, METH_NOARGS, Context_containers_doc },     \
	{ "run", (PyCFunction)(void (*)(void))Context_run, METH_VARARGS | METH_KEYWORDS,            \
	  Context_run_doc },

#endif
