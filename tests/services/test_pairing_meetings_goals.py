"""Pairing, meetings and goals as three apps on one Kafka cluster, each with its own database:
a goal shared with the Kamu, reviewed in a meeting, and unshared when the pairing ends."""

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from kamu_goals.app import create_app as goals_app
from kamu_goals.settings import GoalsSettings
from kamu_meetings.app import create_app as meetings_app
from kamu_meetings.settings import MeetingsSettings
from kamu_pairing.app import create_app as pairing_app
from kamu_pairing.settings import PairingSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.waiting import eventually

SECRET = "three-services-tests-secret-of-32-bytes!"


@pytest.fixture
async def apps(make_database, kafka_bootstrap):
    common = {
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": SECRET,
        "topic_namespace": f"x{uuid.uuid4().hex[:10]}",
        "relay_poll_interval_seconds": 0.1,
        "log_format": "console",
    }
    pairing = pairing_app(PairingSettings(database_url=await make_database("pairing"), **common))
    meetings = meetings_app(
        MeetingsSettings(database_url=await make_database("meetings"), **common)
    )
    goals = goals_app(GoalsSettings(database_url=await make_database("goals"), **common))
    async with (
        pairing.router.lifespan_context(pairing),
        meetings.router.lifespan_context(meetings),
        goals.router.lifespan_context(goals),
    ):
        yield pairing, meetings, goals


def client(app, sub: str, *roles: str) -> httpx.AsyncClient:
    token = mint_token(secret=SECRET, sub=sub, roles=list(roles or ("employee",)))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def until(call, ok=(200, 201)):
    """Retry a request while the service has not heard the upstream event yet (409)."""

    async def attempt():
        response = await call()
        assert response.status_code in (*ok, 409), response.text
        return response if response.status_code in ok else None

    return await eventually(attempt, timeout=30)


async def test_a_shared_goal_reviewed_in_a_meeting_is_private_again_after_the_pairing(apps):
    pairing, meetings, goals = apps
    async with client(pairing, "hr", "service") as hr:
        for person in ("ada", "bo"):
            body = {"display_name": person.title(), "email": f"{person}@example.org"}
            assert (await hr.put(f"/people/{person}", json=body)).status_code == 201
    async with client(pairing, "bo") as bo:
        offer = {"capacity": 2, "hours_per_month": 6, "topics": [], "languages": ["en"]}
        assert (await bo.put("/kamus/bo", json=offer)).status_code == 201
    async with client(pairing, "ops", "people-ops") as ops:
        training = {"training": "basics", "completed_on": "2026-01-05"}
        assert (await ops.post("/kamus/bo/training", json=training)).status_code == 200
    async with client(pairing, "ada") as ada:
        pairing_id = (
            await ada.post("/pairings", json={"colleague_id": "ada", "kamu_id": "bo"})
        ).json()["id"]
    async with client(pairing, "bo") as bo:
        assert (await bo.post(f"/pairings/{pairing_id}/accept")).status_code == 200

    body = {
        "title": "Speak at the all-hands",
        "category": "competence",
        "target_date": (date.today() + timedelta(days=60)).isoformat(),
        "visibility": "kamu",
    }
    async with client(goals, "ada") as ada:
        goal = (await until(lambda: ada.post("/goals", json=body))).json()  # no-kamu until known
    assert goal["shared_with"] == "bo"
    async with client(meetings, "ada") as ada:
        start = {
            "pairing_id": pairing_id,
            "starts_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
        }
        meeting = (await until(lambda: ada.post("/meetings", json=start))).json()
    async with client(meetings, "bo") as bo:
        held = await until(
            lambda: bo.post(f"/meetings/{meeting['id']}/complete", json={"goal_ids": [goal["id"]]})
        )
    assert held.json()["goal_ids"] == [goal["id"]]
    async with client(goals, "bo") as bo:

        async def linked():
            found = (await bo.get(f"/goals/{goal['id']}")).json()
            return found if found["meetings"] == [meeting["id"]] else None

        await eventually(linked)
        reviewed = await bo.post(
            f"/goals/{goal['id']}/reviews",
            json={"outcome": "keep", "meeting_id": meeting["id"]},
        )
        assert reviewed.status_code == 201

    async with client(pairing, "ada") as ada:
        assert (await ada.post(f"/pairings/{pairing_id}/end")).status_code == 200
    async with client(goals, "bo") as bo:

        async def revoked():
            return (await bo.get(f"/goals/{goal['id']}")).status_code == 404

        await eventually(revoked)
    async with client(goals, "ada") as ada:
        mine = (await ada.get(f"/goals/{goal['id']}")).json()
    assert mine["visibility"] == "private"
    assert [r["meeting_id"] for r in mine["reviews"]] == [meeting["id"]]
