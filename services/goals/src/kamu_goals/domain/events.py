"""The goals service's published events.

Wire types ``kamu.goals.<name>.v<N>``, on the topic ``kamu.goals.events``; every event of a goal
is in the goal's stream (``goal-<id>``, keyed by it), so consumers see a goal's events in order.
What a person writes (title, description, criteria, notes, reflections) is personal data of the
goal's owner. Sharing is with the owner's Kamu of the moment and ends with that pairing
(``goal-unshared`` with ``cause: pairing-ended``).
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from kamu_shared.events import DomainEvent, EventRegistry, PersonalData

registry = EventRegistry("goals")

Category = Literal["professional", "personal", "wellbeing", "competence"]
Visibility = Literal["private", "kamu"]
Outcome = Literal["keep", "adjust", "completed", "dropped"]
ProgressStatus = Literal["on-track", "at-risk", "blocked"]
OwnersText = Annotated[str, PersonalData(subject="owner_id")]


class _GoalEvent(DomainEvent):
    goal_id: str
    owner_id: str


class _Definition(_GoalEvent):
    title: OwnersText
    description: Annotated[str | None, PersonalData(subject="owner_id")] = None
    category: Category
    success_criteria: Annotated[str | None, PersonalData(subject="owner_id")] = None
    target_date: date
    review_interval_weeks: int = Field(ge=1, le=52)


@registry.register
class GoalSet(_Definition, name="goal-set", version=1):
    """A person set a goal for themselves, private or shared with their Kamu."""

    visibility: Visibility
    kamu_id: str | None = Field(default=None, description="The Kamu it is shared with, if any.")


@registry.register
class GoalRevised(_Definition, name="goal-revised", version=1):
    """The owner revised the goal; the event carries the whole new definition."""


@registry.register
class GoalProgressRecorded(_GoalEvent, name="goal-progress-recorded", version=1):
    """A progress check-in by the owner."""

    percent: int = Field(ge=0, le=100)
    status: ProgressStatus
    note: Annotated[str | None, PersonalData(subject="owner_id")] = None


@registry.register
class GoalShared(_GoalEvent, name="goal-shared", version=1):
    """The owner shared the goal with their current Kamu."""

    kamu_id: str


@registry.register
class GoalUnshared(_GoalEvent, name="goal-unshared", version=1):
    """The goal is private again: the owner took it back, or their pairing ended."""

    cause: Literal["owner", "pairing-ended"] = "owner"


@registry.register
class GoalReviewed(_GoalEvent, name="goal-reviewed", version=1):
    """The owner, or their Kamu on a shared goal, reviewed it (maybe in a Kamu meeting)."""

    reviewed_by: str
    reviewer_role: Literal["owner", "kamu"]
    outcome: Outcome
    reflection: Annotated[str | None, PersonalData(subject="owner_id")] = None
    meeting_id: str | None = None
    on_time: bool = Field(description="Within the review interval since the last review.")


@registry.register
class GoalCompleted(_GoalEvent, name="goal-completed", version=1):
    """Reached: no more progress or reviews."""

    completed_by: str


@registry.register
class GoalAbandoned(_GoalEvent, name="goal-abandoned", version=1):
    """Dropped: no more progress or reviews."""

    abandoned_by: str


@registry.register
class GoalReviewDue(_GoalEvent, name="goal-review-due", version=1):
    """The review interval passed without a review (once per lapse).

    ``kamu_id`` is the Kamu the goal is shared with, if it is: the pair is reminded together.
    """

    since: AwareDatetime = Field(description="The last review, or when the goal was set.")
    due_since: AwareDatetime = Field(description="When this lapse fell due.")
    lapse: int = Field(ge=1)
    kamu_id: str | None = None
