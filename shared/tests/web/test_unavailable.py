"""A database that cannot be reached answers 503 problem+json with Retry-After, never 500, and
the same route answers again once the server is back: against a PostgreSQL server of the test's
own, stopped and started under the app."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI, Request

from kamu_devstack.postgres import PostgresServer
from kamu_shared.db.pool import create_pool
from kamu_shared.settings import ServiceSettings
from kamu_shared.unavailable import unavailable_cause
from kamu_shared.web.app import create_service_app


@pytest.fixture
async def server(state_dir: Path) -> AsyncIterator[PostgresServer]:
    own = PostgresServer(state_dir / "postgres")
    await asyncio.to_thread(own.start)
    try:
        yield own
    finally:
        await asyncio.to_thread(own.stop)


def app_on(pool: asyncpg.Pool, retry_after: float) -> FastAPI:
    settings = ServiceSettings(unavailable_retry_after_seconds=retry_after)
    app = create_service_app(settings, title="t", description="t", version="0", checks=[])

    @app.post("/things")
    async def add(request: Request) -> dict[str, int]:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("CREATE TABLE IF NOT EXISTS things (n int)")
            await conn.execute("INSERT INTO things VALUES (1)")
            return {"count": await conn.fetchval("SELECT count(*) FROM things")}

    return app


async def test_a_restarting_database_answers_503_with_retry_after_then_recovers(server):
    pool = await create_pool(server.admin_url, min_size=2, max_size=4)
    app = app_on(pool, retry_after=3)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.post("/things")).status_code == 200

            await asyncio.to_thread(server.stop)
            down = [await client.post("/things") for _ in range(3)]  # broken and new connections

            await asyncio.to_thread(server.start)
            again = await client.post("/things")
    finally:
        await pool.close()

    for answer in down:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "3"
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/service-unavailable"
    assert again.status_code == 200, again.text
    assert again.json() == {"count": 2}  # nothing half-written while it was down


def test_an_unavailable_server_is_found_behind_wrapping():
    wrapped = RuntimeError("publishing failed")
    wrapped.__cause__ = KafkaConnectionError("broker down")
    assert isinstance(unavailable_cause(wrapped), KafkaConnectionError)
    group = ExceptionGroup("many", [ValueError("x"), ConnectionRefusedError("y")])
    assert isinstance(unavailable_cause(group), ConnectionRefusedError)
    assert unavailable_cause(ValueError("a bug")) is None
