/* Networks (berth/network.h) as methods of berth.Context, one to one with
 * the C calls: network_create, networks, network_inspect, network_remove,
 * networks_prune, network_attach, network_detach. Each releases the GIL. */
#include "berthpy.h"

#include <stdlib.h>

/* A list of str from a library array of names; frees it. */
static PyObject *name_list(char **names, size_t count)
{
	PyObject *list = PyList_New((Py_ssize_t)count);

	for (size_t i = 0; list && i < count; i++) {
		PyObject *s = text_from_c(names[i]);

		if (!s) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, s);
	}
	berth_network_names_free(names, count);
	return list;
}

const char Context_network_create_doc[] =
	"network_create(name, subnet=None, gateway=None, ip_range=None, internal=False,\n"
	"               labels=None, bridge=None) -> str\n\n"
	"Creates a bridge network and its bridge; returns its id. labels: a list of\n"
	"\"key=value\"; bridge: the device name (default berth-<id>).";

PyObject *Context_network_create(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "subnet", "gateway", "ip_range", "internal", "labels", "bridge", NULL };
	berth_network_create_opts o = BERTH_NETWORK_CREATE_OPTS_INIT;
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *labels = NULL, *result;
	const char *name, **labelv = NULL;
	char *id = NULL;
	int internal = 0, rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s|zzzpOz:network_create", kwlist, &name, &o.subnet,
						 &o.gateway, &o.ip_range, &internal, &labels, &o.bridge) ||
	    str_array(labels, "labels", &labelv) < 0)
		return NULL;
	o.internal = internal;
	o.labels = labelv;
	UNLOCKED(self, rc = berth_network_create(ctx, name, &o, &id, &err));
	free(labelv);
	if (rc < 0)
		return context_raise(self, rc, err);
	result = text_from_c(id);
	berth_string_free(id);
	return result;
}

/* network_names() and networks_prune(): a call giving names, without arguments. */
static PyObject *names_call(ContextObject *self, PyObject *args, PyObject *kwargs, const char *format,
			    int (*fn)(berth_ctx *, char ***, size_t *, berth_error **))
{
	static char *kwlist[] = { NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist))
		return NULL;
	UNLOCKED(self, rc = fn(ctx, &names, &n, &err));
	return rc < 0 ? context_raise(self, rc, err) : name_list(names, n);
}

const char Context_network_names_doc[] = "network_names() -> list\n\nThe names of every network, the default \"bridge\" included.";

PyObject *Context_network_names(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	return names_call(self, args, kwargs, ":network_names", berth_network_list);
}

const char Context_network_inspect_doc[] =
	"network_inspect(name) -> dict\n\nThe network as `docker network inspect` shows one.";

PyObject *Context_network_inspect(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	char *text = NULL;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:network_inspect", kwlist, &name))
		return NULL;
	UNLOCKED(self, rc = berth_network_inspect(ctx, name, &text, &err));
	return rc < 0 ? context_raise(self, rc, err) : from_json(text);
}

const char Context_network_remove_doc[] =
	"network_remove(name)\n\nRemoves a network; StateError while endpoints are attached.";

PyObject *Context_network_remove(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "s:network_remove", kwlist, &name))
		return NULL;
	UNLOCKED(self, rc = berth_network_remove(ctx, name, &err));
	return DONE(self, rc, err);
}

const char Context_networks_prune_doc[] =
	"networks_prune() -> list\n\nRemoves every user network nothing is attached to; their names.";

PyObject *Context_networks_prune(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	return names_call(self, args, kwargs, ":networks_prune", berth_network_prune);
}

const char Context_network_attach_doc[] =
	"network_attach(name, container, netns=None, pid=0, endpoint_name=None, ip=None,\n"
	"               ifname=None, aliases=None) -> dict\n\n"
	"Attaches a network namespace (a path, or a process's) to the network as\n"
	"container's endpoint; returns {Address, PrefixLen, Gateway, MacAddress,\n"
	"HostIfName, NetworkID}. aliases: more DNS names on a user network.";

PyObject *Context_network_attach(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "container", "netns", "pid", "endpoint_name", "ip", "ifname", "aliases", NULL };
	berth_network_attach_opts o = BERTH_NETWORK_ATTACH_OPTS_INIT;
	berth_network_attachment a = BERTH_NETWORK_ATTACHMENT_INIT;
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *netns = NULL, *aliases_obj = Py_None;
	const char **aliases = NULL;
	const char *name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss|O&izzzO:network_attach", kwlist, &name, &o.container,
						 path_or_none, &netns, &o.pid, &o.name, &o.ip, &o.ifname, &aliases_obj))
		return NULL;
	if (str_array(aliases_obj, "aliases", &aliases) < 0) {
		Py_XDECREF(netns);
		return NULL;
	}
	o.aliases = aliases;
	o.netns = netns ? PyBytes_AS_STRING(netns) : NULL;
	UNLOCKED(self, rc = berth_network_attach(ctx, name, &o, &a, &err));
	free(aliases);
	Py_XDECREF(netns);
	if (rc < 0)
		return context_raise(self, rc, err);
	return Py_BuildValue("{s:s, s:i, s:s, s:s, s:s, s:s}", "Address", a.address, "PrefixLen", a.prefix_len,
			     "Gateway", a.gateway, "MacAddress", a.mac, "HostIfName", a.host_ifname, "NetworkID",
			     a.network_id);
}

const char Context_network_detach_doc[] =
	"network_detach(name, container)\n\nDetaches container's endpoint: its veth and lease go.";

PyObject *Context_network_detach(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "container", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *container;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:network_detach", kwlist, &name, &container))
		return NULL;
	UNLOCKED(self, rc = berth_network_detach(ctx, name, container, &err));
	return DONE(self, rc, err);
}

const char Context_network_endpoint_rename_doc[] =
	"network_endpoint_rename(name, container, new_name)\n\n"
	"Gives container's endpoint on the network a new name (its DNS name on a\n"
	"user network); NotFoundError when it is not attached.";

PyObject *Context_network_endpoint_rename(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "container", "new_name", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *container, *new_name;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "sss:network_endpoint_rename", kwlist, &name, &container,
						 &new_name))
		return NULL;
	UNLOCKED(self, rc = berth_network_endpoint_rename(ctx, name, container, new_name, &err));
	return DONE(self, rc, err);
}

const char Context_container_network_connect_doc[] =
	"container_network_connect(name, network, aliases=None, ip=None)\n\n"
	"Connects a container to one more network (at once when it runs, and at\n"
	"each later start); aliases and ip on user networks.";

PyObject *Context_container_network_connect(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "network", "aliases", "ip", NULL };
	berth_container_connect_opts o = BERTH_CONTAINER_CONNECT_OPTS_INIT;
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	PyObject *aliases_obj = Py_None;
	const char **aliases = NULL;
	const char *name, *network;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss|Oz:container_network_connect", kwlist, &name,
						 &network, &aliases_obj, &o.ip) ||
	    str_array(aliases_obj, "aliases", &aliases) < 0)
		return NULL;
	o.aliases = aliases;
	UNLOCKED(self, rc = berth_container_network_connect(ctx, name, network, &o, &err));
	free(aliases);
	return DONE(self, rc, err);
}

const char Context_container_network_disconnect_doc[] =
	"container_network_disconnect(name, network)\n\n"
	"Disconnects a container from a network connect gave it.";

PyObject *Context_container_network_disconnect(ContextObject *self, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = { "name", "network", NULL };
	berth_ctx *ctx = context_get(self);
	berth_error *err = NULL;
	const char *name, *network;
	int rc;

	if (!ctx || !PyArg_ParseTupleAndKeywords(args, kwargs, "ss:container_network_disconnect", kwlist, &name, &network))
		return NULL;
	UNLOCKED(self, rc = berth_container_network_disconnect(ctx, name, network, &err));
	return DONE(self, rc, err);
}
