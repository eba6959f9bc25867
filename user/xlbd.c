// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbd: the xlb agent. Loads and attaches the datapath, then keeps the
 * maps in step with the config file: on start, on SIGHUP and whenever
 * the file changes on disk. SIGTERM leaves the datapath running with its
 * pinned maps; the next xlbd adopts them without dropping a flow.
 *
 * This file reads the options and picks the source; agent.c runs the
 * rest (start, event loop, stop), source_file.c and k8s/ are the
 * sources.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "links.h"
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

/* How an option's argument reaches its field of struct args. */
enum opt_kind {
	OPT_STR,	/* const char *: the argument */
	OPT_TRUE,	/* bool: set */
	OPT_COUNT,	/* int: one more */
	OPT_U32,	/* __u32: a positive integer */
	OPT_SIZE,	/* size_t: a positive integer of 32 bits */
	OPT_FN,		/* set() checks and stores it */
	OPT_HELP,	/* prints the usage, exits 0 */
};

/*
 * One table gives getopt_long its options and --help its text (as
 * xdp-tools' DEFINE_OPTION does), so the two cannot drift apart. In
 * help, a newline starts the next indented line and %u is def.
 */
struct opt {
	const char *name;
	char short_name;	/* or 0 */
	const char *arg;	/* the argument's name in --help; NULL: none */
	enum opt_kind kind;
	size_t off;		/* the field of struct args */
	int (*set)(struct args *g, const char *arg); /* OPT_FN */
	const char *help;
	unsigned int def;
	const char *bad;	/* what a rejected argument is not */
};

#define FIELD(f) offsetof(struct args, f)
#define NOT_POSITIVE "not a positive integer"

static int parse_u32(const char *s, __u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_mode(struct args *g, const char *arg)
{
	return xlb_parse_mode(arg, &g->o.mode);
}

/* A selection is checked now, so that a typo stops xlbd before it
 * loads anything; the agent parses it again. */
static int check_ifsel(const char *arg)
{
	struct xlb_ifsel s;
	char err[128];

	if (xlb_ifsel_parse(&s, arg, err, sizeof(err)))
		return -EINVAL;
	xlb_ifsel_free(&s);
	return 0;
}

static int set_iface(struct args *g, const char *arg)
{
	g->o.ifaces = arg;
	return check_ifsel(arg);
}

static int set_complete_csum(struct args *g, const char *arg)
{
	g->o.complete_csum = arg;
	return check_ifsel(arg);
}

/* Frontends are as many as services unless said otherwise. */
static int set_max_services(struct args *g, const char *arg)
{
	int rc = parse_u32(arg, &g->o.lo.max_services);

	g->o.lo.max_frontends = g->o.lo.max_services;
	return rc;
}

static int set_hairpin(struct args *g, const char *arg)
{
	union xlb_addr ha;
	__u8 hf;

	if (xlb_addr_parse(arg, &ha, &hf))
		return -EINVAL;
	g->o.hairpin[hf == XLB_AF_INET6].addr = ha;
	g->o.hairpin[hf == XLB_AF_INET6].family = hf;
	return 0;
}

static int set_nodeport_addresses(struct args *g, const char *arg)
{
	char bad[128];

	return xlb_nodeport_sel_parse(arg, &g->o.nodeport, bad, sizeof(bad));
}

/* LO-HI, 1 <= LO <= HI <= 65535; off: no source NAT. */
static int set_snat_ports(struct args *g, const char *arg)
{
	unsigned int lo, hi;
	int end = 0;

	if (!strcmp(arg, "off")) {
		g->o.lo.snat_port_min = g->o.lo.snat_port_max = 0;
		return 0;
	}
	if (sscanf(arg, "%u-%u%n", &lo, &hi, &end) != 2 || arg[end] ||
	    !lo || lo > hi || hi > 65535)
		return -EINVAL;
	g->o.lo.snat_port_min = lo;
	g->o.lo.snat_port_max = hi;
	return 0;
}

/* ipip or off. */
static int set_dsr(struct args *g, const char *arg)
{
	if (strcmp(arg, "ipip") && strcmp(arg, "off"))
		return -EINVAL;
	g->o.dsr_remote = !strcmp(arg, "ipip");
	return 0;
}

static int set_socket_lb(struct args *g, const char *arg)
{
	return xlb_socklb_parse_mode(arg, &g->o.socket_lb);
}

/* Checked now, so that a typo stops xlbd before it loads anything. */
static int set_metrics_address(struct args *g, const char *arg)
{
	struct sockaddr_storage ss;
	bool off;

	if (xlb_metrics_parse_address(arg, &ss, &off))
		return -EINVAL;
	g->o.mo.address = arg;
	return 0;
}

/* In the order --help lists them. */
static const struct opt options[] = {
	{ "config", 'c', "PATH", OPT_STR, FIELD(o.config), NULL,
	  "JSON config file (see README, examples/), or\n"
	  "a directory of *.json files: a change of one\n"
	  "file is applied to its services only" },
	{ "kubeconfig", 0, "FILE", OPT_STR, FIELD(kubeconfig), NULL,
	  "program the Services and EndpointSlices of the\n"
	  "cluster of FILE's current context instead" },
	{ "in-cluster", 0, NULL, OPT_TRUE, FIELD(in_cluster), NULL,
	  "the same with the pod's service account\n"
	  "(KUBERNETES_SERVICE_HOST/PORT, token, CA)" },
	{ "node-name", 0, "NAME", OPT_STR, FIELD(o.node_name), NULL,
	  "this node (default $K8S_NODE_NAME, else\n"
	  "the host name): locality and zone" },
	{ "k8s-server", 0, "URL", OPT_STR, FIELD(k8s_server), NULL,
	  "the API server, overriding the kubeconfig's\n"
	  "or KUBERNETES_SERVICE_HOST/PORT" },
	{ "k8s-insecure-skip-tls-verify", 0, NULL, OPT_TRUE,
	  FIELD(k8s_insecure), NULL,
	  "do not verify the API server's\n"
	  "certificate (tests only)" },
	{ "iface", 'i', "LIST", OPT_FN, 0, set_iface,
	  "interfaces to attach to, comma separated:\n"
	  "names and shell patterns (eth0,ens*,veth*),\n"
	  "!PATTERN excludes, the last match wins; lo\n"
	  "never. Links that appear or are renamed\n"
	  "into the list later are attached, those\n"
	  "renamed out detached", 0,
	  "not a list of interface names and patterns" },
	{ "xdp-mode", 'm', "MODE", OPT_FN, 0, set_mode,
	  "which program each device gets:\n"
	  "auto (default): native XDP on devices that\n"
	  "always deliver complete checksums (a NIC, a\n"
	  "VLAN or bond over NICs; tc where the driver\n"
	  "has no XDP), the tc program on every other\n"
	  "(veth, tun/tap, bridge, ...: frames of local\n"
	  "senders may carry partial checksums, which\n"
	  "XDP would corrupt); native, best-effort\n"
	  "(native where the driver has it, else tc)\n"
	  "and generic refuse XDP on such devices;\n"
	  "tc: tc clsact ingress everywhere", 0,
	  "not auto, native, generic, best-effort or tc" },
	{ "complete-checksums", 0, "LIST", OPT_FN, 0, set_complete_csum,
	  "interfaces (names, patterns) whose senders\n"
	  "produce complete checksums (a traffic\n"
	  "generator's veth, senders with tx checksum\n"
	  "offload off): XDP allowed there", 0,
	  "not a list of interface names and patterns" },
	{ "bpffs", 'b', "DIR", OPT_STR, FIELD(o.lo.bpffs), NULL,
	  "pin directory (default " XLB_DEFAULT_BPFFS ")" },
	{ "fib-redirect", 0, NULL, OPT_TRUE, FIELD(o.lo.fib_redirect), NULL,
	  "forward in XDP/tc with bpf_fib_lookup and\n"
	  "redirect instead of passing to the stack" },
	{ "ring-slots", 0, "N", OPT_U32, FIELD(o.lo.ring_slots), NULL,
	  "Maglev slots for all services (default %u)", XLB_DEF_RING_SLOTS,
	  NOT_POSITIVE },
	{ "max-services", 0, "N", OPT_FN, 0, set_max_services,
	  "service ids (default %u)", XLB_DEF_MAX_SERVICES, NOT_POSITIVE },
	{ "max-backends", 0, "N", OPT_U32, FIELD(o.lo.max_backends), NULL,
	  "backend ids (default %u)", XLB_DEF_MAX_BACKENDS, NOT_POSITIVE },
	{ "ct-entries", 0, "N", OPT_U32, FIELD(o.lo.ct_entries), NULL,
	  "connection tracking entries, about one per flow\n"
	  "(default %u)", XLB_DEF_CT_ENTRIES, NOT_POSITIVE },
	{ "hairpin-address", 0, "A", OPT_FN, 0, set_hairpin,
	  "source given to a backend's connection\n"
	  "to its own service when balanced to itself\n"
	  "(once per family; default: the node's first\n"
	  "address of that family)", 0, "not an IPv4 or IPv6 address" },
	{ "snat-ports", 0, "LO-HI", OPT_FN, 0, set_snat_ports,
	  "source ports of source-NATed flows (NodePort,\n"
	  "external and LB IPs of Cluster policy to a\n"
	  "backend on another node; config \"snat\"):\n"
	  "default %u-65535, above the node's\n"
	  "ephemeral ports; off: no source NAT", XLB_DEF_SNAT_PORT_MIN,
	  "not LO-HI (1 <= LO <= HI <= 65535) or off" },
	{ "nodeport-addresses", 0, "LIST", OPT_FN, 0, set_nodeport_addresses,
	  "which node addresses serve NodePorts: CIDRs\n"
	  "and \"primary\" (the default route's source\n"
	  "address of each family), comma separated\n"
	  "(default: every address)", 0,
	  "not a list of CIDRs and \"primary\"" },
	{ "snat-ifaces", 0, "N", OPT_U32,
	  FIELD(o.lo.map_size[XLB_MAPI_SNAT_ADDRS]), NULL,
	  "interfaces with a source NAT address at most\n"
	  "(default %u)", XLB_DEF_SNAT_IFACES, NOT_POSITIVE },
	{ "dsr", 0, "MODE", OPT_FN, 0, set_dsr,
	  "ipip: what --snat-ports would source-NAT\n"
	  "(Kubernetes: NodePort, external and LB IPs of\n"
	  "Cluster policy to a backend on another node)\n"
	  "goes there by direct server return instead:\n"
	  "IPIP / IPv6-in-IPv6 to the backend's address,\n"
	  "which answers the client from its own node\n"
	  "(config: a service's \"dsr\": \"ipip\");\n"
	  "off (default)", 0, "not ipip or off" },
	{ "socket-lb", 0, "MODE", OPT_FN, 0, set_socket_lb,
	  "on (default): connect()/sendmsg() to a frontend\n"
	  "get a backend in the socket hooks, no NAT;\n"
	  "host: only in xlbd's network namespace; off", 0,
	  "not on, off or host" },
	{ "cgroup", 0, "PATH", OPT_STR, FIELD(o.cgroup), NULL,
	  "cgroup v2 the socket hooks attach to (default:\n"
	  "the root of the cgroup2 mount in /proc/mounts)" },
	{ "metrics-address", 0, "ADDR:PORT", OPT_FN, 0, set_metrics_address,
	  "serve /metrics, /healthz and\n"
	  "/readyz there (default " XLB_METRICS_DEF_ADDRESS ";\n"
	  "[IPV6]:PORT; none or port 0: off)", 0,
	  "not ADDR:PORT, [IPV6]:PORT or none" },
	{ "metrics-max-services", 0, "N", OPT_SIZE, FIELD(o.mo.max_services),
	  NULL, "per-service series at most\n"
	  "(default %u)", XLB_METRICS_DEF_MAX_SERVICES, NOT_POSITIVE },
	{ "metrics-max-backends", 0, "N", OPT_SIZE, FIELD(o.mo.max_backends),
	  NULL, "per-backend series at most\n"
	  "(default %u)", XLB_METRICS_DEF_MAX_BACKENDS, NOT_POSITIVE },
	{ "verbose", 'v', NULL, OPT_COUNT, FIELD(o.verbose), NULL,
	  "more logs (-vv for debug)" },
	{ "quiet", 'q', NULL, OPT_TRUE, FIELD(o.quiet), NULL,
	  "only warnings and errors" },
	{ "help", 'h', NULL, OPT_HELP, 0, NULL, "this text" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static void usage(void)
{
	char left[64], help[512];
	size_t i;

	fputs("Usage: xlbd --config FILE --iface LIST [options]\n"
	      "       xlbd --kubeconfig FILE | --in-cluster  [--node-name NAME]\n"
	      "            --iface LIST [options]\n"
	      "\n"
	      "Loads the xlb datapath, attaches it to the interfaces and programs\n"
	      "the services of FILE. Reloads FILE on SIGHUP and when it changes.\n"
	      "SIGTERM stops xlbd and leaves the datapath running with its maps\n"
	      "pinned; a new xlbd adopts them. `xlbctl detach` removes everything.\n"
	      "\n",
	      stdout);
	for (i = 0; i < N_OPTIONS; i++) {
		const struct opt *e = &options[i];
		int n;

		if (e->short_name)
			n = snprintf(left, sizeof(left), "  -%c, --%s",
				     e->short_name, e->name);
		else
			n = snprintf(left, sizeof(left), "      --%s", e->name);
		if (e->arg)
			snprintf(left + n, sizeof(left) - n, " %s", e->arg);
		snprintf(help, sizeof(help), e->help, e->def);
		xlb_usage_row(stdout, left, help);
	}
	fputs("\nMap sizes apply when the maps are created; pinned maps keep theirs.\n",
	      stdout);
}

/* Stores one option's argument; 0, or -EINVAL with the reason printed:
 * every rejection reads "--NAME "ARG": not ...". */
static int set_option(const struct opt *e, struct args *g, const char *arg)
{
	void *field = (char *)g + e->off;
	int rc = 0;
	__u32 v;

	switch (e->kind) {
	case OPT_STR:
		*(const char **)field = arg;
		break;
	case OPT_TRUE:
		*(bool *)field = true;
		break;
	case OPT_COUNT:
		++*(int *)field;
		break;
	case OPT_U32:
		rc = parse_u32(arg, field);
		break;
	case OPT_SIZE:
		rc = parse_u32(arg, &v);
		if (!rc)
			*(size_t *)field = v;
		break;
	case OPT_FN:
		rc = e->set(g, arg);
		break;
	case OPT_HELP:	/* parse_args() prints the usage */
		break;
	}
	if (rc)
		fprintf(stderr, "xlbd: --%s \"%s\": %s\n", e->name, arg, e->bad);
	return rc;
}

/* Reads the options into g. Returns -1 to go on, else the exit status:
 * 0 after --help, 2 for a bad option or argument. */
static int parse_args(int argc, char **argv, struct args *g)
{
	struct option lopts[N_OPTIONS + 1] = {};
	char shorts[2 * N_OPTIONS + 1], *s = shorts;
	size_t i;
	int c;

	for (i = 0; i < N_OPTIONS; i++) {
		const struct opt *e = &options[i];

		lopts[i].name = e->name;
		lopts[i].has_arg = e->arg ? required_argument : no_argument;
		/* Long-only options answer with a value no char has. */
		lopts[i].val = e->short_name ? e->short_name : 256 + (int)i;
		if (e->short_name) {
			*s++ = e->short_name;
			if (e->arg)
				*s++ = ':';
		}
	}
	*s = '\0';
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		for (i = 0; i < N_OPTIONS && lopts[i].val != c; i++)
			;
		if (i == N_OPTIONS) {
			fprintf(stderr, "Try 'xlbd --help'.\n");
			return 2;
		}
		if (options[i].kind == OPT_HELP) {
			usage();
			return 0;
		}
		if (set_option(&options[i], g, optarg))
			return 2;
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
	if (g->k8s_insecure) {
		auth->insecure = true;
		auth->insecure_by = "--k8s-insecure-skip-tls-verify";
	}
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
			.mode = XLB_MODE_AUTO,
			.lo = {
				.bpffs = XLB_DEFAULT_BPFFS,
				.snat_port_min = XLB_DEF_SNAT_PORT_MIN,
				.snat_port_max = XLB_DEF_SNAT_PORT_MAX,
			},
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
