/*
 * A plain main() for the fuzz targets, so that ctest runs them without
 * libFuzzer: every file in the directories named on the command line,
 * then pseudo-random inputs and mutations of those files.  The generator
 * is seeded with a constant, so a failure reproduces on every run.
 *
 * Usage: <target> [-n COUNT] DIR|FILE...   (COUNT generated inputs;
 * default 4000, or $FUZZ_REPLAY_COUNT).  A crash or failed check aborts,
 * which fails the test, after saving the input that did it as
 * replay-crash.bin in the working directory: run the target on that file
 * to reproduce.  Exit status 1 means a path could not be read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (64u << 10)

struct input {
	uint8_t *data;
	size_t size;
};

struct corpus {
	struct input *v;
	size_t n, cap;
};

static uint64_t replay_state = 0x5eed0f0b5e55edull;

static uint64_t
replay_rand(void)
{
	/* xorshift64*: small, fast and good enough to pick mutations. */
	replay_state ^= replay_state >> 12;
	replay_state ^= replay_state << 25;
	replay_state ^= replay_state >> 27;
	return replay_state * 0x2545f4914f6cdd1dull;
}

static size_t
replay_below(size_t n)
{
	return n ? (size_t)(replay_rand() % n) : 0;
}

static int
replay_read_file(const char *path, struct corpus *c)
{
	FILE *fp = fopen(path, "rb");
	struct input in = {NULL, 0};
	uint8_t buf[4096];
	size_t got;

	if (fp == NULL)
		return -1;
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0) {
		uint8_t *d = realloc(in.data, in.size + got);
		if (d == NULL)
			abort();
		memcpy(d + in.size, buf, got);
		in.data = d;
		in.size += got;
	}
	fclose(fp);
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (c->v == NULL)
			abort();
	}
	c->v[c->n++] = in;
	return 0;
}

static int
replay_cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every regular file in dir, in name order. */
static int
replay_read_dir(const char *dir, struct corpus *c)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rv = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (names == NULL || (names[n++] = strdup(path)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(*names), replay_cmp_name);
	for (size_t i = 0; i < n; i++) {
		if (replay_read_file(names[i], c) != 0)
			rv = -1;
		free(names[i]);
	}
	free(names);
	return rv;
}

/* The input being run, for replay_dump. */
static const uint8_t *replay_cur;
static size_t replay_cur_size;

/* Saves the current input; called from signal handlers, so it only uses
 * async-signal-safe calls. */
static void
replay_dump(void)
{
	static const char msg[] = "replay: the failing input is saved as "
	                          "replay-crash.bin\n";
	int fd;

	if (replay_cur == NULL)
		return;
	fd = open("replay-crash.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		ssize_t w = write(fd, replay_cur, replay_cur_size);

		close(fd);
		if (w == (ssize_t)replay_cur_size)
			w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)w; /* nothing more to do if the message is lost */
	}
	replay_cur = NULL;
}

static void
replay_on_signal(int sig)
{
	replay_dump();
	raise(sig); /* SA_RESETHAND restored the default action */
}

/* Sanitizers end the process without a signal; this hook, present only
 * in sanitizer builds, lets the input be saved then too. */
extern void __sanitizer_set_death_callback(void (*cb)(void))
    __attribute__((weak));

static void
replay_catch_failures(void)
{
	static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = replay_on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(replay_dump);
}

/* Runs one input from a buffer of exactly its size (so ASan sees
 * overreads). */
static void
replay_run(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL)
		abort();
	if (size)
		memcpy(copy, data, size);
	replay_cur = data;
	replay_cur_size = size;
	LLVMFuzzerTestOneInput(copy, size);
	replay_cur = NULL;
	free(copy);
}

/* Values that tend to sit on a boundary. */
static const uint8_t replay_special[] = {0x00, 0x01, 0x7f, 0x80, 0xff,
                                         '0',  '9',  '-',  ':',  '.',
                                         '"',  '\n', ';',  '{',  'T'};

/* Applies one random edit to in (size may change within max). */
static void
replay_mutate_once(struct input *in, size_t max)
{
	size_t pos = replay_below(in->size + 1);

	switch (replay_below(7)) {
	case 0: /* flip a bit */
		if (in->size)
			in->data[pos % in->size] ^=
			    (uint8_t)(1u << replay_below(8));
		break;
	case 1: /* set a byte */
		if (in->size)
			in->data[pos % in->size] = replay_special[replay_below(
			    sizeof(replay_special))];
		break;
	case 2: /* insert a byte */
		if (in->size < max) {
			memmove(in->data + pos + 1, in->data + pos,
			        in->size - pos);
			in->data[pos] = (uint8_t)replay_rand();
			in->size++;
		}
		break;
	case 3: /* delete a run */
		if (pos < in->size) {
			size_t k = 1 + replay_below(in->size - pos);
			memmove(in->data + pos, in->data + pos + k,
			        in->size - pos - k);
			in->size -= k;
		}
		break;
	case 4: /* truncate */
		in->size = pos < in->size ? pos : in->size;
		break;
	case 5: /* duplicate a run */
		if (pos < in->size) {
			size_t k = 1 + replay_below(in->size - pos);
			if (in->size + k <= max) {
				memmove(in->data + pos + k, in->data + pos,
				        in->size - pos);
				in->size += k;
			}
		}
		break;
	default: /* overwrite a little-endian 32-bit word */
		if (in->size >= 4) {
			uint32_t v =
			    (uint32_t)replay_rand() >> replay_below(32);
			pos %= in->size - 3;
			for (int i = 0; i < 4; i++)
				in->data[pos + (size_t)i] =
				    (uint8_t)(v >> (8 * i));
		}
		break;
	}
}

static void
replay_generated(const struct corpus *c, unsigned long count)
{
	uint8_t *buf = malloc(REPLAY_MAX_INPUT);

	if (buf == NULL)
		abort();
	for (unsigned long i = 0; i < count; i++) {
		struct input in = {buf, 0};

		if (c->n == 0 || i % 4 == 0) {
			/* Random bytes, mostly short. */
			in.size = replay_below(i % 16 == 0 ? 4096 : 64);
			for (size_t k = 0; k < in.size; k++)
				buf[k] = (uint8_t)replay_rand();
		} else {
			const struct input *seed = &c->v[replay_below(c->n)];
			size_t edits = 1 + replay_below(4);

			in.size = seed->size < REPLAY_MAX_INPUT
			              ? seed->size
			              : REPLAY_MAX_INPUT;
			if (in.size)
				memcpy(buf, seed->data, in.size);
			while (edits--)
				replay_mutate_once(&in, REPLAY_MAX_INPUT);
		}
		replay_run(buf, in.size);
	}
	free(buf);
}

int
main(int argc, char **argv)
{
	struct corpus c = {NULL, 0, 0};
	const char *env = getenv("FUZZ_REPLAY_COUNT");
	unsigned long count = env ? strtoul(env, NULL, 10) : 4000;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		count = strtoul(argv[2], NULL, 10);
		i = 3;
	}
	replay_catch_failures();
	for (; i < argc; i++) {
		struct stat st;
		int rv = stat(argv[i], &st) != 0 ? -1
		         : S_ISDIR(st.st_mode)   ? replay_read_dir(argv[i], &c)
		                               : replay_read_file(argv[i], &c);
		if (rv != 0) {
			fprintf(stderr, "%s: cannot read %s: %s\n", argv[0],
			        argv[i], strerror(errno));
			return 1;
		}
	}
	for (size_t k = 0; k < c.n; k++)
		replay_run(c.v[k].data, c.v[k].size);
	replay_generated(&c, count);
	printf("%s: %zu corpus files and %lu generated inputs, no failure\n",
	       argv[0], c.n, count);
	for (size_t k = 0; k < c.n; k++)
		free(c.v[k].data);
	free(c.v);
	return 0;
}
