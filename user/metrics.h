/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's HTTP endpoints: /metrics (Prometheus text format),
 * /healthz and /readyz, served by libmicrohttpd from its own thread.
 *
 * The HTTP thread never touches the sync structures. It reads the BPF
 * maps through its own duplicates of their fds (map lookups are safe
 * from any thread) and copies a small snapshot that the main thread
 * publishes: counts, readiness, counters and the sync latency histogram.
 * The snapshot lives under one mutex that either side holds only for a
 * few dozen instructions, never across a syscall or an allocation, so a
 * scrape cannot hold up a map update.
 *
 * The publishing calls work whether or not the server runs.
 */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "maps.h"

#define XLB_METRICS_DEF_ADDRESS		"127.0.0.1:9477"
#define XLB_METRICS_DEF_MAX_SERVICES	10000
#define XLB_METRICS_DEF_MAX_BACKENDS	100000

/* Control-plane events, one counter each (xlb_<name>_total). */
enum xlb_metrics_counter {
	XLB_METRICS_CONFIG_RELOADS,	/* config applied (any trigger) */
	XLB_METRICS_CONFIG_REJECTED,	/* config rejected, nothing changed */
	XLB_METRICS_WATCH_RESTARTS,	/* API watch re-established */
	XLB_METRICS_RELISTS,		/* full relist (start, 410 Gone) */
	XLB_METRICS_WATCH_ERRORS,	/* API errors: HTTP, stream, decode */
	XLB_METRICS_FRONTEND_CONFLICTS,	/* frontends left to another owner */
	XLB_METRICS_COUNTER_MAX,
};

struct xlb_metrics_opts {
	const char *address;	/* "ADDR:PORT", "[V6]:PORT"; "none" or
				 * port 0: no server */
	size_t max_services;	/* per-service series at most */
	size_t max_backends;	/* per-backend series at most */
	const struct xlb_maps *maps;	/* fds are duplicated */
};

/* Parses "ADDR:PORT" / "[ADDR]:PORT" / "none" into a socket address;
 * *disabled is set for "none" and port 0. 0 or -EINVAL. */
struct sockaddr_storage;
int xlb_metrics_parse_address(const char *s, struct sockaddr_storage *ss,
			      bool *disabled);

/* Starts the server; 0 (also when disabled) or -errno, with a message. */
int xlb_metrics_start(const struct xlb_metrics_opts *o);
void xlb_metrics_stop(void);

/* Main thread: what is programmed, after each successful sync. */
void xlb_metrics_set_programmed(size_t services, size_t backends);
/* Main thread: the first full sync is done; /readyz answers 200. */
void xlb_metrics_set_ready(void);
/* Time from a change's arrival (file event, signal, API event) to its
 * maps being updated. */
void xlb_metrics_observe_sync(double seconds);
void xlb_metrics_count(enum xlb_metrics_counter c);
/* Main thread: the interfaces xlbd has attached, by program
 * (xlb_interfaces_attached), and one attach tried
 * (xlb_interface_attach_total{result="ok|error"}). */
void xlb_metrics_set_interfaces(size_t xdp_native, size_t xdp_generic,
				size_t tc);
void xlb_metrics_count_attach(bool ok);

/* Appends v to buf escaped as a Prometheus label value (\\, \", \n);
 * returns the bytes written, at most 2 * strlen(v), not counting a NUL
 * that is written too. buf holds 2 * strlen(v) + 1 bytes. */
size_t xlb_metrics_escape(char *buf, const char *v);

#endif /* XLB_METRICS_H */
