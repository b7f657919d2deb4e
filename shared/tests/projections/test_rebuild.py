"""Read models can be dropped and rebuilt from events, and equal the live ones."""

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from kamu_shared.consumer.parking import DeadLetters
from kamu_shared.events import DomainEvent, Envelope, EventRegistry
from kamu_shared.kafka.producer import event_producer
from kamu_shared.kafka.topics import ensure_topics
from kamu_shared.projections.projection import (
    ensure_live_schema,
    live_consumer,
    live_group,
    live_schema,
    snapshot,
)
from kamu_shared.projections.rebuild import RebuildFailed, rebuild
from kamu_shared.testing.waiting import eventually

registry = EventRegistry("example")


@registry.register
class Scored(DomainEvent, name="scored", version=1):
    """A thing scored some points."""

    thing_id: str
    points: int


class Totals:
    """Points and number of scores per thing."""

    tables = ("totals",)
    decoders = (registry,)

    def __init__(self, name: str, topic: str) -> None:
        self.name = name
        self.topics = (topic,)

    async def create(self, conn, schema):
        await conn.execute(
            f'CREATE TABLE "{schema}".totals (thing_id text PRIMARY KEY, points int, scores int)'
        )

    async def apply(self, conn, schema, delivery):
        if delivery.event.points < 0:
            raise ValueError("negative points")
        await conn.execute(
            f'INSERT INTO "{schema}".totals VALUES ($1, $2, 1) ON CONFLICT (thing_id) DO UPDATE '
            "SET points = totals.points + EXCLUDED.points, scores = totals.scores + 1",
            delivery.event.thing_id,
            delivery.event.points,
        )


def scored(thing: str, points: int) -> Envelope:
    ce_type, data = registry.encode(Scored(thing_id=thing, points=points), subject=thing)
    return Envelope(
        id=uuid.uuid4(),
        source=registry.source,
        type=ce_type,
        subject=thing,
        time=datetime.now(UTC),
        sequence=1,
        data=data,
    )


@pytest.fixture
async def setup(pool, kafka_bootstrap, topic_name):
    topic = topic_name("scores")
    await ensure_topics(kafka_bootstrap, [topic])
    projection = Totals(f"totals_{uuid.uuid4().hex[:8]}", topic)
    await ensure_live_schema(pool, projection)
    producer = event_producer(kafka_bootstrap, "scores")
    await producer.start()
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    async def send(thing: str, points: int) -> None:
        key, value, headers = scored(thing, points).to_kafka()
        await producer.send_and_wait(topic, value, key=key, headers=headers)
        if points >= 0:
            expected[thing][0] += points
            expected[thing][1] += 1

    stop = asyncio.Event()
    consumer = live_consumer(pool, kafka_bootstrap, projection, stall_timeout=15)
    task = asyncio.create_task(consumer.run(stop))
    yield projection, send, expected
    stop.set()
    await asyncio.wait_for(task, 30)
    await producer.stop()


async def live_rows(pool, projection):
    return (await snapshot(pool, live_schema(projection), projection.tables))["totals"]


def as_rows(expected):
    return sorted(((t, p, s) for t, (p, s) in expected.items()), key=repr)


async def test_rebuilt_read_model_equals_the_live_one(pool, kafka_bootstrap, setup):
    projection, send, expected = setup
    for i in range(60):
        await send(f"t-{i % 7}", i)
    await eventually(lambda: _equals(pool, projection, expected))
    before = await live_rows(pool, projection)
    lines = []

    report = await rebuild(pool, kafka_bootstrap, projection, progress=lambda p: lines.append(p))

    assert report.events == 60
    assert await live_rows(pool, projection) == before
    assert lines[-1].done == lines[-1].total == 60
    assert "60/60 events (100%)" in lines[-1].line()
    schemas = await pool.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", f"rm_{projection.name}%"
    )
    assert [s["nspname"] for s in schemas] == [live_schema(projection)]


async def test_events_arriving_during_a_rebuild_are_applied_once(pool, kafka_bootstrap, setup):
    projection, send, expected = setup
    for i in range(40):
        await send(f"t-{i % 5}", 1)

    async def keep_sending():
        for i in range(40):
            await send(f"t-{i % 5}", 10)
            await asyncio.sleep(0.01)

    await asyncio.gather(rebuild(pool, kafka_bootstrap, projection), keep_sending())

    await eventually(lambda: _equals(pool, projection, expected))


async def test_a_failing_rebuild_leaves_the_live_model_alone_until_the_event_is_discarded(
    pool, kafka_bootstrap, setup
):
    projection, send, expected = setup
    await send("t-1", 5)
    await send("t-1", -1)  # the live consumer parks it; a rebuild cannot skip it on its own
    await send("t-2", 7)
    await eventually(lambda: _equals(pool, projection, expected))
    before = await live_rows(pool, projection)

    with pytest.raises(RebuildFailed, match="negative points"):
        await rebuild(pool, kafka_bootstrap, projection)

    assert await live_rows(pool, projection) == before
    leftovers = await pool.fetchval(
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE $1", f"rm_{projection.name}__%"
    )
    assert leftovers == 0

    letters = DeadLetters(pool, live_group(projection))
    [parked] = await eventually(letters.list)  # once its retries ran out
    assert await letters.discard(parked.id)
    await rebuild(pool, kafka_bootstrap, projection)

    assert await live_rows(pool, projection) == before == as_rows(expected)


async def _equals(pool, projection, expected):
    return await live_rows(pool, projection) == as_rows(expected)
