// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "links.h"
#include "nodeaddr.h"
#include "util.h"

static int addr_cmp(const void *a, const void *b)
{
	const struct xlb_nodeaddr *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, 16);
}

static int usable(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		__u32 a = ntohl(s4->sin_addr.s_addr);

		return (a >> 24) != 127 && (a >> 16) != 0xa9fe;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		return !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) &&
		       !IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) &&
		       !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
	}
	return 0;
}

/* The interfaces' addresses (*ifa, for freeifaddrs) and a zeroed array
 * of one element of size per usable address, and one more; NULL with
 * -errno in *rc. */
static void *usable_list(struct ifaddrs **ifa, size_t size, int *rc)
{
	struct ifaddrs *i;
	size_t cap = 0;
	void *v;

	if (getifaddrs(ifa)) {
		*rc = -errno;
		return NULL;
	}
	for (i = *ifa; i; i = i->ifa_next)
		cap += i->ifa_addr && usable(i->ifa_addr);
	v = calloc(cap + 1, size);
	if (!v) {
		freeifaddrs(*ifa);
		*rc = -ENOMEM;
	}
	return v;
}

int xlb_nodeaddr_list(struct xlb_nodeaddr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct xlb_nodeaddr *v;
	size_t k = 0, j, w;
	int rc;

	*out = NULL;
	*n = 0;
	v = usable_list(&ifa, sizeof(*v), &rc);
	if (!v)
		return rc;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || !usable(i->ifa_addr))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			v[k].family = XLB_AF_INET;
			v[k].addr.v4 =
				((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		} else {
			v[k].family = XLB_AF_INET6;
			memcpy(v[k].addr.bytes,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
		}
		k++;
	}
	freeifaddrs(ifa);
	xlb_qsort(v, k, sizeof(*v), addr_cmp);
	for (j = 0, w = 0; j < k; j++)
		if (!w || addr_cmp(&v[w - 1], &v[j]))
			v[w++] = v[j];
	*out = v;
	*n = w;
	return 0;
}

static int ifaddr_cmp(const void *a, const void *b)
{
	const struct xlb_ifaddr *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

int xlb_nodeaddr_ifaces(struct xlb_ifaddr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct xlb_ifaddr *v;
	size_t k = 0, j;
	int rc;

	*out = NULL;
	*n = 0;
	v = usable_list(&ifa, sizeof(*v), &rc);
	if (!v)
		return rc;
	for (i = ifa; i; i = i->ifa_next) {
		unsigned int idx;
		union xlb_addr *slot;

		if (!i->ifa_addr || !usable(i->ifa_addr))
			continue;
		idx = if_nametoindex(i->ifa_name);
		if (!idx)
			continue;
		for (j = 0; j < k && v[j].ifindex != idx; j++)
			;
		if (j == k)
			v[k++].ifindex = idx;
		if (i->ifa_addr->sa_family == AF_INET) {
			slot = &v[j].addrs.v4;
			if (!slot->v4)
				slot->v4 = ((struct sockaddr_in *)i->ifa_addr)
						   ->sin_addr.s_addr;
		} else {
			slot = &v[j].addrs.v6;
			if (!slot->v6[0] && !slot->v6[1] && !slot->v6[2] &&
			    !slot->v6[3])
				memcpy(slot->bytes,
				       &((struct sockaddr_in6 *)i->ifa_addr)
						->sin6_addr,
				       16);
		}
	}
	freeifaddrs(ifa);
	xlb_qsort(v, k, sizeof(*v), ifaddr_cmp);
	*out = v;
	*n = k;
	return 0;
}

int xlb_nodeaddr_watch(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

int xlb_nodeaddr_drain(int fd)
{
	/* An error reads as a change: the caller then lists again. */
	return xlb_rtnl_drain(fd, RTM_NEWADDR, RTM_DELADDR) != 0;
}

int xlb_nodeport_sel_parse(const char *list, struct xlb_nodeport_sel *sel,
			   char *bad, size_t badlen)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t cap = 1;
	const char *c;
	int rc = 0;

	memset(sel, 0, sizeof(*sel));
	for (c = list; *c; c++)
		cap += *c == ',';
	sel->cidrs = calloc(cap, sizeof(*sel->cidrs));
	if (!copy || !sel->cidrs) {
		free(copy);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "primary"))
			sel->primary = true;
		else if (!xlb_cidr_parse(tok, &sel->cidrs[sel->n_cidrs]))
			sel->n_cidrs++;
		else {
			snprintf(bad, badlen, "%s", tok);
			rc = -EINVAL;
			break;
		}
	}
	if (!rc && !sel->primary && !sel->n_cidrs) {
		snprintf(bad, badlen, "%s", list);
		rc = -EINVAL;
	}
	free(copy);
	sel->set = !rc;
	return rc;
}

/* The source address the node's routes give a packet to an outside
 * address of family af (a documentation address: nothing is sent), or 0
 * without a default route. */
static int primary_of(int af, struct xlb_nodeaddr *out)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	int fd, ok;

	if (af == AF_INET) {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(9);
		s4->sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(9);
		s6->sin6_addr.s6_addr[0] = 0x20; /* 2001:db8::1 */
		s6->sin6_addr.s6_addr[1] = 0x01;
		s6->sin6_addr.s6_addr[2] = 0x0d;
		s6->sin6_addr.s6_addr[3] = 0xb8;
		s6->sin6_addr.s6_addr[15] = 1;
		len = sizeof(*s6);
	}
	fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = !connect(fd, (struct sockaddr *)&ss, len);
	len = sizeof(ss);
	ok = ok && !getsockname(fd, (struct sockaddr *)&ss, &len);
	close(fd);
	if (!ok)
		return 0;
	memset(out, 0, sizeof(*out));
	if (af == AF_INET) {
		out->family = XLB_AF_INET;
		out->addr.v4 = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
	} else {
		out->family = XLB_AF_INET6;
		memcpy(out->addr.bytes, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		       16);
	}
	return 1;
}

void xlb_nodeaddr_select(struct xlb_nodeaddr *v, size_t *n,
			 const struct xlb_nodeport_sel *sel)
{
	struct xlb_nodeaddr prim[2];
	int n_prim = 0;
	size_t i, j, w = 0;

	if (!sel->set)
		return;
	if (sel->primary) {
		n_prim += primary_of(AF_INET, &prim[n_prim]);
		n_prim += primary_of(AF_INET6, &prim[n_prim]);
	}
	for (i = 0; i < *n; i++) {
		int keep = 0;

		for (j = 0; j < (size_t)n_prim && !keep; j++)
			keep = !addr_cmp(&prim[j], &v[i]);
		for (j = 0; j < sel->n_cidrs && !keep; j++)
			keep = xlb_cidr_contains(&sel->cidrs[j], &v[i].addr,
						 v[i].family);
		if (keep)
			v[w++] = v[i];
	}
	*n = w;
}
