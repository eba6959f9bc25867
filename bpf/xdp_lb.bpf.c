// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xlb XDP entry: the fast path on the interfaces traffic enters on. */
#include "lib/ctx_xdp.h"
#include "lib/handle.h"

SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	return xlb_handle(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
