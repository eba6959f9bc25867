// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The interfaces xlbd attaches to and follows (see ifaces.h): one table
 * of the links judged, brought in step with the netlink link list on
 * every link change.
 */
#include <net/if.h>	/* before the linux/ headers: libc-compat.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ifaces.h"
#include "log.h"
#include "metrics.h"

static const char *mode_name(enum xlb_attach_mode m)
{
	switch (m) {
	case XLB_MODE_AUTO:
		return "auto";
	case XLB_MODE_NATIVE:
		return "native";
	case XLB_MODE_GENERIC:
		return "generic";
	case XLB_MODE_BEST_EFFORT:
		return "best-effort";
	case XLB_MODE_TC:
		return "tc";
	}
	return "?";
}

/* Why a device that qualifies delivers complete checksums. */
static const char *complete_why(const struct xlb_link *l)
{
	if (!strcmp(l->kind, "vlan"))
		return "VLAN over a NIC: complete checksums off the wire";
	if (l->kind[0])
		return "bond of NICs: complete checksums off the wire";
	return "NIC: complete checksums off the wire";
}

/* Kinds of virtual device whose driver has native XDP: best-effort
 * would put XDP there. Others (bridge, vxlan, macvlan, ...) have none. */
static bool driver_has_xdp(const char *kind)
{
	return !strcmp(kind, "veth") || !strcmp(kind, "tun") ||
	       !strcmp(kind, "bond");
}

int xlb_iface_choose(enum xlb_attach_mode mode, const struct xlb_link *all,
		     size_t n, const struct xlb_link *l, bool cc,
		     enum xlb_attach_mode *use, const char **why)
{
	const char *partial;
	bool complete = xlb_link_complete_csum(all, n, l, &partial);
	const char *ok = complete ? complete_why(l) :
			 "--complete-checksums: its senders produce complete checksums";

	switch (mode) {
	case XLB_MODE_TC:
		*use = XLB_MODE_TC;
		*why = "--xdp-mode tc";
		return 0;
	case XLB_MODE_AUTO:
		*use = complete || cc ? XLB_MODE_BEST_EFFORT : XLB_MODE_TC;
		*why = complete || cc ? ok : partial;
		return 0;
	case XLB_MODE_BEST_EFFORT:
		if (!complete && !cc && !driver_has_xdp(l->kind)) {
			*use = XLB_MODE_TC;
			*why = partial;
			return 0;
		}
		/* fall through */
	case XLB_MODE_NATIVE:
	case XLB_MODE_GENERIC:
		*use = mode;
		*why = complete || cc ? ok : partial;
		return complete || cc ? 0 : -EPERM;
	}
	return -EINVAL;
}

int xlb_ifaces_init(struct xlb_ifaces *f, struct xlb_dp *dp,
		    enum xlb_attach_mode mode, const char *iface,
		    const char *cc, char *err, size_t errlen)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dp = dp;
	f->mode = mode;
	rc = xlb_ifsel_parse(&f->sel, iface, err, errlen);
	if (!rc && cc) {
		rc = xlb_ifsel_parse(&f->cc, cc, err, errlen);
		if (rc)
			xlb_ifsel_free(&f->sel);
	}
	return rc;
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

static struct xlb_iface *entry(struct xlb_ifaces *f, int ifindex)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].ifindex == ifindex)
			return &f->v[i];
	return NULL;
}

static void entry_remove(struct xlb_ifaces *f, size_t i)
{
	memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof(*f->v));
	f->n--;
}

static void publish(const struct xlb_ifaces *f)
{
	size_t i, native = 0, generic = 0, tc = 0;

	for (i = 0; i < f->n; i++) {
		if (!f->v[i].where)
			continue;
		if (!strcmp(f->v[i].where, "xdp-native"))
			native++;
		else if (!strcmp(f->v[i].where, "xdp-generic"))
			generic++;
		else
			tc++;
	}
	xlb_metrics_set_interfaces(native, generic, tc);
}

/* Judges and attaches link l, adding it to the table either way. */
static int attach_one(struct xlb_ifaces *f, const struct xlb_link *all,
		      size_t n, const struct xlb_link *l)
{
	bool cc = f->cc.n && xlb_ifsel_match(&f->cc, l->name);
	const char *why = "", *where = NULL;
	enum xlb_attach_mode use;
	struct xlb_iface *v;
	char note[96] = "";
	int rc;

	v = realloc(f->v, (f->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	f->v = v;
	rc = xlb_iface_choose(f->mode, all, n, l, cc, &use, &why);
	if (rc) {
		pr_err("interface %s: --xdp-mode %s refused: %s (XDP would corrupt their TCP/UDP checksums; --xdp-mode auto gives it tc, --complete-checksums %s says its senders produce complete ones)",
		       l->name, mode_name(f->mode), why, l->name);
	} else {
		rc = xlb_dp_attach(f->dp, l->ifindex, l->name, use, &where,
				   note, sizeof(note));
	}
	if (!rc) {
		pr_info("interface %s: %s (%s%s%s)", l->name, where, why,
			note[0] ? "; " : "", note);
		accept_local(l->name);
	}
	xlb_metrics_count_attach(!rc);
	v = &f->v[f->n++];
	v->ifindex = l->ifindex;
	snprintf(v->name, sizeof(v->name), "%s", l->name);
	v->where = rc ? NULL : where;
	return rc;
}

/* At start: every literal name must exist. */
static int literal_check(const struct xlb_ifaces *f,
			 const struct xlb_link *all, size_t n)
{
	size_t i, j;

	if (!xlb_ifsel_literal(&f->sel))
		return 0;
	for (i = 0; i < f->sel.n; i++) {
		if (!strcmp(f->sel.pat[i], "lo")) {
			pr_warn("interface lo: never attached (loopback)");
			continue;
		}
		for (j = 0; j < n && strcmp(all[j].name, f->sel.pat[i]); j++)
			;
		if (j == n) {
			pr_err("interface %s: no such device", f->sel.pat[i]);
			return -ENODEV;
		}
	}
	return 0;
}

/* Brings the table in step with the links; at start, the first error
 * stops it. */
static int follow(struct xlb_ifaces *f, bool start)
{
	struct xlb_link *all;
	const struct xlb_link *l;
	struct xlb_iface *e;
	size_t n, i;
	int rc;

	rc = xlb_link_list(&all, &n);
	if (rc) {
		pr_warn("interfaces: listing links: %s", strerror(-rc));
		return rc;
	}
	if (start) {
		rc = literal_check(f, all, n);
		if (rc)
			goto out;
	}
	for (i = 0; i < f->n;) {
		e = &f->v[i];
		l = xlb_link_find(all, n, e->ifindex);
		if (!l) {
			pr_info("interface %s: gone", e->name);
			entry_remove(f, i);
			continue;
		}
		if (strcmp(l->name, e->name)) {
			if (e->where && xlb_ifsel_match(&f->sel, l->name)) {
				pr_info("interface %s: renamed %s, still selected (%s)",
					e->name, l->name, e->where);
				snprintf(e->name, sizeof(e->name), "%s", l->name);
				i++;
				continue;
			}
			if (e->where) {
				xlb_dp_detach(e->ifindex);
				pr_info("interface %s: renamed %s, not selected: %s detached",
					e->name, l->name, e->where);
			}
			/* A refused one is judged again under its new name. */
			entry_remove(f, i);
			continue;
		}
		i++;
	}
	for (i = 0; i < n; i++) {
		l = &all[i];
		if (!xlb_ifsel_match(&f->sel, l->name) || entry(f, l->ifindex))
			continue;
		rc = attach_one(f, all, n, l);
		if (rc && start)
			goto out;
	}
	rc = 0;
out:
	publish(f);
	free(all);
	return rc;
}

int xlb_ifaces_start(struct xlb_ifaces *f)
{
	/* The watch first: a link that comes while the list is read is
	 * seen by the next change. */
	f->fd = xlb_link_watch();
	if (f->fd < 0)
		pr_warn("interfaces: cannot watch links (%s): links that come later are not attached",
			strerror(-f->fd));
	return follow(f, true);
}

int xlb_ifaces_fd(const struct xlb_ifaces *f)
{
	return f->fd;
}

void xlb_ifaces_process(struct xlb_ifaces *f)
{
	int rc = xlb_link_drain(f->fd);

	if (rc < 0)
		pr_warn("interfaces: reading the link watch: %s", strerror(-rc));
	else if (rc)
		follow(f, false);
}

void xlb_ifaces_fini(struct xlb_ifaces *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	xlb_ifsel_free(&f->sel);
	xlb_ifsel_free(&f->cc);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
