"""Goals, given-when-then: every rule a goal's setting, revision, check-in, sharing, review,
closing and review-due passes."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from kamu_goals.domain import goals as g
from kamu_goals.domain.errors import RuleViolated
from kamu_goals.domain.events import (
    GoalAbandoned,
    GoalCompleted,
    GoalProgressRecorded,
    GoalReviewDue,
    GoalReviewed,
    GoalRevised,
    GoalSet,
    GoalShared,
    GoalUnshared,
)
from kamu_shared.testing.given_when_then import Decider

SET_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)
DEFINITION = g.Definition(
    "Lead a team", "grow into a lead", "professional", "a team of 3", date(2025, 9, 1), 4
)
REVISED = replace(DEFINITION, title="Lead a small team", review_interval_weeks=2)
ids = {"goal_id": "g", "owner_id": "o"}


def definition_fields(d: g.Definition = DEFINITION) -> dict:
    return {
        "title": d.title,
        "description": d.description,
        "category": d.category,
        "success_criteria": d.success_criteria,
        "target_date": d.target_date,
        "review_interval_weeks": d.review_interval_weeks,
    }


private = GoalSet(**ids, **definition_fields(), visibility="private", kamu_id=None)
shared_set = GoalSet(**ids, **definition_fields(), visibility="kamu", kamu_id="k")


def revised(d: g.Definition = REVISED) -> GoalRevised:
    return GoalRevised(**ids, **definition_fields(d))


def progressed(percent=40, status="on-track", note="hired") -> GoalProgressRecorded:
    return GoalProgressRecorded(**ids, percent=percent, status=status, note=note)


def shared(kamu="k") -> GoalShared:
    return GoalShared(**ids, kamu_id=kamu)


def unshared(cause="owner") -> GoalUnshared:
    return GoalUnshared(**ids, cause=cause)


def reviewed(by="o", role="owner", outcome="keep", on_time=True, reflection=None, meeting=None):
    return GoalReviewed(
        **ids,
        reviewed_by=by,
        reviewer_role=role,
        outcome=outcome,
        reflection=reflection,
        meeting_id=meeting,
        on_time=on_time,
    )


def completed(by="o") -> GoalCompleted:
    return GoalCompleted(**ids, completed_by=by)


def abandoned(by="o") -> GoalAbandoned:
    return GoalAbandoned(**ids, abandoned_by=by)


def due(lapse=1, since=SET_AT, kamu=None, period=4 * WEEK) -> GoalReviewDue:
    return GoalReviewDue(
        **ids, since=since, due_since=since + lapse * period, lapse=lapse, kamu_id=kamu
    )


def set_goal(**changes):
    return replace(g.SetGoal("g", "o", DEFINITION, "private", None), **changes)


def review(**changes):
    due_by = SET_AT + 4 * WEEK
    return replace(g.ReviewGoal("g", "o", "owner", "keep", due_by - WEEK, due_by), **changes)


def mark_due(lapse=1, since=SET_AT, period=4 * WEEK, current_kamu="k2"):
    return g.MarkReviewDue("g", since, lapse, since + lapse * period, current_kamu)


def decider(decide):
    return Decider(g.Goal(), decide, g.evolve)


def refusal(decide, history, command):
    """The slug of the rule that refuses ``command`` after ``history``."""
    state = decider(decide).given(*history).state
    with pytest.raises(RuleViolated) as refused:
        decide(state, command)
    return refused.value.slug


CLOSED = {
    "completed": [private, completed()],
    "abandoned": [private, abandoned()],
    "completed-in-review": [private, reviewed(outcome="completed"), completed()],
    "dropped-in-review": [private, reviewed(outcome="dropped"), abandoned()],
}
closed_histories = pytest.mark.parametrize("history", CLOSED.values(), ids=list(CLOSED))


# Set


def test_a_private_goal_is_set():
    decider(g.decide_set).given().when(set_goal()).then(private)


def test_a_private_goal_names_no_kamu_even_when_the_owner_has_one():
    decider(g.decide_set).given().when(set_goal(current_kamu="k")).then(private)


def test_a_goal_set_for_the_kamu_is_shared_with_the_current_one():
    command = set_goal(visibility="kamu", current_kamu="k")
    decider(g.decide_set).given().when(command).then(shared_set)


def test_a_goal_for_the_kamu_needs_a_current_kamu():
    assert refusal(g.decide_set, [], set_goal(visibility="kamu")) == "no-kamu"


@pytest.mark.parametrize(
    "history",
    [[private], [shared_set], [private, revised()], *CLOSED.values()],
    ids=["private", "shared", "revised", *CLOSED.keys()],
)
def test_a_goal_is_set_only_once(history):
    assert refusal(g.decide_set, history, set_goal()) == "goal-exists"
    command = set_goal(visibility="kamu", current_kamu="k")
    assert refusal(g.decide_set, history, command) == "goal-exists"


# Revise


def test_an_active_goal_is_revised_with_its_whole_new_definition():
    decider(g.decide_revise).given(private).when(g.ReviseGoal("g", REVISED)).then(revised())


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Other"},
        {"description": None},
        {"category": "wellbeing"},
        {"success_criteria": "two reports"},
        {"target_date": date(2025, 10, 1)},
        {"review_interval_weeks": 8},
    ],
    ids=lambda c: next(iter(c)),
)
def test_any_change_of_the_definition_is_a_revision(change):
    new = replace(DEFINITION, **change)
    decider(g.decide_revise).given(private).when(g.ReviseGoal("g", new)).then(revised(new))


@pytest.mark.parametrize(
    ("history", "same"),
    [
        ([private], DEFINITION),
        ([shared_set, progressed()], DEFINITION),
        ([private, revised()], REVISED),
        ([private, revised(), revised(DEFINITION)], DEFINITION),
    ],
    ids=["as-set", "after-check-in", "as-revised", "revised-back"],
)
def test_an_identical_definition_records_nothing(history, same):
    decider(g.decide_revise).given(*history).when(g.ReviseGoal("g", same)).then()


def test_revising_back_to_the_first_definition_is_a_revision():
    decider(g.decide_revise).given(private, revised()).when(g.ReviseGoal("g", DEFINITION)).then(
        revised(DEFINITION)
    )


@closed_histories
def test_a_closed_goal_is_not_revised(history):
    assert refusal(g.decide_revise, history, g.ReviseGoal("g", REVISED)) == "goal-closed"
    # Not even with the definition it has.
    assert refusal(g.decide_revise, history, g.ReviseGoal("g", DEFINITION)) == "goal-closed"


def test_an_unknown_goal_is_not_revised():
    assert refusal(g.decide_revise, [], g.ReviseGoal("g", REVISED)) == "unknown-goal"


# Progress


@pytest.mark.parametrize("status", ["on-track", "at-risk", "blocked"])
def test_the_owner_checks_in_on_an_active_goal(status):
    command = g.RecordProgress("g", 40, status, "hired")
    decider(g.decide_progress).given(private).when(command).then(progressed(status=status))


def test_every_check_in_is_recorded_even_a_repeated_one():
    decider(g.decide_progress).given(private, progressed()).when(
        g.RecordProgress("g", 40, "on-track", "hired")
    ).then(progressed())
    decider(g.decide_progress).given(shared_set, progressed(), revised()).when(
        g.RecordProgress("g", 100, "on-track")
    ).then(progressed(percent=100, note=None))


@closed_histories
def test_a_closed_goal_takes_no_check_in(history):
    command = g.RecordProgress("g", 100, "on-track")
    assert refusal(g.decide_progress, history, command) == "goal-closed"


def test_an_unknown_goal_takes_no_check_in():
    command = g.RecordProgress("g", 10, "on-track")
    assert refusal(g.decide_progress, [], command) == "unknown-goal"


# Share


@pytest.mark.parametrize(
    "history",
    [[private], [shared_set, unshared()], [shared_set, unshared("pairing-ended")]],
    ids=["private", "unshared-by-owner", "unshared-by-pairing-end"],
)
def test_a_private_goal_is_shared_with_the_current_kamu(history):
    decider(g.decide_share).given(*history).when(g.ShareGoal("g", "k")).then(shared())


@pytest.mark.parametrize(
    "history",
    [[private], [shared_set], [private, shared("k")]],
    ids=["private", "shared", "shared-later"],
)
def test_sharing_needs_a_current_kamu(history):
    assert refusal(g.decide_share, history, g.ShareGoal("g", None)) == "no-kamu"


@pytest.mark.parametrize(
    "history",
    [[shared_set], [private, shared("k")], [shared_set, shared("k2"), shared("k")]],
    ids=["set-shared", "shared-later", "shared-back"],
)
def test_sharing_again_with_the_same_kamu_records_nothing(history):
    decider(g.decide_share).given(*history).when(g.ShareGoal("g", "k")).then()


@pytest.mark.parametrize(
    "history",
    [[shared_set], [private, shared("k")]],
    ids=["set-shared", "shared-later"],
)
def test_sharing_with_another_kamu_is_recorded_again(history):
    decider(g.decide_share).given(*history).when(g.ShareGoal("g", "k2")).then(shared("k2"))


def test_an_unknown_goal_is_not_shared():
    assert refusal(g.decide_share, [], g.ShareGoal("g", "k")) == "unknown-goal"


# Unshare


@pytest.mark.parametrize(
    "history",
    [[private], [shared_set, unshared()], [private, shared(), unshared("pairing-ended")]],
    ids=["never-shared", "unshared", "unshared-by-pairing-end"],
)
@pytest.mark.parametrize("cause", ["owner", "pairing-ended"])
def test_unsharing_a_private_goal_records_nothing(history, cause):
    decider(g.decide_unshare).given(*history).when(g.UnshareGoal("g", cause)).then()


@pytest.mark.parametrize(
    "history",
    [[shared_set], [private, shared()], [shared_set, shared("k2")]],
    ids=["set-shared", "shared-later", "shared-with-another"],
)
@pytest.mark.parametrize("cause", ["owner", "pairing-ended"])
def test_unsharing_a_shared_goal_carries_its_cause(history, cause):
    decider(g.decide_unshare).given(*history).when(g.UnshareGoal("g", cause)).then(unshared(cause))


def test_the_owner_is_the_default_cause_of_unsharing():
    decider(g.decide_unshare).given(shared_set).when(g.UnshareGoal("g")).then(unshared("owner"))


def test_an_unknown_goal_is_not_unshared():
    assert refusal(g.decide_unshare, [], g.UnshareGoal("g")) == "unknown-goal"


# Review


@pytest.mark.parametrize("outcome", ["keep", "adjust"])
def test_a_review_that_keeps_the_goal_open_records_only_the_review(outcome):
    command = review(outcome=outcome, reflection="slow going", meeting_id="m")
    decider(g.decide_review).given(private).when(command).then(
        reviewed(outcome=outcome, reflection="slow going", meeting="m")
    )


def test_a_completed_outcome_also_completes_the_goal():
    decider(g.decide_review).given(private).when(review(outcome="completed")).then(
        reviewed(outcome="completed"), completed()
    )


def test_a_dropped_outcome_also_abandons_the_goal():
    decider(g.decide_review).given(private).when(review(outcome="dropped")).then(
        reviewed(outcome="dropped"), abandoned()
    )


@pytest.mark.parametrize(
    "history",
    [[shared_set], [private, shared("k")], [shared_set, unshared(), shared("k")]],
    ids=["set-shared", "shared-later", "shared-again"],
)
@pytest.mark.parametrize("outcome", ["keep", "adjust", "completed", "dropped"])
def test_the_kamu_it_is_shared_with_reviews_it(history, outcome):
    expected = [reviewed(by="k", role="kamu", outcome=outcome)]
    if outcome == "completed":
        expected.append(completed(by="k"))
    if outcome == "dropped":
        expected.append(abandoned(by="k"))
    command = review(reviewed_by="k", reviewer_role="kamu", outcome=outcome)
    decider(g.decide_review).given(*history).when(command).then(*expected)


def test_the_owner_reviews_a_shared_goal_too():
    decider(g.decide_review).given(shared_set).when(review()).then(reviewed())


@pytest.mark.parametrize(
    ("history", "kamu"),
    [
        ([private], "k"),
        ([shared_set], "k2"),
        ([shared_set, unshared()], "k"),
        ([shared_set, unshared("pairing-ended")], "k"),
        ([shared_set, shared("k2")], "k"),
    ],
    ids=["private", "another-kamu", "unshared", "pairing-ended", "shared-with-the-next-kamu"],
)
def test_a_kamu_reviews_only_a_goal_shared_with_them(history, kamu):
    command = review(reviewed_by=kamu, reviewer_role="kamu")
    assert refusal(g.decide_review, history, command) == "not-shared"


@pytest.mark.parametrize(
    ("now", "on_time"),
    [
        (SET_AT, True),
        (SET_AT + 4 * WEEK - timedelta(microseconds=1), True),
        (SET_AT + 4 * WEEK, True),
        (SET_AT + 4 * WEEK + timedelta(microseconds=1), False),
        (SET_AT + 9 * WEEK, False),
    ],
    ids=["at-once", "just-before", "at-the-due-time", "just-after", "weeks-late"],
)
def test_a_review_is_on_time_until_it_falls_due(now, on_time):
    command = review(now=now, due_by=SET_AT + 4 * WEEK)
    decider(g.decide_review).given(private).when(command).then(reviewed(on_time=on_time))


def test_a_late_closing_review_is_late_and_still_closes():
    command = review(outcome="completed", now=SET_AT + 5 * WEEK, due_by=SET_AT + 4 * WEEK)
    decider(g.decide_review).given(private, due(1)).when(command).then(
        reviewed(outcome="completed", on_time=False), completed()
    )


@closed_histories
@pytest.mark.parametrize(
    "command",
    [review(), review(outcome="completed"), review(reviewed_by="k", reviewer_role="kamu")],
    ids=["owner", "owner-completing", "kamu"],
)
def test_a_closed_goal_is_not_reviewed(history, command):
    assert refusal(g.decide_review, history, command) == "goal-closed"


def test_a_closed_shared_goal_is_not_reviewed_by_its_kamu():
    history = [shared_set, completed()]
    command = review(reviewed_by="k", reviewer_role="kamu")
    assert refusal(g.decide_review, history, command) == "goal-closed"


def test_an_unknown_goal_is_not_reviewed():
    assert refusal(g.decide_review, [], review()) == "unknown-goal"


# Complete and abandon


@pytest.mark.parametrize(
    "history",
    [[private], [shared_set, progressed(), revised()], [private, reviewed(), due(1)]],
    ids=["set", "worked-on", "reviewed-and-due"],
)
def test_the_owner_completes_or_abandons_an_active_goal(history):
    decider(g.decide_complete).given(*history).when(g.CloseGoal("g", "o")).then(completed())
    decider(g.decide_abandon).given(*history).when(g.CloseGoal("g", "o")).then(abandoned())


@closed_histories
@pytest.mark.parametrize(
    "decide", [g.decide_complete, g.decide_abandon], ids=["complete", "abandon"]
)
def test_a_closed_goal_is_closed_only_once(history, decide):
    assert refusal(decide, history, g.CloseGoal("g", "o")) == "goal-closed"


@pytest.mark.parametrize(
    "decide", [g.decide_complete, g.decide_abandon], ids=["complete", "abandon"]
)
def test_an_unknown_goal_is_not_closed(decide):
    assert refusal(decide, [], g.CloseGoal("g", "o")) == "unknown-goal"


# Review due


def test_the_first_lapse_is_recorded():
    decider(g.decide_review_due).given(private).when(mark_due(1)).then(due(1))


def test_a_later_lapse_found_first_is_recorded_alone():
    decider(g.decide_review_due).given(private).when(mark_due(3)).then(due(3))


@pytest.mark.parametrize(
    ("history", "lapse"),
    [
        ([private, due(1)], 1),
        ([private, due(1), due(2)], 2),
        ([private, due(1), due(2)], 1),
        ([private, due(3)], 2),
        ([private, due(3)], 3),
    ],
    ids=["first-again", "second-again", "an-earlier-one", "below-a-late-find", "late-find-again"],
)
def test_a_lapse_of_one_clock_start_is_recorded_once(history, lapse):
    decider(g.decide_review_due).given(*history).when(mark_due(lapse)).then()


@pytest.mark.parametrize(
    ("history", "lapse"),
    [([private, due(1)], 2), ([private, due(1)], 4), ([private, due(1), due(2)], 3)],
    ids=["next", "after-an-outage", "third"],
)
def test_a_higher_lapse_is_recorded(history, lapse):
    decider(g.decide_review_due).given(*history).when(mark_due(lapse)).then(due(lapse))


def test_a_review_restarts_the_count_from_its_own_clock():
    restart = SET_AT + 5 * WEEK
    decider(g.decide_review_due).given(private, due(1), reviewed(on_time=False)).when(
        mark_due(1, since=restart)
    ).then(due(1, since=restart))


@pytest.mark.parametrize("lapse", [1, 2, 5])
def test_a_finding_from_an_older_clock_is_ignored(lapse):
    restart = SET_AT + 5 * WEEK
    history = [private, due(1), reviewed(on_time=False), due(1, since=restart)]
    decider(g.decide_review_due).given(*history).when(mark_due(lapse)).then()


@closed_histories
def test_a_closed_goal_never_falls_due(history):
    decider(g.decide_review_due).given(*history).when(mark_due(1)).then()
    decider(g.decide_review_due).given(*history).when(mark_due(7)).then()


def test_an_unknown_goal_never_falls_due():
    decider(g.decide_review_due).given().when(mark_due(1)).then()


@pytest.mark.parametrize(
    ("history", "kamu"),
    [
        ([shared_set], "k"),
        ([private, shared("k2")], "k2"),
        ([shared_set, shared("k2")], "k2"),
        ([private], None),
        ([shared_set, unshared()], None),
        ([shared_set, unshared("pairing-ended")], None),
    ],
    ids=["set-shared", "shared-later", "shared-with-another", "private", "unshared", "ended"],
)
def test_a_review_due_names_the_kamu_only_while_shared(history, kamu):
    current = kamu or "k"
    command = mark_due(1, current_kamu=current)
    decider(g.decide_review_due).given(*history).when(command).then(due(1, kamu=kamu))


@pytest.mark.regression
def test_a_review_due_never_names_a_kamu_who_is_no_longer_the_kamu():
    """Found in review: the event named the Kamu the goal was shared with even when the owner's
    current Kamu was someone else (a pairing's end not handled yet): the ex-Kamu was reminded."""
    command = mark_due(1, current_kamu="someone-else")
    decider(g.decide_review_due).given(shared_set).when(command).then(due(1, kamu=None))


@pytest.mark.regression
def test_sharing_again_with_the_same_kamu_in_a_new_pairing_counts_anew():
    """Found in review: re-sharing a goal still marked shared with the same Kamu from an
    earlier pairing recorded nothing, so its share time stayed before the new pairing."""
    command = g.ShareGoal("g", "k", shared_before_pairing=True)
    decider(g.decide_share).given(shared_set).when(command).then(shared("k"))


def test_a_revised_interval_counts_in_the_finding_the_timer_makes():
    command = mark_due(2, period=2 * WEEK)
    decider(g.decide_review_due).given(private, due(1), revised()).when(command).then(
        due(2, period=2 * WEEK)
    )
