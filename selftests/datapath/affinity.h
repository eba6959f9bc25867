/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Session affinity: the ring gives the slot of C's first flow to A and
 * every other slot to B (aff_ring).
 */
#ifndef XLB_SELFTEST_DP_AFFINITY_H
#define XLB_SELFTEST_DP_AFFINITY_H

#include "world.h"

struct t_flow {
	struct pkt_addr client;
	__u16 sport;		/* host order */
};

static const struct pkt_addr cli4 = CLI4, cli6 = CLI6;

/* The flows of the table that must find backend B in their slot. */
static const struct t_flow aff4_b_flows[] = {
	{ CLI4, 45002 }, { CLI4, 45003 }, { CLI4, 45004 }, { CLI4, 45005 },
	{ CLI4, 45006 }, { CLI4, 45007 }, { CLI4_B, 45101 },
};
static const struct t_flow aff6_b_flows[] = {
	{ CLI6, 45002 }, { CLI6, 45003 },
};

/* Gives service svc_id a ring whose slots all hold backend b except the
 * slot of the flow (client, AFF_P1), which holds a; then checks that each
 * flow in others hashes to a slot of b. That premise is what lets the
 * table tell an affinity hit from the ring's choice. */
static int aff_ring(__u32 svc_id, const struct pkt_addr *client, __u32 a,
		    __u32 b, const struct t_flow *others, size_t n)
{
	const struct t_svc *s = svc_of(svc_id);
	__u32 slot_a, slot;
	size_t i;
	int err;

	if (!s)
		return -ENOENT;
	err = set_ring(svc_id, b, 0);
	if (err)
		return err;
	slot_a = svc_slot(s, client, AFF_P1);
	err = put_ring(T_RING_OFF(svc_id, 0) + slot_a, &a, 1);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		slot = svc_slot(s, &others[i].client, others[i].sport);
		if (slot == slot_a) {
			pr_err("service %u: premise: client port %u hashes to "
			       "slot %u, the slot of backend %u", svc_id,
			       others[i].sport, slot, a);
			return -EDOM;
		}
	}
	return flush_affinity();
}

static int step_aff4_ring(void)
{
	return aff_ring(SVC_AFF4, &cli4, BE_AFF4_A, BE_AFF4_B, aff4_b_flows,
			ARRAY_SIZE(aff4_b_flows));
}

static int step_aff4_valid(void)
{
	return put_affinity(SVC_AFF4, 4, &cli4, BE_AFF4_A, AFF_AGE_VALID);
}

static int step_aff4_expired(void)
{
	return put_affinity(SVC_AFF4, 4, &cli4, BE_AFF4_A, AFF_AGE_EXPIRED);
}

static int step_aff4_unused(void)
{
	int err = set_be_state(BE_AFF4_A, XLB_BE_UNUSED);

	return err ?: put_affinity(SVC_AFF4, 4, &cli4, BE_AFF4_A, 0);
}

static int step_aff4_term(void)
{
	int err = set_be_state(BE_AFF4_A, XLB_BE_TERMINATING);

	return err ?: put_affinity(SVC_AFF4, 4, &cli4, BE_AFF4_A, 0);
}

/* A back to ACTIVE; the client's entry names another service's backend. */
static int step_aff4_foreign(void)
{
	int err = set_be_state(BE_AFF4_A, XLB_BE_ACTIVE);

	return err ?: put_affinity(SVC_AFF4, 4, &cli4, BE_T4, 0);
}

static int step_aff6_ring(void)
{
	return aff_ring(SVC_AFF6, &cli6, BE_AFF6_A, BE_AFF6_B, aff6_b_flows,
			ARRAY_SIZE(aff6_b_flows));
}

static int step_aff6_expired(void)
{
	return put_affinity(SVC_AFF6, 6, &cli6, BE_AFF6_A, AFF_AGE_EXPIRED);
}

/* Picks a client port whose slot holds backend A (the slot of AFF_P1),
 * other than AFF_P1 itself, whose flow is tracked. */
static void tweak_aff4_slot_a(const struct fixture *f, struct pkt_spec *in)
{
	const struct t_svc *s = svc_of(SVC_AFF4);
	__u32 slot_a = svc_slot(s, &cli4, AFF_P1);
	__u16 port;

	for (port = 45500; port < 46000; port++) {
		if (svc_slot(s, &in->saddr, port) == slot_a)
			break;
	}
	in->sport = port;
	ASSERT_EQ(svc_slot(s, &in->saddr, port), slot_a,
		  "%s: premise: client port %u hashes to the slot of A",
		  f->desc, port);
}

TABLE_BEGIN
static const struct fixture affinity_rows[] = {
	{ "affinity v4: C's first flow, whose slot holds A, goes to A",
	  .setup = step_aff4_ring,
	  .in = { TCP4(CLI4, AFF_P1, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_A), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: C's second flow, whose slot holds B, goes to A (hit)",
	  .in = { TCP4(CLI4, 45002, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_A), .stats = ST_AFF, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: data on the second flow stays on A",
	  .in = { TCP4(CLI4, 45002, VIP4_AFF, 80), .payload_len = 64 },
	  DNAT(SVC_AFF4, BE_AFF4_A), .stats = ST_DNAT },
	{ "affinity v4: reply from A on the second flow is reverse-NATed",
	  .in = { TCP4(BE4_AFF_A, 8080, CLI4, 45002), .tcp_flags = SYN | ACK },
	  RNAT(SVC_AFF4), .stats = ST_RNAT },
	{ "affinity v4: another client's flow, whose slot holds B, goes to B",
	  .in = { TCP4(CLI4_B, 45101, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_B), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: an entry 20 s old (timeout 30 s) holds: B's slot, to A",
	  .setup = step_aff4_valid,
	  .in = { TCP4(CLI4, 45003, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_A), .stats = ST_AFF, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: an entry 40 s old (timeout 30 s) expired: ring, to B",
	  .setup = step_aff4_expired,
	  .in = { TCP4(CLI4, 45004, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_B), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: C now sticks to B, also from a slot that holds A",
	  .in = { TCP4(CLI4, 0, VIP4_AFF, 80), .tcp_flags = SYN },
	  .tweak = tweak_aff4_slot_a,
	  DNAT(SVC_AFF4, BE_AFF4_B), .stats = ST_AFF, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: an entry naming an UNUSED backend is ignored: to B",
	  .setup = step_aff4_unused,
	  .in = { TCP4(CLI4, 45005, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_B), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: an entry naming a TERMINATING backend is ignored: to B",
	  .setup = step_aff4_term,
	  .in = { TCP4(CLI4, 45006, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_B), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
	{ "affinity v4: an entry naming another service's backend is ignored",
	  .setup = step_aff4_foreign,
	  .in = { TCP4(CLI4, 45007, VIP4_AFF, 80), .tcp_flags = SYN },
	  DNAT(SVC_AFF4, BE_AFF4_B), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
	{ "affinity v6: C's first flow, whose slot holds A, goes to A",
	  .setup = step_aff6_ring,
	  .in = { TCP6(CLI6, AFF_P1, VIP6_AFF, 443), .tcp_flags = SYN },
	  DNAT(SVC_AFF6, BE_AFF6_A), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
	{ "affinity v6: C's second flow, whose slot holds B, goes to A (hit)",
	  .in = { TCP6(CLI6, 45002, VIP6_AFF, 443), .tcp_flags = SYN },
	  DNAT(SVC_AFF6, BE_AFF6_A), .stats = ST_AFF, .ct = CT_BE,
	  .aff = true },
	{ "affinity v6: reply from A on the second flow is reverse-NATed",
	  .in = { TCP6(BE6_AFF_A, 8443, CLI6, 45002), .tcp_flags = SYN | ACK },
	  RNAT(SVC_AFF6), .stats = ST_RNAT },
	{ "affinity v6: an entry 40 s old (timeout 30 s) expired: ring, to B",
	  .setup = step_aff6_expired,
	  .in = { TCP6(CLI6, 45003, VIP6_AFF, 443), .tcp_flags = SYN },
	  DNAT(SVC_AFF6, BE_AFF6_B), .stats = ST_NEW, .ct = CT_BE,
	  .aff = true },
};
TABLE_END

static const struct h_table dp_affinity = H_TABLE("affinity", affinity_rows);

#endif /* XLB_SELFTEST_DP_AFFINITY_H */
