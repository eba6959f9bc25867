// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "maglev.h"
#include "util.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Prints a JSON value for an error message, whatever its type. */
static const char *jstr(const cJSON *v, char *buf, size_t len)
{
	char *s;

	if (!v)
		return "(missing)";
	if (cJSON_IsString(v)) {
		snprintf(buf, len, "\"%s\"", v->valuestring);
		return buf;
	}
	s = cJSON_PrintUnformatted(v);
	snprintf(buf, len, "%s", s ? s : "?");
	free(s);
	return buf;
}

static int parse_port(const cJSON *v, __be16 *port)
{
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
	    v->valueint < 1 || v->valueint > 65535)
		return -EINVAL;
	*port = htons(v->valueint);
	return 0;
}

static int parse_backend(const cJSON *jb, const char *svc, size_t idx,
			 __u8 family, struct xlb_model_backend *b, char *err,
			 size_t errlen)
{
	const cJSON *v;
	char vb[128];
	int st;

	if (!cJSON_IsObject(jb))
		return fail(err, errlen, "service %s: backends[%zu]: not an object",
			    svc, idx);
	v = cJSON_GetObjectItemCaseSensitive(jb, "ip");
	if (!cJSON_IsString(v) ||
	    xlb_addr_parse(v->valuestring, &b->addr, &b->family))
		return fail(err, errlen,
			    "service %s: backends[%zu].ip %s: not an IPv4 or IPv6 address",
			    svc, idx, jstr(v, vb, sizeof(vb)));
	if (b->family != family)
		return fail(err, errlen,
			    "service %s: backends[%zu].ip \"%s\": address family differs from the vip's",
			    svc, idx, v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(jb, "port");
	if (parse_port(v, &b->port))
		return fail(err, errlen,
			    "service %s: backends[%zu].port %s: not a port (1-65535)",
			    svc, idx, jstr(v, vb, sizeof(vb)));
	b->weight = 1;
	v = cJSON_GetObjectItemCaseSensitive(jb, "weight");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
		    v->valuedouble > 65535 ||
		    v->valuedouble != (double)(int)v->valuedouble)
			return fail(err, errlen,
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
			return fail(err, errlen,
				    "service %s: backends[%zu].state %s: not \"active\" or \"terminating\"",
				    svc, idx, jstr(v, vb, sizeof(vb)));
		b->state = st;
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
		return fail(err, errlen, "services[%zu]: not an object", idx);
	v = cJSON_GetObjectItemCaseSensitive(js, "name");
	if (!cJSON_IsString(v) || !v->valuestring[0] ||
	    strlen(v->valuestring) >= XLB_SVC_NAME_LEN)
		return fail(err, errlen,
			    "services[%zu].name %s: not a string of 1-%d characters",
			    idx, jstr(v, vb, sizeof(vb)), XLB_SVC_NAME_LEN - 1);
	strcpy(s->name, v->valuestring);
	snprintf(id, sizeof(id), "%s", s->name);

	v = cJSON_GetObjectItemCaseSensitive(js, "vip");
	if (!cJSON_IsString(v) ||
	    xlb_addr_parse(v->valuestring, &s->vip.addr, &s->vip.family))
		return fail(err, errlen,
			    "service %s: vip %s: not an IPv4 or IPv6 address",
			    id, jstr(v, vb, sizeof(vb)));
	v = cJSON_GetObjectItemCaseSensitive(js, "port");
	if (parse_port(v, &s->vip.port))
		return fail(err, errlen,
			    "service %s: port %s: not a port (1-65535)", id,
			    jstr(v, vb, sizeof(vb)));
	v = cJSON_GetObjectItemCaseSensitive(js, "protocol");
	rc = cJSON_IsString(v) ? xlb_proto_parse(v->valuestring) : -EINVAL;
	if (rc < 0)
		return fail(err, errlen,
			    "service %s: protocol %s: not \"tcp\" or \"udp\"", id,
			    jstr(v, vb, sizeof(vb)));
	s->vip.proto = rc;

	v = cJSON_GetObjectItemCaseSensitive(js, "maglev_table_size");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < XLB_RING_MIN ||
		    v->valuedouble > XLB_RING_MAX ||
		    v->valuedouble != (double)(int)v->valuedouble ||
		    !xlb_is_prime(v->valueint))
			return fail(err, errlen,
				    "service %s: maglev_table_size %s: not a prime in %d-%d",
				    id, jstr(v, vb, sizeof(vb)), XLB_RING_MIN,
				    XLB_RING_MAX);
		s->table_size = v->valueint;
	}

	jbs = cJSON_GetObjectItemCaseSensitive(js, "backends");
	if (jbs && !cJSON_IsArray(jbs))
		return fail(err, errlen, "service %s: backends %s: not an array",
			    id, jstr(jbs, vb, sizeof(vb)));
	s->n_backends = jbs ? cJSON_GetArraySize(jbs) : 0;
	if (s->n_backends) {
		s->backends = calloc(s->n_backends, sizeof(*s->backends));
		if (!s->backends)
			return -ENOMEM;
	}
	i = 0;
	cJSON_ArrayForEach(jb, jbs) {
		rc = parse_backend(jb, id, i, s->vip.family, &s->backends[i],
				   err, errlen);
		if (rc)
			return rc;
		i++;
	}
	if (s->table_size && s->table_size < s->n_backends)
		return fail(err, errlen,
			    "service %s: maglev_table_size %u: smaller than its %zu backends",
			    id, s->table_size, s->n_backends);
	return 0;
}

static int vip_cmp(const void *a, const void *b)
{
	const struct xlb_model_service *const *x = a, *const *y = b;

	return memcmp(&(*x)->vip, &(*y)->vip, sizeof((*x)->vip));
}

/* Rejects duplicate names, frontends and backends (model sorted). */
static int check_unique(struct xlb_model *m, char *err, size_t errlen)
{
	struct xlb_model_service **byvip;
	char a[XLB_ADDR_STRLEN];
	size_t i, j;
	int rc = 0;

	for (i = 1; i < m->n_services; i++)
		if (!strcmp(m->services[i].name, m->services[i - 1].name))
			return fail(err, errlen,
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
			return fail(err, errlen,
				    "service %s: backend %s port %u: listed twice",
				    s->name, xlb_addr_str(&b->addr, b->family, a),
				    ntohs(b->port));
		}
	}

	byvip = malloc(m->n_services * sizeof(*byvip) + 1);
	if (!byvip)
		return -ENOMEM;
	for (i = 0; i < m->n_services; i++)
		byvip[i] = &m->services[i];
	qsort(byvip, m->n_services, sizeof(*byvip), vip_cmp);
	for (i = 1; i < m->n_services; i++) {
		struct xlb_model_service *s = byvip[i], *p = byvip[i - 1];

		if (memcmp(&s->vip, &p->vip, sizeof(s->vip)))
			continue;
		rc = fail(err, errlen,
			  "service %s: vip %s port %u protocol %s: already used by service %s",
			  s->name, xlb_addr_str(&s->vip.addr, s->vip.family, a),
			  ntohs(s->vip.port), xlb_proto_str(s->vip.proto),
			  p->name);
		break;
	}
	free(byvip);
	return rc;
}

int xlb_config_parse(const char *text, struct xlb_model *m, char *err,
		     size_t errlen)
{
	const cJSON *jsvcs, *js;
	cJSON *root;
	size_t i = 0;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	root = cJSON_Parse(text);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();

		return fail(err, errlen, "config: not valid JSON near \"%.20s\"",
			    at ? at : "");
	}
	if (!cJSON_IsObject(root)) {
		rc = fail(err, errlen, "config: top level is not an object");
		goto out;
	}
	jsvcs = cJSON_GetObjectItemCaseSensitive(root, "services");
	if (!cJSON_IsArray(jsvcs)) {
		rc = fail(err, errlen, "config: \"services\" is missing or not an array");
		goto out;
	}
	m->n_services = cJSON_GetArraySize(jsvcs);
	m->services = calloc(m->n_services + 1, sizeof(*m->services));
	if (!m->services) {
		rc = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(js, jsvcs) {
		rc = parse_service(js, i, &m->services[i], err, errlen);
		if (rc)
			goto out;
		i++;
	}
	xlb_model_sort(m);
	rc = check_unique(m, err, errlen);
out:
	cJSON_Delete(root);
	if (rc)
		xlb_model_free(m);
	return rc;
}

int xlb_model_check(struct xlb_model *m, char *err, size_t errlen)
{
	xlb_model_sort(m);
	return check_unique(m, err, errlen);
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
		return fail(err, errlen, "config %s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		rc = fail(err, errlen, "config %s: cannot read: %s", path,
			  strerror(errno));
		goto out;
	}
	text = malloc(len + 1);
	if (!text) {
		rc = -ENOMEM;
		goto out;
	}
	if (fread(text, 1, len, f) != (size_t)len) {
		rc = fail(err, errlen, "config %s: short read", path);
		goto out;
	}
	text[len] = '\0';
	rc = xlb_config_parse(text, m, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}
