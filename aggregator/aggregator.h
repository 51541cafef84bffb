/*
 * opspulse-aggregator: receives batches from agents, stores them exactly
 * once in PostgreSQL, and answers the CLI's indicator queries.
 */
#ifndef AGGREGATOR_H
#define AGGREGATOR_H

#include "op_config.h"
#include "op_transport.h"
#include "op_error.h"

#define AGG_DEFAULT_CONFIG "/etc/opspulse/aggregator.conf"

/* The readiness block of aggregator.conf (readiness.h, SPEC §14); set is
 * 0 while the file has no readiness block, and readiness_settings then
 * gives the defaults. */
struct agg_readiness {
	int set;
	long long cycle_days;
	struct op_strlist backup_tasks;  /* globs: * and ? */
	struct op_strlist restore_tasks; /* globs: * and ? */
	struct op_strlist manual_checks;
};

struct agg_team {
	char *name;
	long long members;
	double hours_per_week;
	char *timezone;
	struct op_strlist services;
};

/* Scorecard targets (SPEC §4.6), written to opspulse.settings. */
struct agg_targets {
	char *delivery_level; /* low, medium, high or elite */
	double toil_ratio;
	double noise_share;
	double alert_mttr_minutes;
	double recovery_hours;
	double disk_full_days;
	double cpu_p95_pct;
	long long bus_factor;
};

/* One entry of aggregator.slos (SPEC §12.4): the numbers keep the text
 * of the file (a float as its shortest exact decimal), so that SQL reads
 * them as exact numerics.  availability or latency_ms may be NULL. */
struct agg_slo {
	char *service;
	char *availability;   /* percent, e.g. "99.9" */
	char *latency_ms;     /* threshold; set with latency_target */
	char *latency_target; /* percent of timed requests within it */
	int line;             /* in the configuration file */
};

/* Hosts an identity (certificate CN) may send events for besides its own
 * (SPEC §7): fnmatch(3) patterns. */
struct agg_identity {
	char *name;
	struct op_strlist hosts;
};

/* A person who may open the web address (SPEC §7): a crypt(3) hash. */
struct agg_http_user {
	char *name;
	char *hash;
};

struct agg_conf {
	struct op_strlist listen;
	char *database; /* libpq connection string */
	/* libpq connection string for queries; "" or NULL: database */
	char *query_database;
	char *http;
	struct op_tls_conf tls;
	char *timezone;
	long long noise_minutes;
	long long workers;
	long long retention_days;      /* 0: keep every event */
	long long request_minute_days; /* 0: as retention_days */
	long long request_rollup_days; /* 0: keep every hourly rollup */
	int eol_extended_support;      /* eol.extended_support */
	struct agg_team *teams;
	size_t nteams;
	struct agg_identity *identities;
	size_t nidentities;
	struct agg_targets targets;
	/* The web address's TLS and credentials (SPEC §7); none set: plain
	 * HTTP, open to whoever reaches it. */
	char *http_tls_cert, *http_tls_key; /* both or neither */
	struct agg_http_user *http_users;
	size_t nhttp_users;
	struct op_strlist http_tokens; /* bearer tokens, for scrapers */
	struct agg_slo *slos;
	size_t nslos;
	long long slo_window_days;
	long long postmortem_days; /* a postmortem is due this long after */
	struct agg_readiness readiness; /* SPEC §14 */
	char *config_file;
};

/* Loads file (NULL: the default path).  Returns OP_OK or OP_ECONFIG
 * (logged).  Free with agg_conf_free, also after a failure. */
OP_MUSTCHECK int agg_conf_load(struct agg_conf *c, const char *file,
                               int *warnings);
void agg_conf_free(struct agg_conf *c);
void agg_conf_describe(void);

/* opspulse-aggregator migrate: creates or upgrades the schema. */
OP_MUSTCHECK int agg_migrate(const char *conninfo);

/* opspulse-aggregator serve: runs until SIGTERM or SIGINT. */
OP_MUSTCHECK int agg_serve(struct agg_conf *c);

#endif
