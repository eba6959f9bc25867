// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * No usable backend: the datapath answers a TCP segment with a RST and a
 * UDP datagram with an ICMP / ICMPv6 port unreachable, sent back out of
 * the interface it came in on, in both programs. Each reply is checked
 * field by field and its checksums are verified from scratch here;
 * what is not answered (payload, a RST, a Local-policy frontend) is
 * dropped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <string.h>

#include <xlb/abi.h>

#include "bpftest.h"
#include "pkt.h"
#include "testlib.h"

#define V4_VIP PKT_V4(10, 96, 9, 1)
#define V4_CLI PKT_V4(10, 10, 0, 1)
#define V6_VIP PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 9, 1)
#define V6_CLI PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1)


/* A frontend with no backend (ring size 0). */
static void add_frontend(struct pkt_addr vip, int family, int proto,
			 __u16 port, __u32 flags)
{
	struct xlb_vip_key k = { .port = htons(port), .proto = proto,
				 .family = family == 4 ? XLB_AF_INET :
							 XLB_AF_INET6 };
	struct xlb_svc v = { .svc_id = 1, .flags = flags };

	memcpy(k.addr.bytes, vip.b, family == 4 ? 4 : 16);
	bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_svc), &k, &v, BPF_ANY);
}

static int run(int which, const uint8_t *in, size_t len, uint8_t *out,
	       __u32 *out_len, __u32 *ret)
{
	int n = bt_run(which, in, len, out, ret);

	*out_len = n < 0 ? 0 : n;
	return n < 0 ? -1 : 0;
}

/* Sum of the pseudo header and the L4 bytes: 0xffff when valid. */
static uint16_t l4_check(const uint8_t *ip, int family, const uint8_t *l4,
			 size_t l4len, uint8_t proto)
{
	uint32_t sum = 0;
	uint8_t ph[4] = { 0, proto, l4len >> 8, l4len & 0xff };

	if (proto == IPPROTO_ICMP)
		sum = 0; /* ICMPv4 has no pseudo header */
	else if (family == 4)
		sum = pkt_sum(ip + 12, 8, 0);
	else
		sum = pkt_sum(ip + 8, 32, 0);
	if (proto != IPPROTO_ICMP)
		sum = pkt_sum(ph, 4, sum);
	return pkt_fold(pkt_sum(l4, l4len, sum));
}

static const char *const prog_name[] = { "xdp", "tc" };

static void test_rst(int which, int family, bool ack)
{
	struct pkt_spec s = {
		.family = family, .proto = IPPROTO_TCP, .sport = 40000,
		.dport = 80, .tcp_flags = ack ? 0x10 : 0x02, .seq = 1000,
		.ack = 777777, .tcpopt_len = ack ? 0 : 20,
		.smac = { 2, 0, 0, 0, 0, 1 }, .dmac = { 2, 0, 0, 0, 0, 2 },
	};
	uint8_t in[256], out[512];
	struct pkt_layout lay;
	__u32 olen, ret, want = which ? TC_ACT_REDIRECT : XDP_TX;
	size_t len, l3, l4;
	const char *w = prog_name[which];
	const char *f = family == 4 ? "v4" : "v6";

	s.saddr = family == 4 ? (struct pkt_addr)V4_CLI : (struct pkt_addr)V6_CLI;
	s.daddr = family == 4 ? (struct pkt_addr)V4_VIP : (struct pkt_addr)V6_VIP;
	len = pkt_build(&s, in, sizeof(in), &lay);
	l3 = lay.l3;
	l4 = lay.l4;
	if (!ASSERT_EQ(run(which, in, len, out, &olen, &ret), 0,
		       "%s %s %s: test run", w, f, ack ? "ACK" : "SYN"))
		return;
	ASSERT_EQ(ret, want, "%s %s %s: sent back", w, f, ack ? "ACK" : "SYN");
	ASSERT_EQ(olen, len, "%s %s RST: same length (options kept)", w, f);
	ASSERT_MEM_EQ(out, in + 6, 6, "%s %s RST: to the sender's MAC", w, f);
	ASSERT_MEM_EQ(out + 6, in, 6, "%s %s RST: from our MAC", w, f);
	if (family == 4) {
		ASSERT_MEM_EQ(out + l3 + 12, in + l3 + 16, 4, "%s v4 RST: from the VIP", w);
		ASSERT_MEM_EQ(out + l3 + 16, in + l3 + 12, 4, "%s v4 RST: to the client", w);
		ASSERT_EQ(pkt_fold(pkt_sum(out + l3, 20, 0)), 0,
			  "%s v4 RST: IP header checksum valid", w);
	} else {
		ASSERT_MEM_EQ(out + l3 + 8, in + l3 + 24, 16, "%s v6 RST: from the VIP", w);
		ASSERT_MEM_EQ(out + l3 + 24, in + l3 + 8, 16, "%s v6 RST: to the client", w);
	}
	ASSERT_EQ(out[l4] << 8 | out[l4 + 1], 80, "%s %s RST: from port 80", w, f);
	ASSERT_EQ(out[l4 + 2] << 8 | out[l4 + 3], 40000, "%s %s RST: to the client port", w, f);
	if (ack) {
		ASSERT_EQ(out[l4 + 13], 0x04, "%s %s RST to an ACK: flags RST", w, f);
		ASSERT_EQ(ntohl(*(uint32_t *)(out + l4 + 4)), 777777,
			  "%s %s RST to an ACK: seq = its ack", w, f);
	} else {
		ASSERT_EQ(out[l4 + 13], 0x14, "%s %s RST to a SYN: flags RST|ACK", w, f);
		ASSERT_EQ(ntohl(*(uint32_t *)(out + l4 + 4)), 0,
			  "%s %s RST to a SYN: seq 0", w, f);
		ASSERT_EQ(ntohl(*(uint32_t *)(out + l4 + 8)), 1001,
			  "%s %s RST to a SYN: acks seq + 1", w, f);
	}
	ASSERT_EQ(l4_check(out + l3, family, out + l4, len - l4, IPPROTO_TCP), 0,
		  "%s %s RST: TCP checksum valid", w, f);
}

static void test_icmp(int which, int family)
{
	struct pkt_spec s = {
		.family = family, .proto = IPPROTO_UDP, .sport = 40001,
		.dport = 53, .payload_len = 100,
		.smac = { 2, 0, 0, 0, 0, 1 }, .dmac = { 2, 0, 0, 0, 0, 2 },
	};
	uint8_t in[256], out[512];
	struct pkt_layout lay;
	__u32 olen, ret, want = which ? TC_ACT_REDIRECT : XDP_TX;
	size_t len, iplen = family == 4 ? 20 : 40, q = iplen + 8;
	const char *w = prog_name[which];
	const char *f = family == 4 ? "v4" : "v6";
	uint8_t *ip = out + 14, *icmp = ip + iplen;

	s.saddr = family == 4 ? (struct pkt_addr)V4_CLI : (struct pkt_addr)V6_CLI;
	s.daddr = family == 4 ? (struct pkt_addr)V4_VIP : (struct pkt_addr)V6_VIP;
	len = pkt_build(&s, in, sizeof(in), &lay);
	if (!ASSERT_EQ(run(which, in, len, out, &olen, &ret), 0,
		       "%s %s UDP: test run", w, f))
		return;
	ASSERT_EQ(ret, want, "%s %s UDP: answer sent back", w, f);
	ASSERT_EQ(olen, 14 + iplen + 8 + q, "%s %s ICMP: length", w, f);
	ASSERT_MEM_EQ(out, in + 6, 6, "%s %s ICMP: to the sender's MAC", w, f);
	ASSERT_EQ(ip[0] >> 4, family, "%s %s ICMP: IP version", w, f);
	if (family == 4) {
		ASSERT_EQ(ip[9], IPPROTO_ICMP, "%s v4 ICMP: protocol", w);
		ASSERT_MEM_EQ(ip + 12, in + 14 + 16, 4, "%s v4 ICMP: from the VIP", w);
		ASSERT_MEM_EQ(ip + 16, in + 14 + 12, 4, "%s v4 ICMP: to the client", w);
		ASSERT_EQ(pkt_fold(pkt_sum(ip, 20, 0)), 0, "%s v4 ICMP: IP checksum valid", w);
		ASSERT_EQ(icmp[0] << 8 | icmp[1], 3 << 8 | 3,
			  "%s v4 ICMP: destination unreachable, port unreachable", w);
		ASSERT_EQ(l4_check(ip, 4, icmp, 8 + q, IPPROTO_ICMP), 0,
			  "%s v4 ICMP: checksum valid", w);
	} else {
		ASSERT_EQ(ip[6], IPPROTO_ICMPV6, "%s v6 ICMP: next header", w);
		ASSERT_MEM_EQ(ip + 8, in + 14 + 24, 16, "%s v6 ICMP: from the VIP", w);
		ASSERT_MEM_EQ(ip + 24, in + 14 + 8, 16, "%s v6 ICMP: to the client", w);
		ASSERT_EQ(icmp[0] << 8 | icmp[1], 1 << 8 | 4,
			  "%s v6 ICMP: destination unreachable, port unreachable", w);
		ASSERT_EQ(l4_check(ip, 6, icmp, 8 + q, IPPROTO_ICMPV6), 0,
			  "%s v6 ICMP: checksum valid", w);
	}
	ASSERT_MEM_EQ(icmp + 8, in + 14, q,
		      "%s %s ICMP: quotes the datagram's IP and UDP headers", w, f);
}

/* What is not answered is dropped, as before. */
static void test_not_answered(int which)
{
	struct pkt_spec s = {
		.family = 4, .proto = IPPROTO_TCP, .sport = 40002, .dport = 80,
		.tcp_flags = 0x18, .payload_len = 10, .saddr = V4_CLI,
		.daddr = V4_VIP,
	};
	uint8_t in[256], out[512];
	struct pkt_layout lay;
	__u32 olen, ret, drop = which ? TC_ACT_SHOT : XDP_DROP;
	const char *w = prog_name[which];
	size_t len = pkt_build(&s, in, sizeof(in), &lay);

	run(which, in, len, out, &olen, &ret);
	ASSERT_EQ(ret, drop, "%s: a segment with payload is dropped, not answered", w);
	s.payload_len = 0;
	s.tcp_flags = 0x04;
	len = pkt_build(&s, in, sizeof(in), &lay);
	run(which, in, len, out, &olen, &ret);
	ASSERT_EQ(ret, drop, "%s: a RST is never answered", w);
	s.tcp_flags = 0x02;
	s.dport = 81; /* the Local-policy frontend */
	len = pkt_build(&s, in, sizeof(in), &lay);
	run(which, in, len, out, &olen, &ret);
	ASSERT_EQ(ret, drop, "%s: a Local-policy frontend drops instead", w);
	s.dport = 80;
	s.ipopt_len = 4;
	len = pkt_build(&s, in, sizeof(in), &lay);
	run(which, in, len, out, &olen, &ret);
	ASSERT_EQ(ret, which ? TC_ACT_REDIRECT : XDP_TX,
		  "%s: a SYN with IP options still gets its RST", w);
}

int main(void)
{
	int w;

	if (!ASSERT_EQ(bt_load(), 0, "load XDP and tc programs"))
		return test_done();
	add_frontend((struct pkt_addr)V4_VIP, 4, IPPROTO_TCP, 80, 0);
	add_frontend((struct pkt_addr)V4_VIP, 4, IPPROTO_TCP, 81,
		     XLB_FE_NODE_PORT | XLB_SVC_F_LOCAL);
	add_frontend((struct pkt_addr)V4_VIP, 4, IPPROTO_UDP, 53, 0);
	add_frontend((struct pkt_addr)V6_VIP, 6, IPPROTO_TCP, 80, 0);
	add_frontend((struct pkt_addr)V6_VIP, 6, IPPROTO_UDP, 53, 0);
	for (w = 0; w < 2; w++) {
		test_rst(w, 4, false);
		test_rst(w, 4, true);
		test_rst(w, 6, false);
		test_rst(w, 6, true);
		test_icmp(w, 4);
		test_icmp(w, 6);
		test_not_answered(w);
	}
	ASSERT_EQ(bt_counter(XLB_STAT_REJECTED), 2 * 7,
		  "rejected counter: one per answer sent");
	bt_unload();
	return test_done();
}
