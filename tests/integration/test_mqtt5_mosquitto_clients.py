"""MQTT 5.0 interop with Debian's mosquitto-clients (mosquitto_pub / mosquitto_sub
2.0.x, `-V 5`, properties with -D), and across clients: mosquitto_pub to a paho v5
subscriber and a paho v5 publisher to mosquitto_sub.

mosquitto_sub runs in the background with -d (its "Subscribed" debug line tells us when
the SUBACK arrived) and `stdbuf -oL`; each message is printed as one line
    MSG|topic|qos|retain|user properties|content type|response topic|correlation data|
        payload format|message expiry|subscription ids|payload in hex
Every subprocess is bounded by a timeout; all traffic goes to 127.0.0.1.

Not covered here: libmosquitto 2.0.11 treats a PUBLISH with an empty topic (a topic
alias from the server) as a protocol error, so mosquitto_sub cannot take aliases from
the broker (`-D connect topic-alias-maximum N`); test_mqtt5_paho_subscribe.py covers
that with paho.
"""
import re
import shutil
import time

import pytest

from conftest import SLOW
from test_interop_mosquitto_clients import Sub, pub
from test_mqtt5_paho import clients  # noqa: F401 (the fixture behind `paho`)

pytestmark = pytest.mark.skipif(
    not (shutil.which("mosquitto_sub") and shutil.which("mosquitto_pub")),
    reason="mosquitto-clients not installed")

FMT = "MSG|%t|%q|%r|%P|%C|%R|%D|%F|%E|%S|%x"
FIELDS = ("topic", "qos", "retain", "user", "ctype", "rtopic", "corr", "pfi", "expiry", "subid",
          "payload")


class Sub5(Sub):
    """mosquitto_sub printing the 5.0 fields of each message (FMT above)."""
    FMT = FMT

    @staticmethod
    def parse(line):
        """A message line -> dict of FIELDS (payload as bytes, qos/retain as int); None
        for other lines."""
        if not line.startswith("MSG|"):
            return None
        parts = line.split("|")[1:]
        assert len(parts) == len(FIELDS), line
        d = dict(zip(FIELDS, parts))
        d["qos"], d["retain"] = int(d["qos"]), int(d["retain"])
        d["payload"] = bytes.fromhex(d["payload"])
        return d


@pytest.fixture
def sub(broker):
    """sub(*args, broker=None) -> Sub5 on the default broker or the one given; all
    killed at teardown."""
    started = []

    def make(*args, broker=broker):
        s = Sub5(broker, *args)
        started.append(s)
        return s

    yield make
    for s in started:
        s.kill()


@pytest.fixture
def paho(clients):
    """paho(client_id, **kw) -> a connected Paho (test_mqtt5_paho.py's clients fixture)."""
    return clients


PROPS_ARGS = ["-D", "publish", "user-property", "k", "v1",
              "-D", "publish", "user-property", "a", "b",
              "-D", "publish", "user-property", "k", "v2",
              "-D", "publish", "content-type", "text/plain",
              "-D", "publish", "response-topic", "mc5/reply",
              "-D", "publish", "correlation-data", "corr-42",
              "-D", "publish", "payload-format-indicator", "1",
              "-D", "publish", "message-expiry-interval", "60"]
PROPS_SEEN = dict(user="k:v1 a:b k:v2", ctype="text/plain", rtopic="mc5/reply", corr="corr-42",
                  pfi="1", expiry="60")
NO_PROPS = dict(user="", ctype="", rtopic="", corr="", pfi="", expiry="", subid="")


def test_properties_between_mosquitto_clients(broker, sub):
    s5 = sub("-V", "5", "-q", 1, "-t", "mc5/props/#", "-C", 2)
    s4 = sub("-V", "mqttv311", "-q", 1, "-t", "mc5/props/#", "-C", 2)
    assert s5.wait_subscribed() == [1]
    assert s4.wait_subscribed() == [1]
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/props/t", "-m", "with properties", *PROPS_ARGS)
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/props/plain", "-m", "without")
    assert s5.finish() == 0
    assert s5.messages() == [
        dict(NO_PROPS, topic="mc5/props/t", qos=1, retain=0, payload=b"with properties",
             **PROPS_SEEN),
        dict(NO_PROPS, topic="mc5/props/plain", qos=1, retain=0, payload=b"without")]
    # A 3.1.1 subscriber: the same messages, no properties.
    assert s4.finish() == 0
    assert s4.messages() == [
        dict(NO_PROPS, topic="mc5/props/t", qos=1, retain=0, payload=b"with properties"),
        dict(NO_PROPS, topic="mc5/props/plain", qos=1, retain=0, payload=b"without")]


def test_properties_mosquitto_pub_to_paho(broker, paho):
    p = paho("mc5-paho-sub")
    assert p.subscribe("mc5/x/#", 1) == [1]
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/x/t", "-m", "to paho", *PROPS_ARGS)
    m = p.get()
    assert (m.topic, m.payload, m.qos) == ("mc5/x/t", b"to paho", 1)
    assert m.props == {"PayloadFormatIndicator": 1, "MessageExpiryInterval": 60,
                       "ContentType": "text/plain", "ResponseTopic": "mc5/reply",
                       "CorrelationData": b"corr-42",
                       "UserProperty": [("k", "v1"), ("a", "b"), ("k", "v2")]}


def test_properties_paho_to_mosquitto_sub(broker, sub, paho):
    s = sub("-V", "5", "-q", 1, "-t", "mc5/y/#", "-C", 1)
    assert s.wait_subscribed() == [1]
    p = paho("mc5-paho-pub")
    assert p.publish("mc5/y/t", b"from paho", qos=1, ContentType="a/b", ResponseTopic="mc5/r",
                     CorrelationData=b"cd", PayloadFormatIndicator=1, MessageExpiryInterval=30,
                     UserProperty=[("x", "1"), ("y", "2"), ("x", "3")]) == 0
    assert s.finish() == 0
    assert s.messages() == [dict(NO_PROPS, topic="mc5/y/t", qos=1, retain=0, payload=b"from paho",
                                 user="x:1 y:2 x:3", ctype="a/b", rtopic="mc5/r", corr="cd",
                                 pfi="1", expiry="30")]


def test_puback_reason_codes(broker, sub):
    out = pub(broker, "-V", "5", "-d", "-q", 1, "-t", "mc5/rc/t", "-m", "nobody")
    assert re.search(r"received PUBACK \(Mid: \d+, RC:16\)", out), out
    s = sub("-V", "5", "-q", 0, "-t", "mc5/rc/#", "-C", 1)
    assert s.wait_subscribed() == [0]
    out = pub(broker, "-V", "5", "-d", "-q", 1, "-t", "mc5/rc/t", "-m", "somebody")
    assert re.search(r"received PUBACK \(Mid: \d+, RC:0\)", out), out
    assert s.finish() == 0
    # 3.1.1 has no reason code.
    out = pub(broker, "-V", "mqttv311", "-d", "-q", 1, "-t", "mc5/none", "-m", "v311")
    assert re.search(r"received PUBACK \(Mid: \d+, RC:0\)", out), out


def test_subscription_identifier(broker, sub):
    s = sub("-V", "5", "-q", 1, "-t", "mc5/sid/#", "-D", "subscribe", "subscription-identifier", 7,
            "-C", 2)
    assert s.wait_subscribed() == [1]
    s2 = sub("-V", "5", "-q", 1, "-t", "mc5/sid/+", "-C", 1)
    assert s2.wait_subscribed() == [1]
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/sid/a", "-m", "one")
    pub(broker, "-V", "mqttv311", "-q", 1, "-t", "mc5/sid/b/c", "-m", "two")
    assert s.finish() == 0
    assert [(m["topic"], m["subid"]) for m in s.messages()] == [("mc5/sid/a", "7"),
                                                              ("mc5/sid/b/c", "7")]
    assert s2.finish() == 0
    assert [(m["topic"], m["subid"]) for m in s2.messages()] == [("mc5/sid/a", "")]


def test_topic_alias_from_mosquitto_pub(broker, sub):
    """mosquitto_pub -l with a topic alias sends the topic with the first line and only
    the alias after it; subscribers see the full topic every time."""
    s5 = sub("-V", "5", "-q", 1, "-t", "mc5/ta/#", "-C", 3)
    s4 = sub("-V", "mqttv311", "-q", 1, "-t", "mc5/ta/#", "-C", 3)
    assert s5.wait_subscribed() == [1]
    assert s4.wait_subscribed() == [1]
    out = pub(broker, "-V", "5", "-d", "-q", 1, "-t", "mc5/ta/t", "-l",
              "-D", "publish", "topic-alias", 3, input=b"l1\nl2\nl3\n")
    # What mosquitto_pub sent: the topic once, then no topic.
    sent = re.findall(r"sending PUBLISH \(d0, q1, r0, m\d+, '([^']*)'", out)
    assert sent == ["mc5/ta/t", "(null)", "(null)"], out
    assert "RC:0)" in out and "RC:1" not in out
    for s in (s5, s4):
        assert s.finish() == 0
        assert [(m["topic"], m["payload"]) for m in s.messages()] == [
            ("mc5/ta/t", b"l1"), ("mc5/ta/t", b"l2"), ("mc5/ta/t", b"l3")]


def test_session_expiry_and_message_expiry(broker, sub):
    s = sub("-V", "5", "-c", "-i", "mc5-sess", "-x", 60, "-q", 1, "-t", "mc5/sess/#", "-E")
    assert s.finish() == 0
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/sess/short", "-m", "expires",
        "-D", "publish", "message-expiry-interval", 1)
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/sess/long", "-m", "kept",
        "-D", "publish", "message-expiry-interval", 100)
    pub(broker, "-V", "mqttv311", "-q", 1, "-t", "mc5/sess/v311", "-m", "from 3.1.1")
    time.sleep(2.2)
    s = sub("-V", "5", "-c", "-i", "mc5-sess", "-x", 60, "-q", 1, "-t", "mc5/sess/#", "-C", 2)
    assert s.finish() == 0
    got = s.messages()
    assert [(m["topic"], m["payload"]) for m in got] == [("mc5/sess/long", b"kept"),
                                                        ("mc5/sess/v311", b"from 3.1.1")]
    assert 96 <= int(got[0]["expiry"]) <= 98, got[0]
    assert got[1]["expiry"] == ""


def test_session_expiry_elapses(broker, sub):
    s = sub("-V", "5", "-c", "-i", "mc5-sexp", "-x", 1, "-q", 1, "-t", "mc5/sexp/#", "-E")
    assert s.finish() == 0
    time.sleep(2.2)
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/sexp/t", "-m", "nobody home")
    s = sub("-V", "5", "-c", "-i", "mc5-sexp", "-x", 1, "-q", 1, "-t", "mc5/sexp/none", "-W", 1)
    assert s.finish() == 27   # timed out: nothing was queued
    assert s.messages() == []


def test_will_with_properties(broker, sub):
    watcher = sub("-V", "5", "-q", 1, "-t", "mc5/will/#", "-C", 1)
    assert watcher.wait_subscribed() == [1]
    dying = sub("-V", "5", "-i", "mc5-dying", "-t", "mc5/nothing", "--will-topic", "mc5/will/d",
                "--will-payload", "gone", "--will-qos", 1,
                "-D", "will", "user-property", "why", "test",
                "-D", "will", "content-type", "text/plain")
    assert dying.wait_subscribed() == [0]
    dying.kill()
    assert watcher.finish() == 0
    assert watcher.messages() == [dict(NO_PROPS, topic="mc5/will/d", qos=1, retain=0,
                                       payload=b"gone", user="why:test", ctype="text/plain")]


def test_will_delay(broker, sub):
    watcher = sub("-V", "5", "-q", 1, "-t", "mc5/wd/#", "-C", 1)
    assert watcher.wait_subscribed() == [1]
    dying = sub("-V", "5", "-i", "mc5-wd", "-x", 60, "-t", "mc5/nothing",
                "--will-topic", "mc5/wd/d", "--will-payload", "late",
                "-D", "will", "will-delay-interval", 1)
    assert dying.wait_subscribed() == [0]
    t0 = time.monotonic()
    dying.kill()
    assert watcher.finish() == 0, watcher.output()
    elapsed = time.monotonic() - t0
    assert [(m["topic"], m["payload"]) for m in watcher.messages()] == [("mc5/wd/d", b"late")]
    assert 0.8 <= elapsed <= 1.0 + 3 * SLOW, elapsed


def test_receive_maximum_one(broker, sub):
    s = sub("-V", "5", "-q", 1, "-t", "mc5/rm", "-D", "connect", "receive-maximum", 1, "-C", 20)
    assert s.wait_subscribed() == [1]
    pub(broker, "-V", "5", "-q", 1, "-t", "mc5/rm", "-l",
        input="".join(f"{i}\n" for i in range(20)).encode())
    assert s.finish() == 0
    assert [int(m["payload"]) for m in s.messages()] == list(range(20))


def test_client_maximum_packet_size(broker, sub):
    s = sub("-V", "5", "-q", 1, "-t", "mc5/mps", "-D", "connect", "maximum-packet-size", 200,
            "-C", 2)
    assert s.wait_subscribed() == [1]
    for p in ("small one", "L" * 500, "small two"):
        pub(broker, "-V", "5", "-q", 1, "-t", "mc5/mps", "-m", p)
    assert s.finish() == 0
    assert [m["payload"] for m in s.messages()] == [b"small one", b"small two"]


def test_max_qos_granted(broker_factory, sub):
    b = broker_factory(config="max_qos 1\n", threads=2)
    s = sub("-V", "5", "-q", 2, "-t", "mc5/mq", "-C", 1, broker=b)
    assert s.wait_subscribed() == [1]
    pub(b, "-V", "5", "-q", 1, "-t", "mc5/mq", "-m", "q1")
    assert s.finish() == 0
    assert [(m["payload"], m["qos"]) for m in s.messages()] == [(b"q1", 1)]
    # mosquitto_pub at QoS 2 is disconnected (0x9B).
    out = pub(b, "-V", "5", "-d", "-q", 2, "-t", "mc5/mq", "-m", "q2", check=False)
    assert "received PUBREC" not in out, out
