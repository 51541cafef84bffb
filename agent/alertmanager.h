/*
 * Prometheus Alertmanager webhook payloads (version 4) into alert events.
 * Each alert is an episode keyed by (fingerprint, startsAt); a "resolved"
 * alert carries its endsAt.  Kept apart from the HTTP side so that a fuzz
 * target can call the parser directly.
 */
#ifndef ALERTMANAGER_H
#define ALERTMANAGER_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "op_error.h"

/* Room for an incident id am-<fingerprint>-<seconds>. */
#define AM_ID_MAX 256

struct am_payload {
	struct agent_event *events; /* n of them, strings borrowed from doc */
	size_t n;
	size_t incidents;      /* of the events, incident records */
	char *ids;             /* AM_ID_MAX bytes per event: incident ids */
	size_t skipped;        /* alerts left out: missing or invalid fields */
	char skip_reason[256]; /* why the last one was left out */
	void *doc;
};

/*
 * Parses body (len bytes).  Each alert becomes an event of c's default
 * env and host; its service is the first of c's webhook_labels present
 * on the alert, else c's default service.  Alerts that fail
 * op_event_validate against now_us are counted in out->skipped.  An alert
 * whose severity label is in c's webhook incident_severities is followed
 * by a record of the incident it opens or updates (SPEC §13.1).
 * Returns OP_OK, or OP_EINVAL with the reason in err when the body is not
 * JSON or not a version 4 payload.  On any return the caller releases out
 * with am_payload_free.
 */
OP_MUSTCHECK int am_parse(const char *body, size_t len,
                          const struct agent_conf *c, int64_t now_us,
                          struct am_payload *out, char *err, size_t errsz);

/* Frees what am_parse allocated in p.  p may be freed twice. */
void am_payload_free(struct am_payload *p);

#endif
