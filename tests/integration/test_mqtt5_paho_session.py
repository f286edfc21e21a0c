"""MQTT 5.0 with paho 1.6 (MQTTv5): session expiry, message expiry, wills with Will
Delay Interval and DISCONNECT 0x04, and Receive Maximum towards a client.
The helper is in test_mqtt5_paho.py. Intervals are 1-2 s; the waits that prove
something expired are real time, the bounds on "should happen now" scale with SLOW.
"""
import math
import socket
import time

import pytest

from conftest import SLOW
from test_mqtt5_paho import MQTTv311, PacketTypes, T, props
from test_mqtt5_paho import clients  # noqa: F401 (the fixture)


def _will(topic, payload, qos=1, retain=False, **willprops):
    w = dict(topic=topic, payload=payload, qos=qos, retain=retain)
    if willprops:
        w["properties"] = props(PacketTypes.WILLMESSAGE, **willprops)
    return w


# --------------------------------------------------------------------------------------
# Session expiry


def test_session_expiry_keeps_session_and_queued_qos1(clients):
    first = clients("p5-sess", clean_start=False, connect_props={"SessionExpiryInterval": 60})
    assert first.subscribe([("p5/sess/#", 1), ("p5/sess0/#", 0)]) == [1, 0]
    first.disconnect()

    pub = clients("p5-sess-pub")
    expected = [f"queued {i}".encode() for i in range(10)]
    for p in expected:
        pub.publish("p5/sess/t", p, qos=1)
    pub.publish("p5/sess0/t", b"qos0 while offline", qos=1)

    again = clients("p5-sess", clean_start=False, connect=False,
                    connect_props={"SessionExpiryInterval": 60})
    flags, rc, _ = again.connect()
    assert flags["session present"] == 1
    got = again.get_n(len(expected))
    assert [(m.topic, m.payload, m.qos) for m in got] == [("p5/sess/t", p, 1) for p in expected]
    # Still subscribed without resubscribing.
    pub.publish("p5/sess/t", b"live", qos=1)
    got = again.get_until("p5/sess/t")
    assert [m.payload for m in got if m.topic == "p5/sess/t"] == [b"live"]
    assert all(m.payload == b"qos0 while offline" for m in got[:-1])
    again.expect_nothing(0.1)


def test_session_expiry_interval_elapses(clients):
    """SessionExpiryInterval 2: a reconnect within it finds the session, one after it
    does not, and nothing was queued for the expired session."""
    sei = {"SessionExpiryInterval": 2}
    c = clients("p5-sexp", clean_start=False, connect_props=sei)
    assert c.subscribe("p5/sexp/#", 1) == [1]
    c.disconnect()
    c.wait_gone()
    time.sleep(0.3)
    c = clients("p5-sexp", clean_start=False, connect=False, connect_props=sei)
    assert c.connect()[0]["session present"] == 1
    c.disconnect()
    c.wait_gone(2)
    t_closed = time.monotonic()

    pub = clients("p5-sexp-pub")
    pub.publish("p5/sexp/t", b"while the session lives", qos=1)
    time.sleep(max(0.0, t_closed + 3.2 - time.monotonic()))
    pub.publish("p5/sexp/t", b"after it ended", qos=1)   # the subscription is gone too
    c = clients("p5-sexp", clean_start=False, connect=False, connect_props=sei)
    assert c.connect()[0]["session present"] == 0
    c.expect_nothing()
    assert pub.publish("p5/sexp/t", b"no subscription", qos=1) == 0x10


def test_session_expiry_zero_ends_with_connection(clients):
    c = clients("p5-sexp0", clean_start=False)   # no Session Expiry Interval: 0
    assert c.subscribe("p5/sexp0", 1) == [1]
    c.disconnect()
    c.wait_gone()
    pub = clients("p5-sexp0-pub")
    assert pub.publish("p5/sexp0", b"x", qos=1) == 0x10
    c = clients("p5-sexp0", clean_start=False, connect=False)
    assert c.connect()[0]["session present"] == 0
    c.expect_nothing()


def test_clean_start_discards_session(clients):
    sei = {"SessionExpiryInterval": 60}
    c = clients("p5-cs", clean_start=False, connect_props=sei)
    assert c.subscribe("p5/cs", 1) == [1]
    c.disconnect()
    pub = clients("p5-cs-pub")
    pub.publish("p5/cs", b"queued", qos=1)
    c = clients("p5-cs", clean_start=True, connect=False, connect_props=sei)
    assert c.connect()[0]["session present"] == 0
    c.expect_nothing()
    c.disconnect()
    c.wait_gone(2)
    # The new session (kept for 60 s) has no subscription and nothing queued.
    assert pub.publish("p5/cs", b"after clean start", qos=1) == 0x10
    c = clients("p5-cs", clean_start=False, connect=False, connect_props=sei)
    assert c.connect()[0]["session present"] == 1
    c.expect_nothing()


def test_disconnect_sets_session_expiry_to_zero(clients):
    c = clients("p5-dsez", clean_start=False, connect_props={"SessionExpiryInterval": 60})
    assert c.subscribe("p5/dsez", 1) == [1]
    c.disconnect(SessionExpiryInterval=0)
    c.wait_gone()
    pub = clients("p5-dsez-pub")
    assert pub.publish("p5/dsez", b"x", qos=1) == 0x10
    c = clients("p5-dsez", clean_start=False, connect=False,
                connect_props={"SessionExpiryInterval": 60})
    assert c.connect()[0]["session present"] == 0


def test_disconnect_extends_session_expiry(clients):
    c = clients("p5-dsex", clean_start=False, connect_props={"SessionExpiryInterval": 1})
    assert c.subscribe("p5/dsex", 1) == [1]
    c.disconnect(SessionExpiryInterval=60)
    pub = clients("p5-dsex-pub")
    time.sleep(2.2)
    assert pub.publish("p5/dsex", b"kept", qos=1) == 0
    c = clients("p5-dsex", clean_start=False, connect=False,
                connect_props={"SessionExpiryInterval": 60})
    assert c.connect()[0]["session present"] == 1
    assert c.get().payload == b"kept"


# --------------------------------------------------------------------------------------
# Message expiry


def test_message_expiry_live(clients):
    sub = clients("p5-mexp-live")
    assert sub.subscribe("p5/mexp/live", 1) == [1]
    pub = clients("p5-mexp-live-pub")
    pub.publish("p5/mexp/live", b"a", qos=1, MessageExpiryInterval=60)
    pub.publish("p5/mexp/live", b"b", qos=0, MessageExpiryInterval=1)
    pub.publish("p5/mexp/live", b"c", qos=1)
    got = sub.get_n(3)
    # Delivered at once: nothing subtracted.
    assert [(m.payload, m.props) for m in got] == [
        (b"a", {"MessageExpiryInterval": 60}), (b"b", {"MessageExpiryInterval": 1}), (b"c", {})]


def test_message_expiry_while_queued(clients):
    sei = {"SessionExpiryInterval": 60}
    c = clients("p5-mexp-q", clean_start=False, connect_props=sei)
    assert c.subscribe("p5/mexp/q/#", 1) == [1]
    c.disconnect()
    pub = clients("p5-mexp-q-pub")
    pub.publish("p5/mexp/q/short", b"expires", qos=1, MessageExpiryInterval=1)
    t_sent0 = time.monotonic()
    pub.publish("p5/mexp/q/long", b"survives", qos=1, MessageExpiryInterval=60)
    t_acked = time.monotonic()
    pub.publish("p5/mexp/q/none", b"no expiry", qos=1)
    time.sleep(2.2)
    c = clients("p5-mexp-q", clean_start=False, connect=False, connect_props=sei)
    t_reconnect = time.monotonic()
    assert c.connect()[0]["session present"] == 1
    got = c.get_n(2)
    assert [(m.topic, m.payload) for m in got] == [("p5/mexp/q/long", b"survives"),
                                                  ("p5/mexp/q/none", b"no expiry")]
    # The remaining interval: 60 minus the whole seconds it waited.
    waited_min = t_reconnect - t_acked
    waited_max = got[0].at - t_sent0
    left = got[0].props["MessageExpiryInterval"]
    assert 60 - math.ceil(waited_max) <= left <= 60 - math.floor(waited_min), \
        (left, waited_min, waited_max)
    assert got[1].props == {}
    c.expect_nothing()


def test_retained_message_expiry(clients):
    pub = clients("p5-mexp-ret-pub")
    pub.publish("p5/mexp/ret/short", b"expires", qos=1, retain=True, MessageExpiryInterval=1)
    t_sent0 = time.monotonic()
    pub.publish("p5/mexp/ret/long", b"survives", qos=1, retain=True, MessageExpiryInterval=60)
    t_acked = time.monotonic()
    pub.publish("p5/mexp/ret/none", b"forever", qos=1, retain=True)
    time.sleep(2.2)
    t_sub = time.monotonic()
    sub = clients("p5-mexp-ret-sub")
    assert sub.subscribe("p5/mexp/ret/#", 1) == [1]
    got = sorted(sub.get_n(2), key=lambda m: m.topic)
    assert [(m.topic, m.payload, m.retain) for m in got] == [
        ("p5/mexp/ret/long", b"survives", True), ("p5/mexp/ret/none", b"forever", True)]
    left = got[0].props["MessageExpiryInterval"]
    waited_min, waited_max = t_sub - t_acked, got[0].at - t_sent0
    assert 60 - math.ceil(waited_max) <= left <= 60 - math.floor(waited_min), \
        (left, waited_min, waited_max)
    assert got[1].props == {}
    sub.expect_nothing()


# --------------------------------------------------------------------------------------
# Wills


def _watcher(clients, name, flt):
    w = clients(name)
    assert w.subscribe(flt, 1) == [1]
    return w


def test_will_delay_interval(clients):
    watcher = _watcher(clients, "p5-wd-watch", "p5/wd/#")
    dying = clients("p5-wd", clean_start=False, connect_props={"SessionExpiryInterval": 60},
                    will=_will("p5/wd/dying", b"delayed will", WillDelayInterval=2))
    t0 = time.monotonic()
    dying.drop()
    watcher.expect_nothing(1.0)          # not at once
    m = watcher.get(timeout=2.0 + T)
    elapsed = m.at - t0
    assert (m.topic, m.payload, m.qos) == ("p5/wd/dying", b"delayed will", 1)
    assert 1.5 <= elapsed <= 3.0 + 2 * SLOW, elapsed
    watcher.expect_nothing()


def test_will_delay_cancelled_by_reconnect(clients):
    watcher = _watcher(clients, "p5-wdc-watch", "p5/wdc/#")
    sei = {"SessionExpiryInterval": 60}
    dying = clients("p5-wdc", clean_start=False, connect_props=sei,
                    will=_will("p5/wdc/dying", b"should not see", WillDelayInterval=2))
    dying.drop()
    back = clients("p5-wdc", clean_start=False, connect=False, connect_props=sei)
    assert back.connect()[0]["session present"] == 1
    watcher.expect_nothing(3.0)
    # The watcher works: a sentinel arrives.
    back.publish("p5/wdc/sentinel", b"s", qos=1)
    assert [m.topic for m in watcher.get_until("p5/wdc/sentinel")] == ["p5/wdc/sentinel"]


def test_will_delay_capped_by_session_expiry(clients):
    watcher = _watcher(clients, "p5-wdse-watch", "p5/wdse/#")
    dying = clients("p5-wdse", clean_start=False, connect_props={"SessionExpiryInterval": 1},
                    will=_will("p5/wdse/dying", b"session expired", WillDelayInterval=30))
    t0 = time.monotonic()
    dying.drop()
    m = watcher.get(timeout=T)
    elapsed = m.at - t0
    assert (m.topic, m.payload) == ("p5/wdse/dying", b"session expired")
    assert 0.5 <= elapsed <= 1.0 + 3.0 * SLOW, elapsed


def test_will_without_delay_on_abrupt_close(clients):
    watcher = _watcher(clients, "p5-wnd-watch", "p5/wnd/#")
    dying = clients("p5-wnd", will=_will("p5/wnd/dying", b"at once", qos=0))
    t0 = time.monotonic()
    dying.drop()
    m = watcher.get()
    assert (m.topic, m.payload, m.qos) == ("p5/wnd/dying", b"at once", 0)
    assert m.at - t0 < 1.0 * SLOW


def test_disconnect_with_will_message(clients):
    watcher = _watcher(clients, "p5-dww-watch", "p5/dww/#")
    v4 = clients("p5-dww-v4", protocol=MQTTv311)
    assert v4.subscribe("p5/dww/#", 1) == [1]
    leaving = clients("p5-dww", will=_will("p5/dww/will", b"asked for", ContentType="text/plain"))
    leaving.disconnect("Disconnect with will message")
    m = watcher.get()
    assert (m.topic, m.payload, m.qos, m.props) == (
        "p5/dww/will", b"asked for", 1, {"ContentType": "text/plain"})
    m = v4.get()
    assert (m.topic, m.payload, m.props) == ("p5/dww/will", b"asked for", {})
    watcher.expect_nothing()


def test_normal_disconnect_discards_will(clients):
    watcher = _watcher(clients, "p5-ndw-watch", "p5/ndw/#")
    polite = clients("p5-ndw", will=_will("p5/ndw/will", b"should not see"))
    polite.disconnect("Normal disconnection")
    delayed = clients("p5-ndw-delayed", clean_start=False,
                      connect_props={"SessionExpiryInterval": 1},
                      will=_will("p5/ndw/will", b"should not see either", WillDelayInterval=1))
    delayed.disconnect()
    time.sleep(1.5)   # past the will delay and the session's end
    pub = clients("p5-ndw-pub")
    pub.publish("p5/ndw/sentinel", b"s", qos=1)
    assert [m.topic for m in watcher.get_until("p5/ndw/sentinel")] == ["p5/ndw/sentinel"]
    watcher.expect_nothing()


def test_will_properties_pass_through(clients):
    watcher = _watcher(clients, "p5-wp-watch", "p5/wp/#")
    wp = dict(PayloadFormatIndicator=1, MessageExpiryInterval=120, ContentType="text/plain",
              ResponseTopic="p5/wp/answer", CorrelationData=b"\x00will\x01",
              UserProperty=[("why", "test"), ("a", "1"), ("why", "again")])
    dying = clients("p5-wp", will=_will("p5/wp/dying", "f\u00fcr immer".encode(), qos=1,
                                        retain=True, **wp))
    dying.drop()
    m = watcher.get()
    assert (m.topic, m.payload, m.qos) == ("p5/wp/dying", "f\u00fcr immer".encode(), 1)
    assert m.props == wp
    # The will was retained, with its properties (expiry counting down from 120).
    late = _watcher(clients, "p5-wp-late", "p5/wp/#")
    m = late.get()
    assert (m.topic, m.retain) == ("p5/wp/dying", True)
    assert 118 <= m.props.pop("MessageExpiryInterval") <= 120
    wp.pop("MessageExpiryInterval")
    assert m.props == wp


# --------------------------------------------------------------------------------------
# Flow control towards the client


def _peek_pending(pc):
    """True when the broker has already sent more bytes than paho has read."""
    sock = pc.c.socket()
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return False


@pytest.mark.parametrize("qos", [1, 2])
def test_receive_maximum_one(clients, qos):
    """A subscriber with Receive Maximum 1 gets all 20 messages in order, and the broker
    never sends the next PUBLISH before the previous one is acknowledged: paho calls
    on_message before it sends PUBACK (QoS 1) or PUBCOMP (QoS 2), so anything already
    waiting in the socket then would be a second message in flight."""
    sub = clients(f"p5-rm1-{qos}", connect_props={"ReceiveMaximum": 1})
    early = []

    def hook(m):
        time.sleep(0.02)
        if _peek_pending(sub):
            early.append(m.payload)
    sub.on_message_hook = hook
    assert sub.subscribe("p5/rm1", qos) == [qos]
    pub = clients(f"p5-rm1-pub-{qos}")
    infos = [pub.publish("p5/rm1", str(i).encode(), qos=qos, wait=False) for i in range(20)]
    for info in infos:
        info.wait_for_publish(timeout=T)
        assert info.is_published()
    got = sub.get_n(20)
    assert [int(m.payload) for m in got] == list(range(20))
    assert all(m.qos == qos for m in got)
    assert early == [], f"a PUBLISH was sent while {early} was unacknowledged"
    sub.expect_nothing(0.1)
