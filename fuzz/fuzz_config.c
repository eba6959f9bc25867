// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: JSON config documents, merged as a config directory.
 *
 * The input is up to MAX_DOCS documents separated by lines of "---"
 * (which cannot occur inside a JSON document); each is one file of a
 * directory. Every document goes through xlb_config_parse; those it
 * accepts are merged with xlb_config_merge, as the file source does.
 * A merged model must write out (xlb_config_write), parse back, and
 * write out to the same text again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_write.h"
#include "log.h"

#define MAX_DOCS 8

static const char sep[] = "\n---\n";

/* Round trip of a model the parser accepted: a finding aborts. */
static void check_roundtrip(const struct xlb_model *m)
{
	struct xlb_model back;
	char err[512] = "", *t1 = NULL, *t2 = NULL;

	if (xlb_config_write(m, &t1, err, sizeof(err))) {
		fprintf(stderr, "accepted model does not write: %s\n", err);
		abort();
	}
	if (xlb_config_parse(t1, &back, err, sizeof(err))) {
		fprintf(stderr, "written model does not parse: %s\n%s", err, t1);
		abort();
	}
	if (xlb_config_write(&back, &t2, err, sizeof(err)) || strcmp(t1, t2)) {
		fprintf(stderr, "model written twice differs:\n%s---\n%s", t1,
			t2 ? t2 : err);
		abort();
	}
	xlb_model_free(&back);
	free(t1);
	free(t2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xlb_log_set_level(XLB_LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_model parts[MAX_DOCS] = { 0 }, all;
	char *text = malloc(size + 1), *doc, *next;
	char err[512];
	size_t n = 0, i, k;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* A NUL ends the text as it ends a file read by xlb_config_load. */
	for (doc = text; doc && n < MAX_DOCS; doc = next, n++) {
		next = strstr(doc, sep);
		if (next) {
			*next = '\0';
			next += sizeof(sep) - 1;
		}
		if (xlb_config_parse(doc, &parts[n], err, sizeof(err)))
			continue;
		for (k = 0; k < parts[n].n_services; k++)
			parts[n].services[k].source = n + 1;
		if (n == 0 && !next)
			check_roundtrip(&parts[0]);
	}
	if (!xlb_config_merge(parts, n, &all, err, sizeof(err))) {
		check_roundtrip(&all);
		xlb_model_free(&all);
	}
	for (i = 0; i < n; i++)
		xlb_model_free(&parts[i]);
	free(text);
	return 0;
}
