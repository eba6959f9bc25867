// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Adoption: after a restart the bookkeeping is read back from the pinned
 * maps, so that the first apply writes only what changed and no id or
 * ring slice in use is handed out again.
 */
#include <bpf/bpf.h>

#include "sync/internal.h"
#include "util.h"

/* What the pinned maps hold, while it is turned into bookkeeping. Every
 * frontend and source range is collected first and each service's array
 * allocated once, at its size: a service with many backends costs no
 * more reallocations than one with few. */
struct adopt {
	struct xlb_sync *s;
	struct xlb_svc_info *info;	/* xlb_svc_info as pinned */
	struct xlb_backend *bes;	/* xlb_backends as pinned */
	struct xlb_prog_service *svcs;	/* sorted by id until the end */
	size_t n;
	struct adopt_fe {
		__u32 svc_id;
		struct xlb_prog_frontend fe;
	} *fes;				/* frontends of known services */
	size_t n_fes, cap_fes;
	struct xlb_src_range_key *ranges; /* ranges of known services */
	size_t n_ranges, cap_ranges;
};

static int svc_by_id_cmp(const void *a, const void *b)
{
	const struct xlb_prog_service *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
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
	if (!a->svcs)
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

/* Frontends give their service its VIP, rings and affinity; each is
 * counted for its service and kept for fill_services(). */
static int adopt_frontends(struct adopt *a)
{
	struct xlb_maps *m = a->s->maps;
	struct xlb_prog_service *ps;
	struct xlb_vip_key vk, next;
	struct xlb_svc sv;
	void *prev = NULL;

	while (!bpf_map_get_next_key(m->svc, prev, &next)) {
		vk = next;
		prev = &vk;
		if (bpf_map_lookup_elem(m->svc, &vk, &sv))
			continue;
		ps = by_id(a, sv.svc_id);
		if (!ps) {
			/* A frontend of no known service: left by a crash. */
			bpf_map_delete_elem(m->svc, &vk);
			prev = NULL;
			continue;
		}
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
		ps->affinity_timeout = sv.affinity_timeout;
		if (sv.flags & XLB_SVC_F_LOCAL) {
			ps->lring_off = sv.ring_off;
			ps->lring_size = sv.ring_size;
		} else {
			ps->ring_off = sv.ring_off;
			ps->ring_size = sv.ring_size;
		}
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
		if (!ps)
			continue;
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

/* Backends in use are counted for their service; their ids are taken. */
static void adopt_backends(struct adopt *a)
{
	struct xlb_prog_service *ps;
	size_t i;

	for (i = 1; i < a->s->maps->max_backends; i++) {
		ps = backend_owner(a, i);
		if (!ps)
			continue;
		ps->n_backends++;
		xlb_idpool_mark(&a->s->be_ids, i);
	}
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

/* Sorts each service's arrays as an apply expects them and takes the
 * ring slices its frontends point at. */
static int reserve_rings(struct adopt *a)
{
	struct xlb_prog_service *ps;
	struct extent *ext;
	size_t i, n_ext = 0;
	int rc = 0;

	ext = calloc(2 * a->n + 1, sizeof(*ext));
	if (!ext)
		return -ENOMEM;
	for (i = 0; i < a->n; i++) {
		ps = &a->svcs[i];
		xlb_qsort(ps->backends, ps->n_backends, sizeof(*ps->backends),
			  pbe_cmp);
		xlb_qsort(ps->fes, ps->n_fes, sizeof(*ps->fes), fe_cmp);
		xlb_qsort(ps->ranges, ps->n_ranges, sizeof(*ps->ranges),
			  range_cmp);
		if (ps->ring_size)
			ext[n_ext++] = (struct extent){ ps->ring_off,
							ps->ring_size };
		if (ps->lring_size)
			ext[n_ext++] = (struct extent){ ps->lring_off,
							ps->lring_size };
	}
	xlb_qsort(ext, n_ext, sizeof(*ext), extent_cmp);
	for (i = 0; i < n_ext && !rc; i++) {
		rc = xlb_ringalloc_reserve(&a->s->rings, ext[i].off,
					   ext[i].len);
		if (rc)
			pr_err("adopt: ring slice %u+%u overlaps another",
			       ext[i].off, ext[i].len);
	}
	free(ext);
	return rc;
}

int xlb_sync_adopt(struct xlb_sync *s)
{
	struct xlb_maps *m = s->maps;
	struct adopt a = { .s = s };
	int rc;

	a.info = calloc(m->max_services, sizeof(*a.info));
	a.bes = calloc(m->max_backends, sizeof(*a.bes));
	if (!a.info || !a.bes) {
		rc = -ENOMEM;
		goto out;
	}
	rc = xlb_array_read(m->svc_info, m->max_services, sizeof(*a.info),
			    a.info);
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
	if (!rc) {
		adopt_backends(&a);
		rc = fill_services(&a);
	}
	if (!rc)
		rc = reserve_rings(&a);
	if (rc)
		goto out;
	xlb_qsort(a.svcs, a.n, sizeof(*a.svcs), svc_by_name_cmp);
	xlb_sync_free_services(s->svcs, s->n_svcs);
	s->svcs = a.svcs;
	s->n_svcs = a.n;
	xlb_sync_count_backends(s);
	a.svcs = NULL;
	a.n = 0;
	xlb_sync_publish_ports(s, s->svcs, s->n_svcs, false);
	pr_info("adopted %zu services and %zu backends from pinned maps",
		s->n_svcs, xlb_sync_backend_count(s));
out:
	xlb_sync_free_services(a.svcs, a.n);
	free(a.fes);
	free(a.ranges);
	free(a.info);
	free(a.bes);
	return rc;
}
