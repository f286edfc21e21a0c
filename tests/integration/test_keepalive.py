"""Keep alive and PINGREQ/PINGRESP (MQTT 3.1.1 §3.1.2.10, §3.12, §3.13)."""
import time

import mqtt_raw as mq
from mqtt_raw import SLOW, connected


def test_silent_client_closed(broker):
    """Keepalive 1: a client that sends nothing is disconnected after 1.5 x keepalive
    [MQTT-3.1.2-24]: not before 1 s, and within 4 s."""
    c = connected(broker, "ka-silent", keepalive=1)
    t0 = time.monotonic()
    c.expect_closed(timeout=4, allowed=())
    dt = time.monotonic() - t0
    assert dt >= 1.0, f"closed after {dt:.2f}s: earlier than 1.5 x keepalive"
    assert dt <= 4 * SLOW


def test_pingresp_bytes(broker):
    """PINGREQ `c0 00` -> PINGRESP `d0 00` [MQTT-3.12.4-1]."""
    c = connected(broker, "ping")
    for _ in range(3):
        c.send(b"\xc0\x00")
        assert c.recv_packet().raw == b"\xd0\x00"
    c.send(b"\xc0\x00" * 10)
    for _ in range(10):
        assert c.recv_packet().raw == b"\xd0\x00"


def test_pinging_client_stays(broker):
    """Keepalive 1 with a PINGREQ every 0.5 s: still connected after 3 s."""
    c = connected(broker, "ka-ping", keepalive=1)
    end = time.monotonic() + 3
    while time.monotonic() < end:
        c.ping()
        time.sleep(0.5)
    c.ping()


def test_other_traffic_counts_as_activity(broker):
    """Keepalive counts any control packet, not only PINGREQ (§3.1.2.10): a client
    that publishes QoS 0 every 0.5 s stays connected for 3 s."""
    c = connected(broker, "ka-pub", keepalive=1)
    end = time.monotonic() + 3
    while time.monotonic() < end:
        c.publish("ka/t", b"tick")
        time.sleep(0.5)
    c.ping()


def test_keepalive_zero_never_times_out(broker):
    """Keepalive 0 turns the mechanism off (§3.1.2.10): a silent client stays 3 s;
    a keepalive-1 client next to it is closed meanwhile."""
    c = connected(broker, "ka-zero", keepalive=0)
    other = connected(broker, "ka-one", keepalive=1)
    other.expect_closed(timeout=4, allowed=())
    time.sleep(max(0.0, 3 - 1.5))
    assert c.is_open(0.1)
    c.ping()


def test_pingreq_with_payload_is_malformed(broker):
    """PINGREQ has no variable header or payload: remaining length 1 is malformed
    (§3.12)."""
    c = connected(broker, "ping-bad")
    c.raw(b"\xc0\x01\x00")
    c.expect_closed(allowed=())
    mq.broker_serves(broker)
