"""starling-bench against the real broker: its scenarios run to the end, its
counts add up, and its exit status tells failures apart (docs/BENCHMARKS.md
relies on all three). Short runs only; rates are not checked here.

The bench binary sits next to the broker's (STARLING_BENCH, set by CMake), built
with the same sanitizers, so its stderr is checked for their reports too.
"""
import json
import os
import subprocess

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
