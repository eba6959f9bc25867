/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A minimal Kubernetes API client: where the API server is and how to
 * authenticate (in-cluster service account or a kubeconfig file), and
 * HTTP GETs through libcurl, either whole (lists) or as a stream of
 * lines (watches), however the chunks split them.
 * In user/k8s/: kubeconfig.c, client.c.
 */
#ifndef XLB_K8S_CLIENT_H
#define XLB_K8S_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XLB_K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct xlb_k8s_auth {
	char *server;		/* https://host:port, no trailing slash */
	char *ca_file;		/* PEM file, or ca_data */
	char *ca_data;
	size_t ca_len;
	char *cert_file;	/* client certificate: file or data */
	char *cert_data;
	size_t cert_len;
	char *key_file;		/* client key: file or data */
	char *key_data;
	size_t key_len;
	char *token;		/* a static bearer token */
	char *token_file;	/* re-read every minute and after a 401 */
	bool insecure;		/* skip TLS verification */
	const char *insecure_by; /* what turned it off (a static string),
				  * for the warning xlb_k8s_start logs */
	/* the token as last read from token_file */
	pthread_mutex_t lock;
	char *cur_token;
	uint64_t token_read_ns;
};

/* Loads the current context of a kubeconfig file (YAML as kubectl writes
 * it). Relative paths in it are relative to the file's directory. */
int xlb_k8s_kubeconfig_load(const char *path, struct xlb_k8s_auth *a,
			    char *err, size_t errlen);
/* The service account of a pod: token and CA under dir (normally
 * XLB_K8S_SA_DIR), the server from KUBERNETES_SERVICE_HOST/PORT. */
int xlb_k8s_incluster_load(const char *dir, struct xlb_k8s_auth *a,
			   char *err, size_t errlen);
void xlb_k8s_auth_free(struct xlb_k8s_auth *a);
/* Forces the next request to re-read the token file (after a 401). */
void xlb_k8s_auth_token_expire(struct xlb_k8s_auth *a);

/* Result of a request. */
struct xlb_k8s_resp {
	long status;		/* HTTP status, 0 if none came */
	char curl_err[256];	/* transport error, "" if none */
	bool tls_unverified;	/* that error: the server's certificate did
				 * not verify (or the CA could not be read) */
	char *body;		/* whole body (xlb_k8s_get) or the error body
				 * of a non-200 watch; malloc'ed */
	size_t len;
};

void xlb_k8s_resp_free(struct xlb_k8s_resp *r);

/* GET path (with query) and collect the body. timeout_s bounds the
 * whole request. Returns 0 when a response came (see r->status), or
 * -EIO with r->curl_err, or -ECANCELED when *stop became true. */
int xlb_k8s_get(struct xlb_k8s_auth *a, const char *path, long timeout_s,
		const volatile int *stop, struct xlb_k8s_resp *r);

/* GET path and call on_line for every complete line of a 200 response
 * as it arrives (without its newline, NUL terminated). on_line returns
 * 0 to go on, anything else to end the stream. Returns as xlb_k8s_get;
 * a stream ended by on_line returns 0. */
int xlb_k8s_stream(struct xlb_k8s_auth *a, const char *path, long timeout_s,
		   const volatile int *stop,
		   int (*on_line)(char *line, size_t len, void *ctx), void *ctx,
		   struct xlb_k8s_resp *r);

/* A line buffer: bytes in, whole lines out, across any split. */
struct xlb_linebuf {
	char *buf;
	size_t len, cap;
	size_t max;		/* longest line accepted */
};

/* Appends data and calls on_line for every line completed; returns the
 * first non-zero on_line result, or -E2BIG for a line longer than
 * max, else 0. */
int xlb_linebuf_feed(struct xlb_linebuf *lb, const char *data, size_t len,
		     int (*on_line)(char *line, size_t len, void *ctx),
		     void *ctx);
void xlb_linebuf_free(struct xlb_linebuf *lb);

#endif /* XLB_K8S_CLIENT_H */
