"""starling-bench against the real broker: its scenarios run to the end, its
counts add up, and its exit status tells failures apart (docs/BENCHMARKS.md
relies on all three). Short runs only; rates are not checked here.

The bench binary sits next to the broker's (STARLING_BENCH, set by CMake), built
with the same sanitizers, so its stderr is checked for their reports too.
"""
import json
import os
import selectors
import socket
import subprocess
import threading

from conftest import _SANITIZER_RE, SLOW, STARLING_BIN

BENCH_BIN = os.environ.get("STARLING_BENCH",
                           os.path.join(os.path.dirname(STARLING_BIN), "starling-bench"))


def bench(*args, timeout=60):
    """Runs starling-bench with args; returns (exit status, parsed --json output
    or None, stderr)."""
    p = subprocess.run([BENCH_BIN, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout * SLOW)
    assert not _SANITIZER_RE.search(p.stderr), p.stderr
    out = json.loads(p.stdout) if "--json" in args and p.stdout.strip() else None
    return p.returncode, out, p.stderr


def test_pubsub_counts_every_message(broker):
    """QoS 0, 1 and 2, 2 publishers x 2 subscribers on bench/#: every subscriber
    gets every publisher's messages, once each, in order, and the bench says ok."""
    for qos in (0, 1, 2):
        rc, r, err = bench("pubsub", "-p", broker.port, "-q", qos, "-P", 2, "-S", 2,
                           "-n", 500, "--json", "--pid", broker.proc.pid)
        assert rc == 0, (qos, err, r)
        assert r["ok"] and r["failure"] == ""
        assert (r["published"], r["expected"]) == (1000, 2000)
        assert (r["delivered"], r["unique"]) == (2000, 2000)
        assert r["lost"] == (0 if qos else None)  # QoS 0 may lose: not counted as loss
        assert (r["duplicates"], r["reordered"], r["foreign"]) == (0, 0, 0)
        assert r["latency_us"]["samples"] == 2000
        assert r["broker_pid"] == broker.proc.pid and r["broker_rss_kb_end"] > 0
        if qos:
            assert r["acked"] == 1000


def test_pubsub_mqtt5(broker):
    """-V 5: the same flows over MQTT 5.0 (the bench obeys the CONNACK's limits)."""
    rc, r, err = bench("pubsub", "-p", broker.port, "-V", 5, "-q", 2, "-n", 300, "--json")
    assert rc == 0, err
    assert (r["mqtt_version"], r["delivered"], r["lost"], r["duplicates"]) == (5, 300, 0, 0)


def test_pubsub_reports_loss(broker_factory):
    """A subscriber allowed one message in flight and one queued loses most of a
    burst of QoS 1 messages (the broker drops what does not fit): the bench counts
    the loss and exits 1."""
    b = broker_factory(config="max_inflight_messages 1\nmax_queued_messages 1\n")
    rc, r, err = bench("pubsub", "-p", b.port, "-q", 1, "-n", 3000, "--drain", 1, "--json")
    assert rc == 1, err
    assert not r["ok"]
    assert r["lost"] > 0 and r["delivered"] + r["lost"] == r["expected"] == 3000
    assert r["failure"] == f"{r['lost']} lost"


def test_pubsub_shared_group(broker):
    """Four subscribers on '$share/g/bench/#' are one group: each message is
    expected once for the group, the broker gives it to one member, and the bench
    counts no loss and no duplicate at QoS 0, 1 and 2."""
    for qos in (0, 1, 2):
        rc, r, err = bench("pubsub", "-p", broker.port, "-q", qos, "-P", 2, "-S", 4,
                           "-T", "$share/g/bench/#", "-n", 500, "--json")
        assert rc == 0, (qos, err, r)
        assert r["pairs"] == 2  # (group, publisher), not (member, publisher)
        assert (r["published"], r["expected"], r["delivered"], r["unique"]) == \
            (1000, 1000, 1000, 1000), (qos, r)
        assert (r["duplicates"], r["reordered"]) == (0, 0), (qos, r)


def test_pubsub_groups_and_plain_subscribers(broker):
    """'$share/g%i/bench/#' makes every subscriber its own group, so each gets
    every message; groups and plain filters add up the same way."""
    rc, r, err = bench("pubsub", "-p", broker.port, "-q", 1, "-P", 2, "-S", 3,
                       "-T", "$share/g%i/bench/#", "-n", 300, "--json")
    assert rc == 0, err
    assert (r["pairs"], r["expected"], r["unique"]) == (6, 1800, 1800), r


class FanOutEveryone:
    """A stand-in broker that ignores '$share': it sends every QoS 0 PUBLISH to
    every subscriber, as a broker without shared subscriptions would. The bench
    must see each message reach the group twice."""

    def __init__(self):
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.subscribers = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _packets(self, buf):
        """Complete packets at the front of buf: (type, body, raw), and the rest."""
        out = []
        while len(buf) >= 2:
            n, mul, i = 0, 1, 1
            while i < len(buf) and buf[i] & 0x80:
                n += (buf[i] & 0x7F) * mul
                mul *= 128
                i += 1
            if i >= len(buf):
                break
            n += buf[i] * mul
            end = i + 1 + n
            if len(buf) < end:
                break
            out.append((buf[0] >> 4, buf[i + 1:end], buf[:end]))
            buf = buf[end:]
        return out, buf

    def _handle(self, conn, ptype, body, raw):
        if ptype == 1:  # CONNECT
            conn.sendall(b"\x20\x02\x00\x00")
        elif ptype == 8:  # SUBSCRIBE: grant QoS 0 to its one filter
            conn.sendall(b"\x90\x03" + body[:2] + b"\x00")
            self.subscribers.append(conn)
        elif ptype == 3:  # PUBLISH, QoS 0: to everyone
            for s in list(self.subscribers):
                try:
                    s.sendall(raw)
                except OSError:  # gone; its own read will close it
                    self.subscribers.remove(s)
        elif ptype == 12:  # PINGREQ
            conn.sendall(b"\xd0\x00")

    def _run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.lsock, selectors.EVENT_READ)
        bufs = {}
        while not self.stopping:
            for key, _ in sel.select(0.1):
                if key.fileobj is self.lsock:
                    conn, _ = self.lsock.accept()
                    conn.setblocking(True)
                    bufs[conn] = b""
                    sel.register(conn, selectors.EVENT_READ)
                    continue
                conn = key.fileobj
                try:
                    data = conn.recv(65536)
                    packets, bufs[conn] = self._packets(bufs[conn] + data)
                    for ptype, body, raw in packets:
                        self._handle(conn, ptype, body, raw)
                except OSError:  # the bench closed a socket we wrote to
                    data = b""
                if not data:
                    sel.unregister(conn)
                    if conn in self.subscribers:
                        self.subscribers.remove(conn)
                    conn.close()
        sel.close()

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.lsock.close()


def test_pubsub_shared_group_counts_duplicates():
    """Against a broker that gives a shared message to both members of the
    group, the bench counts every second copy as a duplicate: the group, not the
    member, decides what is new."""
    fake = FanOutEveryone()
    try:
        rc, r, err = bench("pubsub", "-p", fake.port, "-q", 0, "-P", 1, "-S", 2,
                           "-T", "$share/g/bench/#", "-n", 200, "--threads", 1,
                           "--drain", 2, "--json")
    finally:
        fake.stop()
    assert rc == 0, err  # QoS 0 duplicates are reported, not a failure
    assert (r["expected"], r["unique"]) == (200, 200), r
    assert r["duplicates"] > 0 and r["delivered"] == r["unique"] + r["duplicates"], r


def test_conn_opens_and_holds(broker):
    """conn: 300 connections, 8 handshakes in flight per thread, held briefly; all
    are ready, none failed, and the broker's memory is sampled."""
    rc, r, err = bench("conn", "-p", broker.port, "-c", 300, "--max-pending", 8, "-d", 0.2,
                       "--json", "--pid", broker.proc.pid)
    assert rc == 0, err
    assert (r["connected"], r["failed"], r["lost_during_hold"]) == (300, 0, 0), r
    assert r["connect_rate"] > 0 and r["connect_latency_us"]["samples"] == 300
    assert r["broker_rss_kb_connected"] > 0 and r["broker_bytes_per_connection"] > 0


def test_no_broker_is_a_failure(broker):
    """Nothing listening: exit 1 with the reason, not a report of zero messages."""
    port = broker.port
    broker.stop()
    rc, _, err = bench("pubsub", "-p", port, "-n", 10)
    assert rc == 1
    assert "Connection refused" in err


def test_bad_arguments(broker):
    """Bad arguments exit 2 with a pointer to --help; a host outside loopback is
    refused, as the bench only ever talks to 127.0.0.0/8."""
    for args in (("pubsub", "--bogus"), ("pubsub", "-q", 3), ("conn", "-h", "10.0.0.1"),
                 ("nonsense",)):
        rc, _, err = bench(*args)
        assert rc == 2, (args, err)
        assert "starling-bench --help" in err, (args, err)
