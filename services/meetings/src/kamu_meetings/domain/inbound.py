"""Other services' events as this service reads them: minimal tolerant models.

Registered in registries named for their producers, so wire types match without importing
their code. The producers may add fields freely; these name only what meetings uses. Each
aggregate's events are expected in its own stream (keyed by its id), hence in order.
"""

from typing import Annotated

from pydantic import AwareDatetime

from kamu_shared.events import EventRegistry, PersonalData, TolerantEvent

pairing_events = EventRegistry("pairing")
goal_events = EventRegistry("goals")


class _Person(TolerantEvent):
    person_id: str
    display_name: Annotated[str, PersonalData(subject="person_id")]
    email: Annotated[str, PersonalData(subject="person_id")]
    time_zone: str | None = None
    locale: str | None = None


@pairing_events.register
class PersonRegistered(_Person, name="person-registered", version=1):
    """Contact details for the calendar feed's attendees."""


@pairing_events.register
class PersonUpdated(_Person, name="person-updated", version=1):
    """New contact details or time zone."""


class _Pairing(TolerantEvent):
    pairing_id: str
    colleague_id: str
    kamu_id: str


@pairing_events.register
class PairingRequested(_Pairing, name="pairing-requested", version=1):
    """Asked, not yet answered: a meeting for it is refused (not "retry later")."""


@pairing_events.register
class PairingDeclined(_Pairing, name="pairing-declined", version=1):
    """Never became active."""


@pairing_events.register
class PairingWithdrawn(_Pairing, name="pairing-withdrawn", version=1):
    """Never became active."""


@pairing_events.register
class PairingCreated(_Pairing, name="pairing-created", version=1):
    """A pairing became active: meetings may be scheduled (from ``began_at`` when the
    pairing's history was moved in from before), and the cadence clock starts."""

    cadence_weeks: int
    began_at: AwareDatetime | None = None


@pairing_events.register
class PairingEnded(_Pairing, name="pairing-ended", version=1):
    """A pairing ended: its future meetings are cancelled and its clock stops."""


class _Goal(TolerantEvent):
    goal_id: str


@goal_events.register
class GoalSet(_Goal, name="goal-set", version=1):
    owner_id: str
    title: str
    visibility: str = "private"


@goal_events.register
class GoalRevised(_Goal, name="goal-revised", version=1):
    """A new title (visibility changes come as goal-shared and goal-unshared)."""

    title: str | None = None


@goal_events.register
class GoalShared(_Goal, name="goal-shared", version=1):
    """The owner shared the goal with their Kamu."""


@goal_events.register
class GoalUnshared(_Goal, name="goal-unshared", version=1):
    """The owner took the goal back to private."""


@goal_events.register
class GoalReviewDue(_Goal, name="goal-review-due", version=1):
    """The goal's review interval passed without a review."""

    due_since: AwareDatetime | None = None


@goal_events.register
class GoalReviewed(_Goal, name="goal-reviewed", version=1):
    """Reviewed: no longer due."""


@goal_events.register
class GoalCompleted(_Goal, name="goal-completed", version=1):
    """Closed: never suggested again."""


@goal_events.register
class GoalAbandoned(_Goal, name="goal-abandoned", version=1):
    """Closed: never suggested again."""
