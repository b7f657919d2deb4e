"""Publishing: the outbox relay against a raw aiokafka producer sending the same records.

Both producers have the same settings as ``kamu_shared.kafka.producer.event_producer``
(idempotent, ``acks="all"``, ``linger_ms=5``), so the difference is the relay's own work: reading
committed events from PostgreSQL, building envelopes, waiting for each batch's acknowledgements
and moving its checkpoint.
"""

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from benchmarks.workload import METADATA, PlannedTx, event_count, stream_append
from kamu_shared.outbox.relay import OutboxRelay
from kamu_shared.store.eventstore import EventStore

SOURCE = "/kamu/bench"
Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def raw_producer(bootstrap: str) -> Any:
    """An aiokafka producer configured like ``event_producer``, built by hand."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-raw-producer",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=30000,
    )


class RelayPublisher:
    """Ours: append the part (not timed), then ``OutboxRelay.publish_pending`` (timed)."""

    name = "kamu OutboxRelay.publish_pending"

    def __init__(
        self, relay: OutboxRelay, producer: Any, store: EventStore, plan: list[PlannedTx]
    ) -> None:
        self._relay = relay
        self._producer = producer
        self._store = store
        self._plan = plan
        self._expected = 0

    async def prepare(self, part: range) -> None:
        for i in part:
            await self._store.append([stream_append(self._plan[i])], METADATA)
        self._expected = event_count(self._plan, part)

    async def run(self) -> None:
        published = await self._relay.publish_pending(self._producer)
        if published != self._expected:
            raise RuntimeError(f"the relay published {published}, not {self._expected} events")


class RawPublisher:
    """Baseline: send every record of the part, then await all acknowledgements."""

    name = "raw aiokafka producer"

    def __init__(self, producer: Any, topic: str, plan: list[PlannedTx]) -> None:
        self._producer = producer
        self._topic = topic
        self._plan = plan
        self._records: list[Record] = []

    async def prepare(self, part: range) -> None:
        self._records = [
            envelope.to_kafka() for i in part for envelope in self._plan[i].envelopes(SOURCE)
        ]

    async def run(self) -> None:
        sends = []
        for key, value, headers in self._records:
            sends.append(await self._producer.send(self._topic, value, key=key, headers=headers))
        await asyncio.gather(*sends)
