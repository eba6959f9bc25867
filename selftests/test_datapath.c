// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet fixtures for the XDP and tc programs.
 *
 * One table of {description, input packet, expected verdict, expected
 * output} runs through both programs with bpf_prog_test_run_opts
 * (repeat=1: a NAT program must never see its own output). Both programs
 * share one set of maps, so one map fill serves both. Expected packets are
 * built by pkt.c with every checksum computed from scratch, and the
 * outcome, service and backend counters are checked after every case.
 *
 * The Kubernetes service semantics run through the same table: several
 * frontends (cluster IP, external IP, load-balancer IP, NodePort) of one
 * service, client-IP session affinity, loadBalancerSourceRanges and the
 * node-local ring of a Local traffic policy. A second pair of programs,
 * loaded with xlb_cfg.port_filter over the same maps, runs its own table
 * against xlb_ports.
 *
 * A second part checks that the ring slot the datapath reads for 10,000
 * flows per family is ring[xlb_flow_hash(tuple) % M], computed here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xlb/abi.h>
#include <xlb/hash.h>

#include "log.h"
#include "pkt.h"
#include "testlib.h"
#include "xdp_lb.skel.h"
#include "tc_lb.skel.h"

/* Map sizes for the test; the defaults are production-sized. */
#define T_FRONTENDS	64
#define T_SERVICES	64
#define T_BACKENDS	4096
#define T_RING_SLOTS	8192
#define T_CT		65536
#define T_AFFINITY	1024
#define T_SRC_RANGES	64
#define T_PORTS		65536	/* xlb_ports: one entry per port */

/* Verdicts common to both programs. */
enum {
	V_PASS,		/* XDP_PASS / TC_ACT_OK */
	V_DROP,		/* XDP_DROP / TC_ACT_SHOT */
	V_OTHER,	/* anything else (TX, redirect, ...) */
};

static const char *const verdict_names[] = { "pass", "drop", "other" };

/* The expected output: the input, rewritten or not. */
enum {
	RW_NONE,	/* unchanged */
	RW_DNAT,	/* destination -> backend .be */
	RW_RNAT,	/* source -> frontend of service .svc */
};

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

struct t_svc {
	__u32 id;
	int family;
	struct pkt_addr vip;
	__u16 port;		/* host order */
	__u8 proto;
	__u32 ring_be;		/* backend filling the ring; 0: ring size 0 */
	__u32 flags;		/* xlb_svc.flags of its cluster IP */
	__u32 aff_timeout;	/* seconds, for all its frontends */
};

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
};

/* The other frontends of a service: each its own xlb_svc entry with the
 * service's id, on the service's ring (alt 0) or on a ring of its own
 * (alt 1). */
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
	FE_N,
};

struct t_fe {
	__u32 id;
	__u32 svc;
	int family;
	struct pkt_addr addr;
	__u16 port;		/* host order */
	__u8 proto;
	__u32 flags;		/* xlb_svc.flags */
	__u32 ring_be;		/* backend filling the frontend's ring */
	int alt;		/* 0: the service's ring; 1: its second ring */
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
};

/* loadBalancerSourceRanges, as xlbd writes them into xlb_src_ranges. */
struct t_range {
	__u32 svc;
	int family;
	struct pkt_addr addr;	/* network address, host bits zero */
	int len;		/* CIDR prefix length */
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

struct t_be {
	__u32 id;
	__u32 svc;
	int family;
	struct pkt_addr addr;
	__u16 port;		/* host order */
	__u8 state;
	__u16 flags;		/* XLB_BE_F_* */
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
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fixture rings: a prime size, at slot svc_id * 32 (+16 for the ring
 * that replaces it), never at offset 0 so ring_off is exercised. */
#define T_RING_M	13
#define T_RING_OFF(svc, alt) ((svc) * 32 + ((alt) ? 17 : 1))

/* Maglev agreement: M distinct backends in a permuted ring. */
#define MG_M		1009
#define MG_STEP		389	/* ring[i] = base + (i * MG_STEP) % M */
#define MG_FLOWS	10000
#define MG4_BE_BASE	1001
#define MG6_BE_BASE	2101
#define MG4_RING_OFF	2053
#define MG6_RING_OFF	4099

/* ---- The shared maps and the two programs ---- */

struct env {
	struct xlb_xdp_lb *xdp;
	struct xlb_tc_lb *tc;
	struct xlb_xdp_lb *xdp_pf;	/* xlb_cfg.port_filter = 1 */
	struct xlb_tc_lb *tc_pf;	/* xlb_cfg.port_filter = 1 */
	int svc_fd, be_fd, rings_fd, ct_fd;
	int svc_stats_fd, be_stats_fd, stats_fd;
	int aff_fd, ranges_fd, ports_fd;
	struct xlb_port_use *ports;	/* xlb_ports, mapped */
	int ncpu;
	__u32 ring_per_entry;	/* ring slots per xlb_rings entry */
};

static struct env env;

struct prog {
	const char *name;
	int fd;
	int tc;		/* 1: tc program, 0: XDP */
};

static const struct t_svc *svc_of(__u32 id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t_svcs); i++)
		if (t_svcs[i].id == id)
			return &t_svcs[i];
	return NULL;
}

static const struct t_be *be_of(__u32 id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t_bes); i++)
		if (t_bes[i].id == id)
			return &t_bes[i];
	return NULL;
}

static const struct t_fe *fe_of(__u32 id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t_fes); i++)
		if (t_fes[i].id == id)
			return &t_fes[i];
	return NULL;
}

static __u8 xlb_family(int family)
{
	return family == 4 ? XLB_AF_INET : XLB_AF_INET6;
}

static void addr_to_xlb(union xlb_addr *a, const struct pkt_addr *p,
			int family)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->bytes, p->b, family == 4 ? 4 : 16);
}

static int put_svc(const struct pkt_addr *vip, int family, __u16 port,
		   __u8 proto, __u32 svc_id, __u32 ring_off, __u32 ring_size,
		   __u32 flags, __u32 aff_timeout)
{
	struct xlb_vip_key k;
	struct xlb_svc v = {};

	memset(&k, 0, sizeof(k));
	addr_to_xlb(&k.addr, vip, family);
	k.port = htons(port);
	k.proto = proto;
	k.family = family == 4 ? XLB_AF_INET : XLB_AF_INET6;
	v.svc_id = svc_id;
	v.ring_off = ring_off;
	v.ring_size = ring_size;
	v.flags = flags;
	v.affinity_timeout = aff_timeout;
	if (bpf_map_update_elem(env.svc_fd, &k, &v, BPF_ANY)) {
		pr_err("xlb_svc: update of service %u: %s", svc_id,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

static int put_backend(__u32 id, __u32 svc_id, int family,
		       const struct pkt_addr *addr, __u16 port, __u8 state,
		       __u16 flags)
{
	struct xlb_backend b;

	memset(&b, 0, sizeof(b));
	addr_to_xlb(&b.addr, addr, family);
	b.port = htons(port);
	b.family = family == 4 ? XLB_AF_INET : XLB_AF_INET6;
	b.state = state;
	b.svc_id = svc_id;
	b.weight = 1;
	b.flags = flags;
	if (bpf_map_update_elem(env.be_fd, &id, &b, BPF_ANY)) {
		pr_err("xlb_backends: update of backend %u: %s", id,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* Writes backend ids into ring slots off .. off + n - 1. An xlb_rings
 * entry holds ring_per_entry consecutive slots (the value size says how
 * many), so slots that share an entry with others are read, changed and
 * written back. */
static int put_ring(__u32 off, const __u32 *ids, __u32 n)
{
	__u32 val[2], i, slot, entry, per = env.ring_per_entry;
	int err;

	for (i = 0; i < n; i++) {
		slot = off + i;
		entry = slot / per;
		if (bpf_map_lookup_elem(env.rings_fd, &entry, val))
			goto fail;
		val[slot % per] = ids[i];
		if (bpf_map_update_elem(env.rings_fd, &entry, val, BPF_ANY))
			goto fail;
	}
	return 0;
fail:
	err = -errno;
	pr_err("xlb_rings: update of slot %u (entry %u): %s", slot, entry,
	       strerror(errno));
	return err;
}

/* Points service id at a ring of T_RING_M slots all holding be_id, in
 * its primary (alt 0) or replacement (alt 1) slice. The ring is written
 * first and the service value swapped after, as the agent does. */
static int set_ring(__u32 svc_id, __u32 be_id, int alt)
{
	const struct t_svc *s = svc_of(svc_id);
	__u32 ids[T_RING_M], i;
	int err;

	if (!s)
		return -ENOENT;
	if (!be_id)
		return put_svc(&s->vip, s->family, s->port, s->proto, s->id,
			       0, 0, s->flags, s->aff_timeout);
	for (i = 0; i < T_RING_M; i++)
		ids[i] = be_id;
	err = put_ring(T_RING_OFF(svc_id, alt), ids, T_RING_M);
	if (err)
		return err;
	return put_svc(&s->vip, s->family, s->port, s->proto, s->id,
		       T_RING_OFF(svc_id, alt), T_RING_M, s->flags,
		       s->aff_timeout);
}

/* Writes frontend fe: its ring of T_RING_M slots holding ring_be in its
 * service's slice alt, then its xlb_svc entry. */
static int put_fe(const struct t_fe *fe)
{
	const struct t_svc *s = svc_of(fe->svc);
	__u32 ids[T_RING_M], i;
	int err;

	if (!s)
		return -ENOENT;
	for (i = 0; i < T_RING_M; i++)
		ids[i] = fe->ring_be;
	err = put_ring(T_RING_OFF(fe->svc, fe->alt), ids, T_RING_M);
	if (err)
		return err;
	return put_svc(&fe->addr, fe->family, fe->port, fe->proto, fe->svc,
		       T_RING_OFF(fe->svc, fe->alt), T_RING_M, fe->flags,
		       s->aff_timeout);
}

static int set_be_state(__u32 id, __u8 state)
{
	const struct t_be *b = be_of(id);

	if (!b)
		return -ENOENT;
	return put_backend(b->id, b->svc, b->family, &b->addr, b->port, state,
			   b->flags);
}

/* Empties a hash, LRU or LPM map of at most max keys of key_size bytes:
 * collect every key first, then delete them. */
static int flush_map(int fd, const char *name, size_t key_size, size_t max)
{
	__u8 *keys, *cur;
	size_t n = 0, i;
	void *prev = NULL;
	int err = 0;

	keys = calloc(max + 1, key_size);
	if (!keys)
		return -ENOMEM;
	/* The last slot is the cursor: keys[n - 1] may move under us. */
	cur = keys + max * key_size;
	while (n < max &&
	       !bpf_map_get_next_key(fd, prev, keys + n * key_size)) {
		memcpy(cur, keys + n * key_size, key_size);
		prev = cur;
		n++;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_delete_elem(fd, keys + i * key_size) &&
		    errno != ENOENT) {
			err = -errno;
			pr_err("%s: delete: %s", name, strerror(errno));
			break;
		}
	}
	free(keys);
	return err;
}

static int flush_ct(void)
{
	return flush_map(env.ct_fd, XLB_MAP_CT, sizeof(struct xlb_ct_key),
			 T_CT);
}

static int flush_affinity(void)
{
	return flush_map(env.aff_fd, XLB_MAP_AFFINITY,
			 sizeof(struct xlb_affinity_key), T_AFFINITY);
}

static void range_key(struct xlb_src_range_key *k, const struct t_range *r)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = XLB_SRC_RANGE_PREFIX + r->len;
	k->svc_id = r->svc;
	k->family = xlb_family(r->family);
	memcpy(k->addr, r->addr.b, r->family == 4 ? 4 : 16);
}

/* xlb_src_ranges holds exactly t_ranges. */
static int reset_ranges(void)
{
	struct xlb_src_range_key k;
	__u32 one = 1;
	size_t i;
	int err;

	err = flush_map(env.ranges_fd, XLB_MAP_SRC_RANGES, sizeof(k),
			T_SRC_RANGES);
	for (i = 0; !err && i < ARRAY_SIZE(t_ranges); i++) {
		range_key(&k, &t_ranges[i]);
		if (bpf_map_update_elem(env.ranges_fd, &k, &one, BPF_ANY)) {
			err = -errno;
			pr_err("xlb_src_ranges: update of range %zu "
			       "(service %u, /%d): %s", i, t_ranges[i].svc,
			       t_ranges[i].len, strerror(errno));
		}
	}
	return err;
}

/* The time base of xlb_affinity (bpf_ktime_get_coarse_ns). */
static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void affinity_key(struct xlb_affinity_key *k, __u32 svc_id,
			 int family, const struct pkt_addr *client)
{
	memset(k, 0, sizeof(*k));
	addr_to_xlb(&k->client, client, family);
	k->svc_id = svc_id;
	k->family = xlb_family(family);
}

/* Writes the affinity of client to backend be_id in service svc_id, as
 * recorded age_s seconds ago. */
static int put_affinity(__u32 svc_id, int family,
			const struct pkt_addr *client, __u32 be_id,
			__u32 age_s)
{
	struct xlb_affinity_key k;
	struct xlb_affinity_val v = {};

	affinity_key(&k, svc_id, family, client);
	v.backend_id = be_id;
	v.last_seen = coarse_ns() - (__u64)age_s * 1000000000ull;
	if (bpf_map_update_elem(env.aff_fd, &k, &v, BPF_ANY)) {
		pr_err("xlb_affinity: update of service %u -> backend %u: %s",
		       svc_id, be_id, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The flow hash of a packet spec, computed here from xlb/hash.h. */
static __u32 spec_hash(const struct pkt_spec *s)
{
	if (s->family == 4) {
		__be32 sa, da;

		memcpy(&sa, s->saddr.b, 4);
		memcpy(&da, s->daddr.b, 4);
		return xlb_flow_hash4(sa, da, htons(s->sport), htons(s->dport),
				      s->proto);
	} else {
		__be32 sa[4], da[4];

		memcpy(sa, s->saddr.b, 16);
		memcpy(da, s->daddr.b, 16);
		return xlb_flow_hash6(sa, da, htons(s->sport), htons(s->dport),
				      s->proto);
	}
}

/* The ring slot (0 .. T_RING_M - 1) of a flow from client:sport to the
 * cluster IP of service s. */
static __u32 svc_slot(const struct t_svc *s, const struct pkt_addr *client,
		      __u16 sport)
{
	struct pkt_spec f = {
		.family = s->family, .saddr = *client, .daddr = s->vip,
		.sport = sport, .dport = s->port, .proto = s->proto,
	};

	return spec_hash(&f) % T_RING_M;
}

static int ct_count(void)
{
	struct xlb_ct_key cur, next;
	void *prev = NULL;
	int n = 0;

	while (n < T_CT && !bpf_map_get_next_key(env.ct_fd, prev, &next)) {
		n++;
		cur = next;
		prev = &cur;
	}
	return n;
}

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

/* The baseline every fixture run starts from. */
static int maps_reset(void)
{
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(t_bes); i++) {
		err = set_be_state(t_bes[i].id, t_bes[i].state);
		if (err)
			return err;
	}
	for (i = 0; i < ARRAY_SIZE(t_svcs); i++) {
		err = set_ring(t_svcs[i].id, t_svcs[i].ring_be, 0);
		if (err)
			return err;
	}
	for (i = 0; i < ARRAY_SIZE(t_fes); i++) {
		err = put_fe(&t_fes[i]);
		if (err)
			return err;
	}
	err = maglev_setup();
	err = err ?: flush_ct();
	err = err ?: flush_affinity();
	err = err ?: reset_ranges();
	if (err)
		return err;
	/* No port in use: the programs without port_filter must ignore
	 * xlb_ports, or the main table could not balance anything. */
	memset(env.ports, 0, T_PORTS * sizeof(*env.ports));
	return 0;
}

/* ---- Counters ---- */

struct snap {
	__u64 pk[XLB_STAT_MAX], by[XLB_STAT_MAX];
	__u64 svc_pk[SVC_N], svc_by[SVC_N];
	__u64 be_pk[BE_N], be_by[BE_N];
};

/* Sums a per-CPU counter over all CPUs. */
static int read_counter(int fd, __u32 idx, __u64 *pk, __u64 *by)
{
	struct xlb_counter vals[env.ncpu];
	int i;

	if (bpf_map_lookup_elem(fd, &idx, vals))
		return -errno;
	*pk = *by = 0;
	for (i = 0; i < env.ncpu; i++) {
		*pk += vals[i].packets;
		*by += vals[i].bytes;
	}
	return 0;
}

static int take_snap(struct snap *s)
{
	__u32 i;
	int err = 0;

	for (i = 0; i < XLB_STAT_MAX && !err; i++)
		err = read_counter(env.stats_fd, i, &s->pk[i], &s->by[i]);
	for (i = 1; i < SVC_N && !err; i++)
		err = read_counter(env.svc_stats_fd, i, &s->svc_pk[i],
				   &s->svc_by[i]);
	for (i = 1; i < BE_N && !err; i++)
		err = read_counter(env.be_stats_fd, i, &s->be_pk[i],
				   &s->be_by[i]);
	if (err)
		pr_err("counter maps: lookup: %s", strerror(-err));
	return err;
}

/* ---- Running a packet ---- */

/* Runs one packet once; out holds OUT_CAP bytes. */
#define OUT_CAP (PKT_MAX_LEN + 256)

static int run_pkt(const struct prog *pg, const __u8 *in, size_t len,
		   __u8 *out, __u32 *out_len, int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = OUT_CAP,
		.repeat = 1,
	);
	int err;

	err = bpf_prog_test_run_opts(pg->fd, &opts);
	if (err)
		return -errno;
	*out_len = opts.data_size_out;
	if (pg->tc)
		*verdict = opts.retval == TC_ACT_OK ? V_PASS :
			   opts.retval == TC_ACT_SHOT ? V_DROP : V_OTHER;
	else
		*verdict = opts.retval == XDP_PASS ? V_PASS :
			   opts.retval == XDP_DROP ? V_DROP : V_OTHER;
	return 0;
}

/* ---- The fixture table ---- */

struct fixture;
typedef void (*tweak_fn)(const struct fixture *f, struct pkt_spec *in);

struct fixture {
	const char *desc;
	int (*setup)(void);	/* map changes before the packet, or NULL */
	struct pkt_spec in;	/* input packet */
	tweak_fn tweak;		/* adjusts the input at run time, or NULL */
	int verdict;		/* V_*; the output is compared for V_PASS */
	int rw;			/* RW_*: how the expected output is built */
	__u32 svc;		/* RW_DNAT: service counted; RW_RNAT: its VIP */
	__u32 be;		/* RW_DNAT: backend chosen and counted */
	__u8 stats[XLB_STAT_MAX]; /* packets each outcome counter gains */
	bool xdp_only;		/* see TC_NO_SKB */
	__u32 fe;		/* RW_RNAT: the FE_* frontend restored, 0: the
				 * service's cluster IP */
	int ct;			/* CT_*: the flow's conntrack after */
	bool aff;		/* the affinity of (.svc, input source) was
				 * written by this packet and holds .be */
};

/* What xlb_ct holds for the input packet's flow after it ran. */
enum {
	CT_ANY,		/* not checked */
	CT_NONE,	/* no entry for the flow */
	CT_BE,		/* the client entry alone, naming the frontend the
			 * packet was sent to, .be and .svc */
	CT_PAIR,	/* the client's port belongs to another flow: a
			 * forward entry to .be of .svc and the reverse
			 * entry restoring the frontend */
};

/* bpf_prog_test_run refuses (EINVAL) to build an skb from an untagged
 * IPv4 or IPv6 frame shorter than the fixed IP header, so those frames
 * run through XDP only; tagged ones, which take the same parser paths
 * after the tags, run through both. */
#define TC_NO_SKB "test_run builds no skb from an untagged IP frame " \
		  "shorter than its fixed IP header"


/* Setup steps used by the table. */
static int step_flush(void)
{
	return flush_ct();
}

static int step_ring4_replace(void)
{
	return set_ring(SVC_RING4, BE_RING4_B, 1);
}

static int step_ring6_replace(void)
{
	return set_ring(SVC_RING6, BE_RING6_B, 1);
}

/* The agent removes backend A: state UNUSED, ring rebuilt with B. */
static int step_stale_remove(void)
{
	int err = set_be_state(BE_STALE_A, XLB_BE_UNUSED);

	return err ? err : set_ring(SVC_STALE, BE_STALE_B, 1);
}

/* Backend A starts terminating; its ring is not rebuilt yet. */
static int step_term_mark(void)
{
	return set_be_state(BE_TERM_A, XLB_BE_TERMINATING);
}

static int step_term_ring(void)
{
	return set_ring(SVC_TERM, BE_TERM_B, 1);
}

/* ---- Session affinity ---- */

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

/* ---- Source ranges ---- */

/* The v4 service's CIDR is withdrawn (the agent deletes the key). */
static int step_sr4_withdraw(void)
{
	struct xlb_src_range_key k;

	range_key(&k, &t_ranges[0]);
	if (bpf_map_delete_elem(env.ranges_fd, &k)) {
		pr_err("xlb_src_ranges: delete of the range of service %u: %s",
		       t_ranges[0].svc, strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- Port filter ---- */

static int step_pf_none(void)
{
	memset(env.ports, 0, T_PORTS * sizeof(*env.ports));
	return flush_ct();
}

static int step_pf_fe80(void)
{
	env.ports[80].frontends = 1;
	return 0;
}

static int step_pf_be8080(void)
{
	env.ports[8080].backends = 1;
	return 0;
}

static int step_pf_fe443(void)
{
	env.ports[443].frontends = 1;
	return 0;
}

static int step_pf_be8443(void)
{
	env.ports[8443].backends = 1;
	return 0;
}

static void apply_rewrite(const struct fixture *f, struct pkt_spec *s)
{
	const struct t_svc *sv;
	const struct t_fe *fe;
	const struct t_be *b;

	switch (f->rw) {
	case RW_DNAT:
		b = be_of(f->be);
		if (b) {
			s->daddr = b->addr;
			s->dport = b->port;
		}
		break;
	case RW_RNAT:
		fe = fe_of(f->fe);
		sv = svc_of(f->svc);
		if (f->fe && fe) {
			s->saddr = fe->addr;
			s->sport = fe->port;
		} else if (!f->fe && sv) {
			s->saddr = sv->vip;
			s->sport = sv->port;
		}
		break;
	}
}

/* Picks the first payload word so that the rewritten packet's UDP
 * checksum sums to zero and must go out as 0xffff. */
static void tweak_udp_csum_zero(const struct fixture *f, struct pkt_spec *in)
{
	struct pkt_spec s = *in;
	struct pkt_layout l;
	__u8 buf[PKT_MAX_LEN];
	__u32 w;
	__u16 c;

	s.payload_word0 = 0x1234;
	apply_rewrite(f, &s);
	if (!pkt_build(&s, buf, sizeof(buf), &l))
		return;
	c = buf[l.l4 + 6] << 8 | buf[l.l4 + 7];
	/* c = ~S; replacing 0x1234 by w = 0x1234 + c makes S' = S + ~S. */
	w = 0x1234 + c;
	w = (w & 0xffff) + (w >> 16);
	in->payload_word0 = w ? w : 0xffff;

	/* The premise of the case: the expected packet carries 0xffff,
	 * which it only does when its checksum computed to 0 (a sum of 0
	 * needs all-zero data, and the pseudo header holds the protocol). */
	s.payload_word0 = in->payload_word0;
	if (!pkt_build(&s, buf, sizeof(buf), &l))
		return;
	ASSERT_EQ(buf[l.l4 + 6] << 8 | buf[l.l4 + 7], 0xffff,
		  "%s: premise: rewritten UDP checksum computes to 0", f->desc);
}

#define SYN	0x02
#define ACK	0x10
#define PSH	0x08

#define MACS                                                               \
	.dmac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },                    \
	.smac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }

/* Addresses are brace lists: they must not pass through a second macro. */
#define L4_BASE                                                            \
	MACS, .payload_len = 32, .seq = 0x1000, .ack = 0x2000, .ip_id = 0x4242
#define TCP4(sa, sp, da, dp)                                               \
	L4_BASE, .family = 4, .proto = IPPROTO_TCP, .saddr = sa,           \
	.sport = sp, .daddr = da, .dport = dp
#define UDP4(sa, sp, da, dp)                                               \
	L4_BASE, .family = 4, .proto = IPPROTO_UDP, .saddr = sa,           \
	.sport = sp, .daddr = da, .dport = dp
#define TCP6(sa, sp, da, dp)                                               \
	L4_BASE, .family = 6, .proto = IPPROTO_TCP, .saddr = sa,           \
	.sport = sp, .daddr = da, .dport = dp
#define UDP6(sa, sp, da, dp)                                               \
	L4_BASE, .family = 6, .proto = IPPROTO_UDP, .saddr = sa,           \
	.sport = sp, .daddr = da, .dport = dp

#define ST_NEW		{ [XLB_STAT_CT_NEW] = 1, [XLB_STAT_DNAT] = 1 }
#define ST_DNAT		{ [XLB_STAT_DNAT] = 1 }
#define ST_RNAT		{ [XLB_STAT_RNAT] = 1 }
#define ST_PASS		{ [XLB_STAT_PASS] = 1 }
#define ST_PARSE	{ [XLB_STAT_PARSE_ERR] = 1 }
#define ST_UNSUP	{ [XLB_STAT_UNSUPPORTED] = 1 }
#define ST_NOBE		{ [XLB_STAT_NO_BACKEND] = 1 }
#define ST_STALE                                                           \
	{ [XLB_STAT_CT_STALE] = 1, [XLB_STAT_CT_NEW] = 1, [XLB_STAT_DNAT] = 1 }
#define ST_AFF                                                             \
	{ [XLB_STAT_AFFINITY_HIT] = 1, [XLB_STAT_CT_NEW] = 1,              \
	  [XLB_STAT_DNAT] = 1 }
#define ST_DENIED	{ [XLB_STAT_SRC_DENIED] = 1 }
#define ST_FRAG_MISS	{ [XLB_STAT_FRAG_MISS] = 1 }
#define ST_REJECT	{ [XLB_STAT_NO_BACKEND] = 1, [XLB_STAT_REJECTED] = 1 }

#define DNAT(s, b) .verdict = V_PASS, .rw = RW_DNAT, .svc = s, .be = b
#define RNAT(s) .verdict = V_PASS, .rw = RW_RNAT, .svc = s
#define UNCHANGED .verdict = V_PASS, .rw = RW_NONE
#define DROPPED .verdict = V_DROP, .rw = RW_NONE

#define EXT(t, l) { .type = t, .len8 = l }

/* Macros set defaults that entries override field by field. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"

static const struct fixture fixtures[] = {
	/* --- Balanced flows: both families, TCP and UDP --- */
	{ "TCP v4 SYN to a VIP is DNATed to its backend", .setup = step_flush,
	  .in = { TCP4(CLI4, 40001, VIP4, 80), .tcp_flags = SYN,
		  .tcpopt_len = 4, .payload_len = 0 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v4 data on a tracked flow goes to the same backend",
	  .in = { TCP4(CLI4, 40001, VIP4, 80), .tcp_flags = ACK | PSH,
		  .payload_len = 100 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT },
	{ "TCP v4 reply from the backend is reverse-NATed to the VIP",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "UDP v4 to a VIP is DNATed to its backend",
	  .in = { UDP4(CLI4, 40002, VIP4, 53) },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 reply from the backend is reverse-NATed to the VIP",
	  .in = { UDP4(BE4_U, 5353, CLI4, 40002), .payload_len = 120 },
	  RNAT(SVC_U4), .stats = ST_RNAT },
	/* The client reuses port 40001 towards another service. */
	{ "TCP v4 SYN from a tracked client port to another VIP is a flow of its own",
	  .in = { TCP4(CLI4, 40001, VIP4_FE, 80), .tcp_flags = SYN },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_NEW, .ct = CT_PAIR },
	{ "TCP v4 data of that second flow goes to its backend",
	  .in = { TCP4(CLI4, 40001, VIP4_FE, 80), .tcp_flags = ACK,
		  .payload_len = 10 },
	  DNAT(SVC_FE4, BE_FE4), .stats = ST_DNAT, .ct = CT_PAIR },
	{ "TCP v4 data of the first flow of that port still goes to its backend",
	  .in = { TCP4(CLI4, 40001, VIP4, 80), .tcp_flags = ACK,
		  .payload_len = 10 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_DNAT, .ct = CT_BE },
	{ "TCP v4 reply of the second flow is from the second VIP",
	  .in = { TCP4(BE4_FE, 8080, CLI4, 40001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_FE4), .stats = ST_RNAT },
	{ "TCP v4 reply of the first flow is still from the first VIP",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40001), .tcp_flags = ACK },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "TCP v4 from a host that is not its backend, from a backend port, to that client port passes untouched",
	  .in = { TCP4(CLI4_B, 8080, CLI4, 40001), .tcp_flags = ACK },
	  UNCHANGED, .stats = ST_PASS },
	{ "UDP v4 with zero checksum to a VIP keeps checksum zero",
	  .in = { UDP4(CLI4, 40003, VIP4, 53), .udp_nocsum = true },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 reply with zero checksum keeps checksum zero",
	  .in = { UDP4(BE4_U, 5353, CLI4, 40003), .udp_nocsum = true },
	  RNAT(SVC_U4), .stats = ST_RNAT },
	{ "UDP v4 to a VIP whose rewritten checksum is 0 sends 0xffff",
	  .in = { UDP4(CLI4, 40004, VIP4, 53), .payload_len = 16 },
	  .tweak = tweak_udp_csum_zero,
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 to a VIP with an empty payload is DNATed",
	  .in = { UDP4(CLI4, 40005, VIP4, 53), .payload_len = 0 },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "UDP v4 to a VIP with a 3-byte payload is DNATed",
	  .in = { UDP4(CLI4, 40006, VIP4, 53), .payload_len = 3 },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "TCP v4 with DF set (not a fragment) is DNATed",
	  .in = { TCP4(CLI4_B, 40007, VIP4, 80), .frag = 0x4000 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "TCP v6 SYN to a VIP is DNATed to its backend",
	  .in = { TCP6(CLI6, 40001, VIP6, 443), .tcp_flags = SYN,
		  .tcpopt_len = 8, .payload_len = 0 },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "TCP v6 data on a tracked flow goes to the same backend",
	  .in = { TCP6(CLI6, 40001, VIP6, 443), .payload_len = 333 },
	  DNAT(SVC_T6, BE_T6), .stats = ST_DNAT },
	{ "TCP v6 reply from the backend is reverse-NATed to the VIP",
	  .in = { TCP6(BE6_T, 8443, CLI6, 40001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_T6), .stats = ST_RNAT },
	{ "UDP v6 to a VIP is DNATed to its backend",
	  .in = { UDP6(CLI6, 40002, VIP6, 53) },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW },
	{ "UDP v6 reply from the backend is reverse-NATed to the VIP",
	  .in = { UDP6(BE6_U, 5353, CLI6, 40002) },
	  RNAT(SVC_U6), .stats = ST_RNAT },
	{ "UDP v6 to a VIP with an empty payload is DNATed",
	  .in = { UDP6(CLI6, 40003, VIP6, 53), .payload_len = 0 },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW },

	/* --- VLAN tags --- */
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

	/* --- IPv4 options, IPv6 extension headers --- */
	{ "TCP v4 with 8 bytes of IP options is DNATed",
	  .in = { TCP4(CLI4, 40201, VIP4, 80), .ipopt_len = 8 },
	  DNAT(SVC_T4, BE_T4), .stats = ST_NEW },
	{ "UDP v4 with 40 bytes of IP options (IHL 15) is DNATed",
	  .in = { UDP4(CLI4, 40202, VIP4, 53), .ipopt_len = 40 },
	  DNAT(SVC_U4, BE_U4), .stats = ST_NEW },
	{ "TCP v4 reply with IP options is reverse-NATed",
	  .in = { TCP4(BE4_T, 8080, CLI4, 40201), .ipopt_len = 4 },
	  RNAT(SVC_T4), .stats = ST_RNAT },
	{ "TCP v6 with a hop-by-hop header is DNATed",
	  .in = { TCP6(CLI6, 40201, VIP6, 443), .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "UDP v6 with a destination options header is DNATed",
	  .in = { UDP6(CLI6, 40202, VIP6, 53), .next = 1,
		  .ext = { EXT(IPPROTO_DSTOPTS, 1) } },
	  DNAT(SVC_U6, BE_U6), .stats = ST_NEW },
	{ "TCP v6 with a routing header (segments left 0) is DNATed",
	  .in = { TCP6(CLI6, 40203, VIP6, 443), .next = 1,
		  .ext = { EXT(IPPROTO_ROUTING, 2) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "TCP v6 with hop-by-hop, routing and dest opts is DNATed",
	  .in = { TCP6(CLI6, 40204, VIP6, 443), .next = 3,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0), EXT(IPPROTO_ROUTING, 2),
			   EXT(IPPROTO_DSTOPTS, 0) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "UDP v6 reply with a hop-by-hop header is reverse-NATed",
	  .in = { UDP6(BE6_U, 5353, CLI6, 40202), .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) } },
	  RNAT(SVC_U6), .stats = ST_RNAT },
	{ "TCP v6 with 6 extension headers (the parser's bound) is DNATed",
	  .in = { TCP6(CLI6, 40205, VIP6, 443), .next = 6,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_ROUTING, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_DSTOPTS, 0), EXT(IPPROTO_DSTOPTS, 0) } },
	  DNAT(SVC_T6, BE_T6), .stats = ST_NEW },
	{ "TCP v6 with 7 extension headers (beyond the parser) passes",
	  .in = { TCP6(CLI6, 40206, VIP6, 443), .next = 7,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_ROUTING, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_DSTOPTS, 0), EXT(IPPROTO_DSTOPTS, 0),
			   EXT(IPPROTO_DSTOPTS, 0) } },
	  UNCHANGED, .stats = ST_UNSUP },

	/* --- Not for a VIP: untouched --- */
	{ "TCP v4 to a non-VIP address passes untouched",
	  .in = { TCP4(CLI4, 40301, OTHER4, 80) },
	  UNCHANGED, .stats = ST_PASS },
	{ "TCP v4 to a VIP on a port without frontend passes untouched",
	  .in = { TCP4(CLI4, 40302, VIP4, 81) },
	  UNCHANGED, .stats = ST_PASS },
	{ "UDP v4 to a TCP-only VIP port passes untouched",
	  .in = { UDP4(CLI4, 40303, VIP4, 80) },
	  UNCHANGED, .stats = ST_PASS },
	{ "TCP v6 to a non-VIP address passes untouched",
	  .in = { TCP6(CLI6, 40301, OTHER6, 443) },
	  UNCHANGED, .stats = ST_PASS },
	{ "TCP v4 from a backend to an unknown client passes untouched",
	  .in = { TCP4(BE4_T, 8080, CLI4_B, 40399) },
	  UNCHANGED, .stats = ST_PASS },
	/* ICMP is parsed (errors about balanced flows are reverse-NATed,
	 * see test_icmp); an echo is none of xlb's business. */
	{ "ICMP v4 echo to a VIP passes untouched",
	  .in = { MACS, .family = 4, .proto = IPPROTO_ICMP, .saddr = CLI4,
		  .daddr = VIP4, .sport = 7, .dport = 1, .payload_len = 56 },
	  UNCHANGED, .stats = ST_PASS },
	{ "ICMPv6 echo to a VIP passes untouched",
	  .in = { MACS, .family = 6, .proto = IPPROTO_ICMPV6, .saddr = CLI6,
		  .daddr = VIP6, .sport = 7, .dport = 1, .payload_len = 56 },
	  UNCHANGED, .stats = ST_PASS },
	{ "GRE over v4 to a VIP passes untouched",
	  .in = { MACS, .family = 4, .proto = 47, .saddr = CLI4,
		  .daddr = VIP4, .payload_len = 40 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "SCTP over v6 to a VIP passes untouched",
	  .in = { MACS, .family = 6, .proto = 132, .saddr = CLI6,
		  .daddr = VIP6, .payload_len = 40 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "ARP frame passes untouched",
	  .in = { MACS, .family = 0, .ethertype = 0x0806, .payload_len = 28 },
	  UNCHANGED, .stats = ST_UNSUP },

	/* --- Fragments: a first fragment carries the ports and is balanced
	 * (its L4 checksum covers the whole datagram, so the incremental
	 * update equals the one computed here over the fragment); a later
	 * fragment of no recorded datagram passes (test_frag follows whole
	 * datagrams) --- */
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

	/* --- No backend: a segment with payload is dropped (a RST
	 * answers only segments without); a UDP datagram is answered with
	 * a port unreachable, whose bytes test_reject checks --- */
	{ "TCP v4 SYN with payload to a VIP without backend is dropped",
	  .in = { TCP4(CLI4, 40501, VIP4_EMPTY, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_NOBE, .ct = CT_NONE },
	{ "UDP v6 to a VIP whose ring holds an UNUSED backend is rejected",
	  .in = { UDP6(CLI6, 40501, VIP6_DEAD, 53) },
	  .verdict = V_OTHER, .rw = RW_NONE, .stats = ST_REJECT,
	  .ct = CT_NONE },

	/* --- Ring replaced: tracked flows keep their backend --- */
	{ "ring v4: flow F balanced to backend A",
	  .in = { TCP4(CLI4, 41001, VIP4_RING, 80), .tcp_flags = SYN },
	  DNAT(SVC_RING4, BE_RING4_A), .stats = ST_NEW },
	{ "ring v4: after the ring is replaced by B, F keeps A",
	  .setup = step_ring4_replace,
	  .in = { TCP4(CLI4, 41001, VIP4_RING, 80) },
	  DNAT(SVC_RING4, BE_RING4_A), .stats = ST_DNAT },
	{ "ring v4: a new flow follows the new ring to B",
	  .in = { TCP4(CLI4, 41002, VIP4_RING, 80), .tcp_flags = SYN },
	  DNAT(SVC_RING4, BE_RING4_B), .stats = ST_NEW },
	{ "ring v4: with conntrack flushed, F follows the new ring to B",
	  .setup = step_flush,
	  .in = { TCP4(CLI4, 41001, VIP4_RING, 80) },
	  DNAT(SVC_RING4, BE_RING4_B), .stats = ST_NEW },
	{ "ring v6: flow F balanced to backend A",
	  .in = { TCP6(CLI6, 41001, VIP6_RING, 443), .tcp_flags = SYN },
	  DNAT(SVC_RING6, BE_RING6_A), .stats = ST_NEW },
	{ "ring v6: after the ring is replaced by B, F keeps A",
	  .setup = step_ring6_replace,
	  .in = { TCP6(CLI6, 41001, VIP6_RING, 443) },
	  DNAT(SVC_RING6, BE_RING6_A), .stats = ST_DNAT },
	{ "ring v6: a new flow follows the new ring to B",
	  .in = { TCP6(CLI6, 41002, VIP6_RING, 443), .tcp_flags = SYN },
	  DNAT(SVC_RING6, BE_RING6_B), .stats = ST_NEW },
	{ "ring v6: reply from A on the kept flow is reverse-NATed",
	  .in = { TCP6(BE6_RING_A, 8443, CLI6, 41001) },
	  RNAT(SVC_RING6), .stats = ST_RNAT },

	/* --- Tracked backend removed: re-balanced (stale) --- */
	{ "stale: flow G balanced to backend A",
	  .in = { TCP4(CLI4, 42001, VIP4_STALE, 80), .tcp_flags = SYN },
	  DNAT(SVC_STALE, BE_STALE_A), .stats = ST_NEW },
	{ "stale: A removed (UNUSED), ring rebuilt: G re-balanced to B",
	  .setup = step_stale_remove,
	  .in = { TCP4(CLI4, 42001, VIP4_STALE, 80) },
	  DNAT(SVC_STALE, BE_STALE_B), .stats = ST_STALE },
	{ "stale: G stays on B",
	  .in = { TCP4(CLI4, 42001, VIP4_STALE, 80) },
	  DNAT(SVC_STALE, BE_STALE_B), .stats = ST_DNAT },
	{ "stale: reply from B on G is reverse-NATed",
	  .in = { TCP4(BE4_STALE_B, 8080, CLI4, 42001) },
	  RNAT(SVC_STALE), .stats = ST_RNAT },

	/* --- Tracked backend terminating: kept, but no new flows --- */
	{ "terminating: flow H balanced to backend A",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80), .tcp_flags = SYN },
	  DNAT(SVC_TERM, BE_TERM_A), .stats = ST_NEW },
	{ "terminating: A TERMINATING keeps tracked flow H",
	  .setup = step_term_mark,
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80) },
	  DNAT(SVC_TERM, BE_TERM_A), .stats = ST_DNAT },
	{ "terminating: a new flow whose slot holds A is dropped",
	  .in = { TCP4(CLI4, 43002, VIP4_TERM, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_NOBE },
	{ "terminating: ring rebuilt without A: a new flow goes to B",
	  .setup = step_term_ring,
	  .in = { TCP4(CLI4, 43003, VIP4_TERM, 80), .tcp_flags = SYN },
	  DNAT(SVC_TERM, BE_TERM_B), .stats = ST_NEW },
	{ "terminating: H still goes to A after the rebuild",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80) },
	  DNAT(SVC_TERM, BE_TERM_A), .stats = ST_DNAT },
	{ "terminating: a SYN reusing H's ports is a new connection: to B",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80), .tcp_flags = SYN },
	  DNAT(SVC_TERM, BE_TERM_B), .stats = ST_NEW },
	{ "terminating: the new connection on H's ports stays on B",
	  .in = { TCP4(CLI4, 43001, VIP4_TERM, 80) },
	  DNAT(SVC_TERM, BE_TERM_B), .stats = ST_DNAT },

	/* --- Frontend kinds: one service, several xlb_svc entries --- */
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

	/* --- Session affinity: the ring gives the slot of C's first flow
	 * to A and every other slot to B (aff_ring) --- */
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

	/* --- Source ranges: on the LB frontends, not on the cluster IPs --- */
	{ "source ranges v4: client inside the /24 is DNATed",
	  .in = { TCP4(SR4_IN, 49001, LB4_SR, 80), .tcp_flags = SYN },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v4: the last address of the /24 is DNATed",
	  .in = { TCP4(SR4_IN_LAST, 49002, LB4_SR, 80), .tcp_flags = SYN },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v4: reply to the client inside is reverse-NATed",
	  .in = { TCP4(BE4_SR, 8080, SR4_IN, 49001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_SR4), .fe = FE_SR4_LB, .stats = ST_RNAT },
	{ "source ranges v4: client just above the /24 is dropped",
	  .in = { TCP4(SR4_OUT, 49003, LB4_SR, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v4: client just below the /24 is dropped",
	  .in = { TCP4(SR4_OUT_BELOW, 49004, LB4_SR, 80),
		  .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v4: client in another service's range is dropped",
	  .in = { TCP4(SR4_OTHER_SVC, 49005, LB4_SR, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v4: client outside, to the cluster IP, is DNATed",
	  .in = { TCP4(SR4_OUT, 49006, VIP4_SR, 80), .tcp_flags = SYN },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v4: range withdrawn: a tracked flow goes on",
	  .setup = step_sr4_withdraw,
	  .in = { TCP4(SR4_IN, 49001, LB4_SR, 80), .payload_len = 100 },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_DNAT },
	{ "source ranges v4: range withdrawn: a new flow from it is dropped",
	  .in = { TCP4(SR4_IN_2, 49007, LB4_SR, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client inside the /64 is DNATed",
	  .in = { TCP6(SR6_IN, 49001, LB6_SR, 443), .tcp_flags = SYN },
	  DNAT(SVC_SR6, BE_SR6), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v6: the last address of the /64 is DNATed",
	  .in = { TCP6(SR6_IN_LAST, 49002, LB6_SR, 443), .tcp_flags = SYN },
	  DNAT(SVC_SR6, BE_SR6), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v6: reply to the client inside is reverse-NATed",
	  .in = { TCP6(BE6_SR, 8443, SR6_IN, 49001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_SR6), .fe = FE_SR6_LB, .stats = ST_RNAT },
	{ "source ranges v6: client in the next /64 is dropped",
	  .in = { TCP6(SR6_OUT, 49003, LB6_SR, 443), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client in the /64 below is dropped",
	  .in = { TCP6(SR6_OUT_BELOW, 49004, LB6_SR, 443),
		  .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client with the bits of its v4 CIDR is dropped",
	  .in = { TCP6(SR6_V4_ALIKE, 49005, LB6_SR, 443), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client outside, to the cluster IP, is DNATed",
	  .in = { TCP6(SR6_OUT, 49006, VIP6_SR, 443), .tcp_flags = SYN },
	  DNAT(SVC_SR6, BE_SR6), .stats = ST_NEW, .ct = CT_BE },

	/* --- Local policy: the NodePort frontend has the node-local ring
	 * (L only), the cluster IP the cluster ring (R only); both have
	 * affinity, whose entries are per service --- */
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

	/* --- Cut short at every header boundary: never modified --- */
	{ "cut: TCP v4 to a VIP, Ethernet header only",
	  .in = { TCP4(CLI4, 44001, VIP4, 80), .cut = PKT_CUT_L3 },
	  UNCHANGED, .stats = ST_PARSE, .xdp_only = true },
	{ "cut: TCP v4 to a VIP, half an IP header",
	  .in = { TCP4(CLI4, 44001, VIP4, 80), .cut = PKT_CUT_L3,
		  .cut_adj = 10 },
	  UNCHANGED, .stats = ST_PARSE, .xdp_only = true },
	{ "cut: TCP v4 to a VIP, IP header one byte short",
	  .in = { TCP4(CLI4, 44001, VIP4, 80), .cut = PKT_CUT_L3,
		  .cut_adj = 19 },
	  UNCHANGED, .stats = ST_PARSE, .xdp_only = true },
	{ "cut: UDP v6 to a VIP, Ethernet header only",
	  .in = { UDP6(CLI6, 44003, VIP6, 53), .cut = PKT_CUT_L3 },
	  UNCHANGED, .stats = ST_PARSE, .xdp_only = true },
	{ "cut: UDP v6 to a VIP, half an IPv6 header",
	  .in = { UDP6(CLI6, 44003, VIP6, 53), .cut = PKT_CUT_L3,
		  .cut_adj = 20 },
	  UNCHANGED, .stats = ST_PARSE, .xdp_only = true },
	{ "cut: TCP v4 to a VIP, IP header without L4",
	  .in = { TCP4(CLI4, 44001, VIP4, 80), .cut = PKT_CUT_L4 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v4 to a VIP, half a TCP header",
	  .in = { TCP4(CLI4, 44001, VIP4, 80), .cut = PKT_CUT_L4,
		  .cut_adj = 10 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v4 to a VIP, TCP header one byte short",
	  .in = { TCP4(CLI4, 44001, VIP4, 80), .cut = PKT_CUT_L4,
		  .cut_adj = 19 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: VLAN TCP v4 to a VIP, tag missing",
	  .in = { TCP4(CLI4, 44002, VIP4, 80), .nvlan = 1, .cut = PKT_CUT_L2,
		  .cut_adj = 14 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: VLAN TCP v4 to a VIP, half a tag",
	  .in = { TCP4(CLI4, 44002, VIP4, 80), .nvlan = 1, .cut = PKT_CUT_L2,
		  .cut_adj = 16 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: VLAN TCP v4 to a VIP, tag without IP header",
	  .in = { TCP4(CLI4, 44002, VIP4, 80), .nvlan = 1, .cut = PKT_CUT_L3 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: VLAN TCP v4 to a VIP, half an IP header",
	  .in = { TCP4(CLI4, 44002, VIP4, 80), .nvlan = 1, .cut = PKT_CUT_L3,
		  .cut_adj = 10 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: VLAN TCP v4 to a VIP, IP header one byte short",
	  .in = { TCP4(CLI4, 44002, VIP4, 80), .nvlan = 1, .cut = PKT_CUT_L3,
		  .cut_adj = 19 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: VLAN TCP v4 to a VIP, TCP header missing",
	  .in = { TCP4(CLI4, 44002, VIP4, 80), .nvlan = 1, .cut = PKT_CUT_L4 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v4 with options to a VIP, options missing",
	  .in = { TCP4(CLI4, 44003, VIP4, 80), .ipopt_len = 8,
		  .cut = PKT_CUT_L3_FIXED },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v4 with options to a VIP, half the options",
	  .in = { TCP4(CLI4, 44003, VIP4, 80), .ipopt_len = 8,
		  .cut = PKT_CUT_L3_FIXED, .cut_adj = 4 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v4 with options to a VIP, TCP header missing",
	  .in = { TCP4(CLI4, 44003, VIP4, 80), .ipopt_len = 8,
		  .cut = PKT_CUT_L4 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: UDP v4 to a VIP, UDP header one byte short",
	  .in = { UDP4(CLI4, 44004, VIP4, 53), .cut = PKT_CUT_L4,
		  .cut_adj = 7 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: QinQ UDP v6 to a VIP, second tag missing",
	  .in = { UDP6(CLI6, 44001, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8 }, .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) }, .cut = PKT_CUT_L2,
		  .cut_adj = 18 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: QinQ UDP v6 to a VIP, tags without IPv6 header",
	  .in = { UDP6(CLI6, 44001, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8 }, .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) }, .cut = PKT_CUT_L3 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: QinQ UDP v6 to a VIP, half an IPv6 header",
	  .in = { UDP6(CLI6, 44001, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8 }, .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) }, .cut = PKT_CUT_L3,
		  .cut_adj = 20 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: QinQ UDP v6 to a VIP, hop-by-hop header missing",
	  .in = { UDP6(CLI6, 44001, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8 }, .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) }, .cut = PKT_CUT_L3_FIXED },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: QinQ UDP v6 to a VIP, half a hop-by-hop header",
	  .in = { UDP6(CLI6, 44001, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8 }, .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) }, .cut = PKT_CUT_L3_FIXED,
		  .cut_adj = 8 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: QinQ UDP v6 to a VIP, UDP header missing",
	  .in = { UDP6(CLI6, 44001, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8 }, .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) }, .cut = PKT_CUT_L4 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: QinQ UDP v6 to a VIP, half a UDP header",
	  .in = { UDP6(CLI6, 44001, VIP6, 53), .nvlan = 2,
		  .vlan_tpid = { 0x88a8 }, .next = 1,
		  .ext = { EXT(IPPROTO_HOPOPTS, 1) }, .cut = PKT_CUT_L4,
		  .cut_adj = 4 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v6 reply, TCP header one byte short",
	  .in = { TCP6(BE6_T, 8443, CLI6, 40001), .cut = PKT_CUT_L4,
		  .cut_adj = 19 },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v6 to a VIP, routing header missing",
	  .in = { TCP6(CLI6, 44002, VIP6, 443), .next = 1,
		  .ext = { EXT(IPPROTO_ROUTING, 2) }, .cut = PKT_CUT_L3_FIXED },
	  UNCHANGED, .stats = ST_PARSE },
	{ "cut: TCP v6 to a VIP, routing header without TCP",
	  .in = { TCP6(CLI6, 44002, VIP6, 443), .next = 1,
		  .ext = { EXT(IPPROTO_ROUTING, 2) }, .cut = PKT_CUT_EXT },
	  UNCHANGED, .stats = ST_PARSE },
};

/* Run through the programs loaded with xlb_cfg.port_filter = 1 only. The
 * filter trusts xlb_ports: a port that no frontend (backend) uses skips
 * the service (reply) lookup, whatever the maps hold. xlbd keeps the
 * counts exact; these cases pin what happens when they say 0. */
static const struct fixture pf_fixtures[] = {
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

#pragma GCC diagnostic pop

static void check_counters(const struct prog *pg, const struct fixture *f,
			   const struct snap *a, const struct snap *b,
			   size_t len)
{
	static const char *const names[] = XLB_STAT_NAMES;
	char why[512];
	size_t w = 0;
	__u64 want_pk, got_pk, got_by;
	__u32 i;

#define WHY(...)                                                           \
	do {                                                               \
		if (w < sizeof(why))                                       \
			w += snprintf(why + w, sizeof(why) - w, __VA_ARGS__); \
	} while (0)

	for (i = 0; i < XLB_STAT_MAX; i++) {
		want_pk = f->stats[i];
		got_pk = b->pk[i] - a->pk[i];
		got_by = b->by[i] - a->by[i];
		if (got_pk != want_pk || got_by != want_pk * len)
			WHY(" %s %llu pkts/%llu bytes (want %llu/%llu)", names[i],
			    (unsigned long long)got_pk,
			    (unsigned long long)got_by,
			    (unsigned long long)want_pk,
			    (unsigned long long)(want_pk * len));
	}
	for (i = 1; i < SVC_N; i++) {
		want_pk = f->rw == RW_DNAT && f->svc == i;
		got_pk = b->svc_pk[i] - a->svc_pk[i];
		got_by = b->svc_by[i] - a->svc_by[i];
		if (got_pk != want_pk || got_by != want_pk * len)
			WHY(" service %u %llu pkts/%llu bytes (want %llu/%llu)",
			    i, (unsigned long long)got_pk,
			    (unsigned long long)got_by,
			    (unsigned long long)want_pk,
			    (unsigned long long)(want_pk * len));
	}
	for (i = 1; i < BE_N; i++) {
		want_pk = f->rw == RW_DNAT && f->be == i;
		got_pk = b->be_pk[i] - a->be_pk[i];
		got_by = b->be_by[i] - a->be_by[i];
		if (got_pk != want_pk || got_by != want_pk * len)
			WHY(" backend %u %llu pkts/%llu bytes (want %llu/%llu)",
			    i, (unsigned long long)got_pk,
			    (unsigned long long)got_by,
			    (unsigned long long)want_pk,
			    (unsigned long long)(want_pk * len));
	}
#undef WHY
	if (!w)
		TEST_PASS("%s: %s: counters", pg->name, f->desc);
	else
		TEST_FAIL("%s: %s: counters:%s", pg->name, f->desc, why);
}

static void spec_ct_key(struct xlb_ct_key *k, const struct pkt_spec *s,
			__u8 dir)
{
	memset(k, 0, sizeof(*k));
	addr_to_xlb(&k->saddr, &s->saddr, s->family);
	addr_to_xlb(&k->daddr, &s->daddr, s->family);
	k->sport = htons(s->sport);
	k->dport = htons(s->dport);
	k->proto = s->proto;
	k->family = xlb_family(s->family);
	k->dir = dir;
}

/* The client entry's key of the input's client. */
static void spec_client_key(struct xlb_ct_key *k, const struct pkt_spec *s)
{
	memset(k, 0, sizeof(*k));
	addr_to_xlb(&k->saddr, &s->saddr, s->family);
	k->sport = htons(s->sport);
	k->proto = s->proto;
	k->family = xlb_family(s->family);
	k->dir = XLB_CT_CLIENT;
}

/* Whether the entry v names backend be of service svc, restoring (or
 * holding, fwd) the address and port a, port; describes it in why if not. */
static void ct_val_check(const char *what, const struct xlb_ct_val *v,
			 __u32 be, __u32 svc, const union xlb_addr *a,
			 __u16 port, char *why, size_t len)
{
	if (v->backend_id != be || v->svc_id != svc ||
	    memcmp(&v->nat_addr, a, sizeof(*a)) || v->nat_port != htons(port))
		snprintf(why, len,
			 "%s: backend %u service %u port %u, want backend %u "
			 "service %u port %u", what, v->backend_id, v->svc_id,
			 ntohs(v->nat_port), be, svc, port);
}

/* Checks f->ct against xlb_ct after the input packet in ran. */
static void check_ct(const struct prog *pg, const struct fixture *f,
		     const struct pkt_spec *in)
{
	const struct t_be *b = be_of(f->be);
	struct xlb_ct_key k;
	struct xlb_ct_val v;
	union xlb_addr a, fe;
	struct pkt_spec r;
	char why[256] = "";
	int client, fwd, rev;

	if (f->ct == CT_ANY)
		return;
	addr_to_xlb(&fe, &in->daddr, in->family);
	spec_client_key(&k, in);
	client = !bpf_map_lookup_elem(env.ct_fd, &k, &v) &&
		 !memcmp(&v.nat_addr, &fe, sizeof(fe)) &&
		 v.nat_port == htons(in->dport);
	spec_ct_key(&k, in, XLB_CT_FWD);
	fwd = !bpf_map_lookup_elem(env.ct_fd, &k, &v);
	if (f->ct == CT_NONE) {
		ASSERT_EQ(client + fwd, 0, "%s: %s: no conntrack entry",
			  pg->name, f->desc);
		return;
	}
	if (!b) {
		TEST_FAIL("%s: %s: conntrack: no backend %u in the table",
			  pg->name, f->desc, f->be);
		return;
	}
	/* The reply backend -> client. */
	r = *in;
	r.saddr = b->addr;
	r.sport = b->port;
	r.daddr = in->saddr;
	r.dport = in->sport;
	spec_ct_key(&k, &r, XLB_CT_REV);
	rev = !bpf_map_lookup_elem(env.ct_fd, &k, &v);
	addr_to_xlb(&a, &b->addr, b->family);
	if (f->ct == CT_BE) {
		/* One entry, the client's: its frontend and backend. */
		spec_client_key(&k, in);
		if (!client)
			snprintf(why, sizeof(why),
				 "no client entry naming the frontend");
		else if (fwd || rev)
			snprintf(why, sizeof(why),
				 "forward or reverse entries besides the "
				 "client entry");
		else if (!bpf_map_lookup_elem(env.ct_fd, &k, &v))
			ct_val_check("client entry", &v, f->be, f->svc, &fe,
				     in->dport, why, sizeof(why));
	} else {
		/* CT_PAIR: the client's port belongs to another flow. */
		spec_ct_key(&k, in, XLB_CT_FWD);
		if (client)
			snprintf(why, sizeof(why),
				 "the client entry names this flow");
		else if (bpf_map_lookup_elem(env.ct_fd, &k, &v))
			snprintf(why, sizeof(why), "no forward entry");
		else
			ct_val_check("forward entry", &v, f->be, f->svc, &a,
				     b->port, why, sizeof(why));
		spec_ct_key(&k, &r, XLB_CT_REV);
		if (!why[0] && bpf_map_lookup_elem(env.ct_fd, &k, &v))
			snprintf(why, sizeof(why), "no reverse entry");
		else if (!why[0])
			ct_val_check("reverse entry", &v, f->be, f->svc, &fe,
				     in->dport, why, sizeof(why));
	}
	if (why[0])
		TEST_FAIL("%s: %s: conntrack: %s", pg->name, f->desc, why);
	else
		TEST_PASS("%s: %s: conntrack to backend %u and back", pg->name,
			  f->desc, f->be);
}

/* Allowed difference between the coarse clock read here and by the
 * program: both read the same timekeeper, one tick apart at most. */
#define AFF_CLOCK_SLACK_NS (50ull * 1000 * 1000)

/* Checks that the affinity of the input's client now names f->be with a
 * last_seen taken while the packet ran (t0 .. t1). */
static void check_affinity(const struct prog *pg, const struct fixture *f,
			   const struct pkt_spec *in, __u64 t0, __u64 t1)
{
	struct xlb_affinity_key k;
	struct xlb_affinity_val v;

	if (!f->aff)
		return;
	affinity_key(&k, f->svc, in->family, &in->saddr);
	if (bpf_map_lookup_elem(env.aff_fd, &k, &v)) {
		TEST_FAIL("%s: %s: affinity: no entry for the client", pg->name,
			  f->desc);
		return;
	}
	if (v.backend_id != f->be)
		TEST_FAIL("%s: %s: affinity: backend %u, want %u", pg->name,
			  f->desc, v.backend_id, f->be);
	else if (v.last_seen + AFF_CLOCK_SLACK_NS < t0 ||
		 v.last_seen > t1 + AFF_CLOCK_SLACK_NS)
		TEST_FAIL("%s: %s: affinity: last_seen %llu ns, want %llu .. "
			  "%llu (written by this packet)", pg->name, f->desc,
			  (unsigned long long)v.last_seen,
			  (unsigned long long)t0, (unsigned long long)t1);
	else
		TEST_PASS("%s: %s: affinity to backend %u, refreshed", pg->name,
			  f->desc, f->be);
}

static void run_fixture(const struct prog *pg, const struct fixture *f)
{
	__u8 in[PKT_MAX_LEN], want[PKT_MAX_LEN], out[OUT_CAP];
	struct pkt_spec spec = f->in, exp;
	struct snap before, after;
	size_t in_len, want_len;
	__u32 out_len = 0;
	__u64 t0, t1;
	int verdict, err;

	if (pg->tc && f->xdp_only) {
		printf("# %s: %s: not run: %s\n", pg->name, f->desc, TC_NO_SKB);
		return;
	}
	if (f->setup && (err = f->setup())) {
		TEST_FAIL("%s: %s: setup: %s", pg->name, f->desc,
			  strerror(-err));
		return;
	}
	if (f->tweak)
		f->tweak(f, &spec);
	in_len = pkt_build(&spec, in, sizeof(in), NULL);
	exp = spec;
	apply_rewrite(f, &exp);
	want_len = pkt_build(&exp, want, sizeof(want), NULL);
	if (!in_len || !want_len) {
		TEST_FAIL("%s: %s: packet spec does not build", pg->name,
			  f->desc);
		return;
	}
	if (take_snap(&before)) {
		TEST_FAIL("%s: %s: counters unreadable", pg->name, f->desc);
		return;
	}
	t0 = coarse_ns();
	err = run_pkt(pg, in, in_len, out, &out_len, &verdict);
	t1 = coarse_ns();
	if (err) {
		TEST_FAIL("%s: %s: test_run: %s", pg->name, f->desc,
			  strerror(-err));
		return;
	}
	if (verdict != f->verdict)
		TEST_FAIL("%s: %s: verdict: got %s, want %s", pg->name, f->desc,
			  verdict_names[verdict], verdict_names[f->verdict]);
	else
		TEST_PASS("%s: %s: verdict %s", pg->name, f->desc,
			  verdict_names[verdict]);
	if (f->verdict == V_PASS) {
		if (out_len != want_len)
			TEST_FAIL("%s: %s: output length: got %u, want %zu",
				  pg->name, f->desc, out_len, want_len);
		else
			ASSERT_MEM_EQ(out, want, want_len, "%s: %s: output packet",
				      pg->name, f->desc);
	}
	if (take_snap(&after)) {
		TEST_FAIL("%s: %s: counters unreadable", pg->name, f->desc);
		return;
	}
	check_counters(pg, f, &before, &after, in_len);
	check_ct(pg, f, &spec);
	check_affinity(pg, f, &spec, t0, t1);
}

/* ---- Maglev agreement ---- */

static void mg_flow(struct pkt_spec *s, int family, __u32 j)
{
	static const struct pkt_addr vip4 = VIP4_MG, vip6 = VIP6_MG;
	static const struct pkt_spec base = { MACS, .payload_len = 18 };

	*s = base;
	s->family = family;
	s->proto = j & 1 ? IPPROTO_UDP : IPPROTO_TCP;
	s->dport = 80;
	s->sport = 1024 + (j * 7919) % 64000;
	memset(&s->saddr, 0, sizeof(s->saddr));
	if (family == 4) {
		s->saddr.b[0] = 100;
		s->saddr.b[1] = 64 + (j >> 16);
		s->saddr.b[2] = j >> 8;
		s->saddr.b[3] = j & 0xff;
		s->daddr = vip4;
	} else {
		s->saddr.b[0] = 0x20;
		s->saddr.b[1] = 0x01;
		s->saddr.b[2] = 0x0d;
		s->saddr.b[3] = 0xb8;
		s->saddr.b[7] = j * 37;
		s->saddr.b[11] = j >> 3;
		s->saddr.b[14] = j >> 8;
		s->saddr.b[15] = j & 0xff;
		s->daddr = vip6;
	}
}

/* The slot userspace expects: ring[xlb_flow_hash(tuple) % M]. */
static __u32 mg_expected_slot(const struct pkt_spec *s)
{
	return spec_hash(s) % MG_M;
}

static void maglev_agreement(const struct prog *pg, int family)
{
	__u8 in[PKT_MAX_LEN], want[PKT_MAX_LEN], out[OUT_CAP];
	__u32 base = family == 4 ? MG4_BE_BASE : MG6_BE_BASE;
	static bool hit[MG_M];
	__u32 j, slot, k, out_len, mismatches = 0, errors = 0, spread = 0;
	struct pkt_spec s, exp;
	size_t in_len, want_len;
	int verdict, err, shown = 0;

	err = flush_ct();
	if (err) {
		TEST_FAIL("%s: maglev v%d: flush conntrack: %s", pg->name,
			  family, strerror(-err));
		return;
	}
	memset(hit, 0, sizeof(hit));
	for (j = 0; j < MG_FLOWS; j++) {
		mg_flow(&s, family, j);
		slot = mg_expected_slot(&s);
		k = mg_ring_id(base, slot) - base;
		exp = s;
		mg_be_addr(&exp.daddr, family, k);
		exp.dport = mg_be_port(k);
		if (!hit[slot])
			spread++;
		hit[slot] = true;
		in_len = pkt_build(&s, in, sizeof(in), NULL);
		want_len = pkt_build(&exp, want, sizeof(want), NULL);
		err = run_pkt(pg, in, in_len, out, &out_len, &verdict);
		if (err || !in_len || !want_len) {
			errors++;
			continue;
		}
		if (verdict != V_PASS || out_len != want_len ||
		    memcmp(out, want, want_len)) {
			/* Backend k's address ends in k (mg_be_addr). */
			size_t d = family == 4 ? 14 + 18 : 14 + 38;

			mismatches++;
			if (shown++ < 3 && out_len > d + 1)
				printf("# %s: maglev v%d flow %u (sport %u, %s): "
				       "verdict %s, backend %u, expected %u "
				       "(slot %u)\n",
				       pg->name, family, j, s.sport,
				       s.proto == IPPROTO_TCP ? "tcp" : "udp",
				       verdict_names[verdict],
				       base + (out[d] << 8 | out[d + 1]),
				       base + k, slot);
		}
	}
	ASSERT_EQ(errors, 0, "%s: maglev v%d: %u flows ran", pg->name, family,
		  MG_FLOWS);
	ASSERT_EQ(mismatches, 0,
		  "%s: maglev v%d: every flow went to ring[xlb_flow_hash %% %u]",
		  pg->name, family, MG_M);
	/* The flows exercise the whole ring: about 10 per slot, so all but
	 * a handful of slots are expected by at least one flow. */
	ASSERT_TRUE(spread >= MG_M * 95 / 100,
		    "%s: maglev v%d: flows expect %u of %u slots", pg->name,
		    family, spread, MG_M);
	/* Each flow left one conntrack entry, its client's. */
	ASSERT_EQ(ct_count(), MG_FLOWS, "%s: maglev v%d: conntrack entries",
		  pg->name, family);
}

/* ---- Setup of the two programs over one set of maps ---- */

static int shrink_maps(struct xlb_xdp_lb *s)
{
	__u32 vsize = bpf_map__value_size(s->maps.xlb_rings);
	int err = 0;

	if (vsize != 4 && vsize != 8) {
		pr_err("xlb_rings: value size %u: not 1 or 2 ring slots", vsize);
		return -EINVAL;
	}
	env.ring_per_entry = vsize / 4;

	err = err ?: bpf_map__set_max_entries(s->maps.xlb_svc, T_FRONTENDS);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_svc_info, T_SERVICES);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_backends, T_BACKENDS);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_rings,
					      T_RING_SLOTS / env.ring_per_entry);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_ct, T_CT);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_svc_stats,
					      T_SERVICES);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_be_stats, T_BACKENDS);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_affinity, T_AFFINITY);
	err = err ?: bpf_map__set_max_entries(s->maps.xlb_src_ranges,
					      T_SRC_RANGES);
	if (!err && bpf_map__max_entries(s->maps.xlb_ports) != T_PORTS) {
		pr_err("xlb_ports: %u entries, not one per port",
		       bpf_map__max_entries(s->maps.xlb_ports));
		err = -EINVAL;
	}
	return err;
}

/* Makes every map of object dst use the map of the first XDP object. */
static int share_maps(struct bpf_object *dst)
{
	struct bpf_map *m, *src;
	int err;

	bpf_object__for_each_map(m, dst) {
		if (bpf_map__is_internal(m))
			continue;	/* .rodata: each object keeps its own */
		src = bpf_object__find_map_by_name(env.xdp->obj,
						   bpf_map__name(m));
		if (!src) {
			pr_err("map %s: not in the XDP object", bpf_map__name(m));
			return -ENOENT;
		}
		err = bpf_map__reuse_fd(m, bpf_map__fd(src));
		if (err) {
			pr_err("map %s: reuse fd: %s", bpf_map__name(m),
			       strerror(-err));
			return err;
		}
	}
	return 0;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static int env_open(void)
{
	int err;

	env.ncpu = libbpf_num_possible_cpus();
	if (env.ncpu <= 0) {
		pr_err("possible cpus: %s", strerror(-env.ncpu));
		return env.ncpu ? env.ncpu : -EINVAL;
	}
	env.xdp = xlb_xdp_lb__open();
	if (!env.xdp) {
		err = -errno;
		pr_err("xdp_lb: open: %s", strerror(errno));
		return err;
	}
	err = shrink_maps(env.xdp);
	if (err) {
		pr_err("xdp_lb: set map sizes: %s", strerror(-err));
		return err;
	}
	err = xlb_xdp_lb__load(env.xdp);
	if (err) {
		pr_err("xdp_lb: load: %s", strerror(-err));
		return err;
	}
	env.tc = xlb_tc_lb__open();
	if (!env.tc) {
		err = -errno;
		pr_err("tc_lb: open: %s", strerror(errno));
		return err;
	}
	err = share_maps(env.tc->obj);
	if (err)
		return err;
	err = xlb_tc_lb__load(env.tc);
	if (err) {
		pr_err("tc_lb: load: %s", strerror(-err));
		return err;
	}

	/* The same programs with the port filter, over the same maps. */
	env.xdp_pf = xlb_xdp_lb__open();
	if (!env.xdp_pf) {
		err = -errno;
		pr_err("xdp_lb (port_filter): open: %s", strerror(errno));
		return err;
	}
	env.xdp_pf->rodata->xlb_cfg.port_filter = 1;
	err = share_maps(env.xdp_pf->obj);
	if (err)
		return err;
	err = xlb_xdp_lb__load(env.xdp_pf);
	if (err) {
		pr_err("xdp_lb (port_filter): load: %s", strerror(-err));
		return err;
	}
	env.tc_pf = xlb_tc_lb__open();
	if (!env.tc_pf) {
		err = -errno;
		pr_err("tc_lb (port_filter): open: %s", strerror(errno));
		return err;
	}
	env.tc_pf->rodata->xlb_cfg.port_filter = 1;
	err = share_maps(env.tc_pf->obj);
	if (err)
		return err;
	err = xlb_tc_lb__load(env.tc_pf);
	if (err) {
		pr_err("tc_lb (port_filter): load: %s", strerror(-err));
		return err;
	}
	env.svc_fd = bpf_map__fd(env.xdp->maps.xlb_svc);
	env.be_fd = bpf_map__fd(env.xdp->maps.xlb_backends);
	env.rings_fd = bpf_map__fd(env.xdp->maps.xlb_rings);
	env.ct_fd = bpf_map__fd(env.xdp->maps.xlb_ct);
	env.svc_stats_fd = bpf_map__fd(env.xdp->maps.xlb_svc_stats);
	env.be_stats_fd = bpf_map__fd(env.xdp->maps.xlb_be_stats);
	env.stats_fd = bpf_map__fd(env.xdp->maps.xlb_stats);
	env.aff_fd = bpf_map__fd(env.xdp->maps.xlb_affinity);
	env.ranges_fd = bpf_map__fd(env.xdp->maps.xlb_src_ranges);
	env.ports_fd = bpf_map__fd(env.xdp->maps.xlb_ports);
	env.ports = mmap(NULL, T_PORTS * sizeof(*env.ports),
			 PROT_READ | PROT_WRITE, MAP_SHARED, env.ports_fd, 0);
	if (env.ports == MAP_FAILED) {
		err = -errno;
		env.ports = NULL;
		pr_err("xlb_ports: mmap of %zu bytes: %s",
		       T_PORTS * sizeof(*env.ports), strerror(errno));
		return err;
	}
	return 0;
}

static void env_close(void)
{
	if (env.ports)
		munmap(env.ports, T_PORTS * sizeof(*env.ports));
	xlb_tc_lb__destroy(env.tc_pf);
	xlb_xdp_lb__destroy(env.xdp_pf);
	xlb_tc_lb__destroy(env.tc);
	xlb_xdp_lb__destroy(env.xdp);
}

/* ---- The builder against known answers ---- */

/* Checksums that do not come from pkt.c: the widely quoted worked
 * example of an IPv4 header checksum (45 00 00 73 00 00 40 00 40 11
 * [b8 61] c0 a8 00 01 c0 a8 00 c7), and an all-ones sum folding to 0. */
static void builder_selftest(void)
{
	static const struct pkt_spec s = {
		.family = 4, .proto = IPPROTO_UDP, .ttl = 0x40, .ip_id = 0,
		.frag = 0x4000, .saddr = PKT_V4(192, 168, 0, 1),
		.daddr = PKT_V4(192, 168, 0, 199), .payload_len = 0x73 - 28,
	};
	static const __u8 ones[4] = { 0xff, 0xff, 0xff, 0xff };
	__u8 buf[PKT_MAX_LEN];
	struct pkt_layout l;
	size_t n;

	n = pkt_build(&s, buf, sizeof(buf), &l);
	ASSERT_EQ(n, 14 + 0x73, "pkt: IPv4/UDP frame length");
	ASSERT_EQ(buf[l.l3 + 10] << 8 | buf[l.l3 + 11], 0xb861,
		  "pkt: IPv4 header checksum of the known header");
	ASSERT_EQ(pkt_fold(pkt_sum(buf + l.l3, 20, 0)), 0,
		  "pkt: IPv4 header sums to all ones");
	ASSERT_EQ(pkt_fold(pkt_sum(ones, 4, 0)), 0, "pkt: fold of 0xffff+0xffff");
}

int main(void)
{
	struct prog pg[2] = {
		{ "xdp", -1, 0 },
		{ "tc", -1, 1 },
	};
	struct prog pf[2] = {
		{ "xdp+port_filter", -1, 0 },
		{ "tc+port_filter", -1, 1 },
	};
	size_t i, p;
	int err;

	xlb_log_set_prefix("test_datapath");
	xlb_log_libbpf();

	builder_selftest();

	err = env_open();
	if (!ASSERT_EQ(err, 0, "load xdp_lb and tc_lb with shared maps"))
		goto out;
	ASSERT_EQ(map_id(bpf_map__fd(env.tc->maps.xlb_ct)), map_id(env.ct_fd),
		  "tc and XDP objects share xlb_ct");
	ASSERT_EQ(map_id(bpf_map__fd(env.tc->maps.xlb_rings)),
		  map_id(env.rings_fd), "tc and XDP objects share xlb_rings");
	ASSERT_EQ(map_id(bpf_map__fd(env.xdp_pf->maps.xlb_ports)),
		  map_id(env.ports_fd),
		  "port-filter XDP object shares xlb_ports");
	ASSERT_EQ(map_id(bpf_map__fd(env.tc_pf->maps.xlb_ct)),
		  map_id(env.ct_fd), "port-filter tc object shares xlb_ct");
	pg[0].fd = bpf_program__fd(env.xdp->progs.xlb_xdp);
	pg[1].fd = bpf_program__fd(env.tc->progs.xlb_tc);
	pf[0].fd = bpf_program__fd(env.xdp_pf->progs.xlb_xdp);
	pf[1].fd = bpf_program__fd(env.tc_pf->progs.xlb_tc);

	printf("# %zu fixtures, run through each of %zu programs\n",
	       ARRAY_SIZE(fixtures), ARRAY_SIZE(pg));
	for (p = 0; p < ARRAY_SIZE(pg); p++) {
		err = maps_reset();
		if (!ASSERT_EQ(err, 0, "%s: fill maps", pg[p].name))
			goto out;
		for (i = 0; i < ARRAY_SIZE(fixtures); i++)
			run_fixture(&pg[p], &fixtures[i]);
		maglev_agreement(&pg[p], 4);
		maglev_agreement(&pg[p], 6);
	}
	printf("# %zu port-filter fixtures, run through each of %zu programs\n",
	       ARRAY_SIZE(pf_fixtures), ARRAY_SIZE(pf));
	for (p = 0; p < ARRAY_SIZE(pf); p++) {
		err = maps_reset();
		if (!ASSERT_EQ(err, 0, "%s: fill maps", pf[p].name))
			goto out;
		for (i = 0; i < ARRAY_SIZE(pf_fixtures); i++)
			run_fixture(&pf[p], &pf_fixtures[i]);
	}
out:
	env_close();
	return test_done();
}
