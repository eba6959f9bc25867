// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xlb tc (clsact ingress) entry: the same logic as the XDP program, for
 * devices where XDP cannot attach and for locally generated skbs whose
 * checksums are only partial (pod veths, bridges). */
#include "lib/ctx_tc.h"
#include "lib/handle.h"

SEC("tc")
int xlb_tc(struct __sk_buff *skb)
{
	return xlb_handle(skb);
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
	rc = xlb_icmp_rnat(data, data_end, &p);
	if (rc == XLB_STAT_SNAT_RESTORE)
		xlb_stat(XLB_STAT_SNAT_RESTORE, skb->len);
	if (rc == XLB_STAT_RNAT || rc == XLB_STAT_SNAT_RESTORE)
		xlb_stat(XLB_STAT_ICMP_RNAT, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
