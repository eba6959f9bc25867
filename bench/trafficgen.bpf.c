// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The live-frame generator's program. bpf_prog_test_run_opts() with
 * BPF_F_TEST_XDP_LIVE_FRAMES runs it once per frame and sends every frame
 * it redirects. The kernel recycles frame memory without restoring it (and
 * the receiving side may have rewritten those bytes in place), so the
 * program writes the whole Ethernet, IPv4 and UDP header on every run,
 * checksums included. In new-flow mode every frame gets the next
 * (source address, source port) of a 2^30-long sequence.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Set by trafficgen before load; addresses and ports in host order. */
const volatile __u32 tg_ifindex;	/* egress interface */
const volatile __u8 tg_smac[ETH_ALEN];
const volatile __u8 tg_dmac[ETH_ALEN];
const volatile __u32 tg_saddr;		/* source (established mode) */
const volatile __u32 tg_snet;		/* source /16 (new-flow mode) */
const volatile __u32 tg_daddr;
const volatile __u16 tg_sport;		/* source port (established) */
const volatile __u16 tg_dport;
const volatile __u16 tg_l3len;		/* IPv4 total length */
const volatile __u32 tg_new_flows;	/* 1: next flow on every frame */
const volatile __u32 tg_flow_base;	/* first flow of the sequence */

/* Frames generated on each CPU: the flow sequence. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tg_seq SEC(".maps");

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

SEC("xdp")
int xb_trafficgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *uh = (void *)(iph + 1);
	__u32 saddr = tg_saddr, sum, key = 0, flow;
	__u16 sport = tg_sport, udplen = tg_l3len - sizeof(*iph), csum;
	__u64 *seq;
	int i;

	if ((void *)(uh + 1) > data_end)
		return XDP_ABORTED;
	if (tg_new_flows) {
		seq = bpf_map_lookup_elem(&tg_seq, &key);
		if (!seq)
			return XDP_ABORTED;
		flow = (tg_flow_base + (__u32)*seq) & ((1u << 30) - 1);
		(*seq)++;
		sport = 1024 + (flow & 0x3fff);
		saddr = tg_snet | (flow >> 14);
	}

#pragma unroll
	for (i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = tg_dmac[i];
		eth->h_source[i] = tg_smac[i];
	}
	eth->h_proto = bpf_htons(ETH_P_IP);

	iph->version = 4;
	iph->ihl = 5;
	iph->tos = 0;
	iph->tot_len = bpf_htons(tg_l3len);
	iph->id = 0;
	iph->frag_off = bpf_htons(0x4000); /* DF */
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = bpf_htonl(saddr);
	iph->daddr = bpf_htonl(tg_daddr);
	/* Header checksum over its ten 16-bit words, check taken as 0. */
	sum = 0x4500 + tg_l3len + 0x4000 + (64 << 8 | IPPROTO_UDP) +
	      (saddr >> 16) + (saddr & 0xffff) + (tg_daddr >> 16) +
	      (tg_daddr & 0xffff);
	iph->check = bpf_htons(~fold(sum));

	uh->source = bpf_htons(sport);
	uh->dest = bpf_htons(tg_dport);
	uh->len = bpf_htons(udplen);
	/* Pseudo header + UDP header; the payload is zeros (data_in). */
	sum = (saddr >> 16) + (saddr & 0xffff) + (tg_daddr >> 16) +
	      (tg_daddr & 0xffff) + IPPROTO_UDP + udplen + sport + tg_dport +
	      udplen;
	csum = ~fold(sum);
	uh->check = bpf_htons(csum ? csum : 0xffff);

	return bpf_redirect(tg_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
