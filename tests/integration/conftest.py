"""Integration-test harness: start the real starling binary on a free port.

The broker is given `listener 0 127.0.0.1` so the kernel picks a free port; the
broker logs "listening on 127.0.0.1:PORT" and the harness reads the port from that
line (no race between choosing a port and binding it). On stop the harness sends
SIGTERM and fails the test if the broker did not exit 0 or if a sanitizer
reported anything on stderr.
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

STARLING_BIN = os.environ.get(
    "STARLING_BIN",
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "starling"))
SANITIZED = bool(os.environ.get("SL_SANITIZE"))
# Sanitized builds are several times slower: scale timeouts with this.
SLOW = 3.0 if SANITIZED else 1.0

_LISTEN_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
_SANITIZER_RE = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                           r"WARNING: ThreadSanitizer)")


class Broker:
    def __init__(self, tmp_path, config="", threads=None, args=()):
        self.tmp_path = tmp_path
        self.config = config
        self.threads = threads
        self.args = list(args)
        self.proc = None
        self.port = None
        self.lines = []
        self._lock = threading.Lock()
        self._port_ready = threading.Event()

    def start(self, timeout=10.0):
        conf = self.tmp_path / f"starling-{id(self)}.conf"
        text = "listener 0 127.0.0.1\nlog_type all\n"
        if self.threads is not None:
            text += f"threads {self.threads}\n"
        text += self.config
        conf.write_text(text)
        self.conf_path = conf
        self.proc = subprocess.Popen([STARLING_BIN, "-c", str(conf)] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        threading.Thread(target=self._reader, daemon=True).start()
        if not self._port_ready.wait(timeout * SLOW):
            self.proc.kill()
            raise RuntimeError("broker did not start:\n" + self.log())
        return self

    def _reader(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
            m = _LISTEN_RE.search(line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self._port_ready.set()

    def log(self):
        with self._lock:
            return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=5.0):
        """Waits until a log line matches the regex; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            with self._lock:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
            time.sleep(0.02)
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.log()}")

    def connect(self, timeout=5.0):
        """A plain TCP socket to the broker."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout * SLOW)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20.0):
        """SIGTERM; returns the exit code. Raises if the broker crashed or a
        sanitizer complained."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("broker did not exit on SIGTERM:\n" + self.log()[-5000:])
        time.sleep(0.05)  # let the reader thread drain the pipe
        rc = self.proc.returncode
        proc, self.proc = self.proc, None
        text = self.log()
        if _SANITIZER_RE.search(text):
            raise AssertionError("sanitizer report:\n" + text[-20000:])
        if rc != 0:
            raise AssertionError(f"broker exited with {rc}:\n" + text[-5000:])
        return rc


@pytest.fixture
def broker_factory(tmp_path):
    """broker_factory(config="...", threads=N) -> started Broker. All are stopped
    (and checked for crashes/sanitizer reports) at the end of the test."""
    started = []

    def make(config="", threads=None, args=()):
        b = Broker(tmp_path, config=config, threads=threads, args=args).start()
        started.append(b)
        return b

    yield make
    errors = []
    for b in started:
        try:
            b.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors))


@pytest.fixture
def broker(broker_factory):
    """A broker with default settings and 2 worker threads."""
    return broker_factory(threads=2)
