// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kubeconfig files (YAML as kubectl writes them): the current context's
 * cluster (server, CA) and user (client certificate, token), through
 * libyaml's document API.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "k8s_client.h"
#include "util.h"

/* base64 (as kubeconfig's *-data fields hold) -> bytes, NUL terminated. */
static char *b64_decode(const char *in, size_t *outlen)
{
	size_t n = 0, i, len = strlen(in), pad = 0;
	char *clean = malloc(len + 1), *out;
	int r;

	if (!clean)
		return NULL;
	for (i = 0; i < len; i++)
		if (in[i] != '\n' && in[i] != '\r' && in[i] != ' ')
			clean[n++] = in[i];
	clean[n] = '\0';
	if (n % 4) {
		free(clean);
		return NULL;
	}
	out = malloc(n / 4 * 3 + 1);
	if (!out) {
		free(clean);
		return NULL;
	}
	r = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)clean, n);
	if (r < 0) {
		free(clean);
		free(out);
		return NULL;
	}
	while (n && pad < 2 && clean[n - 1 - pad] == '=')
		pad++;
	free(clean);
	*outlen = r - pad;
	out[*outlen] = '\0';
	return out;
}

/* ---- kubeconfig ---------------------------------------------------------- */

static yaml_node_t *ymap_get(yaml_document_t *d, yaml_node_t *m,
			     const char *key)
{
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *yscalar(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The entry of a named list (clusters, users, contexts) with that name,
 * returning its inner object (cluster, user, context). */
static yaml_node_t *ynamed(yaml_document_t *d, yaml_node_t *root,
			   const char *list, const char *inner,
			   const char *name)
{
	yaml_node_t *seq = ymap_get(d, root, list);
	yaml_node_item_t *it;

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(d, *it);
		const char *n = yscalar(ymap_get(d, e, "name"));

		if (n && !strcmp(n, name))
			return ymap_get(d, e, inner);
	}
	return NULL;
}

/* A path from the kubeconfig, made absolute against its directory. */
static char *kc_path(const char *dir, const char *p)
{
	char *out;

	if (p[0] == '/')
		return strdup(p);
	if (asprintf(&out, "%s/%s", dir, p) < 0)
		return NULL;
	return out;
}

/* A kubeconfig being read: its document, the current context's parts,
 * and what every message and relative path needs. */
struct kc {
	const char *path;
	char dir[PATH_MAX];	/* relative paths in it start here */
	yaml_document_t doc;
	yaml_node_t *root;
	const char *cur, *cname, *uname; /* context, its cluster, its user */
	yaml_node_t *ctx, *cl, *us;
	char *err;
	size_t errlen;
};

static int kc_file_or_data(struct kc *kc, yaml_node_t *obj, const char *fkey,
			   const char *dkey, char **file, char **data,
			   size_t *len, const char *what)
{
	const char *f = yscalar(ymap_get(&kc->doc, obj, fkey));
	const char *v = yscalar(ymap_get(&kc->doc, obj, dkey));

	if (v && v[0]) {
		*data = b64_decode(v, len);
		if (!*data)
			return xlb_errf(kc->err, kc->errlen, -EINVAL,
					"kubeconfig: %s %s: not valid base64",
					what, dkey);
	} else if (f && f[0]) {
		*file = kc_path(kc->dir, f);
		if (!*file)
			return -ENOMEM;
	}
	return 0;
}

/* Parses the file into kc->doc; the parser and the file are not needed
 * once the document is built. */
static int kc_read(struct kc *kc)
{
	yaml_parser_t parser;
	FILE *f = fopen(kc->path, "r");
	int rc = 0;

	if (!f)
		return xlb_errf(kc->err, kc->errlen, -errno,
				"kubeconfig %s: %s", kc->path, strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &kc->doc))
		rc = xlb_errf(kc->err, kc->errlen, -EINVAL,
			      "kubeconfig %s: line %zu: %s", kc->path,
			      parser.problem_mark.line + 1,
			      parser.problem ? parser.problem : "not YAML");
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* current-context -> its context, the cluster it names and its user
 * (kc->us stays NULL when it names none). */
static int kc_context(struct kc *kc)
{
	kc->root = yaml_document_get_root_node(&kc->doc);
	kc->cur = yscalar(ymap_get(&kc->doc, kc->root, "current-context"));
	if (!kc->cur || !kc->cur[0])
		return xlb_errf(kc->err, kc->errlen, -EINVAL,
				"kubeconfig %s: current-context: missing",
				kc->path);
	kc->ctx = ynamed(&kc->doc, kc->root, "contexts", "context", kc->cur);
	if (!kc->ctx)
		return xlb_errf(kc->err, kc->errlen, -EINVAL,
				"kubeconfig %s: current-context \"%s\": no such context",
				kc->path, kc->cur);
	kc->cname = yscalar(ymap_get(&kc->doc, kc->ctx, "cluster"));
	if (kc->cname)
		kc->cl = ynamed(&kc->doc, kc->root, "clusters", "cluster",
				kc->cname);
	if (!kc->cl)
		return xlb_errf(kc->err, kc->errlen, -EINVAL,
				"kubeconfig %s: context \"%s\": cluster \"%s\": no such cluster",
				kc->path, kc->cur, kc->cname ? kc->cname : "");
	kc->uname = yscalar(ymap_get(&kc->doc, kc->ctx, "user"));
	if (kc->uname)
		kc->us = ynamed(&kc->doc, kc->root, "users", "user", kc->uname);
	if (kc->uname && !kc->us)
		return xlb_errf(kc->err, kc->errlen, -EINVAL,
				"kubeconfig %s: context \"%s\": user \"%s\": no such user",
				kc->path, kc->cur, kc->uname);
	return 0;
}

/* The cluster: its https:// server, whether to verify it, its CA. */
static int kc_cluster(struct kc *kc, struct xlb_k8s_auth *a)
{
	const char *v = yscalar(ymap_get(&kc->doc, kc->cl, "server"));

	if (!v || strncmp(v, "https://", 8))
		return xlb_errf(kc->err, kc->errlen, -EINVAL,
				"kubeconfig %s: cluster \"%s\": server \"%s\": not an https:// URL",
				kc->path, kc->cname, v ? v : "");
	a->server = strdup(v);
	if (a->server && a->server[strlen(a->server) - 1] == '/')
		a->server[strlen(a->server) - 1] = '\0';
	v = yscalar(ymap_get(&kc->doc, kc->cl, "insecure-skip-tls-verify"));
	a->insecure = v && !strcasecmp(v, "true");
	if (a->insecure)
		a->insecure_by = "insecure-skip-tls-verify in the kubeconfig";
	return kc_file_or_data(kc, kc->cl, "certificate-authority",
			       "certificate-authority-data", &a->ca_file,
			       &a->ca_data, &a->ca_len, "cluster");
}

/* The user: a client certificate and key, a token or a token file;
 * plugins that run programs are refused, not silently skipped. */
static int kc_user(struct kc *kc, struct xlb_k8s_auth *a)
{
	const char *v;
	int rc;

	rc = kc_file_or_data(kc, kc->us, "client-certificate",
			     "client-certificate-data", &a->cert_file,
			     &a->cert_data, &a->cert_len, "user");
	if (!rc)
		rc = kc_file_or_data(kc, kc->us, "client-key",
				     "client-key-data", &a->key_file,
				     &a->key_data, &a->key_len, "user");
	if (rc)
		return rc;
	v = yscalar(ymap_get(&kc->doc, kc->us, "token"));
	if (v && v[0])
		a->token = strdup(v);
	v = yscalar(ymap_get(&kc->doc, kc->us, "tokenFile"));
	if (v && v[0])
		a->token_file = kc_path(kc->dir, v);
	if (ymap_get(&kc->doc, kc->us, "exec") ||
	    ymap_get(&kc->doc, kc->us, "auth-provider"))
		return xlb_errf(kc->err, kc->errlen, -EINVAL,
				"kubeconfig %s: user \"%s\": exec and auth-provider plugins are not supported; use a token, tokenFile or client certificate",
				kc->path, kc->uname);
	return 0;
}

int xlb_k8s_kubeconfig_load(const char *path, struct xlb_k8s_auth *a,
			    char *err, size_t errlen)
{
	struct kc kc = { .path = path, .err = err, .errlen = errlen };
	char tmp[PATH_MAX];
	int rc;

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(kc.dir, sizeof(kc.dir), "%s", dirname(tmp));
	rc = kc_read(&kc);
	if (rc)
		return rc;
	rc = kc_context(&kc);
	if (!rc)
		rc = kc_cluster(&kc, a);
	if (!rc && kc.us)
		rc = kc_user(&kc, a);
	if (!rc && !!(a->cert_file || a->cert_data) !=
			   !!(a->key_file || a->key_data))
		rc = xlb_errf(err, errlen, -EINVAL,
			      "kubeconfig %s: user \"%s\": a client certificate needs its key and the key its certificate",
			      path, kc.uname);
	yaml_document_delete(&kc.doc);
	if (rc)
		xlb_k8s_auth_free(a);
	return rc;
}
