/*
 * Latency buckets of SPEC §12.2, shared by everything that counts request
 * durations: the access-log tailer, `requests record`, the import and the
 * tests.  Durations are whole microseconds.
 */
#ifndef OP_LATENCY_H
#define OP_LATENCY_H

#include <stdint.h>

#include "op_error.h"

/* Upper limit on the bucket entries of one Requests event. */
#define OP_MAX_LATENCY_BUCKETS 4096
/* Upper limit on the requests of one minute part. */
#define OP_MAX_MINUTE_REQUESTS 1000000000000ULL

/* The upper value of v's bucket: with s = max(0, floor(log2 v) - 6), the
 * bucket is [(v >> s) << s, ((v >> s) + 1) << s) and its upper value is
 * (((v >> s) + 1) << s) - 1.  Exact below 128 µs.  Saturates at
 * UINT64_MAX for values whose bucket would pass it. */
uint64_t op_latency_upper_us(uint64_t v);

/* Non-zero when u is the upper value of some bucket. */
int op_latency_is_upper(uint64_t u);

/*
 * A duration's decimal text ("0.123", "12", "1.5e-3" is refused) in the
 * given unit as whole microseconds, rounded half up from the exact decimal
 * value (no floating point).  unit_exp is the power of ten of one unit in
 * microseconds: 6 for seconds, 3 for milliseconds, 0 for microseconds.
 * Parses exactly len bytes (len may be less than strlen(s)).  Returns OP_OK,
 * or OP_EINVAL for anything but digits with at most one '.', or a value
 * above 31 days.
 */
OP_MUSTCHECK int op_latency_parse_us(const char *s, size_t len, int unit_exp,
                                     uint64_t *us);

#endif /* OP_LATENCY_H */
