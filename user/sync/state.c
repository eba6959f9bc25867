// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The sync's lifecycle, its bookkeeping and the per-port counts. */
#include <arpa/inet.h>

#include "sync/internal.h"

int xlb_sync_init(struct xlb_sync *s, struct xlb_maps *maps)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->maps = maps;
	xlb_sync_fault_init();
	s->port_fe = calloc(65536, sizeof(__u32));
	s->port_be = calloc(65536, sizeof(__u32));
	if (!s->port_fe || !s->port_be) {
		xlb_sync_fini(s);
		return -ENOMEM;
	}
	rc = xlb_ringalloc_init(&s->rings, maps->ring_slots);
	if (!rc)
		rc = xlb_idpool_init(&s->svc_ids, maps->max_services);
	if (!rc)
		rc = xlb_idpool_init(&s->be_ids, maps->max_backends);
	if (rc)
		xlb_sync_fini(s);
	return rc;
}

void xlb_sync_free_service(struct xlb_prog_service *ps)
{
	free(ps->backends);
	free(ps->fes);
	free(ps->ranges);
	free(ps->group_pct);
	ps->backends = NULL;
	ps->fes = NULL;
	ps->ranges = NULL;
	ps->group_pct = NULL;
	ps->n_backends = ps->n_fes = ps->n_ranges = ps->n_groups = 0;
}

void xlb_sync_free_services(struct xlb_prog_service *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		xlb_sync_free_service(&v[i]);
	free(v);
}

void xlb_sync_fini(struct xlb_sync *s)
{
	xlb_sync_free_services(s->svcs, s->n_svcs);
	xlb_sync_free_orphans(s->orphans);
	xlb_ringalloc_fini(&s->rings);
	free(s->port_fe);
	free(s->port_be);
	free(s->node_addrs);
	xlb_idpool_fini(&s->svc_ids);
	xlb_idpool_fini(&s->be_ids);
	memset(s, 0, sizeof(*s));
}

/* Kept as services come and go: /metrics asks after every event. */
size_t xlb_sync_backend_count(const struct xlb_sync *s)
{
	return s->n_backends;
}

void xlb_sync_count_backends(struct xlb_sync *s)
{
	size_t i;

	s->n_backends = 0;
	for (i = 0; i < s->n_svcs; i++)
		s->n_backends += s->svcs[i].n_backends;
}

int xlb_sync_set_node_addrs(struct xlb_sync *s, const struct xlb_nodeaddr *v,
			    size_t n)
{
	struct xlb_nodeaddr *c = calloc(n + 1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	memcpy(c, v, n * sizeof(*c));
	free(s->node_addrs);
	s->node_addrs = c;
	s->n_node_addrs = n;
	return 0;
}

/* ---- xlb_ports ---------------------------------------------------------- */

void xlb_sync_publish_ports(struct xlb_sync *s,
			    const struct xlb_prog_service *v, size_t n,
			    bool grow_only)
{
	struct xlb_port_use *mem = s->maps->port_mem;
	__u32 *fe, *be;
	size_t i, j;
	__u32 p;

	if (!mem)
		return;
	fe = calloc(65536, sizeof(*fe));
	be = calloc(65536, sizeof(*be));
	if (!fe || !be) {
		/* Cannot count: open the filter on every port. */
		for (p = 0; p < 65536; p++)
			mem[p] = (struct xlb_port_use){ 1, 1 };
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!v[i].name[0])
			continue;
		for (j = 0; j < v[i].n_fes; j++)
			fe[ntohs(v[i].fes[j].key.port)]++;
		for (j = 0; j < v[i].n_backends; j++)
			be[ntohs(v[i].backends[j].port)]++;
	}
	for (p = 0; p < 65536; p++) {
		__u32 f = fe[p], b = be[p];

		if (grow_only) {
			f = f > s->port_fe[p] ? f : s->port_fe[p];
			b = b > s->port_be[p] ? b : s->port_be[p];
		}
		if (mem[p].frontends != f)
			mem[p].frontends = f;
		if (mem[p].backends != b)
			mem[p].backends = b;
		s->port_fe[p] = f;
		s->port_be[p] = b;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
out:
	free(fe);
	free(be);
}

void xlb_sync_ports_add(struct xlb_sync *s, const struct xlb_prog_service *ps,
			int d)
{
	struct xlb_port_use *mem = s->maps->port_mem;
	__u16 p;
	size_t i;

	for (i = 0; i < ps->n_fes; i++) {
		p = ntohs(ps->fes[i].key.port);
		s->port_fe[p] += d;
		if (mem)
			mem[p].frontends = s->port_fe[p];
	}
	for (i = 0; i < ps->n_backends; i++) {
		p = ntohs(ps->backends[i].port);
		s->port_be[p] += d;
		if (mem)
			mem[p].backends = s->port_be[p];
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
