// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbd: the xlb agent. Loads and attaches the datapath, then keeps the
 * maps in step with the config file: on start, on SIGHUP and whenever
 * the file changes on disk. SIGTERM leaves the datapath running with its
 * pinned maps; the next xlbd adopts them without dropping a flow.
 *
 * This file reads the options and picks the source; agent.c runs the
 * rest (start, event loop, stop), source_file.c and k8s.c are the
 * sources.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "util.h"

/* Everything the options set: what the agent runs with, and what picks
 * and authenticates the Kubernetes source. */
struct args {
	struct xlb_agent_opts o;
	const char *kubeconfig;		/* --kubeconfig */
	bool in_cluster;		/* --in-cluster */
	const char *k8s_server;		/* --k8s-server */
	bool k8s_insecure;		/* --k8s-insecure-skip-tls-verify */
	char hostname[256];		/* the default --node-name */
};

static const char usage[] =
	"Usage: xlbd --config FILE --iface IF[,IF...] [options]\n"
	"       xlbd --kubeconfig FILE | --in-cluster  [--node-name NAME]\n"
	"            --iface IF[,IF...] [options]\n"
	"\n"
	"Loads the xlb datapath, attaches it to the interfaces and programs\n"
	"the services of FILE. Reloads FILE on SIGHUP and when it changes.\n"
	"SIGTERM stops xlbd and leaves the datapath running with its maps\n"
	"pinned; a new xlbd adopts them. `xlbctl detach` removes everything.\n"
	"\n"
	"  -c, --config PATH      JSON config file (see README, examples/), or\n"
	"                         a directory of *.json files: a change of one\n"
	"                         file is applied to its services only\n"
	"      --kubeconfig FILE  program the Services and EndpointSlices of the\n"
	"                         cluster of FILE's current context instead\n"
	"      --in-cluster       the same with the pod's service account\n"
	"                         (KUBERNETES_SERVICE_HOST/PORT, token, CA)\n"
	"      --node-name NAME   this node (default $K8S_NODE_NAME, else\n"
	"                         the host name): locality and zone\n"
	"      --k8s-server URL   the API server, overriding the kubeconfig's\n"
	"                         or KUBERNETES_SERVICE_HOST/PORT\n"
	"      --k8s-insecure-skip-tls-verify  do not verify the API server's\n"
	"                         certificate (tests only)\n"
	"  -i, --iface LIST       interfaces to attach to, comma separated\n"
	"  -m, --xdp-mode MODE    native (default), generic, best-effort\n"
	"                         (native XDP where possible, tc elsewhere)\n"
	"                         or tc (tc clsact ingress only)\n"
	"  -b, --bpffs DIR        pin directory (default " XLB_DEFAULT_BPFFS ")\n"
	"      --fib-redirect     forward in XDP/tc with bpf_fib_lookup and\n"
	"                         redirect instead of passing to the stack\n"
	"      --ring-slots N     Maglev slots for all services (default %u)\n"
	"      --max-services N   service ids (default %u)\n"
	"      --max-backends N   backend ids (default %u)\n"
	"      --ct-entries N     connection tracking entries, about one per flow\n"
	"                         (default %u)\n"
	"      --hairpin-address A  source given to a backend's connection\n"
	"                         to its own service when balanced to itself\n"
	"                         (once per family; default: the node's first\n"
	"                         address of that family)\n"
	"      --metrics-address ADDR:PORT  serve /metrics, /healthz and\n"
	"                         /readyz there (default " XLB_METRICS_DEF_ADDRESS ";\n"
	"                         [IPV6]:PORT; none or port 0: off)\n"
	"      --metrics-max-services N  per-service series at most\n"
	"                         (default %u)\n"
	"      --metrics-max-backends N  per-backend series at most\n"
	"                         (default %u)\n"
	"  -v, --verbose          more logs (-vv for debug)\n"
	"  -q, --quiet            only warnings and errors\n"
	"  -h, --help             this text\n"
	"\n"
	"Map sizes apply when the maps are created; pinned maps keep theirs.\n";


static int parse_u32(const char *opt, const char *s, __u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v == 0 || v > UINT32_MAX) {
		fprintf(stderr, "xlbd: %s \"%s\": not a positive integer\n", opt,
			s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Reads the options into g. Returns -1 to go on, else the exit status:
 * 0 after --help, 2 for a bad option or argument. */
static int parse_args(int argc, char **argv, struct args *g)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "iface", required_argument, NULL, 'i' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "fib-redirect", no_argument, NULL, 'F' },
		{ "ring-slots", required_argument, NULL, 'R' },
		{ "max-services", required_argument, NULL, 'S' },
		{ "max-backends", required_argument, NULL, 'B' },
		{ "ct-entries", required_argument, NULL, 'C' },
		{ "hairpin-address", required_argument, NULL, 'H' },
		{ "metrics-address", required_argument, NULL, 'M' },
		{ "metrics-max-services", required_argument, NULL, 'X' },
		{ "metrics-max-backends", required_argument, NULL, 'Y' },
		{ "kubeconfig", required_argument, NULL, 'K' },
		{ "in-cluster", no_argument, NULL, 'U' },
		{ "node-name", required_argument, NULL, 'N' },
		{ "k8s-server", required_argument, NULL, 'A' },
		{ "k8s-insecure-skip-tls-verify", no_argument, NULL, 'Z' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct xlb_agent_opts *o = &g->o;
	__u32 u32v;
	int c;

	while ((c = getopt_long(argc, argv, "c:i:m:b:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'i':
			o->ifaces = optarg;
			break;
		case 'm':
			if (xlb_parse_mode(optarg, &o->mode)) {
				fprintf(stderr, "xlbd: --xdp-mode \"%s\": not native, generic, best-effort or tc\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			o->lo.bpffs = optarg;
			break;
		case 'F':
			o->lo.fib_redirect = true;
			break;
		case 'R':
			if (parse_u32("--ring-slots", optarg, &o->lo.ring_slots))
				return 2;
			break;
		case 'S':
			if (parse_u32("--max-services", optarg, &o->lo.max_services))
				return 2;
			o->lo.max_frontends = o->lo.max_services;
			break;
		case 'B':
			if (parse_u32("--max-backends", optarg, &o->lo.max_backends))
				return 2;
			break;
		case 'C':
			if (parse_u32("--ct-entries", optarg, &o->lo.ct_entries))
				return 2;
			break;
		case 'H': {
			union xlb_addr ha;
			__u8 hf;

			if (xlb_addr_parse(optarg, &ha, &hf)) {
				fprintf(stderr, "xlbd: --hairpin-address \"%s\": not an IPv4 or IPv6 address\n",
					optarg);
				return 2;
			}
			o->hairpin[hf == XLB_AF_INET6].addr = ha;
			o->hairpin[hf == XLB_AF_INET6].family = hf;
			break;
		}
		case 'M': {
			struct sockaddr_storage ss;
			bool off;

			if (xlb_metrics_parse_address(optarg, &ss, &off)) {
				fprintf(stderr, "xlbd: --metrics-address \"%s\": not ADDR:PORT, [IPV6]:PORT or none\n",
					optarg);
				return 2;
			}
			o->mo.address = optarg;
			break;
		}
		case 'X':
			if (parse_u32("--metrics-max-services", optarg, &u32v))
				return 2;
			o->mo.max_services = u32v;
			break;
		case 'Y':
			if (parse_u32("--metrics-max-backends", optarg, &u32v))
				return 2;
			o->mo.max_backends = u32v;
			break;
		case 'K':
			g->kubeconfig = optarg;
			break;
		case 'U':
			g->in_cluster = true;
			break;
		case 'N':
			o->node_name = optarg;
			break;
		case 'A':
			g->k8s_server = optarg;
			break;
		case 'Z':
			g->k8s_insecure = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			printf(usage, XLB_DEF_RING_SLOTS, XLB_DEF_MAX_SERVICES,
			       XLB_DEF_MAX_BACKENDS, XLB_DEF_CT_ENTRIES,
			       XLB_METRICS_DEF_MAX_SERVICES,
			       XLB_METRICS_DEF_MAX_BACKENDS);
			return 0;
		default:
			fprintf(stderr, "Try 'xlbd --help'.\n");
			return 2;
		}
	}
	return -1;
}

static int need_source(void)
{
	fprintf(stderr, "xlbd: --config (or --kubeconfig, --in-cluster) and --iface are required\nTry 'xlbd --help'.\n");
	return 2;
}

/* The Kubernetes source: its credentials, API server and node name. */
static int k8s_source_open(struct args *g)
{
	struct xlb_k8s_auth *auth = &g->o.k8s_auth;
	char err[512] = "";

	if (!g->o.node_name)
		g->o.node_name = getenv("K8S_NODE_NAME");
	if ((!g->o.node_name || !g->o.node_name[0]) &&
	    !gethostname(g->hostname, sizeof(g->hostname)))
		g->o.node_name = g->hostname;
	if (g->kubeconfig ?
		    xlb_k8s_kubeconfig_load(g->kubeconfig, auth, err,
					    sizeof(err)) :
		    xlb_k8s_incluster_load(XLB_K8S_SA_DIR, auth, err,
					   sizeof(err))) {
		fprintf(stderr, "xlbd: %s\n", err);
		return 2;
	}
	if (g->k8s_server) {
		free(auth->server);
		auth->server = strdup(g->k8s_server);
	}
	if (!auth->server || strncmp(auth->server, "https://", 8)) {
		fprintf(stderr, "xlbd: API server \"%s\": not an https:// URL (KUBERNETES_SERVICE_HOST unset? use --k8s-server)\n",
			auth->server ? auth->server : "");
		xlb_k8s_auth_free(auth);
		return 2;
	}
	auth->insecure |= g->k8s_insecure;
	return 0;
}

/* One source, and the interfaces; extra: arguments after the options.
 * Returns 0 or the exit status. */
static int source_check(struct args *g, int extra)
{
	bool k8s = g->kubeconfig || g->in_cluster;

	if (!!g->o.config + !!g->kubeconfig + g->in_cluster > 1) {
		fprintf(stderr, "xlbd: --config, --kubeconfig and --in-cluster are different sources: give one\n");
		return 2;
	}
	if (!g->o.ifaces || extra || (!k8s && !g->o.config))
		return need_source();
	return k8s ? k8s_source_open(g) : 0;
}

int main(int argc, char **argv)
{
	struct args g = {
		.o = {
			.mode = XLB_MODE_NATIVE,
			.lo = { .bpffs = XLB_DEFAULT_BPFFS },
			.mo = {
				.address = XLB_METRICS_DEF_ADDRESS,
				.max_services = XLB_METRICS_DEF_MAX_SERVICES,
				.max_backends = XLB_METRICS_DEF_MAX_BACKENDS,
			},
		},
	};
	struct xlb_agent a;
	int rc;

	rc = parse_args(argc, argv, &g);
	if (rc >= 0)
		return rc;
	rc = source_check(&g, argc - optind);
	if (rc)
		return rc;
	rc = xlb_agent_start(&a, &g.o) ? 1 : xlb_agent_run(&a);
	xlb_agent_stop(&a);
	return rc;
}
