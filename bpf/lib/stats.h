/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Kernel side only: per-CPU counters (plain adds, no atomics). */
#ifndef XLB_BPF_STATS_H
#define XLB_BPF_STATS_H

#include "maps.h"

static __always_inline void xlb_count(void *map, __u32 idx, __u32 bytes)
{
	struct xlb_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void xlb_stat(__u32 outcome, __u32 bytes)
{
	xlb_count(&xlb_stats, outcome, bytes);
}

#endif /* XLB_BPF_STATS_H */
