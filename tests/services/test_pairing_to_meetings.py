"""Pairing and meetings as two apps on one Kafka cluster: meetings learns pairings only from
``kamu.pairing.events`` (each service its own database), as in production."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kamu_meetings.app import create_app as meetings_app
from kamu_meetings.settings import MeetingsSettings
from kamu_pairing.app import create_app as pairing_app
from kamu_pairing.settings import PairingSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.waiting import eventually

SECRET = "cross-service-tests-secret-of-32-bytes!!"


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
    async with pairing.router.lifespan_context(pairing), meetings.router.lifespan_context(meetings):
        yield pairing, meetings


def client(app, sub: str, *roles: str) -> httpx.AsyncClient:
    token = mint_token(secret=SECRET, sub=sub, roles=list(roles or ("employee",)))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_pairing_made_in_pairing_gets_meetings_and_its_end_cancels_them(apps):
    pairing, meetings = apps
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
        request = await ada.post("/pairings", json={"colleague_id": "ada", "kamu_id": "bo"})
    pairing_id = request.json()["id"]
    async with client(pairing, "bo") as bo:
        assert (await bo.post(f"/pairings/{pairing_id}/accept")).status_code == 200

    body = {
        "pairing_id": pairing_id,
        "starts_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    }
    async with client(meetings, "ada") as ada:

        async def scheduled():
            # A client retries while meetings has not heard of the pairing (409 with
            # Retry-After) or has heard of the request but not yet of its acceptance (409
            # pairing-not-active: the two events arrive a moment apart).
            response = await ada.post("/meetings", json=body)
            assert response.status_code in (201, 409), response.text
            if response.status_code == 409:
                slug = response.json()["type"].rsplit("/", 1)[-1]
                assert slug in ("awaiting-upstream", "pairing-not-active"), response.text
                if slug == "awaiting-upstream":
                    assert response.headers["Retry-After"]
            return response if response.status_code == 201 else None

        meeting = (await eventually(scheduled, timeout=30)).json()
    assert meeting["kamu_id"] == "bo"

    async with client(pairing, "ada") as ada:
        assert (await ada.post(f"/pairings/{pairing_id}/end")).status_code == 200
    async with client(meetings, "ada") as ada:

        async def cancelled():
            found = (await ada.get(f"/meetings/{meeting['id']}")).json()
            return found if found["status"] == "cancelled" else None

        found = await eventually(cancelled, timeout=30)
    assert found["cancel_cause"] == "pairing-ended"
