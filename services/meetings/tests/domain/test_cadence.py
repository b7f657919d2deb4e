"""The cadence, given-when-then: one ``meeting-overdue`` per lapse, escalating gently.

Nudges follow the order in which lapses are recorded since the clock started (the first one
recorded nudges the colleague, the second the Kamu, later ones nobody), not the lapse number:
a lapse found late (after an outage) still nudges the colleague first.
"""

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


def overdue(n, since=SINCE, nudge=None):
    """Lapse ``n`` recorded; the nudge defaults to that of a history recorded 1, 2, 3, ..."""
    return MeetingOverdue(**pair, lapse=n, since=since, nudge=nudge or c.nudge_for(n))


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
    cadence.given().when(lapse(3)).then(overdue(3, nudge="colleague"))
    cadence.given(overdue(1)).when(lapse(4)).then(overdue(4, nudge="kamu"))


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
    """Lapses recorded one by one: the ``n``-th recorded nudges ``nudge``."""
    assert c.nudge_for(n) == nudge
    history = [overdue(i) for i in range(1, n)]
    cadence.given(*history).when(lapse(n)).then(
        MeetingOverdue(**pair, lapse=n, since=SINCE, nudge=nudge)
    )


@pytest.mark.regression
@pytest.mark.parametrize("n", [2, 3, 7])
def test_a_lapse_found_late_nudges_the_colleague_first(n):
    """Was a bug: the nudge followed the lapse number, so a lapse first recorded as lapse 3
    (the service was down, or a late record moved the clock) nudged nobody, and lapse 2 found
    late went straight to the Kamu: the colleague never got the gentle first reminder. The
    first lapse recorded since the clock started nudges the colleague, the next the Kamu."""
    cadence.given().when(lapse(n)).then(
        MeetingOverdue(**pair, lapse=n, since=SINCE, nudge="colleague")
    )
    found_late = overdue(n, nudge="colleague")
    cadence.given(found_late).when(lapse(n + 1)).then(
        MeetingOverdue(**pair, lapse=n + 1, since=SINCE, nudge="kamu")
    )
    cadence.given(found_late, overdue(n + 1, nudge="kamu")).when(lapse(n + 5)).then(
        MeetingOverdue(**pair, lapse=n + 5, since=SINCE, nudge="none")
    )


@pytest.mark.regression
def test_the_order_of_nudges_restarts_with_the_clock():
    """Lapses recorded before a held meeting do not count after it: the first lapse since the
    new start, found late or not, nudges the colleague again (``Cadence.recorded``)."""
    before = (overdue(1), overdue(2), overdue(3))
    state = cadence.given(*before).state
    assert (state.since, state.lapse, state.recorded) == (SINCE, 3, 3)
    cadence.given(*before).when(lapse(2, since=HELD)).then(
        MeetingOverdue(**pair, lapse=2, since=HELD, nudge="colleague")
    )
    restarted = cadence.given(*before, overdue(2, since=HELD, nudge="colleague")).state
    assert (restarted.since, restarted.lapse, restarted.recorded) == (HELD, 2, 1)
    cadence.given(*before, overdue(2, since=HELD, nudge="colleague")).when(
        lapse(4, since=HELD)
    ).then(MeetingOverdue(**pair, lapse=4, since=HELD, nudge="kamu"))


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
