// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Direct server return, packet by packet, through both programs as xlbd
 * loads them (sub-runs xdp/v4 .. tc/v6). One set of maps plays both
 * nodes: frontend A's backend is on another node (this node is the
 * first node, it encapsulates), frontend B's backend is local (this node
 * is the backend's node, it decapsulates).
 *   - A: a SYN, a later segment and a UDP datagram leave in an outer
 *     IPv4 (IPIP) / IPv6 (next header 41) header from the node's address
 *     to the backend's, the client's packet inside unchanged
 *     (dsr_encap); one that would not fit the MTU encapsulated is
 *     dropped (dsr_too_big).
 *   - B: such a packet to the local backend loses its outer header and
 *     is DNATed (dsr_decap); the backend's SYN-ACK leaves from the
 *     frontend with its MSS option lowered to MTU - 40 - 20 (v4) /
 *     MTU - 80 - 20 (v6) (dsr_mss_clamp); a UDP datagram likewise, and
 *     its reply from the frontend.
 *   - another node's NodePort (the inner packet to that node's address)
 *     is served by this node's NodePort frontend of the same port, and
 *     answered from that node's address;
 *   - a tunnelled packet whose inner packet is to no frontend passes
 *     untouched; one to B whose outer destination is not the backend
 *     this node picks is dropped (dsr_mismatch).
 * Every expected packet is built here from scratch (outer header and
 * checksums included). The test runs in a network namespace of its own
 * whose loopback (the test runs' device) has MTU 1500.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include <xlb/abi.h>
#include <xlb/hash.h>

#include "bpftest.h"
#include "pkt.h"
#include "testlib.h"

enum { SVC_A = 1, SVC_B = 2 };
enum { BE_A = 1, BE_B = 2 };
#define MTU 1500

struct fam {
	int f;
	struct pkt_addr cli, node, vip_a, vip_b, be_a, be_b, other;
};

static const struct fam fams[] = {
	{ 4, PKT_V4(203, 0, 113, 7), PKT_V4(10, 60, 0, 11),
	  PKT_V4(10, 96, 50, 1), PKT_V4(10, 96, 50, 2),
	  PKT_V4(10, 244, 2, 10), PKT_V4(10, 244, 1, 10),
	  PKT_V4(10, 244, 9, 9) },
	{ 6, PKT_V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7),
	  PKT_V6(0xfd00, 0x60, 0, 0, 0, 0, 0, 0x11),
	  PKT_V6(0xfd00, 0x96, 0x50, 0, 0, 0, 0, 1),
	  PKT_V6(0xfd00, 0x96, 0x50, 0, 0, 0, 0, 2),
	  PKT_V6(0xfd00, 0x244, 2, 0, 0, 0, 0, 0x10),
	  PKT_V6(0xfd00, 0x244, 1, 0, 0, 0, 0, 0x10),
	  PKT_V6(0xfd00, 0x244, 9, 0, 0, 0, 0, 9) },
};

static void addr_to_xlb(union xlb_addr *a, const struct pkt_addr *p, int f)
{
	memset(a, 0, sizeof(*a));
	memcpy(a, p->b, f == 4 ? 4 : 16);
}

static __u8 xfam(int f) { return f == 4 ? XLB_AF_INET : XLB_AF_INET6; }

static int put_svc(const struct pkt_addr *vip, int f, __u16 port,
		   __u8 proto, __u32 id, __u32 ring_off, __u32 kind)
{
	struct xlb_vip_key k = {};
	struct xlb_svc v = {};

	addr_to_xlb(&k.addr, vip, f);
	k.port = htons(port);
	k.proto = proto;
	k.family = xfam(f);
	v.svc_id = id;
	v.ring_off = ring_off;
	v.ring_size = 2;
	v.flags = kind | XLB_SVC_F_DSR;
	return bpf_map_update_elem(bt_dp.maps.svc, &k, &v, BPF_ANY);
}

/* The world of family fa: A -> remote BE_A, B -> local BE_B, both on
 * TCP 80 and UDP 53, backends on 8080 / 5353 (UDP: ids + 2); id 5: the
 * NodePort 30080 on this node's address (fa->node), to BE_B. */
static int world(const struct fam *fa)
{
	struct xlb_snat_addrs sa = {};
	struct xlb_port_use u = { 1, 1 };
	__u32 i, zero = 0, ports[] = { 80, 53, 8080, 5353, 30080 };
	int err = 0;

	for (i = 0; i < 5 && !err; i++) {
		struct xlb_backend b = {};
		struct xlb_ring_pair r;
		__u32 id = i + 1, udp = i == 2 || i == 3, np = i == 4;

		addr_to_xlb(&b.addr, i & 1 || np ? &fa->be_b : &fa->be_a, fa->f);
		b.port = htons(udp ? 5353 : 8080);
		b.family = xfam(fa->f);
		b.state = XLB_BE_ACTIVE;
		b.svc_id = id;
		b.weight = 1;
		b.flags = i & 1 || np ? XLB_BE_F_LOCAL : 0;
		r.id[0] = r.id[1] = id;
		err = bpf_map_update_elem(bt_dp.maps.backends, &id, &b, BPF_ANY) ?:
		      bpf_map_update_elem(bt_dp.maps.rings, &i, &r, BPF_ANY) ?:
		      (np ? put_svc(&fa->node, fa->f, 30080, IPPROTO_TCP, id,
				    2 * i, XLB_FE_NODE_PORT) :
			    put_svc(i & 1 ? &fa->vip_b : &fa->vip_a, fa->f,
				    udp ? 53 : 80,
				    udp ? IPPROTO_UDP : IPPROTO_TCP, id, 2 * i,
				    XLB_FE_LOAD_BALANCER));
	}
	for (i = 0; i < 5 && !err; i++)
		err = bpf_map_update_elem(bt_dp.maps.ports, &ports[i], &u, BPF_ANY);
	if (!err) {
		bpf_map_lookup_elem(bt_dp.maps.snat_addrs, &zero, &sa);
		addr_to_xlb(fa->f == 4 ? &sa.v4 : &sa.v6, &fa->node, fa->f);
		err = bpf_map_update_elem(bt_dp.maps.snat_addrs, &zero, &sa, BPF_ANY);
	}
	return err ? -errno : 0;
}

static long long stat_of(__u32 i)
{
	int n = libbpf_num_possible_cpus();
	struct xlb_counter c[n > 0 ? n : 1];
	long long t = 0;
	int j;

	if (n <= 0 || bpf_map_lookup_elem(bt_dp.maps.stats, &i, c))
		return -1;
	for (j = 0; j < n; j++)
		t += c[j].packets;
	return t;
}

static int run(int which, const __u8 *in, size_t len, __u8 *out, size_t cap,
	       __u32 *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = cap, .repeat = 1);
	int fd = which ? bpf_program__fd(bt_tc->progs.xlb_tc) :
			 bpf_program__fd(bt_xdp->progs.xlb_xdp);

	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	*ret = o.retval;
	return (int)o.data_size_out;
}

/* An outer header from src to dst around inner (a frame of ilen bytes,
 * its IP header at 14) into out, built here from the RFCs: returns the
 * frame's length. */
static size_t encap(const struct fam *fa, const struct pkt_addr *src,
		    const struct pkt_addr *dst, const struct pkt_spec *is,
		    const __u8 *inner, size_t ilen, __u8 *out)
{
	size_t room = fa->f == 4 ? 20 : 40, l3 = ilen - 14;
	__u8 *h = out + 14;

	memcpy(out, inner, 14);
	memset(h, 0, room);
	if (fa->f == 4) {
		h[0] = 0x45;
		h[1] = inner[15];
		h[2] = (l3 + 20) >> 8;
		h[3] = (l3 + 20) & 0xff;
		h[6] = 0x40;	/* DF */
		h[8] = 64;
		h[9] = 4;	/* IPIP */
		memcpy(h + 12, src->b, 4);
		memcpy(h + 16, dst->b, 4);
		__u16 c = pkt_fold(pkt_sum(h, 20, 0));
		h[10] = c >> 8;
		h[11] = c & 0xff;
	} else {
		__be32 sa[4], da[4];
		__u32 fl, tc = (inner[14] & 0xf) << 4 | inner[15] >> 4;

		memcpy(sa, is->saddr.b, 16);
		memcpy(da, is->daddr.b, 16);
		fl = xlb_flow_hash6(sa, da, htons(is->sport), htons(is->dport),
				    is->proto) & 0xfffff;
		h[0] = 0x60 | tc >> 4;
		h[1] = (tc & 0xf) << 4 | fl >> 16;
		h[2] = fl >> 8;
		h[3] = fl & 0xff;
		h[4] = l3 >> 8;
		h[5] = l3 & 0xff;
		h[6] = 41;
		h[7] = 64;
		memcpy(h + 8, src->b, 16);
		memcpy(h + 24, dst->b, 16);
	}
	memcpy(h + room, inner + 14, l3);
	return 14 + room + l3;
}

/* The TCP checksum of a frame (IP at 14, L4 at l4), from scratch. */
static void tcp_csum(__u8 *b, size_t len, size_t l4, int f)
{
	__u32 sum = 0, tl = len - l4;
	__u8 ph[4] = { 0, 0, 0, IPPROTO_TCP };

	b[l4 + 16] = b[l4 + 17] = 0;
	sum = f == 4 ? pkt_sum(b + 14 + 12, 8, 0) : pkt_sum(b + 14 + 8, 32, 0);
	sum = pkt_sum(ph, 4, sum) + (tl >> 16) + (tl & 0xffff);
	sum = pkt_sum(b + l4, tl, sum);
	__u16 c = pkt_fold(sum);
	b[l4 + 16] = c >> 8;
	b[l4 + 17] = c & 0xff;
}

struct want {
	__u32 verdict;
	int stat;		/* the outcome that grows by one */
	int event;		/* and this event, or -1 */
};

static void check(int which, const char *what, const __u8 *in, size_t len,
		  const __u8 *exp, size_t elen, struct want w)
{
	static __u8 out[PKT_MAX_LEN + 128];
	long long s0 = stat_of(w.stat), e0 = w.event >= 0 ? stat_of(w.event) : 0;
	__u32 ret = 0;
	int n = run(which, in, len, out, sizeof(out), &ret);

	if (!ASSERT_TRUE(n >= 0, "%s: test run", what))
		return;
	ASSERT_EQ(ret, w.verdict, "%s: verdict", what);
	ASSERT_EQ(stat_of(w.stat) - s0, 1, "%s: its outcome counted", what);
	if (w.event >= 0)
		ASSERT_EQ(stat_of(w.event) - e0, 1, "%s: its event counted", what);
	if (!exp)
		return;
	if (ASSERT_EQ((size_t)n, elen, "%s: length", what))
		ASSERT_TRUE(!memcmp(out, exp, elen), "%s: every byte as expected", what);
}

#define MACS .dmac = { 2, 0, 0, 0, 0, 1 }, .smac = { 2, 0, 0, 0, 0, 2 }

/* Packet in (client -> frontend) arrives encapsulated to BE_B: it must
 * leave decapsulated and DNATed to BE_B:port, and BE_B's reply (a SYN-ACK
 * for TCP, without options) from in's destination. */
static void decap_reply(int which, const struct fam *fa,
			const struct pkt_spec *in, __u16 port, const char *what)
{
	const __u32 pass = which ? TC_ACT_OK : XDP_PASS;
	static __u8 a[PKT_MAX_LEN + 64], b[PKT_MAX_LEN + 64], e[PKT_MAX_LEN + 64];
	struct pkt_spec d = *in;
	struct pkt_layout l;
	char w[160];
	size_t n, m;

	n = pkt_build(in, b, sizeof(b), &l);
	m = encap(fa, &fa->other, &fa->be_b, in, b, n, a);
	d.daddr = fa->be_b;
	d.dport = port;
	n = pkt_build(&d, e, sizeof(e), &l);
	snprintf(w, sizeof(w), "%s: outer header off, DNATed", what);
	check(which, w, a, m, e, n,
	      (struct want){ pass, XLB_STAT_DSR_DECAP, XLB_STAT_CT_NEW });
	d.saddr = fa->be_b;
	d.sport = port;
	d.daddr = in->saddr;
	d.dport = in->sport;
	d.tcp_flags = in->proto == IPPROTO_TCP ? 0x12 : 0;
	n = pkt_build(&d, a, sizeof(a), &l);
	d.saddr = in->daddr;
	d.sport = in->dport;
	m = pkt_build(&d, e, sizeof(e), &l);
	snprintf(w, sizeof(w), "%s: the reply leaves from the frontend the client sent to",
		 what);
	check(which, w, a, n, e, m, (struct want){ pass, XLB_STAT_RNAT, -1 });
}

static void run_family(int which, const struct fam *fa)
{
	const __u32 pass = which ? TC_ACT_OK : XDP_PASS;
	const __u32 drop = which ? TC_ACT_SHOT : XDP_DROP;
	static __u8 a[PKT_MAX_LEN + 64], b[PKT_MAX_LEN + 64], e[PKT_MAX_LEN + 64];
	struct pkt_layout la, lb;
	struct pkt_spec s = { MACS, .family = fa->f, .saddr = fa->cli,
			      .daddr = fa->vip_a, .proto = IPPROTO_TCP,
			      .sport = 41000, .dport = 80, .tcp_flags = 0x02,
			      .tcpopt_len = 4, .tos = 0xb8 };
	size_t n, m, room = fa->f == 4 ? 20 : 40;
	int clamp = MTU - (fa->f == 4 ? 40 : 80) - 20;

	/* First node. */
	n = pkt_build(&s, a, sizeof(a), &la);
	m = encap(fa, &fa->node, &fa->be_a, &s, a, n, e);
	check(which, "A: SYN leaves encapsulated to the backend, unchanged inside",
	      a, n, e, m, (struct want){ pass, XLB_STAT_DSR_ENCAP, XLB_STAT_CT_NEW });
	s.tcp_flags = 0x10;
	s.tcpopt_len = 0;
	s.payload_len = 100;
	n = pkt_build(&s, a, sizeof(a), &la);
	m = encap(fa, &fa->node, &fa->be_a, &s, a, n, e);
	check(which, "A: a later segment too (its conntrack entry)", a, n, e, m,
	      (struct want){ pass, XLB_STAT_DSR_ENCAP, -1 });
	s.payload_len = 1500 - (fa->f == 4 ? 40 : 60) - (int)room + 1;
	n = pkt_build(&s, a, sizeof(a), &la);
	check(which, "A: a segment that fits the MTU only unencapsulated is dropped",
	      a, n, NULL, 0, (struct want){ drop, XLB_STAT_DSR_TOO_BIG, -1 });
	s.payload_len -= 1;
	n = pkt_build(&s, a, sizeof(a), &la);
	m = encap(fa, &fa->node, &fa->be_a, &s, a, n, e);
	check(which, "A: one byte less fits", a, n, e, m,
	      (struct want){ pass, XLB_STAT_DSR_ENCAP, -1 });
	{
		struct pkt_spec u = { MACS, .family = fa->f, .saddr = fa->cli,
				      .daddr = fa->vip_a, .proto = IPPROTO_UDP,
				      .sport = 41001, .dport = 53,
				      .payload_len = 30 };

		n = pkt_build(&u, a, sizeof(a), &la);
		m = encap(fa, &fa->node, &fa->be_a, &u, a, n, e);
		check(which, "A: a UDP datagram leaves encapsulated", a, n, e, m,
		      (struct want){ pass, XLB_STAT_DSR_ENCAP, XLB_STAT_CT_NEW });
	}

	/* The backend's node. */
	s.daddr = fa->vip_b;
	s.tcp_flags = 0x02;
	s.tcpopt_len = 4;
	s.payload_len = 0;
	s.sport = 41002;
	n = pkt_build(&s, b, sizeof(b), &lb);
	m = encap(fa, &fa->other, &fa->be_b, &s, b, n, a);
	{
		struct pkt_spec d = s;

		d.daddr = fa->be_b;
		d.dport = 8080;
		n = pkt_build(&d, e, sizeof(e), &lb);
	}
	check(which, "B: SYN to the local backend: outer header off, DNATed",
	      a, m, e, n, (struct want){ pass, XLB_STAT_DSR_DECAP, XLB_STAT_CT_NEW });
	{
		struct pkt_spec r = { MACS, .family = fa->f, .saddr = fa->be_b,
				      .daddr = fa->cli, .proto = IPPROTO_TCP,
				      .sport = 8080, .dport = 41002,
				      .tcp_flags = 0x12, .tcpopt_len = 8 };
		struct pkt_spec x = r;

		n = pkt_build(&r, a, sizeof(a), &la);
		x.saddr = fa->vip_b;
		x.sport = 80;
		m = pkt_build(&x, e, sizeof(e), &lb);
		e[lb.l4 + 22] = clamp >> 8;
		e[lb.l4 + 23] = clamp & 0xff;
		tcp_csum(e, m, lb.l4, fa->f);
		check(which, "B: the backend's SYN-ACK leaves from the frontend, MSS lowered",
		      a, n, e, m,
		      (struct want){ pass, XLB_STAT_RNAT, XLB_STAT_DSR_MSS_CLAMP });
	}
	{
		struct pkt_spec u = { MACS, .family = fa->f, .saddr = fa->cli,
				      .daddr = fa->vip_b, .proto = IPPROTO_UDP,
				      .sport = 41004, .dport = 53,
				      .payload_len = 30 };
		/* Another node's NodePort: this node's own NodePort frontend
		 * serves it, and the reply leaves from that node's address. */
		struct pkt_spec t = { MACS, .family = fa->f, .saddr = fa->cli,
				      .daddr = fa->other, .proto = IPPROTO_TCP,
				      .sport = 41005, .dport = 30080,
				      .tcp_flags = 0x02 };

		decap_reply(which, fa, &u, 5353, "B: a UDP datagram");
		decap_reply(which, fa, &t, 8080, "another node's NodePort");
	}
	/* Not DSR: to no frontend, untouched; to B but not to the backend
	 * this node picks, dropped. */
	s.daddr = fa->other;
	s.sport = 41003;
	n = pkt_build(&s, b, sizeof(b), &lb);
	m = encap(fa, &fa->node, &fa->be_b, &s, b, n, a);
	check(which, "a tunnelled packet to no frontend passes untouched", a, m,
	      a, m, (struct want){ pass, XLB_STAT_UNSUPPORTED, -1 });
	s.daddr = fa->vip_b;
	n = pkt_build(&s, b, sizeof(b), &lb);
	m = encap(fa, &fa->node, &fa->other, &s, b, n, a);
	check(which, "a tunnelled packet to B whose outer destination is not its backend is dropped",
	      a, m, NULL, 0, (struct want){ drop, XLB_STAT_DSR_MISMATCH, -1 });
}

int main(void)
{
	static const char *const names[2][2] = { { "xdp/v4", "xdp/v6" },
						 { "tc/v4", "tc/v6" } };
	int which, i;

	/* The test runs' device is this namespace's loopback: MTU 1500. */
	if (!ASSERT_EQ(unshare(CLONE_NEWNET), 0, "own network namespace (%s)",
		       strerror(errno)) ||
	    !ASSERT_EQ(system("ip link set lo mtu 1500 up"), 0, "loopback MTU 1500"))
		return test_done();
	if (!ASSERT_EQ(bt_load(), 0, "load both programs"))
		return test_done();
	for (which = 0; which < 2; which++) {
		for (i = 0; i < 2; i++) {
			if (!TEST_SUB(names[which][i]))
				continue;
			/* Each sub-run's flows are new to it. */
			struct xlb_ct_key k, nk;

			while (!bpf_map_get_next_key(bt_dp.maps.ct, NULL, &nk)) {
				k = nk;
				bpf_map_delete_elem(bt_dp.maps.ct, &k);
			}
			if (ASSERT_EQ(world(&fams[i]), 0, "maps"))
				run_family(which, &fams[i]);
		}
	}
	TEST_SUB_END();
	bt_unload();
	return test_done();
}
