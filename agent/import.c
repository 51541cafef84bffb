/*
 * One line of the import format into one event.  Each event type is a row
 * naming its fields; each field says where it goes and how it converts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "import.h"
#include "op_error.h"
#include "op_time.h"

enum imp_type {
	T_STR,      /* string */
	T_TIME,     /* RFC 3339 string */
	T_TIME_NUL, /* RFC 3339 string or null (0) */
	T_INT,      /* integer, into int64_t */
	T_U64,      /* non-negative integer, into uint64_t */
	T_REAL,     /* number, into double */
	T_BOOL,     /* true or false, into protobuf_c_boolean */
	T_OUTCOME,  /* outcome name */
	T_SOURCE,   /* toil source name */
	T_STATUS,   /* maintenance status name */
	T_LATENCY,  /* [[duration_ms, count], ...], into the line's histogram */
	T_SEVERITY, /* integer 1-4, into uint32_t */
	T_ACTION,   /* action item status name */
	T_RESULT,   /* readiness check result name */
};

/* Where a value goes: the event's common part or the kind's message. */
enum imp_target { IN_EVENT, IN_KIND };

struct imp_field {
	const char *name;
	enum imp_type type;
	enum imp_target target;
	size_t offset;
	int required;
	uint32_t bit; /* incident: the field's bit in Incident.fields */
};

#define EV(f)        IN_EVENT, offsetof(op_event, f)
#define K(type, f)   IN_KIND, offsetof(type, f)
#define DEPLOY(f)    K(Opspulse__V1__Deploy, f)
#define FAILURE(f)   K(Opspulse__V1__DeployFailure, f)
#define TOIL(f)      K(Opspulse__V1__Toil, f)
#define BATCH(f)     K(Opspulse__V1__BatchRun, f)
#define ALERT(f)     K(Opspulse__V1__Alert, f)
#define COMPONENT(f) K(Opspulse__V1__Component, f)
#define MAINT(f)     K(Opspulse__V1__Maintenance, f)
#define CAPACITY(f)  K(Opspulse__V1__Capacity, f)
#define REQUESTS(f)  K(Opspulse__V1__Requests, f)
#define INCIDENT(f)  K(Opspulse__V1__Incident, f)
#define ACTION(f)    K(Opspulse__V1__ActionItem, f)
#define CHECK(f)     K(Opspulse__V1__Check, f)

/* Fields every type may carry. */
static const struct imp_field imp_common[] = {
    {"service", T_STR, EV(service), 0},
    {"env", T_STR, EV(env), 0},
    {"host", T_STR, EV(host), 0},
    {"operator", T_STR, EV(operator_), 0},
    {NULL},
};

static const struct imp_field imp_deploy[] = {
    {"id", T_STR, DEPLOY(id), 0},
    {"started_at", T_TIME, DEPLOY(started_us), 1},
    {"finished_at", T_TIME, DEPLOY(finished_us), 1},
    {"outcome", T_OUTCOME, DEPLOY(outcome), 1},
    {"version", T_STR, DEPLOY(version), 0},
    {"commit_time", T_TIME_NUL, DEPLOY(commit_time_us), 0},
    {"hotfix", T_BOOL, DEPLOY(hotfix), 0},
    {NULL},
};

static const struct imp_field imp_failure[] = {
    {"id", T_STR, FAILURE(id), 1},
    {"at", T_TIME, FAILURE(at_us), 1},
    {NULL},
};

static const struct imp_field imp_toil[] = {
    {"task", T_STR, TOIL(task), 1},
    {"started_at", T_TIME, TOIL(started_us), 1},
    {"duration_s", T_INT, TOIL(duration_s), 1},
    {"source", T_SOURCE, TOIL(source), 0},
    {"incident", T_STR, TOIL(incident), 0},
    {NULL},
};

static const struct imp_field imp_batch[] = {
    {"task", T_STR, BATCH(task), 1},
    {"started_at", T_TIME, BATCH(started_us), 1},
    {"duration_s", T_INT, BATCH(duration_s), 1},
    {"outcome", T_OUTCOME, BATCH(outcome), 1},
    {NULL},
};

static const struct imp_field imp_alert[] = {
    {"alertname", T_STR, ALERT(alertname), 1},
    {"fingerprint", T_STR, ALERT(fingerprint), 1},
    {"severity", T_STR, ALERT(severity), 0},
    {"starts_at", T_TIME, ALERT(starts_us), 1},
    {"ends_at", T_TIME_NUL, ALERT(ends_us), 0},
    {"runbook_url", T_STR, ALERT(runbook_url), 0},
    {NULL},
};

/* SPEC §14: evidence is required for exempt (checked by the codec). */
static const struct imp_field imp_check[] = {
    {"check", T_STR, CHECK(check), 1},
    {"result", T_RESULT, CHECK(result), 1},
    {"evidence", T_STR, CHECK(evidence), 0},
    {"at", T_TIME, CHECK(at_us), 1},
    {NULL},
};

static const struct imp_field imp_component[] = {
    {"name", T_STR, COMPONENT(name), 1},
    {"version", T_STR, COMPONENT(version), 1},
    {"observed_at", T_TIME, COMPONENT(observed_us), 1},
    {NULL},
};

static const struct imp_field imp_maintenance[] = {
    {"id", T_STR, MAINT(id), 0},
    {"component", T_STR, MAINT(component), 1},
    {"title", T_STR, MAINT(title), 1},
    {"due_at", T_TIME, MAINT(due_us), 1},
    {"status", T_STATUS, MAINT(status), 1},
    {NULL},
};

static const struct imp_field imp_capacity[] = {
    {"at", T_TIME, CAPACITY(at_us), 1},
    {"cpu_pct", T_REAL, CAPACITY(cpu_pct), 1},
    {"mem_pct", T_REAL, CAPACITY(mem_pct), 1},
    {"mount", T_STR, CAPACITY(mount), 0},
    {"disk_used_bytes", T_U64, CAPACITY(disk_used_bytes), 0},
    {"disk_total_bytes", T_U64, CAPACITY(disk_total_bytes), 0},
    {NULL},
};

static const struct imp_field imp_requests[] = {
    {"minute", T_TIME, REQUESTS(minute_us), 1},
    {"requests", T_U64, REQUESTS(requests), 1},
    {"errors", T_U64, REQUESTS(errors), 1},
    {"latency_ms", T_LATENCY, IN_KIND, 0, 0},
    {NULL},
};

/* Each named field sets its bit: a record sets only the fields it names. */
static const struct imp_field imp_incident[] = {
    {"id", T_STR, INCIDENT(id), 1, 0},
    {"severity", T_SEVERITY, INCIDENT(severity), 0, OP_INCIDENT_BIT(SEVERITY)},
    {"title", T_STR, INCIDENT(title), 0, OP_INCIDENT_BIT(TITLE)},
    {"started_at", T_TIME, INCIDENT(started_us), 0, OP_INCIDENT_BIT(STARTED)},
    {"detected_at", T_TIME, INCIDENT(detected_us), 0,
     OP_INCIDENT_BIT(DETECTED)},
    {"acknowledged_at", T_TIME, INCIDENT(acknowledged_us), 0,
     OP_INCIDENT_BIT(ACKNOWLEDGED)},
    {"mitigated_at", T_TIME, INCIDENT(mitigated_us), 0,
     OP_INCIDENT_BIT(MITIGATED)},
    {"resolved_at", T_TIME, INCIDENT(resolved_us), 0,
     OP_INCIDENT_BIT(RESOLVED)},
    {"deploy", T_STR, INCIDENT(deploy), 0, OP_INCIDENT_BIT(DEPLOY)},
    {"commander", T_STR, INCIDENT(commander), 0, OP_INCIDENT_BIT(COMMANDER)},
    {"postmortem", T_STR, INCIDENT(postmortem), 0, OP_INCIDENT_BIT(POSTMORTEM)},
    {"postmortem_at", T_TIME, INCIDENT(postmortem_us), 0,
     OP_INCIDENT_BIT(POSTMORTEM_AT)},
    {NULL},
};

static const struct imp_field imp_action[] = {
    {"id", T_STR, ACTION(id), 1},
    {"incident", T_STR, ACTION(incident), 1},
    {"title", T_STR, ACTION(title), 1},
    {"owner", T_STR, ACTION(owner), 1},
    {"due_at", T_TIME, ACTION(due_us), 1},
    {"status", T_ACTION, ACTION(status), 1},
    {"done_at", T_TIME_NUL, ACTION(done_us), 0},
    {NULL},
};

static void *
imp_set_deploy(struct agent_event *e)
{
	return agent_event_deploy(e);
}

static void *
imp_set_failure(struct agent_event *e)
{
	return agent_event_deploy_failure(e);
}

static void *
imp_set_toil(struct agent_event *e)
{
	Opspulse__V1__Toil *t = agent_event_toil(e);

	t->source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_IMPORT;
	return t;
}

static void *
imp_set_batch(struct agent_event *e)
{
	return agent_event_batch(e);
}

static void *
imp_set_alert(struct agent_event *e)
{
	/* Alerts are not a person's doing. */
	e->ev.operator_ = (char *)"";
	return agent_event_alert(e);
}

static void *
imp_set_component(struct agent_event *e)
{
	e->ev.operator_ = (char *)"";
	return agent_event_component(e);
}

static void *
imp_set_maintenance(struct agent_event *e)
{
	return agent_event_maintenance(e);
}

static void *
imp_set_capacity(struct agent_event *e)
{
	e->ev.operator_ = (char *)"";
	return agent_event_capacity(e);
}

static void *
imp_set_requests(struct agent_event *e)
{
	e->ev.operator_ = (char *)"";
	return agent_event_requests(e);
}

static void *
imp_set_incident(struct agent_event *e)
{
	return agent_event_incident(e);
}

static void *
imp_set_action(struct agent_event *e)
{
	return agent_event_action_item(e);
}

static void *
imp_set_check(struct agent_event *e)
{
	return agent_event_check(e);
}

struct imp_kind {
	const char *name;
	void *(*set)(struct agent_event *e);
	const struct imp_field *fields;
};

static const struct imp_kind imp_kinds[] = {
    {"deploy", imp_set_deploy, imp_deploy},
    {"deploy_failure", imp_set_failure, imp_failure},
    {"toil", imp_set_toil, imp_toil},
    {"batch", imp_set_batch, imp_batch},
    {"alert", imp_set_alert, imp_alert},
    {"component", imp_set_component, imp_component},
    {"maintenance", imp_set_maintenance, imp_maintenance},
    {"capacity", imp_set_capacity, imp_capacity},
    {"requests", imp_set_requests, imp_requests},
    {"incident", imp_set_incident, imp_incident},
    {"action_item", imp_set_action, imp_action},
    {"check", imp_set_check, imp_check},
};

#define IMP_NKINDS (sizeof(imp_kinds) / sizeof(imp_kinds[0]))

static int imp_fail(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
imp_fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return OP_EINVAL;
}

static const char *
imp_want(enum imp_type t)
{
	switch (t) {
	case T_STR:
		return "a string";
	case T_TIME:
		return "an RFC 3339 time such as \"2026-10-05T09:30:00Z\"";
	case T_TIME_NUL:
		return "an RFC 3339 time or null";
	case T_INT:
		return "an integer";
	case T_U64:
		return "a non-negative integer";
	case T_REAL:
		return "a number";
	case T_BOOL:
		return "true or false";
	case T_OUTCOME:
		return "success, failed, rolled_back or cancelled";
	case T_SOURCE:
		return "run, manual, session or import";
	case T_STATUS:
		return "scheduled, done or cancelled";
	case T_SEVERITY:
		return "1, 2, 3 or 4 (1 is the worst)";
	case T_ACTION:
		return "open, done or cancelled";
	case T_RESULT:
		return "pass, fail or exempt";
	case T_LATENCY:
		return "an array of [milliseconds, count] pairs such as "
		       "[[12.5,1100],[480,97]]";
	}
	return "?";
}

static int
imp_source_parse(const char *s, Opspulse__V1__ToilSource *out)
{
	for (int v = 1; op_toil_source_name((Opspulse__V1__ToilSource)v); v++) {
		if (strcmp(s, op_toil_source_name(
		                  (Opspulse__V1__ToilSource)v)) == 0) {
			*out = (Opspulse__V1__ToilSource)v;
			return OP_OK;
		}
	}
	return OP_EINVAL;
}

/* Converts a string value of type t into dst.  Returns OP_OK or
 * OP_EINVAL. */
static int
imp_convert_str(enum imp_type t, const char *s, void *dst)
{
	switch (t) {
	case T_STR:
		*(const char **)dst = s;
		return OP_OK;
	case T_TIME:
	case T_TIME_NUL:
		return op_time_parse_rfc3339(s, 0, dst);
	case T_OUTCOME:
		return op_outcome_parse(s, dst);
	case T_SOURCE:
		return imp_source_parse(s, dst);
	case T_STATUS:
		return op_maintenance_status_parse(s, dst);
	case T_ACTION:
		return op_action_status_parse(s, dst);
	case T_RESULT:
		return op_check_result_parse(s, dst);
	default:
		return OP_EINVAL;
	}
}

/* Converts v into dst according to t.  Returns OP_OK or OP_EINVAL. */
static int
imp_convert(enum imp_type t, json_t *v, void *dst)
{
	switch (t) {
	case T_INT:
		if (!json_is_integer(v))
			return OP_EINVAL;
		*(int64_t *)dst = json_integer_value(v);
		return OP_OK;
	case T_U64:
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return OP_EINVAL;
		*(uint64_t *)dst = (uint64_t)json_integer_value(v);
		return OP_OK;
	case T_SEVERITY:
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 4)
			return OP_EINVAL;
		*(uint32_t *)dst = (uint32_t)json_integer_value(v);
		return OP_OK;
	case T_REAL:
		if (!json_is_number(v))
			return OP_EINVAL;
		*(double *)dst = json_number_value(v);
		return OP_OK;
	case T_BOOL:
		if (!json_is_boolean(v))
			return OP_EINVAL;
		*(protobuf_c_boolean *)dst = json_is_true(v);
		return OP_OK;
	case T_TIME_NUL:
		if (json_is_null(v)) {
			*(int64_t *)dst = 0;
			return OP_OK;
		}
		break;
	default:
		break;
	}
	if (!json_is_string(v))
		return OP_EINVAL;
	return imp_convert_str(t, json_string_value(v), dst);
}

/* The names of k's fields into buf: "task*, started_at*, duration_s*,
 * source" (* required).  This can't fail (truncates). */
static void
imp_field_list(const struct imp_kind *k, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct imp_field *f = k->fields; f->name && n < size; f++) {
		int w = snprintf(buf + n, size - n, "%s%s%s", n ? ", " : "",
		                 f->name, f->required ? "*" : "");
		n += w > 0 ? (size_t)w : 0;
	}
}

void
import_describe(FILE *fp)
{
	char fields[512];

	fputs("types and their fields (* required; every type also takes "
	      "service, env,\nhost and operator):\n",
	      fp);
	for (size_t i = 0; i < IMP_NKINDS; i++) {
		imp_field_list(&imp_kinds[i], fields, sizeof(fields));
		fprintf(fp, "  %-15s %s\n", imp_kinds[i].name, fields);
	}
}

static const struct imp_field *
imp_find(const struct imp_field *fields, const char *name)
{
	for (; fields->name; fields++) {
		if (strcmp(fields->name, name) == 0)
			return fields;
	}
	return NULL;
}

/*
 * The decimal text of a JSON number: what jansson read, for an integer;
 * for a real, the shortest text that reads back as the same double, which
 * is the text of the line for up to 15 significant digits.  Written
 * without an exponent, as op_latency_parse_us reads it.  Returns OP_OK,
 * or OP_EINVAL for a negative or huge value.
 */
static int
imp_number_text(json_t *v, char *buf, size_t size)
{
	char e[40], digits[24];
	double d = json_number_value(v);
	int exp, nd = 0, prec;
	size_t len;

	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf[0] == '-' ? OP_EINVAL : OP_OK;
	}
	if (!(d >= 0) || d > 1e15 || size < 48)
		return OP_EINVAL;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	for (const char *p = e; *p && *p != 'e'; p++) {
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	}
	digits[nd] = '\0';
	exp = atoi(strchr(e, 'e') + 1);
	if (exp < -20)
		return OP_EINVAL;
	if (exp >= nd - 1) { /* a whole number: digits, then zeros */
		len = (size_t)snprintf(buf, size, "%s", digits);
		for (int z = 0; z < exp - nd + 1; z++)
			buf[len++] = '0';
		buf[len] = '\0';
	} else if (exp >= 0) {
		snprintf(buf, size, "%.*s.%s", exp + 1, digits,
		         digits + exp + 1);
	} else { /* 0.000ddd */
		len = (size_t)snprintf(buf, size, "0.");
		for (int z = 0; z < -exp - 1; z++)
			buf[len++] = '0';
		snprintf(buf + len, size - len, "%s", digits);
	}
	return OP_OK;
}

/* One [duration_ms, count] pair of latency_ms into h. */
static int
imp_latency_pair(json_t *pair, struct agent_hist *h, char *err, size_t errsz)
{
	json_t *d = json_array_get(pair, 0), *n = json_array_get(pair, 1);
	char text[64];
	const char *s = text;
	int rv;

	if (!json_is_array(pair) || json_array_size(pair) != 2 ||
	    !json_is_integer(n) || json_integer_value(n) < 1 ||
	    !(json_is_number(d) || json_is_string(d)))
		return imp_fail(err, errsz,
		                "latency_ms must be %s, each count "
		                "a positive integer",
		                imp_want(T_LATENCY));
	if (json_is_string(d))
		s = json_string_value(d);
	else if (imp_number_text(d, text, sizeof(text)) != OP_OK)
		snprintf(text, sizeof(text), "%g", json_number_value(d));
	rv = agent_hist_add(h, s, strlen(s), (uint64_t)json_integer_value(n),
	                    err, errsz);
	return rv == OP_ENOMEM ? imp_fail(err, errsz, "out of memory") : rv;
}

/* latency_ms into h. */
static int
imp_latency(json_t *v, struct agent_hist *h, char *err, size_t errsz)
{
	size_t i;
	json_t *pair;
	int rv;

	if (!json_is_array(v))
		return imp_fail(err, errsz, "latency_ms must be %s",
		                imp_want(T_LATENCY));
	json_array_foreach(v, i, pair)
	{
		if ((rv = imp_latency_pair(pair, h, err, errsz)) != OP_OK)
			return rv;
	}
	return OP_OK;
}

/* Applies every member of obj except "type"; latency_ms goes into h. */
static int
imp_fields(json_t *obj, const struct imp_kind *k, struct agent_event *e,
           void *msg, struct agent_hist *h, char *err, size_t errsz)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		const struct imp_field *f = imp_find(imp_common, key);
		char *base = (char *)&e->ev;

		if (strcmp(key, "type") == 0)
			continue;
		if (f == NULL) {
			f = imp_find(k->fields, key);
			base = msg;
		}
		if (f == NULL) {
			char fields[512];
			imp_field_list(k, fields, sizeof(fields));
			return imp_fail(err, errsz,
			                "unknown field \"%s\" for %s; %s takes "
			                "%s (* required) and service, env, "
			                "host, operator",
			                key, k->name, k->name, fields);
		}
		if (f->type == T_LATENCY) {
			if (imp_latency(v, h, err, errsz) != OP_OK)
				return OP_EINVAL;
			continue;
		}
		if (imp_convert(f->type, v, base + f->offset) != OP_OK)
			return imp_fail(err, errsz, "%s must be %s", key,
			                imp_want(f->type));
		if (f->bit)
			((Opspulse__V1__Incident *)msg)->fields |= f->bit;
	}
	for (const struct imp_field *f = k->fields; f->name; f++) {
		if (f->required && json_object_get(obj, f->name) == NULL) {
			char fields[512];
			imp_field_list(k, fields, sizeof(fields));
			return imp_fail(err, errsz,
			                "%s is missing; %s takes %s (* "
			                "required)",
			                f->name, k->name, fields);
		}
	}
	return OP_OK;
}

static const struct imp_kind *
imp_kind(json_t *obj, char *err, size_t errsz)
{
	json_t *t = json_object_get(obj, "type");

	if (!json_is_string(t)) {
		imp_fail(err, errsz,
		         "\"type\" is missing; it names the event: deploy, "
		         "deploy_failure, toil, batch, alert, component, "
		         "maintenance, capacity, requests, incident, "
		         "action_item or check");
		return NULL;
	}
	for (size_t i = 0; i < IMP_NKINDS; i++) {
		if (strcmp(json_string_value(t), imp_kinds[i].name) == 0)
			return &imp_kinds[i];
	}
	imp_fail(err, errsz, "unknown type \"%.64s\"", json_string_value(t));
	return NULL;
}

/* Fills the ids that may be omitted: derived from the content, so that
 * importing the same line twice stores it once. */
static void
imp_auto_ids(struct import_line *l)
{
	op_event *ev = &l->e.ev;

	if (ev->kind_case == OPSPULSE__V1__EVENT__KIND_DEPLOY &&
	    (ev->deploy->id == NULL || *ev->deploy->id == '\0'))
		ev->deploy->id =
		    agent_deploy_auto_id(ev, l->idbuf, sizeof(l->idbuf));
	if (ev->kind_case == OPSPULSE__V1__EVENT__KIND_MAINTENANCE &&
	    (ev->maintenance->id == NULL || *ev->maintenance->id == '\0'))
		ev->maintenance->id =
		    agent_maintenance_auto_id(ev, l->idbuf, sizeof(l->idbuf));
}

int
import_parse_line(const char *line, size_t len, const struct agent_conf *c,
                  int64_t now_us, struct import_line *out, char *err,
                  size_t errsz)
{
	const struct imp_kind *k;
	json_error_t jerr;
	json_t *doc;
	void *msg;
	int rv;

	memset(out, 0, sizeof(*out));
	doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return imp_fail(err, errsz, "not JSON: %s (column %d)",
		                jerr.text, jerr.column);
	out->doc = doc;
	if (!json_is_object(doc))
		return imp_fail(err, errsz, "a line must be one JSON object");
	if ((k = imp_kind(doc, err, errsz)) == NULL)
		return OP_EINVAL;
	agent_event_init(&out->e, c);
	/* The kind first: its defaults are then overridden by the line. */
	msg = k->set(&out->e);
	if ((rv = imp_fields(doc, k, &out->e, msg, &out->hist, err, errsz)) !=
	    OP_OK)
		return rv;
	if (out->e.ev.kind_case == OPSPULSE__V1__EVENT__KIND_REQUESTS &&
	    agent_hist_finish(&out->hist, msg) != OP_OK)
		return imp_fail(err, errsz, "out of memory");
	imp_auto_ids(out);
	return op_event_validate(&out->e.ev, now_us, err, errsz);
}

void
import_line_clear(struct import_line *l)
{
	json_decref(l->doc);
	l->doc = NULL;
	agent_hist_free(&l->hist);
}
