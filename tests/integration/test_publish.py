"""PUBLISH and the QoS 0/1/2 flows in both directions (MQTT 3.1.1 §3.3-3.7, §4.3, §4.6)."""
import pytest

import mqtt_raw as mq
from mqtt_raw import connected


def test_qos0_delivered(broker):
    """QoS 0: delivered with QoS 0, DUP 0, no packet id [MQTT-4.3.1-1] [MQTT-3.3.1-2],
    and retain 0 on a live delivery [MQTT-3.3.1-9]."""
    sub = connected(broker, "q0-sub")
    assert sub.subscribe([("p/q0", 2)]) == [2]
    pub = connected(broker, "q0-pub")
    pub.publish("p/q0", b"hello", qos=0)
    m = sub.recv_publish()
    assert (m.topic, m.payload, m.qos, m.dup, m.retain, m.pid) == \
        ("p/q0", b"hello", 0, False, False, None)
    assert m.raw == b"\x30\x0b\x00\x04p/q0hello"


def test_qos1_puback(broker):
    """QoS 1 PUBLISH -> PUBACK `40 02 pid` with the same packet id [MQTT-4.3.2-2]
    [MQTT-3.4.0-1]."""
    c = connected(broker, "q1")
    for pid in (1, 0x1234, 0xFFFF):
        c.send(mq.publish("p/q1", b"x", qos=1, pid=pid))
        p = c.recv_packet()
        assert p.raw == b"\x40\x02" + mq.u16(pid), f"got {p!r}"


def test_qos2_flow(broker):
    """QoS 2: PUBLISH -> PUBREC (`50 02 pid`), PUBREL (first byte 0x62) -> PUBCOMP
    (`70 02 pid`) [MQTT-4.3.3-2] [MQTT-3.6.1-1]."""
    sub = connected(broker, "q2-sub")
    assert sub.subscribe([("p/q2", 2)]) == [2]
    c = connected(broker, "q2")
    c.send(mq.publish("p/q2", b"exactly", qos=2, pid=0x0102))
    assert c.recv_packet().raw == b"\x50\x02\x01\x02"
    c.send(b"\x62\x02\x01\x02")
    assert c.recv_packet().raw == b"\x70\x02\x01\x02"
    m = sub.recv_publish()
    assert (m.payload, m.qos) == (b"exactly", 2)
    sub.expect_no_publish(0.2)


def test_qos2_duplicate_before_pubrel_delivered_once(broker):
    """A QoS 2 PUBLISH re-sent with DUP before PUBREL is answered with PUBREC again
    and delivered to subscribers exactly once [MQTT-4.3.3-2] (§4.3.3 method: the
    packet id is still in use until PUBREL)."""
    sub = connected(broker, "dup-sub")
    assert sub.subscribe([("p/dup", 2)]) == [2]
    c = connected(broker, "dup-pub")
    c.send(mq.publish("p/dup", b"once", qos=2, pid=7))
    assert c.recv_packet().raw == b"\x50\x02\x00\x07"
    c.send(mq.publish("p/dup", b"once", qos=2, pid=7, dup=True))
    assert c.recv_packet().raw == b"\x50\x02\x00\x07"
    c.send(mq.pubrel(7))
    assert c.recv_packet().raw == b"\x70\x02\x00\x07"
    got = sub.collect(quiet=0.4)
    assert [m.payload for m in got] == [b"once"], got


def test_qos2_several_duplicates_before_pubrel(broker):
    """The sender may re-send the QoS 2 PUBLISH more than once before it gets the
    PUBREC (§4.3.3, §4.4): each copy is answered with PUBREC, one delivery.
    (Mosquitto 2.0.11 disconnects on the second duplicate; the spec allows it.)"""
    sub = connected(broker, "dup3-sub")
    assert sub.subscribe([("p/dup3", 2)]) == [2]
    c = connected(broker, "dup3-pub")
    c.send(mq.publish("p/dup3", b"once", qos=2, pid=8))
    for _ in range(3):
        c.send(mq.publish("p/dup3", b"once", qos=2, pid=8, dup=True))
    for _ in range(4):
        assert c.recv_packet().raw == b"\x50\x02\x00\x08"
    c.send(mq.pubrel(8))
    assert c.recv_packet().raw == b"\x70\x02\x00\x08"
    got = sub.collect(quiet=0.4)
    assert [m.payload for m in got] == [b"once"], got


def test_pubrel_unknown_pid(broker):
    """PUBREL for a packet id with no QoS 2 state -> PUBCOMP with that id
    [MQTT-4.3.3-2]; nothing is delivered."""
    sub = connected(broker, "rel-sub")
    assert sub.subscribe("#") == [0]
    c = connected(broker, "rel")
    c.send(mq.pubrel(0x4242))
    assert c.recv_packet().raw == b"\x70\x02\x42\x42"
    # And PUBREL twice for a completed flow: PUBCOMP again, no second delivery.
    c.publish("p/rel", b"one", qos=2, pid=9)
    c.send(mq.pubrel(9))
    assert c.recv_packet().raw == b"\x70\x02\x00\x09"
    assert [m.payload for m in sub.collect(quiet=0.3)] == [b"one"]


def test_delivered_qos_is_minimum(broker):
    """Delivered QoS = min(published QoS, granted QoS), for all nine combinations
    [MQTT-3.8.4-6] (§3.8.4, §4.3)."""
    subs = {}
    for g in (0, 1, 2):
        s = connected(broker, f"min-sub{g}")
        assert s.subscribe([("p/min", g)]) == [g]
        subs[g] = s
    pub = connected(broker, "min-pub")
    for q in (0, 1, 2):
        pub.publish("p/min", f"q{q}".encode(), qos=q)
    for g, s in subs.items():
        got = {m.payload: m for m in s.recv_publishes(3)}
        assert set(got) == {b"q0", b"q1", b"q2"}, (g, got)
        for q in (0, 1, 2):
            m = got[f"q{q}".encode()]
            assert m.qos == min(q, g), f"published {q}, granted {g}: delivered {m.qos}"
            assert (m.pid is None) == (m.qos == 0)
            if m.qos:
                assert m.pid != 0, "packet id 0 [MQTT-2.3.1-1]"
        s.expect_no_publish(0.1)


def test_subscriber_qos1_flow(broker):
    """QoS 1 to a subscriber: non-zero packet id, DUP 0 on first delivery; after the
    subscriber's PUBACK nothing is resent."""
    sub = connected(broker, "s1-sub", auto_ack=False)
    assert sub.subscribe([("p/s1", 1)]) == [1]
    pub = connected(broker, "s1-pub")
    pub.publish("p/s1", b"a", qos=1)
    m = sub.recv_publish(ack=False)
    assert m.qos == 1 and m.pid and not m.dup and not m.retain
    sub.send(mq.puback(m.pid))
    pub.publish("p/s1", b"b", qos=1)
    m2 = sub.recv_publish(ack=False)
    assert m2.payload == b"b" and m2.pid and not m2.dup
    sub.send(mq.puback(m2.pid))
    sub.expect_no_publish(0.3)


def test_subscriber_qos2_flow(broker):
    """QoS 2 to a subscriber: broker PUBLISH (pid != 0, DUP 0), subscriber PUBREC,
    broker PUBREL `62 02 pid`, subscriber PUBCOMP; completed flows free the inflight
    slots (25 more messages, more than the default window of 20, all arrive)."""
    sub = connected(broker, "s2-sub", auto_ack=False)
    assert sub.subscribe([("p/s2", 2)]) == [2]
    pub = connected(broker, "s2-pub")
    pub.publish("p/s2", b"first", qos=2)
    m = sub.recv_publish(ack=False)
    assert (m.qos, m.dup, m.payload) == (2, False, b"first") and m.pid
    sub.send(mq.pubrec(m.pid))
    rel = sub.recv_packet()
    assert rel.raw == b"\x62\x02" + mq.u16(m.pid), f"got {rel!r}"
    sub.send(mq.pubcomp(m.pid))
    sub.expect_no_publish(0.2)
    for i in range(25):
        pub.publish("p/s2", b"%d" % i, qos=2)
    got = [sub.recv_publish(ack=True).payload for _ in range(25)]
    assert got == [b"%d" % i for i in range(25)]


def test_inflight_window(broker_factory):
    """`max_inflight_messages 2`: a QoS 1 subscriber that does not ack gets 2 of 5
    messages; each PUBACK releases the next one, in order (§4.6)."""
    b = broker_factory(config="max_inflight_messages 2\n", threads=2)
    sub = connected(b, "win-sub", auto_ack=False)
    assert sub.subscribe([("p/win", 1)]) == [1]
    pub = connected(b, "win-pub")
    for i in range(1, 6):
        pub.publish("p/win", b"m%d" % i, qos=1)
    first = sub.recv_publishes(2, ack=False)
    assert [m.payload for m in first] == [b"m1", b"m2"]
    sub.expect_no_publish(0.4)
    pending = first
    seen = [m.payload for m in first]
    while len(seen) < 5:
        sub.send(mq.puback(pending.pop(0).pid))
        m = sub.recv_publish(ack=False)
        pending.append(m)
        seen.append(m.payload)
        sub.expect_no_publish(0.1)
    assert seen == [b"m%d" % i for i in range(1, 6)]
    for m in pending:
        sub.send(mq.puback(m.pid))
    sub.expect_no_publish(0.2)


def test_in_order_qos1(broker):
    """200 QoS 1 messages from one publisher reach a subscriber in order
    [MQTT-4.6.0-6]; every PUBLISH is acknowledged exactly once."""
    sub = connected(broker, "ord-sub")
    assert sub.subscribe([("p/ord", 1)]) == [1]
    pub = connected(broker, "ord-pub")
    n = 200
    data = b"".join(mq.publish("p/ord", b"%05d" % i, qos=1, pid=i + 1) for i in range(n))
    pub.send(data)
    got = [sub.recv_publish().payload for _ in range(n)]
    assert got == [b"%05d" % i for i in range(n)]
    acks = sorted(pub.expect(mq.PUBACK).pid for _ in range(n))
    assert acks == list(range(1, n + 1))
    sub.expect_no_publish(0.2)


def test_in_order_qos0_and_qos2(broker):
    """Ordered topic for QoS 0 and QoS 2 streams too [MQTT-4.6.0-6]."""
    s0 = connected(broker, "ord0-sub")
    assert s0.subscribe([("p/ord0", 0)]) == [0]
    s2 = connected(broker, "ord2-sub")
    assert s2.subscribe([("p/ord2", 2)]) == [2]
    pub = connected(broker, "ord02-pub")
    pub.send(b"".join(mq.publish("p/ord0", b"%d" % i) for i in range(100)))
    for i in range(50):
        pub.publish("p/ord2", b"%d" % i, qos=2)
    assert [m.payload for m in s0.recv_publishes(100)] == [b"%d" % i for i in range(100)]
    assert [m.payload for m in s2.recv_publishes(50)] == [b"%d" % i for i in range(50)]


def test_publisher_pid_reuse(broker):
    """A packet id is free again once its flow completed [MQTT-2.3.1-3]: reusing it
    for QoS 1 and QoS 2 delivers each new message."""
    sub = connected(broker, "reuse-sub")
    assert sub.subscribe([("p/reuse", 2)]) == [2]
    pub = connected(broker, "reuse-pub")
    pub.publish("p/reuse", b"a", qos=1, pid=1)
    pub.publish("p/reuse", b"b", qos=1, pid=1)
    pub.publish("p/reuse", b"c", qos=2, pid=1)
    pub.publish("p/reuse", b"d", qos=2, pid=1)
    pub.publish("p/reuse", b"e", qos=1, pid=1)
    got = [m.payload for m in sub.recv_publishes(5)]
    assert got == [b"a", b"b", b"c", b"d", b"e"]
    sub.expect_no_publish(0.2)


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16383, 16384, 100 * 1024, 2 * 1024 * 1024 + 3])
def test_payload_sizes(broker, size):
    """Payloads of 0 bytes up to several MB are delivered intact; remaining-length
    boundaries of 1, 2, 3 and 4 bytes (§2.2.3)."""
    payload = bytes((i * 7 + size) & 0xFF for i in range(size))
    sub = connected(broker, "size-sub")
    assert sub.subscribe([("p/size", 1)]) == [1]
    pub = connected(broker, "size-pub")
    pub.publish("p/size", payload, qos=1, timeout=10)
    m = sub.recv_publish(timeout=10)
    assert m.topic == "p/size" and len(m.payload) == size and m.payload == payload


def test_publish_to_self(broker):
    """A client that subscribes to its own topic receives its own messages (no
    local-exclusion in 3.1.1)."""
    c = connected(broker, "self")
    assert c.subscribe([("p/self", 1)]) == [1]
    c.publish("p/self", b"echo", qos=1)
    assert c.recv_publish().payload == b"echo"


def test_topic_utf8_delivered_exactly(broker):
    """Topic names are UTF-8 and are compared byte for byte; a multi-byte topic is
    delivered unchanged (§1.5.3, §4.7.3)."""
    topic = "p/ünïcødé/日本/\U0001F600"
    sub = connected(broker, "utf-sub")
    assert sub.subscribe([(topic, 0), ("p/+/日本/#", 0)]) == [0, 0]
    pub = connected(broker, "utf-pub")
    pub.publish(topic, b"u")
    ms = sub.collect(quiet=0.3)
    assert len(ms) >= 1 and all(m.topic == topic for m in ms)


def test_long_topic_and_many_levels(broker):
    """Topic names up to the 65535-byte string limit (§1.5.3) and with many levels
    are routed: a 60000-byte topic to an exact subscriber, a 150-level topic to `#`
    and to an exact filter."""
    long_topic = "big/" + "x" * 60000
    deep = "/".join(["d"] * 150)
    sub = connected(broker, "long-sub")
    assert sub.subscribe([(long_topic, 1), (deep, 1)]) == [1, 1]
    wild = connected(broker, "long-wild")
    assert wild.subscribe([("d/#", 0)]) == [0]
    pub = connected(broker, "long-pub")
    pub.publish(long_topic, b"L", qos=1)
    pub.publish(deep, b"D", qos=1)
    got = {m.payload: m.topic for m in sub.recv_publishes(2)}
    assert got == {b"L": long_topic, b"D": deep}
    assert [(m.topic, m.payload) for m in wild.recv_publishes(1)] == [(deep, b"D")]
