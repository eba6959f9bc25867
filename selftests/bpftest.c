// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
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
			[XLB_MAPI_RINGS] = T_RING_SLOTS / XLB_RING_SLOTS_PER_ENTRY,
			[XLB_MAPI_CT] = T_CT,
			[XLB_MAPI_AFFINITY] = T_AFFINITY,
			[XLB_MAPI_SRC_RANGES] = T_SRC_RANGES,
		},
		.no_port_filter = !port_filter,
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

__u64 bt_counter(__u32 key)
{
	struct xlb_counter c[256];
	__u64 n = 0;
	int i;

	bpf_map_lookup_elem(bpf_map__fd(bt_xdp->maps.xlb_stats), &key, c);
	for (i = 0; i < libbpf_num_possible_cpus(); i++)
		n += c[i].packets;
	return n;
}

void bt_flush_ct(void)
{
	int fd = bpf_map__fd(bt_xdp->maps.xlb_ct);
	struct xlb_ct_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

void bt_add_service(int family, const struct pkt_addr *vip, uint16_t port,
		    uint8_t proto, const struct pkt_addr *be, uint16_t bport,
		    __u32 sid, __u32 bid, __u32 ring_off)
{
	__u8 f = family == 4 ? XLB_AF_INET : XLB_AF_INET6;
	size_t alen = family == 4 ? 4 : 16;
	struct xlb_vip_key k = { .port = htons(port), .proto = proto,
				 .family = f };
	struct xlb_svc v = { .svc_id = sid, .ring_off = ring_off,
			     .ring_size = be ? 251 : 0 };
	struct xlb_backend b = { .port = htons(bport), .family = f,
				 .state = XLB_BE_ACTIVE, .svc_id = sid,
				 .weight = 1 };
	struct xlb_ring_pair pair = { { bid, bid } };
	__u32 i;

	memcpy(k.addr.bytes, vip->b, alen);
	if (be) {
		memcpy(b.addr.bytes, be->b, alen);
		bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_backends),
				    &bid, &b, 0);
		for (i = ring_off / 2; i < (ring_off + 252) / 2; i++)
			bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_rings),
					    &i, &pair, 0);
	}
	bpf_map_update_elem(bpf_map__fd(bt_xdp->maps.xlb_svc), &k, &v, 0);
	bt_dp.maps.port_mem[port].frontends++;
	if (be)
		bt_dp.maps.port_mem[bport].backends++;
}
