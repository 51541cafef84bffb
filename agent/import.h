/*
 * The JSON Lines import format (SPEC §2.1): one event per line, parsed
 * with jansson.  Kept apart from the command so that a fuzz target can
 * call the line parser directly.
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "op_error.h"
#include "requests.h"

/* One parsed line.  e's strings point into the parsed document. */
struct import_line {
	struct agent_event e;
	void *doc;              /* the jansson document that owns e's strings */
	char idbuf[32];         /* a derived deploy or maintenance id */
	struct agent_hist hist; /* a requests line's latency buckets */
};

/*
 * Parses line (len bytes, no newline needed) into out, filling omitted
 * service, env, host and operator from c, then checks the event with
 * op_event_validate against now_us.  Returns OP_OK, or OP_EINVAL with the
 * reason in err.  On any return the caller releases out with
 * import_line_clear.
 */
OP_MUSTCHECK int import_parse_line(const char *line, size_t len,
                                   const struct agent_conf *c, int64_t now_us,
                                   struct import_line *out, char *err,
                                   size_t errsz);

/* Frees what import_parse_line kept in l.  l may be cleared twice. */
void import_line_clear(struct import_line *l);

#endif
