/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: backend selection for a new flow. The agent writes
 * each service's Maglev table into its slice of xlb_rings; the datapath
 * only reads slot hash(5-tuple) % M.
 */
#ifndef XLB_BPF_MAGLEV_H
#define XLB_BPF_MAGLEV_H

#include "maps.h"
#include "parse.h"

static __always_inline __u32 xlb_flow_hash(const struct xlb_pkt *p)
{
	if (p->family == XLB_AF_INET)
		return xlb_flow_hash4(p->saddr.v4, p->daddr.v4, p->sport,
				      p->dport, p->proto);
	return xlb_flow_hash6(p->saddr.v6, p->daddr.v6, p->sport, p->dport,
			      p->proto);
}

/* Returns the backend id in the service's ring for this flow, or 0. */
static __always_inline __u32 xlb_maglev_pick(const struct xlb_svc *svc,
					     const struct xlb_pkt *p)
{
	struct xlb_ring_pair *pair;
	__u32 slot, entry;

	if (!svc->ring_size)
		return XLB_ID_NONE;
	slot = svc->ring_off + xlb_flow_hash(p) % svc->ring_size;
	entry = slot / XLB_RING_SLOTS_PER_ENTRY;
	pair = bpf_map_lookup_elem(&xlb_rings, &entry);
	return pair ? pair->id[slot & 1] : XLB_ID_NONE;
}

#endif /* XLB_BPF_MAGLEV_H */
