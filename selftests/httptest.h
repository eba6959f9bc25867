/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the HTTP tests share: a libcurl GET that keeps status, body and
 * content type, and a network namespace of the test's own with lo up (so
 * that a server listening on every address exposes nothing and no port
 * collides with the host's).
 */
#ifndef XLB_SELFTEST_HTTPTEST_H
#define XLB_SELFTEST_HTTPTEST_H

#include <stddef.h>

#include <curl/curl.h>

struct http_resp {
	long status;		/* 0: no HTTP answer */
	CURLcode rc;
	char *body;		/* NUL terminated, "" when empty; owned */
	size_t len;
	size_t cap;		/* allocated for body */
	char ctype[128];	/* Content-Type, "" if none */
};

/* GETs url into r, freeing what r held (start from a zeroed r). */
void http_get(const char *url, long timeout_s, struct http_resp *r);
void http_resp_free(struct http_resp *r);
/* Moves the calling process into a new network namespace with lo up;
 * 0 or -errno. */
int http_own_netns(void);

#endif /* XLB_SELFTEST_HTTPTEST_H */
