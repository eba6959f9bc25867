/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ring replaced: tracked flows keep their backend.
 */
#ifndef XLB_SELFTEST_DP_RING_H
#define XLB_SELFTEST_DP_RING_H

#include "world.h"

static int step_ring4_replace(void)
{
	return set_ring(SVC_RING4, BE_RING4_B, 1);
}

static int step_ring6_replace(void)
{
	return set_ring(SVC_RING6, BE_RING6_B, 1);
}

TABLE_BEGIN
static const struct fixture ring_rows[] = {
	{ "ring v4: flow F balanced to backend A",
	  .in = { TCP4(CLI4, 41001, VIP4_RING, 80), .tcp_flags = SYN },
	  DNAT(SVC_RING4, BE_RING4_A), .stats = ST_NEW },
	{ "ring v4: after the ring is replaced by B, F keeps A",
	  .setup = step_ring4_replace,
	  .in = { TCP4(CLI4, 41001, VIP4_RING, 80) },
	  DNAT(SVC_RING4, BE_RING4_A), .stats = ST_DNAT },
	{ "ring v4: a new flow follows the new ring to B",
	  .in = { TCP4(CLI4, 41002, VIP4_RING, 80), .tcp_flags = SYN },
	  DNAT(SVC_RING4, BE_RING4_B), .stats = ST_NEW },
	{ "ring v4: with conntrack flushed, F follows the new ring to B",
	  .setup = flush_ct,
	  .in = { TCP4(CLI4, 41001, VIP4_RING, 80) },
	  DNAT(SVC_RING4, BE_RING4_B), .stats = ST_NEW },
	{ "ring v6: flow F balanced to backend A",
	  .in = { TCP6(CLI6, 41001, VIP6_RING, 443), .tcp_flags = SYN },
	  DNAT(SVC_RING6, BE_RING6_A), .stats = ST_NEW },
	{ "ring v6: after the ring is replaced by B, F keeps A",
	  .setup = step_ring6_replace,
	  .in = { TCP6(CLI6, 41001, VIP6_RING, 443) },
	  DNAT(SVC_RING6, BE_RING6_A), .stats = ST_DNAT },
	{ "ring v6: a new flow follows the new ring to B",
	  .in = { TCP6(CLI6, 41002, VIP6_RING, 443), .tcp_flags = SYN },
	  DNAT(SVC_RING6, BE_RING6_B), .stats = ST_NEW },
	{ "ring v6: reply from A on the kept flow is reverse-NATed",
	  .in = { TCP6(BE6_RING_A, 8443, CLI6, 41001) },
	  RNAT(SVC_RING6), .stats = ST_RNAT },
};
TABLE_END

static const struct h_table dp_ring = H_TABLE("ring", ring_rows);

#endif /* XLB_SELFTEST_DP_RING_H */
