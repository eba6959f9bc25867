/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kubernetes objects -> model: what kube-proxy would program for one
 * Service and the EndpointSlices that name it. Pure functions on the
 * objects' extracted parts (k8s_object.h), or on the JSON the API
 * server sends; no I/O, no state. In user/k8s/translate.c.
 */
#ifndef XLB_K8S_TRANSLATE_H
#define XLB_K8S_TRANSLATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "k8s_object.h"
#include "model.h"

/* The model source tag of every service the Kubernetes source makes. */
#define XLB_K8S_SOURCE 1

struct xlb_k8s_node_info {
	const char *name;	/* this node's name (endpoint locality) */
	const char *zone;	/* its topology.kubernetes.io/zone label, or
				 * NULL: topology hints are then ignored */
};

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
int xlb_k8s_translate_obj(const struct xlb_k8s_svc *svc,
			  const struct xlb_k8s_slice *const *slices,
			  size_t n_slices, const struct xlb_k8s_node_info *node,
			  struct xlb_model *out, size_t *n_warn, char *err,
			  size_t errlen);
/* The same from the JSON objects: extracts, then translates (slices
 * without metadata.name are left out, as the cache leaves them). */
int xlb_k8s_translate(const cJSON *svc, const cJSON *const *slices,
		      size_t n_slices, const struct xlb_k8s_node_info *node,
		      struct xlb_model *out, size_t *n_warn, char *err,
		      size_t errlen);

#endif /* XLB_K8S_TRANSLATE_H */
