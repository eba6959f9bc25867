/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The interfaces xlbd attaches to, and which program each gets.
 *
 * --iface is a selection (links.h: names, shell patterns, !exclusions,
 * never lo); xlbd attaches to every selected link at start and follows
 * the netlink link watch afterwards: a link that appears or is renamed
 * into the selection is attached, one renamed out of it is detached if
 * xlbd attached it, a vanished one is forgotten. Nothing xlbd did not
 * attach is ever detached.
 *
 * Which program (xlb_iface_choose):
 *   auto (default)  native XDP on a device that always delivers complete
 *                   checksums (xlb_link_complete_csum: a NIC, a VLAN or
 *                   bond over NICs), falling back to tc where the driver
 *                   has no native XDP; tc on every other device (veth,
 *                   tun/tap, bridge, ...), whose frames from local
 *                   sockets may be CHECKSUM_PARTIAL;
 *   native          native XDP, refused on a device that may hand over
 *                   partial checksums;
 *   best-effort     native XDP where the driver has it, else tc; refused
 *                   where that would put XDP on such a device;
 *   generic         generic XDP, refused on such a device;
 *   tc              tc everywhere.
 * --complete-checksums PATTERNS says that the senders on those devices
 * produce complete checksums (a traffic generator, a lab whose senders
 * have tx checksum offload off): they count as a NIC does.
 */
#ifndef XLB_IFACES_H
#define XLB_IFACES_H

#include <stdbool.h>
#include <stddef.h>

#include "links.h"
#include "loader.h"

struct xlb_iface {
	int ifindex;
	char name[IF_NAMESIZE];
	const char *where;	/* "xdp-native", "xdp-generic", "tc"; NULL:
				 * refused or failed (not retried until the
				 * link is renamed or comes again) */
};

struct xlb_ifaces {
	struct xlb_dp *dp;
	enum xlb_attach_mode mode;
	struct xlb_ifsel sel;	/* --iface */
	struct xlb_ifsel cc;	/* --complete-checksums (n 0: none) */
	struct xlb_iface *v;	/* the links judged, by ifindex */
	size_t n;
	int fd;			/* the link watch, or -1 */
};

/*
 * The program mode a link gets: the loader's mode to attach with (AUTO
 * is never returned), and *why (static text) the reason for the log
 * line; or -EPERM when the mode asks XDP on a device that may hand over
 * partial checksums, *why then saying what the device is.
 */
int xlb_iface_choose(enum xlb_attach_mode mode, const struct xlb_link *all,
		     size_t n, const struct xlb_link *l, bool cc,
		     enum xlb_attach_mode *use, const char **why);

/* Parses --iface and --complete-checksums (NULL: none); 0 or -EINVAL
 * with the reason in err. */
int xlb_ifaces_init(struct xlb_ifaces *f, struct xlb_dp *dp,
		    enum xlb_attach_mode mode, const char *iface,
		    const char *cc, char *err, size_t errlen);
/* Opens the link watch and attaches every selected link. A literal
 * name that does not exist, a refusal or a failed attach is an error
 * here (0 or -errno, logged); later ones are logged and counted. */
int xlb_ifaces_start(struct xlb_ifaces *f);
int xlb_ifaces_fd(const struct xlb_ifaces *f);
/* Reads the watch and follows what changed. */
void xlb_ifaces_process(struct xlb_ifaces *f);
/* Closes the watch; what is attached stays attached. */
void xlb_ifaces_fini(struct xlb_ifaces *f);

#endif /* XLB_IFACES_H */
