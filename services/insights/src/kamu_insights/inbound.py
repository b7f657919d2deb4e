"""Every other service's events as insights reads them: minimal tolerant models.

Only what a programme figure needs: teams, dates, statuses, counts and ratings. Personal data
(names, notes, goal titles, messages) is never declared, so it is never read or stored.
"""

from datetime import date

from pydantic import AwareDatetime

from kamu_shared.events import EventRegistry, TolerantEvent

pairing_events = EventRegistry("pairing")
meeting_events = EventRegistry("meetings")
goal_events = EventRegistry("goals")
notification_events = EventRegistry("notifications")


# pairing: people, Kamus, pairings -----------------------------------------------------------


class _Person(TolerantEvent):
    person_id: str
    team: str | None = None
    joined_on: date | None = None


@pairing_events.register
class PersonRegistered(_Person, name="person-registered", version=1):
    """A person counts in their team's headcount from when they joined."""


@pairing_events.register
class PersonUpdated(_Person, name="person-updated", version=1):
    """A new team (or start date) re-files the person."""


@pairing_events.register
class PersonLeft(TolerantEvent, name="person-left", version=1):
    """The person leaves the headcount."""

    person_id: str


class _KamuProfile(TolerantEvent):
    person_id: str
    capacity: int
    hours_per_month: float


@pairing_events.register
class KamuVolunteered(_KamuProfile, name="kamu-volunteered", version=1):
    """A Kamu with their capacity and allocated hours."""


@pairing_events.register
class KamuProfileUpdated(_KamuProfile, name="kamu-profile-updated", version=1):
    """New capacity or hours."""


@pairing_events.register
class KamuTrainingCompleted(TolerantEvent, name="kamu-training-completed", version=1):
    """Trained Kamus can take colleagues."""

    person_id: str
    completed_on: date


class _KamuStatus(TolerantEvent):
    person_id: str


@pairing_events.register
class KamuRetired(_KamuStatus, name="kamu-retired", version=1):
    """No longer volunteering."""


@pairing_events.register
class KamuPaused(_KamuStatus, name="kamu-paused", version=1):
    """Takes no new colleagues for now."""


@pairing_events.register
class KamuResumed(_KamuStatus, name="kamu-resumed", version=1):
    """Takes colleagues again."""


class PairingEvent(TolerantEvent):
    """What every pairing event carries."""

    pairing_id: str
    colleague_id: str
    kamu_id: str


@pairing_events.register
class PairingRequested(PairingEvent, name="pairing-requested", version=1):
    """The clock of time-to-pair starts."""


@pairing_events.register
class PairingCreated(PairingEvent, name="pairing-created", version=1):
    """Active from ``began_at`` (history moved into Kamu) or from when it was recorded."""

    cadence_weeks: int
    began_at: AwareDatetime | None = None


@pairing_events.register
class PairingDeclined(PairingEvent, name="pairing-declined", version=1):
    """A request closed without a pairing."""


@pairing_events.register
class PairingWithdrawn(PairingEvent, name="pairing-withdrawn", version=1):
    """A request closed without a pairing."""


@pairing_events.register
class PairingEnded(PairingEvent, name="pairing-ended", version=1):
    """The colleague has no Kamu from here (until another pairing)."""


# meetings -----------------------------------------------------------------------------------


class MeetingEvent(TolerantEvent):
    """What every meeting event carries."""

    meeting_id: str
    pairing_id: str
    colleague_id: str
    kamu_id: str


@meeting_events.register
class MeetingScheduled(MeetingEvent, name="meeting-scheduled", version=1):
    """Its length counts towards the Kamu's hours once held."""

    starts_at: AwareDatetime
    duration_minutes: int


@meeting_events.register
class MeetingRescheduled(MeetingEvent, name="meeting-rescheduled", version=1):
    """The whole new slot."""

    starts_at: AwareDatetime
    duration_minutes: int


@meeting_events.register
class MeetingCancelled(MeetingEvent, name="meeting-cancelled", version=1):
    """Will not be held."""


@meeting_events.register
class MeetingHeld(MeetingEvent, name="meeting-held", version=1):
    """A held meeting: cadence, first meeting, hours."""

    held_at: AwareDatetime


@meeting_events.register
class MeetingFeedbackGiven(MeetingEvent, name="meeting-feedback-given", version=1):
    """One member's ratings; only their averages over groups of people are ever shown."""

    respondent: str  # "colleague" or "kamu": which member rated
    psychological_safety: int
    usefulness: int
    held_at: AwareDatetime


@meeting_events.register
class MeetingOverdue(TolerantEvent, name="meeting-overdue", version=1):
    """A pairing went a cadence without a held meeting."""

    pairing_id: str
    colleague_id: str
    lapse: int
    since: AwareDatetime


# goals --------------------------------------------------------------------------------------


class _Goal(TolerantEvent):
    goal_id: str
    owner_id: str


@goal_events.register
class GoalSet(_Goal, name="goal-set", version=1):
    """A goal in its category."""

    category: str


@goal_events.register
class GoalRevised(_Goal, name="goal-revised", version=1):
    """Maybe another category."""

    category: str


@goal_events.register
class GoalReviewed(_Goal, name="goal-reviewed", version=1):
    """A review, on time or late."""

    on_time: bool
    meeting_id: str | None = None


@goal_events.register
class GoalCompleted(_Goal, name="goal-completed", version=1):
    """Reached."""


@goal_events.register
class GoalAbandoned(_Goal, name="goal-abandoned", version=1):
    """Dropped."""


# notifications ------------------------------------------------------------------------------


class _Outcome(TolerantEvent):
    notification_id: str
    recipient_id: str
    channel: str


@notification_events.register
class NotificationSent(_Outcome, name="notification-sent", version=1):
    """Delivered on its channel."""


@notification_events.register
class NotificationFailed(_Outcome, name="notification-failed", version=1):
    """Given up on its channel."""


@notification_events.register
class NotificationSuppressed(_Outcome, name="notification-suppressed", version=1):
    """Not sent: the person turned the channel off."""
