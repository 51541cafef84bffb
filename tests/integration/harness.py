"""Integration test harness: real PostgreSQL, real daemons on loopback.

A Cluster owns a database in the suite's PostgreSQL (started by the ctest
fixture, see fixture.sh), configuration files, and the aggregator and agent
processes it starts.  Every process is registered under
$OPSPULSE_IT_STATE/pids so that the fixture's cleanup kills it even when a
test is killed by a timeout; a Cluster used as a context manager stops its
processes itself on any exit.  What a test starts by other means registers
a cleanup script (register_cleanup).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("OPSPULSE_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("OPSPULSE_SOURCE", os.path.join(os.path.dirname(__file__), "../.."))
STATE = os.environ.get("OPSPULSE_IT_STATE", os.path.join(BUILD, "it-state"))

AGENT = os.path.join(BUILD, "agent", "opspulse-agent")
AGGREGATOR = os.path.join(BUILD, "aggregator", "opspulse-aggregator")
CLI = os.path.join(BUILD, "cli", "opspulse")
WIRE_SEND = os.path.join(BUILD, "tests", "tools", "wire_send")
SPOOL_FILL = os.path.join(BUILD, "tests", "tools", "spool_fill")
PG_LIB = os.path.join(SOURCE, "scripts", "lib", "pg.sh")
DEV_CERTS = os.path.join(SOURCE, "scripts", "dev-certs")


def build_option(name):
    """Whether the build under test was configured with option name ON."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            return re.search(r"^%s:BOOL=ON$" % name, f.read(), re.M) is not None
    except OSError:
        return False


# Programs built with ThreadSanitizer start and run several times slower:
# a test that starts thousands of them scales its counts down there, and
# in an ASan+UBSan tree, whose suite runs beside the TSan one.
TSAN = build_option("OPSPULSE_TSAN")
SANITIZED = TSAN or build_option("OPSPULSE_SANITIZE")
# Waits for something to happen last four times longer there: the
# sanitizer suites run side by side with the fuzzers on two cores.  A wait
# ends as soon as it is met, so a longer limit costs a passing test nothing.
WAIT_SCALE = 4 if SANITIZED else 1


def pg_ctl(action, pgdir, port=""):
    """Starts or stops a private PostgreSQL with scripts/lib/pg.sh."""
    r = subprocess.run(["bash", "-c", '. "$0"; pg_%s "$1" "$2"' % action, PG_LIB, pgdir, str(port)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail("pg_%s %s failed: %s%s" % (action, pgdir, r.stdout, r.stderr))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def check_eq(actual, expected, what):
    if actual != expected:
        fail("%s: expected %r, got %r" % (what, expected, actual))


def check_close(actual, expected, what, rel=1e-9, abs_tol=1e-9):
    if expected is None or actual is None:
        check_eq(actual, expected, what)
        return
    if abs(actual - expected) > max(abs_tol, rel * abs(expected)):
        fail("%s: expected %r, got %r" % (what, expected, actual))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pg_env():
    env = {}
    with open(os.path.join(STATE, "pg.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env


def pg_socket_dir(pgdir):
    out = subprocess.run(["cksum"], input=pgdir.encode(), capture_output=True, check=True)
    return "/tmp/opspulse-pg-" + out.stdout.split()[0].decode()


# A sanitizer's report in a program's output fails the test whatever the
# program's exit status: a sanitizer ends the program with a status of its
# own (ThreadSanitizer's halt_on_error=1 exits 66), which a test expecting
# a failure may accept, and nobody waits for a daemon's status.
SANITIZER_MARKS = ("ThreadSanitizer", "AddressSanitizer", "LeakSanitizer", "runtime error: ")


def sanitizer_report(text):
    """The start of the first sanitizer report in text, or None."""
    for mark in SANITIZER_MARKS:
        i = text.find(mark)
        if i >= 0:
            start = text.rfind("\n", 0, i) + 1
            return text[start:start + 6000]
    return None


def check_no_sanitizer_report(text, what):
    report = sanitizer_report(text or "")
    if report is not None:
        fail("sanitizer report from %s:\n%s" % (what, report))


def check_run(r, what):
    """Fails on a sanitizer report in a finished command's output."""
    check_no_sanitizer_report((r.stdout or "") + (r.stderr or ""), what)
    return r


def percentile_cont(values, q):
    """PostgreSQL's percentile_cont: linear interpolation between ranks."""
    if not values:
        return None
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


class Proc:
    def __init__(self, name, argv, logdir, env=None):
        self.name = name
        self.log_path = os.path.join(logdir, name + ".log")
        self.log = open(self.log_path, "ab")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.pidfile = os.path.join(STATE, "pids", str(self.p.pid))
        os.makedirs(os.path.dirname(self.pidfile), exist_ok=True)
        with open(self.pidfile, "w") as f:
            f.write(name)
        self.reported = False

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the process (SIGKILL after timeout seconds) and returns
        its exit status; fails, once, on a sanitizer report in its log."""
        if self.p.poll() is None:
            try:
                self.p.send_signal(sig)
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass
        if not self.reported:
            self.reported = True
            check_no_sanitizer_report(self.output(), self.name)
        return self.p.returncode

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class Cluster:
    """A database, configuration files and the daemons of one test."""

    def __init__(self, name, n_aggregators=1, agent_id="it-agent", private_pg=False, pg=None):
        """pg: a PgServer the test owns (a replication primary), where the
        database is made; by default the suite's server."""
        os.makedirs(os.path.join(STATE, "runs"), exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=os.path.join(STATE, "runs"))
        self.private_pg = private_pg
        if pg is not None:
            self.pg_port = str(pg.port)
            self.pg_dir = pg.dir
        elif private_pg:
            self.pg_dir = os.path.join(self.dir, "pg")
            self.pg_port = str(free_port())
            self.pg_start()
        else:
            pg = pg_env()
            self.pg_port = pg["PGPORT"]
            self.pg_dir = pg["PGDIR"]
        self.db = ("t_%s_%d" % (name, os.getpid())).replace("-", "_")
        self.conninfo = "host=%s port=%s user=postgres dbname=%s" % (
            pg_socket_dir(self.pg_dir), self.pg_port, self.db)
        self.psql_admin("DROP DATABASE IF EXISTS %s" % self.db)
        self.psql_admin("CREATE DATABASE %s" % self.db)
        self.ports = [free_port() for _ in range(n_aggregators)]
        self.addresses = ["tcp://127.0.0.1:%d" % p for p in self.ports]
        self.aggregators = [None] * n_aggregators
        self.agent_proc = None
        self.procs = []
        self.spool = os.path.join(self.dir, "spool")
        self.agent_id = agent_id
        self.certs = None
        self.http_ports = [free_port() for _ in range(n_aggregators)]
        self.write_confs()

    def write_confs(self, aggregator_extra="", database=None):
        """database: the aggregators' connection string, when not the
        test database's own (conninfo)."""
        for i in range(len(self.ports)):
            self.write("aggregator%d.conf" % i, """aggregator = {
  listen = [ "%s" ];
  database = "%s";
  http = "127.0.0.1:%d";
  tls = %s;
  workers = 2;
%s};
""" % (self.addresses[i], database or self.conninfo, self.http_ports[i],
       self.tls_conf("aggregator"), aggregator_extra))
        self.write_agent_conf()
        self.write("cli.conf", """cli = { server = "%s"; tls = %s; };
""" % (self.addresses[0], self.tls_conf("it-user")))

    def tls_conf(self, name):
        """The tls group of a configuration: insecure, or name's files."""
        if self.certs is None:
            return "{ insecure = true; }"
        return '{ ca = "%s/ca.pem"; cert = "%s/%s.pem"; key = "%s/%s.key"; }' % (
            self.certs, self.certs, name, self.certs, name)

    def make_cert(self, kind, name, *options):
        """Makes a certificate with scripts/dev-certs in the cluster's CA."""
        r = subprocess.run([DEV_CERTS] + list(options) + [self.certs, kind, name],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail("dev-certs %s %s: %s" % (kind, name, r.stderr))

    def enable_tls(self, aggregator_extra=""):
        """Switches to tls+tcp:// with mutual TLS: a CA, the aggregator's
        certificate, an agent certificate for agent_id (OU=agent) and a CLI
        certificate "it-user" (OU=cli).  Call before starting anything."""
        self.certs = self.path("certs")
        self.make_cert("ca", "-")
        self.make_cert("server", "aggregator")
        self.make_cert("agent", self.agent_id)
        self.make_cert("cli", "it-user")
        self.addresses = ["tls+tcp://127.0.0.1:%d" % p for p in self.ports]
        self.write_confs(aggregator_extra)
        return self

    # ---- files and databases -------------------------------------------

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def write_agent_conf(self, extra="", max_mb=256, collectors=False,
                         sender="timeout_ms = 3000;", name="agent.conf", agent_id=None,
                         spool=None):
        """collectors=False turns the daemon's probes, capacity sampling
        and webhook off, so that a test sees only the events it records;
        a test of those passes True and configures them in extra.  name,
        agent_id and spool make the file of another agent (several agents
        on one cluster)."""
        addrs = ", ".join('"%s"' % a for a in self.addresses)
        if not collectors:
            extra = ("  probes = { enabled = false; };\n"
                     "  capacity = { enabled = false; };\n"
                     "  webhook = { listen = \"\"; };\n") + extra
        self.write(name, """agent = {
  id = "%s";
  host = "%s";
  service = "default-svc";
  aggregators = [ %s ];
  spool = { dir = "%s"; max_mb = %d; };
  sender = { %s };
  tls = %s;
%s};
""" % (agent_id or self.agent_id, agent_id or self.agent_id, addrs, spool or self.spool, max_mb,
       sender, self.tls_conf(agent_id or self.agent_id), extra))

    def psql_admin(self, sql):
        conn = "host=%s port=%s user=postgres dbname=postgres" % (
            pg_socket_dir(self.pg_dir), self.pg_port)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", conn, "-c", sql],
                       check=True, capture_output=True)

    def sql(self, query):
        """Runs a query in the test database; returns rows of strings."""
        env = dict(os.environ, PGOPTIONS="-c search_path=opspulse")
        out = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                              self.conninfo, "-c", query],
                             capture_output=True, text=True, env=env)
        if out.returncode != 0:
            fail("psql failed on %r: %s" % (query, out.stderr.strip()))
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def scalar(self, query):
        rows = self.sql(query)
        return rows[0][0] if rows else None

    # ---- daemons ---------------------------------------------------------

    def migrate(self, i=0):
        r = subprocess.run([AGGREGATOR, "-c", self.path("aggregator%d.conf" % i), "migrate"],
                           capture_output=True, text=True)
        check_run(r, "opspulse-aggregator migrate")
        check(r.returncode == 0, "migrate failed: " + r.stdout + r.stderr)
        return r

    def start_aggregator(self, i=0, migrate=True):
        if migrate:
            self.migrate(i)
        p = Proc("aggregator%d" % i, [AGGREGATOR, "-c", self.path("aggregator%d.conf" % i), "serve"],
                 self.dir)
        self.procs.append(p)
        self.aggregators[i] = p
        wait_for(lambda: "listening on" in p.output() or not p.alive(), 15,
                 "aggregator %d to listen" % i)
        check(p.alive(), "aggregator %d exited: %s" % (i, p.output()))
        return p

    def start_agent(self):
        p = Proc("agent", [AGENT, "-c", self.path("agent.conf"), "daemon"], self.dir)
        self.procs.append(p)
        self.agent_proc = p
        wait_for(lambda: "started" in p.output() or not p.alive(), 15, "agent to start")
        check(p.alive(), "agent exited: " + p.output())
        return p

    def start(self):
        self.start_aggregator(0)
        self.start_agent()
        return self

    def stop(self):
        """Stops every process, then fails on the first sanitizer report."""
        error = None
        for p in self.procs:
            try:
                p.stop()
            except AssertionError as e:
                error = error or e
        if self.private_pg:
            pg_ctl("destroy", self.pg_dir)
        if error is not None:
            raise error

    def pg_start(self):
        pg_ctl("start", self.pg_dir, self.pg_port)

    def pg_stop(self):
        pg_ctl("stop", self.pg_dir)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.dump_logs()
        self.stop()
        return False

    def dump_logs(self):
        for p in self.procs:
            print("----- %s log -----" % p.name, file=sys.stderr)
            print(p.output()[-6000:], file=sys.stderr)

    # ---- commands -------------------------------------------------------

    def agent(self, *args, input=None, check_rc=True, env=None, timeout=120, conf="agent.conf"):
        r = subprocess.run([AGENT, "-c", self.path(conf)] + list(args),
                           input=input, capture_output=True, text=True, env=env, timeout=timeout)
        check_run(r, "opspulse-agent %s" % " ".join(args))
        if check_rc and r.returncode != 0:
            fail("opspulse-agent %s exited %d: %s%s" % (" ".join(args), r.returncode,
                                                       r.stdout, r.stderr))
        return r

    def flush(self, timeout=60):
        self.agent("flush", "--timeout", str(timeout), timeout=timeout + 30)

    def cli(self, *args, check_rc=True):
        r = subprocess.run([CLI, "-c", self.path("cli.conf")] + list(args),
                           capture_output=True, text=True, timeout=120)
        check_run(r, "opspulse %s" % " ".join(args))
        if check_rc and r.returncode != 0:
            fail("opspulse %s exited %d: %s%s" % (" ".join(args), r.returncode,
                                                 r.stdout, r.stderr))
        return r

    def cli_json(self, *args):
        r = self.cli(*(list(args) + ["--format", "json"]))
        try:
            return json.loads(r.stdout)
        except ValueError:
            fail("opspulse %s printed invalid JSON: %r" % (" ".join(args), r.stdout[:500]))

    def fill(self, n, service, group=1000, first=0):
        """Records n distinct toil events through the agent's recording path."""
        r = subprocess.run([SPOOL_FILL, self.path("agent.conf"), str(n), service, str(group),
                            str(first)], capture_output=True, text=True, timeout=600)
        check_run(r, "spool_fill")
        if r.returncode != 0:
            fail("spool_fill failed: " + r.stderr)

    def count(self, table, where="true"):
        return int(self.scalar("SELECT count(*) FROM %s WHERE %s" % (table, where)))

    def wire(self, *args, address=None, cert=None):
        """Sends a hand-made request (tests/tools/wire_send.c); over TLS
        with the certificate files cert (a name in the cluster's CA, or a
        (ca, cert, key) triple of paths)."""
        tls = []
        if cert is not None:
            if isinstance(cert, str):
                cert = (self.path("certs/ca.pem"), self.path("certs/%s.pem" % cert),
                        self.path("certs/%s.key" % cert))
            tls = ["--tls"] + list(cert)
        r = subprocess.run([WIRE_SEND] + tls + [address or self.addresses[0]] + list(args),
                           capture_output=True, text=True, timeout=60)
        check_run(r, "wire_send")
        return r.stdout.strip()

    def metrics(self, i=0):
        """The aggregator's /metrics as {series: value}."""
        import urllib.request
        url = "http://127.0.0.1:%d/metrics" % self.http_ports[i]
        with urllib.request.urlopen(url, timeout=10) as f:
            text = f.read().decode()
        out = {}
        # Only "\n" ends a line: label values may hold other control
        # characters, which splitlines() would also split at.
        for line in text.split("\n"):
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out


PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def pg_as_owner(argv, timeout=180, check_rc=True):
    """Runs a PostgreSQL program as the servers' owner: 'postgres' when
    root (initdb refuses root), else the current user."""
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--"] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd="/")
    if check_rc and r.returncode != 0:
        fail("%s exited %d: %s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


class PgServer:
    """A PostgreSQL server that a test starts, stops, promotes and copies
    itself with PostgreSQL's own programs, on 127.0.0.1:port: a primary
    (init), a streaming standby of one (basebackup), a restored copy.
    Its files live under pg_socket_dir(dir), as scripts/lib/pg.sh's do;
    its postmaster is registered under STATE/pids so that the fixture's
    cleanup kills it after a timeout.  Call destroy() in a finally."""

    def __init__(self, dir, name):
        self.dir, self.name = dir, name
        self.port = free_port()
        self.run = pg_socket_dir(dir)
        self.data = os.path.join(self.run, "data")
        self.log = os.path.join(self.run, "server.log")
        self.pidfile = None
        os.makedirs(dir, exist_ok=True)
        os.makedirs(self.run, exist_ok=True)
        if os.geteuid() == 0:
            import shutil
            shutil.chown(self.run, "postgres", "postgres")
        os.chmod(self.run, 0o755)

    def init(self, conf=""):
        pg_as_owner([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-A", "trust",
                     "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        self.configure(conf)
        return self

    def configure(self, conf=""):
        """Appends conf and this server's own address and name to
        postgresql.conf (a later line wins over a copied one)."""
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# %s\nport = %d\nlisten_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\ncluster_name = '%s'\n%s\n"
                    % (self.name, self.port, self.run, self.name, conf))

    def basebackup(self, primary, conf=""):
        """Makes this a streaming standby of primary: pg_basebackup -R
        (standby.signal and primary_conninfo written for us).  Its WAL
        receiver names itself by cluster_name, as synchronous_standby_names
        refers to it."""
        pg_as_owner([os.path.join(PG_BIN, "pg_basebackup"), "-d", primary.conninfo("postgres"),
                     "-D", self.data, "-R", "-X", "stream", "-c", "fast"])
        self.configure(conf)
        return self

    def ctl(self, *args, check_rc=True):
        return pg_as_owner([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data] + list(args),
                           check_rc=check_rc)

    def start(self):
        r = self.ctl("-l", self.log, "-w", "-t", "120", "start", check_rc=False)
        if r.returncode != 0:
            with open(self.log, errors="replace") as f:
                fail("%s did not start: %s%s" % (self.name, r.stderr, f.read()[-3000:]))
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = f.readline().strip()
        self.pidfile = os.path.join(STATE, "pids", pid)
        os.makedirs(os.path.dirname(self.pidfile), exist_ok=True)
        with open(self.pidfile, "w") as f:
            f.write("postgres " + self.name)
        return self

    def stop(self, mode="fast"):
        """pg_ctl stop -m mode ("immediate": a crash, as when the host
        dies).  Safe when it is not running."""
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.ctl("-m", mode, "-w", "-t", "60", "stop", check_rc=False)
        if self.pidfile:
            try:
                os.unlink(self.pidfile)
            except FileNotFoundError:
                pass
            self.pidfile = None

    def promote(self):
        self.ctl("-w", "-t", "60", "promote")

    def destroy(self):
        self.stop("immediate")
        import shutil
        shutil.rmtree(self.run, ignore_errors=True)

    def conninfo(self, db):
        return "host=127.0.0.1 port=%d user=postgres dbname=%s" % (self.port, db)

    def sql(self, db, query):
        """Rows of strings, as Cluster.sql, in database db."""
        env = dict(os.environ, PGOPTIONS="-c search_path=opspulse")
        out = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                              self.conninfo(db), "-c", query],
                             capture_output=True, text=True, env=env, timeout=120)
        if out.returncode != 0:
            fail("psql on %s failed on %r: %s" % (self.name, query, out.stderr.strip()))
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def scalar(self, db, query):
        rows = self.sql(db, query)
        return rows[0][0] if rows else None


# ---- what a test started outside Proc and PgServer ---------------------
#
# Some tests start programs that start servers of their own (scripts/
# quickstart: a PostgreSQL, an aggregator, an agent).  Such a test
# registers a shell script that stops all of it under STATE/cleanup.  The
# harness runs the script when the test ends in any way the process sees
# (return, exception, SIGTERM: the handler below turns it into SystemExit
# so that finally blocks and atexit run), and the fixture's cleanup
# (fixture.sh stop) runs any script left after a SIGKILL, which is how
# ctest ends a test past its timeout.

CLEANUP_DIR = os.path.join(STATE, "cleanup")
_cleanup_scripts = []
_cleanup_hooked = False
_cleanup_serial = [0]


def _on_sigterm(signum, frame):
    # A second SIGTERM must not interrupt the cleanup the first one starts.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def _run_cleanups_at_exit():
    for path in list(_cleanup_scripts):
        try:
            run_cleanup(path)
        except Exception as e:  # noqa: BLE001 - the fixture runs what is left
            print("cleanup %s: %s" % (path, e), file=sys.stderr)


def register_cleanup(name, script):
    """Registers script (bash) as the way to stop what the test started;
    returns its path for run_cleanup.  It runs at the latest when the test
    process exits, or else in the fixture's cleanup, so it must be safe to
    run when there is nothing left to stop."""
    os.makedirs(CLEANUP_DIR, exist_ok=True)
    _cleanup_serial[0] += 1
    path = os.path.join(CLEANUP_DIR, "%s-%d-%d.sh" % (name, os.getpid(), _cleanup_serial[0]))
    with open(path, "w") as f:
        f.write(script)
    global _cleanup_hooked
    if not _cleanup_hooked:
        _cleanup_hooked = True
        import atexit
        atexit.register(_run_cleanups_at_exit)
        signal.signal(signal.SIGTERM, _on_sigterm)
    _cleanup_scripts.append(path)
    return path


def run_cleanup(path, timeout=300):
    """Runs a registered cleanup script and unregisters it; a no-op when
    it already ran.  Its output goes to stderr when it fails."""
    if path not in _cleanup_scripts:
        return
    r = subprocess.run(["bash", path], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        print("cleanup %s exited %d:\n%s%s" % (path, r.returncode, r.stdout, r.stderr),
              file=sys.stderr)
    _cleanup_scripts.remove(path)
    os.unlink(path)


def wait_for(pred, timeout, what):
    timeout *= WAIT_SCALE
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out after %ss waiting for %s" % (timeout, what))


def run(tests):
    """Runs test functions in order; prints a summary line ctest can read."""
    passed = failed = 0
    for t in tests:
        name = t.__name__
        try:
            t()
            passed += 1
            print("ok - %s" % name)
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print("not ok - %s: %s" % (name, e))
            import traceback
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
