// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The JSON config source: valid documents become the model, bad ones are
 * rejected with a message naming the service, field and value. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "config.h"
#include "testlib.h"
#include "util.h"

static void test_valid(void)
{
	const char *doc =
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
		{ "{\"services\": [", "not valid JSON" },
		{ "[]", "top level is not an object" },
		{ "{}", "\"services\" is missing" },
		{ "{\"services\": [{\"vip\": \"10.0.0.1\"}]}", "services[0].name (missing)" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.300\", \"port\": 80, \"protocol\": \"tcp\"}]}",
		  "service web: vip \"10.96.0.300\": not an IPv4 or IPv6 address" },
		{ "{\"services\": [{\"name\": \"web\", \"vip\": \"10.96.0.1\", \"port\": 0, \"protocol\": \"tcp\"}]}",
		  "service web: port 0: not a port" },
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

static void test_same_vip_other_proto(void)
{
	const char *doc =
		"{\"services\": ["
		"{\"name\": \"dns-udp\", \"vip\": \"10.96.0.10\", \"port\": 53, \"protocol\": \"udp\"},"
		"{\"name\": \"dns-tcp\", \"vip\": \"10.96.0.10\", \"port\": 53, \"protocol\": \"tcp\"}]}";
	struct xlb_model m;
	char err[256] = "";

	ASSERT_EQ(xlb_config_parse(doc, &m, err, sizeof(err)), 0,
		  "same VIP and port with TCP and UDP is two services (%s)", err);
	xlb_model_free(&m);
}

int main(void)
{
	test_valid();
	test_invalid();
	test_same_vip_other_proto();
	return test_done();
}
