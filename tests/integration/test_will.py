"""Will messages (MQTT 3.1.1 §3.1.2.5-3.1.2.7, §3.1.3.2-3.1.3.3)."""
import socket
import struct

from mqtt_raw import Client, connected


def will_watcher(broker, flt="will/#", qos=2, name="will-sub"):
    s = connected(broker, name)
    assert s.subscribe([(flt, qos)]) == [qos]
    return s


def test_will_on_socket_close(broker):
    """Network connection closed without DISCONNECT -> the will is published
    [MQTT-3.1.2-8]; a live delivery has RETAIN 0."""
    w = will_watcher(broker)
    c = connected(broker, "dying", will_topic="will/dying", will_payload=b"gone", will_qos=1)
    c.close()
    m = w.recv_publish(timeout=3)
    assert (m.topic, m.payload, m.qos, m.retain) == ("will/dying", b"gone", 1, False)
    w.expect_no_publish(0.2)


def test_will_on_reset(broker):
    """An abortive close (RST) also publishes the will [MQTT-3.1.2-8]."""
    w = will_watcher(broker)
    c = connected(broker, "reset", will_topic="will/reset", will_payload=b"rst")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    assert w.recv_publish(timeout=3).payload == b"rst"


def test_no_will_after_disconnect(broker):
    """DISCONNECT deletes the will: not published [MQTT-3.1.2-10]."""
    w = will_watcher(broker)
    c = connected(broker, "polite", will_topic="will/polite", will_payload=b"no")
    c.disconnect()
    w.expect_no_publish(0.5)


def test_will_on_keepalive_expiry(broker):
    """The server closes a client silent for 1.5 x keepalive and publishes its will
    [MQTT-3.1.2-8] [MQTT-3.1.2-24]."""
    w = will_watcher(broker)
    c = connected(broker, "silent", keepalive=1, will_topic="will/silent", will_payload=b"ka")
    m = w.recv_publish(timeout=4)
    assert m.payload == b"ka"
    c.expect_closed(timeout=1)


def test_will_on_protocol_error(broker):
    """The server closing the connection for a protocol error publishes the will
    [MQTT-3.1.2-8] (§3.1.2.5: "closes the Network Connection because of a protocol
    error")."""
    w = will_watcher(broker)
    c = connected(broker, "broken", will_topic="will/broken", will_payload=b"err")
    c.raw(b"\xc1\x00")  # PINGREQ with reserved flags set
    c.expect_closed(allowed=())
    assert w.recv_publish(timeout=3).payload == b"err"


def test_will_on_malformed_disconnect(broker):
    """A DISCONNECT with bad fixed-header flags is malformed, not a normal
    disconnect: the connection closes and the will is published [MQTT-2.2.2-2]."""
    w = will_watcher(broker)
    c = connected(broker, "baddisc", will_topic="will/baddisc", will_payload=b"e1")
    c.raw(b"\xe1\x00")
    c.expect_closed(allowed=())
    assert w.recv_publish(timeout=3).payload == b"e1"


def test_will_on_takeover(broker):
    """Takeover by a new connection with the same client id closes the old network
    connection without DISCONNECT, so the old connection's will is published
    [MQTT-3.1.4-2] [MQTT-3.1.2-8]; the new connection's will is not."""
    w = will_watcher(broker)
    old = connected(broker, "taken", will_topic="will/taken", will_payload=b"old")
    new = Client(broker, "new")
    assert new.connect("taken", will_topic="will/taken", will_payload=b"new") == (False, 0)
    old.expect_closed()
    m = w.recv_publish(timeout=3)
    assert m.payload == b"old"
    w.expect_no_publish(0.3)
    new.disconnect()
    w.expect_no_publish(0.3)


def test_will_qos_and_retain(broker):
    """Will QoS and Will Retain are honoured [MQTT-3.1.2-14] [MQTT-3.1.2-17]: the
    live subscriber gets QoS min(will, granted) with RETAIN 0, a later subscriber gets
    the retained will with RETAIN 1."""
    w = will_watcher(broker, qos=2)
    w1 = will_watcher(broker, qos=1, name="will-sub1")
    c = connected(broker, "wr", will_topic="will/wr", will_payload=b"R", will_qos=2,
                  will_retain=True)
    c.close()
    m = w.recv_publish(timeout=3)
    assert (m.payload, m.qos, m.retain) == (b"R", 2, False)
    m = w1.recv_publish(timeout=3)
    assert (m.payload, m.qos, m.retain) == (b"R", 1, False)
    later = connected(broker, "wr-later")
    assert later.subscribe([("will/wr", 2)]) == [2]
    m = later.recv_publish()
    assert (m.payload, m.qos, m.retain) == (b"R", 2, True)


def test_will_not_retained_when_flag_clear(broker):
    """Will Retain 0: the will is published but not retained [MQTT-3.1.2-16]."""
    w = will_watcher(broker)
    c = connected(broker, "wnr", will_topic="will/wnr", will_payload=b"N", will_qos=1)
    c.close()
    assert w.recv_publish(timeout=3).payload == b"N"
    later = connected(broker, "wnr-later")
    assert later.subscribe([("will/#", 1)]) == [1]
    later.expect_no_publish(0.3)


def test_will_empty_payload(broker):
    """A will with a zero-length message is published with an empty payload."""
    w = will_watcher(broker)
    c = connected(broker, "wempty", will_topic="will/empty", will_payload=b"")
    c.close()
    m = w.recv_publish(timeout=3)
    assert (m.topic, m.payload) == ("will/empty", b"")


def test_will_mqtt31(broker):
    """An MQTT 3.1 client's will works the same way."""
    w = will_watcher(broker)
    c = connected(broker, "w31", protocol=3, will_topic="will/31", will_payload=b"v31",
                  will_qos=1)
    c.close()
    m = w.recv_publish(timeout=3)
    assert (m.payload, m.qos) == (b"v31", 1)


def test_will_binary_payload(broker):
    """The will message is binary data: any bytes, including invalid UTF-8 and 0x00
    (§3.1.3.3)."""
    w = will_watcher(broker)
    payload = bytes(range(256)) + b"\xc0\xaf\xed\xa0\x80"
    c = connected(broker, "wbin", will_topic="will/bin", will_payload=payload)
    c.close()
    assert w.recv_publish(timeout=3).payload == payload
