// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Hairpin: a backend that reaches its own service and is balanced to
 * itself gets its source rewritten to the node's hairpin address (it
 * would otherwise answer itself directly and never through the VIP), and
 * the reply is turned back into VIP -> backend. Other clients' flows keep
 * their source. Both programs as xlbd loads them, one table per family
 * (sub-runs xdp/v4 .. tc/v6); expected packets built from scratch.
 */
#include "datapath/harness.h"

enum { SVC4 = 1, SVC6 };
enum { BE4 = 1, BE6 };

#define VIP4 PKT_V4(10, 96, 3, 1)
#define BE4_A PKT_V4(10, 20, 0, 11)
#define HP4 PKT_V4(10, 20, 0, 2)
#define CLI4 PKT_V4(10, 10, 0, 1)
#define VIP6 PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 3, 1)
#define BE6_A PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x11)
#define HP6 PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 2)
#define CLI6 PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1)

static const struct pkt_addr hp4 = HP4, hp6 = HP6;

static const struct t_svc svcs[] = {
	{ SVC4, 4, VIP4, 80, IPPROTO_TCP, BE4 },
	{ SVC6, 6, VIP6, 80, IPPROTO_TCP, BE6 },
};

static const struct t_be bes[] = {
	{ BE4, SVC4, 4, BE4_A, 8080, XLB_BE_ACTIVE },
	{ BE6, SVC6, 6, BE6_A, 8080, XLB_BE_ACTIVE },
};

static const struct h_world world = {
	.svcs = svcs,
	.nsvcs = ARRAY_SIZE(svcs),
	.bes = bes,
	.nbes = ARRAY_SIZE(bes),
	.hairpin4 = &hp4,
	.hairpin6 = &hp6,
	.ports = true,
};

/* No hairpin address configured, and the hairpinned flows gone. */
static int step_no_hairpin4(void)
{
	return flush_ct() ?: set_hairpin(4, NULL);
}

static int step_no_hairpin6(void)
{
	return flush_ct() ?: set_hairpin(6, NULL);
}

#define SEG(fam, sa, sp, da, dp, fl)                                       \
	MACS, .family = fam, .proto = IPPROTO_TCP, .saddr = sa, .sport = sp, \
	.daddr = da, .dport = dp, .tcp_flags = fl, .payload_len = 12,      \
	.seq = 5, .ack = 9

#define ST_HAIRPIN_NEW                                                     \
	{ [XLB_STAT_CT_NEW] = 1, [XLB_STAT_DNAT] = 1,                      \
	  [XLB_STAT_HAIRPIN] = 1 }
#define ST_HAIRPIN_DNAT { [XLB_STAT_DNAT] = 1, [XLB_STAT_HAIRPIN] = 1 }
#define ST_HAIRPIN_RNAT { [XLB_STAT_RNAT] = 1, [XLB_STAT_HAIRPIN] = 1 }

TABLE_BEGIN
static const struct fixture v4_rows[] = {
	{ "hairpin SYN: source to the hairpin address, destination to the backend",
	  .in = { SEG(4, BE4_A, 41000, VIP4, 80, SYN) },
	  DNAT(SVC4, BE4), .hairpin = true, .stats = ST_HAIRPIN_NEW },
	{ "hairpin: established segment too",
	  .in = { SEG(4, BE4_A, 41000, VIP4, 80, ACK) },
	  DNAT(SVC4, BE4), .hairpin = true, .stats = ST_HAIRPIN_DNAT },
	{ "hairpin reply: from the VIP, to the backend",
	  .in = { SEG(4, BE4_A, 8080, HP4, 41000, SYN | ACK) },
	  RNAT(SVC4), .be = BE4, .hairpin = true, .stats = ST_HAIRPIN_RNAT },
	{ "a real client keeps its source",
	  .in = { SEG(4, CLI4, 41001, VIP4, 80, SYN) },
	  DNAT(SVC4, BE4), .stats = ST_NEW, .ct = CT_BE },
	{ "no hairpin address: DNAT only", .setup = step_no_hairpin4,
	  .in = { SEG(4, BE4_A, 41002, VIP4, 80, SYN) },
	  DNAT(SVC4, BE4), .stats = ST_NEW, .ct = CT_BE },
};

static const struct fixture v6_rows[] = {
	{ "hairpin SYN: source to the hairpin address, destination to the backend",
	  .in = { SEG(6, BE6_A, 41000, VIP6, 80, SYN) },
	  DNAT(SVC6, BE6), .hairpin = true, .stats = ST_HAIRPIN_NEW },
	{ "hairpin: established segment too",
	  .in = { SEG(6, BE6_A, 41000, VIP6, 80, ACK) },
	  DNAT(SVC6, BE6), .hairpin = true, .stats = ST_HAIRPIN_DNAT },
	{ "hairpin reply: from the VIP, to the backend",
	  .in = { SEG(6, BE6_A, 8080, HP6, 41000, SYN | ACK) },
	  RNAT(SVC6), .be = BE6, .hairpin = true, .stats = ST_HAIRPIN_RNAT },
	{ "a real client keeps its source",
	  .in = { SEG(6, CLI6, 41001, VIP6, 80, SYN) },
	  DNAT(SVC6, BE6), .stats = ST_NEW, .ct = CT_BE },
	{ "no hairpin address: DNAT only", .setup = step_no_hairpin6,
	  .in = { SEG(6, BE6_A, 41002, VIP6, 80, SYN) },
	  DNAT(SVC6, BE6), .stats = ST_NEW, .ct = CT_BE },
};
TABLE_END

static const struct h_table v4 = H_TABLE_XLBD("v4", v4_rows);
static const struct h_table v6 = H_TABLE_XLBD("v6", v6_rows);
static const struct h_table *const tables[] = { &v4, &v6 };

int main(void)
{
	/* Three hairpinned packets per sub-run: 4 * 3 when all run. */
	if (h_start("test_hairpin", &world, tables, ARRAY_SIZE(tables)))
		ASSERT_EQ(h_counter(XLB_STAT_HAIRPIN),
			  h_env.want_total[XLB_STAT_HAIRPIN],
			  "hairpin counter: three hairpinned packets per run");
	h_close();
	return test_done();
}
