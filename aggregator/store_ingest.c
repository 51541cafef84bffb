/*
 * The batch write path: one transaction per batch, and per event kind one
 * INSERT ... SELECT FROM unnest(column arrays) ... ON CONFLICT on the SPEC
 * §2.1 keys, so that a batch of thousands of events costs a handful of
 * statements.  The arrays travel in PostgreSQL's binary format: nothing is
 * formatted here or parsed there.  Events stored by their full content
 * carry a content key computed here; aggregator/sql/functions/content_keys.sql
 * defines the same key in SQL.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "op_error.h"
#include "op_time.h"
#include "store.h"
#include "store_encode.h"
#include "store_int.h"

#define STORE_MAX_COLS 18
/* bigint[] columns of one kind, at most. */
#define STORE_MAX_INTS 2
/* PostgreSQL's binary timestamps count from 2000-01-01 00:00:00 UTC. */
#define STORE_PG_EPOCH_US INT64_C(946684800000000)

enum store_type {
	ST_TEXT,
	ST_BIGINT,
	ST_TIME,
	ST_REAL,
	ST_BOOL,
	ST_KEY,
	ST_INTS
};

/* A column type as the kinds below spell it, and as PostgreSQL names it.
 * A bigint[] column travels as the text of its array literal (an array of
 * arrays cannot be unnested row by row), cast in the INSERT. */
static const struct store_type_name {
	char code;
	const char *sql;
	unsigned oid;     /* of the type, which array_recv checks */
	const char *cast; /* applied to the unnested value, or NULL */
} store_types[] = {
    [ST_TEXT] = {'t', "text", 25},
    [ST_BIGINT] = {'i', "bigint", 20},
    [ST_TIME] = {'T', "timestamptz", 1184},
    [ST_REAL] = {'r', "double precision", 701},
    [ST_BOOL] = {'b', "boolean", 16},
    [ST_KEY] = {'k', "uuid", 2950},
    [ST_INTS] = {'a', "text", 25, "::bigint[]"},
};

struct store_row;
typedef void store_bind_fn(struct store_row *r, const op_event *e);
static store_bind_fn bind_deploy, bind_deploy_failure, bind_toil, bind_batch,
    bind_alert, bind_component, bind_maintenance, bind_capacity,
    bind_component_tail, bind_requests, bind_incident, bind_action_item,
    bind_toil_tail, bind_alert_tail, bind_check;

/*
 * One row per event kind: its table; its columns in the order
 * store_bind_event produces them (service, env, host, what its bind
 * appends, agent_id), with their types, one letter each (see
 * store_types); what to do on conflict; and its bind.  A kind whose last column
 * is content_key is stored by its full content: every column before agent_id.
 * "distinct" and "order" keep one row per key within a batch, for the kinds
 * whose conflict clause updates (PostgreSQL cannot update a row twice in one
 * statement).
 *
 * The kinds that do nothing on conflict are first written without ON
 * CONFLICT: a plain INSERT checks the unique key while it inserts, where
 * ON CONFLICT first searches the index, then inserts speculatively and
 * confirms, about a third of the database's work for new events.  A
 * duplicate makes that attempt fail with a unique violation; the batch is
 * then rolled back and written again with ON CONFLICT DO NOTHING.
 */
static const struct store_kind {
	const char *table;
	const char *columns;
	const char *types;
	const char *distinct; /* DISTINCT ON (...), or NULL */
	const char *order;    /* ORDER BY ..., or NULL */
	const char *conflict; /* NULL: ON CONFLICT DO NOTHING */
	store_bind_fn *bind;  /* appends the kind's own columns */
	/* Optional: appends columns after agent_id, which are not part of
	 * the content key (facts about the content, as a component's
	 * distribution). */
	store_bind_fn *bind_tail;
	/* The column naming a part (0: none).  A row whose part is not empty
	 * is identified by it, not by its content: its key is all zeros. */
	int part_col;
} store_kinds[] = {
    [OPSPULSE__V1__EVENT__KIND_DEPLOY] =
        {"deploys",
         "service, env, host, deploy_id, operator, started_at, "
         "finished_at, outcome, version, commit_time, hotfix, agent_id",
         "tttttTTttTbt", NULL, NULL, NULL, bind_deploy},
    [OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE] =
        {"deploy_failures", "service, env, host, deploy_id, at, agent_id",
         "ttttTt", NULL, NULL, NULL, bind_deploy_failure},
    [OPSPULSE__V1__EVENT__KIND_TOIL] =
        /* The incident a toil entry responded to is not part of its content
         * key, so the keys of entries stored before it existed stay the same.
         */
    {"toil",
     "service, env, host, operator, task, started_at, duration_s, "
     "source, agent_id, incident_id, content_key",
     "tttttTitttk", NULL, NULL, NULL, bind_toil, bind_toil_tail},
    [OPSPULSE__V1__EVENT__KIND_BATCH] =
        {"batch_runs",
         "service, env, host, task, started_at, duration_s, outcome, "
         "agent_id, content_key",
         "ttttTittk", NULL, NULL, NULL, bind_batch},
    /* An episode, once it has an end, keeps it; its runbook, once known,
     * too (a later notice without one does not clear it).  The runbook is
     * not part of the episode's key (fingerprint, starts_at, service). */
    [OPSPULSE__V1__EVENT__KIND_ALERT] =
        {"alerts",
         "service, env, host, fingerprint, starts_at, alertname, severity, "
         "ends_at, agent_id, runbook_url",
         "ttttTttTtt", "DISTINCT ON (fingerprint, starts_at, service)",
         "ORDER BY fingerprint, starts_at, service, ends_at NULLS LAST, "
         "runbook_url NULLS LAST",
         "ON CONFLICT (fingerprint, starts_at, service) DO UPDATE SET "
         "ends_at = coalesce(alerts.ends_at, EXCLUDED.ends_at), "
         "runbook_url = coalesce(alerts.runbook_url, EXCLUDED.runbook_url) "
         "WHERE (alerts.ends_at IS NULL AND EXCLUDED.ends_at IS NOT NULL) "
         "OR (alerts.runbook_url IS NULL AND EXCLUDED.runbook_url IS NOT "
         "NULL)",
         bind_alert, bind_alert_tail},
    [OPSPULSE__V1__EVENT__KIND_COMPONENT] =
        {"components",
         "service, env, host, name, version, observed_at, agent_id, "
         "distribution, distribution_version, content_key",
         "tttttTtttk", NULL, NULL, NULL, bind_component, bind_component_tail},
    /* A maintenance item recorded again takes the latest content. */
    [OPSPULSE__V1__EVENT__KIND_MAINTENANCE] =
        {"maintenance",
         "service, env, host, maint_id, component, title, due_at, status, "
         "recorded_at, agent_id",
         "ttttttTtTt", "DISTINCT ON (service, maint_id)",
         "ORDER BY service, maint_id, recorded_at DESC",
         "ON CONFLICT (service, maint_id) DO UPDATE SET env = EXCLUDED.env, "
         "host = EXCLUDED.host, component = EXCLUDED.component, title = "
         "EXCLUDED.title, due_at = EXCLUDED.due_at, status = "
         "EXCLUDED.status, recorded_at = EXCLUDED.recorded_at WHERE "
         "EXCLUDED.recorded_at > maintenance.recorded_at",
         bind_maintenance},
    [OPSPULSE__V1__EVENT__KIND_CAPACITY] =
        {"capacity",
         "service, env, host, at, cpu_pct, mem_pct, mount, "
         "disk_used_bytes, disk_total_bytes, agent_id, content_key",
         "tttTrrtiitk", NULL, NULL, NULL, bind_capacity},
    /* A request minute part (SPEC §12.1): part "" by its content; a named
     * part is replaced by a resend covering a longer range. */
    [OPSPULSE__V1__EVENT__KIND_REQUESTS] =
        {"request_minutes",
         "service, env, host, minute, part, part_end, requests, errors, "
         "timed, latency_upper, latency_count, agent_id, content_key",
         "tttTtiiiiaatk",
         "DISTINCT ON (service, env, minute, host, part, content_key)",
         "ORDER BY service, env, minute, host, part, content_key, "
         "part_end DESC",
         "ON CONFLICT (service, env, minute, host, part, content_key) DO "
         "UPDATE SET part_end = EXCLUDED.part_end, requests = "
         "EXCLUDED.requests, errors = EXCLUDED.errors, timed = "
         "EXCLUDED.timed, latency_upper = EXCLUDED.latency_upper, "
         "latency_count = EXCLUDED.latency_count, agent_id = "
         "EXCLUDED.agent_id, received_at = now() WHERE EXCLUDED.part_end > "
         "request_minutes.part_end",
         bind_requests, NULL, 4},
    /* One record of an incident, by its content (recording time
     * included): the incident is the merge of its records in recording
     * order (functions/incidents.sql).  A field the record does not set
     * is NULL. */
    [OPSPULSE__V1__EVENT__KIND_INCIDENT] =
        {"incident_records",
         "service, env, host, incident_id, recorded_at, severity, title, "
         "started_at, detected_at, acknowledged_at, mitigated_at, "
         "resolved_at, deploy_id, commander, postmortem, postmortem_at, "
         "agent_id, content_key",
         "ttttTitTTTTTtttTtk", NULL, NULL, NULL, bind_incident},
    /* An action item recorded again takes the latest content. */
    [OPSPULSE__V1__EVENT__KIND_ACTION_ITEM] =
        {"action_items",
         "service, env, host, action_id, incident_id, title, owner, due_at, "
         "status, done_at, recorded_at, agent_id",
         "tttttttTtTTt", "DISTINCT ON (service, action_id)",
         "ORDER BY service, action_id, recorded_at DESC",
         "ON CONFLICT (service, action_id) DO UPDATE SET env = EXCLUDED.env, "
         "host = EXCLUDED.host, incident_id = EXCLUDED.incident_id, title = "
         "EXCLUDED.title, owner = EXCLUDED.owner, due_at = EXCLUDED.due_at, "
         "status = EXCLUDED.status, done_at = EXCLUDED.done_at, "
         "recorded_at = EXCLUDED.recorded_at, agent_id = EXCLUDED.agent_id "
         "WHERE EXCLUDED.recorded_at > action_items.recorded_at",
         bind_action_item},
    /* A readiness check record (SPEC §14), by its content. */
    [OPSPULSE__V1__EVENT__KIND_CHECK] =
        {"readiness_checks",
         "service, env, host, check_name, result, evidence, at, agent_id, "
         "content_key",
         "ttttttTtk", NULL, NULL, NULL, bind_check},
};

#define STORE_NKINDS (sizeof(store_kinds) / sizeof(store_kinds[0]))

/* Column types of kind k (from its letters); returns how many. */
static int
store_col_types(const struct store_kind *k, enum store_type *out)
{
	int n = 0;

	for (const char *c = k->types; *c && n < STORE_MAX_COLS; c++) {
		for (size_t t = 0;
		     t < sizeof(store_types) / sizeof(*store_types); t++) {
			if (store_types[t].code == *c)
				out[n] = (enum store_type)t;
		}
		n++;
	}
	return n;
}

/* ---- growable buffers --------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
sb_grow(struct sbuf *b, size_t more)
{
	char *np;
	size_t cap;

	if (b->failed || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->failed = 1;
		return;
	}
	b->p = np;
	b->cap = cap;
}

static void
sb_add(struct sbuf *b, const void *s, size_t n)
{
	sb_grow(b, n);
	if (b->failed)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Appends the low `bytes` bytes of v, most significant first. */
static void
sb_be(struct sbuf *b, uint64_t v, int bytes)
{
	unsigned char out[8];

	for (int i = 0; i < bytes; i++)
		out[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	sb_add(b, out, (size_t)bytes);
}

/* Appends one text array element: NULL, or a double-quoted, escaped
 * string. */
static void
sb_element(struct sbuf *b, const char *v)
{
	const char *run;

	sb_add(b, b->len > 1 ? "," : "", b->len > 1);
	if (v == NULL) {
		sb_str(b, "NULL");
		return;
	}
	sb_add(b, "\"", 1);
	for (run = v; *v; v++) {
		if (*v == '"' || *v == '\\') {
			sb_add(b, run, (size_t)(v - run));
			sb_add(b, "\\", 1);
			run = v;
		}
	}
	sb_str(b, run);
	sb_add(b, "\"", 1);
}

/* ---- binding ------------------------------------------------------------ */

/* One column's value; its type comes from the kind's column list. */
struct store_val {
	const char *s; /* text; the key's bytes */
	int64_t i;     /* bigint, boolean; times in microseconds (Unix) */
	double d;
	int null;
};

struct store_row {
	struct store_val v[STORE_MAX_COLS];
	unsigned char key[STORE_KEY_BYTES];
	int n;
	int agent_col;     /* the column of agent_id */
	struct sbuf *ints; /* text of the bigint[] columns, in order */
	int nints;
};

/* Appends v as r's next column. */
static void
r_put(struct store_row *r, struct store_val v)
{
	OP_ASSERT(r->n < STORE_MAX_COLS);
	r->v[r->n++] = v;
}

static void
r_str(struct store_row *r, const char *s)
{
	r_put(r, (struct store_val){.s = s, .null = s == NULL});
}

/* An optional string: empty is SQL NULL. */
static void
r_opt(struct store_row *r, const char *s)
{
	r_put(r, (struct store_val){.s = s, .null = s == NULL || !*s});
}

static void
r_null(struct store_row *r)
{
	r_put(r, (struct store_val){.null = 1});
}

static void
r_time(struct store_row *r, int64_t us)
{
	r_put(r, (struct store_val){.i = us});
}

/* A time where 0 means unknown: SQL NULL. */
static void
r_opt_time(struct store_row *r, int64_t us)
{
	r_put(r, (struct store_val){.i = us, .null = us == 0});
}

static void
r_int(struct store_row *r, long long v)
{
	r_put(r, (struct store_val){.i = v});
}

static void
r_bool(struct store_row *r, int v)
{
	r_put(r, (struct store_val){.i = v != 0});
}

static void
r_real(struct store_row *r, double v)
{
	r_put(r, (struct store_val){.d = v});
}

static void
bind_deploy(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Deploy *d = e->deploy;

	r_str(r, d->id);
	r_opt(r, e->operator_);
	r_time(r, d->started_us);
	r_time(r, d->finished_us);
	r_str(r, op_outcome_name(d->outcome));
	r_opt(r, d->version);
	r_opt_time(r, d->commit_time_us);
	r_bool(r, d->hotfix);
}

static void
bind_toil(struct store_row *r, const op_event *e)
{
	r_opt(r, e->operator_);
	r_str(r, e->toil->task);
	r_time(r, e->toil->started_us);
	r_int(r, e->toil->duration_s);
	r_str(r, op_toil_source_name(e->toil->source));
}

static void
bind_batch(struct store_row *r, const op_event *e)
{
	r_str(r, e->batch->task);
	r_time(r, e->batch->started_us);
	r_int(r, e->batch->duration_s);
	r_str(r, op_outcome_name(e->batch->outcome));
}

static void
bind_alert(struct store_row *r, const op_event *e)
{
	r_str(r, e->alert->fingerprint);
	r_time(r, e->alert->starts_us);
	r_str(r, e->alert->alertname);
	r_opt(r, e->alert->severity);
	r_opt_time(r, e->alert->ends_us);
}

static void
bind_alert_tail(struct store_row *r, const op_event *e)
{
	r_opt(r, e->alert->runbook_url);
}

static void
bind_check(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Check *c = e->check;

	r_str(r, c->check);
	r_str(r, op_check_result_name(c->result));
	r_str(r, c->evidence ? c->evidence : "");
	r_time(r, c->at_us);
}

static void
bind_maintenance(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Maintenance *m = e->maintenance;

	r_str(r, m->id);
	r_str(r, m->component);
	r_str(r, m->title);
	r_time(r, m->due_us);
	r_str(r, op_maintenance_status_name(m->status));
	r_time(r, e->recorded_us ? e->recorded_us : op_time_now_us());
}

static void
bind_capacity(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Capacity *c = e->capacity;

	r_time(r, c->at_us);
	r_real(r, c->cpu_pct);
	r_real(r, c->mem_pct);
	r_opt(r, c->mount);
	if (c->disk_total_bytes == 0) {
		r_null(r);
		r_null(r);
	} else {
		r_int(r, (long long)c->disk_used_bytes);
		r_int(r, (long long)c->disk_total_bytes);
	}
}

/* Appends the array literal of the n buckets' upper values (upper) or
 * counts as r's next column. */
static void
r_ints(struct store_row *r, const Opspulse__V1__LatencyBucket *const *b,
       size_t n, int upper)
{
	struct sbuf *out;
	char num[24];

	OP_ASSERT(r->nints < STORE_MAX_INTS);
	out = &r->ints[r->nints++];
	out->len = 0;
	sb_add(out, "{", 1);
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(
		    num, sizeof(num), "%s%llu", i ? "," : "",
		    (unsigned long long)(upper ? b[i]->upper_us : b[i]->count));
		sb_add(out, num, (size_t)len);
	}
	sb_add(out, "}", 1);
	r_put(r, (struct store_val){.s = out->failed ? "" : out->p});
}

static void
bind_requests(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Requests *q = e->requests;

	r_time(r, q->minute_us);
	r_str(r, q->part);
	r_int(r, (long long)q->part_end);
	r_int(r, (long long)q->requests);
	r_int(r, (long long)q->errors);
	r_int(r, (long long)q->timed);
	r_ints(r, (const Opspulse__V1__LatencyBucket *const *)q->latency,
	       q->n_latency, 1);
	r_ints(r, (const Opspulse__V1__LatencyBucket *const *)q->latency,
	       q->n_latency, 0);
}

static void
bind_deploy_failure(struct store_row *r, const op_event *e)
{
	r_str(r, e->deploy_failure->id);
	r_time(r, e->deploy_failure->at_us);
}

static void
bind_toil_tail(struct store_row *r, const op_event *e)
{
	r_opt(r, e->toil->incident);
}

/* A string field of an incident record: NULL unless the record sets it. */
static void
r_inc_str(struct store_row *r, const Opspulse__V1__Incident *in, uint32_t bit,
          const char *s)
{
	r_put(r, (struct store_val){.s = s, .null = !(in->fields & bit) || !s});
}

static void
r_inc_time(struct store_row *r, const Opspulse__V1__Incident *in, uint32_t bit,
           int64_t us)
{
	r_put(r, (struct store_val){.i = us, .null = !(in->fields & bit)});
}

static void
bind_incident(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Incident *in = e->incident;

	r_str(r, in->id);
	r_time(r, e->recorded_us ? e->recorded_us : op_time_now_us());
	r_put(r, (struct store_val){
	             .i = in->severity,
	             .null = !(in->fields & OP_INCIDENT_BIT(SEVERITY))});
	r_inc_str(r, in, OP_INCIDENT_BIT(TITLE), in->title);
	r_inc_time(r, in, OP_INCIDENT_BIT(STARTED), in->started_us);
	r_inc_time(r, in, OP_INCIDENT_BIT(DETECTED), in->detected_us);
	r_inc_time(r, in, OP_INCIDENT_BIT(ACKNOWLEDGED), in->acknowledged_us);
	r_inc_time(r, in, OP_INCIDENT_BIT(MITIGATED), in->mitigated_us);
	r_inc_time(r, in, OP_INCIDENT_BIT(RESOLVED), in->resolved_us);
	r_inc_str(r, in, OP_INCIDENT_BIT(DEPLOY), in->deploy);
	r_inc_str(r, in, OP_INCIDENT_BIT(COMMANDER), in->commander);
	r_inc_str(r, in, OP_INCIDENT_BIT(POSTMORTEM), in->postmortem);
	r_inc_time(r, in, OP_INCIDENT_BIT(POSTMORTEM_AT), in->postmortem_us);
}

static void
bind_action_item(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__ActionItem *a = e->action_item;

	r_str(r, a->id);
	r_str(r, a->incident);
	r_str(r, a->title);
	r_str(r, a->owner);
	r_time(r, a->due_us);
	r_str(r, op_action_status_name(a->status));
	r_opt_time(r, a->done_us);
	r_time(r, e->recorded_us ? e->recorded_us : op_time_now_us());
}

static void
bind_component(struct store_row *r, const op_event *e)
{
	r_str(r, e->component->name);
	r_str(r, e->component->version);
	r_time(r, e->component->observed_us);
}

static void
bind_component_tail(struct store_row *r, const op_event *e)
{
	r_opt(r, e->component->distribution);
	r_opt(r, e->component->distribution_version);
}

/* Fills r with the columns of e, an event of kind k.  This can't fail. */
static void
store_bind_event(const struct store_kind *k, struct store_row *r,
                 const op_event *e, const char *agent)
{
	r->n = 0;
	r_str(r, e->service);
	r_str(r, e->env);
	r_str(r, e->host);
	k->bind(r, e);
	r->agent_col = r->n;
	r_str(r, agent);
	if (k->bind_tail)
		k->bind_tail(r, e);
}

/* ---- content keys ------------------------------------------------------- */

static uint64_t
store_real_bits(double d)
{
	uint64_t bits;

	if (d == 0)
		d = 0.0; /* -0 and +0 are the same content */
	memcpy(&bits, &d, sizeof(bits));
	return bits;
}

/* Appends v in the canonical form of functions/content_keys.sql. */
static void
store_canon(struct sbuf *b, enum store_type t, const struct store_val *v)
{
	size_t len;

	if (v->null) {
		sb_add(b, "\0", 1);
		return;
	}
	sb_add(b, "\1", 1);
	switch (t) {
	case ST_TEXT:
	case ST_INTS:
		len = strlen(v->s);
		sb_be(b, len, 4);
		sb_add(b, v->s, len);
		break;
	case ST_REAL:
		sb_be(b, store_real_bits(v->d), 8);
		break;
	default:
		sb_be(b, (uint64_t)v->i, 8);
		break;
	}
}

/* What computing keys needs: fetched once per batch, since OpenSSL's
 * one-shot SHA256() looks the algorithm up (under a lock) on every call. */
struct store_hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
	struct sbuf canon;
	struct sbuf ints[STORE_MAX_INTS]; /* the current row's (store_row) */
};

static void
store_hasher_free(struct store_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h->canon.p);
	for (int i = 0; i < STORE_MAX_INTS; i++)
		free(h->ints[i].p);
}

/*
 * Sets r's content key (its last column) from the table name and every
 * column before agent_id.  Returns OP_OK, or OP_ENOMEM when memory or
 * SHA-256 is not available.
 */
static int
store_key(const struct store_kind *k, const enum store_type *types,
          struct store_row *r, struct store_hasher *h)
{
	const struct store_val table = {.s = k->table};
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (h->md == NULL &&
	    (h->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return OP_ENOMEM;
	if (h->ctx == NULL && (h->ctx = EVP_MD_CTX_new()) == NULL)
		return OP_ENOMEM;
	h->canon.len = 0;
	store_canon(&h->canon, ST_TEXT, &table);
	for (int c = 0; c < r->agent_col; c++)
		store_canon(&h->canon, types[c], &r->v[c]);
	if (h->canon.failed || !EVP_DigestInit_ex2(h->ctx, h->md, NULL) ||
	    !EVP_DigestUpdate(h->ctx, h->canon.p, h->canon.len) ||
	    !EVP_DigestFinal_ex(h->ctx, digest, &len) || len < sizeof(r->key))
		return OP_ENOMEM;
	memcpy(r->key, digest, sizeof(r->key));
	r_put(r, (struct store_val){.s = (const char *)r->key});
	return OP_OK;
}

/* ---- binary array parameters ------------------------------------------ */

/* Offset of the element count in an array's header. */
#define STORE_ARRAY_DIM_AT 12

/* Starts a one-dimensional array of type t; store_array_end sets its
 * length. */
static void
store_array_start(struct sbuf *b, enum store_type t)
{
	b->len = 0;
	sb_be(b, 1, 4); /* dimensions */
	sb_be(b, 0, 4); /* flags: none */
	sb_be(b, store_types[t].oid, 4);
	sb_be(b, 0, 4); /* elements, set at the end */
	sb_be(b, 1, 4); /* lower bound */
}

static void
store_array_end(struct sbuf *b, long n)
{
	if (b->failed)
		return;
	for (int i = 0; i < 4; i++)
		b->p[STORE_ARRAY_DIM_AT + i] =
		    (char)((uint32_t)n >> (24 - 8 * i));
}

/* Appends one element in PostgreSQL's binary format: its length (-1 for
 * NULL) and its value. */
static void
store_element(struct sbuf *b, enum store_type t, const struct store_val *v)
{
	size_t len;

	if (v->null) {
		sb_be(b, UINT32_MAX, 4);
		return;
	}
	switch (t) {
	case ST_TEXT:
	case ST_INTS:
		len = strlen(v->s);
		sb_be(b, len, 4);
		sb_add(b, v->s, len);
		break;
	case ST_TIME:
		sb_be(b, 8, 4);
		sb_be(b, (uint64_t)(v->i - STORE_PG_EPOCH_US), 8);
		break;
	case ST_REAL:
		sb_be(b, 8, 4);
		sb_be(b, store_real_bits(v->d), 8);
		break;
	case ST_BOOL:
		sb_be(b, 1, 4);
		sb_be(b, (uint64_t)v->i, 1);
		break;
	case ST_KEY:
		sb_be(b, STORE_KEY_BYTES, 4);
		sb_add(b, v->s, STORE_KEY_BYTES);
		break;
	default:
		sb_be(b, 8, 4);
		sb_be(b, (uint64_t)v->i, 8);
		break;
	}
}

/* ---- statements --------------------------------------------------------- */

/* The name of kind k's INSERT, with ON CONFLICT (safe) or without. */
static void
store_stmt_name(const struct store_kind *k, int safe, char *buf, size_t size)
{
	snprintf(buf, size, "%s_%s", safe ? "ins" : "add", k->table);
}

/* Whether kind k's INSERT may be tried without ON CONFLICT. */
static int
store_optimistic(const struct store_kind *k)
{
	return k->conflict == NULL;
}

/*
 * Writes the INSERT for kind k: $n is the array of column n, unnested in
 * the select list (in lockstep, and without materialising each array as
 * unnest in FROM would).
 */
static void
store_kind_sql(const struct store_kind *k, int safe, struct sbuf *sql)
{
	enum store_type types[STORE_MAX_COLS];
	int n = store_col_types(k, types);
	char param[64];

	sb_str(sql, "INSERT INTO opspulse.");
	sb_str(sql, k->table);
	sb_str(sql, " AS ");
	sb_str(sql, k->table);
	sb_str(sql, " (");
	sb_str(sql, k->columns);
	sb_str(sql, ") SELECT ");
	if (k->distinct) {
		sb_str(sql, k->distinct);
		sb_str(sql, " * FROM (SELECT ");
	}
	for (int c = 0; c < n; c++) {
		const char *cast = store_types[types[c]].cast;

		snprintf(param, sizeof(param), "%sunnest($%d::%s[])%s",
		         c ? ", " : "", c + 1, store_types[types[c]].sql,
		         cast ? cast : "");
		sb_str(sql, param);
	}
	if (k->distinct) {
		sb_str(sql, ") AS u (");
		sb_str(sql, k->columns);
		sb_str(sql, ") ");
		sb_str(sql, k->order);
	}
	if (safe) {
		sb_str(sql, " ");
		sb_str(sql,
		       k->conflict ? k->conflict : "ON CONFLICT DO NOTHING");
	}
}

static int
store_prepare_one(struct store *s, const char *name, const char *sql, char *err,
                  size_t errsz)
{
	PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return store_failure(s, r, err, errsz);
	PQclear(r);
	return OP_OK;
}

static const char store_sql_services[] =
    "INSERT INTO opspulse.services (service) SELECT DISTINCT "
    "unnest($1::text[]) "
    "ON CONFLICT DO NOTHING";

static const char store_sql_agent[] =
    "INSERT INTO opspulse.agent_spools AS a (agent_id, spool_id, version, "
    "last_seq, dropped_total, events) VALUES ($1, $2, $3, $4, $5, $6) ON "
    "CONFLICT (agent_id, spool_id) DO UPDATE SET version = EXCLUDED.version, "
    "last_seq = greatest(a.last_seq, EXCLUDED.last_seq), dropped_total = "
    "greatest(a.dropped_total, EXCLUDED.dropped_total), events = a.events + "
    "EXCLUDED.events, last_seen = now()";

/* Skipped access-log lines: the greatest total per file and reason (a
 * batch repeating a pair counts once, with its largest total). */
static const char store_sql_line_skips[] =
    "INSERT INTO opspulse.agent_line_skips AS l (agent_id, path, reason, "
    "skipped) SELECT $1, p, r, max(c) FROM unnest($2::text[], $3::text[], "
    "$4::bigint[]) AS u(p, r, c) GROUP BY p, r ON CONFLICT (agent_id, path, "
    "reason) DO UPDATE SET skipped = greatest(l.skipped, EXCLUDED.skipped), "
    "last_seen = now()";

static int
store_prepare_kind(struct store *s, const struct store_kind *k, int safe,
                   char *err, size_t errsz)
{
	struct sbuf sql = {0};
	char name[64];
	int rv;

	store_stmt_name(k, safe, name, sizeof(name));
	store_kind_sql(k, safe, &sql);
	rv = sql.failed ? OP_ENOMEM
	                : store_prepare_one(s, name, sql.p, err, errsz);
	free(sql.p);
	return rv;
}

/*
 * Once per connection (prepared statements die with it), starting from a
 * clean session in case an earlier attempt on this connection stopped
 * halfway.
 */
static int
store_prepare(struct store *s, char *err, size_t errsz)
{
	int rv;

	if (s->prepared)
		return OP_OK;
	if ((rv = store_exec(s, "DEALLOCATE ALL", err, errsz)) != OP_OK)
		return rv;
	for (size_t i = 0; i < STORE_NKINDS; i++) {
		const struct store_kind *k = &store_kinds[i];
		if (k->table == NULL)
			continue;
		if ((rv = store_prepare_kind(s, k, 1, err, errsz)) != OP_OK ||
		    (store_optimistic(k) &&
		     (rv = store_prepare_kind(s, k, 0, err, errsz)) != OP_OK))
			return rv;
	}
	if ((rv = store_prepare_one(s, "ins_agent", store_sql_agent, err,
	                            errsz)) != OP_OK ||
	    (rv = store_prepare_one(s, "ins_services", store_sql_services, err,
	                            errsz)) != OP_OK ||
	    (rv = store_prepare_one(s, "ins_line_skips", store_sql_line_skips,
	                            err, errsz)) != OP_OK)
		return rv;
	s->prepared = 1;
	return OP_OK;
}

/* Runs a prepared statement; *rows is the number of rows it changed.
 * lens and formats as PQexecPrepared's (NULL: every value is text). */
static int
store_run(struct store *s, const char *stmt, int n, const char *const *v,
          const int *lens, const int *formats, long *rows, char *err,
          size_t errsz)
{
	PGresult *r = PQexecPrepared(s->conn, stmt, n, v, lens, formats, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return store_failure(s, r, err, errsz);
	*rows = atol(PQcmdTuples(r));
	PQclear(r);
	return OP_OK;
}

/* ---- batches ------------------------------------------------------------ */

/* Scratch space of one batch, reused from kind to kind. */
struct store_scratch {
	struct sbuf cols[STORE_MAX_COLS];
	struct store_hasher hasher;
};

static void
store_scratch_free(struct store_scratch *w)
{
	for (int c = 0; c < STORE_MAX_COLS; c++)
		free(w->cols[c].p);
	store_hasher_free(&w->hasher);
}

/*
 * Binds event e of kind k into row, with its content key when the kind
 * has one.  Returns OP_OK, or OP_ENOMEM when the key cannot be computed.
 * Every kind's bind must produce exactly the columns of its type string:
 * a mismatch is a bug here, and would send misaligned arrays.
 */
static int
store_bind_row(const struct store_kind *k, const enum store_type *types,
               int ncols, const char *agent, const op_event *e,
               struct store_hasher *h, struct store_row *row)
{
	const int keyed = types[ncols - 1] == ST_KEY;

	row->ints = h->ints;
	row->nints = 0;
	store_bind_event(k, row, e, agent);
	/* Checked before the key reads the columns by their types. */
	OP_ASSERT(row->n == ncols - keyed);
	for (int i = 0; i < row->nints; i++) {
		if (h->ints[i].failed)
			return OP_ENOMEM;
	}
	if (keyed && store_key(k, types, row, h) != OP_OK)
		return OP_ENOMEM;
	if (keyed && k->part_col > 0 && row->v[k->part_col].s[0] != '\0')
		memset(row->key, 0, sizeof(row->key));
	return OP_OK;
}

/* Encodes the events of kind k in b as one binary array per column; *n
 * counts them. */
static int
store_kind_encode(const op_batch *b, size_t kind, struct store_scratch *w,
                  long *n)
{
	const struct store_kind *k = &store_kinds[kind];
	enum store_type types[STORE_MAX_COLS];
	const int ncols = store_col_types(k, types);
	struct store_row row;
	int failed = 0;

	*n = 0;
	for (int c = 0; c < ncols; c++)
		store_array_start(&w->cols[c], types[c]);
	for (size_t i = 0; i < b->n_events; i++) {
		if (b->events[i]->kind_case != kind)
			continue;
		if (store_bind_row(k, types, ncols, b->agent_id, b->events[i],
		                   &w->hasher, &row) != OP_OK)
			return OP_ENOMEM;
		for (int c = 0; c < ncols; c++)
			store_element(&w->cols[c], types[c], &row.v[c]);
		(*n)++;
	}
	for (int c = 0; c < ncols; c++) {
		store_array_end(&w->cols[c], *n);
		failed |= w->cols[c].failed || w->cols[c].len > INT_MAX;
	}
	return failed ? OP_ENOMEM : OP_OK;
}

/* The start of PostgreSQL's binary COPY format: signature, flags, header
 * extension length. */
static const char store_copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0";

/* Encodes the events of kind k in b as COPY's binary rows (each field as
 * an array element is encoded) into w->cols[0]; *n counts them. */
static int
store_kind_encode_rows(const op_batch *b, size_t kind, struct store_scratch *w,
                       long *n)
{
	const struct store_kind *k = &store_kinds[kind];
	enum store_type types[STORE_MAX_COLS];
	const int ncols = store_col_types(k, types);
	struct sbuf *out = &w->cols[0];
	struct store_row row;

	*n = 0;
	out->len = 0;
	sb_add(out, store_copy_header, sizeof(store_copy_header));
	for (size_t i = 0; i < b->n_events; i++) {
		if (b->events[i]->kind_case != kind)
			continue;
		if (store_bind_row(k, types, ncols, b->agent_id, b->events[i],
		                   &w->hasher, &row) != OP_OK)
			return OP_ENOMEM;
		sb_be(out, (uint64_t)ncols, 2);
		for (int c = 0; c < ncols; c++)
			store_element(out, types[c], &row.v[c]);
		(*n)++;
	}
	sb_be(out, UINT16_MAX, 2); /* the trailer: -1 */
	return out->failed || out->len > INT_MAX ? OP_ENOMEM : OP_OK;
}

/*
 * Writes the new events of an optimistic kind by COPY, which stores rows
 * with less work per row than an INSERT of unnested arrays.  Like the
 * plain INSERT, a duplicate fails it with a unique violation, and the
 * batch is written again with INSERT ... ON CONFLICT DO NOTHING.
 */
static int
store_kind_copy(struct store *s, const op_batch *b, size_t kind,
                struct store_scratch *w, uint32_t *stored, char *err,
                size_t errsz)
{
	const struct store_kind *k = &store_kinds[kind];
	struct sbuf sql = {0};
	PGresult *r;
	long n = 0;
	int rv = store_kind_encode_rows(b, kind, w, &n);

	if (rv != OP_OK || n == 0)
		return rv;
	sb_str(&sql, "COPY opspulse.");
	sb_str(&sql, k->table);
	sb_str(&sql, " (");
	sb_str(&sql, k->columns);
	sb_str(&sql, ") FROM STDIN (FORMAT binary)");
	if (sql.failed) {
		free(sql.p);
		return OP_ENOMEM;
	}
	r = PQexec(s->conn, sql.p);
	free(sql.p);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		return store_failure(s, r, err, errsz);
	PQclear(r);
	if (PQputCopyData(s->conn, w->cols[0].p, (int)w->cols[0].len) != 1 ||
	    PQputCopyEnd(s->conn, NULL) != 1)
		return store_failure(s, NULL, err, errsz);
	r = PQgetResult(s->conn);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rv = store_failure(s, r, err, errsz);
		while ((r = PQgetResult(s->conn)) != NULL)
			PQclear(r);
		return rv;
	}
	*stored += (uint32_t)atol(PQcmdTuples(r));
	PQclear(r);
	while ((r = PQgetResult(s->conn)) != NULL)
		PQclear(r);
	return OP_OK;
}

/* Writes the events of one kind, with ON CONFLICT if safe; adds to
 * *stored and *dups. */
static int
store_kind_write(struct store *s, const op_batch *b, size_t kind, int safe,
                 struct store_scratch *w, uint32_t *stored, uint32_t *dups,
                 char *err, size_t errsz)
{
	const struct store_kind *k = &store_kinds[kind];
	const char *params[STORE_MAX_COLS];
	char stmt[64];
	int lens[STORE_MAX_COLS], formats[STORE_MAX_COLS];
	enum store_type types[STORE_MAX_COLS];
	const int ncols = store_col_types(k, types);
	long rows = 0, n = 0;
	int rv;

	if (!safe && store_optimistic(k))
		return store_kind_copy(s, b, kind, w, stored, err, errsz);
	if ((rv = store_kind_encode(b, kind, w, &n)) != OP_OK || n == 0)
		return rv;
	for (int c = 0; c < ncols; c++) {
		params[c] = w->cols[c].p;
		lens[c] = (int)w->cols[c].len;
		formats[c] = 1;
	}
	store_stmt_name(k, safe || !store_optimistic(k), stmt, sizeof(stmt));
	rv =
	    store_run(s, stmt, ncols, params, lens, formats, &rows, err, errsz);
	if (rv != OP_OK)
		return rv;
	*stored += (uint32_t)rows;
	*dups += (uint32_t)(n - rows);
	return OP_OK;
}

/* The batch's services, each once where they repeat in a row. */
static int
store_services(struct store *s, const op_batch *b, char *err, size_t errsz)
{
	struct sbuf arr = {0};
	const char *params[1], *last = NULL;
	long rows;
	int rv;

	sb_add(&arr, "{", 1);
	for (size_t i = 0; i < b->n_events; i++) {
		if (last && strcmp(last, b->events[i]->service) == 0)
			continue;
		last = b->events[i]->service;
		sb_element(&arr, last);
	}
	sb_add(&arr, "}", 1);
	params[0] = arr.p;
	rv = arr.failed ? OP_ENOMEM
	                : store_run(s, "ins_services", 1, params, NULL, NULL,
	                            &rows, err, errsz);
	free(arr.p);
	return rv;
}

static int
store_agent(struct store *s, const op_batch *b, char *err, size_t errsz)
{
	char num[4][24];
	const char *v[6];
	long rows;

	snprintf(num[0], sizeof(num[0]), "%llu",
	         (unsigned long long)b->spool_id);
	snprintf(num[1], sizeof(num[1]), "%llu",
	         (unsigned long long)b->last_seq);
	snprintf(num[2], sizeof(num[2]), "%llu",
	         (unsigned long long)b->dropped_total);
	snprintf(num[3], sizeof(num[3]), "%zu", b->n_events);
	v[0] = b->agent_id;
	v[1] = num[0];
	v[2] = b->agent_version && *b->agent_version ? b->agent_version : NULL;
	v[3] = num[1];
	v[4] = num[2];
	v[5] = num[3];
	return store_run(s, "ins_agent", 6, v, NULL, NULL, &rows, err, errsz);
}

/* The batch's skipped-line totals onto the agent's rows. */
static int
store_line_skips(struct store *s, const op_batch *b, char *err, size_t errsz)
{
	struct sbuf a[3] = {{0}, {0}, {0}};
	const char *v[4];
	char num[24];
	long rows;
	int rv;

	for (int k = 0; k < 3; k++)
		sb_add(&a[k], "{", 1);
	for (size_t i = 0; i < b->n_line_skips; i++) {
		snprintf(num, sizeof(num), "%llu",
		         (unsigned long long)b->line_skips[i]->count);
		sb_element(&a[0], b->line_skips[i]->path);
		sb_element(&a[1], b->line_skips[i]->reason);
		sb_element(&a[2], num);
	}
	for (int k = 0; k < 3; k++)
		sb_add(&a[k], "}", 1);
	v[0] = b->agent_id;
	v[1] = a[0].p;
	v[2] = a[1].p;
	v[3] = a[2].p;
	rv = a[0].failed || a[1].failed || a[2].failed
	         ? OP_ENOMEM
	         : store_run(s, "ins_line_skips", 4, v, NULL, NULL, &rows, err,
	                     errsz);
	for (int k = 0; k < 3; k++)
		free(a[k].p);
	return rv;
}

static int
store_batch_write(struct store *s, const op_batch *b, int safe,
                  uint32_t *stored, uint32_t *dups, char *err, size_t errsz)
{
	struct store_scratch w;
	int rv = OP_OK;

	memset(&w, 0, sizeof(w));
	for (size_t k = 0; rv == OP_OK && k < STORE_NKINDS; k++) {
		if (store_kinds[k].table != NULL)
			rv = store_kind_write(s, b, k, safe, &w, stored, dups,
			                      err, errsz);
	}
	store_scratch_free(&w);
	if (rv == OP_OK && b->n_events > 0)
		rv = store_services(s, b, err, errsz);
	if (rv == OP_OK)
		rv = store_agent(s, b, err, errsz);
	if (rv == OP_OK && b->n_line_skips > 0)
		rv = store_line_skips(s, b, err, errsz);
	return rv;
}

/* One transaction: the whole batch, or nothing. */
static int
store_attempt(struct store *s, const op_batch *b, int safe, uint32_t *stored,
              uint32_t *dups, char *err, size_t errsz)
{
	char ignore[256];
	int rv;

	*stored = *dups = 0;
	if ((rv = store_exec(s, "BEGIN", err, errsz)) != OP_OK)
		return rv;
	rv = store_batch_write(s, b, safe, stored, dups, err, errsz);
	if (rv == OP_OK && (rv = store_exec(s, "COMMIT", err, errsz)) == OP_OK)
		return OP_OK;
	if (rv != OP_EUNAVAIL &&
	    store_exec(s, "ROLLBACK", ignore, sizeof(ignore)) != OP_OK) {
		/* The connection went, and the transaction with it: the
		 * batch's error is the one to report. */
	}
	*stored = *dups = 0;
	return rv;
}

int
store_ingest(struct store *s, const op_batch *b, uint32_t *stored,
             uint32_t *dups, char *err, size_t errsz)
{
	int rv;

	*stored = *dups = 0;
	if ((rv = store_ready_err(s, err, errsz)) != OP_OK)
		return rv;
	if ((rv = store_prepare(s, err, errsz)) != OP_OK)
		return rv;
	rv = store_attempt(s, b, 0, stored, dups, err, errsz);
	/* A duplicate (unique_violation), or a deadlock with a batch holding
	 * the same events: write it again, skipping what is stored. */
	if (rv == OP_EDB && (strcmp(s->sqlstate, "23505") == 0 ||
	                     strcmp(s->sqlstate, "40P01") == 0))
		rv = store_attempt(s, b, 1, stored, dups, err, errsz);
	return rv;
}

/* ---- for the unit tests (store_encode.h) -------------------------------- */

/* Kind kind's row of store_kinds, or NULL when it has none. */
static const struct store_kind *
store_kind_of(int kind)
{
	if (kind <= 0 || (size_t)kind >= STORE_NKINDS ||
	    store_kinds[kind].table == NULL)
		return NULL;
	return &store_kinds[kind];
}

/* Hands w->cols[col] to the caller and frees the rest of w. */
static void
store_scratch_take(struct store_scratch *w, int col, char **out, size_t *len)
{
	*out = w->cols[col].p;
	*len = w->cols[col].len;
	w->cols[col] = (struct sbuf){0};
	store_scratch_free(w);
}

int
store_encode_array(const op_batch *b, int kind, int col, char **out,
                   size_t *len, long *n)
{
	const struct store_kind *k = store_kind_of(kind);
	enum store_type types[STORE_MAX_COLS];
	struct store_scratch w;
	int rv;

	if (k == NULL || col < 0 || col >= store_col_types(k, types))
		return OP_EINVAL;
	memset(&w, 0, sizeof(w));
	rv = store_kind_encode(b, (size_t)kind, &w, n);
	store_scratch_take(&w, col, out, len);
	return rv;
}

int
store_encode_copy(const op_batch *b, int kind, char **out, size_t *len, long *n)
{
	struct store_scratch w;
	int rv;

	if (store_kind_of(kind) == NULL)
		return OP_EINVAL;
	memset(&w, 0, sizeof(w));
	rv = store_kind_encode_rows(b, (size_t)kind, &w, n);
	store_scratch_take(&w, 0, out, len);
	return rv;
}

int
store_content_key(const op_event *e, const char *agent,
                  unsigned char key[STORE_KEY_BYTES])
{
	const struct store_kind *k = store_kind_of((int)e->kind_case);
	enum store_type types[STORE_MAX_COLS];
	struct store_hasher h;
	struct store_row row;
	int ncols, rv;

	if (k == NULL)
		return OP_EINVAL;
	ncols = store_col_types(k, types);
	if (types[ncols - 1] != ST_KEY)
		return OP_EINVAL;
	memset(&h, 0, sizeof(h));
	rv = store_bind_row(k, types, ncols, agent, e, &h, &row);
	if (rv == OP_OK)
		memcpy(key, row.key, STORE_KEY_BYTES);
	store_hasher_free(&h);
	return rv;
}
