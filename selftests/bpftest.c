// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpftest.h"

struct xlb_xdp_lb *bt_xdp;
struct xlb_tc_lb *bt_tc;

int bt_load(void)
{
	struct bpf_map *m;
	int rc;

	bt_xdp = xlb_xdp_lb__open();
	bt_tc = xlb_tc_lb__open();
	if (!bt_xdp || !bt_tc)
		return -errno;
	bpf_map__set_max_entries(bt_xdp->maps.xlb_rings, 1024);
	bpf_map__set_max_entries(bt_xdp->maps.xlb_ct, 1024);
	bpf_map__set_max_entries(bt_xdp->maps.xlb_backends, 64);
	bpf_map__set_max_entries(bt_xdp->maps.xlb_be_stats, 64);
	bpf_map__set_max_entries(bt_xdp->maps.xlb_svc_info, 64);
	bpf_map__set_max_entries(bt_xdp->maps.xlb_svc_stats, 64);
	rc = xlb_xdp_lb__load(bt_xdp);
	if (rc)
		return rc;
	bpf_object__for_each_map(m, bt_tc->obj) {
		struct bpf_map *x = bpf_object__find_map_by_name(
			bt_xdp->obj, bpf_map__name(m));

		if (x && !strstr(bpf_map__name(m), ".rodata"))
			bpf_map__reuse_fd(m, bpf_map__fd(x));
	}
	return xlb_tc_lb__load(bt_tc);
}

void bt_unload(void)
{
	xlb_tc_lb__destroy(bt_tc);
	xlb_xdp_lb__destroy(bt_xdp);
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
}
