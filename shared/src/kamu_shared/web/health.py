"""Liveness and readiness.

``/healthz`` answers as long as the process serves HTTP. ``/readyz`` asks what the process's
role needs (an API: its database; a worker: its background work) and answers 503 with the
failing checks, so an orchestrator stops routing to a replica that cannot do its work.
``/readyz/background`` asks the same of the background work (relay, consumers, timers,
workers and the Kafka cluster they need) in any process that runs some.
"""

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

import asyncpg
from aiokafka import AIOKafkaClient
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import Gauge

READY = Gauge("kamu_dependency_ready", "1 when the dependency answered its last check", ["check"])


class HealthCheck(Protocol):
    """A dependency the service cannot work without."""

    name: str

    async def check(self) -> None:
        """Return when the dependency is usable; raise with the reason otherwise."""


class PostgresCheck:
    """The service's database accepts a connection and answers a query."""

    name = "postgres"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn

    async def check(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()


class KafkaCheck:
    """The Kafka cluster answers a metadata request."""

    name = "kafka"

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap

    async def check(self) -> None:
        client = AIOKafkaClient(bootstrap_servers=self._bootstrap, client_id="kamu-readyz")
        try:
            await client.bootstrap()
        finally:
            await client.close()


async def run_checks(checks: Sequence[HealthCheck], timeout: float) -> dict[str, str]:
    """Run every check at once; map each name to ``ok`` or the reason it failed."""

    async def one(check: HealthCheck) -> tuple[str, str]:
        try:
            await asyncio.wait_for(check.check(), timeout)
        except TimeoutError:
            result = f"timed out after {timeout:g}s"
        except Exception as exc:
            result = f"{type(exc).__name__}: {exc}"
        else:
            result = "ok"
        READY.labels(check.name).set(1 if result == "ok" else 0)
        return check.name, result

    return dict(await asyncio.gather(*(one(c) for c in checks)))


def health_router(
    checks: Sequence[HealthCheck],
    timeout: float,
    background_checks: Sequence[HealthCheck] = (),
) -> APIRouter:
    """``/healthz``, ``/readyz`` (``checks``) and ``/readyz/background`` (``background_checks``)."""
    router = APIRouter(tags=["operations"])
    started = time.monotonic()

    @router.get("/healthz")
    async def healthz(request: Request) -> dict[str, object]:
        """Liveness: the process is up and serving HTTP."""
        return {
            "status": "ok",
            "service": request.app.title,
            "uptime_seconds": round(time.monotonic() - started, 1),
        }

    @router.get("/readyz", responses={503: {"description": "A dependency is not usable"}})
    async def readyz() -> JSONResponse:
        """Readiness for this process's role: an API's database; a worker's background work
        (503 names what is not usable)."""
        return await _readiness(checks, timeout)

    @router.get(
        "/readyz/background", responses={503: {"description": "Background work is not running"}}
    )
    async def readyz_background() -> JSONResponse:
        """The background work of this process (relay, consumers, timers, workers) and the
        servers it needs; ``checks`` is empty where the process runs none."""
        return await _readiness(background_checks, timeout)

    return router


async def _readiness(checks: Sequence[HealthCheck], timeout: float) -> JSONResponse:
    results = await run_checks(checks, timeout)
    ready = all(r == "ok" for r in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "not-ready", "checks": results},
        status_code=200 if ready else 503,
        headers=None if ready else {"Retry-After": "5"},
    )
