"""A consumer under test: an effects table that shows how often each event was applied."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from kamu_shared.consumer.processing import Processor
from kamu_shared.consumer.runner import EventConsumer
from kamu_shared.events import DomainEvent, Envelope, EventRegistry
from kamu_shared.kafka.producer import event_producer
from kamu_shared.kafka.topics import ensure_topics

registry = EventRegistry("example")


@registry.register
class ThingHappened(DomainEvent, name="thing-happened", version=1):
    """Something happened to a thing."""

    thing_id: str
    n: int


@pytest.fixture
def example_registry():
    return registry


@pytest.fixture
def make_envelope():
    def make(subject: str, n: int, event_id: uuid.UUID | None = None) -> Envelope:
        ce_type, data = registry.encode(ThingHappened(thing_id=subject, n=n), subject=subject)
        return Envelope(
            id=event_id or uuid.uuid4(),
            source=registry.source,
            type=ce_type,
            subject=subject,
            time=datetime.now(UTC),
            sequence=n,
            data=data,
            correlation_id="corr-1",
        )

    return make


@pytest.fixture
async def effects(pool):
    """Handler side: ``effects`` counts applications per event; ``failing`` makes subjects fail."""
    await pool.execute(
        "CREATE TABLE effects (event_id uuid PRIMARY KEY, subject text, n int, applied int, "
        "seq bigint GENERATED ALWAYS AS IDENTITY)"
    )
    await pool.execute("CREATE TABLE failing (subject text PRIMARY KEY)")
    return pool


async def handler(conn, delivery):
    if await conn.fetchval("SELECT 1 FROM failing WHERE subject = $1", delivery.envelope.subject):
        raise RuntimeError(f"cannot handle {delivery.envelope.subject} yet")
    await conn.execute(
        "INSERT INTO effects (event_id, subject, n, applied) VALUES ($1, $2, $3, 1) "
        "ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1",
        delivery.envelope.id,
        delivery.envelope.subject,
        delivery.event.n,
    )


@pytest.fixture
def processor(effects, topic_name):
    return Processor(
        pool=effects,
        group=topic_name("group"),
        decoders=[registry],
        handler=handler,
        attempts=2,
        backoff_initial=0.01,
        backoff_max=0.05,
    )


@pytest.fixture
async def topic(kafka_bootstrap, topic_name):
    name = topic_name("consumer")
    await ensure_topics(kafka_bootstrap, [name])
    return name


@pytest.fixture
async def send(kafka_bootstrap, topic):
    producer = event_producer(kafka_bootstrap, "consumer-test")
    await producer.start()

    async def send(env=None, *, key=b"k", value=b"{}", headers=()):
        if env is not None:
            key, value, headers = env.to_kafka()
        await producer.send_and_wait(topic, value, key=key, headers=list(headers))

    yield send
    await producer.stop()


@pytest.fixture(params=[False, True], ids=["per-message", "batched"])
async def running(request, processor, kafka_bootstrap, topic):
    """Starts the consumer (each test runs with and without batching); stops it afterwards."""
    stop = asyncio.Event()
    consumer = EventConsumer(
        processor=processor,
        bootstrap=kafka_bootstrap,
        topics=[topic],
        stall_timeout=10,
        batched=request.param,
    )
    task = asyncio.create_task(consumer.run(stop))
    yield consumer
    stop.set()
    await asyncio.wait_for(task, 30)
