#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "op_error.h"

#define F(field) offsetof(struct agent_conf, field)

/* Every agent setting, once (SPEC §8).  Keep config/agent.conf in step. */
static const struct op_cfg_option agent_options[] = {
    {"agent.id", OP_CFG_STRING, NULL, F(id),
     "agent identity; default: the host name"},
    {"agent.host", OP_CFG_STRING, NULL, F(host),
     "host name recorded with events; default: the host name"},
    {"agent.service", OP_CFG_STRING, "default", F(service),
     "service of recorded events when none is given"},
    {"agent.environment", OP_CFG_STRING, "production", F(environment),
     "environment of recorded events when none is given"},
    {"agent.aggregators", OP_CFG_STRLIST, "tls+tcp://127.0.0.1:7410",
     F(aggregators), "aggregator addresses, tried in order"},
    {"agent.spool.dir", OP_CFG_STRING, "/var/lib/opspulse-agent", F(spool_dir),
     "where events wait until the aggregator has them"},
    {"agent.spool.max_mb", OP_CFG_INT, "256", F(spool_max_mb),
     "spool bound; the oldest events are dropped (and counted) past it"},
    {"agent.sender.batch_events", OP_CFG_INT, "1000", F(batch_events),
     "events per message to the aggregator"},
    {"agent.sender.timeout_ms", OP_CFG_INT, "10000", F(timeout_ms),
     "how long to wait for the aggregator's answer"},
    {"agent.sender.failback_ms", OP_CFG_INT, "60000", F(failback_ms),
     "after a failover, try the first aggregator again this often"},
    {"agent.tls.ca", OP_CFG_STRING, "/etc/opspulse/ca.pem", F(tls_ca),
     "CA certificate that signs the aggregator's certificate"},
    {"agent.tls.cert", OP_CFG_STRING, "/etc/opspulse/agent.pem", F(tls_cert),
     "this agent's certificate"},
    {"agent.tls.key", OP_CFG_STRING, "/etc/opspulse/agent.key", F(tls_key),
     "this agent's private key"},
    {"agent.tls.insecure", OP_CFG_BOOL, "false", F(tls_insecure),
     "allow plain tcp:// (no encryption, no identity)"},
    {"agent.webhook.listen", OP_CFG_STRING, "127.0.0.1:9095", F(webhook_listen),
     "Alertmanager webhook address"},
    {"agent.webhook.token", OP_CFG_STRING, NULL, F(webhook_token),
     "bearer token the webhook requires; empty: none"},
    {"agent.webhook.service_labels", OP_CFG_STRLIST, NULL, F(webhook_labels),
     "alert labels that name the service, in order"},
};

#define NOPTS (sizeof(agent_options) / sizeof(agent_options[0]))

static int
agent_default_host(char **field)
{
	char name[256];

	if (*field && **field)
		return OP_OK;
	if (gethostname(name, sizeof(name)) != 0)
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	free(*field);
	*field = strdup(name);
	return *field ? OP_OK : OP_ENOMEM;
}

int
agent_conf_load(struct agent_conf *c, const char *file, int *warnings)
{
	struct op_cfg_result res;
	int rv;

	memset(c, 0, sizeof(*c));
	rv = op_cfg_load(agent_options, NOPTS,
	                 file ? file : AGENT_DEFAULT_CONFIG, file == NULL, c,
	                 &res);
	if (warnings)
		*warnings = res.warnings;
	if (rv != OP_OK)
		return rv;
	if (c->webhook_labels.n == 0 &&
	    (op_strlist_add(&c->webhook_labels, "service") ||
	     op_strlist_add(&c->webhook_labels, "job")))
		return OP_ENOMEM;
	if (agent_default_host(&c->id) || agent_default_host(&c->host))
		return OP_ENOMEM;
	if (c->spool_max_mb < 1 || c->batch_events < 1 ||
	    c->batch_events > OP_MAX_BATCH_EVENTS || c->timeout_ms < 100) {
		fprintf(stderr,
		        "opspulse-agent: %s: spool.max_mb must be >= 1, "
		        "sender.batch_events 1..%d, sender.timeout_ms >= 100\n",
		        file ? file : AGENT_DEFAULT_CONFIG,
		        OP_MAX_BATCH_EVENTS);
		return OP_ECONFIG;
	}
	c->config_file = strdup(file ? file : AGENT_DEFAULT_CONFIG);
	return c->config_file ? OP_OK : OP_ENOMEM;
}

void
agent_conf_free(struct agent_conf *c)
{
	op_cfg_free(agent_options, NOPTS, c);
	free(c->config_file);
	c->config_file = NULL;
}

void
agent_conf_tls(const struct agent_conf *c, struct op_tls_conf *tls)
{
	tls->ca = c->tls_ca;
	tls->cert = c->tls_cert;
	tls->key = c->tls_key;
	tls->insecure = c->tls_insecure;
}

void
agent_conf_describe(void)
{
	op_cfg_describe(agent_options, NOPTS, stdout);
}
