// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The null XDP program: the benchmark's baseline for per-packet cost. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xlb_null(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
