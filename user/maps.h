/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* File descriptors of the xlb maps, from a loaded object (xlbd) or from
 * the pins under the bpffs directory (xlbctl), and readers over them. */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <xlb/abi.h>

#define XLB_MAPS_FD_FIELD(UC, lc) int lc;

struct xlb_maps {
	/* One fd per map of XLB_MAPS, by name (m->svc) or by index
	 * (m->fd[XLB_MAPI_SVC]); -1 when not open. */
	union {
		struct {
			XLB_MAPS(XLB_MAPS_FD_FIELD)
		};
		int fd[XLB_N_MAPS];
	};
	struct xlb_port_use *port_mem; /* mmap of xlb_ports */
	__u32 *ring_mem;	/* mmap of xlb_rings */
	__u32 ring_slots;	/* max_entries of xlb_rings */
	__u32 max_services;	/* max_entries of xlb_svc_info */
	__u32 max_backends;	/* max_entries of xlb_backends */
	__u32 max_frontends;	/* max_entries of xlb_svc */
	int ncpus;		/* possible CPUs (per-CPU value count) */
	bool own_fds;		/* close the fds in xlb_maps_close */
};

/* Opens the pinned maps under dir; a message names what is missing. */
int xlb_maps_open_pinned(struct xlb_maps *m, const char *dir);
/* Reads sizes, maps the rings; fds already set. */
int xlb_maps_init(struct xlb_maps *m);
void xlb_maps_close(struct xlb_maps *m);
/* Sums a per-CPU counter over all CPUs. */
int xlb_counter_read(const struct xlb_maps *m, int fd, __u32 key,
		     struct xlb_counter *out);
/* Writes zeros for every CPU of a per-CPU counter. */
int xlb_counter_reset(const struct xlb_maps *m, int fd, __u32 key);

/* Reads entries 0 .. n-1 of an array map (value size vsz) into out. */
int xlb_array_read(int fd, __u32 n, size_t vsz, void *out);

/* xlb_map_names[XLB_MAPI_SVC] is "xlb_svc", ... */
extern const char *const xlb_map_names[XLB_N_MAPS];

#endif /* XLB_MAPS_H */
