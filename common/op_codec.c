#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_codec.h"
#include "op_latency.h"
#include "op_error.h"
#include "op_time.h"

/*
 * The checks below return the enum op_limit a value broke (OP_LIMIT_NONE,
 * 0, when it is fine); the public functions turn that into OP_EINVAL.
 */
static int op_fail_limit(enum op_limit limit, char *err, size_t errsz,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
op_fail_limit(enum op_limit limit, char *err, size_t errsz, const char *fmt,
              ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return (int)limit;
}

#define op_fail(err, errsz, ...)                                               \
	op_fail_limit(OP_LIMIT_FIELD, err, errsz, __VA_ARGS__)

/* Is s well-formed UTF-8 (no overlongs, no surrogates)? */
static int
op_utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n, cp;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 &&
		     (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* Checks a string field: length in bytes, UTF-8, and presence if needed. */
static int
op_check_str(const char *name, const char *v, size_t max, int required,
             char *err, size_t errsz)
{
	size_t len = v ? strlen(v) : 0;

	if (required && len == 0)
		return op_fail(err, errsz, "%s is missing", name);
	if (len > max)
		return op_fail_limit(OP_LIMIT_STRING, err, errsz,
		                     "%s is %zu bytes long; the limit is %zu",
		                     name, len, max);
	if (len && !op_utf8_valid((const unsigned char *)v))
		return op_fail(err, errsz, "%s is not valid UTF-8", name);
	return OP_OK;
}

/* An event time must lie in [2000-01-01, now + 1 day]. */
static int
op_check_time(const char *name, int64_t t, int64_t now_us, char *err,
              size_t errsz)
{
	char a[OP_TIME_BUFSZ];

	if (t < OP_TIME_MIN_US || t > now_us + OP_MAX_FUTURE_US)
		return op_fail_limit(
		    OP_LIMIT_TIME, err, errsz,
		    "%s %s is outside 2000-01-01 .. one day from now", name,
		    op_time_format(t, a, sizeof(a)));
	return OP_OK;
}

static int
op_check_duration(const char *name, int64_t d, char *err, size_t errsz)
{
	if (d < 0 || d > OP_MAX_DURATION_S)
		return op_fail(err, errsz, "%s %lld s is outside 0 .. %lld s",
		               name, (long long)d,
		               (long long)OP_MAX_DURATION_S);
	return OP_OK;
}

static int
op_check_outcome(Opspulse__V1__Outcome o, char *err, size_t errsz)
{
	if (op_outcome_name(o) == NULL)
		return op_fail(err, errsz, "outcome is missing or unknown");
	return OP_OK;
}

static int
op_validate_deploy(const Opspulse__V1__Deploy *d, int64_t now, char *err,
                   size_t errsz)
{
	int rv;

	if ((rv = op_check_str("id", d->id, OP_MAX_ID, 1, err, errsz)) ||
	    (rv = op_check_str("version", d->version, OP_MAX_NAME, 0, err,
	                       errsz)) ||
	    (rv =
	         op_check_time("started_at", d->started_us, now, err, errsz)) ||
	    (rv = op_check_time("finished_at", d->finished_us, now, err,
	                        errsz)) ||
	    (rv = op_check_outcome(d->outcome, err, errsz)))
		return rv;
	if (d->commit_time_us != 0 &&
	    (rv = op_check_time("commit_time", d->commit_time_us, now, err,
	                        errsz)))
		return rv;
	if (d->finished_us < d->started_us)
		return op_fail(err, errsz, "finished_at is before started_at");
	return op_check_duration(
	    "deploy duration", (d->finished_us - d->started_us) / OP_US_PER_SEC,
	    err, errsz);
}

static int
op_validate_toil(const Opspulse__V1__Toil *t, int64_t now, char *err,
                 size_t errsz)
{
	int rv;

	if ((rv = op_check_str("task", t->task, OP_MAX_TEXT, 1, err, errsz)) ||
	    (rv = op_check_str("incident", t->incident, OP_MAX_ID, 0, err,
	                       errsz)) ||
	    (rv =
	         op_check_time("started_at", t->started_us, now, err, errsz)) ||
	    (rv = op_check_duration("duration_s", t->duration_s, err, errsz)))
		return rv;
	if (op_toil_source_name(t->source) == NULL)
		return op_fail(err, errsz, "source is missing or unknown");
	return OP_OK;
}

static int
op_validate_batch_run(const Opspulse__V1__BatchRun *b, int64_t now, char *err,
                      size_t errsz)
{
	int rv;

	if ((rv = op_check_str("task", b->task, OP_MAX_TEXT, 1, err, errsz)) ||
	    (rv =
	         op_check_time("started_at", b->started_us, now, err, errsz)) ||
	    (rv = op_check_duration("duration_s", b->duration_s, err, errsz)))
		return rv;
	return op_check_outcome(b->outcome, err, errsz);
}

static int
op_validate_alert(const Opspulse__V1__Alert *a, int64_t now, char *err,
                  size_t errsz)
{
	int rv;

	if ((rv = op_check_str("alertname", a->alertname, OP_MAX_TEXT, 1, err,
	                       errsz)) ||
	    (rv = op_check_str("fingerprint", a->fingerprint, OP_MAX_ID, 1, err,
	                       errsz)) ||
	    (rv = op_check_str("severity", a->severity, OP_MAX_NAME, 0, err,
	                       errsz)) ||
	    (rv = op_check_str("runbook_url", a->runbook_url, OP_MAX_TEXT, 0,
	                       err, errsz)) ||
	    (rv = op_check_time("starts_at", a->starts_us, now, err, errsz)))
		return rv;
	if (a->ends_us == 0)
		return OP_OK;
	if ((rv = op_check_time("ends_at", a->ends_us, now, err, errsz)))
		return rv;
	if (a->ends_us < a->starts_us)
		return op_fail(err, errsz, "ends_at is before starts_at");
	return OP_OK;
}

static int
op_validate_component(const Opspulse__V1__Component *c, int64_t now, char *err,
                      size_t errsz)
{
	int rv;

	if ((rv = op_check_str("name", c->name, OP_MAX_NAME, 1, err, errsz)) ||
	    (rv = op_check_str("version", c->version, OP_MAX_NAME, 1, err,
	                       errsz)) ||
	    (rv = op_check_str("distribution", c->distribution, OP_MAX_NAME, 0,
	                       err, errsz)) ||
	    (rv = op_check_str("distribution_version", c->distribution_version,
	                       OP_MAX_NAME, 0, err, errsz)))
		return rv;
	return op_check_time("observed_at", c->observed_us, now, err, errsz);
}

static int
op_validate_maintenance(const Opspulse__V1__Maintenance *m, int64_t now,
                        char *err, size_t errsz)
{
	int rv;

	if ((rv = op_check_str("id", m->id, OP_MAX_ID, 1, err, errsz)) ||
	    (rv = op_check_str("component", m->component, OP_MAX_NAME, 1, err,
	                       errsz)) ||
	    (rv = op_check_str("title", m->title, OP_MAX_TEXT, 1, err, errsz)))
		return rv;
	if (m->due_us < OP_TIME_MIN_US || m->due_us > now + OP_MAX_DUE_US)
		return op_fail_limit(
		    OP_LIMIT_TIME, err, errsz,
		    "due_at is outside 2000-01-01 .. ten years from now");
	if (op_maintenance_status_name(m->status) == NULL)
		return op_fail(err, errsz, "status is missing or unknown");
	return OP_OK;
}

/* A due date lies within 2000-01-01 .. ten years from now (SPEC §3). */
static int
op_check_due(const char *name, int64_t t, int64_t now, char *err, size_t errsz)
{
	if (t < OP_TIME_MIN_US || t > now + OP_MAX_DUE_US)
		return op_fail_limit(
		    OP_LIMIT_TIME, err, errsz,
		    "%s is outside 2000-01-01 .. ten years from now", name);
	return OP_OK;
}

/* The times an incident record may set, with their names. */
static const struct op_incident_time {
	uint32_t bit;
	const char *name;
	size_t offset;
} op_incident_times[] = {
    {OP_INCIDENT_BIT(STARTED), "started_at",
     offsetof(Opspulse__V1__Incident, started_us)},
    {OP_INCIDENT_BIT(DETECTED), "detected_at",
     offsetof(Opspulse__V1__Incident, detected_us)},
    {OP_INCIDENT_BIT(ACKNOWLEDGED), "acknowledged_at",
     offsetof(Opspulse__V1__Incident, acknowledged_us)},
    {OP_INCIDENT_BIT(MITIGATED), "mitigated_at",
     offsetof(Opspulse__V1__Incident, mitigated_us)},
    {OP_INCIDENT_BIT(RESOLVED), "resolved_at",
     offsetof(Opspulse__V1__Incident, resolved_us)},
    {OP_INCIDENT_BIT(POSTMORTEM_AT), "postmortem_at",
     offsetof(Opspulse__V1__Incident, postmortem_us)},
};

/* The set times are valid event times, and none of detected,
 * acknowledged, mitigated and resolved lies before a started set in the
 * same record. */
static int
op_check_incident_times(const Opspulse__V1__Incident *in, int64_t now,
                        char *err, size_t errsz)
{
	const size_t n = sizeof(op_incident_times) / sizeof(*op_incident_times);
	int rv;

	for (size_t i = 0; i < n; i++) {
		const struct op_incident_time *t = &op_incident_times[i];
		int64_t v = *(const int64_t *)(const void *)((const char *)in +
		                                             t->offset);

		if (!(in->fields & t->bit))
			continue;
		if ((rv = op_check_time(t->name, v, now, err, errsz)))
			return rv;
		if ((in->fields & OP_INCIDENT_BIT(STARTED)) &&
		    t->bit != OP_INCIDENT_BIT(POSTMORTEM_AT) &&
		    v < in->started_us)
			return op_fail(err, errsz,
			               "%s is before started_at; an incident "
			               "is detected, acknowledged, mitigated "
			               "and resolved after it starts",
			               t->name);
	}
	return OP_OK;
}

/* Every bit of the mask names a field of Incident. */
#define OP_INCIDENT_KNOWN_BITS                                                 \
	(OP_INCIDENT_BIT(SEVERITY) | OP_INCIDENT_BIT(TITLE) |                  \
	 OP_INCIDENT_BIT(STARTED) | OP_INCIDENT_BIT(DETECTED) |                \
	 OP_INCIDENT_BIT(ACKNOWLEDGED) | OP_INCIDENT_BIT(MITIGATED) |          \
	 OP_INCIDENT_BIT(RESOLVED) | OP_INCIDENT_BIT(DEPLOY) |                 \
	 OP_INCIDENT_BIT(COMMANDER) | OP_INCIDENT_BIT(POSTMORTEM) |            \
	 OP_INCIDENT_BIT(POSTMORTEM_AT))

static int
op_validate_incident(const Opspulse__V1__Incident *in, int64_t now, char *err,
                     size_t errsz)
{
	int rv;

	if ((rv = op_check_str("id", in->id, OP_MAX_ID, 1, err, errsz)) ||
	    (rv = op_check_str("title", in->title, OP_MAX_TEXT, 0, err,
	                       errsz)) ||
	    (rv = op_check_str("deploy", in->deploy, OP_MAX_ID, 0, err,
	                       errsz)) ||
	    (rv = op_check_str("commander", in->commander, OP_MAX_NAME, 0, err,
	                       errsz)) ||
	    (rv = op_check_str("postmortem", in->postmortem, OP_MAX_TEXT, 0,
	                       err, errsz)))
		return rv;
	if (in->fields & ~OP_INCIDENT_KNOWN_BITS)
		return op_fail(err, errsz,
		               "fields names a field incidents do not have");
	if ((in->fields & OP_INCIDENT_BIT(SEVERITY)) &&
	    (in->severity < 1 || in->severity > 4))
		return op_fail(err, errsz,
		               "severity %u is outside 1 .. 4 (1 is the worst)",
		               (unsigned)in->severity);
	return op_check_incident_times(in, now, err, errsz);
}

static int
op_validate_action_item(const Opspulse__V1__ActionItem *a, int64_t now,
                        char *err, size_t errsz)
{
	int rv;

	if ((rv = op_check_str("id", a->id, OP_MAX_ID, 1, err, errsz)) ||
	    (rv = op_check_str("incident", a->incident, OP_MAX_ID, 1, err,
	                       errsz)) ||
	    (rv =
	         op_check_str("title", a->title, OP_MAX_TEXT, 1, err, errsz)) ||
	    (rv =
	         op_check_str("owner", a->owner, OP_MAX_NAME, 1, err, errsz)) ||
	    (rv = op_check_due("due_at", a->due_us, now, err, errsz)))
		return rv;
	if (op_action_status_name(a->status) == NULL)
		return op_fail(err, errsz,
		               "status is missing or unknown; use open, done "
		               "or cancelled");
	if (a->done_us != 0)
		return op_check_time("done_at", a->done_us, now, err, errsz);
	return OP_OK;
}

/* A readiness check record (SPEC §14): evidence is the reason of an
 * exemption, so exempt needs it. */
static int
op_validate_check(const Opspulse__V1__Check *c, int64_t now, char *err,
                  size_t errsz)
{
	int rv;

	if ((rv =
	         op_check_str("check", c->check, OP_MAX_NAME, 1, err, errsz)) ||
	    (rv = op_check_str("evidence", c->evidence, OP_MAX_TEXT, 0, err,
	                       errsz)) ||
	    (rv = op_check_time("at", c->at_us, now, err, errsz)))
		return rv;
	if (op_check_result_name(c->result) == NULL)
		return op_fail(err, errsz,
		               "result is missing or unknown; use pass, fail "
		               "or exempt");
	if (c->result == OPSPULSE__V1__CHECK_RESULT__CHECK_RESULT_EXEMPT &&
	    (c->evidence == NULL || c->evidence[0] == '\0'))
		return op_fail(err, errsz,
		               "an exemption needs evidence: give the reason "
		               "the check does not apply");
	return OP_OK;
}

static int
op_check_pct(const char *name, double v, char *err, size_t errsz)
{
	if (!isfinite(v) || v < 0 || v > 100)
		return op_fail(err, errsz, "%s must be between 0 and 100",
		               name);
	return OP_OK;
}

static int
op_validate_capacity(const Opspulse__V1__Capacity *c, int64_t now, char *err,
                     size_t errsz)
{
	int rv;

	if ((rv = op_check_time("at", c->at_us, now, err, errsz)) ||
	    (rv = op_check_pct("cpu_pct", c->cpu_pct, err, errsz)) ||
	    (rv = op_check_pct("mem_pct", c->mem_pct, err, errsz)) ||
	    (rv = op_check_str("mount", c->mount, OP_MAX_TEXT, 0, err, errsz)))
		return rv;
	if (c->disk_used_bytes > c->disk_total_bytes)
		return op_fail(
		    err, errsz,
		    "disk_used_bytes is larger than disk_total_bytes");
	return OP_OK;
}

static int
op_validate_latency(const Opspulse__V1__Requests *r, char *err, size_t errsz)
{
	uint64_t sum = 0, prev = 0;

	if (r->n_latency > OP_MAX_LATENCY_BUCKETS)
		return op_fail(err, errsz,
		               "latency has %zu buckets; the limit is %d",
		               r->n_latency, OP_MAX_LATENCY_BUCKETS);
	for (size_t i = 0; i < r->n_latency; i++) {
		const Opspulse__V1__LatencyBucket *b = r->latency[i];

		if (!op_latency_is_upper(b->upper_us))
			return op_fail(
			    err, errsz,
			    "latency bucket %llu us is not a bucket's "
			    "upper value (SPEC 12.2)",
			    (unsigned long long)b->upper_us);
		if (i > 0 && b->upper_us <= prev)
			return op_fail(
			    err, errsz,
			    "latency buckets are not in ascending order");
		if (b->count == 0 || b->count > OP_MAX_MINUTE_REQUESTS)
			return op_fail(
			    err, errsz,
			    "latency bucket count must be 1 to %llu",
			    (unsigned long long)OP_MAX_MINUTE_REQUESTS);
		prev = b->upper_us;
		sum += b->count;
	}
	if (sum != r->timed)
		return op_fail(
		    err, errsz,
		    "timed (%llu) is not the sum of the latency counts "
		    "(%llu)",
		    (unsigned long long)r->timed, (unsigned long long)sum);
	return OP_OK;
}

static int
op_validate_requests(const Opspulse__V1__Requests *r, int64_t now, char *err,
                     size_t errsz)
{
	int rv;

	if ((rv = op_check_time("minute", r->minute_us, now, err, errsz)) ||
	    (rv = op_check_str("part", r->part, OP_MAX_ID, 0, err, errsz)))
		return rv;
	if (r->minute_us % 60000000 != 0)
		return op_fail(
		    err, errsz,
		    "minute must be the start of a UTC minute (seconds "
		    "0)");
	if (r->requests > OP_MAX_MINUTE_REQUESTS)
		return op_fail(err, errsz, "requests must be at most %llu",
		               (unsigned long long)OP_MAX_MINUTE_REQUESTS);
	if (r->errors > r->requests)
		return op_fail(err, errsz, "errors is larger than requests");
	if (r->timed > r->requests)
		return op_fail(
		    err, errsz,
		    "the latency counts add up to more than requests");
	return op_validate_latency(r, err, errsz);
}

static int
op_validate_kind(const op_event *e, int64_t now, char *err, size_t errsz)
{
	int rv;

	switch (e->kind_case) {
	case OPSPULSE__V1__EVENT__KIND_DEPLOY:
		return op_validate_deploy(e->deploy, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE:
		if ((rv = op_check_str("id", e->deploy_failure->id, OP_MAX_ID,
		                       1, err, errsz)))
			return rv;
		return op_check_time("at", e->deploy_failure->at_us, now, err,
		                     errsz);
	case OPSPULSE__V1__EVENT__KIND_TOIL:
		return op_validate_toil(e->toil, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_BATCH:
		return op_validate_batch_run(e->batch, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_ALERT:
		return op_validate_alert(e->alert, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_COMPONENT:
		return op_validate_component(e->component, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_MAINTENANCE:
		return op_validate_maintenance(e->maintenance, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_CAPACITY:
		return op_validate_capacity(e->capacity, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_REQUESTS:
		return op_validate_requests(e->requests, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_INCIDENT:
		return op_validate_incident(e->incident, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_ACTION_ITEM:
		return op_validate_action_item(e->action_item, now, err, errsz);
	case OPSPULSE__V1__EVENT__KIND_CHECK:
		return op_validate_check(e->check, now, err, errsz);
	default:
		return op_fail(err, errsz, "event has no known type");
	}
}

static int
op_event_check(const op_event *e, int64_t now_us, char *err, size_t errsz)
{
	int rv;

	if ((rv = op_check_str("service", e->service, OP_MAX_NAME, 1, err,
	                       errsz)) ||
	    (rv = op_check_str("env", e->env, OP_MAX_ENV, 1, err, errsz)) ||
	    (rv = op_check_str("host", e->host, OP_MAX_HOST, 1, err, errsz)) ||
	    (rv = op_check_str("operator", e->operator_, OP_MAX_NAME, 0, err,
	                       errsz)))
		return rv;
	return op_validate_kind(e, now_us, err, errsz);
}

int
op_event_validate(const op_event *e, int64_t now_us, char *err, size_t errsz)
{
	return op_event_check(e, now_us, err, errsz) ? OP_EINVAL : OP_OK;
}

#define OP_MAX_LINE_SKIPS 1024

static int
op_line_skips_check(const op_batch *b, char *err, size_t errsz)
{
	int rv;

	if (b->n_line_skips > OP_MAX_LINE_SKIPS)
		return op_fail(err, errsz,
		               "line_skips has %zu entries; the limit "
		               "is %d",
		               b->n_line_skips, OP_MAX_LINE_SKIPS);
	for (size_t i = 0; i < b->n_line_skips; i++) {
		if ((rv =
		         op_check_str("line_skips.path", b->line_skips[i]->path,
		                      OP_MAX_TEXT, 1, err, errsz)) ||
		    (rv = op_check_str("line_skips.reason",
		                       b->line_skips[i]->reason, OP_MAX_NAME, 1,
		                       err, errsz)))
			return rv;
	}
	return OP_OK;
}

static int
op_batch_limits(const op_batch *b, int64_t now_us, int *bad_index, char *err,
                size_t errsz)
{
	char why[512];
	int rv;

	*bad_index = -1;
	if ((rv = op_check_str("agent_id", b->agent_id, OP_MAX_HOST, 1, err,
	                       errsz)) ||
	    (rv = op_check_str("agent_version", b->agent_version, OP_MAX_NAME,
	                       0, err, errsz)))
		return rv;
	if (b->n_events > OP_MAX_BATCH_EVENTS)
		return op_fail_limit(OP_LIMIT_BATCH_SIZE, err, errsz,
		                     "batch has %zu events; the limit is %d",
		                     b->n_events, OP_MAX_BATCH_EVENTS);
	if (b->last_seq < b->first_seq)
		return op_fail(err, errsz, "last_seq is below first_seq");
	if ((rv = op_line_skips_check(b, err, errsz)))
		return rv;
	for (size_t i = 0; i < b->n_events; i++) {
		if ((rv = op_event_check(b->events[i], now_us, why,
		                         sizeof(why)))) {
			*bad_index = (int)i;
			return op_fail_limit(
			    (enum op_limit)rv, err, errsz, "event %zu (%s): %s",
			    i, op_event_kind_name(b->events[i]), why);
		}
	}
	return OP_LIMIT_NONE;
}

int
op_batch_check(const op_batch *b, int64_t now_us, int *bad_index,
               enum op_limit *limit, char *err, size_t errsz)
{
	int rv = op_batch_limits(b, now_us, bad_index, err, errsz);

	*limit = (enum op_limit)rv;
	return rv ? OP_EINVAL : OP_OK;
}

int
op_batch_validate(const op_batch *b, int64_t now_us, int *bad_index, char *err,
                  size_t errsz)
{
	enum op_limit limit;

	return op_batch_check(b, now_us, bad_index, &limit, err, errsz);
}

int
op_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);

	if (buf == NULL)
		return OP_ENOMEM;
	*len = protobuf_c_message_pack(m, buf);
	*out = buf;
	return OP_OK;
}

const char *
op_event_kind_name(const op_event *e)
{
	switch (e->kind_case) {
	case OPSPULSE__V1__EVENT__KIND_DEPLOY:
		return "deploy";
	case OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE:
		return "deploy_failure";
	case OPSPULSE__V1__EVENT__KIND_TOIL:
		return "toil";
	case OPSPULSE__V1__EVENT__KIND_BATCH:
		return "batch";
	case OPSPULSE__V1__EVENT__KIND_ALERT:
		return "alert";
	case OPSPULSE__V1__EVENT__KIND_COMPONENT:
		return "component";
	case OPSPULSE__V1__EVENT__KIND_MAINTENANCE:
		return "maintenance";
	case OPSPULSE__V1__EVENT__KIND_CAPACITY:
		return "capacity";
	case OPSPULSE__V1__EVENT__KIND_REQUESTS:
		return "requests";
	case OPSPULSE__V1__EVENT__KIND_INCIDENT:
		return "incident";
	case OPSPULSE__V1__EVENT__KIND_ACTION_ITEM:
		return "action_item";
	default:
		return "unknown";
	}
}

static const char *const op_outcomes[] = {
    [OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS] = "success",
    [OPSPULSE__V1__OUTCOME__OUTCOME_FAILED] = "failed",
    [OPSPULSE__V1__OUTCOME__OUTCOME_ROLLED_BACK] = "rolled_back",
    [OPSPULSE__V1__OUTCOME__OUTCOME_CANCELLED] = "cancelled",
};

static const char *const op_sources[] = {
    [OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_RUN] = "run",
    [OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL] = "manual",
    [OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_SESSION] = "session",
    [OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_IMPORT] = "import",
};

static const char *const op_statuses[] = {
    [OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_SCHEDULED] =
        "scheduled",
    [OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_DONE] = "done",
    [OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_CANCELLED] =
        "cancelled",
};

static const char *const op_action_statuses[] = {
    [OPSPULSE__V1__ACTION_STATUS__ACTION_STATUS_OPEN] = "open",
    [OPSPULSE__V1__ACTION_STATUS__ACTION_STATUS_DONE] = "done",
    [OPSPULSE__V1__ACTION_STATUS__ACTION_STATUS_CANCELLED] = "cancelled",
};

static const char *const op_check_results[] = {
    [OPSPULSE__V1__CHECK_RESULT__CHECK_RESULT_PASS] = "pass",
    [OPSPULSE__V1__CHECK_RESULT__CHECK_RESULT_FAIL] = "fail",
    [OPSPULSE__V1__CHECK_RESULT__CHECK_RESULT_EXEMPT] = "exempt",
};

#define OP_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *
op_name_of(const char *const *names, size_t n, int v)
{
	return v > 0 && (size_t)v < n ? names[v] : NULL;
}

static int
op_parse_name(const char *const *names, size_t n, const char *name, int *v)
{
	for (size_t i = 1; i < n; i++) {
		if (names[i] && strcmp(names[i], name) == 0) {
			*v = (int)i;
			return OP_OK;
		}
	}
	return OP_EINVAL;
}

const char *
op_outcome_name(Opspulse__V1__Outcome o)
{
	return op_name_of(op_outcomes, OP_COUNT(op_outcomes), (int)o);
}

int
op_outcome_parse(const char *name, Opspulse__V1__Outcome *o)
{
	int v;

	if (op_parse_name(op_outcomes, OP_COUNT(op_outcomes), name, &v))
		return OP_EINVAL;
	*o = (Opspulse__V1__Outcome)v;
	return OP_OK;
}

const char *
op_toil_source_name(Opspulse__V1__ToilSource s)
{
	return op_name_of(op_sources, OP_COUNT(op_sources), (int)s);
}

const char *
op_maintenance_status_name(Opspulse__V1__MaintenanceStatus s)
{
	return op_name_of(op_statuses, OP_COUNT(op_statuses), (int)s);
}

int
op_maintenance_status_parse(const char *name,
                            Opspulse__V1__MaintenanceStatus *s)
{
	int v;

	if (op_parse_name(op_statuses, OP_COUNT(op_statuses), name, &v))
		return OP_EINVAL;
	*s = (Opspulse__V1__MaintenanceStatus)v;
	return OP_OK;
}

const char *
op_action_status_name(Opspulse__V1__ActionStatus s)
{
	return op_name_of(op_action_statuses, OP_COUNT(op_action_statuses),
	                  (int)s);
}

int
op_action_status_parse(const char *name, Opspulse__V1__ActionStatus *s)
{
	int v;

	if (op_parse_name(op_action_statuses, OP_COUNT(op_action_statuses),
	                  name, &v))
		return OP_EINVAL;
	*s = (Opspulse__V1__ActionStatus)v;
	return OP_OK;
}

const char *
op_check_result_name(Opspulse__V1__CheckResult r)
{
	return op_name_of(op_check_results, OP_COUNT(op_check_results), (int)r);
}

int
op_check_result_parse(const char *name, Opspulse__V1__CheckResult *r)
{
	int v;

	if (op_parse_name(op_check_results, OP_COUNT(op_check_results), name,
	                  &v))
		return OP_EINVAL;
	*r = (Opspulse__V1__CheckResult)v;
	return OP_OK;
}
