/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Loads the XDP and tc programs with maps pinned under the bpffs
 * directory (adopting pins a previous xlbd left), or unpinned for tests,
 * and attaches them.
 */
#ifndef XLB_LOADER_H
#define XLB_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "maps.h"

enum xlb_attach_mode {
	XLB_MODE_AUTO = 0,	/* xlbd's default: native XDP on devices that
				 * always deliver complete checksums, tc on
				 * every other (see ifaces.h); the loader
				 * takes it as BEST_EFFORT */
	XLB_MODE_NATIVE,	/* XDP in the driver, fail otherwise */
	XLB_MODE_GENERIC,	/* XDP on the skb path */
	XLB_MODE_BEST_EFFORT,	/* native XDP where it attaches, tc elsewhere */
	XLB_MODE_TC,		/* tc clsact ingress only */
};

struct bpf_object;
struct xlb_dp;
struct xlb_xdp_lb;
struct xlb_tc_lb;

/*
 * What xlb_dp_load() loads. xlbd sets bpffs; tests and benchmarks leave it
 * NULL and get the same programs, loaded the same way, on fresh maps:
 * nothing pinned, nothing adopted, no lock, gone with xlb_dp_close(). With
 * share, the maps are those of an already loaded xlb_dp instead (two
 * loads with other settings over one set of maps, e.g. the port filter on
 * and off); sizes are then the shared maps' own. A test:
 *
 *	struct xlb_loader_opts o = { .map_size[XLB_MAPI_CT] = 4096 };
 *	struct xlb_dp dp;
 *
 *	err = xlb_dp_load(&dp, &o);	(programs in dp.xdp, dp.tc; fds in dp.maps)
 *	...
 *	xlb_dp_close(&dp);
 */
struct xlb_loader_opts {
	const char *bpffs;	/* pin directory; NULL: nothing pinned */
	/* max_entries by map (xlb_rings: entries of two slots); 0 = the
	 * size the options below derive, else the object's default. */
	__u32 map_size[XLB_N_MAPS];
	__u32 ring_slots;	/* 0 = default, for each size */
	__u32 max_services;	/* xlb_svc_info and xlb_svc_stats */
	__u32 max_backends;	/* xlb_backends and xlb_be_stats */
	__u32 max_frontends;	/* xlb_svc */
	__u32 ct_entries;	/* xlb_ct */
	bool fib_redirect;
	bool no_port_filter;	/* xlb_cfg.port_filter = 0 (xlbd keeps 1) */
	/* Source NAT ports, host order, inclusive; 0: no source NAT. */
	__u16 snat_port_min, snat_port_max;
	const struct xlb_dp *share; /* reuse its maps; needs bpffs NULL */
	/* Called on the XDP object after sizing, before load (the tc object
	 * shares its maps): benchmarks' what-ifs, e.g. another map type.
	 * Returns 0 or -errno (and says why). */
	int (*tweak)(struct bpf_object *obj, void *ctx);
	void *tweak_ctx;
};

struct xlb_dp {
	struct xlb_xdp_lb *xdp;
	struct xlb_tc_lb *tc;
	struct xlb_maps maps;	/* fds owned by the skeletons */
	bool adopted;		/* pinned maps existed before this load */
	int lock_fd;		/* flock on the pin directory, or -1 */
};

int xlb_parse_mode(const char *s, enum xlb_attach_mode *mode);
/* Checks that dir is on a bpf filesystem, creating it (and mounting
 * /sys/fs/bpf if that is the missing piece). */
int xlb_bpffs_prepare(const char *dir);
int xlb_dp_load(struct xlb_dp *dp, const struct xlb_loader_opts *o);
/*
 * Attaches to one interface; *where says "xdp-native", "xdp-generic" or
 * "tc". Replaces a program a previous xlbd attached, atomically, and
 * never one of another owner: an XDP program not named xlb_xdp on the
 * device is an error (-EBUSY). When best-effort falls back to tc, note
 * (if not NULL) says why ("native XDP not available: ..."), else it is
 * set to "". ifname is for messages only.
 */
int xlb_dp_attach(struct xlb_dp *dp, int ifindex, const char *ifname,
		  enum xlb_attach_mode mode, const char **where, char *note,
		  size_t notelen);
void xlb_dp_close(struct xlb_dp *dp);
/* Makes another object (the socket hooks) use dp's maps; before load. */
int xlb_dp_share_maps(struct bpf_object *obj, const struct xlb_dp *dp);
/* Removes xlb's XDP program and tc filters (ingress and egress) from an
 * interface, if there; nothing of another owner. */
void xlb_dp_detach(int ifindex);
/* The same by name: 0, or -ENODEV. */
int xlb_detach_iface(const char *ifname);
/* Removes the pins under dir (and dir itself if empty). */
int xlb_unpin_all(const char *dir);

#endif /* XLB_LOADER_H */
