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

static void postrouting_chain(struct script *s, struct bt_net **v, size_t n)
{
	add(s, "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < n; i++) {
		char subnet[20];

		if (v[i]->internal)
			continue;
		bt_cidr_format(&v[i]->subnet, subnet);
		add(s, "    ip saddr %s oifname != \"%s\" masquerade\n", subnet, v[i]->bridge);
	}
	add(s, "  }\n");
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
		postrouting_chain(&s, live, nlive);
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
