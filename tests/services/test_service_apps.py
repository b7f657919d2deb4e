"""Every service's app serves the operations contract of DESIGN.md against the real servers."""

import importlib
from collections.abc import Awaitable, Callable

import httpx
import pytest

from kamu_shared.testing.waiting import eventually

SERVICES = {
    "pairing": 8001,
    "meetings": 8002,
    "goals": 8003,
    "notifications": 8004,
    "insights": 8005,
}


def load(name: str):
    settings_module = importlib.import_module(f"kamu_{name}.settings")
    app_module = importlib.import_module(f"kamu_{name}.app")
    settings_class = next(
        getattr(settings_module, attr)
        for attr in dir(settings_module)
        if attr.endswith("Settings") and attr != "ServiceSettings"
    )
    return settings_class, app_module.create_app


@pytest.mark.parametrize("name", SERVICES)
async def test_service_is_ready_and_documented(name, make_database, kafka_bootstrap):
    settings_class, create_app = load(name)
    settings = settings_class(
        database_url=await make_database(name), kafka_bootstrap=kafka_bootstrap
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):

        def answered(path: str) -> Callable[[], Awaitable[httpx.Response | None]]:
            async def ok() -> httpx.Response | None:
                response = await client.get(path)
                return response if response.status_code == 200 else None

            return ok

        ready = await eventually(answered("/readyz"), timeout=60)  # its database only
        # Consumers take a moment to join their groups; until then this rightly says 503.
        background = await eventually(answered("/readyz/background"), timeout=60)
        runtime = app.state.runtime
        migrated = await runtime.pool.fetchval("SELECT to_regclass('kamu_events') IS NOT NULL")
        openapi = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
        metrics = await client.get("/metrics")

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"postgres": "ok"}
    assert background.json()["checks"] == {"postgres": "ok", "kafka": "ok", "consumers": "ok"}
    assert migrated  # the event store's tables exist once the service has started
    assert openapi["info"]["title"] == f"kamu-{name}"
    assert {"/healthz", "/readyz", "/readyz/background"} <= set(openapi["paths"])
    assert docs.status_code == 200
    assert "kamu_dependency_ready" in metrics.text
    assert settings.http_port == SERVICES[name]
    assert settings.service_name == name
