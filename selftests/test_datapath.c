// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet fixtures for the XDP and tc programs: one table per feature
 * (selftests/datapath/<feature>.h), each run through both programs with
 * datapath/harness.h, which compares the verdict, every output byte
 * against a packet pkt.c builds from scratch, and the counters,
 * conntrack and affinity after each case.
 *
 * The Kubernetes service semantics run through the same tables: several
 * frontends (cluster IP, external IP, load-balancer IP, NodePort) of one
 * service, client-IP session affinity, loadBalancerSourceRanges and the
 * node-local ring of a Local traffic policy, and source NAT (the
 * north-south path to a backend on another node). A second pair of programs,
 * loaded with xlb_cfg.port_filter over the same maps, runs its own table
 * against xlb_ports.
 *
 * The Maglev table checks that the ring slot the datapath reads for
 * 10,000 flows per family is ring[xlb_flow_hash(tuple) % M], computed
 * here.
 *
 * Each table is the sub-run "<program>/<table>":
 * XLB_TEST_SUB='tc/affinity' build/selftests/test_datapath.
 */
#include "datapath/harness.h"
#include "datapath/world.h"

#include "datapath/balance.h"
#include "datapath/vlan.h"
#include "datapath/headers.h"
#include "datapath/passthrough.h"
#include "datapath/frag.h"
#include "datapath/nobackend.h"
#include "datapath/ring.h"
#include "datapath/stale.h"
#include "datapath/terminating.h"
#include "datapath/frontends.h"
#include "datapath/affinity.h"
#include "datapath/src_ranges.h"
#include "datapath/local.h"
#include "datapath/cut.h"
#include "datapath/port_filter.h"
#include "datapath/maglev.h"
#include "datapath/snat.h"

static const struct h_table *const tables[] = {
	&dp_balance, &dp_vlan, &dp_headers, &dp_passthrough, &dp_frag,
	&dp_nobackend, &dp_ring, &dp_stale, &dp_terminating, &dp_frontends,
	&dp_affinity, &dp_src_ranges, &dp_local, &dp_cut, &dp_maglev,
	&dp_port_filter, &dp_snat,
};

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
	xlb_log_set_prefix("test_datapath");
	xlb_log_libbpf();

	builder_selftest();

	if (!ASSERT_OK(h_load(), "load xdp_lb and tc_lb with shared maps"))
		goto out;
	ASSERT_EQ(h_map_id(bpf_map__fd(h_env.tc->maps.xlb_ct)),
		  h_map_id(h_env.ct_fd), "tc and XDP objects share xlb_ct");
	ASSERT_EQ(h_map_id(bpf_map__fd(h_env.tc->maps.xlb_rings)),
		  h_map_id(h_env.rings_fd), "tc and XDP objects share xlb_rings");
	ASSERT_EQ(h_map_id(bpf_map__fd(h_env.xdp_pf->maps.xlb_ports)),
		  h_map_id(h_env.ports_fd),
		  "port-filter XDP object shares xlb_ports");
	ASSERT_EQ(h_map_id(bpf_map__fd(h_env.tc_pf->maps.xlb_ct)),
		  h_map_id(h_env.ct_fd), "port-filter tc object shares xlb_ct");

	h_world_set(&dp_world);
	printf("# %zu tables, run through each of %zu programs\n",
	       ARRAY_SIZE(tables), ARRAY_SIZE(h_env.progs));
	h_run_tables(tables, ARRAY_SIZE(tables));
out:
	h_close();
	return test_done();
}
