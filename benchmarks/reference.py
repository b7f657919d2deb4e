"""The outside reference: the ``eventsourcing`` library's PostgreSQL application recorder.

``PostgresApplicationRecorder`` is its recorder with a global notification order (what a relay
or projection reads), the closest match to Kamu's store. It is synchronous (psycopg 3 in
pipeline mode), so its rounds run in a worker thread; the thread hop is once per round.
"""

import asyncio
from urllib.parse import unquote, urlsplit

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from benchmarks.workload import PlannedTx

TABLE = "bench_stored_events"


def open_datastore(dsn: str) -> PostgresDatastore:
    """A one-connection datastore on the database named by ``dsn``."""
    parts = urlsplit(dsn)
    return PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        pool_size=1,
    )


def create_recorder(datastore: PostgresDatastore) -> PostgresApplicationRecorder:
    """The recorder with its table, type and index created."""
    recorder = PostgresApplicationRecorder(datastore, events_table_name=TABLE)
    recorder.create_table()
    return recorder


class EventsourcingRecorder:
    """Reference: ``insert_events`` of one planned transaction at a time."""

    name = "eventsourcing PostgresApplicationRecorder"

    def __init__(self, recorder: PostgresApplicationRecorder, plan: list[PlannedTx]) -> None:
        self._recorder = recorder
        self._plan = plan
        self._batch: list[list[StoredEvent]] = []

    async def prepare(self, part: range) -> None:
        self._batch = [self._stored_of(self._plan[i]) for i in part]

    async def run(self) -> None:
        await asyncio.to_thread(self._insert_all)

    def _insert_all(self) -> None:
        for stored in self._batch:
            self._recorder.insert_events(stored)

    @staticmethod
    def _stored_of(tx: PlannedTx) -> list[StoredEvent]:
        return [
            StoredEvent(
                originator_id=tx.stream_uuid,
                originator_version=e.version,
                topic=e.event_type,
                state=e.body,
            )
            for e in tx.events
        ]
