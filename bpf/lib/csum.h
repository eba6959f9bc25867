/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: incremental Internet checksum updates (RFC 1624,
 * HC' = ~(~HC + ~m + m')) for the XDP program, which sees complete
 * checksums only. The tc program uses the kernel's csum_replace helpers
 * instead, because only they know about CHECKSUM_PARTIAL skbs.
 */
#ifndef XLB_BPF_CSUM_H
#define XLB_BPF_CSUM_H

#include "common.h"

static __always_inline __u16 xlb_csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Sum of ~old + new over one 32-bit word, as two 16-bit halves. */
static __always_inline __u64 xlb_csum_delta32(__u32 old, __u32 new)
{
	return (__u64)((~old) & 0xffff) + ((~old) >> 16) + (new & 0xffff) +
	       (new >> 16);
}

static __always_inline __u64 xlb_csum_delta16(__u16 old, __u16 new)
{
	return (__u64)(__u16)~old + new;
}

/* Applies a delta (from xlb_csum_delta*) to a checksum field. */
static __always_inline __u16 xlb_csum_apply(__u16 check, __u64 delta)
{
	return ~xlb_csum_fold((__u64)(__u16)~check + delta);
}

#endif /* XLB_BPF_CSUM_H */
