/* Links, addresses and routes through rtnetlink (libmnl). Each request is
 * sent on its own socket and waits for the kernel's answer: a few calls
 * per attach, so no socket is kept between calls (and none leaks into a
 * host's fork). */
#include "network-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

struct nl {
	struct mnl_socket *sock;
	unsigned portid, seq;
	char buf[8192];
};

static int nl_open(struct nl *nl, berth_error **err)
{
	/* a kernel that never answers cannot hold us: 5 s per receive */
	struct timeval tv = { .tv_sec = 5 };

	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return bt_error_os(err, "opening a netlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl->sock);
		return bt_error_os(err, "binding a netlink socket");
	}
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Sends nlh and reads the answers until the ack (or the dump's end),
 * giving each message to cb. Returns 0 or -errno of the kernel. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned seq = nlh->nlmsg_seq;
	int ret;

	/* NLM_F_EXCL shares a bit with NLM_F_DUMP: a request of ours is a
	 * dump only with both of its bits */
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

/* ---- routes ----------------------------------------------------------- */

struct routes {
	struct bt_cidr *v;
	size_t n, cap;
	bool oom;
};

static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) <= RTA_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct routes *r = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct bt_cidr *v;

	if (rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb);
	if (!tb[RTA_DST] || rtm->rtm_dst_len == 0) /* a default route overlaps nothing */
		return MNL_CB_OK;
	if (!(v = bt_grow(r->v, r->n, &r->cap, sizeof(*v), 8))) {
		r->oom = true;
		return MNL_CB_ERROR;
	}
	r->v = v;
	v[r->n].addr = ntohl(mnl_attr_get_u32(tb[RTA_DST])) & bt_cidr_mask(rtm->rtm_dst_len);
	v[r->n++].len = rtm->rtm_dst_len;
	return MNL_CB_OK;
}

int bt_nl_routes(struct bt_cidr **out, size_t *n, berth_error **err)
{
	struct nl nl;
	struct routes r = { 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int rc;

	if ((rc = nl_open(&nl, err)) < 0)
		return rc;
	nlh = nl_msg(&nl, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rc = nl_talk(&nl, nlh, route_cb, &r);
	nl_close(&nl);
	if (r.oom || rc < 0) {
		free(r.v);
		return r.oom ? bt_error_set(err, BERTH_ENOMEM, 0, "out of memory")
			     : bt_error_set(err, BERTH_EOS, -rc, "listing the host's routes: %s", strerror(-rc));
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

/* ---- links ------------------------------------------------------------ */

bool bt_nl_link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static int link_set_up(struct nl *nl, unsigned index)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	return nl_talk(nl, nlh, NULL, NULL);
}

static int addr_add(struct nl *nl, unsigned index, uint32_t ip, int len)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint32_t brd = htonl(ip | ~bt_cidr_mask(len));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)len;
	ifa->ifa_index = index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(ip));
	mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(ip));
	if (len < 31)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, brd);
	return nl_talk(nl, nlh, NULL, NULL);
}

static int route_default(struct nl *nl, unsigned index, uint32_t gw)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	return nl_talk(nl, nlh, NULL, NULL);
}

static int link_delete(struct nl *nl, const char *name)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_talk(nl, nlh, NULL, NULL);
}

int bt_nl_link_delete(const char *name, berth_error **err)
{
	struct nl nl;
	int rc;

	if ((rc = nl_open(&nl, err)) < 0)
		return rc;
	rc = link_delete(&nl, name);
	nl_close(&nl);
	if (rc < 0 && rc != -ENODEV)
		return bt_error_set(err, BERTH_EOS, -rc, "deleting link %s: %s", name, strerror(-rc));
	return 0;
}

int bt_nl_bridge_ensure(const char *name, uint32_t gw, int len, bool *made, berth_error **err)
{
	struct nl nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info;
	unsigned index;
	int rc;

	*made = false;
	if ((rc = nl_open(&nl, err)) < 0)
		return rc;
	nlh = nl_msg(&nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	rc = nl_talk(&nl, nlh, NULL, NULL);
	if (rc < 0 && rc != -EEXIST) {
		rc = bt_error_set(err, BERTH_EOS, -rc, "making bridge %s: %s", name, strerror(-rc));
		goto out;
	}
	*made = rc == 0;
	if (!(index = if_nametoindex(name))) {
		rc = bt_error_os(err, "finding bridge %s", name);
		goto out;
	}
	if (gw && (rc = addr_add(&nl, index, gw, len)) < 0 && rc != -EEXIST) {
		rc = bt_error_set(err, BERTH_EOS, -rc, "giving bridge %s its address: %s", name, strerror(-rc));
		goto out;
	}
	if ((rc = link_set_up(&nl, index)) < 0)
		rc = bt_error_set(err, BERTH_EOS, -rc, "bringing bridge %s up: %s", name, strerror(-rc));
out:
	nl_close(&nl);
	if (rc < 0 && *made) {
		bt_nl_link_delete(name, NULL);
		*made = false;
	}
	return rc < 0 ? rc : 0;
}

/* The veth pair, its peer made straight in the target namespace. */
static int veth_create(struct nl *nl, const struct bt_nl_endpoint *ep, unsigned master)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi)), *peer;
	struct nlattr *info, *data, *pa;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ep->host_if);
	mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pa = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	peer = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer));
	peer->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ep->ifname);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)ep->netns_fd);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, ep->mac);
	mnl_attr_nest_end(nlh, pa);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh, NULL, NULL);
}

/* A netlink socket in namespace fd: this thread enters it for the
 * socket() only (a network namespace is per thread) and comes back. */
static int nl_open_in(struct nl *nl, int netns_fd, berth_error **err)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), rc;

	if (self < 0)
		return bt_error_os(err, "opening this thread's network namespace");
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		rc = bt_error_os(err, "entering the container's network namespace");
		close(self);
		return rc;
	}
	rc = nl_open(nl, err);
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* a thread left in a container's namespace would act there */
	close(self);
	return rc;
}

/* Inside: address on ifname, ifname and lo up, default route. */
static int endpoint_inside(const struct bt_nl_endpoint *ep, berth_error **err)
{
	struct nl nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	unsigned index = 0, lo = 1; /* lo is always 1 in a namespace */
	int rc;

	if ((rc = nl_open_in(&nl, ep->netns_fd, err)) < 0)
		return rc;
	/* the index through netlink: if_nametoindex would ask this namespace */
	nlh = nl_msg(&nl, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ep->ifname);
	if (mnl_socket_sendto(nl.sock, nlh, nlh->nlmsg_len) < 0) {
		rc = bt_error_os(err, "asking for link %s", ep->ifname);
		goto out;
	}
	{
		ssize_t n = mnl_socket_recvfrom(nl.sock, nl.buf, sizeof(nl.buf));
		const struct nlmsghdr *ans = (const struct nlmsghdr *)nl.buf;

		if (n < (ssize_t)sizeof(*ans) || ans->nlmsg_type != RTM_NEWLINK) {
			rc = bt_error_set(err, BERTH_EOS, 0, "link %s did not appear in the namespace", ep->ifname);
			goto out;
		}
		index = (unsigned)((const struct ifinfomsg *)mnl_nlmsg_get_payload(ans))->ifi_index;
	}
	if ((rc = link_set_up(&nl, lo)) < 0 || (rc = addr_add(&nl, index, ep->ip, ep->len)) < 0 ||
	    (rc = link_set_up(&nl, index)) < 0 || (ep->gw && (rc = route_default(&nl, index, ep->gw)) < 0)) {
		rc = bt_error_set(err, BERTH_EOS, -rc, "configuring %s in the namespace: %s", ep->ifname,
				  strerror(-rc));
		goto out;
	}
	rc = 0;
out:
	nl_close(&nl);
	return rc;
}

int bt_nl_endpoint_create(const struct bt_nl_endpoint *ep, berth_error **err)
{
	struct nl nl;
	unsigned master = if_nametoindex(ep->bridge);
	int rc;

	if (!master)
		return bt_error_os(err, "finding bridge %s", ep->bridge);
	if ((rc = nl_open(&nl, err)) < 0)
		return rc;
	rc = veth_create(&nl, ep, master);
	nl_close(&nl);
	if (rc < 0)
		return bt_error_set(err, rc == -EEXIST ? BERTH_EEXISTS : BERTH_EOS, -rc,
				    "making veth %s (%s inside): %s", ep->host_if, ep->ifname, strerror(-rc));
	if ((rc = endpoint_inside(ep, err)) < 0)
		bt_nl_link_delete(ep->host_if, NULL); /* its peer goes with it */
	return rc;
}
