/*
 * The configuration the indicator functions read: teams (members, hours
 * per week, time zone, services), the default time zone, noise_minutes
 * and the scorecard targets, written to opspulse.teams and
 * opspulse.settings at start and on every reload, so that psql and
 * Grafana see what the CLI sees.
 */
#ifndef TEAMS_H
#define TEAMS_H

#include "aggregator.h"
#include "op_error.h"

struct teams_sync;

/* Creates a writer with its own database connection (made lazily).
 * Returns OP_OK or OP_ENOMEM.  Free with teams_sync_free. */
OP_MUSTCHECK int teams_sync_alloc(struct teams_sync **out,
                                  const char *conninfo);
void teams_sync_free(struct teams_sync *t);

/*
 * Replaces the teams and settings in the database with c's, in one
 * statement, and logs the outcome: success, the database unreachable
 * (teams_sync_pending is then true: run again later), or the database
 * refusing them (an unknown time zone, say; logged with what to fix).
 * The log is the only report: the aggregator serves either way, with
 * what the database holds.
 */
void teams_sync_run(struct teams_sync *t, const struct agg_conf *c);

/* Whether the last run could not reach the database. */
int teams_sync_pending(const struct teams_sync *t);

/* Moves the settings a reload changes (teams, timezone, noise_minutes,
 * targets, eol.extended_support) from next into c; next receives c's old
 * ones, for agg_conf_free.  This can't fail. */
void teams_take(struct agg_conf *c, struct agg_conf *next);

#endif
