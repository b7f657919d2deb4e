"""Rebuilding a read model: ``kamu_shared.projections.rebuild`` replaying the relay's topic into
a new schema and swapping it in, against a raw consumer reading the same messages."""

from collections.abc import Sequence

from benchmarks.consume import READ_MODEL
from benchmarks.workload import registry
from kamu_shared.consumer.messages import Decoder, Delivery
from kamu_shared.db.pool import Connection, Pool
from kamu_shared.projections.rebuild import rebuild


class ThingsProjection:
    """The consume phase's read model as a projection: one row per event."""

    name = "bench_things"

    def __init__(self, topic: str) -> None:
        self.topics: Sequence[str] = (topic,)
        self.decoders: Sequence[Decoder] = (registry,)
        self.tables: Sequence[str] = (READ_MODEL,)

    async def create(self, conn: Connection, schema: str) -> None:
        await conn.execute(
            f'CREATE TABLE "{schema}".{READ_MODEL} (event_id uuid PRIMARY KEY, '
            "thing_id text NOT NULL, n integer NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )

    async def apply(self, conn: Connection, schema: str, delivery: Delivery) -> None:
        await conn.execute(
            f'INSERT INTO "{schema}".{READ_MODEL} (event_id, thing_id, n) '  # noqa: S608
            "VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING",
            delivery.envelope.id,
            delivery.event.thing_id,
            delivery.event.n,
        )


class Rebuilder:
    """Ours: one ``rebuild`` of the whole topic (schema creation, replay, swap) per run."""

    name = "kamu projections.rebuild"

    def __init__(self, pool: Pool, bootstrap: str, projection: ThingsProjection) -> None:
        self._pool = pool
        self._bootstrap = bootstrap
        self._projection = projection
        self._expected = 0

    async def prepare(self, part: range) -> None:
        self._expected = len(part)

    async def run(self) -> None:
        report = await rebuild(self._pool, self._bootstrap, self._projection)
        if report.events != self._expected:
            raise RuntimeError(f"rebuild replayed {report.events}, not {self._expected} events")
