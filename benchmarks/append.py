"""Appending events: Kamu's EventStore against raw asyncpg INSERTs into an equivalent table.

The raw table is ``LIKE kamu_events INCLUDING ALL``: the same columns, defaults, constraints and
indexes. What the raw side skips is the EventStore's own work: the stream locks, the version
check, the ``kamu_streams`` row, ``RETURNING``, ``NOTIFY`` and the extra round trips.
"""

import json
from typing import Any

import asyncpg

from benchmarks.workload import METADATA, STREAM_TYPE, PlannedTx, stream_append
from kamu_shared.store.eventstore import EventStore
from kamu_shared.store.records import StreamAppend

RAW_TABLE = "bench_raw_events"
RAW_COLUMNS = "stream_id, stream_type, version, event_id, event_type, data, metadata, occurred_at"
_RAW_ONE = f"INSERT INTO {RAW_TABLE} ({RAW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"  # noqa: S608 - constants
_RAW_MANY = f"""
INSERT INTO {RAW_TABLE} ({RAW_COLUMNS})
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::jsonb[],
                     $7::jsonb[], $8::timestamptz[])
"""  # noqa: S608 - constants


async def create_raw_table(conn: asyncpg.Connection) -> None:
    """The raw side's table: a structural copy of ``kamu_events`` (migrations ran first)."""
    await conn.execute(f"CREATE TABLE {RAW_TABLE} (LIKE kamu_events INCLUDING ALL)")


class StoreAppender:
    """Ours: ``EventStore.append`` of one planned transaction at a time, versions checked."""

    name = "kamu EventStore.append"

    def __init__(self, store: EventStore, plan: list[PlannedTx]) -> None:
        self._store = store
        self._plan = plan
        self._batch: list[StreamAppend] = []

    async def prepare(self, part: range) -> None:
        self._batch = [stream_append(self._plan[i]) for i in part]

    async def run(self) -> None:
        for append in self._batch:
            await self._store.append([append], METADATA)


class RawInserter:
    """Baseline: one autocommit statement per transaction (VALUES for one row, unnest for many).

    Rows are turned into statement arguments in ``prepare``, so only the statements are timed.
    """

    name = "raw asyncpg INSERT"

    def __init__(self, conn: asyncpg.Connection, plan: list[PlannedTx]) -> None:
        self._conn = conn
        self._plan = plan
        self._batch: list[tuple[str, list[Any]]] = []

    async def prepare(self, part: range) -> None:
        self._batch = [self._statement_of(self._plan[i]) for i in part]

    async def run(self) -> None:
        for statement, args in self._batch:
            await self._conn.execute(statement, *args)

    @staticmethod
    def _statement_of(tx: PlannedTx) -> tuple[str, list[Any]]:
        meta = json.dumps(METADATA.to_json())
        rows = [
            (
                tx.stream_id,
                STREAM_TYPE,
                e.version,
                e.event_id,
                e.event_type,
                json.dumps(e.data),
                meta,
                e.occurred_at,
            )
            for e in tx.events
        ]
        if len(rows) == 1:
            return _RAW_ONE, list(rows[0])
        return _RAW_MANY, [list(column) for column in zip(*rows, strict=True)]
