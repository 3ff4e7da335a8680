/* The network module through its public API alone (issue 14), run by
 * network-api.sh inside a network namespace the test made: networks made,
 * refused, inspected; namespaces (made here by threads that unshare)
 * attached, talking across one bridge and not across two; eight attaches
 * at once never share an address; a lease of an ended namespace and one
 * of a crashed attach are reclaimed; removal refused while attached.
 * Usage: network-api ROOT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth/berth.h>

static berth_ctx *ctx;
static const char *root;
static int failures;

#define CHECK(cond, ...)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "FAIL: " __VA_ARGS__);              \
			fprintf(stderr, "\n");                              \
			__atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST); \
		}                                                           \
	} while (0)

/* A call expected to fail with code, its message holding `words`. */
static void expect(int rc, berth_error *err, int code, const char *words, const char *what)
{
	CHECK(rc == code, "%s: got %s (%s), want %s", what, berth_error_code_name(rc),
	      err ? berth_error_message(err) : "", berth_error_code_name(code));
	if (words && err)
		CHECK(strstr(berth_error_message(err), words), "%s: message \"%s\" lacks \"%s\"", what,
		      berth_error_message(err), words);
	berth_error_free(err);
}

static void ok(int rc, berth_error *err, const char *what)
{
	CHECK(rc == 0, "%s: %s", what, err ? berth_error_message(err) : "?");
	berth_error_free(err);
}

/* ---- namespaces of our own ------------------------------------------ */

static void *unshare_thread(void *arg)
{
	int *fd = arg;

	*fd = unshare(CLONE_NEWNET) == 0 ? open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) : -1;
	return NULL;
}

/* A new network namespace, alive while its fd is open. */
static int new_netns(void)
{
	pthread_t t;
	int fd = -1;

	pthread_create(&t, NULL, unshare_thread, &fd);
	pthread_join(t, NULL);
	return fd;
}

static char *ns_path(int fd)
{
	static __thread char buf[64];

	snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", getpid(), fd);
	return buf;
}

struct in_ns {
	int ns;
	int (*fn)(void *arg);
	void *arg;
	int rc;
};

static void *in_ns_thread(void *arg)
{
	struct in_ns *j = arg;

	j->rc = setns(j->ns, CLONE_NEWNET) == 0 ? j->fn(j->arg) : -errno;
	return NULL;
}

/* Runs fn in namespace ns on a thread of its own. */
static int run_in(int ns, int (*fn)(void *), void *arg)
{
	struct in_ns j = { ns, fn, arg, -1 };
	pthread_t t;

	pthread_create(&t, NULL, in_ns_thread, &j);
	pthread_join(t, NULL);
	return j.rc;
}

struct probe {
	const char *ip;
	int listener; /* made by listen_on in its namespace */
};

static int listen_on(void *arg)
{
	struct probe *p = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8080) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	inet_pton(AF_INET, p->ip, &a.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		return -errno;
	p->listener = s;
	return 0;
}

/* 0 when a TCP connect to ip:8080 succeeds within 1.5 s. */
static int connect_to(void *arg)
{
	struct probe *p = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8080) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), e = 0;
	socklen_t len = sizeof(e);
	struct pollfd pf = { .fd = s, .events = POLLOUT };

	inet_pton(AF_INET, p->ip, &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		e = errno;
	} else if (poll(&pf, 1, 1500) != 1) {
		e = ETIMEDOUT;
	} else {
		getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len);
	}
	close(s);
	return -e;
}

static int attach(const char *net, int ns, const char *container, const char *ip, berth_network_attachment *out,
		  berth_error **err)
{
	berth_network_attach_opts o = BERTH_NETWORK_ATTACH_OPTS_INIT;

	o.netns = ns_path(ns);
	o.container = container;
	o.ip = ip;
	return berth_network_attach(ctx, net, &o, out, err);
}

/* ---- the cases -------------------------------------------------------- */

static void test_create_refusals(void)
{
	berth_network_create_opts o = BERTH_NETWORK_CREATE_OPTS_INIT;
	const char *labels[] = { "team=net", "tier", NULL };
	berth_error *err = NULL;
	char *id = NULL;
	int rc;

	o.subnet = "10.99.0.0/24";
	o.labels = labels;
	rc = berth_network_create(ctx, "bt-a", &o, &id, &err);
	ok(rc, err, "create bt-a");
	err = NULL;
	CHECK(id && strlen(id) == 64, "create gives a 64-hex id");
	berth_string_free(id);
	CHECK(if_nametoindex("berth-") == 0, "no bridge named by an empty id");
	o.labels = NULL;
	rc = berth_network_create(ctx, "bt-a", &o, NULL, &err);
	expect(rc, err, BERTH_EEXISTS, "already exists", "a name twice");
	err = NULL;
	o.subnet = "10.99.0.128/25";
	rc = berth_network_create(ctx, "bt-overlap", &o, NULL, &err);
	expect(rc, err, BERTH_EEXISTS, "overlaps", "an overlapping subnet");
	err = NULL;
	o.subnet = "10.98.0.1/24";
	rc = berth_network_create(ctx, "bt-bits", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "10.98.0.0/24", "host bits set");
	err = NULL;
	o.subnet = "10.98.0.0/24";
	o.gateway = "10.97.0.1";
	rc = berth_network_create(ctx, "bt-gw", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "gateway", "a gateway outside");
	err = NULL;
	o.gateway = NULL;
	rc = berth_network_create(ctx, "host", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "reserved", "name host");
	err = NULL;
	rc = berth_network_create(ctx, "../x", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "invalid network name", "name ../x");
	err = NULL;
	o.bridge = "a-bridge-name-too-long";
	rc = berth_network_create(ctx, "bt-long", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "bridge name", "a long bridge name");
	err = NULL;
	CHECK(berth_network_inspect(ctx, "bt-long", &id, NULL) == BERTH_ENOTFOUND, "a refused create leaves nothing");
	/* subnets a bridge's route must not take: too wide, or special */
	o.bridge = NULL;
	o.subnet = "0.0.0.0/1";
	rc = berth_network_create(ctx, "bt-wide", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "too large", "a /1 subnet");
	err = NULL;
	o.subnet = "127.0.0.0/16";
	rc = berth_network_create(ctx, "bt-lo", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "reserved range", "a loopback subnet");
	err = NULL;
	o.subnet = "224.1.0.0/16";
	rc = berth_network_create(ctx, "bt-mc", &o, NULL, &err);
	expect(rc, err, BERTH_EINVAL, "reserved range", "a multicast subnet");
	err = NULL;
	/* an interface of the host's is never taken over (its rm would delete it) */
	CHECK(system("ip link add bt-host0 type veth peer name bt-host1") == 0, "a host interface made");
	o.subnet = "10.96.0.0/24";
	o.bridge = "bt-host0";
	rc = berth_network_create(ctx, "bt-taken", &o, NULL, &err);
	expect(rc, err, BERTH_EEXISTS, "an interface named bt-host0", "a host interface's name");
	err = NULL;
	CHECK(if_nametoindex("bt-host0") > 0, "the host's interface is left as it was");
	CHECK(berth_network_inspect(ctx, "bt-taken", &id, NULL) == BERTH_ENOTFOUND, "nor a record of it");
	CHECK(system("ip link del bt-host0") == 0, "the host interface removed");
	o.bridge = "bt-br-b";
	o.subnet = "10.98.0.0/24";
	rc = berth_network_create(ctx, "bt-b", &o, NULL, &err);
	ok(rc, err, "create bt-b");
	CHECK(if_nametoindex("bt-br-b") > 0, "bt-b's bridge made");
}

static void test_default(void)
{
	char **names = NULL, *json = NULL, tmp[4096], gone[4096];
	size_t n = 0;
	berth_error *err = NULL;
	int rc;

	/* what a killed create and a killed removal leave */
	snprintf(tmp, sizeof(tmp), "%s/networks/.tmp-%064d", root, 1);
	snprintf(gone, sizeof(gone), "%s/networks/.rm-%064d", root, 2);
	CHECK(mkdir(tmp, 0700) == 0 && mkdir(gone, 0700) == 0, "making leftovers");
	rc = berth_network_list(ctx, &names, &n, &err);
	CHECK(access(tmp, F_OK) != 0 && access(gone, F_OK) != 0, "a list sweeps killed creates' and removals' leftovers");

	ok(rc, err, "list");
	CHECK(n == 3 && !strcmp(names[0], "bridge") && !strcmp(names[1], "bt-a") && !strcmp(names[2], "bt-b"),
	      "list: bridge, bt-a, bt-b (got %zu)", n);
	berth_network_names_free(names, n);
	err = NULL;
	rc = berth_network_inspect(ctx, "bridge", &json, &err);
	ok(rc, err, "inspect bridge");
	/* a fresh namespace has no route: the pool's first subnet */
	CHECK(json && strstr(json, "\"Subnet\": \"172.17.0.0/16\"") && strstr(json, "\"berth0\""),
	      "the default network: 172.17.0.0/16 on berth0: %s", json ? json : "");
	berth_string_free(json);
	err = NULL;
	rc = berth_network_remove(ctx, "bridge", &err);
	expect(rc, err, BERTH_EPERM, "pre-defined", "rm bridge");
}

static void test_attach(int c1, int c2, int c3)
{
	berth_network_attachment a = BERTH_NETWORK_ATTACHMENT_INIT, b = BERTH_NETWORK_ATTACHMENT_INIT;
	berth_error *err = NULL;
	struct probe p = { .ip = "10.99.0.2", .listener = -1 };
	char *json = NULL;
	int rc;

	rc = attach("bt-a", c1, "ct-one", NULL, &a, &err);
	ok(rc, err, "attach one");
	err = NULL;
	CHECK(!strcmp(a.address, "10.99.0.2") && a.prefix_len == 24 && !strcmp(a.gateway, "10.99.0.1") &&
	      !strcmp(a.mac, "02:42:0a:63:00:02") && !strncmp(a.host_ifname, "berthv", 6),
	      "one: %s/%d gw %s mac %s host %s", a.address, a.prefix_len, a.gateway, a.mac, a.host_ifname);
	CHECK(if_nametoindex(a.host_ifname) > 0, "one's veth is on the host");
	rc = attach("bt-a", c2, "ct-two", "10.99.0.2", &b, &err);
	expect(rc, err, BERTH_EEXISTS, "in use", "an address taken");
	err = NULL;
	rc = attach("bt-a", c2, "ct-one", NULL, &b, &err);
	expect(rc, err, BERTH_EEXISTS, "already", "one twice");
	err = NULL;
	rc = attach("bt-a", c2, "ct-two", "10.99.0.9", &b, &err);
	ok(rc, err, "attach two at .9");
	err = NULL;
	CHECK(!strcmp(b.address, "10.99.0.9"), "two asked for .9, got %s", b.address);
	rc = attach("bt-b", c3, "ct-three", NULL, NULL, &err);
	ok(rc, err, "attach three to bt-b");
	err = NULL;

	CHECK(run_in(c1, listen_on, &p) == 0, "listening in one");
	CHECK(run_in(c2, connect_to, &p) == 0, "two reaches one across bt-a");
	CHECK(run_in(c3, connect_to, &p) != 0, "three, on bt-b, does not reach one");
	if (p.listener >= 0)
		close(p.listener);

	rc = berth_network_inspect(ctx, "bt-a", &json, &err);
	ok(rc, err, "inspect bt-a");
	err = NULL;
	CHECK(json && strstr(json, "\"ct-one\"") && strstr(json, "\"10.99.0.2/24\"") && strstr(json, "\"10.99.0.9/24\"") &&
	      strstr(json, "\"team\": \"net\"") && strstr(json, "\"tier\": \"\""),
	      "inspect bt-a: containers and labels: %s", json ? json : "");
	berth_string_free(json);
	rc = berth_network_remove(ctx, "bt-a", &err);
	expect(rc, err, BERTH_ESTATE, "ct-one", "rm while attached");
	err = NULL;
	rc = berth_network_detach(ctx, "bt-a", "ct-one", &err);
	ok(rc, err, "detach one");
	err = NULL;
	CHECK(if_nametoindex(a.host_ifname) == 0, "one's veth went with the detach");
	rc = berth_network_detach(ctx, "bt-a", "ct-one", &err);
	expect(rc, err, BERTH_ENOTFOUND, "not attached", "detach one twice");
}

struct racer {
	int ns;
	char name[32];
	berth_network_attachment a;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	berth_error *err = NULL;

	r->a = (berth_network_attachment)BERTH_NETWORK_ATTACHMENT_INIT;
	r->rc = attach("bt-a", r->ns, r->name, NULL, &r->a, &err);
	if (r->rc)
		fprintf(stderr, "racer %s: %s\n", r->name, berth_error_message(err));
	berth_error_free(err);
	return NULL;
}

static void test_concurrent(void)
{
	struct racer r[8];
	pthread_t t[8];

	for (int i = 0; i < 8; i++) {
		r[i].ns = new_netns();
		snprintf(r[i].name, sizeof(r[i].name), "racer-%d", i);
	}
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, race, &r[i]);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 8; i++) {
		CHECK(r[i].rc == 0, "racer %d attached", i);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(r[i].a.address, r[j].a.address), "racers %d and %d share %s", i, j, r[i].a.address);
	}
	for (int i = 0; i < 8; i++) {
		berth_error *err = NULL;

		ok(berth_network_detach(ctx, "bt-a", r[i].name, &err), err, "detach a racer");
		close(r[i].ns);
	}
}

/* A namespace that ended, and a lease left Pending by a crash. */
static void test_sweep(void)
{
	berth_network_attachment a = BERTH_NETWORK_ATTACHMENT_INIT;
	berth_error *err = NULL;
	char *json = NULL, path[4096];
	int ns = new_netns(), rc, tries;
	FILE *f;

	rc = attach("bt-a", ns, "ct-gone", NULL, &a, &err);
	ok(rc, err, "attach the doomed");
	err = NULL;
	close(ns); /* the namespace ends; the kernel takes its veth pair */
	for (tries = 0; tries < 100 && if_nametoindex(a.host_ifname); tries++)
		usleep(20000);
	rc = berth_network_inspect(ctx, "bt-a", &json, &err);
	ok(rc, err, "inspect after the end");
	err = NULL;
	CHECK(json && !strstr(json, "ct-gone"), "an ended namespace's lease swept: %s", json ? json : "");
	berth_string_free(json);

	/* what a killed attach leaves: its lease, Pending */
	json = NULL;
	berth_network_inspect(ctx, "bt-a", &json, NULL);
	{
		const char *id = json ? strstr(json, "\"Id\": \"") : NULL;

		snprintf(path, sizeof(path), "%s/networks/%.64s/leases/10.99.0.50", root, id ? id + 7 : "x");
	}
	berth_string_free(json);
	/* HostNs: ours, so the lease is judged here */
	{
		char nsl[64];
		ssize_t n = readlink("/proc/thread-self/ns/net", nsl, sizeof(nsl) - 1);
		unsigned long long ino = 0;

		if (n > 0) {
			nsl[n] = '\0';
			sscanf(nsl, "net:[%llu]", &ino);
		}
		f = fopen(path, "w");
		CHECK(f != NULL, "writing a crashed lease at %s", path);
		if (f) {
			fprintf(f, "{\"Container\": \"ct-crashed\", \"HostIf\": \"berthvdead00000\", \"Pending\": true,"
				   " \"HostNs\": %llu}", ino);
			fclose(f);
		}
	}
	ns = new_netns();
	rc = attach("bt-a", ns, "ct-after", "10.99.0.50", &a, &err);
	ok(rc, err, "the crashed attach's address reclaimed");
	err = NULL;
	CHECK(access(path, F_OK) == 0, "the new lease is in place");
	ok(berth_network_detach(ctx, "bt-a", "ct-after", &err), err, "detach after");
	close(ns);
}

static void test_remove(void)
{
	berth_error *err = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	ok(berth_network_detach(ctx, "bt-a", "ct-two", &err), err, "detach two");
	err = NULL;
	rc = berth_network_remove(ctx, "bt-a", &err);
	ok(rc, err, "rm bt-a");
	err = NULL;
	CHECK(berth_network_inspect(ctx, "bt-a", &(char *){ NULL }, NULL) == BERTH_ENOTFOUND, "bt-a is gone");
	/* bt-b's namespace (c3) still holds its endpoint */
	rc = berth_network_prune(ctx, &names, &n, &err);
	ok(rc, err, "prune");
	CHECK(n == 0, "prune leaves an attached network (removed %zu)", n);
	berth_network_names_free(names, n);
	ok(berth_network_detach(ctx, "bt-b", "ct-three", &err), err, "detach three");
	err = NULL;
	rc = berth_network_prune(ctx, &names, &n, &err);
	ok(rc, err, "prune");
	CHECK(n == 1 && !strcmp(names[0], "bt-b"), "prune removes bt-b");
	berth_network_names_free(names, n);
	CHECK(if_nametoindex("bt-br-b") == 0, "bt-b's bridge went with it");
}

int main(int argc, char **argv)
{
	berth_ctx_opts co = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	int c1, c2, c3;

	if (argc != 2) {
		fprintf(stderr, "usage: network-api ROOT\n");
		return 2;
	}
	root = argv[1];
	co.root = root;
	co.runroot = "/run/berth-test-network-api";
	if (berth_ctx_new(&ctx, &co, &err) < 0) {
		fprintf(stderr, "ctx: %s\n", berth_error_message(err));
		return 1;
	}
	c1 = new_netns();
	c2 = new_netns();
	c3 = new_netns();
	CHECK(c1 >= 0 && c2 >= 0 && c3 >= 0, "making namespaces");
	test_create_refusals();
	test_default();
	test_attach(c1, c2, c3);
	test_concurrent();
	test_sweep();
	test_remove();
	close(c1);
	close(c2);
	close(c3);
	berth_ctx_free(ctx);
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	else
		printf("ok: network API\n");
	return failures ? 1 : 0;
}
