/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Local policy: the NodePort frontend has the node-local ring (L only),
 * the cluster IP the cluster ring (R only); both have affinity, whose
 * entries are per service.
 */
#ifndef XLB_SELFTEST_DP_LOCAL_H
#define XLB_SELFTEST_DP_LOCAL_H

#include "world.h"

TABLE_BEGIN
static const struct fixture local_rows[] = {
	{ "local: cluster IP DNATs by the cluster ring: remote R",
	  .in = { TCP4(CLI4_B, 47001, VIP4_LOC, 80), .tcp_flags = SYN },
	  DNAT(SVC_LOC, BE_LOC_R), .stats = ST_NEW, .ct = CT_BE, .aff = true },
	{ "local: NodePort (LOCAL) DNATs by the node-local ring: L",
	  .in = { TCP4(CLI4, 47002, NODE4, NP_LOC), .tcp_flags = SYN },
	  DNAT(SVC_LOC, BE_LOC_L), .stats = ST_NEW, .ct = CT_BE, .aff = true },
	{ "local: on the LOCAL frontend an affinity to remote R is ignored: L",
	  .in = { TCP4(CLI4_B, 47003, NODE4, NP_LOC), .tcp_flags = SYN },
	  DNAT(SVC_LOC, BE_LOC_L), .stats = ST_NEW, .ct = CT_BE, .aff = true },
	{ "local: reply from L is from node address:NodePort",
	  .in = { TCP4(BE4_LOC_L, 8080, CLI4_B, 47003),
		  .tcp_flags = SYN | ACK },
	  RNAT(SVC_LOC), .fe = FE_LOC_NP, .stats = ST_RNAT },
	{ "local: on the LOCAL frontend an affinity to local L holds (hit)",
	  .in = { TCP4(CLI4_B, 47004, NODE4, NP_LOC), .tcp_flags = SYN },
	  DNAT(SVC_LOC, BE_LOC_L), .stats = ST_AFF, .ct = CT_BE, .aff = true },
	{ "local: cluster IP honours the affinity to L (its ring holds R)",
	  .in = { TCP4(CLI4_B, 47005, VIP4_LOC, 80), .tcp_flags = SYN },
	  DNAT(SVC_LOC, BE_LOC_L), .stats = ST_AFF, .ct = CT_BE, .aff = true },
	{ "local: reply from L on the cluster-IP flow is from the cluster IP",
	  .in = { TCP4(BE4_LOC_L, 8080, CLI4_B, 47005) },
	  RNAT(SVC_LOC), .stats = ST_RNAT },
};
TABLE_END

static const struct h_table dp_local = H_TABLE("local", local_rows);

#endif /* XLB_SELFTEST_DP_LOCAL_H */
