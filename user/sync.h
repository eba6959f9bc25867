/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map sync: diffs the desired model against what is programmed and
 * writes only what changed. Service and backend ids are stable: a
 * service keeps its id by name, a backend by (service, address, port),
 * across syncs and, through the pinned maps, across restarts. The code
 * is in user/sync/, one file per step (listed in sync/internal.h).
 */
#ifndef XLB_SYNC_H
#define XLB_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "maps.h"
#include "model.h"
#include "nodeaddr.h"
#include "ringalloc.h"
#include "sync/idpool.h"

struct xlb_prog_backend {
	union xlb_addr addr;
	__be16 port;
	__u8 family;
	__u8 state;		/* as in the map: ACTIVE iff in a ring */
	__u16 weight;
	__u8 local;		/* XLB_BE_F_LOCAL */
	__u8 in_all;		/* member of the cluster-wide ring */
	__u8 in_local;		/* member of the node-local ring */
	__u8 group;		/* model group index + 1 */
	__u32 id;
};

struct xlb_prog_frontend {
	struct xlb_vip_key key;
	__u32 flags;		/* xlb_svc.flags */
};

struct xlb_prog_service {
	char name[XLB_SVC_NAME_LEN];
	__u32 id;
	struct xlb_vip_key vip;
	__u32 ring_off;
	__u32 ring_size;
	__u32 table_size_req;
	__u32 generation;
	__u32 source;		/* xlb_model_service.source */
	__u32 digest;		/* of the settings; see service_digest() */
	__u32 affinity_timeout;
	__u32 lring_off;	/* ring of the node-local backends */
	__u32 lring_size;
	struct xlb_prog_frontend *fes;	/* sorted by key */
	size_t n_fes;
	struct xlb_src_range_key *ranges;
	size_t n_ranges;
	__u32 *group_pct;	/* percent of each group */
	size_t n_groups;
	struct xlb_prog_backend *backends; /* sorted by identity */
	size_t n_backends;
};

struct xlb_sync {
	struct xlb_maps *maps;
	struct xlb_prog_service *svcs;	/* sorted by name */
	size_t n_svcs;
	struct xlb_ringalloc rings;
	struct xlb_idpool svc_ids;
	struct xlb_idpool be_ids;
	int quiet;			/* per-service lines at debug level */
	size_t n_logged;		/* per-service lines of this apply */
	size_t n_backends;		/* sum of svcs[].n_backends */
	__u32 *port_fe, *port_be;	/* xlb_ports as published */
	struct xlb_nodeaddr *node_addrs;	/* where NodePorts listen */
	size_t n_node_addrs;
	/* xlbd --dsr ipip: frontends that source-NAT flows to remote
	 * backends (XLB_SNAT_REMOTE: the Kubernetes source's external
	 * ones of Cluster policy) send those by DSR instead. */
	bool dsr_remote;
	/* Called after an apply that removed services or backends or
	 * changed backends (a backend going terminating is a change): the
	 * socket-level balancer closes the sockets still connected to one
	 * that left (user/socklb.c). NULL: nobody to tell. */
	void (*backends_left)(void *ctx);
	void *backends_left_ctx;
	/* What adoption found that no service owns, removed after the
	 * first full apply (sync/internal.h); NULL: nothing. */
	struct xlb_sync_orphans *orphans;
};

struct xlb_sync_result {
	size_t added, updated, removed, unchanged;
	size_t be_added, be_removed, be_changed;
	size_t rings_written;
};

int xlb_sync_init(struct xlb_sync *s, struct xlb_maps *maps);
void xlb_sync_fini(struct xlb_sync *s);
/* Reads back what the pinned maps hold (after a restart), checking every
 * service against every map it spans: a service found inconsistent (a
 * sync cut short, a lost pin) is written again in full by the next apply,
 * and each kind of repair is logged with its count. */
int xlb_sync_adopt(struct xlb_sync *s);
/* Applies the model. A model that does not fit the maps is rejected
 * before anything is written, with a message in err. */
int xlb_sync_apply(struct xlb_sync *s, const struct xlb_model *m,
		   struct xlb_sync_result *res, char *err, size_t errlen);
/* Applies a change to some services only: up holds services to add or
 * update (whole), rm the names of services to remove; every other
 * service stays as it is, and the cost is that of the change, not of the
 * whole model. up must be sorted and unique (xlb_config_parse makes it
 * so). Conflicts with other services are rejected before any write. */
/* Before a partial apply: takes out of ms every external IP,
 * load-balancer IP and NodePort that a service outside the change (not
 * ms, not in up, not in rm) programs now, each with a warning, so that
 * one frontend shared by two Services does not keep the second's others
 * out. Returns how many it took out, or -EEXIST if the cluster IP itself
 * is taken (then the apply rejects the service), or -ENOMEM. */
int xlb_sync_strip_taken(struct xlb_sync *s, struct xlb_model_service *ms,
			 const struct xlb_model *up, char *const *rm,
			 size_t n_rm);
/* Whether the programmed service name has frontend k (with node_port:
 * a NodePort of k's port, protocol and family on any node address). */
bool xlb_sync_has_frontend(const struct xlb_sync *s, const char *name,
			   const struct xlb_vip_key *k, bool node_port);
int xlb_sync_apply_partial(struct xlb_sync *s, const struct xlb_model *up,
			   char *const *rm, size_t n_rm,
			   struct xlb_sync_result *res, char *err, size_t errlen);
/* The node's addresses: NodePort frontends are written for each. Apply
 * the model again after a change. */
int xlb_sync_set_node_addrs(struct xlb_sync *s, const struct xlb_nodeaddr *v,
			    size_t n);
size_t xlb_sync_backend_count(const struct xlb_sync *s);

#endif /* XLB_SYNC_H */
