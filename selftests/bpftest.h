/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The XDP and tc programs loaded side by side for packet tests: small
 * maps, the tc object sharing the XDP object's maps, nothing pinned.
 */
#ifndef XLB_SELFTEST_BPFTEST_H
#define XLB_SELFTEST_BPFTEST_H

#include <stddef.h>
#include <stdint.h>

#include <xlb/abi.h>

#include "pkt.h"
#include "xdp_lb.skel.h"
#include "tc_lb.skel.h"

extern struct xlb_xdp_lb *bt_xdp;
extern struct xlb_tc_lb *bt_tc;

/* Opens and loads both programs; 0 or -errno. */
int bt_load(void);
void bt_unload(void);
/* Runs program `which` (0 XDP, 1 tc) once on a copy of in; returns the
 * output length or -1, and the verdict in *ret. */
int bt_run(int which, const uint8_t *in, size_t len, uint8_t *out,
	   __u32 *ret);
/* Sum over CPUs of outcome counter key. */
__u64 bt_counter(__u32 key);
void bt_flush_ct(void);
/* Service sid on vip:port/proto with one backend bid at be:bport whose
 * ring (251 slots at ring_off) holds only it. */
void bt_add_service(int family, const struct pkt_addr *vip, uint16_t port,
		    uint8_t proto, const struct pkt_addr *be, uint16_t bport,
		    __u32 sid, __u32 bid, __u32 ring_off);

#endif /* XLB_SELFTEST_BPFTEST_H */
