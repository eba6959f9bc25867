/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Tracked backend removed: re-balanced (stale).
 */
#ifndef XLB_SELFTEST_DP_STALE_H
#define XLB_SELFTEST_DP_STALE_H

#include "world.h"

/* The agent removes backend A: state UNUSED, ring rebuilt with B. */
static int step_stale_remove(void)
{
	int err = set_be_state(BE_STALE_A, XLB_BE_UNUSED);

	return err ? err : set_ring(SVC_STALE, BE_STALE_B, 1);
}

TABLE_BEGIN
static const struct fixture stale_rows[] = {
	{ "stale: flow G balanced to backend A",
	  .in = { TCP4(CLI4, 42001, VIP4_STALE, 80), .tcp_flags = SYN },
	  DNAT(SVC_STALE, BE_STALE_A), .stats = ST_NEW },
	{ "stale: A removed (UNUSED), ring rebuilt: G re-balanced to B",
	  .setup = step_stale_remove,
	  .in = { TCP4(CLI4, 42001, VIP4_STALE, 80) },
	  DNAT(SVC_STALE, BE_STALE_B), .stats = ST_STALE },
	{ "stale: G stays on B",
	  .in = { TCP4(CLI4, 42001, VIP4_STALE, 80) },
	  DNAT(SVC_STALE, BE_STALE_B), .stats = ST_DNAT },
	{ "stale: reply from B on G is reverse-NATed",
	  .in = { TCP4(BE4_STALE_B, 8080, CLI4, 42001) },
	  RNAT(SVC_STALE), .stats = ST_RNAT },
};
TABLE_END

static const struct h_table dp_stale = H_TABLE("stale", stale_rows);

#endif /* XLB_SELFTEST_DP_STALE_H */
