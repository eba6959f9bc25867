// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "socklb.h"
#include "sock_lb.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

struct xlb_socklb {
	struct xlb_sock_lb *skel;
	const struct xlb_dp *dp;
	struct bpf_link *reap_tcp, *reap_udp;
	bool host;		/* --socket-lb host: one network namespace */
};

/* The hooks and where each goes. */
#define N_HOOKS 8
static struct bpf_program *hook_prog(struct xlb_sock_lb *k, int i)
{
	struct bpf_program *p[N_HOOKS] = {
		k->progs.xlb_sock_connect4,	k->progs.xlb_sock_connect6,
		k->progs.xlb_sock_sendmsg4,	k->progs.xlb_sock_sendmsg6,
		k->progs.xlb_sock_recvmsg4,	k->progs.xlb_sock_recvmsg6,
		k->progs.xlb_sock_getpeername4,	k->progs.xlb_sock_getpeername6,
	};

	return p[i];
}

static const enum bpf_attach_type hook_type[N_HOOKS] = {
	BPF_CGROUP_INET4_CONNECT,	BPF_CGROUP_INET6_CONNECT,
	BPF_CGROUP_UDP4_SENDMSG,	BPF_CGROUP_UDP6_SENDMSG,
	BPF_CGROUP_UDP4_RECVMSG,	BPF_CGROUP_UDP6_RECVMSG,
	BPF_CGROUP_INET4_GETPEERNAME,	BPF_CGROUP_INET6_GETPEERNAME,
};

int xlb_socklb_parse_mode(const char *s, enum xlb_socklb_mode *mode)
{
	if (!strcmp(s, "on"))
		*mode = XLB_SOCKLB_ON;
	else if (!strcmp(s, "off"))
		*mode = XLB_SOCKLB_OFF;
	else if (!strcmp(s, "host"))
		*mode = XLB_SOCKLB_HOST;
	else
		return -EINVAL;
	return 0;
}

int xlb_cgroup2_root(char *buf, size_t len)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/mounts", "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, len, "%s", m->mnt_dir);
			rc = 0;
			break;
		}
	endmntent(f);
	return rc;
}

/* Opens the cgroup directory at path (NULL: the v2 root); name gets the
 * path for messages. */
static int cgroup_open(const char *path, char *name, size_t len)
{
	int fd;

	if (!path) {
		if (xlb_cgroup2_root(name, len)) {
			pr_err("socket-lb: no cgroup2 mount in /proc/mounts (mount -t cgroup2 none DIR, or --cgroup PATH)");
			return -ENOENT;
		}
	} else {
		snprintf(name, len, "%s", path);
	}
	fd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		pr_err("socket-lb: cgroup %s: %s", name, strerror(errno));
	}
	return fd;
}

/* Whether program id is one of the hooks over the map sock_map_id;
 * with *fd its fd (else -1). */
static int prog_is_ours(__u32 id, __u32 sock_map_id, int *fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), maps[64], i;
	int pfd, ours = 0;

	*fd = -1;
	pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0)
		return 0;
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)maps;
	if (!bpf_obj_get_info_by_fd(pfd, &info, &len) &&
	    !strncmp(info.name, "xlb_sock_", 9))
		for (i = 0; i < info.nr_map_ids && i < 64; i++)
			ours |= maps[i] == sock_map_id;
	if (ours)
		*fd = pfd;
	else
		close(pfd);
	return ours;
}

/* The fd of the hook over sock_map_id attached to cg at type, or -1. */
static int find_ours(int cg, enum bpf_attach_type type, __u32 sock_map_id)
{
	__u32 ids[64], cnt = 64, flags = 0, i;
	int fd;

	if (bpf_prog_query(cg, type, 0, &flags, ids, &cnt))
		return -1;
	for (i = 0; i < cnt && i < 64; i++)
		if (prog_is_ours(ids[i], sock_map_id, &fd))
			return fd;
	return -1;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int xlb_socklb_detach(const char *path, __u32 sock_map_id)
{
	char name[PATH_MAX];
	int cg, i, fd, n = 0;

	cg = cgroup_open(path, name, sizeof(name));
	if (cg < 0)
		return cg;
	for (i = 0; i < N_HOOKS; i++)
		while ((fd = find_ours(cg, hook_type[i], sock_map_id)) >= 0) {
			int rc = bpf_prog_detach2(fd, cg, hook_type[i]);

			close(fd);
			if (rc) {
				pr_warn("socket-lb: cgroup %s: detach: %s",
					name, strerror(errno));
				break;
			}
			n++;
		}
	close(cg);
	if (n)
		pr_info("socket-lb: %d hooks removed from cgroup %s", n, name);
	return n;
}

/* Attaches every hook to cg, each replacing the one over the same maps
 * in one step (BPF_F_REPLACE), so that no connect() goes unbalanced. */
static int attach_all(struct xlb_socklb *s, int cg, const char *name)
{
	__u32 sock_id = map_id(s->dp->maps.sock);
	int i, rc;

	for (i = 0; i < N_HOOKS; i++) {
		int old = find_ours(cg, hook_type[i], sock_id);
		LIBBPF_OPTS(bpf_prog_attach_opts, o,
			    .flags = BPF_F_ALLOW_MULTI |
				     (old >= 0 ? BPF_F_REPLACE : 0),
			    .replace_prog_fd = old >= 0 ? old : 0);

		rc = bpf_prog_attach_opts(bpf_program__fd(hook_prog(s->skel, i)),
					  cg, hook_type[i], &o);
		if (old >= 0)
			close(old);
		if (rc) {
			pr_err("socket-lb: cgroup %s: attach %s: %s%s", name,
			       bpf_program__name(hook_prog(s->skel, i)),
			       strerror(-rc),
			       rc == -EPERM ? " (a program attached without BPF_F_ALLOW_MULTI?)" : "");
			return rc;
		}
	}
	return 0;
}

static __u64 own_netns_cookie(void)
{
	socklen_t len = sizeof(__u64);
	__u64 c = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &c, &len))
			c = 0;
		close(fd);
	}
	return c;
}

int xlb_socklb_start(struct xlb_socklb **out, const struct xlb_dp *dp,
		     enum xlb_socklb_mode mode, const char *path)
{
	struct xlb_socklb *s;
	char name[PATH_MAX];
	int cg, rc;

	*out = NULL;
	if (mode == XLB_SOCKLB_OFF) {
		/* Hooks a previous xlbd over these maps attached go. */
		xlb_socklb_detach(path, map_id(dp->maps.sock));
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dp = dp;
	s->host = mode == XLB_SOCKLB_HOST;
	cg = cgroup_open(path, name, sizeof(name));
	if (cg < 0) {
		rc = cg;
		goto fail;
	}
	s->skel = xlb_sock_lb__open();
	if (!s->skel) {
		rc = -errno;
		pr_err("socket-lb: open object: %s", strerror(errno));
		goto fail;
	}
	rc = xlb_dp_share_maps(s->skel->obj, dp);
	if (rc)
		goto fail;
	if (mode == XLB_SOCKLB_HOST) {
		s->skel->rodata->xlb_sock_cfg.netns_cookie = own_netns_cookie();
		if (!s->skel->rodata->xlb_sock_cfg.netns_cookie) {
			rc = -EOPNOTSUPP;
			pr_err("socket-lb host: no SO_NETNS_COOKIE for this network namespace");
			goto fail;
		}
	}
	rc = xlb_sock_lb__load(s->skel);
	if (rc) {
		pr_err("socket-lb: load programs: %s", strerror(-rc));
		goto fail;
	}
	s->reap_tcp = bpf_program__attach_iter(s->skel->progs.xlb_sock_reap_tcp,
					       NULL);
	s->reap_udp = bpf_program__attach_iter(s->skel->progs.xlb_sock_reap_udp,
					       NULL);
	if (!s->reap_tcp || !s->reap_udp) {
		rc = -errno;
		pr_err("socket-lb: socket iterators: %s", strerror(errno));
		goto fail;
	}
	rc = attach_all(s, cg, name);
	if (rc)
		goto fail;
	pr_info("socket-lb: hooks attached to cgroup %s (%s)", name,
		mode == XLB_SOCKLB_HOST ? "this network namespace only" :
					  "every network namespace");
	close(cg);
	*out = s;
	return 0;
fail:
	if (cg >= 0)
		close(cg);
	xlb_socklb_close(s);
	return rc;
}

/* One pass of an iterator: reading it to the end runs the program on
 * every socket. */
static int run_iter(struct bpf_link *link)
{
	char buf[256];
	int fd = bpf_iter_create(bpf_link__fd(link));
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -errno : 0;
}

static int reap_here(struct xlb_socklb *s)
{
	int rc = run_iter(s->reap_tcp);

	return rc ? rc : run_iter(s->reap_udp);
}

/*
 * A socket iterator walks the sockets of the network namespace its fd is
 * created in, and the hooks balance every namespace's: the iterators run
 * in each namespace a process of the node is in (found through
 * /proc/PID/ns/net, each once), this thread entering it for the
 * creation and coming back.
 */
static int reap_every_netns(struct xlb_socklb *s)
{
	struct { dev_t dev; ino_t ino; } *seen = NULL, *n;
	size_t n_seen = 0, i;
	char path[64];
	struct dirent *e;
	struct stat st;
	int self, fd, rc = 0, ns = 0, missed = 0, why = 0;
	DIR *d;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	d = opendir("/proc");
	if (self < 0 || !d) {
		rc = -errno;
		goto out;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", e->d_name);
		if (stat(path, &st))
			continue;
		for (i = 0; i < n_seen; i++)
			if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino)
				break;
		if (i < n_seen)
			continue;
		n = realloc(seen, (n_seen + 1) * sizeof(*seen));
		if (!n) {
			rc = -ENOMEM;
			break;
		}
		seen = n;
		seen[n_seen].dev = st.st_dev;
		seen[n_seen++].ino = st.st_ino;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			missed++;
			why = errno;
			continue;
		}
		if (!setns(fd, CLONE_NEWNET)) {
			int r = reap_here(s);

			if (r && !rc)
				rc = r;
			ns++;
		} else {
			missed++;
			why = errno;
		}
		close(fd);
	}
	if (setns(self, CLONE_NEWNET)) {
		rc = -errno;
		pr_err("socket-lb: cannot return to xlbd's network namespace: %s",
		       strerror(errno));
	}
	pr_debug("socket-lb: socket iterators ran in %d network namespaces", ns);
	/* Their sockets to departed backends stay: say so, and why (the
	 * chart grants SYS_PTRACE and SYS_ADMIN and hostPID for this). */
	if (missed)
		pr_warn("socket-lb: %d network namespaces not searched for sockets of departed backends (%s; needs CAP_SYS_PTRACE to open another user's /proc/PID/ns/net and CAP_SYS_ADMIN to enter it)",
			missed, strerror(why));
out:
	if (d)
		closedir(d);
	if (self >= 0)
		close(self);
	free(seen);
	return rc;
}

int xlb_socklb_reap(struct xlb_socklb *s)
{
	struct xlb_counter before, after;
	int rc;

	xlb_counter_read(&s->dp->maps, s->dp->maps.stats,
			 XLB_STAT_SOCK_DESTROYED, &before);
	rc = s->host ? reap_here(s) : reap_every_netns(s);
	if (rc) {
		pr_warn("socket-lb: socket iterator: %s", strerror(-rc));
		return rc;
	}
	xlb_counter_read(&s->dp->maps, s->dp->maps.stats,
			 XLB_STAT_SOCK_DESTROYED, &after);
	rc = (int)(after.packets - before.packets);
	if (rc)
		pr_info("socket-lb: %d sockets connected to backends that left destroyed",
			rc);
	return rc;
}

void xlb_socklb_backends_left(void *ctx)
{
	xlb_socklb_reap(ctx);
}

void xlb_socklb_close(struct xlb_socklb *s)
{
	if (!s)
		return;
	bpf_link__destroy(s->reap_tcp);
	bpf_link__destroy(s->reap_udp);
	xlb_sock_lb__destroy(s->skel);
	free(s);
}
