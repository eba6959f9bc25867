/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The packet-test harness: the XDP and tc programs loaded over one set of
 * small maps, a world of services and backends written into them, and a
 * runner for tables of fixtures.
 *
 * A fixture is {description, setup, input packet, expected verdict,
 * expected output, counters, conntrack, affinity}. Each runs once through
 * a program with bpf_prog_test_run_opts (repeat=1: a NAT program must
 * never see its own output). The expected output is the input rebuilt by
 * pkt.c with the rewrite applied to its spec, so every checksum in it is
 * computed from scratch, never by the code under test. After every
 * fixture the outcome, service and backend counters are checked, and,
 * where the row asks, the flow's conntrack entries and the client's
 * affinity.
 *
 * A table is a list of fixtures run in order (later rows see what earlier
 * ones left in the maps); each table starts from the world's baseline, so
 * tables do not depend on each other and any one runs alone: it is the
 * sub-run "<program>/<table>" (XLB_TEST_SUB=tc/affinity).
 *
 * The harness is a header of static functions, included once by each test
 * program, because testlib.h keeps its pass/fail counts and the sub-run
 * prefix per translation unit: every check must be made in the one that
 * calls test_done(). The tables are headers too, one per feature (katran's
 * lib/testing/fixtures/).
 */
#ifndef XLB_SELFTEST_HARNESS_H
#define XLB_SELFTEST_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
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
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xlb/abi.h>
#include <xlb/hash.h>

#include "bpftest.h"
#include "log.h"
#include "pkt.h"
#include "testlib.h"
#include "xdp_lb.skel.h"
#include "tc_lb.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Service and backend ids the counters are checked for: 1 .. T_IDS - 1. */
#define T_IDS		64

/* Fixture rings: a prime size, at slot svc_id * 32 (+16 for the ring
 * that replaces it), never at offset 0 so ring_off is exercised. */
#define T_RING_M	13
#define T_RING_OFF(svc, alt) ((svc) * 32 + ((alt) ? 17 : 1))

/* Verdicts common to both programs. */
enum {
	V_PASS,		/* XDP_PASS / TC_ACT_OK */
	V_DROP,		/* XDP_DROP / TC_ACT_SHOT */
	V_TX,		/* sent back out: XDP_TX / TC_ACT_REDIRECT */
	V_OTHER,	/* anything else */
};

/* The expected output: the input, rewritten or not. */
enum {
	RW_NONE,	/* unchanged */
	RW_DNAT,	/* destination -> backend .be */
	RW_RNAT,	/* source -> frontend of service .svc */
};

/* ---- The world: services, frontends, backends, source ranges ---- */

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

/* The other frontends of a service: each its own xlb_svc entry with the
 * service's id, on the service's ring (alt 0) or on a ring of its own
 * (alt 1). */
struct t_fe {
	__u32 id;
	__u32 svc;
	int family;
	struct pkt_addr addr;
	__u16 port;		/* host order */
	__u8 proto;
	__u32 flags;		/* xlb_svc.flags */
	__u32 ring_be;		/* backend filling the frontend's ring; 0:
				 * ring size 0 */
	int alt;		/* 0: the service's ring; 1: its second ring */
};

/* loadBalancerSourceRanges, as xlbd writes them into xlb_src_ranges. */
struct t_range {
	__u32 svc;
	int family;
	struct pkt_addr addr;	/* network address, host bits zero */
	int len;		/* CIDR prefix length */
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

/* What h_maps_reset() writes before every table. Ids are below T_IDS. */
struct h_world {
	const struct t_svc *svcs;
	size_t nsvcs;
	const struct t_fe *fes;
	size_t nfes;
	const struct t_be *bes;
	size_t nbes;
	const struct t_range *ranges;
	size_t nranges;
	/* xlb_hairpin: the node's hairpin source per family, or NULL. */
	const struct pkt_addr *hairpin4, *hairpin6;
	/* xlb_snat_addrs[0]: the node's default source NAT addresses, or
	 * NULL (then none is written). */
	const struct pkt_addr *snat4, *snat6;
	/* xlb_ports counts the ports of the frontends and backends, as
	 * xlbd does for the port filter; else no port is marked used. */
	bool ports;
	int (*setup)(void);	/* more map contents, or NULL */
};

/* ---- The programs and their maps ---- */

struct h_prog {
	const char *name;
	int fd;
	int tc;		/* 1: tc program, 0: XDP */
};

struct h_env {
	struct xlb_dp dp;		/* xlb_cfg.port_filter = 0 */
	struct xlb_dp dp_pf;		/* as xlbd: port_filter = 1 */
	struct xlb_xdp_lb *xdp;
	struct xlb_tc_lb *tc;
	struct xlb_xdp_lb *xdp_pf;	/* xlb_cfg.port_filter = 1 */
	struct xlb_tc_lb *tc_pf;	/* xlb_cfg.port_filter = 1 */
	int svc_fd, be_fd, rings_fd, ct_fd;
	int svc_stats_fd, be_stats_fd, stats_fd;
	int aff_fd, ranges_fd, ports_fd, hairpin_fd, frags_fd, snat_fd;
	struct xlb_port_use *ports;	/* xlb_ports, mapped by the loader */
	int ncpu;
	__u32 ring_per_entry;	/* ring slots per xlb_rings entry */
	struct h_prog progs[2];		/* XDP, tc */
	struct h_prog pf_progs[2];	/* the same with the port filter */
	/* What the fixtures run so far expect each outcome counter to have
	 * counted, for totals checked after the sub-runs selected. */
	__u64 want_total[XLB_STAT_MAX];
};

static struct h_env h_env;
static const struct h_world *h_world;

/* ---- Fixture tables ---- */

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
	bool hairpin;		/* RW_DNAT: the source also becomes the
				 * family's hairpin address; RW_RNAT: the
				 * destination (that address) becomes .be */
	struct pkt_frag frag;	/* .len: input and expected output are this
				 * fragment of their datagram */
	bool snat;		/* RW_DNAT: the source also becomes the
				 * world's source NAT address and the port
				 * snat_port_of(input, .snat_try); RW_RNAT:
				 * the destination becomes .flow's client */
	__u8 snat_try;		/* which port of the flow's probe */
	/* RW_RNAT with .snat: the source-NATed flow the input answers
	 * (tweak t_snat_reply aims it at that flow's port). */
	const struct pkt_spec *flow;
	/* More checks of the output, for a reply the program builds (V_TX),
	 * which is not the input rewritten: in is the input's spec, inb its
	 * bytes. */
	void (*check)(const struct fixture *f, const struct pkt_spec *in,
		      const __u8 *inb, size_t in_len, const __u8 *out,
		      size_t out_len);
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
	CT_SNAT,	/* source-NATed: the client entry naming the
			 * frontend, .be, and the node address and port;
			 * the reverse entry of that port naming the
			 * client and the frontend */
};

/* bpf_prog_test_run refuses (EINVAL) to build an skb from an untagged
 * IPv4 or IPv6 frame shorter than the fixed IP header, so those frames
 * run through XDP only; tagged ones, which take the same parser paths
 * after the tags, run through both. */
#define TC_NO_SKB "test_run builds no skb from an untagged IP frame " \
		  "shorter than its fixed IP header"

struct h_table {
	const char *name;		/* sub-run "<program>/<name>" */
	const struct fixture *rows;
	size_t n;
	/* Instead of rows: a run of its own, from the same baseline. */
	void (*run)(const struct h_prog *pg);
	bool port_filter;	/* through the programs with the filter */
};

#define H_TABLE(nm, r) { .name = nm, .rows = r, .n = ARRAY_SIZE(r) }
/* A table through the programs as xlbd loads them (port filter on). */
#define H_TABLE_XLBD(nm, r)                                                \
	{ .name = nm, .rows = r, .n = ARRAY_SIZE(r), .port_filter = true }

static const char *const verdict_names[] = { "pass", "drop", "tx", "other" };

/* ---- Map contents ---- */

static inline void h_world_set(const struct h_world *w)
{
	h_world = w;
}

/* The entry with id want in the world's list l of n, or NULL. */
#define WORLD_FIND(l, n, want)                                             \
	({                                                                 \
		size_t __i = 0;                                            \
		while (__i < (n) && (l)[__i].id != (want))                 \
			__i++;                                             \
		__i < (n) ? &(l)[__i] : NULL;                              \
	})

static inline const struct t_svc *svc_of(__u32 id)
{
	return WORLD_FIND(h_world->svcs, h_world->nsvcs, id);
}

static inline const struct t_be *be_of(__u32 id)
{
	return WORLD_FIND(h_world->bes, h_world->nbes, id);
}

static inline const struct t_fe *fe_of(__u32 id)
{
	return WORLD_FIND(h_world->fes, h_world->nfes, id);
}

static inline __u8 xlb_family(int family)
{
	return family == 4 ? XLB_AF_INET : XLB_AF_INET6;
}

static inline void addr_to_xlb(union xlb_addr *a, const struct pkt_addr *p,
			       int family)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->bytes, p->b, family == 4 ? 4 : 16);
}

static inline int put_svc(const struct pkt_addr *vip, int family, __u16 port,
			  __u8 proto, __u32 svc_id, __u32 ring_off,
			  __u32 ring_size, __u32 flags, __u32 aff_timeout)
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
	if (bpf_map_update_elem(h_env.svc_fd, &k, &v, BPF_ANY)) {
		pr_err("xlb_svc: update of service %u: %s", svc_id,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

static inline int put_backend(__u32 id, __u32 svc_id, int family,
			      const struct pkt_addr *addr, __u16 port,
			      __u8 state, __u16 flags)
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
	if (bpf_map_update_elem(h_env.be_fd, &id, &b, BPF_ANY)) {
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
static inline int put_ring(__u32 off, const __u32 *ids, __u32 n)
{
	__u32 val[2], i, slot, entry, per = h_env.ring_per_entry;
	int err;

	for (i = 0; i < n; i++) {
		slot = off + i;
		entry = slot / per;
		if (bpf_map_lookup_elem(h_env.rings_fd, &entry, val))
			goto fail;
		val[slot % per] = ids[i];
		if (bpf_map_update_elem(h_env.rings_fd, &entry, val, BPF_ANY))
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
static inline int set_ring(__u32 svc_id, __u32 be_id, int alt)
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
 * service's slice alt, then its xlb_svc entry (ring size 0 without
 * ring_be). */
static inline int put_fe(const struct t_fe *fe)
{
	const struct t_svc *s = svc_of(fe->svc);
	__u32 ids[T_RING_M], i;
	int err;

	if (!s)
		return -ENOENT;
	if (!fe->ring_be)
		return put_svc(&fe->addr, fe->family, fe->port, fe->proto,
			       fe->svc, 0, 0, fe->flags, s->aff_timeout);
	for (i = 0; i < T_RING_M; i++)
		ids[i] = fe->ring_be;
	err = put_ring(T_RING_OFF(fe->svc, fe->alt), ids, T_RING_M);
	if (err)
		return err;
	return put_svc(&fe->addr, fe->family, fe->port, fe->proto, fe->svc,
		       T_RING_OFF(fe->svc, fe->alt), T_RING_M, fe->flags,
		       s->aff_timeout);
}

static inline int set_be_state(__u32 id, __u8 state)
{
	const struct t_be *b = be_of(id);

	if (!b)
		return -ENOENT;
	return put_backend(b->id, b->svc, b->family, &b->addr, b->port, state,
			   b->flags);
}

/* Empties a hash, LRU or LPM map of at most max keys of key_size bytes:
 * collect every key first, then delete them. */
static inline int flush_map(int fd, const char *name, size_t key_size,
			    size_t max)
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

static inline int flush_ct(void)
{
	return flush_map(h_env.ct_fd, XLB_MAP_CT, sizeof(struct xlb_ct_key),
			 T_CT);
}

static inline int flush_frags(void)
{
	return flush_map(h_env.frags_fd, XLB_MAP_FRAGS,
			 sizeof(struct xlb_frag_key), XLB_DEF_FRAGS);
}

static inline int flush_affinity(void)
{
	return flush_map(h_env.aff_fd, XLB_MAP_AFFINITY,
			 sizeof(struct xlb_affinity_key), T_AFFINITY);
}

static inline void range_key(struct xlb_src_range_key *k,
			     const struct t_range *r)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = XLB_SRC_RANGE_PREFIX + r->len;
	k->svc_id = r->svc;
	k->family = xlb_family(r->family);
	memcpy(k->addr, r->addr.b, r->family == 4 ? 4 : 16);
}

/* xlb_src_ranges holds exactly the world's ranges. */
static inline int reset_ranges(void)
{
	struct xlb_src_range_key k;
	__u32 one = 1;
	size_t i;
	int err;

	err = flush_map(h_env.ranges_fd, XLB_MAP_SRC_RANGES, sizeof(k),
			T_SRC_RANGES);
	for (i = 0; !err && i < h_world->nranges; i++) {
		range_key(&k, &h_world->ranges[i]);
		if (bpf_map_update_elem(h_env.ranges_fd, &k, &one, BPF_ANY)) {
			err = -errno;
			pr_err("xlb_src_ranges: update of range %zu "
			       "(service %u, /%d): %s", i,
			       h_world->ranges[i].svc, h_world->ranges[i].len,
			       strerror(errno));
		}
	}
	return err;
}

/* The time base of xlb_affinity (bpf_ktime_get_coarse_ns). */
static inline __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void affinity_key(struct xlb_affinity_key *k, __u32 svc_id,
				int family, const struct pkt_addr *client)
{
	memset(k, 0, sizeof(*k));
	addr_to_xlb(&k->client, client, family);
	k->svc_id = svc_id;
	k->family = xlb_family(family);
}

/* Writes the affinity of client to backend be_id in service svc_id, as
 * recorded age_s seconds ago. */
static inline int put_affinity(__u32 svc_id, int family,
			       const struct pkt_addr *client, __u32 be_id,
			       __u32 age_s)
{
	struct xlb_affinity_key k;
	struct xlb_affinity_val v = {};

	affinity_key(&k, svc_id, family, client);
	v.backend_id = be_id;
	v.last_seen = coarse_ns() - (__u64)age_s * 1000000000ull;
	if (bpf_map_update_elem(h_env.aff_fd, &k, &v, BPF_ANY)) {
		pr_err("xlb_affinity: update of service %u -> backend %u: %s",
		       svc_id, be_id, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The flow hash of a packet spec, computed here from xlb/hash.h. */
static inline __u32 spec_hash(const struct pkt_spec *s)
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

/* The source NAT port of the flow of spec s (client -> frontend): the
 * try-th port of its probe, from the flow hash on, in the range the
 * test programs are loaded with. Host order. */
static inline __u16 snat_port_of(const struct pkt_spec *s, unsigned int try)
{
	return T_SNAT_MIN + (spec_hash(s) + try) % (T_SNAT_MAX - T_SNAT_MIN + 1);
}

static inline const struct pkt_addr *snat_addr_of(int family)
{
	return family == 4 ? h_world->snat4 : h_world->snat6;
}

/* The ring slot (0 .. T_RING_M - 1) of a flow from client:sport to the
 * cluster IP of service s. */
static inline __u32 svc_slot(const struct t_svc *s,
			     const struct pkt_addr *client, __u16 sport)
{
	struct pkt_spec f = {
		.family = s->family, .saddr = *client, .daddr = s->vip,
		.sport = sport, .dport = s->port, .proto = s->proto,
	};

	return spec_hash(&f) % T_RING_M;
}

static inline int ct_count(void)
{
	struct xlb_ct_key cur, next;
	void *prev = NULL;
	int n = 0;

	while (n < T_CT && !bpf_map_get_next_key(h_env.ct_fd, prev, &next)) {
		n++;
		cur = next;
		prev = &cur;
	}
	return n;
}

/* xlb_hairpin of family: addr, or none (NULL). */
static inline int set_hairpin(int family, const struct pkt_addr *addr)
{
	union xlb_addr v;
	__u32 key = family == 4 ? 0 : 1;

	memset(&v, 0, sizeof(v));
	if (addr)
		addr_to_xlb(&v, addr, family);
	if (bpf_map_update_elem(h_env.hairpin_fd, &key, &v, BPF_ANY)) {
		pr_err("xlb_hairpin: update of v%d: %s", family,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* xlb_snat_addrs holds the node's default addresses (key 0) alone. */
static inline int set_snat_addrs(const struct pkt_addr *a4,
				 const struct pkt_addr *a6)
{
	struct xlb_snat_addrs v;
	__u32 key = 0;

	memset(&v, 0, sizeof(v));
	if (a4)
		addr_to_xlb(&v.v4, a4, 4);
	if (a6)
		addr_to_xlb(&v.v6, a6, 6);
	if (bpf_map_update_elem(h_env.snat_fd, &key, &v, BPF_ANY)) {
		pr_err("xlb_snat_addrs: update of the default: %s",
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* xlb_ports as xlbd keeps it for the world: every frontend's port (the
 * cluster IPs' too) and every backend's. */
static inline void count_ports(const struct h_world *w)
{
	size_t i;

	for (i = 0; i < w->nsvcs; i++)
		h_env.ports[w->svcs[i].port].frontends++;
	for (i = 0; i < w->nfes; i++)
		h_env.ports[w->fes[i].port].frontends++;
	for (i = 0; i < w->nbes; i++)
		h_env.ports[w->bes[i].port].backends++;
}

/* The world's baseline, which every table starts from: backends in
 * their states, rings, frontends, source ranges, hairpin addresses, the
 * world's setup; conntrack, fragments and affinity empty, no port in
 * use. */
static inline int h_maps_reset(void)
{
	const struct h_world *w = h_world;
	size_t i;
	int err;

	for (i = 0; i < w->nbes; i++) {
		err = set_be_state(w->bes[i].id, w->bes[i].state);
		if (err)
			return err;
	}
	for (i = 0; i < w->nsvcs; i++) {
		err = set_ring(w->svcs[i].id, w->svcs[i].ring_be, 0);
		if (err)
			return err;
	}
	for (i = 0; i < w->nfes; i++) {
		err = put_fe(&w->fes[i]);
		if (err)
			return err;
	}
	err = w->setup ? w->setup() : 0;
	err = err ?: flush_ct();
	err = err ?: flush_frags();
	err = err ?: flush_affinity();
	err = err ?: reset_ranges();
	err = err ?: set_hairpin(4, w->hairpin4);
	err = err ?: set_hairpin(6, w->hairpin6);
	err = err ?: set_snat_addrs(w->snat4, w->snat6);
	if (err)
		return err;
	/* No port in use: the programs without port_filter must ignore
	 * xlb_ports, or the tables could not balance anything. */
	memset(h_env.ports, 0, T_PORTS * sizeof(*h_env.ports));
	if (w->ports)
		count_ports(w);
	return 0;
}

/* ---- Counters ---- */

struct snap {
	__u64 pk[XLB_STAT_MAX], by[XLB_STAT_MAX];
	__u64 svc_pk[T_IDS], svc_by[T_IDS];
	__u64 be_pk[T_IDS], be_by[T_IDS];
};

/* Sums a per-CPU counter over all CPUs. */
static inline int read_counter(int fd, __u32 idx, __u64 *pk, __u64 *by)
{
	struct xlb_counter vals[h_env.ncpu];
	int i;

	if (bpf_map_lookup_elem(fd, &idx, vals))
		return -errno;
	*pk = *by = 0;
	for (i = 0; i < h_env.ncpu; i++) {
		*pk += vals[i].packets;
		*by += vals[i].bytes;
	}
	return 0;
}

static inline int take_snap(struct snap *s)
{
	__u32 i;
	int err = 0;

	for (i = 0; i < XLB_STAT_MAX && !err; i++)
		err = read_counter(h_env.stats_fd, i, &s->pk[i], &s->by[i]);
	for (i = 1; i < T_IDS && !err; i++)
		err = read_counter(h_env.svc_stats_fd, i, &s->svc_pk[i],
				   &s->svc_by[i]);
	for (i = 1; i < T_IDS && !err; i++)
		err = read_counter(h_env.be_stats_fd, i, &s->be_pk[i],
				   &s->be_by[i]);
	if (err)
		pr_err("counter maps: lookup: %s", strerror(-err));
	return err;
}

/* ---- Running a packet ---- */

/* Runs one packet once; out holds OUT_CAP bytes. */
#define OUT_CAP (PKT_MAX_LEN + 256)

/* Sum over CPUs of outcome counter key's packets; -1 if unreadable. */
static inline long long h_counter(__u32 key)
{
	__u64 pk = 0, by = 0;

	return read_counter(h_env.stats_fd, key, &pk, &by) ? -1 : (long long)pk;
}

static inline int run_pkt(const struct h_prog *pg, const __u8 *in, size_t len,
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
		*verdict = opts.retval == TC_ACT_OK	  ? V_PASS :
			   opts.retval == TC_ACT_SHOT	  ? V_DROP :
			   opts.retval == TC_ACT_REDIRECT ? V_TX :
							    V_OTHER;
	else
		*verdict = opts.retval == XDP_PASS ? V_PASS :
			   opts.retval == XDP_DROP ? V_DROP :
			   opts.retval == XDP_TX   ? V_TX :
						     V_OTHER;
	return 0;
}

/* The input spec s with the fixture's rewrite applied. */
static inline void apply_rewrite(const struct fixture *f, struct pkt_spec *s)
{
	const struct pkt_addr *hp;
	const struct t_svc *sv;
	const struct t_fe *fe;
	const struct t_be *b;

	switch (f->rw) {
	case RW_DNAT:
		if (f->snat && snat_addr_of(s->family)) {
			/* The port comes from the flow as the client sent it. */
			s->sport = snat_port_of(s, f->snat_try);
			s->saddr = *snat_addr_of(s->family);
		}
		b = be_of(f->be);
		if (b) {
			s->daddr = b->addr;
			s->dport = b->port;
		}
		hp = s->family == 4 ? h_world->hairpin4 : h_world->hairpin6;
		if (f->hairpin && hp)
			s->saddr = *hp;
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
		b = be_of(f->be);
		if (f->hairpin && b)
			s->daddr = b->addr;
		if (f->snat && f->flow) {
			s->daddr = f->flow->saddr;
			s->dport = f->flow->sport;
		}
		break;
	}
}

/* Appends to why (cap bytes, *w used) how counter what changed, by
 * got_pk packets of got_by bytes, if not by want_pk packets of len. */
static inline void counter_diff(char *why, size_t cap, size_t *w,
				const char *what, __u64 got_pk, __u64 got_by,
				__u64 want_pk, size_t len)
{
	if (got_pk == want_pk && got_by == want_pk * len)
		return;
	if (*w < cap)
		*w += snprintf(why + *w, cap - *w,
			       " %s %llu pkts/%llu bytes (want %llu/%llu)", what,
			       (unsigned long long)got_pk,
			       (unsigned long long)got_by,
			       (unsigned long long)want_pk,
			       (unsigned long long)(want_pk * len));
}

/* The outcome counters, and those of every service and backend, changed
 * by what the fixture expects between snapshots a and b. */
static inline void check_counters(const struct fixture *f,
				  const struct snap *a, const struct snap *b,
				  size_t len)
{
	static const char *const names[] = XLB_STAT_NAMES;
	char why[512], what[32];
	size_t w = 0;
	__u32 i;

	for (i = 0; i < XLB_STAT_MAX; i++)
		counter_diff(why, sizeof(why), &w, names[i],
			     b->pk[i] - a->pk[i], b->by[i] - a->by[i],
			     f->stats[i], len);
	for (i = 1; i < T_IDS; i++) {
		snprintf(what, sizeof(what), "service %u", i);
		counter_diff(why, sizeof(why), &w, what,
			     b->svc_pk[i] - a->svc_pk[i],
			     b->svc_by[i] - a->svc_by[i],
			     f->rw == RW_DNAT && f->svc == i, len);
		snprintf(what, sizeof(what), "backend %u", i);
		counter_diff(why, sizeof(why), &w, what,
			     b->be_pk[i] - a->be_pk[i],
			     b->be_by[i] - a->be_by[i],
			     f->rw == RW_DNAT && f->be == i, len);
	}
	if (!w)
		TEST_PASS("%s: counters", f->desc);
	else
		TEST_FAIL("%s: counters:%s", f->desc, why);
}

static inline void spec_ct_key(struct xlb_ct_key *k, const struct pkt_spec *s,
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
static inline void spec_client_key(struct xlb_ct_key *k,
				   const struct pkt_spec *s)
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
static inline void ct_val_check(const char *what, const struct xlb_ct_val *v,
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

/* CT_SNAT: the client entry of in's flow names its frontend, f->be and
 * the node address and port it leaves from; the reverse entry of that
 * address and port names the client and the frontend. Says in why what
 * does not hold. */
static inline void ct_snat_why(const struct fixture *f,
			       const struct pkt_spec *in, char *why,
			       size_t len)
{
	const struct pkt_addr *na = snat_addr_of(in->family);
	const struct t_be *b = be_of(f->be);
	__u16 port = snat_port_of(in, f->snat_try);
	union xlb_addr fe, node, cli;
	struct xlb_ct_key k;
	struct xlb_ct_val v;
	struct pkt_spec r;

	if (!b || !na) {
		snprintf(why, len, "no backend %u or no node address", f->be);
		return;
	}
	addr_to_xlb(&fe, &in->daddr, in->family);
	addr_to_xlb(&node, na, in->family);
	addr_to_xlb(&cli, &in->saddr, in->family);
	spec_client_key(&k, in);
	if (bpf_map_lookup_elem(h_env.ct_fd, &k, &v))
		snprintf(why, len, "no client entry");
	else if (!(v.flags & XLB_CT_F_SNAT) ||
		 memcmp(&v.snat_addr, &node, sizeof(node)) ||
		 v.snat_port != htons(port))
		snprintf(why, len,
			 "client entry: flags %#x, port %u, want the node "
			 "address and port %u", v.flags, ntohs(v.snat_port),
			 port);
	else
		ct_val_check("client entry", &v, f->be, f->svc, &fe, in->dport,
			     why, len);
	r = *in;
	r.saddr = b->addr;
	r.sport = b->port;
	r.daddr = *na;
	r.dport = port;
	spec_ct_key(&k, &r, XLB_CT_REV);
	if (!why[0] && bpf_map_lookup_elem(h_env.ct_fd, &k, &v))
		snprintf(why, len, "no reverse entry for port %u", port);
	else if (!why[0] && (!(v.flags & XLB_CT_F_SNAT) ||
			     memcmp(&v.snat_addr, &cli, sizeof(cli)) ||
			     v.snat_port != htons(in->sport)))
		snprintf(why, len,
			 "reverse entry: flags %#x, client port %u, want "
			 "the client's %u", v.flags, ntohs(v.snat_port),
			 in->sport);
	else if (!why[0])
		ct_val_check("reverse entry", &v, f->be, f->svc, &fe,
			     in->dport, why, len);
}

/* Checks f->ct against xlb_ct after the input packet in ran. */
static inline void check_ct(const struct fixture *f, const struct pkt_spec *in)
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
	if (f->ct == CT_SNAT) {
		ct_snat_why(f, in, why, sizeof(why));
		goto report;
	}
	addr_to_xlb(&fe, &in->daddr, in->family);
	spec_client_key(&k, in);
	client = !bpf_map_lookup_elem(h_env.ct_fd, &k, &v) &&
		 !memcmp(&v.nat_addr, &fe, sizeof(fe)) &&
		 v.nat_port == htons(in->dport);
	spec_ct_key(&k, in, XLB_CT_FWD);
	fwd = !bpf_map_lookup_elem(h_env.ct_fd, &k, &v);
	if (f->ct == CT_NONE) {
		ASSERT_EQ(client, 0, "%s: no client entry naming the frontend",
			  f->desc);
		ASSERT_EQ(fwd, 0, "%s: no forward entry", f->desc);
		return;
	}
	if (!b) {
		TEST_FAIL("%s: conntrack: no backend %u in the table",
			  f->desc, f->be);
		return;
	}
	/* The reply backend -> client. */
	r = *in;
	r.saddr = b->addr;
	r.sport = b->port;
	r.daddr = in->saddr;
	r.dport = in->sport;
	spec_ct_key(&k, &r, XLB_CT_REV);
	rev = !bpf_map_lookup_elem(h_env.ct_fd, &k, &v);
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
		else if (!bpf_map_lookup_elem(h_env.ct_fd, &k, &v))
			ct_val_check("client entry", &v, f->be, f->svc, &fe,
				     in->dport, why, sizeof(why));
	} else {
		/* CT_PAIR: the client's port belongs to another flow. */
		spec_ct_key(&k, in, XLB_CT_FWD);
		if (client)
			snprintf(why, sizeof(why),
				 "the client entry names this flow");
		else if (bpf_map_lookup_elem(h_env.ct_fd, &k, &v))
			snprintf(why, sizeof(why), "no forward entry");
		else
			ct_val_check("forward entry", &v, f->be, f->svc, &a,
				     b->port, why, sizeof(why));
		spec_ct_key(&k, &r, XLB_CT_REV);
		if (!why[0] && bpf_map_lookup_elem(h_env.ct_fd, &k, &v))
			snprintf(why, sizeof(why), "no reverse entry");
		else if (!why[0])
			ct_val_check("reverse entry", &v, f->be, f->svc, &fe,
				     in->dport, why, sizeof(why));
	}
report:
	if (why[0])
		TEST_FAIL("%s: conntrack: %s", f->desc, why);
	else
		TEST_PASS("%s: conntrack to backend %u and back", f->desc,
			  f->be);
}

/* Allowed difference between the coarse clock read here and by the
 * program: both read the same timekeeper, one tick apart at most. */
#define AFF_CLOCK_SLACK_NS (50ull * 1000 * 1000)

/* Checks that the affinity of the input's client now names f->be with a
 * last_seen taken while the packet ran (t0 .. t1). */
static inline void check_affinity(const struct fixture *f,
				  const struct pkt_spec *in, __u64 t0, __u64 t1)
{
	struct xlb_affinity_key k;
	struct xlb_affinity_val v;

	if (!f->aff)
		return;
	affinity_key(&k, f->svc, in->family, &in->saddr);
	if (bpf_map_lookup_elem(h_env.aff_fd, &k, &v)) {
		TEST_FAIL("%s: affinity: no entry for the client", f->desc);
		return;
	}
	if (v.backend_id != f->be)
		TEST_FAIL("%s: affinity: backend %u, want %u", f->desc,
			  v.backend_id, f->be);
	else if (v.last_seen + AFF_CLOCK_SLACK_NS < t0 ||
		 v.last_seen > t1 + AFF_CLOCK_SLACK_NS)
		TEST_FAIL("%s: affinity: last_seen %llu ns, want %llu .. "
			  "%llu (written by this packet)", f->desc,
			  (unsigned long long)v.last_seen,
			  (unsigned long long)t0, (unsigned long long)t1);
	else
		TEST_PASS("%s: affinity to backend %u, refreshed", f->desc,
			  f->be);
}

/* The fixture's packet from spec s: the frame, or its fragment. */
static inline size_t build(const struct fixture *f, const struct pkt_spec *s,
			   __u8 *buf, size_t cap)
{
	if (f->frag.len)
		return pkt_build_frag(s, &f->frag, buf, cap, NULL);
	return pkt_build(s, buf, cap, NULL);
}

static inline void run_fixture(const struct h_prog *pg, const struct fixture *f)
{
	__u8 in[PKT_MAX_LEN], want[PKT_MAX_LEN], out[OUT_CAP];
	struct pkt_spec spec = f->in, exp;
	struct snap before, after;
	size_t in_len, want_len;
	__u32 out_len = 0;
	__u64 t0, t1;
	int verdict = V_OTHER, err, i;

	if (pg->tc && f->xdp_only) {
		printf("# %s%s: not run: %s\n", test_sub_prefix, f->desc,
		       TC_NO_SKB);
		return;
	}
	if (f->setup && (err = f->setup())) {
		TEST_FAIL("%s: setup: %s", f->desc, strerror(-err));
		return;
	}
	if (f->tweak)
		f->tweak(f, &spec);
	exp = spec;
	apply_rewrite(f, &exp);
	in_len = build(f, &spec, in, sizeof(in));
	want_len = build(f, &exp, want, sizeof(want));
	if (!in_len || !want_len) {
		TEST_FAIL("%s: packet spec does not build", f->desc);
		return;
	}
	if (take_snap(&before)) {
		TEST_FAIL("%s: counters unreadable", f->desc);
		return;
	}
	t0 = coarse_ns();
	err = run_pkt(pg, in, in_len, out, &out_len, &verdict);
	t1 = coarse_ns();
	if (err) {
		TEST_FAIL("%s: test_run: %s", f->desc, strerror(-err));
		return;
	}
	if (verdict != f->verdict)
		TEST_FAIL("%s: verdict: got %s, want %s", f->desc,
			  verdict_names[verdict], verdict_names[f->verdict]);
	else
		TEST_PASS("%s: verdict %s", f->desc, verdict_names[verdict]);
	if (f->verdict == V_PASS) {
		if (out_len != want_len)
			TEST_FAIL("%s: output length: got %u, want %zu",
				  f->desc, out_len, want_len);
		else
			ASSERT_MEM_EQ(out, want, want_len, "%s: output packet",
				      f->desc);
	}
	for (i = 0; i < XLB_STAT_MAX; i++)
		h_env.want_total[i] += f->stats[i];
	if (take_snap(&after)) {
		TEST_FAIL("%s: counters unreadable", f->desc);
		return;
	}
	if (f->check)
		f->check(f, &spec, in, in_len, out, out_len);
	check_counters(f, &before, &after, in_len);
	check_ct(f, &spec);
	check_affinity(f, &spec, t0, t1);
}

/* Sub-run "<pg>/<t>": the world's baseline, then t's rows in order. */
static inline void h_run_table(const struct h_prog *pg, const struct h_table *t)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "%s/%s", pg->name, t->name);
	if (!TEST_SUB(name))
		return;
	if (ASSERT_OK(h_maps_reset(), "fill maps")) {
		if (t->run)
			t->run(pg);
		for (i = 0; i < t->n; i++)
			run_fixture(pg, &t->rows[i]);
	}
	TEST_SUB_END();
}

/* Every table through XDP, then every table through tc; a port-filter
 * table through the programs loaded with the filter. */
static inline void h_run_tables(const struct h_table *const *t, size_t n)
{
	size_t p, i;

	for (p = 0; p < ARRAY_SIZE(h_env.progs); p++)
		for (i = 0; i < n; i++)
			h_run_table(t[i]->port_filter ? &h_env.pf_progs[p] :
							&h_env.progs[p],
				    t[i]);
}

/* ---- Setup of the two programs over one set of maps ---- */

/* The id of the map behind fd, 0 if unknown. */
static inline __u32 h_map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/*
 * Loads both pairs of programs over one set of maps through bpftest.c
 * (xlb_dp_load, as xlbd): the pair with the port filter, as xlbd loads
 * it, and a pair without, sharing its maps. Most tables of test_datapath
 * run without: they pin what the programs do whatever xlb_ports says
 * (their baseline marks no port used, which the filter-less programs must
 * ignore); a table with .port_filter runs through the programs as xlbd
 * loads them. 0 or -errno (with a message); h_close() undoes it, also
 * after a failed h_load().
 */
static inline int h_load(void)
{
	__u32 vsize;
	int err;

	h_env.dp_pf.lock_fd = h_env.dp.lock_fd = -1;
	h_env.ncpu = libbpf_num_possible_cpus();
	if (h_env.ncpu <= 0) {
		pr_err("possible cpus: %s", strerror(-h_env.ncpu));
		return h_env.ncpu ? h_env.ncpu : -EINVAL;
	}
	err = bt_dp_load(&h_env.dp_pf, NULL, true);
	if (err)
		return err;
	err = bt_dp_load(&h_env.dp, &h_env.dp_pf, false);
	if (err)
		return err;
	h_env.xdp = h_env.dp.xdp;
	h_env.tc = h_env.dp.tc;
	h_env.xdp_pf = h_env.dp_pf.xdp;
	h_env.tc_pf = h_env.dp_pf.tc;
	vsize = bpf_map__value_size(h_env.xdp->maps.xlb_rings);
	if (vsize != 4 && vsize != 8) {
		pr_err("xlb_rings: value size %u: not 1 or 2 ring slots",
		       vsize);
		return -EINVAL;
	}
	h_env.ring_per_entry = vsize / 4;
	h_env.svc_fd = h_env.dp.maps.svc;
	h_env.be_fd = h_env.dp.maps.backends;
	h_env.rings_fd = h_env.dp.maps.rings;
	h_env.ct_fd = h_env.dp.maps.ct;
	h_env.svc_stats_fd = h_env.dp.maps.svc_stats;
	h_env.be_stats_fd = h_env.dp.maps.be_stats;
	h_env.stats_fd = h_env.dp.maps.stats;
	h_env.aff_fd = h_env.dp.maps.affinity;
	h_env.ranges_fd = h_env.dp.maps.src_ranges;
	h_env.ports_fd = h_env.dp.maps.ports;
	h_env.hairpin_fd = h_env.dp.maps.hairpin;
	h_env.frags_fd = h_env.dp.maps.frags;
	h_env.snat_fd = h_env.dp.maps.snat_addrs;
	h_env.ports = h_env.dp.maps.port_mem;
	h_env.progs[0] = (struct h_prog){
		"xdp", bpf_program__fd(h_env.xdp->progs.xlb_xdp), 0 };
	h_env.progs[1] = (struct h_prog){
		"tc", bpf_program__fd(h_env.tc->progs.xlb_tc), 1 };
	h_env.pf_progs[0] = (struct h_prog){
		"xdp", bpf_program__fd(h_env.xdp_pf->progs.xlb_xdp), 0 };
	h_env.pf_progs[1] = (struct h_prog){
		"tc", bpf_program__fd(h_env.tc_pf->progs.xlb_tc), 1 };
	return 0;
}

static inline void h_close(void)
{
	xlb_dp_close(&h_env.dp);
	xlb_dp_close(&h_env.dp_pf);
}

/* A test program of one world: loads the programs and runs every table;
 * false if they did not load. The caller checks what the tables left,
 * then calls h_close(). */
static inline bool h_start(const char *prog, const struct h_world *w,
			   const struct h_table *const *t, size_t n)
{
	xlb_log_set_prefix(prog);
	xlb_log_libbpf();
	if (!ASSERT_OK(h_load(), "load XDP and tc programs"))
		return false;
	h_world_set(w);
	h_run_tables(t, n);
	return true;
}

/* ---- The vocabulary of the tables ---- */

#define FIN	0x01
#define SYN	0x02
#define ACK	0x10
#define PSH	0x08
#define RST	0x04

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
#define ST_SNAT_NEW                                                        \
	{ [XLB_STAT_CT_NEW] = 1, [XLB_STAT_DNAT] = 1, [XLB_STAT_SNAT_NEW] = 1 }
#define ST_SNAT_RNAT	{ [XLB_STAT_RNAT] = 1, [XLB_STAT_SNAT_RESTORE] = 1 }
#define ST_SNAT_FULL	{ [XLB_STAT_SNAT_EXHAUSTED] = 1 }

#define DNAT(s, b) .verdict = V_PASS, .rw = RW_DNAT, .svc = s, .be = b
#define RNAT(s) .verdict = V_PASS, .rw = RW_RNAT, .svc = s
#define UNCHANGED .verdict = V_PASS, .rw = RW_NONE
#define DROPPED .verdict = V_DROP, .rw = RW_NONE

#define EXT(t, l) { .type = t, .len8 = l }

/* Macros set defaults that entries override field by field: tables are
 * written between these two. */
#define TABLE_BEGIN                                                        \
	_Pragma("GCC diagnostic push")                                     \
	_Pragma("GCC diagnostic ignored \"-Woverride-init\"")
#define TABLE_END _Pragma("GCC diagnostic pop")

#endif /* XLB_SELFTEST_HARNESS_H */
