"""A person's meetings as an iCalendar feed (RFC 5545) for calendar clients.

Stable UIDs (``<meeting id>@kamu``) so clients update rather than duplicate; SEQUENCE grows
with every move, and a cancelled meeting stays in the feed as ``STATUS:CANCELLED`` (with its
SEQUENCE raised) so subscribed calendars remove it. Times carry their planned time zone, with
its VTIMEZONE (UTC for a wall time a DST change makes ambiguous). A feed, not an iTIP message:
no METHOD, so attendees may be listed. The feed holds times, places and the pair's names only:
no agenda, notes or goals, because feeds are copied into calendar providers outside the
organisation.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from kamu_meetings.read_models.meetings import local_span

PRODID = "-//Kamu//Kamu meetings//EN"


def uid(meeting_id: str) -> str:
    return f"{meeting_id}@kamu"


def _address(person_id: str, people: Mapping[str, Any]) -> vCalAddress | None:
    """The person as a calendar address, if their email is known."""
    person = people.get(person_id)
    if person is None:
        return None
    address = vCalAddress(f"mailto:{person['email']}")
    address.params["CN"] = vText(person["display_name"])
    return address


def _unambiguous(moment: datetime) -> datetime:
    """The local time, or UTC when the local wall time is ambiguous or skipped (a DST change):
    a TZID time in the repeated hour would be read as its first occurrence (RFC 5545 3.3.5)."""
    other = moment.replace(fold=1 - moment.fold)
    if other.utcoffset() != moment.utcoffset():
        return moment.astimezone(UTC)
    return moment


def calendar_feed(owner_id: str, rows: Sequence[Any], people: Mapping[str, Any]) -> bytes:
    """The feed of ``owner_id``'s meetings (rows of ``meetings_meetings``)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Kamu meetings")
    for row in rows:
        cal.add_component(_event(owner_id, row, people))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _event(owner_id: str, row: Any, people: Mapping[str, Any]) -> Event:
    starts, ends = local_span(row)
    other = row["kamu_id"] if owner_id == row["colleague_id"] else row["colleague_id"]
    other_person = people.get(other)
    cancelled = row["status"] == "cancelled"
    event = Event()
    event.add("uid", uid(row["meeting_id"]))
    event.add("dtstamp", row["updated_at"])
    event.add("last-modified", row["updated_at"])
    event.add("created", row["created_at"])
    event.add("dtstart", _unambiguous(starts))
    event.add("dtend", _unambiguous(ends))
    name = other_person["display_name"] if other_person else other
    event.add("summary", f"Kamu meeting with {name}")
    if row["location"]:
        event.add("location", row["location"])
    event.add("sequence", row["sequence"] + (1 if cancelled else 0))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if organizer := _address(row["scheduled_by"], people):
        event.add("organizer", organizer)
    for person_id in (row["colleague_id"], row["kamu_id"]):
        if attendee := _address(person_id, people):
            event.add("attendee", attendee)
    return event
