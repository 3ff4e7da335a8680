/* The nftables rules of every network, in table inet berth of our own:
 * written whole from the records on disk each time something changes, in
 * one transaction (the table made, deleted and made again), so what a
 * crashed process or a removed network left never outlives the next
 * change, and no rule of another tool (Docker's, podman's) is touched. */
#include "network-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct script {
	char *buf;
	size_t len;
	bool oom;
};

static void add(struct script *s, const char *fmt, ...) BT_PRINTF(2, 3);
static void add(struct script *s, const char *fmt, ...)
{
	va_list ap;
	char *line, *grown;

	if (s->oom)
		return;
	va_start(ap, fmt);
	line = bt_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (!line || !(grown = realloc(s->buf, s->len + strlen(line) + 1))) {
		free(line);
		s->oom = true;
		return;
	}
	s->buf = grown;
	memcpy(s->buf + s->len, line, strlen(line) + 1);
	s->len += strlen(line);
	free(line);
}

/* Traffic between two networks' bridges is dropped both ways; an
 * internal network's bridge talks only to itself. */
static void forward_chain(struct script *s, struct bt_net **v, size_t n)
{
	add(s, "  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
	for (size_t i = 0; i < n; i++) {
		if (v[i]->internal) {
			add(s, "    iifname \"%s\" oifname != \"%s\" drop\n", v[i]->bridge, v[i]->bridge);
			add(s, "    oifname \"%s\" iifname != \"%s\" drop\n", v[i]->bridge, v[i]->bridge);
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (j != i && !v[j]->internal)
				add(s, "    iifname \"%s\" oifname \"%s\" drop\n", v[i]->bridge, v[j]->bridge);
	}
	add(s, "  }\n");
}

/* A published port sets route_localnet on its bridge (so the host's own
 * 127.0.0.1 reaches it); then a container could send to the host's
 * loopback services through the bridge (the CVE-2020-8558 class). What
 * comes in on a bridge for 127.0.0.0/8 is dropped before conntrack (the
 * replies to the host's 127.0.0.1 are addressed to the gateway, which the
 * masquerade below makes their source). */
static void localnet_chain(struct script *s, struct bt_net **v, size_t n)
{
	add(s, "  chain localnet {\n    type filter hook prerouting priority raw; policy accept;\n");
	for (size_t i = 0; i < n; i++)
		add(s, "    iifname \"%s\" ip daddr 127.0.0.0/8 drop\n", v[i]->bridge);
	add(s, "  }\n");
}

/* Outbound masquerade; and what the host sends from 127.0.0.1 to a
 * published port leaves with the bridge's address, which the container
 * can answer. */
static void postrouting_chain(struct script *s, struct bt_net **v, size_t n)
{
	add(s, "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < n; i++) {
		char subnet[20];

		if (v[i]->internal)
			continue;
		bt_cidr_format(&v[i]->subnet, subnet);
		add(s, "    ip saddr %s oifname != \"%s\" masquerade\n", subnet, v[i]->bridge);
		add(s, "    ip saddr 127.0.0.0/8 oifname \"%s\" masquerade\n", v[i]->bridge);
	}
	add(s, "  }\n");
}

/* The DNAT rules of every published port of net's endpoints into s. */
static void port_rules(struct script *s, const struct bt_net *net)
{
	json_t *leases, *lease, *p;
	const char *ip;
	size_t k;

	if (bt_lease_list(net, &leases, NULL) < 0) {
		s->oom = true;
		return;
	}
	json_object_foreach(leases, ip, lease) {
		json_array_foreach(json_object_get(lease, "Ports"), k, p) {
			const char *hip = json_string_value(json_object_get(p, "HostIp"));
			const char *proto = json_string_value(json_object_get(p, "Proto"));
			long long hport = json_integer_value(json_object_get(p, "HostPort"));
			long long cport = json_integer_value(json_object_get(p, "ContainerPort"));
			uint32_t check;

			/* a lease edited into nonsense gives no rule, not a broken script */
			if (!hip || bt_ip_parse(hip, &check, NULL) < 0 || bt_ip_parse(ip, &check, NULL) < 0 || !proto ||
			    (strcmp(proto, "tcp") && strcmp(proto, "udp")) || hport < 1 || hport > 65535 || cport < 1 ||
			    cport > 65535)
				continue;
			add(s, "    %s%s%sfib daddr type local %s dport %lld dnat ip to %s:%lld\n",
			    strcmp(hip, "0.0.0.0") ? "ip daddr " : "", strcmp(hip, "0.0.0.0") ? hip : "",
			    strcmp(hip, "0.0.0.0") ? " " : "", proto, hport, ip, cport);
		}
	}
	json_decref(leases);
}

/* Published ports: from outside (prerouting) and from the host itself
 * (output), to the endpoint's address. */
static void dnat_chains(struct script *s, struct bt_net **v, size_t n)
{
	static const char *const hooks[][2] = { { "prerouting", "prerouting priority dstnat" },
						{ "output", "output priority -100" } };

	for (size_t h = 0; h < BT_ARRAY_SIZE(hooks); h++) {
		add(s, "  chain %s {\n    type nat hook %s; policy accept;\n", hooks[h][0], hooks[h][1]);
		for (size_t i = 0; i < n; i++)
			if (!v[i]->internal)
				port_rules(s, v[i]);
		add(s, "  }\n");
	}
}

int bt_net_rules_sync(berth_ctx *ctx, berth_error **err)
{
	struct bt_net **all, **live;
	struct script s = { 0 };
	size_t n, nlive = 0;
	int rc;

	if ((rc = bt_net_load_all(ctx, &all, &n, err)) < 0)
		return rc;
	/* only the networks whose bridge is here need rules here */
	if (!(live = calloc(n + 1, sizeof(*live)))) {
		bt_net_free_all(all, n);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (bt_nl_link_exists(all[i]->bridge))
			live[nlive++] = all[i];
	add(&s, "table inet berth\ndelete table inet berth\n");
	if (nlive) {
		add(&s, "table inet berth {\n");
		forward_chain(&s, live, nlive);
		localnet_chain(&s, live, nlive);
		postrouting_chain(&s, live, nlive);
		dnat_chains(&s, live, nlive);
		add(&s, "}\n");
	}
	if (s.oom)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = bt_nft_run(s.buf, err)) < 0)
		bt_error_wrap(err, rc, "writing table inet berth");
	free(s.buf);
	free(live);
	bt_net_free_all(all, n);
	return rc;
}
