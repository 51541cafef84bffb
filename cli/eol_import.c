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

#define EOL_MAX_FILE (8u << 20)

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

/* Parses FILE into imp->cycles.  Returns 0 or -1 after printing why. */
static int
eol_parse(const char *path, Opspulse__V1__EolImport *imp)
{
	char *buf;
	size_t len;
	int rv;

	if (eol_read(path, &buf, &len) != 0)
		return -1;
	rv = cli_eol_parse(path, buf, len, imp);
	free(buf);
	return rv;
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
	cli_eol_free(&imp);
	return rv;
}
