/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maglev lookup tables (Eisenbud et al., "Maglev: A Fast and Reliable
 * Software Network Load Balancer", NSDI 2016), built in userspace and
 * written into a service's slice of xlb_rings.
 *
 * A table depends only on the set of backend identities (family, address,
 * port) and their weights, never on backend ids nor on the order the
 * backends are given in: every node and every restart computes the same
 * slot -> identity table, so a flow keeps its backend when it moves
 * between nodes.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>

#include <xlb/abi.h>

/* One backend as the table builder sees it. */
struct xlb_maglev_backend {
	__u32 id;		/* backend id written into the table, not 0 */
	union xlb_addr addr;	/* identity: address (IPv4: 4..15 zero) */
	__be16 port;		/* identity: port, network order */
	__u8 family;		/* identity: XLB_AF_INET or XLB_AF_INET6 */
	__u32 weight;		/* share of the slots; 0 = no slot */
};

/*
 * Fills table[0 .. m) with backend ids. m must be prime. Backends of
 * weight 0 get no slot; when no backend has a weight (n == 0 included)
 * the table is all XLB_ID_NONE. Returns 0, -EINVAL (m not prime, bad
 * family, id 0, duplicate identity or duplicate id) or -ENOMEM; the
 * table content is unspecified after an error.
 */
int xlb_maglev_build(const struct xlb_maglev_backend *bes, size_t n, __u32 m,
		     __u32 *table);

/*
 * The table size for n backends: the smallest prime at or above
 * XLB_RING_PER_BACKEND * n, at least XLB_RING_MIN; XLB_RING_MAX (a prime)
 * when that would exceed it.
 */
__u32 xlb_maglev_table_size(size_t n_backends);

/*
 * The preference list of one backend in a table of m slots: its j-th
 * choice is slot (offset + j * skip) mod m. For tools and tests; returns
 * 0 or -EINVAL (m not prime, bad family or address).
 */
int xlb_maglev_perm(const struct xlb_maglev_backend *be, __u32 m,
		    __u32 *offset, __u32 *skip);

bool xlb_is_prime(__u32 n);

#endif /* XLB_MAGLEV_H */
