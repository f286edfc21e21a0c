"""Retained messages (MQTT 3.1.1 §3.3.1.3)."""
import mqtt_raw as mq
from mqtt_raw import connected


def test_retained_to_new_subscriber(broker):
    """A retained message is stored and sent to a later subscriber with RETAIN 1
    [MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8]."""
    pub = connected(broker, "ret-pub")
    pub.publish("r/a", b"kept", qos=1, retain=True)
    sub = connected(broker, "ret-sub")
    assert sub.subscribe([("r/a", 1)]) == [1]
    m = sub.recv_publish()
    assert (m.topic, m.payload, m.retain, m.qos, m.dup) == ("r/a", b"kept", True, 1, False)
    sub.expect_no_publish(0.2)


def test_live_delivery_retain_flag_zero(broker):
    """A retained PUBLISH forwarded to an existing subscriber has RETAIN 0
    [MQTT-3.3.1-9]; so does a normal message."""
    sub = connected(broker, "live-sub")
    assert sub.subscribe([("r/live", 2)]) == [2]
    pub = connected(broker, "live-pub")
    pub.publish("r/live", b"r", qos=1, retain=True)
    pub.publish("r/live", b"n", qos=1, retain=False)
    got = sub.recv_publishes(2)
    assert [(m.payload, m.retain) for m in got] == [(b"r", False), (b"n", False)]


def test_newer_retained_replaces(broker):
    """A new retained message replaces the previous one for the topic
    [MQTT-3.3.1-5]; a non-retained publish does not touch it [MQTT-3.3.1-12]."""
    pub = connected(broker, "repl-pub")
    pub.publish("r/repl", b"old", qos=1, retain=True)
    pub.publish("r/repl", b"new", qos=1, retain=True)
    pub.publish("r/repl", b"not-retained", qos=1, retain=False)
    sub = connected(broker, "repl-sub")
    assert sub.subscribe([("r/repl", 0)]) == [0]
    got = sub.collect(quiet=0.3)
    assert [(m.payload, m.retain) for m in got] == [(b"new", True)]


def test_empty_retained_deletes(broker):
    """A zero-byte retained PUBLISH removes the retained message [MQTT-3.3.1-10];
    it is forwarded live like a normal message but not stored [MQTT-3.3.1-11]."""
    pub = connected(broker, "del-pub")
    pub.publish("r/del", b"x", qos=1, retain=True)
    live = connected(broker, "del-live")
    assert live.subscribe([("r/del", 1)]) == [1]
    assert live.recv_publish().retain
    pub.publish("r/del", b"", qos=1, retain=True)
    m = live.recv_publish()
    assert (m.payload, m.retain) == (b"", False)
    later = connected(broker, "del-later")
    assert later.subscribe([("r/#", 1)]) == [1]
    later.expect_no_publish(0.3)


def test_retained_qos_is_minimum(broker):
    """Retained messages are sent at min(stored QoS, granted QoS)."""
    pub = connected(broker, "rq-pub")
    pub.publish("rq/1", b"one", qos=1, retain=True)
    pub.publish("rq/2", b"two", qos=2, retain=True)
    pub.publish("rq/0", b"zero", qos=0, retain=True)
    pub.ping()
    for granted in (0, 1, 2):
        sub = connected(broker, f"rq-sub{granted}")
        assert sub.subscribe([("rq/+", granted)]) == [granted]
        got = {m.payload: m for m in sub.recv_publishes(3)}
        for stored, payload in ((0, b"zero"), (1, b"one"), (2, b"two")):
            m = got[payload]
            assert m.retain and m.qos == min(stored, granted), (stored, granted, m)
        sub.expect_no_publish(0.1)


def test_retained_via_wildcards(broker):
    """A wildcard subscription receives every matching retained message, each with
    RETAIN 1; non-matching ones are not sent."""
    pub = connected(broker, "rw-pub")
    for t in ("w/a", "w/b", "w/c/d", "w", "x/a"):
        pub.publish(t, t.encode(), qos=1, retain=True)
    s1 = connected(broker, "rw-hash")
    assert s1.subscribe([("w/#", 0)]) == [0]
    got = s1.collect(quiet=0.3)
    assert sorted(m.topic for m in got) == ["w", "w/a", "w/b", "w/c/d"]
    assert all(m.retain and m.payload == m.topic.encode() for m in got)
    s2 = connected(broker, "rw-plus")
    assert s2.subscribe([("+/a", 0), ("w/+/d", 0)]) == [0, 0]
    assert sorted(m.topic for m in s2.collect(quiet=0.3)) == ["w/a", "w/c/d", "x/a"]


def test_retained_dollar_topic_not_for_hash(broker):
    """A retained `$test/r` is not sent to a `#` or `+/r` subscriber [MQTT-4.7.2-1],
    but is sent to `$test/#`."""
    pub = connected(broker, "rd-pub")
    pub.publish("$test/r", b"dollar", qos=1, retain=True)
    pub.publish("plain/r", b"plain", qos=1, retain=True)
    s = connected(broker, "rd-hash")
    assert s.subscribe([("#", 0), ("+/r", 0)]) == [0, 0]
    got = s.collect(quiet=0.3)
    assert {m.topic for m in got} == {"plain/r"}, got
    d = connected(broker, "rd-dollar")
    assert d.subscribe([("$test/#", 0)]) == [0]
    got = d.collect(quiet=0.3)
    assert [(m.topic, m.payload, m.retain) for m in got] == [("$test/r", b"dollar", True)]


def test_retained_survives_publisher_disconnect(broker):
    """Retained messages are not session state: they outlive the publisher's
    connection and session (§4.1), clean or abrupt."""
    pub = connected(broker, "rs-pub")
    pub.publish("rs/a", b"a", qos=1, retain=True)
    pub.disconnect()
    pub2 = connected(broker, "rs-pub2")
    pub2.publish("rs/b", b"b", qos=0, retain=True)
    pub2.ping()
    pub2.close()
    sub = connected(broker, "rs-sub")
    assert sub.subscribe([("rs/#", 1)]) == [1]
    got = sorted((m.topic, m.payload, m.retain) for m in sub.collect(quiet=0.3))
    assert got == [("rs/a", b"a", True), ("rs/b", b"b", True)]


def test_resubscribe_resends_retained(broker):
    """Re-subscribing to the same filter re-sends matching retained messages
    [MQTT-3.8.4-3]."""
    pub = connected(broker, "rr-pub")
    pub.publish("rr/t", b"again", qos=1, retain=True)
    sub = connected(broker, "rr-sub")
    assert sub.subscribe([("rr/t", 1)]) == [1]
    assert sub.recv_publish().payload == b"again"
    assert sub.subscribe([("rr/t", 1)]) == [1]
    m = sub.recv_publish()
    assert (m.payload, m.retain) == (b"again", True)


def test_retained_qos2_publish_stored(broker):
    """A retained QoS 2 PUBLISH is stored (whether the broker releases it at PUBLISH
    or at PUBREL, it is retained once the flow completed)."""
    pub = connected(broker, "r2-pub")
    pub.publish("r2/t", b"q2", qos=2, retain=True)
    sub = connected(broker, "r2-sub")
    assert sub.subscribe([("r2/t", 2)]) == [2]
    m = sub.recv_publish()
    assert (m.payload, m.qos, m.retain) == (b"q2", 2, True)


def test_retain_available_false(broker_factory):
    """`retain_available false`: a PUBLISH with RETAIN 1 closes the connection
    (Mosquitto's v3 behaviour); RETAIN 0 still works; nothing is stored."""
    b = broker_factory(config="retain_available false\n", threads=2)
    c = connected(b, "ra")
    c.publish("ra/t", b"plain", qos=1)
    c.send(mq.publish("ra/t", b"keep", qos=1, pid=2, retain=True))
    c.expect_closed(allowed=())
    c = connected(b, "ra0")
    c.send(mq.publish("ra/t", b"keep0", retain=True))
    c.expect_closed(allowed=())
    sub = connected(b, "ra-sub")
    assert sub.subscribe([("ra/#", 0)]) == [0]
    sub.expect_no_publish(0.3)


def test_many_retained_respect_inflight_window(broker_factory):
    """50 retained QoS 1 messages to a new subscriber with `max_inflight_messages 5`:
    the window holds for retained deliveries too and all 50 arrive exactly once."""
    b = broker_factory(config="max_inflight_messages 5\n", threads=2)
    pub = connected(b, "rwin-pub")
    for i in range(50):
        pub.publish(f"rwin/{i:02d}", b"%d" % i, qos=1, retain=True)
    sub = connected(b, "rwin-sub", auto_ack=False)
    assert sub.subscribe([("rwin/#", 1)]) == [1]
    first = sub.recv_publishes(5, ack=False)
    sub.expect_no_publish(0.3)
    got = list(first)
    for m in first:
        sub.send(mq.puback(m.pid))
    while len(got) < 50:
        m = sub.recv_publish(ack=False)
        got.append(m)
        sub.send(mq.puback(m.pid))
    assert sorted(m.topic for m in got) == [f"rwin/{i:02d}" for i in range(50)]
    assert all(m.retain and m.qos == 1 for m in got)
    sub.expect_no_publish(0.2)
