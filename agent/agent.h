/*
 * opspulse-agent: the host daemon and the commands that record events.
 */
#ifndef AGENT_H
#define AGENT_H

#include <stdint.h>

#include "op_codec.h"
#include "op_config.h"
#include "op_transport.h"
#include "op_error.h"

#define AGENT_DEFAULT_CONFIG "/etc/opspulse/agent.conf"

/* One probe target of a list in agent.probes: a package, a command, a
 * PostgreSQL connection string or a Redis address. */
struct agent_probe {
	char *target;
	char *product;  /* EOL catalog name */
	char *service;  /* NULL: the agent's default service */
	char *password; /* redis only; NULL: none */
};

struct agent_probe_list {
	struct agent_probe *items;
	size_t n;
};

/* One entry of agent.access_logs (SPEC §12.1): a web server's access log
 * the daemon follows (tail.h).  format is an enum alog_format
 * (access_log.h); the json_* names and unit_exp apply to format json. */
struct agent_access_log {
	char *path;
	int format;
	char *service; /* NULL: the agent's default service */
	char *env;     /* NULL: the agent's environment */
	char *json_time, *json_status, *json_duration;
	int unit_exp; /* 6: seconds, 3: milliseconds, 0: microseconds */
};

struct agent_access_log_list {
	struct agent_access_log *items;
	size_t n;
};

/* webhook.incident_severities: alert severity labels that open
 * incidents, with the incident severity (1-4) each gives. */
struct agent_severity_map {
	char **labels;
	int *levels;
	size_t n;
};

struct agent_conf {
	char *id;          /* agent id; default: the host name */
	char *host;        /* host name recorded with events */
	char *service;     /* default service */
	char *environment; /* default environment */
	struct op_strlist aggregators;
	char *spool_dir;
	long long spool_max_mb;
	long long batch_events; /* events per message */
	long long timeout_ms;   /* per request */
	long long failback_ms;  /* retry the first aggregator after this */
	struct op_tls_conf tls;
	char *webhook_listen, *webhook_token;
	struct op_strlist webhook_labels;
	long long webhook_max_bytes;
	struct agent_severity_map incident_severities;
	/* collectors (collect.h) */
	int probes_enabled;
	long long probes_interval_s, probes_timeout_ms;
	char *probes_os_release; /* path; "" disables */
	int probes_kernel;
	struct agent_probe_list probe_packages, probe_commands;
	struct agent_probe_list probe_postgresql, probe_redis;
	int capacity_enabled;
	long long capacity_interval_s;
	struct op_strlist capacity_mounts;
	int sessions_enabled;
	long long sessions_interval_s;
	char *sessions_wtmp, *sessions_task;
	struct agent_access_log_list access_logs;
	char *config_file; /* where it was read from */
};

/* Loads the agent configuration from file (NULL: the default path, which
 * may be missing).  Returns OP_OK or OP_ECONFIG (logged).  Free with
 * agent_conf_free. */
OP_MUSTCHECK int agent_conf_load(struct agent_conf *c, const char *file,
                                 int *warnings);
void agent_conf_free(struct agent_conf *c);

/* The incident severity of an alert's severity label, or 0 when alerts
 * of that severity do not open incidents (label may be NULL). */
int agent_incident_severity(const struct agent_conf *c, const char *label);

/* Prints every setting with its default and meaning. */
void agent_conf_describe(void);

/* ---- events (event.c) ----------------------------------------------- */

/*
 * Common fields of an event being recorded.  Strings are borrowed: they
 * must outlive the event.
 */
struct agent_event {
	op_event ev;
	union {
		Opspulse__V1__Deploy deploy;
		Opspulse__V1__DeployFailure deploy_failure;
		Opspulse__V1__Toil toil;
		Opspulse__V1__BatchRun batch;
		Opspulse__V1__Alert alert;
		Opspulse__V1__Component component;
		Opspulse__V1__Maintenance maintenance;
		Opspulse__V1__Capacity capacity;
		Opspulse__V1__Requests requests;
		Opspulse__V1__Incident incident;
		Opspulse__V1__ActionItem action_item;
		Opspulse__V1__Check check;
	} u;
};

/* Initialises e with the defaults of c: service, env, host, operator
 * ($SUDO_USER, else $USER) and the current time. */
void agent_event_init(struct agent_event *e, const struct agent_conf *c);

/* Sets the kind of e and returns the kind's message for filling in. */
Opspulse__V1__Deploy *agent_event_deploy(struct agent_event *e);
Opspulse__V1__DeployFailure *agent_event_deploy_failure(struct agent_event *e);
Opspulse__V1__Toil *agent_event_toil(struct agent_event *e);
Opspulse__V1__BatchRun *agent_event_batch(struct agent_event *e);
Opspulse__V1__Alert *agent_event_alert(struct agent_event *e);
Opspulse__V1__Component *agent_event_component(struct agent_event *e);
Opspulse__V1__Maintenance *agent_event_maintenance(struct agent_event *e);
Opspulse__V1__Capacity *agent_event_capacity(struct agent_event *e);
/* The latency buckets of a Requests event are borrowed like its strings. */
Opspulse__V1__Requests *agent_event_requests(struct agent_event *e);
/* An incident record with no field set (fields 0); the caller sets the
 * fields it names and their bits (OP_INCIDENT_BIT). */
Opspulse__V1__Incident *agent_event_incident(struct agent_event *e);
Opspulse__V1__ActionItem *agent_event_action_item(struct agent_event *e);
/* A readiness check record (SPEC §14); strings borrowed as above. */
Opspulse__V1__Check *agent_event_check(struct agent_event *e);

/*
 * A stable id for a deploy that came without one, from its content, so
 * that recording the same deploy twice stores it once.  buf needs 32 bytes.
 */
char *agent_deploy_auto_id(const op_event *e, char *buf, size_t size);

/*
 * A stable id for a maintenance item that came without one, from its
 * service, component and title (not its status or due date, so that a
 * later record with a new status updates the same item).  buf needs 32
 * bytes.
 */
char *agent_maintenance_auto_id(const op_event *e, char *buf, size_t size);

/*
 * Validates events, encodes them and appends them to the spool of c with
 * one fsync.  Returns OP_OK once they are durable; otherwise an error,
 * with the reason printed on stderr.
 */
OP_MUSTCHECK int agent_record(const struct agent_conf *c,
                              op_event *const *events, size_t n);

/* ---- daemon parts ---------------------------------------------------- */

struct agent_webhook;

/*
 * Serves the Alertmanager webhook on c's webhook.listen (nothing when it
 * is empty).  c must outlive the webhook.  Returns OP_OK or an error
 * (logged).  Stop with agent_webhook_stop, which waits for requests in
 * progress; w may be NULL.
 */
OP_MUSTCHECK int agent_webhook_start(struct agent_webhook **out,
                                     const struct agent_conf *c);
void agent_webhook_stop(struct agent_webhook *w);

/* ---- subcommands ---------------------------------------------------- */

/* Each returns the process's exit status (0: success), not an op_err
 * code: main() returns it. */

int agent_cmd_deploy(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_run(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_toil(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_component(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_maintenance(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_import(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_incident(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_action(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_check(const struct agent_conf *c, int argc, char **argv);

/* Internal: the PostgreSQL version probe the daemon runs as a child
 * (collectors/postgresql.c).  Reads a connection string on stdin. */
int agent_probe_postgresql_main(int argc, char **argv);
int agent_cmd_daemon(struct agent_conf *c, const char *config_file);
int agent_cmd_flush(const struct agent_conf *c, int argc, char **argv);
int agent_cmd_status(const struct agent_conf *c, int argc, char **argv);

#endif
