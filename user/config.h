/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The JSON config source: a file in, a validated model out. */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <stddef.h>

#include "model.h"

/* Parses and validates a config document. On error returns -EINVAL and
 * writes a message naming the service, field and value into err; the
 * model is then empty. */
int xlb_config_parse(const char *text, struct xlb_model *m, char *err,
		     size_t errlen);
/* Sorts a model merged from several documents and rejects duplicate
 * names and frontends across them. */
int xlb_model_check(struct xlb_model *m, char *err, size_t errlen);
/* Merges the models of several documents (the files of a config
 * directory) into all, moving their services (each part is left empty)
 * and checking the result as xlb_model_check does. On error all is
 * empty. */
int xlb_config_merge(struct xlb_model *parts, size_t n_parts,
		     struct xlb_model *all, char *err, size_t errlen);
/* Same as xlb_config_parse, reading the file at path. */
int xlb_config_load(const char *path, struct xlb_model *m, char *err,
		    size_t errlen);

#endif /* XLB_CONFIG_H */
