/* The network calls that work on networks as a whole: create, list,
 * inspect, remove, prune. Each holds the networks lock throughout, and
 * sweeps the leases of namespaces that have gone before it answers. */
#include "network-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes the bridge of a network just recorded, and its rules; on failure
 * neither the bridge nor the record is left. */
static int bring_up(berth_ctx *ctx, struct bt_net *net, berth_error **err)
{
	bool made = false;
	int rc;

	/* a host's own interface (docker0, a VPN's, a VLAN) is never taken
	 * over: the network's removal would delete it */
	if (bt_nl_link_exists(net->bridge))
		rc = bt_error_set(err, BERTH_EEXISTS, 0,
				  "creating network %s: the host has an interface named %s already", net->name,
				  net->bridge);
	else if ((rc = bt_nl_bridge_ensure(net->bridge, net->gateway, net->subnet.len, &made, err)) == 0 &&
	    (rc = bt_net_rules_sync(ctx, err)) == 0)
		return 0;
	if (made)
		bt_nl_link_delete(net->bridge, NULL);
	bt_rm_rf(net->dir, NULL);
	bt_net_rules_sync(ctx, NULL);
	return rc;
}

int berth_network_create(berth_ctx *ctx, const char *name, const berth_network_create_opts *opts, char **id,
			 berth_error **err)
{
	berth_network_create_opts o = BERTH_NETWORK_CREATE_OPTS_INIT;
	struct bt_net *net = NULL;
	int lock, rc;

	if (id)
		*id = NULL;
	if (!ctx)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context");
	if (opts && (rc = bt_opts_copy(&o, sizeof(o), opts, "berth_network_create_opts", err)) < 0)
		return rc;
	if ((rc = bt_net_lock(ctx, &lock, err)) < 0)
		return rc;
	if ((rc = bt_net_create_locked(ctx, name, &o, &net, err)) == 0 && (rc = bring_up(ctx, net, err)) == 0 && id &&
	    !(*id = strdup(net->id)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	bt_lock_release(lock);
	bt_net_free(net);
	return rc < 0 ? bt_error_wrap(err, rc, "creating network %s", name ? name : "") : 0;
}

void berth_network_names_free(char **names, size_t count)
{
	bt_strv_free(names, count);
}

int berth_network_list(berth_ctx *ctx, char ***names, size_t *count, berth_error **err)
{
	struct bt_strv sv = { 0 };
	struct bt_net **v = NULL;
	size_t n = 0;
	int lock, rc;

	*names = NULL;
	*count = 0;
	if (!ctx)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context");
	if ((rc = bt_net_lock(ctx, &lock, err)) < 0)
		return rc;
	if ((rc = bt_net_ensure_default(ctx, err)) == 0)
		rc = bt_net_load_all(ctx, &v, &n, err);
	bt_lock_release(lock);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (bt_strv_add(&sv, strdup(v[i]->name)) < 0)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	bt_net_free_all(v, n);
	if (rc < 0) {
		bt_strv_free(sv.v, sv.n);
		return rc;
	}
	*names = sv.v;
	*count = sv.n;
	return 0;
}

/* The network's Containers as inspect shows them, from its leases. */
static json_t *containers_json(const json_t *leases)
{
	json_t *out = json_object(), *lease;
	const char *ip;

	json_object_foreach((json_t *)leases, ip, lease) {
		const char *id = json_string_value(json_object_get(lease, "Container"));

		if (!id || !out)
			continue;
		json_object_set_new(out, id,
				    json_pack("{s:O?, s:O?, s:O?, s:O?, s:s}", "Name", json_object_get(lease, "Name"),
					      "EndpointID", json_object_get(lease, "EndpointID"), "MacAddress",
					      json_object_get(lease, "MacAddress"), "IPv4Address",
					      json_object_get(lease, "IPv4Address"), "IPv6Address", ""));
	}
	return out;
}

/* Loads a network with the lock held and its stale leases swept; the
 * default network is made when asked for and missing. */
static int load_swept(berth_ctx *ctx, const char *name, struct bt_net **net, json_t **leases, berth_error **err)
{
	int rc;

	if (name && !strcmp(name, BERTH_NETWORK_DEFAULT) && (rc = bt_net_ensure_default(ctx, err)) < 0)
		return rc;
	if ((rc = bt_net_load(ctx, name, net, err)) < 0)
		return rc;
	bt_lease_sweep(ctx, *net);
	/* an aardvark-dns killed meanwhile is started again */
	bt_dns_sync_logged(ctx);
	if (leases && (rc = bt_lease_list(*net, leases, err)) < 0) {
		bt_net_free(*net);
		*net = NULL;
	}
	return rc;
}

int berth_network_inspect(berth_ctx *ctx, const char *name, char **json, berth_error **err)
{
	struct bt_net *net = NULL;
	json_t *leases = NULL, *out = NULL;
	int lock, rc;

	*json = NULL;
	if (!ctx)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context");
	if ((rc = bt_net_lock(ctx, &lock, err)) < 0)
		return rc;
	rc = load_swept(ctx, name, &net, &leases, err);
	bt_lock_release(lock);
	if (rc < 0)
		return rc;
	if (!(out = json_deep_copy(net->rec)) || json_object_set_new(out, "Containers", containers_json(leases)) < 0 ||
	    !(*json = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	json_decref(out);
	json_decref(leases);
	bt_net_free(net);
	return rc;
}

/* Removes a loaded network whose leases are swept (lock held). */
static int remove_locked(berth_ctx *ctx, struct bt_net *net, const json_t *leases, berth_error **err)
{
	char *gone;
	int rc;

	if (!strcmp(net->name, BERTH_NETWORK_DEFAULT))
		return bt_error_set(err, BERTH_EPERM, 0, "%s is a pre-defined network and cannot be removed", net->name);
	if (json_object_size(leases)) {
		json_t *lease;
		const char *ip;
		char *names = NULL;

		json_object_foreach((json_t *)leases, ip, lease) {
			const char *who = json_string_value(json_object_get(lease, "Name"));
			char *more = bt_strdup_printf("%s%s%s", names ? names : "", names ? ", " : "", who ? who : ip);

			free(names);
			names = more;
		}
		rc = bt_error_set(err, BERTH_ESTATE, 0, "network %s has active endpoints: %s", net->name,
				  names ? names : "?");
		free(names);
		return rc;
	}
	/* the bridge first, while the record still names it: a failure or a
	 * crash leaves a network whose removal can be asked again (a missing
	 * bridge is no error), never a bridge nothing names */
	if ((rc = bt_nl_link_delete(net->bridge, err)) < 0)
		return rc;
	/* then out of sight: a crash after this leaves a directory no lookup
	 * finds, which the sweep removes */
	if (!(gone = bt_strdup_printf("%s/../.rm-%s", net->dir, net->id)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (rename(net->dir, gone) < 0) {
		rc = bt_error_os(err, "removing %s", net->dir);
		free(gone);
		return rc;
	}
	rc = bt_net_rules_sync(ctx, err);
	bt_dns_sync_logged(ctx);
	bt_rm_rf(gone, NULL);
	free(gone);
	return rc;
}

int berth_network_remove(berth_ctx *ctx, const char *name, berth_error **err)
{
	struct bt_net *net = NULL;
	json_t *leases = NULL;
	int lock, rc;

	if (!ctx)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context");
	if ((rc = bt_net_lock(ctx, &lock, err)) < 0)
		return rc;
	if ((rc = load_swept(ctx, name, &net, &leases, err)) == 0)
		rc = remove_locked(ctx, net, leases, err);
	bt_lock_release(lock);
	json_decref(leases);
	bt_net_free(net);
	return rc < 0 ? bt_error_wrap(err, rc, "removing network %s", name ? name : "") : 0;
}

int berth_network_prune(berth_ctx *ctx, char ***names, size_t *count, berth_error **err)
{
	struct bt_strv sv = { 0 };
	struct bt_net **v = NULL;
	size_t n = 0;
	int lock, rc;

	if (names)
		*names = NULL;
	if (count)
		*count = 0;
	if (!ctx)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context");
	if ((rc = bt_net_lock(ctx, &lock, err)) < 0)
		return rc;
	rc = bt_net_load_all(ctx, &v, &n, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *leases = NULL;

		if (!strcmp(v[i]->name, BERTH_NETWORK_DEFAULT))
			continue;
		bt_lease_sweep(ctx, v[i]);
		if ((rc = bt_lease_list(v[i], &leases, err)) == 0 && !json_object_size(leases) &&
		    (rc = remove_locked(ctx, v[i], leases, err)) == 0 && bt_strv_add(&sv, strdup(v[i]->name)) < 0)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		json_decref(leases);
	}
	bt_lock_release(lock);
	bt_net_free_all(v, n);
	if (rc < 0 || !names) {
		bt_strv_free(sv.v, sv.n);
		return rc;
	}
	*names = sv.v;
	*count = sv.n;
	return 0;
}
