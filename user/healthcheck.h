/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * healthCheckNodePort servers. A Service with externalTrafficPolicy
 * Local gets a port on which every node answers whether it has local
 * endpoints, so that a cloud load balancer sends traffic only to nodes
 * that have some: 200 with {"service": {"namespace", "name"},
 * "localEndpoints": N} when N > 0, 503 with the same body when N is 0,
 * on any path, on every address of the node (as kube-proxy does).
 *
 * One libmicrohttpd daemon (and thread) per port. Called from the main
 * thread only; a request reads its entry under a lock held for a copy.
 */
#ifndef XLB_HEALTHCHECK_H
#define XLB_HEALTHCHECK_H

#include <stddef.h>
#include <stdint.h>

/* Longest service name: "namespace/name". */
#define XLB_HC_NAME_LEN	256

/* Serves port for the service name ("namespace/name"; a name without a
 * slash has an empty namespace), or updates what it answers. 0, or
 * -EINVAL (port 0, name too long or empty) or -errno of the listen, with
 * a message naming port and service. */
int xlb_hc_set(uint16_t port, const char *name, uint32_t local_count);
/* Stops serving port (the listening socket is closed on return);
 * -ENOENT if it was not served. */
int xlb_hc_remove(uint16_t port);
/* How many ports are served. */
size_t xlb_hc_count(void);
/* Stops every server. */
void xlb_hc_fini(void);

#endif /* XLB_HEALTHCHECK_H */
