"""Notifications fed by the real producers: pairing and meetings as apps on one Kafka cluster
with notifications, which mails a real SMTP server (aiosmtpd) and posts to a real receiver.

Events travel as the producers publish them (their relays, their topics, their envelopes):
the request reaches the Kamu, the acceptance the colleague, and a meeting scheduled and
cancelled over the meetings API reaches both as iCalendar invitations with the meeting's UID.
"""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from kamu_meetings.app import create_app as meetings_app
from kamu_meetings.settings import MeetingsSettings
from kamu_notifications.app import create_app as notifications_app
from kamu_notifications.settings import NotificationsSettings
from kamu_pairing.app import create_app as pairing_app
from kamu_pairing.settings import PairingSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.receivers import http_receiver, smtp_receiver
from kamu_shared.testing.waiting import eventually

SECRET = "notifications-producers-secret-32-bytes!"


@pytest.fixture
async def apps(make_database, kafka_bootstrap):
    common = {
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": SECRET,
        "topic_namespace": f"n{uuid.uuid4().hex[:10]}",
        "relay_poll_interval_seconds": 0.1,
        "log_format": "console",
    }
    async with smtp_receiver() as smtp, http_receiver() as receiver:
        pairing = pairing_app(
            PairingSettings(database_url=await make_database("pairing"), **common)
        )
        meetings = meetings_app(
            MeetingsSettings(database_url=await make_database("meetings"), **common)
        )
        notifications = notifications_app(
            NotificationsSettings(
                database_url=await make_database("notifications"),
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                slack_webhook_url=f"{receiver.url}/slack",
                dispatch_poll_seconds=0.1,
                **common,
            )
        )
        async with (
            pairing.router.lifespan_context(pairing),
            meetings.router.lifespan_context(meetings),
            notifications.router.lifespan_context(notifications),
        ):
            yield pairing, meetings, smtp, receiver


def client(app, sub: str, *roles: str) -> httpx.AsyncClient:
    token = mint_token(secret=SECRET, sub=sub, roles=list(roles or ("employee",)))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def until(call, ok=(200, 201)):
    async def attempt():
        response = await call()
        assert response.status_code in (*ok, 409), response.text
        return response if response.status_code in ok else None

    return await eventually(attempt, timeout=30)


def mails(smtp, address: str, words: str) -> list:
    return [m for m in smtp.to(address) if words in m["Subject"]]


async def test_pairing_and_meetings_events_reach_people_as_mail_and_invitations(apps):
    pairing, meetings, smtp, receiver = apps
    async with client(pairing, "hr", "service") as hr:
        for person, slack in (("ada", "UADA"), ("bo", None)):
            body = {
                "display_name": person.title(),
                "email": f"{person}@example.org",
                "locale": "fi" if person == "bo" else "en",
                "time_zone": "Europe/Helsinki",
                "slack_user_id": slack,
            }
            assert (await hr.put(f"/people/{person}", json=body)).status_code == 201
    async with client(pairing, "bo") as bo:
        offer = {"capacity": 2, "hours_per_month": 6, "topics": [], "languages": ["fi"]}
        assert (await bo.put("/kamus/bo", json=offer)).status_code == 201
    async with client(pairing, "ops", "people-ops") as ops:
        training = {"training": "basics", "completed_on": "2026-01-05"}
        assert (await ops.post("/kamus/bo/training", json=training)).status_code == 200
    async with client(pairing, "ada") as ada:
        request = {"colleague_id": "ada", "kamu_id": "bo", "message": "I need help with X"}
        pairing_id = (await ada.post("/pairings", json=request)).json()["id"]

    async def asked():
        return mails(smtp, "bo@example.org", "Ada")

    (ask,) = await eventually(asked, timeout=30)
    assert ask["Subject"] == "Ada toivoo sinusta Kamuaan"  # Bo reads Finnish
    assert "I need help with X" not in ask.get_body(("plain",)).get_content()  # stays in the app

    async with client(pairing, "bo") as bo:
        assert (await bo.post(f"/pairings/{pairing_id}/accept")).status_code == 200

    async def accepted():
        return mails(smtp, "ada@example.org", "is now your Kamu")

    await eventually(accepted, timeout=30)
    (slack,) = [r for r in receiver.to("/slack") if "now your Kamu" in r.json()["text"]]
    assert slack.json()["user"] == "UADA"

    starts = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    async with client(meetings, "ada") as ada:
        body = {"pairing_id": pairing_id, "starts_at": starts.isoformat(), "location": "Cafe"}
        meeting = (await until(lambda: ada.post("/meetings", json=body))).json()
        assert (await ada.post(f"/meetings/{meeting['id']}/cancel", json={})).status_code == 200

    async def invited_and_cancelled():
        found = [m for m in smtp.to("bo@example.org") if m.get_content_type() != "x"]
        calendars = [
            Calendar.from_ical(p.get_content())
            for m in found
            for p in m.iter_attachments()
            if p.get_filename() == "invite.ics"
        ]
        return calendars if len(calendars) == 2 else None

    request_cal, cancel_cal = await eventually(invited_and_cancelled, timeout=30)
    assert str(request_cal["METHOD"]) == "REQUEST"
    assert str(cancel_cal["METHOD"]) == "CANCEL"
    for cal in (request_cal, cancel_cal):
        (event,) = cal.walk("VEVENT")
        assert str(event["UID"]) == f"{meeting['id']}@kamu"  # the meetings feed's UID
    (first,) = request_cal.walk("VEVENT")
    assert first.decoded("DTSTART") == starts
