"""$SYS/broker/... statistics (Mosquitto's topic names), published retained every
sys_interval seconds; clients cannot publish into $SYS/."""
import time

from conftest import SLOW
from mqtt_raw import MQTTTimeout, connected


def wait_for(sub, topic, pred, timeout=4.0):
    """Reads $SYS messages until `topic` has a payload satisfying pred."""
    deadline = time.monotonic() + timeout * SLOW
    last = None
    while time.monotonic() < deadline:
        try:
            m = sub.recv_publish(timeout=0.5)
        except MQTTTimeout:
            continue
        if m.topic == topic:
            last = m.payload.decode()
            if pred(last):
                return last
    raise AssertionError(f"{topic}: last value {last!r}")


def test_sys_topics_published_and_retained(broker_factory):
    b = broker_factory(config="sys_interval 1\n", threads=2)
    sub = connected(b, "sysmon")
    assert sub.subscribe([("$SYS/broker/#", 0)]) == [0]
    assert wait_for(sub, "$SYS/broker/version", lambda v: v.startswith("starling version"))
    wait_for(sub, "$SYS/broker/clients/connected", lambda v: int(v) >= 1)
    pub = connected(b, "syspub")
    for i in range(5):
        pub.publish("plain/t", b"x", qos=1)
    wait_for(sub, "$SYS/broker/publish/messages/received", lambda v: int(v) >= 5)
    wait_for(sub, "$SYS/broker/clients/connected", lambda v: int(v) >= 2)
    wait_for(sub, "$SYS/broker/subscriptions/count", lambda v: int(v) >= 1)
    assert int(wait_for(sub, "$SYS/broker/uptime", lambda v: v.endswith(" seconds"))
               .split()[0]) >= 0
    # Retained: a late subscriber gets the current values at once.
    late = connected(b, "late")
    late.subscribe([("$SYS/broker/version", 0)])
    m = late.recv_publish(timeout=2)
    assert m.retain and m.payload.startswith(b"starling version")


def test_clients_cannot_publish_to_sys(broker_factory):
    b = broker_factory(config="sys_interval 1\n", threads=2)
    sub = connected(b, "watch")
    sub.subscribe([("$SYS/broker/version", 0)])
    sub.recv_publish(timeout=3)  # the broker's own value
    fake = connected(b, "faker")
    fake.publish("$SYS/broker/version", b"fake", qos=1, retain=True)  # acked
    # $SYS is republished every second, so read for a fixed time (two updates).
    got = []
    deadline = time.monotonic() + 2.5 * SLOW
    while time.monotonic() < deadline:
        try:
            got.append(sub.recv_publish(timeout=0.3).payload)
        except MQTTTimeout:
            pass
    assert got and b"fake" not in got


def test_sys_interval_zero_disables(broker_factory):
    b = broker_factory(config="sys_interval 0\n", threads=2)
    sub = connected(b, "nosys")
    sub.subscribe([("$SYS/#", 0)])
    sub.expect_no_publish(timeout=1.5)
