"""What a projection is, and how its live copy is fed.

A projection owns the tables of one read model. The live copy lives in the schema
``rm_<name>``; the events it applied are recorded in that schema too (``kamu_applied``), in the
same transaction as its rows, so the record of what was applied always travels with the rows it
describes. That is what lets a rebuilt copy be swapped in with a rename and carry on exactly.

Projections read their events from Kafka topics, their own service's included: topics keep every
event, so one code path and one kind of checkpoint serve live updates and rebuilds alike.
"""

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg

from kamu_shared.consumer.messages import Decoder, Delivery
from kamu_shared.consumer.processing import EventKey, Processor
from kamu_shared.consumer.runner import EventConsumer
from kamu_shared.db.pool import Connection
from kamu_shared.kafka.topics import DEFAULT_NAMESPACE, in_namespace

SWAP_LOCK_SPACE = "kamu-projection-swap"


class Projection(Protocol):
    """One read model: its tables, the topics it reads and how each event changes it."""

    name: str
    topics: Sequence[str]
    decoders: Sequence[Decoder]
    tables: Sequence[str]

    async def create(self, conn: Connection, schema: str) -> None:
        """Create the read model's tables in ``schema``."""
        ...

    async def apply(self, conn: Connection, schema: str, delivery: Delivery) -> None:
        """Change the read model in ``schema`` for one event (called once per event)."""
        ...


def live_schema(projection: Projection) -> str:
    return f"rm_{projection.name}"


def live_group(projection: Projection, namespace: str = DEFAULT_NAMESPACE) -> str:
    return in_namespace(f"projection.{projection.name}", namespace)


def projection_topics(projection: Projection, namespace: str = DEFAULT_NAMESPACE) -> list[str]:
    """The projection's topics as named in ``namespace`` (environments sharing one cluster)."""
    return [in_namespace(topic, namespace) for topic in projection.topics]


class SchemaLedger:
    """The applied-events record inside a projection's schema."""

    def __init__(self, schema: str) -> None:
        self._table = f'"{schema}".kamu_applied'

    async def seen(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool:
        return bool(
            await conn.fetchval(
                f"SELECT 1 FROM {self._table} WHERE source = $1 AND event_id = $2",  # noqa: S608
                source,
                event_id,
            )
        )

    async def record(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool:
        return bool(
            await conn.fetchval(
                f"INSERT INTO {self._table} (source, event_id) VALUES ($1, $2) "  # noqa: S608
                "ON CONFLICT DO NOTHING RETURNING 1",
                source,
                event_id,
            )
        )

    async def seen_many(self, conn: Connection, keys: Sequence[EventKey]) -> set[EventKey]:
        rows = await conn.fetch(
            f"SELECT a.source, a.event_id FROM {self._table} a "  # noqa: S608
            "JOIN unnest($1::text[], $2::uuid[]) AS k(source, event_id) USING (source, event_id)",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        return {(r["source"], r["event_id"]) for r in rows}

    async def record_many(self, conn: Connection, keys: Sequence[EventKey]) -> int:
        return int(
            await conn.fetchval(
                f"WITH added AS (INSERT INTO {self._table} (source, event_id) "  # noqa: S608
                "SELECT * FROM unnest($1::text[], $2::uuid[]) "
                "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM added",
                [k[0] for k in keys],
                [k[1] for k in keys],
            )
        )


async def create_schema(conn: Connection, projection: Projection, schema: str) -> None:
    """An empty copy of the read model, with its applied-events record, in ``schema``."""
    async with conn.transaction():
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(
            f'CREATE TABLE "{schema}".kamu_applied (source text NOT NULL, event_id uuid NOT NULL, '
            "applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, event_id))"
        )
        await projection.create(conn, schema)


async def ensure_live_schema(pool: asyncpg.Pool, projection: Projection) -> None:
    """Create the live copy on first start (idempotent, safe with several replicas)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", live_schema(projection))
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_namespace WHERE nspname = $1", live_schema(projection)
        )
        if not exists:
            await create_schema(conn, projection, live_schema(projection))


def projection_processor(
    pool: asyncpg.Pool,
    projection: Projection,
    schema: str,
    group: str,
    *,
    live: bool,
    **options: Any,
) -> Processor:
    """A processor applying events to ``schema``; the live one yields to a rebuild's swap."""

    async def handle(conn: Connection, delivery: Delivery) -> None:
        await projection.apply(conn, schema, delivery)

    async def yield_to_swap(conn: Connection) -> None:
        # First in the transaction, before any read of the schema: a live transaction that read
        # the old copy and then waited for the swap would hold a lock the swap's DROP needs.
        await conn.execute(
            "SELECT pg_advisory_xact_lock_shared(hashtext($1), hashtext($2))",
            SWAP_LOCK_SPACE,
            projection.name,
        )

    return Processor(
        pool=pool,
        group=group,
        decoders=projection.decoders,
        handler=handle,
        ledger=SchemaLedger(schema),
        prelude=yield_to_swap if live else None,
        **options,
    )


def live_consumer(
    pool: asyncpg.Pool,
    bootstrap: str,
    projection: Projection,
    *,
    stall_timeout: float = 30.0,
    partitions: int = 3,
    replication: int = 1,
    namespace: str = DEFAULT_NAMESPACE,
    commit_interval: float = 1.0,
    **processor_options: Any,
) -> EventConsumer:
    """The consumer that keeps the live copy up to date (one per replica, one group)."""
    processor = projection_processor(
        pool,
        projection,
        live_schema(projection),
        live_group(projection, namespace),
        live=True,
        **processor_options,
    )
    return EventConsumer(
        processor=processor,
        bootstrap=bootstrap,
        topics=projection_topics(projection, namespace),
        stall_timeout=stall_timeout,
        partitions=partitions,
        replication=replication,
        batched=True,  # projections never append events, so a batch can share a transaction
        commit_interval=commit_interval,
    )


async def snapshot(
    pool: asyncpg.Pool, schema: str, tables: Sequence[str]
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: two copies of a read model compare equal with ``==``."""
    result = {}
    for table in tables:
        rows = await pool.fetch(f'SELECT * FROM "{schema}".{table}')  # noqa: S608 - our names
        result[table] = sorted((tuple(r.values()) for r in rows), key=repr)
    return result
