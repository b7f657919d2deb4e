"""Racing commands against the real database: each fact is recorded once, nothing is merged."""

import asyncio
from datetime import UTC, datetime, timedelta

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
