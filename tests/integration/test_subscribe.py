"""SUBSCRIBE / UNSUBSCRIBE and topic matching (MQTT 3.1.1 §3.8-3.11, §4.7)."""
import time

import pytest

import mqtt_raw as mq
from mqtt_raw import SLOW, connected


def test_suback_codes_in_order(broker):
    """SUBACK has the SUBSCRIBE's packet id [MQTT-3.8.4-2] and one return code per
    filter, in order [MQTT-3.8.4-5] [MQTT-3.9.3-1]; granted = requested here."""
    c = connected(broker, "suback")
    c.send(mq.subscribe(0x0A0B, [("s/a", 0), ("s/b", 1), ("s/c", 2), ("s/d", 1), ("s/e", 0)]))
    p = c.recv_packet()
    assert p.raw == b"\x90\x07\x0a\x0b\x00\x01\x02\x01\x00", f"got {p!r}"
    c.send(mq.subscribe(1, [("s/x", 2)]))
    assert c.recv_packet().raw == b"\x90\x03\x00\x01\x02"


def test_multiple_filters_one_subscribe(broker):
    """Every filter of a multi-filter SUBSCRIBE is in effect [MQTT-3.8.4-4]."""
    sub = connected(broker, "multi-sub")
    assert sub.subscribe([("m/a", 0), ("m/b/+", 1), ("m/c/#", 2)]) == [0, 1, 2]
    pub = connected(broker, "multi-pub")
    pub.publish("m/a", b"1", qos=2)
    pub.publish("m/b/x", b"2", qos=2)
    pub.publish("m/c/d/e", b"3", qos=2)
    pub.publish("m/z", b"no", qos=2)
    got = {m.payload: m.qos for m in sub.collect(quiet=0.3)}
    assert got == {b"1": 0, b"2": 1, b"3": 2}


# (filter, topics that match); every topic of TOPICS not listed must not match.
# From the examples in §4.7.1.2, §4.7.1.3 and §4.7.2.
TOPICS = ["sport", "sport/", "sport/tennis", "sport/tennis/player1",
          "sport/tennis/player1/ranking", "sport/tennis/player1/score/wimbledon",
          "sport/tennis/player2", "sport/badminton", "/finance", "finance", "/",
          "a//b", "a/b", "a/x/b", "Sport"]
MATCHES = [
    ("sport/tennis/player1/#", {"sport/tennis/player1", "sport/tennis/player1/ranking",
                                "sport/tennis/player1/score/wimbledon"}),
    ("sport/tennis/#", {"sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
                        "sport/tennis/player1/score/wimbledon", "sport/tennis/player2"}),
    ("sport/#", {t for t in TOPICS if t.startswith("sport")}),
    ("#", set(TOPICS)),
    ("sport/tennis/+", {"sport/tennis/player1", "sport/tennis/player2"}),
    ("sport/+", {"sport/", "sport/tennis", "sport/badminton"}),
    ("+", {"sport", "finance", "Sport"}),
    ("+/+", {"sport/", "sport/tennis", "sport/badminton", "/finance", "/", "a/b"}),
    ("/+", {"/finance", "/"}),
    ("+/tennis/#", {"sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
                    "sport/tennis/player1/score/wimbledon", "sport/tennis/player2"}),
    ("+/+/player1", {"sport/tennis/player1"}),
    ("a/+/b", {"a//b", "a/x/b"}),
    ("a/#", {"a//b", "a/b", "a/x/b"}),
    ("sport", {"sport"}),
    ("sport/tennis/player1", {"sport/tennis/player1"}),
    ("/finance", {"/finance"}),
    ("+/#", {t for t in TOPICS}),
]


def test_wildcard_matching(broker):
    """`+` matches one level, `#` any number including the parent level
    (`sport/tennis/#` matches `sport/tennis`), `+/+` and `/+` match `/finance`, `+`
    does not; matching is case sensitive [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-4]."""
    subs = []
    for i, (flt, want) in enumerate(MATCHES):
        s = connected(broker, f"wild{i}")
        assert s.subscribe([(flt, 0)]) == [0], flt
        subs.append((flt, want, s))
    pub = connected(broker, "wild-pub")
    for t in TOPICS:
        pub.publish(t, t.encode(), qos=1)
    for flt, want, s in subs:
        got = [m.topic for m in s.recv_publishes(len(want))]
        assert sorted(got) == sorted(want), f"filter {flt!r}: got {got}"
        for m in got:
            assert m in want
    time.sleep(0.2 * SLOW)
    for flt, want, s in subs:
        try:
            extra = s.recv_publish(timeout=0.01)
        except mq.MQTTTimeout:
            continue
        raise AssertionError(f"filter {flt!r} also got {extra.topic!r}")


def test_overlapping_subscriptions_max_qos(broker):
    """Overlapping `a/#` (QoS 0) and `a/b` (QoS 2): a QoS 2 publish to `a/b` is
    delivered at QoS 2 [MQTT-3.3.5-1]. The spec allows extra copies; Starling (like
    Mosquitto for v3) sends exactly one."""
    sub = connected(broker, "ovl-sub")
    assert sub.subscribe([("a/#", 0)]) == [0]
    assert sub.subscribe([("a/b", 2)]) == [2]
    pub = connected(broker, "ovl-pub")
    pub.publish("a/b", b"x", qos=2)
    got = sub.collect(quiet=0.4)
    assert any(m.qos == 2 for m in got), got
    assert len(got) == 1, f"expected one copy, got {got}"
    # Same in one SUBSCRIBE, other order of QoS.
    sub2 = connected(broker, "ovl-sub2")
    assert sub2.subscribe([("c/+", 1), ("c/#", 2), ("c/d", 0)]) == [1, 2, 0]
    pub.publish("c/d", b"y", qos=2)
    got = sub2.collect(quiet=0.4)
    assert [m.qos for m in got] == [2], got


def test_dollar_topics_not_matched_by_wildcards(broker):
    """`#` and `+/x` do not match topics starting with `$` [MQTT-4.7.2-1], while
    `$test/#` and `$test/+` match `$test/x`; subscribing to `$SYS/#` succeeds."""
    hash_ = connected(broker, "dollar-hash")
    assert hash_.subscribe([("#", 0)]) == [0]
    plus = connected(broker, "dollar-plus")
    assert plus.subscribe([("+/x", 0)]) == [0]
    plus_hash = connected(broker, "dollar-plushash")
    assert plus_hash.subscribe([("+/#", 0)]) == [0]
    dtest = connected(broker, "dollar-test")
    assert dtest.subscribe([("$test/#", 0)]) == [0]
    dplus = connected(broker, "dollar-tplus")
    assert dplus.subscribe([("$test/+", 0)]) == [0]
    sys_ = connected(broker, "dollar-sys")
    assert sys_.subscribe([("$SYS/#", 0)]) == [0]
    pub = connected(broker, "dollar-pub")
    pub.publish("$test/x", b"dollar", qos=1)
    pub.publish("$SYS/x", b"sys", qos=1)
    pub.publish("t/x", b"plain", qos=1)
    assert [m.payload for m in dtest.collect(quiet=0.3)] == [b"dollar"]
    assert [m.payload for m in dplus.collect(quiet=0.05)] == [b"dollar"]
    for s in (hash_, plus, plus_hash):
        got = s.collect(quiet=0.05)
        assert [m.topic for m in got] == ["t/x"], f"{s.name}: {got}"


def test_resubscribe_replaces(broker):
    """Subscribing again to an identical filter replaces the subscription (new QoS)
    and does not create a second one: one copy per message [MQTT-3.8.4-3]."""
    sub = connected(broker, "resub")
    assert sub.subscribe([("r/t", 0)]) == [0]
    assert sub.subscribe([("r/t", 2)]) == [2]
    pub = connected(broker, "resub-pub")
    pub.publish("r/t", b"1", qos=2)
    got = sub.collect(quiet=0.3)
    assert [(m.payload, m.qos) for m in got] == [(b"1", 2)]
    assert sub.subscribe([("r/t", 1)]) == [1]
    pub.publish("r/t", b"2", qos=2)
    got = sub.collect(quiet=0.3)
    assert [(m.payload, m.qos) for m in got] == [(b"2", 1)]


def test_unsubscribe(broker):
    """UNSUBSCRIBE -> UNSUBACK `b0 02 pid` [MQTT-3.10.4-4]; no further delivery on
    that filter [MQTT-3.10.4-2]; other subscriptions stay."""
    sub = connected(broker, "unsub")
    assert sub.subscribe([("u/a", 1), ("u/b", 1)]) == [1, 1]
    pub = connected(broker, "unsub-pub")
    pub.publish("u/a", b"before", qos=1)
    assert sub.recv_publish().payload == b"before"
    sub.send(mq.unsubscribe(0x0F0E, ["u/a"]))
    assert sub.recv_packet().raw == b"\xb0\x02\x0f\x0e"
    pub.publish("u/a", b"after", qos=1)
    pub.publish("u/b", b"other", qos=1)
    assert [m.payload for m in sub.collect(quiet=0.3)] == [b"other"]


def test_unsubscribe_exact_filter_only(broker):
    """Unsubscribe compares filters character by character [MQTT-3.10.4-1]: removing
    `u/+` does not remove `u/#`; a filter never subscribed still gets UNSUBACK
    [MQTT-3.10.4-5]; several filters -> one UNSUBACK [MQTT-3.10.4-6]."""
    sub = connected(broker, "unsub-x")
    assert sub.subscribe([("u/#", 0), ("u/+", 0)]) == [0, 0]
    sub.send(mq.unsubscribe(5, ["u/+", "never/subscribed", "u/+/"]))
    assert sub.recv_packet().raw == b"\xb0\x02\x00\x05"
    sub.send(mq.unsubscribe(6, ["nothing/here"]))
    assert sub.recv_packet().raw == b"\xb0\x02\x00\x06"
    pub = connected(broker, "unsub-x-pub")
    pub.publish("u/v", b"still", qos=1)
    assert [m.payload for m in sub.collect(quiet=0.3)] == [b"still"]
    sub.unsubscribe(["u/#"])
    pub.publish("u/v", b"gone", qos=1)
    sub.expect_no_publish(0.3)


@pytest.mark.parametrize("flt", ["a/#/b", "a+", "#a", "a/b#", "+a/b", "a/+b", "##", "", "a/#/"])
def test_invalid_filter_closes(broker, flt):
    """Invalid topic filters (`#` not last or not alone in its level, `+` not alone
    in its level, empty filter) are protocol violations: the connection is closed
    [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1] (§4.8)."""
    c = connected(broker, "badfilter")
    c.send(mq.subscribe(1, [(flt, 0)]))
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


def test_subscribe_wrong_flags(broker):
    """SUBSCRIBE fixed-header flags must be 0010; 0x80 -> closed [MQTT-3.8.1-1]."""
    c = connected(broker, "subflags")
    c.send(mq.subscribe(1, [("ok/t", 0)], flags=0))
    c.expect_closed(allowed=())
    c = connected(broker, "subflags2")
    c.send(mq.subscribe(1, [("ok/t", 0)], flags=0x03))
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


def test_subscribe_empty_payload(broker):
    """A SUBSCRIBE with no filter is a protocol violation [MQTT-3.8.3-3]."""
    c = connected(broker, "subempty")
    c.send(mq.subscribe(1, []))
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


@pytest.mark.parametrize("qos_byte", [3, 0x04, 0x41, 0x80, 0xFF])
def test_subscribe_bad_qos_byte(broker, qos_byte):
    """Requested QoS 3 or reserved bits set in the options byte -> closed
    [MQTT-3-8.3-4]."""
    c = connected(broker, "subqos")
    c.send(mq.subscribe(1, [("ok/t", 0), ("bad/t", qos_byte)]))
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


def test_subscribe_truncated_filter(broker):
    """A filter without its QoS byte is malformed: closed."""
    c = connected(broker, "subtrunc")
    c.send(mq.packet(mq.SUBSCRIBE, 2, mq.u16(1) + mq.mqtt_str("ok/t")))
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


def test_unsubscribe_empty_payload(broker):
    """An UNSUBSCRIBE with no filter is a protocol violation [MQTT-3.10.3-2]."""
    c = connected(broker, "unsubempty")
    c.send(mq.unsubscribe(1, []))
    c.expect_closed(allowed=())
    mq.broker_serves(broker)


def test_unsubscribe_wrong_flags(broker):
    """UNSUBSCRIBE fixed-header flags must be 0010 [MQTT-3.10.1-1]."""
    c = connected(broker, "unsubflags")
    c.send(mq.unsubscribe(1, ["x"], flags=0))
    c.expect_closed(allowed=())


def test_many_subscriptions(broker):
    """500 filters in one SUBSCRIBE are all granted and all work."""
    c = connected(broker, "many")
    filters = [(f"many/{i}", i % 3) for i in range(500)]
    assert c.subscribe(filters, timeout=5) == [q for _, q in filters]
    pub = connected(broker, "many-pub")
    for i in (0, 250, 499):
        pub.publish(f"many/{i}", b"%d" % i, qos=2)
    got = sorted((m.topic, m.qos) for m in c.recv_publishes(3))
    assert got == sorted([("many/0", 0), ("many/250", 1), ("many/499", 1)])
