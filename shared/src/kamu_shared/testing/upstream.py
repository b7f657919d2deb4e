"""Another service's events, produced onto the real topics as that service publishes them.

For tests of a consuming service: the events are its own minimal models, encoded by its
registries for the producer, in CloudEvents binary mode, in the test's topic namespace.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from aiokafka import AIOKafkaProducer

from kamu_shared.events import DomainEvent, EventRegistry
from kamu_shared.events.envelope import Envelope
from kamu_shared.kafka.topics import ensure_topics, in_namespace


class Upstream:
    """``async with Upstream(bootstrap, namespace, registries) as up: await up.publish(...)``."""

    def __init__(self, bootstrap: str, namespace: str, registries: Sequence[EventRegistry]) -> None:
        self.namespace = namespace
        self._bootstrap = bootstrap
        self._registries = registries
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap)

    async def __aenter__(self) -> Self:
        topics = [in_namespace(r.topic, self.namespace) for r in self._registries]
        await ensure_topics(self._bootstrap, topics, 3)
        await self.producer.start()
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.producer.stop()

    def topic(self, registry: EventRegistry) -> str:
        return in_namespace(registry.topic, self.namespace)

    async def publish(
        self,
        registry: EventRegistry,
        event: DomainEvent,
        subject: str,
        *,
        at: datetime | None = None,
    ) -> Envelope:
        """Publish ``event`` as the producing service would; returns its envelope."""
        ce_type, data = registry.encode(event, subject=subject)
        envelope = Envelope(
            id=uuid.uuid4(),
            source=registry.source,
            type=ce_type,
            subject=subject,
            time=at or datetime.now(UTC),
            sequence=1,
            data=data,
            actor="tests",
        )
        await self.send(registry, envelope)
        return envelope

    async def send(self, registry: EventRegistry, envelope: Envelope) -> None:
        """Send an envelope as it is (a redelivery of one already sent, say)."""
        key, value, headers = envelope.to_kafka()
        await self.producer.send_and_wait(self.topic(registry), value, key=key, headers=headers)
