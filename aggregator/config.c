#define _POSIX_C_SOURCE 200809L

#include <crypt.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libconfig.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "aggregator.h"
#include "op_error.h"
#include "slos.h"
#include "readiness.h"

#define F(field) offsetof(struct agg_conf, field)

static int agg_parse_teams(const config_setting_t *s, void *target, char *err,
                           size_t errsz);
static void agg_free_teams(void *target);
static int agg_parse_identities(const config_setting_t *s, void *target,
                                char *err, size_t errsz);
static void agg_free_identities(void *target);
static int agg_parse_http_users(const config_setting_t *s, void *target,
                                char *err, size_t errsz);
static void agg_free_http_users(void *target);
static int agg_parse_http_tokens(const config_setting_t *s, void *target,
                                 char *err, size_t errsz);
static void agg_free_http_tokens(void *target);

/* Every aggregator setting, once (SPEC §8).  Keep config/aggregator.conf
 * in step. */
static const struct op_cfg_option agg_options[] = {
    {"aggregator.listen", OP_CFG_STRLIST, "tls+tcp://0.0.0.0:7410", F(listen),
     "addresses agents and the CLI connect to"},
    {"aggregator.database", OP_CFG_STRING, "dbname=opspulse", F(database),
     "libpq connection string"},
    {"aggregator.query_database", OP_CFG_STRING, "", F(query_database),
     "libpq connection string for queries, /report and the /metrics gauges, "
     "e.g. a hot standby (empty: database)"},
    {"aggregator.http", OP_CFG_STRING, "127.0.0.1:7411", F(http),
     "address of /report, /healthz and /metrics"},
    OP_CFG_TLS("aggregator.tls", struct agg_conf, tls,
               "/etc/opspulse/aggregator.pem", "/etc/opspulse/aggregator.key"),
    {"aggregator.timezone", OP_CFG_STRING, "UTC", F(timezone),
     "business-hours time zone of services without a team"},
    {"aggregator.noise_minutes", OP_CFG_INT, "15", F(noise_minutes),
     "alerts resolved faster than this are noise"},
    {"aggregator.workers", OP_CFG_INT, "4", F(workers),
     "requests handled at once (one database connection each)"},
    {"aggregator.retention_days", OP_CFG_INT, "0", F(retention_days),
     "drop months of events older than this many days (0: keep all)"},
    {"aggregator.request_minute_days", OP_CFG_INT, "0", F(request_minute_days),
     "drop months of per-minute request counts older than this many days "
     "(0: as retention_days)"},
    {"aggregator.request_rollup_days", OP_CFG_INT, "0", F(request_rollup_days),
     "drop hourly request rollups older than this many days (0: keep all)"},
    {"aggregator.targets.delivery_level", OP_CFG_STRING, "high",
     F(targets.delivery_level),
     "scorecard delivery: DORA level at least this (medium, high, elite)"},
    {"aggregator.targets.toil_ratio", OP_CFG_FLOAT, "0.5",
     F(targets.toil_ratio), "scorecard toil: team toil ratio at most this"},
    {"aggregator.targets.noise_share", OP_CFG_FLOAT, "0.3",
     F(targets.noise_share), "scorecard alerting: noise share at most this"},
    {"aggregator.targets.alert_mttr_minutes", OP_CFG_FLOAT, "60",
     F(targets.alert_mttr_minutes),
     "scorecard incident response: alert MTTR p50 at most this"},
    {"aggregator.targets.recovery_hours", OP_CFG_FLOAT, "24",
     F(targets.recovery_hours),
     "scorecard incident response: recovery time p50 at most this"},
    {"aggregator.targets.disk_full_days", OP_CFG_FLOAT, "30",
     F(targets.disk_full_days),
     "scorecard capacity: no disk full within this many days"},
    {"aggregator.targets.cpu_p95_pct", OP_CFG_FLOAT, "80",
     F(targets.cpu_p95_pct), "scorecard capacity: CPU p95 below this"},
    {"aggregator.targets.bus_factor", OP_CFG_INT, "3", F(targets.bus_factor),
     "scorecard knowledge spread: bus factor at least this"},
    {"aggregator.eol.extended_support", OP_CFG_BOOL, "false",
     F(eol_extended_support),
     "count extended support (Debian LTS, Ubuntu ESM) as support"},
    {"aggregator.teams", OP_CFG_CUSTOM, NULL, 0,
     "teams: name, members, hours_per_week, timezone, services",
     agg_parse_teams, agg_free_teams},
    {"aggregator.slos", OP_CFG_CUSTOM, NULL, 0,
     "SLOs: ( { service = \"billing\"; availability = 99.9; latency_ms = "
     "300.0; latency_target = 99.0; } )",
     slos_conf_parse, slos_conf_free},
    {"aggregator.slo_window_days", OP_CFG_INT, "28", F(slo_window_days),
     "trailing window of the error budget policy, in days"},
    {"aggregator.postmortem_days", OP_CFG_INT, "7", F(postmortem_days),
     "a major incident's postmortem is due this many days after it is "
     "resolved"},
    {"aggregator.readiness", OP_CFG_CUSTOM, NULL, 0,
     "production readiness check: { cycle_days = 182; backup_tasks = [ "
     "\"*backup*\" ]; restore_tasks = [ \"*restore*\" ]; manual_checks = "
     "[ \"runbooks_reviewed\" ]; }",
     readiness_conf_parse, readiness_conf_free},
    {"aggregator.identities", OP_CFG_CUSTOM, NULL, 0,
     "hosts a certificate CN may send events for besides its own: "
     "( { name = \"importer\"; hosts = [ \"*\" ]; } )",
     agg_parse_identities, agg_free_identities},
    {"aggregator.http_tls.cert", OP_CFG_STRING, NULL, F(http_tls_cert),
     "certificate (PEM) of the HTTP address; with key: HTTPS only"},
    {"aggregator.http_tls.key", OP_CFG_STRING, NULL, F(http_tls_key),
     "its private key (PEM)"},
    {"aggregator.http_users", OP_CFG_CUSTOM, NULL, 0,
     "people who may open /report and /metrics (Basic auth): "
     "( { name = \"review\"; hash = \"$y$...\"; } ), hashes from "
     "mkpasswd -m yescrypt or htpasswd -nB",
     agg_parse_http_users, agg_free_http_users},
    {"aggregator.http_tokens", OP_CFG_CUSTOM, NULL, 0,
     "bearer tokens that may read the HTTP address (for Prometheus): "
     "[ \"...\" ]",
     agg_parse_http_tokens, agg_free_http_tokens},
};

#define NOPTS (sizeof(agg_options) / sizeof(agg_options[0]))

static int
agg_team_string(const config_setting_t *t, const char *key, char **out,
                const char *def)
{
	const char *v = def;

	if (config_setting_get_member(t, key) &&
	    !config_setting_lookup_string(t, key, &v))
		return OP_EINVAL;
	return (*out = strdup(v)) ? OP_OK : OP_ENOMEM;
}

static int
agg_parse_team(const config_setting_t *t, struct agg_team *team, char *err,
               size_t errsz)
{
	const config_setting_t *svc = config_setting_get_member(t, "services");
	int line = config_setting_source_line(t);

	if (!config_setting_is_group(t) ||
	    agg_team_string(t, "name", &team->name, "") || !*team->name) {
		snprintf(err, errsz, "line %d: each team needs a name", line);
		return OP_EINVAL;
	}
	if (agg_team_string(t, "timezone", &team->timezone, "UTC")) {
		snprintf(err, errsz, "line %d: timezone must be a string",
		         line);
		return OP_EINVAL;
	}
	team->members = 1;
	team->hours_per_week = 40;
	config_setting_lookup_int64(t, "members", &team->members);
	if (!config_setting_lookup_float(t, "hours_per_week",
	                                 &team->hours_per_week)) {
		long long h;
		if (config_setting_lookup_int64(t, "hours_per_week", &h))
			team->hours_per_week = (double)h;
	}
	if (team->members < 1 || team->hours_per_week <= 0) {
		snprintf(err, errsz,
		         "line %d: team %s needs members >= 1 and "
		         "hours_per_week > 0",
		         line, team->name);
		return OP_EINVAL;
	}
	for (int i = 0; svc && i < config_setting_length(svc); i++) {
		const char *s = config_setting_get_string_elem(svc, i);
		if (s == NULL || op_strlist_add(&team->services, s)) {
			snprintf(err, errsz,
			         "line %d: services must be strings", line);
			return OP_EINVAL;
		}
	}
	return OP_OK;
}

static int
agg_parse_teams(const config_setting_t *s, void *target, char *err,
                size_t errsz)
{
	struct agg_conf *c = target;
	int n = config_setting_length(s);

	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		snprintf(err, errsz, "a list of groups: ( { name = ...; } )");
		return OP_EINVAL;
	}
	agg_free_teams(c);
	if ((c->teams = calloc((size_t)n + 1, sizeof(*c->teams))) == NULL)
		return OP_ENOMEM;
	for (int i = 0; i < n; i++) {
		c->nteams++;
		if (agg_parse_team(config_setting_get_elem(s, (unsigned)i),
		                   &c->teams[i], err, errsz))
			return OP_EINVAL;
	}
	return OP_OK;
}

static void
agg_free_teams(void *target)
{
	struct agg_conf *c = target;

	for (size_t i = 0; i < c->nteams; i++) {
		free(c->teams[i].name);
		free(c->teams[i].timezone);
		op_strlist_free(&c->teams[i].services);
	}
	free(c->teams);
	c->teams = NULL;
	c->nteams = 0;
}

static int
agg_parse_identity(const config_setting_t *t, struct agg_identity *id,
                   char *err, size_t errsz)
{
	const config_setting_t *hosts = config_setting_get_member(t, "hosts");
	int line = config_setting_source_line(t);

	if (!config_setting_is_group(t) ||
	    agg_team_string(t, "name", &id->name, "") || !*id->name) {
		snprintf(err, errsz,
		         "line %d: each identity needs a name (the "
		         "certificate's CN)",
		         line);
		return OP_EINVAL;
	}
	if (hosts == NULL || !config_setting_is_array(hosts) ||
	    config_setting_length(hosts) == 0) {
		snprintf(
		    err, errsz,
		    "line %d: identity %s needs hosts = [ \"pattern\", ... ]",
		    line, id->name);
		return OP_EINVAL;
	}
	for (int i = 0; i < config_setting_length(hosts); i++) {
		const char *h = config_setting_get_string_elem(hosts, i);
		if (h == NULL || !*h || op_strlist_add(&id->hosts, h)) {
			snprintf(
			    err, errsz,
			    "line %d: hosts of %s must be non-empty strings",
			    line, id->name);
			return OP_EINVAL;
		}
	}
	return OP_OK;
}

static int
agg_parse_identities(const config_setting_t *s, void *target, char *err,
                     size_t errsz)
{
	struct agg_conf *c = target;
	int n = config_setting_length(s);

	if (!config_setting_is_list(s)) {
		snprintf(
		    err, errsz,
		    "a list of groups: ( { name = ...; hosts = [ ... ]; } )");
		return OP_EINVAL;
	}
	agg_free_identities(c);
	if ((c->identities = calloc((size_t)n + 1, sizeof(*c->identities))) ==
	    NULL)
		return OP_ENOMEM;
	for (int i = 0; i < n; i++) {
		c->nidentities++;
		if (agg_parse_identity(config_setting_get_elem(s, (unsigned)i),
		                       &c->identities[i], err, errsz))
			return OP_EINVAL;
	}
	return OP_OK;
}

static void
agg_free_identities(void *target)
{
	struct agg_conf *c = target;

	for (size_t i = 0; i < c->nidentities; i++) {
		free(c->identities[i].name);
		op_strlist_free(&c->identities[i].hosts);
	}
	free(c->identities);
	c->identities = NULL;
	c->nidentities = 0;
}

/* Whether hash is a strong one crypt(3) can check passwords against:
 * yescrypt, bcrypt, scrypt or SHA-crypt (not DES or MD5), for which it
 * gives back a hash of the same length, not a failure token ("*0"). */
static int
agg_hash_usable(const char *hash)
{
	static const char *const strong[] = {"$y$",  "$gy$", "$7$", "$2b$",
	                                     "$2y$", "$2a$", "$6$", "$5$"};
	struct crypt_data *cd;
	const char *out;
	size_t i = 0;
	int ok;

	while (i < sizeof(strong) / sizeof(strong[0]) &&
	       strncmp(hash, strong[i], strlen(strong[i])) != 0)
		i++;
	if (i == sizeof(strong) / sizeof(strong[0]) ||
	    (cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	out = crypt_rn("probe", hash, cd, (int)sizeof(*cd));
	ok = out != NULL && out[0] != '*' && strlen(out) == strlen(hash);
	free(cd);
	return ok;
}

static int
agg_parse_http_user(const config_setting_t *t, struct agg_http_user *u,
                    char *err, size_t errsz)
{
	int line = config_setting_source_line(t);

	if (!config_setting_is_group(t) ||
	    agg_team_string(t, "name", &u->name, "") || !*u->name ||
	    strchr(u->name, ':') != NULL) {
		snprintf(err, errsz,
		         "line %d: each user needs a name without ':'", line);
		return OP_EINVAL;
	}
	if (agg_team_string(t, "hash", &u->hash, "") || !*u->hash) {
		snprintf(err, errsz,
		         "line %d: user %s needs hash = \"...\" (from "
		         "mkpasswd -m yescrypt or htpasswd -nB %s)",
		         line, u->name, u->name);
		return OP_EINVAL;
	}
	if (!agg_hash_usable(u->hash)) {
		snprintf(err, errsz,
		         "line %d: the hash of user %s is not a yescrypt, "
		         "bcrypt or SHA-crypt hash crypt(3) can check; make "
		         "one with mkpasswd -m yescrypt or htpasswd -nB %s",
		         line, u->name, u->name);
		return OP_EINVAL;
	}
	return OP_OK;
}

static int
agg_parse_http_users(const config_setting_t *s, void *target, char *err,
                     size_t errsz)
{
	struct agg_conf *c = target;
	int n = config_setting_length(s);

	if (!config_setting_is_list(s)) {
		snprintf(err, errsz,
		         "a list of groups: ( { name = ...; hash = ...; } )");
		return OP_EINVAL;
	}
	agg_free_http_users(c);
	if ((c->http_users = calloc((size_t)n + 1, sizeof(*c->http_users))) ==
	    NULL)
		return OP_ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *t =
		    config_setting_get_elem(s, (unsigned)i);
		c->nhttp_users++;
		if (agg_parse_http_user(t, &c->http_users[i], err, errsz))
			return OP_EINVAL;
		for (int j = 0; j < i; j++) {
			if (strcmp(c->http_users[j].name,
			           c->http_users[i].name) == 0) {
				snprintf(err, errsz,
				         "line %d: user %s is listed twice",
				         config_setting_source_line(t),
				         c->http_users[i].name);
				return OP_EINVAL;
			}
		}
	}
	return OP_OK;
}

static void
agg_free_http_users(void *target)
{
	struct agg_conf *c = target;

	for (size_t i = 0; i < c->nhttp_users; i++) {
		free(c->http_users[i].name);
		free(c->http_users[i].hash);
	}
	free(c->http_users);
	c->http_users = NULL;
	c->nhttp_users = 0;
}

/* Whether t is a token as a bearer credential carries it (RFC 6750's
 * b64token): letters, digits, -._~+/ and '=' at the end only. */
static int
agg_token_ok(const char *t)
{
	size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
	                     "XYZ0123456789-._~+/");

	if (n == 0)
		return 0;
	while (t[n] == '=')
		n++;
	return t[n] == '\0';
}

static int
agg_parse_http_tokens(const config_setting_t *s, void *target, char *err,
                      size_t errsz)
{
	struct agg_conf *c = target;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		snprintf(err, errsz, "a list of strings: [ \"...\" ]");
		return OP_EINVAL;
	}
	agg_free_http_tokens(c);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e =
		    config_setting_get_elem(s, (unsigned)i);
		const char *t = config_setting_get_string(e);
		if (t == NULL || !agg_token_ok(t)) {
			snprintf(err, errsz,
			         "line %d: token %d is %s; use a long random "
			         "string of letters, digits and -._~+/ "
			         "(openssl rand -hex 32)",
			         config_setting_source_line(e), i + 1,
			         t == NULL ? "not a string"
			         : *t      ? "not sendable as a bearer token"
			                   : "empty (anyone could use it)");
			return OP_EINVAL;
		}
		if (op_strlist_add(&c->http_tokens, t))
			return OP_ENOMEM;
	}
	return OP_OK;
}

static void
agg_free_http_tokens(void *target)
{
	struct agg_conf *c = target;

	op_strlist_free(&c->http_tokens);
}

/* Whether the file of setting name can be read; says why not. */
static int
agg_readable(const char *path, const char *name, const char *file)
{
	FILE *fp = fopen(path, "r");

	if (fp != NULL) {
		fclose(fp);
		return OP_OK;
	}
	fprintf(stderr,
	        "opspulse-aggregator: %s: %s %s cannot be read: %s; check the "
	        "path and that the aggregator's user may read it\n",
	        file, name, path, strerror(errno));
	return OP_ECONFIG;
}

/* A passphrase callback that has none: the daemon cannot type one. */
static int
agg_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Whether the readable files cert and key hold a PEM certificate and its
 * private key (without a passphrase); says which is wrong. */
static int
agg_http_tls_pair(const char *cert, const char *key, const char *file)
{
	FILE *cf = fopen(cert, "r"), *kf = fopen(key, "r");
	X509 *x = cf ? PEM_read_X509(cf, NULL, agg_no_passphrase, NULL) : NULL;
	EVP_PKEY *k =
	    kf ? PEM_read_PrivateKey(kf, NULL, agg_no_passphrase, NULL) : NULL;
	int rv = OP_ECONFIG;

	if (x == NULL)
		fprintf(stderr,
		        "opspulse-aggregator: %s: http_tls.cert %s holds no "
		        "PEM certificate\n",
		        file, cert);
	else if (k == NULL)
		fprintf(stderr,
		        "opspulse-aggregator: %s: http_tls.key %s holds no PEM "
		        "private key without a passphrase\n",
		        file, key);
	else if (X509_check_private_key(x, k) != 1)
		fprintf(stderr,
		        "opspulse-aggregator: %s: http_tls.key %s is not the "
		        "key of http_tls.cert %s\n",
		        file, key, cert);
	else
		rv = OP_OK;
	X509_free(x);
	EVP_PKEY_free(k);
	ERR_clear_error(); /* what made x or k NULL, said above */
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	return rv;
}

/* http_tls: both files or neither, each readable, a certificate and its
 * key. */
static int
agg_http_tls_check(struct agg_conf *c, const char *file)
{
	int cert = c->http_tls_cert && *c->http_tls_cert;
	int key = c->http_tls_key && *c->http_tls_key;

	if (cert != key) {
		fprintf(stderr,
		        "opspulse-aggregator: %s: http_tls needs both cert and "
		        "key (PEM files), or neither for plain HTTP\n",
		        file);
		return OP_ECONFIG;
	}
	if (!cert)
		return OP_OK;
	if (agg_readable(c->http_tls_cert, "http_tls.cert", file) ||
	    agg_readable(c->http_tls_key, "http_tls.key", file))
		return OP_ECONFIG;
	return agg_http_tls_pair(c->http_tls_cert, c->http_tls_key, file);
}

static int
agg_targets_check(const struct agg_targets *t, const char *path)
{
	static const char *const levels[] = {"low", "medium", "high", "elite"};
	int level_ok = 0;

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		level_ok |= strcmp(t->delivery_level, levels[i]) == 0;
	if (level_ok && t->toil_ratio >= 0 && t->noise_share >= 0 &&
	    t->alert_mttr_minutes >= 0 && t->recovery_hours >= 0 &&
	    t->disk_full_days >= 0 && t->cpu_p95_pct >= 0 && t->bus_factor >= 1)
		return OP_OK;
	fprintf(stderr,
	        "opspulse-aggregator: %s: targets.delivery_level must be low, "
	        "medium, high or elite, bus_factor >= 1 and the other "
	        "targets >= 0\n",
	        path);
	return OP_ECONFIG;
}

int
agg_conf_load(struct agg_conf *c, const char *file, int *warnings)
{
	struct op_cfg_result res;
	const char *path = file ? file : AGG_DEFAULT_CONFIG;
	int rv;

	memset(c, 0, sizeof(*c));
	rv = op_cfg_load(agg_options, NOPTS, path, file == NULL, c, &res);
	if (warnings)
		*warnings = res.warnings;
	if (rv != OP_OK)
		return rv;
	if (agg_targets_check(&c->targets, path) != OP_OK ||
	    agg_http_tls_check(c, path) != OP_OK)
		return OP_ECONFIG;
	if (c->workers < 1 || c->workers > 64 || c->noise_minutes < 1) {
		fprintf(stderr,
		        "opspulse-aggregator: %s: workers must be 1..64 "
		        "and noise_minutes >= 1\n",
		        path);
		return OP_ECONFIG;
	}
	if (c->retention_days < 0 || c->retention_days > 365000) {
		fprintf(stderr,
		        "opspulse-aggregator: %s: retention_days must be "
		        "0 (keep everything) to 365000\n",
		        path);
		return OP_ECONFIG;
	}
	if (c->request_minute_days < 0 || c->request_minute_days > 365000 ||
	    c->request_rollup_days < 0 || c->request_rollup_days > 365000) {
		fprintf(stderr,
		        "opspulse-aggregator: %s: request_minute_days and "
		        "request_rollup_days must be 0 to 365000\n",
		        path);
		return OP_ECONFIG;
	}
	if (c->request_rollup_days > 0 &&
	    c->request_rollup_days < c->request_minute_days) {
		fprintf(
		    stderr,
		    "opspulse-aggregator: %s: request_rollup_days (%lld) is "
		    "shorter than request_minute_days (%lld); keep the "
		    "hourly rollups at least as long as the minutes\n",
		    path, c->request_rollup_days, c->request_minute_days);
		return OP_ECONFIG;
	}
	if (c->slo_window_days < 1 || c->slo_window_days > 3650) {
		fprintf(stderr,
		        "opspulse-aggregator: %s: slo_window_days must be 1 "
		        "to 3650\n",
		        path);
		return OP_ECONFIG;
	}
	if (c->postmortem_days < 0 || c->postmortem_days > 3650) {
		fprintf(stderr,
		        "opspulse-aggregator: %s: postmortem_days must be 0 "
		        "to 3650 (days after an incident is resolved)\n",
		        path);
		return OP_ECONFIG;
	}
	if (warnings)
		*warnings += slos_conf_warn(c, path);
	c->config_file = strdup(path);
	return c->config_file ? OP_OK : OP_ENOMEM;
}

void
agg_conf_free(struct agg_conf *c)
{
	op_cfg_free(agg_options, NOPTS, c);
	free(c->config_file);
	c->config_file = NULL;
}

void
agg_conf_describe(void)
{
	op_cfg_describe(agg_options, NOPTS, stdout);
}
