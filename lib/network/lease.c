/* Address leases: <net dir>/leases/<ip>, one JSON file per address in use.
 * The file is the claim (O_EXCL under the networks lock), so two attaches
 * never share an address. A lease is written Pending before any veth
 * exists and rewritten without it once the namespace is configured; every
 * change holds the lock, so a Pending lease seen with the lock held was
 * left by a crashed attach, and a lease whose veth is gone was left by a
 * namespace that ended (its process killed, its container stopped without
 * a detach). Both are swept. */
#include "network-internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEASE_MAX 65536

char *bt_lease_path(const struct bt_net *net, uint32_t ip)
{
	char s[16];

	bt_ip_format(ip, s);
	return bt_strdup_printf("%s/leases/%s", net->dir, s);
}

/* The identity of this thread's network namespace, kept in each lease:
 * a lease made in another namespace (another store user) is not judged
 * by the links of this one. */
unsigned long long bt_net_ns_ino(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

int bt_lease_list(const struct bt_net *net, json_t **out, berth_error **err)
{
	char *dir = bt_strdup_printf("%s/leases", net->dir);
	json_t *all = json_object();
	struct dirent *de;
	DIR *d;

	if (!dir || !all) {
		free(dir);
		json_decref(all);
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	}
	if (!(d = opendir(dir))) {
		int rc = errno == ENOENT ? 0 : bt_error_os(err, "reading %s", dir);

		free(dir);
		if (rc < 0) {
			json_decref(all);
			return rc;
		}
		*out = all;
		return 0;
	}
	while ((de = readdir(d))) {
		uint32_t ip;
		char *path;
		json_t *lease;

		if (de->d_name[0] == '.' || bt_ip_parse(de->d_name, &ip, NULL) < 0)
			continue;
		if (!(path = bt_strdup_printf("%s/%s", dir, de->d_name)))
			continue;
		if (bt_json_load_file(path, LEASE_MAX, &lease, NULL) == 0) {
			if (json_is_object(lease))
				json_object_set(all, de->d_name, lease);
			json_decref(lease);
		}
		free(path);
	}
	closedir(d);
	free(dir);
	*out = all;
	return 0;
}

int bt_lease_sweep(berth_ctx *ctx, const struct bt_net *net)
{
	unsigned long long here = bt_net_ns_ino();
	json_t *all, *lease;
	const char *ip;
	int dropped = 0;
	bool ports = false;

	if (bt_lease_list(net, &all, NULL) < 0)
		return 0;
	json_object_foreach(all, ip, lease) {
		const char *host_if = json_string_value(json_object_get(lease, "HostIf"));
		bool pending = json_is_true(json_object_get(lease, "Pending"));
		unsigned long long ns = (unsigned long long)json_integer_value(json_object_get(lease, "HostNs"));
		char *path;

		if (ns != here || (!pending && host_if && bt_nl_link_exists(host_if)))
			continue;
		if (pending && host_if)
			bt_nl_link_delete(host_if, NULL);
		if ((path = bt_strdup_printf("%s/leases/%s", net->dir, ip)) && unlink(path) == 0) {
			bt_log_info(ctx, BT_NET_MODULE, "network %s: released %s of %s, whose %s", net->name, ip,
				    json_string_value(json_object_get(lease, "Container")),
				    pending ? "attach did not finish" : "namespace has gone");
			dropped++;
			ports |= json_array_size(json_object_get(lease, "Ports")) > 0;
		}
		free(path);
	}
	json_decref(all);
	if (ports) /* their DNAT rules go too */
		bt_net_rules_sync(ctx, NULL);
	if (dropped) /* and their names */
		bt_dns_sync_logged(ctx);
	return dropped;
}
