/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xlbd's life after its options: xlb_agent_start() loads and attaches
 * the datapath and makes the first sync from the config-file or the
 * Kubernetes source, xlb_agent_run() applies changes until a signal
 * says stop, xlb_agent_stop() releases everything but the pinned maps
 * and the attached programs (the next xlbd adopts them).
 */
#ifndef XLB_AGENT_H
#define XLB_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "ifaces.h"
#include "k8s.h"
#include "loader.h"
#include "metrics.h"
#include "nodeaddr.h"
#include "socklb.h"
#include "source_file.h"
#include "sync.h"

/* What xlbd's options ask for (see xlbd --help). */
struct xlb_agent_opts {
	const char *config;		/* --config: file or directory */
	const char *ifaces;		/* --iface: names, patterns, !excl. */
	const char *complete_csum;	/* --complete-checksums, or NULL */
	enum xlb_attach_mode mode;	/* --xdp-mode */
	struct xlb_loader_opts lo;	/* --bpffs, --fib-redirect, sizes */
	struct xlb_metrics_opts mo;	/* --metrics-* */
	struct xlb_nodeaddr hairpin[2];	/* --hairpin-address, v4 and v6 */
	struct xlb_nodeport_sel nodeport; /* --nodeport-addresses */
	enum xlb_socklb_mode socket_lb;	/* --socket-lb */
	const char *cgroup;		/* --cgroup; NULL: the v2 root */
	/* The Kubernetes source, used when k8s_auth.server is set (then
	 * config is NULL); moved into the source at start. */
	struct xlb_k8s_auth k8s_auth;
	const char *node_name;
	bool dsr_remote;		/* --dsr ipip */
	int verbose;			/* -v count */
	bool quiet;
};

struct xlb_agent {
	struct xlb_agent_opts *o;
	struct xlb_dp dp;
	struct xlb_ifaces ifaces;	/* attached and followed links */
	struct xlb_sync sync;
	struct xlb_socklb *sock;	/* socket-level balancing, or NULL */
	struct xlb_file *file;		/* the config-file source, or */
	struct xlb_k8s *k8s;		/* the Kubernetes source */
	int sfd;			/* signalfd: SIGHUP, SIGTERM, SIGINT */
	int nfd;			/* node address changes, or -1 */
	uint64_t event_ns;		/* arrival of the change being applied */
	bool stop;			/* a signal said exit */
};

/* Returns 0, or non-zero when xlbd cannot run (the reason logged);
 * xlb_agent_stop() is called either way. */
int xlb_agent_start(struct xlb_agent *a, struct xlb_agent_opts *o);
/* The event loop: returns 0 when a signal ended it, 1 on a failure. */
int xlb_agent_run(struct xlb_agent *a);
void xlb_agent_stop(struct xlb_agent *a);

#endif /* XLB_AGENT_H */
