// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics, /healthz and /readyz over libmicrohttpd. See metrics.h for
 * the threading contract: the HTTP thread reads the maps through its own
 * fds and copies the published snapshot under a lock held for O(1) work.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

/* Upper bounds of the sync latency buckets, seconds; +Inf follows. */
static const double sync_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};
#define N_BOUNDS (sizeof(sync_bounds) / sizeof(sync_bounds[0]))

static const struct {
	const char *name, *help;
} counter_info[XLB_METRICS_COUNTER_MAX] = {
	[XLB_METRICS_CONFIG_RELOADS] = { "xlb_config_reloads_total",
		"Changes applied to the maps: config reloads, config files and node address changes." },
	[XLB_METRICS_CONFIG_REJECTED] = { "xlb_config_rejected_total",
		"Configs rejected (invalid or not fitting the maps); nothing was changed." },
	[XLB_METRICS_WATCH_RESTARTS] = { "xlb_watch_restarts_total",
		"Kubernetes API watches started again after they ended or failed." },
	[XLB_METRICS_RELISTS] = { "xlb_watch_relists_total",
		"Full lists of a Kubernetes resource (at start and after 410 Gone)." },
	[XLB_METRICS_WATCH_ERRORS] = { "xlb_watch_errors_total",
		"Kubernetes API errors: HTTP errors, broken streams, undecodable objects." },
	[XLB_METRICS_FRONTEND_CONFLICTS] = { "xlb_frontend_conflicts_total",
		"Frontends (external IPs, load-balancer IPs, NodePorts) a Service asked for that another Service already had: left to that one." },
};

/* What the main thread publishes; see metrics.h. */
struct snapshot {
	size_t services, backends;
	bool ready;
	uint64_t buckets[N_BOUNDS + 1];	/* per bucket, not cumulative */
	uint64_t count;
	double sum;
	uint64_t counters[XLB_METRICS_COUNTER_MAX];
	size_t ifaces[3];		/* by program: iface_programs[] */
	uint64_t attach[2];		/* attaches tried: [0] error, [1] ok */
};

static const char *const iface_programs[3] = {
	"xdp-native", "xdp-generic", "tc",
};

static pthread_mutex_t pub_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot pub;

/* The server and what its thread reads. */
static struct {
	struct MHD_Daemon *daemon;
	int svc_info, backends, svc_stats, be_stats, stats, ct;
	int ncpus;
	/* xlb_ct's fill, counted at most every CT_COUNT_NS (a batch walk of
	 * the whole table), and its capacity. */
	uint64_t ct_counted_ns;
	long long ct_entries;	/* -1: could not be counted */
	uint32_t ct_capacity;
	size_t max_services, max_backends;
	double start_time;
	char addr[64];
} srv = { .svc_info = -1, .backends = -1, .svc_stats = -1, .ct = -1,
	  .be_stats = -1, .stats = -1 };

/* ---- publishing (main thread) ------------------------------------------ */

void xlb_metrics_set_programmed(size_t services, size_t backends)
{
	pthread_mutex_lock(&pub_lock);
	pub.services = services;
	pub.backends = backends;
	pthread_mutex_unlock(&pub_lock);
}

void xlb_metrics_set_ready(void)
{
	pthread_mutex_lock(&pub_lock);
	pub.ready = true;
	pthread_mutex_unlock(&pub_lock);
}

void xlb_metrics_observe_sync(double seconds)
{
	size_t b = 0;

	if (!(seconds >= 0))
		seconds = 0;
	while (b < N_BOUNDS && seconds > sync_bounds[b])
		b++;
	pthread_mutex_lock(&pub_lock);
	pub.buckets[b]++;
	pub.count++;
	pub.sum += seconds;
	pthread_mutex_unlock(&pub_lock);
}

void xlb_metrics_count(enum xlb_metrics_counter c)
{
	if ((unsigned int)c >= XLB_METRICS_COUNTER_MAX)
		return;
	pthread_mutex_lock(&pub_lock);
	pub.counters[c]++;
	pthread_mutex_unlock(&pub_lock);
}

void xlb_metrics_set_interfaces(size_t xdp_native, size_t xdp_generic,
				size_t tc)
{
	pthread_mutex_lock(&pub_lock);
	pub.ifaces[0] = xdp_native;
	pub.ifaces[1] = xdp_generic;
	pub.ifaces[2] = tc;
	pthread_mutex_unlock(&pub_lock);
}

void xlb_metrics_count_attach(bool ok)
{
	pthread_mutex_lock(&pub_lock);
	pub.attach[ok]++;
	pthread_mutex_unlock(&pub_lock);
}

static void snapshot_copy(struct snapshot *out)
{
	pthread_mutex_lock(&pub_lock);
	*out = pub;
	pthread_mutex_unlock(&pub_lock);
}

/* ---- text output ---------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 65536;
			char *p;

			while (cap - b->len <= (size_t)n)
				cap *= 2;
			p = realloc(b->p, cap);
			if (!p) {
				b->oom = true;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

static void family(struct sbuf *b, const char *name, const char *type,
		   const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

size_t xlb_metrics_escape(char *buf, const char *v)
{
	char *o = buf;

	for (; *v; v++) {
		switch (*v) {
		case '\\':
			*o++ = '\\';
			*o++ = '\\';
			break;
		case '"':
			*o++ = '\\';
			*o++ = '"';
			break;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			break;
		default:
			*o++ = *v;
		}
	}
	*o = '\0';
	return o - buf;
}

/* ---- map reading (HTTP thread) -------------------------------------------- */

struct svc_row {
	__u32 id;
	char name[2 * XLB_SVC_NAME_LEN + 1];	/* escaped */
	struct xlb_counter c;
};

struct be_row {
	size_t svc;		/* index in the svc_row array */
	char ip[XLB_ADDR_STRLEN];
	unsigned int port;
	struct xlb_counter c;
};

static int counter_read(int fd, __u32 key, struct xlb_counter *out,
			struct xlb_counter *pcpu)
{
	int i;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &key, pcpu))
		return -errno;
	for (i = 0; i < srv.ncpus; i++) {
		out->packets += pcpu[i].packets;
		out->bytes += pcpu[i].bytes;
	}
	return 0;
}

#define CHUNK 1024

/* Calls fn for every entry of an array map, CHUNK entries per syscall,
 * until fn returns non-zero (1: stop, negative: error). */
static int array_scan(int fd, size_t vsz,
		      int (*fn)(void *ctx, __u32 key, const void *val),
		      void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 keys[CHUNK], in = 0, out = 0, count, i;
	char *vals;
	bool first = true;
	int rc = 0, err;

	vals = malloc(CHUNK * vsz);
	if (!vals)
		return -ENOMEM;
	for (;;) {
		count = CHUNK;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &count, &opts);
		if (err && errno != ENOENT) {
			rc = -errno;
			break;
		}
		for (i = 0; i < count && !rc; i++)
			rc = fn(ctx, keys[i], vals + (size_t)i * vsz);
		if (err || rc || !count)
			break;
		in = out;
		first = false;
	}
	free(vals);
	return rc < 0 ? rc : 0;
}

/*
 * The scans stop once they have seen as many services (backends) as the
 * main thread last published: ids are handed out from the bottom, so
 * most of a large, sparsely used array is never read. A change that the
 * main thread has written but not yet published can be missed by one
 * scrape; removals only make the scan go on to the end.
 */
struct scan {
	struct svc_row *svcs;
	size_t n_svcs, svcs_omitted;
	struct be_row *bes;
	size_t n_bes, bes_omitted;
	struct xlb_counter *pcpu;
	size_t svcs_seen, svcs_want;
	size_t bes_seen, bes_want;
};

static int svc_cb(void *ctx, __u32 id, const void *val)
{
	const struct xlb_svc_info *info = val;
	struct scan *s = ctx;
	struct svc_row *r;
	char name[XLB_SVC_NAME_LEN];

	if (!(info->flags & XLB_SVC_INFO_F_USED))
		return 0;
	s->svcs_seen++;
	if (s->n_svcs >= srv.max_services) {
		s->svcs_omitted++;
		return s->svcs_seen >= s->svcs_want;
	}
	r = &s->svcs[s->n_svcs++];
	r->id = id;
	memcpy(name, info->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	xlb_metrics_escape(r->name, name);
	counter_read(srv.svc_stats, id, &r->c, s->pcpu);
	return s->svcs_seen >= s->svcs_want;
}

static int svc_cmp(const void *k, const void *e)
{
	__u32 id = *(const __u32 *)k;
	const struct svc_row *r = e;

	return id < r->id ? -1 : id > r->id;
}

static int be_cb(void *ctx, __u32 id, const void *val)
{
	const struct xlb_backend *be = val;
	struct scan *s = ctx;
	struct svc_row *sr;
	struct be_row *r;

	if (be->state == XLB_BE_UNUSED)
		return 0;
	s->bes_seen++;
	/* Rows are in id order: the scan of xlb_svc_info made them so. */
	sr = xlb_bsearch(&be->svc_id, s->svcs, s->n_svcs, sizeof(*s->svcs),
			 svc_cmp);
	if (!sr)
		return s->bes_seen >= s->bes_want;
	if (s->n_bes >= srv.max_backends) {
		s->bes_omitted++;
		return s->bes_seen >= s->bes_want;
	}
	r = &s->bes[s->n_bes++];
	r->svc = sr - s->svcs;
	xlb_addr_str(&be->addr, be->family, r->ip);
	r->port = ntohs(be->port);
	counter_read(srv.be_stats, id, &r->c, s->pcpu);
	return s->bes_seen >= s->bes_want;
}

static void render_maps(struct sbuf *b, struct scan *s)
{
	static const char *const outcomes[] = XLB_STAT_NAMES;
	struct xlb_counter st[XLB_STAT_MAX];
	size_t i;
	int k;

	_Static_assert(sizeof(outcomes) / sizeof(outcomes[0]) == XLB_STAT_MAX,
		       "one name per outcome");
	for (k = 0; k < XLB_STAT_MAX; k++)
		counter_read(srv.stats, k, &st[k], s->pcpu);
	family(b, "xlb_datapath_packets_total", "counter",
	       "Packets seen by the datapath, by outcome (a packet may count in several).");
	for (k = 0; k < XLB_STAT_MAX; k++)
		sb_printf(b, "xlb_datapath_packets_total{outcome=\"%s\"} %llu\n",
			  outcomes[k], (unsigned long long)st[k].packets);
	family(b, "xlb_datapath_bytes_total", "counter",
	       "Bytes of those packets, L2 headers included, by outcome.");
	for (k = 0; k < XLB_STAT_MAX; k++)
		sb_printf(b, "xlb_datapath_bytes_total{outcome=\"%s\"} %llu\n",
			  outcomes[k], (unsigned long long)st[k].bytes);

	family(b, "xlb_service_packets_total", "counter",
	       "Packets balanced to a service, replies included.");
	for (i = 0; i < s->n_svcs; i++)
		sb_printf(b, "xlb_service_packets_total{service=\"%s\"} %llu\n",
			  s->svcs[i].name,
			  (unsigned long long)s->svcs[i].c.packets);
	family(b, "xlb_service_bytes_total", "counter",
	       "Bytes balanced to a service, replies included.");
	for (i = 0; i < s->n_svcs; i++)
		sb_printf(b, "xlb_service_bytes_total{service=\"%s\"} %llu\n",
			  s->svcs[i].name,
			  (unsigned long long)s->svcs[i].c.bytes);
	family(b, "xlb_backend_packets_total", "counter",
	       "Packets sent to or answered by a backend.");
	for (i = 0; i < s->n_bes; i++)
		sb_printf(b, "xlb_backend_packets_total{service=\"%s\",ip=\"%s\",port=\"%u\"} %llu\n",
			  s->svcs[s->bes[i].svc].name, s->bes[i].ip,
			  s->bes[i].port,
			  (unsigned long long)s->bes[i].c.packets);
	family(b, "xlb_backend_bytes_total", "counter",
	       "Bytes sent to or answered by a backend.");
	for (i = 0; i < s->n_bes; i++)
		sb_printf(b, "xlb_backend_bytes_total{service=\"%s\",ip=\"%s\",port=\"%u\"} %llu\n",
			  s->svcs[s->bes[i].svc].name, s->bes[i].ip,
			  s->bes[i].port, (unsigned long long)s->bes[i].c.bytes);
	family(b, "xlb_metrics_services_omitted", "gauge",
	       "Services without per-service series (over --metrics-max-services).");
	sb_printf(b, "xlb_metrics_services_omitted %zu\n", s->svcs_omitted);
	family(b, "xlb_metrics_backends_omitted", "gauge",
	       "Backends without per-backend series (over --metrics-max-backends, or of an omitted service).");
	sb_printf(b, "xlb_metrics_backends_omitted %zu\n", s->bes_omitted);
}

#define CT_COUNT_NS (5 * 1000000000ull)
#define CT_BATCH 4096

/* The entries of xlb_ct, walked in batches (keys and values into one
 * reused buffer); a scrape counts at most every CT_COUNT_NS. */
static void ct_count(void)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), count;
	uint64_t now = xlb_now_ns();
	void *keys, *vals;
	__u8 in[8], out[8];
	long long n = 0;
	bool first = true;
	int rc;

	if (srv.ct_counted_ns && now - srv.ct_counted_ns < CT_COUNT_NS)
		return;
	srv.ct_counted_ns = now;
	srv.ct_entries = -1;
	if (bpf_obj_get_info_by_fd(srv.ct, &info, &len))
		return;
	srv.ct_capacity = info.max_entries;
	keys = malloc((size_t)CT_BATCH * info.key_size);
	vals = malloc((size_t)CT_BATCH * info.value_size);
	if (!keys || !vals)
		goto out;
	do {
		count = CT_BATCH;
		rc = bpf_map_lookup_batch(srv.ct, first ? NULL : in, out, keys,
					  vals, &count, NULL);
		if (rc && errno != ENOENT)
			goto out;
		n += count;
		memcpy(in, out, sizeof(in));
		first = false;
	} while (!rc);
	srv.ct_entries = n;
out:
	free(keys);
	free(vals);
}

static void render_ct(struct sbuf *b)
{
	ct_count();
	family(b, "xlb_conntrack_entries", "gauge",
	       "Entries in the connection-tracking table (xlb_ct), counted at most every 5 s; -1 when they cannot be read.");
	sb_printf(b, "xlb_conntrack_entries %lld\n", srv.ct_entries);
	family(b, "xlb_conntrack_capacity", "gauge",
	       "Entries the connection-tracking table holds (--ct-entries); at capacity every insert evicts the least recently used.");
	sb_printf(b, "xlb_conntrack_capacity %u\n", srv.ct_capacity);
}

static int render_metrics(struct sbuf *b)
{
	struct snapshot sn;
	struct scan s = { 0 };
	uint64_t cum = 0;
	size_t i;
	int rc;

	snapshot_copy(&sn);
	s.svcs_want = sn.services ? sn.services : SIZE_MAX;
	s.bes_want = sn.backends ? sn.backends : SIZE_MAX;
	s.pcpu = calloc(srv.ncpus, sizeof(*s.pcpu));
	s.svcs = calloc(srv.max_services + 1, sizeof(*s.svcs));
	s.bes = calloc(srv.max_backends + 1, sizeof(*s.bes));
	if (!s.pcpu || !s.svcs || !s.bes) {
		rc = -ENOMEM;
		goto out;
	}
	rc = array_scan(srv.svc_info, sizeof(struct xlb_svc_info), svc_cb, &s);
	if (!rc)
		rc = array_scan(srv.backends, sizeof(struct xlb_backend), be_cb,
				&s);
	if (rc)
		goto out;
	/* Backends of omitted services are omitted too; the gauge says so. */
	if (sn.backends > s.n_bes + s.bes_omitted)
		s.bes_omitted = sn.backends - s.n_bes;

	family(b, "process_start_time_seconds", "gauge",
	       "Start time of the process since the Unix epoch, seconds.");
	sb_printf(b, "process_start_time_seconds %.3f\n", srv.start_time);
	family(b, "xlb_ready", "gauge",
	       "1 once the first full sync is done (as /readyz).");
	sb_printf(b, "xlb_ready %d\n", sn.ready);
	family(b, "xlb_services_programmed", "gauge",
	       "Services programmed in the maps.");
	sb_printf(b, "xlb_services_programmed %zu\n", sn.services);
	family(b, "xlb_backends_programmed", "gauge",
	       "Backends programmed in the maps, any state.");
	sb_printf(b, "xlb_backends_programmed %zu\n", sn.backends);
	family(b, "xlb_sync_duration_seconds", "histogram",
	       "Time from a change's arrival (config file event, SIGHUP, API event) to its maps being updated.");
	for (i = 0; i < N_BOUNDS; i++) {
		cum += sn.buckets[i];
		sb_printf(b, "xlb_sync_duration_seconds_bucket{le=\"%g\"} %llu\n",
			  sync_bounds[i], (unsigned long long)cum);
	}
	cum += sn.buckets[N_BOUNDS];
	sb_printf(b, "xlb_sync_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
		  (unsigned long long)cum);
	sb_printf(b, "xlb_sync_duration_seconds_sum %.9g\n", sn.sum);
	sb_printf(b, "xlb_sync_duration_seconds_count %llu\n",
		  (unsigned long long)sn.count);
	for (i = 0; i < XLB_METRICS_COUNTER_MAX; i++) {
		family(b, counter_info[i].name, "counter", counter_info[i].help);
		sb_printf(b, "%s %llu\n", counter_info[i].name,
			  (unsigned long long)sn.counters[i]);
	}
	family(b, "xlb_interfaces_attached", "gauge",
	       "Interfaces xlbd has attached, by ingress program (README: which device gets which).");
	for (i = 0; i < 3; i++)
		sb_printf(b, "xlb_interfaces_attached{program=\"%s\"} %zu\n",
			  iface_programs[i], sn.ifaces[i]);
	family(b, "xlb_interface_attach_total", "counter",
	       "Attaches of a selected interface, at start and as links come: ok, or error (refused or failed).");
	sb_printf(b, "xlb_interface_attach_total{result=\"ok\"} %llu\n",
		  (unsigned long long)sn.attach[1]);
	sb_printf(b, "xlb_interface_attach_total{result=\"error\"} %llu\n",
		  (unsigned long long)sn.attach[0]);
	render_maps(b, &s);
	render_ct(b);
	if (b->oom)
		rc = -ENOMEM;
out:
	free(s.pcpu);
	free(s.svcs);
	free(s.bes);
	return rc;
}

/* ---- HTTP ------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned int status, const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", (char *)text,
		     strlen(text), MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	static __thread bool niced;
	struct snapshot sn;

	/* A large scrape takes CPU time; the main thread's map updates
	 * come first. */
	if (!niced) {
		niced = true;
		if (setpriority(PRIO_PROCESS, gettid(), 10))
			pr_debug("metrics: nice 10: %s", strerror(errno));
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	if (!strcmp(url, "/metrics")) {
		struct sbuf b = { 0 };
		int rc = render_metrics(&b);

		if (rc) {
			free(b.p);
			pr_warn("metrics: reading the maps: %s", strerror(-rc));
			return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "cannot read the maps\n");
		}
		return reply(conn, MHD_HTTP_OK,
			     "text/plain; version=0.0.4; charset=utf-8", b.p,
			     b.len, MHD_RESPMEM_MUST_FREE);
	}
	if (!strcmp(url, "/healthz")) {
		struct xlb_counter *v = calloc(srv.ncpus, sizeof(*v));
		__u32 key = XLB_STAT_PASS;
		int ok;

		ok = v && !bpf_map_lookup_elem(srv.stats, &key, v) &&
		     !bpf_map_lookup_elem(srv.svc_info, &key,
					  &(struct xlb_svc_info){});
		free(v);
		return ok ? reply_text(conn, MHD_HTTP_OK, "ok\n") :
			    reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "maps not readable\n");
	}
	if (!strcmp(url, "/readyz")) {
		snapshot_copy(&sn);
		return sn.ready ? reply_text(conn, MHD_HTTP_OK, "ok\n") :
				  reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					     "first sync not done\n");
	}
	return reply_text(conn, MHD_HTTP_NOT_FOUND,
			  "not found: /metrics, /healthz, /readyz\n");
}

/* libmicrohttpd's own messages; the last one explains a failed start. */
static char mhd_last_error[256];

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(mhd_last_error, sizeof(mhd_last_error), fmt, ap);
	n = strlen(mhd_last_error);
	while (n && (mhd_last_error[n - 1] == '\n' || mhd_last_error[n - 1] == '.'))
		mhd_last_error[--n] = '\0';
	pr_debug("metrics: libmicrohttpd: %s", mhd_last_error);
}

int xlb_metrics_parse_address(const char *s, struct sockaddr_storage *ss,
			      bool *disabled)
{
	char host[64];
	const char *colon, *p;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	*disabled = false;
	if (!strcmp(s, "none")) {
		*disabled = true;
		return 0;
	}
	if (s[0] == '[') {
		p = strchr(s, ']');
		if (!p || p[1] != ':' || (size_t)(p - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, p - s - 1);
		host[p - s - 1] = '\0';
		colon = p + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, colon - s);
		host[colon - s] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port > 65535)
		return -EINVAL;
	if (port == 0) {
		*disabled = true;
		return 0;
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (void *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
	} else {
		struct sockaddr_in *a4 = (void *)ss;

		if (!host[0])
			strcpy(host, "0.0.0.0");
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
	}
	return 0;
}

/* Start time of this process, Unix seconds, from /proc (falls back to
 * now). */
static double process_start_time(void)
{
	struct timespec rt, bt;
	unsigned long long start = 0;
	char buf[1024], *p;
	FILE *f;
	size_t n = 0;
	int field;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	f = fopen("/proc/self/stat", "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	/* Field 22, starttime in clock ticks since boot; fields counted
	 * after the command name, which may hold spaces. */
	p = strrchr(buf, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p && sscanf(p + 1, "%llu", &start) == 1 && sysconf(_SC_CLK_TCK) > 0)
		return rt.tv_sec + rt.tv_nsec / 1e9 -
		       (bt.tv_sec + bt.tv_nsec / 1e9) +
		       (double)start / sysconf(_SC_CLK_TCK);
	return rt.tv_sec + rt.tv_nsec / 1e9;
}

static int dup_fd(int fd, int *out)
{
	*out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return *out < 0 ? -errno : 0;
}

static void close_fds(void)
{
	int *fds[] = { &srv.svc_info, &srv.backends, &srv.svc_stats,
		       &srv.be_stats, &srv.stats, &srv.ct };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int xlb_metrics_start(const struct xlb_metrics_opts *o)
{
	struct sockaddr_storage ss;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			     MHD_USE_ERROR_LOG;
	bool disabled;
	int rc;

	srv.start_time = process_start_time();
	if (xlb_metrics_parse_address(o->address, &ss, &disabled)) {
		pr_err("metrics: address \"%s\": not ADDR:PORT, [IPV6]:PORT or none",
		       o->address);
		return -EINVAL;
	}
	if (disabled) {
		pr_info("metrics: disabled (--metrics-address %s)", o->address);
		return 0;
	}
	if (srv.daemon)
		return -EALREADY;
	snprintf(srv.addr, sizeof(srv.addr), "%s", o->address);
	srv.max_services = o->max_services;
	srv.max_backends = o->max_backends;
	srv.ncpus = o->maps->ncpus;
	if ((rc = dup_fd(o->maps->svc_info, &srv.svc_info)) ||
	    (rc = dup_fd(o->maps->backends, &srv.backends)) ||
	    (rc = dup_fd(o->maps->svc_stats, &srv.svc_stats)) ||
	    (rc = dup_fd(o->maps->be_stats, &srv.be_stats)) ||
	    (rc = dup_fd(o->maps->stats, &srv.stats)) ||
	    (rc = dup_fd(o->maps->ct, &srv.ct))) {
		pr_err("metrics: duplicating map fds: %s", strerror(-rc));
		goto fail;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	mhd_last_error[0] = '\0';
	srv.daemon = MHD_start_daemon(
		flags, ntohs(((struct sockaddr_in *)&ss)->sin_port), NULL, NULL,
		handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
		MHD_OPTION_CONNECTION_LIMIT, 64,
		MHD_OPTION_CONNECTION_TIMEOUT, 10, MHD_OPTION_END);
	if (!srv.daemon) {
		rc = -EADDRNOTAVAIL;
		pr_err("metrics: cannot listen on %s: %s (--metrics-address none disables the endpoints)",
		       o->address,
		       mhd_last_error[0] ? mhd_last_error : "libmicrohttpd failed");
		goto fail;
	}
	pr_info("metrics: serving /metrics, /healthz, /readyz on http://%s",
		o->address);
	return 0;
fail:
	close_fds();
	return rc;
}

void xlb_metrics_stop(void)
{
	if (srv.daemon)
		MHD_stop_daemon(srv.daemon);
	srv.daemon = NULL;
	close_fds();
}
