"""Several aggregators on one database: failover and back; and a flood of
bad connections that must not disturb a healthy agent (SPEC §3)."""
import os
import random
import socket
import threading
import time

from harness import Cluster, check, check_eq, run, wait_for


def state(c):
    with open(os.path.join(c.spool, "state")) as f:
        return f.read()


def test_failover_and_back():
    n = 20000
    with Cluster("failover", n_aggregators=2) as c:
        c.write_agent_conf(sender="timeout_ms = 2000; failback_ms = 2000;")
        c.start_aggregator(0)
        c.start_aggregator(1, migrate=False)
        c.start_agent()
        t = threading.Thread(target=c.fill, args=(n, "fo"))
        t.start()
        wait_for(lambda: c.count("toil") > 1000, 120, "delivery to the first aggregator")
        c.aggregators[0].kill9()
        t.join()
        # A fast sender may have delivered everything before the kill:
        # these events can only reach the second aggregator.
        c.fill(100, "fo-after", first=n)
        c.flush(timeout=300)
        check_eq(c.count("toil", "service = 'fo'"), n, "nothing lost across the failover")
        check_eq(c.count("toil", "service = 'fo-after'"), 100, "events after the failover")
        check_eq(int(c.scalar("SELECT count(DISTINCT task) FROM toil")), n + 100,
                 "nothing doubled")
        check(c.addresses[1] in state(c), "the agent is on the second aggregator: " + state(c))
        # The first comes back: the agent returns to it.
        c.start_aggregator(0, migrate=False)
        deadline = time.time() + 60
        k = 0
        while c.addresses[0] not in state(c) and time.time() < deadline:
            c.fill(10, "fo-back", first=k)
            c.flush()
            k += 10
        check(c.addresses[0] in state(c), "the agent failed back: " + state(c))
        check_eq(c.count("toil", "service = 'fo-back'"), k, "events across the failback")


def flood(port, stop, counts):
    rnd = random.Random(7)
    while not stop.is_set():
        kind = counts["n"] % 4
        counts["n"] += 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            if kind == 1:
                s.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 4096))))
            elif kind == 2:
                s.sendall(b"\x00SP\x00")           # half an SP handshake
            elif kind == 3:
                s.sendall(b"\x00SP\x00\x00\x31\x00\x00" + b"\xff" * 64)  # bogus frame
            if kind != 0:
                time.sleep(0.01)
            s.close()
        except OSError:
            counts["errors"] += 1


def test_bad_connection_flood():
    n = 20000
    with Cluster("flood").start() as c:
        stop = threading.Event()
        counts = {"n": 0, "errors": 0}
        idle = [socket.create_connection(("127.0.0.1", c.ports[0])) for _ in range(50)]
        floods = [threading.Thread(target=flood, args=(c.ports[0], stop, counts)) for _ in range(4)]
        for f in floods:
            f.start()
        try:
            # The flood is under way before the healthy stream starts: a
            # fast sender would otherwise be done before it got going.
            wait_for(lambda: counts["n"] > 200, 60, "the flood to start")
            c.fill(n, "healthy")
            c.flush(timeout=300)
        finally:
            stop.set()
            for f in floods:
                f.join()
            for s in idle:
                s.close()
        check(counts["n"] > 200, "the flood ran (%d connections)" % counts["n"])
        check_eq(c.count("toil", "service = 'healthy'"), n, "the healthy stream completed")
        check(c.aggregators[0].alive(), "the aggregator survived the flood")


if __name__ == "__main__":
    run([test_failover_and_back, test_bad_connection_flood])
