/*
 * Runs the registered collectors on their intervals and records what they
 * find.  The daemon asks agent_collect_timeout how long it may sleep and
 * calls agent_collect_run_due when it wakes: no thread, no busy timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"

#define MOD            "collect"
#define EXEC_MAX_INPUT 4096 /* well within a pipe's buffer */

/* Every collector, once.  Adding one is one file and one line here. */
static const struct agent_collector *const agent_collectors[] = {
    &agent_collector_os_release,  &agent_collector_kernel,
    &agent_collector_packages,    &agent_collector_commands,
    &agent_collector_postgresql,  &agent_collector_redis,
    &agent_collector_capacity,    &agent_collector_sessions,
    &agent_collector_access_logs,
};

#define NCOLLECTORS (sizeof(agent_collectors) / sizeof(agent_collectors[0]))

struct agent_sink {
	const struct agent_conf *conf;
	struct agent_event **events;
	size_t n, cap;
	char **strs;
	size_t nstrs, capstrs;
};

struct agent_collect_slot {
	const struct agent_collector *col;
	void *state;
	int64_t interval_ms, next_ms; /* monotonic */
};

struct agent_collect {
	const struct agent_conf *conf;
	struct agent_collect_slot slots[NCOLLECTORS];
	size_t n;
};

/* ---- sink ------------------------------------------------------------ */

static int
sink_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *p;

	if (n < *cap)
		return OP_OK;
	if ((p = realloc(*arr, (*cap ? *cap * 2 : 16) * elem)) == NULL)
		return OP_ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 16;
	return OP_OK;
}

struct agent_event *
agent_sink_event(struct agent_sink *s)
{
	struct agent_event *e;

	if (sink_grow((void **)&s->events, &s->cap, s->n, sizeof(*s->events)) ||
	    (e = malloc(sizeof(*e))) == NULL)
		return NULL;
	agent_event_init(e, s->conf);
	e->ev.operator_ = (char *)"";
	s->events[s->n++] = e;
	return e;
}

char *
agent_sink_str(struct agent_sink *s, const char *str)
{
	char *copy;

	if (sink_grow((void **)&s->strs, &s->capstrs, s->nstrs,
	              sizeof(*s->strs)) ||
	    (copy = strdup(str)) == NULL)
		return NULL;
	s->strs[s->nstrs++] = copy;
	return copy;
}

int
agent_sink_component(struct agent_sink *out, const char *service,
                     const char *name, const char *version)
{
	struct agent_event *e = agent_sink_event(out);
	Opspulse__V1__Component *c;

	if (e == NULL)
		return OP_ENOMEM;
	c = agent_event_component(e);
	c->name = agent_sink_str(out, name);
	c->version = agent_sink_str(out, version);
	if (service && *service)
		e->ev.service = agent_sink_str(out, service);
	c->observed_us = e->ev.recorded_us;
	if (c->name == NULL || c->version == NULL || e->ev.service == NULL)
		return OP_ENOMEM;
	return OP_OK;
}

int
agent_sink_package(struct agent_sink *out, const char *service,
                   const char *name, const char *version, const char *dist,
                   const char *dist_version)
{
	int rv = agent_sink_component(out, service, name, version);
	Opspulse__V1__Component *c;

	if (rv != OP_OK)
		return rv;
	c = out->events[out->n - 1]->ev.component;
	c->distribution = agent_sink_str(out, dist);
	c->distribution_version = agent_sink_str(out, dist_version);
	if (c->distribution == NULL || c->distribution_version == NULL)
		return OP_ENOMEM;
	return OP_OK;
}

/* Records the sink's events with one fsync and empties it. */
static void
sink_flush(struct agent_sink *s, const char *name)
{
	if (s->n > 0 &&
	    agent_record(s->conf, (op_event *const *)s->events, s->n) != OP_OK)
		op_warn(MOD, "%s: %zu events could not be recorded", name,
		        s->n);
	else if (s->n > 0)
		op_debug(MOD, "%s: recorded %zu events", name, s->n);
	for (size_t i = 0; i < s->n; i++)
		free(s->events[i]);
	for (size_t i = 0; i < s->nstrs; i++)
		free(s->strs[i]);
	free(s->events);
	free(s->strs);
	memset(s, 0, sizeof(*s));
}

/* ---- scheduling -------------------------------------------------------- */

static void
collect_one(struct agent_collect *col, struct agent_collect_slot *slot)
{
	struct agent_sink sink = {0};

	sink.conf = col->conf;
	slot->col->collect(slot->state, col->conf, &sink);
	sink_flush(&sink, slot->col->name);
}

int
agent_collect_start(struct agent_collect **out, const struct agent_conf *c)
{
	struct agent_collect *col = calloc(1, sizeof(*col));
	int64_t now = op_time_mono_ms();

	if ((*out = col) == NULL)
		return OP_ENOMEM;
	col->conf = c;
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		const struct agent_collector *k = agent_collectors[i];
		struct agent_collect_slot *slot = &col->slots[col->n];
		long long secs = k->interval_s(c);

		if (secs <= 0)
			continue;
		if (k->init && k->init(&slot->state, c) != OP_OK) {
			op_warn(MOD, "%s collector disabled", k->name);
			continue;
		}
		slot->col = k;
		slot->interval_ms = secs * 1000;
		slot->next_ms =
		    now + (k->first_after_interval ? slot->interval_ms : 0);
		col->n++;
		op_debug(MOD, "%s every %lld s", k->name, secs);
	}
	return OP_OK;
}

int
agent_collect_timeout(const struct agent_collect *col, int timeout_ms)
{
	int64_t now = op_time_mono_ms();

	for (size_t i = 0; col && i < col->n; i++) {
		int64_t wait = col->slots[i].next_ms - now;
		if (wait < 0)
			wait = 0;
		if (timeout_ms < 0 || wait < timeout_ms)
			timeout_ms = (int)wait;
	}
	return timeout_ms;
}

void
agent_collect_run_due(struct agent_collect *col)
{
	for (size_t i = 0; col && i < col->n; i++) {
		struct agent_collect_slot *slot = &col->slots[i];
		int64_t now = op_time_mono_ms();

		if (slot->next_ms > now)
			continue;
		collect_one(col, slot);
		/* Keep the cadence, but never catch up on missed runs. */
		slot->next_ms += slot->interval_ms;
		if (slot->next_ms <= now)
			slot->next_ms = now + slot->interval_ms;
	}
}

void
agent_collect_stop(struct agent_collect *col)
{
	for (size_t i = 0; col && i < col->n; i++) {
		if (col->slots[i].col->fini)
			col->slots[i].col->fini(col->slots[i].state);
	}
	free(col);
}

/* ---- running programs ---------------------------------------------------- */

static void
exec_child(char *const argv[], int in, int out)
{
	int null = in >= 0 ? in : open("/dev/null", O_RDONLY);

	signal(SIGPIPE, SIG_DFL);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	execvp(argv[0], argv);
	_exit(127);
}

/* A pipe whose ends are not inherited across exec (dup2 clears that). */
static int
exec_pipe(int fds[2])
{
	if (pipe(fds) != 0)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

/* Gives the child its input on a pipe (it fits in the pipe's buffer, so
 * this does not block) and returns the read end for it, or -1. */
static int
exec_input(const char *input)
{
	int fds[2];
	size_t len = strlen(input);

	if (len > EXEC_MAX_INPUT || exec_pipe(fds) != 0)
		return -1;
	if (write(fds[1], input, len) != (ssize_t)len) {
		close(fds[0]);
		fds[0] = -1;
	}
	close(fds[1]);
	return fds[0];
}

/* Reads from fd into out until EOF or the deadline; 0 on EOF. */
static int
exec_read(int fd, char *out, size_t size, int64_t deadline)
{
	size_t len = 0;
	char sink[512];

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline - op_time_mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			break;
		/* Past the buffer, keep draining so the child is not blocked.
		 */
		if (len + 1 < size)
			n = read(fd, out + len, size - 1 - len);
		else
			n = read(fd, sink, sizeof(sink));
		if (n == 0) {
			out[len] = '\0';
			return 0;
		}
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && len + 1 < size)
			len += (size_t)n;
	}
	out[len] = '\0';
	return -1;
}

int
agent_exec_capture(char *const argv[], const char *input, char *out,
                   size_t size, int timeout_ms)
{
	int fds[2], in = -1, status = -1, rv;
	pid_t pid;

	out[0] = '\0';
	if ((input && (in = exec_input(input)) < 0) || exec_pipe(fds) != 0) {
		if (in >= 0)
			close(in);
		return -1;
	}
	if ((pid = fork()) == 0)
		exec_child(argv, in, fds[1]);
	close(fds[1]);
	if (in >= 0)
		close(in);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	rv = exec_read(fds[0], out, size, op_time_mono_ms() + timeout_ms);
	close(fds[0]);
	if (rv != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rv != 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
