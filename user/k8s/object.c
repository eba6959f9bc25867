// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * JSON -> the compact objects of k8s_object.h, in the watch threads as
 * each object arrives. What is read here is what kube-proxy reads, with
 * its defaults applied (a port's protocol TCP, an endpoint ready unless
 * it says not); the rules that need the other objects (which slice
 * port a Service port takes, topology) stay in translate.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "k8s_object.h"
#include "util.h"

#define LBL_PROXY_NAME "service.kubernetes.io/service-proxy-name"
#define LBL_HEADLESS "service.kubernetes.io/headless"
#define LBL_SVC_NAME "kubernetes.io/service-name"
#define LBL_ZONE "topology.kubernetes.io/zone"
#define ANN_TOPO_MODE "service.kubernetes.io/topology-mode"
#define ANN_TOPO_HINTS "service.kubernetes.io/topology-aware-hints"
#define AFFINITY_DEFAULT 10800

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *label(const cJSON *obj, const char *group, const char *k)
{
	return get_str(get(get(obj, "metadata"), group), k);
}

/* A port number in 1..65535, else 0. */
static __u16 port_num(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valueint >= 1 && v->valueint <= 65535 ?
		       v->valueint : 0;
}

/* "namespace/name" (ns may be NULL) into buf, if it fits. */
static int ns_key(char *buf, size_t len, const char *ns, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", ns ? ns : "", name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int xlb_k8s_obj_key(const cJSON *obj, char *buf, size_t len)
{
	const cJSON *md = get(obj, "metadata");
	const char *ns = get_str(md, "namespace"), *name = get_str(md, "name");

	if (!name || !name[0])
		return -EINVAL;
	return ns_key(buf, len, ns, name);
}

const char *xlb_k8s_obj_rv(const cJSON *obj)
{
	const char *rv = get_str(get(obj, "metadata"), "resourceVersion");

	return rv ? rv : "";
}

int xlb_k8s_slice_service_key(const cJSON *slice, char *buf, size_t len)
{
	const char *ns = get_str(get(slice, "metadata"), "namespace");
	const char *svc = label(slice, "labels", LBL_SVC_NAME);

	if (!svc || !svc[0])
		return -ENOENT;
	return ns_key(buf, len, ns, svc);
}

const char *xlb_k8s_node_zone(const cJSON *node)
{
	const char *z = label(node, "labels", LBL_ZONE);

	return z && z[0] ? z : NULL;
}

const char *xlb_k8s_svc_skip_reason(const cJSON *svc)
{
	const cJSON *spec = get(svc, "spec");
	const char *v;

	v = label(svc, "labels", LBL_PROXY_NAME);
	if (v && strcmp(v, "xlb"))
		return "handled by another proxy (" LBL_PROXY_NAME ")";
	if (label(svc, "labels", LBL_HEADLESS))
		return "headless (" LBL_HEADLESS " label)";
	v = get_str(spec, "type");
	if (v && !strcmp(v, "ExternalName"))
		return "type ExternalName";
	v = get_str(spec, "clusterIP");
	if (v && !strcasecmp(v, "None"))
		return "headless (clusterIP None)";
	if (!v || !v[0])
		return "no cluster IP";
	return NULL;
}

/* strdup that keeps NULL; *bad set on ENOMEM. */
static char *dup(const char *s, bool *bad)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*bad = true;
	return d;
}

/* calloc of n (at least one) elements; *bad set on ENOMEM. */
static void *array(size_t n, size_t size, bool *bad)
{
	void *v = calloc(n ? n : 1, size);

	if (!v)
		*bad = true;
	return v;
}

/*
 * An object is built with an allocation per part, then copied into one
 * block (arrays first, 8-byte aligned, then the strings) and the parts
 * freed: 100,000 Services and their slices take half the memory that
 * way, a malloc header and a rounded chunk less per string and array.
 * The _size functions count what the _pack functions place, piece by
 * piece in the same order.
 */
#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

struct pack {
	char *arr, *str;	/* where the next array, string goes */
};

static void *pack_arr(struct pack *pk, const void *src, size_t size)
{
	void *d = pk->arr;

	if (!size)
		return NULL;
	memcpy(d, src, size);
	pk->arr += ALIGN8(size);
	return d;
}

static char *pack_str(struct pack *pk, const char *s)
{
	char *d = pk->str;
	size_t n = str_size(s);

	if (!n)
		return NULL;
	memcpy(d, s, n);
	pk->str += n;
	return d;
}

/* The block for an object of arrays bytes (aligned) and strs bytes:
 * *pk set to fill it after its head struct. */
static void *pack_alloc(size_t head, size_t arrays, size_t strs,
			struct pack *pk)
{
	char *b = malloc(ALIGN8(head) + arrays + strs);

	if (!b)
		return NULL;
	pk->arr = b + ALIGN8(head);
	pk->str = pk->arr + arrays;
	return b;
}

/* The key and resourceVersion of a Service or slice. */
static int meta(const cJSON *obj, char **key, char **rv)
{
	char buf[XLB_K8S_KEY_LEN];
	int rc = xlb_k8s_obj_key(obj, buf, sizeof(buf));

	if (rc)
		return rc == -ENAMETOOLONG ? -EINVAL : rc;
	*key = strdup(buf);
	*rv = strdup(xlb_k8s_obj_rv(obj));
	return *key && *rv ? 0 : -ENOMEM;
}

/* ---- Services ---- */

/* An address as an object wrote it; sub: the field of each entry that
 * holds it (ingress entries), and Proxy-mode or address-less entries
 * are then left out. Returns false for an entry left out. */
static bool ip_entry(const cJSON *v, const char *sub, struct xlb_k8s_ip *ip,
		     bool *bad)
{
	const cJSON *s = sub ? get(v, sub) : v;

	memset(ip, 0, sizeof(*ip));
	if (sub) {
		const char *mode = get_str(v, "ipMode");

		if (!s)
			return false;	/* an ingress with a hostname only */
		/* kube-proxy leaves Proxy-mode IPs to the LB. */
		if (mode && !strcmp(mode, "Proxy"))
			return false;
	}
	if (!cJSON_IsString(s) ||
	    xlb_addr_parse(s->valuestring, &ip->a.addr, &ip->a.family)) {
		ip->a.family = 0;
		ip->text = dup(cJSON_IsString(s) ? s->valuestring : "?", bad);
	}
	return true;
}

/* A CIDR, blanks around it trimmed as kube-proxy does. */
static void cidr_entry(const cJSON *v, struct xlb_k8s_ip *ip, bool *bad)
{
	memset(ip, 0, sizeof(*ip));
	if (cJSON_IsString(v) && !xlb_cidr_parse(v->valuestring, &ip->a))
		return;
	memset(&ip->a, 0, sizeof(ip->a));
	ip->text = dup(cJSON_IsString(v) ? v->valuestring : "?", bad);
}

/* The entries of arr (NULL, or not an array: none). */
static struct xlb_k8s_ip *ip_list(const cJSON *arr, const char *sub,
				  bool cidr, size_t *n, bool *bad)
{
	struct xlb_k8s_ip *v = array(cJSON_GetArraySize(arr), sizeof(*v), bad);
	const cJSON *e;

	*n = 0;
	if (!v)
		return NULL;
	cJSON_ArrayForEach(e, arr) {
		if (cidr)
			cidr_entry(e, &v[*n], bad);
		else if (!ip_entry(e, sub, &v[*n], bad))
			continue;
		(*n)++;
	}
	return v;
}

/* clusterIPs (dual-stack), else clusterIP: one per family, the first
 * that is not an address kept in bad_cip. */
static void cluster_ips(const cJSON *spec, struct xlb_k8s_svc *s, bool *bad)
{
	const cJSON *ips = get(spec, "clusterIPs"), *ip;

	if (!cJSON_IsArray(ips) || !cJSON_GetArraySize(ips)) {
		/* skip_reason made sure clusterIP is a string */
		ip = get(spec, "clusterIP");
		if (xlb_addr_parse(ip->valuestring, &s->cips[0], &s->cfams[0]))
			goto bad;
		s->n_cips = 1;
		return;
	}
	cJSON_ArrayForEach(ip, ips) {
		if (s->n_cips == 2)
			break;
		if (!cJSON_IsString(ip) ||
		    xlb_addr_parse(ip->valuestring, &s->cips[s->n_cips],
				   &s->cfams[s->n_cips]))
			goto bad;
		if (s->n_cips && s->cfams[0] == s->cfams[s->n_cips])
			continue;
		s->n_cips++;
	}
	return;
bad:
	s->n_cips = 0;
	s->bad_cip = dup(cJSON_IsString(ip) ? ip->valuestring : "(missing)",
			 bad);
}

/* The name (NULL when unnamed), number and protocol of an entry of a
 * Service's or a slice's ports: IPPROTO_TCP (the default), _UDP, or 0
 * for another, whose name is then in *other. */
static __u8 port_entry(const cJSON *port, char **name, __u16 *num,
		       const char **other, bool *bad)
{
	const char *n = get_str(port, "name");
	const char *proto = get_str(port, "protocol");

	if (n && n[0])
		*name = dup(n, bad);
	*num = port_num(get(port, "port"));
	*other = NULL;
	if (!proto || !strcmp(proto, "TCP"))
		return IPPROTO_TCP;
	if (!strcmp(proto, "UDP"))
		return IPPROTO_UDP;
	*other = proto;
	return 0;
}

static void svc_ports(const cJSON *arr, struct xlb_k8s_svc *s, bool *bad)
{
	const cJSON *port;

	s->ports = array(cJSON_GetArraySize(arr), sizeof(*s->ports), bad);
	if (!s->ports)
		return;
	cJSON_ArrayForEach(port, arr) {
		struct xlb_k8s_port *p = &s->ports[s->n_ports++];
		const char *other;

		p->ipproto = port_entry(port, &p->name, &p->num, &other, bad);
		p->bad_proto = dup(other, bad);
		p->node_port = port_num(get(port, "nodePort"));
	}
}

/* Affinity, traffic policies, topology: the settings of every port. */
static void svc_settings(const cJSON *obj, const cJSON *spec,
			 struct xlb_k8s_svc *s)
{
	const cJSON *t;
	const char *v;

	v = get_str(spec, "sessionAffinity");
	if (v && !strcmp(v, "ClientIP")) {
		t = get(get(get(spec, "sessionAffinityConfig"), "clientIP"),
			"timeoutSeconds");
		s->affinity_timeout = cJSON_IsNumber(t) && t->valueint > 0 &&
					      t->valueint <= 86400 ?
					      (__u32)t->valueint :
					      AFFINITY_DEFAULT;
	}
	v = get_str(spec, "externalTrafficPolicy");
	s->external_local = v && !strcmp(v, "Local");
	v = get_str(spec, "internalTrafficPolicy");
	s->internal_local = v && !strcmp(v, "Local");
	v = get_str(spec, "trafficDistribution");
	if (v && (!strcmp(v, "PreferClose") || !strcmp(v, "PreferSameZone")))
		s->topo = 1;
	else if (v && !strcmp(v, "PreferSameNode"))
		s->topo = 2;
	v = label(obj, "annotations", ANN_TOPO_MODE);
	if (!v)
		v = label(obj, "annotations", ANN_TOPO_HINTS);
	if (!s->topo && v && v[0] && strcasecmp(v, "disabled"))
		s->topo = 1;
	s->hc_port = port_num(get(spec, "healthCheckNodePort"));
}

static void ip_list_free(struct xlb_k8s_ip *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i].text);
	free(v);
}

/* Frees a Service as built, part by part. */
static void svc_free_parts(struct xlb_k8s_svc *s)
{
	size_t i;

	if (!s)
		return;
	free(s->key);
	free(s->rv);
	free(s->bad_cip);
	for (i = 0; s->ports && i < s->n_ports; i++) {
		free(s->ports[i].name);
		free(s->ports[i].bad_proto);
	}
	free(s->ports);
	ip_list_free(s->external_ips, s->n_external_ips);
	ip_list_free(s->lb_ips, s->n_lb_ips);
	ip_list_free(s->source_ranges, s->n_source_ranges);
	free(s);
}

static size_t ips_str_size(const struct xlb_k8s_ip *v, size_t n)
{
	size_t i, sz = 0;

	for (i = 0; i < n; i++)
		sz += str_size(v[i].text);
	return sz;
}

static struct xlb_k8s_ip *pack_ips(struct pack *pk, const struct xlb_k8s_ip *v,
				   size_t n)
{
	struct xlb_k8s_ip *d = pack_arr(pk, v, n * sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++)
		d[i].text = pack_str(pk, v[i].text);
	return d;
}

/* s in one block, or NULL. */
static struct xlb_k8s_svc *svc_pack(const struct xlb_k8s_svc *s)
{
	size_t arrays = ALIGN8(s->n_ports * sizeof(*s->ports)) +
			ALIGN8(s->n_external_ips * sizeof(*s->external_ips)) +
			ALIGN8(s->n_lb_ips * sizeof(*s->lb_ips)) +
			ALIGN8(s->n_source_ranges * sizeof(*s->source_ranges));
	size_t strs = str_size(s->key) + str_size(s->rv) +
		      str_size(s->bad_cip) +
		      ips_str_size(s->external_ips, s->n_external_ips) +
		      ips_str_size(s->lb_ips, s->n_lb_ips) +
		      ips_str_size(s->source_ranges, s->n_source_ranges);
	struct xlb_k8s_svc *d;
	struct pack pk;
	size_t i;

	for (i = 0; i < s->n_ports; i++)
		strs += str_size(s->ports[i].name) +
			str_size(s->ports[i].bad_proto);
	d = pack_alloc(sizeof(*d), arrays, strs, &pk);
	if (!d)
		return NULL;
	*d = *s;
	d->ports = pack_arr(&pk, s->ports, s->n_ports * sizeof(*s->ports));
	d->external_ips = pack_ips(&pk, s->external_ips, s->n_external_ips);
	d->lb_ips = pack_ips(&pk, s->lb_ips, s->n_lb_ips);
	d->source_ranges = pack_ips(&pk, s->source_ranges, s->n_source_ranges);
	d->key = pack_str(&pk, s->key);
	d->rv = pack_str(&pk, s->rv);
	d->bad_cip = pack_str(&pk, s->bad_cip);
	for (i = 0; i < s->n_ports; i++) {
		d->ports[i].name = pack_str(&pk, s->ports[i].name);
		d->ports[i].bad_proto = pack_str(&pk, s->ports[i].bad_proto);
	}
	return d;
}

int xlb_k8s_svc_extract(const cJSON *obj, struct xlb_k8s_svc **out)
{
	const cJSON *spec = get(obj, "spec");
	const cJSON *ingress = get(get(get(obj, "status"), "loadBalancer"),
				   "ingress");
	struct xlb_k8s_svc *s = calloc(1, sizeof(*s));
	bool bad = false;
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	rc = meta(obj, &s->key, &s->rv);
	if (rc)
		goto fail;
	s->skip = xlb_k8s_svc_skip_reason(obj);
	if (!s->skip) {
		svc_settings(obj, spec, s);
		cluster_ips(spec, s, &bad);
		svc_ports(get(spec, "ports"), s, &bad);
		s->external_ips = ip_list(get(spec, "externalIPs"), NULL, false,
					  &s->n_external_ips, &bad);
		s->lb_ips = ip_list(ingress, "ip", false, &s->n_lb_ips, &bad);
		s->source_ranges = ip_list(get(spec, "loadBalancerSourceRanges"),
					   NULL, true, &s->n_source_ranges,
					   &bad);
	}
	rc = -ENOMEM;
	if (!bad)
		*out = svc_pack(s);
	if (*out)
		rc = 0;
fail:
	svc_free_parts(s);
	return rc;
}

/* ---- EndpointSlices ---- */

static bool cond(const cJSON *conds, const char *k, bool def)
{
	const cJSON *v = get(conds, k);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static void hint_list(const cJSON *arr, struct xlb_k8s_hint_list *l,
		      bool *bad)
{
	const cJSON *h;

	l->any = cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > 0;
	if (!l->any)
		return;
	l->names = array(cJSON_GetArraySize(arr), sizeof(*l->names), bad);
	if (!l->names)
		return;
	cJSON_ArrayForEach(h, arr) {
		const char *n = get_str(h, "name");

		if (n)
			l->names[l->n++] = dup(n, bad);
	}
}

static void hint_list_free(struct xlb_k8s_hint_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
}

static void endpoint(const cJSON *ep, __u8 family, struct xlb_k8s_ep *e,
		     bool *bad)
{
	const cJSON *conds = get(ep, "conditions");
	const cJSON *a0 = cJSON_GetArrayItem(get(ep, "addresses"), 0);
	const cJSON *hints = get(ep, "hints");
	__u8 f;

	if (!cJSON_IsString(a0) ||
	    xlb_addr_parse(a0->valuestring, &e->addr, &f) || f != family) {
		memset(&e->addr, 0, sizeof(e->addr));
		e->bad_addr = dup(cJSON_IsString(a0) ? a0->valuestring :
						       "(missing)", bad);
		return;
	}
	e->ready = cond(conds, "ready", true);
	e->serving = cond(conds, "serving", e->ready);
	e->terminating = cond(conds, "terminating", false);
	e->node = dup(get_str(ep, "nodeName"), bad);
	if (!hints)
		return;
	e->hints = calloc(1, sizeof(*e->hints));
	if (!e->hints) {
		*bad = true;
		return;
	}
	hint_list(get(hints, "forZones"), &e->hints->zones, bad);
	hint_list(get(hints, "forNodes"), &e->hints->nodes, bad);
}

/* Frees a slice as built, part by part. */
static void slice_free_parts(struct xlb_k8s_slice *s)
{
	size_t i;

	if (!s)
		return;
	free(s->key);
	free(s->rv);
	free(s->svc_key);
	for (i = 0; s->ports && i < s->n_ports; i++)
		free(s->ports[i].name);
	free(s->ports);
	for (i = 0; s->eps && i < s->n_eps; i++) {
		free(s->eps[i].bad_addr);
		free(s->eps[i].node);
		if (s->eps[i].hints) {
			hint_list_free(&s->eps[i].hints->zones);
			hint_list_free(&s->eps[i].hints->nodes);
			free(s->eps[i].hints);
		}
	}
	free(s->eps);
	free(s);
}

static void hint_list_size(const struct xlb_k8s_hint_list *l, size_t *arrays,
			   size_t *strs)
{
	size_t i;

	*arrays += ALIGN8(l->n * sizeof(*l->names));
	for (i = 0; i < l->n; i++)
		*strs += str_size(l->names[i]);
}

static void pack_hint_list(struct pack *pk, struct xlb_k8s_hint_list *d)
{
	char **src = d->names;
	size_t i;

	d->names = pack_arr(pk, src, d->n * sizeof(*src));
	for (i = 0; i < d->n; i++)
		d->names[i] = pack_str(pk, src[i]);
}

static struct xlb_k8s_slice *slice_pack(const struct xlb_k8s_slice *s)
{
	size_t arrays = ALIGN8(s->n_ports * sizeof(*s->ports)) +
			ALIGN8(s->n_eps * sizeof(*s->eps));
	size_t strs = str_size(s->key) + str_size(s->rv) +
		      str_size(s->svc_key);
	struct xlb_k8s_slice *d;
	struct pack pk;
	size_t i;

	for (i = 0; i < s->n_ports; i++)
		strs += str_size(s->ports[i].name);
	for (i = 0; i < s->n_eps; i++) {
		const struct xlb_k8s_ep *e = &s->eps[i];

		strs += str_size(e->bad_addr) + str_size(e->node);
		if (!e->hints)
			continue;
		arrays += ALIGN8(sizeof(*e->hints));
		hint_list_size(&e->hints->zones, &arrays, &strs);
		hint_list_size(&e->hints->nodes, &arrays, &strs);
	}
	d = pack_alloc(sizeof(*d), arrays, strs, &pk);
	if (!d)
		return NULL;
	*d = *s;
	d->ports = pack_arr(&pk, s->ports, s->n_ports * sizeof(*s->ports));
	d->eps = pack_arr(&pk, s->eps, s->n_eps * sizeof(*s->eps));
	for (i = 0; i < s->n_eps; i++) {
		struct xlb_k8s_ep *e = &d->eps[i];

		if (!e->hints)
			continue;
		e->hints = pack_arr(&pk, e->hints, sizeof(*e->hints));
		pack_hint_list(&pk, &e->hints->zones);
		pack_hint_list(&pk, &e->hints->nodes);
	}
	d->key = pack_str(&pk, s->key);
	d->rv = pack_str(&pk, s->rv);
	d->svc_key = pack_str(&pk, s->svc_key);
	for (i = 0; i < s->n_ports; i++)
		d->ports[i].name = pack_str(&pk, s->ports[i].name);
	for (i = 0; i < s->n_eps; i++) {
		d->eps[i].bad_addr = pack_str(&pk, s->eps[i].bad_addr);
		d->eps[i].node = pack_str(&pk, s->eps[i].node);
	}
	return d;
}

int xlb_k8s_slice_extract(const cJSON *obj, struct xlb_k8s_slice **out)
{
	const char *at = get_str(obj, "addressType");
	const cJSON *ports = get(obj, "ports"), *p, *ep;
	struct xlb_k8s_slice *s = calloc(1, sizeof(*s));
	char skey[XLB_K8S_KEY_LEN];
	bool bad = false;
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	rc = meta(obj, &s->key, &s->rv);
	if (rc)
		goto fail;
	if (!xlb_k8s_slice_service_key(obj, skey, sizeof(skey)))
		s->svc_key = dup(skey, &bad);
	if (at && !strcmp(at, "IPv4"))
		s->family = XLB_AF_INET;
	else if (at && !strcmp(at, "IPv6"))
		s->family = XLB_AF_INET6;
	s->ports = array(cJSON_GetArraySize(ports), sizeof(*s->ports), &bad);
	if (!s->ports)
		ports = NULL;
	cJSON_ArrayForEach(p, ports) {
		struct xlb_k8s_slice_port *sp = &s->ports[s->n_ports++];
		const char *other;	/* matches no Service port */

		sp->ipproto = port_entry(p, &sp->name, &sp->num, &other, &bad);
	}
	/* Endpoints of another address type (FQDN) are never used. */
	if (s->family) {
		const cJSON *eps = get(obj, "endpoints");

		s->eps = array(cJSON_GetArraySize(eps), sizeof(*s->eps), &bad);
		if (!s->eps)
			eps = NULL;
		cJSON_ArrayForEach(ep, eps)
			endpoint(ep, s->family, &s->eps[s->n_eps++], &bad);
	}
	rc = -ENOMEM;
	if (!bad)
		*out = slice_pack(s);
	if (*out)
		rc = 0;
fail:
	slice_free_parts(s);
	return rc;
}

/* ---- Nodes, and freeing ---- */

int xlb_k8s_node_extract(const cJSON *obj, struct xlb_k8s_node **out)
{
	const char *z = xlb_k8s_node_zone(obj);
	struct xlb_k8s_node *n = calloc(1, sizeof(*n));

	*out = NULL;
	if (!n || (z && !(n->zone = strdup(z)))) {
		free(n);
		return -ENOMEM;
	}
	*out = n;
	return 0;
}

/* A Service and a slice are one block each (svc_pack, slice_pack). */
void xlb_k8s_svc_free(struct xlb_k8s_svc *s)
{
	free(s);
}

void xlb_k8s_slice_free(struct xlb_k8s_slice *s)
{
	free(s);
}

void xlb_k8s_node_free(struct xlb_k8s_node *n)
{
	if (!n)
		return;
	free(n->zone);
	free(n);
}
