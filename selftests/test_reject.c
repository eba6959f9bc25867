// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * No usable backend: the datapath answers a TCP segment with a RST and a
 * UDP datagram with an ICMP / ICMPv6 port unreachable, sent back out of
 * the interface it came in on, in both programs as xlbd loads them. Each
 * reply is checked field by field and its checksums are verified with
 * pkt.c's sums; what is not answered (payload, a RST, a Local-policy
 * frontend) is dropped. One table per family (sub-runs xdp/v4 .. tc/v6).
 */
#include "datapath/harness.h"

#define V4_VIP PKT_V4(10, 96, 9, 1)
#define V4_CLI PKT_V4(10, 10, 0, 1)
#define V6_VIP PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 9, 1)
#define V6_CLI PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1)

enum { SVC = 1 };
enum { FE_LOCAL4 = 1, FE_UDP4, FE_TCP6, FE_UDP6 };

/* Frontends with no backend (ring size 0). */
static const struct t_svc svcs[] = {
	{ SVC, 4, V4_VIP, 80, IPPROTO_TCP, 0 },
};

static const struct t_fe fes[] = {
	{ FE_LOCAL4, SVC, 4, V4_VIP, 81, IPPROTO_TCP,
	  XLB_FE_NODE_PORT | XLB_SVC_F_LOCAL, 0 },
	{ FE_UDP4, SVC, 4, V4_VIP, 53, IPPROTO_UDP, 0, 0 },
	{ FE_TCP6, SVC, 6, V6_VIP, 80, IPPROTO_TCP, 0, 0 },
	{ FE_UDP6, SVC, 6, V6_VIP, 53, IPPROTO_UDP, 0, 0 },
};

static const struct h_world world = {
	.svcs = svcs,
	.nsvcs = ARRAY_SIZE(svcs),
	.fes = fes,
	.nfes = ARRAY_SIZE(fes),
	.ports = true,
};

/*
 * A checksum is right when the bytes it covers and their pseudo header
 * sum to all ones. ref is a segment pkt.c built with the same addresses,
 * protocol and length (so the same pseudo header) and a checksum computed
 * from scratch: seg is right exactly when its own bytes sum as ref's do.
 */
static bool sums_as(const __u8 *seg, const __u8 *ref, size_t len)
{
	return pkt_fold(pkt_sum(seg, len, 0)) == pkt_fold(pkt_sum(ref, len, 0));
}

/* The reply's addresses and ports are the input's, swapped. */
static void reply_spec(struct pkt_spec *r, const struct pkt_spec *in)
{
	*r = *in;
	r->saddr = in->daddr;
	r->daddr = in->saddr;
	r->sport = in->dport;
	r->dport = in->sport;
}

/* A 32-bit field of a packet, which need not be aligned. */
static __u32 be32_at(const __u8 *p)
{
	return (__u32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void check_rst(const struct fixture *f, const struct pkt_spec *in,
		      const __u8 *inb, size_t len, const __u8 *out,
		      size_t olen)
{
	bool ack = in->tcp_flags & ACK;
	__u8 ref[PKT_MAX_LEN];
	struct pkt_spec r;
	struct pkt_layout lay, rl;
	size_t l3, l4;

	/* The input's layout, and a reference segment of the reply's
	 * addresses and length. */
	if (!ASSERT_EQ(pkt_build(in, ref, sizeof(ref), &lay), len,
		       "%s: input layout", f->desc))
		return;
	reply_spec(&r, in);
	if (!ASSERT_EQ(pkt_build(&r, ref, sizeof(ref), &rl), len,
		       "%s: reference reset builds", f->desc))
		return;
	l3 = lay.l3;
	l4 = lay.l4;
	ASSERT_EQ(olen, len, "%s: RST: same length (options kept)", f->desc);
	if (olen < len)
		return;
	ASSERT_MEM_EQ(out, inb + 6, 6, "%s: RST: to the sender's MAC", f->desc);
	ASSERT_MEM_EQ(out + 6, inb, 6, "%s: RST: from our MAC", f->desc);
	if (in->family == 4) {
		ASSERT_MEM_EQ(out + l3 + 12, inb + l3 + 16, 4,
			      "%s: RST: from the VIP", f->desc);
		ASSERT_MEM_EQ(out + l3 + 16, inb + l3 + 12, 4,
			      "%s: RST: to the client", f->desc);
		ASSERT_EQ(pkt_fold(pkt_sum(out + l3, 20, 0)), 0,
			  "%s: RST: IP header checksum valid", f->desc);
	} else {
		ASSERT_MEM_EQ(out + l3 + 8, inb + l3 + 24, 16,
			      "%s: RST: from the VIP", f->desc);
		ASSERT_MEM_EQ(out + l3 + 24, inb + l3 + 8, 16,
			      "%s: RST: to the client", f->desc);
	}
	ASSERT_EQ(out[l4] << 8 | out[l4 + 1], in->dport,
		  "%s: RST: from the frontend port", f->desc);
	ASSERT_EQ(out[l4 + 2] << 8 | out[l4 + 3], in->sport,
		  "%s: RST: to the client port", f->desc);
	if (ack) {
		ASSERT_EQ(out[l4 + 13], RST, "%s: RST to an ACK: flags RST",
			  f->desc);
		ASSERT_EQ(be32_at(out + l4 + 4), in->ack,
			  "%s: RST to an ACK: seq = its ack", f->desc);
	} else {
		ASSERT_EQ(out[l4 + 13], RST | ACK,
			  "%s: RST to a SYN: flags RST|ACK", f->desc);
		ASSERT_EQ(be32_at(out + l4 + 4), 0,
			  "%s: RST to a SYN: seq 0", f->desc);
		ASSERT_EQ(be32_at(out + l4 + 8), in->seq + 1,
			  "%s: RST to a SYN: acks seq + 1", f->desc);
	}
	ASSERT_TRUE(sums_as(out + l4, ref + rl.l4, len - l4),
		    "%s: RST: TCP checksum valid", f->desc);
}

static void check_icmp(const struct fixture *f, const struct pkt_spec *in,
		       const __u8 *inb, size_t len, const __u8 *out,
		       size_t olen)
{
	size_t iplen = in->family == 4 ? 20 : 40, q = iplen + 8;
	const __u8 *ip = out + 14, *icmp = ip + iplen;
	/* An ICMPv6 message from the VIP to the client as long as the
	 * error (8 bytes of header, q quoted), for its pseudo header. */
	struct pkt_spec r = {
		.family = 6, .proto = IPPROTO_ICMPV6, .saddr = in->daddr,
		.daddr = in->saddr, .payload_len = q,
	};
	__u8 ref[PKT_MAX_LEN];
	struct pkt_layout rl;

	(void)len;
	if (!ASSERT_EQ(olen, 14 + iplen + 8 + q, "%s: ICMP: length", f->desc))
		return;
	ASSERT_MEM_EQ(out, inb + 6, 6, "%s: ICMP: to the sender's MAC",
		      f->desc);
	ASSERT_EQ(ip[0] >> 4, in->family, "%s: ICMP: IP version", f->desc);
	if (in->family == 4) {
		ASSERT_EQ(ip[9], IPPROTO_ICMP, "%s: ICMP: protocol", f->desc);
		ASSERT_MEM_EQ(ip + 12, inb + 14 + 16, 4,
			      "%s: ICMP: from the VIP", f->desc);
		ASSERT_MEM_EQ(ip + 16, inb + 14 + 12, 4,
			      "%s: ICMP: to the client", f->desc);
		ASSERT_EQ(pkt_fold(pkt_sum(ip, 20, 0)), 0,
			  "%s: ICMP: IP checksum valid", f->desc);
		ASSERT_EQ(icmp[0] << 8 | icmp[1], 3 << 8 | 3,
			  "%s: ICMP: destination unreachable, port unreachable",
			  f->desc);
		/* ICMPv4 has no pseudo header. */
		ASSERT_EQ(pkt_fold(pkt_sum(icmp, 8 + q, 0)), 0,
			  "%s: ICMP: checksum valid", f->desc);
	} else {
		ASSERT_EQ(ip[6], IPPROTO_ICMPV6, "%s: ICMP: next header",
			  f->desc);
		ASSERT_MEM_EQ(ip + 8, inb + 14 + 24, 16,
			      "%s: ICMP: from the VIP", f->desc);
		ASSERT_MEM_EQ(ip + 24, inb + 14 + 8, 16,
			      "%s: ICMP: to the client", f->desc);
		ASSERT_EQ(icmp[0] << 8 | icmp[1], 1 << 8 | 4,
			  "%s: ICMP: destination unreachable, port unreachable",
			  f->desc);
		if (ASSERT_TRUE(pkt_build(&r, ref, sizeof(ref), &rl),
				"%s: ICMP: reference message builds", f->desc))
			ASSERT_TRUE(sums_as(icmp, ref + rl.l4, 8 + q),
				    "%s: ICMP: checksum valid", f->desc);
	}
	ASSERT_MEM_EQ(icmp + 8, inb + 14, q,
		      "%s: ICMP: quotes the datagram's IP and UDP headers",
		      f->desc);
}

#define SEG(fam, cli, vip, port, flags)                                    \
	MACS, .family = fam, .proto = IPPROTO_TCP, .saddr = cli,           \
	.daddr = vip, .sport = 40000, .dport = port, .tcp_flags = flags,   \
	.seq = 1000, .ack = 777777
#define DGRAM(fam, cli, vip)                                               \
	MACS, .family = fam, .proto = IPPROTO_UDP, .saddr = cli,           \
	.daddr = vip, .sport = 40001, .dport = 53, .payload_len = 100

#define ANSWERED(chk)                                                      \
	.verdict = V_TX, .check = chk, .stats = ST_REJECT, .ct = CT_NONE

TABLE_BEGIN
static const struct fixture v4_rows[] = {
	{ "SYN: answered with a RST",
	  .in = { SEG(4, V4_CLI, V4_VIP, 80, SYN), .tcpopt_len = 20 },
	  ANSWERED(check_rst) },
	{ "ACK: answered with a RST",
	  .in = { SEG(4, V4_CLI, V4_VIP, 80, ACK) },
	  ANSWERED(check_rst) },
	{ "UDP: answered with a port unreachable",
	  .in = { DGRAM(4, V4_CLI, V4_VIP) },
	  ANSWERED(check_icmp) },
	/* What is not answered is dropped, as before. */
	{ "a segment with payload is dropped, not answered",
	  .in = { SEG(4, V4_CLI, V4_VIP, 80, ACK | PSH), .payload_len = 10 },
	  DROPPED, .stats = ST_NOBE },
	{ "a RST is never answered",
	  .in = { SEG(4, V4_CLI, V4_VIP, 80, RST) },
	  DROPPED, .stats = ST_NOBE },
	{ "a Local-policy frontend drops instead",
	  .in = { SEG(4, V4_CLI, V4_VIP, 81, SYN) },
	  DROPPED, .stats = ST_NOBE },
	{ "a SYN with IP options still gets its RST",
	  .in = { SEG(4, V4_CLI, V4_VIP, 80, SYN), .ipopt_len = 4 },
	  .verdict = V_TX, .stats = ST_REJECT },
};

static const struct fixture v6_rows[] = {
	{ "SYN: answered with a RST",
	  .in = { SEG(6, V6_CLI, V6_VIP, 80, SYN), .tcpopt_len = 20 },
	  ANSWERED(check_rst) },
	{ "ACK: answered with a RST",
	  .in = { SEG(6, V6_CLI, V6_VIP, 80, ACK) },
	  ANSWERED(check_rst) },
	{ "UDP: answered with a port unreachable",
	  .in = { DGRAM(6, V6_CLI, V6_VIP) },
	  ANSWERED(check_icmp) },
};
TABLE_END

static const struct h_table v4 = H_TABLE_XLBD("v4", v4_rows);
static const struct h_table v6 = H_TABLE_XLBD("v6", v6_rows);
static const struct h_table *const tables[] = { &v4, &v6 };

int main(void)
{
	/* Four answers in the v4 table, three in the v6 one: 2 * 7 when
	 * every sub-run runs. */
	if (h_start("test_reject", &world, tables, ARRAY_SIZE(tables)))
		ASSERT_EQ(h_counter(XLB_STAT_REJECTED),
			  h_env.want_total[XLB_STAT_REJECTED],
			  "rejected counter: one per answer sent");
	h_close();
	return test_done();
}
