"""Calendar invitations, read back as a calendar client reads them (``Calendar.from_ical``)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from kamu_notifications.content.invites import invite, method_for
from kamu_notifications.content.render import Recipient
from kamu_notifications.domain import inbound as e
from kamu_notifications.domain.routing import route

C, K = "colleague-1", "kamu-1"
MEETING = {"meeting_id": "meeting-1", "pairing_id": "pairing-1", "colleague_id": C, "kamu_id": K}
STARTS = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)  # 10:00 in Helsinki
SLOT = {
    "starts_at": STARTS,
    "time_zone": "Europe/Helsinki",
    "duration_minutes": 45,
    "location": "Room Aalto",
}
ORGANIZER = ("kamu@kamu.example.org", "Kamu")
STAMP = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
AINO = Recipient(C, "Aino Virtanen", "aino@example.org", "fi", ZoneInfo("Europe/Helsinki"))
BERTTA = Recipient(K, "Bertta Kamunen", "bertta@example.org", "en", ZoneInfo("America/New_York"))


def params_of(event, slot=None) -> dict:
    """What routing gives the colleague for ``event`` (the Kamu's differ only in other_id)."""
    return route(event, cancelled_slot=slot)[0].params


def parsed(kind: str, params: dict, attendees=(AINO, BERTTA), summary="Kamu meeting"):
    ics = invite(kind, params, attendees, ORGANIZER, summary, stamp=STAMP)
    assert ics is not None
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def instant(event, name: str) -> datetime:
    """The UTC instant of a DATE-TIME (``==`` across zones is False for an ambiguous time)."""
    return event.decoded(name).astimezone(UTC)


def scheduled(**slot) -> dict:
    return params_of(e.MeetingScheduled(**MEETING, **{**SLOT, **slot}))


def cancelled(**slot) -> dict:
    known = {**SLOT, "starts_at": STARTS.isoformat(), "sequence": 2, **slot}
    return params_of(e.MeetingCancelled(**MEETING, cause="member"), known)


@pytest.mark.parametrize(
    ("kind", "params", "method", "status"),
    [
        ("meeting-scheduled", scheduled(), "REQUEST", "CONFIRMED"),
        (
            "meeting-rescheduled",
            params_of(e.MeetingRescheduled(**MEETING, **SLOT, sequence=1)),
            "REQUEST",
            "CONFIRMED",
        ),
        ("meeting-cancelled", cancelled(), "CANCEL", "CANCELLED"),
    ],
)
def test_the_method_and_status_follow_the_kind(kind, params, method, status):
    calendar, event = parsed(kind, params)

    assert str(calendar["method"]) == method
    assert str(event["status"]) == status
    assert method_for(kind) == method


def test_the_uid_is_the_calendar_feeds_so_clients_update_one_event():
    _, event = parsed("meeting-scheduled", scheduled())

    assert str(event["uid"]) == "meeting-1@kamu"


@pytest.mark.parametrize(
    ("kind", "params", "sequence"),
    [
        ("meeting-scheduled", scheduled(), 0),
        (
            "meeting-rescheduled",
            params_of(e.MeetingRescheduled(**MEETING, **SLOT, sequence=4)),
            4,
        ),
        ("meeting-cancelled", cancelled(sequence=4), 5),  # once more than its last move
    ],
)
def test_the_sequence_is_the_meetings(kind, params, sequence):
    _, event = parsed(kind, params)

    assert event.decoded("sequence") == sequence


def test_the_start_is_in_the_planned_zone_at_the_right_instant():
    _, event = parsed("meeting-scheduled", scheduled())

    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == "Europe/Helsinki"
    assert start.tzinfo == ZoneInfo("Europe/Helsinki")
    assert start == STARTS
    assert start.hour == 10


def test_the_planned_zone_is_used_whatever_the_recipients_zone():
    starts = datetime(2025, 6, 2, 13, 30, tzinfo=UTC)
    params = scheduled(time_zone="America/New_York", starts_at=starts)

    _, event = parsed("meeting-scheduled", params)

    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert (start.hour, start.minute) == (9, 30)


@pytest.mark.parametrize(
    ("starts", "minutes"),
    [
        (STARTS, 45),
        (STARTS, 90),
        (datetime(2025, 3, 30, 0, 30, tzinfo=UTC), 60),  # 02:30 EET, ends 04:30 EEST
        (datetime(2025, 10, 26, 0, 0, tzinfo=UTC), 30),  # 03:00 EEST, ends 03:30 EEST
        (datetime(2025, 10, 25, 23, 30, tzinfo=UTC), 180),  # 02:30 EEST, ends 04:30 EET
    ],
)
def test_the_end_is_the_start_plus_the_duration_across_dst(starts, minutes):
    _, event = parsed("meeting-scheduled", scheduled(starts_at=starts, duration_minutes=minutes))

    start, end = instant(event, "dtstart"), instant(event, "dtend")
    assert start == starts
    assert end == starts + timedelta(minutes=minutes)
    # The planned zone, or UTC where a DST change makes the local wall time ambiguous.
    zone = event["dtend"].params.get("TZID") or event.decoded("dtend").tzname()
    assert zone in ("Europe/Helsinki", "UTC")


@pytest.mark.regression
def test_an_end_in_the_repeated_hour_is_still_start_plus_duration():
    starts = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 03:30 EEST; 60 min later: 03:30 EET

    _, event = parsed("meeting-scheduled", scheduled(starts_at=starts, duration_minutes=60))

    assert instant(event, "dtstart") == starts
    assert instant(event, "dtend") == starts + timedelta(hours=1)


def test_the_cancellation_names_the_slot_it_removes():
    _, event = parsed("meeting-cancelled", cancelled(duration_minutes=30))

    assert event.decoded("dtstart") == STARTS
    assert event.decoded("dtend") == STARTS + timedelta(minutes=30)


def test_the_organizer_is_the_platform_and_both_members_attend():
    _, event = parsed("meeting-scheduled", scheduled())

    assert str(event["organizer"]) == "mailto:kamu@kamu.example.org"
    assert event["organizer"].params["CN"] == "Kamu"
    attendees = {str(a): a.params for a in event["attendee"]}
    assert set(attendees) == {"mailto:aino@example.org", "mailto:bertta@example.org"}
    assert attendees["mailto:aino@example.org"]["CN"] == "Aino Virtanen"
    assert attendees["mailto:bertta@example.org"]["CN"] == "Bertta Kamunen"
    for params in attendees.values():
        assert params["ROLE"] == "REQ-PARTICIPANT"


def test_an_attendee_without_an_address_is_left_out():
    nameless = Recipient(K, "Bertta Kamunen", None, "en", ZoneInfo("UTC"))

    _, event = parsed("meeting-scheduled", scheduled(), attendees=(AINO, nameless))

    attendees = event["attendee"]
    assert not isinstance(attendees, list)
    assert str(attendees) == "mailto:aino@example.org"


def test_the_planned_zone_is_described_by_a_vtimezone():
    calendar, _ = parsed("meeting-scheduled", scheduled())

    zones = [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")]
    assert zones == ["Europe/Helsinki"]


def test_the_stamp_summary_and_location_are_carried():
    calendar, event = parsed("meeting-scheduled", scheduled(), summary="Kamu meeting: Bertta")

    assert event.decoded("dtstamp") == STAMP
    assert str(event["summary"]) == "Kamu meeting: Bertta"
    assert str(event["location"]) == "Room Aalto"
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["prodid"]).startswith("-//Kamu//")


def test_no_location_no_location_line_and_never_a_description():
    ics = invite(
        "meeting-scheduled", scheduled(location=None), (AINO, BERTTA), ORGANIZER, "S", stamp=STAMP
    )

    assert ics is not None
    assert b"LOCATION" not in ics
    assert b"DESCRIPTION" not in ics


@pytest.mark.parametrize(
    "kind",
    [
        "pairing-requested",
        "pairing-accepted",
        "pairing-ended",
        "meeting-reminder",
        "meeting-overdue",
        "goal-review-due",
        "digest",
    ],
)
def test_other_kinds_have_no_invitation(kind):
    assert method_for(kind) is None
    assert invite(kind, scheduled(), (AINO, BERTTA), ORGANIZER, "S", stamp=STAMP) is None


def test_a_cancellation_with_no_known_time_has_no_invitation():
    params = params_of(e.MeetingCancelled(**MEETING))

    assert "starts_at" not in params
    assert invite("meeting-cancelled", params, (AINO, BERTTA), ORGANIZER, "S") is None
