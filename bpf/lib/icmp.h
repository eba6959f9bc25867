/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: ICMP and ICMPv6 errors about balanced flows.
 *
 * A backend (or a router on its path) that reports an error about one of
 * a client's packets quotes that packet as the backend saw it: client ->
 * backend. The client only knows client -> VIP, so it would drop the error
 * and never learn, for instance, a smaller path MTU. The quoted
 * destination and port are restored to the VIP's, and the outer source
 * too when it is the backend itself, with every checksum that covers them
 * updated: the quoted IP header's, the quoted L4 one when it is there, the
 * ICMP one (and, for ICMPv6, its pseudo header).
 *
 * About a source-NATed flow, the error is addressed to the node and
 * quotes node address:port -> backend: the quoted source and port go back
 * to the client's, and so does the outer destination.
 */
#ifndef XLB_BPF_ICMP_H
#define XLB_BPF_ICMP_H

#include "common.h"
#include "conntrack.h"
#include "csum.h"
#include "maps.h"
#include "parse.h"

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

static __always_inline int xlb_icmp_is_error(__u8 family, __u8 type)
{
	if (family == XLB_AF_INET)
		return type == 3 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* Sum of ~old + new over n 32-bit words. */
static __always_inline __u64 xlb_csum_delta_words(const __be32 *old,
						  const __be32 *new, int n)
{
	__u64 d = 0;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		if (i < n)
			d += xlb_csum_delta32(old[i], new[i]);
	return d;
}

/* The outer source (dst 0) or destination (dst 1) address of p becomes
 * a: the IPv4 header checksum follows; for IPv6 the change is added to
 * *d_icmp (ICMPv6 sums a pseudo header with the outer addresses). */
static __always_inline int xlb_icmp_outer(void *data, void *data_end,
					  const struct xlb_pkt *p, int dst,
					  const union xlb_addr *a,
					  __u64 *d_icmp)
{
	__u32 l3 = p->l3_off & XLB_OFF_MASK;

	if (p->family == XLB_AF_INET) {
		struct iphdr *oh = data + l3;
		__be32 *f;

		if ((void *)(oh + 1) > data_end)
			return -1;
		f = dst ? &oh->daddr : &oh->saddr;
		oh->check = xlb_csum_apply(oh->check,
					   xlb_csum_delta32(*f, a->v4));
		*f = a->v4;
	} else {
		struct ipv6hdr *oh = data + l3;
		__be32 old[4];
		void *f;

		if ((void *)(oh + 1) > data_end)
			return -1;
		f = dst ? (void *)&oh->daddr : (void *)&oh->saddr;
		__builtin_memcpy(old, f, 16);
		*d_icmp += xlb_csum_delta_words(old, a->v6, 4);
		__builtin_memcpy(f, a, 16);
	}
	return 0;
}

/*
 * p: the outer packet (an ICMP error, l4_off at the ICMP header).
 * Returns XLB_STAT_RNAT after rewriting (XLB_STAT_SNAT_RESTORE when the
 * flow was source-NATed), XLB_STAT_PASS if it is about no flow of ours,
 * XLB_STAT_PARSE_ERR if cut short.
 */
XLB_SUBPROG int xlb_icmp_rnat(void *data, void *data_end,
			      const struct xlb_pkt *p)
{
	__u32 l4 = p->l4_off & XLB_OFF_MASK, l3 = p->l3_off & XLB_OFF_MASK;
	__u32 alen = p->family == XLB_AF_INET ? 1 : 4, il4, ihl;
	struct xlb_ct_key k = {};
	struct xlb_ct_val *ct;
	__u8 *icmp = data + l4, iproto, kind;
	__u16 *icsum;
	__be32 *iaddr, *oaddr;
	__be16 *iport;
	__u64 d_icmp = 0, d_ip = 0, d_ports;
	int i, snat;

	if ((void *)(icmp + 8) > data_end)
		return XLB_STAT_PARSE_ERR;
	if (!xlb_icmp_is_error(p->family, icmp[0]))
		return XLB_STAT_PASS;
	icsum = (void *)(icmp + 2);

	/* The quoted packet: client -> backend. */
	if (p->family == XLB_AF_INET) {
		struct iphdr *in = (void *)(icmp + 8);

		if ((void *)(in + 1) > data_end || in->version != 4)
			return XLB_STAT_PARSE_ERR;
		ihl = in->ihl * 4;
		if (ihl < 20)
			return XLB_STAT_PARSE_ERR;
		iproto = in->protocol;
		k.saddr.v4 = in->daddr;
		k.daddr.v4 = in->saddr;
		il4 = l4 + 8 + ihl;
	} else {
		struct ipv6hdr *in = (void *)(icmp + 8);

		if ((void *)(in + 1) > data_end)
			return XLB_STAT_PARSE_ERR;
		iproto = in->nexthdr;
		__builtin_memcpy(&k.saddr, &in->daddr, 16);
		__builtin_memcpy(&k.daddr, &in->saddr, 16);
		il4 = l4 + 8 + 40;
	}
	if (iproto != IPPROTO_TCP && iproto != IPPROTO_UDP)
		return XLB_STAT_PASS;
	il4 &= XLB_OFF_MASK;
	iport = data + il4;
	if ((void *)(iport + 2) > data_end)
		return XLB_STAT_PARSE_ERR;
	/* Its reply would be backend -> client: the reverse entry. */
	k.sport = iport[1];
	k.dport = iport[0];
	k.proto = iproto;
	k.family = p->family;
	k.dir = XLB_CT_REV;
	ct = xlb_ct_reply_lookup(&k, &kind);
	if (!ct)
		return XLB_STAT_PASS;
	snat = !!(ct->flags & XLB_CT_F_SNAT);

	/* Quoted destination address and port: back to the VIP's; and a
	 * source-NATed flow's source back to the client's. */
	if (p->family == XLB_AF_INET) {
		struct iphdr *in = (void *)(icmp + 8);
		__be32 old = in->daddr;
		__u16 oc = in->check;

		if ((void *)(in + 1) > data_end)
			return XLB_STAT_PARSE_ERR;
		d_ip = xlb_csum_delta32(old, ct->nat_addr.v4);
		in->daddr = ct->nat_addr.v4;
		if (snat) {
			d_ip += xlb_csum_delta32(in->saddr, ct->snat_addr.v4);
			in->saddr = ct->snat_addr.v4;
		}
		in->check = xlb_csum_apply(in->check, d_ip);
		d_icmp = d_ip + xlb_csum_delta16(oc, in->check);
	} else {
		struct ipv6hdr *in = (void *)(icmp + 8);
		__be32 old[4];

		if ((void *)(in + 1) > data_end)
			return XLB_STAT_PARSE_ERR;
		__builtin_memcpy(old, &in->daddr, 16);
		d_ip = xlb_csum_delta_words(old, ct->nat_addr.v6, 4);
		__builtin_memcpy(&in->daddr, &ct->nat_addr, 16);
		if (snat) {
			__builtin_memcpy(old, &in->saddr, 16);
			d_ip += xlb_csum_delta_words(old, ct->snat_addr.v6, 4);
			__builtin_memcpy(&in->saddr, &ct->snat_addr, 16);
		}
		d_icmp = d_ip;
	}
	iport = data + il4;
	if ((void *)(iport + 2) > data_end)
		return XLB_STAT_PARSE_ERR;
	d_ports = xlb_csum_delta16(iport[1], ct->nat_port);
	if (snat) {
		d_ports += xlb_csum_delta16(iport[0], ct->snat_port);
		iport[0] = ct->snat_port;
	}
	d_icmp += d_ports;
	{
		__u64 d_l4 = d_ip + d_ports;
		__u32 coff = (il4 + (iproto == IPPROTO_TCP ? 16 : 6)) &
			     XLB_OFF_MASK;
		__u16 *l4c = data + coff;

		iport[1] = ct->nat_port;
		/* The quoted L4 checksum, when quoted and in use. */
		if ((void *)(l4c + 1) <= data_end && *l4c) {
			__u16 oc = *l4c, nc = xlb_csum_apply(oc, d_l4);

			if (iproto == IPPROTO_UDP && !nc)
				nc = 0xffff;
			*l4c = nc;
			d_icmp += xlb_csum_delta16(oc, nc);
		}
	}

	/* The outer destination of a source-NATed flow's error: the node,
	 * back to the client. */
	if (snat &&
	    xlb_icmp_outer(data, data_end, p, 1, &ct->snat_addr, &d_icmp))
		return XLB_STAT_PARSE_ERR;

	/* The outer source, when the backend itself reports. */
	oaddr = data + ((l3 + (p->family == XLB_AF_INET ? 12 : 8)) &
			XLB_OFF_MASK);
	if ((void *)(oaddr + 4) > data_end)
		return XLB_STAT_PARSE_ERR;
	iaddr = (__be32 *)&k.saddr;
	for (i = 0; i < 4; i++)
		if (i < (int)alen && oaddr[i] != iaddr[i])
			goto icmp_sum;
	if (xlb_icmp_outer(data, data_end, p, 0, &ct->nat_addr, &d_icmp))
		return XLB_STAT_PARSE_ERR;
icmp_sum:
	icsum = data + ((l4 + 2) & XLB_OFF_MASK);
	if ((void *)(icsum + 1) > data_end)
		return XLB_STAT_PARSE_ERR;
	*icsum = xlb_csum_apply(*icsum, d_icmp);
	return snat ? XLB_STAT_SNAT_RESTORE : XLB_STAT_RNAT;
}

#endif /* XLB_BPF_ICMP_H */
