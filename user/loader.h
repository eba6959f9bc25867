/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Loads the XDP and tc programs with maps pinned under the bpffs
 * directory (adopting pins a previous xlbd left), and attaches them.
 */
#ifndef XLB_LOADER_H
#define XLB_LOADER_H

#include <stdbool.h>
#include <linux/types.h>

#include "maps.h"

enum xlb_attach_mode {
	XLB_MODE_NATIVE = 0,	/* XDP in the driver, fail otherwise */
	XLB_MODE_GENERIC,	/* XDP on the skb path */
	XLB_MODE_BEST_EFFORT,	/* native XDP where it attaches, tc elsewhere */
	XLB_MODE_TC,		/* tc clsact ingress only */
};

struct xlb_loader_opts {
	const char *bpffs;	/* pin directory */
	__u32 ring_slots;	/* 0 = default, for each size */
	__u32 max_services;
	__u32 max_backends;
	__u32 max_frontends;
	__u32 ct_entries;
	bool fib_redirect;
};

struct xlb_xdp_lb;
struct xlb_tc_lb;

struct xlb_dp {
	struct xlb_xdp_lb *xdp;
	struct xlb_tc_lb *tc;
	struct xlb_maps maps;	/* fds owned by the skeletons */
	bool adopted;		/* pinned maps existed before this load */
	int lock_fd;		/* flock on the pin directory */
};

int xlb_parse_mode(const char *s, enum xlb_attach_mode *mode);
/* Checks that dir is on a bpf filesystem, creating it (and mounting
 * /sys/fs/bpf if that is the missing piece). */
int xlb_bpffs_prepare(const char *dir);
int xlb_dp_load(struct xlb_dp *dp, const struct xlb_loader_opts *o);
/* Attaches to one interface; *where says "xdp-native", "xdp-generic" or
 * "tc". Replaces a program a previous xlbd attached, atomically. */
int xlb_dp_attach(struct xlb_dp *dp, const char *ifname,
		  enum xlb_attach_mode mode, const char **where);
void xlb_dp_close(struct xlb_dp *dp);
/* Removes xlb's XDP program and tc filter from an interface, if there. */
int xlb_detach_iface(const char *ifname);
/* Removes the pins under dir (and dir itself if empty). */
int xlb_unpin_all(const char *dir);

#endif /* XLB_LOADER_H */
