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
	    "  check-config   validate the configuration file\n"
	    "  config-keys    list every setting with its default\n"
	    "\n"
	    "options:\n"
	    "  -c FILE     configuration (default " AGG_DEFAULT_CONFIG ")\n"
	    "  -v          verbose logging\n"
	    "  --version   print the version\n");
}

static int
agg_run(const char *cmd, const char *file)
{
	struct agg_conf c;
	int warnings = 0, rv;

	rv = agg_conf_load(&c, file, &warnings);
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
	const char *file = NULL;
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
	if (i + 1 < argc && strcmp(argv[i], "check-config") == 0)
		file = argv[i + 1];
	return agg_run(argv[i], file);
}
