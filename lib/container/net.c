/* The engine's side of bridge networks (--network bridge|NAME): the
 * network module attaches the init's namespace between the runtime's
 * create and start, and detaches it when the container ends. What the
 * attach gave is kept in the state as Docker's NetworkSettings. */
#include "container-internal.h"

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

static const char *network_mode(const struct bt_ct *ct)
{
	return json_string_value(json_object_get(json_object_get(ct->config, "HostConfig"), "NetworkMode"));
}

/* NetworkSettings as Docker shows them for one network. */
static json_t *settings_json(const char *network, const berth_network_attachment *a, const char *endpoint)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:{s:{s:s, s:s, s:s, s:i, s:s, s:s, s:[]}}, s:{}}", "IPAddress",
			 a->address, "Gateway", a->gateway, "IPPrefixLen", a->prefix_len, "MacAddress", a->mac,
			 "Networks", network, "NetworkID", a->network_id, "EndpointID", endpoint, "IPAddress",
			 a->address, "IPPrefixLen", a->prefix_len, "Gateway", a->gateway, "MacAddress", a->mac,
			 "Aliases", "Ports");
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
	if ((rc = berth_network_attach(ctx, mode, &o, &a, err)) < 0)
		return rc;
	if (!(settings = settings_json(mode, &a, a.host_ifname)) ||
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
