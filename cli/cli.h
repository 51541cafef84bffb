/*
 * opspulse: the command-line client people read indicators with.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "op_codec.h"
#include "op_config.h"

/* Exit codes (SPEC §5). */
enum cli_exit {
	CLI_OK = 0,
	CLI_USAGE = 1,       /* bad usage or input */
	CLI_UNREACHABLE = 2, /* cannot reach the aggregator */
	CLI_SERVER = 3,      /* the aggregator answered with an error */
};

struct cli_conf {
	char *server;
	char *tls_ca, *tls_cert, *tls_key;
	int tls_insecure;
	long long timeout_ms;
};

/* Loads file, or ~/.config/opspulse/cli.conf when NULL (may be missing).
 * Returns OP_OK or OP_ECONFIG; free with cli_conf_free. */
int cli_conf_load(struct cli_conf *c, const char *file);
void cli_conf_free(struct cli_conf *c);

enum cli_format { CLI_TABLE, CLI_JSON, CLI_CSV, CLI_MARKDOWN };

/* Parses "table", "json", "csv" or "markdown"; returns 0 or -1. */
int cli_format_parse(const char *s, enum cli_format *f);

/* Writes a query result in format f to fp.  title is shown above tables. */
void cli_render(FILE *fp, enum cli_format f, const char *title,
                const Opspulse__V1__QueryResult *r);

#endif
