/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: the packet work of direct server return (dsr.h says
 * when), written once against the hook's ctx header: the outer header a
 * DSR packet gets on the first node and loses on its backend's, the MTU
 * check, and the MSS option of a DSR flow's SYN-ACK.
 *
 * The outer IPv4 header is a plain 20 bytes, DF set (never fragmented on
 * the way: the backend's node could not put fragments together), its
 * checksum computed here; the IPv6 one carries a flow label hashed from
 * the inner flow (ECMP spreads flows, keeps each on one path). Both copy
 * the inner traffic class (DSCP and ECN) and start with 64 hops.
 */
#ifndef XLB_BPF_ENCAP_H
#define XLB_BPF_ENCAP_H

#ifndef XLB_CTX_HOOK
#error "include lib/ctx_xdp.h or lib/ctx_tc.h before lib/encap.h"
#endif

#include "common.h"
#include "conntrack.h"
#include "csum.h"
#include "maglev.h"
#include "nat.h"
#include "parse.h"

/* TCP options walked before giving up on finding MSS. */
#define XLB_TCP_OPT_MAX		12
#define XLB_TCPOPT_MSS		2

union xlb_outer {
	struct iphdr ip;
	struct ipv6hdr ip6;
};

/* The outer header of p (inner, at l3_off, first 8 bytes in in) from
 * n->addr2 to n->addr. */
static __always_inline void xlb_outer_build(union xlb_outer *o,
					    const struct xlb_pkt *p,
					    const struct xlb_nat *n,
					    const __u8 *in)
{
	__u64 sum = 0;
	__u16 *w = (__u16 *)&o->ip;
	int i;

	if (p->family == XLB_AF_INET) {
		o->ip.version = 4;
		o->ip.ihl = 5;
		o->ip.tos = in[1];
		/* The inner tot_len, plus this header. */
		o->ip.tot_len = bpf_htons(((in[2] << 8) | in[3]) +
					  XLB_DSR_ROOM4);
		o->ip.frag_off = bpf_htons(0x4000);	/* DF */
		o->ip.ttl = 64;
		o->ip.protocol = IPPROTO_IPIP;
		o->ip.saddr = n->addr2.v4;
		o->ip.daddr = n->addr.v4;
#pragma unroll
		for (i = 0; i < 10; i++)
			sum += w[i];
		o->ip.check = ~xlb_csum_fold(sum);
		return;
	}
	/* Version 6, the inner traffic class, the flow label. */
	((__be32 *)&o->ip6)[0] = bpf_htonl(6u << 28 |
					   ((((in[0] & 0xf) << 4) | in[1] >> 4)
					    << 20) |
					   (xlb_flow_hash(p) & 0xfffff));
	o->ip6.payload_len = bpf_htons(((in[4] << 8) | in[5]) +
				       XLB_DSR_ROOM6);
	o->ip6.nexthdr = IPPROTO_IPV6;
	o->ip6.hop_limit = 64;
	__builtin_memcpy(&o->ip6.saddr, &n->addr2, 16);
	__builtin_memcpy(&o->ip6.daddr, &n->addr, 16);
}

/*
 * Sends p encapsulated (f->dsr XLB_DSR_ENCAP: n->addr the backend, addr2
 * this node) if it fits the egress MTU so; returns the outcome. A
 * subprogram: the header is built on a stack of its own.
 */
XLB_SUBPROG int xlb_dsr_send(struct xlb_ctx *ctx, const struct xlb_pkt *p,
			     const struct xlb_nat *n, const struct xlb_flow *f)
{
	union xlb_outer o = {};
	__u32 room = p->family == XLB_AF_INET ? XLB_DSR_ROOM4 : XLB_DSR_ROOM6;
	__u32 mtu = 0;
	__u8 in[8];

	/* The interface the flow's first packet was routed to (0: this
	 * one's, when that lookup failed). A GSO packet is checked by its
	 * segments. */
	if (bpf_check_mtu(ctx, f->ifindex, &mtu, room, 0) ==
	    BPF_MTU_CHK_RET_FRAG_NEEDED)
		return XLB_STAT_DSR_TOO_BIG;
	if (xlb_ctx_load_bytes(ctx, p->l3_off & XLB_OFF_MASK, in, sizeof(in)))
		return XLB_STAT_NAT_ERR;
	xlb_outer_build(&o, p, n, in);
	if (xlb_ctx_encap(ctx, &o, p->family == XLB_AF_INET))
		return XLB_STAT_NAT_ERR;
	return XLB_STAT_DSR_ENCAP;
}

/* A DSR packet to a local backend: its outer header goes (p, inner,
 * follows it). A subprogram: XDP moves the MAC header through a stack
 * of its own. */
XLB_SUBPROG int xlb_dsr_strip(struct xlb_ctx *ctx, struct xlb_pkt *p)
{
	__u32 room = (p->l3_off - ETH_HLEN) & 0x3f;

	if (room < XLB_DSR_ROOM4 || xlb_ctx_decap(ctx, room))
		return -1;
	p->l3_off -= room;
	p->l4_off -= room;
	p->csum_off -= room;
	return 0;
}

/*
 * A TCP segment's MSS option lowered to max (host order), its checksum
 * updated (a partial one is left alone, by the tc helper: the option is
 * payload to it). Returns 1 when lowered, else 0.
 */
XLB_SUBPROG int xlb_mss_clamp(struct xlb_ctx *ctx, __u32 l4_off,
			      __u32 csum_off, __u32 max)
{
	__u8 b[4] = {}, nb[4];
	__u32 off, end, w, i;
	__u16 mss;

	if (xlb_ctx_load_bytes(ctx, (l4_off + 12) & XLB_OFF_MASK, b, 1))
		return 0;
	end = l4_off + (b[0] >> 4) * 4;
	off = l4_off + sizeof(struct tcphdr);
	for (i = 0; i < XLB_TCP_OPT_MAX; i++) {
		if (off + 4 > end ||
		    xlb_ctx_load_bytes(ctx, off & XLB_OFF_MASK, b, 2))
			return 0;
		if (b[0] == 0)		/* end of options */
			return 0;
		if (b[0] == 1) {	/* no-op */
			off++;
			continue;
		}
		if (b[0] == XLB_TCPOPT_MSS)
			break;
		if (b[1] < 2)
			return 0;
		off += b[1];
	}
	if (i == XLB_TCP_OPT_MAX || b[1] != 4)
		return 0;
	/* The checksum sums 16-bit words from the TCP header's start (an
	 * even offset): the two words holding the value, which starts at
	 * byte i of them, inside the option and the header either way. */
	w = (off + 1) & ~1u;
	i = off & 1 ? 1 : 2;
	if (xlb_ctx_load_bytes(ctx, w & XLB_OFF_MASK, b, 4))
		return 0;
	__builtin_memcpy(nb, b, 4);
	mss = ((__u16)b[i] << 8) | b[i + 1];
	if (mss <= max)
		return 0;
	nb[i] = max >> 8;
	nb[i + 1] = max & 0xff;
	if (xlb_ctx_csum_replace(ctx, csum_off & XLB_OFF_MASK, *(__be32 *)b,
				 *(__be32 *)nb) ||
	    xlb_ctx_store_bytes(ctx, w & XLB_OFF_MASK, nb, 4))
		return 0;
	return 1;
}

#endif /* XLB_BPF_ENCAP_H */
