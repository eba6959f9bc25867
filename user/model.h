/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The desired state: what the JSON config (and later the Kubernetes
 * watcher) says should be programmed. Sources only build this model;
 * sync.c diffs it against what is programmed.
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
	__u8 state;		/* XLB_BE_ACTIVE or XLB_BE_TERMINATING */
	__u16 weight;		/* Maglev weight; 0 takes no new flows */
};

struct xlb_model_service {
	char name[XLB_SVC_NAME_LEN];
	struct xlb_vip_key vip;	/* frontend */
	__u32 table_size;	/* maglev_table_size; 0 = chosen by count */
	__u32 source;		/* which input defined it (a file of a
				 * config directory); 0 for a single file */
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

#endif /* XLB_MODEL_H */
