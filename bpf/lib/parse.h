/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: packet parsing through a cursor.
 *
 * Ethernet with up to two VLAN tags, IPv4 with options, IPv6 with its
 * extension headers walked to a fixed bound, then TCP or UDP. Every access
 * is bounds-checked; anything not fully understood returns a negative
 * reason and is passed through untouched.
 */
#ifndef XLB_BPF_PARSE_H
#define XLB_BPF_PARSE_H

#include "common.h"

#define XLB_MAX_VLAN		2
#define XLB_MAX_EXTHDR		6

#ifndef IP_MF
#define IP_MF			0x2000
#define IP_OFFSET		0x1fff
#endif

/* xlb_parse's answer for an ICMP or ICMPv6 packet (l4_off set). */
#define XLB_PARSED_ICMP 1
/* xlb_parse's answer for a whole IPIP packet (IPv4 in IPv4) or IPv6 in
 * IPv6 without VLAN tags: maybe DSR (dsr.h); l4_off is the inner
 * header's offset, xlb_parse_inner() reads on. */
#define XLB_PARSED_TUNNEL 2

/* What the parser found: the 5-tuple and where its fields live. */
struct xlb_pkt {
	union xlb_addr saddr;
	union xlb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 vlans;		/* VLAN tags seen */
	__u8 tcp_flags;		/* flags byte of TCP (SYN, ACK, ...) */
	__u16 l3_off;		/* offset of the IP header */
	__u16 l4_off;		/* offset of the TCP/UDP header */
	__u16 csum_off;		/* offset of the L4 checksum field */
	__u8 frag;		/* XLB_FRAG_* */
	__u8 pad;
	__u32 frag_id;		/* identification of a fragmented datagram */
};

enum {
	XLB_FRAG_NONE = 0,
	XLB_FRAG_FIRST = 1,	/* offset 0, more to come: has the ports */
	XLB_FRAG_LATER = 2,	/* no L4 header: follows the first */
};

struct xlb_cursor {
	void *pos;
	void *end;
};

/* Ethernet and VLAN tags: returns the inner ethertype or a reason. */
static __always_inline int xlb_parse_eth(struct xlb_cursor *c,
					 struct xlb_pkt *p)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return -XLB_E_PARSE;
	c->pos = eth + 1;
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < XLB_MAX_VLAN; i++) {
		struct vlan_tag {
			__be16 tci;
			__be16 proto;
		} *vh = c->pos;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > c->end)
			return -XLB_E_PARSE;
		proto = vh->proto;
		c->pos = vh + 1;
		p->vlans++;
	}
	return proto;
}

static __always_inline int xlb_parse_ipv4(struct xlb_cursor *c,
					  struct xlb_pkt *p, void *data)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > c->end)
		return -XLB_E_PARSE;
	if (iph->version != 4)
		return -XLB_E_PARSE;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph))
		return -XLB_E_PARSE;
	if (c->pos + hlen > c->end)
		return -XLB_E_PARSE;
	if (bpf_ntohs(iph->tot_len) < hlen)
		return -XLB_E_PARSE;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		p->frag = iph->frag_off & bpf_htons(IP_OFFSET) ?
				  XLB_FRAG_LATER : XLB_FRAG_FIRST;
		p->frag_id = iph->id;
	}
	p->family = XLB_AF_INET;
	p->proto = iph->protocol;
	p->saddr.v4 = iph->saddr;
	p->daddr.v4 = iph->daddr;
	p->l3_off = (void *)iph - data;
	c->pos += hlen;
	return iph->protocol;
}

static __always_inline int xlb_parse_ipv6(struct xlb_cursor *c,
					  struct xlb_pkt *p, void *data)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6h + 1) > c->end)
		return -XLB_E_PARSE;
	if (ip6h->version != 6)
		return -XLB_E_PARSE;
	p->family = XLB_AF_INET6;
	__builtin_memcpy(&p->saddr, &ip6h->saddr, 16);
	__builtin_memcpy(&p->daddr, &ip6h->daddr, 16);
	p->l3_off = (void *)ip6h - data;
	c->pos = ip6h + 1;
	nexthdr = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < XLB_MAX_EXTHDR; i++) {
		struct ipv6_opt_hdr *oh = c->pos;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(oh + 1) > c->end)
				return -XLB_E_PARSE;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(oh + 1) > c->end)
				return -XLB_E_PARSE;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT: {
			struct {
				__u8 nexthdr, reserved;
				__be16 frag_off;	/* offset << 3 | M */
				__be32 id;
			} *fh = c->pos;

			if ((void *)(fh + 1) > c->end)
				return -XLB_E_PARSE;
			nexthdr = fh->nexthdr;
			c->pos = fh + 1;
			if (!(fh->frag_off & bpf_htons(0xfff9)))
				break; /* an atomic fragment: whole */
			p->frag_id = fh->id;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->frag = XLB_FRAG_LATER;
				goto done;
			}
			p->frag = XLB_FRAG_FIRST;
			break;
		}
		default:
			goto done;
		}
	}
	/* The loop consumed XLB_MAX_EXTHDR headers without looking at what
	 * follows the last one: still an extension header is past the bound,
	 * anything else is the upper layer. */
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_FRAGMENT:
		return -XLB_E_UNSUPPORTED;
	}
done:
	p->proto = nexthdr;
	return nexthdr;
}

/* IP at the cursor (ethertype proto), then TCP or UDP: fills p. */
static __always_inline int xlb_parse_ip(struct xlb_cursor *c,
					struct xlb_pkt *p, void *data, int proto)
{
	if (proto == bpf_htons(ETH_P_IP))
		proto = xlb_parse_ipv4(c, p, data);
	else if (proto == bpf_htons(ETH_P_IPV6))
		proto = xlb_parse_ipv6(c, p, data);
	else
		return -XLB_E_UNSUPPORTED;
	if (proto < 0)
		return proto;
	if (p->frag == XLB_FRAG_LATER) {
		/* No L4 header: xlb_frags says what the first one got. */
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
			return -XLB_E_UNSUPPORTED;
		p->l4_off = c->pos - data;
		return 0;
	}

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;

		if ((void *)(th + 1) > c->end)
			return -XLB_E_PARSE;
		if (th->doff < 5)
			return -XLB_E_PARSE;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->csum_off = (void *)&th->check - data;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = c->pos;

		if ((void *)(uh + 1) > c->end)
			return -XLB_E_PARSE;
		p->sport = uh->source;
		p->dport = uh->dest;
		p->csum_off = (void *)&uh->check - data;
	} else if (proto == IPPROTO_ICMP || proto == 58 /* ICMPv6 */) {
		p->l4_off = c->pos - data;
		return XLB_PARSED_ICMP;
	} else if (!p->frag && !p->vlans &&
		   proto == (p->family == XLB_AF_INET ? IPPROTO_IPIP :
							IPPROTO_IPV6)) {
		p->l4_off = c->pos - data;
		return XLB_PARSED_TUNNEL;
	} else {
		return -XLB_E_UNSUPPORTED;
	}
	p->l4_off = c->pos - data;
	return 0;
}

/* Fills p with the 5-tuple of a TCP or UDP packet over IPv4 or IPv6. */
static __always_inline int xlb_parse(void *data, void *data_end,
				     struct xlb_pkt *p)
{
	struct xlb_cursor c = { .pos = data, .end = data_end };
	int proto;

	proto = xlb_parse_eth(&c, p);
	if (proto < 0)
		return proto;
	return xlb_parse_ip(&c, p, data, proto);
}

/*
 * After XLB_PARSED_TUNNEL: p becomes the inner packet's (of p's family),
 * offsets still from data. Returns 0 for TCP or UDP, or a reason; a
 * subprogram, so that the handler verifies one parser inline.
 */
XLB_SUBPROG int xlb_parse_inner(void *data, void *data_end,
				struct xlb_pkt *p)
{
	struct xlb_cursor c = { .pos = data, .end = data_end };
	int proto = p->family == XLB_AF_INET ? bpf_htons(ETH_P_IP) :
					       bpf_htons(ETH_P_IPV6);
	int rc;

	c.pos += p->l4_off & XLB_OFF_MASK;
	__builtin_memset(p, 0, sizeof(*p));
	rc = xlb_parse_ip(&c, p, data, proto);
	return rc == XLB_PARSED_ICMP || rc == XLB_PARSED_TUNNEL ?
		       -XLB_E_UNSUPPORTED :
		       rc;
}

#endif /* XLB_BPF_PARSE_H */
