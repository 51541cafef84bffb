/*
 * Writes the binary seed files of corpus/envelope and corpus/spool:
 *
 *   fuzz_make_seeds tests/fuzz/corpus
 *
 * The seeds are committed; this program is how they were made, and how to
 * remake them after the protocol or the spool format changes.  Spool
 * segments are written by the real spool code, then copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "op_codec.h"
#include "op_error.h"
#include "spool.h"

/* The fuzz targets' fixed clock: 2026-10-05T09:30:00Z. */
#define NOW  (INT64_C(1791192600) * 1000000)
#define HOUR (INT64_C(3600) * 1000000)

static const char *out_dir;

static _Noreturn void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
write_seed(const char *sub, const char *name, const uint8_t *data, size_t len)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", out_dir, sub);
	if (mkdir(path, 0755) != 0 && access(path, F_OK) != 0)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, sub, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
		die(path);
	printf("%s: %zu bytes\n", path, len);
}

static void
write_message(const char *sub, const char *name, const ProtobufCMessage *m)
{
	uint8_t *buf;
	size_t len;

	if (op_pack(m, &buf, &len) != OP_OK)
		die("op_pack");
	write_seed(sub, name, buf, len);
	free(buf);
}

/* Storage for one event of each kind, valid at NOW. */
struct events {
	op_event ev[8], *evp[8];
	Opspulse__V1__Deploy deploy;
	Opspulse__V1__DeployFailure failure;
	Opspulse__V1__Toil toil;
	Opspulse__V1__BatchRun batch;
	Opspulse__V1__Alert alert;
	Opspulse__V1__Component component;
	Opspulse__V1__Maintenance maintenance;
	Opspulse__V1__Capacity capacity;
};

static op_event *
event_base(struct events *e, int i)
{
	opspulse__v1__event__init(&e->ev[i]);
	e->ev[i].service = "billing";
	e->ev[i].env = "production";
	e->ev[i].host = "web-1";
	e->ev[i].operator_ = "aiko";
	e->ev[i].recorded_us = NOW;
	e->evp[i] = &e->ev[i];
	return &e->ev[i];
}

static void
events_init(struct events *e)
{
	op_event *v;

	memset(e, 0, sizeof(*e));
	v = event_base(e, 0);
	opspulse__v1__deploy__init(&e->deploy);
	e->deploy.id = "d-42";
	e->deploy.started_us = NOW - HOUR;
	e->deploy.finished_us = NOW - HOUR / 2;
	e->deploy.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS;
	e->deploy.version = "1.4.2";
	e->deploy.commit_time_us = NOW - 20 * HOUR;
	e->deploy.hotfix = 1;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY;
	v->deploy = &e->deploy;

	v = event_base(e, 1);
	opspulse__v1__deploy_failure__init(&e->failure);
	e->failure.id = "d-42";
	e->failure.at_us = NOW;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE;
	v->deploy_failure = &e->failure;

	v = event_base(e, 2);
	opspulse__v1__toil__init(&e->toil);
	e->toil.task = "rotate TLS certificates";
	e->toil.started_us = NOW - 2 * HOUR;
	e->toil.duration_s = 2700;
	e->toil.source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
	v->toil = &e->toil;

	v = event_base(e, 3);
	opspulse__v1__batch_run__init(&e->batch);
	e->batch.task = "nightly-export";
	e->batch.started_us = NOW - 3 * HOUR;
	e->batch.duration_s = 1260;
	e->batch.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_FAILED;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_BATCH;
	v->batch = &e->batch;

	v = event_base(e, 4);
	opspulse__v1__alert__init(&e->alert);
	e->alert.alertname = "HighLatency";
	e->alert.fingerprint = "6f1c0a9e5b2d7c41";
	e->alert.severity = "warning";
	e->alert.starts_us = NOW - HOUR;
	e->alert.ends_us = NOW - HOUR / 6;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_ALERT;
	v->alert = &e->alert;

	v = event_base(e, 5);
	opspulse__v1__component__init(&e->component);
	e->component.name = "postgresql";
	e->component.version = "13.9";
	e->component.observed_us = NOW;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_COMPONENT;
	v->component = &e->component;

	v = event_base(e, 6);
	opspulse__v1__maintenance__init(&e->maintenance);
	e->maintenance.id = "m-7";
	e->maintenance.component = "postgresql";
	e->maintenance.title = "minor upgrade";
	e->maintenance.due_us = NOW + 24 * 30 * HOUR;
	e->maintenance.status =
	    OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_SCHEDULED;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_MAINTENANCE;
	v->maintenance = &e->maintenance;

	v = event_base(e, 7);
	opspulse__v1__capacity__init(&e->capacity);
	e->capacity.at_us = NOW;
	e->capacity.cpu_pct = 41.5;
	e->capacity.mem_pct = 63.0;
	e->capacity.mount = "/";
	e->capacity.disk_used_bytes = UINT64_C(40) << 30;
	e->capacity.disk_total_bytes = UINT64_C(100) << 30;
	v->kind_case = OPSPULSE__V1__EVENT__KIND_CAPACITY;
	v->capacity = &e->capacity;
}

static void
check_valid(const op_batch *b, int want_ok)
{
	char err[512];
	int bad;
	int rv = op_batch_validate(b, NOW, &bad, err, sizeof(err));

	if ((rv == OP_OK) != want_ok) {
		fprintf(stderr, "seed batch: expected %s: %s\n",
		        want_ok ? "valid" : "invalid", err);
		exit(1);
	}
}

static void
envelope_seeds(void)
{
	op_envelope env;
	op_batch b;
	Opspulse__V1__QueryRequest q;
	char *services[] = {"billing", "search"};
	struct events e;

	opspulse__v1__envelope__init(&env);
	opspulse__v1__batch__init(&b);
	opspulse__v1__query_request__init(&q);
	events_init(&e);
	b.agent_id = "web-1";
	b.agent_version = "0.1.0";
	b.spool_id = UINT64_C(0x1234567890abcdef) >> 1;
	b.first_seq = UINT64_C(1) << 32;
	b.last_seq = (UINT64_C(1) << 32) | 700;
	b.dropped_total = 2;
	b.n_events = 8;
	b.events = e.evp;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &b;
	check_valid(&b, 1);
	write_message("envelope", "batch_valid.bin", &env.base);

	e.toil.duration_s = -60; /* one bad event in an otherwise good batch */
	check_valid(&b, 0);
	write_message("envelope", "batch_invalid_event.bin", &env.base);

	write_message("envelope", "event_deploy.bin", &e.ev[0].base);

	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_QUERY;
	env.query = &q;
	q.name = "dora";
	q.since_us = NOW - 28 * 24 * HOUR;
	q.until_us = NOW;
	q.n_services = 2;
	q.services = services;
	q.env = "production";
	write_message("envelope", "query.bin", &env.base);
}

static void
reply_seeds(void)
{
	op_reply r;
	Opspulse__V1__QueryResult qr;
	Opspulse__V1__Column cols[6], *colp[6];
	Opspulse__V1__Row rows[2], *rowp[2];
	Opspulse__V1__Cell cells[2][6], *cellp[2][6];
	Opspulse__V1__Error err;
	Opspulse__V1__Ack ack;
	static char *names[] = {"service", "deploys", "rate",
	                        "hotfix",  "at",      "rules"};
	static char *text[2][6] = {{"billing", "12", "0.25", "t",
	                            "2026-10-05 09:30:00+00",
	                            "[\"HighLatency\"]"},
	                           {"search, \"beta\"", "", "", "f", "", "[]"}};

	opspulse__v1__reply__init(&r);
	opspulse__v1__query_result__init(&qr);
	opspulse__v1__error__init(&err);
	opspulse__v1__ack__init(&ack);
	for (int c = 0; c < 6; c++) {
		opspulse__v1__column__init(&cols[c]);
		cols[c].name = names[c];
		cols[c].type = (Opspulse__V1__ColumnType)c;
		colp[c] = &cols[c];
	}
	for (int i = 0; i < 2; i++) {
		opspulse__v1__row__init(&rows[i]);
		rows[i].n_cells = 6;
		rows[i].cells = cellp[i];
		rowp[i] = &rows[i];
		for (int c = 0; c < 6; c++) {
			opspulse__v1__cell__init(&cells[i][c]);
			cells[i][c].text = text[i][c];
			cells[i][c].is_null = i == 1 && (c == 1 || c == 2);
			cellp[i][c] = &cells[i][c];
		}
	}
	qr.since_us = NOW - 28 * 24 * HOUR;
	qr.until_us = NOW;
	qr.n_columns = 6;
	qr.columns = colp;
	qr.n_rows = 2;
	qr.rows = rowp;
	r.protocol_version = OP_PROTOCOL_VERSION;
	r.body_case = OPSPULSE__V1__REPLY__BODY_RESULT;
	r.result = &qr;
	write_message("envelope", "reply_result.bin", &r.base);

	r.body_case = OPSPULSE__V1__REPLY__BODY_ACK;
	r.ack = &ack;
	ack.spool_id = 42;
	ack.committed_seq = (UINT64_C(1) << 32) | 700;
	ack.stored = 7;
	ack.duplicates = 1;
	write_message("envelope", "reply_ack.bin", &r.base);

	r.body_case = OPSPULSE__V1__REPLY__BODY__NOT_SET;
	r.error = &err;
	err.code = OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID;
	err.message =
	    "event 2 (toil): duration_s -60 s is outside 0 .. 2678400 s";
	err.event_index = 2;
	write_message("envelope", "reply_error.bin", &r.base);
}

/* Appends events to a fresh spool in a temporary directory and returns
 * the bytes of its first segment (caller frees). */
static uint8_t *
spool_segment(op_event *const *evs, size_t n, size_t *len)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[512];
	struct spool *s;
	uint8_t *bufs[8], *data;
	size_t lens[8];
	FILE *fp;
	long size;

	snprintf(dir, sizeof(dir), "%s/make_seeds.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || spool_open(&s, dir, 1 << 20) != OP_OK)
		die("spool");
	for (size_t i = 0; i < n; i++) {
		if (op_pack(&evs[i]->base, &bufs[i], &lens[i]) != OP_OK)
			die("op_pack");
	}
	if (spool_append(s, (const uint8_t *const *)bufs, lens, n) != OP_OK)
		die("spool_append");
	snprintf(path, sizeof(path), "%s/seg-0000000000000001.log", dir);
	if ((fp = fopen(path, "rb")) == NULL || fseek(fp, 0, SEEK_END) != 0 ||
	    (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
	    (data = malloc((size_t)size)) == NULL ||
	    fread(data, 1, (size_t)size, fp) != (size_t)size)
		die(path);
	fclose(fp);
	*len = (size_t)size;
	for (size_t i = 0; i < n; i++)
		free(bufs[i]);
	spool_close(s);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/meta", dir);
	unlink(path);
	rmdir(dir);
	return data;
}

static void
spool_seeds(void)
{
	struct events e;
	uint8_t *seg;
	size_t len, first;
	op_event *three[3];

	events_init(&e);
	/* Two records: a deploy and a toil entry. */
	three[0] = &e.ev[0];
	three[1] = &e.ev[2];
	seg = spool_segment(three, 2, &len);
	write_seed("spool", "two_records.log", seg, len);
	free(seg);

	three[2] = &e.ev[4];
	seg = spool_segment(three, 3, &len);
	/* A torn tail: the third record only half written. */
	write_seed("spool", "torn_tail.log", seg, len - 20);
	/* Damage in the middle: one payload byte of the second record. */
	first = 12 + (size_t)(seg[4] | seg[5] << 8);
	seg[first + 12 + 3] ^= 0x20;
	write_seed("spool", "damaged_middle.log", seg, len);
	free(seg);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	envelope_seeds();
	reply_seeds();
	spool_seeds();
	return 0;
}
