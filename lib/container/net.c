/* The engine's side of bridge networks (--network bridge|NAME): the
 * network module attaches the init's namespace between the runtime's
 * create and start, and detaches it when the container ends. What the
 * attach gave is kept in the state as Docker's NetworkSettings. */
#include "container-internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bt_ct_net_bridged(const char *mode)
{
	return mode && *mode && strcmp(mode, "none") && strcmp(mode, "host") && strncmp(mode, "container:", 10);
}

int bt_ct_net_check(berth_ctx *ctx, const char *mode, berth_error **err)
{
	char *json = NULL;
	int rc;

	if (!bt_ct_net_bridged(mode) || !strcmp(mode, BERTH_NETWORK_DEFAULT))
		return 0;
	rc = berth_network_inspect(ctx, mode, &json, err);
	berth_string_free(json);
	return rc < 0 ? bt_error_wrap(err, rc, "network %s", mode) : 0;
}

/* A port number of -p: 1-65535, or 0 for an empty host port when empty_ok. */
static int port_number(const char *s, size_t len, bool empty_ok, const char *spec, int *out, berth_error **err)
{
	int n = 0;

	if (!len && empty_ok) {
		*out = 0;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-')
			return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "publish \"%s\": port ranges are not supported yet", spec);
		if (s[i] < '0' || s[i] > '9' || (n = n * 10 + (s[i] - '0')) > 65535)
			return bt_error_set(err, BERTH_EINVAL, 0, "publish \"%s\": invalid port \"%.*s\"", spec, (int)len, s);
	}
	if (!len || n < 1)
		return bt_error_set(err, BERTH_EINVAL, 0, "publish \"%s\": invalid port \"%.*s\"", spec, (int)len, s);
	*out = n;
	return 0;
}

/* "[ip:][hostPort:]containerPort[/proto]" into PortBindings and ExposedPorts. */
static int publish_one(const char *spec, json_t *bindings, json_t *exposed, berth_error **err)
{
	const char *slash = strchr(spec, '/'), *end = slash ? slash : spec + strlen(spec);
	const char *c2 = end, *c1;
	char key[32], hport[8] = "", ip[64] = "";
	int cport, hp = 0, rc;
	json_t *list;

	if (slash && strcmp(slash + 1, "tcp") && strcmp(slash + 1, "udp"))
		return bt_error_set(err, BERTH_EINVAL, 0, "publish \"%s\": the protocol is tcp or udp", spec);
	while (c2 > spec && c2[-1] != ':')
		c2--;
	if ((rc = port_number(c2, (size_t)(end - c2), false, spec, &cport, err)) < 0)
		return rc;
	if (c2 > spec) {
		c1 = c2 - 1;
		while (c1 > spec && c1[-1] != ':')
			c1--;
		if ((rc = port_number(c1, (size_t)(c2 - 1 - c1), true, spec, &hp, err)) < 0)
			return rc;
		if (c1 > spec) {
			struct in_addr a;

			if ((size_t)(c1 - 1 - spec) >= sizeof(ip))
				return bt_error_set(err, BERTH_EINVAL, 0, "publish \"%.80s\": invalid host address", spec);
			memcpy(ip, spec, (size_t)(c1 - 1 - spec));
			if (inet_pton(AF_INET, ip, &a) != 1)
				return bt_error_set(err, BERTH_EINVAL, 0, "publish \"%s\": invalid host address \"%s\" (IPv4)",
						    spec, ip);
		}
	}
	if (hp)
		snprintf(hport, sizeof(hport), "%d", hp);
	snprintf(key, sizeof(key), "%d/%s", cport, slash ? slash + 1 : "tcp");
	if (!(list = json_object_get(bindings, key)))
		json_object_set_new(bindings, key, list = json_array());
	json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", hport));
	json_object_set_new(exposed, key, json_object());
	return 0;
}

static bool user_network(const char *mode)
{
	return bt_ct_net_bridged(mode) && strcmp(mode, BERTH_NETWORK_DEFAULT);
}

int bt_ct_net_nameserver(berth_ctx *ctx, const char *mode, char ns[16], berth_error **err)
{
	char *text = NULL;
	json_t *net = NULL;
	const char *gw;
	int rc;

	ns[0] = '\0';
	if (!user_network(mode))
		return 0;
	if ((rc = berth_network_inspect(ctx, mode, &text, err)) < 0)
		return bt_error_wrap(err, rc, "network %s", mode);
	rc = bt_json_parse(text, strlen(text), "a network", &net, err);
	berth_string_free(text);
	if (rc < 0)
		return rc;
	gw = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(net, "IPAM"), "Config"), 0),
					       "Gateway"));
	snprintf(ns, 16, "%s", gw ? gw : "");
	json_decref(net);
	return 0;
}

static bool is_address(const char *s)
{
	unsigned char buf[16];

	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* --network-alias, --ip: Docker's EndpointsConfig of the create call;
 * user networks only, as Docker's. */
static int endpoint_record(const berth_container_create_opts *o, json_t *record, berth_error **err)
{
	json_t *aliases = json_array(), *endpoint;
	struct in_addr a;

	if (((o->network_aliases && *o->network_aliases) || o->ip) && !user_network(o->network))
		return json_decref(aliases),
		       bt_error_set(err, BERTH_EINVAL, 0, "%s is supported only on user-defined networks, not --network %s",
				    o->ip ? "a user-specified IP address (--ip)" : "a network-scoped alias",
				    o->network ? o->network : "none");
	for (const char *const *p = o->network_aliases; p && *p; p++) {
		if (!bt_ct_valid_name(*p) || **p == '/')
			return json_decref(aliases),
			       bt_error_set(err, BERTH_EINVAL, 0, "invalid network alias \"%.80s\": want [a-zA-Z0-9][a-zA-Z0-9_.-]*", *p);
		json_array_append_new(aliases, json_string(*p));
	}
	if (o->ip && inet_pton(AF_INET, o->ip, &a) != 1)
		return json_decref(aliases), bt_error_set(err, BERTH_EINVAL, 0, "invalid --ip \"%.80s\": want an IPv4 address", o->ip);
	if (!user_network(o->network)) {
		json_decref(aliases);
		return 0;
	}
	endpoint = json_pack("{s:o, s:{s:s?}}", "Aliases", aliases, "IPAMConfig", "IPv4Address", o->ip);
	json_object_set_new(record, "NetworkingConfig", json_pack("{s:{s:o}}", "EndpointsConfig", o->network, endpoint));
	return 0;
}

/* --dns, --dns-search, --dns-option, --add-host into HostConfig, checked. */
static int dns_record(const berth_container_create_opts *o, json_t *host, berth_error **err)
{
	const char *const *lists[] = { o->dns, o->dns_search, o->dns_options, o->add_hosts };
	static const char *const keys[] = { "Dns", "DnsSearch", "DnsOptions", "ExtraHosts" };
	static const char *const flags[] = { "dns", "dns-search", "dns-option", "add-host" };
	json_t *v;

	for (const char *const *d = o->dns; d && *d; d++)
		if (!is_address(*d))
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid --dns \"%.80s\": want an IP address", *d);
	for (const char *const *h = o->add_hosts; h && *h; h++) {
		const char *colon = strchr(*h, ':');
		char name[256];

		if (!colon || colon == *h || (size_t)(colon - *h) >= sizeof(name) || !is_address(colon + 1))
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid --add-host \"%.80s\": want name:ip", *h);
		memcpy(name, *h, (size_t)(colon - *h));
		name[colon - *h] = '\0';
		if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(name))
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid --add-host \"%.80s\": a bad host name", *h);
	}
	for (size_t i = 1; i < 3; i++)
		for (const char *const *w = lists[i]; w && *w; w++)
			if (!**w || strpbrk(*w, " \t\n#;"))
				return bt_error_set(err, BERTH_EINVAL, 0, "invalid --%s \"%.80s\": one word, no blanks",
						    flags[i], *w);
	for (size_t i = 0; i < 4; i++) {
		json_object_set_new(host, keys[i], v = json_array());
		for (const char *const *w = lists[i]; w && *w; w++)
			json_array_append_new(v, json_string(*w));
	}
	return 0;
}

int bt_ct_net_record(const berth_container_create_opts *o, const json_t *image_exposed, json_t *record,
		     berth_error **err)
{
	json_t *bindings = json_object(), *exposed = json_is_object(image_exposed) ? json_deep_copy(image_exposed)
										    : json_object();
	int rc = 0;

	if ((o->publish && *o->publish) || o->publish_all) {
		if (!bt_ct_net_bridged(o->network))
			rc = bt_error_set(err, BERTH_EINVAL, 0, "published ports need a bridge network, not --network %s",
					  o->network ? o->network : "none");
	}
	if (rc == 0 && (rc = endpoint_record(o, record, err)) == 0)
		rc = dns_record(o, json_object_get(record, "HostConfig"), err);
	for (const char *const *p = o->publish; p && *p && rc == 0; p++)
		rc = publish_one(*p, bindings, exposed, err);
	if (rc == 0) {
		json_object_set(json_object_get(record, "HostConfig"), "PortBindings", bindings);
		json_object_set_new(json_object_get(record, "HostConfig"), "PublishAllPorts", json_boolean(o->publish_all));
		if (json_object_size(exposed))
			json_object_set(json_object_get(record, "Config"), "ExposedPorts", exposed);
	}
	json_decref(bindings);
	json_decref(exposed);
	return rc;
}

/* The ports to publish: PortBindings, and with PublishAllPorts each
 * exposed port not bound (to a free host port). Strings borrowed from ct. */
static int ports_wanted(const struct bt_ct *ct, berth_network_port **out, size_t *n)
{
	const json_t *host = json_object_get(ct->config, "HostConfig");
	const json_t *bindings = json_object_get(host, "PortBindings");
	const json_t *exposed = json_object_get(json_object_get(ct->config, "Config"), "ExposedPorts");
	size_t cap = 0, i;
	const char *key;
	json_t *list, *b, *e;
	berth_network_port *v = NULL;

	*n = 0;
	for (int pass = 0; pass < 2; pass++) {
		const json_t *from = pass ? (json_is_true(json_object_get(host, "PublishAllPorts")) ? exposed : NULL) : bindings;

		json_object_foreach((json_t *)from, key, e) {
			const char *slash = strchr(key, '/');
			json_t *one = json_pack("[{}]");

			if (pass && json_object_get(bindings, key)) {
				json_decref(one);
				continue;
			}
			list = pass ? one : e;
			json_array_foreach(list, i, b) {
				berth_network_port *grown = bt_grow(v, *n, &cap, sizeof(*v), 4);
				const char *hp = json_string_value(json_object_get(b, "HostPort"));

				if (!grown) {
					json_decref(one);
					free(v);
					return -1;
				}
				v = grown;
				v[*n] = (berth_network_port){ json_string_value(json_object_get(b, "HostIp")), hp ? atoi(hp) : 0,
							      atoi(key), slash && !strcmp(slash + 1, "udp") ? "udp" : "tcp" };
				(*n)++;
			}
			json_decref(one);
		}
	}
	*out = v;
	return 0;
}

/* NetworkSettings.Ports: each exposed port, null or its host bindings. */
static json_t *ports_json(const struct bt_ct *ct, const berth_network_port *v, size_t n)
{
	json_t *out = json_object(), *e;
	const char *key;

	json_object_foreach(json_object_get(json_object_get(ct->config, "Config"), "ExposedPorts"), key, e)
		json_object_set_new(out, key, json_null());
	for (size_t i = 0; i < n; i++) {
		char k[32], hp[8];
		json_t *list;

		snprintf(k, sizeof(k), "%d/%s", v[i].container_port, v[i].proto);
		snprintf(hp, sizeof(hp), "%d", v[i].host_port);
		if (!json_is_array(list = json_object_get(out, k)))
			json_object_set_new(out, k, list = json_array());
		json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", v[i].host_ip && *v[i].host_ip ? v[i].host_ip : "0.0.0.0",
						      "HostPort", hp));
	}
	return out;
}

static const char *network_mode(const struct bt_ct *ct)
{
	return json_string_value(json_object_get(json_object_get(ct->config, "HostConfig"), "NetworkMode"));
}

/* One entry of NetworkSettings.Networks, as Docker shows it. */
static json_t *endpoint_json(const berth_network_attachment *a)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:[]}", "NetworkID", a->network_id, "EndpointID",
			 a->host_ifname, "IPAddress", a->address, "IPPrefixLen", a->prefix_len, "Gateway", a->gateway,
			 "MacAddress", a->mac, "Aliases");
}

/* The aliases (a NULL-terminated array to free, strings borrowed from
 * ct) and the address asked for, of ct's endpoint on net. */
static int endpoint_config(const struct bt_ct *ct, const char *net, const char *const **aliases, const char **ip)
{
	const json_t *ep = json_object_get(json_object_get(json_object_get(ct->config, "NetworkingConfig"),
							   "EndpointsConfig"), net);
	const json_t *list = json_object_get(ep, "Aliases");
	const char **v = calloc(json_array_size(list) + 1, sizeof(*v));
	size_t i, n = 0;
	json_t *a;

	if (!v)
		return -1;
	json_array_foreach(list, i, a)
		if (json_is_string(a))
			v[n++] = json_string_value(a);
	*aliases = v;
	*ip = json_string_value(json_object_get(json_object_get(ep, "IPAMConfig"), "IPv4Address"));
	return 0;
}

/* Docker's Aliases of an endpoint on a user network: the short id, then
 * the aliases asked for. */
static void aliases_json(json_t *out, const char *id, const char *const *aliases)
{
	json_array_append_new(out, json_sprintf("%.12s", id));
	for (; aliases && *aliases; aliases++)
		json_array_append_new(out, json_string(*aliases));
}

/* Attaches process pid's namespace to network net as ct's endpoint
 * ifname, with ports; *entry: its NetworkSettings.Networks entry. */
static int attach_one(berth_ctx *ctx, const struct bt_ct *ct, int pid, const char *net, const char *ifname,
		      berth_network_port *ports, size_t nports, berth_network_attachment *a, json_t **entry,
		      berth_error **err)
{
	berth_network_attach_opts o = BERTH_NETWORK_ATTACH_OPTS_INIT;
	const char *name = json_string_value(json_object_get(ct->config, "Name"));
	int rc;

	/* an earlier run's endpoint (its monitor killed before the detach) */
	berth_network_detach(ctx, net, ct->id, NULL);
	o.pid = pid;
	o.container = ct->id;
	o.name = name && name[0] == '/' ? name + 1 : name;
	o.ifname = ifname;
	o.no_default_route = strcmp(net, network_mode(ct)) != 0;
	o.ports = ports;
	o.nports = nports;
	if (endpoint_config(ct, net, &o.aliases, &o.ip) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = berth_network_attach(ctx, net, &o, a, err)) == 0) {
		if (!(*entry = endpoint_json(a))) {
			berth_network_detach(ctx, net, ct->id, NULL);
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		} else if (user_network(net)) {
			aliases_json(json_object_get(*entry, "Aliases"), ct->id, o.aliases);
		}
	}
	free((void *)o.aliases);
	return rc;
}

/* The networks connect gave ct besides its own (the keys of
 * NetworkingConfig.EndpointsConfig but NetworkMode). */
#define foreach_extra(ct, mode, net, ep) \
	json_object_foreach(json_object_get(json_object_get((ct)->config, "NetworkingConfig"), "EndpointsConfig"), net, ep) \
		if (strcmp(net, mode))

static void detach_all(berth_ctx *ctx, const struct bt_ct *ct, const char *mode)
{
	const char *net;
	json_t *ep;
	berth_error *err = NULL;

	foreach_extra(ct, mode, net, ep) {
		if (berth_network_detach(ctx, net, ct->id, &err) < 0 && berth_error_code(err) != BERTH_ENOTFOUND)
			bt_log_warn(ctx, "container", "%s: detaching from %s: %s", ct->id, net, berth_error_message(err));
		berth_error_free(err);
		err = NULL;
	}
	if (berth_network_detach(ctx, mode, ct->id, &err) < 0 && berth_error_code(err) != BERTH_ENOTFOUND)
		bt_log_warn(ctx, "container", "%s: detaching from %s: %s", ct->id, mode, berth_error_message(err));
	berth_error_free(err);
}

int bt_ct_net_up(berth_ctx *ctx, struct bt_ct *ct, int pid, berth_error **err)
{
	berth_network_attachment a = BERTH_NETWORK_ATTACHMENT_INIT;
	const char *mode = network_mode(ct), *net;
	berth_network_port *ports = NULL;
	size_t nports = 0;
	json_t *settings = NULL, *entry = NULL, *ep, *ifnames;
	int rc, k = 1;

	if (!bt_ct_net_bridged(mode))
		return 0;
	if (ports_wanted(ct, &ports, &nports) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = attach_one(ctx, ct, pid, mode, "eth0", ports, nports, &a, &entry, err);
	if (rc == 0 && !(settings = json_pack("{s:s, s:s, s:i, s:s, s:{s:o}, s:o, s:{s:s}}", "IPAddress", a.address,
					     "Gateway", a.gateway, "IPPrefixLen", a.prefix_len, "MacAddress", a.mac,
					     "Networks", mode, entry, "Ports", ports_json(ct, ports, nports),
					     "Interfaces", mode, "eth0")))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	free(ports);
	if (rc < 0)
		return rc;
	ifnames = json_object_get(settings, "Interfaces");
	foreach_extra(ct, mode, net, ep) {
		char ifname[16];

		snprintf(ifname, sizeof(ifname), "eth%d", k++);
		if ((rc = attach_one(ctx, ct, pid, net, ifname, NULL, 0, &a, &entry, err)) < 0)
			break;
		json_object_set_new(json_object_get(settings, "Networks"), net, entry);
		json_object_set_new(ifnames, net, json_string(ifname));
	}
	if (rc < 0 || json_object_set_new(ct->state, "NetworkSettings", settings) < 0 ||
	    (rc = bt_ct_save_state(ct, err)) < 0) {
		detach_all(ctx, ct, mode);
		return rc < 0 ? rc : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	return 0;
}

void bt_ct_net_down(berth_ctx *ctx, const char *id)
{
	struct bt_ct *ct;
	const char *mode;

	if (bt_ct_open(ctx, id, &ct, NULL) < 0)
		return;
	mode = network_mode(ct);
	if (bt_ct_net_bridged(mode)) {
		detach_all(ctx, ct, mode);
		json_object_del(ct->state, "NetworkSettings");
		bt_ct_save_state(ct, NULL);
	}
	bt_ct_close(ct);
}

/* ---- connect, disconnect ---------------------------------------------------- */

static int save_config(struct bt_ct *ct, berth_error **err)
{
	char *path = bt_strdup_printf("%s/container.json", ct->dir);
	int rc = path ? bt_json_write_atomic(path, ct->config, err) : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");

	free(path);
	return rc;
}

/* The network's name (a network may be given by id), checked to exist. */
static int network_name(berth_ctx *ctx, const char *network, char **out, berth_error **err)
{
	char *text = NULL;
	json_t *doc = NULL;
	int rc;

	if ((rc = berth_network_inspect(ctx, network, &text, err)) < 0)
		return rc;
	if ((rc = bt_json_parse(text, strlen(text), "a network", &doc, err)) == 0 &&
	    !(*out = strdup(json_string_value(json_object_get(doc, "Name")) ? json_string_value(json_object_get(doc, "Name")) : network)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	json_decref(doc);
	berth_string_free(text);
	return rc;
}

/* The first free eth<k> (k >= 1) of a running container's interfaces. */
static void free_ifname(const json_t *settings, char out[16])
{
	const json_t *used = json_object_get(settings, "Interfaces");

	for (int k = 1;; k++) {
		const char *net;
		json_t *v;
		bool taken = false;

		snprintf(out, 16, "eth%d", k);
		json_object_foreach((json_t *)used, net, v)
			taken |= json_is_string(v) && !strcmp(json_string_value(v), out);
		if (!taken || k > 999)
			return;
	}
}

static int check_connect(const struct bt_ct *ct, const char *mode, const char *net,
			 const berth_container_connect_opts *o, berth_error **err)
{
	struct in_addr a;

	if (!bt_ct_net_bridged(mode))
		return bt_error_set(err, BERTH_EINVAL, 0, "container %.12s has --network %s: it cannot be connected to other networks",
				    ct->id, mode ? mode : "none");
	if (!strcmp(mode, net) || json_object_get(json_object_get(json_object_get(ct->config, "NetworkingConfig"),
								  "EndpointsConfig"), net))
		return bt_error_set(err, BERTH_EEXISTS, 0, "container %.12s is already connected to network %s", ct->id, net);
	if (((o->aliases && *o->aliases) || o->ip) && !user_network(net))
		return bt_error_set(err, BERTH_EINVAL, 0, "aliases and --ip are supported only on user-defined networks, not %s", net);
	for (const char *const *p = o->aliases; p && *p; p++)
		if (!bt_ct_valid_name(*p) || **p == '/')
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid network alias \"%.80s\": want [a-zA-Z0-9][a-zA-Z0-9_.-]*", *p);
	if (o->ip && inet_pton(AF_INET, o->ip, &a) != 1)
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --ip \"%.80s\": want an IPv4 address", o->ip);
	return 0;
}

/* Attaches a running container to net now; its entry into the state. */
static int connect_running(berth_ctx *ctx, struct bt_ct *ct, const char *net, berth_error **err)
{
	berth_network_attachment a = BERTH_NETWORK_ATTACHMENT_INIT;
	json_t *settings = json_object_get(ct->state, "NetworkSettings"), *entry = NULL;
	int pid = (int)json_integer_value(json_object_get(ct->state, "Pid")), rc;
	char ifname[16];

	if (!bt_ct_live(bt_ct_status(ct)) || pid <= 0 || !json_is_object(settings))
		return 0; /* attached at its next start */
	free_ifname(settings, ifname);
	if ((rc = attach_one(ctx, ct, pid, net, ifname, NULL, 0, &a, &entry, err)) < 0)
		return rc;
	if (!json_is_object(json_object_get(settings, "Interfaces")))
		json_object_set_new(settings, "Interfaces", json_object());
	json_object_set_new(json_object_get(settings, "Networks"), net, entry);
	json_object_set_new(json_object_get(settings, "Interfaces"), net, json_string(ifname));
	if ((rc = bt_ct_save_state(ct, err)) < 0)
		berth_network_detach(ctx, net, ct->id, NULL);
	return rc;
}

int berth_container_network_connect(berth_ctx *ctx, const char *name, const char *network,
				    const berth_container_connect_opts *opts, berth_error **err)
{
	berth_container_connect_opts o = BERTH_CONTAINER_CONNECT_OPTS_INIT;
	struct bt_ct *ct = NULL;
	char *net = NULL;
	json_t *eps, *aliases;
	int rc;

	if (!ctx || !name || !network)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context, container or network");
	if ((opts && (rc = bt_opts_copy(&o, sizeof(o), opts, "berth_container_connect_opts", err)) < 0) ||
	    (rc = network_name(ctx, network, &net, err)) < 0 || (rc = bt_ct_open(ctx, name, &ct, err)) < 0 ||
	    (rc = check_connect(ct, network_mode(ct), net, &o, err)) < 0)
		goto out;
	if (!json_is_object(json_object_get(ct->config, "NetworkingConfig")))
		json_object_set_new(ct->config, "NetworkingConfig", json_object());
	if (!json_is_object(eps = json_object_get(json_object_get(ct->config, "NetworkingConfig"), "EndpointsConfig")))
		json_object_set_new(json_object_get(ct->config, "NetworkingConfig"), "EndpointsConfig", eps = json_object());
	aliases = json_array();
	for (const char *const *p = o.aliases; p && *p; p++)
		json_array_append_new(aliases, json_string(*p));
	json_object_set_new(eps, net, json_pack("{s:o, s:{s:s?}}", "Aliases", aliases, "IPAMConfig", "IPv4Address", o.ip));
	if ((rc = save_config(ct, err)) == 0 && (rc = connect_running(ctx, ct, net, err)) < 0) {
		json_object_del(eps, net);
		save_config(ct, NULL);
	}
out:
	bt_ct_close(ct);
	rc = rc < 0 ? bt_error_wrap(err, rc, "connecting %s to network %s", name ? name : "", net ? net : network ? network : "") : 0;
	free(net);
	return rc;
}

int berth_container_network_disconnect(berth_ctx *ctx, const char *name, const char *network, berth_error **err)
{
	struct bt_ct *ct = NULL;
	const char *mode;
	char *net = NULL;
	json_t *eps, *settings;
	int rc;

	if (!ctx || !name || !network)
		return bt_error_set(err, BERTH_EINVAL, 0, "no context, container or network");
	/* a network removed meanwhile is still disconnected from, by the name given */
	if (network_name(ctx, network, &net, NULL) < 0 && !(net = strdup(network)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		goto out;
	mode = network_mode(ct);
	eps = json_object_get(json_object_get(ct->config, "NetworkingConfig"), "EndpointsConfig");
	if (mode && !strcmp(mode, net)) {
		rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				  "%s is the container's own network (--network): disconnecting it is not supported yet", net);
		goto out;
	}
	if (!json_object_get(eps, net)) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "container %.12s is not connected to network %s", ct->id, net);
		goto out;
	}
	settings = json_object_get(ct->state, "NetworkSettings");
	if (json_object_get(json_object_get(settings, "Networks"), net) &&
	    (rc = berth_network_detach(ctx, net, ct->id, err)) < 0 && rc != BERTH_ENOTFOUND)
		goto out;
	bt_error_clear(err);
	json_object_del(json_object_get(settings, "Networks"), net);
	json_object_del(json_object_get(settings, "Interfaces"), net);
	json_object_del(eps, net);
	if ((rc = save_config(ct, err)) == 0)
		rc = bt_ct_save_state(ct, err);
out:
	bt_ct_close(ct);
	rc = rc < 0 ? bt_error_wrap(err, rc, "disconnecting %s from network %s", name, net) : 0;
	free(net);
	return rc;
}

json_t *bt_ct_net_inspect(const struct bt_ct *ct)
{
	json_t *s = json_object_get(ct->state, "NetworkSettings"), *copy;

	if (s && (copy = json_deep_copy(s))) {
		json_object_del(copy, "Interfaces"); /* ours, not Docker's */
		return copy;
	}
	return s ? NULL
		 : json_pack("{s:s, s:s, s:i, s:s, s:{}, s:{}}", "IPAddress", "", "Gateway", "", "IPPrefixLen", 0,
			     "MacAddress", "", "Networks", "Ports");
}

void bt_ct_net_renamed(berth_ctx *ctx, const struct bt_ct *ct, const char *new_name)
{
	const char *mode = network_mode(ct);
	berth_error *err = NULL;

	if (bt_ct_net_bridged(mode) && berth_network_endpoint_rename(ctx, mode, ct->id, new_name, &err) < 0 &&
	    berth_error_code(err) != BERTH_ENOTFOUND)
		bt_log_warn(ctx, "container", "%s: renaming its endpoint on %s: %s", ct->id, mode, berth_error_message(err));
	berth_error_free(err);
}
