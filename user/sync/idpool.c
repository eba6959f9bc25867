// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlb/abi.h>

#include "ringalloc.h"
#include "sync/idpool.h"
#include "util.h"

enum {
	ID_FREE = 0,
	ID_USED = 1,
	ID_HELD = 2,
	ID_MASK = 3,
	ID_DIRTY = 4,	/* the map entry of this id was written before */
};

int xlb_idpool_init(struct xlb_idpool *p, __u32 max)
{
	memset(p, 0, sizeof(*p));
	p->state = calloc(max ? max : 1, 1);
	if (!p->state)
		return -ENOMEM;
	p->max = max;
	p->hint = 1;
	return 0;
}

void xlb_idpool_fini(struct xlb_idpool *p)
{
	free(p->state);
	free(p->held);
	memset(p, 0, sizeof(*p));
}

void xlb_idpool_mark(struct xlb_idpool *p, __u32 id)
{
	if (id && id < p->max && (p->state[id] & ID_MASK) == ID_FREE) {
		p->state[id] = ID_USED | ID_DIRTY;
		p->n_used++;
	}
}

static void idpool_reclaim(struct xlb_idpool *p, uint64_t now)
{
	while (p->held_head != p->held_tail) {
		struct xlb_held_id *h = &p->held[p->held_head % p->held_cap];

		if (now - h->at < XLB_RING_GRACE_NS)
			break;
		p->state[h->id] = ID_FREE | ID_DIRTY;
		p->n_used--;
		p->held_head++;
	}
}

__u32 xlb_idpool_alloc(struct xlb_idpool *p, bool *dirty)
{
	__u32 i, id;

	if (p->n_used + 1 >= p->max) {
		/* Only held ids are left: wait out their grace period. */
		while (p->held_head != p->held_tail && p->n_used + 1 >= p->max) {
			usleep(1000);
			idpool_reclaim(p, xlb_now_ns());
		}
	}
	for (i = 0; i + 1 < p->max; i++) {
		id = 1 + (p->hint - 1 + i) % (p->max - 1);
		if ((p->state[id] & ID_MASK) == ID_FREE) {
			*dirty = p->state[id] & ID_DIRTY;
			p->state[id] = ID_USED | ID_DIRTY;
			p->n_used++;
			p->hint = id + 1 < p->max ? id + 1 : 1;
			return id;
		}
	}
	return XLB_ID_NONE;
}

void xlb_idpool_free(struct xlb_idpool *p, __u32 id)
{
	size_t n;

	if (!id || id >= p->max || (p->state[id] & ID_MASK) != ID_USED)
		return;
	idpool_reclaim(p, xlb_now_ns());
	/* Counted after the reclaim: the ids it let go must not be copied
	 * into a grown FIFO, where they would be freed a second time. */
	n = p->held_tail - p->held_head;
	if (n + 1 > p->held_cap) {
		size_t cap = p->held_cap ? p->held_cap * 2 : 64, k;
		struct xlb_held_id *h = malloc(cap * sizeof(*h));

		if (!h)
			return; /* stays used: leaked, never reused early */
		for (k = 0; k < n; k++)
			h[k] = p->held[(p->held_head + k) % p->held_cap];
		free(p->held);
		p->held = h;
		p->held_cap = cap;
		p->held_head = 0;
		p->held_tail = n;
	}
	p->held[p->held_tail % p->held_cap] =
		(struct xlb_held_id){ .id = id, .at = xlb_now_ns() };
	p->held_tail++;
	p->state[id] = ID_HELD | ID_DIRTY;
}
