/* The files a container gets in /etc from the engine: hostname, hosts and
 * resolv.conf, written in its directory and bind-mounted. */
#include "container-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char hosts_none[] =
	"127.0.0.1\tlocalhost\n"
	"::1\tlocalhost ip6-localhost ip6-loopback\n"
	"fe00::0\tip6-localnet\n"
	"ff00::0\tip6-mcastprefix\n"
	"ff02::1\tip6-allnodes\n"
	"ff02::2\tip6-allrouters\n";

/* The host's resolv.conf; without the host's network, nameservers on the
 * host's loopback are unreachable and dropped (Docker does the same). */
static char *resolv_conf(bool host_net)
{
	char *text = NULL, *out, *save = NULL;
	size_t len, n = 0;

	if (bt_read_file("/etc/resolv.conf", 1 << 20, &text, &len, NULL) < 0)
		return strdup("");
	if (host_net || !(out = malloc(len + 1)))
		return text;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *ns = line + strspn(line, " \t");

		if (!strncmp(ns, "nameserver", 10) &&
		    (strstr(ns, " 127.") || strstr(ns, "\t127.") || strstr(ns, " ::1")))
			continue;
		n += (size_t)sprintf(out + n, "%s\n", line);
	}
	out[n] = '\0';
	free(text);
	return out;
}

/* Without fsync, as Docker writes them: made again from the options, never
 * worth a disk flush on every create. */
static int write_file(const char *dir, const char *name, const char *text, berth_error **err)
{
	char *path = bt_strdup_printf("%s/%s", dir, name);
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	rc = bt_write_file_volatile(path, text, strlen(text), 0644, err);
	free(path);
	return rc;
}

int bt_ct_etc_write(const char *dir, const char *hostname, bool host_net, berth_error **err)
{
	char *hosts = NULL, *resolv = resolv_conf(host_net), *name;
	size_t len;
	int rc;

	if (host_net) {
		char host[256] = "";

		gethostname(host, sizeof(host) - 1);
		name = bt_strdup_printf("%s\n", host);
		if (bt_read_file("/etc/hosts", 1 << 20, &hosts, &len, NULL) < 0)
			hosts = strdup(hosts_none);
	} else {
		name = bt_strdup_printf("%s\n", hostname);
		hosts = strdup(hosts_none);
	}
	if (!resolv || !hosts || !name)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	else if ((rc = write_file(dir, "hostname", name, err)) == 0 &&
		 (rc = write_file(dir, "hosts", hosts, err)) == 0)
		rc = write_file(dir, "resolv.conf", resolv, err);
	free(name);
	free(hosts);
	free(resolv);
	return rc;
}
