"""Session state across connections (MQTT 3.1.1 §3.1.2.4, §4.1, §4.4)."""
import mqtt_raw as mq
from mqtt_raw import Client, connected


def reconnect(broker, client_id, clean=False, expect_sp=True, **kw):
    c = Client(broker, client_id, **kw)
    assert c.connect(client_id, clean=clean) == (expect_sp, 0)
    return c


def test_subscriptions_survive_reconnect(broker):
    """Clean session 0: the subscriptions are part of the session and survive a
    reconnect [MQTT-3.1.2-4]; session present 1 [MQTT-3.2.2-2]."""
    c = connected(broker, "persist-sub", clean=False)
    assert c.subscribe([("ss/a", 1), ("ss/+/b", 2)]) == [1, 2]
    c.disconnect()
    c = reconnect(broker, "persist-sub")
    pub = connected(broker, "persist-pub")
    pub.publish("ss/a", b"1", qos=2)
    pub.publish("ss/x/b", b"2", qos=2)
    got = sorted((m.payload, m.qos) for m in c.recv_publishes(2))
    assert got == [(b"1", 1), (b"2", 2)]


def test_offline_qos1_qos2_delivered_in_order(broker):
    """QoS 1 and 2 messages published while the client is offline are kept and
    delivered on reconnect [MQTT-3.1.2-5], in publication order per QoS
    [MQTT-4.6.0-6]."""
    c = connected(broker, "offline", clean=False)
    assert c.subscribe([("off/t", 2)]) == [2]
    c.disconnect()
    pub = connected(broker, "offline-pub")
    for i in range(5):
        pub.publish("off/t", b"q1-%d" % i, qos=1)
    for i in range(5):
        pub.publish("off/t", b"q2-%d" % i, qos=2)
    c = reconnect(broker, "offline")
    got = c.recv_publishes(10)
    q1 = [m.payload for m in got if m.qos == 1]
    q2 = [m.payload for m in got if m.qos == 2]
    assert q1 == [b"q1-%d" % i for i in range(5)]
    assert q2 == [b"q2-%d" % i for i in range(5)]
    assert [m.payload for m in got] == q1 + q2, "queue order"
    assert not any(m.retain for m in got)
    c.expect_no_publish(0.3)


def test_offline_qos0_not_queued_by_default(broker):
    """QoS 0 messages for an offline client are not queued by default (the spec
    allows either, §3.1.2.4); a QoS 1 marker after them is."""
    c = connected(broker, "off0", clean=False)
    assert c.subscribe([("off0/t", 1)]) == [1]
    c.disconnect()
    pub = connected(broker, "off0-pub")
    pub.publish("off0/t", b"zero")
    pub.publish("off0/t", b"marker", qos=1)
    c = reconnect(broker, "off0")
    assert [m.payload for m in c.collect(quiet=0.4)] == [b"marker"]


def test_offline_qos0_queued_when_enabled(broker_factory):
    """`queue_qos0_messages true`: QoS 0 messages are queued for an offline
    persistent client too."""
    b = broker_factory(config="queue_qos0_messages true\n", threads=2)
    c = connected(b, "off0q", clean=False)
    assert c.subscribe([("off0q/t", 1)]) == [1]
    c.disconnect()
    pub = connected(b, "off0q-pub")
    pub.publish("off0q/t", b"zero")
    pub.publish("off0q/t", b"marker", qos=1)
    c = reconnect(b, "off0q")
    got = c.collect(quiet=0.4)
    assert sorted((m.payload, m.qos) for m in got) == [(b"marker", 1), (b"zero", 0)]


def test_max_queued_messages(broker_factory):
    """`max_queued_messages 3`: of 10 QoS 1 messages for an offline client exactly 3
    are kept, and (like Mosquitto) they are the first three: new ones are dropped
    when the queue is full."""
    b = broker_factory(config="max_queued_messages 3\n", threads=2)
    c = connected(b, "mq", clean=False)
    assert c.subscribe([("mq/t", 1)]) == [1]
    c.disconnect()
    pub = connected(b, "mq-pub")
    for i in range(1, 11):
        pub.publish("mq/t", b"%d" % i, qos=1)
    c = reconnect(b, "mq")
    assert [m.payload for m in c.collect(quiet=0.5)] == [b"1", b"2", b"3"]


def test_unacked_qos1_resent_with_dup(broker):
    """A QoS 1 delivery without PUBACK is re-sent on reconnect with the same packet
    id and DUP 1 [MQTT-4.4.0-1] [MQTT-2.2.2-3] [MQTT-3.3.1-1]; after the PUBACK it
    is not sent again."""
    c = connected(broker, "redeliver", clean=False, auto_ack=False)
    assert c.subscribe([("rd/t", 1)]) == [1]
    pub = connected(broker, "redeliver-pub")
    pub.publish("rd/t", b"again", qos=1)
    first = c.recv_publish(ack=False)
    assert not first.dup
    c.close()
    c = reconnect(broker, "redeliver", auto_ack=False)
    m = c.recv_publish(ack=False)
    assert (m.payload, m.pid, m.dup, m.qos) == (b"again", first.pid, True, 1)
    c.send(mq.puback(m.pid))
    c.expect_no_publish(0.3)
    c.disconnect()
    c = reconnect(broker, "redeliver")
    c.expect_no_publish(0.3)


def test_unacked_qos2_publish_resent(broker):
    """A QoS 2 delivery without PUBREC is re-sent on reconnect as PUBLISH with DUP 1
    and the same packet id [MQTT-4.4.0-1]."""
    c = connected(broker, "rd2", clean=False, auto_ack=False)
    assert c.subscribe([("rd2/t", 2)]) == [2]
    pub = connected(broker, "rd2-pub")
    pub.publish("rd2/t", b"two", qos=2)
    first = c.recv_publish(ack=False)
    c.close()
    c = reconnect(broker, "rd2", auto_ack=False)
    m = c.recv_publish(ack=False)
    assert (m.payload, m.pid, m.dup, m.qos) == (b"two", first.pid, True, 2)
    c.send(mq.pubrec(m.pid))
    assert c.recv_packet().raw == b"\x62\x02" + mq.u16(m.pid)
    c.send(mq.pubcomp(m.pid))
    c.expect_no_publish(0.3)


def test_pubrel_resent_on_reconnect(broker):
    """Subscriber sent PUBREC but not PUBCOMP: on reconnect the server re-sends the
    PUBREL (same packet id), not the PUBLISH [MQTT-4.4.0-1] [MQTT-4.3.3-1]."""
    c = connected(broker, "rel", clean=False, auto_ack=False)
    assert c.subscribe([("rel/t", 2)]) == [2]
    pub = connected(broker, "rel-pub")
    pub.publish("rel/t", b"x", qos=2)
    m = c.recv_publish(ack=False)
    c.send(mq.pubrec(m.pid))
    assert c.recv_packet().raw == b"\x62\x02" + mq.u16(m.pid)
    c.close()
    c = reconnect(broker, "rel", auto_ack=False)
    p = c.recv_packet()
    assert p.raw == b"\x62\x02" + mq.u16(m.pid), f"expected PUBREL, got {p!r}"
    c.send(mq.pubcomp(m.pid))
    c.expect_no_publish(0.3)
    # And the subscription still works (the packet id was released).
    pub.publish("rel/t", b"y", qos=2)
    assert c.recv_publish(ack=True).payload == b"y"


def test_clean_session_discards_old(broker):
    """Reconnecting with clean session 1 discards the previous session: session
    present 0 and no old subscriptions [MQTT-3.1.2-6]; reconnecting with clean 0
    afterwards starts a new session."""
    c = connected(broker, "discard", clean=False)
    assert c.subscribe([("dc/t", 1)]) == [1]
    c.disconnect()
    pub = connected(broker, "discard-pub")
    pub.publish("dc/t", b"queued", qos=1)
    c = reconnect(broker, "discard", clean=True, expect_sp=False)
    pub.publish("dc/t", b"live", qos=1)
    c.expect_no_publish(0.4)
    c.disconnect()
    c = reconnect(broker, "discard", clean=False, expect_sp=False)
    pub.publish("dc/t", b"live2", qos=1)
    c.expect_no_publish(0.3)


def test_clean_session_removed_at_disconnect(broker):
    """A clean-session-1 session ends with the connection [MQTT-3.1.2-6]: a later
    clean-0 connection with that id gets session present 0 and no subscriptions."""
    c = connected(broker, "ephemeral", clean=True)
    assert c.subscribe([("eph/t", 1)]) == [1]
    c.disconnect()
    c = reconnect(broker, "ephemeral", clean=False, expect_sp=False)
    pub = connected(broker, "ephemeral-pub")
    pub.publish("eph/t", b"x", qos=1)
    c.expect_no_publish(0.3)


def test_offline_queue_then_live(broker):
    """Queued messages come first, then live ones, without loss or duplicates."""
    c = connected(broker, "mix", clean=False)
    assert c.subscribe([("mix/t", 1)]) == [1]
    c.disconnect()
    pub = connected(broker, "mix-pub")
    for i in range(30):
        pub.publish("mix/t", b"%d" % i, qos=1)
    c = reconnect(broker, "mix")
    for i in range(30, 40):
        pub.publish("mix/t", b"%d" % i, qos=1)
    got = [m.payload for m in c.recv_publishes(40)]
    assert got == [b"%d" % i for i in range(40)]
    c.expect_no_publish(0.2)


def test_session_qos2_inbound_state_survives(broker):
    """Inbound QoS 2 state belongs to the session: a publisher that sent PUBLISH,
    got PUBREC and reconnected (clean 0) completes with PUBREL -> PUBCOMP and the
    message is delivered exactly once [MQTT-4.4.0-1] [MQTT-4.3.3-2]."""
    sub = connected(broker, "in2-sub")
    assert sub.subscribe([("in2/t", 2)]) == [2]
    p = connected(broker, "in2-pub", clean=False)
    p.send(mq.publish("in2/t", b"once", qos=2, pid=33))
    assert p.recv_packet().raw == b"\x50\x02\x00\x21"
    p.close()
    p = reconnect(broker, "in2-pub")
    p.send(mq.pubrel(33))
    assert p.recv_packet().raw == b"\x70\x02\x00\x21"
    got = sub.collect(quiet=0.4)
    assert [m.payload for m in got] == [b"once"]
