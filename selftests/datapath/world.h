/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The services, frontends and backends test_datapath's tables run
 * against (datapath/harness.h writes them before every table), and the
 * Maglev services of datapath/maglev.h.
 */
#ifndef XLB_SELFTEST_DP_WORLD_H
#define XLB_SELFTEST_DP_WORLD_H

#include "harness.h"

/* ---- Services and backends the fixtures run against ---- */

enum {
	SVC_T4 = 1,	/* TCP v4 */
	SVC_U4,		/* UDP v4 */
	SVC_T6,		/* TCP v6 */
	SVC_U6,		/* UDP v6 */
	SVC_RING4,	/* ring replaced during the run (v4) */
	SVC_RING6,	/* ring replaced during the run (v6) */
	SVC_STALE,	/* tracked backend removed */
	SVC_TERM,	/* tracked backend terminating */
	SVC_EMPTY,	/* no backend: ring size 0 */
	SVC_DEAD6,	/* ring points at an UNUSED backend (v6) */
	SVC_MG4,	/* Maglev agreement, v4 */
	SVC_MG6,	/* Maglev agreement, v6 */
	SVC_FE4,	/* cluster IP, external, LB and NodePort (v4) */
	SVC_FE6,	/* the same, UDP v6 */
	SVC_AFF4,	/* session affinity, v4 */
	SVC_AFF6,	/* session affinity, v6 */
	SVC_SR4,	/* source ranges on its LB frontend, v4 */
	SVC_SR6,	/* source ranges on its LB frontend, v6 */
	SVC_LOC,	/* Local policy: NodePort on the node-local ring */
	SVC_SNAT4,	/* source NAT: TCP and UDP v4 frontends */
	SVC_SNAT6,	/* source NAT: TCP and UDP v6 frontends */
	SVC_N,
};

enum {
	BE_T4 = 1,
	BE_U4,
	BE_T6,
	BE_U6,
	BE_RING4_A,
	BE_RING4_B,
	BE_RING6_A,
	BE_RING6_B,
	BE_STALE_A,
	BE_STALE_B,
	BE_TERM_A,
	BE_TERM_B,
	BE_DEAD6,
	BE_FE4,
	BE_FE6,
	BE_AFF4_A,
	BE_AFF4_B,
	BE_AFF6_A,
	BE_AFF6_B,
	BE_SR4,
	BE_SR6,
	BE_LOC_L,	/* XLB_BE_F_LOCAL */
	BE_LOC_R,	/* on another node */
	BE_SNAT4_R,	/* on another node */
	BE_SNAT4_L,	/* XLB_BE_F_LOCAL */
	BE_SNAT6_R,
	BE_SNAT6_L,
	BE_N,
};

#define VIP4		PKT_V4(10, 96, 0, 10)
#define VIP4_RING	PKT_V4(10, 96, 0, 20)
#define VIP4_STALE	PKT_V4(10, 96, 0, 30)
#define VIP4_TERM	PKT_V4(10, 96, 0, 40)
#define VIP4_EMPTY	PKT_V4(10, 96, 0, 50)
#define VIP4_MG		PKT_V4(10, 96, 1, 1)
#define VIP6		PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x10)
#define VIP6_RING	PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x20)
#define VIP6_DEAD	PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x60)
#define VIP6_MG		PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 1, 0x1)
#define VIP4_FE		PKT_V4(10, 96, 0, 70)
#define EXT4_FE		PKT_V4(172, 16, 0, 70)
#define LB4_FE		PKT_V4(172, 17, 0, 70)
#define VIP6_FE		PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x70)
#define EXT6_FE		PKT_V6(0x2001, 0xdb8, 0xe, 0, 0, 0, 0, 0x70)
#define LB6_FE		PKT_V6(0x2001, 0xdb8, 0x1b, 0, 0, 0, 0, 0x70)
#define VIP4_AFF	PKT_V4(10, 96, 0, 90)
#define VIP6_AFF	PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x90)
#define VIP4_SR		PKT_V4(10, 96, 0, 80)
#define LB4_SR		PKT_V4(172, 17, 0, 80)
#define VIP6_SR		PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x80)
#define LB6_SR		PKT_V6(0x2001, 0xdb8, 0x1b, 0, 0, 0, 0, 0x80)
#define VIP4_LOC	PKT_V4(10, 96, 0, 100)

/* Node addresses: NodePort frontends live on them. */
#define NODE4		PKT_V4(192, 168, 1, 10)
#define NODE4_B		PKT_V4(192, 168, 2, 10)
#define NODE6		PKT_V6(0xfd00, 0x1, 0, 0, 0, 0, 0, 0x10)
#define NP_FE		30080	/* NodePort of SVC_FE4 and SVC_FE6 */
#define NP_LOC		30081	/* NodePort of SVC_LOC */
#define NP_SNAT		30090	/* NodePort of SVC_SNAT4 and SVC_SNAT6 */

/* Source NAT: the service addresses, and the node's default source NAT
 * addresses (xlb_snat_addrs[0]), which are not its NodePort ones. */
#define VIP4_SNAT	PKT_V4(10, 96, 0, 110)
#define EXT4_SNAT	PKT_V4(172, 16, 0, 110)
#define LB4_SNAT	PKT_V4(172, 17, 0, 110)
#define VIP6_SNAT	PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x110)
#define EXT6_SNAT	PKT_V6(0x2001, 0xdb8, 0xe, 0, 0, 0, 0, 0x110)
#define SNAT4_NODE	PKT_V4(192, 168, 1, 11)
#define SNAT6_NODE	PKT_V6(0xfd00, 0x1, 0, 0, 0, 0, 0, 0x11)

#define BE4_T		PKT_V4(10, 244, 1, 10)
#define BE4_U		PKT_V4(10, 244, 1, 20)
#define BE4_RING_A	PKT_V4(10, 244, 2, 10)
#define BE4_RING_B	PKT_V4(10, 244, 2, 11)
#define BE4_STALE_A	PKT_V4(10, 244, 3, 10)
#define BE4_STALE_B	PKT_V4(10, 244, 3, 11)
#define BE4_TERM_A	PKT_V4(10, 244, 4, 10)
#define BE4_TERM_B	PKT_V4(10, 244, 4, 11)
#define BE6_T		PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 1, 0x10)
#define BE6_U		PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 1, 0x20)
#define BE6_RING_A	PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 2, 0x10)
#define BE6_RING_B	PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 2, 0x11)
#define BE6_DEAD	PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 6, 0x10)
#define BE4_FE		PKT_V4(10, 244, 7, 10)
#define BE6_FE		PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 7, 0x10)
#define BE4_AFF_A	PKT_V4(10, 244, 9, 10)
#define BE4_AFF_B	PKT_V4(10, 244, 9, 11)
#define BE6_AFF_A	PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 9, 0x10)
#define BE6_AFF_B	PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 9, 0x11)
#define BE4_SR		PKT_V4(10, 244, 8, 10)
#define BE6_SR		PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 8, 0x10)
#define BE4_LOC_L	PKT_V4(10, 244, 10, 10)
#define BE4_LOC_R	PKT_V4(10, 244, 11, 10)
#define BE4_SNAT_R	PKT_V4(10, 244, 12, 10)
#define BE4_SNAT_L	PKT_V4(10, 244, 13, 10)
#define BE6_SNAT_R	PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 12, 0x10)
#define BE6_SNAT_L	PKT_V6(0xfd00, 0x244, 0, 0, 0, 0, 13, 0x10)

#define CLI4		PKT_V4(192, 0, 2, 10)
#define CLI4_B		PKT_V4(198, 51, 100, 7)
#define OTHER4		PKT_V4(10, 96, 0, 99)
#define CLI6		PKT_V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10)
#define OTHER6		PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x99)

/* Clients of the source-range services (ranges in t_ranges). */
#define SR4_IN		PKT_V4(203, 0, 113, 1)
#define SR4_IN_LAST	PKT_V4(203, 0, 113, 255)
#define SR4_IN_2	PKT_V4(203, 0, 113, 2)
#define SR4_OUT		PKT_V4(203, 0, 114, 1)
#define SR4_OUT_BELOW	PKT_V4(203, 0, 112, 255)
#define SR4_OTHER_SVC	PKT_V4(100, 64, 1, 1)
#define SR6_IN		PKT_V6(0x2001, 0xdb8, 0xc11e, 1, 0, 0, 0, 5)
#define SR6_IN_LAST	\
	PKT_V6(0x2001, 0xdb8, 0xc11e, 1, 0xffff, 0xffff, 0xffff, 0xffff)
#define SR6_OUT		PKT_V6(0x2001, 0xdb8, 0xc11e, 2, 0, 0, 0, 5)
#define SR6_OUT_BELOW	\
	PKT_V6(0x2001, 0xdb8, 0xc11e, 0, 0xffff, 0xffff, 0xffff, 0xffff)
#define SR6_V4_ALIKE	PKT_V6(0x2001, 0xdb8, 0xdead, 0, 0, 0, 0, 1)

/* Session affinity: timeout of SVC_AFF4/6, and the ages of the entries
 * the table writes on either side of it. */
#define AFF_TIMEOUT	30	/* seconds */
#define AFF_AGE_VALID	20
#define AFF_AGE_EXPIRED	40
#define LOC_AFF_TIMEOUT	300
/* Client ports of the affinity flows. The first flow's slot is given
 * backend A; every other flow listed in aff_ring() must hash to another
 * slot, which holds B. */
#define AFF_P1		45001

/* SVC_MG4/6 get their rings in maglev_setup(). */
static const struct t_svc t_svcs[] = {
	{ SVC_T4, 4, VIP4, 80, IPPROTO_TCP, BE_T4 },
	{ SVC_U4, 4, VIP4, 53, IPPROTO_UDP, BE_U4 },
	{ SVC_T6, 6, VIP6, 443, IPPROTO_TCP, BE_T6 },
	{ SVC_U6, 6, VIP6, 53, IPPROTO_UDP, BE_U6 },
	{ SVC_RING4, 4, VIP4_RING, 80, IPPROTO_TCP, BE_RING4_A },
	{ SVC_RING6, 6, VIP6_RING, 443, IPPROTO_TCP, BE_RING6_A },
	{ SVC_STALE, 4, VIP4_STALE, 80, IPPROTO_TCP, BE_STALE_A },
	{ SVC_TERM, 4, VIP4_TERM, 80, IPPROTO_TCP, BE_TERM_A },
	{ SVC_EMPTY, 4, VIP4_EMPTY, 80, IPPROTO_TCP, 0 },
	{ SVC_DEAD6, 6, VIP6_DEAD, 53, IPPROTO_UDP, BE_DEAD6 },
	{ SVC_FE4, 4, VIP4_FE, 80, IPPROTO_TCP, BE_FE4, XLB_FE_CLUSTER_IP },
	{ SVC_FE6, 6, VIP6_FE, 53, IPPROTO_UDP, BE_FE6, XLB_FE_CLUSTER_IP },
	/* aff_ring() gives one slot of the ring to backend A. */
	{ SVC_AFF4, 4, VIP4_AFF, 80, IPPROTO_TCP, BE_AFF4_B,
	  XLB_FE_CLUSTER_IP | XLB_SVC_F_AFFINITY, AFF_TIMEOUT },
	{ SVC_AFF6, 6, VIP6_AFF, 443, IPPROTO_TCP, BE_AFF6_B,
	  XLB_FE_CLUSTER_IP | XLB_SVC_F_AFFINITY, AFF_TIMEOUT },
	/* Source ranges filter only the external frontends (t_fes). */
	{ SVC_SR4, 4, VIP4_SR, 80, IPPROTO_TCP, BE_SR4, XLB_FE_CLUSTER_IP },
	{ SVC_SR6, 6, VIP6_SR, 443, IPPROTO_TCP, BE_SR6, XLB_FE_CLUSTER_IP },
	/* Cluster ring: the remote backend only, to tell the rings apart. */
	{ SVC_LOC, 4, VIP4_LOC, 80, IPPROTO_TCP, BE_LOC_R,
	  XLB_FE_CLUSTER_IP | XLB_SVC_F_AFFINITY, LOC_AFF_TIMEOUT },
	/* Source NAT: the cluster IP never; the ring (alt 0) holds the
	 * remote backend, the frontends on alt 1 the local one. */
	{ SVC_SNAT4, 4, VIP4_SNAT, 80, IPPROTO_TCP, BE_SNAT4_R,
	  XLB_FE_CLUSTER_IP },
	{ SVC_SNAT6, 6, VIP6_SNAT, 443, IPPROTO_TCP, BE_SNAT6_R,
	  XLB_FE_CLUSTER_IP },
};

/* The other frontends of the services (struct t_fe). */
enum {
	FE_EXT4 = 1,
	FE_LB4,
	FE_NP4,		/* NodePort on the first node address */
	FE_NP4_B,	/* NodePort on the second node address */
	FE_EXT6,
	FE_LB6,
	FE_NP6,
	FE_SR4_LB,
	FE_SR6_LB,
	FE_LOC_NP,	/* node-local ring */
	FE_SNAT4_NP,	/* SNAT_REMOTE, to the remote backend */
	FE_SNAT4_NPU,	/* the same, UDP */
	FE_SNAT4_EXT,	/* SNAT_REMOTE, to the local backend */
	FE_SNAT4_LB,	/* SNAT_ALL, to the local backend */
	FE_SNAT6_NP,	/* SNAT_REMOTE, to the remote backend */
	FE_SNAT6_NPU,	/* the same, UDP */
	FE_SNAT6_EXT,	/* SNAT_ALL, to the local backend */
	FE_N,
};

static const struct t_fe t_fes[] = {
	{ FE_EXT4, SVC_FE4, 4, EXT4_FE, 80, IPPROTO_TCP, XLB_FE_EXTERNAL_IP,
	  BE_FE4, 0 },
	{ FE_LB4, SVC_FE4, 4, LB4_FE, 80, IPPROTO_TCP, XLB_FE_LOAD_BALANCER,
	  BE_FE4, 0 },
	{ FE_NP4, SVC_FE4, 4, NODE4, NP_FE, IPPROTO_TCP, XLB_FE_NODE_PORT,
	  BE_FE4, 0 },
	{ FE_NP4_B, SVC_FE4, 4, NODE4_B, NP_FE, IPPROTO_TCP, XLB_FE_NODE_PORT,
	  BE_FE4, 0 },
	{ FE_EXT6, SVC_FE6, 6, EXT6_FE, 53, IPPROTO_UDP, XLB_FE_EXTERNAL_IP,
	  BE_FE6, 0 },
	{ FE_LB6, SVC_FE6, 6, LB6_FE, 53, IPPROTO_UDP, XLB_FE_LOAD_BALANCER,
	  BE_FE6, 0 },
	{ FE_NP6, SVC_FE6, 6, NODE6, NP_FE, IPPROTO_UDP, XLB_FE_NODE_PORT,
	  BE_FE6, 0 },
	{ FE_SR4_LB, SVC_SR4, 4, LB4_SR, 80, IPPROTO_TCP,
	  XLB_FE_LOAD_BALANCER | XLB_SVC_F_SRC_RANGES, BE_SR4, 0 },
	{ FE_SR6_LB, SVC_SR6, 6, LB6_SR, 443, IPPROTO_TCP,
	  XLB_FE_LOAD_BALANCER | XLB_SVC_F_SRC_RANGES, BE_SR6, 0 },
	{ FE_LOC_NP, SVC_LOC, 4, NODE4, NP_LOC, IPPROTO_TCP,
	  XLB_FE_NODE_PORT | XLB_SVC_F_AFFINITY | XLB_SVC_F_LOCAL, BE_LOC_L,
	  1 },
	{ FE_SNAT4_NP, SVC_SNAT4, 4, NODE4, NP_SNAT, IPPROTO_TCP,
	  XLB_FE_NODE_PORT | XLB_SVC_F_SNAT_REMOTE, BE_SNAT4_R, 0 },
	{ FE_SNAT4_NPU, SVC_SNAT4, 4, NODE4, NP_SNAT, IPPROTO_UDP,
	  XLB_FE_NODE_PORT | XLB_SVC_F_SNAT_REMOTE, BE_SNAT4_R, 0 },
	{ FE_SNAT4_EXT, SVC_SNAT4, 4, EXT4_SNAT, 80, IPPROTO_TCP,
	  XLB_FE_EXTERNAL_IP | XLB_SVC_F_SNAT_REMOTE, BE_SNAT4_L, 1 },
	{ FE_SNAT4_LB, SVC_SNAT4, 4, LB4_SNAT, 80, IPPROTO_TCP,
	  XLB_FE_LOAD_BALANCER | XLB_SVC_F_SNAT_ALL, BE_SNAT4_L, 1 },
	{ FE_SNAT6_NP, SVC_SNAT6, 6, NODE6, NP_SNAT, IPPROTO_TCP,
	  XLB_FE_NODE_PORT | XLB_SVC_F_SNAT_REMOTE, BE_SNAT6_R, 0 },
	{ FE_SNAT6_NPU, SVC_SNAT6, 6, NODE6, NP_SNAT, IPPROTO_UDP,
	  XLB_FE_NODE_PORT | XLB_SVC_F_SNAT_REMOTE, BE_SNAT6_R, 0 },
	{ FE_SNAT6_EXT, SVC_SNAT6, 6, EXT6_SNAT, 443, IPPROTO_TCP,
	  XLB_FE_EXTERNAL_IP | XLB_SVC_F_SNAT_ALL, BE_SNAT6_L, 1 },
};

static const struct t_range t_ranges[] = {
	{ SVC_SR4, 4, PKT_V4(203, 0, 113, 0), 24 },
	{ SVC_SR6, 6, PKT_V6(0x2001, 0xdb8, 0xc11e, 1, 0, 0, 0, 0), 64 },
	/* An IPv4 range of the v6 service whose bits are those of
	 * 2001:db8::/29: it must not admit an IPv6 client. */
	{ SVC_SR6, 4, PKT_V4(32, 1, 13, 184), 29 },
	/* Another service's range (that service does not filter). */
	{ SVC_T4, 4, PKT_V4(100, 64, 0, 0), 10 },
};

static const struct t_be t_bes[] = {
	{ BE_T4, SVC_T4, 4, BE4_T, 8080, XLB_BE_ACTIVE },
	{ BE_U4, SVC_U4, 4, BE4_U, 5353, XLB_BE_ACTIVE },
	{ BE_T6, SVC_T6, 6, BE6_T, 8443, XLB_BE_ACTIVE },
	{ BE_U6, SVC_U6, 6, BE6_U, 5353, XLB_BE_ACTIVE },
	{ BE_RING4_A, SVC_RING4, 4, BE4_RING_A, 8080, XLB_BE_ACTIVE },
	{ BE_RING4_B, SVC_RING4, 4, BE4_RING_B, 8081, XLB_BE_ACTIVE },
	{ BE_RING6_A, SVC_RING6, 6, BE6_RING_A, 8443, XLB_BE_ACTIVE },
	{ BE_RING6_B, SVC_RING6, 6, BE6_RING_B, 8444, XLB_BE_ACTIVE },
	{ BE_STALE_A, SVC_STALE, 4, BE4_STALE_A, 8080, XLB_BE_ACTIVE },
	{ BE_STALE_B, SVC_STALE, 4, BE4_STALE_B, 8080, XLB_BE_ACTIVE },
	{ BE_TERM_A, SVC_TERM, 4, BE4_TERM_A, 8080, XLB_BE_ACTIVE },
	{ BE_TERM_B, SVC_TERM, 4, BE4_TERM_B, 8080, XLB_BE_ACTIVE },
	{ BE_DEAD6, SVC_DEAD6, 6, BE6_DEAD, 5353, XLB_BE_UNUSED },
	{ BE_FE4, SVC_FE4, 4, BE4_FE, 8080, XLB_BE_ACTIVE },
	{ BE_FE6, SVC_FE6, 6, BE6_FE, 5353, XLB_BE_ACTIVE },
	{ BE_AFF4_A, SVC_AFF4, 4, BE4_AFF_A, 8080, XLB_BE_ACTIVE },
	{ BE_AFF4_B, SVC_AFF4, 4, BE4_AFF_B, 8080, XLB_BE_ACTIVE },
	{ BE_AFF6_A, SVC_AFF6, 6, BE6_AFF_A, 8443, XLB_BE_ACTIVE },
	{ BE_AFF6_B, SVC_AFF6, 6, BE6_AFF_B, 8443, XLB_BE_ACTIVE },
	{ BE_SR4, SVC_SR4, 4, BE4_SR, 8080, XLB_BE_ACTIVE },
	{ BE_SR6, SVC_SR6, 6, BE6_SR, 8443, XLB_BE_ACTIVE },
	{ BE_LOC_L, SVC_LOC, 4, BE4_LOC_L, 8080, XLB_BE_ACTIVE,
	  XLB_BE_F_LOCAL },
	{ BE_LOC_R, SVC_LOC, 4, BE4_LOC_R, 8080, XLB_BE_ACTIVE },
	{ BE_SNAT4_R, SVC_SNAT4, 4, BE4_SNAT_R, 8080, XLB_BE_ACTIVE },
	{ BE_SNAT4_L, SVC_SNAT4, 4, BE4_SNAT_L, 8080, XLB_BE_ACTIVE,
	  XLB_BE_F_LOCAL },
	{ BE_SNAT6_R, SVC_SNAT6, 6, BE6_SNAT_R, 8443, XLB_BE_ACTIVE },
	{ BE_SNAT6_L, SVC_SNAT6, 6, BE6_SNAT_L, 8443, XLB_BE_ACTIVE,
	  XLB_BE_F_LOCAL },
};
/* Maglev agreement: M distinct backends in a permuted ring. */
#define MG_M		1009
#define MG_STEP		389	/* ring[i] = base + (i * MG_STEP) % M */
#define MG_FLOWS	10000
#define MG4_BE_BASE	1001
#define MG6_BE_BASE	2101
#define MG4_RING_OFF	2053
#define MG6_RING_OFF	4099

static __u32 mg_ring_id(__u32 base, __u32 slot)
{
	return base + (slot * MG_STEP) % MG_M;
}

static void mg_be_addr(struct pkt_addr *a, int family, __u32 k)
{
	memset(a, 0, sizeof(*a));
	if (family == 4) {
		a->b[0] = 10;
		a->b[1] = 245;
		a->b[2] = k >> 8;
		a->b[3] = k & 0xff;
	} else {
		static const struct pkt_addr pfx =
			PKT_V6(0xfd00, 0x245, 0, 0, 0, 0, 0, 0);

		*a = pfx;
		a->b[14] = k >> 8;
		a->b[15] = k & 0xff;
	}
}

static __u16 mg_be_port(__u32 k)
{
	return 20000 + k;
}

/* Two services (v4, v6) with a TCP and a UDP frontend each, M backends
 * and a ring holding each backend id once, in a permuted order. */
static int maglev_setup(void)
{
	static const struct pkt_addr vip4 = VIP4_MG, vip6 = VIP6_MG;
	__u32 ids[MG_M], k;
	struct pkt_addr a;
	int err, fam;

	for (fam = 4; fam <= 6; fam += 2) {
		__u32 base = fam == 4 ? MG4_BE_BASE : MG6_BE_BASE;
		__u32 svc = fam == 4 ? SVC_MG4 : SVC_MG6;
		__u32 off = fam == 4 ? MG4_RING_OFF : MG6_RING_OFF;
		const struct pkt_addr *vip = fam == 4 ? &vip4 : &vip6;

		for (k = 0; k < MG_M; k++) {
			mg_be_addr(&a, fam, k);
			err = put_backend(base + k, svc, fam, &a, mg_be_port(k),
					  XLB_BE_ACTIVE, 0);
			if (err)
				return err;
		}
		for (k = 0; k < MG_M; k++)
			ids[k] = mg_ring_id(base, k);
		err = put_ring(off, ids, MG_M);
		if (!err)
			err = put_svc(vip, fam, 80, IPPROTO_TCP, svc, off, MG_M,
				      0, 0);
		if (!err)
			err = put_svc(vip, fam, 80, IPPROTO_UDP, svc, off, MG_M,
				      0, 0);
		if (err)
			return err;
	}
	return 0;
}

static const struct pkt_addr snat4_node = SNAT4_NODE;
static const struct pkt_addr snat6_node = SNAT6_NODE;

/* The counters are checked for every id of the tables. */
_Static_assert(SVC_N <= T_IDS, "service ids beyond the counters checked");
_Static_assert(BE_N <= T_IDS, "backend ids beyond the counters checked");

static const struct h_world dp_world = {
	.svcs = t_svcs,
	.nsvcs = ARRAY_SIZE(t_svcs),
	.fes = t_fes,
	.nfes = ARRAY_SIZE(t_fes),
	.bes = t_bes,
	.nbes = ARRAY_SIZE(t_bes),
	.ranges = t_ranges,
	.nranges = ARRAY_SIZE(t_ranges),
	.snat4 = &snat4_node,
	.snat6 = &snat6_node,
	.setup = maglev_setup,
};

#endif /* XLB_SELFTEST_DP_WORLD_H */
