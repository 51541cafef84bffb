/*
 * The on-disk spool: where every recorded event waits until the aggregator
 * has committed it.
 *
 * Layout of a spool directory:
 *   lock               flock(2) taken by writers and by segment maintenance
 *   seg-<16 hex>.log   append-only segments, oldest first
 *   cursor             "<segment> <offset>": everything before it is acked
 *   meta               "<spool id> <dropped total>"
 *
 * A record is: u32 magic, u32 length, u32 crc32c(length bytes + payload),
 * payload (an encoded Event), little-endian.  Writers append whole records
 * under the lock and fsync before they return, so a record command that
 * succeeded survives kill -9 and a power cut.  A torn record at the tail
 * (crash mid-write) fails its checksum and is cut off; a damaged record in
 * the middle is skipped by scanning for the next valid one.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "op_error.h"

#define SPOOL_MAX_RECORD (1u << 20)

/* A position in the spool; ordered by (seg, off). */
struct spool_pos {
	uint64_t seg;
	uint64_t off;
};

/* Is a before b?  This can't fail. */
int spool_pos_before(struct spool_pos a, struct spool_pos b);

/* Positions as one 64-bit sequence number, for the wire. */
#define SPOOL_SEQ(p) (((p).seg << 32) | (p).off)

struct spool;

/*
 * Opens (creating if needed) the spool in dir, bounded to max_bytes.
 * Returns OP_OK, or OP_EIO/OP_EFORBIDDEN with the reason logged.  The
 * caller frees *out with spool_close.
 */
OP_MUSTCHECK int spool_open(struct spool **out, const char *dir,
                            uint64_t max_bytes);
void spool_close(struct spool *s);

/*
 * Appends n encoded events as records and fsyncs once.  Returns OP_OK only
 * when all n are durable; OP_ETOOBIG if one exceeds SPOOL_MAX_RECORD; OP_EIO
 * or OP_EFULL (disk full) otherwise, in which case none is reported stored
 * (a partial tail is cut off by the next reader).
 */
OP_MUSTCHECK int spool_append(struct spool *s, const uint8_t *const *recs,
                              const size_t *lens, size_t n);

/* Called by spool_read for each record, in order.  Return non-zero to stop
 * before this record (it is then not consumed). */
typedef int (*spool_record_fn)(void *arg, struct spool_pos at,
                               const uint8_t *data, size_t len);

/*
 * Reads records from *pos on, up to max_records, calling fn for each.
 * On return *pos is just past the last record consumed.  Damaged records are
 * skipped and counted in *skipped (may be NULL).  Returns the number of
 * records consumed, or a negative op_err on an I/O error.
 *
 * s keeps the segment it read last open (closed by spool_close), so that
 * reading on from where the previous call stopped costs no open and no
 * directory listing until that segment is exhausted.  One thread at a
 * time per spool handle.
 */
OP_MUSTCHECK long spool_read(struct spool *s, struct spool_pos *pos,
                             size_t max_records, spool_record_fn fn, void *arg,
                             uint64_t *skipped);

/* The acknowledged position (start of the first unacknowledged record). */
OP_MUSTCHECK int spool_cursor(struct spool *s, struct spool_pos *out);

/*
 * Records that everything before pos is acknowledged (durably, by atomic
 * rename) and deletes segments wholly before it.  Returns OP_OK or OP_EIO.
 */
OP_MUSTCHECK int spool_ack(struct spool *s, struct spool_pos pos);

/* The current end of the spool: where the next record will go. */
OP_MUSTCHECK int spool_end(struct spool *s, struct spool_pos *out);

/* Identity of this spool (random, fixed at creation) and the number of
 * events dropped because the spool was full. */
uint64_t spool_id(const struct spool *s);
OP_MUSTCHECK int spool_dropped(struct spool *s, uint64_t *out);

/* Bytes currently held on disk by segments. */
uint64_t spool_bytes(struct spool *s);

const char *spool_dir(const struct spool *s);

/* CRC-32C (Castagnoli) of data, continuing from crc (0 to start). */
uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len);

#endif
