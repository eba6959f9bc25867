/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: the packet handler of both entry programs, written
 * once against the hook's ctx header (ctx_xdp.h or ctx_tc.h, included
 * first). It decides (lb.h), rewrites the hook's way, forwards when
 * fib_redirect says so, and leaves through one exit that counts the
 * packet's outcome and turns it into the hook's verdict.
 */
#ifndef XLB_BPF_HANDLE_H
#define XLB_BPF_HANDLE_H

#ifndef XLB_CTX_HOOK
#error "include lib/ctx_xdp.h or lib/ctx_tc.h before lib/handle.h"
#endif

#include "lb.h"
#include "fib.h"
#include "stats.h"
#include "encap.h"

/*
 * The one exit: outcome (an XLB_STAT_*) says what became of the packet,
 * and so its verdict; it is counted here. Events along the way (ct_new,
 * hairpin, fib_lookup, ...) were counted where they happened.
 */
static __always_inline int xlb_exit(struct xlb_ctx *ctx, __u32 outcome,
				    __u32 len, __u32 ifindex)
{
	/* A rejected packet is one without a backend, answered. */
	if (outcome == XLB_STAT_REJECTED)
		xlb_stat(XLB_STAT_NO_BACKEND, len);
	xlb_stat(outcome, len);
	switch (outcome) {
	case XLB_STAT_NO_BACKEND:
	case XLB_STAT_SRC_DENIED:
	case XLB_STAT_NAT_ERR:
	case XLB_STAT_SNAT_EXHAUSTED:
	case XLB_STAT_DSR_TOO_BIG:
	case XLB_STAT_DSR_MISMATCH:
		return XLB_ACT_DROP;
	case XLB_STAT_REJECTED:
		return xlb_ctx_reflect(ctx);
	case XLB_STAT_FIB_FWD:
		return bpf_redirect(ifindex, 0);
	default:
		return XLB_ACT_PASS;
	}
}

/* A rewritten packet: forwarded here with fib_redirect, else passed. */
static __always_inline int xlb_forward(struct xlb_ctx *ctx, void *data,
				       void *data_end, const struct xlb_pkt *p,
				       const struct xlb_nat *n,
				       struct xlb_flow *f, __u32 outcome,
				       __u32 len)
{
	__u32 ifindex;

	if (xlb_ctx_nat(ctx, data, data_end, p, n) < 0)
		return xlb_exit(ctx, XLB_STAT_NAT_ERR, len, 0);
	/* A DSR flow's SYN-ACK, leaving its backend's node. */
	if (f->dsr_mss && (p->tcp_flags & 0x12) == 0x12 &&
	    xlb_mss_clamp(ctx, p->l4_off, p->csum_off, f->dsr_mss))
		xlb_stat(XLB_STAT_DSR_MSS_CLAMP, len);
	if (!xlb_cfg.fib_redirect)
		return xlb_exit(ctx, outcome, len, 0);
	/* Forwarding gives the packet a second outcome (fib_redirect or
	 * fib_miss). The rewrite's is counted now: carried through the
	 * lookup, it would make the verifier walk the lookup once for each
	 * rewrite (a sixth more verified instructions in XDP). */
	xlb_stat(outcome, len);
	xlb_ctx_reload(ctx, &data, &data_end);
	ifindex = xlb_fib_forward(ctx, data, data_end, p, f,
				  xlb_ctx_ifindex(ctx));
	if (!ifindex)
		return xlb_exit(ctx, XLB_STAT_FIB_MISS, len, 0);
	if (f->hop_dir == XLB_CT_LOOKED_UP)
		xlb_stat(XLB_STAT_FIB_LOOKUP, len);
	return xlb_exit(ctx, XLB_STAT_FIB_FWD, len, ifindex);
}

/* The whole ingress path of both programs. */
static __always_inline int xlb_handle(struct xlb_ctx *ctx)
{
	void *data = xlb_ctx_data(ctx);
	void *data_end = xlb_ctx_data_end(ctx);
	__u32 len = xlb_ctx_len(ctx);
	struct xlb_pkt p = {};
	struct xlb_flow f = {};
	struct xlb_nat n = {};
	int outcome;

	f.ifindex = xlb_ctx_ifindex(ctx);
	outcome = xlb_decide(ctx, data, data_end, len, &p, &n, &f);
	switch (outcome) {
	case XLB_STAT_DNAT:
	case XLB_STAT_RNAT:
		return xlb_forward(ctx, data, data_end, &p, &n, &f, outcome,
				   len);
	case XLB_STAT_DSR_ENCAP:
		return xlb_exit(ctx, xlb_dsr_send(ctx, &p, &n, &f), len, 0);
	case XLB_STAT_DSR_DECAP:
		if (xlb_dsr_strip(ctx, &p))
			return xlb_exit(ctx, XLB_STAT_NAT_ERR, len, 0);
		return xlb_forward(ctx, xlb_ctx_data(ctx),
				   xlb_ctx_data_end(ctx), &p, &n, &f, outcome,
				   len);
	case XLB_STAT_REJECTED:
		/* A packet that cannot be answered is the drop it was. */
		if (xlb_ctx_reject(ctx, &p) < 0)
			return xlb_exit(ctx, XLB_STAT_NO_BACKEND, len, 0);
		return xlb_exit(ctx, XLB_STAT_REJECTED, len, 0);
	default:
		return xlb_exit(ctx, outcome, len, 0);
	}
}

#endif /* XLB_BPF_HANDLE_H */
