// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * healthCheckNodePort servers over libmicrohttpd, one daemon per port.
 * The entries are owned by the main thread; a daemon's thread only reads
 * its own entry's name and count under hc_lock. An entry is unlinked
 * under the lock, its daemon stopped outside it (the daemon's thread may
 * be waiting for the lock), and only then freed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "healthcheck.h"
#include "log.h"

struct hc_entry {
	struct hc_entry *next;
	struct MHD_Daemon *daemon;
	uint16_t port;
	char name[XLB_HC_NAME_LEN];	/* under hc_lock */
	uint32_t count;			/* under hc_lock */
};

static pthread_mutex_t hc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hc_entry *entries;	/* list changes: main thread only */

static char *body_json(const char *full, uint32_t count)
{
	const char *slash = strchr(full, '/');
	char ns[XLB_HC_NAME_LEN] = "";
	cJSON *o, *svc;
	char *s = NULL;

	if (slash)
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - full), full);
	o = cJSON_CreateObject();
	svc = cJSON_AddObjectToObject(o, "service");
	if (svc && cJSON_AddStringToObject(svc, "namespace", ns) &&
	    cJSON_AddStringToObject(svc, "name", slash ? slash + 1 : full) &&
	    cJSON_AddNumberToObject(o, "localEndpoints", count))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct hc_entry *e = cls;
	char name[XLB_HC_NAME_LEN], *body;
	struct MHD_Response *r;
	enum MHD_Result ret;
	uint32_t count;

	pthread_mutex_lock(&hc_lock);
	memcpy(name, e->name, sizeof(name));
	count = e->count;
	pthread_mutex_unlock(&hc_lock);

	body = body_json(name, count);
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body,
					    MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, count ? MHD_HTTP_OK :
				 MHD_HTTP_SERVICE_UNAVAILABLE, r);
	MHD_destroy_response(r);
	return ret;
}

static char hc_last_error[256];

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(hc_last_error, sizeof(hc_last_error), fmt, ap);
	n = strlen(hc_last_error);
	while (n && (hc_last_error[n - 1] == '\n' || hc_last_error[n - 1] == '.'))
		hc_last_error[--n] = '\0';
	pr_debug("healthcheck: libmicrohttpd: %s", hc_last_error);
}

static struct MHD_Daemon *start(struct hc_entry *e, bool v6)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			     MHD_USE_ERROR_LOG;

	/* Every address: [::] accepting IPv4 too, or 0.0.0.0 without IPv6. */
	if (v6)
		flags |= MHD_USE_DUAL_STACK;
	return MHD_start_daemon(flags, e->port, NULL, NULL, handler, e,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
				MHD_OPTION_CONNECTION_LIMIT, 64,
				MHD_OPTION_CONNECTION_TIMEOUT, 10,
				MHD_OPTION_END);
}

int xlb_hc_set(uint16_t port, const char *name, uint32_t local_count)
{
	struct hc_entry *e;
	int fd;

	if (!port) {
		pr_err("healthcheck: service %s: port 0: not a port", name);
		return -EINVAL;
	}
	if (!name[0] || strlen(name) >= XLB_HC_NAME_LEN) {
		pr_err("healthcheck: port %u: service name \"%.40s\": empty or longer than %d characters",
		       port, name, XLB_HC_NAME_LEN - 1);
		return -EINVAL;
	}
	for (e = entries; e; e = e->next) {
		if (e->port != port)
			continue;
		/* Only this thread writes e->name: reading it unlocked is
		 * safe, and the lock is not held while logging. */
		if (strcmp(e->name, name))
			pr_warn("healthcheck: port %u: was service %s, now %s",
				port, e->name, name);
		pthread_mutex_lock(&hc_lock);
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->count = local_count;
		pthread_mutex_unlock(&hc_lock);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->port = port;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->count = local_count;
	hc_last_error[0] = '\0';
	/* No IPv6 on this host: fall back to IPv4 only. */
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		close(fd);
	e->daemon = start(e, fd >= 0);
	if (!e->daemon && fd >= 0)
		e->daemon = start(e, false);
	if (!e->daemon) {
		pr_err("healthcheck: service %s: cannot listen on port %u: %s",
		       name, port,
		       hc_last_error[0] ? hc_last_error : "libmicrohttpd failed");
		free(e);
		return -EADDRINUSE;
	}
	e->next = entries;
	entries = e;
	pr_info("healthcheck: service %s: serving port %u (%u local endpoints)",
		name, port, local_count);
	return 0;
}

int xlb_hc_remove(uint16_t port)
{
	struct hc_entry **pp, *e;

	for (pp = &entries; *pp && (*pp)->port != port; pp = &(*pp)->next)
		;
	e = *pp;
	if (!e)
		return -ENOENT;
	*pp = e->next;
	MHD_stop_daemon(e->daemon);
	pr_info("healthcheck: service %s: port %u closed", e->name, port);
	free(e);
	return 0;
}

size_t xlb_hc_count(void)
{
	struct hc_entry *e;
	size_t n = 0;

	for (e = entries; e; e = e->next)
		n++;
	return n;
}

void xlb_hc_fini(void)
{
	while (entries)
		xlb_hc_remove(entries->port);
}
