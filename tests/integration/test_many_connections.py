"""10,000 concurrent connections, held and served by a 2-worker broker.

All 10,000 connect (clean session, keepalive 300), subscribe to many/+, receive one
QoS 0 message published to many/x by one more client, and answer PINGREQ with
PINGRESP. One selectors loop drives all the sockets; raw MQTT bytes built here.
Figures (time to connect, broker RSS per connection) are printed: run with -s.

File descriptors: the harness starts the broker with Popen, so the broker inherits
this process's RLIMIT_NOFILE. The soft limit is therefore raised to the hard limit at
import time, before any fixture starts a broker (the test is skipped if the hard limit
is below 10,500: 10,000 sockets plus the broker's own files and some slack).
"""
import re
import resource
import selectors
import socket
import struct
import time

import pytest

from conftest import SLOW

N = 10_000
NEEDED_FDS = 10_500
BATCH = 64            # connects in flight at once: below any sane listen backlog
BUDGET = 60.0 * SLOW          # the whole test
_U16 = struct.Struct(">H")


def _raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# At import, i.e. before the broker fixture's Popen: the broker inherits the limit.
_SOFT, _HARD = _raise_nofile()
pytestmark = pytest.mark.skipif(
    _HARD != resource.RLIM_INFINITY and _HARD < NEEDED_FDS,
    reason=f"RLIMIT_NOFILE hard limit {_HARD} < {NEEDED_FDS}: cannot hold {N} connections "
           f"(raise it with `ulimit -Hn` / limits.conf)")


def _varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(first, body):
    return bytes([first]) + _varint(len(body)) + body


def _str(s):
    b = s.encode()
    return _U16.pack(len(b)) + b


def connect_pkt(client_id, keepalive=300):
    return _packet(0x10, _str("MQTT") + bytes([4, 0x02]) + _U16.pack(keepalive)
                   + _str(client_id))


SUBSCRIBE = _packet(0x82, _U16.pack(7) + _str("many/+") + b"\x00")
SUBACK = b"\x90\x03\x00\x07\x00"
CONNACK = b"\x20\x02\x00\x00"
PUBLISH_PAYLOAD = b"hello ten thousand"
PUBLISH = _packet(0x30, _str("many/x") + PUBLISH_PAYLOAD)
PINGREQ = b"\xc0\x00"
PINGRESP = b"\xd0\x00"
DISCONNECT = b"\xe0\x00"


class Conn:
    __slots__ = ("sock", "buf", "packets", "index")

    def __init__(self, sock, index):
        self.sock = sock
        self.index = index
        self.buf = b""
        self.packets = []


def _rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _split_packets(conn):
    """Moves the complete packets of conn.buf into conn.packets (as bytes)."""
    buf = conn.buf
    i = 0
    n = len(buf)
    while n - i >= 2:
        rl = 0
        shift = 0
        j = i + 1
        while True:
            if j >= n:
                rl = None
                break
            b = buf[j]
            j += 1
            rl |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if rl is None or j + rl > n:
            break
        conn.packets.append(buf[i:j + rl])
        i = j + rl
    conn.buf = buf[i:]


def _pump(sel, conns, expected, what, deadline):
    """Reads until every conn in `conns` has one packet; each must equal `expected`."""
    waiting = {c.index for c in conns if not c.packets}
    bad = []
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            sample = sorted(waiting)[:10]
            raise AssertionError(f"{what}: {len(waiting)} of {len(conns)} connections got "
                                 f"nothing in time (e.g. #{sample})")
        for key, _ in sel.select(timeout=min(left, 1.0)):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                raise AssertionError(f"{what}: connection #{c.index}: {e}")
            if not data:
                raise AssertionError(f"{what}: the broker closed connection #{c.index}")
            c.buf += data
            _split_packets(c)
            if c.packets:
                waiting.discard(c.index)
    for c in conns:
        got, c.packets = c.packets, []
        if got != [expected]:
            bad.append((c.index, [p.hex() for p in got]))
    assert not bad, (f"{what}: {len(bad)} connections got something else than "
                     f"{expected.hex()}, e.g. {bad[:5]}")


def _send_all(conns, data, what):
    for c in conns:
        try:
            sent = c.sock.send(data)
        except OSError as e:
            raise AssertionError(f"{what}: send on connection #{c.index}: {e}")
        assert sent == len(data), f"{what}: short send on connection #{c.index}"


def test_ten_thousand_connections(broker_factory):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= NEEDED_FDS or soft == resource.RLIM_INFINITY, (soft, hard)
    t_start = time.monotonic()
    deadline = t_start + BUDGET
    broker = broker_factory(threads=2)
    with open(f"/proc/{broker.proc.pid}/limits") as f:
        limits = f.read()
    m = re.search(r"Max open files\s+(\d+|unlimited)", limits)
    assert m and (m.group(1) == "unlimited" or int(m.group(1)) >= NEEDED_FDS), (
        "the broker did not inherit the raised RLIMIT_NOFILE:\n" + limits)

    rss_before = _rss_bytes(broker.proc.pid)
    sel = selectors.DefaultSelector()
    conns = []
    try:
        # --- connect, in batches (bounded accept backlog), CONNECT pipelined per batch
        t0 = time.monotonic()
        for start in range(0, N, BATCH):
            batch = []
            for i in range(start, min(N, start + BATCH)):
                try:
                    s = socket.create_connection(("127.0.0.1", broker.port),
                                                 timeout=max(1.0, deadline - time.monotonic()))
                except OSError as e:
                    raise AssertionError(f"connect #{i} failed after {len(conns)} "
                                         f"connections: {e}; broker alive: {broker.alive()}")
                s.setblocking(False)
                c = Conn(s, i)
                conns.append(c)
                batch.append(c)
                sel.register(s, selectors.EVENT_READ, c)
            for c in batch:
                pkt = connect_pkt(f"many-{c.index:05d}")
                assert c.sock.send(pkt) == len(pkt), f"short send on connection #{c.index}"
            _pump(sel, batch, CONNACK, f"CONNACK (batch at {start})", deadline)
        t_connect = time.monotonic() - t0
        time.sleep(0.2)
        rss_after = _rss_bytes(broker.proc.pid)
        assert broker.alive()

        # --- subscribe all, pipelined
        t0 = time.monotonic()
        _send_all(conns, SUBSCRIBE, "SUBSCRIBE")
        _pump(sel, conns, SUBACK, "SUBACK", deadline)
        t_subscribe = time.monotonic() - t0

        # --- one QoS 0 message, fanned out to all 10,000
        t0 = time.monotonic()
        pub = broker.connect()
        pub.sendall(connect_pkt("many-publisher"))
        got = b""
        while len(got) < 4:
            chunk = pub.recv(4 - len(got))
            assert chunk, "publisher: connection closed before CONNACK"
            got += chunk
        assert got == CONNACK
        pub.sendall(PUBLISH)
        _pump(sel, conns, PUBLISH, "PUBLISH fan-out", deadline)
        t_fanout = time.monotonic() - t0
        pub.sendall(DISCONNECT)
        pub.close()

        # --- PINGREQ on every connection
        t0 = time.monotonic()
        _send_all(conns, PINGREQ, "PINGREQ")
        _pump(sel, conns, PINGRESP, "PINGRESP", deadline)
        t_ping = time.monotonic() - t0
        rss_end = _rss_bytes(broker.proc.pid)

        workers = {}
        for w in re.findall(r"as many-\d{5} \([^)]*\bw(\d+)\)", broker.log()):
            workers[int(w)] = workers.get(int(w), 0) + 1
    finally:
        sel.close()
        for c in conns:
            try:
                c.sock.send(DISCONNECT)
            except OSError:
                pass
            c.sock.close()

    per_conn = ((rss_after - rss_before) / N) if rss_before and rss_after else None
    print(f"\n[10k] {N} connections (threads 2): connected+CONNACK in {t_connect:.2f}s "
          f"({N / t_connect:,.0f}/s), SUBSCRIBE+SUBACK {t_subscribe:.2f}s, QoS 0 fan-out "
          f"{t_fanout:.2f}s, PINGREQ/PINGRESP {t_ping:.2f}s; total {time.monotonic() - t_start:.1f}s")
    if per_conn is not None:
        print(f"[10k] broker VmRSS {rss_before / 2**20:.1f} MiB before, "
              f"{rss_after / 2**20:.1f} MiB with {N} connections, "
              f"{rss_end / 2**20:.1f} MiB after subscribe/publish/ping: "
              f"{per_conn:,.0f} bytes per connected client, "
              f"{(rss_end - rss_before) / N:,.0f} bytes per client after subscribe/publish/ping")
    print(f"[10k] connections per worker (from the log): {dict(sorted(workers.items()))}")

    # The broker is still serving after the 10,000 went away.
    s = broker.connect()
    s.sendall(connect_pkt("many-after"))
    got = b""
    while len(got) < 4:
        chunk = s.recv(4 - len(got))
        assert chunk, "connection closed before CONNACK after the 10k test"
        got += chunk
    assert got == CONNACK
    s.sendall(DISCONNECT)
    s.close()
    assert broker.alive()
    assert time.monotonic() - t_start < BUDGET
