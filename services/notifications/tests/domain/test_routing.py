"""Routing: who is told of each inbound event, what kind of notification, and what it carries.

Events are built with ``model_validate`` from the producers' full payloads (with the private
words they carry: a request's message, a goal's title, notes, an agenda), so the privacy tests
prove those never reach a notification's parameters.
"""

from datetime import UTC, datetime, timedelta

import pytest

from kamu_notifications.domain import inbound as e
from kamu_notifications.domain.routing import Planned, reminder, route

C, K = "colleague-1", "kamu-1"
PAIR = {"pairing_id": "pairing-1", "colleague_id": C, "kamu_id": K}
MEETING = {**PAIR, "meeting_id": "meeting-1"}
STARTS = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)
SLOT = {
    "starts_at": STARTS,
    "time_zone": "Europe/Helsinki",
    "duration_minutes": 45,
    "location": "Room Aalto",
}

# What a producer's payload may say that no notification may carry.
PRIVATE = {
    "message": "I am struggling with burnout and need someone to talk to",
    "title": "Find a new job outside the company",
    "notes": "We talked about the divorce",
    "agenda": "Salary negotiation tactics",
    "feedback": "The Kamu was not helpful",
    "description": "Ask for a raise",
}
# Every parameter key a notification may carry.
ALLOWED_PARAMS = frozenset(
    {
        "pairing_id",
        "meeting_id",
        "goal_id",
        "colleague_id",
        "kamu_id",
        "other_id",
        "role",
        "sequence",
        "starts_at",
        "time_zone",
        "duration_minutes",
        "location",
        "cause",
        "lapse",
    }
)


def told(planned: list[Planned]) -> list[tuple[str, str]]:
    """(recipient, kind) of each notification, in order."""
    return [(p.recipient_id, p.kind) for p in planned]


def by_recipient(planned: list[Planned]) -> dict[str, Planned]:
    return {p.recipient_id: p for p in planned}


def event(cls, **fields):
    """The event as its producer published it, with private words the model must ignore."""
    return cls.model_validate({**PRIVATE, **fields})


@pytest.mark.parametrize(
    ("cls", "kind", "recipient", "other"),
    [
        (e.PairingRequested, "pairing-requested", K, C),
        (e.PairingCreated, "pairing-accepted", C, K),
        (e.PairingDeclined, "pairing-declined", C, K),
        (e.PairingWithdrawn, "pairing-withdrawn", K, C),
    ],
)
def test_a_pairing_event_tells_the_one_member_it_concerns(cls, kind, recipient, other):
    planned = route(event(cls, **PAIR))

    assert planned == [Planned(kind, recipient, {"pairing_id": "pairing-1", "other_id": other})]


def test_a_pairing_ended_by_the_kamu_tells_only_the_colleague():
    planned = route(event(e.PairingEnded, **PAIR, ended_by=K))

    assert planned == [
        Planned("pairing-ended", C, {"pairing_id": "pairing-1", "other_id": K}),
    ]


@pytest.mark.parametrize("ended_by", [C, None, "people-ops-1"])
def test_a_pairing_ended_by_anyone_but_the_kamu_tells_both(ended_by):
    planned = route(event(e.PairingEnded, **PAIR, ended_by=ended_by))

    assert planned == [
        Planned("pairing-ended", C, {"pairing_id": "pairing-1", "other_id": K}),
        Planned("pairing-ended", K, {"pairing_id": "pairing-1", "other_id": C}),
    ]


def test_a_scheduled_meeting_invites_both_with_the_slot_and_the_other_member():
    planned = route(event(e.MeetingScheduled, **MEETING, **SLOT, scheduled_by=C))

    common = {
        "meeting_id": "meeting-1",
        "pairing_id": "pairing-1",
        "colleague_id": C,
        "kamu_id": K,
        "sequence": 0,
        "starts_at": "2025-06-02T07:00:00+00:00",
        "time_zone": "Europe/Helsinki",
        "duration_minutes": 45,
        "location": "Room Aalto",
    }
    assert planned == [
        Planned("meeting-scheduled", C, {**common, "other_id": K, "role": "colleague"}),
        Planned("meeting-scheduled", K, {**common, "other_id": C, "role": "kamu"}),
    ]


@pytest.mark.parametrize(
    ("happened", "invited"),
    [
        (STARTS - timedelta(minutes=1), True),
        (STARTS, False),
        (STARTS + timedelta(days=40), False),
    ],
)
def test_a_meeting_logged_after_it_began_invites_nobody(happened: datetime, invited: bool):
    scheduled = event(e.MeetingScheduled, **MEETING, **SLOT, scheduled_by=C)

    planned = route(scheduled, at=happened)

    assert told(planned) == (
        [(C, "meeting-scheduled"), (K, "meeting-scheduled")] if invited else []
    )


def test_a_meeting_moved_or_cancelled_after_it_began_is_still_told():
    late = STARTS + timedelta(hours=1)
    moved = event(e.MeetingRescheduled, **MEETING, **SLOT, rescheduled_by=C, sequence=1)
    cancelled = event(e.MeetingCancelled, **MEETING, cancelled_by=C, starts_at=STARTS)

    assert len(route(moved, at=late)) == 2
    assert len(route(cancelled, at=late)) == 2


def test_a_rescheduled_meeting_tells_both_the_new_slot_with_its_sequence():
    moved = STARTS + timedelta(days=2, hours=3)
    planned = route(
        event(e.MeetingRescheduled, **MEETING, **{**SLOT, "starts_at": moved}, sequence=3)
    )

    assert told(planned) == [(C, "meeting-rescheduled"), (K, "meeting-rescheduled")]
    people = by_recipient(planned)
    assert people[C].params["other_id"] == K
    assert people[K].params["other_id"] == C
    for p in planned:
        assert p.params["sequence"] == 3
        assert p.params["starts_at"] == moved.isoformat()


def test_a_cancelled_meeting_names_the_slot_last_known_and_raises_its_sequence():
    slot = {
        "starts_at": "2025-06-04T10:00:00+00:00",
        "time_zone": "Europe/Helsinki",
        "duration_minutes": 30,
        "location": "Room Aalto",
        "sequence": 2,
    }
    # The event's own starts_at (if any) is older news than the slot kept here.
    cancelled = event(e.MeetingCancelled, **MEETING, starts_at=STARTS)

    planned = route(cancelled, cancelled_slot=slot)

    assert told(planned) == [(C, "meeting-cancelled"), (K, "meeting-cancelled")]
    people = by_recipient(planned)
    assert people[C].params["other_id"] == K
    assert people[K].params["other_id"] == C
    for p in planned:
        assert p.params["sequence"] == 3
        assert p.params["starts_at"] == "2025-06-04T10:00:00+00:00"
        assert p.params["duration_minutes"] == 30
        assert p.params["time_zone"] == "Europe/Helsinki"
        assert p.params["cause"] == "member"


def test_a_cancelled_meeting_unknown_here_uses_the_events_start_and_sequence_one():
    cancelled = event(e.MeetingCancelled, **MEETING, starts_at=STARTS, cause="pairing-ended")

    planned = route(cancelled, cancelled_slot=None)

    assert told(planned) == [(C, "meeting-cancelled"), (K, "meeting-cancelled")]
    for p in planned:
        assert p.params["sequence"] == 1
        assert p.params["starts_at"] == STARTS.isoformat()
        assert p.params["cause"] == "pairing-ended"


def test_a_cancelled_meeting_without_any_time_carries_none():
    planned = route(event(e.MeetingCancelled, **MEETING))

    assert len(planned) == 2
    for p in planned:
        assert "starts_at" not in p.params
        assert p.params["sequence"] == 1


@pytest.mark.parametrize(
    ("nudge", "recipient", "other"),
    [("colleague", C, K), ("kamu", K, C)],
)
def test_an_overdue_meeting_tells_the_nudged_member(nudge, recipient, other):
    planned = route(event(e.MeetingOverdue, **PAIR, lapse=2, nudge=nudge))

    assert planned == [
        Planned(
            "meeting-overdue",
            recipient,
            {"pairing_id": "pairing-1", "other_id": other, "lapse": 2, "role": nudge},
        )
    ]


def test_an_overdue_meeting_past_the_escalation_tells_nobody():
    assert route(event(e.MeetingOverdue, **PAIR, lapse=3, nudge="none")) == []


def test_a_goal_review_without_a_kamu_tells_only_the_owner():
    due = event(e.GoalReviewDue, goal_id="goal-1", owner_id=C, lapse=1, kamu_id=None)

    assert route(due) == [
        Planned("goal-review-due", C, {"goal_id": "goal-1", "lapse": 1, "role": "owner"})
    ]


def test_a_goal_review_shared_with_a_kamu_tells_the_owner_and_the_kamu():
    due = event(e.GoalReviewDue, goal_id="goal-1", owner_id=C, lapse=2, kamu_id=K)

    assert route(due) == [
        Planned("goal-review-due", C, {"goal_id": "goal-1", "lapse": 2, "role": "owner"}),
        Planned(
            "goal-review-due",
            K,
            {"goal_id": "goal-1", "lapse": 2, "role": "kamu", "other_id": C},
        ),
    ]


@pytest.mark.parametrize(
    "quiet",
    [
        e.MeetingHeld.model_validate({**MEETING, **PRIVATE}),
        e.PersonRegistered(person_id=C, display_name="Aino", email="aino@example.org"),
        e.PersonLeft(person_id=C),
        object(),
    ],
    ids=["meeting-held", "person-registered", "person-left", "unknown"],
)
def test_events_that_are_not_news_notify_nobody(quiet):
    assert route(quiet) == []


def test_a_reminder_goes_to_both_members_with_the_slot():
    meeting = {
        **MEETING,
        "starts_at": STARTS.isoformat(),
        "time_zone": "Europe/Helsinki",
        "duration_minutes": 45,
        "location": None,
        "sequence": 4,
        "status": "scheduled",
    }

    planned = reminder(meeting)

    assert told(planned) == [(C, "meeting-reminder"), (K, "meeting-reminder")]
    people = by_recipient(planned)
    assert people[C].params["other_id"] == K
    assert people[K].params["other_id"] == C
    assert people[C].params["role"] == "colleague"
    assert people[K].params["role"] == "kamu"
    for p in planned:
        assert p.params["starts_at"] == STARTS.isoformat()
        assert p.params["meeting_id"] == "meeting-1"
        assert set(p.params) <= ALLOWED_PARAMS
        assert "status" not in p.params


@pytest.mark.parametrize(
    ("kind", "digestible"),
    [
        ("meeting-reminder", True),
        ("meeting-overdue", True),
        ("goal-review-due", True),
        ("pairing-requested", False),
        ("meeting-scheduled", False),
        ("meeting-cancelled", False),
    ],
)
def test_only_reminders_and_nudges_may_wait_for_a_digest(kind, digestible):
    assert Planned(kind, C).digestible is digestible


def every_notifying_event() -> list:
    slot = {**SLOT, "starts_at": STARTS.isoformat(), "sequence": 1}
    cases = [
        (event(e.PairingRequested, **PAIR), None),
        (event(e.PairingCreated, **PAIR, cadence_weeks=2), None),
        (event(e.PairingDeclined, **PAIR), None),
        (event(e.PairingWithdrawn, **PAIR), None),
        (event(e.PairingEnded, **PAIR, ended_by=C), None),
        (event(e.MeetingScheduled, **MEETING, **SLOT, scheduled_by=K), None),
        (event(e.MeetingRescheduled, **MEETING, **SLOT, sequence=2), None),
        (event(e.MeetingCancelled, **MEETING, starts_at=STARTS), slot),
        (event(e.MeetingOverdue, **PAIR, lapse=1, nudge="colleague"), None),
        (event(e.MeetingOverdue, **PAIR, lapse=2, nudge="kamu"), None),
        (event(e.GoalReviewDue, goal_id="goal-1", owner_id=C, lapse=1, kamu_id=K), None),
    ]
    return [pytest.param(ev, sl, id=ev.event_name) for ev, sl in cases]


@pytest.mark.parametrize(("inbound", "slot"), every_notifying_event())
def test_no_notification_carries_private_words(inbound, slot):
    planned = route(inbound, cancelled_slot=slot)

    assert planned, "each of these events notifies someone"
    for p in planned:
        assert set(p.params) <= ALLOWED_PARAMS, set(p.params) - ALLOWED_PARAMS
        shown = repr(p.params)
        for words in PRIVATE.values():
            assert words not in shown
