/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: connection tracking. A balanced flow has a forward
 * entry (client -> VIP: which backend) and a reverse entry (backend ->
 * client: which VIP to restore). Both live in one LRU hash shared by all
 * CPUs, so a reply is matched whichever CPU or interface it arrives on.
 */
#ifndef XLB_BPF_CONNTRACK_H
#define XLB_BPF_CONNTRACK_H

#include "maps.h"
#include "nat.h"
#include "parse.h"

static __always_inline void xlb_ct_key_of(struct xlb_ct_key *k,
					  const struct xlb_pkt *p, __u8 dir)
{
	__builtin_memcpy(&k->saddr, &p->saddr, 16);
	__builtin_memcpy(&k->daddr, &p->daddr, 16);
	k->sport = p->sport;
	k->dport = p->dport;
	k->proto = p->proto;
	k->family = p->family;
	k->dir = dir;
	k->pad = 0;
}

/* Refreshes last_seen at most every XLB_CT_REFRESH_NS; returns now. */
static __always_inline __u64 xlb_ct_touch(struct xlb_ct_val *v)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	if (now - v->last_seen > XLB_CT_REFRESH_NS)
		v->last_seen = now;
	return now;
}

/* With fib_redirect: the flow's next hop, if fresh, for the forwarding
 * step, and which entry a new lookup refreshes. */
static __always_inline void xlb_hop_take(struct xlb_nat *n,
					 const struct xlb_ct_val *ct,
					 __u64 now, __u8 dir)
{
	if (!xlb_cfg.fib_redirect)
		return;
	n->hop_dir = dir;
	if (!ct->hop_ifindex || now - ct->hop_stamp >= XLB_CT_HOP_NS)
		return;
	n->hop_ifindex = ct->hop_ifindex;
	n->hop_len = ct->hop_len;
	__builtin_memcpy(n->hop_dmac, ct->hop_dmac, ETH_ALEN);
	__builtin_memcpy(n->hop_smac, ct->hop_smac, ETH_ALEN);
}

/* A lookup resolved the next hop in n for a packet of tot_len bytes (L3):
 * keep it in the flow's entry. */
static __always_inline int xlb_hop_store(const struct xlb_pkt *p,
			      const struct xlb_nat *n, __u32 tot_len)
{
	struct xlb_ct_key k;
	struct xlb_ct_val *ct;
	__u64 now = bpf_ktime_get_coarse_ns();

	xlb_ct_key_of(&k, p, n->hop_dir);
	ct = bpf_map_lookup_elem(&xlb_ct, &k);
	if (!ct)
		return 0;
	/* The same egress, still fresh: the longer packet checked fits. */
	if (ct->hop_ifindex == n->hop_ifindex &&
	    now - ct->hop_stamp < XLB_CT_HOP_NS && ct->hop_len > tot_len)
		tot_len = ct->hop_len;
	__builtin_memcpy(ct->hop_dmac, n->hop_dmac, ETH_ALEN);
	__builtin_memcpy(ct->hop_smac, n->hop_smac, ETH_ALEN);
	ct->hop_len = tot_len;
	ct->hop_ifindex = n->hop_ifindex;
	ct->hop_stamp = now;
	return 0;
}

/* Records a new flow p -> backend be (id be_id) of service svc_id. */
XLB_SUBPROG int xlb_ct_insert(const struct xlb_pkt *p,
			      const struct xlb_backend *be, __u32 be_id,
			      __u32 svc_id, const union xlb_addr *hairpin)
{
	struct xlb_ct_key k = {};
	struct xlb_ct_val v = {};
	__u64 now = bpf_ktime_get_coarse_ns();

	xlb_ct_key_of(&k, p, XLB_CT_FWD);
	__builtin_memcpy(&v.nat_addr, &be->addr, 16);
	v.nat_port = be->port;
	v.backend_id = be_id;
	v.svc_id = svc_id;
	v.last_seen = now;
	bpf_map_update_elem(&xlb_ct, &k, &v, BPF_ANY);

	/* The reply: backend -> client, to be restored to VIP -> client.
	 * A hairpinned flow's client is the backend, seen as the hairpin
	 * address. */
	__builtin_memcpy(&k.saddr, &be->addr, 16);
	if (hairpin) {
		__builtin_memcpy(&k.daddr, hairpin, 16);
		v.flags = XLB_CT_F_HAIRPIN;
	} else {
		__builtin_memcpy(&k.daddr, &p->saddr, 16);
	}
	k.sport = be->port;
	k.dport = p->sport;
	k.dir = XLB_CT_REV;
	__builtin_memcpy(&v.nat_addr, &p->daddr, 16);
	v.nat_port = p->dport;
	return bpf_map_update_elem(&xlb_ct, &k, &v, BPF_ANY);
}

#endif /* XLB_BPF_CONNTRACK_H */
