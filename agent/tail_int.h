/*
 * Inside the tailer: one followed file and its durable state, shared by
 * tail.c (reading, rotation), tail_count.c (per-minute counts, flushing)
 * and tail_state.c (state files, rotated siblings).
 */
#ifndef TAIL_INT_H
#define TAIL_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "access_log.h"
#include "agent.h"
#include "op_error.h"

/* Minutes one range may touch before it is flushed (bounds memory). */
#define TAIL_MAX_MINUTES 8
/* Bytes one range may cover before it is flushed. */
#define TAIL_RANGE_BYTES (64u << 20)
/* Latency buckets of SPEC §12.2 up to 31 days: index s*64 + (v >> s). */
#define TAIL_NBUCKETS 2368
/* Bytes before the position compared to notice a rewritten file. */
#define TAIL_FP 16

struct tail_minute {
	int64_t minute_us;
	uint64_t requests, errors, timed;
	uint32_t *hist; /* TAIL_NBUCKETS counts, allocated on first use */
};

/* What is durable about a file: where the next range starts. */
struct tail_pos {
	char source[48]; /* "<path id>-<inode when the generation began>" */
	uint64_t gen, off;
	uint64_t dev, ino;
	int skipping; /* off is inside an over-long line */
	unsigned char fp[TAIL_FP];
	size_t nfp;
	uint64_t skips[ALOG_NSKIP];
};

struct tail_src {
	const struct agent_conf *conf;
	const struct agent_access_log *cfg;
	struct alog_json_fields jf;
	char *state_path;
	char path_id[17];
	struct tail_pos durable; /* as on disk */
	struct tail_pos cur;     /* cur.off: end of what was consumed */
	int fd;
	int have_state;     /* durable was read from disk or written */
	int rotation_seen;  /* another file is at the path: polls seen */
	uint64_t read_poll; /* bytes read during this poll */
	char *buf;          /* partial line after cur.off; NULL when idle */
	size_t blen;
	struct tail_minute min[TAIL_MAX_MINUTES];
	size_t nmin;
};

/* ---- tail_count.c ---- */

/* Counts a parsed line in s's range; flushes first when the range is full.
 * Returns OP_OK or the flush's error. */
OP_MUSTCHECK int tail_count_line(struct tail_src *s, const struct alog_line *l);

/* Records the range [durable.off, cur.off): events, then the state.  On
 * failure the range is dropped and the position goes back to durable. */
OP_MUSTCHECK int tail_flush(struct tail_src *s);

/* Drops the counts of the range (after a failed flush, or at close). */
void tail_count_reset(struct tail_src *s);

/* ---- tail_state.c ---- */

/* "<dir>/tail/<path id>.state" into a new string; NULL when out of memory. */
char *tail_state_file(const char *spool_dir, const char *path_id);

/* The 16-hex FNV-1a id of path. */
void tail_path_id(const char *path, char out[17]);

/* Reads a state file into p.  OP_OK, OP_ENOTFOUND or OP_EIO. */
OP_MUSTCHECK int tail_state_load(const char *file, struct tail_pos *p);

/* Writes p durably (temporary file, fsync, rename, fsync of the
 * directory).  OP_OK or OP_EIO (logged). */
OP_MUSTCHECK int tail_state_save(const char *file, const char *path,
                                 const struct tail_pos *p);

/* Opens a sibling of path (same directory, name starting with its name)
 * that is (dev, ino), or when ino is 0 whose bytes before off are fp.
 * Returns the descriptor or -1. */
int tail_find_sibling(const char *path, uint64_t dev, uint64_t ino,
                      uint64_t off, const unsigned char *fp, size_t nfp);

/* Reads the TAIL_FP bytes before off from fd into fp; their count. */
size_t tail_read_fp(int fd, uint64_t off, unsigned char *fp);

#endif
