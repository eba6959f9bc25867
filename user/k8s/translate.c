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

#include "k8s_translate.h"
#include "util.h"

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
	const struct xlb_k8s_svc *svc;
	const struct xlb_k8s_slice *const *slices;
	size_t n_slices;
	const struct xlb_k8s_node_info *node;
	const char *key;
	size_t *n_warn;		/* parts left out */
	char *err;		/* the last one's reason, or why it failed */
	size_t errlen;
};

/* A part of the Service left out: counted, its reason kept in err (the
 * last one wins), formatted as every other error is. */
#define warn(c, ...)                                                       \
	((void)(*(c)->n_warn)++,                                           \
	 (void)xlb_errf((c)->err, (c)->errlen, 0, __VA_ARGS__))

struct cand {
	struct xlb_model_backend b;
	const struct xlb_k8s_ep *ep;	/* the endpoint, for its hints */
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static const struct xlb_k8s_hint_list *hints(const struct xlb_k8s_ep *ep,
					     int nodes)
{
	if (!ep->hints)
		return NULL;
	return nodes ? &ep->hints->nodes : &ep->hints->zones;
}

static bool hints_have(const struct xlb_k8s_ep *ep, int nodes,
		       const char *want)
{
	const struct xlb_k8s_hint_list *l = hints(ep, nodes);
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (!strcmp(l->names[i], want))
			return true;
	return false;
}

static bool hints_any(const struct xlb_k8s_ep *ep, int nodes)
{
	const struct xlb_k8s_hint_list *l = hints(ep, nodes);

	return l && l->any;
}

/* kube-proxy's rule: hints are used only when every ready endpoint has
 * some, and some are for us; then the others take no new flows. Pass 1
 * is forNodes, pass 0 forZones. */
static void apply_topology(const struct svc_common *c, struct cand *v,
			   size_t n)
{
	int pass;
	size_t i;

	for (pass = c->svc->topo - 1; pass >= 0; pass--) {
		const char *want = pass ? c->node->name : c->node->zone;
		bool all = true, some = false;

		if (!want || !want[0])
			continue;
		for (i = 0; i < n; i++) {
			if (v[i].b.state != XLB_BE_ACTIVE)
				continue;
			if (!hints_any(v[i].ep, pass))
				all = false;
			else if (hints_have(v[i].ep, pass, want))
				some = true;
		}
		if (!all || !some)
			continue;
		for (i = 0; i < n; i++)
			if (v[i].b.state == XLB_BE_ACTIVE &&
			    !hints_have(v[i].ep, pass, want))
				v[i].b.weight = 0;
		return;
	}
}

/* The slice's port number for the Service port p, or 0: the first of
 * its ports with p's name and protocol. */
static int slice_port(const struct xlb_k8s_slice *sl,
		      const struct xlb_k8s_port *p)
{
	size_t i;

	for (i = 0; i < sl->n_ports; i++) {
		const struct xlb_k8s_slice_port *sp = &sl->ports[i];

		if (strcmp(sp->name ? sp->name : "", p->name ? p->name : ""))
			continue;
		if (sp->ipproto != p->ipproto)
			continue;
		return sp->num;
	}
	return 0;
}

/* An endpoint of a slice as a backend on port; -EINVAL (warned) when
 * its address is not one of the family. */
static int endpoint_cand(const struct svc_common *c,
			 const struct xlb_k8s_ep *ep, int port, __u8 family,
			 struct cand *cd)
{
	memset(cd, 0, sizeof(*cd));
	cd->ep = ep;
	if (ep->bad_addr) {
		warn(c, "service %s: endpoint address %s: not an %s address",
		     c->key, ep->bad_addr,
		     family == XLB_AF_INET6 ? "IPv6" : "IPv4");
		return -EINVAL;
	}
	cd->b.addr = ep->addr;
	cd->b.family = family;
	cd->b.port = htons(port);
	cd->b.weight = 1;
	cd->b.state = ep->ready ? XLB_BE_ACTIVE : XLB_BE_TERMINATING;
	/* Not ready: keeps its flows; takes new ones only in the fallback,
	 * and only if serving while terminating (a pod failing its
	 * readiness probe takes none). */
	cd->b.serving = ep->ready || (ep->serving && ep->terminating);
	cd->b.local = ep->node && c->node->name &&
		      !strcmp(ep->node, c->node->name);
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
static int collect_backends(const struct svc_common *c,
			    const struct xlb_k8s_port *p, __u8 family,
			    struct xlb_model_service *s)
{
	struct cands cs = { 0 };
	size_t i, j;
	int rc = 0;

	for (i = 0; i < c->n_slices; i++) {
		const struct xlb_k8s_slice *sl = c->slices[i];
		int port;

		if (sl->family != family)
			continue;
		port = slice_port(sl, p);
		if (!port)
			continue;
		for (j = 0; j < sl->n_eps; j++) {
			struct cand cd;

			if (endpoint_cand(c, &sl->eps[j], port, family, &cd))
				continue;
			rc = add_cand(&cs, &cd);
			if (rc)
				goto out;
		}
	}
	if (c->svc->topo)
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

/* The addresses of a list that are of the family; those that are not
 * addresses warned, as what. */
static int addr_list(const struct svc_common *c, const struct xlb_k8s_ip *v,
		     size_t n, __u8 family, union xlb_addr **out,
		     size_t *n_out, const char *what)
{
	size_t i;

	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	*n_out = 0;
	for (i = 0; i < n; i++) {
		if (!v[i].a.family)
			warn(c, "service %s: %s %s: not an IPv4 or IPv6 address",
			     c->key, what, v[i].text);
		else if (v[i].a.family == family)
			(*out)[(*n_out)++] = v[i].a.addr;
	}
	return 0;
}

static int cidr_list(const struct svc_common *c, __u8 family,
		     struct xlb_model_service *s)
{
	const struct xlb_k8s_ip *v = c->svc->source_ranges;
	size_t i, n = c->svc->n_source_ranges;

	s->source_ranges = calloc(n + 1, sizeof(*s->source_ranges));
	if (!s->source_ranges)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!v[i].a.family)
			warn(c, "service %s: loadBalancerSourceRanges %s: not a CIDR",
			     c->key, v[i].text);
		else if (v[i].a.family == family)
			s->source_ranges[s->n_source_ranges++] = v[i].a;
	}
	return 0;
}

static int push_service(struct xlb_model *out, size_t *cap)
{
	struct xlb_model_service *v;

	/* Most Services have one port and one family: one entry to begin
	 * with (100,000 of them are translated at once in a full sync). */
	if (out->n_services == *cap) {
		*cap = *cap ? *cap * 2 : 1;
		v = realloc(out->services, *cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->services = v;
	}
	memset(&out->services[out->n_services++], 0, sizeof(*v));
	return 0;
}

/* Whether the model takes a Service port; -EINVAL (warned) for one it
 * cannot (SCTP, no valid port number). */
static int port_ok(const struct svc_common *c, const struct xlb_k8s_port *p)
{
	const char *name = p->name ? p->name : "";

	if (p->bad_proto) {
		warn(c, "service %s: port %s protocol %s: not supported",
		     c->key, name, p->bad_proto);
		return -EINVAL;
	}
	if (!p->num) {
		warn(c, "service %s: port %s: no valid port number", c->key,
		     name);
		return -EINVAL;
	}
	return 0;
}

/* One xlb service: the Service port p on the cluster IP f, with the
 * external and ingress IPs, source ranges and endpoints of its family. */
static int fill_service(const struct svc_common *c,
			const struct xlb_k8s_port *p, size_t f,
			struct xlb_model_service *s)
{
	const struct xlb_k8s_svc *svc = c->svc;
	__u8 fam = svc->cfams[f];
	char num[8];
	int rc;

	snprintf(num, sizeof(num), "%u", p->num);
	xlb_k8s_svc_name(s->name, c->key, p->name ? p->name : num,
			 p->ipproto == IPPROTO_TCP ? "tcp" : "udp",
			 fam == XLB_AF_INET6);
	s->source = XLB_K8S_SOURCE;
	s->vip.addr = svc->cips[f];
	s->vip.family = fam;
	s->vip.port = htons(p->num);
	s->vip.proto = p->ipproto;
	s->node_port = p->node_port;
	s->affinity_timeout = svc->affinity_timeout;
	s->external_local = svc->external_local;
	s->internal_local = svc->internal_local;
	/* As kube-proxy masquerades and Cilium source-NATs: else a
	 * backend on another node answers the client directly. */
	s->snat = XLB_SNAT_REMOTE;
	rc = addr_list(c, svc->external_ips, svc->n_external_ips, fam,
		       &s->external_ips, &s->n_external_ips, "externalIPs");
	if (!rc)
		rc = addr_list(c, svc->lb_ips, svc->n_lb_ips, fam, &s->lb_ips,
			       &s->n_lb_ips, "loadBalancer ingress ip");
	if (!rc)
		rc = cidr_list(c, fam, s);
	if (!rc)
		rc = collect_backends(c, p, fam, s);
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

int xlb_k8s_translate_obj(const struct xlb_k8s_svc *svc,
			  const struct xlb_k8s_slice *const *slices,
			  size_t n_slices, const struct xlb_k8s_node_info *node,
			  struct xlb_model *out, size_t *n_warn, char *err,
			  size_t errlen)
{
	struct svc_common c = { .svc = svc, .slices = slices,
				.n_slices = n_slices, .node = node,
				.key = svc->key, .n_warn = n_warn, .err = err,
				.errlen = errlen };
	size_t cap = 0, f, i;
	int rc;

	memset(out, 0, sizeof(*out));
	*n_warn = 0;
	if (svc->skip)
		return 0;
	if (svc->bad_cip)
		return xlb_errf(err, errlen, -EINVAL,
				"service %s: clusterIP \"%s\": not an IPv4 or IPv6 address",
				c.key, svc->bad_cip);
	for (i = 0; i < svc->n_ports; i++) {
		const struct xlb_k8s_port *p = &svc->ports[i];

		if (port_ok(&c, p))
			continue;
		for (f = 0; f < svc->n_cips; f++) {
			rc = push_service(out, &cap);
			if (rc)
				goto fail;
			rc = fill_service(&c, p, f,
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

int xlb_k8s_translate(const cJSON *svc, const cJSON *const *slices,
		      size_t n_slices, const struct xlb_k8s_node_info *node,
		      struct xlb_model *out, size_t *n_warn, char *err,
		      size_t errlen)
{
	struct xlb_k8s_slice **sl = calloc(n_slices + 1, sizeof(*sl));
	struct xlb_k8s_svc *s = NULL;
	size_t i, n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	*n_warn = 0;
	if (!sl)
		return -ENOMEM;
	rc = xlb_k8s_svc_extract(svc, &s);
	if (rc == -EINVAL) {
		rc = xlb_errf(err, errlen, rc, "service: no metadata.name");
		goto out;
	}
	for (i = 0; !rc && i < n_slices; i++) {
		rc = xlb_k8s_slice_extract(slices[i], &sl[n]);
		if (rc == -EINVAL)	/* no name: the cache holds none */
			rc = 0;
		else if (!rc)
			n++;
	}
	if (!rc)
		rc = xlb_k8s_translate_obj(s, (const struct xlb_k8s_slice *const *)sl,
					   n, node, out, n_warn, err, errlen);
out:
	for (i = 0; i < n; i++)
		xlb_k8s_slice_free(sl[i]);
	free(sl);
	xlb_k8s_svc_free(s);
	return rc;
}
