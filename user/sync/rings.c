// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev tables of an apply: each service's rings get a fresh slice of
 * xlb_rings and are built straight into the mmap'ed array before the
 * frontends that point at them are written. A large full apply builds
 * them on worker threads while it goes on applying.
 */
#include <time.h>
#include <unistd.h>

#include "maglev.h"
#include "sync/internal.h"

/* The Maglev weight of a ring member: its own weight, scaled so that
 * each traffic-split group gets its percent of the ring. */
static __u32 member_weight(const struct xlb_prog_service *ps,
			   const struct xlb_prog_backend *pb, bool local)
{
	__u64 sum = 0;
	size_t i;

	if (!ps->n_groups || !pb->group)
		return pb->weight;
	for (i = 0; i < ps->n_backends; i++) {
		const struct xlb_prog_backend *o = &ps->backends[i];

		if (o->group == pb->group && (local ? o->in_local : o->in_all))
			sum += o->weight;
	}
	if (!sum || !ps->group_pct[pb->group - 1])
		return 0;
	/* Scale 10000: a share of 1% still splits fine among 100 backends. */
	return (__u32)((__u64)ps->group_pct[pb->group - 1] * pb->weight *
			       10000 / sum) ?: 1;
}

/* Builds one Maglev table of ps (cluster-wide or node-local) into table. */
static int build_ring(const struct xlb_prog_service *ps, bool local, __u32 m,
		      __u32 *table)
{
	struct xlb_maglev_backend mb[16] = {}, *v = mb;
	size_t i, n = 0;
	int rc;

	if (ps->n_backends > 16) {
		v = calloc(ps->n_backends, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (i = 0; i < ps->n_backends; i++) {
		const struct xlb_prog_backend *pb = &ps->backends[i];
		__u32 w;

		if (!(local ? pb->in_local : pb->in_all))
			continue;
		w = member_weight(ps, pb, local);
		if (!w)
			continue;
		v[n] = (struct xlb_maglev_backend){
			.id = pb->id, .addr = pb->addr, .port = pb->port,
			.family = pb->family, .weight = w,
		};
		n++;
	}
	rc = xlb_maglev_build(v, n, m, table);
	if (v != mb)
		free(v);
	return rc;
}

static size_t ring_members(const struct xlb_prog_service *ps, bool local)
{
	size_t i, n = 0;

	for (i = 0; i < ps->n_backends; i++)
		n += (local ? ps->backends[i].in_local :
			      ps->backends[i].in_all) &&
		     member_weight(ps, &ps->backends[i], local);
	return n;
}

/* No packet can reach the slice before the frontend is written. */
int xlb_rings_queue(struct xlb_sync *s, struct txn *t,
		    struct xlb_prog_service *ps, bool local, __u32 m,
		    __u32 *off, __u32 *size)
{
	int rc;

	*off = 0;
	*size = 0;
	if (!ring_members(ps, local))
		return 0;
	/* Workers may be reading the array: it must not move. */
	if (t->n_workers && t->n_jobs + 1 > t->cap_jobs)
		return -ENOSPC;
	if (grow_buf((void **)&t->jobs, &t->cap_jobs, t->n_jobs + 1,
		     sizeof(*t->jobs)))
		return -ENOMEM;
	rc = xlb_ringalloc_alloc(&s->rings, m, off);
	if (rc)
		return rc;
	t->jobs[t->n_jobs++] = (struct ring_job){ .ps = ps, .off = *off,
						  .m = m, .local = local };
	*size = m;
	return 0;
}

static void build_job(struct xlb_sync *s, struct txn *t, struct ring_job *j)
{
	__u32 *table = s->maps->ring_mem + j->off;
	int rc = build_ring(j->ps, j->local, j->m, table);

	if (rc) {
		/* Id 0 is no backend: the service drops, not misroutes. */
		memset(table, 0, (size_t)j->m * sizeof(*table));
		__atomic_store_n(&t->build_rc, rc, __ATOMIC_RELAXED);
	}
}

/* Builds published jobs until none is left; a worker (wait) keeps
 * waiting for more until the apply closes the queue. */
static void take_jobs(struct xlb_sync *s, struct txn *t, bool wait)
{
	for (;;) {
		size_t i = __atomic_load_n(&t->next_job, __ATOMIC_RELAXED);
		size_t pub = __atomic_load_n(&t->published, __ATOMIC_ACQUIRE);

		if (i >= pub) {
			if (wait &&
			    !__atomic_load_n(&t->closing, __ATOMIC_ACQUIRE)) {
				/* Caught up: leave the CPU to the apply. */
				struct timespec ts = { 0, 50000 };

				nanosleep(&ts, NULL);
				continue;
			}
			/* Closed: published is final now. */
			if (i >= __atomic_load_n(&t->published,
						 __ATOMIC_ACQUIRE))
				return;
			continue;
		}
		if (!__atomic_compare_exchange_n(&t->next_job, &i, i + 1, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		build_job(s, t, &t->jobs[i]);
	}
}

static void *worker_run(void *arg)
{
	struct txn *t = arg;

	take_jobs(t->s, t, true);
	return NULL;
}

/* Starts up to XLB_SYNC_THREADS - 1 workers (one per other CPU). */
static void start_workers(struct xlb_sync *s, struct txn *t)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus > 1 ? (size_t)cpus - 1 : 0;

	if (want > XLB_SYNC_THREADS - 1)
		want = XLB_SYNC_THREADS - 1;
	t->s = s;
	while (t->n_workers < want &&
	       !pthread_create(&t->workers[t->n_workers], NULL, worker_run, t))
		t->n_workers++;
}

/*
 * Workers on the other CPUs take each service's jobs as soon as the
 * service is applied (the main thread publishes them). The jobs array is
 * sized for every service up front so that it never moves.
 */
void xlb_rings_start(struct xlb_sync *s, struct txn *t, size_t n_services)
{
	if (n_services < 256 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	if (grow_buf((void **)&t->jobs, &t->cap_jobs, 2 * n_services + 1,
		     sizeof(*t->jobs)))
		return;
	start_workers(s, t);
}

void xlb_rings_publish(struct txn *t)
{
	if (t->n_workers)
		__atomic_store_n(&t->published, t->n_jobs, __ATOMIC_RELEASE);
}

void xlb_rings_stop(struct txn *t)
{
	size_t i;

	__atomic_store_n(&t->closing, true, __ATOMIC_RELEASE);
	for (i = 0; i < t->n_workers; i++)
		pthread_join(t->workers[i], NULL);
	t->n_workers = 0;
}

/* On up to XLB_SYNC_THREADS threads when there are many (a full sync of a
 * large cluster). */
int xlb_rings_build(struct xlb_sync *s, struct txn *t)
{
	int rc;

	__atomic_store_n(&t->published, t->n_jobs, __ATOMIC_RELEASE);
	__atomic_store_n(&t->closing, true, __ATOMIC_RELEASE);
	if (!t->n_workers && t->n_jobs >= 256)
		start_workers(s, t);
	take_jobs(s, t, false);
	xlb_rings_stop(t);
	/* The slots must be visible before the frontends point at them. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rc = t->build_rc;
	t->n_jobs = t->next_job = t->published = 0;
	t->closing = false;
	t->build_rc = 0;
	return rc;
}
