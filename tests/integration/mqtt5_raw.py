"""An independent MQTT 5.0 encoder and decoder for the raw-byte 5.0 tests.

Written from the OASIS MQTT Version 5.0 specification (and docs/mqtt5.md for what
Starling promises); it shares nothing with the broker's C code, and its property
codec is its own (mqtt_raw.py only lends the framing helpers: varint, strings,
read_packet, the 3.1.1 Client plumbing).

Layout:
  * property codec: encode_props() / decode_props() over the table PROPS
    (identifier -> name, data type, packets that may carry it) [5.0 §2.2.2.2]
  * encoders: connect5(), publish5(), ack5() (PUBACK/PUBREC/PUBREL/PUBCOMP),
    subscribe5() + sub_opts(), unsubscribe5(), disconnect5(), auth5()
  * decoders for what the server sends: decode_connack(), decode_publish5(),
    decode_ack(), decode_suback() / decode_unsuback(), decode_disconnect(),
    decode_auth(). They assert the server's encoding is valid (only properties the
    packet may carry, no duplicates of single-valued ones, known reason codes).
  * Client5: a blocking 5.0 client over one socket (stash, optional auto-ack,
    server topic aliases resolved in wire order, Receive Maximum / Maximum Packet
    Size / Topic Alias Maximum that the client announced are enforced on what the
    server sends), expect_disconnect(), raw() for malformed bytes.
"""
import struct
import time
from dataclasses import dataclass

import mqtt_raw as mq
from mqtt_raw import (SLOW, MQTTClosed, MQTTTimeout, decode_varint, mqtt_bin,
                      mqtt_str, packet, read_packet, to_bytes, u16, varint)

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC = 1, 2, 3, 4, 5
PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE = 6, 7, 8, 9, 10
UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 11, 12, 13, 14, 15

NAMES = dict(mq.NAMES)
NAMES[AUTH] = "AUTH"

# ---------------------------------------------------------------- properties

# Property identifiers [5.0 §2.2.2.2, Table 2-4].
PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTHENTICATION_METHOD = 0x15
AUTHENTICATION_DATA = 0x16
REQUEST_PROBLEM_INFORMATION = 0x17
WILL_DELAY_INTERVAL = 0x18
REQUEST_RESPONSE_INFORMATION = 0x19
RESPONSE_INFORMATION = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
SHARED_SUBSCRIPTION_AVAILABLE = 0x2A

# Data types [5.0 §1.5].
BYTE, U16, U32, VARINT, UTF8, BINARY, PAIR = "byte", "u16", "u32", "varint", "utf8", "bin", "pair"

# Contexts: packet names, plus WILL for the Will Properties of CONNECT.
_ACKS = ("PUBACK", "PUBREC", "PUBREL", "PUBCOMP")
_ALL = ("CONNECT", "CONNACK", "PUBLISH", "WILL", *_ACKS, "SUBSCRIBE", "SUBACK",
        "UNSUBSCRIBE", "UNSUBACK", "DISCONNECT", "AUTH")
_MSG = ("PUBLISH", "WILL")

# id -> (name, type, contexts that may carry it)
PROPS = {
    0x01: ("Payload Format Indicator", BYTE, _MSG),
    0x02: ("Message Expiry Interval", U32, _MSG),
    0x03: ("Content Type", UTF8, _MSG),
    0x08: ("Response Topic", UTF8, _MSG),
    0x09: ("Correlation Data", BINARY, _MSG),
    0x0B: ("Subscription Identifier", VARINT, ("PUBLISH", "SUBSCRIBE")),
    0x11: ("Session Expiry Interval", U32, ("CONNECT", "CONNACK", "DISCONNECT")),
    0x12: ("Assigned Client Identifier", UTF8, ("CONNACK",)),
    0x13: ("Server Keep Alive", U16, ("CONNACK",)),
    0x15: ("Authentication Method", UTF8, ("CONNECT", "CONNACK", "AUTH")),
    0x16: ("Authentication Data", BINARY, ("CONNECT", "CONNACK", "AUTH")),
    0x17: ("Request Problem Information", BYTE, ("CONNECT",)),
    0x18: ("Will Delay Interval", U32, ("WILL",)),
    0x19: ("Request Response Information", BYTE, ("CONNECT",)),
    0x1A: ("Response Information", UTF8, ("CONNACK",)),
    0x1C: ("Server Reference", UTF8, ("CONNACK", "DISCONNECT")),
    0x1F: ("Reason String", UTF8, ("CONNACK", *_ACKS, "SUBACK", "UNSUBACK", "DISCONNECT",
                                   "AUTH")),
    0x21: ("Receive Maximum", U16, ("CONNECT", "CONNACK")),
    0x22: ("Topic Alias Maximum", U16, ("CONNECT", "CONNACK")),
    0x23: ("Topic Alias", U16, ("PUBLISH",)),
    0x24: ("Maximum QoS", BYTE, ("CONNACK",)),
    0x25: ("Retain Available", BYTE, ("CONNACK",)),
    0x26: ("User Property", PAIR, _ALL),
    0x27: ("Maximum Packet Size", U32, ("CONNECT", "CONNACK")),
    0x28: ("Wildcard Subscription Available", BYTE, ("CONNACK",)),
    0x29: ("Subscription Identifier Available", BYTE, ("CONNACK",)),
    0x2A: ("Shared Subscription Available", BYTE, ("CONNACK",)),
}
# Properties that may appear more than once: User Property everywhere
# [5.0 §3.1.2.11.8 and alike]; Subscription Identifier in a PUBLISH from the
# server (one per matching subscription) [5.0 §3.3.2.3.8].
REPEATABLE = {USER_PROPERTY, SUBSCRIPTION_IDENTIFIER}


def prop_value(ptype, value):
    """The wire encoding of one property value of data type ptype."""
    if ptype == BYTE:
        return bytes([value])
    if ptype == U16:
        return struct.pack(">H", value)
    if ptype == U32:
        return struct.pack(">I", value)
    if ptype == VARINT:
        return varint(value)
    if ptype in (UTF8, BINARY):
        return mqtt_str(value)  # bytes pass through unchanged (ill-formed UTF-8 tests)
    if ptype == PAIR:
        k, v = value
        return mqtt_str(k) + mqtt_str(v)
    raise ValueError(ptype)


def _entries(props):
    """props (dict or list of (id, value)) -> list of (id, value), expanding the
    list values of repeatable properties of a dict."""
    if props is None:
        return []
    if isinstance(props, dict):
        out = []
        for pid, val in props.items():
            if pid in REPEATABLE and isinstance(val, list):
                out.extend((pid, v) for v in val)
            else:
                out.append((pid, val))
        return out
    return list(props)


def encode_props(props=None):
    """Property Length (Variable Byte Integer) + properties [5.0 §2.2.2].

    props: None (no properties: length 0 [MQTT-2.2.2-1]), a dict {id: value} (a
    User Property value is a list of (name, value) pairs sent in list order, a
    Subscription Identifier value may be a list), or a list of (id, value) sent as
    given (duplicates included: malformed cases). bytes are passed through as an
    already encoded property block (without the length)."""
    if isinstance(props, (bytes, bytearray)):
        body = bytes(props)
    else:
        body = b""
        for pid, val in _entries(props):
            body += varint(pid) + prop_value(PROPS[pid][1], val)
    return varint(len(body)) + body


def _take(buf, pos, n, what):
    assert pos + n <= len(buf), f"{what} runs past the end of the property block"
    return buf[pos:pos + n], pos + n


def _take_str(buf, pos, what, utf8):
    raw, pos = _take(buf, pos, 2, what)
    n = (raw[0] << 8) | raw[1]
    data, pos = _take(buf, pos, n, what)
    if utf8:
        s = bytes(data).decode("utf-8")  # strict: ill-formed UTF-8 fails [MQTT-1.5.4-1]
        assert "\x00" not in s, f"{what} contains U+0000 [MQTT-1.5.4-2]"
        return s, pos
    return bytes(data), pos


def decode_props(buf, pos=0, context=None, end=None):
    """Decodes Property Length + properties at buf[pos:]. Returns (props, next_pos).

    props is a dict {id: value}: User Property -> list of (name, value) in wire
    order, Subscription Identifier -> list of ints, others a single value. Asserts
    that the block is well formed, that the property length fits inside `end`
    (default: the end of buf), that single-valued properties do not repeat, and
    (with context, a packet name or "WILL") that each property may appear there."""
    if end is None:
        end = len(buf)
    length, p = decode_varint(buf, pos)
    stop = p + length
    assert stop <= end, f"property length {length} runs past the end of the packet"
    props = {}
    while p < stop:
        pid, p = decode_varint(buf, p)
        assert pid in PROPS, f"unknown property identifier {pid:#x}"
        name, ptype, where = PROPS[pid]
        if context is not None:
            assert context in where, f"{name} ({pid:#04x}) is not allowed in {context}"
        sub = buf[:stop]
        if ptype == BYTE:
            v, p = _take(sub, p, 1, name)
            val = v[0]
        elif ptype == U16:
            v, p = _take(sub, p, 2, name)
            val = struct.unpack(">H", v)[0]
        elif ptype == U32:
            v, p = _take(sub, p, 4, name)
            val = struct.unpack(">I", v)[0]
        elif ptype == VARINT:
            val, p = decode_varint(sub, p)
            assert varint(val) == bytes(sub[p - len(varint(val)):p]), \
                f"{name}: non-minimal Variable Byte Integer [MQTT-1.5.5-1]"
        elif ptype in (UTF8, BINARY):
            val, p = _take_str(sub, p, name, ptype == UTF8)
        else:
            k, p = _take_str(sub, p, name, True)
            v, p = _take_str(sub, p, name, True)
            val = (k, v)
        if pid in REPEATABLE:
            props.setdefault(pid, []).append(val)
        else:
            assert pid not in props, f"{name} ({pid:#04x}) appears twice"
            props[pid] = val
    assert p == stop, "property block length mismatch"
    return props, stop


# ---------------------------------------------------------------- reason codes

# Reason codes a server may send, per packet [5.0 §2.4 Table 2-6 and per-packet tables].
CONNACK_CODES = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
                 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F}
PUBACK_CODES = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99}
PUBREL_CODES = {0x00, 0x92}
SUBACK_CODES = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2}
UNSUBACK_CODES = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91}
DISCONNECT_CODES = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F,
                    0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D,
                    0x9E, 0x9F, 0xA0, 0xA1, 0xA2}
AUTH_CODES = {0x00, 0x18, 0x19}
_ACK_CODES = {PUBACK: PUBACK_CODES, PUBREC: PUBACK_CODES, PUBREL: PUBREL_CODES,
              PUBCOMP: PUBREL_CODES}


# ---------------------------------------------------------------- encoders

def connect5(client_id="", clean=True, keepalive=60, props=None, will=None, username=None,
             password=None, proto_level=5, flags=None):
    """CONNECT for 5.0 [5.0 §3.1]. props: CONNECT properties (see encode_props;
    bytes = a raw block). will: None or a dict with topic, payload, qos, retain,
    props (Will Properties). flags overrides the connect-flags byte."""
    f = 0x02 if clean else 0
    if will is not None:
        f |= 0x04 | ((will.get("qos", 0) & 3) << 3) | (0x20 if will.get("retain") else 0)
    if password is not None:
        f |= 0x40
    if username is not None:
        f |= 0x80
    if flags is not None:
        f = flags
    body = mqtt_str("MQTT") + bytes([proto_level, f]) + u16(keepalive)
    body += encode_props(props)
    body += mqtt_str(client_id)
    if will is not None:
        body += encode_props(will.get("props"))
        body += mqtt_str(will["topic"]) + mqtt_bin(will.get("payload", b""))
    if username is not None:
        body += mqtt_str(username)
    if password is not None:
        body += mqtt_bin(password)
    return packet(CONNECT, 0, body)


def publish5(topic, payload=b"", qos=0, retain=False, dup=False, pid=None, props=None):
    """PUBLISH [5.0 §3.3]: topic, packet id (QoS > 0), properties, payload."""
    flags = (0x08 if dup else 0) | ((qos & 3) << 1) | (0x01 if retain else 0)
    body = mqtt_str(topic)
    if qos > 0 or pid is not None:
        body += u16(pid if pid is not None else 1)
    body += encode_props(props)
    body += to_bytes(payload)
    return packet(PUBLISH, flags, body)


def ack5(ptype, pid, reason=None, props=None):
    """PUBACK/PUBREC/PUBREL/PUBCOMP [5.0 §3.4-3.7]. reason None and no props: the
    short form (remaining length 2); props None: remaining length 3."""
    body = u16(pid)
    if reason is not None or props is not None:
        body += bytes([reason or 0])
        if props is not None:
            body += encode_props(props)
    return packet(ptype, 0x02 if ptype == PUBREL else 0, body)


def puback5(pid, reason=None, props=None):
    return ack5(PUBACK, pid, reason, props)


def pubrec5(pid, reason=None, props=None):
    return ack5(PUBREC, pid, reason, props)


def pubrel5(pid, reason=None, props=None):
    return ack5(PUBREL, pid, reason, props)


def pubcomp5(pid, reason=None, props=None):
    return ack5(PUBCOMP, pid, reason, props)


def sub_opts(qos=0, no_local=False, rap=False, rh=0):
    """Subscription Options byte [5.0 §3.8.3.1]: bits 0-1 Maximum QoS, bit 2 No
    Local, bit 3 Retain As Published, bits 4-5 Retain Handling, 6-7 reserved."""
    return (qos & 3) | (0x04 if no_local else 0) | (0x08 if rap else 0) | ((rh & 3) << 4)


def subscribe5(pid, filters, props=None, sub_id=None, flags=0x02):
    """SUBSCRIBE [5.0 §3.8]: filters is [(filter, options_byte)]; sub_id adds a
    Subscription Identifier property."""
    if sub_id is not None:
        props = list(_entries(props)) + [(SUBSCRIPTION_IDENTIFIER, sub_id)]
    body = u16(pid) + encode_props(props)
    for flt, opts in filters:
        body += mqtt_str(flt) + bytes([opts])
    return packet(SUBSCRIBE, flags, body)


def unsubscribe5(pid, filters, props=None, flags=0x02):
    body = u16(pid) + encode_props(props)
    for flt in filters:
        body += mqtt_str(flt)
    return packet(UNSUBSCRIBE, flags, body)


def _reason_packet(ptype, reason, props):
    """A reason code then properties, both optional from the end: reason None
    and no props give remaining length 0 (which means Success)."""
    body = b""
    if reason is not None or props is not None:
        body = bytes([reason or 0])
        if props is not None:
            body += encode_props(props)
    return packet(ptype, 0, body)


def disconnect5(reason=None, props=None):
    """DISCONNECT [5.0 §3.14]."""
    return _reason_packet(DISCONNECT, reason, props)


def auth5(reason=None, props=None):
    """AUTH [5.0 §3.15]."""
    return _reason_packet(AUTH, reason, props)


# ---------------------------------------------------------------- decoders

def decode_connack(p):
    """CONNACK [5.0 §3.2] -> (session_present, reason, props)."""
    assert p.type == CONNACK, f"expected CONNACK, got {p!r}"
    assert p.flags == 0, f"CONNACK flags {p.flags:#x}"
    b = p.body
    assert len(b) >= 3, f"5.0 CONNACK without a property length: {p!r}"
    assert b[0] & 0xFE == 0, f"CONNACK reserved flag bits set [MQTT-3.2.2-1]: {p!r}"
    sp, reason = bool(b[0] & 1), b[1]
    assert reason in CONNACK_CODES, f"CONNACK reason {reason:#x} is not a CONNACK code [MQTT-3.2.2-8]"
    if reason != 0:
        assert not sp, f"Session Present 1 with reason {reason:#x} [MQTT-3.2.2-6]"
    props, pos = decode_props(b, 2, "CONNACK")
    assert pos == len(b), f"bytes after the CONNACK properties: {p!r}"
    return sp, reason, props


@dataclass
class Publish5:
    qos: int
    dup: bool
    retain: bool
    topic: str          # the topic name, resolved through the topic alias when empty
    pid: int            # None for QoS 0
    props: dict
    payload: bytes
    raw: bytes
    wire_topic: str = ""  # the topic as sent (empty when only the alias was sent)
    alias: int = None     # Topic Alias the server used, if any

    @property
    def user_props(self):
        return self.props.get(USER_PROPERTY, [])

    @property
    def sub_ids(self):
        return sorted(self.props.get(SUBSCRIPTION_IDENTIFIER, []))


def decode_publish5(p):
    """A received PUBLISH [5.0 §3.3] -> Publish5 (topic not yet resolved through an
    alias; Client5 does that in wire order)."""
    assert p.type == PUBLISH, f"expected PUBLISH, got {p!r}"
    qos = (p.flags >> 1) & 3
    assert qos != 3, f"server sent QoS 3 [MQTT-3.3.1-4]: {p!r}"
    if qos == 0:
        assert not p.flags & 0x08, f"DUP set on QoS 0 [MQTT-3.3.1-2]: {p!r}"
    b = p.body
    assert len(b) >= 2, f"PUBLISH too short: {p!r}"
    tlen = (b[0] << 8) | b[1]
    assert 2 + tlen <= len(b), f"PUBLISH topic runs past the end: {p!r}"
    topic = bytes(b[2:2 + tlen]).decode("utf-8")
    assert "+" not in topic and "#" not in topic, "wildcard in topic name [MQTT-3.3.2-2]"
    pos = 2 + tlen
    pid = None
    if qos:
        assert pos + 2 <= len(b), f"PUBLISH without packet id: {p!r}"
        pid = (b[pos] << 8) | b[pos + 1]
        assert pid != 0, "packet id 0 [MQTT-2.2.1-4]"
        pos += 2
    props, pos = decode_props(b, pos, "PUBLISH")
    if SUBSCRIPTION_IDENTIFIER in props:
        assert all(1 <= s <= 268435455 for s in props[SUBSCRIPTION_IDENTIFIER])
    alias = props.get(TOPIC_ALIAS)
    return Publish5(qos=qos, dup=bool(p.flags & 0x08), retain=bool(p.flags & 0x01),
                    topic=topic, pid=pid, props=props, payload=bytes(b[pos:]), raw=p.raw,
                    wire_topic=topic, alias=alias)


def decode_ack(p, ptype=None):
    """PUBACK/PUBREC/PUBREL/PUBCOMP -> (pid, reason, props). Remaining length 2 means
    reason 0x00 and no properties, 3 means no properties [5.0 §3.4.2.1]."""
    if ptype is not None:
        assert p.type == ptype, f"expected {NAMES[ptype]}, got {p!r}"
    assert p.type in _ACK_CODES, f"not an ack: {p!r}"
    assert p.flags == (0x02 if p.type == PUBREL else 0), \
        f"{p.name} flags {p.flags:#x} [MQTT-3.6.1-1]"
    b = p.body
    assert len(b) >= 2, f"{p.name} too short: {p!r}"
    pid = (b[0] << 8) | b[1]
    if len(b) == 2:
        return pid, 0x00, {}
    reason = b[2]
    assert reason in _ACK_CODES[p.type], f"{p.name} reason {reason:#x} not allowed for it"
    if len(b) == 3:
        return pid, reason, {}
    props, pos = decode_props(b, 3, p.name)
    assert pos == len(b), f"bytes after the {p.name} properties: {p!r}"
    return pid, reason, props


def _decode_subunsuback(p, ptype, codes):
    assert p.type == ptype, f"expected {NAMES[ptype]}, got {p!r}"
    assert p.flags == 0, f"{p.name} flags {p.flags:#x}"
    b = p.body
    assert len(b) >= 3, f"{p.name} too short: {p!r}"
    pid = (b[0] << 8) | b[1]
    props, pos = decode_props(b, 2, p.name)
    rcs = list(b[pos:])
    for rc in rcs:
        assert rc in codes, f"{p.name} reason {rc:#x} not allowed [MQTT-3.9.3-2]"
    return pid, props, rcs


def decode_suback(p):
    """SUBACK [5.0 §3.9] -> (pid, props, reason_codes)."""
    return _decode_subunsuback(p, SUBACK, SUBACK_CODES)


def decode_unsuback(p):
    """UNSUBACK [5.0 §3.11] -> (pid, props, reason_codes)."""
    return _decode_subunsuback(p, UNSUBACK, UNSUBACK_CODES)


def decode_disconnect(p):
    """A DISCONNECT from the server [5.0 §3.14] -> (reason, props); remaining
    length 0 means 0x00 [5.0 §3.14.2.1]."""
    assert p.type == DISCONNECT, f"expected DISCONNECT, got {p!r}"
    assert p.flags == 0, f"DISCONNECT flags {p.flags:#x}"
    b = p.body
    if not b:
        return 0x00, {}
    reason = b[0]
    assert reason in DISCONNECT_CODES and reason != 0x04, \
        f"DISCONNECT reason {reason:#x} not one a server may send"
    if len(b) == 1:
        return reason, {}
    props, pos = decode_props(b, 1, "DISCONNECT")
    assert pos == len(b), f"bytes after the DISCONNECT properties: {p!r}"
    assert SESSION_EXPIRY_INTERVAL not in props, \
        "server DISCONNECT with Session Expiry Interval [MQTT-3.14.2-2]"
    return reason, props


def decode_auth(p):
    """AUTH [5.0 §3.15] -> (reason, props); remaining length 0 means 0x00."""
    assert p.type == AUTH, f"expected AUTH, got {p!r}"
    assert p.flags == 0, f"AUTH flags {p.flags:#x} [MQTT-3.15.1-1]"
    b = p.body
    if not b:
        return 0x00, {}
    reason = b[0]
    assert reason in AUTH_CODES, f"AUTH reason {reason:#x} [MQTT-3.15.2-1]"
    if len(b) == 1:
        return reason, {}
    props, pos = decode_props(b, 1, "AUTH")
    assert pos == len(b), f"bytes after the AUTH properties: {p!r}"
    return reason, props


# ---------------------------------------------------------------- client

class Client5(mq.Client):
    """A blocking MQTT 5.0 client over one TCP socket (see mqtt_raw.Client for the
    stash / auto-ack plumbing it inherits).

    What the client announced in CONNECT is enforced on every packet the server
    sends: Maximum Packet Size [MQTT-3.1.2-24], Topic Alias Maximum (absent or 0:
    no alias at all) [MQTT-3.1.2-26] [MQTT-3.1.2-27] [MQTT-3.3.2-11], Receive
    Maximum for unacknowledged QoS 1/2 PUBLISHes [MQTT-3.3.4-9]. Server topic
    aliases are resolved in wire order (Publish5.topic is the resolved name)."""

    def __init__(self, broker, name="", auto_ack=True):
        super().__init__(broker, name=name, auto_ack=auto_ack)
        self.topic_alias_max = 0
        self.max_packet_size = None
        self.receive_max = 65535
        self.aliases = {}     # server -> client topic aliases
        self.unacked = set()  # QoS 1/2 packet ids from the server not yet acked
        self.max_unacked = 0  # the most seen at once
        self.connack_props = {}

    # -- plumbing
    def send(self, data):
        self._track_ack(data)
        self.sock.sendall(data)

    def raw(self, data):
        self._track_ack(data)
        super().raw(data)

    def _track_ack(self, data):
        if len(data) < 4:
            return
        t = data[0] >> 4
        if t not in (PUBACK, PUBREC, PUBCOMP):
            return
        _, pos = decode_varint(data, 1)
        pid = (data[pos] << 8) | data[pos + 1]
        rl = len(data) - pos
        reason = data[pos + 2] if rl > 2 else 0
        if t in (PUBACK, PUBCOMP) or reason >= 0x80:
            self.unacked.discard(pid)

    def _read(self, timeout):
        p = read_packet(self.sock, timeout)
        if self.max_packet_size is not None:
            assert len(p.raw) <= self.max_packet_size, \
                f"{self.name}: server sent {len(p.raw)} bytes > Maximum Packet Size " \
                f"{self.max_packet_size} [MQTT-3.1.2-24]: {p!r}"
        if p.type == PUBLISH:
            m = decode_publish5(p)
            if m.alias is not None:
                assert self.topic_alias_max > 0, \
                    f"{self.name}: Topic Alias without a Topic Alias Maximum [MQTT-3.1.2-27]"
                assert 1 <= m.alias <= self.topic_alias_max, \
                    f"{self.name}: Topic Alias {m.alias} outside 1..{self.topic_alias_max} " \
                    "[MQTT-3.3.2-8] [MQTT-3.3.2-11]"
                if m.topic:
                    self.aliases[m.alias] = m.topic
                else:
                    assert m.alias in self.aliases, f"{self.name}: unknown topic alias {m.alias}"
                    m.topic = self.aliases[m.alias]
            else:
                assert m.topic, f"{self.name}: empty topic without a Topic Alias: {p!r}"
            if m.qos:
                if m.pid not in self.unacked:
                    self.unacked.add(m.pid)
                self.max_unacked = max(self.max_unacked, len(self.unacked))
                assert len(self.unacked) <= self.receive_max, \
                    f"{self.name}: {len(self.unacked)} unacknowledged QoS>0 PUBLISHes > " \
                    f"Receive Maximum {self.receive_max} [MQTT-3.3.4-9]"
            p.msg = m
        if self.auto_ack and p.type == PUBREL:
            pid, reason, _ = decode_ack(p, PUBREL)
            self.send(pubcomp5(pid))
        return p

    # -- connecting
    def connect(self, client_id="", clean=True, keepalive=60, props=None, will=None,
                username=None, password=None, timeout=2.0, **kw):
        """Sends CONNECT and reads CONNACK: returns (session_present, reason, props)."""
        self._announce(props)
        self.send(connect5(client_id, clean=clean, keepalive=keepalive, props=props,
                           will=will, username=username, password=password, **kw))
        return self.read_connack(timeout)

    def _announce(self, props):
        if isinstance(props, (bytes, bytearray)) or props is None:
            return
        for pid, val in _entries(props):
            if pid == TOPIC_ALIAS_MAXIMUM:
                self.topic_alias_max = val
            elif pid == MAXIMUM_PACKET_SIZE:
                self.max_packet_size = val
            elif pid == RECEIVE_MAXIMUM:
                self.receive_max = val

    def read_connack(self, timeout=2.0):
        p = self._read(timeout)
        self.connack = p
        sp, reason, props = decode_connack(p)
        self.connack_props = props
        return sp, reason, props

    def connect_ok(self, client_id="", clean=True, keepalive=60, **kw):
        sp, reason, props = self.connect(client_id, clean=clean, keepalive=keepalive, **kw)
        assert reason == 0, f"{self.name}: CONNACK reason {reason:#x} {props}"
        return sp

    def connect_refused(self, reason, client_id="", **kw):
        """CONNECT that must be refused with CONNACK `reason` (>= 0x80), Session Present
        0 [MQTT-3.2.2-6], then the connection closed [MQTT-3.2.2-7]. Returns the
        CONNACK properties."""
        sp, rc, props = self.connect(client_id, **kw)
        assert rc == reason, f"{self.name}: CONNACK reason {rc:#x}, expected {reason:#x} {props}"
        assert not sp
        self.expect_closed(allowed=())
        return props

    # -- publishing
    def publish(self, topic, payload=b"", qos=0, retain=False, dup=False, pid=None,
                props=None, wait=True, timeout=2.0):
        """Publishes. For QoS 1 waits for PUBACK; for QoS 2 for PUBREC and, unless
        its reason is >= 0x80, sends PUBREL and waits for PUBCOMP. Returns the
        (pid, reason, props) of the PUBACK/PUBREC; for QoS 0 or wait=False the
        packet id (None for QoS 0)."""
        if qos and pid is None:
            pid = self.next_pid()
        self.send(publish5(topic, payload, qos=qos, retain=retain, dup=dup,
                           pid=pid if qos else None, props=props))
        if not wait or qos == 0:
            return pid if qos else None
        if qos == 1:
            ack = decode_ack(self.expect(PUBACK, timeout, pid=pid), PUBACK)
            return ack
        rec = decode_ack(self.expect(PUBREC, timeout, pid=pid), PUBREC)
        if rec[1] < 0x80:
            self.send(pubrel5(pid))
            comp = decode_ack(self.expect(PUBCOMP, timeout, pid=pid), PUBCOMP)
            assert comp[1] == 0, f"PUBCOMP reason {comp[1]:#x}"
        return rec

    def recv_publish(self, timeout=2.0, ack=None, complete=True, reason=None):
        """Waits for the next PUBLISH (Publish5, topic alias resolved) and, if ack
        (default auto_ack), acknowledges it: QoS 1 PUBACK, QoS 2 PUBREC (with
        `reason`) and, with complete and reason < 0x80, PUBREL -> PUBCOMP."""
        if ack is None:
            ack = self.auto_ack
        p = self.expect(PUBLISH, timeout)
        m = p.msg
        if ack and m.qos == 1:
            self.send(puback5(m.pid, reason))
        elif ack and m.qos == 2:
            self.send(pubrec5(m.pid, reason))
            if complete and (reason or 0) < 0x80:
                rel = self.expect(PUBREL, timeout, pid=m.pid)
                decode_ack(rel, PUBREL)
                if not self.auto_ack:
                    self.send(pubcomp5(m.pid))
        return m

    def ack(self, m, reason=None):
        """Acknowledges a PUBLISH received with ack=False (QoS 1: PUBACK, QoS 2: PUBREC)."""
        if m.qos == 1:
            self.send(puback5(m.pid, reason))
        elif m.qos == 2:
            self.send(pubrec5(m.pid, reason))

    # -- subscribing
    def subscribe(self, filters, pid=None, props=None, sub_id=None, timeout=2.0):
        """filters: [(filter, options_byte)] or one filter string (options 0).
        Returns the SUBACK reason codes; the SUBACK properties are in self.suback_props."""
        if isinstance(filters, str):
            filters = [(filters, 0)]
        if pid is None:
            pid = self.next_pid()
        self.send(subscribe5(pid, filters, props=props, sub_id=sub_id))
        spid, sprops, codes = decode_suback(self.expect(SUBACK, timeout, pid=pid))
        assert len(codes) == len(filters), f"SUBACK has {len(codes)} codes for {len(filters)} " \
                                           "filters [MQTT-3.8.4-6]"
        self.suback_props = sprops
        return codes

    def unsubscribe(self, filters, pid=None, props=None, timeout=2.0):
        if isinstance(filters, str):
            filters = [filters]
        if pid is None:
            pid = self.next_pid()
        self.send(unsubscribe5(pid, filters, props=props))
        upid, uprops, codes = decode_unsuback(self.expect(UNSUBACK, timeout, pid=pid))
        assert len(codes) == len(filters), "UNSUBACK code count [MQTT-3.11.3-1]"
        self.unsuback_props = uprops
        return codes

    # -- ending
    def disconnect(self, reason=None, props=None, wait_close=True):
        """Sends DISCONNECT (remaining length 0 by default); waits until the server
        closes the socket, then closes ours."""
        self.raw(disconnect5(reason, props))
        if wait_close:
            self.expect_closed(allowed=(PUBLISH, PUBREL, PUBACK, PUBREC, PUBCOMP))
        self.close()

    def _read_before_close(self, timeout):
        """expect_closed() (inherited) reads through _read: what the server sends
        before closing is checked like everything else."""
        return self._read(timeout)

    def expect_disconnect(self, reason=None, timeout=3.0,
                          allowed=(PUBLISH, PUBREL, PUBACK, PUBREC, PUBCOMP, PINGRESP)):
        """Reads until the server's DISCONNECT (other packet types in `allowed` are
        skipped, any other fails), asserts its reason (if given) and that the
        server then closes the connection without sending anything else
        [MQTT-3.14.4-1] [MQTT-3.14.4-2]. Returns (reason, props)."""
        while self.pending:
            p = self.pending.popleft()
            if p.type == DISCONNECT:
                break
            assert p.type in allowed, f"{self.name}: unexpected {p!r} before DISCONNECT"
        else:
            deadline = time.monotonic() + timeout * SLOW
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name}: no DISCONNECT within {timeout}s")
                try:
                    p = self._read(left / SLOW)
                except MQTTTimeout:
                    continue
                except MQTTClosed:
                    raise AssertionError(f"{self.name}: connection closed without a "
                                         f"DISCONNECT (expected reason {reason})") from None
                if p.type == DISCONNECT:
                    break
                assert p.type in allowed, f"{self.name}: unexpected {p!r} before DISCONNECT"
        rc, props = decode_disconnect(p)
        if reason is not None:
            assert rc == reason, f"{self.name}: DISCONNECT reason {rc:#x}, expected " \
                                 f"{reason:#x} {props}"
        self.expect_closed(timeout=timeout, allowed=())
        return rc, props

    def expect_disconnect_or_close(self, reason, timeout=3.0):
        """For cases where the spec lets the server either send DISCONNECT `reason`
        or just close: asserts one of the two and returns the reason or None."""
        try:
            return self.expect_disconnect(reason, timeout)[0]
        except AssertionError as e:
            if "closed without a DISCONNECT" in str(e):
                return None
            raise

    # -- AUTH
    def auth(self, reason, props=None):
        self.send(auth5(reason, props))

    def expect_auth(self, timeout=2.0):
        return decode_auth(self.expect(AUTH, timeout))


def connected5(broker, client_id="", name=None, auto_ack=True, **kw):
    """A Client5 with a successful 5.0 CONNECT (kw: Client5.connect() arguments)."""
    c = Client5(broker, name=name or client_id or "client5", auto_ack=auto_ack)
    c.connect_ok(client_id, **kw)
    return c
