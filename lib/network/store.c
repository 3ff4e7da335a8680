/* Networks on disk: <root>/networks/<id>/network.json (what inspect shows
 * of the network itself) and <root>/networks/<id>/leases/. Every change
 * holds <root>/networks/.lock; a record is written whole in a temp
 * directory and renamed into place, so a crash leaves a network or none. */
#include "network-internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define NET_RECORD_MAX (1 << 20)

static char *networks_dir(const berth_ctx *ctx)
{
	return bt_strdup_printf("%s/networks", ctx->root);
}

int bt_net_lock(berth_ctx *ctx, int *fd, berth_error **err)
{
	char *dir = networks_dir(ctx), *path = dir ? bt_strdup_printf("%s/.lock", dir) : NULL;
	int rc;

	if (!path)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = bt_mkdir_p(dir, 0700, err)) == 0)
		rc = bt_lock_acquire(path, BT_LOCK_EXCLUSIVE, fd, err);
	free(path);
	free(dir);
	return rc;
}

void bt_net_free(struct bt_net *net)
{
	if (!net)
		return;
	free(net->name);
	free(net->dir);
	json_decref(net->rec);
	free(net);
}

void bt_net_free_all(struct bt_net **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bt_net_free(v[i]);
	free(v);
}

static int check_bridge_name(const char *name, berth_error **err)
{
	size_t len = strlen(name);

	if (!len || len > 15 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "invalid bridge name \"%.40s\": 1-15 of [a-zA-Z0-9_.-]", name);
	return 0;
}

/* The parts of a record the module works with, checked: a record edited
 * by hand into nonsense is refused, not half used. */
static int net_parse(struct bt_net *net, berth_error **err)
{
	const json_t *config = json_array_get(json_object_get(json_object_get(net->rec, "IPAM"), "Config"), 0);
	const char *name, *id, *subnet, *gw = NULL, *range = NULL;
	int rc;

	if ((rc = bt_json_string(net->rec, "", "Name", true, &name, err)) < 0 ||
	    (rc = bt_json_string(net->rec, "", "Id", true, &id, err)) < 0)
		return rc;
	if (!json_is_object(config))
		return bt_error_set(err, BERTH_EINVAL, 0, "network %s: no IPAM.Config", name);
	if ((rc = bt_json_string(config, "IPAM.Config[0]", "Subnet", true, &subnet, err)) < 0 ||
	    (rc = bt_json_string(config, "IPAM.Config[0]", "Gateway", false, &gw, err)) < 0 ||
	    (rc = bt_json_string(config, "IPAM.Config[0]", "IPRange", false, &range, err)) < 0 ||
	    (rc = bt_cidr_parse(subnet, true, &net->subnet, err)) < 0 ||
	    (rc = bt_cidr_parse(range && *range ? range : subnet, false, &net->range, err)) < 0 ||
	    (rc = bt_ip_parse(gw, &net->gateway, err)) < 0)
		return rc;
	net->bridge = json_string_value(json_object_get(json_object_get(net->rec, "Options"),
							 "com.docker.network.bridge.name"));
	/* the bridge's name goes into nft rules: never as the record has it unchecked */
	if (!net->bridge || strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64 ||
	    check_bridge_name(net->bridge, NULL) < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "network %s: a bad bridge name or id", name);
	net->internal = json_is_true(json_object_get(net->rec, "Internal"));
	memcpy(net->id, id, 65);
	return (net->name = strdup(name)) ? 0 : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
}

static int net_read(const char *dir, struct bt_net **out, berth_error **err)
{
	struct bt_net *net = calloc(1, sizeof(*net));
	char *path = bt_strdup_printf("%s/network.json", dir);
	int rc;

	if (!net || !path || !(net->dir = strdup(dir)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = bt_json_load_file(path, NET_RECORD_MAX, &net->rec, err)) == 0)
		rc = net_parse(net, err);
	free(path);
	if (rc < 0) {
		bt_net_free(net);
		return rc;
	}
	*out = net;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct bt_net *const *)a)->name, (*(struct bt_net *const *)b)->name);
}

int bt_net_load_all(berth_ctx *ctx, struct bt_net ***out, size_t *n, berth_error **err)
{
	char *dir = networks_dir(ctx);
	struct bt_net **v = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!dir)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (!(d = opendir(dir))) {
		rc = errno == ENOENT ? 0 : bt_error_os(err, "reading %s", dir);
		free(dir);
		return rc;
	}
	while ((de = readdir(d))) {
		struct bt_net *net, **grown;
		char *sub;
		berth_error *e = NULL;

		if (!strncmp(de->d_name, ".tmp-", 5) || !strncmp(de->d_name, ".rm-", 4)) {
			/* a killed create's or removal's; every caller holds the lock */
			if ((sub = bt_strdup_printf("%s/%s", dir, de->d_name)))
				bt_rm_rf(sub, NULL);
			free(sub);
			continue;
		}
		if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
			continue;
		if (!(sub = bt_strdup_printf("%s/%s", dir, de->d_name)) ||
		    !(grown = bt_grow(v, *n, &cap, sizeof(*v), 8))) {
			free(sub);
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			break;
		}
		v = grown;
		if (net_read(sub, &net, &e) < 0) {
			bt_log_warn(ctx, BT_NET_MODULE, "skipping %s: %s", sub, berth_error_message(e));
			berth_error_free(e);
		} else {
			v[(*n)++] = net;
		}
		free(sub);
	}
	closedir(d);
	free(dir);
	if (rc < 0) {
		bt_net_free_all(v, *n);
		*n = 0;
		return rc;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), by_name);
	*out = v;
	return 0;
}

int bt_net_load(berth_ctx *ctx, const char *name, struct bt_net **out, berth_error **err)
{
	struct bt_net **v, *found = NULL;
	size_t n, len = name ? strlen(name) : 0, matches = 0;
	int rc;

	if (!len)
		return bt_error_set(err, BERTH_EINVAL, 0, "no network named");
	if ((rc = bt_net_load_all(ctx, &v, &n, err)) < 0)
		return rc;
	/* a name first, then a full id, then an id prefix (Docker's order) */
	for (size_t i = 0; i < n && !found; i++)
		if (!strcmp(v[i]->name, name) || !strcmp(v[i]->id, name))
			found = v[i];
	for (size_t i = 0; i < n && !found; i++)
		if (len < 64 && !strncmp(v[i]->id, name, len) && matches++ == 0)
			found = v[i];
	if (matches > 1)
		found = NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i] != found)
			bt_net_free(v[i]);
	free(v);
	if (!found)
		return matches > 1 ? bt_error_set(err, BERTH_EINVAL, 0, "network id prefix %s is ambiguous", name)
				   : bt_error_set(err, BERTH_ENOTFOUND, 0, "network %s not found", name);
	*out = found;
	return 0;
}

/* ---- making a record ---------------------------------------------------- */

static int check_name(const char *name, berth_error **err)
{
	size_t len = name ? strlen(name) : 0;

	if (!len || len > 128 || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "invalid network name \"%.140s\": want [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters",
				    name ? name : "");
	if (!strcmp(name, "host") || !strcmp(name, "none"))
		return bt_error_set(err, BERTH_EINVAL, 0, "network name \"%s\" is reserved for that mode", name);
	return 0;
}

/* Docker's default pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
static bool pool_next(size_t i, struct bt_cidr *out)
{
	if (i < 15) {
		*out = (struct bt_cidr){ (172u << 24) | ((17u + (uint32_t)i) << 16), 16 };
		return true;
	}
	i -= 15;
	if (i < 16) {
		*out = (struct bt_cidr){ (192u << 24) | (168u << 16) | ((uint32_t)i << 12), 20 };
		return true;
	}
	return false;
}

static bool overlaps_any(const struct bt_cidr *c, const struct bt_cidr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bt_cidr_overlap(c, &v[i]))
			return true;
	return false;
}

/* A subnet of the pool that no route of the host and no network uses. */
static int pick_subnet(struct bt_net **nets, size_t nn, struct bt_cidr *out, berth_error **err)
{
	struct bt_cidr *routes = NULL, c;
	size_t nr = 0;
	int rc;

	if ((rc = bt_nl_routes(&routes, &nr, err)) < 0)
		return rc;
	for (size_t i = 0; pool_next(i, &c); i++) {
		bool used = overlaps_any(&c, routes, nr);

		for (size_t j = 0; j < nn && !used; j++)
			used = bt_cidr_overlap(&c, &nets[j]->subnet);
		if (!used) {
			free(routes);
			*out = c;
			return 0;
		}
	}
	free(routes);
	return bt_error_set(err, BERTH_EBUSY, 0, "every subnet of the pool is in use; give one with --subnet");
}

struct plan {
	struct bt_cidr subnet, range;
	uint32_t gateway;
	char id[65];
	char bridge[16];
};

/* A subnet a bridge may take: not so wide that its route takes over the
 * host's, nor in the ranges with a meaning of their own (this host,
 * loopback, link-local, multicast, reserved). */
static int subnet_usable(const char *text, const struct bt_cidr *c, berth_error **err)
{
	static const struct bt_cidr special[] = {
		{ 0x00000000, 8 }, { 0x7f000000, 8 }, { 0xa9fe0000, 16 }, { 0xe0000000, 4 }, { 0xf0000000, 4 },
	};

	if (c->len < 8)
		return bt_error_set(err, BERTH_EINVAL, 0, "subnet %s is too large: at least /8", text);
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (bt_cidr_overlap(c, &special[i]))
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "subnet %s overlaps a reserved range (this host, loopback, link-local, "
					    "multicast)",
					    text);
	return 0;
}

static int plan_addresses(struct bt_net **nets, size_t nn, const berth_network_create_opts *o, struct plan *p,
			  berth_error **err)
{
	char s[20], other[20];
	int rc;

	if (o->subnet) {
		if ((rc = bt_cidr_parse(o->subnet, true, &p->subnet, err)) < 0 ||
		    (rc = subnet_usable(o->subnet, &p->subnet, err)) < 0)
			return rc;
		if (p->subnet.len > 30)
			return bt_error_set(err, BERTH_EINVAL, 0, "subnet %s is too small: at most /30", o->subnet);
		for (size_t i = 0; i < nn; i++)
			if (bt_cidr_overlap(&p->subnet, &nets[i]->subnet)) {
				bt_cidr_format(&nets[i]->subnet, other);
				return bt_error_set(err, BERTH_EEXISTS, 0, "subnet %s overlaps %s of network %s",
						    o->subnet, other, nets[i]->name);
			}
	} else if (o->gateway || o->ip_range) {
		return bt_error_set(err, BERTH_EINVAL, 0, "a gateway or an ip-range needs a subnet");
	} else if ((rc = pick_subnet(nets, nn, &p->subnet, err)) < 0) {
		return rc;
	}
	bt_cidr_format(&p->subnet, s);
	p->range = p->subnet;
	if (o->ip_range && ((rc = bt_cidr_parse(o->ip_range, true, &p->range, err)) < 0 ||
			    (p->range.len < p->subnet.len || !bt_cidr_contains(&p->subnet, p->range.addr))))
		return rc < 0 ? rc : bt_error_set(err, BERTH_EINVAL, 0, "ip-range %s is not inside subnet %s", o->ip_range, s);
	p->gateway = p->subnet.addr + 1;
	if (o->gateway && (rc = bt_ip_parse(o->gateway, &p->gateway, err)) < 0)
		return rc;
	if (!bt_cidr_contains(&p->subnet, p->gateway) || p->gateway == p->subnet.addr ||
	    p->gateway == (p->subnet.addr | ~bt_cidr_mask(p->subnet.len)))
		return bt_error_set(err, BERTH_EINVAL, 0, "gateway %s is no host address of subnet %s",
				    o->gateway ? o->gateway : "", s);
	return 0;
}

static int plan_identity(struct bt_net **nets, size_t nn, const char *name, const berth_network_create_opts *o,
			 struct plan *p, berth_error **err)
{
	unsigned char raw[32];
	int rc;

	for (size_t i = 0; i < nn; i++)
		if (!strcmp(nets[i]->name, name))
			return bt_error_set(err, BERTH_EEXISTS, 0, "network with name %s already exists", name);
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return bt_error_os(err, "getrandom");
	for (size_t i = 0; i < 32; i++)
		snprintf(p->id + 2 * i, 3, "%02x", raw[i]);
	if (o->bridge) {
		if ((rc = check_bridge_name(o->bridge, err)) < 0)
			return rc;
		snprintf(p->bridge, sizeof(p->bridge), "%s", o->bridge);
	} else {
		snprintf(p->bridge, sizeof(p->bridge), "%s", !strcmp(name, BERTH_NETWORK_DEFAULT) ? "berth0" : "");
		if (!p->bridge[0])
			snprintf(p->bridge, sizeof(p->bridge), "berth-%.9s", p->id);
	}
	for (size_t i = 0; i < nn; i++)
		if (nets[i]->bridge && !strcmp(nets[i]->bridge, p->bridge))
			return bt_error_set(err, BERTH_EEXISTS, 0, "bridge %s is network %s's", p->bridge, nets[i]->name);
	return 0;
}

static json_t *labels_json(const char *const *labels, berth_error **err)
{
	json_t *o = json_object();

	for (size_t i = 0; labels && labels[i] && o; i++) {
		const char *eq = strchr(labels[i], '=');
		char *key = eq ? strndup(labels[i], (size_t)(eq - labels[i])) : strdup(labels[i]);

		if (!key || !*key) {
			bt_error_set(err, key ? BERTH_EINVAL : BERTH_ENOMEM, 0, "invalid label \"%s\": want key=value",
				     labels[i]);
			free(key);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, key, json_string(eq ? eq + 1 : ""));
		free(key);
	}
	if (!o)
		bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	return o;
}

static json_t *record_json(const char *name, const struct plan *p, const berth_network_create_opts *o,
			   json_t *labels)
{
	char subnet[20], gw[16], range[20], *created = bt_now_rfc3339();
	json_t *rec;

	bt_cidr_format(&p->subnet, subnet);
	bt_cidr_format(&p->range, range);
	bt_ip_format(p->gateway, gw);
	rec = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:b, s:{s:s, s:{}, s:[{s:s, s:s, s:s}]}, s:b, s:b, s:b,"
			" s:{s:s}, s:b, s:{s:s}, s:o}",
			"Name", name, "Id", p->id, "Created", created, "Scope", "local", "Driver", "bridge",
			"EnableIPv6", 0, "IPAM", "Driver", "default", "Options", "Config", "Subnet", subnet,
			"Gateway", gw, "IPRange", o->ip_range ? range : "", "Internal", o->internal != 0,
			"Attachable", 0, "Ingress", 0, "ConfigFrom", "Network", "", "ConfigOnly", 0, "Options",
			"com.docker.network.bridge.name", p->bridge, "Labels", labels);
	free(created);
	return rec;
}

/* The record in a temp directory, renamed into place. */
static int write_record(berth_ctx *ctx, const char *id, json_t *rec, char **dir_out, berth_error **err)
{
	char *dir = networks_dir(ctx), *tmp = dir ? bt_strdup_printf("%s/.tmp-%s", dir, id) : NULL,
	     *final = dir ? bt_strdup_printf("%s/%s", dir, id) : NULL,
	     *leases = tmp ? bt_strdup_printf("%s/leases", tmp) : NULL,
	     *file = tmp ? bt_strdup_printf("%s/network.json", tmp) : NULL;
	int rc;

	if (!final || !leases || !file)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = bt_mkdir_p(leases, 0700, err)) == 0 && (rc = bt_json_write_atomic(file, rec, err)) == 0 &&
		 rename(tmp, final) < 0)
		rc = bt_error_os(err, "moving %s into place", final);
	if (rc == 0)
		rc = bt_fsync_dir(dir, err);
	if (rc < 0 && tmp)
		bt_rm_rf(tmp, NULL);
	if (rc == 0) {
		*dir_out = final;
		final = NULL;
	}
	free(dir);
	free(tmp);
	free(final);
	free(leases);
	free(file);
	return rc;
}

int bt_net_create_locked(berth_ctx *ctx, const char *name, const berth_network_create_opts *o,
			 struct bt_net **out, berth_error **err)
{
	struct bt_net **nets = NULL, *net = NULL;
	size_t nn = 0;
	struct plan p = { 0 };
	json_t *labels = NULL, *rec = NULL;
	char *dir = NULL;
	int rc;

	if ((rc = check_name(name, err)) < 0 || (rc = bt_net_load_all(ctx, &nets, &nn, err)) < 0)
		return rc;
	if ((rc = plan_identity(nets, nn, name, o, &p, err)) < 0 ||
	    (rc = plan_addresses(nets, nn, o, &p, err)) < 0)
		goto out;
	if (!(labels = labels_json(o->labels, err))) {
		rc = BERTH_EINVAL;
		goto out;
	}
	if (!(rec = record_json(name, &p, o, labels))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = write_record(ctx, p.id, rec, &dir, err)) < 0)
		goto out;
	rc = net_read(dir, &net, err);
	if (rc < 0)
		bt_rm_rf(dir, NULL);
	else if (out)
		*out = net;
	else
		bt_net_free(net);
out:
	free(dir);
	json_decref(rec);
	bt_net_free_all(nets, nn);
	return rc;
}

int bt_net_ensure_default(berth_ctx *ctx, berth_error **err)
{
	berth_network_create_opts o = BERTH_NETWORK_CREATE_OPTS_INIT;
	struct bt_net *net;
	int rc = bt_net_load(ctx, BERTH_NETWORK_DEFAULT, &net, NULL);

	if (rc == 0) {
		bt_net_free(net);
		return 0;
	}
	return bt_net_create_locked(ctx, BERTH_NETWORK_DEFAULT, &o, NULL, err);
}
