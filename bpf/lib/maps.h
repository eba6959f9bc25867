/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Kernel side only: the maps of the xlb programs (layouts in xlb/abi.h).
 * Sizes are defaults; the loader resizes them before load. */
#ifndef XLB_BPF_MAPS_H
#define XLB_BPF_MAPS_H

#include "common.h"

/* Frontend (VIP, port, proto) -> service and its ring: abi.h struct xlb_svc.
 * Not preallocated: a replaced value is freed after an RCU grace period,
 * so a program holding the old one never sees it rewritten. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XLB_DEF_MAX_FRONTENDS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_svc);
} xlb_svc SEC(".maps");

/* svc_id -> name and settings, for the agent and xlbctl only: abi.h
 * struct xlb_svc_info. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_DEF_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xlb_svc_info);
} xlb_svc_info SEC(".maps");

/* Backend id -> address, port, state, weight: abi.h struct xlb_backend. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_DEF_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} xlb_backends SEC(".maps");

/* All Maglev rings, two slots per entry, mmap-ed by the agent: abi.h
 * struct xlb_ring_pair and the ring swap above struct xlb_svc. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_DEF_RING_SLOTS / XLB_RING_SLOTS_PER_ENTRY);
	__type(key, __u32);
	__type(value, struct xlb_ring_pair);
} xlb_rings SEC(".maps");

/* Connection tracking, shared by all CPUs: abi.h struct xlb_ct_key/_val. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_DEF_CT_ENTRIES);
	__type(key, struct xlb_ct_key);
	__type(value, struct xlb_ct_val);
} xlb_ct SEC(".maps");

/* Per-CPU packets and bytes by svc_id: abi.h struct xlb_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DEF_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} xlb_svc_stats SEC(".maps");

/* Per-CPU packets and bytes by backend id: abi.h struct xlb_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DEF_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} xlb_be_stats SEC(".maps");

/* Per-CPU packets and bytes by XLB_STAT_* (outcomes and events): abi.h
 * XLB_STATS. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_STAT_MAX);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} xlb_stats SEC(".maps");

/* Port number -> frontends and backends using it (the port filter), mmap-ed:
 * abi.h struct xlb_port_use. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct xlb_port_use);
} xlb_ports SEC(".maps");

/* (service, client) -> backend, for client-IP affinity: abi.h struct
 * xlb_affinity_key/_val. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_DEF_AFFINITY);
	__type(key, struct xlb_affinity_key);
	__type(value, struct xlb_affinity_val);
} xlb_affinity SEC(".maps");

/* (service, client CIDR) for loadBalancerSourceRanges: abi.h struct
 * xlb_src_range_key. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XLB_DEF_SRC_RANGES);
	__type(key, struct xlb_src_range_key);
	__type(value, __u32);
} xlb_src_ranges SEC(".maps");

/* Datagram -> the rewrite its first fragment got: abi.h struct
 * xlb_frag_key/_val. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_DEF_FRAGS);
	__type(key, struct xlb_frag_key);
	__type(value, struct xlb_frag_val);
} xlb_frags SEC(".maps");

/* The hairpin source addresses, [0] IPv4, [1] IPv6: abi.h union xlb_addr. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, union xlb_addr);
} xlb_hairpin SEC(".maps");

/* (socket, backend) -> the frontend it was balanced from, written by the
 * socket hooks: abi.h struct xlb_sock_key/_val. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_DEF_SOCKS);
	__type(key, struct xlb_sock_key);
	__type(value, struct xlb_sock_val);
} xlb_sock SEC(".maps");

/* svc_id -> the key of its ClusterIP frontend, for the socket hooks:
 * abi.h struct xlb_vip_key. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_DEF_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xlb_vip_key);
} xlb_svc_vip SEC(".maps");

/* ifindex -> the node's addresses there, the source of source-NATed
 * flows leaving by it (0: the default): abi.h struct xlb_snat_addrs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_DEF_SNAT_IFACES);
	__type(key, __u32);
	__type(value, struct xlb_snat_addrs);
} xlb_snat_addrs SEC(".maps");

/* Per-CPU room to build a new conntrack value in, off the stack: abi.h
 * struct xlb_ct_val. Nothing is kept in it between packets. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_ct_val);
} xlb_scratch SEC(".maps");

#endif /* XLB_BPF_MAPS_H */
