/*
 * opspulse-agent import FILE|- (SPEC §2 item 3).  The first pass parses and
 * validates every line, reports each bad one as FILE:LINE: reason, and
 * keeps the encoded events in a temporary file; only when the whole input
 * is good (or --skip-invalid) does the second pass append them to the
 * spool, in large groups with one fsync each.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "import.h"
#include "op_error.h"
#include "op_time.h"
#include "spool.h"

#define IMPORT_MAX_LINE    (1u << 20)
#define IMPORT_GROUP       10000      /* events per spool append (fsync) */
#define IMPORT_GROUP_BYTES (8u << 20) /* and at most this many bytes */
#define IMPORT_PROGRESS    100000     /* lines between progress reports */

struct import_run {
	const struct agent_conf *conf;
	const char *name; /* input name for messages */
	int dry_run, skip_invalid, progress;
	FILE *in, *tmp;
	int64_t now;
	int64_t last_recorded; /* recorded_us of the previous good line */
	size_t lines, good, bad;
};

static int
import_usage(FILE *fp)
{
	fprintf(fp,
	        "usage: opspulse-agent import [--dry-run] [--skip-invalid] "
	        "[--progress] FILE|-\n"
	        "\n"
	        "Loads events from JSON Lines, one object per line with a "
	        "\"type\" from\n"
	        "the list below.  Omitted service, env, host and operator take "
	        "this\n"
	        "agent's defaults.  The whole input is validated first: every "
	        "bad line "
	        "is\n"
	        "reported as FILE:LINE: reason and nothing is imported "
	        "(exit 1),\n"
	        "unless --skip-invalid.  --dry-run only validates.  "
	        "Importing the same\n"
	        "file again stores nothing new.  Progress goes to stderr on a "
	        "terminal\n"
	        "or with --progress.  docs/IMPORT.md and opspulse-agent(1) "
	        "describe each\nfield.\n\n");
	import_describe(fp);
	return fp == stdout ? 0 : 1;
}

static int
import_parse_args(struct import_run *r, int argc, char **argv,
                  const char **file)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"skip-invalid", no_argument, NULL, 's'},
	    {"progress", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'n')
			r->dry_run = 1;
		else if (opt == 's')
			r->skip_invalid = 1;
		else if (opt == 'p')
			r->progress = 1;
		else
			return opt == 'h' ? 2 : 1;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "opspulse-agent: import takes one FILE (or - "
		                "for standard input)\n");
		return 1;
	}
	*file = argv[optind];
	return 0;
}

static int
import_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	}
	return 1;
}

/* Appends one encoded event to the temporary file: u32 length, bytes. */
static int
import_keep(struct import_run *r, const op_event *e)
{
	uint8_t *buf;
	size_t len;
	uint32_t n;
	int rv;

	if (r->tmp == NULL)
		return OP_OK;
	if ((rv = op_pack(&e->base, &buf, &len)) != OP_OK)
		return rv;
	n = (uint32_t)len;
	if (fwrite(&n, sizeof(n), 1, r->tmp) != 1 ||
	    fwrite(buf, 1, len, r->tmp) != len)
		rv = OP_EIO;
	free(buf);
	return rv;
}

/* Parses and checks one line; a bad one is reported and counted. */
static int
import_line(struct import_run *r, const char *line, size_t len)
{
	struct import_line l;
	char err[512];
	int rv = OP_OK;

	if (len > IMPORT_MAX_LINE) {
		snprintf(err, sizeof(err), "line is longer than %u bytes",
		         IMPORT_MAX_LINE);
		memset(&l, 0, sizeof(l));
	} else if (import_parse_line(line, len, r->conf, r->now, &l, err,
	                             sizeof(err)) == OP_OK) {
		/* Lines are recorded in file order (SPEC §13.1): incident
		 * records merge in recording order, so no two lines may
		 * share a recording time. */
		if (l.e.ev.recorded_us <= r->last_recorded)
			l.e.ev.recorded_us = r->last_recorded + 1;
		r->last_recorded = l.e.ev.recorded_us;
		rv = import_keep(r, &l.e.ev);
		r->good++;
		import_line_clear(&l);
		return rv;
	}
	fprintf(stderr, "%s:%zu: %s\n", r->name, r->lines, err);
	r->bad++;
	import_line_clear(&l);
	return OP_OK;
}

static void
import_progress(const struct import_run *r, const char *what, size_t n,
                size_t total)
{
	if (!r->progress || n == 0 || n % IMPORT_PROGRESS != 0)
		return;
	if (total)
		fprintf(stderr, "import: %s %zu of %zu\n", what, n, total);
	else
		fprintf(stderr, "import: %s %zu\n", what, n);
}

/* Pass one: every line. */
static int
import_validate(struct import_run *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rv = OP_OK;

	while (rv == OP_OK && (n = getline(&line, &cap, r->in)) >= 0) {
		char *p = line;
		r->lines++;
		import_progress(r, "lines read", r->lines, 0);
		/* A byte order mark some editors write first. */
		if (r->lines == 1 && n >= 3 &&
		    memcmp(p, "\xef\xbb\xbf", 3) == 0) {
			p += 3;
			n -= 3;
		}
		if (!import_blank(p, (size_t)n))
			rv = import_line(r, p, (size_t)n);
	}
	if (rv == OP_OK && ferror(r->in))
		rv = OP_EIO;
	free(line);
	return rv;
}

struct import_group {
	uint8_t **recs;
	size_t *lens;
	size_t n, bytes;
};

static void
import_group_clear(struct import_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->recs[i]);
	g->n = 0;
	g->bytes = 0;
}

/* Reads the next group from the temporary file; 0 records at its end. */
static int
import_group_read(struct import_run *r, struct import_group *g)
{
	uint32_t len;

	import_group_clear(g);
	while (g->n < IMPORT_GROUP && g->bytes < IMPORT_GROUP_BYTES &&
	       fread(&len, sizeof(len), 1, r->tmp) == 1) {
		if ((g->recs[g->n] = malloc(len ? len : 1)) == NULL)
			return OP_ENOMEM;
		g->lens[g->n] = len;
		if (fread(g->recs[g->n++], 1, len, r->tmp) != len)
			return OP_EIO;
		g->bytes += len;
	}
	return ferror(r->tmp) ? OP_EIO : OP_OK;
}

/* Pass two: the kept events into the spool, a group per fsync. */
static int
import_store(struct import_run *r, size_t *stored)
{
	struct import_group g = {0};
	struct spool *s = NULL;
	int rv;

	g.recs = calloc(IMPORT_GROUP, sizeof(*g.recs));
	g.lens = calloc(IMPORT_GROUP, sizeof(*g.lens));
	rv = g.recs && g.lens ? OP_OK : OP_ENOMEM;
	if (rv == OP_OK && fseek(r->tmp, 0, SEEK_SET) != 0)
		rv = OP_EIO;
	if (rv == OP_OK)
		rv = spool_open(&s, r->conf->spool_dir,
		                (uint64_t)r->conf->spool_max_mb << 20);
	while (rv == OP_OK && (rv = import_group_read(r, &g)) == OP_OK &&
	       g.n > 0) {
		rv = spool_append(s, (const uint8_t *const *)g.recs, g.lens,
		                  g.n);
		if (rv == OP_OK) {
			size_t before = *stored;
			*stored += g.n;
			if (before / IMPORT_PROGRESS !=
			    *stored / IMPORT_PROGRESS)
				import_progress(r, "events stored",
				                *stored / IMPORT_PROGRESS *
				                    IMPORT_PROGRESS,
				                r->good);
		}
	}
	import_group_clear(&g);
	free(g.recs);
	free(g.lens);
	spool_close(s);
	return rv;
}

static int
import_report(struct import_run *r)
{
	if (r->bad && !r->skip_invalid) {
		fprintf(stderr,
		        "opspulse-agent: %s: %zu bad line%s; nothing imported "
		        "(fix them, or use --skip-invalid)\n",
		        r->name, r->bad, r->bad == 1 ? "" : "s");
		return 1;
	}
	if (r->dry_run) {
		printf("%s: %zu valid events, %zu invalid lines; nothing "
		       "imported (--dry-run)\n",
		       r->name, r->good, r->bad);
		return 0;
	}
	return -1; /* go on */
}

static int
import_run(struct import_run *r)
{
	size_t stored = 0;
	int rv, done;

	if (!r->dry_run && (r->tmp = tmpfile()) == NULL) {
		perror("opspulse-agent: cannot create a temporary file");
		return 1;
	}
	if ((rv = import_validate(r)) != OP_OK) {
		fprintf(stderr, "opspulse-agent: cannot read %s: %s\n", r->name,
		        op_strerror(rv));
		return 1;
	}
	if ((done = import_report(r)) >= 0)
		return done;
	if ((rv = import_store(r, &stored)) != OP_OK) {
		fprintf(stderr,
		        "opspulse-agent: cannot record in spool %s: %s; %zu of "
		        "%zu events stored; importing again stores each once\n",
		        r->conf->spool_dir, op_strerror(rv), stored, r->good);
		return 1;
	}
	printf("%s: imported %zu events%s\n", r->name, stored,
	       r->bad ? "; invalid lines skipped" : "");
	return 0;
}

int
agent_cmd_import(const struct agent_conf *c, int argc, char **argv)
{
	struct import_run r = {0};
	const char *file = NULL;
	int rv;

	if ((rv = import_parse_args(&r, argc, argv, &file)) != 0)
		return rv == 2 ? import_usage(stdout) : import_usage(stderr);
	r.conf = c;
	r.now = op_time_now_us();
	r.progress |= isatty(STDERR_FILENO);
	r.name = strcmp(file, "-") == 0 ? "stdin" : file;
	r.in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (r.in == NULL) {
		fprintf(stderr, "opspulse-agent: cannot open %s: ", file);
		perror(NULL);
		return 1;
	}
	rv = import_run(&r);
	if (r.in != stdin)
		fclose(r.in);
	if (r.tmp)
		fclose(r.tmp);
	return rv;
}
