// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev table generation (Eisenbud et al., NSDI 2016, section 3.4).
 *
 * Each backend has a preference list over the M slots (M prime):
 * slot_j = (offset + j * skip) mod M, with offset and skip taken from two
 * independent hashes of the backend's identity. Backends then take turns,
 * each claiming the next free slot of its own list, until all M slots are
 * taken. Every backend's list depends only on its own identity, so
 * removing a backend frees its own slots and leaves most of the others'
 * claims in place. Not all: in the last rounds backends probe deep into
 * their lists, and a freed slot there changes which free slot the next
 * probes find. The extra movement grows with N^2 / M (at M = 65537 about
 * 1.6 times the minimum for 100 backends, 6.6 times for 1000; the paper
 * keeps M > 100 N for this reason; figures in selftests/test_maglev.c).
 *
 * Weights. The paper gives every backend one turn per round. Here the
 * k-th turn of a backend of weight w is due at virtual time k / w, and
 * turns are taken in order of due time, ties broken by identity order.
 * With equal weights this is exactly the paper's round robin (round k is
 * time k / w). At any moment every backend has taken within one slot of
 * t * w of the slots, so the shares are proportional up to one slot, and
 * multiplying all weights by a constant gives the same table. A
 * backend's schedule depends on its own weight only: adding or removing
 * another backend does not reorder the remaining backends' turns, which
 * is what keeps the disruption of the unweighted algorithm. (Taking w
 * consecutive turns per round would also be proportional, but it lets
 * the last, partial round favour whoever comes first by up to w - 1
 * slots, makes weights 2,2 differ from 1,1, and moved about 30% more
 * slots on removal in our measurements.)
 *
 * Determinism. Backends are sorted by identity (family, address bytes,
 * port bytes: a byte order, the same on every host) before the turns are
 * dealt, and the identity is hashed from its bytes, so the table does not
 * depend on the input order, the backend ids, or the host's endianness.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlb/hash.h>

#include "log.h"
#include "maglev.h"
#include "util.h"

/* Seeds of the two identity hashes. Part of the table's definition:
 * changing either one moves almost every slot of every service, and nodes
 * running different values would disagree on every table. */
#define XLB_MAGLEV_SEED_OFFSET	0x6d61676cu
#define XLB_MAGLEV_SEED_SKIP	0x736b6970u

/* family, 16 address bytes, 2 port bytes, 1 zero byte */
#define XLB_MAGLEV_KEY_LEN	20

/* A backend in identity order, before it is dealt turns. */
struct mg_sorted {
	__u8 key[XLB_MAGLEV_KEY_LEN];	/* identity bytes, memcmp order */
	__u32 idx;			/* index in the caller's array */
};

/* A weighted backend while the table is filled. */
struct mg_be {
	__u32 pos;	/* next slot of its preference list */
	__u32 skip;	/* step of its preference list, 1 .. M-1 */
	__u32 turn;	/* k of its next turn, due at time turn / weight */
	__u32 weight;	/* > 0 */
	__u32 id;	/* backend id written into the table */
};

bool xlb_is_prime(__u32 n)
{
	__u32 d;

	if (n < 4)
		return n >= 2;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	for (d = 5; (__u64)d * d <= n; d += 6)
		if (n % d == 0 || n % (d + 2) == 0)
			return false;
	return true;
}

__u32 xlb_maglev_table_size(size_t n_backends)
{
	__u32 m;

	if (n_backends > XLB_RING_MAX / XLB_RING_PER_BACKEND)
		return XLB_RING_MAX;
	m = n_backends * XLB_RING_PER_BACKEND;
	if (m < XLB_RING_MIN)
		m = XLB_RING_MIN;
	/* Ends at XLB_RING_MAX at the latest: it is prime. */
	while (!xlb_is_prime(m))
		m++;
	return m;
}

static const char *mg_addr_str(const struct xlb_maglev_backend *be,
			       char *buf, size_t len)
{
	int af = be->family == XLB_AF_INET ? AF_INET : AF_INET6;

	if (!inet_ntop(af, &be->addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* The identity must be one address of one family. */
static int mg_check(const struct xlb_maglev_backend *be)
{
	static const __u8 zero[12];

	if (be->family != XLB_AF_INET && be->family != XLB_AF_INET6) {
		pr_warn("maglev: backend id %u: family %u is neither %u nor %u",
			be->id, be->family, XLB_AF_INET, XLB_AF_INET6);
		return -EINVAL;
	}
	if (be->family == XLB_AF_INET && memcmp(&be->addr.bytes[4], zero, 12)) {
		pr_warn("maglev: backend id %u: IPv4 address with non-zero bytes 4..15",
			be->id);
		return -EINVAL;
	}
	return 0;
}

static void mg_key(const struct xlb_maglev_backend *be, __u8 *key)
{
	memset(key, 0, XLB_MAGLEV_KEY_LEN);
	key[0] = be->family;
	memcpy(&key[1], be->addr.bytes, 16);
	memcpy(&key[17], &be->port, 2);
}

static int mg_cmp_key(const void *a, const void *b)
{
	const struct mg_sorted *x = a, *y = b;

	return memcmp(x->key, y->key, XLB_MAGLEV_KEY_LEN);
}

static int mg_cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Hash words read from the identity bytes in a fixed (big-endian) order. */
static __u32 mg_hash(const __u8 *key, __u32 seed)
{
	__u32 w[9] = { 0 };
	int i;

	for (i = 0; i < 4; i++)
		w[i] = (__u32)key[1 + 4 * i] << 24 |
		       (__u32)key[2 + 4 * i] << 16 |
		       (__u32)key[3 + 4 * i] << 8 | key[4 + 4 * i];
	w[4] = (__u32)key[17] << 24 | (__u32)key[18] << 16 | key[0];
	return xlb_jhash_9words(w, seed);
}

/* The preference list: offset in 0 .. m-1, skip in 1 .. m-1 (m prime,
 * so the list visits every slot once). */
static void mg_perm(const __u8 *key, __u32 m, __u32 *offset, __u32 *skip)
{
	*offset = mg_hash(key, XLB_MAGLEV_SEED_OFFSET) % m;
	*skip = mg_hash(key, XLB_MAGLEV_SEED_SKIP) % (m - 1) + 1;
}

/* Is the next turn of a due before the next turn of b? a.turn / a.weight
 * against b.turn / b.weight, cross-multiplied (turn <= M and weight are
 * 32 bits: the products fit 64), then identity order. */
static inline bool mg_before(const struct mg_be *be, __u32 a, __u32 b)
{
	__u64 ta = (__u64)be[a].turn * be[b].weight;
	__u64 tb = (__u64)be[b].turn * be[a].weight;

	return ta < tb || (ta == tb && a < b);
}

/* Min-heap of backend indices ordered by mg_before. */
static void mg_sift_down(const struct mg_be *be, __u32 *heap, __u32 n,
			 __u32 i)
{
	__u32 top = heap[i], c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && mg_before(be, heap[c + 1], heap[c]))
			c++;
		if (!mg_before(be, heap[c], top))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = top;
}

int xlb_maglev_perm(const struct xlb_maglev_backend *be, __u32 m,
		    __u32 *offset, __u32 *skip)
{
	__u8 key[XLB_MAGLEV_KEY_LEN];
	int err;

	if (!xlb_is_prime(m)) {
		pr_warn("maglev: table size %u is not a prime", m);
		return -EINVAL;
	}
	err = mg_check(be);
	if (err)
		return err;
	mg_key(be, key);
	mg_perm(key, m, offset, skip);
	return 0;
}

/* The arguments' own checks, before anything is allocated. */
static int mg_check_args(const struct xlb_maglev_backend *bes, size_t n,
			 __u32 m, const __u32 *table)
{
	if (!table || (n && !bes)) {
		pr_warn("maglev: table %p, backends %p: NULL argument",
			(const void *)table, (const void *)bes);
		return -EINVAL;
	}
	if (!xlb_is_prime(m)) {
		pr_warn("maglev: table size %u is not a prime", m);
		return -EINVAL;
	}
	if (n > UINT32_MAX) {
		pr_warn("maglev: %zu backends: too many", n);
		return -EINVAL;
	}
	return 0;
}

/* Checks each backend and sorts them by identity into sorted[] (key and
 * index), their ids into ids[]; ids and identities must be unique. */
static int mg_sort_backends(const struct xlb_maglev_backend *bes, __u32 n,
			    struct mg_sorted *sorted, __u32 *ids)
{
	char buf[INET6_ADDRSTRLEN];
	__u32 i;
	int err;

	for (i = 0; i < n; i++) {
		err = mg_check(&bes[i]);
		if (err)
			return err;
		if (bes[i].id == XLB_ID_NONE) {
			pr_warn("maglev: backend %s port %u: id %u is reserved",
				mg_addr_str(&bes[i], buf, sizeof(buf)),
				ntohs(bes[i].port), bes[i].id);
			return -EINVAL;
		}
		mg_key(&bes[i], sorted[i].key);
		sorted[i].idx = i;
		ids[i] = bes[i].id;
	}
	xlb_qsort(ids, n, sizeof(*ids), mg_cmp_u32);
	for (i = 1; i < n; i++) {
		if (ids[i] == ids[i - 1]) {
			pr_warn("maglev: backend id %u given twice", ids[i]);
			return -EINVAL;
		}
	}
	xlb_qsort(sorted, n, sizeof(*sorted), mg_cmp_key);
	for (i = 1; i < n; i++) {
		const struct xlb_maglev_backend *b = &bes[sorted[i].idx];

		if (!mg_cmp_key(&sorted[i - 1], &sorted[i])) {
			pr_warn("maglev: backend ids %u and %u: same address %s port %u",
				bes[sorted[i - 1].idx].id, b->id,
				mg_addr_str(b, buf, sizeof(buf)),
				ntohs(b->port));
			return -EINVAL;
		}
	}
	return 0;
}

/* The weighted backends in identity order, each at the head of its
 * preference list and due for its first turn; returns how many. */
static __u32 mg_lists(const struct xlb_maglev_backend *bes, __u32 n,
		      const struct mg_sorted *sorted, __u32 m, struct mg_be *be,
		      __u32 *heap)
{
	__u32 i, nw = 0;

	for (i = 0; i < n; i++) {
		const struct xlb_maglev_backend *b = &bes[sorted[i].idx];

		if (!b->weight)
			continue;
		mg_perm(sorted[i].key, m, &be[nw].pos, &be[nw].skip);
		be[nw].turn = 1;
		be[nw].weight = b->weight;
		be[nw].id = b->id;
		heap[nw] = nw;
		nw++;
	}
	return nw;
}

/* Orders the turns of nw > 0 backends; returns true when they take plain
 * round-robin turns. With one weight for all, the due-time order is round
 * robin in identity order: skip the heap (it costs three quarters of the
 * time at M = 65537). */
static bool mg_order_turns(const struct mg_be *be, __u32 *heap, __u32 nw)
{
	__u32 i;

	for (i = 1; i < nw && be[i].weight == be[0].weight; i++)
		;
	if (i == nw) {
		heap[0] = 0;
		return true;
	}
	for (i = nw / 2; i-- > 0;)
		mg_sift_down(be, heap, nw, i);
	return false;
}

/* The hot loop: the backend whose turn is due claims the next free slot
 * of its list (0 marks a free slot: ids are never 0). Every list visits
 * all M slots since M is prime, so a turn always ends. table is zeroed. */
static void mg_fill(struct mg_be *be, __u32 *heap, __u32 nw, bool rr, __u32 m,
		    __u32 *table)
{
	__u32 filled, slot;

	for (filled = 0;;) {
		struct mg_be *b = &be[heap[0]];
		__u32 skip = b->skip, back = m - skip;

		slot = b->pos;
		while (table[slot])
			slot = slot >= back ? slot - back : slot + skip;
		table[slot] = b->id;
		if (++filled == m)
			break;
		b->pos = slot >= back ? slot - back : slot + skip;
		b->turn++;
		if (rr)
			heap[0] = heap[0] + 1 == nw ? 0 : heap[0] + 1;
		else
			mg_sift_down(be, heap, nw, 0);
	}
}

int xlb_maglev_build(const struct xlb_maglev_backend *bes, size_t n, __u32 m,
		     __u32 *table)
{
	struct mg_sorted *sorted = NULL;
	struct mg_be *be = NULL;
	__u32 *ids = NULL, *heap = NULL;
	__u32 nw;
	int err;

	err = mg_check_args(bes, n, m, table);
	if (err)
		return err;
	memset(table, 0, (size_t)m * sizeof(*table));
	if (!n)
		return 0;

	sorted = calloc(n, sizeof(*sorted));
	ids = calloc(n, sizeof(*ids));
	be = calloc(n, sizeof(*be));
	heap = calloc(n, sizeof(*heap));
	if (!sorted || !ids || !be || !heap) {
		pr_warn("maglev: %zu backends: out of memory", n);
		err = -ENOMEM;
		goto out;
	}
	err = mg_sort_backends(bes, n, sorted, ids);
	if (err)
		goto out;
	nw = mg_lists(bes, n, sorted, m, be, heap);
	if (nw)
		mg_fill(be, heap, nw, mg_order_turns(be, heap, nw), m, table);
out:
	free(heap);
	free(be);
	free(ids);
	free(sorted);
	return err;
}
