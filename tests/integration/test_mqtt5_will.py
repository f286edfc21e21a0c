"""MQTT 5.0 will messages: Will Properties, Will Delay Interval, DISCONNECT reason
codes, raw bytes (5.0 §3.1.2.5, §3.1.3.2, §3.14.2.1; docs/mqtt5.md "Wills")."""
import time

from conftest import SLOW
import mqtt5_raw as m5
from mqtt5_raw import Client5, connected5


def watcher(broker, flt="w5/#", name="w5-watch"):
    w = connected5(broker, name)
    assert w.subscribe([(flt, m5.sub_opts(2))]) == [2]
    return w


def with_will(broker, cid, topic, payload=b"gone", qos=1, will_props=None, props=None,
              clean=True):
    c = Client5(broker, cid)
    c.connect_ok(cid, clean=clean, props=props,
                 will={"topic": topic, "payload": payload, "qos": qos, "props": will_props})
    return c


def test_will_properties_pass_through(broker):
    """Will Properties travel with the will like a PUBLISH's [MQTT-3.1.3-10 for User
    Properties' order]: Payload Format Indicator, Content Type, Response Topic,
    Correlation Data, User Properties in order, Message Expiry Interval (<= the sent
    value). Published when the connection is lost [MQTT-3.1.2-8]."""
    w = watcher(broker)
    up = [("a", "1"), ("b", "2"), ("a", "3")]
    wp = [(m5.PAYLOAD_FORMAT_INDICATOR, 1), (m5.MESSAGE_EXPIRY_INTERVAL, 60),
          (m5.CONTENT_TYPE, "text/plain"), (m5.RESPONSE_TOPIC, "w5/reply"),
          (m5.CORRELATION_DATA, b"\x01\x02")] + [(m5.USER_PROPERTY, kv) for kv in up]
    c = with_will(broker, "wprops", "w5/props", "adiós".encode(), qos=1, will_props=wp)
    c.close()
    m = w.recv_publish(timeout=3)
    assert (m.topic, m.payload, m.qos, m.retain) == ("w5/props", "adiós".encode(), 1, False)
    assert m.props[m5.PAYLOAD_FORMAT_INDICATOR] == 1
    assert m.props[m5.CONTENT_TYPE] == "text/plain"
    assert m.props[m5.RESPONSE_TOPIC] == "w5/reply"
    assert m.props[m5.CORRELATION_DATA] == b"\x01\x02"
    assert m.user_props == up
    assert 58 <= m.props[m5.MESSAGE_EXPIRY_INTERVAL] <= 60
    assert m5.WILL_DELAY_INTERVAL not in m.props


def test_will_without_delay_published_at_once(broker):
    """No Will Delay Interval: published as soon as the connection is lost."""
    w = watcher(broker)
    c = with_will(broker, "wnow", "w5/now")
    t0 = time.monotonic()
    c.close()
    assert w.recv_publish(timeout=2).payload == b"gone"
    assert time.monotonic() - t0 < 1.0 * SLOW


def test_will_delay_interval(broker):
    """Will Delay Interval 2 (Session Expiry 10): not published at once, published
    about 2 s after the connection is lost [MQTT-3.1.2-8]."""
    w = watcher(broker)
    c = with_will(broker, "wdelay", "w5/delay", will_props={m5.WILL_DELAY_INTERVAL: 2},
                  props={m5.SESSION_EXPIRY_INTERVAL: 10})
    t0 = time.monotonic()
    c.close()
    w.expect_no_publish(1.2 / SLOW)  # 1.2 real seconds: the delay is real time
    m = w.recv_publish(timeout=3)
    elapsed = time.monotonic() - t0
    assert m.topic == "w5/delay"
    assert 1.8 <= elapsed <= 2.0 + 1.5 * SLOW, elapsed


def test_will_delay_reconnect_cancels(broker):
    """A new connection to the session before the Will Delay Interval passes: the
    will is never published [MQTT-3.1.3-9]."""
    w = watcher(broker)
    props = {m5.SESSION_EXPIRY_INTERVAL: 10}
    c = with_will(broker, "wcancel", "w5/cancel", will_props={m5.WILL_DELAY_INTERVAL: 1},
                  props=props, clean=False)
    c.close()
    c = Client5(broker, "wcancel")
    assert c.connect_ok("wcancel", clean=False, props=props)
    w.expect_no_publish(1.8)
    c.disconnect()
    w.expect_no_publish(0.3)


def test_will_at_session_end_before_delay(broker):
    """Session Expiry 1 with Will Delay 10: the will is published when the session
    ends (about 1 s), the earlier of the two [5.0 §3.1.3.2.2]."""
    w = watcher(broker)
    c = with_will(broker, "wsend", "w5/send", will_props={m5.WILL_DELAY_INTERVAL: 10},
                  props={m5.SESSION_EXPIRY_INTERVAL: 1}, clean=False)
    t0 = time.monotonic()
    c.close()
    m = w.recv_publish(timeout=4)
    elapsed = time.monotonic() - t0
    assert m.topic == "w5/send"
    assert 0.8 <= elapsed <= 1.0 + 2.0 * SLOW, elapsed


def test_disconnect_with_will_message(broker):
    """DISCONNECT with reason 0x04 (Disconnect with Will Message): the will is
    published [5.0 §3.14.2.1]."""
    w = watcher(broker)
    c = with_will(broker, "w04", "w5/04", payload=b"asked")
    c.disconnect(0x04)
    m = w.recv_publish(timeout=2)
    assert (m.topic, m.payload) == ("w5/04", b"asked")


def test_disconnect_with_error_keeps_will(broker):
    """DISCONNECT with an error reason (0x80 Unspecified error): only 0x00 discards
    the will [MQTT-3.14.4-3], so it is published [MQTT-3.1.2-8]."""
    w = watcher(broker)
    c = with_will(broker, "w80", "w5/80", payload=b"failed")
    c.disconnect(0x80)
    m = w.recv_publish(timeout=2)
    assert (m.topic, m.payload) == ("w5/80", b"failed")


def test_disconnect_normal_discards_will(broker):
    """DISCONNECT 0x00 (also in its short form, remaining length 0) discards the
    will [MQTT-3.1.2-10] [MQTT-3.14.4-3]."""
    w = watcher(broker)
    c = with_will(broker, "w00", "w5/00")
    c.disconnect(0x00, {})
    c = with_will(broker, "w00s", "w5/00s")
    c.disconnect()
    w.expect_no_publish(0.6)

