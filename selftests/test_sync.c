// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Map sync against real maps (the programs loaded as xlbd loads them,
 * not attached, not pinned): only what changed is written, ids are stable
 * across syncs and adoption, rings are replaced without a packet ever
 * seeing a half-written one, and a model that does not fit changes
 * nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "config.h"
#include "loader.h"
#include "log.h"
#include "maglev.h"
#include "pkt.h"
#include "nodeaddr.h"
#include "sync.h"
#include "testlib.h"
#include "util.h"
#include "tc_lb.skel.h"
#include "xdp_lb.skel.h"

#define T_SERVICES 64
#define T_BACKENDS 256
#define T_SLOTS 8192

static struct xlb_dp dp;

/* As xlbd loads the programs (port filter on), unpinned, on small dp.maps. */
static int load(void)
{
	struct xlb_loader_opts o = {
		.map_size = {
			[XLB_MAPI_SVC] = T_SERVICES,
			[XLB_MAPI_SVC_INFO] = T_SERVICES,
			[XLB_MAPI_SVC_STATS] = T_SERVICES,
			[XLB_MAPI_BACKENDS] = T_BACKENDS,
			[XLB_MAPI_BE_STATS] = T_BACKENDS,
			[XLB_MAPI_RINGS] = T_SLOTS / XLB_RING_SLOTS_PER_ENTRY,
			[XLB_MAPI_CT] = 65536,
		},
	};

	return xlb_dp_load(&dp, &o);
}

static int model_of(const char *doc, struct xlb_model *m)
{
	char err[256] = "";
	int rc = xlb_config_parse(doc, m, err, sizeof(err));

	if (rc)
		TEST_FAIL("test config does not parse: %s", err);
	return rc;
}

static int apply(struct xlb_sync *s, const char *doc,
		 struct xlb_sync_result *res, char *err, size_t errlen)
{
	struct xlb_model m;
	int rc;

	if (model_of(doc, &m))
		return -EINVAL;
	rc = xlb_sync_apply(s, &m, res, err, errlen);
	xlb_model_free(&m);
	return rc;
}

static struct xlb_vip_key vip4(const char *a, int port, int proto)
{
	struct xlb_vip_key k = {};

	xlb_addr_parse(a, &k.addr, &k.family);
	k.port = htons(port);
	k.proto = proto;
	return k;
}

static const struct xlb_prog_service *find(const struct xlb_sync *s,
					   const char *name)
{
	size_t i;

	for (i = 0; i < s->n_svcs; i++)
		if (!strcmp(s->svcs[i].name, name))
			return &s->svcs[i];
	return NULL;
}

static __u32 be_id_of(const struct xlb_prog_service *ps, const char *ip)
{
	union xlb_addr a;
	__u8 f;
	size_t i;

	xlb_addr_parse(ip, &a, &f);
	for (i = 0; i < ps->n_backends; i++)
		if (!memcmp(&ps->backends[i].addr, &a, sizeof(a)))
			return ps->backends[i].id;
	return 0;
}

/* The ring in the map must be what Maglev builds from the active
 * backends read back from the backends map. */
static void check_ring(const struct xlb_prog_service *ps, const char *what)
{
	struct xlb_maglev_backend mb[16];
	struct xlb_svc sv;
	__u32 *want;
	size_t i, n = 0;

	if (!ASSERT_EQ(bpf_map_lookup_elem(dp.maps.svc, &ps->vip, &sv), 0,
		       "%s: frontend present", what))
		return;
	ASSERT_EQ(sv.svc_id, ps->id, "%s: frontend points at service id", what);
	for (i = 0; i < ps->n_backends && n < 16; i++) {
		struct xlb_backend b;
		__u32 id = ps->backends[i].id;

		bpf_map_lookup_elem(dp.maps.backends, &id, &b);
		if (b.state != XLB_BE_ACTIVE || !b.weight)
			continue;
		mb[n++] = (struct xlb_maglev_backend){ .id = id, .addr = b.addr,
			.port = b.port, .family = b.family, .weight = b.weight };
	}
	if (!n) {
		ASSERT_EQ(sv.ring_size, 0, "%s: no active backend, no ring", what);
		return;
	}
	if (!ASSERT_TRUE(sv.ring_size >= XLB_RING_MIN,
			 "%s: a ring for %zu active backends (%u slots)", what, n,
			 sv.ring_size))
		return;
	want = calloc(sv.ring_size, sizeof(*want));
	xlb_maglev_build(mb, n, sv.ring_size, want);
	ASSERT_MEM_EQ(dp.maps.ring_mem + sv.ring_off, want,
		      sv.ring_size * sizeof(*want),
		      "%s: ring slots equal the Maglev table", what);
	free(want);
}

#define DOC_A                                                               \
	"{\"services\": ["                                                  \
	"{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","\
	" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 8080},"        \
	" {\"ip\": \"10.244.1.3\", \"port\": 8080}, {\"ip\": \"10.244.1.4\", \"port\": 8080}]},"\
	"{\"name\": \"dns\", \"vip\": \"fd00::a\", \"port\": 53, \"protocol\": \"udp\","\
	" \"backends\": [{\"ip\": \"fd00:1::2\", \"port\": 53}, {\"ip\": \"fd00:1::3\", \"port\": 53}]}]}"

/* web gains .5, .3 turns terminating, dns unchanged. */
#define DOC_B                                                               \
	"{\"services\": ["                                                  \
	"{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","\
	" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 8080},"        \
	" {\"ip\": \"10.244.1.3\", \"port\": 8080, \"state\": \"terminating\"},"\
	" {\"ip\": \"10.244.1.4\", \"port\": 8080}, {\"ip\": \"10.244.1.5\", \"port\": 8080}]},"\
	"{\"name\": \"dns\", \"vip\": \"fd00::a\", \"port\": 53, \"protocol\": \"udp\","\
	" \"backends\": [{\"ip\": \"fd00:1::3\", \"port\": 53}, {\"ip\": \"fd00:1::2\", \"port\": 53}]}]}"

static void test_diff_and_ids(void)
{
	struct xlb_sync s, s2;
	struct xlb_sync_result r;
	const struct xlb_prog_service *web, *dns;
	struct xlb_svc_info info;
	struct xlb_backend b;
	__u32 web_id, dns_id, id2, id3, id4, dns_gen, old_off;
	char err[256] = "";
	struct xlb_svc sv;
	struct xlb_vip_key k;

	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	ASSERT_EQ(apply(&s, DOC_A, &r, err, sizeof(err)), 0, "apply A (%s)", err);
	ASSERT_EQ(r.added, 2, "A: two services added");
	ASSERT_EQ(r.be_added, 5, "A: five backends added");
	ASSERT_EQ(r.rings_written, 2, "A: two rings written");
	web = find(&s, "web");
	dns = find(&s, "dns");
	ASSERT_TRUE(web, "web programmed");
	ASSERT_TRUE(dns, "dns programmed");
	if (!web || !dns)
		return;
	web_id = web->id;
	dns_id = dns->id;
	id2 = be_id_of(web, "10.244.1.2");
	id3 = be_id_of(web, "10.244.1.3");
	id4 = be_id_of(web, "10.244.1.4");
	ASSERT_EQ(web->ring_size, 307, "web: table size 307 for 3 backends");
	check_ring(web, "A web");
	check_ring(dns, "A dns");
	bpf_map_lookup_elem(dp.maps.svc_info, &dns_id, &info);
	dns_gen = info.generation;
	ASSERT_STREQ(info.name, "dns", "info map holds the name");

	ASSERT_EQ(dp.maps.port_mem[80].frontends, 1,
		  "xlb_ports: one frontend on 80");
	ASSERT_EQ(dp.maps.port_mem[53].frontends, 1,
		  "xlb_ports: one frontend on 53");
	ASSERT_EQ(dp.maps.port_mem[8080].backends, 3,
		  "xlb_ports: three backends on 8080");
	ASSERT_EQ(dp.maps.port_mem[53].backends, 2,
		  "xlb_ports: two backends on 53");
	ASSERT_EQ(dp.maps.port_mem[8080].frontends +
		      dp.maps.port_mem[81].frontends,
		  0, "xlb_ports: no frontend on 8080 or 81");

	ASSERT_EQ(apply(&s, DOC_A, &r, err, sizeof(err)), 0, "apply A again");
	ASSERT_EQ(r.unchanged, 2, "A again: both unchanged");
	ASSERT_EQ(r.rings_written + r.added + r.updated + r.removed, 0,
		  "A again: nothing written");

	old_off = find(&s, "web")->ring_off;
	ASSERT_EQ(apply(&s, DOC_B, &r, err, sizeof(err)), 0, "apply B (%s)", err);
	ASSERT_EQ(r.updated, 1, "B: one service updated");
	ASSERT_EQ(r.unchanged, 1, "B: dns unchanged (order of backends ignored)");
	ASSERT_EQ(r.be_added, 1, "B: one backend added");
	ASSERT_EQ(r.be_changed, 1, "B: one backend changed state");
	web = find(&s, "web");
	dns = find(&s, "dns");
	ASSERT_EQ(web->id, web_id, "web keeps its service id");
	ASSERT_EQ(dns->id, dns_id, "dns keeps its service id");
	ASSERT_EQ(be_id_of(web, "10.244.1.2"), id2, ".2 keeps its backend id");
	ASSERT_EQ(be_id_of(web, "10.244.1.3"), id3, ".3 keeps its backend id");
	ASSERT_EQ(be_id_of(web, "10.244.1.4"), id4, ".4 keeps its backend id");
	ASSERT_EQ(web->ring_size, 401, "web: table size 401 for 4 backends");
	ASSERT_TRUE(web->ring_off != old_off,
		    "new ring written to another slice than the live one");
	bpf_map_lookup_elem(dp.maps.backends, &id3, &b);
	ASSERT_EQ(b.state, XLB_BE_TERMINATING, ".3 is terminating in the map");
	check_ring(web, "B web");
	bpf_map_lookup_elem(dp.maps.svc_info, &dns_id, &info);
	ASSERT_EQ(info.generation, dns_gen, "dns info not rewritten");

	/* Adoption: a fresh sync reads the same state back. */
	xlb_sync_init(&s2, &dp.maps);
	s2.quiet = 1;
	ASSERT_EQ(xlb_sync_adopt(&s2), 0, "adopt");
	ASSERT_EQ(s2.n_svcs, 2, "adopted two services");
	ASSERT_EQ(xlb_sync_backend_count(&s2), 6, "adopted six backends");
	ASSERT_EQ(apply(&s2, DOC_B, &r, err, sizeof(err)), 0, "apply B after adopt");
	ASSERT_EQ(r.unchanged, 2, "after adopt: B is already programmed");
	ASSERT_EQ(find(&s2, "web")->id, web_id, "adopted web id");
	ASSERT_EQ(be_id_of(find(&s2, "web"), "10.244.1.5"),
		  be_id_of(find(&s, "web"), "10.244.1.5"), "adopted backend id");

	/* Removing a backend and a service. */
	ASSERT_EQ(apply(&s2,
			"{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","
			" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 8080}, {\"ip\": \"10.244.1.4\", \"port\": 8080}]}]}",
			&r, err, sizeof(err)), 0, "apply C");
	ASSERT_EQ(r.removed, 1, "C: dns removed");
	ASSERT_EQ(r.be_removed, 2, "C: two web backends removed");
	k = vip4("fd00::a", 53, IPPROTO_UDP);
	ASSERT_TRUE(bpf_map_lookup_elem(dp.maps.svc, &k, &sv) != 0,
		    "dns frontend deleted");
	bpf_map_lookup_elem(dp.maps.backends, &id3, &b);
	ASSERT_EQ(b.state, XLB_BE_UNUSED, "removed backend marked unused");
	bpf_map_lookup_elem(dp.maps.svc_info, &dns_id, &info);
	ASSERT_EQ(info.flags, 0, "dns info cleared");
	ASSERT_EQ(dp.maps.port_mem[53].frontends +
		      dp.maps.port_mem[53].backends,
		  0, "xlb_ports: port 53 unused once dns is gone");
	ASSERT_EQ(dp.maps.port_mem[8080].backends, 2,
		  "xlb_ports: two backends left on 8080");
	check_ring(find(&s2, "web"), "C web");

	/* Two services swap VIPs in one apply. */
	ASSERT_EQ(apply(&s2,
			"{\"services\": [{\"name\": \"a\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"},"
			"{\"name\": \"b\", \"vip\": \"10.96.0.2\", \"port\": 80, \"protocol\": \"tcp\"}]}",
			&r, err, sizeof(err)), 0, "apply D");
	ASSERT_EQ(apply(&s2,
			"{\"services\": [{\"name\": \"a\", \"vip\": \"10.96.0.2\", \"port\": 80, \"protocol\": \"tcp\"},"
			"{\"name\": \"b\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"}]}",
			&r, err, sizeof(err)), 0, "apply D swapped");
	k = vip4("10.96.0.1", 80, IPPROTO_TCP);
	ASSERT_EQ(bpf_map_lookup_elem(dp.maps.svc, &k, &sv), 0,
		  "10.96.0.1 still a frontend");
	ASSERT_EQ(sv.svc_id, find(&s2, "b")->id, "10.96.0.1 now belongs to b");
	k = vip4("10.96.0.2", 80, IPPROTO_TCP);
	ASSERT_EQ(bpf_map_lookup_elem(dp.maps.svc, &k, &sv), 0,
		  "10.96.0.2 still a frontend");
	ASSERT_EQ(sv.svc_id, find(&s2, "a")->id, "10.96.0.2 now belongs to a");
	k = vip4("10.96.0.10", 80, IPPROTO_TCP);
	ASSERT_TRUE(bpf_map_lookup_elem(dp.maps.svc, &k, &sv) != 0,
		    "web frontend deleted");

	xlb_sync_fini(&s);
	/* Leave the maps empty for the next test. */
	ASSERT_EQ(apply(&s2, "{\"services\": []}", &r, err, sizeof(err)), 0,
		  "apply empty");
	xlb_sync_fini(&s2);
}

/* Snapshot of the frontend map and backends array, for "nothing changed". */
static size_t snapshot(unsigned char *buf, size_t cap)
{
	struct xlb_vip_key k, next;
	struct xlb_svc v;
	void *prev = NULL;
	size_t n = 0;
	__u32 i;

	while (!bpf_map_get_next_key(dp.maps.svc, prev, &next) &&
	       n + sizeof(k) + sizeof(v) < cap) {
		k = next;
		prev = &k;
		bpf_map_lookup_elem(dp.maps.svc, &k, &v);
		memcpy(buf + n, &k, sizeof(k));
		memcpy(buf + n + sizeof(k), &v, sizeof(v));
		n += sizeof(k) + sizeof(v);
	}
	for (i = 0; i < T_BACKENDS && n + sizeof(struct xlb_backend) < cap; i++) {
		bpf_map_lookup_elem(dp.maps.backends, &i, buf + n);
		n += sizeof(struct xlb_backend);
	}
	return n;
}

static void test_capacity(void)
{
	static unsigned char before[65536], after[65536];
	struct xlb_sync s;
	struct xlb_sync_result r;
	char err[256] = "", *doc;
	size_t n1, n2, len = 0, cap = 1 << 20;
	int i, rc;

	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	ASSERT_EQ(apply(&s, DOC_A, &r, err, sizeof(err)), 0, "apply A");
	n1 = snapshot(before, sizeof(before));

	/* One service with more backends than the map has ids. */
	doc = malloc(cap);
	len += snprintf(doc + len, cap - len,
			"{\"services\": [{\"name\": \"big\", \"vip\": \"10.96.1.1\", \"port\": 80, \"protocol\": \"tcp\", \"backends\": [");
	for (i = 0; i < T_BACKENDS + 10; i++)
		len += snprintf(doc + len, cap - len,
				"%s{\"ip\": \"10.250.%d.%d\", \"port\": 80}",
				i ? "," : "", i / 250, i % 250 + 1);
	snprintf(doc + len, cap - len, "]}]}");
	rc = apply(&s, doc, &r, err, sizeof(err));
	ASSERT_EQ(rc, -E2BIG, "too many backends rejected");
	ASSERT_TRUE(strstr(err, "service big: backends") != NULL,
		    "message names service and field: %s", err);
	n2 = snapshot(after, sizeof(after));
	ASSERT_EQ(n2, n1, "maps unchanged in size after rejection");
	ASSERT_MEM_EQ(after, before, n1, "maps unchanged after rejection");
	ASSERT_EQ(s.n_svcs, 2, "bookkeeping unchanged after rejection");
	free(doc);
	apply(&s, "{\"services\": []}", &r, err, sizeof(err));
	xlb_sync_fini(&s);
}

/*
 * Ring swaps under traffic: one thread sends new flows through the XDP
 * program while the main thread flips the service between two backend
 * sets. Every packet must be DNATed to a backend of one set or the
 * other: a half-written ring would show as a drop or a foreign address.
 */
static atomic_int stop_traffic;
static atomic_long sent, bad, dropped;

static void *traffic(void *arg)
{
	struct pkt_spec sp = {
		.family = 4, .saddr = PKT_V4(192, 0, 2, 1),
		.daddr = PKT_V4(10, 96, 0, 10), .proto = IPPROTO_TCP,
		.dport = 80, .tcp_flags = 0x02,
	};
	int fd = bpf_program__fd(dp.xdp->progs.xlb_xdp);
	unsigned char in[256], out[256];
	struct pkt_layout lay;
	unsigned int port = 1024;

	while (!atomic_load(&stop_traffic)) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
			    .data_out = out, .data_size_out = sizeof(out),
			    .repeat = 1);
		size_t len;

		sp.sport = port++;
		if (port > 65000)
			port = 1024;
		sp.saddr.b[3] = port & 0xff;
		len = pkt_build(&sp, in, sizeof(in), &lay);
		o.data_size_in = len;
		if (bpf_prog_test_run_opts(fd, &o))
			continue;
		atomic_fetch_add(&sent, 1);
		if (o.retval != XDP_PASS) {
			atomic_fetch_add(&dropped, 1);
			continue;
		}
		/* dst must be 10.244.1.x or 10.244.2.x, port 8080 */
		if (out[lay.l3 + 16] != 10 || out[lay.l3 + 17] != 244 ||
		    (out[lay.l3 + 18] != 1 && out[lay.l3 + 18] != 2) ||
		    out[lay.l4 + 2] != 0x1f || out[lay.l4 + 3] != 0x90) {
			atomic_fetch_add(&bad, 1);
		}
	}
	return NULL;
}

static void test_swap_under_traffic(void)
{
	const char *set[2] = {
		"{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","
		" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 8080}, {\"ip\": \"10.244.1.3\", \"port\": 8080}, {\"ip\": \"10.244.1.4\", \"port\": 8080}]}]}",
		"{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","
		" \"backends\": [{\"ip\": \"10.244.2.2\", \"port\": 8080}, {\"ip\": \"10.244.2.3\", \"port\": 8080}, {\"ip\": \"10.244.2.4\", \"port\": 8080}, {\"ip\": \"10.244.2.5\", \"port\": 8080}]}]}",
	};
	struct xlb_sync s;
	struct xlb_sync_result r;
	char err[256] = "";
	pthread_t th;
	int i, fails = 0;
	uint64_t t_end;

	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	apply(&s, set[0], &r, err, sizeof(err));
	pthread_create(&th, NULL, traffic, NULL);
	t_end = xlb_now_ns() + 3000000000ull; /* bounded: 3 s at most */
	for (i = 0; i < 400 && xlb_now_ns() < t_end; i++)
		fails += apply(&s, set[(i + 1) % 2], &r, err, sizeof(err)) != 0;
	atomic_store(&stop_traffic, 1);
	pthread_join(th, NULL);
	ASSERT_EQ(fails, 0, "%d ring swaps applied", i);
	check_ring(find(&s, "web"), "after the swaps");
	ASSERT_TRUE(atomic_load(&sent) > 1000, "traffic ran during the swaps (%ld packets)",
		    atomic_load(&sent));
	ASSERT_EQ(atomic_load(&dropped), 0, "no packet dropped during swaps");
	ASSERT_EQ(atomic_load(&bad), 0, "no packet sent to a foreign address during swaps");
	apply(&s, "{\"services\": []}", &r, err, sizeof(err));
	xlb_sync_fini(&s);
}

/* Slots of the service's cluster ring held by each backend address. */
static void ring_shares(const struct xlb_prog_service *ps, __u32 *green,
			__u32 *blue, __u32 *local_slots)
{
	struct xlb_svc sv;
	__u32 i;

	*green = *blue = 0;
	bpf_map_lookup_elem(dp.maps.svc, &ps->vip, &sv);
	for (i = 0; i < sv.ring_size; i++) {
		__u32 id = dp.maps.ring_mem[sv.ring_off + i];
		struct xlb_backend b;

		bpf_map_lookup_elem(dp.maps.backends, &id, &b);
		if (((__u8 *)&b.addr)[2] == 1)
			(*green)++;
		else
			(*blue)++;
	}
	if (local_slots)
		*local_slots = ps->lring_size;
}

/* Green holds pct percent of the ring's slots, give or take one. */
static void check_share(__u32 green, __u32 blue, __u32 pct, const char *what)
{
	__u32 all = green + blue;

	ASSERT_TRUE(green * 100 >= (pct - 1) * all,
		    "%s: green holds %u of %u slots, at least %u%%", what, green,
		    all, pct - 1);
	ASSERT_TRUE(green * 100 <= (pct + 1) * all,
		    "%s: green holds %u of %u slots, at most %u%%", what, green,
		    all, pct + 1);
}

/*
 * Traffic split: the ring gives each group its percent of the slots
 * (within a slot per backend), whatever the number of backends in each;
 * changing the percents keeps every id. Also: a node-local ring for the
 * Local policy, and Kubernetes' fallback to serving terminating backends.
 */
static void test_split_and_states(void)
{
	char doc[2048], err[256] = "";
	struct xlb_sync s;
	struct xlb_sync_result r;
	const struct xlb_prog_service *ps;
	__u32 green, blue, lslots, ids[5], i;
	const char *fmt =
		"{\"services\": [{\"name\": \"canary\", \"vip\": \"10.96.0.20\", \"port\": 80, \"protocol\": \"tcp\","
		" \"groups\": [{\"name\": \"green\", \"percent\": %d}, {\"name\": \"blue\", \"percent\": %d}],"
		" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 80, \"group\": \"green\"},"
		" {\"ip\": \"10.244.1.3\", \"port\": 80, \"group\": \"green\"},"
		" {\"ip\": \"10.244.1.4\", \"port\": 80, \"group\": \"green\"},"
		" {\"ip\": \"10.244.2.2\", \"port\": 80, \"group\": \"blue\"}]}]}";

	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	snprintf(doc, sizeof(doc), fmt, 90, 10);
	ASSERT_EQ(apply(&s, doc, &r, err, sizeof(err)), 0, "split 90/10 (%s)", err);
	ps = find(&s, "canary");
	ring_shares(ps, &green, &blue, NULL);
	check_share(green, blue, 90, "split 90/10");
	for (i = 0; i < 4; i++)
		ids[i] = ps->backends[i].id;
	snprintf(doc, sizeof(doc), fmt, 50, 50);
	ASSERT_EQ(apply(&s, doc, &r, err, sizeof(err)), 0, "split 50/50");
	ps = find(&s, "canary");
	ring_shares(ps, &green, &blue, NULL);
	check_share(green, blue, 50, "split 50/50 (1 blue backend, 3 green)");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(ps->backends[i].id, ids[i], "split change keeps backend %u's id", i);
	snprintf(doc, sizeof(doc), fmt, 0, 100);
	apply(&s, doc, &r, err, sizeof(err));
	ring_shares(find(&s, "canary"), &green, &blue, NULL);
	ASSERT_EQ(green, 0, "split 0/100: green holds no slot");

	/* Local policy and endpoint states. */
	ASSERT_EQ(apply(&s,
		"{\"services\": [{\"name\": \"loc\", \"vip\": \"10.96.0.21\", \"port\": 80, \"protocol\": \"tcp\","
		" \"external_ips\": [\"192.0.2.1\"], \"external_traffic_policy\": \"local\","
		" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 80, \"local\": true},"
		" {\"ip\": \"10.244.2.2\", \"port\": 80},"
		" {\"ip\": \"10.244.2.3\", \"port\": 80, \"state\": \"terminating\"}]}]}",
		&r, err, sizeof(err)), 0, "local policy (%s)", err);
	ps = find(&s, "loc");
	ring_shares(ps, &green, &blue, &lslots);
	ASSERT_TRUE(green > 0, "cluster ring holds the local ready backend");
	ASSERT_TRUE(blue > 0, "cluster ring holds the remote ready backend");
	ASSERT_TRUE(lslots > 0, "a node-local ring exists for the Local policy");
	ASSERT_EQ(ps->backends[2].state, XLB_BE_TERMINATING,
		  "terminating backend takes no new flow while others are ready");
	ASSERT_EQ(apply(&s,
		"{\"services\": [{\"name\": \"loc\", \"vip\": \"10.96.0.21\", \"port\": 80, \"protocol\": \"tcp\","
		" \"backends\": [{\"ip\": \"10.244.2.2\", \"port\": 80, \"state\": \"terminating\", \"serving\": false},"
		" {\"ip\": \"10.244.2.3\", \"port\": 80, \"state\": \"terminating\"}]}]}",
		&r, err, sizeof(err)), 0, "no ready backend");
	ps = find(&s, "loc");
	ASSERT_EQ(ps->backends[1].state, XLB_BE_ACTIVE,
		  "fallback: the serving terminating backend takes new flows");
	ASSERT_EQ(ps->backends[0].state, XLB_BE_TERMINATING,
		  "fallback: a terminating backend that is not serving does not");
	check_ring(ps, "fallback");
	apply(&s, "{\"services\": []}", &r, err, sizeof(err));
	xlb_sync_fini(&s);
}

/* The backend count xlbd publishes, against a recount of the bookkeeping. */
static size_t recount_backends(const struct xlb_sync *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->n_svcs; i++)
		n += s->svcs[i].n_backends;
	return n;
}

/* Partial apply: only the services of the change are touched. */
static void test_partial(void)
{
	struct xlb_sync s;
	struct xlb_sync_result r;
	struct xlb_model up;
	struct xlb_svc_info info;
	char err[256] = "", *rm[1];
	__u32 dns_id, dns_gen, web_id;
	struct xlb_vip_key k;
	struct xlb_svc sv;

	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	ASSERT_EQ(apply(&s, DOC_A, &r, err, sizeof(err)), 0, "partial: apply A");
	dns_id = find(&s, "dns")->id;
	web_id = find(&s, "web")->id;
	bpf_map_lookup_elem(dp.maps.svc_info, &dns_id, &info);
	dns_gen = info.generation;

	/* web gains a backend; dns is not part of the change. */
	model_of("{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","
		 " \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 8080}, {\"ip\": \"10.244.1.3\", \"port\": 8080},"
		 " {\"ip\": \"10.244.1.4\", \"port\": 8080}, {\"ip\": \"10.244.1.9\", \"port\": 8080}]}]}", &up);
	ASSERT_EQ(xlb_sync_apply_partial(&s, &up, NULL, 0, &r, err, sizeof(err)), 0,
		  "partial: update web (%s)", err);
	xlb_model_free(&up);
	ASSERT_EQ(r.updated, 1, "partial: one service updated");
	ASSERT_EQ(r.be_added, 1, "partial: one backend added");
	ASSERT_EQ(s.n_svcs, 2, "partial: dns still programmed");
	ASSERT_EQ(find(&s, "web")->id, web_id, "partial: web keeps its id");
	bpf_map_lookup_elem(dp.maps.svc_info, &dns_id, &info);
	ASSERT_EQ(info.generation, dns_gen, "partial: dns not rewritten");
	check_ring(find(&s, "web"), "partial web");
	ASSERT_EQ(dp.maps.port_mem[8080].backends, 4,
		  "partial: xlb_ports counts the new backend");
	ASSERT_EQ(xlb_sync_backend_count(&s), recount_backends(&s),
		  "partial: backend count after an update (%zu)",
		  xlb_sync_backend_count(&s));

	/* A new service whose VIP another service holds is rejected. */
	model_of("{\"services\": [{\"name\": \"x\", \"vip\": \"fd00::a\", \"port\": 53, \"protocol\": \"udp\"}]}", &up);
	ASSERT_EQ(xlb_sync_apply_partial(&s, &up, NULL, 0, &r, err, sizeof(err)), -E2BIG,
		  "partial: VIP of another service rejected");
	ASSERT_TRUE(strstr(err, "service x: frontend [fd00::a]:53/udp: already used by service dns") != NULL,
		    "partial: message names both services: %s", err);
	ASSERT_EQ(s.n_svcs, 2, "partial: rejected change added nothing");
	/* ... unless that service is removed in the same change. */
	rm[0] = "dns";
	ASSERT_EQ(xlb_sync_apply_partial(&s, &up, rm, 1, &r, err, sizeof(err)), 0,
		  "partial: VIP taken over from a removed service (%s)", err);
	xlb_model_free(&up);
	ASSERT_EQ(r.added, 1, "partial: x added");
	ASSERT_EQ(r.removed, 1, "partial: dns removed");
	k = vip4("fd00::a", 53, IPPROTO_UDP);
	ASSERT_EQ(bpf_map_lookup_elem(dp.maps.svc, &k, &sv), 0,
		  "partial: fd00::a frontend present");
	ASSERT_EQ(sv.svc_id, find(&s, "x")->id, "partial: fd00::a belongs to x");
	ASSERT_EQ(sv.ring_size, 0, "partial: x has no backend, no ring");
	ASSERT_TRUE(find(&s, "dns") == NULL, "partial: dns gone from the bookkeeping");
	ASSERT_EQ(dp.maps.port_mem[53].backends, 0,
		  "partial: dns's backend ports released");
	ASSERT_EQ(xlb_sync_backend_count(&s), recount_backends(&s),
		  "partial: backend count after a removal and an addition (%zu)",
		  xlb_sync_backend_count(&s));

	/* The result equals a full apply of the same state. */
	ASSERT_EQ(apply(&s,
			"{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","
			" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 8080}, {\"ip\": \"10.244.1.3\", \"port\": 8080},"
			" {\"ip\": \"10.244.1.4\", \"port\": 8080}, {\"ip\": \"10.244.1.9\", \"port\": 8080}]},"
			"{\"name\": \"x\", \"vip\": \"fd00::a\", \"port\": 53, \"protocol\": \"udp\"}]}",
			&r, err, sizeof(err)), 0, "partial: full apply of the same state");
	ASSERT_EQ(r.unchanged, 2, "partial: a full apply of the same state changes nothing");
	apply(&s, "{\"services\": []}", &r, err, sizeof(err));
	xlb_sync_fini(&s);
}

/* DOC_A and a third service, api; %s: web's third backend. */
#define DOC_C_SVCS                                                          \
	"{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","\
	" \"backends\": [{\"ip\": \"10.244.1.2\", \"port\": 8080},"        \
	" {\"ip\": \"10.244.1.3\", \"port\": 8080}, %s]},"\
	"{\"name\": \"dns\", \"vip\": \"fd00::a\", \"port\": 53, \"protocol\": \"udp\","\
	" \"backends\": [{\"ip\": \"fd00:1::2\", \"port\": 53}, {\"ip\": \"fd00:1::3\", \"port\": 53}]},"\
	"{\"name\": \"api\", \"vip\": \"10.96.0.20\", \"port\": 443, \"protocol\": \"tcp\","\
	" \"backends\": [{\"ip\": \"10.244.2.2\", \"port\": 8443}, {\"ip\": \"10.244.2.3\", \"port\": 8443}]}"

/* Adopts the maps into a fresh *s and applies doc. */
static void adopt_apply(struct xlb_sync *s, const char *doc,
			struct xlb_sync_result *r, const char *what)
{
	char err[256] = "";

	xlb_sync_init(s, &dp.maps);
	s->quiet = 1;
	ASSERT_OK(xlb_sync_adopt(s), "%s: adopt", what);
	ASSERT_OK(apply(s, doc, r, err, sizeof(err)), "%s: apply (%s)", what, err);
}

/* Every service of s has its frontend on a ring equal to what Maglev
 * builds from its backends, and applying doc again writes nothing. */
static void check_all(struct xlb_sync *s, const char *doc, const char *what)
{
	struct xlb_sync_result r;
	char err[256] = "", buf[96];
	size_t i;

	for (i = 0; i < s->n_svcs; i++) {
		snprintf(buf, sizeof(buf), "%s: %s", what, s->svcs[i].name);
		check_ring(&s->svcs[i], buf);
	}
	ASSERT_OK(apply(s, doc, &r, err, sizeof(err)), "%s: apply again", what);
	ASSERT_EQ(r.unchanged, s->n_svcs, "%s: applied again, nothing left to write",
		  what);
}

static void delete_all(int fd)
{
	char key[64];

	while (!bpf_map_get_next_key(fd, NULL, key) &&
	       !bpf_map_delete_elem(fd, key))
		;
}

/*
 * Adoption after a sync cut short, or with a pin lost: every service is
 * checked against the maps, and what is inconsistent is written again by
 * the first apply. The crashes are made by hand here, as the writes of a
 * sync leave them (the info of a service is written first, its frontends
 * last); selftests/test_crash.sh kills xlbd at every write of a sync.
 */
static void test_adopt_repairs(void)
{
	struct xlb_vip_key web_k = vip4("10.96.0.10", 80, IPPROTO_TCP);
	struct xlb_vip_key api_k = vip4("10.96.0.20", 443, IPPROTO_TCP);
	char doc_c[2048], doc_d[2048], err[256] = "";
	struct xlb_sync s, s2;
	struct xlb_sync_result r;
	const struct xlb_prog_service *api;
	struct xlb_svc_info none = {};
	struct xlb_backend b;
	struct xlb_svc sv, web_old;
	__u32 api_id, api_be;

	snprintf(doc_c, sizeof(doc_c), "{\"services\": [" DOC_C_SVCS "]}",
		 "{\"ip\": \"10.244.1.4\", \"port\": 8080}");
	snprintf(doc_d, sizeof(doc_d), "{\"services\": [" DOC_C_SVCS "]}",
		 "{\"ip\": \"10.244.1.4\", \"port\": 8080, \"weight\": 3}");

	/* A new service whose info and backends were written, not its
	 * frontend: it used to be adopted with no ring, and its frontend
	 * then written with ring size 0. */
	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	ASSERT_OK(apply(&s, DOC_A, &r, err, sizeof(err)), "repairs: apply A (%s)", err);
	ASSERT_OK(apply(&s, doc_c, &r, err, sizeof(err)), "repairs: apply C (%s)", err);
	ASSERT_OK(bpf_map_delete_elem(dp.maps.svc, &api_k),
		  "repairs: api's frontend taken out (info written, frontend not)");
	xlb_sync_fini(&s);
	adopt_apply(&s, doc_c, &r, "info without frontend");
	ASSERT_EQ(r.updated, 1, "info without frontend: api written again");
	ASSERT_EQ(r.unchanged, 2, "info without frontend: web and dns left as they are");
	api = find(&s, "api");
	if (ASSERT_TRUE(api, "info without frontend: api adopted") &&
	    ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &api_k, &sv),
		      "info without frontend: api's frontend written"))
		ASSERT_EQ(sv.ring_size, 251,
			  "info without frontend: api's frontend has its ring (2 backends: 251)");
	check_all(&s, doc_c, "info without frontend");
	xlb_sync_fini(&s);
	adopt_apply(&s, doc_c, &r, "info without frontend, restarted");
	ASSERT_EQ(r.unchanged, 3, "info without frontend: the repair is in the maps");

	/* A changed service whose info and new backend weight were
	 * written, not its frontends: they point at the old ring still,
	 * built for the old weights, at the same table size. */
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &web_k, &web_old), "repairs: web's frontend");
	ASSERT_OK(apply(&s, doc_d, &r, err, sizeof(err)), "repairs: apply D (%s)", err);
	ASSERT_OK(bpf_map_update_elem(dp.maps.svc, &web_k, &web_old, BPF_ANY),
		  "repairs: web's frontend back on its old ring");
	xlb_sync_fini(&s);
	adopt_apply(&s, doc_d, &r, "frontend on the old ring");
	ASSERT_EQ(r.updated, 1, "frontend on the old ring: web written again");
	ASSERT_TRUE(find(&s, "web")->ring_off != web_old.ring_off,
		    "frontend on the old ring: web's ring replaced");
	check_all(&s, doc_d, "frontend on the old ring");
	xlb_sync_fini(&s);

	/* The xlb_svc pin lost: every service has its info, backends and
	 * rings, and no frontend. */
	delete_all(dp.maps.svc);
	adopt_apply(&s, doc_d, &r, "xlb_svc lost");
	ASSERT_EQ(r.updated, 3, "xlb_svc lost: every service written again");
	check_all(&s, doc_d, "xlb_svc lost");

	/* api's info lost: its frontend and backends belong to no known
	 * service. They stay until the first full apply has written api
	 * again, then its old backends are removed. */
	api_id = find(&s, "api")->id;
	api_be = find(&s, "api")->backends[0].id;
	ASSERT_OK(bpf_map_update_elem(dp.maps.svc_info, &api_id, &none, BPF_ANY),
		  "repairs: api's info cleared");
	xlb_sync_fini(&s);
	xlb_sync_init(&s2, &dp.maps);
	s2.quiet = 1;
	ASSERT_OK(xlb_sync_adopt(&s2), "info lost: adopt");
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &api_k, &sv),
		  "info lost: api's frontend still serves after adoption");
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.backends, &api_be, &b), "info lost: old backend");
	ASSERT_EQ(b.state, XLB_BE_ACTIVE,
		  "info lost: api's old backend still active after adoption (its flows)");
	ASSERT_TRUE(s2.orphans != NULL, "info lost: orphans kept for the sweep");
	ASSERT_OK(apply(&s2, doc_d, &r, err, sizeof(err)), "info lost: apply (%s)", err);
	ASSERT_EQ(r.added, 1, "info lost: api added again");
	ASSERT_TRUE(!s2.orphans, "info lost: orphans swept after the full apply");
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &api_k, &sv), "info lost: api's frontend");
	ASSERT_EQ(sv.svc_id, find(&s2, "api")->id, "info lost: the frontend is the new api's");
	ASSERT_TRUE(sv.svc_id != api_id, "info lost: api has a new id (%u)", sv.svc_id);
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.backends, &api_be, &b), "info lost: old backend");
	ASSERT_EQ(b.state, XLB_BE_UNUSED, "info lost: api's old backend made unused");
	check_all(&s2, doc_d, "info lost");
	ASSERT_OK(apply(&s2, "{\"services\": []}", &r, err, sizeof(err)), "repairs: apply empty");
	xlb_sync_fini(&s2);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};

	return xlb_map_info(fd, &info) ? 0 : info.id;
}

/* Every map has an fd of its own (none left at 0, stdin), and a second
 * load that shares them (here with the port filter off, as test_datapath
 * loads one) runs on the very same maps. */
static void test_loader_maps(void)
{
	struct xlb_loader_opts o = { .share = &dp, .no_port_filter = true };
	struct xlb_dp dp2;
	int i;

	for (i = 0; i < XLB_N_MAPS; i++)
		ASSERT_TRUE(dp.maps.fd[i] > 2, "%s: fd %d of its own",
			    xlb_map_names[i], dp.maps.fd[i]);
	if (!ASSERT_OK(xlb_dp_load(&dp2, &o), "second load, maps shared"))
		return;
	for (i = 0; i < XLB_N_MAPS; i++)
		ASSERT_EQ(map_id(dp2.maps.fd[i]), map_id(dp.maps.fd[i]),
			  "%s: shared by the second load", xlb_map_names[i]);
	ASSERT_EQ(dp2.maps.ring_slots, T_SLOTS, "second load: ring slots");
	ASSERT_EQ(dp2.maps.max_services, T_SERVICES, "second load: services");
	ASSERT_EQ(dp.xdp->rodata->xlb_cfg.port_filter, 1,
		  "first load: port filter on, as xlbd");
	ASSERT_EQ(dp2.xdp->rodata->xlb_cfg.port_filter, 0,
		  "second load: port filter off");
	ASSERT_EQ(dp2.tc->rodata->xlb_cfg.port_filter, 0,
		  "second load: tc port filter off");
	xlb_dp_close(&dp2);
}

/* The frontend flags Kubernetes' rules for external frontends give:
 * source ranges on load-balancer IPs only; a Local frontend drops only
 * while the service has usable endpoints somewhere, and with none at all
 * is rejected like any other (it loses XLB_SVC_F_LOCAL). */
static void test_external_rules(void)
{
	const char *fmt =
		"{\"services\": [{\"name\": \"ext\", \"vip\": \"10.96.0.30\", \"port\": 80, \"protocol\": \"tcp\","
		" \"external_ips\": [\"192.0.2.30\"], \"load_balancer_ips\": [\"198.51.100.30\"], \"node_port\": 30030,"
		" \"external_traffic_policy\": \"local\", \"load_balancer_source_ranges\": [\"203.0.113.0/24\"],"
		" \"backends\": [%s]}]}";
	struct xlb_nodeaddr na = { .family = XLB_AF_INET };
	struct xlb_vip_key ext = vip4("192.0.2.30", 80, IPPROTO_TCP);
	struct xlb_vip_key lb = vip4("198.51.100.30", 80, IPPROTO_TCP);
	struct xlb_vip_key np = vip4("10.0.0.30", 30030, IPPROTO_TCP);
	char doc[1024], err[256] = "";
	struct xlb_sync_result r;
	struct xlb_svc sv;
	struct xlb_sync s;

	xlb_addr_parse("10.0.0.30", &na.addr, &na.family);
	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	ASSERT_OK(xlb_sync_set_node_addrs(&s, &na, 1), "node address 10.0.0.30");
	snprintf(doc, sizeof(doc), fmt,
		 "{\"ip\": \"10.244.2.5\", \"port\": 8080}");
	ASSERT_OK(apply(&s, doc, &r, err, sizeof(err)), "Local, one remote endpoint (%s)", err);
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &lb, &sv), "LB IP frontend");
	ASSERT_EQ(sv.flags & XLB_SVC_F_SRC_RANGES, XLB_SVC_F_SRC_RANGES,
		  "LB IP: checks the source ranges");
	ASSERT_EQ(sv.flags & XLB_SVC_F_LOCAL, XLB_SVC_F_LOCAL,
		  "LB IP: Local with a remote endpoint drops (local flag)");
	ASSERT_EQ(sv.ring_size, 0, "LB IP: its node-local ring is empty");
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &ext, &sv), "external IP frontend");
	ASSERT_EQ(sv.flags & XLB_SVC_F_SRC_RANGES, 0,
		  "external IP: no source ranges (they are the load balancer's)");
	ASSERT_EQ(sv.flags & XLB_SVC_F_LOCAL, XLB_SVC_F_LOCAL, "external IP: local");
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &np, &sv), "NodePort frontend");
	ASSERT_EQ(sv.flags & XLB_SVC_F_SRC_RANGES, 0, "NodePort: no source ranges");

	snprintf(doc, sizeof(doc), fmt, "");
	ASSERT_OK(apply(&s, doc, &r, err, sizeof(err)), "Local, no endpoint at all (%s)", err);
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &lb, &sv), "LB IP frontend, no endpoints");
	ASSERT_EQ(sv.flags & XLB_SVC_F_LOCAL, 0,
		  "no endpoint at all: the LB IP rejects (no local flag)");
	ASSERT_EQ(sv.ring_size, 0, "no endpoint at all: empty ring");
	ASSERT_EQ(sv.flags & XLB_SVC_F_SRC_RANGES, XLB_SVC_F_SRC_RANGES,
		  "no endpoint at all: source ranges kept");
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &np, &sv), "NodePort, no endpoints");
	ASSERT_EQ(sv.flags & XLB_SVC_F_LOCAL, 0, "no endpoint at all: the NodePort rejects");

	snprintf(doc, sizeof(doc), fmt,
		 "{\"ip\": \"10.244.2.5\", \"port\": 8080, \"local\": true}");
	ASSERT_OK(apply(&s, doc, &r, err, sizeof(err)), "Local, a local endpoint (%s)", err);
	ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &lb, &sv), "LB IP frontend, local endpoint");
	ASSERT_EQ(sv.flags & XLB_SVC_F_LOCAL, XLB_SVC_F_LOCAL, "local endpoint: local again");
	ASSERT_TRUE(sv.ring_size > 0, "local endpoint: a node-local ring (%u slots)", sv.ring_size);

	/* Who has a frontend, as the Kubernetes source asks to keep a
	 * shared one with its first owner, here and after a restart. */
	ASSERT_TRUE(xlb_sync_has_frontend(&s, "ext", &ext, false),
		    "ext has its external IP");
	ASSERT_TRUE(!xlb_sync_has_frontend(&s, "other", &ext, false),
		    "another service does not");
	ASSERT_TRUE(xlb_sync_has_frontend(&s, "ext", &np, true), "ext has its NodePort");
	{
		struct xlb_sync s2;

		xlb_sync_init(&s2, &dp.maps);
		ASSERT_OK(xlb_sync_adopt(&s2), "adopt");
		ASSERT_TRUE(xlb_sync_has_frontend(&s2, "ext", &ext, false),
			    "adopted: ext has its external IP");
		ASSERT_TRUE(xlb_sync_has_frontend(&s2, "ext", &np, true),
			    "adopted: ext has its NodePort");
		xlb_sync_fini(&s2);
	}
	ASSERT_OK(apply(&s, "{\"services\": []}", &r, err, sizeof(err)), "apply empty");
	xlb_sync_fini(&s);
}

/* The source NAT flags a service's "snat" gives its frontends: "remote"
 * on the external ones of a Cluster policy only, true on every one. DSR:
 * "dsr": "ipip" on every one; xlbd --dsr ipip (dsr_remote) where
 * "remote" is. */
static void test_snat_flags(void)
{
	const char *fmt =
		"{\"services\": [{\"name\": \"sn\", \"vip\": \"10.96.0.40\", \"port\": 80, \"protocol\": \"tcp\","
		" \"external_ips\": [\"192.0.2.40\"], \"node_port\": 30040, \"snat\": %s,"
		" \"backends\": [{\"ip\": \"10.244.2.6\", \"port\": 8080}]}]}";
	static const struct {
		const char *snat;
		bool dsr_remote;
		__u32 cip, ext;	/* the flags of the cluster IP, external IP */
	} cases[] = {
		{ "\"remote\"", 0, 0, XLB_SVC_F_SNAT_REMOTE },
		{ "\"remote\", \"external_traffic_policy\": \"local\"", 0, 0, 0 },
		{ "true", 0, XLB_SVC_F_SNAT_ALL, XLB_SVC_F_SNAT_ALL },
		{ "false", 0, 0, 0 },
		{ "\"remote\"", 1, 0, XLB_SVC_F_SNAT_REMOTE | XLB_SVC_F_DSR },
		{ "\"remote\", \"external_traffic_policy\": \"local\"", 1, 0, 0 },
		{ "false, \"dsr\": \"ipip\"", 0, XLB_SVC_F_DSR, XLB_SVC_F_DSR },
	};
	const __u32 both = XLB_SVC_F_SNAT_REMOTE | XLB_SVC_F_SNAT_ALL |
			   XLB_SVC_F_DSR;
	struct xlb_nodeaddr na = { .family = XLB_AF_INET };
	struct xlb_vip_key cip = vip4("10.96.0.40", 80, IPPROTO_TCP);
	struct xlb_vip_key ext = vip4("192.0.2.40", 80, IPPROTO_TCP);
	struct xlb_vip_key np = vip4("10.0.0.40", 30040, IPPROTO_TCP);
	char doc[1024], err[256] = "";
	struct xlb_sync_result r;
	struct xlb_svc sv;
	struct xlb_sync s;
	size_t i;

	xlb_addr_parse("10.0.0.40", &na.addr, &na.family);
	xlb_sync_init(&s, &dp.maps);
	s.quiet = 1;
	ASSERT_OK(xlb_sync_set_node_addrs(&s, &na, 1), "node address 10.0.0.40");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *w = cases[i].snat;

		snprintf(doc, sizeof(doc), fmt, w);
		s.dsr_remote = cases[i].dsr_remote;
		if (!ASSERT_OK(apply(&s, doc, &r, err, sizeof(err)),
			       "snat %s (%s)", w, err))
			continue;
		ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &cip, &sv), "cluster IP");
		ASSERT_EQ(sv.flags & both, cases[i].cip, "snat %s: cluster IP's flags", w);
		ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &ext, &sv), "external IP");
		ASSERT_EQ(sv.flags & both, cases[i].ext, "snat %s: external IP's flags", w);
		ASSERT_OK(bpf_map_lookup_elem(dp.maps.svc, &np, &sv), "NodePort");
		ASSERT_EQ(sv.flags & both, cases[i].ext, "snat %s: NodePort's flags", w);
	}
	ASSERT_OK(apply(&s, "{\"services\": []}", &r, err, sizeof(err)), "apply empty");
	xlb_sync_fini(&s);
}

int main(void)
{
	int rc;

	xlb_log_set_level(XLB_LOG_WARN);
	rc = load();
	if (!ASSERT_EQ(rc, 0, "load the programs"))
		return test_done();
	test_loader_maps();
	test_diff_and_ids();
	test_capacity();
	test_partial();
	test_split_and_states();
	test_external_rules();
	test_snat_flags();
	test_adopt_repairs();
	test_swap_under_traffic();
	xlb_dp_close(&dp);
	return test_done();
}
