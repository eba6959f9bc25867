// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: Kubernetes objects -> model (xlb_k8s_translate).
 *
 * The input is a JSON array of objects as the API server sends them:
 * the first with "kind": "Service" (else the first object) is the
 * Service, one with "kind": "Node" gives this node's zone, the others
 * are its EndpointSlices (up to MAX_SLICES). The cache's helpers (key,
 * resourceVersion, the slice's Service, skip reason) run on each.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "k8s_translate.h"
#include "log.h"

#define MAX_SLICES 16

static int is_kind(const cJSON *o, const char *kind)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");

	return cJSON_IsString(k) && !strcmp(k->valuestring, kind);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xlb_log_set_level(XLB_LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_k8s_node_info node = { "testnode", NULL };
	const cJSON *slices[MAX_SLICES], *svc = NULL, *o;
	cJSON *root = cJSON_ParseWithLength((const char *)data, size);
	char key[XLB_K8S_KEY_LEN], err[512];
	struct xlb_model m;
	size_t n = 0, n_warn = 0;

	if (!cJSON_IsArray(root))
		goto out;
	cJSON_ArrayForEach(o, root)
		if (!svc && is_kind(o, "Service"))
			svc = o;
	if (!svc)
		svc = cJSON_GetArrayItem(root, 0);
	cJSON_ArrayForEach(o, root) {
		xlb_k8s_obj_key(o, key, sizeof(key));
		xlb_k8s_obj_rv(o);
		if (o == svc) {
			xlb_k8s_svc_skip_reason(o);
		} else if (is_kind(o, "Node")) {
			node.zone = xlb_k8s_node_zone(o);
		} else if (n < MAX_SLICES) {
			xlb_k8s_slice_service_key(o, key, sizeof(key));
			slices[n++] = o;
		}
	}
	if (!svc)
		goto out;
	if (!xlb_k8s_translate(svc, slices, n, &node, &m, &n_warn, err,
			       sizeof(err))) {
		/* What the sync checks before it programs a model. */
		xlb_model_check(&m, err, sizeof(err));
		xlb_model_free(&m);
	}
out:
	cJSON_Delete(root);
	return 0;
}
