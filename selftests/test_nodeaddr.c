// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * user/nodeaddr.c: the node's addresses and --nodeport-addresses (CIDRs
 * and "primary", the default route's source address of each family),
 * with user/model.c's CIDR parsing and matching under it.
 *
 * Runs in a network namespace of its own, with a veth link holding a
 * few addresses and default routes through one of them.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "nodeaddr.h"
#include "testlib.h"
#include "util.h"

static int sh(const char *cmd)
{
	char full[512];

	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	return system(full);
}

static int contains(const char *cidr, const char *addr)
{
	struct xlb_cidr c;
	union xlb_addr a;
	__u8 f;

	if (xlb_cidr_parse(cidr, &c) || xlb_addr_parse(addr, &a, &f))
		return -1;
	return xlb_cidr_contains(&c, &a, f);
}

static void test_cidrs(void)
{
	static const char *const bad[] = {
		"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1",
		"10.0.0.0/8x", "10.0.0.300/8", "/8", "", "primary",
	};
	struct xlb_cidr c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(xlb_cidr_parse(bad[i], &c), -EINVAL, "\"%s\" is not a CIDR", bad[i]);
	ASSERT_EQ(xlb_cidr_parse(" 10.1.0.0/16 ", &c), 0, "blanks around a CIDR");
	ASSERT_EQ(c.len, 16, "... its length");
	ASSERT_EQ(contains("10.1.0.0/16", "10.1.255.7"), 1, "10.1.255.7 in 10.1.0.0/16");
	ASSERT_EQ(contains("10.1.0.0/16", "10.2.0.1"), 0, "10.2.0.1 not in 10.1.0.0/16");
	ASSERT_EQ(contains("10.1.128.0/17", "10.1.127.1"), 0, "10.1.127.1 not in 10.1.128.0/17");
	ASSERT_EQ(contains("10.1.128.0/17", "10.1.200.1"), 1, "10.1.200.1 in 10.1.128.0/17");
	ASSERT_EQ(contains("0.0.0.0/0", "192.0.2.9"), 1, "everything in 0.0.0.0/0");
	ASSERT_EQ(contains("10.0.0.1/32", "10.0.0.1"), 1, "a /32 holds its address");
	ASSERT_EQ(contains("10.0.0.1/32", "10.0.0.2"), 0, "... only");
	ASSERT_EQ(contains("fd00:1::/33", "fd00:1:7fff::1"), 1, "fd00:1:7fff::1 in fd00:1::/33");
	ASSERT_EQ(contains("fd00:1::/33", "fd00:1:8000::1"), 0, "fd00:1:8000::1 not in fd00:1::/33");
	ASSERT_EQ(contains("::/0", "10.0.0.1"), 0, "an IPv4 address is in no IPv6 CIDR");
}

static void test_parse(void)
{
	struct xlb_nodeport_sel s;
	char bad[64] = "";

	ASSERT_EQ(xlb_nodeport_sel_parse("10.0.0.0/8,primary,fd00::/8", &s, bad, sizeof(bad)), 0,
		  "CIDRs and primary");
	ASSERT_EQ(s.n_cidrs * 10 + s.primary + s.set * 100, (size_t)121, "... 2 CIDRs, primary, set");
	free(s.cidrs);
	ASSERT_EQ(xlb_nodeport_sel_parse("10.0.0.0/8,prim", &s, bad, sizeof(bad)), -EINVAL,
		  "a bad entry refused");
	ASSERT_STREQ(bad, "prim", "... and named");
	ASSERT_EQ(s.set, 0, "... nothing set");
	free(s.cidrs);
	ASSERT_EQ(xlb_nodeport_sel_parse(",", &s, bad, sizeof(bad)), -EINVAL, "an empty list refused");
	free(s.cidrs);
}

/* The selected addresses as one string. */
static void selected(const char *list, char *out, size_t len)
{
	struct xlb_nodeport_sel s = { 0 };
	struct xlb_nodeaddr *v;
	char buf[XLB_ADDR_STRLEN], bad[64];
	size_t n, i, k = 0;

	out[0] = '\0';
	if (list && xlb_nodeport_sel_parse(list, &s, bad, sizeof(bad)))
		return;
	if (xlb_nodeaddr_list(&v, &n))
		return;
	xlb_nodeaddr_select(v, &n, &s);
	for (i = 0; i < n; i++)
		k += snprintf(out + k, len - k, "%s%s", i ? " " : "",
			      xlb_addr_str(&v[i].addr, v[i].family, buf));
	free(v);
	free(s.cidrs);
}

static void test_select(void)
{
	char got[512];

	if (!ASSERT_OK(sh("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d1 up && ip link set d0 up && "
			  "ip addr add 10.7.0.2/24 dev d0 && ip addr add 10.8.0.2/24 dev d0 && "
			  "ip addr add fd00:7::2/64 dev d0 nodad && ip addr add fd00:8::2/64 dev d0 nodad"),
		       "a link with two addresses of each family"))
		return;
	selected(NULL, got, sizeof(got));
	ASSERT_STREQ(got, "10.7.0.2 10.8.0.2 fd00:7::2 fd00:8::2", "default: every address but loopback");
	selected("10.8.0.0/16,fd00:7::/32", got, sizeof(got));
	ASSERT_STREQ(got, "10.8.0.2 fd00:7::2", "CIDRs select theirs");
	selected("primary", got, sizeof(got));
	ASSERT_STREQ(got, "", "primary without a default route: none");
	if (!ASSERT_OK(sh("ip route add default via 10.8.0.1 src 10.8.0.2 && "
			  "ip -6 route add default via fd00:7::1 src fd00:7::2"),
		       "default routes with sources"))
		return;
	selected("primary", got, sizeof(got));
	ASSERT_STREQ(got, "10.8.0.2 fd00:7::2", "primary: the default routes' sources");
	selected("primary,10.7.0.0/24", got, sizeof(got));
	ASSERT_STREQ(got, "10.7.0.2 10.8.0.2 fd00:7::2", "primary and a CIDR");
}

int main(void)
{
	test_cidrs();
	test_parse();
	if (!ASSERT_OK(unshare(CLONE_NEWNET) ? -errno : 0, "a network namespace of its own"))
		return test_done();
	test_select();
	return test_done();
}
