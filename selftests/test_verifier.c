// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Verifier report: loads the XDP, tc and null programs with their default
 * (production) map sizes, the first two through xlbd's loader, and prints,
 * for each, the translated instruction count, the JIT image size and the
 * number of instructions the verifier walked. The XDP and tc programs are
 * loaded with fib_redirect off and on: the setting is rodata, so the verifier
 * prunes the forwarding code when it is off and must walk it when it is on.
 *
 * Lines to quote start with "verifier:".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xlb/abi.h>

#include "loader.h"
#include "log.h"
#include "testlib.h"
#include "xdp_lb.skel.h"
#include "tc_lb.skel.h"
#include "null.skel.h"

/* The kernel's limit on instructions walked per program. */
#define VERIFIER_INSN_LIMIT 1000000

static void report(const char *what, struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char label[80];
	int err;

	err = bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	if (!ASSERT_EQ(err, 0, "%s: program info", what))
		return;
	snprintf(label, sizeof(label), "%s:", what);
	printf("verifier: %-55s xlated %5u insns, jited %6u bytes, "
	       "verified %7u insns\n",
	       label, info.xlated_prog_len / 8, info.jited_prog_len,
	       info.verified_insns);
	ASSERT_TRUE(info.xlated_prog_len > 0, "%s: translated", what);
	ASSERT_TRUE(info.jited_prog_len > 0, "%s: jited", what);
	ASSERT_TRUE(info.verified_insns > 0, "%s: verified %u insns", what,
		    info.verified_insns);
	ASSERT_TRUE(info.verified_insns < VERIFIER_INSN_LIMIT,
		    "%s: verified %u insns, below %u", what,
		    info.verified_insns, VERIFIER_INSN_LIMIT);
}

/*
 * Loads both programs through xlbd's loader (unpinned, default sizes) and
 * reports them. The rows without a port_filter label load it off: they are
 * the figures this report has always printed, kept comparable with older
 * runs. The port_filter=1 rows are the programs as xlbd loads them, with
 * its default source NAT ports (snat=1: the verifier walks that code
 * only when the range is set).
 */
static void check_dp(__u32 fib, bool port_filter)
{
	struct xlb_loader_opts o = {
		.fib_redirect = fib,
		.no_port_filter = !port_filter,
		.snat_port_min = port_filter ? XLB_DEF_SNAT_PORT_MIN : 0,
		.snat_port_max = port_filter ? XLB_DEF_SNAT_PORT_MAX : 0,
	};
	const char *pf = port_filter ? ", port_filter=1, snat=1" : "";
	char xdp[64], tc[64];
	struct xlb_dp dp;
	int err;

	snprintf(xdp, sizeof(xdp), "xlb_xdp (fib_redirect=%u%s)", fib, pf);
	snprintf(tc, sizeof(tc), "xlb_tc (fib_redirect=%u%s)", fib, pf);
	err = xlb_dp_load(&dp, &o);
	if (!ASSERT_OK(err, "xlb_xdp, xlb_tc (fib_redirect=%u%s): loaded", fib,
		       pf))
		return;
	report(xdp, dp.xdp->progs.xlb_xdp);
	report(tc, dp.tc->progs.xlb_tc);
	xlb_dp_close(&dp);
}

static void check_null(void)
{
	struct xlb_null *skel;
	int err;

	skel = xlb_null__open();
	if (!ASSERT_TRUE(skel, "xlb_null: open"))
		return;
	err = xlb_null__load(skel);
	if (ASSERT_EQ(err, 0, "xlb_null: loaded"))
		report("xlb_null", skel->progs.xlb_null);
	xlb_null__destroy(skel);
}

int main(void)
{
	xlb_log_set_prefix("test_verifier");
	xlb_log_libbpf();

	check_dp(0, false);
	check_dp(1, false);
	check_dp(0, true);
	check_dp(1, true);
	check_null();
	return test_done();
}
