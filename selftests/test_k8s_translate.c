// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kubernetes objects -> model, on the fixture objects under
 * selftests/k8s/fixtures (real object shapes), plus the pieces of the
 * client that need no server: the watch line buffer on every split of
 * a real event stream, and kubeconfig parsing.
 *
 * Each scenario's expected model is data: the expected*.json next to its
 * objects, in xlb's own config format. The test translates, writes the
 * model with config_write and compares the text; the C asserts are left
 * for what a model cannot say (warnings, skip reasons, error messages).
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

#include "config.h"
#include "config_write.h"
#include "k8s_client.h"
#include "k8s_translate.h"
#include "util.h"
#include "testlib.h"

static char fixdir[PATH_MAX];

/* The text of fixture rel, or NULL (a failure counted) if unreadable. */
static char *read_text(const char *rel, bool must)
{
	char path[PATH_MAX + 256], *buf;
	long len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fixdir, rel);
	f = fopen(path, "r");
	if (!f) {
		if (must)
			TEST_FAIL("open fixture %s: %s", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, len + 1);
	if (fread(buf, 1, len, f) != (size_t)len)
		TEST_FAIL("read fixture %s", path);
	fclose(f);
	return buf;
}

static cJSON *load(const char *rel)
{
	char *buf = read_text(rel, true);
	cJSON *j = buf ? cJSON_Parse(buf) : NULL;

	free(buf);
	if (!j) {
		TEST_FAIL("parse fixture %s", rel);
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

/* Translates a Service and up to 3 slices (NULL-terminated), files of
 * scenario dir. */
static struct tr run(const char *dir, const char *svc, const char *node,
		     const char *zone, const char *const slices[3])
{
	const cJSON *sl[3];
	struct xlb_k8s_node_info ni = { node, zone };
	char path[512];
	cJSON *sv, *owned[3] = { 0 };
	struct tr r = { 0 };
	size_t n = 0, i;

	snprintf(path, sizeof(path), "scenarios/%s/%s", dir, svc);
	sv = load(path);
	for (i = 0; i < 3 && slices[i]; i++) {
		snprintf(path, sizeof(path), "scenarios/%s/%s", dir, slices[i]);
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

/* The address a as text, for ASSERT_STREQ. */
static const char *astr(const union xlb_addr *a, __u8 family)
{
	static char buf[4][XLB_ADDR_STRLEN];
	static int k;

	k = (k + 1) % 4;
	return xlb_addr_str(a, family, buf[k]);
}

/* ---- scenarios: translation compared with its golden ------------------- */

/*
 * One translation of a scenario's objects and the model it must give.
 * golden names scenarios/<dir>/expected<golden>.json: "" for the
 * directory's main case, ".<case>" for the others. The comment says what
 * the golden shows, so a reader finds it without running anything.
 */
struct scenario {
	const char *dir, *golden;
	const char *svc, *node, *zone;
	const char *slices[3];
};

static const struct scenario scenarios[] = {
	/* one service test/echo:http/tcp on 1.1.1.1, its one endpoint */
	{ "headless", "", "Service-echo.json", "n", NULL,
	  { "EndpointSlice-echo-kvlm2.json" } },
	/* clusterIP None and the headless label: skipped, no services */
	{ "headless", ".clusterip-none", "Service-echo.clusterip-none.json",
	  "n", NULL, { "EndpointSlice-echo-kvlm2.json" } },
	{ "headless", ".headless-label", "Service-echo.headless-label.json",
	  "n", NULL, { "EndpointSlice-echo-kvlm2.json" } },
	/* node_port 30781, 10.96.50.104:80/tcp; the 4 endpoints of the slice
	 * whose port name matches, ready without conditions, the 2 on
	 * nodeport-worker local */
	{ "nodeport", "", "Service-echo.json", "nodeport-worker", NULL,
	  { "EndpointSlice-echo-kvlm2.json",
	    "EndpointSlice-echo-another.json" } },
	/* 2 ports x 2 families; v6 backends from the IPv6 slice only, the
	 * one on this node local; node ports 30181 and 32757 */
	{ "dualstack", "", "Service-echo-dualstack.json", "dual-stack-worker",
	  NULL, { "EndpointSlice-echo-dualstack-bhgnn.json",
		  "EndpointSlice-echo-dualstack-mchrt.json" } },
	/* 3 slices of one endpoint with 3 addresses each: the first address
	 * of each (kube-proxy uses the first only), 3 backends */
	{ "multiple-endpointslices", "", "Service-echo.json", "n", NULL,
	  { "EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json",
	    "EndpointSlice-echo-eps3.json" } },
	/* the same slice twice (as while a slice is replaced): 2 backends */
	{ "multiple-endpointslices", ".eps1-twice", "Service-echo.json", "n",
	  NULL, { "EndpointSlice-echo-eps1.json",
		  "EndpointSlice-echo-eps1.json",
		  "EndpointSlice-echo-eps2.json" } },
	/* an unnamed port named by number (8081/tcp); 2 ready backends */
	{ "graceful-termination", "", "Service-graceful-term-svc.json", "n",
	  NULL, { "EndpointSlice-graceful-term-svc-pg7nd.json" } },
	/* 10.244.0.112 ready=false, serving, terminating: terminating and
	 * serving; 10.244.0.113 stays active */
	{ "graceful-termination", ".terminating1",
	  "Service-graceful-term-svc.json", "n", NULL,
	  { "EndpointSlice-graceful-term-svc-pg7nd.terminating1.json" } },
	/* both terminating and serving: the fallback set */
	{ "graceful-termination", ".terminating2",
	  "Service-graceful-term-svc.json", "n", NULL,
	  { "EndpointSlice-graceful-term-svc-pg7nd.terminating2.json" } },
	/* both policies Local, LB ingress 1.1.1.1; the testnode endpoint
	 * local, the othernode one not */
	{ "trafficpolicy", "", "Service-echo.tp-local.json", "testnode", NULL,
	  { "EndpointSlice-echo-kvlm2.json" } },
	/* external Cluster, internal Local */
	{ "trafficpolicy", ".tp-mixed", "Service-echo.tp-mixed.json",
	  "testnode", NULL, { "EndpointSlice-echo-kvlm2.json" } },
	/* clusterIP alone (no clusterIPs) is the vip 10.0.0.1; source range
	 * 10.0.0.0/8; one LB ingress IP */
	{ "source-ranges", "", "Service-echo.json", "n", NULL,
	  { "EndpointSlice-echo-kvlm2.json" } },
	/* Cilium's src-ranges-policy deny annotation means nothing to
	 * kube-proxy: the same model */
	{ "source-ranges", ".deny", "Service-echo.deny.json", "n", NULL,
	  { "EndpointSlice-echo-kvlm2.json" } },
	/* external IP 10.0.0.3, LB IP 10.0.0.2, one source range */
	{ "external-ips", "", "Service-echo.json", "n", NULL,
	  { "EndpointSlice-echo-kvlm2.json" } },
	/* one service per port; https on node_port 30782 with the slice's
	 * https port (443), LB IP 172.16.1.1 */
	{ "loadbalancer-multiport", "", "Service-echo.json", "n", NULL,
	  { "EndpointSlice-echo-kvlm2.json" } },
	/* zone foo: only the endpoint hinted for foo (10.244.1.1) takes new
	 * flows; 10.244.2.1 stays active with weight 0 */
	{ "topology-aware", "", "Service-echo.json", "n", "foo",
	  { "EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json" } },
	/* zone quux: the quux endpoint, 10.244.1.1 weight 0 */
	{ "topology-aware", ".zone-quux", "Service-echo.json", "n", "quux",
	  { "EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json" } },
	/* no endpoint for zone baz, and a node without a zone label: all */
	{ "topology-aware", ".zone-baz", "Service-echo.json", "n", "baz",
	  { "EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json" } },
	{ "topology-aware", ".no-zone", "Service-echo.json", "n", NULL,
	  { "EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json" } },
	/* a Service without topology mode ignores hints: all */
	{ "topology-aware", ".no-topology", "Service-echo.no-topology.json",
	  "n", "foo",
	  { "EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json" } },
	/* trafficDistribution PreferClose honours zone hints, as in "" */
	{ "topology-aware", ".trafficDistribution",
	  "Service-echo.trafficDistribution.json", "n", "foo",
	  { "EndpointSlice-echo-eps1.json", "EndpointSlice-echo-eps2.json" } },
	/* one ready endpoint without hints disables them: all */
	{ "topology-aware", ".unhinted-endpoint", "Service-echo.json", "n",
	  "foo", { "EndpointSlice-echo-eps1.json",
		   "../multiple-endpointslices/EndpointSlice-echo-eps2.json" } },
	/* a terminating endpoint without hints does not disable them:
	 * 10.244.1.1 weight 1, 10.244.2.1 terminating and serving */
	{ "topology-aware-terminating", "", "Service-echo.json", "n", "foo",
	  { "EndpointSlice-echo-eps1.json",
	    "EndpointSlice-echo-eps2.terminating.json" } },
	/* all terminating: the fallback set, weights kept at 1 */
	{ "topology-aware-terminating", ".all-terminating", "Service-echo.json",
	  "n", "foo", { "EndpointSlice-echo-eps1.terminating.json",
			"EndpointSlice-echo-eps2.terminating.json" } },
};

/* Line n (from 1) of text, up to its newline, into buf. */
static const char *line_of(const char *text, int n, char *buf, size_t len)
{
	const char *end;

	while (text && --n > 0) {
		text = strchr(text, '\n');
		text = text ? text + 1 : NULL;
	}
	if (!text || !*text)
		return "(end of text)";
	end = strchrnul(text, '\n');
	snprintf(buf, len, "%.*s", (int)(end - text), text);
	return buf;
}

/* Whether line n or n + 1 of text holds s. */
static bool near_line(const char *text, int n, const char *s)
{
	char buf[256];

	return strstr(line_of(text, n, buf, sizeof(buf)), s) ||
	       strstr(line_of(text, n + 1, buf, sizeof(buf)), s);
}

/* The first line (from 1) at which two texts differ, 0 if none does. */
static int first_diff(const char *got, const char *want)
{
	int line = 1;
	size_t i;

	for (i = 0; got[i] == want[i]; i++) {
		if (!got[i])
			return 0;
		if (got[i] == '\n')
			line++;
	}
	return line;
}

/* Compares the model's text with golden rel; on a difference prints the
 * golden's and the model's lines around the first one. */
static bool golden_eq(const char *rel, const char *got)
{
	char *want = read_text(rel, true), buf[256];
	int d, i;

	if (!want)
		return false;
	d = first_diff(got, want);
	if (d) {
		printf("# %s: first difference at line %d (-golden +translated):\n",
		       rel, d);
		for (i = d > 3 ? d - 3 : 1; i < d; i++)
			printf("#  %s\n", line_of(want, i, buf, sizeof(buf)));
		/* Two lines each: a field added or dropped first shows as
		 * a comma on the line before it. */
		for (i = d; i < d + 2; i++)
			printf("# -%s\n", line_of(want, i, buf, sizeof(buf)));
		for (i = d; i < d + 2; i++)
			printf("# +%s\n", line_of(got, i, buf, sizeof(buf)));
		printf("# (XLB_UPDATE_GOLDEN=1 rewrites the goldens: see %s/README.md)\n",
		       fixdir);
	}
	free(want);
	return !d;
}

/* Rewrites golden rel with text (XLB_UPDATE_GOLDEN=1, by hand only). */
static void golden_update(const char *rel, const char *text)
{
	char path[PATH_MAX + 256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fixdir, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		TEST_FAIL("write golden %s: %s", path, strerror(errno));
		return;
	}
	printf("# updated %s\n", rel);
}

/* What the Kubernetes source programs, the file source must take too:
 * the model's text parses as a config and writes back the same. */
static void check_loadable(const char *rel, const char *text)
{
	struct xlb_model m;
	char err[256] = "", *again = NULL;

	if (!ASSERT_OK(xlb_config_parse(text, &m, err, sizeof(err)),
		       "%s is a config the file source takes (%s)", rel, err))
		return;
	if (ASSERT_OK(xlb_config_write(&m, &again, err, sizeof(err)),
		      "%s: parsed model written (%s)", rel, err))
		ASSERT_STREQ(again, text, "%s: parsed and written again, the same text",
			     rel);
	free(again);
	xlb_model_free(&m);
}

static void check_scenario(const struct scenario *c)
{
	const char *update = getenv("XLB_UPDATE_GOLDEN");
	char rel[256], err[256] = "", *text = NULL;
	struct tr r;
	size_t i;

	snprintf(rel, sizeof(rel), "scenarios/%s/expected%s.json", c->dir,
		 c->golden);
	r = run(c->dir, c->svc, c->node, c->zone, c->slices);
	ASSERT_OK(r.rc, "translates (%s)", r.err);
	ASSERT_EQ(r.n_warn, 0, "no warnings (%s)", r.err);
	for (i = 0; i < r.m.n_services; i++)
		ASSERT_EQ(r.m.services[i].source, XLB_K8S_SOURCE,
			  "%s: tagged as the Kubernetes source's",
			  r.m.services[i].name);
	if (ASSERT_OK(xlb_config_write(&r.m, &text, err, sizeof(err)),
		      "model written (%s)", err)) {
		if (update && !strcmp(update, "1"))
			golden_update(rel, text);
		ASSERT_TRUE(golden_eq(rel, text), "the model is %s", rel);
		check_loadable(rel, text);
	}
	free(text);
	xlb_model_free(&r.m);
}

static void test_scenarios(void)
{
	char name[80];	/* fits TEST_SUB's prefix */
	size_t i;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *c = &scenarios[i];

		snprintf(name, sizeof(name), "%s%s%s", c->dir,
			 c->golden[0] ? "/" : "", c->golden + !!c->golden[0]);
		if (TEST_SUB(name))
			check_scenario(c);
	}
	TEST_SUB_END();
}

/* A golden fails: the nodeport model with one field changed each time
 * differs from its golden, first at that field's line. */
static void test_golden_fails(void)
{
	static const char *const rel = "scenarios/nodeport/expected.json";
	static const char *const sl[3] = { "EndpointSlice-echo-kvlm2.json",
					   "EndpointSlice-echo-another.json" };
	static const struct {
		const char *what;
		const char *line;	/* in the first differing line */
		bool in_golden;		/* of the golden, else of the model */
	} alter[] = {
		{ "a backend's weight 0", "\"weight\":\t0", false },
		{ "a backend not serving", "\"serving\":\tfalse", false },
		{ "node_port + 1", "\"node_port\":\t30782", false },
		{ "the last backend dropped", "}, {", true },
	};
	char err[256] = "", *text, *want = read_text(rel, true);
	size_t k;

	for (k = 0; want && k < sizeof(alter) / sizeof(alter[0]); k++) {
		struct tr r = run("nodeport", "Service-echo.json",
				  "nodeport-worker", NULL, sl);
		struct xlb_model_service *s = r.m.n_services ? &r.m.services[0] : NULL;
		int d;

		if (!s || !ASSERT_EQ(s->n_backends, 4, "golden fails: the model to alter"))
			continue;
		if (k == 0)
			s->backends[1].weight = 0;
		else if (k == 1)
			s->backends[1].serving = 0;
		else if (k == 2)
			s->node_port++;
		else
			s->n_backends--;
		text = NULL;
		ASSERT_OK(xlb_config_write(&r.m, &text, err, sizeof(err)),
			  "golden fails: %s: written (%s)", alter[k].what, err);
		d = text ? first_diff(text, want) : 0;
		ASSERT_TRUE(d > 0, "golden fails: %s: the text differs", alter[k].what);
		ASSERT_TRUE(near_line(alter[k].in_golden ? want : text, d,
				      alter[k].line),
			    "golden fails: %s: first at line %d, at or just before its own",
			    alter[k].what, d);
		free(text);
		xlb_model_free(&r.m);
	}
	free(want);
}

/* What a model cannot say: why a Service is skipped. */
static void test_skip_reasons(void)
{
	cJSON *o = load("scenarios/headless/Service-echo.json");
	cJSON *meta = cJSON_GetObjectItem(o, "metadata");
	cJSON *spec = cJSON_GetObjectItem(o, "spec");
	cJSON *none = load("scenarios/headless/Service-echo.clusterip-none.json");
	cJSON *hl = load("scenarios/headless/Service-echo.headless-label.json");

	ASSERT_STREQ(xlb_k8s_svc_skip_reason(none), "headless (clusterIP None)",
		     "skip: clusterIP None");
	ASSERT_STREQ(xlb_k8s_svc_skip_reason(hl),
		     "headless (service.kubernetes.io/headless label)",
		     "skip: the headless label");
	ASSERT_STREQ(xlb_k8s_svc_skip_reason(o), NULL, "skip: normal Service kept");
	cJSON_ReplaceItemInObject(meta, "labels",
				  cJSON_Parse("{\"service.kubernetes.io/service-proxy-name\": \"other\"}"));
	ASSERT_STREQ(xlb_k8s_svc_skip_reason(o),
		     "handled by another proxy (service.kubernetes.io/service-proxy-name)",
		     "skip: another proxy's Service");
	cJSON_ReplaceItemInObject(meta, "labels",
				  cJSON_Parse("{\"service.kubernetes.io/service-proxy-name\": \"xlb\"}"));
	ASSERT_STREQ(xlb_k8s_svc_skip_reason(o), NULL, "skip: service-proxy-name xlb kept");
	cJSON_ReplaceItemInObject(spec, "type", cJSON_CreateString("ExternalName"));
	ASSERT_STREQ(xlb_k8s_svc_skip_reason(o), "type ExternalName", "skip: ExternalName");
	cJSON_ReplaceItemInObject(spec, "type", cJSON_CreateString("ClusterIP"));
	cJSON_DeleteItemFromObject(spec, "clusterIP");
	ASSERT_STREQ(xlb_k8s_svc_skip_reason(o), "no cluster IP", "skip: no cluster IP");
	cJSON_Delete(o);
	cJSON_Delete(none);
	cJSON_Delete(hl);
}

/* The backends of test_inline's Service: every field of each. */
static void inline_backends(struct xlb_model_service *s)
{
	static const struct {
		const char *ip, *why;
		int weight, state, serving, local;
	} want[] = {
		/* targetPort 5353 from the slice */
		{ "10.1.0.1", "PreferSameNode: our node's endpoint takes new flows",
		  1, XLB_BE_ACTIVE, 1, 1 },
		{ "10.1.0.2", "PreferSameNode: another node's endpoint has weight 0",
		  0, XLB_BE_ACTIVE, 1, 0 },
		{ "10.1.0.3", "not ready, not terminating: no new flows even in the fallback",
		  1, XLB_BE_TERMINATING, 0, 0 },
		{ "10.1.0.4", "terminating, not serving: not in the fallback",
		  1, XLB_BE_TERMINATING, 0, 0 },
	};
	struct xlb_model_backend *b;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		b = be(s, want[i].ip, 5353);
		if (!b)
			continue;
		ASSERT_EQ(b->weight, want[i].weight, "inline: %s: weight", want[i].why);
		ASSERT_EQ(b->state, want[i].state, "inline: %s: state", want[i].why);
		ASSERT_EQ(b->serving, want[i].serving, "inline: %s: serving", want[i].why);
		ASSERT_EQ(b->local, want[i].local, "inline: %s: local", want[i].why);
	}
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
		/* external IPs of the Service's family only */
		if (ASSERT_EQ(s->n_external_ips, 1, "inline: one external IP"))
			ASSERT_STREQ(astr(&s->external_ips[0], XLB_AF_INET),
				     "192.0.2.1", "inline: external IP of the Service's family");
		/* ipMode Proxy and hostname-only ingresses left out */
		if (ASSERT_EQ(s->n_lb_ips, 1, "inline: one LB IP"))
			ASSERT_STREQ(astr(&s->lb_ips[0], XLB_AF_INET), "198.51.100.2",
				     "inline: LB IP of the ipMode VIP ingress");
		/* trimmed, of the family */
		if (ASSERT_EQ(s->n_source_ranges, 1, "inline: one source range"))
			ASSERT_EQ(s->source_ranges[0].len, 24, "inline: source range /24");
		inline_backends(s);
		ASSERT_EQ(s->n_backends, 4, "inline: bad address left out");
	}
	xlb_model_free(&r.m);
	cJSON_Delete(sv);
	cJSON_Delete(sl);

	sl = cJSON_Parse(slice_json);
	if (ASSERT_OK(xlb_k8s_slice_service_key(sl, key, sizeof(key)),
		      "slice key: found"))
		ASSERT_STREQ(key, "ns/aff",
			     "slice key: the kubernetes.io/service-name label, in its namespace");
	cJSON_Delete(sl);
	memset(longkey, 'a', 250);
	longkey[250] = '\0';
	longkey[3] = '/';
	xlb_k8s_svc_name(name, longkey, "http", "tcp", 0);
	longkey[200] = 'b';
	xlb_k8s_svc_name(name2, longkey, "http", "tcp", 0);
	ASSERT_EQ(strlen(name), XLB_SVC_NAME_LEN - 1, "long names are cut to fit (%s)", name);
	ASSERT_TRUE(strcmp(name, name2) != 0, "long names stay apart (%s, %s)", name, name2);
}

/* The one service of the API's round-trip objects, made valid. */
static void api_testdata_service(const char *ver,
				 const struct xlb_model_service *s)
{
	const struct xlb_model_backend *b = s->backends;

	ASSERT_STREQ(s->name, "namespaceValue/nameValue:nameValue/tcp",
		     "%s api-testdata: named from metadata and port", ver);
	ASSERT_EQ(ntohs(s->vip.port), 3, "%s api-testdata: port 3", ver);
	ASSERT_EQ(s->node_port, 5, "%s api-testdata: nodePort 5", ver);
	ASSERT_EQ(s->affinity_timeout, 1, "%s api-testdata: affinity 1 s", ver);
	ASSERT_EQ(s->external_local, 1, "%s api-testdata: external Local", ver);
	ASSERT_EQ(s->internal_local, 0, "%s api-testdata: internal Cluster", ver);
	ASSERT_EQ(s->n_lb_ips, 1, "%s api-testdata: ingress IP kept (ipMode not Proxy)", ver);
	ASSERT_EQ(s->n_external_ips, 0, "%s api-testdata: placeholder external IP left out", ver);
	ASSERT_EQ(s->n_source_ranges, 0, "%s api-testdata: placeholder range left out", ver);
	/* ready+serving+terminating: ready, local, hinted for our zone */
	if (!ASSERT_EQ(s->n_backends, 1, "%s api-testdata: one backend", ver))
		return;
	ASSERT_EQ(ntohs(b->port), 3, "%s api-testdata: backend port 3", ver);
	ASSERT_EQ(b->state, XLB_BE_ACTIVE, "%s api-testdata: ready+serving+terminating endpoint is ready", ver);
	ASSERT_EQ(b->local, 1, "%s api-testdata: the endpoint is local", ver);
	ASSERT_EQ(b->weight, 1, "%s api-testdata: the endpoint is hinted for our zone", ver);
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
		ASSERT_EQ(r.rc, -EINVAL, "%s api-testdata: placeholder cluster IP rejected",
			  ver[i]);
		ASSERT_TRUE(strstr(r.err, "clusterIP \"clusterIPsValue\"") != NULL,
			    "%s api-testdata: the message names field and value (%s)",
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
		s = ASSERT_EQ(r.m.n_services, 1, "%s api-testdata: one service", ver[i]) ?
			    &r.m.services[0] : NULL;
		if (s)
			api_testdata_service(ver[i], s);
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
		int parsed = 0;

		for (i = 0; i < len; i += 7)
			xlb_linebuf_feed(&lb, text + i, len - i < 7 ? len - i : 7,
					 collect, &l);
		ASSERT_EQ(l.n, 5, "line buffer: 7-byte chunks give 5 lines");
		if (ASSERT_EQ(l.len, len, "line buffer: 7-byte chunks give every byte"))
			ASSERT_MEM_EQ(l.all, text, len, "line buffer: 7-byte chunks give the stream as it was");
		for (i = 0; l.n == 5 && i < 5; i++) {
			/* each line is a whole JSON event */
			char *s = l.all, *nl;
			size_t k;
			cJSON *j;

			for (k = 0; k < i; k++)
				s = strchr(s, '\n') + 1;
			nl = strchr(s, '\n');
			*nl = '\0';
			j = cJSON_Parse(s);
			parsed += cJSON_GetObjectItem(j, "type") != NULL;
			cJSON_Delete(j);
			*nl = '\n';
		}
		ASSERT_EQ(parsed, 5, "line buffer: 7-byte chunks give 5 parseable events");
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

		ASSERT_STREQ(a.server, "https://127.0.0.1:6443",
			     "kubeconfig: server of the current context's cluster");
		if (ASSERT_EQ(a.ca_len, 7, "kubeconfig: certificate-authority-data length"))
			ASSERT_MEM_EQ(a.ca_data, "CA-PEM\n", 7,
				      "kubeconfig: certificate-authority-data decoded");
		if (ASSERT_EQ(a.cert_len, 4, "kubeconfig: client-certificate-data length"))
			ASSERT_MEM_EQ(a.cert_data, "CERT", 4,
				      "kubeconfig: client-certificate-data decoded");
		snprintf(want, sizeof(want), "%s/keys/u2.key", dir);
		ASSERT_STREQ(a.key_file, want,
			     "kubeconfig: relative client-key resolved against the file's directory");
		snprintf(want, sizeof(want), "%s/tok", dir);
		ASSERT_STREQ(a.token_file, want, "kubeconfig: tokenFile of the current user");
		ASSERT_STREQ(a.token, NULL, "kubeconfig: not another user's token");
		ASSERT_EQ(a.insecure, 0, "kubeconfig: TLS verification on by default");
		xlb_k8s_auth_free(&a);
	}
	f = fopen(path, "w");
	fputs("current-context: nope\ncontexts: []\n", f);
	fclose(f);
	rc = xlb_k8s_kubeconfig_load(path, &a, err, sizeof(err));
	ASSERT_EQ(rc, -EINVAL, "kubeconfig: a missing context is an error");
	ASSERT_TRUE(strstr(err, "current-context \"nope\": no such context") != NULL,
		    "kubeconfig: a missing context is named (%s)", err);
	f = fopen(path, "w");
	fputs("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
	      "clusters:\n- name: k\n  cluster: {server: 'https://h:1', insecure-skip-tls-verify: true}\n"
	      "users:\n- name: u\n  user: {token: abc}\n", f);
	fclose(f);
	rc = xlb_k8s_kubeconfig_load(path, &a, err, sizeof(err));
	if (ASSERT_OK(rc, "kubeconfig: flow style loads (%s)", err)) {
		ASSERT_EQ(a.insecure, 1, "kubeconfig: flow style insecure-skip-tls-verify");
		ASSERT_STREQ(a.token, "abc", "kubeconfig: flow style token");
		xlb_k8s_auth_free(&a);
	}
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

	test_scenarios();
	test_golden_fails();
	test_skip_reasons();
	test_inline();
	test_api_testdata();
	test_linebuf();
	test_kubeconfig();
	return test_done();
}
