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

/* NetworkSettings as Docker shows them for one network. */
static json_t *settings_json(const char *network, const berth_network_attachment *a, const char *endpoint,
			     json_t *ports)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:{s:{s:s, s:s, s:s, s:i, s:s, s:s, s:[]}}, s:o}", "IPAddress",
			 a->address, "Gateway", a->gateway, "IPPrefixLen", a->prefix_len, "MacAddress", a->mac,
			 "Networks", network, "NetworkID", a->network_id, "EndpointID", endpoint, "IPAddress",
			 a->address, "IPPrefixLen", a->prefix_len, "Gateway", a->gateway, "MacAddress", a->mac,
			 "Aliases", "Ports", ports);
}

/* The aliases (a NULL-terminated array to free, strings borrowed from
 * ct) and the address asked for at create. */
static int endpoint_config(const struct bt_ct *ct, const char *mode, const char *const **aliases, const char **ip)
{
	const json_t *ep = json_object_get(json_object_get(json_object_get(ct->config, "NetworkingConfig"),
							   "EndpointsConfig"), mode);
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

int bt_ct_net_up(berth_ctx *ctx, struct bt_ct *ct, int pid, berth_error **err)
{
	berth_network_attach_opts o = BERTH_NETWORK_ATTACH_OPTS_INIT;
	berth_network_attachment a = BERTH_NETWORK_ATTACHMENT_INIT;
	const char *mode = network_mode(ct), *name = json_string_value(json_object_get(ct->config, "Name"));
	json_t *settings;
	int rc;

	if (!bt_ct_net_bridged(mode))
		return 0;
	/* an earlier run's endpoint (its monitor killed before the detach) */
	berth_network_detach(ctx, mode, ct->id, NULL);
	o.pid = pid;
	o.container = ct->id;
	o.name = name && name[0] == '/' ? name + 1 : name;
	if (endpoint_config(ct, mode, &o.aliases, &o.ip) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if (ports_wanted(ct, &o.ports, &o.nports) < 0)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = berth_network_attach(ctx, mode, &o, &a, err);
	settings = rc < 0 ? NULL : settings_json(mode, &a, a.host_ifname, ports_json(ct, o.ports, o.nports));
	if (settings && user_network(mode))
		aliases_json(json_object_get(json_object_get(json_object_get(settings, "Networks"), mode), "Aliases"),
			     ct->id, o.aliases);
	free(o.ports);
	free((void *)o.aliases);
	if (rc < 0)
		return rc;
	if (!settings ||
	    json_object_set_new(ct->state, "NetworkSettings", settings) < 0 || (rc = bt_ct_save_state(ct, err)) < 0) {
		berth_network_detach(ctx, mode, ct->id, NULL);
		return rc < 0 ? rc : bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	return 0;
}

void bt_ct_net_down(berth_ctx *ctx, const char *id)
{
	struct bt_ct *ct;
	const char *mode;
	berth_error *err = NULL;

	if (bt_ct_open(ctx, id, &ct, NULL) < 0)
		return;
	mode = network_mode(ct);
	if (bt_ct_net_bridged(mode)) {
		if (berth_network_detach(ctx, mode, ct->id, &err) < 0 && berth_error_code(err) != BERTH_ENOTFOUND)
			bt_log_warn(ctx, "container", "%s: detaching from %s: %s", id, mode, berth_error_message(err));
		berth_error_free(err);
		json_object_del(ct->state, "NetworkSettings");
		bt_ct_save_state(ct, NULL);
	}
	bt_ct_close(ct);
}

json_t *bt_ct_net_inspect(const struct bt_ct *ct)
{
	json_t *s = json_object_get(ct->state, "NetworkSettings");

	return s ? json_deep_copy(s)
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
