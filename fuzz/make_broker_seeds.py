#!/usr/bin/env python3
"""make_broker_seeds.py - seed inputs for fuzz_broker (fuzz/corpus/fuzz_broker/).

An input is up to four byte streams separated by FF FE FD FC, one per
connection. The packets are built with a small encoder that shares nothing
with src/proto. Run: python3 fuzz/make_broker_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_broker")
MARK = b"\xff\xfe\xfd\xfc"


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">H", len(x)) + x


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def connect(cid, clean=True, ka=60, will=None, level=4):
    flags = 0x02 if clean else 0
    payload = s(cid)
    if will:
        topic, msg, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += s(topic) + s(msg)
    name = "MQIsdp" if level == 3 else "MQTT"
    return pkt(0x10, s(name) + bytes([level, flags]) + struct.pack(">H", ka) + payload)


def publish(topic, msg, qos=0, pid=1, retain=False, dup=False):
    first = 0x30 | (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    body = s(topic) + (struct.pack(">H", pid) if qos else b"") + msg
    return pkt(first, body)


def subscribe(pid, *filters):
    return pkt(0x82, struct.pack(">H", pid) + b"".join(s(f) + bytes([q]) for f, q in filters))


def unsubscribe(pid, *filters):
    return pkt(0xA2, struct.pack(">H", pid) + b"".join(s(f) for f in filters))


def ack(kind, pid):
    first = {"puback": 0x40, "pubrec": 0x50, "pubrel": 0x62, "pubcomp": 0x70}[kind]
    return pkt(first, struct.pack(">H", pid))


PING = b"\xc0\x00"
DISC = b"\xe0\x00"

SEEDS = {
    "pubsub_qos012": connect("sub", clean=False) + subscribe(1, ("a/#", 2), ("+/b", 1))
    + MARK + connect("pub") + publish("a/b", b"x", 0) + publish("a/b", b"y", 1, 7)
    + publish("a/c", b"z", 2, 8) + ack("pubrel", 8) + PING + DISC,
    "retained": connect("r1") + publish("r/1", b"keep", 1, 1, retain=True)
    + publish("r/2", b"", 0, retain=True) + MARK + connect("r2") + subscribe(2, ("r/#", 1)),
    "will_takeover": connect("w", will=("will/t", b"bye", 1, True)) + MARK
    + connect("w2") + subscribe(3, ("will/#", 2)) + MARK + connect("w"),
    "subscriber_acks": connect("s", clean=False) + subscribe(1, ("q/#", 2)) + MARK
    + connect("p") + b"".join(publish("q/x", bytes([i]), 1 + i % 2, 10 + i) for i in range(8))
    + MARK + ack("puback", 1) + ack("pubrec", 2) + ack("pubcomp", 2) + unsubscribe(4, "q/#"),
    "qos2_duplicate": connect("d") + publish("t", b"1", 2, 5) + publish("t", b"1", 2, 5, dup=True)
    + ack("pubrel", 5) + ack("pubrel", 6),
    "mqtt31": connect("old", level=3) + subscribe(1, ("$SYS/#", 0)) + publish("$x/y", b"d", 0),
    "empty_id": connect("") + subscribe(9, ("#", 0)) + publish("z", b"p", 0),
    "malformed_after_connect": connect("m") + b"\x30\xff\xff\xff\xff\x01",
    "second_connect": connect("c2") + connect("c2"),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(SEEDS)} seeds to {OUT}")
