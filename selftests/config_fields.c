// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Prints every field of a config that xlb_config_parse() looks up, one
 * per line, named as the README's config reference names them:
 * "services", "name", "backends[].ip", "groups[].percent". Linked with
 * --wrap=cJSON_GetObjectItemCaseSensitive, so what it prints is what
 * the parser reads, not a list kept beside it; test_man.sh compares it
 * with the fields the README (and so xlb.json(5)) documents.
 *
 *   config_fields FILE    FILE: a config that uses every field
 *
 * An object is known by a field it must have: the document by
 * "services", a service by "vip", a backend by "ip", a group by
 * "percent".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"

cJSON *__real_cJSON_GetObjectItemCaseSensitive(const cJSON *o, const char *k);

static char seen[64][48];
static size_t n_seen;

static void record(const char *prefix, const char *key)
{
	char name[48];
	size_t i;

	snprintf(name, sizeof(name), "%s%s", prefix, key);
	for (i = 0; i < n_seen; i++)
		if (!strcmp(seen[i], name))
			return;
	if (n_seen < sizeof(seen) / sizeof(seen[0]))
		strcpy(seen[n_seen++], name);
}

cJSON *__wrap_cJSON_GetObjectItemCaseSensitive(const cJSON *o, const char *k)
{
	if (__real_cJSON_GetObjectItemCaseSensitive(o, "services") ||
	    __real_cJSON_GetObjectItemCaseSensitive(o, "vip"))
		record("", k);
	else if (__real_cJSON_GetObjectItemCaseSensitive(o, "ip"))
		record("backends[].", k);
	else if (__real_cJSON_GetObjectItemCaseSensitive(o, "percent"))
		record("groups[].", k);
	else
		record("?.", k);
	return __real_cJSON_GetObjectItemCaseSensitive(o, k);
}

int main(int argc, char **argv)
{
	struct xlb_model m;
	char err[512];
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: config_fields FILE\n");
		return 2;
	}
	if (xlb_config_load(argv[1], &m, err, sizeof(err))) {
		fprintf(stderr, "config_fields: %s\n", err);
		return 1;
	}
	xlb_model_free(&m);
	for (i = 0; i < n_seen; i++)
		puts(seen[i]);
	return 0;
}
