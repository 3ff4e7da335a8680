/* Published ports: checked, claimed against every endpoint's ports and
 * the host's own listeners, and kept in the endpoint's lease, from which
 * rules.c writes the DNAT rules. */
#include "network-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static bool is_udp(const berth_network_port *p)
{
	return p->proto && !strcmp(p->proto, "udp");
}

static const char *any_ip(const char *ip)
{
	return ip && *ip ? ip : "0.0.0.0";
}

int bt_ports_check(const berth_network_port *v, size_t n, berth_error **err)
{
	uint32_t ip;

	for (size_t i = 0; i < n; i++) {
		if (v[i].container_port < 1 || v[i].container_port > 65535 || v[i].host_port < 0 ||
		    v[i].host_port > 65535)
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid port %d:%d: ports are 1-65535", v[i].host_port,
					    v[i].container_port);
		if (v[i].proto && strcmp(v[i].proto, "tcp") && strcmp(v[i].proto, "udp"))
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid protocol \"%.20s\": tcp or udp", v[i].proto);
		if (v[i].host_ip && *v[i].host_ip && bt_ip_parse(v[i].host_ip, &ip, err) < 0)
			return BERTH_EINVAL;
	}
	return 0;
}

/* Whether a published port (JSON, from a lease) takes what p asks. */
static bool clashes(const json_t *taken, const char *ip, int port, bool udp)
{
	const char *tip = json_string_value(json_object_get(taken, "HostIp"));
	const char *proto = json_string_value(json_object_get(taken, "Proto"));

	if (json_integer_value(json_object_get(taken, "HostPort")) != port || !proto || strcmp(proto, udp ? "udp" : "tcp"))
		return false;
	return !tip || !strcmp(tip, "0.0.0.0") || !strcmp(ip, "0.0.0.0") || !strcmp(tip, ip);
}

/* The endpoint holding ip:port, from every network's leases; NULL if none. */
static const char *holder(json_t *const *leases, size_t nl, const json_t *mine, const char *ip, int port, bool udp)
{
	for (size_t i = 0; i < nl; i++) {
		const char *addr;
		json_t *lease, *p;
		size_t k;

		json_object_foreach(leases[i], addr, lease)
			json_array_foreach(json_object_get(lease, "Ports"), k, p)
				if (clashes(p, ip, port, udp))
					return json_string_value(json_object_get(lease, "Name"));
	}
	for (size_t k = 0; k < json_array_size(mine); k++)
		if (clashes(json_array_get(mine, k), ip, port, udp))
			return "this endpoint";
	return NULL;
}

/* Binds ip:port (port 0: the kernel's choice, returned) to learn whether a
 * listener of the host has it. */
static int host_bind(const char *ip, int port, bool udp, int *got, berth_error **err)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0), one = 1, rc = 0;

	if (s < 0)
		return bt_error_os(err, "making a socket");
	inet_pton(AF_INET, ip, &a.sin_addr);
	/* a closed connection's TIME_WAIT is no listener */
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		rc = errno == EADDRINUSE ? bt_error_set(err, BERTH_EBUSY, EADDRINUSE,
							 "port %s:%d/%s is in use by a listener of the host", ip, port,
							 udp ? "udp" : "tcp")
					 : bt_error_os(err, "binding %s:%d to test it", ip, port);
	else if (getsockname(s, (struct sockaddr *)&a, &len) == 0)
		*got = ntohs(a.sin_port);
	close(s);
	return rc;
}

/* One port: the one asked for when free, else refused naming its holder;
 * port 0: the kernel's choice of a free one, until one no endpoint holds. */
static int claim_one(json_t *const *leases, size_t nl, json_t *mine, berth_network_port *p, berth_error **err)
{
	const char *ip = any_ip(p->host_ip), *who;
	bool udp = is_udp(p);
	int rc;

	for (int tries = 0;; tries++) {
		int got = p->host_port;

		if ((rc = host_bind(ip, p->host_port, udp, &got, err)) < 0)
			return rc;
		if (!(who = holder(leases, nl, mine, ip, got, udp))) {
			p->host_port = got;
			return 0;
		}
		if (p->host_port || tries >= 64)
			return bt_error_set(err, BERTH_EBUSY, 0, "port %s:%d/%s is already allocated to %s", ip, got,
					    udp ? "udp" : "tcp", who);
	}
}

int bt_ports_claim(berth_ctx *ctx, berth_network_port *v, size_t n, json_t **out, berth_error **err)
{
	struct bt_net **nets = NULL;
	json_t **leases = NULL, *mine = json_array();
	size_t nn = 0;
	int rc;

	if (!mine)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_net_load_all(ctx, &nets, &nn, err)) < 0)
		goto out;
	if (nn && !(leases = calloc(nn, sizeof(*leases)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nn && rc == 0; i++)
		rc = bt_lease_list(nets[i], &leases[i], err);
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = claim_one(leases, nn, mine, &v[i], err)) == 0)
			json_array_append_new(mine, json_pack("{s:s, s:i, s:i, s:s}", "HostIp", any_ip(v[i].host_ip),
							      "HostPort", v[i].host_port, "ContainerPort",
							      v[i].container_port, "Proto", is_udp(&v[i]) ? "udp" : "tcp"));
out:
	for (size_t i = 0; i < nn && leases; i++)
		json_decref(leases[i]);
	free(leases);
	bt_net_free_all(nets, nn);
	if (rc < 0) {
		json_decref(mine);
		return rc;
	}
	*out = mine;
	return 0;
}

int bt_ports_route_localnet(const char *bridge, berth_error **err)
{
	char *path = bt_strdup_printf("/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
	int fd = path ? open(path, O_WRONLY | O_CLOEXEC) : -1, rc = 0;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (fd < 0 || write(fd, "1", 1) != 1)
		rc = bt_error_os(err, "writing %s", path);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}
