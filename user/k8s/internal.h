/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Private to user/k8s/: the state the Kubernetes source's files share.
 * watch.c runs the threads that list and watch, and queues what they
 * decode; cache.c keeps the objects (main thread); apply.c translates
 * the Services that changed and applies them. The public API is k8s.h.
 */
#ifndef XLB_K8S_INTERNAL_H
#define XLB_K8S_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "k8s.h"
#include "k8s_translate.h"
#include "htab.h"

/* The counters behind xlb_k8s_stats() (apply.c). */
extern struct xlb_k8s_stats xlb_k8s_counters;
/* Counts in /metrics too, for the counters it shows. */
void xlb_k8s_stat_metric(const uint64_t *field);

#define STAT_INC(f)                                                        \
	(__atomic_fetch_add(&xlb_k8s_counters.f, 1, __ATOMIC_RELAXED),     \
	 xlb_k8s_stat_metric(&xlb_k8s_counters.f))

enum res { RES_SVC, RES_SLICE, RES_NODE, RES_N };
extern const char *const xlb_k8s_res_name[RES_N];

enum ev_type { EV_ADDED, EV_MODIFIED, EV_DELETED, EV_LIST };

/* A decoded event, from a watch thread to the main thread: the parts
 * of the object xlb reads (k8s_object.h), the JSON already freed. */
struct kev {
	struct kev *next;
	enum res res;
	enum ev_type type;
	void *obj;		/* xlb_k8s_svc, _slice or _node; NULL for
				 * EV_LIST */
	void **items;		/* EV_LIST: the objects listed */
	size_t n_items;
	uint64_t t;		/* arrival, CLOCK_MONOTONIC ns */
};

struct slice_ent;

/* A Service, known or only named by slices, and what it programmed. */
struct svc_ent {
	char *key;			/* namespace/name */
	struct xlb_k8s_svc *svc;	/* NULL: not seen (or deleted) */
	struct slice_ent **slices;	/* slices naming it */
	size_t n_slices, cap_slices;
	char **names;			/* xlb services it has programmed */
	size_t n_names;
	__u16 hc_port;			/* healthCheckNodePort served */
	unsigned gen;			/* list generation of svc */
	bool dirty;
};

struct slice_ent {
	struct xlb_k8s_slice *obj;	/* its key is the entry's */
	struct svc_ent *svc;		/* the Service it is attached to
					 * (the label's), or NULL */
	unsigned gen;
};

/* One resource's list-then-watch thread. */
struct watcher {
	struct xlb_k8s *k;
	enum res res;
	char *path;		/* collection path, maybe with a selector */
	pthread_t th;
	bool started;
	/* thread-private */
	char rv[64];
	bool expired, failed;
	bool err_warn;		/* err is for a warning: it will not go
				 * away by itself (TLS verification) */
	int failures;		/* in a row, for the backoff */
	uint64_t last_fail_ns;
	char err[512];
};

struct xlb_k8s {
	struct xlb_k8s_auth auth;
	struct xlb_sync *sync;
	char *node_name;
	int efd;
	volatile int stop;
	pthread_mutex_t lock;	/* queue, stop_cond */
	pthread_cond_t stop_cond;
	struct kev *head, **tail;
	struct watcher w[RES_N];
	/* main thread only */
	struct xlb_htab svcs, slices;
	char *zone;
	bool listed[RES_N];
	struct svc_ent **dirty;	/* Services to translate and apply */
	size_t n_dirty, cap_dirty;
	bool dirty_all;		/* the list could not grow: look at all */
	unsigned gen;
	bool synced;
	uint64_t *lat_t;	/* arrival times of the events being applied */
	size_t n_lat, cap_lat;
};

/* watch.c: one line of a watch stream (the struct watcher as ctx):
 * queues its event, or returns 1 when the stream must end (an ERROR
 * event, a line that is not an event) with w->err set. */
int xlb_k8s_watch_line(char *line, size_t len, void *ctx);
/* watch.c: the parts xlb reads of an object of resource res (its
 * k8s_object.h struct), rc its extraction's result. */
void *xlb_k8s_extract(enum res res, const cJSON *obj, int *rc);
/* cache.c: takes ev's objects. */
void xlb_k8s_handle_event(struct xlb_k8s *k, struct kev *ev);
/* Frees an object of resource res (k8s_object.h). */
void xlb_k8s_obj_free(enum res res, void *obj);
/* Frees e once nothing (object, slice, programmed name) keeps it. */
void xlb_k8s_ent_gc(struct xlb_k8s *k, struct svc_ent *e);
/* Frees every cached object (and stops serving their health checks). */
void xlb_k8s_cache_free(struct xlb_k8s *k);

#endif /* XLB_K8S_INTERNAL_H */
