/*
 * Fuzz target for the spool reader: the input becomes the only segment of
 * a spool, as a crash, a bad disk or a stray write could leave it.
 * spool_read must never crash; every record it hands out must be a whole
 * record of the input with a correct checksum (checked here with a CRC
 * written independently of the spool's), in order and without overlap;
 * and after the read a new record must append and read back whole.
 */
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
#include "fuzz.h"

#define MAGIC 0x314f5053u
#define HDR   12u

static char fuzz_dir[512];
static struct spool *fuzz_spool;

struct fuzz_read {
	const uint8_t *input;
	size_t size;
	uint64_t end; /* offset just past the previous record */
	size_t n;
	const uint8_t *want; /* when set, the one record expected */
	size_t want_len;
};

static uint32_t
fuzz_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Bit-at-a-time CRC-32C: slow, but nothing shared with spool.c. */
static uint32_t
fuzz_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static int
fuzz_check_record(void *arg, struct spool_pos at, const uint8_t *d, size_t len)
{
	struct fuzz_read *r = arg;
	const uint8_t *h;

	FUZZ_CHECK(len > 0 && len <= SPOOL_MAX_RECORD);
	if (r->want != NULL) {
		FUZZ_CHECK(r->n == 0 && len == r->want_len &&
		           memcmp(d, r->want, len) == 0);
		r->n++;
		return 0;
	}
	FUZZ_CHECK(at.seg == 1);
	FUZZ_CHECK(at.off >= r->end);
	FUZZ_CHECK(at.off + HDR + len <= r->size);
	h = r->input + at.off;
	FUZZ_CHECK(fuzz_get32(h) == MAGIC);
	FUZZ_CHECK(fuzz_get32(h + 4) == len);
	FUZZ_CHECK(memcmp(h + HDR, d, len) == 0);
	FUZZ_CHECK(fuzz_crc32c(fuzz_crc32c(0, h + 4, 4), d, len) ==
	           fuzz_get32(h + 8));
	r->end = at.off + HDR + len;
	r->n++;
	return 0;
}

static void
fuzz_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", fuzz_dir, name);
}

/* Removes every file of the spool directory, and it when gone is set. */
static void
fuzz_clean(int gone)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *de;
	char path[1024];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
			continue;
		if (!gone && (strcmp(de->d_name, "lock") == 0 ||
		              strcmp(de->d_name, "meta") == 0))
			continue;
		fuzz_path(path, sizeof(path), de->d_name);
		unlink(path);
	}
	closedir(d);
	if (gone)
		rmdir(fuzz_dir);
}

static void
fuzz_at_exit(void)
{
	spool_close(fuzz_spool);
	fuzz_clean(1);
}

static int
fuzz_init(void)
{
	const char *tmp = getenv("TMPDIR");

	op_log_init("fuzz_spool", OP_LOG_ERROR);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/fuzz_spool.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL ||
	    spool_open(&fuzz_spool, fuzz_dir, UINT64_C(1) << 30) != OP_OK) {
		perror("fuzz_spool: cannot create a spool directory");
		abort();
	}
	atexit(fuzz_at_exit);
	return 0;
}

static void
fuzz_write_segment(const uint8_t *data, size_t size)
{
	char path[1024];
	int fd;

	fuzz_clean(0);
	fuzz_path(path, sizeof(path), "seg-0000000000000001.log");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	close(fd);
}

static uint64_t
fuzz_segment_size(void)
{
	char path[1024];
	struct stat st;

	fuzz_path(path, sizeof(path), "seg-0000000000000001.log");
	FUZZ_CHECK(stat(path, &st) == 0);
	return (uint64_t)st.st_size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t rec[] = "appended after the fuzzed bytes";
	struct fuzz_read r = {data, size, 0, 0, NULL, 0};
	struct spool_pos pos = {0, 0};
	const uint8_t *recs[1] = {rec};
	size_t len = sizeof(rec);
	uint64_t skipped = 0;
	long n;

	if (fuzz_spool == NULL)
		fuzz_init();
	fuzz_write_segment(data, size);

	n = spool_read(fuzz_spool, &pos, SIZE_MAX, fuzz_check_record, &r,
	               &skipped);
	FUZZ_CHECK(n >= 0 && (size_t)n == r.n);
	/* Whatever was read is still there; the reader stops at the end. */
	FUZZ_CHECK(fuzz_segment_size() >= r.end);
	FUZZ_CHECK(pos.seg == 1 && pos.off == fuzz_segment_size());
	FUZZ_CHECK(spool_read(fuzz_spool, &pos, SIZE_MAX, fuzz_check_record, &r,
	                      NULL) == 0);

	/* A torn tail was cut: the next append is readable from pos. */
	FUZZ_CHECK(spool_append(fuzz_spool, recs, &len, 1) == OP_OK);
	memset(&r, 0, sizeof(r));
	r.want = rec;
	r.want_len = len;
	FUZZ_CHECK(spool_read(fuzz_spool, &pos, SIZE_MAX, fuzz_check_record, &r,
	                      NULL) == 1);
	return 0;
}
