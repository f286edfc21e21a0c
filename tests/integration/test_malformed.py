"""Malformed input: every case closes the connection, and the broker keeps serving
new clients afterwards (MQTT 3.1.1 §1.5.3, §2, §3, §4.8; DESIGN §4)."""
import random
import socket
import time

import pytest

import mqtt_raw as mq
from mqtt_raw import SLOW, Client, connected

P = mq.packet
S = mq.mqtt_str
U = mq.u16

# Bytes sent after a successful CONNECT. Each must close the connection with no
# response at all.
AFTER_CONNECT = {
    # §2.2.3: at most 4 bytes of remaining length.
    "remaining-length-5-bytes": b"\x30\xff\xff\xff\xff\x01",
    # Non-minimal remaining length (PINGREQ with a 2-byte zero); MQTT 5 makes this
    # explicit [MQTT-1.5.5-1], 3.1.1 §2.2.3 defines only the minimal encoding.
    "remaining-length-non-minimal": b"\xc0\x80\x00",
    # Reserved fixed-header flags [MQTT-2.2.2-1] [MQTT-2.2.2-2].
    "pingreq-flags-c1": b"\xc1\x00",
    "pubrel-flags-60": b"\x60\x02\x00\x01",
    "pubrel-flags-63": b"\x63\x02\x00\x01",
    "puback-flags-41": b"\x41\x02\x00\x01",
    "pubrec-flags-52": b"\x52\x02\x00\x01",
    "pubcomp-flags-72": b"\x72\x02\x00\x01",
    "subscribe-flags-80": mq.subscribe(1, [("a", 0)], flags=0),
    "unsubscribe-flags-a0": mq.unsubscribe(1, ["a"], flags=0),
    "disconnect-flags-e1": b"\xe1\x00",
    # Reserved packet types 0 and 15 (§2.2.1).
    "type-0": b"\x00\x00",
    "type-15": b"\xf0\x00",
    # Server-to-client packets sent by a client.
    "client-sends-connack": b"\x20\x02\x00\x00",
    "client-sends-suback": b"\x90\x03\x00\x01\x00",
    "client-sends-unsuback": b"\xb0\x02\x00\x01",
    "client-sends-pingresp": b"\xd0\x00",
    # Packet identifier 0 [MQTT-2.3.1-1].
    "publish-qos1-pid-0": mq.publish("a", b"x", qos=1, pid=0),
    "publish-qos2-pid-0": mq.publish("a", b"x", qos=2, pid=0),
    "subscribe-pid-0": mq.subscribe(0, [("a", 0)]),
    "unsubscribe-pid-0": mq.unsubscribe(0, ["a"]),
    # QoS 3 [MQTT-3.3.1-4]; DUP with QoS 0 [MQTT-3.3.1-2].
    "publish-qos-3": P(mq.PUBLISH, 0x06, S("a") + U(1) + b"x"),
    "publish-qos-3-retain": P(mq.PUBLISH, 0x07, S("a") + U(1) + b"x"),
    "publish-dup-qos-0": P(mq.PUBLISH, 0x08, S("a") + b"x"),
    # Wildcards in a topic name [MQTT-3.3.2-2]; empty topic [MQTT-4.7.3-1].
    "publish-topic-plus": mq.publish("a/+", b"x"),
    "publish-topic-hash": mq.publish("a/#", b"x"),
    "publish-topic-only-plus": mq.publish("+", b"x"),
    "publish-topic-only-hash": mq.publish("#", b"x"),
    "publish-topic-plus-inside": mq.publish("a+b", b"x"),
    "publish-topic-empty": mq.publish("", b"x"),
    "publish-topic-empty-qos1": mq.publish("", b"x", qos=1, pid=1),
    # Lengths that do not fit the packet.
    "publish-topic-past-end": b"\x30\x05\x00\x0a\x61\x62\x63",
    "publish-no-topic": b"\x30\x00",
    "publish-one-byte": b"\x30\x01\x00",
    "publish-qos1-no-pid": b"\x32\x03\x00\x01\x61",
    "subscribe-filter-past-end": b"\x82\x06\x00\x01\x00\x09\x61\x62",
    "subscribe-only-pid": b"\x82\x02\x00\x01",
    "unsubscribe-filter-past-end": b"\xa2\x05\x00\x01\x00\x05\x61",
    "puback-length-3": b"\x40\x03\x00\x01\x00",
    "puback-length-1": b"\x40\x01\x00",
    "pubrec-length-0": b"\x50\x00",
    "pubrel-length-3": b"\x62\x03\x00\x01\x00",
    "pubcomp-length-4": b"\x70\x04\x00\x01\x00\x00",
    "disconnect-with-payload": b"\xe0\x01\x00",
    "pingreq-with-payload": b"\xc0\x02\x00\x00",
    "http-request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
}

BAD_UTF8 = {
    "overlong-c0af": b"\xc0\xaf",
    "surrogate-eda080": b"\xed\xa0\x80",
    "nul": b"\x00",
}
MORE_BAD_UTF8 = {
    "lone-continuation": b"\x80",
    "truncated-3-byte": b"\xe2\x82",
    "above-10ffff": b"\xf4\x90\x80\x80",
    "byte-ff": b"\xff",
    "5-byte-form": b"\xf8\x88\x80\x80\x80",
    "overlong-3-byte-nul": b"\xe0\x80\x80",
}
for k, v in BAD_UTF8.items():
    AFTER_CONNECT[f"utf8-topic-{k}"] = mq.publish(b"t/" + v + b"/x", b"x")
    AFTER_CONNECT[f"utf8-topic-qos1-{k}"] = mq.publish(b"t" + v, b"x", qos=1, pid=3)
    AFTER_CONNECT[f"utf8-filter-{k}"] = mq.subscribe(1, [(b"f/" + v, 0)])
    AFTER_CONNECT[f"utf8-unsub-filter-{k}"] = mq.unsubscribe(1, [b"f/" + v])
for k, v in MORE_BAD_UTF8.items():
    AFTER_CONNECT[f"utf8-topic-{k}"] = mq.publish(b"t/" + v, b"x")

# CONNECTs that must be refused: closed, with at most a CONNACK carrying a non-zero
# return code before the close.
BAD_CONNECTS = {
    "connect-remaining-length-5-bytes": b"\x10\xff\xff\xff\xff\x01",
    "connect-client-id-past-end": P(mq.CONNECT, 0, S("MQTT") + b"\x04\x02" + U(60) + U(20) + b"abc"),
    "connect-no-payload": P(mq.CONNECT, 0, S("MQTT") + b"\x04\x02" + U(60)),
    "connect-will-missing": P(mq.CONNECT, 0, S("MQTT") + b"\x04\x06" + U(60) + S("id")),
    "connect-username-missing": P(mq.CONNECT, 0, S("MQTT") + b"\x04\x82" + U(60) + S("id")),
    "connect-empty": b"\x10\x00",
    # The will topic is a topic name (§3.1.3.2): no wildcards [MQTT-3.3.2-2], not
    # empty [MQTT-4.7.3-1].
    "connect-will-topic-wildcard": mq.connect("wtw", will_topic="w/+", will_payload=b"p"),
    "connect-will-topic-hash": mq.connect("wth", will_topic="w/#", will_payload=b"p"),
    "connect-will-topic-empty": mq.connect("wte", will_topic="", will_payload=b"p"),
    "connect-trailing-garbage": P(mq.CONNECT, 0, S("MQTT") + b"\x04\x02" + U(60) + S("id") + b"zz"),
}
for k, v in BAD_UTF8.items():
    BAD_CONNECTS[f"utf8-client-id-{k}"] = mq.connect(b"id" + v)
    BAD_CONNECTS[f"utf8-will-topic-{k}"] = mq.connect("wt", will_topic=b"w/" + v, will_payload=b"p")
    BAD_CONNECTS[f"utf8-username-{k}"] = mq.connect("un", username=b"u" + v, password=b"p")


def refused_connack(p):
    return p.type == mq.CONNACK and len(p.body) == 2 and p.body[1] != 0


@pytest.mark.parametrize("data", list(AFTER_CONNECT.values()), ids=list(AFTER_CONNECT))
def test_malformed_after_connect(broker, data):
    """Each malformed packet closes the connection without a response; the broker
    then serves a new client [MQTT-4.8.0-1] (§4.8)."""
    c = connected(broker, "mal")
    c.raw(data)
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


@pytest.mark.parametrize("data", list(BAD_CONNECTS.values()), ids=list(BAD_CONNECTS))
def test_malformed_connect(broker, data):
    """Malformed CONNECTs, including ill-formed UTF-8 and U+0000 in the client id,
    will topic and user name [MQTT-1.5.3-1] [MQTT-1.5.3-2]: closed, never accepted."""
    c = Client(broker)
    c.raw(data)
    c.expect_closed(allowed=refused_connack)
    mq.broker_serves(broker)


def test_bad_utf8_publish_not_routed(broker):
    """A PUBLISH with an ill-formed topic is not delivered to anyone [MQTT-1.5.3-1]."""
    sub = connected(broker, "utf-sub")
    assert sub.subscribe([("#", 0)]) == [0]
    c = connected(broker, "utf-pub")
    c.raw(mq.publish(b"t/\xed\xa0\x80", b"x"))
    c.expect_closed(allowed=())
    sub.expect_no_publish(0.3)


def test_password_is_binary(broker):
    """The password is binary data, not a UTF-8 string: invalid UTF-8 and 0x00 there
    are accepted (§3.1.3.5)."""
    c = Client(broker)
    assert c.connect("pwbin", username="u", password=b"\xc0\xaf\x00\xed\xa0\x80") == (False, 0)
    c.ping()


def test_max_packet_size(broker_factory):
    """`max_packet_size 100`: a 200-byte PUBLISH closes the connection and is not
    delivered; a 50-byte one is delivered."""
    b = broker_factory(config="max_packet_size 100\n", threads=2)
    sub = connected(b, "mps-sub")
    assert sub.subscribe([("mps/t", 1)]) == [1]
    pub = connected(b, "mps-pub")
    small = mq.publish("mps/t", b"s" * 39, qos=1, pid=1)
    assert len(small) == 50
    pub.publish("mps/t", b"s" * 39, qos=1)
    assert sub.recv_publish().payload == b"s" * 39
    big = mq.publish("mps/t", b"b" * 188, qos=1, pid=2)
    assert len(big) == 200
    pub.raw(big)
    pub.expect_closed(allowed=())
    sub.expect_no_publish(0.3)
    mq.broker_serves(b)


def test_huge_remaining_length_over_limit(broker_factory):
    """A header announcing 268435455 bytes with `max_packet_size 1000` is refused as
    soon as the header is read: closed promptly, without waiting for the body."""
    b = broker_factory(config="max_packet_size 1000\n", threads=2)
    c = connected(b, "huge")
    t0 = time.monotonic()
    c.raw(b"\x30\xff\xff\xff\x7f" + b"\x00\x01a" + b"x" * 16)
    c.expect_closed(timeout=2, allowed=())
    assert time.monotonic() - t0 < 2 * SLOW
    mq.broker_serves(b)


def test_huge_remaining_length_no_allocation(broker):
    """With no max_packet_size, several connections announcing 268435455-byte
    packets and sending only a little must not make the broker allocate for the
    announced size: VmRSS grows by less than 50 MB (DESIGN §4)."""
    before = mq.rss_kb(broker.proc.pid)
    clients = []
    for i in range(4):
        c = connected(broker, f"huge{i}")
        c.raw(b"\x30\xff\xff\xff\x7f" + b"\x00\x01a" + b"x" * 65536)
        clients.append(c)
    time.sleep(0.3 * SLOW)
    after = mq.rss_kb(broker.proc.pid)
    assert after - before < 50 * 1024, f"VmRSS grew from {before} kB to {after} kB"
    for c in clients:
        c.close()
    mq.broker_serves(broker)


def test_garbage_first_packet(broker):
    """1 KB of random bytes instead of a CONNECT: closed, nothing sent back."""
    rnd = random.Random(20240611)
    for i in range(5):
        data = bytes(rnd.randrange(256) for _ in range(1024))
        if data[0] >> 4 == mq.CONNECT:
            data = b"\xff" + data[1:]
        c = Client(broker)
        c.raw(data)
        c.expect_closed(allowed=())
    mq.broker_serves(broker)


def test_byte_at_a_time(broker):
    """Framing survives packets split into single bytes: CONNECT, SUBSCRIBE, PUBLISH
    and PINGREQ sent one byte per write all work (§2.2.3)."""
    c = Client(broker)
    stream = (mq.connect("trickle") + mq.subscribe(1, [("tr/t", 1)]) +
              mq.publish("tr/t", b"slow", qos=1, pid=2) + mq.pingreq())
    for byte in stream:
        c.send(bytes([byte]))
        time.sleep(0.001)
    kinds = []
    got = None
    for _ in range(5):
        p = c.recv_packet()
        kinds.append(p.type)
        if p.type == mq.PUBLISH:
            got = mq.decode_publish(p)
            c.send(mq.puback(got.pid))
    assert sorted(kinds) == sorted([mq.CONNACK, mq.SUBACK, mq.PUBACK, mq.PUBLISH, mq.PINGRESP])
    assert kinds[0] == mq.CONNACK
    assert got.payload == b"slow"


def _fuzz_case(rnd):
    kind = rnd.randrange(3)
    if kind == 0:  # pure noise
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
    # a plausible fixed header with a random body, sometimes lying about the length
    first = rnd.choice([0x30, 0x32, 0x34, 0x3b, 0x40, 0x50, 0x62, 0x70, 0x82, 0xa2, 0xc0, 0xe0,
                        rnd.randrange(256)])
    body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 200)))
    if kind == 1:
        return bytes([first]) + mq.varint(len(body)) + body
    n = rnd.choice([len(body) + 1, len(body) + 1000, max(0, len(body) - 1), rnd.randrange(1 << 21)])
    return bytes([first]) + mq.varint(n) + body


def test_fuzz_after_connect(broker):
    """200 random byte strings, each after a valid CONNECT on its own connection:
    the broker never dies, never hangs, and still serves a client afterwards."""
    rnd = random.Random(0x5EED)
    t_end = time.monotonic() + 60 * SLOW
    for i in range(200):
        c = connected(broker, f"fz{i % 7}" if i % 3 else "")
        c.raw(_fuzz_case(rnd))
        try:
            c.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        c.expect_closed(timeout=3, allowed=lambda p: True)
        c.close()
        assert broker.alive(), f"broker died on case {i}:\n" + broker.log()[-3000:]
        assert time.monotonic() < t_end
    mq.broker_serves(broker)


def test_oversized_first_packet_refused_before_buffering(broker):
    """With max_packet_size unlimited (the default), a first packet larger than
    the largest possible 3.1.1 CONNECT (5 + 10 + 5 x 65,537 bytes) is refused
    as soon as its fixed header arrives: an unauthenticated peer cannot make the
    broker buffer megabytes."""
    c = Client(broker, "huge-connect")
    # CONNECT claiming 1 MB, then a little data.
    c.raw(b"\x10\x80\x80\x40" + b"\x00\x04MQTT\x04\x02\x00\x3c")
    c.expect_closed(timeout=3)
    mq.broker_serves(broker)


def test_largest_connect_accepted(broker):
    """The largest legitimate CONNECT (id, will topic, will payload, user name and
    password near 65,535 bytes each) is not caught by that bound."""
    c = Client(broker, "big-connect")
    sp, rc = c.connect("i" * 65535, will_topic="w" * 65000, will_payload=b"p" * 65535,
                       username="u" * 65535, password=b"s" * 65535, timeout=10)
    assert rc == 0
