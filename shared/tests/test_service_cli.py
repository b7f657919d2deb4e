"""A whole example service on the runtime: append -> relay -> topic -> reaction and projection,
then the operator's commands: list and replay dead letters, rebuild a projection."""

import asyncio
import json
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from kamu_shared.cli import service_main
from kamu_shared.events import DomainEvent, EventRegistry
from kamu_shared.runtime import Reaction, ServiceDefinition, create_app
from kamu_shared.settings import ServiceSettings
from kamu_shared.store.records import NO_STREAM, NewEvent, StreamAppend
from kamu_shared.testing.waiting import eventually

registry = EventRegistry("example")


@registry.register
class Noted(DomainEvent, name="noted", version=1):
    """Someone noted something about a thing."""

    thing_id: str
    text: str


async def react(conn, delivery):
    if delivery.event.text == "poison" and not await conn.fetchval("SELECT to_regclass('cured')"):
        raise ValueError("cannot digest poison")
    await conn.execute("CREATE TABLE IF NOT EXISTS reactions (event_id uuid PRIMARY KEY)")
    await conn.execute("INSERT INTO reactions VALUES ($1)", delivery.envelope.id)


class NotesPerThing:
    name = "notes_per_thing"
    tables = ("notes",)
    decoders = (registry,)

    def __init__(self, topic: str) -> None:
        self.topics = (topic,)

    async def create(self, conn, schema):
        await conn.execute(f'CREATE TABLE "{schema}".notes (thing_id text PRIMARY KEY, n int)')

    async def apply(self, conn, schema, delivery):
        await conn.execute(
            f'INSERT INTO "{schema}".notes VALUES ($1, 1) '
            "ON CONFLICT (thing_id) DO UPDATE SET n = notes.n + 1",
            delivery.event.thing_id,
        )


def definition(name: str, group: str) -> ServiceDefinition:
    topic = f"kamu.{name}.events"
    return ServiceDefinition(
        name=name,
        title="kamu-example",
        description="an example",
        version="0",
        registry=registry,
        reactions=[Reaction(group, [topic], [registry], react)],
        projections=[NotesPerThing(topic)],
    )


async def run_service(settings: ServiceSettings, service: ServiceDefinition) -> None:
    app = create_app(settings, service)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        for i, text in enumerate(["hello", "poison", "world"]):
            ce_type, data = registry.encode(Noted(thing_id=f"t-{i}", text=text), subject=f"t-{i}")
            await runtime.store.append(
                [
                    StreamAppend(
                        f"t-{i}", "thing", NO_STREAM, [NewEvent(ce_type, data, datetime.now(UTC))]
                    )
                ]
            )
        await eventually(lambda: _parked(runtime.pool))
        await eventually(lambda: _count(runtime.pool, "reactions", 2))
        await eventually(lambda: _count(runtime.pool, "rm_notes_per_thing.notes", 3))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = (await client.get("/readyz")).json()
        assert set(ready["checks"]) == {"postgres", "kafka", "consumers"}


@pytest.fixture
async def database(make_database):
    return await make_database("cli")


def test_dead_letters_are_listed_and_replayed_and_projections_rebuilt(
    database, kafka_bootstrap, capsys
):
    suffix = uuid.uuid4().hex[:8]
    service = definition(f"example{suffix}", f"reactions-{suffix}")
    settings = ServiceSettings(
        service_name=service.name,
        database_url=database,
        kafka_bootstrap=kafka_bootstrap,
        consumer_retry_attempts=2,
        consumer_backoff_initial_seconds=0.01,
        relay_poll_interval_seconds=0.1,
        log_format="console",
    )
    asyncio.run(run_service(settings, service))

    def cli(*argv: str) -> list[str]:
        capsys.readouterr()
        assert service_main(service, settings, list(argv)) == 0
        return capsys.readouterr().out.strip().splitlines()

    listed = [json.loads(line) for line in cli("dlq", "list")]
    assert [(p["group"], p["subject"], p["attempts"]) for p in listed] == [
        (f"reactions-{suffix}", "t-1", 2)
    ]
    assert "cannot digest poison" in listed[0]["error"]

    asyncio.run(_cure(database))
    assert cli("dlq", "replay") == [
        f"reactions-{suffix}: replayed 1, failed 0, still parked 0",
        "projection.notes_per_thing: replayed 0, failed 0, still parked 0",
    ]
    assert cli("dlq", "list") == []

    rebuilt = cli("rebuild", "notes_per_thing")
    assert any("3/3 events (100%)" in line for line in rebuilt)  # progress, shown as it goes
    assert rebuilt[-1].startswith("rebuilt notes_per_thing: 3 events")
    assert asyncio.run(_count(database, "reactions", 3))


async def _cure(url: str) -> None:
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE cured ()")
    await conn.close()


async def _parked(pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM kamu_parked_messages"))


async def _count(pool_or_url, table: str, n: int) -> bool:
    if isinstance(pool_or_url, str):
        conn = await asyncpg.connect(pool_or_url)
        try:
            return await conn.fetchval(f"SELECT count(*) FROM {table}") >= n
        finally:
            await conn.close()
    exists = await pool_or_url.fetchval("SELECT to_regclass($1) IS NOT NULL", table)
    return bool(exists) and await pool_or_url.fetchval(f"SELECT count(*) FROM {table}") >= n
