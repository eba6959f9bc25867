// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Model -> config document (see config_write.h). Each default left out
 * here is the value config.c fills in when the field is missing; the two
 * files change together.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config_write.h"
#include "util.h"

/* What config.c assumes for a missing field. */
#define DEF_WEIGHT		1
#define DEF_AFFINITY_TIMEOUT	10800	/* with "session_affinity": "client_ip" */

static int add_str(cJSON *o, const char *key, const char *v)
{
	return cJSON_AddStringToObject(o, key, v) ? 0 : -ENOMEM;
}

static int add_num(cJSON *o, const char *key, double v)
{
	return cJSON_AddNumberToObject(o, key, v) ? 0 : -ENOMEM;
}

static int add_bool(cJSON *o, const char *key, int v)
{
	return cJSON_AddBoolToObject(o, key, v) ? 0 : -ENOMEM;
}

static int add_addr(cJSON *o, const char *key, const union xlb_addr *a,
		    __u8 family)
{
	char buf[XLB_ADDR_STRLEN];

	return add_str(o, key, xlb_addr_str(a, family, buf));
}

/* Starts "key": [...] for a list of n items; nothing (and *arr NULL)
 * for an empty one, which the parser reads as the same. */
static int add_list(cJSON *o, const char *key, size_t n, cJSON **arr)
{
	*arr = n ? cJSON_AddArrayToObject(o, key) : NULL;
	return n && !*arr ? -ENOMEM : 0;
}

/* "key": ["addr", ...] in the model's order (the parser keeps it). */
static int add_addr_list(cJSON *o, const char *key, const union xlb_addr *a,
			 size_t n, __u8 family)
{
	char buf[XLB_ADDR_STRLEN];
	cJSON *arr;
	size_t i;
	int rc = add_list(o, key, n, &arr);

	for (i = 0; !rc && i < n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(
				xlb_addr_str(&a[i], family, buf))))
			rc = -ENOMEM;
	return rc;
}

static int add_cidrs(cJSON *o, const struct xlb_model_service *s, char *err,
		     size_t errlen)
{
	char a[XLB_ADDR_STRLEN], buf[XLB_ADDR_STRLEN + 8];
	cJSON *arr;
	size_t i;
	int rc = add_list(o, "load_balancer_source_ranges", s->n_source_ranges,
			  &arr);

	for (i = 0; !rc && i < s->n_source_ranges; i++) {
		const struct xlb_cidr *c = &s->source_ranges[i];

		if ((c->family != XLB_AF_INET && c->family != XLB_AF_INET6) ||
		    c->len > (c->family == XLB_AF_INET ? 32 : 128))
			return xlb_errf(err, errlen, -EINVAL,
					"service %s: load_balancer_source_ranges[%zu]: family %u, prefix length %u: not a CIDR",
					s->name, i, c->family, c->len);
		snprintf(buf, sizeof(buf), "%s/%u",
			 xlb_addr_str(&c->addr, c->family, a), c->len);
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(buf)))
			rc = -ENOMEM;
	}
	return rc;
}

static int add_groups(cJSON *o, const struct xlb_model_service *s)
{
	cJSON *arr, *g;
	size_t i;
	int rc = add_list(o, "groups", s->n_groups, &arr);

	for (i = 0; !rc && i < s->n_groups; i++) {
		g = cJSON_CreateObject();
		if (!cJSON_AddItemToArray(arr, g) ||
		    add_str(g, "name", s->groups[i].name) ||
		    add_num(g, "percent", s->groups[i].percent))
			rc = -ENOMEM;
	}
	return rc;
}

static int add_backend(cJSON *arr, const struct xlb_model_service *s,
		       const struct xlb_model_backend *b, char *err,
		       size_t errlen)
{
	cJSON *o = cJSON_CreateObject();
	char a[XLB_ADDR_STRLEN];
	int rc;

	if (!cJSON_AddItemToArray(arr, o))
		return -ENOMEM;
	if (b->state != XLB_BE_ACTIVE && b->state != XLB_BE_TERMINATING)
		return xlb_errf(err, errlen, -EINVAL,
				"service %s: backend %s port %u: state %u: not active or terminating",
				s->name, xlb_addr_str(&b->addr, b->family, a),
				ntohs(b->port), b->state);
	if (b->group > s->n_groups || (s->n_groups && !b->group))
		return xlb_errf(err, errlen, -EINVAL,
				"service %s: backend %s port %u: group %u: not one of the service's %zu groups",
				s->name, xlb_addr_str(&b->addr, b->family, a),
				ntohs(b->port), b->group, s->n_groups);
	rc = add_addr(o, "ip", &b->addr, b->family);
	if (!rc)
		rc = add_num(o, "port", ntohs(b->port));
	if (!rc && b->weight != DEF_WEIGHT)
		rc = add_num(o, "weight", b->weight);
	if (!rc && b->group)
		rc = add_str(o, "group", s->groups[b->group - 1].name);
	if (!rc && b->local)
		rc = add_bool(o, "local", 1);
	if (!rc && b->state != XLB_BE_ACTIVE)
		rc = add_str(o, "state", xlb_be_state_str(b->state));
	/* serving defaults to true whatever the state. */
	if (!rc && !b->serving)
		rc = add_bool(o, "serving", 0);
	return rc;
}

static int be_ptr_cmp(const void *x, const void *y)
{
	const struct xlb_model_backend *a = *(const void *const *)x;
	const struct xlb_model_backend *b = *(const void *const *)y;

	return xlb_be_identity_cmp(&a->addr, a->port, a->family, &b->addr,
				   b->port, b->family);
}

static int svc_ptr_cmp(const void *x, const void *y)
{
	const struct xlb_model_service *a = *(const void *const *)x;
	const struct xlb_model_service *b = *(const void *const *)y;

	return strcmp(a->name, b->name);
}

/* "backends": [...] in identity order, whatever the model's order. */
static int add_backends(cJSON *o, const struct xlb_model_service *s,
			char *err, size_t errlen)
{
	const struct xlb_model_backend **order;
	cJSON *arr;
	size_t i;
	int rc = add_list(o, "backends", s->n_backends, &arr);

	if (rc || !s->n_backends)
		return rc;
	order = calloc(s->n_backends, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < s->n_backends; i++)
		order[i] = &s->backends[i];
	xlb_qsort(order, s->n_backends, sizeof(*order), be_ptr_cmp);
	for (i = 0; !rc && i < s->n_backends; i++) {
		if (order[i]->family != s->vip.family)
			rc = xlb_errf(err, errlen, -EINVAL,
				      "service %s: backends[%zu]: family %u differs from the vip's",
				      s->name, i, order[i]->family);
		else
			rc = add_backend(arr, s, order[i], err, errlen);
	}
	free(order);
	return rc;
}

/* Session affinity, the two traffic policies and source NAT. */
static int add_policies(cJSON *o, const struct xlb_model_service *s)
{
	int rc = 0;

	if (s->affinity_timeout)
		rc = add_str(o, "session_affinity", "client_ip");
	if (!rc && s->affinity_timeout &&
	    s->affinity_timeout != DEF_AFFINITY_TIMEOUT)
		rc = add_num(o, "session_affinity_timeout", s->affinity_timeout);
	if (!rc && s->external_local)
		rc = add_str(o, "external_traffic_policy", "local");
	if (!rc && s->internal_local)
		rc = add_str(o, "internal_traffic_policy", "local");
	if (!rc && s->snat == XLB_SNAT_ALL)
		rc = add_bool(o, "snat", 1);
	if (!rc && s->snat == XLB_SNAT_REMOTE)
		rc = add_str(o, "snat", "remote");
	if (!rc && s->dsr == XLB_DSR_IPIP)
		rc = add_str(o, "dsr", "ipip");
	return rc;
}

/* One service, its fields in the order of the README's table. */
static int add_service(cJSON *arr, const struct xlb_model_service *s,
		       char *err, size_t errlen)
{
	__u8 f = s->vip.family;
	cJSON *o = cJSON_CreateObject();
	int rc;

	if (!cJSON_AddItemToArray(arr, o))
		return -ENOMEM;
	if (f != XLB_AF_INET && f != XLB_AF_INET6)
		return xlb_errf(err, errlen, -EINVAL,
				"service %s: vip: family %u: not IPv4 or IPv6",
				s->name, f);
	if (s->vip.proto != IPPROTO_TCP && s->vip.proto != IPPROTO_UDP)
		return xlb_errf(err, errlen, -EINVAL,
				"service %s: protocol %u: not tcp or udp",
				s->name, s->vip.proto);
	rc = add_str(o, "name", s->name);
	if (!rc)
		rc = add_addr(o, "vip", &s->vip.addr, f);
	if (!rc)
		rc = add_num(o, "port", ntohs(s->vip.port));
	if (!rc)
		rc = add_str(o, "protocol", xlb_proto_str(s->vip.proto));
	if (!rc && s->table_size)
		rc = add_num(o, "maglev_table_size", s->table_size);
	if (!rc)
		rc = add_addr_list(o, "external_ips", s->external_ips,
				   s->n_external_ips, f);
	if (!rc)
		rc = add_addr_list(o, "load_balancer_ips", s->lb_ips,
				   s->n_lb_ips, f);
	if (!rc && s->node_port)
		rc = add_num(o, "node_port", s->node_port);
	if (!rc)
		rc = add_policies(o, s);
	if (!rc)
		rc = add_cidrs(o, s, err, errlen);
	if (!rc)
		rc = add_groups(o, s);
	if (!rc)
		rc = add_backends(o, s, err, errlen);
	return rc;
}

int xlb_config_json(const struct xlb_model *m, cJSON **out, char *err,
		    size_t errlen)
{
	const struct xlb_model_service **order;
	cJSON *root, *arr;
	size_t i;
	int rc = 0;

	*out = NULL;
	root = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(root, "services");
	order = calloc(m->n_services + 1, sizeof(*order));
	if (!arr || !order) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m->n_services; i++)
		order[i] = &m->services[i];
	xlb_qsort(order, m->n_services, sizeof(*order), svc_ptr_cmp);
	for (i = 0; !rc && i < m->n_services; i++)
		rc = add_service(arr, order[i], err, errlen);
out:
	free(order);
	if (rc)
		cJSON_Delete(root);
	else
		*out = root;
	return rc;
}

int xlb_config_write(const struct xlb_model *m, char **text, char *err,
		     size_t errlen)
{
	cJSON *root;
	char *s;
	size_t n;
	int rc;

	*text = NULL;
	rc = xlb_config_json(m, &root, err, errlen);
	if (rc)
		return rc;
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return -ENOMEM;
	/* A text file ends with a newline: goldens are edited as text. */
	n = strlen(s);
	*text = malloc(n + 2);
	if (*text) {
		memcpy(*text, s, n);
		memcpy(*text + n, "\n", 2);
	}
	cJSON_free(s);
	return *text ? 0 : -ENOMEM;
}
