/*
 * opspulse-aggregator: see `opspulse-aggregator --help`.
 */
#include <stdio.h>
#include <string.h>

#include "aggregator.h"
#include "initdb.h"
#include "op_error.h"
#include "op_log.h"
#include "op_main.h"
#include "op_transport.h"

static void
agg_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: opspulse-aggregator [-c FILE] [-v] COMMAND\n"
	    "\n"
	    "Receives events from OpsPulse agents, stores each exactly once "
	    "in\n"
	    "PostgreSQL and answers indicator queries from the opspulse CLI.\n"
	    "\n"
	    "commands:\n"
	    "  serve          run the daemon in the foreground (SIGTERM "
	    "stops,\n"
	    "                 SIGHUP rereads the configuration)\n"
	    "  migrate        create or upgrade the database schema "
	    "(idempotent)\n"
	    "  init-db        first install: create the roles, the database "
	    "and\n"
	    "                 the schema (as a PostgreSQL superuser; see "
	    "init-db --help)\n"
	    "  check-config [FILE] [--user NAME]\n"
	    "                 validate the configuration file and load the "
	    "TLS\n"
	    "                 files as serve would (as NAME too, default\n"
	    "                 opspulse, when run as root)\n"
	    "  config-keys    list every setting with its default\n"
	    "\n"
	    "options:\n"
	    "  -c FILE     configuration (default " AGG_DEFAULT_CONFIG ")\n"
	    "  -v          verbose logging\n"
	    "  --version   print the version\n");
}

/* What serve does with the TLS files at its start, done now: load them,
 * as user too when run as root. */
static int
agg_check_tls(const struct agg_conf *c, const char *user, int *warnings)
{
	char cn[256];
	const char *missing = op_tls_missing(&c->tls);
	int tls = 0;

	for (size_t i = 0; i < c->listen.n; i++)
		tls |= strncmp(c->listen.items[i], "tls+tcp://", 10) == 0;
	if (!tls)
		return OP_OK;
	if (missing) {
		op_warn("config",
		        "%s does not exist yet: serve cannot start without "
		        "it (README, \"Production certificates\")",
		        missing);
		++*warnings;
		return OP_OK;
	}
	if (op_tls_load_check(&c->tls, 1, cn, sizeof(cn)) != OP_OK ||
	    op_tls_readable_as(&c->tls, user) != OP_OK)
		return OP_ECONFIG;
	return OP_OK;
}

static int
agg_run(const char *cmd, const char *file, const char *user)
{
	struct agg_conf c;
	int warnings = 0, rv;

	rv = agg_conf_load(&c, file, &warnings);
	if (rv == OP_OK && strcmp(cmd, "check-config") == 0)
		rv = agg_check_tls(&c, user, &warnings);
	if (strcmp(cmd, "check-config") == 0) {
		if (rv == OP_OK)
			printf("%s: OK%s\n", c.config_file,
			       warnings ? " (with warnings above)" : "");
		else
			fprintf(stderr, "%s: invalid\n",
			        file ? file : AGG_DEFAULT_CONFIG);
	} else if (rv == OP_OK && strcmp(cmd, "migrate") == 0) {
		rv = agg_migrate(c.database);
	} else if (rv == OP_OK && strcmp(cmd, "serve") == 0) {
		rv = agg_serve(&c);
	} else if (rv == OP_OK) {
		fprintf(stderr,
		        "opspulse-aggregator: unknown command '%s'; see "
		        "opspulse-aggregator --help\n",
		        cmd);
		rv = OP_EINVAL;
	}
	agg_conf_free(&c);
	return rv == OP_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct op_main_program prog = {"opspulse-aggregator",
	                                            agg_usage};
	const char *file = NULL, *user = "opspulse";
	int verbose = 0, status, i;

	if ((i = op_main_options(&prog, argc, argv, &file, &verbose, &status)) <
	    0)
		return status;
	op_log_init(prog.name, verbose ? OP_LOG_DEBUG : OP_LOG_INFO);
	if (i >= argc) {
		agg_usage(stderr);
		return 1;
	}
	if (strcmp(argv[i], "config-keys") == 0) {
		agg_conf_describe();
		return 0;
	}
	if (strcmp(argv[i], "init-db") == 0)
		return agg_init_db_main(file, argc - i, argv + i);
	/* check-config [FILE] [--user NAME]: NAME (default opspulse, the
	 * unit's user) is whom the TLS files must be readable by. */
	for (int k = i + 1; strcmp(argv[i], "check-config") == 0 && k < argc;
	     k++) {
		if (strcmp(argv[k], "--user") == 0 && k + 1 < argc)
			user = argv[++k];
		else
			file = argv[k];
	}
	return agg_run(argv[i], file, user);
}
