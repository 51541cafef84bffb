/*
 * opspulse: the command-line client people read indicators with.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "op_codec.h"
#include "op_config.h"
#include "op_error.h"

/* Exit codes (SPEC §5). */
enum cli_exit {
	CLI_OK = 0,
	CLI_USAGE = 1,       /* bad usage or input */
	CLI_UNREACHABLE = 2, /* cannot reach the aggregator */
	CLI_SERVER = 3,      /* the aggregator answered with an error */
};

struct cli_conf {
	char *server;
	struct op_tls_conf tls;
	long long timeout_ms;
};

/* Loads file, or ~/.config/opspulse/cli.conf when NULL (may be missing).
 * Returns OP_OK or OP_ECONFIG; free with cli_conf_free. */
OP_MUSTCHECK int cli_conf_load(struct cli_conf *c, const char *file);
void cli_conf_free(struct cli_conf *c);

/* The default configuration file when the last cli_conf_load looked for
 * it and found none; else NULL.  Points to static storage. */
const char *cli_conf_missing(void);

enum cli_format { CLI_TABLE, CLI_JSON, CLI_CSV, CLI_MARKDOWN };

/* Parses "table", "json", "csv" or "markdown"; returns 0 or -1. */
OP_MUSTCHECK int cli_format_parse(const char *s, enum cli_format *f);

/* Writes a query result in format f to fp.  title is shown above tables. */
void cli_render(FILE *fp, enum cli_format f, const char *title,
                const Opspulse__V1__QueryResult *r);

/* Parses --format's argument into *f; prints why and returns CLI_USAGE
 * when it is not a format. */
OP_MUSTCHECK int cli_format_option(const char *arg, enum cli_format *f);

/*
 * Sends env (its protocol version is set here) to the aggregator at server
 * and decodes the answer into *out (free with
 * opspulse__v1__reply__free_unpacked).  Returns CLI_OK, CLI_USAGE (an
 * unusable address or TLS setting) or CLI_UNREACHABLE, after printing a
 * line that names the address.
 */
OP_MUSTCHECK int cli_call(const struct cli_conf *c, const char *server,
                          op_envelope *env, op_reply **out);

/* Prints r's result in format f (title above tables) and returns CLI_OK,
 * or prints its error and returns CLI_USAGE (the aggregator found the
 * request invalid) or CLI_SERVER. */
OP_MUSTCHECK int cli_answer(const op_reply *r, enum cli_format f,
                            const char *title);

/* opspulse eol import PRODUCT FILE [--server A] [--format F]: argv[0] is
 * "import".  Returns an exit code (SPEC §5). */
int cli_eol_import(const struct cli_conf *c, int argc, char **argv);

/*
 * Parses an endoflife.date API v0 JSON array (buf, len; path names it in
 * messages) into imp->cycles.  Returns 0, or -1 after printing why on
 * stderr.  Either way imp->cycles is freed with cli_eol_free.
 */
OP_MUSTCHECK int cli_eol_parse(const char *path, const char *buf, size_t len,
                               Opspulse__V1__EolImport *imp);
void cli_eol_free(Opspulse__V1__EolImport *imp);

#endif
