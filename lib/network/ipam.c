/* IPv4 addresses and subnets as the network module keeps them: host byte
 * order, parsed strictly (inet_pton's dotted quad, a prefix length 0-32). */
#include "network-internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bt_ip_parse(const char *s, uint32_t *out, berth_error **err)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid IPv4 address: \"%s\"", s ? s : "");
	*out = ntohl(a.s_addr);
	return 0;
}

void bt_ip_format(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

uint32_t bt_cidr_mask(int len)
{
	return len <= 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

int bt_cidr_parse(const char *s, bool strict, struct bt_cidr *out, berth_error **err)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char ip[16], *end;
	long len;
	uint32_t a = 0;

	if (!slash || slash - s >= (long)sizeof(ip) || !slash[1])
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid CIDR \"%s\": want a.b.c.d/len", s ? s : "");
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	len = strtol(slash + 1, &end, 10);
	if (*end || len < 0 || len > 32 || slash[1] == '-' || slash[1] == '+')
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid CIDR \"%s\": the prefix length must be 0-32", s);
	if (bt_ip_parse(ip, &a, NULL) < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid CIDR \"%s\": bad address", s);
	if (strict && (a & ~bt_cidr_mask((int)len))) {
		char first[16];

		bt_ip_format(a & bt_cidr_mask((int)len), first);
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid subnet \"%s\": host bits are set (did you mean %s/%ld?)",
				    s, first, len);
	}
	out->addr = a & bt_cidr_mask((int)len);
	out->len = (int)len;
	return 0;
}

void bt_cidr_format(const struct bt_cidr *c, char out[20])
{
	char ip[16];

	bt_ip_format(c->addr, ip);
	snprintf(out, 20, "%s/%d", ip, c->len);
}

bool bt_cidr_contains(const struct bt_cidr *c, uint32_t ip)
{
	return (ip & bt_cidr_mask(c->len)) == c->addr;
}

bool bt_cidr_overlap(const struct bt_cidr *a, const struct bt_cidr *b)
{
	int len = a->len < b->len ? a->len : b->len;

	return (a->addr & bt_cidr_mask(len)) == (b->addr & bt_cidr_mask(len));
}
