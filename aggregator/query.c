#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_time.h"
#include "query.h"

/*
 * Parameters every query may use: $1 since, $2 until (timestamptz text),
 * $3 environment, $4 services (text[] literal, NULL for all), $5 team
 * (NULL for any), $6 grouping ("by").
 */
#define QUERY_ARGS    "($1::timestamptz, $2::timestamptz, $3, $4::text[], $5)"
#define QUERY_STD(fn) "SELECT * FROM opspulse." fn QUERY_ARGS

/* One row per indicator and grouping: the SQL function of SPEC §4 that
 * computes it.  by is NULL for a command's default grouping. */
static const struct query_def {
	const char *name;
	const char *by;
	const char *sql;
} query_defs[] = {
    {"dora", NULL,
     "SELECT * FROM opspulse.dora($1::timestamptz, $2::timestamptz, $3, "
     "opspulse.team_services($4::text[], $5))"},
    {"toil", NULL, QUERY_STD("toil")},
    {"toil", "task", QUERY_STD("toil_by_task")},
    {"toil", "team", QUERY_STD("toil_by_team")},
    {"alerts", NULL, QUERY_STD("alerts")},
    {"alerts", "rule", QUERY_STD("alerts_by_rule")},
    {"eol", NULL, QUERY_STD("eol")},
    {"maintenance", NULL, QUERY_STD("maintenance")},
    {"capacity", NULL, QUERY_STD("capacity")},
    {"batches", NULL, QUERY_STD("batches")},
    {"health", NULL, QUERY_STD("health")},
    {"slo", NULL, QUERY_STD("slo")},
    {"slo", "month", QUERY_STD("slo_by_month")},
    {"incidents", NULL, QUERY_STD("incidents")},
    {"incidents", "incident", QUERY_STD("incidents_by_incident")},
    {"actions", NULL, QUERY_STD("actions")},
    {"scorecard", NULL, QUERY_STD("scorecard")},
    {"readiness", NULL, QUERY_STD("readiness")},
    {"readiness", "service", QUERY_STD("readiness_by_service")},
    {"services", NULL, QUERY_STD("service_list")},
    {"agents", NULL, "SELECT * FROM opspulse.agents()"},
    {"weekly", NULL, QUERY_STD("weekly")},
    /* The review report's action list and the rules it names. */
    {"report_actions", NULL, QUERY_STD("report_actions")},
    {"report_rules", NULL, "SELECT * FROM opspulse.report_rules()"},
    /* The report's readiness section and its actions. */
    {"ready_report", NULL, QUERY_STD("report_readiness")},
    {"ready_actions", NULL, QUERY_STD("report_readiness_actions")},
    {"report_incidents", NULL, QUERY_STD("report_incident_actions")},
};

#define QUERY_NDEFS (sizeof(query_defs) / sizeof(query_defs[0]))

/* Whether two groupings are the same; NULL is the default one. */
static int
query_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Writes to err which groupings name has. */
static void
query_groupings(const char *name, char *err, size_t errsz)
{
	size_t len = (size_t)snprintf(err, errsz, "%s takes", name);
	int n = 0;

	for (size_t i = 0; i < QUERY_NDEFS && len < errsz; i++) {
		if (strcmp(query_defs[i].name, name) != 0 || !query_defs[i].by)
			continue;
		len += (size_t)snprintf(err + len, errsz - len, "%s --by %s",
		                        n++ ? " or" : "", query_defs[i].by);
	}
	if (n == 0 && len < errsz)
		snprintf(err + len, errsz - len, " no --by");
}

/* Finds the row of (name, by).  Returns OP_OK with *out set, or
 * OP_ENOTFOUND / OP_EINVAL with err saying what exists. */
static int
query_find(const char *name, const char *by, const struct query_def **out,
           char *err, size_t errsz)
{
	int known = 0;

	for (size_t i = 0; i < QUERY_NDEFS; i++) {
		if (strcmp(query_defs[i].name, name) != 0)
			continue;
		known = 1;
		if (query_same(query_defs[i].by, by)) {
			*out = &query_defs[i];
			return OP_OK;
		}
	}
	if (!known) {
		snprintf(err, errsz, "unknown query '%s'", name);
		return OP_ENOTFOUND;
	}
	query_groupings(name, err, errsz);
	return OP_EINVAL;
}

char *
query_array_literal(char *const *items, size_t n)
{
	size_t size = 3;
	char *buf, *p;

	for (size_t i = 0; i < n; i++)
		size += items[i] ? 2 * strlen(items[i]) + 3 : 5;
	if ((p = buf = malloc(size)) == NULL)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		if (items[i] == NULL) {
			memcpy(p, "NULL", 4);
			p += 4;
			continue;
		}
		*p++ = '"';
		for (const char *c = items[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return buf;
}

/* A --team must name a configured team: a typo would otherwise look like
 * a team without data. */
static int
query_check_team(struct store *s, const char *team, char *err, size_t errsz)
{
	static const char sql[] =
	    "SELECT coalesce(bool_or(name = $1), false), "
	    "coalesce(string_agg(name, ', ' ORDER BY name), '') "
	    "FROM opspulse.teams";
	Opspulse__V1__QueryResult *r = NULL;
	const char *params[1] = {team};
	int rv = store_query(s, sql, params, 1, &r, err, errsz);
	const char *known;

	if (rv != OP_OK)
		return rv;
	known = r->n_rows == 1 ? r->rows[0]->cells[1]->text : "";
	if (r->n_rows != 1 || r->rows[0]->cells[0]->text[0] != 't') {
		rv = OP_EINVAL;
		if (*known)
			snprintf(err, errsz,
			         "unknown team '%s'; configured teams: %s",
			         team, known);
		else
			snprintf(err, errsz,
			         "unknown team '%s'; no teams are configured "
			         "(aggregator.teams in aggregator.conf)",
			         team);
	}
	store_result_free(r);
	return rv;
}

/* Each --service must be one with events, one a team lists or one with
 * an SLO: a typo would otherwise give an empty answer. */
static int
query_check_services(struct store *s, const char *services, char *err,
                     size_t errsz)
{
	static const char sql[] =
	    "WITH k AS (SELECT service FROM opspulse.services UNION "
	    "SELECT unnest(services) FROM opspulse.teams UNION "
	    "SELECT service FROM opspulse.slos) "
	    "SELECT (SELECT string_agg(quote_literal(x), ', ') FROM "
	    "unnest($1::text[]) x "
	    "        WHERE x NOT IN (SELECT service FROM k)), "
	    "       (SELECT string_agg(service, ', ' ORDER BY service) "
	    "        FROM (SELECT service FROM k ORDER BY service LIMIT 30) "
	    "l), "
	    "       (SELECT count(*) FROM k)";
	Opspulse__V1__QueryResult *r = NULL;
	const char *params[1] = {services};
	int rv = store_query(s, sql, params, 1, &r, err, errsz);

	if (rv != OP_OK)
		return rv;
	if (r->n_rows == 1 && r->rows[0]->cells[0]->text[0]) {
		const char *known = r->rows[0]->cells[1]->text;
		long n = strtol(r->rows[0]->cells[2]->text, NULL, 10);
		rv = OP_EINVAL;
		if (*known)
			snprintf(err, errsz,
			         "unknown service %s; known services: %s%s "
			         "(opspulse services lists them)",
			         r->rows[0]->cells[0]->text, known,
			         n > 30 ? ", ..." : "");
		else
			snprintf(err, errsz,
			         "unknown service %s; no service has recorded "
			         "events yet",
			         r->rows[0]->cells[0]->text);
	}
	store_result_free(r);
	return rv;
}

/* s, or NULL for an unset (empty) protobuf string. */
static const char *
query_opt(const char *s)
{
	return s && *s ? s : NULL;
}

int
query_run(struct store *s, const Opspulse__V1__QueryRequest *req,
          Opspulse__V1__QueryResult **out, char *err, size_t errsz)
{
	const struct query_def *q;
	char since[OP_TIME_BUFSZ], until[OP_TIME_BUFSZ], *services = NULL;
	int64_t until_us = req->until_us ? req->until_us : op_time_now_us();
	int64_t since_us =
	    req->since_us ? req->since_us : until_us - QUERY_DEFAULT_WINDOW_US;
	const char *params[6];
	int rv;

	if ((rv = query_find(req->name, query_opt(req->by), &q, err, errsz)))
		return rv;
	if (since_us >= until_us) {
		snprintf(err, errsz,
		         "the window is empty: since must be before "
		         "until");
		return OP_EINVAL;
	}
	if (query_opt(req->team) &&
	    (rv = query_check_team(s, req->team, err, errsz)) != OP_OK)
		return rv;
	if (req->n_services && (services = query_array_literal(
	                            req->services, req->n_services)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return OP_ENOMEM;
	}
	if (services &&
	    (rv = query_check_services(s, services, err, errsz)) != OP_OK) {
		free(services);
		return rv;
	}
	params[0] = op_time_format(since_us, since, sizeof(since));
	params[1] = op_time_format(until_us, until, sizeof(until));
	params[2] = query_opt(req->env) ? req->env : "production";
	params[3] = services;
	params[4] = query_opt(req->team);
	params[5] = query_opt(req->by);
	rv = store_query(s, q->sql, params, 6, out, err, errsz);
	free(services);
	if (rv == OP_OK) {
		(*out)->since_us = since_us;
		(*out)->until_us = until_us;
	}
	return rv;
}
