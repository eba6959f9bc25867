// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The JSON config source: valid documents become the model, bad ones are
 * rejected with a message naming the service, field and value; a model
 * is written back as a document that parses into the same model. */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_write.h"
#include "testlib.h"
#include "util.h"

static const char valid_doc[] =
	"{\"services\": ["
	"{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80,"
	" \"protocol\": \"tcp\", \"backends\": ["
	"  {\"ip\": \"10.244.1.3\", \"port\": 8080, \"weight\": 2},"
	"  {\"ip\": \"10.244.1.2\", \"port\": 8080, \"state\": \"terminating\"}]},"
	"{\"name\": \"dns\", \"vip\": \"fd00::a\", \"port\": 53,"
	" \"protocol\": \"UDP\", \"maglev_table_size\": 1009,"
	" \"backends\": [{\"ip\": \"fd00:1::2\", \"port\": 5353}]},"
	"{\"name\": \"empty\", \"vip\": \"10.96.0.11\", \"port\": 80,"
	" \"protocol\": \"tcp\"}]}";

static void test_valid(void)
{
	const char *doc = valid_doc;
	struct xlb_model m;
	char err[256] = "";
	char a[XLB_ADDR_STRLEN];
	int rc;

	rc = xlb_config_parse(doc, &m, err, sizeof(err));
	if (!ASSERT_EQ(rc, 0, "valid config parses (%s)", err))
		return;
	ASSERT_EQ(m.n_services, 3, "three services");
	/* sorted by name */
	ASSERT_TRUE(!strcmp(m.services[0].name, "dns"), "services sorted by name");
	ASSERT_EQ(m.services[0].vip.family, XLB_AF_INET6, "dns vip is IPv6");
	ASSERT_EQ(m.services[0].vip.proto, IPPROTO_UDP, "protocol is case-insensitive");
	ASSERT_EQ(m.services[0].table_size, 1009, "maglev_table_size kept");
	ASSERT_EQ(ntohs(m.services[0].backends[0].port), 5353, "backend port");
	ASSERT_EQ(m.services[1].n_backends, 0, "service without backends");
	ASSERT_EQ(m.services[2].n_backends, 2, "web has two backends");
	xlb_addr_str(&m.services[2].backends[0].addr, XLB_AF_INET, a);
	ASSERT_TRUE(!strcmp(a, "10.244.1.2"), "backends sorted by address (%s)", a);
	ASSERT_EQ(m.services[2].backends[0].state, XLB_BE_TERMINATING,
		  "state terminating");
	ASSERT_EQ(m.services[2].backends[0].weight, 1, "default weight 1");
	ASSERT_EQ(m.services[2].backends[1].weight, 2, "weight 2");
	ASSERT_EQ(m.services[2].backends[1].state, XLB_BE_ACTIVE,
		  "default state active");
	xlb_model_free(&m);
}

struct bad_case {
	const char *doc;
	const char *want; /* substring of the message */
};

static void test_invalid(void)
{
	static const struct bad_case cases[] = {
		{ "{\"services\": [", "config: not valid JSON at line 1, column 15" },
		{ "{\n  \"services\": [\n    {\"name\": \"a\",}\n  ]\n}",
		  "config: not valid JSON at line 3, column" },
		/* One document, or nothing: the second is not silently dropped. */
		{ "{\"services\": []}, {\"services\": [{\"name\": \"b\"}]}",
		  "config: line 1, column 17: text after the end of the JSON document (\", {\"services\": [{\"na\"): a config is one document" },
		{ "{\"services\": []}\n]}", "config: line 2, column 1: text after the end of the JSON document (\"]}\")" },
		{ "[]", "top level is not an object" },
		{ "{}", "\"services\" is missing" },
		{ "{\"services\": [{\"vip\": \"10.0.0.1\"}]}", "services[0].name (missing)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.300\", \"port\": 80, \"protocol\": \"tcp\"}]}",
		  "service web: vip \"10.96.0.300\": not an IPv4 or IPv6 address" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 0, \"protocol\": \"tcp\"}]}",
		  "service web: port 0: not a port" },
		/* Out of int's range too: the range is checked before the
		 * number is converted (1e999 parses as inf). */
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 1e999, \"protocol\": \"tcp\"}]}",
		  "service web: port inf: not a port (1-65535)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": -1e999, \"protocol\": \"tcp\"}]}",
		  "service web: port -inf: not a port (1-65535)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": -1, \"protocol\": \"tcp\"}]}",
		  "service web: port -1: not a port (1-65535)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 65536, \"protocol\": \"tcp\"}]}",
		  "service web: port 65536: not a port (1-65535)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 1.5, \"protocol\": \"tcp\"}]}",
		  "service web: port 1.5: not a port (1-65535)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"node_port\": 1e999}]}",
		  "service web: node_port inf: not a port (1-65535)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"backends\": [{\"ip\": \"10.0.0.1\", \"port\": 1e999}]}]}",
		  "service web: backends[0].port inf: not a port (1-65535)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"backends\": [{\"ip\": \"10.0.0.1\", \"port\": 80, \"weight\": 1e999}]}]}",
		  "service web: backends[0].weight inf: not an integer in 0-65535" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"sctp\"}]}",
		  "service web: protocol \"sctp\": not \"tcp\" or \"udp\"" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"maglev_table_size\": 300}]}",
		  "service web: maglev_table_size 300: not a prime" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"backends\": [{\"ip\": \"fd00::1\", \"port\": 80}]}]}",
		  "service web: backends[0].ip \"fd00::1\": address family differs" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"backends\": [{\"ip\": \"10.0.0.1\", \"port\": 80, \"state\": \"gone\"}]}]}",
		  "service web: backends[0].state \"gone\"" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"backends\": [{\"ip\": \"10.0.0.1\", \"port\": 80, \"weight\": -1}]}]}",
		  "service web: backends[0].weight -1" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"backends\": [{\"ip\": \"10.0.0.1\", \"port\": 80}, {\"ip\": \"10.0.0.1\", \"port\": 80}]}]}",
		  "service web: backend 10.0.0.1 port 80: listed twice" },
		{ "{\"services\": [{\"name\": \"a\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"}, {\"name\": \"b\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"}]}",
		  "vip 10.96.0.1 port 80 protocol tcp: already used by service" },
		{ "{\"services\": [{\"name\": \"a\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"}, {\"name\": \"a\", \"vip\": \"10.96.0.2\", \"port\": 80, \"protocol\": \"tcp\"}]}",
		  "service a: name \"a\": used by two services" },
		{ "{\"services\": [{\"name\": \"a\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"node_port\": 30080}, {\"name\": \"b\", \"vip\": \"10.96.0.2\", \"port\": 81, \"protocol\": \"tcp\", \"node_port\": 30080}]}",
		  "service b: node_port 30080 protocol tcp: already used by service a" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"snat\": \"always\"}]}",
		  "service web: snat \"always\": not true, false or \"remote\"" },
		{ "{\"snat\": 1, \"services\": []}",
		  "config: snat 1: not true, false or \"remote\"" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\", \"dsr\": \"geneve\"}]}",
		  "service web: dsr \"geneve\": not \"ipip\" or \"off\"" },
		{ "{\"dsr\": true, \"services\": []}",
		  "config: dsr true: not \"ipip\" or \"off\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xlb_model m;
		char err[512] = "";
		int rc = xlb_config_parse(cases[i].doc, &m, err, sizeof(err));

		ASSERT_EQ(rc, -EINVAL, "bad config %zu rejected", i);
		ASSERT_TRUE(strstr(err, cases[i].want) != NULL,
			    "bad config %zu message \"%s\" names \"%s\"", i, err,
			    cases[i].want);
		ASSERT_EQ(m.n_services, 0, "bad config %zu leaves an empty model", i);
	}
}

static const char same_vip_doc[] =
	"{\"services\": ["
	"{\"name\": \"dns-udp\", \"vip\": \"10.96.0.10\", \"port\": 53, \"protocol\": \"udp\"},"
	"{\"name\": \"dns-tcp\", \"vip\": \"10.96.0.10\", \"port\": 53, \"protocol\": \"tcp\"}]}";

static void test_same_vip_other_proto(void)
{
	const char *doc = same_vip_doc;
	struct xlb_model m;
	char err[256] = "";

	ASSERT_EQ(xlb_config_parse(doc, &m, err, sizeof(err)), 0,
		  "same VIP and port with TCP and UDP is two services (%s)", err);
	xlb_model_free(&m);
	/* The two halves of a dual-stack Service share one NodePort. */
	doc = "{\"services\": ["
	      "{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\", \"node_port\": 30080},"
	      "{\"name\": \"web6\", \"vip\": \"fd00:96::10\", \"port\": 80, \"protocol\": \"tcp\", \"node_port\": 30080}]}";
	ASSERT_EQ(xlb_config_parse(doc, &m, err, sizeof(err)), 0,
		  "an IPv4 and an IPv6 service share a NodePort (%s)", err);
	xlb_model_free(&m);
}

/* ---- writing: parse(write(m)) == m --------------------------------------- */

/* Every field of the README's example, and the values next to each
 * default (weight 0, serving false, a timeout other than 10800). */
static const char every_field[] =
	"{\"services\": ["
	"{\"name\": \"web\", \"vip\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"tcp\","
	" \"maglev_table_size\": 307,"
	" \"external_ips\": [\"192.0.2.10\", \"192.0.2.9\"], \"load_balancer_ips\": [\"198.51.100.7\"],"
	" \"node_port\": 30080,"
	" \"session_affinity\": \"client_ip\", \"session_affinity_timeout\": 10800,"
	" \"external_traffic_policy\": \"local\", \"internal_traffic_policy\": \"cluster\","
	" \"snat\": \"remote\", \"dsr\": \"ipip\","
	" \"load_balancer_source_ranges\": [\"203.0.113.0/24\", \"2001:db8::/32\"],"
	" \"groups\": [{\"name\": \"green\", \"percent\": 90}, {\"name\": \"blue\", \"percent\": 10}],"
	" \"backends\": ["
	"  {\"ip\": \"10.244.1.2\", \"port\": 8080, \"weight\": 1, \"group\": \"green\", \"local\": true},"
	"  {\"ip\": \"10.244.1.3\", \"port\": 8080, \"group\": \"blue\"},"
	"  {\"ip\": \"10.244.1.4\", \"port\": 8080, \"group\": \"green\","
	"   \"state\": \"terminating\", \"serving\": true}]},"
	"{\"name\": \"dns6\", \"vip\": \"fd00::a\", \"port\": 53, \"protocol\": \"udp\","
	" \"external_ips\": [\"fd00::b\"], \"session_affinity\": \"client_ip\","
	" \"session_affinity_timeout\": 300, \"internal_traffic_policy\": \"local\","
	" \"snat\": true,"
	" \"backends\": ["
	"  {\"ip\": \"fd00:1::3\", \"port\": 5353, \"weight\": 0},"
	"  {\"ip\": \"fd00:1::2\", \"port\": 5353, \"state\": \"terminating\", \"serving\": false},"
	"  {\"ip\": \"fd00:1::2\", \"port\": 53, \"weight\": 65535, \"serving\": false}]}]}";

#define DIFF(cond, ...)                                                    \
	do {                                                               \
		if (cond) {                                                \
			snprintf(why, len, __VA_ARGS__);                   \
			return 1;                                          \
		}                                                          \
	} while (0)

static int addrs_diff(const char *svc, const char *field,
		      const union xlb_addr *a, size_t na,
		      const union xlb_addr *b, size_t nb, char *why, size_t len)
{
	size_t i;

	DIFF(na != nb, "service %s: %zu %s, want %zu", svc, na, field, nb);
	for (i = 0; i < na; i++)
		DIFF(memcmp(&a[i], &b[i], sizeof(a[i])), "service %s: %s[%zu]",
		     svc, field, i);
	return 0;
}

static int backend_diff(const char *svc, size_t i,
			const struct xlb_model_backend *a,
			const struct xlb_model_backend *b, char *why,
			size_t len)
{
	DIFF(a->family != b->family || memcmp(&a->addr, &b->addr, sizeof(a->addr)),
	     "service %s: backends[%zu].ip", svc, i);
	DIFF(a->port != b->port, "service %s: backends[%zu].port", svc, i);
	DIFF(a->weight != b->weight, "service %s: backends[%zu].weight %u, want %u",
	     svc, i, a->weight, b->weight);
	DIFF(a->state != b->state, "service %s: backends[%zu].state %u, want %u",
	     svc, i, a->state, b->state);
	DIFF(a->serving != b->serving, "service %s: backends[%zu].serving %u, want %u",
	     svc, i, a->serving, b->serving);
	DIFF(a->local != b->local, "service %s: backends[%zu].local %u, want %u",
	     svc, i, a->local, b->local);
	DIFF(a->group != b->group, "service %s: backends[%zu].group %u, want %u",
	     svc, i, a->group, b->group);
	return 0;
}

/* The scalar fields and the lists of one service. */
static int service_diff(const struct xlb_model_service *a,
			const struct xlb_model_service *b, char *why,
			size_t len)
{
	const char *n = b->name;
	size_t i;

	DIFF(strcmp(a->name, b->name), "name \"%s\", want \"%s\"", a->name, n);
	DIFF(a->vip.family != b->vip.family ||
		     memcmp(&a->vip.addr, &b->vip.addr, sizeof(a->vip.addr)),
	     "service %s: vip", n);
	DIFF(a->vip.port != b->vip.port, "service %s: port", n);
	DIFF(a->vip.proto != b->vip.proto, "service %s: protocol", n);
	DIFF(a->table_size != b->table_size, "service %s: maglev_table_size %u, want %u",
	     n, a->table_size, b->table_size);
	DIFF(a->node_port != b->node_port, "service %s: node_port %u, want %u", n,
	     a->node_port, b->node_port);
	DIFF(a->affinity_timeout != b->affinity_timeout,
	     "service %s: session_affinity_timeout %u, want %u", n,
	     a->affinity_timeout, b->affinity_timeout);
	DIFF(a->external_local != b->external_local,
	     "service %s: external_traffic_policy", n);
	DIFF(a->internal_local != b->internal_local,
	     "service %s: internal_traffic_policy", n);
	DIFF(a->snat != b->snat, "service %s: snat %u, want %u", n, a->snat,
	     b->snat);
	DIFF(a->dsr != b->dsr, "service %s: dsr %u, want %u", n, a->dsr,
	     b->dsr);
	if (addrs_diff(n, "external_ips", a->external_ips, a->n_external_ips,
		       b->external_ips, b->n_external_ips, why, len) ||
	    addrs_diff(n, "load_balancer_ips", a->lb_ips, a->n_lb_ips,
		       b->lb_ips, b->n_lb_ips, why, len))
		return 1;
	DIFF(a->n_source_ranges != b->n_source_ranges,
	     "service %s: %zu load_balancer_source_ranges, want %zu", n,
	     a->n_source_ranges, b->n_source_ranges);
	for (i = 0; i < a->n_source_ranges; i++)
		DIFF(memcmp(&a->source_ranges[i].addr, &b->source_ranges[i].addr,
			    sizeof(union xlb_addr)) ||
			     a->source_ranges[i].family != b->source_ranges[i].family ||
			     a->source_ranges[i].len != b->source_ranges[i].len,
		     "service %s: load_balancer_source_ranges[%zu]", n, i);
	DIFF(a->n_groups != b->n_groups, "service %s: %zu groups, want %zu", n,
	     a->n_groups, b->n_groups);
	for (i = 0; i < a->n_groups; i++)
		DIFF(strcmp(a->groups[i].name, b->groups[i].name) ||
			     a->groups[i].percent != b->groups[i].percent,
		     "service %s: groups[%zu]", n, i);
	DIFF(a->n_backends != b->n_backends, "service %s: %zu backends, want %zu",
	     n, a->n_backends, b->n_backends);
	for (i = 0; i < a->n_backends; i++)
		if (backend_diff(n, i, &a->backends[i], &b->backends[i], why, len))
			return 1;
	return 0;
}

/* The first field in which two sorted models differ, in why ("" when
 * none does). `source` is not in the format and not compared. */
static const char *model_diff(const struct xlb_model *a,
			      const struct xlb_model *b, char *why, size_t len)
{
	size_t i;

	why[0] = '\0';
	if (a->n_services != b->n_services) {
		snprintf(why, len, "%zu services, want %zu", a->n_services,
			 b->n_services);
		return why;
	}
	for (i = 0; i < a->n_services; i++)
		if (service_diff(&a->services[i], &b->services[i], why, len))
			break;
	return why;
}

/* parse(write(m)) == m, and writing that again gives the same text. */
static void check_round_trip(const char *what, const struct xlb_model *m)
{
	char err[256] = "", why[256];
	char *text = NULL, *again = NULL;
	struct xlb_model back;

	if (!ASSERT_OK(xlb_config_write(m, &text, err, sizeof(err)),
		       "%s: written (%s)", what, err))
		return;
	if (ASSERT_OK(xlb_config_parse(text, &back, err, sizeof(err)),
		      "%s: the written document parses (%s)", what, err)) {
		ASSERT_STREQ(model_diff(&back, m, why, sizeof(why)), "",
			     "%s: parse(write(m)) == m", what);
		ASSERT_OK(xlb_config_write(&back, &again, err, sizeof(err)),
			  "%s: written again", what);
		ASSERT_STREQ(again, text, "%s: written again, the same text", what);
		xlb_model_free(&back);
	}
	free(again);
	free(text);
}

static void round_trip_doc(const char *what, const char *doc)
{
	struct xlb_model m;
	char err[256] = "";

	if (!ASSERT_OK(xlb_config_parse(doc, &m, err, sizeof(err)),
		       "%s: parses (%s)", what, err))
		return;
	check_round_trip(what, &m);
	xlb_model_free(&m);
}

/* Every config under examples/ (build/selftests/test_config -> examples). */
static void test_round_trip_examples(void)
{
	char exe[PATH_MAX], pat[PATH_MAX + 32], err[256];
	glob_t g = { 0 };
	struct xlb_model m;
	ssize_t n;
	size_t i;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(pat, sizeof(pat), "%s/../../examples/*.json", dirname(exe));
	glob(pat, 0, NULL, &g);
	ASSERT_TRUE(g.gl_pathc > 0, "examples: found (%s)", pat);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *name = strrchr(g.gl_pathv[i], '/') + 1;

		err[0] = '\0';
		if (!ASSERT_OK(xlb_config_load(g.gl_pathv[i], &m, err, sizeof(err)),
			       "examples/%s: loads (%s)", name, err))
			continue;
		check_round_trip(name, &m);
		xlb_model_free(&m);
	}
	globfree(&g);
}

static void test_round_trip(void)
{
	round_trip_doc("valid config", valid_doc);
	round_trip_doc("same VIP, other protocol", same_vip_doc);
	round_trip_doc("every field", every_field);
	test_round_trip_examples();
}

/* The exact text for a small model: defaults left out, services by name
 * and backends by address and port whatever the model's order. */
static void test_write(void)
{
	static const char want[] =
		"{\n"
		"\t\"services\":\t[{\n"
		"\t\t\t\"name\":\t\"a\",\n"
		"\t\t\t\"vip\":\t\"10.0.0.1\",\n"
		"\t\t\t\"port\":\t80,\n"
		"\t\t\t\"protocol\":\t\"tcp\",\n"
		"\t\t\t\"backends\":\t[{\n"
		"\t\t\t\t\t\"ip\":\t\"10.1.0.1\",\n"
		"\t\t\t\t\t\"port\":\t8080\n"
		"\t\t\t\t}, {\n"
		"\t\t\t\t\t\"ip\":\t\"10.1.0.2\",\n"
		"\t\t\t\t\t\"port\":\t8080,\n"
		"\t\t\t\t\t\"weight\":\t0,\n"
		"\t\t\t\t\t\"state\":\t\"terminating\",\n"
		"\t\t\t\t\t\"serving\":\tfalse\n"
		"\t\t\t\t}]\n"
		"\t\t}, {\n"
		"\t\t\t\"name\":\t\"b\",\n"
		"\t\t\t\"vip\":\t\"fd00::1\",\n"
		"\t\t\t\"port\":\t53,\n"
		"\t\t\t\"protocol\":\t\"udp\"\n"
		"\t\t}]\n"
		"}\n";
	struct xlb_model_backend bes[2] = {
		{ .port = htons(8080), .family = XLB_AF_INET,
		  .state = XLB_BE_TERMINATING },
		{ .port = htons(8080), .family = XLB_AF_INET,
		  .state = XLB_BE_ACTIVE, .weight = 1, .serving = 1 },
	};
	struct xlb_model_service svcs[2] = {
		{ .name = "b", .vip = { .port = htons(53), .proto = IPPROTO_UDP,
					.family = XLB_AF_INET6 } },
		{ .name = "a", .vip = { .port = htons(80), .proto = IPPROTO_TCP,
					.family = XLB_AF_INET },
		  .backends = bes, .n_backends = 2 },
	};
	struct xlb_model m = { .services = svcs, .n_services = 2 };
	struct xlb_model_group grp = { .name = "g", .percent = 100 };
	char err[256] = "", *text = NULL;
	__u8 f;

	xlb_addr_parse("fd00::1", &svcs[0].vip.addr, &f);
	xlb_addr_parse("10.0.0.1", &svcs[1].vip.addr, &f);
	xlb_addr_parse("10.1.0.2", &bes[0].addr, &f);
	xlb_addr_parse("10.1.0.1", &bes[1].addr, &f);
	ASSERT_OK(xlb_config_write(&m, &text, err, sizeof(err)), "write: small model (%s)", err);
	ASSERT_STREQ(text, want, "write: defaults left out, services and backends sorted");
	free(text);

	/* What the format cannot say is refused, naming field and value. */
	bes[0].group = 1;
	ASSERT_EQ(xlb_config_write(&m, &text, err, sizeof(err)), -EINVAL,
		  "write: a group the service does not have is refused");
	ASSERT_TRUE(strstr(err, "service a: backend 10.1.0.2 port 8080: group 1") != NULL,
		    "write: the message names it (%s)", err);
	ASSERT_TRUE(text == NULL, "write: no text on error");
	svcs[1].groups = &grp;
	svcs[1].n_groups = 1;
	ASSERT_EQ(xlb_config_write(&m, &text, err, sizeof(err)), -EINVAL,
		  "write: with groups, a backend without one is refused");
	ASSERT_TRUE(strstr(err, "service a: backend 10.1.0.1 port 8080: group 0") != NULL,
		    "write: the message names it (%s)", err);
	bes[1].group = 1;
	bes[1].family = XLB_AF_INET6;
	ASSERT_EQ(xlb_config_write(&m, &text, err, sizeof(err)), -EINVAL,
		  "write: a backend of another family than the vip's is refused");
	ASSERT_TRUE(strstr(err, "service a: backends[1]: family 6") != NULL,
		    "write: the message names it (%s)", err);
	bes[1].family = XLB_AF_INET;
	svcs[0].vip.proto = 0;
	ASSERT_EQ(xlb_config_write(&m, &text, err, sizeof(err)), -EINVAL,
		  "write: a protocol other than tcp or udp is refused");
	ASSERT_TRUE(strstr(err, "service b: protocol 0") != NULL,
		    "write: the message names it (%s)", err);
}

/* "snat" of the config is every service's default; a service's own
 * overrides it. */
static void test_snat(void)
{
	static const char doc[] =
		"{\"snat\": \"remote\", \"services\": ["
		"{\"name\": \"a\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"},"
		"{\"name\": \"b\", \"vip\": \"10.96.0.2\", \"port\": 80, \"protocol\": \"tcp\", \"snat\": true},"
		"{\"name\": \"c\", \"vip\": \"10.96.0.3\", \"port\": 80, \"protocol\": \"tcp\", \"snat\": false}]}";
	struct xlb_model m;
	char err[256] = "";

	if (!ASSERT_EQ(xlb_config_parse(doc, &m, err, sizeof(err)), 0,
		       "snat config parses (%s)", err))
		return;
	ASSERT_EQ(m.services[0].snat, XLB_SNAT_REMOTE, "snat: the config's default");
	ASSERT_EQ(m.services[1].snat, XLB_SNAT_ALL, "snat: true is every backend");
	ASSERT_EQ(m.services[2].snat, XLB_SNAT_NONE, "snat: false overrides");
	xlb_model_free(&m);
	if (ASSERT_EQ(xlb_config_parse(valid_doc, &m, err, sizeof(err)), 0,
		      "valid config parses (%s)", err))
		ASSERT_EQ(m.services[0].snat, XLB_SNAT_NONE, "snat: none by default");
	xlb_model_free(&m);
}

/* A config directory's files, merged: services move into one model, a
 * part that failed (no services) is skipped, and names and frontends
 * must be unique across the parts. */
static void test_merge(void)
{
	static const char *const docs[] = {
		("{\"services\": [{\"name\": \"b\", \"vip\": \"10.96.0.2\", \"port\": 80, \"protocol\": \"tcp\","
		 " \"backends\": [{\"ip\": \"10.0.0.1\", \"port\": 80}]}]}"),
		"{\"services\": [{\"name\": \"a\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"}]}",
		"{\"services\": [{\"name\": \"a\", \"vip\": \"10.96.0.3\", \"port\": 80, \"protocol\": \"tcp\"}]}",
	};
	struct xlb_model parts[4] = { 0 }, all;
	char err[512] = "";
	size_t i;
	int rc;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(xlb_config_parse(docs[i], &parts[i], err, sizeof(err)), 0,
			  "merge: part %zu parses (%s)", i, err);
	/* parts[2] stays empty: a file that was rejected */
	rc = xlb_config_merge(parts, 3, &all, err, sizeof(err));
	ASSERT_EQ(rc, 0, "merge: two parts and an empty one (%s)", err);
	ASSERT_EQ(all.n_services, 2, "merge: both services");
	ASSERT_STREQ(all.n_services ? all.services[0].name : "", "a",
		     "merge: sorted by name");
	ASSERT_EQ(parts[0].n_services + parts[1].n_services, 0,
		  "merge: the parts are left empty");
	xlb_model_free(&all);
	ASSERT_EQ(xlb_config_parse(docs[1], &parts[0], err, sizeof(err)) |
			  xlb_config_parse(docs[2], &parts[1], err, sizeof(err)),
		  0, "merge: parts with one name parse");
	rc = xlb_config_merge(parts, 2, &all, err, sizeof(err));
	ASSERT_EQ(rc, -EINVAL, "merge: a name in two parts is refused");
	ASSERT_STREQ(err, "service a: name \"a\": used by two services",
		     "merge: the message names it");
	ASSERT_EQ(all.n_services, 0, "merge: refused leaves an empty model");
	for (i = 0; i < 4; i++)
		xlb_model_free(&parts[i]);
}

/* "dsr" likewise. */
static void test_dsr(void)
{
	static const char doc[] =
		"{\"dsr\": \"ipip\", \"services\": ["
		"{\"name\": \"a\", \"vip\": \"10.96.0.1\", \"port\": 80, \"protocol\": \"tcp\"},"
		"{\"name\": \"b\", \"vip\": \"10.96.0.2\", \"port\": 80, \"protocol\": \"tcp\", \"dsr\": \"off\"}]}";
	struct xlb_model m;
	char err[256] = "";

	if (!ASSERT_EQ(xlb_config_parse(doc, &m, err, sizeof(err)), 0,
		       "dsr config parses (%s)", err))
		return;
	ASSERT_EQ(m.services[0].dsr, XLB_DSR_IPIP, "dsr: the config's default");
	ASSERT_EQ(m.services[1].dsr, XLB_DSR_OFF, "dsr: off overrides");
	xlb_model_free(&m);
	if (ASSERT_EQ(xlb_config_parse(valid_doc, &m, err, sizeof(err)), 0,
		      "valid config parses (%s)", err))
		ASSERT_EQ(m.services[0].dsr, XLB_DSR_OFF, "dsr: off by default");
	xlb_model_free(&m);
}

int main(void)
{
	test_valid();
	test_snat();
	test_dsr();
	test_invalid();
	test_same_vip_other_proto();
	test_merge();
	test_round_trip();
	test_write();
	return test_done();
}
