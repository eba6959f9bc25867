/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frontend kinds: one service, several xlb_svc entries.
 */
#ifndef XLB_SELFTEST_DP_FRONTENDS_H
#define XLB_SELFTEST_DP_FRONTENDS_H

#include "world.h"

TABLE_BEGIN
static const struct fixture frontends_rows[] = {
	{ "frontends v4: cluster IP is DNATed to the service's backend",
	  .in = { TCP4(CLI4, 48001, VIP4_FE, 80), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v4: external IP is DNATed to the service's backend",
	  .in = { TCP4(CLI4, 48002, EXT4_FE, 80), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v4: load-balancer IP is DNATed to the service's backend",
	  .in = { TCP4(CLI4, 48003, LB4_FE, 80), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v4: NodePort on a node address is DNATed",
	  .in = { TCP4(CLI4, 48004, NODE4, NP_FE), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v4: NodePort on a second node address is DNATed",
	  .in = { TCP4(CLI4, 48005, NODE4_B, NP_FE), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v4: data via the NodePort stays on its flow",
	  .in = { TCP4(CLI4, 48004, NODE4, NP_FE), .payload_len = 200 },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_DNAT },
	{ "frontends v4: reply on the cluster-IP flow is from the cluster IP",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 48001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .stats = ST_RNAT },
	{ "frontends v4: reply on the external-IP flow is from that IP",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 48002), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .fe = FE_EXT4, .stats = ST_RNAT },
	{ "frontends v4: reply on the LB-IP flow is from the LB IP",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 48003), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .fe = FE_LB4, .stats = ST_RNAT },
	{ "frontends v4: reply on the NodePort flow is from node:NodePort",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 48004), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .fe = FE_NP4, .stats = ST_RNAT },
	{ "frontends v4: reply via the second node address comes from it",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 48005), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .fe = FE_NP4_B, .stats = ST_RNAT },
	/* The client reuses port 48001 (cluster IP) towards the external IP:
	 * the backend is the same, so the first flow has ended (the backend
	 * would see one connection): the new one takes the client entry. */
	{ "frontends v4: a client port reused towards another frontend of the same backend takes its entry",
	  .in = { TCP4(CLI4, 48001, EXT4_FE, 80), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v4: the reused port's reply comes from the new frontend",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 48001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .fe = FE_EXT4, .stats = ST_RNAT },
	{ "frontends v4: node address on the service port (no frontend) passes",
	  .in = { TCP4(CLI4, 48006, NODE4, 80), .tcp_flags = SYN },
	  UNCHANGED, .stats = ST_PASS, .ct = CT_NONE },
	{ "frontends v4: cluster IP on the NodePort (no frontend) passes",
	  .in = { TCP4(CLI4, 48007, VIP4_FE, NP_FE), .tcp_flags = SYN },
	  UNCHANGED, .stats = ST_PASS, .ct = CT_NONE },
	{ "frontends v6: cluster IP is DNATed to the service's backend",
	  .in = { UDP6(CLI6, 48001, VIP6_FE, 53) },
	  DNAT(SVC_FE6, BE_FE6), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v6: external IP is DNATed to the service's backend",
	  .in = { UDP6(CLI6, 48002, EXT6_FE, 53) },
	  DNAT(SVC_FE6, BE_FE6), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v6: load-balancer IP is DNATed to the service's backend",
	  .in = { UDP6(CLI6, 48003, LB6_FE, 53) },
	  DNAT(SVC_FE6, BE_FE6), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v6: NodePort on the node address is DNATed",
	  .in = { UDP6(CLI6, 48004, NODE6, NP_FE) },
	  DNAT(SVC_FE6, BE_FE6), .stats = ST_NEW, .ct = CT_BE },
	{ "frontends v6: reply on the cluster-IP flow is from the cluster IP",
	  .in = { UDP6(BE6_FE, 5353, CLI6, 48001) },
	  RNAT(SVC_FE6), .stats = ST_RNAT },
	{ "frontends v6: reply on the external-IP flow is from that IP",
	  .in = { UDP6(BE6_FE, 5353, CLI6, 48002) },
	  RNAT(SVC_FE6), .fe = FE_EXT6, .stats = ST_RNAT },
	{ "frontends v6: reply on the LB-IP flow is from the LB IP",
	  .in = { UDP6(BE6_FE, 5353, CLI6, 48003) },
	  RNAT(SVC_FE6), .fe = FE_LB6, .stats = ST_RNAT },
	{ "frontends v6: reply on the NodePort flow is from node:NodePort",
	  .in = { UDP6(BE6_FE, 5353, CLI6, 48004) },
	  RNAT(SVC_FE6), .fe = FE_NP6, .stats = ST_RNAT },
};
TABLE_END

static const struct h_table dp_frontends = H_TABLE("frontends", frontends_rows);

#endif /* XLB_SELFTEST_DP_FRONTENDS_H */
