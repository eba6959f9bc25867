// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Service + EndpointSlices -> model services, following kube-proxy:
 * one xlb service per (Service, port, IP family), its frontends the
 * cluster IP of that family, the NodePort, the external IPs and the
 * load-balancer ingress IPs; its backends the endpoints of every slice
 * of the Service with that address type, joined to the Service port by
 * port name and protocol.
 *
 * Topology: when the Service asks for it (the topology-mode annotation
 * or a trafficDistribution) and every ready endpoint carries hints, of
 * which some are for this node's zone (or, for PreferSameNode, for this
 * node), the ready endpoints hinted elsewhere get weight 0: they stay
 * ready in the model (so the terminating fallback, which looks for
 * ready endpoints, does not kick in) and keep their established flows,
 * but take no new ones (the map then shows them out of the ring, as
 * "terminating" with weight 0). Leaving them out instead would
 * re-balance their established flows; marking them terminating in the
 * model would claim something false and could trigger the fallback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "k8s_translate.h"
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

static __u32 fnv1a(const char *s)
{
	__u32 h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

void xlb_k8s_svc_name(char *buf, const char *key, const char *port,
		      const char *proto, int v6)
{
	char full[XLB_K8S_KEY_LEN + 96];
	size_t n;

	n = snprintf(full, sizeof(full), "%s:%s/%s%s", key, port, proto,
		     v6 ? "/v6" : "");
	if (n < XLB_SVC_NAME_LEN) {
		memcpy(buf, full, n + 1);
		return;
	}
	/* Too long for the maps: keep the start, then ~ and a hash of the
	 * whole name so that two long names stay apart. */
	snprintf(buf, XLB_SVC_NAME_LEN, "%.*s~%08x", XLB_SVC_NAME_LEN - 10,
		 full, fnv1a(full));
}


/* One Service's translation: its objects, the settings shared by every
 * (port, family), and where the parts left out are reported. */
struct svc_common {
	const cJSON *svc, *spec;
	const cJSON *const *slices;
	size_t n_slices;
	const struct xlb_k8s_node_info *node;
	char key[XLB_K8S_KEY_LEN];
	__u32 affinity_timeout;
	__u8 external_local, internal_local;
	int topo;		/* 0 none, 1 zone hints, 2 node hints too */
	union xlb_addr cips[2];	/* the cluster IPs, one per family */
	__u8 cfams[2];
	size_t n_ips;
	size_t *n_warn;		/* parts left out */
	char *err;		/* the last one's reason, or why it failed */
	size_t errlen;
};

/* A part of the Service left out: counted, its reason kept in err (the
 * last one wins), formatted as every other error is. */
#define warn(c, ...)                                                       \
	((void)(*(c)->n_warn)++,                                           \
	 (void)xlb_errf((c)->err, (c)->errlen, 0, __VA_ARGS__))

/* One entry of spec.ports, as the model takes it. */
struct svc_port {
	const char *name;	/* "" when unnamed */
	const char *proto;	/* as the Service spells it: "TCP", "UDP" */
	int ipproto;
	int num;
	__u16 node_port;	/* 0: none */
	char num_str[16];	/* num, the name of an unnamed port */
};

struct cand {
	struct xlb_model_backend b;
	const cJSON *ep;	/* the endpoint, for its hints */
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static bool hints_have(const cJSON *ep, const char *field, const char *want)
{
	const cJSON *arr = get(get(ep, "hints"), field), *h;

	cJSON_ArrayForEach(h, arr) {
		const char *n = get_str(h, "name");

		if (n && !strcmp(n, want))
			return true;
	}
	return false;
}

static bool hints_any(const cJSON *ep, const char *field)
{
	const cJSON *arr = get(get(ep, "hints"), field);

	return cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > 0;
}

/* kube-proxy's rule: hints are used only when every ready endpoint has
 * some, and some are for us; then the others take no new flows. */
static void apply_topology(const struct svc_common *c, struct cand *v,
			   size_t n)
{
	static const char *const field[2] = { "forZones", "forNodes" };
	int pass;
	size_t i;

	for (pass = c->topo - 1; pass >= 0; pass--) {
		const char *want = pass ? c->node->name : c->node->zone;
		bool all = true, some = false;

		if (!want || !want[0])
			continue;
		for (i = 0; i < n; i++) {
			if (v[i].b.state != XLB_BE_ACTIVE)
				continue;
			if (!hints_any(v[i].ep, field[pass]))
				all = false;
			else if (hints_have(v[i].ep, field[pass], want))
				some = true;
		}
		if (!all || !some)
			continue;
		for (i = 0; i < n; i++)
			if (v[i].b.state == XLB_BE_ACTIVE &&
			    !hints_have(v[i].ep, field[pass], want))
				v[i].b.weight = 0;
		return;
	}
}

static bool cond(const cJSON *conds, const char *k, bool def)
{
	const cJSON *v = get(conds, k);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

/* The slice's port number for the Service port (name, proto), or 0. */
static int slice_port(const cJSON *slice, const char *name, const char *proto)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, get(slice, "ports")) {
		const char *pn = get_str(p, "name"), *pp = get_str(p, "protocol");
		const cJSON *num = get(p, "port");

		if (strcmp(pn ? pn : "", name))
			continue;
		if (strcmp(pp ? pp : "TCP", proto))
			continue;
		if (!cJSON_IsNumber(num) || num->valueint < 1 ||
		    num->valueint > 65535)
			return 0;
		return num->valueint;
	}
	return 0;
}

/* An endpoint of a slice as a backend on port; -EINVAL (warned) when
 * its address is not one of the family. */
static int endpoint_cand(const struct svc_common *c, const cJSON *ep,
			 int port, __u8 family, struct cand *cd)
{
	const cJSON *conds = get(ep, "conditions");
	const cJSON *a0 = cJSON_GetArrayItem(get(ep, "addresses"), 0);
	const char *nn = get_str(ep, "nodeName");
	bool ready, serving, term;
	__u8 f;

	memset(cd, 0, sizeof(*cd));
	cd->ep = ep;
	if (!cJSON_IsString(a0) ||
	    xlb_addr_parse(a0->valuestring, &cd->b.addr, &f) || f != family) {
		warn(c, "service %s: endpoint address %s: not an %s address",
		     c->key, cJSON_IsString(a0) ? a0->valuestring : "(missing)",
		     family == XLB_AF_INET6 ? "IPv6" : "IPv4");
		return -EINVAL;
	}
	ready = cond(conds, "ready", true);
	serving = cond(conds, "serving", ready);
	term = cond(conds, "terminating", false);
	cd->b.family = family;
	cd->b.port = htons(port);
	cd->b.weight = 1;
	cd->b.state = ready ? XLB_BE_ACTIVE : XLB_BE_TERMINATING;
	/* Not ready: keeps its flows; takes new ones only in the fallback,
	 * and only if serving while terminating (a pod failing its
	 * readiness probe takes none). */
	cd->b.serving = ready || (serving && term);
	cd->b.local = nn && c->node->name && !strcmp(nn, c->node->name);
	return 0;
}

/* The same address in two slices (while a slice is being replaced)
 * counts once, preferring a ready copy. */
static int add_cand(struct cands *cs, const struct cand *cd)
{
	size_t k;

	for (k = 0; k < cs->n; k++)
		if (!xlb_be_identity_cmp(&cs->v[k].b.addr, cs->v[k].b.port,
					 cd->b.family, &cd->b.addr, cd->b.port,
					 cd->b.family))
			break;
	if (k < cs->n) {
		if (cd->b.state == XLB_BE_ACTIVE &&
		    cs->v[k].b.state != XLB_BE_ACTIVE)
			cs->v[k] = *cd;
		return 0;
	}
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 16;
		struct cand *nv = realloc(cs->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		cs->v = nv;
		cs->cap = cap;
	}
	cs->v[cs->n++] = *cd;
	return 0;
}

/* The backends of one (port, family): the endpoints of every slice of
 * that address type that has the port. */
static int collect_backends(const struct svc_common *c, const char *pname,
			    const char *proto, __u8 family,
			    struct xlb_model_service *s)
{
	const char *atype = family == XLB_AF_INET6 ? "IPv6" : "IPv4";
	struct cands cs = { 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < c->n_slices; i++) {
		const char *at = get_str(c->slices[i], "addressType");
		const cJSON *ep;
		int port;

		if (!at || strcmp(at, atype))
			continue;
		port = slice_port(c->slices[i], pname, proto);
		if (!port)
			continue;
		cJSON_ArrayForEach(ep, get(c->slices[i], "endpoints")) {
			struct cand cd;

			if (endpoint_cand(c, ep, port, family, &cd))
				continue;
			rc = add_cand(&cs, &cd);
			if (rc)
				goto out;
		}
	}
	if (c->topo)
		apply_topology(c, cs.v, cs.n);
	s->backends = calloc(cs.n + 1, sizeof(*s->backends));
	if (!s->backends) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cs.n; i++)
		s->backends[i] = cs.v[i].b;
	s->n_backends = cs.n;
out:
	free(cs.v);
	return rc;
}

/* A list of address strings -> those of the family. */
static int addr_list(const struct svc_common *c, const cJSON *arr,
		     const char *sub, __u8 family, union xlb_addr **out,
		     size_t *n, const char *what)
{
	const cJSON *v;

	*out = calloc(cJSON_GetArraySize(arr) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	*n = 0;
	cJSON_ArrayForEach(v, arr) {
		const cJSON *s = sub ? get(v, sub) : v;
		union xlb_addr a;
		__u8 f;

		if (sub && !s)
			continue; /* an ingress with a hostname only */
		if (sub) {
			const char *mode = get_str(v, "ipMode");

			/* kube-proxy leaves Proxy-mode IPs to the LB. */
			if (mode && !strcmp(mode, "Proxy"))
				continue;
		}
		if (!cJSON_IsString(s) || xlb_addr_parse(s->valuestring, &a, &f)) {
			warn(c, "service %s: %s %s: not an IPv4 or IPv6 address",
			     c->key, what,
			     cJSON_IsString(s) ? s->valuestring : "?");
			continue;
		}
		if (f == family)
			(*out)[(*n)++] = a;
	}
	return 0;
}

static int cidr_list(const struct svc_common *c, const cJSON *arr,
		     __u8 family, struct xlb_model_service *s)
{
	const cJSON *v;

	s->source_ranges = calloc(cJSON_GetArraySize(arr) + 1,
				  sizeof(*s->source_ranges));
	if (!s->source_ranges)
		return -ENOMEM;
	cJSON_ArrayForEach(v, arr) {
		struct xlb_cidr r = { 0 };
		char buf[64], *p, *slash, *end;
		long len;

		if (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof(buf))
			goto bad;
		/* kube-proxy trims blanks around each range */
		p = v->valuestring;
		while (*p == ' ')
			p++;
		snprintf(buf, sizeof(buf), "%s", p);
		for (p = buf + strlen(buf); p > buf && p[-1] == ' '; p--)
			p[-1] = '\0';
		slash = strchr(buf, '/');
		if (!slash)
			goto bad;
		*slash = '\0';
		if (xlb_addr_parse(buf, &r.addr, &r.family))
			goto bad;
		len = strtol(slash + 1, &end, 10);
		if (*end || !slash[1] || len < 0 ||
		    len > (r.family == XLB_AF_INET ? 32 : 128))
			goto bad;
		r.len = len;
		if (r.family == family)
			s->source_ranges[s->n_source_ranges++] = r;
		continue;
bad:
		warn(c, "service %s: loadBalancerSourceRanges %s: not a CIDR",
		     c->key, cJSON_IsString(v) ? v->valuestring : "?");
	}
	return 0;
}

static int push_service(struct xlb_model *out, size_t *cap)
{
	struct xlb_model_service *v;

	if (out->n_services == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		v = realloc(out->services, *cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->services = v;
	}
	memset(&out->services[out->n_services++], 0, sizeof(*v));
	return 0;
}

static void common_settings(struct svc_common *c)
{
	const cJSON *spec = c->spec, *t;
	const char *v;

	v = get_str(spec, "sessionAffinity");
	if (v && !strcmp(v, "ClientIP")) {
		t = get(get(get(spec, "sessionAffinityConfig"), "clientIP"),
			"timeoutSeconds");
		c->affinity_timeout = cJSON_IsNumber(t) && t->valueint > 0 &&
					      t->valueint <= 86400 ?
					      (__u32)t->valueint :
					      AFFINITY_DEFAULT;
	}
	v = get_str(spec, "externalTrafficPolicy");
	c->external_local = v && !strcmp(v, "Local");
	v = get_str(spec, "internalTrafficPolicy");
	c->internal_local = v && !strcmp(v, "Local");
	v = get_str(spec, "trafficDistribution");
	if (v && (!strcmp(v, "PreferClose") || !strcmp(v, "PreferSameZone")))
		c->topo = 1;
	else if (v && !strcmp(v, "PreferSameNode"))
		c->topo = 2;
	v = label(c->svc, "annotations", ANN_TOPO_MODE);
	if (!v)
		v = label(c->svc, "annotations", ANN_TOPO_HINTS);
	if (!c->topo && v && v[0] && strcasecmp(v, "disabled"))
		c->topo = 1;
}

/* The cluster IPs, one per family: clusterIPs (dual-stack), else
 * clusterIP (xlb_k8s_svc_skip_reason made sure it is a string). */
static int cluster_ips(struct svc_common *c)
{
	const cJSON *ips = get(c->spec, "clusterIPs"), *ip;

	c->n_ips = 0;
	if (!cJSON_IsArray(ips) || !cJSON_GetArraySize(ips)) {
		ip = get(c->spec, "clusterIP");
		if (xlb_addr_parse(ip->valuestring, &c->cips[0], &c->cfams[0]))
			goto bad;
		c->n_ips = 1;
		return 0;
	}
	cJSON_ArrayForEach(ip, ips) {
		if (c->n_ips == 2)
			break;
		if (!cJSON_IsString(ip) ||
		    xlb_addr_parse(ip->valuestring, &c->cips[c->n_ips],
				   &c->cfams[c->n_ips]))
			goto bad;
		if (c->n_ips && c->cfams[0] == c->cfams[c->n_ips])
			continue;
		c->n_ips++;
	}
	return 0;
bad:
	return xlb_errf(c->err, c->errlen, -EINVAL,
			"service %s: clusterIP \"%s\": not an IPv4 or IPv6 address",
			c->key,
			cJSON_IsString(ip) ? ip->valuestring : "(missing)");
}

/* Reads one entry of spec.ports; -EINVAL (warned) for one the model
 * cannot take (SCTP, no valid port number). */
static int port_proto(const struct svc_common *c, const cJSON *port,
		      struct svc_port *p)
{
	const cJSON *pnum = get(port, "port"), *np = get(port, "nodePort");

	p->name = get_str(port, "name");
	if (!p->name)
		p->name = "";
	p->proto = get_str(port, "protocol");
	if (!p->proto)
		p->proto = "TCP";
	if (!strcmp(p->proto, "TCP")) {
		p->ipproto = IPPROTO_TCP;
	} else if (!strcmp(p->proto, "UDP")) {
		p->ipproto = IPPROTO_UDP;
	} else {
		warn(c, "service %s: port %s protocol %s: not supported",
		     c->key, p->name, p->proto);
		return -EINVAL;
	}
	if (!cJSON_IsNumber(pnum) || pnum->valueint < 1 ||
	    pnum->valueint > 65535) {
		warn(c, "service %s: port %s: no valid port number", c->key,
		     p->name);
		return -EINVAL;
	}
	p->num = pnum->valueint;
	snprintf(p->num_str, sizeof(p->num_str), "%d", p->num);
	p->node_port = 0;
	if (cJSON_IsNumber(np) && np->valueint > 0 && np->valueint <= 65535)
		p->node_port = np->valueint;
	return 0;
}

/* One xlb service: the Service port p on the cluster IP f, with the
 * external and ingress IPs, source ranges and endpoints of its family. */
static int fill_service(const struct svc_common *c, const struct svc_port *p,
			size_t f, struct xlb_model_service *s)
{
	const cJSON *ingress = get(get(get(c->svc, "status"), "loadBalancer"),
				   "ingress");
	__u8 fam = c->cfams[f];
	int rc;

	xlb_k8s_svc_name(s->name, c->key, p->name[0] ? p->name : p->num_str,
			 p->ipproto == IPPROTO_TCP ? "tcp" : "udp",
			 fam == XLB_AF_INET6);
	s->source = XLB_K8S_SOURCE;
	s->vip.addr = c->cips[f];
	s->vip.family = fam;
	s->vip.port = htons(p->num);
	s->vip.proto = p->ipproto;
	s->node_port = p->node_port;
	s->affinity_timeout = c->affinity_timeout;
	s->external_local = c->external_local;
	s->internal_local = c->internal_local;
	/* As kube-proxy masquerades and Cilium source-NATs: else a
	 * backend on another node answers the client directly. */
	s->snat = XLB_SNAT_REMOTE;
	rc = addr_list(c, get(c->spec, "externalIPs"), NULL, fam,
		       &s->external_ips, &s->n_external_ips, "externalIPs");
	if (!rc)
		rc = addr_list(c, ingress, "ip", fam, &s->lb_ips, &s->n_lb_ips,
			       "loadBalancer ingress ip");
	if (!rc)
		rc = cidr_list(c, get(c->spec, "loadBalancerSourceRanges"), fam,
			       s);
	if (!rc)
		rc = collect_backends(c, p->name, p->proto, fam, s);
	return rc;
}

/* A frontend listed as both external and cluster IP (or ingress IP)
 * would clash with itself: drop such repeats. */
static void drop_repeated_frontends(struct xlb_model *out)
{
	size_t i, j, k, e;

	for (i = 0; i < out->n_services; i++) {
		struct xlb_model_service *s = &out->services[i];

		for (j = 0, k = 0; j < s->n_external_ips; j++) {
			if (!memcmp(&s->external_ips[j], &s->vip.addr,
				    sizeof(s->vip.addr)))
				continue;
			s->external_ips[k++] = s->external_ips[j];
		}
		s->n_external_ips = k;
		for (j = 0, k = 0; j < s->n_lb_ips; j++) {
			bool dup = !memcmp(&s->lb_ips[j], &s->vip.addr,
					   sizeof(s->vip.addr));

			for (e = 0; !dup && e < s->n_external_ips; e++)
				dup = !memcmp(&s->lb_ips[j], &s->external_ips[e],
					      sizeof(s->vip.addr));
			if (!dup)
				s->lb_ips[k++] = s->lb_ips[j];
		}
		s->n_lb_ips = k;
	}
}

int xlb_k8s_translate(const cJSON *svc, const cJSON *const *slices,
		      size_t n_slices, const struct xlb_k8s_node_info *node,
		      struct xlb_model *out, size_t *n_warn, char *err,
		      size_t errlen)
{
	struct svc_common c = { .svc = svc, .spec = get(svc, "spec"),
				.slices = slices, .n_slices = n_slices,
				.node = node, .n_warn = n_warn, .err = err,
				.errlen = errlen };
	const cJSON *port;
	size_t cap = 0, f;
	int rc;

	memset(out, 0, sizeof(*out));
	*n_warn = 0;
	if (xlb_k8s_obj_key(svc, c.key, sizeof(c.key)))
		return xlb_errf(err, errlen, -EINVAL,
				"service: no metadata.name");
	if (xlb_k8s_svc_skip_reason(svc))
		return 0;
	common_settings(&c);
	rc = cluster_ips(&c);
	if (rc)
		return rc;
	cJSON_ArrayForEach(port, get(c.spec, "ports")) {
		struct svc_port p;

		if (port_proto(&c, port, &p))
			continue;
		for (f = 0; f < c.n_ips; f++) {
			rc = push_service(out, &cap);
			if (rc)
				goto fail;
			rc = fill_service(&c, &p, f,
					  &out->services[out->n_services - 1]);
			if (rc)
				goto fail;
		}
	}
	drop_repeated_frontends(out);
	xlb_model_sort(out);
	return 0;
fail:
	xlb_model_free(out);
	return rc;
}
