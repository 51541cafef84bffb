/*
 * opspulse-agent flush and status: read the spool's state directly, so
 * they need no channel to the daemon.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "op_error.h"
#include "op_time.h"
#include "spool.h"
#include "tail.h"

/* The daemon's last refused batch (<spool>/refused, written by the
 * sender): the count since the daemon started, when, and the
 * aggregator's reason.  Returns 1 when one is recorded after the last
 * acknowledgement, 0 when none is or it was acknowledged since. */
struct refusal {
	unsigned long long count;
	char at[64];
	char reason[1024];
	int current;
};

static int
status_refusal(const struct agent_conf *c, struct refusal *r)
{
	char path[4096];
	struct stat ref, ack;
	FILE *fp;
	int ok;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/refused", c->spool_dir);
	if ((fp = fopen(path, "r")) == NULL || fstat(fileno(fp), &ref) != 0) {
		if (fp)
			fclose(fp);
		return 0;
	}
	ok = fscanf(fp, "%llu %63s ", &r->count, r->at) == 2 &&
	     fgets(r->reason, sizeof(r->reason), fp) != NULL;
	fclose(fp);
	if (!ok)
		return 0;
	r->reason[strcspn(r->reason, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/cursor", c->spool_dir);
	r->current = stat(path, &ack) != 0 ||
	             ref.st_mtim.tv_sec > ack.st_mtim.tv_sec ||
	             (ref.st_mtim.tv_sec == ack.st_mtim.tv_sec &&
	              ref.st_mtim.tv_nsec >= ack.st_mtim.tv_nsec);
	return r->current;
}

static int
flush_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: opspulse-agent flush [--timeout SECONDS]\n"
	    "\n"
	    "Waits until every event recorded so far has been acknowledged by\n"
	    "the aggregator (committed in its database).  Exits 0 when done, "
	    "1\n"
	    "on timeout (default 60 s).  The daemon must be running.\n");
	return fp == stdout ? 0 : 1;
}

/*
 * Polls s until its cursor passes end, the end seen at the start, or
 * reaches the end now (a torn tail may have been cut off).  Returns
 * OP_OK, OP_ETIMEDOUT at deadline, or the spool's error.
 */
static int
flush_wait(struct spool *s, struct spool_pos end, int64_t deadline)
{
	struct spool_pos cur, now_end;
	int rv;

	for (;;) {
		if ((rv = spool_cursor(s, &cur)) != OP_OK ||
		    (rv = spool_end(s, &now_end)) != OP_OK)
			return rv;
		if (!spool_pos_before(cur, end) ||
		    (cur.seg == now_end.seg && cur.off == now_end.off))
			return OP_OK;
		if (op_time_mono_ms() >= deadline)
			return OP_ETIMEDOUT;
		nanosleep(&(struct timespec){0, 20000000}, NULL);
	}
}

int
agent_cmd_flush(const struct agent_conf *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct spool *s;
	struct spool_pos end;
	double timeout = 60;
	struct refusal refusal;
	int64_t deadline;
	int opt, rv;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 't')
			timeout = strtod(optarg, NULL);
		else
			return flush_usage(opt == 'h' ? stdout : stderr);
	}
	if ((rv = spool_open(&s, c->spool_dir,
	                     (uint64_t)c->spool_max_mb << 20)) != OP_OK)
		return 1;
	deadline = op_time_mono_ms() + (int64_t)(timeout * 1000);
	if ((rv = spool_end(s, &end)) == OP_OK)
		rv = flush_wait(s, end, deadline);
	if (rv != OP_OK && rv != OP_ETIMEDOUT)
		fprintf(stderr,
		        "opspulse-agent: cannot read the spool position in "
		        "%s: %s\n",
		        c->spool_dir, op_strerror(rv));
	if (rv == OP_ETIMEDOUT && status_refusal(c, &refusal))
		fprintf(
		    stderr,
		    "opspulse-agent: flush timed out after %.0f s: the "
		    "aggregator refused the last batch: %s; the events stay "
		    "in %s until that is fixed\n",
		    timeout, refusal.reason, c->spool_dir);
	else if (rv == OP_ETIMEDOUT)
		fprintf(
		    stderr,
		    "opspulse-agent: flush timed out after %.0f s with events "
		    "still unacknowledged in %s; is the daemon running and "
		    "the aggregator reachable? (opspulse-agent status)\n",
		    timeout, c->spool_dir);
	spool_close(s);
	return rv == OP_OK ? 0 : 1;
}

struct status_scan {
	uint64_t events;
	int64_t oldest_us;
};

static int
status_count(void *arg, struct spool_pos at, const uint8_t *data, size_t len)
{
	struct status_scan *st = arg;

	(void)at;
	if (st->events++ == 0) {
		op_event *e = opspulse__v1__event__unpack(NULL, len, data);
		if (e != NULL) {
			st->oldest_us = e->recorded_us;
			opspulse__v1__event__free_unpacked(e, NULL);
		}
	}
	return 0;
}

/* Counts the unsent events of s into st and reads its dropped counter.
 * Returns OP_OK or the spool's error. */
static int
status_scan_spool(struct spool *s, struct status_scan *st, uint64_t *dropped)
{
	struct spool_pos pos;
	long n;
	int rv;

	if ((rv = spool_cursor(s, &pos)) != OP_OK)
		return rv;
	while ((n = spool_read(s, &pos, 100000, status_count, st, NULL)) > 0)
		;
	if (n < 0)
		return (int)-n;
	return spool_dropped(s, dropped);
}

/* The daemon's last connection state: "connected to ADDR since T".
 * Returns a static buffer. */
static const char *
status_state(const char *path)
{
	static char line[4400];
	char state[32], addr[4096], since[64];
	FILE *fp = fopen(path, "r");
	int n;

	if (fp == NULL)
		return "no state recorded (has the daemon run?)";
	n = fscanf(fp, "%31s %4095s %63s", state, addr, since);
	fclose(fp);
	if (n != 3)
		return "state file unreadable";
	snprintf(line, sizeof(line), "%s %s %s since %s", state,
	         strcmp(state, "connected") == 0 ? "to" : "from", addr, since);
	return line;
}

/* The refused-batches line of status. */
static void
status_print_refusal(const struct agent_conf *c)
{
	struct refusal r;

	status_refusal(c, &r);
	if (r.count == 0)
		printf("refused:        none\n");
	else
		printf("refused:        %llu batch%s, the last at %s%s: %s\n",
		       r.count, r.count == 1 ? "" : "es", r.at,
		       r.current ? " (not delivered since)" : "", r.reason);
}

/* One line per access log: where reading stands and the lines skipped,
 * by reason, since the file was first read. */
static void
status_access_logs(const struct agent_conf *c)
{
	for (size_t i = 0; i < c->access_logs.n; i++) {
		struct tail_status st;
		int rv = tail_status_read(c, i, &st), any = 0;

		printf("access log:     %s: ", c->access_logs.items[i].path);
		if (rv == OP_ENOTFOUND) {
			printf("not read yet\n");
			continue;
		}
		if (rv != OP_OK) {
			printf("state unreadable (%s)\n", op_strerror(rv));
			continue;
		}
		printf("offset %" PRIu64 " (generation %" PRIu64 "), skipped:",
		       st.offset, st.generation);
		for (int r = 1; r < ALOG_NSKIP; r++) {
			if (st.skips[r])
				printf(" %s %" PRIu64,
				       alog_skip_name((enum alog_skip)r),
				       st.skips[r]);
			any |= st.skips[r] != 0;
		}
		printf("%s\n", any ? "" : " none");
	}
}

int
agent_cmd_status(const struct agent_conf *c, int argc, char **argv)
{
	struct spool *s;
	struct status_scan st = {0, 0};
	struct stat sb;
	char path[4096], t[OP_TIME_BUFSZ];
	uint64_t dropped = 0;
	int rv;

	(void)argc;
	(void)argv;
	if (spool_open(&s, c->spool_dir, (uint64_t)c->spool_max_mb << 20))
		return 1;
	if ((rv = status_scan_spool(s, &st, &dropped)) != OP_OK) {
		fprintf(stderr,
		        "opspulse-agent: cannot read the spool in %s: %s\n",
		        c->spool_dir, op_strerror(rv));
		spool_close(s);
		return 1;
	}
	printf("agent:          %s (host %s)\n", c->id, c->host);
	printf("aggregators:    ");
	for (size_t i = 0; i < c->aggregators.n; i++)
		printf("%s%s", i ? ", " : "", c->aggregators.items[i]);
	printf("\nspool:          %s (%.1f MiB of %lld MiB)\n", c->spool_dir,
	       (double)spool_bytes(s) / (1 << 20), c->spool_max_mb);
	printf("unsent events:  %" PRIu64 "\n", st.events);
	printf("oldest unsent:  %s\n",
	       st.events ? op_time_format(st.oldest_us, t, sizeof(t)) : "-");
	snprintf(path, sizeof(path), "%s/cursor", c->spool_dir);
	printf("last ack:       %s\n",
	       stat(path, &sb) == 0
	           ? op_time_format((int64_t)sb.st_mtime * OP_US_PER_SEC, t,
	                            sizeof(t))
	           : "never");
	snprintf(path, sizeof(path), "%s/state", c->spool_dir);
	printf("daemon:         %s\n", status_state(path));
	status_print_refusal(c);
	printf("dropped events: %" PRIu64 "%s\n", dropped,
	       dropped ? " (spool was full; see spool.max_mb)" : "");
	status_access_logs(c);
	spool_close(s);
	return 0;
}
