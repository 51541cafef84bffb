/*
 * The readiness block of aggregator.conf (SPEC §14): how long a manual
 * check stays valid, which batch tasks are backups and restores, and the
 * manual checks every service is asked for.  Written to the database as
 * settings (teams.c) at start and on SIGHUP; functions/readiness.sql
 * reads them.
 */
#ifndef READINESS_H
#define READINESS_H

#include <libconfig.h>

#include "aggregator.h"
#include "op_error.h"

/*
 * op_cfg custom parser of "aggregator.readiness" (target: struct
 * agg_conf).  Refuses, with the offending line in err, an unknown key, a
 * cycle_days outside 1 .. 3650, a glob other than text with * and ?, and
 * an empty or repeated manual check.  Returns OP_OK, OP_EINVAL or
 * OP_ENOMEM; what it allocated is freed by readiness_conf_free.
 */
int readiness_conf_parse(const config_setting_t *s, void *target, char *err,
                         size_t errsz);
void readiness_conf_free(void *target);

/*
 * Calls add(ctx, key, value) for each setting functions/readiness.sql
 * reads: readiness.cycle_days, and readiness.backup_tasks,
 * .restore_tasks, .manual_checks as their items joined by newlines.
 * Gives the defaults when r->set is 0.  Returns OP_OK or OP_ENOMEM.
 */
OP_MUSTCHECK int readiness_settings(const struct agg_readiness *r,
                                    void (*add)(void *ctx, const char *key,
                                                const char *value),
                                    void *ctx);

#endif
