"""Helpers the bench/ scripts share: the integration harness (private
PostgreSQL, real daemons, configuration files) and process cost read from
/proc (resident memory, CPU ticks, wake-ups).

Benches keep their process registry in BUILD/bench-state, not in the
integration suite's it-state, so that a test run's cleanup never kills a
bench's daemons (and the reverse).
"""
import os
import shutil
import signal
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def use_build(build):
    """Points the harness at BUILD and imports it; returns the module.
    SIGTERM and SIGINT (ignored in a background job otherwise) unwind the
    script, so that its finally clauses stop what it started."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    build = os.path.abspath(build)
    os.environ["OPSPULSE_BUILD"] = build
    os.environ["OPSPULSE_SOURCE"] = ROOT
    os.environ["OPSPULSE_IT_STATE"] = os.path.join(build, "bench-state")
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import harness  # noqa: E402 - needs the environment above
    for f in (harness.AGENT, harness.AGGREGATOR):
        if not os.path.exists(f):
            sys.exit("missing %s: build first (ninja -C %s)" % (f, build))
    return harness


def progress(msg):
    print("... " + msg, file=sys.stderr, flush=True)


TICKS = os.sysconf("SC_CLK_TCK")


def _status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def _stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    # the command name may hold spaces: fields start after the last ')'
    return s[s.rindex(")") + 2:].split()


def cpu_ticks(pid, children=False):
    """utime + stime of every thread of pid, in clock ticks; with children,
    also the CPU of children it has reaped (cutime + cstime)."""
    f = _stat_fields(pid)
    t = int(f[11]) + int(f[12])
    if children:
        t += int(f[13]) + int(f[14])
    return t


def wakeups(pid):
    """Context switches summed over all threads: (voluntary, involuntary).
    A thread that sleeps and is woken counts one voluntary switch."""
    vol = invol = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        invol += int(line.split()[1])
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return vol, invol


def rss_kib(pid):
    """VmRSS of pid in KiB."""
    return int(_status(pid)["VmRSS"].split()[0])


def anon_kib(pid):
    """RssAnon of pid in KiB: private heap and stacks.  With no swap the
    kernel cannot reclaim it, so unlike VmRSS it moves only when the
    process allocates or frees: what a leak shows in."""
    return int(_status(pid)["RssAnon"].split()[0])


def pss_kib(pid):
    """Proportional set size of pid in KiB: shared library pages divided
    among the processes that map them."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def smaps_breakdown(pid):
    """Resident KiB of pid by what holds it, from /proc/PID/smaps: the
    program itself, each shared library, [heap], [stack] (the main
    thread's) and anonymous mappings (other threads' stacks, malloc arenas
    and large allocations)."""
    out = {}
    name = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split(None, 1)[0]
            if not head.endswith(":"):
                fields = line.split()
                name = os.path.basename(fields[5]) if len(fields) > 5 else "[anon]"
            elif head == "Rss:":
                out[name] = out.get(name, 0) + int(line.split()[1])
    return out


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def sample(pid):
    """One reading of a process's cost."""
    vol, invol = wakeups(pid)
    return {"rss": rss_kib(pid), "pss": pss_kib(pid), "ticks": cpu_ticks(pid),
            "vol": vol, "invol": invol, "threads": threads(pid)}


def postmaster_pid(harness, pgdir):
    with open(os.path.join(harness.pg_socket_dir(pgdir), "data", "postmaster.pid")) as f:
        return int(f.readline())


def postgres_ticks(pm):
    """CPU ticks of a PostgreSQL server: the postmaster, the backends it has
    reaped (cutime) and the ones still running."""
    total = cpu_ticks(pm, children=True)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = _stat_fields(int(d))
            if int(f[1]) == pm:
                total += int(f[11]) + int(f[12])
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            pass
    return total


def linear_slope(xs, ys):
    """Least-squares slope of ys over xs."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def mib(kib):
    return kib / 1024.0


COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"


def start_nng_idle(h, cl):
    """The bare-socket baseline: bench/nng_idle connected to the first
    aggregator.  Returns its harness Proc (stopped with the cluster)."""
    tool = os.path.join(os.environ["OPSPULSE_BUILD"], "bench", "nng_idle")
    if not os.path.exists(tool):
        sys.exit("missing %s: build first" % tool)
    p = h.Proc("nng_idle", [tool, cl.addresses[0]], cl.dir)
    cl.procs.append(p)
    h.wait_for(lambda: "connected" in p.output() or not p.alive(), 15, "nng_idle")
    h.check(p.alive(), "nng_idle exited: " + p.output())
    return p


def start_collectd(h, cl):
    """Debian's collectd with the cpu, memory, df and interface plugins
    (the SPEC's reference), or None when it is not installed."""
    if not os.access(COLLECTD, os.X_OK):
        progress("collectd is not installed: no collectd baseline "
                 "(apt-get install collectd-core)")
        return None
    base = cl.path("collectd")
    os.makedirs(base, exist_ok=True)
    conf = cl.write("collectd.conf", """BaseDir "%s"
PIDFile "%s/collectd.pid"
PluginDir "/usr/lib/collectd"
Interval 10
LoadPlugin cpu
LoadPlugin memory
LoadPlugin df
LoadPlugin interface
<Plugin df>
  MountPoint "/"
</Plugin>
""" % (base, base))
    p = h.Proc("collectd", [COLLECTD, "-f", "-C", conf], cl.dir)
    cl.procs.append(p)
    return p
