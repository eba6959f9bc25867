// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kubernetes objects -> model, on the fixture objects under
 * selftests/k8s/fixtures (real object shapes), plus the pieces of the
 * client that need no server: the watch line buffer on every split of
 * a real event stream, and kubeconfig parsing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "k8s_client.h"
#include "k8s_translate.h"
#include "util.h"
#include "testlib.h"

static char fixdir[PATH_MAX];

static cJSON *load(const char *rel)
{
	char path[PATH_MAX + 256], *buf;
	long len;
	FILE *f;
	cJSON *j;

	snprintf(path, sizeof(path), "%s/%s", fixdir, rel);
	f = fopen(path, "r");
	if (!f) {
		TEST_FAIL("open fixture %s: %s", path, strerror(errno));
		return cJSON_CreateObject();
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, len + 1);
	if (fread(buf, 1, len, f) != (size_t)len)
		TEST_FAIL("read fixture %s", path);
	fclose(f);
	j = cJSON_Parse(buf);
	free(buf);
	if (!j) {
		TEST_FAIL("parse fixture %s", path);
		return cJSON_CreateObject();
	}
	return j;
}

struct tr {
	struct xlb_model m;
	size_t n_warn;
	int rc;
	char err[256];
};

/* Translates a Service and up to 4 slices (NULL-terminated). */
static struct tr run(const char *dir, const char *svc, const char *node,
		     const char *zone, const char *s1, const char *s2,
		     const char *s3)
{
	const char *names[3] = { s1, s2, s3 };
	const cJSON *sl[3];
	struct xlb_k8s_node_info ni = { node, zone };
	char path[512];
	cJSON *sv, *owned[3] = { 0 };
	struct tr r = { 0 };
	size_t n = 0, i;

	snprintf(path, sizeof(path), "scenarios/%s/%s", dir, svc);
	sv = load(path);
	for (i = 0; i < 3 && names[i]; i++) {
		snprintf(path, sizeof(path), "scenarios/%s/%s", dir, names[i]);
		owned[i] = load(path);
		sl[n++] = owned[i];
	}
	r.rc = xlb_k8s_translate(sv, sl, n, &ni, &r.m, &r.n_warn, r.err,
				 sizeof(r.err));
	cJSON_Delete(sv);
	for (i = 0; i < 3; i++)
		cJSON_Delete(owned[i]);
	return r;
}

static struct xlb_model_service *svc(struct tr *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->m.n_services; i++)
		if (!strcmp(r->m.services[i].name, name))
			return &r->m.services[i];
	TEST_FAIL("no service %s among %zu", name, r->m.n_services);
	return NULL;
}

static struct xlb_model_backend *be(struct xlb_model_service *s,
				    const char *ip, int port)
{
	union xlb_addr a;
	__u8 f;
	size_t i;

	if (!s)
		return NULL;
	xlb_addr_parse(ip, &a, &f);
	for (i = 0; i < s->n_backends; i++)
		if (!memcmp(&s->backends[i].addr, &a, sizeof(a)) &&
		    ntohs(s->backends[i].port) == port)
			return &s->backends[i];
	TEST_FAIL("service %s: no backend %s:%d", s->name, ip, port);
	return NULL;
}

static bool addr_is(const union xlb_addr *a, const char *ip)
{
	union xlb_addr b;
	__u8 f;

	return !xlb_addr_parse(ip, &b, &f) && !memcmp(a, &b, sizeof(b));
}

static void test_headless(void)
{
	struct tr r;
	cJSON *o;

	r = run("headless", "Service-echo.json", "n", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	ASSERT_EQ(r.m.n_services, 1, "headless: a normal ClusterIP Service gives one service");
	if (r.m.n_services) {
		ASSERT_TRUE(!strcmp(r.m.services[0].name, "test/echo:http/tcp"),
			    "headless: named ns/name:port/proto (%s)",
			    r.m.services[0].name);
		ASSERT_EQ(r.m.services[0].n_backends, 1, "headless: normal Service has its endpoint");
	}
	xlb_model_free(&r.m);
	r = run("headless", "Service-echo.clusterip-none.json", "n", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	ASSERT_EQ(r.rc, 0, "headless: clusterIP None is not an error");
	ASSERT_EQ(r.m.n_services, 0, "headless: clusterIP None skipped");
	xlb_model_free(&r.m);
	r = run("headless", "Service-echo.headless-label.json", "n", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	ASSERT_EQ(r.m.n_services, 0, "headless: service.kubernetes.io/headless label skipped");
	xlb_model_free(&r.m);

	o = load("scenarios/headless/Service-echo.json");
	ASSERT_TRUE(xlb_k8s_svc_skip_reason(o) == NULL, "skip: normal Service kept");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "metadata"), "labels",
				  cJSON_Parse("{\"service.kubernetes.io/service-proxy-name\": \"other\"}"));
	ASSERT_TRUE(xlb_k8s_svc_skip_reason(o) != NULL, "skip: another proxy's Service");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "metadata"), "labels",
				  cJSON_Parse("{\"service.kubernetes.io/service-proxy-name\": \"xlb\"}"));
	ASSERT_TRUE(xlb_k8s_svc_skip_reason(o) == NULL, "skip: service-proxy-name xlb kept");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "spec"), "type",
				  cJSON_CreateString("ExternalName"));
	ASSERT_TRUE(xlb_k8s_svc_skip_reason(o) != NULL, "skip: ExternalName");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "spec"), "type",
				  cJSON_CreateString("ClusterIP"));
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(o, "spec"), "clusterIP");
	ASSERT_TRUE(xlb_k8s_svc_skip_reason(o) != NULL, "skip: no cluster IP");
	cJSON_Delete(o);
}

static void test_nodeport(void)
{
	struct xlb_model_service *s;
	struct tr r;
	size_t i;
	int local = 0;

	r = run("nodeport", "Service-echo.json", "nodeport-worker", NULL,
		"EndpointSlice-echo-kvlm2.json", "EndpointSlice-echo-another.json",
		NULL);
	ASSERT_EQ(r.m.n_services, 1, "nodeport: one service");
	s = svc(&r, "test/echo:http/tcp");
	if (s) {
		ASSERT_EQ(s->node_port, 30781, "nodeport: node_port");
		ASSERT_TRUE(addr_is(&s->vip.addr, "10.96.50.104") &&
				    ntohs(s->vip.port) == 80 &&
				    s->vip.proto == IPPROTO_TCP,
			    "nodeport: cluster IP frontend 10.96.50.104:80/tcp");
		/* The other Service's slice (label echo2) is not joined
		 * by the caller here but its port name differs anyway. */
		ASSERT_EQ(s->n_backends, 4, "nodeport: endpoints of the slice whose port name matches");
		for (i = 0; i < s->n_backends; i++) {
			local += s->backends[i].local;
			if (s->backends[i].state != XLB_BE_ACTIVE)
				TEST_FAIL("nodeport: endpoint without conditions is ready");
		}
		ASSERT_EQ(local, 2, "nodeport: the endpoints on nodeport-worker are local");
	}
	xlb_model_free(&r.m);
}

static void test_dualstack(void)
{
	struct xlb_model_service *s;
	struct tr r;

	r = run("dualstack", "Service-echo-dualstack.json", "dual-stack-worker",
		NULL, "EndpointSlice-echo-dualstack-bhgnn.json",
		"EndpointSlice-echo-dualstack-mchrt.json", NULL);
	ASSERT_EQ(r.m.n_services, 4, "dualstack: 2 ports x 2 families");
	s = svc(&r, "default/echo-dualstack:http/tcp");
	if (s) {
		ASSERT_TRUE(s->vip.family == XLB_AF_INET &&
				    addr_is(&s->vip.addr, "10.96.207.99"),
			    "dualstack: http v4 cluster IP");
		ASSERT_EQ(s->n_backends, 2, "dualstack: http v4 backends");
		be(s, "10.244.2.9", 80);
		ASSERT_EQ(s->node_port, 30181, "dualstack: http node_port");
	}
	s = svc(&r, "default/echo-dualstack:http/tcp/v6");
	if (s) {
		ASSERT_TRUE(s->vip.family == XLB_AF_INET6 &&
				    addr_is(&s->vip.addr, "fd00:10:96::b050"),
			    "dualstack: http v6 cluster IP");
		ASSERT_EQ(s->n_backends, 2, "dualstack: http v6 backends (IPv6 slice only)");
		ASSERT_TRUE(be(s, "fd00:10:244:1::247e", 80) &&
				    be(s, "fd00:10:244:1::247e", 80)->local,
			    "dualstack: v6 endpoint on this node is local");
		ASSERT_EQ(s->node_port, 30181, "dualstack: v6 http node_port");
	}
	s = svc(&r, "default/echo-dualstack:tftp/udp");
	if (s) {
		ASSERT_EQ(s->vip.proto, IPPROTO_UDP, "dualstack: tftp is udp");
		ASSERT_EQ(ntohs(s->vip.port), 69, "dualstack: tftp port");
		be(s, "10.244.1.54", 69);
	}
	s = svc(&r, "default/echo-dualstack:tftp/udp/v6");
	if (s)
		ASSERT_EQ(s->node_port, 32757, "dualstack: tftp v6 node_port");
	xlb_model_free(&r.m);
}

static void test_multiple_slices(void)
{
	struct xlb_model_service *s;
	struct tr r;

	r = run("multiple-endpointslices", "Service-echo.json", "n", NULL,
		"EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json",
		"EndpointSlice-echo-eps3.json");
	s = svc(&r, "test/echo:http/tcp");
	/* Each slice has one endpoint listing 3 addresses; the API defines
	 * no meaning for addresses past the first, and kube-proxy uses the
	 * first only: 3 slices x 1 endpoint = 3 backends. */
	if (s) {
		ASSERT_EQ(s->n_backends, 3, "multiple slices: merged, first address of each endpoint");
		be(s, "10.244.1.1", 80);
		be(s, "10.244.2.1", 80);
		be(s, "10.244.3.1", 80);
	}
	xlb_model_free(&r.m);
	/* The same slice twice (as while a slice is being replaced): one
	 * backend each. */
	r = run("multiple-endpointslices", "Service-echo.json", "n", NULL,
		"EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps1.json",
		"EndpointSlice-echo-eps2.json");
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_EQ(s->n_backends, 2, "multiple slices: duplicates merged");
	xlb_model_free(&r.m);
}

static void test_graceful(void)
{
	struct xlb_model_service *s;
	struct xlb_model_backend *b;
	struct tr r;

	r = run("graceful-termination", "Service-graceful-term-svc.json", "n",
		NULL, "EndpointSlice-graceful-term-svc-pg7nd.json", NULL, NULL);
	s = svc(&r, "test/graceful-term-svc:8081/tcp");
	if (s)
		ASSERT_TRUE(s->n_backends == 2 &&
				    s->backends[0].state == XLB_BE_ACTIVE &&
				    s->backends[1].state == XLB_BE_ACTIVE,
			    "graceful: unnamed port named by number; 2 ready backends");
	xlb_model_free(&r.m);
	r = run("graceful-termination", "Service-graceful-term-svc.json", "n",
		NULL, "EndpointSlice-graceful-term-svc-pg7nd.terminating1.json",
		NULL, NULL);
	s = svc(&r, "test/graceful-term-svc:8081/tcp");
	b = be(s, "10.244.0.112", 8081);
	if (b)
		ASSERT_TRUE(b->state == XLB_BE_TERMINATING && b->serving,
			    "graceful: ready=false serving terminating -> terminating, serving");
	b = be(s, "10.244.0.113", 8081);
	if (b)
		ASSERT_EQ(b->state, XLB_BE_ACTIVE, "graceful: the other stays active");
	xlb_model_free(&r.m);
	r = run("graceful-termination", "Service-graceful-term-svc.json", "n",
		NULL, "EndpointSlice-graceful-term-svc-pg7nd.terminating2.json",
		NULL, NULL);
	s = svc(&r, "test/graceful-term-svc:8081/tcp");
	if (s)
		ASSERT_TRUE(s->n_backends == 2 &&
				    s->backends[0].state == XLB_BE_TERMINATING &&
				    s->backends[0].serving &&
				    s->backends[1].state == XLB_BE_TERMINATING &&
				    s->backends[1].serving,
			    "graceful: all terminating+serving -> the fallback set");
	xlb_model_free(&r.m);
}

static void test_trafficpolicy(void)
{
	struct xlb_model_service *s;
	struct tr r;

	r = run("trafficpolicy", "Service-echo.tp-local.json", "testnode", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s) {
		ASSERT_TRUE(s->external_local && s->internal_local,
			    "trafficpolicy: both Local");
		ASSERT_TRUE(s->n_lb_ips == 1 && addr_is(&s->lb_ips[0], "1.1.1.1"),
			    "trafficpolicy: load-balancer ingress IP frontend");
		ASSERT_TRUE(be(s, "10.244.1.1", 80) && be(s, "10.244.1.1", 80)->local,
			    "trafficpolicy: endpoint on testnode is local");
		ASSERT_TRUE(be(s, "10.244.2.1", 80) && !be(s, "10.244.2.1", 80)->local,
			    "trafficpolicy: endpoint on othernode is not");
	}
	xlb_model_free(&r.m);
	r = run("trafficpolicy", "Service-echo.tp-mixed.json", "testnode", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(!s->external_local && s->internal_local,
			    "trafficpolicy: external Cluster, internal Local");
	xlb_model_free(&r.m);
}

static void test_source_ranges(void)
{
	struct xlb_model_service *s;
	struct tr r;

	r = run("source-ranges", "Service-echo.json", "n", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s) {
		ASSERT_TRUE(addr_is(&s->vip.addr, "10.0.0.1"),
			    "source ranges: clusterIP alone (no clusterIPs) is the vip");
		ASSERT_TRUE(s->n_source_ranges == 1 &&
				    addr_is(&s->source_ranges[0].addr, "10.0.0.0") &&
				    s->source_ranges[0].len == 8,
			    "source ranges: 10.0.0.0/8");
		ASSERT_EQ(s->n_lb_ips, 1, "source ranges: LB ingress IP");
	}
	xlb_model_free(&r.m);
	r = run("external-ips", "Service-echo.json", "n", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(s->n_external_ips == 1 &&
				    addr_is(&s->external_ips[0], "10.0.0.3") &&
				    s->n_lb_ips == 1 &&
				    addr_is(&s->lb_ips[0], "10.0.0.2") &&
				    s->n_source_ranges == 1,
			    "external IPs: external IP, LB IP and source range");
	xlb_model_free(&r.m);
	r = run("loadbalancer-multiport", "Service-echo.json", "n", NULL,
		"EndpointSlice-echo-kvlm2.json", NULL, NULL);
	ASSERT_EQ(r.m.n_services, 2, "multiport: one service per port");
	s = svc(&r, "test/echo:https/tcp");
	if (s) {
		ASSERT_EQ(s->node_port, 30782, "multiport: https node_port");
		ASSERT_TRUE(be(s, "10.244.1.2", 443) != NULL,
			    "multiport: https backends on the slice's https port");
		ASSERT_TRUE(s->n_lb_ips == 1 && addr_is(&s->lb_ips[0], "172.16.1.1"),
			    "multiport: LB IP");
	}
	xlb_model_free(&r.m);
}

static int weight_of(struct xlb_model_service *s, const char *ip)
{
	struct xlb_model_backend *b = be(s, ip, 80);

	return b ? b->weight : -1;
}

static void test_topology(void)
{
	struct xlb_model_service *s;
	struct tr r;

	r = run("topology-aware", "Service-echo.json", "n", "foo",
		"EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json",
		NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 1 &&
				    weight_of(s, "10.244.2.1") == 0 &&
				    be(s, "10.244.2.1", 80)->state == XLB_BE_ACTIVE,
			    "topology: zone foo -> only the endpoint hinted for foo takes new flows, the other stays ready with weight 0");
	xlb_model_free(&r.m);
	r = run("topology-aware", "Service-echo.json", "n", "quux",
		"EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json",
		NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 0 &&
				    weight_of(s, "10.244.2.1") == 1,
			    "topology: zone quux -> the quux endpoint");
	xlb_model_free(&r.m);
	r = run("topology-aware", "Service-echo.json", "n", "baz",
		"EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json",
		NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 1 &&
				    weight_of(s, "10.244.2.1") == 1,
			    "topology: no endpoint for our zone -> all");
	xlb_model_free(&r.m);
	r = run("topology-aware", "Service-echo.json", "n", NULL,
		"EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json",
		NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 1 &&
				    weight_of(s, "10.244.2.1") == 1,
			    "topology: node without a zone label -> all");
	xlb_model_free(&r.m);
	r = run("topology-aware", "Service-echo.no-topology.json", "n", "foo",
		"EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json",
		NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 1 &&
				    weight_of(s, "10.244.2.1") == 1,
			    "topology: Service without topology mode ignores hints");
	xlb_model_free(&r.m);
	r = run("topology-aware", "Service-echo.trafficDistribution.json", "n",
		"foo", "EndpointSlice-echo-eps1.json",
		"EndpointSlice-echo-eps2.json", NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 1 &&
				    weight_of(s, "10.244.2.1") == 0,
			    "topology: trafficDistribution PreferClose honours zone hints");
	xlb_model_free(&r.m);
	/* One ready endpoint without hints: hints are not used at all. */
	r = run("topology-aware", "Service-echo.json", "n", "foo",
		"EndpointSlice-echo-eps1.json",
		"../multiple-endpointslices/EndpointSlice-echo-eps2.json", NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 1 &&
				    weight_of(s, "10.244.2.1") == 1,
			    "topology: a ready endpoint without hints disables them");
	xlb_model_free(&r.m);
	/* Terminating endpoints without hints do not count. */
	r = run("topology-aware-terminating", "Service-echo.json", "n", "foo",
		"EndpointSlice-echo-eps1.json",
		"EndpointSlice-echo-eps2.terminating.json", NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(weight_of(s, "10.244.1.1") == 1 &&
				    be(s, "10.244.2.1", 80)->state == XLB_BE_TERMINATING &&
				    be(s, "10.244.2.1", 80)->serving,
			    "topology: a terminating endpoint without hints does not disable them");
	xlb_model_free(&r.m);
	r = run("topology-aware-terminating", "Service-echo.json", "n", "foo",
		"EndpointSlice-echo-eps1.terminating.json",
		"EndpointSlice-echo-eps2.terminating.json", NULL);
	s = svc(&r, "test/echo:http/tcp");
	if (s)
		ASSERT_TRUE(s->n_backends == 2 &&
				    s->backends[0].state == XLB_BE_TERMINATING &&
				    s->backends[0].serving && s->backends[0].weight == 1 &&
				    s->backends[1].weight == 1,
			    "topology: all terminating -> fallback set, weights kept");
	xlb_model_free(&r.m);
}

/* Objects written here for what the fixtures do not cover. */
static void test_inline(void)
{
	static const char svc_json[] =
		"{\"metadata\": {\"name\": \"aff\", \"namespace\": \"ns\"},"
		" \"spec\": {\"clusterIP\": \"10.96.0.9\", \"clusterIPs\": [\"10.96.0.9\"],"
		"  \"sessionAffinity\": \"ClientIP\","
		"  \"sessionAffinityConfig\": {\"clientIP\": {\"timeoutSeconds\": 300}},"
		"  \"trafficDistribution\": \"PreferSameNode\","
		"  \"externalIPs\": [\"192.0.2.1\", \"2001:db8::1\", \"bogus\"],"
		"  \"loadBalancerSourceRanges\": [\" 203.0.113.0/24 \", \"2001:db8::/32\"],"
		"  \"ports\": [{\"name\": \"dns\", \"port\": 53, \"protocol\": \"UDP\"},"
		"             {\"name\": \"s\", \"port\": 9, \"protocol\": \"SCTP\"}]},"
		" \"status\": {\"loadBalancer\": {\"ingress\": [{\"ip\": \"198.51.100.1\", \"ipMode\": \"Proxy\"},"
		"  {\"hostname\": \"lb.example\"}, {\"ip\": \"198.51.100.2\", \"ipMode\": \"VIP\"}]}}}";
	static const char slice_json[] =
		"{\"metadata\": {\"name\": \"aff-1\", \"namespace\": \"ns\","
		"  \"labels\": {\"kubernetes.io/service-name\": \"aff\"}},"
		" \"addressType\": \"IPv4\","
		" \"ports\": [{\"name\": \"dns\", \"port\": 5353, \"protocol\": \"UDP\"}],"
		" \"endpoints\": ["
		"  {\"addresses\": [\"10.1.0.1\"], \"nodeName\": \"me\", \"hints\": {\"forNodes\": [{\"name\": \"me\"}]}},"
		"  {\"addresses\": [\"10.1.0.2\"], \"nodeName\": \"other\", \"hints\": {\"forNodes\": [{\"name\": \"other\"}]}},"
		"  {\"addresses\": [\"10.1.0.3\"], \"conditions\": {\"ready\": false}},"
		"  {\"addresses\": [\"10.1.0.4\"], \"conditions\": {\"ready\": false, \"serving\": false, \"terminating\": true}},"
		"  {\"addresses\": [\"not-an-ip\"]}]}";
	cJSON *sv = cJSON_Parse(svc_json), *sl = cJSON_Parse(slice_json);
	const cJSON *sls[1] = { sl };
	struct xlb_k8s_node_info ni = { "me", "z" };
	struct xlb_model_service *s;
	struct xlb_model_backend *b;
	struct tr r = { 0 };
	char key[XLB_K8S_KEY_LEN], name[XLB_SVC_NAME_LEN], name2[XLB_SVC_NAME_LEN];
	char longkey[300];

	r.rc = xlb_k8s_translate(sv, sls, 1, &ni, &r.m, &r.n_warn, r.err,
				 sizeof(r.err));
	ASSERT_EQ(r.rc, 0, "inline: translates");
	ASSERT_EQ(r.m.n_services, 1, "inline: SCTP port left out, UDP port kept");
	ASSERT_TRUE(r.n_warn >= 3, "inline: SCTP, bad external IP and bad endpoint address counted as warnings (%zu)",
		    r.n_warn);
	s = svc(&r, "ns/aff:dns/udp");
	if (s) {
		ASSERT_EQ(s->affinity_timeout, 300, "inline: ClientIP affinity timeout");
		ASSERT_TRUE(s->n_external_ips == 1 &&
				    addr_is(&s->external_ips[0], "192.0.2.1"),
			    "inline: external IPs of the Service's family only");
		ASSERT_TRUE(s->n_lb_ips == 1 && addr_is(&s->lb_ips[0], "198.51.100.2"),
			    "inline: ipMode Proxy and hostname-only ingresses left out");
		ASSERT_TRUE(s->n_source_ranges == 1 && s->source_ranges[0].len == 24,
			    "inline: source ranges trimmed, of the family");
		b = be(s, "10.1.0.1", 5353);
		ASSERT_TRUE(b && b->weight == 1 && b->local,
			    "inline: PreferSameNode: our node's endpoint takes new flows (targetPort from the slice)");
		b = be(s, "10.1.0.2", 5353);
		ASSERT_TRUE(b && b->weight == 0 && b->state == XLB_BE_ACTIVE,
			    "inline: PreferSameNode: another node's endpoint has weight 0");
		b = be(s, "10.1.0.3", 5353);
		ASSERT_TRUE(b && b->state == XLB_BE_TERMINATING && !b->serving,
			    "inline: not ready, not terminating -> no new flows even in the fallback");
		b = be(s, "10.1.0.4", 5353);
		ASSERT_TRUE(b && b->state == XLB_BE_TERMINATING && !b->serving,
			    "inline: terminating, not serving -> not in the fallback");
		ASSERT_EQ(s->n_backends, 4, "inline: bad address left out");
	}
	xlb_model_free(&r.m);
	cJSON_Delete(sv);
	cJSON_Delete(sl);

	sl = cJSON_Parse(slice_json);
	ASSERT_TRUE(!xlb_k8s_slice_service_key(sl, key, sizeof(key)) &&
			    !strcmp(key, "ns/aff"),
		    "slice key: the kubernetes.io/service-name label, in its namespace");
	cJSON_Delete(sl);
	memset(longkey, 'a', 250);
	longkey[250] = '\0';
	longkey[3] = '/';
	xlb_k8s_svc_name(name, longkey, "http", "tcp", 0);
	longkey[200] = 'b';
	xlb_k8s_svc_name(name2, longkey, "http", "tcp", 0);
	ASSERT_TRUE(strlen(name) == XLB_SVC_NAME_LEN - 1 && strcmp(name, name2),
		    "long names are cut to fit and stay apart (%s, %s)", name, name2);
}

/* Every field of the API's round-trip objects (placeholder values). */
static void test_api_testdata(void)
{
	static const char *const ver[] = { "HEAD", "v1.36.0" };
	int i;

	for (i = 0; i < 2; i++) {
		char p[128];
		cJSON *sv, *sl, *spec, *port, *ep, *ing;
		const cJSON *sls[1];
		struct xlb_k8s_node_info ni = { "nodeNameValue", "nameValue" };
		struct xlb_model_service *s;
		struct tr r = { 0 };

		snprintf(p, sizeof(p), "api-testdata/%s-core.v1.Service.json", ver[i]);
		sv = load(p);
		snprintf(p, sizeof(p), "api-testdata/%s-discovery.k8s.io.v1.EndpointSlice.json", ver[i]);
		sl = load(p);
		sls[0] = sl;
		r.rc = xlb_k8s_translate(sv, sls, 1, &ni, &r.m, &r.n_warn, r.err,
					 sizeof(r.err));
		ASSERT_TRUE(r.rc == -EINVAL && strstr(r.err, "clusterIP \"clusterIPsValue\""),
			    "%s api-testdata: placeholder cluster IP rejected, naming field and value (%s)",
			    ver[i], r.err);
		xlb_model_free(&r.m);
		/* Make the placeholders valid where the agent needs them;
		 * every other field stays as the API fixture has it. */
		spec = cJSON_GetObjectItem(sv, "spec");
		cJSON_ReplaceItemInObject(spec, "clusterIPs", cJSON_Parse("[\"10.96.0.3\"]"));
		cJSON_ReplaceItemInObject(spec, "clusterIP", cJSON_CreateString("10.96.0.3"));
		cJSON_ReplaceItemInObject(spec, "type", cJSON_CreateString("LoadBalancer"));
		cJSON_ReplaceItemInObject(spec, "externalTrafficPolicy", cJSON_CreateString("Local"));
		cJSON_ReplaceItemInObject(spec, "sessionAffinity", cJSON_CreateString("ClientIP"));
		cJSON_ReplaceItemInObject(spec, "trafficDistribution", cJSON_CreateString("PreferClose"));
		port = cJSON_GetArrayItem(cJSON_GetObjectItem(spec, "ports"), 0);
		cJSON_ReplaceItemInObject(port, "protocol", cJSON_CreateString("TCP"));
		ing = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
				cJSON_GetObjectItem(sv, "status"), "loadBalancer"), "ingress"), 0);
		cJSON_ReplaceItemInObject(ing, "ip", cJSON_CreateString("198.51.100.3"));
		cJSON_ReplaceItemInObject(sl, "addressType", cJSON_CreateString("IPv4"));
		cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(sl, "ports"), 0),
					  "protocol", cJSON_CreateString("TCP"));
		ep = cJSON_GetArrayItem(cJSON_GetObjectItem(sl, "endpoints"), 0);
		cJSON_ReplaceItemInObject(ep, "addresses", cJSON_Parse("[\"10.244.0.3\"]"));
		r.rc = xlb_k8s_translate(sv, sls, 1, &ni, &r.m, &r.n_warn, r.err,
					 sizeof(r.err));
		ASSERT_EQ(r.rc, 0, "%s api-testdata: every field accepted", ver[i]);
		s = r.m.n_services == 1 ? &r.m.services[0] : NULL;
		ASSERT_TRUE(s && !strcmp(s->name, "namespaceValue/nameValue:nameValue/tcp"),
			    "%s api-testdata: one service named from metadata and port",
			    ver[i]);
		if (s) {
			ASSERT_TRUE(ntohs(s->vip.port) == 3 && s->node_port == 5 &&
					    s->affinity_timeout == 1 &&
					    s->external_local && !s->internal_local,
				    "%s api-testdata: port 3, nodePort 5, affinity 1 s, external Local",
				    ver[i]);
			ASSERT_TRUE(s->n_lb_ips == 1 && s->n_external_ips == 0 &&
					    s->n_source_ranges == 0,
				    "%s api-testdata: ingress IP kept (ipMode not Proxy); placeholder external IP and range left out",
				    ver[i]);
			ASSERT_TRUE(s->n_backends == 1 &&
					    ntohs(s->backends[0].port) == 3 &&
					    s->backends[0].state == XLB_BE_ACTIVE &&
					    s->backends[0].local &&
					    s->backends[0].weight == 1,
				    "%s api-testdata: ready+serving+terminating endpoint is ready, local, hinted for our zone",
				    ver[i]);
		}
		ASSERT_TRUE(r.n_warn >= 2, "%s api-testdata: bad placeholders counted (%zu)",
			    ver[i], r.n_warn);
		xlb_model_free(&r.m);
		cJSON_Delete(sv);
		cJSON_Delete(sl);
	}
}

/* ---- client pieces -------------------------------------------------------- */

struct lines {
	char *all;
	size_t len;
	int n;
};

static int collect(char *line, size_t len, void *ctx)
{
	struct lines *l = ctx;

	l->all = realloc(l->all, l->len + len + 2);
	memcpy(l->all + l->len, line, len);
	l->len += len;
	l->all[l->len++] = '\n';
	l->all[l->len] = '\0';
	l->n++;
	return 0;
}

static void test_linebuf(void)
{
	char path[PATH_MAX + 64], *text;
	size_t len, split, bad = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/watch/a-add-modify-delete.jsonl", fixdir);
	f = fopen(path, "r");
	if (!f) {
		TEST_FAIL("open %s", path);
		return;
	}
	text = calloc(1, 1 << 16);
	len = fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	/* Every two-way split, and 7-byte chunks. */
	for (split = 0; split <= len; split++) {
		struct xlb_linebuf lb = { 0 };
		struct lines l = { 0 };

		xlb_linebuf_feed(&lb, text, split, collect, &l);
		xlb_linebuf_feed(&lb, text + split, len - split, collect, &l);
		if (l.n != 5 || l.len != len || memcmp(l.all, text, len))
			bad++;
		free(l.all);
		xlb_linebuf_free(&lb);
	}
	ASSERT_EQ(bad, 0, "line buffer: 5 events whole at every one of %zu split points", len + 1);
	{
		struct xlb_linebuf lb = { 0 };
		struct lines l = { 0 };
		size_t i;
		int ok = 1;

		for (i = 0; i < len; i += 7)
			xlb_linebuf_feed(&lb, text + i, len - i < 7 ? len - i : 7,
					 collect, &l);
		ok = l.n == 5 && l.len == len && !memcmp(l.all, text, len);
		for (i = 0; ok && i < 5; i++) {
			/* each line is a whole JSON event */
			char *s = l.all, *nl;
			size_t k;
			cJSON *j;

			for (k = 0; k < i; k++)
				s = strchr(s, '\n') + 1;
			nl = strchr(s, '\n');
			*nl = '\0';
			j = cJSON_Parse(s);
			ok = j && cJSON_GetObjectItem(j, "type");
			cJSON_Delete(j);
			*nl = '\n';
		}
		ASSERT_TRUE(ok, "line buffer: 7-byte chunks give 5 parseable events");
		free(l.all);
		xlb_linebuf_free(&lb);
	}
	free(text);
}

static void test_kubeconfig(void)
{
	char dir[] = "/tmp/xlb-kc-XXXXXX", path[PATH_MAX], err[512] = "";
	struct xlb_k8s_auth a;
	FILE *f;
	int rc;

	if (!mkdtemp(dir)) {
		TEST_FAIL("mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	/* base64 of "CA-PEM\n" and "CERT" */
	fputs("apiVersion: v1\nkind: Config\n"
	      "clusters:\n"
	      "- name: other\n  cluster:\n    server: https://10.0.0.1:6443\n"
	      "- name: kind\n  cluster:\n    server: https://127.0.0.1:6443/\n"
	      "    certificate-authority-data: Q0EtUEVNCg==\n"
	      "contexts:\n"
	      "- name: a\n  context:\n    cluster: other\n    user: u1\n"
	      "- name: b\n  context:\n    cluster: kind\n    user: u2\n"
	      "current-context: b\n"
	      "users:\n"
	      "- name: u1\n  user:\n    token: wrong\n"
	      "- name: u2\n  user:\n    client-certificate-data: Q0VSVA==\n"
	      "    client-key: keys/u2.key\n    tokenFile: tok\n", f);
	fclose(f);
	rc = xlb_k8s_kubeconfig_load(path, &a, err, sizeof(err));
	ASSERT_EQ(rc, 0, "kubeconfig: loads (%s)", err);
	if (!rc) {
		char want[PATH_MAX];

		ASSERT_TRUE(!strcmp(a.server, "https://127.0.0.1:6443"),
			    "kubeconfig: server of the current context's cluster (%s)",
			    a.server);
		ASSERT_TRUE(a.ca_data && a.ca_len == 7 &&
				    !memcmp(a.ca_data, "CA-PEM\n", 7),
			    "kubeconfig: certificate-authority-data decoded");
		ASSERT_TRUE(a.cert_data && a.cert_len == 4 &&
				    !memcmp(a.cert_data, "CERT", 4),
			    "kubeconfig: client-certificate-data decoded");
		snprintf(want, sizeof(want), "%s/keys/u2.key", dir);
		ASSERT_TRUE(a.key_file && !strcmp(a.key_file, want),
			    "kubeconfig: relative client-key resolved against the file's directory");
		snprintf(want, sizeof(want), "%s/tok", dir);
		ASSERT_TRUE(a.token_file && !strcmp(a.token_file, want) && !a.token,
			    "kubeconfig: tokenFile of the current user, not another user's token");
		ASSERT_TRUE(!a.insecure, "kubeconfig: TLS verification on by default");
		xlb_k8s_auth_free(&a);
	}
	f = fopen(path, "w");
	fputs("current-context: nope\ncontexts: []\n", f);
	fclose(f);
	rc = xlb_k8s_kubeconfig_load(path, &a, err, sizeof(err));
	ASSERT_TRUE(rc == -EINVAL && strstr(err, "current-context \"nope\": no such context"),
		    "kubeconfig: a missing context is named (%s)", err);
	f = fopen(path, "w");
	fputs("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
	      "clusters:\n- name: k\n  cluster: {server: 'https://h:1', insecure-skip-tls-verify: true}\n"
	      "users:\n- name: u\n  user: {token: abc}\n", f);
	fclose(f);
	rc = xlb_k8s_kubeconfig_load(path, &a, err, sizeof(err));
	ASSERT_TRUE(!rc && a.insecure && a.token && !strcmp(a.token, "abc"),
		    "kubeconfig: flow style, insecure-skip-tls-verify and token");
	if (!rc)
		xlb_k8s_auth_free(&a);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char exe[PATH_MAX];
	ssize_t n;

	/* build/selftests/test_k8s_translate -> selftests/k8s/fixtures */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (getenv("XLB_K8S_FIXTURES"))
		snprintf(fixdir, sizeof(fixdir), "%s", getenv("XLB_K8S_FIXTURES"));
	else
		snprintf(fixdir, sizeof(fixdir), "%s/../../selftests/k8s/fixtures",
			 dirname(exe));

	test_headless();
	test_nodeport();
	test_dualstack();
	test_multiple_slices();
	test_graceful();
	test_trafficpolicy();
	test_source_ranges();
	test_topology();
	test_inline();
	test_api_testdata();
	test_linebuf();
	test_kubeconfig();
	return test_done();
}
