/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Tracked backend terminating: kept, but no new flows.
 */
#ifndef XLB_SELFTEST_DP_TERMINATING_H
#define XLB_SELFTEST_DP_TERMINATING_H

#include "world.h"

/* Backend A starts terminating; its ring is not rebuilt yet. */
static int step_term_mark(void)
{
	return set_be_state(BE_TERM_A, XLB_BE_TERMINATING);
}

static int step_term_ring(void)
{
	return set_ring(SVC_TERM, BE_TERM_B, 1);
}

TABLE_BEGIN
static const struct fixture terminating_rows[] = {
	{ "terminating: flow H balanced to backend A",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80), .tcp_flags = SYN },
	  DNAT(SVC_TERM, BE_TERM_A), .stats = ST_NEW },
	{ "terminating: A TERMINATING keeps tracked flow H",
	  .setup = step_term_mark,
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80) },
	  DNAT(SVC_TERM, BE_TERM_A), .stats = ST_DNAT },
	{ "terminating: a new flow whose slot holds A is dropped",
	  .in = { TCP4(CLI4, 43002, VIP4_TERM, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_NOBE },
	{ "terminating: ring rebuilt without A: a new flow goes to B",
	  .setup = step_term_ring,
	  .in = { TCP4(CLI4, 43003, VIP4_TERM, 80), .tcp_flags = SYN },
	  DNAT(SVC_TERM, BE_TERM_B), .stats = ST_NEW },
	{ "terminating: H still goes to A after the rebuild",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80) },
	  DNAT(SVC_TERM, BE_TERM_A), .stats = ST_DNAT },
	{ "terminating: a SYN reusing H's ports is a new connection: to B",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80), .tcp_flags = SYN },
	  DNAT(SVC_TERM, BE_TERM_B), .stats = ST_NEW },
	{ "terminating: the new connection on H's ports stays on B",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80) },
	  DNAT(SVC_TERM, BE_TERM_B), .stats = ST_DNAT },
};
TABLE_END

static const struct h_table dp_terminating = H_TABLE("terminating", terminating_rows);

#endif /* XLB_SELFTEST_DP_TERMINATING_H */
