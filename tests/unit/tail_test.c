/*
 * Unit tests for agent/tail: lines written to a file, rotated, truncated
 * and re-read after a simulated crash; the Requests events read back from
 * the spool and added up the way the aggregator does (a part replaced by
 * a larger part_end, a resend ignored) must equal what the test wrote.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "op_latency.h"
#include "spool.h"
#include "tail.h"

/* 2026-12-05T09:55:00Z, from Python's calendar.timegm */
#define MIN0 INT64_C(1796464500000000)
#define MAXP 256

static char dir[256], logpath[300], spooldir[300];
static struct agent_conf conf;
static struct agent_access_log entry;

/* What the aggregator would keep: one row per (minute, part). */
struct row {
	int64_t minute;
	char part[128];
	uint64_t end, requests, errors, timed, slow; /* slow: > 100 ms */
};

static struct row rows[MAXP];
static size_t nrows;

/* What the test wrote, line by line. */
static uint64_t want_requests, want_errors, want_timed, want_slow;

static int
setup(void **state)
{
	static char svc[] = "web", env[] = "production", host[] = "h-1",
	            id[] = "a-1";

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tail_test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/access.log", dir);
	snprintf(spooldir, sizeof(spooldir), "%s/spool", dir);
	assert_int_equal(mkdir(spooldir, 0700), 0);
	memset(&conf, 0, sizeof(conf));
	memset(&entry, 0, sizeof(entry));
	conf.service = svc;
	conf.environment = env;
	conf.host = host;
	conf.id = id;
	conf.spool_dir = spooldir;
	conf.spool_max_mb = 16;
	entry.path = logpath;
	entry.format = ALOG_NGINX_TIMED;
	entry.unit_exp = 6;
	conf.access_logs.items = &entry;
	conf.access_logs.n = 1;
	nrows = 0;
	want_requests = want_errors = want_timed = want_slow = 0;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- writing lines ------------------------------------------------------ */

/* Appends raw text to path. */
static void
append(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Appends one nginx_timed line for minute m (0, 1, ...) and notes it. */
static void
line(const char *path, int m, int status, const char *dur)
{
	char buf[400];
	int n = snprintf(buf, sizeof(buf),
	                 "192.0.2.1 - - [05/Dec/2026:09:%02d:07 +0000] \"GET "
	                 "/ HTTP/1.1\" %d 5 \"-\" \"t\" %s\n",
	                 55 + m, status, dur);

	append(path, buf, (size_t)n);
	want_requests++;
	want_errors += status >= 500 && status < 600;
	if (strcmp(dur, "-") != 0) {
		want_timed++;
		want_slow += strtod(dur, NULL) > 0.1;
	}
}

/* ---- reading the spool like the aggregator ------------------------------ */

static void
keep(const Opspulse__V1__Requests *r)
{
	size_t i;
	uint64_t slow = 0;

	for (size_t k = 0; k < r->n_latency; k++) {
		assert_true(op_latency_is_upper(r->latency[k]->upper_us));
		if (r->latency[k]->upper_us > 100000)
			slow += r->latency[k]->count;
	}
	for (i = 0; i < nrows; i++) {
		if (rows[i].minute == r->minute_us &&
		    strcmp(rows[i].part, r->part) == 0)
			break;
	}
	if (i == nrows) {
		assert_true(nrows < MAXP);
		nrows++;
	} else if (r->part_end <= rows[i].end) {
		return; /* a resend */
	}
	rows[i].minute = r->minute_us;
	snprintf(rows[i].part, sizeof(rows[i].part), "%s", r->part);
	rows[i].end = r->part_end;
	rows[i].requests = r->requests;
	rows[i].errors = r->errors;
	rows[i].timed = r->timed;
	rows[i].slow = slow;
}

static int
on_record(void *arg, struct spool_pos at, const uint8_t *data, size_t len)
{
	op_event *e = opspulse__v1__event__unpack(NULL, len, data);

	(void)arg;
	(void)at;
	assert_non_null(e);
	assert_int_equal(e->kind_case, OPSPULSE__V1__EVENT__KIND_REQUESTS);
	assert_string_equal(e->service, "web");
	assert_true(e->requests->minute_us % 60000000 == 0);
	keep(e->requests);
	opspulse__v1__event__free_unpacked(e, NULL);
	return 0;
}

/* Reads every event in the spool and checks the totals. */
static void
check_totals(void)
{
	struct spool *sp;
	struct spool_pos pos = {0, 0};
	uint64_t req = 0, err = 0, timed = 0, slow = 0;
	long n;

	nrows = 0;
	assert_int_equal(spool_open(&sp, spooldir, 16u << 20), OP_OK);
	assert_int_equal(spool_cursor(sp, &pos), OP_OK);
	while ((n = spool_read(sp, &pos, 1000, on_record, NULL, NULL)) > 0)
		;
	assert_true(n == 0);
	spool_close(sp);
	for (size_t i = 0; i < nrows; i++) {
		req += rows[i].requests;
		err += rows[i].errors;
		timed += rows[i].timed;
		slow += rows[i].slow;
	}
	assert_int_equal(req, want_requests);
	assert_int_equal(err, want_errors);
	assert_int_equal(timed, want_timed);
	assert_int_equal(slow, want_slow);
}

static struct tail *
start(void)
{
	struct tail *t;

	assert_int_equal(tail_open(&t, &conf), OP_OK);
	return t;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_lines_and_partial(void **state)
{
	struct tail *t;

	(void)state;
	t = start();
	tail_poll(t); /* no file yet: waited for */
	line(logpath, 0, 200, "0.012");
	line(logpath, 0, 503, "0.250");
	line(logpath, 1, 200, "-");
	append(logpath, "192.0.2.1 - - [05/Dec/2026:09:56:08", 35);
	tail_poll(t);
	check_totals();
	append(logpath, " +0000] \"GET / HTTP/1.1\" 500 5 \"-\" \"t\" 0.300\n",
	       45);
	want_requests++;
	want_errors++;
	want_timed++;
	want_slow++;
	tail_poll(t);
	check_totals();
	assert_int_equal(rows[0].minute, MIN0);
	tail_close(t);
}

static void
test_skips_counted(void **state)
{
	static char big[100000];
	struct tail_status st;
	struct tail *t;

	(void)state;
	t = start();
	memset(big, 'x', sizeof(big));
	line(logpath, 0, 200, "0.010");
	append(logpath, big, sizeof(big)); /* over-long, across polls */
	tail_poll(t);
	append(logpath, "x\n", 2);
	append(logpath, "\x01\x02\x03\n", 4);
	append(logpath, "GET /\xc3\x28\n", 8);
	append(logpath, "not a log line\n", 15);
	line(logpath, 1, 404, "0.020");
	tail_poll(t);
	check_totals();
	assert_int_equal(tail_status_read(&conf, 0, &st), OP_OK);
	assert_int_equal(st.skips[ALOG_SKIP_TOO_LONG], 1);
	assert_int_equal(st.skips[ALOG_SKIP_BINARY], 1);
	assert_int_equal(st.skips[ALOG_SKIP_UTF8], 1);
	assert_int_equal(st.skips[ALOG_SKIP_FORMAT], 1);
	tail_close(t);
}

static void
test_rename_rotation(void **state)
{
	char old[400];
	struct tail *t;

	(void)state;
	snprintf(old, sizeof(old), "%s.1", logpath);
	t = start();
	line(logpath, 0, 200, "0.010");
	tail_poll(t);
	assert_int_equal(rename(logpath, old), 0);
	line(old, 0, 200, "0.020"); /* the server writes on until reopened */
	line(logpath, 1, 502, "0.200");
	tail_poll(t); /* old grew: stay */
	tail_poll(t); /* old quiet, new has data: switch */
	tail_poll(t);
	check_totals();
	tail_close(t);
	/* rotated again while the agent is down: found by inode */
	line(logpath, 1, 200, "0.001");
	assert_int_equal(rename(logpath, old), 0);
	line(logpath, 2, 200, "0.002");
	t = start();
	for (int i = 0; i < 4; i++)
		tail_poll(t);
	check_totals();
	tail_close(t);
}

static void
test_copytruncate(void **state)
{
	char cmd[1200];
	struct tail *t;

	(void)state;
	t = start();
	line(logpath, 0, 200, "0.010");
	tail_poll(t);
	line(logpath, 0, 500, "0.011"); /* not read before the rotation */
	snprintf(cmd, sizeof(cmd), "cp %s %s.1 && truncate -s 0 %s", logpath,
	         logpath, logpath);
	assert_int_equal(system(cmd), 0);
	for (int i = 0; i < 3; i++)
		line(logpath, 1, 200, "0.5"); /* regrows past the old size */
	tail_poll(t);
	check_totals();
	tail_close(t);
}

static void
test_crash_between_spool_and_state(void **state)
{
	char file[400], saved[400], cmd[1400];
	struct tail *t;

	(void)state;
	t = start();
	line(logpath, 0, 200, "0.010");
	tail_poll(t);
	snprintf(file, sizeof(file), "%s/tail", spooldir);
	snprintf(saved, sizeof(saved), "%s/saved", dir);
	snprintf(cmd, sizeof(cmd), "cp -r %s %s", file, saved);
	assert_int_equal(system(cmd), 0);
	line(logpath, 0, 200, "0.150");
	tail_poll(t); /* events recorded and state saved... */
	tail_close(t);
	/* ...but as if killed before the state was: the old one is back */
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mv %s %s", file, saved, file);
	assert_int_equal(system(cmd), 0);
	line(logpath, 1, 503, "0.150");
	t = start();
	tail_poll(t); /* same part, larger part_end: replaces */
	tail_poll(t);
	check_totals();
	tail_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lines_and_partial, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_skips_counted, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_rename_rotation, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_copytruncate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_between_spool_and_state,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
