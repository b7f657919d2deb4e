"""Append, read a stream, read everything in commit order.

Appends take a transaction-scoped advisory lock per stream *before* any write. Two transactions
touching one stream therefore get their transaction ids in commit order, which is what makes the
relay's read by ``(transaction_id, position)`` keep each aggregate's order while never skipping a
transaction that commits late (see :meth:`EventStore.read_committed`).
"""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from kamu_shared.db.pool import Connection
from kamu_shared.store.errors import AppendOrderError, ConcurrencyError
from kamu_shared.store.records import Checkpoint, Metadata, RecordedEvent, StreamAppend

NOTIFY_CHANNEL = "kamu_events"

_COLUMNS = (
    "position, transaction_id::text::bigint AS transaction_id, stream_id, stream_type, version, "
    "event_id, event_type, data, metadata, occurred_at, recorded_at"
)

_INSERT = f"""
INSERT INTO kamu_events
    (stream_id, stream_type, version, event_id, event_type, data, metadata, occurred_at)
SELECT * FROM unnest(
    $1::text[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::jsonb[], $7::jsonb[],
    $8::timestamptz[])
RETURNING {_COLUMNS}
"""  # noqa: S608 - a constant column list; every value is a parameter


def _record(row: asyncpg.Record) -> RecordedEvent:
    data, metadata = row["data"], row["metadata"]
    return RecordedEvent(
        position=row["position"],
        transaction_id=row["transaction_id"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        version=row["version"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        data=json.loads(data) if isinstance(data, str) else data,
        metadata=json.loads(metadata) if isinstance(metadata, str) else metadata,
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
    )


class EventStore:
    """The service's event store in its own database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction, for appends that commit with other writes."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    async def append(
        self,
        appends: Sequence[StreamAppend],
        metadata: Metadata | None = None,
        conn: Connection | None = None,
    ) -> list[RecordedEvent]:
        """Append to one or several streams atomically; raise ConcurrencyError if any moved.

        With ``conn`` the append joins the caller's transaction and must be its first write.
        """
        if conn is None:
            async with self.transaction() as own:
                return await self._append(own, appends, metadata or Metadata())
        return await self._append(conn, appends, metadata or Metadata())

    async def _append(
        self, conn: Connection, appends: Sequence[StreamAppend], metadata: Metadata
    ) -> list[RecordedEvent]:
        if not conn.is_in_transaction():
            raise AppendOrderError("append needs a transaction")
        if await conn.fetchval("SELECT pg_current_xact_id_if_assigned()") is not None:
            raise AppendOrderError("append must be the first write of its transaction")
        streams = sorted({a.stream_id for a in appends})
        if len(streams) != len(appends):
            raise ValueError("each stream may appear once per append")
        # Sorted to avoid deadlocks between appends touching the same streams.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(s, 0)) FROM unnest($1::text[]) s",
            streams,
        )
        current: dict[str, int] = {
            row["stream_id"]: row["version"]
            for row in await conn.fetch(
                "SELECT stream_id, version FROM kamu_streams WHERE stream_id = ANY($1::text[])",
                streams,
            )
        }
        rows: list[list[Any]] = [[] for _ in range(8)]
        meta = metadata.to_json()
        for append in appends:
            actual = current.get(append.stream_id, 0)
            if append.expected_version is not None and append.expected_version != actual:
                raise ConcurrencyError(append.stream_id, append.expected_version, actual)
            for offset, event in enumerate(append.events, start=1):
                for column, value in zip(
                    rows,
                    (
                        append.stream_id,
                        append.stream_type,
                        actual + offset,
                        event.event_id,
                        event.event_type,
                        event.data,
                        {**meta, "dataschema": event.dataschema} if event.dataschema else meta,
                        event.occurred_at,
                    ),
                    strict=True,
                ):
                    column.append(value)
        await conn.executemany(
            """INSERT INTO kamu_streams (stream_id, stream_type, version) VALUES ($1, $2, $3)
               ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version""",
            [
                (a.stream_id, a.stream_type, current.get(a.stream_id, 0) + len(a.events))
                for a in appends
                if a.events
            ],
        )
        if not rows[0]:
            return []
        recorded = [_record(r) for r in await conn.fetch(_INSERT, *rows)]
        await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
        return recorded

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        """A stream's events in version order (empty if the stream does not exist)."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM kamu_events WHERE stream_id = $1 AND version >= $2 "  # noqa: S608
            "ORDER BY version",
            stream_id,
            from_version,
        )
        return [_record(r) for r in rows]

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version; 0 if it does not exist."""
        version = await self._pool.fetchval(
            "SELECT version FROM kamu_streams WHERE stream_id = $1", stream_id
        )
        return int(version or 0)

    async def read_committed(
        self, after: Checkpoint, limit: int = 500, conn: Connection | None = None
    ) -> list[RecordedEvent]:
        """Events after ``after`` in commit order, only from transactions that can no longer change.

        A row is returned only if its transaction id is below the oldest transaction still
        running: every transaction that could still commit an earlier-sorting row is then done.
        """
        query = (
            f"SELECT {_COLUMNS} FROM kamu_events "  # noqa: S608 - constant columns
            "WHERE (transaction_id, position) > ($1::text::xid8, $2) "
            "AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) "
            "ORDER BY transaction_id, position LIMIT $3"
        )
        args = (str(after.transaction_id), after.position, limit)
        rows = await (conn or self._pool).fetch(query, *args)
        return [_record(r) for r in rows]
