// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: watch streams, split anywhere, into the object cache.
 *
 * The input is a series of chunks, each ended by a 0xff byte (which
 * UTF-8 text, and so JSON from the API server, never holds). A chunk's
 * first byte says where the rest goes:
 *   's', 'e', 'n'  the Services, EndpointSlices or Node watch stream:
 *                  bytes as libcurl hands them over, through the line
 *                  buffer to xlb_k8s_watch_line(), as xlbd's watch
 *                  threads take them (a stream it ends starts again);
 *   'S', 'E', 'N'  a whole list body ({"items": [...]}) of that
 *                  resource, as the list that follows a 410 gives;
 *   anything else  its value modulo 6 picks one of the above.
 * After each chunk the queued events go into the cache as the main
 * thread takes them (xlb_k8s_handle_event); at the end every Service
 * the events left dirty is translated, with the slices that name it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../user/k8s/internal.h"
#include "log.h"

#define MAX_LINE (1UL << 20)

static const char sel[] = "senSEN";

static void drain(struct xlb_k8s *k)
{
	struct kev *ev = k->head, *next;

	k->head = NULL;
	k->tail = &k->head;
	for (; ev; ev = next) {
		next = ev->next;
		xlb_k8s_handle_event(k, ev);
		free(ev);
	}
}

/* A list body, as the watch thread's list makes one EV_LIST of it: the
 * items extracted, those without a name left out. */
static void list(struct xlb_k8s *k, enum res res, const char *p, size_t len)
{
	cJSON *page = cJSON_ParseWithLength(p, len);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items"), *it;
	struct kev ev = { .res = res, .type = EV_LIST };
	size_t n = 0;
	int rc;

	if (!cJSON_IsObject(page) || (items && !cJSON_IsNull(items) &&
				      !cJSON_IsArray(items))) {
		cJSON_Delete(page);
		return;
	}
	ev.items = calloc(cJSON_GetArraySize(items) + 1, sizeof(*ev.items));
	if (!ev.items) {
		cJSON_Delete(page);
		return;
	}
	if (!cJSON_IsArray(items))
		items = NULL;
	cJSON_ArrayForEach(it, items) {
		void *o = xlb_k8s_extract(res, it, &rc);

		if (o)
			ev.items[n++] = o;
	}
	ev.n_items = n;
	cJSON_Delete(page);
	xlb_k8s_handle_event(k, &ev);
}

static void translate_dirty(struct xlb_k8s *k)
{
	struct xlb_k8s_node_info ni = { k->node_name, k->zone };
	const struct xlb_k8s_slice **sl;
	struct xlb_model m;
	char err[256];
	size_t i, j, n_warn;

	for (i = 0; i < k->n_dirty; i++) {
		struct svc_ent *e = k->dirty[i];

		e->dirty = false;
		sl = e->svc ? calloc(e->n_slices + 1, sizeof(*sl)) : NULL;
		for (j = 0; sl && j < e->n_slices; j++)
			sl[j] = e->slices[j]->obj;
		if (sl && !xlb_k8s_translate_obj(e->svc, sl, e->n_slices, &ni,
						 &m, &n_warn, err, sizeof(err)))
			xlb_model_free(&m);
		free(sl);
		xlb_k8s_ent_gc(k, e);	/* as apply.c does after it */
	}
	k->n_dirty = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xlb_log_set_level(XLB_LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_linebuf lb[RES_N] = { 0 };
	const char *p = (const char *)data, *end = p + size, *stop;
	struct xlb_k8s *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return 0;
	k->node_name = "testnode";
	k->tail = &k->head;
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&k->lock, NULL);
	for (r = 0; r < RES_N; r++) {
		k->w[r].k = k;
		k->w[r].res = r;
		lb[r].max = MAX_LINE;
	}
	while (p < end) {
		const char *q = memchr(sel, *p, sizeof(sel) - 1);
		int s = q ? q - sel : (uint8_t)*p % 6;

		p++;
		stop = memchr(p, 0xff, end - p);
		if (!stop)
			stop = end;
		r = s % 3;
		if (s >= 3) {
			list(k, r, p, stop - p);
		} else if (xlb_linebuf_feed(&lb[r], p, stop - p,
					    xlb_k8s_watch_line, &k->w[r])) {
			xlb_linebuf_free(&lb[r]);	/* the watch ends */
			lb[r].max = MAX_LINE;
		}
		drain(k);
		p = stop + 1;
	}
	translate_dirty(k);
	for (r = 0; r < RES_N; r++)
		xlb_linebuf_free(&lb[r]);
	k->node_name = NULL;
	xlb_k8s_cache_free(k);
	free(k->dirty);
	free(k->lat_t);
	if (k->efd >= 0)
		close(k->efd);
	pthread_mutex_destroy(&k->lock);
	free(k);
	return 0;
}
