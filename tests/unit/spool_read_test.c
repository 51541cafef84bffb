/*
 * Unit tests for agent/spool's reader: what draining a spool costs in
 * file system calls, and that a reader which keeps its segment open
 * between reads still sees appends, new segments and segments the bound
 * deleted under it.
 *
 * The test binary is linked with --wrap=open and --wrap=opendir, so that
 * it counts the segment opens and directory listings the spool makes.
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
#include <unistd.h>

#include "op_error.h"
#include "op_log.h"
#include "spool.h"

#define REC_LEN 100

/* ---- counting opens and listings ---------------------------------------- */

static size_t seg_opens, listings;

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
DIR *__real_opendir(const char *path);
DIR *__wrap_opendir(const char *path);

int
__wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (strstr(path, "/seg-") != NULL && (flags & O_ACCMODE) == O_RDONLY)
		seg_opens++;
	return __real_open(path, flags, mode);
}

DIR *
__wrap_opendir(const char *path)
{
	listings++;
	return __real_opendir(path);
}

/* ---- records ------------------------------------------------------------ */

/* Record seq: its number, then bytes derived from it. */
static void
rec_fill(uint8_t *buf, uint32_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	for (size_t i = sizeof(seq); i < REC_LEN; i++)
		buf[i] = (uint8_t)(seq * 7u + i * 13u);
}

static void
append_range(struct spool *s, uint32_t first, size_t n)
{
	uint8_t(*bufs)[REC_LEN] = calloc(n, REC_LEN);
	const uint8_t **recs = calloc(n, sizeof(*recs));
	size_t *lens = calloc(n, sizeof(*lens));

	assert_non_null(bufs);
	assert_non_null(recs);
	assert_non_null(lens);
	for (size_t i = 0; i < n; i++) {
		rec_fill(bufs[i], first + (uint32_t)i);
		recs[i] = bufs[i];
		lens[i] = REC_LEN;
	}
	assert_int_equal(spool_append(s, recs, lens, n), OP_OK);
	free(bufs);
	free(recs);
	free(lens);
}

struct seen {
	uint32_t next; /* the sequence number expected next */
	size_t bad;    /* records out of order or changed */
	uint64_t segs[64];
	size_t nsegs; /* distinct segments read from, in order */
};

static int
check_rec(void *arg, struct spool_pos at, const uint8_t *d, size_t len)
{
	struct seen *v = arg;
	uint8_t want[REC_LEN];

	rec_fill(want, v->next);
	if (len != REC_LEN || memcmp(d, want, REC_LEN) != 0)
		v->bad++;
	v->next++;
	if ((v->nsegs == 0 || v->segs[v->nsegs - 1] != at.seg) && v->nsegs < 64)
		v->segs[v->nsegs++] = at.seg;
	return 0;
}

/* Reads from *pos in batches of batch until nothing is left; returns the
 * number of spool_read calls made. */
static size_t
drain(struct spool *s, struct spool_pos *pos, size_t batch, struct seen *v)
{
	size_t calls = 0;
	long n;

	do {
		n = spool_read(s, pos, batch, check_rec, v, NULL);
		calls++;
	} while (n > 0);
	assert_int_equal(n, 0);
	return calls;
}

/* ---- fixture ------------------------------------------------------------ */

struct fixture {
	char dir[256];
	struct spool *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	char base[200];

	if (f == NULL)
		return -1;
	snprintf(base, sizeof(base), "%s/spool_read_test.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/spool", base);
	*state = f;
	return 0;
}

static void
rm_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char child[512];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		unlink(child);
	}
	closedir(d);
	rmdir(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *slash;

	spool_close(f->s);
	rm_dir(f->dir);
	if ((slash = strrchr(f->dir, '/')) != NULL) {
		*slash = '\0';
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

/* Segments in the spool directory, ascending, into segs (at most max). */
static size_t
list_segments(const struct fixture *f, uint64_t *segs, size_t max)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		unsigned long long seg;
		if (sscanf(de->d_name, "seg-%16llx.log", &seg) == 1 && n < max)
			segs[n++] = seg;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++) { /* insertion sort: a few entries */
		for (size_t j = i; j > 0 && segs[j - 1] > segs[j]; j--) {
			uint64_t t = segs[j];
			segs[j] = segs[j - 1];
			segs[j - 1] = t;
		}
	}
	return n;
}

/* ---- tests -------------------------------------------------------------- */

/*
 * 5,000 records over several segments, read 1,000 at a time: each
 * segment is opened once, and the directory is listed once per segment
 * change and per read that reaches the end, never per record.
 */
static void
test_drain_opens_each_segment_once(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	struct seen v = {0};
	uint64_t segs[64];
	size_t nseg, calls;

	/* A 1 MiB bound makes 128 KiB segments: 5,000 records of 112 bytes,
	 * appended 200 at a time, fill four. */
	assert_int_equal(spool_open(&f->s, f->dir, 1u << 20), OP_OK);
	for (uint32_t i = 0; i < 25; i++)
		append_range(f->s, i * 200, 200);
	nseg = list_segments(f, segs, 64);
	assert_true(nseg >= 3);
	seg_opens = listings = 0;
	calls = drain(f->s, &pos, 1000, &v);
	assert_int_equal(v.next, 5000);
	assert_int_equal(v.bad, 0);
	assert_int_equal(v.nsegs, nseg);
	for (size_t i = 0; i < nseg; i++)
		assert_int_equal(v.segs[i], segs[i]);
	assert_int_equal(seg_opens, nseg);
	/* One listing to find the first segment, one per move to the next,
	 * one per read that ends at the end of the spool. */
	assert_true(listings <= 1 + nseg + calls);
	assert_int_equal(pos.seg, segs[nseg - 1]);

	/* Caught up: a read that finds nothing opens nothing. */
	seg_opens = listings = 0;
	assert_int_equal(spool_read(f->s, &pos, 1000, check_rec, &v, NULL), 0);
	assert_int_equal(seg_opens, 0);
	assert_true(listings <= 1);
}

/* A reader at the end of the newest segment sees what is appended there
 * later, and the segment a writer starts after it, in order. */
static void
test_reader_follows_appends_and_new_segments(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	struct seen v = {0};
	uint64_t segs[64];
	uint32_t total = 0;

	assert_int_equal(spool_open(&f->s, f->dir, 1u << 20), OP_OK);
	append_range(f->s, 0, 10);
	total = 10;
	drain(f->s, &pos, 1000, &v);
	assert_int_equal(v.next, total);
	/* Grow the segment, then go past it, reading after each step. */
	while (list_segments(f, segs, 64) < 3) {
		append_range(f->s, total, 300);
		total += 300;
		drain(f->s, &pos, 250, &v);
		assert_int_equal(v.next, total);
	}
	assert_int_equal(v.bad, 0);
	assert_int_equal(v.nsegs, 3);
	assert_int_equal(pos.seg, segs[2]);
}

/* The segment being read is deleted under the reader (the bound dropped
 * it): reading goes on at the start of the next one. */
static void
test_reader_skips_a_deleted_segment(void **state)
{
	struct fixture *f = *state;
	struct spool_pos pos = {0, 0};
	struct seen v = {0};
	uint64_t segs[64];
	char path[512];
	uint32_t in_first = 0;
	long n;

	assert_int_equal(spool_open(&f->s, f->dir, 1u << 20), OP_OK);
	for (uint32_t i = 0; i < 3; i++)
		append_range(f->s, i * 1000, 1000);
	assert_true(list_segments(f, segs, 64) >= 2);
	n = spool_read(f->s, &pos, 10, check_rec, &v, NULL);
	assert_int_equal(n, 10);
	assert_int_equal(pos.seg, segs[0]);
	/* Records in the first segment: its size over the framed length. */
	snprintf(path, sizeof(path), "%s/seg-%016llx.log", f->dir,
	         (unsigned long long)segs[0]);
	{
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		in_first = (uint32_t)(st.st_size / (REC_LEN + 12));
	}
	assert_int_equal(unlink(path), 0);
	v.next = in_first; /* what the second segment starts with */
	drain(f->s, &pos, 1000, &v);
	assert_int_equal(v.bad, 0);
	assert_int_equal(v.next, 3000);
	assert_int_equal(v.segs[1], segs[1]);
}

/* A spool written by another handle (another process: a record command)
 * and read through a reader opened before the records existed. */
static void
test_reader_of_another_handle(void **state)
{
	struct fixture *f = *state;
	struct spool *w;
	struct spool_pos pos = {0, 0};
	struct seen v = {0};

	assert_int_equal(spool_open(&f->s, f->dir, 1u << 20), OP_OK);
	assert_int_equal(spool_open(&w, f->dir, 1u << 20), OP_OK);
	assert_int_equal(spool_read(f->s, &pos, 1000, check_rec, &v, NULL), 0);
	for (uint32_t i = 0; i < 4; i++) {
		append_range(w, i * 700, 700);
		drain(f->s, &pos, 300, &v);
		assert_int_equal(v.next, (i + 1) * 700);
	}
	assert_int_equal(v.bad, 0);
	spool_close(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_drain_opens_each_segment_once,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reader_follows_appends_and_new_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_skips_a_deleted_segment,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_of_another_handle,
	                                    setup, teardown),
	};

	op_log_init("spool_read_test", OP_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
