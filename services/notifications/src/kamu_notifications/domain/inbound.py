"""Other services' events as notifications reads them: minimal tolerant models.

Registered in registries named for their producers, so wire types match without importing
their code; the producers may add fields freely. Events of different aggregates (a person and
a pairing, say) arrive in any order, so nothing here assumes the person is known first:
contact details are looked up when a notification is sent, not when it is planned.
"""

from typing import Annotated, Literal

from pydantic import AwareDatetime

from kamu_shared.events import EventRegistry, PersonalData, TolerantEvent

pairing_events = EventRegistry("pairing")
meeting_events = EventRegistry("meetings")
goal_events = EventRegistry("goals")


class _Person(TolerantEvent):
    person_id: str
    display_name: Annotated[str, PersonalData(subject="person_id")]
    email: Annotated[str, PersonalData(subject="person_id")]
    locale: str | None = None
    time_zone: str | None = None
    slack_user_id: Annotated[str | None, PersonalData(subject="person_id")] = None
    teams_user_id: Annotated[str | None, PersonalData(subject="person_id")] = None


@pairing_events.register
class PersonRegistered(_Person, name="person-registered", version=1):
    """Contact details, locale and zone: where and how to reach the person."""


@pairing_events.register
class PersonUpdated(_Person, name="person-updated", version=1):
    """New contact details."""


@pairing_events.register
class PersonLeft(TolerantEvent, name="person-left", version=1):
    """Nothing more is sent to them."""

    person_id: str


class _Pairing(TolerantEvent):
    pairing_id: str
    colleague_id: str
    kamu_id: str


@pairing_events.register
class PairingRequested(_Pairing, name="pairing-requested", version=1):
    """A colleague asked a Kamu: the Kamu is told (not the message: it stays in the app)."""


@pairing_events.register
class PairingCreated(_Pairing, name="pairing-created", version=1):
    """The Kamu accepted: the colleague is told."""

    cadence_weeks: int | None = None


@pairing_events.register
class PairingDeclined(_Pairing, name="pairing-declined", version=1):
    """The Kamu declined: the colleague is told."""


@pairing_events.register
class PairingWithdrawn(_Pairing, name="pairing-withdrawn", version=1):
    """The colleague withdrew the request: the Kamu is told."""


@pairing_events.register
class PairingEnded(_Pairing, name="pairing-ended", version=1):
    """The colleague is told, and the Kamu unless they ended it."""

    ended_by: str | None = None


class _Meeting(TolerantEvent):
    meeting_id: str
    pairing_id: str
    colleague_id: str
    kamu_id: str


class _Slot(_Meeting):
    starts_at: AwareDatetime
    time_zone: str
    duration_minutes: int
    location: Annotated[str | None, PersonalData(subject="colleague_id")] = None


@meeting_events.register
class MeetingScheduled(_Slot, name="meeting-scheduled", version=1):
    """Both members get an invitation (with the iCalendar request by email)."""

    scheduled_by: str | None = None


@meeting_events.register
class MeetingRescheduled(_Slot, name="meeting-rescheduled", version=1):
    """Both members get the updated invitation (SEQUENCE raised)."""

    sequence: int = 1


@meeting_events.register
class MeetingCancelled(_Meeting, name="meeting-cancelled", version=1):
    """Both members get the cancellation (the iCalendar CANCEL by email)."""

    cause: str | None = None
    starts_at: AwareDatetime | None = None


@meeting_events.register
class MeetingHeld(_Meeting, name="meeting-held", version=1):
    """No notification; its reminder is no longer due. Notes are never read here."""


@meeting_events.register
class MeetingOverdue(TolerantEvent, name="meeting-overdue", version=1):
    """The pair has gone a cadence without a meeting: the nudged member is told."""

    pairing_id: str
    colleague_id: str
    kamu_id: str
    lapse: int
    nudge: Literal["colleague", "kamu", "none"]


class _Goal(TolerantEvent):
    goal_id: str


@goal_events.register
class GoalUnshared(_Goal, name="goal-unshared", version=1):
    """Private again: a review reminder to the Kamu not yet sent is withdrawn."""


@goal_events.register
class GoalReviewed(_Goal, name="goal-reviewed", version=1):
    """Reviewed: a review reminder not yet sent is outdated."""


@goal_events.register
class GoalCompleted(_Goal, name="goal-completed", version=1):
    """Closed: a review reminder not yet sent is outdated."""


@goal_events.register
class GoalAbandoned(_Goal, name="goal-abandoned", version=1):
    """Closed: a review reminder not yet sent is outdated."""


@goal_events.register
class GoalReviewDue(TolerantEvent, name="goal-review-due", version=1):
    """A goal's review is due: its owner is told, and the Kamu it is shared with (if any).

    The goal's title is not read: notifications never carry what a goal says."""

    goal_id: str
    owner_id: str
    lapse: int
    kamu_id: str | None = None
