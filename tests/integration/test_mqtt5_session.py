"""MQTT 5.0 session lifetime and message expiry, raw bytes (5.0 §3.1.2.11.2,
§3.14.2.2.2, §3.3.2.3.3, §4.1; docs/mqtt5.md "Connecting", "Publishing and
delivery")."""
import subprocess
import time

from conftest import SLOW, STARLING_BIN
import mqtt5_raw as m5
from mqtt5_raw import Client5, connected5

NEVER = 0xFFFFFFFF


def session(broker, cid, expiry=None, clean=False, **kw):
    """Connects cid with Clean Start `clean` and Session Expiry Interval `expiry`
    (None: property absent, meaning 0). Returns (client, session_present)."""
    props = {} if expiry is None else {m5.SESSION_EXPIRY_INTERVAL: expiry}
    c = Client5(broker, cid)
    sp, rc, _ = c.connect(cid, clean=clean, props=props, **kw)
    assert rc == 0
    return c, sp


def wait(seconds):
    time.sleep(seconds * SLOW)


def test_session_expiry_absent_ends_with_connection(broker):
    """No Session Expiry Interval (0): the session ends when the connection closes
    [MQTT-3.1.2-23]; Clean Start 0 afterwards finds none (Session Present 0)
    [MQTT-3.2.2-3] and the old subscription receives nothing."""
    c, sp = session(broker, "se0")
    assert not sp
    assert c.subscribe([("se0/t", 1)]) == [1]
    c.disconnect()
    c, sp = session(broker, "se0", expiry=0)
    assert not sp
    connected5(broker, "se0-pub").publish("se0/t", b"x", qos=1)
    c.expect_no_publish(0.3)
    c.close()  # socket close without DISCONNECT: expiry 0 ends it too
    c, sp = session(broker, "se0", expiry=0)
    assert not sp


def test_session_expiry_one_second(broker):
    """Session Expiry Interval 1: the session outlives the connection
    [MQTT-3.1.2-23] - QoS 1 messages published while offline are delivered on a
    prompt resume [MQTT-3.1.2-5] - and is gone about a second after the next
    disconnect [MQTT-4.1.0-2]."""
    c, sp = session(broker, "se1", expiry=1)
    assert not sp
    assert c.subscribe([("se1/t", 1)]) == [1]
    c.close()  # network close, no DISCONNECT
    pub = connected5(broker, "se1-pub")
    pub.publish("se1/t", b"q1", qos=1)
    pub.publish("se1/t", b"q2", qos=1)
    c, sp = session(broker, "se1", expiry=1)
    assert sp
    assert [m.payload for m in c.recv_publishes(2)] == [b"q1", b"q2"]
    c.disconnect()
    wait(2.2)
    c, sp = session(broker, "se1", expiry=1)
    assert not sp, "session outlived its 1 s expiry interval"
    pub.publish("se1/t", b"late", qos=1)
    c.expect_no_publish(0.3)


def test_session_expiry_never(broker):
    """0xFFFFFFFF: the session does not expire [5.0 §3.1.2.11.2]; it is still there
    after a wait that ends a 1 s session."""
    c, _ = session(broker, "se-never", expiry=NEVER)
    assert c.subscribe([("sen/t", 1)]) == [1]
    c.disconnect()
    wait(1.6)
    c, sp = session(broker, "se-never", expiry=NEVER)
    assert sp
    connected5(broker, "sen-pub").publish("sen/t", b"kept", qos=1)
    assert c.recv_publish().payload == b"kept"


def test_disconnect_sets_expiry_to_zero(broker):
    """DISCONNECT with Session Expiry Interval 0 ends a 60 s session at once
    [5.0 §3.14.2.2.2]."""
    c, _ = session(broker, "dse0", expiry=60)
    assert c.subscribe([("dse0/t", 1)]) == [1]
    c.disconnect(0x00, {m5.SESSION_EXPIRY_INTERVAL: 0})
    c, sp = session(broker, "dse0", expiry=60)
    assert not sp


def test_disconnect_extends_expiry(broker):
    """DISCONNECT with Session Expiry Interval 3600 replaces the CONNECT's 1: the
    session survives a 1.6 s absence."""
    c, _ = session(broker, "dse-long", expiry=1)
    assert c.subscribe([("dsel/t", 1)]) == [1]
    c.disconnect(0x00, {m5.SESSION_EXPIRY_INTERVAL: 3600})
    wait(1.6)
    c, sp = session(broker, "dse-long", expiry=1)
    assert sp


def test_disconnect_expiry_from_zero_is_protocol_error(broker):
    """CONNECT had Session Expiry 0: a non-zero Session Expiry Interval in the
    client's DISCONNECT is a Protocol Error [5.0 §3.14.2.2.2]: the server answers
    DISCONNECT 0x82 and closes; the session does not survive."""
    c, _ = session(broker, "dse-bad")
    assert c.subscribe([("dseb/t", 1)]) == [1]
    c.send(m5.disconnect5(0x00, {m5.SESSION_EXPIRY_INTERVAL: 30}))
    c.expect_disconnect(0x82)
    c, sp = session(broker, "dse-bad", expiry=0)
    assert not sp


def test_resume_resends_unacknowledged_with_properties(broker):
    """QoS 1 and 2 messages sent but not acknowledged are re-sent on resume with
    their original Packet Identifiers and DUP 1 [MQTT-4.4.0-1] [MQTT-3.3.1-1], and
    with the same properties (User Properties in order, Subscription Identifier)."""
    props = {m5.SESSION_EXPIRY_INTERVAL: 60}
    s = Client5(broker, "resend", auto_ack=False)
    s.connect_ok("resend", clean=False, props=props)
    assert s.subscribe([("rs/t", m5.sub_opts(2))], sub_id=42) == [2]
    pub = connected5(broker, "resend-pub")
    up = [("x", "1"), ("y", "2"), ("x", "3")]
    pub.publish("rs/t", b"one", qos=1, props={m5.USER_PROPERTY: up})
    pub.publish("rs/t", b"two", qos=2, props={m5.CONTENT_TYPE: "t/2"})
    first = [s.recv_publish(ack=False), s.recv_publish(ack=False)]
    assert [(m.payload, m.qos, m.dup) for m in first] == [(b"one", 1, False), (b"two", 2, False)]
    s.close()
    s = Client5(broker, "resend", auto_ack=False)
    assert s.connect_ok("resend", clean=False, props=props)
    again = [s.recv_publish(ack=False), s.recv_publish(ack=False)]
    assert [(m.payload, m.qos, m.dup, m.pid) for m in again] == \
        [(m.payload, m.qos, True, m.pid) for m in first]
    assert again[0].user_props == up and again[0].sub_ids == [42]
    assert again[1].props[m5.CONTENT_TYPE] == "t/2" and again[1].sub_ids == [42]
    for m in again:
        s.ack(m)
    s.expect(m5.PUBREL, pid=again[1].pid)
    s.send(m5.pubcomp5(again[1].pid))
    s.expect_no_publish(0.3)


def test_subscription_identifier_kept_in_session(broker):
    """A subscription's identifier is part of the session: after a resume the
    subscription still delivers it."""
    c, _ = session(broker, "sid-sess", expiry=60)
    assert c.subscribe([("sids/t", m5.sub_opts(1))], sub_id=9) == [1]
    c.disconnect()
    c, sp = session(broker, "sid-sess", expiry=60)
    assert sp
    connected5(broker, "sid-sess-pub").publish("sids/t", b"x", qos=1)
    assert c.recv_publish().sub_ids == [9]


def run_cli(*args):
    return subprocess.run([STARLING_BIN, *args], capture_output=True, text=True,
                          timeout=10 * SLOW)


def test_persistent_client_expiration_directive(tmp_path, broker_factory):
    """persistent_client_expiration takes Mosquitto's duration syntax (its smallest
    unit is an hour, so its effect cannot be shown in a test of seconds): `1h` is
    accepted, `5x` fails --test-config with file:line."""
    good = tmp_path / "pce.conf"
    good.write_text("listener 1883 127.0.0.1\npersistent_client_expiration 1h\n")
    r = run_cli("--test-config", "-c", str(good))
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "pce-bad.conf"
    bad.write_text("listener 1883 127.0.0.1\npersistent_client_expiration 5x\n")
    r = run_cli("--test-config", "-c", str(bad))
    assert r.returncode != 0
    assert f"{bad}:2:" in r.stderr, r.stderr
    # A broker with it set still keeps a 0xFFFFFFFF session across a reconnect.
    b = broker_factory(config="persistent_client_expiration 1h\n", threads=2)
    c, _ = session(b, "pce", expiry=NEVER)
    c.disconnect()
    c, sp = session(b, "pce", expiry=NEVER)
    assert sp


# ---------------------------------------------------------------- message expiry

def test_message_expiry_live_delivery(broker):
    """A message delivered at once carries Message Expiry Interval set to the
    received value minus the time it waited (0 s: the same value, at worst one less
    when a second boundary passes) [MQTT-3.3.2-6]; a message without one gets none."""
    s = connected5(broker, "mx-live")
    assert s.subscribe([("mxl/t", m5.sub_opts(1))]) == [1]
    p = connected5(broker, "mx-live-pub")
    p.publish("mxl/t", b"exp", qos=1, props={m5.MESSAGE_EXPIRY_INTERVAL: 10})
    p.publish("mxl/t", b"plain", qos=1)
    a, b = s.recv_publishes(2)
    assert a.payload == b"exp" and a.props[m5.MESSAGE_EXPIRY_INTERVAL] in (9, 10), a.props
    assert b.payload == b"plain" and m5.MESSAGE_EXPIRY_INTERVAL not in b.props, b.props


def test_queued_message_expiry(broker):
    """Messages queued for an offline session: the one with Message Expiry Interval
    1 is not delivered after 2 s [MQTT-3.3.2-5]; the one with 10 is, with the
    interval reduced by the time it waited (<= 8) [MQTT-3.3.2-6]; one without
    expiry is delivered without the property."""
    c, _ = session(broker, "mxq", expiry=60)
    assert c.subscribe([("mxq/t", 1)]) == [1]
    c.disconnect()
    p = connected5(broker, "mxq-pub")
    p.publish("mxq/t", b"short", qos=1, props={m5.MESSAGE_EXPIRY_INTERVAL: 1})
    p.publish("mxq/t", b"long", qos=1, props={m5.MESSAGE_EXPIRY_INTERVAL: 10})
    p.publish("mxq/t", b"forever", qos=1)
    time.sleep(2.1)  # real time: the intervals are real seconds
    c, sp = session(broker, "mxq", expiry=60)
    assert sp
    got = c.collect(quiet=0.5)
    assert [m.payload for m in got] == [b"long", b"forever"]
    mei = got[0].props[m5.MESSAGE_EXPIRY_INTERVAL]
    assert 1 <= mei <= 8, f"remaining expiry {mei} after waiting 2 s"
    assert m5.MESSAGE_EXPIRY_INTERVAL not in got[1].props


def test_retained_message_expiry(broker):
    """A retained message expires like a queued one: with interval 1 a subscriber
    right away gets it (retained, interval <= 1), one after 2 s gets nothing; with
    interval 10 a subscriber after 2 s gets it with <= 8 [MQTT-3.3.2-5]
    [MQTT-3.3.2-6]."""
    p = connected5(broker, "mxr-pub")
    p.publish("mxr/short", b"s", qos=1, retain=True, props={m5.MESSAGE_EXPIRY_INTERVAL: 1})
    p.publish("mxr/long", b"l", qos=1, retain=True, props={m5.MESSAGE_EXPIRY_INTERVAL: 10})
    s = connected5(broker, "mxr-early")
    assert s.subscribe([("mxr/short", 1)]) == [1]
    m = s.recv_publish()
    assert (m.payload, m.retain) == (b"s", True)
    assert m.props[m5.MESSAGE_EXPIRY_INTERVAL] <= 1
    s.disconnect()
    time.sleep(2.1)
    s = connected5(broker, "mxr-late")
    assert s.subscribe([("mxr/#", 1)]) == [1]
    got = s.collect(quiet=0.5)
    assert [(m.topic, m.payload, m.retain) for m in got] == [("mxr/long", b"l", True)]
    assert 1 <= got[0].props[m5.MESSAGE_EXPIRY_INTERVAL] <= 8


def test_expired_retained_messages_are_freed(broker_factory):
    """Expired retained messages are freed, not only hidden: worker 0 sweeps them
    once a second, and `$SYS/broker/retained messages/count` falls back. 50
    topics with Message Expiry Interval 1 and one without: the count ends one
    above where it started, and only the one without is delivered."""
    b = broker_factory(config="sys_interval 1\n")
    sys_sub = connected5(b, "mxf-sys")
    assert sys_sub.subscribe([("$SYS/broker/retained messages/count", 0)]) == [0]

    def next_count():
        return int(sys_sub.recv_publish(timeout=3).payload)

    next_count()  # the retained copy
    base = next_count()  # a fresh one: every $SYS topic has been published once
    p = connected5(b, "mxf-pub")
    for i in range(50):
        p.publish(f"mxf/{i}", b"x", qos=1, retain=True, props={m5.MESSAGE_EXPIRY_INTERVAL: 1})
    p.publish("mxf/keep", b"k", qos=1, retain=True)
    deadline = time.monotonic() + 8 * SLOW
    count = next_count()
    while count != base + 1 and time.monotonic() < deadline:
        count = next_count()
    assert count == base + 1, f"retained count {count}, expected {base + 1}"
    s = connected5(b, "mxf-late")
    assert s.subscribe([("mxf/#", 1)]) == [1]
    assert [(m.topic, m.payload) for m in s.collect(quiet=0.5)] == [("mxf/keep", b"k")]
