// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbd's steps once its options are read (see agent.h): start, run the
 * event loop with one handler per file descriptor, stop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "healthcheck.h"
#include "log.h"
#include "util.h"

/* The first full sync is in the maps: /readyz says ready from now on.
 * t0 is when the source began the work "programmed in" counts. */
static void agent_ready(struct xlb_agent *a, uint64_t t0)
{
	xlb_metrics_set_ready();
	xlb_log(XLB_LOG_NOTE,
		"ready: %zu services, %zu backends, programmed in %.1f ms",
		a->sync.n_svcs, xlb_sync_backend_count(&a->sync),
		(xlb_now_ns() - t0) / 1e6);
}

static int ifaddr_key_cmp(const void *key, const void *elem)
{
	__u32 k = *(const __u32 *)key;
	__u32 e = ((const struct xlb_ifaddr *)elem)->ifindex;

	return k < e ? -1 : k > e;
}

/* The hairpin address of each family: as given, else the node's first
 * address of that family; written to xlb_hairpin. */
static void publish_hairpin(struct xlb_agent *a)
{
	char buf[XLB_ADDR_STRLEN];
	int f;

	for (f = 0; f < 2; f++) {
		__u8 fam = f ? XLB_AF_INET6 : XLB_AF_INET;
		union xlb_addr v = a->o->hairpin[f].addr;
		__u32 key = f;
		size_t i;

		if (!a->o->hairpin[f].family)
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

/*
 * xlb_snat_addrs: each interface's first address of each family (the
 * source of source-NATed flows leaving by it), and under key 0 the
 * node's first address of each family, for an interface without one.
 * Entries of interfaces gone, or without an address now, are removed.
 */
static void publish_snat(struct xlb_agent *a)
{
	int fd = a->dp.maps.snat_addrs;
	struct xlb_snat_addrs def = {};
	struct xlb_ifaddr *v;
	__u32 key, next, *prev = NULL;
	size_t n, i;
	int rc;

	rc = xlb_nodeaddr_ifaces(&v, &n);
	if (rc) {
		pr_warn("source NAT addresses: %s", strerror(-rc));
		return;
	}
	for (i = a->sync.n_node_addrs; i-- > 0;) {
		const struct xlb_nodeaddr *na = &a->sync.node_addrs[i];

		if (na->family == XLB_AF_INET)
			def.v4 = na->addr;
		else
			def.v6 = na->addr;
	}
	key = 0;
	if (bpf_map_update_elem(fd, &key, &def, BPF_ANY))
		pr_warn("source NAT default addresses: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &v[i].ifindex, &v[i].addrs,
					BPF_ANY))
			pr_warn("source NAT addresses of ifindex %u: %s",
				v[i].ifindex, strerror(errno));
	/* Then what no interface has any more (v is sorted). */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!key || xlb_bsearch(&key, v, n, sizeof(*v), ifaddr_key_cmp))
			continue;
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			pr_warn("source NAT addresses of ifindex %u: delete: %s",
				key, strerror(errno));
	}
	pr_debug("source NAT addresses: %zu interfaces", n);
	free(v);
}

/* Reads the node's addresses into the sync; returns 1 if they changed. */
static int refresh_node_addrs(struct xlb_agent *a)
{
	struct xlb_nodeaddr *v;
	size_t n, all;
	int rc, changed;

	rc = xlb_nodeaddr_list(&v, &n);
	if (rc) {
		pr_warn("node addresses: %s", strerror(-rc));
		return 0;
	}
	all = n;
	xlb_nodeaddr_select(v, &n, &a->o->nodeport);
	changed = n != a->sync.n_node_addrs ||
		  (n && memcmp(v, a->sync.node_addrs, n * sizeof(*v)));
	if (changed) {
		char buf[XLB_ADDR_STRLEN];
		size_t i;

		xlb_sync_set_node_addrs(&a->sync, v, n);
		for (i = 0; i < n; i++)
			pr_debug("node address %s",
				 xlb_addr_str(&v[i].addr, v[i].family, buf));
		if (a->o->nodeport.set)
			pr_info("node addresses: %zu of %zu serve NodePorts (--nodeport-addresses)",
				n, all);
		else
			pr_info("node addresses: %zu (NodePorts listen on each)", n);
		publish_hairpin(a);
	}
	/* An address may move between interfaces without the set of them
	 * changing. */
	publish_snat(a);
	free(v);
	return changed;
}

/* Applies the whole of the source again. */
static void reload(struct xlb_agent *a, const char *why)
{
	uint64_t t0;

	if (a->k8s)
		xlb_k8s_resync(a->k8s, why);
	else if (xlb_file_resync(a->file, why, a->event_ns, &t0) == 1)
		agent_ready(a, t0);
}

/* ---- start ----------------------------------------------------------- */

static void log_setup(const struct xlb_agent_opts *o)
{
	xlb_log_set_prefix("xlbd");
	xlb_log_set_level(o->quiet ? XLB_LOG_WARN :
			  o->verbose > 1 ? XLB_LOG_DEBUG : XLB_LOG_INFO);
	xlb_log_libbpf();
}

/* Signals are read from a signalfd in the event loop. */
static int signals_open(struct xlb_agent *a)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (a->sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Loads the datapath (adopting pinned maps and their bookkeeping) and
 * attaches it to every interface --iface selects (ifaces.c follows
 * them from then on). */
static int datapath_open(struct xlb_agent *a)
{
	char err[256];
	int rc;

	rc = xlb_dp_load(&a->dp, &a->o->lo);
	if (!rc)
		rc = xlb_sync_init(&a->sync, &a->dp.maps);
	if (rc)
		return rc;
	a->sync.quiet = a->o->quiet;
	a->sync.dsr_remote = a->o->dsr_remote;
	if (a->dp.adopted) {
		rc = xlb_sync_adopt(&a->sync);
		if (rc)
			return rc;
	}
	rc = xlb_ifaces_init(&a->ifaces, &a->dp, a->o->mode, a->o->ifaces,
			     a->o->complete_csum, err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		return rc;
	}
	return xlb_ifaces_start(&a->ifaces);
}

/* The socket hooks, over the datapath's maps; the sync tells them when
 * backends leave. */
static int socklb_open(struct xlb_agent *a)
{
	int rc = xlb_socklb_start(&a->sock, &a->dp, a->o->socket_lb,
				  a->o->cgroup);

	if (!rc && a->sock) {
		a->sync.backends_left = xlb_socklb_backends_left;
		a->sync.backends_left_ctx = a->sock;
	}
	return rc;
}

/* The first sync. Kubernetes: it comes from the event loop, once the
 * watchers have listed everything. A config that is rejected stops
 * xlbd unless it adopted a datapath, which keeps what it was given. */
static int first_sync(struct xlb_agent *a)
{
	uint64_t t0;
	int rc;

	if (a->o->k8s_auth.server) {
		rc = xlb_k8s_start(&a->k8s, &a->o->k8s_auth, a->o->node_name,
				   &a->sync);
		if (rc)
			pr_err("k8s: cannot start the watchers");
		return rc;
	}
	rc = xlb_file_first_sync(a->file, &t0);
	if (rc == 1)
		agent_ready(a, t0);
	return rc < 0 && !a->dp.adopted ? rc : 0;
}

int xlb_agent_start(struct xlb_agent *a, struct xlb_agent_opts *o)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->o = o;
	a->sfd = a->nfd = a->dp.lock_fd = a->ifaces.fd = -1;
	log_setup(o);
	rc = signals_open(a);
	if (rc)
		return rc;
	/* The config is read on a thread of its own while the datapath
	 * loads (see source_file.c). */
	if (o->config) {
		rc = xlb_file_start(&a->file, o->config, &a->sync);
		if (rc)
			return rc;
	}
	rc = datapath_open(a);
	if (!rc)
		rc = socklb_open(a);
	if (rc)
		return rc;
	o->mo.maps = &a->dp.maps;
	xlb_metrics_set_programmed(a->sync.n_svcs,
				   xlb_sync_backend_count(&a->sync));
	rc = xlb_metrics_start(&o->mo);
	if (rc)
		return rc;
	refresh_node_addrs(a);
	publish_hairpin(a);
	a->nfd = xlb_nodeaddr_watch();
	if (a->nfd < 0)
		pr_warn("node addresses: cannot watch for changes (%s)",
			strerror(-a->nfd));
	return first_sync(a);
}

/* ---- run: one handler per file descriptor ---------------------------- */

static void on_signal(struct xlb_agent *a)
{
	struct signalfd_siginfo si;

	if (read(a->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		reload(a, "SIGHUP");
		return;
	}
	pr_info("signal %d: exiting; the datapath keeps running with maps pinned under %s",
		si.ssi_signo, a->o->lo.bpffs);
	a->stop = true;
}

static void on_k8s(struct xlb_agent *a)
{
	uint64_t t0 = xlb_now_ns();

	if (xlb_k8s_process(a->k8s) == 1)
		agent_ready(a, t0);
	xlb_metrics_set_programmed(a->sync.n_svcs,
				   xlb_sync_backend_count(&a->sync));
}

static void on_nodeaddr(struct xlb_agent *a)
{
	if (xlb_nodeaddr_drain(a->nfd) && refresh_node_addrs(a))
		reload(a, "node addresses changed");
}

static void on_links(struct xlb_agent *a)
{
	xlb_ifaces_process(&a->ifaces);
}

static void on_config(struct xlb_agent *a)
{
	uint64_t t0;

	if (xlb_file_process(a->file, a->event_ns, &t0) == 1)
		agent_ready(a, t0);
}

int xlb_agent_run(struct xlb_agent *a)
{
	/* In this order: one ready descriptor is handled per wakeup, and a
	 * signal goes before everything else. */
	static void (*const handler[])(struct xlb_agent *) = {
		on_signal, on_k8s, on_nodeaddr, on_links, on_config,
	};
#define N_HANDLERS (sizeof(handler) / sizeof(handler[0]))
	struct pollfd pfd[N_HANDLERS] = {};
	size_t i;

	pfd[0].fd = a->sfd;
	pfd[1].fd = a->k8s ? xlb_k8s_fd(a->k8s) : -1;
	pfd[2].fd = a->nfd;
	pfd[3].fd = xlb_ifaces_fd(&a->ifaces);
	pfd[4].fd = xlb_file_fd(a->file);
	for (i = 0; i < N_HANDLERS; i++)
		pfd[i].events = POLLIN;
	while (!a->stop) {
		if (poll(pfd, N_HANDLERS, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			return 1;
		}
		a->event_ns = xlb_now_ns();
		for (i = 0; i < N_HANDLERS; i++)
			if (pfd[i].fd >= 0 && (pfd[i].revents & POLLIN))
				break;
		if (i < N_HANDLERS)
			handler[i](a);
	}
	return 0;
#undef N_HANDLERS
}

/* ---- stop ------------------------------------------------------------- */

void xlb_agent_stop(struct xlb_agent *a)
{
	xlb_file_stop(a->file);
	xlb_k8s_stop(a->k8s);
	xlb_k8s_auth_free(&a->o->k8s_auth);
	xlb_hc_fini();
	xlb_metrics_stop();
	xlb_ifaces_fini(&a->ifaces);
	if (a->nfd >= 0)
		close(a->nfd);
	if (a->sfd >= 0)
		close(a->sfd);
	xlb_sync_fini(&a->sync);
	xlb_socklb_close(a->sock);
	xlb_dp_close(&a->dp);
}
