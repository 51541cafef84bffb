/*
 * Request counts from outside the access logs (SPEC §12.1 item 2): the
 * latency histogram of `requests record` and of the import type
 * `requests`, built from (duration, count) pairs.
 */
#ifndef AGENT_REQUESTS_H
#define AGENT_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "op_error.h"

/* The buckets of one Requests event, owned here; the event borrows them
 * (agent_hist_finish).  Zero-initialise; release with agent_hist_free. */
struct agent_hist {
	Opspulse__V1__LatencyBucket *b;
	Opspulse__V1__LatencyBucket **p;
	size_t n, cap;
	uint64_t total;
};

/*
 * Adds count requests of the duration text s (len bytes, decimal
 * milliseconds such as "12.5"): whole µs rounded half up (SPEC §14.1),
 * then the §12.2 bucket.  Returns OP_OK, or OP_EINVAL with err saying what
 * is wrong (not a duration, count 0 or too large, too many pairs), or
 * OP_ENOMEM.
 */
OP_MUSTCHECK int agent_hist_add(struct agent_hist *h, const char *s, size_t len,
                                uint64_t count, char *err, size_t errsz);

/* Sorts and merges the buckets and points r's latency and timed at them.
 * r borrows h's memory until agent_hist_free.  Returns OP_OK or
 * OP_ENOMEM. */
OP_MUSTCHECK int agent_hist_finish(struct agent_hist *h,
                                   Opspulse__V1__Requests *r);

void agent_hist_free(struct agent_hist *h);

/* `opspulse-agent requests record ...`.  Returns the exit status. */
int agent_cmd_requests(const struct agent_conf *c, int argc, char **argv);

#endif
