/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The node's own addresses, where NodePort frontends listen, and a
 * netlink socket that says when they change. */
#ifndef XLB_NODEADDR_H
#define XLB_NODEADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <xlb/abi.h>

#include "model.h"

struct xlb_nodeaddr {
	union xlb_addr addr;
	__u8 family;
};

/* --nodeport-addresses: which of the node's addresses serve NodePorts.
 * Unset: every one. */
struct xlb_nodeport_sel {
	struct xlb_cidr *cidrs;
	size_t n_cidrs;
	bool primary;		/* "primary": the default route's source */
	bool set;
};

/* Parses a comma-separated list of CIDRs and "primary". Returns 0, or
 * -EINVAL with the bad entry in bad (of badlen). */
int xlb_nodeport_sel_parse(const char *list, struct xlb_nodeport_sel *sel,
			   char *bad, size_t badlen);
/* Keeps in v (n of them) the addresses sel selects, in order. */
void xlb_nodeaddr_select(struct xlb_nodeaddr *v, size_t *n,
			 const struct xlb_nodeport_sel *sel);

/* Lists the IPv4 and IPv6 addresses of this network namespace, sorted,
 * without loopback and link-local ones. Returns 0 or -errno. */
int xlb_nodeaddr_list(struct xlb_nodeaddr **out, size_t *n);
/* The first usable IPv4 and IPv6 address of an interface. */
struct xlb_ifaddr {
	__u32 ifindex;
	struct xlb_snat_addrs addrs;	/* zero: none of that family */
};

/* Lists the interfaces with a usable address (as xlb_nodeaddr_list
 * takes them), each with its first address of each family, in ifindex
 * order. Returns 0 or -errno. */
int xlb_nodeaddr_ifaces(struct xlb_ifaddr **out, size_t *n);
/* A netlink socket subscribed to address changes (non-blocking). */
int xlb_nodeaddr_watch(void);
/* Reads every pending message; returns 1 if an address changed. */
int xlb_nodeaddr_drain(int fd);

#endif /* XLB_NODEADDR_H */
