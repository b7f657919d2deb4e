"""Idempotency-Key on a real PostgreSQL: retries replay, reuse is refused, effects happen once."""

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import Request, Response
from pydantic import BaseModel

from kamu_shared.db.migrations import apply_migrations
from kamu_shared.db.pool import create_pool
from kamu_shared.settings import ServiceSettings
from kamu_shared.store.eventstore import EventStore
from kamu_shared.store.records import NO_STREAM, NewEvent, StreamAppend
from kamu_shared.web.app import create_service_app
from kamu_shared.web.errors import Conflict, NotFound, ProblemError
from kamu_shared.web.etag import etag
from kamu_shared.web.idempotency import CommandResult, Idempotency, purge_older_than

BODY = json.dumps({"note": "hello", "size": 1}).encode()


@pytest.fixture
async def idem_pool(make_database):
    url = await make_database("idem")
    await apply_migrations(url)
    pool = await create_pool(url, min_size=1, max_size=6)
    await pool.execute("CREATE TABLE effects (id serial PRIMARY KEY, note text NOT NULL)")
    yield pool
    await pool.close()


def writes(note: str = "hello", pause: float = 0.0, calls: list[str] | None = None):
    async def execute(conn) -> CommandResult:
        if calls is not None:
            calls.append(note)
        # The event store's rule: the command's write is the first of its transaction.
        assert await conn.fetchval("SELECT pg_current_xact_id_if_assigned()") is None
        effect_id = await conn.fetchval("INSERT INTO effects (note) VALUES ($1) RETURNING id", note)
        await asyncio.sleep(pause)
        return CommandResult(201, {"id": effect_id, "note": note}, {"ETag": etag(1)})

    return execute


async def run(pool, execute, *, key="k-1", body=BODY, principal="alice"):
    return await Idempotency().run(
        pool,
        principal=principal,
        key=key,
        method="POST",
        path="/effects",
        body=body,
        execute=execute,
    )


async def effects(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM effects")


async def test_retry_returns_the_first_answer(idem_pool):
    first = await run(idem_pool, writes())
    retry = await run(idem_pool, writes())

    assert (first.status, first.replayed) == (201, False)
    assert (retry.status, retry.body, retry.replayed) == (201, first.body, True)
    assert retry.headers == {"ETag": '"v1"', "Idempotent-Replayed": "true"}
    assert await effects(idem_pool) == 1
    row = await idem_pool.fetchrow("SELECT * FROM kamu_idempotency_keys")
    assert (row["principal"], row["key"], row["method"], row["path"]) == (
        "alice",
        "k-1",
        "POST",
        "/effects",
    )


async def test_same_json_in_another_key_order_is_the_same_request(idem_pool):
    await run(idem_pool, writes())
    retry = await run(idem_pool, writes(), body=b'{"size": 1,  "note": "hello"}')
    assert retry.replayed


async def test_same_key_with_another_body_is_422(idem_pool):
    await run(idem_pool, writes())
    with pytest.raises(ProblemError) as caught:
        await run(idem_pool, writes(), body=b'{"note": "other"}')
    assert (caught.value.status, caught.value.slug) == (422, "idempotency-key-reused")
    assert await effects(idem_pool) == 1


async def test_keys_belong_to_their_principal(idem_pool):
    await run(idem_pool, writes(), principal="alice")
    bob = await run(idem_pool, writes(), principal="bob")
    assert not bob.replayed
    assert await effects(idem_pool) == 2


async def test_a_problem_rolls_back_and_is_not_stored(idem_pool):
    async def fails(conn) -> CommandResult:
        await conn.execute("INSERT INTO effects (note) VALUES ('partial')")
        raise NotFound("No such person.")

    with pytest.raises(NotFound):
        await run(idem_pool, fails)
    assert await effects(idem_pool) == 0
    assert await idem_pool.fetchval("SELECT count(*) FROM kamu_idempotency_keys") == 0

    fixed = await run(idem_pool, writes())
    assert not fixed.replayed
    assert await effects(idem_pool) == 1


async def test_without_a_key_the_command_runs_every_time(idem_pool):
    await run(idem_pool, writes(), key=None)
    await run(idem_pool, writes(), key=None)
    assert await effects(idem_pool) == 2
    assert await idem_pool.fetchval("SELECT count(*) FROM kamu_idempotency_keys") == 0


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
async def test_malformed_key_is_400(idem_pool, key):
    with pytest.raises(ProblemError) as caught:
        await run(idem_pool, writes(), key=key)
    assert (caught.value.status, caught.value.slug) == (400, "invalid-idempotency-key")
    assert await effects(idem_pool) == 0


async def test_concurrent_calls_with_one_key_take_effect_once(idem_pool):
    calls: list[str] = []
    results = await asyncio.gather(
        run(idem_pool, writes(pause=0.3, calls=calls)),
        run(idem_pool, writes(pause=0.3, calls=calls)),
    )

    assert len(calls) == 2  # both really ran: the loser's write was rolled back
    assert await effects(idem_pool) == 1
    assert results[0].body == results[1].body
    assert {r.status for r in results} == {201}
    assert sorted(r.replayed for r in results) == [False, True]


async def test_a_command_failing_behind_a_concurrent_winner_gets_the_winners_answer(idem_pool):
    """Like an append that finds its stream moved on because the first request appended."""

    async def once(conn) -> CommandResult:
        await conn.execute("SELECT pg_advisory_xact_lock(42)")
        if await conn.fetchval("SELECT count(*) FROM effects"):
            raise Conflict("The stream moved on.")
        effect_id = await conn.fetchval("INSERT INTO effects (note) VALUES ('x') RETURNING id")
        await asyncio.sleep(0.3)
        return CommandResult(201, {"id": effect_id})

    results = await asyncio.gather(run(idem_pool, once), run(idem_pool, once))

    assert await effects(idem_pool) == 1
    assert results[0].body == results[1].body
    assert sorted(r.replayed for r in results) == [False, True]


async def test_purge_removes_rows_past_retention(idem_pool):
    await run(idem_pool, writes(), key="old")
    await run(idem_pool, writes(), key="new")
    await idem_pool.execute(
        "UPDATE kamu_idempotency_keys SET created_at = now() - interval '10 days' WHERE key = 'old'"
    )
    assert await purge_older_than(idem_pool, 7) == 1
    assert await idem_pool.fetchval("SELECT array_agg(key) FROM kamu_idempotency_keys") == ["new"]


class NewEffect(BaseModel):
    note: str


async def test_over_http_replays_with_the_header_and_refuses_reuse(idem_pool):
    app = create_service_app(ServiceSettings(), title="t", description="t", version="0", checks=[])
    idempotency = Idempotency()

    @app.post("/effects", status_code=201)
    async def create(body: NewEffect, request: Request) -> Response:
        return await idempotency.respond(
            request, idem_pool, principal="alice", execute=writes(body.note)
        )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        headers = {"Idempotency-Key": '"6f1c2a9e-key"'}
        first = await c.post("/effects", json={"note": "a"}, headers=headers)
        retry = await c.post("/effects", json={"note": "a"}, headers=headers)
        reused = await c.post("/effects", json={"note": "b"}, headers=headers)
        bad = await c.post("/effects", json={"note": "a"}, headers={"Idempotency-Key": "a b"})

    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert first.headers["etag"] == retry.headers["etag"] == '"v1"'
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["idempotent-replayed"] == "true"
    assert reused.status_code == 422
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert await effects(idem_pool) == 1


async def test_commands_appending_to_the_event_store_are_idempotent(idem_pool):
    """With the real store: the append is the first write, the key row follows; once only."""
    store = EventStore(idem_pool)

    async def create_thing(conn) -> CommandResult:
        event = NewEvent("kamu.example.thing-created.v1", {"n": 1}, datetime.now(UTC))
        [recorded] = await store.append(
            [StreamAppend("thing-1", "thing", NO_STREAM, [event])], conn=conn
        )
        return CommandResult(201, {"id": "thing-1"}, {"ETag": etag(recorded.version)})

    results = await asyncio.gather(*(run(idem_pool, create_thing, key="k-thing") for _ in range(3)))
    retried = await run(idem_pool, create_thing, key="k-thing")

    assert {(r.status, r.body["id"]) for r in [*results, retried]} == {(201, "thing-1")}
    assert retried.replayed
    assert len(await store.read_stream("thing-1")) == 1
