"""Readiness follows the process's role: a Kafka outage leaves an API ready (its routes need
only the database) while its background work, and a worker's /readyz, say what is down."""

import httpx

from kamu_devstack.ports import free_port
from kamu_shared.events import DomainEvent, EventRegistry
from kamu_shared.runtime import Reaction, ServiceDefinition, create_app
from kamu_shared.settings import ServiceSettings
from kamu_shared.testing.waiting import eventually

registry = EventRegistry("readiness")


@registry.register
class Pinged(DomainEvent, name="pinged", version=1):
    """Something was pinged."""

    thing_id: str


async def react(conn, delivery) -> None:
    return None


def definition() -> ServiceDefinition:
    topic = "kamu.readiness.events"
    return ServiceDefinition(
        name="readiness",
        title="kamu-readiness",
        description="readiness example",
        version="0",
        registry=registry,
        reactions=[Reaction("kamu.readiness-react", [topic], [registry], react)],
    )


async def answers(app, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)


async def test_an_api_stays_ready_through_a_kafka_outage_its_background_work_does_not(
    make_database,
):
    settings = ServiceSettings(
        database_url=await make_database("ready"),
        kafka_bootstrap=f"127.0.0.1:{free_port()}",  # nothing listens: Kafka is down
        readiness_timeout_seconds=20,  # a busy machine; a refused port fails at once
        task_restart_backoff_initial_seconds=0.1,
        task_restart_backoff_max_seconds=0.5,
    )
    api = create_app(settings, definition())
    async with api.router.lifespan_context(api):  # starts although Kafka is down
        ready = await answers(api, "/readyz")
        background = await answers(api, "/readyz/background")

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"postgres": "ok"}
    assert background.status_code == 503
    assert background.headers["retry-after"]
    checks = background.json()["checks"]
    assert checks["postgres"] == "ok"
    assert checks["kafka"] != "ok"
    assert "relay" in checks["consumers"]
    assert "consumer:" in checks["consumers"]


async def test_a_worker_is_ready_only_when_its_background_work_runs(make_database, kafka_bootstrap):
    settings = ServiceSettings(
        database_url=await make_database("ready"),
        kafka_bootstrap=kafka_bootstrap,
        topic_namespace="kamu",
    )
    worker = create_app(settings, definition(), with_routes=False)
    async with worker.router.lifespan_context(worker):

        async def ready() -> httpx.Response | None:
            answer = await answers(worker, "/readyz")
            return answer if answer.status_code == 200 else None

        answer = await eventually(ready, timeout=60)
        background = await answers(worker, "/readyz/background")

    assert set(answer.json()["checks"]) == {"postgres", "kafka", "consumers"}
    assert background.status_code == 200
