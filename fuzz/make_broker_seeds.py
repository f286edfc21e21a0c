#!/usr/bin/env python3
"""make_broker_seeds.py - seed inputs for fuzz_broker (fuzz/corpus/fuzz_broker/).

An input is up to four byte streams separated by FF FE FD FC, one per
connection. The packets are built with a small encoder (on seedlib.py) that
shares nothing with src/proto. Run: python3 fuzz/make_broker_seeds.py
"""
import base64
import hashlib
import hmac
import struct
import sys

from seedlib import pkt, s, u16, varint, write_corpus

MARK = b"\xff\xfe\xfd\xfc"


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

# ---------------------------------------------------------------- MQTT 5.0
# A second small encoder, for 5.0 (5.0 §2.2.2 properties, §3.x packets). Property
# blocks are lists of (id, encoded value); the typed helpers below build entries,
# and a raw list can carry duplicates or cut-short values on purpose.


def u8(n):
    return bytes([n])


def u32(n):
    return struct.pack(">I", n)


def P(pid, value):
    """One property entry: identifier and its already-encoded value."""
    return (pid, value)


PFI, EXPIRY, CTYPE, RTOPIC, CDATA, SUBID = 0x01, 0x02, 0x03, 0x08, 0x09, 0x0B
SESS, AMETHOD, ADATA, REQPROB, WDELAY, REQRESP = 0x11, 0x15, 0x16, 0x17, 0x18, 0x19
REASONSTR, RECVMAX, ALIASMAX, ALIAS, USER, MAXPKT = 0x1F, 0x21, 0x22, 0x23, 0x26, 0x27


def user(k, v):
    return P(USER, s(k) + s(v))


def props(entries=(), raw_len=None):
    """Property Length + entries; raw_len overrides the length (malformed)."""
    body = b"".join(bytes([pid]) + val for pid, val in entries)
    return varint(len(body) if raw_len is None else raw_len) + body


def connect5(cid, clean=True, ka=60, cprops=(), will=None, username=None, password=None):
    """will: (topic, msg, qos, retain, will properties)."""
    flags = 0x02 if clean else 0
    payload = s(cid)
    if will:
        topic, msg, qos, retain, wprops = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += props(wprops) + s(topic) + s(msg)
    if username is not None:
        flags |= 0x80
        payload += s(username)
    if password is not None:
        flags |= 0x40
        payload += s(password)
    return pkt(0x10, s("MQTT") + bytes([5, flags]) + u16(ka) + props(cprops) + payload)


def publish5(topic, msg, qos=0, pid=1, retain=False, dup=False, pprops=()):
    first = 0x30 | (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    body = s(topic) + (u16(pid) if qos else b"") + props(pprops) + msg
    return pkt(first, body)


def sub_opts(qos, nl=False, rap=False, rh=0):
    return qos | (4 if nl else 0) | (8 if rap else 0) | (rh << 4)


def subscribe5(pid, filters, sprops=()):
    """filters: (filter, options byte)."""
    return pkt(0x82, u16(pid) + props(sprops) + b"".join(s(f) + bytes([o]) for f, o in filters))


def unsubscribe5(pid, filters, uprops=()):
    return pkt(0xA2, u16(pid) + props(uprops) + b"".join(s(f) for f in filters))


def ack5(kind, pid, rc=None, aprops=None):
    """rc None: the 2-byte short form; aprops None: no property block."""
    first = {"puback": 0x40, "pubrec": 0x50, "pubrel": 0x62, "pubcomp": 0x70}[kind]
    body = u16(pid)
    if rc is not None:
        body += u8(rc)
        if aprops is not None:
            body += props(aprops)
    return pkt(first, body)


def disconnect5(rc=None, dprops=None):
    body = b""
    if rc is not None:
        body += u8(rc)
        if dprops is not None:
            body += props(dprops)
    return pkt(0xE0, body)


def auth5(rc=None, aprops=None):
    body = b""
    if rc is not None:
        body += u8(rc)
        if aprops is not None:
            body += props(aprops)
    return pkt(0xF0, body)


# SCRAM-SHA-256 (RFC 5802/7677): fuzz_broker.c loads one credential for user
# "fuzz", password "pencil", this salt, and fixes the server nonce, so a seed can
# carry a whole exchange.
SCRAM_USER, SCRAM_PASS, SCRAM_SALT, SCRAM_ITER = "fuzz", b"pencil", b"starling-fuzz-salt", 4096
SCRAM_SNONCE = "fuzzservernonce"
SCRAM = "SCRAM-SHA-256"


def _hmac(k, m):
    return hmac.new(k, m, hashlib.sha256).digest()


def scram_keys():
    salted = hashlib.pbkdf2_hmac("sha256", SCRAM_PASS, SCRAM_SALT, SCRAM_ITER)
    ckey = _hmac(salted, b"Client Key")
    return ckey, hashlib.sha256(ckey).digest(), _hmac(salted, b"Server Key")


def scram_cred_line():
    _, stored, server = scram_keys()
    b = lambda x: base64.b64encode(x).decode()
    return f"{SCRAM_USER}:{SCRAM_ITER}:{b(SCRAM_SALT)}:{b(stored)}:{b(server)}"


def scram_exchange(cnonce, user=SCRAM_USER):
    """(client-first, client-final) for the fixed server nonce."""
    ckey, stored, _ = scram_keys()
    bare = f"n={user},r={cnonce}"
    first = "n,," + bare
    nonce = cnonce + SCRAM_SNONCE
    sfirst = f"r={nonce},s={base64.b64encode(SCRAM_SALT).decode()},i={SCRAM_ITER}"
    without = f"c=biws,r={nonce}"
    sig = _hmac(stored, f"{bare},{sfirst},{without}".encode())
    proof = bytes(a ^ b for a, b in zip(ckey, sig))
    return first.encode(), f"{without},p={base64.b64encode(proof).decode()}".encode()


def am(data=None):
    out = [P(AMETHOD, s(SCRAM))]
    if data is not None:
        out.append(P(ADATA, s(data)))
    return out


CF1, CFIN1 = scram_exchange("clientnonce1")
CF2, CFIN2 = scram_exchange("clientnonce2")

MSG_PROPS = [P(PFI, u8(1)), P(CTYPE, s("text/plain")), P(RTOPIC, s("resp/x")),
             P(CDATA, s(b"\x00corr\xff")), user("k1", "v1"), user("k1", "v2"),
             P(EXPIRY, u32(3600))]
FULL_CONNECT = [P(SESS, u32(300)), P(RECVMAX, u16(2)), P(ALIASMAX, u16(3)),
                P(MAXPKT, u32(200)), P(REQPROB, u8(1)), P(REQRESP, u8(1)),
                user("client", "fuzz"), user("a", "")]
WILL5 = ("will5/t", b"gone", 1, True,
         [P(WDELAY, u32(0)), P(EXPIRY, u32(60)), P(CTYPE, s("w")), user("w", "1")])
D5 = disconnect5()

SEEDS.update({
    # Full CONNECT properties and will; a 5.0 subscriber with small windows gets
    # every forwardable property, broker-assigned aliases, expiry, packet-size cuts.
    "v5_connect_props": connect5("v5sub", clean=False, cprops=FULL_CONNECT, will=WILL5)
    + subscribe5(1, [("m/#", sub_opts(2)), ("m/+/x", sub_opts(1))], [P(SUBID, varint(7))])
    + MARK + connect5("v5pub", cprops=[P(ALIASMAX, u16(3))])
    + publish5("m/a/x", b"hello", 1, 1, pprops=MSG_PROPS)
    + publish5("m/a/x", b"\xff\xfe not utf8", 1, 2, pprops=[P(PFI, u8(1))])
    + publish5("m/a/x", b"big" * 80, 2, 3, pprops=MSG_PROPS)
    + ack5("pubrel", 3) + publish5("m/b", b"q0", 0, pprops=[P(EXPIRY, u32(1))])
    + b"".join(publish5("m/c%d" % i, bytes([i]), 1, 10 + i) for i in range(5))
    + MARK + ack5("puback", 1, 0x00, []) + ack5("pubrec", 2, 0x80) + ack5("pubcomp", 2, 0x92, [])
    + ack5("puback", 3) + D5,
    # Topic aliases: set, use, reset to another topic, unknown, above the maximum.
    "v5_topic_alias": connect5("ta", cprops=[P(ALIASMAX, u16(3))])
    + subscribe5(1, [("al/#", sub_opts(1))])
    + publish5("al/one", b"1", 1, 1, pprops=[P(ALIAS, u16(1))])
    + publish5("", b"2", 1, 2, pprops=[P(ALIAS, u16(1))])
    + publish5("al/two", b"3", 0, pprops=[P(ALIAS, u16(1))])
    + publish5("", b"4", 0, pprops=[P(ALIAS, u16(1)), user("x", "y")])
    + publish5("al/3", b"5", 0, pprops=[P(ALIAS, u16(10))])
    + publish5("", b"6", 0, pprops=[P(ALIAS, u16(2))])
    + MARK + connect5("ta2") + publish5("", b"7", 0, pprops=[P(ALIAS, u16(11))])
    + MARK + connect5("ta3") + publish5("al/z", b"8", 0, pprops=[P(ALIAS, b"\x00\x00")]),
    # Subscription options: No Local, Retain As Published, Retain Handling 0/1/2,
    # identifiers, overlapping subscriptions, a retained message first.
    "v5_sub_options": connect5("ret") + publish5("so/r", b"kept", 1, 1, retain=True,
                                                 pprops=[P(EXPIRY, u32(100)), user("r", "1")])
    + publish5("so/e", b"gone", 0, retain=True, pprops=[P(EXPIRY, u32(0))])
    + MARK + connect5("so", cprops=[P(RECVMAX, u16(2)), P(ALIASMAX, u16(3))])
    + subscribe5(1, [("so/#", sub_opts(1, nl=True, rap=True, rh=0))], [P(SUBID, varint(1))])
    + subscribe5(2, [("so/r", sub_opts(2, rh=1)), ("so/+", sub_opts(0, rh=2))],
                 [P(SUBID, varint(268435455))])
    + subscribe5(3, [("so/r", sub_opts(2, rh=1))])
    + subscribe5(4, [("so/#", sub_opts(1, rh=3))])
    + subscribe5(5, [("so/#", 0xC1)])
    + subscribe5(6, [("so/x", sub_opts(1))], [P(SUBID, varint(0))])
    + publish5("so/r", b"own", 1, 9, retain=True)
    + MARK + connect("old311") + subscribe(1, ("so/#", 2)) + publish("so/r", b"from311", 1, 2)
    + unsubscribe(3, "so/#")
    + MARK + connect5("so") + unsubscribe5(7, ["so/#", "so/none", "so/#/bad"], [user("u", "v")])
    + subscribe5(8, [("so/#/bad", sub_opts(1)), ("", 1)]) + D5,
    # Shared subscriptions by two 5.0 clients on both workers, a 3.1.1 member, No
    # Local on a shared subscription.
    "v5_shared": connect5("sh1", clean=False, cprops=[P(SESS, u32(60)), P(RECVMAX, u16(2))])
    + subscribe5(1, [("$share/g/t/#", sub_opts(1)), ("$share/h/t/+", sub_opts(2))],
                 [P(SUBID, varint(3))])
    + MARK + connect5("sh2", cprops=[P(RECVMAX, u16(2))])
    + subscribe5(1, [("$share/g/t/#", sub_opts(2))])
    + MARK + connect("sh3") + subscribe(1, ("$share/g/t/#", 1), ("t/#", 0))
    + MARK + connect5("shp") + b"".join(publish5("t/%d" % i, bytes([i]), i % 3, 20 + i,
                                                 pprops=[user("i", str(i))]) for i in range(9))
    + unsubscribe5(2, ["$share/g/t/#", "$share/nogroup"])
    + subscribe5(3, [("$share/g/t/#", sub_opts(1, nl=True))]),
    # QoS 1/2 with reason codes and properties on every ack; PUBREL/PUBCOMP for
    # unknown ids; PUBREC 0x80 ends a delivery; Receive Maximum 2 exceeded.
    "v5_qos_flows": connect5("q5", clean=False, cprops=[P(RECVMAX, u16(2)), P(SESS, u32(10))])
    + subscribe5(1, [("qf/#", sub_opts(2))])
    + MARK + connect5("q5p")
    + publish5("qf/a", b"1", 2, 1, pprops=[P(RTOPIC, s("qf/reply")), P(CDATA, s(b"c"))])
    + publish5("qf/a", b"1", 2, 1, dup=True)
    + ack5("pubrel", 1, 0x00, [P(REASONSTR, s("ok"))]) + ack5("pubrel", 77, 0x92)
    + ack5("pubrel", 78) + ack5("pubcomp", 79, 0x00, [user("a", "b")])
    + publish5("qf/b", b"2", 1, 2) + publish5("qf/c", b"3", 2, 3) + publish5("qf/d", b"4", 1, 4)
    + publish5("qf/e", b"5", 2, 5) + publish5("qf/f", b"6", 1, 6)
    + MARK + connect5("q5", clean=False, cprops=[P(RECVMAX, u16(2))])
    + ack5("pubrec", 1, 0x80, [P(REASONSTR, s("no"))]) + ack5("pubrec", 2, 0x10)
    + ack5("pubrel", 2) + ack5("pubcomp", 2) + ack5("puback", 3, 0x83) + ack5("pubrec", 500)
    + ack5("puback", 501, 0x00, []) + disconnect5(0x00, [P(SESS, u32(0))]),
    # Wills: DISCONNECT 0x04 publishes it, a delayed will, session expiry changes
    # (0 -> non-zero is a protocol error), a will above QoS 2, a takeover.
    "v5_will_disconnect": connect5("wsub", cprops=[P(ALIASMAX, u16(2))])
    + subscribe5(1, [("wl/#", sub_opts(2, rap=True))])
    + MARK + connect5("w1", will=("wl/1", b"w", 2, True, [P(PFI, u8(1)), user("k", "v")]))
    + disconnect5(0x04)
    + MARK + connect5("w2", cprops=[P(SESS, u32(30))],
                      will=("wl/2", b"d", 1, False, [P(WDELAY, u32(5)), P(EXPIRY, u32(9))]))
    + disconnect5(0x00, [P(SESS, u32(0)), user("bye", "1"), P(REASONSTR, s("done"))])
    + connect5("w3", will=("wl/3", b"d", 1, False, [P(WDELAY, u32(1))]))
    + MARK + connect5("w3", cprops=[P(SESS, u32(0))]) + disconnect5(0x00, [P(SESS, u32(5))])
    + connect5("w4", will=("wl/4", b"x", 3, False, [])),
    # Enhanced authentication: a whole SCRAM exchange, re-authentication (good
    # and wrong user), other methods, AUTH without a method, AUTH on 3.1.1.
    "v5_auth_scram": connect5("au", cprops=am(CF1))
    + auth5(0x18, am(CFIN1)) + subscribe5(1, [("au/#", sub_opts(1))])
    + auth5(0x19, am(CF2)) + auth5(0x18, am(CFIN2))
    + auth5(0x19, am(b"n,,n=other,r=x")) + auth5(0x18, am(b"c=biws,r=x,p=AAAA"))
    + MARK + connect5("au2", cprops=am(CF1)) + auth5(0x18, am(b"c=biws,r=bad,p=AAAA"))
    + MARK + connect5("au3", cprops=[P(AMETHOD, s("PLAIN")), P(ADATA, s(b"x"))])
    + MARK + connect5("au4", cprops=am(b"n,,n=nobody,r=abc")) + auth5(0x00, am())
    + auth5(0x18, [P(AMETHOD, s("OTHER"))]),
    "v5_auth_misc": connect5("am1") + auth5() + MARK + connect5("am2", cprops=am(CF1))
    + publish5("x", b"early", 0) + MARK + connect("am3") + auth5(0x18, am(CF1))
    + MARK + connect5("am4", cprops=am(CF1)) + auth5(0x19, am(CF2)) + auth5(),
    # 3.1.1 and 5.0 on the same topics, retained and not, both directions.
    "v5_mixed_311": connect("m311", clean=False) + subscribe(1, ("mx/#", 2))
    + publish("mx/a", b"from311", 2, 3) + ack("pubrel", 3)
    + MARK + connect5("m5", cprops=[P(ALIASMAX, u16(3)), P(MAXPKT, u32(60))])
    + subscribe5(1, [("mx/#", sub_opts(2, rap=True)), ("mx/a", sub_opts(1))],
                 [P(SUBID, varint(42))])
    + publish5("mx/a", b"from5", 2, 1, retain=True, pprops=MSG_PROPS) + ack5("pubrel", 1)
    + publish5("mx/a", b"x" * 100, 1, 2) + MARK + connect("m311b", level=3)
    + subscribe(1, ("mx/+", 1)) + publish("mx/b", b"31", 1, 4) + DISC
    + MARK + connect5("m5", clean=False) + ack5("puback", 1) + ack5("pubrec", 2) + D5,
    # Malformed 5.0: duplicate properties, a property length past the end, unknown
    # property, wrong context, bad reason codes, Subscription Identifier from a client.
    "v5_malformed_props": connect5("mp", cprops=[P(SESS, u32(1)), P(SESS, u32(2))])
    + MARK + connect5("mp2") + publish5("mp/t", b"x", 0, pprops=[P(CTYPE, s("a")), P(CTYPE, s("b"))])
    + MARK + connect5("mp3") + pkt(0x30, s("mp/t") + props([P(CTYPE, s("abc"))], raw_len=40) + b"p")
    + MARK + connect5("mp4") + publish5("mp/t", b"x", 1, 1, pprops=[P(SUBID, varint(1))]),
    "v5_malformed_more": connect5("mq", cprops=[P(RECVMAX, u16(0))])
    + MARK + connect5("mq2", cprops=[P(0x7F, u8(1))]) + connect5("mq2b", cprops=[P(MAXPKT, u32(0))])
    + MARK + connect5("mq3") + subscribe5(1, [("a", 1)], [P(SUBID, varint(1)), P(SUBID, varint(2))])
    + ack5("puback", 1, 0x00, [P(CTYPE, s("no"))]) + disconnect5(0x8E)
    + MARK + connect5("mq4", cprops=[P(SESS, u32(5))]) + disconnect5(0x00, [P(SESS, u32(1)), P(SESS, u32(2))])
    + pkt(0x10, s("MQTT") + b"\x05\x02\x00\x3c" + b"\x05\x11\x00\x00"),
    # Packet size limits both ways, receive maximum exceeded, QoS/retain checks.
    "v5_limits": connect5("lim", cprops=[P(MAXPKT, u32(30)), P(RECVMAX, u16(1))])
    + subscribe5(1, [("lm/#", sub_opts(2))])
    + MARK + connect5("limp") + publish5("lm/small", b"s", 1, 1)
    + publish5("lm/large", b"L" * 60, 1, 2) + publish5("lm/q2", b"2", 2, 3)
    + publish5("lm/q2b", b"3", 2, 4) + publish5("lm/q2c", b"4", 2, 5) + publish5("lm/q2d", b"5", 2, 6)
    + MARK + connect5("limbig") + b"\x30" + varint(70000) + b"\x00\x01t",
    # The broker closes the connection while more than one slice (700 bytes) of
    # the stream is still to come: the harness must not die of SIGPIPE.
    "v5_closed_early": connect5("ce", cprops=[P(RECVMAX, u16(0))]) + PING * 800,
})

if len(sys.argv) > 1 and sys.argv[1] == "--scram-line":
    print(scram_cred_line())
    sys.exit(0)

write_corpus("fuzz_broker", SEEDS)
