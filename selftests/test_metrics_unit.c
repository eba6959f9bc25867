// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The metrics module (user/metrics.c) against maps made here, without
 * xlbd: exact sample lines for per-CPU sums, label escaping (newline,
 * quote, backslash), IPv6 backends, outcome counters, histogram buckets
 * and sum, control-plane counters, /readyz following xlb_metrics_set_ready,
 * and the threading contract: while scrapes of 100,000 services run
 * back to back, the main thread's publishing calls never wait for one
 * (their worst latency stays a small fraction of a scrape's duration).
 *
 * Runs in a network namespace of its own.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <curl/curl.h>

#include "httptest.h"
#include "log.h"
#include "metrics.h"
#include "testlib.h"
#include "util.h"

#define URL "http://127.0.0.1:19477"
#define N_BIG 100000

static void get(const char *path, struct http_resp *r)
{
	char url[256];

	snprintf(url, sizeof(url), URL "%s", path);
	http_get(url, 20, r);
}

/* True if the body holds exactly this line. */
static bool has_line(const struct http_resp *r, const char *line)
{
	size_t n = strlen(line);
	const char *p = r->body;

	while (p && (p = strstr(p, line))) {
		if ((p == r->body || p[-1] == '\n') && p[n] == '\n')
			return true;
		p += n;
	}
	return false;
}

/* Per-CPU counter: packets p on CPU 0 and q on the last CPU. */
static int set_pcpu(const struct xlb_maps *m, int fd, __u32 key, __u64 p,
		    __u64 q)
{
	struct xlb_counter *v = calloc(m->ncpus, sizeof(*v));
	int rc;

	if (!v)
		return -ENOMEM;
	v[0].packets = p;
	v[0].bytes = p * 100;
	v[m->ncpus - 1].packets += q;
	v[m->ncpus - 1].bytes += q * 100;
	rc = bpf_map_update_elem(fd, &key, v, BPF_ANY) ? -errno : 0;
	free(v);
	return rc;
}

static int set_svc(int fd, __u32 id, const char *name)
{
	struct xlb_svc_info v = { .flags = XLB_SVC_INFO_F_USED };

	snprintf(v.name, sizeof(v.name), "%s", name);
	return bpf_map_update_elem(fd, &id, &v, BPF_ANY) ? -errno : 0;
}

static int set_be(int fd, __u32 id, __u32 svc, const char *ip, int port)
{
	struct xlb_backend v = { .state = XLB_BE_ACTIVE, .svc_id = svc,
				 .port = htons(port), .weight = 1 };

	if (xlb_addr_parse(ip, &v.addr, &v.family))
		return -EINVAL;
	return bpf_map_update_elem(fd, &id, &v, BPF_ANY) ? -errno : 0;
}

/* Scrapes back to back until told to stop. */
struct hammer {
	atomic_bool stop;
	atomic_bool in_scrape;
	int scrapes, failed;
	uint64_t min_ns, max_ns;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	struct http_resp r = { 0 };

	h->min_ns = UINT64_MAX;
	while (!atomic_load(&h->stop)) {
		uint64_t t0 = xlb_now_ns(), d;

		atomic_store(&h->in_scrape, true);
		get("/metrics", &r);
		atomic_store(&h->in_scrape, false);
		d = xlb_now_ns() - t0;
		if (r.rc != CURLE_OK || r.status != 200) {
			h->failed++;
			continue;
		}
		h->scrapes++;
		if (d < h->min_ns)
			h->min_ns = d;
		if (d > h->max_ns)
			h->max_ns = d;
	}
	http_resp_free(&r);
	return NULL;
}

int main(void)
{
	struct xlb_maps m = { 0 };
	struct xlb_metrics_opts o = { .address = "127.0.0.1:19477",
				      .max_services = N_BIG,
				      .max_backends = 1000, .maps = &m };
	struct hammer h = { 0 };
	struct http_resp r = { 0 };
	struct xlb_svc_info *infos = NULL;
	__u32 *keys = NULL, i;
	uint64_t worst = 0;
	size_t during = 0;
	char line[256];
	pthread_t th;
	int rc;

	xlb_log_set_prefix("test_metrics_unit");
	xlb_log_libbpf();
	if (!ASSERT_EQ(http_own_netns(), 0, "a network namespace of its own"))
		return test_done();
	curl_global_init(CURL_GLOBAL_DEFAULT);

	m.ncpus = libbpf_num_possible_cpus();
	m.svc_info = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_svc_info", 4,
				    sizeof(struct xlb_svc_info), N_BIG + 8, NULL);
	m.backends = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_backends", 4,
				    sizeof(struct xlb_backend), 64, NULL);
	m.svc_stats = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_svc_stats", 4,
				     sizeof(struct xlb_counter), N_BIG + 8, NULL);
	m.be_stats = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_be_stats", 4,
				    sizeof(struct xlb_counter), 64, NULL);
	m.stats = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_stats", 4,
				 sizeof(struct xlb_counter), XLB_STAT_MAX, NULL);
	rc = !ASSERT_TRUE(m.svc_info >= 0, "create t_svc_info");
	rc |= !ASSERT_TRUE(m.backends >= 0, "create t_backends");
	rc |= !ASSERT_TRUE(m.svc_stats >= 0, "create t_svc_stats");
	rc |= !ASSERT_TRUE(m.be_stats >= 0, "create t_be_stats");
	rc |= !ASSERT_TRUE(m.stats >= 0, "create t_stats");
	if (rc)
		return test_done();

	rc = set_svc(m.svc_info, 1, "new\nline") ||
	     set_svc(m.svc_info, 2, "q\"uote\\") ||
	     set_svc(m.svc_info, 5, "default/web") ||
	     set_be(m.backends, 1, 1, "10.0.0.1", 80) ||
	     set_be(m.backends, 2, 5, "fd00::2", 8443) ||
	     set_be(m.backends, 3, 5, "10.0.0.3", 8080) ||
	     set_pcpu(&m, m.svc_stats, 5, 5, 7) ||
	     set_pcpu(&m, m.be_stats, 2, 3, 4) ||
	     set_pcpu(&m, m.stats, XLB_STAT_DNAT, 40, 2) ||
	     set_pcpu(&m, m.stats, XLB_STAT_HAIRPIN, 0, 9);
	ASSERT_EQ(rc, 0, "fill the maps");
	xlb_metrics_set_programmed(3, 3);

	ASSERT_EQ(xlb_metrics_start(&o), 0, "start on 127.0.0.1:19477");
	get("/readyz", &r);
	ASSERT_EQ(r.status, 503, "/readyz before xlb_metrics_set_ready");
	xlb_metrics_set_ready();
	get("/readyz", &r);
	ASSERT_EQ(r.status, 200, "/readyz after xlb_metrics_set_ready");
	get("/healthz", &r);
	ASSERT_EQ(r.status, 200, "/healthz with readable maps");

	xlb_metrics_observe_sync(0.0003);
	xlb_metrics_observe_sync(0.002);
	xlb_metrics_observe_sync(50);
	xlb_metrics_count(XLB_METRICS_WATCH_RESTARTS);
	xlb_metrics_count(XLB_METRICS_WATCH_RESTARTS);
	xlb_metrics_count(XLB_METRICS_RELISTS);
	get("/metrics", &r);
	ASSERT_EQ(r.status, 200, "/metrics");
	{
		static const char *const want[] = {
			"xlb_services_programmed 3",
			"xlb_backends_programmed 3",
			"xlb_ready 1",
			/* per-CPU values summed: 5 + 7, bytes 100 each */
			"xlb_service_packets_total{service=\"default/web\"} 12",
			"xlb_service_bytes_total{service=\"default/web\"} 1200",
			"xlb_service_packets_total{service=\"new\\nline\"} 0",
			"xlb_service_packets_total{service=\"q\\\"uote\\\\\"} 0",
			"xlb_backend_packets_total{service=\"default/web\",ip=\"fd00::2\",port=\"8443\"} 7",
			"xlb_backend_packets_total{service=\"default/web\",ip=\"10.0.0.3\",port=\"8080\"} 0",
			"xlb_backend_packets_total{service=\"new\\nline\",ip=\"10.0.0.1\",port=\"80\"} 0",
			"xlb_datapath_packets_total{outcome=\"dnat\"} 42",
			"xlb_datapath_bytes_total{outcome=\"dnat\"} 4200",
			"xlb_datapath_packets_total{outcome=\"hairpin\"} 9",
			"xlb_datapath_packets_total{outcome=\"passed\"} 0",
			"xlb_sync_duration_seconds_bucket{le=\"0.00025\"} 0",
			"xlb_sync_duration_seconds_bucket{le=\"0.0005\"} 1",
			"xlb_sync_duration_seconds_bucket{le=\"0.0025\"} 2",
			"xlb_sync_duration_seconds_bucket{le=\"30\"} 2",
			"xlb_sync_duration_seconds_bucket{le=\"+Inf\"} 3",
			"xlb_sync_duration_seconds_count 3",
			"xlb_sync_duration_seconds_sum 50.0023",
			"xlb_watch_restarts_total 2",
			"xlb_watch_relists_total 1",
			"xlb_watch_errors_total 0",
			"xlb_metrics_services_omitted 0",
			"# TYPE xlb_sync_duration_seconds histogram",
			"# TYPE xlb_service_packets_total counter",
			"# TYPE xlb_services_programmed gauge",
		};

		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			ASSERT_TRUE(has_line(&r, want[i]), "line: %s", want[i]);
	}
	ASSERT_TRUE(!strstr(r.body ? r.body : "", "new\nline"),
		    "no raw newline inside a label value");

	/* The threading contract, at 100,000 services. */
	keys = calloc(N_BIG, sizeof(*keys));
	infos = calloc(N_BIG, sizeof(*infos));
	for (i = 0; keys && infos && i < N_BIG; i++) {
		keys[i] = 10 + i % (N_BIG - 2);
		infos[i].flags = XLB_SVC_INFO_F_USED;
		snprintf(infos[i].name, sizeof(infos[i].name), "ns%u/svc-%u", i % 100, i);
	}
	{
		LIBBPF_OPTS(bpf_map_batch_opts, bo);
		__u32 n = N_BIG - 10;

		rc = keys && infos ?
			     bpf_map_update_batch(m.svc_info, keys, infos, &n, &bo) :
			     -ENOMEM;
	}
	ASSERT_EQ(rc, 0, "fill %d services", N_BIG - 10);
	xlb_metrics_set_programmed(N_BIG - 10 + 3, 3);
	rc = pthread_create(&th, NULL, hammer_fn, &h);
	ASSERT_EQ(rc, 0, "start scraping back to back");
	for (i = 0; !rc && (h.scrapes < 5 || during < 1000) && i < 200000; i++) {
		bool in = atomic_load(&h.in_scrape);
		uint64_t t0 = xlb_now_ns(), d;

		xlb_metrics_set_programmed(N_BIG - 10 + 3, 3);
		xlb_metrics_observe_sync(0.001);
		xlb_metrics_count(XLB_METRICS_CONFIG_RELOADS);
		d = xlb_now_ns() - t0;
		if (in && atomic_load(&h.in_scrape)) {
			during++;
			if (d > worst)
				worst = d;
		}
		usleep(100);
	}
	atomic_store(&h.stop, true);
	if (!rc)
		pthread_join(th, NULL);
	printf("# %d scrapes of %d services: %.1f-%.1f ms; %zu publishing rounds during them, worst %.3f ms\n",
	       h.scrapes, N_BIG - 7, h.min_ns / 1e6, h.max_ns / 1e6, during,
	       worst / 1e6);
	ASSERT_EQ(h.failed, 0, "every scrape answered 200");
	ASSERT_TRUE(h.scrapes >= 5, "at least 5 scrapes (%d)", h.scrapes);
	ASSERT_TRUE(during >= 1000,
		    "publishing ran during scrapes (%zu rounds)", during);
	/* Held for a scrape, the lock would make the worst round as long
	 * as a scrape; a round that only waits for the CPU is far shorter. */
	ASSERT_TRUE(worst * 4 < h.min_ns,
		    "worst publishing round (%.3f ms) < 1/4 of the shortest scrape (%.1f ms)",
		    worst / 1e6, h.min_ns / 1e6);
	get("/metrics", &r);
	snprintf(line, sizeof(line), "xlb_service_packets_total{service=\"ns%u/svc-%u\"} 0",
		 (N_BIG - 11) % 100, N_BIG - 11);
	ASSERT_TRUE(has_line(&r, line), "the last of the 100,000 services has its series");

	xlb_metrics_stop();
	get("/healthz", &r);
	ASSERT_EQ(r.rc, CURLE_COULDNT_CONNECT, "stopped: nothing listens");
	http_resp_free(&r);
	free(keys);
	free(infos);
	curl_global_cleanup();
	return test_done();
}
