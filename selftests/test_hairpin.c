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

#include "bpftest.h"
#include "pkt.h"
#include "testlib.h"

static const struct pkt_addr vip4 = PKT_V4(10, 96, 3, 1);
static const struct pkt_addr be4 = PKT_V4(10, 20, 0, 11);
static const struct pkt_addr hp4 = PKT_V4(10, 20, 0, 2);
static const struct pkt_addr cli4 = PKT_V4(10, 10, 0, 1);
static const struct pkt_addr vip6 = PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 3, 1);
static const struct pkt_addr be6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x11);
static const struct pkt_addr hp6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 2);
static const struct pkt_addr cli6 = PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1);



static void set_hairpin(int family, const struct pkt_addr *a)
{
	union xlb_addr v = {};
	__u32 key = family == 4 ? 0 : 1;

	if (a)
		memcpy(v.bytes, a->b, family == 4 ? 4 : 16);
	bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_hairpin), &key, &v, 0);
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



static void test_family(int which, int family)
{
	const char *w = which ? "tc" : "xdp", *f = family == 4 ? "v4" : "v6";
	const struct pkt_addr *vip = family == 4 ? &vip4 : &vip6;
	const struct pkt_addr *be = family == 4 ? &be4 : &be6;
	const struct pkt_addr *hp = family == 4 ? &hp4 : &hp6;
	const struct pkt_addr *cli = family == 4 ? &cli4 : &cli6;
	uint8_t in[512], out[512], want[512];
	size_t len, wlen;
	__u32 ret;

	bt_flush_ct();
	set_hairpin(family, hp);
	/* The backend to its own service, balanced to itself. */
	len = seg(in, family, be, 41000, vip, 80, 0x02);
	wlen = seg(want, family, hp, 41000, be, 8080, 0x02);
	bt_run(which, in, len, out, &ret);
	ASSERT_MEM_EQ(out, want, wlen,
		      "%s %s: hairpin SYN: source to the hairpin address, destination to the backend", w, f);
	len = seg(in, family, be, 41000, vip, 80, 0x10);
	wlen = seg(want, family, hp, 41000, be, 8080, 0x10);
	bt_run(which, in, len, out, &ret);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: hairpin: established segment too", w, f);
	/* Its reply, to the hairpin address: back to VIP -> backend. */
	len = seg(in, family, be, 8080, hp, 41000, 0x12);
	wlen = seg(want, family, vip, 80, be, 41000, 0x12);
	bt_run(which, in, len, out, &ret);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: hairpin reply: from the VIP, to the backend", w, f);

	/* Another client keeps its own source. */
	len = seg(in, family, cli, 41001, vip, 80, 0x02);
	wlen = seg(want, family, cli, 41001, be, 8080, 0x02);
	bt_run(which, in, len, out, &ret);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: a real client keeps its source", w, f);

	/* No hairpin address configured: plain DNAT, as before. */
	bt_flush_ct();
	set_hairpin(family, NULL);
	len = seg(in, family, be, 41002, vip, 80, 0x02);
	wlen = seg(want, family, be, 41002, be, 8080, 0x02);
	bt_run(which, in, len, out, &ret);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s: no hairpin address: DNAT only", w, f);
}

int main(void)
{
	if (!ASSERT_EQ(bt_load(), 0, "load XDP and tc programs"))
		return test_done();
	bt_add_service(4, &vip4, 80, IPPROTO_TCP, &be4, 8080, 1, 1, 2);
	bt_add_service(6, &vip6, 80, IPPROTO_TCP, &be6, 8080, 2, 2, 300);
	test_family(0, 4);
	test_family(0, 6);
	test_family(1, 4);
	test_family(1, 6);
	ASSERT_EQ(bt_counter(XLB_STAT_HAIRPIN), 4 * 3,
		  "hairpin counter: three hairpinned packets per run");
	bt_unload();
	return test_done();
}
