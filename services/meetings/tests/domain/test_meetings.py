"""Meetings, given-when-then: every rule a schedule, move, cancel, completion or rating passes."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kamu_meetings.domain import meetings as m
from kamu_meetings.domain.errors import RuleViolated
from kamu_meetings.domain.events import (
    MeetingCancelled,
    MeetingFeedbackGiven,
    MeetingHeld,
    MeetingRescheduled,
    MeetingScheduled,
)
from kamu_shared.testing.given_when_then import Decider

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LATER = START + timedelta(days=2, hours=5)
PAIR = m.Pair("p", colleague_id="c", kamu_id="k", active=True)
SLOT = m.Slot(START, "Europe/Helsinki", 60, "Cafe Kampi")
MOVED = m.Slot(LATER, "Europe/Helsinki", 45, None)
SYSTEM = "kamu-meetings/pairings"
ids = {"meeting_id": "m", "pairing_id": "p", "colleague_id": "c", "kamu_id": "k"}

scheduled = MeetingScheduled(
    **ids,
    starts_at=START,
    time_zone="Europe/Helsinki",
    duration_minutes=60,
    location="Cafe Kampi",
    scheduled_by="c",
    agenda="goals",
)


def rescheduled(slot=MOVED, by="k", sequence=1):
    return MeetingRescheduled(
        **ids,
        starts_at=slot.starts_at,
        time_zone=slot.time_zone,
        duration_minutes=slot.duration_minutes,
        location=slot.location,
        rescheduled_by=by,
        sequence=sequence,
    )


def cancelled(by="c", cause="member", reason=None, starts_at=START):
    return MeetingCancelled(**ids, cancelled_by=by, cause=cause, reason=reason, starts_at=starts_at)


def held(by="c", held_at=START, notes_sealed=None, goal_ids=()):
    return MeetingHeld(
        **ids, recorded_by=by, held_at=held_at, notes_sealed=notes_sealed, goal_ids=list(goal_ids)
    )


def rated(respondent="colleague", safety=4, usefulness=5, held_at=START):
    return MeetingFeedbackGiven(
        **ids,
        respondent=respondent,
        psychological_safety=safety,
        usefulness=usefulness,
        held_at=held_at,
    )


def schedule(**changes):
    return replace(m.ScheduleMeeting("m", PAIR, "c", SLOT, "goals"), **changes)


def reschedule(**changes):
    return replace(m.RescheduleMeeting("m", pair_active=True, by="k", slot=MOVED), **changes)


def cancel(**changes):
    return replace(m.CancelMeeting("m", "c"), **changes)


def complete(**changes):
    return replace(m.CompleteMeeting("m", "c", now=START + timedelta(hours=1)), **changes)


def feedback(**changes):
    return replace(m.GiveFeedback("m", "colleague", 4, 5), **changes)


def decider(decide):
    return Decider(m.Meeting(), decide, m.evolve)


def refusal(decide, history, command):
    """The slug of the rule that refuses ``command`` after ``history``."""
    state = decider(decide).given(*history).state
    with pytest.raises(RuleViolated) as refused:
        decide(state, command)
    return refused.value.slug


# Schedule


@pytest.mark.parametrize("member", ["c", "k"])
def test_either_member_of_an_active_pairing_schedules_a_meeting(member):
    decider(m.decide_schedule).given().when(schedule(by=member)).then(
        scheduled.model_copy(update={"scheduled_by": member})
    )


def test_a_meeting_without_location_or_agenda_is_scheduled():
    command = schedule(slot=replace(SLOT, location=None), agenda=None)
    decider(m.decide_schedule).given().when(command).then(
        scheduled.model_copy(update={"location": None, "agenda": None})
    )


@pytest.mark.parametrize(
    ("command", "slug"),
    [
        (schedule(by="stranger"), "not-a-member"),
        (schedule(pair=replace(PAIR, active=False)), "pairing-not-active"),
        (schedule(pair=replace(PAIR, active=False), by="stranger"), "not-a-member"),
    ],
)
def test_a_schedule_breaking_a_rule_is_refused(command, slug):
    assert refusal(m.decide_schedule, [], command) == slug


@pytest.mark.parametrize(
    "history",
    [
        [scheduled],
        [scheduled, rescheduled()],
        [scheduled, cancelled()],
        [scheduled, held()],
    ],
    ids=["scheduled", "moved", "cancelled", "held"],
)
def test_a_meeting_is_scheduled_only_once(history):
    assert refusal(m.decide_schedule, history, schedule()) == "meeting-exists"


# Reschedule


@pytest.mark.parametrize("member", ["c", "k"])
def test_either_member_moves_a_scheduled_meeting(member):
    decider(m.decide_reschedule).given(scheduled).when(reschedule(by=member)).then(
        rescheduled(by=member)
    )


@pytest.mark.parametrize(
    "slot",
    [
        replace(SLOT, starts_at=LATER),
        replace(SLOT, time_zone="Europe/Stockholm"),
        replace(SLOT, duration_minutes=90),
        replace(SLOT, location="Teams"),
        replace(SLOT, location=None),
    ],
    ids=["starts-at", "time-zone", "duration", "location", "no-location"],
)
def test_any_change_of_the_slot_is_a_move(slot):
    decider(m.decide_reschedule).given(scheduled).when(reschedule(slot=slot)).then(
        rescheduled(slot=slot)
    )


def test_the_sequence_counts_every_move():
    third = m.Slot(LATER + timedelta(days=1), "Europe/Helsinki", 30, "Library")
    decider(m.decide_reschedule).given(scheduled, rescheduled()).when(
        reschedule(slot=third, by="c")
    ).then(rescheduled(slot=third, by="c", sequence=2))
    decider(m.decide_reschedule).given(
        scheduled, rescheduled(), rescheduled(slot=third, sequence=2)
    ).when(reschedule(slot=SLOT)).then(rescheduled(slot=SLOT, sequence=3))


@pytest.mark.parametrize(
    ("history", "slot"),
    [
        ([scheduled], SLOT),
        ([scheduled, rescheduled()], MOVED),
        ([scheduled, rescheduled(), rescheduled(slot=SLOT, sequence=2)], SLOT),
    ],
    ids=["never-moved", "moved-once", "moved-back"],
)
def test_moving_to_the_slot_it_already_has_records_nothing(history, slot):
    decider(m.decide_reschedule).given(*history).when(reschedule(slot=slot)).then()


def test_moving_back_to_the_first_slot_is_a_move():
    decider(m.decide_reschedule).given(scheduled, rescheduled()).when(reschedule(slot=SLOT)).then(
        rescheduled(slot=SLOT, sequence=2)
    )


@pytest.mark.parametrize(
    ("history", "command", "slug"),
    [
        ([], reschedule(), "unknown-meeting"),
        ([scheduled, cancelled()], reschedule(), "meeting-cancelled"),
        ([scheduled, held()], reschedule(), "meeting-already-held"),
        ([scheduled], reschedule(by="stranger"), "not-a-member"),
        ([scheduled], reschedule(pair_active=False), "pairing-not-active"),
        # The pairing's end is refused even where the move would have been a no-op.
        ([scheduled], reschedule(pair_active=False, slot=SLOT), "pairing-not-active"),
        (
            [scheduled, rescheduled()],
            reschedule(pair_active=False, slot=SLOT),
            "pairing-not-active",
        ),
        ([scheduled], reschedule(pair_active=False, by="stranger"), "not-a-member"),
    ],
    ids=[
        "unknown",
        "cancelled",
        "held",
        "stranger",
        "pairing-ended",
        "pairing-ended-same-slot",
        "pairing-ended-after-a-move",
        "stranger-on-ended-pairing",
    ],
)
def test_a_move_breaking_a_rule_is_refused(history, command, slug):
    assert refusal(m.decide_reschedule, history, command) == slug


# Cancel


@pytest.mark.parametrize("member", ["c", "k"])
def test_either_member_cancels_with_a_reason(member):
    decider(m.decide_cancel).given(scheduled).when(cancel(by=member, reason="ill")).then(
        cancelled(by=member, reason="ill")
    )


def test_a_cancellation_needs_no_reason():
    decider(m.decide_cancel).given(scheduled).when(cancel()).then(cancelled(reason=None))


def test_the_system_cancels_when_the_pairing_ended():
    command = m.CancelMeeting("m", SYSTEM, cause="pairing-ended")
    decider(m.decide_cancel).given(scheduled).when(command).then(
        cancelled(by=SYSTEM, cause="pairing-ended")
    )


def test_a_cancellation_names_the_start_it_was_moved_to():
    decider(m.decide_cancel).given(scheduled, rescheduled()).when(cancel(reason="clash")).then(
        cancelled(reason="clash", starts_at=LATER)
    )


@pytest.mark.parametrize(
    ("history", "command", "slug"),
    [
        ([], cancel(), "unknown-meeting"),
        ([scheduled], cancel(by="stranger"), "not-a-member"),
        ([scheduled], cancel(by=SYSTEM), "not-a-member"),
        ([scheduled, cancelled()], cancel(), "meeting-cancelled"),
        ([scheduled, cancelled()], cancel(by=SYSTEM, cause="pairing-ended"), "meeting-cancelled"),
        ([scheduled, held()], cancel(), "meeting-already-held"),
        ([scheduled, held()], cancel(by=SYSTEM, cause="pairing-ended"), "meeting-already-held"),
    ],
    ids=[
        "unknown",
        "stranger",
        "system-as-member",
        "twice",
        "pairing-ended-after-cancel",
        "held",
        "pairing-ended-after-held",
    ],
)
def test_a_cancellation_breaking_a_rule_is_refused(history, command, slug):
    assert refusal(m.decide_cancel, history, command) == slug


# Complete


@pytest.mark.parametrize("member", ["c", "k"])
@pytest.mark.parametrize("now", [START, START + timedelta(minutes=1), START + timedelta(days=30)])
def test_either_member_records_a_started_meeting_as_held(member, now):
    decider(m.decide_complete).given(scheduled).when(complete(by=member, now=now)).then(
        held(by=member)
    )


def test_sealed_notes_and_reviewed_goals_are_carried():
    command = complete(notes_sealed="gAAAAABsealed", goal_ids=("g1", "g2"))
    decider(m.decide_complete).given(scheduled).when(command).then(
        held(notes_sealed="gAAAAABsealed", goal_ids=["g1", "g2"])
    )


def test_a_moved_meeting_is_held_at_its_new_start():
    decider(m.decide_complete).given(scheduled, rescheduled()).when(complete(now=LATER)).then(
        held(held_at=LATER)
    )


@pytest.mark.parametrize(
    ("history", "command", "slug"),
    [
        ([scheduled], complete(now=START - timedelta(seconds=1)), "meeting-not-started"),
        ([scheduled, rescheduled()], complete(now=START), "meeting-not-started"),
        ([scheduled], complete(by="stranger"), "not-a-member"),
        ([scheduled], complete(by="stranger", now=START - timedelta(days=1)), "not-a-member"),
        ([], complete(), "unknown-meeting"),
        ([scheduled, held()], complete(), "meeting-already-held"),
        ([scheduled, held()], complete(by="k"), "meeting-already-held"),
        ([scheduled, cancelled()], complete(), "meeting-cancelled"),
    ],
    ids=[
        "before-start",
        "before-the-moved-start",
        "stranger",
        "stranger-before-start",
        "unknown",
        "twice",
        "twice-by-the-other-member",
        "cancelled",
    ],
)
def test_a_completion_breaking_a_rule_is_refused(history, command, slug):
    assert refusal(m.decide_complete, history, command) == slug


# Feedback


@pytest.mark.parametrize("respondent", ["colleague", "kamu"])
@pytest.mark.parametrize(("safety", "usefulness"), [(1, 5), (5, 1), (3, 3)])
def test_a_member_rates_a_held_meeting(respondent, safety, usefulness):
    command = feedback(respondent=respondent, psychological_safety=safety, usefulness=usefulness)
    decider(m.decide_feedback).given(scheduled, held()).when(command).then(
        rated(respondent, safety, usefulness)
    )


def test_a_rating_carries_when_the_meeting_was_held():
    decider(m.decide_feedback).given(scheduled, rescheduled(), held(held_at=LATER)).when(
        feedback()
    ).then(rated(held_at=LATER))


def test_both_members_may_each_rate_once():
    decider(m.decide_feedback).given(scheduled, held(), rated("colleague")).when(
        feedback(respondent="kamu", psychological_safety=2, usefulness=3)
    ).then(rated("kamu", 2, 3))
    decider(m.decide_feedback).given(scheduled, held(), rated("kamu")).when(
        feedback(respondent="colleague")
    ).then(rated("colleague"))


@pytest.mark.parametrize(
    ("history", "respondent", "slug"),
    [
        ([scheduled, held(), rated("colleague")], "colleague", "feedback-already-given"),
        ([scheduled, held(), rated("kamu")], "kamu", "feedback-already-given"),
        (
            [scheduled, held(), rated("colleague"), rated("kamu")],
            "colleague",
            "feedback-already-given",
        ),
        ([scheduled, held(), rated("colleague"), rated("kamu")], "kamu", "feedback-already-given"),
        ([scheduled], "colleague", "meeting-not-held"),
        ([scheduled, rescheduled()], "kamu", "meeting-not-held"),
        ([scheduled, cancelled()], "colleague", "meeting-not-held"),
        ([], "colleague", "unknown-meeting"),
    ],
    ids=[
        "colleague-twice",
        "kamu-twice",
        "colleague-after-both",
        "kamu-after-both",
        "scheduled",
        "moved",
        "cancelled",
        "unknown",
    ],
)
def test_a_rating_breaking_a_rule_is_refused(history, respondent, slug):
    assert refusal(m.decide_feedback, history, feedback(respondent=respondent)) == slug


def test_a_rating_names_the_respondents_role_not_the_person():
    state = decider(m.decide_feedback).given(scheduled, held()).state
    [event] = m.decide_feedback(state, feedback(respondent="kamu"))
    assert event.respondent == "kamu"
    # Beyond the pair every meeting event names, nothing says who answered.
    assert set(event.model_dump()) - set(ids) == {
        "respondent",
        "psychological_safety",
        "usefulness",
        "held_at",
    }
    assert event.respondent not in {"c", "k"}
