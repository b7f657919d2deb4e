"""Moving a running programme's history into Kamu: People Operations accepts a pairing with
``began_at``, when it really began. Only those who administer may date a pairing back, and only
between ``KAMU_HISTORY_DAYS`` ago and now; a refused acceptance writes nothing."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kamu_pairing.domain.events import PairingCreated, registry
from kamu_shared.testing.problems import assert_problem

OPS = ("ops", "people-ops")
ADMIN = ("root", "admin")
KIM = ("kim",)  # the Kamu cole asked
EVE = ("eve",)  # a plain employee, in no pairing
HELSINKI = timezone(timedelta(hours=3))
CREATED = "kamu.pairing.pairing-created.v1"


def days_ago(days: float) -> datetime:
    """A time ``days`` back, written with a +03:00 offset, in whole seconds."""
    return (datetime.now(UTC) - timedelta(days=days)).astimezone(HELSINKI).replace(microsecond=0)


async def requested(service) -> str:
    """cole asked kim: a pairing waiting for its answer (eve is a plain person)."""
    for person in ("cole", "eve"):
        await service.person(person)
    await service.kamu("kim")
    return await service.request("cole", "kim")


async def created_events(service, pairing_id: str) -> list[PairingCreated]:
    """The pairing's ``pairing-created`` events, read back from the event store."""
    stored = await service.app.state.runtime.store.read_stream(f"pairing-{pairing_id}")
    events = [registry.decode(e.event_type, e.data, subject=e.stream_id) for e in stored]
    return [e for e in events if isinstance(e, PairingCreated)]


async def written(service) -> dict[str, Any]:
    """Every row an acceptance could write: events, idempotency keys and the state tables."""
    rows: dict[str, Any] = {
        t: await service.count(f"SELECT count(*) FROM {t}")
        for t in ("kamu_events", "kamu_streams", "kamu_idempotency_keys")
    }
    for table in ("pairing_kamus", "pairing_pairings"):
        rows[table] = [
            dict(r) for r in await service.pool.fetch(f"SELECT * FROM {table} ORDER BY 1")
        ]
    return rows


async def status_of(service, pairing_id: str) -> str:
    return str(
        await service.pool.fetchval(
            "SELECT status FROM pairing_pairings WHERE pairing_id = $1", pairing_id
        )
    )


@pytest.mark.parametrize("caller", [OPS, ADMIN], ids=["people-ops", "admin"])
async def test_people_operations_records_when_a_pairing_really_began(service, caller):
    pairing_id = await requested(service)
    began = days_ago(90)

    async with service.as_(*caller) as ops:
        accepted = await ops.post(
            f"/pairings/{pairing_id}/accept", json={"began_at": began.isoformat()}
        )

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"
    [created] = await created_events(service, pairing_id)
    assert created.began_at == began
    assert created.cadence_weeks == service.settings.default_cadence_weeks


async def test_an_acceptance_without_began_at_leaves_it_unset(service):
    pairing_id = await requested(service)

    async with service.as_(*KIM) as kim:
        accepted = await kim.post(f"/pairings/{pairing_id}/accept")

    assert accepted.status_code == 200, accepted.text
    [created] = await created_events(service, pairing_id)
    assert created.began_at is None


async def test_began_at_just_inside_the_history_window_is_taken(service):
    pairing_id = await requested(service)
    began = days_ago(service.settings.history_days - 1)

    async with service.as_(*OPS) as ops:
        accepted = await ops.post(
            f"/pairings/{pairing_id}/accept", json={"began_at": began.isoformat()}
        )

    assert accepted.status_code == 200, accepted.text
    assert [e.began_at for e in await created_events(service, pairing_id)] == [began]


async def test_the_kamu_may_not_date_the_pairing_back_and_nothing_is_written(service):
    pairing_id = await requested(service)
    before = await written(service)

    async with service.as_(*KIM) as kim:
        refused = await kim.post(
            f"/pairings/{pairing_id}/accept",
            json={"began_at": days_ago(90).isoformat()},
            headers={"Idempotency-Key": "accept-1"},
        )
        after = await written(service)
        created = await created_events(service, pairing_id)
        status = await status_of(service, pairing_id)
        plain = await kim.post(f"/pairings/{pairing_id}/accept")

    assert_problem(refused, 403, "forbidden")
    assert after == before
    assert created == []
    assert status == "requested"
    assert plain.status_code == 200, plain.text  # without began_at the Kamu still accepts


@pytest.mark.parametrize(
    "began_at",
    [
        pytest.param(lambda: datetime.now(UTC) + timedelta(days=1), id="tomorrow"),
        pytest.param(lambda: datetime.now(UTC) + timedelta(minutes=10), id="in ten minutes"),
        pytest.param(lambda: datetime.now(UTC) - timedelta(days=401), id="401 days ago"),
        pytest.param(lambda: datetime.now(UTC) - timedelta(days=4000), id="4000 days ago"),
    ],
)
async def test_began_at_outside_the_history_window_is_refused(service, began_at):
    pairing_id = await requested(service)
    before = await written(service)

    async with service.as_(*OPS) as ops:
        refused = await ops.post(
            f"/pairings/{pairing_id}/accept",
            json={"began_at": began_at().astimezone(HELSINKI).isoformat()},
        )

    assert_problem(refused, 422, "began-at-out-of-range")
    assert await written(service) == before
    assert await status_of(service, pairing_id) == "requested"


@pytest.mark.parametrize(
    "began_at",
    [
        pytest.param(days_ago(90).replace(tzinfo=None).isoformat(), id="naive"),
        pytest.param(days_ago(90).date().isoformat(), id="a date"),
        pytest.param(int(days_ago(90).timestamp()), id="unix time"),
        pytest.param("ninety days ago", id="words"),
        pytest.param("", id="empty"),
    ],
)
async def test_began_at_that_is_not_an_rfc3339_timestamp_with_offset_is_refused(service, began_at):
    pairing_id = await requested(service)
    before = await written(service)

    async with service.as_(*OPS) as ops:
        refused = await ops.post(f"/pairings/{pairing_id}/accept", json={"began_at": began_at})

    assert_problem(refused, 422, "validation-failed")
    assert await written(service) == before


async def test_a_retried_acceptance_with_began_at_gets_the_same_answer_and_one_event(service):
    pairing_id = await requested(service)
    body = {"began_at": days_ago(90).isoformat(), "cadence_weeks": 3}
    key = {"Idempotency-Key": "import-cole-kim"}

    async with service.as_(*OPS) as ops:
        first = await ops.post(f"/pairings/{pairing_id}/accept", json=body, headers=key)
        retry = await ops.post(f"/pairings/{pairing_id}/accept", json=body, headers=key)

    assert first.status_code == retry.status_code == 200, (first.text, retry.text)
    assert retry.json() == first.json()
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert [e.began_at for e in await created_events(service, pairing_id)] == [
        datetime.fromisoformat(body["began_at"])
    ]
    assert (
        await service.count("SELECT count(*) FROM kamu_events WHERE event_type = $1", CREATED) == 1
    )


@pytest.fixture
def short_history(monkeypatch, request):
    """The service with KAMU_HISTORY_DAYS=30."""
    monkeypatch.setenv("KAMU_HISTORY_DAYS", "30")
    return request.getfixturevalue("service")


async def test_the_history_window_is_the_setting(short_history):
    service = short_history
    assert service.settings.history_days == 30
    pairing_id = await requested(service)

    async with service.as_(*OPS) as ops:
        too_far = await ops.post(
            f"/pairings/{pairing_id}/accept", json={"began_at": days_ago(31).isoformat()}
        )
        inside = await ops.post(
            f"/pairings/{pairing_id}/accept", json={"began_at": days_ago(29).isoformat()}
        )

    assert_problem(too_far, 422, "began-at-out-of-range")
    assert inside.status_code == 200, inside.text


@pytest.mark.regression
async def test_a_pairing_the_caller_may_not_see_stays_404_with_began_at(service):
    pairing_id = await requested(service)
    body = {"began_at": days_ago(90).isoformat()}

    async with service.as_(*EVE) as eve:
        without = await eve.post(f"/pairings/{pairing_id}/accept")
        with_began_at = await eve.post(f"/pairings/{pairing_id}/accept", json=body)
    async with service.as_(*KIM) as kim:
        unknown = await kim.post("/pairings/no-such-pairing/accept", json=body)

    assert_problem(without, 404, "not-found")
    assert_problem(with_began_at, 404, "not-found")
    assert_problem(unknown, 404, "not-found")
