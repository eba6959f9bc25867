/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: the decisions of direct server return
 * (XLB_SVC_F_DSR; README, "Direct server return"). The packet work, the
 * outer header and the MSS option, is encap.h's.
 *
 * On the node a client's packet enters (the first node), a flow to a
 * backend on another node is carried to that backend's own address in an
 * IPIP (IPv4) or IPv6-in-IPv6 packet from this node's address, the
 * client's packet inside unchanged: no source NAT, and no table of node
 * addresses (a routed pod network routes the backend's address to its
 * node). Its conntrack entry says so (XLB_CT_F_DSR) and keeps the outer
 * source and the egress, so its later packets go the same way.
 *
 * On the backend's node, a packet of that shape whose inner packet is to
 * a DSR frontend, and whose outer destination is the local backend this
 * node picks for the inner flow, loses its outer header and is DNATed as
 * if it came straight from the client. The pick is the same as the
 * first node's: for a Cluster policy both nodes hold the same ring of
 * the same backends, hashed alike (XLB_HASH_SEED). A pick of another
 * backend (the nodes' rings differ for a moment while a backend comes or
 * goes, or session affinity remembered another one here) is a drop,
 * counted dsr_mismatch: DNATing to the outer destination instead would
 * need its port, which only the service's backend entry holds. Its
 * conntrack entry (XLB_CT_F_DSR_LOCAL) turns the backend's replies back
 * into frontend -> client here; they leave this node straight to the
 * client, never through the first one.
 */
#ifndef XLB_BPF_DSR_H
#define XLB_BPF_DSR_H

#include "common.h"
#include "conntrack.h"
#include "nat.h"
#include "parse.h"

/* Whether p's new flow of frontend svc to backend be goes by DSR. A
 * fragment's followers could not be: they are never encapsulated. */
static __always_inline int xlb_dsr_wanted(const struct xlb_pkt *p,
					  const struct xlb_svc *svc,
					  const struct xlb_backend *be,
					  const struct xlb_flow *f)
{
	return (svc->flags & XLB_SVC_F_DSR) && !(be->flags & XLB_BE_F_LOCAL) &&
	       f->dsr == XLB_DSR_NONE && !p->frag && !p->vlans;
}

/* A tracked DSR flow (entry ct): sent on the way its entry says. */
static __always_inline void xlb_dsr_keep(const struct xlb_pkt *p,
					 const struct xlb_ct_val *ct,
					 struct xlb_nat *n, struct xlb_flow *f)
{
	if (!(ct->flags & XLB_CT_F_DSR) || f->dsr != XLB_DSR_NONE || p->frag)
		return;
	f->dsr = XLB_DSR_ENCAP;
	f->ifindex = ct->dsr_ifindex;
	__builtin_memcpy(&n->addr2, &ct->dsr_src, 16);
}

/*
 * An IPIP or IPv6-in-IPv6 packet p (XLB_PARSED_TUNNEL): p becomes its
 * inner packet, f->dsr XLB_DSR_DECAP, and f->dsr_mss the largest MSS
 * whose segments fit the ingress MTU once encapsulated as this one is.
 * Returns 0, or -1 when the inner packet is no whole TCP or UDP one: not
 * DSR then.
 */
XLB_SUBPROG int xlb_dsr_inner(void *ctx, void *data, void *data_end,
			      struct xlb_pkt *p, struct xlb_flow *f)
{
	__u32 mtu = 0;
	__u32 hdrs;

	if (xlb_parse_inner(data, data_end, p) || p->frag)
		return -1;
	f->dsr = XLB_DSR_DECAP;
	/* The outer header, the inner IP header (without options: a SYN-ACK
	 * leaves with none) and TCP's. */
	hdrs = p->l3_off - ETH_HLEN + (p->family == XLB_AF_INET ? 40 : 60);
	if (bpf_check_mtu(ctx, 0, &mtu, 0, 0) < 0 || mtu <= hdrs + 536)
		mtu = hdrs + 536;	/* RFC 9293's default MSS at least */
	f->dsr_mss = mtu - hdrs > 0xffff ? 0xffff : mtu - hdrs;
	return 0;
}

/*
 * The frontend of a DSR packet to another node's NodePort (p, inner, to
 * that node's address): this node's NodePort frontend of the same port
 * and protocol, on its default address (xlb_snat_addrs key 0), if it
 * takes DSR. The flow is then hashed and picked as on that node, and
 * answered from that node's address, which the client sent to.
 */
XLB_SUBPROG const struct xlb_svc *xlb_dsr_node_port(const struct xlb_pkt *p)
{
	const struct xlb_snat_addrs *a;
	const struct xlb_svc *svc;
	struct xlb_vip_key vk = {};
	__u32 zero = 0;

	a = bpf_map_lookup_elem(&xlb_snat_addrs, &zero);
	if (!a)
		return NULL;
	__builtin_memcpy(&vk.addr, p->family == XLB_AF_INET ? &a->v4 : &a->v6,
			 16);
	vk.port = p->dport;
	vk.proto = p->proto;
	vk.family = p->family;
	svc = bpf_map_lookup_elem(&xlb_svc, &vk);
	if (!svc || (svc->flags & XLB_FE_KIND_MASK) != XLB_FE_NODE_PORT ||
	    !(svc->flags & XLB_SVC_F_DSR))
		return NULL;
	return svc;
}

/* What became of a DSR packet the decision gave outcome rc (the inner
 * packet's): decapsulated when DNATed to the outer destination; dropped
 * as dsr_mismatch when this node would give its flow another backend or
 * none; not DSR (passed) when to no DSR frontend. Others: rc itself. */
static __always_inline int xlb_dsr_verdict(int rc, const struct xlb_nat *n,
					   const struct xlb_flow *f)
{
	if (f->dsr != XLB_DSR_DECAP)
		return rc;
	if (!rc)
		return XLB_STAT_UNSUPPORTED;
	if (rc == XLB_STAT_DNAT && xlb_addr_eq(&n->addr, &n->addr2))
		return XLB_STAT_DSR_DECAP;
	return rc == XLB_STAT_SRC_DENIED ? rc : XLB_STAT_DSR_MISMATCH;
}

#endif /* XLB_BPF_DSR_H */
