/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 options, IPv6 extension headers.
 */
#ifndef XLB_SELFTEST_DP_HEADERS_H
#define XLB_SELFTEST_DP_HEADERS_H

#include "world.h"

TABLE_BEGIN
static const struct fixture headers_rows[] = {
	{ "TCP v4 with 8 bytes of IP options is DNATed",
	  .in = { TCP4(CLI4, 40201, VIP4, 80), .ipopt_len = 8 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "UDP v4 with 40 bytes of IP options (IHL 15) is DNATed",
	  .in = { UDP4(CLI4, 40202, VIP4, 53), .ipopt_len = 40 },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "TCP v4 reply with IP options is reverse-NATed",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40201), .ipopt_len = 4 },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "TCP v6 with a hop-by-hop header is DNATed",
	  .in = { TCP6(CLI6, 40201, VIP6, 443), .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "UDP v6 with a destination options header is DNATed",
	  .in = { UDP6(CLI6, 40202, VIP6, 53), .next = 1,
		  .ext = { EXT(IPPROTO_DSTOPTS, 1) } },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW },
	{ "TCP v6 with a routing header (segments left 0) is DNATed",
	  .in = { TCP6(CLI6, 40203, VIP6, 443), .next = 1,
		  .ext = { EXT(IPPROTO_ROUTING, 2) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "TCP v6 with hop-by-hop, routing and dest opts is DNATed",
	  .in = { TCP6(CLI6, 40204, VIP6, 443), .next = 3,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0), EXT(IPPROTO_ROUTING, 2),
			   EXT(IPPROTO_DSTOPTS, 0) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "UDP v6 reply with a hop-by-hop header is reverse-NATed",
	  .in = { UDP6(BE6_U, 5353, CLI6, 40202), .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) } },
	  RNAT(SVC_U6), .stats = ST_RNAT },
	{ "TCP v6 with 6 extension headers (the parser's bound) is DNATed",
	  .in = { TCP6(CLI6, 40205, VIP6, 443), .next = 6,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_ROUTING, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_DSTOPTS, 0), EXT(IPPROTO_DSTOPTS, 0) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "TCP v6 with 7 extension headers (beyond the parser) passes",
	  .in = { TCP6(CLI6, 40206, VIP6, 443), .next = 7,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_ROUTING, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_DSTOPTS, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_DSTOPTS, 0) } },
	  UNCHANGED, .stats = ST_UNSUP },
};
TABLE_END

static const struct h_table dp_headers = H_TABLE("headers", headers_rows);

#endif /* XLB_SELFTEST_DP_HEADERS_H */
