// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "maglev.h"
#include "util.h"

/*
 * The parse tree of a config lives in an arena: cJSON allocates a node
 * per value (two million for 100,000 services), and malloc plus free of
 * each was 40% of the parse. While a thread parses, cJSON's allocations
 * on that thread come from its arena and frees are no-ops; the tree goes
 * with the arena. Every other cJSON use keeps malloc and free.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

/* Chunks start small and double up to ARENA_CHUNK: a small config does
 * not map (and release) megabytes for each parse. */
#define ARENA_FIRST (64u << 10)
#define ARENA_CHUNK (4u << 20)

static __thread struct arena_chunk *arena;
static __thread bool arena_on;

static void *hook_malloc(size_t n)
{
	struct arena_chunk *c = arena;

	if (!arena_on)
		return malloc(n);
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!c || c->cap - c->used < n) {
		size_t cap = c ? c->cap * 2 : ARENA_FIRST;

		if (cap > ARENA_CHUNK)
			cap = ARENA_CHUNK;
		if (cap < n)
			cap = n;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = arena;
		arena = c;
	}
	c->used += n;
	return (char *)c->data + c->used - n;
}

static void hook_free(void *p)
{
	if (!arena_on)
		free(p);
}

static void arena_release(void)
{
	while (arena) {
		struct arena_chunk *c = arena;

		arena = c->next;
		free(c);
	}
}

static void hooks_install(void)
{
	cJSON_Hooks h = { .malloc_fn = hook_malloc, .free_fn = hook_free };

	cJSON_InitHooks(&h);
}

/* Parses text into a tree that lives until arena_release(); *end is
 * where the document ends, or where parsing failed. */
static cJSON *parse_in_arena(const char *text, const char **end)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	cJSON *root;

	pthread_once(&once, hooks_install);
	arena_on = true;
	*end = text;
	root = cJSON_ParseWithOpts(text, end, 0);
	arena_on = false;
	return root;
}

/* "line L, column C" of position at in text (both counted from 1). */
static void text_pos(const char *text, const char *at, char *buf,
		     size_t len)
{
	unsigned line = 1, col = 1;
	const char *p;

	for (p = text; p < at && *p; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(buf, len, "line %u, column %u", line, col);
}

/* How much of the text at p an error message quotes: up to 20
 * characters, not past the end of the line. */
static size_t near_len(const char *p)
{
	size_t n = strcspn(p, "\r\n");

	return n < 20 ? n : 20;
}

/* Parses text as one JSON document: a syntax error or anything but
 * white space after the document is an error naming where. */
static cJSON *parse_document(const char *text, char *err, size_t errlen)
{
	const char *end, *rest;
	char where[48];
	cJSON *root = parse_in_arena(text, &end);

	if (!root) {
		text_pos(text, end, where, sizeof(where));
		end = end ? end : "";
		xlb_errf(err, errlen, -EINVAL,
			 "config: not valid JSON at %s (near \"%.*s\")", where,
			 (int)near_len(end), end);
		return NULL;
	}
	for (rest = end; *rest == ' ' || *rest == '\t' || *rest == '\n' ||
			 *rest == '\r';
	     rest++)
		;
	if (*rest) {
		text_pos(text, rest, where, sizeof(where));
		xlb_errf(err, errlen, -EINVAL,
			 "config: %s: text after the end of the JSON document (\"%.*s\"): a config is one document",
			 where, (int)near_len(rest), rest);
		return NULL;
	}
	return root;
}

/* Prints a JSON value for an error message, whatever its type. */
static const char *jstr(const cJSON *v, char *buf, size_t len)
{
	char *s;

	if (!v)
		return "(missing)";
	if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) {
		/* cJSON prints these as null */
		snprintf(buf, len, "%g", v->valuedouble);
		return buf;
	}
	if (cJSON_IsString(v)) {
		snprintf(buf, len, "\"%s\"", v->valuestring);
		return buf;
	}
	s = cJSON_PrintUnformatted(v);
	snprintf(buf, len, "%s", s ? s : "?");
	cJSON_free(s);
	return buf;
}

/* An integer in 1-65535. The range is checked on the double before it
 * is converted: a number outside int's range (1e999 parses as inf) has
 * no int value, and converting it is undefined. */
static int parse_port(const cJSON *v, __be16 *port)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -EINVAL;
	d = v->valuedouble;
	if (!(d >= 1 && d <= 65535) || d != (double)(int)d)
		return -EINVAL;
	*port = htons((int)d);
	return 0;
}

static int parse_bool(const cJSON *v, __u8 *out)
{
	if (!cJSON_IsBool(v))
		return -EINVAL;
	*out = cJSON_IsTrue(v);
	return 0;
}

/* "field": ["addr", ...], every address of the given family. */
static int parse_addr_list(const cJSON *js, const char *field,
			   const char *svc, __u8 family, union xlb_addr **out,
			   size_t *n, char *err, size_t errlen)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(js, field), *v;
	char vb[128];
	size_t i = 0;
	__u8 f;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return xlb_errf(err, errlen, -EINVAL, "service %s: %s %s: not an array of addresses",
			    svc, field, jstr(arr, vb, sizeof(vb)));
	*out = calloc(cJSON_GetArraySize(arr) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v) ||
		    xlb_addr_parse(v->valuestring, &(*out)[i], &f))
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: %s[%zu] %s: not an IPv4 or IPv6 address",
				    svc, field, i, jstr(v, vb, sizeof(vb)));
		if (f != family)
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: %s[%zu] \"%s\": address family differs from the vip's",
				    svc, field, i, v->valuestring);
		i++;
	}
	*n = i;
	return 0;
}

static int parse_cidrs(const cJSON *js, const char *svc, struct xlb_cidr **out,
		       size_t *n, char *err, size_t errlen)
{
	const cJSON *arr, *v;
	char vb[128];
	size_t i = 0;

	arr = cJSON_GetObjectItemCaseSensitive(js, "load_balancer_source_ranges");
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: load_balancer_source_ranges %s: not an array of CIDRs",
			    svc, jstr(arr, vb, sizeof(vb)));
	*out = calloc(cJSON_GetArraySize(arr) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v) || xlb_cidr_parse(v->valuestring, &(*out)[i]))
			goto bad;
		i++;
		continue;
bad:
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: load_balancer_source_ranges[%zu] %s: not a CIDR such as \"10.0.0.0/8\"",
			    svc, i, jstr(v, vb, sizeof(vb)));
	}
	*n = i;
	return 0;
}

static int parse_groups(const cJSON *js, struct xlb_model_service *s,
			char *err, size_t errlen)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(js, "groups"), *g;
	char vb[128];
	size_t i = 0, k;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: groups %s: not a non-empty array of {\"name\", \"percent\"}",
			    s->name, jstr(arr, vb, sizeof(vb)));
	s->groups = calloc(cJSON_GetArraySize(arr) + 1, sizeof(*s->groups));
	if (!s->groups)
		return -ENOMEM;
	cJSON_ArrayForEach(g, arr) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(g, "name");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(g, "percent");

		if (!cJSON_IsString(n) || !n->valuestring[0] ||
		    strlen(n->valuestring) >= XLB_GROUP_NAME_LEN)
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: groups[%zu].name %s: not a string of 1-%d characters",
				    s->name, i, jstr(n, vb, sizeof(vb)),
				    XLB_GROUP_NAME_LEN - 1);
		if (!cJSON_IsNumber(p) || p->valuedouble < 0 ||
		    p->valuedouble > 100 ||
		    p->valuedouble != (double)(int)p->valuedouble)
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: groups[%zu].percent %s: not an integer in 0-100",
				    s->name, i, jstr(p, vb, sizeof(vb)));
		for (k = 0; k < i; k++)
			if (!strcmp(s->groups[k].name, n->valuestring))
				return xlb_errf(err, errlen, -EINVAL,
					    "service %s: groups[%zu].name \"%s\": listed twice",
					    s->name, i, n->valuestring);
		strcpy(s->groups[i].name, n->valuestring);
		s->groups[i].percent = p->valueint;
		i++;
	}
	s->n_groups = i;
	return 0;
}

static int parse_backend(const cJSON *jb, const char *svc, size_t idx,
			 __u8 family, struct xlb_model_backend *b,
			 const struct xlb_model_service *s, char *err,
			 size_t errlen)
{
	const cJSON *v;
	char vb[128];
	int st;

	if (!cJSON_IsObject(jb))
		return xlb_errf(err, errlen, -EINVAL, "service %s: backends[%zu]: not an object",
			    svc, idx);
	v = cJSON_GetObjectItemCaseSensitive(jb, "ip");
	if (!cJSON_IsString(v) ||
	    xlb_addr_parse(v->valuestring, &b->addr, &b->family))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: backends[%zu].ip %s: not an IPv4 or IPv6 address",
			    svc, idx, jstr(v, vb, sizeof(vb)));
	if (b->family != family)
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: backends[%zu].ip \"%s\": address family differs from the vip's",
			    svc, idx, v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(jb, "port");
	if (parse_port(v, &b->port))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: backends[%zu].port %s: not a port (1-65535)",
			    svc, idx, jstr(v, vb, sizeof(vb)));
	b->weight = 1;
	v = cJSON_GetObjectItemCaseSensitive(jb, "weight");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
		    v->valuedouble > 65535 ||
		    v->valuedouble != (double)(int)v->valuedouble)
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: backends[%zu].weight %s: not an integer in 0-65535",
				    svc, idx, jstr(v, vb, sizeof(vb)));
		b->weight = v->valueint;
	}
	b->state = XLB_BE_ACTIVE;
	v = cJSON_GetObjectItemCaseSensitive(jb, "state");
	if (v) {
		st = cJSON_IsString(v) ? xlb_be_state_parse(v->valuestring) :
					 -EINVAL;
		if (st < 0)
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: backends[%zu].state %s: not \"active\" or \"terminating\"",
				    svc, idx, jstr(v, vb, sizeof(vb)));
		b->state = st;
	}
	b->serving = 1;
	v = cJSON_GetObjectItemCaseSensitive(jb, "serving");
	if (v && parse_bool(v, &b->serving))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: backends[%zu].serving %s: not true or false",
			    svc, idx, jstr(v, vb, sizeof(vb)));
	v = cJSON_GetObjectItemCaseSensitive(jb, "local");
	if (v && parse_bool(v, &b->local))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: backends[%zu].local %s: not true or false",
			    svc, idx, jstr(v, vb, sizeof(vb)));
	v = cJSON_GetObjectItemCaseSensitive(jb, "group");
	if (v || s->n_groups) {
		size_t k;

		for (k = 0; cJSON_IsString(v) && k < s->n_groups; k++)
			if (!strcmp(s->groups[k].name, v->valuestring))
				break;
		if (!cJSON_IsString(v) || k == s->n_groups)
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: backends[%zu].group %s: not one of the service's groups",
				    svc, idx, jstr(v, vb, sizeof(vb)));
		b->group = k + 1;
	}
	return 0;
}

static int parse_policy(const cJSON *js, const char *field, const char *svc,
			__u8 *local, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(js, field);
	char vb[128];

	if (!v)
		return 0;
	if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "local"))
		*local = 1;
	else if (!cJSON_IsString(v) || strcasecmp(v->valuestring, "cluster"))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: %s %s: not \"cluster\" or \"local\"",
			    svc, field, jstr(v, vb, sizeof(vb)));
	return 0;
}

/* "snat": true (XLB_SNAT_ALL), false or "remote"; what names it (the
 * config, a service) for the message. */
static int parse_snat(const cJSON *v, const char *what, __u8 *out, char *err,
		      size_t errlen)
{
	char vb[128];

	if (cJSON_IsBool(v))
		*out = cJSON_IsTrue(v) ? XLB_SNAT_ALL : XLB_SNAT_NONE;
	else if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "remote"))
		*out = XLB_SNAT_REMOTE;
	else
		return xlb_errf(err, errlen, -EINVAL,
			    "%s: snat %s: not true, false or \"remote\"", what,
			    jstr(v, vb, sizeof(vb)));
	return 0;
}

/* "dsr": "ipip" or "off"; what names it (the config, a service). */
static int parse_dsr(const cJSON *v, const char *what, __u8 *out, char *err,
		     size_t errlen)
{
	char vb[128];

	if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "ipip"))
		*out = XLB_DSR_IPIP;
	else if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "off"))
		*out = XLB_DSR_OFF;
	else
		return xlb_errf(err, errlen, -EINVAL,
			    "%s: dsr %s: not \"ipip\" or \"off\"", what,
			    jstr(v, vb, sizeof(vb)));
	return 0;
}

/* The optional Kubernetes-style fields of a service. */
static int parse_service_extras(const cJSON *js, struct xlb_model_service *s,
				char *err, size_t errlen)
{
	const char *id = s->name;
	const cJSON *v;
	char vb[128];
	int rc;

	rc = parse_addr_list(js, "external_ips", id, s->vip.family,
			     &s->external_ips, &s->n_external_ips, err, errlen);
	if (!rc)
		rc = parse_addr_list(js, "load_balancer_ips", id, s->vip.family,
				     &s->lb_ips, &s->n_lb_ips, err, errlen);
	if (!rc)
		rc = parse_cidrs(js, id, &s->source_ranges,
				 &s->n_source_ranges, err, errlen);
	if (!rc)
		rc = parse_policy(js, "external_traffic_policy", id,
				  &s->external_local, err, errlen);
	if (!rc)
		rc = parse_policy(js, "internal_traffic_policy", id,
				  &s->internal_local, err, errlen);
	if (!rc)
		rc = parse_groups(js, s, err, errlen);
	v = cJSON_GetObjectItemCaseSensitive(js, "snat");
	if (!rc && v) {
		char what[96];

		snprintf(what, sizeof(what), "service %s", id);
		rc = parse_snat(v, what, &s->snat, err, errlen);
	}
	v = cJSON_GetObjectItemCaseSensitive(js, "dsr");
	if (!rc && v) {
		char what[96];

		snprintf(what, sizeof(what), "service %s", id);
		rc = parse_dsr(v, what, &s->dsr, err, errlen);
	}
	if (rc)
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(js, "node_port");
	if (v) {
		__be16 np;

		if (parse_port(v, &np))
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: node_port %s: not a port (1-65535)",
				    id, jstr(v, vb, sizeof(vb)));
		s->node_port = ntohs(np);
	}
	v = cJSON_GetObjectItemCaseSensitive(js, "session_affinity_timeout");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
		    v->valuedouble > 86400 ||
		    v->valuedouble != (double)(int)v->valuedouble)
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: session_affinity_timeout %s: not an integer in 1-86400 seconds",
				    id, jstr(v, vb, sizeof(vb)));
		s->affinity_timeout = v->valueint;
	}
	v = cJSON_GetObjectItemCaseSensitive(js, "session_affinity");
	if (v) {
		if (!cJSON_IsString(v) ||
		    (strcasecmp(v->valuestring, "client_ip") &&
		     strcasecmp(v->valuestring, "none")))
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: session_affinity %s: not \"client_ip\" or \"none\"",
				    id, jstr(v, vb, sizeof(vb)));
		if (!strcasecmp(v->valuestring, "none"))
			s->affinity_timeout = 0;
		else if (!s->affinity_timeout)
			s->affinity_timeout = 10800; /* Kubernetes' default */
	} else if (s->affinity_timeout) {
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: session_affinity_timeout %u: needs \"session_affinity\": \"client_ip\"",
			    id, s->affinity_timeout);
	}
	return 0;
}

static int parse_service(const cJSON *js, size_t idx,
			 struct xlb_model_service *s, char *err, size_t errlen)
{
	const cJSON *v, *jbs, *jb;
	char vb[128], id[96];
	size_t i;
	int rc;

	if (!cJSON_IsObject(js))
		return xlb_errf(err, errlen, -EINVAL, "services[%zu]: not an object", idx);
	v = cJSON_GetObjectItemCaseSensitive(js, "name");
	if (!cJSON_IsString(v) || !v->valuestring[0] ||
	    strlen(v->valuestring) >= XLB_SVC_NAME_LEN)
		return xlb_errf(err, errlen, -EINVAL,
			    "services[%zu].name %s: not a string of 1-%d characters",
			    idx, jstr(v, vb, sizeof(vb)), XLB_SVC_NAME_LEN - 1);
	strcpy(s->name, v->valuestring);
	snprintf(id, sizeof(id), "%s", s->name);

	v = cJSON_GetObjectItemCaseSensitive(js, "vip");
	if (!cJSON_IsString(v) ||
	    xlb_addr_parse(v->valuestring, &s->vip.addr, &s->vip.family))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: vip %s: not an IPv4 or IPv6 address",
			    id, jstr(v, vb, sizeof(vb)));
	v = cJSON_GetObjectItemCaseSensitive(js, "port");
	if (parse_port(v, &s->vip.port))
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: port %s: not a port (1-65535)", id,
			    jstr(v, vb, sizeof(vb)));
	v = cJSON_GetObjectItemCaseSensitive(js, "protocol");
	rc = cJSON_IsString(v) ? xlb_proto_parse(v->valuestring) : -EINVAL;
	if (rc < 0)
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: protocol %s: not \"tcp\" or \"udp\"", id,
			    jstr(v, vb, sizeof(vb)));
	s->vip.proto = rc;

	v = cJSON_GetObjectItemCaseSensitive(js, "maglev_table_size");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < XLB_RING_MIN ||
		    v->valuedouble > XLB_RING_MAX ||
		    v->valuedouble != (double)(int)v->valuedouble ||
		    !xlb_is_prime(v->valueint))
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: maglev_table_size %s: not a prime in %d-%d",
				    id, jstr(v, vb, sizeof(vb)), XLB_RING_MIN,
				    XLB_RING_MAX);
		s->table_size = v->valueint;
	}

	rc = parse_service_extras(js, s, err, errlen);
	if (rc)
		return rc;

	jbs = cJSON_GetObjectItemCaseSensitive(js, "backends");
	if (jbs && !cJSON_IsArray(jbs))
		return xlb_errf(err, errlen, -EINVAL, "service %s: backends %s: not an array",
			    id, jstr(jbs, vb, sizeof(vb)));
	s->n_backends = jbs ? cJSON_GetArraySize(jbs) : 0;
	if (s->n_backends) {
		s->backends = calloc(s->n_backends, sizeof(*s->backends));
		if (!s->backends)
			return -ENOMEM;
	}
	i = 0;
	cJSON_ArrayForEach(jb, jbs) {
		rc = parse_backend(jb, id, i, s->vip.family, &s->backends[i], s,
				   err, errlen);
		if (rc)
			return rc;
		i++;
	}
	if (s->table_size && s->table_size < s->n_backends)
		return xlb_errf(err, errlen, -EINVAL,
			    "service %s: maglev_table_size %u: smaller than its %zu backends",
			    id, s->table_size, s->n_backends);
	return 0;
}

/* One frontend of a service, for the uniqueness check. A NodePort is
 * keyed with a zero address and its service's family: it holds the port
 * on every node address of that family, so an IPv4 and an IPv6 service
 * (the two halves of a dual-stack Kubernetes Service) may share it. */
struct fe_ref {
	struct xlb_vip_key key;
	const char *what;
	const struct xlb_model_service *svc;
};

static int fe_cmp(const void *a, const void *b)
{
	const struct fe_ref *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static size_t n_frontends(const struct xlb_model_service *s)
{
	return 1 + s->n_external_ips + s->n_lb_ips + !!s->node_port;
}

/* Rejects duplicate names, frontends and backends (model sorted). */
static int check_unique(struct xlb_model *m, char *err, size_t errlen)
{
	struct fe_ref *fes;
	char a[XLB_ADDR_STRLEN];
	size_t i, j, n = 0, total = 0;
	int rc = 0;

	for (i = 1; i < m->n_services; i++)
		if (!strcmp(m->services[i].name, m->services[i - 1].name))
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: name \"%s\": used by two services",
				    m->services[i].name, m->services[i].name);
	for (i = 0; i < m->n_services; i++) {
		struct xlb_model_service *s = &m->services[i];

		for (j = 1; j < s->n_backends; j++) {
			struct xlb_model_backend *b = &s->backends[j];

			if (xlb_be_identity_cmp(&b->addr, b->port, b->family,
						&b[-1].addr, b[-1].port,
						b[-1].family))
				continue;
			return xlb_errf(err, errlen, -EINVAL,
				    "service %s: backend %s port %u: listed twice",
				    s->name, xlb_addr_str(&b->addr, b->family, a),
				    ntohs(b->port));
		}
	}

	for (i = 0; i < m->n_services; i++)
		total += n_frontends(&m->services[i]);
	fes = calloc(total + 1, sizeof(*fes));
	if (!fes)
		return -ENOMEM;
	for (i = 0; i < m->n_services; i++) {
		const struct xlb_model_service *s = &m->services[i];
		struct xlb_vip_key k = s->vip;

		fes[n++] = (struct fe_ref){ k, "vip", s };
		for (j = 0; j < s->n_external_ips; j++) {
			k.addr = s->external_ips[j];
			fes[n++] = (struct fe_ref){ k, "external_ips", s };
		}
		for (j = 0; j < s->n_lb_ips; j++) {
			k.addr = s->lb_ips[j];
			fes[n++] = (struct fe_ref){ k, "load_balancer_ips", s };
		}
		if (s->node_port) {
			memset(&k, 0, sizeof(k));
			k.port = htons(s->node_port);
			k.proto = s->vip.proto;
			k.family = s->vip.family;
			fes[n++] = (struct fe_ref){ k, "node_port", s };
		}
	}
	xlb_qsort(fes, n, sizeof(*fes), fe_cmp);
	for (i = 1; i < n; i++) {
		const struct fe_ref *f = &fes[i], *p = &fes[i - 1];

		if (memcmp(&f->key, &p->key, sizeof(f->key)))
			continue;
		if (strcmp(f->what, "node_port"))
			rc = xlb_errf(err, errlen, -EINVAL,
				  "service %s: %s %s port %u protocol %s: already used by service %s",
				  f->svc->name, f->what,
				  xlb_addr_str(&f->key.addr, f->key.family, a),
				  ntohs(f->key.port), xlb_proto_str(f->key.proto),
				  p->svc->name);
		else
			rc = xlb_errf(err, errlen, -EINVAL,
				  "service %s: node_port %u protocol %s: already used by service %s",
				  f->svc->name, ntohs(f->key.port),
				  xlb_proto_str(f->key.proto), p->svc->name);
		break;
	}
	free(fes);
	return rc;
}

int xlb_config_parse(const char *text, struct xlb_model *m, char *err,
		     size_t errlen)
{
	const cJSON *jsvcs, *js, *v;
	cJSON *root;
	size_t i = 0;
	__u8 snat = XLB_SNAT_NONE, dsr = XLB_DSR_OFF;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	root = parse_document(text, err, errlen);
	if (!root) {
		arena_release();
		return -EINVAL;
	}
	if (!cJSON_IsObject(root)) {
		rc = xlb_errf(err, errlen, -EINVAL, "config: top level is not an object");
		goto out;
	}
	jsvcs = cJSON_GetObjectItemCaseSensitive(root, "services");
	if (!cJSON_IsArray(jsvcs)) {
		rc = xlb_errf(err, errlen, -EINVAL, "config: \"services\" is missing or not an array");
		goto out;
	}
	/* The services' default. */
	v = cJSON_GetObjectItemCaseSensitive(root, "snat");
	if (v) {
		rc = parse_snat(v, "config", &snat, err, errlen);
		if (rc)
			goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "dsr");
	if (v) {
		rc = parse_dsr(v, "config", &dsr, err, errlen);
		if (rc)
			goto out;
	}
	m->n_services = cJSON_GetArraySize(jsvcs);
	m->services = calloc(m->n_services + 1, sizeof(*m->services));
	if (!m->services) {
		rc = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(js, jsvcs) {
		m->services[i].snat = snat;
		m->services[i].dsr = dsr;
		rc = parse_service(js, i, &m->services[i], err, errlen);
		if (rc)
			goto out;
		i++;
	}
	xlb_model_sort(m);
	rc = check_unique(m, err, errlen);
out:
	arena_release();	/* the tree */
	if (rc)
		xlb_model_free(m);
	return rc;
}

int xlb_model_check(struct xlb_model *m, char *err, size_t errlen)
{
	xlb_model_sort(m);
	return check_unique(m, err, errlen);
}

int xlb_config_merge(struct xlb_model *parts, size_t n_parts,
		     struct xlb_model *all, char *err, size_t errlen)
{
	size_t i, n = 0, total = 0;
	int rc;

	memset(all, 0, sizeof(*all));
	for (i = 0; i < n_parts; i++)
		total += parts[i].n_services;
	all->services = calloc(total + 1, sizeof(*all->services));
	if (!all->services)
		return -ENOMEM;
	for (i = 0; i < n_parts; i++) {
		if (!parts[i].n_services)
			continue;	/* a part that failed has no array */
		memcpy(all->services + n, parts[i].services,
		       parts[i].n_services * sizeof(*all->services));
		n += parts[i].n_services;
		free(parts[i].services); /* backends now owned by all */
		parts[i].services = NULL;
		parts[i].n_services = 0;
	}
	all->n_services = n;
	rc = xlb_model_check(all, err, errlen);
	if (rc)
		xlb_model_free(all);
	return rc;
}

int xlb_config_load(const char *path, struct xlb_model *m, char *err,
		    size_t errlen)
{
	char *text = NULL;
	long len;
	FILE *f;
	int rc;

	memset(m, 0, sizeof(*m));
	f = fopen(path, "r");
	if (!f)
		return xlb_errf(err, errlen, -EINVAL, "config %s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		rc = xlb_errf(err, errlen, -EINVAL, "config %s: cannot read: %s", path,
			  strerror(errno));
		goto out;
	}
	text = malloc(len + 1);
	if (!text) {
		rc = -ENOMEM;
		goto out;
	}
	if (fread(text, 1, len, f) != (size_t)len) {
		rc = xlb_errf(err, errlen, -EINVAL, "config %s: short read", path);
		goto out;
	}
	text[len] = '\0';
	rc = xlb_config_parse(text, m, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}
