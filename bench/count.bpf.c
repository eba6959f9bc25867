// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The backend's sink: counts and drops every IPv4 UDP frame, per CPU.
 * A second counter holds the frames that arrived as the load balancer
 * must deliver them (destination in the backend prefix, backend port),
 * so the harness can tell forwarded traffic from anything else. Other
 * frames (ARP, IPv6 ...) go to the stack.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Set before load, network order. */
const volatile __be32 cnt_prefix;	/* expected destination prefix */
const volatile __be32 cnt_mask;		/* its netmask */
const volatile __be16 cnt_dport;	/* expected destination port */

enum {
	XB_CNT_UDP = 0,		/* IPv4 UDP frames dropped here */
	XB_CNT_MATCH = 1,	/* of those, to prefix and port */
	XB_CNT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XB_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xb_counts SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&xb_counts, &idx);

	if (c)
		(*c)++;
}

SEC("xdp")
int xb_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *uh;

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) ||
	    iph->protocol != IPPROTO_UDP || iph->ihl != 5)
		return XDP_PASS;
	uh = (void *)(iph + 1);
	if ((void *)(uh + 1) > data_end)
		return XDP_PASS;
	bump(XB_CNT_UDP);
	if ((iph->daddr & cnt_mask) == cnt_prefix && uh->dest == cnt_dport)
		bump(XB_CNT_MATCH);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
