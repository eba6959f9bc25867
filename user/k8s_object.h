/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The parts of Kubernetes objects that xlb reads, extracted from the
 * API server's JSON when an object arrives so that the JSON tree can be
 * freed at once: the cache holds these and the translation reads them
 * (user/k8s_translate.h). Every field the translation and the health
 * checks use is here, and nothing else; what could not be parsed is
 * kept as the text it was, so that the translation reports it as it
 * would have reported the JSON. In user/k8s/object.c.
 */
#ifndef XLB_K8S_OBJECT_H
#define XLB_K8S_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "model.h"

/* Longest "namespace/name" key: 63 + 1 + 253 + NUL. */
#define XLB_K8S_KEY_LEN 320

/* "namespace/name" of an object; -EINVAL without metadata.name. */
int xlb_k8s_obj_key(const cJSON *obj, char *buf, size_t len);
/* metadata.resourceVersion, or "" */
const char *xlb_k8s_obj_rv(const cJSON *obj);
/* "namespace/service" that an EndpointSlice belongs to (its
 * kubernetes.io/service-name label); -ENOENT without the label. */
int xlb_k8s_slice_service_key(const cJSON *slice, char *buf, size_t len);
/* Why kube-proxy ignores this Service (headless, ExternalName, another
 * proxy's, no cluster IP), or NULL if it is programmed. */
const char *xlb_k8s_svc_skip_reason(const cJSON *svc);
/* The topology.kubernetes.io/zone label of a Node, or NULL. */
const char *xlb_k8s_node_zone(const cJSON *node);

/* An address or a CIDR as an object gave it. */
struct xlb_k8s_ip {
	struct xlb_cidr a;	/* a.family 0: not one (see text) */
	char *text;		/* what it was when it is not, else NULL */
};

/* One entry of spec.ports. */
struct xlb_k8s_port {
	char *name;		/* NULL when unnamed */
	char *bad_proto;	/* a protocol xlb does not take (SCTP), or NULL */
	__u16 num;		/* 0: missing or out of range */
	__u16 node_port;	/* 0: none */
	__u8 ipproto;		/* IPPROTO_TCP or _UDP; 0 with bad_proto */
};

/* A Service. */
struct xlb_k8s_svc {
	char *key;		/* namespace/name */
	char *rv;		/* metadata.resourceVersion ("" if none) */
	const char *skip;	/* why kube-proxy ignores it (a constant
				 * string), or NULL: the rest is only
				 * filled in when it is NULL */
	char *bad_cip;		/* the cluster IP that is not an address
				 * ("(missing)" if not a string), or NULL */
	union xlb_addr cips[2];	/* the cluster IPs, one per family */
	__u8 cfams[2];
	__u8 n_cips;
	__u8 topo;		/* 0 none, 1 zone hints, 2 node hints too */
	bool external_local, internal_local;
	__u16 hc_port;		/* healthCheckNodePort, 0 if none */
	__u32 affinity_timeout;	/* ClientIP affinity seconds, 0: none */
	struct xlb_k8s_port *ports;
	size_t n_ports;
	struct xlb_k8s_ip *external_ips;
	size_t n_external_ips;
	struct xlb_k8s_ip *lb_ips;	/* status.loadBalancer.ingress[].ip
					 * (ipMode Proxy and hostname-only
					 * ingresses left out) */
	size_t n_lb_ips;
	struct xlb_k8s_ip *source_ranges;	/* loadBalancerSourceRanges */
	size_t n_source_ranges;
};

/* One entry of an EndpointSlice's ports. */
struct xlb_k8s_slice_port {
	char *name;		/* NULL when unnamed */
	__u16 num;		/* 0: missing or out of range */
	__u8 ipproto;		/* IPPROTO_TCP or _UDP; 0: another protocol */
};

/* topology hints: names of zones or nodes. */
struct xlb_k8s_hint_list {
	char **names;
	size_t n;		/* names given */
	bool any;		/* the list has entries (named or not) */
};

struct xlb_k8s_hints {
	struct xlb_k8s_hint_list zones, nodes;
};

/* One endpoint (its first address). */
struct xlb_k8s_ep {
	union xlb_addr addr;
	char *bad_addr;		/* the address when it is not one of the
				 * slice's family ("(missing)" without
				 * one), else NULL */
	char *node;		/* nodeName, or NULL */
	struct xlb_k8s_hints *hints;	/* NULL: none */
	bool ready, serving, terminating;	/* conditions, defaults
						 * applied */
};

/* An EndpointSlice. */
struct xlb_k8s_slice {
	char *key;		/* namespace/name */
	char *rv;		/* metadata.resourceVersion ("" if none) */
	char *svc_key;		/* namespace/service it belongs to, or NULL */
	__u8 family;		/* addressType IPv4 or IPv6; 0 for another,
				 * which is then left without endpoints */
	struct xlb_k8s_slice_port *ports;
	size_t n_ports;
	struct xlb_k8s_ep *eps;
	size_t n_eps;
};

/* A Node: the one label xlb reads. */
struct xlb_k8s_node {
	char *zone;		/* topology.kubernetes.io/zone, or NULL */
};

/* Extract from the API server's JSON into *out (freed with the
 * matching _free). -EINVAL for an object without metadata.name (a
 * Service or a slice), -ENOMEM. */
int xlb_k8s_svc_extract(const cJSON *obj, struct xlb_k8s_svc **out);
int xlb_k8s_slice_extract(const cJSON *obj, struct xlb_k8s_slice **out);
int xlb_k8s_node_extract(const cJSON *obj, struct xlb_k8s_node **out);
void xlb_k8s_svc_free(struct xlb_k8s_svc *s);
void xlb_k8s_slice_free(struct xlb_k8s_slice *s);
void xlb_k8s_node_free(struct xlb_k8s_node *n);

#endif /* XLB_K8S_OBJECT_H */
