// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The extraction of Kubernetes objects (user/k8s/object.c): every field
 * the cache keeps, with kube-proxy's defaults, read after the JSON was
 * freed (the compact object must own all it points to). What the
 * fields turn into is test_k8s_translate's; here, that each is read,
 * defaulted and range-checked as it should be.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s_object.h"
#include "util.h"
#include "testlib.h"

static const char *astr(const union xlb_addr *a, __u8 family)
{
	static char buf[4][XLB_ADDR_STRLEN];
	static int i;

	return xlb_addr_str(a, family, buf[i++ % 4]);
}

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (!j)
		TEST_FAIL("parse %.60s", text);
	return j;
}

/* Extracts from the JSON text, the JSON freed at once: what is read
 * after points into the extracted object only. */
static int svc_of(const char *text, struct xlb_k8s_svc **out)
{
	cJSON *j = parse(text);
	int rc = j ? xlb_k8s_svc_extract(j, out) : -EINVAL;

	cJSON_Delete(j);
	return rc;
}

static int slice_of(const char *text, struct xlb_k8s_slice **out)
{
	cJSON *j = parse(text);
	int rc = j ? xlb_k8s_slice_extract(j, out) : -EINVAL;

	cJSON_Delete(j);
	return rc;
}

static void test_service(void)
{
	static const char text[] =
		"{\"metadata\": {\"name\": \"web\", \"namespace\": \"ns\", \"resourceVersion\": \"42\","
		"  \"annotations\": {\"service.kubernetes.io/topology-mode\": \"Auto\"}},"
		" \"spec\": {\"type\": \"LoadBalancer\", \"clusterIP\": \"10.96.0.1\","
		"  \"clusterIPs\": [\"10.96.0.1\", \"10.96.0.2\", \"fd00::1\"],"
		"  \"externalTrafficPolicy\": \"Local\", \"internalTrafficPolicy\": \"Cluster\","
		"  \"healthCheckNodePort\": 31000, \"sessionAffinity\": \"ClientIP\","
		"  \"externalIPs\": [\"192.0.2.1\", \"nope\", 7],"
		"  \"loadBalancerSourceRanges\": [\" 203.0.113.0/24 \", \"10.0.0.0/33\", \"2001:db8::/32\"],"
		"  \"ports\": [{\"name\": \"http\", \"port\": 80, \"targetPort\": 8080, \"nodePort\": 30080},"
		"             {\"port\": 53, \"protocol\": \"UDP\", \"nodePort\": 70000},"
		"             {\"name\": \"s\", \"port\": 9, \"protocol\": \"SCTP\"},"
		"             {\"name\": \"big\", \"port\": 65536}]},"
		" \"status\": {\"loadBalancer\": {\"ingress\": ["
		"  {\"ip\": \"198.51.100.1\", \"ipMode\": \"Proxy\"}, {\"hostname\": \"lb.example\"},"
		"  {\"ip\": \"198.51.100.2\", \"ipMode\": \"VIP\"}, {\"ip\": \"bad\"}]}}}";
	struct xlb_k8s_svc *s;

	if (!ASSERT_OK(svc_of(text, &s), "service: extracted"))
		return;
	ASSERT_STREQ(s->key, "ns/web", "service: key namespace/name");
	ASSERT_STREQ(s->rv, "42", "service: resourceVersion");
	ASSERT_STREQ(s->skip, NULL, "service: programmed");
	ASSERT_STREQ(s->bad_cip, NULL, "service: cluster IPs parse");
	/* one per family: the second IPv4 is not a family of its own */
	if (ASSERT_EQ(s->n_cips, 2, "service: two cluster IPs")) {
		ASSERT_STREQ(astr(&s->cips[0], s->cfams[0]), "10.96.0.1",
			     "service: IPv4 cluster IP");
		ASSERT_STREQ(astr(&s->cips[1], s->cfams[1]), "fd00::1",
			     "service: IPv6 cluster IP, the repeated family skipped");
	}
	ASSERT_EQ(s->external_local, 1, "service: externalTrafficPolicy Local");
	ASSERT_EQ(s->internal_local, 0, "service: internalTrafficPolicy Cluster");
	ASSERT_EQ(s->hc_port, 31000, "service: healthCheckNodePort");
	ASSERT_EQ(s->affinity_timeout, 10800, "service: ClientIP without a timeout: kube-proxy's 3 h");
	ASSERT_EQ(s->topo, 1, "service: topology-mode annotation Auto: zone hints");
	if (ASSERT_EQ(s->n_ports, 4, "service: every port kept (the translation warns)")) {
		ASSERT_STREQ(s->ports[0].name, "http", "service: port name");
		ASSERT_EQ(s->ports[0].ipproto, IPPROTO_TCP, "service: protocol defaults to TCP");
		ASSERT_EQ(s->ports[0].num, 80, "service: port number");
		ASSERT_EQ(s->ports[0].node_port, 30080, "service: nodePort");
		ASSERT_STREQ(s->ports[1].name, NULL, "service: unnamed port");
		ASSERT_EQ(s->ports[1].ipproto, IPPROTO_UDP, "service: UDP port");
		ASSERT_EQ(s->ports[1].node_port, 0, "service: nodePort out of range: none");
		ASSERT_EQ(s->ports[2].ipproto, 0, "service: SCTP not taken");
		ASSERT_STREQ(s->ports[2].bad_proto, "SCTP", "service: SCTP kept for the warning");
		ASSERT_EQ(s->ports[3].num, 0, "service: port 65536: no valid number");
	}
	if (ASSERT_EQ(s->n_external_ips, 3, "service: external IPs")) {
		ASSERT_STREQ(astr(&s->external_ips[0].a.addr, XLB_AF_INET), "192.0.2.1",
			     "service: external IP");
		ASSERT_STREQ(s->external_ips[1].text, "nope", "service: bad external IP as written");
		ASSERT_STREQ(s->external_ips[2].text, "?", "service: external IP not a string");
		ASSERT_EQ(s->external_ips[1].a.family, 0, "service: bad external IP has no family");
	}
	/* Proxy mode and hostname-only ingresses left out */
	if (ASSERT_EQ(s->n_lb_ips, 2, "service: LB ingress IPs")) {
		ASSERT_STREQ(astr(&s->lb_ips[0].a.addr, XLB_AF_INET), "198.51.100.2",
			     "service: ipMode VIP ingress kept");
		ASSERT_STREQ(s->lb_ips[1].text, "bad", "service: bad ingress IP as written");
	}
	if (ASSERT_EQ(s->n_source_ranges, 3, "service: source ranges")) {
		ASSERT_EQ(s->source_ranges[0].a.len, 24, "service: range trimmed, /24");
		ASSERT_STREQ(s->source_ranges[1].text, "10.0.0.0/33",
			     "service: /33 not a CIDR, kept as written");
		ASSERT_EQ(s->source_ranges[2].a.family, XLB_AF_INET6, "service: IPv6 range");
	}
	xlb_k8s_svc_free(s);
}

static void test_service_variants(void)
{
	struct xlb_k8s_svc *s;

	if (ASSERT_OK(svc_of("{\"metadata\": {\"name\": \"a\", \"namespace\": \"n\"},"
			     " \"spec\": {\"clusterIP\": \"None\", \"ports\": [{\"port\": 80}]}}",
			     &s), "headless: extracted")) {
		ASSERT_STREQ(s->skip, "headless (clusterIP None)", "headless: skip reason");
		ASSERT_EQ(s->n_ports, 0, "headless: nothing else kept");
		ASSERT_STREQ(s->rv, "", "no resourceVersion: empty");
		xlb_k8s_svc_free(s);
	}
	if (ASSERT_OK(svc_of("{\"metadata\": {\"name\": \"a\", \"namespace\": \"n\","
			     "  \"labels\": {\"service.kubernetes.io/service-proxy-name\": \"other\"}},"
			     " \"spec\": {\"clusterIP\": \"10.0.0.1\"}}", &s),
		      "other proxy: extracted")) {
		ASSERT_TRUE(s->skip != NULL, "other proxy: skipped");
		xlb_k8s_svc_free(s);
	}
	if (ASSERT_OK(svc_of("{\"metadata\": {\"name\": \"a\"},"
			     " \"spec\": {\"clusterIP\": \"10.0.0.1\", \"clusterIPs\": [\"10.0.0.1\", \"x\"],"
			     "  \"sessionAffinity\": \"ClientIP\","
			     "  \"sessionAffinityConfig\": {\"clientIP\": {\"timeoutSeconds\": 60}},"
			     "  \"trafficDistribution\": \"PreferSameNode\","
			     "  \"healthCheckNodePort\": 0}}", &s),
		      "bad second cluster IP: extracted")) {
		ASSERT_STREQ(s->key, "/a", "no namespace: key /name");
		ASSERT_STREQ(s->bad_cip, "x", "bad second cluster IP: kept for the error");
		ASSERT_EQ(s->affinity_timeout, 60, "affinity timeout given");
		ASSERT_EQ(s->topo, 2, "PreferSameNode: node hints too");
		ASSERT_EQ(s->hc_port, 0, "healthCheckNodePort 0: none");
		xlb_k8s_svc_free(s);
	}
	if (ASSERT_OK(svc_of("{\"metadata\": {\"name\": \"a\", \"annotations\":"
			     "  {\"service.kubernetes.io/topology-aware-hints\": \"disabled\"}},"
			     " \"spec\": {\"clusterIP\": \"10.0.0.1\"}}", &s),
		      "hints disabled: extracted")) {
		ASSERT_EQ(s->topo, 0, "topology-aware-hints disabled: none");
		ASSERT_EQ(s->affinity_timeout, 0, "no affinity");
		xlb_k8s_svc_free(s);
	}
	s = (void *)1;
	ASSERT_EQ(svc_of("{\"metadata\": {\"namespace\": \"n\"}, \"spec\": {}}", &s),
		  -EINVAL, "no name: refused");
	ASSERT_TRUE(s == NULL, "no name: nothing returned");
}

static void test_slice(void)
{
	static const char text[] =
		"{\"metadata\": {\"name\": \"web-1\", \"namespace\": \"ns\", \"resourceVersion\": \"7\","
		"  \"labels\": {\"kubernetes.io/service-name\": \"web\"}},"
		" \"addressType\": \"IPv6\","
		" \"ports\": [{\"name\": \"http\", \"port\": 8080}, {\"port\": 53, \"protocol\": \"UDP\"},"
		"            {\"name\": \"s\", \"port\": 9, \"protocol\": \"SCTP\"}, {\"name\": \"z\", \"port\": 0}],"
		" \"endpoints\": ["
		"  {\"addresses\": [\"fd00::1\", \"fd00::99\"], \"nodeName\": \"n1\","
		"   \"hints\": {\"forZones\": [{\"name\": \"a\"}, {\"name\": \"b\"}], \"forNodes\": [{}]}},"
		"  {\"addresses\": [\"fd00::2\"], \"conditions\": {\"ready\": false}},"
		"  {\"addresses\": [\"fd00::3\"], \"conditions\": {\"ready\": false, \"serving\": true, \"terminating\": true}},"
		"  {\"addresses\": [\"10.0.0.1\"]}, {\"addresses\": []}, {\"addresses\": [\"x\"]}]}";
	struct xlb_k8s_slice *s;
	const struct xlb_k8s_ep *e;

	if (!ASSERT_OK(slice_of(text, &s), "slice: extracted"))
		return;
	ASSERT_STREQ(s->key, "ns/web-1", "slice: key");
	ASSERT_STREQ(s->rv, "7", "slice: resourceVersion");
	ASSERT_STREQ(s->svc_key, "ns/web", "slice: its Service, from the label");
	ASSERT_EQ(s->family, XLB_AF_INET6, "slice: addressType IPv6");
	if (ASSERT_EQ(s->n_ports, 4, "slice: ports")) {
		ASSERT_STREQ(s->ports[0].name, "http", "slice: port name");
		ASSERT_EQ(s->ports[0].num, 8080, "slice: port number");
		ASSERT_EQ(s->ports[0].ipproto, IPPROTO_TCP, "slice: protocol defaults to TCP");
		ASSERT_STREQ(s->ports[1].name, NULL, "slice: unnamed port");
		ASSERT_EQ(s->ports[1].ipproto, IPPROTO_UDP, "slice: UDP");
		ASSERT_EQ(s->ports[2].ipproto, 0, "slice: SCTP matches no Service port");
		ASSERT_EQ(s->ports[3].num, 0, "slice: port 0: none");
	}
	if (!ASSERT_EQ(s->n_eps, 6, "slice: endpoints"))
		goto out;
	e = &s->eps[0];
	ASSERT_STREQ(astr(&e->addr, XLB_AF_INET6), "fd00::1", "slice: the first address only");
	ASSERT_STREQ(e->bad_addr, NULL, "slice: good address");
	ASSERT_EQ(e->ready, 1, "slice: ready by default");
	ASSERT_EQ(e->serving, 1, "slice: serving defaults to ready");
	ASSERT_EQ(e->terminating, 0, "slice: not terminating by default");
	ASSERT_STREQ(e->node, "n1", "slice: nodeName");
	if (ASSERT_TRUE(e->hints != NULL, "slice: hints kept")) {
		ASSERT_EQ(e->hints->zones.n, 2, "slice: zone hints");
		if (e->hints->zones.n == 2)
			ASSERT_STREQ(e->hints->zones.names[1], "b", "slice: zone hint name");
		ASSERT_EQ(e->hints->zones.any, 1, "slice: zone hints given");
		ASSERT_EQ(e->hints->nodes.n, 0, "slice: a node hint without a name");
		ASSERT_EQ(e->hints->nodes.any, 1, "slice: ... still counts as hinted");
	}
	e = &s->eps[1];
	ASSERT_EQ(e->ready, 0, "slice: not ready");
	ASSERT_EQ(e->serving, 0, "slice: serving defaults to ready (false)");
	ASSERT_STREQ(e->node, NULL, "slice: no nodeName");
	ASSERT_TRUE(e->hints == NULL, "slice: no hints");
	e = &s->eps[2];
	ASSERT_EQ(e->serving, 1, "slice: serving while terminating");
	ASSERT_EQ(e->terminating, 1, "slice: terminating");
	ASSERT_STREQ(s->eps[3].bad_addr, "10.0.0.1", "slice: an IPv4 address in an IPv6 slice");
	ASSERT_STREQ(s->eps[4].bad_addr, "(missing)", "slice: no address");
	ASSERT_STREQ(s->eps[5].bad_addr, "x", "slice: not an address");
out:
	xlb_k8s_slice_free(s);
}

static void test_slice_variants(void)
{
	struct xlb_k8s_slice *s;

	if (ASSERT_OK(slice_of("{\"metadata\": {\"name\": \"f\", \"namespace\": \"ns\"},"
			       " \"addressType\": \"FQDN\","
			       " \"endpoints\": [{\"addresses\": [\"a.example\"]}]}", &s),
		      "FQDN slice: extracted")) {
		ASSERT_EQ(s->family, 0, "FQDN slice: no family");
		ASSERT_EQ(s->n_eps, 0, "FQDN slice: its endpoints are never used, not kept");
		ASSERT_STREQ(s->svc_key, NULL, "slice without the service-name label: no Service");
		xlb_k8s_slice_free(s);
	}
	s = (void *)1;
	ASSERT_EQ(slice_of("{\"metadata\": {\"name\": \"\"}}", &s), -EINVAL,
		  "slice with an empty name: refused");
	ASSERT_TRUE(s == NULL, "slice with an empty name: nothing returned");
}

static void test_node(void)
{
	cJSON *j = cJSON_Parse("{\"metadata\": {\"name\": \"n1\", \"labels\":"
			       " {\"topology.kubernetes.io/zone\": \"z1\"}}}");
	struct xlb_k8s_node *n;

	if (ASSERT_OK(xlb_k8s_node_extract(j, &n), "node: extracted")) {
		cJSON_Delete(j);
		j = NULL;
		ASSERT_STREQ(n->zone, "z1", "node: zone label");
		xlb_k8s_node_free(n);
	}
	cJSON_Delete(j);
	j = cJSON_Parse("{\"metadata\": {\"name\": \"n1\", \"labels\":"
			" {\"topology.kubernetes.io/zone\": \"\"}}}");
	if (ASSERT_OK(xlb_k8s_node_extract(j, &n), "node, empty zone: extracted")) {
		ASSERT_STREQ(n->zone, NULL, "node: an empty zone is none");
		xlb_k8s_node_free(n);
	}
	cJSON_Delete(j);
}

int main(void)
{
	test_service();
	test_service_variants();
	test_slice();
	test_slice_variants();
	test_node();
	return test_done();
}
