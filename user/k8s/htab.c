// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

static size_t hstr(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct xlb_htab_ent **slot(struct xlb_htab *t, const char *key)
{
	struct xlb_htab_ent **p;

	if (!t->nb)
		return NULL;
	for (p = &t->b[hstr(key) % t->nb]; *p; p = &(*p)->next)
		if (!strcmp((*p)->key, key))
			return p;
	return p;
}

void *xlb_htab_get(struct xlb_htab *t, const char *key)
{
	struct xlb_htab_ent **p = slot(t, key);

	return p && *p ? (*p)->val : NULL;
}

static int grow(struct xlb_htab *t)
{
	size_t nb = t->nb ? t->nb * 4 : 256, i;
	struct xlb_htab_ent **b = calloc(nb, sizeof(*b)), *e, *n;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = n) {
			n = e->next;
			e->next = b[hstr(e->key) % nb];
			b[hstr(e->key) % nb] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

int xlb_htab_put(struct xlb_htab *t, const char *key, void *val)
{
	struct xlb_htab_ent **p, *e;

	if (t->n >= t->nb * 2 && grow(t))
		return -ENOMEM;
	p = slot(t, key);
	if (*p) {
		(*p)->val = val;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		return -ENOMEM;
	}
	e->val = val;
	*p = e;
	t->n++;
	return 0;
}

void *xlb_htab_del(struct xlb_htab *t, const char *key)
{
	struct xlb_htab_ent **p = slot(t, key), *e;
	void *v;

	if (!p || !*p)
		return NULL;
	e = *p;
	*p = e->next;
	v = e->val;
	free(e->key);
	free(e);
	t->n--;
	return v;
}

void **xlb_htab_values(struct xlb_htab *t, size_t *n)
{
	void **v = calloc(t->n + 1, sizeof(*v));
	struct xlb_htab_ent *e;
	size_t i, k = 0;

	if (!v)
		return NULL;
	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = e->next)
			v[k++] = e->val;
	*n = k;
	return v;
}

void xlb_htab_free(struct xlb_htab *t)
{
	struct xlb_htab_ent *e, *n;
	size_t i;

	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = n) {
			n = e->next;
			free(e->key);
			free(e);
		}
	free(t->b);
	memset(t, 0, sizeof(*t));
}
