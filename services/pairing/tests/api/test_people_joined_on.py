"""A person's start date from HR, ``joined_on`` on ``PUT /people/{id}``: read back, carried on
``person-registered`` and ``person-updated``, the same date again is no change, and a date
beyond tomorrow (UTC) is refused with nothing written."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from kamu_pairing.domain.events import PersonRegistered, PersonUpdated, registry
from kamu_shared.events import DomainEvent
from kamu_shared.testing.problems import assert_problem

HR = ("hr-sync", "service")
OPS = ("ops", "people-ops")
NIA = {
    "display_name": "Nia",
    "email": "nia@example.org",
    "team": "core",
    "time_zone": "Europe/Helsinki",
    "joined_on": "2021-03-01",
}


def today() -> date:
    return datetime.now(UTC).date()


async def put(service, body: dict[str, Any], person_id: str = "nia") -> Any:
    async with service.as_(*HR) as hr:
        return await hr.put(f"/people/{person_id}", json=body)


async def events_of(service, person_id: str = "nia") -> list[DomainEvent | None]:
    stored = await service.app.state.runtime.store.read_stream(f"person-{person_id}")
    return [registry.decode(e.event_type, e.data, subject=e.stream_id) for e in stored]


async def written(service) -> dict[str, Any]:
    counts = {
        t: await service.count(f"SELECT count(*) FROM {t}")
        for t in ("kamu_events", "kamu_streams", "kamu_idempotency_keys")
    }
    people = [dict(r) for r in await service.pool.fetch("SELECT * FROM pairing_people ORDER BY 1")]
    return {"counts": counts, "people": people}


async def test_the_start_date_is_registered_and_read_back(service):
    created = await put(service, NIA)
    async with service.as_(*OPS) as ops:
        read = await ops.get("/people/nia")
    async with service.as_("nia") as nia:
        own = await nia.get("/people/nia")

    assert created.status_code == 201, created.text
    assert created.json()["joined_on"] == "2021-03-01"
    assert read.json()["joined_on"] == "2021-03-01"
    assert own.json()["joined_on"] == "2021-03-01"
    assert await events_of(service) == [
        PersonRegistered(
            person_id="nia",
            **{**NIA, "joined_on": date(2021, 3, 1)},
        )
    ]


async def test_a_person_without_a_start_date_reads_back_null(service):
    body = {k: v for k, v in NIA.items() if k != "joined_on"}

    created = await put(service, body)

    assert created.status_code == 201, created.text
    assert created.json()["joined_on"] is None
    [registered] = await events_of(service)
    assert isinstance(registered, PersonRegistered)
    assert registered.joined_on is None


async def test_the_same_start_date_again_appends_nothing(service):
    assert (await put(service, NIA)).status_code == 201
    before = await written(service)

    again = await put(service, NIA)

    assert again.status_code == 200, again.text
    assert again.headers["etag"] == '"v1"'
    assert again.json()["joined_on"] == "2021-03-01"
    assert await written(service) == before


async def test_a_changed_start_date_is_a_person_updated(service):
    assert (await put(service, NIA)).status_code == 201

    changed = await put(service, {**NIA, "joined_on": "2021-02-15"})

    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert changed.json()["joined_on"] == "2021-02-15"
    [_, updated] = await events_of(service)
    assert isinstance(updated, PersonUpdated)
    assert updated.joined_on == date(2021, 2, 15)
    assert updated.team == "core"  # the whole profile, as every person-updated


@pytest.mark.parametrize("days", [0, 1], ids=["today", "tomorrow (time-zone grace)"])
async def test_a_start_date_of_today_or_tomorrow_is_taken(service, days):
    joined = today() + timedelta(days=days)

    created = await put(service, {**NIA, "joined_on": joined.isoformat()})

    assert created.status_code == 201, created.text
    assert created.json()["joined_on"] == joined.isoformat()


@pytest.mark.parametrize("days", [2, 400], ids=["the day after tomorrow", "next year"])
async def test_a_start_date_in_the_future_is_refused_and_nothing_is_written(service, days):
    assert (await put(service, NIA)).status_code == 201  # also: an update is refused whole
    before = await written(service)
    joined = today() + timedelta(days=days)

    refused = await put(service, {**NIA, "joined_on": joined.isoformat()})
    new = await put(service, {**NIA, "joined_on": joined.isoformat()}, person_id="newcomer")

    assert_problem(refused, 422, "joined-on-in-the-future")
    assert_problem(new, 422, "joined-on-in-the-future")
    detail = refused.json()["detail"]
    assert joined.isoformat() in detail
    assert (today() + timedelta(days=1)).isoformat() in detail  # the latest date it would take
    assert await written(service) == before


@pytest.mark.parametrize(
    "value",
    ["2021-3-1", "2021-02-30", "2021-03-01T00:00:00Z", "01.03.2021", 20210301, ""],
    ids=["no zero padding", "no such day", "a date-time", "another format", "a number", "empty"],
)
async def test_a_start_date_that_is_not_a_calendar_date_is_a_validation_error(service, value):
    refused = await put(service, {**NIA, "joined_on": value})

    assert_problem(refused, 422, "validation-failed")
    assert [e["location"] for e in refused.json()["errors"]] == [["body", "joined_on"]]
    assert await service.count("SELECT count(*) FROM kamu_events") == 0
