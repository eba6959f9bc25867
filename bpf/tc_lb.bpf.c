// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xlb tc (clsact ingress) entry: the same logic as the XDP program, for
 * devices where XDP cannot attach and for locally generated skbs whose
 * checksums are only partial (pod veths, bridges). */
#include "lib/lb.h"
#include "lib/fib.h"
#include "lib/reject.h"

SEC("tc")
int xlb_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 len = skb->len;
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
		if ((p.proto == IPPROTO_TCP ? xlb_reject_tcp_tc(skb, &p) :
					      xlb_reject_udp_tc(skb, &p)) < 0)
			return TC_ACT_SHOT;
		xlb_stat(outcome, len);
		return bpf_redirect(skb->ifindex, 0);
	case XLB_STAT_NO_BACKEND:
	case XLB_STAT_SRC_DENIED:
		xlb_stat(outcome, len);
		return TC_ACT_SHOT;
	default:
		xlb_stat(outcome, len);
		return TC_ACT_OK;
	}

	if (xlb_nat_tc(skb, &p, &n) < 0) {
		xlb_stat(XLB_STAT_NAT_ERR, len);
		return TC_ACT_SHOT;
	}
	xlb_stat(outcome, len);
	if (!xlb_cfg.fib_redirect)
		return TC_ACT_OK;

	/* The helpers above invalidated every packet pointer. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	ifindex = xlb_fib_forward(skb, data, data_end, &p, &n,
				  skb->ingress_ifindex);
	if (!ifindex) {
		xlb_stat(XLB_STAT_FIB_MISS, len);
		return TC_ACT_OK;
	}
	if (n.hop_dir == XLB_CT_LOOKED_UP)
		xlb_stat(XLB_STAT_FIB_LOOKUP, len);
	xlb_stat(XLB_STAT_FIB_FWD, len);
	return bpf_redirect(ifindex, 0);
}

/*
 * tc egress: ICMP errors this node itself sends about a balanced flow.
 * When the link towards the backends has a smaller MTU, the node's own
 * stack answers a DNATed packet with "fragmentation needed" / "packet
 * too big" quoting client -> backend, and sends it out to the client
 * without crossing any ingress hook. The quote is restored to the VIP
 * here; everything else leaves untouched.
 */
SEC("tc")
int xlb_tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct xlb_pkt p = {};
	int rc;

	rc = xlb_parse(data, data_end, &p);
	if (rc != XLB_PARSED_ICMP || p.frag)
		return TC_ACT_OK;
	if (xlb_icmp_rnat(data, data_end, &p) == XLB_STAT_RNAT)
		xlb_stat(XLB_STAT_ICMP_RNAT, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
