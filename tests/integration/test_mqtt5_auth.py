"""MQTT 5.0 enhanced authentication with SCRAM-SHA-256, raw bytes (5.0 §4.12,
§3.15; RFC 5802 / RFC 7677; docs/mqtt5.md "Enhanced authentication").

The SCRAM client here is written from RFC 5802 with hashlib/hmac; the credential
file is computed here too (no broker tool involved)."""
import base64
import hashlib
import hmac
import os

import pytest

import mqtt5_raw as m5
from mqtt5_raw import Client5, connected5

METHOD = "SCRAM-SHA-256"
ITERATIONS = 4096


def b64(b):
    return base64.b64encode(b).decode()


def H(b):
    return hashlib.sha256(b).digest()


def HMAC(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def credential_line(user, password, salt=None, iterations=ITERATIONS):
    """username:iterations:salt-b64:StoredKey-b64:ServerKey-b64 (RFC 5802 §3)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = H(HMAC(salted, b"Client Key"))
    server_key = HMAC(salted, b"Server Key")
    return f"{user}:{iterations}:{b64(salt)}:{b64(stored_key)}:{b64(server_key)}\n"


class Scram:
    """One SCRAM-SHA-256 client conversation (no channel binding: gs2 header "n,,")."""

    def __init__(self, user, password):
        self.user, self.password = user, password
        self.cnonce = b64(os.urandom(18))
        self.client_first_bare = f"n={user},r={self.cnonce}"

    def client_first(self):
        return ("n,," + self.client_first_bare).encode()

    def client_final(self, server_first):
        """server-first-message (bytes) -> client-final-message (bytes)."""
        self.server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in self.server_first.split(","))
        nonce, salt, iters = attrs["r"], base64.b64decode(attrs["s"]), int(attrs["i"])
        assert nonce.startswith(self.cnonce) and len(nonce) > len(self.cnonce), \
            f"server nonce does not extend the client's: {self.server_first}"
        self.iterations = iters
        without_proof = f"c={b64(b'n,,')},r={nonce}"
        self.auth_message = ",".join([self.client_first_bare, self.server_first,
                                      without_proof]).encode()
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iters)
        client_key = HMAC(salted, b"Client Key")
        signature = HMAC(H(client_key), self.auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_signature = HMAC(HMAC(salted, b"Server Key"), self.auth_message)
        return f"{without_proof},p={b64(proof)}".encode()

    def verify_server_final(self, server_final):
        text = server_final.decode()
        assert text.startswith("v="), f"server-final-message {text!r}"
        assert base64.b64decode(text[2:]) == self.server_signature, \
            "server signature does not verify: the server does not know the key"


@pytest.fixture
def scram_broker(broker_factory, tmp_path):
    """A broker with users alice/wonderland and bob/builder in scram_file."""
    def make(extra=""):
        f = tmp_path / "scram.txt"
        f.write_text(credential_line("alice", "wonderland") + credential_line("bob", "builder"))
        return broker_factory(config=f"scram_file {f}\n{extra}", threads=2)
    return make


def start(c, scram, cid="", **kw):
    """Sends CONNECT with SCRAM's client-first-message; returns the first reply."""
    c.send(m5.connect5(cid, props={m5.AUTHENTICATION_METHOD: METHOD,
                                   m5.AUTHENTICATION_DATA: scram.client_first()}, **kw))
    return c.recv_packet()


def continue_auth(c, p, scram):
    """p: the server's AUTH 0x18 with server-first; answers with client-final."""
    reason, props = m5.decode_auth(p)
    assert reason == 0x18, f"AUTH reason {reason:#x} [MQTT-4.12.0-2]"
    assert props[m5.AUTHENTICATION_METHOD] == METHOD  # [MQTT-4.12.0-5]
    final = scram.client_final(props[m5.AUTHENTICATION_DATA])
    c.auth(0x18, {m5.AUTHENTICATION_METHOD: METHOD, m5.AUTHENTICATION_DATA: final})


def scram_connect(broker, user, password, cid="scram-client"):
    """The full exchange; returns (client, scram, CONNACK reason, CONNACK props)."""
    c = Client5(broker, cid)
    s = Scram(user, password)
    p = start(c, s, cid)
    if p.type == m5.AUTH:
        continue_auth(c, p, s)
        p = c.recv_packet()
    sp, reason, props = m5.decode_connack(p)
    return c, s, reason, props


def test_scram_success(scram_broker):
    """CONNECT (method SCRAM-SHA-256, client-first) -> AUTH 0x18 (server-first, the
    file's iteration count) -> AUTH 0x18 (client-final) -> CONNACK 0x00 carrying the
    method [MQTT-4.12.0-5] and the server-final-message, whose signature verifies.
    The connection then works."""
    b = scram_broker()
    c = Client5(b, "alice-c")
    s = Scram("alice", "wonderland")
    p = start(c, s, "alice-c")
    assert p.type == m5.AUTH, f"expected AUTH, got {p!r} [MQTT-4.12.0-2]"
    continue_auth(c, p, s)
    assert s.iterations == ITERATIONS
    sp, reason, props = m5.decode_connack(c.recv_packet())
    assert reason == 0x00, f"CONNACK {reason:#x} {props}"
    assert props[m5.AUTHENTICATION_METHOD] == METHOD
    s.verify_server_final(props[m5.AUTHENTICATION_DATA])
    assert c.subscribe([("scram/t", m5.sub_opts(1))]) == [1]
    c.publish("scram/t", b"authenticated", qos=1)
    assert c.recv_publish().payload == b"authenticated"
    c.disconnect()


def test_scram_wrong_password(scram_broker):
    """A wrong password: the proof does not verify: CONNACK 0x87 (Not authorized) and
    close [MQTT-4.12.0-4]."""
    b = scram_broker()
    c, s, reason, props = scram_connect(b, "alice", "not-wonderland")
    assert reason == 0x87
    assert m5.AUTHENTICATION_DATA not in props or not props[m5.AUTHENTICATION_DATA] \
        .startswith(b"v="), "a server-final-message for a failed proof"
    c.expect_closed(allowed=())


def test_scram_unknown_user(scram_broker):
    """An unknown user: CONNACK 0x87, at once or after a (fake) challenge."""
    b = scram_broker()
    c, s, reason, _ = scram_connect(b, "mallory", "whatever")
    assert reason == 0x87
    c.expect_closed(allowed=())


def test_scram_reauthentication(scram_broker):
    """Re-authentication on a live connection [MQTT-4.12.1-1]: AUTH 0x19 (same
    method, a new client-first) -> AUTH 0x18 -> AUTH 0x18 -> AUTH 0x00 carrying a
    verifiable server-final-message; the connection stays usable."""
    b = scram_broker()
    c, _, reason, _ = scram_connect(b, "bob", "builder", "bob-c")
    assert reason == 0
    s2 = Scram("bob", "builder")
    c.auth(0x19, {m5.AUTHENTICATION_METHOD: METHOD, m5.AUTHENTICATION_DATA: s2.client_first()})
    continue_auth(c, c.expect(m5.AUTH), s2)
    reason, props = c.expect_auth()
    assert reason == 0x00
    assert props[m5.AUTHENTICATION_METHOD] == METHOD  # [MQTT-4.12.0-5]
    s2.verify_server_final(props[m5.AUTHENTICATION_DATA])
    c.ping()
    c.disconnect()


def test_scram_reauthentication_wrong_password(scram_broker):
    """Re-authentication that fails: DISCONNECT 0x87 [MQTT-4.12.1-2]."""
    b = scram_broker()
    c, _, reason, _ = scram_connect(b, "bob", "builder", "bob-bad")
    assert reason == 0
    s2 = Scram("bob", "wrong")
    c.auth(0x19, {m5.AUTHENTICATION_METHOD: METHOD, m5.AUTHENTICATION_DATA: s2.client_first()})
    continue_auth(c, c.expect(m5.AUTH), s2)
    c.expect_disconnect(0x87)


def test_auth_without_enhanced_authentication(broker):
    """AUTH on a connection that did not use enhanced authentication is a Protocol
    Error [MQTT-4.12.0-7]: DISCONNECT 0x82."""
    c = connected5(broker, "plain")
    c.auth(0x19, {m5.AUTHENTICATION_METHOD: METHOD, m5.AUTHENTICATION_DATA: b"n,,n=x,r=y"})
    c.expect_disconnect(0x82)


def test_scram_with_allow_anonymous_false(scram_broker):
    """allow_anonymous false with scram_file: a SCRAM-authenticated client gets in,
    an anonymous one is refused with 0x87."""
    b = scram_broker("allow_anonymous false\n")
    c, s, reason, props = scram_connect(b, "alice", "wonderland", "alice-strict")
    assert reason == 0
    s.verify_server_final(props[m5.AUTHENTICATION_DATA])
    c.ping()
    c.disconnect()
    Client5(b, "anon").connect_refused(0x87, "anon")
