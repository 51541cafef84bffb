"""A malformed, oversized or half-invalid message gets an error reply,
stores nothing, and the aggregator keeps serving (SPEC §3)."""
from harness import Cluster, check, check_eq, run


def test_bad_messages_rejected_and_nothing_stored():
    with Cluster("badmsg").start() as c:
        agg = c.aggregators[0]
        r = c.wire("garbage", "4096")
        check(r.startswith("error 1 "), "garbage gets a MALFORMED error reply: %r" % r)
        r = c.wire("garbage", "0")
        check(r.startswith("error "), "an empty message gets an error reply: %r" % r)
        r = c.wire("oversize", str(9 << 20))
        check(r.startswith("error 2 ") and "exceeds the limit" in r,
              "an oversized message gets an INVALID error reply: %r" % r[:200])
        r = c.wire("half-bad")
        check(r.startswith("error 2 ") and "event 1" in r and "service is missing" in r,
              "a batch with one bad event is refused with the event named: %r" % r)
        check_eq(c.scalar("SELECT count(*) FROM deploys"), "0",
                 "nothing of a refused batch is stored (not even its good event)")
        check(agg.alive(), "the aggregator is still running")

        # It still serves: a good batch, then a normal agent delivery.
        r = c.wire("good", "wire-ok")
        check_eq(r, "ack 1 0", "a good batch after the bad ones")
        r = c.wire("good", "wire-ok")
        check_eq(r, "ack 0 1", "the same batch again is a duplicate, stored once")
        c.agent("deploy", "record", "--service", "after", "--started", "10m",
                "--finished", "5m", "--outcome", "success")
        c.flush()
        rows = c.cli_json("dora", "--service", "after", "--service", "wire-ok")["rows"]
        check_eq([(x["service"], x["deploys"]) for x in rows], [("after", 1), ("wire-ok", 1)],
                 "deliveries after the bad messages")
        check("rejected a batch" in agg.output(), "the rejection is logged")


def test_limits_counted():
    """Each limit a message breaks gets a clear error naming it and is
    counted under its reason on /metrics."""
    with Cluster("limits").start() as c:
        def count(reason):
            return c.metrics().get('opspulse_requests_rejected_total{reason="%s"}' % reason, 0.0)
        cases = [
            ("message_too_large", ["oversize", str(9 << 20)], "error 2 ", "exceeds the limit"),
            ("malformed", ["garbage", "4096"], "error 1 ", "not an OpsPulse envelope"),
            ("batch_size", ["many", "10001"], "error 2 ", "10001 events; the limit is 10000"),
            ("string_length", ["long-task", "1025"], "error 2 ",
             "task is 1025 bytes long; the limit is 1024"),
            ("timestamp_range", ["future"], "error 2 ", "outside 2000-01-01 .. one day from now"),
            ("invalid_field", ["half-bad"], "error 2 ", "service is missing"),
        ]
        for reason, args, code, text in cases:
            before = count(reason)
            r = c.wire(*args)
            check(r.startswith(code) and text in r, "%s: %r" % (reason, r[:200]))
            check_eq(count(reason) - before, 1.0, "%s counted once" % reason)
        check_eq(c.wire("many", "10000"), "ack 1 9999", "a batch of exactly the limit is taken")
        check_eq(c.count("deploys"), 1, "only that batch stored (its 10000 copies are one deploy)")
        check(c.aggregators[0].alive(), "the aggregator is still running")


def test_cli_errors():
    with Cluster("clierr") as c:
        # No aggregator is running at the configured address: every
        # command says so, naming the address, and exits 2.
        cycles = c.write("cycles.json", '[{"cycle": "1", "eol": false}]')
        for args in (["dora"], ["toil"], ["toil", "--by", "task"], ["toil", "--by", "team"],
                     ["alerts"], ["alerts", "--by", "rule"], ["eol"], ["maintenance"],
                     ["capacity"], ["batches"], ["scorecard"], ["services"], ["agents"],
                     ["eol", "import", "x", cycles]):
            r = c.cli(*args, check_rc=False)
            what = " ".join(args)
            check_eq(r.returncode, 2, "%s: exit status when the aggregator is unreachable" % what)
            check(c.addresses[0] in r.stderr, "%s: the message names the address: %r"
                  % (what, r.stderr))
            check_eq(len(r.stderr.splitlines()), 1, "%s: one line" % what)
            check_eq(r.stdout, "", "%s: nothing on stdout" % what)
        r = c.cli("agents", "--server", "tcp://127.0.0.1:1", check_rc=False)
        check_eq(r.returncode, 2, "--server overrides the configured address")
        check("tcp://127.0.0.1:1" in r.stderr, "names the --server address: %r" % r.stderr)
        r = c.cli("dora", "--since", "yesterday-ish", check_rc=False)
        check_eq(r.returncode, 1, "exit status for a bad time")
        check("--since" in r.stderr, "the message names the option: %r" % r.stderr)
        r = c.cli("dora", "--since", "1d", "--until", "2d", check_rc=False)
        check_eq(r.returncode, 1, "exit status for an empty window")
        r = c.cli("nonsense", check_rc=False)
        check_eq(r.returncode, 1, "exit status for an unknown command")


if __name__ == "__main__":
    run([test_bad_messages_rejected_and_nothing_stored, test_limits_counted, test_cli_errors])
