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
            background = (await client.get("/readyz/background")).json()
        assert set(ready["checks"]) == {"postgres"}  # an API needs only its database
        assert set(background["checks"]) == {"postgres", "kafka", "consumers"}


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


def test_one_event_is_listed_replayed_and_discarded_by_its_id_with_json_answers(
    database, kafka_bootstrap, capsys
):
    """What ``./kamu dlq`` asks each service: ``--event-id`` to pick one event in every group,
    ``--json`` answers a tool can merge, a discard's who and why in the log."""
    suffix = uuid.uuid4().hex[:8]
    service = definition(f"example{suffix}", f"reactions-{suffix}")
    group = f"reactions-{suffix}"
    settings = ServiceSettings(
        service_name=service.name,
        database_url=database,
        kafka_bootstrap=kafka_bootstrap,
        consumer_retry_attempts=2,
        consumer_backoff_initial_seconds=0.01,
        relay_poll_interval_seconds=0.1,
        log_format="json",
    )
    asyncio.run(run_service(settings, service))

    logged: list[str] = []

    def cli(*argv: str, code: int = 0) -> list[dict]:
        capsys.readouterr()
        assert service_main(service, settings, list(argv)) == code
        captured = capsys.readouterr()
        logged.append(captured.err)
        return [json.loads(line) for line in captured.out.splitlines()]

    [parked] = cli("dlq", "list")
    poison = parked["event_id"]
    assert (parked["service"], parked["group"]) == (service.name, group)
    assert cli("dlq", "list", "--event-id", poison) == [parked]
    assert cli("dlq", "list", "--event-id", str(uuid.uuid4())) == []
    assert cli("dlq", "replay", "--json", "--event-id", poison, code=1) == [
        {"service": service.name, "group": group, "replayed": 0, "failed": 1, "still_parked": 1},
        {
            "service": service.name,
            "group": "projection.notes_per_thing",
            "replayed": 0,
            "failed": 0,
            "still_parked": 0,
        },
    ]

    answers = cli(
        "dlq", "discard", "--json", "--event-id", poison, "--reason", "bad data", "--by", "ops"
    )
    [record] = [json.loads(line) for line in logged[-1].splitlines() if "discarded" in line]
    assert (record["event"], record["event_id"], record["by"], record["reason"]) == (
        "message-discarded",
        poison,
        "ops",
        "bad data",
    )
    assert [(a["group"], len(a["discarded"]), a["by"], a["reason"]) for a in answers] == [
        (group, 1, "ops", "bad data"),
        ("projection.notes_per_thing", 0, "ops", "bad data"),
    ]
    assert answers[0]["discarded"][0]["status"] == "discarded"
    assert cli("dlq", "list") == []
    assert [p["event_id"] for p in cli("dlq", "list", "--status", "discarded")] == [poison]


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
