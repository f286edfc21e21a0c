#!/usr/bin/env python3
"""make_seeds.py - writes the seed corpus for fuzz_decode into fuzz/corpus/fuzz_decode/.

Each seed is: one byte that picks the protocol level (0 -> 3.1, 1 -> 3.1.1,
2 -> 5.0, as 3 + byte % 3), then a stream of MQTT packets. The packets are built
here with a tiny encoder (on seedlib.py) that shares nothing with src/proto, so the seeds are an
independent statement of the wire format. Run from anywhere:

    python3 fuzz/make_seeds.py
"""

from seedlib import pkt, s, u16, varint, write_corpus

SELECT = {3: b"\x00", 4: b"\x01", 5: b"\x02"}


def props(v, raw=b""):
    return varint(len(raw)) + raw if v == 5 else b""


def connect(v, cid="c1", will=None, user=None, pw=None, clean=True, keepalive=60, p=b"", wp=b""):
    name = "MQIsdp" if v == 3 else "MQTT"
    flags = (0x02 if clean else 0)
    payload = s(cid)
    if will:
        topic, msg, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += props(v, wp) + s(topic) + s(msg)
    if user is not None:
        flags |= 0x80
        payload += s(user)
    if pw is not None:
        flags |= 0x40
        payload += s(pw)
    body = s(name) + bytes([v, flags]) + u16(keepalive) + props(v, p) + payload
    return pkt(0x10, body)


def publish(v, topic, payload, qos=0, pid=0, dup=False, retain=False, p=b""):
    b0 = 0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    body = s(topic) + (u16(pid) if qos else b"") + props(v, p) + payload
    return pkt(b0, body)


def ack(v, typ, pid, reason=None, p=None):
    b0 = (typ << 4) | (0x02 if typ == 6 else 0)
    body = u16(pid)
    if v == 5 and reason is not None:
        body += bytes([reason])
        if p is not None:
            body += varint(len(p)) + p
    return pkt(b0, body)


def subscribe(v, pid, filters, p=b""):
    body = u16(pid) + props(v, p) + b"".join(s(f) + bytes([o]) for f, o in filters)
    return pkt(0x82, body)


def unsubscribe(v, pid, filters, p=b""):
    return pkt(0xA2, u16(pid) + props(v, p) + b"".join(s(f) for f in filters))


def disconnect(v, reason=None, p=None):
    body = b""
    if v == 5 and reason is not None:
        body = bytes([reason]) + (varint(len(p)) + p if p is not None else b"")
    return pkt(0xE0, body)


def connack(v, sp, code, p=b""):
    return pkt(0x20, bytes([1 if sp else 0, code]) + props(v, p))


def suback(v, pid, codes, p=b""):
    return pkt(0x90, u16(pid) + props(v, p) + bytes(codes))


def unsuback(v, pid, codes=(0,), p=b""):
    return pkt(0xB0, u16(pid) + (props(v, p) + bytes(codes) if v == 5 else b""))


PINGREQ = b"\xc0\x00"
PINGRESP = b"\xd0\x00"


def seeds():
    out = {}
    for v in (3, 4, 5):
        sel = SELECT[v]
        sx = "v%d" % v
        p5 = b"\x11\x00\x00\x00\x3c" if v == 5 else b""  # session expiry 60
        out[sx + "_connect_min"] = sel + connect(v)
        out[sx + "_connect_full"] = sel + connect(
            v, "client-\u00e9", will=("will/t", b"bye", 1, True), user="user", pw=b"p\x00w",
            clean=False, p=p5, wp=b"\x01\x01" if v == 5 else b"")
        out[sx + "_publish"] = sel + connect(v) + b"".join([
            publish(v, "a/b", b"qos0"),
            publish(v, "a/b", b"qos1", qos=1, pid=1, retain=True),
            publish(v, "sport/tennis/player1", b"qos2", qos=2, pid=0xFFFF, dup=True,
                    p=b"\x01\x01" if v == 5 else b""),
            publish(v, "$SYS/broker/load", b""),
        ])
        out[sx + "_acks"] = sel + connect(v) + b"".join([
            ack(v, 4, 1), ack(v, 5, 2, reason=0x10), ack(v, 6, 2, reason=0, p=b""),
            ack(v, 7, 2, reason=0x92, p=b"\x1f\x00\x01x"),
        ])
        out[sx + "_subscribe"] = sel + connect(v) + b"".join([
            subscribe(v, 10, [("a/#", 1), ("+/tennis/+", 2), ("$SYS/#", 0)],
                      p=b"\x0b\x01" if v == 5 else b""),
            subscribe(v, 11, [("sport/tennis/player1", 0x2E if v == 5 else 2)]),
            publish(v, "sport/tennis/player1", b"m", qos=1, pid=3),
            unsubscribe(v, 12, ["a/#", "+/tennis/+"]),
            PINGREQ,
            disconnect(v, 0x04, b"") if v == 5 else disconnect(v),
        ])
        out[sx + "_client_side"] = sel + b"".join([
            connack(v, True, 0, p=b"\x21\x00\x0a" if v == 5 else b""),
            suback(v, 10, [0, 1, 0x80]),
            unsuback(v, 12, (0, 0x11)),
            PINGRESP,
        ])
    # 5.0 only: empty topic (alias), AUTH, reason-code-only DISCONNECT.
    out["v5_alias_auth"] = SELECT[5] + connect(5) + b"".join([
        publish(5, "a/b", b"first", p=b"\x23\x00\x01"),
        publish(5, "", b"by alias", p=b"\x23\x00\x01"),
        pkt(0xF0, b"\x18\x00"),
        disconnect(5, 0x8E),
    ])
    # Malformed input a broker must survive.
    out["bad_varint_nonminimal"] = SELECT[4] + b"\x30\x80\x00"
    out["bad_varint_5bytes"] = SELECT[4] + b"\x30\xff\xff\xff\xff\x7f"
    out["bad_truncated"] = SELECT[4] + connect(4)[:-3]
    out["bad_level6"] = SELECT[4] + pkt(0x10, s("MQTT") + b"\x06\x02\x00\x3c" + s("c"))
    out["bad_flags"] = SELECT[4] + connect(4) + pkt(0x80, u16(1) + s("a") + b"\x00") + \
        pkt(0x60, u16(1))
    out["bad_wildcard_publish"] = SELECT[4] + connect(4) + publish(4, "a/+", b"x")
    return out


if __name__ == "__main__":
    write_corpus("fuzz_decode", seeds())
