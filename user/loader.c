// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "util.h"
#include "xdp_lb.skel.h"
#include "tc_lb.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* tc filter identity of xlb on clsact ingress. */
#define XLB_TC_HANDLE 0x1
#define XLB_TC_PRIO 0x1

int xlb_parse_mode(const char *s, enum xlb_attach_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = XLB_MODE_AUTO;
	else if (!strcmp(s, "native"))
		*mode = XLB_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = XLB_MODE_GENERIC;
	else if (!strcmp(s, "best-effort"))
		*mode = XLB_MODE_BEST_EFFORT;
	else if (!strcmp(s, "tc"))
		*mode = XLB_MODE_TC;
	else
		return -EINVAL;
	return 0;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/*
 * Whoever can write to the pin directory can remove or replace the pins,
 * and with them the datapath's state: the directory must be xlbd's own
 * user's and writable by nobody else, and every directory above it
 * xlbd's or root's, writable by others only if sticky (a bpffs mounted
 * without mode= is 1777, root's and sticky: others cannot remove what is
 * ours in it). 0, or -EPERM with a message naming the path.
 */
static int pins_trusted(const char *dir)
{
	char path[PATH_MAX], *slash;
	uid_t me = geteuid();
	struct stat st;
	bool leaf = true;

	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		if (lstat(path, &st)) {
			pr_err("bpffs %s: %s: %s", dir, path, strerror(errno));
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			pr_err("bpffs %s: %s is not a directory (a link?): refusing it",
			       dir, path);
			return -EPERM;
		}
		if (leaf ? st.st_uid != me : st.st_uid != me && st.st_uid != 0) {
			pr_err("bpffs %s: %s belongs to uid %u, not to xlbd's (uid %u) or root: that user could remove the pins",
			       dir, path, (unsigned)st.st_uid, (unsigned)me);
			return -EPERM;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    (leaf || !(st.st_mode & S_ISVTX))) {
			pr_err("bpffs %s: %s is writable by others (mode %04o): they could remove the pins",
			       dir, path, (unsigned)(st.st_mode & 07777));
			return -EPERM;
		}
		leaf = false;
		slash = strrchr(path, '/');
		if (!slash || slash == path)
			return 0;
		*slash = '\0';
	}
}

int xlb_bpffs_prepare(const char *dir)
{
	char parent[PATH_MAX];
	char *slash;
	int rc;

	if (access(dir, F_OK) == 0) {
		if (!on_bpffs(dir)) {
			pr_err("bpffs %s: not on a bpf filesystem (mount -t bpf bpf %s)",
			       dir, dir);
			return -EINVAL;
		}
		return pins_trusted(dir);
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (!on_bpffs(parent) && !strcmp(parent, "/sys/fs/bpf")) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			rc = -errno;
			pr_err("mount bpffs on /sys/fs/bpf: %s", strerror(errno));
			return rc;
		}
		pr_info("mounted a bpf filesystem on /sys/fs/bpf");
	}
	if (!on_bpffs(parent)) {
		pr_err("bpffs %s: %s is not on a bpf filesystem (mount -t bpf bpf DIR, then pass --bpffs DIR/...)",
		       dir, parent);
		return -EINVAL;
	}
	rc = xlb_mkdir_p(dir);
	if (rc) {
		pr_err("bpffs %s: mkdir: %s", dir, strerror(-rc));
		return rc;
	}
	return pins_trusted(dir);
}

/* Sets a map's pin path and, when a pin is already there, its size to
 * the pinned one's so that libbpf reuses it. Returns 1 if pinned. */
static int prepare_pin(struct bpf_map *map, const char *dir, __u32 want)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
	rc = bpf_map__set_pin_path(map, path);
	if (rc)
		return rc;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (want)
			return bpf_map__set_max_entries(map, want);
		return 0;
	}
	rc = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	if (want && want != info.max_entries)
		pr_warn("map %s: keeping the pinned size %u, not %u (xlbctl detach to start afresh)",
			bpf_map__name(map), info.max_entries, want);
	rc = bpf_map__set_max_entries(map, info.max_entries);
	return rc ? rc : 1;
}

/* The size to give map i: an explicit one, else what the older options
 * derive, else 0 (keep the object's default). */
static __u32 want_size(const struct xlb_loader_opts *o, enum xlb_map_index i)
{
	if (o->map_size[i])
		return o->map_size[i];
	switch (i) {
	case XLB_MAPI_RINGS:
		return (o->ring_slots + 1) / XLB_RING_SLOTS_PER_ENTRY;
	case XLB_MAPI_SVC_INFO:
	case XLB_MAPI_SVC_STATS:
	case XLB_MAPI_SVC_VIP:
		return o->max_services;
	case XLB_MAPI_BACKENDS:
	case XLB_MAPI_BE_STATS:
		return o->max_backends;
	case XLB_MAPI_SVC:
		return o->max_frontends;
	case XLB_MAPI_CT:
		return o->ct_entries;
	default:
		return 0;
	}
}

/* The load-time settings of both packet programs. */
static void set_cfg(volatile struct xlb_cfg *c, const struct xlb_loader_opts *o)
{
	c->fib_redirect = o->fib_redirect;
	c->port_filter = !o->no_port_filter;
	c->snat_port_min = o->snat_port_min;
	c->snat_port_max = o->snat_port_max;
}

/* Map i of the list in obj; a message says which object lacks it. */
static struct bpf_map *list_map(struct bpf_object *obj, int i)
{
	struct bpf_map *map;

	map = bpf_object__find_map_by_name(obj, xlb_map_names[i]);
	if (!map)
		pr_err("object %s: no map %s", bpf_object__name(obj),
		       xlb_map_names[i]);
	return map;
}

/* One agent per pin directory: the directory is created if needed and
 * flocked for as long as dp is loaded. */
static int lock_pins(struct xlb_dp *dp, const char *dir)
{
	int rc;

	rc = xlb_bpffs_prepare(dir);
	if (rc)
		return rc;
	dp->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->lock_fd < 0 || flock(dp->lock_fd, LOCK_EX | LOCK_NB)) {
		rc = -errno;
		pr_err("bpffs %s: %s", dir,
		       errno == EWOULDBLOCK ? "another xlbd is using it" :
					      strerror(errno));
		return rc;
	}
	return 0;
}

/* Sizes (and with bpffs, pins) the listed maps of obj. Returns how many
 * pins existed already, or -errno. A pin missing among present ones is
 * created empty and said so: adoption then checks every service against
 * it (sync/adopt.c). */
static int size_maps(struct bpf_object *obj, const struct xlb_loader_opts *o)
{
	bool missing[XLB_N_MAPS] = {};
	struct bpf_map *map;
	int i, rc, pinned = 0;
	__u32 want;

	for (i = 0; i < XLB_N_MAPS; i++) {
		map = list_map(obj, i);
		if (!map)
			return -ENOENT;
		want = want_size(o, i);
		if (o->bpffs)
			rc = prepare_pin(map, o->bpffs, want);
		else
			rc = want ? bpf_map__set_max_entries(map, want) : 0;
		if (rc < 0) {
			pr_err("map %s (max_entries %u): %s", xlb_map_names[i],
			       want, strerror(-rc));
			return rc;
		}
		missing[i] = o->bpffs && !rc;
		pinned += rc;
	}
	for (i = 0; pinned && i < XLB_N_MAPS; i++)
		if (missing[i])
			pr_warn("map %s: no pin under %s among %d pinned maps: created empty; the adopted services are checked against it",
				xlb_map_names[i], o->bpffs, pinned);
	return pinned;
}

/* Makes obj use the maps whose fds are fds (indexed by the list). */
static int share_maps(struct bpf_object *obj, const int *fds)
{
	struct bpf_map *map;
	int i, rc;

	for (i = 0; i < XLB_N_MAPS; i++) {
		map = list_map(obj, i);
		if (!map)
			return -ENOENT;
		rc = bpf_map__reuse_fd(map, fds[i]);
		if (rc) {
			pr_err("object %s: map %s: reuse fd %d: %s",
			       bpf_object__name(obj), xlb_map_names[i], fds[i],
			       strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int load_xdp(struct xlb_dp *dp, const struct xlb_loader_opts *o)
{
	int rc;

	dp->xdp = xlb_xdp_lb__open();
	if (!dp->xdp) {
		rc = -errno;
		pr_err("open XDP object: %s", strerror(errno));
		return rc;
	}
	if (o->share) {
		rc = share_maps(dp->xdp->obj, o->share->maps.fd);
	} else {
		rc = size_maps(dp->xdp->obj, o);
		dp->adopted = rc > 0;
	}
	if (rc < 0)
		return rc;
	if (o->tweak) {
		rc = o->tweak(dp->xdp->obj, o->tweak_ctx);
		if (rc)
			return rc;
	}
	set_cfg(&dp->xdp->rodata->xlb_cfg, o);
	rc = xlb_xdp_lb__load(dp->xdp);
	if (rc)
		pr_err("load XDP program: %s%s", strerror(-rc),
		       dp->adopted ? " (pinned maps incompatible? xlbctl detach removes them)" : "");
	return rc;
}

/* The tc program runs on the XDP object's maps. */
static int load_tc(struct xlb_dp *dp, const struct xlb_loader_opts *o)
{
	int rc;

	dp->tc = xlb_tc_lb__open();
	if (!dp->tc) {
		rc = -errno;
		pr_err("open tc object: %s", strerror(errno));
		return rc;
	}
	rc = share_maps(dp->tc->obj, dp->maps.fd);
	if (rc)
		return rc;
	set_cfg(&dp->tc->rodata->xlb_cfg, o);
	rc = xlb_tc_lb__load(dp->tc);
	if (rc)
		pr_err("load tc program: %s", strerror(-rc));
	return rc;
}

/* The skeleton names every listed map: a map missing from the BPF side
 * fails to compile here. */
#define SKEL_FD(UC, lc) dp->maps.lc = bpf_map__fd(dp->xdp->maps.xlb_##lc);

int xlb_dp_load(struct xlb_dp *dp, const struct xlb_loader_opts *o)
{
	int i, rc;

	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = -1;
	for (i = 0; i < XLB_N_MAPS; i++)
		dp->maps.fd[i] = -1;
	if (o->share && o->bpffs) {
		pr_err("bpffs %s: shared maps are not pinned again", o->bpffs);
		return -EINVAL;
	}
	if (o->bpffs) {
		rc = lock_pins(dp, o->bpffs);
		if (rc)
			goto fail;
	}
	rc = load_xdp(dp, o);
	if (rc)
		goto fail;
	XLB_MAPS(SKEL_FD)
	rc = load_tc(dp, o);
	if (rc)
		goto fail;
	dp->maps.own_fds = false;
	rc = xlb_maps_init(&dp->maps);
	if (rc)
		goto fail;
	if (o->bpffs)
		pr_info("programs loaded, maps %s under %s",
			dp->adopted ? "adopted" : "pinned", o->bpffs);
	return 0;
fail:
	xlb_dp_close(dp);
	return rc;
}

int xlb_dp_share_maps(struct bpf_object *obj, const struct xlb_dp *dp)
{
	return share_maps(obj, dp->maps.fd);
}

/* The id of the program attached in XDP mode flags (0: none), its name
 * in name[BPF_OBJ_NAME_LEN] ("" if it cannot be read). */
static __u32 xdp_attached(int ifindex, __u32 flags, char *name)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id;
	int fd;

	name[0] = '\0';
	if (bpf_xdp_query(ifindex, flags, &q))
		return 0;
	id = flags == XDP_FLAGS_DRV_MODE ? q.drv_prog_id : q.skb_prog_id;
	if (!id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return id;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(name, BPF_OBJ_NAME_LEN, "%s", info.name);
	close(fd);
	return id;
}

/* The id of the program named name attached in XDP mode flags, or 0. */
static __u32 xdp_prog_named(int ifindex, __u32 flags, const char *name)
{
	char got[BPF_OBJ_NAME_LEN];
	__u32 id = xdp_attached(ifindex, flags, got);

	return id && !strcmp(got, name) ? id : 0;
}

static void detach_xdp_ours(int ifindex)
{
	__u32 modes[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	int i;

	for (i = 0; i < 2; i++)
		if (xdp_prog_named(ifindex, modes[i], "xlb_xdp"))
			bpf_xdp_detach(ifindex, modes[i], NULL);
}

static void detach_tc_at(int ifindex, enum bpf_tc_attach_point where);

static void detach_tc_ours(int ifindex)
{
	detach_tc_at(ifindex, BPF_TC_INGRESS);
}

/* The egress program (ICMP errors the node sends) goes with any mode. */
static int attach_tc_egress(struct xlb_dp *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_TC_HANDLE,
		    .priority = XLB_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	int rc;

	xlb_log_libbpf_mute(1);
	rc = bpf_tc_hook_create(&hook);
	xlb_log_libbpf_mute(0);
	if (rc && rc != -EEXIST)
		return rc;
	opts.prog_fd = bpf_program__fd(dp->tc->progs.xlb_tc_egress);
	return bpf_tc_attach(&hook, &opts);
}

/* Whether program id is one of xlb's tc programs (xlb_tc, xlb_tc_egress):
 * another owner's filter at xlb's handle and priority stays. */
static bool prog_is_xlb_tc(__u32 id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool ours;
	int fd;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       !strncmp(info.name, "xlb_tc", 6);
	close(fd);
	return ours;
}

static void detach_tc_at(int ifindex, enum bpf_tc_attach_point where)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_TC_HANDLE,
		    .priority = XLB_TC_PRIO);
	int rc;

	xlb_log_libbpf_mute(1);
	rc = bpf_tc_query(&hook, &opts);
	xlb_log_libbpf_mute(0);
	if (rc || !prog_is_xlb_tc(opts.prog_id))
		return;
	opts.prog_fd = 0;
	opts.prog_id = 0;
	opts.flags = 0;
	bpf_tc_detach(&hook, &opts);
}

/* Another owner's XDP program on the device (either mode) is left
 * alone: -EBUSY, and a message naming it. */
static int xdp_foreign(int ifindex, const char *ifname)
{
	__u32 modes[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	char name[BPF_OBJ_NAME_LEN];
	__u32 id;
	int i;

	for (i = 0; i < 2; i++) {
		id = xdp_attached(ifindex, modes[i], name);
		if (id && strcmp(name, "xlb_xdp")) {
			pr_err("interface %s: another XDP program is attached (id %u, \"%s\"): not replacing it",
			       ifname, id, name);
			return -EBUSY;
		}
	}
	return 0;
}

static int attach_xdp(struct xlb_dp *dp, int ifindex, const char *ifname,
		      __u32 flags)
{
	int fd = bpf_program__fd(dp->xdp->progs.xlb_xdp);
	int rc;

	rc = xdp_foreign(ifindex, ifname);
	if (rc)
		return rc;
	/* Without UPDATE_IF_NOEXIST this atomically replaces the program a
	 * previous xlbd attached in the same mode. */
	rc = bpf_xdp_attach(ifindex, fd, flags, NULL);
	if (rc == -EBUSY || rc == -EEXIST) {
		/* Attached in the other mode before: move it. */
		detach_xdp_ours(ifindex);
		rc = bpf_xdp_attach(ifindex, fd, flags, NULL);
	}
	return rc;
}

static int attach_ingress(struct xlb_dp *dp, const char *ifname, int ifindex,
			  enum xlb_attach_mode mode, const char **where,
			  char *note, size_t notelen);

static int attach_tc(struct xlb_dp *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_TC_HANDLE,
		    .priority = XLB_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	int rc;

	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST)
		return rc;
	opts.prog_fd = bpf_program__fd(dp->tc->progs.xlb_tc);
	return bpf_tc_attach(&hook, &opts);
}

int xlb_dp_attach(struct xlb_dp *dp, int ifindex, const char *ifname,
		  enum xlb_attach_mode mode, const char **where, char *note,
		  size_t notelen)
{
	char dummy[1];
	int rc;

	if (!note) {
		note = dummy;
		notelen = sizeof(dummy);
	}
	note[0] = '\0';
	rc = attach_ingress(dp, ifname, ifindex, mode, where, note, notelen);
	if (rc)
		return rc;
	rc = attach_tc_egress(dp, ifindex);
	if (rc)
		pr_warn("interface %s: tc egress (ICMP errors this node sends about balanced flows): %s",
			ifname, strerror(-rc));
	return 0;
}

static int attach_ingress(struct xlb_dp *dp, const char *ifname, int ifindex,
			  enum xlb_attach_mode mode, const char **where,
			  char *note, size_t notelen)
{
	int rc;

	switch (mode) {
	case XLB_MODE_AUTO:
	case XLB_MODE_NATIVE:
	case XLB_MODE_BEST_EFFORT:
		rc = attach_xdp(dp, ifindex, ifname, XDP_FLAGS_DRV_MODE);
		if (!rc) {
			*where = "xdp-native";
			detach_tc_ours(ifindex);
			return 0;
		}
		if (mode == XLB_MODE_NATIVE || rc == -EBUSY) {
			if (rc != -EBUSY)
				pr_err("interface %s: native XDP attach: %s (try --xdp-mode auto)",
				       ifname, strerror(-rc));
			return rc;
		}
		snprintf(note, notelen, "native XDP not available: %s",
			 strerror(-rc));
		/* fall through */
	case XLB_MODE_TC:
		rc = attach_tc(dp, ifindex);
		if (rc) {
			pr_err("interface %s: tc attach: %s", ifname,
			       strerror(-rc));
			return rc;
		}
		*where = "tc";
		detach_xdp_ours(ifindex);
		return 0;
	case XLB_MODE_GENERIC:
		rc = attach_xdp(dp, ifindex, ifname, XDP_FLAGS_SKB_MODE);
		if (rc) {
			if (rc != -EBUSY)
				pr_err("interface %s: generic XDP attach: %s",
				       ifname, strerror(-rc));
			return rc;
		}
		*where = "xdp-generic";
		detach_tc_ours(ifindex);
		return 0;
	}
	return -EINVAL;
}

void xlb_dp_close(struct xlb_dp *dp)
{
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	dp->lock_fd = -1;
	xlb_maps_close(&dp->maps);
	xlb_tc_lb__destroy(dp->tc);
	xlb_xdp_lb__destroy(dp->xdp);
	dp->tc = NULL;
	dp->xdp = NULL;
}

void xlb_dp_detach(int ifindex)
{
	detach_xdp_ours(ifindex);
	detach_tc_ours(ifindex);
	detach_tc_at(ifindex, BPF_TC_EGRESS);
}

int xlb_detach_iface(const char *ifname)
{
	int ifindex = if_nametoindex(ifname);

	if (!ifindex)
		return -ENODEV;
	xlb_dp_detach(ifindex);
	return 0;
}

int xlb_unpin_all(const char *dir)
{
	char path[PATH_MAX];
	int i, rc = 0;

	for (i = 0; i < XLB_N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, xlb_map_names[i]);
		if (unlink(path) && errno != ENOENT)
			rc = -errno;
	}
	rmdir(dir);
	return rc;
}
