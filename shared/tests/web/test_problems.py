"""Every error answers RFC 9457 problem+json: unknown routes, bad input, problems, crashes."""

import json
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from kamu_shared.logging import configure_logging
from kamu_shared.settings import ServiceSettings
from kamu_shared.store.records import NO_STREAM, NewEvent, StreamAppend
from kamu_shared.web.app import create_service_app
from kamu_shared.web.errors import (
    PROBLEM_CONTENT_TYPE,
    Conflict,
    NotFound,
    ProblemError,
    Unauthorized,
    awaiting_upstream,
    install_problem_handlers,
)


class Signup(BaseModel):
    name: str
    pin: int


def client() -> httpx.AsyncClient:
    app = create_service_app(ServiceSettings(), title="t", description="t", version="0", checks=[])

    @app.post("/signups", status_code=201)
    async def signup(body: Signup) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        raise NotFound(f"No item {item_id}.")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("password=hunter2 host=db.internal")

    @app.get("/busy")
    async def busy() -> None:
        raise Conflict("Still settling.", retry_after=7, extra={"resource": "pairing"})

    @app.get("/upstream")
    async def upstream() -> None:
        raise awaiting_upstream("Person p-1 is not known here yet.")

    @app.get("/login")
    async def login() -> None:
        raise Unauthorized("Send a token.")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418, detail="Short and stout.")

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    return body


async def test_unknown_route_is_a_404_problem():
    async with client() as c:
        response = await c.get("/no/such/thing")
    body = assert_problem(response, 404, "not-found")
    assert body["detail"] == "No resource at this path."


async def test_wrong_method_is_a_405_problem_keeping_allow():
    async with client() as c:
        response = await c.delete("/signups")
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["allow"]


async def test_http_exception_keeps_its_detail():
    async with client() as c:
        response = await c.get("/teapot")
    assert assert_problem(response, 418, "im-a-teapot")["detail"] == "Short and stout."


async def test_validation_lists_fields_without_echoing_input():
    async with client() as c:
        response = await c.post("/signups", json={"pin": "s3cret-value"})
    body = assert_problem(response, 422, "validation-failed")
    locations = {tuple(e["location"]) for e in body["errors"]}
    assert locations == {("body", "name"), ("body", "pin")}
    assert all(e["message"] and e["type"] for e in body["errors"])
    assert "s3cret-value" not in response.text


async def test_path_parameter_validation_is_422():
    async with client() as c:
        response = await c.get("/items/abc")
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["location"] == ["path", "item_id"]


async def test_malformed_json_is_400():
    async with client() as c:
        response = await c.post(
            "/signups", content=b'{"name": "a", pin', headers={"content-type": "application/json"}
        )
    assert "not valid JSON" in assert_problem(response, 400, "malformed-json")["detail"]


async def test_raised_problem_keeps_its_detail():
    async with client() as c:
        response = await c.get("/items/3")
    assert assert_problem(response, 404, "not-found")["detail"] == "No item 3."


async def test_conflict_with_retry_after_and_extra_members():
    async with client() as c:
        busy = await c.get("/busy")
        upstream = await c.get("/upstream")
    assert assert_problem(busy, 409, "conflict")["resource"] == "pairing"
    assert busy.headers["retry-after"] == "7"
    assert_problem(upstream, 409, "awaiting-upstream")
    assert upstream.headers["retry-after"] == "2"


async def test_unauthorized_challenges_for_a_bearer_token():
    async with client() as c:
        response = await c.get("/login")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_crash_is_a_generic_500_and_the_traceback_is_logged(capsys):
    configure_logging("test", fmt="json")
    async with client() as c:
        response = await c.get("/crash")
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    error = next(entry for entry in lines if entry["event"] == "unhandled-error")
    assert "Traceback" in error["exception"]
    assert "RuntimeError" in error["exception"]
    assert error["request_id"] == response.headers["x-request-id"]
    request = next(entry for entry in lines if entry["event"] == "request")
    assert request["status"] == 500


def test_problem_error_refuses_non_error_status_and_shadowed_members():
    with pytest.raises(ValueError, match="4xx or 5xx"):
        ProblemError(200, "ok", "OK")
    with pytest.raises(ValueError, match="standard"):
        ProblemError(400, "x", "X", extra={"status": 1})


async def test_a_stale_expected_version_answers_409_or_412_never_500(store):
    """The event store's ConcurrencyError maps to 409, or 412 when the caller sent If-Match."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things/{thing_id}")
    async def change(thing_id: str) -> dict[str, str]:
        event = NewEvent("kamu.example.changed.v1", {}, datetime.now(UTC))
        await store.append([StreamAppend(thing_id, "thing", NO_STREAM, [event])])
        return {"ok": thing_id}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.post("/things/a")
        stale = await client.post("/things/a")
        stale_with_if_match = await client.post("/things/a", headers={"If-Match": '"v0"'})

    assert first.status_code == 200
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["type"] == "/problems/concurrent-modification"
    assert stale.json()["current_version"] == 1
    assert stale_with_if_match.status_code == 412
    assert len(await store.read_stream("a")) == 1
