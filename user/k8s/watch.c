// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The watch threads and the queue they fill (the main thread takes it in
 * apply.c).
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

#include "internal.h"
#include "log.h"
#include "util.h"

#define LIST_LIMIT 500
#define LIST_TIMEOUT_S 60
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define HEALTHY_NS (10ULL * 1000000000ULL)

const char *const xlb_k8s_res_name[RES_N] = { "services", "endpointslices",
					      "node" };

int xlb_k8s_fd(const struct xlb_k8s *k)
{
	return k->efd;
}

/* Queues an event (obj, or for EV_LIST the items) for the main
 * thread; takes them. */
static void push(struct xlb_k8s *k, enum res res, enum ev_type type,
		 void *obj, void **items, size_t n_items)
{
	struct kev *ev = calloc(1, sizeof(*ev));
	uint64_t one = 1;
	size_t i;

	if (!ev) {
		xlb_k8s_obj_free(res, obj);
		for (i = 0; i < n_items; i++)
			xlb_k8s_obj_free(res, items[i]);
		free(items);
		return;
	}
	ev->res = res;
	ev->type = type;
	ev->obj = obj;
	ev->items = items;
	ev->n_items = n_items;
	ev->t = xlb_now_ns();
	pthread_mutex_lock(&k->lock);
	*k->tail = ev;
	k->tail = &ev->next;
	pthread_mutex_unlock(&k->lock);
	if (write(k->efd, &one, sizeof(one)) < 0)
		pr_debug("k8s: eventfd: %s", strerror(errno));
}

/* The parts of an object xlb reads (k8s_object.h): the JSON is freed as
 * soon as they are out, so that neither the cache nor a list in
 * progress holds a JSON tree. NULL (and *rc) for an object without a
 * name (-EINVAL) or without memory. */
void *xlb_k8s_extract(enum res res, const cJSON *obj, int *rc)
{
	void *o = NULL;

	if (res == RES_SVC)
		*rc = xlb_k8s_svc_extract(obj, (struct xlb_k8s_svc **)&o);
	else if (res == RES_SLICE)
		*rc = xlb_k8s_slice_extract(obj, (struct xlb_k8s_slice **)&o);
	else
		*rc = xlb_k8s_node_extract(obj, (struct xlb_k8s_node **)&o);
	return o;
}

/* The objects of a list as its pages come. */
struct objs {
	void **v;
	size_t n, cap;
	size_t seen;		/* items read, those left out too */
};

static void objs_free(enum res res, struct objs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		xlb_k8s_obj_free(res, o->v[i]);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

static int objs_add(struct objs *o, void *obj)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 512;
		void **v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = obj;
	return 0;
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
	xlb_log(w->err_warn ? XLB_LOG_WARN : XLB_LOG_INFO,
		"k8s: %s: %s; retrying in %.1f s", xlb_k8s_res_name[w->res],
		w->err, ms / 1000.0);
	w->err_warn = false;
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
		/* A certificate that does not verify is a configuration to
		 * fix (the CA, the server's address): retries do not heal
		 * it, so it is a warning, also under -q. */
		w->err_warn = r->tls_unverified;
		snprintf(w->err, sizeof(w->err), "%s: %s%s", what, r->curl_err,
			 r->tls_unverified ?
				 " (TLS: the API server's certificate could not be verified)" :
				 "");
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
			xlb_k8s_res_name[w->res]);
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

/* GETs one page of the list: the first, or the one cont continues. */
static int get_page(struct watcher *w, const char *cont,
		    struct xlb_k8s_resp *r)
{
	char q[1024], *esc, *url;
	int rc;

	memset(r, 0, sizeof(*r));
	if (cont) {
		esc = curl_easy_escape(NULL, cont, 0);
		snprintf(q, sizeof(q), "limit=%d&continue=%s", LIST_LIMIT,
			 esc ? esc : "");
		curl_free(esc);
	} else {
		snprintf(q, sizeof(q), "limit=%d", LIST_LIMIT);
	}
	url = with_query(w->path, q);
	if (!url)
		return -ENOMEM;
	rc = xlb_k8s_get(&w->k->auth, url, LIST_TIMEOUT_S, &w->k->stop, r);
	free(url);
	return rc;
}

/* Extracts the items of a page into all, keeps its resourceVersion in
 * list_rv and its continue token in *cont (NULL after the last page).
 * Objects without a name are left out, as the cache would leave them.
 * 0, or -1 with w->err set. */
static int take_page(struct watcher *w, const struct xlb_k8s_resp *r,
		     struct objs *all, char *list_rv, size_t rv_len,
		     char **cont)
{
	cJSON *page = cJSON_ParseWithLength(r->body, r->len), *items, *md;
	const cJSON *c, *rv, *it;
	int rc = 0, erc;

	items = cJSON_GetObjectItemCaseSensitive(page, "items");
	md = cJSON_GetObjectItemCaseSensitive(page, "metadata");
	rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
	if (!page || (!cJSON_IsArray(items) && !cJSON_IsNull(items) && items) ||
	    !cJSON_IsString(rv)) {
		snprintf(w->err, sizeof(w->err),
			 "list: not a list (no items or metadata.resourceVersion)");
		goto fail;
	}
	if (!cJSON_IsArray(items))
		items = NULL;
	cJSON_ArrayForEach(it, items) {
		void *o = xlb_k8s_extract(w->res, it, &erc);

		all->seen++;
		if (erc == -EINVAL)
			continue;
		if (!o || objs_add(all, o)) {
			xlb_k8s_obj_free(w->res, o);
			snprintf(w->err, sizeof(w->err), "list: out of memory");
			goto fail;
		}
	}
	snprintf(list_rv, rv_len, "%s", rv->valuestring);
	free(*cont);
	*cont = NULL;
	c = cJSON_GetObjectItemCaseSensitive(md, "continue");
	if (cJSON_IsString(c) && c->valuestring[0])
		*cont = strdup(c->valuestring);
	goto out;
fail:
	STAT_INC(errors);
	failed_once(w);
	rc = -1;
out:
	cJSON_Delete(page);
	return rc;
}

/* Drops the pages gathered so far: the list starts again. */
static void list_restart(enum res res, struct objs *all, char **cont)
{
	free(*cont);
	*cont = NULL;
	objs_free(res, all);
}

/* Lists every page; pushes one EV_LIST. 0, or -1 with w->err set. */
static int do_list(struct watcher *w, bool *retried_401)
{
	struct objs all = { 0 };
	char *cont = NULL, list_rv[64] = "";
	struct xlb_k8s_resp r;
	int rc, pages = 0;

	for (;;) {
		rc = get_page(w, cont, &r);
		if (rc == -ECANCELED) {
			xlb_k8s_resp_free(&r);
			goto fail;
		}
		if (!rc && r.status == 410 && cont) {
			/* The continue token expired: list from the start. */
			pr_info("k8s: %s: list: continue token expired; listing from the start",
				xlb_k8s_res_name[w->res]);
			xlb_k8s_resp_free(&r);
			list_restart(w->res, &all, &cont);
			if (++pages > 1000)
				goto fail;
			continue;
		}
		if (rc || r.status != 200) {
			bool again = request_failed(w, rc, &r, "list",
						    retried_401);

			xlb_k8s_resp_free(&r);
			if (!again)
				goto fail;
			list_restart(w->res, &all, &cont);
			continue;
		}
		*retried_401 = false;
		rc = take_page(w, &r, &all, list_rv, sizeof(list_rv), &cont);
		xlb_k8s_resp_free(&r);
		if (rc)
			goto fail;
		pages++;
		if (!cont)
			break;
		if (w->k->stop)
			goto fail;
	}
	/* Only a whole list gives a version to watch from. */
	snprintf(w->rv, sizeof(w->rv), "%s", list_rv);
	pr_debug("k8s: %s: listed %zu objects in %d pages at resourceVersion %s",
		 xlb_k8s_res_name[w->res], all.seen, pages, w->rv);
	push(w->k, w->res, EV_LIST, NULL, all.v, all.n);
	return 0;
fail:
	objs_free(w->res, &all);
	free(cont);
	return -1;
}

int xlb_k8s_watch_line(char *line, size_t len, void *ctx)
{
	struct watcher *w = ctx;
	cJSON *j = cJSON_ParseWithLength(line, len), *obj;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	char t[16];
	enum ev_type et;
	void *o;
	int rc;

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
		pr_debug("k8s: %s: bookmark at %s", xlb_k8s_res_name[w->res], w->rv);
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
			xlb_k8s_res_name[w->res], t);
		cJSON_Delete(obj);
		return 0;
	}
	o = xlb_k8s_extract(w->res, obj, &rc);
	cJSON_Delete(obj);
	if (!o) {
		if (rc == -ENOMEM)
			STAT_INC(errors);
		return 0;	/* no name: the cache would drop it */
	}
	push(w->k, w->res, et, o, NULL, 0);
	return 0;
}

/* What the watch loop does next. */
enum { WATCH_STOP, WATCH_AGAIN, WATCH_BACKOFF };

/* After a watch ended: open the next one at once (it ended cleanly, its
 * version expired, or a 401 is retried with the token read again), or
 * after a backoff. */
static int watch_ended(struct watcher *w, int rc, struct xlb_k8s_resp *r,
		       bool *retried_401)
{
	if (rc || r->status != 200) {
		bool again = request_failed(w, rc, r, "watch", retried_401);

		xlb_k8s_resp_free(r);
		if (again)
			return WATCH_AGAIN;
	} else {
		xlb_k8s_resp_free(r);
		if (w->failed) {
			failed_once(w);
		} else if (!w->expired) {
			/* Ended cleanly: go on from the last version seen. */
			w->failures = 0;
			pr_debug("k8s: %s: watch ended; resuming at %s",
				 xlb_k8s_res_name[w->res], w->rv);
			return WATCH_AGAIN;
		}
	}
	if (w->expired) {
		pr_info("k8s: %s: %s; listing again", xlb_k8s_res_name[w->res],
			w->err);
		w->rv[0] = '\0';
		return WATCH_AGAIN;
	}
	return WATCH_BACKOFF;
}

/* One watch from w->rv, for as long as the server keeps it open. */
static int watch_once(struct watcher *w, unsigned *seed, bool *retried_401)
{
	struct xlb_k8s *k = w->k;
	struct xlb_k8s_resp r;
	char q[256], *url;
	uint64_t t0;
	long tmo;
	int rc;

	/* A watch lasts 5-10 minutes, as client-go's do. */
	tmo = 300 + rand_r(seed) % 300;
	snprintf(q, sizeof(q),
		 "watch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%ld",
		 w->rv, tmo);
	url = with_query(w->path, q);
	if (!url)
		return WATCH_STOP;
	w->expired = w->failed = false;
	t0 = xlb_now_ns();
	rc = xlb_k8s_stream(&k->auth, url, tmo + 30, &k->stop, xlb_k8s_watch_line,
			    w, &r);
	free(url);
	if (rc == -ECANCELED) {
		xlb_k8s_resp_free(&r);
		return WATCH_STOP;
	}
	if (!rc && r.status == 200)
		*retried_401 = false;
	if (xlb_now_ns() - t0 > HEALTHY_NS)
		w->failures = 0;	/* it stayed up a while */
	STAT_INC(watch_restarts);
	return watch_ended(w, rc, &r, retried_401);
}

static void *watch_thread(void *p)
{
	struct watcher *w = p;
	struct xlb_k8s *k = w->k;
	unsigned seed = (unsigned)xlb_now_ns() ^ (w->res * 7919);
	bool listed = false, retried_401 = false;
	int next;

	while (!k->stop) {
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
		next = watch_once(w, &seed, &retried_401);
		if (next == WATCH_STOP ||
		    (next == WATCH_BACKOFF && !backoff(w, &seed)))
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
	if (k->auth.insecure)
		pr_warn("k8s: TLS verification of %s is off (%s): its certificate is not checked, and anyone on the path can pose as the API server",
			k->auth.server,
			k->auth.insecure_by ? k->auth.insecure_by : "requested");
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
		size_t i;

		next = ev->next;
		xlb_k8s_obj_free(ev->res, ev->obj);
		for (i = 0; i < ev->n_items; i++)
			xlb_k8s_obj_free(ev->res, ev->items[i]);
		free(ev->items);
		free(ev);
	}
	xlb_k8s_cache_free(k);
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
