"""scripts/quickstart, as a new user runs it: it ends by printing the
report's URL, and the page there shows the demo history.  It uses the
build under test (OPSPULSE_BUILD_DIR) and a directory and ports of its
own.

What the quickstart starts (a PostgreSQL, an aggregator, an agent) is not
the harness's, so each run registers a cleanup script with the harness
(register_cleanup): it stops the quickstart's process group, runs
`scripts/quickstart --stop` with the run's environment and removes its
PostgreSQL.  test_quickstart_cleanup.py proves that nothing of a run is
left when the test fails, gets SIGTERM, or is killed outright."""
import os
import re
import shlex
import subprocess
import tempfile
import time
import urllib.request

from harness import (BUILD, PG_LIB, STATE, check, check_eq, free_port, pg_socket_dir,
                     register_cleanup, run, run_cleanup)

SOURCE = os.environ["OPSPULSE_SOURCE"]
QUICKSTART = os.path.join(SOURCE, "scripts", "quickstart")


def new_dir(prefix):
    os.makedirs(os.path.join(STATE, "runs"), exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=os.path.join(STATE, "runs"))


def quickstart_env(qs):
    return dict(os.environ, OPSPULSE_BUILD_DIR=BUILD, OPSPULSE_QUICKSTART_DIR=qs,
                OPSPULSE_PORT=str(free_port()), OPSPULSE_HTTP_PORT=str(free_port()),
                OPSPULSE_PG_PORT=str(free_port()))


def cleanup_script(pgid, qs, env):
    """Stops everything a quickstart run in qs started; safe to run twice."""
    given = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(env.items())
                     if k.startswith("OPSPULSE_"))
    return """# scripts/quickstart in %(qs)s (process group %(pgid)d)
# First what it still runs (the script, the command it waits for, its
# daemons: its process group), so that it starts nothing more.
if kill -TERM -- -%(pgid)d 2>/dev/null; then
    for _ in $(seq 100); do kill -0 -- -%(pgid)d 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- -%(pgid)d 2>/dev/null
fi
env %(given)s %(quickstart)s --stop >/dev/null
. %(pg_lib)s
pg_destroy %(pg)s
""" % dict(qs=qs, pgid=pgid, given=given, quickstart=shlex.quote(QUICKSTART),
           pg_lib=shlex.quote(PG_LIB), pg=shlex.quote(os.path.join(qs, "pg")))


def start_quickstart(qs, env, out):
    """Starts scripts/quickstart in a process group of its own, with its
    cleanup registered.  Returns (process, cleanup script)."""
    p = subprocess.Popen([QUICKSTART], env=env, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.PIPE if out == subprocess.PIPE else out,
                         text=True, start_new_session=True)
    return p, register_cleanup("quickstart", cleanup_script(p.pid, qs, env))


def leftovers(qs):
    """The processes still running from the quickstart run in qs: its
    PostgreSQL (by its data directory) and whatever names a file of qs
    (the daemons and the commands it runs)."""
    marks = (os.path.join(pg_socket_dir(os.path.join(qs, "pg")), "data"), qs + "/")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(m in cmd for m in marks):
            found.append("%s %s" % (pid, cmd.strip()))
    return found


def daemons_started(qs):
    """Whether the quickstart in qs got as far as starting its agent (its
    PostgreSQL and aggregator run by then)."""
    return os.path.exists(os.path.join(qs, "agent.pid"))


def check_no_leftovers(qs, what):
    # A process may take a moment to go after its signal.
    deadline = time.time() + 15
    while leftovers(qs) and time.time() < deadline:
        time.sleep(0.2)
    check_eq(leftovers(qs), [], "processes of the quickstart left after %s" % what)
    check(not os.path.exists(pg_socket_dir(os.path.join(qs, "pg"))),
          "the quickstart's PostgreSQL files were not removed after %s" % what)


def test_quickstart_prints_the_report_url():
    qs = new_dir("quickstart-")
    env = quickstart_env(qs)
    p, cleanup = start_quickstart(qs, env, subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=600)
        check(p.returncode == 0, "quickstart exited %d:\n%s\n%s" % (p.returncode, out[-3000:],
                                                                   err[-3000:]))
        last = out.strip().splitlines()[-1]
        m = re.search(r"(http://127\.0\.0\.1:(\d+)/report)$", last)
        check(m is not None, "the last line is not the report's URL: %r" % last)
        check_eq(m.group(2), env["OPSPULSE_HTTP_PORT"], "the URL's port")
        check("# OpsPulse weekly review" in out, "quickstart did not print the report")
        with urllib.request.urlopen(m.group(1), timeout=60) as resp:
            page = resp.read().decode()
        for svc in ("billing", "search", "checkout"):
            check(">%s</th>" % svc in page, "the page lacks the demo service %s" % svc)
        # Twelve weeks of demo deploys: every deploy chart has a point a week.
        charts = re.findall(r'<svg [^>]*data-metric="deploys" data-weeks="(\d+)" '
                            r'data-points="(\d+)"', page)
        check_eq(len(charts), 3, "deploy charts")
        for weeks, points in charts:
            # (the oldest week may be cut before its deploy, by the time of day)
            check(int(weeks) >= 12 and int(points) >= int(weeks) - 1, "deploy chart %s/%s"
                  % (points, weeks))
        # Every part of the review has demo data: health, SLOs, incidents
        # and readiness beside the infrastructure.
        for section in ('id="act-eol"', "postgresql", "upgrade PostgreSQL 11 to 16",
                        "HighLatency", "restart stuck worker", "/var/lib/search",
                        "Error rate", "Latency p95", "exhausted", "INC-101",
                        "alert on wallet provider errors", "secrets_rotated",
                        "db-backup failed"):
            check(section in page, "the demo page lacks %r" % section)
        check(leftovers(qs), "the running quickstart is not found by its files")
    finally:
        run_cleanup(cleanup)
    check_no_leftovers(qs, "the cleanup")


if __name__ == "__main__":
    run([test_quickstart_prints_the_report_url])
