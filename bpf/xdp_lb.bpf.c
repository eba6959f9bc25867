// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xlb XDP entry: the fast path on the interfaces traffic enters on. */
#include "lib/lb.h"
#include "lib/fib.h"
#include "lib/reject.h"

SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	struct xlb_pkt p = {};
	struct xlb_nat n = {};
	__u32 ifindex;
	int outcome;

	outcome = xlb_decide(data, data_end, len, &p, &n);
	switch (outcome) {
	case XLB_STAT_DNAT:
	case XLB_STAT_RNAT:
		break;
	case XLB_STAT_REJECTED:
		xlb_stat(XLB_STAT_NO_BACKEND, len);
		if ((p.proto == IPPROTO_TCP ? xlb_reject_tcp_xdp(ctx, &p) :
					      xlb_reject_udp_xdp(ctx, &p)) < 0)
			return XDP_DROP;
		xlb_stat(outcome, len);
		return XDP_TX;
	case XLB_STAT_NO_BACKEND:
	case XLB_STAT_SRC_DENIED:
		xlb_stat(outcome, len);
		return XDP_DROP;
	default:
		xlb_stat(outcome, len);
		return XDP_PASS;
	}

	if (xlb_nat_xdp(data, data_end, &p, &n) < 0) {
		xlb_stat(XLB_STAT_NAT_ERR, len);
		return XDP_DROP;
	}
	xlb_stat(outcome, len);
	if (!xlb_cfg.fib_redirect)
		return XDP_PASS;

	ifindex = xlb_fib_forward(ctx, data, data_end, &p, &n,
				  ctx->ingress_ifindex);
	if (!ifindex) {
		xlb_stat(XLB_STAT_FIB_MISS, len);
		return XDP_PASS;
	}
	if (n.hop_dir == XLB_CT_LOOKED_UP)
		xlb_stat(XLB_STAT_FIB_LOOKUP, len);
	xlb_stat(XLB_STAT_FIB_FWD, len);
	return bpf_redirect(ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
