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
	snprintf(e->key, sizeof(e->key), "%s", key);
	if (xlb_htab_put(&k->svcs, key, e)) {
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
	se = xlb_htab_get(&k->slices, key);
	if (se) {
		se->gen = k->gen;
		if (!strcmp(se->svc_key, skey) && xlb_k8s_obj_rv(obj)[0] &&
		    !strcmp(xlb_k8s_obj_rv(se->obj), xlb_k8s_obj_rv(obj))) {
			cJSON_Delete(obj);
			return 0;
		}
	} else {
		se = calloc(1, sizeof(*se));
		if (!se || xlb_htab_put(&k->slices, key, se)) {
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
	struct slice_ent *se = xlb_htab_del(&k->slices, key);

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
		void **v = xlb_htab_values(&k->svcs, &n);

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
				n_del += delete_slice(k, se->key);
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

static void ent_free(struct svc_ent *e)
{
	size_t i;

	cJSON_Delete(e->svc);
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

		cJSON_Delete(se->obj);
		free(se);
	}
	free(v);
	xlb_htab_free(&k->svcs);
	xlb_htab_free(&k->slices);
	cJSON_Delete(k->node);
	k->node = NULL;
	free(k->zone);
	k->zone = NULL;
}
