"""MQTT 5.0 with paho 1.6 (MQTTv5): subscription options (No Local, Retain As Published,
Retain Handling), subscription identifiers, shared subscriptions (with a 3.1.1 member)
and topic aliases in both directions. The helper is in test_mqtt5_paho.py.
"""
import itertools
import threading
import time

import pytest

from test_mqtt5_paho import MQTTv311, QUIET, SubscribeOptions, T
from test_mqtt5_paho import clients  # noqa: F401 (the fixture)

# --------------------------------------------------------------------------------------
# Subscription options


OPTION_CASES = list(itertools.product([False, True], [False, True], [0, 1, 2]))


@pytest.mark.parametrize("no_local,rap,rh", OPTION_CASES,
                         ids=[f"nl{int(n)}-rap{int(r)}-rh{h}" for n, r, h in OPTION_CASES])
def test_subscription_options_matrix(clients, no_local, rap, rh):
    qos = (int(no_local) + int(rap) + rh) % 3
    case = f"{int(no_local)}{int(rap)}{rh}"
    topic, sentinel = f"p5/so/{case}/t", f"p5/so/{case}/sentinel"
    other = clients(f"p5-so-other-{case}")
    other.publish(topic, b"retained before", qos=2, retain=True)
    other.publish(sentinel, b"retained sentinel", qos=2, retain=True)

    s = clients(f"p5-so-{case}")
    opts = SubscribeOptions(qos=qos, noLocal=no_local, retainAsPublished=rap, retainHandling=rh)

    def subscribe_and_collect():
        assert s.subscribe(topic, options=opts) == [qos]
        # The sentinel subscription (Retain Handling 0) sends its retained message
        # after whatever the first SUBSCRIBE produced. (Same QoS: paho hands a QoS 2
        # message over only at PUBREL, later than a QoS 0/1 one sent after it.)
        assert s.subscribe(sentinel, options=SubscribeOptions(qos=qos)) == [qos]
        got = s.get_until(sentinel)
        assert got[-1].payload == b"retained sentinel"
        return got[:-1]

    # New subscription: retained message unless Retain Handling 2. Messages sent
    # because of a subscription keep retain=1 whatever Retain As Published says.
    got = subscribe_and_collect()
    want = [] if rh == 2 else [(topic, b"retained before", True, qos)]
    assert [(m.topic, m.payload, m.retain, m.qos) for m in got] == want, "new subscription"
    # The same subscription again: only Retain Handling 0 sends it again.
    got = subscribe_and_collect()
    want = [(topic, b"retained before", True, qos)] if rh == 0 else []
    assert [(m.topic, m.payload, m.retain, m.qos) for m in got] == want, "existing subscription"

    # A live retained publish from another client: retain flag as Retain As Published.
    other.publish(topic, b"live retained", qos=2, retain=True)
    other.publish(sentinel, b"s1", qos=2)
    got = s.get_until(sentinel)
    assert [(m.topic, m.payload, m.retain, m.qos) for m in got] == [
        (topic, b"live retained", rap, qos), (sentinel, b"s1", False, qos)]

    # The subscriber's own message: not delivered back with No Local.
    s.publish(topic, b"own", qos=2)
    s.publish(sentinel, b"s2", qos=2)
    got = s.get_until(sentinel)
    want = [] if no_local else [(topic, b"own", False, qos)]
    assert [(m.topic, m.payload, m.retain, m.qos) for m in got] == want + [
        (sentinel, b"s2", False, qos)]
    s.expect_nothing(0.05)


def test_no_local_only_affects_the_publisher(clients):
    a = clients("p5-nl-a")
    b = clients("p5-nl-b")
    assert a.subscribe("p5/nl/#", options=SubscribeOptions(qos=1, noLocal=True)) == [1]
    assert b.subscribe("p5/nl/#", options=SubscribeOptions(qos=1, noLocal=True)) == [1]
    a.publish("p5/nl/from-a", b"a", qos=1)
    b.publish("p5/nl/from-b", b"b", qos=1)
    assert [(m.topic, m.payload) for m in b.get_n(1)] == [("p5/nl/from-a", b"a")]
    assert [(m.topic, m.payload) for m in a.get_n(1)] == [("p5/nl/from-b", b"b")]
    # A second, overlapping subscription without No Local delivers the client's own
    # message (once).
    assert a.subscribe("p5/nl/+", 1) == [1]
    a.publish("p5/nl/again", b"a2", qos=1)
    assert [(m.topic, m.payload) for m in a.get_n(1)] == [("p5/nl/again", b"a2")]
    assert [(m.topic, m.payload) for m in b.get_n(1)] == [("p5/nl/again", b"a2")]
    a.expect_nothing()
    b.expect_nothing(0.05)


def test_no_local_every_own_message_reports_no_subscribers(clients):
    a = clients("p5-nl-only")
    assert a.subscribe("p5/nlo", options=SubscribeOptions(qos=1, noLocal=True)) == [1]
    assert a.publish("p5/nlo", b"mine", qos=1) == 0x10
    a.expect_nothing()


# --------------------------------------------------------------------------------------
# Subscription identifiers


def _ids(m):
    return sorted(m.props.get("SubscriptionIdentifier", []))


def test_subscription_identifiers(clients):
    s = clients("p5-sid")
    assert s.subscribe("p5/sid/+", 1, sub_id=5) == [1]
    assert s.subscribe("p5/sid/#", 1, sub_id=7) == [1]
    assert s.subscribe("p5/sid/none/#", 1) == [1]
    assert s.subscribe([("p5/sid2/a", 1), ("p5/sid2/b", 0)], sub_id=268435455) == [1, 0]
    pub = clients("p5-sid-pub")

    def one(topic):
        pub.publish(topic, topic.encode(), qos=1)
        m = s.get()
        assert (m.topic, m.payload) == (topic, topic.encode())
        return _ids(m)

    # Every matching subscription's identifier, on one PUBLISH.
    assert one("p5/sid/a") == [5, 7]
    assert one("p5/sid/a/b") == [7]
    assert one("p5/sid/none/x") == [7]
    assert one("p5/sid2/a") == [268435455]
    assert one("p5/sid2/b") == [268435455]
    s.expect_nothing(0.1)

    # Subscribing again replaces the identifier; without one removes it.
    assert s.subscribe("p5/sid/+", 1, sub_id=6) == [1]
    assert s.subscribe("p5/sid/#", 1) == [1]
    assert one("p5/sid/a") == [6]
    assert one("p5/sid/a/b") == []
    assert s.unsubscribe("p5/sid/+") == [0]
    assert one("p5/sid/a") == []
    s.expect_nothing(0.1)


def test_subscription_identifier_on_retained_and_queued(clients):
    pub = clients("p5-sidr-pub")
    pub.publish("p5/sidr/t", b"retained", qos=1, retain=True)
    s = clients("p5-sidr", clean_start=False, connect_props={"SessionExpiryInterval": 60})
    assert s.subscribe("p5/sidr/#", 1, sub_id=42) == [1]
    m = s.get()
    assert (m.payload, m.retain, _ids(m)) == (b"retained", True, [42])
    s.disconnect()
    pub.publish("p5/sidr/q", b"queued", qos=1)
    s = clients("p5-sidr", clean_start=False, connect=False,
                connect_props={"SessionExpiryInterval": 60})
    assert s.connect()[0]["session present"] == 1
    m = s.get()
    assert (m.topic, m.payload, _ids(m)) == ("p5/sidr/q", b"queued", [42])


def test_subscription_identifier_not_sent_to_v311(clients):
    """A 3.1.1 subscriber in the same group of subscriptions just gets the message."""
    v4 = clients("p5-sid-v4", protocol=MQTTv311)
    assert v4.subscribe("p5/sidv4/#", 1) == [1]
    v5 = clients("p5-sid-v5")
    assert v5.subscribe("p5/sidv4/#", 1, sub_id=3) == [1]
    pub = clients("p5-sid-v4-pub")
    pub.publish("p5/sidv4/t", b"x", qos=1)
    assert _ids(v5.get()) == [3]
    assert v4.get().props == {}


# --------------------------------------------------------------------------------------
# Shared subscriptions


def _shared_group(clients, prefix, flt, qos=1, **kw):
    members = [clients(f"{prefix}-a", **kw), clients(f"{prefix}-b", **kw),
               clients(f"{prefix}-v311", protocol=MQTTv311, **kw)]
    for m in members:
        assert m.subscribe(flt, qos) == [qos]
    return members


def _drain(pc, quiet):
    out = []
    while True:
        try:
            out.append(pc.messages.get(timeout=quiet))
        except Exception:
            return out


def _collect(members, n):
    """{client_id: [Msg]} once n messages arrived in all (or T passed), plus whatever
    arrives in a short quiet period after (duplicates)."""
    deadline = time.monotonic() + T
    got = {m.client_id: [] for m in members}
    while sum(map(len, got.values())) < n and time.monotonic() < deadline:
        for m in members:
            got[m.client_id] += _drain(m, 0.02)
    for m in members:
        got[m.client_id] += _drain(m, QUIET / 3)
    return got


def test_shared_subscription_split(clients):
    members = _shared_group(clients, "p5-shr", "$share/grp/p5/shr/#")
    plain = clients("p5-shr-plain")
    assert plain.subscribe("p5/shr/#", 1) == [1]
    pub = clients("p5-shr-pub")
    infos = [pub.publish("p5/shr/t", str(i).encode(), qos=1, wait=False) for i in range(30)]
    for info in infos:
        assert pub.wait_ack(info, 1) == 0
    # The plain subscriber gets every message; the group gets each exactly once.
    assert [int(m.payload) for m in plain.get_n(30)] == list(range(30))
    got = _collect(members, 30)
    seqs = {k: [int(x.payload) for x in v] for k, v in got.items()}
    everything = sorted(itertools.chain.from_iterable(seqs.values()))
    assert everything == list(range(30)), f"lost or duplicated: {seqs}"
    for k, v in seqs.items():
        assert v, f"{k} got nothing: {seqs}"
        assert v == sorted(v), f"{k} out of order: {v}"
    assert all(x.qos == 1 and x.topic == "p5/shr/t" and not x.dup
               for v in got.values() for x in v)
    # round_robin (the default): an even split.
    assert sorted(map(len, seqs.values())) == [10, 10, 10], seqs


def test_shared_subscription_member_leaves(clients):
    a, b, c = _shared_group(clients, "p5-shl", "$share/g2/p5/shl")
    c.disconnect()
    pub = clients("p5-shl-pub")
    for i in range(10):
        assert pub.publish("p5/shl", str(i).encode(), qos=1) == 0
    got = _collect([a, b], 10)
    assert sorted(int(m.payload) for v in got.values() for m in v) == list(range(10))
    assert all(got.values()), "both remaining members get messages"


def test_shared_subscription_unacked_goes_to_another_member(clients):
    """A member whose connection ends with a QoS 1 message unacknowledged: the message
    goes to another member. paho sends PUBACK after on_message returns, so a hook that
    blocks on_message while the test pulls the connection away leaves it unacknowledged."""
    a = clients("p5-shu-a")
    b = clients("p5-shu-b")
    for m in (a, b):
        assert m.subscribe("$share/u/p5/shu", 1) == [1]
    held = []
    holding = threading.Event()

    def hold(m):
        if not held:
            held.append(m.payload)
            holding.set()
            time.sleep(1.0)   # the connection is dropped meanwhile
    a.on_message_hook = hold
    pub = clients("p5-shu-pub")
    sent = 0
    while not holding.is_set() and sent < 10:
        assert pub.publish("p5/shu", str(sent).encode(), qos=1) == 0
        sent += 1
        holding.wait(0.2)
    assert holding.is_set(), "member a never got a message"
    a.drop()
    got = _drain(b, QUIET)
    while len(got) < sent:
        got.append(b.get())
    payloads = sorted(int(m.payload) for m in got)
    # b has everything it was sent directly plus the one a never acknowledged.
    assert int(held[0]) in payloads, (held, payloads)
    assert payloads == list(range(sent)), payloads


def test_shared_subscription_topic_hash(broker_factory, clients):
    br = broker_factory(config="shared_subscription_policy topic_hash\n", threads=2)
    members = _shared_group(clients, "p5-shh", "$share/h/p5/shh/+", broker=br)
    pub = clients("p5-shh-pub", broker=br)
    topics = [f"p5/shh/{i}" for i in range(6)]
    for r in range(5):
        for t in topics:
            assert pub.publish(t, f"{t}#{r}".encode(), qos=1) == 0
    got = _collect(members, 30)
    where = {}
    for cid, msgs in got.items():
        for m in msgs:
            where.setdefault(m.topic, set()).add(cid)
    assert sum(map(len, got.values())) == 30
    assert all(len(v) == 1 for v in where.values()), f"a topic went to several members: {where}"


def test_shared_subscription_random(broker_factory, clients):
    """`shared_subscription_policy random`: every message goes to exactly one of
    the three members, and each gets some of 40 (the chance that one gets none
    is 3 * (2/3)^40, about 3e-7)."""
    br = broker_factory(config="shared_subscription_policy random\n", threads=2)
    members = _shared_group(clients, "p5-shr", "$share/r/p5/shr/#", broker=br)
    pub = clients("p5-shr-pub", broker=br)
    for i in range(40):
        assert pub.publish("p5/shr/t", str(i).encode(), qos=1) == 0
    got = _collect(members, 40)
    payloads = sorted(int(m.payload) for msgs in got.values() for m in msgs)
    assert payloads == list(range(40))
    assert all(len(msgs) > 0 for msgs in got.values()), {k: len(v) for k, v in got.items()}


def test_shared_subscription_no_retained(clients):
    pub = clients("p5-shret-pub")
    pub.publish("p5/shret/t", b"retained", qos=1, retain=True)
    s = clients("p5-shret")
    assert s.subscribe("$share/r/p5/shret/#", 1) == [1]
    assert s.subscribe("p5/shret-sentinel", 1) == [1]
    pub.publish("p5/shret-sentinel", b"s", qos=1)
    assert [m.topic for m in s.get_until("p5/shret-sentinel")] == ["p5/shret-sentinel"]
    pub.publish("p5/shret/t", b"live", qos=1)
    m = s.get()
    assert (m.topic, m.payload, m.retain) == ("p5/shret/t", b"live", False)


def test_shared_subscription_no_local_is_protocol_error(clients):
    s = clients("p5-shnl")
    rc, mid = s.c.subscribe("$share/nl/p5/shnl", options=SubscribeOptions(qos=1, noLocal=True))
    assert s.wait_server_disconnect() == 0x82


def test_shared_subscription_with_identifier(clients):
    s = clients("p5-shid")
    assert s.subscribe("$share/i/p5/shid", 1, sub_id=11) == [1]
    pub = clients("p5-shid-pub")
    pub.publish("p5/shid", b"x", qos=1)
    assert _ids(s.get()) == [11]


# --------------------------------------------------------------------------------------
# Topic aliases


def test_topic_alias_from_publisher(clients):
    sub5 = clients("p5-tap-sub5")
    sub4 = clients("p5-tap-sub4", protocol=MQTTv311)
    for s in (sub5, sub4):
        assert s.subscribe("p5/tap/#", 1) == [1]
    pub = clients("p5-tap-pub")
    sent = [("p5/tap/x", 1), ("", 1), ("", 1), ("p5/tap/y", 2), ("", 2), ("", 1),
            ("p5/tap/z", 1), ("", 1), ("", 2)]     # alias 1 is re-pointed to p5/tap/z
    want = ["p5/tap/x", "p5/tap/x", "p5/tap/x", "p5/tap/y", "p5/tap/y", "p5/tap/x",
            "p5/tap/z", "p5/tap/z", "p5/tap/y"]
    for i, (topic, alias) in enumerate(sent):
        assert pub.publish(topic, str(i).encode(), qos=1, TopicAlias=alias) == 0
    for s in (sub5, sub4):
        got = s.get_n(len(sent))
        assert [(m.topic, m.payload) for m in got] == [
            (t, str(i).encode()) for i, t in enumerate(want)]
        # The alias is per connection: never forwarded, the topic is always there.
        assert all(m.wire_topic == m.topic and "TopicAlias" not in m.props for m in got)


@pytest.mark.parametrize("config,alias,reason", [("", 11, 0x94), ("max_topic_alias 2\n", 3, 0x94),
                                                 ("max_topic_alias 0\n", 1, 0x94)])
def test_topic_alias_above_maximum(broker_factory, clients, config, alias, reason):
    b = broker_factory(config=config, threads=2)
    pub = clients("p5-tamax", broker=b, connect=False)
    cprops = pub.connect()[2]
    limit = int(config.split()[1]) if config else 10
    assert cprops.get("TopicAliasMaximum") == (limit or None)
    if limit:
        assert pub.publish("p5/tamax", b"ok", qos=1, TopicAlias=limit) == 0x10
    pub.publish("p5/tamax", b"too far", qos=1, wait=False, TopicAlias=alias)
    assert pub.wait_server_disconnect() == reason


def test_topic_alias_unknown(clients):
    pub = clients("p5-taunk")
    assert pub.publish("p5/taunk", b"sets 1", qos=1, TopicAlias=1) == 0x10
    pub.publish("", b"alias 2 was never set", qos=1, wait=False, TopicAlias=2)
    assert pub.wait_server_disconnect() == 0x82


def test_topic_alias_towards_subscriber(clients):
    sub = clients("p5-tas", connect_props={"TopicAliasMaximum": 5})
    plain = clients("p5-tas-plain")
    for s in (sub, plain):
        assert s.subscribe("p5/tas/#", 1) == [1]
    pub = clients("p5-tas-pub")
    # Three topics fit in the subscriber's 5 aliases: each topic once, then the alias.
    few = [f"p5/tas/few/{i}" for i in range(3)]
    sent = [t for _ in range(4) for t in few]
    # Then more topics than aliases: whatever the broker does, every topic is right.
    many = [f"p5/tas/many/{i}" for i in range(8)]
    sent += [t for _ in range(3) for t in many]
    for i, t in enumerate(sent):
        pub.publish(t, str(i).encode(), qos=1, wait=False)
    got = sub.get_n(len(sent))
    assert sub.alias_errors == []
    assert [(m.topic, m.payload) for m in got] == [(t, str(i).encode()) for i, t in enumerate(sent)]
    aliases = [m.props.get("TopicAlias") for m in got]
    assert all(a is None or 1 <= a <= 5 for a in aliases), aliases
    first12 = got[:12]
    assert [m.wire_topic for m in first12] == few + [""] * 9, \
        "topic sent once, then the alias only"
    assert all(m.props.get("TopicAlias") for m in first12)
    # A subscriber that did not announce Topic Alias Maximum never gets aliases.
    got = plain.get_n(len(sent))
    assert [m.wire_topic for m in got] == sent
    assert all("TopicAlias" not in m.props for m in got)


def test_topic_alias_towards_subscriber_disabled(broker_factory, clients):
    b = broker_factory(config="max_topic_alias_broker 0\n", threads=2)
    sub = clients("p5-tasd", broker=b, connect_props={"TopicAliasMaximum": 5})
    assert sub.subscribe("p5/tasd/#", 1) == [1]
    pub = clients("p5-tasd-pub", broker=b)
    for i in range(6):
        pub.publish(f"p5/tasd/{i % 2}", str(i).encode(), qos=1)
    got = sub.get_n(6)
    assert [m.wire_topic for m in got] == [f"p5/tasd/{i % 2}" for i in range(6)]
    assert all("TopicAlias" not in m.props for m in got)


def test_topic_alias_both_ways(clients):
    """A publisher using aliases and a subscriber taking them: the topic survives both
    hops (each connection has its own aliases)."""
    sub = clients("p5-tab", connect_props={"TopicAliasMaximum": 2})
    assert sub.subscribe("p5/tab/#", 2) == [2]
    pub = clients("p5-tab-pub")
    plan = [("p5/tab/one", 2), ("", 2), ("p5/tab/two", 1), ("", 1), ("", 2),
            ("p5/tab/three", 3), ("", 3), ("", 1)]
    want = ["p5/tab/one", "p5/tab/one", "p5/tab/two", "p5/tab/two", "p5/tab/one",
            "p5/tab/three", "p5/tab/three", "p5/tab/two"]
    for i, (t, a) in enumerate(plan):
        assert pub.publish(t, str(i).encode(), qos=2, TopicAlias=a) == 0
    got = sub.get_n(len(plan))
    assert sub.alias_errors == []
    assert [(m.topic, m.payload, m.qos) for m in got] == [
        (t, str(i).encode(), 2) for i, t in enumerate(want)]
    assert all(m.props.get("TopicAlias") in (None, 1, 2) for m in got)
