/*
 * Interactive login sessions from wtmp, recorded as toil with source
 * "session": a login (USER_PROCESS) ends at the matching logout
 * (DEAD_PROCESS on the same line) or at the next boot or shutdown record.
 * Only finished sessions are recorded; reading the file again after a
 * restart records the same sessions, which the aggregator stores once.
 */
#define _GNU_SOURCE /* RUN_LVL and struct utmpx as glibc writes wtmp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utmpx.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"

#define MOD         "sessions"
#define SESS_MAX    256 /* open sessions tracked at once */
#define SESS_LINESZ sizeof(((struct utmpx *)0)->ut_line)
#define SESS_USERSZ sizeof(((struct utmpx *)0)->ut_user)

struct sess_open {
	char line[SESS_LINESZ + 1];
	char user[SESS_USERSZ + 1];
	int64_t start_us;
};

struct sess_state {
	long offset; /* bytes of wtmp already read */
	struct sess_open open[SESS_MAX];
	size_t n;
};

static long long
sess_interval(const struct agent_conf *c)
{
	return c->sessions_enabled ? c->sessions_interval_s : 0;
}

static int
sess_init(void **state, const struct agent_conf *c)
{
	(void)c;
	*state = calloc(1, sizeof(struct sess_state));
	return *state ? OP_OK : OP_ENOMEM;
}

static void
sess_copy(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int64_t
sess_time(const struct utmpx *u)
{
	return (int64_t)u->ut_tv.tv_sec * OP_US_PER_SEC + u->ut_tv.tv_usec;
}

/* Records the session at i as ending at end_us and forgets it. */
static int
sess_close(struct sess_state *st, size_t i, int64_t end_us,
           const struct agent_conf *c, struct agent_sink *out)
{
	struct sess_open *s = &st->open[i];
	int64_t secs =
	    (end_us - s->start_us + OP_US_PER_SEC / 2) / OP_US_PER_SEC;
	struct agent_event *e = NULL;
	int rv = OP_OK;

	if (secs >= 0 && (e = agent_sink_event(out)) == NULL)
		rv = OP_ENOMEM;
	if (e != NULL) {
		Opspulse__V1__Toil *t = agent_event_toil(e);
		t->task = c->sessions_task;
		t->started_us = s->start_us;
		/* A session left open for weeks is capped, not dropped. */
		t->duration_s =
		    secs > OP_MAX_DURATION_S ? OP_MAX_DURATION_S : secs;
		t->source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_SESSION;
		if ((e->ev.operator_ = agent_sink_str(out, s->user)) == NULL)
			rv = OP_ENOMEM;
	}
	st->open[i] = st->open[--st->n];
	return rv;
}

static int
sess_find(const struct sess_state *st, const char *line)
{
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->open[i].line, line) == 0)
			return (int)i;
	}
	return -1;
}

static void
sess_login(struct sess_state *st, const struct utmpx *u, const char *line)
{
	struct sess_open *s;

	if (st->n == SESS_MAX)
		return;
	s = &st->open[st->n++];
	sess_copy(s->line, line, strlen(line));
	sess_copy(s->user, u->ut_user, strnlen(u->ut_user, SESS_USERSZ));
	s->start_us = sess_time(u);
}

/* Applies one wtmp record. */
static int
sess_record(struct sess_state *st, const struct utmpx *u,
            const struct agent_conf *c, struct agent_sink *out)
{
	char line[SESS_LINESZ + 1];
	int i, rv = OP_OK;

	sess_copy(line, u->ut_line, strnlen(u->ut_line, SESS_LINESZ));
	i = sess_find(st, line);
	if (u->ut_type == USER_PROCESS) {
		/* A login on a line still open: the old one ended unseen. */
		if (i >= 0)
			rv = sess_close(st, (size_t)i, sess_time(u), c, out);
		sess_login(st, u, line);
	} else if (u->ut_type == DEAD_PROCESS && i >= 0) {
		rv = sess_close(st, (size_t)i, sess_time(u), c, out);
	} else if (u->ut_type == BOOT_TIME ||
	           (u->ut_type == RUN_LVL &&
	            strncmp(u->ut_user, "shutdown", 8) == 0)) {
		while (rv == OP_OK && st->n > 0)
			rv = sess_close(st, st->n - 1, sess_time(u), c, out);
	}
	return rv;
}

static int
sess_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	struct sess_state *st = state;
	FILE *fp = fopen(c->sessions_wtmp, "rb");
	struct utmpx u;
	int rv = OP_OK;

	if (fp == NULL) {
		op_warn(MOD, "cannot read %s", c->sessions_wtmp);
		return OP_EIO;
	}
	/* A shorter file was rotated: start over. */
	if (fseek(fp, 0, SEEK_END) == 0 && ftell(fp) < st->offset) {
		st->offset = 0;
		st->n = 0;
	}
	fseek(fp, st->offset, SEEK_SET);
	while (rv == OP_OK && fread(&u, sizeof(u), 1, fp) == 1) {
		st->offset += (long)sizeof(u);
		rv = sess_record(st, &u, c, out);
	}
	fclose(fp);
	return rv;
}

const struct agent_collector agent_collector_sessions = {
    .name = "sessions",
    .interval_s = sess_interval,
    .init = sess_init,
    .collect = sess_collect,
    .fini = free,
};
