"""The command line and start-up behaviour: --help, --version, --test-config,
config errors with file:line, -p, threads, a port already taken, listeners on host
names, max_connections, clean shutdown."""
import os
import socket
import subprocess
import time

from conftest import SLOW, STARLING_BIN
from mqtt_raw import Client


def run(*args, timeout=10):
    return subprocess.run([STARLING_BIN, *args], capture_output=True, text=True,
                          timeout=timeout * SLOW)


def test_help_and_version():
    r = run("--help")
    assert r.returncode == 0
    for opt in ("-c", "-p", "-v", "--test-config", "--version"):
        assert opt in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("starling ")


def test_unknown_option_fails():
    r = run("--no-such-option")
    assert r.returncode == 2
    assert "unknown option" in r.stderr


def test_test_config_ok_and_errors(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("listener 1883 127.0.0.1\nmax_inflight_messages 10\n")
    r = run("--test-config", "-c", str(good))
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout

    bad = tmp_path / "bad.conf"
    bad.write_text("listener 1883 127.0.0.1\n\nno_such_directive 1\n")
    r = run("--test-config", "-c", str(bad))
    assert r.returncode != 0
    assert f"{bad}:3:" in r.stderr and "no_such_directive" in r.stderr

    later = tmp_path / "later.conf"
    later.write_text("password_file /etc/passwd\n")
    r = run("--test-config", "-c", str(later))
    assert r.returncode != 0
    assert f"{later}:1:" in r.stderr and "not supported yet" in r.stderr


def test_shipped_config_is_valid():
    conf = os.path.join(os.path.dirname(__file__), "..", "..", "starling.conf")
    r = run("--test-config", "-c", conf)
    assert r.returncode == 0, r.stderr


def test_missing_config_file_fails(tmp_path):
    r = run("-c", str(tmp_path / "nope.conf"))
    assert r.returncode != 0
    assert "nope.conf" in r.stderr


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_running(*args):
    """Starts the broker outside the fixture; returns (process, its output up to
    the "running with" line). The caller terminates it."""
    p = subprocess.Popen([STARLING_BIN, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 10 * SLOW
    while time.monotonic() < deadline:
        lines.append(p.stdout.readline())
        if "running with" in lines[-1] or not lines[-1]:
            break
    return p, "".join(lines)


def test_port_option_and_threads(tmp_path):
    """-p sets the default listener's port; with no listener configured the
    default listener is loopback only."""
    conf = tmp_path / "t.conf"
    conf.write_text("threads 3\nlog_type all\n")
    port = free_port()
    p, text = start_running("-c", str(conf), "-p", str(port))
    try:
        assert f"listening on 127.0.0.1:{port}" in text, text
        assert "running with 3 worker threads" in text, text
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.close()
    finally:
        p.terminate()
        assert p.wait(10 * SLOW) == 0


class FixedPort:
    """What Client needs of a broker, for one started outside the fixture."""

    def __init__(self, port):
        self.port = port

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5 * SLOW)


def test_second_broker_on_the_same_port_fails(tmp_path):
    """Workers share a port through SO_REUSEPORT, which would also let a second
    broker started by the same user join it and silently take half of the new
    connections. The second one must refuse to start instead."""
    port = free_port()
    conf = tmp_path / "t.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nthreads 2\n")
    first, text = start_running("-c", str(conf))
    try:
        assert "running with" in text, text
        r = run("-c", str(conf))
        assert r.returncode != 0
        assert f"127.0.0.1:{port}" in r.stderr and "Address already in use" in r.stderr, r.stderr
        # Every connection still reaches the first broker.
        for i in range(20):
            c = Client(FixedPort(port), f"c{i}")
            c.connect_ok(f"c{i}")
            c.close()
    finally:
        first.terminate()
        assert first.wait(10 * SLOW) == 0


def test_listener_host_name(tmp_path):
    """Mosquitto configs often say `listener 1883 localhost`: a host name binds
    every address it resolves to (here at least 127.0.0.1); a name that does not
    resolve stops the start with a clear error."""
    port = free_port()
    conf = tmp_path / "t.conf"
    conf.write_text(f"listener {port} localhost\n")
    p, text = start_running("-c", str(conf))
    try:
        assert f"listening on 127.0.0.1:{port}" in text, text
        c = Client(FixedPort(port), "byname")
        c.connect_ok("byname")
        c.close()
    finally:
        p.terminate()
        assert p.wait(10 * SLOW) == 0
    conf.write_text(f"listener {port} no-such-host.invalid\n")
    r = run("-c", str(conf))
    assert r.returncode != 0
    assert "cannot resolve bind address 'no-such-host.invalid'" in r.stderr, r.stderr


def test_sigterm_exits_zero_with_clients(broker):
    """The fixture asserts exit status 0 and no sanitizer report at stop; here
    clients are still connected (persistent session, subscription, queued
    message) when the broker stops."""
    c = Client(broker, "held")
    c.connect_ok("held", clean=False)
    c.subscribe([("x/#", 1)])
    p = Client(broker, "p")
    p.connect_ok("p")
    p.publish("x/1", b"m", qos=1)
    broker.stop()


def test_max_connections(broker_factory):
    b = broker_factory(config="max_connections 3\n", threads=2)
    clients = []
    for i in range(3):
        c = Client(b, f"c{i}")
        c.connect_ok(f"c{i}")
        clients.append(c)
    extra = b.connect()
    extra.settimeout(5 * SLOW)
    # Refused at accept: the socket is closed without any MQTT exchange.
    try:
        data = extra.recv(10)
    except ConnectionResetError:
        data = b""
    assert data == b""
    b.wait_log(r"max_connections \(3\) reached")
    # A slot frees up when a client leaves.
    clients[0].close()
    deadline = time.monotonic() + 5 * SLOW
    while True:
        c = Client(b, "again")
        try:
            c.connect_ok("again")
            break
        except Exception:
            c.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_allow_anonymous_false_refuses_everyone(broker_factory):
    """Until password files exist (security issue) nobody can be authenticated,
    so allow_anonymous false refuses every client with CONNACK 5 (not
    authorized), with or without a user name, and closes."""
    b = broker_factory(config="allow_anonymous false\n", threads=2)
    for kw in ({}, {"username": "u", "password": b"p"}):
        c = Client(b, "anon")
        sp, rc = c.connect("anon", **kw)
        assert (sp, rc) == (False, 5)
        c.expect_closed()
    b.wait_log(r"refused connection .*allow_anonymous is false")
