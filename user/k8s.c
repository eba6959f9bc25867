// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Watch threads, event queue, object cache and incremental apply.
 *
 * Each resource (Services, EndpointSlices, this Node) has a thread that
 * lists it (paginated with limit/continue), then watches from the
 * list's resourceVersion, keeping the newest one seen in events and
 * bookmarks. A watch that ends cleanly resumes from it; one that fails
 * is re-opened from it after a backoff (1 s doubling to 30 s, with
 * jitter, back to 1 s once a watch stayed up for a while); a 410 Gone
 * (HTTP status or ERROR event) means the version is too old: the thread
 * lists again, and the main thread diffs that list against the cache,
 * which brings back the deletes and changes the watch missed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "k8s.h"
#include "metrics.h"
#include "healthcheck.h"
#include "k8s_translate.h"
#include "log.h"
#include "util.h"

#define LIST_LIMIT 500
#define LIST_TIMEOUT_S 60
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define HEALTHY_NS (10ULL * 1000000000ULL)

const double xlb_k8s_hist_bounds_ms[XLB_K8S_HIST_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250
};

static struct xlb_k8s_stats stats;
static bool synced;

const struct xlb_k8s_stats *xlb_k8s_stats(void)
{
	return &stats;
}

bool xlb_k8s_synced(void)
{
	return __atomic_load_n(&synced, __ATOMIC_ACQUIRE);
}

/* The counters /metrics shows as well (xlb_metrics_count is locked). */
static void stat_metric(const uint64_t *field)
{
	if (field == &stats.errors)
		xlb_metrics_count(XLB_METRICS_WATCH_ERRORS);
	else if (field == &stats.relists)
		xlb_metrics_count(XLB_METRICS_RELISTS);
	else if (field == &stats.watch_restarts)
		xlb_metrics_count(XLB_METRICS_WATCH_RESTARTS);
}

#define STAT_INC(f)                                                        \
	(__atomic_fetch_add(&stats.f, 1, __ATOMIC_RELAXED),                \
	 stat_metric(&stats.f))

enum res { RES_SVC, RES_SLICE, RES_NODE, RES_N };
static const char *const res_name[RES_N] = { "services", "endpointslices",
					     "node" };

enum ev_type { EV_ADDED, EV_MODIFIED, EV_DELETED, EV_LIST };

struct kev {
	struct kev *next;
	enum res res;
	enum ev_type type;
	cJSON *obj;		/* the object, or for EV_LIST an array */
	uint64_t t;		/* arrival, CLOCK_MONOTONIC ns */
};

/* ---- a small string-keyed hash table -------------------------------------- */

struct hent {
	struct hent *next;
	char *key;
	void *val;
};

struct htab {
	struct hent **b;
	size_t nb, n;
};

static size_t hstr(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct hent **ht_slot(struct htab *t, const char *key)
{
	struct hent **p;

	if (!t->nb)
		return NULL;
	for (p = &t->b[hstr(key) % t->nb]; *p; p = &(*p)->next)
		if (!strcmp((*p)->key, key))
			return p;
	return p;
}

static void *ht_get(struct htab *t, const char *key)
{
	struct hent **p = ht_slot(t, key);

	return p && *p ? (*p)->val : NULL;
}

static int ht_grow(struct htab *t)
{
	size_t nb = t->nb ? t->nb * 4 : 256, i;
	struct hent **b = calloc(nb, sizeof(*b)), *e, *n;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = n) {
			n = e->next;
			e->next = b[hstr(e->key) % nb];
			b[hstr(e->key) % nb] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

static int ht_put(struct htab *t, const char *key, void *val)
{
	struct hent **p, *e;

	if (t->n >= t->nb * 2 && ht_grow(t))
		return -ENOMEM;
	p = ht_slot(t, key);
	if (*p) {
		(*p)->val = val;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		return -ENOMEM;
	}
	e->val = val;
	*p = e;
	t->n++;
	return 0;
}

static void *ht_del(struct htab *t, const char *key)
{
	struct hent **p = ht_slot(t, key), *e;
	void *v;

	if (!p || !*p)
		return NULL;
	e = *p;
	*p = e->next;
	v = e->val;
	free(e->key);
	free(e);
	t->n--;
	return v;
}

/* Values in an array (valid until the table changes). */
static void **ht_values(struct htab *t, size_t *n)
{
	void **v = calloc(t->n + 1, sizeof(*v));
	struct hent *e;
	size_t i, k = 0;

	if (!v)
		return NULL;
	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = e->next)
			v[k++] = e->val;
	*n = k;
	return v;
}

static void ht_free(struct htab *t)
{
	struct hent *e, *n;
	size_t i;

	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = n) {
			n = e->next;
			free(e->key);
			free(e);
		}
	free(t->b);
	memset(t, 0, sizeof(*t));
}

/* ---- the cache --------------------------------------------------------------- */

struct slice_ent;

struct svc_ent {
	char key[XLB_K8S_KEY_LEN];	/* namespace/name */
	cJSON *svc;			/* NULL: not seen (or deleted) */
	struct slice_ent **slices;	/* slices naming it */
	size_t n_slices, cap_slices;
	char **names;			/* xlb services it has programmed */
	size_t n_names;
	__u16 hc_port;			/* healthCheckNodePort served */
	unsigned gen;			/* list generation of svc */
	bool dirty;
};

struct slice_ent {
	char key[XLB_K8S_KEY_LEN];
	char svc_key[XLB_K8S_KEY_LEN];	/* "" when it names no Service */
	cJSON *obj;
	unsigned gen;
};

struct watcher {
	struct xlb_k8s *k;
	enum res res;
	char *path;		/* collection path, maybe with a selector */
	pthread_t th;
	bool started;
	/* thread-private */
	char rv[64];
	bool expired, failed;
	int failures;		/* in a row, for the backoff */
	uint64_t last_fail_ns;
	char err[512];
};

struct xlb_k8s {
	struct xlb_k8s_auth auth;
	struct xlb_sync *sync;
	char *node_name;
	int efd;
	volatile int stop;
	pthread_mutex_t lock;	/* queue, stop_cond */
	pthread_cond_t stop_cond;
	struct kev *head, **tail;
	struct watcher w[RES_N];
	/* main thread only */
	struct htab svcs, slices;
	cJSON *node;
	char *zone;
	bool listed[RES_N];
	struct svc_ent **dirty;	/* Services to translate and apply */
	size_t n_dirty, cap_dirty;
	bool dirty_all;		/* the list could not grow: look at all */
	unsigned gen;
	bool synced;
	uint64_t *lat_t;	/* arrival times of the events being applied */
	size_t n_lat, cap_lat;
};

static struct svc_ent *svc_get(struct xlb_k8s *k, const char *key, bool create)
{
	struct svc_ent *e = ht_get(&k->svcs, key);

	if (e || !create)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->key, sizeof(e->key), "%s", key);
	if (ht_put(&k->svcs, key, e)) {
		free(e);
		return NULL;
	}
	return e;
}

static void mark_dirty(struct xlb_k8s *k, struct svc_ent *e)
{
	if (e->dirty)
		return;
	e->dirty = true;
	if (k->n_dirty == k->cap_dirty) {
		size_t cap = k->cap_dirty ? k->cap_dirty * 2 : 64;
		struct svc_ent **v = realloc(k->dirty, cap * sizeof(*v));

		if (!v) {
			k->dirty_all = true;
			return;
		}
		k->dirty = v;
		k->cap_dirty = cap;
	}
	k->dirty[k->n_dirty++] = e;
}

static void svc_detach_slice(struct xlb_k8s *k, struct slice_ent *se)
{
	struct svc_ent *e;
	size_t i;

	if (!se->svc_key[0])
		return;
	e = svc_get(k, se->svc_key, false);
	se->svc_key[0] = '\0';
	if (!e)
		return;
	for (i = 0; i < e->n_slices; i++)
		if (e->slices[i] == se) {
			e->slices[i] = e->slices[--e->n_slices];
			break;
		}
	mark_dirty(k, e);
}

static int svc_attach_slice(struct xlb_k8s *k, struct slice_ent *se,
			    const char *svc_key)
{
	struct svc_ent *e = svc_get(k, svc_key, true);

	if (!e)
		return -ENOMEM;
	if (e->n_slices == e->cap_slices) {
		size_t cap = e->cap_slices ? e->cap_slices * 2 : 4;
		struct slice_ent **v = realloc(e->slices, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->slices = v;
		e->cap_slices = cap;
	}
	e->slices[e->n_slices++] = se;
	snprintf(se->svc_key, sizeof(se->svc_key), "%s", svc_key);
	mark_dirty(k, e);
	return 0;
}

/* Takes obj. Returns 1 if the cache changed. */
static int upsert_svc(struct xlb_k8s *k, cJSON *obj)
{
	char key[XLB_K8S_KEY_LEN];
	struct svc_ent *e;

	if (xlb_k8s_obj_key(obj, key, sizeof(key)) ||
	    !(e = svc_get(k, key, true))) {
		cJSON_Delete(obj);
		return 0;
	}
	e->gen = k->gen;
	if (e->svc && !strcmp(xlb_k8s_obj_rv(e->svc), xlb_k8s_obj_rv(obj)) &&
	    xlb_k8s_obj_rv(obj)[0]) {
		cJSON_Delete(obj);
		return 0;
	}
	cJSON_Delete(e->svc);
	e->svc = obj;
	mark_dirty(k, e);
	return 1;
}

static int delete_svc(struct xlb_k8s *k, const char *key)
{
	struct svc_ent *e = svc_get(k, key, false);

	if (!e || !e->svc)
		return 0;
	cJSON_Delete(e->svc);
	e->svc = NULL;
	mark_dirty(k, e);
	return 1;
}

static int upsert_slice(struct xlb_k8s *k, cJSON *obj)
{
	char key[XLB_K8S_KEY_LEN], skey[XLB_K8S_KEY_LEN] = "";
	struct slice_ent *se;

	if (xlb_k8s_obj_key(obj, key, sizeof(key))) {
		cJSON_Delete(obj);
		return 0;
	}
	xlb_k8s_slice_service_key(obj, skey, sizeof(skey));
	se = ht_get(&k->slices, key);
	if (se) {
		se->gen = k->gen;
		if (!strcmp(se->svc_key, skey) && xlb_k8s_obj_rv(obj)[0] &&
		    !strcmp(xlb_k8s_obj_rv(se->obj), xlb_k8s_obj_rv(obj))) {
			cJSON_Delete(obj);
			return 0;
		}
	} else {
		se = calloc(1, sizeof(*se));
		if (!se || ht_put(&k->slices, key, se)) {
			free(se);
			cJSON_Delete(obj);
			return 0;
		}
		snprintf(se->key, sizeof(se->key), "%s", key);
		se->gen = k->gen;
	}
	cJSON_Delete(se->obj);
	se->obj = obj;
	if (strcmp(se->svc_key, skey)) {
		svc_detach_slice(k, se);
		if (skey[0])
			svc_attach_slice(k, se, skey);
	} else if (skey[0]) {
		struct svc_ent *e = svc_get(k, skey, false);

		if (e)
			mark_dirty(k, e);
	}
	return 1;
}

static int delete_slice(struct xlb_k8s *k, const char *key)
{
	struct slice_ent *se = ht_del(&k->slices, key);

	if (!se)
		return 0;
	svc_detach_slice(k, se);
	cJSON_Delete(se->obj);
	free(se);
	return 1;
}

static void set_node(struct xlb_k8s *k, cJSON *obj)
{
	const char *z = obj ? xlb_k8s_node_zone(obj) : NULL;
	bool changed = (z == NULL) != (k->zone == NULL) ||
		       (z && strcmp(z, k->zone));

	if (changed) {
		size_t n, i;
		struct svc_ent **v = (struct svc_ent **)ht_values(&k->svcs, &n);

		pr_info("k8s: node %s: zone %s", k->node_name, z ? z : "(none)");
		free(k->zone);
		k->zone = z ? strdup(z) : NULL;
		for (i = 0; v && i < n; i++)
			mark_dirty(k, v[i]);
		free(v);
	}
	cJSON_Delete(k->node);
	k->node = obj;
}

/* A full list: the new truth for that resource. Whatever the cache holds
 * that the list does not is deleted; changed objects are replaced. */
static void apply_list(struct xlb_k8s *k, enum res res, cJSON *items)
{
	size_t n_add = 0, n_del = 0, n, i;
	cJSON *it;
	void **v;

	k->gen++;
	if (res == RES_NODE) {
		it = cJSON_DetachItemFromArray(items, 0);
		if (!it && !k->listed[res])
			pr_warn("k8s: node %s: no such Node; no zone, topology hints ignored",
				k->node_name);
		set_node(k, it);
		cJSON_Delete(items);
		k->listed[res] = true;
		return;
	}
	while ((it = cJSON_DetachItemFromArray(items, 0)))
		n_add += res == RES_SVC ? upsert_svc(k, it) :
					  upsert_slice(k, it);
	cJSON_Delete(items);
	if (res == RES_SVC) {
		v = ht_values(&k->svcs, &n);
		for (i = 0; v && i < n; i++) {
			struct svc_ent *e = v[i];

			if (e->svc && e->gen != k->gen)
				n_del += delete_svc(k, e->key);
		}
	} else {
		v = ht_values(&k->slices, &n);
		for (i = 0; v && i < n; i++) {
			struct slice_ent *se = v[i];

			if (se->gen != k->gen)
				n_del += delete_slice(k, se->key);
		}
	}
	free(v);
	if (k->listed[res])
		pr_info("k8s: %s listed again: %zu changed or new, %zu gone while unwatched",
			res_name[res], n_add, n_del);
	k->listed[res] = true;
}

static void handle_event(struct xlb_k8s *k, struct kev *ev)
{
	char key[XLB_K8S_KEY_LEN];

	if (ev->type == EV_LIST) {
		apply_list(k, ev->res, ev->obj);
		return;
	}
	if (k->n_lat == k->cap_lat) {
		size_t cap = k->cap_lat ? k->cap_lat * 2 : 64;
		uint64_t *v = realloc(k->lat_t, cap * sizeof(*v));

		if (v) {
			k->lat_t = v;
			k->cap_lat = cap;
		}
	}
	if (k->n_lat < k->cap_lat)
		k->lat_t[k->n_lat++] = ev->t;
	STAT_INC(events);
	if (ev->res == RES_NODE) {
		set_node(k, ev->type == EV_DELETED ? NULL : ev->obj);
		if (ev->type == EV_DELETED)
			cJSON_Delete(ev->obj);
		return;
	}
	if (ev->type == EV_DELETED) {
		if (!xlb_k8s_obj_key(ev->obj, key, sizeof(key))) {
			if (ev->res == RES_SVC)
				delete_svc(k, key);
			else
				delete_slice(k, key);
		}
		cJSON_Delete(ev->obj);
		return;
	}
	if (ev->res == RES_SVC)
		upsert_svc(k, ev->obj);
	else
		upsert_slice(k, ev->obj);
}

/* ---- translate and apply ---------------------------------------------------- */

static void update_hc(struct svc_ent *e, const struct xlb_model *m);

static int translate_ent(struct xlb_k8s *k, struct svc_ent *e,
			 struct xlb_model *m)
{
	struct xlb_k8s_node_info ni = { k->node_name, k->zone };
	const cJSON **sl;
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
	rc = xlb_k8s_translate(e->svc, sl, e->n_slices, &ni, m, &n_warn, err,
			       sizeof(err));
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
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(e->svc, "spec");
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(spec, "healthCheckNodePort");
	const cJSON *etp = cJSON_GetObjectItemCaseSensitive(spec, "externalTrafficPolicy");
	__u16 port = 0;
	__u32 n = 0;
	size_t i, j, k;

	if (e->svc && !xlb_k8s_svc_skip_reason(e->svc) && cJSON_IsNumber(hp) &&
	    hp->valueint > 0 && hp->valueint < 65536 && cJSON_IsString(etp) &&
	    !strcmp(etp->valuestring, "Local"))
		port = hp->valueint;
	if (e->hc_port && e->hc_port != port)
		xlb_hc_remove(e->hc_port);
	e->hc_port = port;
	if (!port)
		return;
	/* Distinct ready local endpoint addresses over all its ports. */
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
			n += !seen;
		}
	if (xlb_hc_set(port, e->key, n))
		STAT_INC(errors);
}

static void set_names(struct svc_ent *e, const struct xlb_model *m)
{
	size_t i;

	for (i = 0; i < e->n_names; i++)
		free(e->names[i]);
	free(e->names);
	e->names = calloc(m->n_services + 1, sizeof(*e->names));
	e->n_names = 0;
	for (i = 0; e->names && i < m->n_services; i++)
		e->names[e->n_names++] = strdup(m->services[i].name);
}

static bool in_model(const struct xlb_model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_services; i++)
		if (!strcmp(m->services[i].name, name))
			return true;
	return false;
}

static void ent_gc(struct xlb_k8s *k, struct svc_ent *e)
{
	size_t i;

	if (e->svc || e->n_slices || e->n_names)
		return;
	ht_del(&k->svcs, e->key);
	for (i = 0; i < e->n_names; i++)
		free(e->names[i]);
	free(e->names);
	free(e->slices);
	free(e);
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
		v = (struct svc_ent **)ht_values(&k->svcs, &n);
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
		ent_gc(k, v[i]);
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
		snprintf(buf, len, "np/%u/%u/%u", k->family, node_port, k->proto);
	else
		snprintf(buf, len, "%s/%u/%u", xlb_addr_str(a, k->family, ab),
			 ntohs(k->port), k->proto);
}

/* Drops (with a message) every service whose frontend another,
 * earlier-named service already has: Kubernetes does not allow this,
 * but one such pair must not keep every other Service out. */
static void drop_conflicts(struct xlb_model *m)
{
	struct htab seen = { 0 };
	size_t i, j, k = 0, n;
	void **owners;

	for (i = 0; i < m->n_services; i++) {
		struct xlb_model_service *s = &m->services[i];
		const char *clash = NULL;
		char keys[64][96];
		size_t nk = 0;

		fe_key(keys[nk++], sizeof(keys[0]), &s->vip, &s->vip.addr, 0);
		for (j = 0; j < s->n_external_ips && nk < 62; j++)
			fe_key(keys[nk++], sizeof(keys[0]), &s->vip,
			       &s->external_ips[j], 0);
		for (j = 0; j < s->n_lb_ips && nk < 62; j++)
			fe_key(keys[nk++], sizeof(keys[0]), &s->vip,
			       &s->lb_ips[j], 0);
		if (s->node_port)
			fe_key(keys[nk++], sizeof(keys[0]), &s->vip, NULL,
			       s->node_port);
		for (j = 0; j < nk && !clash; j++)
			clash = ht_get(&seen, keys[j]);
		if (clash) {
			pr_err("k8s: service %s: a frontend is already used by service %s; left out",
			       s->name, clash);
			STAT_INC(errors);
			free(s->backends);
			free(s->external_ips);
			free(s->lb_ips);
			free(s->source_ranges);
			free(s->groups);
			continue;
		}
		for (j = 0; j < nk; j++) {
			char *o;

			if (ht_get(&seen, keys[j]))
				continue;	/* repeated within s */
			o = strdup(s->name);
			if (o && ht_put(&seen, keys[j], o))
				free(o);
		}
		m->services[k++] = *s;
	}
	m->n_services = k;
	owners = ht_values(&seen, &n);
	for (i = 0; owners && i < n; i++)
		free(owners[i]);
	free(owners);
	ht_free(&seen);
}

static int full_apply(struct xlb_k8s *k, const char *why)
{
	struct xlb_model all = { 0 }, *ms;
	struct xlb_sync_result res;
	struct svc_ent **v;
	char err[768] = "";
	uint64_t t0 = xlb_now_ns();
	size_t n, i, n_svc = 0;
	int rc;

	v = (struct svc_ent **)ht_values(&k->svcs, &n);
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
	for (i = 0; i < n; i++)
		model_append(&all, &ms[i]);
	xlb_model_sort(&all);
	drop_conflicts(&all);
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
	for (i = 0; i < n; i++)
		ent_gc(k, v[i]);
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
	__atomic_fetch_add(&stats.hist[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&stats.hist_count, 1, __ATOMIC_RELAXED);
	stats.hist_sum_ms += ms;
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
		handle_event(k, ev);
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

int xlb_k8s_fd(const struct xlb_k8s *k)
{
	return k->efd;
}

/* ---- the watch threads --------------------------------------------------- */

static void push(struct xlb_k8s *k, enum res res, enum ev_type type,
		 cJSON *obj)
{
	struct kev *ev = calloc(1, sizeof(*ev));
	uint64_t one = 1;

	if (!ev) {
		cJSON_Delete(obj);
		return;
	}
	ev->res = res;
	ev->type = type;
	ev->obj = obj;
	ev->t = xlb_now_ns();
	pthread_mutex_lock(&k->lock);
	*k->tail = ev;
	k->tail = &ev->next;
	pthread_mutex_unlock(&k->lock);
	if (write(k->efd, &one, sizeof(one)) < 0)
		pr_debug("k8s: eventfd: %s", strerror(errno));
}

/* Sleeps ms or until stopped; returns true if stopped. */
static bool nap(struct xlb_k8s *k, long ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&k->lock);
	while (!k->stop &&
	       pthread_cond_timedwait(&k->stop_cond, &k->lock, &ts) == 0)
		;
	stop = k->stop;
	pthread_mutex_unlock(&k->lock);
	return stop;
}

/* One more failure; a healthy period (no failure for a while) before
 * it starts the backoff again from its shortest wait. */
static void failed_once(struct watcher *w)
{
	uint64_t now = xlb_now_ns();

	if (now - w->last_fail_ns > HEALTHY_NS)
		w->failures = 0;
	w->failures++;
	w->last_fail_ns = now;
}

/* Waits before the next attempt after a failure; false if stopped. */
static bool backoff(struct watcher *w, unsigned *seed)
{
	long ms = BACKOFF_MIN_MS;
	int i;

	for (i = 1; i < w->failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* jitter: up to +25%, within the maximum */
	ms += rand_r(seed) % (ms / 4 + 1);
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	pr_info("k8s: %s: %s; retrying in %.1f s", res_name[w->res], w->err,
		ms / 1000.0);
	return !nap(w->k, ms);
}

/* The message of a Status body, for logs. */
static void status_msg(const struct xlb_k8s_resp *r, char *buf, size_t len)
{
	cJSON *j = r->body ? cJSON_Parse(r->body) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	snprintf(buf, len, "%s", cJSON_IsString(m) ? m->valuestring :
				 r->body ? r->body : "");
	cJSON_Delete(j);
}

/* Classifies a failed request into w->err / expired; returns true if
 * the caller should retry at once (a 401 answered by re-reading the
 * token). */
static bool request_failed(struct watcher *w, int rc,
			   const struct xlb_k8s_resp *r, const char *what,
			   bool *retried_401)
{
	char msg[256];

	if (rc) {
		snprintf(w->err, sizeof(w->err), "%s: %s", what, r->curl_err);
		failed_once(w);
		STAT_INC(errors);
		return false;
	}
	status_msg(r, msg, sizeof(msg));
	if (r->status == 410) {
		w->expired = true;
		snprintf(w->err, sizeof(w->err), "%s: 410 Gone: %s", what, msg);
		return false;
	}
	STAT_INC(errors);
	snprintf(w->err, sizeof(w->err), "%s: HTTP %ld: %s", what, r->status,
		 msg);
	if (r->status == 401 && w->k->auth.token_file) {
		/* The token may have been rotated: read it again before
		 * the next attempt; the first time, at once. */
		xlb_k8s_auth_token_expire(&w->k->auth);
		pr_info("k8s: %s: 401 Unauthorized: reading the token again",
			res_name[w->res]);
		if (!*retried_401) {
			*retried_401 = true;
			return true;
		}
	}
	failed_once(w);
	return false;
}

static char *with_query(const char *path, const char *q)
{
	char *s;

	if (asprintf(&s, "%s%c%s", path, strchr(path, '?') ? '&' : '?', q) < 0)
		return NULL;
	return s;
}

/* Lists every page; pushes one EV_LIST. 0, or -1 with w->err set. */
static int do_list(struct watcher *w, bool *retried_401)
{
	cJSON *all = cJSON_CreateArray(), *page = NULL;
	char q[1024], *cont = NULL, *url = NULL, list_rv[64] = "";
	struct xlb_k8s_resp r;
	int rc, pages = 0;

	for (;;) {
		cJSON *items, *md, *it;
		const cJSON *c, *rv;
		char *esc = NULL;

		if (cont) {
			esc = curl_easy_escape(NULL, cont, 0);
			snprintf(q, sizeof(q), "limit=%d&continue=%s", LIST_LIMIT,
				 esc ? esc : "");
			curl_free(esc);
		} else {
			snprintf(q, sizeof(q), "limit=%d", LIST_LIMIT);
		}
		url = with_query(w->path, q);
		rc = url ? xlb_k8s_get(&w->k->auth, url, LIST_TIMEOUT_S,
				       &w->k->stop, &r) : -ENOMEM;
		free(url);
		if (rc == -ECANCELED)
			goto fail;
		if (!rc && r.status == 410 && cont) {
			/* The continue token expired: list from the start. */
			pr_info("k8s: %s: list: continue token expired; listing from the start",
				res_name[w->res]);
			xlb_k8s_resp_free(&r);
			free(cont);
			cont = NULL;
			cJSON_Delete(all);
			all = cJSON_CreateArray();
			if (++pages > 1000)
				goto fail;
			continue;
		}
		if (rc || r.status != 200) {
			if (request_failed(w, rc, &r, "list", retried_401)) {
				xlb_k8s_resp_free(&r);
				free(cont);
				cont = NULL;
				cJSON_Delete(all);
				all = cJSON_CreateArray();
				continue;
			}
			xlb_k8s_resp_free(&r);
			goto fail;
		}
		*retried_401 = false;
		page = cJSON_ParseWithLength(r.body, r.len);
		xlb_k8s_resp_free(&r);
		items = cJSON_GetObjectItemCaseSensitive(page, "items");
		md = cJSON_GetObjectItemCaseSensitive(page, "metadata");
		rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
		if (!page || (!cJSON_IsArray(items) && !cJSON_IsNull(items) &&
			      items) || !cJSON_IsString(rv)) {
			snprintf(w->err, sizeof(w->err),
				 "list: not a list (no items or metadata.resourceVersion)");
			STAT_INC(errors);
			failed_once(w);
			goto fail;
		}
		while (cJSON_IsArray(items) &&
		       (it = cJSON_DetachItemFromArray(items, 0)))
			cJSON_AddItemToArray(all, it);
		snprintf(list_rv, sizeof(list_rv), "%s", rv->valuestring);
		pages++;
		free(cont);
		cont = NULL;
		c = cJSON_GetObjectItemCaseSensitive(md, "continue");
		if (cJSON_IsString(c) && c->valuestring[0])
			cont = strdup(c->valuestring);
		cJSON_Delete(page);
		page = NULL;
		if (!cont)
			break;
		if (w->k->stop)
			goto fail;
	}
	/* Only a whole list gives a version to watch from. */
	snprintf(w->rv, sizeof(w->rv), "%s", list_rv);
	pr_debug("k8s: %s: listed %d objects in %d pages at resourceVersion %s",
		 res_name[w->res], cJSON_GetArraySize(all), pages, w->rv);
	push(w->k, w->res, EV_LIST, all);
	return 0;
fail:
	cJSON_Delete(page);
	cJSON_Delete(all);
	free(cont);
	return -1;
}

static int on_watch_line(char *line, size_t len, void *ctx)
{
	struct watcher *w = ctx;
	cJSON *j = cJSON_ParseWithLength(line, len), *obj;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	char t[16];
	enum ev_type et;

	snprintf(t, sizeof(t), "%s", cJSON_IsString(type) ? type->valuestring : "");

	obj = cJSON_DetachItemViaPointer(j, cJSON_GetObjectItemCaseSensitive(j, "object"));
	if (!j || !obj) {
		snprintf(w->err, sizeof(w->err), "watch: not an event: %.80s", line);
		STAT_INC(errors);
		w->failed = true;
		cJSON_Delete(j);
		cJSON_Delete(obj);
		return 1;
	}
	cJSON_Delete(j);
	if (!strcmp(t, "ERROR")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "message");

		if (cJSON_IsNumber(code) && code->valueint == 410) {
			w->expired = true;
		} else {
			w->failed = true;
			STAT_INC(errors);
		}
		snprintf(w->err, sizeof(w->err), "watch: ERROR %d: %s",
			 cJSON_IsNumber(code) ? code->valueint : 0,
			 cJSON_IsString(msg) ? msg->valuestring : "");
		cJSON_Delete(obj);
		return 1;
	}
	if (xlb_k8s_obj_rv(obj)[0])
		snprintf(w->rv, sizeof(w->rv), "%s", xlb_k8s_obj_rv(obj));
	if (!strcmp(t, "BOOKMARK")) {
		pr_debug("k8s: %s: bookmark at %s", res_name[w->res], w->rv);
		cJSON_Delete(obj);
		return 0;
	}
	if (!strcmp(t, "ADDED"))
		et = EV_ADDED;
	else if (!strcmp(t, "MODIFIED"))
		et = EV_MODIFIED;
	else if (!strcmp(t, "DELETED"))
		et = EV_DELETED;
	else {
		pr_warn("k8s: %s: watch event type \"%s\" ignored",
			res_name[w->res], t);
		cJSON_Delete(obj);
		return 0;
	}
	push(w->k, w->res, et, obj);
	return 0;
}

static void *watch_thread(void *p)
{
	struct watcher *w = p;
	struct xlb_k8s *k = w->k;
	unsigned seed = (unsigned)xlb_now_ns() ^ (w->res * 7919);
	bool listed = false, retried_401 = false;

	while (!k->stop) {
		struct xlb_k8s_resp r;
		uint64_t t0;
		char q[256], *url;
		long tmo;
		int rc;

		if (!w->rv[0]) {
			if (listed)
				STAT_INC(relists);
			if (do_list(w, &retried_401)) {
				if (k->stop || !backoff(w, &seed))
					break;
				continue;
			}
			listed = true;
		}
		/* A watch lasts 5-10 minutes, as client-go's do. */
		tmo = 300 + rand_r(&seed) % 300;
		snprintf(q, sizeof(q),
			 "watch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%ld",
			 w->rv, tmo);
		url = with_query(w->path, q);
		if (!url)
			break;
		w->expired = w->failed = false;
		t0 = xlb_now_ns();
		rc = xlb_k8s_stream(&k->auth, url, tmo + 30, &k->stop,
				    on_watch_line, w, &r);
		free(url);
		if (rc == -ECANCELED) {
			xlb_k8s_resp_free(&r);
			break;
		}
		if (!rc && r.status == 200)
			retried_401 = false;
		if (xlb_now_ns() - t0 > HEALTHY_NS)
			w->failures = 0;	/* it stayed up a while */
		STAT_INC(watch_restarts);
		if (rc || r.status != 200) {
			bool again = request_failed(w, rc, &r, "watch",
						    &retried_401);

			xlb_k8s_resp_free(&r);
			if (again)
				continue;
		} else {
			xlb_k8s_resp_free(&r);
			if (w->failed)
				failed_once(w);
			else if (!w->expired) {
				/* Ended cleanly: go on from the last
				 * version seen. */
				w->failures = 0;
				pr_debug("k8s: %s: watch ended; resuming at %s",
					 res_name[w->res], w->rv);
				continue;
			}
		}
		if (w->expired) {
			pr_info("k8s: %s: %s; listing again", res_name[w->res],
				w->err);
			w->rv[0] = '\0';
			continue;
		}
		if (!backoff(w, &seed))
			break;
	}
	return NULL;
}

int xlb_k8s_start(struct xlb_k8s **out, struct xlb_k8s_auth *auth,
		  const char *node_name, struct xlb_sync *sync)
{
	static const char *const paths[RES_N] = {
		"/api/v1/services",
		"/apis/discovery.k8s.io/v1/endpointslices",
		"/api/v1/nodes?fieldSelector=metadata.name%3D",
	};
	struct xlb_k8s *k;
	int i, rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->auth = *auth;
	pthread_mutex_init(&k->auth.lock, NULL);
	memset(auth, 0, sizeof(*auth));
	k->sync = sync;
	k->node_name = strdup(node_name);
	k->tail = &k->head;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->stop_cond, NULL);
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0) {
		rc = -errno;
		goto fail;
	}
	for (i = 0; i < RES_N; i++) {
		struct watcher *w = &k->w[i];
		char *esc = NULL;

		w->k = k;
		w->res = i;
		if (i == RES_NODE) {
			esc = curl_easy_escape(NULL, node_name, 0);
			if (!esc || asprintf(&w->path, "%s%s", paths[i], esc) < 0)
				w->path = NULL;
			curl_free(esc);
		} else {
			w->path = strdup(paths[i]);
		}
		if (!w->path) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	for (i = 0; i < RES_N; i++) {
		rc = -pthread_create(&k->w[i].th, NULL, watch_thread, &k->w[i]);
		if (rc)
			goto fail;
		k->w[i].started = true;
	}
	pr_info("k8s: watching %s as node %s", k->auth.server, node_name);
	*out = k;
	return 0;
fail:
	xlb_k8s_stop(k);
	return rc;
}

void xlb_k8s_stop(struct xlb_k8s *k)
{
	struct kev *ev, *next;
	struct svc_ent **v;
	size_t n, i, j;
	int r;

	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	k->stop = 1;
	pthread_cond_broadcast(&k->stop_cond);
	pthread_mutex_unlock(&k->lock);
	for (r = 0; r < RES_N; r++) {
		if (k->w[r].started)
			pthread_join(k->w[r].th, NULL);
		free(k->w[r].path);
	}
	for (ev = k->head; ev; ev = next) {
		next = ev->next;
		cJSON_Delete(ev->obj);
		free(ev);
	}
	v = (struct svc_ent **)ht_values(&k->svcs, &n);
	for (i = 0; v && i < n; i++) {
		if (v[i]->hc_port)
			xlb_hc_remove(v[i]->hc_port);
		cJSON_Delete(v[i]->svc);
		for (j = 0; j < v[i]->n_names; j++)
			free(v[i]->names[j]);
		free(v[i]->names);
		free(v[i]->slices);
		free(v[i]);
	}
	free(v);
	v = (struct svc_ent **)ht_values(&k->slices, &n);
	for (i = 0; v && i < n; i++) {
		struct slice_ent *se = (void *)v[i];

		cJSON_Delete(se->obj);
		free(se);
	}
	free(v);
	ht_free(&k->svcs);
	ht_free(&k->slices);
	cJSON_Delete(k->node);
	free(k->zone);
	free(k->node_name);
	free(k->lat_t);
	free(k->dirty);
	if (k->efd >= 0)
		close(k->efd);
	xlb_k8s_auth_free(&k->auth);
	pthread_cond_destroy(&k->stop_cond);
	pthread_mutex_destroy(&k->lock);
	free(k);
	curl_global_cleanup();
}
