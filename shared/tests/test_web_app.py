"""The plumbing every service gets: health against the real servers, metrics, request ids, logs."""

import json
import logging

import httpx
import pytest
import structlog

from kamu_devstack.ports import free_port
from kamu_shared.logging import configure_logging
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app


def client_for(settings: ServiceSettings) -> httpx.AsyncClient:
    app = create_service_app(settings, title="kamu-test", description="test", version="0")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def database(make_database):
    return await make_database("web")


async def test_ready_when_database_and_kafka_answer(database, kafka_bootstrap):
    settings = ServiceSettings(database_url=database, kafka_bootstrap=kafka_bootstrap)
    async with client_for(settings) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "kafka": "ok"}}


@pytest.mark.parametrize("broken", ["postgres", "kafka"])
async def test_not_ready_names_the_dependency_that_is_down(broken, database, kafka_bootstrap):
    closed = f"127.0.0.1:{free_port()}"
    settings = ServiceSettings(
        database_url=f"postgresql://postgres@{closed}/x" if broken == "postgres" else database,
        kafka_bootstrap=closed if broken == "kafka" else kafka_bootstrap,
        readiness_timeout_seconds=3,
    )
    async with client_for(settings) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")

    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks.pop(broken) != "ok"
    assert set(checks.values()) == {"ok"}
    assert alive.status_code == 200  # liveness does not depend on others: no restart storms


async def test_metrics_count_requests_by_route_template():
    async with client_for(ServiceSettings()) as client:
        await client.get("/healthz")
        await client.get("/no/such/path/42")
        body = (await client.get("/metrics")).text

    assert 'kamu_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'route="unmatched",status="404"' in body
    assert "/no/such/path/42" not in body


async def test_correlation_id_is_echoed_and_logged(capsys):
    configure_logging("test", fmt="json")
    async with client_for(ServiceSettings()) as client:
        given = await client.get("/openapi.json", headers={"X-Correlation-ID": "corr-123"})
        fresh = await client.get("/openapi.json")

    assert given.headers["x-correlation-id"] == "corr-123"
    assert fresh.headers["x-correlation-id"] == fresh.headers["x-request-id"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    request_lines = [entry for entry in lines if entry["event"] == "request"]
    assert request_lines[0]["correlation_id"] == "corr-123"
    assert request_lines[0]["service"] == "test"
    assert request_lines[0]["status"] == 200
    assert request_lines[1]["request_id"] == fresh.headers["x-request-id"]


def test_standard_library_logs_come_out_as_json(capsys):
    configure_logging("test", fmt="json")
    with structlog.contextvars.bound_contextvars(correlation_id="c-1"):
        logging.getLogger("aiokafka").warning("broker %s gone", "b1")

    entry = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert entry["event"] == "broker b1 gone"
    assert entry["level"] == "warning"
    assert entry["correlation_id"] == "c-1"
