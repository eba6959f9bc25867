/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maglev agreement: the ring slot the datapath reads for 10,000 flows per
 * family is ring[xlb_flow_hash(tuple) % M], computed here.
 */
#ifndef XLB_SELFTEST_DP_MAGLEV_H
#define XLB_SELFTEST_DP_MAGLEV_H

#include "world.h"

static void mg_flow(struct pkt_spec *s, int family, __u32 j)
{
	static const struct pkt_addr vip4 = VIP4_MG, vip6 = VIP6_MG;
	static const struct pkt_spec base = { MACS, .payload_len = 18 };

	*s = base;
	s->family = family;
	s->proto = j & 1 ? IPPROTO_UDP : IPPROTO_TCP;
	s->dport = 80;
	s->sport = 1024 + (j * 7919) % 64000;
	memset(&s->saddr, 0, sizeof(s->saddr));
	if (family == 4) {
		s->saddr.b[0] = 100;
		s->saddr.b[1] = 64 + (j >> 16);
		s->saddr.b[2] = j >> 8;
		s->saddr.b[3] = j & 0xff;
		s->daddr = vip4;
	} else {
		s->saddr.b[0] = 0x20;
		s->saddr.b[1] = 0x01;
		s->saddr.b[2] = 0x0d;
		s->saddr.b[3] = 0xb8;
		s->saddr.b[7] = j * 37;
		s->saddr.b[11] = j >> 3;
		s->saddr.b[14] = j >> 8;
		s->saddr.b[15] = j & 0xff;
		s->daddr = vip6;
	}
}

/* The slot userspace expects: ring[xlb_flow_hash(tuple) % M]. */
static __u32 mg_expected_slot(const struct pkt_spec *s)
{
	return spec_hash(s) % MG_M;
}

static void maglev_agreement(const struct h_prog *pg, int family)
{
	__u8 in[PKT_MAX_LEN], want[PKT_MAX_LEN], out[OUT_CAP];
	__u32 base = family == 4 ? MG4_BE_BASE : MG6_BE_BASE;
	static bool hit[MG_M];
	__u32 j, slot, k, out_len = 0, mismatches = 0, errors = 0, spread = 0;
	struct pkt_spec s, exp;
	size_t in_len, want_len;
	int verdict = V_OTHER, err, shown = 0;

	err = flush_ct();
	if (err) {
		TEST_FAIL("maglev v%d: flush conntrack: %s",
			  family, strerror(-err));
		return;
	}
	memset(hit, 0, sizeof(hit));
	for (j = 0; j < MG_FLOWS; j++) {
		mg_flow(&s, family, j);
		slot = mg_expected_slot(&s);
		k = mg_ring_id(base, slot) - base;
		exp = s;
		mg_be_addr(&exp.daddr, family, k);
		exp.dport = mg_be_port(k);
		if (!hit[slot])
			spread++;
		hit[slot] = true;
		in_len = pkt_build(&s, in, sizeof(in), NULL);
		want_len = pkt_build(&exp, want, sizeof(want), NULL);
		err = run_pkt(pg, in, in_len, out, &out_len, &verdict);
		if (err || !in_len || !want_len) {
			errors++;
			continue;
		}
		if (verdict != V_PASS || out_len != want_len ||
		    memcmp(out, want, want_len)) {
			/* Backend k's address ends in k (mg_be_addr). */
			size_t d = family == 4 ? 14 + 18 : 14 + 38;

			mismatches++;
			if (shown++ < 3 && out_len > d + 1)
				printf("# %smaglev v%d flow %u (sport %u, %s): "
				       "verdict %s, backend %u, expected %u "
				       "(slot %u)\n",
				       test_sub_prefix, family, j, s.sport,
				       s.proto == IPPROTO_TCP ? "tcp" : "udp",
				       verdict_names[verdict],
				       base + (out[d] << 8 | out[d + 1]),
				       base + k, slot);
		}
	}
	ASSERT_EQ(errors, 0, "maglev v%d: %u flows ran", family,
		  MG_FLOWS);
	ASSERT_EQ(mismatches, 0,
		  "maglev v%d: every flow went to ring[xlb_flow_hash %% %u]",
		  family, MG_M);
	/* The flows exercise the whole ring: about 10 per slot, so all but
	 * a handful of slots are expected by at least one flow. */
	ASSERT_TRUE(spread >= MG_M * 95 / 100,
		    "maglev v%d: flows expect %u of %u slots",
		    family, spread, MG_M);
	/* Each flow left one conntrack entry, its client's. */
	ASSERT_EQ(ct_count(), MG_FLOWS, "maglev v%d: conntrack entries",
		  family);
}

static void maglev_run(const struct h_prog *pg)
{
	maglev_agreement(pg, 4);
	maglev_agreement(pg, 6);
}

static const struct h_table dp_maglev = { .name = "maglev", .run = maglev_run };

#endif /* XLB_SELFTEST_DP_MAGLEV_H */
