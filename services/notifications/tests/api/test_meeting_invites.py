"""Meeting emails carry iCalendar invitations that calendar clients act on: a REQUEST when a
meeting is scheduled or moved, a CANCEL when it is cancelled, all with the meetings feed's UID."""

import uuid
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from kamu_notifications.domain import inbound


def calendar_of(message) -> Calendar:
    """The invite.ics attachment, parsed by a real iCalendar library."""
    (attachment,) = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    return Calendar.from_ical(attachment.get_content())


def event_of(cal: Calendar):
    (event,) = cal.walk("VEVENT")
    return event


async def test_schedule_reschedule_cancel_send_one_calendar_thread(service):
    colleague = await service.person(display_name="Aino")
    kamu = await service.person(display_name="Kalle")
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    scheduled = await service.schedule(colleague, kamu, starts_at=starts, duration_minutes=45)
    meeting_id = scheduled.meeting_id
    await service.settled(2 * 4)  # both members: email, slack, teams (fall back), inbox
    moved = starts + timedelta(days=1)
    await service.publish(
        inbound.meeting_events,
        inbound.MeetingRescheduled(
            meeting_id=meeting_id,
            pairing_id=scheduled.pairing_id,
            colleague_id=colleague,
            kamu_id=kamu,
            starts_at=moved,
            time_zone="Europe/Helsinki",
            duration_minutes=60,
            location="Room Sibelius",
            sequence=1,
        ),
        f"meeting-{meeting_id}",
    )
    await service.settled(4 * 4)
    await service.publish(
        inbound.meeting_events,
        inbound.MeetingCancelled(
            meeting_id=meeting_id,
            pairing_id=scheduled.pairing_id,
            colleague_id=colleague,
            kamu_id=kamu,
            starts_at=moved,
        ),
        f"meeting-{meeting_id}",
    )
    await service.settled(6 * 4)

    for person in (colleague, kamu):
        mails = service.smtp.to(f"{person}@example.org")
        assert len(mails) == 3
        calendars = [calendar_of(m) for m in mails]
        assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
        events = [event_of(c) for c in calendars]
        assert {str(e["UID"]) for e in events} == {f"{meeting_id}@kamu"}
        assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
        assert events[0].decoded("DTSTART") == starts
        assert events[0].decoded("DTEND") - events[0].decoded("DTSTART") == timedelta(minutes=45)
        assert events[1].decoded("DTSTART") == moved
        assert str(events[1]["LOCATION"]) == "Room Sibelius"
        assert str(events[2]["STATUS"]) == "CANCELLED"
        assert events[0].decoded("DTSTART").tzinfo.key == "Europe/Helsinki"
        attendees = {str(a) for a in events[0].get("ATTENDEE")}
        assert attendees == {f"mailto:{colleague}@example.org", f"mailto:{kamu}@example.org"}
        assert calendars[0].walk("VTIMEZONE")
        # Calendar clients act on the inline text/calendar part with the same method.
        inline = [p for p in mails[0].walk() if p.get_content_type() == "text/calendar"]
        assert inline[0].get_param("method") == "REQUEST"


async def test_a_cancellation_for_a_pairing_end_says_so_and_other_kinds_carry_no_invite(service):
    colleague = await service.person()
    kamu = await service.person()
    scheduled = await service.schedule(colleague, kamu)
    await service.settled(8)
    await service.cancel(scheduled, cause="pairing-ended", starts_at=scheduled.starts_at)
    await service.pairing_event(
        inbound.PairingEnded, colleague, kamu, scheduled.pairing_id, ended_by=kamu
    )
    await service.settled(8 + 8 + 4)
    mails = service.smtp.to(f"{colleague}@example.org")
    cancel = next(m for m in mails if "cancelled" in m["Subject"])
    assert "because the pairing ended" in cancel.get_body(("plain",)).get_content()
    ended = next(m for m in mails if "ended" in m["Subject"])
    assert not [p for p in ended.iter_attachments() if p.get_filename() == "invite.ics"]
    # The Kamu ended it: told of the cancellation, not of the end.
    kamu_subjects = [m["Subject"] for m in service.smtp.to(f"{kamu}@example.org")]
    assert not [s for s in kamu_subjects if "has ended" in s]


async def test_every_message_id_is_stable_per_notification(service):
    colleague = await service.person()
    kamu = await service.person()
    await service.schedule(colleague, kamu, meeting_id=str(uuid.uuid4()))
    rows = await service.settled(8)
    mail = service.smtp.to(f"{colleague}@example.org")[0]
    email_row = next(r for r in rows if r["recipient_id"] == colleague and r["channel"] == "email")
    assert mail["X-Kamu-Notification-Id"] == str(email_row["notification_id"])
    assert mail["Message-ID"] == f"<{email_row['notification_id']}@kamu.invalid>"
