// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpftest.h"
#include "log.h"

struct xlb_dp bt_dp = { .lock_fd = -1 };
struct xlb_xdp_lb *bt_xdp;
struct xlb_tc_lb *bt_tc;

int bt_dp_load(struct xlb_dp *dp, const struct xlb_dp *share,
	       bool port_filter)
{
	struct xlb_loader_opts o = {
		.map_size = {
			[XLB_MAPI_SVC] = T_FRONTENDS,
			[XLB_MAPI_SVC_INFO] = T_SERVICES,
			[XLB_MAPI_SVC_STATS] = T_SERVICES,
			[XLB_MAPI_BACKENDS] = T_BACKENDS,
			[XLB_MAPI_BE_STATS] = T_BACKENDS,
			[XLB_MAPI_RINGS] =
				T_RING_SLOTS / XLB_RING_SLOTS_PER_ENTRY,
			[XLB_MAPI_CT] = T_CT,
			[XLB_MAPI_AFFINITY] = T_AFFINITY,
			[XLB_MAPI_SRC_RANGES] = T_SRC_RANGES,
		},
		.no_port_filter = !port_filter,
		.snat_port_min = T_SNAT_MIN,
		.snat_port_max = T_SNAT_MAX,
		.share = share,
	};
	int rc;

	rc = xlb_dp_load(dp, &o);
	if (rc)
		return rc;
	/* The tests write a port's entry at its index. */
	if (bpf_map__max_entries(dp->xdp->maps.xlb_ports) != T_PORTS) {
		pr_err("xlb_ports: %u entries, not one per port",
		       bpf_map__max_entries(dp->xdp->maps.xlb_ports));
		return -EINVAL;
	}
	return 0;
}

int bt_load(void)
{
	int rc = bt_dp_load(&bt_dp, NULL, true);

	bt_xdp = bt_dp.xdp;
	bt_tc = bt_dp.tc;
	return rc;
}

void bt_unload(void)
{
	xlb_dp_close(&bt_dp);
	bt_tc = NULL;
	bt_xdp = NULL;
}

int bt_run(int which, const uint8_t *in, size_t len, uint8_t *out,
	   __u32 *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = 512, .repeat = 1);
	int fd = which ? bpf_program__fd(bt_tc->progs.xlb_tc) :
			 bpf_program__fd(bt_xdp->progs.xlb_xdp);

	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	*ret = o.retval;
	return (int)o.data_size_out;
}
