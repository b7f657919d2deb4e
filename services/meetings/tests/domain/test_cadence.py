"""The cadence, given-when-then: one ``meeting-overdue`` per lapse, escalating gently."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kamu_meetings.domain import cadence as c
from kamu_meetings.domain.events import MeetingOverdue
from kamu_shared.testing.given_when_then import Decider

SINCE = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # the pairing's start
HELD = SINCE + timedelta(weeks=5)  # a meeting held later restarts the clock
pair = {"pairing_id": "p", "colleague_id": "c", "kamu_id": "k", "cadence_weeks": 2}


def lapse(n, since=SINCE):
    return c.RecordLapse(**pair, since=since, lapse=n)


def overdue(n, since=SINCE):
    return MeetingOverdue(**pair, lapse=n, since=since, nudge=c.nudge_for(n))


cadence = Decider(c.Cadence(), c.decide_lapse, c.evolve)


def test_the_first_lapse_is_recorded_and_nudges_the_colleague():
    cadence.given().when(lapse(1)).then(
        MeetingOverdue(**pair, lapse=1, since=SINCE, nudge="colleague")
    )


def test_the_same_lapse_is_recorded_once():
    cadence.given(overdue(1)).when(lapse(1)).then()
    cadence.given(overdue(1), overdue(2)).when(lapse(2)).then()


@pytest.mark.parametrize(("recorded", "lower"), [(2, 1), (3, 1), (3, 2), (7, 4)])
def test_a_lower_lapse_from_the_same_start_records_nothing(recorded, lower):
    cadence.given(overdue(recorded)).when(lapse(lower)).then()


def test_the_next_lapse_is_recorded_and_escalates_to_the_kamu():
    cadence.given(overdue(1)).when(lapse(2)).then(
        MeetingOverdue(**pair, lapse=2, since=SINCE, nudge="kamu")
    )


def test_after_an_outage_only_the_current_lapse_is_recorded():
    cadence.given().when(lapse(3)).then(overdue(3))
    cadence.given(overdue(1)).when(lapse(4)).then(overdue(4))


@pytest.mark.parametrize(
    "history",
    [[], [overdue(1)], [overdue(1), overdue(2)], [overdue(1), overdue(2), overdue(5)]],
    ids=["none", "one", "two", "five"],
)
def test_a_held_meeting_restarts_the_count_from_one(history):
    cadence.given(*history).when(lapse(1, since=HELD)).then(
        MeetingOverdue(**pair, lapse=1, since=HELD, nudge="colleague")
    )


def test_the_restarted_count_is_again_recorded_once_per_lapse():
    restarted = (overdue(1), overdue(2), overdue(1, since=HELD))
    cadence.given(*restarted).when(lapse(1, since=HELD)).then()
    cadence.given(*restarted).when(lapse(2, since=HELD)).then(overdue(2, since=HELD))


def test_the_same_instant_in_another_offset_is_the_same_clock_start():
    helsinki = SINCE.astimezone(timezone(timedelta(hours=2)))
    cadence.given(overdue(1)).when(lapse(1, since=helsinki)).then()


@pytest.mark.parametrize(
    ("n", "nudge"),
    [(1, "colleague"), (2, "kamu"), (3, "none"), (4, "none"), (12, "none")],
)
def test_nudges_go_to_the_colleague_then_the_kamu_then_nobody(n, nudge):
    assert c.nudge_for(n) == nudge
    cadence.given().when(lapse(n)).then(MeetingOverdue(**pair, lapse=n, since=SINCE, nudge=nudge))


@pytest.mark.parametrize(
    ("n", "weeks", "due"),
    [
        (1, 1, datetime(2025, 1, 13, 9, 0, tzinfo=UTC)),
        (1, 2, datetime(2025, 1, 20, 9, 0, tzinfo=UTC)),
        (2, 2, datetime(2025, 2, 3, 9, 0, tzinfo=UTC)),
        (3, 4, datetime(2025, 3, 31, 9, 0, tzinfo=UTC)),
    ],
)
def test_lapse_n_falls_due_n_cadences_after_the_start(n, weeks, due):
    assert c.due_at(SINCE, n, timedelta(weeks=weeks)) == due


@pytest.mark.parametrize("weeks", [1, 2, 3, 4])
def test_lapses_fall_due_one_cadence_apart(weeks):
    period = timedelta(weeks=weeks)
    assert c.due_at(SINCE, 0, period) == SINCE
    for n in range(1, 6):
        assert c.due_at(SINCE, n, period) - c.due_at(SINCE, n - 1, period) == period


def test_due_at_counts_from_the_last_held_meeting():
    period = timedelta(weeks=2)
    assert c.due_at(HELD, 1, period) == HELD + period
    assert c.due_at(HELD, 1, period) > c.due_at(SINCE, 3, period)
