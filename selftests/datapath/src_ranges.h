/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Source ranges: on the LB frontends, not on the cluster IPs.
 */
#ifndef XLB_SELFTEST_DP_SRC_RANGES_H
#define XLB_SELFTEST_DP_SRC_RANGES_H

#include "world.h"

/* The v4 service's CIDR is withdrawn (the agent deletes the key). */
static int step_sr4_withdraw(void)
{
	struct xlb_src_range_key k;

	range_key(&k, &t_ranges[0]);
	if (bpf_map_delete_elem(h_env.ranges_fd, &k)) {
		pr_err("xlb_src_ranges: delete of the range of service %u: %s",
		       t_ranges[0].svc, strerror(errno));
		return -errno;
	}
	return 0;
}

TABLE_BEGIN
static const struct fixture src_ranges_rows[] = {
	{ "source ranges v4: client inside the /24 is DNATed",
	  .in = { TCP4(SR4_IN, 49001, LB4_SR, 80), .tcp_flags = SYN },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v4: the last address of the /24 is DNATed",
	  .in = { TCP4(SR4_IN_LAST, 49002, LB4_SR, 80), .tcp_flags = SYN },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v4: reply to the client inside is reverse-NATed",
	  .in = { TCP4(BE4_SR, 8080, SR4_IN, 49001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_SR4), .fe = FE_SR4_LB, .stats = ST_RNAT },
	{ "source ranges v4: client just above the /24 is dropped",
	  .in = { TCP4(SR4_OUT, 49003, LB4_SR, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v4: client just below the /24 is dropped",
	  .in = { TCP4(SR4_OUT_BELOW, 49004, LB4_SR, 80),
		  .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v4: client in another service's range is dropped",
	  .in = { TCP4(SR4_OTHER_SVC, 49005, LB4_SR, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v4: client outside, to the cluster IP, is DNATed",
	  .in = { TCP4(SR4_OUT, 49006, VIP4_SR, 80), .tcp_flags = SYN },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v4: range withdrawn: a tracked flow goes on",
	  .setup = step_sr4_withdraw,
	  .in = { TCP4(SR4_IN, 49001, LB4_SR, 80), .payload_len = 100 },
	  DNAT(SVC_SR4, BE_SR4), .stats = ST_DNAT },
	{ "source ranges v4: range withdrawn: a new flow from it is dropped",
	  .in = { TCP4(SR4_IN_2, 49007, LB4_SR, 80), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client inside the /64 is DNATed",
	  .in = { TCP6(SR6_IN, 49001, LB6_SR, 443), .tcp_flags = SYN },
	  DNAT(SVC_SR6, BE_SR6), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v6: the last address of the /64 is DNATed",
	  .in = { TCP6(SR6_IN_LAST, 49002, LB6_SR, 443), .tcp_flags = SYN },
	  DNAT(SVC_SR6, BE_SR6), .stats = ST_NEW, .ct = CT_BE },
	{ "source ranges v6: reply to the client inside is reverse-NATed",
	  .in = { TCP6(BE6_SR, 8443, SR6_IN, 49001), .tcp_flags = SYN | ACK },
	  RNAT(SVC_SR6), .fe = FE_SR6_LB, .stats = ST_RNAT },
	{ "source ranges v6: client in the next /64 is dropped",
	  .in = { TCP6(SR6_OUT, 49003, LB6_SR, 443), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client in the /64 below is dropped",
	  .in = { TCP6(SR6_OUT_BELOW, 49004, LB6_SR, 443),
		  .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client with the bits of its v4 CIDR is dropped",
	  .in = { TCP6(SR6_V4_ALIKE, 49005, LB6_SR, 443), .tcp_flags = SYN },
	  DROPPED, .stats = ST_DENIED, .ct = CT_NONE },
	{ "source ranges v6: client outside, to the cluster IP, is DNATed",
	  .in = { TCP6(SR6_OUT, 49006, VIP6_SR, 443), .tcp_flags = SYN },
	  DNAT(SVC_SR6, BE_SR6), .stats = ST_NEW, .ct = CT_BE },
};
TABLE_END

static const struct h_table dp_src_ranges = H_TABLE("src_ranges", src_ranges_rows);

#endif /* XLB_SELFTEST_DP_SRC_RANGES_H */
