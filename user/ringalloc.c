// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringalloc.h"
#include "util.h"

static int grow(struct xlb_extent **v, size_t *cap, size_t need)
{
	struct xlb_extent *n;
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	n = realloc(*v, c * sizeof(**v));
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

int xlb_ringalloc_init(struct xlb_ringalloc *ra, __u32 total)
{
	memset(ra, 0, sizeof(*ra));
	ra->total = total;
	ra->grace_ns = XLB_RING_GRACE_NS;
	if (grow(&ra->free, &ra->cap_free, 1))
		return -ENOMEM;
	ra->free[0] = (struct xlb_extent){ .off = 0, .len = total };
	ra->n_free = total ? 1 : 0;
	return 0;
}

void xlb_ringalloc_fini(struct xlb_ringalloc *ra)
{
	free(ra->free);
	free(ra->held);
	memset(ra, 0, sizeof(*ra));
}

int xlb_ringalloc_reserve(struct xlb_ringalloc *ra, __u32 off, __u32 len)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < ra->n_free; i++) {
		struct xlb_extent *e = &ra->free[i];
		__u32 end = off + len, eend = e->off + e->len;

		if (off < e->off || end > eend)
			continue;
		if (off == e->off) {
			e->off += len;
			e->len -= len;
			if (!e->len) {
				memmove(e, e + 1,
					(ra->n_free - i - 1) * sizeof(*e));
				ra->n_free--;
			}
		} else if (end == eend) {
			e->len -= len;
		} else {
			if (grow(&ra->free, &ra->cap_free, ra->n_free + 1))
				return -ENOMEM;
			e = &ra->free[i];
			memmove(e + 2, e + 1, (ra->n_free - i - 1) * sizeof(*e));
			e[1] = (struct xlb_extent){ .off = end, .len = eend - end };
			e->len = off - e->off;
			ra->n_free++;
		}
		return 0;
	}
	return -EINVAL;
}

/* Returns a slice to the free list, merging with its neighbours. */
static int release(struct xlb_ringalloc *ra, __u32 off, __u32 len)
{
	size_t lo = 0, hi = ra->n_free, i;
	struct xlb_extent *e;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ra->free[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	if (i > 0 && ra->free[i - 1].off + ra->free[i - 1].len == off) {
		e = &ra->free[i - 1];
		e->len += len;
		if (i < ra->n_free && e->off + e->len == ra->free[i].off) {
			e->len += ra->free[i].len;
			memmove(&ra->free[i], &ra->free[i + 1],
				(ra->n_free - i - 1) * sizeof(*e));
			ra->n_free--;
		}
		return 0;
	}
	if (i < ra->n_free && off + len == ra->free[i].off) {
		ra->free[i].off = off;
		ra->free[i].len += len;
		return 0;
	}
	if (grow(&ra->free, &ra->cap_free, ra->n_free + 1))
		return -ENOMEM;
	memmove(&ra->free[i + 1], &ra->free[i],
		(ra->n_free - i) * sizeof(*ra->free));
	ra->free[i] = (struct xlb_extent){ .off = off, .len = len };
	ra->n_free++;
	return 0;
}

/* Moves held slices whose grace period is over to the free list. */
static void reclaim(struct xlb_ringalloc *ra, uint64_t now)
{
	size_t i = 0;

	while (i < ra->n_held && now - ra->held[i].freed_ns >= ra->grace_ns) {
		if (release(ra, ra->held[i].off, ra->held[i].len))
			break;
		i++;
	}
	if (i) {
		memmove(ra->held, ra->held + i,
			(ra->n_held - i) * sizeof(*ra->held));
		ra->n_held -= i;
	}
}

static int first_fit(struct xlb_ringalloc *ra, __u32 len, __u32 *off)
{
	size_t i;

	for (i = 0; i < ra->n_free; i++) {
		struct xlb_extent *e = &ra->free[i];

		if (e->len < len)
			continue;
		*off = e->off;
		e->off += len;
		e->len -= len;
		if (!e->len) {
			memmove(e, e + 1, (ra->n_free - i - 1) * sizeof(*e));
			ra->n_free--;
		}
		return 0;
	}
	return -ENOSPC;
}

int xlb_ringalloc_alloc(struct xlb_ringalloc *ra, __u32 len, __u32 *off)
{
	uint64_t now = xlb_now_ns();

	reclaim(ra, now);
	if (!first_fit(ra, len, off))
		return 0;
	/* Only held slices could fit: wait out their grace period. */
	while (ra->n_held) {
		uint64_t wait = ra->held[0].freed_ns + ra->grace_ns;
		struct timespec ts;

		now = xlb_now_ns();
		if (wait > now) {
			ts.tv_sec = (wait - now) / 1000000000ull;
			ts.tv_nsec = (wait - now) % 1000000000ull;
			nanosleep(&ts, NULL);
		}
		reclaim(ra, xlb_now_ns());
		if (!first_fit(ra, len, off))
			return 0;
	}
	return -ENOSPC;
}

void xlb_ringalloc_free(struct xlb_ringalloc *ra, __u32 off, __u32 len)
{
	if (!len)
		return;
	if (grow(&ra->held, &ra->cap_held, ra->n_held + 1)) {
		/* Out of memory: leak the slice rather than reuse it early. */
		return;
	}
	ra->held[ra->n_held++] = (struct xlb_extent){
		.off = off, .len = len, .freed_ns = xlb_now_ns()
	};
}

__u64 xlb_ringalloc_avail(const struct xlb_ringalloc *ra)
{
	__u64 n = 0;
	size_t i;

	for (i = 0; i < ra->n_free; i++)
		n += ra->free[i].len;
	for (i = 0; i < ra->n_held; i++)
		n += ra->held[i].len;
	return n;
}
