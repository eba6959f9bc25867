/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes source: list-then-watch Services, EndpointSlices and
 * this node's Node in one thread per resource; the threads push whole
 * decoded events into a queue and signal an eventfd. The main thread
 * (xlbd's poll loop) owns the object cache, the translation and the
 * sync: xlb_k8s_process() applies what arrived, each Service whose
 * objects changed re-translated and applied on its own
 * (xlb_sync_apply_partial), so the cost of an event is its Service's.
 * In user/k8s/: watch.c (threads, queue), cache.c, apply.c.
 */
#ifndef XLB_K8S_H
#define XLB_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_client.h"
#include "sync.h"

/* Upper bounds (ms) of the event -> map update latency buckets. */
#define XLB_K8S_HIST_BUCKETS 11
extern const double xlb_k8s_hist_bounds_ms[XLB_K8S_HIST_BUCKETS];

struct xlb_k8s_stats {
	/* Latency from a watch event's arrival (its line complete) to the
	 * end of the map update it caused. hist[i] counts observations
	 * <= xlb_k8s_hist_bounds_ms[i] and > the bound before (not
	 * cumulative); hist[XLB_K8S_HIST_BUCKETS] those above the last. */
	uint64_t hist[XLB_K8S_HIST_BUCKETS + 1];
	uint64_t hist_count;
	double hist_sum_ms;
	uint64_t events;	/* watch events applied */
	uint64_t watch_restarts; /* watches re-opened (ended or failed) */
	uint64_t relists;	/* lists after the first (410, errors) */
	uint64_t errors;	/* failed requests, bad events, failed applies */
	uint64_t applies;	/* partial applies */
};

/* Counters are written with __atomic builtins (the watch threads bump
 * some); read them with __atomic_load_n from another thread. */
const struct xlb_k8s_stats *xlb_k8s_stats(void);
/* True once the first full list of all three resources was applied. */
bool xlb_k8s_synced(void);

struct xlb_k8s;

/* Starts the watch threads. auth is moved into the watcher (freed by
 * xlb_k8s_stop); node_name is this node (locality, its zone). */
int xlb_k8s_start(struct xlb_k8s **out, struct xlb_k8s_auth *auth,
		  const char *node_name, struct xlb_sync *sync);
/* Becomes readable when events are queued. */
int xlb_k8s_fd(const struct xlb_k8s *k);
/* Applies the queued events. Returns 1 when this call made the first
 * full sync, 0 otherwise, <0 on a fatal error. */
int xlb_k8s_process(struct xlb_k8s *k);
/* Applies the whole cache again (node addresses changed, SIGHUP). */
int xlb_k8s_resync(struct xlb_k8s *k, const char *why);
void xlb_k8s_stop(struct xlb_k8s *k);

#endif /* XLB_K8S_H */
