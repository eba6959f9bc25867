// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Adoption: after a restart the bookkeeping is read back from the pinned
 * maps, so that the first apply writes only what changed and no id or
 * ring slice in use is handed out again.
 *
 * A restart may follow a crash in the middle of a sync, or find a pin
 * missing (the loader then creates that map empty). So every service is
 * checked against every map it spans before its state is trusted (see
 * check_service()). One that fails a check keeps serving as it is and
 * is marked to be written again in full by the first apply (its digest
 * is cleared, which no model matches); xlb_ports is recomputed from the
 * bookkeeping in any case; each kind of repair is logged once, with its
 * count. What no service owns is kept as it is until the first full
 * apply, then removed (xlb_sync_sweep_orphans()).
 */
#include <stdio.h>

#include <bpf/bpf.h>

#include "sync/internal.h"
#include "util.h"

/* The checks, in the order they are logged. */
enum fault {
	F_NO_CLUSTER_IP,	/* xlb_svc: no ClusterIP frontend */
	F_VIP_ENTRY,		/* xlb_svc_vip: not the ClusterIP frontend */
	F_RING_STAMP,		/* xlb_svc: rings other than info records */
	F_SPLIT,		/* xlb_svc: frontends on different rings */
	F_RING_SLOTS,		/* xlb_rings: a slot not an active backend */
	F_RING_SLICE,		/* xlb_rings: slice outside or overlapping */
	F_BACKENDS,		/* xlb_backends: count differs from info */
	F_RANGES,		/* xlb_src_ranges: none for a frontend
				 * that checks them */
	N_FAULTS
};

static const char *const fault_text[N_FAULTS] = {
	[F_NO_CLUSTER_IP] = "no ClusterIP frontend in xlb_svc",
	[F_VIP_ENTRY] = "xlb_svc_vip entry is not its ClusterIP frontend",
	[F_RING_STAMP] = "frontends in xlb_svc do not point at the ring slices xlb_svc_info records (a sync cut short)",
	[F_SPLIT] = "frontends in xlb_svc point at different rings",
	[F_RING_SLOTS] = "ring in xlb_rings holds ids that are not active backends of the service in xlb_backends",
	[F_RING_SLICE] = "ring slice outside xlb_rings or overlapping another",
	[F_BACKENDS] = "backends in xlb_backends differ from the count in xlb_svc_info",
	[F_RANGES] = "frontends check source ranges but xlb_src_ranges has none",
};

/* What the pinned maps hold, while it is turned into bookkeeping. Every
 * frontend and source range is collected first and each service's array
 * allocated once, at its size: a service with many backends costs no
 * more reallocations than one with few. */
struct adopt {
	struct xlb_sync *s;
	struct xlb_svc_info *info;	/* xlb_svc_info as pinned */
	struct xlb_backend *bes;	/* xlb_backends as pinned */
	struct xlb_vip_key *vips;	/* xlb_svc_vip as pinned */
	struct xlb_prog_service *svcs;	/* sorted by id until the end */
	size_t n;
	unsigned int *faults;		/* per service: 1 << enum fault */
	__u8 *seen;			/* per service: ring (1), local ring
					 * (2) taken from a frontend */
	struct adopt_fe {
		__u32 svc_id;
		struct xlb_prog_frontend fe;
	} *fes;				/* frontends of known services */
	size_t n_fes, cap_fes;
	struct xlb_src_range_key *ranges; /* ranges of known services */
	size_t n_ranges, cap_ranges;
	struct adopt_ext {
		struct extent e;
		struct xlb_prog_service *owner; /* NULL: an orphan's */
	} *ext;				/* ring slices frontends point at */
	size_t n_ext, cap_ext;
	struct xlb_sync_orphans o;	/* what no service owns */
	size_t cap_ofes, cap_oranges, cap_obes, cap_osvc, cap_orings;
};

/* Appends the element e of esz bytes to *v (*n of *cap). */
static int push(void **v, size_t *n, size_t *cap, const void *e, size_t esz)
{
	if (grow_buf(v, cap, *n + 1, esz))
		return -ENOMEM;
	memcpy((char *)*v + *n * esz, e, esz);
	(*n)++;
	return 0;
}

static void fault(struct adopt *a, const struct xlb_prog_service *ps,
		  enum fault f)
{
	a->faults[ps - a->svcs] |= 1u << f;
}

/* Service id id is pointed at by an orphan: it stays taken until the
 * sweep, so that no new service inherits the orphan's entries. */
static int orphan_svc_id(struct adopt *a, __u32 id)
{
	if (id == XLB_ID_NONE || id >= a->s->maps->max_services)
		return 0;
	xlb_idpool_mark(&a->s->svc_ids, id);
	return push((void **)&a->o.svc_ids, &a->o.n_svc_ids, &a->cap_osvc,
		    &id, sizeof(id));
}

static int add_ext(struct adopt *a, __u32 off, __u32 len,
		   struct xlb_prog_service *owner)
{
	struct adopt_ext x = { { off, len }, owner };

	if (!len)
		return 0;
	return push((void **)&a->ext, &a->n_ext, &a->cap_ext, &x, sizeof(x));
}

static int svc_by_id_cmp(const void *a, const void *b)
{
	const struct xlb_prog_service *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int pbe_cmp(const void *a, const void *b)
{
	const struct xlb_prog_backend *x = a, *y = b;

	return xlb_be_identity_cmp(&x->addr, x->port, x->family, &y->addr,
				   y->port, y->family);
}

static struct xlb_prog_service *by_id(struct adopt *a, __u32 id)
{
	struct xlb_prog_service key = { .id = id };

	return xlb_bsearch(&key, a->svcs, a->n, sizeof(*a->svcs),
			   svc_by_id_cmp);
}

/* The used entries of xlb_svc_info become the services, in id order. */
static int adopt_services(struct adopt *a)
{
	struct xlb_maps *m = a->s->maps;
	struct xlb_prog_service *ps;
	size_t i, n = 0;

	for (i = 1; i < m->max_services; i++)
		n += !!(a->info[i].flags & XLB_SVC_INFO_F_USED);
	a->svcs = calloc(n + 1, sizeof(*a->svcs));
	a->faults = calloc(n + 1, sizeof(*a->faults));
	a->seen = calloc(n + 1, 1);
	if (!a->svcs || !a->faults || !a->seen)
		return -ENOMEM;
	for (i = 1; i < m->max_services; i++) {
		if (!(a->info[i].flags & XLB_SVC_INFO_F_USED))
			continue;
		ps = &a->svcs[a->n++];
		memcpy(ps->name, a->info[i].name, sizeof(ps->name));
		ps->name[XLB_SVC_NAME_LEN - 1] = '\0';
		ps->id = i;
		ps->table_size_req = a->info[i].ring_size_req;
		ps->generation = a->info[i].generation;
		ps->digest = a->info[i].digest;
		xlb_idpool_mark(&a->s->svc_ids, i);
	}
	return 0;
}

/* A frontend of no known service (its service's info lost with a pin):
 * it may still serve, so it stays, and its ring slice with it. */
static int orphan_frontend(struct adopt *a, const struct xlb_vip_key *k,
			   const struct xlb_svc *sv)
{
	struct xlb_sync_orphan_fe of = { .key = *k, .svc_id = sv->svc_id };
	int rc;

	rc = push((void **)&a->o.fes, &a->o.n_fes, &a->cap_ofes, &of,
		  sizeof(of));
	if (!rc)
		rc = orphan_svc_id(a, sv->svc_id);
	return rc ? rc : add_ext(a, sv->ring_off, sv->ring_size, NULL);
}

/* The ring frontend sv gives ps: the first frontend of each kind
 * (cluster-wide, node-local) sets it, and every other must agree. A
 * slice that does not is still live: it is held as an orphan's. */
static int take_ring(struct adopt *a, struct xlb_prog_service *ps,
		     const struct xlb_svc *sv)
{
	bool local = sv->flags & XLB_SVC_F_LOCAL;
	__u32 *off = local ? &ps->lring_off : &ps->ring_off;
	__u32 *size = local ? &ps->lring_size : &ps->ring_size;
	__u8 bit = local ? 2 : 1, *seen = &a->seen[ps - a->svcs];

	if (!*seen)
		ps->affinity_timeout = sv->affinity_timeout;
	else if (ps->affinity_timeout != sv->affinity_timeout)
		fault(a, ps, F_SPLIT);
	if (!(*seen & bit)) {
		*seen |= bit;
		*off = sv->ring_off;
		*size = sv->ring_size;
		return 0;
	}
	if (*off == sv->ring_off && *size == sv->ring_size)
		return 0;
	fault(a, ps, F_SPLIT);
	return add_ext(a, sv->ring_off, sv->ring_size, NULL);
}

/* Frontends give their service its VIP, rings and affinity; each is
 * counted for its service and kept for fill_services(). */
static int adopt_frontends(struct adopt *a)
{
	struct xlb_maps *m = a->s->maps;
	struct xlb_prog_service *ps;
	struct xlb_vip_key vk, next;
	struct xlb_svc sv;
	void *prev = NULL;
	int rc;

	while (!bpf_map_get_next_key(m->svc, prev, &next)) {
		vk = next;
		prev = &vk;
		if (bpf_map_lookup_elem(m->svc, &vk, &sv))
			continue;
		ps = by_id(a, sv.svc_id);
		rc = ps ? take_ring(a, ps, &sv) : orphan_frontend(a, &vk, &sv);
		if (rc)
			return rc;
		if (!ps)
			continue;
		if (grow_buf((void **)&a->fes, &a->cap_fes, a->n_fes + 1,
			     sizeof(*a->fes)))
			return -ENOMEM;
		a->fes[a->n_fes++] = (struct adopt_fe){
			.svc_id = sv.svc_id,
			.fe = { .key = vk, .flags = sv.flags },
		};
		ps->n_fes++;
		if ((sv.flags & XLB_FE_KIND_MASK) == XLB_FE_CLUSTER_IP)
			ps->vip = vk;
	}
	return 0;
}

/* Source ranges, counted for their service and kept. */
static int adopt_ranges(struct adopt *a)
{
	struct xlb_src_range_key rk, next;
	struct xlb_prog_service *ps;
	void *prev = NULL;

	while (!bpf_map_get_next_key(a->s->maps->src_ranges, prev, &next)) {
		rk = next;
		prev = &rk;
		ps = by_id(a, rk.svc_id);
		if (!ps) {
			/* Written before the info of a new service that a
			 * crash cut short, or its info's pin lost. */
			if (push((void **)&a->o.ranges, &a->o.n_ranges,
				 &a->cap_oranges, &rk, sizeof(rk)) ||
			    orphan_svc_id(a, rk.svc_id))
				return -ENOMEM;
			continue;
		}
		if (grow_buf((void **)&a->ranges, &a->cap_ranges,
			     a->n_ranges + 1, sizeof(*a->ranges)))
			return -ENOMEM;
		a->ranges[a->n_ranges++] = rk;
		ps->n_ranges++;
	}
	return 0;
}

/* The service of backend id, if the id is in use by a known one. */
static struct xlb_prog_service *backend_owner(struct adopt *a, size_t id)
{
	if (a->bes[id].state == XLB_BE_UNUSED)
		return NULL;
	return by_id(a, a->bes[id].svc_id);
}

/* Backends in use are counted for their service; their ids are taken.
 * One in use by no known service (written before the info of a new
 * service that a crash cut short) is an orphan: a flow may still use
 * it. */
static int adopt_backends(struct adopt *a)
{
	struct xlb_prog_service *ps;
	__u32 i;

	for (i = 1; i < a->s->maps->max_backends; i++) {
		if (a->bes[i].state == XLB_BE_UNUSED)
			continue;
		ps = backend_owner(a, i);
		xlb_idpool_mark(&a->s->be_ids, i);
		if (ps) {
			ps->n_backends++;
			continue;
		}
		if (push((void **)&a->o.bes, &a->o.n_bes, &a->cap_obes, &i,
			 sizeof(i)) ||
		    orphan_svc_id(a, a->bes[i].svc_id))
			return -ENOMEM;
	}
	return 0;
}

static void add_backend(struct xlb_prog_service *ps,
			const struct xlb_backend *b, __u32 id)
{
	struct xlb_prog_backend *pb = &ps->backends[ps->n_backends++];

	pb->addr = b->addr;
	pb->port = b->port;
	pb->family = b->family;
	pb->state = b->state;
	pb->weight = b->weight;
	pb->local = !!(b->flags & XLB_BE_F_LOCAL);
	pb->in_all = b->state == XLB_BE_ACTIVE;
	pb->id = id;
}

/* Allocates an array for the *n elements counted (none: NULL, as in a
 * service that never had any) and sets *n to 0 for the filling. */
static int alloc_array(void **v, size_t *n, size_t esz)
{
	*v = *n ? calloc(*n, esz) : NULL;
	if (*n && !*v)
		return -ENOMEM;
	*n = 0;
	return 0;
}

/* Gives each service its arrays, at the sizes counted, and fills them. */
static int fill_services(struct adopt *a)
{
	struct xlb_prog_service *ps;
	size_t i;

	for (i = 0; i < a->n; i++) {
		ps = &a->svcs[i];
		if (alloc_array((void **)&ps->fes, &ps->n_fes,
				sizeof(*ps->fes)) ||
		    alloc_array((void **)&ps->ranges, &ps->n_ranges,
				sizeof(*ps->ranges)) ||
		    alloc_array((void **)&ps->backends, &ps->n_backends,
				sizeof(*ps->backends)))
			return -ENOMEM;
	}
	for (i = 0; i < a->n_fes; i++) {
		ps = by_id(a, a->fes[i].svc_id);
		ps->fes[ps->n_fes++] = a->fes[i].fe;
	}
	for (i = 0; i < a->n_ranges; i++) {
		ps = by_id(a, a->ranges[i].svc_id);
		ps->ranges[ps->n_ranges++] = a->ranges[i];
	}
	for (i = 1; i < a->s->maps->max_backends; i++) {
		ps = backend_owner(a, i);
		if (ps)
			add_backend(ps, &a->bes[i], i);
	}
	return 0;
}

/* Whether every slot of the ring [off, off + size), inside xlb_rings,
 * names an active backend of ps (an empty ring is fine). */
static bool ring_slots_ok(struct adopt *a, const struct xlb_prog_service *ps,
			  __u32 off, __u32 size)
{
	const struct xlb_maps *m = a->s->maps;
	__u32 i, id;

	for (i = 0; i < size; i++) {
		id = m->ring_mem[off + i];
		if (id == XLB_ID_NONE || id >= m->max_backends ||
		    a->bes[id].state != XLB_BE_ACTIVE ||
		    a->bes[id].svc_id != ps->id)
			return false;
	}
	return true;
}

/*
 * One service against every map it spans: its ClusterIP frontend
 * (xlb_svc) and that frontend's key in xlb_svc_vip; the ring slices its
 * frontends point at against the ones xlb_svc_info records (the info is
 * written first in a sync, so a sync cut short before the frontends
 * leaves them elsewhere); the ring slots (xlb_rings) against its
 * backends (xlb_backends); the backends against the count in
 * xlb_svc_info; its source ranges (xlb_src_ranges) against frontends
 * that check them.
 */
static void check_service(struct adopt *a, struct xlb_prog_service *ps)
{
	const struct xlb_svc_info *info = &a->info[ps->id];
	const struct xlb_maps *m = a->s->maps;
	size_t i;

	if (!ps->vip.family)
		fault(a, ps, F_NO_CLUSTER_IP);
	else if (memcmp(&a->vips[ps->id], &ps->vip, sizeof(ps->vip)))
		fault(a, ps, F_VIP_ENTRY);
	if (ps->n_fes && info->ring_stamp &&
	    info->ring_stamp != xlb_sync_ring_stamp(ps))
		fault(a, ps, F_RING_STAMP);
	if ((__u64)ps->ring_off + ps->ring_size > m->ring_slots ||
	    (__u64)ps->lring_off + ps->lring_size > m->ring_slots)
		fault(a, ps, F_RING_SLICE);
	else if (!ring_slots_ok(a, ps, ps->ring_off, ps->ring_size) ||
		 !ring_slots_ok(a, ps, ps->lring_off, ps->lring_size))
		fault(a, ps, F_RING_SLOTS);
	if (info->n_backends != ps->n_backends)
		fault(a, ps, F_BACKENDS);
	for (i = 0; i < ps->n_fes && !ps->n_ranges; i++)
		if (ps->fes[i].flags & XLB_SVC_F_SRC_RANGES) {
			fault(a, ps, F_RANGES);
			break;
		}
}

static int ext_cmp(const void *x, const void *y)
{
	const struct adopt_ext *p = x, *q = y;

	if (p->e.off != q->e.off)
		return p->e.off < q->e.off ? -1 : 1;
	if (p->e.len != q->e.len)
		return p->e.len < q->e.len ? -1 : 1;
	/* A service's own slice before an orphan's copy of it. */
	return !p->owner - !q->owner;
}

/* A slice that cannot be taken (outside the array, overlapping one
 * taken) is not its owner's: the first apply gives the owner a new one
 * and never frees this one. */
static void drop_slice(struct adopt *a, struct adopt_ext *x)
{
	struct xlb_prog_service *ps = x->owner;

	fault(a, ps, F_RING_SLICE);
	if (ps->ring_off == x->e.off && ps->ring_size == x->e.len)
		ps->ring_off = ps->ring_size = 0;
	else
		ps->lring_off = ps->lring_size = 0;
}

/* Sorts each service's arrays as an apply expects them and takes every
 * ring slice a frontend points at: the services' own, and the others
 * (orphans', a service's second ring) until the sweep. */
static int reserve_rings(struct adopt *a)
{
	struct xlb_prog_service *ps;
	struct adopt_ext *x, *prev = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < a->n && !rc; i++) {
		ps = &a->svcs[i];
		xlb_qsort(ps->backends, ps->n_backends, sizeof(*ps->backends),
		      pbe_cmp);
		xlb_qsort(ps->fes, ps->n_fes, sizeof(*ps->fes), fe_cmp);
		xlb_qsort(ps->ranges, ps->n_ranges, sizeof(*ps->ranges),
		      range_cmp);
		check_service(a, ps);
		if (a->faults[i] & 1u << F_RING_SLICE) {
			ps->ring_off = ps->ring_size = 0;
			ps->lring_off = ps->lring_size = 0;
			continue;
		}
		rc = add_ext(a, ps->ring_off, ps->ring_size, ps);
		if (!rc)
			rc = add_ext(a, ps->lring_off, ps->lring_size, ps);
	}
	if (rc)
		return rc;
	xlb_qsort(a->ext, a->n_ext, sizeof(*a->ext), ext_cmp);
	for (i = 0; i < a->n_ext; i++) {
		x = &a->ext[i];
		if (prev && prev->e.off == x->e.off && prev->e.len == x->e.len &&
		    !x->owner)
			continue;	/* already taken */
		if (xlb_ringalloc_reserve(&a->s->rings, x->e.off, x->e.len)) {
			if (x->owner)
				drop_slice(a, x);
			continue;
		}
		prev = x;
		if (!x->owner &&
		    push((void **)&a->o.rings, &a->o.n_rings, &a->cap_orings,
			 &x->e, sizeof(x->e)))
			return -ENOMEM;
	}
	return 0;
}

/* Marks the services that failed a check to be written again in full
 * and logs each kind of repair once, with its count and a first name. */
static size_t mark_faulty(struct adopt *a)
{
	size_t count[N_FAULTS] = {}, i, n = 0;
	const char *first[N_FAULTS] = {};
	int f;

	for (i = 0; i < a->n; i++) {
		if (!a->faults[i])
			continue;
		n++;
		a->svcs[i].digest = 0;
		for (f = 0; f < N_FAULTS; f++) {
			if (!(a->faults[i] & 1u << f))
				continue;
			if (!count[f]++)
				first[f] = a->svcs[i].name;
			pr_debug("adopt: service %s: %s", a->svcs[i].name,
				 fault_text[f]);
		}
	}
	for (f = 0; f < N_FAULTS; f++)
		if (count[f])
			pr_warn("adopt: %zu service%s (%s%s): %s; written again in full by the first sync",
				count[f], count[f] > 1 ? "s" : "", first[f],
				count[f] > 1 ? ", ..." : "", fault_text[f]);
	return n;
}

static int u32_cmp(const void *x, const void *y)
{
	__u32 p = *(const __u32 *)x, q = *(const __u32 *)y;

	return p < q ? -1 : p > q;
}

/* Hands what no service owns to the sync, for the sweep, and says so. */
static int keep_orphans(struct adopt *a)
{
	struct xlb_sync_orphans *o = &a->o;
	size_t i, w = 0;

	if (!o->n_fes && !o->n_ranges && !o->n_bes && !o->n_rings)
		return 0;
	xlb_qsort(o->svc_ids, o->n_svc_ids, sizeof(*o->svc_ids), u32_cmp);
	for (i = 0; i < o->n_svc_ids; i++)
		if (!w || o->svc_ids[w - 1] != o->svc_ids[i])
			o->svc_ids[w++] = o->svc_ids[i];
	o->n_svc_ids = w;
	a->s->orphans = malloc(sizeof(*o));
	if (!a->s->orphans)
		return -ENOMEM;
	*a->s->orphans = *o;
	memset(o, 0, sizeof(*o));
	o = a->s->orphans;
	if (o->n_fes)
		pr_warn("adopt: %zu frontends in xlb_svc of no known service (%zu service ids not in xlb_svc_info): left serving until the first full sync, then removed",
			o->n_fes, o->n_svc_ids);
	if (o->n_ranges)
		pr_warn("adopt: %zu source ranges in xlb_src_ranges of no known service: removed after the first full sync",
			o->n_ranges);
	if (o->n_bes)
		pr_warn("adopt: %zu backends in xlb_backends of no known service: kept for their flows until the first full sync, then removed",
			o->n_bes);
	if (o->n_rings)
		pr_warn("adopt: %zu ring slices in xlb_rings that frontends point at besides their services' own: held until the first full sync",
			o->n_rings);
	return 0;
}

/* Frees the arrays of o, not o. */
static void release_orphans(struct xlb_sync_orphans *o)
{
	free(o->fes);
	free(o->ranges);
	free(o->bes);
	free(o->svc_ids);
	free(o->rings);
}

void xlb_sync_free_orphans(struct xlb_sync_orphans *o)
{
	if (!o)
		return;
	release_orphans(o);
	free(o);
}

/* The first full apply has written every frontend, range and backend of
 * the model, so what is still an orphan's serves nothing the model
 * wants: frontends still pointing at an orphan's service id (the apply
 * overwrote the others) and the orphans' ranges are deleted, their
 * backends made UNUSED; then their ids and slices are freed. */
void xlb_sync_sweep_orphans(struct xlb_sync *s)
{
	struct xlb_sync_orphans *o = s->orphans;
	const struct xlb_maps *m = s->maps;
	size_t i, n_fes = 0;
	struct xlb_backend b;
	struct xlb_svc sv;

	if (!o)
		return;
	for (i = 0; i < o->n_fes; i++)
		if (!bpf_map_lookup_elem(m->svc, &o->fes[i].key, &sv) &&
		    sv.svc_id == o->fes[i].svc_id &&
		    !xlb_sync_delete(m->svc, &o->fes[i].key))
			n_fes++;
	for (i = 0; i < o->n_ranges; i++)
		xlb_sync_delete(m->src_ranges, &o->ranges[i]);
	for (i = 0; i < o->n_bes; i++) {
		if (!bpf_map_lookup_elem(m->backends, &o->bes[i], &b)) {
			b.state = XLB_BE_UNUSED;
			xlb_sync_update(m->backends, &o->bes[i], &b);
		}
		xlb_idpool_free(&s->be_ids, o->bes[i]);
	}
	for (i = 0; i < o->n_svc_ids; i++)
		xlb_idpool_free(&s->svc_ids, o->svc_ids[i]);
	for (i = 0; i < o->n_rings; i++)
		xlb_ringalloc_free(&s->rings, o->rings[i].off, o->rings[i].len);
	pr_info("adopt: first full sync done: removed %zu frontends, %zu source ranges and %zu backends of no known service, freed %zu ring slices",
		n_fes, o->n_ranges, o->n_bes, o->n_rings);
	xlb_sync_free_orphans(o);
	s->orphans = NULL;
}

int xlb_sync_adopt(struct xlb_sync *s)
{
	struct xlb_maps *m = s->maps;
	struct adopt a = { .s = s };
	size_t n_faulty;
	int rc;

	a.info = calloc(m->max_services, sizeof(*a.info));
	a.vips = calloc(m->max_services, sizeof(*a.vips));
	a.bes = calloc(m->max_backends, sizeof(*a.bes));
	if (!a.info || !a.vips || !a.bes) {
		rc = -ENOMEM;
		goto out;
	}
	rc = xlb_array_read(m->svc_info, m->max_services, sizeof(*a.info),
			    a.info);
	if (!rc)
		rc = xlb_array_read(m->svc_vip, m->max_services,
				    sizeof(*a.vips), a.vips);
	if (!rc)
		rc = xlb_array_read(m->backends, m->max_backends,
				    sizeof(*a.bes), a.bes);
	if (rc) {
		pr_err("adopt: read pinned maps: %s", strerror(-rc));
		goto out;
	}
	rc = adopt_services(&a);
	if (!rc)
		rc = adopt_frontends(&a);
	if (!rc)
		rc = adopt_ranges(&a);
	if (!rc)
		rc = adopt_backends(&a);
	if (!rc)
		rc = fill_services(&a);
	if (!rc)
		rc = reserve_rings(&a);
	if (!rc)
		rc = keep_orphans(&a);
	if (rc)
		goto out;
	n_faulty = mark_faulty(&a);
	xlb_qsort(a.svcs, a.n, sizeof(*a.svcs), svc_by_name_cmp);
	xlb_sync_free_services(s->svcs, s->n_svcs);
	s->svcs = a.svcs;
	s->n_svcs = a.n;
	xlb_sync_count_backends(s);
	a.svcs = NULL;
	a.n = 0;
	xlb_sync_publish_ports(s, s->svcs, s->n_svcs, false);
	pr_info("adopted %zu services and %zu backends from pinned maps%s",
		s->n_svcs, xlb_sync_backend_count(s),
		n_faulty ? "" : ", all consistent");
	if (n_faulty)
		pr_warn("adopt: %zu of %zu services to be written again in full by the first sync",
			n_faulty, s->n_svcs);
out:
	xlb_sync_free_services(a.svcs, a.n);
	release_orphans(&a.o);
	free(a.faults);
	free(a.seen);
	free(a.ext);
	free(a.fes);
	free(a.ranges);
	free(a.info);
	free(a.vips);
	free(a.bes);
	return rc;
}
