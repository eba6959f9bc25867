/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: connection tracking, in one LRU hash shared by all
 * CPUs, so a reply is matched whichever CPU or interface it arrives on.
 * A balanced flow normally has one entry keyed by its client's address
 * and port (XLB_CT_CLIENT), which both directions find: one insert per
 * new flow, and twice the flows in the same table. A flow whose client
 * port already has an entry of another flow, and the reply side of a
 * hairpinned flow, use an entry per direction instead (XLB_CT_FWD,
 * XLB_CT_REV). include/xlb/abi.h describes the keys.
 */
#ifndef XLB_BPF_CONNTRACK_H
#define XLB_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"

/*
 * What the decision learns about a packet's flow, for the steps after it
 * (the rewrite itself is struct xlb_nat): its service and backend, how
 * its conntrack lookups went, and with fib_redirect its cached next hop.
 */
struct xlb_flow {
	__u32 svc_id;		/* DNAT: the flow's service */
	__u32 backend_id;	/* DNAT: the flow's backend */
	__u8 ct_missed;		/* the flow's entry was just looked up and is
				 * not there */
	__u8 ct_taken;		/* the client's key belongs to another flow
				 * (use FWD and REV entries) */
	__u8 hop_dir;		/* XLB_CT_CLIENT/FWD/REV: the flow's entry,
				 * whose hop[hop_slot] a lookup refreshes;
				 * 0: none */
	__u8 hop_slot;
	__u32 hop_ifindex;	/* cached next hop (hop_ifindex != 0) */
	__u16 hop_len;
	__u8 hop_dmac[6];
	__u8 hop_smac[6];
	__be16 snat_port;	/* with snat: the source port given */
	__u32 ifindex;		/* the packet's ingress interface; a new
				 * source-NATed or DSR flow's, and a DSR
				 * packet's: the egress towards the backend
				 * (0: unknown) */
	__u8 snat;		/* DNAT: source NAT too, to the node address
				 * in the rewrite's addr2 and snat_port */
	__u8 dsr;		/* XLB_DSR_*: the packet is or comes DSR */
	__u16 dsr_mss;		/* XLB_DSR_DECAP: the MSS its SYN-ACKs may
				 * announce; a reply of such a flow: the
				 * same, from its entry */
};

/* What f->dsr says. */
enum {
	XLB_DSR_NONE = 0,
	XLB_DSR_ENCAP = 1,	/* to a remote backend: encapsulate, the
				 * rewrite's addr the outer destination,
				 * addr2 its source */
	XLB_DSR_DECAP = 2,	/* came encapsulated (p is the inner
				 * packet): to a local backend, the outer
				 * destination in the rewrite's addr2 */
};

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

/* The client entry's key of the client at addr, port. */
static __always_inline void xlb_ct_client_key(struct xlb_ct_key *k,
					      const union xlb_addr *addr,
					      __be16 port, __u8 proto,
					      __u8 family)
{
	__builtin_memcpy(&k->saddr, addr, 16);
	__builtin_memset(&k->daddr, 0, 16);
	k->sport = port;
	k->dport = 0;
	k->proto = proto;
	k->family = family;
	k->dir = XLB_CT_CLIENT;
	k->pad = 0;
}

static __always_inline int xlb_addr_eq(const union xlb_addr *a,
				       const union xlb_addr *b)
{
	return a->v6[0] == b->v6[0] && a->v6[1] == b->v6[1] &&
	       a->v6[2] == b->v6[2] && a->v6[3] == b->v6[3];
}

/* The backend a client entry names, if it is at addr, port; else NULL. */
static __always_inline const struct xlb_backend *
xlb_ct_backend_at(const struct xlb_ct_val *ct, const union xlb_addr *addr,
		  __be16 port)
{
	const struct xlb_backend *be;
	__u32 id = ct->backend_id;

	be = bpf_map_lookup_elem(&xlb_backends, &id);
	if (!be || be->port != port || !xlb_addr_eq(&be->addr, addr))
		return NULL;
	return be;
}

/*
 * The entry of p's flow, p going from its client to a frontend: the
 * client entry when it names p's frontend, else the forward entry (*kind
 * says which). f->ct_taken: the client key belongs to another flow.
 */
static __always_inline struct xlb_ct_val *
xlb_ct_fwd_lookup(struct xlb_ct_key *k, const struct xlb_pkt *p,
		  struct xlb_flow *f, __u8 *kind)
{
	struct xlb_ct_val *ct;

	*kind = XLB_CT_CLIENT;
	xlb_ct_client_key(k, &p->saddr, p->sport, p->proto, p->family);
	ct = bpf_map_lookup_elem(&xlb_ct, k);
	if (!ct)
		return NULL;
	if (ct->nat_port == p->dport && xlb_addr_eq(&ct->nat_addr, &p->daddr))
		return ct;
	f->ct_taken = 1;
	*kind = XLB_CT_FWD;
	xlb_ct_key_of(k, p, XLB_CT_FWD);
	return bpf_map_lookup_elem(&xlb_ct, k);
}

/*
 * The entry of the flow a packet backend -> client answers (k: its
 * reverse key): the client's entry if it names that backend, else the
 * reverse entry. *kind says which.
 */
XLB_SUBPROG struct xlb_ct_val *xlb_ct_reply_lookup(const struct xlb_ct_key *k,
						   __u8 *kind)
{
	const struct xlb_backend *be;
	struct xlb_ct_key c;
	struct xlb_ct_val *ct;

	xlb_ct_client_key(&c, &k->daddr, k->dport, k->proto, k->family);
	ct = bpf_map_lookup_elem(&xlb_ct, &c);
	/* A source-NATed flow's replies go to the node, not its client. */
	if (ct && !(ct->flags & XLB_CT_F_SNAT)) {
		be = xlb_ct_backend_at(ct, &k->saddr, k->sport);
		if (be && be->svc_id == ct->svc_id) {
			*kind = XLB_CT_CLIENT;
			return ct;
		}
	}
	*kind = XLB_CT_REV;
	return bpf_map_lookup_elem(&xlb_ct, k);
}

/* Refreshes last_seen at most every XLB_CT_REFRESH_NS; returns now. */
static __always_inline __u64 xlb_ct_touch(struct xlb_ct_val *v)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	if (now - v->last_seen > XLB_CT_REFRESH_NS)
		v->last_seen = now;
	return now;
}

/* With fib_redirect: the next hop of this direction of the flow (entry
 * kind dir, slot), if fresh, for the forwarding step, and which entry a
 * new lookup refreshes. */
static __always_inline void xlb_hop_take(struct xlb_flow *f,
					 const struct xlb_ct_val *ct,
					 __u64 now, __u8 dir, __u8 slot)
{
	const struct xlb_ct_hop *h = &ct->hop[slot & 1];

	if (!xlb_cfg.fib_redirect)
		return;
	f->hop_dir = dir;
	f->hop_slot = slot;
	if (!h->ifindex || now - h->stamp >= XLB_CT_HOP_NS)
		return;
	f->hop_ifindex = h->ifindex;
	f->hop_len = h->len;
	__builtin_memcpy(f->hop_dmac, h->dmac, ETH_ALEN);
	__builtin_memcpy(f->hop_smac, h->smac, ETH_ALEN);
}

/* A lookup resolved the next hop in n for a packet of tot_len bytes (L3)
 * of p's flow: keep it in the flow's entry. */
static __always_inline int xlb_hop_store(const struct xlb_pkt *p,
					 const struct xlb_flow *f, __u32 tot_len)
{
	struct xlb_ct_key k;
	struct xlb_ct_val *ct;
	struct xlb_ct_hop *h;
	__u64 now = bpf_ktime_get_coarse_ns();

	if (f->hop_dir != XLB_CT_CLIENT)
		xlb_ct_key_of(&k, p, f->hop_dir);
	else if (f->hop_slot)	/* a reply: the client is its destination */
		xlb_ct_client_key(&k, &p->daddr, p->dport, p->proto, p->family);
	else
		xlb_ct_client_key(&k, &p->saddr, p->sport, p->proto, p->family);
	ct = bpf_map_lookup_elem(&xlb_ct, &k);
	if (!ct)
		return 0;
	h = &ct->hop[f->hop_slot & 1];
	/* The same egress, still fresh: the longer packet checked fits. */
	if (h->ifindex == f->hop_ifindex && now - h->stamp < XLB_CT_HOP_NS &&
	    h->len > tot_len)
		tot_len = h->len;
	__builtin_memcpy(h->dmac, f->hop_dmac, ETH_ALEN);
	__builtin_memcpy(h->smac, f->hop_smac, ETH_ALEN);
	h->len = tot_len;
	h->ifindex = f->hop_ifindex;
	h->stamp = now;
	return 0;
}

/*
 * The client port's entry belongs to another flow (f->ct_taken): whether
 * that flow may still live. Not when it went to be's address and port
 * too: the backend would see both as one connection, so it has ended, and
 * the new flow takes the client entry (else the other's would answer its
 * replies).
 */
XLB_SUBPROG int xlb_ct_other_lives(const struct xlb_pkt *p,
				   const struct xlb_backend *be)
{
	struct xlb_ct_key k;
	struct xlb_ct_val *old;

	xlb_ct_client_key(&k, &p->saddr, p->sport, p->proto, p->family);
	old = bpf_map_lookup_elem(&xlb_ct, &k);
	return old && !xlb_ct_backend_at(old, &be->addr, be->port);
}

/* The key and target of the entry a new flow p's client packets match:
 * its client entry (target the frontend it named), or with taken (the
 * client port is another live flow's) its forward entry (target the
 * backend be). */
static __always_inline void xlb_ct_client_side(struct xlb_ct_key *k,
					       struct xlb_ct_val *v,
					       const struct xlb_pkt *p,
					       const struct xlb_backend *be,
					       int taken)
{
	if (taken) {
		xlb_ct_key_of(k, p, XLB_CT_FWD);
		__builtin_memcpy(&v->nat_addr, &be->addr, 16);
		v->nat_port = be->port;
	} else {
		xlb_ct_client_key(k, &p->saddr, p->sport, p->proto, p->family);
		__builtin_memcpy(&v->nat_addr, &p->daddr, 16);
		v->nat_port = p->dport;
	}
}

/*
 * Records a new flow p -> backend be (id be_id; its service is the
 * flow's): its client entry, or (f->ct_taken) a forward and a reverse entry. A
 * hairpinned flow's reply is matched by a reverse entry either way: it
 * goes to the hairpin address, not to its client. A source-NATed flow
 * has its own: xlb_snat_insert() (snat.h). A DSR flow (f->dsr) is marked
 * so: sent on encapsulated from addr2 (its outer source, not a hairpin
 * address then) by f->ifindex, or (decapsulated here) answered with
 * f->dsr_mss.
 */
XLB_SUBPROG int xlb_ct_insert(const struct xlb_pkt *p,
			      const struct xlb_backend *be, __u32 be_id,
			      const union xlb_addr *addr2,
			      const struct xlb_flow *f)
{
	const union xlb_addr *hairpin = addr2;
	struct xlb_ct_key k;
	struct xlb_ct_val *v;
	__u64 now = bpf_ktime_get_coarse_ns();
	int taken = f->ct_taken;
	__u32 zero = 0;

	/* Built off the stack: the call chain down here has no room for
	 * a value (snat.h). */
	v = bpf_map_lookup_elem(&xlb_scratch, &zero);
	if (!v)
		return -1;
	__builtin_memset(v, 0, sizeof(*v));
	v->backend_id = be_id;
	v->svc_id = be->svc_id;
	v->last_seen = now;
	if (f->dsr == XLB_DSR_ENCAP && addr2) {
		hairpin = NULL;
		v->flags = XLB_CT_F_DSR;
		__builtin_memcpy(&v->dsr_src, addr2, 16);
		v->dsr_ifindex = f->ifindex;
	} else if (f->dsr == XLB_DSR_DECAP) {
		v->flags = XLB_CT_F_DSR_LOCAL;
		v->dsr_mss = f->dsr_mss;
	}
	xlb_ct_client_side(&k, v, p, be, taken);
	bpf_map_update_elem(&xlb_ct, &k, v, BPF_ANY);
	if (!taken && !hairpin)
		return 0;

	/* The reply: backend -> client, to be restored to VIP -> client.
	 * A hairpinned flow's client is the backend, seen as the hairpin
	 * address. */
	xlb_ct_key_of(&k, p, XLB_CT_REV);
	__builtin_memcpy(&k.saddr, &be->addr, 16);
	if (hairpin) {
		__builtin_memcpy(&k.daddr, hairpin, 16);
		v->flags = XLB_CT_F_HAIRPIN;
	} else {
		__builtin_memcpy(&k.daddr, &p->saddr, 16);
	}
	k.sport = be->port;
	k.dport = p->sport;
	__builtin_memcpy(&v->nat_addr, &p->daddr, 16);
	v->nat_port = p->dport;
	return bpf_map_update_elem(&xlb_ct, &k, v, BPF_ANY);
}

/* A TCP FIN or RST, either way, marks the flow's entry closed: a SYN
 * on it is then a new connection (lb.h xlb_ct_goes_on), and a source NAT
 * reservation's port is free XLB_SNAT_CLOSED_NS after its last packet. */
static __always_inline void xlb_ct_mark_closed(struct xlb_ct_val *ct,
					       const struct xlb_pkt *p)
{
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & 0x05) &&
	    !(ct->flags & XLB_CT_F_CLOSED))
		ct->flags |= XLB_CT_F_CLOSED;
}

#endif /* XLB_BPF_CONNTRACK_H */
