/*
 * opspulse eol import PRODUCT FILE: reads an endoflife.date API v0 array
 * (https://endoflife.date/api/PRODUCT.json: cycle, eol, latest,
 * releaseDate, support, lts; dates or booleans) and sends it to the
 * aggregator, which replaces PRODUCT's cycles in its EOL catalog.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "op_error.h"
#include "op_time.h"

#define EOL_MAX_FILE   (8u << 20)
#define EOL_MAX_CYCLES 2000

typedef Opspulse__V1__EolCycle eol_cycle;

/* Reads all of path ("-": standard input), at most EOL_MAX_FILE bytes.
 * Returns 0 with *buf (caller frees) or -1 after printing why. */
static int
eol_read(const char *path, char **buf, size_t *len)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *b = fp ? malloc(EOL_MAX_FILE + 1) : NULL;
	size_t n = 0;

	if (fp == NULL || b == NULL) {
		fprintf(stderr, "opspulse: cannot read %s: %s\n", path,
		        fp ? "out of memory" : "no such file or not readable");
		if (fp && fp != stdin)
			fclose(fp);
		return -1;
	}
	n = fread(b, 1, EOL_MAX_FILE + 1, fp);
	if (fp != stdin)
		fclose(fp);
	if (n > EOL_MAX_FILE) {
		fprintf(stderr, "opspulse: %s is larger than %u bytes\n", path,
		        EOL_MAX_FILE);
		free(b);
		return -1;
	}
	*buf = b;
	*len = n;
	return 0;
}

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
	};
	const char *what = "an object";

	/* Every field owned here, so that a half-converted cycle frees. */
	opspulse__v1__eol_cycle__init(c);
	c->cycle = c->eol = c->latest = NULL;
	c->release_date = c->support = c->lts = NULL;
	for (size_t f = 0; json_is_object(o) && f < 6; f++) {
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

static void
eol_cycles_free(eol_cycle **cycles, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(cycles[i]->cycle);
		free(cycles[i]->eol);
		free(cycles[i]->latest);
		free(cycles[i]->release_date);
		free(cycles[i]->support);
		free(cycles[i]->lts);
		free(cycles[i]);
	}
	free(cycles);
}

/* Parses FILE into imp->cycles.  Returns 0 or -1 after printing why. */
static int
eol_parse(const char *path, Opspulse__V1__EolImport *imp)
{
	json_error_t jerr;
	json_t *root = NULL;
	char *buf;
	size_t len, n;

	if (eol_read(path, &buf, &len) != 0)
		return -1;
	root = json_loadb(buf, len, 0, &jerr);
	free(buf);
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

static int
eol_usage(void)
{
	fprintf(stderr, "usage: opspulse eol import PRODUCT FILE [--server "
	                "ADDR] [--format F]\n"
	                "  FILE: endoflife.date API v0 JSON "
	                "(https://endoflife.date/api/PRODUCT.json), - for "
	                "standard input\n");
	return CLI_USAGE;
}

/* Sends imp and prints the product's catalog as the aggregator stored
 * it. */
static int
eol_send(const struct cli_conf *c, const char *server,
         Opspulse__V1__EolImport *imp, enum cli_format f)
{
	op_envelope env;
	op_reply *r = NULL;
	char title[256];
	int rv;

	opspulse__v1__envelope__init(&env);
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_EOL_IMPORT;
	env.eol_import = imp;
	if ((rv = cli_call(c, server, &env, &r)) != CLI_OK)
		return rv;
	snprintf(title, sizeof(title),
	         "EOL catalog of %s (%zu cycles imported)", imp->product,
	         imp->n_cycles);
	rv = cli_answer(r, f, title);
	opspulse__v1__reply__free_unpacked(r, NULL);
	return rv;
}

int
cli_eol_import(const struct cli_conf *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 'A'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0}};
	Opspulse__V1__EolImport imp;
	enum cli_format f = isatty(STDOUT_FILENO) ? CLI_TABLE : CLI_JSON;
	const char *server = c->server;
	int opt, rv;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'A')
			server = optarg;
		else if (opt != 'f' || cli_format_option(optarg, &f) != 0)
			return eol_usage();
	}
	if (argc - optind != 2)
		return eol_usage();
	opspulse__v1__eol_import__init(&imp);
	imp.product = argv[optind];
	rv = eol_parse(argv[optind + 1], &imp) == 0
	         ? eol_send(c, server, &imp, f)
	         : CLI_USAGE;
	eol_cycles_free(imp.cycles, imp.n_cycles);
	return rv;
}
