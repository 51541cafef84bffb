/*
 * SLOs (SPEC §12.4): the aggregator.slos entries of the configuration,
 * their validation for check-config and reloads, and the writer that puts
 * them into opspulse.slos (with slo_window_days in opspulse.settings) at
 * start and on every reload, where `opspulse slo` reads them.
 */
#ifndef SLOS_H
#define SLOS_H

#include <stddef.h>

#include "aggregator.h"
#include "op_error.h"

struct config_setting_t;

/* The OP_CFG_CUSTOM parser of aggregator.slos: fills c->slos from the
 * list s (c is the struct agg_conf).  On a malformed entry writes
 * "line N: ..." to err and returns OP_EINVAL; OP_ENOMEM when out of
 * memory.  What was parsed is freed by slos_conf_free either way. */
OP_MUSTCHECK int slos_conf_parse(const struct config_setting_t *s, void *c,
                                 char *err, size_t errsz);

/* Frees c->slos (c is the struct agg_conf).  This can't fail. */
void slos_conf_free(void *c);

/* Warns, with file and line, about each SLO whose service no team of c
 * names (only when teams are configured: then a service outside them is
 * most likely misspelt).  Returns the number of warnings. */
int slos_conf_warn(const struct agg_conf *c, const char *file);

struct slos_sync;

/* Creates a writer with its own database connection (made lazily).
 * Returns OP_OK or OP_ENOMEM.  Free with slos_sync_free. */
OP_MUSTCHECK int slos_sync_alloc(struct slos_sync **out, const char *conninfo);
void slos_sync_free(struct slos_sync *t);

/* Replaces the objectives and slo_window_days in the database with c's,
 * in one statement, and logs the outcome (and each SLO service the
 * database has never received an event for).  When the database is
 * unreachable, slos_sync_pending is true: run again later. */
void slos_sync_run(struct slos_sync *t, const struct agg_conf *c);

/* Whether the last run could not reach the database. */
int slos_sync_pending(const struct slos_sync *t);

/* Moves slos and slo_window_days from next into c; next receives c's old
 * ones, for agg_conf_free.  This can't fail. */
void slos_take(struct agg_conf *c, struct agg_conf *next);

#endif
