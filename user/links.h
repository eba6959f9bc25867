/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The node's network devices, as xlbd chooses and follows them: which
 * names `--iface` selects (names and shell patterns, `!pattern` to
 * exclude, never `lo`), what kind of device each is and so which program
 * it may take, and a netlink socket that says when links come, change
 * name or go.
 *
 * Native XDP sees a frame before the kernel knows how its checksum was
 * made. On a physical NIC a received frame always carries a complete
 * checksum (off the wire); on a veth, tun/tap, bridge or other virtual
 * device it may come from a local socket as CHECKSUM_PARTIAL, where the
 * L4 checksum field holds only the pseudo-header sum. An incremental
 * update folded into that field by XDP corrupts the packet. Only the tc
 * program, which sees the skb's ip_summed, rewrites both correctly.
 */
#ifndef XLB_LINKS_H
#define XLB_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

/* An --iface selection: patterns tried in order, the last match wins
 * ("veth*,!veth-skip" takes every veth but veth-skip). */
struct xlb_ifsel {
	char **pat;
	bool *neg;
	size_t n;
};

/* Parses a comma-separated list; an empty item, a lone "!" or a name
 * longer than IFNAMSIZ - 1 is an error naming the item. 0 or -EINVAL. */
int xlb_ifsel_parse(struct xlb_ifsel *s, const char *list, char *err,
		    size_t errlen);
/* Whether name is selected; "lo" never is. */
bool xlb_ifsel_match(const struct xlb_ifsel *s, const char *name);
/* Whether the selection names only literal interfaces (no pattern, no
 * exclusion): then a name that does not exist at start is an error. */
bool xlb_ifsel_literal(const struct xlb_ifsel *s);
void xlb_ifsel_free(struct xlb_ifsel *s);

struct xlb_link {
	int ifindex;
	char name[IF_NAMESIZE];
	char kind[16];		/* rtnetlink IFLA_INFO_KIND; "" for a NIC */
	unsigned short type;	/* ARPHRD_* */
	unsigned int flags;	/* IFF_* */
	int link;		/* IFLA_LINK: the lower device (vlan), or 0 */
	int master;		/* IFLA_MASTER: bond, bridge, ... or 0 */
};

/* Dumps the links of this network namespace (RTM_GETLINK), sorted by
 * ifindex. 0 or -errno. */
int xlb_link_list(struct xlb_link **out, size_t *n);
const struct xlb_link *xlb_link_find(const struct xlb_link *all, size_t n,
				     int ifindex);
/*
 * Whether every frame link l receives carries a complete checksum: a
 * physical NIC (no rtnetlink kind, Ethernet), or a VLAN or bond whose
 * lower devices all are. Otherwise false, with *why (static text) saying
 * what the device is and why it does not qualify.
 */
bool xlb_link_complete_csum(const struct xlb_link *all, size_t n,
			    const struct xlb_link *l, const char **why);

/* A non-blocking netlink socket subscribed to link changes. */
int xlb_link_watch(void);
/* Reads every pending message; 1 if a link came, went or changed (also
 * after an overrun, when messages were lost), 0 if not, or -errno. */
int xlb_link_drain(int fd);
/* The same for any rtnetlink socket: 1 if a message of type_a or type_b
 * (RTM_*) was read or messages were lost, 0 if not, or -errno. */
int xlb_rtnl_drain(int fd, __u16 type_a, __u16 type_b);

#endif /* XLB_LINKS_H */
