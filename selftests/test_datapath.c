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
 * A second part checks that the ring slot the datapath reads for 10,000
 * flows per family is ring[xlb_flow_hash(tuple) % M], computed here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

#define CLI4		PKT_V4(192, 0, 2, 10)
#define CLI4_B		PKT_V4(198, 51, 100, 7)
#define OTHER4		PKT_V4(10, 96, 0, 99)
#define CLI6		PKT_V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10)
#define OTHER6		PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 0, 0x99)

struct t_svc {
	__u32 id;
	int family;
	struct pkt_addr vip;
	__u16 port;		/* host order */
	__u8 proto;
	__u32 ring_be;		/* backend filling the ring; 0: ring size 0 */
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
};

struct t_be {
	__u32 id;
	__u32 svc;
	int family;
	struct pkt_addr addr;
	__u16 port;		/* host order */
	__u8 state;
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
	int svc_fd, be_fd, rings_fd, ct_fd;
	int svc_stats_fd, be_stats_fd, stats_fd;
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

static void addr_to_xlb(union xlb_addr *a, const struct pkt_addr *p,
			int family)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->bytes, p->b, family == 4 ? 4 : 16);
}

static int put_svc(const struct pkt_addr *vip, int family, __u16 port,
		   __u8 proto, __u32 svc_id, __u32 ring_off, __u32 ring_size)
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
	if (bpf_map_update_elem(env.svc_fd, &k, &v, BPF_ANY)) {
		pr_err("xlb_svc: update of service %u: %s", svc_id,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

static int put_backend(__u32 id, __u32 svc_id, int family,
		       const struct pkt_addr *addr, __u16 port, __u8 state)
{
	struct xlb_backend b;

	memset(&b, 0, sizeof(b));
	addr_to_xlb(&b.addr, addr, family);
	b.port = htons(port);
	b.family = family == 4 ? XLB_AF_INET : XLB_AF_INET6;
	b.state = state;
	b.svc_id = svc_id;
	b.weight = 1;
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
			       0, 0);
	for (i = 0; i < T_RING_M; i++)
		ids[i] = be_id;
	err = put_ring(T_RING_OFF(svc_id, alt), ids, T_RING_M);
	if (err)
		return err;
	return put_svc(&s->vip, s->family, s->port, s->proto, s->id,
		       T_RING_OFF(svc_id, alt), T_RING_M);
}

static int set_be_state(__u32 id, __u8 state)
{
	const struct t_be *b = be_of(id);

	if (!b)
		return -ENOENT;
	return put_backend(b->id, b->svc, b->family, &b->addr, b->port, state);
}

/* Empties xlb_ct: collect every key first, then delete them. */
static int flush_ct(void)
{
	struct xlb_ct_key *keys, cur, next;
	size_t n = 0, i;
	void *prev = NULL;
	int err = 0;

	keys = calloc(T_CT, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (n < T_CT && !bpf_map_get_next_key(env.ct_fd, prev, &next)) {
		keys[n++] = next;
		cur = next;
		prev = &cur;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_delete_elem(env.ct_fd, &keys[i]) && errno != ENOENT) {
			err = -errno;
			pr_err("xlb_ct: delete: %s", strerror(errno));
			break;
		}
	}
	free(keys);
	return err;
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
					  XLB_BE_ACTIVE);
			if (err)
				return err;
		}
		for (k = 0; k < MG_M; k++)
			ids[k] = mg_ring_id(base, k);
		err = put_ring(off, ids, MG_M);
		if (!err)
			err = put_svc(vip, fam, 80, IPPROTO_TCP, svc, off, MG_M);
		if (!err)
			err = put_svc(vip, fam, 80, IPPROTO_UDP, svc, off, MG_M);
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
	err = maglev_setup();
	if (err)
		return err;
	return flush_ct();
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
	int verdict;		/* V_PASS or V_DROP */
	int rw;			/* RW_*: how the expected output is built */
	__u32 svc;		/* RW_DNAT: service counted; RW_RNAT: its VIP */
	__u32 be;		/* RW_DNAT: backend chosen and counted */
	__u8 stats[XLB_STAT_MAX]; /* packets each outcome counter gains */
	bool xdp_only;		/* see TC_NO_SKB */
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

static void apply_rewrite(const struct fixture *f, struct pkt_spec *s)
{
	const struct t_svc *sv;
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
		sv = svc_of(f->svc);
		if (sv) {
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
	{ "ICMP v4 echo to a VIP passes untouched",
	  .in = { MACS, .family = 4, .proto = IPPROTO_ICMP, .saddr = CLI4,
		  .daddr = VIP4, .sport = 7, .dport = 1, .payload_len = 56 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "ICMPv6 echo to a VIP passes untouched",
	  .in = { MACS, .family = 6, .proto = IPPROTO_ICMPV6, .saddr = CLI6,
		  .daddr = VIP6, .sport = 7, .dport = 1, .payload_len = 56 },
	  UNCHANGED, .stats = ST_UNSUP },
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

	/* --- Fragments --- */
	{ "TCP v4 first fragment (MF) to a VIP passes untouched",
	  .in = { TCP4(CLI4, 40401, VIP4, 80), .frag = 0x2000,
		  .payload_len = 200 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "UDP v4 later fragment (offset 185) to a VIP passes untouched",
	  .in = { UDP4(CLI4, 40402, VIP4, 53), .frag = 185 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "UDP v4 last fragment (offset, no MF) to a VIP passes untouched",
	  .in = { UDP4(CLI4, 40403, VIP4, 53), .frag = 0x0001 },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "UDP v6 first fragment to a VIP passes untouched",
	  .in = { UDP6(CLI6, 40401, VIP6, 53), .next = 1,
		  .ext = { { .type = IPPROTO_FRAGMENT, .mf = true } } },
	  UNCHANGED, .stats = ST_UNSUP },
	{ "TCP v6 later fragment after hop-by-hop passes untouched",
	  .in = { TCP6(CLI6, 40402, VIP6, 443), .next = 2,
		  .ext = { EXT(IPPROTO_HOPOPTS, 0),
			   { .type = IPPROTO_FRAGMENT, .frag_off = 100 } } },
	  UNCHANGED, .stats = ST_UNSUP },

	/* --- No backend --- */
	{ "TCP v4 to a VIP whose service has no backend is dropped",
	  .in = { TCP4(CLI4, 40501, VIP4_EMPTY, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_NOBE },
	{ "UDP v6 to a VIP whose ring holds an UNUSED backend is dropped",
	  .in = { UDP6(CLI6, 40501, VIP6_DEAD, 53) },
	  DROPPED, .stats = ST_NOBE },

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

static void run_fixture(const struct prog *pg, const struct fixture *f)
{
	__u8 in[PKT_MAX_LEN], want[PKT_MAX_LEN], out[OUT_CAP];
	struct pkt_spec spec = f->in, exp;
	struct snap before, after;
	size_t in_len, want_len;
	__u32 out_len = 0;
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
	err = run_pkt(pg, in, in_len, out, &out_len, &verdict);
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
	__u32 h;

	if (s->family == 4) {
		__be32 sa, da;

		memcpy(&sa, s->saddr.b, 4);
		memcpy(&da, s->daddr.b, 4);
		h = xlb_flow_hash4(sa, da, htons(s->sport), htons(s->dport),
				   s->proto);
	} else {
		__be32 sa[4], da[4];

		memcpy(sa, s->saddr.b, 16);
		memcpy(da, s->daddr.b, 16);
		h = xlb_flow_hash6(sa, da, htons(s->sport), htons(s->dport),
				   s->proto);
	}
	return h % MG_M;
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
	/* Each flow left a forward and a reverse conntrack entry. */
	ASSERT_EQ(ct_count(), 2 * MG_FLOWS, "%s: maglev v%d: conntrack entries",
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
	return err;
}

/* Makes every map of the tc object use the XDP object's map. */
static int share_maps(struct xlb_tc_lb *tc, struct xlb_xdp_lb *xdp)
{
	struct bpf_map *m, *src;
	int err;

	bpf_object__for_each_map(m, tc->obj) {
		if (bpf_map__is_internal(m))
			continue;	/* .rodata: each object keeps its own */
		src = bpf_object__find_map_by_name(xdp->obj, bpf_map__name(m));
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
	err = share_maps(env.tc, env.xdp);
	if (err)
		return err;
	err = xlb_tc_lb__load(env.tc);
	if (err) {
		pr_err("tc_lb: load: %s", strerror(-err));
		return err;
	}
	env.svc_fd = bpf_map__fd(env.xdp->maps.xlb_svc);
	env.be_fd = bpf_map__fd(env.xdp->maps.xlb_backends);
	env.rings_fd = bpf_map__fd(env.xdp->maps.xlb_rings);
	env.ct_fd = bpf_map__fd(env.xdp->maps.xlb_ct);
	env.svc_stats_fd = bpf_map__fd(env.xdp->maps.xlb_svc_stats);
	env.be_stats_fd = bpf_map__fd(env.xdp->maps.xlb_be_stats);
	env.stats_fd = bpf_map__fd(env.xdp->maps.xlb_stats);
	return 0;
}

static void env_close(void)
{
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
	pg[0].fd = bpf_program__fd(env.xdp->progs.xlb_xdp);
	pg[1].fd = bpf_program__fd(env.tc->progs.xlb_tc);

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
out:
	env_close();
	return test_done();
}
