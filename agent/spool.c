#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "op_error.h"
#include "op_log.h"
#include "spool.h"

#define MOD          "spool"
#define SPOOL_MAGIC  0x314f5053u /* "SPO1" little-endian */
#define SPOOL_HDR    12u
#define SPOOL_WINDOW (SPOOL_MAX_RECORD + SPOOL_HDR + (1u << 20))
/* What a read takes from a segment at a time: a batch of small records. */
#define SPOOL_CHUNK (256u << 10)

/* Where spool_read left off.  Its segment stays open between calls, so
 * that draining a spool costs an open and a directory listing per
 * segment, not per record. */
struct spool_reader {
	int fd; /* -1: none open */
	uint64_t seg;
	uint64_t size;   /* of the segment file, as last measured */
	uint64_t wstart; /* file offset of window[0] */
	size_t wlen;     /* bytes valid in the window */
	uint8_t *window; /* SPOOL_WINDOW bytes, or NULL between reads */
};

struct spool {
	char *dir;
	uid_t uid; /* owner and group of the directory, for new files */
	gid_t gid;
	uint64_t max_bytes;
	uint64_t id;
	int lockfd;
	struct spool_reader rd;
};

static void spool_reader_close(struct spool_reader *r);

/* ---- CRC-32C ------------------------------------------------------------ */

/* Reflected CRC-32C table (polynomial 0x82f63b78): entry i is i run
 * through eight shift-and-xor steps.  Constant, so that every thread may
 * use it without synchronisation; spool_test checks it against the
 * RFC 3720 test vectors. */
static const uint32_t spool_crc_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu,
    0x35f1141cu, 0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu,
    0x6be22838u, 0x9989ab3bu, 0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u,
    0x5e133c24u, 0x105ec76fu, 0xe235446cu, 0xf165b798u, 0x030e349bu,
    0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u, 0x9a879fa0u,
    0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u,
    0x33ed7d2au, 0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u,
    0xaa64d611u, 0x580f5512u, 0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu,
    0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau, 0x30e349b1u, 0xc288cab2u,
    0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu, 0x1642ae59u,
    0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu,
    0xb3109ebfu, 0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u,
    0x67dafa54u, 0x95b17957u, 0xcba24573u, 0x39c9c670u, 0x2a993584u,
    0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu, 0xed03a29bu, 0x1f682198u,
    0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u, 0x96bf4dccu,
    0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u,
    0x0f36e6f7u, 0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u,
    0xa65c047du, 0x5437877eu, 0x4767748au, 0xb50cf789u, 0xeb1fcbadu,
    0x197448aeu, 0x0a24bb5au, 0xf84f3859u, 0x2c855cb2u, 0xdeeedfb1u,
    0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu, 0x90a324fau,
    0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu,
    0xceb018deu, 0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu,
    0x63cd4b8fu, 0x91a6c88cu, 0x456cac67u, 0xb7072f64u, 0xa457dc90u,
    0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u, 0xe9141340u, 0x1b7f9043u,
    0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu, 0x92a8fc17u,
    0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu,
    0x0b21572cu, 0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u,
    0xa24bb5a6u, 0x502036a5u, 0x4370c551u, 0xb11b4652u, 0x65d122b9u,
    0x97baa1bau, 0x84ea524eu, 0x7681d14du, 0x2892ed69u, 0xdaf96e6au,
    0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u, 0x0e330a81u,
    0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u,
    0xcaa7a905u, 0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au,
    0x1e6dcdeeu, 0xec064eedu, 0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u,
    0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u, 0xe52cc12cu, 0x1747422fu,
    0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu, 0x8ecee914u,
    0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u,
    0x07198540u, 0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u,
    0x9e902e7bu, 0x6cfbad78u, 0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au,
    0x115b2b19u, 0x020bd8edu, 0xf0605beeu, 0x24aa3f05u, 0xd6c1bc06u,
    0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u, 0x88d28022u,
    0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au,
    0xc69f7b69u, 0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u,
    0x988c474du, 0x6ae7c44eu, 0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u,
    0xad7d5351u,
};

uint32_t
spool_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (len--)
		crc = spool_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
spool_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
spool_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * Checks the record at p (avail bytes available).  Returns its payload
 * length when whole and valid, -1 when damaged, -2 when avail is too short
 * to tell.
 */
static long
spool_check(const uint8_t *p, size_t avail)
{
	uint32_t len, crc;

	if (avail < SPOOL_HDR)
		return -2;
	if (spool_get32(p) != SPOOL_MAGIC)
		return -1;
	len = spool_get32(p + 4);
	if (len == 0 || len > SPOOL_MAX_RECORD)
		return -1;
	if (avail < SPOOL_HDR + len)
		return -2;
	crc = spool_crc32c(0, p + 4, 4);
	crc = spool_crc32c(crc, p + SPOOL_HDR, len);
	return crc == spool_get32(p + 8) ? (long)len : -1;
}

/* ---- files -------------------------------------------------------------- */

static void
spool_seg_path(const struct spool *s, uint64_t seg, char *buf, size_t size)
{
	snprintf(buf, size, "%s/seg-%016" PRIx64 ".log", s->dir, seg);
}

static int
spool_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rv;

	if (fd < 0)
		return OP_EIO;
	rv = fsync(fd);
	close(fd);
	return rv == 0 ? OP_OK : OP_EIO;
}

/*
 * Gives a file the spool just created to the directory's owner and group,
 * group-writable: a record command run by root (or by a member of the
 * group, when the directory is setgid) must leave files the daemon, running
 * as the directory's owner, can read, append to and delete.  Best effort:
 * a failure shows later as a clear open error.
 */
static void
spool_adopt(const struct spool *s, int fd)
{
	if (fchmod(fd, 0660) != 0)
		return;
	if (geteuid() == 0 && (s->uid != 0 || s->gid != 0) &&
	    fchown(fd, s->uid, s->gid) != 0)
		op_warn(MOD, "cannot give a new spool file to uid %u: %s",
		        (unsigned)s->uid, strerror(errno));
}

/* Replaces name in the spool directory with content, durably. */
static int
spool_write_atomic(const struct spool *s, const char *name, const char *content)
{
	char tmp[4096], path[4096];
	size_t len = strlen(content);
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", s->dir, name);
	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) <
	    0)
		return op_errno_to_err(errno);
	spool_adopt(s, fd);
	ok = write(fd, content, len) == (ssize_t)len && fdatasync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) != 0) {
		int err = op_errno_to_err(errno);
		unlink(tmp);
		return err;
	}
	return spool_fsync_dir(s->dir);
}

static int
spool_read_small(const struct spool *s, const char *name, char *buf,
                 size_t size)
{
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? OP_ENOTFOUND : OP_EIO;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return OP_EIO;
	buf[n] = '\0';
	return OP_OK;
}

static int
spool_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists segment numbers in ascending order into *segs (caller frees). */
static int
spool_segments(const struct spool *s, uint64_t **segs, size_t *n)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;

	if (d == NULL)
		return OP_EIO;
	while ((de = readdir(d)) != NULL) {
		uint64_t seg;
		char tail[8];
		if (sscanf(de->d_name, "seg-%16" SCNx64 "%7s", &seg, tail) !=
		        2 ||
		    strcmp(tail, ".log") != 0)
			continue;
		if (cnt == cap) {
			uint64_t *nv =
			    realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return OP_ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = seg;
	}
	closedir(d);
	if (cnt > 1) /* v is NULL when there is none: qsort must not see it */
		qsort(v, cnt, sizeof(*v), spool_cmp_u64);
	*segs = v;
	*n = cnt;
	return OP_OK;
}

static int
spool_lock(struct spool *s)
{
	while (flock(s->lockfd, LOCK_EX) != 0) {
		if (errno != EINTR)
			return OP_EIO;
	}
	return OP_OK;
}

static void
spool_unlock(struct spool *s)
{
	flock(s->lockfd, LOCK_UN);
}

/* ---- meta --------------------------------------------------------------- */

static int
spool_read_meta(struct spool *s, uint64_t *id, uint64_t *dropped)
{
	char buf[128];
	int rv = spool_read_small(s, "meta", buf, sizeof(buf));

	if (rv != OP_OK)
		return rv;
	if (sscanf(buf, "%" SCNu64 " %" SCNu64, id, dropped) != 2)
		return OP_ECORRUPT;
	return OP_OK;
}

static int
spool_write_meta(struct spool *s, uint64_t dropped)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64 "\n", s->id, dropped);
	return spool_write_atomic(s, "meta", buf);
}

static uint64_t
spool_random_id(void)
{
	uint64_t id = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &id, sizeof(id)) != (ssize_t)sizeof(id))
			id = 0;
		close(fd);
	}
	if (id == 0)
		id = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	return id >> 1; /* fits a signed 64-bit column */
}

static int
spool_init_meta(struct spool *s)
{
	uint64_t dropped;
	int rv;

	if ((rv = spool_lock(s)) != OP_OK)
		return rv;
	rv = spool_read_meta(s, &s->id, &dropped);
	if (rv == OP_ENOTFOUND || rv == OP_ECORRUPT) {
		if (rv == OP_ECORRUPT)
			op_warn(MOD,
			        "%s/meta is damaged; starting a new spool id",
			        s->dir);
		s->id = spool_random_id();
		rv = spool_write_meta(s, 0);
	}
	spool_unlock(s);
	return rv;
}

/* ---- open/close --------------------------------------------------------- */

static int
spool_mkdir(const char *dir)
{
	if (mkdir(dir, 0750) == 0 || errno == EEXIST)
		return OP_OK;
	op_error(MOD, "cannot create spool directory %s: %s", dir,
	         strerror(errno));
	return op_errno_to_err(errno);
}

/* Notes who owns the directory: new files are given to them. */
static void
spool_owner(struct spool *s)
{
	struct stat st;

	if (stat(s->dir, &st) == 0) {
		s->uid = st.st_uid;
		s->gid = st.st_gid;
	}
}

int
spool_open(struct spool **out, const char *dir, uint64_t max_bytes)
{
	struct spool *s;
	char path[4096];
	int rv;

	if ((rv = spool_mkdir(dir)) != OP_OK)
		return rv;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->dir = strdup(dir)) == NULL) {
		free(s);
		return OP_ENOMEM;
	}
	s->max_bytes = max_bytes;
	s->rd.fd = -1;
	spool_owner(s);
	snprintf(path, sizeof(path), "%s/lock", dir);
	if ((s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		rv = op_errno_to_err(errno);
		op_error(MOD,
		         "cannot open spool %s: %s; does this user own it?",
		         path, strerror(errno));
		free(s->dir);
		free(s);
		return rv;
	}
	spool_adopt(s, s->lockfd);
	if ((rv = spool_init_meta(s)) != OP_OK) {
		op_error(MOD, "cannot initialise spool %s: %s", dir,
		         op_strerror(rv));
		spool_close(s);
		return rv;
	}
	*out = s;
	return OP_OK;
}

void
spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->lockfd >= 0)
		close(s->lockfd);
	spool_reader_close(&s->rd);
	free(s->rd.window);
	free(s->dir);
	free(s);
}

uint64_t
spool_id(const struct spool *s)
{
	return s->id;
}

const char *
spool_dir(const struct spool *s)
{
	return s->dir;
}

int
spool_dropped(struct spool *s, uint64_t *out)
{
	uint64_t id;

	return spool_read_meta(s, &id, out);
}

/* ---- cursor ------------------------------------------------------------- */

int
spool_cursor(struct spool *s, struct spool_pos *out)
{
	char buf[128];
	int rv = spool_read_small(s, "cursor", buf, sizeof(buf));

	if (rv == OP_ENOTFOUND) {
		out->seg = out->off = 0;
		return OP_OK;
	}
	if (rv != OP_OK)
		return rv;
	if (sscanf(buf, "%" SCNu64 " %" SCNu64, &out->seg, &out->off) != 2) {
		op_warn(MOD,
		        "%s/cursor is damaged; resending from the oldest "
		        "segment (the aggregator drops duplicates)",
		        s->dir);
		out->seg = out->off = 0;
	}
	return OP_OK;
}

int
spool_pos_before(struct spool_pos a, struct spool_pos b)
{
	return a.seg < b.seg || (a.seg == b.seg && a.off < b.off);
}

int
spool_ack(struct spool *s, struct spool_pos pos)
{
	uint64_t *segs;
	size_t n;
	char buf[128], path[4096];
	int rv;

	snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64 "\n", pos.seg,
	         pos.off);
	if ((rv = spool_write_atomic(s, "cursor", buf)) != OP_OK)
		return rv;
	if ((rv = spool_segments(s, &segs, &n)) != OP_OK)
		return rv;
	/* Delete wholly acknowledged segments, never the newest. */
	for (size_t i = 0; i + 1 < n && segs[i] < pos.seg; i++) {
		spool_seg_path(s, segs[i], path, sizeof(path));
		unlink(path);
	}
	free(segs);
	return OP_OK;
}

/* ---- append ------------------------------------------------------------- */

static uint64_t
spool_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

uint64_t
spool_bytes(struct spool *s)
{
	uint64_t *segs, total = 0;
	size_t n;
	char path[4096];

	if (spool_segments(s, &segs, &n) != OP_OK)
		return 0;
	for (size_t i = 0; i < n; i++) {
		spool_seg_path(s, segs[i], path, sizeof(path));
		total += spool_file_size(path);
	}
	free(segs);
	return total;
}

/* Segments are an eighth of the bound, so that dropping the oldest one
 * when full loses only a small part of the spool. */
static uint64_t
spool_seg_max(const struct spool *s)
{
	uint64_t m = s->max_bytes / 8;

	if (m < (64u << 10))
		return 64u << 10;
	return m > (4u << 20) ? (4u << 20) : m;
}

/* The segment to append to (the newest, or a new one when it is full).
 * Caller holds the lock. */
static int
spool_tail_segment(struct spool *s, uint64_t *seg)
{
	uint64_t *segs;
	size_t n;
	char path[4096];
	int rv;

	if ((rv = spool_segments(s, &segs, &n)) != OP_OK)
		return rv;
	*seg = n ? segs[n - 1] : 1;
	free(segs);
	spool_seg_path(s, *seg, path, sizeof(path));
	if (spool_file_size(path) >= spool_seg_max(s))
		(*seg)++;
	return OP_OK;
}

static uint8_t *
spool_frame(const uint8_t *const *recs, const size_t *lens, size_t n,
            size_t *total)
{
	uint8_t *buf, *p;
	size_t sz = 0;

	for (size_t i = 0; i < n; i++)
		sz += SPOOL_HDR + lens[i];
	if ((buf = malloc(sz ? sz : 1)) == NULL)
		return NULL;
	p = buf;
	for (size_t i = 0; i < n; i++) {
		uint32_t crc;
		spool_put32(p, SPOOL_MAGIC);
		spool_put32(p + 4, (uint32_t)lens[i]);
		crc = spool_crc32c(0, p + 4, 4);
		spool_put32(p + 8, spool_crc32c(crc, recs[i], lens[i]));
		memcpy(p + SPOOL_HDR, recs[i], lens[i]);
		p += SPOOL_HDR + lens[i];
	}
	*total = sz;
	return buf;
}

static int
spool_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return op_errno_to_err(errno);
		}
		buf += w;
		len -= (size_t)w;
	}
	return OP_OK;
}

static int spool_enforce_limit(struct spool *s);

/* Writes one framed run to the tail segment.  Caller holds the lock. */
static int
spool_append_locked(struct spool *s, const uint8_t *buf, size_t len)
{
	char path[4096];
	uint64_t seg;
	int fd, rv, created;

	if ((rv = spool_tail_segment(s, &seg)) != OP_OK)
		return rv;
	spool_seg_path(s, seg, path, sizeof(path));
	created = access(path, F_OK) != 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0660);
	if (fd < 0) {
		rv = op_errno_to_err(errno);
		op_error(MOD, "cannot open %s: %s", path, strerror(errno));
		return rv;
	}
	if (created)
		spool_adopt(s, fd);
	rv = spool_write_all(fd, buf, len);
	if (rv == OP_OK && fdatasync(fd) != 0)
		rv = op_errno_to_err(errno);
	close(fd);
	if (rv == OP_OK && created)
		rv = spool_fsync_dir(s->dir);
	if (rv != OP_OK)
		op_error(MOD, "cannot write %s: %s", path, op_strerror(rv));
	return rv;
}

int
spool_append(struct spool *s, const uint8_t *const *recs, const size_t *lens,
             size_t n)
{
	uint8_t *buf;
	size_t len;
	int rv;

	for (size_t i = 0; i < n; i++) {
		if (lens[i] == 0 || lens[i] > SPOOL_MAX_RECORD)
			return OP_ETOOBIG;
	}
	if ((buf = spool_frame(recs, lens, n, &len)) == NULL)
		return OP_ENOMEM;
	if ((rv = spool_lock(s)) == OP_OK) {
		rv = spool_append_locked(s, buf, len);
		if (rv == OP_OK)
			rv = spool_enforce_limit(s);
		spool_unlock(s);
	}
	free(buf);
	return rv;
}

int
spool_end(struct spool *s, struct spool_pos *out)
{
	uint64_t *segs;
	size_t n;
	char path[4096];
	int rv;

	if ((rv = spool_lock(s)) != OP_OK)
		return rv;
	if ((rv = spool_segments(s, &segs, &n)) == OP_OK) {
		out->seg = n ? segs[n - 1] : 0;
		spool_seg_path(s, out->seg, path, sizeof(path));
		out->off = n ? spool_file_size(path) : 0;
		free(segs);
	}
	spool_unlock(s);
	return rv;
}

/* ---- read --------------------------------------------------------------- */

/* Reads the window from off: size bytes, or fewer at the end of the file. */
static int
spool_window(struct spool *s, uint64_t off, size_t size)
{
	struct spool_reader *r = &s->rd;
	ssize_t n = pread(r->fd, r->window, size, (off_t)off);

	if (n < 0) {
		r->wlen = 0;
		return OP_EIO;
	}
	r->wstart = off;
	r->wlen = (size_t)n;
	return OP_OK;
}

/*
 * Checks the record at off: in the window when it holds the whole record,
 * else read from the file (a chunk; the whole window for a record longer
 * than a chunk).  Bytes that look damaged in the window are read again:
 * they may be a torn tail that was cut and written over since.  Returns as
 * spool_check, or -3 on a read error.
 */
static long
spool_check_at(struct spool *s, uint64_t off)
{
	struct spool_reader *r = &s->rd;
	long v = -2;

	if (off >= r->wstart && off - r->wstart < r->wlen)
		v = spool_check(r->window + (off - r->wstart),
		                r->wlen - (size_t)(off - r->wstart));
	if (v >= 0)
		return v;
	if (spool_window(s, off, SPOOL_CHUNK) != OP_OK)
		return -3;
	v = spool_check(r->window, r->wlen);
	if (v == -2 && r->wlen == SPOOL_CHUNK) {
		if (spool_window(s, off, SPOOL_WINDOW) != OP_OK)
			return -3;
		v = spool_check(r->window, r->wlen);
	}
	return v;
}

/* Finds the next valid record after a damaged one; returns its offset or
 * the segment's size when there is none. */
static uint64_t
spool_resync(struct spool *s, uint64_t off)
{
	struct spool_reader *r = &s->rd;

	for (uint64_t o = off + 1; o + SPOOL_HDR <= r->size; o++) {
		if (o < r->wstart || o - r->wstart + 4 > r->wlen) {
			if (spool_window(s, o, SPOOL_CHUNK) != OP_OK ||
			    r->wlen < 4)
				break;
		}
		if (spool_get32(r->window + (o - r->wstart)) == SPOOL_MAGIC &&
		    spool_check_at(s, o) >= 0)
			return o;
	}
	return r->size;
}

/* The size of the open segment, into r->size.  Returns OP_OK, OP_ENOTFOUND
 * when the segment was deleted (the bound dropped it), or OP_EIO. */
static int
spool_seg_size(struct spool_reader *r)
{
	struct stat st;

	if (fstat(r->fd, &st) != 0)
		return OP_EIO;
	if (st.st_nlink == 0)
		return OP_ENOTFOUND;
	r->size = (uint64_t)st.st_size;
	return OP_OK;
}

/* Cuts a torn tail off the newest segment, under the writers' lock,
 * after reading it again there (a writer may have been finishing it). */
static void
spool_cut_tail(struct spool *s, uint64_t off)
{
	struct spool_reader *r = &s->rd;
	char path[4096];

	if (spool_lock(s) != OP_OK)
		return;
	r->wlen = 0;
	if (spool_seg_size(r) == OP_OK && spool_check_at(s, off) < 0 &&
	    spool_resync(s, off) >= r->size) {
		spool_seg_path(s, r->seg, path, sizeof(path));
		op_warn(MOD,
		        "%s: cutting %" PRIu64 " bytes of a torn record "
		        "at offset %" PRIu64 " (left by a crash)",
		        path, r->size - off, off);
		if (truncate(path, (off_t)off) == 0)
			r->size = off;
	}
	r->wlen = 0;
	spool_unlock(s);
}

static void
spool_reader_close(struct spool_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->wlen = 0;
}

static int
spool_open_seg(struct spool *s, uint64_t seg)
{
	struct spool_reader *r = &s->rd;
	char path[4096];

	spool_reader_close(r);
	spool_seg_path(s, seg, path, sizeof(path));
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? OP_ENOTFOUND : OP_EIO;
	r->seg = seg;
	return spool_seg_size(r);
}

/* The first segment at or after seg (after it, when after is set), from a
 * listing of the directory.  Returns OP_ENOTFOUND when there is none. */
static int
spool_find_seg(struct spool *s, uint64_t seg, int after, uint64_t *out)
{
	uint64_t *segs;
	size_t n, i;
	int rv;

	if ((rv = spool_segments(s, &segs, &n)) != OP_OK)
		return rv;
	for (i = 0; i < n && (segs[i] < seg || (after && segs[i] == seg)); i++)
		;
	rv = i < n ? OP_OK : OP_ENOTFOUND;
	if (rv == OP_OK)
		*out = segs[i];
	free(segs);
	return rv;
}

/*
 * Points the reader at pos: the segment already open when it is pos's and
 * still there (no listing, no open), else the first segment at or after
 * pos->seg (pos moves to its start).  The window is emptied: each read
 * sees the files as they are now.  Returns OP_ENOTFOUND when no segment is
 * left at or after pos.
 */
static int
spool_reader_at(struct spool *s, struct spool_pos *pos)
{
	struct spool_reader *r = &s->rd;
	uint64_t seg;
	int rv;

	r->wlen = 0;
	if (r->fd >= 0 && r->seg == pos->seg &&
	    (rv = spool_seg_size(r)) != OP_ENOTFOUND)
		return rv;
	if ((rv = spool_find_seg(s, pos->seg, 0, &seg)) != OP_OK) {
		spool_reader_close(r);
		return rv;
	}
	if (seg != pos->seg) {
		pos->seg = seg;
		pos->off = 0;
	}
	return spool_open_seg(s, seg);
}

/*
 * pos is at the end of the open segment as last measured.  Lists the
 * directory first (a segment with a successor no longer grows), then
 * measures the segment again: reading goes on in it when it grew, else in
 * the next one.  Returns OP_OK, or OP_ENOTFOUND at the end of the spool.
 */
static int
spool_reader_advance(struct spool *s, struct spool_pos *pos)
{
	uint64_t next;
	int rv = spool_find_seg(s, pos->seg, 1, &next);

	if (rv != OP_OK && rv != OP_ENOTFOUND)
		return rv;
	if (spool_seg_size(&s->rd) == OP_OK && pos->off < s->rd.size)
		return OP_OK;
	if (rv == OP_ENOTFOUND)
		return rv;
	pos->seg = next;
	pos->off = 0;
	return spool_open_seg(s, next);
}

/*
 * The record at pos is damaged or incomplete.  Skips to the next valid
 * record; at the tail of the newest segment it may be a write in progress
 * or a crash's torn record, which spool_cut_tail tells apart.  Returns
 * OP_OK to read on, OP_ENOTFOUND when that was the end.
 */
static int
spool_damaged(struct spool *s, struct spool_pos *pos, uint64_t *skipped)
{
	uint64_t next = spool_resync(s, pos->off), later;

	if (next >= s->rd.size &&
	    spool_find_seg(s, pos->seg, 1, &later) == OP_ENOTFOUND) {
		spool_cut_tail(s, pos->off);
		if (pos->off >= s->rd.size && skipped)
			(*skipped)++;
		return OP_ENOTFOUND;
	}
	op_warn(MOD,
	        "segment %" PRIu64 ": skipping %" PRIu64
	        " damaged bytes at offset %" PRIu64,
	        pos->seg, next - pos->off, pos->off);
	if (skipped)
		(*skipped)++;
	pos->off = next;
	return OP_OK;
}

long
spool_read(struct spool *s, struct spool_pos *pos, size_t max_records,
           spool_record_fn fn, void *arg, uint64_t *skipped)
{
	struct spool_reader *r = &s->rd;
	long count = 0, v;
	int rv;

	if (r->window == NULL && (r->window = malloc(SPOOL_WINDOW)) == NULL)
		return -OP_ENOMEM;
	rv = spool_reader_at(s, pos);
	while (rv == OP_OK && (size_t)count < max_records) {
		if (pos->off >= r->size) {
			rv = spool_reader_advance(s, pos);
			continue;
		}
		if ((v = spool_check_at(s, pos->off)) == -3) {
			rv = OP_EIO;
		} else if (v < 0) {
			rv = spool_damaged(s, pos, skipped);
		} else {
			const uint8_t *p = r->window + (pos->off - r->wstart);
			if (fn(arg, *pos, p + SPOOL_HDR, (size_t)v))
				break;
			pos->off += SPOOL_HDR + (uint64_t)v;
			count++;
		}
	}
	if (rv == OP_ENOTFOUND) {
		/* Caught up: give the window's pages back until next time. */
		free(r->window);
		r->window = NULL;
		r->wlen = 0;
	}
	return rv == OP_OK || rv == OP_ENOTFOUND ? count : -rv;
}

/* ---- bound -------------------------------------------------------------- */

struct spool_counter {
	uint64_t seg;
	uint64_t n;
};

static int
spool_count_fn(void *arg, struct spool_pos at, const uint8_t *d, size_t l)
{
	struct spool_counter *c = arg;

	(void)d;
	(void)l;
	if (at.seg != c->seg)
		return 1;
	c->n++;
	return 0;
}

/* Counts unacknowledged records in segment seg. */
static uint64_t
spool_count_unacked(struct spool *s, uint64_t seg, struct spool_pos cursor)
{
	struct spool_pos p = {seg, 0};
	struct spool_counter c = {seg, 0};

	if (spool_pos_before(p, cursor))
		p = cursor;
	while (p.seg == seg &&
	       spool_read(s, &p, 4096, spool_count_fn, &c, NULL) > 0)
		;
	return c.n;
}

/*
 * Drops the oldest segments while the spool is over its bound, counting
 * the unacknowledged events they held.  Caller holds the lock.
 */
static int
spool_enforce_limit(struct spool *s)
{
	uint64_t *segs, total = 0, dropped = 0, id, prev;
	struct spool_pos cursor;
	size_t n;
	char path[4096];
	int rv;

	if ((rv = spool_segments(s, &segs, &n)) != OP_OK)
		return rv;
	for (size_t i = 0; i < n; i++) {
		spool_seg_path(s, segs[i], path, sizeof(path));
		total += spool_file_size(path);
	}
	for (size_t i = 0; i + 1 < n && total > s->max_bytes; i++) {
		uint64_t sz;
		if (spool_cursor(s, &cursor) != OP_OK)
			break;
		dropped += spool_count_unacked(s, segs[i], cursor);
		spool_seg_path(s, segs[i], path, sizeof(path));
		sz = spool_file_size(path);
		if (unlink(path) == 0)
			total -= sz;
	}
	free(segs);
	if (dropped == 0)
		return OP_OK;
	op_warn(MOD,
	        "spool %s is over its limit of %" PRIu64 " bytes: "
	        "dropped the %" PRIu64 " oldest unsent events",
	        s->dir, s->max_bytes, dropped);
	if (spool_read_meta(s, &id, &prev) != OP_OK)
		prev = 0;
	return spool_write_meta(s, prev + dropped);
}
