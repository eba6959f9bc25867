/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: what the tc hook does its own way, for the handler
 * both entry programs share (handle.h), as cilium's bpf/ctx/skb.h does.
 * Include either this or ctx_xdp.h, never both, before handle.h.
 *
 * A locally generated skb may be CHECKSUM_PARTIAL: the rewrite goes
 * through the kernel's store and csum_replace helpers, which know, and
 * those invalidate every packet pointer taken before them.
 */
#ifndef XLB_BPF_CTX_TC_H
#define XLB_BPF_CTX_TC_H

#define XLB_CTX_HOOK		"tc"

#include "common.h"

/* The program's context, as handle.h and reject.h name it. */
#define xlb_ctx			__sk_buff

#define XLB_ACT_PASS		TC_ACT_OK
#define XLB_ACT_DROP		TC_ACT_SHOT

/* The packet's length for the counters, L2 included (also the bytes
 * outside the linear part data_end ends). */
static __always_inline __u32 xlb_ctx_len(const struct __sk_buff *skb)
{
	return skb->len;
}

/* Sends the packet, turned into its answer, back where it came from: tc
 * has no XDP_TX, the device's own egress does it. */
static __always_inline int xlb_ctx_reflect(struct __sk_buff *skb)
{
	return bpf_redirect(skb->ifindex, 0);
}

/* After the rewrite: the helpers invalidated every packet pointer. */
static __always_inline void xlb_ctx_reload(struct __sk_buff *skb,
					   void **data, void **data_end)
{
	*data = xlb_ctx_data(skb);
	*data_end = xlb_ctx_data_end(skb);
}

static __always_inline int xlb_ctx_load_bytes(struct __sk_buff *skb,
					      __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes(skb, off, to, len);
}

static __always_inline int xlb_ctx_store_bytes(struct __sk_buff *skb,
					       __u32 off, const void *from,
					       __u32 len)
{
	return bpf_skb_store_bytes(skb, off, from, len, 0);
}

/*
 * Whether the L4 checksum at csum_off is partial (1), complete (0), or
 * the helpers failed (< 0). bpf_l4_csum_replace without BPF_F_PSEUDO_HDR
 * leaves a partial checksum alone and changes a complete one (then put
 * back).
 */
static __always_inline int xlb_ctx_csum_partial(struct __sk_buff *skb,
						__u32 csum_off)
{
	__u16 c0, c1, one = bpf_htons(1);

	if (bpf_skb_load_bytes(skb, csum_off, &c0, 2) ||
	    bpf_l4_csum_replace(skb, csum_off, 0, one, 2) ||
	    bpf_skb_load_bytes(skb, csum_off, &c1, 2))
		return -1;
	if (c0 == c1)
		return 1;
	if (bpf_skb_store_bytes(skb, csum_off, &c0, 2, 0))
		return -1;
	return 0;
}

/* Makes the packet ETH_HLEN + 2 * room bytes long, with room more after
 * the MAC header. Returns 0: the room is inside what follows (after the
 * IP header), which the caller writes again; or < 0. */
static __always_inline int xlb_ctx_grow(struct __sk_buff *skb, __u32 room)
{
	if (bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_NET, 0) ||
	    bpf_skb_change_tail(skb, ETH_HLEN + 2 * room, 0))
		return -1;
	return 0;
}

#include "nat.h"
#include "reject.h"

/* Puts the outer header o (IPv4 with v4, else IPv6) after the MAC header.
 * The helper marks the skb encapsulated, so that GSO segments the inner
 * packet and a partial checksum is still completed at its offset. */
static __always_inline int xlb_ctx_encap(struct __sk_buff *skb, const void *o,
					 int v4)
{
	__u64 fl = BPF_F_ADJ_ROOM_FIXED_GSO;

	if (v4) {
		if (bpf_skb_adjust_room(skb, XLB_DSR_ROOM4, BPF_ADJ_ROOM_MAC,
					fl | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
			return -1;
		return bpf_skb_store_bytes(skb, ETH_HLEN, o, XLB_DSR_ROOM4,
					   BPF_F_RECOMPUTE_CSUM);
	}
	if (bpf_skb_adjust_room(skb, XLB_DSR_ROOM6, BPF_ADJ_ROOM_MAC,
				fl | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
		return -1;
	return bpf_skb_store_bytes(skb, ETH_HLEN, o, XLB_DSR_ROOM6,
				   BPF_F_RECOMPUTE_CSUM);
}

/* Takes the room bytes after the MAC header (an outer IP header) out. */
static __always_inline int xlb_ctx_decap(struct __sk_buff *skb, __u32 room)
{
	return bpf_skb_adjust_room(skb, -(__s32)room, BPF_ADJ_ROOM_MAC,
				   BPF_F_ADJ_ROOM_FIXED_GSO);
}

/* The L4 checksum at csum_off after 4 bytes of what it covers (not the
 * pseudo header) changed from old to new: a partial one stays. */
static __always_inline int xlb_ctx_csum_replace(struct __sk_buff *skb,
						__u32 csum_off, __be32 old,
						__be32 new)
{
	return bpf_l4_csum_replace(skb, csum_off, old, new, 4);
}

static __always_inline int xlb_ctx_nat(struct __sk_buff *skb, void *data,
				       void *data_end, const struct xlb_pkt *p,
				       const struct xlb_nat *n)
{
	return xlb_nat_tc(skb, p, n);
}

static __always_inline int xlb_ctx_reject(struct __sk_buff *skb,
					  const struct xlb_pkt *p)
{
	return p->proto == IPPROTO_TCP ? xlb_reject_tcp_tc(skb, p) :
					 xlb_reject_udp(skb, p);
}

#endif /* XLB_BPF_CTX_TC_H */
