/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fragments: a first fragment carries the ports and is balanced (its L4
 * checksum covers the whole datagram, so the incremental update equals the
 * one computed here over the fragment); a later fragment of no recorded
 * datagram passes (test_frag follows whole datagrams).
 */
#ifndef XLB_SELFTEST_DP_FRAG_H
#define XLB_SELFTEST_DP_FRAG_H

#include "world.h"

TABLE_BEGIN
static const struct fixture frag_rows[] = {
	{ "TCP v4 first fragment (MF) to a VIP is DNATed",
	  .in = { TCP4(CLI4, 40401, VIP4, 80), .frag = 0x2000,
		  .payload_len = 200 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW, .ct = CT_BE },
	{ "UDP v4 later fragment (offset 185) of no datagram passes untouched",
	  .in = { UDP4(CLI4, 40402, VIP4, 53), .frag = 185 },
	  UNCHANGED, .stats = ST_FRAG_MISS },
	{ "UDP v4 last fragment (offset, no MF) of no datagram passes untouched",
	  .in = { UDP4(CLI4, 40403, VIP4, 53), .frag = 0x0001 },
	  UNCHANGED, .stats = ST_FRAG_MISS },
	{ "UDP v6 first fragment to a VIP is DNATed",
	  .in = { UDP6(CLI6, 40401, VIP6, 53), .next = 1,
		  .ext = { { .type = IPPROTO_FRAGMENT, .mf = true } } },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW, .ct = CT_BE },
	{ "TCP v6 later fragment of no datagram, after hop-by-hop, passes",
	  .in = { TCP6(CLI6, 40402, VIP6, 443), .next = 2,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0),
			   { .type = IPPROTO_FRAGMENT, .frag_off = 100 } } },
	  UNCHANGED, .stats = ST_FRAG_MISS },
};
TABLE_END

static const struct h_table dp_frag = H_TABLE("frag", frag_rows);

#endif /* XLB_SELFTEST_DP_FRAG_H */
