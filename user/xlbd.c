// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbd: the xlb agent. Loads and attaches the datapath, then keeps the
 * maps in step with the config file: on start, on SIGHUP and whenever
 * the file changes on disk. SIGTERM leaves the datapath running with its
 * pinned maps; the next xlbd adopts them without dropping a flow.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <dirent.h>
#include <libgen.h>
#include <sys/stat.h>

#include "config.h"
#include "loader.h"
#include <bpf/bpf.h>

#include "healthcheck.h"
#include "k8s.h"
#include "log.h"
#include "metrics.h"
#include "nodeaddr.h"
#include "sync.h"
#include "util.h"

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

/* A config directory: every *.json file in it is one document; a change
 * of one file is applied to that file's services only. */
struct cfgfile {
	char name[NAME_MAX + 1];
	char **svcs;		/* names of the services it defines */
	size_t n_svcs;
	bool present;
};

struct agent {
	const char *config;
	struct xlb_nodeaddr hairpin[2];	/* --hairpin-address, v4 and v6 */
	bool is_dir;
	struct cfgfile *files;	/* index + 1 is the source tag */
	size_t n_files;
	struct xlb_dp dp;
	struct xlb_sync sync;
	bool synced;
	struct xlb_k8s *k8s;	/* the Kubernetes source, if used */
	uint64_t event_ns;	/* arrival of the change being applied */
};

/* A change is in the maps: what /metrics and /readyz show. */
static void metrics_synced(struct agent *a, uint64_t t0)
{
	uint64_t since = a->event_ns ? a->event_ns : t0;

	xlb_metrics_set_programmed(a->sync.n_svcs,
				   xlb_sync_backend_count(&a->sync));
	xlb_metrics_observe_sync((xlb_now_ns() - since) / 1e9);
	xlb_metrics_count(XLB_METRICS_CONFIG_RELOADS);
}

static bool is_json_name(const char *n)
{
	size_t l = strlen(n);

	return l > 5 && !strcmp(n + l - 5, ".json") && n[0] != '.';
}

static struct cfgfile *file_slot(struct agent *a, const char *name)
{
	struct cfgfile *f;
	size_t i;

	for (i = 0; i < a->n_files; i++)
		if (!strcmp(a->files[i].name, name))
			return &a->files[i];
	f = realloc(a->files, (a->n_files + 1) * sizeof(*f));
	if (!f)
		return NULL;
	a->files = f;
	f = &a->files[a->n_files++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

static void file_set_svcs(struct cfgfile *f, const struct xlb_model *m)
{
	size_t i;

	for (i = 0; i < f->n_svcs; i++)
		free(f->svcs[i]);
	free(f->svcs);
	f->svcs = calloc(m->n_services + 1, sizeof(*f->svcs));
	f->n_svcs = 0;
	for (i = 0; f->svcs && i < m->n_services; i++)
		f->svcs[f->n_svcs++] = strdup(m->services[i].name);
}

static int load_file(struct agent *a, struct cfgfile *f, struct xlb_model *m,
		     char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", a->config, f->name);
	rc = xlb_config_load(path, m, err, errlen);
	if (rc) {
		/* Say which file: the message names service and field. */
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", f->name, err);
		snprintf(err, errlen, "%s", tmp);
		return rc;
	}
	for (i = 0; i < m->n_services; i++)
		m->services[i].source = f - a->files + 1;
	return 0;
}

/* Loads every file of the directory into one model. */
static int load_dir(struct agent *a, struct xlb_model *all, char *err,
		    size_t errlen)
{
	struct xlb_model *parts = NULL;
	struct dirent *de;
	size_t i, n = 0, total = 0;
	DIR *d;
	int rc = 0;

	memset(all, 0, sizeof(*all));
	d = opendir(a->config);
	if (!d) {
		snprintf(err, errlen, "config %s: %s", a->config,
			 strerror(errno));
		return -errno;
	}
	for (i = 0; i < a->n_files; i++)
		a->files[i].present = false;
	while ((de = readdir(d))) {
		struct cfgfile *f;

		if (!is_json_name(de->d_name))
			continue;
		f = file_slot(a, de->d_name);
		if (!f)
			continue;
		f->present = true;
	}
	closedir(d);
	parts = calloc(a->n_files + 1, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	for (i = 0; i < a->n_files; i++) {
		if (!a->files[i].present)
			continue;
		rc = load_file(a, &a->files[i], &parts[i], err, errlen);
		if (rc)
			goto out;
		total += parts[i].n_services;
	}
	all->services = calloc(total + 1, sizeof(*all->services));
	if (!all->services) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < a->n_files; i++) {
		memcpy(all->services + n, parts[i].services,
		       parts[i].n_services * sizeof(*all->services));
		n += parts[i].n_services;
		free(parts[i].services); /* backends now owned by all */
		parts[i].services = NULL;
		parts[i].n_services = 0;
	}
	all->n_services = n;
	rc = xlb_model_check(all, err, errlen);
	if (!rc) {
		/* Record which file holds which service. */
		for (i = 0; i < a->n_files; i++) {
			struct xlb_model one = { 0 };
			size_t k, c = 0;

			for (k = 0; k < n; k++)
				c += all->services[k].source == i + 1;
			one.services = calloc(c + 1, sizeof(*one.services));
			for (k = 0; one.services && k < n; k++)
				if (all->services[k].source == i + 1)
					one.services[one.n_services++] =
						all->services[k];
			file_set_svcs(&a->files[i], &one);
			free(one.services);
		}
	}
out:
	for (i = 0; i < a->n_files; i++)
		xlb_model_free(&parts[i]);
	free(parts);
	if (rc)
		xlb_model_free(all);
	return rc;
}

/* One file of the directory changed (or went away): apply its services
 * only. */
static int reload_file(struct agent *a, const char *name)
{
	struct xlb_sync_result res;
	struct xlb_model m = { 0 };
	char err[768] = "", path[PATH_MAX], **rm = NULL;
	uint64_t t0 = xlb_now_ns();
	struct cfgfile *f = file_slot(a, name);
	size_t i, j, n_rm = 0;
	int rc;

	if (!f)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", a->config, name);
	if (access(path, F_OK) == 0) {
		rc = load_file(a, f, &m, err, sizeof(err));
		if (rc) {
			pr_err("config %s changed: %s; nothing changed", name, err);
			xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
			return rc;
		}
	}
	rm = calloc(f->n_svcs + 1, sizeof(*rm));
	if (!rm) {
		xlb_model_free(&m);
		return -ENOMEM;
	}
	for (i = 0; i < f->n_svcs; i++) {
		bool kept = false;

		for (j = 0; j < m.n_services && !kept; j++)
			kept = !strcmp(m.services[j].name, f->svcs[i]);
		if (!kept)
			rm[n_rm++] = f->svcs[i];
	}
	rc = xlb_sync_apply_partial(&a->sync, &m, rm, n_rm, &res, err,
				    sizeof(err));
	if (rc) {
		pr_err("config %s changed: %s", name, err);
		xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
	} else {
		metrics_synced(a, t0);
		file_set_svcs(f, &m);
		pr_info("config %s changed: %zu added, %zu updated, %zu removed, %zu unchanged; backends +%zu -%zu ~%zu; %zu rings written in %.3f ms",
			name, res.added, res.updated, res.removed,
			res.unchanged, res.be_added, res.be_removed,
			res.be_changed, res.rings_written,
			(xlb_now_ns() - t0) / 1e6);
	}
	free(rm);
	xlb_model_free(&m);
	return rc;
}

static int parse_config(struct agent *a, struct xlb_model *m, char *err,
			size_t errlen)
{
	if (a->is_dir)
		return load_dir(a, m, err, errlen);
	return xlb_config_load(a->config, m, err, errlen);
}

/* Applies a parsed config: rc and err are the parse's status and message;
 * t0 is when the parse began. The model is freed. */
static int apply_config(struct agent *a, const char *why, uint64_t t0,
			struct xlb_model *m, int rc, const char *perr)
{
	struct xlb_sync_result res;
	char err[512] = "";

	if (rc) {
		pr_err("%s: %s; nothing changed", why, perr);
		xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
		return rc;
	}
	rc = xlb_sync_apply(&a->sync, m, &res, err, sizeof(err));
	if (rc) {
		pr_err("%s: %s", why, err);
		xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
		xlb_model_free(m);
		return rc;
	}
	metrics_synced(a, t0);
	pr_info("%s: %zu added, %zu updated, %zu removed, %zu unchanged; backends +%zu -%zu ~%zu; %zu rings written in %.3f ms",
		why, res.added, res.updated, res.removed, res.unchanged,
		res.be_added, res.be_removed, res.be_changed, res.rings_written,
		(xlb_now_ns() - t0) / 1e6);
	if (!a->synced) {
		a->synced = true;
		xlb_metrics_set_ready();
		xlb_log(XLB_LOG_NOTE,
			"ready: %zu services, %zu backends, programmed in %.1f ms",
			a->sync.n_svcs, xlb_sync_backend_count(&a->sync),
			(xlb_now_ns() - t0) / 1e6);
	}
	xlb_model_free(m);
	return 0;
}

static int reload(struct agent *a, const char *why)
{
	struct xlb_model m;
	char err[512] = "";
	uint64_t t0 = xlb_now_ns();
	int rc;

	if (a->k8s)
		return xlb_k8s_resync(a->k8s, why);
	rc = parse_config(a, &m, err, sizeof(err));
	if (!rc)
		pr_debug("%s: config parsed in %.1f ms", why,
			 (xlb_now_ns() - t0) / 1e6);
	return apply_config(a, why, t0, &m, rc, err);
}

/*
 * The first read of the config runs on a thread of its own while the
 * datapath loads (map creation and verification take about as long as
 * parsing a large file): a 100,000-service start waits for the longer of
 * the two, not for both.
 */
struct preparse {
	struct agent *a;
	struct xlb_model m;
	char err[512];
	int rc;
	uint64_t t0, parse_ns;
	pthread_t th;
	bool running;
};

static void *preparse_run(void *arg)
{
	struct preparse *pp = arg;

	pp->rc = parse_config(pp->a, &pp->m, pp->err, sizeof(pp->err));
	pp->parse_ns = xlb_now_ns() - pp->t0;
	if (!pp->rc)
		pr_debug("config: parsed in %.1f ms (while the datapath loaded)",
			 pp->parse_ns / 1e6);
	return NULL;
}

static void preparse_start(struct preparse *pp, struct agent *a)
{
	memset(pp, 0, sizeof(*pp));
	pp->a = a;
	pp->t0 = xlb_now_ns();
	pp->running = !pthread_create(&pp->th, NULL, preparse_run, pp);
}

/* Waits for the parse; false if it never started (parse inline then). */
static bool preparse_join(struct preparse *pp)
{
	if (!pp->running)
		return false;
	pthread_join(pp->th, NULL);
	pp->running = false;
	return true;
}

/* The hairpin address of each family: as given, else the node's first
 * address of that family; written to xlb_hairpin. */
static void publish_hairpin(struct agent *a)
{
	char buf[XLB_ADDR_STRLEN];
	int f;

	for (f = 0; f < 2; f++) {
		__u8 fam = f ? XLB_AF_INET6 : XLB_AF_INET;
		union xlb_addr v = a->hairpin[f].addr;
		__u32 key = f;
		size_t i;

		if (!a->hairpin[f].family)
			for (i = 0; i < a->sync.n_node_addrs; i++)
				if (a->sync.node_addrs[i].family == fam) {
					v = a->sync.node_addrs[i].addr;
					break;
				}
		if (bpf_map_update_elem(a->dp.maps.hairpin, &key, &v, BPF_ANY))
			pr_warn("hairpin address: %s", strerror(errno));
		else
			pr_debug("hairpin address %s",
				 xlb_addr_str(&v, fam, buf));
	}
}

/* Reads the node's addresses into the sync; returns 1 if they changed. */
static int refresh_node_addrs(struct agent *a)
{
	struct xlb_nodeaddr *v;
	size_t n;
	int rc, changed;

	rc = xlb_nodeaddr_list(&v, &n);
	if (rc) {
		pr_warn("node addresses: %s", strerror(-rc));
		return 0;
	}
	changed = n != a->sync.n_node_addrs ||
		  (n && memcmp(v, a->sync.node_addrs, n * sizeof(*v)));
	if (changed) {
		char buf[XLB_ADDR_STRLEN];
		size_t i;

		xlb_sync_set_node_addrs(&a->sync, v, n);
		for (i = 0; i < n; i++)
			pr_debug("node address %s",
				 xlb_addr_str(&v[i].addr, v[i].family, buf));
		pr_info("node addresses: %zu (NodePorts listen on each)", n);
		publish_hairpin(a);
	}
	free(v);
	return changed;
}

/*
 * A reply reverse-NATed on its way in may carry one of this node's own
 * addresses as its source (a NodePort on a node address): IPv4 drops
 * such packets as martians unless accept_local is set on the interface.
 */
static void accept_local(const char *ifname)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local",
		 ifname);
	f = fopen(path, "w");
	if (!f || fputs("1\n", f) < 0) {
		pr_warn("interface %s: cannot set accept_local (%s): NodePort replies on IPv4 node addresses may be dropped as martians",
			ifname, strerror(errno));
	} else {
		pr_debug("interface %s: accept_local=1", ifname);
	}
	if (f)
		fclose(f);
}

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

static int watch_config(const char *path, bool is_dir, int *wd)
{
	char dir[PATH_MAX];
	int fd;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "%s", path);
	*wd = inotify_add_watch(fd, is_dir ? dir : dirname(dir),
				IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
				(is_dir ? IN_DELETE | IN_MOVED_FROM : 0));
	if (*wd < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* True if the inotify events read name the config file. */
static bool config_touched(int fd, const char *path)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char base[PATH_MAX];
	const char *name;
	bool hit = false;
	ssize_t len;

	snprintf(base, sizeof(base), "%s", path);
	name = basename(base);
	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + len) {
			struct inotify_event *ev = (void *)p;

			if (ev->len && !strcmp(ev->name, name))
				hit = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}

/* Applies the files of a config directory that the events name. */
static void dir_events(struct agent *a, int fd)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	char names[16][NAME_MAX + 1];
	size_t n = 0, i, k;
	ssize_t len;

	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + len) {
			struct inotify_event *ev = (void *)p;

			p += sizeof(*ev) + ev->len;
			if (!ev->len || !is_json_name(ev->name) ||
			    (ev->mask & IN_CREATE))
				continue; /* created: wait for its close */
			for (k = 0; k < n && strcmp(names[k], ev->name); k++)
				;
			if (k == n && n < 16)
				snprintf(names[n++], NAME_MAX + 1, "%s",
					 ev->name);
		}
	}
	for (i = 0; i < n; i++)
		reload_file(a, names[i]);
}

int main(int argc, char **argv)
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
	struct xlb_loader_opts lo = { .bpffs = XLB_DEFAULT_BPFFS };
	enum xlb_attach_mode mode = XLB_MODE_NATIVE;
	struct xlb_metrics_opts mo = {
		.address = XLB_METRICS_DEF_ADDRESS,
		.max_services = XLB_METRICS_DEF_MAX_SERVICES,
		.max_backends = XLB_METRICS_DEF_MAX_BACKENDS,
	};
	struct agent a = {};
	__u32 u32v;
	char *ifaces = NULL, *saveptr, *ifn;
	int verbose = 0, quiet = 0, c, rc = 1, sfd = -1, ifd = -1, nfd = -1, wd;
	sigset_t mask;
	const char *kubeconfig = NULL, *node_name = NULL, *k8s_server = NULL;
	bool in_cluster = false, k8s_insecure = false;
	struct xlb_k8s_auth k8s_auth = {};
	struct preparse pp = {};
	bool preparsed = false;
	char hostname[256];

	while ((c = getopt_long(argc, argv, "c:i:m:b:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a.config = optarg;
			break;
		case 'i':
			ifaces = optarg;
			break;
		case 'm':
			if (xlb_parse_mode(optarg, &mode)) {
				fprintf(stderr, "xlbd: --xdp-mode \"%s\": not native, generic, best-effort or tc\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			lo.bpffs = optarg;
			break;
		case 'F':
			lo.fib_redirect = true;
			break;
		case 'R':
			if (parse_u32("--ring-slots", optarg, &lo.ring_slots))
				return 2;
			break;
		case 'S':
			if (parse_u32("--max-services", optarg, &lo.max_services))
				return 2;
			lo.max_frontends = lo.max_services;
			break;
		case 'B':
			if (parse_u32("--max-backends", optarg, &lo.max_backends))
				return 2;
			break;
		case 'C':
			if (parse_u32("--ct-entries", optarg, &lo.ct_entries))
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
			a.hairpin[hf == XLB_AF_INET6].addr = ha;
			a.hairpin[hf == XLB_AF_INET6].family = hf;
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
			mo.address = optarg;
			break;
		}
		case 'X':
			if (parse_u32("--metrics-max-services", optarg, &u32v))
				return 2;
			mo.max_services = u32v;
			break;
		case 'Y':
			if (parse_u32("--metrics-max-backends", optarg, &u32v))
				return 2;
			mo.max_backends = u32v;
			break;
		case 'K':
			kubeconfig = optarg;
			break;
		case 'U':
			in_cluster = true;
			break;
		case 'N':
			node_name = optarg;
			break;
		case 'A':
			k8s_server = optarg;
			break;
		case 'Z':
			k8s_insecure = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
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
	if (!!a.config + !!kubeconfig + in_cluster > 1) {
		fprintf(stderr, "xlbd: --config, --kubeconfig and --in-cluster are different sources: give one\n");
		return 2;
	}
	if ((kubeconfig || in_cluster) && ifaces && optind == argc) {
		char err[512] = "";

		if (!node_name)
			node_name = getenv("K8S_NODE_NAME");
		if ((!node_name || !node_name[0]) &&
		    !gethostname(hostname, sizeof(hostname)))
			node_name = hostname;
		if (kubeconfig ? xlb_k8s_kubeconfig_load(kubeconfig, &k8s_auth,
							 err, sizeof(err)) :
				 xlb_k8s_incluster_load(XLB_K8S_SA_DIR,
							&k8s_auth, err,
							sizeof(err))) {
			fprintf(stderr, "xlbd: %s\n", err);
			return 2;
		}
		if (k8s_server) {
			free(k8s_auth.server);
			k8s_auth.server = strdup(k8s_server);
		}
		if (!k8s_auth.server || strncmp(k8s_auth.server, "https://", 8)) {
			fprintf(stderr, "xlbd: API server \"%s\": not an https:// URL (KUBERNETES_SERVICE_HOST unset? use --k8s-server)\n",
				k8s_auth.server ? k8s_auth.server : "");
			xlb_k8s_auth_free(&k8s_auth);
			return 2;
		}
		k8s_auth.insecure |= k8s_insecure;
	} else if (!a.config || !ifaces || optind != argc) {
		fprintf(stderr, "xlbd: --config (or --kubeconfig, --in-cluster) and --iface are required\nTry 'xlbd --help'.\n");
		return 2;
	}
	{
		struct stat st;

		a.is_dir = a.config && !stat(a.config, &st) &&
			   S_ISDIR(st.st_mode);
	}
	xlb_log_set_prefix("xlbd");
	xlb_log_set_level(quiet ? XLB_LOG_WARN :
			  verbose > 1 ? XLB_LOG_DEBUG : XLB_LOG_INFO);
	xlb_log_libbpf();
	a.sync.quiet = quiet;

	/* Signals are read from a signalfd in the main loop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		return 1;
	}

	if (a.config) {
		/* Watch before the first read: a change written while it is
		 * being applied is then seen, not lost. */
		ifd = watch_config(a.config, a.is_dir, &wd);
		if (ifd < 0)
			pr_warn("config %s: cannot watch for changes (%s); SIGHUP still reloads",
				a.config, strerror(-ifd));
		preparse_start(&pp, &a);
	}
	if (xlb_dp_load(&a.dp, &lo))
		goto out;
	if (xlb_sync_init(&a.sync, &a.dp.maps))
		goto out;
	a.sync.quiet = quiet;
	if (a.dp.adopted && xlb_sync_adopt(&a.sync))
		goto out;
	for (ifn = strtok_r(ifaces, ",", &saveptr); ifn;
	     ifn = strtok_r(NULL, ",", &saveptr)) {
		const char *where = "?";

		if (xlb_dp_attach(&a.dp, ifn, mode, &where))
			goto out;
		pr_info("interface %s: attached (%s)", ifn, where);
		accept_local(ifn);
	}

	mo.maps = &a.dp.maps;
	xlb_metrics_set_programmed(a.sync.n_svcs,
				   xlb_sync_backend_count(&a.sync));
	if (xlb_metrics_start(&mo))
		goto out;

	refresh_node_addrs(&a);
	publish_hairpin(&a);
	nfd = xlb_nodeaddr_watch();
	if (nfd < 0)
		pr_warn("node addresses: cannot watch for changes (%s)",
			strerror(-nfd));
	if (k8s_auth.server) {
		/* Kubernetes: the first sync comes from the event loop. */
		if (xlb_k8s_start(&a.k8s, &k8s_auth, node_name, &a.sync)) {
			pr_err("k8s: cannot start the watchers");
			goto out;
		}
	} else if (preparse_join(&pp)) {
		/* "programmed in" counts the parse and the apply, not the
		 * wait for the datapath in between. */
		preparsed = true;
		if (apply_config(&a, "config", xlb_now_ns() - pp.parse_ns,
				 &pp.m, pp.rc, pp.err) &&
		    !a.dp.adopted)
			goto out;
	} else if (reload(&a, "config") && !a.dp.adopted) {
		goto out;
	}

	for (;;) {
		struct pollfd pfd[4] = { { .fd = sfd, .events = POLLIN },
					 { .fd = ifd, .events = POLLIN },
					 { .fd = nfd, .events = POLLIN },
					 { .fd = a.k8s ? xlb_k8s_fd(a.k8s) : -1,
					   .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			break;
		}
		a.event_ns = xlb_now_ns();
		if (pfd[0].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				reload(&a, "SIGHUP");
				continue;
			}
			pr_info("signal %d: exiting; the datapath keeps running with maps pinned under %s",
				si.ssi_signo, lo.bpffs);
			rc = 0;
			break;
		}
		if (a.k8s && (pfd[3].revents & POLLIN)) {
			uint64_t t0 = xlb_now_ns();

			if (xlb_k8s_process(a.k8s) == 1) {
				a.synced = true;
				xlb_metrics_set_ready();
				xlb_log(XLB_LOG_NOTE,
					"ready: %zu services, %zu backends, programmed in %.1f ms",
					a.sync.n_svcs,
					xlb_sync_backend_count(&a.sync),
					(xlb_now_ns() - t0) / 1e6);
			}
			xlb_metrics_set_programmed(a.sync.n_svcs,
						   xlb_sync_backend_count(&a.sync));
			continue;
		}
		if (nfd >= 0 && (pfd[2].revents & POLLIN)) {
			if (xlb_nodeaddr_drain(nfd) && refresh_node_addrs(&a))
				reload(&a, "node addresses changed");
			continue;
		}
		if (ifd >= 0 && (pfd[1].revents & POLLIN) && a.is_dir) {
			dir_events(&a, ifd);
			continue;
		}
		if (ifd >= 0 && (pfd[1].revents & POLLIN)) {
			if (!config_touched(ifd, a.config))
				continue;
			/* Let a writer finish: reload once things settle. */
			usleep(20000);
			config_touched(ifd, a.config);
			reload(&a, "config changed");
		}
	}
out:
	if (preparse_join(&pp) && !preparsed && !pp.rc)
		xlb_model_free(&pp.m);
	xlb_k8s_stop(a.k8s);
	xlb_k8s_auth_free(&k8s_auth);
	xlb_hc_fini();
	xlb_metrics_stop();
	if (nfd >= 0)
		close(nfd);
	if (ifd >= 0)
		close(ifd);
	if (sfd >= 0)
		close(sfd);
	xlb_sync_fini(&a.sync);
	xlb_dp_close(&a.dp);
	return rc;
}
