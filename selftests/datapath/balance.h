/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Balanced flows: both families, TCP and UDP.
 */
#ifndef XLB_SELFTEST_DP_BALANCE_H
#define XLB_SELFTEST_DP_BALANCE_H

#include "world.h"

/* Picks the first payload word so that the rewritten packet's UDP
 * checksum sums to zero and must go out as 0xffff. */
static void tweak_udp_csum_zero(const struct fixture *f, struct pkt_spec *in)
{
	struct pkt_spec s = *in;
	struct pkt_layout l;
	__u8 buf[PKT_MAX_LEN];
	__u32 w;
	__u16 c;

	s.payload_word0 = 0x1234;
	apply_rewrite(f, &s);
	if (!pkt_build(&s, buf, sizeof(buf), &l))
		return;
	c = buf[l.l4 + 6] << 8 | buf[l.l4 + 7];
	/* c = ~S; replacing 0x1234 by w = 0x1234 + c makes S' = S + ~S. */
	w = 0x1234 + c;
	w = (w & 0xffff) + (w >> 16);
	in->payload_word0 = w ? w : 0xffff;

	/* The premise of the case: the expected packet carries 0xffff,
	 * which it only does when its checksum computed to 0 (a sum of 0
	 * needs all-zero data, and the pseudo header holds the protocol). */
	s.payload_word0 = in->payload_word0;
	if (!pkt_build(&s, buf, sizeof(buf), &l))
		return;
	ASSERT_EQ(buf[l.l4 + 6] << 8 | buf[l.l4 + 7], 0xffff,
		  "%s: premise: rewritten UDP checksum computes to 0", f->desc);
}

TABLE_BEGIN
static const struct fixture balance_rows[] = {
	{ "TCP v4 SYN to a VIP is DNATed to its backend", .setup = flush_ct,
	  .in = { TCP4(CLI4, 40001, VIP4, 80), .tcp_flags = SYN,
		  .tcpopt_len = 4, .payload_len = 0 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 data on a tracked flow goes to the same backend",
	  .in = { TCP4(CLI4, 40001, VIP4, 80), .tcp_flags = ACK | PSH,
		  .payload_len = 100 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT },
	{ "TCP v4 reply from the backend is reverse-NATed to the VIP",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "UDP v4 to a VIP is DNATed to its backend",
	  .in = { UDP4(CLI4, 40002, VIP4, 53) },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 reply from the backend is reverse-NATed to the VIP",
	  .in = { UDP4(BE4_U, 5353, CLI4, 40002), .payload_len = 120 },
	  RNAT(SVC_U4), .stats = ST_RNAT },
	/* The client reuses port 40001 towards another service. */
	{ "TCP v4 SYN from a tracked client port to another VIP is a flow of its own",
	  .in = { TCP4(CLI4, 40001, VIP4_FE, 80), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_PAIR },
	{ "TCP v4 data of that second flow goes to its backend",
	  .in = { TCP4(CLI4, 40001, VIP4_FE, 80), .tcp_flags = ACK,
		  .payload_len = 10 },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_DNAT, .ct = CT_PAIR },
	{ "TCP v4 data of the first flow of that port still goes to its backend",
	  .in = { TCP4(CLI4, 40001, VIP4, 80), .tcp_flags = ACK,
		  .payload_len = 10 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT, .ct = CT_BE },
	{ "TCP v4 reply of the second flow is from the second VIP",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 40001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .stats = ST_RNAT },
	{ "TCP v4 reply of the first flow is still from the first VIP",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40001), .tcp_flags = ACK },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "TCP v4 from a host that is not its backend, from a backend port, to that client port passes untouched",
	  .in = { TCP4(CLI4_B, 8080, CLI4, 40001), .tcp_flags = ACK },
	  UNCHANGED, .stats = ST_PASS },
	{ "UDP v4 with zero checksum to a VIP keeps checksum zero",
	  .in = { UDP4(CLI4, 40003, VIP4, 53), .udp_nocsum = true },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 reply with zero checksum keeps checksum zero",
	  .in = { UDP4(BE4_U, 5353, CLI4, 40003), .udp_nocsum = true },
	  RNAT(SVC_U4), .stats = ST_RNAT },
	{ "UDP v4 to a VIP whose rewritten checksum is 0 sends 0xffff",
	  .in = { UDP4(CLI4, 40004, VIP4, 53), .payload_len = 16 },
	  .tweak = tweak_udp_csum_zero,
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 to a VIP with an empty payload is DNATed",
	  .in = { UDP4(CLI4, 40005, VIP4, 53), .payload_len = 0 },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 to a VIP with a 3-byte payload is DNATed",
	  .in = { UDP4(CLI4, 40006, VIP4, 53), .payload_len = 3 },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "TCP v4 with DF set (not a fragment) is DNATed",
	  .in = { TCP4(CLI4_B, 40007, VIP4, 80), .frag = 0x4000 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v6 SYN to a VIP is DNATed to its backend",
	  .in = { TCP6(CLI6, 40001, VIP6, 443), .tcp_flags = SYN,
		  .tcpopt_len = 8, .payload_len = 0 },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "TCP v6 data on a tracked flow goes to the same backend",
	  .in = { TCP6(CLI6, 40001, VIP6, 443), .payload_len = 333 },
	  DNAT(SVC_T6, BE_T6), .stats = ST_DNAT },
	{ "TCP v6 reply from the backend is reverse-NATed to the VIP",
	  .in = { TCP6(BE6_T, 8443, CLI6, 40001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_T6), .stats = ST_RNAT },
	{ "UDP v6 to a VIP is DNATed to its backend",
	  .in = { UDP6(CLI6, 40002, VIP6, 53) },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW },
	{ "UDP v6 reply from the backend is reverse-NATed to the VIP",
	  .in = { UDP6(BE6_U, 5353, CLI6, 40002) },
	  RNAT(SVC_U6), .stats = ST_RNAT },
	{ "UDP v6 to a VIP with an empty payload is DNATed",
	  .in = { UDP6(CLI6, 40003, VIP6, 53), .payload_len = 0 },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW },
	/* A client port reused after its connection closed. */
	{ "TCP v4 SYN of a connection on port 40050",
	  .in = { TCP4(CLI4, 40050, VIP4, 80), .tcp_flags = SYN },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 SYN retransmitted: the same flow",
	  .in = { TCP4(CLI4, 40050, VIP4, 80), .tcp_flags = SYN },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT },
	{ "TCP v4 FIN from the client closes the flow, still DNATed",
	  .in = { TCP4(CLI4, 40050, VIP4, 80), .tcp_flags = FIN | ACK },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT },
	{ "TCP v4 the backend's FIN is reverse-NATed",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40050), .tcp_flags = FIN | ACK },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "TCP v4 SYN reusing the closed flow's port is a new flow (balanced afresh)",
	  .in = { TCP4(CLI4, 40050, VIP4, 80), .tcp_flags = SYN },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 data of the new connection on that port: tracked",
	  .in = { TCP4(CLI4, 40050, VIP4, 80), .tcp_flags = ACK,
		  .payload_len = 10 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT },
	{ "TCP v4 SYN of a connection on port 40051",
	  .in = { TCP4(CLI4, 40051, VIP4, 80), .tcp_flags = SYN },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 the backend resets it: reverse-NATed",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40051), .tcp_flags = RST },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "TCP v4 SYN after the backend's reset is a new flow",
	  .in = { TCP4(CLI4, 40051, VIP4, 80), .tcp_flags = SYN },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 SYN of a connection on port 40052",
	  .in = { TCP4(CLI4, 40052, VIP4, 80), .tcp_flags = SYN },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 it closes: the client's RST",
	  .in = { TCP4(CLI4, 40052, VIP4, 80), .tcp_flags = RST },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT },
	{ "TCP v4 the backend's SYN-ACK to a direct connection from that port passes untouched",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40052), .tcp_flags = SYN | ACK },
	  UNCHANGED, .stats = ST_PASS },
};
TABLE_END

static const struct h_table dp_balance = H_TABLE("balance", balance_rows);

#endif /* XLB_SELFTEST_DP_BALANCE_H */
