// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ICMP errors about balanced flows: an error from the backend (or from a
 * router on its path) quotes the client's packet as client -> backend; the
 * datapath restores the quote to client -> VIP (and the outer source when
 * the backend reports itself), so the client's stack matches it to its
 * socket. Packets come from pkt.c's ICMP-error builder (the quote nested
 * in the error, every checksum computed from scratch), and the output is
 * compared with the error about the VIP built the same way. Both
 * programs, IPv4 and IPv6, UDP and TCP quotes, both conntrack shapes,
 * errors about unknown flows untouched. About a source-NATed flow the
 * error comes to the node quoting node:port -> backend, and leaves as the
 * same error about client -> VIP, to the client.
 */
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
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
/* The node's source NAT address, and the port the flow got. */
static const struct pkt_addr node4 = PKT_V4(10, 20, 0, 1);
static const struct pkt_addr node6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 1);
#define NODE_PORT 61234

/* A source-NATed flow's reverse entry (its port's reservation), as the
 * datapath writes it. */
static void track_snat(int family, int proto, const struct pkt_addr *be,
		       const struct pkt_addr *node, const struct pkt_addr *cli,
		       const struct pkt_addr *vip)
{
	size_t alen = family == 4 ? 4 : 16;
	struct xlb_ct_key k = { .sport = htons(8080), .dport = htons(NODE_PORT),
				.proto = proto, .dir = XLB_CT_REV,
				.family = family == 4 ? XLB_AF_INET :
							XLB_AF_INET6 };
	struct xlb_ct_val v = { .nat_port = htons(80), .svc_id = 1,
				.backend_id = 1, .flags = XLB_CT_F_SNAT,
				.snat_port = htons(40100) };

	memcpy(k.saddr.bytes, be->b, alen);
	memcpy(k.daddr.bytes, node->b, alen);
	memcpy(v.nat_addr.bytes, vip->b, alen);
	memcpy(v.snat_addr.bytes, cli->b, alen);
	bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_ct), &k, &v, BPF_ANY);
}

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

/* Which shapes of conntrack entry a case runs with. */
enum {
	REV = 1 << 0,		/* the flow's reverse entry */
	CLI = 1 << 1,		/* its client entry (the normal case) */
	SNAT = 1 << 2,		/* source-NATed: its port's reverse entry */
};

struct icmp_case {
	const char *what;
	int shapes;		/* REV | CLI */
	int family;
	uint8_t type, code, qproto;
	uint32_t mtu;		/* of frag needed / packet too big */
	bool from_router;	/* else from the backend itself */
	size_t qlen;		/* quoted L4 bytes */
	/* Errors the datapath must leave alone (checked byte for byte):
	 * about the quoted client port cport (0: the flow's 40100) and
	 * backend port bport (0: the flow's 8080). */
	bool untouched;
	uint16_t cport, bport;
};

static const struct icmp_case cases[] = {
	{ "v4 port unreachable from the backend, UDP quote", REV | CLI | SNAT, 4,
	  ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_UDP, 0, false, 8 },
	{ "v4 fragmentation needed from a router, TCP quote", REV | CLI, 4,
	  ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, IPPROTO_TCP, 1400, true, 8 },
	{ "v4 fragmentation needed from a router, TCP quote with its checksum",
	  REV | CLI | SNAT, 4, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, IPPROTO_TCP, 1400,
	  true, 36 },
	{ "v4 time exceeded from a router, UDP quote with its checksum",
	  REV | CLI | SNAT, 4, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, IPPROTO_UDP, 0, true,
	  36 },
	{ "v6 packet too big from a router, TCP quote", REV | CLI | SNAT, 6,
	  ICMP6_PACKET_TOO_BIG, 0, IPPROTO_TCP, 1280, true, 36 },
	{ "v6 port unreachable from the backend, UDP quote", REV | CLI | SNAT, 6,
	  ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, IPPROTO_UDP, 0, false,
	  36 },
	{ "v6 packet too big from the backend, 8-byte quote", REV | CLI | SNAT, 6,
	  ICMP6_PACKET_TOO_BIG, 0, IPPROTO_UDP, 1280, false, 8 },
	{ "error about an unknown flow untouched", REV | SNAT, 4,
	  ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_UDP, 0, false, 8, true,
	  40999 },
	/* Its body quotes a tracked flow, but an echo is no error. */
	{ "ICMP echo untouched", REV, 4, ICMP_ECHO, 0, IPPROTO_UDP, 0, false,
	  8, true },
	/* About the client's port, but to another port of the backend than
	 * its entry names: not that flow. */
	{ "error about another backend port of a tracked client port untouched",
	  CLI, 4, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_UDP, 0, false,
	  8, true, 0, 8081 },
};

/*
 * Case c's error from src to cli (the client, or the node of a
 * source-NATed flow), quoting cli:cport's packet to qdst:qport: 36 bytes
 * of L4 header and payload, of which c->qlen are quoted. Returns the
 * frame length.
 */
static size_t build(uint8_t *buf, const struct icmp_case *c,
		    const struct pkt_addr *src, const struct pkt_addr *cli,
		    uint16_t cport, const struct pkt_addr *qdst, uint16_t qport)
{
	struct pkt_spec outer = {
		.dmac = { 0, 0, 0, 0, 0, 1 }, .smac = { 0, 0, 0, 0, 0, 2 },
		.family = c->family, .saddr = *src, .daddr = *cli,
	};
	struct pkt_spec inner = {
		.family = c->family, .saddr = *cli, .daddr = *qdst,
		.proto = c->qproto, .sport = c->cport ? c->cport : cport,
		.dport = qport, .payload_seed = 0x48,
		.payload_len = c->qproto == IPPROTO_TCP ? 36 - 20 : 36 - 8,
	};
	struct pkt_icmp_err e = { c->type, c->code, c->mtu, c->qlen };

	return pkt_build_icmp_err(&outer, &e, &inner, buf, 512, NULL);
}

static void check_case(int which, const struct icmp_case *c, bool snat)
{
	int f = c->family;
	const struct pkt_addr *cli = f == 4 ? &cli4 : &cli6;
	const struct pkt_addr *node = f == 4 ? &node4 : &node6;
	const struct pkt_addr *vip = f == 4 ? &vip4 : &vip6;
	const struct pkt_addr *be = f == 4 ? &be4 : &be6;
	const struct pkt_addr *src = c->from_router ? (f == 4 ? &rtr4 : &rtr6) : be;
	const struct pkt_addr *osrc = c->from_router ? src : vip;
	uint8_t in[512], out[512], want[512];
	size_t len, wlen;
	__u32 ret;
	int n;

	len = build(in, c, src, snat ? node : cli, snat ? NODE_PORT : 40100,
		    be, c->bport ? c->bport : 8080);
	if (c->untouched) {
		bt_run(which, in, len, out, &ret);
		ASSERT_MEM_EQ(out, in, len, "%s", c->what);
		return;
	}
	/* The same error as if it had been about client -> VIP, from osrc:
	 * built from scratch, every checksum computed afresh. */
	wlen = build(want, c, osrc, cli, 40100, vip, 80);
	n = bt_run(which, in, len, out, &ret);
	ASSERT_EQ(ret, which ? TC_ACT_OK : XDP_PASS, "%s: passed on", c->what);
	ASSERT_EQ(n, wlen, "%s: length", c->what);
	ASSERT_MEM_EQ(out, want, wlen, "%s: equals the error about the VIP",
		      c->what);
}

/* Every case of shape through both programs, as sub-runs "<shape>/xdp"
 * and "<shape>/tc". */
static void run_shape(int shape, const char *name)
{
	static const char *const prog[] = { "xdp", "tc" };
	char sub[32];
	size_t i;
	int w;

	for (w = 0; w < 2; w++) {
		snprintf(sub, sizeof(sub), "%s/%s", name, prog[w]);
		if (!TEST_SUB(sub))
			continue;
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (cases[i].shapes & shape)
				check_case(w, &cases[i], shape == SNAT);
	}
	TEST_SUB_END();
}

int main(void)
{
	if (!ASSERT_EQ(bt_load(), 0, "load XDP and tc programs"))
		return test_done();
	track(4, IPPROTO_UDP, &be4, 8080, &cli4, 40100, &vip4, 80);
	track(4, IPPROTO_TCP, &be4, 8080, &cli4, 40100, &vip4, 80);
	track(6, IPPROTO_UDP, &be6, 8080, &cli6, 40100, &vip6, 80);
	track(6, IPPROTO_TCP, &be6, 8080, &cli6, 40100, &vip6, 80);
	run_shape(REV, "reverse entry");

	/* The same errors about flows that have their client's entry (the
	 * normal case): found through the quoted client, checked against
	 * the backend the entry names. */
	ct_flush();
	track_client(4, IPPROTO_UDP, &cli4, 40100, &vip4, 80, &be4, 8080);
	track_client(4, IPPROTO_TCP, &cli4, 40100, &vip4, 80, &be4, 8080);
	track_client(6, IPPROTO_UDP, &cli6, 40100, &vip6, 80, &be6, 8080);
	track_client(6, IPPROTO_TCP, &cli6, 40100, &vip6, 80, &be6, 8080);
	run_shape(CLI, "client entry");

	/* About source-NATed flows: found through the node's port. */
	ct_flush();
	track_snat(4, IPPROTO_UDP, &be4, &node4, &cli4, &vip4);
	track_snat(4, IPPROTO_TCP, &be4, &node4, &cli4, &vip4);
	track_snat(6, IPPROTO_UDP, &be6, &node6, &cli6, &vip6);
	track_snat(6, IPPROTO_TCP, &be6, &node6, &cli6, &vip6);
	run_shape(SNAT, "source NAT");
	bt_unload();
	return test_done();
}
