"""MQTT 5.0 SUBSCRIBE / UNSUBSCRIBE, subscription options, identifiers and shared
subscriptions, raw bytes (5.0 §3.8-§3.11, §4.8; docs/mqtt5.md "Subscribing")."""
import pytest

import mqtt_raw as mq
import mqtt5_raw as m5
from mqtt5_raw import Client5, connected5


def retained(broker, topic, payload, name="ret-pub"):
    p = connected5(broker, name)
    p.publish(topic, payload, qos=1, retain=True)
    p.disconnect()


def summary(msgs):
    return sorted((m.topic, m.payload, m.retain) for m in msgs)


# ---------------------------------------------------------------- options matrix

@pytest.mark.parametrize("rh", [0, 1, 2])
@pytest.mark.parametrize("rap", [False, True], ids=["rap0", "rap1"])
@pytest.mark.parametrize("nl", [False, True], ids=["nl0", "nl1"])
def test_subscription_options_matrix(broker, nl, rap, rh):
    """Subscription Options, every combination:
    - on subscribing, the retained message arrives (RETAIN 1) for Retain Handling 0
      and 1 (new subscription) and not for 2 [MQTT-3.3.1-9] [MQTT-3.3.1-10]
      [MQTT-3.3.1-11];
    - live messages keep their RETAIN flag only with Retain As Published
      [MQTT-3.3.1-12] [MQTT-3.3.1-13];
    - with No Local the subscriber's own messages are not sent back [MQTT-3.8.3-3];
    - subscribing again with the same options re-sends the retained message only
      for Retain Handling 0 [MQTT-3.8.4-4] [MQTT-3.3.1-10]."""
    retained(broker, "om/t", b"old-retained")
    me = connected5(broker, "om-me")
    other = connected5(broker, "om-other")
    opts = m5.sub_opts(1, no_local=nl, rap=rap, rh=rh)
    assert me.subscribe([("om/t", opts)]) == [1]
    got = me.collect(quiet=0.3)
    want = [] if rh == 2 else [("om/t", b"old-retained", True)]
    assert summary(got) == want

    me.publish("om/t", b"own-plain", qos=1)
    me.publish("om/t", b"own-ret", qos=1, retain=True)
    # The other client's retained message comes last, so the re-subscribe below
    # does not depend on whether No Local applies to retained messages.
    other.publish("om/t", b"other-plain", qos=1)
    other.publish("om/t", b"other-ret", qos=1, retain=True)
    got = me.collect(quiet=0.3)
    want = [("om/t", b"other-plain", False), ("om/t", b"other-ret", rap)]
    if not nl:
        want += [("om/t", b"own-plain", False), ("om/t", b"own-ret", rap)]
    assert summary(got) == sorted(want)

    assert me.subscribe([("om/t", opts)]) == [1]
    got = me.collect(quiet=0.3)
    want = [("om/t", b"other-ret", True)] if rh == 0 else []
    assert summary(got) == want


def test_retain_handling_1_new_vs_existing(broker):
    """Retain Handling 1: retained messages on a new subscription, none when the same
    filter is subscribed again [MQTT-3.3.1-10]; after an unsubscribe it is new
    again."""
    retained(broker, "rh1/t", b"r")
    c = connected5(broker, "rh1")
    opts = m5.sub_opts(1, rh=1)
    assert c.subscribe([("rh1/t", opts)]) == [1]
    assert summary(c.collect(quiet=0.3)) == [("rh1/t", b"r", True)]
    assert c.subscribe([("rh1/t", m5.sub_opts(0, rh=1))]) == [0]
    c.expect_no_publish(0.3)
    assert c.unsubscribe("rh1/t") == [0x00]
    assert c.subscribe([("rh1/t", opts)]) == [1]
    assert summary(c.collect(quiet=0.3)) == [("rh1/t", b"r", True)]


def test_retain_handling_3_is_protocol_error(broker):
    """Retain Handling 3 is a Protocol Error [5.0 §3.8.3.1]: DISCONNECT 0x82."""
    c = connected5(broker, "rh3")
    c.send(m5.subscribe5(1, [("rh3/t", 0x30)]))
    c.expect_disconnect(0x82)


def test_reserved_option_bits_malformed(broker):
    """Reserved bits 6-7 of the Subscription Options set: malformed
    [MQTT-3.8.3-5]: DISCONNECT 0x81."""
    c = connected5(broker, "resbits")
    c.send(m5.subscribe5(1, [("res/t", 0x41)]))
    c.expect_disconnect(0x81)


# ---------------------------------------------------------------- subscription identifiers

def test_subscription_identifiers_overlapping(broker):
    """Two overlapping subscriptions with identifiers 3 and 7: one PUBLISH carrying
    both [MQTT-3.3.4-3] [MQTT-3.3.4-4]; a topic only one of them matches carries only
    its identifier; re-subscribing without an identifier removes it."""
    c = connected5(broker, "sid")
    assert c.subscribe([("sid/+", m5.sub_opts(1))], sub_id=3) == [1]
    assert c.subscribe([("sid/#", m5.sub_opts(1))], sub_id=7) == [1]
    pub = connected5(broker, "sid-pub")
    pub.publish("sid/a", b"both", qos=1)
    pub.publish("sid/a/b", b"seven", qos=1)
    got = c.recv_publishes(2)
    c.expect_no_publish(0.3)
    by = {m.payload: m for m in got}
    assert set(by) == {b"both", b"seven"}, "one copy per message"
    assert by[b"both"].sub_ids == [3, 7]
    assert by[b"seven"].sub_ids == [7]
    assert c.subscribe([("sid/+", m5.sub_opts(1))]) == [1]  # replaced, no identifier
    pub.publish("sid/a", b"again", qos=1)
    m = c.recv_publish()
    assert (m.payload, m.sub_ids) == (b"again", [7])
    c.expect_no_publish(0.3)


def test_subscription_identifier_large_and_no_id(broker):
    """The largest identifier, 268,435,455, comes back intact; a subscription made
    without one adds none."""
    c = connected5(broker, "sidmax")
    assert c.subscribe([("sidm/a", m5.sub_opts(1))], sub_id=268435455) == [1]
    assert c.subscribe([("sidm/b", m5.sub_opts(1))]) == [1]
    pub = connected5(broker, "sidmax-pub")
    pub.publish("sidm/a", b"a", qos=1)
    pub.publish("sidm/b", b"b", qos=1)
    got = {m.payload: m for m in c.recv_publishes(2)}
    assert got[b"a"].sub_ids == [268435455]
    assert m5.SUBSCRIPTION_IDENTIFIER not in got[b"b"].props


def test_overlapping_subscriptions_highest_qos(broker):
    """Overlapping subscriptions with QoS 0 and 1: one copy at the higher QoS
    [MQTT-3.3.4-2], carrying both identifiers [MQTT-3.3.4-4]."""
    c = connected5(broker, "ovq")
    assert c.subscribe([("ovq/+", m5.sub_opts(0))], sub_id=1) == [0]
    assert c.subscribe([("ovq/#", m5.sub_opts(1))], sub_id=2) == [1]
    connected5(broker, "ovq-pub").publish("ovq/a", b"x", qos=1)
    m = c.recv_publish()
    assert (m.qos, m.sub_ids) == (1, [1, 2])
    c.expect_no_publish(0.3)


def test_subscription_identifier_on_retained(broker):
    """A retained message sent because of a new subscription carries that
    subscription's identifier [5.0 §3.8.2.1.2]."""
    retained(broker, "sidr/t", b"r")
    c = connected5(broker, "sidr")
    assert c.subscribe([("sidr/#", m5.sub_opts(1))], sub_id=77) == [1]
    m = c.recv_publish()
    assert (m.payload, m.retain, m.sub_ids) == (b"r", True, [77])


def test_subscription_identifier_zero(broker):
    """Subscription Identifier 0 is a Protocol Error [5.0 §3.8.2.1.2]: DISCONNECT
    0x82."""
    c = connected5(broker, "sid0")
    c.send(m5.subscribe5(1, [("sid0/t", 1)], sub_id=0))
    c.expect_disconnect(0x82)


def test_subscription_identifier_twice(broker):
    """Two Subscription Identifiers in one SUBSCRIBE are a Protocol Error
    [5.0 §3.8.2.1.2]: DISCONNECT 0x82."""
    c = connected5(broker, "sid2x")
    c.send(m5.subscribe5(1, [("sid2/t", 1)], props=[(m5.SUBSCRIPTION_IDENTIFIER, 1),
                                                     (m5.SUBSCRIPTION_IDENTIFIER, 2)]))
    c.expect_disconnect(0x82)


# ---------------------------------------------------------------- SUBACK / UNSUBACK

def test_suback_granted_qos_capped(broker_factory):
    """max_qos 1: requested QoS 2 is granted as 1, 0 and 1 as asked [MQTT-3.2.2-10]
    [MQTT-3.8.4-7]; delivery uses the granted QoS [MQTT-3.8.4-8]."""
    b = broker_factory(config="max_qos 1\n", threads=2)
    c = connected5(b, "capped")
    assert c.subscribe([("cap/2", m5.sub_opts(2)), ("cap/0", m5.sub_opts(0)),
                        ("cap/1", m5.sub_opts(1))]) == [1, 0, 1]
    connected5(b, "cap-pub").publish("cap/2", b"x", qos=1)
    assert c.recv_publish().qos == 1


def test_suback_invalid_filter_keeps_connection(broker):
    """An invalid filter gets 0x8F (Topic Filter invalid) in its place of the SUBACK
    [MQTT-3.9.3-1]; the other filter is granted and the connection stays up."""
    c = connected5(broker, "badfilter")
    assert c.subscribe([("a/#/b", m5.sub_opts(1)), ("ok/t", m5.sub_opts(1)),
                        ("a/b+", m5.sub_opts(0))]) == [0x8F, 1, 0x8F]
    c.ping()
    connected5(broker, "bf-pub").publish("ok/t", b"fine", qos=1)
    assert c.recv_publish().payload == b"fine"


def test_unsuback_codes(broker):
    """UNSUBACK: 0x00 for a subscription that existed, 0x11 (No subscription
    existed) otherwise, in filter order [MQTT-3.11.3-1]; an unsubscribed filter
    receives nothing more [MQTT-3.10.4-2]."""
    c = connected5(broker, "unsub")
    assert c.subscribe([("us/a", m5.sub_opts(1)), ("us/+", m5.sub_opts(1))]) == [1, 1]
    assert c.unsubscribe(["us/a", "us/none", "us/+"]) == [0x00, 0x11, 0x00]
    assert c.unsubscribe("us/a") == [0x11]
    connected5(broker, "us-pub").publish("us/a", b"x", qos=1)
    c.expect_no_publish(0.3)


# ---------------------------------------------------------------- shared subscriptions

def test_shared_subscription_round_robin(broker):
    """Two members of $share/g/sh/#: each of 20 QoS 1 messages goes to exactly one
    member [5.0 §4.8.2], round robin: 10 each; together all 20, each member's in
    publication order."""
    a = connected5(broker, "sh-a")
    b = connected5(broker, "sh-b")
    for c in (a, b):
        assert c.subscribe([("$share/g/sh/#", m5.sub_opts(1))]) == [1]
    pub = connected5(broker, "sh-pub")
    for i in range(20):
        pub.publish("sh/x", b"%02d" % i, qos=1)
    ga = [m.payload for m in a.collect(quiet=0.4)]
    gb = [m.payload for m in b.collect(quiet=0.2)]
    assert not set(ga) & set(gb), "a message went to both members"
    assert sorted(ga + gb) == [b"%02d" % i for i in range(20)]
    assert ga == sorted(ga) and gb == sorted(gb)
    assert (len(ga), len(gb)) == (10, 10), (ga, gb)


def test_shared_subscription_with_311_member(broker):
    """A 3.1.1 client can be a member too (docs/mqtt5.md); it gets its share
    without properties."""
    a = connected5(broker, "shm-5")
    b = mq.connected(broker, "shm-3")
    assert a.subscribe([("$share/grp/shm/t", m5.sub_opts(1))]) == [1]
    assert b.subscribe([("$share/grp/shm/t", 1)]) == [1]
    pub = connected5(broker, "shm-pub")
    for i in range(10):
        pub.publish("shm/t", b"%d" % i, qos=1, props={m5.USER_PROPERTY: [("k", "v")]})
    ga = a.collect(quiet=0.4)
    gb = b.collect(quiet=0.2)
    assert sorted([m.payload for m in ga] + [m.payload for m in gb]) == \
        sorted(b"%d" % i for i in range(10))
    assert (len(ga), len(gb)) == (5, 5)
    assert all(m.user_props == [("k", "v")] for m in ga)
    assert all(m.raw == mq.publish("shm/t", m.payload, qos=1, pid=m.pid) for m in gb)


def test_shared_subscription_gets_no_retained(broker):
    """Retained messages are not sent for a shared subscription [5.0 §4.8.2], while
    a plain subscription of the same client gets them."""
    retained(broker, "shr/t", b"kept")
    c = connected5(broker, "shr")
    assert c.subscribe([("$share/g/shr/t", m5.sub_opts(1))]) == [1]
    c.expect_no_publish(0.3)
    assert c.subscribe([("shr/t", m5.sub_opts(1))]) == [1]
    assert summary(c.collect(quiet=0.3)) == [("shr/t", b"kept", True)]


def test_shared_subscription_no_local_is_protocol_error(broker):
    """No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4]:
    DISCONNECT 0x82."""
    c = connected5(broker, "shnl")
    c.send(m5.subscribe5(1, [("$share/g/nl/t", m5.sub_opts(1, no_local=True))]))
    c.expect_disconnect(0x82)


@pytest.mark.parametrize("flt", ["$share/g", "$share/g/", "$share//t", "$share/g+/t",
                                 "$share/g#/t", "$share/"])
def test_shared_subscription_invalid_names(broker, flt):
    """A ShareName must be non-empty, without "/", "+" or "#", and be followed by "/"
    and a Topic Filter [MQTT-4.8.2-1] [MQTT-4.8.2-2]: SUBACK 0x8F for the bad
    filter; the connection stays up."""
    c = connected5(broker, "shbad")
    assert c.subscribe([(flt, m5.sub_opts(1)), ("shok/t", m5.sub_opts(0))]) == [0x8F, 0]
    c.ping()


def test_shared_member_loss_redelivers(broker):
    """A member that disappears (socket closed, no DISCONNECT, Session Expiry 0)
    with unacknowledged QoS 1 messages: those messages are sent to the other member
    (docs/mqtt5.md), which ends up with all of them."""
    a = Client5(broker, "shl-a", auto_ack=False)
    a.connect_ok("shl-a")
    b = connected5(broker, "shl-b")
    for c in (a, b):
        assert c.subscribe([("$share/g/shl/t", m5.sub_opts(1))]) == [1]
    pub = connected5(broker, "shl-pub")
    for i in range(6):
        pub.publish("shl/t", b"%d" % i, qos=1)
    held = a.collect(quiet=0.4, ack=False)
    assert held, "member a got nothing to hold"
    first = b.collect(quiet=0.2)
    assert len(held) + len(first) == 6
    a.close()
    rest = b.collect(quiet=1.0)
    assert sorted(m.payload for m in first + rest) == [b"%d" % i for i in range(6)]
    assert sorted(m.payload for m in rest) == sorted(m.payload for m in held)


def test_shared_unsubscribe(broker):
    """Unsubscribing a shared subscription: UNSUBACK 0x00; the remaining member
    then gets every message."""
    a = connected5(broker, "shu-a")
    b = connected5(broker, "shu-b")
    for c in (a, b):
        assert c.subscribe([("$share/g/shu/t", m5.sub_opts(1))]) == [1]
    assert a.unsubscribe("$share/g/shu/t") == [0x00]
    assert a.unsubscribe("$share/g/shu/t") == [0x11]
    pub = connected5(broker, "shu-pub")
    for i in range(4):
        pub.publish("shu/t", b"%d" % i, qos=1)
    assert [m.payload for m in b.recv_publishes(4)] == [b"%d" % i for i in range(4)]
    a.expect_no_publish(0.2)
