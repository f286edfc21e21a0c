#!/usr/bin/env python3
"""make_props_seeds.py - writes the seed corpus for fuzz_props into fuzz/corpus/fuzz_props/.

Each seed is: one byte that picks the context (packet type 1..15, or 16 for
CONNECT's Will Properties; the target takes it modulo 17), then an MQTT 5.0
property block without its length prefix. The blocks are built here with a
small encoder (on seedlib.py) that shares nothing with src/proto, so the seeds are an
independent statement of the wire format (5.0 §2.2.2, Table 2-4). Run from
anywhere:

    python3 fuzz/make_props_seeds.py
"""
import struct

from seedlib import s, varint, write_corpus


CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH, WILL = 8, 9, 10, 11, 14, 15, 16


# One constructor per data type (5.0 §1.5).
def byte(i, v):
    return bytes([i, v])


def u16(i, v):
    return bytes([i]) + struct.pack(">H", v)


def u32(i, v):
    return bytes([i]) + struct.pack(">I", v)


def vbi(i, v):
    return bytes([i]) + varint(v)


def utf8(i, text):
    return bytes([i]) + s(text)


def binary(i, data):
    return bytes([i]) + s(data)


def user(k, v):
    return bytes([0x26]) + s(k) + s(v)


def seed(ctx, *entries):
    return bytes([ctx]) + b"".join(entries)


def seeds():
    out = {}
    out["connect_full"] = seed(
        CONNECT, u32(0x11, 3600), utf8(0x15, "SCRAM-SHA-1"), binary(0x16, b"\x00\x01"),
        byte(0x17, 0), byte(0x19, 1), u16(0x21, 20), u16(0x22, 10), u32(0x27, 1 << 20),
        user("client", "x"), user("client", "y"))
    out["will_full"] = seed(
        WILL, byte(0x01, 1), u32(0x02, 60), utf8(0x03, "text/plain"), utf8(0x08, "reply/me"),
        binary(0x09, b"\xde\xad"), u32(0x18, 30), user("w", "1"))
    out["connack_full"] = seed(
        CONNACK, u32(0x11, 0xFFFFFFFF), utf8(0x12, "auto-1"), u16(0x13, 30), utf8(0x15, "m"),
        binary(0x16, b""), utf8(0x1A, "resp/"), utf8(0x1C, "other:1883"), utf8(0x1F, "ok"),
        u16(0x21, 65535), u16(0x22, 0), byte(0x24, 1), byte(0x25, 0), u32(0x27, 268435460),
        byte(0x28, 1), byte(0x29, 0), byte(0x2A, 1), user("srv", "starling"))
    out["publish_full"] = seed(
        PUBLISH, byte(0x01, 0), u32(0x02, 10), utf8(0x03, "application/json"),
        utf8(0x08, "a/b/c"), binary(0x09, b"corr"), u16(0x23, 7), user("a", "1"),
        vbi(0x0B, 1), user("b", "2"), vbi(0x0B, 268435455))
    out["publish_reordered"] = seed(
        PUBLISH, user("z", ""), u16(0x23, 1), vbi(0x0B, 128), byte(0x01, 1), user("", "v"))
    out["puback_reason"] = seed(PUBACK, utf8(0x1F, "no subscribers"), user("k", "v"))
    out["pubrel_user"] = seed(PUBREL, user("k", "v"), user("k", "v"))
    out["subscribe_subid"] = seed(SUBSCRIBE, vbi(0x0B, 16384), user("s", "1"))
    out["suback_reason"] = seed(SUBACK, utf8(0x1F, "\u00e9t\u00e9"), user("k", "\U0010FFFF"))
    out["unsubscribe_user"] = seed(UNSUBSCRIBE, user("u", "1"))
    out["disconnect_full"] = seed(
        DISCONNECT, u32(0x11, 0), utf8(0x1C, "elsewhere"), utf8(0x1F, "bye"), user("d", "1"))
    out["auth_full"] = seed(AUTH, utf8(0x15, "SCRAM-SHA-1"), binary(0x16, b"\x01\x02\x03"),
                            utf8(0x1F, "continue"))
    out["empty_pingreq"] = seed(12)
    # Protocol Errors (parsed, but a rule is broken).
    out["bad_duplicate"] = seed(CONNECT, u16(0x21, 1), u16(0x21, 2))
    out["bad_topic_alias_zero"] = seed(PUBLISH, u16(0x23, 0))
    out["bad_subid_zero"] = seed(SUBSCRIBE, vbi(0x0B, 0))
    out["bad_max_qos"] = seed(CONNACK, byte(0x24, 2))
    out["bad_auth_data_alone"] = seed(CONNECT, binary(0x16, b"x"))
    out["bad_response_topic"] = seed(WILL, utf8(0x08, "a/#"))
    # Malformed (cannot be parsed).
    out["bad_not_in_packet"] = seed(PUBLISH, u16(0x21, 5))
    out["bad_unknown_id"] = seed(CONNACK, bytes([0x2B, 0x00]))
    out["bad_truncated"] = seed(PUBLISH, utf8(0x03, "text")[:-1])
    out["bad_utf8"] = seed(DISCONNECT, bytes([0x1F]) + s(b"\xed\xa0\x80"))
    out["bad_varint"] = seed(PUBLISH, bytes([0x0B, 0x80, 0x00]))
    out["bad_then_malformed"] = seed(PUBLISH, u16(0x23, 0), bytes([0x26, 0x00, 0x05]))
    return out


if __name__ == "__main__":
    write_corpus("fuzz_props", seeds())
