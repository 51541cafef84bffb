#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alertmanager.h"
#include "op_error.h"
#include "op_time.h"

static int am_fail(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
am_fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return OP_EINVAL;
}

/* A string member of obj, or NULL.  Not const because protobuf-c's
 * string fields are char *; nothing writes through them. */
static char *
am_str(json_t *obj, const char *key)
{
	return (char *)(uintptr_t)json_string_value(json_object_get(obj, key));
}

/* The first of the configured labels present (and not empty). */
static char *
am_service(json_t *labels, const struct agent_conf *c)
{
	for (size_t i = 0; i < c->webhook_labels.n; i++) {
		char *v = am_str(labels, c->webhook_labels.items[i]);
		if (v && *v)
			return v;
	}
	return c->service;
}

/* Fills e from one alert object.  Returns OP_OK or OP_EINVAL. */
static int
am_alert(json_t *a, struct agent_event *e, char *err, size_t errsz)
{
	Opspulse__V1__Alert *al = agent_event_alert(e);
	json_t *labels = json_object_get(a, "labels");
	const char *status = am_str(a, "status");
	const char *starts = am_str(a, "startsAt");
	const char *ends = am_str(a, "endsAt");

	if (!json_is_object(a) || !json_is_object(labels))
		return am_fail(err, errsz, "an alert has no labels");
	al->alertname = am_str(labels, "alertname");
	al->severity = am_str(labels, "severity");
	al->fingerprint = am_str(a, "fingerprint");
	/* The alert rule's runbook (SPEC §14 alerts_have_runbooks). */
	al->runbook_url =
	    am_str(json_object_get(a, "annotations"), "runbook_url");
	if (status == NULL ||
	    (strcmp(status, "firing") && strcmp(status, "resolved")))
		return am_fail(err, errsz, "status must be firing or resolved");
	if (starts == NULL ||
	    op_time_parse_rfc3339(starts, 0, &al->starts_us) != OP_OK)
		return am_fail(err, errsz, "startsAt is not an RFC 3339 time");
	/* A firing alert's endsAt is a guess (or zero): only a resolved one
	 * has really ended. */
	if (strcmp(status, "resolved") == 0 &&
	    (ends == NULL ||
	     op_time_parse_rfc3339(ends, 0, &al->ends_us) != OP_OK))
		return am_fail(err, errsz, "endsAt is not an RFC 3339 time");
	return OP_OK;
}

/* Checks the envelope and returns its alerts array, or NULL. */
static json_t *
am_alerts(json_t *doc, char *err, size_t errsz)
{
	const char *version;
	json_t *alerts;

	if (!json_is_object(doc)) {
		am_fail(err, errsz, "the payload is not a JSON object");
		return NULL;
	}
	version = am_str(doc, "version");
	if (version && strcmp(version, "4") != 0) {
		am_fail(err, errsz,
		        "payload version %.16s is not supported; "
		        "Alertmanager sends version 4",
		        version);
		return NULL;
	}
	alerts = json_object_get(doc, "alerts");
	if (!json_is_array(alerts)) {
		am_fail(err, errsz, "the payload has no \"alerts\" array");
		return NULL;
	}
	return alerts;
}

/*
 * When alerts of e's severity open incidents (webhook.incident_severities),
 * adds the record of incident am-<fingerprint>-<startsAt in seconds> after
 * e: its severity and title, started = detected = startsAt, and resolved =
 * endsAt once the alert is resolved (SPEC §13.1).
 */
static void
am_add_incident(struct am_payload *out, const struct agent_event *e,
                const struct agent_conf *c, int64_t now_us)
{
	const Opspulse__V1__Alert *al = e->ev.alert;
	int level = agent_incident_severity(c, al->severity);
	struct agent_event *ie = &out->events[out->n];
	char *id = out->ids + out->n * AM_ID_MAX;
	Opspulse__V1__Incident *in;
	char err[256];

	if (level == 0)
		return;
	ie->ev = e->ev;
	in = agent_event_incident(ie);
	snprintf(id, AM_ID_MAX, "am-%.200s-%lld", al->fingerprint,
	         (long long)(al->starts_us / OP_US_PER_SEC));
	in->id = id;
	in->severity = (uint32_t)level;
	in->title = al->alertname;
	in->started_us = in->detected_us = al->starts_us;
	in->fields = OP_INCIDENT_BIT(SEVERITY) | OP_INCIDENT_BIT(TITLE) |
	             OP_INCIDENT_BIT(STARTED) | OP_INCIDENT_BIT(DETECTED);
	if (al->ends_us != 0) {
		in->resolved_us = al->ends_us;
		in->fields |= OP_INCIDENT_BIT(RESOLVED);
	}
	if (op_event_validate(&ie->ev, now_us, err, sizeof(err)) == OP_OK) {
		out->n++;
		out->incidents++;
		return;
	}
	out->skipped++;
	snprintf(out->skip_reason, sizeof(out->skip_reason), "incident: %.200s",
	         err);
}

/* Turns alert i into the next event; a bad one is counted instead. */
static void
am_add(struct am_payload *out, json_t *a, const struct agent_conf *c,
       int64_t now_us)
{
	struct agent_event *e = &out->events[out->n];
	char err[256];

	agent_event_init(e, c);
	e->ev.operator_ = (char *)"";
	if (json_is_object(a))
		e->ev.service = am_service(json_object_get(a, "labels"), c);
	if (am_alert(a, e, err, sizeof(err)) == OP_OK &&
	    op_event_validate(&e->ev, now_us, err, sizeof(err)) == OP_OK) {
		out->n++;
		am_add_incident(out, e, c, now_us);
		return;
	}
	out->skipped++;
	snprintf(out->skip_reason, sizeof(out->skip_reason), "%s", err);
}

int
am_parse(const char *body, size_t len, const struct agent_conf *c,
         int64_t now_us, struct am_payload *out, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *doc, *alerts;
	size_t n;

	memset(out, 0, sizeof(*out));
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return am_fail(err, errsz, "malformed JSON: %s (line %d)",
		               jerr.text, jerr.line);
	out->doc = doc;
	if ((alerts = am_alerts(doc, err, errsz)) == NULL)
		return OP_EINVAL;
	n = json_array_size(alerts);
	/* An alert and the incident it may open. */
	if ((out->events = calloc(2 * n + 1, sizeof(*out->events))) == NULL ||
	    (out->ids = calloc(2 * n + 1, AM_ID_MAX)) == NULL)
		return OP_ENOMEM;
	for (size_t i = 0; i < n; i++)
		am_add(out, json_array_get(alerts, i), c, now_us);
	return OP_OK;
}

void
am_payload_free(struct am_payload *p)
{
	free(p->events);
	p->events = NULL;
	free(p->ids);
	p->ids = NULL;
	p->n = 0;
	json_decref(p->doc);
	p->doc = NULL;
}
