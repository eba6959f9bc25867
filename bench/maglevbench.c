// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * maglevbench: what xlbd's Maglev tables cost and how well they spread,
 * measured on libxlb's own xlb_maglev_build().
 *
 *   generation  wall time of one build (M = 65537, N = 1,000, and the
 *               table xlbd picks for 3 / 30 / 300 backends); median
 *               and lowest of --reps builds after one unmeasured build
 *   balance     slots per backend: highest and lowest share of the
 *               table, each as a ratio to the ideal 1/N
 *   disruption  one backend removed (or one added): the share of slots
 *               that changed backend, against the ideal 1/N (1/(N+1)):
 *               only the removed (added) backend's slots move; mean and
 *               highest over --samples choices of the backend
 *
 * N = 10, 100, 1,000 backends of weight 1, at M = 65537 and at the
 * table size xlbd picks for N. Prints a markdown table; --json FILE
 * also writes the figures.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "log.h"
#include "maglev.h"

#define MAX_N		1001
#define MAX_REPS	200

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Backend k: 10.(k / 256).(k % 256).7:8080, id k + 1. */
static void backends(struct xlb_maglev_backend *bes, size_t n)
{
	size_t k;

	memset(bes, 0, n * sizeof(*bes));
	for (k = 0; k < n; k++) {
		bes[k].id = k + 1;
		bes[k].addr.v4 = htonl(0x0a000007u | (__u32)(k & 0xffff) << 8);
		bes[k].port = htons(8080);
		bes[k].family = XLB_AF_INET;
		bes[k].weight = 1;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct gen {
	size_t n;
	__u32 m;
	double med_ms, min_ms;
};

static int time_build(struct gen *g, int reps)
{
	struct xlb_maglev_backend *bes = calloc(g->n, sizeof(*bes));
	__u32 *table = calloc(g->m, sizeof(*table));
	double t[MAX_REPS];
	int r, err = -ENOMEM;

	if (!bes || !table)
		goto out;
	backends(bes, g->n);
	for (r = -1; r < reps; r++) {
		__u64 t0 = now_ns();

		err = xlb_maglev_build(bes, g->n, g->m, table);
		if (err) {
			pr_err("build n=%zu m=%u: %s", g->n, g->m,
			       strerror(-err));
			goto out;
		}
		if (r >= 0)
			t[r] = (now_ns() - t0) / 1e6;
	}
	qsort(t, reps, sizeof(t[0]), cmp_double);
	g->med_ms = t[reps / 2];
	g->min_ms = t[0];
out:
	free(bes);
	free(table);
	return err;
}

struct spread {
	size_t n;
	__u32 m;
	__u32 max_slots, min_slots;
	double max_share, min_share;	/* ratios to 1/N */
	double rm_mean, rm_max;		/* changed share / (1/N) */
	double add_mean, add_max;	/* changed share / (1/(N+1)) */
	double rm_share, add_share;	/* mean changed share of the table */
	int samples;
};

static size_t changed(const __u32 *a, const __u32 *b, __u32 m)
{
	size_t i, c = 0;

	for (i = 0; i < m; i++)
		c += a[i] != b[i];
	return c;
}

static int measure_spread(struct spread *sp, int samples)
{
	struct xlb_maglev_backend *bes = calloc(sp->n + 1, sizeof(*bes));
	struct xlb_maglev_backend *less = calloc(sp->n + 1, sizeof(*bes));
	__u32 *base = calloc(sp->m, sizeof(__u32));
	__u32 *t2 = calloc(sp->m, sizeof(__u32));
	__u32 *count = calloc(sp->n + 2, sizeof(__u32));
	double ideal = 1.0 / sp->n, q;
	size_t i, s, skip;
	int err = -ENOMEM;

	if (!bes || !less || !base || !t2 || !count)
		goto out;
	backends(bes, sp->n + 1);	/* the extra one is for "add one" */
	err = xlb_maglev_build(bes, sp->n, sp->m, base);
	if (err)
		goto fail;
	for (i = 0; i < sp->m; i++)
		count[base[i]]++;
	sp->max_slots = 0;
	sp->min_slots = sp->m;
	for (i = 1; i <= sp->n; i++) {
		if (count[i] > sp->max_slots)
			sp->max_slots = count[i];
		if (count[i] < sp->min_slots)
			sp->min_slots = count[i];
	}
	sp->max_share = (double)sp->max_slots / sp->m / ideal;
	sp->min_share = (double)sp->min_slots / sp->m / ideal;

	sp->samples = samples < (int)sp->n ? samples : (int)sp->n;
	sp->rm_mean = sp->rm_max = sp->add_mean = sp->add_max = 0;
	sp->rm_share = sp->add_share = 0;
	for (s = 0; s < (size_t)sp->samples; s++) {
		/* Remove backend skip, spread over the set. */
		skip = s * sp->n / sp->samples;
		memcpy(less, bes, skip * sizeof(*bes));
		memcpy(less + skip, bes + skip + 1,
		       (sp->n - skip - 1) * sizeof(*bes));
		err = xlb_maglev_build(less, sp->n - 1, sp->m, t2);
		if (err)
			goto fail;
		q = (double)changed(base, t2, sp->m) / sp->m;
		sp->rm_share += q / sp->samples;
		q /= ideal;
		sp->rm_mean += q / sp->samples;
		if (q > sp->rm_max)
			sp->rm_max = q;
	}
	/* Add one: backend n joins (one way only, the same every sample). */
	err = xlb_maglev_build(bes, sp->n + 1, sp->m, t2);
	if (err)
		goto fail;
	q = (double)changed(base, t2, sp->m) / sp->m;
	sp->add_share = q;
	sp->add_mean = sp->add_max = q * (sp->n + 1);
	err = 0;
	goto out;
fail:
	pr_err("build n=%zu m=%u: %s", sp->n, sp->m, strerror(-err));
out:
	free(bes);
	free(less);
	free(base);
	free(t2);
	free(count);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "samples", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const size_t ns[] = { 10, 100, 1000 };
	struct gen gens[] = {
		{ 1000, 65537 },
		{ 3, 0 }, { 30, 0 }, { 300, 0 },
	};
	struct spread sps[6];
	const char *json = NULL;
	int reps = 20, samples = 10, opt, err = 0;
	size_t i, nsp = 0;
	FILE *f = NULL;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 's':
			samples = atoi(optarg);
			break;
		case 'j':
			json = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [--reps N] [--samples N] "
				"[--json FILE]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || samples < 1 || samples > 1000) {
		fprintf(stderr, "--reps 1..%d, --samples 1..1000\n", MAX_REPS);
		return 2;
	}
	xlb_log_set_prefix("maglevbench");

	for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		if (!gens[i].m)
			gens[i].m = xlb_maglev_table_size(gens[i].n);
		err = time_build(&gens[i], reps);
		if (err)
			return 1;
	}
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		__u32 ms[2] = { xlb_maglev_table_size(ns[i]), XLB_RING_MAX };
		int k;

		for (k = 0; k < 2; k++) {
			if (k == 1 && ms[1] == ms[0])
				continue;
			sps[nsp].n = ns[i];
			sps[nsp].m = ms[k];
			err = measure_spread(&sps[nsp], samples);
			if (err)
				return 1;
			nsp++;
		}
	}

	printf("| N backends | M slots | build median ms | build lowest ms |\n");
	printf("|---:|---:|---:|---:|\n");
	for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		printf("| %zu | %u | %.3f | %.3f |\n", gens[i].n, gens[i].m,
		       gens[i].med_ms, gens[i].min_ms);
	printf("\n| N | M | slots per backend min-max | share max / ideal 1/N "
	       "| share min / ideal | remove one: moved share (ideal 1/N) "
	       "| moved / ideal, mean (max) | add one: moved share (ideal "
	       "1/(N+1)) | moved / ideal |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < nsp; i++)
		printf("| %zu | %u | %u-%u | %.4f | %.4f | %.5f (%.5f) | "
		       "%.3f (%.3f) | %.5f (%.5f) | %.3f |\n", sps[i].n,
		       sps[i].m, sps[i].min_slots, sps[i].max_slots,
		       sps[i].max_share, sps[i].min_share, sps[i].rm_share,
		       1.0 / sps[i].n, sps[i].rm_mean, sps[i].rm_max,
		       sps[i].add_share, 1.0 / (sps[i].n + 1), sps[i].add_mean);

	if (!json)
		return 0;
	f = fopen(json, "w");
	if (!f) {
		pr_err("--json %s: %s", json, strerror(errno));
		return 1;
	}
	fprintf(f, "{\"reps\": %d, \"samples\": %d, \"generation\": [", reps,
		samples);
	for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		fprintf(f, "%s\n  {\"n\": %zu, \"m\": %u, \"median_ms\": %.4f, "
			"\"min_ms\": %.4f}", i ? "," : "", gens[i].n, gens[i].m,
			gens[i].med_ms, gens[i].min_ms);
	fprintf(f, "\n], \"spread\": [");
	for (i = 0; i < nsp; i++)
		fprintf(f, "%s\n  {\"n\": %zu, \"m\": %u, \"min_slots\": %u, "
			"\"max_slots\": %u, \"max_share_vs_ideal\": %.5f, "
			"\"min_share_vs_ideal\": %.5f, "
			"\"remove_moved_share\": %.6f, \"remove_vs_ideal\": %.4f, "
			"\"remove_vs_ideal_max\": %.4f, \"remove_samples\": %d, "
			"\"add_moved_share\": %.6f, \"add_vs_ideal\": %.4f}",
			i ? "," : "", sps[i].n, sps[i].m, sps[i].min_slots,
			sps[i].max_slots, sps[i].max_share, sps[i].min_share,
			sps[i].rm_share, sps[i].rm_mean, sps[i].rm_max,
			sps[i].samples, sps[i].add_share, sps[i].add_mean);
	fprintf(f, "\n]}\n");
	if (fclose(f)) {
		pr_err("--json %s: %s", json, strerror(errno));
		return 1;
	}
	return 0;
}
