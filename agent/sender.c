/*
 * The agent daemon's sender: reads the spool, ships batches to the
 * aggregator and moves the cursor only after an acknowledgement, which the
 * aggregator sends after COMMIT.  Idle, it sleeps on inotify: no periodic
 * work.  On failure it retries with exponential backoff and jitter, moving
 * to the next aggregator address.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent.h"
#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "spool.h"
#include "tail.h"

#define MOD              "sender"
#define SENDER_MAX_BYTES (4u << 20)
#define BACKOFF_MIN_MS   200
#define BACKOFF_MAX_MS   30000

static volatile sig_atomic_t sender_stop, sender_reload;
static int sender_wake[2] = {-1, -1};

static void
sender_on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		sender_reload = 1;
	else
		sender_stop = 1;
	if (write(sender_wake[1], "x", 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

static int
sender_signals(void)
{
	struct sigaction sa;

	if (pipe(sender_wake) != 0)
		return OP_EIO;
	fcntl(sender_wake[0], F_SETFL, O_NONBLOCK);
	fcntl(sender_wake[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sender_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return OP_OK;
}

/* Batches sent and not yet acknowledged, oldest first.  Four keep the
 * aggregator's default four workers busy while the sender waits for the
 * oldest reply, reads the next batch and encodes it. */
#define SENDER_IN_FLIGHT 4

struct sender_flight {
	struct op_call *call;
	size_t n;              /* events */
	struct spool_pos last; /* of its last event: the ack names it */
	struct spool_pos next; /* just past it: the cursor once acked */
};

struct sender {
	struct agent_conf *conf;
	struct spool *spool;
	struct op_client *client;
	int inotify;
	int backoff_ms;
	int connected;
	int failback;        /* due: once nothing is in flight */
	int64_t failover_ms; /* when we moved off the first address, or 0 */
	/* the collectors and the webhook run alongside (collect.h) */
	struct agent_collect *collect;
	struct agent_webhook *webhook;
	/* Positions: everything before acked is committed (the cursor);
	 * reading goes on at read, past the batches in flight. */
	struct spool_pos acked, read;
	struct sender_flight flight[SENDER_IN_FLIGHT];
	size_t head, count; /* the oldest in flight, and how many */
	/* the batch being built, in room for cap events; full when it
	 * stopped at a limit rather than at the end of the spool */
	op_event **events;
	size_t n, bytes, cap;
	int full;
	struct spool_pos first, last, next;
	unsigned long long refused; /* batches refused since start */
};

/* ---- batch building ------------------------------------------------ */

static int
sender_collect(void *arg, struct spool_pos at, const uint8_t *data, size_t len)
{
	struct sender *s = arg;
	op_event *e;

	if (s->n == s->cap || (s->n > 0 && s->bytes + len > SENDER_MAX_BYTES)) {
		s->full = 1;
		return 1;
	}
	e = opspulse__v1__event__unpack(NULL, len, data);
	if (e == NULL) {
		/* The checksum matched, so this was written this way: keep it
		 * visible rather than silently skipping it. */
		op_error(MOD,
		         "spool record at %" PRIu64 ":%" PRIu64
		         " is not an event; skipping it",
		         at.seg, at.off);
		return 0;
	}
	if (s->n == 0)
		s->first = at;
	s->last = at;
	s->events[s->n++] = e;
	s->bytes += len;
	return 0;
}

static void
sender_clear(struct sender *s)
{
	for (size_t i = 0; i < s->n; i++)
		opspulse__v1__event__free_unpacked(s->events[i], NULL);
	s->n = 0;
	s->bytes = 0;
}

/* Reads the next batch from the spool, from s->read on.  s->n is 0 when
 * there is nothing (valid) to send. */
static int
sender_fill(struct sender *s)
{
	struct spool_pos pos = s->read;
	uint64_t skipped = 0;
	long got;

	sender_clear(s);
	s->first = pos;
	s->full = 0;
	got = spool_read(s->spool, &pos, (size_t)s->conf->batch_events,
	                 sender_collect, s, &skipped);
	if (got < 0)
		return (int)-got;
	if (got >= s->conf->batch_events)
		s->full = 1;
	s->next = pos;
	return OP_OK;
}

/* ---- sending ------------------------------------------------------- */

/*
 * The access logs' skipped-line totals (tail.h) into b->line_skips: one
 * entry per file and reason with a count.  Returns the memory to free
 * after encoding (NULL when there is none).
 */
static void *
sender_line_skips(const struct agent_conf *c, op_batch *b)
{
	static char reasons[ALOG_NSKIP][16];
	size_t max = c->access_logs.n * ALOG_NSKIP, n = 0;
	Opspulse__V1__LineSkips *ls, **ptrs;
	void *mem;

	if (max == 0 ||
	    (mem = calloc(max, sizeof(*ls) + sizeof(*ptrs))) == NULL)
		return NULL;
	ls = mem;
	ptrs = (Opspulse__V1__LineSkips **)(ls + max);
	for (size_t i = 0; i < c->access_logs.n; i++) {
		struct tail_status st;

		if (tail_status_read(c, i, &st) != OP_OK)
			continue;
		for (int r = 1; r < ALOG_NSKIP && n < 1024; r++) {
			if (st.skips[r] == 0)
				continue;
			snprintf(reasons[r], sizeof(reasons[r]), "%s",
			         alog_skip_name((enum alog_skip)r));
			opspulse__v1__line_skips__init(&ls[n]);
			ls[n].path = c->access_logs.items[i].path;
			ls[n].reason = reasons[r];
			ls[n].count = st.skips[r];
			ptrs[n] = &ls[n];
			n++;
		}
	}
	b->line_skips = ptrs;
	b->n_line_skips = n;
	return mem;
}

static int
sender_encode(struct sender *s, uint8_t **buf, size_t *len)
{
	op_envelope env;
	op_batch b;
	uint64_t dropped = 0;
	void *skips;
	int rv;

	opspulse__v1__envelope__init(&env);
	opspulse__v1__batch__init(&b);
	/* The aggregator keeps the greatest count it was sent, so a batch
	 * that says 0 after a failed read loses nothing. */
	if (spool_dropped(s->spool, &dropped) != OP_OK)
		op_warn(MOD, "cannot read the dropped-events count in %s",
		        s->conf->spool_dir);
	b.agent_id = s->conf->id;
	b.agent_version = (char *)OPSPULSE_VERSION;
	b.spool_id = spool_id(s->spool);
	b.first_seq = SPOOL_SEQ(s->first);
	b.last_seq = SPOOL_SEQ(s->last);
	b.dropped_total = dropped;
	b.n_events = s->n;
	b.events = s->events;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &b;
	skips = sender_line_skips(s->conf, &b);
	rv = op_pack(&env.base, buf, len);
	free(skips);
	return rv;
}

/* Records the connection state for `opspulse-agent status`.  Written
 * only when it changes. */
static void
sender_write_state(struct sender *s)
{
	char path[4096], tmp[4200], t[OP_TIME_BUFSZ];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/state", s->conf->spool_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return;
	fprintf(fp, "%s %s %s\n", s->connected ? "connected" : "disconnected",
	        op_client_address(s->client),
	        op_time_format(op_time_now_us(), t, sizeof(t)));
	if (fclose(fp) == 0)
		rename(tmp, path);
}

static void
sender_connected(struct sender *s, int up)
{
	if (up == s->connected)
		return;
	s->connected = up;
	if (up)
		op_info(MOD, "connected to %s", op_client_address(s->client));
	sender_write_state(s);
}

/* Notes when we moved off the first address; after sender.failback_ms
 * away, the first is tried again once nothing is in flight. */
static void
sender_failback_check(struct sender *s)
{
	int64_t now = op_time_mono_ms();

	if (op_client_index(s->client) == 0)
		s->failover_ms = 0;
	else if (s->failover_ms == 0)
		s->failover_ms = now;
	else if (now - s->failover_ms >= s->conf->failback_ms)
		s->failback = 1;
}

static void
sender_failback(struct sender *s)
{
	op_info(MOD, "trying the first aggregator %s again",
	        s->conf->aggregators.items[0]);
	op_client_restart(s->client);
	s->connected = 0;
	s->failover_ms = 0;
	s->failback = 0;
}

/* Records a refused batch for `opspulse-agent status` and `flush`, in
 * <spool>/refused: "COUNT TIME" and the aggregator's reason. */
static void
sender_write_refused(struct sender *s, const char *reason)
{
	char path[4096], tmp[4200], t[OP_TIME_BUFSZ];
	FILE *fp;

	s->refused++;
	snprintf(path, sizeof(path), "%s/refused", s->conf->spool_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return;
	fprintf(fp, "%llu %s\n%s\n", s->refused,
	        op_time_format(op_time_now_us(), t, sizeof(t)), reason);
	if (fclose(fp) == 0)
		rename(tmp, path);
}

/* Interprets the aggregator's answer.  OP_OK means acknowledged. */
static int
sender_answer(struct sender *s, const struct sender_flight *f,
              const uint8_t *buf, size_t len)
{
	op_reply *r = opspulse__v1__reply__unpack(NULL, len, buf);
	int rv = OP_EPROTO;

	if (r == NULL) {
		op_warn(MOD, "%s sent an answer that is not a reply",
		        op_client_address(s->client));
	} else if (r->error != NULL && r->error->code != 0) {
		op_warn(MOD, "%s refused a batch of %zu events: %s",
		        op_client_address(s->client), f->n, r->error->message);
		rv = OP_EREJECTED;
		sender_write_refused(s, r->error->message);
	} else if (r->body_case == OPSPULSE__V1__REPLY__BODY_ACK &&
	           r->ack->spool_id == spool_id(s->spool) &&
	           r->ack->committed_seq == SPOOL_SEQ(f->last)) {
		op_debug(MOD, "acknowledged %zu events (%u new, %u duplicates)",
		         f->n, r->ack->stored, r->ack->duplicates);
		rv = OP_OK;
	} else {
		op_warn(MOD,
		        "%s acknowledged something other than the batch "
		        "sent; resending",
		        op_client_address(s->client));
	}
	if (r)
		opspulse__v1__reply__free_unpacked(r, NULL);
	return rv;
}

static void
sender_send_failed(struct sender *s, int rv)
{
	if (s->connected || s->backoff_ms == BACKOFF_MIN_MS)
		op_warn(MOD, "cannot deliver to %s: %s; retrying",
		        op_client_address(s->client), op_strerror(rv));
	sender_connected(s, 0);
}

/* Encodes the batch read and sends it, behind those in flight. */
static int
sender_send(struct sender *s)
{
	struct sender_flight *f =
	    &s->flight[(s->head + s->count) % SENDER_IN_FLIGHT];
	uint8_t *req = NULL;
	size_t len;
	int rv;

	if ((rv = sender_encode(s, &req, &len)) != OP_OK)
		return rv;
	rv = op_client_send(s->client, req, len, &f->call);
	free(req);
	if (rv != OP_OK) {
		sender_send_failed(s, rv);
		return rv;
	}
	f->n = s->n;
	f->last = s->last;
	f->next = s->next;
	s->count++;
	s->read = s->next;
	sender_clear(s);
	return OP_OK;
}

/* Waits for the oldest batch in flight and moves the cursor past it when
 * the aggregator committed it: acknowledgements in spool order. */
static int
sender_settle(struct sender *s)
{
	struct sender_flight *f = &s->flight[s->head];
	uint8_t *rep = NULL;
	size_t len;
	int rv = op_call_wait(s->client, f->call, &rep, &len);

	f->call = NULL;
	s->head = (s->head + 1) % SENDER_IN_FLIGHT;
	s->count--;
	if (rv != OP_OK) {
		sender_send_failed(s, rv);
		return rv;
	}
	sender_connected(s, 1);
	rv = sender_answer(s, f, rep, len);
	free(rep);
	if (rv == OP_OK && (rv = spool_ack(s->spool, f->next)) == OP_OK) {
		s->acked = f->next;
		sender_failback_check(s);
	}
	return rv;
}

/* A batch failed: the ones behind it are abandoned (their replies, if any,
 * are dropped) and reading starts again at the cursor.  The aggregator
 * stores each event once, however often it is sent. */
static void
sender_abandon(struct sender *s)
{
	while (s->count > 0) {
		struct sender_flight *f = &s->flight[s->head];
		uint8_t *rep = NULL;
		size_t len;

		if (op_call_wait(s->client, f->call, &rep, &len) == OP_OK)
			free(rep);
		f->call = NULL;
		s->head = (s->head + 1) % SENDER_IN_FLIGHT;
		s->count--;
	}
	s->read = s->acked;
}

/*
 * Reads and sends batches until SENDER_IN_FLIGHT are out or the spool has
 * no more.  Returns OP_OK, or the error of a spool read or a send.
 */
static int
sender_top_up(struct sender *s)
{
	int rv = OP_OK;

	while (s->count < SENDER_IN_FLIGHT && !s->failback && !sender_stop) {
		if ((rv = sender_fill(s)) != OP_OK) {
			op_error(MOD, "cannot read spool %s: %s",
			         s->conf->spool_dir, op_strerror(rv));
			return rv;
		}
		if (s->n == 0) {
			/* Only damaged records passed over, if any: read on
			 * after them, and once nothing is in flight before
			 * them, move the cursor past them too. */
			s->read = s->next;
			if (s->count == 0 &&
			    spool_pos_before(s->acked, s->next) &&
			    (rv = spool_ack(s->spool, s->next)) == OP_OK)
				s->acked = s->next;
			return rv;
		}
		/* A batch short of full is the spool's tail: it goes out
		 * once nothing is in flight, having grown meanwhile, so that
		 * a steady trickle still travels in batches. */
		if (!s->full && s->count > 0) {
			sender_clear(s);
			return OP_OK;
		}
		if ((rv = sender_send(s)) != OP_OK)
			return rv;
	}
	return OP_OK;
}

/* ---- waiting ------------------------------------------------------- */

static void
sender_drain(int fd)
{
	char buf[4096];

	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Waits for new spool data, a signal, the aggregator answering again
 * (up, readable once it does, or -1) or timeout_ms (-1: forever), running
 * the collectors as they fall due meanwhile. */
static void
sender_wait(struct sender *s, int up, int timeout_ms)
{
	struct pollfd p[3] = {{sender_wake[0], POLLIN, 0},
	                      {up, POLLIN, 0},
	                      {s->inotify, POLLIN, 0}};
	int64_t end = op_time_mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	int woke = 0;

	while (!woke && !sender_stop && !sender_reload) {
		int64_t left = end - op_time_mono_ms();
		int t = timeout_ms < 0 ? -1 : (int)(left > 0 ? left : 0);

		/* poll skips a negative descriptor */
		woke = poll(p, s->inotify >= 0 ? 3 : 2,
		            agent_collect_timeout(s->collect, t)) > 0;
		if (woke) {
			sender_drain(sender_wake[0]);
			sender_drain(s->inotify);
		}
		agent_collect_run_due(s->collect);
		if (timeout_ms >= 0 && op_time_mono_ms() >= end)
			break;
	}
}

static int
sender_jitter(int ms)
{
	return ms * 3 / 4 + rand() % (ms / 2 + 1);
}

/* Waits out the backoff after a failure; when the aggregator could not
 * be reached, only until it answers again (op_client_watch). */
static void
sender_backoff(struct sender *s)
{
	sender_wait(s, op_client_watch(s->client),
	            sender_jitter(s->backoff_ms));
	s->backoff_ms *= 2;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
}

/* ---- lifecycle ----------------------------------------------------- */

static int
sender_client(struct sender *s)
{
	return op_client_alloc(&s->client, &s->conf->aggregators, &s->conf->tls,
	                       (int)s->conf->timeout_ms);
}

/* Makes room for a batch of sender.batch_events: that many, not the
 * protocol's maximum, so that an idle daemon holds a few KiB for it. */
static int
sender_reserve(struct sender *s)
{
	size_t want = (size_t)s->conf->batch_events;
	op_event **ev;

	if (want <= s->cap)
		return OP_OK;
	if ((ev = realloc(s->events, want * sizeof(*ev))) == NULL)
		return OP_ENOMEM;
	s->events = ev;
	s->cap = want;
	return OP_OK;
}

/* SIGHUP: reread the configuration; a bad one keeps the old. */
static void
sender_do_reload(struct sender *s, const char *file)
{
	struct agent_conf next, old = *s->conf;
	struct op_client *oldc = s->client;

	sender_reload = 0;
	if (agent_conf_load(&next, file, NULL) != OP_OK) {
		op_error(MOD,
		         "reload of %s failed; keeping the running "
		         "configuration",
		         file);
		agent_conf_free(&next);
		return;
	}
	*s->conf = next;
	if (sender_client(s) != OP_OK) {
		op_error(MOD,
		         "reload of %s failed; keeping the running "
		         "configuration",
		         file);
		agent_conf_free(s->conf);
		*s->conf = old;
		s->client = oldc;
		return;
	}
	if (sender_reserve(s) != OP_OK)
		op_warn(MOD,
		        "out of memory for batches of %lld events; "
		        "sending smaller ones",
		        s->conf->batch_events);
	op_client_free(oldc);
	agent_conf_free(&old);
	s->connected = 0;
	op_info(MOD, "configuration reloaded from %s", file);
}

static int
sender_open(struct sender *s, struct agent_conf *c)
{
	int rv;

	s->conf = c;
	s->backoff_ms = BACKOFF_MIN_MS;
	if ((rv = sender_reserve(s)) != OP_OK)
		return rv;
	if ((rv = spool_open(&s->spool, c->spool_dir,
	                     (uint64_t)c->spool_max_mb << 20)) != OP_OK)
		return rv;
	if ((rv = sender_client(s)) != OP_OK)
		return rv;
	if ((rv = spool_cursor(s->spool, &s->acked)) != OP_OK)
		return rv;
	s->read = s->acked;
	s->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->inotify < 0 ||
	    inotify_add_watch(s->inotify, c->spool_dir,
	                      IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
		op_error(MOD, "cannot watch %s: %s", c->spool_dir,
		         strerror(errno));
		return OP_EIO;
	}
	return OP_OK;
}

static void
sender_close(struct sender *s)
{
	sender_abandon(s);
	sender_clear(s);
	free(s->events);
	op_client_free(s->client);
	spool_close(s->spool);
	if (s->inotify >= 0)
		close(s->inotify);
}

/* Starts (or stops) the collectors and the webhook.  A webhook that
 * cannot listen is logged and left off: shipping goes on. */
static void
sender_extras(struct sender *s, int start)
{
	int rv;

	if (!start) {
		agent_webhook_stop(s->webhook);
		agent_collect_stop(s->collect);
		s->webhook = NULL;
		s->collect = NULL;
		return;
	}
	if (agent_collect_start(&s->collect, s->conf) != OP_OK)
		op_error(MOD, "cannot start the collectors: out of memory");
	/* The daemon delivers without the webhook. */
	if ((rv = agent_webhook_start(&s->webhook, s->conf)) != OP_OK)
		op_error(MOD,
		         "no Alertmanager webhook on %s (%s); events recorded "
		         "by commands are still delivered",
		         s->conf->webhook_listen, op_strerror(rv));
}

/* One turn of the daemon's loop: reload when asked (with nothing in
 * flight), top up the batches in flight, then wait for the oldest, for new
 * spool data when there is none, or out a failure's backoff. */
static void
sender_step(struct sender *s, const char *config_file)
{
	int rv;

	if (s->count == 0 && s->failback)
		sender_failback(s);
	if (sender_reload && s->count == 0) {
		sender_extras(s, 0);
		sender_do_reload(s, config_file);
		sender_extras(s, 1);
	}
	rv = sender_reload ? OP_OK : sender_top_up(s);
	if (s->count > 0 && (rv = sender_settle(s)) == OP_OK) {
		s->backoff_ms = BACKOFF_MIN_MS;
		return;
	}
	if (rv != OP_OK) {
		sender_abandon(s);
		sender_backoff(s);
	} else if (s->count == 0 && !s->failback && !sender_reload) {
		sender_wait(s, -1, -1);
	}
}

int
agent_cmd_daemon(struct agent_conf *c, const char *config_file)
{
	struct sender s;
	int rv;

	/* One malloc arena for every thread: each of nng's threads that
	 * allocates would otherwise get an arena of its own, with resident
	 * pages for the few bytes it holds. */
	mallopt(M_ARENA_MAX, 1);
	memset(&s, 0, sizeof(s));
	s.inotify = -1;
	srand((unsigned)(op_time_now_us() ^ getpid()));
	if ((rv = sender_signals()) != OP_OK ||
	    (rv = sender_open(&s, c)) != OP_OK) {
		sender_close(&s);
		return 1;
	}
	op_info(MOD, "agent %s started; spool %s, aggregators %s%s", c->id,
	        c->spool_dir, c->aggregators.items[0],
	        c->aggregators.n > 1 ? " (and more)" : "");
	if (c->tls.insecure)
		op_warn(MOD, "tls.insecure is set: events travel unencrypted "
		             "and unauthenticated");
	sender_extras(&s, 1);
	while (!sender_stop)
		sender_step(&s, config_file);
	op_info(MOD, "stopping");
	sender_extras(&s, 0);
	sender_close(&s);
	return 0;
}
