/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the files of the map sync share with each other and with nobody
 * else (xlbd, xlbctl, k8s and the tests use sync.h):
 *   idpool.c   service and backend ids
 *   state.c    lifecycle and the per-port counts of xlb_ports
 *   adopt.c    the pinned maps read back after a restart
 *   txn.c      the writes of one apply, queued and flushed in order
 *   rings.c    Maglev tables, built on worker threads for large applies
 *   service.c  what a model service becomes (frontends, ranges, digest)
 *   apply.c    one service brought to its model; the whole model
 *   partial.c  some services changed, the others left as they are
 */
#ifndef XLB_SYNC_INTERNAL_H
#define XLB_SYNC_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sync.h"

/* ---- shared helpers ---------------------------------------------------- */

/* Grows *buf (of *cap elements of esz bytes) to hold need, doubling from
 * 64 so that filling an array costs amortized O(1) per element. */
static inline int grow_buf(void **buf, size_t *cap, size_t need, size_t esz)
{
	size_t c = *cap ? *cap : 64;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	n = realloc(*buf, c * esz);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = c;
	return 0;
}

/* A slice of the ring array. */
struct extent {
	__u32 off, len;
};

static inline int fe_cmp(const void *a, const void *b)
{
	const struct xlb_prog_frontend *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static inline int range_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_src_range_key));
}

static inline int vipkey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_vip_key));
}

static inline int svc_by_name_cmp(const void *a, const void *b)
{
	const struct xlb_prog_service *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* A backend entry at state UNUSED: what a retired or not yet usable id
 * holds (see xlb_txn_write_backend()). */
static inline struct xlb_backend
xlb_sync_unused_backend(__u32 svc_id, const struct xlb_prog_backend *pb)
{
	return (struct xlb_backend){
		.addr = pb->addr,
		.port = pb->port,
		.family = pb->family,
		.state = XLB_BE_UNUSED,
		.svc_id = svc_id,
	};
}

/* ---- state.c ----------------------------------------------------------- */

void xlb_sync_free_service(struct xlb_prog_service *ps);
void xlb_sync_free_services(struct xlb_prog_service *v, size_t n);
void xlb_sync_count_backends(struct xlb_sync *s);
/*
 * xlb_ports: counts of frontends and backends per port, computed from
 * the bookkeeping. grow_only raises counts that grow and keeps those
 * that shrink (before the maps change), !grow_only writes the new counts
 * (after): a port in use is never filtered out.
 */
void xlb_sync_publish_ports(struct xlb_sync *s,
			    const struct xlb_prog_service *v, size_t n,
			    bool grow_only);
/* Adds d (+1 or -1) to the port counts of ps and publishes the ports it
 * touches. */
void xlb_sync_ports_add(struct xlb_sync *s, const struct xlb_prog_service *ps,
			int d);

/* ---- txn.c ------------------------------------------------------------- */

/*
 * Writes of one apply, queued and flushed in an order that keeps every
 * packet's view consistent: service info first (the datapath never reads
 * it; it records what the service is becoming, its ring slices
 * included, so that a restart after a crash can tell a service whose
 * later writes are missing), backends (retired ids first made harmless),
 * then the frontends that make new rings and backends live, then what
 * nothing points at any more. Ids and ring slices are freed only after
 * that, so none is reused while still referenced.
 */
struct batch {
	int fd;
	size_t ksz, vsz, n, cap;
	char *keys, *vals;
};

#define XLB_SYNC_THREADS 4

struct ring_job {
	const struct xlb_prog_service *ps;
	__u32 off, m;
	bool local;		/* the node-local ring */
};

struct txn {
	struct batch be_pre, be, info, vip, svc, be_clear;
	struct ring_job *jobs;		/* tables to build before the flush */
	size_t n_jobs, cap_jobs;
	/* Background building (a large full apply): workers take jobs
	 * below published while services are still being applied. The
	 * jobs array is allocated up front then and never moves. */
	size_t published, next_job;
	bool closing;
	int build_rc;
	pthread_t workers[XLB_SYNC_THREADS];
	size_t n_workers;
	struct xlb_sync *s;		/* what the workers build for */
	struct xlb_vip_key *del;	/* frontends to delete */
	size_t n_del, cap_del;
	struct xlb_src_range_key *del_ranges;
	size_t n_del_ranges, cap_del_ranges;
	__u32 *free_be;			/* backend ids to free */
	size_t n_free_be, cap_free_be;
	struct extent *free_ring;	/* ring slices to free */
	size_t n_free_ring, cap_free_ring;
};

/* Every map write of the sync, counted (and cut short by the test-only
 * XLB_FAULT_MAP_WRITES, see txn.c). 0 or -errno. */
int xlb_sync_update(int fd, const void *key, const void *val);
int xlb_sync_delete(int fd, const void *key);
/* Zeros the per-CPU counter key of the stats map fd. */
int xlb_sync_counter_reset(const struct xlb_maps *m, int fd, __u32 key);
/* Reads XLB_FAULT_MAP_WRITES. */
void xlb_sync_fault_init(void);
/* Map writes since the process started. */
unsigned long long xlb_sync_map_writes(void);
/* What xlb_svc_info.ring_stamp records for ps's ring slices; never 0. */
__u32 xlb_sync_ring_stamp(const struct xlb_prog_service *ps);

void xlb_txn_init(struct txn *t, const struct xlb_maps *m);
void xlb_txn_fini(struct txn *t);
/* Builds the queued rings, then flushes in order; on error the rest is
 * not written. */
int xlb_txn_commit(struct xlb_sync *s, struct txn *t);
int xlb_txn_free_be(struct txn *t, __u32 id);
int xlb_txn_free_ring(struct txn *t, __u32 off, __u32 len);
int xlb_txn_del(struct txn *t, const struct xlb_vip_key *k);
int xlb_txn_del_range(struct txn *t, const struct xlb_src_range_key *k);
int xlb_txn_write_backend(struct txn *t, __u32 id, __u32 svc_id,
			  const struct xlb_prog_backend *pb, bool dirty);
int xlb_txn_clear_backend(struct txn *t, __u32 id, __u32 svc_id,
			  const struct xlb_prog_backend *pb);
int xlb_txn_write_info(struct txn *t, const struct xlb_prog_service *ps);
int xlb_txn_write_svc(struct txn *t, const struct xlb_prog_service *ps);

/* ---- adopt.c ----------------------------------------------------------- */

/*
 * What adoption found in the maps that no service owns (left by a crash
 * or a lost pin): kept as it is, its ids and ring slices taken, so that
 * nothing that may still serve stops, until a full apply has written the
 * model; then removed (xlb_sync_sweep_orphans()).
 */
struct xlb_sync_orphans {
	struct xlb_sync_orphan_fe {
		struct xlb_vip_key key;
		__u32 svc_id;		/* the unknown service it points at */
	} *fes;				/* frontends of no known service */
	size_t n_fes;
	struct xlb_src_range_key *ranges; /* source ranges of none */
	size_t n_ranges;
	__u32 *bes;			/* backend ids in use by none */
	size_t n_bes;
	__u32 *svc_ids;			/* service ids those point at */
	size_t n_svc_ids;
	struct extent *rings;		/* slices no service's bookkeeping
					 * holds, but a frontend points at */
	size_t n_rings;
};

void xlb_sync_free_orphans(struct xlb_sync_orphans *o);
/* After a full apply: removes the orphans it did not overwrite. */
void xlb_sync_sweep_orphans(struct xlb_sync *s);

/* ---- rings.c ----------------------------------------------------------- */

/* Gives ps a fresh ring slice (cluster-wide or node-local) of m slots and
 * queues the building of its table; *off and *size are 0 when the ring
 * has no member. */
int xlb_rings_queue(struct xlb_sync *s, struct txn *t,
		    struct xlb_prog_service *ps, bool local, __u32 m,
		    __u32 *off, __u32 *size);
/* A full apply of n_services: start building while it goes on. */
void xlb_rings_start(struct xlb_sync *s, struct txn *t, size_t n_services);
/* The jobs queued so far are complete: workers may build them. */
void xlb_rings_publish(struct txn *t);
/* Builds every queued table; returns the first build error. */
int xlb_rings_build(struct xlb_sync *s, struct txn *t);
void xlb_rings_stop(struct txn *t);

/* ---- service.c --------------------------------------------------------- */

__u32 xlb_sync_table_size(const struct xlb_model_service *ms);
int xlb_sync_model_frontends(const struct xlb_sync *s,
			     const struct xlb_model_service *ms,
			     struct xlb_prog_frontend **out, size_t *n);
int xlb_sync_model_ranges(const struct xlb_model_service *ms, __u32 svc_id,
			  struct xlb_src_range_key **out, size_t *n);
__u32 xlb_sync_service_digest(const struct xlb_sync *s,
			      const struct xlb_model_service *ms);
void xlb_sync_ring_sets(const struct xlb_model_service *ms, __u8 *in_all,
			__u8 *in_local);
size_t xlb_sync_frontend_count(const struct xlb_sync *s,
			       const struct xlb_model_service *ms);
int xlb_sync_keep_list(const struct xlb_sync *s,
		       const struct xlb_model_service *v, size_t n,
		       struct xlb_vip_key **out, size_t *n_out);

/* ---- apply.c ----------------------------------------------------------- */

/* Brings one service to its model: old is what is programmed (NULL for
 * a new service), ps receives the new programmed state. Frontends in
 * keep are not deleted even if old lets them go. */
int xlb_sync_apply_service(struct xlb_sync *s, struct txn *t,
			   const struct xlb_model_service *ms,
			   const struct xlb_prog_service *old,
			   struct xlb_prog_service *ps,
			   const struct xlb_vip_key *keep, size_t n_keep,
			   struct xlb_sync_result *res);
/* Takes ps out of the maps (but for the frontends in keep) and frees its
 * ids and slices; counts and logs the removal. The caller frees its
 * arrays. */
void xlb_sync_remove_service(struct xlb_sync *s, struct xlb_prog_service *ps,
			     const struct xlb_vip_key *keep, size_t n_keep,
			     struct xlb_sync_result *res);
/* Commits and finishes t. What was queued is consistent service by
 * service, so it is written even after a failure (rc): the bookkeeping
 * then matches the maps. Returns rc, or the commit's error. */
int xlb_sync_commit(struct xlb_sync *s, struct txn *t, int rc, char *err,
		    size_t errlen);
const char *xlb_sync_vip_str(const struct xlb_vip_key *k, char *buf,
			     size_t len);
enum xlb_log_level xlb_sync_log_level(struct xlb_sync *s);
void xlb_sync_log_end(struct xlb_sync *s);
/* After an apply: tells s->backends_left when backends left or changed
 * (res counts them). */
void xlb_sync_notify_left(struct xlb_sync *s,
			  const struct xlb_sync_result *res);

#endif /* XLB_SYNC_INTERNAL_H */
