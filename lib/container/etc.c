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

/* Appends "text" to *buf (NULL stays NULL: out of memory). */
static void append(char **buf, const char *text)
{
	char *more = *buf ? bt_strdup_printf("%s%s", *buf, text) : NULL;

	free(*buf);
	*buf = more;
}

static void append_line(char **buf, const char *word, const char *const *v)
{
	append(buf, word);
	for (; v && *v; v++) {
		append(buf, " ");
		append(buf, *v);
	}
	append(buf, "\n");
}

/* A nameserver the container cannot reach: the host's loopback, unless it
 * shares the host's network (Docker drops them too). */
static bool loopback_nameserver(const char *line)
{
	return strstr(line, " 127.") || strstr(line, "\t127.") || strstr(line, " ::1");
}

/* resolv.conf from the host's: its nameservers, or a user network's own
 * (its aardvark-dns on the gateway, which forwards to the host's), then
 * --dns's; its search and options lines (or --dns-search, --dns-option). */
static char *resolv_conf(const struct bt_ct_etc *e)
{
	char *text = NULL, *out = strdup(""), *save = NULL;
	size_t len;

	if (e->nameserver) {
		append(&out, "nameserver ");
		append(&out, e->nameserver);
		append(&out, "\n");
	}
	for (const char *const *d = e->dns; d && *d; d++) {
		append(&out, "nameserver ");
		append(&out, *d);
		append(&out, "\n");
	}
	if (e->dns_search && *e->dns_search)
		append_line(&out, "search", e->dns_search);
	if (e->dns_options && *e->dns_options)
		append_line(&out, "options", e->dns_options);
	if (bt_read_file("/etc/resolv.conf", 1 << 20, &text, &len, NULL) < 0)
		return out;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *word = line + strspn(line, " \t");
		bool ns = !strncmp(word, "nameserver", 10), search = !strncmp(word, "search", 6) || !strncmp(word, "domain", 6),
		     options = !strncmp(word, "options", 7);

		/* a user network's aardvark-dns forwards to the host's */
		if ((ns && (e->dns || e->nameserver || (!e->host_net && loopback_nameserver(word)))) ||
		    (search && e->dns_search && *e->dns_search) || (options && e->dns_options && *e->dns_options))
			continue;
		append(&out, line);
		append(&out, "\n");
	}
	free(text);
	return out;
}

/* hosts: the host's (host network) or the default, then --add-host's. */
static char *hosts_file(const struct bt_ct_etc *e)
{
	char *hosts = NULL;
	size_t len;

	if (!e->host_net || bt_read_file("/etc/hosts", 1 << 20, &hosts, &len, NULL) < 0)
		hosts = strdup(hosts_none);
	for (const char *const *h = e->add_hosts; h && *h && hosts; h++) {
		const char *colon = strchr(*h, ':');
		char *line = colon ? bt_strdup_printf("%s\t%.*s\n", colon + 1, (int)(colon - *h), *h) : NULL;

		if (line)
			append(&hosts, line);
		free(line);
	}
	return hosts;
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

int bt_ct_etc_write(const char *dir, const struct bt_ct_etc *e, berth_error **err)
{
	char *hosts = hosts_file(e), *resolv = resolv_conf(e), *name;
	char host[256] = "";

	if (e->host_net)
		gethostname(host, sizeof(host) - 1);
	name = bt_strdup_printf("%s\n", e->host_net ? host : e->hostname);
	int rc;

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
