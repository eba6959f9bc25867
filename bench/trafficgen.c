// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trafficgen: a live-frame IPv4/UDP generator and its counting sink.
 *
 * The generator is bpf_prog_test_run_opts() with
 * BPF_F_TEST_XDP_LIVE_FRAMES on the xb_trafficgen program, which writes
 * each frame and redirects it out of --iface (a veth: its peer must run
 * an XDP program for the redirect to be accepted). Each call sends about
 * a second of frames (a call has milliseconds of setup), sized from a
 * short calibration call; the run stops after --seconds.
 *
 * The sink is the xb_count XDP program, attached for the duration of
 * the run to --count-iface inside --count-netns and detached at the end.
 * The rate reported is frames counted there divided by the generator's
 * wall time: what made it through the device under test. Prints one
 * JSON object.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "count.skel.h"
#include "trafficgen.skel.h"

#define CALIBRATE_FRAMES	65536u
#define MIN_CALL_FRAMES		65536u
#define MAX_CALL_FRAMES		(1u << 26)
#define MAX_SECONDS		60.0
#define XB_CNT_MAX		2

struct opts {
	const char *netns;		/* generator netns (path), optional */
	const char *iface;		/* egress interface */
	__u8 dmac[6];
	__u32 saddr, daddr;		/* host order */
	__u16 sport, dport;
	bool new_flows;
	__u32 flow_base;
	double seconds;
	__u32 frame_len;
	int cpu;
	const char *count_netns;	/* sink netns (path) */
	const char *count_iface;
	__u32 match_prefix, match_mask;	/* host order */
	__u16 match_port;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_ip(const char *s, __u32 *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

/* PREFIX/LEN:PORT */
static int parse_match(const char *s, struct opts *o)
{
	char buf[64], *slash, *colon;
	unsigned long len, port;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	colon = strrchr(buf, ':');
	if (!slash || !colon || colon < slash)
		return -EINVAL;
	*slash = *colon = '\0';
	len = strtoul(slash + 1, NULL, 10);
	port = strtoul(colon + 1, NULL, 10);
	if (len > 32 || !port || port > 65535 ||
	    parse_ip(buf, &o->match_prefix))
		return -EINVAL;
	o->match_mask = len ? ~0u << (32 - len) : 0;
	o->match_prefix &= o->match_mask;
	o->match_port = port;
	return 0;
}

static int enter_netns(const char *path)
{
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("netns %s: open: %s", path, strerror(errno));
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		pr_err("netns %s: setns: %s", path, strerror(errno));
	}
	close(fd);
	return err;
}

static int iface_mac(const char *name, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int read_counts(struct xb_count *cs, int ncpus, __u64 out[XB_CNT_MAX])
{
	__u64 *vals;
	__u32 i;
	int c, err = 0;

	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < XB_CNT_MAX; i++) {
		err = bpf_map_lookup_elem(bpf_map__fd(cs->maps.xb_counts), &i,
					  vals);
		if (err) {
			pr_err("xb_counts: lookup %u: %s", i, strerror(-err));
			break;
		}
		out[i] = 0;
		for (c = 0; c < ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
	return err;
}

/* Loads the sink and attaches it in its netns; *ifindex is set once it
 * is attached, so the caller knows to detach. */
static int sink_attach(const struct opts *o, struct xb_count **out,
		       int *ifindex)
{
	struct xb_count *cs;
	int idx, err;

	cs = xb_count__open();
	if (!cs) {
		err = -errno;
		pr_err("count: open: %s", strerror(errno));
		return err;
	}
	cs->rodata->cnt_prefix = htonl(o->match_prefix);
	cs->rodata->cnt_mask = htonl(o->match_mask);
	cs->rodata->cnt_dport = htons(o->match_port);
	err = xb_count__load(cs);
	if (err) {
		pr_err("count: load: %s", strerror(-err));
		goto fail;
	}
	idx = if_nametoindex(o->count_iface);
	if (!idx) {
		err = -errno;
		pr_err("--count-iface %s: %s", o->count_iface,
		       strerror(errno));
		goto fail;
	}
	err = bpf_xdp_attach(idx, bpf_program__fd(cs->progs.xb_count),
			     XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			     NULL);
	if (err) {
		pr_err("--count-iface %s: attach XDP: %s", o->count_iface,
		       strerror(-err));
		goto fail;
	}
	*ifindex = idx;
	*out = cs;
	return 0;
fail:
	xb_count__destroy(cs);
	return err;
}

static int gen_load(const struct opts *o, struct xb_trafficgen **out)
{
	struct xb_trafficgen *tg;
	__u8 smac[6];
	int idx, err, i;

	idx = if_nametoindex(o->iface);
	if (!idx) {
		pr_err("--iface %s: %s", o->iface, strerror(errno));
		return -ENODEV;
	}
	err = iface_mac(o->iface, smac);
	if (err) {
		pr_err("--iface %s: MAC address: %s", o->iface, strerror(-err));
		return err;
	}
	tg = xb_trafficgen__open();
	if (!tg) {
		err = -errno;
		pr_err("trafficgen: open: %s", strerror(errno));
		return err;
	}
	tg->rodata->tg_ifindex = idx;
	for (i = 0; i < 6; i++) {
		tg->rodata->tg_smac[i] = smac[i];
		tg->rodata->tg_dmac[i] = o->dmac[i];
	}
	tg->rodata->tg_saddr = o->saddr;
	tg->rodata->tg_snet = o->saddr & 0xffff0000u;
	tg->rodata->tg_daddr = o->daddr;
	tg->rodata->tg_sport = o->sport;
	tg->rodata->tg_dport = o->dport;
	tg->rodata->tg_l3len = o->frame_len - 14;
	tg->rodata->tg_new_flows = o->new_flows;
	tg->rodata->tg_flow_base = o->flow_base;
	err = xb_trafficgen__load(tg);
	if (err) {
		pr_err("trafficgen: load: %s", strerror(-err));
		xb_trafficgen__destroy(tg);
		return err;
	}
	*out = tg;
	return 0;
}

static int gen_call(int prog_fd, const __u8 *frame, __u32 len, __u32 frames)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .repeat = frames,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		pr_err("live frames: test run of %u frames: %s", frames,
		       strerror(-err));
	return err;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --iface IF --dst-mac MAC --src IP --dst IP --dport N\n"
		"          --count-netns PATH --count-iface IF --match PREFIX/LEN:PORT\n"
		"          [--netns PATH] [--sport N] [--mode established|new]\n"
		"          [--flow-base N] [--seconds S] [--len BYTES] [--cpu N]\n"
		"  --netns PATH        generator netns to enter (/run/netns/NAME)\n"
		"  --src IP            source; new-flow mode varies the low 16 bits\n"
		"                      and the source port\n"
		"  --count-netns/-iface  where the counting sink is attached\n"
		"  --match P/L:PORT    destination the sink counts as delivered\n"
		"  --seconds S         generation time (default 2, max 60)\n"
		"  --len BYTES         frame length without FCS (default 60)\n"
		"  --cpu N             CPU to run on (default 0, -1: any)\n",
		prog);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "netns", required_argument, NULL, 'N' },
		{ "iface", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "sport", required_argument, NULL, 'S' },
		{ "dport", required_argument, NULL, 'D' },
		{ "mode", required_argument, NULL, 'M' },
		{ "flow-base", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 't' },
		{ "len", required_argument, NULL, 'l' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "count-netns", required_argument, NULL, 'C' },
		{ "count-iface", required_argument, NULL, 'I' },
		{ "match", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool mac = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'N':
			o->netns = optarg;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, o->dmac)) {
				fprintf(stderr, "--dst-mac %s: not a MAC\n",
					optarg);
				return -EINVAL;
			}
			mac = true;
			break;
		case 's':
		case 'd':
			if (parse_ip(optarg, opt == 's' ? &o->saddr :
				     &o->daddr)) {
				fprintf(stderr, "--%s %s: not an IPv4 address\n",
					opt == 's' ? "src" : "dst", optarg);
				return -EINVAL;
			}
			break;
		case 'S':
			o->sport = strtoul(optarg, NULL, 10);
			break;
		case 'D':
			o->dport = strtoul(optarg, NULL, 10);
			break;
		case 'M':
			if (!strcmp(optarg, "new")) {
				o->new_flows = true;
			} else if (strcmp(optarg, "established")) {
				fprintf(stderr, "--mode %s: want established "
					"or new\n", optarg);
				return -EINVAL;
			}
			break;
		case 'f':
			o->flow_base = strtoul(optarg, NULL, 0);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'l':
			o->frame_len = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o->cpu = atoi(optarg);
			break;
		case 'C':
			o->count_netns = optarg;
			break;
		case 'I':
			o->count_iface = optarg;
			break;
		case 'x':
			if (parse_match(optarg, o)) {
				fprintf(stderr, "--match %s: want "
					"PREFIX/LEN:PORT\n", optarg);
				return -EINVAL;
			}
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 1 : -EINVAL;
		}
	}
	if (!o->iface || !mac || !o->saddr || !o->daddr || !o->dport ||
	    !o->count_netns || !o->count_iface || !o->match_port) {
		usage(argv[0]);
		return -EINVAL;
	}
	if (o->seconds <= 0 || o->seconds > MAX_SECONDS) {
		fprintf(stderr, "--seconds %g: want > 0 and <= %g\n",
			o->seconds, MAX_SECONDS);
		return -EINVAL;
	}
	if (o->frame_len < 42 || o->frame_len > 1514) {
		fprintf(stderr, "--len %u: want 42 .. 1514\n", o->frame_len);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .sport = 40000, .seconds = 2.0, .frame_len = 60 };
	struct xb_trafficgen *tg = NULL;
	struct xb_count *cs = NULL;
	__u64 before[XB_CNT_MAX], after[XB_CNT_MAX], sent = 0, t0, t1, elapsed;
	__u8 frame[1514] = {};
	__u32 per_call, calls = 0, max_calls;
	int orig_ns = -1, sink_ifindex = 0, ncpus, prog_fd, err;
	double rate;

	err = parse_args(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	xlb_log_set_prefix("trafficgen");
	xlb_log_libbpf();
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			pr_warn("--cpu %d: %s; running unpinned", o.cpu,
				strerror(errno));
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1) {
		pr_err("possible CPUs: %s", strerror(-ncpus));
		return 1;
	}
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_ns < 0) {
		pr_err("/proc/self/ns/net: %s", strerror(errno));
		return 1;
	}

	err = enter_netns(o.count_netns);
	if (err)
		goto cleanup;
	err = sink_attach(&o, &cs, &sink_ifindex);
	if (err)
		goto cleanup;
	if (o.netns)
		err = enter_netns(o.netns);
	else if (setns(orig_ns, CLONE_NEWNET))
		err = -errno;
	if (err)
		goto cleanup;
	err = gen_load(&o, &tg);
	if (err)
		goto cleanup;
	prog_fd = bpf_program__fd(tg->progs.xb_trafficgen);

	/* Calibration: also warms the path (neighbours, conntrack ...). */
	t0 = now_ns();
	err = gen_call(prog_fd, frame, o.frame_len, CALIBRATE_FRAMES);
	if (err)
		goto cleanup;
	t1 = now_ns();
	rate = CALIBRATE_FRAMES * 1e9 / (double)(t1 - t0 ? t1 - t0 : 1);
	per_call = rate > MAX_CALL_FRAMES ? MAX_CALL_FRAMES :
		   rate < MIN_CALL_FRAMES ? MIN_CALL_FRAMES : (__u32)rate;
	/* A slow path can make even the smallest call last several
	 * seconds: bound the number of calls, not only the time. */
	max_calls = (__u32)(o.seconds * 4) + 2;
	usleep(20000);

	err = read_counts(cs, ncpus, before);
	if (err)
		goto cleanup;
	t0 = now_ns();
	t1 = t0;
	while (calls < max_calls &&
	       (t1 - t0) < (__u64)(o.seconds * 1e9)) {
		__u64 left = (__u64)(o.seconds * 1e9) - (t1 - t0);
		__u32 n = per_call;

		/* Trim the last call to the time left, at the rate seen. */
		if (calls && left < 1000000000ull) {
			double r = sent * 1e9 / (double)(t1 - t0);

			n = r * left / 1e9;
			if (n < MIN_CALL_FRAMES / 4)
				break;
		}
		err = gen_call(prog_fd, frame, o.frame_len, n);
		if (err)
			goto cleanup;
		sent += n;
		calls++;
		t1 = now_ns();
	}
	elapsed = t1 - t0;
	/* Frames still queued on the path are delivered within a few
	 * milliseconds; they belong to this run. */
	usleep(50000);
	err = read_counts(cs, ncpus, after);
	if (err)
		goto cleanup;

	printf("{\"mode\": \"%s\", \"frame_len\": %u, \"calls\": %u, "
	       "\"frames_per_call\": %u, \"sent\": %llu, \"counted\": %llu, "
	       "\"matched\": %llu, \"seconds\": %.3f, \"gen_pps\": %.0f, "
	       "\"pps\": %.0f}\n",
	       o.new_flows ? "new" : "established", o.frame_len, calls,
	       per_call, (unsigned long long)sent,
	       (unsigned long long)(after[0] - before[0]),
	       (unsigned long long)(after[1] - before[1]), elapsed / 1e9,
	       sent * 1e9 / elapsed, (after[0] - before[0]) * 1e9 / elapsed);
cleanup:
	xb_trafficgen__destroy(tg);
	if (sink_ifindex) {
		int derr = enter_netns(o.count_netns);

		derr = derr ?: bpf_xdp_detach(sink_ifindex, XDP_FLAGS_DRV_MODE,
					      NULL);
		if (derr)
			pr_err("--count-iface %s: detach XDP: %s",
			       o.count_iface, strerror(-derr));
		err = err ?: derr;
	}
	xb_count__destroy(cs);
	if (orig_ns >= 0 && setns(orig_ns, CLONE_NEWNET))
		pr_warn("back to the first netns: %s", strerror(errno));
	if (orig_ns >= 0)
		close(orig_ns);
	return err ? 1 : 0;
}
