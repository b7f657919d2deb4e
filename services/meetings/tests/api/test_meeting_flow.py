"""A pair's meetings end to end: schedule, move, hold, rate; events on the real topic."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kamu_meetings.domain import inbound
from kamu_meetings.read_models.state import rebuild_state
from kamu_shared.testing.kafka import read_topic
from kamu_shared.testing.waiting import eventually

NOTES = "I may apply for the job in Oulu"


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
        # Answers are kept for idempotent retries: they say there are notes, not what they are.
        assert held.json()["notes"] is None
        assert held.json()["has_notes"] is True
        assert "talked about goals" not in held.text
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
        # Ratings have a stream of their own, so rating does not move the meeting's version.
        subjects = (f"meeting-{mid}", f"meeting-feedback-{mid}")
        return [m for m in found if m.subject in subjects]

    messages = await eventually(lambda: _at_least(published, 4))
    meeting_messages = [m for m in messages if m.subject == f"meeting-{mid}"]
    assert [m.type for m in meeting_messages] == [
        "kamu.meetings.meeting-scheduled.v1",
        "kamu.meetings.meeting-rescheduled.v1",
        "kamu.meetings.meeting-held.v1",
    ]
    feedback_messages = [m for m in messages if m.subject == f"meeting-feedback-{mid}"]
    assert [m.type for m in feedback_messages] == ["kamu.meetings.meeting-feedback-given.v1"]
    held_data = meeting_messages[2].data
    assert "talked about goals" not in str(held_data)  # sealed, never in clear on the topic
    assert held_data["notes_sealed"]
    feedback_data = feedback_messages[0].data
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
    await service.upstream.send(inbound.pairing_events, envelope)
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


@pytest.mark.regression
async def test_command_answers_and_their_idempotency_records_never_hold_the_notes(service):
    """Was a bug: command answers (complete, feedback, ...) carried the notes in clear, and
    every answer is stored for idempotent replay (``kamu_idempotency_keys``): the notes sat
    there unsealed, out of reach of the pairing's key (erasing it did not erase them). Answers
    now say ``has_notes`` and carry ``notes: null``; GET still shows the notes to the pair."""
    pairing, colleague, kamu = await service.pair()
    meeting = await service.schedule(pairing, colleague, in_days=-1 / 1440)
    path = f"/meetings/{meeting['id']}"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    async with service.as_(colleague) as c:
        held = await c.post(f"{path}/complete", json={"notes": NOTES}, headers=key)
        replayed = await c.post(f"{path}/complete", json={"notes": NOTES}, headers=key)
        rated = await c.post(
            f"{path}/feedback",
            json={"psychological_safety": 4, "usefulness": 4},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        read = await c.get(path)
        listed = await c.get(f"/people/{colleague}/meetings", params={"status": "held"})
    async with service.as_(kamu) as k:
        read_by_kamu = await k.get(path)
    stored = await service.pool.fetch(
        "SELECT key, response_body::text AS body FROM kamu_idempotency_keys"
    )
    anywhere = await service.count(
        "SELECT count(*) FROM kamu_idempotency_keys k WHERE k::text LIKE $1", f"%{NOTES}%"
    )

    assert held.status_code == 200, held.text
    assert held.json()["notes"] is None
    assert held.json()["has_notes"] is True
    assert replayed.status_code == 200
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == held.json()
    assert rated.status_code == 200, rated.text
    assert rated.json()["notes"] is None
    assert rated.json()["has_notes"] is True
    for answer in (held, replayed, rated):
        assert NOTES not in answer.text
    assert len(stored) == 2  # the answers to complete and feedback, kept for retries
    assert all(meeting["id"] in r["body"] for r in stored)
    assert anywhere == 0
    assert read.json()["notes"] == NOTES  # the pair still reads them
    assert read.json()["has_notes"] is True
    assert read_by_kamu.json()["notes"] == NOTES
    assert [m["notes"] for m in listed.json()["items"]] == [NOTES]


@pytest.mark.regression
async def test_a_meeting_cannot_start_before_its_pairing_began(service):
    """Was a bug: a meeting could be scheduled (or moved) up to ``backdate_days`` into the past
    whenever the pairing had begun, so a pair could record a meeting held before they were
    paired: stats then counted a first meeting before the pairing started (negative days to
    it) and the cadence clock moved to a time before the pairing. 422
    ``starts-before-pairing``, on schedule and on reschedule; nothing is written."""
    began = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    pairing, colleague, _kamu = await service.pair(at=began)
    earlier = (began - timedelta(minutes=30)).isoformat()
    async with service.as_(colleague) as c:
        early = await c.post("/meetings", json={"pairing_id": pairing, "starts_at": earlier})
        at_start = await c.post(
            "/meetings", json={"pairing_id": pairing, "starts_at": began.isoformat()}
        )
        assert at_start.status_code == 201, at_start.text
        before = await service.count("SELECT count(*) FROM kamu_events")
        moved = await c.post(
            f"/meetings/{at_start.json()['id']}/reschedule", json={"starts_at": earlier}
        )
        after = await service.count("SELECT count(*) FROM kamu_events")
        kept = await c.get(f"/meetings/{at_start.json()['id']}")

    for refused in (early, moved):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("starts-before-pairing")
    assert after == before
    assert (
        await service.count("SELECT count(*) FROM meetings_meetings WHERE pairing_id = $1", pairing)
        == 1
    )
    assert datetime.fromisoformat(kept.json()["starts_at"]) == began
    assert kept.json()["sequence"] == 0


async def test_a_pairing_moved_in_with_its_history_takes_meetings_from_when_it_began(
    start, settings
):
    """``began_at`` on ``pairing-created`` is when the pairing started: meetings may be logged
    from then (within the service's backdate window, widened here). Its cadence clock starts
    when the event happened, so the pair is not overdue while its history is logged, and a
    rebuild keeps it there."""
    now = datetime.now(UTC)
    began = (now - timedelta(days=60)).replace(microsecond=0)
    async with start(settings.model_copy(update={"backdate_days": 90})) as service:
        pairing, colleague, _kamu = await service.pair(began_at=began, at=now)

        async with service.as_(colleague) as c:
            inside = await c.post(
                "/meetings",
                json={"pairing_id": pairing, "starts_at": (now - timedelta(days=30)).isoformat()},
            )
            before = await service.count("SELECT count(*) FROM kamu_events")
            too_early = await c.post(
                "/meetings",
                json={"pairing_id": pairing, "starts_at": (now - timedelta(days=61)).isoformat()},
            )
            after = await service.count("SELECT count(*) FROM kamu_events")
            cadence = await c.get(f"/pairings/{pairing}/cadence")
            await rebuild_state(service.pool)
            rebuilt = await c.get(f"/pairings/{pairing}/cadence")
        paired_at = await service.pool.fetchval(
            "SELECT paired_at FROM meetings_pairings WHERE pairing_id = $1", pairing
        )

    assert inside.status_code == 201, inside.text
    assert too_early.status_code == 422, too_early.text
    assert too_early.headers["content-type"] == "application/problem+json"
    assert too_early.json()["type"].endswith("starts-before-pairing")
    assert after == before
    assert paired_at == began
    assert cadence.status_code == 200, cadence.text
    since = datetime.fromisoformat(cadence.json()["since"])
    assert abs(since - now) < timedelta(seconds=1)
    assert rebuilt.json()["since"] == cadence.json()["since"]


async def test_without_began_at_a_pairing_begins_when_its_event_happened(start, settings):
    now = datetime.now(UTC)
    created_at = (now - timedelta(days=10)).replace(microsecond=0)
    async with start(settings.model_copy(update={"backdate_days": 90})) as service:
        pairing, colleague, _kamu = await service.pair(at=created_at)

        async with service.as_(colleague) as c:
            too_early = await c.post(
                "/meetings",
                json={"pairing_id": pairing, "starts_at": (now - timedelta(days=11)).isoformat()},
            )
            inside = await c.post(
                "/meetings",
                json={"pairing_id": pairing, "starts_at": (now - timedelta(days=9)).isoformat()},
            )
            cadence = await c.get(f"/pairings/{pairing}/cadence")

    assert too_early.status_code == 422, too_early.text
    assert too_early.json()["type"].endswith("starts-before-pairing")
    assert inside.status_code == 201, inside.text
    assert datetime.fromisoformat(cadence.json()["since"]) == created_at


@pytest.mark.regression
async def test_meetings_of_a_pairing_never_active_are_refused_not_deferred(service):
    """Was a bug: only ``pairing-created`` was read, so a pairing still requested, declined or
    withdrawn was "not heard of yet": 409 ``awaiting-upstream`` with ``Retry-After``, and a
    client retried for ever a meeting that could never be. Such pairings are now known: 409
    ``pairing-not-active`` without ``Retry-After``. Only an unknown pairing is
    ``awaiting-upstream``; a requested pairing that is accepted takes meetings."""
    events = inbound.pairing_events
    ids = {}
    for outcome in ("requested", "declined", "withdrawn", "accepted"):
        pairing_id = str(uuid.uuid4())
        colleague, kamu = f"c-{uuid.uuid4().hex[:8]}", f"k-{uuid.uuid4().hex[:8]}"
        people = {"pairing_id": pairing_id, "colleague_id": colleague, "kamu_id": kamu}
        stream = f"pairing-{pairing_id}"
        await service.upstream.publish(events, inbound.PairingRequested(**people), stream)
        if outcome == "declined":
            await service.upstream.publish(events, inbound.PairingDeclined(**people), stream)
        elif outcome == "withdrawn":
            await service.upstream.publish(events, inbound.PairingWithdrawn(**people), stream)
        ids[outcome] = people
    for outcome in ("requested", "declined", "withdrawn"):
        await service.wait_for_pairing(ids[outcome]["pairing_id"], outcome)
    starts_at = (datetime.now(UTC) + timedelta(days=3)).isoformat()

    async def schedule(people, by):
        async with service.as_(by) as client:
            body = {"pairing_id": people["pairing_id"], "starts_at": starts_at}
            return await client.post("/meetings", json=body)

    refused = {
        outcome: [
            await schedule(ids[outcome], ids[outcome][m]) for m in ("colleague_id", "kamu_id")
        ]
        for outcome in ("requested", "declined", "withdrawn")
    }
    outsider = await schedule(ids["declined"], "someone-else")
    unknown = await schedule({"pairing_id": str(uuid.uuid4())}, "someone-else")
    written = await service.count("SELECT count(*) FROM kamu_events")
    accepted = ids["accepted"]
    await service.upstream.publish(
        events,
        inbound.PairingCreated(**accepted, cadence_weeks=2),
        f"pairing-{accepted['pairing_id']}",
    )
    await service.wait_for_pairing(accepted["pairing_id"], "active")
    works = await schedule(accepted, accepted["colleague_id"])

    for outcome, answers in refused.items():
        for answer in answers:
            assert answer.status_code == 409, (outcome, answer.text)
            assert answer.json()["type"].endswith("pairing-not-active"), outcome
            assert "Retry-After" not in answer.headers, outcome
    assert outsider.status_code == 404
    assert unknown.status_code == 409
    assert unknown.json()["type"].endswith("awaiting-upstream")
    assert unknown.headers["Retry-After"] == str(service.settings.pairing_retry_after_seconds)
    assert written == 0
    assert works.status_code == 201, works.text


@pytest.mark.regression
async def test_giving_feedback_does_not_show_in_the_meeting(service):
    """Was a bug: a rating was an event of the meeting's own stream, so it moved the meeting's
    version, ETag and ``updated_at`` (and the feed's DTSTAMP): the other member could tell that,
    and when, their partner had rated the meeting. Ratings now have a stream of their own
    (``meeting-feedback-<id>``): what the other member sees does not change at all. Still once
    per member; ``If-Match`` on feedback is checked against the meeting's ETag."""
    pairing, colleague, kamu = await service.pair()
    held = await service.held(pairing, colleague)
    path = f"/meetings/{held['id']}"
    async with service.as_(kamu) as k:
        before = await k.get(path)
        listed_before = (await k.get(f"/people/{kamu}/meetings")).json()
        feed_before = (await k.get(f"/people/{kamu}/calendar.ics")).content
    etag = before.headers["ETag"]
    rating = {"psychological_safety": 5, "usefulness": 4}
    async with service.as_(colleague) as c:
        stale = await c.post(f"{path}/feedback", json=rating, headers={"If-Match": '"v1"'})
        rated = await c.post(f"{path}/feedback", json=rating, headers={"If-Match": etag})
        again = await c.post(f"{path}/feedback", json=rating)
    async with service.as_(kamu) as k:
        after = await k.get(path)
        listed_after = (await k.get(f"/people/{kamu}/meetings")).json()
        feed_after = (await k.get(f"/people/{kamu}/calendar.ics")).content
        kamu_rates = await k.post(f"{path}/feedback", json=rating, headers={"If-Match": etag})

    assert etag == '"v2"'  # scheduled, held
    assert stale.status_code == 412, stale.text
    assert rated.status_code == 200, rated.text
    assert rated.json()["my_feedback_given"] is True
    assert rated.headers["ETag"] == etag
    assert again.status_code == 409
    assert again.json()["type"].endswith("feedback-already-given")
    assert after.headers["ETag"] == etag
    assert after.json() == before.json()  # version, updated_at, everything
    assert listed_after == listed_before
    assert feed_after == feed_before
    assert kamu_rates.status_code == 200, kamu_rates.text  # the meeting's ETag still holds
    assert await service.count("SELECT count(*) FROM meetings_feedback") == 2
