"""Cross-worker delivery under load: publishers and subscribers whose sessions live on
different worker threads exchange 100,000 QoS 1 and 100,000 QoS 2 messages.

Each of the PUBS publishers sends MESSAGES/PUBS messages on bench/<p> with the payload
(p, seq) as two big-endian uint32; each of the SUBS subscribers subscribes to bench/# at
the test QoS and must receive every message exactly once, with seq strictly increasing
per publisher (one ordered topic per publisher; MQTT-4.6.0-5/6). QoS 1 duplicates are
allowed by the spec, but with a well-behaved subscriber and no reconnects there should
be none: they are counted, reported, and asserted absent.

The MQTT client here is a minimal raw-socket one of its own (paho is far too slow for
400,000 deliveries per test), single-threaded on a selectors loop:
  - publishers keep up to WINDOW (= the broker's max_inflight_messages default, 20)
    unacknowledged messages in flight and write them in one sendall;
  - publishers are also held back to at most LAG messages ahead of the slowest
    subscriber, so that a subscriber's queue in the broker (at most PUBS * LAG plus
    the windows) stays well below max_queued_messages (1000 by default), where the
    broker may drop messages legitimately (Mosquitto 2.0.11 already drops at ~550);
  - subscribers read large chunks, parse every packet in a chunk, and send all the
    acknowledgements for a chunk in one sendall.

Message count: STARLING_XW_MESSAGES (default 100000), split evenly over the publishers.
Figures are printed (run pytest with -s to see them).
"""
import os
import re
import selectors
import socket
import struct
import time

import pytest

from conftest import SLOW

MESSAGES = int(os.environ.get("STARLING_XW_MESSAGES", "100000"))
PUBS = 4
SUBS = 4
THREADS = 4
WINDOW = 20
LAG = 100
STALL = 20.0 * SLOW            # no progress for this long: fail with a diagnosis
DEADLINE = 240.0 * SLOW        # hard bound for one exchange

_PAIR = struct.Struct(">II")
_U16 = struct.Struct(">H")


# ---------------------------------------------------------------- raw MQTT helpers

def _varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _packet(first, body):
    return bytes([first]) + _varint(len(body)) + body


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return _U16.pack(len(b)) + b


def connect_pkt(client_id, keepalive=300, clean=True):
    return _packet(0x10, _str("MQTT") + bytes([4, 0x02 if clean else 0])
                   + _U16.pack(keepalive) + _str(client_id))


def subscribe_pkt(pid, topic, qos):
    return _packet(0x82, _U16.pack(pid) + _str(topic) + bytes([qos]))


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def open_client(broker, client_id, clean=True, session_present=0):
    s = broker.connect(timeout=10.0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.sendall(connect_pkt(client_id, clean=clean))
    ack = recv_exact(s, 4)
    assert ack == b"\x20\x02" + bytes([session_present, 0]), (
        f"{client_id}: CONNACK {ack.hex()}, expected session present={session_present}")
    return s


def worker_of(broker, client_id):
    m = broker.wait_log(rf"as {re.escape(client_id)} \([^)]*\bw(\d+)\)")
    return int(m.group(1))


# ---------------------------------------------------------------- the clients

class Publisher:
    def __init__(self, index, sock, qos, count):
        self.index = index
        self.sock = sock
        self.qos = qos
        self.count = count
        self.next_seq = 0
        self.next_pid = 1
        self.outstanding = {}          # packet id -> state (1: sent, 2: PUBREL sent)
        self.acked = 0
        self.buf = bytearray()
        topic = b"bench/%d" % index
        rl = 2 + len(topic) + 2 + 8
        self.prefix = bytes([0x30 | (qos << 1)]) + _varint(rl) + _str(topic)
        self.errors = []
        self.out_of_order_acks = 0

    def fill(self, limit_seq):
        """Sends as many as the window and the subscriber lag allow."""
        room = WINDOW - len(self.outstanding)
        n = min(room, self.count - self.next_seq, limit_seq - self.next_seq)
        if n <= 0:
            return 0
        parts = []
        for _ in range(n):
            pid = self.next_pid
            self.next_pid = 1 if pid == 65535 else pid + 1
            if pid in self.outstanding:
                raise AssertionError("packet id reuse while in flight")
            self.outstanding[pid] = 1
            parts.append(self.prefix + _U16.pack(pid) + _PAIR.pack(self.index, self.next_seq))
            self.next_seq += 1
        self.sock.sendall(b"".join(parts))
        return n

    def on_data(self, data):
        buf = self.buf
        buf += data
        n = len(buf)
        i = 0
        out = []
        outstanding = self.outstanding
        while n - i >= 4:
            b0 = buf[i]
            if buf[i + 1] != 2:
                raise AssertionError(f"pub {self.index}: unexpected packet "
                                     f"{bytes(buf[i:i + 8]).hex()}")
            pid = (buf[i + 2] << 8) | buf[i + 3]
            i += 4
            state = outstanding.get(pid)
            if b0 == 0x40 and self.qos == 1 and state == 1:          # PUBACK
                del outstanding[pid]
                self.acked += 1
            elif b0 == 0x50 and self.qos == 2 and state == 1:        # PUBREC
                outstanding[pid] = 2
                out.append(b"\x62\x02" + _U16.pack(pid))
            elif b0 == 0x70 and self.qos == 2 and state == 2:        # PUBCOMP
                del outstanding[pid]
                self.acked += 1
            else:
                raise AssertionError(f"pub {self.index}: packet type {b0:#x} for packet "
                                     f"id {pid} in state {state}")
        del buf[:i]
        if out:
            self.sock.sendall(b"".join(out))

    @property
    def done(self):
        return self.acked == self.count


class Subscriber:
    def __init__(self, index, sock, qos, pubs, per_pub, client_id=None, kill_every=0):
        self.index = index
        self.sock = sock
        self.client_id = client_id
        self.kill_every = kill_every      # drop the connection every N deliveries
        self.next_kill = kill_every
        self.must_reconnect = False
        self.reconnects = 0
        self.dup_without_flag = 0         # a redelivery (seq already seen) with DUP=0
        self.comp_dropped = set()         # PUBREL answered, but the PUBCOMP never sent
        self.pubrel_resent = 0
        self.qos = qos
        self.last = [-1] * pubs           # last seq seen per publisher
        self.per_pub = per_pub
        self.received = 0                 # distinct in-order deliveries
        self.duplicates = 0               # seq <= last seen
        self.dup_flag_duplicates = 0      # ... of which had DUP=1
        self.gaps = 0                     # seq jumped forward (loss or reorder)
        self.missing = 0
        self.wrong_qos = 0
        self.qos2_redelivered = 0         # same packet id again before PUBREL
        self.awaiting_rel = set()
        self.buf = bytearray()
        self.topics = [b"bench/%d" % p for p in range(pubs)]
        self.errors = []

    def on_data(self, data):
        buf = self.buf
        buf += data
        n = len(buf)
        i = 0
        acks = []
        released = []
        last = self.last
        want_qos = self.qos
        while n - i >= 2:
            b0 = buf[i]
            rl = buf[i + 1]
            j = i + 2
            if rl & 0x80:
                rl &= 0x7F
                shift = 7
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
                if rl is None:
                    break
            end = j + rl
            if end > n:
                break
            kind = b0 >> 4
            if kind == 3:                                   # PUBLISH
                qos = (b0 >> 1) & 3
                tlen = (buf[j] << 8) | buf[j + 1]
                k = j + 2 + tlen
                if qos:
                    pid = (buf[k] << 8) | buf[k + 1]
                    k += 2
                if end - k != 8:
                    raise AssertionError(f"sub {self.index}: bad payload length {end - k}")
                p, seq = _PAIR.unpack_from(buf, k)
                if buf[j + 2:j + 2 + tlen] != self.topics[p]:
                    raise AssertionError(f"sub {self.index}: topic "
                                         f"{bytes(buf[j + 2:j + 2 + tlen])!r} for pub {p}")
                if qos != want_qos:
                    self.wrong_qos += 1
                deliver = True
                if qos == 1:
                    acks.append(b"\x40\x02" + _U16.pack(pid))
                elif qos == 2:
                    acks.append(b"\x50\x02" + _U16.pack(pid))
                    if pid in self.awaiting_rel:
                        self.qos2_redelivered += 1
                        if not b0 & 0x08:
                            self.dup_without_flag += 1
                        deliver = False
                    else:
                        self.awaiting_rel.add(pid)
                if deliver:
                    prev = last[p]
                    if seq == prev + 1:
                        last[p] = seq
                        self.received += 1
                    elif seq <= prev:
                        self.duplicates += 1
                        if b0 & 0x08:
                            self.dup_flag_duplicates += 1
                        else:
                            self.dup_without_flag += 1
                    else:
                        self.gaps += 1
                        self.missing += seq - prev - 1
                        last[p] = seq
                        self.received += 1
            elif b0 == 0x62 and rl == 2:                    # PUBREL
                pid = (buf[j] << 8) | buf[j + 1]
                if pid in self.awaiting_rel:
                    self.awaiting_rel.discard(pid)
                    released.append(pid)
                elif pid in self.comp_dropped:      # resent after a reconnect
                    self.comp_dropped.discard(pid)
                    self.pubrel_resent += 1
                else:
                    self.errors.append(f"PUBREL for unknown packet id {pid}")
                acks.append(b"\x70\x02" + _U16.pack(pid))
            else:
                raise AssertionError(f"sub {self.index}: unexpected packet "
                                     f"{bytes(buf[i:min(end, i + 16)]).hex()}")
            i = end
        del buf[:i]
        if (self.kill_every and self.received >= self.next_kill
                and (released or self.qos != 2 or self.reconnects % 2 == 0)):
            # Abrupt close with this chunk's acknowledgements unsent: the broker must
            # resend those PUBLISHes (DUP=1) and PUBRELs on reconnect (MQTT-4.4.0-1).
            # At QoS 2 every other kill waits for a chunk with PUBRELs in it.
            self.next_kill += self.kill_every
            self.must_reconnect = True
            self.comp_dropped.update(released)
            return
        if acks:
            self.sock.sendall(b"".join(acks))

    def complete(self):
        return (all(x == self.per_pub - 1 for x in self.last) and not self.awaiting_rel
                and not self.comp_dropped)


# ---------------------------------------------------------------- setup and run

def _connect_spread(broker, threads, qos, tag, persistent_subs=False):
    """Connects PUBS publishers and SUBS subscribers (subscribed to bench/#) with client
    ids chosen so that they are on at least 2 workers and some publisher/subscriber
    pair is on different workers. Returns (pub sockets, sub sockets, worker map)."""
    for attempt in range(20):
        pub_ids = [f"xw{tag}-pub{p}-{attempt}" for p in range(PUBS)]
        sub_ids = [f"xw{tag}-sub{s}-{attempt}" for s in range(SUBS)]
        socks = {cid: open_client(broker, cid) for cid in pub_ids}
        socks.update({cid: open_client(broker, cid, clean=not persistent_subs)
                      for cid in sub_ids})
        workers = {cid: worker_of(broker, cid) for cid in socks}
        pw = {workers[c] for c in pub_ids}
        sw = {workers[c] for c in sub_ids}
        want = min(threads, 3)
        if len(pw | sw) >= want and (len(pw) > 1 or len(sw) > 1 or pw != sw):
            break
        for s in socks.values():
            s.close()
    else:
        raise AssertionError(f"could not spread clients over workers: {workers}")
    for i, cid in enumerate(sub_ids):
        s = socks[cid]
        s.sendall(subscribe_pkt(1, "bench/#", qos))
        ack = recv_exact(s, 5)
        assert ack == b"\x90\x03\x00\x01" + bytes([qos]), f"{cid}: SUBACK {ack.hex()}"
    return ([socks[c] for c in pub_ids], [(c, socks[c]) for c in sub_ids],
            {c: workers[c] for c in pub_ids + sub_ids})


def _reconnect(broker, sel, sb):
    """Abrupt close, then CONNECT again with clean session 0: the session (and its
    subscription) must still be there; no SUBSCRIBE is sent again."""
    sel.unregister(sb.sock)
    sb.sock.close()
    sb.sock = open_client(broker, sb.client_id, clean=False, session_present=1)
    sb.sock.settimeout(10.0 * SLOW)
    sb.buf = bytearray()                  # a partial packet died with the connection
    sb.must_reconnect = False
    sb.reconnects += 1
    sel.register(sb.sock, selectors.EVENT_READ, sb)


def _exchange(broker, qos, threads, total, tag, kill_every=0):
    per_pub = total // PUBS
    total = per_pub * PUBS
    pub_socks, sub_socks, workers = _connect_spread(broker, threads, qos, tag,
                                                    persistent_subs=bool(kill_every))
    pubs = [Publisher(p, s, qos, per_pub) for p, s in enumerate(pub_socks)]
    subs = [Subscriber(i, s, qos, PUBS, per_pub, client_id=cid, kill_every=kill_every)
            for i, (cid, s) in enumerate(sub_socks)]
    sel = selectors.DefaultSelector()
    for c in pubs + subs:
        c.sock.settimeout(10.0 * SLOW)    # bounds sendall; recv only after select
        sel.register(c.sock, selectors.EVENT_READ, c)

    t0 = time.monotonic()
    last_progress = t0
    progress_mark = -1
    try:
        while True:
            for pb in pubs:
                slowest = min(sb.last[pb.index] for sb in subs)
                pb.fill(slowest + 1 + LAG)
            for key, _ in sel.select(timeout=0.2):
                c = key.data
                if isinstance(c, Subscriber) and c.must_reconnect:
                    continue
                data = key.fileobj.recv(1 << 20)
                if not data:
                    kind = "publisher" if isinstance(c, Publisher) else "subscriber"
                    raise AssertionError(f"broker closed the {kind} {c.index} connection")
                c.on_data(data)
            for sb in subs:
                if sb.must_reconnect:
                    _reconnect(broker, sel, sb)
            now = time.monotonic()
            mark = sum(pb.acked for pb in pubs) + sum(sb.received + sb.duplicates
                                                       for sb in subs)
            if mark != progress_mark:
                progress_mark, last_progress = mark, now
            if all(pb.done for pb in pubs) and all(sb.complete() for sb in subs):
                break
            if now - last_progress > STALL or now - t0 > DEADLINE:
                raise AssertionError(
                    f"stalled after {now - t0:.1f}s: published/acked "
                    f"{[(pb.next_seq, pb.acked) for pb in pubs]}, subscribers last seq "
                    f"{[sb.last for sb in subs]}, received {[sb.received for sb in subs]}, "
                    f"gaps {[sb.gaps for sb in subs]}, duplicates "
                    f"{[sb.duplicates for sb in subs]}, awaiting PUBREL "
                    f"{[len(sb.awaiting_rel) for sb in subs]}, PUBREL never resent "
                    f"{[len(sb.comp_dropped) for sb in subs]}; broker alive: "
                    f"{broker.alive()}\nbroker log tail:\n{broker.log()[-3000:]}")
        elapsed = time.monotonic() - t0
        # Anything extra (late duplicates) would arrive now.
        quiet_end = time.monotonic() + 0.3 * SLOW
        while time.monotonic() < quiet_end:
            for key, _ in sel.select(timeout=0.05):
                data = key.fileobj.recv(1 << 20)
                if data:
                    key.data.on_data(data)
    finally:
        sel.close()
        for c in pubs + subs:
            try:
                c.sock.settimeout(1.0)
                c.sock.sendall(b"\xe0\x00")
            except OSError:
                pass
            c.sock.close()

    deliveries = sum(sb.received for sb in subs)
    used = sorted(set(workers.values()))
    print(f"\n[cross-worker] QoS {qos}, threads {threads}: {total} messages from {PUBS} "
          f"publishers to {SUBS} subscribers = {deliveries} deliveries in {elapsed:.2f}s: "
          f"{total / elapsed:,.0f} msg/s in, {deliveries / elapsed:,.0f} deliveries/s out; "
          f"workers used {used} "
          f"(pubs {[workers[k] for k in workers if '-pub' in k]}, "
          f"subs {[workers[k] for k in workers if '-sub' in k]})")
    for sb in subs:
        print(f"[cross-worker]   sub {sb.index}: received {sb.received}, duplicates "
              f"{sb.duplicates} (dup flag {sb.dup_flag_duplicates}), gaps {sb.gaps} "
              f"(missing {sb.missing}), wrong qos {sb.wrong_qos}, QoS 2 redeliveries "
              f"{sb.qos2_redelivered}, PUBREL resent {sb.pubrel_resent}, "
              f"reconnects {sb.reconnects}")
    return pubs, subs, used


def _check(pubs, subs, qos, per_pub, log, reconnecting=False):
    for pb in pubs:
        assert pb.acked == per_pub, f"publisher {pb.index}: {pb.acked} of {per_pub} acked"
    drops = "\n".join(line for line in log.splitlines() if "drop" in line.lower())[-2000:]
    for sb in subs:
        assert not sb.errors, f"subscriber {sb.index}: {sb.errors[:5]}"
        assert sb.gaps == 0 and sb.missing == 0, (
            f"subscriber {sb.index}: {sb.missing} messages lost or reordered ({sb.gaps} gaps); "
            f"broker log lines about drops:\n{drops}")
        assert sb.received == per_pub * PUBS
        assert sb.wrong_qos == 0, f"subscriber {sb.index}: {sb.wrong_qos} at the wrong QoS"
        assert sb.dup_without_flag == 0, (
            f"subscriber {sb.index}: {sb.dup_without_flag} redeliveries with DUP=0 "
            f"(MQTT-3.3.1-1)")
        if qos == 1 and reconnecting:
            pass    # QoS 1: redeliveries (DUP=1) of what was unacknowledged are allowed
        else:
            assert sb.duplicates == 0, (
                f"subscriber {sb.index}: {sb.duplicates} duplicates "
                f"({sb.dup_flag_duplicates} with DUP=1) at QoS {qos}")
        if not reconnecting:
            assert sb.qos2_redelivered == 0
        assert not sb.awaiting_rel


@pytest.mark.parametrize("qos", [1, 2])
def test_cross_worker_exchange(broker_factory, qos):
    broker = broker_factory(threads=THREADS)
    pubs, subs, used = _exchange(broker, qos, THREADS, MESSAGES, f"q{qos}")
    assert len(used) >= 2, f"all clients on worker(s) {used}"
    _check(pubs, subs, qos, MESSAGES // PUBS, broker.log())
    assert broker.alive()


def test_cross_worker_two_threads(broker_factory):
    """The same exchange, smaller, with 2 workers and QoS 1 and 2 in one broker."""
    broker = broker_factory(threads=2)
    n = max(PUBS, MESSAGES // 10)
    for qos in (1, 2):
        pubs, subs, used = _exchange(broker, qos, 2, n, f"t2q{qos}")
        assert len(used) == 2, f"all clients on worker {used}"
        _check(pubs, subs, qos, n // PUBS, broker.log())
    assert broker.alive()


@pytest.mark.parametrize("qos", [1, 2])
def test_cross_worker_subscribers_reconnect(broker_factory, qos):
    """Persistent subscribers (clean session 0) drop their connection abruptly every
    KILL_EVERY deliveries, with the acknowledgements of the last chunk unsent, and come
    back: nothing may be lost, order per publisher kept, redeliveries carry DUP=1, and
    at QoS 2 nothing is delivered twice (MQTT-4.4.0-1, 4.3.3)."""
    broker = broker_factory(threads=THREADS)
    n = max(PUBS, MESSAGES // 5)
    kill_every = max(1, n // 8)
    pubs, subs, used = _exchange(broker, qos, THREADS, n, f"rc{qos}", kill_every=kill_every)
    assert len(used) >= 2, f"all clients on worker(s) {used}"
    assert all(sb.reconnects >= 5 for sb in subs), [sb.reconnects for sb in subs]
    _check(pubs, subs, qos, n // PUBS, broker.log(), reconnecting=True)
    assert broker.alive()
