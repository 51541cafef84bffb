#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "op_error.h"
#include "op_time.h"
#include "spool.h"

void
agent_event_init(struct agent_event *e, const struct agent_conf *c)
{
	static char none[] = "";
	char *op = getenv("SUDO_USER");

	if (op == NULL || *op == '\0')
		op = getenv("USER");
	memset(e, 0, sizeof(*e));
	opspulse__v1__event__init(&e->ev);
	e->ev.service = c->service;
	e->ev.env = c->environment;
	e->ev.host = c->host;
	e->ev.operator_ = op ? op : none;
	e->ev.recorded_us = op_time_now_us();
}

Opspulse__V1__Deploy *
agent_event_deploy(struct agent_event *e)
{
	opspulse__v1__deploy__init(&e->u.deploy);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY;
	e->ev.deploy = &e->u.deploy;
	return &e->u.deploy;
}

Opspulse__V1__DeployFailure *
agent_event_deploy_failure(struct agent_event *e)
{
	opspulse__v1__deploy_failure__init(&e->u.deploy_failure);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE;
	e->ev.deploy_failure = &e->u.deploy_failure;
	return &e->u.deploy_failure;
}

Opspulse__V1__Toil *
agent_event_toil(struct agent_event *e)
{
	opspulse__v1__toil__init(&e->u.toil);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
	e->ev.toil = &e->u.toil;
	return &e->u.toil;
}

Opspulse__V1__BatchRun *
agent_event_batch(struct agent_event *e)
{
	opspulse__v1__batch_run__init(&e->u.batch);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_BATCH;
	e->ev.batch = &e->u.batch;
	return &e->u.batch;
}

Opspulse__V1__Alert *
agent_event_alert(struct agent_event *e)
{
	opspulse__v1__alert__init(&e->u.alert);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_ALERT;
	e->ev.alert = &e->u.alert;
	return &e->u.alert;
}

Opspulse__V1__Component *
agent_event_component(struct agent_event *e)
{
	opspulse__v1__component__init(&e->u.component);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_COMPONENT;
	e->ev.component = &e->u.component;
	return &e->u.component;
}

Opspulse__V1__Maintenance *
agent_event_maintenance(struct agent_event *e)
{
	opspulse__v1__maintenance__init(&e->u.maintenance);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_MAINTENANCE;
	e->ev.maintenance = &e->u.maintenance;
	return &e->u.maintenance;
}

Opspulse__V1__Capacity *
agent_event_capacity(struct agent_event *e)
{
	opspulse__v1__capacity__init(&e->u.capacity);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_CAPACITY;
	e->ev.capacity = &e->u.capacity;
	return &e->u.capacity;
}

Opspulse__V1__Requests *
agent_event_requests(struct agent_event *e)
{
	opspulse__v1__requests__init(&e->u.requests);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_REQUESTS;
	e->ev.requests = &e->u.requests;
	return &e->u.requests;
}

Opspulse__V1__Incident *
agent_event_incident(struct agent_event *e)
{
	opspulse__v1__incident__init(&e->u.incident);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_INCIDENT;
	e->ev.incident = &e->u.incident;
	return &e->u.incident;
}

Opspulse__V1__ActionItem *
agent_event_action_item(struct agent_event *e)
{
	opspulse__v1__action_item__init(&e->u.action_item);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_ACTION_ITEM;
	e->ev.action_item = &e->u.action_item;
	return &e->u.action_item;
}

Opspulse__V1__Check *
agent_event_check(struct agent_event *e)
{
	opspulse__v1__check__init(&e->u.check);
	e->ev.kind_case = OPSPULSE__V1__EVENT__KIND_CHECK;
	e->ev.check = &e->u.check;
	return &e->u.check;
}

static uint64_t
agent_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static uint64_t
agent_fnv_str(uint64_t h, const char *s)
{
	/* Include the terminator so that ("ab","c") differs from ("a","bc"). */
	return agent_fnv1a(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

char *
agent_deploy_auto_id(const op_event *e, char *buf, size_t size)
{
	const Opspulse__V1__Deploy *d = e->deploy;
	uint64_t h = UINT64_C(14695981039346656037);

	h = agent_fnv_str(h, e->service);
	h = agent_fnv_str(h, e->env);
	h = agent_fnv_str(h, e->host);
	h = agent_fnv1a(h, &d->started_us, sizeof(d->started_us));
	h = agent_fnv1a(h, &d->finished_us, sizeof(d->finished_us));
	h = agent_fnv_str(h, d->version);
	snprintf(buf, size, "auto-%016" PRIx64, h);
	return buf;
}

char *
agent_maintenance_auto_id(const op_event *e, char *buf, size_t size)
{
	const Opspulse__V1__Maintenance *m = e->maintenance;
	uint64_t h = UINT64_C(14695981039346656037);

	/* Not the status nor the due date: recording the same item again
	 * with a new status or date updates it. */
	h = agent_fnv_str(h, e->service);
	h = agent_fnv_str(h, m->component);
	h = agent_fnv_str(h, m->title);
	snprintf(buf, size, "auto-%016" PRIx64, h);
	return buf;
}

int
agent_record(const struct agent_conf *c, op_event *const *events, size_t n)
{
	uint8_t **bufs = calloc(n ? n : 1, sizeof(*bufs));
	size_t *lens = calloc(n ? n : 1, sizeof(*lens));
	int64_t now = op_time_now_us();
	struct spool *s = NULL;
	char err[512];
	int rv = OP_OK;

	if (bufs == NULL || lens == NULL)
		rv = OP_ENOMEM;
	for (size_t i = 0; rv == OP_OK && i < n; i++) {
		if (op_event_validate(events[i], now, err, sizeof(err)) !=
		    OP_OK) {
			fprintf(stderr, "opspulse-agent: invalid %s: %s\n",
			        op_event_kind_name(events[i]), err);
			rv = OP_EINVAL;
		} else {
			rv = op_pack(&events[i]->base, &bufs[i], &lens[i]);
		}
	}
	if (rv == OP_OK &&
	    (rv = spool_open(&s, c->spool_dir,
	                     (uint64_t)c->spool_max_mb << 20)) == OP_OK)
		rv = spool_append(s, (const uint8_t *const *)bufs, lens, n);
	if (rv != OP_OK && rv != OP_EINVAL)
		fprintf(stderr,
		        "opspulse-agent: cannot record in spool %s: %s\n",
		        c->spool_dir, op_strerror(rv));
	spool_close(s);
	for (size_t i = 0; bufs && i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
	return rv;
}
