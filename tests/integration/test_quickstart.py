"""scripts/quickstart, as a new user runs it: it ends by printing the
report's URL, and the page there shows the demo history.  It uses the
build under test (OPSPULSE_BUILD_DIR) and a directory and ports of its
own, and is stopped with --stop whatever happens."""
import os
import re
import subprocess
import tempfile
import urllib.request

from harness import BUILD, STATE, check, check_eq, free_port, run

SOURCE = os.environ["OPSPULSE_SOURCE"]
QUICKSTART = os.path.join(SOURCE, "scripts", "quickstart")


def test_quickstart_prints_the_report_url():
    os.makedirs(os.path.join(STATE, "runs"), exist_ok=True)
    qs = tempfile.mkdtemp(prefix="quickstart-", dir=os.path.join(STATE, "runs"))
    env = dict(os.environ, OPSPULSE_BUILD_DIR=BUILD, OPSPULSE_QUICKSTART_DIR=qs,
               OPSPULSE_PORT=str(free_port()), OPSPULSE_HTTP_PORT=str(free_port()),
               OPSPULSE_PG_PORT=str(free_port()))
    try:
        r = subprocess.run([QUICKSTART], env=env, capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL)
        check(r.returncode == 0, "quickstart exited %d:\n%s\n%s" % (r.returncode, r.stdout[-3000:],
                                                                   r.stderr[-3000:]))
        last = r.stdout.strip().splitlines()[-1]
        m = re.search(r"(http://127\.0\.0\.1:(\d+)/report)$", last)
        check(m is not None, "the last line is not the report's URL: %r" % last)
        check_eq(m.group(2), env["OPSPULSE_HTTP_PORT"], "the URL's port")
        check("# OpsPulse weekly review" in r.stdout, "quickstart did not print the report")
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
    finally:
        subprocess.run([QUICKSTART, "--stop"], env=env, capture_output=True, timeout=120)
        subprocess.run(["bash", "-c", '. "$0"; pg_destroy "$1"',
                        os.path.join(SOURCE, "scripts", "lib", "pg.sh"), os.path.join(qs, "pg")],
                       capture_output=True, timeout=120)


if __name__ == "__main__":
    run([test_quickstart_prints_the_report_url])
