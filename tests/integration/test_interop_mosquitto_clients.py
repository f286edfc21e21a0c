"""Interop with Debian's mosquitto-clients (mosquitto_pub / mosquitto_sub).

mosquitto_sub runs in the background with -d (its debug lines tell us when the SUBACK
arrived, so no sleeps) and `stdbuf -oL` (its stdout is block-buffered on a pipe
otherwise). Received messages are printed with -F as one line:
    MSG|topic|qos|retain|payload-in-hex
Every subprocess is bounded by a timeout; all traffic goes to 127.0.0.1.
"""
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import SLOW

pytestmark = pytest.mark.skipif(
    not (shutil.which("mosquitto_sub") and shutil.which("mosquitto_pub")),
    reason="mosquitto-clients not installed")

T = 10.0 * SLOW
QUIET = 0.5 * SLOW
FMT = "MSG|%t|%q|%r|%x"
_MSG_RE = re.compile(r"^MSG\|(.*)\|(\d)\|(\d)\|([0-9a-f]*)$")


class Sub:
    """mosquitto_sub running in the background, printing each message with -F FMT;
    parse() turns such a line into a message (test_mqtt5_mosquitto_clients.py has a
    subclass with a 5.0 format)."""
    FMT = FMT

    def __init__(self, broker, *args):
        cmd = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-d", "-F", self.FMT,
               *[str(a) for a in args]]
        if shutil.which("stdbuf"):
            cmd = ["stdbuf", "-oL"] + cmd   # stdbuf execs: the pid is mosquitto_sub's
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def output(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_line(self, pattern, count=1, timeout=T):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [m for m in map(rx.search, self.lines) if m]
                if len(hits) >= count:
                    return hits[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    raise AssertionError(f"mosquitto_sub: no line {pattern!r} (x{count}) in:\n"
                                         + "\n".join(self.lines))
                self.cond.wait(left)

    def wait_subscribed(self, count=1):
        """Waits for the SUBACK(s); returns the granted QoS list of the last one."""
        m = self.wait_line(r"^Subscribed \(mid: \d+\): ([\d, ]+)$", count)
        return [int(x) for x in m.group(1).split(",")]

    @staticmethod
    def parse(line):
        """A message line -> (topic, qos, retain, payload bytes); None for other lines."""
        m = _MSG_RE.match(line)
        if m:
            return m.group(1), int(m.group(2)), int(m.group(3)), bytes.fromhex(m.group(4))
        return None

    def messages(self):
        """The messages received so far, as parse() returns them."""
        with self.cond:
            lines = list(self.lines)
        return [m for m in map(self.parse, lines) if m is not None]

    def wait_messages(self, n, timeout=T):
        self.wait_line(r"^MSG\|", n, timeout)
        return self.messages()

    def finish(self, timeout=T):
        """Waits for mosquitto_sub to exit by itself (-C / -E / -W); returns rc."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("mosquitto_sub did not exit:\n" + self.output())
        deadline = time.monotonic() + T
        with self.cond:
            while not self.eof and time.monotonic() < deadline:
                self.cond.wait(0.1)
        return rc

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(T)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def sub(broker):
    """sub(*args, broker=None) -> Sub connected to the default broker or the one given;
    all killed at teardown."""
    started = []

    def make(*args, broker=broker):
        s = Sub(broker, *args)
        started.append(s)
        return s

    yield make
    for s in started:
        s.kill()


def pub(broker, *args, input=None, check=True):
    """Runs mosquitto_pub to completion; returns its output as text."""
    cmd = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port),
           *[str(a) for a in args]]
    r = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=T)
    out = r.stdout.decode(errors="replace")
    if check:
        assert r.returncode == 0, f"{cmd} -> {r.returncode}:\n{out}"
    return out


@pytest.mark.parametrize("pub_qos,sub_qos", [(0, 0), (1, 1), (2, 2), (2, 1), (1, 2), (2, 0)])
def test_qos_levels(broker, sub, pub_qos, sub_qos):
    topic = f"mc/qos/{pub_qos}{sub_qos}"
    s = sub("-V", "mqttv311", "-q", sub_qos, "-t", topic, "-C", 2)
    assert s.wait_subscribed() == [sub_qos]
    pub(broker, "-V", "mqttv311", "-q", pub_qos, "-t", topic, "-m", "hello mosquitto")
    pub(broker, "-V", "mqttv311", "-q", pub_qos, "-t", topic, "-m", "second")
    assert s.finish() == 0
    q = min(pub_qos, sub_qos)
    assert s.messages() == [(topic, q, 0, b"hello mosquitto"), (topic, q, 0, b"second")]
    # The QoS on the wire, as mosquitto_sub's debug line reports it.
    assert len(re.findall(rf"received PUBLISH \(d0, q{q}, r0, m\d+, '{topic}'",
                          s.output())) == 2


@pytest.mark.parametrize("version,level", [("mqttv31", 3), ("mqttv311", 4)])
def test_protocol_versions(broker, sub, version, level):
    s = sub("-V", version, "-i", f"mc-sub-{version}", "-q", 2, "-t", "mc/ver/#", "-C", 3)
    assert s.wait_subscribed() == [2]
    for q in (0, 1, 2):
        pub(broker, "-V", version, "-i", f"mc-pub-{version}-{q}", "-q", q,
            "-t", f"mc/ver/{q}", "-m", f"{version} qos{q}")
    assert s.finish() == 0
    assert s.messages() == [(f"mc/ver/{q}", q, 0, f"{version} qos{q}".encode())
                            for q in (0, 1, 2)]
    broker.wait_log(rf"as mc-sub-{version} \(p{level}, c1, k60, w\d+\)")
    broker.wait_log(rf"as mc-pub-{version}-2 \(p{level}, c1, k60, w\d+\)")


def test_client_ids_and_keepalive(broker, sub):
    s = sub("-i", "mc-ident-sub", "-k", 30, "-t", "mc/ident", "-E")
    assert s.finish() == 0
    pub(broker, "-i", "mc-ident-pub", "-k", 45, "-t", "mc/ident", "-m", "x")
    broker.wait_log(r"as mc-ident-sub \(p4, c1, k30, w\d+\)")
    broker.wait_log(r"as mc-ident-pub \(p4, c1, k45, w\d+\)")


def test_retained_with_v(broker, sub):
    pub(broker, "-r", "-q", 1, "-t", "mc/ret/a", "-m", "retained one")
    # Plain `mosquitto_sub -v`: "topic payload".
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port),
                        "-t", "mc/ret/#", "-v", "-C", "1", "-W", str(int(T))],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=T + 5)
    assert r.returncode == 0, r.stdout
    assert r.stdout == b"mc/ret/a retained one\n"

    # The retain flag is set on the stored copy, not on a live delivery.
    s = sub("-q", 1, "-t", "mc/ret/#", "-C", 2)
    assert s.wait_subscribed() == [1]
    s.wait_messages(1)
    pub(broker, "-r", "-q", 1, "-t", "mc/ret/a", "-m", "retained two")
    assert s.finish() == 0
    assert s.messages() == [("mc/ret/a", 1, 1, b"retained one"),
                            ("mc/ret/a", 1, 0, b"retained two")]

    # -n with -r clears it: a new subscriber gets nothing.
    pub(broker, "-r", "-q", 1, "-t", "mc/ret/a", "-n")
    s2 = sub("-q", 1, "-t", "mc/ret/#", "-t", "mc/ret-sentinel", "-C", 1)
    s2.wait_subscribed()
    pub(broker, "-q", 1, "-t", "mc/ret-sentinel", "-m", "s")
    assert s2.finish() == 0
    assert s2.messages() == [("mc/ret-sentinel", 1, 0, b"s")]


def test_message_and_file_payloads(broker, sub, tmp_path):
    small = bytes(range(256))
    big = os.urandom(300_000)            # remaining length needs a 3-byte varint
    (tmp_path / "small.bin").write_bytes(small)
    (tmp_path / "big.bin").write_bytes(big)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    text = "héllo wörld ✓ with spaces"

    s = sub("-q", 1, "-t", "mc/payload", "-C", 5)
    assert s.wait_subscribed() == [1]
    pub(broker, "-q", 1, "-t", "mc/payload", "-m", text)
    pub(broker, "-q", 1, "-t", "mc/payload", "-f", tmp_path / "small.bin")
    pub(broker, "-q", 2, "-t", "mc/payload", "-f", tmp_path / "big.bin")
    pub(broker, "-q", 1, "-t", "mc/payload", "-n")
    pub(broker, "-q", 0, "-t", "mc/payload", "-f", empty)
    assert s.finish() == 0
    got = [m[3] for m in s.messages()]
    assert got == [text.encode(), small, big, b"", b""]


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_line_mode(broker, sub, qos):
    lines = [f"line {i:03d} " + "x" * (i % 17) for i in range(200)]
    s = sub("-q", 2, "-t", "mc/lines", "-C", len(lines))
    assert s.wait_subscribed() == [2]
    pub(broker, "-q", qos, "-t", "mc/lines", "-l",
        input=("\n".join(lines) + "\n").encode())
    assert s.finish(timeout=3 * T) == 0
    msgs = s.messages()
    assert [m[3].decode() for m in msgs] == lines   # all, once, in order
    assert {m[1] for m in msgs} == {qos}


def test_will_on_kill9(broker, sub):
    watcher = sub("-q", 1, "-t", "mc/will/#", "-C", 1)
    assert watcher.wait_subscribed() == [1]
    dying = sub("-i", "mc-will-dying", "-t", "mc/will-unused",
                "--will-topic", "mc/will/dying", "--will-payload", "killed",
                "--will-qos", 1)
    dying.wait_subscribed()
    dying.kill(signal.SIGKILL)      # the socket closes without DISCONNECT
    assert watcher.finish() == 0
    assert watcher.messages() == [("mc/will/dying", 1, 0, b"killed")]


def test_will_retained_on_kill9(broker, sub):
    dying = sub("-i", "mc-will-ret", "-t", "mc/will-unused",
                "--will-topic", "mc/willret/state", "--will-payload", "offline",
                "--will-qos", 2, "--will-retain")
    dying.wait_subscribed()
    dying.kill(signal.SIGKILL)
    # The retained will, picked up by a subscriber that comes later.
    deadline = time.monotonic() + T
    while True:
        s = sub("-q", 2, "-t", "mc/willret/#", "-C", 1, "-W", 1)
        s.finish(timeout=T)
        if s.messages() or time.monotonic() > deadline:
            break
    assert s.messages() == [("mc/willret/state", 2, 1, b"offline")]


def test_no_will_on_clean_exit(broker, sub):
    watcher = sub("-q", 1, "-t", "mc/nowill/#", "-C", 1)
    assert watcher.wait_subscribed() == [1]
    polite = sub("-i", "mc-nowill", "-t", "mc/nowill-unused", "-E",
                 "--will-topic", "mc/nowill/polite", "--will-payload", "should not see",
                 "--will-qos", 1)
    assert polite.finish() == 0       # -E: DISCONNECT once subscribed
    pub(broker, "-q", 1, "-t", "mc/nowill/sentinel", "-m", "sentinel")
    assert watcher.finish() == 0
    assert watcher.messages() == [("mc/nowill/sentinel", 1, 0, b"sentinel")]


def test_persistent_session_c(broker, sub):
    # Subscribe with a persistent session, then leave (-E: exit once subscribed).
    first = sub("-c", "-i", "mc-persist", "-q", 1, "-t", "mc/persist/#", "-E")
    assert first.finish() == 0
    # Published while mc-persist is offline: queued for it (QoS 1).
    pub(broker, "-q", 1, "-t", "mc/persist/a", "-l",
        input=b"".join(b"queued %d\n" % i for i in range(20)))
    pub(broker, "-q", 2, "-t", "mc/persist/b", "-m", "queued qos2")
    # Back with -c: the queued messages arrive, in order.
    again = sub("-c", "-i", "mc-persist", "-q", 1, "-t", "mc/persist/#", "-C", 21)
    assert again.finish() == 0
    msgs = again.messages()
    assert [m[3] for m in msgs] == [b"queued %d" % i for i in range(20)] + [b"queued qos2"]
    assert {m[1] for m in msgs} == {1}
    # Without -c (clean session) the session is dropped: nothing is queued afterwards.
    clean = sub("-i", "mc-persist", "-q", 1, "-t", "mc/persist/#", "-E")
    assert clean.finish() == 0
    pub(broker, "-q", 1, "-t", "mc/persist/a", "-m", "not queued")
    back = sub("-c", "-i", "mc-persist", "-q", 1, "-t", "mc/persist/#", "-t", "mc/persist-s",
               "-C", 1)
    back.wait_subscribed()
    pub(broker, "-q", 1, "-t", "mc/persist-s", "-m", "sentinel")
    assert back.finish() == 0
    assert back.messages() == [("mc/persist-s", 1, 0, b"sentinel")]


def test_wildcards_and_multiple_topics(broker, sub):
    s = sub("-q", 1, "-t", "mc/w/+/x", "-t", "mc/other/#", "-C", 3)
    assert s.wait_subscribed() == [1, 1]
    for t in ("mc/w/a/x", "mc/w/a/y", "mc/w/a/x/deeper", "mc/other", "mc/other/1/2"):
        pub(broker, "-q", 1, "-t", t, "-m", t)
    assert s.finish() == 0
    assert [m[0] for m in s.messages()] == ["mc/w/a/x", "mc/other", "mc/other/1/2"]


def test_sub_timeout_W(broker, sub):
    """-W: mosquitto_sub gives up when nothing comes; the broker copes with it leaving."""
    t0 = time.monotonic()
    s = sub("-t", "mc/nothing", "-W", 1, "-C", 1)
    rc = s.finish(timeout=T)
    assert rc != 0 and s.messages() == []
    assert time.monotonic() - t0 < T
    pub(broker, "-t", "mc/nothing", "-m", "still alive")
