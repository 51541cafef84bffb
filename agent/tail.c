/*
 * The access-log tailer: reading, line splitting, rotation and truncation.
 * The contract is in tail.h; counting and flushing in tail_count.c, state
 * files in tail_state.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "op_log.h"
#include "op_time.h"
#include "tail.h"
#include "tail_int.h"

#define MOD "tail"
/* Room for the longest line plus one read. */
#define TAIL_BUF (ALOG_MAX_LINE + (64u << 10))
/* Bytes one file may take per poll, so that others get their turn. */
#define TAIL_POLL_BYTES (256ull << 20)
/* Lines dated further ahead than this are skipped as "time" (the
 * aggregator refuses events more than a day ahead of its clock). */
#define TAIL_FUTURE_US (INT64_C(23) * 3600 * 1000000)

struct tail {
	const struct agent_conf *conf;
	struct tail_src *src;
	size_t n;
};

/* ---- lines -------------------------------------------------------------- */

static int
tail_line(struct tail_src *s, const char *line, size_t len, int64_t now)
{
	struct alog_line l;
	enum alog_skip r;

	r = alog_parse((enum alog_format)s->cfg->format, &s->jf, line, len, &l);
	if (r == ALOG_OK && l.time_us > now + TAIL_FUTURE_US)
		r = ALOG_SKIP_TIME;
	if (r != ALOG_OK) {
		s->cur.skips[r]++;
		return OP_OK;
	}
	return tail_count_line(s, &l);
}

/* Consumes the complete lines in s->buf; keeps the partial one. */
static int
tail_consume(struct tail_src *s, int64_t now)
{
	size_t pos = 0;
	int rv = OP_OK;

	while (rv == OP_OK && pos < s->blen) {
		char *nl = memchr(s->buf + pos, '\n', s->blen - pos);
		size_t len;

		if (nl == NULL)
			break;
		len = (size_t)(nl - (s->buf + pos));
		if (s->cur.skipping)
			s->cur.skipping = 0; /* end of an over-long line */
		else
			rv = tail_line(s, s->buf + pos, len, now);
		if (rv != OP_OK)
			return rv; /* the position went back: buf is stale */
		pos += len + 1;
		s->cur.off += len + 1;
	}
	memmove(s->buf, s->buf + pos, s->blen - pos);
	s->blen -= pos;
	if (s->blen >= ALOG_MAX_LINE || (s->cur.skipping && s->blen > 0)) {
		/* Over-long: counted once, skipped up to its newline. */
		if (!s->cur.skipping)
			s->cur.skips[ALOG_SKIP_TOO_LONG]++;
		s->cur.skipping = 1;
		s->cur.off += s->blen;
		s->blen = 0;
	}
	return OP_OK;
}

/* Reads fd to its end (or the poll's budget), flushing full ranges. */
static int
tail_read(struct tail_src *s)
{
	int64_t now = op_time_now_us();
	uint64_t budget = TAIL_POLL_BYTES;
	int rv = OP_OK;

	if (s->buf == NULL && (s->buf = malloc(TAIL_BUF)) == NULL)
		return OP_ENOMEM;
	while (rv == OP_OK && budget > 0) {
		ssize_t n = pread(s->fd, s->buf + s->blen, TAIL_BUF - s->blen,
		                  (off_t)(s->cur.off + s->blen));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		s->blen += (size_t)n;
		s->read_poll += (uint64_t)n;
		budget = budget > (uint64_t)n ? budget - (uint64_t)n : 0;
		rv = tail_consume(s, now);
		if (rv == OP_OK &&
		    s->cur.off - s->durable.off >= TAIL_RANGE_BYTES)
			rv = tail_flush(s);
	}
	return rv;
}

/* ---- files -------------------------------------------------------------- */

static void
tail_set_file(struct tail_src *s, int fd)
{
	struct stat st;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	s->blen = 0;
	if (fstat(fd, &st) == 0) {
		s->cur.dev = (uint64_t)st.st_dev;
		s->cur.ino = (uint64_t)st.st_ino;
	}
}

/* Starts a new generation on fd (a new file at the path, or the same one
 * truncated), durable before anything of it is read. */
static int
tail_new_generation(struct tail_src *s, int fd)
{
	tail_set_file(s, fd);
	s->cur.gen++;
	s->cur.off = 0;
	s->cur.skipping = 0;
	s->cur.nfp = 0;
	s->rotation_seen = 0;
	snprintf(s->cur.source, sizeof(s->cur.source), "%s-%" PRIu64,
	         s->path_id, s->cur.ino);
	s->have_state = 0; /* forces the save */
	OP_ASSERT(s->nmin == 0);
	if (tail_flush(s) == OP_OK)
		return OP_OK;
	/* Not durable: attach again from the state at the next poll. */
	close(s->fd);
	s->fd = -1;
	s->have_state = s->durable.gen != 0;
	return OP_EIO;
}

static int
tail_open_path(const struct tail_src *s)
{
	return open(s->cfg->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
}

/* Whether fd is the file the state names. */
static int
tail_is_state_file(const struct tail_src *s, int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (uint64_t)st.st_ino == s->cur.ino &&
	       (uint64_t)st.st_dev == s->cur.dev;
}

/* First sight of the file since start: resume where the state says, in
 * the file at the path or, when it was rotated meanwhile, in its sibling
 * found by inode. */
static int
tail_attach(struct tail_src *s)
{
	int fd = tail_open_path(s), old;

	if (!s->have_state)
		return fd < 0 ? OP_ENOTFOUND : tail_new_generation(s, fd);
	if (fd < 0 || !tail_is_state_file(s, fd)) {
		old = tail_find_sibling(s->cfg->path, s->cur.dev, s->cur.ino, 0,
		                        NULL, 0);
		if (old >= 0) {
			if (fd >= 0)
				close(fd);
			fd = old;
		} else if (fd >= 0) {
			op_warn(MOD,
			        "%s: the file last read (inode %" PRIu64
			        ") is gone; lines after offset %" PRIu64
			        " of it were not counted",
			        s->cfg->path, s->cur.ino, s->cur.off);
			return tail_new_generation(s, fd);
		} else {
			return OP_ENOTFOUND; /* waited for */
		}
	}
	tail_set_file(s, fd);
	op_info(MOD,
	        "%s: resuming at offset %" PRIu64 " (generation %" PRIu64 ")",
	        s->cfg->path, s->cur.off, s->cur.gen);
	return OP_OK;
}

/* Whether the open file was truncated or rewritten below our position. */
static int
tail_truncated(struct tail_src *s)
{
	struct stat st;
	unsigned char fp[TAIL_FP];

	if (fstat(s->fd, &st) != 0)
		return 0;
	if ((uint64_t)st.st_size < s->cur.off)
		return 1;
	return s->cur.nfp > 0 && s->cur.off == s->durable.off &&
	       (tail_read_fp(s->fd, s->cur.off, fp) != s->cur.nfp ||
	        memcmp(fp, s->cur.fp, s->cur.nfp) != 0);
}

/* copytruncate: finish the range from the copy, then start again at 0. */
static int
tail_on_truncate(struct tail_src *s)
{
	int self = s->fd, copy, rv;

	s->fd = -1;
	copy = tail_find_sibling(s->cfg->path, 0, 0, s->cur.off, s->cur.fp,
	                         s->cur.nfp);
	if (copy >= 0) {
		s->fd = copy;
		rv = tail_read(s);
		if (rv == OP_OK)
			rv = tail_flush(s);
		close(copy);
		s->fd = -1;
		if (rv != OP_OK) {
			s->fd = self;
			return rv;
		}
	} else {
		op_warn(MOD,
		        "%s was truncated and no copy of it was found; lines "
		        "after offset %" PRIu64 " were not counted",
		        s->cfg->path, s->cur.off);
	}
	op_info(MOD, "%s was truncated; reading it again from the start",
	        s->cfg->path);
	return tail_new_generation(s, self);
}

/* Rename-and-create: another file at the path.  Switch once it has data
 * and the old one stayed quiet for a whole poll. */
static int
tail_rotation(struct tail_src *s, int *switched)
{
	struct stat st;
	int fd;

	*switched = 0;
	if (stat(s->cfg->path, &st) != 0 ||
	    ((uint64_t)st.st_ino == s->cur.ino &&
	     (uint64_t)st.st_dev == s->cur.dev)) {
		s->rotation_seen = 0;
		return OP_OK;
	}
	if (st.st_size == 0 || s->read_poll > 0 || s->rotation_seen++ == 0)
		return OP_OK;
	if ((fd = tail_open_path(s)) < 0)
		return OP_OK;
	op_info(MOD,
	        "%s was rotated; finished the old file at %" PRIu64
	        " bytes, reading the new one",
	        s->cfg->path, s->cur.off);
	*switched = 1;
	return tail_new_generation(s, fd);
}

static void
tail_poll_src(struct tail_src *s)
{
	int rv = OP_OK, switched = 1;

	if (s->fd < 0 && tail_attach(s) != OP_OK)
		return;
	for (int round = 0; rv == OP_OK && switched && round < 3; round++) {
		s->read_poll = 0;
		if (tail_truncated(s))
			rv = tail_on_truncate(s);
		if (rv == OP_OK)
			rv = tail_read(s);
		if (rv == OP_OK)
			rv = tail_flush(s);
		if (rv == OP_OK)
			rv = tail_rotation(s, &switched);
	}
	/* Idle between polls: hold no buffer unless a partial line waits. */
	if (s->blen == 0) {
		free(s->buf);
		s->buf = NULL;
	}
}

void
tail_poll(struct tail *t)
{
	for (size_t i = 0; t && i < t->n; i++)
		tail_poll_src(&t->src[i]);
}

/* ---- lifecycle ---------------------------------------------------------- */

static int
tail_src_init(struct tail_src *s, const struct agent_conf *c,
              const struct agent_access_log *cfg)
{
	int rv;

	s->conf = c;
	s->cfg = cfg;
	s->fd = -1;
	s->jf.time = cfg->json_time;
	s->jf.status = cfg->json_status;
	s->jf.duration = cfg->json_duration;
	s->jf.unit_exp = cfg->unit_exp;
	tail_path_id(cfg->path, s->path_id);
	if ((s->state_path = tail_state_file(c->spool_dir, s->path_id)) == NULL)
		return OP_ENOMEM;
	rv = tail_state_load(s->state_path, &s->durable);
	if (rv == OP_ENOTFOUND)
		return OP_OK;
	if (rv != OP_OK)
		return rv;
	s->cur = s->durable;
	s->have_state = 1;
	return OP_OK;
}

static int
tail_mkdir(const char *spool_dir)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/tail", spool_dir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		op_error(MOD, "cannot create %s: %s; is the spool writable?",
		         dir, strerror(errno));
		return OP_EIO;
	}
	return OP_OK;
}

int
tail_open(struct tail **out, const struct agent_conf *c)
{
	struct tail *t = calloc(1, sizeof(*t));
	int rv = OP_ENOMEM;

	if ((*out = t) == NULL)
		return OP_ENOMEM;
	t->conf = c;
	if ((rv = tail_mkdir(c->spool_dir)) != OP_OK)
		return rv;
	t->src = calloc(c->access_logs.n + 1, sizeof(*t->src));
	if (t->src == NULL)
		return OP_ENOMEM;
	for (size_t i = 0; i < c->access_logs.n; i++) {
		rv =
		    tail_src_init(&t->src[t->n++], c, &c->access_logs.items[i]);
		if (rv != OP_OK)
			return rv;
	}
	return OP_OK;
}

void
tail_close(struct tail *t)
{
	for (size_t i = 0; t && i < t->n; i++) {
		struct tail_src *s = &t->src[i];

		if (s->fd >= 0)
			close(s->fd);
		for (size_t k = 0; k < TAIL_MAX_MINUTES; k++)
			free(s->min[k].hist);
		free(s->buf);
		free(s->state_path);
	}
	if (t)
		free(t->src);
	free(t);
}
