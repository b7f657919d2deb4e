"""Calendar invitations for meeting emails: iTIP (RFC 5546) REQUEST and CANCEL messages.

The UID is the one of the meetings service's calendar feed (``<meeting id>@kamu``), so a
client that has the meeting from the feed updates it rather than adding a second one; SEQUENCE
is the meeting's (raised on each move, and once more for the cancellation). The organizer is
the platform's sender address; both members are attendees. Times carry their planned zone
with its VTIMEZONE. No agenda or notes: invitations are copied into calendars outside Kamu.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from kamu_notifications.content.render import Recipient

PRODID = "-//Kamu//Kamu notifications//EN"
INVITE_KINDS = {"meeting-scheduled": "REQUEST", "meeting-rescheduled": "REQUEST"}
CANCEL_KINDS = {"meeting-cancelled": "CANCEL"}


def _unambiguous(moment: datetime) -> datetime:
    """The local time, or UTC when a DST change makes the wall time ambiguous or skipped (a
    TZID time in the repeated hour is read as its first occurrence, RFC 5545 3.3.5)."""
    other = moment.replace(fold=1 - moment.fold)
    if other.utcoffset() != moment.utcoffset():
        return moment.astimezone(UTC)
    return moment


def method_for(kind: str) -> str | None:
    """The iTIP method of a meeting notification's attachment, or None for other kinds."""
    return INVITE_KINDS.get(kind) or CANCEL_KINDS.get(kind)


def _address(email: str, name: str, *, attendee: bool) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    if attendee:
        address.params["ROLE"] = vText("REQ-PARTICIPANT")
        address.params["RSVP"] = vText("FALSE")
    return address


def invite(
    kind: str,
    params: dict[str, Any],
    attendees: Sequence[Recipient],
    organizer: tuple[str, str],
    summary: str,
    *,
    stamp: datetime | None = None,
) -> bytes | None:
    """The ``text/calendar`` attachment of a meeting notification, or None if it has none."""
    method = method_for(kind)
    if method is None or "starts_at" not in params:
        return None
    zone = ZoneInfo(params.get("time_zone") or "UTC")
    starts = datetime.fromisoformat(params["starts_at"]).astimezone(zone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = Event()
    event.add("uid", f"{params['meeting_id']}@kamu")
    event.add("dtstamp", stamp or datetime.now(UTC))
    event.add("dtstart", _unambiguous(starts))
    minutes = params.get("duration_minutes") or 60
    ends = (starts.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone)
    event.add("dtend", _unambiguous(ends))
    event.add("sequence", int(params.get("sequence", 0)))
    event.add("summary", summary)
    if params.get("location"):
        event.add("location", params["location"])
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", _address(organizer[0], organizer[1], attendee=False))
    for person in attendees:
        if person.email:
            event.add("attendee", _address(person.email, person.display_name, attendee=True))
    cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
