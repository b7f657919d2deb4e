"""The iCalendar feed, read back by a real iCalendar parser as a calendar client would."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from kamu_meetings.domain import inbound
from kamu_shared.testing.waiting import eventually

HELSINKI = ZoneInfo("Europe/Helsinki")
# Clocks go back at 04:00 EEST: 03:30 happens twice; this is the first (00:30 UTC).
FALL_BACK = datetime(2026, 10, 25, 3, 30, tzinfo=HELSINKI)
# Clocks go forward at 03:00 EET: an hour from 02:30 is 04:30 EEST (01:30 UTC).
SPRING_FORWARD = datetime(2027, 3, 28, 2, 30, tzinfo=HELSINKI)


async def test_the_feed_parses_with_stable_uids_sequences_zones_and_cancellations(service):
    pairing, colleague, kamu = await service.pair()
    kept = await service.schedule(pairing, colleague, agenda="secret agenda", in_days=3)
    moved = await service.schedule(pairing, kamu, in_days=5, time_zone="America/New_York")
    dropped = await service.schedule(pairing, colleague, in_days=9)
    async with service.as_(colleague) as c:
        first = Calendar.from_ical((await c.get(f"/people/{colleague}/calendar.ics")).content)
        new_start = datetime.now(UTC) + timedelta(days=6)
        assert (
            await c.post(
                f"/meetings/{moved['id']}/reschedule", json={"starts_at": new_start.isoformat()}
            )
        ).status_code == 200
        assert (
            await c.post(f"/meetings/{dropped['id']}/cancel", json={"reason": "ill"})
        ).status_code == 200
        response = await c.get(f"/people/{colleague}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    feed = Calendar.from_ical(response.content)

    def by_uid(cal):
        return {str(e["UID"]): e for e in cal.walk("VEVENT")}

    before, after = by_uid(first), by_uid(feed)
    assert set(before) == set(after) == {f"{m['id']}@kamu" for m in (kept, moved, dropped)}
    assert after[f"{kept['id']}@kamu"]["STATUS"] == "CONFIRMED"
    assert int(after[f"{kept['id']}@kamu"]["SEQUENCE"]) == 0
    moved_event = after[f"{moved['id']}@kamu"]
    assert int(moved_event["SEQUENCE"]) == 1
    start = moved_event.decoded("DTSTART")
    assert start.tzinfo is not None
    assert str(start.tzinfo) == "America/New_York"  # the zone it was planned in stays
    assert abs(start - new_start) < timedelta(seconds=1)
    assert moved_event.decoded("DTEND") - start == timedelta(minutes=45)
    cancelled = after[f"{dropped['id']}@kamu"]
    assert cancelled["STATUS"] == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(before[f"{dropped['id']}@kamu"]["SEQUENCE"])
    zones = {str(z["TZID"]) for z in feed.walk("VTIMEZONE")}
    assert {"Europe/Helsinki", "America/New_York"} <= zones
    summary = str(after[f"{kept['id']}@kamu"]["SUMMARY"])
    assert summary == f"Kamu meeting with {kamu.title()}"
    attendees = {str(a) for a in after[f"{kept['id']}@kamu"]["ATTENDEE"]}
    assert attendees == {f"mailto:{colleague}@example.org", f"mailto:{kamu}@example.org"}
    assert b"secret agenda" not in response.content  # feeds end up at calendar providers


async def test_the_kamu_sees_the_same_uids_in_their_own_feed(service):
    pairing, colleague, kamu = await service.pair()
    meeting = await service.schedule(pairing, colleague)
    async with service.as_(kamu) as k:
        feed = Calendar.from_ical((await k.get(f"/people/{kamu}/calendar.ics")).content)
    events = feed.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{meeting['id']}@kamu"]
    assert str(events[0]["SUMMARY"]) == f"Kamu meeting with {colleague.title()}"


def events_by_uid(cal: Calendar) -> dict:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.mark.regression
async def test_a_meeting_across_a_dst_change_lasts_its_duration(start, settings):
    """Was a bug: the end was computed on the local wall clock, so a 60-minute meeting at 03:30
    on the night Helsinki turns its clocks back ended at 04:30 local time, two hours later
    (``ends_at`` and DTEND), and the feed wrote 03:30 with its TZID, which a calendar reads as
    the first of the two 03:30s whichever was meant. Ends are now computed in UTC, and a local
    time made ambiguous or skipped by the change is written in UTC. (The service's windows are
    widened so these fixed dates can be scheduled whenever the test runs.)"""
    now = datetime.now(UTC)
    began = FALL_BACK - timedelta(days=1)
    days_back = (now - began).days + 2
    wide = settings.model_copy(
        update={
            "backdate_days": max(settings.backdate_days, days_back),
            "calendar_past_days": max(settings.calendar_past_days, days_back),
            "horizon_days": max(settings.horizon_days, (SPRING_FORWARD - now).days + 2),
        }
    )
    async with start(wide) as service:
        pairing, colleague, _kamu = await service.pair(at=began.astimezone(UTC))
        meetings = {}
        for name, starts in (("autumn", FALL_BACK), ("spring", SPRING_FORWARD)):
            meetings[name] = await service.schedule(
                pairing,
                colleague,
                starts_at=starts.isoformat(),
                time_zone="Europe/Helsinki",
                duration_minutes=60,
            )
        async with service.as_(colleague) as c:
            read = (await c.get(f"/meetings/{meetings['autumn']['id']}")).json()
            response = await c.get(f"/people/{colleague}/calendar.ics")
    feed = events_by_uid(Calendar.from_ical(response.content))

    autumn, spring = meetings["autumn"], meetings["spring"]
    assert FALL_BACK.isoformat() == "2026-10-25T03:30:00+03:00"
    for shown in (autumn, read):
        assert datetime.fromisoformat(shown["starts_at"]) == datetime(
            2026, 10, 25, 0, 30, tzinfo=UTC
        )
        assert shown["ends_at"] == "2026-10-25T03:30:00+02:00"  # the second 03:30
    assert spring["ends_at"] == "2027-03-28T04:30:00+03:00"
    for meeting in (autumn, spring):
        lasted = datetime.fromisoformat(meeting["ends_at"]) - datetime.fromisoformat(
            meeting["starts_at"]
        )
        assert lasted == timedelta(minutes=60)
        event = feed[f"{meeting['id']}@kamu"]
        start_at, end_at = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start_at == datetime.fromisoformat(meeting["starts_at"])
        assert end_at.astimezone(UTC) - start_at.astimezone(UTC) == timedelta(minutes=60)
    autumn_event = feed[f"{autumn['id']}@kamu"]
    assert autumn_event.decoded("DTSTART").utcoffset() == timedelta(0)  # written in UTC
    assert autumn_event.decoded("DTEND").utcoffset() == timedelta(0)
    assert b"DTSTART:20261025T003000Z" in response.content
    spring_event = feed[f"{spring['id']}@kamu"]
    assert str(spring_event.decoded("DTSTART").tzinfo) == "Europe/Helsinki"  # unambiguous


@pytest.mark.regression
async def test_the_feed_is_a_feed_of_the_latest_meetings_naming_only_people_it_knows(service):
    """Were bugs: the feed carried ``METHOD:PUBLISH``, making it an iTIP message, in which
    ATTENDEE must not appear (RFC 5546) although it lists both members; a person whose email
    was not known yet was listed as ``mailto:<id>@invalid``; and the feed held the earliest 5000
    meetings of its window, so past that many the next meetings (the ones that matter) were
    left out. No METHOD now; ORGANIZER and ATTENDEE only for people whose email is known; the
    latest 5000 meetings. (The 5001 meetings are written straight into the read model:
    scheduling them would take minutes.)"""
    colleague = f"c-{uuid.uuid4().hex[:8]}"
    await service.person(colleague)
    pairing_id = str(uuid.uuid4())
    await service.upstream.publish(
        inbound.pairing_events,
        inbound.PairingCreated(
            pairing_id=pairing_id, colleague_id=colleague, kamu_id="k-unheard-of", cadence_weeks=2
        ),
        f"pairing-{pairing_id}",
        at=datetime.now(UTC) - timedelta(days=1),
    )
    await service.wait_for_pairing(pairing_id, "active")

    async def registered():
        return await service.pool.fetchval(
            "SELECT 1 FROM meetings_people WHERE person_id = $1", colleague
        )

    await eventually(registered)
    meeting = await service.schedule(pairing_id, colleague)
    async with service.as_(colleague) as c:
        response = await c.get(f"/people/{colleague}/calendar.ics")
    cal = Calendar.from_ical(response.content)
    event = events_by_uid(cal)[f"{meeting['id']}@kamu"]
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]

    assert "METHOD" not in cal
    assert b"METHOD" not in response.content
    assert [str(a) for a in attendees] == [f"mailto:{colleague}@example.org"]
    assert str(event["ORGANIZER"]) == f"mailto:{colleague}@example.org"
    assert b"invalid" not in response.content

    pairing, colleague, kamu = await service.pair()
    await service.pool.execute(
        """INSERT INTO meetings_meetings (meeting_id, pairing_id, colleague_id, kamu_id, status,
               starts_at, time_zone, duration_minutes, scheduled_by, created_at, updated_at,
               version)
           SELECT 'bulk-' || i, $1, $2, $3, 'scheduled', now() - interval '1 day'
                  + i * interval '1 hour', 'UTC', 30, $2, now(), now(), 1
           FROM generate_series(1, 5001) AS i""",
        pairing,
        colleague,
        kamu,
    )
    async with service.as_(colleague) as c:
        response = await c.get(f"/people/{colleague}/calendar.ics")

    assert response.status_code == 200
    assert response.content.count(b"BEGIN:VEVENT") == 5000
    assert b"UID:bulk-5001@kamu" in response.content
    assert b"UID:bulk-1@kamu" not in response.content
