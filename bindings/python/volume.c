/* Volumes (berth/volume.h) as methods of berth.Context, one to one with
 * the C calls; the shapes of docker-py's where it has one (labels and
 * driver_opts as dicts, prune's {"VolumesDeleted", "SpaceReclaimed"}).
 * Every call releases the GIL. */
#include "berthpy.h"

#include <stdlib.h>

/* A list of str from a library array of names; frees it. */
static PyObject *name_list(char **names, size_t count)
{
	PyObject *list = text_list(names, count);

	berth_volume_names_free(names, count);
	return list;
}

/* Docker's filters: {"label": ["a=b"], "dangling": True} or ["label=a=b"];
 * into "key=value" strings kept by s. */
static int filters(struct strings *s, PyObject *obj, const char ***out)
{
	PyObject *items, *key, *value;
	Py_ssize_t pos = 0;
	int rc;

	if (!obj || obj == Py_None || !PyDict_Check(obj))
		return strv(s, obj, "filters", out);
	if (!(items = PyList_New(0)))
		return -1;
	while (PyDict_Next(obj, &pos, &key, &value)) {
		PyObject *seq = PyList_Check(value) || PyTuple_Check(value) ? PySequence_Fast(value, "filters")
									    : PyTuple_Pack(1, value);

		for (Py_ssize_t i = 0; seq && i < PySequence_Fast_GET_SIZE(seq); i++) {
			PyObject *v = PySequence_Fast_GET_ITEM(seq, i);
			PyObject *kv = PyBool_Check(v) ? PyUnicode_FromFormat("%S=%s", key, v == Py_True ? "true" : "false")
						       : PyUnicode_FromFormat("%S=%S", key, v);

			if (!kv || PyList_Append(items, kv) < 0) {
				Py_XDECREF(kv);
				Py_CLEAR(seq);
				break;
			}
			Py_DECREF(kv);
		}
		if (!seq) {
			Py_DECREF(items);
			return -1;
		}
		Py_DECREF(seq);
	}
	rc = strv(s, items, "filters", out);
	Py_DECREF(items);
	return rc;
}

const char Context_volume_create_doc[] =
	"volume_create(name=None, *, driver=None, driver_opts=None, labels=None) -> str\n\n"
	"Creates a volume (an anonymous one without a name) and returns its\n"
	"name; one that exists is returned as it is. driver_opts: the local\n"
	"driver's {\"type\": ..., \"device\": ..., \"o\": ...}; labels a dict.";

PyObject *Context_volume_create(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_volume_create_opts o = BERTH_VOLUME_CREATE_OPTS_INIT;
	berth_ctx *ctx = context_get(self);
	struct strings s = { NULL };
	PyObject *labels = NULL, *opts = NULL, *result = NULL;
	const char **lv = NULL, **ov = NULL;
	const char *name = NULL;
	berth_error *err = NULL;
	char *made = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "|z$zOO:volume_create",
						 (char *[]){ "name", "driver", "driver_opts", "labels", NULL },
						 &name, &o.driver, &opts, &labels))
		return NULL;
	if (!(s.keep = PyList_New(0)) || strv(&s, labels, "labels", &lv) < 0 || strv(&s, opts, "driver_opts", &ov) < 0)
		goto out;
	o.labels = lv;
	o.options = ov;
	UNLOCKED(self, rc = berth_volume_create(ctx, name, &o, &made, &err));
	result = rc < 0 ? context_raise(self, rc, err) : text_from_c(made);
	berth_string_free(made);
out:
	free(lv);
	free(ov);
	Py_XDECREF(s.keep);
	return result;
}

const char Context_volume_inspect_doc[] =
	"volume_inspect(name, usage=False) -> dict\n\n"
	"The volume as `docker volume inspect` shows it (Name, Driver,\n"
	"Mountpoint, CreatedAt, Labels, Options, Scope; UsageData with usage).";

PyObject *Context_volume_inspect(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	char *text = NULL;
	int usage = 0, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|p:volume_inspect", (char *[]){ "name", "usage", NULL },
						 &name, &usage))
		return NULL;
	UNLOCKED(self, rc = berth_volume_inspect(ctx, name, usage ? BERTH_VOLUME_INSPECT_USAGE : 0, &text, &err));
	return rc < 0 ? context_raise(self, rc, err) : from_json(text);
}

const char Context_volume_names_doc[] =
	"volume_names(filters=None) -> list\n\n"
	"The names of the volumes, sorted; filters as docker-py's dict\n"
	"({\"dangling\": True, \"label\": [\"a=b\"], \"name\": \"x\"}) or a list of \"key=value\".";

PyObject *Context_volume_names(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	struct strings s = { NULL };
	PyObject *f = NULL, *result = NULL;
	const char **fv = NULL;
	berth_error *err = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "|O:volume_names", (char *[]){ "filters", NULL }, &f))
		return NULL;
	if (!(s.keep = PyList_New(0)) || filters(&s, f, &fv) < 0)
		goto out;
	UNLOCKED(self, rc = berth_volume_list(ctx, fv, &names, &n, &err));
	result = rc < 0 ? context_raise(self, rc, err) : name_list(names, n);
out:
	free(fv);
	Py_XDECREF(s.keep);
	return result;
}

const char Context_volume_remove_doc[] =
	"volume_remove(name, force=False)\n\n"
	"Removes a volume and its data. berth.BusyError, naming the holders,\n"
	"while a container uses it (unless forced).";

PyObject *Context_volume_remove(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	int force = 0, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|p:volume_remove", (char *[]){ "name", "force", NULL },
						 &name, &force))
		return NULL;
	UNLOCKED(self, rc = berth_volume_remove(ctx, name, force ? BERTH_VOLUME_REMOVE_FORCE : 0, &err));
	return DONE(self, rc, err);
}

const char Context_volumes_prune_doc[] =
	"volumes_prune(filters=None) -> dict\n\n"
	"Removes every volume no container uses (label filters only); returns\n"
	"docker-py's {\"VolumesDeleted\": [names], \"SpaceReclaimed\": bytes}.";

PyObject *Context_volumes_prune(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	struct strings s = { NULL };
	PyObject *f = NULL, *result = NULL, *list;
	unsigned long long bytes = 0;
	const char **fv = NULL;
	berth_error *err = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "|O:volumes_prune", (char *[]){ "filters", NULL }, &f))
		return NULL;
	if (!(s.keep = PyList_New(0)) || filters(&s, f, &fv) < 0)
		goto out;
	UNLOCKED(self, rc = berth_volume_prune(ctx, fv, &names, &n, &bytes, &err));
	if (rc < 0) {
		result = context_raise(self, rc, err);
	} else if ((list = name_list(names, n))) {
		result = Py_BuildValue("{s:O, s:K}", "VolumesDeleted", list, "SpaceReclaimed", bytes);
		Py_DECREF(list);
	}
out:
	free(fv);
	Py_XDECREF(s.keep);
	return result;
}

/* name and holder, for the calls that take both. */
#define HOLDER_CALL(fn, call)                                                                              \
	PyObject *Context_##fn(ContextObject *self, PyObject *args, PyObject *kwargs)                    \
	{                                                                                                  \
		berth_ctx *ctx = context_get(self);                                                        \
		berth_error *err = NULL;                                                                   \
		const char *name, *holder;                                                                 \
		int rc;                                                                                    \
                                                                                                           \
		if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:" #fn,                          \
							 (char *[]){ "name", "holder", NULL }, &name, &holder)) \
			return NULL;                                                                       \
		UNLOCKED(self, rc = call(ctx, name, holder, &err));                                        \
		return DONE(self, rc, err);                                                                \
	}

const char Context_volume_hold_doc[] =
	"volume_hold(name, holder)\n\n"
	"Takes holder's hold on the volume: its removal is refused while held.";
HOLDER_CALL(volume_hold, berth_volume_hold)

const char Context_volume_release_doc[] =
	"volume_release(name, holder)\n\nDrops holder's hold (and its mount).";
HOLDER_CALL(volume_release, berth_volume_release)

const char Context_volume_unmount_doc[] =
	"volume_unmount(name, holder)\n\n"
	"holder is done with the volume; the last user's call undoes a driver's mount.";
HOLDER_CALL(volume_unmount, berth_volume_unmount)

const char Context_volume_holders_doc[] =
	"volume_holders(name) -> list\n\nWho holds the volume, oldest first.";

PyObject *Context_volume_holders(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	char **names = NULL;
	size_t n = 0;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:volume_holders", (char *[]){ "name", NULL }, &name))
		return NULL;
	UNLOCKED(self, rc = berth_volume_holders(ctx, name, &names, &n, &err));
	return rc < 0 ? context_raise(self, rc, err) : name_list(names, n);
}

const char Context_volume_mount_doc[] =
	"volume_mount(name, holder) -> str\n\n"
	"Makes the volume ready for holder (a driver's mount made by the first\n"
	"user) and returns the path to bind (its _data).";

PyObject *Context_volume_mount(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *holder;
	PyObject *result;
	char *path = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:volume_mount", (char *[]){ "name", "holder", NULL },
						 &name, &holder))
		return NULL;
	UNLOCKED(self, rc = berth_volume_mount(ctx, name, holder, &path, &err));
	if (rc < 0)
		return context_raise(self, rc, err);
	result = path_from_c(path);
	berth_string_free(path);
	return result;
}

const char Context_volume_populate_doc[] =
	"volume_populate(name, rootfs, path)\n\n"
	"Copies directory path of the root file system rootfs (resolved inside\n"
	"it) into the volume when the volume is empty, owners, modes, xattrs\n"
	"and symlinks kept; a copy killed halfway is redone by the next call.";

PyObject *Context_volume_populate(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *rootfs = NULL, *path = NULL, *result;
	const char *name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "sO&O&:volume_populate",
						 (char *[]){ "name", "rootfs", "path", NULL }, &name, path_or_none,
						 &rootfs, path_or_none, &path))
		return NULL;
	if (!rootfs || !path) {
		Py_XDECREF(rootfs);
		Py_XDECREF(path);
		PyErr_SetString(PyExc_TypeError, "volume_populate: rootfs and path are required");
		return NULL;
	}
	UNLOCKED(self, rc = berth_volume_populate(ctx, name, PyBytes_AS_STRING(rootfs), PyBytes_AS_STRING(path), &err));
	result = DONE(self, rc, err);
	Py_DECREF(rootfs);
	Py_DECREF(path);
	return result;
}
