// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbctl: inspects and manages the xlb datapath through its pinned maps,
 * whether xlbd is running or not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cjson/cJSON.h>

#include "loader.h"
#include "socklb.h"
#include "log.h"
#include "maps.h"
#include "util.h"

static bool json_out;

struct snapshot {
	struct xlb_maps m;
	struct xlb_svc_info *info;	/* by service id */
	struct xlb_backend *bes;	/* by backend id */
	__u32 *nbe;			/* backends per service id */
	struct svc_row {
		struct xlb_vip_key vip;
		struct xlb_svc svc;
	} *rows;			/* frontends, sorted by service name */
	size_t n_rows;
};

static struct snapshot *snap_ref;

/* What a command runs with. */
struct ctl {
	const char *bpffs;
	char *ifaces;		/* -i/--iface LIST, for detach */
	const char *cgroup;	/* --cgroup PATH, for detach; NULL: v2 root */
	const char *sub;	/* the word after the command, or "" */
	char *arg;		/* the word after that, or NULL */
	struct snapshot s;	/* the maps, for the commands that read them */
};

static int row_cmp(const void *a, const void *b)
{
	const struct svc_row *x = a, *y = b;
	int c = strcmp(snap_ref->info[x->svc.svc_id].name,
		       snap_ref->info[y->svc.svc_id].name);

	return c ? c : memcmp(&x->vip, &y->vip, sizeof(x->vip));
}

static int snap_open(struct snapshot *s, const char *bpffs)
{
	struct xlb_vip_key k, next;
	void *prev = NULL;
	size_t cap = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = xlb_maps_open_pinned(&s->m, bpffs);
	if (rc)
		return rc;
	s->info = calloc(s->m.max_services, sizeof(*s->info));
	s->bes = calloc(s->m.max_backends, sizeof(*s->bes));
	if (!s->info || !s->bes)
		return -ENOMEM;
	rc = xlb_array_read(s->m.svc_info, s->m.max_services, sizeof(*s->info),
			    s->info);
	if (!rc)
		rc = xlb_array_read(s->m.backends, s->m.max_backends,
				    sizeof(*s->bes), s->bes);
	if (rc) {
		pr_err("read maps: %s", strerror(-rc));
		return rc;
	}
	s->nbe = calloc(s->m.max_services, sizeof(*s->nbe));
	if (!s->nbe)
		return -ENOMEM;
	for (__u32 i = 1; i < s->m.max_backends; i++)
		if (s->bes[i].state != XLB_BE_UNUSED &&
		    s->bes[i].svc_id < s->m.max_services)
			s->nbe[s->bes[i].svc_id]++;
	while (!bpf_map_get_next_key(s->m.svc, prev, &next)) {
		struct xlb_svc v;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(s->m.svc, &k, &v) ||
		    v.svc_id >= s->m.max_services)
			continue;
		if (s->n_rows == cap) {
			cap = cap ? cap * 2 : 64;
			s->rows = realloc(s->rows, cap * sizeof(*s->rows));
			if (!s->rows)
				return -ENOMEM;
		}
		s->rows[s->n_rows].vip = k;
		s->rows[s->n_rows].svc = v;
		s->n_rows++;
	}
	snap_ref = s;
	xlb_qsort(s->rows, s->n_rows, sizeof(*s->rows), row_cmp);
	return 0;
}

static void snap_close(struct snapshot *s)
{
	free(s->info);
	free(s->bes);
	free(s->nbe);
	free(s->rows);
	xlb_maps_close(&s->m);
}

static void print_json(cJSON *j)
{
	char *t = cJSON_Print(j);

	if (t)
		puts(t);
	free(t);
	cJSON_Delete(j);
}

/* A listing built as JSON either way: printed with -o json, else dropped
 * (the table was printed row by row). */
static void finish_json(cJSON *j)
{
	if (json_out)
		print_json(j);
	else
		cJSON_Delete(j);
}

static const char *svc_name(const struct snapshot *s, __u32 id)
{
	return id < s->m.max_services ? s->info[id].name : "?";
}

static size_t backends_of(const struct snapshot *s, __u32 svc_id)
{
	return svc_id < s->m.max_services ? s->nbe[svc_id] : 0;
}

static const char *fe_kind_str(__u32 flags)
{
	static const char *const kinds[] = { "cluster-ip", "external-ip",
					     "load-balancer", "node-port" };

	return kinds[flags & XLB_FE_KIND_MASK];
}

/* "10.0.0.1:80" or "[fd00::1]:80" from a formatted address. */
static const char *ep_str(char *buf, size_t len, const char *a, __u8 family,
			  __be16 port)
{
	snprintf(buf, len, family == XLB_AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 ntohs(port));
	return buf;
}

/* "affinity=10800s,source-ranges,local" or "-". */
static const char *fe_flags_str(const struct xlb_svc *v, char *buf,
				size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (v->flags & XLB_SVC_F_AFFINITY)
		n += snprintf(buf + n, len - n, "%saffinity=%us", n ? "," : "",
			      v->affinity_timeout);
	if ((v->flags & XLB_SVC_F_SRC_RANGES) && n < len)
		n += snprintf(buf + n, len - n, "%ssource-ranges",
			      n ? "," : "");
	if ((v->flags & XLB_SVC_F_LOCAL) && n < len)
		n += snprintf(buf + n, len - n, "%slocal", n ? "," : "");
	if (!buf[0])
		snprintf(buf, len, "-");
	return buf;
}

static int cmd_service_list(struct ctl *c)
{
	struct snapshot *s = &c->s;
	cJSON *arr = cJSON_CreateArray();
	char a[XLB_ADDR_STRLEN], fl[96];
	size_t i;

	if (!json_out)
		printf("%-5s %-20s %-13s %-40s %-6s %-5s %-6s %-8s %s\n", "ID",
		       "NAME", "KIND", "FRONTEND", "PORT", "PROTO", "TABLE",
		       "BACKENDS", "FLAGS");
	for (i = 0; i < s->n_rows; i++) {
		const struct svc_row *r = &s->rows[i];
		size_t nb = backends_of(s, r->svc.svc_id);
		cJSON *o, *f;

		xlb_addr_str(&r->vip.addr, r->vip.family, a);
		fe_flags_str(&r->svc, fl, sizeof(fl));
		if (!json_out) {
			printf("%-5u %-20s %-13s %-40s %-6u %-5s %-6u %-8zu %s\n",
			       r->svc.svc_id, svc_name(s, r->svc.svc_id),
			       fe_kind_str(r->svc.flags), a,
			       ntohs(r->vip.port), xlb_proto_str(r->vip.proto),
			       r->svc.ring_size, nb, fl);
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", r->svc.svc_id);
		cJSON_AddStringToObject(o, "name", svc_name(s, r->svc.svc_id));
		cJSON_AddStringToObject(o, "kind", fe_kind_str(r->svc.flags));
		cJSON_AddStringToObject(o, "vip", a);
		cJSON_AddNumberToObject(o, "port", ntohs(r->vip.port));
		cJSON_AddStringToObject(o, "protocol",
					xlb_proto_str(r->vip.proto));
		cJSON_AddNumberToObject(o, "table_size", r->svc.ring_size);
		cJSON_AddNumberToObject(o, "backends", nb);
		f = cJSON_AddArrayToObject(o, "flags");
		if (r->svc.flags & XLB_SVC_F_AFFINITY)
			cJSON_AddItemToArray(f, cJSON_CreateString("affinity"));
		if (r->svc.flags & XLB_SVC_F_SRC_RANGES)
			cJSON_AddItemToArray(f, cJSON_CreateString("source-ranges"));
		if (r->svc.flags & XLB_SVC_F_LOCAL)
			cJSON_AddItemToArray(f, cJSON_CreateString("local"));
		cJSON_AddNumberToObject(o, "affinity_timeout",
					r->svc.affinity_timeout);
		cJSON_AddItemToArray(arr, o);
	}
	finish_json(arr);
	return 0;
}

static int cmd_backend_list(struct ctl *c)
{
	struct snapshot *s = &c->s;
	cJSON *arr = cJSON_CreateArray();
	char a[XLB_ADDR_STRLEN];
	__u32 i;

	if (!json_out)
		printf("%-7s %-24s %-40s %-6s %-6s %s\n", "ID", "SERVICE", "IP",
		       "PORT", "WEIGHT", "STATE");
	for (i = 1; i < s->m.max_backends; i++) {
		const struct xlb_backend *b = &s->bes[i];

		if (b->state == XLB_BE_UNUSED)
			continue;
		xlb_addr_str(&b->addr, b->family, a);
		if (!json_out) {
			printf("%-7u %-24s %-40s %-6u %-6u %s\n", i,
			       svc_name(s, b->svc_id), a, ntohs(b->port),
			       b->weight, xlb_be_state_str(b->state));
			continue;
		}
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", i);
		cJSON_AddStringToObject(o, "service", svc_name(s, b->svc_id));
		cJSON_AddStringToObject(o, "ip", a);
		cJSON_AddNumberToObject(o, "port", ntohs(b->port));
		cJSON_AddNumberToObject(o, "weight", b->weight);
		cJSON_AddStringToObject(o, "state", xlb_be_state_str(b->state));
		cJSON_AddBoolToObject(o, "local", b->flags & XLB_BE_F_LOCAL);
		cJSON_AddItemToArray(arr, o);
	}
	finish_json(arr);
	return 0;
}

/* The cluster-wide ring of a service: from a frontend that is not
 * node-local, if it has one. */
static const struct svc_row *ring_row(const struct snapshot *s,
				      const char *name)
{
	const struct svc_row *r = NULL;
	size_t k;

	for (k = 0; k < s->n_rows; k++)
		if (!strcmp(svc_name(s, s->rows[k].svc.svc_id), name) &&
		    (!r || ((r->svc.flags & XLB_SVC_F_LOCAL) &&
			    !(s->rows[k].svc.flags & XLB_SVC_F_LOCAL))))
			r = &s->rows[k];
	return r;
}

/* Counts the ring's slots per backend id into slots; with -o json, the
 * ring's endpoints in slot order go to tab. */
static void ring_slots(const struct snapshot *s, const struct svc_row *r,
		       __u32 *slots, cJSON *tab)
{
	char a[XLB_ADDR_STRLEN], ep[XLB_ADDR_STRLEN + 10];
	__u32 i;

	for (i = 0; i < r->svc.ring_size; i++) {
		__u32 id = s->m.ring_mem[r->svc.ring_off + i];
		const struct xlb_backend *b;

		if (id < s->m.max_backends)
			slots[id]++;
		if (!json_out || id >= s->m.max_backends)
			continue;
		b = &s->bes[id];
		xlb_addr_str(&b->addr, b->family, a);
		ep_str(ep, sizeof(ep), a, b->family, b->port);
		cJSON_AddItemToArray(tab, cJSON_CreateString(ep));
	}
}

static int cmd_maglev_show(struct ctl *c)
{
	struct snapshot *s = &c->s;
	const char *name = c->arg;
	const struct svc_row *r = ring_row(s, name);
	char a[XLB_ADDR_STRLEN];
	__u32 *slots, i;
	cJSON *o, *arr, *tab;

	if (!r) {
		pr_err("maglev show: service \"%s\": not found", name);
		return -ENOENT;
	}
	slots = calloc(s->m.max_backends, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	tab = cJSON_CreateArray();
	ring_slots(s, r, slots, tab);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", name);
	cJSON_AddNumberToObject(o, "table_size", r->svc.ring_size);
	arr = cJSON_AddArrayToObject(o, "backends");
	if (!json_out)
		printf("service %s: table size %u\n%-7s %-40s %-6s %-12s %-7s %s\n",
		       name, r->svc.ring_size, "ID", "IP", "PORT", "STATE",
		       "SLOTS", "SHARE");
	for (i = 1; i < s->m.max_backends; i++) {
		const struct xlb_backend *b = &s->bes[i];

		if (b->state == XLB_BE_UNUSED || b->svc_id != r->svc.svc_id)
			continue;
		xlb_addr_str(&b->addr, b->family, a);
		if (!json_out) {
			printf("%-7u %-40s %-6u %-12s %-7u %.2f%%\n", i, a,
			       ntohs(b->port), xlb_be_state_str(b->state),
			       slots[i],
			       r->svc.ring_size ? 100.0 * slots[i] /
							  r->svc.ring_size :
						  0.0);
			continue;
		}
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "id", i);
		cJSON_AddStringToObject(e, "ip", a);
		cJSON_AddNumberToObject(e, "port", ntohs(b->port));
		cJSON_AddStringToObject(e, "state", xlb_be_state_str(b->state));
		cJSON_AddNumberToObject(e, "slots", slots[i]);
		cJSON_AddItemToArray(arr, e);
	}
	if (json_out) {
		cJSON_AddItemToObject(o, "table", tab);
		print_json(o);
	} else {
		cJSON_Delete(tab);
		cJSON_Delete(o);
	}
	free(slots);
	return 0;
}

/* One conntrack entry as listed: direction, destination, NAT and source
 * NAT (flow, fwd: the node address and port the client's packets leave
 * from; rev: the client the replies go back to), sn[0] 0 without. */
struct ct_row {
	const char *dir;
	char da[XLB_ADDR_STRLEN], na[XLB_ADDR_STRLEN], sn[XLB_ADDR_STRLEN];
	__be16 dport, nport, snport;
	char dsr[XLB_ADDR_STRLEN + 8];	/* DSR: "encap:ADDR", "decap:mss=N", "-" */
};

static void ct_row(const struct snapshot *s, const struct xlb_ct_key *k,
		   const struct xlb_ct_val *v, struct ct_row *r)
{
	if (k->dir == XLB_CT_CLIENT) {
		/* One entry for both ways: client -> frontend, balanced to
		 * the backend its id names. */
		const struct xlb_backend *be =
			v->backend_id < s->m.max_backends ?
				&s->bes[v->backend_id] : NULL;
		union xlb_addr none = {};

		r->dir = "flow";
		xlb_addr_str(&v->nat_addr, k->family, r->da);
		r->dport = v->nat_port;
		xlb_addr_str(be ? &be->addr : &none, k->family, r->na);
		r->nport = be ? be->port : 0;
	} else {
		r->dir = k->dir == XLB_CT_FWD ? "fwd" : "rev";
		xlb_addr_str(&k->daddr, k->family, r->da);
		r->dport = k->dport;
		xlb_addr_str(&v->nat_addr, k->family, r->na);
		r->nport = v->nat_port;
	}
	r->sn[0] = 0;
	r->snport = 0;
	if (v->flags & XLB_CT_F_SNAT) {
		xlb_addr_str(&v->snat_addr, k->family, r->sn);
		r->snport = v->snat_port;
	}
	/* DSR: sent on encapsulated from this node's address, or taken
	 * off here (and the SYN-ACK's MSS lowered to dsr_mss). */
	strcpy(r->dsr, "-");
	if (v->flags & XLB_CT_F_DSR) {
		char a[XLB_ADDR_STRLEN];

		xlb_addr_str(&v->dsr_src, k->family, a);
		snprintf(r->dsr, sizeof(r->dsr), "encap:%s", a);
	} else if (v->flags & XLB_CT_F_DSR_LOCAL) {
		snprintf(r->dsr, sizeof(r->dsr), "decap:mss=%u", v->dsr_mss);
	}
}

static int cmd_conntrack_list(struct ctl *c)
{
	struct snapshot *s = &c->s;
	struct xlb_ct_key k, next;
	struct xlb_ct_val v;
	char sa[XLB_ADDR_STRLEN];
	uint64_t now = xlb_now_coarse_ns();
	cJSON *arr = cJSON_CreateArray();
	void *prev = NULL;

	if (!json_out)
		printf("%-4s %-5s %-45s %-45s %-45s %-45s %-16s %-8s %s\n",
		       "DIR", "PROTO", "SOURCE", "DESTINATION", "NAT", "SNAT",
		       "SERVICE", "AGE", "DSR");
	while (!bpf_map_get_next_key(s->m.ct, prev, &next)) {
		struct ct_row r;
		double age;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(s->m.ct, &k, &v))
			continue;
		xlb_addr_str(&k.saddr, k.family, sa);
		ct_row(s, &k, &v, &r);
		age = v.last_seen && now > v.last_seen ?
			      (now - v.last_seen) / 1e9 : 0;
		if (!json_out) {
			char src[64], dst[64], nat[64], snat[64] = "-", ag[24];

			if (r.sn[0])
				ep_str(snat, sizeof(snat), r.sn, k.family,
				       r.snport);
			snprintf(ag, sizeof(ag), "%.0fs", age);
			printf("%-4s %-5s %-45s %-45s %-45s %-45s %-16s %-8s %s\n",
			       r.dir, xlb_proto_str(k.proto),
			       ep_str(src, sizeof(src), sa, k.family, k.sport),
			       ep_str(dst, sizeof(dst), r.da, k.family, r.dport),
			       ep_str(nat, sizeof(nat), r.na, k.family, r.nport),
			       snat, svc_name(s, v.svc_id), ag, r.dsr);
			continue;
		}
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "dir", r.dir);
		cJSON_AddStringToObject(o, "protocol", xlb_proto_str(k.proto));
		cJSON_AddStringToObject(o, "src", sa);
		cJSON_AddNumberToObject(o, "sport", ntohs(k.sport));
		cJSON_AddStringToObject(o, "dst", r.da);
		cJSON_AddNumberToObject(o, "dport", ntohs(r.dport));
		cJSON_AddStringToObject(o, "nat_ip", r.na);
		cJSON_AddNumberToObject(o, "nat_port", ntohs(r.nport));
		if (r.sn[0]) {
			cJSON_AddStringToObject(o, "snat_ip", r.sn);
			cJSON_AddNumberToObject(o, "snat_port", ntohs(r.snport));
		}
		if (r.dsr[0] != '-')
			cJSON_AddStringToObject(o, "dsr", r.dsr);
		cJSON_AddStringToObject(o, "service", svc_name(s, v.svc_id));
		cJSON_AddNumberToObject(o, "backend_id", v.backend_id);
		cJSON_AddNumberToObject(o, "age_s", age);
		cJSON_AddItemToArray(arr, o);
	}
	finish_json(arr);
	return 0;
}

static int cmd_conntrack_flush(struct ctl *c)
{
	struct snapshot *s = &c->s;
	struct xlb_ct_key k;
	size_t n = 0;

	while (!bpf_map_get_next_key(s->m.ct, NULL, &k)) {
		if (bpf_map_delete_elem(s->m.ct, &k))
			break;
		n++;
	}
	if (json_out) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "flushed", n);
		print_json(o);
	} else {
		printf("%zu entries flushed\n", n);
	}
	return 0;
}

static void add_counter(cJSON *o, const struct xlb_counter *c)
{
	cJSON_AddNumberToObject(o, "packets", c->packets);
	cJSON_AddNumberToObject(o, "bytes", c->bytes);
}

static void stats_outcomes(const struct snapshot *s, cJSON *outc)
{
	static const char *const names[] = XLB_STAT_NAMES;
	struct xlb_counter c;
	__u32 i;

	_Static_assert(sizeof(names) / sizeof(names[0]) == XLB_STAT_MAX,
		       "a name per outcome");
	if (!json_out)
		printf("%-14s %14s %16s\n", "OUTCOME", "PACKETS", "BYTES");
	for (i = 0; i < XLB_STAT_MAX; i++) {
		xlb_counter_read(&s->m, s->m.stats, i, &c);
		if (!json_out)
			printf("%-14s %14llu %16llu\n", names[i],
			       (unsigned long long)c.packets,
			       (unsigned long long)c.bytes);
		add_counter(cJSON_AddObjectToObject(outc, names[i]), &c);
	}
}

static void stats_services(const struct snapshot *s, cJSON *svcs)
{
	struct xlb_counter c;
	size_t k;

	if (!json_out)
		printf("\n%-24s %14s %16s\n", "SERVICE", "PACKETS", "BYTES");
	for (k = 0; k < s->n_rows; k++) {
		__u32 id = s->rows[k].svc.svc_id;
		cJSON *o;

		if (k && s->rows[k - 1].svc.svc_id == id)
			continue;
		xlb_counter_read(&s->m, s->m.svc_stats, id, &c);
		if (!json_out) {
			printf("%-24s %14llu %16llu\n", svc_name(s, id),
			       (unsigned long long)c.packets,
			       (unsigned long long)c.bytes);
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", svc_name(s, id));
		add_counter(o, &c);
		cJSON_AddItemToArray(svcs, o);
	}
}

static void stats_backends(const struct snapshot *s, cJSON *bes)
{
	char a[XLB_ADDR_STRLEN], ep[64];
	struct xlb_counter c;
	__u32 i;

	if (!json_out)
		printf("\n%-7s %-24s %-46s %14s %16s\n", "ID", "SERVICE",
		       "BACKEND", "PACKETS", "BYTES");
	for (i = 1; i < s->m.max_backends; i++) {
		const struct xlb_backend *b = &s->bes[i];
		cJSON *o;

		if (b->state == XLB_BE_UNUSED)
			continue;
		xlb_counter_read(&s->m, s->m.be_stats, i, &c);
		xlb_addr_str(&b->addr, b->family, a);
		if (!json_out) {
			printf("%-7u %-24s %-46s %14llu %16llu\n", i,
			       svc_name(s, b->svc_id),
			       ep_str(ep, sizeof(ep), a, b->family, b->port),
			       (unsigned long long)c.packets,
			       (unsigned long long)c.bytes);
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", i);
		cJSON_AddStringToObject(o, "service", svc_name(s, b->svc_id));
		cJSON_AddStringToObject(o, "ip", a);
		cJSON_AddNumberToObject(o, "port", ntohs(b->port));
		add_counter(o, &c);
		cJSON_AddItemToArray(bes, o);
	}
}

/* Outcomes, services and backends: a table each, or one JSON object. */
static int cmd_stats(struct ctl *c)
{
	cJSON *root = cJSON_CreateObject(), *outc, *svcs, *bes;

	outc = cJSON_AddObjectToObject(root, "outcomes");
	svcs = cJSON_AddArrayToObject(root, "services");
	bes = cJSON_AddArrayToObject(root, "backends");
	stats_outcomes(&c->s, outc);
	stats_services(&c->s, svcs);
	stats_backends(&c->s, bes);
	finish_json(root);
	return 0;
}

/* The socket hooks over the pinned maps, from the cgroup. */
static int detach_socklb(struct ctl *c)
{
	char path[PATH_MAX];
	struct bpf_map_info info = {};
	int fd, rc;

	snprintf(path, sizeof(path), "%s/" XLB_MAP_SOCK, c->bpffs);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	rc = xlb_map_info(fd, &info);
	close(fd);
	if (rc)
		return rc;
	rc = xlb_socklb_detach(c->cgroup, info.id);
	if (rc > 0)
		printf("socket hooks removed from %s (%d)\n",
		       c->cgroup ? c->cgroup : "the cgroup v2 root", rc);
	return rc < 0 ? rc : 0;
}

/* detach [--iface LIST] [--cgroup PATH]: options may follow the command. */
static int cmd_detach(struct ctl *c)
{
	char *ifaces = c->ifaces, *save, *ifn;
	int rc = 0;

	for (ifn = ifaces ? strtok_r(ifaces, ",", &save) : NULL; ifn;
	     ifn = strtok_r(NULL, ",", &save)) {
		if (xlb_detach_iface(ifn)) {
			pr_err("detach: interface %s: not found", ifn);
			rc = -ENODEV;
		} else {
			printf("detached from %s\n", ifn);
		}
	}
	if (detach_socklb(c)) {
		pr_err("detach: socket hooks: removing them failed");
		rc = -EIO;
	}
	if (xlb_unpin_all(c->bpffs)) {
		pr_err("detach: removing pins under %s failed", c->bpffs);
		rc = -EIO;
	} else {
		printf("pins under %s removed\n", c->bpffs);
	}
	return rc;
}

/*
 * The commands, in the order --help lists them (iproute2's ip/ip.c
 * cmds[]). sub NULL takes any word after the command, or none.
 */
static const struct cmd {
	const char *name;
	const char *sub;
	const char *args;	/* what follows, in --help */
	bool needs_arg;		/* args is required: no match without it */
	bool reads_maps;	/* runs on a snapshot of the pinned maps */
	int (*run)(struct ctl *c);
	const char *help;
} cmds[] = {
	{ "service", "list", NULL, false, true, cmd_service_list,
	  "services with frontend, table size, backends" },
	{ "backend", "list", NULL, false, true, cmd_backend_list,
	  "backends with service, weight and state" },
	{ "maglev", "show", "SERVICE", true, true, cmd_maglev_show,
	  "table size and slots per backend\n"
	  "(-o json adds the full slot table)" },
	{ "conntrack", "list", NULL, false, true, cmd_conntrack_list,
	  "tracked flows: \"flow\" (one entry for both\n"
	  "ways), or \"fwd\" and \"rev\" entries" },
	{ "conntrack", "flush", NULL, false, true, cmd_conntrack_flush,
	  "forgets every tracked flow" },
	{ "stats", NULL, NULL, false, true, cmd_stats,
	  "packets and bytes per service, per backend\n"
	  "and per outcome, summed over CPUs" },
	{ "detach", NULL, "[--iface LIST] [--cgroup PATH]", false, false,
	  cmd_detach,
	  "removes the programs from the interfaces in\n"
	  "LIST, the socket hooks from the cgroup PATH\n"
	  "(default: the cgroup v2 root) and the pins\n"
	  "under DIR" },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

/*
 * The options, in the order --help lists them: one table gives
 * getopt_long its options and --help its text, as xlbd's does.
 */
static const struct opt {
	const char *name;
	char short_name;
	const char *arg;	/* the argument's name in --help; NULL: none */
	const char *help;
} opts[] = {
	{ "bpffs", 'b', "DIR", "pin directory (default " XLB_DEFAULT_BPFFS ")" },
	{ "output", 'o', "FORMAT", "table (default) or json" },
	{ "iface", 'i', "LIST", "detach: interfaces, comma separated" },
	{ "cgroup", 'g', "PATH", "detach: cgroup v2 of the socket hooks" },
	{ "help", 'h', NULL, "this text" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *out)
{
	char left[64];
	size_t i;

	fputs("Usage: xlbctl [--bpffs DIR] [-o json] COMMAND\n"
	      "\n"
	      "Reads the maps xlbd pinned under DIR (default " XLB_DEFAULT_BPFFS "),\n"
	      "whether xlbd runs or not.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < N_CMDS; i++) {
		const struct cmd *e = &cmds[i];

		snprintf(left, sizeof(left), "  %s%s%s%s%s", e->name,
			 e->sub ? " " : "", e->sub ? e->sub : "",
			 e->args ? " " : "", e->args ? e->args : "");
		xlb_usage_row(out, left, e->help);
	}
	fputs("\nOptions:\n", out);
	for (i = 0; i < N_OPTS; i++) {
		const struct opt *e = &opts[i];
		int n = snprintf(left, sizeof(left), "  -%c, --%s",
				 e->short_name, e->name);

		if (e->arg)
			snprintf(left + n, sizeof(left) - n, " %s", e->arg);
		xlb_usage_row(out, left, e->help);
	}
}

static const struct cmd *find_cmd(const struct ctl *c, const char *name)
{
	size_t i;

	for (i = 0; i < N_CMDS; i++) {
		const struct cmd *e = &cmds[i];

		if (!strcmp(e->name, name) &&
		    (!e->sub || !strcmp(e->sub, c->sub)) &&
		    (!e->needs_arg || c->arg))
			return e;
	}
	return NULL;
}

/* The options before the command. Returns -1 to go on, else the exit
 * status: 0 after --help, 2 for a bad option. */
static int parse_opts(int argc, char **argv, struct ctl *c)
{
	struct option lopts[N_OPTS + 1] = {};
	char shorts[2 * N_OPTS + 2] = "+", *p = shorts + 1;
	size_t i;
	int o;

	for (i = 0; i < N_OPTS; i++) {
		lopts[i].name = opts[i].name;
		lopts[i].has_arg = opts[i].arg ? required_argument : no_argument;
		lopts[i].val = opts[i].short_name;
		*p++ = opts[i].short_name;
		if (opts[i].arg)
			*p++ = ':';
	}
	*p = '\0';
	while ((o = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		switch (o) {
		case 'b':
			c->bpffs = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				fprintf(stderr, "xlbctl: -o \"%s\": not json or table\n",
					optarg);
				return 2;
			}
			json_out = !strcmp(optarg, "json");
			break;
		case 'i':
			c->ifaces = optarg;
			break;
		case 'g':
			c->cgroup = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct ctl c = { .bpffs = XLB_DEFAULT_BPFFS };
	const struct cmd *e;
	const char *name;
	int i, rc, cmd_i;

	xlb_log_set_prefix("xlbctl");
	xlb_log_set_level(XLB_LOG_WARN);
	xlb_log_libbpf();
	rc = parse_opts(argc, argv, &c);
	if (rc >= 0)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd_i = optind;
	name = argv[optind++];
	c.sub = optind < argc ? argv[optind++] : "";
	c.arg = optind < argc ? argv[optind] : NULL;
	e = find_cmd(&c, name);
	/* detach's options may follow it. */
	for (i = cmd_i; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--iface") || !strcmp(argv[i], "-i"))
			c.ifaces = argv[i + 1];
		else if (!strcmp(argv[i], "--cgroup"))
			c.cgroup = argv[i + 1];
	for (i = cmd_i; i < argc; i++)
		if (!strncmp(argv[i], "--iface=", 8))
			c.ifaces = argv[i] + 8;
		else if (!strncmp(argv[i], "--cgroup=", 9))
			c.cgroup = argv[i] + 9;
	if (e && !e->reads_maps)
		return e->run(&c) ? 1 : 0;
	/* Trailing -o json after the command is accepted too. */
	for (i = optind; i < argc; i++)
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			json_out = !strcmp(argv[i + 1], "json");
	if (snap_open(&c.s, c.bpffs))
		return 1;
	if (e) {
		rc = e->run(&c);
	} else {
		fprintf(stderr, "xlbctl: unknown command \"%s %s\"\n", name,
			c.sub);
		usage(stderr);
		rc = -EINVAL;
	}
	snap_close(&c.s);
	return rc ? 1 : 0;
}
