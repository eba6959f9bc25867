/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: optional forwarding in the program itself
 * (xlb_cfg.fib_redirect). bpf_fib_lookup resolves the next hop after the
 * rewrite; on success the program decrements TTL / hop limit, writes the
 * MAC addresses and redirects. Anything else (no route, no neighbour yet,
 * VLAN-tagged frames, TTL expiring) goes to the kernel stack, which
 * handles it in full.
 */
#ifndef XLB_BPF_FIB_H
#define XLB_BPF_FIB_H

#include "common.h"
#include "conntrack.h"
#include "csum.h"
#include "parse.h"

#define XLB_AF_INET_KERNEL	2
#define XLB_AF_INET6_KERNEL	10

/*
 * Looks the next hop up for the rewritten packet, in: f->hop_ifindex the
 * ingress interface; out: f->hop_* (and the flow's entry, f->hop_dir, is
 * refreshed). Returns 1 when it resolved, 0 to pass. A subprogram: the
 * lookup's parameters stay off the entry program's stack.
 */
XLB_SUBPROG int xlb_fib_lookup_hop(void *ctx, void *data, void *data_end,
				   const struct xlb_pkt *p, struct xlb_flow *f)
{
	struct bpf_fib_lookup fib = {};
	__u32 l3 = p->l3_off & XLB_OFF_MASK, tot_len;

	fib.ifindex = f->hop_ifindex;
	fib.l4_protocol = p->proto;
	if (p->family == XLB_AF_INET) {
		struct iphdr *iph = data + l3;

		if ((void *)(iph + 1) > data_end)
			return 0;
		tot_len = bpf_ntohs(iph->tot_len);
		fib.family = XLB_AF_INET_KERNEL;
		fib.tos = iph->tos;
		fib.tot_len = tot_len;
		fib.ipv4_src = iph->saddr;
		fib.ipv4_dst = iph->daddr;
	} else {
		struct ipv6hdr *ip6h = data + l3;

		if ((void *)(ip6h + 1) > data_end)
			return 0;
		tot_len = bpf_ntohs(ip6h->payload_len);
		fib.family = XLB_AF_INET6_KERNEL;
		fib.flowinfo = *(__be32 *)ip6h & bpf_htonl(0x0fffffff);
		fib.tot_len = tot_len;
		__builtin_memcpy(fib.ipv6_src, &ip6h->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6h->daddr, 16);
	}
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) !=
	    BPF_FIB_LKUP_RET_SUCCESS)
		return 0;
	f->hop_ifindex = fib.ifindex;
	__builtin_memcpy(f->hop_dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(f->hop_smac, fib.smac, ETH_ALEN);
	if (f->hop_dir)
		xlb_hop_store(p, f, tot_len);
	f->hop_dir = XLB_CT_LOOKED_UP;
	return 1;
}

/* Returns the egress ifindex to redirect to, or 0 to pass. The flow's
 * cached next hop in f (xlb_hop_take) saves the lookup; after a lookup
 * f->hop_dir is XLB_CT_LOOKED_UP (the caller counts it). Re-derives
 * packet pointers itself: callers may have invalidated theirs. */
static __always_inline __u32 xlb_fib_forward(void *ctx, void *data,
					     void *data_end,
					     const struct xlb_pkt *p,
					     struct xlb_flow *f, __u32 ifindex)
{
	struct ethhdr *eth = data;
	__u32 l3 = p->l3_off & XLB_OFF_MASK, tot_len;

	if (p->vlans)
		return 0;
	if ((void *)(eth + 1) > data_end)
		return 0;
	if (p->family == XLB_AF_INET) {
		struct iphdr *iph = data + l3;

		if ((void *)(iph + 1) > data_end)
			return 0;
		if (iph->ttl <= 1)
			return 0;
		tot_len = bpf_ntohs(iph->tot_len);
	} else {
		struct ipv6hdr *ip6h = data + l3;

		if ((void *)(ip6h + 1) > data_end)
			return 0;
		if (ip6h->hop_limit <= 1)
			return 0;
		tot_len = bpf_ntohs(ip6h->payload_len);
	}
	if (!f->hop_ifindex || tot_len > f->hop_len) {
		f->hop_ifindex = ifindex;
		if (!xlb_fib_lookup_hop(ctx, data, data_end, p, f))
			return 0;
	}

	/* Next hop known: now change the packet. */
	if (p->family == XLB_AF_INET) {
		struct iphdr *iph = data + l3;

		if ((void *)(iph + 1) > data_end)
			return 0;
		/* ttl shares a 16-bit word with protocol. */
		__u16 *w = (void *)&iph->ttl;
		__u16 old = *w;

		iph->ttl--;
		iph->check = xlb_csum_apply(iph->check,
					    xlb_csum_delta16(old, *w));
	} else {
		struct ipv6hdr *ip6h = data + l3;

		if ((void *)(ip6h + 1) > data_end)
			return 0;
		ip6h->hop_limit--;
	}
	__builtin_memcpy(eth->h_dest, f->hop_dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f->hop_smac, ETH_ALEN);
	return f->hop_ifindex;
}

#endif /* XLB_BPF_FIB_H */
