/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel side only: the balancing decision shared by the XDP and tc
 * programs. It parses, looks up the VIP, follows or creates the flow's
 * conntrack entry, and says which rewrite to make; the entry programs do
 * the rewrite their own way (nat.h) and forward.
 */
#ifndef XLB_BPF_LB_H
#define XLB_BPF_LB_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "conntrack.h"
#include "maglev.h"
#include "nat.h"
#include "stats.h"

/* A tracked backend still serves its flows while ACTIVE or TERMINATING
 * and while it belongs to the service the flow was balanced by. */
static __always_inline const struct xlb_backend *
xlb_backend_usable(__u32 id, __u32 svc_id)
{
	const struct xlb_backend *be;

	be = bpf_map_lookup_elem(&xlb_backends, &id);
	if (!be || be->svc_id != svc_id)
		return NULL;
	if (be->state != XLB_BE_ACTIVE && be->state != XLB_BE_TERMINATING)
		return NULL;
	return be;
}

/* A TCP SYN without ACK: the first packet of a new connection. */
static __always_inline int xlb_is_tcp_syn(const struct xlb_pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x02;
}

/* Forward direction: packet p to the frontend of service svc. */
static __always_inline int xlb_lb_forward(const struct xlb_pkt *p,
					  const struct xlb_vip_key *vk,
					  const struct xlb_svc *svc,
					  struct xlb_nat *n, __u32 len)
{
	const struct xlb_backend *be;
	struct xlb_ct_key k;
	struct xlb_ct_val *ct;
	__u32 id;

	xlb_ct_key_of(&k, p, XLB_CT_FWD);
	ct = bpf_map_lookup_elem(&xlb_ct, &k);
	if (ct) {
		be = xlb_backend_usable(ct->backend_id, ct->svc_id);
		if (be && ct->svc_id == svc->svc_id &&
		    (be->state == XLB_BE_ACTIVE || !xlb_is_tcp_syn(p))) {
			xlb_ct_touch(ct);
			id = ct->backend_id;
			goto found;
		}
		/* The backend left: re-balance now instead of sending the
		 * flow into a black hole until the entry times out. A SYN
		 * reusing the ports of an old connection to a terminating
		 * backend is a new connection: it takes no terminating
		 * backend either. */
		if (!be || ct->svc_id != svc->svc_id)
			xlb_stat(XLB_STAT_CT_STALE, len);
	}

	id = xlb_maglev_pick(svc, p);
	be = xlb_backend_usable(id, svc->svc_id);
	if (!be || be->state != XLB_BE_ACTIVE) {
		/* The agent retires a backend only after the service points
		 * at a ring without it; if we read the service just before
		 * that swap, reading it again gives the new ring. */
		svc = bpf_map_lookup_elem(&xlb_svc, vk);
		if (!svc)
			return XLB_STAT_NO_BACKEND;
		id = xlb_maglev_pick(svc, p);
		be = xlb_backend_usable(id, svc->svc_id);
		if (!be || be->state != XLB_BE_ACTIVE)
			return XLB_STAT_NO_BACKEND;
	}
	xlb_ct_insert(p, be, id, svc->svc_id);
	xlb_stat(XLB_STAT_CT_NEW, len);
found:
	__builtin_memcpy(&n->addr, &be->addr, 16);
	n->port = be->port;
	n->side = XLB_NAT_DST;
	xlb_count(&xlb_svc_stats, svc->svc_id, len);
	xlb_count(&xlb_be_stats, id, len);
	return XLB_STAT_DNAT;
}

/* Whether a frontend (backend = 0) or a backend (1) uses this port. */
static __always_inline int xlb_port_used(__be16 port, int backend)
{
	__u32 key = bpf_ntohs(port);
	struct xlb_port_use *u = bpf_map_lookup_elem(&xlb_ports, &key);

	if (!u)
		return 1;
	return backend ? u->backends != 0 : u->frontends != 0;
}

/* Decides what to do with a packet; returns an XLB_STAT_* outcome.
 * For XLB_STAT_DNAT and XLB_STAT_RNAT, n holds the rewrite to make. */
static __always_inline int xlb_decide(void *data, void *data_end, __u32 len,
				      struct xlb_pkt *p, struct xlb_nat *n)
{
	struct xlb_vip_key vk = {};
	struct xlb_svc *svc;
	struct xlb_ct_key k;
	struct xlb_ct_val *ct;
	int rc;

	rc = xlb_parse(data, data_end, p);
	if (rc == -XLB_E_PARSE)
		return XLB_STAT_PARSE_ERR;
	if (rc < 0)
		return XLB_STAT_UNSUPPORTED;

	if (xlb_cfg.port_filter && !xlb_port_used(p->dport, 0))
		goto reply;
	__builtin_memcpy(&vk.addr, &p->daddr, 16);
	vk.port = p->dport;
	vk.proto = p->proto;
	vk.family = p->family;
	svc = bpf_map_lookup_elem(&xlb_svc, &vk);
	if (svc)
		return xlb_lb_forward(p, &vk, svc, n, len);

reply:
	/* Not for a VIP: maybe a backend's reply to a balanced flow. */
	if (xlb_cfg.port_filter && !xlb_port_used(p->sport, 1))
		return XLB_STAT_PASS;
	xlb_ct_key_of(&k, p, XLB_CT_REV);
	ct = bpf_map_lookup_elem(&xlb_ct, &k);
	if (!ct)
		return XLB_STAT_PASS;
	xlb_ct_touch(ct);
	__builtin_memcpy(&n->addr, &ct->nat_addr, 16);
	n->port = ct->nat_port;
	n->side = XLB_NAT_SRC;
	return XLB_STAT_RNAT;
}

#endif /* XLB_BPF_LB_H */
