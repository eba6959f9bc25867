/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small string-keyed hash table (FNV-1a, chained, grown 4x when it
 * holds twice as many entries as buckets). Keys are copied; values
 * belong to the caller. Not thread-safe.
 */
#ifndef XLB_HTAB_H
#define XLB_HTAB_H

#include <stddef.h>

struct xlb_htab_ent {
	struct xlb_htab_ent *next;
	char *key;
	void *val;
};

struct xlb_htab {
	struct xlb_htab_ent **b;
	size_t nb;		/* buckets */
	size_t n;		/* entries */
};

/* The value under key, or NULL. */
void *xlb_htab_get(struct xlb_htab *t, const char *key);
/* Sets (adds or replaces) key's value; 0 or -ENOMEM. */
int xlb_htab_put(struct xlb_htab *t, const char *key, void *val);
/* Removes key; returns its value, or NULL if it was not there. */
void *xlb_htab_del(struct xlb_htab *t, const char *key);
/* The values in a malloc'ed array of *n (NULL on ENOMEM); it does not
 * change when the table does. */
void **xlb_htab_values(struct xlb_htab *t, size_t *n);
/* Frees the entries and keys, not the values; t is empty again. */
void xlb_htab_free(struct xlb_htab *t);

#endif /* XLB_HTAB_H */
