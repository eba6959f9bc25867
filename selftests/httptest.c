// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httptest.h"

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct http_resp *r = ud;
	size_t need = r->len + sz * n + 1;

	/* Doubling: a realloc per chunk copies a 10 MB body hundreds of
	 * times over under ASan, whose realloc always moves. */
	if (need > r->cap) {
		size_t cap = r->cap * 2 > need ? r->cap * 2 : need;
		char *b = realloc(r->body, cap);

		if (!b)
			return 0;	/* libcurl fails the transfer */
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

void http_resp_free(struct http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void http_get(const char *url, long timeout_s, struct http_resp *r)
{
	CURL *c = curl_easy_init();
	char *ct = NULL;

	http_resp_free(r);
	r->body = calloc(1, 1);
	r->cap = r->body ? 1 : 0;
	if (!c || !r->body) {
		r->rc = CURLE_FAILED_INIT;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r->rc = curl_easy_perform(c);
	if (r->rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		if (ct)
			snprintf(r->ctype, sizeof(r->ctype), "%s", ct);
	}
out:
	if (c)
		curl_easy_cleanup(c);
}

int http_own_netns(void)
{
	struct ifreq ifr = { 0 };
	int fd, rc = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!rc && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}
