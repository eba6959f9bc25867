// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Where xlb_xdp's time goes: programs that stop the datapath after one
 * more step each, built from the same bpf/lib headers (so they change
 * with it) and run on the same maps as xlb_xdp (pktcost --profile reuses
 * its map fds). The cost of a step is the difference between two
 * consecutive programs; the micro programs time single helpers.
 */
#include "lib/lb.h"

/* ---- the established-flow path, step by step ------------------------ */

static __always_inline int parse_and_key(struct xdp_md *ctx,
					 struct xlb_pkt *p,
					 struct xlb_vip_key *vk)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (xlb_parse(data, data_end, p) < 0)
		return -1;
	__builtin_memcpy(&vk->addr, &p->daddr, 16);
	vk->port = p->dport;
	vk->proto = p->proto;
	vk->family = p->family;
	return 0;
}

SEC("xdp")
int xb_s1_parse(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp")
int xb_s2_svc(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (!bpf_map_lookup_elem(&xlb_svc, &vk))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xb_s3_ct(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_ct_key k;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (!bpf_map_lookup_elem(&xlb_svc, &vk))
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.saddr, p.sport, p.proto, p.family);
	if (!bpf_map_lookup_elem(&xlb_ct, &k))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xb_s4_backend(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_ct_val *ct;
	struct xlb_ct_key k;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (!bpf_map_lookup_elem(&xlb_svc, &vk))
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.saddr, p.sport, p.proto, p.family);
	ct = bpf_map_lookup_elem(&xlb_ct, &k);
	if (!ct)
		return XDP_DROP;
	if (!xlb_backend_usable(ct->backend_id, ct->svc_id))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xb_s5_touch(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_ct_val *ct;
	struct xlb_ct_key k;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (!bpf_map_lookup_elem(&xlb_svc, &vk))
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.saddr, p.sport, p.proto, p.family);
	ct = bpf_map_lookup_elem(&xlb_ct, &k);
	if (!ct)
		return XDP_DROP;
	if (!xlb_backend_usable(ct->backend_id, ct->svc_id))
		return XDP_DROP;
	xlb_ct_touch(ct);
	return XDP_PASS;
}

/* Everything of xlb_xdp's established path but the three counters. */
SEC("xdp")
int xb_s6_nat(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct xlb_backend *be;
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_nat n = {};
	struct xlb_ct_val *ct;
	struct xlb_ct_key k;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (!bpf_map_lookup_elem(&xlb_svc, &vk))
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.saddr, p.sport, p.proto, p.family);
	ct = bpf_map_lookup_elem(&xlb_ct, &k);
	if (!ct)
		return XDP_DROP;
	be = xlb_backend_usable(ct->backend_id, ct->svc_id);
	if (!be)
		return XDP_DROP;
	xlb_ct_touch(ct);
	__builtin_memcpy(&n.addr, &be->addr, 16);
	n.port = be->port;
	n.side = XLB_NAT_DST;
	if (xlb_nat_xdp(data, data_end, &p, &n) < 0)
		return XDP_ABORTED;
	return XDP_PASS;
}

/* ---- the new-flow path ---------------------------------------------- */

/* Parse, VIP, conntrack miss. */
SEC("xdp")
int xb_n0_miss(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_ct_key k;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (!bpf_map_lookup_elem(&xlb_svc, &vk))
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.saddr, p.sport, p.proto, p.family);
	if (bpf_map_lookup_elem(&xlb_ct, &k))
		return XDP_DROP;
	return XDP_PASS;
}

/* The same plus the Maglev slot and the backend: all but the inserts. */
SEC("xdp")
int xb_n1_pick(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_svc *svc;
	struct xlb_ct_key k;
	__u32 id;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	svc = bpf_map_lookup_elem(&xlb_svc, &vk);
	if (!svc)
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.saddr, p.sport, p.proto, p.family);
	if (bpf_map_lookup_elem(&xlb_ct, &k))
		return XDP_DROP;
	id = xlb_maglev_pick(svc, &p);
	if (!xlb_backend_usable(id, svc->svc_id))
		return XDP_DROP;
	return XDP_PASS;
}

/* The same plus the conntrack insert and the rewrite: xlb_xdp's new
 * flow path without its four counters. */
SEC("xdp")
int xb_n2_insert(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct xlb_backend *be;
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_flow f = {};
	struct xlb_nat n = {};
	struct xlb_svc *svc;
	struct xlb_ct_key k;
	__u32 id;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	svc = bpf_map_lookup_elem(&xlb_svc, &vk);
	if (!svc)
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.saddr, p.sport, p.proto, p.family);
	if (bpf_map_lookup_elem(&xlb_ct, &k))
		return XDP_DROP;
	id = xlb_maglev_pick(svc, &p);
	be = xlb_backend_usable(id, svc->svc_id);
	if (!be)
		return XDP_DROP;
	xlb_ct_insert(&p, be, id, NULL, &f);
	__builtin_memcpy(&n.addr, &be->addr, 16);
	n.port = be->port;
	n.side = XLB_NAT_DST;
	if (xlb_nat_xdp(data, data_end, &p, &n) < 0)
		return XDP_ABORTED;
	return XDP_PASS;
}

/* ---- the non-VIP path ------------------------------------------------ */

/* Parse and the port filter's two reads, both misses: what a packet on a
 * port xlb does not use costs (before its counter). */
SEC("xdp")
int xb_p0_ports(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (xlb_port_used(p.dport, 0) || xlb_port_used(p.sport, 1))
		return XDP_DROP;
	return XDP_PASS;
}

/* Parse, VIP miss, reverse ct miss: xlb_xdp's pass path for a packet on
 * a frontend port, without its counter. */
SEC("xdp")
int xb_p1_miss(struct xdp_md *ctx)
{
	struct xlb_vip_key vk = {};
	struct xlb_pkt p = {};
	struct xlb_ct_key k;

	if (parse_and_key(ctx, &p, &vk))
		return XDP_ABORTED;
	if (bpf_map_lookup_elem(&xlb_svc, &vk))
		return XDP_DROP;
	xlb_ct_client_key(&k, &p.daddr, p.dport, p.proto, p.family);
	if (bpf_map_lookup_elem(&xlb_ct, &k))
		return XDP_DROP;
	return XDP_PASS;
}

/* ---- single helpers ---------------------------------------------------- */

SEC("xdp")
int xb_m_ktime(struct xdp_md *ctx)
{
	return bpf_ktime_get_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xb_m_coarse(struct xdp_md *ctx)
{
	return bpf_ktime_get_coarse_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xb_m_jiffies(struct xdp_md *ctx)
{
	return bpf_jiffies64() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xb_m_counter(struct xdp_md *ctx)
{
	xlb_stat(XLB_STAT_PASS, 64);
	return XDP_PASS;
}

SEC("xdp")
int xb_m_3counters(struct xdp_md *ctx)
{
	xlb_stat(XLB_STAT_DNAT, 64);
	xlb_count(&xlb_svc_stats, 1, 64);
	xlb_count(&xlb_be_stats, 1, 64);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
