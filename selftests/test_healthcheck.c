// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The healthCheckNodePort servers (user/healthcheck.c), driven through
 * xlb_hc_set / xlb_hc_remove and fetched with libcurl: 200 with the count
 * when there are local endpoints, 503 when there are none, the JSON body
 * kube-proxy gives, every address (IPv4 and IPv6), independent ports, a
 * taken port refused, a removed port closed, and answers that stay
 * consistent while the main thread changes the count under load.
 *
 * Runs in a network namespace of its own, so that listening on every
 * address exposes nothing and no port can collide with the host's.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "healthcheck.h"
#include "httptest.h"
#include "log.h"
#include "testlib.h"

/* Checks a body: {"service": {"namespace": ns, "name": name},
 * "localEndpoints": count}. */
static void check_body(const struct http_resp *r, const char *ns, const char *name,
		       int count, const char *what)
{
	cJSON *j = cJSON_Parse(r->body), *s, *v;
	const char *got_ns = NULL, *got_name = NULL;
	int got = -1;

	s = cJSON_GetObjectItemCaseSensitive(j, "service");
	v = cJSON_GetObjectItemCaseSensitive(s, "namespace");
	if (cJSON_IsString(v))
		got_ns = v->valuestring;
	v = cJSON_GetObjectItemCaseSensitive(s, "name");
	if (cJSON_IsString(v))
		got_name = v->valuestring;
	v = cJSON_GetObjectItemCaseSensitive(j, "localEndpoints");
	if (cJSON_IsNumber(v))
		got = v->valueint;
	ASSERT_STREQ(got_ns, ns, "%s: service.namespace (body %s)", what,
		     r->body);
	ASSERT_STREQ(got_name, name, "%s: service.name", what);
	ASSERT_EQ(got, count, "%s: localEndpoints", what);
	cJSON_Delete(j);
}

/* Requests in a loop while the main thread flips the count: every answer
 * must be 200 with a count > 0 or 503 with 0. */
struct hammer {
	const char *url;
	volatile bool stop;
	int answers, inconsistent, failed;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	struct http_resp r = { 0 };

	while (!h->stop) {
		cJSON *j, *v;
		int n = -1;

		http_get(h->url, 5, &r);
		if (r.rc != CURLE_OK) {
			h->failed++;
			continue;
		}
		j = cJSON_Parse(r.body);
		v = cJSON_GetObjectItemCaseSensitive(j, "localEndpoints");
		if (cJSON_IsNumber(v))
			n = v->valueint;
		cJSON_Delete(j);
		h->answers++;
		if (!((r.status == 200 && n > 0) || (r.status == 503 && n == 0)))
			h->inconsistent++;
	}
	http_resp_free(&r);
	return NULL;
}

int main(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(31003) };
	struct hammer h = { .url = "http://127.0.0.1:31002/" };
	pthread_t th;
	struct http_resp r = { 0 };
	int rc, i, blocker;

	xlb_log_set_prefix("test_healthcheck");
	rc = http_own_netns();
	if (!ASSERT_EQ(rc, 0, "a network namespace of its own"))
		return test_done();
	curl_global_init(CURL_GLOBAL_DEFAULT);

	ASSERT_EQ(xlb_hc_set(0, "default/web", 1), -EINVAL, "port 0 refused");
	ASSERT_EQ(xlb_hc_set(31001, "", 1), -EINVAL, "empty name refused");
	ASSERT_EQ(xlb_hc_count(), 0, "nothing served after refusals");

	ASSERT_EQ(xlb_hc_set(31001, "default/web", 2), 0, "serve 31001 for default/web, 2 local");
	http_get("http://127.0.0.1:31001/healthz", 5, &r);
	ASSERT_EQ(r.status, 200, "2 local endpoints: 200 (curl %d)", r.rc);
	check_body(&r, "default", "web", 2, "2 local endpoints");
	ASSERT_STREQ(r.ctype, "application/json", "Content-Type");
	http_get("http://[::1]:31001/", 5, &r);
	ASSERT_EQ(r.status, 200, "IPv6 loopback answers too, any path (curl %d)", r.rc);

	ASSERT_EQ(xlb_hc_set(31001, "default/web", 0), 0, "update to 0 local");
	http_get("http://127.0.0.1:31001/", 5, &r);
	ASSERT_EQ(r.status, 503, "0 local endpoints: 503");
	check_body(&r, "default", "web", 0, "0 local endpoints");
	ASSERT_EQ(xlb_hc_count(), 1, "an update serves no new port");

	ASSERT_EQ(xlb_hc_set(31002, "kube-system/dns", 1), 0, "serve 31002 for kube-system/dns");
	http_get("http://127.0.0.1:31002/", 5, &r);
	ASSERT_EQ(r.status, 200, "second port: 200");
	check_body(&r, "kube-system", "dns", 1, "second port");
	http_get("http://127.0.0.1:31001/", 5, &r);
	ASSERT_EQ(r.status, 503, "first port still 503: ports are independent");
	ASSERT_EQ(xlb_hc_count(), 2, "two ports served");

	ASSERT_EQ(xlb_hc_set(31004, "solo", 3), 0, "a name without a namespace");
	http_get("http://127.0.0.1:31004/", 5, &r);
	check_body(&r, "", "solo", 3, "name without a namespace");
	ASSERT_EQ(xlb_hc_remove(31004), 0, "remove 31004");

	/* A port someone else holds. */
	blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rc = bind(blocker, (struct sockaddr *)&sin, sizeof(sin)) ||
	     listen(blocker, 1);
	ASSERT_EQ(rc, 0, "hold port 31003");
	ASSERT_TRUE(xlb_hc_set(31003, "default/taken", 1) < 0, "a taken port is refused");
	ASSERT_EQ(xlb_hc_count(), 2, "and not counted");
	close(blocker);

	/* Consistency under load: flip the count while a thread asks. */
	rc = pthread_create(&th, NULL, hammer_fn, &h);
	ASSERT_EQ(rc, 0, "start the requesting thread");
	for (i = 0; !rc && i < 400; i++) {
		xlb_hc_set(31002, "kube-system/dns", i % 3);
		usleep(500);
	}
	h.stop = true;
	if (!rc)
		pthread_join(th, NULL);
	ASSERT_TRUE(h.answers > 20, "answers while the count changed (%d)", h.answers);
	ASSERT_EQ(h.inconsistent, 0, "every answer: 200 with count > 0 or 503 with 0 (of %d)",
		  h.answers);
	ASSERT_EQ(h.failed, 0, "no failed request during the changes");

	ASSERT_EQ(xlb_hc_remove(31001), 0, "remove 31001");
	http_get("http://127.0.0.1:31001/", 5, &r);
	ASSERT_EQ(r.rc, CURLE_COULDNT_CONNECT, "removed port is closed (curl: %s)",
		  curl_easy_strerror(r.rc));
	ASSERT_EQ(xlb_hc_remove(31001), -ENOENT, "removing it again: -ENOENT");
	http_get("http://127.0.0.1:31002/", 5, &r);
	ASSERT_TRUE(r.status == 200 || r.status == 503, "other port still answers (%ld)",
		    r.status);

	xlb_hc_fini();
	ASSERT_EQ(xlb_hc_count(), 0, "fini: nothing served");
	http_get("http://127.0.0.1:31002/", 5, &r);
	ASSERT_EQ(r.rc, CURLE_COULDNT_CONNECT, "fini closed the last port");
	http_resp_free(&r);
	curl_global_cleanup();
	return test_done();
}
