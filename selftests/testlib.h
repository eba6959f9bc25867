/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One assertion style for every C test. Each check prints
 * "PASS: what" or "FAIL: what: got X, want Y"; selftests/run.sh counts
 * those lines. test_done() returns the exit status.
 */
#ifndef XLB_TESTLIB_H
#define XLB_TESTLIB_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

#define TEST_PASS(fmt, ...)                                                \
	do {                                                               \
		test_passed++;                                             \
		printf("PASS: " fmt "\n", ##__VA_ARGS__);                  \
	} while (0)

#define TEST_FAIL(fmt, ...)                                                \
	do {                                                               \
		test_failed++;                                             \
		printf("FAIL: " fmt " (%s:%d)\n", ##__VA_ARGS__, __FILE__, \
		       __LINE__);                                          \
	} while (0)

/* ASSERT_EQ(got, want, "what", ...): integers of any width. */
#define ASSERT_EQ(got, want, fmt, ...)                                     \
	({                                                                 \
		long long __g = (long long)(got), __w = (long long)(want); \
		if (__g == __w)                                            \
			TEST_PASS(fmt, ##__VA_ARGS__);                     \
		else                                                       \
			TEST_FAIL(fmt ": got %lld, want %lld", ##__VA_ARGS__, \
				  __g, __w);                               \
		__g == __w;                                                \
	})

#define ASSERT_TRUE(cond, fmt, ...)                                        \
	({                                                                 \
		int __c = !!(cond);                                        \
		if (__c)                                                   \
			TEST_PASS(fmt, ##__VA_ARGS__);                     \
		else                                                       \
			TEST_FAIL(fmt ": %s is false", ##__VA_ARGS__, #cond); \
		__c;                                                       \
	})

/* Byte-for-byte comparison; prints the first difference. */
#define ASSERT_MEM_EQ(got, want, len, fmt, ...)                            \
	({                                                                 \
		const unsigned char *__a = (const void *)(got);            \
		const unsigned char *__b = (const void *)(want);           \
		size_t __n = (len), __i;                                   \
		for (__i = 0; __i < __n && __a[__i] == __b[__i]; __i++)    \
			;                                                  \
		if (__i == __n)                                            \
			TEST_PASS(fmt, ##__VA_ARGS__);                     \
		else                                                       \
			TEST_FAIL(fmt ": byte %zu: got 0x%02x, want 0x%02x", \
				  ##__VA_ARGS__, __i, __a[__i], __b[__i]); \
		__i == __n;                                                \
	})

static inline int test_done(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif /* XLB_TESTLIB_H */
