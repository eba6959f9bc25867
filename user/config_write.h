/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The JSON config source run backwards: a model out as the document
 * config.c parses (README "Config reference"), such that parsing it gives
 * the same model back. Fields whose value is what the parser assumes when
 * the field is missing are left out, and services (by name) and backends
 * (by family, address, port) come in a fixed order, so that two equal
 * models print the same text: test goldens compare with it.
 *
 * The model's `source` tag (which file or input defined a service) is not
 * part of the format and is not written.
 */
#ifndef XLB_CONFIG_WRITE_H
#define XLB_CONFIG_WRITE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "model.h"

/* Builds the document as a cJSON tree in *out (free with cJSON_Delete),
 * for callers that embed it in a larger document. On a model the format
 * cannot express (a family, protocol, state or group that does not
 * exist) returns -EINVAL with a message naming service, field and value;
 * -ENOMEM when out of memory. */
int xlb_config_json(const struct xlb_model *m, cJSON **out, char *err,
		    size_t errlen);
/* Same, printed: *text is the indented document with a final newline
 * (free with free()). */
int xlb_config_write(const struct xlb_model *m, char **text, char *err,
		     size_t errlen);

#endif /* XLB_CONFIG_WRITE_H */
