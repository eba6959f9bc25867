// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "log.h"

static enum xlb_log_level cur_level = XLB_LOG_INFO;
static const char *log_prefix = "xlb";
static int libbpf_muted;

static const char *const level_names[] = { "note", "error", "warn", "info",
					    "debug" };

void xlb_log_set_level(enum xlb_log_level level)
{
	cur_level = level;
}

enum xlb_log_level xlb_log_get_level(void)
{
	return cur_level;
}

void xlb_log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

static void xlb_vlog(enum xlb_log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	if (level > cur_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	/* One line at a time, whichever thread logs. */
	flockfile(stderr);
	fprintf(stderr, "%s.%03ld %s %s: ", stamp, ts.tv_nsec / 1000000,
		log_prefix, level_names[level + 1]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void xlb_log(enum xlb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xlb_vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum xlb_log_level l;
	char line[1024];
	size_t n;

	if (libbpf_muted)
		return 0;
	switch (level) {
	case LIBBPF_WARN:
		l = XLB_LOG_INFO;
		break;
	case LIBBPF_INFO:
		l = XLB_LOG_DEBUG;
		break;
	default:
		return 0; /* libbpf debug is too chatty even for -vv */
	}
	if (l > cur_level)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	xlb_log(l, "libbpf: %s", line);
	return 0;
}

void xlb_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

void xlb_log_libbpf_mute(int mute)
{
	libbpf_muted = mute;
}
