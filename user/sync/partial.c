// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A change to some services: the others are left as they are, and the
 * cost is that of the change, not of the whole model. */
#include <stdio.h>

#include <bpf/bpf.h>

#include "log.h"
#include "sync/internal.h"
#include "util.h"

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

/* Whether frontend k is programmed, and for which service (its name in
 * owner): read from the maps, so it costs two lookups, not a scan. */
static bool owner_of(struct xlb_sync *s, const struct xlb_vip_key *k,
		     char owner[XLB_SVC_NAME_LEN])
{
	struct xlb_svc_info info;
	struct xlb_svc sv;

	if (bpf_map_lookup_elem(s->maps->svc, k, &sv) ||
	    bpf_map_lookup_elem(s->maps->svc_info, &sv.svc_id, &info))
		return false;
	memcpy(owner, info.name, XLB_SVC_NAME_LEN);
	owner[XLB_SVC_NAME_LEN - 1] = '\0';
	return true;
}

/* Whether service name is ms itself, goes away (rm) or is part of this
 * change (up, which the parser checked as a whole). */
static bool ours(const char *name, const struct xlb_model_service *ms,
		 const struct xlb_model *up, char *const *rm, size_t n_rm)
{
	size_t k;

	if (!strcmp(name, ms->name) || name_in(name, rm, n_rm))
		return true;
	for (k = 0; k < up->n_services; k++)
		if (!strcmp(up->services[k].name, name))
			return true;
	return false;
}

/* Every programmed frontend of ms belongs to ms, to a service that goes
 * away, or to a service of this change. */
static int check_owners(struct xlb_sync *s, const struct xlb_model_service *ms,
			const struct xlb_model *up, char *const *rm,
			size_t n_rm, char *err, size_t errlen)
{
	struct xlb_prog_frontend *fes;
	char vb[96], owner[XLB_SVC_NAME_LEN];
	size_t nf, f;
	int rc = 0;

	if (xlb_sync_model_frontends(s, ms, &fes, &nf))
		return -ENOMEM;
	for (f = 0; f < nf && !rc; f++)
		if (owner_of(s, &fes[f].key, owner) &&
		    !ours(owner, ms, up, rm, n_rm))
			rc = xlb_errf(err, errlen, -E2BIG,
				      "service %s: frontend %s: already used by service %s",
				      ms->name,
				      xlb_sync_vip_str(&fes[f].key, vb,
						       sizeof(vb)),
				      owner);
	free(fes);
	return rc;
}

/* Drops address a from the list v of *n. */
static void drop_addr(union xlb_addr *v, size_t *n, const union xlb_addr *a)
{
	size_t i, w = 0;

	for (i = 0; i < *n; i++)
		if (memcmp(&v[i], a, sizeof(*a)))
			v[w++] = v[i];
	*n = w;
}

int xlb_sync_strip_taken(struct xlb_sync *s, struct xlb_model_service *ms,
			 const struct xlb_model *up, char *const *rm,
			 size_t n_rm)
{
	struct xlb_prog_frontend *fes;
	char vb[96], owner[XLB_SVC_NAME_LEN];
	size_t nf, f;
	int n = 0;

	if (xlb_sync_model_frontends(s, ms, &fes, &nf))
		return -ENOMEM;
	for (f = 0; f < nf && n >= 0; f++) {
		const struct xlb_vip_key *k = &fes[f].key;

		if (!owner_of(s, k, owner) || ours(owner, ms, up, rm, n_rm))
			continue;
		switch (fes[f].flags & XLB_FE_KIND_MASK) {
		case XLB_FE_CLUSTER_IP:
			n = -EEXIST;	/* the service itself: not ours */
			continue;
		case XLB_FE_EXTERNAL_IP:
			drop_addr(ms->external_ips, &ms->n_external_ips,
				  &k->addr);
			break;
		case XLB_FE_LOAD_BALANCER:
			drop_addr(ms->lb_ips, &ms->n_lb_ips, &k->addr);
			break;
		case XLB_FE_NODE_PORT:
			if (!ms->node_port)
				continue;	/* already dropped */
			ms->node_port = 0;
			break;
		}
		pr_warn("service %s: frontend %s: already used by service %s; left out, the rest of the service is programmed",
			ms->name, xlb_sync_vip_str(k, vb, sizeof(vb)), owner);
		n++;
	}
	free(fes);
	return n;
}

bool xlb_sync_has_frontend(const struct xlb_sync *s, const char *name,
			   const struct xlb_vip_key *k, bool node_port)
{
	/* find_svc only reads the state it is given. */
	const struct xlb_prog_service *ps =
		find_svc((struct xlb_sync *)s, name, &(size_t){ 0 });
	size_t i;

	for (i = 0; ps && i < ps->n_fes; i++) {
		const struct xlb_vip_key *f = &ps->fes[i].key;

		if (node_port ? ((ps->fes[i].flags & XLB_FE_KIND_MASK) ==
					 XLB_FE_NODE_PORT &&
				 f->port == k->port && f->proto == k->proto &&
				 f->family == k->family) :
				!memcmp(f, k, sizeof(*f)))
			return true;
	}
	return false;
}

/* Conflicts with services not in this change, and capacity: checked
 * before anything is written. */
static int check_change(struct xlb_sync *s, const struct xlb_model *up,
			char *const *rm, size_t n_rm, char *err, size_t errlen)
{
	const struct xlb_maps *mp = s->maps;
	const struct xlb_prog_service *old;
	size_t i, pos, n_new = 0;
	__u64 new_bes = 0;
	int rc;

	for (i = 0; i < up->n_services; i++) {
		const struct xlb_model_service *ms = &up->services[i];

		if (name_in(ms->name, rm, n_rm))
			return xlb_errf(err, errlen, -E2BIG,
				    "service %s: both changed and removed",
				    ms->name);
		rc = check_owners(s, ms, up, rm, n_rm, err, errlen);
		if (rc)
			return rc;
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
	return 0;
}

/* Removals first: their ids and slots become free. */
static void remove_listed(struct xlb_sync *s, char *const *rm, size_t n_rm,
			  const struct xlb_vip_key *keep, size_t n_keep,
			  struct xlb_sync_result *res)
{
	struct xlb_prog_service *ps;
	size_t i, pos;

	for (i = 0; i < n_rm; i++) {
		ps = find_svc(s, rm[i], &pos);
		if (!ps)
			continue;
		xlb_sync_remove_service(s, ps, keep, n_keep, res);
		xlb_sync_ports_add(s, ps, -1);
		s->n_backends -= ps->n_backends;
		xlb_sync_free_service(ps);
		memmove(ps, ps + 1, (s->n_svcs - pos - 1) * sizeof(*ps));
		s->n_svcs--;
	}
}

/* Bookkeeping: what was built replaces its old entry or is inserted in
 * name order. */
static int install_built(struct xlb_sync *s, struct xlb_prog_service *built,
			 size_t n_built)
{
	struct xlb_prog_service *old, *ps;
	size_t i, pos;
	int rc = 0;

	for (i = 0; i < n_built; i++) {
		old = find_svc(s, built[i].name, &pos);
		if (old) {
			xlb_sync_ports_add(s, old, -1);
			s->n_backends += built[i].n_backends - old->n_backends;
			xlb_sync_free_service(old);
			*old = built[i];
			continue;
		}
		ps = realloc(s->svcs, (s->n_svcs + 1) * sizeof(*ps));
		if (!ps) {
			/* Programmed, but forgotten. */
			xlb_sync_free_service(&built[i]);
			rc = -ENOMEM;
			continue;
		}
		s->svcs = ps;
		memmove(&ps[pos + 1], &ps[pos], (s->n_svcs - pos) * sizeof(*ps));
		ps[pos] = built[i];
		s->n_svcs++;
		s->n_backends += built[i].n_backends;
	}
	return rc;
}

int xlb_sync_apply_partial(struct xlb_sync *s, const struct xlb_model *up,
			   char *const *rm, size_t n_rm,
			   struct xlb_sync_result *res, char *err, size_t errlen)
{
	struct xlb_prog_service *built = NULL, *old;
	struct xlb_vip_key *keep = NULL;
	size_t i, pos, n_built = 0, n_keep = 0;
	struct txn t;
	int rc, irc;

	memset(res, 0, sizeof(*res));
	s->n_logged = 0;
	rc = check_change(s, up, rm, n_rm, err, errlen);
	if (rc)
		return rc;
	if (xlb_sync_keep_list(s, up->services, up->n_services, &keep,
			       &n_keep))
		return -ENOMEM;
	built = calloc(up->n_services + 1, sizeof(*built));
	if (!built) {
		free(keep);
		return -ENOMEM;
	}
	xlb_txn_init(&t, s->maps);
	remove_listed(s, rm, n_rm, keep, n_keep, res);
	for (i = 0; i < up->n_services; i++) {
		const struct xlb_model_service *ms = &up->services[i];

		old = find_svc(s, ms->name, &pos);
		rc = xlb_sync_apply_service(s, &t, ms, old, &built[n_built],
					    keep, n_keep, res);
		if (rc) {
			rc = xlb_errf(err, errlen, rc,
				      "service %s: programming failed: %s",
				      ms->name, strerror(-rc));
			break;
		}
		xlb_sync_ports_add(s, &built[n_built], +1);
		n_built++;
	}
	rc = xlb_sync_commit(s, &t, rc, err, errlen);
	irc = install_built(s, built, n_built);
	free(built);
	free(keep);
	xlb_sync_log_end(s);
	xlb_sync_notify_left(s, res);
	return rc ? rc : irc;
}
