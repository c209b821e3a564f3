"""The adapter between moleculerpy 0.14.22 and this mesh's moleculer 0.15 (Node).

Two bridges, both applied from here; moleculerpy itself is installed unmodified from PyPI.

1. Protocol version. moleculer 0.15 stamps every packet `ver: "5"` and drops packets of another
   version; moleculerpy stamps and expects "4" (a module constant imported by value into the
   transit and each transporter). `use_protocol_5()` rebinds that constant in every module that
   holds a copy. Nothing else in the packets had to change: moleculerpy already reads and writes
   the fields moleculer 0.15 sends (INFO's `seq`, `instanceID`, `metadata`, `client`; REQ's
   `stream`/`seq`, `caller`, `level`, `requestID`, `parentID`; EVENT's `groups` and `broadcast`;
   HEARTBEAT's `cpu`), and extra fields are ignored by both sides (checked by
   test/stack/recommendations.test.ts and tests/test_mesh.py).

2. Namespace. moleculer prefixes every NATS subject with `MOL-<namespace>` when NAMESPACE is set;
   moleculerpy's NATS transporter ignores its broker's namespace and always uses `MOL`, so it
   would only meet nodes of the default namespace. `NamespacedNats` is its NATS transporter with
   the prefix taken from the namespace, including the balanced subjects (REQB/EVENTB, used only
   with disable_balancer) that moleculerpy writes with a literal `MOL`.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

from moleculerpy.packet import Packet
from moleculerpy.serializers import to_packet_type
from moleculerpy.transporter.nats import NatsTransporter

if TYPE_CHECKING:
    from moleculerpy import ServiceBroker

#: The Moleculer protocol moleculer 0.15 speaks.
PROTOCOL_VERSION = "5"

#: Every moleculerpy module that copies PROTOCOL_VERSION at import time (the memory
#: transporter reads it from transporter.base when it sends).
_VERSIONED_MODULES = (
    "moleculerpy.transit",
    "moleculerpy.transporter.base",
    "moleculerpy.transporter.nats",
    "moleculerpy.transporter.amqp",
    "moleculerpy.transporter.tcp.tcp_transporter",
)


def use_protocol_5() -> None:
    """Makes moleculerpy send and accept Moleculer protocol 5 (bridge 1)."""
    for name in _VERSIONED_MODULES:
        module = importlib.import_module(name)
        if not hasattr(module, "PROTOCOL_VERSION"):
            raise RuntimeError(
                f"{name} has no PROTOCOL_VERSION: moleculerpy changed, review mesh.py"
            )
        module.PROTOCOL_VERSION = PROTOCOL_VERSION  # type: ignore[attr-defined]


def topic_prefix(namespace: str | None) -> str:
    """The subject prefix moleculer (Node) uses: `MOL-<namespace>`, or `MOL` without one."""
    return f"MOL-{namespace}" if namespace else "MOL"


class NamespacedNats(NatsTransporter):
    """moleculerpy's NATS transporter, on the namespace's subjects (bridge 2)."""

    def __init__(self, connection_string: str, namespace: str | None, **kwargs: Any) -> None:
        super().__init__(connection_string, **kwargs)
        # get_topic_name() (INFO, DISCOVER, REQ, RES, EVENT, HEARTBEAT…) reads self.prefix.
        self.prefix = topic_prefix(namespace)

    def _stamped(self, packet: Packet) -> dict[str, Any]:
        return {**packet.payload, "ver": PROTOCOL_VERSION, "sender": self.node_id}

    async def subscribe_balanced_request(self, action: str) -> None:
        sub = await self._client().subscribe(
            f"{self.prefix}.REQB.{action}", queue=action, cb=self.message_handler
        )
        self._balanced_subscriptions.append(sub)

    async def subscribe_balanced_event(self, event: str, group: str) -> None:
        subject = f"{self.prefix}.EVENTB.{group}.{re.sub(r'\*\*.*$', '>', event)}"
        sub = await self._client().subscribe(subject, queue=group, cb=self.message_handler)
        self._balanced_subscriptions.append(sub)

    async def publish_balanced_request(self, packet: Packet) -> None:
        await self._publish(f"{self.prefix}.REQB.{packet.payload['action']}", packet)

    async def publish_balanced_event(self, packet: Packet, group: str) -> None:
        await self._publish(f"{self.prefix}.EVENTB.{group}.{packet.payload['event']}", packet)

    async def _publish(self, subject: str, packet: Packet) -> None:
        assert self.transit is not None
        data = await self.transit.serializer.serialize_async(
            self._stamped(packet), packet_type=to_packet_type(packet.type.value)
        )
        await self.send_with_middleware(subject, data, {"packet": packet})

    def _client(self) -> Any:
        if self.nc is None:
            raise RuntimeError("Not connected to NATS server")
        return self.nc


def join_mesh(broker: ServiceBroker, url: str, namespace: str | None) -> None:
    """Puts both bridges on a broker built with a nats:// transporter, before it starts."""
    if not url.startswith("nats://"):
        raise ValueError(f"TRANSPORTER must be a nats:// URL, got {url.split('@')[-1]!r}")
    use_protocol_5()
    transit = broker.transit
    transit.transporter = NamespacedNats(
        url,
        namespace,
        transit=transit,
        handler=transit._message_handler,
        node_id=broker.nodeID,
    )
    broker.namespace = namespace or ""
