// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Translate and apply, on the main thread: xlb_k8s_process() takes the
 * queued events into the cache, then translates the Services they made
 * dirty and applies them in one partial apply (one at a time if that is
 * refused); the first sync and resyncs apply the whole cache at once,
 * with frontend conflicts between Services dropped first. The counters
 * and the event -> map latency histogram live here too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "healthcheck.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

const double xlb_k8s_hist_bounds_ms[XLB_K8S_HIST_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250
};

struct xlb_k8s_stats xlb_k8s_counters;
static bool synced;

const struct xlb_k8s_stats *xlb_k8s_stats(void)
{
	return &xlb_k8s_counters;
}

bool xlb_k8s_synced(void)
{
	return __atomic_load_n(&synced, __ATOMIC_ACQUIRE);
}

/* The counters /metrics shows as well (xlb_metrics_count is locked:
 * the watch threads count too). */
void xlb_k8s_stat_metric(const uint64_t *field)
{
	if (field == &xlb_k8s_counters.errors)
		xlb_metrics_count(XLB_METRICS_WATCH_ERRORS);
	else if (field == &xlb_k8s_counters.relists)
		xlb_metrics_count(XLB_METRICS_RELISTS);
	else if (field == &xlb_k8s_counters.watch_restarts)
		xlb_metrics_count(XLB_METRICS_WATCH_RESTARTS);
}

static void update_hc(struct svc_ent *e, const struct xlb_model *m);

static int translate_ent(struct xlb_k8s *k, struct svc_ent *e,
			 struct xlb_model *m)
{
	struct xlb_k8s_node_info ni = { k->node_name, k->zone };
	const struct xlb_k8s_slice **sl;
	char err[256] = "";
	size_t i, n_warn = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!e->svc) {
		update_hc(e, m);
		return 0;
	}
	sl = calloc(e->n_slices + 1, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	for (i = 0; i < e->n_slices; i++)
		sl[i] = e->slices[i]->obj;
	rc = xlb_k8s_translate_obj(e->svc, sl, e->n_slices, &ni, m, &n_warn,
				   err, sizeof(err));
	free(sl);
	update_hc(e, m);
	if (rc)
		pr_warn("k8s: %s", err);
	else if (n_warn)
		pr_warn("k8s: %zu parts left out; last: %s", n_warn, err);
	return rc;
}

/* externalTrafficPolicy Local Services with a healthCheckNodePort: the
 * port answers how many ready endpoints this node has (kube-proxy's
 * health check for cloud load balancers). */
static void update_hc(struct svc_ent *e, const struct xlb_model *m)
{
	__u16 port = 0;
	__u32 n[2] = { 0, 0 };	/* IPv4, IPv6 */
	size_t i, j, k;

	if (e->svc && !e->svc->skip && e->svc->external_local)
		port = e->svc->hc_port;
	if (e->hc_port && e->hc_port != port)
		xlb_hc_remove(e->hc_port);
	e->hc_port = port;
	if (!port)
		return;
	/* Distinct ready local endpoint addresses over all its ports, per
	 * family: a dual-stack pod is one endpoint, as kube-proxy (one
	 * proxier per family) counts it; the larger family's count. */
	for (i = 0; i < m->n_services; i++)
		for (j = 0; j < m->services[i].n_backends; j++) {
			const struct xlb_model_backend *b = &m->services[i].backends[j];
			bool seen = false;

			if (!b->local || b->state != XLB_BE_ACTIVE)
				continue;
			for (k = 0; k < i && !seen; k++) {
				size_t x;

				for (x = 0; x < m->services[k].n_backends; x++)
					if (!memcmp(&m->services[k].backends[x].addr,
						    &b->addr, sizeof(b->addr)) &&
					    m->services[k].backends[x].local &&
					    m->services[k].backends[x].state ==
						    XLB_BE_ACTIVE)
						seen = true;
			}
			for (k = 0; k < j && !seen; k++)
				seen = !memcmp(&m->services[i].backends[k].addr,
					       &b->addr, sizeof(b->addr)) &&
				       m->services[i].backends[k].local &&
				       m->services[i].backends[k].state ==
					       XLB_BE_ACTIVE;
			n[b->family == XLB_AF_INET6] += !seen;
		}
	if (xlb_hc_set(port, e->key, n[0] > n[1] ? n[0] : n[1]))
		STAT_INC(errors);
}

static void set_names(struct svc_ent *e, const struct xlb_model *m)
{
	xlb_model_names(m, &e->names, &e->n_names);
}

static bool in_model(const struct xlb_model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_services; i++)
		if (!strcmp(m->services[i].name, name))
			return true;
	return false;
}

/* Moves the services of src to the end of dst. */
static int model_append(struct xlb_model *dst, struct xlb_model *src)
{
	struct xlb_model_service *v;

	if (!src->n_services)
		return 0;
	v = realloc(dst->services,
		    (dst->n_services + src->n_services + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v + dst->n_services, src->services,
	       src->n_services * sizeof(*v));
	dst->services = v;
	dst->n_services += src->n_services;
	free(src->services);
	src->services = NULL;
	src->n_services = 0;
	return 0;
}

/* Applies one or more dirty services in one partial apply. */
static void drop_conflicts(struct xlb_k8s *k, struct xlb_model *m,
			   bool owned);

static int apply_ents(struct xlb_k8s *k, struct svc_ent **v, size_t n,
		      struct xlb_model *ms)
{
	struct xlb_model up = { 0 };
	struct xlb_sync_result res;
	char err[768] = "", **rm;
	size_t i, j, n_rm = 0, total = 0;
	int rc;

	for (i = 0; i < n; i++)
		total += v[i]->n_names;
	rm = calloc(total + 1, sizeof(*rm));
	if (!rm)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct xlb_model copy = ms[i];

		for (j = 0; j < v[i]->n_names; j++)
			if (!in_model(&ms[i], v[i]->names[j]))
				rm[n_rm++] = v[i]->names[j];
		/* up borrows the services; ms keeps ownership */
		copy.services = malloc((copy.n_services + 1) * sizeof(*copy.services));
		if (!copy.services) {
			free(rm);
			free(up.services);
			return -ENOMEM;
		}
		memcpy(copy.services, ms[i].services,
		       copy.n_services * sizeof(*copy.services));
		model_append(&up, &copy);
		free(copy.services);	/* NULL once moved into up */
	}
	xlb_model_sort(&up);
	/* A frontend another Service has keeps its owner; the rest of
	 * these services is programmed (see drop_conflicts): first between
	 * the services of this change (a node change brings them all), then
	 * against those it leaves as they are. up only borrows the
	 * services: ms frees what drop_conflicts leaves out. */
	drop_conflicts(k, &up, false);
	for (i = 0; i < up.n_services; i++) {
		int taken = xlb_sync_strip_taken(k->sync, &up.services[i], &up,
						 rm, n_rm);

		while (taken-- > 0)
			xlb_metrics_count(XLB_METRICS_FRONTEND_CONFLICTS);
	}
	rc = xlb_sync_apply_partial(k->sync, &up, rm, n_rm, &res, err,
				    sizeof(err));
	STAT_INC(applies);
	if (rc) {
		if (n == 1) {
			pr_err("k8s: service %s: %s", v[0]->key, err);
			STAT_INC(errors);
		}
	} else {
		for (i = 0; i < n; i++)
			set_names(v[i], &ms[i]);
		pr_debug("k8s: %zu Services applied: %zu added, %zu updated, %zu removed; backends +%zu -%zu ~%zu",
			 n, res.added, res.updated, res.removed, res.be_added,
			 res.be_removed, res.be_changed);
	}
	free(up.services);	/* borrowed contents */
	free(rm);
	return rc;
}

static void flush_dirty(struct xlb_k8s *k)
{
	struct svc_ent **v;
	struct xlb_model *ms;
	size_t n, nd = 0, i;

	/* Only the Services the events touched: the cost of an event is
	 * its Service's, whatever the size of the cluster. */
	if (k->dirty_all) {
		v = (struct svc_ent **)xlb_htab_values(&k->svcs, &n);
		k->dirty_all = false;
	} else {
		v = k->dirty;
		n = k->n_dirty;
		k->dirty = NULL;
		k->cap_dirty = 0;
	}
	k->n_dirty = 0;
	if (!v)
		return;
	ms = calloc(n + 1, sizeof(*ms));
	for (i = 0; ms && i < n; i++) {
		if (!v[i]->dirty)
			continue;
		v[i]->dirty = false;
		if (translate_ent(k, v[i], &ms[nd]))
			STAT_INC(errors);
		v[nd++] = v[i];
	}
	/* All at once; if that is refused, one Service at a time so that
	 * one bad Service does not hold back the others. */
	if (nd && apply_ents(k, v, nd, ms) && nd > 1)
		for (i = 0; i < nd; i++)
			apply_ents(k, &v[i], 1, &ms[i]);
	for (i = 0; i < nd; i++) {
		xlb_model_free(&ms[i]);
		xlb_k8s_ent_gc(k, v[i]);
	}
	free(ms);
	free(v);
}

/* A frontend key for the conflict check: the NodePort by family, port
 * and protocol. */
static void fe_key(char *buf, size_t len, const struct xlb_vip_key *k,
		   const union xlb_addr *a, __u16 node_port)
{
	char ab[XLB_ADDR_STRLEN];

	if (node_port)
		snprintf(buf, len, "NodePort %u/%s (IPv%u)", node_port,
			 xlb_proto_str(k->proto), k->family);
	else
		snprintf(buf, len, k->family == XLB_AF_INET6 ? "[%s]:%u/%s" :
							       "%s:%u/%s",
			 xlb_addr_str(a, k->family, ab), ntohs(k->port),
			 xlb_proto_str(k->proto));
}

/* One frontend of a model service, for the conflict check. */
struct fe_ref {
	char key[96];
	struct xlb_vip_key vk;	/* the frontend (node_port: any address) */
	int kind;		/* XLB_FE_*: what to take out if it clashes */
	size_t idx;		/* which external or LB IP */
};

static size_t fe_refs(const struct xlb_model_service *s, struct fe_ref *r,
		      size_t max)
{
	size_t j, n = 0;

	r[n].vk = s->vip;
	r[n].kind = XLB_FE_CLUSTER_IP;
	fe_key(r[n++].key, sizeof(r->key), &s->vip, &s->vip.addr, 0);
	for (j = 0; j < s->n_external_ips && n < max - 1; j++, n++) {
		r[n].vk = s->vip;
		r[n].vk.addr = s->external_ips[j];
		r[n].kind = XLB_FE_EXTERNAL_IP;
		r[n].idx = j;
		fe_key(r[n].key, sizeof(r->key), &s->vip, &s->external_ips[j], 0);
	}
	for (j = 0; j < s->n_lb_ips && n < max - 1; j++, n++) {
		r[n].vk = s->vip;
		r[n].vk.addr = s->lb_ips[j];
		r[n].kind = XLB_FE_LOAD_BALANCER;
		r[n].idx = j;
		fe_key(r[n].key, sizeof(r->key), &s->vip, &s->lb_ips[j], 0);
	}
	if (s->node_port) {
		r[n].vk = s->vip;
		r[n].vk.port = htons(s->node_port);
		r[n].kind = XLB_FE_NODE_PORT;
		fe_key(r[n++].key, sizeof(r->key), &s->vip, NULL, s->node_port);
	}
	return n;
}

static void seen_claim(struct xlb_htab *seen, const char *key,
		       const char *name)
{
	char *o;

	if (xlb_htab_get(seen, key))
		return;
	o = strdup(name);
	if (o && xlb_htab_put(seen, key, o))
		free(o);
}

/* Takes the clashing external IPs, LB IPs and NodePort out of s (marked
 * in drop[]), keeping the order of the rest. */
static void strip_refs(struct xlb_model_service *s, const struct fe_ref *r,
		       const bool *drop, size_t n)
{
	size_t i, we = 0, wl = 0, j;

	for (j = 0; j < s->n_external_ips; j++) {
		for (i = 0; i < n; i++)
			if (drop[i] && r[i].kind == XLB_FE_EXTERNAL_IP &&
			    r[i].idx == j)
				break;
		if (i == n)
			s->external_ips[we++] = s->external_ips[j];
	}
	for (j = 0; j < s->n_lb_ips; j++) {
		for (i = 0; i < n; i++)
			if (drop[i] && r[i].kind == XLB_FE_LOAD_BALANCER &&
			    r[i].idx == j)
				break;
		if (i == n)
			s->lb_ips[wl++] = s->lb_ips[j];
	}
	s->n_external_ips = we;
	s->n_lb_ips = wl;
	for (i = 0; i < n; i++)
		if (drop[i] && r[i].kind == XLB_FE_NODE_PORT)
			s->node_port = 0;
}

/*
 * Two Services may ask for the same frontend (Kubernetes lets two share
 * an external IP and port); only one can have it. Its first owner keeps
 * it: the service that programs it now, else the earliest by name. The
 * other loses that frontend only, with a message and a count; its other
 * frontends are programmed. A service whose cluster IP clashes (which
 * the API server does not allow) is left out whole.
 */
static void drop_conflicts(struct xlb_k8s *k, struct xlb_model *m,
			   bool owned)
{
	struct xlb_htab seen = { 0 };
	struct fe_ref refs[64];
	bool drop[64];
	size_t i, j, w = 0, n, nr;
	void **owners;

	/* First the frontends each service already has. */
	for (i = 0; i < m->n_services; i++) {
		nr = fe_refs(&m->services[i], refs, 64);
		for (j = 0; j < nr; j++)
			if (xlb_sync_has_frontend(k->sync, m->services[i].name,
						  &refs[j].vk,
						  refs[j].kind == XLB_FE_NODE_PORT))
				seen_claim(&seen, refs[j].key,
					   m->services[i].name);
	}
	for (i = 0; i < m->n_services; i++) {
		struct xlb_model_service *s = &m->services[i];
		bool any = false;
		const char *o;

		nr = fe_refs(s, refs, 64);
		for (j = 0; j < nr; j++) {
			o = xlb_htab_get(&seen, refs[j].key);
			drop[j] = o && strcmp(o, s->name);
			if (!drop[j])
				continue;
			pr_err("k8s: service %s: frontend %s already used by service %s; left out%s",
			       s->name, refs[j].key, o,
			       j ? ", the rest of the service is programmed" : "");
			xlb_metrics_count(XLB_METRICS_FRONTEND_CONFLICTS);
			any = true;
		}
		if (drop[0]) {
			if (owned) {
				free(s->backends);
				free(s->external_ips);
				free(s->lb_ips);
				free(s->source_ranges);
				free(s->groups);
			}
			continue;
		}
		if (any)
			strip_refs(s, refs, drop, nr);
		for (j = 0; j < nr; j++)
			if (!drop[j])
				seen_claim(&seen, refs[j].key, s->name);
		m->services[w++] = *s;
	}
	m->n_services = w;
	owners = xlb_htab_values(&seen, &n);
	for (i = 0; owners && i < n; i++)
		free(owners[i]);
	free(owners);
	xlb_htab_free(&seen);
}

static int full_apply(struct xlb_k8s *k, const char *why)
{
	struct xlb_model all = { 0 }, *ms;
	struct xlb_sync_result res;
	struct svc_ent **v;
	char err[768] = "";
	uint64_t t0 = xlb_now_ns();
	size_t n, i, n_svc = 0, n_all = 0;
	int rc;

	v = (struct svc_ent **)xlb_htab_values(&k->svcs, &n);
	ms = calloc(n + 1, sizeof(*ms));
	if (!v || !ms) {
		free(v);
		free(ms);
		return -ENOMEM;
	}
	k->n_dirty = 0;
	k->dirty_all = false;
	for (i = 0; i < n; i++) {
		n_svc += !!v[i]->svc;
		v[i]->dirty = false;
		if (translate_ent(k, v[i], &ms[i]))
			STAT_INC(errors);
		set_names(v[i], &ms[i]);
	}
	/* One array for all: appended one Service at a time, it would be
	 * grown (and left behind) 100,000 times. */
	for (i = 0; i < n; i++)
		n_all += ms[i].n_services;
	all.services = malloc((n_all + 1) * sizeof(*all.services));
	if (!all.services) {
		for (i = 0; i < n; i++)
			xlb_model_free(&ms[i]);
		rc = -ENOMEM;
		pr_err("k8s: %s: no memory for %zu services", why, n_all);
		STAT_INC(errors);
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(all.services + all.n_services, ms[i].services,
		       ms[i].n_services * sizeof(*all.services));
		all.n_services += ms[i].n_services;
		free(ms[i].services);
		ms[i].services = NULL;
		ms[i].n_services = 0;
	}
	xlb_model_sort(&all);
	drop_conflicts(k, &all, true);
	rc = xlb_sync_apply(k->sync, &all, &res, err, sizeof(err));
	if (rc) {
		pr_err("k8s: %s: %s", why, err);
		STAT_INC(errors);
	} else {
		pr_info("k8s: %s: %zu Services, %zu EndpointSlices -> %zu services; %zu added, %zu updated, %zu removed, %zu unchanged in %.1f ms",
			why, n_svc, k->slices.n, all.n_services, res.added,
			res.updated, res.removed, res.unchanged,
			(xlb_now_ns() - t0) / 1e6);
	}
out:
	for (i = 0; i < n; i++)
		xlb_k8s_ent_gc(k, v[i]);
	xlb_model_free(&all);
	free(ms);
	free(v);
	return rc;
}

int xlb_k8s_resync(struct xlb_k8s *k, const char *why)
{
	/* Before the first sync the cache is partial: wait for it. */
	return k->synced ? full_apply(k, why) : 0;
}

static void observe(double ms)
{
	size_t b;

	for (b = 0; b < XLB_K8S_HIST_BUCKETS; b++)
		if (ms <= xlb_k8s_hist_bounds_ms[b])
			break;
	__atomic_fetch_add(&xlb_k8s_counters.hist[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&xlb_k8s_counters.hist_count, 1, __ATOMIC_RELAXED);
	xlb_k8s_counters.hist_sum_ms += ms;
	xlb_metrics_observe_sync(ms / 1e3);
}

int xlb_k8s_process(struct xlb_k8s *k)
{
	struct kev *ev, *next;
	uint64_t v, now;
	size_t i;
	int first = 0;

	if (read(k->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&k->lock);
	ev = k->head;
	k->head = NULL;
	k->tail = &k->head;
	pthread_mutex_unlock(&k->lock);
	k->n_lat = 0;
	for (; ev; ev = next) {
		next = ev->next;
		xlb_k8s_handle_event(k, ev);
		free(ev);
	}
	if (!k->synced) {
		if (!k->listed[RES_SVC] || !k->listed[RES_SLICE] ||
		    !k->listed[RES_NODE])
			return 0;
		if (full_apply(k, "first sync"))
			return 0;	/* tried again on the next event */
		k->synced = true;
		__atomic_store_n(&synced, true, __ATOMIC_RELEASE);
		first = 1;
	} else {
		flush_dirty(k);
	}
	now = xlb_now_ns();
	for (i = 0; i < k->n_lat; i++)
		observe((now - k->lat_t[i]) / 1e6);
	if (k->n_lat)
		pr_debug("k8s: %zu events in the maps %.3f ms after the first arrived",
			 k->n_lat, (now - k->lat_t[0]) / 1e6);
	return first;
}
