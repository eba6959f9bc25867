/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow hash that picks a Maglev slot: hash(5-tuple) % M.
 *
 * Shared by the BPF programs and userspace (tests, xlbctl) so that both
 * compute the same slot. Bob Jenkins' lookup3 mixing (the kernel's
 * jhash), seeded with the ABI constant XLB_HASH_SEED so every node agrees.
 * Addresses and ports are hashed as the raw network-order words the
 * packet carries.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>
#include "abi.h"

#ifndef XLB_INLINE
#ifdef __bpf__
#define XLB_INLINE static __attribute__((always_inline)) inline
#else
#define XLB_INLINE static inline
#endif
#endif

XLB_INLINE __u32 xlb_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define XLB_JHASH_MIX(a, b, c)                                             \
	do {                                                               \
		a -= c; a ^= xlb_rol32(c, 4); c += b;                      \
		b -= a; b ^= xlb_rol32(a, 6); a += c;                      \
		c -= b; c ^= xlb_rol32(b, 8); b += a;                      \
		a -= c; a ^= xlb_rol32(c, 16); c += b;                     \
		b -= a; b ^= xlb_rol32(a, 19); a += c;                     \
		c -= b; c ^= xlb_rol32(b, 4); b += a;                      \
	} while (0)

#define XLB_JHASH_FINAL(a, b, c)                                           \
	do {                                                               \
		c ^= b; c -= xlb_rol32(b, 14);                             \
		a ^= c; a -= xlb_rol32(c, 11);                             \
		b ^= a; b -= xlb_rol32(a, 25);                             \
		c ^= b; c -= xlb_rol32(b, 16);                             \
		a ^= c; a -= xlb_rol32(c, 4);                              \
		b ^= a; b -= xlb_rol32(a, 14);                             \
		c ^= b; c -= xlb_rol32(b, 24);                             \
	} while (0)

#define XLB_JHASH_INIT 0xdeadbeefu

/* lookup3's hashword() for exactly 3 words. */
XLB_INLINE __u32 xlb_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	a += XLB_JHASH_INIT + (3 << 2) + initval;
	b += XLB_JHASH_INIT + (3 << 2) + initval;
	c += XLB_JHASH_INIT + (3 << 2) + initval;
	XLB_JHASH_FINAL(a, b, c);
	return c;
}

/* lookup3's hashword() for exactly 9 words (an IPv6 tuple). */
XLB_INLINE __u32 xlb_jhash_9words(const __u32 *k, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = XLB_JHASH_INIT + (9 << 2) + initval;
	a += k[0]; b += k[1]; c += k[2];
	XLB_JHASH_MIX(a, b, c);
	a += k[3]; b += k[4]; c += k[5];
	XLB_JHASH_MIX(a, b, c);
	a += k[6]; b += k[7]; c += k[8];
	XLB_JHASH_FINAL(a, b, c);
	return c;
}

/* Ports packed as the two network-order halves the L4 header holds. */
XLB_INLINE __u32 xlb_ports_word(__be16 sport, __be16 dport)
{
	return ((__u32)sport << 16) | (__u32)dport;
}

XLB_INLINE __u32 xlb_flow_hash4(__be32 saddr, __be32 daddr, __be16 sport,
				__be16 dport, __u8 proto)
{
	return xlb_jhash_3words(saddr, daddr, xlb_ports_word(sport, dport),
				XLB_HASH_SEED ^ proto);
}

XLB_INLINE __u32 xlb_flow_hash6(const __be32 *saddr, const __be32 *daddr,
				__be16 sport, __be16 dport, __u8 proto)
{
	__u32 k[9];

	k[0] = saddr[0]; k[1] = saddr[1]; k[2] = saddr[2]; k[3] = saddr[3];
	k[4] = daddr[0]; k[5] = daddr[1]; k[6] = daddr[2]; k[7] = daddr[3];
	k[8] = xlb_ports_word(sport, dport);
	return xlb_jhash_9words(k, XLB_HASH_SEED ^ proto);
}

#endif /* XLB_HASH_H */
