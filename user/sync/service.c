// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a model service becomes: its frontends, source ranges, ring
 * members and digest. Nothing here writes a map. */
#include <arpa/inet.h>

#include <xlb/hash.h>

#include "maglev.h"
#include "sync/internal.h"
#include "util.h"

__u32 xlb_sync_table_size(const struct xlb_model_service *ms)
{
	return ms->table_size ? ms->table_size :
				xlb_maglev_table_size(ms->n_backends);
}

/* The frontends of ms: its VIP, external IPs, load-balancer IPs and its
 * NodePort on every node address of its family, sorted by key. */
int xlb_sync_model_frontends(const struct xlb_sync *s,
			     const struct xlb_model_service *ms,
			     struct xlb_prog_frontend **out, size_t *n)
{
	struct xlb_prog_frontend *v;
	size_t k = 0, i;
	__u32 common = ms->affinity_timeout ? XLB_SVC_F_AFFINITY : 0;

	v = calloc(1 + ms->n_external_ips + ms->n_lb_ips +
			   (ms->node_port ? s->n_node_addrs : 0),
		   sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (ms->snat == XLB_SNAT_ALL)
		common |= XLB_SVC_F_SNAT_ALL;
	if (ms->dsr == XLB_DSR_IPIP)
		common |= XLB_SVC_F_DSR;
	v[k].key = ms->vip;
	v[k++].flags = XLB_FE_CLUSTER_IP | common |
		       (ms->internal_local ? XLB_SVC_F_LOCAL : 0);
	common |= ms->external_local ? XLB_SVC_F_LOCAL : 0;
	/* A Local policy keeps its flows on this node: no backend to NAT
	 * for elsewhere. */
	if (ms->snat == XLB_SNAT_REMOTE && !ms->external_local)
		common |= XLB_SVC_F_SNAT_REMOTE |
			  (s->dsr_remote ? XLB_SVC_F_DSR : 0);
	for (i = 0; i < ms->n_external_ips; i++) {
		v[k].key = ms->vip;
		v[k].key.addr = ms->external_ips[i];
		v[k++].flags = XLB_FE_EXTERNAL_IP | common;
	}
	/* loadBalancerSourceRanges are the load balancer's: kube-proxy
	 * filters its ingress IPs by them, not NodePorts or external IPs. */
	for (i = 0; i < ms->n_lb_ips; i++) {
		v[k].key = ms->vip;
		v[k].key.addr = ms->lb_ips[i];
		v[k++].flags = XLB_FE_LOAD_BALANCER | common |
			       (ms->n_source_ranges ? XLB_SVC_F_SRC_RANGES : 0);
	}
	for (i = 0; ms->node_port && i < s->n_node_addrs; i++) {
		if (s->node_addrs[i].family != ms->vip.family)
			continue;
		v[k].key = ms->vip;
		v[k].key.addr = s->node_addrs[i].addr;
		v[k].key.port = htons(ms->node_port);
		v[k++].flags = XLB_FE_NODE_PORT | common;
	}
	xlb_qsort(v, k, sizeof(*v), fe_cmp);
	*out = v;
	*n = k;
	return 0;
}

/* How many frontends xlb_sync_model_frontends() gives ms. */
size_t xlb_sync_frontend_count(const struct xlb_sync *s,
			       const struct xlb_model_service *ms)
{
	size_t n = 1 + ms->n_external_ips + ms->n_lb_ips, i;

	for (i = 0; ms->node_port && i < s->n_node_addrs; i++)
		n += s->node_addrs[i].family == ms->vip.family;
	return n;
}

int xlb_sync_model_ranges(const struct xlb_model_service *ms, __u32 svc_id,
			  struct xlb_src_range_key **out, size_t *n)
{
	struct xlb_src_range_key *v;
	size_t i, j;

	v = calloc(ms->n_source_ranges + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < ms->n_source_ranges; i++) {
		const struct xlb_cidr *c = &ms->source_ranges[i];

		v[i].prefixlen = XLB_SRC_RANGE_PREFIX + c->len;
		v[i].svc_id = svc_id;
		v[i].family = c->family;
		memcpy(v[i].addr, c->addr.bytes, 16);
		/* Clear the host bits, as the kernel's trie expects. */
		for (j = 0; j < 16; j++) {
			int keep = (int)c->len - (int)j * 8;

			if (keep <= 0)
				v[i].addr[j] = 0;
			else if (keep < 8)
				v[i].addr[j] &= 0xff << (8 - keep);
		}
	}
	xlb_qsort(v, ms->n_source_ranges, sizeof(*v), range_cmp);
	*out = v;
	*n = ms->n_source_ranges;
	return 0;
}

/* A hash of everything about a service but its backends' states and
 * weights and its id: when it changes, all the service's entries are
 * written again. Stored in xlb_svc_info so a restart can compare. */
__u32 xlb_sync_service_digest(const struct xlb_sync *s,
			      const struct xlb_model_service *ms)
{
	__u32 h = 0x9747b28c, w[9] = {};
	size_t i;

#define MIX(x) (h = xlb_jhash_3words(h, (__u32)(x), 0x5bd1e995u, 0))
	MIX(ms->table_size);
	MIX(ms->affinity_timeout);
	MIX(ms->external_local | ms->internal_local << 1 | ms->snat << 2 |
	    ms->dsr << 4 | s->dsr_remote << 6);
	MIX(ms->node_port);
	for (i = 0; i < ms->n_external_ips; i++) {
		memcpy(w, ms->external_ips[i].bytes, 16);
		h = xlb_jhash_9words(w, h);
	}
	for (i = 0; i < ms->n_lb_ips; i++) {
		memcpy(w, ms->lb_ips[i].bytes, 16);
		w[4] = 1;
		h = xlb_jhash_9words(w, h);
	}
	memset(w, 0, sizeof(w));
	for (i = 0; i < ms->n_source_ranges; i++) {
		memcpy(w, ms->source_ranges[i].addr.bytes, 16);
		w[4] = ms->source_ranges[i].len | 2u << 8;
		h = xlb_jhash_9words(w, h);
	}
	for (i = 0; i < ms->n_groups; i++) {
		memcpy(w, ms->groups[i].name, 32);
		w[8] = ms->groups[i].percent;
		h = xlb_jhash_9words(w, h);
	}
	memset(w, 0, sizeof(w));
	for (i = 0; i < ms->n_backends; i++) {
		const struct xlb_model_backend *b = &ms->backends[i];

		memcpy(w, b->addr.bytes, 16);
		w[4] = b->port | (__u32)b->serving << 16 |
		       (__u32)b->local << 17 | (__u32)b->group << 24;
		h = xlb_jhash_9words(w, h);
	}
	if (ms->node_port)
		for (i = 0; i < s->n_node_addrs; i++) {
			memcpy(w, s->node_addrs[i].addr.bytes, 16);
			w[4] = 3;
			h = xlb_jhash_9words(w, h);
		}
#undef MIX
	return h ? h : 1;
}

/*
 * Which backends take new flows, Kubernetes' way: the ready ones (with a
 * weight); when none is ready, the serving terminating ones. Computed for
 * the whole service and for the node-local backends alone.
 */
void xlb_sync_ring_sets(const struct xlb_model_service *ms, __u8 *in_all,
			__u8 *in_local)
{
	bool ready = false, ready_local = false;
	size_t i;

	for (i = 0; i < ms->n_backends; i++) {
		const struct xlb_model_backend *b = &ms->backends[i];

		if (b->state == XLB_BE_ACTIVE && b->weight) {
			ready = true;
			ready_local |= b->local;
		}
	}
	for (i = 0; i < ms->n_backends; i++) {
		const struct xlb_model_backend *b = &ms->backends[i];
		bool r = b->state == XLB_BE_ACTIVE && b->weight;
		bool fb = b->state == XLB_BE_TERMINATING && b->serving &&
			  b->weight;

		in_all[i] = ready ? r : fb;
		in_local[i] = b->local && (ready_local ? r : fb);
	}
}

/* Every frontend of the given model services, sorted: what a change
 * must not delete even if another service let it go. */
int xlb_sync_keep_list(const struct xlb_sync *s,
		       const struct xlb_model_service *v, size_t n,
		       struct xlb_vip_key **out, size_t *n_out)
{
	struct xlb_vip_key *keep = NULL;
	struct xlb_prog_frontend *fes;
	size_t i, j, k = 0, cap = 0, nf;
	int rc = 0;

	for (i = 0; i < n; i++) {
		rc = xlb_sync_model_frontends(s, &v[i], &fes, &nf);
		if (rc)
			goto fail;
		rc = grow_buf((void **)&keep, &cap, k + nf, sizeof(*keep));
		if (!rc)
			for (j = 0; j < nf; j++)
				keep[k++] = fes[j].key;
		free(fes);
		if (rc)
			goto fail;
	}
	if (k)
		xlb_qsort(keep, k, sizeof(*keep), vipkey_cmp);
	*out = keep;
	*n_out = k;
	return 0;
fail:
	free(keep);
	return rc;
}
