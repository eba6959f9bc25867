/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Logging with levels; libbpf's own messages are routed here, one level
 * lower than libbpf gives them. */
#ifndef XLB_LOG_H
#define XLB_LOG_H

enum xlb_log_level {
	XLB_LOG_NOTE = -1,	/* always printed: milestones such as ready */
	XLB_LOG_ERR = 0,
	XLB_LOG_WARN,
	XLB_LOG_INFO,
	XLB_LOG_DEBUG,
};

void xlb_log_set_level(enum xlb_log_level level);
enum xlb_log_level xlb_log_get_level(void);
void xlb_log_set_prefix(const char *prefix);
void xlb_log(enum xlb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Routes libbpf's messages through xlb_log. */
void xlb_log_libbpf(void);
/* Silences libbpf while probing for things that may not exist. */
void xlb_log_libbpf_mute(int mute);

#define pr_err(...) xlb_log(XLB_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) xlb_log(XLB_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xlb_log(XLB_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xlb_log(XLB_LOG_DEBUG, __VA_ARGS__)

#endif /* XLB_LOG_H */
