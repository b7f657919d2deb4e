"""The iCalendar feed, read back by a real iCalendar parser as a calendar client would."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar


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
