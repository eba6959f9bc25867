/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket-level balancing: loads bpf/sock_lb.bpf.c over the datapath's
 * maps, attaches its cgroup v2 hooks (connect, sendmsg, recvmsg,
 * getpeername, both families) to a cgroup with BPF_F_ALLOW_MULTI, and runs
 * its socket iterators to destroy sockets connected to backends that
 * left. The hooks stay attached when xlbd exits, as the datapath does;
 * the next xlbd over the same maps replaces them, nobody else's.
 */
#ifndef XLB_SOCKLB_H
#define XLB_SOCKLB_H

#include <stddef.h>

#include "loader.h"

enum xlb_socklb_mode {
	XLB_SOCKLB_ON = 0,	/* every process of the cgroup */
	XLB_SOCKLB_OFF,		/* none (and this xlbd's hooks removed) */
	XLB_SOCKLB_HOST,	/* only those in this network namespace */
};

struct xlb_socklb;

int xlb_socklb_parse_mode(const char *s, enum xlb_socklb_mode *mode);
/* The root of the cgroup v2 hierarchy, from /proc/mounts. */
int xlb_cgroup2_root(char *buf, size_t len);
/*
 * Loads the hooks over dp's maps and attaches them to the cgroup at path
 * (NULL: the cgroup v2 root), replacing those a previous load over the
 * same maps attached there. XLB_SOCKLB_OFF loads nothing and removes
 * them. *out is NULL then, or on failure.
 */
int xlb_socklb_start(struct xlb_socklb **out, const struct xlb_dp *dp,
		     enum xlb_socklb_mode mode, const char *path);
/* Destroys the sockets connected to backends that left (UDP: not
 * ACTIVE; TCP: neither ACTIVE nor TERMINATING); returns how many, or
 * -errno. */
int xlb_socklb_reap(struct xlb_socklb *s);
/* The sync's backends_left callback: ctx is the xlb_socklb. */
void xlb_socklb_backends_left(void *ctx);
/* Frees s; the hooks stay attached. */
void xlb_socklb_close(struct xlb_socklb *s);
/*
 * Removes the hooks attached to the cgroup at path (NULL: the v2 root)
 * by programs that use the map sock_map_id (xlb_sock of one datapath, which every hook uses).
 * Returns how many were removed, or -errno.
 */
int xlb_socklb_detach(const char *path, __u32 sock_map_id);

#endif /* XLB_SOCKLB_H */
