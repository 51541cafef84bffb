/*
 * The access-log tailer (SPEC §12.1): follows each configured access log,
 * counts its complete lines per (service, env, host, UTC minute) and
 * appends Requests events to the spool.
 *
 * Exactly once: a file is read in ranges [start, end) of complete lines.
 * Each flush appends one Requests event per minute the range touched, all
 * named part "<source>:<generation>:<start>" with part_end = end, to the
 * spool (fsynced), and only then makes the new position durable in a state
 * file (<spool dir>/tail/<id>.state, written to a temporary file, fsynced
 * and renamed).  After a crash between the two the same range is read
 * again from the same start, so the aggregator gets the same part with an
 * equal or larger part_end, which replaces the earlier one.
 *
 * Rotation: a file renamed away is read to its end and left once the new
 * file at the path has data and the old one stayed quiet for a whole poll;
 * the new file is then read from 0 under a new generation.  A file that
 * shrinks or whose bytes before the position change (copytruncate) gets
 * its copy among the rotated siblings read to the end first, then is read
 * again from 0 under a new generation.  After a restart, a file rotated
 * meanwhile is found among its siblings by inode.
 */
#ifndef TAIL_H
#define TAIL_H

#include <stdint.h>

#include "access_log.h"
#include "agent.h"
#include "op_error.h"

/* Seconds between polls of the configured files. */
#define TAIL_INTERVAL_S 2

/* Every configured access log being followed. */
struct tail;

/*
 * Sets up tailing for c's access_logs and reads their durable positions.
 * c must outlive the tail.  Returns OP_OK, OP_ENOMEM, or OP_EIO when the
 * state directory cannot be made (logged).  Free with tail_close.
 */
OP_MUSTCHECK int tail_open(struct tail **out, const struct agent_conf *c);

/*
 * Reads what was appended to each file since the last poll, handles
 * rotation and truncation, records the counts and makes the positions
 * durable.  Problems are logged and retried at the next poll; bad lines
 * are counted and skipped.
 */
void tail_poll(struct tail *t);

/* Frees t (NULL is fine).  Nothing is lost: every poll ends durable. */
void tail_close(struct tail *t);

/* The durable state of access log i of c, as `status` and the sender read
 * it. */
struct tail_status {
	uint64_t generation, offset;
	uint64_t skips[ALOG_NSKIP];
};

/*
 * Reads the state file of c->access_logs.items[i] into st.  Returns OP_OK,
 * OP_ENOTFOUND when the file has not been read yet, or OP_EIO.
 */
OP_MUSTCHECK int tail_status_read(const struct agent_conf *c, size_t i,
                                  struct tail_status *st);

#endif
