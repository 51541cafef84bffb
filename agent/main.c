/*
 * opspulse-agent: records operations events on a host and ships them to
 * the aggregator.  See `opspulse-agent --help`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "requests.h"
#include "op_error.h"
#include "op_log.h"
#include "op_main.h"
#include "op_transport.h"

static void
agent_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: opspulse-agent [-c FILE] [-v] COMMAND [ARGS...]\n"
	    "\n"
	    "Records toil, deploys, alerts, component versions and capacity "
	    "on\n"
	    "this host, keeps them in a durable spool and ships them to the\n"
	    "OpsPulse aggregator.\n"
	    "\n"
	    "commands:\n"
	    "  daemon                 run the shipping daemon (foreground)\n"
	    "  run --kind K ... -- CMD  run CMD and record it as "
	    "deploy/toil/batch\n"
	    "  deploy record ...      record a finished deploy\n"
	    "  deploy mark-failed ... mark a deploy as having caused an "
	    "incident\n"
	    "  toil record ...        log manual operational work\n"
	    "  component record ...   declare a component and its version\n"
	    "  maintenance record ... record a maintenance item\n"
	    "  requests record ...    record one minute's requests, errors, "
	    "latency\n"
	    "  incident record ...    record or update an incident\n"
	    "  action record ...      record a postmortem action item\n"
	    "  check record ...       record a readiness check or exemption\n"
	    "  import FILE|-          load JSON Lines history (see --help)\n"
	    "  flush [--timeout S]    wait until everything recorded is "
	    "delivered\n"
	    "  status                 spool depth, oldest unsent event, drops\n"
	    "  check-config [FILE] [--user NAME]\n"
	    "                         validate the configuration file, load "
	    "the\n"
	    "                         TLS files as the daemon would (as NAME "
	    "too,\n"
	    "                         default opspulse-agent, when run as "
	    "root)\n"
	    "                         and check the certificate's CN is "
	    "agent.host\n"
	    "  config-keys            list every setting with its default\n"
	    "\n"
	    "options:\n"
	    "  -c FILE     configuration (default " AGENT_DEFAULT_CONFIG ")\n"
	    "  -v          verbose logging\n"
	    "  --version   print the version\n"
	    "\n"
	    "Run 'opspulse-agent COMMAND --help' for a command's options.\n");
}

/*
 * What the daemon does with the TLS files at its start, done now: load
 * them (as user too, when run as root), and check that the certificate's
 * CN is agent.host, which the aggregator requires of every event.
 */
static int
agent_check_tls(const struct agent_conf *c, const char *user, int *warnings)
{
	char cn[256] = "";
	const char *missing = op_tls_missing(&c->tls);
	int tls = 0;

	for (size_t i = 0; i < c->aggregators.n; i++)
		tls |= strncmp(c->aggregators.items[i], "tls+tcp://", 10) == 0;
	if (!tls)
		return OP_OK;
	if (missing) {
		op_warn("config",
		        "%s does not exist yet: the daemon cannot start "
		        "without it (README, \"Production certificates\")",
		        missing);
		++*warnings;
		return OP_OK;
	}
	if (op_tls_load_check(&c->tls, 0, cn, sizeof(cn)) != OP_OK ||
	    op_tls_readable_as(&c->tls, user) != OP_OK)
		return OP_ECONFIG;
	if (strcmp(cn, c->host) != 0) {
		op_error("config",
		         "the certificate %s is for \"%s\" but agent.host is "
		         "\"%s\": the aggregator refuses events for a host "
		         "other than the certificate's CN; set agent.host = "
		         "\"%s\" or issue a certificate for %s",
		         c->tls.cert, cn, c->host, cn, c->host);
		return OP_ECONFIG;
	}
	return OP_OK;
}

static int
agent_check_config(const char *file, const char *user)
{
	struct agent_conf c;
	int warnings = 0;
	const char *path = file ? file : AGENT_DEFAULT_CONFIG;
	int rv = agent_conf_load(&c, path, &warnings);

	if (rv == OP_OK)
		rv = agent_check_tls(&c, user, &warnings);

	if (rv == OP_OK)
		printf("%s: OK%s\n", path,
		       warnings ? " (with warnings above)" : "");
	else
		fprintf(stderr, "%s: invalid\n", path);
	agent_conf_free(&c);
	return rv == OP_OK ? 0 : 1;
}

/* check-config [FILE] [--user NAME]: NAME (default opspulse-agent, the
 * unit's user) is whom the TLS files must be readable by. */
static int
agent_check_config_main(const char *file, int argc, char **argv)
{
	const char *user = "opspulse-agent";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else
			file = argv[i];
	}
	return agent_check_config(file, user);
}

struct agent_command {
	const char *name;
	int (*fn)(const struct agent_conf *c, int argc, char **argv);
	int config_optional; /* runs even when the configuration is bad */
};

static const struct agent_command agent_commands[] = {
    {"run", agent_cmd_run, 1},
    {"deploy", agent_cmd_deploy, 0},
    {"toil", agent_cmd_toil, 0},
    {"component", agent_cmd_component, 0},
    {"maintenance", agent_cmd_maintenance, 0},
    {"requests", agent_cmd_requests, 0},
    {"incident", agent_cmd_incident, 0},
    {"action", agent_cmd_action, 0},
    {"check", agent_cmd_check, 0},
    {"import", agent_cmd_import, 0},
    {"flush", agent_cmd_flush, 0},
    {"status", agent_cmd_status, 0},
};

static int
agent_dispatch(const char *file, int argc, char **argv)
{
	struct agent_conf c;
	int rv = 2;

	for (size_t i = 0;
	     i < sizeof(agent_commands) / sizeof(agent_commands[0]); i++) {
		const struct agent_command *cmd = &agent_commands[i];
		if (strcmp(argv[0], cmd->name) != 0)
			continue;
		if (agent_conf_load(&c, file, NULL) != OP_OK) {
			if (!cmd->config_optional) {
				agent_conf_free(&c);
				return 1;
			}
			fprintf(stderr,
			        "opspulse-agent: warning: configuration "
			        "is invalid; running without recording "
			        "guarantees\n");
		}
		rv = cmd->fn(&c, argc, argv);
		agent_conf_free(&c);
		return rv;
	}
	fprintf(stderr,
	        "opspulse-agent: unknown command '%s'; see "
	        "opspulse-agent --help\n",
	        argv[0]);
	return 1;
}

static int
agent_daemon(const char *file)
{
	struct agent_conf c;
	char *path;
	int rv;

	if (agent_conf_load(&c, file, NULL) != OP_OK) {
		agent_conf_free(&c);
		return 1;
	}
	/* Our own copy: a reload frees the configuration that held it. */
	if ((path = strdup(c.config_file)) == NULL) {
		agent_conf_free(&c);
		return 1;
	}
	rv = agent_cmd_daemon(&c, path);
	agent_conf_free(&c);
	free(path);
	return rv;
}

int
main(int argc, char **argv)
{
	static const struct op_main_program prog = {"opspulse-agent",
	                                            agent_usage};
	const char *file = NULL;
	int verbose = 0, status, i;

	op_log_init(prog.name, OP_LOG_INFO);
	if ((i = op_main_options(&prog, argc, argv, &file, &verbose, &status)) <
	    0)
		return status;
	op_log_init(prog.name, verbose ? OP_LOG_DEBUG : OP_LOG_INFO);
	if (i >= argc) {
		agent_usage(stderr);
		return 1;
	}
	if (strcmp(argv[i], "daemon") == 0)
		return agent_daemon(file);
	if (strcmp(argv[i], "check-config") == 0)
		return agent_check_config_main(file, argc - i, argv + i);
	if (strcmp(argv[i], "probe-postgresql") == 0)
		return agent_probe_postgresql_main(argc - i, argv + i);
	if (strcmp(argv[i], "config-keys") == 0) {
		agent_conf_describe();
		return 0;
	}
	return agent_dispatch(file, argc - i, argv + i);
}
