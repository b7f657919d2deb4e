"""Rebuilding a read model from scratch, beside the live one, then swapping it in.

1. Create an empty copy in a new schema and replay every partition of the projection's topics
   from the beginning up to their current ends, one transaction per fetched batch (the copy has
   no other writer), showing progress.
2. Take the swap lock (live updates pause: each takes the lock shared), catch the copy up to the
   topics' new ends, which covers everything the live copy could have applied, then rename
   schemas in one transaction: the old live copy is kept as ``rm_<name>__old_<time>`` or dropped.
3. Live updates resume on the new copy; events it already holds are recognised by its
   applied-events record, later ones are applied as usual.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from kamu_shared.consumer.messages import Message
from kamu_shared.consumer.processing import BatchFailed, Processor
from kamu_shared.db.pool import Connection
from kamu_shared.kafka.topics import DEFAULT_NAMESPACE, in_namespace
from kamu_shared.projections.projection import (
    SWAP_LOCK_SPACE,
    Projection,
    create_schema,
    live_group,
    live_schema,
    projection_processor,
    projection_topics,
)

log = structlog.get_logger("kamu.rebuild")


@dataclass(frozen=True)
class RebuildProgress:
    done: int
    total: int
    elapsed: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def line(self) -> str:
        percent = 100.0 * self.done / self.total if self.total else 100.0
        return f"{self.done}/{self.total} events ({percent:.0f}%), {self.rate:.0f} events/s"


@dataclass(frozen=True)
class RebuildReport:
    events: int
    seconds: float
    replaced_schema: str | None

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class RebuildFailed(RuntimeError):
    """An event could not be applied to the new copy; the live copy was left untouched."""


Progress = Callable[[RebuildProgress], None]
Positions = dict[TopicPartition, int]


async def rebuild(
    pool: asyncpg.Pool,
    bootstrap: str,
    projection: Projection,
    *,
    progress: Progress | None = None,
    keep_old: bool = False,
    namespace: str = DEFAULT_NAMESPACE,
) -> RebuildReport:
    """Rebuild ``projection`` from its topics and swap the result in; return what it took."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    schema = f"rm_{projection.name}__rebuild_{stamp}"
    async with pool.acquire() as conn:
        await create_schema(conn, projection, schema)
    processor = projection_processor(
        pool,
        projection,
        schema,
        in_namespace(f"projection.{projection.name}.rebuild.{stamp}", namespace),
        live=False,
    )
    topics = projection_topics(projection, namespace)
    started = time.monotonic()
    # Messages an operator discarded from the live copy's dead letters stay out of the copy too.
    skip = {
        (r["topic"], r["partition"], r["offset"])
        for r in await pool.fetch(
            'SELECT topic, partition, "offset" FROM kamu_parked_messages '
            "WHERE consumer_group = $1 AND status = 'discarded'",
            live_group(projection, namespace),
        )
    }
    try:
        positions, done = await _replay(bootstrap, topics, processor, {}, progress, started, skip)
        async with pool.acquire() as lock:
            await lock.execute(
                "SELECT pg_advisory_lock(hashtext($1), hashtext($2))",
                SWAP_LOCK_SPACE,
                projection.name,
            )
            try:
                _, more = await _replay(
                    bootstrap, topics, processor, positions, None, started, skip
                )
                replaced = await _swap(lock, projection, schema, stamp, keep_old)
            finally:
                await lock.execute(
                    "SELECT pg_advisory_unlock(hashtext($1), hashtext($2))",
                    SWAP_LOCK_SPACE,
                    projection.name,
                )
    except BaseException:
        await pool.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        raise
    report = RebuildReport(done + more, time.monotonic() - started, replaced)
    log.info(
        "projection-rebuilt",
        projection=projection.name,
        events=report.events,
        seconds=round(report.seconds, 2),
    )
    return report


async def _swap(
    conn: Connection, projection: Projection, schema: str, stamp: str, keep_old: bool
) -> str | None:
    live = live_schema(projection)
    old = f"{live}__old_{stamp}"
    async with conn.transaction():
        exists = await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", live)
        if exists:
            await conn.execute(f'ALTER SCHEMA "{live}" RENAME TO "{old}"')
        await conn.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{live}"')
        if exists and not keep_old:
            await conn.execute(f'DROP SCHEMA "{old}" CASCADE')
    return old if exists else None


async def _replay(
    bootstrap: str,
    topics: list[str],
    processor: Processor,
    start: Positions,
    progress: Progress | None,
    started: float,
    skip: set[tuple[str, int, int]],
) -> tuple[Positions, int]:
    """Apply every message from ``start`` (or the beginning) to the topics' current ends."""
    partitions = await _partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    done = 0
    try:
        consumer.assign(partitions)
        for tp in partitions:
            if tp in start:
                consumer.seek(tp, start[tp])
            else:
                await consumer.seek_to_beginning(tp)
        ends: Positions = await consumer.end_offsets(partitions)
        total = sum(ends[tp] - start.get(tp, 0) for tp in partitions)
        shown = 0.0
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000, max_records=1000)
                records = [
                    r
                    for r in batch.get(tp, [])
                    if r.offset < ends[tp] and (r.topic, r.partition, r.offset) not in skip
                ]
                if records:
                    try:
                        await processor.apply_batch([Message.from_record(r) for r in records])
                    except BatchFailed as exc:
                        raise RebuildFailed(str(exc)) from exc
                    done += len(records)
                if progress and time.monotonic() - shown > 0.5:
                    shown = time.monotonic()
                    progress(RebuildProgress(done, total, time.monotonic() - started))
        if progress:
            progress(RebuildProgress(done, total, time.monotonic() - started))
        return ends, done
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="kamu-rebuild")
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sorted(
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    )
