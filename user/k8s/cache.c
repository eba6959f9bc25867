// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The object cache (main thread only): Services and EndpointSlices by
 * "namespace/name", each slice attached to the Service it names, and
 * this node's zone. An event marks the Services it touched dirty, so
 * that apply.c translates those and no others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "healthcheck.h"
#include "log.h"

static struct svc_ent *svc_get(struct xlb_k8s *k, const char *key, bool create)
{
	struct svc_ent *e = xlb_htab_get(&k->svcs, key);

	if (e || !create)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = strdup(key);
	if (!e->key || xlb_htab_put(&k->svcs, key, e)) {
		free(e->key);
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
	struct svc_ent *e = se->svc;
	size_t i;

	if (!e)
		return;
	se->svc = NULL;
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
	se->svc = e;
	mark_dirty(k, e);
	return 0;
}

/* Takes obj. Returns 1 if the cache changed. */
static int upsert_svc(struct xlb_k8s *k, struct xlb_k8s_svc *obj)
{
	struct svc_ent *e = svc_get(k, obj->key, true);

	if (!e) {
		xlb_k8s_svc_free(obj);
		return 0;
	}
	e->gen = k->gen;
	if (e->svc && !strcmp(e->svc->rv, obj->rv) && obj->rv[0]) {
		xlb_k8s_svc_free(obj);
		return 0;
	}
	xlb_k8s_svc_free(e->svc);
	e->svc = obj;
	mark_dirty(k, e);
	return 1;
}

static int delete_svc(struct xlb_k8s *k, const char *key)
{
	struct svc_ent *e = svc_get(k, key, false);

	if (!e || !e->svc)
		return 0;
	xlb_k8s_svc_free(e->svc);
	e->svc = NULL;
	mark_dirty(k, e);
	return 1;
}

/* Takes obj. Returns 1 if the cache changed. */
static int upsert_slice(struct xlb_k8s *k, struct xlb_k8s_slice *obj)
{
	const char *skey = obj->svc_key ? obj->svc_key : "";
	struct slice_ent *se = xlb_htab_get(&k->slices, obj->key);
	bool same_svc;

	if (se) {
		se->gen = k->gen;
		same_svc = !strcmp(se->svc ? se->svc->key : "", skey);
		if (same_svc && obj->rv[0] && !strcmp(se->obj->rv, obj->rv)) {
			xlb_k8s_slice_free(obj);
			return 0;
		}
	} else {
		se = calloc(1, sizeof(*se));
		if (!se || xlb_htab_put(&k->slices, obj->key, se)) {
			free(se);
			xlb_k8s_slice_free(obj);
			return 0;
		}
		se->gen = k->gen;
		same_svc = !skey[0];
	}
	xlb_k8s_slice_free(se->obj);
	se->obj = obj;
	if (!same_svc) {
		svc_detach_slice(k, se);
		if (skey[0])
			svc_attach_slice(k, se, skey);
	} else if (se->svc) {
		mark_dirty(k, se->svc);
	}
	return 1;
}

static int delete_slice(struct xlb_k8s *k, const char *key)
{
	struct slice_ent *se = xlb_htab_del(&k->slices, key);

	if (!se)
		return 0;
	svc_detach_slice(k, se);
	xlb_k8s_slice_free(se->obj);
	free(se);
	return 1;
}

/* Takes node (NULL: no Node). */
static void set_node(struct xlb_k8s *k, struct xlb_k8s_node *node)
{
	const char *z = node ? node->zone : NULL;
	bool changed = (z == NULL) != (k->zone == NULL) ||
		       (z && strcmp(z, k->zone));

	if (changed) {
		size_t n, i;
		void **v = xlb_htab_values(&k->svcs, &n);

		pr_info("k8s: node %s: zone %s", k->node_name, z ? z : "(none)");
		free(k->zone);
		k->zone = z ? strdup(z) : NULL;
		for (i = 0; v && i < n; i++)
			mark_dirty(k, v[i]);
		free(v);
	}
	xlb_k8s_node_free(node);
}

void xlb_k8s_obj_free(enum res res, void *obj)
{
	if (res == RES_SVC)
		xlb_k8s_svc_free(obj);
	else if (res == RES_SLICE)
		xlb_k8s_slice_free(obj);
	else
		xlb_k8s_node_free(obj);
}

/* A full list: the new truth for that resource. Whatever the cache holds
 * that the list does not is deleted; changed objects are replaced.
 * Takes the items. */
static void apply_list(struct xlb_k8s *k, enum res res, void **items,
		       size_t n_items)
{
	size_t n_add = 0, n_del = 0, n, i;
	void **v;

	k->gen++;
	if (res == RES_NODE) {
		if (!n_items && !k->listed[res])
			pr_warn("k8s: node %s: no such Node; no zone, topology hints ignored",
				k->node_name);
		set_node(k, n_items ? items[0] : NULL);
		for (i = 1; i < n_items; i++)
			xlb_k8s_node_free(items[i]);
		k->listed[res] = true;
		return;
	}
	for (i = 0; i < n_items; i++)
		n_add += res == RES_SVC ? upsert_svc(k, items[i]) :
					  upsert_slice(k, items[i]);
	if (res == RES_SVC) {
		v = xlb_htab_values(&k->svcs, &n);
		for (i = 0; v && i < n; i++) {
			struct svc_ent *e = v[i];

			if (e->svc && e->gen != k->gen)
				n_del += delete_svc(k, e->key);
		}
	} else {
		v = xlb_htab_values(&k->slices, &n);
		for (i = 0; v && i < n; i++) {
			struct slice_ent *se = v[i];

			if (se->gen != k->gen)
				n_del += delete_slice(k, se->obj->key);
		}
	}
	free(v);
	if (k->listed[res])
		pr_info("k8s: %s listed again: %zu changed or new, %zu gone while unwatched",
			xlb_k8s_res_name[res], n_add, n_del);
	k->listed[res] = true;
}

void xlb_k8s_handle_event(struct xlb_k8s *k, struct kev *ev)
{
	if (ev->type == EV_LIST) {
		apply_list(k, ev->res, ev->items, ev->n_items);
		free(ev->items);
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
		if (ev->type == EV_DELETED) {
			xlb_k8s_node_free(ev->obj);
			ev->obj = NULL;
		}
		set_node(k, ev->obj);
		return;
	}
	if (ev->type == EV_DELETED) {
		if (ev->res == RES_SVC) {
			struct xlb_k8s_svc *s = ev->obj;

			delete_svc(k, s->key);
		} else {
			struct xlb_k8s_slice *s = ev->obj;

			delete_slice(k, s->key);
		}
		xlb_k8s_obj_free(ev->res, ev->obj);
		return;
	}
	if (ev->res == RES_SVC)
		upsert_svc(k, ev->obj);
	else
		upsert_slice(k, ev->obj);
}

static void ent_free(struct svc_ent *e)
{
	size_t i;

	xlb_k8s_svc_free(e->svc);
	free(e->key);
	for (i = 0; i < e->n_names; i++)
		free(e->names[i]);
	free(e->names);
	free(e->slices);
	free(e);
}

void xlb_k8s_ent_gc(struct xlb_k8s *k, struct svc_ent *e)
{
	if (e->svc || e->n_slices || e->n_names)
		return;
	xlb_htab_del(&k->svcs, e->key);
	ent_free(e);
}

void xlb_k8s_cache_free(struct xlb_k8s *k)
{
	void **v;
	size_t n, i;

	v = xlb_htab_values(&k->svcs, &n);
	for (i = 0; v && i < n; i++) {
		struct svc_ent *e = v[i];

		if (e->hc_port)
			xlb_hc_remove(e->hc_port);
		ent_free(e);
	}
	free(v);
	v = xlb_htab_values(&k->slices, &n);
	for (i = 0; v && i < n; i++) {
		struct slice_ent *se = v[i];

		xlb_k8s_slice_free(se->obj);
		free(se);
	}
	free(v);
	xlb_htab_free(&k->svcs);
	xlb_htab_free(&k->slices);
	free(k->zone);
	k->zone = NULL;
}
