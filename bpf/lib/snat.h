/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: source NAT of new flows (xlb_cfg.snat_port_min, and a
 * frontend with XLB_SVC_F_SNAT_REMOTE or XLB_SVC_F_SNAT_ALL).
 *
 * A backend on another node answers its client from its own address;
 * unless the reply comes back through this node, the client sees an
 * answer it never asked for and resets. So the flow's source becomes this
 * node's address on the interface towards the backend and a port of the
 * configured range. The backend answers that address; the reply's
 * reverse entry puts its destination back to the client, and its source
 * back to the frontend, as for any reply.
 *
 * The reverse entry is the port's reservation: keyed by the reply
 * (backend -> node address:port), inserted with BPF_NOEXIST, so two live
 * flows never share a port towards the same backend address, port and
 * protocol. It lives in xlb_ct beside the flow's forward entry, under the
 * same LRU; the forward side checks that it still holds it on every
 * packet (xlb_snat_held) and reserves again when LRU took it.
 */
#ifndef XLB_BPF_SNAT_H
#define XLB_BPF_SNAT_H

#include "common.h"
#include "conntrack.h"
#include "fib.h"
#include "maglev.h"
#include "maps.h"
#include "parse.h"

/* Whether a new flow of frontend svc to backend be is source-NATed. */
static __always_inline int xlb_snat_wanted(const struct xlb_svc *svc,
					   const struct xlb_backend *be)
{
	if (!xlb_cfg.snat_port_min)
		return 0;
	if (svc->flags & XLB_SVC_F_SNAT_ALL)
		return 1;
	return (svc->flags & XLB_SVC_F_SNAT_REMOTE) &&
	       !(be->flags & XLB_BE_F_LOCAL);
}

static __always_inline int xlb_addr_zero(const union xlb_addr *a)
{
	return !(a->v6[0] | a->v6[1] | a->v6[2] | a->v6[3]);
}

/* The node's address of p's family on the interface with that ifindex,
 * or NULL. */
static __always_inline const union xlb_addr *
xlb_snat_addr_of(__u32 ifindex, __u8 family)
{
	const struct xlb_snat_addrs *a;
	const union xlb_addr *src;

	a = bpf_map_lookup_elem(&xlb_snat_addrs, &ifindex);
	if (!a)
		return NULL;
	src = family == XLB_AF_INET ? &a->v4 : &a->v6;
	return xlb_addr_zero(src) ? NULL : src;
}

/*
 * The source of p's new flow to be, into *out: the node's address on the
 * interface bpf_fib_lookup gives towards the backend (from ingress
 * *ifindex, which becomes that interface, or 0 when the lookup fails),
 * else the node's default one. Returns 0, or -1 without an address of the
 * family. Also the outer source of a DSR flow (dsr.h). A subprogram: the
 * lookup's parameters stay off the callers' stack.
 */
XLB_SUBPROG int xlb_snat_source(void *ctx, const struct xlb_pkt *p,
				const struct xlb_backend *be, __u32 *ifindex,
				union xlb_addr *out)
{
	struct bpf_fib_lookup fib = {};
	const union xlb_addr *src = NULL;
	int rc;

	fib.ifindex = *ifindex;
	*ifindex = 0;
	fib.l4_protocol = p->proto;
	fib.sport = p->sport;
	fib.dport = be->port;
	if (p->family == XLB_AF_INET) {
		fib.family = XLB_AF_INET_KERNEL;
		fib.ipv4_src = p->saddr.v4;
		fib.ipv4_dst = be->addr.v4;
	} else {
		fib.family = XLB_AF_INET6_KERNEL;
		__builtin_memcpy(fib.ipv6_src, &p->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &be->addr, 16);
	}
	/* Without a neighbour yet the route, and so the egress, is known. */
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		*ifindex = fib.ifindex;
		src = xlb_snat_addr_of(fib.ifindex, p->family);
	}
	if (!src)
		src = xlb_snat_addr_of(0, p->family);
	if (!src)
		return -1;
	__builtin_memcpy(out, src, 16);
	return 0;
}

/* Whether the reverse entry old is p's own flow's (client address and
 * port), left behind when LRU took its forward entry. */
static __always_inline int xlb_snat_is_of(const struct xlb_ct_val *old,
					  const struct xlb_pkt *p)
{
	return (old->flags & XLB_CT_F_SNAT) && old->snat_port == p->sport &&
	       xlb_addr_eq(&old->snat_addr, &p->saddr);
}

/* Whether a new flow of p may take the reservation old back: its own
 * client's, left when LRU took the client entry; not a closed one for a
 * SYN, which is a new connection reusing the client's port and gets a
 * fresh port (the backend may still hold the old one in TIME_WAIT). */
static __always_inline int xlb_snat_own(const struct xlb_ct_val *old,
					const struct xlb_pkt *p)
{
	if ((old->flags & XLB_CT_F_CLOSED) && p->proto == IPPROTO_TCP &&
	    (p->tcp_flags & 0x12) == 0x02)
		return 0;
	return xlb_snat_is_of(old, p);
}

/* Whether the reservation old belongs to a flow that is over: closed by a
 * FIN or RST, or idle, for long enough (abi.h XLB_SNAT_*_NS). */
static __always_inline int xlb_snat_over(const struct xlb_ct_val *old,
					 __u8 proto, __u64 now)
{
	__u64 age = now - old->last_seen;

	if (old->flags & XLB_CT_F_CLOSED)
		return age > XLB_SNAT_CLOSED_NS;
	return age > (proto == IPPROTO_TCP ? XLB_SNAT_IDLE_TCP_NS :
					     XLB_SNAT_IDLE_UDP_NS);
}

/* The reverse key of a source-NATed flow to be from addr:port. */
static __always_inline void xlb_snat_key(struct xlb_ct_key *k,
					 const struct xlb_pkt *p,
					 const union xlb_addr *be_addr,
					 __be16 be_port,
					 const union xlb_addr *addr,
					 __be16 port)
{
	__builtin_memcpy(&k->saddr, be_addr, 16);
	__builtin_memcpy(&k->daddr, addr, 16);
	k->sport = be_port;
	k->dport = port;
	k->proto = p->proto;
	k->family = p->family;
	k->dir = XLB_CT_REV;
	k->pad = 0;
}

/*
 * Records p's new flow to backend be (id be_id), source-NATed to node
 * address addr: first the port's reservation, the reverse entry of the
 * first of XLB_SNAT_TRIES ports (from a hash of the flow on) that did not
 * exist, was this client's own or a flow's that is over; then the client
 * entry, or with
 * f->ct_taken a forward entry, saying which port it got. Returns 0 with
 * f->snat_port, or -1 when every port tried is taken. The entries are
 * built in xlb_scratch: the call chain down here has no stack left for
 * one more.
 */
XLB_SUBPROG int xlb_snat_insert(const struct xlb_pkt *p,
				const struct xlb_backend *be, __u32 be_id,
				const union xlb_addr *addr,
				struct xlb_flow *f)
{
	__u32 h = xlb_flow_hash(p), end = h + XLB_SNAT_TRIES, zero = 0;
	struct xlb_ct_key k;
	struct xlb_ct_val *v, *old;

	v = bpf_map_lookup_elem(&xlb_scratch, &zero);
	if (!v)
		return -1;
	__builtin_memset(v, 0, sizeof(*v));
	__builtin_memcpy(&v->nat_addr, &p->daddr, 16);
	v->nat_port = p->dport;
	v->flags = XLB_CT_F_SNAT;
	v->backend_id = be_id;
	v->svc_id = be->svc_id;
	v->last_seen = bpf_ktime_get_coarse_ns();
	__builtin_memcpy(&v->snat_addr, &p->saddr, 16);
	v->snat_port = p->sport;
	xlb_snat_key(&k, p, &be->addr, be->port, addr, 0);
	for (; h != end; h++) {
		k.dport = bpf_htons(xlb_cfg.snat_port_min +
				    h % ((__u32)xlb_cfg.snat_port_max -
					 xlb_cfg.snat_port_min + 1));
		if (!bpf_map_update_elem(&xlb_ct, &k, v, BPF_NOEXIST))
			goto reserved;
		old = bpf_map_lookup_elem(&xlb_ct, &k);
		if (old &&
		    (xlb_snat_own(old, p) ||
		     xlb_snat_over(old, p->proto, v->last_seen)) &&
		    !bpf_map_update_elem(&xlb_ct, &k, v, BPF_ANY))
			goto reserved;
	}
	return -1;
reserved:
	f->snat_port = k.dport;
	/* The client's packets: they leave from addr and that port. */
	xlb_ct_client_side(&k, v, p, be, f->ct_taken);
	__builtin_memcpy(&v->snat_addr, addr, 16);
	v->snat_port = f->snat_port;
	return bpf_map_update_elem(&xlb_ct, &k, v, BPF_ANY) ? -1 : 0;
}

/* The flow of entry ct (source-NATed, to be) still holds its port: its
 * reverse entry is there and names p's client. The client's packets keep
 * it alive too (a one-way flow has no replies), and a FIN or RST marks
 * it. */
XLB_SUBPROG int xlb_snat_held(const struct xlb_pkt *p,
			      const struct xlb_ct_val *ct,
			      const struct xlb_backend *be)
{
	struct xlb_ct_key k;
	struct xlb_ct_val *rev;

	xlb_snat_key(&k, p, &be->addr, be->port, &ct->snat_addr,
		     ct->snat_port);
	rev = bpf_map_lookup_elem(&xlb_ct, &k);
	if (!rev || !xlb_snat_is_of(rev, p))
		return 0;
	xlb_ct_touch(rev);
	xlb_ct_mark_closed(rev, p);
	return 1;
}

#endif /* XLB_BPF_SNAT_H */
