"""Consuming: ``kamu_shared.consumer.Processor`` applying each envelope to a read-model table,
against a raw aiokafka consumer that only reads the same messages.

Both read the relay's topic from the beginning with manual assignment and the EventConsumer's
poll settings. Ours runs the loop of a projection's EventConsumer (``batched=True``): a polled
batch in one transaction, falling back to one message at a time; it skips the offset commit,
one round trip per polled batch. Reactions that append events go message by message (about the
rate of figure 1).
"""

import asyncio
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from kamu_shared.consumer.messages import Delivery, Message
from kamu_shared.consumer.processing import Outcome, Processor
from kamu_shared.db.pool import Connection

READ_MODEL = "bench_things"
MAX_POLL_RECORDS = 200
ROUND_TIMEOUT = 600.0


async def create_read_model(pool: asyncpg.Pool) -> None:
    """One row per applied event: the projection's table."""
    await pool.execute(
        f"CREATE TABLE {READ_MODEL} (event_id uuid PRIMARY KEY, thing_id text NOT NULL, "
        "n integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )


async def project(conn: Connection, delivery: Delivery) -> None:
    """The handler: one INSERT ... ON CONFLICT per event."""
    await conn.execute(
        f"INSERT INTO {READ_MODEL} (event_id, thing_id, n) VALUES ($1, $2, $3) "  # noqa: S608
        "ON CONFLICT (event_id) DO NOTHING",
        delivery.envelope.id,
        delivery.event.thing_id,
        delivery.event.n,
    )


async def assigned_consumer(bootstrap: str, topic: str, partitions: int) -> Any:
    """A started consumer reading every partition of ``topic`` from the beginning."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=MAX_POLL_RECORDS,
    )
    await consumer.start()
    assignment = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(assignment)
    await consumer.seek_to_beginning(*assignment)
    return consumer


class _Reader:
    """Reads exactly the part's number of messages, handing each to ``handle``."""

    name = ""

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer
        self._todo = 0

    async def prepare(self, part: range) -> None:
        self._todo = len(part)

    async def run(self) -> None:
        async with asyncio.timeout(ROUND_TIMEOUT):
            remaining = self._todo
            while remaining:
                limit = min(MAX_POLL_RECORDS, remaining)
                batch = await self._consumer.getmany(timeout_ms=500, max_records=limit)
                for records in batch.values():
                    await self.handle_batch(records)
                    remaining -= len(records)

    async def handle_batch(self, records: list[Any]) -> None:
        for record in records:
            await self.handle(record)

    async def handle(self, record: Any) -> None:
        """Nothing: the raw side only reads."""


class RawReader(_Reader):
    """Baseline: read the messages, touch nothing else."""

    name = "raw aiokafka consumer"


class ProcessorReader(_Reader):
    """Ours, as a projection's live consumer runs: each polled batch in one transaction through
    ``Processor.try_batch`` (subject lock, parked and duplicate checks, handler, ledger record per
    message), message by message through ``Processor.process`` only if the batch falls back."""

    name = "kamu consumer Processor"

    def __init__(self, consumer: Any, processor: Processor) -> None:
        super().__init__(consumer)
        self._processor = processor

    async def handle_batch(self, records: list[Any]) -> None:
        outcomes = await self._processor.try_batch([Message.from_record(r) for r in records])
        if outcomes is None:
            await super().handle_batch(records)
        elif any(o is not Outcome.APPLIED for o in outcomes):
            raise RuntimeError(f"not all applied: {outcomes}")

    async def handle(self, record: Any) -> None:
        message = Message.from_record(record)
        outcome = await self._processor.process(message)
        if outcome is not Outcome.APPLIED:
            raise RuntimeError(f"message at offset {record.offset} was {outcome.value}")
