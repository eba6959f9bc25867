// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One service brought to its model, step by step, and the whole model. */
#include <arpa/inet.h>
#include <stdio.h>

#include <bpf/bpf.h>

#include "sync/internal.h"
#include "util.h"

const char *xlb_sync_vip_str(const struct xlb_vip_key *k, char *buf,
			     size_t len)
{
	char a[XLB_ADDR_STRLEN];

	xlb_addr_str(&k->addr, k->family, a);
	snprintf(buf, len, k->family == XLB_AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s",
		 a, ntohs(k->port), xlb_proto_str(k->proto));
	return buf;
}

/*
 * One line per service added, updated or removed, at info level for the
 * first XLB_SYNC_LOG_SERVICES of an apply and at debug level after that:
 * a first sync of 100,000 services should not write 100,000 lines (nor
 * wait for them).
 */
#define XLB_SYNC_LOG_SERVICES 100

enum xlb_log_level xlb_sync_log_level(struct xlb_sync *s)
{
	if (s->quiet)
		return XLB_LOG_DEBUG;
	return s->n_logged++ < XLB_SYNC_LOG_SERVICES ? XLB_LOG_INFO :
						      XLB_LOG_DEBUG;
}

void xlb_sync_log_end(struct xlb_sync *s)
{
	if (s->n_logged > XLB_SYNC_LOG_SERVICES &&
	    xlb_log_get_level() < XLB_LOG_DEBUG)
		pr_info("%zu more service lines at debug level (xlbd -vv)",
			s->n_logged - XLB_SYNC_LOG_SERVICES);
	s->n_logged = 0;
	/* selftests/test_crash.sh reads it to know how many writes a sync
	 * makes. */
	pr_debug("sync: %llu map writes since the start", xlb_sync_map_writes());
}

static bool kept(const struct xlb_vip_key *k, const struct xlb_vip_key *keep,
		 size_t n_keep)
{
	return xlb_bsearch(k, keep, n_keep, sizeof(*k), vipkey_cmp) != NULL;
}

void xlb_sync_remove_service(struct xlb_sync *s, struct xlb_prog_service *ps,
			     const struct xlb_vip_key *keep, size_t n_keep,
			     struct xlb_sync_result *res)
{
	struct xlb_svc_info none = {};
	char vb[96];
	size_t i;

	/* A frontend another service takes over is rewritten, not
	 * deleted. */
	for (i = 0; i < ps->n_fes; i++)
		if (!kept(&ps->fes[i].key, keep, n_keep))
			xlb_sync_delete(s->maps->svc, &ps->fes[i].key);
	for (i = 0; i < ps->n_ranges; i++)
		xlb_sync_delete(s->maps->src_ranges, &ps->ranges[i]);
	for (i = 0; i < ps->n_backends; i++) {
		struct xlb_prog_backend *pb = &ps->backends[i];
		struct xlb_backend v = xlb_sync_unused_backend(ps->id, pb);

		xlb_sync_update(s->maps->backends, &pb->id, &v);
		xlb_idpool_free(&s->be_ids, pb->id);
	}
	xlb_sync_update(s->maps->svc_info, &ps->id, &none);
	xlb_ringalloc_free(&s->rings, ps->ring_off, ps->ring_size);
	xlb_ringalloc_free(&s->rings, ps->lring_off, ps->lring_size);
	xlb_idpool_free(&s->svc_ids, ps->id);
	res->removed++;
	xlb_log(xlb_sync_log_level(s), "service %s removed: %s", ps->name,
		ps->vip.family ? xlb_sync_vip_str(&ps->vip, vb, sizeof(vb)) :
				 "no ClusterIP frontend");
}

/* ---- one service, step by step ------------------------------------------ */

/* What the steps of one service's apply decide, for the steps after. */
struct change {
	const struct xlb_model_service *ms;
	const struct xlb_prog_service *old;	/* NULL: a new service */
	struct xlb_prog_service *ps;		/* what it becomes */
	struct xlb_prog_backend *gone;	/* old backends the model drops */
	size_t n_add, n_del, n_chg;	/* backends added, gone, changed */
	__u32 m;			/* table size */
	bool dirty_all;		/* new or other settings: write everything */
	bool ranges_dirty;	/* source ranges differ from the old ones */
	bool need_all, need_local;	/* rings the frontends point at */
	bool ring_dirty;	/* rings rebuilt in fresh slices */
	bool svc_dirty;		/* frontends written again */
};

static bool changed(const struct change *c)
{
	return c->svc_dirty || c->n_add || c->n_del || c->n_chg;
}

/* An id from p, or 0; its counters in stats_fd are zeroed when an
 * earlier owner of the id left some (*dirty). */
static __u32 fresh_id(struct xlb_sync *s, struct xlb_idpool *p, int stats_fd,
		      bool *dirty)
{
	__u32 id = xlb_idpool_alloc(p, dirty);

	if (id && *dirty)
		xlb_sync_counter_reset(s->maps, stats_fd, id);
	return id;
}

/* Id, digest, frontends, source ranges and group shares. */
static int service_identity(struct xlb_sync *s, struct change *c)
{
	const struct xlb_model_service *ms = c->ms;
	struct xlb_prog_service *ps = c->ps;
	size_t i;
	int rc;

	memset(ps, 0, sizeof(*ps));
	memcpy(ps->name, ms->name, sizeof(ps->name));
	ps->vip = ms->vip;
	ps->table_size_req = ms->table_size;
	ps->source = ms->source;
	ps->affinity_timeout = ms->affinity_timeout;
	ps->digest = xlb_sync_service_digest(s, ms);
	if (c->old) {
		ps->id = c->old->id;
		ps->generation = c->old->generation;
	} else {
		bool dirty;

		ps->id = fresh_id(s, &s->svc_ids, s->maps->svc_stats, &dirty);
		if (!ps->id)
			return -ENOSPC;
	}
	c->dirty_all = !c->old || c->old->digest != ps->digest;
	rc = xlb_sync_model_frontends(s, ms, &ps->fes, &ps->n_fes);
	if (!rc)
		rc = xlb_sync_model_ranges(ms, ps->id, &ps->ranges,
					   &ps->n_ranges);
	if (rc)
		return rc;
	/* The ranges as they are, not only as the digest says: a sync cut
	 * short may have left some of the old ones. */
	c->ranges_dirty = c->dirty_all || c->old->n_ranges != ps->n_ranges ||
			  (ps->n_ranges &&
			   memcmp(c->old->ranges, ps->ranges,
				  ps->n_ranges * sizeof(*ps->ranges)));
	if (ms->n_groups) {
		ps->group_pct = calloc(ms->n_groups, sizeof(*ps->group_pct));
		if (!ps->group_pct)
			return -ENOMEM;
		for (i = 0; i < ms->n_groups; i++)
			ps->group_pct[i] = ms->groups[i].percent;
		ps->n_groups = ms->n_groups;
	}
	for (i = 0; i < ps->n_fes; i++) {
		if (ps->fes[i].flags & XLB_SVC_F_LOCAL)
			c->need_local = true;
		else
			c->need_all = true;
	}
	return 0;
}

/* A backend the service did not have gets a fresh id. */
static int add_backend(struct xlb_sync *s, struct txn *t, struct change *c,
		       struct xlb_prog_backend *nb)
{
	bool dirty;

	nb->id = fresh_id(s, &s->be_ids, s->maps->be_stats, &dirty);
	if (!nb->id)
		return -ENOSPC;
	c->n_add++;
	return xlb_txn_write_backend(t, nb->id, c->ps->id, nb, dirty);
}

/* A backend the service keeps: its id, written again if it changed. */
static int keep_backend(struct txn *t, struct change *c,
			struct xlb_prog_backend *nb,
			const struct xlb_prog_backend *ob)
{
	nb->id = ob->id;
	if (ob->state == nb->state && ob->weight == nb->weight &&
	    ob->local == nb->local)
		return 0;
	c->n_chg++;
	return xlb_txn_write_backend(t, nb->id, c->ps->id, nb, false);
}

/* Merges the two identity-sorted backend lists, the model's and the
 * programmed one, into ps->backends; what only the old one has goes to
 * c->gone. */
static int merge_backends(struct xlb_sync *s, struct txn *t, struct change *c)
{
	const struct xlb_model_service *ms = c->ms;
	size_t i = 0, j = 0, n_old = c->old ? c->old->n_backends : 0;
	__u8 *in_all, *in_local;
	int rc = 0;

	c->ps->backends = calloc(ms->n_backends + 1, sizeof(*c->ps->backends));
	c->gone = calloc(n_old + 1, sizeof(*c->gone));
	in_all = calloc(ms->n_backends + 1, 1);
	in_local = calloc(ms->n_backends + 1, 1);
	if (!c->ps->backends || !c->gone || !in_all || !in_local) {
		rc = -ENOMEM;
		goto out;
	}
	xlb_sync_ring_sets(ms, in_all, in_local);
	c->ps->n_backends = ms->n_backends;
	while (!rc && (i < ms->n_backends || j < n_old)) {
		const struct xlb_model_backend *mb =
			i < ms->n_backends ? &ms->backends[i] : NULL;
		const struct xlb_prog_backend *ob =
			j < n_old ? &c->old->backends[j] : NULL;
		struct xlb_prog_backend *nb = &c->ps->backends[i];
		int cmp = !mb ? 1 : !ob ? -1 :
			xlb_be_identity_cmp(&mb->addr, mb->port, mb->family,
					    &ob->addr, ob->port, ob->family);

		if (cmp > 0) {
			c->gone[c->n_del++] = *ob;
			j++;
			continue;
		}
		nb->addr = mb->addr;
		nb->port = mb->port;
		nb->family = mb->family;
		nb->weight = mb->weight;
		nb->local = mb->local;
		nb->group = mb->group;
		nb->in_all = in_all[i];
		nb->in_local = in_local[i];
		/* The map says whether a backend takes new flows. */
		nb->state = in_all[i] || in_local[i] ? XLB_BE_ACTIVE :
						       XLB_BE_TERMINATING;
		rc = cmp < 0 ? add_backend(s, t, c, nb) :
			       keep_backend(t, c, nb, ob);
		j += cmp == 0;
		i++;
	}
out:
	free(in_all);
	free(in_local);
	return rc;
}

/* A ring whose members or size changed is built anew in a fresh slice:
 * packets may still be reading the old one. */
static int replace_rings(struct xlb_sync *s, struct txn *t, struct change *c,
			 struct xlb_sync_result *res)
{
	const struct xlb_prog_service *old = c->old;
	struct xlb_prog_service *ps = c->ps;
	int rc = 0;

	c->ring_dirty = c->dirty_all || c->n_add || c->n_del || c->n_chg ||
			(old->ring_size && old->ring_size != c->m) ||
			(old->lring_size && old->lring_size != c->m);
	if (!c->ring_dirty) {
		ps->ring_off = old->ring_off;
		ps->ring_size = old->ring_size;
		ps->lring_off = old->lring_off;
		ps->lring_size = old->lring_size;
		return 0;
	}
	if (c->need_all)
		rc = xlb_rings_queue(s, t, ps, false, c->m, &ps->ring_off,
				     &ps->ring_size);
	if (!rc && c->need_local)
		rc = xlb_rings_queue(s, t, ps, true, c->m, &ps->lring_off,
				     &ps->lring_size);
	if (!rc)
		res->rings_written += c->need_all + c->need_local;
	return rc;
}

/* The service info, then the source ranges, then the frontends that make
 * the new backends and rings live. */
static int publish_service(struct xlb_sync *s, struct txn *t,
			   struct change *c)
{
	const struct xlb_prog_service *old = c->old;
	struct xlb_prog_service *ps = c->ps;
	size_t i;
	int rc;

	c->svc_dirty = c->dirty_all || c->ring_dirty || c->ranges_dirty ||
		       old->n_fes != ps->n_fes ||
		       memcmp(old->fes, ps->fes, ps->n_fes * sizeof(*ps->fes));
	if (changed(c)) {
		ps->generation++;
		rc = xlb_txn_write_info(t, ps);
		if (rc)
			return rc;
	}
	/* Source ranges first: a frontend never checks a missing one. */
	for (i = 0; c->ranges_dirty && i < ps->n_ranges; i++) {
		__u32 one = 1;

		rc = xlb_sync_update(s->maps->src_ranges, &ps->ranges[i], &one);
		if (rc)
			return rc;
	}
	return c->svc_dirty ? xlb_txn_write_svc(t, ps) : 0;
}

/* Now nothing new points at what is gone: frontends, ranges, backends
 * and ring slices of old that ps does not have go after the flush. */
static int retire_old(struct txn *t, const struct change *c,
		      const struct xlb_vip_key *keep, size_t n_keep)
{
	const struct xlb_prog_service *old = c->old, *ps = c->ps;
	size_t i;
	int rc = 0;

	if (!old)
		return 0;
	for (i = 0; i < old->n_fes && !rc; i++)
		if (!xlb_bsearch(&old->fes[i], ps->fes, ps->n_fes,
				 sizeof(*ps->fes), fe_cmp) &&
		    !kept(&old->fes[i].key, keep, n_keep))
			rc = xlb_txn_del(t, &old->fes[i].key);
	for (i = 0; c->ranges_dirty && i < old->n_ranges && !rc; i++)
		if (!xlb_bsearch(&old->ranges[i], ps->ranges, ps->n_ranges,
			     sizeof(*ps->ranges), range_cmp))
			rc = xlb_txn_del_range(t, &old->ranges[i]);
	for (i = 0; i < c->n_del && !rc; i++) {
		rc = xlb_txn_clear_backend(t, c->gone[i].id, ps->id,
					   &c->gone[i]);
		if (!rc)
			rc = xlb_txn_free_be(t, c->gone[i].id);
	}
	if (!rc && c->ring_dirty) {
		rc = xlb_txn_free_ring(t, old->ring_off, old->ring_size);
		if (!rc)
			rc = xlb_txn_free_ring(t, old->lring_off,
					       old->lring_size);
	}
	return rc;
}

static void report(struct xlb_sync *s, const struct change *c,
		   struct xlb_sync_result *res)
{
	const struct xlb_prog_service *ps = c->ps;
	char vb[96];

	res->be_added += c->n_add;
	res->be_removed += c->n_del;
	res->be_changed += c->n_chg;
	if (!c->old) {
		res->added++;
		xlb_log(xlb_sync_log_level(s),
			"service %s added: %s, %zu frontends, %zu backends, table %u",
			ps->name, xlb_sync_vip_str(&ps->vip, vb, sizeof(vb)),
			ps->n_fes, ps->n_backends, c->m);
	} else if (changed(c)) {
		res->updated++;
		xlb_log(xlb_sync_log_level(s),
			"service %s updated: %s, %zu frontends, backends +%zu -%zu ~%zu, table %u%s",
			ps->name, xlb_sync_vip_str(&ps->vip, vb, sizeof(vb)),
			ps->n_fes, c->n_add, c->n_del, c->n_chg, c->m,
			c->ring_dirty ? " (ring replaced)" : "");
	} else {
		res->unchanged++;
	}
}

/* In the order of the steps: backends, then the rings, then the frontend
 * entries that make them live, then what is no longer referenced. A new
 * service (old NULL) has every step's "dirty" set, so the steps never
 * look into old for it. */
int xlb_sync_apply_service(struct xlb_sync *s, struct txn *t,
			   const struct xlb_model_service *ms,
			   const struct xlb_prog_service *old,
			   struct xlb_prog_service *ps,
			   const struct xlb_vip_key *keep, size_t n_keep,
			   struct xlb_sync_result *res)
{
	struct change c = { .ms = ms, .old = old, .ps = ps,
			    .m = xlb_sync_table_size(ms) };
	size_t jobs0 = t->n_jobs, i;
	int rc;

	rc = service_identity(s, &c);
	if (!rc)
		rc = merge_backends(s, t, &c);
	if (!rc)
		rc = replace_rings(s, t, &c, res);
	if (!rc)
		rc = publish_service(s, t, &c);
	if (!rc)
		rc = retire_old(t, &c, keep, n_keep);
	if (!rc)
		report(s, &c, res);
	free(c.gone);
	if (rc) {
		/* Nothing may build a table from the arrays freed below,
		 * and the slices go back. */
		for (i = jobs0; i < t->n_jobs; i++)
			xlb_ringalloc_free(&s->rings, t->jobs[i].off,
					   t->jobs[i].m);
		t->n_jobs = jobs0;
		xlb_sync_free_service(ps);
	}
	return rc;
}

void xlb_sync_notify_left(struct xlb_sync *s,
			  const struct xlb_sync_result *res)
{
	if (s->backends_left &&
	    (res->removed || res->be_removed || res->be_changed))
		s->backends_left(s->backends_left_ctx);
}

int xlb_sync_commit(struct xlb_sync *s, struct txn *t, int rc, char *err,
		    size_t errlen)
{
	int crc = xlb_txn_commit(s, t);

	xlb_txn_fini(t);
	if (crc && !rc)
		return xlb_errf(err, errlen, crc, "writing the maps failed: %s",
				strerror(-crc));
	return rc;
}

/* ---- the whole model --------------------------------------------------- */

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
		slots += xlb_sync_table_size(ms) *
			 (1 + (ms->internal_local || ms->external_local));
	}
	/* Every ring could be rewritten while the old ones are still held. */
	if (slots > mp->ring_slots)
		return xlb_errf(err, errlen, -E2BIG,
			    "config: Maglev tables need %llu slots, more than --ring-slots %u",
			    (unsigned long long)slots, mp->ring_slots);
	return 0;
}

/* The frontends no removal may delete (every frontend of the model,
 * sorted) and the capacity check. */
static int plan_apply(struct xlb_sync *s, const struct xlb_model *m,
		      struct xlb_vip_key **keep, size_t *n_keep, char *err,
		      size_t errlen)
{
	size_t i, n_fes = 0;
	int rc;

	*keep = NULL;
	*n_keep = 0;
	if (s->n_svcs) {
		rc = xlb_sync_keep_list(s, m->services, m->n_services, keep,
					n_keep);
		if (rc)
			return rc;
		n_fes = *n_keep;
	} else {
		/* Nothing programmed yet, so no frontend can be dropped: the
		 * sorted list of every frontend is not needed, their count
		 * is. */
		for (i = 0; i < m->n_services; i++)
			n_fes += xlb_sync_frontend_count(s, &m->services[i]);
	}
	rc = check_capacity(s, m, n_fes, err, errlen);
	if (rc) {
		free(*keep);
		*keep = NULL;
	}
	return rc;
}

/* Services that go away first: their ids and slots become free. Their
 * bookkeeping entry is emptied (no name) where it stands. */
static void remove_dropped(struct xlb_sync *s, const struct xlb_model *m,
			   const struct xlb_vip_key *keep, size_t n_keep,
			   struct xlb_sync_result *res)
{
	size_t i = 0, j;

	for (j = 0; j < s->n_svcs; j++) {
		while (i < m->n_services &&
		       strcmp(m->services[i].name, s->svcs[j].name) < 0)
			i++;
		if (i < m->n_services &&
		    !strcmp(m->services[i].name, s->svcs[j].name))
			continue;
		xlb_sync_remove_service(s, &s->svcs[j], keep, n_keep, res);
		xlb_sync_free_service(&s->svcs[j]);
		s->svcs[j].name[0] = '\0';
	}
}

/* Applies the model's services in name order into nsvcs; stops at the
 * first that fails. An old entry that was applied is emptied. */
static int apply_services(struct xlb_sync *s, struct txn *t,
			  const struct xlb_model *m,
			  struct xlb_prog_service *nsvcs, size_t *n,
			  const struct xlb_vip_key *keep, size_t n_keep,
			  struct xlb_sync_result *res, char *err, size_t errlen)
{
	size_t i, j = 0;
	int rc;

	for (i = 0; i < m->n_services; i++) {
		const struct xlb_model_service *ms = &m->services[i];
		struct xlb_prog_service *old = NULL;

		while (j < s->n_svcs && (!s->svcs[j].name[0] ||
					 strcmp(s->svcs[j].name, ms->name) < 0))
			j++;
		if (j < s->n_svcs && !strcmp(s->svcs[j].name, ms->name))
			old = &s->svcs[j];
		rc = xlb_sync_apply_service(s, t, ms, old, &nsvcs[*n], keep,
					    n_keep, res);
		if (rc)
			return xlb_errf(err, errlen, rc,
					"service %s: programming failed: %s",
					ms->name, strerror(-rc));
		xlb_rings_publish(t);
		if (old) {
			xlb_sync_free_service(old);
			old->name[0] = '\0';
		}
		(*n)++;
	}
	return 0;
}

/* Ports of what is about to be programmed open the filter first: the
 * services applied and those still as they were. */
static void open_ports(struct xlb_sync *s, const struct xlb_prog_service *v,
		       size_t n)
{
	struct xlb_prog_service *all = calloc(n + s->n_svcs + 1, sizeof(*all));
	size_t j, k = n;

	if (!all)
		return;
	memcpy(all, v, n * sizeof(*all));
	for (j = 0; j < s->n_svcs; j++)
		if (s->svcs[j].name[0])
			all[k++] = s->svcs[j];
	xlb_sync_publish_ports(s, all, k, true);
	free(all);
}

/* After a failure: services not reached stay programmed as they were, so
 * they stay in the bookkeeping, moved from s->svcs to *v. */
static void keep_unreached(struct xlb_sync *s, struct xlb_prog_service **v,
			   size_t *n)
{
	struct xlb_prog_service *g;
	size_t j, k = 0;

	for (j = 0; j < s->n_svcs; j++)
		k += !!s->svcs[j].name[0];
	g = realloc(*v, (*n + k + 1) * sizeof(*g));
	if (!g) {
		/* They stay in the maps but are forgotten, as a partial
		 * apply that cannot grow its bookkeeping does. */
		pr_err("sync: %zu services left out of the bookkeeping: %s",
		       k, strerror(ENOMEM));
		return;
	}
	*v = g;
	for (j = 0; j < s->n_svcs; j++) {
		if (!s->svcs[j].name[0])
			continue;
		g[(*n)++] = s->svcs[j];
		/* Moved: its arrays are the new entry's now. */
		memset(&s->svcs[j], 0, sizeof(s->svcs[j]));
	}
	xlb_qsort(g, *n, sizeof(*g), svc_by_name_cmp);
}

int xlb_sync_apply(struct xlb_sync *s, const struct xlb_model *m,
		   struct xlb_sync_result *res, char *err, size_t errlen)
{
	struct xlb_prog_service *nsvcs;
	struct xlb_vip_key *keep;
	size_t n = 0, n_keep;
	struct txn t;
	int rc;

	memset(res, 0, sizeof(*res));
	s->n_logged = 0;
	rc = plan_apply(s, m, &keep, &n_keep, err, errlen);
	if (rc)
		return rc;
	xlb_txn_init(&t, s->maps);
	xlb_rings_start(s, &t, m->n_services);
	nsvcs = calloc(m->n_services + 1, sizeof(*nsvcs));
	if (!nsvcs) {
		xlb_txn_fini(&t);
		rc = -ENOMEM;
		goto out;
	}
	remove_dropped(s, m, keep, n_keep, res);
	rc = apply_services(s, &t, m, nsvcs, &n, keep, n_keep, res, err,
			    errlen);
	open_ports(s, nsvcs, n);
	/* What was queued is consistent service by service: write it even
	 * if a later service failed, so the bookkeeping matches the maps. */
	rc = xlb_sync_commit(s, &t, rc, err, errlen);
	if (rc)
		keep_unreached(s, &nsvcs, &n);
	xlb_sync_free_services(s->svcs, s->n_svcs);
	s->svcs = nsvcs;
	s->n_svcs = n;
	if (!rc)
		xlb_sync_sweep_orphans(s);
	xlb_sync_count_backends(s);
	xlb_sync_publish_ports(s, s->svcs, s->n_svcs, false);
	xlb_sync_log_end(s);
	xlb_sync_notify_left(s, res);
out:
	free(keep);
	return rc;
}
