/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The XDP and tc programs loaded for packet tests through xlb_dp_load(),
 * exactly as xlbd loads them but with nothing pinned and small maps: one
 * loader for every packet test (datapath/harness.h loads through it too).
 */
#ifndef XLB_SELFTEST_BPFTEST_H
#define XLB_SELFTEST_BPFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xlb/abi.h>

#include "loader.h"
#include "pkt.h"
#include "xdp_lb.skel.h"
#include "tc_lb.skel.h"

/* Map sizes for the tests; the defaults are production-sized. */
#define T_FRONTENDS	64
#define T_SERVICES	64
#define T_BACKENDS	4096
#define T_RING_SLOTS	8192
#define T_CT		65536
#define T_AFFINITY	1024
#define T_SRC_RANGES	64
#define T_PORTS		65536	/* xlb_ports: one entry per port */
#define T_SNAT_MIN	61000	/* source NAT ports */
#define T_SNAT_MAX	61999

/* Loads dp with the test sizes, or over the maps of share; port_filter
 * as xlbd (true) or off. 0 or -errno, with a message; xlb_dp_close()
 * undoes it, also after a failure. */
int bt_dp_load(struct xlb_dp *dp, const struct xlb_dp *share,
	       bool port_filter);

/* The programs of bt_load(). */
extern struct xlb_dp bt_dp;
extern struct xlb_xdp_lb *bt_xdp;
extern struct xlb_tc_lb *bt_tc;

/* Loads both programs as xlbd does (port filter on); 0 or -errno. */
int bt_load(void);
void bt_unload(void);
/* Runs program `which` (0 XDP, 1 tc) once on a copy of in; returns the
 * output length or -1, and the verdict in *ret. */
int bt_run(int which, const uint8_t *in, size_t len, uint8_t *out,
	   __u32 *ret);

#endif /* XLB_SELFTEST_BPFTEST_H */
