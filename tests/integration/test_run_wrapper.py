"""opspulse-agent run: a real command keeps its stdio, exit status and
signals, and the deploy it records reaches `opspulse dora` (SPEC §2 item 1)."""
import os
import signal
import subprocess
import time

from harness import AGENT, Cluster, check, check_eq, fail, run, wait_for


def test_passthrough_and_recorded_deploys():
    with Cluster("runwrap").start() as c:
        # stdin in, stdout and stderr out, exit status back.
        t0 = time.time()
        r = c.agent("run", "--kind", "deploy", "--service", "shop", "--version", "2.1",
                    "--", "sh", "-c", "read line; echo \"out:$line\"; echo err-text >&2; sleep 1; exit 7",
                    input="hello-stdin\n", check_rc=False)
        wall_failed = time.time() - t0
        check_eq(r.returncode, 7, "exit status of the wrapped command")
        check("out:hello-stdin" in r.stdout, "stdout passed through: %r" % r.stdout)
        check("err-text" in r.stderr, "stderr passed through: %r" % r.stderr)

        t0 = time.time()
        r = c.agent("run", "--kind", "deploy", "--service", "shop", "--",
                    "sh", "-c", "sleep 2; echo done")
        wall_ok = time.time() - t0
        check_eq(r.returncode, 0, "exit status of a successful command")
        check_eq(r.stdout.strip(), "done", "stdout of a successful command")

        c.flush()
        out = c.cli_json("dora", "--service", "shop")
        rows = out["rows"]
        check_eq(len(rows), 1, "one row for the filtered service")
        row = rows[0]
        check_eq(row["service"], "shop", "service")
        check_eq(row["deploys"], 2, "deploys counted")
        check_eq(row["change_failure_rate"], 0.5, "one of two deploys failed")
        # Durations measured by the wrapper: 1 s and 2 s of sleep, bounded
        # above by what this test measured around each command.
        durations = [float(x[0]) for x in c.sql(
            "SELECT extract(epoch FROM finished_at - started_at) FROM deploys "
            "WHERE service = 'shop' ORDER BY outcome")]
        outcomes = [x[0] for x in c.sql("SELECT outcome FROM deploys WHERE service = 'shop' ORDER BY outcome")]
        check_eq(outcomes, ["failed", "success"], "recorded outcomes")
        check(1.0 <= durations[0] <= wall_failed, "failed deploy duration %r" % durations[0])
        check(2.0 <= durations[1] <= wall_ok, "successful deploy duration %r" % durations[1])
        p50 = (durations[0] + durations[1]) / 2
        check(abs(row["deploy_duration_p50_seconds"] - p50) < 1e-3,
              "duration p50 %r vs %r" % (row["deploy_duration_p50_seconds"], p50))
        check_eq(c.scalar("SELECT version FROM deploys WHERE outcome = 'failed'"), "2.1", "version")


def test_sigterm_reaches_child():
    with Cluster("runsig").start() as c:
        marker = c.path("got-term")
        p = subprocess.Popen([AGENT, "-c", c.path("agent.conf"), "run", "--kind", "deploy",
                              "--service", "sig", "--", "sh", "-c",
                              "trap 'touch %s; exit 143' TERM; echo ready; sleep 30 & wait" % marker],
                             stdout=subprocess.PIPE, text=True)
        check_eq(p.stdout.readline().strip(), "ready", "child started")
        time.sleep(0.2)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
        check(os.path.exists(marker), "the child received SIGTERM")
        check_eq(rc, 143, "the wrapper exits with the child's status")
        c.flush()
        check_eq(c.scalar("SELECT outcome FROM deploys WHERE service = 'sig'"), "failed",
                 "a deploy ended by SIGTERM is recorded as failed")


def test_recording_failure_does_not_break_command():
    with Cluster("runfail") as c:
        # A spool path that cannot be created: a file is in the way.
        blocker = c.write("blocker", "not a directory")
        c.write_agent_conf()
        conf = open(c.path("agent.conf")).read().replace(c.spool, blocker + "/spool")
        c.write("agent.conf", conf)
        r = c.agent("run", "--kind", "deploy", "--service", "x", "--",
                    "sh", "-c", "echo still-ran; exit 5", check_rc=False)
        check_eq(r.returncode, 5, "exit status when recording fails")
        check("still-ran" in r.stdout, "the command ran")
        check("not recorded" in r.stderr, "a warning says the deploy was not recorded: %r" % r.stderr)


def test_commit_time_from_git():
    with Cluster("runcommit").start() as c:
        repo = c.path("repo")
        os.makedirs(repo)
        env = dict(os.environ, GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@example.com",
                   GIT_COMMITTER_NAME="c", GIT_COMMITTER_EMAIL="c@example.com",
                   GIT_AUTHOR_DATE="2026-09-01T08:00:00+09:00",
                   GIT_COMMITTER_DATE="2026-09-02T10:30:15+09:00")
        git = lambda *a: subprocess.run(["git", "-C", repo] + list(a), env=env, check=True,
                                        capture_output=True, text=True).stdout.strip()
        git("init", "-q")
        with open(os.path.join(repo, "f"), "w") as f:
            f.write("x")
        git("add", "f")
        git("commit", "-q", "-m", "one")
        sha = git("rev-parse", "HEAD")
        # The committer date (not the author date), 2026-09-02T01:30:15Z.
        want = "1788312615"
        r = subprocess.run([AGENT, "-c", c.path("agent.conf"), "run", "--kind", "deploy",
                            "--service", "gitsvc", "--id", "with-sha", "--commit", sha[:10], "--",
                            "sh", "-c", "echo deployed; exit 0"],
                           cwd=repo, capture_output=True, text=True)
        check_eq(r.returncode, 0, "deploy with --commit: " + r.stderr)
        check_eq(r.stdout.strip(), "deployed", "stdout passed through")
        # Outside a repository: a warning, the command still runs, the
        # deploy is recorded without a lead time.
        r = subprocess.run([AGENT, "-c", c.path("agent.conf"), "run", "--kind", "deploy",
                            "--service", "gitsvc", "--id", "no-repo", "--commit", sha, "--",
                            "sh", "-c", "exit 3"], cwd="/", capture_output=True, text=True)
        check_eq(r.returncode, 3, "exit status without a repository")
        check("cannot read the time of commit" in r.stderr, "warning: %r" % r.stderr)
        c.flush()
        check_eq(c.sql("SELECT deploy_id, coalesce(extract(epoch FROM commit_time)::bigint::text, '') "
                       "FROM deploys WHERE service = 'gitsvc' ORDER BY 1"),
                 [["no-repo", ""], ["with-sha", want]], "commit times recorded")


if __name__ == "__main__":
    run([test_passthrough_and_recorded_deploys, test_sigterm_reaches_child,
         test_recording_failure_does_not_break_command, test_commit_time_from_git])
