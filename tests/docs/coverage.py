"""README.md, the manual pages and docs/IMPORT.md against the programs:
every command each program's --help lists is named in README and in its
manual page, every import type and field `opspulse-agent import --help`
lists is in the manual page's table and in docs/IMPORT.md, and nothing
they name as a command, type or field is missing from the programs.
Also what a first install needs from README (build dependencies, a CA,
the aggregator's certificate, runuser) and a flush tag that renders.

The lists come from the built programs' own --help, so a command or an
import type added to the code is caught here until it is documented.

usage: coverage.py SOURCE_DIR OPSPULSE OPSPULSE_AGENT OPSPULSE_AGGREGATOR"""
import re
import subprocess
import sys

SOURCE, CLI, AGENT, AGG = sys.argv[1:5]
PROGRAMS = {"opspulse": CLI, "opspulse-agent": AGENT, "opspulse-aggregator": AGG}
MANS = {"opspulse": "packaging/man/opspulse.1", "opspulse-agent": "packaging/man/opspulse-agent.1",
        "opspulse-aggregator": "packaging/man/opspulse-aggregator.8"}
failures = []


def fail(msg):
    failures.append(msg)


def help_text(*argv):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


def commands(prog):
    """The first word of each line of the --help "commands:" block."""
    out, names, inside = help_text(PROGRAMS[prog], "--help"), set(), False
    for line in out.splitlines():
        if line.strip() == "commands:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            m = re.match(r"^  ([a-z][a-z-]*)", line)
            if m:
                names.add(m.group(1))
    if not names:
        fail("%s --help lists no commands" % prog)
    return names


def import_types():
    """{type: [fields]} from `opspulse-agent import --help`."""
    out, types, inside = help_text(AGENT, "import", "--help"), {}, False
    for line in out.splitlines():
        if line.startswith("types and their fields"):
            inside = True
        elif inside:
            m = re.match(r"^  ([a-z_]+) +(.*)$", line)
            if m:
                types[m.group(1)] = [f.strip().rstrip("*") for f in m.group(2).split(",")]
    if not types:
        fail("opspulse-agent import --help lists no types")
    return types


def render_man(path):
    r = subprocess.run(["groff", "-t", "-man", "-Tutf8", "-P-c", "-P-b", "-P-u",
                        SOURCE + "/" + path], capture_output=True, text=True, timeout=30)
    return r.stdout


def code_of_markdown(text):
    """Fenced code blocks and `code spans` of a Markdown text."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return blocks + spans


# A command line: at the start of a line (or after ;, &&, |, "$("), the
# program (perhaps behind sudo -u X or runuser -u X --), its options, then
# the command named, one space apart (a diagram's columns are not a
# command line).
INVOCATION = re.compile(r"(?:^|[;&|(]\s*)\s*(?:(?:sudo(?:\s+-u\s+\S+)?|runuser\s+-u\s+\S+\s+--)\s+)?"
                        r"(opspulse(?:-agent|-aggregator)?)"
                        r"((?: -c \S+| -v)*) ([a-z][a-z-]*)(?![\w.])", re.M)


def check_invocations(where, texts, known):
    for text in texts:
        for m in INVOCATION.finditer(text):
            prog, word = m.group(1), m.group(3)
            if word not in known[prog]:
                fail("%s names '%s %s', which is not a command of %s (its --help lists: %s)"
                     % (where, prog, word, prog, ", ".join(sorted(known[prog]))))


def check_readme(known, types):
    text = open(SOURCE + "/README.md").read()
    code = code_of_markdown(text)
    check_invocations("README.md", code, known)
    joined = "\n".join(code)
    for prog, names in known.items():
        for name in sorted(names):
            if not re.search(r"(?<![\w-])%s\s+(?:-\S+\s+\S+\s+)*%s(?![\w-])"
                             % (re.escape(prog), re.escape(name)), joined):
                fail("README.md does not show '%s %s'" % (prog, name))
    for t in types:
        if "`%s`" % t not in text:
            fail("README.md does not name the import type `%s`" % t)


def man_code(raw):
    """The parts of a manual page's source that show commands: the
    SYNOPSIS, the tags of its .TP lists and its .nf examples."""
    parts, lines = [], raw.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".TP") and i + 1 < len(lines):
            parts.append(lines[i + 1])
    parts += re.findall(r"\n\.nf\n(.*?)\n\.fi", raw, re.S)
    return [re.sub(r'\\f[BIRP]|\\-|^\.[A-Z]+ |"', lambda m: "-" if m.group(0) == "\\-" else "",
                   p, flags=re.M) for p in parts]


def check_man(prog, known, types):
    raw = open(SOURCE + "/" + MANS[prog]).read()
    text = render_man(MANS[prog])
    if not text.strip():
        fail("%s does not render with groff" % MANS[prog])
    for name in sorted(known[prog]):
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(name), text):
            fail("%s does not name the command %s" % (MANS[prog], name))
    # The command lists (.TP tags) name only commands of this program.
    if "\n.SH COMMANDS" in raw:
        section = raw.split("\n.SH COMMANDS", 1)[1].split("\n.SH ", 1)[0]
        for tag in re.findall(r"^\.TP\n(.*)$", section, re.M):
            word = re.sub(r"\\f[BIRP]|[\"\\]", "", re.sub(r"^\.[A-Z]+\s+", "", tag)).split()[0]
            if word.startswith("-"):
                continue  # a command's option list, nested in COMMANDS
            if word not in known[prog]:
                fail("%s lists '%s' under COMMANDS, which %s --help does not list"
                     % (MANS[prog], word, prog))
    check_invocations(MANS[prog], man_code(raw), known)
    if prog == "opspulse-agent":
        m = re.search(r"^\.TS\n[^\n]*\n(.*?)^\.TE", raw, re.S | re.M)
        check_import_table(MANS[prog], m.group(1).splitlines() if m else [], types)


def check_import_table(where, rows, types):
    """rows: 'type<TAB>field, field<TAB>...' (type empty: the one above)."""
    if not rows:
        fail("%s has no import table" % where)
        return
    seen, current = {}, None
    for row in rows:
        cells = [c.strip() for c in row.split("\t")]
        if len(cells) < 2 or cells[0] in ("type", "_"):
            continue
        current = cells[0].strip("`") or current
        if current not in types:
            fail("%s documents an import type '%s' that import --help does not list"
                 % (where, current))
            continue
        for f in re.split(r",\s*", cells[1]):
            f = f.strip("`* ")
            if f and f not in types[current]:
                fail("%s documents a field '%s' of %s that import --help does not list"
                     % (where, f, current))
            seen.setdefault(current, set()).add(f)
    for t, fields in types.items():
        missing = set(fields) - seen.get(t, set())
        if t not in seen:
            fail("%s does not document the import type %s" % (where, t))
        elif missing:
            fail("%s does not document the fields %s of %s" % (where, ", ".join(sorted(missing)), t))


def check_import_md(types):
    text = open(SOURCE + "/docs/IMPORT.md").read()
    m = re.search(r"^\| type \| field \| value \|\n\|[-| ]+\|\n(.*?)(?:\n\n|\Z)", text,
                  re.S | re.M)
    rows = []
    if m:
        # "| deploy | **`started_at`** | time |" -> "deploy<TAB>`started_at`<TAB>time"
        rows = ["\t".join(c.strip().replace("**", "") for c in r.strip().strip("|").split("|"))
                for r in m.group(1).splitlines()]
    check_import_table("docs/IMPORT.md", rows, types)


def check_first_day():
    """What a new operator needs from README and the manual pages: the
    packages to build with (scripts/lib/deps.sh's list), a CA and the
    aggregator's certificate, runuser where sudo is missing; a flush tag
    that renders on one line."""
    text = open(SOURCE + "/README.md").read()
    deps = open(SOURCE + "/scripts/lib/deps.sh").read()
    build = re.search(r'OPSPULSE_BUILD_DEPS="([^"]*)"', deps)
    if build is None:
        fail("scripts/lib/deps.sh has no OPSPULSE_BUILD_DEPS")
    code = "\n".join(code_of_markdown(text))
    for pkg in (build.group(1).split() if build else []):
        if not re.search(r"(?<![\w.-])%s(?![\w.-])" % re.escape(pkg), code):
            fail("README.md does not list the build dependency %s" % pkg)
    for what, pattern in (("a CA", r"openssl req -x509"),
                          ("the aggregator's certificate", r"extendedKeyUsage=serverAuth"),
                          ("runuser beside sudo -u", r"runuser -u \S+ --")):
        if not re.search(pattern, code):
            fail("README.md does not show %s (%s)" % (what, pattern))
    agent = render_man(MANS["opspulse-agent"])
    if not re.search(r"^ +flush \[--timeout S\]$", agent, re.M):
        fail("opspulse-agent(1) does not render the tag 'flush [--timeout S]' on one line")


def main():
    known = {p: commands(p) for p in PROGRAMS}
    types = import_types()
    check_first_day()
    check_readme(known, types)
    for prog in PROGRAMS:
        check_man(prog, known, types)
    check_import_md(types)
    for f in failures:
        print("FAIL: " + f)
    print("%d commands, %d import types checked; %d problems"
          % (sum(len(v) for v in known.values()), len(types), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
