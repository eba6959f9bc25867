// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "links.h"
#include "nodeaddr.h"

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

int xlb_nodeaddr_list(struct xlb_nodeaddr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct xlb_nodeaddr *v;
	size_t k = 0, cap = 0, j, w;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		cap += i->ifa_addr && usable(i->ifa_addr);
	v = calloc(cap + 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
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
	qsort(v, k, sizeof(*v), addr_cmp);
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
	size_t k = 0, cap = 0, j;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		cap += i->ifa_addr && usable(i->ifa_addr);
	v = calloc(cap + 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
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
	qsort(v, k, sizeof(*v), ifaddr_cmp);
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
