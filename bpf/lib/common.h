/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Kernel side only: shared includes and helpers of the xlb programs. */
#ifndef XLB_BPF_COMMON_H
#define XLB_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <xlb/abi.h>
#include <xlb/hash.h>

/* A function verified as a subprogram with a stack frame of its own
 * (XDP and tc each use half of them). */
#define XLB_SUBPROG static __noinline __attribute__((unused))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* Negative reasons, turned into a verdict and a counter at one exit. */
enum {
	XLB_E_PARSE = 1,	/* truncated or malformed header */
	XLB_E_UNSUPPORTED = 2,	/* not something xlb balances */
};

/* Load-time settings, set by the loader before load. */
const volatile struct xlb_cfg xlb_cfg = {};

/* The packet's bounds and the interface it came in on, from either
 * hook's context (xdp_md and __sk_buff name the fields alike); the rest
 * of what differs is in ctx_xdp.h and ctx_tc.h. */
#define xlb_ctx_data(ctx)	((void *)(long)(ctx)->data)
#define xlb_ctx_data_end(ctx)	((void *)(long)(ctx)->data_end)
#define xlb_ctx_ifindex(ctx)	((ctx)->ingress_ifindex)

/* Offsets into the packet are masked with this before use so that the
 * verifier can bound them; no header xlb touches lies beyond it. */
#define XLB_OFF_MASK 0x3fff

#endif /* XLB_BPF_COMMON_H */
