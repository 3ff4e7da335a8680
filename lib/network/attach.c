/* Attaching a network namespace to a network, and detaching it. The
 * networks lock is held from the choice of the address to the end, so
 * two attaches never take one address, and a Pending lease found by a
 * later holder of the lock is a crashed attach's. */
#include "network-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int check_opts(const berth_network_attach_opts *o, berth_error **err)
{
	const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	size_t len = o->container ? strlen(o->container) : 0;

	if (!len || len > 128 || strspn(o->container, ok) != len || o->container[0] == '.')
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid container \"%.140s\" for an endpoint: want 1-128 of [a-zA-Z0-9_.-]",
				    o->container ? o->container : "");
	if (o->name && strlen(o->name) > 256)
		return bt_error_set(err, BERTH_EINVAL, 0, "endpoint name longer than 256 characters");
	len = o->ifname ? strlen(o->ifname) : 4;
	if (o->ifname && (!len || len > 15 || strspn(o->ifname, ok) != len || o->ifname[0] == '.'))
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid interface name \"%.40s\": 1-15 of [a-zA-Z0-9_.-]", o->ifname);
	if (!o->netns && o->pid <= 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "no network namespace: give a path or a pid");
	if (o->nports && !o->ports)
		return bt_error_set(err, BERTH_EINVAL, 0, "nports without ports");
	for (const char *const *a = o->aliases; a && *a; a++)
		if (bt_dns_check_name(*a, "alias", err) < 0)
			return BERTH_EINVAL;
	return bt_ports_check(o->ports, o->nports, err);
}

static int open_netns(const berth_network_attach_opts *o, int *fd, berth_error **err)
{
	char path[64];
	const char *p = o->netns;

	if (!p) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", o->pid);
		p = path;
	}
	if ((*fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return bt_error_os(err, "opening network namespace %s", p);
	return 0;
}

/* The address: the one asked for, or the first free one of the range
 * (never the subnet's first or last, nor the gateway). */
static int choose_ip(const struct bt_net *net, const json_t *leases, const char *want, uint32_t *ip,
		     berth_error **err)
{
	uint32_t last = net->subnet.addr | ~bt_cidr_mask(net->subnet.len);
	uint32_t lo = net->range.addr, hi = net->range.addr | ~bt_cidr_mask(net->range.len);
	char s[16];
	int rc;

	if (want) {
		if ((rc = bt_ip_parse(want, ip, err)) < 0)
			return rc;
		if (!bt_cidr_contains(&net->subnet, *ip) || *ip == net->subnet.addr || *ip == last)
			return bt_error_set(err, BERTH_EINVAL, 0, "address %s is no host address of network %s", want, net->name);
		if (*ip == net->gateway || json_object_get(leases, want))
			return bt_error_set(err, BERTH_EEXISTS, 0, "address %s of network %s is in use", want, net->name);
		return 0;
	}
	for (uint32_t a = lo; a <= hi && a >= lo; a++) {
		if (a == net->subnet.addr || a == last || a == net->gateway)
			continue;
		bt_ip_format(a, s);
		if (!json_object_get(leases, s)) {
			*ip = a;
			return 0;
		}
	}
	return bt_error_set(err, BERTH_EBUSY, 0, "no free address left in network %s", net->name);
}

static bool attached_already(const json_t *leases, const char *container)
{
	const char *ip;
	json_t *lease;

	json_object_foreach((json_t *)leases, ip, lease) {
		const char *c = json_string_value(json_object_get(lease, "Container"));

		if (c && !strcmp(c, container))
			return true;
	}
	return false;
}

struct endpoint {
	struct bt_nl_endpoint nl;
	char host_if[16], mac[18], ip[16], endpoint_id[65];
	char *lease_path;
	json_t *lease;
};

static int plan_endpoint(const struct bt_net *net, const berth_network_attach_opts *o, uint32_t ip,
			 struct endpoint *ep, berth_error **err)
{
	unsigned char raw[32];
	char cidr[20];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return bt_error_os(err, "getrandom");
	for (size_t i = 0; i < 32; i++)
		snprintf(ep->endpoint_id + 2 * i, 3, "%02x", raw[i]);
	snprintf(ep->host_if, sizeof(ep->host_if), "berthv%.9s", ep->endpoint_id);
	/* Docker's rule: 02:42 and the address, so a MAC never repeats on a network */
	ep->nl.mac[0] = 0x02;
	ep->nl.mac[1] = 0x42;
	for (int i = 0; i < 4; i++)
		ep->nl.mac[2 + i] = (unsigned char)(ip >> (24 - 8 * i));
	snprintf(ep->mac, sizeof(ep->mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->nl.mac[0], ep->nl.mac[1],
		 ep->nl.mac[2], ep->nl.mac[3], ep->nl.mac[4], ep->nl.mac[5]);
	bt_ip_format(ip, ep->ip);
	snprintf(cidr, sizeof(cidr), "%s/%d", ep->ip, net->subnet.len);
	ep->nl.host_if = ep->host_if;
	ep->nl.bridge = net->bridge;
	ep->nl.ifname = o->ifname ? o->ifname : "eth0";
	ep->nl.ip = ip;
	ep->nl.len = net->subnet.len;
	ep->nl.gw = net->internal || o->no_default_route ? 0 : net->gateway;
	ep->lease = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "Container", o->container, "Name",
			      o->name ? o->name : o->container, "EndpointID", ep->endpoint_id, "MacAddress", ep->mac,
			      "IPv4Address", cidr, "HostIf", ep->host_if, "IfName", ep->nl.ifname, "HostNs",
			      (json_int_t)bt_net_ns_ino(), "Pending", 1);
	ep->lease_path = bt_lease_path(net, ip);
	if (ep->lease && o->aliases && *o->aliases) {
		json_t *aliases = json_array();

		for (const char *const *a = o->aliases; *a; a++)
			json_array_append_new(aliases, json_string(*a));
		json_object_set_new(ep->lease, "Aliases", aliases);
	}
	if (!ep->lease || !ep->lease_path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return 0;
}

/* The published ports into the lease, with the ports chosen for 0. */
static int claim_ports(berth_ctx *ctx, const berth_network_attach_opts *o, json_t *lease, berth_error **err)
{
	json_t *ports;
	int rc;

	if ((rc = bt_ports_claim(ctx, o->ports, o->nports, &ports, err)) < 0)
		return rc;
	json_object_set_new(lease, "Ports", ports);
	return 0;
}

/* Forwarding on, as Docker turns it on for its bridge. */
static int enable_forwarding(berth_error **err)
{
	char *cur = NULL;
	int rc = 0;

	if (bt_read_file("/proc/sys/net/ipv4/ip_forward", 16, &cur, NULL, NULL) == 0 && cur[0] == '1') {
		free(cur);
		return 0;
	}
	free(cur);
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1)
		rc = bt_error_os(err, "enabling IPv4 forwarding");
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Lease, bridge, veth: each undone when a later step fails. */
static int attach_locked(berth_ctx *ctx, struct bt_net *net, const berth_network_attach_opts *o, int netns,
			 berth_network_attachment *res, berth_error **err)
{
	struct endpoint ep = { .nl.netns_fd = netns };
	json_t *leases = NULL;
	bool made = false;
	uint32_t ip;
	int rc;

	bt_lease_sweep(ctx, net);
	if ((rc = bt_lease_list(net, &leases, err)) < 0)
		return rc;
	if (attached_already(leases, o->container)) {
		rc = bt_error_set(err, BERTH_EEXISTS, 0, "%s is attached to network %s already", o->container, net->name);
		goto out;
	}
	if (o->nports && net->internal) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "network %s is internal: no port can be published", net->name);
		goto out;
	}
	if ((rc = choose_ip(net, leases, o->ip, &ip, err)) < 0 || (rc = plan_endpoint(net, o, ip, &ep, err)) < 0 ||
	    (o->nports && (rc = claim_ports(ctx, o, ep.lease, err)) < 0) ||
	    (rc = bt_json_write_atomic(ep.lease_path, ep.lease, err)) < 0)
		goto out;
	if ((rc = bt_nl_bridge_ensure(net->bridge, net->gateway, net->subnet.len, &made, err)) < 0 ||
	    (!net->internal && (rc = enable_forwarding(err)) < 0) ||
	    (o->nports && (rc = bt_ports_route_localnet(net->bridge, err)) < 0) ||
	    (rc = bt_nl_endpoint_create(&ep.nl, err)) < 0)
		goto undo;
	json_object_del(ep.lease, "Pending");
	if ((rc = bt_json_write_atomic(ep.lease_path, ep.lease, err)) < 0 ||
	    ((made || o->nports) && (rc = bt_net_rules_sync(ctx, err)) < 0)) {
		bt_nl_link_delete(ep.host_if, NULL);
		goto undo;
	}
	snprintf(res->address, sizeof(res->address), "%s", ep.ip);
	res->prefix_len = net->subnet.len;
	if (!net->internal)
		bt_ip_format(net->gateway, res->gateway);
	snprintf(res->mac, sizeof(res->mac), "%s", ep.mac);
	snprintf(res->host_ifname, sizeof(res->host_ifname), "%s", ep.host_if);
	snprintf(res->network_id, sizeof(res->network_id), "%s", net->id);
	bt_dns_sync_logged(ctx);
	goto out;
undo:
	unlink(ep.lease_path);
	if (made)
		bt_nl_link_delete(net->bridge, NULL);
	if (made || o->nports)
		bt_net_rules_sync(ctx, NULL);
out:
	json_decref(ep.lease);
	free(ep.lease_path);
	json_decref(leases);
	return rc;
}

int berth_network_attach(berth_ctx *ctx, const char *name, const berth_network_attach_opts *opts,
			 berth_network_attachment *out, berth_error **err)
{
	berth_network_attach_opts o = BERTH_NETWORK_ATTACH_OPTS_INIT;
	berth_network_attachment res = BERTH_NETWORK_ATTACHMENT_INIT;
	struct bt_net *net = NULL;
	int lock = -1, netns = -1, rc;

	if (!ctx)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context");
	if (!name)
		name = BERTH_NETWORK_DEFAULT;
	if ((opts && (rc = bt_opts_copy(&o, sizeof(o), opts, "berth_network_attach_opts", err)) < 0) ||
	    (rc = check_opts(&o, err)) < 0 || (rc = open_netns(&o, &netns, err)) < 0)
		goto out;
	if ((rc = bt_net_lock(ctx, &lock, err)) < 0)
		goto out;
	if ((rc = strcmp(name, BERTH_NETWORK_DEFAULT) ? 0 : bt_net_ensure_default(ctx, err)) < 0 ||
	    (rc = bt_net_load(ctx, name, &net, err)) < 0 || (rc = attach_locked(ctx, net, &o, netns, &res, err)) < 0)
		goto out;
	if (out)
		bt_opts_copy_out(out, &res, sizeof(res));
out:
	bt_lock_release(lock);
	if (netns >= 0)
		close(netns);
	bt_net_free(net);
	return rc < 0 ? bt_error_wrap(err, rc, "attaching %s to network %s", o.container ? o.container : "?", name) : 0;
}

/* Runs op on container's endpoint on network name (the default one when
 * NULL), with the networks lock held; ENOTFOUND when it has none. */
typedef int (*endpoint_op)(berth_ctx *ctx, const struct bt_net *net, const char *ip, json_t *lease,
			   const void *arg, berth_error **err);

static int on_endpoint(berth_ctx *ctx, const char *name, const char *container, endpoint_op op, const void *arg,
		       berth_error **err)
{
	struct bt_net *net = NULL;
	json_t *leases = NULL, *lease;
	const char *ip;
	int lock, rc;

	if ((rc = bt_net_lock(ctx, &lock, err)) < 0)
		return rc;
	if ((rc = bt_net_load(ctx, name ? name : BERTH_NETWORK_DEFAULT, &net, err)) < 0 ||
	    (rc = bt_lease_list(net, &leases, err)) < 0)
		goto out;
	rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "%s is not attached to network %s", container, net->name);
	json_object_foreach(leases, ip, lease) {
		const char *c = json_string_value(json_object_get(lease, "Container"));
		uint32_t addr;

		if (!c || strcmp(c, container) || bt_ip_parse(ip, &addr, NULL) < 0)
			continue;
		bt_error_clear(err);
		rc = op(ctx, net, ip, lease, arg, err);
		break;
	}
out:
	bt_lock_release(lock);
	json_decref(leases);
	bt_net_free(net);
	return rc;
}

/* The veth, the lease, the rules of its ports, its names. */
static int detach_endpoint(berth_ctx *ctx, const struct bt_net *net, const char *ip, json_t *lease,
			   const void *arg, berth_error **err)
{
	const char *host_if = json_string_value(json_object_get(lease, "HostIf"));
	char *path;
	int rc;

	(void)arg;
	if ((rc = host_if ? bt_nl_link_delete(host_if, err) : 0) < 0)
		return rc;
	if (!(path = bt_strdup_printf("%s/leases/%s", net->dir, ip)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if (unlink(path) < 0 && errno != ENOENT)
		rc = bt_error_os(err, "removing lease %s", path);
	else if (json_array_size(json_object_get(lease, "Ports")))
		rc = bt_net_rules_sync(ctx, err);
	free(path);
	bt_dns_sync_logged(ctx);
	return rc;
}

int berth_network_detach(berth_ctx *ctx, const char *name, const char *container, berth_error **err)
{
	if (!ctx || !container)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context or no container");
	return on_endpoint(ctx, name, container, detach_endpoint, NULL, err);
}

static int rename_endpoint(berth_ctx *ctx, const struct bt_net *net, const char *ip, json_t *lease,
			   const void *new_name, berth_error **err)
{
	char *path = bt_strdup_printf("%s/leases/%s", net->dir, ip);
	int rc;

	json_object_set_new(lease, "Name", json_string(new_name));
	if (!path)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = bt_json_write_atomic(path, lease, err)) == 0)
		bt_dns_sync_logged(ctx);
	free(path);
	return rc;
}

int berth_network_endpoint_rename(berth_ctx *ctx, const char *name, const char *container, const char *new_name,
				  berth_error **err)
{
	if (!ctx || !container || !new_name)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context, container or new name");
	if (bt_dns_check_name(new_name, "endpoint name", err) < 0)
		return BERTH_EINVAL;
	return on_endpoint(ctx, name, container, rename_endpoint, new_name, err);
}
