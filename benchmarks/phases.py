"""The benchmark's phases: each sets up both sides, warms them up, races them, checks the result
and returns its figures. Everything a phase opens is closed when it returns."""

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass

import asyncpg

from benchmarks.append import RAW_TABLE, RawInserter, StoreAppender, create_raw_table
from benchmarks.consume import (
    READ_MODEL,
    ProcessorReader,
    RawReader,
    assigned_consumer,
    create_read_model,
    project,
)
from benchmarks.rebuild import Rebuilder, ThingsProjection
from benchmarks.reference import TABLE, EventsourcingRecorder, create_recorder, open_datastore
from benchmarks.relay import SOURCE, RawPublisher, RelayPublisher, raw_producer
from benchmarks.report import Figure
from benchmarks.rounds import Contender, race, split, warm_up
from benchmarks.servers import PARTITIONS, Scratch, Servers
from benchmarks.workload import make_plan, registry
from kamu_shared.consumer.processing import Processor
from kamu_shared.db.pool import create_pool
from kamu_shared.kafka.producer import event_producer
from kamu_shared.outbox.relay import OutboxRelay
from kamu_shared.outbox.tail import tail_reader
from kamu_shared.projections.projection import live_schema
from kamu_shared.store.eventstore import EventStore

WARM_UP_SHARE = 20
"""One twentieth of the events again, untimed, before each race."""


@dataclass(frozen=True)
class Settings:
    """How much work each figure gets."""

    events: int
    rounds: int

    def transactions(self, size: int) -> tuple[int, int]:
        """``(warm-up, timed)`` transaction counts for transactions of ``size`` events."""
        return max(1, self.events // WARM_UP_SHARE // size), self.events // size


async def _timed(
    contenders: list[Contender], warm: int, timed: int, rounds: int
) -> dict[str, list[float]]:
    await warm_up(contenders, range(warm))
    return await race(contenders, split(range(warm, warm + timed), rounds))


async def _count(url: str, table: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
    finally:
        await conn.close()


async def _expect_rows(url: str, table: str, expected: int) -> None:
    if (found := await _count(url, table)) != expected:
        raise RuntimeError(f"{table} holds {found} rows, not the {expected} written")


async def append_phase(scratch: Scratch, settings: Settings, size: int) -> list[Figure]:
    """Figures 1/2 and 5: ``size``-event transactions, ours vs raw asyncpg vs eventsourcing."""
    warm, timed = settings.transactions(size)
    plan = make_plan(f"append{size}", warm + timed, size)
    ours_url = await scratch.database(f"append{size}")
    es_url = await scratch.database(f"eventsourcing{size}", migrate=False)
    async with AsyncExitStack() as stack:
        pool = await create_pool(ours_url, min_size=1, max_size=2)
        stack.push_async_callback(pool.close)
        raw_conn = await asyncpg.connect(ours_url)
        stack.push_async_callback(raw_conn.close)
        await create_raw_table(raw_conn)
        datastore = open_datastore(es_url)
        stack.callback(datastore.close)
        recorder = await asyncio.to_thread(create_recorder, datastore)
        ours = StoreAppender(EventStore(pool), plan)
        raw = RawInserter(raw_conn, plan)
        reference = EventsourcingRecorder(recorder, plan)
        elapsed = await _timed([ours, raw, reference], warm, timed, settings.rounds)
    stored = (warm + timed) * size
    for url, table in ((ours_url, "kamu_events"), (ours_url, RAW_TABLE), (es_url, TABLE)):
        await _expect_rows(url, table, stored)
    return _append_figures(size, settings.events, elapsed, ours.name, raw.name, reference.name)


def _events(size: int) -> str:
    return "one event" if size == 1 else f"{size} events"


def _append_figures(
    size: int, events: int, elapsed: dict[str, list[float]], ours: str, raw: str, reference: str
) -> list[Figure]:
    label = "1-event transactions" if size == 1 else f"{size}-event transactions"
    number = "1" if size == 1 else "2"
    shape = (
        f"{events // size:,} sequential transactions of {_events(size)} for one stream each, "
        "100 streams round-robin, expected versions checked"
    )
    return [
        Figure(
            key=f"append-{size}",
            name=f"{number}. Append, {label}",
            events=events,
            ours_name=ours,
            ours_rounds=tuple(elapsed[ours]),
            baseline_name=raw,
            baseline_rounds=tuple(elapsed[raw]),
            note=f"{shape}; raw: one autocommit INSERT "
            f"({'VALUES' if size == 1 else 'SELECT FROM unnest'}) per transaction into a "
            "LIKE kamu_events INCLUDING ALL table.",
        ),
        Figure(
            key=f"eventsourcing-append-{size}",
            name=f"5{'a' if size == 1 else 'b'}. Append, {label}, vs eventsourcing",
            events=events,
            ours_name=ours,
            ours_rounds=tuple(elapsed[ours]),
            baseline_name=reference,
            baseline_rounds=tuple(elapsed[reference]),
            note=f"{shape}; the same run and the same figure for ours as above; eventsourcing "
            "in its own database on the same server, one insert_events call per transaction.",
        ),
    ]


@dataclass(frozen=True)
class Published:
    """What the relay phase left on Kafka for the consumer phase."""

    topic: str
    warm_events: int
    timed_events: int


async def relay_phase(
    scratch: Scratch, servers: Servers, settings: Settings
) -> tuple[Figure, Published]:
    """Figure 3: publishing N committed events, ours (relay) vs a raw producer."""
    warm, timed = settings.transactions(100)
    plan = make_plan("relay", warm + timed, 100)
    url = await scratch.database("relay")
    topic, raw_topic = await scratch.topic("relay"), await scratch.topic("raw")
    bootstrap = servers.kafka_bootstrap
    async with AsyncExitStack() as stack:
        pool = await create_pool(url, min_size=1, max_size=4)
        stack.push_async_callback(pool.close)
        producer, raw = event_producer(bootstrap, "bench-relay"), raw_producer(bootstrap)
        for started in (producer, raw):
            await started.start()
            stack.push_async_callback(started.stop)
        store = EventStore(pool)
        relay = OutboxRelay(
            dsn=url,
            store=store,
            pool=pool,
            producer_factory=lambda: event_producer(bootstrap, "bench-relay"),
            reader_factory=lambda: tail_reader(bootstrap, "bench-relay"),
            topic=topic,
            source=SOURCE,
        )
        ours = RelayPublisher(relay, producer, store, plan)
        baseline = RawPublisher(raw, raw_topic, plan)
        elapsed = await _timed([ours, baseline], warm, timed, settings.rounds)
    figure = Figure(
        key="relay-publish",
        name="3. Relay publish",
        events=settings.events,
        ours_name=ours.name,
        ours_rounds=tuple(elapsed[ours.name]),
        baseline_name=baseline.name,
        baseline_rounds=tuple(elapsed[baseline.name]),
        note="until every record is acknowledged; both producers idempotent, acks=all, "
        f"linger_ms=5; relay batch_size at its default; {PARTITIONS} partitions. "
        "Appending the events the relay reads is not timed.",
    )
    return figure, Published(topic, warm * 100, timed * 100)


async def consume_phase(
    scratch: Scratch, servers: Servers, settings: Settings, published: Published
) -> Figure:
    """Figure 4a: applying N envelopes to a read model, ours (Processor) vs a raw consumer."""
    url = await scratch.database("projection")
    warm, timed = published.warm_events, published.timed_events
    async with AsyncExitStack() as stack:
        pool = await create_pool(url, min_size=1, max_size=2)
        stack.push_async_callback(pool.close)
        await create_read_model(pool)
        readers = []
        for _ in range(2):
            consumer = await assigned_consumer(servers.kafka_bootstrap, published.topic, PARTITIONS)
            stack.push_async_callback(consumer.stop)
            readers.append(consumer)
        processor = Processor(
            pool=pool, group="bench-projection", decoders=[registry], handler=project
        )
        ours, baseline = ProcessorReader(readers[0], processor), RawReader(readers[1])
        elapsed = await _timed([ours, baseline], warm, timed, settings.rounds)
    await _expect_rows(url, READ_MODEL, warm + timed)
    return Figure(
        key="projection-consume",
        name="4a. Projection consume",
        events=timed,
        ours_name=ours.name,
        ours_rounds=tuple(elapsed[ours.name]),
        baseline_name=baseline.name,
        baseline_rounds=tuple(elapsed[baseline.name]),
        note="the relay's topic read from the beginning with manual assignment; ours: a "
        "projection's batched consumer, one transaction per polled batch of up to 200 (per "
        "message: subject lock, parked and duplicate checks, handler INSERT ... ON CONFLICT, "
        "ledger record); raw: reads only, no database.",
    )


async def rebuild_phase(scratch: Scratch, servers: Servers, published: Published) -> Figure:
    """Figure 4b: rebuilding a read model from the whole topic vs a raw consumer reading it."""
    url = await scratch.database("rebuild")
    total = published.warm_events + published.timed_events
    projection = ThingsProjection(published.topic)
    async with AsyncExitStack() as stack:
        pool = await create_pool(url, min_size=1, max_size=4)
        stack.push_async_callback(pool.close)
        consumer = await assigned_consumer(servers.kafka_bootstrap, published.topic, PARTITIONS)
        stack.push_async_callback(consumer.stop)
        ours = Rebuilder(pool, servers.kafka_bootstrap, projection)
        baseline = RawReader(consumer)
        elapsed = await race([ours, baseline], [range(total)])
    await _expect_rows(url, f"{live_schema(projection)}.{READ_MODEL}", total)
    return Figure(
        key="projection-rebuild",
        name="4b. Projection rebuild",
        events=total,
        ours_name=ours.name,
        ours_rounds=tuple(elapsed[ours.name]),
        baseline_name=baseline.name,
        baseline_rounds=tuple(elapsed[baseline.name]),
        note="rebuild(pool, bootstrap, projection) of the same read model from every message "
        "on the relay's topic: new schema, replay (one transaction per fetched batch of up to "
        "1,000, parked check skipped), swap; one run each, not interleaved; raw: reads the "
        "same messages only.",
    )
