#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "op_error.h"

#define F(field) offsetof(struct cli_conf, field)

static const struct op_cfg_option cli_options[] = {
    {"cli.server", OP_CFG_STRING, "tls+tcp://127.0.0.1:7410", F(server),
     "aggregator address"},
    OP_CFG_TLS("cli.tls", struct cli_conf, tls, NULL, NULL),
    {"cli.timeout_ms", OP_CFG_INT, "30000", F(timeout_ms),
     "how long to wait for an answer"},
};

#define NOPTS (sizeof(cli_options) / sizeof(cli_options[0]))

/* The default file, when it was looked for and not found. */
static char cli_missing[4096];

const char *
cli_conf_missing(void)
{
	return *cli_missing ? cli_missing : NULL;
}

int
cli_conf_load(struct cli_conf *c, const char *file)
{
	struct op_cfg_result res;
	char path[4096];
	const char *home = getenv("HOME");

	memset(c, 0, sizeof(*c));
	cli_missing[0] = '\0';
	if (file == NULL && home != NULL)
		snprintf(path, sizeof(path), "%s/.config/opspulse/cli.conf",
		         home);
	if (file == NULL && home != NULL && access(path, F_OK) != 0)
		snprintf(cli_missing, sizeof(cli_missing), "%s", path);
	return op_cfg_load(cli_options, NOPTS,
	                   file ? file : (home ? path : NULL), file == NULL, c,
	                   &res);
}

void
cli_conf_free(struct cli_conf *c)
{
	op_cfg_free(cli_options, NOPTS, c);
}
