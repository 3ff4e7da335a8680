/* Internal API of the network module (lib/network). */
#ifndef BERTH_NETWORK_INTERNAL_H
#define BERTH_NETWORK_INTERNAL_H

#include "internal.h"

#include <netinet/in.h>

#include <berth/network.h>

#define BT_NET_MODULE "network"

/* ---- addresses (ipam.c) ---------------------------------------------- */
struct bt_cidr {
	uint32_t addr; /* host byte order, the network's first address */
	int len;
};
/* Parses "a.b.c.d/len" (host bits must be zero when strict). */
int bt_cidr_parse(const char *s, bool strict, struct bt_cidr *out, berth_error **err);
int bt_ip_parse(const char *s, uint32_t *out, berth_error **err);
void bt_ip_format(uint32_t ip, char out[16]);
void bt_cidr_format(const struct bt_cidr *c, char out[20]);
uint32_t bt_cidr_mask(int len);
bool bt_cidr_contains(const struct bt_cidr *c, uint32_t ip);
bool bt_cidr_overlap(const struct bt_cidr *a, const struct bt_cidr *b);

/* ---- netlink (netlink.c) ---------------------------------------------
 * Every call works in the network namespace of the calling thread unless
 * it takes a namespace fd. */
/* The IPv4 routes of the main table (destinations), for the pool. */
int bt_nl_routes(struct bt_cidr **out, size_t *n, berth_error **err);
/* Makes bridge `name` when missing, gives it gw/len and brings it up.
 * *made tells whether this call made it. */
int bt_nl_bridge_ensure(const char *name, uint32_t gw, int len, bool *made, berth_error **err);
/* Deletes link `name`; a missing one is not an error. */
int bt_nl_link_delete(const char *name, berth_error **err);
bool bt_nl_link_exists(const char *name);
/* Makes veth host_if (on bridge, up) whose peer is ifname in netns_fd with
 * mac, address ip/len, up, lo up and a default route via gw (0: none). */
struct bt_nl_endpoint {
	const char *host_if, *bridge, *ifname;
	int netns_fd;
	unsigned char mac[6];
	uint32_t ip, gw;
	int len;
};
int bt_nl_endpoint_create(const struct bt_nl_endpoint *ep, berth_error **err);

/* ---- nftables (nft.c) ------------------------------------------------- */
/* Runs a batch of nft commands as one transaction. */
int bt_nft_run(const char *cmds, berth_error **err);

/* ---- store (store.c) ---------------------------------------------------- */
struct bt_net {
	char id[65];
	char *name;
	char *dir; /* <root>/networks/<id> */
	json_t *rec; /* network.json: what inspect shows, less Containers */
	struct bt_cidr subnet, range;
	uint32_t gateway;
	bool internal;
	const char *bridge; /* borrowed from rec */
};
/* The networks directory and its lock (exclusive, for every change). */
int bt_net_lock(berth_ctx *ctx, int *fd, berth_error **err);
/* Loads a network by name, id or unique id prefix. */
int bt_net_load(berth_ctx *ctx, const char *name, struct bt_net **out, berth_error **err);
/* Every network, sorted by name (lock held: what a killed create or
 * removal left, .tmp-/.rm- directories, is removed on the way). */
int bt_net_load_all(berth_ctx *ctx, struct bt_net ***out, size_t *n, berth_error **err);
void bt_net_free(struct bt_net *net);
void bt_net_free_all(struct bt_net **v, size_t n);
/* Makes the default network's record when missing (lock held). */
int bt_net_ensure_default(berth_ctx *ctx, berth_error **err);
/* Writes a new network's record; the lock is held. */
int bt_net_create_locked(berth_ctx *ctx, const char *name, const berth_network_create_opts *o,
			 struct bt_net **out, berth_error **err);

/* ---- leases (lease.c) --------------------------------------------------
 * One file per address: <net dir>/leases/<ip>, JSON {Container, Name,
 * MacAddress, HostIf, IfName, HostNs}. Read and changed with the networks
 * lock held. */
int bt_lease_list(const struct bt_net *net, json_t **out, berth_error **err);
/* Drops the leases whose veth has gone in this namespace; removes their
 * files (and the rules of their ports). Returns how many were dropped. */
int bt_lease_sweep(berth_ctx *ctx, const struct bt_net *net);
/* The inode of this thread's network namespace (0 when unknown). */
unsigned long long bt_net_ns_ino(void);
/* The lease file's path for ip. */
char *bt_lease_path(const struct bt_net *net, uint32_t ip);

/* ---- published ports (ports.c) ------------------------------------------ */
int bt_ports_check(const berth_network_port *v, size_t n, berth_error **err);
/* Claims v (lock held): none taken by an endpoint of any network nor by a
 * listener of the host; host_port 0 gets a free port. *out: the lease's
 * Ports [{HostIp, HostPort, ContainerPort, Proto}]. */
int bt_ports_claim(berth_ctx *ctx, berth_network_port *v, size_t n, json_t **out, berth_error **err);
/* 127.0.0.1 of the host may be routed to the bridge (its DNAT'd packets). */
int bt_ports_route_localnet(const char *bridge, berth_error **err);

/* ---- rules (rules.c) ---------------------------------------------------- */
/* Rewrites table inet berth from every network on disk (lock held); the
 * table goes when no network needs it. */
int bt_net_rules_sync(berth_ctx *ctx, berth_error **err);

/* ---- names (dns.c) ------------------------------------------------------ */
/* A name or alias an endpoint may answer to (what a resolver can ask). */
int bt_dns_check_name(const char *n, const char *what, berth_error **err);
/* <root>/networks/.dns: aardvark-dns's configuration and pid file. */
char *bt_dns_dir(const berth_ctx *ctx);
/* Writes the names of every user network's endpoints from the leases
 * (lock held), and starts, tells (SIGHUP) or ends aardvark-dns to match. */
int bt_dns_sync(berth_ctx *ctx, berth_error **err);
/* The same, a failure only logged: names are a service of the network,
 * and no reason to fail what changed it. */
void bt_dns_sync_logged(berth_ctx *ctx);

#endif
