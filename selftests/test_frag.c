// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 and IPv6 fragments: the first fragment (it has the ports) is
 * balanced like any packet; the later ones (no ports) follow it to the
 * same backend, with only their address rewritten; a later fragment of a
 * datagram xlb never saw is passed untouched, never sent to a backend.
 * Replies likewise. Both programs; expected packets built from scratch.
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
static const struct pkt_addr vip4 = PKT_V4(10, 96, 7, 1);
static const struct pkt_addr be4 = PKT_V4(10, 20, 0, 11);
static const struct pkt_addr cli6 = PKT_V6(0xfd00, 0x10, 0, 0, 0, 0, 0, 1);
static const struct pkt_addr vip6 = PKT_V6(0xfd00, 0x96, 0, 0, 0, 0, 7, 1);
static const struct pkt_addr be6 = PKT_V6(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x11);



/*
 * A fragment: first (ports, MF) or later (offset, raw payload). Later
 * fragments are built as raw payload of another protocol, then given
 * the datagram's protocol; the IPv4 header checksum is recomputed here.
 */
static size_t frag(uint8_t *buf, int family, const struct pkt_addr *src,
		   const struct pkt_addr *dst, uint16_t sport, uint16_t dport,
		   bool later, uint16_t id, struct pkt_layout *lay)
{
	struct pkt_spec s = {
		.family = family, .saddr = *src, .daddr = *dst,
		.proto = later ? 253 : IPPROTO_UDP, .sport = sport,
		.dport = dport, .payload_len = later ? 64 : 56,
		.ip_id = id, .payload_seed = 9,
	};
	size_t len;

	if (family == 4) {
		s.frag = later ? 8 : 0x2000; /* offset 64 bytes, or MF */
	} else {
		s.next = 1;
		s.ext[0] = (struct pkt_ext){ .type = IPPROTO_FRAGMENT,
					     .frag_off = later ? 8 : 0,
					     .mf = !later };
	}
	len = pkt_build(&s, buf, 512, lay);
	if (!later)
		return len;
	if (family == 4) {
		uint8_t *ip = buf + lay->l3;

		ip[9] = IPPROTO_UDP;
		ip[10] = ip[11] = 0;
		*(uint16_t *)(ip + 10) = htons(pkt_fold(pkt_sum(ip, 20, 0)));
	} else {
		buf[lay->l3_fixed_end] = IPPROTO_UDP; /* fragment header's next */
	}
	return len;
}

static void set_id6(uint8_t *buf, const struct pkt_layout *lay, uint32_t id)
{
	/* pkt.c writes the fragment identification: make it ours. */
	uint32_t n = htonl(id);

	memcpy(buf + lay->l3_fixed_end + 4, &n, 4);
}




static void test_family(int which, int family, uint16_t id)
{
	const char *w = which ? "tc" : "xdp", *f = family == 4 ? "v4" : "v6";
	const struct pkt_addr *cli = family == 4 ? &cli4 : &cli6;
	const struct pkt_addr *vip = family == 4 ? &vip4 : &vip6;
	const struct pkt_addr *be = family == 4 ? &be4 : &be6;
	__u32 pass = which ? TC_ACT_OK : XDP_PASS, ret;
	uint8_t in[512], out[512], want[512];
	struct pkt_layout lay, wl;
	size_t len, wlen;
	__u64 miss;
	int n;

	bt_flush_ct();
	/* First fragment: balanced with its ports. */
	len = frag(in, family, cli, vip, 40000, 53, false, id, &lay);
	wlen = frag(want, family, cli, be, 40000, 5353, false, id, &wl);
	if (family == 6) {
		set_id6(in, &lay, id);
		set_id6(want, &wl, id);
	}
	n = bt_run(which, in, len, out, &ret);
	ASSERT_EQ(ret, pass, "%s %s first fragment passed on", w, f);
	ASSERT_EQ(n, wlen, "%s %s first fragment length", w, f);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s first fragment DNATed with its ports", w, f);

	/* A later fragment of the same datagram follows it. */
	len = frag(in, family, cli, vip, 0, 0, true, id, &lay);
	wlen = frag(want, family, cli, be, 0, 0, true, id, &wl);
	if (family == 6) {
		set_id6(in, &lay, id);
		set_id6(want, &wl, id);
	}
	n = bt_run(which, in, len, out, &ret);
	ASSERT_EQ(ret, pass, "%s %s later fragment passed on", w, f);
	ASSERT_MEM_EQ(out, want, wlen,
		      "%s %s later fragment sent to the first one's backend, address only", w, f);

	/* A later fragment of another datagram: untouched. */
	miss = bt_counter(XLB_STAT_FRAG_MISS);
	len = frag(in, family, cli, vip, 0, 0, true, id + 1, &lay);
	if (family == 6)
		set_id6(in, &lay, id + 1);
	n = bt_run(which, in, len, out, &ret);
	ASSERT_EQ(ret, pass, "%s %s unknown later fragment passed", w, f);
	ASSERT_MEM_EQ(out, in, len, "%s %s unknown later fragment untouched", w, f);
	ASSERT_EQ(bt_counter(XLB_STAT_FRAG_MISS), miss + 1,
		  "%s %s unknown later fragment counted as fragment_miss", w, f);

	/* The backend's fragmented reply: source back to the VIP. */
	len = frag(in, family, be, cli, 5353, 40000, false, id + 2, &lay);
	wlen = frag(want, family, vip, cli, 53, 40000, false, id + 2, &wl);
	if (family == 6) {
		set_id6(in, &lay, id + 2);
		set_id6(want, &wl, id + 2);
	}
	bt_run(which, in, len, out, &ret);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s first fragment of a reply reverse-NATed", w, f);
	len = frag(in, family, be, cli, 0, 0, true, id + 2, &lay);
	wlen = frag(want, family, vip, cli, 0, 0, true, id + 2, &wl);
	if (family == 6) {
		set_id6(in, &lay, id + 2);
		set_id6(want, &wl, id + 2);
	}
	bt_run(which, in, len, out, &ret);
	ASSERT_MEM_EQ(out, want, wlen, "%s %s later fragment of a reply reverse-NATed", w, f);
}

int main(void)
{
	if (!ASSERT_EQ(bt_load(), 0, "load XDP and tc programs"))
		return test_done();
	bt_add_service(4, &vip4, 53, IPPROTO_UDP, &be4, 5353, 1, 1, 2);
	bt_add_service(6, &vip6, 53, IPPROTO_UDP, &be6, 5353, 2, 2, 300);
	test_family(0, 4, 100);
	test_family(0, 6, 200);
	test_family(1, 4, 300);
	test_family(1, 6, 400);
	bt_unload();
	return test_done();
}
