/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One assertion style for every C test. Each check prints
 * "PASS: what" or "FAIL: what: got X, want Y"; selftests/run.sh counts
 * those lines. test_done() returns the exit status.
 *
 * Named sub-runs: `if (TEST_SUB("tc/v6")) run_case(...);` prefixes every
 * check until the next TEST_SUB() with "tc/v6: ", and returns false
 * (skipping the sub-run) when XLB_TEST_SUB is set to a shell pattern the
 * name does not match (`selftests/run.sh test_frag/tc`).
 */
#ifndef XLB_TESTLIB_H
#define XLB_TESTLIB_H

#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed;
static char test_sub_prefix[96];

/* Starts sub-run `name`; false when XLB_TEST_SUB excludes it. */
static inline bool TEST_SUB(const char *name)
{
	const char *want = getenv("XLB_TEST_SUB");

	if (want && *want && fnmatch(want, name, 0) != 0) {
		test_sub_prefix[0] = 0;
		return false;
	}
	snprintf(test_sub_prefix, sizeof(test_sub_prefix), "%s: ", name);
	return true;
}

/* Ends the current sub-run: checks are no longer prefixed. */
static inline void TEST_SUB_END(void)
{
	test_sub_prefix[0] = 0;
}

#define TEST_PASS(fmt, ...)                                                \
	do {                                                               \
		test_passed++;                                             \
		printf("PASS: %s" fmt "\n", test_sub_prefix, ##__VA_ARGS__); \
	} while (0)

#define TEST_FAIL(fmt, ...)                                                \
	do {                                                               \
		test_failed++;                                             \
		printf("FAIL: %s" fmt " (%s:%d)\n", test_sub_prefix,      \
		       ##__VA_ARGS__, __FILE__, __LINE__);                 \
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

/* ASSERT_STREQ(got, want, "what", ...): strings; NULL is its own value. */
#define ASSERT_STREQ(got, want, fmt, ...)                                  \
	({                                                                 \
		const char *__g = (got), *__w = (want);                    \
		int __ok = (!__g && !__w) ||                               \
			   (__g && __w && strcmp(__g, __w) == 0);          \
		if (__ok)                                                  \
			TEST_PASS(fmt, ##__VA_ARGS__);                     \
		else                                                       \
			TEST_FAIL(fmt ": got \"%s\", want \"%s\"",           \
				  ##__VA_ARGS__, __g ? __g : "(null)",     \
				  __w ? __w : "(null)");                   \
		__ok;                                                      \
	})

/* ASSERT_OK(err, "what", ...): 0 expected; prints the error otherwise. */
#define ASSERT_OK(err, fmt, ...)                                           \
	({                                                                 \
		long long __e = (long long)(err);                          \
		if (__e == 0)                                              \
			TEST_PASS(fmt, ##__VA_ARGS__);                     \
		else                                                       \
			TEST_FAIL(fmt ": error %lld (%s)", ##__VA_ARGS__, __e, \
				  __e < 0 ? strerror((int)-__e) : "nonzero"); \
		__e == 0;                                                  \
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
