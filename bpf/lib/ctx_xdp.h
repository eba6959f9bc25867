/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: what the XDP hook does its own way, for the handler
 * both entry programs share (handle.h), as cilium's bpf/ctx/xdp.h does.
 * Include either this or ctx_tc.h, never both, before handle.h.
 *
 * XDP sees frames off the wire, whose checksums are complete: the rewrite
 * writes the packet directly and updates checksums by deltas, and its
 * packet pointers stay valid across it.
 */
#ifndef XLB_BPF_CTX_XDP_H
#define XLB_BPF_CTX_XDP_H

#define XLB_CTX_HOOK		"xdp"

#include "common.h"

/* The program's context, as handle.h and reject.h name it. */
#define xlb_ctx			xdp_md

#define XLB_ACT_PASS		XDP_PASS
#define XLB_ACT_DROP		XDP_DROP

/* The packet's length for the counters, L2 included. */
static __always_inline __u32 xlb_ctx_len(const struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

/* Sends the packet, turned into its answer, back where it came from. */
static __always_inline int xlb_ctx_reflect(struct xdp_md *ctx)
{
	return XDP_TX;
}

/* After the rewrite: nothing to do, direct writes keep the pointers. */
static __always_inline void xlb_ctx_reload(struct xdp_md *ctx, void **data,
					   void **data_end)
{
}

/* Copies len bytes at off out of the packet (len a constant, off
 * bounded). */
static __always_inline int xlb_ctx_load_bytes(struct xdp_md *ctx, __u32 off,
					      void *to, __u32 len)
{
	void *data = xlb_ctx_data(ctx), *data_end = xlb_ctx_data_end(ctx);

	if (data + off + len > data_end)
		return -1;
	__builtin_memcpy(to, data + off, len);
	return 0;
}

/* Copies len bytes into the packet at off (off, len constants). */
static __always_inline int xlb_ctx_store_bytes(struct xdp_md *ctx, __u32 off,
					       const void *from, __u32 len)
{
	void *data = xlb_ctx_data(ctx), *data_end = xlb_ctx_data_end(ctx);

	if (data + off + len > data_end)
		return -1;
	__builtin_memcpy(data + off, from, len);
	return 0;
}

/* A frame off the wire never carries a partial checksum. */
static __always_inline int xlb_ctx_csum_partial(struct xdp_md *ctx,
						__u32 csum_off)
{
	return 0;
}

/* Makes the packet ETH_HLEN + 2 * room bytes long, room of them new in
 * front, the rest cut. Returns 1: the old bytes follow the room unmoved
 * (what was at ETH_HLEN is at ETH_HLEN + room), or < 0. */
static __always_inline int xlb_ctx_grow(struct xdp_md *ctx, __u32 room)
{
	__u32 len = xlb_ctx_len(ctx);

	if (bpf_xdp_adjust_head(ctx, -(int)room))
		return -1;
	if (bpf_xdp_adjust_tail(ctx, (int)(ETH_HLEN + 2 * room) -
					     (int)(len + room)))
		return -1;
	return 1;
}

#include "nat.h"
#include "reject.h"

/* Puts the outer header o (IPv4 with v4, else IPv6) after the MAC header
 * (no VLAN tags: DSR never takes a tagged packet). */
static __always_inline int xlb_ctx_encap(struct xdp_md *ctx, const void *o,
					 int v4)
{
	__u32 room = v4 ? XLB_DSR_ROOM4 : XLB_DSR_ROOM6;
	void *data, *data_end;
	struct ethhdr eth;

	if (bpf_xdp_adjust_head(ctx, -(int)room))
		return -1;
	data = xlb_ctx_data(ctx);
	data_end = xlb_ctx_data_end(ctx);
	if (data + ETH_HLEN + XLB_DSR_ROOM6 > data_end)
		return -1;
	if (v4) {
		__builtin_memcpy(&eth, data + XLB_DSR_ROOM4, ETH_HLEN);
		__builtin_memcpy(data + ETH_HLEN, o, XLB_DSR_ROOM4);
	} else {
		__builtin_memcpy(&eth, data + XLB_DSR_ROOM6, ETH_HLEN);
		__builtin_memcpy(data + ETH_HLEN, o, XLB_DSR_ROOM6);
	}
	__builtin_memcpy(data, &eth, ETH_HLEN);
	return 0;
}

/* Takes the room bytes after the MAC header (an outer IP header) out. */
static __always_inline int xlb_ctx_decap(struct xdp_md *ctx, __u32 room)
{
	void *data = xlb_ctx_data(ctx), *data_end = xlb_ctx_data_end(ctx);
	struct ethhdr eth;

	room &= 0x3f;
	if (data + ETH_HLEN > data_end)
		return -1;
	__builtin_memcpy(&eth, data, ETH_HLEN);
	if (data + room + ETH_HLEN > data_end)
		return -1;
	__builtin_memcpy(data + room, &eth, ETH_HLEN);
	return bpf_xdp_adjust_head(ctx, room);
}

/* The L4 checksum at csum_off after 4 bytes of what it covers changed
 * from old to new. */
static __always_inline int xlb_ctx_csum_replace(struct xdp_md *ctx,
						__u32 csum_off, __be32 old,
						__be32 new)
{
	void *data = xlb_ctx_data(ctx), *data_end = xlb_ctx_data_end(ctx);
	__u16 *sum = data + csum_off;

	if ((void *)(sum + 1) > data_end)
		return -1;
	*sum = xlb_csum_apply(*sum, xlb_csum_delta32(old, new));
	return 0;
}

static __always_inline int xlb_ctx_nat(struct xdp_md *ctx, void *data,
				       void *data_end, const struct xlb_pkt *p,
				       const struct xlb_nat *n)
{
	return xlb_nat_xdp(data, data_end, p, n);
}

static __always_inline int xlb_ctx_reject(struct xdp_md *ctx,
					  const struct xlb_pkt *p)
{
	return p->proto == IPPROTO_TCP ? xlb_reject_tcp_xdp(ctx, p) :
					 xlb_reject_udp(ctx, p);
}

#endif /* XLB_BPF_CTX_XDP_H */
