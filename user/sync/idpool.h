/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Allocator of service and backend ids (the indexes of xlb_svc_info and
 * xlb_backends). Ids are 1 .. max-1; 0 (XLB_ID_NONE) is no id. A freed
 * id is held back for a grace period: a packet that read it from a ring
 * or flow just before it was freed must still find the old entry, not a
 * half-written new one. Ids are handed out round-robin from the last one,
 * so a freed id comes back as late as possible.
 */
#ifndef XLB_SYNC_IDPOOL_H
#define XLB_SYNC_IDPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct xlb_idpool {
	__u8 *state;		/* ID_FREE, ID_USED or ID_HELD, | ID_DIRTY */
	__u32 max;
	__u32 hint;
	__u32 n_used;		/* used or held */
	struct xlb_held_id {
		__u32 id;
		uint64_t at;
	} *held;		/* FIFO of held ids */
	size_t held_head, held_tail, held_cap;
};

int xlb_idpool_init(struct xlb_idpool *p, __u32 max);
void xlb_idpool_fini(struct xlb_idpool *p);
/* Marks id used (adopting pinned state); ids out of range or not free
 * are left as they are. */
void xlb_idpool_mark(struct xlb_idpool *p, __u32 id);
/* Returns an id, or XLB_ID_NONE when every id is used; waits out the
 * grace period when only held ids are left. *dirty says whether the map
 * entry of the id may still hold an old value. */
__u32 xlb_idpool_alloc(struct xlb_idpool *p, bool *dirty);
/* Holds id back for the grace period; an id that is not used is left as
 * it is. */
void xlb_idpool_free(struct xlb_idpool *p, __u32 id);

#endif /* XLB_SYNC_IDPOOL_H */
