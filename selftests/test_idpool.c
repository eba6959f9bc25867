// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The id pool behind service and backend ids (user/sync/idpool.c): ids
 * 1 .. max-1 handed out round-robin, a freed id held back for the grace
 * period (XLB_RING_GRACE_NS) before it is handed out again, ids adopted
 * from pinned maps never handed out, exhaustion, and whether the map
 * entry of an id may still hold an old value ("dirty").
 */
#include <time.h>

#include "testlib.h"

#include "ringalloc.h"
#include "sync/idpool.h"
#include "util.h"

static void wait_grace(void)
{
	struct timespec ts = { 0, XLB_RING_GRACE_NS + 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static __u32 take(struct xlb_idpool *p, bool *dirty)
{
	*dirty = false;
	return xlb_idpool_alloc(p, dirty);
}

/* A fresh pool hands out 1 .. max-1 in order, none dirty, then none. */
static void test_order(void)
{
	struct xlb_idpool p;
	bool dirty, any_dirty = false;
	__u32 i, id;

	ASSERT_OK(xlb_idpool_init(&p, 8), "order: init");
	for (i = 1; i < 8; i++) {
		id = take(&p, &dirty);
		ASSERT_EQ(id, i, "order: allocation %u", i);
		any_dirty |= dirty;
	}
	ASSERT_EQ(any_dirty, false, "order: fresh ids are not dirty");
	ASSERT_EQ(p.n_used, 7, "order: used ids");
	ASSERT_EQ(take(&p, &dirty), XLB_ID_NONE, "order: exhausted");
	ASSERT_EQ(p.n_used, 7, "order: exhaustion takes nothing");
	xlb_idpool_fini(&p);
}

/* Sizes with no id or a single one. */
static void test_tiny(void)
{
	struct xlb_idpool p;
	bool dirty;

	ASSERT_OK(xlb_idpool_init(&p, 0), "tiny: init max 0");
	ASSERT_EQ(take(&p, &dirty), XLB_ID_NONE, "tiny: max 0 has no id");
	xlb_idpool_fini(&p);
	ASSERT_OK(xlb_idpool_init(&p, 1), "tiny: init max 1");
	ASSERT_EQ(take(&p, &dirty), XLB_ID_NONE, "tiny: max 1 has no id");
	xlb_idpool_fini(&p);
	ASSERT_OK(xlb_idpool_init(&p, 2), "tiny: init max 2");
	ASSERT_EQ(take(&p, &dirty), 1, "tiny: max 2 has id 1");
	ASSERT_EQ(take(&p, &dirty), XLB_ID_NONE, "tiny: max 2 has only id 1");
	xlb_idpool_fini(&p);
}

/* Freeing 0, an id out of range, an id never handed out or an id twice
 * changes nothing. */
static void test_bad_free(void)
{
	struct xlb_idpool p;
	bool dirty;

	ASSERT_OK(xlb_idpool_init(&p, 16), "bad free: init");
	take(&p, &dirty);
	take(&p, &dirty);
	xlb_idpool_free(&p, 0);
	xlb_idpool_free(&p, 16);
	xlb_idpool_free(&p, 1000);
	xlb_idpool_free(&p, 9);
	ASSERT_EQ(p.n_used, 2, "bad free: 0, out of range, unused: ignored");
	ASSERT_EQ(p.held_tail - p.held_head, 0, "bad free: nothing held");
	xlb_idpool_free(&p, 2);
	xlb_idpool_free(&p, 2);
	ASSERT_EQ(p.held_tail - p.held_head, 1, "bad free: twice holds once");
	ASSERT_EQ(p.n_used, 2, "bad free: a held id counts as used");
	xlb_idpool_fini(&p);
}

/* A freed id is not handed out before its grace period, even when the
 * allocation wraps around to it; after it, it comes back dirty. */
static void test_grace(void)
{
	struct xlb_idpool p;
	uint64_t t0, t1;
	bool dirty;
	__u32 i;

	ASSERT_OK(xlb_idpool_init(&p, 8), "grace: init");
	for (i = 1; i <= 3; i++)
		take(&p, &dirty);
	xlb_idpool_free(&p, 1);
	ASSERT_EQ(take(&p, &dirty), 4, "grace: next id after a free is new");
	wait_grace();
	t0 = xlb_now_ns();
	xlb_idpool_free(&p, 2);	/* 1 is past its grace, 2 is not */
	for (i = 5; i <= 7; i++)
		ASSERT_EQ(take(&p, &dirty), i, "grace: id %u", i);
	ASSERT_EQ(take(&p, &dirty), 1, "grace: wraps to 1, past its grace");
	ASSERT_EQ(dirty, true, "grace: a reused id is dirty");
	/* Only 2 is left, and it is still held: the pool waits. */
	ASSERT_EQ(take(&p, &dirty), 2, "grace: the held id, once past grace");
	t1 = xlb_now_ns();
	ASSERT_TRUE(t1 - t0 >= XLB_RING_GRACE_NS,
		    "grace: not reused before %llu ns (after %llu)",
		    (unsigned long long)XLB_RING_GRACE_NS,
		    (unsigned long long)(t1 - t0));
	ASSERT_EQ(dirty, true, "grace: the waited-for id is dirty");
	ASSERT_EQ(take(&p, &dirty), XLB_ID_NONE, "grace: then exhausted");
	xlb_idpool_fini(&p);
}

/* Ids adopted from pinned maps are never handed out; they count as used
 * and their entries as written (dirty once freed and reused). */
static void test_mark(void)
{
	static const __u32 want[] = { 1, 3, 4, 6, 7 };
	struct xlb_idpool p;
	bool dirty;
	size_t i;

	ASSERT_OK(xlb_idpool_init(&p, 8), "mark: init");
	xlb_idpool_mark(&p, 2);
	xlb_idpool_mark(&p, 5);
	xlb_idpool_mark(&p, 5);
	xlb_idpool_mark(&p, 0);
	xlb_idpool_mark(&p, 8);
	ASSERT_EQ(p.n_used, 2, "mark: twice, 0 and out of range count once");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ASSERT_EQ(take(&p, &dirty), want[i], "mark: allocation %zu",
			  i + 1);
	ASSERT_EQ(take(&p, &dirty), XLB_ID_NONE, "mark: exhausted");
	xlb_idpool_free(&p, 5);
	wait_grace();
	ASSERT_EQ(take(&p, &dirty), 5, "mark: a freed adopted id comes back");
	ASSERT_EQ(dirty, true, "mark: an adopted id is dirty");
	xlb_idpool_fini(&p);
}

/* Many held ids at once (the FIFO grows while the oldest leave it): every
 * id is handed out once at a time, and each held one comes back. */
static void test_many_held(void)
{
	enum { MAX = 300 };
	static bool used[MAX];
	struct xlb_idpool p;
	size_t twice = 0, got = 0;
	bool dirty;
	__u32 i, id;

	ASSERT_OK(xlb_idpool_init(&p, MAX), "many: init");
	for (i = 1; i < MAX; i++)
		used[take(&p, &dirty)] = true;
	for (i = 1; i <= 64; i++) {
		xlb_idpool_free(&p, i);
		used[i] = false;
	}
	wait_grace();
	/* 1..64 leave the FIFO as 65 enters it. */
	xlb_idpool_free(&p, 65);
	used[65] = false;
	ASSERT_EQ(p.n_used, MAX - 1 - 64, "many: past grace, 64 ids free");
	for (i = 1; i <= 64; i++) {
		id = take(&p, &dirty);
		twice += used[id];
		used[id] = true;
		got += id == i;
	}
	ASSERT_EQ(got, 64, "many: the 64 come back in order");
	wait_grace();
	xlb_idpool_free(&p, 66);
	used[66] = false;
	ASSERT_EQ(p.n_used, MAX - 2, "many: 65 free, 66 held");
	ASSERT_EQ(take(&p, &dirty), 65, "many: 65 is next");
	ASSERT_EQ(take(&p, &dirty), 66, "many: then 66, after its grace");
	while ((id = take(&p, &dirty)) != XLB_ID_NONE)
		twice += used[id];
	ASSERT_EQ(twice, 0, "many: no id handed out while in use");
	ASSERT_EQ(p.n_used, MAX - 1, "many: every id used");
	xlb_idpool_fini(&p);
}

int main(void)
{
	test_order();
	test_tiny();
	test_bad_free();
	test_grace();
	test_mark();
	test_many_held();
	return test_done();
}
