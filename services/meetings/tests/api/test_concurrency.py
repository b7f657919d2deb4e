"""Racing commands against the real database: each fact is recorded once, nothing is merged."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from kamu_meetings.commands import meetings as commands
from kamu_meetings.domain import inbound


async def events(service, event_type: str, stream: str | None = None) -> int:
    return await service.count(
        "SELECT count(*) FROM kamu_events "
        "WHERE event_type = $1 AND ($2::text IS NULL OR stream_id = $2)",
        f"kamu.meetings.{event_type}.v1",
        stream,
    )


async def test_both_members_recording_one_meeting_at_once_record_it_once(service):
    pairing, colleague, kamu = await service.pair()
    meeting = await service.schedule(pairing, colleague, in_days=-1 / 1440)

    async def complete(person):
        async with service.as_(person) as client:
            return await client.post(f"/meetings/{meeting['id']}/complete", json={"notes": person})

    answers = await asyncio.gather(*(complete(p) for p in (colleague, kamu) * 3))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409, 409]
    assert await events(service, "meeting-held", f"meeting-{meeting['id']}") == 1


async def test_one_member_rating_twice_at_once_counts_once_and_both_members_count(service):
    pairing, colleague, kamu = await service.pair()
    held = await service.held(pairing, colleague)

    async def rate(person):
        async with service.as_(person) as client:
            body = {"psychological_safety": 4, "usefulness": 4}
            return await client.post(f"/meetings/{held['id']}/feedback", json=body)

    answers = await asyncio.gather(*(rate(p) for p in [colleague] * 4 + [kamu] * 4))
    assert sorted(a.status_code for a in answers) == [200, 200] + [409] * 6
    assert await service.count("SELECT count(*) FROM meetings_feedback") == 2


async def test_meetings_scheduled_while_the_pairing_ends_never_outlive_it(service):
    pairing, colleague, kamu = await service.pair()
    start = datetime.now(UTC) + timedelta(days=2)

    async def schedule(i):
        async with service.as_(colleague if i % 2 else kamu) as client:
            body = {"pairing_id": pairing, "starts_at": (start + timedelta(hours=i)).isoformat()}
            return await client.post("/meetings", json=body)

    ending = service.upstream.publish(
        inbound.pairing_events,
        inbound.PairingEnded(pairing_id=pairing, colleague_id=colleague, kamu_id=kamu),
        f"pairing-{pairing}",
    )
    answers = await asyncio.gather(*(schedule(i) for i in range(20)), ending)
    await service.wait_for_pairing(pairing, "ended")
    codes = {a.status_code for a in answers[:-1]}
    assert codes <= {201, 409}
    left = await service.count(
        "SELECT count(*) FROM meetings_meetings WHERE pairing_id = $1 AND status = 'scheduled'",
        pairing,
    )
    assert left == 0  # every one accepted before the end was cancelled with the others
    accepted = sum(a.status_code == 201 for a in answers[:-1])
    assert await events(service, "meeting-cancelled") == accepted


async def test_a_stale_if_match_is_refused_not_merged(service):
    pairing, colleague, kamu = await service.pair()
    meeting = await service.schedule(pairing, colleague)
    later = (datetime.now(UTC) + timedelta(days=8)).isoformat()
    async with service.as_(colleague) as c, service.as_(kamu) as k:
        first = await c.post(
            f"/meetings/{meeting['id']}/reschedule",
            json={"starts_at": later},
            headers={"If-Match": '"v1"'},
        )
        second = await k.post(f"/meetings/{meeting['id']}/cancel", headers={"If-Match": '"v1"'})
    assert first.status_code == 200
    assert second.status_code == 412
    assert await events(service, "meeting-cancelled") == 0


@pytest.mark.regression
async def test_a_move_that_keeps_the_place_does_not_undo_a_concurrent_change_of_place(
    service, monkeypatch
):
    """Was a bug: reschedule read the meeting before taking the pairing's lock and kept the
    fields not sent from that reading. A move without ``location`` that waited for the lock
    while the other member changed the place wrote the old place back: a lost update, with no
    409 or 412. Commands now re-read the meeting under the lock. (The other member's change is
    made to land exactly while the move waits for the lock.)"""
    pairing, colleague, kamu = await service.pair()
    meeting = await service.schedule(pairing, colleague, location="Room 3")
    path = f"/meetings/{meeting['id']}/reschedule"
    original = commands.lock_pairing
    raced = []

    async def lock_after_a_change(conn, pairing_id, **options):
        if not raced:
            raced.append("racing")
            async with service.as_(kamu) as k:
                body = {"starts_at": meeting["starts_at"], "location": "Room 9"}
                raced.append(await k.post(path, json=body))
        await original(conn, pairing_id, **options)

    monkeypatch.setattr(commands, "lock_pairing", lock_after_a_change)
    later = datetime.now(UTC) + timedelta(days=9)
    async with service.as_(colleague) as c:
        moved = await c.post(path, json={"starts_at": later.isoformat()})
        final = (await c.get(f"/meetings/{meeting['id']}")).json()

    change = raced[1]
    assert change.status_code == 200, change.text
    assert change.json()["location"] == "Room 9"
    assert moved.status_code in (200, 409, 412), moved.text  # refusing is fine, undoing is not
    assert final["location"] == "Room 9"
    if moved.status_code == 200:
        assert moved.json()["location"] == "Room 9"
        assert datetime.fromisoformat(final["starts_at"]) == later


@pytest.mark.regression
async def test_a_command_waits_for_the_pairings_lock_only_so_long(start, settings):
    """Was a bug: commands waited for their pairing's lock without limit, each holding a pooled
    connection meanwhile: one slow holder (a consumer, a stuck transaction) stalled every
    request about the pair and could drain the pool. After ``lock_wait_seconds`` a command now
    answers 409 with ``Retry-After: 1`` and writes nothing (its Idempotency-Key neither)."""
    quick = settings.model_copy(update={"lock_wait_seconds": 0.2})
    async with start(quick) as service:
        pairing, colleague, _ = await service.pair()
        meeting = await service.schedule(pairing, colleague)
        path = f"/meetings/{meeting['id']}"
        new = {"pairing_id": pairing, "starts_at": meeting["starts_at"]}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        counted = ("kamu_events", "kamu_idempotency_keys", "meetings_meetings")

        async def counts():
            return [await service.count(f"SELECT count(*) FROM {t}") for t in counted]

        before = await counts()
        holder = await asyncpg.connect(settings.database_url)
        try:
            async with holder.transaction():
                await holder.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('meetings-pairing'), hashtext($1))",
                    pairing,
                )
                async with service.as_(colleague) as c, asyncio.timeout(15):
                    began = time.monotonic()
                    answers = [
                        await c.post("/meetings", json=new, headers=key),
                        await c.post(f"{path}/reschedule", json={"starts_at": soon(5)}),
                        await c.post(f"{path}/cancel", json={"reason": "clash"}),
                    ]
                    waited = time.monotonic() - began
                during = await counts()
        finally:
            await holder.close()
        async with service.as_(colleague) as c:
            retried = await c.post("/meetings", json=new, headers=key)

    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.headers["Retry-After"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"
    assert waited < 3 * 2  # about 0.2 s each, not until the holder lets go
    assert during == before
    assert retried.status_code == 201, retried.text  # the key was not spent on the refusal


def soon(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()
