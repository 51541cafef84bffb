#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "agent.h"
#include "op_error.h"

#define F(field) offsetof(struct agent_conf, field)

/* ---- probe lists: ( { package = "nginx"; product = "nginx"; }, ... ) -- */

/* The keys of one kind of probe list. */
struct probe_keys {
	const char *target;      /* "package", "command", ... */
	const char *def_product; /* NULL: the target itself; "": required */
	int password;            /* takes a password */
};

static const struct probe_keys probe_packages_keys = {"package", NULL, 0};
static const struct probe_keys probe_commands_keys = {"command", "", 0};
static const struct probe_keys probe_pg_keys = {"conninfo", "postgresql", 0};
static const struct probe_keys probe_redis_keys = {"address", "redis", 1};

static void
probe_list_free(struct agent_probe_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].target);
		free(l->items[i].product);
		free(l->items[i].service);
		free(l->items[i].password);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* A string member of group g into *out (a copy); 0, or 1 when mistyped. */
static int
probe_str(const config_setting_t *g, const char *key, char **out)
{
	const config_setting_t *m = config_setting_get_member(g, key);

	if (m == NULL)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_STRING)
		return 1;
	free(*out);
	*out = strdup(config_setting_get_string(m));
	return 0;
}

static int
probe_known_key(const struct probe_keys *k, const char *name)
{
	return strcmp(name, k->target) == 0 || strcmp(name, "product") == 0 ||
	       strcmp(name, "service") == 0 ||
	       (k->password && strcmp(name, "password") == 0);
}

/* Reads one { ... } entry into p; 0 or 1 with a message in err. */
static int
probe_entry(const config_setting_t *g, const struct probe_keys *k,
            struct agent_probe *p, char *err, size_t errsz)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		if (!probe_known_key(k, config_setting_name(m))) {
			snprintf(err, errsz, "unknown key '%s' at line %d",
			         config_setting_name(m),
			         config_setting_source_line(m));
			return 1;
		}
	}
	if (probe_str(g, k->target, &p->target) ||
	    probe_str(g, "product", &p->product) ||
	    probe_str(g, "service", &p->service) ||
	    probe_str(g, "password", &p->password) || p->target == NULL ||
	    *p->target == '\0') {
		snprintf(err, errsz, "each entry needs %s = \"...\" (line %d)",
		         k->target, config_setting_source_line(g));
		return 1;
	}
	if (p->product == NULL && k->def_product && *k->def_product == '\0') {
		snprintf(err, errsz,
		         "each entry needs product = \"...\" "
		         "(line %d)",
		         config_setting_source_line(g));
		return 1;
	}
	if (p->product == NULL)
		p->product =
		    strdup(k->def_product ? k->def_product : p->target);
	return p->product == NULL;
}

static int
probe_list_parse(const config_setting_t *s, struct agent_probe_list *l,
                 const struct probe_keys *k, char *err, size_t errsz)
{
	int n = config_setting_length(s);

	probe_list_free(l);
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		snprintf(err, errsz,
		         "a list of groups such as ( { %s = "
		         "\"...\"; } )",
		         k->target);
		return 1;
	}
	if (n > 0 && (l->items = calloc((size_t)n, sizeof(*l->items))) == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i);
		l->n++;
		if (!config_setting_is_group(g)) {
			snprintf(err, errsz, "entry %d is not a group { ... }",
			         i + 1);
			return 1;
		}
		if (probe_entry(g, k, &l->items[i], err, errsz))
			return 1;
	}
	return 0;
}

#define PROBE_LIST(name, field, keys)                                          \
	static int name##_parse(const config_setting_t *s, void *t, char *err, \
	                        size_t errsz)                                  \
	{                                                                      \
		return probe_list_parse(s, &((struct agent_conf *)t)->field,   \
		                        &keys, err, errsz);                    \
	}                                                                      \
	static void name##_free(void *t)                                       \
	{                                                                      \
		probe_list_free(&((struct agent_conf *)t)->field);             \
	}

PROBE_LIST(packages, probe_packages, probe_packages_keys)
PROBE_LIST(commands, probe_commands, probe_commands_keys)
PROBE_LIST(postgresql, probe_postgresql, probe_pg_keys)
PROBE_LIST(redis, probe_redis, probe_redis_keys)

/* ---- webhook.incident_severities: { critical = 1; page = 2; } ---------- */

static void
severities_free(void *t)
{
	struct agent_severity_map *m =
	    &((struct agent_conf *)t)->incident_severities;

	for (size_t i = 0; i < m->n; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->levels);
	memset(m, 0, sizeof(*m));
}

static int
severities_parse(const config_setting_t *s, void *t, char *err, size_t errsz)
{
	struct agent_severity_map *m =
	    &((struct agent_conf *)t)->incident_severities;
	int n = config_setting_length(s);

	severities_free(t);
	if (!config_setting_is_group(s)) {
		snprintf(err, errsz, "such as { critical = 1; }");
		return 1;
	}
	m->labels = calloc((size_t)n + 1, sizeof(*m->labels));
	m->levels = calloc((size_t)n + 1, sizeof(*m->levels));
	if (m->labels == NULL || m->levels == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		int v = config_setting_get_int(e);

		if (config_setting_type(e) != CONFIG_TYPE_INT || v < 1 ||
		    v > 4) {
			snprintf(
			    err, errsz,
			    "such as { critical = 1; }, each severity 1 to 4 "
			    "(1 is the worst); %s at line %d is not",
			    config_setting_name(e),
			    config_setting_source_line(e));
			return 1;
		}
		if ((m->labels[i] = strdup(config_setting_name(e))) == NULL)
			return 1;
		m->levels[i] = v;
		m->n++;
	}
	return 0;
}

int
agent_incident_severity(const struct agent_conf *c, const char *label)
{
	const struct agent_severity_map *m = &c->incident_severities;

	for (size_t i = 0; label && i < m->n; i++) {
		if (strcmp(m->labels[i], label) == 0)
			return m->levels[i];
	}
	return 0;
}

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
    OP_CFG_TLS("agent.tls", struct agent_conf, tls, "/etc/opspulse/agent.pem",
               "/etc/opspulse/agent.key"),
    {"agent.webhook.listen", OP_CFG_STRING, "127.0.0.1:9095", F(webhook_listen),
     "Alertmanager webhook address"},
    {"agent.webhook.token", OP_CFG_STRING, NULL, F(webhook_token),
     "bearer token the webhook requires; empty: none"},
    {"agent.webhook.service_labels", OP_CFG_STRLIST, NULL, F(webhook_labels),
     "alert labels that name the service, in order"},
    {"agent.webhook.max_bytes", OP_CFG_INT, "1048576", F(webhook_max_bytes),
     "largest webhook body accepted; larger ones get 413"},
    {"agent.webhook.incident_severities", OP_CFG_CUSTOM, NULL, 0,
     "alerts whose severity label is listed open incidents of the given "
     "severity: { critical = 1; }",
     severities_parse, severities_free},
    {"agent.probes.enabled", OP_CFG_BOOL, "true", F(probes_enabled),
     "probe component versions (daemon)"},
    {"agent.probes.interval_s", OP_CFG_INT, "3600", F(probes_interval_s),
     "seconds between version probes"},
    {"agent.probes.timeout_ms", OP_CFG_INT, "5000", F(probes_timeout_ms),
     "how long one probe (command, connection) may take"},
    {"agent.probes.os_release", OP_CFG_STRING, "/etc/os-release",
     F(probes_os_release), "os-release file to read; empty: skip"},
    {"agent.probes.kernel", OP_CFG_BOOL, "true", F(probes_kernel),
     "report the kernel release as product linux"},
    {"agent.probes.packages", OP_CFG_CUSTOM, NULL, 0,
     "Debian/RPM packages: ( { package; product; service; } )", packages_parse,
     packages_free},
    {"agent.probes.commands", OP_CFG_CUSTOM, NULL, 0,
     "commands printing a version: ( { command; product; service; } )",
     commands_parse, commands_free},
    {"agent.probes.postgresql", OP_CFG_CUSTOM, NULL, 0,
     "PostgreSQL servers: ( { conninfo; product; service; } )",
     postgresql_parse, postgresql_free},
    {"agent.probes.redis", OP_CFG_CUSTOM, NULL, 0,
     "Redis servers: ( { address; product; service; password; } )", redis_parse,
     redis_free},
    {"agent.capacity.enabled", OP_CFG_BOOL, "true", F(capacity_enabled),
     "sample CPU, memory and disk use (daemon)"},
    {"agent.capacity.interval_s", OP_CFG_INT, "60", F(capacity_interval_s),
     "seconds between capacity samples"},
    {"agent.capacity.mounts", OP_CFG_STRLIST, "/", F(capacity_mounts),
     "mount points whose used/total bytes are sampled"},
    {"agent.sessions.enabled", OP_CFG_BOOL, "false", F(sessions_enabled),
     "record interactive login sessions as toil (daemon)"},
    {"agent.sessions.interval_s", OP_CFG_INT, "60", F(sessions_interval_s),
     "seconds between reads of the login records"},
    {"agent.sessions.wtmp", OP_CFG_STRING, "/var/log/wtmp", F(sessions_wtmp),
     "login records file"},
    {"agent.sessions.task", OP_CFG_STRING, "interactive session",
     F(sessions_task), "task name of session toil"},
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

/* Ranges of the collector and webhook settings. */
static int
agent_conf_check_collectors(const struct agent_conf *c, const char *file)
{
	if (c->probes_interval_s >= 1 && c->capacity_interval_s >= 1 &&
	    c->sessions_interval_s >= 1 && c->probes_timeout_ms >= 100 &&
	    c->webhook_max_bytes >= 1024 && c->webhook_max_bytes <= (1 << 30) &&
	    *c->sessions_task)
		return OP_OK;
	fprintf(stderr,
	        "opspulse-agent: %s: probes.interval_s, "
	        "capacity.interval_s and sessions.interval_s must be >= 1, "
	        "probes.timeout_ms >= 100, webhook.max_bytes 1024..1 GiB and "
	        "sessions.task not empty\n",
	        file ? file : AGENT_DEFAULT_CONFIG);
	return OP_ECONFIG;
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
	if (agent_conf_check_collectors(c, file) != OP_OK)
		return OP_ECONFIG;
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
agent_conf_describe(void)
{
	op_cfg_describe(agent_options, NOPTS, stdout);
}
