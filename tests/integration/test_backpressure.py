"""Back-pressure: a QoS 1/2 publisher is slowed to a slow subscriber's pace
(its PUBACK/PUBREC is held while the subscriber's queue is above half of
max_queued_messages) instead of the broker acknowledging messages and then
dropping them at the queue limit. A subscriber that stops acknowledging
altogether does not stall publishers: after 500 ms without progress its queue
limit applies again, and no ack is held longer than 2 s."""
import threading
import time

from conftest import SLOW
from mqtt_raw import (PUBACK, PUBCOMP, PUBLISH, PUBREC, Client, decode_publish, puback, publish,
                      pubrec, pubrel)

CONFIG = "max_queued_messages 100\nmax_inflight_messages 5\n"


def windowed_publisher(c, topic, n, qos, window, errors):
    """Publishes n messages keeping at most `window` unacknowledged."""
    try:
        acked = 0
        sent = 0
        while acked < n:
            while sent < n and sent - acked < window:
                pid = sent % 60000 + 1
                c.send(publish(topic, b"%08d" % sent, qos=qos, pid=pid))
                sent += 1
            if qos == 1:
                c.expect(PUBACK, timeout=10)
            else:
                p = c.expect(PUBREC, timeout=10)
                c.send(pubrel(p.pid))
                c.expect(PUBCOMP, timeout=10)
            acked += 1
    except Exception as e:  # reported by the test thread
        errors.append(e)


def slow_subscriber(s, n, per_msg_delay):
    """Receives until n messages or a 5 s silence; acks each after a delay."""
    got = []
    while len(got) < n:
        try:
            p = s.recv_packet(timeout=5)
        except AssertionError:
            break
        if p.type != PUBLISH:
            continue
        m = decode_publish(p)
        got.append(int(m.payload))
        time.sleep(per_msg_delay)
        if m.qos == 1:
            s.send(puback(m.pid))
        elif m.qos == 2:
            s.send(pubrec(m.pid))  # the PUBREL that follows is answered by auto_ack
    return got


def run_case(broker, qos):
    sub = Client(broker, "slow", auto_ack=True)
    sub.connect_ok("slow")
    sub.subscribe([("bp/#", qos)])
    pub = Client(broker, "fast")
    pub.connect_ok("fast")
    n = 1500
    errors = []
    t = threading.Thread(target=windowed_publisher, args=(pub, "bp/x", n, qos, 20, errors))
    t.start()
    got = slow_subscriber(sub, n, 0.0005)
    t.join(60 * SLOW)
    assert not t.is_alive(), "publisher still waiting for acks after 60 s"
    assert not errors, errors
    assert len(got) == n, f"received {len(got)} of {n}: acknowledged messages were dropped"
    assert got == sorted(got) == list(range(n))
    assert "dropped" not in broker.log()


def test_slow_subscriber_qos1_loses_nothing(broker_factory):
    run_case(broker_factory(config=CONFIG, threads=2), 1)


def test_slow_subscriber_qos2_loses_nothing(broker_factory):
    run_case(broker_factory(config=CONFIG, threads=2), 2)


def test_stuck_subscriber_does_not_stall_publisher(broker_factory):
    """The subscriber never acks: after its window (5) and queue (100) fill, the
    publisher must still get every PUBACK within about the stall time."""
    b = broker_factory(config=CONFIG + "log_type all\n", threads=2)
    sub = Client(b, "stuck", auto_ack=False)
    sub.connect_ok("stuck")
    sub.subscribe([("st/#", 1)])
    pub = Client(b, "pub")
    pub.connect_ok("pub")
    start = time.monotonic()
    errors = []
    windowed_publisher(pub, "st/x", 300, 1, 10, errors)
    elapsed = time.monotonic() - start
    assert not errors, errors
    assert elapsed < 6 * SLOW, f"publisher stalled for {elapsed:.1f}s"
    sub.close()
