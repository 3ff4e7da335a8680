/* berth/network.h: bridge networks and the namespaces attached to them.
 *
 * A network is a Linux bridge with a subnet, an address manager (IPAM)
 * whose leases live on disk under a lock, and rules in an nftables table
 * of berth's own (`inet berth`): masquerade for the way out, isolation
 * between networks. Attaching a network namespace gives it a veth pair
 * (the host side on the bridge, `eth0` inside), an address, a default
 * route and `lo` up.
 *
 * Networks are kept under <root>/networks/. The default network `bridge`
 * (device `berth0`) is made on first use with a subnet from a pool that
 * overlaps no route of the host (172.17.0.0/16 ... 172.31.0.0/16, then
 * 192.168.0.0/20 steps), as Docker picks its own.
 *
 * Host objects (bridge, veth, nft rules) are made in the network
 * namespace of the calling thread; every call of one store should come
 * from the same network namespace. A lease whose veth has gone (its
 * namespace ended, its process was killed) is swept by the next call that
 * allocates or lists.
 *
 * On user networks (not the default one, as Docker's) an endpoint's name,
 * its aliases and the container's first 12 characters resolve to its
 * address for the other endpoints of the network, through aardvark-dns
 * (podman's; $BERTH_AARDVARK_DNS or /usr/lib/podman/aardvark-dns) on the
 * gateway's port 53, which forwards other names to the host's resolvers.
 * One process serves every user network of a store; it starts with the
 * first endpoint and ends with the last.
 */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

#include <berth/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The name of the default network. */
#define BERTH_NETWORK_DEFAULT "bridge"

typedef struct {
	size_t size;               /* sizeof(berth_network_create_opts): set by the INIT macro */
	const char *subnet;        /* IPv4 CIDR ("10.89.0.0/24"); NULL: from the pool */
	const char *gateway;       /* NULL: the subnet's first address */
	const char *ip_range;      /* CIDR inside subnet to allocate from; NULL: all of it */
	int internal;              /* 1: no way out (no masquerade, no forwarding outside) */
	const char *const *labels; /* "key=value" strings, NULL-terminated; NULL: none */
	const char *bridge;        /* device name (com.docker.network.bridge.name); NULL: berth-<id> */
} berth_network_create_opts;

#define BERTH_NETWORK_CREATE_OPTS_INIT { sizeof(berth_network_create_opts), NULL, NULL, NULL, 0, NULL, NULL }

/* Creates network `name` and its bridge. *id (may be NULL) gets its id
 * (64 hex), freed with berth_string_free(). Errors: EEXISTS for a name in
 * use or a subnet overlapping another network's, EINVAL naming a bad
 * option, EOS when the bridge cannot be made (nothing is left behind). */
BERTH_EXTERN int berth_network_create(berth_ctx *ctx, const char *name,
				      const berth_network_create_opts *opts, char **id,
				      berth_error **err);

/* The names of every network, the default one included (made on this
 * call when missing), sorted. Free with berth_network_names_free(). */
BERTH_EXTERN int berth_network_list(berth_ctx *ctx, char ***names, size_t *count,
				    berth_error **err);
BERTH_EXTERN void berth_network_names_free(char **names, size_t count);

/* The network (by name, full id or an unambiguous id prefix) as `docker
 * network inspect` shows one: Name, Id, Created, Scope, Driver, EnableIPv6,
 * IPAM {Driver, Options, Config [{Subnet, Gateway, IPRange}]}, Internal,
 * Attachable, Ingress, ConfigOnly, Containers {id: {Name, EndpointID,
 * MacAddress, IPv4Address, IPv6Address}}, Options, Labels. */
BERTH_EXTERN int berth_network_inspect(berth_ctx *ctx, const char *name, char **json,
				       berth_error **err);

/* Removes a network, its bridge and its rules. ESTATE while namespaces
 * are attached, naming them; EPERM for the default network. */
BERTH_EXTERN int berth_network_remove(berth_ctx *ctx, const char *name, berth_error **err);

/* Removes every user network nothing is attached to; *names (may be
 * NULL) gets those removed. */
BERTH_EXTERN int berth_network_prune(berth_ctx *ctx, char ***names, size_t *count,
				     berth_error **err);

/* A published port: host_ip:host_port on the host forwarded (DNAT) to
 * container_port of the attached namespace's address, from outside and
 * from the host itself (127.0.0.1 included: route_localnet on the
 * bridge, and masquerade of what the host sends to it). */
typedef struct {
	const char *host_ip; /* NULL or "": every address of the host */
	int host_port;       /* 0: a free port of the ephemeral range, written back here */
	int container_port;
	const char *proto;   /* "tcp" (NULL) or "udp" */
} berth_network_port;

typedef struct {
	size_t size;              /* sizeof(berth_network_attach_opts): set by the INIT macro */
	const char *netns;        /* path of a network namespace (/run/netns/X, /proc/P/ns/net) */
	int pid;                  /* or a process whose namespace to attach, when netns is NULL */
	const char *container;    /* who the endpoint belongs to (id; required): detach names it */
	const char *name;         /* its name shown by inspect; NULL: container */
	const char *ip;           /* the address wanted; NULL: the next free one */
	const char *ifname;       /* the name inside; NULL: "eth0" */
	berth_network_port *ports; /* published ports (host_port 0 gets the port chosen) */
	size_t nports;
	const char *const *aliases; /* more names the endpoint answers to on a user network
				       (besides name and the container's first 12), NULL-terminated */
	int no_default_route;       /* 1: no default route through this network (a second one) */
} berth_network_attach_opts;

#define BERTH_NETWORK_ATTACH_OPTS_INIT { sizeof(berth_network_attach_opts), NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0 }

/* What an attach gave (filled by the library up to its size). */
typedef struct {
	size_t size;          /* sizeof(berth_network_attachment): set by the INIT macro */
	char address[16];     /* "172.17.0.2" */
	int prefix_len;       /* 16 */
	char gateway[16];     /* "172.17.0.1"; "" on an internal network */
	char mac[18];         /* "02:42:ac:11:00:02" */
	char host_ifname[16]; /* the host end of the veth pair */
	char network_id[65];
} berth_network_attachment;

#define BERTH_NETWORK_ATTACHMENT_INIT { sizeof(berth_network_attachment), "", 0, "", "", "", "" }

/* Attaches a network namespace to network `name` (the default one made
 * when missing). out may be NULL. Errors: EEXISTS when the container is
 * attached already or the address wanted is taken, EBUSY for a host port
 * in use (by another endpoint or a listener of the host), EINVAL for an
 * address outside the subnet or a bad port, EBUSY when the pool is exhausted; a failure leaves
 * no veth, lease or rule. */
BERTH_EXTERN int berth_network_attach(berth_ctx *ctx, const char *name,
				      const berth_network_attach_opts *opts,
				      berth_network_attachment *out, berth_error **err);

/* Detaches container's endpoint from the network: its veth and lease go.
 * ENOTFOUND when it is not attached. */
BERTH_EXTERN int berth_network_detach(berth_ctx *ctx, const char *name, const char *container,
				      berth_error **err);

/* Gives container's endpoint on network `name` a new name (its DNS name
 * on a user network: the old one stops resolving). ENOTFOUND when it is
 * not attached; EINVAL for a name no resolver could ask for. */
BERTH_EXTERN int berth_network_endpoint_rename(berth_ctx *ctx, const char *name, const char *container,
					       const char *new_name, berth_error **err);

#ifdef __cplusplus
}
#endif

#endif
