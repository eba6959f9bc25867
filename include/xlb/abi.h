/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xlb map ABI: every key and value the BPF programs and userspace share.
 *
 * Both sides include this file and nothing else to learn the layout of a
 * map; no struct here is re-declared anywhere. Fixed-width types only,
 * explicit padding, and a _Static_assert on every size so that a change
 * on one side cannot silently drift from the other.
 */
#ifndef XLB_ABI_H
#define XLB_ABI_H

#include <linux/types.h>

/*
 * The maps, listed once: X(UC, lc) for each. Everything that must agree on
 * the set and order of the maps is generated from this list: the index
 * enum (XLB_MAPI_*), XLB_N_MAPS, the fd fields of userspace's struct
 * xlb_maps (named lc), its table of names, and the loader's copy of the
 * skeleton's fds. A map's name is "xlb_" #lc: it is the BPF variable in
 * bpf/lib/maps.h, and the file name of its pin under the bpffs directory
 * (default XLB_DEFAULT_BPFFS), so `bpftool map dump pinned
 * /sys/fs/bpf/xlb/xlb_svc` works. The order is that of the index enum;
 * append new maps at the end.
 */
#define XLB_MAPS(X)                                                            \
	X(SVC, svc)                                                            \
	X(SVC_INFO, svc_info)                                                  \
	X(BACKENDS, backends)                                                  \
	X(RINGS, rings)                                                        \
	X(CT, ct)                                                              \
	X(SVC_STATS, svc_stats)                                                \
	X(BE_STATS, be_stats)                                                  \
	X(STATS, stats)                                                        \
	X(PORTS, ports)                                                        \
	X(AFFINITY, affinity)                                                  \
	X(SRC_RANGES, src_ranges)                                              \
	X(FRAGS, frags)                                                        \
	X(HAIRPIN, hairpin)                                                    \
	X(SOCK, sock)                                                          \
	X(SVC_VIP, svc_vip)                                                    \
	X(SNAT_ADDRS, snat_addrs)                                              \
	X(SCRATCH, scratch)

#define XLB_MAP_NAME(lc) "xlb_" #lc

/* Index of each map in the list: XLB_MAPI_SVC, ... */
#define XLB_MAPI_ENTRY(UC, lc) XLB_MAPI_##UC,
enum xlb_map_index {
	XLB_MAPS(XLB_MAPI_ENTRY)
	XLB_N_MAPS
};

/* The names one at a time, for code that names one map. A #define cannot
 * be generated, so these are spelled out; the assertions below the list
 * hold each to its list entry. */
#define XLB_MAP_SVC		"xlb_svc"
#define XLB_MAP_SVC_INFO	"xlb_svc_info"
#define XLB_MAP_BACKENDS	"xlb_backends"
#define XLB_MAP_RINGS		"xlb_rings"
#define XLB_MAP_CT		"xlb_ct"
#define XLB_MAP_SVC_STATS	"xlb_svc_stats"
#define XLB_MAP_BE_STATS	"xlb_be_stats"
#define XLB_MAP_STATS		"xlb_stats"
#define XLB_MAP_PORTS		"xlb_ports"
#define XLB_MAP_AFFINITY	"xlb_affinity"
#define XLB_MAP_SRC_RANGES	"xlb_src_ranges"
#define XLB_MAP_FRAGS		"xlb_frags"
#define XLB_MAP_HAIRPIN		"xlb_hairpin"
#define XLB_MAP_SOCK		"xlb_sock"
#define XLB_MAP_SVC_VIP		"xlb_svc_vip"
#define XLB_MAP_SNAT_ADDRS	"xlb_snat_addrs"
#define XLB_MAP_SCRATCH		"xlb_scratch"

/* A name macro missing for a listed map fails to compile; a misspelt one
 * fails here (gcc and clang fold strcmp of two literals). */
#define XLB_MAP_NAME_CHECK(UC, lc)                                             \
	_Static_assert(__builtin_strcmp(XLB_MAP_##UC, XLB_MAP_NAME(lc)) == 0,  \
		       "XLB_MAP_" #UC " is not " XLB_MAP_NAME(lc));
XLB_MAPS(XLB_MAP_NAME_CHECK)

#define XLB_DEFAULT_BPFFS	"/sys/fs/bpf/xlb"

/* Default map sizes; xlbd can resize them before the first load. */
#define XLB_DEF_MAX_FRONTENDS	131072	/* xlb_svc entries */
#define XLB_DEF_MAX_SERVICES	131072	/* service ids: 0 .. n-1 */
#define XLB_DEF_MAX_BACKENDS	524288	/* backend ids: 0 .. n-1 */
#define XLB_DEF_RING_SLOTS	(1u << 22) /* Maglev slots shared by all rings (even) */
#define XLB_DEF_CT_ENTRIES	262144	/* one per flow (two for a client port shared
					 * by live flows, or a hairpin) */
#define XLB_DEF_AFFINITY	65536	/* (service, client) pairs */
#define XLB_DEF_SRC_RANGES	16384	/* CIDRs of all services */
#define XLB_DEF_FRAGS		16384	/* datagrams being fragmented */
#define XLB_DEF_SOCKS		262144	/* (socket, backend) pairs balanced
					 * by the socket hooks */
#define XLB_DEF_SNAT_IFACES	4096	/* interfaces with a source NAT address */

/* Source ports of source-NATed flows, by default: above Linux's default
 * ephemeral range (32768-60999, net.ipv4.ip_local_port_range), so the
 * node's own connections to a backend never collide with them, and far
 * from the NodePort range (30000-32767). */
#define XLB_DEF_SNAT_PORT_MIN	61000
#define XLB_DEF_SNAT_PORT_MAX	65535
/* A new source-NATed flow tries this many ports (a hash of its client,
 * then the next ones) before it is dropped as snat_exhausted. */
#define XLB_SNAT_TRIES		8
/* A port's reservation whose flow is over is taken by the next flow that
 * tries the port: after a FIN or RST, once this long without a packet
 * (the backend's TIME_WAIT accepts a new SYN on the same ports) ... */
#define XLB_SNAT_CLOSED_NS	(10ull * 1000 * 1000 * 1000)
/* ... else once idle this long (nf_conntrack keeps UDP streams 120 s). */
#define XLB_SNAT_IDLE_TCP_NS	(7200ull * 1000 * 1000 * 1000)
#define XLB_SNAT_IDLE_UDP_NS	(120ull * 1000 * 1000 * 1000)

/* Maglev table sizes. The agent picks the smallest prime in this range at
 * or above XLB_RING_PER_BACKEND times the backend count. */
#define XLB_RING_MIN		251
#define XLB_RING_MAX		65537
#define XLB_RING_PER_BACKEND	100

/* Service and backend ids start at 1; 0 means "none". */
#define XLB_ID_NONE		0

/* The seed of the flow hash. It is a constant of the ABI, not a setting:
 * two nodes with the same backends must pick the same backend for the
 * same flow. */
#define XLB_HASH_SEED		0x786c6221u

#define XLB_SVC_NAME_LEN	64

/* An IPv4 address sits in v4 with the other 12 bytes zero. */
union xlb_addr {
	__be32 v4;		/* IPv4, network order */
	__be32 v6[4];		/* IPv6, network order */
	__u8 bytes[16];
};
_Static_assert(sizeof(union xlb_addr) == 16, "xlb_addr size");

/* Address families as stored in the maps (AF_INET/AF_INET6 values are
 * not available to BPF code without libc headers). */
enum {
	XLB_AF_INET = 4,
	XLB_AF_INET6 = 6,
};

/* xlb_svc: HASH, one entry per frontend (VIP, port, protocol). */
struct xlb_vip_key {
	union xlb_addr addr;	/* the VIP */
	__be16 port;		/* frontend port, network order */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
};
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key size");

/*
 * xlb_svc value, one per frontend of a service. The Maglev ring of the
 * frontend is the slice
 * xlb_rings[ring_off .. ring_off + ring_size) of one shared array.
 *
 * A ring is replaced without any packet seeing a half-written one: the
 * agent writes the new ring into a free slice, then replaces this value
 * with one hash update (readers see the old value or the new one, never
 * a mix), and only reuses the old slice after a grace period. We chose a
 * shared mmap-able array over map-in-map because it lets the agent write
 * rings with memcpy instead of one syscall per slot, and programs 100,000
 * services without creating 100,000 maps.
 */
struct xlb_svc {
	__u32 svc_id;		/* service id, index of the stats and info maps */
	__u32 ring_off;		/* first slot of the ring in xlb_rings */
	__u32 ring_size;	/* M, a prime; 0 = no usable backend */
	__u32 flags;		/* XLB_FE_* kind | XLB_SVC_F_* */
	__u32 affinity_timeout;	/* seconds; with XLB_SVC_F_AFFINITY */
	__u32 pad;		/* zero */
};
_Static_assert(sizeof(struct xlb_svc) == 24, "xlb_svc size");

/* Frontend kinds, in the low bits of xlb_svc.flags. A service's frontends
 * may point at different rings: with a Local traffic policy, external
 * frontends (or cluster ones) get the ring of the node-local backends. */
#define XLB_FE_KIND_MASK	0x3u
#define XLB_FE_CLUSTER_IP	0x0u	/* the service's virtual IP */
#define XLB_FE_EXTERNAL_IP	0x1u	/* an external IP */
#define XLB_FE_LOAD_BALANCER	0x2u	/* a load-balancer ingress IP */
#define XLB_FE_NODE_PORT	0x3u	/* a node address and the NodePort */

#define XLB_SVC_F_AFFINITY	(1u << 4) /* client-IP session affinity */
#define XLB_SVC_F_SRC_RANGES	(1u << 5) /* client must match xlb_src_ranges */
#define XLB_SVC_F_LOCAL		(1u << 6) /* ring holds node-local backends only */
/* Source NAT of new flows (with xlb_cfg.snat_port_min): their source
 * becomes this node's address on the interface towards the backend and a
 * port of the xlb_cfg range, so the backend's replies come back here. */
#define XLB_SVC_F_SNAT_REMOTE	(1u << 7) /* to backends without XLB_BE_F_LOCAL */
#define XLB_SVC_F_SNAT_ALL	(1u << 8) /* to every backend (one-arm) */
/* Direct server return (README, "Direct server return"): a new flow to a
 * backend without XLB_BE_F_LOCAL is carried to the backend's own address
 * in an IPIP (IPv4) or IPv6-in-IPv6 header, the client's packet inside
 * unchanged; the backend's node takes the header off, DNATs, and its
 * replies leave from there to the client. On the backend's node the
 * flag also says that the frontend accepts such packets. Before
 * XLB_SVC_F_SNAT_REMOTE: a flow to a remote backend is never both. */
#define XLB_SVC_F_DSR		(1u << 9)

/* Bytes the DSR header adds: an IPv4 header without options, or an IPv6
 * header. */
#define XLB_DSR_ROOM4		20
#define XLB_DSR_ROOM6		40

/* xlb_affinity: LRU_HASH, (service, client address) -> backend. */
struct xlb_affinity_key {
	union xlb_addr client;	/* client address */
	__u32 svc_id;		/* service */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 pad[3];		/* zero */
};
_Static_assert(sizeof(struct xlb_affinity_key) == 24, "xlb_affinity_key size");

struct xlb_affinity_val {
	__u32 backend_id;	/* backend the client sticks to */
	__u32 pad;		/* zero */
	__u64 last_seen;	/* bpf_ktime_get_coarse_ns() of its last new flow */
};
_Static_assert(sizeof(struct xlb_affinity_val) == 16, "xlb_affinity_val size");

/* xlb_src_ranges: LPM_TRIE of the loadBalancerSourceRanges of services
 * with XLB_SVC_F_SRC_RANGES. prefixlen counts the bits after itself:
 * 64 (svc_id, family, pad) plus the CIDR's length. */
struct xlb_src_range_key {
	__u32 prefixlen;	/* 64 + CIDR prefix length */
	__u32 svc_id;		/* service (always matched in full) */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 pad[3];		/* zero */
	__u8 addr[16];		/* network address, IPv4 in the first 4 bytes */
};
_Static_assert(sizeof(struct xlb_src_range_key) == 28, "xlb_src_range_key size");
#define XLB_SRC_RANGE_PREFIX	64

/* xlb_svc_info: ARRAY indexed by svc_id. Written by the agent, read by
 * xlbctl and the agent after a restart; the datapath never reads it. */
struct xlb_svc_info {
	char name[XLB_SVC_NAME_LEN];	/* service name, NUL terminated */
	__u32 ring_size_req;	/* maglev_table_size asked by config, 0 = auto */
	__u32 generation;	/* bumped by every change of the service */
	__u32 n_backends;	/* backends attached (any state) */
	__u32 flags;		/* XLB_SVC_INFO_F_* */
	__u32 digest;		/* hash of the service's settings, to spot
				 * a change after a restart */
	__u32 ring_stamp;	/* hash of the ring slices its frontends
				 * are to point at (written before them: a
				 * restart that finds them elsewhere knows
				 * the sync was cut short); 0 = not kept */
	__u32 pad[2];		/* zero */
};
_Static_assert(sizeof(struct xlb_svc_info) == 96, "xlb_svc_info size");

#define XLB_SVC_INFO_F_USED	(1u << 0)	/* slot holds a service */

/* xlb_backends: ARRAY indexed by backend id. A backend is one member of
 * one service; the same address in two services has two ids. */
struct xlb_backend {
	union xlb_addr addr;	/* backend address */
	__be16 port;		/* backend port, network order */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 state;		/* XLB_BE_* */
	__u32 svc_id;		/* owning service */
	__u16 weight;		/* Maglev weight */
	__u16 flags;		/* XLB_BE_F_* */
	__u32 pad2;		/* zero */
};
_Static_assert(sizeof(struct xlb_backend) == 32, "xlb_backend size");

#define XLB_BE_F_LOCAL		(1u << 0) /* runs on this node */

/* Backend states. A flow whose tracked backend is not ACTIVE or
 * TERMINATING is re-balanced on its next packet. */
enum {
	XLB_BE_UNUSED = 0,	/* slot free, or backend removed */
	XLB_BE_ACTIVE = 1,	/* takes new and existing flows */
	XLB_BE_TERMINATING = 2,	/* keeps existing flows, takes no new one */
};

/*
 * xlb_rings: ARRAY, BPF_F_MMAPABLE, of backend ids. The kernel lays array
 * values out 8 bytes apart, so each entry holds two 4-byte slots: slot s
 * is entry s / 2, id[s % 2]. Mapped into userspace the map is then a flat
 * __u32 array of 2 * max_entries slots, which the agent fills with memcpy.
 */
struct xlb_ring_pair {
	__u32 id[2];		/* backend ids of slots 2k and 2k + 1 */
};
_Static_assert(sizeof(struct xlb_ring_pair) == 8, "xlb_ring_pair size");
#define XLB_RING_SLOTS_PER_ENTRY 2

/*
 * xlb_ct: LRU_HASH shared by all CPUs (a reply may come back on any CPU
 * or interface). A balanced flow normally has one entry, XLB_CT_CLIENT,
 * keyed by the client's address and port alone (daddr and dport zero):
 * the client's packets find it directly and check that it names their
 * frontend; the backend's replies find it through their destination and
 * check that it names them as its backend (backend_id's address and
 * port). When another flow of the same client port holds that key (the
 * client reuses a source port towards another frontend) or the flow is
 * hairpinned, the flow has a forward entry XLB_CT_FWD keyed by the
 * client's packet and a reverse entry XLB_CT_REV keyed by the backend's
 * reply instead (a hairpinned one a client entry and a reverse entry).
 *
 * A source-NATed flow (XLB_CT_F_SNAT) has a client (or forward) entry and
 * a reverse entry keyed by the reply backend -> node address:port. That
 * reverse key is the port's reservation: it is inserted with BPF_NOEXIST,
 * so no two live flows share (node address, port, backend address, port,
 * protocol); the forward side checks on every packet that it still holds
 * it (LRU may evict either entry) and takes a new port if not. A
 * reservation of a flow that ended (XLB_CT_F_CLOSED) or went idle is
 * taken over by the next new flow that tries its port.
 */
struct xlb_ct_key {
	union xlb_addr saddr;	/* source address of the packet; CLIENT:
				 * the client's address */
	union xlb_addr daddr;	/* destination address; CLIENT: zero */
	__be16 sport;		/* source port; CLIENT: the client's port */
	__be16 dport;		/* destination port; CLIENT: zero */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 dir;		/* XLB_CT_CLIENT, XLB_CT_FWD or XLB_CT_REV */
	__u8 pad;		/* zero */
};
_Static_assert(sizeof(struct xlb_ct_key) == 40, "xlb_ct_key size");

enum {
	XLB_CT_FWD = 1,		/* client -> VIP */
	XLB_CT_REV = 2,		/* backend -> client */
	XLB_CT_CLIENT = 3,	/* client address and port: both ways */
	XLB_CT_LOOKED_UP = 4,	/* kernel side only: not a key, a mark that
				 * the packet's next hop was looked up */
};

/* The flow is a backend's connection to its own service, balanced to
 * itself: its source was rewritten to the node's hairpin address, and the
 * reply's destination is put back to the backend. */
#define XLB_CT_F_HAIRPIN	(1u << 0)
/* The flow is source-NATed: the client's packets leave from snat_addr,
 * snat_port (client or forward entry); the replies' destination is put
 * back to the client at snat_addr, snat_port (reverse entry). */
#define XLB_CT_F_SNAT		(1u << 1)
/* A source-NATed flow's reverse entry: a FIN or RST was seen, either way
 * (its port is free XLB_SNAT_CLOSED_NS after its last packet). */
#define XLB_CT_F_CLOSED		(1u << 2)
/* The flow is carried to its remote backend by DSR (XLB_SVC_F_DSR): the
 * client's packets leave encapsulated from dsr_src towards the backend's
 * address, by dsr_ifindex (client or forward entry). Its replies never
 * come back here. */
#define XLB_CT_F_DSR		(1u << 3)
/* The flow came to this, its backend's node, encapsulated by DSR: its
 * replies' source is put back to the frontend here, and a SYN-ACK's MSS
 * option lowered to dsr_mss, so that the client's segments still fit
 * the encapsulation (client, forward and reverse entries). */
#define XLB_CT_F_DSR_LOCAL	(1u << 4)

/*
 * xlb_hairpin: ARRAY of 2 union xlb_addr, [0] IPv4 and [1] IPv6: the
 * node-local address a hairpinned flow's source is rewritten to (an
 * address of this node the backends route through it). Zero: none.
 */

/* A cached next hop (fib_redirect): bpf_fib_lookup's answer for the
 * rewritten packets of one direction of a flow. */
struct xlb_ct_hop {
	__u64 stamp;		/* coarse clock of the lookup; 0: none */
	__u32 ifindex;		/* egress ifindex */
	__u16 len;		/* largest L3 length the lookup checked
				 * against the route's MTU */
	__u8 dmac[6];		/* next hop's MAC address */
	__u8 smac[6];		/* egress interface's MAC address */
	__u8 pad[6];		/* zero */
};
_Static_assert(sizeof(struct xlb_ct_hop) == 32, "xlb_ct_hop size");

struct xlb_ct_val {
	union xlb_addr nat_addr; /* CLIENT, REV: the frontend's address;
				  * FWD: the backend's */
	__be16 nat_port;	/* CLIENT, REV: the frontend's port; FWD: the
				 * backend's */
	__u16 flags;		/* XLB_CT_F_* */
	__u32 backend_id;	/* backend chosen for the flow */
	__u32 svc_id;		/* service of the flow */
	__u16 dsr_mss;		/* XLB_CT_F_DSR_LOCAL: the largest MSS a
				 * SYN-ACK may announce, host order */
	__u16 pad;		/* zero */
	__u64 last_seen;	/* bpf_ktime_get_ns() of a recent packet */
	union {
		struct xlb_ct_hop hop[2]; /* [0] the client's packets
					   * (CLIENT, FWD) or the replies
					   * (REV); [1] CLIENT: the replies */
		struct {	/* XLB_CT_F_SNAT: its replies match the
				 * reverse entry, hop[1] is unused */
			struct xlb_ct_hop hop0;	/* hop[0] */
			union xlb_addr snat_addr; /* CLIENT, FWD: the node
						   * address the source
						   * becomes; REV: the
						   * client's address */
			__be16 snat_port; /* CLIENT, FWD: the source port
					   * given; REV: the client's */
			__u8 snat_pad[14]; /* zero */
		};
		struct {	/* XLB_CT_F_DSR: its replies go straight
				 * from the backend's node to the client,
				 * hop[1] is unused */
			struct xlb_ct_hop dsr_hop0; /* hop[0] */
			union xlb_addr dsr_src; /* the outer header's
						 * source: this node's
						 * address */
			__u32 dsr_ifindex; /* the interface towards the
					    * backend (the MTU checked);
					    * 0: the ingress one */
			__u8 dsr_pad[12]; /* zero */
		};
	};
};
_Static_assert(sizeof(struct xlb_ct_val) == 104, "xlb_ct_val size");

/* With fib_redirect, a flow's next hop (bpf_fib_lookup's answer for the
 * rewritten packet) is kept in its conntrack entry and reused for at most
 * this long: the lookup was a fifth of an established packet's cost. A
 * route, neighbour or MTU change reaches a flow within this time; a packet
 * longer than hop.len is looked up again (the lookup checks the MTU). */
#define XLB_CT_HOP_NS		(100ull * 1000 * 1000)

/* last_seen is CLOCK_MONOTONIC_COARSE (bpf_ktime_get_coarse_ns): a
 * precise clock read costs more than the rest of an established flow's
 * path on some machines, and ages need no precision. Refreshed at most
 * this often, to keep the entry's cache
 * line from bouncing between CPUs on every packet. */
#define XLB_CT_REFRESH_NS	(1000ull * 1000 * 1000)

/*
 * xlb_frags: LRU_HASH. The first fragment of a datagram carries the ports
 * and is balanced like any packet; its rewrite is recorded here under the
 * datagram's identity so that the later fragments (no ports) get the same
 * rewrite, and so reach the same backend.
 */
struct xlb_frag_key {
	union xlb_addr saddr;	/* source address */
	union xlb_addr daddr;	/* destination address */
	__u32 id;		/* IPv4 identification (network order, zero
				 * extended) or IPv6 fragment identification */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 pad[2];		/* zero */
};
_Static_assert(sizeof(struct xlb_frag_key) == 40, "xlb_frag_key size");

struct xlb_frag_val {
	union xlb_addr addr;	/* the new destination (DNAT) or source */
	__u8 side;		/* 0: destination rewritten, 1: source */
	__u8 has_addr2;		/* the other address too (addr2) */
	__u8 pad[2];		/* zero */
	__u32 svc_id;		/* service, for the counters */
	__u32 backend_id;	/* backend, for the counters */
	__u32 pad2;		/* zero */
	union xlb_addr addr2;	/* has_addr2: the other side's new address
				 * (hairpin, source NAT) */
};
_Static_assert(sizeof(struct xlb_frag_val) == 48, "xlb_frag_val size");

/* Per-CPU counters: xlb_svc_stats (indexed by svc_id), xlb_be_stats
 * (indexed by backend id) and xlb_stats (indexed by XLB_STAT_*). */
struct xlb_counter {
	__u64 packets;		/* packets counted */
	__u64 bytes;		/* bytes of those packets, L2 included */
};
_Static_assert(sizeof(struct xlb_counter) == 16, "xlb_counter size");

/*
 * The xlb_stats counters, listed once: X(UC, name, kind). The list makes
 * the index enum (XLB_STAT_*: an ABI, pinned maps and metrics depend on
 * the values, so append only) and XLB_STAT_NAMES, in the same order.
 *
 * kind says how a counter is counted by the programs (the one exit,
 * xlb_exit() in bpf/lib/handle.h, and the steps in bpf/lib/lb.h):
 * - OUTCOME: what became of the packet, counted once, at the exit. Every
 *   packet the ingress programs see lands in exactly one outcome, so the
 *   outcomes sum to the packets. (The tc egress program counts only its
 *   icmp_reverse_nat packets.)
 * - EVENT: a step on the way, counted in passing, in addition to the
 *   packet's outcome: a new or re-balanced flow and how its backend was
 *   picked (ct_new, ct_stale, affinity_hit, hairpin, inside dnat or
 *   rnat), a reset or ICMP error sent for a no_backend packet (rejected),
 *   and what the fib_redirect tail did after a dnat or rnat (fib_redirect,
 *   fib_miss, fib_lookup).
 */
/* selftests/test_metrics.sh reads the counter names off the lines from
 * the define below to the first closing brace after it, so the list
 * stays right under that define. */
#define XLB_STAT_NAMES { XLB_STATS(XLB_STAT_NAME) }
#define XLB_STAT_NAME(UC, name, kind) name,
#define XLB_STATS(X)                                                           \
	/* not for a VIP nor a reply: passed untouched */                      \
	X(PASS, "passed", OUTCOME)                                             \
	/* to a VIP: destination rewritten */                                  \
	X(DNAT, "dnat", OUTCOME)                                               \
	/* reply: source rewritten back to the VIP */                          \
	X(RNAT, "reverse_nat", OUTCOME)                                        \
	/* new flow: backend picked from the ring */                           \
	X(CT_NEW, "ct_new", EVENT)                                             \
	/* tracked backend gone: flow re-balanced */                           \
	X(CT_STALE, "ct_stale", EVENT)                                         \
	/* VIP without a usable backend: dropped, or rejected */               \
	X(NO_BACKEND, "no_backend", OUTCOME)                                   \
	/* truncated or malformed: passed untouched */                         \
	X(PARSE_ERR, "parse_error", OUTCOME)                                   \
	/* fragment, unknown L4, ...: passed */                                \
	X(UNSUPPORTED, "unsupported", OUTCOME)                                 \
	/* fib lookup resolved: redirected */                                  \
	X(FIB_FWD, "fib_redirect", EVENT)                                      \
	/* fib lookup did not resolve: passed */                               \
	X(FIB_MISS, "fib_miss", EVENT)                                         \
	/* rewrite failed (tc helpers): dropped */                             \
	X(NAT_ERR, "nat_error", OUTCOME)                                       \
	/* client outside the source ranges: dropped */                        \
	X(SRC_DENIED, "source_denied", OUTCOME)                                \
	/* new flow sent to the client's backend */                            \
	X(AFFINITY_HIT, "affinity_hit", EVENT)                                 \
	/* no usable backend: TCP RST / ICMP unreachable sent back             \
	 * (the packet's outcome is no_backend) */                             \
	X(REJECTED, "rejected", EVENT)                                         \
	/* later fragment of no recorded datagram: passed untouched */         \
	X(FRAG_MISS, "fragment_miss", OUTCOME)                                 \
	/* ICMP error about a balanced flow: quoted packet (and                \
	 * source) restored to the VIP */                                      \
	X(ICMP_RNAT, "icmp_reverse_nat", OUTCOME)                              \
	/* a backend balanced to itself: source NATed to the hairpin           \
	 * address (either way) */                                             \
	X(HAIRPIN, "hairpin", EVENT)                                           \
	/* redirected after a bpf_fib_lookup; the other fib_redirect           \
	 * packets used the flow's cached next hop */                          \
	X(FIB_LOOKUP, "fib_lookup", EVENT)                                     \
	/* socket hooks (bpf/sock_lb.bpf.c; packets = calls, bytes 0):         \
	 * a connect() or sendmsg() to a frontend given a backend */           \
	X(SOCK_BALANCED, "sock_balanced", EVENT)                               \
	/* a connect() or sendmsg() to a frontend without a usable             \
	 * backend: failed with ECONNREFUSED */                                \
	X(SOCK_REJECTED, "sock_rejected", EVENT)                               \
	/* a socket connected to a backend that left, destroyed by the         \
	 * socket iterator (the application sees ECONNABORTED) */              \
	X(SOCK_DESTROYED, "sock_destroyed", EVENT)                             \
	/* new flow source-NATed: a port reserved on the node address */       \
	X(SNAT_NEW, "snat_new", EVENT)                                         \
	/* reply to a source-NATed flow: destination put back to the           \
	 * client (besides its reverse_nat or icmp_reverse_nat) */             \
	X(SNAT_RESTORE, "snat_restore", EVENT)                                 \
	/* new flow to source-NAT, every port tried taken: dropped */          \
	X(SNAT_EXHAUSTED, "snat_exhausted", OUTCOME)                           \
	/* new or tracked flow to a remote backend by DSR: encapsulated        \
	 * towards the backend's address, passed to the stack */               \
	X(DSR_ENCAP, "dsr_encap", OUTCOME)                                     \
	/* DSR packet to a local backend: header removed, DNATed */            \
	X(DSR_DECAP, "dsr_decap", OUTCOME)                                     \
	/* DSR packet that would not fit the egress MTU encapsulated:          \
	 * dropped (TCP never gets there: dsr_mss_clamp) */                    \
	X(DSR_TOO_BIG, "dsr_too_big", OUTCOME)                                 \
	/* DSR packet to a frontend whose flow this node gives to another      \
	 * backend than the outer destination, or none: dropped */             \
	X(DSR_MISMATCH, "dsr_mismatch", OUTCOME)                               \
	/* SYN-ACK of a DSR flow leaving its backend's node: MSS option        \
	 * lowered to what fits the encapsulation */                           \
	X(DSR_MSS_CLAMP, "dsr_mss_clamp", EVENT)

#define XLB_STAT_ENUM(UC, name, kind) XLB_STAT_##UC,
enum {
	XLB_STATS(XLB_STAT_ENUM)
	XLB_STAT_MAX,
};

/* Bit i of XLB_STAT_OUTCOMES is set when counter i is an OUTCOME. */
#define XLB_STAT_KIND_OUTCOME 1u
#define XLB_STAT_KIND_EVENT   0u
#define XLB_STAT_KIND_BIT(UC, name, kind)                                      \
	| (XLB_STAT_KIND_##kind << XLB_STAT_##UC)
#define XLB_STAT_OUTCOMES      (0u XLB_STATS(XLB_STAT_KIND_BIT))
#define XLB_STAT_IS_OUTCOME(i) ((XLB_STAT_OUTCOMES >> (i)) & 1u)
_Static_assert(XLB_STAT_MAX <= 32, "XLB_STAT_OUTCOMES has a bit per counter");

/*
 * xlb_ports: ARRAY of 65536 (one per port number, host order), mmap-able.
 * How many frontends listen on a port and how many backends answer from
 * it. With xlb_cfg.port_filter, a packet whose destination port no
 * frontend uses skips the service lookup, and one whose source port no
 * backend uses skips the reply lookup: most traffic that is not xlb's
 * costs one array read instead of two hash lookups.
 */
struct xlb_port_use {
	__u32 frontends;	/* frontends with this port */
	__u32 backends;		/* backends (active or terminating) with it */
};
_Static_assert(sizeof(struct xlb_port_use) == 8, "xlb_port_use size");

/*
 * xlb_sock: LRU_HASH written by the socket hooks (bpf/sock_lb.bpf.c).
 * A connect() or sendmsg() to a frontend is given a backend's address
 * before any packet exists; this entry remembers the frontend under the
 * socket and the backend it was sent to, so that recvmsg() gives the
 * frontend as the source of a backend's datagram, getpeername() gives it
 * as the peer, and the socket iterator finds the sockets connected to a
 * backend that left. One entry per (socket, backend): an unconnected UDP
 * socket may talk to several.
 */
struct xlb_sock_key {
	__u64 cookie;		/* bpf_get_socket_cookie() of the socket */
	union xlb_addr addr;	/* the backend's address */
	__be16 port;		/* the backend's port */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 pad[5];		/* zero */
};
_Static_assert(sizeof(struct xlb_sock_key) == 32, "xlb_sock_key size");

struct xlb_sock_val {
	union xlb_addr addr;	/* the frontend's address */
	__be16 port;		/* the frontend's port */
	__u8 pad[2];		/* zero */
	__u32 backend_id;	/* the backend chosen */
	__u32 svc_id;		/* its service */
	__u32 pad2;		/* zero */
};
_Static_assert(sizeof(struct xlb_sock_val) == 32, "xlb_sock_val size");

/*
 * xlb_svc_vip: ARRAY indexed by svc_id, the key of the service's ClusterIP
 * frontend (written with xlb_svc_info). The socket hooks serve a
 * connect() from inside the cluster to one of the service's external
 * frontends (external IP, load-balancer IP, NodePort) as one to its
 * ClusterIP: the internal traffic policy applies, not the external one
 * (README, "Socket-level balancing").
 */

/*
 * xlb_snat_addrs: HASH, ifindex -> the node's addresses on that interface
 * (written by xlbd from the node's addresses). A source-NATed flow's
 * source is the address of its family on the interface bpf_fib_lookup
 * gives towards the backend; key 0 holds the node's default addresses,
 * for an interface without one. A zero address: none.
 */
struct xlb_snat_addrs {
	union xlb_addr v4;	/* IPv4 address, or zero */
	union xlb_addr v6;	/* IPv6 address, or zero */
};
_Static_assert(sizeof(struct xlb_snat_addrs) == 32, "xlb_snat_addrs size");

/* Load-time settings of the programs (const volatile rodata). */
struct xlb_cfg {
	__u32 fib_redirect;	/* 1: bpf_fib_lookup + redirect, else pass */
	__u32 port_filter;	/* 1: consult xlb_ports (xlbd keeps it) */
	__u16 snat_port_min;	/* source NAT ports, host order, inclusive;
				 * 0: no source NAT */
	__u16 snat_port_max;
	__u32 pad;		/* zero */
};
_Static_assert(sizeof(struct xlb_cfg) == 16, "xlb_cfg size");

/* Load-time settings of the socket hooks (const volatile rodata). */
struct xlb_sock_cfg {
	__u64 netns_cookie;	/* non-zero: balance only the sockets of this
				 * network namespace (--socket-lb host) */
};
_Static_assert(sizeof(struct xlb_sock_cfg) == 8, "xlb_sock_cfg size");

#endif /* XLB_ABI_H */
