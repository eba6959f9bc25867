// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlb socket-level balancing: cgroup v2 socket hooks over the datapath's
 * maps. A connect() or sendmsg() to a frontend is given a backend's
 * address before any packet exists, so these flows need no per-packet
 * NAT; recvmsg() and getpeername() give the frontend back. The socket
 * iterators destroy sockets still connected to a backend that left.
 *
 * The decision is the per-packet one (bpf/lib/lb.h): the frontend's
 * Maglev ring (weights, groups and the terminating fallback are in the
 * rings the agent builds), ACTIVE backends only for a new flow, the ring
 * read again when the pick is stale, client-IP affinity with its
 * timeout. What differs:
 * - the hash: the socket's cookie stands for the client port, which is
 *   often not bound yet at connect();
 * - the affinity key: the client's network namespace (its cookie), not
 *   its address, which is not bound either; a pod is one namespace with
 *   one address, so this is the same stickiness;
 * - an external frontend (external IP, load-balancer IP, NodePort) is
 *   served as the service's ClusterIP (xlb_svc_vip): from inside the
 *   cluster the internal traffic policy applies (README);
 * - no usable backend: the call fails with ECONNREFUSED (a socket has
 *   nothing to drop), Local policies included.
 */
#include "lib/lb.h"

#ifndef ECONNREFUSED
#define ECONNREFUSED 111
#endif
#define XLB_AF_INET_SYS 2	/* AF_INET */
#define XLB_AF_INET6_SYS 10	/* AF_INET6 */
#define XLB_TCP_TIME_WAIT 6
#define XLB_TCP_NEW_SYN_RECV 12

const volatile struct xlb_sock_cfg xlb_sock_cfg = {};

/* The ClusterIP frontend of an external one, or svc itself. */
static __always_inline const struct xlb_svc *
xlb_sock_internal(const struct xlb_svc *svc, struct xlb_pkt *p)
{
	const struct xlb_vip_key *vk;
	const struct xlb_svc *cip;
	__u32 id = svc->svc_id;

	if ((svc->flags & XLB_FE_KIND_MASK) == XLB_FE_CLUSTER_IP)
		return svc;
	vk = bpf_map_lookup_elem(&xlb_svc_vip, &id);
	if (!vk || vk->proto != p->proto || vk->family != p->family)
		return svc;
	cip = bpf_map_lookup_elem(&xlb_svc, vk);
	if (!cip || cip->svc_id != svc->svc_id)
		return svc;
	/* The pick below hashes and rereads the ClusterIP's key. */
	__builtin_memcpy(&p->daddr, &vk->addr, 16);
	p->dport = vk->port;
	return cip;
}

/*
 * The backend for a new socket flow to frontend svc, as xlb_lb_forward()
 * picks one for a new packet flow; NULL without a usable one. p holds the
 * frontend's key (daddr, dport, proto, family), the affinity client in
 * saddr and the socket's cookie in sport.
 */
XLB_SUBPROG const struct xlb_backend *
xlb_sock_pick(const struct xlb_svc *svc, struct xlb_pkt *p, __u32 *idp)
{
	int hit = 0;

	svc = xlb_sock_internal(svc, p);
	return xlb_pick_new(p, &svc, idp, &hit);
}

/* The address of a sock_addr context (user_ip4 / user_ip6). */
static __always_inline void xlb_ctx_addr(const struct bpf_sock_addr *ctx,
					 __u8 family, union xlb_addr *a)
{
	if (family == XLB_AF_INET) {
		a->v4 = ctx->user_ip4;
		return;
	}
	a->v6[0] = ctx->user_ip6[0];
	a->v6[1] = ctx->user_ip6[1];
	a->v6[2] = ctx->user_ip6[2];
	a->v6[3] = ctx->user_ip6[3];
}

/* Rewrites the context's address and port (4-byte stores only). */
static __always_inline void xlb_ctx_set(struct bpf_sock_addr *ctx,
					__u8 family, const union xlb_addr *a,
					__be16 port)
{
	if (family == XLB_AF_INET) {
		ctx->user_ip4 = a->v4;
	} else {
		ctx->user_ip6[0] = a->v6[0];
		ctx->user_ip6[1] = a->v6[1];
		ctx->user_ip6[2] = a->v6[2];
		ctx->user_ip6[3] = a->v6[3];
	}
	ctx->user_port = port;
}

/*
 * connect() and sendmsg() of both families: rewrites the destination of
 * ctx when it is a frontend. Returns the hook's verdict: 1 goes on (to
 * the backend, or untouched), 0 fails the call with ECONNREFUSED.
 */
static __always_inline int xlb_sock_balance(struct bpf_sock_addr *ctx,
					    __u8 family)
{
	const struct xlb_backend *be;
	struct xlb_sock_key sk = {};
	struct xlb_sock_val sv = {};
	struct xlb_vip_key vk = {};
	const struct xlb_svc *svc;
	struct xlb_pkt p = {};
	__u64 cookie, ns;
	__u32 id = 0;

	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return 1;
	ns = bpf_get_netns_cookie(ctx);
	if (xlb_sock_cfg.netns_cookie && ns != xlb_sock_cfg.netns_cookie)
		return 1;
	xlb_ctx_addr(ctx, family, &vk.addr);
	vk.port = (__be16)ctx->user_port;
	vk.proto = ctx->protocol;
	vk.family = family;
	svc = bpf_map_lookup_elem(&xlb_svc, &vk);
	if (!svc)
		return 1;

	cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(&p.daddr, &vk.addr, 16);
	p.dport = vk.port;
	p.proto = vk.proto;
	p.family = family;
	/* ff5c::/16 is multicast, never a client's address: these affinity
	 * keys cannot meet the per-packet path's. */
	p.saddr.v6[0] = bpf_htonl(0xff5c0000);
	p.saddr.v6[2] = (__u32)(ns >> 32);
	p.saddr.v6[3] = (__u32)ns;
	p.sport = (__be16)(cookie ^ (cookie >> 16) ^ (cookie >> 32));

	be = xlb_sock_pick(svc, &p, &id);
	if (!be) {
		xlb_stat(XLB_STAT_SOCK_REJECTED, 0);
		bpf_set_retval(-ECONNREFUSED);
		return 0;
	}
	xlb_ctx_set(ctx, family, &be->addr, be->port);

	sk.cookie = cookie;
	__builtin_memcpy(&sk.addr, &be->addr, 16);
	sk.port = be->port;
	sk.family = family;
	__builtin_memcpy(&sv.addr, &vk.addr, 16);
	sv.port = vk.port;
	sv.backend_id = id;
	sv.svc_id = be->svc_id;
	bpf_map_update_elem(&xlb_sock, &sk, &sv, BPF_ANY);
	xlb_stat(XLB_STAT_SOCK_BALANCED, 0);
	xlb_count(&xlb_svc_stats, be->svc_id, 0);
	xlb_count(&xlb_be_stats, id, 0);
	return 1;
}

/* recvmsg() and getpeername(): a backend's address, as the socket was
 * balanced to it, becomes the frontend's again. */
static __always_inline int xlb_sock_restore(struct bpf_sock_addr *ctx,
					    __u8 family)
{
	struct xlb_sock_key sk = {};
	struct xlb_sock_val *sv;

	sk.cookie = bpf_get_socket_cookie(ctx);
	xlb_ctx_addr(ctx, family, &sk.addr);
	sk.port = (__be16)ctx->user_port;
	sk.family = family;
	sv = bpf_map_lookup_elem(&xlb_sock, &sk);
	if (!sv)
		return 1;
	xlb_ctx_set(ctx, family, &sv->addr, sv->port);
	return 1;
}

/* One hook: SEC("cgroup/HOOK") xlb_sock_HOOK() calling fn for family. */
#define XLB_SOCK_HOOK(hook, fn, family)                                        \
	SEC("cgroup/" #hook)                                                   \
	int xlb_sock_##hook(struct bpf_sock_addr *ctx)                         \
	{                                                                      \
		return fn(ctx, family);                                        \
	}

XLB_SOCK_HOOK(connect4, xlb_sock_balance, XLB_AF_INET)
XLB_SOCK_HOOK(connect6, xlb_sock_balance, XLB_AF_INET6)
XLB_SOCK_HOOK(sendmsg4, xlb_sock_balance, XLB_AF_INET)
XLB_SOCK_HOOK(sendmsg6, xlb_sock_balance, XLB_AF_INET6)
XLB_SOCK_HOOK(recvmsg4, xlb_sock_restore, XLB_AF_INET)
XLB_SOCK_HOOK(recvmsg6, xlb_sock_restore, XLB_AF_INET6)
XLB_SOCK_HOOK(getpeername4, xlb_sock_restore, XLB_AF_INET)
XLB_SOCK_HOOK(getpeername6, xlb_sock_restore, XLB_AF_INET6)

/* ---- closing sockets whose backend left ---------------------------------
 *
 * The iterators' context and the socket fields they read, declared here
 * with CO-RE relocations (the kernel's BTF gives the offsets) instead of
 * a vmlinux.h, which cannot be included beside the uapi headers above.
 */
struct bpf_iter_meta;

struct sock_common {
	unsigned short skc_family;
	volatile unsigned char skc_state;
	__be32 skc_daddr;
	__be16 skc_dport;
	struct in6_addr skc_v6_daddr;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

/* udp_sk is a struct udp_sock, whose first member is (a struct that
 * begins with) its struct sock_common. */
struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct sock_common *udp_sk;
} __attribute__((preserve_access_index));

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/* Whether the socket's backend still takes it: a UDP socket needs an
 * ACTIVE backend (a terminating one takes no new datagram flow), a TCP
 * one an ACTIVE or TERMINATING backend (it keeps its connections). */
static __always_inline int xlb_sock_stale(const struct xlb_sock_key *k,
					  const struct xlb_sock_val *v, int udp)
{
	const struct xlb_backend *be;
	__u32 id = v->backend_id;

	be = bpf_map_lookup_elem(&xlb_backends, &id);
	if (!be || be->svc_id != v->svc_id || be->port != k->port ||
	    be->addr.v6[0] != k->addr.v6[0] || be->addr.v6[1] != k->addr.v6[1] ||
	    be->addr.v6[2] != k->addr.v6[2] || be->addr.v6[3] != k->addr.v6[3])
		return 1;
	if (be->state == XLB_BE_ACTIVE)
		return 0;
	return udp || be->state != XLB_BE_TERMINATING;
}

static __always_inline int xlb_sock_reap(struct sock_common *skc, int udp)
{
	struct xlb_sock_key k = {};
	struct xlb_sock_val *v;
	unsigned short fam;

	if (!skc)
		return 0;
	if (!udp && (skc->skc_state == XLB_TCP_TIME_WAIT ||
		     skc->skc_state == XLB_TCP_NEW_SYN_RECV))
		return 0;
	fam = skc->skc_family;
	if (fam == XLB_AF_INET_SYS) {
		k.addr.v4 = skc->skc_daddr;
		k.family = XLB_AF_INET;
	} else if (fam == XLB_AF_INET6_SYS) {
		k.addr.v6[0] = skc->skc_v6_daddr.in6_u.u6_addr32[0];
		k.addr.v6[1] = skc->skc_v6_daddr.in6_u.u6_addr32[1];
		k.addr.v6[2] = skc->skc_v6_daddr.in6_u.u6_addr32[2];
		k.addr.v6[3] = skc->skc_v6_daddr.in6_u.u6_addr32[3];
		k.family = XLB_AF_INET6;
	} else {
		return 0;
	}
	k.port = skc->skc_dport;
	if (!k.port)
		return 0;
	k.cookie = bpf_get_socket_cookie(skc);
	v = bpf_map_lookup_elem(&xlb_sock, &k);
	if (!v || !xlb_sock_stale(&k, v, udp))
		return 0;
	if (!bpf_sock_destroy(skc))
		xlb_stat(XLB_STAT_SOCK_DESTROYED, 0);
	bpf_map_delete_elem(&xlb_sock, &k);
	return 0;
}

SEC("iter/tcp")
int xlb_sock_reap_tcp(struct bpf_iter__tcp *ctx)
{
	return xlb_sock_reap(ctx->sk_common, 0);
}

SEC("iter/udp")
int xlb_sock_reap_udp(struct bpf_iter__udp *ctx)
{
	return xlb_sock_reap(ctx->udp_sk, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
