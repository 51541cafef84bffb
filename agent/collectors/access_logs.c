/*
 * The access-log tailer as a collector: polled every TAIL_INTERVAL_S
 * seconds when agent.access_logs lists any file.  It records its own
 * events (tail.h), so that a position is saved only after its counts.
 */
#include "collect.h"
#include "tail.h"

static long long
access_logs_interval_s(const struct agent_conf *c)
{
	return c->access_logs.n > 0 ? TAIL_INTERVAL_S : 0;
}

static int
access_logs_init(void **state, const struct agent_conf *c)
{
	struct tail *t;
	int rv = tail_open(&t, c);

	if (rv != OP_OK) {
		tail_close(t);
		return rv;
	}
	*state = t;
	return OP_OK;
}

static int
access_logs_collect(void *state, const struct agent_conf *c,
                    struct agent_sink *out)
{
	(void)c;
	(void)out;
	tail_poll(state);
	return OP_OK;
}

static void
access_logs_fini(void *state)
{
	tail_close(state);
}

const struct agent_collector agent_collector_access_logs = {
    .name = "access_logs",
    .interval_s = access_logs_interval_s,
    .init = access_logs_init,
    .collect = access_logs_collect,
    .fini = access_logs_fini,
};
