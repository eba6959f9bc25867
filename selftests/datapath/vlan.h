/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * VLAN tags.
 */
#ifndef XLB_SELFTEST_DP_VLAN_H
#define XLB_SELFTEST_DP_VLAN_H

#include "world.h"

TABLE_BEGIN
static const struct fixture vlan_rows[] = {
	{ "TCP v4 with one VLAN tag to a VIP is DNATed",
	  .in = { TCP4(CLI4, 40101, VIP4, 80), .nvlan = 1,
		  .vlan_tci = { 100 } },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 reply with one VLAN tag is reverse-NATed",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40101), .nvlan = 1,
		  .vlan_tci = { 100 } },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "UDP v6 with two VLAN tags (802.1ad + 802.1Q) is DNATed",
	  .in = { UDP6(CLI6, 40102, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8, 0x8100 }, .vlan_tci = { 10, 20 } },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW },
	{ "UDP v4 with two VLAN tags is DNATed",
	  .in = { UDP4(CLI4, 40103, VIP4, 53), .nvlan = 2,
		  .vlan_tci = { 10, 20 } },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "TCP v4 with three VLAN tags (beyond the parser) passes",
	  .in = { TCP4(CLI4, 40104, VIP4, 80), .nvlan = 3,
		  .vlan_tci = { 10, 20, 30 } },
	  UNCHANGED, .stats = ST_UNSUP },
};
TABLE_END

static const struct h_table dp_vlan = H_TABLE("vlan", vlan_rows);

#endif /* XLB_SELFTEST_DP_VLAN_H */
