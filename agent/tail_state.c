/*
 * The tailer's durable state, one small text file per followed path, and
 * the search among a path's rotated siblings.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "op_log.h"
#include "tail.h"
#include "tail_int.h"

#define MOD "tail"

void
tail_path_id(const char *path, char out[17])
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	snprintf(out, 17, "%016" PRIx64, h);
}

char *
tail_state_file(const char *spool_dir, const char *path_id)
{
	size_t n = strlen(spool_dir) + strlen(path_id) + 16;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/tail/%s.state", spool_dir, path_id);
	return s;
}

/* ---- reading ---------------------------------------------------------- */

static int
tail_hex_in(const char *hex, unsigned char *out, size_t max, size_t *n)
{
	size_t len = strlen(hex);
	unsigned v;

	*n = 0;
	if (strcmp(hex, "-") == 0)
		return 0;
	if (len % 2 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	*n = len / 2;
	return 0;
}

/* One "key value" line of a state file into p; -1 when malformed. */
static int
tail_state_line(const char *key, const char *val, struct tail_pos *p)
{
	char reason[32];
	unsigned long long n;

	if (strcmp(key, "source") == 0)
		return snprintf(p->source, sizeof(p->source), "%s", val) >=
		               (int)sizeof(p->source)
		           ? -1
		           : 0;
	if (strcmp(key, "fp") == 0)
		return tail_hex_in(val, p->fp, TAIL_FP, &p->nfp);
	if (strcmp(key, "skip") == 0) {
		if (sscanf(val, "%31s %llu", reason, &n) != 2)
			return -1;
		for (int r = 1; r < ALOG_NSKIP; r++) {
			if (strcmp(reason, alog_skip_name((enum alog_skip)r)) ==
			    0)
				p->skips[r] = n;
		}
		return 0;
	}
	if (sscanf(val, "%llu", &n) != 1)
		return strcmp(key, "path") == 0 ? 0 : -1;
	if (strcmp(key, "gen") == 0)
		p->gen = n;
	else if (strcmp(key, "off") == 0)
		p->off = n;
	else if (strcmp(key, "dev") == 0)
		p->dev = n;
	else if (strcmp(key, "ino") == 0)
		p->ino = n;
	else if (strcmp(key, "skipping") == 0)
		p->skipping = n != 0;
	return 0;
}

int
tail_state_load(const char *file, struct tail_pos *p)
{
	char line[4200], key[32];
	FILE *fp = fopen(file, "r");
	int ok = 1, n;

	memset(p, 0, sizeof(*p));
	if (fp == NULL)
		return errno == ENOENT ? OP_ENOTFOUND : OP_EIO;
	if (fgets(line, sizeof(line), fp) == NULL ||
	    strcmp(line, "opspulse-tail 1\n") != 0)
		ok = 0;
	while (ok && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%31s %n", key, &n) != 1 ||
		    tail_state_line(key, line + n, p) != 0)
			ok = 0;
	}
	fclose(fp);
	if (!ok || p->source[0] == '\0' || p->gen == 0) {
		op_error(MOD,
		         "state file %s is damaged; move it away to read its "
		         "log again from the start",
		         file);
		return OP_EIO;
	}
	return OP_OK;
}

/* ---- writing ---------------------------------------------------------- */

static void
tail_state_print(FILE *fp, const char *path, const struct tail_pos *p)
{
	fprintf(fp,
	        "opspulse-tail 1\nsource %s\ngen %" PRIu64 "\noff %" PRIu64
	        "\ndev %" PRIu64 "\nino %" PRIu64 "\nskipping %d\nfp ",
	        p->source, p->gen, p->off, p->dev, p->ino, p->skipping);
	for (size_t i = 0; i < p->nfp; i++)
		fprintf(fp, "%02x", p->fp[i]);
	fprintf(fp, "%s\n", p->nfp ? "" : "-");
	for (int r = 1; r < ALOG_NSKIP; r++) {
		if (p->skips[r])
			fprintf(fp, "skip %s %" PRIu64 "\n",
			        alog_skip_name((enum alog_skip)r), p->skips[r]);
	}
	fprintf(fp, "path %s\n", path);
}

static int
tail_fsync_dir(const char *file)
{
	char dir[4096];
	char *slash;
	int fd, rv;

	snprintf(dir, sizeof(dir), "%s", file);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

int
tail_state_save(const char *file, const char *path, const struct tail_pos *p)
{
	char tmp[4200];
	FILE *fp;
	int bad;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((fp = fopen(tmp, "w")) == NULL) {
		op_error(MOD, "cannot write %s: %s; is the spool writable?",
		         tmp, strerror(errno));
		return OP_EIO;
	}
	tail_state_print(fp, path, p);
	bad = fflush(fp) != 0 || fsync(fileno(fp)) != 0;
	bad |= fclose(fp) != 0;
	if (bad || rename(tmp, file) != 0 || tail_fsync_dir(file) != 0) {
		op_error(MOD,
		         "cannot save %s: %s; will read again from %" PRIu64,
		         file, strerror(errno), p->off);
		unlink(tmp);
		return OP_EIO;
	}
	return OP_OK;
}

/* ---- rotated siblings ---------------------------------------------------- */

size_t
tail_read_fp(int fd, uint64_t off, unsigned char *fp)
{
	size_t n = off < TAIL_FP ? (size_t)off : TAIL_FP;
	ssize_t got;

	if (n == 0)
		return 0;
	got = pread(fd, fp, n, (off_t)(off - n));
	return got == (ssize_t)n ? n : (size_t)-1;
}

/* Whether the open file fd is the sibling wanted. */
static int
tail_sibling_matches(int fd, uint64_t dev, uint64_t ino, uint64_t off,
                     const unsigned char *fp, size_t nfp)
{
	struct stat st;
	unsigned char got[TAIL_FP];

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (ino != 0)
		return (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
	return (uint64_t)st.st_size >= off && nfp > 0 &&
	       tail_read_fp(fd, off, got) == nfp && memcmp(got, fp, nfp) == 0;
}

int
tail_find_sibling(const char *path, uint64_t dev, uint64_t ino, uint64_t off,
                  const unsigned char *fp, size_t nfp)
{
	char dir[4096], full[8300];
	const char *base = strrchr(path, '/');
	size_t blen;
	struct dirent *de;
	DIR *d;
	int found = -1;

	snprintf(dir, sizeof(dir), "%.*s", (int)(base - path), path);
	base++;
	blen = strlen(base);
	if ((d = opendir(*dir ? dir : "/")) == NULL)
		return -1;
	while (found < 0 && (de = readdir(d)) != NULL) {
		int fd;

		if (strncmp(de->d_name, base, blen) != 0 ||
		    de->d_name[blen] == '\0')
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
		if ((fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
			continue;
		if (tail_sibling_matches(fd, dev, ino, off, fp, nfp))
			found = fd;
		else
			close(fd);
	}
	closedir(d);
	return found;
}

/* ---- status ---------------------------------------------------------- */

int
tail_status_read(const struct agent_conf *c, size_t i, struct tail_status *st)
{
	struct tail_pos p;
	char id[17];
	char *file;
	int rv;

	memset(st, 0, sizeof(*st));
	tail_path_id(c->access_logs.items[i].path, id);
	if ((file = tail_state_file(c->spool_dir, id)) == NULL)
		return OP_ENOMEM;
	rv = tail_state_load(file, &p);
	free(file);
	if (rv != OP_OK)
		return rv;
	st->generation = p.gen;
	st->offset = p.off;
	memcpy(st->skips, p.skips, sizeof(st->skips));
	return OP_OK;
}
