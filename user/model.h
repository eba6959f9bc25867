/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The desired state: what the JSON config (and later the Kubernetes
 * watcher) says should be programmed. Sources only build this model;
 * sync/ diffs it against what is programmed.
 */
#ifndef XLB_MODEL_H
#define XLB_MODEL_H

#include <stddef.h>
#include <linux/types.h>

#include <xlb/abi.h>

struct xlb_model_backend {
	union xlb_addr addr;	/* backend address */
	__be16 port;		/* network order */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 state;		/* XLB_BE_ACTIVE (ready) or XLB_BE_TERMINATING */
	__u16 weight;		/* Maglev weight; 0 takes no new flows */
	__u8 serving;		/* terminating but serving: a fallback when no
				 * backend is ready */
	__u8 local;		/* runs on this node */
	__u8 group;		/* index into the service's groups + 1; 0 none */
};

#define XLB_GROUP_NAME_LEN 32

struct xlb_model_group {
	char name[XLB_GROUP_NAME_LEN];
	__u32 percent;		/* share of new flows, 0-100 */
};

struct xlb_cidr {
	union xlb_addr addr;
	__u8 family;
	__u8 len;		/* prefix length */
};

/* Parses "10.0.0.0/8" or "fd00::/64" (blanks around it allowed): 0 or
 * -EINVAL. */
int xlb_cidr_parse(const char *s, struct xlb_cidr *c);
/* Whether addr (of family) is inside c. */
int xlb_cidr_contains(const struct xlb_cidr *c, const union xlb_addr *addr,
		      __u8 family);

/* Source NAT of a service's new flows (ports: xlbd --snat-ports). */
enum xlb_snat_mode {
	XLB_SNAT_NONE = 0,	/* never (the JSON config's default) */
	XLB_SNAT_REMOTE,	/* flows to its external IPs, load-balancer
				 * IPs and NodePorts, with the Cluster
				 * external policy, to a backend not on this
				 * node (the Kubernetes source's) */
	XLB_SNAT_ALL,		/* every flow of every frontend: a one-arm
				 * load balancer */
};

/* Direct server return of a service's flows to backends on other nodes
 * (README, "Direct server return"). */
enum xlb_dsr_mode {
	XLB_DSR_OFF = 0,	/* never (the default) */
	XLB_DSR_IPIP,		/* every frontend's (the JSON config's
				 * "dsr": "ipip"): IPIP / IPv6-in-IPv6 to
				 * the backend's address */
};

struct xlb_model_service {
	char name[XLB_SVC_NAME_LEN];
	struct xlb_vip_key vip;	/* frontend */
	__u32 table_size;	/* maglev_table_size; 0 = chosen by count */
	__u32 source;		/* which input defined it (a file of a
				 * config directory); 0 for a single file */
	union xlb_addr *external_ips;	/* same family as vip */
	size_t n_external_ips;
	union xlb_addr *lb_ips;		/* load-balancer ingress IPs */
	size_t n_lb_ips;
	__u16 node_port;		/* host order; 0 = none */
	__u32 affinity_timeout;		/* seconds; 0 = no affinity */
	__u8 external_local;		/* externalTrafficPolicy Local */
	__u8 internal_local;		/* internalTrafficPolicy Local */
	__u8 snat;			/* XLB_SNAT_* */
	__u8 dsr;			/* XLB_DSR_* */
	struct xlb_cidr *source_ranges;	/* loadBalancerSourceRanges */
	size_t n_source_ranges;
	struct xlb_model_group *groups;	/* traffic split; none = one pool */
	size_t n_groups;
	struct xlb_model_backend *backends;
	size_t n_backends;
};

struct xlb_model {
	struct xlb_model_service *services;
	size_t n_services;
};

void xlb_model_free(struct xlb_model *m);
/* Sorts services by name and backends by identity (family, address,
 * port): the order sources produce them in never matters. */
void xlb_model_sort(struct xlb_model *m);
int xlb_be_identity_cmp(const union xlb_addr *a1, __be16 p1, __u8 f1,
			const union xlb_addr *a2, __be16 p2, __u8 f2);
/* Replaces the name list *names (*n entries, freed here) with copies of
 * m's service names: which services a source's unit (a config file, a
 * Kubernetes Service) made, so that its next change can retire them.
 * On allocation failure the list is empty or shorter. */
void xlb_model_names(const struct xlb_model *m, char ***names, size_t *n);

#endif /* XLB_MODEL_H */
