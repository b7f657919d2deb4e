"""A pair's meetings end to end: schedule, move, hold, rate; events on the real topic."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from kamu_meetings.domain import inbound
from kamu_shared.testing.kafka import read_topic
from kamu_shared.testing.waiting import eventually


async def test_a_pair_schedules_moves_holds_and_rates_a_meeting(service, kafka_bootstrap):
    pairing, colleague, kamu = await service.pair()
    meeting = await service.schedule(pairing, colleague, agenda="career steps")
    assert meeting["status"] == "scheduled"
    assert meeting["time_zone"] == "Europe/Helsinki"  # the scheduler's own zone by default
    assert meeting["colleague_id"] == colleague
    assert meeting["kamu_id"] == kamu
    mid = meeting["id"]

    async with service.as_(kamu) as k:
        moved = await k.post(
            f"/meetings/{mid}/reschedule",
            json={"starts_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()},
            headers={"If-Match": '"v1"'},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["sequence"] == 1
        assert moved.json()["location"] == "Room 3"
        assert moved.headers["ETag"] == '"v2"'
        stale = await k.post(f"/meetings/{mid}/complete", json={}, headers={"If-Match": '"v1"'})
        assert stale.status_code == 412
        held = await k.post(f"/meetings/{mid}/complete", json={"notes": "talked about goals"})
        assert held.status_code == 200, held.text
        assert held.json()["status"] == "held"
        assert held.json()["notes"] == "talked about goals"
        rated = await k.post(
            f"/meetings/{mid}/feedback", json={"psychological_safety": 5, "usefulness": 4}
        )
        assert rated.status_code == 200
        assert rated.json()["my_feedback_given"] is True
        again = await k.post(
            f"/meetings/{mid}/feedback", json={"psychological_safety": 1, "usefulness": 1}
        )
        assert again.status_code == 409
        assert again.json()["type"].endswith("feedback-already-given")
    async with service.as_(colleague) as c:
        seen = (await c.get(f"/meetings/{mid}")).json()
        assert seen["notes"] == "talked about goals"
        assert seen["my_feedback_given"] is False  # the Kamu's answer is not the colleague's

    topic = service.runtime.topic

    async def published():
        found = await read_topic(kafka_bootstrap, topic)
        return [m for m in found if m.subject == f"meeting-{mid}"]

    messages = await eventually(lambda: _at_least(published, 4))
    assert [m.type for m in messages] == [
        "kamu.meetings.meeting-scheduled.v1",
        "kamu.meetings.meeting-rescheduled.v1",
        "kamu.meetings.meeting-held.v1",
        "kamu.meetings.meeting-feedback-given.v1",
    ]
    held_data = messages[2].data
    assert "talked about goals" not in str(held_data)  # sealed, never in clear on the topic
    assert held_data["notes_sealed"]
    feedback_data = messages[3].data
    assert feedback_data["respondent"] == "kamu"
    assert {"respondent", "psychological_safety", "usefulness"} <= set(feedback_data)
    assert "given_by" not in feedback_data
    assert "person_id" not in feedback_data


async def _at_least(fetch, n):
    found = await fetch()
    return found if len(found) >= n else None


async def test_nobody_but_the_pair_sees_a_meeting_or_its_notes(service):
    pairing, colleague, _kamu = await service.pair()
    held = await service.held(pairing, colleague, notes="private words")
    for outsider, roles in (("someone", ()), ("ops", ("people-ops",)), ("root", ("admin",))):
        async with service.as_(outsider, *roles) as o:
            assert (await o.get(f"/meetings/{held['id']}")).status_code == 404
            assert (await o.post(f"/meetings/{held['id']}/cancel")).status_code == 404
            listed = await o.get(f"/people/{colleague}/meetings")
            assert listed.status_code == 404
            assert (await o.get(f"/people/{colleague}/calendar.ics")).status_code == 404
            assert (await o.get(f"/pairings/{pairing}/cadence")).status_code == 404
    stored = await service.pool.fetchval(
        "SELECT string_agg(data::text, ' ') FROM kamu_events WHERE stream_id = $1",
        f"meeting-{held['id']}",
    )
    assert "private words" not in stored


async def test_a_pairing_not_heard_of_yet_answers_409_with_retry_after_then_works(service):
    pairing_id = str(uuid.uuid4())
    body = {
        "pairing_id": pairing_id,
        "starts_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    }
    async with service.as_("early") as c:
        early = await c.post("/meetings", json=body)
        assert early.status_code == 409
        assert early.headers["Retry-After"] == str(service.settings.pairing_retry_after_seconds)
        assert await service.count("SELECT count(*) FROM kamu_events") == 0
    await service.upstream.publish(
        inbound.pairing_events,
        inbound.PairingCreated(
            pairing_id=pairing_id, colleague_id="early", kamu_id="kamu-x", cadence_weeks=2
        ),
        f"pairing-{pairing_id}",
    )
    await service.wait_for_pairing(pairing_id, "active")
    async with service.as_("early") as c:
        assert (await c.post("/meetings", json=body)).status_code == 201


async def test_meetings_of_ended_or_other_peoples_pairings_are_refused(service):
    pairing, colleague, kamu = await service.pair()
    other, _, _ = await service.pair()
    body = {"pairing_id": other, "starts_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}
    async with service.as_(colleague) as c:
        assert (await c.post("/meetings", json=body)).status_code == 404
    await service.end(pairing, colleague, kamu)
    body["pairing_id"] = pairing
    async with service.as_(colleague) as c:
        refused = await c.post("/meetings", json=body)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("pairing-not-active")


async def test_an_ended_pairing_cancels_its_future_meetings_once(service):
    pairing, colleague, kamu = await service.pair()
    past = await service.schedule(pairing, colleague, in_days=-1)
    soon = await service.schedule(pairing, kamu, in_days=3)
    later = await service.schedule(pairing, colleague, in_days=10)
    envelope = await service.upstream.publish(
        inbound.pairing_events,
        inbound.PairingEnded(pairing_id=pairing, colleague_id=colleague, kamu_id=kamu),
        f"pairing-{pairing}",
    )
    await service.wait_for_pairing(pairing, "ended")
    # Redelivery of the very same event (same source and id) changes nothing.
    key, value, headers = envelope.to_kafka()
    from kamu_shared.kafka.topics import in_namespace

    topic = in_namespace(inbound.pairing_events.topic, service.settings.topic_namespace)
    await service.upstream.producer.send_and_wait(topic, value, key=key, headers=headers)
    await asyncio.sleep(1.5)
    async with service.as_(colleague) as c:
        statuses = {
            m: (await c.get(f"/meetings/{m}")).json() for m in (past["id"], soon["id"], later["id"])
        }
    assert statuses[past["id"]]["status"] == "scheduled"  # in the past: still theirs to record
    for m in (soon["id"], later["id"]):
        assert statuses[m]["status"] == "cancelled"
        assert statuses[m]["cancel_cause"] == "pairing-ended"
    cancellations = await service.count(
        "SELECT count(*) FROM kamu_events WHERE event_type = 'kamu.meetings.meeting-cancelled.v1'"
    )
    assert cancellations == 2
    async with service.as_(colleague) as c:
        cadence = (await c.get(f"/pairings/{pairing}/cadence")).json()
    assert cadence["status"] == "ended"
    assert cadence["next_due_at"] is None
