/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kubernetes objects -> model: what kube-proxy would program for one
 * Service and the EndpointSlices that name it. Pure functions on cJSON
 * objects as the API server sends them; no I/O, no state.
 * In user/k8s/translate.c.
 */
#ifndef XLB_K8S_TRANSLATE_H
#define XLB_K8S_TRANSLATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "model.h"

/* The model source tag of every service the Kubernetes source makes. */
#define XLB_K8S_SOURCE 1

/* Longest "namespace/name" key: 63 + 1 + 253 + NUL. */
#define XLB_K8S_KEY_LEN 320

struct xlb_k8s_node_info {
	const char *name;	/* this node's name (endpoint locality) */
	const char *zone;	/* its topology.kubernetes.io/zone label, or
				 * NULL: topology hints are then ignored */
};

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

/* The name of the xlb service for one (Service, port, family):
 * "ns/name:port/proto", "/v6" appended for IPv6; names longer than the
 * maps hold are cut and end with a hash of the whole name. */
void xlb_k8s_svc_name(char *buf, const char *key, const char *port,
		      const char *proto, int v6);

/* Translates one Service and its slices into out (sorted; empty when
 * the Service is skipped). Parts of objects that cannot be used (an
 * endpoint address that does not parse, an SCTP port) are left out and
 * counted in *n_warn with the last reason in err; a Service that cannot
 * be translated at all returns -EINVAL with the reason in err. */
int xlb_k8s_translate(const cJSON *svc, const cJSON *const *slices,
		      size_t n_slices, const struct xlb_k8s_node_info *node,
		      struct xlb_model *out, size_t *n_warn, char *err,
		      size_t errlen);

#endif /* XLB_K8S_TRANSLATE_H */
