/*
 * Fuzz target for Alertmanager webhook payloads: the input is a request
 * body.  Every alert of a payload that parses is either a valid event or
 * counted as skipped, and each event encodes.  Alerts of severity
 * "critical" also open incidents (webhook.incident_severities), whose
 * records must be valid too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertmanager.h"
#include "fuzz.h"
#include "op_error.h"
#include "op_time.h"

#define FUZZ_NOW (INT64_C(1791192600) * OP_US_PER_SEC)

static void
fuzz_conf(struct agent_conf *c)
{
	static char svc[] = "fuzz-svc", env[] = "production", host[] = "fuzz";
	static char l1[] = "service", l2[] = "job";
	static char *labels[] = {l1, l2};
	static char crit[] = "critical";
	static char *sev_labels[] = {crit};
	static int sev_levels[] = {1};

	memset(c, 0, sizeof(*c));
	c->service = svc;
	c->environment = env;
	c->host = host;
	c->id = host;
	c->webhook_labels.items = labels;
	c->webhook_labels.n = 2;
	c->incident_severities.labels = sev_labels;
	c->incident_severities.levels = sev_levels;
	c->incident_severities.n = 1;
}

static void
fuzz_check_event(const op_event *e)
{
	char err[256];
	uint8_t *buf = NULL;
	size_t len = 0;

	FUZZ_CHECK(e->kind_case == OPSPULSE__V1__EVENT__KIND_ALERT ||
	           e->kind_case == OPSPULSE__V1__EVENT__KIND_INCIDENT);
	FUZZ_CHECK(op_event_validate(e, FUZZ_NOW, err, sizeof(err)) == OP_OK);
	if (e->kind_case == OPSPULSE__V1__EVENT__KIND_INCIDENT)
		FUZZ_CHECK(strncmp(e->incident->id, "am-", 3) == 0 &&
		           e->incident->severity == 1);
	else
		FUZZ_CHECK(e->alert->ends_us == 0 ||
		           e->alert->ends_us >= e->alert->starts_us);
	FUZZ_CHECK(op_pack(&e->base, &buf, &len) == OP_OK);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_conf c;
	struct am_payload p;
	char err[256];

	fuzz_conf(&c);
	err[0] = '\0';
	if (am_parse((const char *)data, size, &c, FUZZ_NOW, &p, err,
	             sizeof(err)) == OP_OK) {
		for (size_t i = 0; i < p.n; i++)
			fuzz_check_event(&p.events[i].ev);
	} else {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(p.n == 0);
	}
	am_payload_free(&p);
	return 0;
}
