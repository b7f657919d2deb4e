"""Append, read a stream, read everything in commit order.

Appends take a transaction-scoped advisory lock per stream *before* any write. Two transactions
touching one stream therefore get their transaction ids in commit order, which is what makes the
relay's read by ``(transaction_id, position)`` keep each aggregate's order while never skipping a
transaction that commits late (see :meth:`EventStore.read_committed`).
"""

import json
from collections import Counter as Tally
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
from prometheus_client import Counter

from kamu_shared.db.pool import Connection
from kamu_shared.store.errors import AppendOrderError, ConcurrencyError
from kamu_shared.store.records import Checkpoint, Metadata, RecordedEvent, StreamAppend

NOTIFY_CHANNEL = "kamu_events"

APPENDED = Counter(
    "kamu_events_appended_total",
    "Events committed to the event store, by stream type and wire type (never ids)",
    ["stream_type", "event_type"],
)

_COLUMNS = (
    "position, transaction_id::text::bigint AS transaction_id, stream_id, stream_type, version, "
    "event_id, event_type, data, metadata, occurred_at, recorded_at"
)

# One round trip: checks, stream locks and writes run in kamu_append (migration 0003).
_APPEND = f"""
SELECT {_COLUMNS} FROM kamu_append(
    $1::text[], $2::text[], $3::int[], $4::int[], $5::uuid[], $6::text[], $7::jsonb[],
    $8::jsonb[], $9::timestamptz[])
"""  # noqa: S608 - a constant column list; every value is a parameter


# Below this every transaction that could still write to this database's event store is
# finished: see EventStore.read_committed. The statement's snapshot is taken before
# pg_stat_activity is read.
_HORIZON = """
least(
    pg_snapshot_xmax(pg_current_snapshot()),
    (SELECT min(running) FROM pg_snapshot_xip(pg_current_snapshot()) AS running
     WHERE NOT EXISTS (
         SELECT FROM pg_stat_activity AS elsewhere
         WHERE elsewhere.datid <> (SELECT oid FROM pg_database WHERE datname = current_database())
           AND elsewhere.backend_xid::text::bigint = running::text::bigint % 4294967296)))
"""

_READ_COMMITTED = f"""
SELECT {_COLUMNS} FROM kamu_events
WHERE (transaction_id, position) > ($1::text::xid8, $2) AND transaction_id < {_HORIZON}
-- Qualified: the bare name would sort by the output column (a bigint), not by the index.
ORDER BY kamu_events.transaction_id, kamu_events.position LIMIT $3
"""  # noqa: S608 - constants; every value is a parameter


def _append_error(exc: asyncpg.PostgresError) -> Exception:
    """The store's own errors for the codes ``kamu_append`` raises; anything else as it is."""
    code = getattr(exc, "sqlstate", None)
    if code == "KA001":
        detail = json.loads(getattr(exc, "detail", None) or "{}")
        return ConcurrencyError(detail["stream_id"], detail["expected"], detail["actual"])
    if code == "KA002":
        return AppendOrderError(str(exc))
    if isinstance(exc, asyncpg.UniqueViolationError):  # a safety net: the locks prevent it
        return ConcurrencyError(str(getattr(exc, "detail", "")), None, -1)
    return exc


def _count(counts: Tally[tuple[str, str]]) -> None:
    for (stream_type, event_type), n in counts.items():
        APPENDED.labels(stream_type, event_type).inc(n)


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
        ``kamu_events_appended_total`` counts the events once they committed here, or, joined,
        once the append succeeded: commands append last, so only a failed COMMIT would make
        that count one the store does not hold (``kamu_relay_published_total`` never does).
        """
        counts = Tally((a.stream_type, e.event_type) for a in appends for e in a.events)
        if conn is None:
            async with self.transaction() as own:
                recorded = await self._append(own, appends, metadata or Metadata())
            _count(counts)
            return recorded
        recorded = await self._append(conn, appends, metadata or Metadata())
        _count(counts)
        return recorded

    async def _append(
        self, conn: Connection, appends: Sequence[StreamAppend], metadata: Metadata
    ) -> list[RecordedEvent]:
        if not conn.is_in_transaction():
            raise AppendOrderError("append needs a transaction")
        if len({a.stream_id for a in appends}) != len(appends):
            raise ValueError("each stream may appear once per append")
        meta = metadata.to_json()
        events = [e for a in appends for e in a.events]
        try:
            rows = await conn.fetch(
                _APPEND,
                [a.stream_id for a in appends],
                [a.stream_type for a in appends],
                [a.expected_version for a in appends],
                [len(a.events) for a in appends],
                [e.event_id for e in events],
                [e.event_type for e in events],
                [e.data for e in events],
                [{**meta, "dataschema": e.dataschema} if e.dataschema else meta for e in events],
                [e.occurred_at for e in events],
            )
        except asyncpg.PostgresError as exc:
            raise _append_error(exc) from exc
        return sorted((_record(r) for r in rows), key=lambda e: e.position)

    async def read_stream(
        self, stream_id: str, from_version: int = 1, *, conn: Connection | None = None
    ) -> list[RecordedEvent]:
        """A stream's events in version order (empty if the stream does not exist).

        With ``conn`` the read joins the caller's transaction: a command holding a connection
        must not wait for a second one from the same pool (a full pool would deadlock).
        """
        rows = await (conn or self._pool).fetch(
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

        A row is returned only if its transaction id is below the *horizon*, which every
        transaction that could still commit a row into this event store is at or above, so
        nothing can later appear before a checkpoint taken from these rows. The horizon is
        the least of the statement snapshot's ``xmax`` (no transaction at or above it has
        completed, so none of its rows is visible yet) and the smallest transaction id in the
        snapshot's in-progress list (``pg_snapshot_xip``) that is not *proven* to belong to
        another database of the server.

        Why not simply the snapshot's ``xmin``: snapshots are cluster-wide, so every service's
        relay would wait for the oldest transaction of every other service's database (one idle
        open transaction in one database stopped all relays on the server).

        The proof is a ``pg_stat_activity`` row whose ``datid`` is another database and whose
        ``backend_xid`` is the id modulo 2^32 (running ids span less than 2^31, so the 32-bit
        id names one transaction). A backend is bound to one database for its life, and so is
        every transaction it runs, so that transaction can never write here. ``datid`` and
        ``backend_xid`` are shown to every role without ``pg_read_all_stats`` (PostgreSQL's
        ``pg_stat_get_activity`` puts them among the "values available to all callers"). The
        pair comes from one backend slot read after the snapshot was taken, and the backend
        running a transaction of the snapshot held that slot since before it, so the pair is
        one backend's. Anything without proof holds the horizon back, as before: a transaction
        of this database, one that finished before ``pg_stat_activity`` was read (its rows may
        have committed after the snapshot), a prepared transaction (it has no backend), or one
        whose backend shows no database. Holding back costs lag; excluding wrongly would skip a
        late commit forever.

        Transaction ids in the store are top-level ids (``pg_current_xact_id()`` in a
        subtransaction answers its parent's), the kind ``pg_snapshot_xip`` lists.
        """
        reader = conn or self._pool
        if conn is not None and conn.is_in_transaction():
            # The backends' status is read once per transaction: read it again, after the
            # snapshot this statement takes, as the argument above needs.
            await conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = await reader.fetch(_READ_COMMITTED, str(after.transaction_id), after.position, limit)
        return [_record(r) for r in rows]
