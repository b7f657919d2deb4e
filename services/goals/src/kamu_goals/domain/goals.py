"""A goal: set, revised, checked in on, shared or not, reviewed, then completed or abandoned.

Pure decide/evolve; facts from elsewhere (the owner's current Kamu, the clock, when the review
clock started) arrive on the command. A closed goal takes no progress and no review.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from kamu_goals.domain.errors import RuleViolated
from kamu_goals.domain.events import (
    Category,
    GoalAbandoned,
    GoalCompleted,
    GoalProgressRecorded,
    GoalReviewDue,
    GoalReviewed,
    GoalRevised,
    GoalSet,
    GoalShared,
    GoalUnshared,
    Outcome,
    ProgressStatus,
    Visibility,
)
from kamu_shared.events import DomainEvent

Status = Literal["none", "active", "completed", "abandoned"]


@dataclass(frozen=True)
class Definition:
    title: str
    description: str | None
    category: Category
    success_criteria: str | None
    target_date: date
    review_interval_weeks: int


@dataclass(frozen=True)
class Goal:
    status: Status = "none"
    owner_id: str = ""
    visibility: Visibility = "private"
    kamu_id: str | None = None
    definition: Definition | None = None
    # The last review-due recorded: the clock start it counted from, and its lapse.
    due_clock: datetime | None = None
    due_lapse: int = 0


@dataclass(frozen=True)
class SetGoal:
    goal_id: str
    owner_id: str
    definition: Definition
    visibility: Visibility
    current_kamu: str | None


@dataclass(frozen=True)
class ReviseGoal:
    goal_id: str
    definition: Definition


@dataclass(frozen=True)
class RecordProgress:
    goal_id: str
    percent: int
    status: ProgressStatus
    note: str | None = None


@dataclass(frozen=True)
class ShareGoal:
    goal_id: str
    current_kamu: str | None
    # Shared with the same Kamu during an earlier pairing: sharing again counts anew.
    shared_before_pairing: bool = False


@dataclass(frozen=True)
class UnshareGoal:
    goal_id: str
    cause: Literal["owner", "pairing-ended"] = "owner"


@dataclass(frozen=True)
class ReviewGoal:
    goal_id: str
    reviewed_by: str
    reviewer_role: Literal["owner", "kamu"]
    outcome: Outcome
    now: datetime
    due_by: datetime
    reflection: str | None = None
    meeting_id: str | None = None


@dataclass(frozen=True)
class MarkReviewDue:
    """The timer's finding: ``lapse`` intervals passed since ``clock_since`` without a review."""

    goal_id: str
    clock_since: datetime
    lapse: int
    due_since: datetime
    current_kamu: str | None = None  # shared during their pairing: the pair is reminded


@dataclass(frozen=True)
class CloseGoal:
    goal_id: str
    by: str


def _definition(event: GoalSet | GoalRevised) -> Definition:
    return Definition(
        event.title,
        event.description,
        event.category,
        event.success_criteria,
        event.target_date,
        event.review_interval_weeks,
    )


def evolve(state: Goal, event: DomainEvent) -> Goal:
    if isinstance(event, GoalSet):
        kamu = event.kamu_id if event.visibility == "kamu" else None
        return Goal("active", event.owner_id, event.visibility, kamu, _definition(event))
    if isinstance(event, GoalRevised):
        return replace(state, definition=_definition(event))
    if isinstance(event, GoalShared):
        return replace(state, visibility="kamu", kamu_id=event.kamu_id)
    if isinstance(event, GoalUnshared):
        return replace(state, visibility="private", kamu_id=None)
    if isinstance(event, GoalReviewDue):
        return replace(state, due_clock=event.since, due_lapse=event.lapse)
    if isinstance(event, GoalCompleted):
        return replace(state, status="completed")
    if isinstance(event, GoalAbandoned):
        return replace(state, status="abandoned")
    return state


def _exists(state: Goal, goal_id: str) -> None:
    if state.status == "none":
        raise RuleViolated("unknown-goal", f"goal {goal_id} does not exist")


def _open(state: Goal, goal_id: str) -> None:
    _exists(state, goal_id)
    if state.status != "active":
        raise RuleViolated("goal-closed", f"goal {goal_id} is {state.status}")


def _ids(goal_id: str, state: Goal) -> dict[str, str]:
    return {"goal_id": goal_id, "owner_id": state.owner_id}


def decide_set(state: Goal, command: SetGoal) -> list[DomainEvent]:
    if state.status != "none":
        raise RuleViolated("goal-exists", f"goal {command.goal_id} already exists")
    if command.visibility == "kamu" and command.current_kamu is None:
        raise RuleViolated("no-kamu", "there is no Kamu to share the goal with")
    d = command.definition
    return [
        GoalSet(
            goal_id=command.goal_id,
            owner_id=command.owner_id,
            title=d.title,
            description=d.description,
            category=d.category,
            success_criteria=d.success_criteria,
            target_date=d.target_date,
            review_interval_weeks=d.review_interval_weeks,
            visibility=command.visibility,
            kamu_id=command.current_kamu if command.visibility == "kamu" else None,
        )
    ]


def decide_revise(state: Goal, command: ReviseGoal) -> list[DomainEvent]:
    _open(state, command.goal_id)
    if command.definition == state.definition:
        return []
    d = command.definition
    return [
        GoalRevised(
            **_ids(command.goal_id, state),
            title=d.title,
            description=d.description,
            category=d.category,
            success_criteria=d.success_criteria,
            target_date=d.target_date,
            review_interval_weeks=d.review_interval_weeks,
        )
    ]


def decide_progress(state: Goal, command: RecordProgress) -> list[DomainEvent]:
    _open(state, command.goal_id)
    return [
        GoalProgressRecorded(
            **_ids(command.goal_id, state),
            percent=command.percent,
            status=command.status,
            note=command.note,
        )
    ]


def decide_share(state: Goal, command: ShareGoal) -> list[DomainEvent]:
    _exists(state, command.goal_id)
    if command.current_kamu is None:
        raise RuleViolated("no-kamu", "there is no Kamu to share the goal with")
    if (
        state.visibility == "kamu"
        and state.kamu_id == command.current_kamu
        and not command.shared_before_pairing
    ):
        return []
    return [GoalShared(**_ids(command.goal_id, state), kamu_id=command.current_kamu)]


def decide_unshare(state: Goal, command: UnshareGoal) -> list[DomainEvent]:
    _exists(state, command.goal_id)
    if state.visibility == "private":
        return []
    return [GoalUnshared(**_ids(command.goal_id, state), cause=command.cause)]


def decide_review(state: Goal, command: ReviewGoal) -> list[DomainEvent]:
    _open(state, command.goal_id)
    assert state.definition is not None
    if command.reviewer_role == "kamu" and (
        state.visibility != "kamu" or state.kamu_id != command.reviewed_by
    ):
        raise RuleViolated("not-shared", "only the Kamu the goal is shared with reviews it")
    events: list[DomainEvent] = [
        GoalReviewed(
            **_ids(command.goal_id, state),
            reviewed_by=command.reviewed_by,
            reviewer_role=command.reviewer_role,
            outcome=command.outcome,
            reflection=command.reflection,
            meeting_id=command.meeting_id,
            on_time=command.now <= command.due_by,
        )
    ]
    if command.outcome == "completed":
        events.append(
            GoalCompleted(**_ids(command.goal_id, state), completed_by=command.reviewed_by)
        )
    elif command.outcome == "dropped":
        events.append(
            GoalAbandoned(**_ids(command.goal_id, state), abandoned_by=command.reviewed_by)
        )
    return events


def decide_review_due(state: Goal, command: MarkReviewDue) -> list[DomainEvent]:
    """Record the lapse once; never for a closed goal, an older clock, or a lapse recorded."""
    if state.status != "active" or state.definition is None:
        return []
    if state.due_clock is not None and command.clock_since < state.due_clock:
        return []
    if state.due_clock == command.clock_since and state.due_lapse >= command.lapse:
        return []
    return [
        GoalReviewDue(
            **_ids(command.goal_id, state),
            since=command.clock_since,
            due_since=command.due_since,
            lapse=command.lapse,
            kamu_id=(
                state.kamu_id
                if state.visibility == "kamu" and state.kamu_id == command.current_kamu
                else None
            ),
        )
    ]


def decide_complete(state: Goal, command: CloseGoal) -> list[DomainEvent]:
    _open(state, command.goal_id)
    return [GoalCompleted(**_ids(command.goal_id, state), completed_by=command.by)]


def decide_abandon(state: Goal, command: CloseGoal) -> list[DomainEvent]:
    _open(state, command.goal_id)
    return [GoalAbandoned(**_ids(command.goal_id, state), abandoned_by=command.by)]
