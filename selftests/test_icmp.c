// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ICMP errors about balanced flows: an error from the backend (or from a
 * router on its path) quotes the client's packet as client -> backend; the
 * datapath restores the quote to client -> VIP (and the outer source when
 * the backend reports itself), so the client's stack matches it to its
 * socket. Packets are built here byte by byte; every checksum of the
 * output is verified from scratch. Both programs, IPv4 and IPv6, UDP and
 * TCP quotes, errors about unknown flows untouched.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <xlb/abi.h>

#include "bpftest.h"
#include "pkt.h"
#include "testlib.h"

static const struct pkt_addr cli4 = PKT_V4(10, 10, 0, 1);
static const struct pkt_addr vip4 = PKT_V4(10, 96, 5, 1);
static const struct pkt_addr be4 = PKT_V4(10, 20, 0, 12);
static const struct pkt_addr rtr4 = PKT_V4(10, 20, 0, 254);
static const struct pkt_addr cli6 = PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1);
static const struct pkt_addr vip6 = PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 5, 1);
static const struct pkt_addr be6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x12);
static const struct pkt_addr rtr6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 0xfe);


/* The flow's reverse conntrack entry, as the datapath writes it. */
static void track(int family, int proto, const struct pkt_addr *be,
		  uint16_t bport, const struct pkt_addr *cli, uint16_t cport,
		  const struct pkt_addr *vip, uint16_t vport)
{
	size_t alen = family == 4 ? 4 : 16;
	struct xlb_ct_key k = { .sport = htons(bport), .dport = htons(cport),
				.proto = proto, .dir = XLB_CT_REV,
				.family = family == 4 ? XLB_AF_INET :
							XLB_AF_INET6 };
	struct xlb_ct_val v = { .nat_port = htons(vport), .svc_id = 1,
				.backend_id = 1 };

	memcpy(k.saddr.bytes, be->b, alen);
	memcpy(k.daddr.bytes, cli->b, alen);
	memcpy(v.nat_addr.bytes, vip->b, alen);
	bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_ct), &k, &v, BPF_ANY);
}

/* The flow's client entry, as the datapath writes it, and its backend
 * (id 1 for IPv4, 2 for IPv6) in xlb_backends. */
static void track_client(int family, int proto, const struct pkt_addr *cli,
			 uint16_t cport, const struct pkt_addr *vip,
			 uint16_t vport, const struct pkt_addr *be,
			 uint16_t bport)
{
	size_t alen = family == 4 ? 4 : 16;
	__u8 fam = family == 4 ? XLB_AF_INET : XLB_AF_INET6;
	__u32 id = family == 4 ? 1 : 2;
	struct xlb_ct_key k = { .sport = htons(cport), .proto = proto,
				.dir = XLB_CT_CLIENT, .family = fam };
	struct xlb_ct_val v = { .nat_port = htons(vport), .svc_id = 1,
				.backend_id = id };
	struct xlb_backend b = { .port = htons(bport), .family = fam,
				 .state = XLB_BE_ACTIVE, .svc_id = 1 };

	memcpy(k.saddr.bytes, cli->b, alen);
	memcpy(v.nat_addr.bytes, vip->b, alen);
	memcpy(b.addr.bytes, be->b, alen);
	bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_backends), &id, &b,
			    BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_ct), &k, &v, BPF_ANY);
}

static void ct_flush(void)
{
	int fd = bpf_map__fd(bt_xdp->maps.xlb_ct);
	struct xlb_ct_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

/* Which entry the flows of the cases have. */
static const char *shape = "reverse entry";

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* An IP header (no checksum for v6) of total payload plen. */
static size_t ip_hdr(uint8_t *p, int family, const struct pkt_addr *src,
		     const struct pkt_addr *dst, uint8_t proto, size_t plen)
{
	if (family == 4) {
		memset(p, 0, 20);
		p[0] = 0x45;
		put16(p + 2, 20 + plen);
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, src->b, 4);
		memcpy(p + 16, dst->b, 4);
		put16(p + 10, pkt_fold(pkt_sum(p, 20, 0)));
		return 20;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, plen);
	p[6] = proto;
	p[7] = 64;
	memcpy(p + 8, src->b, 16);
	memcpy(p + 24, dst->b, 16);
	return 40;
}

static uint32_t pseudo(int family, const uint8_t *ip, size_t len,
		       uint8_t proto)
{
	uint8_t ph[4] = { 0, proto, len >> 8, len & 0xff };
	uint32_t s = family == 4 ? pkt_sum(ip + 12, 8, 0) :
				   pkt_sum(ip + 8, 32, 0);

	return pkt_sum(ph, 4, s);
}

/*
 * An ICMP error from src to dst quoting the packet qsrc:qsport ->
 * qdst:qdport of protocol qproto, with qlen bytes of its L4 header and
 * payload (8 for the minimum). Returns the frame length.
 */
static size_t icmp_error(uint8_t *buf, int family, uint8_t type, uint8_t code,
			 const struct pkt_addr *src, const struct pkt_addr *dst,
			 uint8_t qproto, const struct pkt_addr *qsrc,
			 uint16_t qsport, const struct pkt_addr *qdst,
			 uint16_t qdport, size_t qlen)
{
	uint8_t *ip = buf + 14, *icmp, *q, *ql4;
	size_t ihl = family == 4 ? 20 : 40, full = 20 + 16, i, qihl;
	uint8_t iproto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	memset(buf, 0, 14);
	buf[5] = 1;
	buf[11] = 2;
	put16(buf + 12, family == 4 ? 0x0800 : 0x86dd);
	icmp = ip + ihl;
	memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	if (type == 2 && family == 6)
		put16(icmp + 6, 1280); /* MTU */
	if (type == 3 && code == 4 && family == 4)
		put16(icmp + 6, 1400); /* next-hop MTU */
	/* The quoted packet as the backend saw it; its own checksums right. */
	q = icmp + 8;
	qihl = ip_hdr(q, family, qsrc, qdst, qproto, full);
	ql4 = q + qihl;
	memset(ql4, 0, full);
	put16(ql4, qsport);
	put16(ql4 + 2, qdport);
	for (i = 8; i < full; i++)
		ql4[i] = 0x40 + i;
	if (qproto == IPPROTO_UDP) {
		put16(ql4 + 4, full);
		put16(ql4 + 6, pkt_fold(pkt_sum(ql4, full,
						pseudo(family, q, full, qproto))));
	} else {
		ql4[12] = 0x50;
		put16(ql4 + 16, 0);
		put16(ql4 + 16, pkt_fold(pkt_sum(ql4, full,
						 pseudo(family, q, full, qproto))));
	}
	/* Quote qlen bytes of it. */
	ip_hdr(ip, family, src, dst, iproto, 8 + qihl + qlen);
	put16(icmp + 2, 0);
	put16(icmp + 2, pkt_fold(pkt_sum(icmp, 8 + qihl + qlen,
					 family == 4 ? 0 :
					 pseudo(6, ip, 8 + qihl + qlen, iproto))));
	return 14 + ihl + 8 + qihl + qlen;
}


struct icmp_case {
	const char *what;
	int family;
	uint8_t type, code, qproto;
	bool from_router;	/* else from the backend itself */
	size_t qlen;		/* quoted L4 bytes */
};

static void check_case(int which, const struct icmp_case *c)
{
	const char *w = which ? "tc" : "xdp";
	int f = c->family;
	const struct pkt_addr *cli = f == 4 ? &cli4 : &cli6;
	const struct pkt_addr *vip = f == 4 ? &vip4 : &vip6;
	const struct pkt_addr *be = f == 4 ? &be4 : &be6;
	const struct pkt_addr *src = c->from_router ? (f == 4 ? &rtr4 : &rtr6) : be;
	const struct pkt_addr *osrc = c->from_router ? src : vip;
	uint8_t in[512], out[512], want[512];
	size_t len, wlen;
	__u32 ret;
	int n;

	len = icmp_error(in, f, c->type, c->code, src, cli, c->qproto, cli,
			 40100, be, 8080, c->qlen);
	/* The same error as if it had been about client -> VIP, from osrc:
	 * built from scratch, every checksum computed afresh. */
	wlen = icmp_error(want, f, c->type, c->code, osrc, cli, c->qproto,
			  cli, 40100, vip, 80, c->qlen);
	n = bt_run(which, in, len, out, &ret);
	ASSERT_EQ(ret, which ? TC_ACT_OK : XDP_PASS, "%s: %s (%s): passed on",
		  w, c->what, shape);
	ASSERT_EQ(n, wlen, "%s: %s (%s): length", w, c->what, shape);
	ASSERT_MEM_EQ(out, want, wlen,
		      "%s: %s (%s): equals the error about the VIP", w, c->what,
		      shape);
}

int main(void)
{
	static const struct icmp_case cases[] = {
		{ "v4 port unreachable from the backend, UDP quote", 4, 3, 3,
		  IPPROTO_UDP, false, 8 },
		{ "v4 fragmentation needed from a router, TCP quote", 4, 3, 4,
		  IPPROTO_TCP, true, 8 },
		{ "v4 fragmentation needed from a router, TCP quote with its checksum",
		  4, 3, 4, IPPROTO_TCP, true, 36 },
		{ "v4 time exceeded from a router, UDP quote with its checksum",
		  4, 11, 0, IPPROTO_UDP, true, 36 },
		{ "v6 packet too big from a router, TCP quote", 6, 2, 0,
		  IPPROTO_TCP, true, 36 },
		{ "v6 port unreachable from the backend, UDP quote", 6, 1, 4,
		  IPPROTO_UDP, false, 36 },
		{ "v6 packet too big from the backend, 8-byte quote", 6, 2, 0,
		  IPPROTO_UDP, false, 8 },
	};
	uint8_t in[512], out[512];
	size_t i, len;
	__u32 ret;
	int w;

	if (!ASSERT_EQ(bt_load(), 0, "load XDP and tc programs"))
		return test_done();
	track(4, IPPROTO_UDP, &be4, 8080, &cli4, 40100, &vip4, 80);
	track(4, IPPROTO_TCP, &be4, 8080, &cli4, 40100, &vip4, 80);
	track(6, IPPROTO_UDP, &be6, 8080, &cli6, 40100, &vip6, 80);
	track(6, IPPROTO_TCP, &be6, 8080, &cli6, 40100, &vip6, 80);
	for (w = 0; w < 2; w++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			check_case(w, &cases[i]);
		/* An error about a flow xlb does not know: untouched. */
		len = icmp_error(in, 4, 3, 3, &be4, &cli4, IPPROTO_UDP, &cli4,
				 40999, &be4, 8080, 8);
		bt_run(w, in, len, out, &ret);
		ASSERT_MEM_EQ(out, in, len, "%s: error about an unknown flow untouched",
			      w ? "tc" : "xdp");
		/* An echo request is no error: untouched. */
		len = icmp_error(in, 4, 8, 0, &be4, &cli4, IPPROTO_UDP, &cli4,
				 40100, &be4, 8080, 8);
		bt_run(w, in, len, out, &ret);
		ASSERT_MEM_EQ(out, in, len, "%s: ICMP echo untouched",
			      w ? "tc" : "xdp");
	}

	/* The same errors about flows that have their client's entry (the
	 * normal case): found through the quoted client, checked against
	 * the backend the entry names. */
	ct_flush();
	shape = "client entry";
	track_client(4, IPPROTO_UDP, &cli4, 40100, &vip4, 80, &be4, 8080);
	track_client(4, IPPROTO_TCP, &cli4, 40100, &vip4, 80, &be4, 8080);
	track_client(6, IPPROTO_UDP, &cli6, 40100, &vip6, 80, &be6, 8080);
	track_client(6, IPPROTO_TCP, &cli6, 40100, &vip6, 80, &be6, 8080);
	for (w = 0; w < 2; w++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			check_case(w, &cases[i]);
		/* About the client's port, but to another port of the
		 * backend than its entry names: not that flow. */
		len = icmp_error(in, 4, 3, 3, &be4, &cli4, IPPROTO_UDP, &cli4,
				 40100, &be4, 8081, 8);
		bt_run(w, in, len, out, &ret);
		ASSERT_MEM_EQ(out, in, len,
			      "%s: error about another backend port of a tracked client port untouched",
			      w ? "tc" : "xdp");
	}
	bt_unload();
	return test_done();
}
