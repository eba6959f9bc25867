/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small helpers shared by xlbd and xlbctl: addresses, protocols, time. */
#ifndef XLB_UTIL_H
#define XLB_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <linux/types.h>

#include <xlb/abi.h>

#define XLB_ADDR_STRLEN 46

/* Parses an IPv4 or IPv6 literal; returns 0 or -EINVAL. */
int xlb_addr_parse(const char *s, union xlb_addr *addr, __u8 *family);
/* Formats addr into buf (XLB_ADDR_STRLEN bytes); returns buf. */
const char *xlb_addr_str(const union xlb_addr *addr, __u8 family, char *buf);
/* "tcp" / "udp" <-> IPPROTO_*; returns -EINVAL for anything else. */
int xlb_proto_parse(const char *s);
const char *xlb_proto_str(__u8 proto);
const char *xlb_be_state_str(__u8 state);
int xlb_be_state_parse(const char *s);
uint64_t xlb_now_ns(void); /* CLOCK_MONOTONIC, same clock as bpf_ktime_get_ns */
uint64_t xlb_now_coarse_ns(void); /* as bpf_ktime_get_coarse_ns */
int xlb_mkdir_p(const char *path);
/* Formats an error message into err (errlen bytes, may be 0) and returns
 * rc, so a failure reads `return xlb_errf(err, errlen, -EINVAL, ...)`. */
int xlb_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* qsort() and bsearch() that may also be given a NULL array of no
 * elements (a service without backends, frontends or ranges): glibc
 * declares their base nonnull, so passing NULL is undefined even for
 * n == 0. */
void xlb_qsort(void *base, size_t n, size_t size,
	       int (*cmp)(const void *, const void *));
void *xlb_bsearch(const void *key, const void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *));
/* One row of xlbd's and xlbctl's --help: left ("  -c, --config PATH")
 * padded to 23 columns, then help, whose further lines start at 25. */
void xlb_usage_row(FILE *out, const char *left, const char *help);

#endif /* XLB_UTIL_H */
