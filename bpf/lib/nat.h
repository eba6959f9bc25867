/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: the address and port rewrite, in two flavours.
 *
 * XDP writes the packet directly and updates checksums incrementally:
 * frames off the wire carry complete checksums. tc goes through the
 * kernel's store/csum_replace helpers: a locally generated skb may be
 * CHECKSUM_PARTIAL, whose L4 field holds only the pseudo-header sum, and
 * only bpf_l4_csum_replace(BPF_F_PSEUDO_HDR) folds an address change into
 * it correctly while leaving the port change to the stack. UDP with a zero
 * checksum (none computed) keeps it zero in both.
 */
#ifndef XLB_BPF_NAT_H
#define XLB_BPF_NAT_H

#include "common.h"
#include "csum.h"
#include "parse.h"

/* Which side of the packet a rewrite changes. */
enum {
	XLB_NAT_DST = 0,	/* DNAT: destination address and port */
	XLB_NAT_SRC = 1,	/* reverse NAT: source address and port */
};

/*
 * The rewrite a decision asks for (what it learnt about the flow besides
 * is struct xlb_flow, conntrack.h). has_addr2 and port2 share their
 * 8-byte stack slot only with the end of addr2, written with them: a byte written into a
 * slot makes the verifier forget all of it, and next to port and side
 * (written by every rewrite) the hairpin branch would be walked on every
 * path (2-4% more verified instructions).
 */
struct xlb_nat {
	union xlb_addr addr;	/* new address */
	__be16 port;		/* new port */
	__u8 side;		/* XLB_NAT_DST or XLB_NAT_SRC */
	__u8 pad;
	union xlb_addr addr2;	/* hairpin, source NAT: the other side's new
				 * address */
	__u8 has_addr2;		/* rewrite addr2 and port2 too */
	__u8 pad2;
	__be16 port2;		/* the other side's new port (hairpin: its
				 * own, unchanged) */
} __attribute__((aligned(8)));

static __always_inline __u32 xlb_addr_off(const struct xlb_pkt *p, __u8 side)
{
	if (p->family == XLB_AF_INET)
		return p->l3_off + (side == XLB_NAT_DST ?
				    offsetof(struct iphdr, daddr) :
				    offsetof(struct iphdr, saddr));
	return p->l3_off + (side == XLB_NAT_DST ?
			    offsetof(struct ipv6hdr, daddr) :
			    offsetof(struct ipv6hdr, saddr));
}

static __always_inline __u32 xlb_port_off(const struct xlb_pkt *p, __u8 side)
{
	/* source and dest are the first two fields of TCP and UDP. */
	return p->l4_off + (side == XLB_NAT_DST ? 2 : 0);
}

/* The address at aoff of a later fragment becomes a. */
static __always_inline int xlb_nat_xdp_l3_one(void *data, void *data_end,
					      const struct xlb_pkt *p,
					      const union xlb_addr *a,
					      __u32 aoff)
{
	__be32 *addr = data + aoff;
	int i;

	if (p->family == XLB_AF_INET) {
		__u32 ioff = (p->l3_off + offsetof(struct iphdr, check)) &
			     XLB_OFF_MASK;
		__u16 *ipsum = data + ioff;

		if ((void *)(addr + 1) > data_end ||
		    (void *)(ipsum + 1) > data_end)
			return -XLB_E_PARSE;
		*ipsum = xlb_csum_apply(*ipsum,
					xlb_csum_delta32(addr[0], a->v4));
		addr[0] = a->v4;
		return 0;
	}
	if ((void *)(addr + 4) > data_end)
		return -XLB_E_PARSE;
#pragma unroll
	for (i = 0; i < 4; i++)
		addr[i] = a->v6[i];
	return 0;
}

/* A later fragment: only its address changes (no L4 header here; the
 * first fragment's L4 checksum already accounts for the whole datagram),
 * and with has_addr2 the other one too. */
static __always_inline int xlb_nat_xdp_l3(void *data, void *data_end,
					  const struct xlb_pkt *p,
					  const struct xlb_nat *n, __u32 aoff)
{
	if (n->has_addr2 &&
	    xlb_nat_xdp_l3_one(data, data_end, p, &n->addr2,
			       xlb_addr_off(p, !n->side) & XLB_OFF_MASK))
		return -XLB_E_PARSE;
	return xlb_nat_xdp_l3_one(data, data_end, p, &n->addr, aoff);
}

static __always_inline int xlb_nat_xdp(void *data, void *data_end,
				       const struct xlb_pkt *p,
				       const struct xlb_nat *n)
{
	__u32 aoff = xlb_addr_off(p, n->side) & XLB_OFF_MASK;
	__u32 poff = xlb_port_off(p, n->side) & XLB_OFF_MASK;
	__u32 coff = p->csum_off & XLB_OFF_MASK;
	__be32 *addr = data + aoff;
	__be16 *port = data + poff;
	__u16 *l4sum = data + coff;
	__u64 delta = 0;
	int i;

	if (p->frag == XLB_FRAG_LATER)
		return xlb_nat_xdp_l3(data, data_end, p, n, aoff);
	/* An IPv4 address is one word: checking four would reject a UDP
	 * packet to a VIP with less than 4 bytes of payload. */
	if ((void *)(addr + 1) > data_end || (void *)(port + 1) > data_end ||
	    (void *)(l4sum + 1) > data_end)
		return -XLB_E_PARSE;

	if (p->family == XLB_AF_INET) {
		__u32 ioff = (p->l3_off + offsetof(struct iphdr, check)) &
			     XLB_OFF_MASK;
		__u16 *ipsum = data + ioff;

		if ((void *)(ipsum + 1) > data_end)
			return -XLB_E_PARSE;
		delta = xlb_csum_delta32(addr[0], n->addr.v4);
		*ipsum = xlb_csum_apply(*ipsum, delta);
		addr[0] = n->addr.v4;
	} else {
		if ((void *)(addr + 4) > data_end)
			return -XLB_E_PARSE;
#pragma unroll
		for (i = 0; i < 4; i++) {
			delta += xlb_csum_delta32(addr[i], n->addr.v6[i]);
			addr[i] = n->addr.v6[i];
		}
	}
	delta += xlb_csum_delta16(*port, n->port);
	*port = n->port;
	if (n->has_addr2) {
		/* Hairpin, source NAT: the other address and port too. */
		__u32 a2off = xlb_addr_off(p, !n->side) & XLB_OFF_MASK;
		__u32 p2off = xlb_port_off(p, !n->side) & XLB_OFF_MASK;
		__be32 *a2 = data + a2off;
		__be16 *port2 = data + p2off;

		if ((void *)(a2 + 4) > data_end ||
		    (void *)(port2 + 1) > data_end)
			return -XLB_E_PARSE;
		delta += xlb_csum_delta16(*port2, n->port2);
		*port2 = n->port2;
		if (p->family == XLB_AF_INET) {
			__u32 ioff = (p->l3_off + offsetof(struct iphdr, check)) &
				     XLB_OFF_MASK;
			__u16 *ipsum = data + ioff;
			__u64 d = xlb_csum_delta32(a2[0], n->addr2.v4);

			if ((void *)(ipsum + 1) > data_end)
				return -XLB_E_PARSE;
			*ipsum = xlb_csum_apply(*ipsum, d);
			delta += d;
			a2[0] = n->addr2.v4;
		} else {
#pragma unroll
			for (i = 0; i < 4; i++) {
				delta += xlb_csum_delta32(a2[i], n->addr2.v6[i]);
				a2[i] = n->addr2.v6[i];
			}
		}
	}

	if (p->proto == IPPROTO_UDP) {
		if (*l4sum == 0)
			return 0; /* no checksum computed: keep none */
		*l4sum = xlb_csum_apply(*l4sum, delta);
		if (*l4sum == 0)
			*l4sum = 0xffff;
	} else {
		*l4sum = xlb_csum_apply(*l4sum, delta);
	}
	return 0;
}

static __always_inline int xlb_nat_tc(struct __sk_buff *skb,
				      const struct xlb_pkt *p,
				      const struct xlb_nat *n)
{
	__u32 aoff = xlb_addr_off(p, n->side);
	__u32 poff = xlb_port_off(p, n->side);
	__u32 l4flags = p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	union xlb_addr old = {};
	__be16 oldport;
	int alen = p->family == XLB_AF_INET ? 4 : 16;

	if (p->family == XLB_AF_INET) {
		if (bpf_skb_load_bytes(skb, aoff, &old.v4, 4))
			return -XLB_E_PARSE;
	} else {
		if (bpf_skb_load_bytes(skb, aoff, &old, 16))
			return -XLB_E_PARSE;
	}
	if (p->frag == XLB_FRAG_LATER) {
		/* A later fragment: only its address changes (and with
		 * has_addr2 the other one). */
		if (p->family == XLB_AF_INET &&
		    bpf_l3_csum_replace(skb, p->l3_off +
					offsetof(struct iphdr, check),
					old.v4, n->addr.v4, 4))
			return -XLB_E_PARSE;
		if (bpf_skb_store_bytes(skb, aoff, &n->addr, alen, 0))
			return -XLB_E_PARSE;
		if (!n->has_addr2)
			return 0;
		aoff = xlb_addr_off(p, !n->side);
		if (bpf_skb_load_bytes(skb, aoff, &old, alen) ||
		    (p->family == XLB_AF_INET &&
		     bpf_l3_csum_replace(skb, p->l3_off +
					 offsetof(struct iphdr, check),
					 old.v4, n->addr2.v4, 4)) ||
		    bpf_skb_store_bytes(skb, aoff, &n->addr2, alen, 0))
			return -XLB_E_PARSE;
		return 0;
	}
	if (bpf_skb_load_bytes(skb, poff, &oldport, 2))
		return -XLB_E_PARSE;

	if (p->family == XLB_AF_INET) {
		if (bpf_l3_csum_replace(skb, p->l3_off +
					offsetof(struct iphdr, check),
					old.v4, n->addr.v4, 4))
			return -XLB_E_PARSE;
		if (bpf_l4_csum_replace(skb, p->csum_off, old.v4, n->addr.v4,
					BPF_F_PSEUDO_HDR | l4flags | 4))
			return -XLB_E_PARSE;
	} else {
		__s64 diff = bpf_csum_diff(old.v6, 16, (__be32 *)n->addr.v6,
					   16, 0);

		if (diff < 0)
			return -XLB_E_PARSE;
		if (bpf_l4_csum_replace(skb, p->csum_off, 0, diff,
					BPF_F_PSEUDO_HDR | l4flags))
			return -XLB_E_PARSE;
	}
	if (bpf_skb_store_bytes(skb, aoff, &n->addr, alen, 0))
		return -XLB_E_PARSE;
	if (bpf_l4_csum_replace(skb, p->csum_off, oldport, n->port,
				l4flags | 2))
		return -XLB_E_PARSE;
	if (bpf_skb_store_bytes(skb, poff, &n->port, 2, 0))
		return -XLB_E_PARSE;
	if (n->has_addr2) {
		/* Hairpin, source NAT: the other address and port too. */
		__u32 a2off = xlb_addr_off(p, !n->side);
		__u32 p2off = xlb_port_off(p, !n->side);

		if (bpf_skb_load_bytes(skb, p2off, &oldport, 2))
			return -XLB_E_PARSE;
		if (oldport != n->port2 &&
		    (bpf_l4_csum_replace(skb, p->csum_off, oldport, n->port2,
					 l4flags | 2) ||
		     bpf_skb_store_bytes(skb, p2off, &n->port2, 2, 0)))
			return -XLB_E_PARSE;

		if (p->family == XLB_AF_INET) {
			if (bpf_skb_load_bytes(skb, a2off, &old.v4, 4) ||
			    bpf_l3_csum_replace(skb, p->l3_off +
						offsetof(struct iphdr, check),
						old.v4, n->addr2.v4, 4) ||
			    bpf_l4_csum_replace(skb, p->csum_off, old.v4,
						n->addr2.v4,
						BPF_F_PSEUDO_HDR | l4flags | 4))
				return -XLB_E_PARSE;
		} else {
			__s64 diff;

			if (bpf_skb_load_bytes(skb, a2off, &old, 16))
				return -XLB_E_PARSE;
			diff = bpf_csum_diff(old.v6, 16,
					     (__be32 *)n->addr2.v6, 16, 0);
			if (diff < 0 ||
			    bpf_l4_csum_replace(skb, p->csum_off, 0, diff,
						BPF_F_PSEUDO_HDR | l4flags))
				return -XLB_E_PARSE;
		}
		if (bpf_skb_store_bytes(skb, a2off, &n->addr2, alen, 0))
			return -XLB_E_PARSE;
	}
	return 0;
}

#endif /* XLB_BPF_NAT_H */
