/*
 * Unit tests for agent/spool: the durable, bounded, crash-tolerant queue
 * between recording an event and the aggregator committing it (SPEC §3).
 *
 * Every record written here carries its writer and sequence number and a
 * payload derived from them, so that a reader can tell exactly which
 * records came back, in which order, and whether any byte changed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "op_error.h"
#include "op_log.h"
#include "spool.h"

#define HDR  12 /* magic, length, crc: see spool.h */
#define SEG1 "seg-0000000000000001.log"

/* ---- test records ------------------------------------------------------- */

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint8_t
rec_byte(uint32_t w, uint32_t seq, size_t i)
{
	return (uint8_t)(w * 131u + seq * 7u + i * 29u + (i >> 8));
}

/* Fills buf (len >= 8) with the record (w, seq). */
static void
rec_fill(uint8_t *buf, size_t len, uint32_t w, uint32_t seq)
{
	put32(buf, w);
	put32(buf + 4, seq);
	for (size_t i = 8; i < len; i++)
		buf[i] = rec_byte(w, seq, i);
}

static int
rec_ok(const uint8_t *d, size_t len)
{
	if (len < 8)
		return 0;
	for (size_t i = 8; i < len; i++) {
		if (d[i] != rec_byte(get32(d), get32(d + 4), i))
			return 0;
	}
	return 1;
}

/* Appends records (w, first .. first + n - 1) of len bytes in one call. */
static int
append_n(struct spool *s, uint32_t w, uint32_t first, size_t n, size_t len)
{
	uint8_t **bufs = calloc(n, sizeof(*bufs));
	size_t *lens = calloc(n, sizeof(*lens));
	int rv;

	assert_non_null(bufs);
	assert_non_null(lens);
	for (size_t i = 0; i < n; i++) {
		bufs[i] = malloc(len);
		assert_non_null(bufs[i]);
		rec_fill(bufs[i], len, w, first + (uint32_t)i);
		lens[i] = len;
	}
	rv = spool_append(s, (const uint8_t *const *)bufs, lens, n);
	for (size_t i = 0; i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
	return rv;
}

static void
append_one(struct spool *s, uint32_t w, uint32_t seq, size_t len)
{
	assert_int_equal(append_n(s, w, seq, 1, len), OP_OK);
}

/* ---- what a read returned ----------------------------------------------- */

struct item {
	uint32_t w, seq;
	size_t len;
	struct spool_pos at;
};

struct got {
	struct item *v;
	size_t n, cap;
	size_t bad;   /* records whose payload was not what was written */
	long stop_at; /* refuse the record with this index (-1: never) */
};

static int
collect(void *arg, struct spool_pos at, const uint8_t *d, size_t len)
{
	struct got *g = arg;

	if (g->stop_at >= 0 && (size_t)g->stop_at == g->n)
		return 1;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		assert_non_null(g->v);
	}
	if (!rec_ok(d, len))
		g->bad++;
	g->v[g->n].w = len >= 8 ? get32(d) : UINT32_MAX;
	g->v[g->n].seq = len >= 8 ? get32(d + 4) : UINT32_MAX;
	g->v[g->n].len = len;
	g->v[g->n].at = at;
	g->n++;
	return 0;
}

static void
got_reset(struct got *g)
{
	free(g->v);
	memset(g, 0, sizeof(*g));
	g->stop_at = -1;
}

/* Reads everything from *pos on into g; returns the records consumed. */
static size_t
read_all(struct spool *s, struct spool_pos *pos, struct got *g,
         uint64_t *skipped)
{
	size_t total = 0;
	long n;

	while ((n = spool_read(s, pos, 1000, collect, g, skipped)) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);
	return total;
}

/* Asserts that g holds exactly writer 0's records first .. first + n - 1. */
static void
assert_seqs(const struct got *g, uint32_t first, size_t n)
{
	assert_int_equal(g->bad, 0);
	assert_int_equal(g->n, n);
	for (size_t i = 0; i < n; i++) {
		if (g->v[i].w != 0 || g->v[i].seq != first + i)
			fail_msg("record %zu is (%u, %u), expected (0, %zu)", i,
			         g->v[i].w, g->v[i].seq, first + i);
	}
}

/* ---- fixture: a temporary directory holding spools ---------------------- */

struct fixture {
	char base[256];
	char dir[320];
	int next;
	struct spool *s;
	struct got g;
};

static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char child[1024];

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		rm_tree(child);
	}
	closedir(d);
	rmdir(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->base, sizeof(f->base), "%s/spool_test.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->base) == NULL)
		return -1;
	f->g.stop_at = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	spool_close(f->s);
	got_reset(&f->g);
	rm_tree(f->base);
	free(f);
	return 0;
}

/* Opens a fresh spool (in a directory that does not exist yet) as f->s. */
static struct spool *
fresh(struct fixture *f, uint64_t max_bytes)
{
	spool_close(f->s);
	f->s = NULL;
	snprintf(f->dir, sizeof(f->dir), "%s/spool%d", f->base, f->next++);
	assert_int_equal(spool_open(&f->s, f->dir, max_bytes), OP_OK);
	got_reset(&f->g);
	return f->s;
}

static void
seg_path(const struct fixture *f, uint64_t seg, char *buf, size_t size)
{
	snprintf(buf, size, "%s/seg-%016llx.log", f->dir,
	         (unsigned long long)seg);
}

static uint64_t
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static int
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Counts seg-*.log files in f->dir. */
static size_t
count_segments(const struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "seg-", 4) == 0;
	closedir(d);
	return n;
}

/* XORs mask into the byte at off of file path. */
static void
flip_byte(const char *path, uint64_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= mask;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void
write_at(const char *path, uint64_t off, const void *data, size_t len)
{
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_crc32c_known_values(void **state)
{
	uint8_t zeros[32], ones[32], inc[32];

	(void)state;
	/* The standard check value of CRC-32C. */
	assert_int_equal(spool_crc32c(0, "123456789", 9), 0xE3069283u);
	/* iSCSI test vectors, RFC 3720 appendix B.4. */
	memset(zeros, 0, sizeof(zeros));
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	assert_int_equal(spool_crc32c(0, zeros, 32), 0x8A9136AAu);
	assert_int_equal(spool_crc32c(0, ones, 32), 0x62A8AB43u);
	assert_int_equal(spool_crc32c(0, inc, 32), 0x46DD794Eu);
	assert_int_equal(spool_crc32c(0, "", 0), 0);
	/* Continuing from a partial CRC equals one pass. */
	assert_int_equal(spool_crc32c(spool_crc32c(0, "1234", 4), "56789", 5),
	                 0xE3069283u);
}

static void
test_open_and_identity(void **state)
{
	struct fixture *f = *state;
	struct spool_pos p = {7, 7};
	struct spool *again = NULL;
	uint64_t id, dropped = 9;

	fresh(f, 1 << 20);
	id = spool_id(f->s);
	assert_true(id != 0);
	assert_true(id <= (uint64_t)INT64_MAX); /* fits a bigint column */
	assert_string_equal(spool_dir(f->s), f->dir);
	assert_int_equal(spool_dropped(f->s, &dropped), OP_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(spool_cursor(f->s, &p), OP_OK);
	assert_int_equal(p.seg, 0);
	assert_int_equal(p.off, 0);
	assert_int_equal(spool_end(f->s, &p), OP_OK);
	assert_int_equal(p.seg, 0);
	assert_int_equal(p.off, 0);
	assert_int_equal(spool_bytes(f->s), 0);
	/* A second open, as another process would, sees the same spool. */
	assert_int_equal(spool_open(&again, f->dir, 1 << 20), OP_OK);
	assert_int_equal(spool_id(again), id);
	spool_close(again);
	spool_close(NULL);
}

static void
test_open_fails_cleanly(void **state)
{
	struct fixture *f = *state;
	struct spool *s = NULL;
	char path[400];

	/* The parent of the spool directory is a regular file. */
	snprintf(path, sizeof(path), "%s/file", f->base);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	strcat(path, "/spool");
	assert_int_not_equal(spool_open(&s, path, 1 << 20), OP_OK);
	assert_null(s);
}

static void
test_round_trip(void **state)
{
	static const size_t lens[] = {8, 9, 100, 4095, 4096, 4097, 70000, 13};
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0}, end;
	uint64_t expect_off = 0, skipped = 0;
	char path[400];

	fresh(f, 64 << 20);
	for (size_t i = 0; i < 8; i++)
		append_one(f->s, 0, (uint32_t)i, lens[i]);
	/* Several records in one call (one fsync). */
	assert_int_equal(append_n(f->s, 0, 8, 5, 300), OP_OK);

	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 13);
	assert_seqs(&f->g, 0, 13);
	assert_int_equal(skipped, 0);
	for (size_t i = 0; i < 13; i++) {
		size_t len = i < 8 ? lens[i] : 300;

		assert_int_equal(f->g.v[i].len, len);
		assert_int_equal(f->g.v[i].at.seg, 1);
		assert_int_equal(f->g.v[i].at.off, expect_off);
		expect_off += HDR + len;
	}
	/* pos and the spool's end are just past the last record. */
	assert_int_equal(pos.seg, 1);
	assert_int_equal(pos.off, expect_off);
	assert_int_equal(spool_end(f->s, &end), OP_OK);
	assert_int_equal(end.seg, 1);
	assert_int_equal(end.off, expect_off);
	seg_path(f, 1, path, sizeof(path));
	assert_int_equal(file_size(path), expect_off);
	assert_int_equal(spool_bytes(f->s), expect_off);
	/* Nothing more to read, and reading again changes nothing. */
	assert_int_equal(spool_read(f->s, &pos, 10, collect, &f->g, NULL), 0);
	assert_int_equal(pos.off, expect_off);
	assert_int_equal(f->g.n, 13);
}

static void
test_sequence_numbers_increase(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};

	fresh(f, 64 << 20);
	assert_int_equal(append_n(f->s, 0, 0, 20, 50), OP_OK);
	read_all(f->s, &pos, &f->g, NULL);
	assert_int_equal(f->g.n, 20);
	for (size_t i = 1; i < f->g.n; i++)
		assert_true(SPOOL_SEQ(f->g.v[i].at) >
		            SPOOL_SEQ(f->g.v[i - 1].at));
	assert_int_equal(SPOOL_SEQ(f->g.v[1].at), (UINT64_C(1) << 32) | 62);
}

static void
test_append_limits(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	const uint8_t *recs[2];
	size_t lens[2];
	uint8_t *big = malloc(SPOOL_MAX_RECORD + 1);

	assert_non_null(big);
	fresh(f, 64 << 20);
	rec_fill(big, SPOOL_MAX_RECORD + 1, 0, 0);
	recs[0] = big;
	recs[1] = big;
	lens[0] = 100;
	lens[1] = 0;
	assert_int_equal(spool_append(f->s, recs, lens, 2), OP_ETOOBIG);
	lens[1] = SPOOL_MAX_RECORD + 1;
	assert_int_equal(spool_append(f->s, recs, lens, 2), OP_ETOOBIG);
	/* Rejected calls store nothing, not even the good records. */
	assert_int_equal(spool_bytes(f->s), 0);
	/* Exactly the maximum is fine and reads back whole. */
	lens[0] = SPOOL_MAX_RECORD;
	assert_int_equal(spool_append(f->s, recs, lens, 1), OP_OK);
	assert_int_equal(read_all(f->s, &pos, &f->g, NULL), 1);
	assert_int_equal(f->g.v[0].len, SPOOL_MAX_RECORD);
	assert_int_equal(f->g.bad, 0);
	free(big);
}

static void
test_read_max_and_stop(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0}, at3;

	fresh(f, 64 << 20);
	assert_int_equal(append_n(f->s, 0, 0, 10, 40), OP_OK);
	assert_int_equal(spool_read(f->s, &pos, 3, collect, &f->g, NULL), 3);
	assert_int_equal(pos.off, 3 * (HDR + 40));
	at3 = pos;
	/* A callback that refuses a record leaves it unconsumed. */
	f->g.stop_at = 5;
	assert_int_equal(spool_read(f->s, &pos, 100, collect, &f->g, NULL), 2);
	assert_int_equal(pos.off, 5 * (HDR + 40));
	f->g.stop_at = -1;
	assert_int_equal(spool_read(f->s, &pos, 100, collect, &f->g, NULL), 5);
	assert_seqs(&f->g, 0, 10);
	/* Reading from a remembered position repeats the same records. */
	got_reset(&f->g);
	assert_int_equal(read_all(f->s, &at3, &f->g, NULL), 7);
	assert_int_equal(f->g.v[0].seq, 3);
	assert_int_equal(spool_read(f->s, &pos, 0, collect, &f->g, NULL), 0);
}

/*
 * Fills several segments with 256 KiB records, one append each, and
 * returns the records as read back (in f->g).
 */
static void
fill_segments(struct fixture *f, size_t n)
{
	struct spool_pos pos = {0, 0};

	for (size_t i = 0; i < n; i++)
		append_one(f->s, 0, (uint32_t)i, 256 << 10);
	got_reset(&f->g);
	assert_int_equal(read_all(f->s, &pos, &f->g, NULL), n);
	assert_seqs(&f->g, 0, n);
}

/* Index of the first record in segment seg, or g->n. */
static size_t
first_in_seg(const struct got *g, uint64_t seg)
{
	size_t i = 0;

	while (i < g->n && g->v[i].at.seg < seg)
		i++;
	return i;
}

static void
test_segments_and_ack(void **state)
{
	struct fixture *f = *state;
	struct spool_pos cur, pos, end;
	struct spool *again = NULL;
	uint64_t last_seg;
	size_t k;
	char path[400];

	fresh(f, 1ull << 30);
	fill_segments(f, 40); /* 10 MiB: more than one segment */
	last_seg = f->g.v[39].at.seg;
	assert_true(last_seg >= 3);
	assert_int_equal(f->g.v[0].at.seg, 1);
	/* Segments are numbered consecutively and records start each at 0. */
	for (size_t i = 1; i < 40; i++) {
		uint64_t a = f->g.v[i - 1].at.seg, b = f->g.v[i].at.seg;

		assert_true(b == a || b == a + 1);
		if (b == a + 1)
			assert_int_equal(f->g.v[i].at.off, 0);
	}
	assert_int_equal(count_segments(f), last_seg);

	/* Acknowledging within segment 2 deletes segment 1 only. */
	k = first_in_seg(&f->g, 2) + 1;
	assert_int_equal(spool_ack(f->s, f->g.v[k].at), OP_OK);
	seg_path(f, 1, path, sizeof(path));
	assert_false(file_exists(path));
	seg_path(f, 2, path, sizeof(path));
	assert_true(file_exists(path));
	assert_int_equal(spool_cursor(f->s, &cur), OP_OK);
	assert_int_equal(cur.seg, f->g.v[k].at.seg);
	assert_int_equal(cur.off, f->g.v[k].at.off);

	/* The cursor survives a reopen; reading from it resumes at k. */
	assert_int_equal(spool_open(&again, f->dir, 1ull << 30), OP_OK);
	assert_int_equal(spool_cursor(again, &pos), OP_OK);
	assert_int_equal(pos.seg, cur.seg);
	assert_int_equal(pos.off, cur.off);
	got_reset(&f->g);
	assert_int_equal(read_all(again, &pos, &f->g, NULL), 40 - k);
	assert_seqs(&f->g, (uint32_t)k, 40 - k);
	spool_close(again);

	/* Acknowledging everything keeps the newest segment to append to. */
	assert_int_equal(spool_end(f->s, &end), OP_OK);
	assert_int_equal(end.seg, last_seg);
	assert_int_equal(spool_ack(f->s, end), OP_OK);
	assert_int_equal(count_segments(f), 1);
	seg_path(f, last_seg, path, sizeof(path));
	assert_true(file_exists(path));
	pos = end;
	got_reset(&f->g);
	assert_int_equal(read_all(f->s, &pos, &f->g, NULL), 0);
	append_one(f->s, 0, 40, 100);
	assert_int_equal(read_all(f->s, &pos, &f->g, NULL), 1);
	assert_seqs(&f->g, 40, 1);
	assert_int_equal(f->g.v[0].at.seg, last_seg);
}

static void
test_read_skips_missing_segments(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	char path[400];
	size_t k;

	fresh(f, 1ull << 30);
	fill_segments(f, 20);
	k = first_in_seg(&f->g, 2);
	assert_true(k > 0 && k < 20);
	/* A position in a segment that is gone moves to the next one. */
	seg_path(f, 1, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	pos.seg = 1;
	pos.off = 12345;
	got_reset(&f->g);
	assert_int_equal(read_all(f->s, &pos, &f->g, NULL), 20 - k);
	assert_seqs(&f->g, (uint32_t)k, 20 - k);
	/* A position past the newest segment reads nothing. */
	pos.seg = 1000;
	pos.off = 0;
	assert_int_equal(spool_read(f->s, &pos, 10, collect, &f->g, NULL), 0);
}

/* Writes 5 records of lens, cuts segment 1 at cut and checks recovery. */
static void
check_torn_tail(struct fixture *f, uint64_t cut_into_last)
{
	static const size_t lens[] = {100, 200, 300, 400, 500};
	struct spool_pos pos = {0, 0};
	uint64_t start_last = 0, skipped = 0;
	char path[400];

	fresh(f, 64 << 20);
	for (uint32_t i = 0; i < 5; i++)
		append_one(f->s, 0, i, lens[i]);
	for (int i = 0; i < 4; i++)
		start_last += HDR + lens[i];
	seg_path(f, 1, path, sizeof(path));
	assert_int_equal(truncate(path, (off_t)(start_last + cut_into_last)),
	                 0);

	/* The complete records read back; the torn one is cut off. */
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 4);
	assert_seqs(&f->g, 0, 4);
	assert_int_equal(skipped, 1);
	assert_int_equal(pos.seg, 1);
	assert_int_equal(pos.off, start_last);
	assert_int_equal(file_size(path), start_last);

	/* Later appends land after the cut and read back whole. */
	append_one(f->s, 0, 4, 77);
	assert_int_equal(append_n(f->s, 0, 5, 2, 1000), OP_OK);
	got_reset(&f->g);
	skipped = 0;
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 3);
	assert_seqs(&f->g, 4, 3);
	assert_int_equal(skipped, 0);
	assert_int_equal(f->g.v[0].at.off, start_last);
	/* And a reader starting over sees all 7, none damaged. */
	pos.seg = pos.off = 0;
	got_reset(&f->g);
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 7);
	assert_seqs(&f->g, 0, 7);
	assert_int_equal(skipped, 0);
}

static void
test_torn_tail(void **state)
{
	struct fixture *f = *state;
	/* Cut inside the magic, the length, the crc, and the payload. */
	static const uint64_t cuts[] = {1, 5, 11, HDR, HDR + 250, HDR + 499};

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		check_torn_tail(f, cuts[i]);
}

static void
test_torn_tail_appended_over(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	uint64_t skipped = 0;
	char path[400];

	/* A crash tore record 2; a writer appended before any reader ran. */
	fresh(f, 64 << 20);
	append_one(f->s, 0, 0, 100);
	append_one(f->s, 0, 1, 100);
	append_one(f->s, 0, 2, 100);
	seg_path(f, 1, path, sizeof(path));
	assert_int_equal(truncate(path, 2 * (HDR + 100) + 60), 0);
	append_one(f->s, 0, 3, 100);
	append_one(f->s, 0, 4, 100);
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 4);
	assert_int_equal(skipped, 1);
	assert_int_equal(f->g.bad, 0);
	assert_int_equal(f->g.v[0].seq, 0);
	assert_int_equal(f->g.v[1].seq, 1);
	assert_int_equal(f->g.v[2].seq, 3);
	assert_int_equal(f->g.v[3].seq, 4);
}

/* Writes 6 records of 200 bytes, lets damage() harm record 2 (at off)
 * and checks that the others all read back. */
static void
check_middle_damage(struct fixture *f, void (*damage)(const char *, uint64_t))
{
	struct spool_pos pos = {0, 0};
	uint64_t skipped = 0, size;
	char path[400];

	fresh(f, 64 << 20);
	for (uint32_t i = 0; i < 6; i++)
		append_one(f->s, 0, i, 200);
	seg_path(f, 1, path, sizeof(path));
	size = file_size(path);
	damage(path, 2 * (HDR + 200));
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 5);
	assert_int_equal(skipped, 1);
	assert_int_equal(f->g.bad, 0);
	assert_int_equal(f->g.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(f->g.v[i].seq, i < 2 ? i : i + 1);
	/* Damage in the middle is skipped, never cut. */
	assert_int_equal(file_size(path), size);
	assert_int_equal(pos.off, size);
}

static void
damage_payload(const char *path, uint64_t off)
{
	flip_byte(path, off + HDR + 150, 0x01);
}

static void
damage_magic(const char *path, uint64_t off)
{
	flip_byte(path, off, 0xff);
}

static void
damage_crc(const char *path, uint64_t off)
{
	flip_byte(path, off + 9, 0x80);
}

static void
damage_length_huge(const char *path, uint64_t off)
{
	uint8_t len[4];

	put32(len, 0xfffffff0u);
	write_at(path, off + 4, len, 4);
}

static void
damage_length_past_end(const char *path, uint64_t off)
{
	uint8_t len[4];

	put32(len, 100000); /* plausible, but runs past the file's end */
	write_at(path, off + 4, len, 4);
}

static void
damage_length_short(const char *path, uint64_t off)
{
	uint8_t len[4];

	put32(len, 100); /* a valid-looking record inside the real one */
	write_at(path, off + 4, len, 4);
}

static void
damage_zeros(const char *path, uint64_t off)
{
	uint8_t z[HDR + 200];

	memset(z, 0, sizeof(z));
	write_at(path, off, z, sizeof(z));
}

static void
test_damage_in_the_middle(void **state)
{
	struct fixture *f = *state;

	check_middle_damage(f, damage_payload);
	check_middle_damage(f, damage_magic);
	check_middle_damage(f, damage_crc);
	check_middle_damage(f, damage_length_huge);
	check_middle_damage(f, damage_length_past_end);
	check_middle_damage(f, damage_length_short);
	check_middle_damage(f, damage_zeros);
}

static void
test_damage_at_end_of_older_segment(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	uint64_t skipped = 0, size;
	char path[400];
	size_t k;

	fresh(f, 1ull << 30);
	fill_segments(f, 20);
	k = first_in_seg(&f->g, 2); /* records 0 .. k-1 are in segment 1 */
	seg_path(f, 1, path, sizeof(path));
	size = file_size(path);
	flip_byte(path, f->g.v[k - 1].at.off + HDR + 10, 0x40);
	got_reset(&f->g);
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 19);
	assert_int_equal(skipped, 1);
	assert_int_equal(f->g.bad, 0);
	assert_int_equal(f->g.v[k - 2].seq, k - 2);
	assert_int_equal(f->g.v[k - 1].seq, k);
	assert_int_equal(f->g.v[18].seq, 19);
	/* Only the newest segment's tail may be cut. */
	assert_int_equal(file_size(path), size);
}

static void
test_garbage_only_segment(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	uint64_t skipped = 0;
	char path[400];
	uint8_t junk[3000];
	int fd;

	fresh(f, 64 << 20);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	put32(junk + 100, 0x314f5053u); /* a magic with nothing valid after */
	seg_path(f, 1, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 0);
	assert_int_equal(skipped, 1);
	/* The newest segment held only a "torn tail": it is cut to 0. */
	assert_int_equal(file_size(path), 0);
	append_one(f->s, 0, 0, 10);
	assert_int_equal(read_all(f->s, &pos, &f->g, &skipped), 1);
	assert_seqs(&f->g, 0, 1);
}

static void
test_damaged_cursor_and_meta(void **state)
{
	struct fixture *f = *state;
	struct spool_pos p = {5, 5};
	struct spool *again = NULL;
	char path[400];
	uint64_t id, dropped = 1;
	FILE *fp;

	fresh(f, 64 << 20);
	id = spool_id(f->s);
	snprintf(path, sizeof(path), "%s/cursor", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("garbage\n", fp);
	fclose(fp);
	/* A damaged cursor resends from the start: duplicates, not loss. */
	assert_int_equal(spool_cursor(f->s, &p), OP_OK);
	assert_int_equal(p.seg, 0);
	assert_int_equal(p.off, 0);

	snprintf(path, sizeof(path), "%s/meta", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("x", fp);
	fclose(fp);
	assert_int_equal(spool_open(&again, f->dir, 64 << 20), OP_OK);
	assert_true(spool_id(again) != id);
	assert_int_equal(spool_dropped(again, &dropped), OP_OK);
	assert_int_equal(dropped, 0);
	spool_close(again);
}

/*
 * The bound: with 64 KiB records and a 6 MiB limit, most of 300 records
 * must go.  What remains must be the newest records, contiguous, and the
 * dropped count must be exactly the records lost that had not been acked.
 */
static void
test_bound_drops_oldest_and_counts(void **state)
{
	const uint64_t max = 6u << 20;
	const size_t rec = 64 << 10, total = 300, acked = 40;
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	struct spool *again = NULL;
	uint64_t dropped = 0, skipped = 0;
	size_t i, first;

	fresh(f, max);
	/* 60 records (3.75 MiB) fit; the sender has 0 .. 39 committed. */
	for (i = 0; i < 60; i++)
		append_one(f->s, 0, (uint32_t)i, rec);
	read_all(f->s, &pos, &f->g, NULL);
	assert_seqs(&f->g, 0, 60);
	assert_int_equal(spool_dropped(f->s, &dropped), OP_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(spool_ack(f->s, f->g.v[acked].at), OP_OK);
	/* Then 240 more arrive, in batches of 7. */
	for (; i < total; i += 7)
		assert_int_equal(append_n(f->s, 0, (uint32_t)i,
		                          total - i < 7 ? total - i : 7, rec),
		                 OP_OK);
	assert_true(spool_bytes(f->s) <= max);

	pos.seg = pos.off = 0;
	got_reset(&f->g);
	read_all(f->s, &pos, &f->g, &skipped);
	assert_int_equal(skipped, 0);
	assert_true(f->g.n > 0 && f->g.n < total - acked);
	first = f->g.v[0].seq;
	assert_seqs(&f->g, (uint32_t)first, total - first);

	/* Only unacked losses count: records acked .. first - 1. */
	assert_int_equal(spool_dropped(f->s, &dropped), OP_OK);
	assert_int_equal(dropped, first - acked);
	/* The count is durable. */
	assert_int_equal(spool_open(&again, f->dir, max), OP_OK);
	assert_int_equal(spool_dropped(again, &dropped), OP_OK);
	assert_int_equal(dropped, first - acked);
	spool_close(again);
}

static void
test_bound_without_ack_counts_everything_lost(void **state)
{
	const uint64_t max = 5u << 20;
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	uint64_t dropped = 0;
	size_t first;

	fresh(f, max);
	/* Uneven sizes, so segment boundaries fall between batches. */
	for (uint32_t i = 0; i < 240; i += 3)
		assert_int_equal(append_n(f->s, 0, i, 3, 40000 + i * 10),
		                 OP_OK);
	read_all(f->s, &pos, &f->g, NULL);
	first = f->g.v[0].seq;
	assert_true(first > 0);
	assert_int_equal(f->g.bad, 0);
	assert_int_equal(f->g.n, 240 - first);
	assert_int_equal(f->g.v[f->g.n - 1].seq, 239);
	assert_int_equal(spool_dropped(f->s, &dropped), OP_OK);
	assert_int_equal(dropped, first);
}

#define WRITERS    8
#define PER_WRITER 400
#define MAX_LEN    20000

/* Sizes up to 20 KB: 32 MB in all, so segments fill and rotate while the
 * writers race. */
static size_t
writer_len(uint32_t w, uint32_t seq)
{
	return 8 + (w * 977u + seq * 7919u) % MAX_LEN;
}

/* A child process: its own spool handle, PER_WRITER appends. */
static int
writer_main(const char *dir, uint32_t w)
{
	struct spool *s = NULL;
	uint8_t *buf = malloc(MAX_LEN + 8);

	if (buf == NULL || spool_open(&s, dir, 1ull << 30) != OP_OK)
		return 2;
	for (uint32_t seq = 0; seq < PER_WRITER; seq++) {
		size_t len = writer_len(w, seq);
		const uint8_t *recs[1] = {buf};

		rec_fill(buf, len, w, seq);
		if (spool_append(s, recs, &len, 1) != OP_OK)
			return 3;
	}
	spool_close(s);
	free(buf);
	return 0;
}

/* Reaps the writers that have finished; returns how many are left. */
static int
reap_writers(pid_t *pids, int block)
{
	int left = 0;

	for (int w = 0; w < WRITERS; w++) {
		int status = 0;
		pid_t r;

		if (pids[w] == 0)
			continue;
		r = waitpid(pids[w], &status, block ? 0 : WNOHANG);
		assert_true(r >= 0);
		if (r == 0) {
			left++;
			continue;
		}
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		pids[w] = 0;
	}
	return left;
}

/*
 * Eight processes append at once while this one keeps reading, as the
 * daemon's sender does.  A reader that finds a record still being written
 * must wait for it, not cut it off as a torn tail: every record must come
 * back exactly once, intact, in each writer's order.
 */
static void
test_concurrent_appends(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	uint32_t next[WRITERS] = {0};
	pid_t pids[WRITERS];
	uint64_t skipped = 0;

	fresh(f, 1ull << 30);
	for (uint32_t w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0)
			_exit(writer_main(f->dir, w));
	}
	while (reap_writers(pids, 0) > 0)
		read_all(f->s, &pos, &f->g, &skipped);
	reap_writers(pids, 1);
	read_all(f->s, &pos, &f->g, &skipped);

	assert_int_equal(skipped, 0);
	assert_int_equal(f->g.bad, 0);
	assert_int_equal(f->g.n, WRITERS * PER_WRITER);
	assert_true(f->g.v[f->g.n - 1].at.seg > 1); /* segments rotated */
	for (size_t i = 0; i < f->g.n; i++) {
		const struct item *it = &f->g.v[i];

		assert_true(it->w < WRITERS);
		assert_int_equal(it->seq, next[it->w]);
		assert_int_equal(it->len, writer_len(it->w, it->seq));
		next[it->w]++;
	}
	for (int w = 0; w < WRITERS; w++)
		assert_int_equal(next[w], PER_WRITER);
}

/* As root, for a spool directory owned by someone else (the daemon's
 * user): every file a record command creates goes to that owner, group
 * writable, so the daemon can read, append to and delete it. */
static void
test_new_files_belong_to_the_directory_owner(void **state)
{
	struct fixture *f = *state;
	const uint8_t rec[] = "owned";
	const uint8_t *recs[] = {rec};
	size_t lens[] = {sizeof(rec)};
	const char *names[] = {"lock", "meta", "seg-0000000000000001.log"};
	char path[4096];
	struct stat st;

	if (geteuid() != 0)
		skip();
	snprintf(f->dir, sizeof(f->dir), "%s/owned", f->base);
	assert_int_equal(mkdir(f->dir, 02770), 0);
	assert_int_equal(chown(f->dir, 65534, 65534), 0);
	assert_int_equal(spool_open(&f->s, f->dir, 1 << 20), OP_OK);
	assert_int_equal(spool_append(f->s, recs, lens, 1), OP_OK);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
		assert_int_equal(st.st_mode & 0777, 0660);
	}
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_known_values),
	    T(test_open_and_identity),
	    T(test_open_fails_cleanly),
	    T(test_round_trip),
	    T(test_sequence_numbers_increase),
	    T(test_append_limits),
	    T(test_read_max_and_stop),
	    T(test_segments_and_ack),
	    T(test_read_skips_missing_segments),
	    T(test_torn_tail),
	    T(test_torn_tail_appended_over),
	    T(test_damage_in_the_middle),
	    T(test_damage_at_end_of_older_segment),
	    T(test_garbage_only_segment),
	    T(test_damaged_cursor_and_meta),
	    T(test_bound_drops_oldest_and_counts),
	    T(test_bound_without_ack_counts_everything_lost),
	    T(test_concurrent_appends),
	    T(test_new_files_belong_to_the_directory_owner),
	};
#undef T

	/* The damage tests provoke warnings by design; errors still show. */
	op_log_init("spool_test", OP_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
