/*
 * Unit tests for common/op_codec: the limits every event and batch is held
 * to (SPEC §3), the enum name helpers, and op_pack.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_codec.h"
#include "op_error.h"
#include "op_time.h"

/* 2026-10-05T09:30:00Z: the receiver's clock in every test. */
#define NOW     (INT64_C(1791192600) * OP_US_PER_SEC)
#define HOUR_US (INT64_C(3600) * OP_US_PER_SEC)

/* One event of every kind, rebuilt valid before each test. */
struct fixture {
	op_event ev;
	Opspulse__V1__Deploy deploy;
	Opspulse__V1__DeployFailure deploy_failure;
	Opspulse__V1__Toil toil;
	Opspulse__V1__BatchRun batch;
	Opspulse__V1__Alert alert;
	Opspulse__V1__Component component;
	Opspulse__V1__Maintenance maintenance;
	Opspulse__V1__Capacity capacity;
	char err[512];
	char *big; /* scratch for over-long strings */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	opspulse__v1__event__init(&f->ev);
	f->ev.service = "billing";
	f->ev.env = "production";
	f->ev.host = "web-1";
	f->ev.operator_ = "aiko";
	f->ev.recorded_us = NOW;

	opspulse__v1__deploy__init(&f->deploy);
	f->deploy.id = "d-42";
	f->deploy.started_us = NOW - HOUR_US;
	f->deploy.finished_us = NOW - HOUR_US / 2;
	f->deploy.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS;
	f->deploy.version = "1.4.2";
	f->deploy.commit_time_us = NOW - 24 * HOUR_US;

	opspulse__v1__deploy_failure__init(&f->deploy_failure);
	f->deploy_failure.id = "d-42";
	f->deploy_failure.at_us = NOW - HOUR_US;

	opspulse__v1__toil__init(&f->toil);
	f->toil.task = "rotate TLS certificates";
	f->toil.started_us = NOW - 2 * HOUR_US;
	f->toil.duration_s = 2700;
	f->toil.source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;

	opspulse__v1__batch_run__init(&f->batch);
	f->batch.task = "nightly-export";
	f->batch.started_us = NOW - 3 * HOUR_US;
	f->batch.duration_s = 1260;
	f->batch.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_FAILED;

	opspulse__v1__alert__init(&f->alert);
	f->alert.alertname = "HighLatency";
	f->alert.fingerprint = "6f1c0a9e";
	f->alert.severity = "warning";
	f->alert.starts_us = NOW - HOUR_US;
	f->alert.ends_us = NOW - HOUR_US / 4;

	opspulse__v1__component__init(&f->component);
	f->component.name = "postgresql";
	f->component.version = "13.9";
	f->component.observed_us = NOW;

	opspulse__v1__maintenance__init(&f->maintenance);
	f->maintenance.id = "m-7";
	f->maintenance.component = "postgresql";
	f->maintenance.title = "minor upgrade";
	f->maintenance.due_us = NOW + 30 * 24 * HOUR_US;
	f->maintenance.status =
	    OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_SCHEDULED;

	opspulse__v1__capacity__init(&f->capacity);
	f->capacity.at_us = NOW;
	f->capacity.cpu_pct = 41.5;
	f->capacity.mem_pct = 63.0;
	f->capacity.mount = "/";
	f->capacity.disk_used_bytes = 10;
	f->capacity.disk_total_bytes = 100;

	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->big);
	free(f);
	return 0;
}

static op_event *
as_deploy(struct fixture *f)
{
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY;
	f->ev.deploy = &f->deploy;
	return &f->ev;
}

static op_event *
as_toil(struct fixture *f)
{
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
	f->ev.toil = &f->toil;
	return &f->ev;
}

static op_event *
as_alert(struct fixture *f)
{
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_ALERT;
	f->ev.alert = &f->alert;
	return &f->ev;
}

static op_event *
as_maintenance(struct fixture *f)
{
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_MAINTENANCE;
	f->ev.maintenance = &f->maintenance;
	return &f->ev;
}

static op_event *
as_capacity(struct fixture *f)
{
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_CAPACITY;
	f->ev.capacity = &f->capacity;
	return &f->ev;
}

static int
validate(struct fixture *f)
{
	f->err[0] = '\0';
	return op_event_validate(&f->ev, NOW, f->err, sizeof(f->err));
}

/* Asserts that f->ev is rejected with a message containing word. */
#define assert_rejected(f, word)                                               \
	do {                                                                   \
		assert_int_equal(validate(f), OP_EINVAL);                      \
		if (strstr((f)->err, (word)) == NULL)                          \
			fail_msg("error \"%s\" does not mention \"%s\"",       \
			         (f)->err, (word));                            \
	} while (0)

#define assert_valid(f)                                                        \
	do {                                                                   \
		if (validate(f) != OP_OK)                                      \
			fail_msg("rejected: %s", (f)->err);                    \
	} while (0)

/* A string of n copies of c, owned by the fixture. */
static char *
repeat(struct fixture *f, char c, size_t n)
{
	free(f->big);
	f->big = malloc(n + 1);
	assert_non_null(f->big);
	memset(f->big, c, n);
	f->big[n] = '\0';
	return f->big;
}

static void
test_every_kind_valid(void **state)
{
	struct fixture *f = *state;

	as_deploy(f);
	assert_valid(f);
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE;
	f->ev.deploy_failure = &f->deploy_failure;
	assert_valid(f);
	as_toil(f);
	assert_valid(f);
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_BATCH;
	f->ev.batch = &f->batch;
	assert_valid(f);
	as_alert(f);
	assert_valid(f);
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_COMPONENT;
	f->ev.component = &f->component;
	assert_valid(f);
	as_maintenance(f);
	assert_valid(f);
	as_capacity(f);
	assert_valid(f);
}

static void
test_missing_kind(void **state)
{
	struct fixture *f = *state;

	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND__NOT_SET;
	assert_rejected(f, "no known type");
	f->ev.kind_case = (Opspulse__V1__Event__KindCase)99;
	assert_rejected(f, "no known type");
}

static void
test_common_fields_required(void **state)
{
	struct fixture *f = *state;

	as_toil(f);
	f->ev.service = "";
	assert_rejected(f, "service is missing");
	f->ev.service = NULL;
	assert_rejected(f, "service is missing");
	f->ev.service = "billing";
	f->ev.env = "";
	assert_rejected(f, "env is missing");
	f->ev.env = "production";
	f->ev.host = NULL;
	assert_rejected(f, "host is missing");
	f->ev.host = "web-1";
	/* The operator is optional (collectors have none). */
	f->ev.operator_ = "";
	assert_valid(f);
	f->ev.operator_ = NULL;
	assert_valid(f);
}

/* Sets *field to strings of limit and limit + 1 bytes. */
static void
check_limit(struct fixture *f, char **field, size_t limit, const char *name)
{
	char *saved = *field;

	*field = repeat(f, 'a', limit);
	assert_valid(f);
	*field = repeat(f, 'a', limit + 1);
	assert_rejected(f, name);
	assert_non_null(strstr(f->err, "limit"));
	*field = saved;
}

static void
test_string_limits(void **state)
{
	struct fixture *f = *state;

	as_deploy(f);
	check_limit(f, &f->ev.service, 128, "service");
	check_limit(f, &f->ev.env, 64, "env");
	check_limit(f, &f->ev.host, 255, "host");
	check_limit(f, &f->ev.operator_, 128, "operator");
	check_limit(f, &f->deploy.id, 256, "id");
	check_limit(f, &f->deploy.version, 128, "version");
	as_toil(f);
	check_limit(f, &f->toil.task, 1024, "task");
	as_alert(f);
	check_limit(f, &f->alert.alertname, 1024, "alertname");
	check_limit(f, &f->alert.fingerprint, 256, "fingerprint");
	as_maintenance(f);
	check_limit(f, &f->maintenance.title, 1024, "title");
	check_limit(f, &f->maintenance.component, 128, "component");
	as_capacity(f);
	check_limit(f, &f->capacity.mount, 1024, "mount");
}

static void
test_limit_counts_bytes_not_characters(void **state)
{
	struct fixture *f = *state;
	/* 43 three-byte characters: 129 bytes, 43 characters. */
	char s[43 * 3 + 1];

	for (int i = 0; i < 43; i++)
		memcpy(s + 3 * i, "\xe6\x97\xa5", 3); /* U+65E5 */
	s[sizeof(s) - 1] = '\0';
	as_toil(f);
	f->ev.service = s;
	assert_rejected(f, "129 bytes");
	s[42 * 3] = '\0'; /* 126 bytes */
	assert_valid(f);
}

static void
test_utf8(void **state)
{
	static const char *const good[] = {
	    "plain ascii",
	    "Gr\303\274\303\237e",      /* Grüße */
	    "\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
	    "\xf0\x9f\x98\x80",         /* U+1F600 */
	    "\xf4\x8f\xbf\xbf",         /* U+10FFFF, the last */
	    "\xed\x9f\xbf",             /* U+D7FF, below surrogates */
	    "\xee\x80\x80",             /* U+E000, above them */
	    "\xc2\x80",                 /* U+0080, shortest 2-byte */
	    "\xe0\xa0\x80",             /* U+0800, shortest 3-byte */
	    "\xf0\x90\x80\x80",         /* U+10000, shortest 4-byte */
	};
	static const char *const bad[] = {
	    "\x80",             /* lone continuation byte */
	    "abc\xbf",          /* continuation at the end */
	    "\xc0\xaf",         /* overlong '/' */
	    "\xc1\xbf",         /* overlong */
	    "\xe0\x80\xaf",     /* overlong 3-byte */
	    "\xf0\x80\x80\xaf", /* overlong 4-byte */
	    "\xed\xa0\x80",     /* U+D800, a surrogate */
	    "\xed\xbf\xbf",     /* U+DFFF */
	    "\xf4\x90\x80\x80", /* U+110000, past Unicode */
	    "\xf5\x80\x80\x80", /* never valid lead */
	    "\xff",
	    "\xe6\x97",  /* truncated at the end */
	    "\xe6\x97x", /* truncated mid-string */
	    "\xc3",
	};

	struct fixture *f = *state;

	as_toil(f);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		f->toil.task = (char *)(uintptr_t)good[i];
		if (validate(f) != OP_OK)
			fail_msg("good[%zu] rejected: %s", i, f->err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->toil.task = (char *)(uintptr_t)bad[i];
		if (validate(f) != OP_EINVAL ||
		    strstr(f->err, "task is not valid UTF-8") == NULL)
			fail_msg("bad[%zu] not rejected as UTF-8: %s", i,
			         f->err);
	}
	f->toil.task = "ok";
	f->ev.host = "web-\xff";
	assert_rejected(f, "host is not valid UTF-8");
}

static void
test_time_range(void **state)
{
	struct fixture *f = *state;

	as_toil(f);
	f->toil.started_us = OP_TIME_MIN_US;
	assert_valid(f);
	f->toil.started_us = OP_TIME_MIN_US - 1;
	assert_rejected(f, "started_at 1999-12-31T23:59:59.999999Z");
	f->toil.started_us = NOW + 24 * HOUR_US;
	assert_valid(f);
	f->toil.started_us = NOW + 24 * HOUR_US + 1;
	assert_rejected(f, "started_at");
	f->toil.started_us = 0;
	assert_rejected(f, "outside 2000-01-01");

	as_capacity(f);
	f->capacity.at_us = INT64_MIN;
	assert_rejected(f, "at ");
	f->capacity.at_us = INT64_MAX - 1;
	assert_rejected(f, "at ");
}

static void
test_deploy_rules(void **state)
{
	struct fixture *f = *state;
	const int64_t max_s = INT64_C(31) * 86400;

	as_deploy(f);
	f->deploy.finished_us = f->deploy.started_us - 1;
	assert_rejected(f, "finished_at is before started_at");
	f->deploy.finished_us = f->deploy.started_us;
	assert_valid(f);

	f->deploy.started_us = NOW - max_s * OP_US_PER_SEC;
	f->deploy.finished_us = NOW;
	assert_valid(f);
	f->deploy.started_us -= OP_US_PER_SEC;
	assert_rejected(f, "deploy duration");
	f->deploy.started_us = NOW - HOUR_US;

	f->deploy.commit_time_us = 0; /* unknown */
	assert_valid(f);
	f->deploy.commit_time_us = OP_TIME_MIN_US - 1;
	assert_rejected(f, "commit_time");
	f->deploy.commit_time_us = NOW;

	f->deploy.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_UNSPECIFIED;
	assert_rejected(f, "outcome");
	f->deploy.outcome = (Opspulse__V1__Outcome)5;
	assert_rejected(f, "outcome");
	f->deploy.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_CANCELLED;
	assert_valid(f);

	f->deploy.id = "";
	assert_rejected(f, "id is missing");
	f->deploy.id = "d-1";
	f->deploy.version = ""; /* optional */
	assert_valid(f);
}

static void
test_durations(void **state)
{
	struct fixture *f = *state;

	as_toil(f);
	f->toil.duration_s = 0;
	assert_valid(f);
	f->toil.duration_s = 31 * 86400;
	assert_valid(f);
	f->toil.duration_s = 31 * 86400 + 1;
	assert_rejected(f, "duration_s");
	f->toil.duration_s = -1;
	assert_rejected(f, "duration_s -1 s");
	f->toil.duration_s = 60;
	f->toil.source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_UNSPECIFIED;
	assert_rejected(f, "source");
	f->toil.source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_IMPORT;
	assert_valid(f);
	f->toil.task = "";
	assert_rejected(f, "task is missing");

	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_BATCH;
	f->ev.batch = &f->batch;
	f->batch.duration_s = INT64_MAX;
	assert_rejected(f, "duration_s");
	f->batch.duration_s = 10;
	f->batch.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_UNSPECIFIED;
	assert_rejected(f, "outcome");
}

static void
test_alert_rules(void **state)
{
	struct fixture *f = *state;

	as_alert(f);
	f->alert.ends_us = 0; /* still firing */
	assert_valid(f);
	f->alert.ends_us = f->alert.starts_us - 1;
	assert_rejected(f, "ends_at is before starts_at");
	f->alert.ends_us = NOW + 25 * HOUR_US;
	assert_rejected(f, "ends_at");
	f->alert.ends_us = 0;
	f->alert.severity = ""; /* optional */
	assert_valid(f);
	f->alert.fingerprint = "";
	assert_rejected(f, "fingerprint is missing");
}

static void
test_due_dates(void **state)
{
	struct fixture *f = *state;
	const int64_t ten_years = INT64_C(3653) * OP_US_PER_DAY;

	as_maintenance(f);
	f->maintenance.due_us = NOW + ten_years;
	assert_valid(f);
	f->maintenance.due_us = NOW + ten_years + 1;
	assert_rejected(f, "due_at");
	/* Overdue items are normal; only the floor applies to the past. */
	f->maintenance.due_us = OP_TIME_MIN_US;
	assert_valid(f);
	f->maintenance.due_us = OP_TIME_MIN_US - 1;
	assert_rejected(f, "due_at");
	f->maintenance.due_us = NOW;
	f->maintenance.status =
	    OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_UNSPECIFIED;
	assert_rejected(f, "status");
	f->maintenance.status = (Opspulse__V1__MaintenanceStatus)4;
	assert_rejected(f, "status");
	f->maintenance.status =
	    OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_DONE;
	assert_valid(f);
}

static void
test_capacity_pct(void **state)
{
	struct fixture *f = *state;
	const double bad[] = {-0.001, 100.001, -INFINITY, INFINITY, NAN, 1e300};

	as_capacity(f);
	f->capacity.cpu_pct = 0;
	f->capacity.mem_pct = 100;
	assert_valid(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->capacity.cpu_pct = bad[i];
		assert_rejected(f, "cpu_pct");
		f->capacity.cpu_pct = 50;
		f->capacity.mem_pct = bad[i];
		assert_rejected(f, "mem_pct");
		f->capacity.mem_pct = 50;
	}
	f->capacity.disk_used_bytes = 101;
	assert_rejected(f, "disk_used_bytes");
	f->capacity.disk_used_bytes = 100;
	assert_valid(f);
	f->capacity.mount = ""; /* optional */
	assert_valid(f);
}

/* A batch of n events, all pointing at f->ev. */
static op_event **
events_of(struct fixture *f, size_t n)
{
	op_event **v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = &f->ev;
	return v;
}

static void
test_batch(void **state)
{
	struct fixture *f = *state;
	op_batch b;
	op_event other;
	op_event *three[3];
	int bad = 99;

	opspulse__v1__batch__init(&b);
	opspulse__v1__event__init(&other);
	as_deploy(f);
	other = f->ev;
	other.kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
	other.toil = &f->toil;
	f->toil.duration_s = -5; /* only the toil event is bad */
	three[0] = &f->ev;
	three[1] = &f->ev;
	three[2] = &other;
	b.agent_id = "web-1";
	b.agent_version = "0.1.0";
	b.first_seq = 10;
	b.last_seq = 12;
	b.n_events = 2;
	b.events = three;
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512), OP_OK);
	assert_int_equal(bad, -1);

	b.n_events = 3;
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(f->err, "event 2 (toil)"));
	assert_non_null(strstr(f->err, "duration_s"));

	b.n_events = 2;
	b.last_seq = 9;
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(bad, -1);
	assert_non_null(strstr(f->err, "last_seq"));
	b.last_seq = 10; /* a batch of one position */
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512), OP_OK);

	b.agent_id = "";
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512),
	                 OP_EINVAL);
	assert_non_null(strstr(f->err, "agent_id"));
	b.agent_id = "web-1";
	b.agent_version = repeat(f, 'v', 129);
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512),
	                 OP_EINVAL);
	assert_non_null(strstr(f->err, "agent_version"));
	b.agent_version = ""; /* optional */
	b.n_events = 0;
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512), OP_OK);
}

static void
test_batch_size_limit(void **state)
{
	struct fixture *f = *state;
	op_batch b;
	int bad = 99;

	opspulse__v1__batch__init(&b);
	as_toil(f);
	b.agent_id = "web-1";
	b.events = events_of(f, OP_MAX_BATCH_EVENTS + 1);
	b.n_events = OP_MAX_BATCH_EVENTS;
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512), OP_OK);
	b.n_events = OP_MAX_BATCH_EVENTS + 1;
	assert_int_equal(op_batch_validate(&b, NOW, &bad, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(bad, -1);
	assert_non_null(strstr(f->err, "10001 events"));
	free(b.events);
	assert_int_equal(OP_MAX_BATCH_EVENTS, 10000);
}

/* The aggregator counts rejections by the rule a batch broke. */
static void
test_batch_limit_reasons(void **state)
{
	struct fixture *f = *state;
	op_event *one[1] = {&f->ev};
	enum op_limit limit = OP_LIMIT_FIELD;
	op_batch b;
	int bad;

	opspulse__v1__batch__init(&b);
	as_toil(f);
	b.agent_id = "web-1";
	b.events = one;
	b.n_events = 1;
	assert_int_equal(op_batch_check(&b, NOW, &bad, &limit, f->err, 512),
	                 OP_OK);
	assert_int_equal(limit, OP_LIMIT_NONE);

	f->toil.task = repeat(f, 't', OP_MAX_TEXT + 1);
	assert_int_equal(op_batch_check(&b, NOW, &bad, &limit, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(limit, OP_LIMIT_STRING);
	assert_int_equal(bad, 0);
	f->toil.task = "restart";
	f->toil.started_us = NOW + 2 * OP_US_PER_DAY;
	assert_int_equal(op_batch_check(&b, NOW, &bad, &limit, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(limit, OP_LIMIT_TIME);
	f->toil.started_us = NOW - OP_US_PER_DAY;
	f->ev.service = "";
	assert_int_equal(op_batch_check(&b, NOW, &bad, &limit, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(limit, OP_LIMIT_FIELD);
	f->ev.service = "billing";
	b.agent_id = repeat(f, 'a', OP_MAX_HOST + 1);
	assert_int_equal(op_batch_check(&b, NOW, &bad, &limit, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(limit, OP_LIMIT_STRING);
	assert_int_equal(bad, -1);
	b.agent_id = "web-1";
	b.events = events_of(f, OP_MAX_BATCH_EVENTS + 1);
	b.n_events = OP_MAX_BATCH_EVENTS + 1;
	assert_int_equal(op_batch_check(&b, NOW, &bad, &limit, f->err, 512),
	                 OP_EINVAL);
	assert_int_equal(limit, OP_LIMIT_BATCH_SIZE);
	free(b.events);
}

static void
test_error_buffer_truncated(void **state)
{
	struct fixture *f = *state;
	char small[8];

	as_toil(f);
	f->ev.service = "";
	memset(small, 'x', sizeof(small));
	assert_int_equal(op_event_validate(&f->ev, NOW, small, sizeof(small)),
	                 OP_EINVAL);
	assert_string_equal(small, "service");
}

static void
test_names(void **state)
{
	static const char *const outcomes[] = {NULL, "success", "failed",
	                                       "rolled_back", "cancelled"};
	static const char *const statuses[] = {NULL, "scheduled", "done",
	                                       "cancelled"};
	static const char *const sources[] = {NULL, "run", "manual", "session",
	                                      "import"};
	Opspulse__V1__Outcome o = OPSPULSE__V1__OUTCOME__OUTCOME_UNSPECIFIED;
	Opspulse__V1__MaintenanceStatus ms =
	    OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_UNSPECIFIED;

	(void)state;
	for (int i = 1; i <= 4; i++) {
		assert_string_equal(op_outcome_name((Opspulse__V1__Outcome)i),
		                    outcomes[i]);
		assert_int_equal(op_outcome_parse(outcomes[i], &o), OP_OK);
		assert_int_equal(o, i);
		assert_string_equal(
		    op_toil_source_name((Opspulse__V1__ToilSource)i),
		    sources[i]);
	}
	for (int i = 1; i <= 3; i++) {
		assert_string_equal(op_maintenance_status_name(
		                        (Opspulse__V1__MaintenanceStatus)i),
		                    statuses[i]);
		assert_int_equal(op_maintenance_status_parse(statuses[i], &ms),
		                 OP_OK);
		assert_int_equal(ms, i);
	}
	assert_int_equal(OPSPULSE__V1__OUTCOME__OUTCOME_ROLLED_BACK, 3);
	assert_null(
	    op_outcome_name(OPSPULSE__V1__OUTCOME__OUTCOME_UNSPECIFIED));
	assert_null(op_outcome_name((Opspulse__V1__Outcome)5));
	assert_null(op_outcome_name((Opspulse__V1__Outcome)-1));
	assert_null(op_toil_source_name((Opspulse__V1__ToilSource)0));
	assert_null(op_toil_source_name((Opspulse__V1__ToilSource)5));
	assert_null(
	    op_maintenance_status_name((Opspulse__V1__MaintenanceStatus)4));

	o = OPSPULSE__V1__OUTCOME__OUTCOME_FAILED;
	assert_int_equal(op_outcome_parse("succeeded", &o), OP_EINVAL);
	assert_int_equal(op_outcome_parse("", &o), OP_EINVAL);
	assert_int_equal(op_outcome_parse("Success", &o), OP_EINVAL);
	assert_int_equal(o, OPSPULSE__V1__OUTCOME__OUTCOME_FAILED);
	assert_int_equal(op_maintenance_status_parse("overdue", &ms),
	                 OP_EINVAL);
}

static void
test_kind_names(void **state)
{
	static const struct {
		Opspulse__V1__Event__KindCase k;
		const char *name;
	} kinds[] = {
	    {OPSPULSE__V1__EVENT__KIND_DEPLOY, "deploy"},
	    {OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE, "deploy_failure"},
	    {OPSPULSE__V1__EVENT__KIND_TOIL, "toil"},
	    {OPSPULSE__V1__EVENT__KIND_BATCH, "batch"},
	    {OPSPULSE__V1__EVENT__KIND_ALERT, "alert"},
	    {OPSPULSE__V1__EVENT__KIND_COMPONENT, "component"},
	    {OPSPULSE__V1__EVENT__KIND_MAINTENANCE, "maintenance"},
	    {OPSPULSE__V1__EVENT__KIND_CAPACITY, "capacity"},
	    {OPSPULSE__V1__EVENT__KIND__NOT_SET, "unknown"},
	};
	op_event e;

	opspulse__v1__event__init(&e);
	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		e.kind_case = kinds[i].k;
		assert_string_equal(op_event_kind_name(&e), kinds[i].name);
	}
}

static void
test_pack_round_trip(void **state)
{
	struct fixture *f = *state;
	op_envelope env;
	op_batch b;
	op_event *evs[1];
	op_envelope *back;
	uint8_t *buf = NULL;
	size_t len = 0;
	int bad;

	opspulse__v1__envelope__init(&env);
	opspulse__v1__batch__init(&b);
	evs[0] = as_deploy(f);
	b.agent_id = "web-1";
	b.spool_id = UINT64_C(0x123456789abc);
	b.first_seq = 5;
	b.last_seq = 5;
	b.dropped_total = 3;
	b.n_events = 1;
	b.events = evs;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &b;
	assert_int_equal(op_pack(&env.base, &buf, &len), OP_OK);
	assert_int_equal(len, protobuf_c_message_get_packed_size(&env.base));

	back = opspulse__v1__envelope__unpack(NULL, len, buf);
	assert_non_null(back);
	assert_int_equal(back->protocol_version, 1);
	assert_int_equal(back->body_case, OPSPULSE__V1__ENVELOPE__BODY_BATCH);
	assert_int_equal(back->batch->spool_id, UINT64_C(0x123456789abc));
	assert_int_equal(back->batch->dropped_total, 3);
	assert_int_equal(back->batch->n_events, 1);
	assert_string_equal(back->batch->events[0]->service, "billing");
	assert_string_equal(back->batch->events[0]->deploy->id, "d-42");
	assert_int_equal(back->batch->events[0]->deploy->started_us,
	                 NOW - HOUR_US);
	assert_int_equal(op_batch_validate(back->batch, NOW, &bad, f->err, 512),
	                 OP_OK);
	opspulse__v1__envelope__free_unpacked(back, NULL);
	free(buf);

	/* An empty message packs to zero bytes but still to a buffer. */
	opspulse__v1__envelope__init(&env);
	assert_int_equal(op_pack(&env.base, &buf, &len), OP_OK);
	assert_int_equal(len, 0);
	assert_non_null(buf);
	free(buf);
}

/* An incident record of f's event that sets started and detected. */
static Opspulse__V1__Incident *
as_incident(struct fixture *f, Opspulse__V1__Incident *in)
{
	opspulse__v1__incident__init(in);
	in->id = "INC-1";
	in->started_us = NOW - HOUR_US;
	in->detected_us = NOW - HOUR_US;
	in->fields = OP_INCIDENT_BIT(STARTED) | OP_INCIDENT_BIT(DETECTED);
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_INCIDENT;
	f->ev.incident = in;
	return in;
}

static void
test_incident_rules(void **state)
{
	struct fixture *f = *state;
	Opspulse__V1__Incident in;

	as_incident(f, &in);
	assert_valid(f);
	/* Severity counts only when its bit is set. */
	in.severity = 0;
	assert_valid(f);
	in.fields |= OP_INCIDENT_BIT(SEVERITY);
	assert_rejected(f, "severity 0 is outside 1 .. 4 (1 is the worst)");
	in.severity = 5;
	assert_rejected(f, "severity 5 is outside 1 .. 4");
	in.severity = 4;
	assert_valid(f);
	/* Every later time may equal the start, none may come before it. */
	in.detected_us = in.started_us - 1;
	assert_rejected(f, "detected_at is before started_at");
	in.detected_us = in.started_us;
	in.resolved_us = in.started_us - 1;
	in.fields |= OP_INCIDENT_BIT(RESOLVED);
	assert_rejected(f, "resolved_at is before started_at");
	/* A record without started is checked against nothing. */
	in.fields &= ~OP_INCIDENT_BIT(STARTED);
	assert_valid(f);
	/* The postmortem may come at any valid time. */
	in.fields |= OP_INCIDENT_BIT(POSTMORTEM_AT);
	in.postmortem_us = 0;
	assert_rejected(f, "postmortem_at");
	in.postmortem_us = NOW;
	assert_valid(f);
	in.fields |= UINT32_C(1) << 20;
	assert_rejected(f, "fields names a field incidents do not have");
	in.fields &= ~(UINT32_C(1) << 20);
	in.id = "";
	assert_rejected(f, "id is missing");
}

static void
test_action_item_rules(void **state)
{
	struct fixture *f = *state;
	const int64_t ten_years = INT64_C(3653) * OP_US_PER_DAY;
	Opspulse__V1__ActionItem a;

	opspulse__v1__action_item__init(&a);
	a.id = "A-1";
	a.incident = "INC-1";
	a.title = "add an index";
	a.owner = "ken";
	a.due_us = NOW + ten_years;
	a.status = OPSPULSE__V1__ACTION_STATUS__ACTION_STATUS_OPEN;
	f->ev.kind_case = OPSPULSE__V1__EVENT__KIND_ACTION_ITEM;
	f->ev.action_item = &a;
	assert_valid(f);
	a.due_us = NOW + ten_years + 1;
	assert_rejected(f,
	                "due_at is outside 2000-01-01 .. ten years from now");
	a.due_us = NOW;
	a.status = (Opspulse__V1__ActionStatus)4;
	assert_rejected(f, "status is missing or unknown; use open, done or "
	                   "cancelled");
	a.status = OPSPULSE__V1__ACTION_STATUS__ACTION_STATUS_DONE;
	a.done_us = NOW + 2 * 24 * HOUR_US;
	assert_rejected(f, "done_at");
	a.done_us = NOW;
	assert_valid(f);
	a.owner = "";
	assert_rejected(f, "owner is missing");
	assert_string_equal(
	    op_action_status_name(
	        OPSPULSE__V1__ACTION_STATUS__ACTION_STATUS_CANCELLED),
	    "cancelled");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_every_kind_valid),
	    T(test_missing_kind),
	    T(test_common_fields_required),
	    T(test_string_limits),
	    T(test_limit_counts_bytes_not_characters),
	    T(test_utf8),
	    T(test_time_range),
	    T(test_deploy_rules),
	    T(test_durations),
	    T(test_alert_rules),
	    T(test_due_dates),
	    T(test_capacity_pct),
	    T(test_batch),
	    T(test_batch_size_limit),
	    T(test_batch_limit_reasons),
	    T(test_error_buffer_truncated),
	    T(test_names),
	    T(test_kind_names),
	    T(test_pack_round_trip),
	    T(test_incident_rules),
	    T(test_action_item_rules),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
