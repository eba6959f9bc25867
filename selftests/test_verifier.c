// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Verifier report: loads the XDP, tc and null programs with their default
 * (production) map sizes and prints, for each, the translated instruction
 * count, the JIT image size and the number of instructions the verifier
 * walked. The XDP and tc programs are loaded with fib_redirect off and on:
 * the setting is rodata, so the verifier prunes the forwarding code when
 * it is off and must walk it when it is on.
 *
 * Lines to quote start with "verifier:".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xlb/abi.h>

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
	printf("verifier: %-27s xlated %5u insns, jited %6u bytes, "
	       "verified %7u insns\n", label, info.xlated_prog_len / 8,
	       info.jited_prog_len, info.verified_insns);
	ASSERT_TRUE(info.xlated_prog_len > 0 && info.jited_prog_len > 0,
		    "%s: translated and jited", what);
	ASSERT_TRUE(info.verified_insns > 0 &&
		    info.verified_insns < VERIFIER_INSN_LIMIT,
		    "%s: verified %u insns, below %u", what,
		    info.verified_insns, VERIFIER_INSN_LIMIT);
}

static void check_xdp(__u32 fib)
{
	struct xlb_xdp_lb *skel;
	char what[64];
	int err;

	snprintf(what, sizeof(what), "xlb_xdp (fib_redirect=%u)", fib);
	skel = xlb_xdp_lb__open();
	if (!ASSERT_TRUE(skel, "%s: open", what))
		return;
	skel->rodata->xlb_cfg.fib_redirect = fib;
	err = xlb_xdp_lb__load(skel);
	if (ASSERT_EQ(err, 0, "%s: loaded", what))
		report(what, skel->progs.xlb_xdp);
	xlb_xdp_lb__destroy(skel);
}

static void check_tc(__u32 fib)
{
	struct xlb_tc_lb *skel;
	char what[64];
	int err;

	snprintf(what, sizeof(what), "xlb_tc (fib_redirect=%u)", fib);
	skel = xlb_tc_lb__open();
	if (!ASSERT_TRUE(skel, "%s: open", what))
		return;
	skel->rodata->xlb_cfg.fib_redirect = fib;
	err = xlb_tc_lb__load(skel);
	if (ASSERT_EQ(err, 0, "%s: loaded", what))
		report(what, skel->progs.xlb_tc);
	xlb_tc_lb__destroy(skel);
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

	check_xdp(0);
	check_xdp(1);
	check_tc(0);
	check_tc(1);
	check_null();
	return test_done();
}
