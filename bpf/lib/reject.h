/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: telling a client at once that a service has no usable
 * backend, as a kernel with no listener would: a TCP RST for a TCP
 * segment, an ICMP / ICMPv6 port unreachable for a UDP datagram. The
 * reply is built in place and sent back out of the interface the packet
 * came in on (XDP_TX, or a tc redirect to the same device's egress).
 *
 * Only plain headers are answered (no VLAN tag, no IPv4 options, no IPv6
 * extension header, no TCP payload); anything else is dropped, as before.
 *
 * The RST keeps the segment's own TCP options and length and changes
 * sequence numbers and flags with incremental checksum updates, one way
 * per hook: XDP writes the frame and the checksum directly (complete off
 * the wire); tc goes through the helpers, which leave a locally sent
 * skb's partial checksum alone where the device will cover the change.
 * The ICMP error is new bytes with checksums computed in full, so one
 * function serves both hooks through their ctx header (ctx_xdp.h,
 * ctx_tc.h, included first).
 */
#ifndef XLB_BPF_REJECT_H
#define XLB_BPF_REJECT_H

#ifndef XLB_CTX_HOOK
#error "include lib/ctx_xdp.h or lib/ctx_tc.h before lib/reject.h"
#endif

#include "common.h"
#include "csum.h"
#include "parse.h"

#define XLB_ICMP_DEST_UNREACH	3
#define XLB_ICMP_PORT_UNREACH	3
#define XLB_ICMP6_DST_UNREACH	1
#define XLB_ICMP6_PORT_UNREACH	4
#define XLB_REPLY_TTL		64

/* The answer the reply needs from the segment it answers. */
struct xlb_rst {
	__be32 seq, ack;	/* new sequence and acknowledgment numbers */
	__be32 word3;		/* doff, flags, window (bytes 12-15) */
};

/* RFC 793: with an ACK, the reset takes its sequence number from it;
 * without, it acknowledges the segment (SYN and FIN count one each). */
static __always_inline int xlb_rst_of(const struct tcphdr *th, __u32 len,
				      struct xlb_rst *r)
{
	__u8 flags = ((const __u8 *)th)[13];
	__u8 doff = ((const __u8 *)th)[12];

	if (len != (__u32)th->doff * 4)
		return -1; /* a segment with payload: not answered */
	if (flags & 0x04)
		return -1; /* never answer a reset */
	if (flags & 0x10) {
		r->seq = th->ack_seq;
		r->ack = 0;
		flags = 0x04;
	} else {
		r->seq = 0;
		r->ack = bpf_htonl(bpf_ntohl(th->seq) + !!(flags & 0x02) +
				   !!(flags & 0x01));
		flags = 0x14;
	}
	/* doff unchanged, flags, window 0 */
	r->word3 = bpf_htonl((__u32)doff << 24 | (__u32)flags << 16);
	return 0;
}

static __always_inline void xlb_swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* Turns the segment at l3/l4 into its reset, updating the checksum
 * field by deltas (XDP: complete checksums). */
XLB_SUBPROG int xlb_reject_tcp_xdp(struct xdp_md *ctx,
					      const struct xlb_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3 = p->l3_off & XLB_OFF_MASK, l4 = p->l4_off & XLB_OFF_MASK;
	struct ethhdr *eth = data;
	struct tcphdr *th = data + l4;
	struct xlb_rst r;
	__be32 *w, tmp;
	__u64 delta;
	__u32 seglen;

	if ((void *)(eth + 1) > data_end || (void *)(th + 1) > data_end)
		return -1;
	seglen = data_end - (void *)th;
	if (p->family == XLB_AF_INET) {
		struct iphdr *iph = data + l3;
		__u16 *ttlw, old;

		if ((void *)(iph + 1) > data_end)
			return -1;
		seglen = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
		if (xlb_rst_of(th, seglen, &r))
			return -1;
		tmp = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = tmp;
		ttlw = (void *)&iph->ttl;
		old = *ttlw;
		iph->ttl = XLB_REPLY_TTL;
		iph->check = xlb_csum_apply(iph->check,
					    xlb_csum_delta16(old, *ttlw));
	} else {
		struct ipv6hdr *ip6h = data + l3;
		struct in6_addr a;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		seglen = bpf_ntohs(ip6h->payload_len) - (l4 - l3 - 40);
		if (xlb_rst_of(th, seglen, &r))
			return -1;
		a = ip6h->saddr;
		ip6h->saddr = ip6h->daddr;
		ip6h->daddr = a;
		ip6h->hop_limit = XLB_REPLY_TTL;
	}
	/* Swapping addresses and ports leaves the checksum as it is. */
	tmp = th->source;
	th->source = th->dest;
	th->dest = tmp;
	w = (__be32 *)th;
	delta = xlb_csum_delta32(w[1], r.seq) + xlb_csum_delta32(w[2], r.ack) +
		xlb_csum_delta32(w[3], r.word3) +
		xlb_csum_delta16(th->urg_ptr, 0);
	w[1] = r.seq;
	w[2] = r.ack;
	w[3] = r.word3;
	th->urg_ptr = 0;
	th->check = xlb_csum_apply(th->check, delta);
	xlb_swap_mac(eth);
	return 0;
}

/* The same through the skb helpers, which know about partial checksums. */
XLB_SUBPROG int xlb_reject_tcp_tc(struct __sk_buff *skb,
					     const struct xlb_pkt *p)
{
	__u32 l3 = p->l3_off, l4 = p->l4_off, csum = l4 + 16, seglen, i;
	__u8 hdr[12], ttl = XLB_REPLY_TTL;
	struct tcphdr th;
	struct xlb_rst r;
	__be32 old[3], nw[3];
	__be16 ports[2];
	__u16 oldttl;

	if (bpf_skb_load_bytes(skb, l4, &th, sizeof(th)))
		return -1;
	if (p->family == XLB_AF_INET) {
		struct iphdr iph;

		if (bpf_skb_load_bytes(skb, l3, &iph, sizeof(iph)))
			return -1;
		seglen = bpf_ntohs(iph.tot_len) - iph.ihl * 4;
		if (xlb_rst_of(&th, seglen, &r))
			return -1;
		/* addresses swapped: same sum */
		if (bpf_skb_store_bytes(skb, l3 + 12, &iph.daddr, 4, 0) ||
		    bpf_skb_store_bytes(skb, l3 + 16, &iph.saddr, 4, 0))
			return -1;
		oldttl = *(__u16 *)&iph.ttl;
		iph.ttl = ttl;
		if (bpf_l3_csum_replace(skb, l3 + 10, oldttl,
					*(__u16 *)&iph.ttl, 2) ||
		    bpf_skb_store_bytes(skb, l3 + 8, &ttl, 1, 0))
			return -1;
	} else {
		struct ipv6hdr ip6h;

		if (bpf_skb_load_bytes(skb, l3, &ip6h, sizeof(ip6h)))
			return -1;
		seglen = bpf_ntohs(ip6h.payload_len) - (l4 - l3 - 40);
		if (xlb_rst_of(&th, seglen, &r))
			return -1;
		if (bpf_skb_store_bytes(skb, l3 + 8, &ip6h.daddr, 16, 0) ||
		    bpf_skb_store_bytes(skb, l3 + 24, &ip6h.saddr, 16, 0) ||
		    bpf_skb_store_bytes(skb, l3 + 7, &ttl, 1, 0))
			return -1;
	}
	ports[0] = th.dest;
	ports[1] = th.source;
	if (bpf_skb_store_bytes(skb, l4, ports, 4, 0))
		return -1;
	old[0] = th.seq;
	old[1] = th.ack_seq;
	old[2] = ((__be32 *)&th)[3];
	nw[0] = r.seq;
	nw[1] = r.ack;
	nw[2] = r.word3;
#pragma unroll
	for (i = 0; i < 3; i++) {
		if (bpf_l4_csum_replace(skb, csum, old[i], nw[i], 4) ||
		    bpf_skb_store_bytes(skb, l4 + 4 + 4 * i, &nw[i], 4, 0))
			return -1;
	}
	if (th.urg_ptr) {
		__u16 z = 0;

		if (bpf_l4_csum_replace(skb, csum, th.urg_ptr, 0, 2) ||
		    bpf_skb_store_bytes(skb, l4 + 18, &z, 2, 0))
			return -1;
	}
	if (bpf_skb_load_bytes(skb, 0, hdr, 12))
		return -1;
	if (bpf_skb_store_bytes(skb, 0, hdr + 6, 6, 0) ||
	    bpf_skb_store_bytes(skb, 6, hdr, 6, 0))
		return -1;
	return 0;
}

/* Sum of n bytes (n a multiple of 4, bounded) for a checksum. */
static __always_inline __u32 xlb_sum_words(const void *p, __u32 n)
{
	const __u16 *w = p;
	__u32 sum = 0, i;

	for (i = 0; i < 56 / 2; i++) {
		if (i >= n / 2)
			break;
		sum += w[i];
	}
	return sum;
}

/* The ICMP error's headers, written over bytes [l2, l2 + hl) of a
 * buffer that already holds the quote right after them. */
struct xlb_icmp_hdrs {
	union {
		struct {
			struct iphdr ip;
			__u8 icmp[8];
		} v4;
		struct {
			struct ipv6hdr ip;
			__u8 icmp[8];
		} v6;
	};
};

/* Builds the ICMP headers for a datagram to p; quote holds the quoted
 * bytes (original IP header + 8 bytes), qlen of them. */
static __always_inline __u32 xlb_icmp_build(struct xlb_icmp_hdrs *h,
					    const struct xlb_pkt *p,
					    const void *quote, __u32 qlen)
{
	__u32 sum;

	__builtin_memset(h, 0, sizeof(*h));
	if (p->family == XLB_AF_INET) {
		h->v4.ip.version = 4;
		h->v4.ip.ihl = 5;
		h->v4.ip.tot_len = bpf_htons(20 + 8 + qlen);
		h->v4.ip.ttl = XLB_REPLY_TTL;
		h->v4.ip.protocol = IPPROTO_ICMP;
		h->v4.ip.saddr = p->daddr.v4;
		h->v4.ip.daddr = p->saddr.v4;
		h->v4.ip.check = ~xlb_csum_fold(xlb_sum_words(&h->v4.ip, 20));
		h->v4.icmp[0] = XLB_ICMP_DEST_UNREACH;
		h->v4.icmp[1] = XLB_ICMP_PORT_UNREACH;
		sum = xlb_sum_words(h->v4.icmp, 8) + xlb_sum_words(quote, qlen);
		*(__u16 *)&h->v4.icmp[2] = ~xlb_csum_fold(sum);
		return sizeof(h->v4);
	}
	h->v6.ip.version = 6;
	h->v6.ip.payload_len = bpf_htons(8 + qlen);
	h->v6.ip.nexthdr = IPPROTO_ICMPV6;
	h->v6.ip.hop_limit = XLB_REPLY_TTL;
	__builtin_memcpy(&h->v6.ip.saddr, &p->daddr, 16);
	__builtin_memcpy(&h->v6.ip.daddr, &p->saddr, 16);
	h->v6.icmp[0] = XLB_ICMP6_DST_UNREACH;
	h->v6.icmp[1] = XLB_ICMP6_PORT_UNREACH;
	/* pseudo header: addresses, length, next header */
	sum = xlb_sum_words(&h->v6.ip.saddr, 32) +
	      bpf_htons(8 + qlen) + bpf_htons(IPPROTO_ICMPV6) +
	      xlb_sum_words(h->v6.icmp, 8) + xlb_sum_words(quote, qlen);
	*(__u16 *)&h->v6.icmp[2] = ~xlb_csum_fold(sum);
	return sizeof(h->v6);
}

/* Quoted: the original IP header and the 8-byte UDP header; as it
 * happens, as long as the new IP and ICMP headers put in front of it. */
static __always_inline __u32 xlb_quote_len(const struct xlb_pkt *p)
{
	return p->family == XLB_AF_INET ? 20 + 8 : 40 + 8;
}

static __always_inline int xlb_udp_plain(const struct xlb_pkt *p)
{
	return !p->vlans && p->l3_off == ETH_HLEN &&
	       p->l4_off == ETH_HLEN + (p->family == XLB_AF_INET ? 20 : 40);
}

/*
 * A UDP datagram to a service without a backend: its ICMP port
 * unreachable, built over it in place. One function for both hooks: the
 * ICMP error is new bytes with checksums computed in full, whatever the
 * datagram's were; only a partial checksum in tc changes what is quoted.
 */
XLB_SUBPROG int xlb_reject_udp(struct xlb_ctx *ctx, const struct xlb_pkt *p)
{
	__u32 qlen = xlb_quote_len(p), i;
	struct xlb_icmp_hdrs h;
	struct ethhdr eth;
	__u8 quote[48], sumq[48];
	const void *sq = quote;
	int partial, kept;

	if (!xlb_udp_plain(p))
		return -1;
	if (xlb_ctx_load_bytes(ctx, 0, &eth, ETH_HLEN))
		return -1;
	if (p->family == XLB_AF_INET) {
		if (xlb_ctx_load_bytes(ctx, ETH_HLEN, quote, 28))
			return -1;
	} else {
		if (xlb_ctx_load_bytes(ctx, ETH_HLEN, quote, 48))
			return -1;
	}
	partial = xlb_ctx_csum_partial(ctx, p->csum_off);
	if (partial < 0)
		return -1;
	/* Room for the new IP and ICMP headers, then nothing after the
	 * quote. Where the hook puts the room does not matter: the quote is
	 * written again unless it is still in its place. */
	kept = xlb_ctx_grow(ctx, qlen);
	if (kept < 0)
		return -1;
	/* The ICMP checksum covers the quote as it will leave: with a
	 * partial checksum, its UDP checksum field becomes the fold of the
	 * quoted UDP header's sum (the only bytes from its start to the
	 * end), as the device will compute it. */
	if (partial) {
		__u32 u = qlen - 8, sum = 0;

		__builtin_memcpy(sumq, quote, sizeof(sumq));
		for (i = 0; i < 4; i++)
			sum += ((__u16 *)(sumq + u))[i];
		((__u16 *)(sumq + u))[3] = ~xlb_csum_fold(sum);
		sq = sumq;
	}
	xlb_icmp_build(&h, p, sq, qlen);
	if (p->family == XLB_AF_INET) {
		if (xlb_ctx_store_bytes(ctx, ETH_HLEN, &h.v4, 28))
			return -1;
		if (!kept &&
		    xlb_ctx_store_bytes(ctx, ETH_HLEN + 28, quote, 28))
			return -1;
	} else {
		if (xlb_ctx_store_bytes(ctx, ETH_HLEN, &h.v6, 48))
			return -1;
		if (!kept &&
		    xlb_ctx_store_bytes(ctx, ETH_HLEN + 48, quote, 48))
			return -1;
	}
	xlb_swap_mac(&eth);
	return xlb_ctx_store_bytes(ctx, 0, &eth, ETH_HLEN);
}

#endif /* XLB_BPF_REJECT_H */
