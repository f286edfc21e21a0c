"""CONNECT / CONNACK behaviour (MQTT 3.1.1 §3.1, §3.2; MQTT 3.1 for MQIsdp)."""
import time

import pytest

import mqtt_raw as mq
from mqtt_raw import Client, connected


def refused(c, rc, timeout=2.0):
    """Reads a CONNACK that must be exactly `20 02 00 rc` (session present 0 with a
    non-zero code [MQTT-3.2.2-4]) and asserts the server closes the connection."""
    p = c.recv_packet(timeout)
    assert p.raw == bytes([0x20, 0x02, 0x00, rc]), f"expected CONNACK rc {rc}, got {p!r}"
    c.expect_closed()


def closed_without_connack(c):
    c.expect_closed(allowed=())


def test_connack_bytes_311(broker):
    """A valid 3.1.1 CONNECT gets exactly `20 02 00 00` [MQTT-3.2.0-1] [MQTT-3.2.2-1]."""
    c = Client(broker)
    c.send(mq.connect("bytes-311"))
    assert c.recv_packet().raw == b"\x20\x02\x00\x00"
    c.ping()
    broker.wait_log(r"New client connected from 127\.0\.0\.1:\d+ as bytes-311 \(p4, c1, k60")


def test_mqtt31_connect(broker):
    """MQTT 3.1 ("MQIsdp", level 3) is accepted with `20 02 00 00`."""
    c = Client(broker)
    c.send(mq.connect("v31-client", protocol=3, keepalive=30))
    assert c.recv_packet().raw == b"\x20\x02\x00\x00"
    assert c.subscribe([("v31/t", 1)]) == [1]
    c.publish("v31/t", b"hi", qos=1)
    m = c.recv_publish()
    assert (m.topic, m.payload, m.qos) == ("v31/t", b"hi", 1)
    broker.wait_log(r"as v31-client \(p3, c1, k30")


def test_mqtt31_client_id_limit(broker):
    """MQTT 3.1: client ids are 1..23 characters; 24 -> CONNACK 2 (identifier rejected)
    then close. 23 is accepted."""
    ok = Client(broker)
    assert ok.connect("x" * 23, protocol=3) == (False, 0)
    c = Client(broker)
    c.send(mq.connect("y" * 24, protocol=3))
    refused(c, 2)
    c = Client(broker)
    c.send(mq.connect("", protocol=3))
    refused(c, 2)


def test_long_client_id_311_accepted(broker):
    """3.1.1: the server MAY allow client ids longer than 23 bytes [MQTT-3.1.3-5
    note]; Starling (like Mosquitto) does."""
    c = Client(broker)
    assert c.connect("z" * 200) == (False, 0)
    c.ping()


@pytest.mark.parametrize("level", [6, 2, 3, 0x7f])
def test_unacceptable_protocol_level(broker, level):
    """Protocol name "MQTT" with a level other than 4 (or 5) -> CONNACK rc 1
    `20 02 00 01` then close [MQTT-3.1.2-2]."""
    c = Client(broker)
    c.send(mq.connect("lvl", protocol=level, proto_name="MQTT"))
    refused(c, 1)
    mq.broker_serves(broker)


def test_mqisdp_with_level_4(broker):
    """"MQIsdp" is only valid with level 3: with level 4 the server either refuses
    with rc 1 or closes [MQTT-3.1.2-1] [MQTT-3.1.2-2]; it must not accept."""
    c = Client(broker)
    c.send(mq.connect("mqisdp4", protocol=4, proto_name="MQIsdp"))
    c.expect_closed(allowed=lambda p: p.raw == b"\x20\x02\x00\x01")


@pytest.mark.parametrize("name", ["MQTX", "mqtt", "", "MQTTMQTT"])
def test_bad_protocol_name(broker, name):
    """An unknown protocol name -> disconnect without CONNACK [MQTT-3.1.2-1]."""
    c = Client(broker)
    c.send(mq.connect("badname", protocol=4, proto_name=name))
    closed_without_connack(c)
    mq.broker_serves(broker)


def test_reserved_connect_flag(broker):
    """Connect flags bit 0 is reserved and must be 0, else disconnect [MQTT-3.1.2-3]."""
    c = Client(broker)
    c.send(mq.connect("reserved", reserved=True))
    closed_without_connack(c)


@pytest.mark.parametrize("flags,desc", [
    (0x02 | 0x08, "will QoS 1 without will flag [MQTT-3.1.2-13]"),
    (0x02 | 0x20, "will retain without will flag [MQTT-3.1.2-15]"),
    (0x02 | 0x04 | 0x18, "will QoS 3 [MQTT-3.1.2-14]"),
    (0x02 | 0x40, "password without username [MQTT-3.1.2-22]"),
])
def test_invalid_connect_flag_combinations(broker, flags, desc):
    """Invalid connect-flag combinations are protocol violations: the connection
    is closed and the client is not accepted."""
    c = Client(broker)
    body = (mq.mqtt_str("MQTT") + bytes([4, flags]) + mq.u16(60) + mq.mqtt_str("flags"))
    if flags & 0x04:
        body += mq.mqtt_str("w/t") + mq.mqtt_bin(b"x")
    if flags & 0x40:
        body += mq.mqtt_bin(b"pw")
    c.send(mq.packet(mq.CONNECT, 0, body))
    c.expect_closed(allowed=lambda p: p.type == mq.CONNACK and p.body[1] != 0)
    mq.broker_serves(broker)


def test_connect_fixed_header_flags(broker):
    """CONNECT fixed-header flags are reserved 0000 [MQTT-2.2.2-1] [MQTT-2.2.2-2]."""
    c = Client(broker)
    pkt = bytearray(mq.connect("fhflags"))
    pkt[0] |= 0x01
    c.send(bytes(pkt))
    closed_without_connack(c)


def test_truncated_connect(broker):
    """A CONNECT whose payload lacks the client id is malformed: closed, no CONNACK."""
    c = Client(broker)
    body = mq.mqtt_str("MQTT") + bytes([4, 0x02]) + mq.u16(60)
    c.send(mq.packet(mq.CONNECT, 0, body))
    closed_without_connack(c)


def test_zero_length_client_id_clean(broker):
    """Zero-length client id with clean session 1 is accepted and the server assigns
    an id [MQTT-3.1.3-6] [MQTT-3.1.3-7]."""
    c = Client(broker)
    c.send(mq.connect("", clean=True))
    assert c.recv_packet().raw == b"\x20\x02\x00\x00"
    c.ping()
    broker.wait_log(r"as auto-\S+ \(p4, c1")
    # Two such clients do not take each other over.
    d = Client(broker)
    assert d.connect("", clean=True) == (False, 0)
    c.ping()
    d.ping()


def test_zero_length_client_id_persistent(broker):
    """Zero-length client id with clean session 0 -> CONNACK rc 2 then close
    [MQTT-3.1.3-8]."""
    c = Client(broker)
    c.send(mq.connect("", clean=False))
    refused(c, 2)


def test_zero_length_client_id_disallowed(broker_factory):
    """`allow_zero_length_clientid false` -> CONNACK rc 2 then close, even with clean
    session 1 (Mosquitto's directive)."""
    b = broker_factory(config="allow_zero_length_clientid false\n", threads=2)
    c = Client(b)
    c.send(mq.connect("", clean=True))
    refused(c, 2)
    assert Client(b).connect("named") == (False, 0)


def test_second_connect_is_protocol_violation(broker):
    """A second CONNECT on a connection is a protocol violation: disconnect
    [MQTT-3.1.0-2]. No second CONNACK."""
    c = connected(broker, "twice")
    c.send(mq.connect("twice"))
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


@pytest.mark.parametrize("first", [
    mq.pingreq(),
    mq.publish("early/t", b"x"),
    mq.publish("early/t", b"x", qos=1, pid=1),
    mq.subscribe(1, [("early/#", 0)]),
    mq.disconnect(),
], ids=["pingreq", "publish0", "publish1", "subscribe", "disconnect"])
def test_packet_before_connect(broker, first):
    """The first packet must be CONNECT [MQTT-3.1.0-1]: anything else closes the
    connection without any response, and a PUBLISH sent that way is not routed."""
    sub = connected(broker, "early-sub")
    assert sub.subscribe([("early/#", 1)]) == [1]
    c = Client(broker)
    c.send(first)
    c.expect_closed(allowed=())
    sub.expect_no_publish(0.3)


def test_data_after_refused_connect_ignored(broker):
    """A refused CONNECT: the server must not process data sent after it
    [MQTT-3.1.4-5]."""
    sub = connected(broker, "after-sub")
    assert sub.subscribe([("after/t", 0)]) == [0]
    c = Client(broker)
    c.send(mq.connect("after", protocol=6) + mq.publish("after/t", b"leak"))
    refused(c, 1)
    sub.expect_no_publish(0.3)


def test_takeover_closes_old_connection(broker):
    """A second connection with the same client id: the server disconnects the
    existing client [MQTT-3.1.4-2]; the new one works."""
    old = connected(broker, "same-id")
    new = Client(broker, "new")
    assert new.connect("same-id") == (False, 0)
    old.expect_closed()
    new.ping()
    assert new.subscribe([("take/t", 1)]) == [1]
    new.publish("take/t", b"mine", qos=1)
    assert new.recv_publish().payload == b"mine"


def test_session_present_clean(broker):
    """Clean session 1 -> session present 0 [MQTT-3.2.2-1], also on reconnect."""
    c = Client(broker)
    assert c.connect("sp-clean", clean=True) == (False, 0)
    c.disconnect()
    c = Client(broker)
    assert c.connect("sp-clean", clean=True) == (False, 0)


def test_session_present_persistent(broker):
    """Clean session 0: first time session present 0, after reconnect 1
    [MQTT-3.2.2-2] [MQTT-3.2.2-3]."""
    c = Client(broker)
    assert c.connect("sp-persist", clean=False) == (False, 0)
    c.disconnect()
    c = Client(broker)
    assert c.connect("sp-persist", clean=False) == (True, 0)
    c.disconnect()
    # Session present also when taking over a live persistent session.
    a = connected(broker, "sp-live", clean=False)
    b = Client(broker)
    assert b.connect("sp-live", clean=False) == (True, 0)
    a.expect_closed()


def test_connect_timeout_idle_socket(broker_factory):
    """`connect_timeout 1`: a TCP connection that sends nothing is closed after about
    two seconds (the kernel holds it for about a second before the broker accepts
    it, as listeners defer accept until the client's first bytes, then the
    deadline runs); a connection that completed CONNECT is not affected."""
    b = broker_factory(config="connect_timeout 1\n", threads=2)
    good = connected(b, "ct-good", keepalive=0)
    c = Client(b)
    t0 = time.monotonic()
    c.expect_closed(timeout=5.0, allowed=())
    dt = time.monotonic() - t0
    assert dt >= 0.5, f"closed after {dt:.2f}s, before the 1 s deadline"
    good.ping()


def test_first_packets_together_with_connect(broker_factory):
    """A client may send its first packets in the same segment as CONNECT, which
    the worker reads at accept. With two workers about half of these client ids
    live on the other one, so their CONNECT goes there with the bytes after it:
    each client still gets CONNACK first [MQTT-3.2.0-1], then SUBACK, PUBACK and
    PINGRESP in the order of the requests, and its own message."""
    b = broker_factory(threads=2)
    clients = []
    for i in range(16):
        c = Client(b)
        topic = f"together/{i}"
        c.send(mq.connect(f"together-{i}") + mq.subscribe(1, [(topic, 1)]) +
               mq.publish(topic, b"m%d" % i, qos=1, pid=2) + mq.pingreq())
        clients.append((c, topic, b"m%d" % i))
    for c, topic, payload in clients:
        assert c.recv_packet().raw == b"\x20\x02\x00\x00"
        assert c.recv_packet().raw == b"\x90\x03\x00\x01\x01"
        kinds = []
        for _ in range(3):
            p = c.recv_packet()
            kinds.append(p.type)
            if p.type == mq.PUBLISH:
                m = mq.decode_publish(p)
                assert (m.topic, m.payload, m.qos) == (topic, payload, 1)
                c.send(mq.puback(m.pid))
        # The replies keep the order of the requests; the delivery may come anywhere.
        assert sorted(kinds) == sorted([mq.PUBACK, mq.PUBLISH, mq.PINGRESP])
        assert kinds.index(mq.PUBACK) < kinds.index(mq.PINGRESP)


def test_connect_timeout_partial_connect(broker_factory):
    """`connect_timeout 1`: a connection that sends only part of a CONNECT is closed
    too (the deadline covers the whole CONNECT)."""
    b = broker_factory(config="connect_timeout 1\n", threads=2)
    c = Client(b)
    pkt = mq.connect("partial")
    t0 = time.monotonic()
    c.send(pkt[:7])
    time.sleep(0.3)
    c.raw(pkt[7:9])  # trickle: still not complete
    c.expect_closed(timeout=3.5, allowed=())
    assert time.monotonic() - t0 >= 0.5


def test_username_password(broker):
    """Username and password fields are parsed and accepted with allow_anonymous
    true (the default). Password is binary data: any bytes are fine [3.1.3.5]."""
    c = Client(broker)
    assert c.connect("up1", username="alice", password=b"secret") == (False, 0)
    c.ping()
    c = Client(broker)
    assert c.connect("up2", username="bob") == (False, 0)
    c.ping()
    c = Client(broker)
    assert c.connect("up3", username="", password=b"\x00\xff\xc0\xaf") == (False, 0)
    c.ping()


def test_will_fields_parsed(broker):
    """A CONNECT with a will plus username and password is parsed field by field:
    everything after the will is still read correctly."""
    c = Client(broker)
    assert c.connect("wup", will_topic="w/t", will_payload=b"bye", will_qos=1,
                     will_retain=True, username="u", password=b"p") == (False, 0)
    c.ping()


def test_mqtt5_connect_accepted(broker):
    """Level 5 CONNECT with an empty property block is accepted: CONNACK with reason
    0x00, session present 0 and a property block (tests/integration/test_mqtt5_*.py
    cover the properties)."""
    c = Client(broker)
    c.send(mq.connect("v5", protocol=5, properties=b"\x00"))
    p = c.recv_packet()
    assert p.type == mq.CONNACK and p.body[:2] == b"\x00\x00", f"got {p!r}"
    assert c.is_open()


def test_max_keepalive(broker_factory):
    """`max_keepalive 10`: a v3 client asking for more (or for 0 = infinite) gets
    CONNACK rc 2 (identifier rejected, Mosquitto's v3 behaviour) and is closed;
    keepalive 5 and 10 are accepted."""
    b = broker_factory(config="max_keepalive 10\n", threads=2)
    for ka in (20, 0, 11, 65535):
        c = Client(b)
        c.send(mq.connect(f"ka{ka}", keepalive=ka))
        refused(c, 2)
    for ka in (5, 10):
        c = Client(b)
        assert c.connect(f"ka{ka}", keepalive=ka) == (False, 0)
        c.ping()
