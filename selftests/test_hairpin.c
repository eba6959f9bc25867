// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Hairpin: a backend that reaches its own service and is balanced to
 * itself gets its source rewritten to the node's hairpin address (it
 * would otherwise answer itself directly and never through the VIP), and
 * the reply is turned back into VIP -> backend. Other clients' flows keep
 * their source. Both programs, IPv4 and IPv6; expected packets built from
 * scratch.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <xlb/abi.h>

#include "pkt.h"
#include "testlib.h"
#include "xdp_lb.skel.h"
#include "tc_lb.skel.h"

static struct xlb_xdp_lb *xdp;
static struct xlb_tc_lb *tc;

static const struct pkt_addr vip4 = PKT_V4(10, 96, 3, 1);
static const struct pkt_addr be4 = PKT_V4(10, 20, 0, 11);
static const struct pkt_addr hp4 = PKT_V4(10, 20, 0, 2);
static const struct pkt_addr cli4 = PKT_V4(10, 10, 0, 1);
static const struct pkt_addr vip6 = PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 3, 1);
static const struct pkt_addr be6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x11);
static const struct pkt_addr hp6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 2);
static const struct pkt_addr cli6 = PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1);

static int load(void)
{
	struct bpf_map *m;
	int rc;

	xdp = xlb_xdp_lb__open();
	tc = xlb_tc_lb__open();
	if (!xdp || !tc)
		return -1;
	bpf_map__set_max_entries(xdp->maps.xlb_rings, 1024);
	bpf_map__set_max_entries(xdp->maps.xlb_ct, 1024);
	bpf_map__set_max_entries(xdp->maps.xlb_backends, 64);
	bpf_map__set_max_entries(xdp->maps.xlb_be_stats, 64);
	bpf_map__set_max_entries(xdp->maps.xlb_svc_info, 64);
	bpf_map__set_max_entries(xdp->maps.xlb_svc_stats, 64);
	rc = xlb_xdp_lb__load(xdp);
	if (rc)
		return rc;
	bpf_object__for_each_map(m, tc->obj) {
		struct bpf_map *x =
			bpf_object__find_map_by_name(xdp->obj, bpf_map__name(m));

		if (x && !strstr(bpf_map__name(m), ".rodata"))
			bpf_map__reuse_fd(m, bpf_map__fd(x));
	}
	return xlb_tc_lb__load(tc);
}

static void add_service(int family, const struct pkt_addr *vip,
			const struct pkt_addr *be, __u32 sid, __u32 bid,
			__u32 ring_off)
{
	__u8 f = family == 4 ? XLB_AF_INET : XLB_AF_INET6;
	size_t alen = family == 4 ? 4 : 16;
	struct xlb_vip_key k = { .port = htons(80), .proto = IPPROTO_TCP,
				 .family = f };
	struct xlb_svc v = { .svc_id = sid, .ring_off = ring_off,
			     .ring_size = 251 };
	struct xlb_backend b = { .port = htons(8080), .family = f,
				 .state = XLB_BE_ACTIVE, .svc_id = sid,
				 .weight = 1 };
	struct xlb_ring_pair pair = { { bid, bid } };
	__u32 i;

	memcpy(k.addr.bytes, vip->b, alen);
	memcpy(b.addr.bytes, be->b, alen);
	bpf_map_update_elem(bpf_map__fd(xdp->maps.xlb_backends), &bid, &b, 0);
	for (i = ring_off / 2; i < (ring_off + 252) / 2; i++)
		bpf_map_update_elem(bpf_map__fd(xdp->maps.xlb_rings), &i,
				    &pair, 0);
	bpf_map_update_elem(bpf_map__fd(xdp->maps.xlb_svc), &k, &v, 0);
}

static void set_hairpin(int family, const struct pkt_addr *a)
{
	union xlb_addr v = {};
	__u32 key = family == 4 ? 0 : 1;

	if (a)
		memcpy(v.bytes, a->b, family == 4 ? 4 : 16);
	bpf_map_update_elem(bpf_map__fd(xdp->maps.xlb_hairpin), &key, &v, 0);
}

static size_t seg(uint8_t *buf, int family, const struct pkt_addr *src,
		  uint16_t sport, const struct pkt_addr *dst, uint16_t dport,
		  uint8_t flags)
{
	struct pkt_spec s = {
		.family = family, .saddr = *src, .daddr = *dst,
		.proto = IPPROTO_TCP, .sport = sport, .dport = dport,
		.tcp_flags = flags, .payload_len = 12, .seq = 5, .ack = 9,
	};
	struct pkt_layout lay;

	return pkt_build(&s, buf, 512, &lay);
}

static int run(int which, const uint8_t *in, size_t len, uint8_t *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = 512, .repeat = 1);
	int fd = which ? bpf_program__fd(tc->progs.xlb_tc) :
			 bpf_program__fd(xdp->progs.xlb_xdp);

	return bpf_prog_test_run_opts(fd, &o) ? -1 : (int)o.data_size_out;
}

static void flush_ct(void)
{
	struct xlb_ct_key k;
	int fd = bpf_map__fd(xdp->maps.xlb_ct);

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

static void test_family(int which, int family)
{
	const char *w = which ? "tc" : "xdp", *f = family == 4 ? "v4" : "v6";
	const struct pkt_addr *vip = family == 4 ? &vip4 : &vip6;
	const struct pkt_addr *be = family == 4 ? &be4 : &be6;
	const struct pkt_addr *hp = family == 4 ? &hp4 : &hp6;
	const struct pkt_addr *cli = family == 4 ? &cli4 : &cli6;
	uint8_t in[512], out[512], want[512];
	size_t len, wlen;

	flush_ct();
	set_hairpin(family, hp);
	/* The backend to its own service, balanced to itself. */
	len = seg(in, family, be, 41000, vip, 80, 0x02);
	wlen = seg(want, family, hp, 41000, be, 8080, 0x02);
	run(which, in, len, out);
	ASSERT_MEM_EQ(out, want, wlen,
		      "%s %s: hairpin SYN: source to the hairpin address, destination to the backend", w, f);
	len = seg(in, family, be, 41000, vip, 80, 0x10);
	wlen = seg(want, family, hp, 41000, be, 8080, 0x10);
	run(which, in, len, out);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: hairpin: established segment too", w, f);
	/* Its reply, to the hairpin address: back to VIP -> backend. */
	len = seg(in, family, be, 8080, hp, 41000, 0x12);
	wlen = seg(want, family, vip, 80, be, 41000, 0x12);
	run(which, in, len, out);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: hairpin reply: from the VIP, to the backend", w, f);

	/* Another client keeps its own source. */
	len = seg(in, family, cli, 41001, vip, 80, 0x02);
	wlen = seg(want, family, cli, 41001, be, 8080, 0x02);
	run(which, in, len, out);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: a real client keeps its source", w, f);

	/* No hairpin address configured: plain DNAT, as before. */
	flush_ct();
	set_hairpin(family, NULL);
	len = seg(in, family, be, 41002, vip, 80, 0x02);
	wlen = seg(want, family, be, 41002, be, 8080, 0x02);
	run(which, in, len, out);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: no hairpin address: DNAT only", w, f);
}

int main(void)
{
	struct xlb_counter c[256];
	__u32 key = XLB_STAT_HAIRPIN;
	__u64 n = 0;
	int i;

	if (!ASSERT_EQ(load(), 0, "load XDP and tc programs"))
		return test_done();
	add_service(4, &vip4, &be4, 1, 1, 2);
	add_service(6, &vip6, &be6, 2, 2, 300);
	test_family(0, 4);
	test_family(0, 6);
	test_family(1, 4);
	test_family(1, 6);
	bpf_map_lookup_elem(bpf_map__fd(xdp->maps.xlb_stats), &key, c);
	for (i = 0; i < libbpf_num_possible_cpus(); i++)
		n += c[i].packets;
	ASSERT_EQ(n, 4 * 3, "hairpin counter: three hairpinned packets per run");
	xlb_tc_lb__destroy(tc);
	xlb_xdp_lb__destroy(xdp);
	return test_done();
}
