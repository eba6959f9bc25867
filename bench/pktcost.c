// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pktcost: the per-packet cost of xlb_xdp, as a ratio to the null XDP
 * program timed the same way in the same run.
 *
 * Every sample is one bpf_prog_test_run_opts() call with repeat=1: the
 * kernel copies data_in into a fresh buffer on each call, so the program
 * always sees the original packet (repeat=N would feed a NAT program its
 * own output from the second run on). xlb_xdp and xlb_null calls are
 * interleaved, alternating which goes first, so that drift (frequency,
 * cache, other load) hits both alike; the calls are split into rounds
 * that cycle through every scenario, and each figure is the lowest round
 * median. Two clocks per sample: the kernel's opts.duration (program run
 * plus the test-run timer overhead) and the wall time of the syscall.
 *
 * The maps are shrunk before load and filled directly through the ABI
 * structs of xlb/abi.h; the program is loaded as xlbd loads it. Each
 * scenario also checks what the program did (verdict, rewritten address,
 * outcome counters), so that a datapath that got faster by doing nothing
 * fails instead of looking good. A second instance, whose conntrack map
 * is filled to capacity first, times new flows that must evict.
 * --profile times ablate.bpf.c's cut-down datapaths on the same maps.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <netinet/in.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xlb/abi.h>
#include "loader.h"
#include "log.h"
#include "ablate.skel.h"
#include "null.skel.h"
#include "xdp_lb.skel.h"

#define PKT_MAX		128
#define N_BE		3	/* backends per service */
#define RING		251	/* ring size of every service (a prime) */
#define WARMUP		2000	/* calls of each program before sampling */
#define ROUND_WARMUP	200	/* the same at the start of later rounds */
#define MAX_ROUNDS	20
#define MAX_CALLS	5000000
#define FRAG_ID		0x1234	/* IPv4 id of the fragmented datagram */

struct pkt {
	__u8 buf[PKT_MAX];
	__u32 len;
};

/* The loaded instances of xlb_xdp, each with its own maps. */
enum {
	I_MAIN,			/* conntrack with room for every flow */
	I_CT_FULL,		/* conntrack at capacity (xlbd's default size) */
	N_INST,
};

/* What the program must have written: the address at off rewritten to
 * one of addrs, or nothing changed when n is 0. */
struct expect {
	int off;
	int alen;
	int n;
	union xlb_addr addrs[N_BE];
};

struct scenario {
	const char *name;
	const char *what;
	double target;		/* ratio to null to stay at or below; 0 none */
	int outcome;		/* XLB_STAT_* every sampled packet must reach */
	bool new_flows;		/* one distinct packet per call */
	int inst;		/* I_*: which loaded instance */
	__u32 verdict;		/* XDP action every call must return; 0
				 * (XDP_ABORTED, never wanted) = XDP_PASS */
	bool rst;		/* output must be the TCP RST answering the
				 * input (checked field by field) */
	/* set up by prepare() */
	const struct pkt *pkts;	/* the packet, or one per call */
	struct expect exp;
	size_t next;		/* next packet of pkts (new flows) */
	/* per round: medians */
	double r_xlb[MAX_ROUNDS], r_null[MAX_ROUNDS], r_xlb_p90[MAX_ROUNDS];
	double r_xlb_wall[MAX_ROUNDS], r_null_wall[MAX_ROUNDS];
	/* summary */
	double xlb_ns, null_ns, xlb_p90, ratio_lo, ratio_hi;
	double xlb_wall, null_wall;
	bool checked;
	char check_msg[160];
};

/* Indices into scenarios[], same order. */
enum {
	S_TCP4_EST, S_TCP4_NEW, S_TCP4_NEW_FULL, S_UDP4_EST, S_TCP6_EST,
	S_TCP4_REPLY, S_NON_VIP, S_NON_VIP_PORT, S_AFFINITY, S_SRC_DENIED,
	S_REJECT, S_FRAG,
};

static struct scenario scenarios[] = {
	{ "tcp4_established", "TCP v4 to a VIP, conntrack entry present",
	  2.2, XLB_STAT_DNAT, false },
	{ "tcp4_new", "TCP v4 SYN, new source per packet (Maglev + ct insert)",
	  4.0, XLB_STAT_CT_NEW, true },
	{ "tcp4_new_ct_full", "the same, conntrack table at capacity "
	  "(every insert evicts)", 0, XLB_STAT_CT_NEW, true, I_CT_FULL },
	{ "udp4_established", "UDP v4 to a VIP, conntrack entry present",
	  0, XLB_STAT_DNAT, false },
	{ "tcp6_established", "TCP v6 to a VIP, conntrack entry present",
	  0, XLB_STAT_DNAT, false },
	{ "tcp4_reply", "TCP v4 backend reply (reverse NAT)",
	  0, XLB_STAT_RNAT, false },
	{ "non_vip", "TCP v4 to port 80 (a frontend port) of an address that "
	  "is no VIP (passed)", 1.4, XLB_STAT_PASS, false },
	{ "non_vip_port", "TCP v4 to port 22, which no frontend or backend "
	  "uses (passed)", 1.4, XLB_STAT_PASS, false },
	{ "tcp4_affinity_hit", "TCP v4 SYN, new flow of a client with an "
	  "affinity entry (affinity lookup and refresh, ct insert)",
	  0, XLB_STAT_AFFINITY_HIT, true },
	{ "tcp4_src_denied", "TCP v4 SYN from a client outside the service's "
	  "source ranges (LPM trie miss, dropped)", 0, XLB_STAT_SRC_DENIED,
	  false, I_MAIN, XDP_DROP },
	{ "tcp4_reject", "TCP v4 SYN to a service with no backend: RST built "
	  "in place and sent back (XDP_TX)", 0, XLB_STAT_REJECTED, false,
	  I_MAIN, XDP_TX, true },
	{ "udp4_frag_later", "UDP v4 later fragment of a datagram whose first "
	  "fragment was balanced (xlb_frags lookup, address rewrite)",
	  0, XLB_STAT_DNAT, false },
};

static __u32 want_verdict(const struct scenario *sc)
{
	return sc->verdict ?: XDP_PASS;
}

#define N_SCEN (sizeof(scenarios) / sizeof(scenarios[0]))

/* ---- packets ---------------------------------------------------------- */

static __u32 csum_add(__u32 sum, const void *p, size_t len)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

static const __u8 mac_src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 mac_dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };

/* L4 header plus zero payload at l4, checksum over the pseudo header. */
static __u32 build_l4(__u8 *l4, __u8 proto, __u16 sport, __u16 dport,
		      __u8 tcp_flags, __u32 l4len, __u32 pseudo)
{
	__u32 sum = pseudo;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)l4;

		th->source = htons(sport);
		th->dest = htons(dport);
		th->seq = htonl(1000);
		th->ack_seq = htonl(tcp_flags & 0x10 ? 2000 : 0);
		th->doff = 5;
		l4[13] = tcp_flags;
		th->window = htons(65535);
		sum += IPPROTO_TCP + l4len;
		sum = csum_add(sum, l4, l4len);
		th->check = csum_fold(sum);
	} else {
		struct udphdr *uh = (void *)l4;

		uh->source = htons(sport);
		uh->dest = htons(dport);
		uh->len = htons(l4len);
		sum += IPPROTO_UDP + l4len;
		sum = csum_add(sum, l4, l4len);
		uh->check = csum_fold(sum);
		if (!uh->check)
			uh->check = 0xffff;
	}
	return l4len;
}

static void build_v4_pl(struct pkt *p, __be32 saddr, __be32 daddr,
			__u8 proto, __u16 sport, __u16 dport, __u8 tcp_flags,
			__u32 payload)
{
	struct ethhdr *eth = (void *)p->buf;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 l4len = (proto == IPPROTO_TCP ? 20 : 8) + payload;
	__u32 pseudo;

	memset(p, 0, sizeof(*p));
	memcpy(eth->h_source, mac_src, ETH_ALEN);
	memcpy(eth->h_dest, mac_dst, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(sizeof(*iph) + l4len);
	iph->id = htons(1);
	iph->ttl = 64;
	iph->protocol = proto;
	iph->saddr = saddr;
	iph->daddr = daddr;
	iph->check = csum_fold(csum_add(0, iph, sizeof(*iph)));
	pseudo = csum_add(0, &iph->saddr, 8);
	build_l4((__u8 *)(iph + 1), proto, sport, dport, tcp_flags, l4len,
		 pseudo);
	p->len = sizeof(*eth) + sizeof(*iph) + l4len;
}

/* With 16 bytes of zero payload. */
static void build_v4(struct pkt *p, __be32 saddr, __be32 daddr, __u8 proto,
		     __u16 sport, __u16 dport, __u8 tcp_flags)
{
	build_v4_pl(p, saddr, daddr, proto, sport, dport, tcp_flags, 16);
}

/* An IPv4/UDP fragment of datagram id: the first (offset 0, MF, with the
 * UDP header) or a later one (offset 24 bytes, last, 24 bytes of data
 * and no L4 header). */
static void build_v4_frag(struct pkt *p, __be32 saddr, __be32 daddr,
			  __u16 sport, __u16 dport, __u16 id, bool first)
{
	struct ethhdr *eth = (void *)p->buf;
	struct iphdr *iph = (void *)(eth + 1);
	__u8 *l4 = (__u8 *)(iph + 1);
	__u32 l4len = 24;

	if (first) {
		build_v4_pl(p, saddr, daddr, IPPROTO_UDP, sport, dport, 0,
			    l4len - 8);
		/* The UDP length is the whole datagram's: 48 bytes. */
		((struct udphdr *)l4)->len = htons(2 * l4len);
		((struct udphdr *)l4)->check = 0;
		iph->frag_off = htons(0x2000);	/* MF, offset 0 */
	} else {
		build_v4_pl(p, saddr, daddr, IPPROTO_UDP, 0, 0, 0, l4len - 8);
		memset(l4, 0xab, l4len);
		iph->frag_off = htons(l4len / 8);	/* offset 24, last */
	}
	iph->id = htons(id);
	iph->check = 0;
	iph->check = csum_fold(csum_add(0, iph, sizeof(*iph)));
}

static void build_v6(struct pkt *p, const struct in6_addr *saddr,
		     const struct in6_addr *daddr, __u16 sport, __u16 dport,
		     __u8 tcp_flags)
{
	struct ethhdr *eth = (void *)p->buf;
	struct ipv6hdr *ip6h = (void *)(eth + 1);
	__u32 l4len = 20 + 16;
	__u32 pseudo;

	memset(p, 0, sizeof(*p));
	memcpy(eth->h_source, mac_src, ETH_ALEN);
	memcpy(eth->h_dest, mac_dst, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IPV6);
	ip6h->version = 6;
	ip6h->payload_len = htons(l4len);
	ip6h->nexthdr = IPPROTO_TCP;
	ip6h->hop_limit = 64;
	memcpy(&ip6h->saddr, saddr, 16);
	memcpy(&ip6h->daddr, daddr, 16);
	pseudo = csum_add(0, &ip6h->saddr, 32);
	build_l4((__u8 *)(ip6h + 1), IPPROTO_TCP, sport, dport, tcp_flags,
		 l4len, pseudo);
	p->len = sizeof(*eth) + sizeof(*ip6h) + l4len;
}

/* ---- addresses of the synthetic configuration ------------------------- */

/* Service i has VIP 10.96.(i / 256).(i % 256) and backends
 * 10.(128 + k).(i / 256).(i % 256), k = 0 .. N_BE - 1; the v6 service
 * fd00:96::a with backends fd00:244::1 .. 3. */

static __be32 vip4(__u32 i)
{
	return htonl(0x0a600000u | (i & 0xffff)); /* 10.96.x.y */
}

static __be32 be4(__u32 svc, __u32 k)
{
	/* 10.(128 + k).x.y: distinct per service and backend index */
	return htonl(0x0a000000u | ((128 + k) << 16) | (svc & 0xffff));
}

static const __be32 client4 = 0x0100010a; /* 10.1.0.1 in network order */

static void v6addr(struct in6_addr *a, __u16 tag, __u32 low)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[0] = 0xfd;
	a->s6_addr[1] = 0x00;
	a->s6_addr[2] = tag >> 8;
	a->s6_addr[3] = tag & 0xff;
	a->s6_addr32[3] = htonl(low);
}

/* ---- maps ------------------------------------------------------------- */

/* Counts one more frontend (backend = 0) or backend (1) on port, as
 * xlbd keeps xlb_ports. */
static int port_use(struct xlb_xdp_lb *skel, __u32 port, int backend)
{
	int fd = bpf_map__fd(skel->maps.xlb_ports);
	struct xlb_port_use u;
	int err;

	err = bpf_map_lookup_elem(fd, &port, &u);
	if (!err) {
		if (backend)
			u.backends++;
		else
			u.frontends++;
		err = bpf_map_update_elem(fd, &port, &u, BPF_ANY);
	}
	if (err)
		pr_err("xlb_ports: port %u: %s", port, strerror(-err));
	return err;
}

/* How a service's ring is filled. */
enum {
	RING_SPREAD = -1,	/* every backend */
	RING_NONE = -2,		/* ring_size 0: no usable backend */
	/* k >= 0: every slot to backend index k */
};

static int add_service_ex(struct xlb_xdp_lb *skel, __u32 *rings, __u32 id,
			  const struct xlb_vip_key *vk, int family,
			  const union xlb_addr *bes, __u16 be_port,
			  __u32 flags, int ring_fill)
{
	struct xlb_svc sv = { .svc_id = id, .ring_off = (id - 1) * RING,
			      .ring_size = ring_fill == RING_NONE ? 0 : RING,
			      .flags = flags };
	struct xlb_svc_info info = { .n_backends = N_BE,
				     .flags = XLB_SVC_INFO_F_USED };
	int k, err;
	__u32 j;

	snprintf(info.name, sizeof(info.name), "bench-%u", id);
	for (k = 0; k < N_BE; k++) {
		struct xlb_backend be = {
			.addr = bes[k],
			.port = htons(be_port),
			.family = family,
			.state = XLB_BE_ACTIVE,
			.svc_id = id,
			.weight = 1,
		};
		__u32 be_id = (id - 1) * N_BE + k + 1;

		err = bpf_map_update_elem(bpf_map__fd(skel->maps.xlb_backends),
					  &be_id, &be, BPF_ANY);
		if (err) {
			pr_err("xlb_backends: update id %u: %s", be_id,
			       strerror(-err));
			return err;
		}
	}
	/* Any spread will do: the datapath only reads the slot. */
	for (j = 0; j < sv.ring_size; j++)
		rings[sv.ring_off + j] = (id - 1) * N_BE + 1 +
			(ring_fill >= 0 ? (__u32)ring_fill : (j * 7) % N_BE);
	if (flags & XLB_SVC_F_AFFINITY)
		sv.affinity_timeout = 10800;
	err = port_use(skel, ntohs(vk->port), 0);
	for (k = 0; !err && k < N_BE; k++)
		err = port_use(skel, be_port, 1);
	if (err)
		return err;
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.xlb_svc_info), &id,
				  &info, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.xlb_svc), vk,
					  &sv, BPF_NOEXIST);
	if (err)
		pr_err("service %u: map update: %s", id, strerror(-err));
	return err;
}

static int add_service(struct xlb_xdp_lb *skel, __u32 *rings, __u32 id,
		       const struct xlb_vip_key *vk, int family,
		       const union xlb_addr *bes, __u16 be_port)
{
	return add_service_ex(skel, rings, id, vk, family, bes, be_port, 0,
			      RING_SPREAD);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The conntrack entry of client -> vip balanced to backend be_id: the
 * client entry the datapath makes for a new flow. */
static int add_flow(struct xlb_xdp_lb *skel, int family,
		    const union xlb_addr *client, __u16 cport,
		    const union xlb_addr *vip, __u16 vport, __u8 proto,
		    __u32 be_id, __u32 svc_id)
{
	int fd = bpf_map__fd(skel->maps.xlb_ct);
	struct xlb_ct_key k = {};
	struct xlb_ct_val v = {};
	int err;

	k.saddr = *client;
	k.sport = htons(cport);
	k.proto = proto;
	k.family = family;
	k.dir = XLB_CT_CLIENT;
	v.nat_addr = *vip;
	v.nat_port = htons(vport);
	v.backend_id = be_id;
	v.svc_id = svc_id;
	v.last_seen = now_ns();
	err = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	if (err)
		pr_err("xlb_ct: insert flow of service %u: %s", svc_id,
		       strerror(-err));
	return err;
}

static int read_stats(struct xlb_xdp_lb *skel, int ncpus,
		      __u64 out[XLB_STAT_MAX])
{
	struct xlb_counter *vals;
	__u32 i;
	int c, err = 0;

	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < XLB_STAT_MAX; i++) {
		err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.xlb_stats),
					  &i, vals);
		if (err) {
			pr_err("xlb_stats: lookup %u: %s", i, strerror(-err));
			goto out;
		}
		out[i] = 0;
		for (c = 0; c < ncpus; c++)
			out[i] += vals[c].packets;
	}
out:
	free(vals);
	return err;
}

/* ---- timing ----------------------------------------------------------- */

static int run_once(int prog_fd, const struct pkt *p, struct pkt *out,
		    __u32 *dur, __u64 *wall, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .data_size_in = p->len, .repeat = 1);
	__u64 t0, t1;
	int err;

	if (out) {
		opts.data_out = out->buf;
		opts.data_size_out = sizeof(out->buf);
	}
	t0 = now_ns();
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	t1 = now_ns();
	if (err)
		return err;
	*dur = opts.duration;
	*wall = t1 - t0;
	*retval = opts.retval;
	if (out)
		out->len = opts.data_size_out;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static double pct(__u64 *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(size_t)(q * (n - 1))];
}

/* The output must be the RST answering the SYN in: MACs, addresses
 * and ports swapped, RST|ACK acknowledging the SYN, TTL 64, both
 * checksums right when computed from scratch. Returns NULL or what is
 * wrong. */
static const char *check_rst(const struct pkt *in, const struct pkt *out)
{
	const struct ethhdr *ie = (const void *)in->buf;
	const struct ethhdr *oe = (const void *)out->buf;
	const struct iphdr *ii = (const void *)(ie + 1);
	const struct iphdr *oi = (const void *)(oe + 1);
	const struct tcphdr *it = (const void *)(ii + 1);
	const struct tcphdr *ot = (const void *)(oi + 1);
	__u32 l4len = ntohs(oi->tot_len) - sizeof(*oi), sum;

	if (memcmp(oe->h_dest, ie->h_source, ETH_ALEN) ||
	    memcmp(oe->h_source, ie->h_dest, ETH_ALEN))
		return "MAC addresses not swapped";
	if (oi->saddr != ii->daddr || oi->daddr != ii->saddr)
		return "IPv4 addresses not swapped";
	if (oi->ttl != 64)
		return "TTL not 64";
	if (csum_fold(csum_add(0, oi, sizeof(*oi))))
		return "IPv4 header checksum wrong";
	if (ot->source != it->dest || ot->dest != it->source)
		return "ports not swapped";
	if (((const __u8 *)ot)[13] != 0x14)
		return "TCP flags not RST|ACK";
	if (ot->seq || ntohl(ot->ack_seq) != ntohl(it->seq) + 1)
		return "sequence numbers do not answer the SYN";
	if (l4len != 20 || out->len != ETH_HLEN + sizeof(*oi) + l4len)
		return "RST length wrong";
	sum = csum_add(0, &oi->saddr, 8) + IPPROTO_TCP + l4len;
	if (csum_fold(csum_add(sum, ot, l4len)))
		return "TCP checksum wrong";
	return NULL;
}

/* Checks the first packet's verdict and output against sc->exp. */
static bool check_output(struct scenario *sc, const struct pkt *in,
			 const struct pkt *out, __u32 retval)
{
	const struct expect *e = &sc->exp;
	const char *bad;
	int k;

	if (retval != want_verdict(sc)) {
		snprintf(sc->check_msg, sizeof(sc->check_msg),
			 "verdict %u, want %u", retval, want_verdict(sc));
		return false;
	}
	if (want_verdict(sc) == XDP_DROP)
		return true;	/* nothing leaves: verdict and counters */
	if (out->len != in->len) {
		snprintf(sc->check_msg, sizeof(sc->check_msg),
			 "output length %u, want %u", out->len, in->len);
		return false;
	}
	if (sc->rst) {
		bad = check_rst(in, out);
		if (bad)
			snprintf(sc->check_msg, sizeof(sc->check_msg),
				 "reply: %s", bad);
		return !bad;
	}
	if (!e->n) {
		if (memcmp(out->buf, in->buf, in->len)) {
			snprintf(sc->check_msg, sizeof(sc->check_msg),
				 "packet changed, want it untouched");
			return false;
		}
		return true;
	}
	for (k = 0; k < e->n; k++)
		if (!memcmp(out->buf + e->off, &e->addrs[k], e->alen))
			return true;
	snprintf(sc->check_msg, sizeof(sc->check_msg),
		 "address at offset %d is none of the %d expected", e->off,
		 e->n);
	return false;
}

/* Appends the outcomes the checked packet reached to the message. */
static void name_outcomes(struct scenario *sc, const __u64 *before,
			  const __u64 *after)
{
	static const char *const names[] = XLB_STAT_NAMES;
	size_t len;
	int i;

	for (i = 0; i < XLB_STAT_MAX; i++) {
		if (after[i] == before[i])
			continue;
		len = strlen(sc->check_msg);
		snprintf(sc->check_msg + len, sizeof(sc->check_msg) - len,
			 "; outcome %s", names[i]);
	}
}

struct samples {
	__u64 *xd, *nd, *xw, *nw;	/* xlb/null duration, xlb/null wall */
};

/* One sample pair: both programs on packet p, the order alternating. */
static int sample_pair(int xlb_fd, int null_fd, const struct pkt *p,
		       bool null_first, struct samples *s, size_t i,
		       __u32 *xret)
{
	__u32 dur, ret;
	int err;

	if (null_first) {
		err = run_once(null_fd, p, NULL, &dur, &s->nw[i], &ret);
		s->nd[i] = dur;
		if (err)
			return err;
	}
	err = run_once(xlb_fd, p, NULL, &dur, &s->xw[i], xret);
	s->xd[i] = dur;
	if (err || null_first)
		return err;
	err = run_once(null_fd, p, NULL, &dur, &s->nw[i], &ret);
	s->nd[i] = dur;
	return err;
}

/* One round of a scenario: warm-up calls (the first of the first round
 * checked), then n sampled pairs. The outcome counters must have grown
 * by exactly n for the scenario's outcome. */
static int run_round(struct scenario *sc, int xlb_fd, int null_fd,
		     struct xlb_xdp_lb *skel, int ncpus, size_t warm,
		     size_t n, struct samples *s, int round)
{
	__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX], grew;
	size_t i;
	struct pkt out;
	__u32 xret;
	int err;

	for (i = 0; i < warm + n; i++) {
		const struct pkt *p = &sc->pkts[sc->next];

		if (sc->new_flows)
			sc->next++;
		if (i == 0 && round == 0) {
			__u64 wall;
			__u32 dur;

			err = read_stats(skel, ncpus, before);
			if (err)
				return err;
			err = run_once(xlb_fd, p, &out, &dur, &wall, &xret);
			if (err)
				goto fail;
			err = read_stats(skel, ncpus, after);
			if (err)
				return err;
			sc->checked = check_output(sc, p, &out, xret);
			if (!sc->checked)
				name_outcomes(sc, before, after);
			continue;
		}
		if (i == warm) {
			err = read_stats(skel, ncpus, before);
			if (err)
				return err;
		}
		err = sample_pair(xlb_fd, null_fd, p, i & 1, s,
				  i < warm ? 0 : i - warm, &xret);
		if (err)
			goto fail;
		if (xret != want_verdict(sc) && sc->checked) {
			sc->checked = false;
			snprintf(sc->check_msg, sizeof(sc->check_msg),
				 "call %zu: verdict %u, want %u", i, xret,
				 want_verdict(sc));
		}
	}
	err = read_stats(skel, ncpus, after);
	if (err)
		return err;

	grew = after[sc->outcome] - before[sc->outcome];
	if (sc->checked && grew != n) {
		sc->checked = false;
		snprintf(sc->check_msg, sizeof(sc->check_msg),
			 "outcome counter %d grew by %llu, want %zu",
			 sc->outcome, (unsigned long long)grew, n);
	}
	grew = after[XLB_STAT_CT_NEW] - before[XLB_STAT_CT_NEW];
	if (sc->checked && !sc->new_flows && grew) {
		sc->checked = false;
		snprintf(sc->check_msg, sizeof(sc->check_msg),
			 "ct_new grew by %llu, want 0 (tracked flow ignored)",
			 (unsigned long long)grew);
	}

	sc->r_xlb[round] = pct(s->xd, n, 0.5);
	sc->r_null[round] = pct(s->nd, n, 0.5);
	sc->r_xlb_wall[round] = pct(s->xw, n, 0.5);
	sc->r_null_wall[round] = pct(s->nw, n, 0.5);
	sc->r_xlb_p90[round] = pct(s->xd, n, 0.9);
	return 0;
fail:
	pr_err("%s: test run %zu: %s", sc->name, i, strerror(-err));
	return err;
}

static double min_of(const double *v, int n)
{
	double m = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

/* Each figure is the lowest of the rounds' medians: the round least
 * disturbed by anything else running on the machine. The spread of the
 * per-round ratios tells how disturbed the others were. */
static void summarize(struct scenario *sc, int rounds)
{
	int r;

	sc->xlb_ns = min_of(sc->r_xlb, rounds);
	sc->null_ns = min_of(sc->r_null, rounds);
	sc->xlb_wall = min_of(sc->r_xlb_wall, rounds);
	sc->null_wall = min_of(sc->r_null_wall, rounds);
	sc->xlb_p90 = min_of(sc->r_xlb_p90, rounds);
	sc->ratio_lo = sc->ratio_hi = sc->r_xlb[0] / sc->r_null[0];
	for (r = 1; r < rounds; r++) {
		double q = sc->r_xlb[r] / sc->r_null[r];

		if (q < sc->ratio_lo)
			sc->ratio_lo = q;
		if (q > sc->ratio_hi)
			sc->ratio_hi = q;
	}
	if (sc->checked)
		snprintf(sc->check_msg, sizeof(sc->check_msg), "ok");
}

/* ---- configuration ---------------------------------------------------- */

/* One load of the programs, as xlbd loads them, with its own maps. */
struct inst {
	struct xlb_dp dp;
	struct xlb_xdp_lb *skel; /* dp.xdp: the program timed */
	__u32 *rings;		/* dp.maps.ring_mem: flat __u32 slots */
	__u32 ct_entries;
};

struct setup {
	__u32 n_services;	/* v4 TCP services; the last is the target */
	const char *ct_map;	/* lru (as shipped), lru-percpu, hash */
	__u32 ct_entries;	/* 0: XLB_DEF_CT_ENTRIES or what the run needs */
	__u32 svc_target, svc_udp, svc_v6;
	__u32 svc_aff;		/* client-IP affinity, ring all on backend 0 */
	__u32 svc_src;		/* source ranges: 192.168.0.0/16 only */
	__u32 svc_rej;		/* no usable backend (ring_size 0) */
	size_t nnew;		/* distinct packets per new-flow scenario */
	__be32 frag_be;		/* backend the first fragment went to */
	int ncpus;
	struct in6_addr c6, v6, b6[N_BE];
};

static int fill_services(struct inst *in, struct setup *su)
{
	struct xlb_xdp_lb *skel = in->skel;
	struct xlb_vip_key vk = {};
	union xlb_addr bes[N_BE];
	__u32 id;
	int k, err;

	for (id = 1; id <= su->n_services; id++) {
		memset(&vk, 0, sizeof(vk));
		vk.addr.v4 = vip4(id);
		vk.port = htons(80);
		vk.proto = IPPROTO_TCP;
		vk.family = XLB_AF_INET;
		memset(bes, 0, sizeof(bes));
		for (k = 0; k < N_BE; k++)
			bes[k].v4 = be4(id, k);
		err = add_service(skel, in->rings, id, &vk, XLB_AF_INET, bes,
				  8080);
		if (err)
			return err;
	}

	memset(&vk, 0, sizeof(vk));
	vk.addr.v4 = vip4(su->svc_udp);
	vk.port = htons(53);
	vk.proto = IPPROTO_UDP;
	vk.family = XLB_AF_INET;
	memset(bes, 0, sizeof(bes));
	for (k = 0; k < N_BE; k++)
		bes[k].v4 = be4(su->svc_udp, k);
	err = add_service(skel, in->rings, su->svc_udp, &vk, XLB_AF_INET, bes,
			  5353);
	if (err)
		return err;

	v6addr(&su->c6, 0x1, 1);
	v6addr(&su->v6, 0x96, 10);
	memset(&vk, 0, sizeof(vk));
	memcpy(&vk.addr, &su->v6, 16);
	vk.port = htons(80);
	vk.proto = IPPROTO_TCP;
	vk.family = XLB_AF_INET6;
	memset(bes, 0, sizeof(bes));
	for (k = 0; k < N_BE; k++) {
		v6addr(&su->b6[k], 0x244, k + 1);
		memcpy(&bes[k], &su->b6[k], 16);
	}
	err = add_service(skel, in->rings, su->svc_v6, &vk, XLB_AF_INET6, bes,
			  8080);
	if (err)
		return err;

	/* Three more v4 TCP services on port 80: with affinity, with
	 * source ranges, without a usable backend. */
	memset(&vk, 0, sizeof(vk));
	vk.port = htons(80);
	vk.proto = IPPROTO_TCP;
	vk.family = XLB_AF_INET;
	memset(bes, 0, sizeof(bes));
	for (k = 0; k < N_BE; k++)
		bes[k].v4 = be4(su->svc_aff, k);
	vk.addr.v4 = vip4(su->svc_aff);
	err = add_service_ex(skel, in->rings, su->svc_aff, &vk, XLB_AF_INET,
			     bes, 8080, XLB_SVC_F_AFFINITY, 0);
	if (err)
		return err;
	for (k = 0; k < N_BE; k++)
		bes[k].v4 = be4(su->svc_src, k);
	vk.addr.v4 = vip4(su->svc_src);
	err = add_service_ex(skel, in->rings, su->svc_src, &vk, XLB_AF_INET,
			     bes, 8080, XLB_SVC_F_SRC_RANGES, RING_SPREAD);
	if (err)
		return err;
	for (k = 0; k < N_BE; k++)
		bes[k].v4 = be4(su->svc_rej, k);
	vk.addr.v4 = vip4(su->svc_rej);
	return add_service_ex(skel, in->rings, su->svc_rej, &vk, XLB_AF_INET,
			      bes, 8080, 0, RING_NONE);
}

/* The affinity scenario's clients 10.6.x.y (one per 16,384 flows, see
 * build_new_flows) each stick to backend index 2 of svc_aff, which the
 * ring never picks: a DNAT to it proves the affinity entry was used. The
 * source-range service admits 192.168.0.0/16 only. */
static int fill_sticky(struct inst *in, const struct setup *su)
{
	struct xlb_affinity_key ak = {};
	struct xlb_affinity_val av = {};
	struct xlb_src_range_key rk = {};
	struct timespec ts;
	__u32 c, one = 1;
	int err;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	av.backend_id = (su->svc_aff - 1) * N_BE + 3;
	av.last_seen = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	ak.svc_id = su->svc_aff;
	ak.family = XLB_AF_INET;
	for (c = 0; c <= su->nnew >> 14; c++) {
		ak.client.v4 = htonl(0x0a060000u | c);
		err = bpf_map_update_elem(
			bpf_map__fd(in->skel->maps.xlb_affinity), &ak, &av,
			BPF_ANY);
		if (err) {
			pr_err("xlb_affinity: client %u: %s", c,
			       strerror(-err));
			return err;
		}
	}
	rk.prefixlen = XLB_SRC_RANGE_PREFIX + 16;
	rk.svc_id = su->svc_src;
	rk.family = XLB_AF_INET;
	rk.addr[0] = 192;
	rk.addr[1] = 168;
	err = bpf_map_update_elem(bpf_map__fd(in->skel->maps.xlb_src_ranges),
				  &rk, &one, BPF_ANY);
	if (err)
		pr_err("xlb_src_ranges: 192.168.0.0/16: %s", strerror(-err));
	return err;
}

/* Tracked flows of the established and reply scenarios, each on the
 * service's backend index 1. */
static int fill_flows(struct xlb_xdp_lb *skel, struct setup *su)
{
	union xlb_addr client = {}, vip = {};
	int err;

	client.v4 = client4;
	vip.v4 = vip4(su->svc_target);
	err = add_flow(skel, XLB_AF_INET, &client, 40000, &vip, 80,
		       IPPROTO_TCP, (su->svc_target - 1) * N_BE + 2,
		       su->svc_target);
	if (err)
		return err;

	vip.v4 = vip4(su->svc_udp);
	err = add_flow(skel, XLB_AF_INET, &client, 40000, &vip, 53,
		       IPPROTO_UDP, (su->svc_udp - 1) * N_BE + 2, su->svc_udp);
	if (err)
		return err;

	memcpy(&client, &su->c6, 16);
	memcpy(&vip, &su->v6, 16);
	return add_flow(skel, XLB_AF_INET6, &client, 40000, &vip, 80,
			IPPROTO_TCP, (su->svc_v6 - 1) * N_BE + 2, su->svc_v6);
}

/* Sends the first fragment of datagram FRAG_ID (client4:40001 to the UDP
 * service) through the program, as the datapath would see it: it is
 * balanced and its rewrite recorded in xlb_frags, for the later fragment
 * of the frag scenario to follow. */
static int first_fragment(struct inst *in, struct setup *su)
{
	const int off = ETH_HLEN + offsetof(struct iphdr, daddr);
	struct pkt p, out;
	__u32 dur, ret;
	__u64 wall;
	__be32 d;
	int err, k;

	build_v4_frag(&p, client4, vip4(su->svc_udp), 40001, 53, FRAG_ID,
		      true);
	err = run_once(bpf_program__fd(in->skel->progs.xlb_xdp), &p, &out,
		       &dur, &wall, &ret);
	if (err) {
		pr_err("first fragment: test run: %s", strerror(-err));
		return err;
	}
	memcpy(&d, out.buf + off, 4);
	for (k = 0; k < N_BE; k++)
		if (d == be4(su->svc_udp, k))
			break;
	if (ret != XDP_PASS || k == N_BE) {
		pr_err("first fragment: verdict %u, destination %08x: not "
		       "balanced to a backend of service %u", ret, ntohl(d),
		       su->svc_udp);
		return -EINVAL;
	}
	su->frag_be = d;
	return 0;
}

static const int off_v4_daddr = ETH_HLEN + offsetof(struct iphdr, daddr);
static const int off_v4_saddr = ETH_HLEN + offsetof(struct iphdr, saddr);
static const int off_v6_daddr = ETH_HLEN + offsetof(struct ipv6hdr, daddr);

/* Distinct SYNs to the target: source 10.<net>.a.b, port 1024 + i % 16384. */
static void build_new_flows(struct pkt *pkts, size_t n, __u8 net,
			    __u32 svc)
{
	size_t k;

	for (k = 0; k < n; k++)
		build_v4(&pkts[k],
			 htonl(0x0a000000u | (net << 16) | ((k >> 14) & 0xffff)),
			 vip4(svc), IPPROTO_TCP, 1024 + (k & 0x3fff), 80, 0x02);
}

/* Packets and expectations of every scenario. fixed holds one packet per
 * scenario; new1 and new2 the distinct packets of the two new-flow
 * scenarios (nnew each). */
static void prepare(struct setup *su, struct pkt *fixed, struct pkt *new1,
		    struct pkt *new2, struct pkt *new3, size_t nnew)
{
	size_t i;
	int k;

	for (i = 0; i < N_SCEN; i++) {
		struct scenario *sc = &scenarios[i];
		struct expect *e = &sc->exp;

		sc->pkts = &fixed[i];
		memset(e, 0, sizeof(*e));
		e->off = off_v4_daddr;
		e->alen = 4;
		e->n = 1;
		switch (i) {
		case S_TCP4_EST:
			build_v4(&fixed[i], client4, vip4(su->svc_target),
				 IPPROTO_TCP, 40000, 80, 0x10);
			e->addrs[0].v4 = be4(su->svc_target, 1);
			break;
		case S_TCP4_NEW:
		case S_TCP4_NEW_FULL:
			sc->pkts = i == S_TCP4_NEW ? new1 : new2;
			build_new_flows((struct pkt *)sc->pkts, nnew,
					i == S_TCP4_NEW ? 2 : 4, su->svc_target);
			e->n = N_BE;
			for (k = 0; k < N_BE; k++)
				e->addrs[k].v4 = be4(su->svc_target, k);
			break;
		case S_UDP4_EST:
			build_v4(&fixed[i], client4, vip4(su->svc_udp),
				 IPPROTO_UDP, 40000, 53, 0);
			e->addrs[0].v4 = be4(su->svc_udp, 1);
			break;
		case S_TCP6_EST:
			build_v6(&fixed[i], &su->c6, &su->v6, 40000, 80, 0x10);
			memcpy(&e->addrs[0], &su->b6[1], 16);
			e->off = off_v6_daddr;
			e->alen = 16;
			break;
		case S_TCP4_REPLY:
			build_v4(&fixed[i], be4(su->svc_target, 1), client4,
				 IPPROTO_TCP, 8080, 40000, 0x12);
			e->addrs[0].v4 = vip4(su->svc_target);
			e->off = off_v4_saddr;
			break;
		case S_NON_VIP:
			/* 10.200.0.1: no VIP, no tracked reply. Port 40100
			 * of the client has no flow (40000 has). */
			build_v4(&fixed[i], client4, htonl(0x0ac80001u),
				 IPPROTO_TCP, 40100, 80, 0x10);
			e->n = 0;
			break;
		case S_NON_VIP_PORT:
			build_v4(&fixed[i], client4, htonl(0x0ac80001u),
				 IPPROTO_TCP, 40100, 22, 0x10);
			e->n = 0;
			break;
		case S_AFFINITY:
			sc->pkts = new3;
			build_new_flows(new3, nnew, 6, su->svc_aff);
			e->addrs[0].v4 = be4(su->svc_aff, 2);
			break;
		case S_SRC_DENIED:
			/* Dropped: the verdict and counters are checked. */
			build_v4(&fixed[i], client4, vip4(su->svc_src),
				 IPPROTO_TCP, 40100, 80, 0x02);
			e->n = 0;
			break;
		case S_REJECT:
			/* No payload: a segment with data is not answered. */
			build_v4_pl(&fixed[i], client4, vip4(su->svc_rej),
				    IPPROTO_TCP, 40100, 80, 0x02, 0);
			break;
		case S_FRAG:
			build_v4_frag(&fixed[i], client4, vip4(su->svc_udp), 0,
				      0, FRAG_ID, false);
			e->addrs[0].v4 = su->frag_be;
			break;
		}
	}
}

/* ---- profile: where the time goes ------------------------------------ */

enum { P_EST, P_NEW, P_NONVIP, P_PORT };

struct stage {
	const char *prog;	/* program of ablate.bpf.c, or xlb_xdp */
	const char *what;
	int path;		/* P_*: packets, and the group it steps in */
	bool micro;		/* a single helper: cost = time - null */
	double ns, null_ns;
};

static struct stage stages[] = {
	{ "xb_s1_parse", "parse Ethernet, IPv4, TCP", P_EST },
	{ "xb_s2_svc", "+ VIP lookup (xlb_svc hash)", P_EST },
	{ "xb_s3_ct", "+ conntrack lookup (xlb_ct LRU hash)", P_EST },
	{ "xb_s4_backend", "+ backend lookup (xlb_backends array)", P_EST },
	{ "xb_s5_touch", "+ ct touch (clock read, last_seen refresh)", P_EST },
	{ "xb_s6_nat", "+ DNAT rewrite and checksums", P_EST },
	{ "xlb_xdp", "+ 3 per-CPU counters = xlb_xdp", P_EST },
	{ "xb_n0_miss", "new flow: parse, VIP lookup, conntrack miss", P_NEW },
	{ "xb_n1_pick", "+ flow hash, Maglev slot, backend lookup", P_NEW },
	{ "xb_n2_insert", "+ conntrack insert (one client entry), DNAT",
	  P_NEW },
	{ "xlb_xdp", "+ 4 per-CPU counters = xlb_xdp", P_NEW },
	{ "xb_p1_miss", "non-VIP on a frontend port: parse, VIP miss, "
	  "reply ct miss", P_NONVIP },
	{ "xlb_xdp", "+ 1 per-CPU counter = xlb_xdp", P_NONVIP },
	{ "xb_p0_ports", "non-VIP on port 22: parse, two xlb_ports reads "
	  "(the port filter's path)", P_PORT },
	{ "xlb_xdp", "+ 1 per-CPU counter = xlb_xdp", P_PORT },
	{ "xb_m_ktime", "bpf_ktime_get_ns alone", P_EST, true },
	{ "xb_m_coarse", "bpf_ktime_get_coarse_ns alone", P_EST, true },
	{ "xb_m_jiffies", "bpf_jiffies64 alone", P_EST, true },
	{ "xb_m_counter", "one per-CPU counter alone", P_EST, true },
	{ "xb_m_3counters", "three per-CPU counters alone", P_EST, true },
};

#define N_STAGES (sizeof(stages) / sizeof(stages[0]))
#define PROFILE_CALLS 50000	/* per stage, over the rounds */

/* Loads ablate.bpf.c on xlb_xdp's maps. */
static int ablate_load(struct xlb_xdp_lb *skel, struct xb_ablate **out)
{
	struct xb_ablate *ab;
	struct bpf_map *m, *theirs;
	int err;

	ab = xb_ablate__open();
	if (!ab) {
		err = -errno;
		pr_err("ablate: open: %s", strerror(errno));
		return err;
	}
	bpf_object__for_each_map(m, ab->obj) {
		if (strncmp(bpf_map__name(m), "xlb_", 4))
			continue;
		theirs = bpf_object__find_map_by_name(skel->obj,
						      bpf_map__name(m));
		if (!theirs) {
			err = -ENOENT;
			pr_err("ablate: map %s: not in xdp_lb",
			       bpf_map__name(m));
			goto fail;
		}
		err = bpf_map__reuse_fd(m, bpf_map__fd(theirs));
		if (err) {
			pr_err("ablate: map %s: reuse fd: %s",
			       bpf_map__name(m), strerror(-err));
			goto fail;
		}
	}
	err = xb_ablate__load(ab);
	if (err) {
		pr_err("ablate: load: %s", strerror(-err));
		goto fail;
	}
	*out = ab;
	return 0;
fail:
	xb_ablate__destroy(ab);
	return err;
}

/* Times prog against null on packets pkts (one per call when distinct),
 * in rounds; returns the lowest round medians. */
static int time_prog(int prog_fd, int null_fd, const struct pkt *pkts,
		     bool distinct, size_t *next, size_t n, int rounds,
		     struct samples *s, double *ns, double *null_ns)
{
	size_t i, per = n / rounds;
	__u32 xret;
	int r, err;

	*ns = *null_ns = 1e18;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < ROUND_WARMUP + per; i++) {
			const struct pkt *p = &pkts[distinct ? (*next)++ : 0];

			err = sample_pair(prog_fd, null_fd, p, i & 1, s,
					  i < ROUND_WARMUP ? 0 :
					  i - ROUND_WARMUP, &xret);
			if (err)
				return err;
		}
		if (pct(s->xd, per, 0.5) < *ns)
			*ns = pct(s->xd, per, 0.5);
		if (pct(s->nd, per, 0.5) < *null_ns)
			*null_ns = pct(s->nd, per, 0.5);
	}
	return 0;
}

static int profile(struct xlb_xdp_lb *skel, int null_fd,
		   const struct pkt *fixed, const struct pkt *newpkts,
		   size_t nnew, int rounds, struct samples *s)
{
	struct xb_ablate *ab = NULL;
	size_t i, next = 0;
	int err, fd;

	err = ablate_load(skel, &ab);
	if (err)
		return err;
	for (i = 0; i < N_STAGES; i++) {
		struct stage *st = &stages[i];
		const struct pkt *pk = st->path == P_NEW ? newpkts :
				       st->path == P_NONVIP ? &fixed[S_NON_VIP] :
				       st->path == P_PORT ?
				       &fixed[S_NON_VIP_PORT] :
				       &fixed[S_TCP4_EST];

		if (!strcmp(st->prog, "xlb_xdp")) {
			fd = bpf_program__fd(skel->progs.xlb_xdp);
		} else {
			struct bpf_program *prog;

			prog = bpf_object__find_program_by_name(ab->obj,
								st->prog);
			if (!prog) {
				err = -ENOENT;
				pr_err("ablate: no program %s", st->prog);
				goto out;
			}
			fd = bpf_program__fd(prog);
		}
		if (st->path == P_NEW &&
		    next + rounds * (ROUND_WARMUP + PROFILE_CALLS / rounds) >
		    nnew) {
			err = -ENOSPC;
			pr_err("profile: %zu new-flow packets are too few", nnew);
			goto out;
		}
		err = time_prog(fd, null_fd, pk, st->path == P_NEW, &next,
				PROFILE_CALLS, rounds, s, &st->ns,
				&st->null_ns);
		if (err) {
			pr_err("profile %s: test run: %s", st->prog,
			       strerror(-err));
			goto out;
		}
	}
out:
	xb_ablate__destroy(ab);
	return err;
}

static size_t new_stages(void)
{
	size_t i, n = 0;

	for (i = 0; i < N_STAGES; i++)
		n += stages[i].path == P_NEW;
	return n;
}

/* The null program's time: the lowest of every stage's interleaved
 * null timings. */
static double stage_null(void)
{
	double m = stages[0].null_ns;
	size_t i;

	for (i = 1; i < N_STAGES; i++)
		if (stages[i].null_ns < m)
			m = stages[i].null_ns;
	return m;
}

static double stage_step(size_t i)
{
	const struct stage *st = &stages[i];

	if (st->micro || i == 0 || stages[i - 1].path != st->path ||
	    stages[i - 1].micro)
		return st->ns - stage_null();
	return st->ns - stages[i - 1].ns;
}

static void print_profile(void)
{
	size_t i;

	printf("\n| step | program | ns | step cost ns |\n");
	printf("|---|---|---:|---:|\n");
	for (i = 0; i < N_STAGES; i++)
		printf("| %s | %s | %.0f | %.0f |\n", stages[i].what,
		       stages[i].prog, stages[i].ns, stage_step(i));
	printf("| null program | xlb_null | %.0f | |\n", stage_null());
}

/* ---- output ----------------------------------------------------------- */

static void print_table(void)
{
	size_t i;

	printf("| scenario | xlb ns | null ns | ratio | rounds | target | "
	       "net ns | xlb wall ns | null wall ns | wall ratio | check |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (i = 0; i < N_SCEN; i++) {
		const struct scenario *sc = &scenarios[i];
		double ratio = sc->xlb_ns / sc->null_ns;
		char target[24] = "-";

		if (sc->target)
			snprintf(target, sizeof(target), "<= %.1f %s",
				 sc->target,
				 ratio <= sc->target ? "met" : "MISSED");
		printf("| %s | %.0f | %.0f | %.2f | %.2f-%.2f | %s | %.0f | "
		       "%.0f | %.0f | %.3f | %s |\n",
		       sc->name, sc->xlb_ns, sc->null_ns, ratio, sc->ratio_lo,
		       sc->ratio_hi, target, sc->xlb_ns - sc->null_ns,
		       sc->xlb_wall, sc->null_wall,
		       sc->xlb_wall / sc->null_wall, sc->check_msg);
	}
}

static int write_json(const char *path, const struct setup *su,
		      const struct inst *insts, size_t calls, int rounds,
		      bool profiled)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f) {
		pr_err("--json %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"calls\": %zu, \"rounds\": %d, \"services\": %u, "
		"\"warmup\": %d, \"ct_map\": \"%s\", \"ct_entries\": %u, "
		"\"ct_entries_full\": %u, \"scenarios\": [", calls, rounds,
		su->n_services, WARMUP, su->ct_map, insts[I_MAIN].ct_entries,
		insts[I_CT_FULL].ct_entries);
	for (i = 0; i < N_SCEN; i++) {
		const struct scenario *sc = &scenarios[i];
		char target[16] = "null";

		if (sc->target)
			snprintf(target, sizeof(target), "%.2f", sc->target);
		fprintf(f,
			"%s\n  {\"name\": \"%s\", \"what\": \"%s\", "
			"\"xlb_ns\": %.0f, \"null_ns\": %.0f, "
			"\"xlb_p90_ns\": %.0f, \"ratio\": %.3f, "
			"\"round_ratio_min\": %.3f, \"round_ratio_max\": %.3f, "
			"\"net_ns\": %.0f, \"target\": %s, "
			"\"xlb_wall_ns\": %.0f, \"null_wall_ns\": %.0f, "
			"\"wall_ratio\": %.3f, \"check_ok\": %s, "
			"\"check\": \"%s\"}",
			i ? "," : "", sc->name, sc->what, sc->xlb_ns,
			sc->null_ns, sc->xlb_p90, sc->xlb_ns / sc->null_ns,
			sc->ratio_lo, sc->ratio_hi, sc->xlb_ns - sc->null_ns,
			target, sc->xlb_wall, sc->null_wall,
			sc->xlb_wall / sc->null_wall,
			sc->checked ? "true" : "false", sc->check_msg);
	}
	fprintf(f, "\n]");
	if (profiled) {
		fprintf(f, ", \"profile\": [");
		for (i = 0; i < N_STAGES; i++)
			fprintf(f, "%s\n  {\"program\": \"%s\", \"what\": "
				"\"%s\", \"ns\": %.0f, \"null_ns\": %.0f, "
				"\"step_ns\": %.0f}", i ? "," : "",
				stages[i].prog, stages[i].what, stages[i].ns,
				stages[i].null_ns, stage_step(i));
		fprintf(f, "\n]");
	}
	fprintf(f, "}\n");
	if (fclose(f)) {
		pr_err("--json %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-n CALLS] [--rounds R] [--services N] [--cpu N] [--json FILE]\n"
		"  -n CALLS      sampled calls per scenario and program (default 100000)\n"
		"  --rounds R    split them into R rounds over all scenarios; each\n"
		"                figure is the lowest round median (default 5)\n"
		"  --services N  v4 TCP services in the maps (default 1000)\n"
		"  --cpu N       CPU to pin to (default 0; -1: no pinning)\n"
		"  --json FILE   also write the results as JSON to FILE\n"
		"  --profile     also time the datapath step by step (ablate.bpf.c)\n"
		"  --ct-map T    xlb_ct as lru (as built, default), lru-percpu\n"
		"                (BPF_F_NO_COMMON_LRU) or hash: what-if figures\n"
		"  --ct-entries N  xlb_ct size (default: xlbd's default, or twice the\n"
		"                run's new flows if more; smaller sizes evict)\n"
		"Exits 1 when a scenario's check of the program's output fails.\n",
		prog);
}

/* What-if variants of the conntrack map, to measure what its type costs
 * (xlbd always loads it as built). */
static int ct_variant(struct bpf_object *obj, void *ctx)
{
	const char *ct_map = ctx;
	struct bpf_map *ct = bpf_object__find_map_by_name(obj, XLB_MAP_CT);
	int err = 0;

	if (!ct)
		return -ENOENT;
	if (!strcmp(ct_map, "lru-percpu"))
		err = bpf_map__set_map_flags(ct, bpf_map__map_flags(ct) |
						     BPF_F_NO_COMMON_LRU);
	else if (!strcmp(ct_map, "hash"))
		err = bpf_map__set_type(ct, BPF_MAP_TYPE_HASH);
	if (err)
		pr_err("%s as %s: %s", XLB_MAP_CT, ct_map, strerror(-err));
	return err;
}

/* Loads the programs through xlbd's loader (port filter on, as xlbd),
 * unpinned, with maps sized for the run. */
static int load(const struct setup *su, __u32 ct_entries, struct inst *in)
{
	__u32 n_ids = su->n_services + 6;
	__u32 ring_entries = (n_ids * RING + XLB_RING_SLOTS_PER_ENTRY - 1) /
			     XLB_RING_SLOTS_PER_ENTRY;
	struct xlb_loader_opts o = {
		.map_size = {
			[XLB_MAPI_SVC] = n_ids,
			[XLB_MAPI_SVC_INFO] = n_ids,
			[XLB_MAPI_SVC_STATS] = n_ids,
			[XLB_MAPI_BACKENDS] = n_ids * N_BE + 1,
			[XLB_MAPI_BE_STATS] = n_ids * N_BE + 1,
			[XLB_MAPI_RINGS] = ring_entries,
			[XLB_MAPI_CT] = ct_entries,
		},
		.tweak = ct_variant,
		.tweak_ctx = (void *)su->ct_map,
	};
	int err;

	err = xlb_dp_load(&in->dp, &o);
	if (err) {
		pr_err("xdp_lb: load: %s", strerror(-err));
		return err;
	}
	in->skel = in->dp.xdp;
	in->rings = in->dp.maps.ring_mem;
	in->ct_entries = ct_entries;
	return 0;
}

static void unload(struct inst *in)
{
	if (in->skel)
		xlb_dp_close(&in->dp);
	memset(in, 0, sizeof(*in));
}

/* Key i of the flows that fill a conntrack table to capacity: the client
 * entries of clients 10.5.x.y:port (to the target VIP). */
static void filler_key(struct xlb_ct_key *k, const struct setup *su, __u32 i)
{
	memset(k, 0, sizeof(*k));
	k->saddr.v4 = htonl(0x0a050000u | (i >> 14));
	k->sport = htons(1024 + (i & 0x3fff));
	k->proto = IPPROTO_TCP;
	k->family = XLB_AF_INET;
	k->dir = XLB_CT_CLIENT;
}

/* Fills the conntrack map with as many flows as it holds, so that every
 * new flow afterwards evicts one: the steady state of a busy balancer. */
static int fill_ct(struct inst *in, const struct setup *su)
{
	int fd = bpf_map__fd(in->skel->maps.xlb_ct);
	struct xlb_ct_key *keys;
	struct xlb_ct_val *vals;
	__u32 i, chunk = 4096, n, done = 0;
	int err = 0;

	keys = calloc(chunk, sizeof(*keys));
	vals = calloc(chunk, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (done < in->ct_entries) {
		n = in->ct_entries - done < chunk ? in->ct_entries - done : chunk;
		for (i = 0; i < n; i++) {
			filler_key(&keys[i], su, done + i);
			vals[i].nat_addr.v4 = vip4(su->svc_target);
			vals[i].nat_port = htons(80);
			vals[i].backend_id = (su->svc_target - 1) * N_BE + 1;
			vals[i].svc_id = su->svc_target;
			vals[i].last_seen = now_ns();
		}
		err = bpf_map_update_batch(fd, keys, vals, &n, NULL);
		if (err) {
			pr_err("xlb_ct: fill to %u entries: batch update at "
			       "%u: %s", in->ct_entries, done, strerror(-err));
			goto out;
		}
		done += n;
	}
out:
	free(keys);
	free(vals);
	return err;
}

/* How many of the first n filler flows are still tracked. */
static __u32 fillers_left(struct inst *in, const struct setup *su, __u32 n)
{
	struct xlb_ct_key k;
	struct xlb_ct_val v;
	__u32 i, left = 0;

	for (i = 0; i < n; i++) {
		filler_key(&k, su, i);
		left += !bpf_map_lookup_elem(bpf_map__fd(in->skel->maps.xlb_ct),
					     &k, &v);
	}
	return left;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "services", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "profile", no_argument, NULL, 'p' },
		{ "ct-map", required_argument, NULL, 'C' },
		{ "ct-entries", required_argument, NULL, 'E' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct setup su = { .n_services = 1000, .ct_map = "lru" };
	struct pkt fixed[N_SCEN], *newpkts = NULL;
	struct inst insts[N_INST] = {};
	struct xlb_null *nskel = NULL;
	struct samples s = {};
	const char *json = NULL;
	size_t calls = 100000, nnew, i;
	int cpu = 0, rounds = 5, opt, err, bad = 0, r;
	size_t per_round, nsamples, nprof = 0;
	__u32 ct_main, left;
	bool do_profile = false;

	while ((opt = getopt_long(argc, argv, "n:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			calls = strtoul(optarg, NULL, 10);
			break;
		case 's':
			su.n_services = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'p':
			do_profile = true;
			break;
		case 'C':
			su.ct_map = optarg;
			break;
		case 'E':
			su.ct_entries = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'j':
			json = optarg;
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (calls < 100 || calls > MAX_CALLS) {
		fprintf(stderr, "-n %zu: want 100 .. %d\n", calls, MAX_CALLS);
		return 2;
	}
	if (strcmp(su.ct_map, "lru") && strcmp(su.ct_map, "lru-percpu") &&
	    strcmp(su.ct_map, "hash")) {
		fprintf(stderr, "--ct-map %s: want lru, lru-percpu or hash\n",
			su.ct_map);
		return 2;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || calls / rounds < 100) {
		fprintf(stderr, "--rounds %d: want 1 .. %d and >= 100 calls "
			"each\n", rounds, MAX_ROUNDS);
		return 2;
	}
	per_round = calls / rounds;
	calls = per_round * rounds;
	if (su.n_services < 1 || su.n_services > 60000) {
		fprintf(stderr, "--services %u: want 1 .. 60000\n",
			su.n_services);
		return 2;
	}
	xlb_log_set_prefix("pktcost");
	xlb_log_libbpf();
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			pr_warn("--cpu %d: %s; running unpinned", cpu,
				strerror(errno));
	}
	su.ncpus = libbpf_num_possible_cpus();
	if (su.ncpus < 1) {
		pr_err("possible CPUs: %s", strerror(-su.ncpus));
		return 1;
	}
	su.svc_target = su.n_services;
	su.svc_udp = su.n_services + 1;
	su.svc_v6 = su.n_services + 2;
	su.svc_aff = su.n_services + 3;
	su.svc_src = su.n_services + 4;
	su.svc_rej = su.n_services + 5;
	nnew = WARMUP + calls + (size_t)rounds * ROUND_WARMUP;
	if (do_profile)
		nprof = new_stages() * (size_t)rounds * (ROUND_WARMUP +
					      PROFILE_CALLS / rounds);
	nnew += nprof;
	su.nnew = nnew;
	nsamples = per_round;
	if (nsamples < (size_t)PROFILE_CALLS / rounds)
		nsamples = PROFILE_CALLS / rounds;

	/* Main instance: room for every flow of the run, at least the size
	 * xlbd creates. The second: xlbd's default size, filled up. */
	ct_main = su.ct_entries;
	if (!ct_main) {
		ct_main = XLB_DEF_CT_ENTRIES;
		while (ct_main < 4 * nnew + 64)
			ct_main <<= 1;
	}
	err = load(&su, ct_main, &insts[I_MAIN]);
	err = err ?: load(&su, su.ct_entries ?: XLB_DEF_CT_ENTRIES,
			  &insts[I_CT_FULL]);
	if (err)
		goto cleanup;
	nskel = xlb_null__open_and_load();
	if (!nskel) {
		err = -errno;
		pr_err("null: open and load: %s", strerror(errno));
		goto cleanup;
	}
	for (i = 0; i < N_INST; i++) {
		err = fill_services(&insts[i], &su);
		err = err ?: fill_flows(insts[i].skel, &su);
		err = err ?: fill_sticky(&insts[i], &su);
		if (err)
			goto cleanup;
	}
	err = first_fragment(&insts[I_MAIN], &su);
	if (err)
		goto cleanup;
	err = fill_ct(&insts[I_CT_FULL], &su);
	if (err)
		goto cleanup;

	newpkts = calloc(3 * nnew, sizeof(*newpkts));
	s.xd = calloc(nsamples, sizeof(__u64));
	s.nd = calloc(nsamples, sizeof(__u64));
	s.xw = calloc(nsamples, sizeof(__u64));
	s.nw = calloc(nsamples, sizeof(__u64));
	if (!newpkts || !s.xd || !s.nd || !s.xw || !s.nw) {
		err = -ENOMEM;
		pr_err("%zu packets, %zu samples: out of memory", nnew, calls);
		goto cleanup;
	}
	prepare(&su, fixed, newpkts, newpkts + nnew, newpkts + 2 * nnew, nnew);

	/* Rounds over all scenarios, so that a disturbed stretch of time
	 * spoils one round of each rather than all of one. */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < N_SCEN; i++) {
			struct scenario *sc = &scenarios[i];

			struct xlb_xdp_lb *skel = insts[sc->inst].skel;

			err = run_round(sc, bpf_program__fd(skel->progs.xlb_xdp),
					bpf_program__fd(nskel->progs.xlb_null),
					skel, su.ncpus,
					r ? ROUND_WARMUP : WARMUP, per_round,
					&s, r);
			if (err)
				goto cleanup;
		}
	}
	/* The filled table must have evicted to take the new flows. */
	left = fillers_left(&insts[I_CT_FULL], &su, 1000);
	if (left == 1000 && scenarios[S_TCP4_NEW_FULL].checked) {
		scenarios[S_TCP4_NEW_FULL].checked = false;
		snprintf(scenarios[S_TCP4_NEW_FULL].check_msg,
			 sizeof(scenarios[S_TCP4_NEW_FULL].check_msg),
			 "the first 1000 filler flows are all still tracked: "
			 "the table was not at capacity");
	}
	for (i = 0; i < N_SCEN; i++) {
		summarize(&scenarios[i], rounds);
		if (!scenarios[i].checked) {
			pr_err("%s: %s", scenarios[i].name,
			       scenarios[i].check_msg);
			bad = 1;
		}
	}
	print_table();
	if (do_profile) {
		const struct scenario *nf = &scenarios[S_TCP4_NEW];

		err = profile(insts[I_MAIN].skel,
			      bpf_program__fd(nskel->progs.xlb_null),
			      fixed,
			      nf->pkts + nf->next, nnew - nf->next, rounds,
			      &s);
		if (err)
			goto cleanup;
		print_profile();
	}
	if (json)
		err = write_json(json, &su, insts, calls, rounds, do_profile);
cleanup:
	free(s.xd);
	free(s.nd);
	free(s.xw);
	free(s.nw);
	free(newpkts);
	xlb_null__destroy(nskel);
	for (i = 0; i < N_INST; i++)
		unload(&insts[i]);
	return err ? 1 : bad;
}
