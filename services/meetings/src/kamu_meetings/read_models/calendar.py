"""A person's meetings as an iCalendar feed (RFC 5545) for calendar clients.

Stable UIDs (``<meeting id>@kamu``) so clients update rather than duplicate; SEQUENCE grows
with every move, and a cancelled meeting stays in the feed as ``STATUS:CANCELLED`` (with its
SEQUENCE raised) so subscribed calendars remove it. Times carry their planned time zone, with
its VTIMEZONE. The feed holds times, places and the pair's names only: no agenda, notes or
goals, because calendar feeds are copied into calendar providers outside the organisation.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Kamu//Kamu meetings//EN"


def uid(meeting_id: str) -> str:
    return f"{meeting_id}@kamu"


def _address(person_id: str, people: Mapping[str, Any]) -> vCalAddress:
    person = people.get(person_id)
    email = person["email"] if person else f"{person_id}@invalid"
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(person["display_name"] if person else person_id)
    return address


def calendar_feed(owner_id: str, rows: Sequence[Any], people: Mapping[str, Any]) -> bytes:
    """The feed of ``owner_id``'s meetings (rows of ``meetings_meetings``)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Kamu meetings")
    for row in rows:
        cal.add_component(_event(owner_id, row, people))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _event(owner_id: str, row: Any, people: Mapping[str, Any]) -> Event:
    zone = ZoneInfo(row["time_zone"])
    starts: datetime = row["starts_at"].astimezone(zone)
    other = row["kamu_id"] if owner_id == row["colleague_id"] else row["colleague_id"]
    other_person = people.get(other)
    cancelled = row["status"] == "cancelled"
    event = Event()
    event.add("uid", uid(row["meeting_id"]))
    event.add("dtstamp", row["updated_at"])
    event.add("last-modified", row["updated_at"])
    event.add("created", row["created_at"])
    event.add("dtstart", starts)
    event.add("dtend", starts + timedelta(minutes=row["duration_minutes"]))
    name = other_person["display_name"] if other_person else other
    event.add("summary", f"Kamu meeting with {name}")
    if row["location"]:
        event.add("location", row["location"])
    event.add("sequence", row["sequence"] + (1 if cancelled else 0))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("organizer", _address(row["scheduled_by"], people))
    for person_id in (row["colleague_id"], row["kamu_id"]):
        event.add("attendee", _address(person_id, people))
    return event
