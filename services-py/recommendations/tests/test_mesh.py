"""The adapter's two bridges, on moleculerpy's own objects (no server needed)."""

import asyncio
import json

import moleculerpy.transit
import moleculerpy.transporter.base
import moleculerpy.transporter.nats
import pytest
from moleculerpy import ServiceBroker, Settings
from moleculerpy.packet import Packet, Topic

from recommendations.mesh import NamespacedNats, join_mesh, topic_prefix


@pytest.fixture
def broker():
    return ServiceBroker("py-1", settings=Settings(transporter="nats://127.0.0.1:4222"))


def test_moleculerpy_alone_ignores_the_namespace(broker):
    # What bridge 2 exists for: if moleculerpy fixes it, mesh.py can shrink.
    assert broker.transit.transporter.get_topic_name("INFO", "n1") == "MOL.INFO.n1"


def test_the_subjects_carry_the_namespace_as_moleculer_writes_them(broker):
    join_mesh(broker, "nats://127.0.0.1:4222", "shop-a")
    transporter = broker.transit.transporter
    assert isinstance(transporter, NamespacedNats)
    assert transporter.get_topic_name("REQ", "node-7") == "MOL-shop-a.REQ.node-7"
    assert transporter.get_topic_name("DISCOVER") == "MOL-shop-a.DISCOVER"
    assert transporter.get_topic_name("EVENT", "py-1") == "MOL-shop-a.EVENT.py-1"
    # The incoming subject parses back to its packet type.
    assert Packet.from_topic("MOL-shop-a.EVENT.py-1") is Topic.EVENT


def test_without_a_namespace_the_subjects_are_moleculers_default():
    assert topic_prefix(None) == "MOL"
    assert topic_prefix("") == "MOL"
    assert topic_prefix("prod") == "MOL-prod"


def test_every_module_that_stamps_or_checks_the_version_says_5(broker):
    join_mesh(broker, "nats://127.0.0.1:4222", "shop-a")
    for module in (moleculerpy.transit, moleculerpy.transporter.base, moleculerpy.transporter.nats):
        assert module.PROTOCOL_VERSION == "5", module.__name__


def test_published_packets_are_stamped_version_5_on_the_namespaced_subject(broker):
    join_mesh(broker, "nats://127.0.0.1:4222", "shop-a")
    transporter = broker.transit.transporter
    sent: list[tuple[str, dict]] = []

    async def capture(topic, data, _meta):
        sent.append((topic, json.loads(data)))

    transporter.send = capture
    transporter._is_connected = lambda: True
    packet = Packet(Topic.HEARTBEAT, None, {"cpu": 3})
    asyncio.run(transporter.publish(packet))
    assert sent == [("MOL-shop-a.HEARTBEAT", {"cpu": 3, "ver": "5", "sender": "py-1"})]


def test_refuses_a_transporter_other_than_nats(broker):
    with pytest.raises(ValueError, match="nats://"):
        join_mesh(broker, "redis://127.0.0.1:6379", "shop-a")
