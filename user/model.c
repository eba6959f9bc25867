// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

void xlb_model_free(struct xlb_model *m)
{
	size_t i;

	for (i = 0; i < m->n_services; i++) {
		free(m->services[i].backends);
		free(m->services[i].external_ips);
		free(m->services[i].lb_ips);
		free(m->services[i].source_ranges);
		free(m->services[i].groups);
	}
	free(m->services);
	m->services = NULL;
	m->n_services = 0;
}

int xlb_be_identity_cmp(const union xlb_addr *a1, __be16 p1, __u8 f1,
			const union xlb_addr *a2, __be16 p2, __u8 f2)
{
	int c;

	if (f1 != f2)
		return f1 < f2 ? -1 : 1;
	c = memcmp(a1->bytes, a2->bytes, 16);
	if (c)
		return c;
	if (p1 != p2)
		return p1 < p2 ? -1 : 1;
	return 0;
}

static int be_cmp(const void *a, const void *b)
{
	const struct xlb_model_backend *x = a, *y = b;

	return xlb_be_identity_cmp(&x->addr, x->port, x->family, &y->addr,
				   y->port, y->family);
}

static int svc_cmp(const void *a, const void *b)
{
	const struct xlb_model_service *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void xlb_model_sort(struct xlb_model *m)
{
	size_t i;

	for (i = 0; i < m->n_services; i++)
		xlb_qsort(m->services[i].backends, m->services[i].n_backends,
			  sizeof(struct xlb_model_backend), be_cmp);
	xlb_qsort(m->services, m->n_services, sizeof(struct xlb_model_service),
		  svc_cmp);
}

void xlb_model_names(const struct xlb_model *m, char ***names, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*names)[i]);
	free(*names);
	*names = calloc(m->n_services + 1, sizeof(**names));
	*n = 0;
	for (i = 0; *names && i < m->n_services; i++)
		(*names)[(*n)++] = strdup(m->services[i].name);
}

int xlb_cidr_parse(const char *s, struct xlb_cidr *c)
{
	char buf[64], *p, *slash, *end;
	long len;

	while (*s == ' ')
		s++;
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	for (p = buf + strlen(buf); p > buf && p[-1] == ' '; p--)
		p[-1] = '\0';
	slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (xlb_addr_parse(buf, &c->addr, &c->family))
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 ||
	    len > (c->family == XLB_AF_INET ? 32 : 128))
		return -EINVAL;
	c->len = len;
	return 0;
}

int xlb_cidr_contains(const struct xlb_cidr *c, const union xlb_addr *addr,
		      __u8 family)
{
	unsigned int full = c->len / 8, rest = c->len % 8;

	if (c->family != family)
		return 0;
	if (memcmp(c->addr.bytes, addr->bytes, full))
		return 0;
	return !rest || !((c->addr.bytes[full] ^ addr->bytes[full]) &
			  (0xff00 >> rest));
}
