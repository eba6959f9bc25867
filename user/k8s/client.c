// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The API client: in-cluster credentials, the bearer token (re-read
 * from its file), the line buffer for watch streams, and the GETs
 * through libcurl. Kubeconfig files are read in kubeconfig.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "k8s_client.h"
#include "util.h"

#define TOKEN_REFRESH_NS (60ULL * 1000000000ULL)
#define MAX_BODY (512UL << 20)
#define MAX_ERR_BODY 4096
#define MAX_LINE (256UL << 20)

/* Whole file, NUL terminated; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
		     s[n - 1] == '\t'))
		s[--n] = '\0';
}

int xlb_k8s_incluster_load(const char *dir, struct xlb_k8s_auth *a,
			   char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *tok;
	int rc;

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	if (host && host[0]) {
		rc = asprintf(&a->server, strchr(host, ':') ? "https://[%s]:%s" :
							      "https://%s:%s",
			      host, port && port[0] ? port : "443");
		if (rc < 0)
			return -ENOMEM;
	}
	if (asprintf(&a->token_file, "%s/token", dir) < 0 ||
	    asprintf(&a->ca_file, "%s/ca.crt", dir) < 0) {
		xlb_k8s_auth_free(a);
		return -ENOMEM;
	}
	tok = read_file(a->token_file, NULL);
	if (!tok) {
		rc = xlb_errf(err, errlen, -ENOENT,
			   "in-cluster: token %s: %s", a->token_file,
			   strerror(errno));
		xlb_k8s_auth_free(a);
		return rc;
	}
	free(tok);
	return 0;
}

void xlb_k8s_auth_free(struct xlb_k8s_auth *a)
{
	free(a->server);
	free(a->ca_file);
	free(a->ca_data);
	free(a->cert_file);
	free(a->cert_data);
	free(a->key_file);
	free(a->key_data);
	free(a->token);
	free(a->token_file);
	free(a->cur_token);
	pthread_mutex_destroy(&a->lock);
	memset(a, 0, sizeof(*a));
}

void xlb_k8s_auth_token_expire(struct xlb_k8s_auth *a)
{
	pthread_mutex_lock(&a->lock);
	a->token_read_ns = 0;
	pthread_mutex_unlock(&a->lock);
}

/* "Authorization: Bearer ..." for this request, or NULL for none. */
static char *auth_header(struct xlb_k8s_auth *a)
{
	uint64_t now = xlb_now_ns();
	char *h = NULL;

	pthread_mutex_lock(&a->lock);
	if (a->token_file &&
	    (!a->token_read_ns || now - a->token_read_ns > TOKEN_REFRESH_NS)) {
		char *t = read_file(a->token_file, NULL);

		if (t) {
			trim(t);
			free(a->cur_token);
			a->cur_token = t;
		}
		/* If it cannot be read, keep the last token we had. */
		a->token_read_ns = now;
	}
	if (a->cur_token && a->cur_token[0]) {
		if (asprintf(&h, "Authorization: Bearer %s", a->cur_token) < 0)
			h = NULL;
	} else if (a->token) {
		if (asprintf(&h, "Authorization: Bearer %s", a->token) < 0)
			h = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	return h;
}

/* ---- line buffer ----------------------------------------------------------- */

int xlb_linebuf_feed(struct xlb_linebuf *lb, const char *data, size_t len,
		     int (*on_line)(char *line, size_t len, void *ctx),
		     void *ctx)
{
	size_t start = 0, i, scan;
	int rc = 0;

	if (lb->len + len + 1 > lb->cap) {
		size_t cap = lb->cap ? lb->cap : 4096;
		char *nb;

		while (cap < lb->len + len + 1)
			cap *= 2;
		nb = realloc(lb->buf, cap);
		if (!nb)
			return -ENOMEM;
		lb->buf = nb;
		lb->cap = cap;
	}
	scan = lb->len;
	memcpy(lb->buf + lb->len, data, len);
	lb->len += len;
	for (i = scan; i < lb->len; i++) {
		if (lb->buf[i] != '\n')
			continue;
		lb->buf[i] = '\0';
		if (i > start)
			rc = on_line(lb->buf + start, i - start, ctx);
		start = i + 1;
		if (rc)
			break;
	}
	memmove(lb->buf, lb->buf + start, lb->len - start);
	lb->len -= start;
	if (!rc && lb->max && lb->len > lb->max)
		rc = -E2BIG;
	return rc;
}

void xlb_linebuf_free(struct xlb_linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

/* ---- requests ------------------------------------------------------------ */

struct req {
	CURL *c;
	struct xlb_k8s_resp *r;
	const volatile int *stop;
	int (*on_line)(char *line, size_t len, void *ctx);
	void *ctx;
	struct xlb_linebuf lb;
	int state;		/* 0 unknown, 1 streaming, 2 error body */
	bool ended;		/* on_line ended the stream */
	bool too_big;
};

static size_t on_data(char *data, size_t sz, size_t nm, void *p)
{
	struct req *q = p;
	size_t len = sz * nm, keep = len;
	long code = 0;

	if (!q->state) {
		curl_easy_getinfo(q->c, CURLINFO_RESPONSE_CODE, &code);
		q->state = code == 200 && q->on_line ? 1 : 2;
	}
	if (q->state == 1) {
		int rc = xlb_linebuf_feed(&q->lb, data, len, q->on_line, q->ctx);

		if (rc) {
			q->ended = rc > 0;
			q->too_big = rc == -E2BIG;
			return 0;	/* aborts the transfer */
		}
		return len;
	}
	/* A whole body, or the start of an error body. */
	if (q->on_line && q->r->len + keep > MAX_ERR_BODY)
		keep = q->r->len < MAX_ERR_BODY ? MAX_ERR_BODY - q->r->len : 0;
	if (q->r->len + keep > MAX_BODY) {
		q->too_big = true;
		return 0;
	}
	if (keep) {
		char *nb = realloc(q->r->body, q->r->len + keep + 1);

		if (!nb)
			return 0;
		q->r->body = nb;
		memcpy(nb + q->r->len, data, keep);
		q->r->len += keep;
		nb[q->r->len] = '\0';
	}
	return len;
}

static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct req *q = p;

	return q->stop && *q->stop;
}

void xlb_k8s_resp_free(struct xlb_k8s_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The request's headers: its token, JSON, who asks. */
static struct curl_slist *headers(struct xlb_k8s_auth *a)
{
	struct curl_slist *hdrs = NULL;
	char *ah = auth_header(a);

	if (ah) {
		hdrs = curl_slist_append(hdrs, ah);
		free(ah);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "User-Agent: xlbd");
	return hdrs;
}

/* A PEM given inline (curl copies it) or as a file name. */
static void set_pem(CURL *c, CURLoption blob_opt, char *data, size_t len,
		    CURLoption file_opt, const char *file)
{
	struct curl_blob blob = { data, len, CURL_BLOB_COPY };

	if (data)
		curl_easy_setopt(c, blob_opt, &blob);
	else if (file)
		curl_easy_setopt(c, file_opt, file);
}

/* How the server is verified and how we prove who we are. */
static void set_tls(CURL *c, const struct xlb_k8s_auth *a)
{
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	if (a->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	set_pem(c, CURLOPT_CAINFO_BLOB, a->ca_data, a->ca_len, CURLOPT_CAINFO,
		a->ca_file);
	set_pem(c, CURLOPT_SSLCERT_BLOB, a->cert_data, a->cert_len,
		CURLOPT_SSLCERT, a->cert_file);
	set_pem(c, CURLOPT_SSLKEY_BLOB, a->key_data, a->key_len,
		CURLOPT_SSLKEY, a->key_file);
}

/* Timeouts, the body callback, and the progress callback that lets
 * *stop cancel a watch that is waiting for its next event. */
static void set_transfer(struct req *q, const char *url,
			 struct curl_slist *hdrs, char *errbuf, long timeout_s)
{
	curl_easy_setopt(q->c, CURLOPT_URL, url);
	curl_easy_setopt(q->c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(q->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(q->c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(q->c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(q->c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(q->c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(q->c, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(q->c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(q->c, CURLOPT_XFERINFODATA, q);
}

static int request(struct xlb_k8s_auth *a, const char *path, long timeout_s,
		   const volatile int *stop,
		   int (*on_line)(char *line, size_t len, void *ctx), void *ctx,
		   struct xlb_k8s_resp *r)
{
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", *url = NULL;
	struct req q = { .r = r, .stop = stop, .on_line = on_line, .ctx = ctx,
			 .lb = { .max = MAX_LINE } };
	CURLcode cc;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!a->server) {
		snprintf(r->curl_err, sizeof(r->curl_err), "no API server address");
		return -EINVAL;
	}
	q.c = curl_easy_init();
	if (!q.c || asprintf(&url, "%s%s", a->server, path) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	hdrs = headers(a);
	set_transfer(&q, url, hdrs, errbuf, timeout_s);
	set_tls(q.c, a);
	cc = curl_easy_perform(q.c);
	curl_easy_getinfo(q.c, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && q.ended))
		goto out;
	if (cc == CURLE_ABORTED_BY_CALLBACK && stop && *stop) {
		rc = -ECANCELED;
		goto out;
	}
	r->tls_unverified = cc == CURLE_PEER_FAILED_VERIFICATION ||
			    cc == CURLE_SSL_CACERT_BADFILE ||
			    cc == CURLE_SSL_ISSUER_ERROR;
	snprintf(r->curl_err, sizeof(r->curl_err), "%s%s%s",
		 q.too_big ? "response or line too long" : curl_easy_strerror(cc),
		 errbuf[0] ? ": " : "", errbuf);
	rc = -EIO;
out:
	xlb_linebuf_free(&q.lb);
	curl_slist_free_all(hdrs);
	free(url);
	if (q.c)
		curl_easy_cleanup(q.c);
	return rc;
}

int xlb_k8s_get(struct xlb_k8s_auth *a, const char *path, long timeout_s,
		const volatile int *stop, struct xlb_k8s_resp *r)
{
	return request(a, path, timeout_s, stop, NULL, NULL, r);
}

int xlb_k8s_stream(struct xlb_k8s_auth *a, const char *path, long timeout_s,
		   const volatile int *stop,
		   int (*on_line)(char *line, size_t len, void *ctx), void *ctx,
		   struct xlb_k8s_resp *r)
{
	return request(a, path, timeout_s, stop, on_line, ctx, r);
}
