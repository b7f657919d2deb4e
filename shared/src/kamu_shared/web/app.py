"""The one place a service's FastAPI app is assembled: metadata, middleware, operations routes."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from kamu_shared.settings import ServiceSettings
from kamu_shared.web.context import RequestContextMiddleware
from kamu_shared.web.errors import install_problem_handlers
from kamu_shared.web.health import HealthCheck, KafkaCheck, PostgresCheck, health_router
from kamu_shared.web.metrics import MetricsMiddleware, metrics_endpoint
from kamu_shared.web.sanitize import RejectUnstorableInput

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


@asynccontextmanager
async def _no_lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield


def default_checks(settings: ServiceSettings) -> list[HealthCheck]:
    """The dependencies every service has: its database and the Kafka cluster."""
    return [PostgresCheck(settings.database_url), KafkaCheck(settings.kafka_bootstrap)]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    version: str,
    checks: Sequence[HealthCheck] | None = None,
    background_checks: Sequence[HealthCheck] = (),
    lifespan: Lifespan | None = None,
) -> FastAPI:
    """A FastAPI app with request context, metrics, ``/healthz``, ``/readyz`` and ``/metrics``.

    Nothing connects here: connections are opened by ``lifespan`` when the server starts.
    """
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan or _no_lifespan,
    )
    # First, so its catch-all middleware sits inside the context and metrics middleware.
    install_problem_handlers(app, retry_after=settings.unavailable_retry_after_seconds)
    app.add_middleware(RejectUnstorableInput)  # innermost: after ids and metrics are set up
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(
        health_router(
            checks if checks is not None else default_checks(settings),
            settings.readiness_timeout_seconds,
            background_checks,
        )
    )
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    return app
