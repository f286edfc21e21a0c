"""An independent MQTT 3.1 / 3.1.1 encoder and decoder for the raw-byte tests.

Written from the OASIS MQTT 3.1.1 specification (and the IBM MQTT 3.1 text for
"MQIsdp"/level 3). It shares nothing with the broker's C code on purpose: the tests
compare the broker against the spec, not against itself.

Layout:
  * encoders: varint(), mqtt_str(), packet(), connect(), publish(), puback() ...
  * read_packet(sock, timeout): frames one control packet from a socket
  * Client: a small blocking client over one socket, with a stash for packets that
    arrive while waiting for something else, auto-acks, and expect_closed().
"""
import os
import socket
import time
from collections import deque
from dataclasses import dataclass

SLOW = 3.0 if os.environ.get("SL_SANITIZE") else 1.0

# Control packet types (3.1.1 §2.2.1).
CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
PUBREC = 5
PUBREL = 6
PUBCOMP = 7
SUBSCRIBE = 8
SUBACK = 9
UNSUBSCRIBE = 10
UNSUBACK = 11
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14

NAMES = {0: "RESERVED0", 1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK",
         5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK",
         10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
         14: "DISCONNECT", 15: "RESERVED15"}

MAX_REMAINING = 268435455  # 0xFF 0xFF 0xFF 0x7F


class MQTTClosed(Exception):
    """The peer closed the connection (EOF or ECONNRESET)."""


class MQTTTimeout(AssertionError):
    """Nothing (or not enough) arrived in time."""


# ---------------------------------------------------------------- encoding

def varint(n):
    """Remaining Length encoding (3.1.1 §2.2.3), minimal form."""
    if n < 0 or n > MAX_REMAINING:
        raise ValueError(f"remaining length out of range: {n}")
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def decode_varint(buf, pos=0):
    """(value, next_pos); raises ValueError on more than 4 bytes or truncation."""
    mult, value = 1, 0
    for i in range(4):
        if pos + i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos + i]
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, pos + i + 1
        mult *= 128
    raise ValueError("varint longer than 4 bytes")


def u16(n):
    return bytes([(n >> 8) & 0xFF, n & 0xFF])


def to_bytes(s):
    if isinstance(s, str):
        return s.encode("utf-8")
    return bytes(s)


def mqtt_str(s):
    """UTF-8 string with 2-byte length prefix (3.1.1 §1.5.3). bytes are sent as-is,
    so tests can put ill-formed UTF-8 on the wire."""
    b = to_bytes(s)
    return u16(len(b)) + b


mqtt_bin = mqtt_str  # binary data has the same shape (length + bytes)


def packet(ptype, flags, body=b""):
    """Fixed header + body."""
    return bytes([(ptype << 4) | (flags & 0x0F)]) + varint(len(body)) + bytes(body)


def connect(client_id="", clean=True, keepalive=60, will_topic=None, will_payload=b"",
            will_qos=0, will_retain=False, username=None, password=None, protocol=4,
            proto_name=None, reserved=False, flags=None, properties=None):
    """CONNECT (3.1.1 §3.1). protocol: 4 (3.1.1, "MQTT"), 3 (3.1, "MQIsdp"), or any
    level (then "MQTT" unless proto_name says otherwise). flags overrides the computed
    connect-flags byte. properties (bytes) are inserted after keepalive (MQTT 5)."""
    if proto_name is None:
        proto_name = "MQIsdp" if protocol == 3 else "MQTT"
    f = 0
    if clean:
        f |= 0x02
    if will_topic is not None:
        f |= 0x04 | ((will_qos & 3) << 3)
        if will_retain:
            f |= 0x20
    if password is not None:
        f |= 0x40
    if username is not None:
        f |= 0x80
    if reserved:
        f |= 0x01
    if flags is not None:
        f = flags
    body = mqtt_str(proto_name) + bytes([protocol, f]) + u16(keepalive)
    if properties is not None:
        body += properties
    body += mqtt_str(client_id)
    if will_topic is not None:
        if properties is not None:
            body += b"\x00"  # will properties (MQTT 5)
        body += mqtt_str(will_topic) + mqtt_bin(will_payload)
    if username is not None:
        body += mqtt_str(username)
    if password is not None:
        body += mqtt_bin(password)
    return packet(CONNECT, 0, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None):
    """PUBLISH (3.1.1 §3.3). pid is required (and sent) when qos > 0; pass pid with
    qos 0 to put one on the wire anyway (malformed)."""
    flags = (0x08 if dup else 0) | ((qos & 3) << 1) | (0x01 if retain else 0)
    body = mqtt_str(topic)
    if qos > 0 or pid is not None:
        body += u16(pid if pid is not None else 1)
    body += to_bytes(payload)
    return packet(PUBLISH, flags, body)


def puback(pid):
    return packet(PUBACK, 0, u16(pid))


def pubrec(pid):
    return packet(PUBREC, 0, u16(pid))


def pubrel(pid):
    return packet(PUBREL, 0x02, u16(pid))


def pubcomp(pid):
    return packet(PUBCOMP, 0, u16(pid))


def subscribe(pid, filters, flags=0x02):
    """SUBSCRIBE (3.1.1 §3.8): filters is [(filter, qos_byte)]."""
    body = u16(pid)
    for flt, q in filters:
        body += mqtt_str(flt) + bytes([q])
    return packet(SUBSCRIBE, flags, body)


def unsubscribe(pid, filters, flags=0x02):
    body = u16(pid)
    for flt in filters:
        body += mqtt_str(flt)
    return packet(UNSUBSCRIBE, flags, body)


def pingreq():
    return packet(PINGREQ, 0)


def disconnect():
    return packet(DISCONNECT, 0)


# ---------------------------------------------------------------- decoding

@dataclass
class Packet:
    type: int
    flags: int
    body: bytes
    raw: bytes  # exactly the bytes read from the wire

    @property
    def name(self):
        return NAMES.get(self.type, str(self.type))

    @property
    def pid(self):
        """Packet identifier of an ack-type packet (PUBACK..PUBCOMP, SUBACK, UNSUBACK)."""
        assert len(self.body) >= 2, f"{self.name} too short for a packet id: {self.raw.hex()}"
        return (self.body[0] << 8) | self.body[1]

    def __repr__(self):
        r = self.raw if len(self.raw) <= 64 else self.raw[:64] + b"..."
        return f"<{self.name} flags={self.flags:#x} raw={r.hex(' ')}>"


@dataclass
class Publish:
    qos: int
    dup: bool
    retain: bool
    topic: str
    pid: int  # None for QoS 0
    payload: bytes
    raw: bytes


def decode_publish(p):
    """A received PUBLISH packet -> Publish. Asserts the server's encoding is valid."""
    assert p.type == PUBLISH, f"expected PUBLISH, got {p!r}"
    qos = (p.flags >> 1) & 3
    assert qos in (0, 1, 2), f"server sent QoS 3: {p!r}"
    b = p.body
    assert len(b) >= 2, f"PUBLISH too short: {p!r}"
    tlen = (b[0] << 8) | b[1]
    assert 2 + tlen <= len(b), f"PUBLISH topic runs past the end: {p!r}"
    topic = b[2:2 + tlen].decode("utf-8")
    pos = 2 + tlen
    pid = None
    if qos:
        assert pos + 2 <= len(b), f"PUBLISH without packet id: {p!r}"
        pid = (b[pos] << 8) | b[pos + 1]
        pos += 2
    return Publish(qos=qos, dup=bool(p.flags & 0x08), retain=bool(p.flags & 0x01),
                   topic=topic, pid=pid, payload=bytes(b[pos:]), raw=p.raw)


PACKET_REST_S = 5.0  # how long the rest of a begun packet may take


def _recv_exact(sock, n, deadline):
    out = bytearray()
    while len(out) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise MQTTTimeout(f"timed out after {len(out)} of {n} bytes")
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(out))
        except socket.timeout:
            raise MQTTTimeout(f"timed out after {len(out)} of {n} bytes") from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            raise MQTTClosed("connection reset") from None
        if not chunk:
            if out:
                raise MQTTClosed(f"EOF inside a packet after {len(out)} of {n} bytes")
            raise MQTTClosed("EOF")
        out += chunk
    return bytes(out)


def read_packet(sock, timeout=2.0):
    """Reads exactly one control packet. Returns Packet; raises MQTTClosed on
    EOF/reset and MQTTTimeout when nothing complete arrives within timeout (seconds,
    scaled by SLOW). Never reads past the packet, so no buffering is needed."""
    deadline = time.monotonic() + timeout * SLOW
    first = _recv_exact(sock, 1, deadline)
    # The timeout is for the packet to begin. Once its first byte is consumed a
    # timeout would leave the stream mid-packet, and a caller that retries would
    # frame garbage; the broker writes whole packets, so the rest is due at once
    # and a stall here is a failure, not a retryable timeout.
    deadline = max(deadline, time.monotonic() + PACKET_REST_S * SLOW)
    try:
        return _read_packet_rest(sock, first, deadline)
    except MQTTTimeout as e:
        raise AssertionError(f"server stalled inside a packet (first byte {first.hex()}): {e}") from None


def _read_packet_rest(sock, first, deadline):
    hdr = bytearray(first)
    mult, length = 1, 0
    for i in range(4):
        b = _recv_exact(sock, 1, deadline)[0]
        hdr.append(b)
        length += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    else:
        raise AssertionError(f"server sent a remaining length of more than 4 bytes: {hdr.hex()}")
    if len(hdr) > 2 and hdr[-1] == 0:
        raise AssertionError(f"server sent a non-minimal remaining length: {hdr.hex()}")
    body = _recv_exact(sock, length, deadline) if length else b""
    return Packet(type=first[0] >> 4, flags=first[0] & 0x0F, body=body, raw=bytes(hdr) + body)


# ---------------------------------------------------------------- client

class Client:
    """A blocking MQTT client over one TCP socket to the broker under test.

    Packets that arrive while waiting for something else are kept in a stash and
    returned first by recv_packet(). With auto_ack (default) incoming QoS 2 flows are
    completed: a PUBREL from the server is answered with PUBCOMP wherever it shows up.
    """

    def __init__(self, broker, name="", auto_ack=True):
        self.broker = broker
        self.name = name
        self.sock = broker.connect()
        self.pending = deque()
        self.auto_ack = auto_ack
        self._next_pid = 1
        self.closed = False

    # -- plumbing
    def send(self, data):
        self.sock.sendall(data)

    def raw(self, data):
        """Sends bytes as-is; a peer that already closed is not an error here (the
        test asserts on the close separately)."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.closed = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def next_pid(self):
        pid = self._next_pid
        self._next_pid = pid % 65535 + 1
        return pid

    def _read(self, timeout):
        p = read_packet(self.sock, timeout)
        if self.auto_ack and p.type == PUBREL:
            assert p.flags == 0x02, f"server PUBREL with flags {p.flags:#x} [MQTT-3.6.1-1]"
            self.send(pubcomp(p.pid))
        return p

    def recv_packet(self, timeout=2.0):
        """The next packet (stashed ones first). Raises MQTTTimeout / MQTTClosed."""
        if self.pending:
            return self.pending.popleft()
        return self._read(timeout)

    def expect(self, ptype, timeout=2.0, pid=None):
        """Waits for a packet of ptype (and pid), stashing others. Returns it."""
        for i, p in enumerate(self.pending):
            if p.type == ptype and (pid is None or p.pid == pid):
                del self.pending[i]
                return p
        deadline = time.monotonic() + timeout * SLOW
        while True:
            left = (deadline - time.monotonic()) / SLOW
            if left <= 0:
                raise MQTTTimeout(f"{self.name}: no {NAMES[ptype]}"
                                  f"{'' if pid is None else ' pid %d' % pid} within {timeout}s;"
                                  f" stashed: {list(self.pending)}")
            try:
                p = self._read(left)
            except MQTTTimeout:
                continue
            if p.type == ptype and (pid is None or p.pid == pid):
                return p
            if self.auto_ack and p.type == PUBREL:
                continue
            self.pending.append(p)

    # -- MQTT operations
    def connect(self, client_id="", clean=True, keepalive=60, timeout=2.0, **kw):
        """Sends CONNECT and reads CONNACK: returns (session_present, return_code).
        The CONNACK packet is kept in self.connack."""
        self.send(connect(client_id, clean=clean, keepalive=keepalive, **kw))
        p = read_packet(self.sock, timeout)
        assert p.type == CONNACK, f"{self.name}: expected CONNACK, got {p!r}"
        assert p.flags == 0, f"CONNACK flags {p.flags:#x}"
        self.connack = p
        if kw.get("protocol", 4) in (3, 4):
            assert len(p.body) == 2, f"CONNACK remaining length != 2: {p!r}"
            assert p.body[0] & 0xFE == 0, f"CONNACK reserved bits set: {p!r}"
        return bool(p.body[0] & 1), p.body[1]

    def connect_ok(self, client_id="", clean=True, keepalive=60, **kw):
        sp, rc = self.connect(client_id, clean=clean, keepalive=keepalive, **kw)
        assert rc == 0, f"{self.name}: CONNACK rc {rc}"
        return sp

    def publish(self, topic, payload=b"", qos=0, retain=False, dup=False, pid=None,
                wait=True, timeout=2.0):
        """Publishes; for QoS 1 waits for PUBACK, for QoS 2 runs PUBREC/PUBREL/PUBCOMP
        (wait=False only sends). Returns the packet id used (None for QoS 0)."""
        if qos and pid is None:
            pid = self.next_pid()
        self.send(publish(topic, payload, qos=qos, retain=retain, dup=dup,
                          pid=pid if qos else None))
        if wait and qos == 1:
            p = self.expect(PUBACK, timeout, pid=pid)
            assert p.flags == 0 and len(p.body) == 2, f"bad PUBACK {p!r}"
        elif wait and qos == 2:
            p = self.expect(PUBREC, timeout, pid=pid)
            assert p.flags == 0 and len(p.body) == 2, f"bad PUBREC {p!r}"
            self.send(pubrel(pid))
            p = self.expect(PUBCOMP, timeout, pid=pid)
            assert p.flags == 0 and len(p.body) == 2, f"bad PUBCOMP {p!r}"
        return pid if qos else None

    def subscribe(self, filters, pid=None, timeout=2.0):
        """filters: [(filter, qos)] or a single filter string (QoS 0). Returns the
        list of SUBACK return codes. The SUBACK is kept in self.suback."""
        if isinstance(filters, str):
            filters = [(filters, 0)]
        if pid is None:
            pid = self.next_pid()
        self.send(subscribe(pid, filters))
        p = self.expect(SUBACK, timeout, pid=pid)
        assert p.flags == 0, f"SUBACK flags {p.flags:#x}"
        self.suback = p
        return list(p.body[2:])

    def unsubscribe(self, filters, pid=None, timeout=2.0):
        if isinstance(filters, str):
            filters = [filters]
        if pid is None:
            pid = self.next_pid()
        self.send(unsubscribe(pid, filters))
        p = self.expect(UNSUBACK, timeout, pid=pid)
        assert p.flags == 0 and len(p.body) == 2, f"bad UNSUBACK {p!r}"
        return p

    def ping(self, timeout=2.0):
        self.send(pingreq())
        p = self.expect(PINGRESP, timeout)
        assert p.raw == b"\xd0\x00", f"bad PINGRESP {p!r}"
        return p

    def disconnect(self, wait_close=True):
        """Sends DISCONNECT; by default waits until the server closes the socket
        (so the broker has processed it), then closes ours."""
        self.raw(disconnect())
        if wait_close:
            self.expect_closed(allowed=(PUBLISH, PUBREL))
        self.close()

    def recv_publish(self, timeout=2.0, ack=None, complete=True):
        """Waits for the next PUBLISH, decodes it and (if ack, default auto_ack)
        acknowledges it: QoS 1 -> PUBACK; QoS 2 -> PUBREC and, with complete, waits
        for the PUBREL and sends PUBCOMP. Other packets are stashed."""
        if ack is None:
            ack = self.auto_ack
        p = self.expect(PUBLISH, timeout)
        m = decode_publish(p)
        if ack and m.qos == 1:
            self.send(puback(m.pid))
        elif ack and m.qos == 2:
            self.send(pubrec(m.pid))
            if complete:
                rel = self.expect(PUBREL, timeout, pid=m.pid)
                assert rel.flags == 0x02, f"PUBREL flags {rel.flags:#x} [MQTT-3.6.1-1]"
                if not self.auto_ack:
                    self.send(pubcomp(m.pid))
        return m

    def recv_publishes(self, n, timeout=2.0, **kw):
        return [self.recv_publish(timeout=timeout, **kw) for _ in range(n)]

    def collect(self, quiet=0.3, limit=10000, **kw):
        """All PUBLISHes that arrive until none has arrived for `quiet` seconds."""
        out = []
        while len(out) < limit:
            try:
                out.append(self.recv_publish(timeout=quiet, **kw))
            except MQTTTimeout:
                break
        return out

    def expect_no_publish(self, timeout=0.3):
        """Asserts no PUBLISH arrives within timeout (other packets are stashed)."""
        try:
            m = self.recv_publish(timeout=timeout, ack=False)
        except MQTTTimeout:
            return
        raise AssertionError(f"{self.name}: unexpected PUBLISH {m}")

    def expect_closed(self, timeout=3.0, allowed=()):
        """Asserts the server closes the connection within timeout: recv returns b''
        or ECONNRESET. Any packet whose type is not in `allowed` (types, or a
        predicate taking a Packet) fails the test. Returns the packets that came
        before the close (stashed ones included)."""
        ok = allowed if callable(allowed) else (lambda p: p.type in allowed)
        seen = []
        while self.pending:
            p = self.pending.popleft()
            assert ok(p), f"{self.name}: unexpected {p!r} before close"
            seen.append(p)
        deadline = time.monotonic() + timeout * SLOW
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: server did not close the connection "
                                     f"within {timeout}s (SLOW={SLOW}); got {seen}")
            try:
                p = self._read_before_close(left / SLOW)
            except MQTTClosed:
                self.closed = True
                return seen
            except MQTTTimeout:
                continue
            assert ok(p), f"{self.name}: unexpected {p!r} before close"
            seen.append(p)

    def _read_before_close(self, timeout):
        """How expect_closed() and is_open() read: the bare packet, no auto-ack
        (Client5 reads through its checks)."""
        return read_packet(self.sock, timeout)

    def is_open(self, wait=0.2):
        """True if the server has not closed the connection within `wait` seconds
        (any packet that arrives meanwhile is stashed, read as expect_closed reads)."""
        try:
            p = self._read_before_close(wait)
        except MQTTTimeout:
            return True
        except MQTTClosed:
            return False
        self.pending.append(p)
        return True


def connected(broker, client_id="", name=None, auto_ack=True, **kw):
    """A Client with a successful CONNECT (kw: connect() arguments)."""
    c = Client(broker, name=name or client_id or "client", auto_ack=auto_ack)
    c.connect_ok(client_id, **kw)
    return c


def broker_serves(broker, tag="probe"):
    """Asserts the broker still accepts a new client and routes a message."""
    assert broker.alive(), "broker died:\n" + broker.log()[-3000:]
    c = connected(broker, f"{tag}-check")
    assert c.subscribe([(f"{tag}/check", 1)]) == [1]
    c.publish(f"{tag}/check", b"still here", qos=1)
    m = c.recv_publish()
    assert (m.topic, m.payload) == (f"{tag}/check", b"still here")
    c.disconnect()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
