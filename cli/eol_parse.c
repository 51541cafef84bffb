/*
 * Parsing of endoflife.date API v0 arrays for `opspulse eol import`: the
 * only part of that command that reads outside input, kept apart so that
 * a fuzz target can drive it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "op_error.h"
#include "op_time.h"

#define EOL_MAX_CYCLES 2000

typedef Opspulse__V1__EolCycle eol_cycle;

static int
eol_is_date(const char *s)
{
	int64_t t;

	return strlen(s) == 10 && op_time_parse_rfc3339(s, 1, &t) == OP_OK;
}

/* Field key of o as text: a string as it is (a date when dates is set),
 * an integer in decimal (ints), true/false (bools), absent or null as "".
 * Returns a string the caller frees, or NULL for a value of another
 * type, with *what saying what was expected. */
static char *
eol_field(json_t *o, const char *key, int dates, int ints, int bools,
          const char **what)
{
	json_t *v = json_object_get(o, key);
	char num[32];

	if (v == NULL || json_is_null(v))
		return strdup("");
	if (json_is_string(v) && (!dates || eol_is_date(json_string_value(v)) ||
	                          (!bools && !*json_string_value(v))))
		return strdup(json_string_value(v));
	if (ints && json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld",
		         (long long)json_integer_value(v));
		return strdup(num);
	}
	if (bools && json_is_boolean(v))
		return strdup(json_is_true(v) ? "true" : "false");
	*what = dates && bools ? "a date (YYYY-MM-DD) or a boolean"
	        : dates        ? "a date (YYYY-MM-DD)"
	        : ints         ? "a string or an integer"
	                       : "a string";
	return NULL;
}

/* Converts element o into c.  Returns 0, or -1 after printing why. */
static int
eol_cycle_from(json_t *o, size_t i, const char *path, eol_cycle *c)
{
	static const struct {
		const char *key;
		int dates, ints, bools;
		size_t offset;
	} fields[] = {
	    {"cycle", 0, 1, 0, offsetof(eol_cycle, cycle)},
	    {"eol", 1, 0, 1, offsetof(eol_cycle, eol)},
	    {"latest", 0, 1, 0, offsetof(eol_cycle, latest)},
	    {"releaseDate", 1, 0, 0, offsetof(eol_cycle, release_date)},
	    {"support", 1, 0, 1, offsetof(eol_cycle, support)},
	    {"lts", 1, 0, 1, offsetof(eol_cycle, lts)},
	    {"extendedSupport", 1, 0, 1, offsetof(eol_cycle, extended_support)},
	};
	const char *what = "an object";

	/* Every field owned here, so that a half-converted cycle frees. */
	opspulse__v1__eol_cycle__init(c);
	c->cycle = c->eol = c->latest = NULL;
	c->release_date = c->support = c->lts = c->extended_support = NULL;
	for (size_t f = 0;
	     json_is_object(o) && f < sizeof(fields) / sizeof(fields[0]); f++) {
		char **dst = (char **)((char *)c + fields[f].offset);
		*dst = eol_field(o, fields[f].key, fields[f].dates,
		                 fields[f].ints, fields[f].bools, &what);
		if (*dst == NULL) {
			fprintf(stderr,
			        "opspulse: %s: element %zu: %s must be %s\n",
			        path, i + 1, fields[f].key, what);
			return -1;
		}
	}
	if (!json_is_object(o) || !*c->cycle) {
		fprintf(stderr,
		        "opspulse: %s: element %zu must be %s with a cycle\n",
		        path, i + 1, json_is_object(o) ? "an object" : what);
		return -1;
	}
	return 0;
}

void
cli_eol_free(Opspulse__V1__EolImport *imp)
{
	eol_cycle **cycles = imp->cycles;
	size_t n = imp->n_cycles;

	for (size_t i = 0; i < n; i++) {
		free(cycles[i]->cycle);
		free(cycles[i]->eol);
		free(cycles[i]->latest);
		free(cycles[i]->release_date);
		free(cycles[i]->support);
		free(cycles[i]->lts);
		free(cycles[i]->extended_support);
		free(cycles[i]);
	}
	free(cycles);
	imp->cycles = NULL;
	imp->n_cycles = 0;
}

int
cli_eol_parse(const char *path, const char *buf, size_t len,
              Opspulse__V1__EolImport *imp)
{
	json_error_t jerr;
	json_t *root = NULL;
	size_t n;

	root = json_loadb(buf, len, 0, &jerr);
	if (root == NULL || !json_is_array(root) ||
	    (n = json_array_size(root)) == 0 || n > EOL_MAX_CYCLES) {
		if (root == NULL)
			fprintf(stderr, "opspulse: %s: line %d: %s\n", path,
			        jerr.line, jerr.text);
		fprintf(stderr,
		        "opspulse: %s must be a JSON array of 1 to %d cycles, "
		        "as https://endoflife.date/api/PRODUCT.json gives\n",
		        path, EOL_MAX_CYCLES);
		json_decref(root);
		return -1;
	}
	imp->cycles = calloc(n, sizeof(*imp->cycles));
	for (size_t i = 0; imp->cycles && i < n; i++, imp->n_cycles++) {
		if ((imp->cycles[i] = malloc(sizeof(eol_cycle))) == NULL ||
		    eol_cycle_from(json_array_get(root, i), i, path,
		                   imp->cycles[i]) != 0) {
			imp->n_cycles += imp->cycles[i] != NULL;
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	return imp->cycles ? 0 : -1;
}
