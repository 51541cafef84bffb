/*
 * opspulse-agent run: runs a command and records it as a deploy, toil or
 * batch run (SPEC §2 item 1).  The command keeps the caller's stdin,
 * stdout and stderr, receives the signals sent to us, and its exit status
 * becomes ours.  Recording never changes what the command does or returns.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "op_error.h"
#include "op_time.h"

static volatile sig_atomic_t run_child_pid;

static const int run_forwarded[] = {SIGTERM, SIGINT,  SIGHUP,
                                    SIGQUIT, SIGUSR1, SIGUSR2};
#define RUN_NFORWARDED (sizeof(run_forwarded) / sizeof(run_forwarded[0]))

static int
run_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: opspulse-agent run --kind deploy|toil|batch --service S\n"
	    "           [--task T] [--version V] [--env E] [--commit-time T]\n"
	    "           [--commit SHA] [--hotfix] [--operator U] [--id ID]\n"
	    "           [--incident ID]\n"
	    "           -- CMD [ARGS...]\n"
	    "\n"
	    "Runs CMD and records it: a deploy (outcome from the exit "
	    "status),\n"
	    "toil (timed manual work, source 'run') or a batch run.  CMD "
	    "keeps\n"
	    "this terminal's stdin, stdout and stderr and receives the "
	    "signals\n"
	    "sent to this process; its exit status is returned.  If recording\n"
	    "fails, a warning is printed and CMD's status is still returned.\n"
	    "--task defaults to the command line.  --commit takes the commit "
	    "time\n"
	    "of SHA from the git repository in the working directory.\n"
	    "--incident (toil only) names the incident the work responded "
	    "to.\n");
	return fp == stdout ? 0 : 1;
}

/* Forwards signals sent with kill(2); signals from the terminal already
 * reach the child through its process group. */
static void
run_forward(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (run_child_pid > 0 &&
	    (si == NULL || si->si_code == SI_USER || si->si_code == SI_QUEUE))
		kill((pid_t)run_child_pid, sig);
}

static void
run_signals(int install)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (install) {
		sa.sa_sigaction = run_forward;
		/* 1 (waiting for the child): no SA_RESTART, so that waitpid()
		 * returns EINTR and is called again; a runtime that defers
		 * handlers to its next call (ThreadSanitizer) forwards then. */
		sa.sa_flags = SA_SIGINFO | (install == 1 ? 0 : SA_RESTART);
	} else {
		sa.sa_handler = SIG_DFL;
	}
	for (size_t i = 0; i < RUN_NFORWARDED; i++)
		sigaction(run_forwarded[i], &sa, NULL);
}

/* Runs argv; returns its wait status, or -1 if it could not be started. */
static int
run_child(char **argv)
{
	int status;
	pid_t pid, w;

	run_signals(1);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "opspulse-agent: cannot start %s: %s\n",
		        argv[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		run_signals(0);
		execvp(argv[0], argv);
		fprintf(stderr, "opspulse-agent: cannot run %s: %s\n", argv[0],
		        strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	run_child_pid = pid;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	run_child_pid = 0;
	run_signals(2);
	return w < 0 ? -1 : status;
}

/* Ends this process the way the child ended. */
static int
run_exit_status(int status)
{
	struct rlimit no_core = {0, 0};
	int sig;

	if (status < 0)
		return 127;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	sig = WTERMSIG(status);
	run_signals(0);
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	raise(sig);
	return 128 + sig;
}

/* The command line, for a default task name. */
static char *
run_cmdline(char **argv, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; *argv && len + 1 < size; argv++) {
		int n = snprintf(buf + len, size - len, "%s%s", len ? " " : "",
		                 *argv);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len >= size)
		buf[size - 1] = '\0';
	return buf;
}

struct run_args {
	const char *kind;
	char *task, *version, *id, *commit, *incident;
	int64_t commit_us;
	int hotfix, have_service;
};

enum {
	R_KIND = 1,
	R_SERVICE,
	R_TASK,
	R_VERSION,
	R_ENV,
	R_COMMIT,
	R_COMMIT_SHA,
	R_HOTFIX,
	R_OPERATOR,
	R_ID,
	R_INCIDENT,
	R_HELP
};

static const struct option run_opts[] = {
    {"kind", required_argument, NULL, R_KIND},
    {"service", required_argument, NULL, R_SERVICE},
    {"task", required_argument, NULL, R_TASK},
    {"version", required_argument, NULL, R_VERSION},
    {"env", required_argument, NULL, R_ENV},
    {"commit-time", required_argument, NULL, R_COMMIT},
    {"commit", required_argument, NULL, R_COMMIT_SHA},
    {"hotfix", no_argument, NULL, R_HOTFIX},
    {"operator", required_argument, NULL, R_OPERATOR},
    {"id", required_argument, NULL, R_ID},
    {"incident", required_argument, NULL, R_INCIDENT},
    {"help", no_argument, NULL, R_HELP},
    {NULL, 0, NULL, 0},
};

static int
run_option(int opt, struct run_args *a, struct agent_event *e)
{
	switch (opt) {
	case R_KIND:
		a->kind = optarg;
		return 0;
	case R_SERVICE:
		e->ev.service = optarg;
		a->have_service = 1;
		return 0;
	case R_TASK:
		a->task = optarg;
		return 0;
	case R_VERSION:
		a->version = optarg;
		return 0;
	case R_ENV:
		e->ev.env = optarg;
		return 0;
	case R_COMMIT:
		if (op_time_parse_arg(optarg, op_time_now_us(),
		                      &a->commit_us) == OP_OK)
			return 0;
		fprintf(stderr,
		        "opspulse-agent: --commit-time '%s' is not an "
		        "RFC 3339 time\n",
		        optarg);
		return 1;
	case R_COMMIT_SHA:
		a->commit = optarg;
		return 0;
	case R_HOTFIX:
		a->hotfix = 1;
		return 0;
	case R_OPERATOR:
		e->ev.operator_ = optarg;
		return 0;
	case R_ID:
		a->id = optarg;
		return 0;
	case R_INCIDENT:
		a->incident = optarg;
		return 0;
	case R_HELP:
		return 2;
	default:
		return 1;
	}
}

static int
run_parse(int argc, char **argv, struct run_args *a, struct agent_event *e)
{
	int opt, rv;

	optind = 1;
	/* '+': stop at the command, so its own options are left alone. */
	while ((opt = getopt_long(argc, argv, "+", run_opts, NULL)) != -1) {
		if ((rv = run_option(opt, a, e)) != 0)
			return rv;
	}
	if (optind >= argc) {
		fprintf(stderr,
		        "opspulse-agent: run needs a command after --\n");
		return 1;
	}
	if (a->kind == NULL ||
	    (strcmp(a->kind, "deploy") != 0 && strcmp(a->kind, "toil") != 0 &&
	     strcmp(a->kind, "batch") != 0)) {
		fprintf(stderr,
		        "opspulse-agent: --kind must be deploy, toil or "
		        "batch\n");
		return 1;
	}
	if (a->incident != NULL && strcmp(a->kind, "toil") != 0) {
		fprintf(stderr,
		        "opspulse-agent: --incident goes with --kind "
		        "toil (time spent responding to an incident)\n");
		return 1;
	}
	if (!a->have_service) {
		fprintf(stderr, "opspulse-agent: --service is required\n");
		return 1;
	}
	return 0;
}

/* Reads what fd yields into buf (NUL-terminated, truncated to fit). */
static void
run_read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size &&
	       ((n = read(fd, buf + len, size - 1 - len)) > 0 ||
	        (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	buf[len] = '\0';
}

/*
 * The committer time of sha, from `git show -s --format=%cI sha` in the
 * working directory.  Returns OP_OK, or OP_ENOTFOUND after a warning: a
 * deploy is still recorded, only without its lead time.
 */
static int
run_git_commit_time(char *sha, int64_t *out)
{
	char git[] = "git", show[] = "show", s[] = "-s", fmt[] = "--format=%cI";
	char *argv[] = {git, show, s, fmt, sha, NULL};
	char buf[256];
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) != 0)
		return OP_EIO;
	if ((pid = fork()) == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp("git", argv);
		_exit(127);
	}
	close(fds[1]);
	run_read_all(fds[0], buf, sizeof(buf));
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    op_time_parse_rfc3339(buf, 0, out) == OP_OK)
		return OP_OK;
	fprintf(stderr,
	        "opspulse-agent: warning: cannot read the time of commit "
	        "'%s' with git in this directory; recording without a lead "
	        "time\n",
	        sha);
	return OP_ENOTFOUND;
}

/* Fills the event of the finished run. */
static void
run_fill(struct agent_event *e, const struct run_args *a, int64_t start,
         int64_t end, int ok, char *idbuf, size_t idsz)
{
	Opspulse__V1__Outcome outcome =
	    ok ? OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS
	       : OPSPULSE__V1__OUTCOME__OUTCOME_FAILED;

	if (strcmp(a->kind, "deploy") == 0) {
		Opspulse__V1__Deploy *d = agent_event_deploy(e);
		d->started_us = start;
		d->finished_us = end;
		d->outcome = outcome;
		d->version = a->version;
		d->commit_time_us = a->commit_us;
		d->hotfix = a->hotfix;
		d->id =
		    a->id ? a->id : agent_deploy_auto_id(&e->ev, idbuf, idsz);
	} else if (strcmp(a->kind, "toil") == 0) {
		Opspulse__V1__Toil *t = agent_event_toil(e);
		t->task = a->task;
		t->started_us = start;
		t->duration_s =
		    (end - start + OP_US_PER_SEC / 2) / OP_US_PER_SEC;
		t->source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_RUN;
		t->incident = a->incident;
	} else {
		Opspulse__V1__BatchRun *b = agent_event_batch(e);
		b->task = a->task;
		b->started_us = start;
		b->duration_s =
		    (end - start + OP_US_PER_SEC / 2) / OP_US_PER_SEC;
		b->outcome = outcome;
	}
}

int
agent_cmd_run(const struct agent_conf *c, int argc, char **argv)
{
	struct run_args a = {0};
	struct agent_event e;
	char cmdline[OP_MAX_TEXT + 1], idbuf[32];
	op_event *ev = &e.ev;
	int64_t start, end;
	int status, rv;

	agent_event_init(&e, c);
	if ((rv = run_parse(argc, argv, &a, &e)) != 0)
		return rv == 2 ? run_usage(stdout) : run_usage(stderr);
	if (a.task == NULL)
		a.task = run_cmdline(argv + optind, cmdline, sizeof(cmdline));
	if (a.commit != NULL && a.commit_us == 0)
		run_git_commit_time(a.commit, &a.commit_us);
	start = op_time_now_us();
	status = run_child(argv + optind);
	end = op_time_now_us();
	if (status >= 0) {
		int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		run_fill(&e, &a, start, end, ok, idbuf, sizeof(idbuf));
		if (c == NULL || agent_record(c, &ev, 1) != OP_OK)
			fprintf(stderr,
			        "opspulse-agent: warning: this %s was not "
			        "recorded; the command's exit status is "
			        "unaffected\n",
			        a.kind);
	}
	return run_exit_status(status);
}
