// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 and IPv6 fragments: the first fragment (it has the ports) is
 * balanced like any packet; the later ones (no ports) follow it to the
 * same backend, with only their address rewritten; a later fragment of a
 * datagram xlb never saw is passed untouched, never sent to a backend.
 * Replies likewise. Both programs, one table per family (sub-runs
 * xdp/v4 .. tc/v6); pkt_build_frag() cuts the fragments out of whole
 * datagrams, and the expected ones out of the rewritten datagrams.
 */
#include "datapath/harness.h"

enum { SVC_U4 = 1, SVC_U6 };
enum { BE_U4 = 1, BE_U6 };

#define CLI4 PKT_V4(10, 10, 0, 1)
#define VIP4 PKT_V4(10, 96, 7, 1)
#define BE4 PKT_V4(10, 20, 0, 11)
#define CLI6 PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1)
#define VIP6 PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 7, 1)
#define BE6 PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x11)

static const struct t_svc svcs[] = {
	{ SVC_U4, 4, VIP4, 53, IPPROTO_UDP, BE_U4 },
	{ SVC_U6, 6, VIP6, 53, IPPROTO_UDP, BE_U6 },
};

static const struct t_be bes[] = {
	{ BE_U4, SVC_U4, 4, BE4, 5353, XLB_BE_ACTIVE },
	{ BE_U6, SVC_U6, 6, BE6, 5353, XLB_BE_ACTIVE },
};

static const struct h_world world = {
	.svcs = svcs,
	.nsvcs = ARRAY_SIZE(svcs),
	.bes = bes,
	.nbes = ARRAY_SIZE(bes),
};

/* A 128-byte UDP datagram (header and 120 bytes), datagram id, cut in
 * two: the first 64 bytes with the ports and MF, the last 64 without. */
#define DGRAM(fam, sa, sp, da, dp, id)                                     \
	MACS, .family = fam, .proto = IPPROTO_UDP, .saddr = sa, .sport = sp, \
	.daddr = da, .dport = dp, .payload_len = 120, .payload_seed = 9,   \
	.ip_id = id
#define FIRST { .off = 0, .len = 64, .mf = true }
#define LATER { .off = 64, .len = 64 }

/* The fragments of one family's datagrams, in the order they arrive. */
TABLE_BEGIN
static const struct fixture v4_rows[] = {
	{ "first fragment DNATed with its ports",
	  .in = { DGRAM(4, CLI4, 40000, VIP4, 53, 100) }, .frag = FIRST,
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW,
	  .ct = CT_BE },
	{ "later fragment sent to the first one's backend, address only",
	  .in = { DGRAM(4, CLI4, 40000, VIP4, 53, 100) }, .frag = LATER,
	  DNAT(SVC_U4, BE_U4), .stats = ST_DNAT },
	{ "unknown later fragment untouched, counted as fragment_miss",
	  .in = { DGRAM(4, CLI4, 40000, VIP4, 53, 101) }, .frag = LATER,
	  UNCHANGED, .stats = ST_FRAG_MISS },
	{ "first fragment of a reply reverse-NATed",
	  .in = { DGRAM(4, BE4, 5353, CLI4, 40000, 102) }, .frag = FIRST,
	  RNAT(SVC_U4), .stats = ST_RNAT },
	{ "later fragment of a reply reverse-NATed",
	  .in = { DGRAM(4, BE4, 5353, CLI4, 40000, 102) }, .frag = LATER,
	  RNAT(SVC_U4), .stats = ST_RNAT },
};

static const struct fixture v6_rows[] = {
	{ "first fragment DNATed with its ports",
	  .in = { DGRAM(6, CLI6, 40000, VIP6, 53, 100) }, .frag = FIRST,
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW,
	  .ct = CT_BE },
	{ "later fragment sent to the first one's backend, address only",
	  .in = { DGRAM(6, CLI6, 40000, VIP6, 53, 100) }, .frag = LATER,
	  DNAT(SVC_U6, BE_U6), .stats = ST_DNAT },
	{ "unknown later fragment untouched, counted as fragment_miss",
	  .in = { DGRAM(6, CLI6, 40000, VIP6, 53, 101) }, .frag = LATER,
	  UNCHANGED, .stats = ST_FRAG_MISS },
	{ "first fragment of a reply reverse-NATed",
	  .in = { DGRAM(6, BE6, 5353, CLI6, 40000, 102) }, .frag = FIRST,
	  RNAT(SVC_U6), .stats = ST_RNAT },
	{ "later fragment of a reply reverse-NATed",
	  .in = { DGRAM(6, BE6, 5353, CLI6, 40000, 102) }, .frag = LATER,
	  RNAT(SVC_U6), .stats = ST_RNAT },
};
TABLE_END

static const struct h_table v4 = H_TABLE("v4", v4_rows);
static const struct h_table v6 = H_TABLE("v6", v6_rows);
static const struct h_table *const tables[] = { &v4, &v6 };

int main(void)
{
	h_start("test_frag", &world, tables, ARRAY_SIZE(tables));
	h_close();
	return test_done();
}
