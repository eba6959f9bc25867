// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <xlb/hash.h>

#include "log.h"
#include "maglev.h"
#include "sync.h"
#include "util.h"

/* ---- id pools ---------------------------------------------------------- */

enum {
	ID_FREE = 0,
	ID_USED = 1,
	ID_HELD = 2,
	ID_MASK = 3,
	ID_DIRTY = 4,	/* the map entry of this id was written before */
};

static int idpool_init(struct xlb_idpool *p, __u32 max)
{
	memset(p, 0, sizeof(*p));
	p->state = calloc(max ? max : 1, 1);
	if (!p->state)
		return -ENOMEM;
	p->max = max;
	p->hint = 1;
	return 0;
}

static void idpool_fini(struct xlb_idpool *p)
{
	free(p->state);
	free(p->held);
	memset(p, 0, sizeof(*p));
}

static void idpool_mark(struct xlb_idpool *p, __u32 id)
{
	if (id && id < p->max && (p->state[id] & ID_MASK) == ID_FREE) {
		p->state[id] = ID_USED | ID_DIRTY;
		p->n_used++;
	}
}

static void idpool_reclaim(struct xlb_idpool *p, uint64_t now)
{
	while (p->held_head != p->held_tail) {
		struct xlb_held_id *h = &p->held[p->held_head % p->held_cap];

		if (now - h->at < XLB_RING_GRACE_NS)
			break;
		p->state[h->id] = ID_FREE | ID_DIRTY;
		p->n_used--;
		p->held_head++;
	}
}

/* Returns an id, or 0 when none is free; *dirty says whether its map
 * entry may still hold an old value. */
static __u32 idpool_alloc(struct xlb_idpool *p, bool *dirty)
{
	__u32 i, id;

	if (p->n_used + 1 >= p->max) {
		/* Only held ids are left: wait out their grace period. */
		while (p->held_head != p->held_tail && p->n_used + 1 >= p->max) {
			usleep(1000);
			idpool_reclaim(p, xlb_now_ns());
		}
	}
	for (i = 0; i + 1 < p->max; i++) {
		id = 1 + (p->hint - 1 + i) % (p->max - 1);
		if ((p->state[id] & ID_MASK) == ID_FREE) {
			*dirty = p->state[id] & ID_DIRTY;
			p->state[id] = ID_USED | ID_DIRTY;
			p->n_used++;
			p->hint = id + 1 < p->max ? id + 1 : 1;
			return id;
		}
	}
	return XLB_ID_NONE;
}

static void idpool_free(struct xlb_idpool *p, __u32 id)
{
	size_t n = p->held_tail - p->held_head;

	if (!id || id >= p->max || (p->state[id] & ID_MASK) != ID_USED)
		return;
	idpool_reclaim(p, xlb_now_ns());
	if (n + 1 > p->held_cap) {
		size_t cap = p->held_cap ? p->held_cap * 2 : 64, k;
		struct xlb_held_id *h = malloc(cap * sizeof(*h));

		if (!h)
			return; /* stays used: leaked, never reused early */
		for (k = 0; k < n; k++)
			h[k] = p->held[(p->held_head + k) % p->held_cap];
		free(p->held);
		p->held = h;
		p->held_cap = cap;
		p->held_head = 0;
		p->held_tail = n;
	}
	p->held[p->held_tail % p->held_cap] =
		(struct xlb_held_id){ .id = id, .at = xlb_now_ns() };
	p->held_tail++;
	p->state[id] = ID_HELD | ID_DIRTY;
}

/* ---- lifecycle ------------------------------------------------------- */

int xlb_sync_init(struct xlb_sync *s, struct xlb_maps *maps)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->maps = maps;
	s->port_fe = calloc(65536, sizeof(__u32));
	s->port_be = calloc(65536, sizeof(__u32));
	if (!s->port_fe || !s->port_be) {
		xlb_sync_fini(s);
		return -ENOMEM;
	}
	rc = xlb_ringalloc_init(&s->rings, maps->ring_slots);
	if (!rc)
		rc = idpool_init(&s->svc_ids, maps->max_services);
	if (!rc)
		rc = idpool_init(&s->be_ids, maps->max_backends);
	if (rc)
		xlb_sync_fini(s);
	return rc;
}

static void free_svc_arrays(struct xlb_prog_service *ps)
{
	free(ps->backends);
	free(ps->fes);
	free(ps->ranges);
	free(ps->group_pct);
	ps->backends = NULL;
	ps->fes = NULL;
	ps->ranges = NULL;
	ps->group_pct = NULL;
	ps->n_backends = ps->n_fes = ps->n_ranges = ps->n_groups = 0;
}

static void free_svcs(struct xlb_prog_service *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_svc_arrays(&v[i]);
	free(v);
}

void xlb_sync_fini(struct xlb_sync *s)
{
	free_svcs(s->svcs, s->n_svcs);
	xlb_ringalloc_fini(&s->rings);
	free(s->port_fe);
	free(s->port_be);
	free(s->node_addrs);
	idpool_fini(&s->svc_ids);
	idpool_fini(&s->be_ids);
	memset(s, 0, sizeof(*s));
}

/* Kept as services come and go: /metrics asks after every event. */
size_t xlb_sync_backend_count(const struct xlb_sync *s)
{
	return s->n_backends;
}

static void count_backends(struct xlb_sync *s)
{
	size_t i;

	s->n_backends = 0;
	for (i = 0; i < s->n_svcs; i++)
		s->n_backends += s->svcs[i].n_backends;
}

/* ---- adoption of pinned state ----------------------------------------- */

/*
 * xlb_ports: counts of frontends and backends per port, computed from
 * the bookkeeping. publish_ports(s, v, n, true) raises counts that grow
 * and keeps those that shrink (before the maps change), false writes the
 * new counts (after): a port in use is never filtered out.
 */
static void publish_ports(struct xlb_sync *s,
			  const struct xlb_prog_service *v, size_t n,
			  bool grow_only)
{
	struct xlb_port_use *mem = s->maps->port_mem;
	__u32 *fe, *be;
	size_t i, j;
	__u32 p;

	if (!mem)
		return;
	fe = calloc(65536, sizeof(*fe));
	be = calloc(65536, sizeof(*be));
	if (!fe || !be) {
		/* Cannot count: open the filter on every port. */
		for (p = 0; p < 65536; p++)
			mem[p] = (struct xlb_port_use){ 1, 1 };
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!v[i].name[0])
			continue;
		for (j = 0; j < v[i].n_fes; j++)
			fe[ntohs(v[i].fes[j].key.port)]++;
		for (j = 0; j < v[i].n_backends; j++)
			be[ntohs(v[i].backends[j].port)]++;
	}
	for (p = 0; p < 65536; p++) {
		__u32 f = fe[p], b = be[p];

		if (grow_only) {
			f = f > s->port_fe[p] ? f : s->port_fe[p];
			b = b > s->port_be[p] ? b : s->port_be[p];
		}
		if (mem[p].frontends != f)
			mem[p].frontends = f;
		if (mem[p].backends != b)
			mem[p].backends = b;
		s->port_fe[p] = f;
		s->port_be[p] = b;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
out:
	free(fe);
	free(be);
}

static int fe_cmp(const void *a, const void *b)
{
	const struct xlb_prog_frontend *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int range_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_src_range_key));
}

static int svc_by_id_cmp(const void *a, const void *b)
{
	const struct xlb_prog_service *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int svc_by_name_cmp(const void *a, const void *b)
{
	const struct xlb_prog_service *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int pbe_cmp(const void *a, const void *b)
{
	const struct xlb_prog_backend *x = a, *y = b;

	return xlb_be_identity_cmp(&x->addr, x->port, x->family, &y->addr,
				   y->port, y->family);
}

struct extent {
	__u32 off, len;
};

static int extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int xlb_sync_adopt(struct xlb_sync *s)
{
	struct xlb_maps *m = s->maps;
	struct xlb_svc_info *info = NULL;
	struct xlb_backend *bes = NULL;
	struct xlb_prog_service *svcs = NULL, key, *ps;
	struct extent *ext = NULL;
	struct xlb_vip_key vk, next;
	struct xlb_svc sv;
	size_t n = 0, n_ext = 0, i;
	void *prev = NULL;
	int rc;

	info = calloc(m->max_services, sizeof(*info));
	bes = calloc(m->max_backends, sizeof(*bes));
	if (!info || !bes) {
		rc = -ENOMEM;
		goto out;
	}
	rc = xlb_array_read(m->svc_info, m->max_services, sizeof(*info), info);
	if (!rc)
		rc = xlb_array_read(m->backends, m->max_backends, sizeof(*bes), bes);
	if (rc) {
		pr_err("adopt: read pinned maps: %s", strerror(-rc));
		goto out;
	}
	for (i = 1; i < m->max_services; i++)
		n += !!(info[i].flags & XLB_SVC_INFO_F_USED);
	svcs = calloc(n + 1, sizeof(*svcs));
	ext = calloc(2 * n + 1, sizeof(*ext));
	if (!svcs || !ext) {
		rc = -ENOMEM;
		goto out;
	}
	n = 0;
	for (i = 1; i < m->max_services; i++) {
		if (!(info[i].flags & XLB_SVC_INFO_F_USED))
			continue;
		ps = &svcs[n++];
		memcpy(ps->name, info[i].name, sizeof(ps->name));
		ps->name[XLB_SVC_NAME_LEN - 1] = '\0';
		ps->id = i;
		ps->table_size_req = info[i].ring_size_req;
		ps->generation = info[i].generation;
		ps->digest = info[i].digest;
		idpool_mark(&s->svc_ids, i);
	}
	/* svcs is sorted by id: attach frontends and backends to it. */
	while (!bpf_map_get_next_key(m->svc, prev, &next)) {
		vk = next;
		prev = &vk;
		if (bpf_map_lookup_elem(m->svc, &vk, &sv))
			continue;
		key.id = sv.svc_id;
		ps = bsearch(&key, svcs, n, sizeof(*svcs), svc_by_id_cmp);
		if (!ps) {
			/* A frontend of no known service: left by a crash. */
			bpf_map_delete_elem(m->svc, &vk);
			prev = NULL;
			continue;
		}
		{
			struct xlb_prog_frontend *f;

			f = realloc(ps->fes, (ps->n_fes + 1) * sizeof(*f));
			if (!f) {
				rc = -ENOMEM;
				goto out;
			}
			ps->fes = f;
			ps->fes[ps->n_fes++] = (struct xlb_prog_frontend){
				.key = vk, .flags = sv.flags
			};
		}
		if ((sv.flags & XLB_FE_KIND_MASK) == XLB_FE_CLUSTER_IP)
			ps->vip = vk;
		ps->affinity_timeout = sv.affinity_timeout;
		if (sv.flags & XLB_SVC_F_LOCAL) {
			ps->lring_off = sv.ring_off;
			ps->lring_size = sv.ring_size;
		} else {
			ps->ring_off = sv.ring_off;
			ps->ring_size = sv.ring_size;
		}
	}
	/* Source ranges, by service. */
	{
		struct xlb_src_range_key rk, rnext;
		void *rprev = NULL;

		while (!bpf_map_get_next_key(m->src_ranges, rprev, &rnext)) {
			struct xlb_src_range_key *r;

			rk = rnext;
			rprev = &rk;
			key.id = rk.svc_id;
			ps = bsearch(&key, svcs, n, sizeof(*svcs),
				     svc_by_id_cmp);
			if (!ps)
				continue;
			r = realloc(ps->ranges, (ps->n_ranges + 1) * sizeof(*r));
			if (!r) {
				rc = -ENOMEM;
				goto out;
			}
			ps->ranges = r;
			ps->ranges[ps->n_ranges++] = rk;
		}
	}
	for (i = 1; i < m->max_backends; i++) {
		struct xlb_prog_backend *pb;

		if (bes[i].state == XLB_BE_UNUSED)
			continue;
		key.id = bes[i].svc_id;
		ps = bsearch(&key, svcs, n, sizeof(*svcs), svc_by_id_cmp);
		if (!ps)
			continue;
		pb = realloc(ps->backends, (ps->n_backends + 1) * sizeof(*pb));
		if (!pb) {
			rc = -ENOMEM;
			goto out;
		}
		ps->backends = pb;
		pb += ps->n_backends++;
		pb->addr = bes[i].addr;
		pb->port = bes[i].port;
		pb->family = bes[i].family;
		pb->state = bes[i].state;
		pb->weight = bes[i].weight;
		pb->local = !!(bes[i].flags & XLB_BE_F_LOCAL);
		pb->in_all = bes[i].state == XLB_BE_ACTIVE;
		pb->id = i;
		idpool_mark(&s->be_ids, i);
	}
	for (i = 0; i < n; i++) {
		qsort(svcs[i].backends, svcs[i].n_backends,
		      sizeof(*svcs[i].backends), pbe_cmp);
		qsort(svcs[i].fes, svcs[i].n_fes, sizeof(*svcs[i].fes),
		      fe_cmp);
		qsort(svcs[i].ranges, svcs[i].n_ranges,
		      sizeof(*svcs[i].ranges), range_cmp);
		if (svcs[i].ring_size)
			ext[n_ext++] = (struct extent){ svcs[i].ring_off,
							svcs[i].ring_size };
		if (svcs[i].lring_size)
			ext[n_ext++] = (struct extent){ svcs[i].lring_off,
							svcs[i].lring_size };
	}
	qsort(ext, n_ext, sizeof(*ext), extent_cmp);
	for (i = 0; i < n_ext; i++) {
		rc = xlb_ringalloc_reserve(&s->rings, ext[i].off, ext[i].len);
		if (rc) {
			pr_err("adopt: ring slice %u+%u overlaps another",
			       ext[i].off, ext[i].len);
			goto out;
		}
	}
	qsort(svcs, n, sizeof(*svcs), svc_by_name_cmp);
	free_svcs(s->svcs, s->n_svcs);
	s->svcs = svcs;
	s->n_svcs = n;
	count_backends(s);
	svcs = NULL;
	n = 0;
	publish_ports(s, s->svcs, s->n_svcs, false);
	pr_info("adopted %zu services and %zu backends from pinned maps",
		s->n_svcs, xlb_sync_backend_count(s));
out:
	free_svcs(svcs, n);
	free(ext);
	free(info);
	free(bes);
	return rc;
}

/* ---- apply -------------------------------------------------------------- */

static const char *vip_str(const struct xlb_vip_key *k, char *buf, size_t len)
{
	char a[XLB_ADDR_STRLEN];

	xlb_addr_str(&k->addr, k->family, a);
	snprintf(buf, len, k->family == XLB_AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s",
		 a, ntohs(k->port), xlb_proto_str(k->proto));
	return buf;
}

static __u32 table_size_of(const struct xlb_model_service *ms)
{
	return ms->table_size ? ms->table_size :
				xlb_maglev_table_size(ms->n_backends);
}

/*
 * Writes of one apply, queued and flushed in an order that keeps every
 * packet's view consistent: backends (retired ids first made harmless),
 * service info, then the frontends that make new rings and backends live,
 * then what nothing points at any more. Ids and ring slices are freed
 * only after that, so none is reused while still referenced.
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
	struct batch be_pre, be, info, svc, be_clear;
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

static int grow_buf(void **buf, size_t *cap, size_t need, size_t esz)
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

static int batch_add(struct batch *b, const void *key, const void *val)
{
	size_t cap = b->cap;
	int rc;

	rc = grow_buf((void **)&b->keys, &cap, b->n + 1, b->ksz);
	if (!rc && cap != b->cap) {
		size_t c2 = b->cap;

		rc = grow_buf((void **)&b->vals, &c2, cap, b->vsz);
	}
	if (rc)
		return rc;
	b->cap = cap;
	memcpy(b->keys + b->n * b->ksz, key, b->ksz);
	memcpy(b->vals + b->n * b->vsz, val, b->vsz);
	b->n++;
	return 0;
}

static int batch_flush(struct batch *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	size_t done = 0, i;
	__u32 count;

	while (done < b->n) {
		count = b->n - done;
		if (!bpf_map_update_batch(b->fd, b->keys + done * b->ksz,
					  b->vals + done * b->vsz, &count,
					  &opts)) {
			done += count;
			continue;
		}
		if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP)
			return -errno;
		/* No batch support: one by one. */
		for (i = done + count; i < b->n; i++)
			if (bpf_map_update_elem(b->fd, b->keys + i * b->ksz,
						b->vals + i * b->vsz, BPF_ANY))
				return -errno;
		break;
	}
	b->n = 0;
	return 0;
}

static void batch_fini(struct batch *b)
{
	free(b->keys);
	free(b->vals);
}

static void txn_init(struct txn *t, const struct xlb_maps *m)
{
	memset(t, 0, sizeof(*t));
	t->be_pre = (struct batch){ .fd = m->backends, .ksz = 4,
				    .vsz = sizeof(struct xlb_backend) };
	t->be = t->be_pre;
	t->be_clear = t->be_pre;
	t->info = (struct batch){ .fd = m->svc_info, .ksz = 4,
				  .vsz = sizeof(struct xlb_svc_info) };
	t->svc = (struct batch){ .fd = m->svc, .ksz = sizeof(struct xlb_vip_key),
				 .vsz = sizeof(struct xlb_svc) };
}

static void stop_workers(struct txn *t);

static void txn_fini(struct txn *t)
{
	if (t->n_workers)
		stop_workers(t);
	batch_fini(&t->be_pre);
	batch_fini(&t->be);
	batch_fini(&t->be_clear);
	batch_fini(&t->info);
	batch_fini(&t->svc);
	free(t->jobs);
	free(t->del_ranges);
	free(t->del);
	free(t->free_be);
	free(t->free_ring);
}

static int txn_free_be(struct txn *t, __u32 id)
{
	if (grow_buf((void **)&t->free_be, &t->cap_free_be, t->n_free_be + 1,
		     sizeof(*t->free_be)))
		return -ENOMEM;
	t->free_be[t->n_free_be++] = id;
	return 0;
}

static int txn_free_ring(struct txn *t, __u32 off, __u32 len)
{
	if (!len)
		return 0;
	if (grow_buf((void **)&t->free_ring, &t->cap_free_ring,
		     t->n_free_ring + 1, sizeof(*t->free_ring)))
		return -ENOMEM;
	t->free_ring[t->n_free_ring++] = (struct extent){ off, len };
	return 0;
}

static int txn_del(struct txn *t, const struct xlb_vip_key *k)
{
	if (grow_buf((void **)&t->del, &t->cap_del, t->n_del + 1,
		     sizeof(*t->del)))
		return -ENOMEM;
	t->del[t->n_del++] = *k;
	return 0;
}

static int txn_del_range(struct txn *t, const struct xlb_src_range_key *k)
{
	if (grow_buf((void **)&t->del_ranges, &t->cap_del_ranges,
		     t->n_del_ranges + 1, sizeof(*t->del_ranges)))
		return -ENOMEM;
	t->del_ranges[t->n_del_ranges++] = *k;
	return 0;
}

static int build_rings(struct xlb_sync *s, struct txn *t);

/* Flushes in order; on error the rest is not written. */
static int txn_commit(struct xlb_sync *s, struct txn *t)
{
	size_t i;
	int rc, brc;

	brc = build_rings(s, t);
	if ((rc = batch_flush(&t->be_pre)) || (rc = batch_flush(&t->be)) ||
	    (rc = batch_flush(&t->info)) || (rc = batch_flush(&t->svc)))
		return rc;
	for (i = 0; i < t->n_del; i++)
		bpf_map_delete_elem(s->maps->svc, &t->del[i]);
	for (i = 0; i < t->n_del_ranges; i++)
		bpf_map_delete_elem(s->maps->src_ranges, &t->del_ranges[i]);
	rc = batch_flush(&t->be_clear);
	if (rc)
		return rc;
	for (i = 0; i < t->n_free_be; i++)
		idpool_free(&s->be_ids, t->free_be[i]);
	for (i = 0; i < t->n_free_ring; i++)
		xlb_ringalloc_free(&s->rings, t->free_ring[i].off,
				   t->free_ring[i].len);
	t->n_del = t->n_del_ranges = t->n_free_be = t->n_free_ring = 0;
	return brc;
}

/*
 * Array entries are rewritten in place, so a packet may read one while it
 * changes. Writes are arranged so that a torn read is always harmless:
 * an entry whose old content may still be read is first rewritten with
 * its new address but state UNUSED, and only then made usable; an entry
 * that goes away keeps its address and only turns UNUSED.
 */
static int write_backend(struct txn *t, __u32 id, __u32 svc_id,
			 const struct xlb_prog_backend *pb, bool dirty)
{
	struct xlb_backend v = {
		.addr = pb->addr,
		.port = pb->port,
		.family = pb->family,
		.state = XLB_BE_UNUSED,
		.svc_id = svc_id,
		.weight = pb->weight,
		.flags = pb->local ? XLB_BE_F_LOCAL : 0,
	};
	int rc = 0;

	if (dirty)
		rc = batch_add(&t->be_pre, &id, &v);
	v.state = pb->state;
	return rc ? rc : batch_add(&t->be, &id, &v);
}

static int clear_backend(struct txn *t, __u32 id, __u32 svc_id,
			 const struct xlb_prog_backend *pb)
{
	struct xlb_backend v = {
		.addr = pb->addr,
		.port = pb->port,
		.family = pb->family,
		.state = XLB_BE_UNUSED,
		.svc_id = svc_id,
	};

	return batch_add(&t->be_clear, &id, &v);
}

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

/* Gives ps a fresh ring slice and queues the building of its table; no
 * packet can reach the slice before the frontend is written. */
static int write_ring(struct xlb_sync *s, struct txn *t,
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
 * A full apply of many services builds their tables while it goes on
 * applying: workers on the other CPUs take each service's jobs as soon as
 * the service is applied (the main thread publishes them). The jobs array
 * is sized for every service up front so that it never moves.
 */
static void rings_start(struct xlb_sync *s, struct txn *t, size_t n_services)
{
	if (n_services < 256 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	if (grow_buf((void **)&t->jobs, &t->cap_jobs, 2 * n_services + 1,
		     sizeof(*t->jobs)))
		return;
	start_workers(s, t);
}

/* The service's jobs are complete: workers may build them. */
static void rings_publish(struct txn *t)
{
	if (t->n_workers)
		__atomic_store_n(&t->published, t->n_jobs, __ATOMIC_RELEASE);
}

static void stop_workers(struct txn *t)
{
	size_t i;

	__atomic_store_n(&t->closing, true, __ATOMIC_RELEASE);
	for (i = 0; i < t->n_workers; i++)
		pthread_join(t->workers[i], NULL);
	t->n_workers = 0;
}

/* Builds the queued tables, on up to XLB_SYNC_THREADS threads when there
 * are many (a full sync of a large cluster). */
static int build_rings(struct xlb_sync *s, struct txn *t)
{
	int rc;

	__atomic_store_n(&t->published, t->n_jobs, __ATOMIC_RELEASE);
	__atomic_store_n(&t->closing, true, __ATOMIC_RELEASE);
	if (!t->n_workers && t->n_jobs >= 256)
		start_workers(s, t);
	take_jobs(s, t, false);
	stop_workers(t);
	/* The slots must be visible before the frontends point at them. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rc = t->build_rc;
	t->n_jobs = t->next_job = t->published = 0;
	t->closing = false;
	t->build_rc = 0;
	return rc;
}

static int write_info(struct txn *t, const struct xlb_prog_service *ps)
{
	struct xlb_svc_info v = {
		.ring_size_req = ps->table_size_req,
		.generation = ps->generation,
		.n_backends = ps->n_backends,
		.flags = XLB_SVC_INFO_F_USED,
		.digest = ps->digest,
	};

	memcpy(v.name, ps->name, sizeof(v.name));
	return batch_add(&t->info, &ps->id, &v);
}

/* Queues every frontend of ps, each pointing at its ring. */
static int write_svc(struct txn *t, const struct xlb_prog_service *ps)
{
	size_t i;
	int rc;

	for (i = 0; i < ps->n_fes; i++) {
		const struct xlb_prog_frontend *f = &ps->fes[i];
		bool local = f->flags & XLB_SVC_F_LOCAL;
		struct xlb_svc v = {
			.svc_id = ps->id,
			.ring_off = local ? ps->lring_off : ps->ring_off,
			.ring_size = local ? ps->lring_size : ps->ring_size,
			.flags = f->flags,
			.affinity_timeout = ps->affinity_timeout,
		};

		rc = batch_add(&t->svc, &f->key, &v);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * One line per service added, updated or removed, at info level for the
 * first XLB_SYNC_LOG_SERVICES of an apply and at debug level after that:
 * a first sync of 100,000 services should not write 100,000 lines (nor
 * wait for them).
 */
#define XLB_SYNC_LOG_SERVICES 100

static enum xlb_log_level svc_log_level(struct xlb_sync *s)
{
	if (s->quiet)
		return XLB_LOG_DEBUG;
	return s->n_logged++ < XLB_SYNC_LOG_SERVICES ? XLB_LOG_INFO :
						      XLB_LOG_DEBUG;
}

static void svc_log_end(struct xlb_sync *s)
{
	if (s->n_logged > XLB_SYNC_LOG_SERVICES &&
	    xlb_log_get_level() < XLB_LOG_DEBUG)
		pr_info("%zu more service lines at debug level (xlbd -vv)",
			s->n_logged - XLB_SYNC_LOG_SERVICES);
	s->n_logged = 0;
}

static int vipkey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_vip_key));
}

static bool kept(const struct xlb_vip_key *k, const struct xlb_vip_key *keep,
		 size_t n_keep)
{
	return bsearch(k, keep, n_keep, sizeof(*k), vipkey_cmp) != NULL;
}

/* Deletes a frontend unless the new model uses it. */
static void drop_frontend(struct xlb_sync *s, const struct xlb_vip_key *k,
			  const struct xlb_vip_key *keep, size_t n_keep)
{
	if (kept(k, keep, n_keep))
		return;
	bpf_map_delete_elem(s->maps->svc, k);
}

static void remove_service(struct xlb_sync *s, struct xlb_prog_service *ps,
			   const struct xlb_vip_key *keep, size_t n_keep)
{
	struct xlb_svc_info none = {};
	size_t i;

	for (i = 0; i < ps->n_fes; i++)
		drop_frontend(s, &ps->fes[i].key, keep, n_keep);
	for (i = 0; i < ps->n_ranges; i++)
		bpf_map_delete_elem(s->maps->src_ranges, &ps->ranges[i]);
	for (i = 0; i < ps->n_backends; i++) {
		struct xlb_prog_backend *pb = &ps->backends[i];
		struct xlb_backend v = { .addr = pb->addr, .port = pb->port,
					 .family = pb->family,
					 .state = XLB_BE_UNUSED,
					 .svc_id = ps->id };

		bpf_map_update_elem(s->maps->backends, &pb->id, &v, BPF_ANY);
		idpool_free(&s->be_ids, pb->id);
	}
	bpf_map_update_elem(s->maps->svc_info, &ps->id, &none, BPF_ANY);
	xlb_ringalloc_free(&s->rings, ps->ring_off, ps->ring_size);
	xlb_ringalloc_free(&s->rings, ps->lring_off, ps->lring_size);
	idpool_free(&s->svc_ids, ps->id);
}

/* ---- what a model service becomes ---------------------------------------- */

/* The frontends of ms: its VIP, external IPs, load-balancer IPs and its
 * NodePort on every node address of its family, sorted by key. */
static int model_frontends(const struct xlb_sync *s,
			   const struct xlb_model_service *ms,
			   struct xlb_prog_frontend **out, size_t *n)
{
	struct xlb_prog_frontend *v;
	size_t k = 0, i;
	__u32 common = ms->affinity_timeout ? XLB_SVC_F_AFFINITY : 0;

	v = calloc(1 + ms->n_external_ips + ms->n_lb_ips +
			   (ms->node_port ? s->n_node_addrs : 0),
		   sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[k].key = ms->vip;
	v[k++].flags = XLB_FE_CLUSTER_IP | common |
		       (ms->internal_local ? XLB_SVC_F_LOCAL : 0);
	common |= (ms->external_local ? XLB_SVC_F_LOCAL : 0) |
		  (ms->n_source_ranges ? XLB_SVC_F_SRC_RANGES : 0);
	for (i = 0; i < ms->n_external_ips; i++) {
		v[k].key = ms->vip;
		v[k].key.addr = ms->external_ips[i];
		v[k++].flags = XLB_FE_EXTERNAL_IP | common;
	}
	for (i = 0; i < ms->n_lb_ips; i++) {
		v[k].key = ms->vip;
		v[k].key.addr = ms->lb_ips[i];
		v[k++].flags = XLB_FE_LOAD_BALANCER | common;
	}
	for (i = 0; ms->node_port && i < s->n_node_addrs; i++) {
		if (s->node_addrs[i].family != ms->vip.family)
			continue;
		v[k].key = ms->vip;
		v[k].key.addr = s->node_addrs[i].addr;
		v[k].key.port = htons(ms->node_port);
		v[k++].flags = XLB_FE_NODE_PORT | common;
	}
	qsort(v, k, sizeof(*v), fe_cmp);
	*out = v;
	*n = k;
	return 0;
}

static int model_ranges(const struct xlb_model_service *ms, __u32 svc_id,
			struct xlb_src_range_key **out, size_t *n)
{
	struct xlb_src_range_key *v;
	size_t i, j;

	v = calloc(ms->n_source_ranges + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < ms->n_source_ranges; i++) {
		const struct xlb_cidr *c = &ms->source_ranges[i];

		v[i].prefixlen = XLB_SRC_RANGE_PREFIX + c->len;
		v[i].svc_id = svc_id;
		v[i].family = c->family;
		memcpy(v[i].addr, c->addr.bytes, 16);
		/* Clear the host bits, as the kernel's trie expects. */
		for (j = 0; j < 16; j++) {
			int keep = (int)c->len - (int)j * 8;

			if (keep <= 0)
				v[i].addr[j] = 0;
			else if (keep < 8)
				v[i].addr[j] &= 0xff << (8 - keep);
		}
	}
	qsort(v, ms->n_source_ranges, sizeof(*v), range_cmp);
	*out = v;
	*n = ms->n_source_ranges;
	return 0;
}

/* A hash of everything about a service but its backends' states and
 * weights and its id: when it changes, all the service's entries are
 * written again. Stored in xlb_svc_info so a restart can compare. */
static __u32 service_digest(const struct xlb_sync *s,
			    const struct xlb_model_service *ms)
{
	__u32 h = 0x9747b28c, w[9] = {};
	size_t i;

#define MIX(x) (h = xlb_jhash_3words(h, (__u32)(x), 0x5bd1e995u, 0))
	MIX(ms->table_size);
	MIX(ms->affinity_timeout);
	MIX(ms->external_local | ms->internal_local << 1);
	MIX(ms->node_port);
	for (i = 0; i < ms->n_external_ips; i++) {
		memcpy(w, ms->external_ips[i].bytes, 16);
		h = xlb_jhash_9words(w, h);
	}
	for (i = 0; i < ms->n_lb_ips; i++) {
		memcpy(w, ms->lb_ips[i].bytes, 16);
		w[4] = 1;
		h = xlb_jhash_9words(w, h);
	}
	memset(w, 0, sizeof(w));
	for (i = 0; i < ms->n_source_ranges; i++) {
		memcpy(w, ms->source_ranges[i].addr.bytes, 16);
		w[4] = ms->source_ranges[i].len | 2u << 8;
		h = xlb_jhash_9words(w, h);
	}
	for (i = 0; i < ms->n_groups; i++) {
		memcpy(w, ms->groups[i].name, 32);
		w[8] = ms->groups[i].percent;
		h = xlb_jhash_9words(w, h);
	}
	memset(w, 0, sizeof(w));
	for (i = 0; i < ms->n_backends; i++) {
		const struct xlb_model_backend *b = &ms->backends[i];

		memcpy(w, b->addr.bytes, 16);
		w[4] = b->port | (__u32)b->serving << 16 |
		       (__u32)b->local << 17 | (__u32)b->group << 24;
		h = xlb_jhash_9words(w, h);
	}
	if (ms->node_port)
		for (i = 0; i < s->n_node_addrs; i++) {
			memcpy(w, s->node_addrs[i].addr.bytes, 16);
			w[4] = 3;
			h = xlb_jhash_9words(w, h);
		}
#undef MIX
	return h ? h : 1;
}

/*
 * Which backends take new flows, Kubernetes' way: the ready ones (with a
 * weight); when none is ready, the serving terminating ones. Computed for
 * the whole service and for the node-local backends alone.
 */
static void ring_sets(const struct xlb_model_service *ms, __u8 *in_all,
		      __u8 *in_local)
{
	bool ready = false, ready_local = false;
	size_t i;

	for (i = 0; i < ms->n_backends; i++) {
		const struct xlb_model_backend *b = &ms->backends[i];

		if (b->state == XLB_BE_ACTIVE && b->weight) {
			ready = true;
			ready_local |= b->local;
		}
	}
	for (i = 0; i < ms->n_backends; i++) {
		const struct xlb_model_backend *b = &ms->backends[i];
		bool r = b->state == XLB_BE_ACTIVE && b->weight;
		bool fb = b->state == XLB_BE_TERMINATING && b->serving &&
			  b->weight;

		in_all[i] = ready ? r : fb;
		in_local[i] = b->local && (ready_local ? r : fb);
	}
}

/*
 * Brings one service to its model. old is what is programmed (NULL for a
 * new service); ps receives the new programmed state. Order: backends,
 * then the ring, then the frontend entry that makes them live, then what
 * is no longer referenced.
 */
static int apply_service(struct xlb_sync *s, struct txn *t,
			 const struct xlb_model_service *ms,
			 struct xlb_prog_service *old,
			 struct xlb_prog_service *ps,
			 const struct xlb_vip_key *keep, size_t n_keep,
			 struct xlb_sync_result *res)
{
	size_t i = 0, j = 0, n_add = 0, n_del = 0, n_chg = 0, n_gone = 0;
	struct xlb_prog_backend *nb = NULL, *gone = NULL;
	__u8 *in_all = NULL, *in_local = NULL;
	bool ring_dirty, svc_dirty, dirty_all, need_all = false,
					       need_local = false;
	__u32 m = table_size_of(ms);
	size_t jobs0 = t->n_jobs;
	char vb[96];
	int rc = 0;

	memset(ps, 0, sizeof(*ps));
	memcpy(ps->name, ms->name, sizeof(ps->name));
	ps->vip = ms->vip;
	ps->table_size_req = ms->table_size;
	ps->source = ms->source;
	ps->affinity_timeout = ms->affinity_timeout;
	ps->digest = service_digest(s, ms);
	if (old) {
		ps->id = old->id;
		ps->generation = old->generation;
	} else {
		bool dirty;

		ps->id = idpool_alloc(&s->svc_ids, &dirty);
		if (!ps->id)
			return -ENOSPC;
		if (dirty)
			xlb_counter_reset(s->maps, s->maps->svc_stats, ps->id);
	}
	rc = model_frontends(s, ms, &ps->fes, &ps->n_fes);
	if (!rc)
		rc = model_ranges(ms, ps->id, &ps->ranges, &ps->n_ranges);
	if (rc)
		goto out;
	if (ms->n_groups) {
		ps->group_pct = calloc(ms->n_groups, sizeof(*ps->group_pct));
		if (!ps->group_pct) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = 0; i < ms->n_groups; i++)
			ps->group_pct[i] = ms->groups[i].percent;
		ps->n_groups = ms->n_groups;
	}
	for (i = 0; i < ps->n_fes; i++) {
		if (ps->fes[i].flags & XLB_SVC_F_LOCAL)
			need_local = true;
		else
			need_all = true;
	}
	nb = calloc(ms->n_backends + 1, sizeof(*nb));
	gone = calloc((old ? old->n_backends : 0) + 1, sizeof(*gone));
	in_all = calloc(ms->n_backends + 1, 1);
	in_local = calloc(ms->n_backends + 1, 1);
	if (!nb || !gone || !in_all || !in_local) {
		rc = -ENOMEM;
		goto out;
	}
	ring_sets(ms, in_all, in_local);
	ps->backends = nb;
	ps->n_backends = ms->n_backends;
	dirty_all = !old || old->digest != ps->digest;

	/* Merge the two identity-sorted backend lists. */
	i = 0;
	while (i < ms->n_backends || (old && j < old->n_backends)) {
		const struct xlb_model_backend *mb =
			i < ms->n_backends ? &ms->backends[i] : NULL;
		struct xlb_prog_backend *ob =
			old && j < old->n_backends ? &old->backends[j] : NULL;
		int c = !mb ? 1 : !ob ? -1 :
			xlb_be_identity_cmp(&mb->addr, mb->port, mb->family,
					    &ob->addr, ob->port, ob->family);

		if (c > 0) {
			gone[n_gone++] = *ob;
			j++;
			continue;
		}
		nb[i].addr = mb->addr;
		nb[i].port = mb->port;
		nb[i].family = mb->family;
		nb[i].weight = mb->weight;
		nb[i].local = mb->local;
		nb[i].group = mb->group;
		nb[i].in_all = in_all[i];
		nb[i].in_local = in_local[i];
		/* The map says whether a backend takes new flows. */
		nb[i].state = in_all[i] || in_local[i] ? XLB_BE_ACTIVE :
							 XLB_BE_TERMINATING;
		if (c < 0) {
			bool dirty;

			nb[i].id = idpool_alloc(&s->be_ids, &dirty);
			if (!nb[i].id) {
				rc = -ENOSPC;
				goto out;
			}
			if (dirty)
				xlb_counter_reset(s->maps, s->maps->be_stats,
						  nb[i].id);
			rc = write_backend(t, nb[i].id, ps->id, &nb[i], dirty);
			if (rc)
				goto out;
			n_add++;
		} else {
			nb[i].id = ob->id;
			if (ob->state != nb[i].state ||
			    ob->weight != nb[i].weight ||
			    ob->local != nb[i].local) {
				rc = write_backend(t, nb[i].id, ps->id, &nb[i],
						   false);
				if (rc)
					goto out;
				n_chg++;
			}
			j++;
		}
		i++;
	}
	n_del = n_gone;

	ring_dirty = dirty_all || n_add || n_del || n_chg ||
		     (old->ring_size && old->ring_size != m) ||
		     (old->lring_size && old->lring_size != m);
	if (ring_dirty) {
		if (need_all) {
			rc = write_ring(s, t, ps, false, m, &ps->ring_off,
					&ps->ring_size);
			if (rc)
				goto out;
		}
		if (need_local) {
			rc = write_ring(s, t, ps, true, m, &ps->lring_off,
					&ps->lring_size);
			if (rc)
				goto out;
		}
		res->rings_written += need_all + need_local;
	} else {
		ps->ring_off = old->ring_off;
		ps->ring_size = old->ring_size;
		ps->lring_off = old->lring_off;
		ps->lring_size = old->lring_size;
	}
	svc_dirty = dirty_all || ring_dirty || old->n_fes != ps->n_fes ||
		    memcmp(old->fes, ps->fes, ps->n_fes * sizeof(*ps->fes));
	if (svc_dirty || n_add || n_del || n_chg) {
		ps->generation++;
		rc = write_info(t, ps);
		if (rc)
			goto out;
	}
	/* Source ranges first: a frontend never checks a missing one. */
	for (i = 0; dirty_all && i < ps->n_ranges; i++) {
		__u32 one = 1;

		if (bpf_map_update_elem(s->maps->src_ranges, &ps->ranges[i],
					&one, BPF_ANY)) {
			rc = -errno;
			goto out;
		}
	}
	if (svc_dirty) {
		rc = write_svc(t, ps);
		if (rc)
			goto out;
	}
	/* Now nothing new points at what is gone. */
	for (i = 0; old && i < old->n_fes && !rc; i++)
		if (!bsearch(&old->fes[i], ps->fes, ps->n_fes, sizeof(*ps->fes),
			     fe_cmp) && !kept(&old->fes[i].key, keep, n_keep))
			rc = txn_del(t, &old->fes[i].key);
	for (i = 0; old && dirty_all && i < old->n_ranges && !rc; i++)
		if (!bsearch(&old->ranges[i], ps->ranges, ps->n_ranges,
			     sizeof(*ps->ranges), range_cmp))
			rc = txn_del_range(t, &old->ranges[i]);
	for (i = 0; i < n_gone && !rc; i++) {
		rc = clear_backend(t, gone[i].id, ps->id, &gone[i]);
		if (!rc)
			rc = txn_free_be(t, gone[i].id);
	}
	if (!rc && old && ring_dirty) {
		rc = txn_free_ring(t, old->ring_off, old->ring_size);
		if (!rc)
			rc = txn_free_ring(t, old->lring_off, old->lring_size);
	}
	if (rc)
		goto out;

	res->be_added += n_add;
	res->be_removed += n_del;
	res->be_changed += n_chg;
	if (!old) {
		res->added++;
		xlb_log(svc_log_level(s),
			"service %s added: %s, %zu frontends, %zu backends, table %u",
			ps->name, vip_str(&ps->vip, vb, sizeof(vb)), ps->n_fes,
			ps->n_backends, m);
	} else if (svc_dirty || n_add || n_del || n_chg) {
		res->updated++;
		xlb_log(svc_log_level(s),
			"service %s updated: %s, %zu frontends, backends +%zu -%zu ~%zu, table %u%s",
			ps->name, vip_str(&ps->vip, vb, sizeof(vb)), ps->n_fes,
			n_add, n_del, n_chg, m,
			ring_dirty ? " (ring replaced)" : "");
	} else {
		res->unchanged++;
	}
out:
	free(gone);
	free(in_all);
	free(in_local);
	if (rc) {
		/* Nothing may build a table from the arrays freed below,
		 * and the slices go back. */
		for (i = jobs0; i < t->n_jobs; i++)
			xlb_ringalloc_free(&s->rings, t->jobs[i].off,
					   t->jobs[i].m);
		t->n_jobs = jobs0;
		free_svc_arrays(ps);
	}
	return rc;
}

/* Checks that the model fits the maps before anything is written. */
static int check_capacity(struct xlb_sync *s, const struct xlb_model *m,
			  size_t n_frontends, char *err, size_t errlen)
{
	const struct xlb_maps *mp = s->maps;
	__u64 backends = 0, slots = 0;
	size_t i;

	if (m->n_services > mp->max_services - 1)
		return xlb_errf(err, errlen, -E2BIG,
			    "config: %zu services: more than the maps hold (%u); restart xlbd with a larger --max-services after xlbctl detach",
			    m->n_services, mp->max_services - 1);
	if (n_frontends > mp->max_frontends)
		return xlb_errf(err, errlen, -E2BIG,
			    "config: %zu frontends: more than the maps hold (%u)",
			    n_frontends, mp->max_frontends);
	for (i = 0; i < m->n_services; i++) {
		const struct xlb_model_service *ms = &m->services[i];

		backends += ms->n_backends;
		if (backends > mp->max_backends - 1)
			return xlb_errf(err, errlen, -E2BIG,
				    "service %s: backends: %llu in all, more than the maps hold (%u)",
				    ms->name, (unsigned long long)backends,
				    mp->max_backends - 1);
		slots += table_size_of(ms) *
			 (1 + (ms->internal_local || ms->external_local));
	}
	/* Every ring could be rewritten while the old ones are still held. */
	if (slots > mp->ring_slots)
		return xlb_errf(err, errlen, -E2BIG,
			    "config: Maglev tables need %llu slots, more than --ring-slots %u",
			    (unsigned long long)slots, mp->ring_slots);
	return 0;
}

/* How many frontends model_frontends() gives ms. */
static size_t frontend_count(const struct xlb_sync *s,
			     const struct xlb_model_service *ms)
{
	size_t n = 1 + ms->n_external_ips + ms->n_lb_ips, i;

	for (i = 0; ms->node_port && i < s->n_node_addrs; i++)
		n += s->node_addrs[i].family == ms->vip.family;
	return n;
}

/* Every frontend of the given model services, sorted: what a change
 * must not delete even if another service let it go. */
static int keep_list(const struct xlb_sync *s,
		     const struct xlb_model_service *v, size_t n,
		     struct xlb_vip_key **out, size_t *n_out)
{
	struct xlb_vip_key *keep = NULL, *g;
	size_t i, j, k = 0, cap = 0;

	for (i = 0; i < n; i++) {
		struct xlb_prog_frontend *fes;
		size_t nf;

		if (model_frontends(s, &v[i], &fes, &nf)) {
			free(keep);
			return -ENOMEM;
		}
		if (k + nf > cap) {
			cap = (k + nf) * 2;
			g = realloc(keep, cap * sizeof(*keep));
			if (!g) {
				free(fes);
				free(keep);
				return -ENOMEM;
			}
			keep = g;
		}
		for (j = 0; j < nf; j++)
			keep[k++] = fes[j].key;
		free(fes);
	}
	if (k)
		qsort(keep, k, sizeof(*keep), vipkey_cmp);
	*out = keep;
	*n_out = k;
	return 0;
}

int xlb_sync_set_node_addrs(struct xlb_sync *s, const struct xlb_nodeaddr *v,
			    size_t n)
{
	struct xlb_nodeaddr *c = calloc(n + 1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	memcpy(c, v, n * sizeof(*c));
	free(s->node_addrs);
	s->node_addrs = c;
	s->n_node_addrs = n;
	return 0;
}

int xlb_sync_apply(struct xlb_sync *s, const struct xlb_model *m,
		   struct xlb_sync_result *res, char *err, size_t errlen)
{
	struct xlb_prog_service *nsvcs;
	struct xlb_vip_key *keep = NULL;
	size_t i = 0, j = 0, n = 0, n_keep = 0, n_fes = 0;
	struct txn t;
	char vb[96];
	int rc, crc;

	memset(res, 0, sizeof(*res));
	s->n_logged = 0;
	if (s->n_svcs) {
		rc = keep_list(s, m->services, m->n_services, &keep, &n_keep);
		if (rc)
			return rc;
		n_fes = n_keep;
	} else {
		/* Nothing programmed yet, so no frontend can be dropped: the
		 * sorted list of every frontend is not needed, their count
		 * is. */
		for (i = 0; i < m->n_services; i++)
			n_fes += frontend_count(s, &m->services[i]);
	}
	rc = check_capacity(s, m, n_fes, err, errlen);
	if (rc) {
		free(keep);
		return rc;
	}
	txn_init(&t, s->maps);
	rings_start(s, &t, m->n_services);
	nsvcs = calloc(m->n_services + 1, sizeof(*nsvcs));
	if (!nsvcs) {
		free(keep);
		txn_fini(&t);
		return -ENOMEM;
	}

	/* Services that go away first: their ids and slots become free. */
	for (j = 0, i = 0; j < s->n_svcs; j++) {
		while (i < m->n_services &&
		       strcmp(m->services[i].name, s->svcs[j].name) < 0)
			i++;
		if (i < m->n_services &&
		    !strcmp(m->services[i].name, s->svcs[j].name))
			continue;
		remove_service(s, &s->svcs[j], keep, n_keep);
		res->removed++;
		xlb_log(svc_log_level(s),
			"service %s removed: %s", s->svcs[j].name,
			vip_str(&s->svcs[j].vip, vb, sizeof(vb)));
		free_svc_arrays(&s->svcs[j]);
		s->svcs[j].name[0] = '\0'; /* marks it removed */
	}

	for (i = 0, j = 0; i < m->n_services; i++) {
		const struct xlb_model_service *ms = &m->services[i];
		struct xlb_prog_service *old = NULL;

		while (j < s->n_svcs && (!s->svcs[j].name[0] ||
					 strcmp(s->svcs[j].name, ms->name) < 0))
			j++;
		if (j < s->n_svcs && !strcmp(s->svcs[j].name, ms->name))
			old = &s->svcs[j];
		rc = apply_service(s, &t, ms, old, &nsvcs[n], keep, n_keep,
				   res);
		if (rc) {
			snprintf(err, errlen, "service %s: programming failed: %s",
				 ms->name, strerror(-rc));
			break;
		}
		rings_publish(&t);
		if (old) {
			free_svc_arrays(old);
			old->name[0] = '\0';
		}
		n++;
	}
	/* Ports of what is about to be programmed open the filter first. */
	{
		size_t m2 = 0;
		struct xlb_prog_service *all = calloc(n + s->n_svcs + 1,
						      sizeof(*all));

		if (all) {
			memcpy(all, nsvcs, n * sizeof(*all));
			m2 = n;
			for (j = 0; j < s->n_svcs; j++)
				if (s->svcs[j].name[0])
					all[m2++] = s->svcs[j];
			publish_ports(s, all, m2, true);
			free(all);
		}
	}
	/* What was queued is consistent service by service: write it even
	 * if a later service failed, so the bookkeeping matches the maps. */
	crc = txn_commit(s, &t);
	if (crc && !rc) {
		rc = crc;
		snprintf(err, errlen, "writing the maps failed: %s",
			 strerror(-crc));
	}
	txn_fini(&t);
	if (rc) {
		/* Keep what was programmed in the bookkeeping: services not
		 * reached stay as they were. */
		for (j = 0; j < s->n_svcs; j++) {
			if (!s->svcs[j].name[0])
				continue;
			nsvcs = realloc(nsvcs, (n + 1) * sizeof(*nsvcs));
			nsvcs[n++] = s->svcs[j];
			s->svcs[j].backends = NULL;
		}
		qsort(nsvcs, n, sizeof(*nsvcs), svc_by_name_cmp);
	}
	free_svcs(s->svcs, s->n_svcs);
	s->svcs = nsvcs;
	s->n_svcs = n;
	count_backends(s);
	publish_ports(s, s->svcs, s->n_svcs, false);
	free(keep);
	svc_log_end(s);
	return rc;
}

/* ---- partial apply -------------------------------------------------------- */

/* Adds d (+1 or -1) to the port counts of ps and publishes the ports it
 * touches. */
static void ports_add(struct xlb_sync *s, const struct xlb_prog_service *ps,
		      int d)
{
	struct xlb_port_use *mem = s->maps->port_mem;
	__u16 p;
	size_t i;

	for (i = 0; i < ps->n_fes; i++) {
		p = ntohs(ps->fes[i].key.port);
		s->port_fe[p] += d;
		if (mem)
			mem[p].frontends = s->port_fe[p];
	}
	for (i = 0; i < ps->n_backends; i++) {
		p = ntohs(ps->backends[i].port);
		s->port_be[p] += d;
		if (mem)
			mem[p].backends = s->port_be[p];
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static struct xlb_prog_service *find_svc(struct xlb_sync *s, const char *name,
					 size_t *pos)
{
	size_t lo = 0, hi = s->n_svcs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->svcs[mid].name, name);

		if (!c) {
			*pos = mid;
			return &s->svcs[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return NULL;
}

static bool name_in(const char *name, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

int xlb_sync_apply_partial(struct xlb_sync *s, const struct xlb_model *up,
			   char *const *rm, size_t n_rm,
			   struct xlb_sync_result *res, char *err, size_t errlen)
{
	const struct xlb_maps *mp = s->maps;
	struct xlb_prog_service *ps, *old, *built = NULL;
	struct xlb_vip_key *keep = NULL;
	size_t i, pos, n_new = 0, n_built = 0, n_keep = 0;
	__u64 new_bes = 0;
	struct txn t;
	char vb[96];
	int rc = 0, crc;

	memset(res, 0, sizeof(*res));
	s->n_logged = 0;
	/* Conflicts with services not in this change, and capacity. */
	for (i = 0; i < up->n_services; i++) {
		const struct xlb_model_service *ms = &up->services[i];
		struct xlb_prog_frontend *fes;
		size_t nf, f, k;

		if (name_in(ms->name, rm, n_rm))
			return xlb_errf(err, errlen, -E2BIG,
				    "service %s: both changed and removed",
				    ms->name);
		if (model_frontends(s, ms, &fes, &nf))
			return -ENOMEM;
		for (f = 0; f < nf; f++) {
			struct xlb_svc sv;
			struct xlb_svc_info info;
			bool ours = false;

			if (bpf_map_lookup_elem(mp->svc, &fes[f].key, &sv) ||
			    bpf_map_lookup_elem(mp->svc_info, &sv.svc_id, &info))
				continue;
			info.name[XLB_SVC_NAME_LEN - 1] = '\0';
			/* Its owner is this service, goes away, or is part of
			 * this change (which the parser checked as a whole). */
			ours = !strcmp(info.name, ms->name) ||
			       name_in(info.name, rm, n_rm);
			for (k = 0; !ours && k < up->n_services; k++)
				ours = !strcmp(up->services[k].name, info.name);
			if (!ours) {
				rc = xlb_errf(err, errlen, -E2BIG,
					  "service %s: frontend %s: already used by service %s",
					  ms->name,
					  vip_str(&fes[f].key, vb, sizeof(vb)),
					  info.name);
				free(fes);
				return rc;
			}
		}
		free(fes);
		old = find_svc(s, ms->name, &pos);
		if (old && old->source != ms->source)
			return xlb_errf(err, errlen, -E2BIG,
				    "service %s: name \"%s\": already defined in another file",
				    ms->name, ms->name);
		if (!old)
			n_new++;
		new_bes += old && ms->n_backends > old->n_backends ?
				   ms->n_backends - old->n_backends :
			   old ? 0 : ms->n_backends;
	}
	if (s->n_svcs + n_new > mp->max_services - 1)
		return xlb_errf(err, errlen, -E2BIG,
			    "config: %zu services: more than the maps hold (%u)",
			    s->n_svcs + n_new, mp->max_services - 1);
	if (new_bes > mp->max_backends - 1 - s->be_ids.n_used)
		return xlb_errf(err, errlen, -E2BIG,
			    "config: backends: more than the maps hold (%u)",
			    mp->max_backends - 1);

	if (keep_list(s, up->services, up->n_services, &keep, &n_keep))
		return -ENOMEM;
	built = calloc(up->n_services + 1, sizeof(*built));
	if (!built) {
		free(keep);
		return -ENOMEM;
	}
	txn_init(&t, s->maps);

	/* Removals first: their ids and slots become free. */
	for (i = 0; i < n_rm; i++) {
		ps = find_svc(s, rm[i], &pos);
		if (!ps)
			continue;
		remove_service(s, ps, keep, n_keep);
		ports_add(s, ps, -1);
		res->removed++;
		xlb_log(svc_log_level(s),
			"service %s removed: %s", ps->name,
			vip_str(&ps->vip, vb, sizeof(vb)));
		s->n_backends -= ps->n_backends;
		free_svc_arrays(ps);
		memmove(ps, ps + 1, (s->n_svcs - pos - 1) * sizeof(*ps));
		s->n_svcs--;
	}

	for (i = 0; i < up->n_services; i++) {
		const struct xlb_model_service *ms = &up->services[i];

		old = find_svc(s, ms->name, &pos);
		rc = apply_service(s, &t, ms, old, &built[n_built], keep,
				   n_keep, res);
		if (rc) {
			snprintf(err, errlen, "service %s: programming failed: %s",
				 ms->name, strerror(-rc));
			break;
		}
		ports_add(s, &built[n_built], +1);
		n_built++;
	}
	crc = txn_commit(s, &t);
	if (crc && !rc) {
		rc = crc;
		snprintf(err, errlen, "writing the maps failed: %s",
			 strerror(-crc));
	}
	txn_fini(&t);

	/* Bookkeeping: replace or insert what was built. */
	for (i = 0; i < n_built; i++) {
		old = find_svc(s, built[i].name, &pos);
		if (old) {
			ports_add(s, old, -1);
			s->n_backends += built[i].n_backends - old->n_backends;
			free_svc_arrays(old);
			*old = built[i];
			continue;
		}
		ps = realloc(s->svcs, (s->n_svcs + 1) * sizeof(*ps));
		if (!ps) {
			free(built[i].backends);
			rc = rc ? rc : -ENOMEM;
			continue;
		}
		s->svcs = ps;
		memmove(&ps[pos + 1], &ps[pos], (s->n_svcs - pos) * sizeof(*ps));
		ps[pos] = built[i];
		s->n_svcs++;
		s->n_backends += built[i].n_backends;
	}
	free(built);
	free(keep);
	svc_log_end(s);
	return rc;
}
