"""Nothing of a scripts/quickstart run outlives its test, however the
test ends: a failure (an exception it does not catch), SIGTERM, or
SIGKILL, which is how ctest ends a test past its timeout (then the
fixture's cleanup, fixture.sh stop, runs the registered cleanup script).

A child process (this file with --child) runs the quickstart the way
test_quickstart.py does; the parent ends it badly once the quickstart's
daemons run, then looks for what is left: processes naming the
quickstart's PostgreSQL data directory or its files, the PostgreSQL's
files, cleanup scripts not run.  The child's harness state is a directory
of its own, so that its registered cleanups are its own; the parent
registers the fixture's cleanup of that directory in case it is killed
itself."""
import os
import shlex
import signal
import subprocess
import sys

from harness import check, check_eq, fail, register_cleanup, run, run_cleanup, wait_for
from test_quickstart import check_no_leftovers, daemons_started, leftovers, new_dir, \
    quickstart_env, start_quickstart

FIXTURE = os.path.join(os.environ["OPSPULSE_SOURCE"], "tests", "integration", "fixture.sh")


def child(mode, qs):
    """--child MODE QS: runs the quickstart in qs; MODE fail fails once
    its daemons run (an exception the test does not catch), MODE wait
    waits for it to end (until a signal comes)."""
    p, _ = start_quickstart(qs, quickstart_env(qs), sys.stdout)
    wait_for(lambda: daemons_started(qs) or p.poll() is not None, 300,
             "the quickstart's agent to start")
    if mode == "fail":
        fail("a test failing on purpose while the quickstart runs")
    p.wait()


def run_child(mode):
    """Starts a child in a state directory of its own; returns (process,
    quickstart dir, state dir, the parent's cleanup of it) once the
    quickstart's daemons run."""
    state = new_dir("quickstart-state-")
    qs = new_dir("quickstart-")
    log = open(os.path.join(state, "child.log"), "w")
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", mode, qs],
                         env=dict(os.environ, OPSPULSE_IT_STATE=state), stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    cleanup = register_cleanup("quickstart-child", """# the child test %(pid)d and its state
grep -qs -- --child /proc/%(pid)d/cmdline && kill -KILL %(pid)d
bash %(fixture)s stop %(state)s >/dev/null
""" % dict(pid=p.pid, fixture=shlex.quote(FIXTURE), state=shlex.quote(state)))
    wait_for(lambda: daemons_started(qs) or p.poll() is not None, 300,
             "the child's quickstart to start its agent")
    return p, qs, state, cleanup


def child_log(state):
    with open(os.path.join(state, "child.log"), errors="replace") as f:
        return f.read()[-3000:]


def check_nothing_left(qs, state, what):
    check_no_leftovers(qs, what)
    check_eq(os.listdir(os.path.join(state, "cleanup")), [],
             "cleanup scripts not run after %s" % what)


def test_failing_test_stops_the_quickstart():
    p, qs, state, cleanup = run_child("fail")
    try:
        check_eq(p.wait(timeout=300), 1, "the failing child's exit status")
        check("a test failing on purpose" in child_log(state), child_log(state))
        check_nothing_left(qs, state, "a failing test")
    finally:
        run_cleanup(cleanup)


def test_sigterm_stops_the_quickstart():
    p, qs, state, cleanup = run_child("wait")
    try:
        check(p.poll() is None, "the child ended early: " + child_log(state))
        check(leftovers(qs), "the child's quickstart is not found by its files")
        p.send_signal(signal.SIGTERM)
        check_eq(p.wait(timeout=300), 128 + signal.SIGTERM,
                 "the child's exit status after SIGTERM")
        check_nothing_left(qs, state, "SIGTERM")
    finally:
        run_cleanup(cleanup)


def test_killed_test_leaves_the_quickstart_to_the_fixture():
    """ctest ends a test past its timeout with SIGKILL: the quickstart runs
    on until the fixture's cleanup runs the registered script."""
    p, qs, state, cleanup = run_child("wait")
    try:
        check(p.poll() is None, "the child ended early: " + child_log(state))
        p.kill()
        p.wait()
        check(leftovers(qs), "the quickstart should outlive its killed test")
        r = subprocess.run(["bash", FIXTURE, "stop", state], capture_output=True, text=True,
                           timeout=600)
        check_eq(r.returncode, 0, "fixture.sh stop: " + r.stdout + r.stderr)
        check_nothing_left(qs, state, "the fixture's cleanup")
    finally:
        run_cleanup(cleanup)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        run([test_failing_test_stops_the_quickstart, test_sigterm_stops_the_quickstart,
             test_killed_test_leaves_the_quickstart_to_the_fixture])
