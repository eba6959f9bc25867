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

static __always_inline void *xlb_ctx_data(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *xlb_ctx_data_end(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data_end;
}

/* The packet's length for the counters, L2 included. */
static __always_inline __u32 xlb_ctx_len(const struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

/* The interface the packet came in on (the fib lookup's start). */
static __always_inline __u32 xlb_ctx_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
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

#include "nat.h"
#include "reject.h"

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
					 xlb_reject_udp_xdp(ctx, p);
}

#endif /* XLB_BPF_CTX_XDP_H */
