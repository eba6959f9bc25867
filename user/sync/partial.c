// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A change to some services: the others are left as they are, and the
 * cost is that of the change, not of the whole model. */
#include <stdio.h>

#include <bpf/bpf.h>

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

/* Every programmed frontend of ms belongs to ms, to a service that goes
 * away, or to a service of this change (which the parser checked as a
 * whole). */
static int check_owners(struct xlb_sync *s, const struct xlb_model_service *ms,
			const struct xlb_model *up, char *const *rm,
			size_t n_rm, char *err, size_t errlen)
{
	const struct xlb_maps *mp = s->maps;
	struct xlb_prog_frontend *fes;
	size_t nf, f, k;
	char vb[96];
	int rc = 0;

	if (xlb_sync_model_frontends(s, ms, &fes, &nf))
		return -ENOMEM;
	for (f = 0; f < nf && !rc; f++) {
		struct xlb_svc sv;
		struct xlb_svc_info info;
		bool ours;

		if (bpf_map_lookup_elem(mp->svc, &fes[f].key, &sv) ||
		    bpf_map_lookup_elem(mp->svc_info, &sv.svc_id, &info))
			continue;
		info.name[XLB_SVC_NAME_LEN - 1] = '\0';
		ours = !strcmp(info.name, ms->name) ||
		       name_in(info.name, rm, n_rm);
		for (k = 0; !ours && k < up->n_services; k++)
			ours = !strcmp(up->services[k].name, info.name);
		if (!ours)
			rc = xlb_errf(err, errlen, -E2BIG,
				      "service %s: frontend %s: already used by service %s",
				      ms->name,
				      xlb_sync_vip_str(&fes[f].key, vb,
						       sizeof(vb)),
				      info.name);
	}
	free(fes);
	return rc;
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
