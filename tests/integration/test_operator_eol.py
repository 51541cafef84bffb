"""End of life on a Debian host (issue: distribution packages judged by
their distribution's support).  The daemon's os-release probe reads a
crafted os-release with debian_version beside it; the packages probe
lists this machine's nginx and openssl.  Expected values come from the
catalog table, dpkg-query and today's date, not from
opspulse.eol():

- the OS is reported at its point release, so patch_behind compares like
  with like;
- nginx and openssl are judged by debian 12's support while it lasts
  (eol_basis "debian 12"), by upstream's once it has ended;
- eol.extended_support = true counts Debian LTS (extendedSupport)."""
import json
import re
import signal
import subprocess
import time
from datetime import date, datetime, timezone

from harness import Cluster, check, check_eq, fail, run, wait_for

PACKAGES = [("nginx", "nginx"), ("openssl", "openssl")]


def dpkg_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", pkg],
                       capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.startswith("install ok installed "):
        fail("package %s is not installed (scripts/lib/deps.sh lists it)" % pkg)
    v = r.stdout.split(" ", 3)[3].split(":", 1)[-1]
    return re.match(r"\d+(\.\d+)*", v).group(0)


def catalog(c, product):
    """The product's cycles, read from the catalog table."""
    cols = ["cycle", "eol_date", "eol_reached", "latest", "extended_date", "extended_reached"]
    rows = c.sql("SELECT %s FROM eol_cycles WHERE product = '%s'" % (", ".join(cols), product))
    booleans = {"t": True, "f": False, "": None}
    out = {}
    for r in rows:
        d = dict(zip(cols, [v if v != "" else None for v in r]))
        for k in ("eol_reached", "extended_reached"):
            d[k] = booleans[r[cols.index(k)]]
        out[d["cycle"]] = d
    return out


def cycle_of(cycles, version):
    best = None
    for cyc in cycles:
        if version == cyc or version.startswith(cyc + ".") or version.startswith(cyc + "-"):
            if best is None or len(cyc) > len(best):
                best = cyc
    return best


def support_end(row, extended):
    """(date or None, reached) of a catalog row, as the issue defines it."""
    if extended and (row.get("extended_date") or row.get("extended_reached") is not None):
        d, reached = row.get("extended_date"), row.get("extended_reached")
    else:
        d, reached = row["eol_date"], row["eol_reached"]
    return (date.fromisoformat(d[:10]) if d else None), reached


def status_of(end, reached, today):
    if end is None:
        return "past_eol" if reached else "ok"
    days = (end - today).days
    return ("past_eol" if days < 0 else "urgent" if days <= 90
            else "soon" if days <= 180 else "ok")


def alive(end, reached, today):
    return end >= today if end is not None else reached is False


def eol_rows(c):
    out = json.loads(c.cli("eol", "--format", "json").stdout)
    return {r["component"]: r for r in out["rows"]}


def set_extended(c, on):
    c.write_confs(aggregator_extra="  eol = { extended_support = %s; };\n"
                  % ("true" if on else "false"))
    c.write_agent_conf(collectors=True, extra=c.probes)
    c.aggregators[0].p.send_signal(signal.SIGHUP)
    want = "true" if on else "false"
    wait_for(lambda: c.scalar("SELECT value FROM settings WHERE key = "
                              "'eol.extended_support'") == want,
             20, "eol.extended_support = %s in the database" % want)


def check_judged(c, extended, point, versions, today):
    debian = catalog(c, "debian")
    rows = eol_rows(c)
    rel_end, rel_reached = support_end(debian["12"], extended)
    rel_alive = alive(rel_end, rel_reached, today)
    what = "extended_support=%s" % extended

    os_row = rows["debian"]
    check_eq(os_row["version"], point, "the OS at its point release (%s)" % what)
    latest = debian["12"]["latest"]
    behind = [int(x) for x in point.split(".")] < [int(x) for x in latest.split(".")]
    check_eq(os_row["patch_behind"], behind, "patch_behind of debian %s against %s" % (point, latest))
    check_eq(os_row["eol_basis"], "upstream", "the OS is its own upstream")
    check_eq(os_row["status"], status_of(rel_end, rel_reached, today), "OS status (%s)" % what)

    for product, _ in PACKAGES:
        r = rows[product]
        check_eq(r["version"], versions[product], "%s version from dpkg" % product)
        cycles = catalog(c, product)
        up = cycles.get(cycle_of(cycles, versions[product]))
        if rel_alive or up is None:
            basis, (end, reached) = "debian 12", (rel_end, rel_reached)
        else:
            basis, (end, reached) = "upstream", support_end(up, extended)
        check_eq(r["eol_basis"], basis, "%s basis (%s)" % (product, what))
        check_eq(r["eol_date"], end.isoformat() if end else None, "%s eol_date (%s)" % (product, what))
        check_eq(r["status"], status_of(end, reached, today), "%s status (%s)" % (product, what))
        if basis != "upstream":
            check_eq(r["patch_behind"], None, "no upstream patch_behind for a Debian package")
    return rows


def test_debian_host():
    with Cluster("opeol") as c:
        versions = {p: dpkg_version(pkg) for pkg, p in PACKAGES}
        c.write("os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
                              'VERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
        c.start_aggregator(0)
        latest = catalog(c, "debian")["12"]["latest"]
        c.write("debian_version", latest + "\n")  # an up-to-date host
        pkgs = ", ".join('{ package = "%s"; product = "%s"; }' % (pkg, p) for pkg, p in PACKAGES)
        c.probes = """
  capacity = { enabled = false; };
  webhook = { listen = ""; };
  probes = { interval_s = 3600; os_release = "%s"; packages = ( %s ); };
""" % (c.path("os-release"), pkgs)
        c.write_agent_conf(collectors=True, extra=c.probes)
        c.start_agent()
        deadline = time.time() + 60
        while time.time() < deadline and int(c.scalar("SELECT count(*) FROM components WHERE name IN ('debian', 'nginx', 'openssl')")) < 3:
            time.sleep(0.5)
        c.flush()
        check_eq(sorted(c.sql("SELECT name, distribution, distribution_version FROM components "
                              "WHERE name IN ('nginx', 'openssl')")),
                 sorted([p, "debian", latest] for _, p in PACKAGES),
                 "packages recorded as Debian %s's" % latest)
        today = datetime.now(timezone.utc).date()
        for extended in (False, True):
            set_extended(c, extended)
            rows = check_judged(c, extended, latest, versions, today)
            print("extended_support=%s: %s" % (extended, json.dumps(
                [[k, r["version"], r["eol_basis"], r["eol_date"], r["status"]]
                 for k, r in sorted(rows.items())])))
            # Between openssl 3.0's end (2026-09-07) and bookworm LTS's
            # (2028-06-30) the example holds exactly.
            if date(2026, 9, 8) <= today <= date(2028, 6, 30):
                past = sorted(k for k, r in rows.items() if r["status"] == "past_eol")
                check_eq(past, [] if extended else ["debian", "nginx", "openssl"],
                         "past end of life with extended_support=%s" % extended)
            md = c.cli("report", "--format", "markdown").stdout.replace("**", "")
            for k, r in rows.items():
                if r["status"] in ("past_eol", "urgent"):
                    check("%s %s (%s support)" % (k, r["version"], r["eol_basis"]) in md,
                          "the report names %s's basis: %s" % (k, md[:3000]))


if __name__ == "__main__":
    run([test_debian_host])
