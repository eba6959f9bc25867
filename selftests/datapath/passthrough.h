/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Not for a VIP: untouched.
 */
#ifndef XLB_SELFTEST_DP_PASSTHROUGH_H
#define XLB_SELFTEST_DP_PASSTHROUGH_H

#include "world.h"

TABLE_BEGIN
static const struct fixture passthrough_rows[] = {
	{ "TCP v4 to a non-VIP address passes untouched",
	  .in = { TCP4(CLI4, 40301, OTHER4, 80) },
	  UNCHANGED, .stats = ST_PASS },
	{ "TCP v4 to a VIP on a port without frontend passes untouched",
	  .in = { TCP4(CLI4, 40302, VIP4, 81) },
	  UNCHANGED, .stats = ST_PASS },
	{ "UDP v4 to a TCP-only VIP port passes untouched",
	  .in = { UDP4(CLI4, 40303, VIP4, 80) },
	  UNCHANGED, .stats = ST_PASS },
	{ "TCP v6 to a non-VIP address passes untouched",
	  .in = { TCP6(CLI6, 40301, OTHER6, 443) },
	  UNCHANGED, .stats = ST_PASS },
	{ "TCP v4 from a backend to an unknown client passes untouched",
	  .in = { TCP4(BE4_T, 8080, CLI4_B, 40399) },
	  UNCHANGED, .stats = ST_PASS },
	/* ICMP is parsed (errors about balanced flows are reverse-NATed,
	 * see test_icmp); an echo is none of xlb's business. */
	{ "ICMP v4 echo to a VIP passes untouched",
	  .in = { MACS, .family = 4, .proto = IPPROTO_ICMP, .saddr = CLI4,
		  .daddr = VIP4, .sport = 7, .dport = 1, .payload_len = 56 },
	  UNCHANGED, .stats = ST_PASS },
	{ "ICMPv6 echo to a VIP passes untouched",
	  .in = { MACS, .family = 6, .proto = IPPROTO_ICMPV6, .saddr = CLI6,
		  .daddr = VIP6, .sport = 7, .dport = 1, .payload_len = 56 },
	  UNCHANGED, .stats = ST_PASS },
	{ "GRE over v4 to a VIP passes untouched",
	  .in = { MACS, .family = 4, .proto = 47, .saddr = CLI4,
		  .daddr = VIP4, .payload_len = 40 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "SCTP over v6 to a VIP passes untouched",
	  .in = { MACS, .family = 6, .proto = 132, .saddr = CLI6,
		  .daddr = VIP6, .payload_len = 40 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "ARP frame passes untouched",
	  .in = { MACS, .family = 0, .ethertype = 0x0806, .payload_len = 28 },
	  UNCHANGED, .stats = ST_UNSUP },
};
TABLE_END

static const struct h_table dp_passthrough = H_TABLE("passthrough", passthrough_rows);

#endif /* XLB_SELFTEST_DP_PASSTHROUGH_H */
