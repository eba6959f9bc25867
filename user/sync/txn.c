// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The writes of one apply: queued in batches, flushed in order. */
#include <signal.h>

#include <bpf/bpf.h>
#include <xlb/hash.h>

#include "sync/internal.h"

/* ---- every map write of the sync ---------------------------------------- */

/*
 * Every map update and delete the sync makes (applies, removals, the
 * repairs of adoption) goes through xlb_sync_update() and
 * xlb_sync_delete(), and batches through batch_flush(), which counts one
 * write per element. The count is logged at debug level after each
 * apply.
 *
 * XLB_FAULT_MAP_WRITES=N is a switch for the crash tests only
 * (selftests/test_crash.sh, selftests/README.md): right after its N-th
 * map write the process sends itself SIGKILL, leaving the maps as a
 * kill -9 at that point would. Batches are then written one element at a
 * time, so that N can fall between any two elements (as it can on a
 * kernel without batch updates).
 */
static unsigned long long n_writes, fault_at;

void xlb_sync_fault_init(void)
{
	const char *v = getenv("XLB_FAULT_MAP_WRITES");

	fault_at = v && *v ? strtoull(v, NULL, 10) : 0;
	if (fault_at)
		pr_warn("XLB_FAULT_MAP_WRITES=%llu: test-only fault injection, killed after map write %llu",
			fault_at, fault_at);
}

unsigned long long xlb_sync_map_writes(void)
{
	return n_writes;
}

static void wrote(void)
{
	if (++n_writes != fault_at)
		return;
	pr_err("XLB_FAULT_MAP_WRITES: map write %llu done, killing xlbd",
	       n_writes);
	raise(SIGKILL);
}

int xlb_sync_update(int fd, const void *key, const void *val)
{
	int rc = bpf_map_update_elem(fd, key, val, BPF_ANY) ? -errno : 0;

	wrote();
	return rc;
}

int xlb_sync_delete(int fd, const void *key)
{
	int rc = bpf_map_delete_elem(fd, key) ? -errno : 0;

	wrote();
	return rc;
}

int xlb_sync_counter_reset(const struct xlb_maps *m, int fd, __u32 key)
{
	struct xlb_counter *v = calloc(m->ncpus, sizeof(*v));
	int rc;

	if (!v)
		return -ENOMEM;
	rc = xlb_sync_update(fd, &key, v);
	free(v);
	return rc;
}

__u32 xlb_sync_ring_stamp(const struct xlb_prog_service *ps)
{
	__u32 h = xlb_jhash_3words(ps->ring_off, ps->ring_size, ps->lring_off,
				   0x72696e67u);

	h = xlb_jhash_3words(h, ps->lring_size, 0, 0x72696e67u);
	return h ? h : 1;
}

/* ---- batches ------------------------------------------------------------ */

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

	int rc;

	while (done < b->n && !fault_at) {
		count = b->n - done;
		rc = bpf_map_update_batch(b->fd, b->keys + done * b->ksz,
					  b->vals + done * b->vsz, &count,
					  &opts) ? -errno : 0;
		n_writes += count;
		done += count;
		if (!rc)
			continue;
		if (rc != -EINVAL && rc != -ENOTSUP && rc != -EOPNOTSUPP)
			return rc;
		break;	/* no batch support: one by one */
	}
	for (i = done; i < b->n; i++) {
		rc = xlb_sync_update(b->fd, b->keys + i * b->ksz,
				     b->vals + i * b->vsz);
		if (rc)
			return rc;
	}
	b->n = 0;
	return 0;
}

static void batch_fini(struct batch *b)
{
	free(b->keys);
	free(b->vals);
}

void xlb_txn_init(struct txn *t, const struct xlb_maps *m)
{
	memset(t, 0, sizeof(*t));
	t->be_pre = (struct batch){ .fd = m->backends, .ksz = 4,
				    .vsz = sizeof(struct xlb_backend) };
	t->be = t->be_pre;
	t->be_clear = t->be_pre;
	t->info = (struct batch){ .fd = m->svc_info, .ksz = 4,
				  .vsz = sizeof(struct xlb_svc_info) };
	t->vip = (struct batch){ .fd = m->svc_vip, .ksz = 4,
				 .vsz = sizeof(struct xlb_vip_key) };
	t->svc = (struct batch){ .fd = m->svc, .ksz = sizeof(struct xlb_vip_key),
				 .vsz = sizeof(struct xlb_svc) };
}

void xlb_txn_fini(struct txn *t)
{
	if (t->n_workers)
		xlb_rings_stop(t);
	batch_fini(&t->be_pre);
	batch_fini(&t->be);
	batch_fini(&t->be_clear);
	batch_fini(&t->info);
	batch_fini(&t->vip);
	batch_fini(&t->svc);
	free(t->jobs);
	free(t->del_ranges);
	free(t->del);
	free(t->free_be);
	free(t->free_ring);
}

int xlb_txn_free_be(struct txn *t, __u32 id)
{
	if (grow_buf((void **)&t->free_be, &t->cap_free_be, t->n_free_be + 1,
		     sizeof(*t->free_be)))
		return -ENOMEM;
	t->free_be[t->n_free_be++] = id;
	return 0;
}

int xlb_txn_free_ring(struct txn *t, __u32 off, __u32 len)
{
	if (!len)
		return 0;
	if (grow_buf((void **)&t->free_ring, &t->cap_free_ring,
		     t->n_free_ring + 1, sizeof(*t->free_ring)))
		return -ENOMEM;
	t->free_ring[t->n_free_ring++] = (struct extent){ off, len };
	return 0;
}

int xlb_txn_del(struct txn *t, const struct xlb_vip_key *k)
{
	if (grow_buf((void **)&t->del, &t->cap_del, t->n_del + 1,
		     sizeof(*t->del)))
		return -ENOMEM;
	t->del[t->n_del++] = *k;
	return 0;
}

int xlb_txn_del_range(struct txn *t, const struct xlb_src_range_key *k)
{
	if (grow_buf((void **)&t->del_ranges, &t->cap_del_ranges,
		     t->n_del_ranges + 1, sizeof(*t->del_ranges)))
		return -ENOMEM;
	t->del_ranges[t->n_del_ranges++] = *k;
	return 0;
}

int xlb_txn_commit(struct xlb_sync *s, struct txn *t)
{
	size_t i;
	int rc, brc;

	brc = xlb_rings_build(s, t);
	if ((rc = batch_flush(&t->info)) || (rc = batch_flush(&t->be_pre)) ||
	    (rc = batch_flush(&t->be)) || (rc = batch_flush(&t->vip)) ||
	    (rc = batch_flush(&t->svc)))
		return rc;
	for (i = 0; i < t->n_del; i++)
		xlb_sync_delete(s->maps->svc, &t->del[i]);
	for (i = 0; i < t->n_del_ranges; i++)
		xlb_sync_delete(s->maps->src_ranges, &t->del_ranges[i]);
	rc = batch_flush(&t->be_clear);
	if (rc)
		return rc;
	for (i = 0; i < t->n_free_be; i++)
		xlb_idpool_free(&s->be_ids, t->free_be[i]);
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
int xlb_txn_write_backend(struct txn *t, __u32 id, __u32 svc_id,
			  const struct xlb_prog_backend *pb, bool dirty)
{
	struct xlb_backend v = xlb_sync_unused_backend(svc_id, pb);
	int rc = 0;

	v.weight = pb->weight;
	v.flags = pb->local ? XLB_BE_F_LOCAL : 0;
	if (dirty)
		rc = batch_add(&t->be_pre, &id, &v);
	v.state = pb->state;
	return rc ? rc : batch_add(&t->be, &id, &v);
}

int xlb_txn_clear_backend(struct txn *t, __u32 id, __u32 svc_id,
			  const struct xlb_prog_backend *pb)
{
	struct xlb_backend v = xlb_sync_unused_backend(svc_id, pb);

	return batch_add(&t->be_clear, &id, &v);
}

int xlb_txn_write_info(struct txn *t, const struct xlb_prog_service *ps)
{
	struct xlb_svc_info v = {
		.ring_size_req = ps->table_size_req,
		.generation = ps->generation,
		.n_backends = ps->n_backends,
		.flags = XLB_SVC_INFO_F_USED,
		.digest = ps->digest,
		.ring_stamp = xlb_sync_ring_stamp(ps),
	};

	int rc;

	memcpy(v.name, ps->name, sizeof(v.name));
	rc = batch_add(&t->info, &ps->id, &v);
	/* The socket hooks' way from an external frontend to the ClusterIP
	 * one (abi.h xlb_svc_vip). */
	return rc ? rc : batch_add(&t->vip, &ps->id, &ps->vip);
}

/* Whether any backend of ps may take new flows anywhere in the cluster
 * (the members of the cluster-wide ring: ready ones, or the serving
 * terminating ones when none is ready). */
static bool any_usable(const struct xlb_prog_service *ps)
{
	size_t i;

	for (i = 0; i < ps->n_backends; i++)
		if (ps->backends[i].in_all)
			return true;
	return false;
}

/* Queues every frontend of ps, each pointing at its ring. A Local
 * frontend drops what no node-local backend can serve, as Kubernetes
 * wants, but only while the service has usable endpoints somewhere:
 * with none at all it is rejected like any other (kube-proxy's REJECT),
 * so it loses its Local flag and points at the empty cluster ring. */
int xlb_txn_write_svc(struct txn *t, const struct xlb_prog_service *ps)
{
	bool usable = any_usable(ps);
	size_t i;
	int rc;

	for (i = 0; i < ps->n_fes; i++) {
		const struct xlb_prog_frontend *f = &ps->fes[i];
		bool local = (f->flags & XLB_SVC_F_LOCAL) && usable;
		struct xlb_svc v = {
			.svc_id = ps->id,
			.ring_off = local ? ps->lring_off : ps->ring_off,
			.ring_size = local ? ps->lring_size : ps->ring_size,
			.flags = local ? f->flags : f->flags & ~XLB_SVC_F_LOCAL,
			.affinity_timeout = ps->affinity_timeout,
		};

		rc = batch_add(&t->svc, &f->key, &v);
		if (rc)
			return rc;
	}
	return 0;
}
