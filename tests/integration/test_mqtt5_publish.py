"""MQTT 5.0 PUBLISH and its acknowledgements, raw bytes (5.0 §3.3-§3.7, §4.9,
§4.13; docs/mqtt5.md "Publishing and delivery", "Server-sent DISCONNECT")."""
import time

import pytest

import mqtt_raw as mq
import mqtt5_raw as m5
from mqtt5_raw import Client5, connected5

UP = [("k", "1"), ("k", "2"), ("other", "x y"), ("k", "3"), ("", "empty name")]


def sub5(broker, cid, flt, qos=1, **kw):
    s = connected5(broker, cid, **kw)
    assert s.subscribe([(flt, m5.sub_opts(qos))]) == [qos]
    return s


# ---------------------------------------------------------------- properties

@pytest.mark.parametrize("qos", [0, 1, 2])
def test_properties_pass_through(broker, qos):
    """Payload Format Indicator, Content Type, Response Topic, Correlation Data and
    User Properties reach a 5.0 subscriber unaltered, User Properties (repeated
    names included) in their order [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16]
    [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-20]; a 3.1.1 subscriber gets the
    same message without any of them."""
    s5 = sub5(broker, "pt5", "pt/#", qos=2)
    s3 = mq.connected(broker, "pt3")
    assert s3.subscribe([("pt/#", 2)]) == [2]
    pub = connected5(broker, "pt-pub")
    props = [(m5.PAYLOAD_FORMAT_INDICATOR, 1), (m5.CONTENT_TYPE, "text/plain; charset=utf-8"),
             (m5.RESPONSE_TOPIC, "pt/reply"), (m5.CORRELATION_DATA, b"\x00\xffcorr")]
    props += [(m5.USER_PROPERTY, kv) for kv in UP]
    pub.publish("pt/a", "héllo".encode(), qos=qos, props=props)
    m = s5.recv_publish()
    assert (m.topic, m.payload, m.qos, m.retain) == ("pt/a", "héllo".encode(), qos, False)
    assert m.props[m5.PAYLOAD_FORMAT_INDICATOR] == 1
    assert m.props[m5.CONTENT_TYPE] == "text/plain; charset=utf-8"
    assert m.props[m5.RESPONSE_TOPIC] == "pt/reply"
    assert m.props[m5.CORRELATION_DATA] == b"\x00\xffcorr"
    assert m.user_props == UP
    assert set(m.props) == {m5.PAYLOAD_FORMAT_INDICATOR, m5.CONTENT_TYPE, m5.RESPONSE_TOPIC,
                            m5.CORRELATION_DATA, m5.USER_PROPERTY}, m.props
    m3 = s3.recv_publish()
    assert (m3.topic, m3.payload, m3.qos) == ("pt/a", "héllo".encode(), qos)
    # Exactly a 3.1.1 PUBLISH: topic, [packet id], payload - no property block.
    assert m3.raw == mq.publish("pt/a", "héllo".encode(), qos=qos, pid=m3.pid)


def test_no_properties_means_none_forwarded(broker):
    """A PUBLISH without properties is forwarded with an empty property block
    [MQTT-2.2.2-1]: nothing is invented."""
    s = sub5(broker, "np", "np/t")
    connected5(broker, "np-pub").publish("np/t", b"x", qos=1)
    m = s.recv_publish()
    assert m.props == {}


# ---------------------------------------------------------------- reason codes

def test_puback_no_matching_subscribers(broker):
    """PUBACK / PUBREC 0x10 (No matching subscribers) when nobody receives the
    message, 0x00 when someone does [5.0 §3.4.2.1, §3.5.2.1]."""
    pub = connected5(broker, "nms-pub")
    assert pub.publish("nms/t", b"x", qos=1)[1] == 0x10
    assert pub.publish("nms/t", b"x", qos=2)[1] == 0x10
    s = sub5(broker, "nms-sub", "nms/t")
    assert pub.publish("nms/t", b"y", qos=1)[1] == 0x00
    assert pub.publish("nms/t", b"z", qos=2)[1] == 0x00
    assert [m.payload for m in s.recv_publishes(2)] == [b"y", b"z"]


def test_payload_format_invalid_utf8(broker):
    """Payload Format Indicator 1 with a payload that is not UTF-8: PUBACK / PUBREC
    0x99 (Payload format invalid) and the message is not delivered (QoS 0:
    dropped) [5.0 §3.3.2.3.2]; the connection stays up; a valid UTF-8 payload with
    the indicator is delivered."""
    s = sub5(broker, "pfi-sub", "pfi/t", qos=2)
    pub = connected5(broker, "pfi-pub")
    bad = {m5.PAYLOAD_FORMAT_INDICATOR: 1}
    assert pub.publish("pfi/t", b"\xff\xfe\xfd", qos=1, props=bad)[1] == 0x99
    assert pub.publish("pfi/t", b"ok\xc3", qos=2, props=bad)[1] == 0x99
    pub.publish("pfi/t", b"\xed\xa0\x80", qos=0, props=bad)  # a surrogate: not UTF-8
    s.expect_no_publish(0.3)
    assert pub.publish("pfi/t", "ünïcode".encode(), qos=1, props=bad)[1] == 0x00
    m = s.recv_publish()
    assert m.payload == "ünïcode".encode() and m.props[m5.PAYLOAD_FORMAT_INDICATOR] == 1
    # Indicator 0 (unspecified bytes): anything goes.
    assert pub.publish("pfi/t", b"\xff", qos=1,
                       props={m5.PAYLOAD_FORMAT_INDICATOR: 0})[1] == 0x00
    assert s.recv_publish().payload == b"\xff"


def test_request_problem_information_0(broker):
    """Request Problem Information 0: the server may not send a Reason String or
    User Properties on a PUBACK [MQTT-3.1.2-29], even a failing one."""
    s = sub5(broker, "rpi-sub", "rpi/t")
    pub = connected5(broker, "rpi-pub", props={m5.REQUEST_PROBLEM_INFORMATION: 0})
    pid, reason, props = pub.publish("rpi/t", b"\xff", qos=1,
                                     props={m5.PAYLOAD_FORMAT_INDICATOR: 1})
    assert reason == 0x99
    assert m5.REASON_STRING not in props and m5.USER_PROPERTY not in props, props
    s.expect_no_publish(0.2)


def test_pubrel_unknown_packet_id(broker):
    """PUBREL for a packet identifier the server does not know: PUBCOMP 0x92
    (Packet Identifier not found) [5.0 §3.7.2.1]; the connection stays up."""
    c = connected5(broker, "pubrel-unknown")
    c.send(m5.pubrel5(4242))
    pid, reason, _ = m5.decode_ack(c.expect(m5.PUBCOMP), m5.PUBCOMP)
    assert (pid, reason) == (4242, 0x92)
    c.ping()


def test_pubrec_unknown_packet_id(broker):
    """PUBREC from a subscriber for a packet identifier the server never sent:
    PUBREL 0x92 (Packet Identifier not found) [5.0 §3.6.2.1], so the client can
    finish the flow; the connection stays up."""
    c = connected5(broker, "pubrec-unknown")
    c.send(m5.pubrec5(4343))
    pid, reason, _ = m5.decode_ack(c.expect(m5.PUBREL), m5.PUBREL)
    assert (pid, reason) == (4343, 0x92)
    c.ping()


def test_pubrec_failure_ends_qos2_delivery(broker):
    """A subscriber's PUBREC with reason 0x80 ends that QoS 2 delivery: no PUBREL
    follows [MQTT-4.3.3-4] and the PUBLISH is not resent [MQTT-4.4.0-2]; it no
    longer counts against Receive Maximum, so later messages still flow."""
    s = Client5(broker, "rec80", auto_ack=False)
    s.connect_ok("rec80", props={m5.RECEIVE_MAXIMUM: 1})
    assert s.subscribe([("rec80/t", m5.sub_opts(2))]) == [2]
    pub = connected5(broker, "rec80-pub")
    pub.publish("rec80/t", b"first", qos=2)
    m = s.recv_publish(ack=False)
    assert (m.payload, m.qos) == (b"first", 2)
    s.send(m5.pubrec5(m.pid, 0x80))
    try:
        p = s.expect(m5.PUBREL, timeout=0.5)
        raise AssertionError(f"PUBREL after PUBREC 0x80: {p!r}")
    except mq.MQTTTimeout:
        pass
    pub.publish("rec80/t", b"second", qos=2)
    m2 = s.recv_publish(ack=True)
    assert m2.payload == b"second" and not m2.dup
    s.expect_no_publish(0.3)


# ---------------------------------------------------------------- protocol errors

def test_subscription_identifier_from_client(broker):
    """A PUBLISH from a client must not carry a Subscription Identifier
    [MQTT-3.3.4-6]: DISCONNECT 0x82."""
    c = connected5(broker, "subid-pub")
    c.send(m5.publish5("x/t", b"x", qos=1, pid=1, props={m5.SUBSCRIPTION_IDENTIFIER: 5}))
    c.expect_disconnect(0x82)


def test_retain_not_available(broker_factory):
    """retain_available false: a PUBLISH with RETAIN 1 is a protocol error
    [MQTT-3.2.2-14]: DISCONNECT 0x9A (Retain not supported); nothing is retained."""
    b = broker_factory(config="retain_available false\n", threads=2)
    c = connected5(b, "noretain")
    c.send(m5.publish5("nr/t", b"x", qos=1, pid=1, retain=True))
    c.expect_disconnect(0x9A)
    s = connected5(b, "nr-sub")
    assert s.subscribe([("nr/t", m5.sub_opts(1))]) == [1]
    s.expect_no_publish(0.3)


def test_qos_above_maximum(broker_factory):
    """max_qos 1: a QoS 2 PUBLISH exceeds the announced Maximum QoS
    [MQTT-3.2.2-11]: DISCONNECT 0x9B (QoS not supported)."""
    b = broker_factory(config="max_qos 1\n", threads=2)
    s = sub5(b, "mq-sub", "mq/t")
    c = connected5(b, "qos2-pub")
    c.send(m5.publish5("mq/t", b"x", qos=2, pid=1))
    c.expect_disconnect(0x9B)
    s.expect_no_publish(0.3)


def test_keepalive_timeout_disconnect(broker):
    """Keep Alive 1 and silence: after 1.5 s the server sends DISCONNECT 0x8D (Keep
    Alive timeout) and closes [MQTT-3.1.2-22]."""
    c = connected5(broker, "ka1", keepalive=1)
    t0 = time.monotonic()
    c.expect_disconnect(0x8D, timeout=4)
    assert time.monotonic() - t0 >= 1.0


def test_packet_too_large(broker_factory):
    """max_packet_size 200: a PUBLISH of more bytes is DISCONNECT 0x95 (Packet too
    large) [MQTT-3.2.2-15] and is not delivered."""
    b = broker_factory(config="max_packet_size 200\n", threads=2)
    s = sub5(b, "big-sub", "big/t")
    c = connected5(b, "big-pub")
    assert c.connack_props[m5.MAXIMUM_PACKET_SIZE] == 200
    c.publish("big/t", b"y" * 100, qos=1)
    assert s.recv_publish().payload == b"y" * 100
    c.send(m5.publish5("big/t", b"x" * 300, qos=1, pid=7))
    c.expect_disconnect(0x95)
    s.expect_no_publish(0.3)


def _publish_body(topic, props_block, payload, pid=1):
    return m5.mqtt_str(topic) + m5.u16(pid) + props_block + payload


MALFORMED_PUBLISH = [
    # (id, PUBLISH QoS 1 body, expected DISCONNECT reason)
    ("property-length-past-end", _publish_body("mf/t", m5.varint(50) + b"\x01\x01", b""), 0x81),
    ("unknown-property", _publish_body("mf/t", m5.varint(2) + b"\x7f\x01", b"p"), 0x81),
    ("value-cut-short", _publish_body("mf/t", m5.varint(3) + b"\x02\x00\x00", b""), 0x81),
    ("not-a-publish-property",
     _publish_body("mf/t", m5.encode_props([(m5.SESSION_EXPIRY_INTERVAL, 1)]), b"p"), 0x81),
    ("duplicate-content-type",
     _publish_body("mf/t", m5.encode_props([(m5.CONTENT_TYPE, "a"), (m5.CONTENT_TYPE, "b")]),
                   b"p"), 0x82),
    ("duplicate-payload-format",
     _publish_body("mf/t", m5.encode_props([(m5.PAYLOAD_FORMAT_INDICATOR, 0),
                                            (m5.PAYLOAD_FORMAT_INDICATOR, 0)]), b"p"), 0x82),
    ("bad-utf8-content-type",
     _publish_body("mf/t", m5.varint(5) + b"\x03\x00\x02\xc0\xaf", b"p"), 0x81),
]


@pytest.mark.parametrize("name, body, reason", MALFORMED_PUBLISH,
                         ids=[m[0] for m in MALFORMED_PUBLISH])
def test_malformed_publish_properties(broker, name, body, reason):
    """A PUBLISH whose property block is malformed: DISCONNECT 0x81; a protocol
    error in it (a property repeated that may appear only once):
    DISCONNECT 0x82 [MQTT-4.13.1-1]. Nothing is delivered."""
    s = sub5(broker, "mf-sub", "mf/t")
    c = connected5(broker, "mf-" + name)
    c.send(m5.packet(m5.PUBLISH, 0x02, body))
    c.expect_disconnect(reason)
    s.expect_no_publish(0.3)


def test_malformed_puback_properties(broker):
    """A PUBACK whose Property Length runs past its end is malformed: DISCONNECT
    0x81."""
    s = sub5(broker, "mfa-sub", "mfa/t")
    connected5(broker, "mfa-pub").publish("mfa/t", b"x", qos=1)
    m = s.recv_publish(ack=False)
    s.send(m5.packet(m5.PUBACK, 0, m5.u16(m.pid) + b"\x00\x09\x1f\x00"))
    s.expect_disconnect(0x81)


# ---------------------------------------------------------------- topic aliases (inbound)

def test_inbound_topic_alias(broker):
    """A client sets alias 1 with a topic, then sends an empty topic with alias 1:
    delivered to the aliased topic [MQTT-3.3.2-12]; re-setting alias 1 to another
    topic changes the mapping. Aliases are not forwarded to a subscriber that
    announced no Topic Alias Maximum [MQTT-3.1.2-27]."""
    s = sub5(broker, "tai-sub", "tai/#")
    c = connected5(broker, "tai-pub")
    assert c.connack_props[m5.TOPIC_ALIAS_MAXIMUM] == 10
    c.publish("tai/one", b"1", qos=1, props={m5.TOPIC_ALIAS: 1})
    c.publish("", b"2", qos=1, props={m5.TOPIC_ALIAS: 1})
    c.publish("tai/two", b"3", qos=1, props={m5.TOPIC_ALIAS: 1})
    c.publish("", b"4", qos=1, props={m5.TOPIC_ALIAS: 1})
    c.publish("tai/ten", b"5", qos=0, props={m5.TOPIC_ALIAS: 10})
    c.publish("", b"6", qos=0, props={m5.TOPIC_ALIAS: 10})
    got = s.recv_publishes(6)
    assert [(m.topic, m.payload) for m in got] == [
        ("tai/one", b"1"), ("tai/one", b"2"), ("tai/two", b"3"), ("tai/two", b"4"),
        ("tai/ten", b"5"), ("tai/ten", b"6")]
    assert all(m.alias is None and m.wire_topic == m.topic for m in got)
    assert all(m5.TOPIC_ALIAS not in m.props for m in got)


@pytest.mark.parametrize("alias, reason", [(0, 0x94), (11, 0x94), (65535, 0x94)])
def test_inbound_topic_alias_invalid(broker, alias, reason):
    """Topic Alias 0 [MQTT-3.3.2-8] or above the Topic Alias Maximum the server
    announced (10): DISCONNECT 0x94 (Topic Alias invalid)."""
    c = connected5(broker, f"tabad{alias}")
    c.send(m5.publish5("ta/t", b"x", props={m5.TOPIC_ALIAS: alias}))
    c.expect_disconnect(reason)


def test_inbound_topic_alias_when_none_allowed(broker_factory):
    """max_topic_alias 0: no Topic Alias Maximum in CONNACK, and any alias is
    invalid: DISCONNECT 0x94."""
    b = broker_factory(config="max_topic_alias 0\n", threads=2)
    c = connected5(b, "ta0")
    assert m5.TOPIC_ALIAS_MAXIMUM not in c.connack_props
    c.send(m5.publish5("ta/t", b"x", props={m5.TOPIC_ALIAS: 1}))
    c.expect_disconnect(0x94)


def test_empty_topic_unknown_alias(broker):
    """An empty topic with an alias that was never set is a protocol error:
    DISCONNECT 0x82 [5.0 §3.3.2.3.4]."""
    c = connected5(broker, "ta-unknown")
    c.send(m5.publish5("", b"x", qos=1, pid=1, props={m5.TOPIC_ALIAS: 3}))
    c.expect_disconnect(0x82)


def test_empty_topic_without_alias(broker):
    """An empty topic without a Topic Alias is a protocol error: DISCONNECT 0x82
    [5.0 §3.3.2.1]."""
    c = connected5(broker, "ta-none")
    c.send(m5.publish5("", b"x", qos=1, pid=1))
    c.expect_disconnect(0x82)


def test_inbound_alias_not_carried_to_next_connection(broker):
    """Topic Alias mappings end with the network connection [MQTT-3.3.2-7]: the
    same client reconnecting (session kept) cannot use the old alias."""
    props = {m5.SESSION_EXPIRY_INTERVAL: 60}
    c = connected5(broker, "ta-carry", clean=False, props=props)
    c.publish("ta/carry", b"1", qos=1, props={m5.TOPIC_ALIAS: 2})
    c.disconnect()
    c = connected5(broker, "ta-carry", clean=False, props=props)
    c.send(m5.publish5("", b"2", qos=1, pid=9, props={m5.TOPIC_ALIAS: 2}))
    c.expect_disconnect(0x82)


# ---------------------------------------------------------------- topic aliases (outbound)

def test_outbound_topic_aliases(broker):
    """A subscriber announcing Topic Alias Maximum 2: the first message of a topic
    arrives with the topic and an alias, later ones with an empty topic and the same
    alias; never an alias above 2 [MQTT-3.3.2-11] (Client5 checks every PUBLISH);
    a third topic is still delivered correctly however the server handles it."""
    s = Client5(broker, "oa-sub")
    s.connect_ok("oa-sub", props={m5.TOPIC_ALIAS_MAXIMUM: 2})
    assert s.subscribe([("oa/#", m5.sub_opts(1))]) == [1]
    pub = connected5(broker, "oa-pub")
    seq = ["oa/a", "oa/a", "oa/b", "oa/b", "oa/a", "oa/c", "oa/c", "oa/b", "oa/a"]
    for i, t in enumerate(seq):
        pub.publish(t, b"%d" % i, qos=1)
    got = s.recv_publishes(len(seq))
    assert [(m.topic, m.payload) for m in got] == [(t, b"%d" % i) for i, t in enumerate(seq)]
    a1, a2, b1, b2, a3 = got[:5]
    assert (a1.wire_topic, b1.wire_topic) == ("oa/a", "oa/b")
    assert a1.alias in (1, 2) and b1.alias in (1, 2) and a1.alias != b1.alias
    assert (a2.wire_topic, a2.alias) == ("", a1.alias)
    assert (b2.wire_topic, b2.alias) == ("", b1.alias)
    assert (a3.wire_topic, a3.alias) == ("", a1.alias)
    assert all(m.alias is None or 1 <= m.alias <= 2 for m in got)


def test_outbound_aliases_reset_per_connection(broker):
    """Server aliases are per connection too [MQTT-3.3.2-7]: after a reconnect the
    first message of a topic carries the topic name again."""
    props = {m5.TOPIC_ALIAS_MAXIMUM: 5, m5.SESSION_EXPIRY_INTERVAL: 60}
    s = Client5(broker, "oar")
    s.connect_ok("oar", clean=False, props=props)
    assert s.subscribe([("oar/t", m5.sub_opts(1))]) == [1]
    pub = connected5(broker, "oar-pub")
    pub.publish("oar/t", b"1", qos=1)
    pub.publish("oar/t", b"2", qos=1)
    got = s.recv_publishes(2)
    assert [m.wire_topic for m in got] == ["oar/t", ""]
    s.disconnect()
    s = Client5(broker, "oar")
    s.connect_ok("oar", clean=False, props=props)
    pub.publish("oar/t", b"3", qos=1)
    m = s.recv_publish()
    assert (m.wire_topic, m.payload) == ("oar/t", b"3")


def test_no_outbound_alias_without_maximum(broker):
    """No Topic Alias Maximum from the client: never a Topic Alias [MQTT-3.1.2-27]."""
    s = sub5(broker, "noa-sub", "noa/t")
    pub = connected5(broker, "noa-pub")
    for i in range(4):
        pub.publish("noa/t", b"%d" % i, qos=1)
    got = s.recv_publishes(4)
    assert all(m.alias is None and m.wire_topic == "noa/t" for m in got)


def test_no_outbound_alias_when_broker_limit_0(broker_factory):
    """max_topic_alias_broker 0: Starling never assigns aliases, even to a client
    that allows them."""
    b = broker_factory(config="max_topic_alias_broker 0\n", threads=2)
    s = Client5(b, "noab")
    s.connect_ok("noab", props={m5.TOPIC_ALIAS_MAXIMUM: 5})
    assert s.subscribe([("noab/t", m5.sub_opts(1))]) == [1]
    pub = connected5(b, "noab-pub")
    for i in range(3):
        pub.publish("noab/t", b"%d" % i, qos=1)
    assert all(m.alias is None and m.wire_topic == "noab/t" for m in s.recv_publishes(3))


# ---------------------------------------------------------------- flow control

def test_receive_maximum_exceeded(broker_factory):
    """max_inflight_messages 5 -> CONNACK Receive Maximum 5. With 5 QoS 2 messages
    unacknowledged (no PUBREL sent), completing one makes room for another, but one
    more beyond 5 outstanding is DISCONNECT 0x93 (Receive Maximum exceeded)
    [MQTT-3.3.4-7]."""
    b = broker_factory(config="max_inflight_messages 5\n", threads=2)
    c = connected5(b, "rm-pub")
    assert c.connack_props[m5.RECEIVE_MAXIMUM] == 5
    for pid in range(1, 6):
        c.send(m5.publish5("rm/t", b"x", qos=2, pid=pid))
    for pid in range(1, 6):
        assert m5.decode_ack(c.expect(m5.PUBREC, pid=pid), m5.PUBREC)[1] in (0x00, 0x10)
    c.send(m5.pubrel5(1))
    assert m5.decode_ack(c.expect(m5.PUBCOMP, pid=1), m5.PUBCOMP)[1] == 0x00
    c.send(m5.publish5("rm/t", b"x", qos=2, pid=6))
    assert m5.decode_ack(c.expect(m5.PUBREC, pid=6), m5.PUBREC)[1] in (0x00, 0x10)
    c.send(m5.publish5("rm/t", b"x", qos=2, pid=7))
    c.expect_disconnect(0x93)


def test_client_receive_maximum_respected(broker):
    """A client with Receive Maximum 2 and 10 queued QoS 1 messages never has more
    than 2 unacknowledged [MQTT-3.3.4-9]: exactly 2 arrive, then nothing until one
    is acknowledged; all 10 arrive in order in the end."""
    props = {m5.RECEIVE_MAXIMUM: 2, m5.SESSION_EXPIRY_INTERVAL: 60}
    s = Client5(broker, "rmc", auto_ack=False)
    s.connect_ok("rmc", clean=False, props=props)
    assert s.subscribe([("rmc/t", m5.sub_opts(1))]) == [1]
    s.disconnect()
    pub = connected5(broker, "rmc-pub")
    for i in range(10):
        pub.publish("rmc/t", b"%d" % i, qos=1)
    s = Client5(broker, "rmc", auto_ack=False)
    assert s.connect_ok("rmc", clean=False, props=props)
    window = [s.recv_publish(ack=False), s.recv_publish(ack=False)]
    s.expect_no_publish(0.4)  # Client5 also asserts <= 2 unacked on every PUBLISH
    got = []
    while window:
        m = window.pop(0)
        got.append(m.payload)
        s.ack(m)
        if len(got) + len(window) < 10:
            window.append(s.recv_publish(ack=False))
    assert got == [b"%d" % i for i in range(10)]
    assert s.max_unacked == 2
    s.expect_no_publish(0.2)


def test_client_maximum_packet_size(broker):
    """A client with Maximum Packet Size 100 is not sent a PUBLISH that would be
    larger [MQTT-3.1.2-24] - the server discards it for that client
    [MQTT-3.1.2-25] - but gets a small one; a subscriber without the limit gets
    both."""
    small = Client5(broker, "mps-small")
    small.connect_ok("mps-small", props={m5.MAXIMUM_PACKET_SIZE: 100})
    assert small.subscribe([("mps/t", m5.sub_opts(1))]) == [1]
    big = sub5(broker, "mps-big", "mps/t")
    pub = connected5(broker, "mps-pub")
    pub.publish("mps/t", b"B" * 500, qos=1)
    pub.publish("mps/t", b"s" * 10, qos=1)
    assert [m.payload for m in big.recv_publishes(2)] == [b"B" * 500, b"s" * 10]
    m = small.recv_publish()
    assert m.payload == b"s" * 10
    small.expect_no_publish(0.3)
