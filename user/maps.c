// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "maps.h"

#define MAP_NAME_ENTRY(UC, lc) [XLB_MAPI_##UC] = XLB_MAP_NAME(lc),
const char *const xlb_map_names[XLB_N_MAPS] = { XLB_MAPS(MAP_NAME_ENTRY) };

/* The fd fields overlay fd[] exactly: ints, no padding between them. */
_Static_assert(sizeof(((struct xlb_maps *)0)->fd) ==
		       XLB_N_MAPS * sizeof(int), "xlb_maps fd array");
#define FD_AT_INDEX(UC, lc)						\
	_Static_assert(offsetof(struct xlb_maps, lc) ==			\
			       offsetof(struct xlb_maps, fd[XLB_MAPI_##UC]),	\
		       "xlb_maps." #lc " is not fd[XLB_MAPI_" #UC "]");
XLB_MAPS(FD_AT_INDEX)

int xlb_maps_open_pinned(struct xlb_maps *m, const char *dir)
{
	char path[PATH_MAX];
	int i, rc;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < XLB_N_MAPS; i++)
		m->fd[i] = -1;
	m->own_fds = true;
	for (i = 0; i < XLB_N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, xlb_map_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0) {
			rc = -errno;
			pr_err("open pinned map %s: %s (is xlbd running, or was it run with another --bpffs?)",
			       path, strerror(errno));
			xlb_maps_close(m);
			return rc;
		}
	}
	rc = xlb_maps_init(m);
	if (rc)
		xlb_maps_close(m);
	return rc;
}

static int max_entries(int fd, __u32 *out)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*out = info.max_entries;
	return 0;
}

int xlb_maps_init(struct xlb_maps *m)
{
	void *mem;
	int rc;

	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus < 0)
		return m->ncpus;
	if ((rc = max_entries(m->rings, &m->ring_slots)) ||
	    (rc = max_entries(m->svc_info, &m->max_services)) ||
	    (rc = max_entries(m->backends, &m->max_backends)) ||
	    (rc = max_entries(m->svc, &m->max_frontends)))
		return rc;
	m->ring_slots *= XLB_RING_SLOTS_PER_ENTRY;
	mem = mmap(NULL, (size_t)m->ring_slots * sizeof(__u32),
		   PROT_READ | PROT_WRITE, MAP_SHARED, m->rings, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		pr_err("mmap of %s (%u slots): %s", XLB_MAP_RINGS,
		       m->ring_slots, strerror(errno));
		return rc;
	}
	m->ring_mem = mem;
	mem = mmap(NULL, 65536 * sizeof(struct xlb_port_use),
		   PROT_READ | PROT_WRITE, MAP_SHARED, m->ports, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		pr_err("mmap of %s: %s", XLB_MAP_PORTS, strerror(errno));
		return rc;
	}
	m->port_mem = mem;
	return 0;
}

void xlb_maps_close(struct xlb_maps *m)
{
	int i;

	if (m->ring_mem)
		munmap(m->ring_mem, (size_t)m->ring_slots * sizeof(__u32));
	m->ring_mem = NULL;
	if (m->port_mem)
		munmap(m->port_mem, 65536 * sizeof(struct xlb_port_use));
	m->port_mem = NULL;
	if (!m->own_fds)
		return;
	for (i = 0; i < XLB_N_MAPS; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

int xlb_counter_read(const struct xlb_maps *m, int fd, __u32 key,
		     struct xlb_counter *out)
{
	struct xlb_counter *v;
	int i;

	memset(out, 0, sizeof(*out));
	v = calloc(m->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < m->ncpus; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

int xlb_counter_reset(const struct xlb_maps *m, int fd, __u32 key)
{
	struct xlb_counter *v;
	int rc = 0;

	v = calloc(m->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &key, v, BPF_ANY))
		rc = -errno;
	free(v);
	return rc;
}

/* Reads n entries of an array map with batched lookups. */
int xlb_array_read(int fd, __u32 n, size_t vsz, void *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys, total = 0, in = 0, next = 0, count;
	int rc = 0;

	keys = malloc((size_t)n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (total < n) {
		count = n - total;
		rc = bpf_map_lookup_batch(fd, total ? &in : NULL, &next,
					  keys + total,
					  (char *)out + (size_t)total * vsz,
					  &count, &opts);
		total += count;
		if (rc) {
			rc = errno == ENOENT ? 0 : -errno;
			break;
		}
		in = next;
	}
	free(keys);
	return rc;
}
