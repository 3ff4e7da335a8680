/* Names on user networks: aardvark-dns (podman's, packaged by Debian),
 * one process per store serving every user network on its gateway's port
 * 53. Its configuration is a directory of one file per network (the
 * gateway on the first line, then "id ipv4 ipv6 name,alias,..." per
 * endpoint); it answers a name only to the endpoints of the networks that
 * hold it (it knows the asker by its source address), and forwards other
 * names to the host's resolvers. SIGHUP makes it read the files again.
 *
 * The files are written from the leases on every change (lock held), so
 * what a crash left is rewritten by the next call; the process is started
 * when the first file appears, told of each change, and ended with the
 * last file. One killed is started again by the next call. The default
 * network has no names, as Docker's. */
#include "network-internal.h"

#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define AARDVARK_DEFAULT "/usr/lib/podman/aardvark-dns"
#define PID_FILE "aardvark.pid"

static const char *aardvark_path(void)
{
	const char *p = getenv("BERTH_AARDVARK_DNS");

	return p && *p ? p : AARDVARK_DEFAULT;
}

char *bt_dns_dir(const berth_ctx *ctx)
{
	return bt_strdup_printf("%s/networks/.dns", ctx->root);
}

static bool name_ok(const char *n)
{
	size_t len = n ? strlen(n) : 0;

	return len && len <= 253 && n[0] != '.' && n[0] != '-' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

int bt_dns_check_name(const char *n, const char *what, berth_error **err)
{
	return name_ok(n) ? 0
			  : bt_error_set(err, BERTH_EINVAL, 0,
					 "invalid %s \"%.80s\": want 1-253 of [a-zA-Z0-9_.-], not starting with . or -",
					 what, n ? n : "");
}

/* The names of an endpoint: its name, its aliases and its short id. Only
 * names a resolver can ask for go in (the file is split on spaces and
 * commas). */
static void add_name(struct bt_strv *names, const char *n)
{
	if (!name_ok(n))
		return;
	for (size_t i = 0; i < names->n; i++)
		if (!strcmp(names->v[i], n))
			return;
	bt_strv_add(names, strdup(n));
}

static char *endpoint_line(const char *ip, const json_t *lease)
{
	const char *id = json_string_value(json_object_get(lease, "Container"));
	struct bt_strv names = { 0 };
	char short_id[13], *line = NULL, *joined;
	size_t k;
	json_t *a;

	if (!id)
		return NULL;
	add_name(&names, json_string_value(json_object_get(lease, "Name")));
	json_array_foreach(json_object_get(lease, "Aliases"), k, a)
		add_name(&names, json_string_value(a));
	snprintf(short_id, sizeof(short_id), "%.12s", id);
	add_name(&names, short_id);
	joined = strdup("");
	for (size_t i = 0; i < names.n && joined; i++) {
		char *more = bt_strdup_printf("%s%s%s", joined, i ? "," : "", names.v[i]);

		free(joined);
		joined = more;
	}
	if (joined && *joined)
		line = bt_strdup_printf("%s %s  %s\n", id, ip, joined);
	free(joined);
	bt_strv_free(names.v, names.n);
	return line;
}

/* The file of one network, or NULL when it needs none (no endpoint). */
static char *network_file(const struct bt_net *net)
{
	json_t *leases, *lease;
	const char *ip;
	char gw[16], *text;

	if (!strcmp(net->name, BERTH_NETWORK_DEFAULT) || bt_lease_list(net, &leases, NULL) < 0)
		return NULL;
	bt_ip_format(net->gateway, gw);
	text = bt_strdup_printf("%s\n", gw);
	json_object_foreach(leases, ip, lease) {
		char *line, *more;

		if (!text || json_is_true(json_object_get(lease, "Pending")) || !(line = endpoint_line(ip, lease)))
			continue;
		more = bt_strdup_printf("%s%s", text, line);
		free(line);
		free(text);
		text = more;
	}
	if (text && !strchr(text, ' ')) { /* the gateway alone: no endpoint */
		free(text);
		text = NULL;
	}
	json_decref(leases);
	return text;
}

/* Writes path when its content differs; *changed tells. */
static int write_if_changed(const char *path, const char *text, bool *changed, berth_error **err)
{
	char *old = NULL;
	int rc = 0;

	if (bt_read_file(path, 1 << 20, &old, NULL, NULL) == 0 && !strcmp(old, text)) {
		free(old);
		return 0;
	}
	free(old);
	*changed = true;
	if ((rc = bt_write_file_volatile(path, text, strlen(text), 0644, err)) < 0)
		bt_error_wrap(err, rc, "writing %s", path);
	return rc;
}

/* Removes the files of networks that need none any more (and what a
 * killed write left). */
static void remove_stale(const char *dir, const struct bt_strv *keep, bool *changed)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		bool kept = !strcmp(de->d_name, PID_FILE) || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");

		for (size_t i = 0; i < keep->n && !kept; i++)
			kept = !strcmp(keep->v[i], de->d_name);
		if (!kept && unlinkat(dirfd(d), de->d_name, 0) == 0 && de->d_name[0] != '.')
			*changed = true;
	}
	closedir(d);
}

/* The aardvark-dns of this store when it runs: the pid in its pid file,
 * checked to be aardvark with this configuration (a pid reused by another
 * process is never signalled). 0 when none. */
static pid_t running_pid(const char *dir)
{
	char *path = bt_strdup_printf("%s/%s", dir, PID_FILE), *text = NULL, proc[64], *cmd = NULL;
	size_t len = 0;
	long pid = 0;
	bool ours = false;

	if (path && bt_read_file(path, 64, &text, NULL, NULL) == 0)
		pid = strtol(text, NULL, 10);
	free(text);
	free(path);
	if (pid <= 0 || pid > 1 << 22)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld/cmdline", pid);
	if (bt_read_file(proc, 8192, &cmd, &len, NULL) == 0) {
		/* argv: path --config DIR -p 53 run, NUL-separated */
		for (size_t i = 0; i + 9 < len && !ours; i += strlen(cmd + i) + 1)
			ours = !strcmp(cmd + i, "--config") && !strcmp(cmd + i + 9, dir);
	}
	free(cmd);
	return ours ? (pid_t)pid : 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether pid has a handler for SIGHUP yet (before, a SIGHUP ends it). */
static bool catches_hup(pid_t pid)
{
	char path[64], *status = NULL, *line;
	bool yes = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (bt_read_file(path, 1 << 16, &status, NULL, NULL) == 0 && (line = strstr(status, "\nSigCgt:")))
		yes = (strtoull(line + 8, NULL, 16) & (1ull << (SIGHUP - 1))) != 0;
	free(status);
	return yes;
}

/* Starts aardvark-dns: it forks its server and the first process exits
 * (waited for, 5 s at most); then the server's handler of SIGHUP is
 * waited for, so the next change's signal reloads rather than ends it. */
static int start_server(berth_ctx *ctx, const char *dir, berth_error **err)
{
	const char *exe = aardvark_path();
	char *argv[] = { (char *)exe, "--config", (char *)dir, "-p", "53", "run", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	long long deadline;
	int status = 0, rc;
	pid_t pid, got = 0, server = 0;

	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++)
		posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
	/* nothing of the caller's (a lock, a container's pipes) lives on in it */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, exe, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc)
		return bt_error_set(err, BERTH_EOS, rc, "starting %s: %s", exe, strerror(rc));
	for (deadline = now_ms() + 5000; (got = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline;)
		usleep(2000);
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return bt_error_set(err, BERTH_ETIMEOUT, 0, "%s did not start within 5 s", exe);
	}
	if (got < 0 && errno != ECHILD) /* ECHILD: a host that reaps every child took it */
		return bt_error_os(err, "waiting for %s", exe);
	if (got > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return bt_error_set(err, BERTH_EOS, 0, "%s failed (status %d): is port 53 of a gateway taken?", exe,
				    status);
	for (deadline = now_ms() + 5000; now_ms() < deadline; usleep(2000))
		if ((server = running_pid(dir)) && catches_hup(server))
			break;
	if (!server)
		return bt_error_set(err, BERTH_EOS, 0, "%s wrote no pid file", exe);
	bt_log_info(ctx, BT_NET_MODULE, "started %s (pid %d) for the user networks' names", exe, (int)server);
	return 0;
}

/* The inode of the UDP socket on port 53 of each gateway in this thread's
 * namespace (0: none), read from /proc, never bound: a bind of ours could
 * take the port from under the server. false when /proc cannot tell. */
static bool udp53_inodes(const uint32_t *gws, size_t n, unsigned long *inodes)
{
	char *udp = NULL, *save = NULL;

	if (bt_read_file("/proc/thread-self/net/udp", 16 << 20, &udp, NULL, NULL) < 0)
		return false;
	memset(inodes, 0, n * sizeof(*inodes));
	for (char *line = strtok_r(udp, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned addr, port;
		unsigned long ino;

		/* sl local rem st tx:rx tr:tm retr uid timeout inode; the address
		 * printed as the u32 the kernel holds, in network order */
		if (sscanf(line, " %*u: %8X:%4X %*s %*s %*s %*s %*s %*s %*s %lu", &addr, &port, &ino) != 3 || port != 53)
			continue;
		for (size_t i = 0; i < n; i++)
			if (htonl(gws[i]) == addr)
				inodes[i] = ino;
	}
	free(udp);
	return true;
}

/* Waits (5 s at most) until the server listens on every gateway with a
 * socket other than `before` had: aardvark-dns 1.4 closes and binds again
 * on SIGHUP, and a query meanwhile is refused. A socket unchanged after
 * 200 ms is taken as kept (a server that reloads without rebinding). */
static void wait_listening(berth_ctx *ctx, const uint32_t *gws, size_t n, const unsigned long *before)
{
	unsigned long *now = calloc(n, sizeof(*now));
	long long start = now_ms();

	while (now && udp53_inodes(gws, n, now)) {
		bool ready = true;

		for (size_t i = 0; i < n && ready; i++)
			ready = now[i] && (!before || now[i] != before[i] || now_ms() - start > 200);
		if (ready)
			break;
		if (now_ms() - start > 5000) {
			bt_log_warn(ctx, BT_NET_MODULE, "aardvark-dns is not listening on every gateway after 5 s");
			break;
		}
		usleep(2000);
	}
	free(now);
}

/* Ends the server by its pid (checked), and waits a little for its end so
 * a start right after finds port 53 free. */
static void stop_server(const char *dir)
{
	pid_t pid = running_pid(dir);
	char *path = bt_strdup_printf("%s/%s", dir, PID_FILE);

	if (pid > 0 && kill(pid, SIGTERM) == 0)
		for (long long deadline = now_ms() + 2000; kill(pid, 0) == 0 && now_ms() < deadline;)
			usleep(2000);
	if (pid > 0 && kill(pid, 0) == 0)
		kill(pid, SIGKILL);
	if (path)
		unlink(path);
	free(path);
}

int bt_dns_sync(berth_ctx *ctx, berth_error **err)
{
	struct bt_net **v = NULL;
	struct bt_strv keep = { 0 };
	uint32_t *gws = NULL;
	unsigned long *before = NULL;
	size_t n = 0;
	char *dir = bt_dns_dir(ctx);
	bool changed = false;
	pid_t pid;
	int rc;

	if (!dir)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_net_load_all(ctx, &v, &n, err)) < 0 || (rc = bt_mkdir_p(dir, 0700, err)) < 0)
		goto out;
	if (n && (!(gws = calloc(n, sizeof(*gws))) || !(before = calloc(n, sizeof(*before))))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *text = bt_nl_link_exists(v[i]->bridge) ? network_file(v[i]) : NULL, *path;

		if (!text)
			continue;
		gws[keep.n] = v[i]->gateway;
		if (!(path = bt_strdup_printf("%s/%s", dir, v[i]->id)) || bt_strv_add(&keep, strdup(v[i]->id)) < 0)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		else
			rc = write_if_changed(path, text, &changed, err);
		free(path);
		free(text);
	}
	if (rc < 0)
		goto out;
	remove_stale(dir, &keep, &changed);
	pid = running_pid(dir);
	if (!keep.n)
		stop_server(dir);
	else if (!pid)
		rc = start_server(ctx, dir, err);
	else if (changed) {
		udp53_inodes(gws, keep.n, before); /* to see the reload rebind */
		if (kill(pid, SIGHUP) < 0)
			rc = bt_error_os(err, "telling aardvark-dns (pid %d) of a change", (int)pid);
	}
	if (rc == 0 && keep.n && (changed || !pid))
		wait_listening(ctx, gws, keep.n, pid ? before : NULL);
out:
	free(gws);
	free(before);
	bt_strv_free(keep.v, keep.n);
	bt_net_free_all(v, n);
	free(dir);
	return rc;
}

void bt_dns_sync_logged(berth_ctx *ctx)
{
	berth_error *e = NULL;

	if (bt_dns_sync(ctx, &e) < 0)
		bt_log_warn(ctx, BT_NET_MODULE, "names on user networks: %s", berth_error_message(e));
	berth_error_free(e);
}
