"""Interop with a real third-party client: Debian's python3-paho-mqtt (1.6.x API; the
2.x CallbackAPIVersion is used when present) in MQTT 3.1.1 mode, plus MQTT 3.1.

Every wait is bounded (scaled by SLOW under sanitizers); all traffic is to 127.0.0.1.
"""
import queue
import threading
import time

import pytest

from conftest import SLOW

mqtt = pytest.importorskip("paho.mqtt.client")

T = 10.0 * SLOW          # generous bound for anything that should happen "now"
QUIET = 0.5 * SLOW       # how long we listen to prove that nothing arrives


def _new_client(client_id, clean_session=True, protocol=None):
    protocol = mqtt.MQTTv311 if protocol is None else protocol
    kwargs = dict(client_id=client_id, clean_session=clean_session, protocol=protocol)
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho 2.x: keep the 1.x callback signatures
        kwargs["callback_api_version"] = mqtt.CallbackAPIVersion.VERSION1
    return mqtt.Client(**kwargs)


class PahoClient:
    """A paho client on its own network thread, with queues for what it receives."""

    def __init__(self, broker, client_id, clean_session=True, protocol=None, will=None,
                 keepalive=60):
        self.client_id = client_id
        self.c = _new_client(client_id, clean_session, protocol)
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.subacks = {}
        self.unsubacks = {}
        self.disconnected = threading.Event()
        self._lock = threading.Lock()
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.on_disconnect = self._on_disconnect
        if will:
            self.c.will_set(**will)
        self.broker = broker
        self.keepalive = keepalive

    # -- callbacks (run on paho's thread) --
    def _on_connect(self, c, userdata, flags, rc):
        self.connacks.put((flags, rc))

    def _on_message(self, c, userdata, msg):
        self.messages.put(msg)

    def _on_subscribe(self, c, userdata, mid, granted):
        with self._lock:
            self.subacks.setdefault(mid, queue.Queue()).put(list(granted))

    def _on_unsubscribe(self, c, userdata, mid):
        with self._lock:
            self.unsubacks.setdefault(mid, queue.Queue()).put(True)

    def _on_disconnect(self, c, userdata, rc):
        self.disconnected.set()

    def _ack_queue(self, table, mid):
        with self._lock:
            return table.setdefault(mid, queue.Queue())

    # -- API used by tests --
    def connect(self):
        self.c.reconnect_delay_set(1, 1)
        self.c.connect("127.0.0.1", self.broker.port, keepalive=self.keepalive)
        self.c.loop_start()
        flags, rc = self.connacks.get(timeout=T)
        assert rc == 0, f"{self.client_id}: CONNACK rc={rc}"
        return flags

    def subscribe(self, topic, qos):
        rc, mid = self.c.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        granted = self._ack_queue(self.subacks, mid).get(timeout=T)
        return granted

    def unsubscribe(self, topic):
        rc, mid = self.c.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        self._ack_queue(self.unsubacks, mid).get(timeout=T)

    def publish(self, topic, payload, qos=0, retain=False, wait=True):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish rc={info.rc}"
        if wait and qos > 0:
            info.wait_for_publish(timeout=T)
            assert info.is_published(), f"QoS {qos} publish to {topic} not acknowledged"
        return info

    def get(self, timeout=T):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no message within {timeout:.1f}s")

    def get_n(self, n, timeout=T):
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.client_id}: got {len(out)} of {n} messages")
            try:
                out.append(self.messages.get(timeout=left))
            except queue.Empty:
                pass
        return out

    def expect_nothing(self, duration=QUIET):
        try:
            msg = self.messages.get(timeout=duration)
        except queue.Empty:
            return
        raise AssertionError(f"{self.client_id}: unexpected message {msg.topic} {msg.payload!r}")

    def disconnect(self):
        try:
            self.c.disconnect()
        finally:
            self.disconnected.wait(T)
            self.c.loop_stop()


@pytest.fixture
def clients(broker):
    """clients(client_id, **kw) -> connected PahoClient on the default 2-worker broker."""
    made = []

    def make(client_id, connect=True, **kw):
        pc = PahoClient(broker, client_id, **kw)
        made.append(pc)
        if connect:
            pc.connect()
        return pc

    yield make
    for pc in made:
        try:
            pc.c.disconnect()
        except Exception:
            pass
        pc.c.loop_stop()


@pytest.mark.parametrize("pub_qos,sub_qos", [(0, 0), (1, 1), (2, 2), (2, 1), (1, 0), (0, 2)])
def test_publish_subscribe_qos(clients, pub_qos, sub_qos):
    sub = clients(f"paho-sub-{pub_qos}{sub_qos}")
    assert sub.subscribe(f"paho/qos/{pub_qos}{sub_qos}", sub_qos) == [sub_qos]
    pub = clients(f"paho-pub-{pub_qos}{sub_qos}")
    payloads = [b"first", b"", bytes(range(256)), b"x" * 70000]
    for p in payloads:
        pub.publish(f"paho/qos/{pub_qos}{sub_qos}", p, qos=pub_qos)
    got = sub.get_n(len(payloads))
    assert [m.payload for m in got] == payloads
    for m in got:
        assert m.topic == f"paho/qos/{pub_qos}{sub_qos}"
        assert m.qos == min(pub_qos, sub_qos)
        assert not m.retain
    sub.expect_nothing()


def test_mqttv31(broker, clients):
    sub = clients("paho31-sub", protocol=mqtt.MQTTv31)
    pub = clients("paho31-pub", protocol=mqtt.MQTTv31)
    broker.wait_log(r"as paho31-sub \(p3\b")
    broker.wait_log(r"as paho31-pub \(p3\b")
    assert sub.subscribe("paho31/#", 2) == [2]
    for qos in (0, 1, 2):
        pub.publish(f"paho31/q{qos}", f"v31 qos {qos}".encode(), qos=qos)
    got = sub.get_n(3)
    assert [(m.topic, m.payload, m.qos) for m in got] == [
        ("paho31/q0", b"v31 qos 0", 0), ("paho31/q1", b"v31 qos 1", 1),
        ("paho31/q2", b"v31 qos 2", 2)]
    pub.disconnect()
    sub.disconnect()


def test_mqtt311_logged_as_p4(broker, clients):
    clients("paho311-ident")
    broker.wait_log(r"New client connected from 127\.0\.0\.1:\d+ as paho311-ident "
                    r"\(p4, c1, k60, w\d+\)")


def test_retained(clients):
    pub = clients("paho-ret-pub")
    pub.publish("paho/ret/a", b"retained-a", qos=1, retain=True)
    pub.publish("paho/ret/b", b"retained-b1", qos=1, retain=True)
    pub.publish("paho/ret/b", b"retained-b2", qos=1, retain=True)  # replaces b1

    late = clients("paho-ret-late")
    assert late.subscribe("paho/ret/+", 1) == [1]
    got = sorted(late.get_n(2), key=lambda m: m.topic)
    assert [(m.topic, m.payload, m.retain) for m in got] == [
        ("paho/ret/a", b"retained-a", True), ("paho/ret/b", b"retained-b2", True)]
    late.expect_nothing()

    # A live publish with retain=1 reaches an existing subscriber with retain=0.
    pub.publish("paho/ret/a", b"retained-a2", qos=1, retain=True)
    m = late.get()
    assert (m.topic, m.payload, m.retain) == ("paho/ret/a", b"retained-a2", False)

    # An empty retained payload deletes the retained message (and is delivered live).
    pub.publish("paho/ret/a", b"", qos=1, retain=True)
    m = late.get()
    assert (m.topic, m.payload) == ("paho/ret/a", b"")

    later = clients("paho-ret-later")
    assert later.subscribe("paho/ret/#", 0) == [0]
    m = later.get()
    assert (m.topic, m.payload, m.retain, m.qos) == ("paho/ret/b", b"retained-b2", True, 0)
    later.expect_nothing()


def test_last_will_on_abrupt_close(broker, clients):
    watcher = clients("paho-will-watch")
    assert watcher.subscribe("paho/will/#", 1) == [1]

    # The will client runs without paho's thread so that we can pull the socket away.
    dying = _new_client("paho-will-dying")
    dying.will_set("paho/will/dying", b"gone away", qos=1, retain=False)
    connected = threading.Event()
    dying.on_connect = lambda c, u, f, rc: connected.set()
    dying.connect("127.0.0.1", broker.port, keepalive=60)
    deadline = time.monotonic() + T
    while not connected.is_set() and time.monotonic() < deadline:
        dying.loop(timeout=0.05)
    assert connected.is_set()
    broker.wait_log(r"as paho-will-dying \(")
    dying.socket().close()          # no DISCONNECT: the broker must publish the will

    m = watcher.get()
    assert (m.topic, m.payload, m.qos, m.retain) == ("paho/will/dying", b"gone away", 1, False)
    watcher.expect_nothing()


def test_no_will_on_clean_disconnect(clients):
    watcher = clients("paho-nowill-watch")
    assert watcher.subscribe("paho/nowill/#", 1) == [1]
    polite = clients("paho-nowill-polite",
                     will=dict(topic="paho/nowill/polite", payload=b"should not see", qos=1))
    polite.disconnect()
    # A sentinel published after the disconnect: the will, had it been sent, would be
    # ahead of it.
    pub = clients("paho-nowill-pub")
    pub.publish("paho/nowill/sentinel", b"s", qos=1)
    m = watcher.get()
    assert (m.topic, m.payload) == ("paho/nowill/sentinel", b"s")
    watcher.expect_nothing()


def test_persistent_session_receives_queued_qos1(clients):
    first = clients("paho-persist", clean_session=False)
    assert first.subscribe("paho/persist/#", 1) == [1]
    first.disconnect()

    pub = clients("paho-persist-pub")
    expected = [f"queued {i}".encode() for i in range(10)]
    for p in expected:
        pub.publish("paho/persist/t", p, qos=1)

    again = clients("paho-persist", clean_session=False, connect=False)
    flags = again.connect()
    assert flags.get("session present") == 1, f"session present not set: {flags}"
    got = again.get_n(len(expected))
    assert [m.payload for m in got] == expected
    assert all(m.qos == 1 and m.topic == "paho/persist/t" for m in got)

    # Still subscribed (the subscription was part of the session), without resubscribing.
    pub.publish("paho/persist/t", b"live", qos=1)
    assert again.get().payload == b"live"
    again.expect_nothing()
    again.disconnect()

    # clean_session=True discards the session: nothing queued for it afterwards.
    clean = clients("paho-persist", clean_session=True, connect=False)
    flags = clean.connect()
    assert flags.get("session present") == 0
    clean.disconnect()
    pub.publish("paho/persist/t", b"after clean", qos=1)
    back = clients("paho-persist", clean_session=False, connect=False)
    flags = back.connect()
    assert flags.get("session present") == 0
    back.expect_nothing()


def test_unsubscribe(clients):
    sub = clients("paho-unsub")
    assert sub.subscribe("paho/unsub/a", 1) == [1]
    assert sub.subscribe("paho/unsub/sentinel", 1) == [1]
    pub = clients("paho-unsub-pub")
    pub.publish("paho/unsub/a", b"before", qos=1)
    assert sub.get().payload == b"before"

    sub.unsubscribe("paho/unsub/a")
    pub.publish("paho/unsub/a", b"after", qos=1)
    pub.publish("paho/unsub/sentinel", b"sentinel", qos=1)
    m = sub.get()
    assert (m.topic, m.payload) == ("paho/unsub/sentinel", b"sentinel")
    sub.expect_nothing()

    # Unsubscribing from something never subscribed is still acknowledged.
    sub.unsubscribe("paho/unsub/never")


WILDCARD_CASES = {
    # filter: topics (of ALL_TOPICS) it must match
    "sport/tennis/+": ["sport/tennis/player1", "sport/tennis/player2"],
    "sport/#": ["sport", "sport/tennis/player1", "sport/tennis/player2",
                "sport/tennis/player1/ranking", "sport/"],
    "sport/+": ["sport/"],
    "+/+": ["/finance", "sport/", "other/tennis", "wild/end"],
    "+": ["sport"],
    "/+": ["/finance"],
    "#": None,  # everything
    "+/tennis/#": ["sport/tennis/player1", "sport/tennis/player2",
                   "sport/tennis/player1/ranking", "other/tennis"],
    "sport/tennis/player1": ["sport/tennis/player1"],
}
ALL_TOPICS = ["sport", "sport/", "sport/tennis/player1", "sport/tennis/player2",
              "sport/tennis/player1/ranking", "/finance", "other/tennis"]


def test_wildcard_subscriptions(clients):
    subs = {}
    for i, flt in enumerate(WILDCARD_CASES):
        sc = clients(f"paho-wild-{i}")
        assert sc.subscribe(flt, 1) == [1]
        subs[flt] = sc
    pub = clients("paho-wild-pub")
    for t in ALL_TOPICS:
        pub.publish(t, t.encode(), qos=1)
    pub.publish("wild/end", b"wild/end", qos=1)
    for flt, sc in subs.items():
        want = ALL_TOPICS + ["wild/end"] if WILDCARD_CASES[flt] is None else WILDCARD_CASES[flt]
        want = [t for t in ALL_TOPICS + ["wild/end"] if t in want]  # publish order
        got = sc.get_n(len(want))
        assert [m.topic for m in got] == want, f"filter {flt!r}"
        assert all(m.payload == m.topic.encode() for m in got)
    # Nothing extra, checked after all expected ones arrived.
    for flt, sc in subs.items():
        sc.expect_nothing(duration=0.1 * SLOW)


def test_overlapping_subscriptions_qos(clients):
    """MQTT-3.3.5-1: with overlapping subscriptions the message is delivered at least
    once, with the maximum QoS of the matching subscriptions (3.1.1 allows one copy or
    one per subscription)."""
    sub = clients("paho-overlap")
    assert sub.subscribe("ovl/#", 0) == [0]
    assert sub.subscribe("ovl/+/x", 2) == [2]
    pub = clients("paho-overlap-pub")
    pub.publish("ovl/a/x", b"both", qos=2)
    got = [sub.get()]
    try:
        while True:
            got.append(sub.messages.get(timeout=QUIET))
    except queue.Empty:
        pass
    assert all((m.topic, m.payload) == ("ovl/a/x", b"both") for m in got)
    assert 1 <= len(got) <= 2, f"{len(got)} copies"
    assert max(m.qos for m in got) == 2, [m.qos for m in got]


def test_1000_qos1_in_order(clients):
    sub = clients("paho-thousand-sub")
    assert sub.subscribe("paho/thousand", 1) == [1]
    pub = clients("paho-thousand-pub")
    n = 1000
    infos = [pub.publish("paho/thousand", str(i).encode(), qos=1, wait=False)
             for i in range(n)]
    deadline = time.monotonic() + 6 * T
    for info in infos:
        info.wait_for_publish(timeout=max(0.1, deadline - time.monotonic()))
        assert info.is_published()
    got = sub.get_n(n, timeout=6 * T)
    seqs = [int(m.payload) for m in got]
    assert seqs == list(range(n)), "out of order or missing: first bad index %d" % next(
        i for i, s in enumerate(seqs) if s != i)
    assert all(m.qos == 1 for m in got)
    sub.expect_nothing(duration=0.2 * SLOW)
