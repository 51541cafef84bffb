#!/usr/bin/env python3
"""Access-log tailing (SPEC §10 row "access-log tailing", §12.1): parsing
and counting rate on one core against GoAccess and mtail on the same file,
agent RSS while tailing and when idle (against collectd), and a file of
mixed garbage counted by reason.

1. A generated nginx_timed file of --lines lines (IPv4 and IPv6 clients,
   statuses 200-504, request times with "-" among them) is read from its
   start by `opspulse-agent daemon` (one access log configured, no
   aggregator reachable), by GoAccess 1.7 (`goaccess FILE -o report.json`,
   the matching --log-format) and by mtail (`-one_shot`, a program
   counting requests by status and a request-time histogram), each pinned
   to CPU 0 with taskset.  Rate = lines / CPU seconds of the process (user
   + system, all threads).  The agent's counts, read back from its spool,
   must equal the generator's.
2. The agent tails a file a writer appends to at --rate lines/s for
   --seconds; its VmRSS is sampled every 0.1 s (max reported).
3. Idle: the agent with one idle access log configured, next to collectd
   (cpu, memory, df, interface plugins), --idle seconds: max VmRSS, CPU.
4. Garbage: good lines mixed with binary lines, 1 MB lines, truncated
   lines, invalid UTF-8 and other formats: skips by reason must equal the
   generator's, the good lines' counts must be exact, and max VmRSS is
   reported.

usage: bench/access_logs.py [--build DIR] [--lines 1000000] [--rate 200000]
                            [--seconds 10] [--idle 30] [--garbage 300000]
                            [--parts 1234]
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

STATUSES = [200] * 70 + [201] * 5 + [304] * 8 + [404] * 7 + [500] * 3 + [502] * 2 + \
    [503] * 3 + [504] * 2
AGENTS = ["curl/7.88.1", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
          "Go-http-client/1.1", "kube-probe/1.27"]
PATHS = ["/api/v1/items?id=%d", "/static/app.%d.js", "/login", "/search?q=a%20b&p=%d",
         "/healthz"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

GOACCESS_FORMAT = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %T %^'
MTAIL_PROG = r'''counter requests by status
counter errors
histogram request_seconds buckets 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0

/^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" (?P<status>\d{3}) \S+ "[^"]*" "[^"]*" (?P<rt>\S+)/ {
  requests[$status]++
  $status >= 500 && $status < 600 {
    errors++
  }
}
/^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" \d{3} \S+ "[^"]*" "[^"]*" (?P<secs>\d+\.\d+)/ {
  request_seconds = float($secs)
}
'''


class Gen:
    """nginx_timed lines at 2026-10-05 09:00 UTC on, and their counts."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.requests = self.errors = self.timed = 0
        self.t = 1791190800  # 2026-10-05T09:00:00Z

    def line(self, i):
        r = self.rng
        status = r.choice(STATUSES)
        addr = ("2001:db8::%x" % r.randrange(65536) if i % 5 == 0
                else "198.51.100.%d" % r.randrange(256))
        tm = time.gmtime(self.t + i // 10000 * 60 + (i % 10000) * 60 // 10000)
        stamp = "%02d/%s/%d:%02d:%02d:%02d +0000" % (tm.tm_mday, MONTHS[tm.tm_mon - 1],
                                                     tm.tm_year, tm.tm_hour, tm.tm_min,
                                                     tm.tm_sec)
        rt = "-" if i % 97 == 0 else "%d.%03d" % (r.randrange(3), r.randrange(1000))
        self.requests += 1
        self.errors += 500 <= status <= 599
        self.timed += rt != "-"
        return '%s - - [%s] "GET %s HTTP/1.1" %d %d "-" "%s" %s %s\n' % (
            addr, stamp, r.choice(PATHS).replace("%d", str(r.randrange(999))), status,
            r.randrange(90000), r.choice(AGENTS), rt, rt)


def write_lines(path, n, gen, first=0):
    with open(path, "a") as f:
        buf = []
        for i in range(first, first + n):
            buf.append(gen.line(i))
            if len(buf) == 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


# ---- running things ------------------------------------------------------------

def timed_child(argv, **kw):
    """Runs argv to completion; returns (wall s, CPU s of it, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (argv[0], r.stderr[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.stdout


class Agent:
    """opspulse-agent daemon on CPU 0 following one file."""

    def __init__(self, build, work, name, log, record=False):
        self.build, self.dir, self.log = build, os.path.join(work, name), log
        os.makedirs(self.dir)
        self.spool = os.path.join(self.dir, "spool")
        self.conf = os.path.join(self.dir, "agent.conf")
        with open(self.conf, "w") as f:
            f.write("""agent = {
  id = "bench"; host = "bench"; service = "web";
  aggregators = [ "tcp://127.0.0.1:9" ];
  spool = { dir = "%s"; max_mb = 4096; };
  tls = { insecure = true; };
  probes = { enabled = false; }; capacity = { enabled = false; };
  webhook = { listen = ""; };
%s};
""" % (self.spool, '  access_logs = ( { path = "%s"; format = "nginx_timed"; } );\n' % log
       if log else ""))
        self.out = open(os.path.join(self.dir, "agent.log"), "w")
        if record:
            subprocess.run([os.path.join(build, "agent", "opspulse-agent"), "-c", self.conf,
                            "toil", "record", "--service", "web", "--task", "bench",
                            "--minutes", "1"], check=True, capture_output=True)
        self.p = subprocess.Popen(["taskset", "-c", "0", os.path.join(build, "agent",
                                                                      "opspulse-agent"),
                                   "-c", self.conf, "daemon"],
                                  stdout=self.out, stderr=subprocess.STDOUT)
        self.t0 = time.monotonic()

    def offset(self):
        d = os.path.join(self.spool, "tail")
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.endswith(".state"):
                with open(os.path.join(d, name)) as f:
                    m = re.search(r"^off (\d+)$", f.read(), re.M)
                    return int(m.group(1)) if m else 0
        return 0

    def wait_offset(self, size, timeout, sample=None):
        deadline = time.monotonic() + timeout
        while self.offset() < size:
            if time.monotonic() > deadline:
                self.stop()
                sys.exit("the agent did not reach offset %d (at %d)" % (size, self.offset()))
            if sample:
                sample()
            time.sleep(0.01)
        return time.monotonic() - self.t0

    def hwm_kib(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def status(self):
        return subprocess.run([os.path.join(self.build, "agent", "opspulse-agent"), "-c",
                               self.conf, "status"], capture_output=True, text=True).stdout

    def totals(self):
        out = subprocess.run([os.path.join(self.build, "bench", "spool_requests"), self.spool],
                             capture_output=True, text=True, check=True).stdout.split()
        return dict(zip(out[::2], map(int, out[1::2])))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(15)
        self.out.close()


def check_counts(agent, gen, what):
    got = agent.totals()
    want = {"requests": gen.requests, "errors": gen.errors, "timed": gen.timed}
    for k, v in want.items():
        if got[k] != v:
            sys.exit("%s: agent counted %s %d, the file has %d" % (what, k, got[k], v))


# ---- 1. rate -------------------------------------------------------------------

def bench_rate(a, work):
    path = os.path.join(work, "big.log")
    gen = Gen(1515)
    benchlib.progress("writing %d lines" % a.lines)
    write_lines(path, a.lines, gen)
    size = os.path.getsize(path)
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    benchlib.progress("opspulse-agent")
    ag = Agent(a.build, work, "rate", path)
    wall = ag.wait_offset(size, 600)
    ticks = benchlib.cpu_ticks(ag.p.pid)
    read_hwm = ag.hwm_kib()
    time.sleep(4)  # the sender loads its batch of Requests events
    hwm = ag.hwm_kib()
    check_counts(ag, gen, "rate file")
    ag.stop()
    rows = [("opspulse-agent (nginx_timed)", wall, ticks / benchlib.TICKS, hwm)]
    benchlib.progress("goaccess")
    w, c, _ = timed_child(["taskset", "-c", "0", "goaccess", path, "--log-format",
                           GOACCESS_FORMAT, "--date-format", "%d/%b/%Y", "--time-format",
                           "%T", "--no-progress", "-o", os.path.join(work, "report.json")])
    rows.append(("GoAccess 1.7 (-o json)", w, c, None))
    benchlib.progress("mtail")
    progs = os.path.join(work, "mtail")
    os.makedirs(progs)
    with open(os.path.join(progs, "access.mtail"), "w") as f:
        f.write(MTAIL_PROG)
    w, c, out = timed_child(["taskset", "-c", "0", "mtail", "-one_shot", "-progs", progs,
                             "-logs", path, "-logtostderr"])
    mtail_total = sum(v["Value"]["Value"] for m in json.loads(out)["requests"]
                      for v in m["LabelValues"])
    rows.append(("mtail (-one_shot)", w, c, None))
    print("\n## 1. Parsing and counting, %d lines (%.0f MiB), one core\n" %
          (a.lines, size / 2 ** 20))
    print("| program | wall s | CPU s | lines/s (CPU) | vs opspulse-agent |")
    print("|---|---|---|---|---|")
    ours = a.lines / rows[0][2]
    for name, w, c, _ in rows:
        rate = a.lines / c
        print("| %s | %.2f | %.2f | %.0f | %.2f× |" % (name, w, c, rate, ours / rate))
    print("\nopspulse-agent counts equal the file's (requests %d, errors %d, timed %d); "
          "peak RSS %.1f MiB reading, %.1f MiB once the sender holds its batch; "
          "mtail counted %d requests" %
          (gen.requests, gen.errors, gen.timed, read_hwm / 1024, hwm / 1024, mtail_total))
    os.unlink(path)


# ---- 2. RSS while tailing --------------------------------------------------------

def bench_tailing(a, work):
    path = os.path.join(work, "live.log")
    open(path, "w").close()
    ag = Agent(a.build, work, "live", path)
    gen = Gen(7)
    chunk = a.rate // 10
    peak = [0]

    def sample():
        peak[0] = max(peak[0], benchlib.rss_kib(ag.p.pid))

    # One block of lines generated once and written again and again:
    # generating lines in Python is slower than the rate asked for.
    block = "".join(gen.line(i) for i in range(chunk)).encode()
    per_block = (gen.requests, gen.errors, gen.timed)
    benchlib.progress("appending %d lines/s for %d s" % (a.rate, a.seconds))
    t0 = time.monotonic()
    n = 0
    with open(path, "ab") as f:
        for k in range(a.seconds * 10):
            f.write(block)
            f.flush()
            n += chunk
            sample()
            left = t0 + (k + 1) / 10 - time.monotonic()
            if left > 0:
                time.sleep(left)
    reps = n // chunk
    gen.requests, gen.errors, gen.timed = (v * reps for v in per_block)
    achieved = n / (time.monotonic() - t0)
    ag.wait_offset(os.path.getsize(path), 120, sample)
    check_counts(ag, gen, "live file")
    ag.stop()
    print("\n## 2. Tailing a live file\n")
    print("%d lines appended at %.0f lines/s (target %d); all counted; agent VmRSS max "
          "%.2f MiB (sampled every 0.1 s)" % (n, achieved, a.rate, peak[0] / 1024))
    os.unlink(path)


# ---- 3. idle ---------------------------------------------------------------------------

def bench_idle(a, work):
    path = os.path.join(work, "idle.log")
    gen = Gen(3)
    write_lines(path, 1000, gen)
    ag = Agent(a.build, work, "idle", path)
    ag.wait_offset(os.path.getsize(path), 60)
    # The bare agent gets one unsent event too, so that both hold a
    # batch the sender keeps retrying: the difference is the tailer's.
    bare = Agent(a.build, work, "idle-bare", None, record=True)
    procs = [("opspulse-agent, one idle access log", ag.p),
             ("opspulse-agent, no access log", bare.p)]
    cd = None
    if os.access(benchlib.COLLECTD, os.X_OK):
        base = os.path.join(work, "collectd")
        os.makedirs(base)
        conf = os.path.join(base, "collectd.conf")
        with open(conf, "w") as f:
            f.write('BaseDir "%s"\nPIDFile "%s/collectd.pid"\nPluginDir "/usr/lib/collectd"\n'
                    'Interval 10\nLoadPlugin cpu\nLoadPlugin memory\nLoadPlugin df\n'
                    'LoadPlugin interface\n<Plugin df>\n  MountPoint "/"\n</Plugin>\n'
                    % (base, base))
        cd = subprocess.Popen([benchlib.COLLECTD, "-f", "-C", conf],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(("collectd (cpu, memory, df, interface)", cd))
    time.sleep(3)
    start = {name: benchlib.cpu_ticks(p.pid) for name, p in procs}
    peak = {name: 0 for name, _ in procs}
    end = time.monotonic() + a.idle
    while time.monotonic() < end:
        for name, p in procs:
            peak[name] = max(peak[name], benchlib.rss_kib(p.pid))
        time.sleep(1)
    print("\n## 3. Idle, %d s\n" % a.idle)
    print("| process | VmRSS max MiB | CPU ticks |")
    print("|---|---|---|")
    for name, p in procs:
        print("| %s | %.2f | %d |" % (name, peak[name] / 1024,
                                      benchlib.cpu_ticks(p.pid) - start[name]))
    ag.stop()
    bare.stop()
    if cd:
        cd.terminate()
        cd.wait(15)


# ---- 4. garbage ------------------------------------------------------------------------

def bench_garbage(a, work):
    path = os.path.join(work, "garbage.log")
    gen, other = Gen(11), Gen(12)
    rng = random.Random(5)
    want = {}
    out = []
    with open(path, "wb") as f:
        for i in range(a.garbage):
            if i % 50 == 1:
                line, reason = bad_line(rng, other.line(i).encode(), i // 50)
                want[reason] = want.get(reason, 0) + 1
            else:
                line = gen.line(i).encode()
            out.append(line)
            if len(out) == 5000:
                f.write(b"".join(out))
                out = []
        f.write(b"".join(out))
    size = os.path.getsize(path)
    ag = Agent(a.build, work, "garbage", path)
    ag.wait_offset(size, 300)
    hwm = ag.hwm_kib()
    check_counts(ag, gen, "garbage file")
    st = ag.status()
    ag.stop()
    got = dict(re.findall(r" ([a-z_0-9]+) (\d+)", st.split("skipped:")[1].split("\n")[0]))
    got = {k: int(v) for k, v in got.items()}
    if got != want:
        sys.exit("garbage: skipped %s, want %s" % (got, want))
    print("\n## 4. Mixed garbage, %d lines, %.0f MiB\n" % (a.garbage, size / 2 ** 20))
    print("good lines exact (requests %d, errors %d, timed %d); skipped by reason: %s, "
          "as generated; agent peak RSS %.1f MiB" %
          (gen.requests, gen.errors, gen.timed,
           " ".join("%s %d" % kv for kv in sorted(got.items())), hwm / 1024))
    os.unlink(path)


def bad_line(rng, line, k):
    """The k-th bad line (made from a good one), and why it is skipped."""
    if k % 6 == 0:
        junk = bytes(rng.randrange(1, 256) for _ in range(200)).replace(b"\n", b" ")
        return b"\x00" + junk + b"\n", "binary"
    if k % 6 == 1 and k < 6 * 40:   # forty 1 MiB lines
        return b"A" * (1 << 20) + b"\n", "too_long"
    if k % 6 == 2:
        return line[:len(line) // 2] + b"\n", "format"          # truncated
    if k % 6 == 3:
        return line.replace(b"GET /", b"GET /\xff", 1), "utf8"
    if k % 6 == 4:
        return b'{"time":"2026-10-05T09:00:00Z","status":200}\n', "format"
    return line.rsplit(b'" ', 1)[0] + b'"\n', "format"         # combined, no duration


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(benchlib.ROOT, "build"))
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--rate", type=int, default=200000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--idle", type=int, default=30)
    ap.add_argument("--parts", default="1234", help="which parts to run, e.g. 13")
    ap.add_argument("--garbage", type=int, default=300000, help="lines in the garbage file")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    for tool in ("goaccess", "mtail", "taskset"):
        if shutil.which(tool) is None:
            sys.exit("access_logs: %s is not installed (apt-get install %s)" %
                     (tool, "util-linux" if tool == "taskset" else tool))
    for f in ("agent/opspulse-agent", "bench/spool_requests"):
        if not os.path.exists(os.path.join(a.build, f)):
            sys.exit("missing %s/%s: build first" % (a.build, f))
    os.makedirs(os.path.join(a.build, "bench-state"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="access-logs-", dir=os.path.join(a.build, "bench-state"))
    try:
        for k, f in (("1", bench_rate), ("2", bench_tailing), ("3", bench_idle),
                     ("4", bench_garbage)):
            if k in a.parts:
                f(a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
