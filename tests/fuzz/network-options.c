/* berth_network_create's options as users type them (--subnet, --gateway,
 * --ip-range, --label, the bridge's name) planned and recorded in a store of
 * the target's own (no bridge is made: that is the first attach's), and
 * each line through the address parsers. Input: lines "subnet X",
 * "gateway X", "ip-range X", "label K=V", "bridge NAME", "name NAME",
 * "internal". */
#include "fuzz.h"
#include "network-internal.h"

#define MAX_LABELS 8

static berth_ctx *ctx;
static char *networks;

static void setup(void)
{
	ctx = fuzz_ctx();
	networks = bt_strdup_printf("%s/networks", berth_ctx_root(ctx));
}

static void addresses(const char *s)
{
	struct bt_cidr c;
	uint32_t ip;
	char out[20];

	for (int strict = 0; strict < 2; strict++)
		if (bt_cidr_parse(s, strict, &c, NULL) == 0) {
			struct bt_cidr again;

			/* what we print parses back to the same network */
			bt_cidr_format(&c, out);
			FUZZ_CHECK(bt_cidr_parse(out, true, &again, NULL) == 0);
			FUZZ_CHECK(again.addr == c.addr && again.len == c.len);
			FUZZ_CHECK(bt_cidr_overlap(&c, &again));
		}
	if (bt_ip_parse(s, &ip, NULL) == 0) {
		uint32_t back;

		bt_ip_format(ip, out);
		FUZZ_CHECK(bt_ip_parse(out, &back, NULL) == 0 && back == ip);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_network_create_opts o = BERTH_NETWORK_CREATE_OPTS_INIT;
	const char *labels[MAX_LABELS + 1] = { 0 }, *name = "fuzznet";
	size_t nlabels = 0;
	char *text = fuzz_string(data, size), *pos = text, *rest = NULL, *line;
	struct bt_net *net = NULL;
	berth_error *err = NULL;

	if (!ctx)
		setup();
	/* an empty line ends the options, as in the other targets */
	while ((line = fuzz_line(&pos, &rest))) {
		char *value;

		if ((value = strchr(line, ' ')))
			*value++ = '\0';
		else
			value = line;
		addresses(value);
		if (!strcmp(line, "subnet"))
			o.subnet = value;
		else if (!strcmp(line, "gateway"))
			o.gateway = value;
		else if (!strcmp(line, "ip-range"))
			o.ip_range = value;
		else if (!strcmp(line, "bridge"))
			o.bridge = value;
		else if (!strcmp(line, "name"))
			name = value;
		else if (!strcmp(line, "internal"))
			o.internal = 1;
		else if (!strcmp(line, "label") && nlabels < MAX_LABELS)
			labels[nlabels++] = value;
	}
	o.labels = nlabels ? labels : NULL;
	if (bt_net_create_locked(ctx, name, &o, &net, &err) == 0) {
		FUZZ_CHECK(net);
		FUZZ_CHECK(bt_cidr_contains(&net->subnet, net->gateway));
		bt_net_free(net);
	} else {
		FUZZ_CHECK(err);
		berth_error_free(err);
	}
	FUZZ_CHECK(bt_rm_rf(networks, NULL) == 0);
	free(text);
	return 0;
}
