#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_log.h"
#include "query.h"
#include "readiness.h"
#include "store.h"
#include "teams.h"

#define MOD "teams"

struct teams_sync {
	struct store *store;
	int pending;
	int down_logged;
};

/* A growing list of strings; a failed allocation marks it failed. */
struct teams_list {
	char **v;
	size_t n;
	int failed;
};

int
teams_sync_alloc(struct teams_sync **out, const char *conninfo)
{
	struct teams_sync *t = calloc(1, sizeof(*t));

	if (t == NULL || store_alloc(&t->store, conninfo) != OP_OK) {
		free(t);
		return OP_ENOMEM;
	}
	*out = t;
	return OP_OK;
}

void
teams_sync_free(struct teams_sync *t)
{
	if (t == NULL)
		return;
	store_free(t->store);
	free(t);
}

int
teams_sync_pending(const struct teams_sync *t)
{
	return t->pending;
}

static void teams_addf(struct teams_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
teams_addf(struct teams_list *l, const char *fmt, ...)
{
	char **v, *item = NULL;
	va_list ap, ap2;
	int len;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap);
	if (len >= 0 && (item = malloc((size_t)len + 1)) != NULL)
		vsnprintf(item, (size_t)len + 1, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (item == NULL || l->failed ||
	    (v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(item);
		l->failed = 1;
		return;
	}
	l->v = v;
	l->v[l->n++] = item;
}

static void
teams_list_free(struct teams_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* The columns of opspulse.sync_config, in its parameter order. */
enum {
	T_NAME,
	T_MEMBERS,
	T_HOURS,
	T_ZONE,
	T_SVC_TEAM,
	T_SVC,
	T_KEY,
	T_VALUE,
	T_NCOLS
};

static void
teams_collect_teams(const struct agg_conf *c, struct teams_list *cols)
{
	for (size_t i = 0; i < c->nteams; i++) {
		const struct agg_team *t = &c->teams[i];
		teams_addf(&cols[T_NAME], "%s", t->name);
		teams_addf(&cols[T_MEMBERS], "%lld", t->members);
		teams_addf(&cols[T_HOURS], "%.17g", t->hours_per_week);
		teams_addf(&cols[T_ZONE], "%s", t->timezone);
		for (size_t j = 0; j < t->services.n; j++) {
			teams_addf(&cols[T_SVC_TEAM], "%zu", i + 1);
			teams_addf(&cols[T_SVC], "%s", t->services.items[j]);
		}
	}
}

static void
teams_setting(struct teams_list *cols, const char *key, const char *value)
{
	teams_addf(&cols[T_KEY], "%s", key);
	teams_addf(&cols[T_VALUE], "%s", value);
}

static void
teams_setting_num(struct teams_list *cols, const char *key, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.17g", v);
	teams_setting(cols, key, buf);
}

static void
teams_collect_settings(const struct agg_conf *c, struct teams_list *cols)
{
	const struct agg_targets *t = &c->targets;

	teams_setting(cols, "timezone", c->timezone);
	teams_setting_num(cols, "noise_minutes", (double)c->noise_minutes);
	teams_setting_num(cols, "postmortem_days", (double)c->postmortem_days);
	/* Retention of request minutes and their hourly rollups
	 * (functions/health.sql). */
	teams_setting_num(cols, "request_minute_days",
	                  (double)(c->request_minute_days
	                               ? c->request_minute_days
	                               : c->retention_days));
	teams_setting_num(cols, "request_rollup_days",
	                  (double)c->request_rollup_days);
	teams_setting(cols, "target.delivery_level", t->delivery_level);
	teams_setting_num(cols, "target.toil_ratio", t->toil_ratio);
	teams_setting_num(cols, "target.noise_share", t->noise_share);
	teams_setting_num(cols, "target.alert_mttr_minutes",
	                  t->alert_mttr_minutes);
	teams_setting_num(cols, "target.recovery_hours", t->recovery_hours);
	teams_setting_num(cols, "target.disk_full_days", t->disk_full_days);
	teams_setting_num(cols, "target.cpu_p95_pct", t->cpu_p95_pct);
	teams_setting_num(cols, "target.bus_factor", (double)t->bus_factor);
	teams_setting(cols, "eol.extended_support",
	              c->eol_extended_support ? "true" : "false");
}

static void
teams_setting_cb(void *ctx, const char *key, const char *value)
{
	teams_setting(ctx, key, value);
}

/* Writes the columns as array parameters of one sync_config call. */
static int
teams_write(struct teams_sync *t, struct teams_list *cols, char *err,
            size_t errsz)
{
	static const char sql[] =
	    "SELECT opspulse.sync_config($1::text[], $2::bigint[], "
	    "$3::double precision[], $4::text[], $5::integer[], $6::text[], "
	    "$7::text[], $8::text[])";
	char *lits[T_NCOLS] = {NULL};
	int rv = OP_OK;

	for (int i = 0; i < T_NCOLS && rv == OP_OK; i++) {
		if (cols[i].failed || (lits[i] = query_array_literal(
		                           cols[i].v, cols[i].n)) == NULL)
			rv = OP_ENOMEM;
	}
	if (rv == OP_OK)
		rv = store_command(t->store, sql, (const char *const *)lits,
		                   T_NCOLS, err, errsz);
	for (int i = 0; i < T_NCOLS; i++)
		free(lits[i]);
	return rv;
}

static void
teams_log(struct teams_sync *t, const struct agg_conf *c, int rv,
          const char *err)
{
	if (rv == OP_OK) {
		op_info(
		    MOD, "%zu teams and the settings of %s are in the database",
		    c->nteams, c->config_file ? c->config_file : "defaults");
		t->down_logged = 0;
	} else if (rv == OP_EUNAVAIL && !t->down_logged) {
		op_warn(MOD,
		        "cannot write teams and settings yet (%s); retrying "
		        "every few seconds",
		        err);
		t->down_logged = 1;
	} else if (rv != OP_EUNAVAIL) {
		op_error(MOD,
		         "the database refused the teams and settings of %s: "
		         "%s; fix the file and reload (SIGHUP)",
		         c->config_file ? c->config_file : "defaults", err);
	}
}

void
teams_sync_run(struct teams_sync *t, const struct agg_conf *c)
{
	struct teams_list cols[T_NCOLS];
	char err[512] = "";
	int rv;

	memset(cols, 0, sizeof(cols));
	teams_collect_teams(c, cols);
	teams_collect_settings(c, cols);
	rv = readiness_settings(&c->readiness, teams_setting_cb, cols);
	if (rv == OP_OK)
		rv = teams_write(t, cols, err, sizeof(err));
	for (int i = 0; i < T_NCOLS; i++)
		teams_list_free(&cols[i]);
	t->pending = rv == OP_EUNAVAIL;
	teams_log(t, c, rv, err);
}

void
teams_take(struct agg_conf *c, struct agg_conf *next)
{
	struct agg_conf old = *c;

	c->teams = next->teams;
	c->nteams = next->nteams;
	c->timezone = next->timezone;
	c->noise_minutes = next->noise_minutes;
	c->postmortem_days = next->postmortem_days;
	c->readiness = next->readiness;
	c->targets = next->targets;
	c->eol_extended_support = next->eol_extended_support;
	/* Synced as settings: the request retention (teams_collect_settings).
	 */
	c->retention_days = next->retention_days;
	c->request_minute_days = next->request_minute_days;
	c->request_rollup_days = next->request_rollup_days;
	next->teams = old.teams;
	next->nteams = old.nteams;
	next->timezone = old.timezone;
	next->noise_minutes = old.noise_minutes;
	next->postmortem_days = old.postmortem_days;
	next->readiness = old.readiness;
	next->targets = old.targets;
}
