/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: the balancing decision shared by the XDP and tc
 * programs. It parses, looks up the VIP, follows or creates the flow's
 * conntrack entry, and says which rewrite to make; the entry programs do
 * the rewrite their own way (nat.h) and forward.
 */
#ifndef XLB_BPF_LB_H
#define XLB_BPF_LB_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "conntrack.h"
#include "maglev.h"
#include "nat.h"
#include "stats.h"
#include "icmp.h"
#include "snat.h"
#include "dsr.h"

/* A tracked backend still serves its flows while ACTIVE or TERMINATING
 * and while it belongs to the service the flow was balanced by. */
static __always_inline const struct xlb_backend *
xlb_backend_usable(__u32 id, __u32 svc_id)
{
	const struct xlb_backend *be;

	be = bpf_map_lookup_elem(&xlb_backends, &id);
	if (!be || be->svc_id != svc_id)
		return NULL;
	if (be->state != XLB_BE_ACTIVE && be->state != XLB_BE_TERMINATING)
		return NULL;
	return be;
}

/* loadBalancerSourceRanges: the client must fall in one of the service's
 * CIDRs. */
XLB_SUBPROG int xlb_src_allowed(const struct xlb_pkt *p,
					   const struct xlb_svc *svc)
{
	struct xlb_src_range_key k = {};

	k.prefixlen = XLB_SRC_RANGE_PREFIX +
		      (p->family == XLB_AF_INET ? 32 : 128);
	k.svc_id = svc->svc_id;
	k.family = p->family;
	__builtin_memcpy(k.addr, &p->saddr, 16);
	return bpf_map_lookup_elem(&xlb_src_ranges, &k) != NULL;
}

/* Client-IP session affinity: the backend this client's last new flow
 * went to, if that was within the timeout; 0 otherwise. */
XLB_SUBPROG __u32 xlb_affinity_get(const struct xlb_pkt *p,
					      const struct xlb_svc *svc)
{
	struct xlb_affinity_key k = {};
	struct xlb_affinity_val *v;
	__u64 now;

	__builtin_memcpy(&k.client, &p->saddr, 16);
	k.svc_id = svc->svc_id;
	k.family = p->family;
	v = bpf_map_lookup_elem(&xlb_affinity, &k);
	if (!v)
		return XLB_ID_NONE;
	now = bpf_ktime_get_coarse_ns();
	if (now - v->last_seen > (__u64)svc->affinity_timeout * 1000000000ull)
		return XLB_ID_NONE;
	/* Kubernetes' timeout counts from the client's last connection:
	 * refresh in place (a map update would cost more than the rest). */
	v->last_seen = now;
	return v->backend_id;
}

XLB_SUBPROG int xlb_affinity_set(const struct xlb_pkt *p,
					     const struct xlb_svc *svc,
					     __u32 backend_id)
{
	struct xlb_affinity_key k = {};
	struct xlb_affinity_val v = {};

	__builtin_memcpy(&k.client, &p->saddr, 16);
	k.svc_id = svc->svc_id;
	k.family = p->family;
	v.backend_id = backend_id;
	v.last_seen = bpf_ktime_get_coarse_ns();
	return bpf_map_update_elem(&xlb_affinity, &k, &v, BPF_ANY);
}

/* When the client is the backend itself: the node's hairpin address
 * for its family, or NULL (not a hairpin, or none configured). */
static __always_inline const union xlb_addr *
xlb_hairpin_of(const struct xlb_pkt *p, const struct xlb_backend *be)
{
	__u32 key = p->family == XLB_AF_INET ? 0 : 1;
	const union xlb_addr *h;

	if (p->saddr.v6[0] != be->addr.v6[0] ||
	    p->saddr.v6[1] != be->addr.v6[1] ||
	    p->saddr.v6[2] != be->addr.v6[2] ||
	    p->saddr.v6[3] != be->addr.v6[3])
		return NULL;
	h = bpf_map_lookup_elem(&xlb_hairpin, &key);
	if (!h || (!h->v6[0] && !h->v6[1] && !h->v6[2] && !h->v6[3]))
		return NULL;
	return h;
}

/*
 * Sends p's flow to backend be (id), which serves it: the rewrite to its
 * address and port; with f->snat the source to the node's address and
 * port the flow holds, else to the hairpin address when the backend is
 * its own client (else it would answer itself directly). A DSR flow
 * (XLB_DSR_ENCAP) is not rewritten: it goes encapsulated to that address.
 */
static __always_inline int xlb_nat_to_backend(const struct xlb_pkt *p,
					      const struct xlb_backend *be,
					      __u32 id, struct xlb_nat *n,
					      struct xlb_flow *f, __u32 len)
{
	const union xlb_addr *h;

	__builtin_memcpy(&n->addr, &be->addr, 16);
	n->port = be->port;
	n->side = XLB_NAT_DST;
	if (f->dsr == XLB_DSR_ENCAP) {
		/* n->addr2 holds the outer source already. */
	} else if (f->snat) {
		/* n->addr2 holds the node address already. */
		n->has_addr2 = 1;
		n->port2 = f->snat_port;
	} else if ((h = xlb_hairpin_of(p, be))) {
		__builtin_memcpy(&n->addr2, h, 16);
		n->has_addr2 = 1;
		n->port2 = p->sport;
		xlb_stat(XLB_STAT_HAIRPIN, len);
	}
	f->svc_id = be->svc_id;
	f->backend_id = id;
	xlb_count(&xlb_svc_stats, be->svc_id, len);
	xlb_count(&xlb_be_stats, id, len);
	return f->dsr == XLB_DSR_ENCAP ? XLB_STAT_DSR_ENCAP : XLB_STAT_DNAT;
}

/* A TCP SYN without ACK: the first packet of a new connection. */
static __always_inline int xlb_is_tcp_syn(const struct xlb_pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x02;
}

/*
 * Whether ct's flow goes on with p, to its usable backend be: a SYN is a
 * new connection where the entry cannot take one (the backend takes no
 * new flow, or a FIN or RST closed the flow: the client reuses its port,
 * and the connection is balanced afresh, a new pick and a new source NAT
 * port, as a connection tracker takes it; a retransmitted SYN keeps its
 * entry). A FIN or RST marks the entry closed.
 */
static __always_inline int xlb_ct_goes_on(const struct xlb_pkt *p,
					  struct xlb_ct_val *ct,
					  const struct xlb_backend *be)
{
	if (xlb_is_tcp_syn(p))
		return be->state == XLB_BE_ACTIVE &&
		       !(ct->flags & XLB_CT_F_CLOSED);
	xlb_ct_mark_closed(ct, p);
	return 1;
}

/* The service key of p's destination. */
static __always_inline void xlb_vip_key_of(struct xlb_vip_key *vk,
					   const struct xlb_pkt *p)
{
	__builtin_memcpy(&vk->addr, &p->daddr, 16);
	vk->port = p->dport;
	vk->proto = p->proto;
	vk->family = p->family;
}

/* The service at p's destination, read again (a subprogram: its key stays
 * off the stack of xlb_lb_forward's deeper calls). */
XLB_SUBPROG const struct xlb_svc *xlb_svc_reread(const struct xlb_pkt *p)
{
	struct xlb_vip_key vk = {};

	xlb_vip_key_of(&vk, p);
	return bpf_map_lookup_elem(&xlb_svc, &vk);
}

/*
 * The backend of a new flow to *svcp, for the per-packet path and the
 * socket hooks alike: the client's affinity backend while it still
 * serves (*hit set), else the Maglev pick; ACTIVE backends only. Returns
 * NULL without one; *svcp is then the entry the choice was last tried on,
 * or NULL if the frontend went away meanwhile.
 */
static __always_inline const struct xlb_backend *
xlb_pick_new(const struct xlb_pkt *p, const struct xlb_svc **svcp,
	     __u32 *idp, int *hit)
{
	const struct xlb_svc *svc = *svcp;
	const struct xlb_backend *be;
	__u32 id;

	if (svc->flags & XLB_SVC_F_AFFINITY) {
		id = xlb_affinity_get(p, svc);
		if (id) {
			be = xlb_backend_usable(id, svc->svc_id);
			if (be && be->state == XLB_BE_ACTIVE &&
			    (!(svc->flags & XLB_SVC_F_LOCAL) ||
			     (be->flags & XLB_BE_F_LOCAL))) {
				*hit = 1;
				*idp = id;
				return be;
			}
		}
	}
	id = xlb_maglev_pick(svc, p);
	be = xlb_backend_usable(id, svc->svc_id);
	if (!be || be->state != XLB_BE_ACTIVE) {
		/* The agent retires a backend only after the service points
		 * at a ring without it; if we read the service just before
		 * that swap, reading it again gives the new ring. An empty
		 * ring needs no second look. */
		if (svc->ring_size) {
			svc = xlb_svc_reread(p);
			*svcp = svc;
			if (!svc)
				return NULL;
			id = xlb_maglev_pick(svc, p);
			be = xlb_backend_usable(id, svc->svc_id);
		}
		if (!be || be->state != XLB_BE_ACTIVE)
			return NULL;
	}
	if (svc->flags & XLB_SVC_F_AFFINITY)
		xlb_affinity_set(p, svc, id);
	*idp = id;
	return be;
}

/*
 * Whether the tracked flow ct to be keeps its source NAT, if it has one
 * (into f): not when LRU took the port's reservation, which another flow
 * may hold now; the flow then reserves a port again, as a new one.
 */
static __always_inline int xlb_snat_keep(const struct xlb_pkt *p,
					 const struct xlb_ct_val *ct,
					 const struct xlb_backend *be,
					 struct xlb_nat *n, struct xlb_flow *f)
{
	if (!(ct->flags & XLB_CT_F_SNAT))
		return 1;
	if (!xlb_snat_held(p, ct, be))
		return 0;
	f->snat = 1;
	f->snat_port = ct->snat_port;
	__builtin_memcpy(&n->addr2, &ct->snat_addr, 16);
	return 1;
}

/* Forward direction: packet p to a frontend. Returns 0 when p's
 * destination is none. */
XLB_SUBPROG int xlb_lb_forward(void *ctx, const struct xlb_pkt *p,
			       struct xlb_nat *n, struct xlb_flow *f,
			       __u32 len)
{
	const struct xlb_backend *be;
	const struct xlb_svc *svc;
	struct xlb_ct_key k;
	struct xlb_ct_val *ct = NULL;
	__u8 kind = XLB_CT_CLIENT;
	int hit = 0;
	__u32 id;

	svc = xlb_svc_reread(p);
	if (!svc && f->dsr == XLB_DSR_DECAP)
		svc = xlb_dsr_node_port(p);
	if (!svc)
		return 0;
	if (f->dsr == XLB_DSR_DECAP && !(svc->flags & XLB_SVC_F_DSR))
		return 0;
	/* A new flow's entry was just looked up (xlb_lb_established). */
	if (!f->ct_missed)
		ct = xlb_ct_fwd_lookup(&k, p, f, &kind);
	if (ct) {
		be = xlb_backend_usable(ct->backend_id, ct->svc_id);
		if (be && ct->svc_id == svc->svc_id &&
		    xlb_ct_goes_on(p, ct, be) &&
		    xlb_snat_keep(p, ct, be, n, f)) {
			xlb_dsr_keep(p, ct, n, f);
			xlb_hop_take(f, ct, xlb_ct_touch(ct), kind, 0);
			id = ct->backend_id;
			goto found;
		}
		/* The backend left: re-balance now instead of sending the
		 * flow into a black hole until the entry times out. A SYN
		 * reusing the ports of an old connection to a terminating
		 * backend is a new connection: it takes no terminating
		 * backend either. */
		if (!be || ct->svc_id != svc->svc_id)
			xlb_stat(XLB_STAT_CT_STALE, len);
	}

	if ((svc->flags & XLB_SVC_F_SRC_RANGES) && !xlb_src_allowed(p, svc))
		return XLB_STAT_SRC_DENIED;
	be = xlb_pick_new(p, &svc, &id, &hit);
	if (!be) {
		/* Kubernetes drops what a Local traffic policy cannot serve;
		 * otherwise clients get told at once. */
		return !svc || (svc->flags & XLB_SVC_F_LOCAL) ?
			       XLB_STAT_NO_BACKEND :
			       XLB_STAT_REJECTED;
	}
	if (hit)
		xlb_stat(XLB_STAT_AFFINITY_HIT, len);
	if (f->ct_taken && !xlb_ct_other_lives(p, be))
		f->ct_taken = 0;
	if (f->dsr == XLB_DSR_DECAP) {
		/* Only the backend the packet was sent to: else the first
		 * node's and this one's rings differ (dsr.h). */
		if (!(be->flags & XLB_BE_F_LOCAL) ||
		    !xlb_addr_eq(&be->addr, &n->addr2))
			return XLB_STAT_DSR_MISMATCH;
		/* Without its entry the replies would leave with the
		 * backend's address. */
		if (xlb_ct_insert(p, be, id, NULL, f))
			return XLB_STAT_NAT_ERR;
	} else if (xlb_dsr_wanted(p, svc, be, f) &&
		   !xlb_snat_source(ctx, p, be, &f->ifindex, &n->addr2)) {
		f->dsr = XLB_DSR_ENCAP;
		xlb_ct_insert(p, be, id, &n->addr2, f);
	} else if (xlb_snat_wanted(svc, be) &&
		   !xlb_snat_source(ctx, p, be, &f->ifindex, &n->addr2)) {
		/* Never two flows on one port: rather none. */
		if (xlb_snat_insert(p, be, id, &n->addr2, f))
			return XLB_STAT_SNAT_EXHAUSTED;
		f->snat = 1;
		xlb_stat(XLB_STAT_SNAT_NEW, len);
	} else {
		xlb_ct_insert(p, be, id, xlb_hairpin_of(p, be), f);
	}
	xlb_stat(XLB_STAT_CT_NEW, len);
found:
	return xlb_nat_to_backend(p, be, id, n, f, len);
}

/* Whether a frontend (backend = 0) or a backend (1) uses this port. */
static __always_inline int xlb_port_used(__be16 port, int backend)
{
	__u32 key = bpf_ntohs(port);
	struct xlb_port_use *u = bpf_map_lookup_elem(&xlb_ports, &key);

	if (!u)
		return 1;
	return backend ? u->backends != 0 : u->frontends != 0;
}

static __always_inline void xlb_frag_key_of(struct xlb_frag_key *k,
					    const struct xlb_pkt *p)
{
	__builtin_memcpy(&k->saddr, &p->saddr, 16);
	__builtin_memcpy(&k->daddr, &p->daddr, 16);
	k->id = p->frag_id;
	k->proto = p->proto;
	k->family = p->family;
	k->pad[0] = k->pad[1] = 0;
}

/* The first fragment of a datagram was balanced: remember its rewrite
 * for the fragments that follow. */
XLB_SUBPROG int xlb_frag_record(const struct xlb_pkt *p,
					    const struct xlb_nat *n,
					    __u32 svc_id, __u32 backend_id)
{
	struct xlb_frag_key k;
	struct xlb_frag_val v = {};

	xlb_frag_key_of(&k, p);
	__builtin_memcpy(&v.addr, &n->addr, 16);
	v.side = n->side;
	if (n->has_addr2) {
		__builtin_memcpy(&v.addr2, &n->addr2, 16);
		v.has_addr2 = 1;
	}
	v.svc_id = svc_id;
	v.backend_id = backend_id;
	return bpf_map_update_elem(&xlb_frags, &k, &v, BPF_ANY);
}

/* A later fragment gets the rewrite of its first one, addresses only
 * (both, for a hairpinned or source-NATed flow). */
XLB_SUBPROG int xlb_frag_follow(const struct xlb_pkt *p,
					   struct xlb_nat *n, __u32 len)
{
	struct xlb_frag_key k;
	struct xlb_frag_val *v;

	xlb_frag_key_of(&k, p);
	v = bpf_map_lookup_elem(&xlb_frags, &k);
	if (!v)
		return XLB_STAT_FRAG_MISS;
	__builtin_memcpy(&n->addr, &v->addr, 16);
	n->side = v->side;
	if (v->has_addr2) {
		__builtin_memcpy(&n->addr2, &v->addr2, 16);
		n->has_addr2 = 1;
	}
	if (v->side == XLB_NAT_SRC)
		return XLB_STAT_RNAT;
	xlb_count(&xlb_svc_stats, v->svc_id, len);
	xlb_count(&xlb_be_stats, v->backend_id, len);
	return XLB_STAT_DNAT;
}

/*
 * An established flow to a frontend: conntrack alone says where it goes,
 * without the service lookup. Returns XLB_STAT_DNAT, or 0 when the flow
 * is new or must be balanced again (xlb_lb_forward then decides).
 */
XLB_SUBPROG int xlb_lb_established(const struct xlb_pkt *p,
					      struct xlb_nat *n,
					      struct xlb_flow *f, __u32 len)
{
	const struct xlb_backend *be;
	struct xlb_ct_key k;
	struct xlb_ct_val *ct;
	__u8 kind;

	ct = xlb_ct_fwd_lookup(&k, p, f, &kind);
	if (!ct) {
		f->ct_missed = 1;
		return 0;
	}
	be = xlb_backend_usable(ct->backend_id, ct->svc_id);
	if (!be || !xlb_ct_goes_on(p, ct, be) ||
	    !xlb_snat_keep(p, ct, be, n, f))
		return 0;
	xlb_dsr_keep(p, ct, n, f);
	xlb_hop_take(f, ct, xlb_ct_touch(ct), kind, 0);
	return xlb_nat_to_backend(p, be, ct->backend_id, n, f, len);
}

/* Decides what to do with a packet; returns an XLB_STAT_* outcome.
 * For XLB_STAT_DNAT and XLB_STAT_RNAT, n holds the rewrite to make and f
 * what the forwarding step needs to know of the flow. */
static __always_inline int xlb_decide(void *ctx, void *data, void *data_end,
				      __u32 len, struct xlb_pkt *p,
				      struct xlb_nat *n, struct xlb_flow *f)
{
	struct xlb_ct_key k;
	struct xlb_ct_val *ct;
	__u8 kind;
	int rc;

	rc = xlb_parse(data, data_end, p);
	if (rc == -XLB_E_PARSE)
		return XLB_STAT_PARSE_ERR;
	if (rc < 0)
		return XLB_STAT_UNSUPPORTED;
	if (rc == XLB_PARSED_TUNNEL) {
		/* Maybe DSR: decided on its inner packet, as any, the
		 * outer destination kept in n->addr2. */
		__builtin_memcpy(&n->addr2, &p->daddr, 16);
		if (xlb_dsr_inner(ctx, data, data_end, p, f))
			return XLB_STAT_UNSUPPORTED;
		rc = 0;
	}
	if (rc == XLB_PARSED_ICMP) {
		if (p->frag)
			return XLB_STAT_UNSUPPORTED;
		rc = xlb_icmp_rnat(data, data_end, p);
		if (rc == XLB_STAT_SNAT_RESTORE)
			xlb_stat(XLB_STAT_SNAT_RESTORE, len);
		return rc == XLB_STAT_RNAT || rc == XLB_STAT_SNAT_RESTORE ?
			       XLB_STAT_ICMP_RNAT :
			       rc;
	}
	if (p->frag == XLB_FRAG_LATER)
		return xlb_frag_follow(p, n, len);

	if (xlb_cfg.port_filter) {
		if (!xlb_port_used(p->dport, 0))
			goto reply;
		/* To a frontend port: most packets belong to established
		 * flows, which conntrack resolves on its own. */
		rc = xlb_lb_established(p, n, f, len);
		if (rc) {
			if (p->frag == XLB_FRAG_FIRST)
				xlb_frag_record(p, n, f->svc_id, f->backend_id);
			return xlb_dsr_verdict(rc, n, f);
		}
	}
	rc = xlb_lb_forward(ctx, p, n, f, len);
	if (rc) {
		if (p->frag == XLB_FRAG_FIRST && rc == XLB_STAT_DNAT)
			xlb_frag_record(p, n, f->svc_id, f->backend_id);
		return xlb_dsr_verdict(rc, n, f);
	}

reply:
	/* A DSR packet is never a reply. */
	if (f->dsr == XLB_DSR_DECAP)
		return XLB_STAT_UNSUPPORTED;
	/* Not for a VIP: maybe a backend's reply to a balanced flow. */
	if (xlb_cfg.port_filter && !xlb_port_used(p->sport, 1))
		return XLB_STAT_PASS;
	xlb_ct_key_of(&k, p, XLB_CT_REV);
	ct = xlb_ct_reply_lookup(&k, &kind);
	if (!ct)
		return XLB_STAT_PASS;
	/* A SYN-ACK on a closed flow answers a connection that did not
	 * come through here (a balanced one would have opened the entry
	 * again): the client's port reused towards the backend itself. */
	if ((ct->flags & XLB_CT_F_CLOSED) && p->proto == IPPROTO_TCP &&
	    (p->tcp_flags & 0x12) == 0x12)
		return XLB_STAT_PASS;
	xlb_ct_mark_closed(ct, p);
	xlb_hop_take(f, ct, xlb_ct_touch(ct), kind, kind == XLB_CT_CLIENT);
	__builtin_memcpy(&n->addr, &ct->nat_addr, 16);
	n->port = ct->nat_port;
	n->side = XLB_NAT_SRC;
	if (ct->flags & XLB_CT_F_DSR_LOCAL)
		f->dsr_mss = ct->dsr_mss;
	if (ct->flags & XLB_CT_F_SNAT) {
		/* Back to the client the flow came from. */
		__builtin_memcpy(&n->addr2, &ct->snat_addr, 16);
		n->has_addr2 = 1;
		n->port2 = ct->snat_port;
		xlb_stat(XLB_STAT_SNAT_RESTORE, len);
	} else if (ct->flags & XLB_CT_F_HAIRPIN) {
		/* Back to the backend that is its own client. */
		__builtin_memcpy(&n->addr2, &p->saddr, 16);
		n->has_addr2 = 1;
		n->port2 = p->dport;
		xlb_stat(XLB_STAT_HAIRPIN, len);
	}
	if (p->frag == XLB_FRAG_FIRST)
		xlb_frag_record(p, n, ct->svc_id, ct->backend_id);
	return XLB_STAT_RNAT;
}

#endif /* XLB_BPF_LB_H */
