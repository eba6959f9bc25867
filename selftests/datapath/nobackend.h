/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * No backend: a segment with payload is dropped (a RST answers only
 * segments without); a UDP datagram is answered with a port unreachable,
 * whose bytes test_reject checks.
 */
#ifndef XLB_SELFTEST_DP_NOBACKEND_H
#define XLB_SELFTEST_DP_NOBACKEND_H

#include "world.h"

TABLE_BEGIN
static const struct fixture nobackend_rows[] = {
	{ "TCP v4 SYN with payload to a VIP without backend is dropped",
	  .in = { TCP4(CLI4, 40501, VIP4_EMPTY, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_NOBE, .ct = CT_NONE },
	{ "UDP v6 to a VIP whose ring holds an UNUSED backend is rejected",
	  .in = { UDP6(CLI6, 40501, VIP6_DEAD, 53) },
	  .verdict = V_TX, .rw = RW_NONE, .stats = ST_REJECT,
	  .ct = CT_NONE },
};
TABLE_END

static const struct h_table dp_nobackend = H_TABLE("nobackend", nobackend_rows);

#endif /* XLB_SELFTEST_DP_NOBACKEND_H */
