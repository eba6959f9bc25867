// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * user/links.c: the --iface selection (names, patterns, exclusions, never
 * lo, errors naming the item), which devices count as always delivering
 * complete checksums (real devices of the kinds this kernel can make:
 * veth, bridge, tap, vxlan, macvlan; and a synthetic table for what a
 * namespace cannot make here: physical NICs, VLANs, bonds), which program
 * xlbd gives each kind in each --xdp-mode (xlb_iface_choose), and
 * the netlink watch seeing a link come, change name and go within 100 ms.
 *
 * Runs in a network namespace of its own: every link it makes goes away
 * with the namespace when the test exits, whatever happens.
 */
#include <net/if.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_arp.h>

#include "ifaces.h"
#include "links.h"
#include "testlib.h"

static int sh(const char *cmd)
{
	char full[512];

	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	return system(full);
}

static void test_selection(void)
{
	struct xlb_ifsel s;
	char err[256];

	TEST_SUB("selection");
	ASSERT_OK(xlb_ifsel_parse(&s, "eth0", err, sizeof(err)), "parse eth0");
	ASSERT_TRUE(xlb_ifsel_match(&s, "eth0"), "eth0 selects eth0");
	ASSERT_TRUE(!xlb_ifsel_match(&s, "eth1"), "eth0 does not select eth1");
	ASSERT_TRUE(xlb_ifsel_literal(&s), "eth0 is a literal list");
	xlb_ifsel_free(&s);

	ASSERT_OK(xlb_ifsel_parse(&s, "eth0,ens*,veth*,lxc*,cali*,!veth-skip",
				  err, sizeof(err)),
		  "parse the README's pattern list");
	ASSERT_TRUE(!xlb_ifsel_literal(&s), "a pattern list is not literal");
	ASSERT_TRUE(xlb_ifsel_match(&s, "ens3"), "ens* selects ens3");
	ASSERT_TRUE(xlb_ifsel_match(&s, "veth1a2b"), "veth* selects veth1a2b");
	ASSERT_TRUE(xlb_ifsel_match(&s, "cali12"), "cali* selects cali12");
	ASSERT_TRUE(!xlb_ifsel_match(&s, "veth-skip"), "!veth-skip excludes it");
	ASSERT_TRUE(!xlb_ifsel_match(&s, "docker0"), "docker0 is not selected");
	xlb_ifsel_free(&s);

	ASSERT_OK(xlb_ifsel_parse(&s, "*", err, sizeof(err)), "parse *");
	ASSERT_TRUE(xlb_ifsel_match(&s, "eth0"), "* selects eth0");
	ASSERT_TRUE(!xlb_ifsel_match(&s, "lo"), "* never selects lo");
	xlb_ifsel_free(&s);
	ASSERT_OK(xlb_ifsel_parse(&s, "lo", err, sizeof(err)), "parse lo");
	ASSERT_TRUE(!xlb_ifsel_match(&s, "lo"), "lo by name is not selected either");
	xlb_ifsel_free(&s);

	/* The last match wins: an exclusion can be undone by a later name. */
	ASSERT_OK(xlb_ifsel_parse(&s, "veth*,!veth*,veth7", err, sizeof(err)),
		  "parse veth*,!veth*,veth7");
	ASSERT_TRUE(xlb_ifsel_match(&s, "veth7"), "veth7 named last is selected");
	ASSERT_TRUE(!xlb_ifsel_match(&s, "veth8"), "veth8 stays excluded");
	xlb_ifsel_free(&s);

	ASSERT_EQ(xlb_ifsel_parse(&s, "", err, sizeof(err)), -EINVAL, "empty list refused");
	ASSERT_STREQ(err, "iface: empty list", "empty list: message");
	ASSERT_EQ(xlb_ifsel_parse(&s, "eth0,,eth1", err, sizeof(err)), -EINVAL,
		  "empty item refused");
	ASSERT_STREQ(err, "iface: empty name in the list", "empty item: message");
	ASSERT_EQ(xlb_ifsel_parse(&s, "eth0,!", err, sizeof(err)), -EINVAL,
		  "lone ! refused");
	ASSERT_STREQ(err, "iface: empty exclusion (\"!\" alone) in the list",
		     "lone !: message");
	ASSERT_EQ(xlb_ifsel_parse(&s, "averyveryverylongname", err, sizeof(err)),
		  -EINVAL, "a name over 15 characters refused");
	ASSERT_STREQ(err, "iface \"averyveryverylongname\": longer than 15 characters",
		     "long name: message");
	ASSERT_EQ(xlb_ifsel_parse(&s, "!eth0", err, sizeof(err)), -EINVAL,
		  "an exclusion alone refused");
	ASSERT_STREQ(err, "iface \"!eth0\": an exclusion alone selects nothing",
		     "exclusion alone: message");
	TEST_SUB_END();
}

/* Physical NICs cannot be made in a namespace: a table of them. */
/* xlb_iface_choose(): mode x device x override -> program, or refusal. */
static const char NIC_WHY[] = "NIC: complete checksums off the wire",
	VETH_WHY[] = "veth: frames sent by local sockets (pods) arrive with partial checksums",
	BRIDGE_WHY[] = "bridge: forwards frames of local senders with partial checksums",
	OVER_WHY[] = "--complete-checksums: its senders produce complete checksums";

static const struct {
	const char *what;
	int link;			/* index in test_synthetic's table */
	enum xlb_attach_mode mode;
	bool cc;			/* named in --complete-checksums */
	int rc;
	enum xlb_attach_mode use;	/* when rc is 0 */
	const char *why;
} choices[] = {
	{ "auto, NIC: native XDP (tc if the driver has none)", 1,
	  XLB_MODE_AUTO, false, 0, XLB_MODE_BEST_EFFORT, NIC_WHY },
	{ "auto, veth: tc", 7, XLB_MODE_AUTO, false, 0, XLB_MODE_TC, VETH_WHY },
	{ "auto, veth with the override: XDP", 7, XLB_MODE_AUTO, true, 0,
	  XLB_MODE_BEST_EFFORT, OVER_WHY },
	{ "auto, bridge: tc", 13, XLB_MODE_AUTO, false, 0, XLB_MODE_TC,
	  BRIDGE_WHY },
	{ "native, VLAN on a NIC: native", 3, XLB_MODE_NATIVE, false, 0,
	  XLB_MODE_NATIVE, "VLAN over a NIC: complete checksums off the wire" },
	{ "native, bond of NICs: native", 5, XLB_MODE_NATIVE, false, 0,
	  XLB_MODE_NATIVE, "bond of NICs: complete checksums off the wire" },
	{ "native, veth: refused", 7, XLB_MODE_NATIVE, false, -EPERM, 0,
	  VETH_WHY },
	{ "native, veth with the override: native", 7, XLB_MODE_NATIVE, true,
	  0, XLB_MODE_NATIVE, OVER_WHY },
	{ "best-effort, veth (has native XDP): refused", 7,
	  XLB_MODE_BEST_EFFORT, false, -EPERM, 0, VETH_WHY },
	{ "best-effort, bond with a veth port: refused", 8,
	  XLB_MODE_BEST_EFFORT, false, -EPERM, 0,
	  "bond with a port that may hand over partial checksums" },
	{ "best-effort, bridge (no native XDP): tc", 13, XLB_MODE_BEST_EFFORT,
	  false, 0, XLB_MODE_TC, BRIDGE_WHY },
	{ "generic, veth: refused", 7, XLB_MODE_GENERIC, false, -EPERM, 0,
	  VETH_WHY },
	{ "generic, NIC: generic", 1, XLB_MODE_GENERIC, false, 0,
	  XLB_MODE_GENERIC, NIC_WHY },
	{ "tc, veth: tc", 7, XLB_MODE_TC, false, 0, XLB_MODE_TC, "--xdp-mode tc" },
	{ "tc, NIC: tc", 1, XLB_MODE_TC, false, 0, XLB_MODE_TC, "--xdp-mode tc" },
};

static void test_choose(const struct xlb_link *t, size_t n)
{
	size_t i;

	TEST_SUB("choose");
	for (i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		enum xlb_attach_mode use = XLB_MODE_AUTO;
		const char *why = "";
		int rc = xlb_iface_choose(choices[i].mode, t, n,
					  &t[choices[i].link], choices[i].cc,
					  &use, &why);

		ASSERT_EQ(rc, choices[i].rc, "%s: result", choices[i].what);
		if (!rc)
			ASSERT_EQ(use, choices[i].use, "%s: mode attached with",
				  choices[i].what);
		ASSERT_STREQ(why, choices[i].why, "%s: reason", choices[i].what);
	}
	TEST_SUB_END();
}

static void test_synthetic(void)
{
	struct xlb_link t[] = {
		{ .ifindex = 1, .name = "lo", .type = ARPHRD_LOOPBACK,
		  .flags = IFF_LOOPBACK },
		{ .ifindex = 2, .name = "eth0", .type = ARPHRD_ETHER },
		{ .ifindex = 3, .name = "eth1", .type = ARPHRD_ETHER, .master = 6 },
		{ .ifindex = 4, .name = "eth0.10", .kind = "vlan",
		  .type = ARPHRD_ETHER, .link = 2 },
		{ .ifindex = 5, .name = "eth2", .type = ARPHRD_ETHER, .master = 6 },
		{ .ifindex = 6, .name = "bond0", .kind = "bond", .type = ARPHRD_ETHER },
		{ .ifindex = 7, .name = "bond0.20", .kind = "vlan",
		  .type = ARPHRD_ETHER, .link = 6 },
		{ .ifindex = 8, .name = "veth0", .kind = "veth",
		  .type = ARPHRD_ETHER, .master = 9 },
		{ .ifindex = 9, .name = "bond1", .kind = "bond", .type = ARPHRD_ETHER },
		{ .ifindex = 10, .name = "eth3", .type = ARPHRD_ETHER, .master = 9 },
		{ .ifindex = 11, .name = "bond2", .kind = "bond", .type = ARPHRD_ETHER },
		{ .ifindex = 12, .name = "wg0", .type = ARPHRD_NONE },
		{ .ifindex = 13, .name = "moved.5", .kind = "vlan",
		  .type = ARPHRD_ETHER, .link = -1 },
		{ .ifindex = 14, .name = "br0", .kind = "bridge",
		  .type = ARPHRD_ETHER },
	};
	size_t n = sizeof(t) / sizeof(t[0]);
	const char *why;

	TEST_SUB("synthetic");
	ASSERT_TRUE(xlb_link_complete_csum(t, n, &t[1], &why), "eth0 (a NIC): complete");
	ASSERT_TRUE(xlb_link_complete_csum(t, n, &t[3], &why), "VLAN on eth0: complete");
	ASSERT_TRUE(xlb_link_complete_csum(t, n, &t[5], &why), "bond of eth1, eth2: complete");
	ASSERT_TRUE(xlb_link_complete_csum(t, n, &t[6], &why), "VLAN on that bond: complete");
	ASSERT_TRUE(!xlb_link_complete_csum(t, n, &t[0], &why), "lo: not complete");
	ASSERT_STREQ(why, "loopback", "lo: reason");
	ASSERT_TRUE(!xlb_link_complete_csum(t, n, &t[8], &why), "bond with a veth port: not complete");
	ASSERT_STREQ(why, "bond with a port that may hand over partial checksums",
		     "bond with a veth port: reason");
	ASSERT_TRUE(!xlb_link_complete_csum(t, n, &t[10], &why), "bond without ports: not complete");
	ASSERT_STREQ(why, "bond without ports", "bond without ports: reason");
	ASSERT_TRUE(!xlb_link_complete_csum(t, n, &t[11], &why), "a non-Ethernet device: not complete");
	ASSERT_STREQ(why, "not an Ethernet device", "non-Ethernet: reason");
	ASSERT_TRUE(!xlb_link_complete_csum(t, n, &t[12], &why),
		    "VLAN whose lower is in another namespace: not complete");
	ASSERT_STREQ(why, "VLAN whose lower device is not in this namespace",
		     "VLAN with a foreign lower: reason");
	TEST_SUB_END();
	test_choose(t, n);
}

/* The kind and verdict of link `name` in this namespace. */
static void check_real(const char *name, const char *kind, const char *why_want)
{
	struct xlb_link *t = NULL;
	const struct xlb_link *l = NULL;
	const char *why = NULL;
	size_t n = 0, i;

	ASSERT_OK(xlb_link_list(&t, &n), "%s: list links", name);
	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			l = &t[i];
	if (!ASSERT_TRUE(l, "%s: in the link table", name))
		goto out;
	ASSERT_STREQ(l->kind, kind, "%s: kind", name);
	ASSERT_TRUE(!xlb_link_complete_csum(t, n, l, &why), "%s: not complete", name);
	ASSERT_STREQ(why, why_want, "%s: reason", name);
out:
	free(t);
}

static void test_real(void)
{
	TEST_SUB("real");
	ASSERT_EQ(sh("ip link add va type veth peer name vb"), 0, "make a veth pair");
	ASSERT_EQ(sh("ip link add br0 type bridge"), 0, "make a bridge");
	ASSERT_EQ(sh("ip tuntap add tap0 mode tap"), 0, "make a tap");
	ASSERT_EQ(sh("ip link add vx0 type vxlan id 5 dstport 4789"), 0,
		  "make a vxlan");
	ASSERT_EQ(sh("ip link add mv0 link va type macvlan"), 0,
		  "make a macvlan on the veth");
	check_real("va", "veth",
		   "veth: frames sent by local sockets (pods) arrive with partial checksums");
	check_real("br0", "bridge",
		   "bridge: forwards frames of local senders with partial checksums");
	check_real("tap0", "tun",
		   "tun/tap: frames written by a local program may carry partial checksums");
	check_real("vx0", "vxlan",
		   "virtual device: frames of local senders may carry partial checksums");
	check_real("mv0", "macvlan",
		   "virtual device: frames of local senders may carry partial checksums");
	check_real("lo", "", "loopback");
	TEST_SUB_END();
}

/* Waits up to ms for the watch to report a change. */
static int wait_change(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return xlb_link_drain(fd);
}

static void test_watch(void)
{
	int fd = xlb_link_watch();

	TEST_SUB("watch");
	if (!ASSERT_TRUE(fd >= 0, "open the link watch (%d)", fd))
		return;
	ASSERT_EQ(xlb_link_drain(fd), 0, "nothing pending at first");
	ASSERT_EQ(sh("ip link add wa type veth peer name wb"), 0, "add a veth pair");
	ASSERT_EQ(wait_change(fd, 100), 1, "a new link is reported within 100 ms");
	ASSERT_EQ(sh("ip link set wa name wrenamed"), 0, "rename it");
	ASSERT_EQ(wait_change(fd, 100), 1, "a rename is reported within 100 ms");
	ASSERT_EQ(sh("ip link del wrenamed"), 0, "delete it");
	ASSERT_EQ(wait_change(fd, 100), 1, "a deletion is reported within 100 ms");
	ASSERT_EQ(wait_change(fd, 50), 0, "then nothing more");
	close(fd);
	TEST_SUB_END();
}

int main(void)
{
	if (!ASSERT_OK(unshare(CLONE_NEWNET) ? -errno : 0,
		       "a network namespace of its own"))
		return test_done();
	test_selection();
	test_synthetic();
	test_real();
	test_watch();
	return test_done();
}
