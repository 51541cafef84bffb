/*
 * The EOL catalog's import (`opspulse eol import PRODUCT FILE`): every
 * field is checked, then one SQL call replaces the product's cycles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eol.h"
#include "op_error.h"
#include "op_time.h"
#include "query.h"

#define EOL_MAX_CYCLES  2000
#define EOL_MAX_PRODUCT 64
#define EOL_MAX_CYCLE   64
#define EOL_NFIELDS     7

typedef Opspulse__V1__EolCycle eol_cycle;

/* Printable ASCII without spaces, 1..max bytes. */
static int
eol_word(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] <= ' ' || s[n] > '~' || n >= max)
			return 0;
	}
	return n > 0;
}

static int
eol_product_ok(const char *s)
{
	if (!eol_word(s, EOL_MAX_PRODUCT))
		return 0;
	for (; *s; s++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", *s))
			return 0;
	}
	return 1;
}

static int
eol_date_ok(const char *s)
{
	int64_t t;

	return strlen(s) == 10 && op_time_parse_rfc3339(s, 1, &t) == OP_OK;
}

/* Empty (absent), "true", "false" or a date. */
static int
eol_date_or_bool_ok(const char *s)
{
	return !*s || !strcmp(s, "true") || !strcmp(s, "false") ||
	       eol_date_ok(s);
}

static int
eol_cycle_ok(const eol_cycle *c, size_t i, char *err, size_t errsz)
{
	const char *what = NULL;

	if (!eol_word(c->cycle, EOL_MAX_CYCLE))
		what = "cycle must be 1 to 64 printable characters";
	else if (*c->latest && !eol_word(c->latest, OP_MAX_NAME))
		what = "latest must be up to 128 printable characters";
	else if (!eol_date_or_bool_ok(c->eol))
		what = "eol must be a date (YYYY-MM-DD) or a boolean";
	else if (!eol_date_or_bool_ok(c->support))
		what = "support must be a date (YYYY-MM-DD) or a boolean";
	else if (!eol_date_or_bool_ok(c->lts))
		what = "lts must be a date (YYYY-MM-DD) or a boolean";
	else if (!eol_date_or_bool_ok(c->extended_support))
		what = "extendedSupport must be a date (YYYY-MM-DD) or a "
		       "boolean";
	else if (*c->release_date && !eol_date_ok(c->release_date))
		what = "releaseDate must be a date (YYYY-MM-DD)";
	if (what)
		snprintf(err, errsz, "cycle %zu: %s", i + 1, what);
	return what == NULL;
}

static int
eol_check(const Opspulse__V1__EolImport *imp, char *err, size_t errsz)
{
	if (!eol_product_ok(imp->product)) {
		snprintf(err, errsz,
		         "the product name must be 1 to %d characters of "
		         "a-z, 0-9, '.', '_' and '-' (endoflife.date's names)",
		         EOL_MAX_PRODUCT);
		return OP_EINVAL;
	}
	if (imp->n_cycles == 0 || imp->n_cycles > EOL_MAX_CYCLES) {
		snprintf(err, errsz, "an import needs 1 to %d cycles, not %zu",
		         EOL_MAX_CYCLES, imp->n_cycles);
		return OP_EINVAL;
	}
	for (size_t i = 0; i < imp->n_cycles; i++) {
		if (!eol_cycle_ok(imp->cycles[i], i, err, errsz))
			return OP_EINVAL;
	}
	return OP_OK;
}

static char *
eol_or_null(char *s)
{
	return *s ? s : NULL;
}

/* The cycles as seven array literals, column by column.  Frees nothing of
 * imp; the caller frees lits[]. */
static int
eol_literals(const Opspulse__V1__EolImport *imp, char *lits[EOL_NFIELDS])
{
	size_t n = imp->n_cycles;
	char **col = malloc(n * sizeof(*col));
	int rv = OP_OK;

	if (col == NULL)
		return OP_ENOMEM;
	for (int f = 0; f < EOL_NFIELDS && rv == OP_OK; f++) {
		for (size_t i = 0; i < n; i++) {
			const eol_cycle *c = imp->cycles[i];
			char *v[EOL_NFIELDS] = {
			    c->cycle,           c->eol,     c->latest,
			    c->release_date,    c->support, c->lts,
			    c->extended_support};
			col[i] = eol_or_null(v[f]);
		}
		if ((lits[f] = query_array_literal(col, n)) == NULL)
			rv = OP_ENOMEM;
	}
	free(col);
	return rv;
}

int
eol_import(struct store *s, const Opspulse__V1__EolImport *imp,
           Opspulse__V1__QueryResult **out, char *err, size_t errsz)
{
	static const char import_sql[] =
	    "SELECT opspulse.eol_import($1, $2::text[], $3::text[], "
	    "$4::text[], $5::text[], $6::text[], $7::text[], $8::text[])";
	static const char catalog_sql[] =
	    "SELECT * FROM opspulse.eol_catalog($1)";
	char *lits[EOL_NFIELDS] = {NULL};
	const char *params[1 + EOL_NFIELDS];
	int rv;

	if ((rv = eol_check(imp, err, errsz)) != OP_OK)
		return rv;
	params[0] = imp->product;
	if ((rv = eol_literals(imp, lits)) == OP_OK) {
		for (int f = 0; f < EOL_NFIELDS; f++)
			params[1 + f] = lits[f];
		rv = store_command(s, import_sql, params, 1 + EOL_NFIELDS, err,
		                   errsz);
	}
	for (int f = 0; f < EOL_NFIELDS; f++)
		free(lits[f]);
	if (rv == OP_OK)
		rv = store_query(s, catalog_sql, params, 1, out, err, errsz);
	return rv;
}
