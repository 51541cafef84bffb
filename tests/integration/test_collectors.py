"""The daemon's collectors (SPEC §2 items 5-7): version probes against a
real redis-server, the suite's PostgreSQL, a crafted os-release, the
kernel, Debian packages and commands; host capacity samples; and login
sessions from a crafted wtmp file recorded as toil.  Expected values come
from other sources than the agent's (redis-server --version, psql,
os.uname, dpkg-query, statvfs, /proc/meminfo, the records written here)."""
import os
import platform
import re
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

from harness import AGENT, SANITIZED, Cluster, Proc, check, check_eq, free_port, run, wait_for

REDIS = "/usr/bin/redis-server"


def first_dotted(s):
    m = re.search(r"\d+(\.\d+)+", s)
    return m.group(0) if m else None


def start_redis(c):
    port = free_port()
    p = Proc("redis", [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", c.dir], c.dir)
    c.procs.append(p)
    wait_for(lambda: "Ready to accept connections" in p.output() or not p.alive(), 20, "redis-server")
    check(p.alive(), "redis-server exited: " + p.output()[-2000:])
    return port


def components(c):
    c.flush()
    return sorted(c.sql("SELECT service, host, name, version FROM components"))


def test_version_probes():
    with Cluster("probes") as c:
        redis_port = start_redis(c)
        # Expected versions, each from its own source.
        out = subprocess.run([REDIS, "--version"], capture_output=True, text=True).stdout
        redis_version = re.search(r"v=(\d+\.\d+\.\d+)", out).group(1)
        pg_version = c.scalar("SHOW server_version").split()[0]
        dpkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "bash"],
                              capture_output=True, text=True).stdout
        bash_version = first_dotted(dpkg.split(":", 1)[-1])
        osr = c.write("os-release", 'NAME="Rocky Linux"\n# a comment\nID="rocky"\n'
                                    "ID_LIKE=\"rhel centos fedora\"\nVERSION_ID='9.3'\n")
        c.write_agent_conf(collectors=True, extra="""
  capacity = { enabled = false; };
  webhook = { listen = ""; };
  probes = {
    interval_s = 3600;
    os_release = "%s";
    packages = ( { package = "bash"; product = "gnu-bash"; },
                 { package = "opspulse-no-such-package"; } );
    commands = ( { command = "printf 'nginx version: nginx/1.22.1\\\\n' >&2"; product = "nginx"; },
                 { command = "%s --version"; product = "python"; service = "tools"; },
                 { command = "echo no version here"; product = "nothing"; } );
    postgresql = ( { conninfo = "%s"; service = "billing"; },
                   { conninfo = "host=127.0.0.1 port=1 connect_timeout=1"; } );
    redis = ( { address = "127.0.0.1:%d"; service = "search"; },
              { address = "127.0.0.1:1"; product = "unreachable"; } );
  };
""" % (osr, sys.executable, c.conninfo, redis_port))
        r = c.agent("check-config", c.path("agent.conf"))
        check("warning" not in r.stderr, "the test's configuration is clean: %r" % r.stderr)
        c.start()
        host = "it-agent"
        expected = sorted([
            ["default-svc", host, "rocky-linux", "9.3"],
            ["default-svc", host, "linux", os.uname().release],
            ["default-svc", host, "gnu-bash", bash_version],
            ["default-svc", host, "nginx", "1.22.1"],
            ["tools", host, "python", platform.python_version()],
            ["billing", host, "postgresql", pg_version],
            ["search", host, "redis", redis_version],
        ])
        deadline = time.time() + 60
        while time.time() < deadline and len(components(c)) < len(expected):
            time.sleep(0.5)
        time.sleep(1)
        check_eq(components(c), expected, "component observations")
        log = c.agent_proc.output()
        check("127.0.0.1:1" in log, "the unreachable Redis is logged: %r" % log[-2000:])
        check("printed no version number" in log, "a command without a version is logged")


def read_meminfo():
    vals = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            vals[k] = int(v.split()[0])
    return 100.0 * (vals["MemTotal"] - vals["MemAvailable"]) / vals["MemTotal"]


def busy(stop):
    while not stop.is_set():
        sum(range(10000))


def test_capacity_samples():
    with Cluster("capacity") as c:
        c.write_agent_conf(collectors=True, extra="""
  probes = { enabled = false; };
  webhook = { listen = ""; };
  capacity = { interval_s = 1; mounts = [ "/", "%s" ]; };
""" % c.dir)
        stop = threading.Event()
        worker = threading.Thread(target=busy, args=(stop,))
        worker.start()
        try:
            t0 = time.time()
            c.start()
            time.sleep(5)
            c.flush()
            elapsed = time.time() - t0
        finally:
            stop.set()
            worker.join()
        mem_now = read_meminfo()
        rows = c.sql("SELECT mount, cpu_pct, mem_pct, disk_used_bytes, disk_total_bytes, "
                     "extract(epoch FROM at) FROM capacity ORDER BY at, mount")
        by_mount = {}
        for m, cpu, mem, used, total, at in rows:
            by_mount.setdefault(m, []).append((float(cpu), float(mem), int(used), int(total), float(at)))
        check_eq(sorted(by_mount), sorted(["/", c.dir]), "one series per configured mount")
        for m, samples in by_mount.items():
            vfs = os.statvfs(m)
            total = vfs.f_blocks * vfs.f_frsize
            used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
            check(3 <= len(samples) <= elapsed + 2, "%s: %d samples in %.1f s at 1 s intervals"
                  % (m, len(samples), elapsed))
            for cpu, mem, u, tot, _ in samples:
                check_eq(tot, total, "%s total bytes (statvfs)" % m)
                check(abs(u - used) <= max(0.02 * total, 64 << 20), "%s used %d vs %d" % (m, u, used))
                check(0 <= cpu <= 100, "cpu %% in range: %r" % cpu)
                check(abs(mem - mem_now) < 15, "mem %% %.1f vs /proc/meminfo %.1f" % (mem, mem_now))
            # One core of the machine was kept busy by this test.
            ncpu = os.cpu_count()
            check(max(s[0] for s in samples) >= 100.0 / ncpu * 0.6,
                  "%s: cpu samples %r reflect a busy core of %d" % (m, [s[0] for s in samples], ncpu))
            # Samples keep a fixed 1 s schedule: one that wakes late does
            # not push the later ones back (no drift), and none is early.
            at = [s[4] - k for k, s in enumerate(samples)]
            late = [round(a - min(at), 3) for a in at]
            check(max(late) <= (0.7 if SANITIZED else 0.5),
                  "%s: samples on a 1 s schedule, each late by %r s" % (m, late))
            gaps = [b[4] - a[4] for a, b in zip(samples, samples[1:])]
            check(min(gaps) >= 0.3, "%s: samples at least 0.3 s apart: %r" % (m, gaps))


# glibc's struct utmp on x86-64 (384 bytes).
UTMP = struct.Struct("<hxxi32s4s32s256shhiii4i20s")
BOOT_TIME, RUN_LVL, USER_PROCESS, DEAD_PROCESS = 2, 1, 7, 8


def utmp(kind, line, user, sec, usec=0, pid=100):
    return UTMP.pack(kind, pid, line.encode(), line[-4:].encode(), user.encode(), b"host.example",
                     0, 0, 0, sec, usec, 0, 0, 0, 0, b"")


def test_login_sessions_from_wtmp():
    check_eq(UTMP.size, 384, "struct utmp size")
    base = int(datetime(2026, 10, 5, 8, 0, tzinfo=timezone.utc).timestamp())
    recs = [
        utmp(BOOT_TIME, "~", "reboot", base),
        utmp(USER_PROCESS, "pts/0", "alice", base + 60, 250000),
        utmp(USER_PROCESS, "pts/1", "bob", base + 120),
        utmp(DEAD_PROCESS, "pts/0", "", base + 60 + 1800, 600000),   # alice: 1800.35 s
        utmp(USER_PROCESS, "tty1", "carol", base + 300),
        utmp(RUN_LVL, "~", "shutdown", base + 4000),                 # ends bob and carol
        utmp(USER_PROCESS, "pts/2", "dave", base + 5000),            # still logged in
    ]
    expected = sorted([
        ["alice", str(base + 60), "1800"],
        ["bob", str(base + 120), str(4000 - 120)],
        ["carol", str(base + 300), str(4000 - 300)],
    ])
    with Cluster("sessions") as c:
        wtmp = c.path("wtmp")
        with open(wtmp, "wb") as f:
            f.write(b"".join(recs))
        c.write_agent_conf(collectors=True, extra="""
  probes = { enabled = false; };
  capacity = { enabled = false; };
  webhook = { listen = ""; };
  sessions = { enabled = true; interval_s = 1; wtmp = "%s"; };
""" % wtmp)
        c.start()
        q = ("SELECT operator, extract(epoch FROM started_at)::bigint, duration_s FROM toil "
             "WHERE source = 'session' AND task = 'interactive session' "
             "AND service = 'default-svc' AND host = 'it-agent'")

        def rows():
            c.flush()
            return sorted(c.sql(q))
        deadline = time.time() + 30
        while time.time() < deadline and len(rows()) < 3:
            time.sleep(0.3)
        check_eq(rows(), expected, "finished sessions recorded as toil")
        # dave logs out: the next read picks up only the new record.
        with open(wtmp, "ab") as f:
            f.write(utmp(DEAD_PROCESS, "pts/2", "", base + 5000 + 754, 400000))
        expected.append(["dave", str(base + 5000), "754"])
        deadline = time.time() + 30
        while time.time() < deadline and len(rows()) < 4:
            time.sleep(0.3)
        check_eq(rows(), sorted(expected), "a later logout is recorded")
        check_eq(c.scalar("SELECT count(*) FROM toil"), "4", "each session once")


def test_config_errors():
    c = Cluster("collcfg")
    bad = c.write("bad.conf", """agent = {
  probes = {
    commands = ( { command = "nginx -v"; } );
    redis = ( { address = "x:1"; colour = "red"; } );
    packages = [ "nginx" ];
    postgresql = ( { product = "postgresql"; } );
  };
};
""")
    r = subprocess.run([AGENT, "check-config", bad], capture_output=True, text=True)
    check_eq(r.returncode, 1, "bad probe lists fail the check")
    for line, text in ((3, "needs product"), (4, "unknown key 'colour'"), (5, "not a group"),
                       (6, "needs conninfo")):
        check(any(l.startswith("opspulse-agent: error: config: %s:%d:" % (bad, line)) and text in l
                  for l in r.stderr.splitlines()), "line %d: %s in %r" % (line, text, r.stderr))
    rng = c.write("range.conf", "agent = { capacity = { interval_s = 0; }; };\n")
    r = subprocess.run([AGENT, "check-config", rng], capture_output=True, text=True)
    check_eq(r.returncode, 1, "a zero interval fails the check")
    check("capacity.interval_s" in r.stderr, "the message names the setting: %r" % r.stderr)


if __name__ == "__main__":
    run([test_version_probes, test_capacity_samples, test_login_sessions_from_wtmp,
         test_config_errors])
