"""Packages: builds the .deb and .rpm files from a build tree of its own
(`cmake --build --target package`), checks their metadata, contents,
dependencies and configuration files, then installs the .deb files on
this machine and runs what they installed: --version, check-config on
the shipped configuration, migrate and init-db against the suite's
PostgreSQL, and an aggregator and an agent daemon as the packages'
system users delivering a deploy.  Then it upgrades over an edited
configuration, removes and purges, checking what is kept and what is
gone.

It installs system-wide, so it needs root and a disposable machine (CI).
Packages left by an earlier run are purged first, and the packages are
purged on every exit.  It skips itself (exit 77) when not root, without
dpkg, or in a sanitizer build tree (the packages do not depend on it).
"""
import contextlib
import fcntl
import glob
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SOURCE, STATE, BUILD, Cluster, Proc, check, check_eq, fail,  # noqa: E402
                     free_port, pg_env, pg_socket_dir, run, wait_for)

PACKAGES = ["opspulse-agent", "opspulse-aggregator"]
CONFS = {"opspulse-agent": "/etc/opspulse/agent.conf",
         "opspulse-aggregator": "/etc/opspulse/aggregator.conf"}
UNIT_DIR = "/usr/lib/systemd/system"
STATE_DIR = "/var/lib/opspulse-agent"
SKIP = 77

# Filled in as the steps go; later steps need earlier ones.
ctx = {"procs": [], "dbs": [], "roles": []}


def sh(argv, check_rc=True, timeout=600, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and r.returncode != 0:
        fail("%s exited %d:\n%s%s" % (" ".join(argv), r.returncode, r.stdout[-4000:],
                                      r.stderr[-4000:]))
    return r


def skip(reason):
    print("skipped: " + reason)
    sys.exit(SKIP)


def skip_unless_possible():
    if os.geteuid() != 0:
        skip("installing packages needs root")
    if shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None:
        skip("dpkg is not installed")
    cache = os.path.join(BUILD, "CMakeCache.txt")
    if os.path.exists(cache) and re.search(r"^OPSPULSE_SANITIZE:BOOL=ON$",
                                           open(cache).read(), re.M):
        skip("sanitizer build tree; the plain build runs this test")


@contextlib.contextmanager
def exclusive():
    """One package test per machine at a time: dpkg's database is shared."""
    with open("/tmp/opspulse-test-packages.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def installed(pkg):
    r = sh(["dpkg-query", "-W", "-f", "${Status} ${Version}", pkg], check_rc=False)
    return r.stdout.strip() if r.returncode == 0 else ""


def purge_all():
    present = [p for p in PACKAGES if installed(p)]
    if present:
        sh(["dpkg", "-P"] + present)


def public_dir():
    """A directory the packages' system users can enter (the checkout, and
    so the suite's state directory, may be private)."""
    if "pub" not in ctx:
        ctx["pub"] = tempfile.mkdtemp(prefix="opspulse-pkg-")
        os.chmod(ctx["pub"], 0o755)
    return ctx["pub"]


def public(name, text):
    """Writes a file in public_dir() that everyone can read."""
    path = os.path.join(public_dir(), name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def need(key):
    if key not in ctx:
        fail("skipped: an earlier step failed (%s missing)" % key)
    return ctx[key]


# ---- build ----------------------------------------------------------------

def build(tree, release):
    """Configures tree with package release `release` and builds the
    package target; returns the package files, moved aside."""
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    sh(["cmake", "-S", SOURCE, "-B", tree] + gen +
       ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DOPSPULSE_TESTS=OFF",
        "-DOPSPULSE_PACKAGE_RELEASE=%d" % release], timeout=300)
    jobs = str(min(4, os.cpu_count() or 1))
    sh(["cmake", "--build", tree, "--target", "package", "--parallel", jobs], timeout=1500)
    out = os.path.join(ctx["dir"], "release-%d" % release)
    os.makedirs(out)
    files = {}
    for kind in ("deb", "rpm"):
        for f in glob.glob(os.path.join(tree, "*." + kind)):
            pkg = re.match(r"(opspulse-(?:agent|aggregator))[-_]", os.path.basename(f)).group(1)
            files[(pkg, kind)] = shutil.move(f, out)
    return files


def test_build_packages():
    os.makedirs(os.path.join(STATE, "runs"), exist_ok=True)
    ctx["dir"] = tempfile.mkdtemp(prefix="packages-", dir=os.path.join(STATE, "runs"))
    tree = os.path.join(ctx["dir"], "build")
    ctx["v1"] = build(tree, 1)
    # The same sources with a higher release: only CPack runs again.
    ctx["v2"] = build(tree, 2)
    for v in ("v1", "v2"):
        for pkg in PACKAGES:
            check((pkg, "deb") in ctx[v], "%s: no %s .deb built" % (v, pkg))
            if shutil.which("rpmbuild"):
                check((pkg, "rpm") in ctx[v], "%s: no %s .rpm built" % (v, pkg))
    shutil.rmtree(tree)  # large; the packages were moved aside


# ---- .deb metadata and contents ---------------------------------------------

def deb_field(deb, field):
    return sh(["dpkg-deb", "-f", deb, field]).stdout.strip()


def deb_files(deb):
    out = sh(["dpkg-deb", "-c", deb]).stdout
    return {line.split()[-1].lstrip(".") for line in out.splitlines()}


def deb_control(deb, name):
    d = tempfile.mkdtemp(dir=ctx["dir"])
    sh(["dpkg-deb", "-e", deb, d])
    path = os.path.join(d, name)
    return open(path).read() if os.path.exists(path) else None


def migrations():
    return sorted(os.path.basename(f) for f in glob.glob(os.path.join(SOURCE, "aggregator/sql/*.sql")))


EXPECT_FILES = {
    "opspulse-agent": ["/usr/bin/opspulse-agent", "/etc/opspulse/agent.conf",
                       UNIT_DIR + "/opspulse-agent.service",
                       "/usr/share/man/man1/opspulse-agent.1.gz",
                       "/usr/share/doc/opspulse-agent/copyright"],
    "opspulse-aggregator": ["/usr/bin/opspulse-aggregator", "/usr/bin/opspulse",
                            "/etc/opspulse/aggregator.conf",
                            UNIT_DIR + "/opspulse-aggregator.service",
                            "/usr/share/man/man8/opspulse-aggregator.8.gz",
                            "/usr/share/man/man1/opspulse.1.gz",
                            "/usr/share/doc/opspulse-aggregator/copyright",
                            "/usr/share/doc/opspulse-aggregator/examples/cli.conf"] +
                           ["/usr/share/opspulse/migrations/" + m for m in migrations()],
}
EXPECT_LIBS = {
    "opspulse-agent": ["libc6", "libnng1", "libconfig9", "libprotobuf-c1", "libjansson4"],
    "opspulse-aggregator": ["libc6", "libnng1", "libconfig9", "libprotobuf-c1", "libpq5"],
}


def test_deb_metadata():
    v1 = need("v1")
    for pkg in PACKAGES:
        deb = v1[(pkg, "deb")]
        info = sh(["dpkg-deb", "-I", deb]).stdout
        print("--- dpkg-deb -I %s\n%s" % (os.path.basename(deb), info))
        check_eq(deb_field(deb, "Package"), pkg, "Package")
        check(deb_field(deb, "Version").endswith("-1"), "Version of release 1")
        check_eq(deb_field(deb, "Maintainer"), "OpsPulse maintainers", "Maintainer")
        check(deb_field(deb, "Homepage").startswith("https://"), "Homepage set")
        check(not deb_field(deb, "Description").startswith("opspulse built"),
              "Description has the package's own summary")
        depends = [d.strip().split()[0] for d in deb_field(deb, "Depends").split(",")]
        for lib in EXPECT_LIBS[pkg] + ["adduser"]:
            check(lib in depends, "%s Depends lacks %s: %s" % (pkg, lib, depends))
        check("conffiles" in info, "dpkg-deb -I lists no conffiles")
        check_eq(deb_control(deb, "conffiles"), CONFS[pkg] + "\n", pkg + " conffiles")
        for script in ("postinst", "prerm", "postrm"):
            check(deb_control(deb, script) is not None, "%s has no %s" % (pkg, script))
        files = deb_files(deb)
        for f in EXPECT_FILES[pkg]:
            check(f in files, "%s lacks %s" % (pkg, f))
        other = [p for p in PACKAGES if p != pkg][0]
        check(CONFS[other] not in files, "%s holds %s" % (pkg, CONFS[other]))
    check_eq(deb_field(ctx["v2"][("opspulse-agent", "deb")], "Version"),
             deb_field(v1[("opspulse-agent", "deb")], "Version")[:-2] + "-2", "release 2")


# ---- .rpm metadata and contents ---------------------------------------------

RPM_LIBS = {"opspulse-agent": ["libnng.so.1", "libconfig.so.9", "libprotobuf-c.so.1"],
            "opspulse-aggregator": ["libnng.so.1", "libconfig.so.9", "libprotobuf-c.so.1",
                                    "libpq.so.5"]}


def test_rpm_metadata():
    v1 = need("v1")
    if shutil.which("rpmbuild") is None:
        print("rpmbuild not installed: no .rpm built, .rpm checks skipped")
        return
    for pkg in PACKAGES:
        f = v1[(pkg, "rpm")]
        info = sh(["rpm", "-qip", f]).stdout
        check(re.search(r"^License\s*: MIT$", info, re.M), "%s License: %s" % (pkg, info))
        check(re.search(r"^URL\s*: https://", info, re.M), pkg + " URL")
        files = set(sh(["rpm", "-qlp", f]).stdout.split())
        for want in EXPECT_FILES[pkg]:
            check(want in files, "rpm -qlp %s lacks %s" % (pkg, want))
        check_eq(sh(["rpm", "-qcp", f]).stdout.split(), [CONFS[pkg]], "rpm -qcp " + pkg)
        flags = sh(["rpm", "-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", f]).stdout
        conf_flags = [line.split()[0] for line in flags.splitlines()
                      if line.endswith(" " + CONFS[pkg])]
        check(conf_flags and "c" in conf_flags[0] and "n" in conf_flags[0],
              "%s is not %%config(noreplace): %s" % (CONFS[pkg], conf_flags))
        requires = sh(["rpm", "-qRp", f]).stdout
        for lib in RPM_LIBS[pkg]:
            check(re.search(r"^%s\(\)\(64bit\)$" % re.escape(lib), requires, re.M),
                  "rpm -qRp %s lacks %s:\n%s" % (pkg, lib, requires))
        check("/usr/sbin/useradd" in requires, pkg + " requires useradd")
        scripts = sh(["rpm", "-qp", "--scripts", f]).stdout
        for s in ("postinstall", "preuninstall", "postuninstall"):
            check(s + " scriptlet" in scripts, "%s has no %s scriptlet" % (pkg, s))


# ---- install and run --------------------------------------------------------

def test_install():
    v1 = need("v1")
    r = sh(["dpkg", "-i"] + [v1[(p, "deb")] for p in PACKAGES])
    print(r.stdout)
    for pkg in PACKAGES:
        check(installed(pkg).startswith("install ok installed"), pkg + " installed")
    for user in ("opspulse-agent", "opspulse"):
        pw = pwd.getpwnam(user)
        check(pw.pw_uid < 1000, "%s is a system user (uid %d)" % (user, pw.pw_uid))
        grp.getgrnam(user)
    st = os.stat(STATE_DIR)
    check_eq(pwd.getpwuid(st.st_uid).pw_name, "opspulse-agent", STATE_DIR + " owner")
    check("service is not started" in r.stdout, "first install says the services are not started")
    ctx["installed"] = True


def test_installed_binaries():
    need("installed")
    version = deb_field(ctx["v1"][("opspulse-agent", "deb")], "Version").rsplit("-", 1)[0]
    for binary in ("opspulse-agent", "opspulse-aggregator", "opspulse"):
        out = sh(["/usr/bin/" + binary, "--version"]).stdout.strip()
        check_eq(out, "%s %s" % (binary, version), binary + " --version")
    out = sh(["opspulse-agent", "check-config", CONFS["opspulse-agent"]]).stdout
    check("OK" in out, "agent check-config: " + out)
    out = sh(["opspulse-aggregator", "check-config", CONFS["opspulse-aggregator"]]).stdout
    check("OK" in out, "aggregator check-config: " + out)
    help_text = sh(["opspulse-aggregator", "init-db", "--help"]).stdout
    check("--admin" in help_text, "init-db --help")
    for page in ("man1/opspulse-agent.1", "man8/opspulse-aggregator.8", "man1/opspulse.1"):
        check(os.path.exists("/usr/share/man/%s.gz" % page), page + " installed")
    if shutil.which("man"):
        for page in ("opspulse-agent", "opspulse-aggregator", "opspulse"):
            sh(["man", "-w", page])


def test_units():
    need("installed")
    if shutil.which("systemd-analyze") is None:
        print("systemd-analyze not installed: unit checks skipped")
        return
    units = [UNIT_DIR + "/%s.service" % p for p in PACKAGES]
    # Manual pages are checked above, whether man is installed or not.
    r = sh(["systemd-analyze", "verify", "--man=no"] + units, check_rc=False)
    check(r.returncode == 0 and not r.stderr.strip(),
          "systemd-analyze verify: %s%s" % (r.stdout, r.stderr))
    agent = open(units[0]).read()
    for line in ("ExecStart=/usr/bin/opspulse-agent daemon", "User=opspulse-agent",
                 "StateDirectory=opspulse-agent", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "CapabilityBoundingSet=\n"):
        check(line in agent, "agent unit lacks " + line)
    check("ExecStart=/usr/bin/opspulse-aggregator serve" in open(units[1]).read(),
          "aggregator unit ExecStart")


def test_migrate():
    need("installed")
    with Cluster("pkg-migrate") as c:
        for expect in ("schema is at version", "nothing to do"):
            r = sh(["/usr/bin/opspulse-aggregator", "-c", c.path("aggregator0.conf"), "migrate"])
            check(expect in r.stdout, "migrate printed: " + r.stdout)
        check(c.count("opspulse.schema_migrations") == len(migrations()), "every migration ran")
        c.psql_admin("DROP DATABASE %s" % c.db)


def admin_conninfo(db="postgres"):
    pg = pg_env()
    return "host=%s port=%s user=postgres dbname=%s" % (pg_socket_dir(pg["PGDIR"]), pg["PGPORT"], db)


def psql(sql, db="postgres"):
    return sh(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", admin_conninfo(db), "-c", sql]).stdout.strip()


def owned_by(db, owner):
    """Checks that owner owns db and every object of its schema, and that
    init-db left no per-database role setting behind."""
    check_eq(psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '%s'" % db),
             owner, "database owner")
    check_eq(psql("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE n.nspname = 'opspulse' AND c.relowner <> '%s'::regrole" % owner, db),
             "0", "relations of schema opspulse not owned by " + owner)
    check_eq(psql("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                  "WHERE n.nspname = 'opspulse' AND p.proowner <> '%s'::regrole" % owner, db),
             "0", "functions of schema opspulse not owned by " + owner)
    check_eq(psql("SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d "
                  "ON d.oid = s.setdatabase WHERE d.datname = '%s'" % db), "0",
             "per-database role settings left behind")
    check_eq(psql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'opspulse_reader'"), "f",
             "opspulse_reader exists and cannot log in")


def test_init_db_as_documented():
    """`sudo -u postgres opspulse-aggregator init-db`: the superuser
    connection is the calling system user's, the owner role is opspulse,
    the name of the aggregator package's system user."""
    need("installed")
    c = Cluster("pkg-initdb")
    ctx["cluster"] = c
    c.psql_admin("DROP DATABASE %s" % c.db)
    db = "t_pkg_default_%d" % os.getpid()
    ctx["dbs"].append(db)
    if psql("SELECT count(*) FROM pg_roles WHERE rolname = 'opspulse'") == "0":
        ctx["roles"].append("opspulse")
    pg = pg_env()
    conninfo = "host=%s port=%s dbname=%s" % (pg_socket_dir(pg["PGDIR"]), pg["PGPORT"], db)
    conf = public("default.conf", 'aggregator = { database = "%s"; };\n' % conninfo)
    out = sh(as_user("postgres", ["/usr/bin/opspulse-aggregator", "-c", conf, "init-db"])).stdout
    print(out)
    for expect in ("role opspulse", "created database %s owned by opspulse" % db,
                   "applied migration", "schema is at version"):
        check(expect in out, "init-db did not say %r" % expect)
    owned_by(db, "opspulse")
    # The package's system user connects as its own role, as the unit would.
    r = sh(as_user("opspulse", ["/usr/bin/opspulse-aggregator", "-c", conf, "migrate"]))
    check("nothing to do" in r.stdout, "migrate as opspulse: " + r.stdout)
    ctx["initdb_conninfo"] = conninfo


def test_init_db_admin_option():
    """--admin CONNINFO, an owner named in the connection string, and a
    second run that changes nothing."""
    c = need("cluster")
    owner = "t_pkg_owner_%d" % os.getpid()
    db = "t_pkg_owned_%d" % os.getpid()
    ctx["dbs"].append(db)
    ctx["roles"].append(owner)
    pg = pg_env()
    conninfo = "host=%s port=%s dbname=%s user=%s" % (pg_socket_dir(pg["PGDIR"]), pg["PGPORT"],
                                                      db, owner)
    conf = public("initdb.conf", 'aggregator = { database = "%s"; };\n' % conninfo)
    argv = ["/usr/bin/opspulse-aggregator", "-c", conf, "init-db", "--admin", admin_conninfo()]
    out = sh(argv).stdout
    for expect in ("created role %s" % owner, "created database %s owned by %s" % (db, owner),
                   "schema is at version"):
        check(expect in out, "init-db did not say %r: %s" % (expect, out))
    owned_by(db, owner)
    again = sh(argv).stdout
    for expect in ("role %s exists" % owner, "database %s exists" % db, "nothing to do"):
        check(expect in again, "second init-db did not say %r: %s" % (expect, again))
    r = sh(["/usr/bin/opspulse-aggregator", "-c", conf, "migrate"])
    check("nothing to do" in r.stdout, "migrate as the owner: " + r.stdout)
    # An existing schema of another owner is left alone, with a reason.
    r = sh(argv[:-2] + ["--owner", "opspulse_reader", "--admin", admin_conninfo()],
           check_rc=False)
    check(r.returncode == 1 and "belongs to role " + owner in r.stderr,
          "init-db over another owner's schema: %d %s" % (r.returncode, r.stderr))


def as_user(user, argv):
    return ["setpriv", "--reuid", user, "--regid", user, "--init-groups", "--"] + argv


def test_daemons_as_package_users():
    """The installed aggregator, running as user opspulse and connecting as
    the role init-db made, receives a deploy from the installed agent
    daemon running as opspulse-agent."""
    conninfo = need("initdb_conninfo")
    c = ctx["cluster"]
    port = free_port()
    spool = os.path.join(public_dir(), "spool")
    os.mkdir(spool)
    shutil.chown(spool, "opspulse-agent", "opspulse-agent")
    agg_conf = public("pkg-aggregator.conf", """aggregator = {
  listen = [ "tcp://127.0.0.1:%d" ];
  database = "%s";
  http = "127.0.0.1:%d";
  tls = { insecure = true; };
  workers = 2;
};
""" % (port, conninfo, free_port()))
    agent_conf = public("pkg-agent.conf", """agent = {
  id = "pkg-agent"; host = "pkg-agent"; service = "pkg";
  aggregators = [ "tcp://127.0.0.1:%d" ];
  spool = { dir = "%s"; };
  tls = { insecure = true; };
  probes = { enabled = false; }; capacity = { enabled = false; };
  webhook = { listen = ""; };
};
""" % (port, spool))
    agg = Proc("pkg-aggregator", as_user("opspulse", ["/usr/bin/opspulse-aggregator", "-c",
                                                      agg_conf, "serve"]), c.dir)
    ctx["procs"].append(agg)
    wait_for(lambda: "listening on" in agg.output() or not agg.alive(), 15, "aggregator")
    check(agg.alive(), "installed aggregator exited: " + agg.output())
    agent = Proc("pkg-agent", as_user("opspulse-agent", ["/usr/bin/opspulse-agent", "-c",
                                                         agent_conf, "daemon"]), c.dir)
    ctx["procs"].append(agent)
    wait_for(lambda: "started" in agent.output() or not agent.alive(), 15, "agent")
    check(agent.alive(), "installed agent exited: " + agent.output())
    record = ["/usr/bin/opspulse-agent", "-c", agent_conf, "deploy", "record", "--service", "pkg",
              "--started", "2h", "--finished", "1h", "--outcome", "success", "--id", "pkg-1"]
    sh(as_user("opspulse-agent", record))
    sh(as_user("opspulse-agent", ["/usr/bin/opspulse-agent", "-c", agent_conf, "flush",
                                  "--timeout", "60"]), timeout=120)
    n = psql("SELECT count(*) FROM opspulse.deploys WHERE service = 'pkg'", ctx["dbs"][0])
    check_eq(n, "1", "deploys stored through the installed daemons")
    cli_conf = public("pkg-cli.conf", 'cli = { server = "tcp://127.0.0.1:%d"; '
                       'tls = { insecure = true; }; };\n' % port)
    r = sh(["/usr/bin/opspulse", "-c", cli_conf, "dora", "--since", "1d", "--format", "json"])
    check('"pkg"' in r.stdout, "the installed CLI shows service pkg: " + r.stdout)
    for p in (agent, agg):
        check_eq(p.stop(), 0, p.name + " exit status after SIGTERM")


# ---- upgrade, remove, purge ---------------------------------------------------

EDIT = "# edited before the upgrade\n"


def test_upgrade_keeps_edited_config():
    need("installed")
    conf = CONFS["opspulse-agent"]
    shipped_aggregator = open(CONFS["opspulse-aggregator"]).read()
    with open(conf, "a") as f:
        f.write(EDIT)
    marker = os.path.join(STATE_DIR, "kept-by-test")
    open(marker, "w").close()
    r = sh(["dpkg", "-i"] + [ctx["v2"][(p, "deb")] for p in PACKAGES])
    check("not started" not in r.stdout, "an upgrade is not a first install: " + r.stdout)
    for pkg in PACKAGES:
        check(installed(pkg).endswith("-2"), "%s upgraded: %s" % (pkg, installed(pkg)))
    check(open(conf).read().endswith(EDIT), "the edit of agent.conf was lost on upgrade")
    check_eq(open(CONFS["opspulse-aggregator"]).read(), shipped_aggregator,
             "aggregator.conf after upgrade")
    check(not glob.glob("/etc/opspulse/*.dpkg-*"), "dpkg left %s" % glob.glob("/etc/opspulse/*"))
    check(os.path.exists(marker), "the state directory survived the upgrade")
    check_eq(pwd.getpwuid(os.stat(marker).st_uid).pw_name, "opspulse-agent",
             "postinst hands the state directory to its user")
    ctx["upgraded"] = True


def test_remove_then_purge():
    need("upgraded")
    sh(["dpkg", "-r"] + PACKAGES)
    for pkg in PACKAGES:
        check(installed(pkg).startswith("deinstall ok config-files"),
              "%s after dpkg -r: %s" % (pkg, installed(pkg)))
    for gone in ("/usr/bin/opspulse-agent", "/usr/bin/opspulse-aggregator", "/usr/bin/opspulse",
                 UNIT_DIR + "/opspulse-agent.service", "/usr/share/opspulse/migrations"):
        check(not os.path.exists(gone), "%s still there after dpkg -r" % gone)
    check(open(CONFS["opspulse-agent"]).read().endswith(EDIT), "dpkg -r kept the edited config")
    check(os.path.exists(CONFS["opspulse-aggregator"]), "dpkg -r kept aggregator.conf")
    check(os.path.exists(os.path.join(STATE_DIR, "kept-by-test")), "dpkg -r kept the spool")
    sh(["dpkg", "-P"] + PACKAGES)
    for pkg in PACKAGES:
        check_eq(installed(pkg), "", pkg + " after dpkg -P")
    for gone in list(CONFS.values()) + ["/etc/opspulse", STATE_DIR]:
        check(not os.path.exists(gone), "%s still there after dpkg -P" % gone)
    for user in ("opspulse-agent", "opspulse"):
        pwd.getpwnam(user)  # kept: files elsewhere may belong to them


# ---- cleanup -----------------------------------------------------------------

def cleanup():
    for p in ctx["procs"]:
        p.stop()
    purge_all()
    for db in ctx["dbs"]:
        sh(["psql", "-X", "-q", admin_conninfo(), "-c", "DROP DATABASE IF EXISTS %s" % db],
           check_rc=False)
    for role in ctx["roles"]:
        sh(["psql", "-X", "-q", admin_conninfo(), "-c", "DROP ROLE IF EXISTS %s" % role],
           check_rc=False)
    for d in (ctx.get("pub"), ctx.get("dir")):
        if d:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    skip_unless_possible()
    # A timeout's SIGTERM still runs the cleanup (a SIGKILL cannot: the next
    # run purges what this one left).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with exclusive():
        purge_all()  # what an earlier, interrupted run left
        try:
            run([test_build_packages, test_deb_metadata, test_rpm_metadata, test_install,
                 test_installed_binaries, test_units, test_migrate,
                 test_init_db_as_documented, test_init_db_admin_option,
                 test_daemons_as_package_users, test_upgrade_keeps_edited_config,
                 test_remove_then_purge])
        finally:
            cleanup()
