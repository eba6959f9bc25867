/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Source NAT: NodePort frontends with XLB_SVC_F_SNAT_REMOTE give flows to
 * the remote backend the node's source NAT address and a port of the
 * range; an external IP with the same flag to the local backend keeps
 * the client's address; XLB_SVC_F_SNAT_ALL (one-arm) source-NATs to the
 * local backend too; the cluster IP never. Replies to the node's port
 * come back from the frontend to the client. A port's reservation is its
 * reverse entry: every port of a flow's probe taken is a drop
 * (snat_exhausted); a reservation lost to LRU and taken by another flow
 * is never shared, the flow moves to another port. Later fragments get
 * both addresses of their first one's rewrite.
 */
#ifndef XLB_SELFTEST_DP_SNAT_H
#define XLB_SELFTEST_DP_SNAT_H

#include "world.h"

/* The flows whose replies the table sends. */
static const struct pkt_spec snat_t4 = { TCP4(CLI4, 41001, NODE4, NP_SNAT) };
static const struct pkt_spec snat_u4 = { UDP4(CLI4, 41005, NODE4, NP_SNAT) };
static const struct pkt_spec snat_t6 = { TCP6(CLI6, 41006, NODE6, NP_SNAT) };
static const struct pkt_spec snat_u6 = { UDP6(CLI6, 41007, NODE6, NP_SNAT) };
/* The flows whose probes are filled. */
static const struct pkt_spec snat_x4 = { TCP4(CLI4, 41010, NODE4, NP_SNAT) };
static const struct pkt_spec snat_y4 = { TCP4(CLI4, 41011, NODE4, NP_SNAT) };
static const struct pkt_spec snat_z4 = { TCP4(CLI4, 41012, NODE4, NP_SNAT) };

/* A reply from the flow's backend to the node address and the port of
 * the flow's probe the row names. */
static void t_snat_reply(const struct fixture *f, struct pkt_spec *in)
{
	in->daddr = *snat_addr_of(in->family);
	in->dport = snat_port_of(f->flow, f->snat_try);
}

/* The reverse key of port try of flow s's probe towards BE_SNAT4_R. */
static void snat_probe_key(struct xlb_ct_key *k, const struct pkt_spec *s,
			   unsigned int try)
{
	const struct t_be *b = be_of(BE_SNAT4_R);
	struct pkt_spec r = *s;

	r.saddr = b->addr;
	r.sport = b->port;
	r.daddr = *snat_addr_of(4);
	r.dport = snat_port_of(s, try);
	spec_ct_key(k, &r, XLB_CT_REV);
}

/* Another client's reservation of port try of flow s's probe towards
 * BE_SNAT4_R, with flags besides XLB_CT_F_SNAT, last seen age_s ago. */
static int snat_other_aged(const struct pkt_spec *s, unsigned int try,
			   __u16 flags, __u32 age_s)
{
	static const struct pkt_addr other = CLI4_B;
	struct xlb_ct_key k;
	struct xlb_ct_val v;

	snat_probe_key(&k, s, try);
	memset(&v, 0, sizeof(v));
	addr_to_xlb(&v.nat_addr, &s->daddr, 4);
	v.nat_port = htons(s->dport);
	v.flags = XLB_CT_F_SNAT | flags;
	v.backend_id = BE_SNAT4_R;
	v.svc_id = SVC_SNAT4;
	v.last_seen = coarse_ns() - (__u64)age_s * 1000000000ull;
	addr_to_xlb(&v.snat_addr, &other, 4);
	v.snat_port = htons(1234);
	return bpf_map_update_elem(h_env.ct_fd, &k, &v, BPF_ANY) ? -errno : 0;
}

/* Another client's live reservation of port try of flow s's probe
 * towards BE_SNAT4_R (add), or none (delete). */
static int snat_other(const struct pkt_spec *s, unsigned int try, bool add)
{
	struct xlb_ct_key k;

	if (add)
		return snat_other_aged(s, try, 0, 0);
	snat_probe_key(&k, s, try);
	return bpf_map_delete_elem(h_env.ct_fd, &k) ? -errno : 0;
}

/* snat_y4's probe: full, its first port held by a flow closed 5 s ago
 * (too recent to take), the second by one idle for longer than TCP's
 * idle time, the rest live. */
static int snat_fill_aged(void)
{
	unsigned int i;
	int err = 0;

	for (i = 2; !err && i < XLB_SNAT_TRIES; i++)
		err = snat_other(&snat_y4, i, true);
	err = err ?: snat_other_aged(&snat_y4, 0, XLB_CT_F_CLOSED, 5);
	return err ?: snat_other_aged(&snat_y4, 1, 0,
				      XLB_SNAT_IDLE_TCP_NS / 1000000000ull + 10);
}

/* snat_z4's probe: full, its first port held by a flow closed 11 s ago
 * (free to take). */
static int snat_close_first(void)
{
	unsigned int i;
	int err = 0;

	for (i = 1; !err && i < XLB_SNAT_TRIES; i++)
		err = snat_other(&snat_z4, i, true);
	return err ?: snat_other_aged(&snat_z4, 0, XLB_CT_F_CLOSED, 11);
}

/* After snat_t4's FIN: its reservation (port 1 of its probe) is marked
 * closed. */
static void check_closed(const struct fixture *f, const struct pkt_spec *in,
			 const __u8 *inb, size_t in_len, const __u8 *out,
			 size_t out_len)
{
	const struct t_be *b = be_of(BE_SNAT4_R);
	struct pkt_spec r = snat_t4;
	struct xlb_ct_key k;
	struct xlb_ct_val v;

	r.saddr = b->addr;
	r.sport = b->port;
	r.daddr = *snat_addr_of(4);
	r.dport = snat_port_of(&snat_t4, 1);
	spec_ct_key(&k, &r, XLB_CT_REV);
	if (bpf_map_lookup_elem(h_env.ct_fd, &k, &v))
		TEST_FAIL("%s: no reservation", f->desc);
	else
		ASSERT_EQ(v.flags & XLB_CT_F_CLOSED, XLB_CT_F_CLOSED,
			  "%s: reservation marked closed", f->desc);
}

static int snat_fill_probe(void)
{
	unsigned int i;
	int err = 0;

	for (i = 0; !err && i < XLB_SNAT_TRIES; i++)
		err = snat_other(&snat_x4, i, true);
	return err;
}

static int snat_free_fourth(void)
{
	return snat_other(&snat_x4, 3, false);
}

/* LRU took snat_t4's reservation (port 0 of its probe), and another
 * flow reserved that port since. */
static int snat_steal_first(void)
{
	int err = snat_other(&snat_t4, 0, false);

	return err ?: snat_other(&snat_t4, 0, true);
}

/* LRU took snat_t4's client entry; its reservation stays. */
static int snat_drop_client(void)
{
	struct xlb_ct_key k;

	spec_client_key(&k, &snat_t4);
	return bpf_map_delete_elem(h_env.ct_fd, &k) ? -errno : 0;
}

TABLE_BEGIN
static const struct fixture snat_rows[] = {
	{ "snat: NodePort to a remote backend: source node address:port",
	  .in = { TCP4(CLI4, 41001, NODE4, NP_SNAT), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .stats = ST_SNAT_NEW,
	  .ct = CT_SNAT },
	{ "snat: the flow's next packet keeps its node port",
	  .in = { TCP4(CLI4, 41001, NODE4, NP_SNAT), .tcp_flags = ACK },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .stats = ST_DNAT,
	  .ct = CT_SNAT },
	{ "snat: the reply to node:port goes to the client from the NodePort",
	  .in = { TCP4(BE4_SNAT_R, 8080, SNAT4_NODE, 0),
		  .tcp_flags = SYN | ACK },
	  .tweak = t_snat_reply, .flow = &snat_t4, RNAT(SVC_SNAT4),
	  .fe = FE_SNAT4_NP, .snat = true, .stats = ST_SNAT_RNAT },
	{ "snat: a reply to a node port no flow holds passes untouched",
	  .in = { TCP4(BE4_SNAT_R, 8080, SNAT4_NODE, 0), .tcp_flags = ACK },
	  .tweak = t_snat_reply, .flow = &snat_t4, .snat_try = 5, UNCHANGED,
	  .stats = ST_PASS },
	{ "snat: external IP (SNAT_REMOTE) to the local backend: no source NAT",
	  .in = { TCP4(CLI4, 41002, EXT4_SNAT, 80), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_L), .stats = ST_NEW, .ct = CT_BE },
	{ "snat: LB IP (SNAT_ALL, one-arm) to the local backend: source NAT",
	  .in = { TCP4(CLI4, 41003, LB4_SNAT, 80), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_L), .snat = true, .stats = ST_SNAT_NEW,
	  .ct = CT_SNAT },
	{ "snat: cluster IP to the remote backend: no source NAT",
	  .in = { TCP4(CLI4, 41004, VIP4_SNAT, 80), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .stats = ST_NEW, .ct = CT_BE },
	{ "snat: UDP NodePort to a remote backend",
	  .in = { UDP4(CLI4, 41005, NODE4, NP_SNAT) },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .stats = ST_SNAT_NEW,
	  .ct = CT_SNAT },
	{ "snat: UDP reply to node:port",
	  .in = { UDP4(BE4_SNAT_R, 8080, SNAT4_NODE, 0) },
	  .tweak = t_snat_reply, .flow = &snat_u4, RNAT(SVC_SNAT4),
	  .fe = FE_SNAT4_NPU, .snat = true, .stats = ST_SNAT_RNAT },
	{ "snat: a reply's first fragment goes to the client",
	  .in = { UDP4(BE4_SNAT_R, 8080, SNAT4_NODE, 0) },
	  .frag = { .off = 0, .len = 24, .mf = true },
	  .tweak = t_snat_reply, .flow = &snat_u4, RNAT(SVC_SNAT4),
	  .fe = FE_SNAT4_NPU, .snat = true, .stats = ST_SNAT_RNAT },
	{ "snat: and its later fragment too (both addresses)",
	  .in = { UDP4(BE4_SNAT_R, 8080, SNAT4_NODE, 0) },
	  .frag = { .off = 24, .len = 16 },
	  .tweak = t_snat_reply, .flow = &snat_u4, RNAT(SVC_SNAT4),
	  .fe = FE_SNAT4_NPU, .snat = true, .stats = ST_RNAT },
	{ "snat: a client's first fragment: DNAT and source NAT",
	  .in = { UDP4(CLI4, 41005, NODE4, NP_SNAT), .ip_id = 0x4343 },
	  .frag = { .off = 0, .len = 24, .mf = true },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .stats = ST_DNAT },
	{ "snat: and its later fragment, both addresses",
	  .in = { UDP4(CLI4, 41005, NODE4, NP_SNAT), .ip_id = 0x4343 },
	  .frag = { .off = 24, .len = 16 },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .stats = ST_DNAT },
	{ "snat: v6 NodePort to a remote backend",
	  .in = { TCP6(CLI6, 41006, NODE6, NP_SNAT), .tcp_flags = SYN },
	  DNAT(SVC_SNAT6, BE_SNAT6_R), .snat = true, .stats = ST_SNAT_NEW,
	  .ct = CT_SNAT },
	{ "snat: v6 reply to node:port",
	  .in = { TCP6(BE6_SNAT_R, 8443, SNAT6_NODE, 0),
		  .tcp_flags = SYN | ACK },
	  .tweak = t_snat_reply, .flow = &snat_t6, RNAT(SVC_SNAT6),
	  .fe = FE_SNAT6_NP, .snat = true, .stats = ST_SNAT_RNAT },
	{ "snat: v6 UDP NodePort to a remote backend",
	  .in = { UDP6(CLI6, 41007, NODE6, NP_SNAT) },
	  DNAT(SVC_SNAT6, BE_SNAT6_R), .snat = true, .stats = ST_SNAT_NEW,
	  .ct = CT_SNAT },
	{ "snat: v6 UDP reply to node:port",
	  .in = { UDP6(BE6_SNAT_R, 8443, SNAT6_NODE, 0) },
	  .tweak = t_snat_reply, .flow = &snat_u6, RNAT(SVC_SNAT6),
	  .fe = FE_SNAT6_NPU, .snat = true, .stats = ST_SNAT_RNAT },
	{ "snat: v6 external IP (SNAT_ALL) to the local backend: source NAT",
	  .in = { TCP6(CLI6, 41008, EXT6_SNAT, 443), .tcp_flags = SYN },
	  DNAT(SVC_SNAT6, BE_SNAT6_L), .snat = true, .stats = ST_SNAT_NEW,
	  .ct = CT_SNAT },
	{ "snat: every port of the flow's probe held by others: dropped",
	  .setup = snat_fill_probe,
	  .in = { TCP4(CLI4, 41010, NODE4, NP_SNAT), .tcp_flags = SYN },
	  DROPPED, .stats = ST_SNAT_FULL, .ct = CT_NONE },
	{ "snat: the probe's fourth port free again: the flow takes it",
	  .setup = snat_free_fourth,
	  .in = { TCP4(CLI4, 41010, NODE4, NP_SNAT), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .snat_try = 3,
	  .stats = ST_SNAT_NEW, .ct = CT_SNAT },
	{ "snat: the flow's port lost to LRU and held by another: a new port",
	  .setup = snat_steal_first,
	  .in = { TCP4(CLI4, 41001, NODE4, NP_SNAT), .tcp_flags = ACK },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .snat_try = 1,
	  .stats = ST_SNAT_NEW, .ct = CT_SNAT },
	{ "snat: the reply to the new port goes to the client",
	  .in = { TCP4(BE4_SNAT_R, 8080, SNAT4_NODE, 0), .tcp_flags = ACK },
	  .tweak = t_snat_reply, .flow = &snat_t4, .snat_try = 1,
	  RNAT(SVC_SNAT4), .fe = FE_SNAT4_NP, .snat = true,
	  .stats = ST_SNAT_RNAT },
	{ "snat: the client entry lost to LRU: its own reservation taken over",
	  .setup = snat_drop_client,
	  .in = { TCP4(CLI4, 41001, NODE4, NP_SNAT), .tcp_flags = ACK },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .snat_try = 1,
	  .stats = ST_SNAT_NEW, .ct = CT_SNAT },
	{ "snat: the client's FIN marks the flow's reservation closed",
	  .in = { TCP4(CLI4, 41001, NODE4, NP_SNAT), .tcp_flags = ACK | 0x01 },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .snat_try = 1,
	  .stats = ST_DNAT, .ct = CT_SNAT, .check = check_closed },
	{ "snat: a SYN reusing the closed flow's client port: a new flow on a fresh port",
	  .in = { TCP4(CLI4, 41001, NODE4, NP_SNAT), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .snat_try = 2,
	  .stats = ST_SNAT_NEW, .ct = CT_SNAT },
	{ "snat: a port closed 5 s ago is kept, one idle past TCP's idle time taken",
	  .setup = snat_fill_aged,
	  .in = { TCP4(CLI4, 41011, NODE4, NP_SNAT), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .snat_try = 1,
	  .stats = ST_SNAT_NEW, .ct = CT_SNAT },
	{ "snat: a port closed 11 s ago is taken over",
	  .setup = snat_close_first,
	  .in = { TCP4(CLI4, 41012, NODE4, NP_SNAT), .tcp_flags = SYN },
	  DNAT(SVC_SNAT4, BE_SNAT4_R), .snat = true, .stats = ST_SNAT_NEW,
	  .ct = CT_SNAT },
};
TABLE_END

static const struct h_table dp_snat = H_TABLE("snat", snat_rows);

#endif /* XLB_SELFTEST_DP_SNAT_H */
