"""MQTT 5.0 interop with a real third-party client: Debian's python3-paho-mqtt 1.6 in
MQTTv5 mode (docs/mqtt5.md, seen from the client's side).

This file holds the shared helper (`Paho`, the `clients` fixture) and the tests of
connecting (CONNACK properties, the directives that shape them), properties passing
through, request/response and the reason codes of PUBACK/PUBREC, SUBACK, UNSUBACK and
server-sent DISCONNECT. Sessions, expiry, wills and flow control are in
test_mqtt5_paho_session.py; subscription options, identifiers, shared subscriptions
and topic aliases in test_mqtt5_paho_subscribe.py.

paho 1.6 parses but does not hand to callbacks the reason codes of PUBACK, PUBREC,
PUBCOMP and DISCONNECT (on_disconnect is not called at all for a DISCONNECT whose
remaining length is 1); `_Client` records them from the packet paho just read. paho 1.6
does not resolve topic aliases on incoming PUBLISHes either: `Paho` resolves them per
connection and keeps what was on the wire (`Msg.wire_topic`, `Msg.props["TopicAlias"]`).

Every wait is bounded (scaled by SLOW under sanitizers); all traffic is to 127.0.0.1.
"""
import queue
import re
import socket
import struct
import threading
import time

import pytest

from conftest import SLOW

mqtt = pytest.importorskip("paho.mqtt.client")
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402
from paho.mqtt.reasoncodes import ReasonCodes  # noqa: E402
from paho.mqtt.subscribeoptions import SubscribeOptions  # noqa: E402

T = 10.0 * SLOW          # bound for anything that should happen "now"
QUIET = 0.5 * SLOW       # how long we listen to prove that nothing arrives

MQTTv5 = mqtt.MQTTv5
MQTTv311 = mqtt.MQTTv311


def props(packet_type, **kw):
    """Properties(packet_type) with the given attributes (paho's compressed names)."""
    p = Properties(packet_type)
    for k, v in kw.items():
        setattr(p, k, v)
    return p


def pdict(p):
    """{compressed name: value} of the properties present in a paho Properties."""
    if p is None:
        return {}
    out = {}
    for name in p.names:
        cname = name.replace(" ", "")
        if hasattr(p, cname):
            out[cname] = getattr(p, cname)
    return out


class Msg:
    """A received PUBLISH. `topic` is the topic after resolving a topic alias,
    `wire_topic` what the PUBLISH carried."""
    __slots__ = ("topic", "wire_topic", "payload", "qos", "retain", "dup", "props", "at")

    def __repr__(self):
        return (f"Msg({self.topic!r}, {self.payload[:40]!r}, q{self.qos}, r{int(self.retain)}, "
                f"{self.props})")


class _Client(mqtt.Client):
    """paho's Client, recording the reason codes paho 1.6 does not pass on."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.acks = {}                  # mid -> {"PUBACK"/"PUBREC"/"PUBCOMP": reason code}
        self.ack_lock = threading.Lock()
        self.server_disconnect = None   # reason code of a DISCONNECT from the broker
        self.server_disconnect_props = None
        self.server_disconnected = threading.Event()
        self.errors = []                # exceptions paho raised on a received packet

    def _handle_publish(self):
        try:
            return super()._handle_publish()
        except Exception as e:   # e.g. a property not allowed in PUBLISH
            self.errors.append(f"paho could not read a PUBLISH: {e!r}")
            raise

    def _record_ack(self, name):
        pkt = self._in_packet["packet"]
        if len(pkt) < 2:
            return
        mid = struct.unpack("!H", bytes(pkt[:2]))[0]
        rc = pkt[2] if self._in_packet["remaining_length"] > 2 else 0
        with self.ack_lock:
            self.acks.setdefault(mid, {})[name] = rc

    def _handle_pubackcomp(self, cmd):
        self._record_ack(cmd)
        return super()._handle_pubackcomp(cmd)

    def _handle_pubrec(self):
        self._record_ack("PUBREC")
        return super()._handle_pubrec()

    def _handle_disconnect(self):
        pkt = self._in_packet["packet"]
        self.server_disconnect = pkt[0] if self._in_packet["remaining_length"] >= 1 else 0
        if self._in_packet["remaining_length"] > 1:
            p = Properties(PacketTypes.DISCONNECT)
            p.unpack(bytes(pkt[1:]))
            self.server_disconnect_props = pdict(p)
        self.server_disconnected.set()
        return super()._handle_disconnect()


class Paho:
    """A paho client (MQTTv5 unless told) on its own network thread, with queues for
    what it receives. No automatic reconnection: a lost connection stays lost."""

    def __init__(self, broker, client_id, protocol=MQTTv5, clean_start=True, keepalive=60,
                 connect_props=None, will=None):
        self.broker = broker
        self.client_id = client_id
        self.protocol = protocol
        self.clean_start = clean_start
        self.keepalive = keepalive
        self.connect_props = connect_props
        kwargs = dict(client_id=client_id, protocol=protocol, reconnect_on_failure=False)
        if protocol != MQTTv5:
            kwargs["clean_session"] = clean_start
        if hasattr(mqtt, "CallbackAPIVersion"):  # paho 2.x: keep the 1.x callback signatures
            kwargs["callback_api_version"] = mqtt.CallbackAPIVersion.VERSION1
        self.c = _Client(**kwargs)
        # paho refuses some filters ("a/#/b") before sending; tests of the broker's
        # SUBACK 0x8F need them on the wire.
        self.c._filter_wildcard_len_check = lambda sub: mqtt.MQTT_ERR_SUCCESS
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.subacks = {}
        self.unsubacks = {}
        self.disconnected = threading.Event()
        self.disconnect_rc = None
        self.aliases = {}
        self.alias_errors = []
        self.on_message_hook = None   # called on paho's thread before the ack is sent
        self._lock = threading.Lock()
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.on_disconnect = self._on_disconnect
        if will:
            self.c.will_set(**will)
        self.started = False

    # -- callbacks (paho's thread) --
    def _on_connect(self, c, userdata, flags, rc, properties=None):
        self.aliases = {}
        code = rc.value if isinstance(rc, ReasonCodes) else rc
        self.connacks.put((flags, code, pdict(properties)))

    def _on_message(self, c, userdata, msg):
        m = Msg()
        m.wire_topic = msg.topic
        m.payload = msg.payload
        m.qos = msg.qos
        m.retain = bool(msg.retain)
        m.dup = bool(msg.dup)
        m.props = pdict(getattr(msg, "properties", None))
        m.at = time.monotonic()
        m.topic = m.wire_topic
        alias = m.props.get("TopicAlias")
        if alias is not None:
            if m.wire_topic:
                self.aliases[alias] = m.wire_topic
            elif alias in self.aliases:
                m.topic = self.aliases[alias]
            else:
                self.alias_errors.append(f"unknown alias {alias}")
        if self.on_message_hook:
            self.on_message_hook(m)
        self.messages.put(m)

    def _on_subscribe(self, c, userdata, mid, granted, properties=None):
        codes = [g.value if isinstance(g, ReasonCodes) else g for g in granted]
        with self._lock:
            self.subacks.setdefault(mid, queue.Queue()).put(codes)

    def _on_unsubscribe(self, c, userdata, mid, properties=None, reasons=None):
        if reasons is None:
            codes = None
        elif isinstance(reasons, list):
            codes = [r.value for r in reasons]
        else:
            codes = [reasons.value]
        with self._lock:
            self.unsubacks.setdefault(mid, queue.Queue()).put(codes)

    def _on_disconnect(self, c, userdata, rc, properties=None):
        self.disconnect_rc = rc
        self.disconnected.set()

    def _ack_queue(self, table, mid):
        with self._lock:
            return table.setdefault(mid, queue.Queue())

    # -- API used by tests --
    def connect(self, expect=0):
        """Connects and starts paho's thread; returns (flags, reason code, CONNACK
        properties as a dict). With expect != 0 the refusal is asserted and the
        thread stopped."""
        kw = {}
        if self.protocol == MQTTv5:
            kw["clean_start"] = self.clean_start
            if self.connect_props is not None:
                kw["properties"] = (self.connect_props if isinstance(self.connect_props, Properties)
                                    else props(PacketTypes.CONNECT, **self.connect_props))
        self.disconnected.clear()
        self.c.connect("127.0.0.1", self.broker.port, keepalive=self.keepalive, **kw)
        self.c.loop_start()
        self.started = True
        try:
            flags, rc, cprops = self.connacks.get(timeout=T)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no CONNACK within {T:.0f}s")
        assert rc == expect, f"{self.client_id}: CONNACK reason {rc:#x}, expected {expect:#x}"
        if expect != 0:
            self.disconnected.wait(T)
            self.stop()
        return flags, rc, cprops

    def subscribe(self, topic, qos=0, options=None, sub_id=None, user_props=None):
        """topic: a filter or a list of (filter, qos or SubscribeOptions). Returns the
        SUBACK reason codes as ints."""
        p = None
        if sub_id is not None or user_props is not None:
            p = Properties(PacketTypes.SUBSCRIBE)
            if sub_id is not None:
                p.SubscriptionIdentifier = sub_id
            if user_props is not None:
                p.UserProperty = user_props
        if isinstance(topic, list):
            rc, mid = self.c.subscribe(topic, properties=p)
        else:
            rc, mid = self.c.subscribe(topic, qos if options is None else 0, options=options,
                                       properties=p)
        assert rc == mqtt.MQTT_ERR_SUCCESS, f"subscribe rc={rc}"
        try:
            return self._ack_queue(self.subacks, mid).get(timeout=T)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no SUBACK for {topic!r}")

    def unsubscribe(self, topic):
        """Returns the UNSUBACK reason codes as ints."""
        rc, mid = self.c.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        try:
            return self._ack_queue(self.unsubacks, mid).get(timeout=T)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no UNSUBACK for {topic!r}")

    def publish(self, topic, payload, qos=0, retain=False, wait=True, **pubprops):
        """Publishes; keyword arguments are PUBLISH properties. For QoS 1/2 with wait,
        waits for the end of the exchange and returns the PUBACK (QoS 1) or PUBREC
        (QoS 2) reason code; otherwise returns paho's MQTTMessageInfo."""
        p = props(PacketTypes.PUBLISH, **pubprops) if pubprops else None
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=p)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish rc={info.rc}"
        if wait and qos > 0:
            return self.wait_ack(info, qos)
        return info

    def wait_ack(self, info, qos):
        info.wait_for_publish(timeout=T)
        assert info.is_published(), f"{self.client_id}: QoS {qos} publish not acknowledged"
        return self.ack(info.mid, "PUBACK" if qos == 1 else "PUBREC")

    def ack(self, mid, name):
        with self.c.ack_lock:
            return self.c.acks.get(mid, {}).get(name)

    def get(self, timeout=T):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no message within {timeout:.1f}s "
                                 f"{self.c.errors}")

    def get_n(self, n, timeout=T):
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.client_id}: got {len(out)} of {n} messages: {out} "
                                     f"{self.c.errors}")
            try:
                out.append(self.messages.get(timeout=left))
            except queue.Empty:
                pass
        return out

    def get_until(self, topic, timeout=T):
        """Messages up to and including the first one on `topic` (a sentinel)."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.client_id}: no {topic!r} after {out} {self.c.errors}")
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            out.append(m)
            if m.topic == topic:
                return out

    def expect_nothing(self, duration=QUIET):
        try:
            msg = self.messages.get(timeout=duration)
        except queue.Empty:
            return
        raise AssertionError(f"{self.client_id}: unexpected message {msg}")

    def wait_server_disconnect(self, timeout=T):
        """Waits for a DISCONNECT from the broker and the connection to close;
        returns the reason code."""
        assert self.c.server_disconnected.wait(timeout), \
            f"{self.client_id}: no DISCONNECT from the broker (rc {self.disconnect_rc})"
        assert self.disconnected.wait(timeout), f"{self.client_id}: connection still open"
        return self.c.server_disconnect

    def drop(self):
        """Ends the connection without DISCONNECT (the broker sees it lost)."""
        sock = self.c.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.disconnected.wait(T)
        self.stop()

    def disconnect(self, reasoncode=None, **dprops):
        """DISCONNECT (reasoncode: a name such as "Disconnect with will message"),
        keyword arguments are DISCONNECT properties; then stops the thread."""
        rc = ReasonCodes(PacketTypes.DISCONNECT, reasoncode) if reasoncode else None
        p = props(PacketTypes.DISCONNECT, **dprops) if dprops else None
        try:
            if self.protocol == MQTTv5:
                self.c.disconnect(reasoncode=rc, properties=p)
            else:
                self.c.disconnect()
        finally:
            self.disconnected.wait(T)
            self.stop()

    def wait_gone(self, count=1):
        """Waits until the broker has logged this client's disconnection `count` times
        (so that what follows sees the session as the disconnection left it)."""
        rx = re.compile(rf"Client {re.escape(self.client_id)} disconnected")
        deadline = time.monotonic() + T
        while sum(1 for line in self.broker.log().splitlines() if rx.search(line)) < count:
            assert time.monotonic() < deadline, \
                f"broker did not log the disconnection of {self.client_id} x{count}"
            time.sleep(0.02)

    def stop(self):
        if self.started:
            self.c.loop_stop()
            self.started = False


@pytest.fixture
def clients(broker):
    """clients(client_id, broker=None, connect=True, **kw) -> Paho (connected unless
    connect=False) on the default 2-worker broker or the one given. All are
    disconnected and their threads stopped at teardown."""
    made = []

    def make(client_id, broker=broker, connect=True, **kw):
        pc = Paho(broker, client_id, **kw)
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
        pc.stop()


# --------------------------------------------------------------------------------------
# CONNECT / CONNACK


DEFAULT_CONNACK = {"ReceiveMaximum": 20, "TopicAliasMaximum": 10, "RetainAvailable": 1,
                   "WildcardSubscriptionAvailable": 1, "SubscriptionIdentifierAvailable": 1,
                   "SharedSubscriptionAvailable": 1}


def test_connack_default_properties(broker, clients):
    pc = clients("p5-connack", connect=False)
    flags, rc, cprops = pc.connect()
    assert rc == 0
    assert flags["session present"] == 0
    assert cprops == DEFAULT_CONNACK
    broker.wait_log(r"as p5-connack \(p5, c1, k60\b")


def test_connect_with_all_properties(clients):
    """Every CONNECT and will property a client may send, at once."""
    cp = dict(SessionExpiryInterval=30, ReceiveMaximum=7, MaximumPacketSize=100000,
              TopicAliasMaximum=3, RequestResponseInformation=1, RequestProblemInformation=0,
              UserProperty=[("client", "paho"), ("lang", "py"), ("client", "again")])
    wp = dict(WillDelayInterval=0, PayloadFormatIndicator=1, MessageExpiryInterval=10,
              ContentType="text/plain", ResponseTopic="p5/allp/resp", CorrelationData=b"c",
              UserProperty=[("w", "1")])
    pc = clients("p5-allprops", clean_start=False, connect=False, connect_props=cp,
                 will=dict(topic="p5/allp/will", payload=b"bye", qos=1,
                           properties=props(PacketTypes.WILLMESSAGE, **wp)))
    flags, rc, cprops = pc.connect()
    assert (flags["session present"], rc) == (0, 0)
    assert cprops == DEFAULT_CONNACK     # no response_information configured
    assert pc.subscribe("p5/allp/t", 1) == [1]
    assert pc.publish("p5/allp/t", b"me", qos=1) == 0
    assert pc.get().payload == b"me"


def test_connack_assigned_client_identifier(broker, clients):
    ids = []
    for clean_start in (True, False):
        pc = clients("", clean_start=clean_start, connect=False)
        flags, rc, cprops = pc.connect()
        assert flags["session present"] == 0
        aid = cprops.pop("AssignedClientIdentifier", None)
        assert isinstance(aid, str) and 1 <= len(aid) <= 65535, cprops
        assert cprops == DEFAULT_CONNACK
        broker.wait_log(rf"as {re.escape(aid)} \(p5\b")
        ids.append(aid)
    assert ids[0] != ids[1]

    # The assigned identifier works: it carries messages like any other.
    a = clients("", connect=False)
    aid = a.connect()[2]["AssignedClientIdentifier"]
    assert a.subscribe("p5/assigned", 1) == [1]
    pub = clients("p5-assigned-pub")
    assert pub.publish("p5/assigned", aid.encode(), qos=1) == 0
    assert a.get().payload == aid.encode()


def test_connack_assigned_identifier_refused_when_disallowed(broker_factory, clients):
    b = broker_factory(config="allow_zero_length_clientid false\n", threads=2)
    clients("", broker=b, connect=False).connect(expect=0x85)
    # A named client is still welcome.
    assert clients("p5-named", broker=b, connect=False).connect()[1] == 0


@pytest.mark.parametrize("keepalive,server_keepalive", [(60, 10), (0, 10), (5, None), (10, None)])
def test_connack_server_keepalive(broker_factory, clients, keepalive, server_keepalive):
    b = broker_factory(config="max_keepalive 10\n", threads=2)
    pc = clients(f"p5-ska-{keepalive}", broker=b, keepalive=keepalive, connect=False)
    flags, rc, cprops = pc.connect()
    assert rc == 0   # 5.0 is not refused for its keep alive (3.1.1 would be)
    assert cprops.get("ServerKeepAlive") == server_keepalive, cprops
    # The connection is usable.
    assert pc.subscribe("p5/ska", 0) == [0]


@pytest.mark.parametrize("permanent,reason", [(False, 0x9C), (True, 0x9D)])
def test_connack_server_reference(broker_factory, clients, permanent, reason):
    conf = "server_reference other.example:1884\n"
    if permanent:
        conf += "server_reference_permanent true\n"
    b = broker_factory(config=conf, threads=2)
    cprops = clients("p5-sref", broker=b, connect=False).connect(expect=reason)[2]
    assert cprops.get("ServerReference") == "other.example:1884"
    # 3.1.1: return code 3 (Server unavailable).
    clients("p5-sref4", broker=b, protocol=MQTTv311, connect=False).connect(expect=3)


def test_connack_not_authorized(broker_factory, clients):
    b = broker_factory(config="allow_anonymous false\n", threads=2)
    clients("p5-anon", broker=b, connect=False).connect(expect=0x87)


def test_connack_response_information(broker_factory, clients):
    b = broker_factory(config="response_information reply/%c\n", threads=2)
    asked = clients("p5-rri", broker=b, connect=False,
                    connect_props={"RequestResponseInformation": 1})
    assert asked.connect()[2].get("ResponseInformation") == "reply/p5-rri"
    not_asked = clients("p5-rri-0", broker=b, connect=False,
                        connect_props={"RequestResponseInformation": 0})
    assert "ResponseInformation" not in not_asked.connect()[2]
    plain = clients("p5-rri-none", broker=b, connect=False)
    assert "ResponseInformation" not in plain.connect()[2]


def test_connack_no_response_information_when_unset(clients):
    pc = clients("p5-rri-unset", connect=False, connect_props={"RequestResponseInformation": 1})
    assert pc.connect()[2] == DEFAULT_CONNACK


@pytest.mark.parametrize("directive,value", [("5", 5), ("0", 65535), ("1", 1)])
def test_connack_receive_maximum(broker_factory, clients, directive, value):
    b = broker_factory(config=f"max_inflight_messages {directive}\n", threads=2)
    pc = clients(f"p5-rm-{directive}", broker=b, connect=False)
    # An absent Receive Maximum means 65,535 too.
    assert pc.connect()[2].get("ReceiveMaximum", 65535) == value


def test_max_qos_1(broker_factory, clients):
    b = broker_factory(config="max_qos 1\n", threads=2)
    sub = clients("p5-mq-sub", broker=b, connect=False)
    cprops = sub.connect()[2]
    assert cprops["MaximumQoS"] == 1
    assert {k: v for k, v in cprops.items() if k != "MaximumQoS"} == DEFAULT_CONNACK
    # Subscriptions are granted at most QoS 1.
    assert sub.subscribe([("p5/mq/2", 2), ("p5/mq/1", 1), ("p5/mq/0", 0)]) == [1, 1, 0]
    pub = clients("p5-mq-pub", broker=b)
    assert pub.publish("p5/mq/2", b"q1", qos=1) == 0
    m = sub.get()
    assert (m.topic, m.payload, m.qos) == ("p5/mq/2", b"q1", 1)
    # A QoS 2 PUBLISH: DISCONNECT 0x9B, and the message goes nowhere.
    pub.publish("p5/mq/2", b"q2", qos=2, wait=False)
    assert pub.wait_server_disconnect() == 0x9B
    sub.expect_nothing()


def test_max_qos_will_above_is_refused(broker_factory, clients):
    b = broker_factory(config="max_qos 1\n", threads=2)
    clients("p5-mq-will", broker=b, connect=False,
            will=dict(topic="p5/mq/will", payload=b"w", qos=2)).connect(expect=0x9B)
    ok = clients("p5-mq-will1", broker=b, connect=False,
                 will=dict(topic="p5/mq/will", payload=b"w", qos=1))
    assert ok.connect()[1] == 0


def test_max_packet_size(broker_factory, clients):
    b = broker_factory(config="max_packet_size 1000\n", threads=2)
    sub = clients("p5-mps-sub", broker=b, connect=False)
    cprops = sub.connect()[2]
    assert cprops["MaximumPacketSize"] == 1000
    assert sub.subscribe("p5/mps", 1) == [1]
    pub = clients("p5-mps-pub", broker=b)
    assert pub.publish("p5/mps", b"s" * 900, qos=1) == 0
    assert sub.get().payload == b"s" * 900
    pub.publish("p5/mps", b"L" * 2000, qos=1, wait=False)
    assert pub.wait_server_disconnect() == 0x95
    sub.expect_nothing()


def test_client_maximum_packet_size(clients):
    """A message that would make a PUBLISH larger than the client's Maximum Packet Size
    is not sent to it; other subscribers still get it."""
    small = clients("p5-cmps-small", connect_props={"MaximumPacketSize": 300})
    big = clients("p5-cmps-big")
    for c in (small, big):
        assert c.subscribe("p5/cmps", 1) == [1]
    pub = clients("p5-cmps-pub")
    for p in (b"a" * 100, b"B" * 1000, b"c" * 100):
        assert pub.publish("p5/cmps", p, qos=1) == 0
    assert [m.payload for m in big.get_n(3)] == [b"a" * 100, b"B" * 1000, b"c" * 100]
    assert [m.payload for m in small.get_n(2)] == [b"a" * 100, b"c" * 100]
    small.expect_nothing()


def test_retain_available_false(broker_factory, clients):
    b = broker_factory(config="retain_available false\n", threads=2)
    pc = clients("p5-ra", broker=b, connect=False)
    cprops = pc.connect()[2]
    assert cprops["RetainAvailable"] == 0
    assert pc.publish("p5/ra", b"not retained", qos=1) == 0x10
    pc.publish("p5/ra", b"retained", qos=1, retain=True, wait=False)
    assert pc.wait_server_disconnect() == 0x9A
    clients("p5-ra-will", broker=b, connect=False,
            will=dict(topic="p5/ra/w", payload=b"w", qos=0, retain=True)).connect(expect=0x9A)


def test_session_takeover_disconnect(broker, clients):
    first = clients("p5-takeover")
    second = clients("p5-takeover", connect=False)
    assert second.connect()[1] == 0
    assert first.wait_server_disconnect() == 0x8E
    # The second connection is the live one.
    assert second.subscribe("p5/takeover", 1) == [1]


def test_server_shutdown_disconnect(broker_factory, clients):
    b = broker_factory(threads=2)
    pc = clients("p5-shutdown", broker=b)
    b.stop()
    assert pc.wait_server_disconnect() == 0x8B


# --------------------------------------------------------------------------------------
# Properties pass through


PASS_PROPS = dict(PayloadFormatIndicator=1, ContentType="application/json; charset=utf-8",
                  ResponseTopic="p5/reply/here", CorrelationData=b"\x00\x01corr\xff",
                  UserProperty=[("k", "v1"), ("a", "b"), ("k", "v2"), ("", ""),
                                ("\u00e9t\u00e9", "\u2603")])


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_properties_pass_through(clients, qos):
    sub5 = clients(f"p5-pp-sub5-{qos}")
    sub4 = clients(f"p5-pp-sub4-{qos}", protocol=MQTTv311)
    assert sub5.subscribe("p5/pp/#", 2) == [2]
    assert sub4.subscribe("p5/pp/#", 2) == [2]
    pub = clients(f"p5-pp-pub-{qos}")
    pub.publish("p5/pp/t", b'{"x": 1}', qos=qos, **PASS_PROPS)
    pub.publish("p5/pp/none", b"no properties", qos=qos)
    m = sub5.get()
    assert (m.topic, m.payload, m.qos) == ("p5/pp/t", b'{"x": 1}', qos)
    assert m.props == PASS_PROPS
    m = sub5.get()
    assert (m.topic, m.payload, m.props) == ("p5/pp/none", b"no properties", {})
    # A 3.1.1 subscriber gets the same messages without properties.
    got = sub4.get_n(2)
    assert [(m.topic, m.payload, m.qos, m.props) for m in got] == [
        ("p5/pp/t", b'{"x": 1}', qos, {}), ("p5/pp/none", b"no properties", qos, {})]


def test_properties_on_retained_message(clients):
    pub = clients("p5-pr-pub")
    assert pub.publish("p5/pr/t", b"kept", qos=1, retain=True, **PASS_PROPS) == 0x10
    sub = clients("p5-pr-sub")
    assert sub.subscribe("p5/pr/#", 1) == [1]
    m = sub.get()
    assert (m.topic, m.payload, m.retain) == ("p5/pr/t", b"kept", True)
    assert m.props == PASS_PROPS


def test_request_response_round_trip(broker_factory, clients):
    b = broker_factory(config="response_information reply/%c\n", threads=2)
    requester = clients("p5-requester", broker=b, connect=False,
                        connect_props={"RequestResponseInformation": 1})
    base = requester.connect()[2]["ResponseInformation"]
    assert base == "reply/p5-requester"
    assert requester.subscribe(base + "/#", 1) == [1]
    responder = clients("p5-responder", broker=b)
    assert responder.subscribe("p5/svc/upper", 1) == [1]

    corr = [bytes([i, 0, 255 - i]) + f"req{i}".encode() for i in range(5)]
    for i, cd in enumerate(corr):
        assert requester.publish("p5/svc/upper", f"hello {i}".encode(), qos=1,
                                 ResponseTopic=f"{base}/{i % 2}", CorrelationData=cd) == 0
    # The responder answers on the Response Topic, echoing the Correlation Data.
    for i in range(5):
        req = responder.get()
        assert req.props == {"ResponseTopic": f"{base}/{i % 2}", "CorrelationData": corr[i]}
        assert responder.publish(req.props["ResponseTopic"], req.payload.upper(), qos=1,
                                 CorrelationData=req.props["CorrelationData"]) == 0
    got = requester.get_n(5)
    assert [(m.topic, m.payload, m.props) for m in got] == [
        (f"{base}/{i % 2}", f"HELLO {i}".encode(), {"CorrelationData": corr[i]})
        for i in range(5)]
    requester.expect_nothing()


# --------------------------------------------------------------------------------------
# Reason codes


def test_puback_no_matching_subscribers(clients):
    pub = clients("p5-nms-pub")
    assert pub.publish("p5/nms/t", b"nobody", qos=1) == 0x10
    assert pub.publish("p5/nms/t", b"nobody", qos=2) == 0x10
    sub = clients("p5-nms-sub")
    assert sub.subscribe("p5/nms/+", 0) == [0]
    assert pub.publish("p5/nms/t", b"one", qos=1) == 0x00
    assert pub.publish("p5/nms/t", b"two", qos=2) == 0x00
    assert pub.publish("p5/nms/other/level", b"three", qos=1) == 0x10
    assert [m.payload for m in sub.get_n(2)] == [b"one", b"two"]
    # After the subscriber leaves, nobody again.
    sub.disconnect()
    sub.wait_gone()
    assert pub.publish("p5/nms/t", b"gone", qos=1) == 0x10


def test_puback_shared_subscription_counts_as_subscriber(clients):
    sub = clients("p5-nms-shared")
    assert sub.subscribe("$share/g/p5/nmss", 1) == [1]
    pub = clients("p5-nms-shared-pub")
    assert pub.publish("p5/nmss", b"x", qos=1) == 0


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_payload_format_invalid_utf8(clients, qos):
    sub = clients(f"p5-pfi-sub-{qos}")
    assert sub.subscribe("p5/pfi/#", 2) == [2]
    pub = clients(f"p5-pfi-pub-{qos}")
    info = pub.publish("p5/pfi/bad", b"\xff\xfe not utf-8", qos=qos, wait=False,
                       PayloadFormatIndicator=1)
    if qos == 1:
        assert pub.wait_ack(info, qos) == 0x99
    elif qos == 2:
        info.wait_for_publish(timeout=T)
        assert pub.ack(info.mid, "PUBREC") == 0x99
    # Valid UTF-8 with the indicator set, and binary without it, are delivered.
    r = pub.publish("p5/pfi/good", "gr\u00fc\u00df".encode(), qos=qos, PayloadFormatIndicator=1)
    if qos:
        assert r == 0
    # (Same QoS: paho hands a QoS 2 message to on_message only at PUBREL.)
    pub.publish("p5/pfi/binary", b"\xff\xfe", qos=qos, PayloadFormatIndicator=0)
    got = sub.get_n(2)
    assert [(m.topic, m.payload, m.props) for m in got] == [
        ("p5/pfi/good", "gr\u00fc\u00df".encode(), {"PayloadFormatIndicator": 1}),
        ("p5/pfi/binary", b"\xff\xfe", {"PayloadFormatIndicator": 0})]
    sub.expect_nothing()


def test_pubcomp_unknown_packet_id(clients):
    """After PUBREC 0x99 the packet id is released; paho 1.6 still sends PUBREL for it,
    which the broker answers with PUBCOMP 0x92 (Packet Identifier not found)."""
    pub = clients("p5-pubcomp")
    info = pub.publish("p5/pubcomp", b"\xc3\x28", qos=2, wait=False, PayloadFormatIndicator=1)
    info.wait_for_publish(timeout=T)
    assert info.is_published()
    assert pub.ack(info.mid, "PUBREC") == 0x99
    assert pub.ack(info.mid, "PUBCOMP") == 0x92


def test_suback_reason_codes(clients):
    sub = clients("p5-suback")
    codes = sub.subscribe([("p5/sa/a", 0), ("p5/sa/b/+", 1), ("p5/sa/c/#", 2), ("a/#/b", 1),
                           ("p5/sa/x#", 2), ("p5/sa/+y", 0), ("p5/sa/d", SubscribeOptions(qos=2))])
    assert codes == [0, 1, 2, 0x8F, 0x8F, 0x8F, 2]
    # The connection stays up and the valid filters work, at their granted QoS.
    pub = clients("p5-suback-pub")
    for t in ("p5/sa/a", "p5/sa/b/x", "p5/sa/c", "p5/sa/d"):
        assert pub.publish(t, t.encode(), qos=2) == 0
    got = sorted(sub.get_n(4), key=lambda m: m.topic)
    assert [(m.topic, m.payload, m.qos) for m in got] == [
        ("p5/sa/a", b"p5/sa/a", 0), ("p5/sa/b/x", b"p5/sa/b/x", 1), ("p5/sa/c", b"p5/sa/c", 2),
        ("p5/sa/d", b"p5/sa/d", 2)]
    assert sub.subscribe("a/#/b", 0) == [0x8F]
    assert sub.subscribe("p5/sa/c", 1) == [1]
    assert not sub.disconnected.is_set()


def test_unsuback_reason_codes(clients):
    sub = clients("p5-unsuback")
    assert sub.subscribe([("p5/ua/a", 1), ("p5/ua/+", 1)]) == [1, 1]
    assert sub.unsubscribe(["p5/ua/a", "p5/ua/never", "p5/ua/+"]) == [0, 0x11, 0]
    assert sub.unsubscribe("p5/ua/a") == [0x11]
    assert sub.unsubscribe("a/#/b") == [0x8F]
    # Unsubscribed for real: a sentinel subscription gets its message, the others none.
    assert sub.subscribe("p5/ua/sentinel", 1) == [1]
    pub = clients("p5-unsuback-pub")
    assert pub.publish("p5/ua/a", b"x", qos=1) == 0x10
    assert pub.publish("p5/ua/sentinel", b"s", qos=1) == 0
    assert [m.topic for m in sub.get_until("p5/ua/sentinel")] == ["p5/ua/sentinel"]
