/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Allocator of slices of the shared ring array (xlb_rings). A freed slice
 * may still be read by a program that looked its service up just before
 * the swap, so it is held back for a grace period before reuse.
 */
#ifndef XLB_RINGALLOC_H
#define XLB_RINGALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct xlb_extent {
	__u32 off;
	__u32 len;
	uint64_t freed_ns;	/* quarantined: when it was freed */
};

struct xlb_ringalloc {
	__u32 total;		/* slots in the array */
	struct xlb_extent *free; /* usable, sorted by offset, merged */
	size_t n_free, cap_free;
	struct xlb_extent *held; /* quarantined, in order of freeing */
	size_t n_held, cap_held;
	uint64_t grace_ns;
};

#define XLB_RING_GRACE_NS (50ull * 1000 * 1000)

int xlb_ringalloc_init(struct xlb_ringalloc *ra, __u32 total);
void xlb_ringalloc_fini(struct xlb_ringalloc *ra);
/* Marks [off, off+len) used (adopting pinned state); call before any
 * allocation. Returns -EINVAL if it overlaps used slots. */
int xlb_ringalloc_reserve(struct xlb_ringalloc *ra, __u32 off, __u32 len);
/* Returns 0 and sets *off, or -ENOSPC. May wait out the grace period of
 * held slices when nothing else fits. */
int xlb_ringalloc_alloc(struct xlb_ringalloc *ra, __u32 len, __u32 *off);
void xlb_ringalloc_free(struct xlb_ringalloc *ra, __u32 off, __u32 len);
/* Slots free now or after their grace period. */
__u64 xlb_ringalloc_avail(const struct xlb_ringalloc *ra);

#endif /* XLB_RINGALLOC_H */
