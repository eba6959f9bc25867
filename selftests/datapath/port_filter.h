/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The port filter: run through the programs loaded with
 * xlb_cfg.port_filter = 1 only. The filter trusts xlb_ports: a port that
 * no frontend (backend) uses skips the service (reply) lookup, whatever
 * the maps hold. xlbd keeps the counts exact; these cases pin what
 * happens when they say 0.
 */
#ifndef XLB_SELFTEST_DP_PORT_FILTER_H
#define XLB_SELFTEST_DP_PORT_FILTER_H

#include "world.h"

static int step_pf_none(void)
{
	memset(h_env.ports, 0, T_PORTS * sizeof(*h_env.ports));
	return flush_ct();
}

static int step_pf_fe80(void)
{
	h_env.ports[80].frontends = 1;
	return 0;
}

static int step_pf_be8080(void)
{
	h_env.ports[8080].backends = 1;
	return 0;
}

static int step_pf_fe443(void)
{
	h_env.ports[443].frontends = 1;
	return 0;
}

static int step_pf_be8443(void)
{
	h_env.ports[8443].backends = 1;
	return 0;
}

TABLE_BEGIN
static const struct fixture port_filter_rows[] = {
	{ "port filter v4: VIP port with frontends=0 passes untouched",
	  .setup = step_pf_none,
	  .in = { TCP4(CLI4, 46001, VIP4, 80), .tcp_flags = SYN },
	  UNCHANGED, .stats = ST_PASS, .ct = CT_NONE },
	{ "port filter v4: VIP port with frontends=1 is DNATed",
	  .setup = step_pf_fe80,
	  .in = { TCP4(CLI4, 46001, VIP4, 80), .tcp_flags = SYN },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW, .ct = CT_BE },
	{ "port filter v4: reply from a port with backends=0 passes untouched",
	  .in = { TCP4(BE4_T, 8080, CLI4, 46001), .tcp_flags = SYN | ACK },
	  UNCHANGED, .stats = ST_PASS },
	{ "port filter v4: reply from a port with backends=1 is reverse-NATed",
	  .setup = step_pf_be8080,
	  .in = { TCP4(BE4_T, 8080, CLI4, 46001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "port filter v6: VIP port with frontends=0 passes untouched",
	  .in = { TCP6(CLI6, 46001, VIP6, 443), .tcp_flags = SYN },
	  UNCHANGED, .stats = ST_PASS, .ct = CT_NONE },
	{ "port filter v6: VIP port with frontends=1 is DNATed",
	  .setup = step_pf_fe443,
	  .in = { TCP6(CLI6, 46001, VIP6, 443), .tcp_flags = SYN },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW, .ct = CT_BE },
	{ "port filter v6: reply from a port with backends=0 passes untouched",
	  .in = { TCP6(BE6_T, 8443, CLI6, 46001), .tcp_flags = SYN | ACK },
	  UNCHANGED, .stats = ST_PASS },
	{ "port filter v6: reply from a port with backends=1 is reverse-NATed",
	  .setup = step_pf_be8443,
	  .in = { TCP6(BE6_T, 8443, CLI6, 46001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_T6), .stats = ST_RNAT },
};
TABLE_END

static const struct h_table dp_port_filter = {
	.name = "port_filter",
	.rows = port_filter_rows,
	.n = ARRAY_SIZE(port_filter_rows),
	.port_filter = true,
};

#endif /* XLB_SELFTEST_DP_PORT_FILTER_H */
