// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

int xlb_addr_parse(const char *s, union xlb_addr *addr, __u8 *family)
{
	memset(addr, 0, sizeof(*addr));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &addr->v4) == 1) {
		*family = XLB_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr->bytes) == 1) {
		*family = XLB_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *xlb_addr_str(const union xlb_addr *addr, __u8 family, char *buf)
{
	if (!inet_ntop(family == XLB_AF_INET ? AF_INET : AF_INET6,
		       family == XLB_AF_INET ? (const void *)&addr->v4 :
					       (const void *)addr->bytes,
		       buf, XLB_ADDR_STRLEN))
		strcpy(buf, "?");
	return buf;
}

int xlb_proto_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	if (!strcasecmp(s, "tcp"))
		return IPPROTO_TCP;
	if (!strcasecmp(s, "udp"))
		return IPPROTO_UDP;
	return -EINVAL;
}

const char *xlb_proto_str(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return "?";
	}
}

const char *xlb_be_state_str(__u8 state)
{
	switch (state) {
	case XLB_BE_ACTIVE:
		return "active";
	case XLB_BE_TERMINATING:
		return "terminating";
	default:
		return "unused";
	}
}

int xlb_be_state_parse(const char *s)
{
	if (!strcmp(s, "active"))
		return XLB_BE_ACTIVE;
	if (!strcmp(s, "terminating"))
		return XLB_BE_TERMINATING;
	return -EINVAL;
}

uint64_t xlb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t xlb_now_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int xlb_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int xlb_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void xlb_usage_row(FILE *out, const char *left, const char *help)
{
	const char *nl;

	fprintf(out, "%-23s  ", left);
	while ((nl = strchr(help, '\n'))) {
		fprintf(out, "%.*s\n%25s", (int)(nl - help), help, "");
		help = nl + 1;
	}
	fprintf(out, "%s\n", help);
}

void xlb_qsort(void *base, size_t n, size_t size,
	       int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

void *xlb_bsearch(const void *key, const void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}
