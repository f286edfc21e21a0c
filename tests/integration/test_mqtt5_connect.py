"""MQTT 5.0 CONNECT / CONNACK, raw bytes (5.0 §3.1, §3.2, §4.13; docs/mqtt5.md
"Connecting" and "Configuration directives").

The encoder is tests/integration/mqtt5_raw.py, written from the specification."""
import pytest

import mqtt_raw as mq
import mqtt5_raw as m5
from mqtt5_raw import Client5, connected5


def connack(broker, client_id="", **kw):
    c = Client5(broker, client_id or "probe")
    sp, rc, props = c.connect(client_id, **kw)
    assert rc == 0, f"CONNACK {rc:#x} {props}"
    return c, sp, props


# ---------------------------------------------------------------- CONNACK properties

def test_connack_default_properties(broker):
    """A 5.0 CONNECT is accepted [MQTT-3.1.4-5] and CONNACK announces the defaults:
    Receive Maximum 20 (max_inflight_messages), Topic Alias Maximum 10, Retain
    Available 1, Wildcard / Subscription Identifier / Shared Subscription Available
    1; no Maximum QoS (max_qos is 2) [MQTT-3.2.2-9], no Maximum Packet Size (none
    set), no Assigned Client Identifier (one was given), no Server Keep Alive (the
    client's 60 is within max_keepalive) [MQTT-3.2.2-22]; no Authentication Method
    (the client sent none) [MQTT-4.12.0-6]."""
    c, sp, props = connack(broker, "defaults")
    assert sp is False  # Clean Start 1 [MQTT-3.2.2-2]
    assert props[m5.RECEIVE_MAXIMUM] == 20
    assert props[m5.TOPIC_ALIAS_MAXIMUM] == 10
    assert props[m5.RETAIN_AVAILABLE] == 1
    assert props[m5.WILDCARD_SUBSCRIPTION_AVAILABLE] == 1
    assert props[m5.SUBSCRIPTION_IDENTIFIER_AVAILABLE] == 1
    assert props[m5.SHARED_SUBSCRIPTION_AVAILABLE] == 1
    for absent in (m5.MAXIMUM_QOS, m5.MAXIMUM_PACKET_SIZE, m5.ASSIGNED_CLIENT_IDENTIFIER,
                   m5.SERVER_KEEP_ALIVE, m5.AUTHENTICATION_METHOD, m5.AUTHENTICATION_DATA,
                   m5.RESPONSE_INFORMATION, m5.SERVER_REFERENCE):
        assert absent not in props, f"{m5.PROPS[absent][0]} in default CONNACK: {props}"
    c.ping()
    c.disconnect()


def test_connack_configured_properties(broker_factory):
    """The directives show up in CONNACK: max_qos 1 -> Maximum QoS 1
    [MQTT-3.2.2-9], max_packet_size -> Maximum Packet Size, max_inflight_messages
    -> Receive Maximum, max_topic_alias -> Topic Alias Maximum, retain_available
    false -> Retain Available 0."""
    b = broker_factory(config="max_qos 1\nmax_packet_size 1000\nmax_inflight_messages 7\n"
                              "max_topic_alias 3\nretain_available false\n", threads=2)
    c, _, props = connack(b, "configured")
    assert props[m5.MAXIMUM_QOS] == 1
    assert props[m5.MAXIMUM_PACKET_SIZE] == 1000
    assert props[m5.RECEIVE_MAXIMUM] == 7
    assert props[m5.TOPIC_ALIAS_MAXIMUM] == 3
    assert props[m5.RETAIN_AVAILABLE] == 0
    c.disconnect()


def test_connack_qos0_no_alias_unbounded_inflight(broker_factory):
    """max_qos 0 -> Maximum QoS 0; max_topic_alias 0 -> no Topic Alias Maximum
    (absent means 0); max_inflight_messages 0 -> Receive Maximum 65,535 (sent, or
    absent which means the same [5.0 §3.2.2.3.3])."""
    b = broker_factory(config="max_qos 0\nmax_topic_alias 0\nmax_inflight_messages 0\n",
                       threads=2)
    c, _, props = connack(b, "qos0")
    assert props[m5.MAXIMUM_QOS] == 0
    assert props.get(m5.TOPIC_ALIAS_MAXIMUM, 0) == 0
    assert m5.TOPIC_ALIAS_MAXIMUM not in props
    assert props.get(m5.RECEIVE_MAXIMUM, 65535) == 65535
    c.disconnect()


def test_assigned_client_identifier(broker):
    """An empty Client Identifier gets a new unique one, returned as Assigned Client
    Identifier [MQTT-3.1.3-6] [MQTT-3.1.3-7] [MQTT-3.2.2-16]."""
    c1, _, p1 = connack(broker, "")
    c2, _, p2 = connack(broker, "")
    a1, a2 = p1[m5.ASSIGNED_CLIENT_IDENTIFIER], p2[m5.ASSIGNED_CLIENT_IDENTIFIER]
    assert a1 and a2 and a1 != a2
    # Both connections stay up: neither took the other over.
    c1.ping()
    c2.ping()
    c1.disconnect()
    c2.disconnect()


def test_assigned_client_identifier_with_clean_start_0(broker):
    """5.0 allows an empty Client Identifier with Clean Start 0 (unlike 3.1.1): it is
    assigned, the session is new (Session Present 0), and the assigned identifier
    names that session: reconnecting with it resumes the session."""
    c = Client5(broker, "anon-persistent")
    sp, rc, props = c.connect("", clean=False, props={m5.SESSION_EXPIRY_INTERVAL: 60})
    assert (sp, rc) == (False, 0)
    cid = props[m5.ASSIGNED_CLIENT_IDENTIFIER]
    assert cid
    assert c.subscribe([("acid/t", 1)]) == [1]
    c.disconnect()
    c = Client5(broker, "again")
    sp, rc, props = c.connect(cid, clean=False, props={m5.SESSION_EXPIRY_INTERVAL: 60})
    assert (sp, rc) == (True, 0)  # [MQTT-3.2.2-3]
    assert m5.ASSIGNED_CLIENT_IDENTIFIER not in props
    pub = connected5(broker, "acid-pub")
    pub.publish("acid/t", b"to-session", qos=1)
    assert c.recv_publish().payload == b"to-session"
    c.disconnect()


def test_server_keep_alive(broker_factory):
    """max_keepalive 10: a client asking 60 or 0 gets Server Keep Alive 10; a client
    asking 5 gets none (the server uses the client's value) [MQTT-3.2.2-22]."""
    b = broker_factory(config="max_keepalive 10\n", threads=2)
    for asked, told in ((60, 10), (0, 10), (5, None), (10, None)):
        c, _, props = connack(b, f"ka{asked}", keepalive=asked)
        assert props.get(m5.SERVER_KEEP_ALIVE) == told, (asked, props)
        c.disconnect()


def test_server_keep_alive_is_enforced(broker_factory):
    """The Server Keep Alive replaces the client's value [MQTT-3.2.2-21]: with
    max_keepalive 1 a client asking 60 is disconnected after about 1.5 s of silence
    with DISCONNECT 0x8D (Keep Alive timeout) [MQTT-3.1.2-22]."""
    b = broker_factory(config="max_keepalive 1\n", threads=2)
    c, _, props = connack(b, "ka-enforced", keepalive=60)
    assert props[m5.SERVER_KEEP_ALIVE] == 1
    rc, dprops = c.expect_disconnect(0x8D, timeout=4)
    assert m5.REASON_STRING in dprops  # docs/mqtt5.md: a reason code and a Reason String


# ---------------------------------------------------------------- sessions

def test_clean_start_and_session_present(broker):
    """Clean Start 0 with no session: Session Present 0 [MQTT-3.2.2-3]; again after
    a disconnect (Session Expiry 60): Session Present 1 and the subscription is
    there [MQTT-3.1.2-5]; Clean Start 1 discards it: Session Present 0
    [MQTT-3.1.2-4] [MQTT-3.2.2-2] and the old subscription is gone."""
    exp = {m5.SESSION_EXPIRY_INTERVAL: 60}
    c = Client5(broker, "cs")
    assert c.connect("cs", clean=False, props=exp)[:2] == (False, 0)
    assert c.subscribe([("cs/t", 1)]) == [1]
    c.disconnect()
    c = Client5(broker, "cs")
    assert c.connect("cs", clean=False, props=exp)[:2] == (True, 0)
    pub = connected5(broker, "cs-pub")
    pub.publish("cs/t", b"one", qos=1)
    assert c.recv_publish().payload == b"one"
    c.disconnect()
    c = Client5(broker, "cs")
    assert c.connect("cs", clean=True, props=exp)[:2] == (False, 0)
    pub.publish("cs/t", b"two", qos=1)
    c.expect_no_publish(0.3)
    c.disconnect()


def test_takeover_sends_disconnect_8e(broker):
    """A second connection with the same Client Identifier takes the session over:
    the first receives DISCONNECT 0x8E (Session taken over) and is closed
    [MQTT-3.1.4-3]; the new one works."""
    old = connected5(broker, "taken")
    new = connected5(broker, "taken", name="taker")
    old.expect_disconnect(0x8E)
    new.ping()
    new.disconnect()


def test_takeover_of_311_client_by_5_client(broker):
    """A 3.1.1 connection taken over by a 5.0 one is just closed (3.1.1 has no
    server DISCONNECT)."""
    old = mq.connected(broker, "mixed-taken")
    new = connected5(broker, "mixed-taken", name="taker5")
    old.expect_closed(allowed=())
    new.ping()


def test_second_connect_is_protocol_error(broker):
    """A second CONNECT on a connection is a Protocol Error [MQTT-3.1.0-2]:
    DISCONNECT 0x82."""
    c = connected5(broker, "twice")
    c.send(m5.connect5("twice"))
    c.expect_disconnect(0x82)


# ---------------------------------------------------------------- refusals

def test_zero_length_client_id_refused(broker_factory):
    """allow_zero_length_clientid false: an empty Client Identifier is refused with
    CONNACK 0x85 (Client Identifier not valid) and the connection closed
    [MQTT-3.1.3-8] [MQTT-3.2.2-7]."""
    b = broker_factory(config="allow_zero_length_clientid false\n", threads=2)
    Client5(b, "empty").connect_refused(0x85, "")
    connected5(b, "named").disconnect()


def test_anonymous_refused(broker_factory):
    """allow_anonymous false and no authentication: CONNACK 0x87 (Not authorized)
    [MQTT-3.1.4-2]."""
    b = broker_factory(config="allow_anonymous false\n", threads=2)
    Client5(b, "anon").connect_refused(0x87, "anon")


def test_unknown_authentication_method(broker):
    """An Authentication Method the server does not support: CONNACK 0x8C (Bad
    authentication method) and close [MQTT-4.12.0-1]."""
    Client5(broker, "badauth").connect_refused(
        0x8C, "badauth", props={m5.AUTHENTICATION_METHOD: "NO-SUCH-METHOD",
                                m5.AUTHENTICATION_DATA: b"x"})


@pytest.mark.parametrize("permanent, code", [(False, 0x9C), (True, 0x9D)])
def test_server_reference(broker_factory, permanent, code):
    """server_reference: every 5.0 CONNECT is refused with 0x9C (Use another server)
    or, with server_reference_permanent true, 0x9D (Server moved), carrying the
    Server Reference [5.0 §4.11]; a 3.1.1 client gets return code 3 (Server
    unavailable)."""
    conf = "server_reference other.example:1883\n"
    if permanent:
        conf += "server_reference_permanent true\n"
    b = broker_factory(config=conf, threads=2)
    props = Client5(b, "redirected").connect_refused(code, "redirected")
    assert props[m5.SERVER_REFERENCE] == "other.example:1883"
    old = mq.Client(b, "old")
    assert old.connect("old311") == (False, 3)
    old.expect_closed(allowed=())


def test_retained_will_refused_without_retain(broker_factory):
    """retain_available false and a will with Will Retain 1: CONNACK 0x9A (Retain not
    supported) [MQTT-3.2.2-13]; a non-retained will is fine."""
    b = broker_factory(config="retain_available false\n", threads=2)
    Client5(b, "rw").connect_refused(
        0x9A, "rw", will={"topic": "w/t", "payload": b"x", "retain": True})
    connected5(b, "nrw", will={"topic": "w/t", "payload": b"x"}).disconnect()


def test_will_qos_above_max_qos_refused(broker_factory):
    """max_qos 1 and a will with QoS 2: CONNACK 0x9B (QoS not supported)
    [MQTT-3.2.2-12]; will QoS 1 is accepted."""
    b = broker_factory(config="max_qos 1\n", threads=2)
    Client5(b, "wq2").connect_refused(0x9B, "wq2", will={"topic": "w/t", "qos": 2})
    connected5(b, "wq1", will={"topic": "w/t", "qos": 1}).disconnect()


# ---------------------------------------------------------------- malformed properties

def raw_block(entries):
    """Encodes properties without the length, in the given order (duplicates kept)."""
    return b"".join(m5.varint(i) + m5.prop_value(m5.PROPS[i][1], v) for i, v in entries)


MALFORMED_CONNECT_PROPS = [
    # (id, property block, expected CONNACK reason)
    ("duplicate-session-expiry",
     raw_block([(m5.SESSION_EXPIRY_INTERVAL, 10), (m5.SESSION_EXPIRY_INTERVAL, 20)]), 0x82),
    ("duplicate-receive-maximum",
     raw_block([(m5.RECEIVE_MAXIMUM, 10), (m5.RECEIVE_MAXIMUM, 10)]), 0x82),
    ("unknown-id-0x7f", b"\x7f\x00\x00\x00\x01", 0x81),
    ("receive-maximum-0", raw_block([(m5.RECEIVE_MAXIMUM, 0)]), 0x82),
    ("maximum-packet-size-0", raw_block([(m5.MAXIMUM_PACKET_SIZE, 0)]), 0x82),
    ("auth-data-without-method", raw_block([(m5.AUTHENTICATION_DATA, b"abc")]), 0x82),
    # A value cut short by the end of the block.
    ("session-expiry-cut-short", b"\x11\x00\x00", 0x81),
    # Ill-formed UTF-8 in a string property [MQTT-1.5.4-1].
    ("bad-utf8-user-property", b"\x26\x00\x02\xc3\x28\x00\x01v", 0x81),
    # An identifier that is not valid for CONNECT (Topic Alias) [5.0 §2.2.2.2].
    ("topic-alias-in-connect", raw_block([(m5.TOPIC_ALIAS, 1)]), 0x81),
    # Request Problem/Response Information other than 0 or 1 [5.0 §3.1.2.11.6-7].
    ("request-problem-information-2", raw_block([(m5.REQUEST_PROBLEM_INFORMATION, 2)]), 0x82),
    ("request-response-information-2",
     raw_block([(m5.REQUEST_RESPONSE_INFORMATION, 2)]), 0x82),
]


@pytest.mark.parametrize("name, block, reason", MALFORMED_CONNECT_PROPS,
                         ids=[m[0] for m in MALFORMED_CONNECT_PROPS])
def test_malformed_connect_properties(broker, name, block, reason):
    """A malformed CONNECT property block is refused with CONNACK 0x81, a protocol
    error in it (duplicate, value out of range, Authentication Data without Method)
    with 0x82, and the connection is closed [MQTT-3.1.4-1] [MQTT-3.2.2-7]
    [MQTT-4.13.1-1]. The broker keeps serving."""
    c = Client5(broker, name)
    c.connect_refused(reason, name, props=block)
    connected5(broker, "after-" + name).disconnect()


def test_malformed_will_properties(broker):
    """The Will Properties are checked the same way: a duplicate Will Delay Interval
    is a protocol error (0x82), Session Expiry Interval (not a will property) makes
    the packet malformed (0x81)."""
    dup = raw_block([(m5.WILL_DELAY_INTERVAL, 1), (m5.WILL_DELAY_INTERVAL, 2)])
    Client5(broker, "wdup").connect_refused(
        0x82, "wdup", will={"topic": "w/t", "payload": b"x", "props": dup})
    bad = raw_block([(m5.SESSION_EXPIRY_INTERVAL, 1)])
    Client5(broker, "wbad").connect_refused(
        0x81, "wbad", will={"topic": "w/t", "payload": b"x", "props": bad})


def test_property_length_past_the_end(broker):
    """A Property Length running past the end of the packet: CONNACK 0x81 then close,
    or just close [MQTT-3.1.4-1]; either way no session is created."""
    # Property Length 100, but only 5 property bytes and the client id follow.
    body = (m5.mqtt_str("MQTT") + bytes([5, 0x02]) + m5.u16(60) + m5.varint(100)
            + b"\x11\x00\x00\x00\x0a" + m5.mqtt_str("pastend"))
    c = Client5(broker, "pastend")
    c.send(m5.packet(m5.CONNECT, 0, body))
    seen = c.expect_closed(allowed=(m5.CONNACK,))
    if seen:
        assert m5.decode_connack(seen[0])[1] == 0x81, seen
    connected5(broker, "after-pastend").disconnect()


# ---------------------------------------------------------------- request / response

def test_response_information(broker_factory):
    """Request Response Information 1 -> Response Information from
    `response_information`, with %c replaced by the Client Identifier; 0 or absent
    -> none [MQTT-3.1.2-28]."""
    b = broker_factory(config="response_information reply/%c\n", threads=2)
    c, _, props = connack(b, "rri", props={m5.REQUEST_RESPONSE_INFORMATION: 1})
    assert props[m5.RESPONSE_INFORMATION] == "reply/rri"
    c.disconnect()
    c, _, props = connack(b, "rri0", props={m5.REQUEST_RESPONSE_INFORMATION: 0})
    assert m5.RESPONSE_INFORMATION not in props
    c.disconnect()
    c, _, props = connack(b, "rri-absent")
    assert m5.RESPONSE_INFORMATION not in props
    c.disconnect()


def test_response_information_unset(broker):
    """Without `response_information` a request gets no Response Information."""
    c, _, props = connack(broker, "rri-unset", props={m5.REQUEST_RESPONSE_INFORMATION: 1})
    assert m5.RESPONSE_INFORMATION not in props
    c.disconnect()


def test_all_connect_properties_accepted(broker):
    """Every property CONNECT may carry, each once (User Property twice), is
    accepted [5.0 §3.1.2.11]."""
    props = [(m5.SESSION_EXPIRY_INTERVAL, 30), (m5.RECEIVE_MAXIMUM, 100),
             (m5.MAXIMUM_PACKET_SIZE, 100000), (m5.TOPIC_ALIAS_MAXIMUM, 5),
             (m5.REQUEST_RESPONSE_INFORMATION, 0), (m5.REQUEST_PROBLEM_INFORMATION, 1),
             (m5.USER_PROPERTY, ("k", "v1")), (m5.USER_PROPERTY, ("k", "v2"))]
    will = {"topic": "w/all", "payload": b"bye", "qos": 1,
            "props": [(m5.WILL_DELAY_INTERVAL, 0), (m5.PAYLOAD_FORMAT_INDICATOR, 1),
                      (m5.MESSAGE_EXPIRY_INTERVAL, 60), (m5.CONTENT_TYPE, "text/plain"),
                      (m5.RESPONSE_TOPIC, "w/resp"), (m5.CORRELATION_DATA, b"\x01"),
                      (m5.USER_PROPERTY, ("a", "b"))]}
    c, sp, _ = connack(broker, "allprops", props=props, will=will, username="u",
                       password=b"p")
    c.ping()
    c.disconnect()


def test_shutdown_sends_disconnect_8b(broker_factory):
    """A broker shutting down (SIGTERM) tells 5.0 clients DISCONNECT 0x8B (Server
    shutting down) before closing (docs/mqtt5.md "Server-sent DISCONNECT"); 3.1.1
    clients are just closed."""
    b = broker_factory(threads=2)
    c5 = connected5(b, "shut5")
    c3 = mq.connected(b, "shut3")
    assert b.stop() == 0
    c5.expect_disconnect(0x8B)
    c3.expect_closed(allowed=())


def test_reason_string_respects_client_maximum_packet_size(broker):
    """The server must not send a Reason String or User Property that would make a
    packet larger than the client's Maximum Packet Size [MQTT-3.4.2-2]
    [MQTT-3.14.2-3]: a client allowing 24 bytes (room for the CONNACK, whose other
    properties cannot be left out) still gets its PUBACK 0x99 and DISCONNECT 0x94,
    at most 24 bytes long (Client5 checks every packet's size)."""
    s = connected5(broker, "mps-rs-sub")
    assert s.subscribe([("mpsrs/t", m5.sub_opts(1))]) == [1]
    c = Client5(broker, "mps-rs")
    _, rc, props = c.connect("mps-rs", props={m5.MAXIMUM_PACKET_SIZE: 24})
    assert rc == 0
    pid, reason, aprops = c.publish("mpsrs/t", b"\xff", qos=1,
                                    props={m5.PAYLOAD_FORMAT_INDICATOR: 1})
    assert reason == 0x99
    c.send(m5.publish5("mpsrs/t", b"x", props={m5.TOPIC_ALIAS: 0}))
    c.expect_disconnect(0x94)
