/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The config-file source, beside the Kubernetes source (k8s.h): a JSON
 * config file, or a directory of *.json files, watched with inotify and
 * applied to the sync. A change of one file of a directory is applied
 * to that file's services only (xlb_sync_apply_partial); a config file
 * is applied whole.
 *
 * The functions that apply return 1 when they made the first full sync
 * (xlbd is then ready), 0 after any other change, <0 when the config
 * was rejected and nothing changed. *t0 is set to when the parse began:
 * "programmed in" counts from there.
 */
#ifndef XLB_SOURCE_FILE_H
#define XLB_SOURCE_FILE_H

#include <stdint.h>

#include "sync.h"

struct xlb_file;

/* Watches path (a file or a directory), then starts reading it on a
 * thread of its own while the datapath loads. sync is where changes go;
 * it need not be initialized before xlb_file_first_sync(). */
int xlb_file_start(struct xlb_file **out, const char *path,
		   struct xlb_sync *sync);
/* Becomes readable when the config changed; -1 if it is not watched. */
int xlb_file_fd(const struct xlb_file *f);
/* Applies what the thread read (or reads it now, if it never ran). */
int xlb_file_first_sync(struct xlb_file *f, uint64_t *t0);
/* Reads and applies the whole config again (SIGHUP, node addresses).
 * since: when the change arrived (0: when the parse began), for the
 * sync latency /metrics shows. */
int xlb_file_resync(struct xlb_file *f, const char *why, uint64_t since,
		    uint64_t *t0);
/* Applies what the events on xlb_file_fd() say changed. */
int xlb_file_process(struct xlb_file *f, uint64_t since, uint64_t *t0);
void xlb_file_stop(struct xlb_file *f);

#endif /* XLB_SOURCE_FILE_H */
