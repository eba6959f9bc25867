// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <net/if.h>	/* before the linux/ headers: libc-compat.h */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "links.h"
#include "util.h"

/* ---- --iface selection ---------------------------------------------- */

void xlb_ifsel_free(struct xlb_ifsel *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->pat[i]);
	free(s->pat);
	free(s->neg);
	memset(s, 0, sizeof(*s));
}

static int ifsel_add(struct xlb_ifsel *s, const char *item, size_t len,
		     char *err, size_t errlen)
{
	bool neg = len && item[0] == '!';
	char **pat;
	bool *negs;

	if (neg) {
		item++;
		len--;
	}
	if (!len)
		return xlb_errf(err, errlen, -EINVAL,
				"iface: empty %s in the list",
				neg ? "exclusion (\"!\" alone)" : "name");
	if (len >= IF_NAMESIZE)
		return xlb_errf(err, errlen, -EINVAL,
				"iface \"%.*s\": longer than %d characters",
				(int)len, item, IF_NAMESIZE - 1);
	pat = realloc(s->pat, (s->n + 1) * sizeof(*pat));
	if (!pat)
		return -ENOMEM;
	s->pat = pat;
	negs = realloc(s->neg, (s->n + 1) * sizeof(*negs));
	if (!negs)
		return -ENOMEM;
	s->neg = negs;
	s->pat[s->n] = strndup(item, len);
	if (!s->pat[s->n])
		return -ENOMEM;
	s->neg[s->n++] = neg;
	return 0;
}

int xlb_ifsel_parse(struct xlb_ifsel *s, const char *list, char *err,
		    size_t errlen)
{
	const char *p = list, *comma;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (!list || !*list)
		return xlb_errf(err, errlen, -EINVAL, "iface: empty list");
	for (;;) {
		comma = strchr(p, ',');
		rc = ifsel_add(s, p, comma ? (size_t)(comma - p) : strlen(p),
			       err, errlen);
		if (rc || !comma)
			break;
		p = comma + 1;
	}
	if (!rc && s->n && s->neg[0] && s->n == 1)
		rc = xlb_errf(err, errlen, -EINVAL,
			      "iface \"!%s\": an exclusion alone selects nothing",
			      s->pat[0]);
	if (rc)
		xlb_ifsel_free(s);
	return rc;
}

bool xlb_ifsel_match(const struct xlb_ifsel *s, const char *name)
{
	bool sel = false;
	size_t i;

	if (!strcmp(name, "lo"))
		return false;
	for (i = 0; i < s->n; i++)
		if (fnmatch(s->pat[i], name, 0) == 0)
			sel = !s->neg[i];
	return sel;
}

bool xlb_ifsel_literal(const struct xlb_ifsel *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->neg[i] || strpbrk(s->pat[i], "*?["))
			return false;
	return true;
}

/* ---- the link table ------------------------------------------------- */

struct dump {
	struct xlb_link *v;
	size_t n, cap;
	int rc;
};

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct xlb_link *l = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct xlb_link *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
			snprintf(l->name, sizeof(l->name), "%s",
				 mnl_attr_get_str(a));
		break;
	case IFLA_LINK:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0 && l->link != -1)
			l->link = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINK_NETNSID:
		/* IFLA_LINK is an ifindex of another namespace (a veth's
		 * peer, a vlan on a device moved away): no lower here. */
		l->link = -1;
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			l->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(a, linkinfo_cb, l);
		break;
	}
	return MNL_CB_OK;
}

static int dump_cb(const struct nlmsghdr *h, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	struct dump *d = data;
	struct xlb_link *l;

	if (h->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct xlb_link *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->rc = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->v = v;
		d->cap = cap;
	}
	l = &d->v[d->n];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->type = ifi->ifi_type;
	l->flags = ifi->ifi_flags;
	if (mnl_attr_parse(h, sizeof(*ifi), link_attr_cb, l) < 0)
		return MNL_CB_OK;	/* malformed: not a link we can judge */
	d->n++;
	return MNL_CB_OK;
}

static int by_ifindex(const void *a, const void *b)
{
	const struct xlb_link *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int xlb_link_list(struct xlb_link **out, size_t *n)
{
	char buf[32768];	/* a dump message may be larger than a page */
	struct mnl_socket *nl;
	struct nlmsghdr *h;
	struct rtgenmsg *g;
	struct dump d = { 0 };
	unsigned int seq = (unsigned int)time(NULL), port;
	ssize_t len;
	int rc;

	*out = NULL;
	*n = 0;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	port = mnl_socket_get_portid(nl);
	h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = RTM_GETLINK;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	rc = MNL_CB_OK;
	while (rc > MNL_CB_STOP) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			rc = -errno;
			goto out;
		}
		rc = mnl_cb_run(buf, len, seq, port, dump_cb, &d);
	}
	if (rc < 0) {
		rc = d.rc ? d.rc : -errno;
		goto out;
	}
	xlb_qsort(d.v, d.n, sizeof(*d.v), by_ifindex);
	*out = d.v;
	*n = d.n;
	d.v = NULL;
	rc = 0;
out:
	free(d.v);
	mnl_socket_close(nl);
	return rc;
}

const struct xlb_link *xlb_link_find(const struct xlb_link *all, size_t n,
				     int ifindex)
{
	struct xlb_link key = { .ifindex = ifindex };

	return xlb_bsearch(&key, all, n, sizeof(*all), by_ifindex);
}

/* Why a kind of virtual device may hand XDP a partial checksum. */
static const char *virtual_why(const char *kind)
{
	if (!strcmp(kind, "veth"))
		return "veth: frames sent by local sockets (pods) arrive with partial checksums";
	if (!strcmp(kind, "tun"))
		return "tun/tap: frames written by a local program may carry partial checksums";
	if (!strcmp(kind, "bridge"))
		return "bridge: forwards frames of local senders with partial checksums";
	return "virtual device: frames of local senders may carry partial checksums";
}

static bool complete_csum(const struct xlb_link *all, size_t n,
			  const struct xlb_link *l, int depth, const char **why)
{
	const struct xlb_link *lower;
	size_t i, ports = 0;

	if (depth > 8) {
		*why = "devices stacked more than 8 deep";
		return false;
	}
	if ((l->flags & IFF_LOOPBACK) || l->type == ARPHRD_LOOPBACK) {
		*why = "loopback";
		return false;
	}
	if (!l->kind[0]) {
		if (l->type == ARPHRD_ETHER)
			return true;
		*why = "not an Ethernet device";
		return false;
	}
	if (!strcmp(l->kind, "vlan")) {
		lower = l->link > 0 ? xlb_link_find(all, n, l->link) : NULL;
		if (!lower) {
			*why = "VLAN whose lower device is not in this namespace";
			return false;
		}
		if (complete_csum(all, n, lower, depth + 1, why))
			return true;
		*why = "VLAN on a device that may hand over partial checksums";
		return false;
	}
	if (!strcmp(l->kind, "bond") || !strcmp(l->kind, "team")) {
		for (i = 0; i < n; i++) {
			if (all[i].master != l->ifindex)
				continue;
			ports++;
			if (!complete_csum(all, n, &all[i], depth + 1, why)) {
				*why = "bond with a port that may hand over partial checksums";
				return false;
			}
		}
		if (ports)
			return true;
		*why = "bond without ports";
		return false;
	}
	*why = virtual_why(l->kind);
	return false;
}

bool xlb_link_complete_csum(const struct xlb_link *all, size_t n,
			    const struct xlb_link *l, const char **why)
{
	const char *dummy;

	*(why ? why : &dummy) = "";
	return complete_csum(all, n, l, 0, why ? why : &dummy);
}

/* ---- following changes ---------------------------------------------- */

int xlb_link_watch(void)
{
	struct mnl_socket *nl;
	int fd, rc;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		mnl_socket_close(nl);
		return rc;
	}
	/* The fd outlives the library's handle: close() is all it needs. */
	fd = dup(mnl_socket_get_fd(nl));
	rc = fd < 0 ? -errno : fd;
	mnl_socket_close(nl);
	return rc;
}

int xlb_rtnl_drain(int fd, __u16 type_a, __u16 type_b)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	int changed = 0;
	ssize_t len;

	while ((len = recv(fd, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h;

		for (h = (void *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == type_a || h->nlmsg_type == type_b)
				changed = 1;
	}
	/* Overrun: messages were lost; the caller re-reads the table. */
	if (len < 0 && errno == ENOBUFS)
		return 1;
	if (len < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return changed;
}

int xlb_link_drain(int fd)
{
	return xlb_rtnl_drain(fd, RTM_NEWLINK, RTM_DELLINK);
}
